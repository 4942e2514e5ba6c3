//! `varyedge lint`: a scenario's policy and edge checked statically, or a real server
//! probed live (`--upstream`), reported as text, JSON or SARIF.

use crate::cli::{FailOn, LintArgs};
use std::path::Path;
use varyedge::error::ExitStatus;
use varyedge::lint::{self, Finding, Severity};
use varyedge::report::{Lint, LintFormat, Render};
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

/// A wrong flag value, as docs/scenario-format.md shows it: `varyedge: --flag: what was
/// expected` (no file, line or column: it is not in a file).
fn flag_error(flag: &str, msg: impl std::fmt::Display) -> String {
    format!("varyedge: {flag}: {msg}")
}

fn bad(e: impl std::fmt::Display) -> anyhow::Result<ExitStatus> {
    eprintln!("{e}");
    Ok(ExitStatus::BadInput)
}

pub(crate) fn run(a: LintArgs, g: super::Globals) -> anyhow::Result<ExitStatus> {
    let Some(timeout_ms) = varyedge::time::parse_duration_ms(&a.timeout).filter(|t| *t > 0) else {
        return bad(flag_error(
            "--timeout",
            format!(
                "expected a duration such as 5s or 500ms, found {:?}",
                a.timeout
            ),
        ));
    };
    let timeout = std::time::Duration::from_millis(timeout_ms);
    // One report per scenario file (directories expanded), or one for --upstream.
    let mut reports: Vec<(String, Vec<Finding>)> = Vec::new();
    if let Some(url) = &a.upstream {
        match lint_upstream(&a, url, timeout) {
            Ok(r) => reports.push(r),
            Err(e) => return bad(e),
        }
    }
    let files = match super::expand(&a.scenarios) {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    for path in &files {
        match lint_scenario(&a, path, timeout) {
            Ok(r) => reports.push(r),
            Err(e) => return bad(e),
        }
    }
    for (_, f) in &mut reports {
        lint::sort(f);
    }
    let format = if super::on_github() && a.format == LintFormat::Text && a.out.is_none() {
        LintFormat::Github
    } else {
        a.format
    };
    let text = if g.quiet && matches!(format, LintFormat::Text | LintFormat::Github) {
        // -q: the result line of each report (the annotations still follow in GitHub).
        let lines: String = reports
            .iter()
            .map(|(t, f)| varyedge::report::lint::result_line(t, f))
            .collect();
        match format {
            LintFormat::Github => lines + &render_annotations(&reports),
            _ => lines,
        }
    } else {
        render(&reports, format)
    };
    super::emit(a.out.as_deref(), &text)?;
    if super::on_github() {
        // Standard output holds the report (github printed them; JSON/SARIF stay parseable).
        github(&reports, a.out.is_none())?;
    }
    let fails = reports
        .iter()
        .any(|(_, f)| lint::fails(f, threshold(a.fail_on)));
    Ok(if fails {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

/// Several reports: text one after the other; JSON one line per report (JSON Lines, as
/// `replay`); SARIF one run holding every file's results.
fn render(reports: &[(String, Vec<Finding>)], format: LintFormat) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let one = |(t, f): &(String, Vec<Finding>), fmt| {
        Lint {
            target: t,
            findings: f,
            version,
        }
        .render(fmt)
    };
    match (format, reports) {
        (_, [r]) => one(r, format),
        (LintFormat::Sarif, many) => {
            let all: Vec<Finding> = many.iter().flat_map(|(_, f)| f.iter().cloned()).collect();
            one(&(String::new(), all), LintFormat::Sarif)
        }
        // Several reports: the texts, then one set of annotations within GitHub's limits.
        (LintFormat::Github, many) => {
            let texts: String = many.iter().map(|r| one(r, LintFormat::Text)).collect();
            texts + &render_annotations(many)
        }
        (fmt, many) => many.iter().map(|r| one(r, fmt)).collect(),
    }
}

/// The annotations of every report, worst first within GitHub's limits.
fn render_annotations(reports: &[(String, Vec<Finding>)]) -> String {
    use varyedge::report::{github, lint as render};
    let anns = reports
        .iter()
        .flat_map(|(t, f)| github::lint_annotations(&render::json_value(t, f)))
        .collect();
    github::commands(anns)
}

/// `GITHUB_ACTIONS=true`: annotations (unless the report printed them) and the summary.
fn github(reports: &[(String, Vec<Finding>)], printed: bool) -> anyhow::Result<()> {
    use varyedge::report::{github, lint as render};
    let mut anns = Vec::new();
    let mut table = String::from(
        "| target | critical | high | medium | low | info |\n|---|---:|---:|---:|---:|---:|\n",
    );
    for (t, f) in reports {
        anns.extend(github::lint_annotations(&render::json_value(t, f)));
        let c = render::counts(f);
        let n = |k: &str| c.iter().find(|(s, _)| *s == k).map_or(0, |(_, n)| *n);
        table.push_str(&format!(
            "| {t} | {} | {} | {} | {} | {} |\n",
            n("critical"),
            n("high"),
            n("medium"),
            n("low"),
            n("info")
        ));
    }
    let summary = github::summary("varyedge lint", &table, anns.clone());
    super::github_extras(printed, &github::commands(anns), &summary)
}

fn lint_upstream(
    a: &LintArgs,
    url: &str,
    timeout: std::time::Duration,
) -> Result<(String, Vec<Finding>), String> {
    for o in &a.origins {
        if let Err(m) = validate_origin(o) {
            return Err(flag_error("--origin", m));
        }
    }
    if let Some(p) = a.paths.iter().find(|p| !p.starts_with('/')) {
        return Err(flag_error(
            "--path",
            format!("expected a path starting with /, found {p:?}"),
        ));
    }
    let paths = if a.paths.is_empty() {
        vec!["/".to_string()]
    } else {
        a.paths.clone()
    };
    live(url, &a.origins, &paths, timeout).map(|f| (url.to_string(), f))
}

/// One scenario: its policy and edge checked statically, or, for `upstream:`, the server
/// it names probed with the scenario's origins and paths.
fn lint_scenario(
    a: &LintArgs,
    path: &Path,
    timeout: std::time::Duration,
) -> Result<(String, Vec<Finding>), String> {
    let (name, text) = super::read_input(path).map_err(|e| e.to_string())?;
    let loader = super::import_config::scenario_import;
    let mut sc = scenario::parse_with(&name, &text, a.profile.as_deref(), Some(&loader))
        .map_err(|e| e.to_string())?;
    if let Some(f) = &a.edge_config {
        let imp = super::import_config::edge_config(f).map_err(|e| e.to_string())?;
        sc.edge.profile = imp.profile.to_string();
        sc.edge.knobs = imp.knobs;
    }
    match &sc.origin {
        OriginSpec::Model(_) => {
            // The simulator `matrix` uses, so lint's profiles agree with its rows.
            let sim = super::simulator::Simulator::all(path).map_err(|e| e.to_string())?;
            Ok((name, sim.lint(&sc, &text)))
        }
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
            live(url, &trusted, &paths, timeout).map(|f| (url.clone(), f))
        }
    }
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
            format!("varyedge: --upstream: {url}: https:// is not supported by the probe yet; probe the plain-HTTP server behind TLS termination")
        } else {
            format!("varyedge: --upstream: expected an http:// URL such as http://127.0.0.1:3000, found {url:?}")
        }
    })?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!(
            "varyedge: --upstream: expected http://HOST[:PORT][/PREFIX], found {url:?}"
        ));
    }
    let probes = lint::probe::plan(trusted, paths);
    let answers = varyedge::net::probe::send_all_blocking(base, &probes, timeout)
        .map_err(|e| format!("varyedge lint: cannot start the probe: {e}"))?;
    let failed: Vec<&String> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
    if failed.len() == answers.len() {
        // A silent server is waited on for a bounded number of probes (the probe gives up
        // after a few timeouts in a row); say how many, and how many were never sent.
        let not_sent = failed.iter().filter(|e| e.contains(": not sent: ")).count();
        return Err(format!(
            "varyedge lint: cannot probe {url}: {}{}",
            failed.first().map_or("no request planned", |s| s.as_str()),
            if not_sent > 0 {
                format!(
                    "; {} sent and unanswered, the other {not_sent} not sent",
                    varyedge::report::text::count(failed.len() - not_sent, "probe")
                )
            } else {
                String::new()
            }
        ));
    }
    for e in &failed {
        super::note(format_args!("varyedge lint: warning: {e}"));
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
