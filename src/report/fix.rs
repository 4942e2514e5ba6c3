//! The `fix` report: the advice for each scenario (candidates ranked, proof, cost, the
//! change ready to paste) as text, JSON, markdown or HTML (`html_fix`).

use super::{json_line, Render};
use crate::fix::{Advice, Candidate, Cost};
use std::fmt::Write as _;

/// Output formats of `fix`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FixFormat {
    /// Human-readable.
    Text,
    /// JSON.
    Json,
    /// Markdown (for an issue or a pull request).
    Markdown,
    /// One self-contained HTML page (no network), snippets with a copy button.
    Html,
}

/// The advice on some scenarios.
#[derive(Clone, Copy, Debug)]
pub struct Fix<'a> {
    /// One advice per scenario.
    pub advice: &'a [Advice],
}

impl Render for Fix<'_> {
    type Format = FixFormat;
    fn render(&self, f: FixFormat) -> String {
        match f {
            FixFormat::Text => self.advice.iter().map(text).collect::<Vec<_>>().join("\n"),
            // JSON Lines: one advice object per scenario file. `Advice` holds strings, numbers,
            // booleans and lists only, so serialising it cannot fail.
            FixFormat::Json => self
                .advice
                .iter()
                .map(|a| json_line(&serde_json::to_value(a).unwrap_or_default()))
                .collect(),
            FixFormat::Markdown => self
                .advice
                .iter()
                .map(markdown)
                .collect::<Vec<_>>()
                .join("\n"),
            FixFormat::Html => super::html_fix::render(self.advice),
        }
    }
}

pub(crate) fn steps(v: &[usize]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.iter()
            .map(|i| format!("#{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub(crate) fn cost_line(label: &str, c: &[Cost; 2]) -> String {
    let [b, a] = c;
    format!(
        "{label}: hit ratio {:.1}% -> {:.1}%, forwarded {} -> {} of {} -> {} requests, stored {} -> {} variants, {} -> {} bytes",
        b.hit_ratio() * 100.0,
        a.hit_ratio() * 100.0,
        b.forwarded,
        a.forwarded,
        b.edge_requests,
        a.edge_requests,
        b.variants,
        a.variants,
        b.bytes,
        a.bytes
    )
}

/// Marks an edge snippet that `varyedge import cdn-config` reads back.
fn reads_back(edge: bool) -> &'static str {
    if edge {
        " (check it: varyedge import cdn-config)"
    } else {
        ""
    }
}

pub(crate) fn verdict(c: &Candidate) -> String {
    let p = &c.proof;
    if p.works {
        format!(
            "WORKS on this edge: removes {}, adds none, explore {}/{} sessions fail",
            steps(&p.removed),
            p.explore_failing,
            p.explore_cases
        )
    } else {
        let mut why = Vec::new();
        if !p.remaining.is_empty() {
            why.push(format!("steps {} still fail", steps(&p.remaining)));
        }
        if !p.added.is_empty() {
            why.push(format!("adds failures at {}", steps(&p.added)));
        }
        if p.explore_failing > 0 {
            why.push(format!(
                "explore: {}/{} sessions fail ({})",
                p.explore_failing,
                p.explore_cases,
                p.explore_kinds.join(", ")
            ));
        }
        format!("DOES NOT WORK on this edge: {}", why.join("; "))
    }
}

/// `-q`: one result line per scenario: fixed by which candidate, or not.
pub fn result_lines(advice: &[Advice]) -> String {
    let mut o = String::new();
    for a in advice {
        let what = if !a.needs_fix() {
            "nothing to fix".to_string()
        } else if let Some(c) = a.candidates.first().filter(|_| a.fixed()) {
            format!("fixed by [{}] {}", c.kind.id(), c.kind.title())
        } else {
            "no candidate fixes it on this edge".to_string()
        };
        let _ = writeln!(o, "fix {} ({}): {what}", a.scenario, a.profile);
    }
    o
}

fn header(a: &Advice) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{} ({}), edge profile {}", a.scenario, a.file, a.profile);
    let _ = writeln!(
        o,
        "  cache-induced failures: steps {}; explore: {}/{} sessions fail",
        steps(&a.failing),
        a.explore_failing,
        a.cases
    );
    for (i, h) in &a.origin_failures {
        let _ = writeln!(
            o,
            "  step #{i} fails without any cache (origin policy): {h}"
        );
    }
    if !a.needs_fix() {
        let _ = writeln!(o, "  nothing to fix: the edge causes no failure here");
    } else if !a.fixed() {
        let _ = writeln!(o, "  no candidate fixes it on this edge");
    }
    o
}

fn text(a: &Advice) -> String {
    let mut o = header(a);
    for (n, c) in a.candidates.iter().enumerate() {
        let _ = writeln!(
            o,
            "\n  {}. [{}] {} ({})",
            n + 1,
            c.kind.id(),
            c.kind.title(),
            c.kind.side()
        );
        let _ = writeln!(o, "     proof: {}", verdict(c));
        let _ = writeln!(
            o,
            "     cost  {}",
            cost_line("on the scenario", &c.scenario_cost)
        );
        let _ = writeln!(o, "     cost  {}", cost_line(&a.mix, &c.mix_cost));
        for ch in &c.changes {
            let _ = writeln!(o, "     -- {}{} --", ch.target, reads_back(ch.edge));
            for l in ch.text.lines() {
                let _ = writeln!(o, "       {l}");
            }
        }
    }
    o
}

fn markdown(a: &Advice) -> String {
    let mut o = format!("## `{}` ({}) on `{}`\n\n", a.scenario, a.file, a.profile);
    let _ = writeln!(
        o,
        "Cache-induced failures: steps {}; explore: {}/{} sessions fail.\n",
        steps(&a.failing),
        a.explore_failing,
        a.cases
    );
    for (i, h) in &a.origin_failures {
        let _ = writeln!(
            o,
            "- step #{i} fails without any cache (origin policy): {h}"
        );
    }
    if !a.needs_fix() {
        o.push_str("Nothing to fix: the edge causes no failure here.\n");
    }
    if a.candidates.is_empty() {
        return o;
    }
    o.push_str("| rank | fix | side | works here | hit ratio (mix) | forwarded (mix) | stored bytes (mix) |\n");
    o.push_str("|---|---|---|---|---|---|---|\n");
    for (n, c) in a.candidates.iter().enumerate() {
        let [b, f] = &c.mix_cost;
        let _ = writeln!(
            o,
            "| {} | `{}` | {} | {} | {:.1}% → {:.1}% | {} → {} | {} → {} |",
            n + 1,
            c.kind.id(),
            c.kind.side(),
            if c.proof.works { "yes" } else { "no" },
            b.hit_ratio() * 100.0,
            f.hit_ratio() * 100.0,
            b.forwarded,
            f.forwarded,
            b.bytes,
            f.bytes
        );
    }
    for (n, c) in a.candidates.iter().enumerate() {
        let _ = writeln!(
            o,
            "\n### {}. `{}`: {}\n",
            n + 1,
            c.kind.id(),
            c.kind.title()
        );
        let _ = writeln!(o, "- proof: {}", verdict(c));
        let _ = writeln!(
            o,
            "- cost {}",
            cost_line("on the scenario", &c.scenario_cost)
        );
        let _ = writeln!(o, "- cost {}", cost_line(&a.mix, &c.mix_cost));
        for ch in &c.changes {
            let _ = writeln!(
                o,
                "\n{}{}:\n\n```{}\n{}```",
                ch.target,
                reads_back(ch.edge),
                ch.lang,
                ch.text
            );
        }
    }
    o
}
