//! `varyedge diagnose har`: the cache-induced CORS failures in a recording; exit 1 when
//! there is one.

use super::{emit, read_hars};
use crate::cli::DiagnoseHarArgs;
use varyedge::error::ExitStatus;
use varyedge::har::diagnose::{diagnose, render_json, render_sarif, render_text};
use varyedge::report::LintFormat;

pub(crate) fn run(a: DiagnoseHarArgs) -> anyhow::Result<ExitStatus> {
    let hars = match read_hars(&a.files) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("varyedge: {e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    let d = diagnose(&hars);
    let text = match a.format {
        LintFormat::Text => render_text(&d),
        LintFormat::Json => render_json(&d),
        LintFormat::Sarif => render_sarif(&d, env!("CARGO_PKG_VERSION")),
    };
    emit(a.out.as_deref(), &text)?;
    Ok(if d.cache_induced() > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}
