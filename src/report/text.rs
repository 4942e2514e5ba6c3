//! The human-readable report: one block per step, then a summary.

use super::style::{Paint, Style};
use crate::flow::{Expectation, StepReport, Trace};
use crate::time::human_duration;
use std::fmt::Write;

/// How much the text report says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verbosity {
    /// `-q`: one line per failing step and the result line ([`quiet`]).
    Quiet,
    /// Every step.
    #[default]
    Normal,
    /// `-v`: every step, plus where each response was stored (or why not) and the
    /// origin's own verdict.
    Verbose,
}

/// Options of the text report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Colour.
    pub style: Style,
    /// Detail.
    pub verbosity: Verbosity,
}

/// Renders traces as text, uncoloured, every step.
pub fn render(traces: &[Trace]) -> String {
    render_with(traces, TextOptions::default())
}

/// `n word`, with an `s` unless `n` is 1.
pub fn count(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Renders traces as text with `opt`.
pub fn render_with(traces: &[Trace], opt: TextOptions) -> String {
    if opt.verbosity == Verbosity::Quiet {
        return quiet(traces, opt.style);
    }
    let mut o = String::new();
    // Nothing is written anywhere, so nothing fails.
    let _ = traces_to(&mut o, traces, opt, &mut |_| Ok(()));
    o
}

/// Writes what [`render_with`] returns to `w`, a few tens of KiB at a time: a long
/// trace's report (~280 bytes a step) is never whole in memory.
pub fn write_with(
    w: &mut dyn std::io::Write,
    traces: &[Trace],
    opt: TextOptions,
) -> std::io::Result<()> {
    write_chunked(w, traces, opt, FLUSH_AT)
}

/// [`write_with`], writing whenever `flush_at` bytes or more have gathered.
fn write_chunked(
    w: &mut dyn std::io::Write,
    traces: &[Trace],
    opt: TextOptions,
    flush_at: usize,
) -> std::io::Result<()> {
    if opt.verbosity == Verbosity::Quiet {
        return w.write_all(quiet(traces, opt.style).as_bytes());
    }
    let mut o = String::with_capacity(2 * flush_at);
    traces_to(&mut o, traces, opt, &mut |o| {
        if o.len() >= flush_at {
            w.write_all(o.as_bytes())?;
            o.clear();
        }
        Ok(())
    })?;
    w.write_all(o.as_bytes())
}

/// How much text [`write_with`] gathers before writing it.
const FLUSH_AT: usize = 1 << 16;

/// Every trace's block, then the line that counts them; `spill` is offered the text after
/// each step (to write it out and clear it, or to keep it).
fn traces_to(
    o: &mut String,
    traces: &[Trace],
    opt: TextOptions,
    spill: &mut dyn FnMut(&mut String) -> std::io::Result<()>,
) -> std::io::Result<()> {
    for t in traces {
        trace(o, t, opt, spill)?;
    }
    if traces.len() > 1 {
        let passed = traces.iter().filter(|t| t.passed()).count();
        let _ = writeln!(
            o,
            "{}: {} passed, {} failed",
            count(traces.len(), "scenario"),
            passed,
            traces.len() - passed
        );
    }
    Ok(())
}

/// `-q`: one line per failing step (`file:line: …`, as a compiler reports an error), then
/// the final result line; nothing else.
pub fn quiet(traces: &[Trace], st: Style) -> String {
    let mut o = String::new();
    for t in traces {
        for s in t
            .steps
            .iter()
            .filter(|s| s.unexpected_failure || matches!(s.expectation, Expectation::Unmet(_)))
        {
            let what = match &s.expectation {
                Expectation::Unmet(u) => format!("expectation unmet: {}", u.join("; ")),
                _ if s.verdict.allowed => "allowed only because of the cache".to_string(),
                _ => format!("blocked {}", s.verdict.reason.id()),
            };
            let _ = writeln!(
                o,
                "{}:{}: {} #{} {} {}: {what}{}",
                t.file,
                s.line,
                t.scenario,
                s.index,
                s.client,
                s.request,
                s.poisoned_by.map_or(String::new(), |p| format!(
                    " (cache-induced: served what step #{p} stored)"
                ))
            );
        }
    }
    let passed = traces.iter().filter(|t| t.passed()).count();
    let failed = traces.len() - passed;
    let verdict = if failed == 0 {
        st.paint(Paint::Good, "PASS")
    } else {
        st.paint(Paint::Bad, "FAIL")
    };
    let _ = match traces {
        [t] => writeln!(
            o,
            "replay {}: {}, {} blocked, {} cache-induced — {verdict}",
            t.scenario,
            count(t.summary.steps, "step"),
            t.summary.blocked,
            t.summary.cache_induced
        ),
        _ => writeln!(
            o,
            "replay: {}: {passed} passed, {failed} failed — {verdict}",
            count(traces.len(), "scenario")
        ),
    };
    o
}

/// A step the report is about: it failed, or the cache changed its verdict.
fn notable(s: &StepReport) -> bool {
    s.cache_induced || s.unexpected_failure || matches!(s.expectation, Expectation::Unmet(_))
}

fn trace(
    o: &mut String,
    t: &Trace,
    opt: TextOptions,
    spill: &mut dyn FnMut(&mut String) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let st = opt.style;
    let _ = writeln!(
        o,
        "{} — profile {} ({})",
        st.paint(Paint::Bold, &t.scenario),
        t.profile,
        t.file
    );
    // `pop N` only when the edge has several POPs or a shield: otherwise it is noise.
    let pops = t.steps.iter().any(|s| s.pop > 0 || s.shield.is_some());
    // The scenario's own `scheme://host` (the one most steps go to: every path-form
    // `fetch:` does): a step to another host shows its whole URL, not a path that reads
    // as if it went to the scenario's host.
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for s in &t.steps {
        *seen.entry(url_home(&s.url)).or_default() += 1;
    }
    // (no single most frequent one: every step shows its whole URL)
    let top = seen.values().copied().max().unwrap_or(0);
    let home = match seen.iter().filter(|(_, n)| **n == top).collect::<Vec<_>>()[..] {
        [(h, _)] => *h,
        _ => "",
    };
    for s in &t.steps {
        if opt.verbosity != Verbosity::Quiet || notable(s) {
            step(o, s, pops, home, opt);
            spill(o)?;
        }
    }
    let sm = &t.summary;
    // A step that is both unmet and blocked without an expectation fails once.
    let failing = t
        .steps
        .iter()
        .filter(|s| s.unexpected_failure || matches!(s.expectation, Expectation::Unmet(_)))
        .count();
    let mut why = Vec::new();
    if sm.unmet_expectations > 0 {
        why.push(count(sm.unmet_expectations, "unmet expectation"));
    }
    if sm.unexpected_failures > 0 {
        why.push(count(sm.unexpected_failures, "unexpected failure"));
    }
    let failing = if failing == 0 {
        "no failing step".to_string()
    } else {
        format!("{} ({})", count(failing, "failing step"), why.join(", "))
    };
    let _ = writeln!(
        o,
        "  summary: {}, {} blocked, {} cache-induced{}; {} — {}\n",
        count(sm.steps, "step"),
        sm.blocked,
        sm.cache_induced,
        if sm.wrongly_allowed > 0 {
            format!(" ({} wrongly allowed)", sm.wrongly_allowed)
        } else {
            String::new()
        },
        failing,
        if t.passed() {
            st.paint(Paint::Good, "PASS")
        } else {
            st.paint(Paint::Bad, "FAIL")
        }
    );
    Ok(())
}

/// `scheme://host` of a URL.
fn url_home(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url
        .get(after..)
        .and_then(|rest| rest.find('/'))
        .map_or(url.len(), |i| after + i);
    url.get(..end).unwrap_or(url)
}

fn step(o: &mut String, s: &StepReport, pops: bool, home: &str, opt: TextOptions) {
    let st = opt.style;
    let who = if s.origin.is_empty() {
        format!("{} ({:?})", s.client, s.agent).to_lowercase()
    } else {
        format!("{} ({})", s.client, s.origin)
    };
    let _ = writeln!(
        o,
        "  #{:<2} {:>8}  {}  {}{}",
        s.index,
        human_duration(s.at_ms),
        who,
        if url_home(&s.url) == home {
            s.request.to_string()
        } else {
            // METHOD and the whole URL
            let method = s.request.split(' ').next().unwrap_or_default();
            format!("{method} {}", s.url)
        },
        if pops {
            format!("  pop {}", s.pop)
        } else {
            String::new()
        }
    );
    if let (Some(pc), Some(pk)) = (s.preflight_cache, &s.preflight_key) {
        // A preflight never carries credentials (Fetch, CORS-preflight fetch), so an edge
        // passes it only for its method; a pass has no key.
        let edge = if pc.id() == "pass" {
            "pass (method)".to_string()
        } else {
            format!("{}  key {pk}", pc.id())
        };
        let _ = writeln!(o, "       preflight: sent, edge {edge}");
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
            "       edge: {}  status {}",
            edge_line(s, &shield),
            s.status
        );
    }
    if opt.verbosity == Verbosity::Verbose {
        verbose(o, s);
    }
    let verdict = if !s.verdict.checked {
        "not checked (no CORS)".to_string()
    } else if s.verdict.allowed {
        st.paint(Paint::Good, "ok")
    } else if s.expectation == Expectation::Met {
        st.paint(Paint::Warn, &format!("BLOCKED {}", s.verdict.reason.id()))
    } else {
        st.paint(Paint::Bad, &format!("BLOCKED {}", s.verdict.reason.id()))
    };
    let induced = match (s.cache_induced, s.poisoned_by) {
        (true, Some(p)) if s.wrongly_allowed => format!("  — ALLOWED ONLY BECAUSE OF THE CACHE (origin alone: {}), served what step #{p} stored", s.direct.reason.id()),
        (true, Some(p)) => format!("  — CACHE-INDUCED: served what step #{p} stored in the {} cache; the origin alone answers {}", s.served_by.id(), if s.direct.allowed { "ok" } else { s.direct.reason.id() }),
        // over the wire the storing step may be unknown (stored before the replay)
        (true, None) if s.wrongly_allowed => format!("  — ALLOWED ONLY BECAUSE OF THE CACHE (origin alone: {}), served from the cache", s.direct.reason.id()),
        (true, None) if matches!(s.cache, crate::edge::Outcome::Miss | crate::edge::Outcome::Pass) => format!("  — EDGE-INDUCED: the edge forwarded the request without fields the origin needed; the origin alone answers {}", if s.direct.allowed { "ok" } else { s.direct.reason.id() }),
        (true, None) => format!("  — CACHE-INDUCED: served from the cache; the origin alone answers {}", if s.direct.allowed { "ok" } else { s.direct.reason.id() }),
        _ if !s.verdict.allowed => "  — also without a cache (CORS misconfiguration)".to_string(),
        _ => String::new(),
    };
    if s.hops.iter().filter(|h| h.leg == "actual").count() > 1 {
        let chain: Vec<String> = s
            .hops
            .iter()
            .map(|h| format!("{} {} → {} ({})", h.leg, h.url, h.status, h.cache.id()))
            .collect();
        let _ = writeln!(o, "       hops: {}", chain.join(", "));
    }
    if s.served_by == crate::scenario::ServedBy::Browser {
        // a stored response the browser revalidated went out and came back 304
        let revalidated = s.hops.iter().any(|h| h.leg == "actual" && h.status == 304);
        let _ = writeln!(
            o,
            "       served by the browser's HTTP cache {}",
            if revalidated {
                "after revalidating it (304 Not Modified: the stored response, with the 304's fields)"
            } else {
                "(nothing sent)"
            }
        );
    }
    let _ = writeln!(o, "       cors: {verdict}{induced}");
    if !s.verdict.console.is_empty() {
        let _ = writeln!(
            o,
            "       console: {}",
            st.paint(Paint::Dim, &s.verdict.console)
        );
    }
    if let Some(f) = &s.fix {
        let _ = writeln!(o, "       fix: {f}");
    }
    match &s.expectation {
        // met on what it stated (the cache, say) but blocked, and nothing said it would be:
        // a failure (exit 1), so never "as expected"
        Expectation::Met if s.unexpected_failure => {
            let _ = writeln!(
                o,
                "       expect: met, but {} (no `cors:` expectation allows the block)",
                st.paint(Paint::Bad, "blocked")
            );
        }
        // a step that expected to be blocked and was is met, but not "fine": say so
        Expectation::Met if !s.verdict.allowed => {
            let _ = writeln!(o, "       expect: met (blocked, as expected)");
        }
        Expectation::Met => {
            let _ = writeln!(o, "       expect: met");
        }
        Expectation::Unmet(u) => {
            for m in u {
                let _ = writeln!(o, "       expect: {} {m}", st.paint(Paint::Bad, "UNMET"));
            }
        }
        Expectation::None if s.unexpected_failure => {
            let _ = writeln!(o, "       expect: none stated, and the step failed");
        }
        Expectation::None => {}
    }
}

/// `miss  key K`, `hit (shield miss)  key K`, `pass (method)`: a pass shows its reason and
/// no key (nothing is looked up or stored under one); a forward not stored says why.
fn edge_line(s: &StepReport, shield: &str) -> String {
    if s.cache.id() == "pass" {
        return match &s.stored {
            Some(Err(reason)) => format!("pass ({reason}){shield}"),
            _ => format!("pass{shield}"),
        };
    }
    let not_stored = match &s.stored {
        Some(Err(reason)) => format!("  not stored: {reason}"),
        _ => String::new(),
    };
    format!("{}{shield}  key {}{not_stored}", s.cache.id(), s.key)
}

/// `-v`: where the response went and what the origin alone answers.
fn verbose(o: &mut String, s: &StepReport) {
    if let Some(Ok(k)) = &s.stored {
        let _ = writeln!(o, "       stored: {k}");
    }
    let _ = writeln!(
        o,
        "       origin alone: {}",
        if s.direct.allowed {
            "ok"
        } else {
            s.direct.reason.id()
        }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step to a host other than the scenario's shows its whole URL; the scenario's own
    /// steps show their path; with no single most frequent host, every step its URL.
    #[test]
    fn a_step_to_another_host_shows_its_whole_url() {
        let text = |yaml: &str| {
            let sc = crate::scenario::parse("t.yaml", yaml).unwrap();
            render(&[crate::sim::replay(&sc).unwrap()])
        };
        let head = "origin: { routes: [ { path: /x } ] }\nclients: [ { name: a, origin: https://a.example.com } ]\nsteps:\n";
        let t = text(&format!("{head}  - {{ client: a, fetch: GET /x }}\n  - {{ client: a, fetch: GET /x }}\n  - {{ client: a, fetch: GET https://other.example.org/x }}\n"));
        assert!(t.contains("https://a.example.com)  GET /x\n"), "{t}");
        assert!(t.contains("GET https://other.example.org/x\n"), "{t}");
        let t = text(&format!("{head}  - {{ client: a, fetch: GET /x }}\n  - {{ client: a, fetch: GET https://other.example.org/x }}\n"));
        assert!(
            t.contains("GET https://api.example.com/x\n")
                && t.contains("GET https://other.example.org/x\n"),
            "{t}"
        );
        assert_eq!(url_home("https://h:8/p?q"), "https://h:8");
        assert_eq!(url_home("https://h"), "https://h");
    }

    /// The report written a piece at a time is the report rendered whole, byte for byte,
    /// at every verbosity and whatever the piece size; a failing writer's error comes back.
    #[test]
    fn written_text_equals_the_rendered_text() {
        let traces = crate::report::tests_support::bundled_traces();
        for verbosity in [Verbosity::Quiet, Verbosity::Normal, Verbosity::Verbose] {
            let opt = TextOptions {
                style: Style::default(),
                verbosity,
            };
            for some in [&traces[..1], &traces[..]] {
                let want = render_with(some, opt);
                for flush_at in [1, 700, FLUSH_AT] {
                    let mut got = Vec::new();
                    write_chunked(&mut got, some, opt, flush_at).unwrap();
                    assert_eq!(String::from_utf8(got).unwrap(), want, "{flush_at}");
                }
            }
        }
        struct Broken;
        impl std::io::Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let opt = TextOptions::default();
        let e = write_chunked(&mut Broken, &traces, opt, 1).unwrap_err();
        assert_eq!(e.to_string(), "disk full");
    }
}
