//! Proof and cost of each candidate: replay with the change applied, an explore run, and
//! the cache's cost on the scenario's own steps and on a generated mix of sessions.

use super::{apply, candidates, paste, FixKind};
use crate::explore::{self, Explorer, Settings};
use crate::flow::{fix_hint, Trace};
use crate::scenario::{OriginSpec, Scenario};
use crate::sim::{self, Sim};
use crate::traffic::TrafficModel;
use serde::Serialize;

/// Why a scenario cannot be advised on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FixError {
    /// The origin is a real server: changes to it cannot be simulated.
    #[error(
        "{0}: the origin is a real server ({1}); `fix` needs a modelled origin under `origin:`"
    )]
    Upstream(String, String),
    /// The explorer refused the scenario.
    #[error(transparent)]
    Explore(#[from] explore::ExploreError),
}

/// What the edge did with some traffic, and what it holds at the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Cost {
    /// Requests that reached the edge (actual requests and preflights).
    pub edge_requests: u64,
    /// Of those, answered from the cache (hit, stale, collapsed).
    pub hits: u64,
    /// Of those, forwarded upstream (to the shield or the origin): `edge_requests - hits`.
    pub forwarded: u64,
    /// Variants stored at the end, over every POP and the shield.
    pub variants: u64,
    /// Bytes those variants hold (response headers + body + 16, plus 64 per variant).
    pub bytes: u64,
}

impl Cost {
    /// `hits / edge_requests` (0 without requests).
    pub fn hit_ratio(&self) -> f64 {
        if self.edge_requests == 0 {
            0.0
        } else {
            self.hits as f64 / self.edge_requests as f64
        }
    }

    fn add(&mut self, o: &Cost) {
        self.edge_requests += o.edge_requests;
        self.hits += o.hits;
        self.forwarded += o.forwarded;
        self.variants += o.variants;
        self.bytes += o.bytes;
    }
}

/// What replaying and exploring the changed scenario showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Proof {
    /// Failing steps (indices) the change removes.
    pub removed: Vec<usize>,
    /// Steps that fail with the change and did not before (cache-induced, or newly blocked).
    pub added: Vec<usize>,
    /// Cache-induced steps left with the change.
    pub remaining: Vec<usize>,
    /// Explore sessions run on the changed scenario.
    pub explore_cases: u64,
    /// Of those, sessions with a cache-induced failure.
    pub explore_failing: u64,
    /// The failure kinds explore still found.
    pub explore_kinds: Vec<String>,
    /// No failure left, none added, explore found nothing.
    pub works: bool,
}

/// One candidate, proven and costed.
#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    /// Which change.
    pub kind: FixKind,
    /// The proof.
    pub proof: Proof,
    /// Cost on the scenario's steps: before, after.
    pub scenario_cost: [Cost; 2],
    /// Cost on the generated mix: before, after.
    pub mix_cost: [Cost; 2],
    /// The change, ready to paste, for the origin frameworks and this edge.
    pub changes: Vec<paste::Change>,
}

/// The advice for one scenario.
#[derive(Clone, Debug, Serialize)]
pub struct Advice {
    /// Scenario name.
    pub scenario: String,
    /// File.
    pub file: String,
    /// Edge profile.
    pub profile: String,
    /// Cache-induced steps of the scenario as it is.
    pub failing: Vec<usize>,
    /// Explore sessions (per run).
    pub cases: u64,
    /// Explore sessions of the scenario as it is that fail.
    pub explore_failing: u64,
    /// Non-cache failures (step, hint): the origin's own policy; no cache change fixes them.
    pub origin_failures: Vec<(usize, String)>,
    /// Generated sessions the mix cost is measured on.
    pub mix_sessions: u64,
    /// What the mix cost is measured on (`on 300 generated sessions`, or one window of
    /// the scenario's traffic model).
    pub mix: String,
    /// Candidates, best first: working on this edge first, then fewest forwarded requests
    /// on the mix, then fewest stored bytes.
    pub candidates: Vec<Candidate>,
}

impl Advice {
    /// Whether the edge causes any failure (in the replay or in explore).
    pub fn needs_fix(&self) -> bool {
        !self.failing.is_empty() || self.explore_failing > 0
    }

    /// Whether some candidate works.
    pub fn fixed(&self) -> bool {
        self.candidates.iter().any(|c| c.proof.works)
    }
}

/// Replays `sc` with its modelled origin; the trace and its cost.
pub fn measure(sc: &Scenario) -> Option<(Trace, Cost)> {
    let OriginSpec::Model(m) = &sc.origin else {
        return None;
    };
    let mut up = m.clone();
    let mut sim = Sim::new(sc, &sc.edge.knobs);
    let steps = sc
        .steps
        .iter()
        .enumerate()
        .map(|(i, st)| sim.step(&mut up, i, st))
        .collect();
    let (variants, bytes) = sim.stored();
    let trace = sim::finish(sc, sc.edge.profile.clone(), steps);
    let s = &trace.summary;
    let cost = Cost {
        edge_requests: s.edge_requests as u64,
        hits: s.hits as u64,
        forwarded: (s.edge_requests - s.hits) as u64,
        variants: variants as u64,
        bytes: bytes as u64,
    };
    Some((trace, cost))
}

fn cache_induced(t: &Trace) -> Vec<usize> {
    t.steps
        .iter()
        .filter(|r| r.cache_induced)
        .map(|r| r.index)
        .collect()
}

fn settings(cases: u64) -> Settings {
    Settings {
        cases,
        shrink_candidates: 1,
        max_shrink_iters: 256,
        ..Settings::default()
    }
}

/// The cost of the generated mix: `sessions` explore sessions (seed 0) of `sc`, each on a
/// cold edge, with `kind` applied to each (or as they are).
fn mix_cost(sc: &Scenario, sessions: u64, kind: Option<FixKind>) -> Result<Cost, FixError> {
    let ex = Explorer::new(sc)?;
    let strategy = ex.pool().strategy(1, Settings::default().max_steps);
    let mut total = Cost::default();
    for case in 0..sessions {
        let session = explore::session_tree(&strategy, 0, case).current();
        let g = ex.to_scenario(&session, "mix", "");
        let g = kind.map_or(g.clone(), |k| apply(&g, k));
        if let Some((_, c)) = measure(&g) {
            total.add(&c);
        }
    }
    Ok(total)
}

/// Advises on `sc`: every applicable candidate, proven with `cases` explore sessions and
/// costed on the scenario and on `cases` generated sessions, ranked.
pub fn advise(sc: &Scenario, cases: u64) -> Result<Advice, FixError> {
    advise_with(sc, cases, None)
}

/// The mix cost: on one window of the traffic model (seed 0, one shared edge) when there
/// is one, else on `cases` explore sessions.
fn mix(
    sc: &Scenario,
    cases: u64,
    traffic: Option<&TrafficModel>,
    kind: Option<FixKind>,
) -> Result<Cost, FixError> {
    match traffic.and_then(|m| crate::traffic::sampled(sc, m, 0)) {
        Some(g) => {
            let g = kind.map_or(g.clone(), |k| apply(&g, k));
            Ok(measure(&g).map(|(_, c)| c).unwrap_or_default())
        }
        None => mix_cost(sc, cases, kind),
    }
}

/// Like [`advise`], with the mix cost measured on the scenario's traffic model if given.
pub fn advise_with(
    sc: &Scenario,
    cases: u64,
    traffic: Option<&TrafficModel>,
) -> Result<Advice, FixError> {
    if let OriginSpec::Upstream(u) = &sc.origin {
        return Err(FixError::Upstream(sc.file.clone(), u.clone()));
    }
    let (before, base_cost) =
        measure(sc).ok_or_else(|| FixError::Upstream(sc.file.clone(), String::new()))?;
    let failing = cache_induced(&before);
    let base_ex = explore::explore_jobs(sc, &settings(cases), 0, &mut |_, _| {})?;
    let base_mix = mix(sc, cases, traffic, None)?;
    let origin_failures = before
        .steps
        .iter()
        .filter(|r| !r.verdict.allowed && !r.cache_induced)
        .filter_map(|r| fix_hint(r, &sc.edge.knobs, None).map(|h| (r.index, h)))
        .collect();
    let mut out = Vec::new();
    if !failing.is_empty() || base_ex.failing > 0 {
        for kind in candidates(sc) {
            let fixed = apply(sc, kind);
            let Some((after, cost)) = measure(&fixed) else {
                continue;
            };
            let ex = explore::explore_jobs(&fixed, &settings(cases), 0, &mut |_, _| {})?;
            let proof = prove(&before, &after, &ex);
            out.push(Candidate {
                kind,
                proof,
                scenario_cost: [base_cost, cost],
                mix_cost: [base_mix, mix(sc, cases, traffic, Some(kind))?],
                changes: paste::changes(sc, kind),
            });
        }
    }
    rank(&mut out);
    Ok(Advice {
        scenario: sc.name.clone(),
        file: sc.file.clone(),
        profile: sc.edge.profile.clone(),
        failing,
        cases,
        explore_failing: base_ex.failing,
        origin_failures,
        mix_sessions: cases,
        mix: match traffic {
            Some(m) => format!(
                "on one {}-min window of the traffic model",
                m.window_ms / 60_000
            ),
            None => format!("on {cases} generated sessions"),
        },
        candidates: out,
    })
}

fn prove(before: &Trace, after: &Trace, ex: &explore::Exploration) -> Proof {
    let was = cache_induced(before);
    let remaining = cache_induced(after);
    let removed = was
        .iter()
        .copied()
        .filter(|i| !remaining.contains(i))
        .collect();
    let added: Vec<usize> = after
        .steps
        .iter()
        .zip(&before.steps)
        .filter(|(a, b)| {
            (a.cache_induced && !b.cache_induced) || (!a.verdict.allowed && b.verdict.allowed)
        })
        .map(|(a, _)| a.index)
        .collect();
    let works = remaining.is_empty() && added.is_empty() && ex.failing == 0;
    Proof {
        removed,
        added,
        remaining,
        explore_cases: ex.settings.cases,
        explore_failing: ex.failing,
        explore_kinds: ex.kinds.iter().map(|k| k.kind.id.clone()).collect(),
        works,
    }
}

/// Working first, then fewest forwarded requests on the mix, then fewest stored bytes,
/// then the fixed order of [`FixKind::ALL`].
fn rank(c: &mut [Candidate]) {
    let order = |k: FixKind| {
        FixKind::ALL
            .iter()
            .position(|&x| x == k)
            .unwrap_or(usize::MAX)
    };
    c.sort_by_key(|c| {
        (
            !c.proof.works,
            c.mix_cost[1].forwarded,
            c.mix_cost[1].bytes,
            order(c.kind),
        )
    });
}
