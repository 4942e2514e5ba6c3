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

/// Writes one trace as a compact JSON line, a step at a time: the same bytes as
/// `json_line(&trace_value(t))` (keys in sorted order, as serde_json writes a map),
/// without holding every step's value at once (a 1M-step trace would need gigabytes).
/// The steps are written on up to `jobs` threads, each a contiguous run of them into a
/// buffer of its own, joined in order; at most `jobs` runs of `min` steps or so are held
/// at a time, so the report is never whole in memory.
fn write_line<W: std::io::Write + ?Sized>(
    out: &mut W,
    t: &Trace,
    jobs: usize,
) -> std::io::Result<()> {
    write_line_min(out, t, jobs, MIN_STEPS_PER_THREAD)
}

/// [`write_line`], each thread given at least `min` steps (and at most twice that).
fn write_line_min<W: std::io::Write + ?Sized>(
    out: &mut W,
    t: &Trace,
    jobs: usize,
    min: usize,
) -> std::io::Result<()> {
    let head = head_value(t);
    let field = |k: &str| serde_json::to_string(&head[k]).unwrap_or_else(|_| "null".into());
    out.write_all(b"{\"file\":")?;
    out.write_all(field("file").as_bytes())?;
    out.write_all(b",\"profile\":")?;
    out.write_all(field("profile").as_bytes())?;
    out.write_all(b",\"scenario\":")?;
    out.write_all(field("scenario").as_bytes())?;
    out.write_all(b",\"steps\":[")?;
    let chunk = chunk_len(t.steps.len(), jobs, min).min(min.saturating_mul(2).max(1));
    let jobs = jobs.max(1);
    let mut first = true;
    for window in t.steps.chunks(chunk.saturating_mul(jobs)) {
        let parts: Vec<Vec<u8>> = if window.len() <= chunk {
            let mut b = Vec::with_capacity(window.len() * 700);
            write_steps(&mut b, window);
            vec![b]
        } else {
            std::thread::scope(|sc| {
                let handles: Vec<_> = window
                    .chunks(chunk)
                    .map(|c| {
                        sc.spawn(move || {
                            let mut b = Vec::with_capacity(c.len() * 700);
                            write_steps(&mut b, c);
                            b
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            })
        };
        for p in parts {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            out.write_all(&p)?;
        }
    }
    out.write_all(b"],\"summary\":")?;
    out.write_all(field("summary").as_bytes())?;
    out.write_all(b"}\n")
}

/// Fewer steps than this per thread are rendered on the calling thread.
const MIN_STEPS_PER_THREAD: usize = 20_000;

/// How many steps each of (at most) `jobs` threads renders; `n` or more means one.
fn chunk_len(n: usize, jobs: usize, min: usize) -> usize {
    let jobs = jobs.max(1).min(n / min.max(1)).max(1);
    n.div_ceil(jobs).max(1)
}

/// The steps' objects, comma-separated.
fn write_steps(out: &mut Vec<u8>, steps: &[StepReport]) {
    for (i, s) in steps.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Writing to a Vec cannot fail, and every field serialises.
        let _ = serde_json::to_writer(&mut *out, &StepJson(s));
    }
}

/// A step as its report object, serialised without building a `Value`: the same
/// entries as [`step_value`], in the same (sorted) order.
struct StepJson<'a>(&'a StepReport);

impl serde::Serialize for StepJson<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let s = self.0;
        let cors = |ok: bool| if ok { "ok" } else { "blocked" };
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("agent", &s.agent)?;
        m.serialize_entry("at_ms", &s.at_ms)?;
        m.serialize_entry("cache", s.cache.id())?;
        m.serialize_entry("cache_induced", &s.cache_induced)?;
        m.serialize_entry("client", &*s.client)?;
        m.serialize_entry(
            "direct",
            &Pairs(&[
                ("cors", J::S(cors(s.direct.allowed))),
                ("reason", J::S(s.direct.reason.id())),
            ]),
        )?;
        let (exp, unmet): (&str, &[String]) = match &s.expectation {
            Expectation::Met => ("met", &[]),
            Expectation::Unmet(u) => ("unmet", u),
            Expectation::None => ("none", &[]),
        };
        m.serialize_entry("expectation", exp)?;
        if let Some(f) = &s.fix {
            m.serialize_entry("fix", &**f)?;
        }
        if s.hops.len() > 1 || s.hops.iter().any(|h| h.leg == "preflight") {
            m.serialize_entry("hops", &Hops(&s.hops))?;
        }
        m.serialize_entry("index", &s.index)?;
        m.serialize_entry("key", &*s.key)?;
        m.serialize_entry("line", &s.line)?;
        if let Some(Err(r)) = &s.stored {
            m.serialize_entry("not_stored", r)?;
        }
        m.serialize_entry("origin", &*s.origin)?;
        if let Some(p) = s.poisoned_by {
            m.serialize_entry("poisoned_by", &p)?;
        }
        m.serialize_entry("pop", &s.pop)?;
        m.serialize_entry("preflight", s.preflight.id())?;
        if let Some(p) = s.preflight_cache {
            m.serialize_entry("preflight_cache", p.id())?;
        }
        if let Some(k) = &s.preflight_key {
            m.serialize_entry("preflight_key", &**k)?;
        }
        m.serialize_entry("request", &*s.request)?;
        m.serialize_entry("served_by", s.served_by.id())?;
        if let Some(sh) = s.shield {
            m.serialize_entry("shield", sh.id())?;
        }
        m.serialize_entry("status", &s.status)?;
        if let Some(Ok(k)) = &s.stored {
            m.serialize_entry("stored", &**k)?;
        }
        m.serialize_entry("unexpected_failure", &s.unexpected_failure)?;
        if !unmet.is_empty() {
            m.serialize_entry("unmet", unmet)?;
        }
        m.serialize_entry("url", &*s.url)?;
        m.serialize_entry(
            "verdict",
            &Pairs(&[
                ("checked", J::B(s.verdict.checked)),
                ("console", J::S(&s.verdict.console)),
                ("cors", J::S(cors(s.verdict.allowed))),
                ("in_preflight", J::B(s.verdict.in_preflight)),
                ("reason", J::S(s.verdict.reason.id())),
            ]),
        )?;
        m.serialize_entry("wrongly_allowed", &s.wrongly_allowed)?;
        m.end()
    }
}

/// A scalar of a small nested object.
enum J<'a> {
    S(&'a str),
    B(bool),
    N(u64),
}

/// A small object whose keys are given in sorted order.
struct Pairs<'a>(&'a [(&'static str, J<'a>)]);

impl serde::Serialize for Pairs<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = ser.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            match v {
                J::S(x) => m.serialize_entry(k, x)?,
                J::B(x) => m.serialize_entry(k, x)?,
                J::N(x) => m.serialize_entry(k, x)?,
            }
        }
        m.end()
    }
}

/// A step's hops as `step_value` lists them.
struct Hops<'a>(&'a [crate::flow::HopReport]);

impl serde::Serialize for Hops<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_seq(self.0.iter().map(HopJson))
    }
}

/// One hop's object.
struct HopJson<'a>(&'a crate::flow::HopReport);

impl serde::Serialize for HopJson<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let h = self.0;
        Pairs(&[
            ("cache", J::S(h.cache.id())),
            ("leg", J::S(h.leg)),
            ("request", J::S(&h.request)),
            ("status", J::N(u64::from(h.status))),
            ("url", J::S(&h.url)),
        ])
        .serialize(ser)
    }
}

fn step_value(s: &StepReport) -> Value {
    let mut m = Map::new();
    m.insert("index".into(), json!(s.index));
    m.insert("client".into(), json!(&*s.client));
    m.insert("origin".into(), json!(&*s.origin));
    m.insert("request".into(), json!(&*s.request));
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
                .map(|h| json!({ "leg": h.leg, "request": &*h.request, "url": &*h.url, "cache": h.cache.id(), "status": h.status }))
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
    m.insert("url".into(), json!(&*s.url));
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
        m.insert("fix".into(), json!(&**f));
    }
    Value::Object(m)
}

/// Renders the traces as JSON Lines: one compact report object per trace (per scenario
/// file), whatever their number.
pub fn render(traces: &[Trace]) -> String {
    render_jobs(traces, 1)
}

/// [`render`], a long trace's steps rendered on up to `jobs` threads (0 = one per
/// available core); the same bytes whatever `jobs`.
pub fn render_jobs(traces: &[Trace], jobs: usize) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_jobs(&mut out, traces, jobs);
    // Only `serde_json` output and ASCII were written: valid UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`render_jobs`] written to `out` as it is rendered, so a long report is never held
/// whole in memory (a 1M-step replay's report is 650 MB).
pub fn write_jobs<W: std::io::Write + ?Sized>(
    out: &mut W,
    traces: &[Trace],
    jobs: usize,
) -> std::io::Result<()> {
    let jobs = match jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    for t in traces {
        write_line(out, t, jobs)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed line is exactly the value's compact serialisation, for every bundled
    /// scenario (preflights, hops, poisoning, shields, fixes all appear among them).
    #[test]
    fn streamed_lines_equal_the_value_form() {
        let mut traces = Vec::new();
        for p in crate::scenario::tests_support::bundled_files("") {
            let text = std::fs::read_to_string(&p).unwrap();
            let sc = crate::scenario::parse(&p.display().to_string(), &text).unwrap();
            traces.push(crate::sim::replay(&sc).unwrap());
        }
        assert!(traces.len() > 20);
        let want: String = traces
            .iter()
            .map(|t| crate::report::json_line(&trace_value(t)))
            .collect();
        assert_eq!(render(&traces), want);
        // split into runs of a few steps on several threads: the same bytes
        for (jobs, min) in [(3, 2), (1, 1), (2, 5), (4, 1)] {
            let mut split = Vec::new();
            for t in &traces {
                write_line_min(&mut split, t, jobs, min).unwrap();
            }
            assert_eq!(
                String::from_utf8(split).unwrap(),
                want,
                "{jobs} jobs, {min}"
            );
        }
    }

    #[test]
    fn chunks_cover_every_step() {
        assert_eq!(chunk_len(10, 1, 1), 10);
        assert_eq!(chunk_len(10, 3, 1), 4);
        assert_eq!(chunk_len(10, 3, 5), 5);
        assert_eq!(chunk_len(10, 3, 20), 10);
        assert_eq!(chunk_len(0, 2, 1), 1);
    }
}
