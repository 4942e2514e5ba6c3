//! `varyedge fingerprint --target URL --path P`: probe a live edge, infer its knobs.

use super::emit;
use crate::cli::FingerprintArgs;
use std::time::Duration;
use varyedge::error::ExitStatus;
use varyedge::net::client::BaseUrl;
use varyedge::net::fingerprint::{self, Options};

/// A wrong flag value: `varyedge: --flag: what was expected`, as every command says it.
fn flag_error(flag: &str, msg: impl std::fmt::Display) -> String {
    format!("varyedge: {flag}: {msg}")
}

fn bad(e: impl std::fmt::Display) -> anyhow::Result<ExitStatus> {
    eprintln!("{e}");
    Ok(ExitStatus::BadInput)
}

pub(crate) fn run(a: FingerprintArgs) -> anyhow::Result<ExitStatus> {
    let target = match BaseUrl::parse(&a.target) {
        Ok(t) => t,
        Err(e) => return bad(flag_error("--target", e.to_string())),
    };
    for (flag, p) in [
        ("--path", Some(&a.path)),
        ("--novary-path", a.novary_path.as_ref()),
    ] {
        if let Some(p) = p {
            if !p.starts_with('/') {
                return bad(flag_error(
                    flag,
                    format!("expected a path starting with /, found {p:?}"),
                ));
            }
        }
    }
    if !(a.rate > 0.0 && a.rate <= 100.0) {
        return bad(flag_error(
            "--rate",
            "expected requests per second between 0 and 100",
        ));
    }
    if a.origins.len() < 2 {
        return bad(flag_error(
            "--origin",
            "give two allowed origins (--origin A --origin B) or none for the defaults",
        ));
    }
    let opts = Options {
        target,
        path: a.path.clone(),
        novary_path: a.novary_path.clone(),
        max_probes: a.max_probes,
        rate: a.rate,
        timeout: Duration::from_secs(10),
        origins: a.origins.clone(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let f = match rt.block_on(fingerprint::fingerprint(opts)) {
        Ok(f) => f,
        // The target could not be fingerprinted (unreachable, nothing stored on the
        // path, the probe budget spent): not a finding about the edge but a target that
        // cannot be used, exit 2 as `replay --target` and `lint --upstream` do.
        Err(e) => {
            eprintln!("varyedge fingerprint: {e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    let text = if a.format == crate::cli::FingerprintFormat::Json {
        serde_json::to_string(&f)? + "\n" // one JSON Lines record, like every report
    } else {
        fingerprint::render_text(&f)
    };
    emit(a.out.as_deref(), &text)?;
    Ok(ExitStatus::Clean)
}
