//! `varyedge matrix`: one scenario under every profile, one row each.

use super::{emit, load};
use crate::cli::MatrixArgs;
use varyedge::error::ExitStatus;
use varyedge::profile::{self, PROFILE_NAMES};
use varyedge::report::{Matrix, MatrixRow, Render};
use varyedge::sim;

pub(crate) fn run(a: MatrixArgs) -> anyhow::Result<ExitStatus> {
    let names: Vec<String> = if a.profiles.trim() == "all" {
        PROFILE_NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        a.profiles
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    if let Some(bad) = names.iter().find(|n| profile::profile(n).is_none()) {
        eprintln!(
            "varyedge: --profiles: unknown profile {bad:?}; expected all or a list of: {}",
            PROFILE_NAMES.join(", ")
        );
        return Ok(ExitStatus::BadInput);
    }
    let mut rows = Vec::new();
    for n in &names {
        let sc = match load(&a.scenario, Some(n)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitStatus::BadInput);
            }
        };
        match sim::replay(&sc) {
            Ok(trace) => rows.push(MatrixRow {
                profile: n.clone(),
                caveat: profile::profile(n).and_then(|p| p.caveat),
                trace,
            }),
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitStatus::BadInput);
            }
        }
    }
    let text = Matrix { rows: &rows }.render(a.format);
    emit(a.out.as_deref(), &text)?;
    Ok(if rows.iter().any(|r| r.trace.summary.cache_induced > 0) {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}
