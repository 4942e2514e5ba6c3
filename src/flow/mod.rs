//! One browser step, sans IO: the sequence both drivers run (the browser's fetch — its
//! HTTP cache, preflights, redirect hops, cookies — through the edge → the no-cache
//! "direct" verdict → attribution → expectation check), written once. The fetch itself is
//! [`crate::browser::run::Run`]; this module answers its requests through the edge and
//! again straight from the origin, and decides what the difference means.
//!
//! [`StepRun`] is a state machine in the quinn-proto style: [`StepRun::poll`] says what it
//! needs next ([`Next`]) — an exchange through the edge, a remembered counterfactual
//! verdict, a direct exchange with the origin — and the driver answers with
//! [`StepRun::on_edge`], [`StepRun::remembered`] or [`StepRun::on_origin`]; once it says
//! [`Next::Done`], [`StepRun::finish`] builds the [`StepReport`]. The simulator answers on
//! virtual time (`sim`), the wire driver with real exchanges (`net::target`); neither
//! decides what "cache-induced" means or who poisoned a step.

mod fix;
mod report;

pub use fix::fix_hint;
pub use report::{check, finish, Expectation, HopReport, StepReport, Summary, Trace};

use crate::browser::run::{Done, Instance, Leg, Next as RunNext, Run, Send};
use crate::browser::{Fetch, Verdict};
use crate::edge::hash::{FastBuild, FastHasher};
use crate::edge::Outcome;
use crate::fields::head_word;
use crate::message::{Request, Response};
use crate::profile::Knobs;
use crate::scenario::{fill_fetch, Client, PreflightUse, ServedBy, Step};
use crate::time::{Timestamp, SIM_EPOCH};
use std::collections::HashSet;
use std::hash::Hasher;
use std::sync::Arc;

/// The edge's answer to one request of a step.
#[derive(Clone, Debug)]
pub struct EdgeAnswer {
    /// What the client got.
    pub response: Arc<Response>,
    /// The edge's (nearest cache's) outcome.
    pub outcome: Outcome,
    /// The shield's outcome when the edge went to one.
    pub shield: Option<Outcome>,
    /// The key that matched (or was stored / looked up).
    pub key: Arc<str>,
    /// The step whose stored response was served, when served from a cache and known.
    pub stored_by: Option<usize>,
    /// How long the exchange took, in ms (virtual or real).
    pub elapsed_ms: u64,
    /// Whether this exchange stored something at the edge (`Ok(key)`), or why not;
    /// `None` when unknown or not applicable.
    pub stored: Option<Result<Arc<str>, &'static str>>,
}

impl EdgeAnswer {
    /// Whether the client got a stored response, from the edge or from its shield.
    ///
    /// PRODUCT.md "The key definition": a step is cache-induced only when the response
    /// that decided it was served from a cache; this is that test, for both drivers.
    /// A revalidation forwards yet serves the stored response with the 304's fields
    /// merged in (RFC 9111 §4.3.4): `stored_by` names its author, so it counts too.
    pub fn served_from_cache(&self) -> bool {
        self.outcome.from_cache()
            || self.shield.is_some_and(Outcome::from_cache)
            || self.stored_by.is_some()
    }
}

/// One exchange a step made through the edge: which leg, the request, the answer.
pub type Sent = (Leg, Arc<Request>, EdgeAnswer);

/// What a [`StepRun`] needs next.
#[derive(Debug)]
pub enum Next<'r> {
    /// Send `request` through the edge at `at`; answer with [`StepRun::on_edge`].
    Edge {
        /// The request, as the browser sends it.
        request: &'r Request,
        /// When it leaves.
        at: Timestamp,
    },
    /// The no-cache verdict is needed. A driver that remembers it for this
    /// (`preflight`, `request`, `fetch`) answers `Some`; otherwise `None`, and the origin
    /// exchanges follow. Answer with [`StepRun::remembered`].
    Remembered {
        /// Whether the step starts with a preflight.
        preflight: bool,
        /// The first request the browser sends (the preflight or the actual request),
        /// shared: a driver may keep it with what it remembers.
        request: &'r Arc<Request>,
        /// The fetch.
        fetch: &'r Fetch,
    },
    /// Send `request` straight to the origin, no cache in between, at `at`; answer with
    /// [`StepRun::on_origin`].
    Origin {
        /// The request.
        request: &'r Request,
        /// When it leaves.
        at: Timestamp,
    },
    /// Nothing more: call [`StepRun::finish`].
    Done,
}

enum State {
    /// Waiting for the edge's answer to `pending`.
    Edge,
    /// Asking the driver for a remembered no-cache verdict.
    Remembered,
    /// Waiting for the origin's answer to `direct_pending`.
    Origin,
    Done,
}

/// The counterfactual fetch: the same browser as before the step, no HTTP cache, every
/// request straight to the origin.
struct DirectRun {
    run: Run,
    inst: Instance,
    pending: Option<Send>,
    first: (bool, Arc<Request>),
    at: Timestamp,
    /// How many of its requests were answered so far.
    answered: usize,
}

/// One step of a scenario in flight; see the module docs.
pub struct StepRun<'a> {
    index: usize,
    step: &'a Step,
    client: &'a Client,
    inst: &'a mut Instance,
    fetch: Fetch,
    /// `fetch` is only a buffer yet: [`StepRun::own_fetch`] fills it from `step` and
    /// `client` the first time it is needed ([`StepRun::from_step`]).
    fetch_unfilled: bool,
    at_ms: u64,
    now: Timestamp,
    url: Option<String>,
    reuse_forwarded: bool,
    /// The browser before this step, for the counterfactual.
    before: Option<Instance>,
    run: Run,
    pending: Option<Send>,
    at: Timestamp,
    sent: Vec<Sent>,
    /// The redirect hop of the first request sent through the edge.
    first_hop: Option<usize>,
    done: Option<Done>,
    /// Boxed: most steps never start one, and a `StepRun` is moved by value.
    direct_run: Option<Box<DirectRun>>,
    direct: Option<Verdict>,
    direct_redirects: usize,
    /// Status of the counterfactual's deciding answer (0 when unknown: remembered, or
    /// nothing was sent).
    direct_status: u16,
    state: State,
}

impl<'a> StepRun<'a> {
    /// Starts step `index` (`step`, made by `client` in browser `inst`, as `fetch`) at
    /// `at_ms` of the scenario's virtual clock.
    pub fn new(
        index: usize,
        step: &'a Step,
        client: &'a Client,
        inst: &'a mut Instance,
        fetch: Fetch,
        at_ms: u64,
    ) -> StepRun<'a> {
        StepRun::new_reusing(index, step, client, inst, fetch, at_ms, None)
    }

    /// [`StepRun::new`], copying the fetch for the browser's run into `spare` (a fetch
    /// an earlier step gave back with [`StepRun::take_spare`]) rather than allocating.
    pub fn new_reusing(
        index: usize,
        step: &'a Step,
        client: &'a Client,
        inst: &'a mut Instance,
        fetch: Fetch,
        at_ms: u64,
        spare: Option<Fetch>,
    ) -> StepRun<'a> {
        let run_fetch = match spare {
            Some(mut f) => {
                f.refill_from(&fetch);
                f
            }
            None => fetch.clone(),
        };
        StepRun::started(index, step, client, inst, (fetch, false), at_ms, run_fetch)
    }

    /// [`StepRun::new_reusing`] for the fetch `step` describes, made by `client` (the
    /// scenario's `clients[step.client]`, as [`crate::scenario::Scenario::fetch`] builds
    /// it), filled into `spare` for the browser's run. `buf` is any fetch, kept for its
    /// buffers: the step's own copy (the counterfactual's) is filled into it only when
    /// the step needs one, which most steps of an in-process edge do not (their
    /// forwarded answers stand in for the origin's).
    pub fn from_step(
        index: usize,
        step: &'a Step,
        client: &'a Client,
        inst: &'a mut Instance,
        buf: Fetch,
        at_ms: u64,
        spare: Option<Fetch>,
    ) -> StepRun<'a> {
        let mut run_fetch = spare.unwrap_or_else(Fetch::empty);
        fill_fetch(client, step, &mut run_fetch);
        StepRun::started(index, step, client, inst, (buf, true), at_ms, run_fetch)
    }

    /// Starts the browser's run of `run_fetch`; `fetch` is the step's own copy, and
    /// whether it is still unfilled.
    fn started(
        index: usize,
        step: &'a Step,
        client: &'a Client,
        inst: &'a mut Instance,
        (fetch, fetch_unfilled): (Fetch, bool),
        at_ms: u64,
        run_fetch: Fetch,
    ) -> StepRun<'a> {
        let now = SIM_EPOCH.plus_ms(at_ms);
        let before = inst.without_http_cache();
        let (run, next) = Run::start(inst, now, run_fetch, index as u64);
        let mut s = StepRun {
            index,
            step,
            client,
            inst,
            fetch,
            fetch_unfilled,
            at_ms,
            now,
            url: None,
            reuse_forwarded: false,
            before: Some(before),
            run,
            pending: None,
            at: now,
            sent: Vec::new(),
            first_hop: None,
            done: None,
            direct_run: None,
            direct: None,
            direct_redirects: 0,
            direct_status: 0,
            state: State::Edge,
        };
        s.advance(next);
        s
    }

    /// Once [`Next::Done`]: the browser run's copy of the fetch, for
    /// [`StepRun::new_reusing`] (`None` before; the step can still be finished).
    pub fn take_spare(&mut self) -> Option<Fetch> {
        matches!(self.state, State::Done).then(|| self.run.take_fetch())
    }

    /// Records the step's exchanges in `buf` (a list an earlier step gave back with
    /// [`StepRun::take_sent`], emptied here) rather than in a list of its own: a driver
    /// running step after step allocates it once. Call it before the step is driven.
    pub fn reuse_sent(&mut self, mut buf: Vec<Sent>) {
        if self.sent.is_empty() {
            buf.clear();
            buf.append(&mut self.sent);
            self.sent = buf;
        }
    }

    /// The step's exchanges, once finished (for [`StepRun::reuse_sent`]).
    pub fn take_sent(&mut self) -> Vec<Sent> {
        std::mem::take(&mut self.sent)
    }

    /// The edge hands forwarded answers through unaltered (the in-process edge), so a
    /// forwarded answer stands in for the direct exchange with the origin.
    pub fn reuse_forwarded(&mut self) {
        self.reuse_forwarded = true;
    }

    /// Reports `url` instead of the step's own (the wire driver's target URL).
    pub fn with_url(mut self, url: String) -> StepRun<'a> {
        self.url = Some(url);
        self
    }

    /// The request of [`Next::Edge`] as the browser model shares it (the same `Arc`
    /// for the same request, step after step); `None` when nothing is to be sent.
    pub fn pending_request(&self) -> Option<&Arc<Request>> {
        match (&self.state, &self.pending) {
            (State::Edge, Some(s)) => Some(&s.request),
            _ => None,
        }
    }

    /// What the step needs next.
    pub fn poll(&self) -> Next<'_> {
        match &self.state {
            State::Edge => match &self.pending {
                Some(s) => Next::Edge {
                    request: &s.request,
                    at: self.at,
                },
                None => Next::Done,
            },
            State::Remembered => match self.direct_first() {
                Some((preflight, request)) => Next::Remembered {
                    preflight,
                    request,
                    fetch: &self.fetch,
                },
                None => Next::Done,
            },
            State::Origin => match self
                .direct_run
                .as_ref()
                .and_then(|d| d.pending.as_ref().map(|p| (p, d.at)))
            {
                Some((p, at)) => Next::Origin {
                    request: &p.request,
                    at,
                },
                None => Next::Done,
            },
            State::Done => Next::Done,
        }
    }

    /// The browser's next move through the edge.
    fn advance(&mut self, next: RunNext) {
        match next {
            RunNext::Send(s) => {
                self.pending = Some(s);
                self.state = State::Edge;
            }
            RunNext::Done(d) => {
                self.pending = None;
                self.done = Some(d);
                self.begin_direct();
            }
        }
    }

    /// The edge's answer to the request of the last [`Next::Edge`].
    pub fn on_edge(&mut self, x: EdgeAnswer) {
        let Some(s) = self.pending.take() else {
            return;
        };
        let t = self.at.plus_ms(x.elapsed_ms);
        let resp = x.response.clone();
        self.first_hop.get_or_insert(s.hop);
        self.sent.push((s.leg, s.request, x));
        self.at = t;
        let next = self.run.on_response(self.inst, t, &resp);
        self.advance(next);
    }

    /// No cache in between: the same fetch from the browser as it was before the step,
    /// with an empty HTTP cache, straight to the origin.
    ///
    /// Its first request is known without starting it when the fetch was not
    /// redirected: the browser before the step builds the same first request (the
    /// preflight, or the actual request the HTTP cache missed or answered), so a driver
    /// that remembers the verdict is asked first and the run starts only if it does not.
    /// When every request went through the edge and none was served from a cache, the
    /// counterfactual sends the same requests and gets the same answers: its verdict is
    /// the fetch's own.
    fn begin_direct(&mut self) {
        if self.before.is_none() {
            self.state = State::Done;
            return;
        }
        let Some(done) = self.done.as_ref().filter(|d| d.redirects == 0) else {
            self.start_direct();
            return;
        };
        if self.reuse_forwarded
            && done.browser_cache.is_none()
            && !self.sent.is_empty()
            && self.sent.iter().all(|(_, _, x)| !x.served_from_cache())
        {
            self.direct = Some(done.verdict.clone());
            self.direct_status = done.status;
            self.before = None;
            self.state = State::Done;
            return;
        }
        self.own_fetch();
        let first_known = self.first_hop == Some(0)
            || (self.sent.is_empty() && self.run.first_actual().is_some());
        if first_known {
            self.state = State::Remembered;
        } else {
            self.start_direct();
        }
    }

    /// The counterfactual's first request, `(is a preflight, request)`: from its run once
    /// started, else the fetch's own first request ([`StepRun::begin_direct`]).
    fn direct_first(&self) -> Option<(bool, &Arc<Request>)> {
        if let Some(d) = &self.direct_run {
            return Some((d.first.0, &d.first.1));
        }
        match self.sent.first() {
            Some((leg, req, _)) => Some((*leg == Leg::Preflight, req)),
            None => self.run.first_actual().map(|r| (false, r)),
        }
    }

    /// Starts the counterfactual fetch from the browser as it was before the step.
    fn start_direct(&mut self) {
        self.own_fetch();
        let Some(mut inst) = self.before.take() else {
            self.state = State::Done;
            return;
        };
        let (run, next) = Run::start(&mut inst, self.now, self.fetch.clone(), u64::MAX);
        match next {
            RunNext::Done(d) => {
                self.direct = Some(d.verdict);
                self.state = State::Done;
            }
            RunNext::Send(s) => {
                let first = (s.leg == Leg::Preflight, s.request.clone());
                self.direct_run = Some(Box::new(DirectRun {
                    run,
                    inst,
                    pending: Some(s),
                    first,
                    at: self.now,
                    answered: 0,
                }));
                self.state = State::Remembered;
            }
        }
    }

    /// A forwarded answer to the same request, in the same position, that may stand in
    /// for the origin's own.
    fn reusable(&self, i: usize, req: &Request) -> Option<Arc<Response>> {
        self.sent
            .get(i)
            .filter(|(_, r, x)| {
                self.reuse_forwarded && same_request(r, req) && !x.served_from_cache()
            })
            .map(|(_, _, x)| x.response.clone())
    }

    /// Fills the step's own copy of its fetch, if [`StepRun::from_step`] left it unfilled.
    fn own_fetch(&mut self) {
        if std::mem::take(&mut self.fetch_unfilled) {
            fill_fetch(self.client, self.step, &mut self.fetch);
        }
    }

    /// The driver's answer to [`Next::Remembered`].
    pub fn remembered(&mut self, verdict: Option<Verdict>) {
        if !matches!(self.state, State::Remembered) {
            return;
        }
        if let Some(v) = verdict {
            self.direct = Some(v);
            self.before = None;
            self.state = State::Done;
            return;
        }
        if self.direct_run.is_none() {
            self.start_direct();
            if !matches!(self.state, State::Remembered) {
                return;
            }
        }
        self.state = State::Origin;
        self.reuse_while_possible();
    }

    /// Answers the counterfactual's requests from forwarded edge answers while they match.
    fn reuse_while_possible(&mut self) {
        loop {
            let Some(d) = self.direct_run.as_ref() else {
                return;
            };
            let Some(p) = d.pending.as_ref() else {
                return;
            };
            let Some(resp) = self.reusable(d.answered, &p.request) else {
                return;
            };
            let ms = self.sent[d.answered].2.elapsed_ms;
            self.feed_direct(resp, ms);
        }
    }

    fn feed_direct(&mut self, resp: Arc<Response>, elapsed_ms: u64) {
        let Some(d) = self.direct_run.as_mut() else {
            return;
        };
        d.pending = None;
        d.answered += 1;
        d.at = d.at.plus_ms(elapsed_ms);
        match d.run.on_response(&mut d.inst, d.at, &resp) {
            RunNext::Send(s) => d.pending = Some(s),
            RunNext::Done(done) => {
                self.direct_redirects = done.redirects;
                self.direct_status = done.status;
                self.direct = Some(done.verdict);
                self.state = State::Done;
            }
        }
    }

    /// The origin's answer to the request of the last [`Next::Origin`], which took
    /// `elapsed_ms`.
    pub fn on_origin(&mut self, resp: Arc<Response>, elapsed_ms: u64) {
        if !matches!(self.state, State::Origin) {
            return;
        }
        self.feed_direct(resp, elapsed_ms);
        if matches!(self.state, State::Origin) {
            self.reuse_while_possible();
        }
    }

    /// Whether the counterfactual followed a redirect: then its first request alone does
    /// not determine it, and a driver must not remember it under that request.
    pub fn direct_redirected(&self) -> bool {
        self.direct_redirects > 0
    }

    /// The report, once [`Next::Done`]; `knobs` are the edge's, for the fix hint. Gives
    /// the fetch back so a driver can reuse its buffers.
    pub fn finish(self, knobs: &Knobs) -> (StepReport, Fetch) {
        self.finish_with(knobs, &mut ReportText::default())
    }

    /// The browser's outcome, its verdict and the no-cache verdict, once [`Next::Done`]
    /// (a step that never ran is unchecked, and so is its counterfactual).
    fn settle(&mut self) -> (Done, Verdict, Verdict) {
        let mut done = self.done.take().unwrap_or_else(|| Done {
            verdict: Verdict::unchecked(),
            preflight_sent: false,
            preflight_cached: false,
            browser_cache: None,
            status: 0,
            redirects: 0,
        });
        let verdict = std::mem::replace(&mut done.verdict, Verdict::unchecked());
        let direct = self.direct.take().unwrap_or_else(|| verdict.clone());
        (done, verdict, direct)
    }

    /// What [`StepRun::finish`] attributes, without the rest of the report (its text,
    /// hops, expectation and fix hint): whether the step is cache-induced, the step
    /// whose stored response caused it, and the no-cache verdict. For a driver that
    /// only asks whether a step failed (the explorer's search). Gives the fetch back.
    pub fn finish_attribution(mut self) -> (Attributed, Fetch) {
        self.own_fetch();
        let a = self.attribution();
        (a, self.fetch)
    }

    /// [`StepRun::finish_attribution`] in place: a driver that keeps the step where it
    /// is (a step is large, and moving it costs a copy) takes the fetch back afterwards
    /// with [`StepRun::take_fetch`]. Call it once.
    pub fn attribution(&mut self) -> Attributed {
        let (done, verdict, direct) = self.settle();
        let at = attribute(&self.sent, &done, &verdict, &direct, self.reuse_forwarded);
        Attributed {
            cache_induced: at.cache_induced,
            poisoned_by: at.poisoned_by,
            verdict,
            direct,
        }
    }

    /// [`StepRun::finish`], taking the report's text from `text` (shared with earlier
    /// reports).
    pub fn finish_with(mut self, knobs: &Knobs, text: &mut ReportText) -> (StepReport, Fetch) {
        self.own_fetch();
        let report = self.report(knobs, text);
        (report, self.fetch)
    }

    /// The fetch the step was started with (the counterfactual's).
    pub fn fetch(&mut self) -> &Fetch {
        self.own_fetch();
        &self.fetch
    }

    /// The fetch, for its buffers, once the step is finished in place (after
    /// [`StepRun::from_step`], not necessarily the step's own unless
    /// [`StepRun::fetch`] was asked for), leaving an empty one: the step must not be
    /// driven any further. Taken, not moved out with the step (a step is large, and
    /// moving it costs a copy).
    pub fn take_fetch(&mut self) -> Fetch {
        std::mem::replace(&mut self.fetch, Fetch::empty())
    }

    /// [`StepRun::finish_with`] in place (see [`StepRun::attribution`]). Call it once.
    pub fn report(&mut self, knobs: &Knobs, text: &mut ReportText) -> StepReport {
        let (done, verdict, direct) = self.settle();
        let at = attribute(&self.sent, &done, &verdict, &direct, self.reuse_forwarded);
        let main = self
            .sent
            .iter()
            .rev()
            .find(|(l, _, _)| *l == Leg::Actual)
            .map(|(_, _, x)| x)
            .or(at.pre);
        let (cache, shield, key, stored) = match main {
            Some(x) => (x.outcome, x.shield, x.key.clone(), x.stored.clone()),
            None => (Outcome::NotSent, None, Arc::from(""), None),
        };
        let (st, c) = (self.step, self.client);
        let (client, origin) = text.client(st.client, c);
        let (request, url) = text.step(st);
        let step_text = StepText {
            step: st,
            request,
            url,
        };
        let mut report = StepReport {
            index: self.index,
            line: st.line,
            at_ms: self.at_ms,
            client,
            origin,
            agent: c.agent,
            request: step_text.request.clone(),
            url: match &self.url {
                Some(u) => text.join(&[u]),
                None => step_text.url.clone(),
            },
            pop: c.pop.unwrap_or(0) as usize,
            cache,
            shield,
            key,
            preflight: if done.preflight_sent {
                PreflightUse::Sent
            } else if done.preflight_cached {
                PreflightUse::Cached
            } else {
                PreflightUse::None
            },
            preflight_cache: at.pre.map(|p| p.outcome),
            preflight_key: at.pre.map(|p| p.key.clone()),
            status: done.status,
            wrongly_allowed: at.cache_induced && verdict.allowed,
            origin_failed: self.direct_status >= 500,
            unexpected_failure: !verdict.allowed && st.expect.cors_ok != Some(false),
            verdict,
            direct,
            cache_induced: at.cache_induced,
            poisoned_by: at.poisoned_by,
            stored,
            served_by: at.served_by,
            hops: hop_reports(&self.sent, &step_text, text),
            expectation: Expectation::None,
            fix: None,
        };
        report.expectation = check(&st.expect, &report);
        report.fix =
            fix_hint(&report, knobs, at.deciding.map(|x| &*x.response)).map(|h| text.join(&[&h]));
        report
    }
}

/// A step's attribution alone ([`StepRun::finish_attribution`]): the fields of
/// [`StepReport`] with the same names.
#[derive(Clone, Debug)]
pub struct Attributed {
    /// The cache changed the verdict against the no-cache counterfactual.
    pub cache_induced: bool,
    /// The step whose stored response did it, when known.
    pub poisoned_by: Option<usize>,
    /// The browser's verdict on what it received.
    pub verdict: Verdict,
    /// The no-cache counterfactual's verdict.
    pub direct: Verdict,
}

/// What the caches had to do with a step's verdict: the exchange that decided it, the
/// preflight's, who served it, and whether (and by which step's entry) the cache changed
/// the outcome against the no-cache counterfactual `direct`.
struct Attribution<'a> {
    deciding: Option<&'a EdgeAnswer>,
    pre: Option<&'a EdgeAnswer>,
    served_by: ServedBy,
    cache_induced: bool,
    poisoned_by: Option<usize>,
}

fn attribute<'a>(
    sent: &'a [Sent],
    done: &Done,
    verdict: &Verdict,
    direct: &Verdict,
    reuse_forwarded: bool,
) -> Attribution<'a> {
    // The deciding exchange: the last preflight when it failed there, else the last
    // actual request — none when the browser's HTTP cache answered.
    let want = if verdict.in_preflight {
        Leg::Preflight
    } else {
        Leg::Actual
    };
    let deciding = if done.browser_cache.is_some() && !verdict.in_preflight {
        None
    } else {
        sent.iter()
            .rev()
            .find(|(l, _, _)| *l == want)
            .map(|(_, _, x)| x)
    };
    let pre = sent
        .iter()
        .find(|(l, _, _)| *l == Leg::Preflight)
        .map(|(_, _, x)| x);
    let served_by = match (done.browser_cache, deciding) {
        (Some(_), None) => ServedBy::Browser,
        (_, Some(x)) if x.served_from_cache() => ServedBy::Edge,
        (_, Some(_)) => ServedBy::Origin,
        (None, None) => ServedBy::None,
    };
    // The entry that changed the outcome: the browser's, the deciding exchange's at
    // the edge, the preflight's when the actual went through but it was served, or a
    // redirect hop's before the deciding exchange (a stored 3xx sent the fetch
    // elsewhere: Fetch §4.4 follows the Location it was given).
    let from_cache = deciding
        .filter(|x| x.served_from_cache())
        .or_else(|| pre.filter(|x| x.served_from_cache()))
        .or_else(|| {
            sent.iter()
                .rev()
                .filter(|(l, _, _)| *l == want)
                .map(|(_, _, x)| x)
                .find(|x| x.served_from_cache())
        });
    let differs = verdict.allowed != direct.allowed || verdict.reason != direct.reason;
    // A forwarded answer that cannot stand for the origin's own (the wire driver's
    // edge is unknown; the in-process one drops a field the origin needs, e.g.
    // CloudFront's `Origin`) and differs from it: the edge altered the request on the
    // way, edge-induced, with no poisoning step.
    let altered = !reuse_forwarded && deciding.is_some_and(|x| !x.served_from_cache());
    let poisoned_by = if differs {
        done.browser_cache
            .filter(|_| served_by == ServedBy::Browser)
            .map(|t| t as usize)
            .or_else(|| from_cache.and_then(|x| x.stored_by))
    } else {
        None
    };
    let cache_induced =
        differs && (served_by == ServedBy::Browser || from_cache.is_some() || altered);
    Attribution {
        deciding,
        pre,
        served_by,
        cache_induced,
        poisoned_by,
    }
}

/// One line per exchange the step made (preflight and actual, every redirect hop).
fn hop_reports(sent: &[Sent], step: &StepText<'_>, text: &mut ReportText) -> Vec<HopReport> {
    sent.iter()
        .map(|(l, r, x)| {
            let (request, url) = step.of(r, text);
            HopReport {
                leg: if *l == Leg::Preflight {
                    "preflight"
                } else {
                    "actual"
                },
                request,
                url,
                cache: x.outcome,
                status: x.response.status,
            }
        })
        .collect()
}

/// A step's own request line and URL, as shared text: most of its hops are sent to the
/// step's URL (all but redirect hops), and the actual request with its method, so their
/// text is the step's, found by comparing a few short strings instead of joining and
/// looking up the same text again.
struct StepText<'s> {
    step: &'s Step,
    /// `METHOD target`.
    request: Arc<str>,
    /// `scheme://host/target`.
    url: Arc<str>,
}

impl StepText<'_> {
    /// The request line and URL of `r`, one of the step's requests.
    fn of(&self, r: &Request, text: &mut ReportText) -> (Arc<str>, Arc<str>) {
        let st = self.step;
        let same_url = r.target == st.target && r.host == st.host && r.scheme == st.scheme;
        let url = if same_url {
            self.url.clone()
        } else {
            text.join(&[&r.scheme, "://", &r.host, &r.target])
        };
        let request = if same_url && r.method == st.method {
            self.request.clone()
        } else {
            text.join(&[&r.method, " ", &r.target])
        };
        (request, url)
    }
}

/// The text of step reports (client names, origins, request lines, URLs), shared between
/// the reports of one replay: a trace repeats the same few hundred strings a million
/// times, and each report holds a reference to one copy instead of its own.
#[derive(Default)]
pub struct ReportText {
    set: HashSet<Arc<str>, FastBuild>,
    /// Where the parts are joined to look them up (kept for its buffer).
    buf: String,
    /// Name and origin per client index, once asked for ([`ReportText::client`]).
    clients: Vec<Option<(Arc<str>, Arc<str>)>>,
    /// Request lines and URLs of steps, by a hash of the step's target: a step met
    /// again checks the two against its parts (a few short comparisons) instead of
    /// joining and looking up each ([`ReportText::step`]). Empty until first used.
    steps: Vec<Option<(Arc<str>, Arc<str>)>>,
}

/// Slots of [`ReportText`]'s table of step texts (a power of two): many times the
/// distinct request lines a long trace repeats (with 1,024, a fifth of the replay
/// bench's steps found their slot holding another step's text).
const STEP_TEXT_SLOTS: usize = 4096;

/// Whether `s` is `parts` joined, compared in place.
fn is_joined(s: &str, parts: &[&str]) -> bool {
    let mut rest = s;
    for p in parts {
        match rest.strip_prefix(p) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// Bound on the distinct strings a [`ReportText`] keeps (beyond it, it starts over; the
/// reports keep what they hold).
const REPORT_TEXT_MAX: usize = 1 << 16;

impl ReportText {
    /// The name and origin of `c`, client `index` of the scenario this text serves.
    fn client(&mut self, index: usize, c: &Client) -> (Arc<str>, Arc<str>) {
        if let Some(Some(t)) = self.clients.get(index) {
            return t.clone();
        }
        let t = (self.join(&[&c.name]), self.join(&[&c.origin]));
        if self.clients.len() <= index {
            self.clients.resize(index + 1, None);
        }
        self.clients[index] = Some(t.clone());
        t
    }

    /// The request line (`METHOD target`) and URL (`scheme://host/target`) of `st`, as
    /// shared strings: the same text as [`ReportText::join`] of those parts.
    fn step(&mut self, st: &Step) -> (Arc<str>, Arc<str>) {
        if self.steps.is_empty() {
            self.steps.resize(STEP_TEXT_SLOTS, None);
        }
        let mut h = FastHasher::default();
        h.write(st.target.as_bytes());
        h.write_usize(head_word(st.method.as_bytes()) as usize | (st.host.len() << 32));
        // the hasher's last multiply leaves its best bits at the top
        let slot = (h.finish() >> 52) as usize % STEP_TEXT_SLOTS;
        if let Some((request, url)) = &self.steps[slot] {
            if is_joined(request, &[&st.method, " ", &st.target])
                && is_joined(url, &[&st.scheme, "://", &st.host, &st.target])
            {
                return (request.clone(), url.clone());
            }
        }
        let request = self.join(&[&st.method, " ", &st.target]);
        let url = self.join(&[&st.scheme, "://", &st.host, &st.target]);
        self.steps[slot] = Some((request.clone(), url.clone()));
        (request, url)
    }

    /// `parts` joined, as a shared string (joined in a reused buffer to look it up; only
    /// text not seen yet is allocated).
    pub fn join(&mut self, parts: &[&str]) -> Arc<str> {
        self.buf.clear();
        for p in parts {
            self.buf.push_str(p);
        }
        if let Some(s) = self.set.get(self.buf.as_str()) {
            return s.clone();
        }
        if self.set.len() >= REPORT_TEXT_MAX {
            self.set.clear();
        }
        let s: Arc<str> = Arc::from(self.buf.as_str());
        self.set.insert(s.clone());
        s
    }
}

#[cfg(test)]
mod tests;

/// One browser instance per `user:`, and each client's instance; every client's cookie
/// is put in its browser's jar for every host its steps call.
pub fn browsers_of(sc: &crate::scenario::Scenario) -> (Vec<Instance>, Vec<usize>) {
    browsers_for(sc, None)
}

/// [`browsers_of`]; with `every`, each client's cookie is put in the jar for each of those
/// hosts instead, whatever its own steps call (the explorer hands any client any of the
/// scenario's requests: a client then calls a host its own steps never did, and a replay
/// of the session, where it does, would have its cookie there).
pub fn browsers_for(
    sc: &crate::scenario::Scenario,
    every: Option<&[&str]>,
) -> (Vec<Instance>, Vec<usize>) {
    let mut users: Vec<&str> = Vec::new();
    let mut browsers: Vec<Instance> = Vec::new();
    let mut user_of = Vec::with_capacity(sc.clients.len());
    for c in &sc.clients {
        let i = match users.iter().position(|u| *u == c.user) {
            Some(i) => i,
            None => {
                users.push(&c.user);
                let mut inst = Instance::new(crate::browser::Browser::with_header_overrides(
                    c.agent,
                    c.headers.clone(),
                ));
                inst.http_cache_enabled = c.http_cache;
                browsers.push(inst);
                users.len() - 1
            }
        };
        // One client of a shared browser asking for the HTTP cache turns it on.
        browsers[i].http_cache_enabled |= c.http_cache;
        user_of.push(i);
    }
    // Every client's hosts in one pass over the steps (a million-step trace has
    // thousands of clients).
    let mut hosts: Vec<Vec<&str>> =
        vec![every.map(<[&str]>::to_vec).unwrap_or_default(); sc.clients.len()];
    for st in sc.steps.iter().filter(|_| every.is_none()) {
        if let Some(h) = hosts.get_mut(st.client) {
            if !h.contains(&st.host.as_str()) {
                h.push(&st.host);
            }
        }
    }
    for (ci, (c, mut hosts)) in sc.clients.iter().zip(hosts).enumerate() {
        hosts.sort_unstable();
        for h in hosts {
            browsers[user_of[ci]].jar.preset(h, &c.cookie);
        }
    }
    (browsers, user_of)
}

/// The same request: often the very one (the browser shares the requests it remembers),
/// else compared field by field.
fn same_request(a: &Request, b: &Request) -> bool {
    std::ptr::eq(a, b) || a == b
}
