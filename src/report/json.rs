//! The JSON report (PRODUCT.md "JSON report"): the stable fields first, more beside them.

use crate::flow::{Expectation, StepReport, Trace};
use serde_json::{json, Map, Value};

/// One trace as a JSON value.
pub fn trace_value(t: &Trace) -> Value {
    let mut v = head_value(t);
    if let Value::Object(m) = &mut v {
        m.insert(
            "steps".into(),
            Value::Array(t.steps.iter().map(step_value).collect()),
        );
    }
    v
}

/// Everything of a trace's report but its steps.
fn head_value(t: &Trace) -> Value {
    json!({
        "scenario": t.scenario,
        "file": t.file,
        "profile": t.profile,
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

/// Appends one trace as a compact JSON line, a step at a time: the same bytes as
/// `json_line(&trace_value(t))` (keys in sorted order, as serde_json writes a map),
/// without holding every step's value at once (a 1M-step trace would need gigabytes).
fn write_line(out: &mut String, t: &Trace) {
    let head = head_value(t);
    let field = |k: &str| serde_json::to_string(&head[k]).unwrap_or_else(|_| "null".into());
    out.push_str("{\"file\":");
    out.push_str(&field("file"));
    out.push_str(",\"profile\":");
    out.push_str(&field("profile"));
    out.push_str(",\"scenario\":");
    out.push_str(&field("scenario"));
    out.push_str(",\"steps\":[");
    for (i, s) in t.steps.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(&step_value(s)).unwrap_or_else(|_| "null".into()));
    }
    out.push_str("],\"summary\":");
    out.push_str(&field("summary"));
    out.push_str("}\n");
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
    let mut out = String::new();
    for t in traces {
        write_line(&mut out, t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed line is exactly the value's compact serialisation, for every bundled
    /// scenario (preflights, hops, poisoning, shields, fixes all appear among them).
    #[test]
    fn streamed_lines_equal_the_value_form() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut traces = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                let text = std::fs::read_to_string(&p).unwrap();
                let sc = crate::scenario::parse(&p.display().to_string(), &text).unwrap();
                traces.push(crate::sim::replay(&sc).unwrap());
            }
        }
        assert!(traces.len() > 20);
        let want: String = traces
            .iter()
            .map(|t| crate::report::json_line(&trace_value(t)))
            .collect();
        assert_eq!(render(&traces), want);
    }
}
