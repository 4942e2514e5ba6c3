//! The `matrix` report: one scenario under several profiles, one row each, as an aligned
//! table, a Markdown table or JSON.

use super::{json_line, Render};
use crate::flow::{StepReport, Trace};
use std::fmt::Write;

/// Output formats of `matrix`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MatrixFormat {
    /// Aligned table.
    Text,
    /// Markdown table.
    Markdown,
    /// JSON.
    Json,
    /// One self-contained HTML page: the table coloured per profile, each profile's timeline.
    Html,
    /// The text table, then GitHub Actions annotations (`::error file=…,line=…`) on the
    /// steps that fail, naming the profiles where they do.
    Github,
}

/// One profile's run of the scenario.
#[derive(Clone, Debug)]
pub struct MatrixRow {
    /// The profile name.
    pub profile: String,
    /// The profile's weak-evidence caveat, if any (`Profile::caveat`).
    pub caveat: Option<&'static str>,
    /// The replay under that profile.
    pub trace: Trace,
    /// When the file's own steps never fail here: what `lint` found poisons this profile
    /// with other traffic (empty otherwise).
    pub latent: Vec<Latent>,
}

/// A poisoning `lint` simulates on a profile where the file's own steps do not fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Latent {
    /// The lint rule (`missing-vary-origin`, …).
    pub rule: String,
    /// Lint's generated session that poisons, described.
    pub session: String,
}

/// The rows of one `matrix` run, in the order the profiles were named.
#[derive(Clone, Copy, Debug)]
pub struct Matrix<'a> {
    /// One row per profile.
    pub rows: &'a [MatrixRow],
    /// The profile the scenario itself names (marked in the table), if known.
    pub own_profile: Option<&'a str>,
}

impl Render for Matrix<'_> {
    type Format = MatrixFormat;
    fn render(&self, f: MatrixFormat) -> String {
        match f {
            MatrixFormat::Json => json_line(&json_value(self.rows)),
            MatrixFormat::Markdown => table(self.rows, self.own_profile, true),
            MatrixFormat::Text => table(self.rows, self.own_profile, false),
            MatrixFormat::Html => super::html::matrix(&[self.html_part()]),
            MatrixFormat::Github => {
                table(self.rows, self.own_profile, false)
                    + &super::github::commands(super::github::matrix_annotations(self))
            }
        }
    }
}

impl Matrix<'_> {
    /// What the HTML page needs of this matrix: its JSON, its own profile, each row's trace.
    pub fn html_part(&self) -> (serde_json::Value, String, Vec<serde_json::Value>) {
        (
            json_value(self.rows),
            self.own_profile.unwrap_or_default().to_string(),
            self.rows
                .iter()
                .map(|r| super::json::trace_value(&r.trace))
                .collect(),
        )
    }
}

/// `-q`: the one result line: which profiles poison the scenario.
pub fn result_line(m: &Matrix<'_>) -> String {
    let bad: Vec<&str> = m
        .rows
        .iter()
        .filter(|r| r.trace.summary.cache_induced > 0)
        .map(|r| r.profile.as_str())
        .collect();
    let scenario = m.rows.first().map_or("", |r| r.trace.scenario.as_str());
    if bad.is_empty() {
        format!(
            "matrix {scenario}: no cache-induced failure on any of {}\n",
            super::text::count(m.rows.len(), "profile")
        )
    } else {
        format!(
            "matrix {scenario}: cache-induced failures on {} of {}: {}\n",
            bad.len(),
            super::text::count(m.rows.len(), "profile"),
            bad.join(", ")
        )
    }
}

/// `-v`: after the table, each failing row's first failure in full: the request, the
/// browser's console line, the step that stored what was served, and the fix hint.
pub fn details(m: &Matrix<'_>) -> String {
    let mut o = String::new();
    for r in m.rows {
        let Some(s) = first_failure(&r.trace) else {
            continue;
        };
        let _ = writeln!(
            o,
            "\n{}: #{} {} {} from {}: {}",
            r.profile,
            s.index,
            s.client,
            s.request,
            if s.origin.is_empty() {
                "(no Origin)"
            } else {
                &s.origin
            },
            s.verdict.reason.id()
        );
        let _ = writeln!(o, "  edge: {}  key {}", s.cache.id(), s.key);
        if let Some(p) = s.poisoned_by {
            let _ = writeln!(o, "  served what step #{p} stored");
        }
        if !s.verdict.console.is_empty() {
            let _ = writeln!(o, "  console: {}", s.verdict.console);
        }
        if let Some(f) = &s.fix {
            let _ = writeln!(o, "  fix: {f}");
        }
    }
    o
}

/// Marks the rows whose own steps never fail with the poisoning `lint` simulates there
/// (its findings' profiles marked `latent`), so that every profile lint names is either
/// failing in the matrix or explained by it.
pub fn mark_latent(rows: &mut [MatrixRow], findings: &[crate::lint::Finding]) {
    for f in findings {
        for m in f
            .profiles
            .iter()
            .filter(|m| m.matrix == crate::lint::poison::LATENT)
        {
            let row = rows.iter_mut().find(|r| r.profile == m.profile);
            if let Some(r) = row.filter(|r| r.trace.summary.cache_induced == 0) {
                r.latent.push(Latent {
                    rule: f.id.to_string(),
                    session: m.session.clone(),
                });
            }
        }
    }
}

/// The step a row's "first failure" column names: the first cache-induced step, else the
/// first blocked one.
fn first_failure(t: &Trace) -> Option<&StepReport> {
    t.steps
        .iter()
        .find(|s| s.cache_induced)
        .or_else(|| t.steps.iter().find(|s| !s.verdict.allowed))
}

fn first_failure_cell(r: &MatrixRow) -> String {
    let t = &r.trace;
    first_failure(t).map_or_else(
        || {
            if r.latent.is_empty() {
                "-".to_string()
            } else {
                "- (latent, see below)".to_string()
            }
        },
        |s| {
            format!(
                "#{} {}{}",
                s.index,
                s.verdict.reason.id(),
                s.poisoned_by
                    .map_or(String::new(), |p| format!(" (poisoned by #{p})"))
            )
        },
    )
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

const HEAD: [&str; 5] = [
    "profile",
    "blocked",
    "cache-induced",
    "first failure",
    "hit ratio",
];

fn cells(r: &MatrixRow, own: Option<&str>) -> [String; 5] {
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
        format!(
            "{}{}{}",
            r.profile,
            if r.caveat.is_some() { "*" } else { "" },
            if own == Some(r.profile.as_str()) {
                " (scenario's)"
            } else {
                ""
            }
        ),
        format!("{}/{}", s.blocked, s.steps),
        ci,
        first_failure_cell(r),
        hit_ratio(&r.trace),
    ]
}

fn table(rows: &[MatrixRow], own: Option<&str>, md: bool) -> String {
    let body: Vec<[String; 5]> = rows.iter().map(|r| cells(r, own)).collect();
    let mut o = if md {
        let scenario = rows.first().map_or("", |r| r.trace.scenario.as_str());
        let mut t = format!(
            "### varyedge matrix: `{scenario}`

"
        );
        if let Some(p) = own {
            let _ = writeln!(t, "The scenario's own profile is `{p}`.\n");
        }
        t + &markdown(&body)
    } else {
        aligned(&body)
    };
    for r in rows {
        for l in &r.latent {
            let _ = writeln!(
                o,
                "\nlatent on {}: none of this file's steps fails there, but `varyedge lint` finds {} poisons it with other traffic: {}",
                r.profile, l.rule, l.session
            );
        }
    }
    if rows.iter().any(|r| r.caveat.is_some()) {
        let _ = writeln!(
            o,
            "\n* part of this profile rests on weak or unmeasured evidence: see `varyedge profiles`"
        );
    }
    o
}

fn markdown(body: &[[String; 5]]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "| {} |", HEAD.join(" | "));
    let _ = writeln!(o, "|{}", "---|".repeat(HEAD.len()));
    for b in body {
        let _ = writeln!(o, "| {} |", b.join(" | "));
    }
    o
}

fn aligned(body: &[[String; 5]]) -> String {
    let mut w = HEAD.map(str::len);
    for b in body {
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
    let mut o = String::new();
    let _ = writeln!(o, "{}", line(HEAD.to_vec()));
    for b in body {
        let _ = writeln!(o, "{}", line(b.iter().map(String::as_str).collect()));
    }
    o
}

/// The JSON report as a value.
pub fn json_value(rows: &[MatrixRow]) -> serde_json::Value {
    let v: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let s = &r.trace.summary;
            let first = first_failure(&r.trace).map(|f| {
                serde_json::json!({
                    "index": f.index,
                    "reason": f.verdict.reason.id(),
                    "cache_induced": f.cache_induced,
                    "poisoned_by": f.poisoned_by,
                })
            });
            serde_json::json!({
                "profile": r.profile,
                "steps": s.steps,
                "blocked": s.blocked,
                "cache_induced": s.cache_induced,
                "wrongly_allowed": s.wrongly_allowed,
                "first_failure": first,
                "hits": s.hits,
                "weak_evidence": r.caveat,
                "edge_requests": s.edge_requests,
                "latent": r.latent.iter().map(|l| serde_json::json!({ "rule": l.rule, "session": l.session })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "scenario": rows.first().map(|r| r.trace.scenario.clone()),
        "profiles": v,
    })
}
