//! Pure renderers: report data in, text out. No IO here; `commands` writes the result.
//!
//! Every report has the same shape: a data type (the traces of `replay`, the rows of
//! `matrix`, an exploration, lint findings, the built-in profiles), a format enum that is
//! also the command's `--format` value, and [`Render::render`]. The per-format functions
//! (`text::render`, `json::trace_value`, …) stay public for callers that embed one
//! report in another (explore embeds a replay trace in its JSON).

pub mod explore;
pub mod fix;
pub mod github;
pub mod html;
pub mod html_diagnose;
pub mod html_fix;
pub mod json;
pub mod junit;
pub mod lint;
pub mod matrix;
pub mod profiles;
pub mod profiles_doc;
pub mod replay;
pub mod sarif;
pub mod style;
pub mod text;
pub mod traffic;

pub use explore::{Explore, ExploreFormat};
pub use fix::{Fix, FixFormat};
pub use lint::{DiagnoseFormat, Lint, LintFormat};
pub use matrix::{Matrix, MatrixFormat, MatrixRow};
pub use profiles::{Profiles, ProfilesFormat};
pub use replay::{Replay, ReplayFormat};

/// A report: data that renders to text in one of its formats. Pure and total: every
/// value renders, in every format.
pub trait Render {
    /// The formats this report has (the command's `--format` values).
    type Format: Copy;
    /// The report in format `f`, newline-terminated.
    fn render(&self, f: Self::Format) -> String;
}

/// Pretty JSON with a trailing newline (SARIF, a single standard document). Serialising a
/// `serde_json::Value` cannot fail (its map keys are strings), so the fallback is
/// unreachable in practice.
pub(crate) fn pretty(v: &serde_json::Value) -> String {
    let mut s =
        serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// One JSON Lines record: `v` compact on one line, newline-terminated. Every `--format
/// json` report is a sequence of these, one per scenario file, whatever their number.
pub fn json_line(v: &serde_json::Value) -> String {
    // Compact serialisation escapes newlines inside strings, so the record is one line.
    let mut s = serde_json::to_string(v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// JSON Lines: one record per value, in order.
pub fn json_lines<'a>(vs: impl IntoIterator<Item = &'a serde_json::Value>) -> String {
    vs.into_iter().map(json_line).collect()
}

/// Escapes text for XML attribute and element content.
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                o.push_str(&format!("&#{};", c as u32))
            }
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// Every bundled scenario's trace (`scenarios/*.yaml`, replayed in process): what the
    /// report writers are checked against.
    pub(crate) fn bundled_traces() -> Vec<crate::flow::Trace> {
        let traces: Vec<_> = crate::scenario::tests_support::bundled_files("")
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                let sc = crate::scenario::parse(&p.display().to_string(), &text).unwrap();
                crate::sim::replay(&sc).unwrap()
            })
            .collect();
        assert!(traces.len() > 20);
        traces
    }
}
