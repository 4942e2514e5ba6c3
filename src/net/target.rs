//! `replay --target`: a scenario's steps sent over the wire to a real cache (the staging
//! proxy, Varnish, nginx, a CDN endpoint), exactly as the emulated browsers would send
//! them, and judged with the same browser model and the same report as an in-process
//! replay.
//!
//! Per step, in file order, at the step's time (real sleeps, each gap capped by
//! [`TargetOptions::max_wait`]): one [`Browser`] per client decides what to send
//! ([`Browser::start`]); a preflight goes first when needed and is judged with
//! [`Browser::on_preflight`]; then the actual request, judged with
//! [`Browser::on_response`] — the one sequence of [`crate::flow::StepRun`], as in-process. The browser
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
//! signal otherwise; see [`claimed_outcome`] for the order. A response the cache
//! delivered from a stored entry although the origin was reached (Varnish's grace, a
//! stale entry served in place of the origin's 5xx: Squid's `Warning: 111`, ATS's
//! `[cSsSfU]` repeating an earlier answer's `varyedge-origin-serial`) counts as served
//! stale (`decide`). One exception: when the
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
use super::origin_server::SERIAL;
use crate::browser::run::Instance;
use crate::edge::{CacheStatus, Outcome};
use crate::fields::Headers;
use crate::flow::{self, EdgeAnswer, Next, StepReport, StepRun, Trace};
use crate::message::{Request, Response};
use crate::origin::OriginModel;
use crate::profile::Knobs;
use crate::scenario::{OriginSpec, Scenario};
use crate::time::Timestamp;
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
    /// A real pause before every step after the first (default none). A cache may still
    /// be completing the entry it just served when the next request arrives: Squid then
    /// forwards that request instead of serving the entry (seen in two CI runs of the
    /// fidelity corpus against real Squid, one step of 80 each time).
    pub pause: Duration,
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
            pause: Duration::ZERO,
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
    /// Every request sent to the target and what came back, in order (for `--har`;
    /// the direct origin's answers and its counters are not part of it).
    pub exchanges: Vec<crate::har::write::Exchange>,
}

/// Where the no-cache answers come from.
enum Direct {
    Url(BaseUrl),
    Model(Box<OriginModel>),
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
    /// The hosts the scenario's steps name: requests to them go to the target. A
    /// redirect to any other host goes straight to that host (`http` only).
    hosts: Vec<String>,
    /// What went over the wire to the target, and who the current step's client is.
    recorded: Vec<crate::har::write::Exchange>,
    sender: Option<crate::har::Sender>,
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
        hosts: sc.steps.iter().map(|s| s.host.clone()).collect(),
        recorded: Vec::new(),
        sender: None,
    };

    let (mut browsers, user_of) = crate::flow::browsers_of(sc);
    let started = clock::instant();
    let mut skipped_ms: u64 = 0;
    let mut steps = Vec::with_capacity(sc.steps.len());
    for (index, st) in sc.steps.iter().enumerate() {
        if index > 0 && !opts.pause.is_zero() {
            tokio::time::sleep(opts.pause).await;
        }
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
        let report = w
            .step(sc, &mut browsers[user_of[st.client]], index)
            .await
            .map_err(step_err)?;
        steps.push(report);
    }
    let trace = flow::finish(sc, format!("target {target}"), steps);
    Ok(TargetRun {
        trace,
        notes,
        exchanges: w.recorded,
    })
}

impl Wire {
    /// The step's [`StepRun`] answered with real exchanges: through the target, and
    /// straight to the direct origin for the no-cache verdict.
    async fn step(
        &mut self,
        sc: &Scenario,
        browser: &mut Instance,
        index: usize,
    ) -> Result<StepReport, ClientError> {
        let st = &sc.steps[index];
        let url = self.target.url(&st.target);
        let c = &sc.clients[st.client];
        self.sender = Some(crate::har::Sender {
            page: c.origin.clone(),
            browser: crate::scenario::write::agent_id(c.agent).to_string(),
            mode: crate::scenario::write::mode_id(st.mode).to_string(),
        });
        let mut run = StepRun::new(
            index,
            st,
            &sc.clients[st.client],
            browser,
            sc.fetch(st),
            st.at_ms,
        )
        .with_url(url);
        loop {
            match run.poll() {
                Next::Edge { request, .. } => {
                    let x = self.exchange(index, request).await?;
                    run.on_edge(x);
                }
                Next::Remembered { .. } => run.remembered(None),
                Next::Origin { request, at } => {
                    let (resp, ms) = self.direct_respond(request, at).await?;
                    run.on_origin(Arc::new(resp), ms);
                }
                Next::Done => break,
            }
        }
        // The target's knobs are unknown: hints that depend on them are left out.
        Ok(run.finish(&Knobs::rfc9111()).0)
    }

    /// One request through the target, with the origin's counters read around it.
    async fn exchange(&mut self, step: usize, req: &Request) -> Result<EdgeAnswer, ClientError> {
        let before = match &self.stats {
            Some(b) => stats_total(&self.client, b).await?,
            None => None,
        };
        let t0 = clock::instant();
        let sent_at = clock::now();
        let resp = if self.hosts.contains(&req.host) {
            self.client
                .send(&self.target, req, self.host.as_deref())
                .await?
        } else {
            let other = BaseUrl::parse(&format!("{}://{}", req.scheme, req.host))?;
            self.client.send(&other, req, None).await?
        };
        let elapsed_ms = t0.elapsed().as_millis() as u64;
        self.record(
            step,
            req,
            &resp,
            sent_at,
            t0.elapsed().as_secs_f64() * 1000.0,
        );
        let after = match &self.stats {
            Some(b) => stats_total(&self.client, b).await?,
            None => None,
        };
        let reached = before.zip(after).map(|(b, a)| a > b);
        let claim = claimed_outcome(&resp.headers);
        let options = req.method == "OPTIONS";
        let from_object = delivered_from_object(&resp.headers)
            || (ats_stale_updated(&resp.headers)
                && repeats_stored(&self.history, options, &req.target, &resp.headers));
        let outcome = match claim {
            // `varyedge proxy` reports the edge core's own decision; the origin's counters
            // are not ground truth behind it, as it asks the upstream in the background to
            // judge hits served to another Origin (its `judge_fetches`), which can land
            // between the two reads and turn a hit into a "miss".
            Some(c) if from_varyedge_proxy(&resp.headers) => c,
            _ => decide(claim, reached, from_object),
        };
        let key = cache_status_key(&resp.headers)
            .unwrap_or_else(|| format!("{} {}", req.method, self.target.url(&req.target)));
        let response = Arc::new(resp);
        // a revalidated entry (a 304 merged into the stored response) is served from
        // the store too, though the request went forward
        let revalidated = last_cache_status(&response.headers)
            .is_some_and(|cs| cs.is_ours() && cs.fwd_status == Some(304) && cs.stored);
        let stored_by = if revalidated || outcome.from_cache() {
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
        Ok(EdgeAnswer {
            response,
            outcome,
            shield: None,
            key: Arc::from(key),
            stored_by,
            elapsed_ms,
            stored: None,
        })
    }

    /// Keeps what went over the wire for `--har`: the request as sent (with the `Host`
    /// the client put on it) and the response as received.
    fn record(
        &mut self,
        step: usize,
        req: &Request,
        resp: &Response,
        sent_at: crate::time::Timestamp,
        ms: f64,
    ) {
        let mut request_headers = req.headers.clone();
        if !request_headers.contains("host") {
            let host = self
                .host
                .clone()
                .unwrap_or_else(|| self.target.authority.clone());
            request_headers.insert("host", &host);
        }
        self.recorded.push(crate::har::write::Exchange {
            started_ms: sent_at.0 as i64,
            time_ms: ms,
            method: req.method.clone(),
            url: self.target.url(&req.target),
            request_headers,
            status: resp.status,
            response_headers: resp.headers.clone(),
            body_size: resp.body.len(),
            failure: None,
            comment: Some(format!("step {step}")),
            sender: self.sender.clone(),
        });
    }

    /// Best effort: the earlier step whose forwarded answer is the one served now.
    fn stored_by(&self, options: bool, target: &str, served: &Response) -> Option<usize> {
        let same_cors = |a: &Response, b: &Response| {
            CORS_FIELDS
                .iter()
                .all(|h| a.headers.get_combined(h) == b.headers.get_combined(h))
        };
        let same = |a: &Response, b: &Response| {
            same_cors(a, b) && a.headers.get_combined("date") == b.headers.get_combined("date")
        };
        let candidates = || {
            self.history
                .iter()
                .rev()
                .filter(|h| h.options == options && h.target == target)
        };
        // a cache that sends its own `Date` (nginx does not pass the upstream's) matches
        // on the CORS fields alone once a second has passed since the entry was stored
        candidates()
            .find(|h| same(&h.response, served))
            .or_else(|| candidates().find(|h| same_cors(&h.response, served)))
            .or_else(|| candidates().next())
            .map(|h| h.step)
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

/// Whether `served` repeats the `varyedge-origin-serial` of an answer forwarded earlier
/// (`history`) for the same URL and method class: `varyedge origin` numbers every
/// answer, so a repeated number is a stored copy, not this request's answer (a 304
/// merged into a stored response brings the 304's own number).
fn repeats_stored(history: &[Forwarded], options: bool, target: &str, served: &Headers) -> bool {
    let Some(n) = served.get(SERIAL).map(str::trim) else {
        return false;
    };
    history.iter().any(|h| {
        h.options == options
            && h.target == target
            && h.response.headers.get(SERIAL).map(str::trim) == Some(n)
    })
}

/// The CORS fields that tell one origin answer from another in [`Wire::stored_by`].
const CORS_FIELDS: [&str; 4] = [
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-allow-credentials",
];

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
/// decides hit vs. forwarded; the claim refines it. A response the cache delivered from
/// a stored object (`from_object`) while the origin was reached was served stale: with
/// a refresh behind it (Varnish's grace), or in place of the origin's error (Squid's
/// `TCP_REFRESH_FAIL_OLD`, ATS's negative revalidating), whatever the claim (ATS says
/// `S`, stale and refetched, either way).
fn decide(claim: Option<Outcome>, reached: Option<bool>, from_object: bool) -> Outcome {
    match (reached, claim) {
        (None, c) => c.unwrap_or(Outcome::Miss),
        (Some(true), Some(c @ (Outcome::Pass | Outcome::Stale))) => c,
        (Some(true), _) if from_object => Outcome::Stale,
        (Some(true), _) => Outcome::Miss,
        (Some(false), Some(c @ (Outcome::Stale | Outcome::Collapsed))) => c,
        (Some(false), _) => Outcome::Hit,
    }
}

/// Whether the response says it was delivered from a stored object whatever happened
/// upstream meanwhile:
///
/// - Varnish names two transaction ids in `X-Varnish` only when it delivers an object
///   it holds (`req->is_hit`, a grace hit included, whose background fetch may reach the
///   origin before the counters are read); one id is a miss or a pass.
/// - `Warning: 111` ("Revalidation failed", RFC 7234 §5.5.2: a cache generates it when
///   it serves a stale response because validating it failed). Squid 5.7 adds it, after
///   `110` ("Response is stale"), on `TCP_REFRESH_FAIL_OLD`: the refresh got a 5xx and
///   the stale entry was delivered. Its `X-Cache: HIT` alone does not tell that from a
///   304 revalidation (`TCP_REFRESH_UNMODIFIED`, also a hit to `LogTags::isTcpHit`),
///   which carries no `Warning`.
///
/// ATS's equivalent (negative revalidating) is told by [`ats_stale_updated`] together
/// with the origin's serial ([`repeats_stored`]).
fn delivered_from_object(h: &Headers) -> bool {
    varnish_ids(h) == Some(2) || warn_codes(h).any(|c| c == 111)
}

/// The warn-codes of `Warning` (RFC 7234 §5.5: `warn-code SP warn-agent SP warn-text
/// [SP warn-date]`, comma-separated; a comma inside the quoted text does not count).
fn warn_codes(h: &Headers) -> impl Iterator<Item = u16> + '_ {
    h.get_all("warning").flat_map(|line| {
        let mut members = Vec::new();
        let (mut start, mut quoted, mut escaped) = (0, false, false);
        for (i, b) in line.bytes().enumerate() {
            match b {
                _ if escaped => escaped = false,
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                b',' if !quoted => {
                    members.push(&line[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        members.push(&line[start..]);
        members
            .into_iter()
            .filter_map(|m| m.split_whitespace().next()?.parse::<u16>().ok())
    })
}

/// Whether ATS's Via code says a stale entry was refetched, the server answered and the
/// entry was updated (`[cSsSfU]`). That is both a stale entry replaced by the server's
/// new answer and negative revalidating: a 500/502/503/504 answered with the stale
/// object, stored again with `Expires` = now + `negative_revalidating_lifetime`
/// (ATS 9.2 HttpTransact.cc `handle_cache_operation_on_forward_server_response`, which
/// sets the same `VIA_CACHE_UPDATED` as a replace). A 304 revalidation says `sN`.
fn ats_stale_updated(h: &Headers) -> bool {
    h.get_all("via").any(|via| {
        ats_via_code(via).is_some_and(|code| {
            ats_letter(code, 'c') == Some('S')
                && ats_letter(code, 's') == Some('S')
                && ats_letter(code, 'f') == Some('U')
        })
    })
}

/// How many transaction ids Varnish's `X-Varnish` names (none without the field).
fn varnish_ids(h: &Headers) -> Option<usize> {
    h.get("x-varnish").map(|v| {
        v.split_whitespace()
            .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
            .count()
    })
}

/// What the cache says it did, from its response headers, first signal that answers:
///
/// 1. RFC 9211 `Cache-Status`, last member (the cache nearest the client), read by
///    [`CacheStatus::outcome`]: `hit` →
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
    if let Some(o) = last_cache_status(h).and_then(|c| c.outcome()) {
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
    match varnish_ids(h) {
        Some(2) => return Some(Outcome::Hit),
        Some(1) => return Some(Outcome::Miss),
        _ => {}
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

/// The code between the brackets of an ATS `Via` entry (`cMsSf `).
fn ats_via_code(via: &str) -> Option<&str> {
    let i = via.find("ApacheTrafficServer")?;
    let rest = &via[i..];
    let open = rest.find('[')?;
    let close = rest[open..].find(']')? + open;
    Some(&rest[open + 1..close])
}

/// The letter after `tag` in an ATS Via code (`c` cache lookup, `s` server, `f` cache
/// fill: `cMsSf ` → `M`, `S`, ` `).
fn ats_letter(code: &str, tag: char) -> Option<char> {
    let pos = code.find(tag)?;
    code[pos + tag.len_utf8()..].chars().next()
}

/// The ATS Via code's cache-lookup letter (`[cMsSf ]` → `M`).
fn ats_via(via: &str) -> Option<Outcome> {
    let code = ats_via_code(via)?;
    match ats_letter(code, 'c')? {
        'H' | 'R' => Some(Outcome::Hit),
        'S' | 'M' | 'A' => Some(Outcome::Miss),
        ' ' => Some(Outcome::Pass),
        _ => None,
    }
}

/// The last `Cache-Status` member (the cache nearest the client), when there is one.
fn last_cache_status(h: &Headers) -> Option<CacheStatus<'static>> {
    CacheStatus::parse_last(&h.get_combined(CacheStatus::FIELD)?)
}

/// Whether the last `Cache-Status` member (the cache nearest the client) is
/// `varyedge proxy`'s own.
fn from_varyedge_proxy(h: &Headers) -> bool {
    last_cache_status(h).is_some_and(|c| c.is_ours())
}

/// The `key` parameter of the last `Cache-Status` member, unquoted.
fn cache_status_key(h: &Headers) -> Option<String> {
    last_cache_status(h)?.key.map(|k| k.into_owned())
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
        assert_eq!(decide(Some(Outcome::Hit), Some(true), false), Outcome::Miss);
        assert_eq!(
            decide(Some(Outcome::Pass), Some(true), false),
            Outcome::Pass
        );
        assert_eq!(decide(None, Some(true), false), Outcome::Miss);
        assert_eq!(
            decide(Some(Outcome::Miss), Some(false), false),
            Outcome::Hit
        );
        assert_eq!(decide(None, Some(false), false), Outcome::Hit);
        assert_eq!(
            decide(Some(Outcome::Collapsed), Some(false), false),
            Outcome::Collapsed
        );
        assert_eq!(decide(None, None, false), Outcome::Miss);
        assert_eq!(decide(Some(Outcome::Hit), None, false), Outcome::Hit);
        // a grace hit: the object was delivered, its background fetch reached the origin
        assert_eq!(decide(Some(Outcome::Hit), Some(true), true), Outcome::Stale);
        assert_eq!(decide(Some(Outcome::Hit), Some(false), true), Outcome::Hit);
    }

    #[test]
    fn two_varnish_ids_mean_a_stored_object() {
        let mut h = Headers::new();
        h.append("x-varnish", "32770 3");
        assert!(delivered_from_object(&h));
        let mut one = Headers::new();
        one.append("x-varnish", "32770");
        assert!(!delivered_from_object(&one));
        assert!(!delivered_from_object(&Headers::new()));
    }

    /// Squid 5.7 on `TCP_REFRESH_FAIL_OLD` (a refresh answered 500, the stale entry
    /// delivered; fidelity corpus z54) vs. `TCP_REFRESH_UNMODIFIED` (a 304), both
    /// `X-Cache: HIT` with the origin reached.
    #[test]
    fn squid_revalidation_failed_is_a_stored_object() {
        let fail_old = Headers::from_pairs([
            ("age", "4"),
            ("warning", "110 squid/5.7 \"Response is stale\""),
            ("warning", "111 squid/5.7 \"Revalidation failed\""),
            ("x-cache", "HIT from lab-squid"),
        ]);
        assert!(delivered_from_object(&fail_old));
        assert_eq!(
            decide(claimed_outcome(&fail_old), Some(true), true),
            Outcome::Stale
        );
        let unmodified = Headers::from_pairs([("age", "0"), ("x-cache", "HIT from lab-squid")]);
        assert!(!delivered_from_object(&unmodified));
        assert_eq!(
            decide(claimed_outcome(&unmodified), Some(true), false),
            Outcome::Miss
        );
        // served stale without a failed validation: not this signal
        let stale = Headers::from_pairs([("warning", "110 squid/5.7 \"Response is stale\"")]);
        assert!(!delivered_from_object(&stale));
        // one line, comma-separated, a comma inside the quoted text
        let one_line = Headers::from_pairs([(
            "warning",
            "110 - \"stale, \\\"old\\\", 111\", 111 - \"Revalidation failed\" \"Sat, 01 Jan 2000 00:00:00 GMT\"",
        )]);
        assert_eq!(warn_codes(&one_line).collect::<Vec<_>>(), [110, 111]);
        let quoted_only = Headers::from_pairs([("warning", "199 - \"x, 111 y\"")]);
        assert_eq!(warn_codes(&quoted_only).collect::<Vec<_>>(), [199]);
    }

    /// ATS 9.2: `cSsSfU` is a stale entry refetched and updated, by the server's new
    /// answer or by negative revalidating (fidelity corpus z54); a 304 is `cSsNfU`.
    #[test]
    fn ats_stale_updated_code() {
        let via = |code: &str| {
            Headers::from_pairs([(
                "via",
                format!("http/1.1 traffic_server (ApacheTrafficServer/9.2.9 [{code}])").as_str(),
            )])
        };
        assert!(ats_stale_updated(&via("cSsSfU")));
        assert!(!ats_stale_updated(&via("cSsNfU")), "a 304 revalidation");
        assert!(
            !ats_stale_updated(&via("cSsSfD")),
            "the 500 passed, entry deleted"
        );
        assert!(!ats_stale_updated(&via("cMsSfW")));
        assert!(!ats_stale_updated(&via("cHs f ")));
        assert!(!ats_stale_updated(&Headers::from_pairs([(
            "via",
            "1.1 lab-squid (squid/5.7)"
        )])));
        // the claim stays "stale, refetched" (a miss); delivered from the stored object
        // (the origin's serial repeated) it is served stale whatever the claim
        assert_eq!(claimed_outcome(&via("cSsSfU")), Some(Outcome::Miss));
        assert_eq!(
            decide(Some(Outcome::Miss), Some(true), true),
            Outcome::Stale
        );
        assert_eq!(
            decide(Some(Outcome::Miss), Some(true), false),
            Outcome::Miss
        );
        assert_eq!(decide(Some(Outcome::Pass), Some(true), true), Outcome::Pass);
    }

    #[test]
    fn a_repeated_origin_serial_is_a_stored_copy() {
        let forwarded = |step, options, target: &str, serial| Forwarded {
            step,
            options,
            target: target.to_string(),
            response: Arc::new(Response::new(200, Headers::from_pairs([(SERIAL, serial)]))),
        };
        let history = [
            forwarded(0, false, "/soe/1", "1"),
            forwarded(1, false, "/sie/1", "3"),
            forwarded(2, true, "/opt/1", "5"),
        ];
        let served = |serial| Headers::from_pairs([(SERIAL, serial)]);
        assert!(repeats_stored(&history, false, "/soe/1", &served("1")));
        assert!(repeats_stored(&history, false, "/soe/1", &served(" 1 ")));
        // the origin's new answer (a replace, or a 304 merged into the entry)
        assert!(!repeats_stored(&history, false, "/soe/1", &served("13")));
        // another URL's or method class's number
        assert!(!repeats_stored(&history, false, "/soe/1", &served("3")));
        assert!(!repeats_stored(&history, false, "/opt/1", &served("5")));
        assert!(repeats_stored(&history, true, "/opt/1", &served("5")));
        // no serial (not `varyedge origin`)
        assert!(!repeats_stored(&history, false, "/soe/1", &Headers::new()));
    }
}
