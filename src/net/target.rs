//! `replay --target`: a scenario's steps sent over the wire to a real cache (the staging
//! proxy, Varnish, nginx, a CDN endpoint), exactly as the emulated browsers would send
//! them, and judged with the same browser model and the same report as an in-process
//! replay.
//!
//! Per step, in file order, at the step's time (real sleeps, each gap capped by
//! [`TargetOptions::max_wait`]): one [`Browser`] per client decides what to send
//! ([`Browser::start`]); a preflight goes first when needed and is judged with
//! [`Browser::on_preflight`]; then the actual request, judged with
//! [`Browser::on_response`] — the sequence of [`crate::sim::Sim::step`]. The browser
//! keeps the scenario's virtual clock, so its CORS-preflight cache behaves as in-process;
//! the cache under test lives on real time.
//!
//! Requests keep the scenario's method, path, query and headers (`Origin`, `Cookie`, the
//! `Access-Control-Request-*` pair); only the destination changes: they go to the
//! target's address with `Host:` = the target's authority (or `--host-header`).
//!
//! **Edge outcome.** Ground truth first: when the direct URL is a `varyedge origin`, the
//! driver reads its `/.varyedge/stats` before and after each request; if any count moved,
//! the request reached the origin (as the lab's `poison.py` does). What the cache claims
//! in its response headers refines that (pass vs. miss, stale, collapsed) and is the only
//! signal otherwise; see [`claimed_outcome`] for the order. One exception: when the
//! target is `varyedge proxy` (its `Cache-Status` member is the last), its claim is taken
//! as is: it is the edge core's own decision, and the counters behind it are disturbed by
//! the proxy's background judge fetches (it asks the upstream what it would have answered
//! a hit's Origin, which may land between the two reads and look like a miss).
//!
//! **Cache-induced.** The no-cache verdict comes from sending the same requests straight
//! to the origin: `--direct URL`, else the scenario's `upstream:` URL, else the scenario's
//! origin model answering in-process (which assumes the target fronts `varyedge origin`
//! serving this very scenario). A step is cache-induced when the two verdicts differ and
//! the deciding response came from the cache. `poisoned_by` is best effort: the latest
//! earlier step whose request of the same method class (`GET`/`HEAD` vs. `OPTIONS`) on
//! the same URL was forwarded as a miss and whose answer carried the same
//! `Access-Control-Allow-*` values and `Date` as the served one (else the latest such
//! step); the real cache does not say which request stored an entry.
//!
//! Steps run one after another, so request collapsing is not exercised.

use super::client::{BaseUrl, Client, ClientError};
use super::clock;
use crate::browser::{Browser, Fetch, Start, Verdict};
use crate::edge::Outcome;
use crate::fields::Headers;
use crate::message::{Request, Response};
use crate::origin::OriginModel;
use crate::profile::Knobs;
use crate::scenario::{OriginSpec, PreflightUse, Scenario};
use crate::sim::{self, check, fix_hint, Expectation, Sim, StepReport, Trace};
use crate::time::{Timestamp, SIM_EPOCH};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How to replay against a target.
#[derive(Clone, Debug)]
pub struct TargetOptions {
    /// The cache under test, `http://HOST:PORT`.
    pub target: String,
    /// The origin behind it, asked directly (`--direct`).
    pub direct: Option<String>,
    /// `Host:` to send to the target instead of its own authority.
    pub host_header: Option<String>,
    /// The longest real sleep between two steps; longer gaps are shortened to this.
    pub max_wait: Duration,
    /// Per-exchange timeout.
    pub timeout: Duration,
}

impl TargetOptions {
    /// Defaults: no direct URL, the target's own `Host`, gaps capped at 30 s, 10 s timeout.
    pub fn new(target: &str) -> TargetOptions {
        TargetOptions {
            target: target.to_string(),
            direct: None,
            host_header: None,
            max_wait: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Why a wire replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// `--target` is not a usable URL.
    #[error("--target: {0}")]
    Target(ClientError),
    /// `--direct` (or the scenario's `upstream:`) is not a usable URL.
    #[error("direct origin: {0}")]
    Direct(ClientError),
    /// An exchange failed (refused, timed out, broken).
    #[error("{file}: step #{index} (line {line}): {source}")]
    Step {
        /// Scenario file.
        file: String,
        /// Step index.
        index: usize,
        /// Step line.
        line: u64,
        /// What failed.
        source: ClientError,
    },
}

/// A wire replay: the trace (same shape as in-process) plus notes for the user.
#[derive(Clone, Debug)]
pub struct TargetRun {
    /// The trace; its `profile` reads `target http://…`.
    pub trace: Trace,
    /// Things the user should know (compressed gaps, no stats, where the no-cache
    /// verdict came from).
    pub notes: Vec<String>,
}

/// Where the no-cache answers come from.
enum Direct {
    Url(BaseUrl),
    Model(Box<OriginModel>),
}

/// One request through the target.
#[derive(Clone, Debug)]
struct WireExchange {
    response: Arc<Response>,
    outcome: Outcome,
    key: String,
    elapsed_ms: u64,
    /// The step that stored what was served, when served from the cache and found.
    served_tag: Option<usize>,
}

impl WireExchange {
    fn served_from_cache(&self) -> bool {
        // a revalidated entry went forward but was served from the store (`served_tag`)
        self.served_tag.is_some()
            || matches!(
                self.outcome,
                Outcome::Hit | Outcome::Stale | Outcome::Collapsed
            )
    }
}

/// An earlier forwarded-and-storable exchange, for `poisoned_by`.
struct Forwarded {
    step: usize,
    options: bool,
    target: String,
    response: Arc<Response>,
}

struct Wire {
    client: Client,
    target: BaseUrl,
    host: Option<String>,
    direct: Direct,
    stats: Option<BaseUrl>,
    history: Vec<Forwarded>,
}

/// Replays `sc` against `opts.target`. Must run inside a tokio runtime.
pub async fn replay(sc: &Scenario, opts: &TargetOptions) -> Result<TargetRun, TargetError> {
    let target = BaseUrl::parse(&opts.target).map_err(TargetError::Target)?;
    let client = Client::new(opts.timeout);
    let mut notes = Vec::new();
    let direct = match (&opts.direct, &sc.origin) {
        (Some(u), _) => Direct::Url(BaseUrl::parse(u).map_err(TargetError::Direct)?),
        (None, OriginSpec::Upstream(u)) => {
            notes.push(format!(
                "{}: no-cache verdicts from the scenario's upstream {u}",
                sc.file
            ));
            Direct::Url(BaseUrl::parse(u).map_err(TargetError::Direct)?)
        }
        (None, OriginSpec::Model(m)) => {
            notes.push(format!(
                "{}: no --direct: no-cache verdicts from the scenario's origin model (assumes the target fronts `varyedge origin` for this scenario), edge outcomes from response headers only",
                sc.file
            ));
            Direct::Model(Box::new(m.clone()))
        }
    };
    let stats = match &direct {
        Direct::Url(b) => match stats_total(&client, b).await {
            Ok(Some(_)) => Some(b.clone()),
            Ok(None) => {
                notes.push(format!("{}: {b} does not serve /.varyedge/stats: edge outcomes from response headers only", sc.file));
                None
            }
            Err(e) => return Err(TargetError::Direct(e)),
        },
        Direct::Model(_) => None,
    };
    let mut w = Wire {
        client,
        target: target.clone(),
        host: opts.host_header.clone(),
        direct,
        stats,
        history: Vec::new(),
    };

    let sim = Sim::new(sc, &sc.edge.knobs);
    let mut browsers: Vec<Browser> = sc.clients.iter().map(|c| Browser::new(c.agent)).collect();
    let started = clock::instant();
    let mut skipped_ms: u64 = 0;
    let mut steps = Vec::with_capacity(sc.steps.len());
    for (index, st) in sc.steps.iter().enumerate() {
        // Real time follows the scenario's, minus the gaps shortened so far.
        let due = st.at_ms.saturating_sub(skipped_ms);
        let now_ms = started.elapsed().as_millis() as u64;
        if due > now_ms {
            let mut wait = due - now_ms;
            let cap = opts.max_wait.as_millis() as u64;
            if wait > cap {
                notes.push(format!("{}: step #{index}: waited {} ms instead of {wait} ms (--max-wait); TTLs and Age on the target did not see the full gap", sc.file, cap));
                skipped_ms += wait - cap;
                wait = cap;
            }
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        let step_err = |source| TargetError::Step {
            file: sc.file.clone(),
            index,
            line: st.line,
            source,
        };
        let f = sim.fetch(st);
        let report = w
            .step(sc, &mut browsers[st.client], index, &f)
            .await
            .map_err(step_err)?;
        steps.push(report);
    }
    let trace = sim::finish(sc, format!("target {target}"), steps);
    Ok(TargetRun { trace, notes })
}

impl Wire {
    async fn step(
        &mut self,
        sc: &Scenario,
        browser: &mut Browser,
        index: usize,
        f: &Fetch,
    ) -> Result<StepReport, ClientError> {
        let st = &sc.steps[index];
        let c = &sc.clients[st.client];
        let now = SIM_EPOCH.plus_ms(st.at_ms);
        let start = browser.start(now, f);
        let mut pre: Option<WireExchange> = None;
        let (verdict, actual, preflight_use) = match &start {
            Start::Actual {
                request,
                preflight_cached,
            } => {
                let x = self.exchange(index, request).await?;
                let v = browser.on_response(f, &x.response);
                (
                    v,
                    Some(x),
                    if *preflight_cached {
                        PreflightUse::Cached
                    } else {
                        PreflightUse::None
                    },
                )
            }
            Start::Preflight(preq) => {
                let px = self.exchange(index, preq).await?;
                let t = now.plus_ms(px.elapsed_ms);
                let r = browser.on_preflight(t, f, &px.response);
                pre = Some(px);
                match r {
                    Ok(areq) => {
                        let x = self.exchange(index, &areq).await?;
                        (
                            browser.on_response(f, &x.response),
                            Some(x),
                            PreflightUse::Sent,
                        )
                    }
                    Err(v) => (v, None, PreflightUse::Sent),
                }
            }
        };
        let direct = self.direct_verdict(browser, &start, f, now).await?;

        let deciding = if verdict.in_preflight {
            pre.as_ref()
        } else {
            actual.as_ref()
        };
        let differs = verdict.allowed != direct.allowed || verdict.reason != direct.reason;
        let from_cache = deciding
            .filter(|x| x.served_from_cache())
            .or_else(|| pre.as_ref().filter(|x| x.served_from_cache()));
        let cache_induced = differs && from_cache.is_some();
        let poisoned_by = if cache_induced {
            from_cache.and_then(|x| x.served_tag)
        } else {
            None
        };
        let main = actual.as_ref().or(pre.as_ref());
        let (cache, key, mut status) = match main {
            Some(x) => (x.outcome, x.key.clone(), x.response.status),
            None => (Outcome::Pass, String::new(), 0),
        };
        if verdict.in_preflight {
            if let Some(p) = &pre {
                status = p.response.status;
            }
        }
        let mut report = StepReport {
            index,
            line: st.line,
            at_ms: st.at_ms,
            client: c.name.clone(),
            origin: c.origin.clone(),
            agent: c.agent,
            request: format!("{} {}", st.method, st.target),
            url: self.target.url(&st.target),
            pop: c.pop.unwrap_or(0) as usize,
            cache,
            shield: None,
            key: Arc::from(key),
            preflight: preflight_use,
            preflight_cache: pre.as_ref().map(|p| p.outcome),
            preflight_key: pre.as_ref().map(|p| Arc::from(p.key.as_str())),
            status,
            verdict,
            direct,
            cache_induced,
            wrongly_allowed: false,
            poisoned_by,
            stored: None,
            expectation: Expectation::None,
            unexpected_failure: false,
            fix: None,
        };
        report.wrongly_allowed = report.cache_induced && report.verdict.allowed;
        report.unexpected_failure = !report.verdict.allowed && st.expect.cors_ok != Some(false);
        report.expectation = check(&st.expect, &report);
        // The target's knobs are unknown: hints that depend on them are left out.
        report.fix = fix_hint(&report, &Knobs::rfc9111(), deciding.map(|x| &*x.response));
        Ok(report)
    }

    /// One request through the target, with the origin's counters read around it.
    async fn exchange(&mut self, step: usize, req: &Request) -> Result<WireExchange, ClientError> {
        let before = match &self.stats {
            Some(b) => stats_total(&self.client, b).await?,
            None => None,
        };
        let t0 = clock::instant();
        let resp = self
            .client
            .send(&self.target, req, self.host.as_deref())
            .await?;
        let elapsed_ms = t0.elapsed().as_millis() as u64;
        let after = match &self.stats {
            Some(b) => stats_total(&self.client, b).await?,
            None => None,
        };
        let reached = before.zip(after).map(|(b, a)| a > b);
        let claim = claimed_outcome(&resp.headers);
        let outcome = match claim {
            // `varyedge proxy` reports the edge core's own decision; the origin's counters
            // are not ground truth behind it, as it asks the upstream in the background to
            // judge hits served to another Origin (its `judge_fetches`), which can land
            // between the two reads and turn a hit into a "miss".
            Some(c) if from_varyedge_proxy(&resp.headers) => c,
            _ => decide(claim, reached),
        };
        let key = cache_status_key(&resp.headers)
            .unwrap_or_else(|| format!("{} {}", req.method, self.target.url(&req.target)));
        let response = Arc::new(resp);
        let options = req.method == "OPTIONS";
        // a revalidated entry (a 304 merged into the stored response) is served from
        // the store too, though the request went forward
        let revalidated = response
            .headers
            .get_combined("cache-status")
            .is_some_and(|v| v.contains("fwd-status=304") && v.contains("; stored"));
        let served_tag = if revalidated
            || matches!(outcome, Outcome::Hit | Outcome::Stale | Outcome::Collapsed)
        {
            self.stored_by(options, &req.target, &response)
        } else {
            None
        };
        if outcome == Outcome::Miss {
            self.history.push(Forwarded {
                step,
                options,
                target: req.target.clone(),
                response: response.clone(),
            });
        }
        Ok(WireExchange {
            response,
            outcome,
            key,
            elapsed_ms,
            served_tag,
        })
    }

    /// Best effort: the earlier step whose forwarded answer is the one served now.
    fn stored_by(&self, options: bool, target: &str, served: &Response) -> Option<usize> {
        let same = |a: &Response, b: &Response| {
            [
                "access-control-allow-origin",
                "access-control-allow-methods",
                "access-control-allow-headers",
                "access-control-allow-credentials",
                "date",
            ]
            .iter()
            .all(|h| a.headers.get_combined(h) == b.headers.get_combined(h))
        };
        let candidates = || {
            self.history
                .iter()
                .rev()
                .filter(|h| h.options == options && h.target == target)
        };
        candidates()
            .find(|h| same(&h.response, served))
            .or_else(|| candidates().next())
            .map(|h| h.step)
    }

    /// The verdict with no cache in between, from a throwaway copy of the browser (the
    /// counterfactual must not touch the real preflight cache), as `Sim` computes it.
    async fn direct_verdict(
        &self,
        browser: &Browser,
        start: &Start,
        f: &Fetch,
        now: Timestamp,
    ) -> Result<Verdict, ClientError> {
        match start {
            Start::Actual { request, .. } => {
                let (resp, _) = self.direct_respond(request, now).await?;
                Ok(browser.on_response(f, &resp))
            }
            Start::Preflight(preq) => {
                let (presp, ms) = self.direct_respond(preq, now).await?;
                let t = now.plus_ms(ms);
                let mut b = browser.clone();
                match b.on_preflight(t, f, &presp) {
                    Err(v) => Ok(v),
                    Ok(areq) => {
                        let (resp, _) = self.direct_respond(&areq, t).await?;
                        Ok(b.on_response(f, &resp))
                    }
                }
            }
        }
    }

    async fn direct_respond(
        &self,
        req: &Request,
        now: Timestamp,
    ) -> Result<(Response, u64), ClientError> {
        match &self.direct {
            Direct::Model(m) => Ok((m.respond(req, now), m.latency_ms)),
            Direct::Url(b) => {
                let t0 = clock::instant();
                let r = self.client.send(b, req, None).await?;
                Ok((r, t0.elapsed().as_millis() as u64))
            }
        }
    }
}

/// The sum of a `varyedge origin`'s request counters, or `None` when `base` does not
/// serve `/.varyedge/stats`.
async fn stats_total(client: &Client, base: &BaseUrl) -> Result<Option<u64>, ClientError> {
    let (status, body) = client.get_text(base, "/.varyedge/stats").await?;
    if status != 200 {
        return Ok(None);
    }
    Ok(serde_json::from_str::<BTreeMap<String, u64>>(&body)
        .ok()
        .map(|m| m.values().sum()))
}

/// Ground truth and claim together: whether the request reached the origin (when known)
/// decides hit vs. forwarded; the claim refines it.
fn decide(claim: Option<Outcome>, reached: Option<bool>) -> Outcome {
    match (reached, claim) {
        (None, c) => c.unwrap_or(Outcome::Miss),
        (Some(true), Some(c @ (Outcome::Pass | Outcome::Stale))) => c,
        (Some(true), _) => Outcome::Miss,
        (Some(false), Some(c @ (Outcome::Stale | Outcome::Collapsed))) => c,
        (Some(false), _) => Outcome::Hit,
    }
}

/// What the cache says it did, from its response headers, first signal that answers:
///
/// 1. RFC 9211 `Cache-Status`, last member (the cache nearest the client): `hit` →
///    hit (stale when `ttl` < 0 or `fwd=stale`); `collapsed` with a `fwd` → collapsed;
///    `fwd=method|request|bypass` → pass; any other `fwd` (`uri-miss`, `vary-miss`,
///    `miss`, `stale`, `partial`) → miss.
/// 2. `X-Cache-Status` (nginx `$upstream_cache_status`): `HIT`; `STALE`/`UPDATING` →
///    stale; `MISS`/`EXPIRED`/`REVALIDATED` → miss; `BYPASS` → pass.
/// 3. `X-Cache` (Squid `HIT from …`, CloudFront `Hit from cloudfront`, Fastly
///    `MISS, HIT`: last member): `HIT` → hit; `MISS`, `RefreshHit` → miss; `PASS` → pass.
/// 4. Varnish `X-Varnish`: two transaction ids → hit, one → miss (a pass looks like a miss).
/// 5. Apache Traffic Server `Via` code (`[cHs f ]`, `insert_response_via_str` ≥ 1): the
///    cache-lookup letter after `c`: `H`/`R` → hit, `S` (stale, refetched), `M`, `A` →
///    miss, blank (no lookup) → pass.
/// 6. `Age` > 0 → hit.
///
/// `None` when no signal answers.
pub fn claimed_outcome(h: &Headers) -> Option<Outcome> {
    if let Some(o) = h
        .get_combined("cache-status")
        .and_then(|v| from_cache_status(&v))
    {
        return Some(o);
    }
    if let Some(v) = h.get("x-cache-status") {
        let o = match v.trim().to_ascii_uppercase().as_str() {
            "HIT" => Some(Outcome::Hit),
            "STALE" | "UPDATING" => Some(Outcome::Stale),
            "MISS" | "EXPIRED" | "REVALIDATED" => Some(Outcome::Miss),
            "BYPASS" => Some(Outcome::Pass),
            _ => None,
        };
        if o.is_some() {
            return o;
        }
    }
    if let Some(v) = h.get_combined("x-cache") {
        let last = v.rsplit(',').next().unwrap_or("").trim();
        let word = last
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let o = match word.as_str() {
            "HIT" => Some(Outcome::Hit),
            "MISS" | "REFRESHHIT" => Some(Outcome::Miss),
            "PASS" => Some(Outcome::Pass),
            _ => None,
        };
        if o.is_some() {
            return o;
        }
    }
    if let Some(v) = h.get("x-varnish") {
        let ids = v
            .split_whitespace()
            .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
            .count();
        match ids {
            2 => return Some(Outcome::Hit),
            1 => return Some(Outcome::Miss),
            _ => {}
        }
    }
    for via in h.get_all("via") {
        if let Some(o) = ats_via(via) {
            return Some(o);
        }
    }
    match h.get("age").and_then(|a| a.trim().parse::<u64>().ok()) {
        Some(a) if a > 0 => Some(Outcome::Hit),
        _ => None,
    }
}

/// The ATS Via code's cache-lookup letter (`[cMsSf ]` → `M`).
fn ats_via(via: &str) -> Option<Outcome> {
    let i = via.find("ApacheTrafficServer")?;
    let rest = &via[i..];
    let open = rest.find('[')?;
    let close = rest[open..].find(']')? + open;
    let code = &rest[open + 1..close];
    let pos = code.find('c')?;
    match code[pos + 1..].chars().next()? {
        'H' | 'R' => Some(Outcome::Hit),
        'S' | 'M' | 'A' => Some(Outcome::Miss),
        ' ' => Some(Outcome::Pass),
        _ => None,
    }
}

/// Splits on `sep` outside double-quoted strings (RFC 8941 sf-string).
fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, ch) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && ch == '\\' {
            escaped = true;
        } else if ch == '"' {
            quoted = !quoted;
        } else if ch == sep && !quoted {
            out.push(&s[start..i]);
            start = i + ch.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

/// The last `Cache-Status` member's parameters, by name.
fn cache_status_params(v: &str) -> Option<BTreeMap<String, String>> {
    let last = split_unquoted(v, ',')
        .into_iter()
        .map(str::trim)
        .rfind(|m| !m.is_empty())?;
    let mut params = BTreeMap::new();
    for p in split_unquoted(last, ';').into_iter().skip(1) {
        let p = p.trim();
        let (k, val) = p.split_once('=').unwrap_or((p, "?1"));
        params.insert(k.trim().to_ascii_lowercase(), val.trim().to_string());
    }
    Some(params)
}

fn from_cache_status(v: &str) -> Option<Outcome> {
    let p = cache_status_params(v)?;
    let truthy = |k: &str| p.get(k).is_some_and(|v| v != "?0");
    let fwd = p.get("fwd").map(|s| s.to_ascii_lowercase());
    if truthy("hit") {
        let stale = p
            .get("ttl")
            .and_then(|t| t.parse::<i64>().ok())
            .is_some_and(|t| t < 0)
            || fwd.as_deref() == Some("stale");
        return Some(if stale { Outcome::Stale } else { Outcome::Hit });
    }
    let fwd = fwd?;
    if truthy("collapsed") {
        return Some(Outcome::Collapsed);
    }
    Some(match fwd.as_str() {
        "method" | "request" | "bypass" => Outcome::Pass,
        _ => Outcome::Miss,
    })
}

/// Whether the last `Cache-Status` member (the cache nearest the client) is
/// `varyedge proxy`'s own.
fn from_varyedge_proxy(h: &Headers) -> bool {
    h.get_combined("cache-status").is_some_and(|v| {
        split_unquoted(&v, ',')
            .into_iter()
            .map(str::trim)
            .rfind(|m| !m.is_empty())
            .and_then(|m| split_unquoted(m, ';').into_iter().next())
            .is_some_and(|name| name.trim() == PROXY_CACHE_NAME)
    })
}

/// The cache name `varyedge proxy` writes in its `Cache-Status` members.
const PROXY_CACHE_NAME: &str = "varyedge";

/// The `key` parameter of the last `Cache-Status` member, unquoted.
fn cache_status_key(h: &Headers) -> Option<String> {
    let v = h.get_combined("cache-status")?;
    let k = cache_status_params(&v)?.remove("key")?;
    let k = k
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .unwrap_or(&k);
    Some(k.replace("\\\"", "\"").replace("\\\\", "\\"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(pairs: &[(&str, &str)]) -> Option<Outcome> {
        claimed_outcome(&Headers::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn cache_status_rfc9211() {
        assert_eq!(
            claim(&[("cache-status", "ExampleCache; hit; ttl=376")]),
            Some(Outcome::Hit)
        );
        assert_eq!(
            claim(&[("cache-status", "ExampleCache; hit; ttl=-3")]),
            Some(Outcome::Stale)
        );
        assert_eq!(
            claim(&[("cache-status", "ExampleCache; fwd=uri-miss; collapsed")]),
            Some(Outcome::Collapsed)
        );
        assert_eq!(
            claim(&[("cache-status", "ExampleCache; fwd=uri-miss; collapsed=?0")]),
            Some(Outcome::Miss)
        );
        assert_eq!(
            claim(&[(
                "cache-status",
                "varyedge; fwd=vary-miss; stored; key=\"GET a,b\""
            )]),
            Some(Outcome::Miss)
        );
        assert_eq!(
            claim(&[("cache-status", "varyedge; fwd=method")]),
            Some(Outcome::Pass)
        );
        // the last member is the cache nearest the client
        assert_eq!(
            claim(&[("cache-status", "Origin; fwd=miss, Edge; hit")]),
            Some(Outcome::Hit)
        );
        assert_eq!(
            claim(&[("cache-status", "Edge; hit, Edge2; fwd=bypass")]),
            Some(Outcome::Pass)
        );
        let h = Headers::from_pairs([("cache-status", "e; fwd=miss; key=\"GET x, \\\"y\\\"\"")]);
        assert_eq!(cache_status_key(&h).as_deref(), Some("GET x, \"y\""));
    }

    #[test]
    fn vendor_headers() {
        assert_eq!(claim(&[("x-cache-status", "HIT")]), Some(Outcome::Hit));
        assert_eq!(claim(&[("x-cache-status", "EXPIRED")]), Some(Outcome::Miss));
        assert_eq!(claim(&[("x-cache-status", "BYPASS")]), Some(Outcome::Pass));
        assert_eq!(
            claim(&[("x-cache-status", "")]),
            None,
            "nginx leaves it empty for OPTIONS"
        );
        assert_eq!(
            claim(&[("x-cache", "HIT from lab-squid")]),
            Some(Outcome::Hit)
        );
        assert_eq!(
            claim(&[("x-cache", "MISS from lab-squid")]),
            Some(Outcome::Miss)
        );
        assert_eq!(
            claim(&[("x-cache", "RefreshHit from cloudfront")]),
            Some(Outcome::Miss)
        );
        assert_eq!(claim(&[("x-cache", "MISS, HIT")]), Some(Outcome::Hit));
        assert_eq!(claim(&[("x-varnish", "32770 3")]), Some(Outcome::Hit));
        assert_eq!(claim(&[("x-varnish", "32770")]), Some(Outcome::Miss));
        let via = |code: &str| format!("http/1.1 localhost (ApacheTrafficServer/9.2.5 [{code}])");
        assert_eq!(claim(&[("via", &via("cHs f "))]), Some(Outcome::Hit));
        assert_eq!(claim(&[("via", &via("cRs f "))]), Some(Outcome::Hit));
        assert_eq!(claim(&[("via", &via("cMsSf "))]), Some(Outcome::Miss));
        assert_eq!(claim(&[("via", &via("c s f "))]), Some(Outcome::Pass));
        assert_eq!(claim(&[("via", "1.1 varnish (Varnish/7.1)")]), None);
        assert_eq!(claim(&[("age", "3")]), Some(Outcome::Hit));
        assert_eq!(claim(&[("age", "0")]), None);
        assert_eq!(claim(&[]), None);
    }

    #[test]
    fn varyedge_proxy_is_recognised_by_its_last_member() {
        let h = |v: &str| Headers::from_pairs([("cache-status", v)]);
        assert!(from_varyedge_proxy(&h(
            "varyedge; hit; ttl=3; key=\"GET a, b\""
        )));
        assert!(from_varyedge_proxy(&h(
            "Origin; fwd=miss, varyedge; fwd=method"
        )));
        assert!(!from_varyedge_proxy(&h(
            "varyedge; hit, Edge; fwd=uri-miss"
        )));
        assert!(!from_varyedge_proxy(&h("lab-squid;hit")));
        assert!(!from_varyedge_proxy(&Headers::new()));
    }

    #[test]
    fn ground_truth_wins() {
        assert_eq!(decide(Some(Outcome::Hit), Some(true)), Outcome::Miss);
        assert_eq!(decide(Some(Outcome::Pass), Some(true)), Outcome::Pass);
        assert_eq!(decide(None, Some(true)), Outcome::Miss);
        assert_eq!(decide(Some(Outcome::Miss), Some(false)), Outcome::Hit);
        assert_eq!(decide(None, Some(false)), Outcome::Hit);
        assert_eq!(
            decide(Some(Outcome::Collapsed), Some(false)),
            Outcome::Collapsed
        );
        assert_eq!(decide(None, None), Outcome::Miss);
        assert_eq!(decide(Some(Outcome::Hit), None), Outcome::Hit);
    }
}
