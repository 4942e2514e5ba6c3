//! One browser step, sans IO: the sequence both drivers run (start → preflight → actual →
//! the no-cache "direct" verdict → attribution → expectation check), written once.
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
pub use report::{check, finish, Expectation, StepReport, Summary, Trace};

use crate::browser::{Browser, Fetch, Start, Verdict};
use crate::edge::Outcome;
use crate::message::{Request, Response};
use crate::profile::Knobs;
use crate::scenario::{Client, PreflightUse, Step};
use crate::time::{Timestamp, SIM_EPOCH};
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
    pub fn served_from_cache(&self) -> bool {
        self.outcome.from_cache() || self.shield.is_some_and(Outcome::from_cache)
    }
}

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
        /// The first request the browser sends (the preflight or the actual request).
        request: &'r Request,
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
    /// Waiting for the edge's answer to the start request.
    EdgeFirst,
    /// The preflight passed at the edge; waiting for the actual request's answer.
    EdgeActual {
        request: Request,
        at: Timestamp,
    },
    /// Asking the driver for a remembered no-cache verdict.
    Remembered,
    /// Waiting for the origin's answer to the start request.
    OriginFirst,
    /// The counterfactual preflight passed; waiting for the origin's actual answer.
    OriginActual {
        request: Request,
        at: Timestamp,
        browser: Box<Browser>,
    },
    Done,
}

/// One step of a scenario in flight; see the module docs.
pub struct StepRun<'a> {
    index: usize,
    step: &'a Step,
    client: &'a Client,
    browser: &'a mut Browser,
    fetch: Fetch,
    at_ms: u64,
    now: Timestamp,
    url: Option<String>,
    reuse_forwarded: bool,
    start: Start,
    state: State,
    pre: Option<EdgeAnswer>,
    actual: Option<EdgeAnswer>,
    verdict: Option<Verdict>,
    direct: Option<Verdict>,
}

impl<'a> StepRun<'a> {
    /// Starts step `index` (`step`, made by `client` with `browser`, as `fetch`) at
    /// `at_ms` of the scenario's virtual clock.
    pub fn new(
        index: usize,
        step: &'a Step,
        client: &'a Client,
        browser: &'a mut Browser,
        fetch: Fetch,
        at_ms: u64,
    ) -> StepRun<'a> {
        let now = SIM_EPOCH.plus_ms(at_ms);
        let start = browser.start(now, &fetch);
        StepRun {
            index,
            step,
            client,
            browser,
            fetch,
            at_ms,
            now,
            url: None,
            reuse_forwarded: false,
            start,
            state: State::EdgeFirst,
            pre: None,
            actual: None,
            verdict: None,
            direct: None,
        }
    }

    /// The edge hands forwarded answers through unaltered (the in-process edge), so a
    /// forwarded answer stands in for the direct exchange with the origin.
    pub fn reusing_forwarded(mut self) -> StepRun<'a> {
        self.reuse_forwarded = true;
        self
    }

    /// Reports `url` instead of the step's own (the wire driver's target URL).
    pub fn with_url(mut self, url: String) -> StepRun<'a> {
        self.url = Some(url);
        self
    }

    fn start_request(&self) -> &Request {
        match &self.start {
            Start::Actual { request, .. } | Start::Preflight(request) => request,
        }
    }

    /// What the step needs next.
    pub fn poll(&self) -> Next<'_> {
        match &self.state {
            State::EdgeFirst => Next::Edge {
                request: self.start_request(),
                at: self.now,
            },
            State::EdgeActual { request, at } => Next::Edge { request, at: *at },
            State::Remembered => Next::Remembered {
                preflight: matches!(self.start, Start::Preflight(_)),
                request: self.start_request(),
                fetch: &self.fetch,
            },
            State::OriginFirst => Next::Origin {
                request: self.start_request(),
                at: self.now,
            },
            State::OriginActual { request, at, .. } => Next::Origin { request, at: *at },
            State::Done => Next::Done,
        }
    }

    /// The edge's answer to the request of the last [`Next::Edge`].
    pub fn on_edge(&mut self, x: EdgeAnswer) {
        match std::mem::replace(&mut self.state, State::Done) {
            State::EdgeFirst => match &self.start {
                Start::Actual { .. } => {
                    self.verdict = Some(self.browser.on_response(&self.fetch, &x.response));
                    self.actual = Some(x);
                    self.begin_direct();
                }
                Start::Preflight(_) => {
                    let t = self.now.plus_ms(x.elapsed_ms);
                    let r = self.browser.on_preflight(t, &self.fetch, &x.response);
                    self.pre = Some(x);
                    match r {
                        Ok(request) => self.state = State::EdgeActual { request, at: t },
                        Err(v) => {
                            self.verdict = Some(v);
                            self.begin_direct();
                        }
                    }
                }
            },
            State::EdgeActual { .. } => {
                self.verdict = Some(self.browser.on_response(&self.fetch, &x.response));
                self.actual = Some(x);
                self.begin_direct();
            }
            other => self.state = other,
        }
    }

    /// A forwarded answer that may stand in for the origin's own.
    fn reusable(&self, x: Option<&EdgeAnswer>) -> Option<Arc<Response>> {
        x.filter(|x| self.reuse_forwarded && !x.served_from_cache())
            .map(|x| x.response.clone())
    }

    /// No cache in between: the same request straight to the origin, from the browser
    /// state the step left (its preflight cache included).
    fn begin_direct(&mut self) {
        if let Start::Actual { .. } = self.start {
            if let Some(resp) = self.reusable(self.actual.as_ref()) {
                self.direct = Some(self.browser.on_response(&self.fetch, &resp));
                self.state = State::Done;
                return;
            }
        }
        self.state = State::Remembered;
    }

    /// The driver's answer to [`Next::Remembered`].
    pub fn remembered(&mut self, verdict: Option<Verdict>) {
        if !matches!(self.state, State::Remembered) {
            return;
        }
        if let Some(v) = verdict {
            self.direct = Some(v);
            self.state = State::Done;
            return;
        }
        self.state = State::OriginFirst;
        if let Start::Preflight(_) = self.start {
            if let Some(resp) = self.reusable(self.pre.as_ref()) {
                let ms = self.pre.as_ref().map_or(0, |p| p.elapsed_ms);
                self.on_origin(resp, ms);
            }
        }
    }

    /// The origin's answer to the request of the last [`Next::Origin`], which took
    /// `elapsed_ms`.
    pub fn on_origin(&mut self, resp: Arc<Response>, elapsed_ms: u64) {
        match std::mem::replace(&mut self.state, State::Done) {
            State::OriginFirst => match &self.start {
                Start::Actual { .. } => {
                    self.direct = Some(self.browser.on_response(&self.fetch, &resp));
                }
                Start::Preflight(_) => {
                    let t = self.now.plus_ms(elapsed_ms);
                    // a throwaway copy: the counterfactual must not touch the real
                    // preflight cache
                    let mut b = Box::new(self.browser.clone());
                    match b.on_preflight(t, &self.fetch, &resp) {
                        Err(v) => self.direct = Some(v),
                        Ok(request) => match self.reusable(self.actual.as_ref()) {
                            Some(resp) => self.direct = Some(b.on_response(&self.fetch, &resp)),
                            None => {
                                self.state = State::OriginActual {
                                    request,
                                    at: t,
                                    browser: b,
                                }
                            }
                        },
                    }
                }
            },
            State::OriginActual { browser, .. } => {
                self.direct = Some(browser.on_response(&self.fetch, &resp));
            }
            other => self.state = other,
        }
    }

    /// The report, once [`Next::Done`]; `knobs` are the edge's, for the fix hint. Gives
    /// the fetch back so a driver can reuse its buffers.
    pub fn finish(self, knobs: &Knobs) -> (StepReport, Fetch) {
        let verdict = self.verdict.unwrap_or_else(Verdict::unchecked);
        let direct = self.direct.unwrap_or_else(|| verdict.clone());
        let (pre, actual) = (self.pre.as_ref(), self.actual.as_ref());
        let deciding = if verdict.in_preflight { pre } else { actual };
        // The exchange whose served entry changed the outcome: the deciding one, or the
        // preflight when the actual went through but the preflight was served.
        let from_cache = deciding
            .filter(|x| x.served_from_cache())
            .or_else(|| pre.filter(|x| x.served_from_cache()));
        let differs = verdict.allowed != direct.allowed || verdict.reason != direct.reason;
        let cache_induced = differs && from_cache.is_some();
        let poisoned_by = from_cache
            .filter(|_| cache_induced)
            .and_then(|x| x.stored_by);
        let main = actual.or(pre);
        let (cache, shield, key, mut status, stored) = match main {
            Some(x) => (
                x.outcome,
                x.shield,
                x.key.clone(),
                x.response.status,
                x.stored.clone(),
            ),
            None => (Outcome::Pass, None, Arc::from(""), 0, None),
        };
        if verdict.in_preflight {
            status = pre.map_or(status, |p| p.response.status);
        }
        let (st, c) = (self.step, self.client);
        let mut report = StepReport {
            index: self.index,
            line: st.line,
            at_ms: self.at_ms,
            client: c.name.clone(),
            origin: c.origin.clone(),
            agent: c.agent,
            request: concat(&[&st.method, " ", &st.target]),
            url: self
                .url
                .unwrap_or_else(|| concat(&[&st.scheme, "://", &st.host, &st.target])),
            pop: c.pop.unwrap_or(0) as usize,
            cache,
            shield,
            key,
            preflight: match self.start {
                Start::Preflight(_) => PreflightUse::Sent,
                Start::Actual {
                    preflight_cached: true,
                    ..
                } => PreflightUse::Cached,
                Start::Actual { .. } => PreflightUse::None,
            },
            preflight_cache: pre.map(|p| p.outcome),
            preflight_key: pre.map(|p| p.key.clone()),
            status,
            wrongly_allowed: cache_induced && verdict.allowed,
            unexpected_failure: !verdict.allowed && st.expect.cors_ok != Some(false),
            verdict,
            direct,
            cache_induced,
            poisoned_by,
            stored,
            expectation: Expectation::None,
            fix: None,
        };
        report.expectation = check(&st.expect, &report);
        report.fix = fix_hint(&report, knobs, deciding.map(|x| &*x.response));
        (report, self.fetch)
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

#[cfg(test)]
mod tests;
