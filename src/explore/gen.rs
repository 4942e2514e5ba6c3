//! What a session may contain, drawn from the scenario, and the proptest strategy that
//! generates sessions.
//!
//! A session picks, for every step, a client (from the scenario's clients), a request
//! (from the distinct requests of the scenario's steps), a credentials mode and extra
//! headers (from those the scenario uses), and a gap after the previous step (from gaps
//! that land on either side of each TTL the scenario implies); and it assigns every client
//! not pinned with `pop:` to a POP. Every choice is an index that shrinks toward 0: fewer
//! steps, earlier clients and requests, the scenario's own credentials and headers,
//! smaller gaps, POP 0.

use crate::browser::{Agent, Credentials, Mode};
use crate::fields::{CacheControl, Headers};
use crate::origin::OriginModel;
use crate::scenario::{Expect, Scenario, Step};
use proptest::collection::vec;
use proptest::strategy::Strategy;
use std::ops::Range;

/// At most this many extra headers are offered (their subsets are a bit mask).
pub const MAX_EXTRA_HEADERS: usize = 4;

/// Everything a session may choose from.
#[derive(Clone, Debug)]
pub struct Pool {
    /// Distinct requests, in order of first appearance: the scenario's steps with no
    /// time, client (0) or expectations ([`Pool::template`]). The step that stands for a
    /// session step is one of these with its client, time and choices filled in
    /// ([`Pool::step`]).
    pub requests: Vec<Step>,
    /// Per request: whether its step set its own `mode:` (otherwise the session step's
    /// client's mode applies, and the template's `mode` is meaningless).
    pub own_mode: Vec<bool>,
    /// Credentials modes the scenario uses, in order of first appearance.
    pub credentials: Vec<Credentials>,
    /// Extra `(name, value)` headers a step may add, first appearance, distinct names.
    pub extra_headers: Vec<(String, String)>,
    /// Candidate gaps between steps in ms, ascending, starting with 0.
    pub gaps_ms: Vec<u64>,
    /// Number of clients.
    pub clients: usize,
    /// Per client: its pinned POP, or every POP.
    pub pops: Vec<Range<u32>>,
}

/// One step of a session: indices into the [`Pool`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionStep {
    /// Index into the gaps: time since the previous step (since 0 for the first).
    pub gap: usize,
    /// Client index.
    pub client: usize,
    /// Request index.
    pub request: usize,
    /// 0 = the request's own credentials; `k` = `pool.credentials[k - 1]`.
    pub credentials: usize,
    /// Bit mask over `pool.extra_headers`.
    pub extra: u8,
}

/// A generated session: POPs per client and a sequence of steps.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Session {
    /// The POP of each client.
    pub pops: Vec<u32>,
    /// The steps, in time order.
    pub steps: Vec<SessionStep>,
}

impl Pool {
    /// The pool of a scenario (whose origin model, if any, tells the TTLs).
    pub fn new(sc: &Scenario, model: Option<&OriginModel>) -> Pool {
        let mut requests: Vec<Step> = Vec::new();
        let mut own_mode: Vec<bool> = Vec::new();
        let mut credentials: Vec<Credentials> = Vec::new();
        let mut extra_headers: Vec<(String, String)> = Vec::new();
        for st in &sc.steps {
            let explicit = sc.clients.get(st.client).map(|c| c.mode) != Some(st.mode);
            let t = Pool::template(st, explicit);
            if !requests
                .iter()
                .zip(&own_mode)
                .any(|(r, &m)| *r == t && m == explicit)
            {
                requests.push(t);
                own_mode.push(explicit);
            }
            if !credentials.contains(&st.credentials) {
                credentials.push(st.credentials);
            }
            for (n, v) in st.headers.iter() {
                if extra_headers.len() < MAX_EXTRA_HEADERS
                    && !extra_headers.iter().any(|(x, _)| x == n)
                {
                    extra_headers.push((n.to_string(), v.to_string()));
                }
            }
        }
        let pops = sc
            .clients
            .iter()
            .map(|c| match c.pop {
                Some(p) => p..p + 1,
                None => 0..sc.edge.knobs.pops.max(1),
            })
            .collect();
        Pool {
            requests,
            own_mode,
            credentials,
            extra_headers,
            gaps_ms: gaps(sc, model),
            clients: sc.clients.len(),
            pops,
        }
    }

    /// Whether there is anything to explore.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty() || self.clients == 0
    }

    /// A scenario step as a request template: no time, client 0, no expectations, no
    /// line; its mode kept only when `explicit` (set on the step, not the client's).
    fn template(st: &Step, explicit: bool) -> Step {
        Step {
            at_ms: 0,
            client: 0,
            mode: if explicit { st.mode } else { Mode::Cors },
            expect: Expect::default(),
            line: 0,
            ..st.clone()
        }
    }

    /// The step a session step stands for, at `at_ms`, with no expectations.
    pub fn step(&self, sc: &Scenario, s: &SessionStep, at_ms: u64) -> Step {
        let mut st = self.requests[s.request].clone();
        for (i, (n, v)) in self.extra_headers.iter().enumerate() {
            if s.extra & (1 << i) != 0 && !st.headers.contains(n) {
                st.headers.append(n, v);
            }
        }
        if s.credentials > 0 {
            st.credentials = self.credentials[s.credentials - 1];
        }
        if !self.own_mode[s.request] {
            st.mode = sc.clients[s.client].mode;
        }
        st.client = s.client;
        st.at_ms = at_ms;
        st
    }

    /// Absolute times of a session's steps.
    pub fn times(&self, session: &Session) -> Vec<u64> {
        let mut now = 0u64;
        session
            .steps
            .iter()
            .map(|s| {
                now = now.saturating_add(self.gaps_ms[s.gap]);
                now
            })
            .collect()
    }

    /// Sessions of `min_steps..=max_steps` steps.
    pub fn strategy(
        &self,
        min_steps: usize,
        max_steps: usize,
    ) -> impl Strategy<Value = Session> + Clone {
        let step = (
            0..self.gaps_ms.len().max(1),
            0..self.clients.max(1),
            0..self.requests.len().max(1),
            0..self.credentials.len() + 1,
            0..(1u8 << self.extra_headers.len().min(MAX_EXTRA_HEADERS)),
        )
            .prop_map(|(gap, client, request, credentials, extra)| SessionStep {
                gap,
                client,
                request,
                credentials,
                extra,
            });
        let min = min_steps.max(1);
        let max = max_steps.max(min);
        (self.pops.clone(), vec(step, min..=max)).prop_map(|(pops, steps)| Session { pops, steps })
    }
}

/// Gaps that land just before and just after every lifetime the scenario implies, plus
/// none, a collapse window and a few seconds.
fn gaps(sc: &Scenario, model: Option<&OriginModel>) -> Vec<u64> {
    let mut lifetimes: Vec<u64> = Vec::new();
    let cc_lifetimes = |lifetimes: &mut Vec<u64>, cc: &str| {
        let h = Headers::from_pairs([("cache-control", cc)]);
        if let Some(c) = CacheControl::parse(&h, "cache-control") {
            lifetimes.extend(c.max_age);
            lifetimes.extend(c.s_maxage);
            let fresh = c.s_maxage.or(c.max_age).unwrap_or(0);
            lifetimes.extend(c.stale_while_revalidate.map(|s| s + fresh));
        }
    };
    let mut latency = 0;
    if let Some(m) = model {
        latency = m.latency_ms;
        for r in &m.routes {
            if let Some(cc) = &r.cache_control {
                cc_lifetimes(&mut lifetimes, cc);
            }
            for (n, v) in r.headers.iter() {
                if n == "cache-control" || n == "cdn-cache-control" || n == "surrogate-control" {
                    cc_lifetimes(&mut lifetimes, v);
                }
            }
        }
        let policies = m.cors.iter().chain(
            m.routes
                .iter()
                .filter_map(|r| r.cors.as_ref().and_then(|c| c.as_ref())),
        );
        for p in policies {
            if let Some(cc) = &p.preflight_cache_control {
                cc_lifetimes(&mut lifetimes, cc);
            }
            if let Some(a) = p.max_age {
                lifetimes.push(a);
                for c in &sc.clients {
                    if c.agent != Agent::None {
                        lifetimes.push(a.min(c.agent.preflight_cap_secs()));
                    }
                }
            }
        }
    }
    // Fetch §4.8: without Access-Control-Max-Age a preflight is cached for 5 s.
    lifetimes.push(5);
    let t = sc.edge.knobs.ttl;
    lifetimes.extend([t.default, t.min, t.max].into_iter().flatten());

    let mut out = vec![0, 1000];
    if latency > 0 {
        out.push(latency / 2);
    }
    for l in lifetimes {
        let ms = l.saturating_mul(1000);
        out.push(ms.saturating_sub(1000));
        out.push(ms.saturating_add(1000));
    }
    out.sort_unstable();
    out.dedup();
    out
}
