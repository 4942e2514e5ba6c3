//! The `explore` report: an [`Exploration`] in, text or JSON out. `written[i]` is where
//! kind `i`'s repro was written, if it was.

use super::text::count;
use super::{json_line, Render};
use crate::browser::Credentials;
use crate::explore::{Exploration, KindReport};
use crate::flow::StepReport;
use crate::scenario::write::credentials_id;
use crate::scenario::Step;
use serde_json::{json, Value};
use std::fmt::Write as _;

/// Output formats of `explore`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExploreFormat {
    /// Human-readable.
    Text,
    /// JSON.
    Json,
    /// One self-contained HTML page: the failure rate with its interval, each kind's repro.
    Html,
    /// The text report, then one GitHub Actions annotation per kind found, on the
    /// scenario file.
    Github,
}

/// One exploration and where its repros were written.
#[derive(Clone, Copy, Debug)]
pub struct Explore<'a> {
    /// The exploration.
    pub exploration: &'a Exploration,
    /// `written[i]`: the file kind `i`'s repro was written to, if any.
    pub written: &'a [Option<String>],
}

impl Render for Explore<'_> {
    type Format = ExploreFormat;
    fn render(&self, f: ExploreFormat) -> String {
        match f {
            ExploreFormat::Text => text(self.exploration, self.written),
            ExploreFormat::Json => json_line(&json_value(self.exploration, self.written)),
            ExploreFormat::Html => {
                super::html::explore(&[json_value(self.exploration, self.written)])
            }
            ExploreFormat::Github => {
                text(self.exploration, self.written)
                    + &super::github::commands(super::github::explore_annotations(self.exploration))
            }
        }
    }
}

fn pct(x: f64) -> String {
    let p = x * 100.0;
    if p != 0.0 && p < 0.1 {
        format!("{p:.3}%")
    } else {
        format!("{p:.1}%")
    }
}

fn duration(ms: u64) -> String {
    crate::time::human_duration(ms)
}

/// `-q`: the one result line: the failure rate, or none found.
pub fn result_line(e: &Exploration) -> String {
    let s = &e.settings;
    if e.found() {
        let (lo, hi) = e.interval;
        format!(
            "explore {}: cache-induced CORS failure in {} of {} sessions: {} (95% CI {}-{}), {}\n",
            e.scenario,
            e.failing,
            s.cases,
            pct(e.rate()),
            pct(lo),
            pct(hi),
            count(e.kinds.len(), "kind")
        )
    } else {
        format!(
            "explore {}: no cache-induced CORS failure in {} (seed {})\n",
            e.scenario,
            count(s.cases as usize, "session"),
            s.seed
        )
    }
}

/// Human-readable report.
pub fn text(e: &Exploration, written: &[Option<String>]) -> String {
    let s = &e.settings;
    let p = &e.pool;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "explore {} ({}) through {}",
        e.scenario, e.file, e.profile
    );
    let pops = p.pops.iter().map(|r| r.end).max().unwrap_or(1);
    let _ = writeln!(
        o,
        "  seed {}, {} of {}-{} steps ({} simulated)",
        s.seed,
        count(s.cases as usize, "session"),
        s.min_steps,
        s.max_steps,
        count(e.steps_simulated as usize, "step")
    );
    let _ = writeln!(
        o,
        "  drawn from {}, {}, {}, {}, {}, gaps {}",
        count(p.clients, "client"),
        count(p.requests.len(), "request"),
        count(p.credentials.len(), "credentials mode"),
        count(p.extra_headers.len(), "extra header"),
        count(pops as usize, "POP"),
        p.gaps_ms
            .iter()
            .map(|g| duration(*g))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let (lo, hi) = e.interval;
    if e.found() {
        let _ = writeln!(
            o,
            "  cache-induced CORS failure in {} of {} sessions: {} (95% CI {}-{}, Wilson)",
            e.failing,
            s.cases,
            pct(e.rate()),
            pct(lo),
            pct(hi)
        );
    } else {
        let _ = writeln!(
            o,
            "  no cache-induced CORS failure in {} sessions: 0% (95% CI {}-{}, Wilson)",
            s.cases,
            pct(lo),
            pct(hi)
        );
    }
    let _ = writeln!(
        o,
        "  the rate is per generated session of {}-{} steps on a cold edge, so it grows with --max-steps; a `traffic:` model gives a per-request rate (docs/traffic.md)",
        s.min_steps.max(1),
        s.max_steps.max(s.min_steps.max(1))
    );
    if !e.kinds.is_empty() {
        let _ = writeln!(o, "  {}:", count(e.kinds.len(), "kind"));
    }
    for (i, k) in e.kinds.iter().enumerate() {
        kind_text(&mut o, e, i, k, written.get(i).and_then(|w| w.as_deref()));
    }
    let _ = writeln!(
        o,
        "{}",
        if e.found() {
            "result: cache-induced failures found"
        } else {
            "result: none found"
        }
    );
    o
}

fn kind_text(o: &mut String, e: &Exploration, i: usize, k: &KindReport, written: Option<&str>) {
    let r = &k.repro;
    let _ = writeln!(o, "  [{}] {}", i + 1, k.kind.text);
    let _ = writeln!(
        o,
        "      id {}; in {} sessions ({}); first in session {}",
        k.kind.id,
        k.sessions,
        pct(k.sessions as f64 / e.settings.cases.max(1) as f64),
        k.first_case
    );
    let _ = writeln!(
        o,
        "      shortest: {}, from session {} ({} steps before shrinking)",
        count(r.session.steps.len(), "step"),
        r.case,
        r.shrunk_from
    );
    let pops = e.pool.pops.iter().map(|p| p.end).max().unwrap_or(1);
    for (i, st) in r.trace.steps.iter().enumerate() {
        let _ = writeln!(
            o,
            "        {}",
            step_line(st, r.scenario.steps.get(i), r.victim, pops > 1)
        );
    }
    if let Some(fix) = r.trace.steps.get(r.victim).and_then(|s| s.fix.as_deref()) {
        let _ = writeln!(o, "      fix: {fix}");
    }
    if let Some(w) = written {
        let _ = writeln!(o, "      repro written to {w}");
    }
}

fn step_line(s: &StepReport, st: Option<&Step>, victim: usize, pops: bool) -> String {
    let verdict = if s.verdict.allowed {
        "ok".to_string()
    } else {
        format!("blocked {}", s.verdict.reason.id())
    };
    let pre = match s.preflight {
        crate::scenario::PreflightUse::None => String::new(),
        p => format!(" preflight {}", p.id()),
    };
    let mut with = Vec::new();
    if let Some(st) = st {
        with.extend(st.headers.iter().map(|(n, _)| n.to_string()));
        if st.credentials != Credentials::SameOrigin {
            with.push(format!("credentials {}", credentials_id(st.credentials)));
        }
    }
    let with = if with.is_empty() {
        String::new()
    } else {
        format!(" [{}]", with.join(", "))
    };
    // `(pop N)` only when the edge has several POPs
    let pop = if pops {
        format!(" (pop {})", s.pop)
    } else {
        String::new()
    };
    let mut line = format!(
        "{} at {:<7} {}{pop} {}{}: {}{} -> {}",
        s.index,
        duration(s.at_ms),
        s.client,
        s.request,
        with,
        s.cache.id(),
        pre,
        verdict
    );
    if let Some(p) = s.poisoned_by {
        let _ = write!(line, ", poisoned by step {p}");
    }
    if s.index == victim {
        line.push_str("   <- the failure");
    }
    line
}

/// JSON report: one JSON Lines record.
pub fn json(e: &Exploration, written: &[Option<String>]) -> String {
    json_line(&json_value(e, written))
}

/// The JSON report as a value.
pub fn json_value(e: &Exploration, written: &[Option<String>]) -> Value {
    let s = &e.settings;
    let kinds: Vec<Value> = e
        .kinds
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let r = &k.repro;
            json!({
                "id": k.kind.id,
                "text": k.kind.text,
                "blocked": k.kind.blocked,
                "sessions": k.sessions,
                "share": k.sessions as f64 / s.cases.max(1) as f64,
                "first_session": k.first_case,
                "repro": {
                    "session": r.case,
                    "shrunk_from": r.shrunk_from,
                    "steps": r.session.steps.len(),
                    "victim": r.victim,
                    "poisoned_by": r.poisoned_by,
                    "file": written.get(i).cloned().flatten(),
                    "trace": crate::report::json::trace_value(&r.trace),
                    "yaml": r.yaml,
                }
            })
        })
        .collect();
    let v = json!({
        "scenario": e.scenario,
        "file": e.file,
        "profile": e.profile,
        "seed": s.seed,
        "cases": s.cases,
        "min_steps": s.min_steps,
        "max_steps": s.max_steps,
        "steps_simulated": e.steps_simulated,
        "failing_sessions": e.failing,
        "failing_sessions_blocked": e.failing_blocked,
        "failure_rate": e.rate(),
        "interval": { "confidence": 0.95, "method": "wilson", "low": e.interval.0, "high": e.interval.1 },
        "pool": {
            "clients": e.pool.clients,
            "requests": e.pool.requests.len(),
            "credentials": e.pool.credentials.len(),
            "extra_headers": e.pool.extra_headers.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            "gaps_ms": e.pool.gaps_ms,
        },
        "found": e.found(),
        "kinds": kinds,
    });
    v
}
