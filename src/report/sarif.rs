//! SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format) for `varyedge lint`,
//! so CI can annotate pull requests. One run; every lint rule is a `reportingDescriptor`
//! (its index in `lint::RULES` is the `ruleIndex`); every finding is a `result`.
//! Levels: critical and high → `error`, medium → `warning`, low and info → `note`;
//! `properties.security-severity` carries a CVSS-like score for code-scanning UIs.

use crate::lint::{Finding, Severity, RULES};
use serde_json::{json, Value};

/// The schema URI written in `$schema`.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn score(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// A file path as a relative URI reference (`./a b.yaml` → `a%20b.yaml`); URLs pass through.
fn uri(s: &str) -> String {
    if s.contains("://") {
        return s.to_string();
    }
    let s = s.strip_prefix("./").unwrap_or(s);
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

fn result(f: &Finding) -> Value {
    let mut region = serde_json::Map::new();
    if let Some(l) = f.location.line {
        region.insert("startLine".into(), json!(l));
    }
    if let Some(c) = f.location.col {
        region.insert("startColumn".into(), json!(c));
    }
    let mut phys = serde_json::Map::new();
    phys.insert(
        "artifactLocation".into(),
        json!({ "uri": uri(&f.location.uri) }),
    );
    if !region.is_empty() {
        phys.insert("region".into(), Value::Object(region));
    }
    json!({
        "ruleId": f.id,
        "ruleIndex": RULES.iter().position(|r| r.id == f.id).unwrap_or(0),
        "level": level(f.severity),
        "message": { "text": format!("{}: {}. Fix: {}", f.title, f.evidence, f.fix) },
        "locations": [ { "physicalLocation": Value::Object(phys) } ],
        "properties": { "severity": f.severity.id(), "security-severity": score(f.severity) },
    })
}

/// The SARIF log as a JSON value.
pub fn value(findings: &[Finding], version: &str) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": r.why },
                "help": { "text": r.fix },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": {
                    "tags": ["security", "cors", "cache"],
                    "security-severity": score(r.severity),
                },
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [ {
            "tool": { "driver": {
                "name": "varyedge",
                "version": version,
                "informationUri": "https://crates.io/crates/varyedge",
                "rules": rules,
            } },
            "results": findings.iter().map(result).collect::<Vec<_>>(),
        } ],
    })
}

/// The SARIF log as pretty text with a trailing newline.
pub fn render(findings: &[Finding], version: &str) -> String {
    super::pretty(&value(findings, version))
}
