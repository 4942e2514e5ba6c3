//! `varyedge replay`: scenarios through the simulator, reports out, exit 0/1/2.

use super::{emit, expand, load};
use crate::cli::{ReplayArgs, ReportFormat};
use varyedge::error::ExitStatus;
use varyedge::report;
use varyedge::sim;

pub(crate) fn run(a: ReplayArgs) -> anyhow::Result<ExitStatus> {
    let files = match expand(&a.scenarios) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    // Validate everything before running anything: bad input exits 2 with no report.
    let mut scenarios = Vec::new();
    let mut bad = false;
    for f in &files {
        match load(f, a.profile.as_deref()) {
            Ok(s) => scenarios.push(s),
            Err(e) => {
                eprintln!("{e}");
                bad = true;
            }
        }
    }
    if bad {
        return Ok(ExitStatus::BadInput);
    }
    let mut traces = Vec::new();
    for s in &scenarios {
        match sim::replay(s) {
            Ok(t) => traces.push(t),
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitStatus::BadInput);
            }
        }
    }
    let text = match a.format {
        ReportFormat::Text => report::text::render(&traces),
        ReportFormat::Json => report::json::render(&traces),
        ReportFormat::Junit => report::junit::render(&traces),
    };
    emit(a.out.as_deref(), &text)?;
    Ok(if traces.iter().all(|t| t.passed()) {
        ExitStatus::Clean
    } else {
        ExitStatus::Findings
    })
}
