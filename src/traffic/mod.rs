//! The traffic model: an optional `traffic:` section of a scenario saying how real users
//! arrive (sessions per minute per client, or a share of a total), how long their sessions
//! are, how long they think between requests and which POP serves them, over a time
//! window. [`simulate`] samples that traffic through one shared edge and reports the share
//! of *requests* and of *sessions* that meet a cache-induced CORS failure, per client, per
//! route and per minute — a rate that does not depend on any step cap. See docs/traffic.md.
//!
//! Sampling: sessions of each client arrive as a Poisson process (exponential gaps with
//! mean `60 s / rate`) over the window; a session has 1 + Geometric steps with the given
//! mean, capped at `max`; the gaps inside it are exponential with the mean think time;
//! each request is drawn uniformly from the requests the client makes in the scenario's
//! steps; a POP is drawn by weight per session unless the client is pinned. Every
//! session is its own browser (its own preflight cache). Deterministic for a seed
//! (SplitMix64).

mod parse;

use crate::explore::gen::{Pool, SessionStep};
use crate::explore::kind::label;
use crate::explore::stats::{wilson, Z95};
use crate::scenario::{OriginSpec, Scenario};
use crate::sim::Sim;
pub use parse::parse;
use serde::Serialize;

/// Arrivals of one client.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientTraffic {
    /// Index into the scenario's clients.
    pub client: usize,
    /// Sessions per minute.
    pub per_minute: f64,
}

/// A scenario's traffic model.
#[derive(Clone, Debug, PartialEq)]
pub struct TrafficModel {
    /// Length of the sampled window, ms.
    pub window_ms: u64,
    /// Arrivals per client (clients not listed send nothing).
    pub clients: Vec<ClientTraffic>,
    /// Mean steps per session (≥ 1).
    pub mean_steps: f64,
    /// Most steps per session.
    pub max_steps: usize,
    /// Mean think time between a session's requests, ms.
    pub think_ms: u64,
    /// POP weights (index = POP); empty = all on POP 0 (or the client's pinned POP).
    pub pops: Vec<f64>,
}

/// Failing / total, with a Wilson 95% interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Rate {
    /// Failing.
    pub failing: u64,
    /// Total.
    pub total: u64,
    /// `failing / total` (0 when empty).
    pub rate: f64,
    /// Wilson 95% interval.
    pub interval: (f64, f64),
}

impl Rate {
    fn plus(&self, o: &Rate) -> Rate {
        Rate::new(self.failing + o.failing, self.total + o.total)
    }

    fn new(failing: u64, total: u64) -> Rate {
        Rate {
            failing,
            total,
            rate: if total == 0 {
                0.0
            } else {
                failing as f64 / total as f64
            },
            interval: wilson(failing, total, Z95),
        }
    }
}

/// The result of sampling a traffic model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrafficReport {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Window, ms.
    pub window_ms: u64,
    /// Independent windows sampled (each from a cold edge).
    pub replications: u32,
    /// 95% interval of the request failure rate from the spread between windows (the one
    /// to quote; `None` with one window).
    pub replication_interval: Option<(f64, f64)>,
    /// Requests (fetches) that failed because of the cache.
    pub requests: Rate,
    /// Sessions with at least one such request.
    pub sessions: Rate,
    /// Per client name: requests.
    pub per_client: Vec<(String, Rate)>,
    /// Per route (`GET /api/data`): requests.
    pub per_route: Vec<(String, Rate)>,
    /// Per minute of the window: requests that started in it.
    pub per_minute: Vec<Rate>,
}

/// SplitMix64: a small, seeded, deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * self.unit().ln()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn weighted(&mut self, w: &[f64]) -> usize {
        let total: f64 = w.iter().sum();
        let mut x = self.unit() * total;
        for (i, v) in w.iter().enumerate() {
            if x <= *v {
                return i;
            }
            x -= v;
        }
        w.len().saturating_sub(1)
    }
}

/// One sampled request: (time, session, client, request index).
type Event = (u64, usize, usize, usize);

fn sample(
    sc: &Scenario,
    pool: &Pool,
    m: &TrafficModel,
    rng: &mut Rng,
) -> (Vec<Event>, Vec<(usize, u32)>) {
    let mut events = Vec::new();
    let mut sessions: Vec<(usize, u32)> = Vec::new();
    // Geometric number of extra steps with mean `mean_steps - 1`: success p = 1 / mean.
    let p = 1.0 / m.mean_steps.max(1.0);
    for ct in &m.clients {
        let own: Vec<usize> = (0..pool.requests.len())
            .filter(|&r| {
                sc.steps.iter().any(|s| {
                    s.client == ct.client
                        && s.method == pool.requests[r].method
                        && s.target == pool.requests[r].target
                })
            })
            .collect();
        let mut t = 0.0;
        loop {
            t += rng.exp(60_000.0 / ct.per_minute.max(1e-9));
            if t >= m.window_ms as f64 {
                break;
            }
            let pop = match sc.clients[ct.client].pop {
                Some(p) => p,
                None if m.pops.is_empty() => 0,
                None => rng.weighted(&m.pops) as u32,
            };
            let sid = sessions.len();
            sessions.push((ct.client, pop));
            let mut at = t;
            let mut n = 1;
            while n < m.max_steps && rng.unit() > p {
                n += 1;
            }
            for k in 0..n {
                if k > 0 {
                    at += rng.exp(m.think_ms as f64);
                }
                let req = if own.is_empty() {
                    rng.below(pool.requests.len())
                } else {
                    own[rng.below(own.len())]
                };
                events.push((at as u64, sid, ct.client, req));
            }
        }
    }
    events.sort_by_key(|e| (e.0, e.1));
    (events, sessions)
}

/// Samples `m` over `sc`: `replications` independent windows (seeds derived from `seed`),
/// each through one shared edge starting cold, pooled. `None` when the origin is not
/// modelled or the scenario has no steps to draw requests from.
///
/// Requests are not independent: every request served from one poisoned entry fails until
/// it expires. The Wilson intervals below treat them as independent and are too narrow;
/// `replication_interval` (mean ± 1.96 standard errors of the per-window request rates,
/// which are independent) is the one to quote, and needs `replications ≥ 2`.
pub fn simulate(
    sc: &Scenario,
    m: &TrafficModel,
    seed: u64,
    replications: u32,
) -> Option<TrafficReport> {
    let mut runs = Vec::new();
    for r in 0..replications.max(1) {
        let s = seed.wrapping_mul(1_000_003).wrapping_add(u64::from(r));
        runs.push(run_once(sc, m, s)?);
    }
    let rates: Vec<f64> = runs.iter().map(|r| r.requests.rate).collect();
    let mut out = runs.remove(0);
    for r in &runs {
        out.requests = out.requests.plus(&r.requests);
        out.sessions = out.sessions.plus(&r.sessions);
        for (a, b) in out.per_client.iter_mut().zip(&r.per_client) {
            a.1 = a.1.plus(&b.1);
        }
        for (name, b) in &r.per_route {
            match out.per_route.iter_mut().find(|x| x.0 == *name) {
                Some(a) => a.1 = a.1.plus(b),
                None => out.per_route.push((name.clone(), *b)),
            }
        }
        if out.per_minute.len() < r.per_minute.len() {
            out.per_minute.resize(r.per_minute.len(), Rate::new(0, 0));
        }
        for (a, b) in out.per_minute.iter_mut().zip(&r.per_minute) {
            *a = a.plus(b);
        }
    }
    out.seed = seed;
    out.replications = replications.max(1);
    out.replication_interval = spread(&rates);
    Some(out)
}

/// Mean ± 1.96 standard errors of independent rates, clamped to [0, 1]; `None` below 2.
fn spread(rates: &[f64]) -> Option<(f64, f64)> {
    if rates.len() < 2 {
        return None;
    }
    let n = rates.len() as f64;
    let mean = rates.iter().sum::<f64>() / n;
    let var = rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let half = Z95 * (var / n).sqrt();
    Some(((mean - half).max(0.0), (mean + half).min(1.0)))
}

/// One sampled window of `m` over `sc` as a scenario: one client per session (its own
/// browser and POP), every request a step in time order. `None` when the origin is not
/// modelled or there is nothing to draw requests from. `fix` measures costs on it.
pub fn sampled(sc: &Scenario, m: &TrafficModel, seed: u64) -> Option<Scenario> {
    build(sc, m, seed).map(|(g, _, _)| g)
}

type Built = (Scenario, Vec<Event>, Vec<(usize, u32)>);

fn build(sc: &Scenario, m: &TrafficModel, seed: u64) -> Option<Built> {
    let OriginSpec::Model(model) = &sc.origin else {
        return None;
    };
    let pool = Pool::new(sc, Some(model));
    if pool.is_empty() {
        return None;
    }
    let mut rng = Rng(seed ^ 0x0074_7261_6666_6963);
    let (events, sessions) = sample(sc, &pool, m, &mut rng);
    // One client per session: its own browser, its POP.
    let mut g = sc.clone();
    g.clients = sessions
        .iter()
        .map(|&(c, pop)| {
            let mut cl = sc.clients[c].clone();
            cl.pop = Some(pop);
            cl
        })
        .collect();
    g.steps = events
        .iter()
        .map(|&(at, sid, _, req)| {
            let s = SessionStep {
                gap: 0,
                client: sid,
                request: req,
                credentials: 0,
                extra: 0,
            };
            pool.step(&g, &s, at)
        })
        .collect();
    Some((g, events, sessions))
}

fn run_once(sc: &Scenario, m: &TrafficModel, seed: u64) -> Option<TrafficReport> {
    let OriginSpec::Model(model) = &sc.origin else {
        return None;
    };
    let (g, events, sessions) = build(sc, m, seed)?;
    let mut up = model.clone();
    let mut sim = Sim::new(&g, &g.edge.knobs);
    // Sessions that start inside the window run to their end: the minutes cover them.
    let last = events.last().map_or(0, |e| e.0);
    let minutes = m.window_ms.max(last + 1).div_ceil(60_000).max(1) as usize;
    let mut per_minute = vec![(0u64, 0u64); minutes];
    let mut session_failed = vec![false; sessions.len()];
    let mut per_client = vec![(0u64, 0u64); sc.clients.len()];
    let mut routes: Vec<(String, u64, u64)> = Vec::new();
    let mut failing = 0u64;
    for (i, st) in g.steps.iter().enumerate() {
        let r = sim.step(&mut up, i, st);
        let bad = u64::from(r.cache_induced);
        let (_, sid, client, _) = events[i];
        failing += bad;
        session_failed[sid] |= r.cache_induced;
        let pm = &mut per_minute[((st.at_ms / 60_000) as usize).min(minutes - 1)];
        *pm = (pm.0 + bad, pm.1 + 1);
        per_client[client] = (per_client[client].0 + bad, per_client[client].1 + 1);
        let route = format!("{} {}", label(&g, st), st.target);
        match routes.iter_mut().find(|x| x.0 == route) {
            Some(x) => (x.1, x.2) = (x.1 + bad, x.2 + 1),
            None => routes.push((route, bad, 1)),
        }
    }
    let used: Vec<usize> = m.clients.iter().map(|c| c.client).collect();
    Some(TrafficReport {
        scenario: sc.name.clone(),
        seed,
        replications: 1,
        replication_interval: None,
        window_ms: m.window_ms,
        requests: Rate::new(failing, g.steps.len() as u64),
        sessions: Rate::new(
            session_failed.iter().filter(|&&f| f).count() as u64,
            sessions.len() as u64,
        ),
        per_client: used
            .iter()
            .map(|&c| {
                (
                    sc.clients[c].name.clone(),
                    Rate::new(per_client[c].0, per_client[c].1),
                )
            })
            .collect(),
        per_route: routes
            .into_iter()
            .map(|(r, f, n)| (r, Rate::new(f, n)))
            .collect(),
        per_minute: per_minute
            .into_iter()
            .map(|(f, n)| Rate::new(f, n))
            .collect(),
    })
}

#[cfg(test)]
mod tests;
