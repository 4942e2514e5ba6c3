//! The simulator: replays a scenario on virtual time through the edge core, the browser
//! model and the origin model. Each step is a [`crate::flow::StepRun`] answered in
//! process; the flow attributes every cache-induced CORS failure to the step whose stored
//! response was served (PRODUCT.md "The key definition").

use crate::browser::{Browser, Fetch, Verdict};
use crate::edge::hash::{FastBuild, FastHasher};
use crate::edge::{Cache, Lookup, Outcome, StoreResult, Tag};
use crate::flow::{EdgeAnswer, Next, StepRun};
use crate::message::{Request, Response};
use crate::origin::OriginModel;
use crate::profile::Knobs;
use crate::scenario::{OriginSpec, Scenario, Step};
use crate::time::Timestamp;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

pub use crate::flow::{check, finish, fix_hint, Expectation, StepReport, Summary, Trace};

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

    /// Sends `req` through POP `pop` at `now`; `tag` marks what it stores. The answer's
    /// `elapsed_ms` is virtual: 0 from a cache, the upstream's latency when forwarded.
    pub fn exchange(
        &mut self,
        up: &mut dyn Upstream,
        req: &Request,
        pop: usize,
        now: Timestamp,
        tag: Tag,
    ) -> EdgeAnswer {
        let pop = pop.min(self.pops.len() - 1);
        let (key, lk) = self.pops[pop].lookup(req, now);
        let answer =
            |response, outcome, shield, key, served: Option<Tag>, done: Timestamp| EdgeAnswer {
                response,
                outcome,
                shield,
                key,
                stored_by: served.map(|t| t as usize),
                elapsed_ms: done.ms_since(now),
                stored: None,
            };
        match lk {
            Lookup::Hit(s) => answer(s.response, Outcome::Hit, None, s.key, Some(s.tag), now),
            Lookup::Collapsed(s) => answer(
                s.response,
                Outcome::Collapsed,
                None,
                s.key,
                Some(s.tag),
                now,
            ),
            Lookup::Stale(s) => {
                // RFC 5861: serve the stale response, refresh behind it.
                let (resp, _, _, done) = self.via_parent(up, req, now, tag);
                let stored = self.pops[pop].store(req, resp, now, done, tag);
                EdgeAnswer {
                    stored: Some(store_summary(stored)),
                    ..answer(s.response, Outcome::Stale, None, s.key, Some(s.tag), now)
                }
            }
            Lookup::Miss(_) => {
                let (resp, served, shield, done) = self.via_parent(up, req, now, tag);
                let stored =
                    self.pops[pop].store(req, resp.clone(), now, done, served.unwrap_or(tag));
                let key = match &stored {
                    StoreResult::Stored { key, .. } => key.clone(),
                    StoreResult::NotStored(_) => Arc::from(key),
                };
                EdgeAnswer {
                    stored: Some(store_summary(stored)),
                    ..answer(resp, Outcome::Miss, shield, key, served, done)
                }
            }
            Lookup::Pass(_) => {
                let resp = Arc::new(up.respond(req, now));
                let done = now.plus_ms(up.latency_ms());
                answer(resp, Outcome::Pass, None, Arc::from(key), None, done)
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
            Lookup::Hit(s) => (s.response, Some(s.tag), Some(Outcome::Hit), now),
            Lookup::Collapsed(s) => (s.response, Some(s.tag), Some(Outcome::Collapsed), now),
            Lookup::Stale(s) => {
                let (r, d) = origin(up);
                shield.store(req, r, now, d, tag);
                (s.response, Some(s.tag), Some(Outcome::Stale), now)
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

    /// Runs one step at its time.
    pub fn step(&mut self, up: &mut dyn Upstream, index: usize, st: &Step) -> StepReport {
        self.step_at(up, index, st, st.at_ms)
    }

    /// Runs `st` at `at_ms` instead of its own time (generated traces reuse steps): the
    /// step's [`StepRun`] answered on virtual time.
    pub fn step_at(
        &mut self,
        up: &mut dyn Upstream,
        index: usize,
        st: &Step,
        at_ms: u64,
    ) -> StepReport {
        let c = &self.sc.clients[st.client];
        let pop = c.pop.unwrap_or(0) as usize;
        let f = match self.scratch.take() {
            Some(mut f) => {
                self.sc.refill_fetch(st, &mut f);
                f
            }
            None => self.sc.fetch(st),
        };
        let tag = index as Tag;
        let mut run =
            StepRun::new(index, st, c, &mut self.browsers[st.client], f, at_ms).reusing_forwarded();
        let mut unremembered: Option<(bool, Request)> = None;
        loop {
            match run.poll() {
                Next::Edge { request, at } => {
                    let x = self.edge.exchange(up, request, pop, at, tag);
                    run.on_edge(x);
                }
                Next::Remembered {
                    preflight,
                    request,
                    fetch,
                } => {
                    let v = memo_get(&self.direct_memo, up, preflight, request, fetch);
                    if v.is_none() && up.is_pure() {
                        unremembered = Some((preflight, request.clone()));
                    }
                    run.remembered(v);
                }
                Next::Origin { request, at } => {
                    let resp = Arc::new(up.respond(request, at));
                    run.on_origin(resp, up.latency_ms());
                }
                Next::Done => break,
            }
        }
        let (report, f) = run.finish(self.knobs);
        if let Some((preflight, request)) = unremembered {
            memo_put(
                &mut self.direct_memo,
                preflight,
                request,
                &f,
                &report.direct,
            );
        }
        self.scratch = Some(f);
        report
    }
}

fn memo_slot(preflight: bool, request: &Request, f: &Fetch) -> u64 {
    let mut h = FastHasher::default();
    (preflight, request, f).hash(&mut h);
    h.finish()
}

/// A remembered counterfactual verdict, when the upstream is pure.
fn memo_get(
    memo: &CounterfactualMemo,
    up: &dyn Upstream,
    preflight: bool,
    request: &Request,
    f: &Fetch,
) -> Option<Verdict> {
    if !up.is_pure() {
        return None;
    }
    let slot = memo_slot(preflight, request, f);
    memo.0
        .get(&slot)?
        .iter()
        .find(|m| m.preflight == preflight && m.request == *request && m.fetch == *f)
        .map(|m| m.verdict.clone())
}

/// Remembers a counterfactual verdict (the caller checked the upstream is pure).
fn memo_put(
    memo: &mut CounterfactualMemo,
    preflight: bool,
    request: Request,
    f: &Fetch,
    verdict: &Verdict,
) {
    if memo.0.len() >= DIRECT_MEMO_MAX {
        memo.0.clear();
    }
    let slot = memo_slot(preflight, &request, f);
    memo.0.entry(slot).or_default().push(DirectMemo {
        preflight,
        request,
        fetch: f.clone(),
        verdict: verdict.clone(),
    });
}

#[cfg(test)]
mod tests;
