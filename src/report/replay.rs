//! The `replay` report: traces in, text, JSON or JUnit out.

use super::{json, junit, text, Render};
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
}

/// The traces of one `replay` run, in scenario order.
#[derive(Clone, Copy, Debug)]
pub struct Replay<'a> {
    /// One trace per scenario.
    pub traces: &'a [Trace],
}

impl Render for Replay<'_> {
    type Format = ReplayFormat;
    fn render(&self, f: ReplayFormat) -> String {
        match f {
            ReplayFormat::Text => text::render(self.traces),
            ReplayFormat::Json => json::render(self.traces),
            ReplayFormat::Junit => junit::render(self.traces),
        }
    }
}
