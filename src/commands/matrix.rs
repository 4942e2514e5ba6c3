//! `varyedge matrix`: one scenario under every profile, one row each.

use super::{emit, load};
use crate::cli::{MatrixArgs, MatrixFormat};
use std::fmt::Write;
use varyedge::error::ExitStatus;
use varyedge::profile::{self, PROFILE_NAMES};
use varyedge::sim::{self, Trace};

struct Row {
    profile: String,
    trace: Trace,
}

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
            Ok(trace) => rows.push(Row {
                profile: n.clone(),
                trace,
            }),
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitStatus::BadInput);
            }
        }
    }
    if let Some(f) = &a.edge_config {
        let row = super::import_config::edge_config(f).and_then(|imp| {
            let mut sc = load(&a.scenario, None)?;
            sc.edge.profile = imp.profile.to_string();
            sc.edge.knobs = imp.knobs;
            Ok(sc)
        });
        let sc = match row {
            Ok(sc) => sc,
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitStatus::BadInput);
            }
        };
        match sim::replay(&sc) {
            Ok(trace) => rows.push(Row {
                profile: format!("import:{}", f.display()),
                trace,
            }),
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitStatus::BadInput);
            }
        }
    }
    let text = match a.format {
        MatrixFormat::Json => json(&rows)?,
        MatrixFormat::Markdown => table(&rows, true),
        MatrixFormat::Text => table(&rows, false),
    };
    emit(a.out.as_deref(), &text)?;
    Ok(if rows.iter().any(|r| r.trace.summary.cache_induced > 0) {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

fn first_failure(t: &Trace) -> String {
    t.steps
        .iter()
        .find(|s| s.cache_induced)
        .or_else(|| t.steps.iter().find(|s| !s.verdict.allowed))
        .map_or("-".to_string(), |s| {
            format!(
                "#{} {}{}",
                s.index,
                s.verdict.reason.id(),
                s.poisoned_by
                    .map_or(String::new(), |p| format!(" (poisoned by #{p})"))
            )
        })
}

fn hit_ratio(t: &Trace) -> String {
    if t.summary.edge_requests == 0 {
        return "-".into();
    }
    format!(
        "{:.0}%",
        100.0 * t.summary.hits as f64 / t.summary.edge_requests as f64
    )
}

fn table(rows: &[Row], md: bool) -> String {
    let head = [
        "profile",
        "blocked",
        "cache-induced",
        "first failure",
        "hit ratio",
    ];
    let body: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let s = &r.trace.summary;
            let ci = if s.wrongly_allowed > 0 {
                format!(
                    "{} ({} wrongly allowed)",
                    s.cache_induced, s.wrongly_allowed
                )
            } else {
                s.cache_induced.to_string()
            };
            [
                if weak(&r.profile).is_some() {
                    format!("{}*", r.profile)
                } else {
                    r.profile.clone()
                },
                format!("{}/{}", s.blocked, s.steps),
                ci,
                first_failure(&r.trace),
                hit_ratio(&r.trace),
            ]
        })
        .collect();
    let mut o = String::new();
    if md {
        let _ = writeln!(o, "| {} |", head.join(" | "));
        let _ = writeln!(o, "|{}", "---|".repeat(head.len()));
        for b in &body {
            let _ = writeln!(o, "| {} |", b.join(" | "));
        }
    } else {
        let mut w = head.map(str::len);
        for b in &body {
            for (i, c) in b.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{:<width$}", c, width = w[i]))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let _ = writeln!(o, "{}", line(head.to_vec()));
        for b in &body {
            let _ = writeln!(o, "{}", line(b.iter().map(String::as_str).collect()));
        }
    }
    if rows.iter().any(|r| weak(&r.profile).is_some()) {
        let _ = writeln!(
            o,
            "\n* part of this profile rests on weak or unmeasured evidence: see `varyedge profiles`"
        );
    }
    o
}

/// The profile's caveat, when its evidence is weak.
fn weak(name: &str) -> Option<&'static str> {
    profile::profile(name).and_then(|p| p.caveat)
}

fn json(rows: &[Row]) -> anyhow::Result<String> {
    let v: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let s = &r.trace.summary;
            let first = r.trace.steps.iter().find(|s| s.cache_induced).or_else(|| r.trace.steps.iter().find(|s| !s.verdict.allowed));
            serde_json::json!({
                "profile": r.profile,
                "steps": s.steps,
                "blocked": s.blocked,
                "cache_induced": s.cache_induced,
                "wrongly_allowed": s.wrongly_allowed,
                "first_failure": first.map(|f| serde_json::json!({ "index": f.index, "reason": f.verdict.reason.id(), "cache_induced": f.cache_induced, "poisoned_by": f.poisoned_by })),
                "hits": s.hits,
                "weak_evidence": weak(&r.profile),
                "edge_requests": s.edge_requests,
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(
        &serde_json::json!({ "scenario": rows.first().map(|r| r.trace.scenario.clone()), "profiles": v }),
    )?;
    s.push('\n');
    Ok(s)
}
