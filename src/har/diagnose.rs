//! The cache-induced CORS failures a recording already shows, without any simulation:
//! each cross-origin response is judged by the browser model (Fetch §3.2.5 CORS check,
//! §4.8 for preflights); a blocked one that a cache served (`Age > 0`, a hit header,
//! Chrome's `_fromCache`) is traced to the earlier entry whose answer was stored: the one
//! with the same `Date` and `Access-Control-Allow-Origin`, else the latest one for the same
//! URL from the Origin the delivered ACAO names (or, for a missing ACAO, without Origin).
//!
//! A request that failed with no response recorded (Playwright's `status: -1`) is judged
//! on the latest earlier stored response for its URL: what a URL-keyed cache would have
//! served. Such findings say `recorded: false`.

use super::classify::{cache_evidence, cache_outcome, engine};
use super::import::page_origins;
use super::{Entry, Har};
use crate::browser::{Browser, Credentials, Fetch, Mode, Reason, Verdict};
use crate::edge::Outcome;
use crate::fields::Headers;
use crate::message::Response;
use crate::report::github;
use crate::time::Timestamp;
use serde::Serialize;
use std::fmt::Write as _;

/// The earlier entry whose stored answer was served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Poisoner {
    /// Its index in `log.entries`.
    pub entry: usize,
    /// Its `startedDateTime`.
    pub started: String,
    /// How long before the failing request it started, in ms.
    pub before_ms: i64,
    /// `GET https://api.example.com/data`.
    pub request: String,
    /// The Origin it was sent with (none: a navigation, no-cors load or non-browser client).
    pub origin: Option<String>,
    /// The `Access-Control-Allow-Origin` its answer carried.
    pub acao: Option<String>,
}

/// A response the browser blocked or would block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The HAR file.
    pub file: String,
    /// Index in `log.entries`.
    pub entry: usize,
    /// `startedDateTime`.
    pub started: String,
    /// `GET https://api.example.com/data` (`OPTIONS …` for a preflight).
    pub request: String,
    /// The page's origin.
    pub origin: String,
    /// The verdict (reason `None` when the recording does not show why).
    pub reason: Option<Reason>,
    /// Chromium's console text for it.
    pub console: String,
    /// Whether the delivered response is in the recording (false: inferred).
    pub recorded: bool,
    /// What says a cache served it.
    pub from_cache: Option<String>,
    /// Blocked because a cache served another request's answer.
    pub cache_induced: bool,
    /// Whose answer that was.
    pub poisoned_by: Option<Poisoner>,
    /// For a blocked preflight: the recorded requests it was for, which failed without
    /// being sent (`log.entries` indices; Chrome records them with status 0).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_sent: Vec<usize>,
}

/// The whole diagnosis.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// Files read.
    pub files: Vec<String>,
    /// Entries read.
    pub entries: usize,
    /// Cross-origin requests judged.
    pub cors_requests: usize,
    /// Blocked responses, in time order.
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    /// Findings that are cache-induced.
    pub fn cache_induced(&self) -> usize {
        self.findings.iter().filter(|f| f.cache_induced).count()
    }
}

/// Diagnoses each recording on its own (entry numbers are per file).
pub fn diagnose(hars: &[Har]) -> Diagnosis {
    let mut d = Diagnosis::default();
    for h in hars {
        d.files.push(h.file.clone());
        d.entries += h.entries.len();
        one(h, &mut d);
    }
    d
}

/// A cross-origin request: the page's origin and the fetch the page made.
fn cors_fetch(h: &Har, e: &Entry, page: Option<&str>) -> Option<Fetch> {
    let hint = h
        .browser
        .as_deref()
        .filter(|b| !b.is_empty())
        .unwrap_or(&h.creator);
    let agent = match e
        .sender
        .as_ref()
        .map(|s| (s.browser.as_str(), s.mode.as_str()))
    {
        // `replay --target --har` names the client that sent it.
        Some(("none", _) | (_, "no-cors")) => return None,
        Some((b, _)) => engine(None, b)?,
        None => engine(e.request_headers.get("user-agent"), hint)?,
    };
    let sfm = e
        .request_headers
        .get("sec-fetch-mode")
        .map(str::to_ascii_lowercase);
    if matches!(sfm.as_deref(), Some("navigate" | "no-cors" | "same-origin")) {
        return None;
    }
    let own = format!("{}://{}", e.scheme, e.host);
    let origin = match e.origin() {
        Some(o) => o.to_string(),
        None if !e.has_response() => page.filter(|p| *p != own)?.to_string(),
        None => return None,
    };
    if origin == own {
        return None;
    }
    let (method, headers) = if e.is_preflight() {
        let m = e
            .request_headers
            .get("access-control-request-method")
            .unwrap_or("GET")
            .trim()
            .to_ascii_uppercase();
        let mut h = Headers::new();
        for n in e.request_headers.list("access-control-request-headers") {
            h.append(
                n,
                if n.eq_ignore_ascii_case("content-type") {
                    "application/json"
                } else {
                    "1"
                },
            );
        }
        (m, h)
    } else {
        let mut h = Headers::new();
        for (n, v) in e
            .request_headers
            .iter()
            .filter(|(n, _)| !super::import::browser_header(n))
        {
            h.append(n, v);
        }
        (e.method.clone(), h)
    };
    Some(Fetch {
        agent,
        origin,
        method,
        scheme: e.scheme.clone(),
        host: e.host.clone(),
        target: e.target.clone(),
        headers,
        mode: Mode::Cors,
        credentials: if e.cookies {
            Credentials::Include
        } else {
            Credentials::SameOrigin
        },
        cookie: None,
        private_network: false,
        redirect: Default::default(),
        chain: Default::default(),
    })
}

fn response_of(e: &Entry) -> Response {
    Response::new(e.status.clamp(0, 999) as u16, e.response_headers.clone())
}

/// The browser's verdict on a recorded answer to `f` (a preflight answer for a preflight).
fn judge(f: &Fetch, e: &Entry, preflight: bool) -> Verdict {
    let mut b = Browser::new(f.agent);
    if preflight {
        match b.on_preflight(Timestamp(e.started_ms.max(0) as u64), f, &response_of(e)) {
            Ok(_) => Verdict::ok(),
            Err(v) => v,
        }
    } else {
        b.on_response(f, &response_of(e))
    }
}

/// The response the page got when a 304 answered the browser's revalidation of its own
/// stored answer: Fetch's HTTP-network-or-cache fetch hands on the stored response with
/// the 304's fields in place of its own (RFC 9111 §4.3.4), and the CORS check is made on
/// that, so a 304 without `Access-Control-Allow-Origin` passes on the stored one's. The
/// stored answer is the latest earlier 2xx for the same URL and Origin (the browser's
/// cache is per page) whose `ETag` the request's `If-None-Match` names or whose
/// `Last-Modified` is its `If-Modified-Since`. Without one the page itself sent the
/// conditional request (Fetch then bypasses the HTTP cache) and the 304 is judged alone.
fn revalidated(e: &Entry, earlier: &[&Entry]) -> Option<Response> {
    if e.status != 304 || e.method == "OPTIONS" {
        return None;
    }
    let rq = &e.request_headers;
    let inm = rq.get_combined("if-none-match");
    let ims = rq.get("if-modified-since").map(str::trim);
    if inm.is_none() && ims.is_none() {
        return None;
    }
    let validates = |p: &Entry| {
        let etag = p.response_headers.get("etag").map(str::trim);
        let by_etag = inm.as_deref().zip(etag).is_some_and(|(l, t)| {
            let weak = |x: &str| x.trim().trim_start_matches("W/").to_string();
            l.split(',').any(|c| c.trim() == "*" || weak(c) == weak(t))
        });
        let by_date =
            ims.is_some() && p.response_headers.get("last-modified").map(str::trim) == ims;
        by_etag || by_date
    };
    let stored = earlier.iter().rev().find(|p| {
        (200..300).contains(&p.status)
            && same_slot(p, e)
            && p.origin() == e.origin()
            && validates(p)
    })?;
    let mut h = stored.response_headers.clone();
    h.retain(|n| !e.response_headers.contains(n));
    h.extend_from(&e.response_headers);
    Some(Response::new(stored.status.clamp(0, 999) as u16, h))
}

/// GET and HEAD share cache entries; OPTIONS entries stand apart (PRODUCT.md).
fn same_slot(a: &Entry, b: &Entry) -> bool {
    fn class(e: &Entry) -> &str {
        if e.method == "HEAD" {
            "GET"
        } else {
            e.method.as_str()
        }
    }
    a.url == b.url && class(a) == class(b)
}

fn one(h: &Har, d: &mut Diagnosis) {
    let pages = page_origins(h);
    let mut order: Vec<&Entry> = h.entries.iter().collect();
    order.sort_by_key(|e| (e.started_ms, e.index));
    // Only entries for the same URL can have stored what an entry got: index by URL so a
    // large recording stays linear.
    let mut by_url: std::collections::HashMap<&str, Vec<&Entry>> = std::collections::HashMap::new();
    for e in order {
        let page = pages.get(e.index).and_then(|p| p.as_deref());
        let earlier = by_url.entry(e.url.as_str()).or_default();
        if let Some(f) = cors_fetch(h, e, page) {
            d.cors_requests += 1;
            if e.has_response() {
                d.findings.extend(recorded(h, e, &f, earlier, &pages));
            } else {
                match stopped_by_preflight(h, e, &f, earlier, &pages) {
                    Some(Preflight::Blocked(at)) => {
                        // the preflight's finding is this failure: name the request on it
                        match d
                            .findings
                            .iter_mut()
                            .rev()
                            .find(|x| x.file == h.file && x.entry == at)
                        {
                            Some(pf) => pf.not_sent.push(e.index),
                            None => d.findings.extend(inferred(h, e, &f, earlier, &pages)),
                        }
                    }
                    Some(Preflight::Allowed) => {
                        let b = base(h, e, &f);
                        d.findings
                            .extend(inferred_actual(e, &f, earlier, &pages, b));
                    }
                    None => d.findings.extend(inferred(h, e, &f, earlier, &pages)),
                }
            }
        }
        earlier.push(e);
    }
}

fn request_line(e: &Entry) -> String {
    format!("{} {}", e.method, e.url)
}

fn poisoner(e: &Entry, p: &Entry, pages: &[Option<String>]) -> Poisoner {
    Poisoner {
        entry: p.index,
        started: p.started.clone(),
        before_ms: e.started_ms - p.started_ms,
        request: request_line(p),
        origin: p.origin().map(str::to_string).or_else(|| {
            // A failed request recorded without its Origin header.
            (!p.has_response())
                .then(|| pages.get(p.index).cloned().flatten())
                .flatten()
        }),
        acao: p
            .response_headers
            .get("access-control-allow-origin")
            .map(str::to_string),
    }
}

/// A blocked answer that is in the recording.
fn recorded(
    h: &Har,
    e: &Entry,
    f: &Fetch,
    earlier: &[&Entry],
    pages: &[Option<String>],
) -> Option<Finding> {
    let v = match revalidated(e, earlier) {
        Some(r) => Browser::new(f.agent).on_response(f, &r),
        None => judge(f, e, e.is_preflight()),
    };
    if v.allowed {
        return None;
    }
    let from_cache = cache_evidence(e);
    let acao = e
        .response_headers
        .get("access-control-allow-origin")
        .map(str::trim);
    let fresh = |p: &&&Entry| p.has_response() && cache_evidence(p).is_none() && same_slot(p, e);
    let date = e.response_headers.get("date");
    let by_date = earlier.iter().rev().filter(fresh).find(|p| {
        date.is_some()
            && p.response_headers.get("date") == date
            && p.response_headers
                .get("access-control-allow-origin")
                .map(str::trim)
                == acao
    });
    let by_origin = earlier.iter().rev().filter(fresh).find(|p| match acao {
        Some(a) if a != "*" => p.origin() == Some(a),
        _ => p.origin().is_none() || !p.response_headers.contains("access-control-allow-origin"),
    });
    let stored_by = from_cache.as_ref().and(by_date.or(by_origin));
    let p = stored_by.map(|p| poisoner(e, p, pages));
    let other_origin = acao.is_some_and(|a| a != "*" && a != f.origin);
    // The stored answer is one the origin would not have given this request only when it
    // was made for another caller: a request without Origin (an `<img>`, curl), another
    // Origin whose answer depends on it, or the same Origin with other credentials (an
    // answer without Access-Control-Allow-Credentials stored for a request without
    // cookies). The same caller's answer, or a `*` given to another Origin (the origin
    // answers `*` whoever asks), is what the origin answers here too: a plain
    // misconfiguration, served from a cache.
    let foreign_poisoner = stored_by.is_some_and(|pe| {
        let credentials_differ = pe.cookies != e.cookies;
        match p.as_ref().and_then(|p| p.origin.as_deref()) {
            None => true,
            Some(o) if o == f.origin => credentials_differ,
            Some(_) => acao != Some("*") || credentials_differ,
        }
    });
    Some(Finding {
        reason: Some(v.reason),
        console: v.console,
        recorded: true,
        cache_induced: from_cache.is_some() && (foreign_poisoner || other_origin),
        from_cache,
        poisoned_by: p,
        ..base(h, e, f)
    })
}

/// Whether a recorded answer could have been stored by a shared cache.
fn stored(e: &Entry) -> bool {
    let h = &e.response_headers;
    if h.get_all("cache-status").any(|v| v.contains("stored"))
        || cache_outcome(h).is_some_and(|o| o != Outcome::Pass)
    {
        return true;
    }
    let cc = h
        .list("cache-control")
        .iter()
        .map(|d| d.to_ascii_lowercase())
        .collect::<Vec<_>>();
    !cc.iter().any(|d| d == "no-store" || d == "private")
        && cc.iter().any(|d| {
            (d.starts_with("s-maxage=") || d.starts_with("max-age=")) && !d.ends_with("=0")
                || d == "public"
        })
}

/// A finding for `e` with nothing judged yet.
fn base(h: &Har, e: &Entry, f: &Fetch) -> Finding {
    Finding {
        file: h.file.clone(),
        entry: e.index,
        started: e.started.clone(),
        request: request_line(e),
        origin: f.origin.clone(),
        reason: None,
        console: String::new(),
        recorded: false,
        from_cache: None,
        cache_induced: false,
        poisoned_by: None,
        not_sent: Vec::new(),
    }
}

/// What the recorded preflight of a failed request says.
enum Preflight {
    /// It was blocked (entry index): the request was never sent, and the preflight's own
    /// finding is this failure.
    Blocked(usize),
    /// It passed: the request itself failed.
    Allowed,
}

/// The preflight recorded for `e`, a failed request that needs one: the latest earlier
/// `OPTIONS` for the same URL from the same Origin asking for `e`'s method (Chrome
/// records a preflight as an entry of its own, before the request it was for). `None`
/// when the recording has no such preflight (Playwright records none).
fn stopped_by_preflight(
    h: &Har,
    e: &Entry,
    f: &Fetch,
    earlier: &[&Entry],
    pages: &[Option<String>],
) -> Option<Preflight> {
    if !Browser::new(f.agent).needs_preflight(f) {
        return None;
    }
    let p = earlier.iter().rev().find(|p| {
        p.is_preflight()
            && p.url == e.url
            && p.origin() == Some(f.origin.as_str())
            && p.request_headers
                .get("access-control-request-method")
                .is_some_and(|m| m.trim().eq_ignore_ascii_case(&f.method))
    })?;
    if !p.has_response() {
        // nothing to judge it on: it failed too, and has its own finding if any
        return Some(Preflight::Blocked(p.index));
    }
    let pf = cors_fetch(h, p, pages.get(p.index).and_then(|x| x.as_deref()))?;
    if judge(&pf, p, true).allowed {
        Some(Preflight::Allowed)
    } else {
        Some(Preflight::Blocked(p.index))
    }
}

/// A request that failed with no response recorded: judged on what a URL-keyed cache
/// would have served, the latest earlier stored answer for the same URL.
fn inferred(
    h: &Har,
    e: &Entry,
    f: &Fetch,
    earlier: &[&Entry],
    pages: &[Option<String>],
) -> Option<Finding> {
    let base = base(h, e, f);
    let needs_preflight = Browser::new(f.agent).needs_preflight(f);
    if needs_preflight {
        // The preflight is not in the recording; an earlier preflighted request for the
        // same URL from another origin or with other headers stored the answer served.
        let prev = earlier.iter().rev().find(|p| {
            p.url == e.url && p.has_response() && stored(p) && {
                let pf = cors_fetch(h, p, pages.get(p.index).and_then(|x| x.as_deref()));
                pf.is_some_and(|pf| {
                    Browser::new(pf.agent).needs_preflight(&pf)
                        && (pf.origin != f.origin
                            || pf.headers != f.headers
                            || pf.method != f.method)
                })
            }
        })?;
        return Some(Finding {
            from_cache: Some(format!("inferred: the preflight is not recorded; entry {} (a preflighted request for the same URL) stored the preflight answer a URL-keyed cache would serve", prev.index)),
            cache_induced: true,
            poisoned_by: Some(poisoner(e, prev, pages)),
            ..base
        });
    }
    inferred_actual(e, f, earlier, pages, base)
}

/// What a failed request with no response recorded is judged on when its preflight (if it
/// needed one) is not the cause: the latest earlier stored answer for the same URL.
fn inferred_actual(
    e: &Entry,
    f: &Fetch,
    earlier: &[&Entry],
    pages: &[Option<String>],
    base: Finding,
) -> Option<Finding> {
    let prev = earlier
        .iter()
        .rev()
        .find(|p| same_slot(p, e) && p.has_response() && stored(p))?;
    let v = judge(f, prev, false);
    if v.allowed {
        return Some(base);
    }
    Some(Finding {
        reason: Some(v.reason),
        console: v.console,
        from_cache: Some(format!("inferred: no response recorded ({}); entry {} is the latest stored answer for this URL", e.failure.as_deref().unwrap_or("failed"), prev.index)),
        cache_induced: true,
        poisoned_by: Some(poisoner(e, prev, pages)),
        ..base
    })
}

/// Human-readable report.
pub fn render_text(d: &Diagnosis) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "diagnose {}: {} entries, {} cross-origin requests, {} blocked, {} cache-induced",
        d.files.join(", "),
        d.entries,
        d.cors_requests,
        d.findings.len(),
        d.cache_induced()
    );
    for f in &d.findings {
        let reason = f.reason.map_or("cause not in the recording", |r| r.id());
        let _ = writeln!(
            o,
            "\n  entry {} at {}: {} from {}: blocked ({reason}){}",
            f.entry,
            f.started,
            f.request,
            f.origin,
            if f.recorded {
                ""
            } else {
                " [no response recorded: judged on what the cache would serve]"
            }
        );
        if let Some(c) = &f.from_cache {
            let _ = writeln!(o, "    served from a cache: {c}");
        }
        match &f.poisoned_by {
            Some(p) => {
                let _ = writeln!(o, "    poisoned by entry {} at {} ({} ms earlier): {} from {}, answered with Access-Control-Allow-Origin: {}", p.entry, p.started, p.before_ms, p.request, p.origin.as_deref().unwrap_or("no Origin"), p.acao.as_deref().unwrap_or("(none)"));
            }
            None if f.cache_induced => {
                let _ = writeln!(
                    o,
                    "    the request that stored this answer is not in the recording"
                );
            }
            None => {
                let _ = writeln!(
                    o,
                    "    not from a cache: a CORS misconfiguration of the origin itself"
                );
            }
        }
        if !f.not_sent.is_empty() {
            let entries: Vec<String> = f.not_sent.iter().map(|i| i.to_string()).collect();
            let _ = writeln!(
                o,
                "    not sent because this preflight failed: entry {}",
                entries.join(", entry ")
            );
        }
        if !f.console.is_empty() {
            let _ = writeln!(o, "    console: {}", f.console);
        }
    }
    for fix in fixes(d) {
        let _ = writeln!(o, "\nfix: {fix}");
    }
    o
}

/// The fix lines the cache-induced findings call for (text and HTML reports).
pub fn fixes(d: &Diagnosis) -> Vec<&'static str> {
    let is_credentials = |f: &Finding| {
        matches!(
            f.reason,
            Some(Reason::CredentialsNotAllowed | Reason::WildcardWithCredentials)
        )
    };
    let induced = || d.findings.iter().filter(|f| f.cache_induced);
    let mut out = Vec::new();
    if induced().any(is_credentials) {
        out.push("an answer stored for a request with other credentials was served: send Access-Control-Allow-Credentials: true (and the caller's origin, not *) on every answer whatever the request's cookies, or keep credentialed answers out of the shared cache (Cache-Control: private, or Vary: Cookie)");
    }
    if induced().any(|f| !is_credentials(f)) {
        out.push("make the cache key on Origin (Vary: Origin honoured, or Origin in the cache key) or answer with Access-Control-Allow-Origin: *; `varyedge import har` + `varyedge matrix` show which edges poison this traffic");
    }
    out
}

/// The JSON report's value.
pub fn json_value(d: &Diagnosis) -> serde_json::Value {
    serde_json::json!({
        "files": d.files,
        "entries": d.entries,
        "cors_requests": d.cors_requests,
        "findings": d.findings,
        "summary": { "blocked": d.findings.len(), "cache_induced": d.cache_induced() },
    })
}

/// JSON report: one compact line (a JSON Lines record).
pub fn render_json(d: &Diagnosis) -> String {
    // One compact line, like every `--format json` report (JSON Lines).
    let mut s = serde_json::to_string(&json_value(d)).unwrap_or_default();
    s.push('\n');
    s
}

/// HTML report: one self-contained page drawn from the JSON report's value.
pub fn render_html(d: &Diagnosis) -> String {
    crate::report::html_diagnose::render(&json_value(d), &fixes(d))
}

/// GitHub Actions annotations, one per blocked response: an error for a cache-induced
/// one, a warning for the origin's own misconfiguration (the same split as the SARIF
/// levels). A HAR entry has no line of its own in the file, so the annotation names the
/// file and the entry (`log.entries[N]`) in its title.
pub fn annotations(d: &Diagnosis) -> Vec<github::Annotation> {
    d.findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let reason = f.reason.map_or("cause not in the recording", |r| r.id());
            let mut message = format!("{} from {} blocked ({reason})", f.request, f.origin);
            if let Some(p) = &f.poisoned_by {
                let _ = write!(
                    message,
                    "; served the answer stored by entry {} ({} from {}, Access-Control-Allow-Origin: {})",
                    p.entry,
                    p.request,
                    p.origin.as_deref().unwrap_or("no Origin"),
                    p.acao.as_deref().unwrap_or("(none)")
                );
            }
            if !f.console.is_empty() {
                let _ = write!(message, "\n{}", f.console);
            }
            let (level, kind) = if f.cache_induced {
                (github::Level::Error, "cache-induced CORS failure")
            } else {
                (github::Level::Warning, "CORS failure")
            };
            github::Annotation {
                level,
                rank: u8::try_from(i).unwrap_or(u8::MAX),
                file: f.file.clone(),
                line: 0,
                col: 0,
                title: format!("{kind}: log.entries[{}]", f.entry),
                message,
            }
        })
        .collect()
}

/// The summary table for `$GITHUB_STEP_SUMMARY`.
pub fn github_table(d: &Diagnosis) -> String {
    format!(
        "| files | entries | cross-origin requests | blocked | cache-induced |\n|---|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} |\n",
        d.files.join(", "),
        d.entries,
        d.cors_requests,
        d.findings.len(),
        d.cache_induced()
    )
}

/// The text report, then the annotations as workflow commands.
pub fn render_github(d: &Diagnosis) -> String {
    render_text(d) + &github::commands(annotations(d))
}

/// SARIF 2.1.0: one result per blocked response, located by JSON path.
pub fn render_sarif(d: &Diagnosis, version: &str) -> String {
    use serde_json::json;
    let results: Vec<serde_json::Value> = d
        .findings
        .iter()
        .map(|f| {
            let rule = if f.cache_induced { "cache-induced-cors-failure" } else { "cors-failure" };
            let mut text = format!("{} from {} blocked ({})", f.request, f.origin, f.reason.map_or("cause not recorded", |r| r.id()));
            if let Some(p) = &f.poisoned_by {
                text.push_str(&format!("; served the answer stored by entry {} ({} from {})", p.entry, p.request, p.origin.as_deref().unwrap_or("no Origin")));
            }
            json!({
                "ruleId": rule,
                "level": if f.cache_induced { "error" } else { "warning" },
                "message": { "text": text },
                "locations": [ {
                    "physicalLocation": { "artifactLocation": { "uri": f.file } },
                    "logicalLocations": [ { "fullyQualifiedName": format!("log.entries[{}]", f.entry), "kind": "element" } ],
                } ],
                "partialFingerprints": { "entry/v1": format!("{}:{}", f.request, f.origin) },
            })
        })
        .collect();
    let rule = |id: &str, text: &str| json!({ "id": id, "name": id, "shortDescription": { "text": text } });
    let v = json!({
        "$schema": crate::report::sarif::SCHEMA,
        "version": "2.1.0",
        "runs": [ { "tool": { "driver": { "name": "varyedge", "version": version, "informationUri": "https://crates.io/crates/varyedge",
            "rules": [ rule("cache-induced-cors-failure", "A cache served another request's CORS answer and the browser blocked it"),
                       rule("cors-failure", "The browser blocked a cross-origin response the origin itself sent") ] } },
            "results": results } ],
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_foreign_acao_names_its_poisoner() {
        let har = super::super::import::tests::sample();
        let h = super::super::read("s.har", har.as_bytes()).unwrap();
        let d = diagnose(&[h]);
        assert_eq!(d.findings.len(), 1, "{d:?}");
        let f = &d.findings[0];
        assert!(f.cache_induced && f.recorded);
        assert_eq!(f.reason, Some(Reason::OriginMismatch));
        assert_eq!(f.poisoned_by.as_ref().map(|p| p.entry), Some(0));
        assert_eq!(f.poisoned_by.as_ref().map(|p| p.before_ms), Some(5000));
        let t = render_text(&d);
        assert!(t.contains("poisoned by entry 0"), "{t}");
        let s: serde_json::Value = serde_json::from_str(&render_sarif(&d, "0")).unwrap();
        assert_eq!(
            s["runs"][0]["results"][0]["ruleId"],
            "cache-induced-cors-failure"
        );
    }

    type Fields<'a> = &'a [(&'a str, &'a str)];

    /// A HAR of `(started, method, origin, request headers, status, response headers)`
    /// entries, all for one API URL, sent by Chrome.
    fn har(entries: &[(&str, &str, &str, Fields<'_>, i32, Fields<'_>)]) -> Har {
        let h = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(n, v)| format!("{{\"name\":\"{n}\",\"value\":\"{v}\"}}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let ua = ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36");
        let list: Vec<String> = entries
            .iter()
            .map(|(t, m, origin, req, status, resp)| {
                let mut req = req.to_vec();
                req.extend([("Origin", *origin), ("Sec-Fetch-Mode", "cors"), ua]);
                format!(
                    r#"{{"startedDateTime":"{t}","time":1,"request":{{"method":"{m}","url":"https://api.example.com/v1/items/42","httpVersion":"http/2.0","headers":[{}],"cookies":[],"queryString":[]}},"response":{{"status":{status},"statusText":"","headers":[{}],"content":{{"size":0,"mimeType":"text/plain"}}}},"cache":{{}},"timings":{{"send":1,"wait":1,"receive":1}}}}"#,
                    h(&req),
                    h(resp)
                )
            })
            .collect();
        let text = format!(
            r#"{{"log":{{"version":"1.2","creator":{{"name":"WebInspector","version":"537.36"}},"entries":[{}]}}}}"#,
            list.join(",")
        );
        super::super::read("p.har", text.as_bytes()).unwrap()
    }

    const A: &str = "https://app1.example.com";
    const B: &str = "https://app2.example.com";
    const ASK: &[(&str, &str)] = &[
        ("Access-Control-Request-Method", "PUT"),
        ("Access-Control-Request-Headers", "content-type"),
    ];

    fn preflight_answer(
        acao: &'static str,
        cache: &'static str,
    ) -> Vec<(&'static str, &'static str)> {
        vec![
            ("access-control-allow-origin", acao),
            ("access-control-allow-methods", "GET, PUT"),
            ("access-control-allow-headers", "content-type"),
            ("cache-control", "public, max-age=3600"),
            ("cf-cache-status", cache),
        ]
    }

    #[test]
    fn a_request_stopped_by_its_recorded_preflight_is_named_on_the_preflight_finding() {
        let stored = preflight_answer(A, "MISS");
        let mut served = preflight_answer(A, "HIT");
        served.push(("age", "120"));
        let ct: &[(&str, &str)] = &[("Content-Type", "application/json")];
        let h = har(&[
            ("2026-02-01T08:00:00.000Z", "OPTIONS", A, ASK, 204, &stored),
            ("2026-02-01T08:02:00.000Z", "OPTIONS", B, ASK, 204, &served),
            ("2026-02-01T08:02:00.050Z", "PUT", B, ct, 0, &[]),
        ]);
        let d = diagnose(&[h]);
        // one failure: the preflight's, poisoned by entry 0; the PUT was never sent
        assert_eq!(d.findings.len(), 1, "{d:#?}");
        let f = &d.findings[0];
        assert_eq!((f.entry, f.cache_induced), (1, true));
        assert_eq!(f.poisoned_by.as_ref().map(|p| p.entry), Some(0));
        assert_eq!(f.not_sent, vec![2]);
        let t = render_text(&d);
        assert!(
            t.contains("1 blocked, 1 cache-induced")
                && t.contains("not sent because this preflight failed: entry 2"),
            "{t}"
        );
        let j: serde_json::Value = serde_json::from_str(&render_json(&d)).unwrap();
        assert_eq!(j["findings"][0]["not_sent"], serde_json::json!([2]));
    }

    #[test]
    fn a_failed_request_whose_recorded_preflight_passed_is_judged_on_its_own() {
        // the preflight passed (its own origin's answer), so the PUT's failure is judged on
        // what a URL-keyed cache would serve for the PUT: nothing stored, no finding; a
        // preflight for another method does not count as this request's
        let ok = preflight_answer(B, "MISS");
        let ct: &[(&str, &str)] = &[("Content-Type", "application/json")];
        let h = har(&[
            ("2026-02-01T08:02:00.000Z", "OPTIONS", B, ASK, 204, &ok),
            ("2026-02-01T08:02:00.050Z", "PUT", B, ct, 0, &[]),
        ]);
        let d = diagnose(&[h]);
        assert!(d.findings.is_empty(), "{d:#?}");
    }

    #[test]
    fn annotations_are_errors_for_cache_induced_failures_and_warnings_otherwise() {
        let har = super::super::import::tests::sample();
        let h = super::super::read("s.har", har.as_bytes()).unwrap();
        let mut d = diagnose(&[h]);
        let mut plain = d.findings[0].clone();
        plain.cache_induced = false;
        plain.poisoned_by = None;
        plain.entry = 7;
        d.findings.push(plain);
        let a = annotations(&d);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].level, github::Level::Error);
        assert_eq!(a[0].title, "cache-induced CORS failure: log.entries[1]");
        assert!(
            a[0].message.contains("served the answer stored by entry 0"),
            "{}",
            a[0].message
        );
        assert_eq!(a[1].level, github::Level::Warning);
        assert_eq!(a[1].title, "CORS failure: log.entries[7]");
        let out = render_github(&d);
        assert!(out.starts_with("diagnose s.har:"), "{out}");
        assert!(
            out.contains("::error file=s.har,title=cache-induced CORS failure%3A log.entries[1]::"),
            "{out}"
        );
        assert!(
            out.contains("::warning file=s.har,title=CORS failure%3A log.entries[7]::"),
            "{out}"
        );
    }
}
