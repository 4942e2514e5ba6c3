//! The JSON report (PRODUCT.md "JSON report"): the stable fields first, more beside them.

use crate::flow::{Expectation, StepReport, Trace};
use serde_json::{json, Map, Value};

/// One trace as a JSON value.
pub fn trace_value(t: &Trace) -> Value {
    json!({
        "scenario": t.scenario,
        "file": t.file,
        "profile": t.profile,
        "steps": t.steps.iter().map(step_value).collect::<Vec<_>>(),
        "summary": {
            "steps": t.summary.steps,
            "blocked": t.summary.blocked,
            "cache_induced": t.summary.cache_induced,
            "unmet_expectations": t.summary.unmet_expectations,
            "wrongly_allowed": t.summary.wrongly_allowed,
            "unexpected_failures": t.summary.unexpected_failures,
            "edge_requests": t.summary.edge_requests,
            "hits": t.summary.hits,
            "passed": t.passed(),
        }
    })
}

fn step_value(s: &StepReport) -> Value {
    let mut m = Map::new();
    m.insert("index".into(), json!(s.index));
    m.insert("client".into(), json!(s.client));
    m.insert("origin".into(), json!(s.origin));
    m.insert("request".into(), json!(s.request));
    m.insert("pop".into(), json!(s.pop));
    m.insert("cache".into(), json!(s.cache.id()));
    m.insert("key".into(), json!(&*s.key));
    m.insert("preflight".into(), json!(s.preflight.id()));
    m.insert(
        "verdict".into(),
        json!({
            "cors": if s.verdict.allowed { "ok" } else { "blocked" },
            "reason": s.verdict.reason.id(),
            "console": s.verdict.console,
            "checked": s.verdict.checked,
            "in_preflight": s.verdict.in_preflight,
        }),
    );
    m.insert("cache_induced".into(), json!(s.cache_induced));
    m.insert("served_by".into(), json!(s.served_by.id()));
    if s.hops.len() > 1 || s.hops.iter().any(|h| h.leg == "preflight") {
        m.insert(
            "hops".into(),
            json!(s
                .hops
                .iter()
                .map(|h| json!({ "leg": h.leg, "request": h.request, "url": h.url, "cache": h.cache.id(), "status": h.status }))
                .collect::<Vec<_>>()),
        );
    }
    if let Some(p) = s.poisoned_by {
        m.insert("poisoned_by".into(), json!(p));
    }
    let (exp, unmet) = match &s.expectation {
        Expectation::Met => ("met", Vec::new()),
        Expectation::Unmet(u) => ("unmet", u.clone()),
        Expectation::None => ("none", Vec::new()),
    };
    m.insert("expectation".into(), json!(exp));
    // blocked with no `cors:` expectation allowing it: counted in the summary's
    // unexpected_failures and an exit status of 1 (PRODUCT.md "Exit codes")
    m.insert("unexpected_failure".into(), json!(s.unexpected_failure));
    if !unmet.is_empty() {
        m.insert("unmet".into(), json!(unmet));
    }
    m.insert("line".into(), json!(s.line));
    m.insert("at_ms".into(), json!(s.at_ms));
    m.insert("agent".into(), json!(s.agent));
    m.insert("url".into(), json!(s.url));
    m.insert("status".into(), json!(s.status));
    if let Some(sh) = s.shield {
        m.insert("shield".into(), json!(sh.id()));
    }
    if let Some(p) = s.preflight_cache {
        m.insert("preflight_cache".into(), json!(p.id()));
    }
    if let Some(k) = &s.preflight_key {
        m.insert("preflight_key".into(), json!(&**k));
    }
    m.insert(
        "direct".into(),
        json!({ "cors": if s.direct.allowed { "ok" } else { "blocked" }, "reason": s.direct.reason.id() }),
    );
    m.insert("wrongly_allowed".into(), json!(s.wrongly_allowed));
    match &s.stored {
        Some(Ok(k)) => {
            m.insert("stored".into(), json!(&**k));
        }
        Some(Err(r)) => {
            m.insert("not_stored".into(), json!(r));
        }
        None => {}
    }
    if let Some(f) = &s.fix {
        m.insert("fix".into(), json!(f));
    }
    Value::Object(m)
}

/// Renders the traces as JSON Lines: one compact report object per trace (per scenario
/// file), whatever their number.
pub fn render(traces: &[Trace]) -> String {
    traces
        .iter()
        .map(|t| super::json_line(&trace_value(t)))
        .collect()
}
