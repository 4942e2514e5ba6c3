//! `varyedge fix`: the candidate fixes of each scenario, proven, costed and ranked. Exit 0
//! when every scenario has nothing to fix or a working fix, 1 when one fails and no
//! candidate fixes it, 2 on bad input.

use super::{emit, expand, load};
use crate::cli::FixArgs;
use varyedge::error::ExitStatus;
use varyedge::explore;
use varyedge::fix::{self, FixError};
use varyedge::report::{Fix, Render};

pub(crate) fn run(a: FixArgs) -> anyhow::Result<ExitStatus> {
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
        match fix::advise(&sc, a.cases) {
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
    emit(a.out.as_deref(), &Fix { advice: &advice }.render(a.format))?;
    Ok(status)
}
