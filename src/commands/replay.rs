//! `varyedge replay`: scenarios through the simulator, reports out, exit 0/1/2.

use super::{emit, expand, load};
use crate::cli::ReplayArgs;
use varyedge::error::ExitStatus;
use varyedge::report::{Render, Replay};
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
    #[cfg(feature = "net")]
    if let Some(target) = &a.target {
        match over_the_wire(&a, target, &scenarios)? {
            Ok(t) => traces = t,
            Err(status) => return Ok(status),
        }
    }
    #[cfg(feature = "net")]
    let in_process = a.target.is_none();
    #[cfg(not(feature = "net"))]
    let in_process = true;
    for s in scenarios.iter().filter(|_| in_process) {
        match sim::replay(s) {
            Ok(t) => traces.push(t),
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitStatus::BadInput);
            }
        }
    }
    let text = Replay { traces: &traces }.render(a.format);
    emit(a.out.as_deref(), &text)?;
    Ok(if traces.iter().all(|t| t.passed()) {
        ExitStatus::Clean
    } else {
        ExitStatus::Findings
    })
}

/// `--target`: every scenario over the wire, one after another. Notes go to stderr.
#[cfg(feature = "net")]
fn over_the_wire(
    a: &ReplayArgs,
    target: &str,
    scenarios: &[varyedge::scenario::Scenario],
) -> anyhow::Result<Result<Vec<sim::Trace>, ExitStatus>> {
    use varyedge::net::target::{self, TargetOptions};
    let Some(max_wait) = varyedge::time::parse_duration_ms(&a.max_wait) else {
        eprintln!(
            "varyedge: --max-wait: expected a duration such as 30s or 500ms, found {:?}",
            a.max_wait
        );
        return Ok(Err(ExitStatus::BadInput));
    };
    let opts = TargetOptions {
        direct: a.direct.clone(),
        host_header: a.host_header.clone(),
        max_wait: std::time::Duration::from_millis(max_wait),
        ..TargetOptions::new(target)
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut traces = Vec::new();
    let mut wire = Vec::new();
    for s in scenarios {
        match rt.block_on(target::replay(s, &opts)) {
            Ok(run) => {
                for n in &run.notes {
                    eprintln!("varyedge: note: {n}");
                }
                traces.push(run.trace);
                wire.extend(run.exchanges);
            }
            Err(e) => {
                eprintln!("varyedge: {e}");
                return Ok(Err(ExitStatus::BadInput));
            }
        }
    }
    if let Some(har) = &a.har {
        let text = varyedge::har::write::to_har(&wire, env!("CARGO_PKG_VERSION"));
        emit(Some(har), &text)?;
    }
    Ok(Ok(traces))
}
