//! The `replay` report: traces in, text, JSON or JUnit out.

use super::{html, json, junit, text, Render};
use crate::flow::Trace;

/// Output formats of `replay`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReplayFormat {
    /// Human-readable.
    Text,
    /// JSON (PRODUCT.md's stable report).
    Json,
    /// JUnit XML for CI.
    Junit,
    /// One self-contained HTML page: timelines, poisoning arrows, console lines and fixes.
    Html,
    /// The text report, then GitHub Actions annotations for the failing steps.
    Github,
}

/// The traces of one `replay` run, in scenario order.
#[derive(Clone, Copy, Debug)]
pub struct Replay<'a> {
    /// One trace per scenario.
    pub traces: &'a [Trace],
    /// Colour and detail of the text format.
    pub text: text::TextOptions,
}

impl Render for Replay<'_> {
    type Format = ReplayFormat;
    fn render(&self, f: ReplayFormat) -> String {
        match f {
            ReplayFormat::Text => text::render_with(self.traces, self.text),
            ReplayFormat::Json => json::render(self.traces),
            ReplayFormat::Junit => junit::render(self.traces),
            ReplayFormat::Github => {
                let values: Vec<_> = self.traces.iter().map(json::trace_value).collect();
                text::render_with(self.traces, self.text)
                    + &super::github::commands(super::github::replay_annotations(&values))
            }
            ReplayFormat::Html => html::replay(
                &self
                    .traces
                    .iter()
                    .map(json::trace_value)
                    .collect::<Vec<_>>(),
            ),
        }
    }
}
