//! The simulator: replays a scenario on virtual time through the edge core, the browser
//! model and the origin model. Each step is a [`crate::flow::StepRun`] answered in
//! process; the flow attributes every cache-induced CORS failure to the step whose stored
//! response was served (PRODUCT.md "The key definition").

use crate::browser::run::Instance;
use crate::browser::{Chain, Fetch, Verdict};
use crate::edge::hash::{FastBuild, FastHasher};
use crate::edge::{self, Cache, Completion, Decision, Outcome, StoreResult, Tag};
use crate::fields::{head_word, tail_word};
use crate::flow::{browsers_of, Attributed, EdgeAnswer, Next, ReportText, Sent, StepRun};
use crate::message::{Request, Response};
use crate::origin::OriginModel;
use crate::profile::Knobs;
use crate::scenario::{OriginSpec, Scenario, Step};
use crate::time::Timestamp;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

pub use crate::flow::{check, finish, fix_hint, Expectation, StepReport, Summary, Trace};

pub mod jobs;

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
    /// [`Upstream::respond`] to `req` at `now`, given `earlier`, this upstream's answer
    /// to the same request at `then` (what the edge remembers of the origin requests it
    /// sends again and again). By default the request is answered afresh.
    fn respond_again(
        &mut self,
        req: &Request,
        now: Timestamp,
        earlier: &Arc<Response>,
        then: Timestamp,
    ) -> Arc<Response> {
        let _ = (earlier, then);
        Arc::new(self.respond(req, now))
    }
}

impl Upstream for OriginModel {
    fn respond(&mut self, req: &Request, now: Timestamp) -> Response {
        OriginModel::respond(self, req, now)
    }
    fn latency_ms(&self) -> u64 {
        self.latency_ms
    }
    /// Error windows make the answer depend on the time as well: a counterfactual verdict
    /// remembered inside a window must not stand for the same request after it.
    fn is_pure(&self) -> bool {
        !self.answers_change_with_time()
    }
    fn respond_again(
        &mut self,
        req: &Request,
        now: Timestamp,
        earlier: &Arc<Response>,
        then: Timestamp,
    ) -> Arc<Response> {
        OriginModel::respond_again(self, req, now, earlier, then)
    }
}

/// The edge: one cache per POP and an optional shield behind them.
#[derive(Clone, Debug)]
pub struct Edge {
    pops: Vec<Cache>,
    shield: Option<Cache>,
    /// What the origin receives for a request (the knobs' forwarding, worked out once).
    fwd: Arc<edge::forward::OriginFields>,
    /// Origin requests built with `fwd`, handed out again for the same request.
    sent: edge::forward::SentMemo,
    /// The upstream's last answer to each entry of `sent` (by slot), with the entry's
    /// id and when it was asked: [`Upstream::respond_again`] derives the next one.
    answers: Answers,
}

/// The upstream's last answers to the origin requests the edge sends again and again.
#[derive(Clone, Default)]
struct Answers {
    /// By the request's slot in the edge's [`edge::forward::SentMemo`], with the
    /// entry's id (a replaced entry's slot holds another request's answer).
    by_entry: Vec<Option<(u64, LastAnswer)>>,
    /// A transparent edge sends the viewer's request itself: the browser model's shared
    /// one, known by its address (held here, so the address stays its own).
    by_request: Vec<(Arc<Request>, LastAnswer)>,
    /// The `by_request` answer the next new one replaces once full.
    next: usize,
}

/// Shared requests whose last answers [`Answers`] keeps.
const ANSWERED_REQUESTS: usize = 16;

/// Without its answers: they only spare work, so a state that holds some reads the same
/// whatever they are.
impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Answers")
    }
}

/// What [`Answers`] keeps of one origin request: when it was asked and what came back.
#[derive(Clone)]
struct LastAnswer {
    at: Timestamp,
    response: Arc<Response>,
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
            fwd: Arc::new(origin_fields(knobs)),
            sent: Default::default(),
            answers: Answers::default(),
        }
    }

    /// Sends `req` through POP `pop` at `now`; `tag` marks what it stores. The answer's
    /// `elapsed_ms` is virtual: 0 from a cache, the upstream's latency when forwarded.
    /// The edge core decides everything ([`edge::decide`]): this drives its decision on
    /// virtual time and hands what the viewer gets through [`edge::decide::to_viewer`]
    /// (the edge's own CORS, after the cache), as the proxy does.
    pub fn exchange(
        &mut self,
        up: &mut dyn Upstream,
        req: &Request,
        pop: usize,
        now: Timestamp,
        tag: Tag,
    ) -> EdgeAnswer {
        self.exchange_with(up, req, None, pop, now, tag)
    }

    /// [`Edge::exchange`] of a shared request: the origin request built for it before
    /// is found by its address (the browser model hands out the same `Arc` for the same
    /// request).
    pub fn exchange_shared(
        &mut self,
        up: &mut dyn Upstream,
        req: &Arc<Request>,
        pop: usize,
        now: Timestamp,
        tag: Tag,
    ) -> EdgeAnswer {
        self.exchange_with(up, req, Some(req), pop, now, tag)
    }

    /// [`Edge::exchange`]; `shared`, when given, is `req` itself.
    fn exchange_with(
        &mut self,
        up: &mut dyn Upstream,
        req: &Request,
        shared: Option<&Arc<Request>>,
        pop: usize,
        now: Timestamp,
        tag: Tag,
    ) -> EdgeAnswer {
        let pop = pop.min(self.pops.len() - 1);
        let mut x = match self.pops[pop].decide(req, now) {
            Decision::Serve(s) => self.serve(up, req, shared, pop, now, tag, s),
            Decision::Forward(plan) => self.forward(up, req, shared, pop, now, tag, plan),
            Decision::OnlyIfCached { key } => EdgeAnswer {
                stored: Some(Err("only-if-cached")),
                ..answer(
                    Arc::new(edge::decide::gateway_timeout()),
                    Outcome::Pass,
                    None,
                    Arc::from(key),
                    None,
                    now,
                    now,
                )
            },
        };
        x.response = edge::decide::to_viewer(self.pops[0].knobs(), req, x.response);
        x
    }

    /// A stored response (`hit`, `stale` or `collapsed`), as the core's [`edge::deliver`]
    /// answers `req` from it; a stale one's refresh (RFC 5861) runs behind it.
    #[allow(clippy::too_many_arguments)]
    fn serve(
        &mut self,
        up: &mut dyn Upstream,
        req: &Request,
        shared: Option<&Arc<Request>>,
        pop: usize,
        now: Timestamp,
        tag: Tag,
        s: edge::Serve,
    ) -> EdgeAnswer {
        let stored = s.refresh.map(|_| {
            let (resp, _, _, done) = self.via_parent(up, req, shared, now, tag);
            store_summary(self.pops[pop].store(req, resp, now, done, tag))
        });
        let out = edge::deliver(req, &s.served.response);
        EdgeAnswer {
            stored,
            ..answer(
                out,
                s.outcome,
                None,
                s.served.key,
                Some(s.served.tag),
                now,
                now,
            )
        }
    }

    /// RFC 9111 §4.4 at every cache the answer passed through (POPs and shield).
    fn invalidate_after(&mut self, req: &Request, resp: &Response) {
        for c in self.pops.iter_mut().chain(self.shield.as_mut()) {
            c.invalidate_after(req, resp.status, &resp.headers);
        }
    }

    /// A forward as `plan` says: a pass, or a request (conditional when it revalidates a
    /// candidate) whose answer the core's [`edge::ForwardPlan::complete`] judges.
    #[allow(clippy::too_many_arguments)]
    fn forward(
        &mut self,
        up: &mut dyn Upstream,
        req: &Request,
        shared: Option<&Arc<Request>>,
        pop: usize,
        now: Timestamp,
        tag: Tag,
        plan: edge::ForwardPlan,
    ) -> EdgeAnswer {
        if plan.pass {
            let resp = ask_origin(
                up,
                (&self.fwd, &mut self.sent, &mut self.answers),
                req,
                shared,
                now,
            );
            let done = now.plus_ms(up.latency_ms());
            self.invalidate_after(req, &resp);
            let key = Arc::from(plan.key);
            return EdgeAnswer {
                // a pass carries its reason everywhere (`not_stored` in the JSON)
                stored: edge::pass_detail(self.pops[pop].knobs(), req).map(Err),
                ..answer(resp, Outcome::Pass, None, key, None, now, done)
            };
        }
        // The profile's forwarding rule filters the viewer's fields; the validators are
        // the edge's own and reach the origin whatever it forwards (a CloudFront edge that
        // keys no conditional field still revalidates an expired object with them).
        let own_validators = plan.validators().is_some() && !self.fwd.is_transparent();
        let sent = if own_validators {
            Cow::Owned(plan.request(&self.fwd.request(req)).into_owned())
        } else {
            plan.request(req)
        };
        // a conditional request is a new one: only `req` as it is is the shared one
        let sent_shared = shared.filter(|_| matches!(sent, Cow::Borrowed(_)));
        let (resp, served, shield, done) =
            self.via_parent_as(up, &sent, sent_shared, now, tag, own_validators);
        let at = Fetched { now, done, shield };
        match plan.complete(self.pops[pop].knobs(), Some(&resp), done) {
            Completion::Relay | Completion::Failed => {
                self.store_answer(req, pop, tag, plan.key, resp, served, at)
            }
            Completion::Refetch => {
                let (resp, served, shield, done) = self.via_parent(up, req, shared, now, tag);
                let at = Fetched { now, done, shield };
                self.store_answer(req, pop, tag, plan.key, resp, served, at)
            }
            Completion::Freshened(fresh) => {
                // stored under the original author: the fields the 304 left alone are its;
                // but a 304 that brought the CORS fields a verdict reads replaced them
                // (RFC 9111 §4.3.4), so later hits deliver this step's answer
                let cors_from_304 = resp.headers.contains("access-control-allow-origin");
                let (key, by) = match &plan.candidate {
                    Some(c) if !cors_from_304 => (c.key.clone(), c.tag),
                    Some(c) => (c.key.clone(), tag),
                    None => (Arc::from(plan.key.as_str()), tag),
                };
                let stored = self.pops[pop].store(req, fresh.clone(), now, done, by);
                let out = edge::deliver(req, &fresh);
                EdgeAnswer {
                    stored: Some(store_summary(stored)),
                    ..answer(out, Outcome::Miss, shield, key, Some(by), now, done)
                }
            }
            Completion::ServeStale { served: s, .. } => {
                let out = edge::deliver(req, &s.response);
                answer(out, Outcome::Stale, shield, s.key, Some(s.tag), now, done)
            }
        }
    }

    /// A forwarded answer offered for storage at this POP.
    #[allow(clippy::too_many_arguments)]
    fn store_answer(
        &mut self,
        req: &Request,
        pop: usize,
        tag: Tag,
        key: String,
        resp: Arc<Response>,
        served: Option<Tag>,
        at: Fetched,
    ) -> EdgeAnswer {
        // `key` is `req`'s primary key (the plan's): the store does not build it again
        let stored = self.pops[pop].store_under(
            &key,
            req,
            resp.clone(),
            at.now,
            at.done,
            served.unwrap_or(tag),
        );
        let key = match &stored {
            StoreResult::Stored { key, .. } => key.clone(),
            StoreResult::NotStored(_) => Arc::from(key),
        };
        EdgeAnswer {
            stored: Some(store_summary(stored)),
            ..answer(resp, Outcome::Miss, at.shield, key, served, at.now, at.done)
        }
    }

    /// The shield (if any) or the origin.
    fn via_parent(
        &mut self,
        up: &mut dyn Upstream,
        req: &Request,
        shared: Option<&Arc<Request>>,
        now: Timestamp,
        tag: Tag,
    ) -> (Arc<Response>, Option<Tag>, Option<Outcome>, Timestamp) {
        self.via_parent_as(up, req, shared, now, tag, false)
    }

    /// [`Edge::via_parent`]; `filtered`: `req` is already the origin request (the
    /// forwarding rule applied, the edge's validators added after it), sent as it is.
    fn via_parent_as(
        &mut self,
        up: &mut dyn Upstream,
        req: &Request,
        shared: Option<&Arc<Request>>,
        now: Timestamp,
        tag: Tag,
        filtered: bool,
    ) -> (Arc<Response>, Option<Tag>, Option<Outcome>, Timestamp) {
        // built only when the origin is asked (a shield hit never is)
        let (fwd, memo, answers) = (&self.fwd, &mut self.sent, &mut self.answers);
        let mut origin = |up: &mut dyn Upstream| {
            let resp = if filtered {
                Arc::new(up.respond(req, now))
            } else {
                ask_origin(up, (fwd, &mut *memo, &mut *answers), req, shared, now)
            };
            (resp, now.plus_ms(up.latency_ms()))
        };
        let Some(shield) = self.shield.as_mut() else {
            let (r, d) = origin(up);
            return (r, None, None, d);
        };
        match shield.decide(req, now) {
            Decision::Serve(s) => {
                if s.refresh.is_some() {
                    let (r, d) = origin(up);
                    shield.store(req, r, now, d, tag);
                }
                (
                    edge::deliver(req, &s.served.response),
                    Some(s.served.tag),
                    Some(s.outcome),
                    now,
                )
            }
            Decision::Forward(p) if p.pass => {
                let (r, d) = origin(up);
                (r, None, Some(Outcome::Pass), d)
            }
            // the shield forwards what reaches it plainly (the POP revalidates)
            Decision::Forward(_) | Decision::OnlyIfCached { .. } => {
                let (r, d) = origin(up);
                shield.store(req, r.clone(), now, d, tag);
                (r, None, Some(Outcome::Miss), d)
            }
        }
    }
}

/// What the origin receives under knobs `k`: the fields the profile forwards
/// (`edge::forward`).
fn origin_fields(k: &Knobs) -> edge::forward::OriginFields {
    edge::forward::OriginFields::new(&k.forward, &k.key_headers)
}

/// The upstream's answer to what the origin receives for `req` (`shared`, when given,
/// is `req` itself): that request from `memo` when built before, and the answer derived
/// from the last one to the same request when `answers` holds it.
fn ask_origin(
    up: &mut dyn Upstream,
    (fwd, memo, answers): (
        &edge::forward::OriginFields,
        &mut edge::forward::SentMemo,
        &mut Answers,
    ),
    req: &Request,
    shared: Option<&Arc<Request>>,
    now: Timestamp,
) -> Arc<Response> {
    let (sent, entry) = match shared {
        Some(r) => fwd.request_in_shared_entry(r, memo),
        None => fwd.request_in_entry(req, memo),
    };
    let again = |up: &mut dyn Upstream, last: Option<&LastAnswer>| match last {
        Some(l) => up.respond_again(sent, now, &l.response, l.at),
        None => Arc::new(up.respond(sent, now)),
    };
    let answered = |resp: &Arc<Response>| LastAnswer {
        at: now,
        response: resp.clone(),
    };
    if let Some(entry) = entry {
        if answers.by_entry.len() <= entry.slot {
            answers.by_entry.resize(entry.slot + 1, None);
        }
        let last = &mut answers.by_entry[entry.slot];
        let resp = again(up, last.as_ref().filter(|l| l.0 == entry.id).map(|l| &l.1));
        *last = Some((entry.id, answered(&resp)));
        return resp;
    }
    // a transparent edge sends `req` itself: known by its address when shared
    let Some(r) = shared else {
        return Arc::new(up.respond(sent, now));
    };
    let known = answers
        .by_request
        .iter()
        .position(|(k, _)| Arc::ptr_eq(k, r));
    let resp = again(up, known.map(|i| &answers.by_request[i].1));
    let kept = (r.clone(), answered(&resp));
    match known {
        Some(i) => answers.by_request[i] = kept,
        None if answers.by_request.len() < ANSWERED_REQUESTS => answers.by_request.push(kept),
        None => {
            answers.by_request[answers.next] = kept;
            answers.next = (answers.next + 1) % ANSWERED_REQUESTS;
        }
    }
    resp
}

/// When a forward was sent and came back, and what the shield did with it.
#[derive(Clone, Copy)]
struct Fetched {
    now: Timestamp,
    done: Timestamp,
    shield: Option<Outcome>,
}

/// One edge answer; `served` names the step whose stored response was served.
fn answer(
    response: Arc<Response>,
    outcome: Outcome,
    shield: Option<Outcome>,
    key: Arc<str>,
    served: Option<Tag>,
    now: Timestamp,
    done: Timestamp,
) -> EdgeAnswer {
    EdgeAnswer {
        response,
        outcome,
        shield,
        key,
        stored_by: served.map(|t| t as usize),
        elapsed_ms: done.ms_since(now),
        stored: None,
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

/// Whether `sc`'s steps on a cold edge with `knobs` have a cache-induced failure — what
/// `replay_with(sc, knobs, up).summary.cache_induced > 0` says — found with each step run
/// only to its attribution ([`Sim::step_attribution`]) and stopping at the first such
/// step (`lint` asks this of every profile).
pub fn any_cache_induced(sc: &Scenario, knobs: &Knobs, up: &mut dyn Upstream) -> bool {
    let mut sim = Sim::new(sc, knobs);
    sc.steps
        .iter()
        .enumerate()
        .any(|(i, st)| sim.step_attribution(up, i, st, st.at_ms).cache_induced)
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
    /// One browser per `user:` (by default one per client).
    browsers: Vec<Instance>,
    /// Client index → index into `browsers`.
    user_of: Vec<usize>,
    /// Verdicts on the origin's own answer, per (first request sent, fetch), when the
    /// upstream is pure: hash → entries, collisions checked by equality.
    direct_memo: CounterfactualMemo,
    /// The previous step's fetch, whose buffers the next step reuses.
    scratch: Option<Fetch>,
    /// The previous step's browser-run copy of its fetch, reused the same way.
    spare: Option<Fetch>,
    /// The reports' shared text.
    text: ReportText,
    /// The previous step's list of exchanges, emptied, whose buffer the next step reuses.
    sent: Vec<Sent>,
    /// Whether a forwarded answer stands for the origin's own: the edge forwards the
    /// fields the origin model answers from (computed once from the knobs).
    reuse_forwarded: bool,
}

/// Remembered counterfactual verdicts ("what would the origin alone have answered"),
/// reusable across [`Sim`]s that share one pure upstream (the explorer runs thousands of
/// sessions against one origin model). Never share it between different upstreams.
#[derive(Default)]
pub struct CounterfactualMemo {
    by_slot: HashMap<u64, Vec<DirectMemo>, FastBuild>,
}

struct DirectMemo {
    preflight: bool,
    /// Shared with the browser that built it: the same request met again is found by
    /// its address before its fields are compared.
    request: Arc<Request>,
    fetch: Fetch,
    verdict: Verdict,
}

/// Bound on remembered direct verdicts (a generated trace has few distinct requests).
const DIRECT_MEMO_MAX: usize = 65_536;

/// Bound on the verdicts kept under one slot: requests for the same fetch that differ
/// only in fields the slot does not hash (a cookie of the same length, another client's
/// header overrides) share it, and each is compared in turn.
const DIRECT_MEMO_PER_SLOT: usize = 8;

impl<'a> Sim<'a> {
    /// A cold edge and fresh browsers.
    pub fn new(sc: &'a Scenario, knobs: &'a Knobs) -> Sim<'a> {
        let (browsers, user_of) = browsers_of(sc);
        Sim {
            sc,
            knobs,
            edge: Edge::new(knobs),
            browsers,
            user_of,
            direct_memo: CounterfactualMemo::default(),
            scratch: None,
            spare: None,
            text: ReportText::default(),
            sent: Vec::new(),
            reuse_forwarded: reuse_forwarded(knobs),
        }
    }

    /// Like [`Sim::new`], reusing counterfactual verdicts remembered by an earlier `Sim`
    /// against the same upstream.
    pub fn with_memo(sc: &'a Scenario, knobs: &'a Knobs, memo: CounterfactualMemo) -> Sim<'a> {
        let mut s = Sim::new(sc, knobs);
        s.direct_memo = memo;
        s
    }

    /// Stored variants and their bytes over every POP and the shield, now.
    pub fn stored(&self) -> (usize, usize) {
        self.edge
            .pops
            .iter()
            .chain(self.edge.shield.iter())
            .fold((0, 0), |(v, b), c| (v + c.len().1, b + c.byte_size()))
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
        self.run_step(
            up,
            index,
            st,
            at_ms,
            |run, knobs, text| run.report(knobs, text),
            |r| &r.direct,
        )
    }

    /// [`Sim::step_at`] without the report's text, hops, expectation and fix hint: what
    /// the step's attribution says ([`StepRun::finish_attribution`]). The state it leaves
    /// (caches, browsers, remembered verdicts) is the same.
    pub fn step_attribution(
        &mut self,
        up: &mut dyn Upstream,
        index: usize,
        st: &Step,
        at_ms: u64,
    ) -> Attributed {
        self.run_step(
            up,
            index,
            st,
            at_ms,
            |run, _, _| run.attribution(),
            |a| &a.direct,
        )
    }

    /// Runs one step's [`StepRun`] to the end, then `finish` turns it into `R`, whose
    /// no-cache verdict `direct` gives (remembered for the next steps).
    fn run_step<R>(
        &mut self,
        up: &mut dyn Upstream,
        index: usize,
        st: &Step,
        at_ms: u64,
        finish: impl FnOnce(&mut StepRun<'_>, &Knobs, &mut ReportText) -> R,
        direct: impl Fn(&R) -> &Verdict,
    ) -> R {
        let c = &self.sc.clients[st.client];
        let pop = c.pop.unwrap_or(0) as usize;
        // filled by the step when it needs its own copy (most do not)
        let f = match self.scratch.take() {
            Some(f) => f,
            None => self.sc.fetch(st),
        };
        let tag = index as Tag;
        let mut run = StepRun::from_step(
            index,
            st,
            c,
            &mut self.browsers[self.user_of[st.client]],
            f,
            at_ms,
            self.spare.take(),
        );
        if self.reuse_forwarded {
            run.reuse_forwarded();
        }
        run.reuse_sent(std::mem::take(&mut self.sent));
        let mut unremembered: Option<(bool, Arc<Request>, u64)> = None;
        loop {
            match run.poll() {
                Next::Edge { request, at } => {
                    let x = match run.pending_request() {
                        Some(shared) => self.edge.exchange_shared(up, shared, pop, at, tag),
                        None => self.edge.exchange(up, request, pop, at, tag),
                    };
                    run.on_edge(x);
                }
                Next::Remembered {
                    preflight,
                    request,
                    fetch,
                } => {
                    // Hashed once: the slot a miss is remembered under is the same.
                    let slot = up.is_pure().then(|| memo_slot(preflight, request, fetch));
                    let v = slot
                        .and_then(|h| memo_get(&self.direct_memo, h, preflight, request, fetch));
                    if let (None, Some(h)) = (&v, slot) {
                        unremembered = Some((preflight, request.clone(), h));
                    }
                    run.remembered(v);
                }
                Next::Origin { request, at } => {
                    // the origin's answer as a viewer gets it without a cache: with the
                    // edge's own CORS fields (`edge_cors` is configuration, not caching)
                    let resp = Arc::new(up.respond(request, at));
                    let resp = edge::decide::to_viewer(self.knobs, request, resp);
                    run.on_origin(resp, up.latency_ms());
                }
                Next::Done => break,
            }
        }
        // A counterfactual that followed a redirect is not determined by its first request.
        if run.direct_redirected() {
            unremembered = None;
        }
        self.spare = run.take_spare();
        // finished in place: the step is not moved into `finish` and its fetch out again
        let report = finish(&mut run, self.knobs, &mut self.text);
        if let Some((preflight, request, slot)) = unremembered {
            memo_put(
                &mut self.direct_memo,
                slot,
                preflight,
                request,
                run.fetch(),
                direct(&report),
            );
        }
        // emptied here, so the step's requests and answers go now, as before
        self.sent = run.take_sent();
        self.sent.clear();
        self.scratch = Some(run.take_fetch());
        report
    }
}

/// A [`Sim`]'s state taken apart, for a driver that runs many short sessions of one
/// scenario's clients against one pure upstream (the explorer): [`SimParts::reset`]
/// returns it to the freshly built state without building it again, and
/// [`Sim::from_parts`] runs the next session on it.
pub struct SimParts {
    knobs: Arc<Knobs>,
    edge: Edge,
    browsers: Vec<Instance>,
    user_of: Vec<usize>,
    /// The browsers as [`browsers_of`] built them.
    fresh: Vec<Instance>,
    direct_memo: CounterfactualMemo,
    scratch: Option<Fetch>,
    /// The browser run's fetch buffers ([`Sim`]'s `spare`), kept too.
    spare: Option<Fetch>,
    /// The reports' shared text (the same clients and URLs session after session).
    text: ReportText,
    /// [`reuse_forwarded`] of the knobs, worked out once (it asks the forwarding about
    /// three fields, ~870 instructions, more than a short session's other set-up).
    reuse_forwarded: bool,
}

impl Edge {
    /// A cold edge whose caches share `k`, forwarding as `fwd` (built for `k`), with
    /// the origin requests `sent` remembers (built with `fwd`).
    fn with_shared(
        k: &Arc<Knobs>,
        fwd: Arc<edge::forward::OriginFields>,
        sent: edge::forward::SentMemo,
        answers: Answers,
    ) -> Edge {
        Edge {
            pops: (0..k.pops.max(1)).map(|_| Cache::new(k.clone())).collect(),
            shield: k.shield.then(|| Cache::new(k.clone())),
            fwd,
            sent,
            answers,
        }
    }
}

impl SimParts {
    /// What [`Sim::new`] builds for `sc` and `knobs`.
    pub fn new(sc: &Scenario, knobs: &Knobs) -> SimParts {
        SimParts::for_hosts(sc, knobs, None)
    }

    /// [`SimParts::new`] whose browsers hold each client's cookie for every host in
    /// `hosts` (when given) rather than for the hosts of `sc`'s own steps.
    pub fn for_hosts(sc: &Scenario, knobs: &Knobs, hosts: Option<&[&str]>) -> SimParts {
        let (browsers, user_of) = crate::flow::browsers_for(sc, hosts);
        let knobs = Arc::new(knobs.clone());
        let reuse = reuse_forwarded(&knobs);
        SimParts {
            edge: Edge::with_shared(
                &knobs,
                Arc::new(origin_fields(&knobs)),
                Default::default(),
                Answers::default(),
            ),
            knobs,
            fresh: browsers.clone(),
            browsers,
            user_of,
            direct_memo: CounterfactualMemo::default(),
            scratch: None,
            spare: None,
            text: ReportText::default(),
            reuse_forwarded: reuse,
        }
    }

    /// Back to the state [`SimParts::new`] built: cold caches and the browsers as first
    /// built. The remembered counterfactual verdicts (valid for the same pure upstream)
    /// and the fetch buffers are kept.
    pub fn reset(&mut self) {
        // the forwarding and the origin requests it built stay valid for the same knobs,
        // and the upstream's answers to them for the same pure upstream
        let sent = std::mem::take(&mut self.edge.sent);
        let answers = std::mem::take(&mut self.edge.answers);
        self.edge = Edge::with_shared(&self.knobs, self.edge.fwd.clone(), sent, answers);
        self.browsers.clone_from(&self.fresh);
    }

    /// The state as text, without the remembered verdicts and buffers (for tests: a
    /// reset state reads the same as a freshly built one).
    pub fn describe(&self) -> String {
        format!("{:?}\n{:?}\n{:?}", self.edge, self.browsers, self.user_of)
    }
}

impl<'a> Sim<'a> {
    /// A `Sim` for `sc` on `parts`, which must have been built ([`SimParts::new`]) for a
    /// scenario with the same clients (their POPs aside), no steps and these `knobs`.
    pub fn from_parts(sc: &'a Scenario, knobs: &'a Knobs, parts: SimParts) -> (Sim<'a>, Kept) {
        let SimParts {
            knobs: shared,
            edge,
            browsers,
            user_of,
            fresh,
            direct_memo,
            scratch,
            spare,
            text,
            reuse_forwarded,
        } = parts;
        debug_assert_eq!(reuse_forwarded, self::reuse_forwarded(knobs));
        let sim = Sim {
            sc,
            knobs,
            edge,
            browsers,
            user_of,
            direct_memo,
            scratch,
            spare,
            text,
            sent: Vec::new(),
            reuse_forwarded,
        };
        (sim, Kept { shared, fresh })
    }

    /// Takes the `Sim` apart again, with what [`Sim::from_parts`] kept aside.
    pub fn into_parts(self, kept: Kept) -> SimParts {
        SimParts {
            knobs: kept.shared,
            edge: self.edge,
            browsers: self.browsers,
            user_of: self.user_of,
            fresh: kept.fresh,
            direct_memo: self.direct_memo,
            scratch: self.scratch,
            spare: self.spare,
            text: self.text,
            reuse_forwarded: self.reuse_forwarded,
        }
    }
}

/// What [`Sim::from_parts`] keeps aside while the `Sim` runs.
pub struct Kept {
    shared: Arc<Knobs>,
    fresh: Vec<Instance>,
}

/// Whether a forwarded answer stands for the origin's own: the origin model answers from
/// the method, the path, `Origin` and the `Access-Control-Request-*` fields, so it does
/// unless the edge drops one of those (edge::forward; CloudFront without an origin
/// request policy drops `Origin`).
fn reuse_forwarded(knobs: &Knobs) -> bool {
    !crate::edge::forward::drops_cors_fields(&knobs.forward, &knobs.key_headers, true)
}

/// The slot of a counterfactual verdict: a hash of the fetch and of the request's
/// shape, which [`memo_get`] then compares in full. The first request is built from the
/// fetch (its method, URL, author headers, `Origin`) and the browser's state, so
/// hashing the fetch spreads the slots as well as the request's whole text did, at a
/// fraction of the cost. Of the texts that tell fetches apart it reads a few words (the
/// origin's host part and end, the target's start and end, the host's end), not every
/// byte: a slot only has to spread them. What the browser's state adds (a `Cookie`, a
/// preflight or not, its default fields) is told apart by the `preflight` flag and the
/// number of the request's fields; the rest by the comparison.
fn memo_slot(preflight: bool, request: &Request, f: &Fetch) -> u64 {
    let (origin, target, host) = (f.origin.as_bytes(), f.target.as_bytes(), f.host.as_bytes());
    let mut h = FastHasher::default();
    // `https://` is 8 bytes: the word after it starts the host
    h.write_usize(head_word(origin.get(8..).unwrap_or_default()) as usize);
    h.write_usize(tail_word(origin) as usize);
    h.write_usize(head_word(target) as usize);
    h.write_usize(tail_word(target) as usize);
    h.write_usize(tail_word(host) as usize);
    let lengths = (origin.len() as u64)
        | ((target.len() as u64) << 16)
        | ((host.len() as u64) << 32)
        | ((f.scheme.len() as u64) << 48);
    h.write_usize(lengths as usize);
    let flags = u64::from(preflight)
        | (u64::from(f.private_network) << 1)
        | ((f.agent as u64) << 2)
        | ((f.mode as u64) << 5)
        | ((f.credentials as u64) << 8)
        | ((f.redirect as u64) << 11)
        | ((f.headers.len() as u64) << 16)
        | ((f.cookie.as_ref().map_or(0, |c| c.len() + 1) as u64) << 24)
        | ((request.headers.len() as u64) << 40);
    h.write_usize(flags as usize);
    h.write_usize(head_word(f.method.as_bytes()) as usize);
    if !f.headers.is_empty() || f.chain != Chain::default() {
        (&f.headers, &f.chain).hash(&mut h);
    }
    h.finish()
}

/// A remembered counterfactual verdict under `slot` ([`memo_slot`]; the caller checked
/// the upstream is pure).
fn memo_get(
    memo: &CounterfactualMemo,
    slot: u64,
    preflight: bool,
    request: &Arc<Request>,
    f: &Fetch,
) -> Option<Verdict> {
    memo.by_slot
        .get(&slot)?
        .iter()
        .find(|m| {
            m.preflight == preflight
                && (Arc::ptr_eq(&m.request, request) || *m.request == **request)
                && m.fetch == *f
        })
        .map(|m| m.verdict.clone())
}

/// Remembers a counterfactual verdict (the caller checked the upstream is pure).
fn memo_put(
    memo: &mut CounterfactualMemo,
    slot: u64,
    preflight: bool,
    request: Arc<Request>,
    f: &Fetch,
    verdict: &Verdict,
) {
    if memo.by_slot.len() >= DIRECT_MEMO_MAX {
        memo.by_slot.clear();
    }
    let kept = memo.by_slot.entry(slot).or_default();
    if kept.len() >= DIRECT_MEMO_PER_SLOT {
        kept.remove(0);
    }
    kept.push(DirectMemo {
        preflight,
        request,
        fetch: f.clone(),
        verdict: verdict.clone(),
    });
}

#[cfg(test)]
mod tests;
