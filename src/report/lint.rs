//! The `lint` report: findings in, text for people, JSON or SARIF (`report::sarif`) for
//! tools out.

use super::{json_line, sarif, Render};
use crate::lint::{Finding, Severity};
use serde_json::{json, Value};

/// Output formats of `lint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    /// Human-readable.
    Text,
    /// JSON: `{ target, findings, summary }`.
    Json,
    /// SARIF 2.1.0, for code-scanning annotations in CI.
    Sarif,
    /// The text report, then GitHub Actions annotations (`::error file=…,line=…`).
    Github,
}

/// Output formats of `diagnose har`: lint's (its findings are judged the same way) and a
/// page to attach to the bug report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagnoseFormat {
    /// Human-readable.
    Text,
    /// JSON: `{ files, entries, cors_requests, findings, summary }`.
    Json,
    /// SARIF 2.1.0, for code-scanning annotations in CI.
    Sarif,
    /// The text report, then GitHub Actions annotations (`::error file=…,line=…`).
    Github,
    /// One self-contained HTML page (no network): the blocked responses, who poisoned them, the fix.
    Html,
}

/// The findings of one `lint` run.
#[derive(Clone, Copy, Debug)]
pub struct Lint<'a> {
    /// What was linted: a scenario file or a URL.
    pub target: &'a str,
    /// The findings, in report order.
    pub findings: &'a [Finding],
    /// The tool version SARIF names as the driver's (`CARGO_PKG_VERSION`).
    pub version: &'a str,
}

impl Render for Lint<'_> {
    type Format = LintFormat;
    fn render(&self, f: LintFormat) -> String {
        match f {
            LintFormat::Text => text(self.target, self.findings),
            LintFormat::Json => json(self.target, self.findings),
            LintFormat::Sarif => sarif::render(self.findings, self.version),
            LintFormat::Github => {
                text(self.target, self.findings)
                    + &super::github::commands(super::github::lint_annotations(&json_value(
                        self.target,
                        self.findings,
                    )))
            }
        }
    }
}

/// Counts per severity, most severe first: `[("critical", n), …]`.
pub fn counts(findings: &[Finding]) -> Vec<(&'static str, usize)> {
    Severity::ALL
        .iter()
        .rev()
        .map(|s| (s.id(), findings.iter().filter(|f| f.severity == *s).count()))
        .collect()
}

/// The report's first line, and all of it under `-q`: how many findings of which severity.
pub fn result_line(target: &str, findings: &[Finding]) -> String {
    if findings.is_empty() {
        return format!("varyedge lint {target}: no findings\n");
    }
    let summary: Vec<String> = counts(findings)
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    format!(
        "varyedge lint {target}: {} finding{} ({})\n",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        summary.join(", ")
    )
}

/// Human-readable report for `target` (a scenario file or a URL).
pub fn text(target: &str, findings: &[Finding]) -> String {
    let mut o = result_line(target, findings);
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

/// [`json_value`] as one JSON Lines record (compact, newline-terminated).
pub fn json(target: &str, findings: &[Finding]) -> String {
    json_line(&json_value(target, findings))
}
