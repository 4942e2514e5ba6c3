//! `varyedge diagnose har`: the cache-induced CORS failures in a recording; exit 1 when
//! there is one.

use super::{emit, read_hars};
use crate::cli::DiagnoseHarArgs;
use varyedge::error::ExitStatus;
use varyedge::har::diagnose::{diagnose, render_json, render_sarif, render_text};
use varyedge::report::LintFormat;

pub(crate) fn run(a: DiagnoseHarArgs, g: super::Globals) -> anyhow::Result<ExitStatus> {
    let hars = match read_hars(&a.files) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("varyedge: {e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    let d = diagnose(&hars);
    let text = match a.format {
        // -q: the result line only (the first line of the text report).
        LintFormat::Text if g.quiet => {
            render_text(&d)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string()
                + "\n"
        }
        LintFormat::Text => render_text(&d),
        LintFormat::Json => render_json(&d),
        LintFormat::Sarif => render_sarif(&d, env!("CARGO_PKG_VERSION")),
        LintFormat::Github => {
            eprintln!("varyedge: diagnose har: --format github is not available; use text, json or sarif (upload SARIF for annotations)");
            return Ok(ExitStatus::BadInput);
        }
    };
    emit(a.out.as_deref(), &text)?;
    Ok(if d.cache_induced() > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}
