//! The human-readable report: one block per step, then a summary.

use crate::flow::{Expectation, StepReport, Trace};
use std::fmt::Write;

/// Renders traces as text.
pub fn render(traces: &[Trace]) -> String {
    let mut o = String::new();
    for t in traces {
        trace(&mut o, t);
    }
    if traces.len() > 1 {
        let passed = traces.iter().filter(|t| t.passed()).count();
        let _ = writeln!(
            o,
            "{} scenario(s): {} passed, {} failed",
            traces.len(),
            passed,
            traces.len() - passed
        );
    }
    o
}

fn trace(o: &mut String, t: &Trace) {
    let _ = writeln!(o, "{} — profile {} ({})", t.scenario, t.profile, t.file);
    for s in &t.steps {
        step(o, s);
    }
    let sm = &t.summary;
    let _ = writeln!(
        o,
        "  summary: {} steps, {} blocked, {} cache-induced{}, {} unmet expectation(s){} — {}\n",
        sm.steps,
        sm.blocked,
        sm.cache_induced,
        if sm.wrongly_allowed > 0 {
            format!(" ({} wrongly allowed)", sm.wrongly_allowed)
        } else {
            String::new()
        },
        sm.unmet_expectations,
        if sm.unexpected_failures > 0 {
            format!(", {} unexpected failure(s)", sm.unexpected_failures)
        } else {
            String::new()
        },
        if t.passed() { "PASS" } else { "FAIL" }
    );
}

fn step(o: &mut String, s: &StepReport) {
    let who = if s.origin.is_empty() {
        format!("{} ({:?})", s.client, s.agent).to_lowercase()
    } else {
        format!("{} ({})", s.client, s.origin)
    };
    let _ = writeln!(
        o,
        "  #{:<2} {:>8.3}s  {}  {}  pop {}",
        s.index,
        s.at_ms as f64 / 1000.0,
        who,
        s.request,
        s.pop
    );
    if let (Some(pc), Some(pk)) = (s.preflight_cache, &s.preflight_key) {
        let _ = writeln!(o, "       preflight: sent, edge {}  key {}", pc.id(), pk);
    } else if s.preflight.id() == "cached" {
        let _ = writeln!(
            o,
            "       preflight: answered from the browser's preflight cache"
        );
    }
    if !(s.verdict.in_preflight && s.preflight_cache.is_some()) {
        let shield = s
            .shield
            .map_or(String::new(), |x| format!(" (shield {})", x.id()));
        let _ = writeln!(
            o,
            "       edge: {}{}  key {}  status {}",
            s.cache.id(),
            shield,
            s.key,
            s.status
        );
    }
    let verdict = if !s.verdict.checked {
        "not checked (no CORS)".to_string()
    } else if s.verdict.allowed {
        "ok".to_string()
    } else {
        format!("BLOCKED {}", s.verdict.reason.id())
    };
    let induced = match (s.cache_induced, s.poisoned_by) {
        (true, Some(p)) if s.wrongly_allowed => format!("  — ALLOWED ONLY BECAUSE OF THE CACHE (origin alone: {}), served what step #{p} stored", s.direct.reason.id()),
        (true, Some(p)) => format!("  — CACHE-INDUCED: served what step #{p} stored; the origin alone answers {}", if s.direct.allowed { "ok" } else { s.direct.reason.id() }),
        // over the wire the storing step may be unknown (stored before the replay)
        (true, None) if s.wrongly_allowed => format!("  — ALLOWED ONLY BECAUSE OF THE CACHE (origin alone: {}), served from the cache", s.direct.reason.id()),
        (true, None) => format!("  — CACHE-INDUCED: served from the cache; the origin alone answers {}", if s.direct.allowed { "ok" } else { s.direct.reason.id() }),
        _ if !s.verdict.allowed => "  — also without a cache (CORS misconfiguration)".to_string(),
        _ => String::new(),
    };
    let _ = writeln!(o, "       cors: {verdict}{induced}");
    if !s.verdict.console.is_empty() {
        let _ = writeln!(o, "       console: {}", s.verdict.console);
    }
    if let Some(f) = &s.fix {
        let _ = writeln!(o, "       fix: {f}");
    }
    match &s.expectation {
        Expectation::Met => {
            let _ = writeln!(o, "       expect: met");
        }
        Expectation::Unmet(u) => {
            for m in u {
                let _ = writeln!(o, "       expect: UNMET {m}");
            }
        }
        Expectation::None if s.unexpected_failure => {
            let _ = writeln!(o, "       expect: none stated, and the step failed");
        }
        Expectation::None => {}
    }
}
