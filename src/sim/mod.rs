//! The simulator: replays a scenario on virtual time through the edge core, the browser
//! model and the origin model, and attributes every cache-induced CORS failure to the step
//! whose stored response was served (PRODUCT.md "The key definition").

mod fix;

use crate::browser::{Agent, Browser, Fetch, Start, Verdict};
use crate::edge::hash::{FastBuild, FastHasher};
use crate::edge::{self, Cache, Fwd, Lookup, Outcome, StoreResult, Tag};
use crate::message::{Request, Response};
use crate::origin::OriginModel;
use crate::profile::Knobs;
use crate::scenario::{Expect, OriginSpec, PreflightUse, Scenario, Step};
use crate::time::{Timestamp, SIM_EPOCH};
use serde::Serialize;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

pub use fix::fix_hint;

/// Where the edge's misses go: the origin model, or a real server (the `net` driver).
pub trait Upstream {
    /// The answer to `req` at `now`. Faults are answered as a 502/504 response.
    fn respond(&mut self, req: &Request, now: Timestamp) -> Response;
    /// How long an answer takes, in ms.
    fn latency_ms(&self) -> u64;
    /// Whether the CORS-relevant part of an answer depends only on the request (a model,
    /// not a live server), so the simulator may reuse a verdict computed for the same request.
    fn is_pure(&self) -> bool {
        false
    }
}

impl Upstream for OriginModel {
    fn respond(&mut self, req: &Request, now: Timestamp) -> Response {
        OriginModel::respond(self, req, now)
    }
    fn latency_ms(&self) -> u64 {
        self.latency_ms
    }
    fn is_pure(&self) -> bool {
        true
    }
}

/// The edge: one cache per POP and an optional shield behind them.
#[derive(Clone, Debug)]
pub struct Edge {
    pops: Vec<Cache>,
    shield: Option<Cache>,
}

/// What the edge did with one request.
#[derive(Clone, Debug)]
pub struct EdgeExchange {
    /// What the client got.
    pub response: Arc<Response>,
    /// The POP's outcome.
    pub outcome: Outcome,
    /// The shield's outcome when the POP went to it.
    pub shield: Option<Outcome>,
    /// The key that matched (or was stored / looked up).
    pub key: Arc<str>,
    /// Who stored the served response, when it came from a cache.
    pub served_tag: Option<Tag>,
    /// When the response reached the client.
    pub done_at: Timestamp,
    /// Whether this exchange stored something at the POP, or why not.
    pub stored: Option<Result<Arc<str>, &'static str>>,
}

impl Edge {
    /// A cold edge for these knobs.
    pub fn new(knobs: &Knobs) -> Edge {
        let k = Arc::new(knobs.clone());
        Edge {
            pops: (0..knobs.pops.max(1))
                .map(|_| Cache::new(k.clone()))
                .collect(),
            shield: knobs.shield.then(|| Cache::new(k.clone())),
        }
    }

    /// Sends `req` through POP `pop` at `now`; `tag` marks what it stores.
    pub fn exchange(
        &mut self,
        up: &mut dyn Upstream,
        req: &Request,
        pop: usize,
        now: Timestamp,
        tag: Tag,
    ) -> EdgeExchange {
        let pop = pop.min(self.pops.len() - 1);
        let (key, lk) = self.pops[pop].lookup(req, now);
        let from_store = |s: edge::Served, outcome: Outcome| EdgeExchange {
            response: edge::deliver(req, &s.response),
            outcome,
            shield: None,
            key: s.key,
            served_tag: Some(s.tag),
            done_at: now,
            stored: None,
        };
        match lk {
            Lookup::Hit(s) => from_store(s, Outcome::Hit),
            Lookup::Collapsed(s) => from_store(s, Outcome::Collapsed),
            Lookup::Stale(s) => {
                // RFC 5861: serve the stale response, refresh behind it.
                let (resp, _, _, done) = self.via_parent(up, req, now, tag);
                let stored = self.pops[pop].store(req, resp, now, done, tag);
                EdgeExchange {
                    stored: Some(store_summary(stored)),
                    ..from_store(s, Outcome::Stale)
                }
            }
            Lookup::Miss(fwd) => {
                if matches!(fwd, Fwd::Stale | Fwd::Request) {
                    if let Some(cand) = self.pops[pop].candidate(req, now) {
                        return self.revalidate(up, req, pop, now, tag, cand, key);
                    }
                }
                self.miss(up, req, pop, now, tag, key)
            }
            Lookup::Pass(_) => {
                let resp = Arc::new(up.respond(req, now));
                let done = now.plus_ms(up.latency_ms());
                self.invalidate_after(req, &resp);
                EdgeExchange {
                    response: resp,
                    outcome: Outcome::Pass,
                    shield: None,
                    key: Arc::from(key),
                    served_tag: None,
                    done_at: done,
                    stored: None,
                }
            }
        }
    }

    /// RFC 9111 §4.4 at every cache the answer passed through (POPs and shield).
    fn invalidate_after(&mut self, req: &Request, resp: &Response) {
        for c in self.pops.iter_mut().chain(self.shield.as_mut()) {
            c.invalidate_after(req, resp.status, &resp.headers);
        }
    }

    /// A forward that may store its answer.
    fn miss(
        &mut self,
        up: &mut dyn Upstream,
        req: &Request,
        pop: usize,
        now: Timestamp,
        tag: Tag,
        key: String,
    ) -> EdgeExchange {
        let (resp, served_tag, shield, done) = self.via_parent(up, req, now, tag);
        let stored = self.pops[pop].store(req, resp.clone(), now, done, served_tag.unwrap_or(tag));
        let key = match &stored {
            StoreResult::Stored { key, .. } => key.clone(),
            StoreResult::NotStored(_) => Arc::from(key),
        };
        EdgeExchange {
            response: resp,
            outcome: Outcome::Miss,
            shield,
            key,
            served_tag,
            done_at: done,
            stored: Some(store_summary(stored)),
        }
    }

    /// A forward with a stored candidate (stale, or refused by the request's directives):
    /// the core decides ([`edge::after_forward`]) whether a `304` freshens it, whether an
    /// error lets it be served stale, or whether the answer replaces it. The proxy does
    /// the same (`net::proxy::server::revalidate`).
    #[allow(clippy::too_many_arguments)]
    fn revalidate(
        &mut self,
        up: &mut dyn Upstream,
        req: &Request,
        pop: usize,
        now: Timestamp,
        tag: Tag,
        cand: edge::Variant,
        key: String,
    ) -> EdgeExchange {
        let knobs = self.pops[pop].knobs();
        let validates = knobs.revalidate && edge::validate::has_validator(&cand.response);
        if !validates && !knobs.stale_if_error {
            return self.miss(up, req, pop, now, tag, key);
        }
        let conditional = if validates {
            let mut r = edge::validate::conditional_request(req, &cand.response);
            r.headers.remove("range");
            r
        } else {
            req.clone()
        };
        let (resp, served_tag, shield, done) = self.via_parent(up, &conditional, now, tag);
        match edge::after_forward(self.pops[pop].knobs(), &cand, Some(&resp), done) {
            edge::Revalidated::Freshened(fresh) => {
                // stored under the original author: the fields the 304 left alone are its
                let stored = self.pops[pop].store(req, fresh.clone(), now, done, cand.tag);
                EdgeExchange {
                    response: edge::deliver(req, &fresh),
                    outcome: Outcome::Miss,
                    shield,
                    key: cand.key.clone(),
                    served_tag: Some(cand.tag),
                    done_at: done,
                    stored: Some(store_summary(stored)),
                }
            }
            edge::Revalidated::ServeStale => EdgeExchange {
                response: edge::deliver(req, &cand.response),
                outcome: Outcome::Stale,
                shield,
                key: cand.key.clone(),
                served_tag: Some(cand.tag),
                done_at: done,
                stored: None,
            },
            edge::Revalidated::Replaced if resp.status == 304 => {
                self.miss(up, req, pop, now, tag, key)
            }
            edge::Revalidated::Replaced => {
                let stored =
                    self.pops[pop].store(req, resp.clone(), now, done, served_tag.unwrap_or(tag));
                let key = match &stored {
                    StoreResult::Stored { key, .. } => key.clone(),
                    StoreResult::NotStored(_) => Arc::from(key),
                };
                EdgeExchange {
                    response: resp,
                    outcome: Outcome::Miss,
                    shield,
                    key,
                    served_tag,
                    done_at: done,
                    stored: Some(store_summary(stored)),
                }
            }
        }
    }

    /// The shield (if any) or the origin.
    fn via_parent(
        &mut self,
        up: &mut dyn Upstream,
        req: &Request,
        now: Timestamp,
        tag: Tag,
    ) -> (Arc<Response>, Option<Tag>, Option<Outcome>, Timestamp) {
        let origin =
            |up: &mut dyn Upstream| (Arc::new(up.respond(req, now)), now.plus_ms(up.latency_ms()));
        let Some(shield) = self.shield.as_mut() else {
            let (r, d) = origin(up);
            return (r, None, None, d);
        };
        match shield.lookup(req, now).1 {
            Lookup::Hit(s) => (
                edge::deliver(req, &s.response),
                Some(s.tag),
                Some(Outcome::Hit),
                now,
            ),
            Lookup::Collapsed(s) => (
                edge::deliver(req, &s.response),
                Some(s.tag),
                Some(Outcome::Collapsed),
                now,
            ),
            Lookup::Stale(s) => {
                let (r, d) = origin(up);
                shield.store(req, r, now, d, tag);
                (
                    edge::deliver(req, &s.response),
                    Some(s.tag),
                    Some(Outcome::Stale),
                    now,
                )
            }
            Lookup::Miss(_) => {
                let (r, d) = origin(up);
                shield.store(req, r.clone(), now, d, tag);
                (r, None, Some(Outcome::Miss), d)
            }
            Lookup::Pass(_) => {
                let (r, d) = origin(up);
                (r, None, Some(Outcome::Pass), d)
            }
        }
    }
}

fn store_summary(s: StoreResult) -> Result<Arc<str>, &'static str> {
    match s {
        StoreResult::Stored { key, .. } => Ok(key),
        StoreResult::NotStored(r) => Err(r.id()),
    }
}

/// Whether a step's expectations held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expectation {
    /// Every stated expectation held.
    Met,
    /// At least one did not; each string says which and what happened.
    Unmet(Vec<String>),
    /// The step states none.
    None,
}

/// One replayed step, everything a report shows.
#[derive(Clone, Debug)]
pub struct StepReport {
    /// Index in file order, from 0.
    pub index: usize,
    /// Line in the scenario file.
    pub line: u64,
    /// Virtual time in ms.
    pub at_ms: u64,
    /// Client name.
    pub client: String,
    /// Client origin (empty for `browser: none`).
    pub origin: String,
    /// Agent.
    pub agent: Agent,
    /// `GET /api/data`.
    pub request: String,
    /// Full URL.
    pub url: String,
    /// POP.
    pub pop: usize,
    /// Edge outcome of the actual request, or of the preflight when only it was sent.
    pub cache: Outcome,
    /// The shield's outcome, when there is one and it was asked.
    pub shield: Option<Outcome>,
    /// The key that matched or was looked up.
    pub key: Arc<str>,
    /// Preflight use.
    pub preflight: PreflightUse,
    /// The preflight's edge outcome when one was sent.
    pub preflight_cache: Option<Outcome>,
    /// The preflight's key when one was sent.
    pub preflight_key: Option<Arc<str>>,
    /// Status the page got (of the preflight when it failed there).
    pub status: u16,
    /// Verdict on what the edge delivered.
    pub verdict: Verdict,
    /// Verdict on what the origin answers to the same request with no cache in between.
    pub direct: Verdict,
    /// The two differ.
    pub cache_induced: bool,
    /// Allowed only because of the cache (a security finding).
    pub wrongly_allowed: bool,
    /// The step whose stored response was served, when cache-induced.
    pub poisoned_by: Option<usize>,
    /// What this step stored at its POP (`Ok(key)`) or why not (`Err(reason)`).
    pub stored: Option<Result<Arc<str>, &'static str>>,
    /// Expectation result.
    pub expectation: Expectation,
    /// A failure on a step that did not expect `blocked`.
    pub unexpected_failure: bool,
    /// How to prevent it.
    pub fix: Option<String>,
}

/// Totals over a replay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Steps.
    pub steps: usize,
    /// Blocked steps.
    pub blocked: usize,
    /// Cache-induced steps (blocked or wrongly allowed).
    pub cache_induced: usize,
    /// Allowed only because of the cache.
    pub wrongly_allowed: usize,
    /// Unmet expectations.
    pub unmet_expectations: usize,
    /// Failures on steps that did not expect them.
    pub unexpected_failures: usize,
    /// Edge hits (hit + stale + collapsed) among actual requests that reached the edge.
    pub hits: usize,
    /// Requests that reached the edge (actual requests and preflights).
    pub edge_requests: usize,
}

/// A whole replay.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Scenario name.
    pub scenario: String,
    /// Scenario file.
    pub file: String,
    /// Profile name.
    pub profile: String,
    /// Per step.
    pub steps: Vec<StepReport>,
    /// Totals.
    pub summary: Summary,
}

impl Trace {
    /// Whether the replay passes: every expectation met, no unexpected failure.
    pub fn passed(&self) -> bool {
        self.summary.unmet_expectations == 0 && self.summary.unexpected_failures == 0
    }
}

/// Error when a scenario cannot run in-process.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SimError(pub String);

/// Replays `sc` in-process with its modelled origin.
pub fn replay(sc: &Scenario) -> Result<Trace, SimError> {
    match &sc.origin {
        OriginSpec::Model(m) => Ok(replay_with(sc, &sc.edge.knobs, &mut m.clone())),
        OriginSpec::Upstream(u) => Err(SimError(format!(
            "{}: the origin is a real server ({u}); replay it over the wire with --target, or model it under `origin:`",
            sc.file
        ))),
    }
}

/// Replays `sc` with `knobs` (a profile other than the scenario's, for `matrix`) against `up`.
pub fn replay_with(sc: &Scenario, knobs: &Knobs, up: &mut dyn Upstream) -> Trace {
    let mut sim = Sim::new(sc, knobs);
    let steps: Vec<StepReport> = sc
        .steps
        .iter()
        .enumerate()
        .map(|(i, st)| sim.step(up, i, st))
        .collect();
    let profile = if *knobs == sc.edge.knobs {
        sc.edge.profile.clone()
    } else {
        describe_profile(knobs)
    };
    finish(sc, profile, steps)
}

fn describe_profile(knobs: &Knobs) -> String {
    crate::profile::builtin_profiles()
        .into_iter()
        .find(|p| p.knobs == *knobs)
        .map_or_else(|| "custom".to_string(), |p| p.name.to_string())
}

/// Builds the trace and its summary from step reports.
pub fn finish(sc: &Scenario, profile: String, steps: Vec<StepReport>) -> Trace {
    let mut s = Summary {
        steps: steps.len(),
        ..Summary::default()
    };
    for r in &steps {
        s.blocked += usize::from(!r.verdict.allowed);
        s.cache_induced += usize::from(r.cache_induced);
        s.wrongly_allowed += usize::from(r.wrongly_allowed);
        s.unmet_expectations += usize::from(matches!(r.expectation, Expectation::Unmet(_)));
        s.unexpected_failures += usize::from(r.unexpected_failure);
        // When the preflight failed the actual request never left, and `cache` repeats the
        // preflight's outcome: count it once.
        let actual_sent = !(r.preflight_cache.is_some() && r.verdict.in_preflight);
        for o in [r.preflight_cache, actual_sent.then_some(r.cache)]
            .into_iter()
            .flatten()
        {
            s.edge_requests += 1;
            s.hits += usize::from(matches!(
                o,
                Outcome::Hit | Outcome::Stale | Outcome::Collapsed
            ));
        }
    }
    Trace {
        scenario: sc.name.clone(),
        file: sc.file.clone(),
        profile,
        steps,
        summary: s,
    }
}

/// The simulator's state between steps: edge caches and one browser per client.
pub struct Sim<'a> {
    sc: &'a Scenario,
    knobs: &'a Knobs,
    edge: Edge,
    browsers: Vec<Browser>,
    /// Verdicts on the origin's own answer, per (first request sent, fetch), when the
    /// upstream is pure: hash → entries, collisions checked by equality.
    direct_memo: CounterfactualMemo,
    /// The previous step's fetch, whose buffers the next step reuses.
    scratch: Option<Fetch>,
}

/// Remembered counterfactual verdicts ("what would the origin alone have answered"),
/// reusable across [`Sim`]s that share one pure upstream (the explorer runs thousands of
/// sessions against one origin model). Never share it between different upstreams.
#[derive(Default)]
pub struct CounterfactualMemo(HashMap<u64, Vec<DirectMemo>, FastBuild>);

struct DirectMemo {
    preflight: bool,
    request: Request,
    fetch: Fetch,
    verdict: Verdict,
}

/// Bound on remembered direct verdicts (a generated trace has few distinct requests).
const DIRECT_MEMO_MAX: usize = 65_536;

impl<'a> Sim<'a> {
    /// A cold edge and fresh browsers.
    pub fn new(sc: &'a Scenario, knobs: &'a Knobs) -> Sim<'a> {
        Sim {
            sc,
            knobs,
            edge: Edge::new(knobs),
            browsers: sc.clients.iter().map(|c| Browser::new(c.agent)).collect(),
            direct_memo: CounterfactualMemo::default(),
            scratch: None,
        }
    }

    /// Like [`Sim::new`], reusing counterfactual verdicts remembered by an earlier `Sim`
    /// against the same upstream.
    pub fn with_memo(sc: &'a Scenario, knobs: &'a Knobs, memo: CounterfactualMemo) -> Sim<'a> {
        let mut s = Sim::new(sc, knobs);
        s.direct_memo = memo;
        s
    }

    /// Hands the remembered counterfactual verdicts back, for the next `Sim`.
    pub fn into_memo(self) -> CounterfactualMemo {
        self.direct_memo
    }

    /// The fetch a step describes.
    pub fn fetch(&self, st: &Step) -> Fetch {
        let c = &self.sc.clients[st.client];
        Fetch {
            agent: c.agent,
            origin: c.origin.clone(),
            method: st.method.clone(),
            scheme: st.scheme.clone(),
            host: st.host.clone(),
            target: st.target.clone(),
            headers: st.headers.clone(),
            mode: st.mode,
            credentials: st.credentials,
            cookie: Some(c.cookie.clone()),
            private_network: c.private_network,
        }
    }

    /// Writes the fetch `st` describes into `f`, reusing its buffers (the per-step path
    /// would otherwise allocate every string anew).
    fn refill_fetch(&self, st: &Step, f: &mut Fetch) {
        let c = &self.sc.clients[st.client];
        f.agent = c.agent;
        f.origin.clone_from(&c.origin);
        f.method.clone_from(&st.method);
        f.scheme.clone_from(&st.scheme);
        f.host.clone_from(&st.host);
        f.target.clone_from(&st.target);
        f.headers.clone_from(&st.headers);
        f.mode = st.mode;
        f.credentials = st.credentials;
        match &mut f.cookie {
            Some(k) => k.clone_from(&c.cookie),
            None => f.cookie = Some(c.cookie.clone()),
        }
        f.private_network = c.private_network;
    }

    /// Runs one step at its time.
    pub fn step(&mut self, up: &mut dyn Upstream, index: usize, st: &Step) -> StepReport {
        self.step_at(up, index, st, st.at_ms)
    }

    /// Runs `st` at `at_ms` instead of its own time (generated traces reuse steps).
    pub fn step_at(
        &mut self,
        up: &mut dyn Upstream,
        index: usize,
        st: &Step,
        at_ms: u64,
    ) -> StepReport {
        let now = SIM_EPOCH.plus_ms(at_ms);
        let c = &self.sc.clients[st.client];
        let pop = c.pop.unwrap_or(0) as usize;
        let f = match self.scratch.take() {
            Some(mut f) => {
                self.refill_fetch(st, &mut f);
                f
            }
            None => self.fetch(st),
        };
        let tag = index as Tag;
        let start = self.browsers[st.client].start(now, &f);

        // Through the edge.
        let mut pre: Option<EdgeExchange> = None;
        let (verdict, actual, preflight_use) = match &start {
            Start::Actual {
                request,
                preflight_cached,
            } => {
                let x = self.edge.exchange(up, request, pop, now, tag);
                let v = self.browsers[st.client].on_response(&f, &x.response);
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
                let px = self.edge.exchange(up, preq, pop, now, tag);
                let t = px.done_at;
                let r = self.browsers[st.client].on_preflight(t, &f, &px.response);
                pre = Some(px);
                match r {
                    Ok(areq) => {
                        let x = self.edge.exchange(up, &areq, pop, t, tag);
                        (
                            self.browsers[st.client].on_response(&f, &x.response),
                            Some(x),
                            PreflightUse::Sent,
                        )
                    }
                    Err(v) => (v, None, PreflightUse::Sent),
                }
            }
        };

        // No cache in between: the same request straight to the origin, from the same
        // browser state. Reuses the edge's answer where it came from the origin anyway.
        let direct = self.direct(
            up,
            &start,
            &f,
            now,
            pre.as_ref(),
            actual.as_ref(),
            st.client,
        );

        let deciding = if verdict.in_preflight {
            pre.as_ref()
        } else {
            actual.as_ref()
        };
        let differs = verdict.allowed != direct.allowed || verdict.reason != direct.reason;
        let poisoned_by = if differs {
            // the exchange whose served entry changed the outcome: the deciding one, or
            // the preflight when the actual went through but the preflight was served
            deciding
                .and_then(|x| x.served_tag)
                .or_else(|| pre.as_ref().and_then(|x| x.served_tag))
                .map(|t| t as usize)
        } else {
            None
        };
        let cache_induced = differs && poisoned_by.is_some();
        let main = actual.as_ref().or(pre.as_ref());
        let (cache, shield, key, status, stored) = match main {
            Some(x) => (
                x.outcome,
                x.shield,
                x.key.clone(),
                x.response.status,
                x.stored.clone(),
            ),
            None => (Outcome::Pass, None, Arc::from(""), 0, None),
        };
        let status = if verdict.in_preflight {
            pre.as_ref().map_or(status, |p| p.response.status)
        } else {
            status
        };
        let mut report = StepReport {
            index,
            line: st.line,
            at_ms,
            client: c.name.clone(),
            origin: c.origin.clone(),
            agent: c.agent,
            request: concat(&[&st.method, " ", &st.target]),
            url: concat(&[&st.scheme, "://", &st.host, &st.target]),
            pop,
            cache,
            shield,
            key,
            preflight: preflight_use,
            preflight_cache: pre.as_ref().map(|p| p.outcome),
            preflight_key: pre.as_ref().map(|p| p.key.clone()),
            status,
            verdict,
            direct,
            cache_induced,
            wrongly_allowed: false,
            poisoned_by,
            stored,
            expectation: Expectation::None,
            unexpected_failure: false,
            fix: None,
        };
        report.wrongly_allowed = report.cache_induced && report.verdict.allowed;
        report.unexpected_failure = !report.verdict.allowed && st.expect.cors_ok != Some(false);
        report.expectation = check(&st.expect, &report);
        report.fix = fix_hint(&report, self.knobs, deciding.map(|x| &*x.response));
        self.scratch = Some(f);
        report
    }

    #[allow(clippy::too_many_arguments)]
    fn direct(
        &mut self,
        up: &mut dyn Upstream,
        start: &Start,
        f: &Fetch,
        now: Timestamp,
        pre: Option<&EdgeExchange>,
        actual: Option<&EdgeExchange>,
        client: usize,
    ) -> Verdict {
        let from_origin = |x: &EdgeExchange| {
            matches!(x.outcome, Outcome::Miss | Outcome::Pass) && x.served_tag.is_none()
        };
        match start {
            Start::Actual { request, .. } => {
                if let Some(x) = actual.filter(|x| from_origin(x)) {
                    return self.browsers[client].on_response(f, &x.response);
                }
                if let Some(v) = self.memo_get(up, false, request, f) {
                    return v;
                }
                let resp = up.respond(request, now);
                let verdict = self.browsers[client].on_response(f, &resp);
                self.memo_put(up, false, request, f, &verdict);
                verdict
            }
            Start::Preflight(preq) => {
                // With a pure origin the whole counterfactual (preflight answer, its check,
                // the actual answer) is a function of the preflight request and the fetch:
                // `on_preflight` only adds to the preflight cache, it never reads it.
                if let Some(v) = self.memo_get(up, true, preq, f) {
                    return v;
                }
                let presp = match pre {
                    Some(x) if from_origin(x) => x.response.clone(),
                    _ => Arc::new(up.respond(preq, now)),
                };
                let t = now.plus_ms(up.latency_ms());
                // a throwaway copy: the counterfactual must not touch the real preflight cache
                let mut b = self.browsers[client].clone();
                let verdict = match b.on_preflight(t, f, &presp) {
                    Err(v) => v,
                    Ok(areq) => {
                        let resp = match actual {
                            Some(x) if from_origin(x) => x.response.clone(),
                            _ => Arc::new(up.respond(&areq, t)),
                        };
                        b.on_response(f, &resp)
                    }
                };
                self.memo_put(up, true, preq, f, &verdict);
                verdict
            }
        }
    }

    fn memo_slot(preflight: bool, request: &Request, f: &Fetch) -> u64 {
        let mut h = FastHasher::default();
        (preflight, request, f).hash(&mut h);
        h.finish()
    }

    /// A remembered counterfactual verdict, when the upstream is pure.
    fn memo_get(
        &self,
        up: &dyn Upstream,
        preflight: bool,
        request: &Request,
        f: &Fetch,
    ) -> Option<Verdict> {
        if !up.is_pure() {
            return None;
        }
        let slot = Self::memo_slot(preflight, request, f);
        self.direct_memo
            .0
            .get(&slot)?
            .iter()
            .find(|m| m.preflight == preflight && m.request == *request && m.fetch == *f)
            .map(|m| m.verdict.clone())
    }

    fn memo_put(
        &mut self,
        up: &dyn Upstream,
        preflight: bool,
        request: &Request,
        f: &Fetch,
        verdict: &Verdict,
    ) {
        if !up.is_pure() {
            return;
        }
        if self.direct_memo.0.len() >= DIRECT_MEMO_MAX {
            self.direct_memo.0.clear();
        }
        let slot = Self::memo_slot(preflight, request, f);
        self.direct_memo
            .0
            .entry(slot)
            .or_default()
            .push(DirectMemo {
                preflight,
                request: request.clone(),
                fetch: f.clone(),
                verdict: verdict.clone(),
            });
    }
}

/// Joins strings into one allocation (cheaper than `format!` on the per-step path).
fn concat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// Compares a step's outcome with its expectations.
pub fn check(e: &Expect, r: &StepReport) -> Expectation {
    if e.is_empty() {
        return Expectation::None;
    }
    let mut unmet = Vec::new();
    let word = |ok: bool| if ok { "ok" } else { "blocked" };
    if let Some(ok) = e.cors_ok {
        if ok != r.verdict.allowed {
            unmet.push(format!(
                "cors: expected {}, got {} ({})",
                word(ok),
                word(r.verdict.allowed),
                r.verdict.reason.id()
            ));
        }
    }
    if let Some(reason) = e.reason {
        if reason != r.verdict.reason {
            unmet.push(format!(
                "reason: expected {}, got {}",
                reason.id(),
                r.verdict.reason.id()
            ));
        }
    }
    if let Some(c) = e.cache {
        if c != r.cache {
            unmet.push(format!("cache: expected {}, got {}", c.id(), r.cache.id()));
        }
    }
    if let Some(ci) = e.cache_induced {
        if ci != r.cache_induced {
            unmet.push(format!(
                "cache_induced: expected {ci}, got {}",
                r.cache_induced
            ));
        }
    }
    if let Some(p) = e.preflight {
        if p != r.preflight {
            unmet.push(format!(
                "preflight: expected {}, got {}",
                p.id(),
                r.preflight.id()
            ));
        }
    }
    if let Some(p) = e.poisoned_by {
        if Some(p) != r.poisoned_by {
            unmet.push(format!(
                "poisoned_by: expected step {p}, got {}",
                r.poisoned_by
                    .map_or("none".to_string(), |x| format!("step {x}"))
            ));
        }
    }
    if let Some(s) = e.status {
        if s != r.status {
            unmet.push(format!("status: expected {s}, got {}", r.status));
        }
    }
    if unmet.is_empty() {
        Expectation::Met
    } else {
        Expectation::Unmet(unmet)
    }
}

#[cfg(test)]
mod tests;
