//! Pure renderers of lint findings: text for people, JSON for tools. SARIF is in
//! `report::sarif`.

use super::{Finding, Severity};
use serde_json::{json, Value};

/// Counts per severity, most severe first: `[("critical", n), …]`.
pub fn counts(findings: &[Finding]) -> Vec<(&'static str, usize)> {
    Severity::ALL
        .iter()
        .rev()
        .map(|s| (s.id(), findings.iter().filter(|f| f.severity == *s).count()))
        .collect()
}

/// Human-readable report for `target` (a scenario file or a URL).
pub fn text(target: &str, findings: &[Finding]) -> String {
    let mut o = String::new();
    if findings.is_empty() {
        o.push_str(&format!("varyedge lint {target}: no findings\n"));
        return o;
    }
    let summary: Vec<String> = counts(findings)
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    o.push_str(&format!(
        "varyedge lint {target}: {} finding{} ({})\n",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        summary.join(", ")
    ));
    for f in findings {
        o.push('\n');
        o.push_str(&format!(
            "{:<8} {}  {}\n",
            f.severity.id().to_ascii_uppercase(),
            f.id,
            f.location
        ));
        o.push_str(&format!("  {}\n", f.title));
        o.push_str(&format!("  evidence: {}\n", f.evidence));
        o.push_str(&format!("  why:      {}\n", f.why));
        o.push_str(&format!("  fix:      {}\n", f.fix));
    }
    o
}

/// JSON report: `{ target, findings: [...], summary: { critical: n, … } }`.
pub fn json_value(target: &str, findings: &[Finding]) -> Value {
    let summary: serde_json::Map<String, Value> = counts(findings)
        .into_iter()
        .map(|(s, n)| (s.to_string(), json!(n)))
        .collect();
    json!({
        "target": target,
        "findings": findings,
        "summary": summary,
    })
}

/// [`json_value`] as pretty text with a trailing newline.
pub fn json(target: &str, findings: &[Finding]) -> String {
    let mut s = serde_json::to_string_pretty(&json_value(target, findings)).unwrap_or_default();
    s.push('\n');
    s
}
