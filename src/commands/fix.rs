//! `varyedge fix`: the candidate fixes of each scenario, proven, costed and ranked. Exit 0
//! when every scenario has nothing the edge breaks or a working fix, 1 when the edge breaks
//! one and no candidate fixes it, 2 on bad input (nothing written); docs/fix.md.

use super::{emit, expand, load};
use crate::cli::FixArgs;
use varyedge::error::ExitStatus;
use varyedge::explore;
use varyedge::fix::{self, FixError};
use varyedge::report::{Fix, Render};

pub(crate) fn run(a: FixArgs, g: super::Globals) -> anyhow::Result<ExitStatus> {
    if a.cases == 0 {
        // as `explore`: no session sampled is no proof, not a pass
        eprintln!(
            "varyedge: --cases must be at least 1 (the sessions each candidate's proof explores)"
        );
        return Ok(ExitStatus::BadInput);
    }
    let files = match expand(&a.scenarios) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    let mut advice = Vec::new();
    let mut status = ExitStatus::Clean;
    for f in &files {
        let sc = match load(f, None) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitStatus::BadInput);
            }
        };
        let traffic = match traffic_model(f, &sc) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitStatus::BadInput);
            }
        };
        match fix::advise_with(&sc, a.cases, traffic.as_ref()) {
            Ok(adv) => {
                if adv.needs_fix() && !adv.fixed() {
                    status = status.worst(ExitStatus::Findings);
                }
                advice.push(adv);
            }
            Err(e @ FixError::Explore(explore::ExploreError::Repro { .. })) => anyhow::bail!(e),
            Err(e @ (FixError::Upstream(..) | FixError::Explore(_))) => {
                eprintln!("{e}");
                return Ok(ExitStatus::BadInput);
            }
        }
    }
    let text = if g.quiet && a.format == varyedge::report::FixFormat::Text {
        varyedge::report::fix::result_lines(&advice) // -q: one result line per scenario
    } else {
        Fix { advice: &advice }.render(a.format)
    };
    emit(a.out.as_deref(), &text)?;
    Ok(status)
}

/// The scenario's traffic model, if it has one.
fn traffic_model(
    path: &std::path::Path,
    sc: &varyedge::scenario::Scenario,
) -> Result<Option<varyedge::traffic::TrafficModel>, varyedge::error::InputError> {
    let (name, text) = super::read_input(path)?;
    varyedge::traffic::parse(&name, &text, sc)
}
