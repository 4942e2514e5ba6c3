//! `varyedge lint`: a scenario's policy and edge checked statically, or a real server
//! probed live (`--upstream`), reported as text, JSON or SARIF.

use crate::cli::{FailOn, LintArgs};
use std::path::Path;
use varyedge::error::{ExitStatus, InputError};
use varyedge::lint::{self, Finding, Severity};
use varyedge::report::{Lint, Render};
use varyedge::scenario::{self, validate_origin, OriginSpec};

fn threshold(f: FailOn) -> Severity {
    match f {
        FailOn::Critical => Severity::Critical,
        FailOn::High => Severity::High,
        FailOn::Medium => Severity::Medium,
        FailOn::Low => Severity::Low,
        FailOn::Info => Severity::Info,
    }
}

fn bad(e: impl std::fmt::Display) -> anyhow::Result<ExitStatus> {
    eprintln!("{e}");
    Ok(ExitStatus::BadInput)
}

pub(crate) fn run(a: LintArgs) -> anyhow::Result<ExitStatus> {
    let Some(timeout_ms) = varyedge::time::parse_duration_ms(&a.timeout).filter(|t| *t > 0) else {
        return bad(InputError::at(
            "<--timeout>",
            0,
            0,
            format!(
                "expected a duration such as 5s or 500ms, found {:?}",
                a.timeout
            ),
        ));
    };
    let timeout = std::time::Duration::from_millis(timeout_ms);
    let (target, mut findings) = match (&a.scenario, &a.upstream) {
        (Some(path), _) => {
            let name = path.display().to_string();
            let text = match read(path) {
                Ok(t) => t,
                Err(e) => return bad(e),
            };
            let sc = match scenario::parse_with_profile(&name, &text, a.profile.as_deref()) {
                Ok(s) => s,
                Err(e) => return bad(e),
            };
            match &sc.origin {
                OriginSpec::Model(_) => (name, lint::check(&sc, &text)),
                OriginSpec::Upstream(url) => {
                    let mut trusted: Vec<String> = Vec::new();
                    for c in &sc.clients {
                        if !c.origin.is_empty() && !trusted.contains(&c.origin) {
                            trusted.push(c.origin.clone());
                        }
                    }
                    let mut paths: Vec<String> = Vec::new();
                    for s in &sc.steps {
                        if !paths.contains(&s.target) {
                            paths.push(s.target.clone());
                        }
                    }
                    match live(url, &trusted, &paths, timeout) {
                        Ok(f) => (url.clone(), f),
                        Err(e) => return bad(e),
                    }
                }
            }
        }
        (None, Some(url)) => {
            for o in &a.origins {
                if let Err(m) = validate_origin(o) {
                    return bad(InputError::at("<--origin>", 0, 0, m));
                }
            }
            if let Some(p) = a.paths.iter().find(|p| !p.starts_with('/')) {
                return bad(InputError::at(
                    "<--path>",
                    0,
                    0,
                    format!("expected a path starting with /, found {p:?}"),
                ));
            }
            let paths = if a.paths.is_empty() {
                vec!["/".to_string()]
            } else {
                a.paths.clone()
            };
            match live(url, &a.origins, &paths, timeout) {
                Ok(f) => (url.clone(), f),
                Err(e) => return bad(e),
            }
        }
        (None, None) => return bad("varyedge lint: give a SCENARIO or --upstream URL"),
    };
    lint::sort(&mut findings);
    let text = Lint {
        target: &target,
        findings: &findings,
        version: env!("CARGO_PKG_VERSION"),
    }
    .render(a.format);
    super::emit(a.out.as_deref(), &text)?;
    Ok(if lint::fails(&findings, threshold(a.fail_on)) {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

fn read(path: &Path) -> Result<String, InputError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| InputError::at(&name, 0, 0, format!("cannot read: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|e| InputError::at(&name, 0, 0, format!("not UTF-8 text: {e}")))
}

#[cfg(feature = "net")]
fn live(
    url: &str,
    trusted: &[String],
    paths: &[String],
    timeout: std::time::Duration,
) -> Result<Vec<Finding>, String> {
    let base = url.trim_end_matches('/');
    let rest = base.strip_prefix("http://").ok_or_else(|| {
        if base.starts_with("https://") {
            format!("<--upstream>:1:1: {url}: https:// is not supported by the probe yet; probe the plain-HTTP server behind TLS termination")
        } else {
            format!("<--upstream>:1:1: expected an http:// URL such as http://127.0.0.1:3000, found {url:?}")
        }
    })?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!(
            "<--upstream>:1:1: expected http://HOST[:PORT][/PREFIX], found {url:?}"
        ));
    }
    let probes = lint::probe::plan(trusted, paths);
    let answers = varyedge::net::probe::send_all_blocking(base, &probes, timeout)
        .map_err(|e| format!("varyedge lint: cannot start the probe: {e}"))?;
    let failed: Vec<&String> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
    if failed.len() == answers.len() {
        return Err(format!(
            "varyedge lint: cannot probe {url}: {}",
            failed.first().map_or("no request planned", |s| s.as_str())
        ));
    }
    for e in &failed {
        eprintln!("varyedge lint: warning: {e}");
    }
    Ok(lint::probe::analyse(base, &probes, &answers))
}

#[cfg(not(feature = "net"))]
fn live(
    url: &str,
    _: &[String],
    _: &[String],
    _: std::time::Duration,
) -> Result<Vec<Finding>, String> {
    Err(format!(
        "varyedge lint: cannot probe {url}: this build has no network driver (feature `net`)"
    ))
}
