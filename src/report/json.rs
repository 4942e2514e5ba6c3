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
        write_step(out, s);
    }
}

/// A step as its report object, written without building a `Value`: the same entries as
/// [`step_value`], in the same (sorted) order, in the bytes serde_json writes for them.
fn write_step(out: &mut Vec<u8>, s: &StepReport) {
    let cors = |ok: bool| if ok { "ok" } else { "blocked" };
    let mut m = Obj::new(out);
    m.str("agent", agent_id(s.agent));
    m.num("at_ms", s.at_ms);
    m.str("cache", s.cache.id());
    m.bool("cache_induced", s.cache_induced);
    m.str("client", &s.client);
    m.key("direct");
    let mut d = Obj::new(m.out);
    d.str("cors", cors(s.direct.allowed));
    d.str("reason", s.direct.reason.id());
    d.end();
    let (exp, unmet): (&str, &[String]) = match &s.expectation {
        Expectation::Met => ("met", &[]),
        Expectation::Unmet(u) => ("unmet", u),
        Expectation::None => ("none", &[]),
    };
    m.str("expectation", exp);
    if let Some(f) = &s.fix {
        m.str("fix", f);
    }
    if s.hops.len() > 1 || s.hops.iter().any(|h| h.leg == "preflight") {
        m.key("hops");
        m.out.push(b'[');
        for (i, h) in s.hops.iter().enumerate() {
            if i > 0 {
                m.out.push(b',');
            }
            let mut o = Obj::new(m.out);
            o.str("cache", h.cache.id());
            o.str("leg", h.leg);
            o.str("request", &h.request);
            o.num("status", u64::from(h.status));
            o.str("url", &h.url);
            o.end();
        }
        m.out.push(b']');
    }
    m.num("index", s.index as u64);
    m.str("key", &s.key);
    m.num("line", s.line);
    if let Some(Err(r)) = &s.stored {
        m.str("not_stored", r);
    }
    m.str("origin", &s.origin);
    if let Some(p) = s.poisoned_by {
        m.num("poisoned_by", p as u64);
    }
    m.num("pop", s.pop as u64);
    m.str("preflight", s.preflight.id());
    if let Some(p) = s.preflight_cache {
        m.str("preflight_cache", p.id());
    }
    if let Some(k) = &s.preflight_key {
        m.str("preflight_key", k);
    }
    m.str("request", &s.request);
    m.str("served_by", s.served_by.id());
    if let Some(sh) = s.shield {
        m.str("shield", sh.id());
    }
    m.num("status", u64::from(s.status));
    if let Some(Ok(k)) = &s.stored {
        m.str("stored", k);
    }
    m.bool("unexpected_failure", s.unexpected_failure);
    if !unmet.is_empty() {
        m.key("unmet");
        m.out.push(b'[');
        for (i, u) in unmet.iter().enumerate() {
            if i > 0 {
                m.out.push(b',');
            }
            json_str(m.out, u);
        }
        m.out.push(b']');
    }
    m.str("url", &s.url);
    m.key("verdict");
    let mut v = Obj::new(m.out);
    v.bool("checked", s.verdict.checked);
    v.str("console", &s.verdict.console);
    v.str("cors", cors(s.verdict.allowed));
    v.bool("in_preflight", s.verdict.in_preflight);
    v.str("reason", s.verdict.reason.id());
    v.end();
    m.bool("wrongly_allowed", s.wrongly_allowed);
    m.end();
}

/// The agent as its `Serialize` names it (kebab-case; a test holds the two together).
fn agent_id(a: crate::browser::Agent) -> &'static str {
    use crate::browser::Agent;
    match a {
        Agent::Chrome => "chrome",
        Agent::Firefox => "firefox",
        Agent::Safari => "safari",
        Agent::None => "none",
    }
}

/// A JSON object being written: `{`, then `"key":value` entries, then `}`.
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, first: true }
    }

    /// `"k":` (keys are plain ASCII names), after a comma unless it is the first.
    fn key(&mut self, k: &str) {
        if !std::mem::take(&mut self.first) {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        json_str(self.out, v);
    }

    fn num(&mut self, k: &str, v: u64) {
        self.key(k);
        let mut digits = [0u8; 20];
        self.out
            .extend_from_slice(crate::fields::decimal(v, &mut digits));
    }

    fn bool(&mut self, k: &str, v: bool) {
        self.key(k);
        self.out
            .extend_from_slice(if v { b"true" as &[u8] } else { b"false" });
    }

    fn end(self) {
        self.out.push(b'}');
    }
}

/// `s` as a JSON string (RFC 8259 §7), escaped exactly as serde_json escapes it: `"` and
/// `\` with a backslash, the control characters with their short escape (`\b \t \n \f
/// \r`) or `\u00xx` (lower-case hex), everything else (`/`, DEL, non-ASCII) as it is.
fn json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let b = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    // Eight bytes at a time while none needs escaping (most strings: keys, URLs, ids).
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        if needs_escape(u64::from_le_bytes(w)) {
            for j in i..i + 8 {
                escape_at(out, b, j, &mut start);
            }
        }
        i += 8;
    }
    // The last few bytes, tested as one word padded with letters.
    let tail = &b[i..];
    let mut w = [b'a'; 8];
    w[..tail.len()].copy_from_slice(tail);
    if needs_escape(u64::from_le_bytes(w)) {
        for j in i..b.len() {
            escape_at(out, b, j, &mut start);
        }
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

/// Whether any of the eight bytes in `w` is `"`, `\` or a control character below 0x20
/// (the "has a byte less than n" and "has a zero byte" word tests; bytes of 0x80 and more
/// never match).
fn needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    (w.wrapping_sub(ONES * 0x20) & !w & HIGH != 0)
        || zero_in(w ^ (ONES * u64::from(b'"')))
        || zero_in(w ^ (ONES * u64::from(b'\\')))
}

/// Escapes byte `j` of `b` if it must be, first writing the bytes from `start` up to it.
fn escape_at(out: &mut Vec<u8>, b: &[u8], j: usize, start: &mut usize) {
    let c = b[j];
    let short = match c {
        b'"' => b'"',
        b'\\' => b'\\',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        0x08 => b'b',
        0x0c => b'f',
        0..=0x1f => 0,
        _ => return,
    };
    out.extend_from_slice(&b[*start..j]);
    *start = j + 1;
    if short == 0 {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(b"\\u00");
        out.push(HEX[usize::from(c >> 4)]);
        out.push(HEX[usize::from(c & 0xf)]);
    } else {
        out.push(b'\\');
        out.push(short);
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
    let jobs = crate::sim::jobs::wanted(jobs);
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
        let traces = crate::report::tests_support::bundled_traces();
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

    /// The hand-written pieces write what serde_json writes: strings (every escape, any
    /// character), numbers at their extremes, the agent's name.
    #[test]
    fn pieces_are_written_as_serde_json_writes_them() {
        let mut samples: Vec<String> = (0u8..=0x7f).map(|c| format!("a{}b", c as char)).collect();
        samples.extend(["", "\"\\/", "é ü 東 \u{1F600}", "\u{7f}\u{80}\u{2028}"].map(String::from));
        for s in &samples {
            let mut out = Vec::new();
            json_str(&mut out, s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
        for n in [0, 7, 10, 99, 12_345, u64::MAX] {
            let mut out = Vec::new();
            let mut o = Obj::new(&mut out);
            o.num("n", n);
            o.bool("t", true);
            o.bool("f", false);
            o.end();
            let want = serde_json::json!({ "n": n, "t": true, "f": false });
            assert_eq!(
                serde_json::from_slice::<Value>(&out).unwrap(),
                want,
                "{}",
                String::from_utf8_lossy(&out)
            );
            assert!(String::from_utf8(out)
                .unwrap()
                .contains(&format!("\"n\":{n},")));
        }
        use crate::browser::Agent;
        for a in [Agent::Chrome, Agent::Firefox, Agent::Safari, Agent::None] {
            assert_eq!(serde_json::to_value(a).unwrap(), agent_id(a));
        }
    }

    /// The word test against the byte test: every byte value at every place in a word.
    #[test]
    fn the_word_test_finds_exactly_the_bytes_to_escape() {
        for c in 0..=255u8 {
            for at in 0..8 {
                for fill in [b'a', 0x80, 0xff] {
                    let mut w = [fill; 8];
                    w[at] = c;
                    let want = c < 0x20 || c == b'"' || c == b'\\';
                    assert_eq!(needs_escape(u64::from_le_bytes(w)), want, "{c:#x} at {at}");
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, failure_persistence: None, ..Default::default() })]
        /// Any string is escaped byte for byte as serde_json escapes it.
        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(s in "\\PC*|[\\x00-\\x1f\"\\\\a-z]*") {
            let mut out = Vec::new();
            json_str(&mut out, &s);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&s).unwrap());
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
