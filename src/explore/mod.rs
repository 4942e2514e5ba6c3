//! The explorer: a seeded property-based search (proptest's `TestRunner`, driven from
//! code) over sessions of a scenario's clients — who fetches what, in which order, after
//! which gaps, on which POP — run through the simulator. It measures how often a random
//! session meets a cache-induced CORS failure, groups the failures into kinds, and shrinks
//! each kind to the shortest session that still shows it, written back as a v1 scenario.
//!
//! Determinism: case `i` of seed `s` draws from its own ChaCha stream keyed by `(s, i)`,
//! so a run is reproducible byte for byte and any case can be regenerated for shrinking.
//! Nothing here reads a clock or iterates a hash map into the output.

pub mod gen;
pub mod kind;
pub mod stats;

use crate::flow::{Attributed, StepReport, Trace};
use crate::origin::OriginModel;
use crate::profile::Knobs;
use crate::scenario::{self, Expect, OriginSpec, PreflightUse, Scenario, Step};
use crate::sim::{self, Sim, SimParts};
pub use gen::{Pool, Session, SessionStep};
pub use kind::{classify, classify_judged, FailureKind, Finding, Judged, Kinds};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// How to explore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Random sessions to run.
    pub cases: u64,
    /// The seed: same seed, same result.
    pub seed: u64,
    /// Fewest steps in a session.
    pub min_steps: usize,
    /// Most steps in a session.
    pub max_steps: usize,
    /// How many sessions of each kind are shrunk (the shortest result is kept).
    pub shrink_candidates: usize,
    /// Simulations allowed per shrink.
    pub max_shrink_iters: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            cases: 1000,
            seed: 0,
            min_steps: 1,
            max_steps: 10,
            shrink_candidates: 4,
            max_shrink_iters: 4096,
        }
    }
}

/// Why a scenario cannot be explored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExploreError {
    /// The origin is a real server; the explorer runs in-process only.
    #[error(
        "{0}: the origin is a real server ({1}); explore needs a modelled origin under `origin:`"
    )]
    Upstream(String, String),
    /// No steps to draw requests from.
    #[error("{0}: the scenario has no steps; explore draws its requests from them")]
    NoSteps(String),
    /// A written repro did not replay to the failure it was shrunk for: a bug.
    #[error("internal error: the repro for {kind} does not replay as recorded: {why}")]
    Repro {
        /// The kind.
        kind: String,
        /// What went wrong.
        why: String,
    },
}

/// The shortest session found for one kind, as a scenario.
#[derive(Clone, Debug)]
pub struct Repro {
    /// The sampled session it was shrunk from.
    pub case: u64,
    /// Steps before shrinking.
    pub shrunk_from: usize,
    /// The shrunk session.
    pub session: Session,
    /// The repro scenario, with every step's observed outcome as its expectation.
    pub scenario: Scenario,
    /// The repro as v1 YAML (parses and replays to exactly this trace).
    pub yaml: String,
    /// Its replay.
    pub trace: Trace,
    /// The victim step.
    pub victim: usize,
    /// The step that poisoned it.
    pub poisoned_by: usize,
}

/// One kind of failure found.
#[derive(Clone, Debug)]
pub struct KindReport {
    /// The kind.
    pub kind: FailureKind,
    /// Sampled sessions that show it.
    pub sessions: u64,
    /// The first sampled session that showed it.
    pub first_case: u64,
    /// The shortest reproduction.
    pub repro: Repro,
}

/// The result of an exploration.
#[derive(Clone, Debug)]
pub struct Exploration {
    /// Scenario name.
    pub scenario: String,
    /// Scenario file.
    pub file: String,
    /// Profile of the edge.
    pub profile: String,
    /// Settings used.
    pub settings: Settings,
    /// What sessions were drawn from.
    pub pool: Pool,
    /// Steps simulated while sampling (shrinking not counted).
    pub steps_simulated: u64,
    /// Sampled sessions with at least one cache-induced failure.
    pub failing: u64,
    /// Sampled sessions with a cache-induced *blocked* step.
    pub failing_blocked: u64,
    /// Wilson 95% interval of the failure rate.
    pub interval: (f64, f64),
    /// Kinds in order of discovery.
    pub kinds: Vec<KindReport>,
}

impl Exploration {
    /// `failing / cases`.
    pub fn rate(&self) -> f64 {
        if self.settings.cases == 0 {
            0.0
        } else {
            self.failing as f64 / self.settings.cases as f64
        }
    }

    /// Whether a cache-induced failure was found (exit 1).
    pub fn found(&self) -> bool {
        self.failing > 0
    }
}

/// Runs sessions of one scenario through the simulator, reusing what it can between them.
pub struct Explorer<'a> {
    sc: &'a Scenario,
    model: OriginModel,
    pool: Pool,
    /// The scenario with POPs assigned for the current session.
    scratch: Scenario,
    /// Prebuilt steps by (client, request, credentials, extra).
    steps: Vec<Option<Step>>,
    /// Reports of the last run.
    reports: Vec<StepReport>,
    /// The poisoned steps of the last attribution-only run, by index.
    poisoned: Vec<(usize, Attributed)>,
    /// The steps of the last run (only kept when asked for).
    last_steps: Vec<Step>,
    /// The simulator's edge and browsers, reset between sessions, and the
    /// counterfactual verdicts against `model`, kept across sessions. Built by the first.
    parts: Option<SimParts>,
    /// The failure kinds met so far ([`Explorer::sample`] copies them).
    kinds: Kinds,
}

const STEP_CACHE_LIMIT: usize = 1 << 16;

/// Which steps a run keeps (for [`classify`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    None,
    All,
    /// All, once a step fails with a poisoning step (the earlier ones are rebuilt then).
    FromFailure,
}

/// A cache-induced failure that a stored response caused.
fn poisoned(r: &StepReport) -> bool {
    r.cache_induced && r.poisoned_by.is_some()
}

/// What running one step of a session gives: a full report, kept for [`classify`], or
/// the attribution alone.
trait Ran {
    /// A cache-induced failure that a stored response caused ([`poisoned`]).
    fn poisoned(&self) -> bool;
    /// Keeps step `index`'s result: a report among the run's reports, an attribution
    /// among the poisoned ones if it is one (nothing else is read of it).
    fn keep(
        self,
        index: usize,
        reports: &mut Vec<StepReport>,
        poisoned: &mut Vec<(usize, Attributed)>,
    );
}

impl Ran for StepReport {
    fn poisoned(&self) -> bool {
        poisoned(self)
    }
    fn keep(self, _: usize, reports: &mut Vec<StepReport>, _: &mut Vec<(usize, Attributed)>) {
        reports.push(self);
    }
}

impl Ran for Attributed {
    fn poisoned(&self) -> bool {
        self.cache_induced && self.poisoned_by.is_some()
    }
    fn keep(self, index: usize, _: &mut Vec<StepReport>, poisoned: &mut Vec<(usize, Attributed)>) {
        if self.poisoned() {
            poisoned.push((index, self));
        }
    }
}

/// Whether step `index`'s attribution shows a failure of `kind` ([`classify`]).
fn shows_kind(
    sc: &Scenario,
    steps: &[Step],
    index: usize,
    a: &Attributed,
    kind: &FailureKind,
) -> bool {
    // `classify_judged` answers at once for a step the cache did not change
    classify_judged(sc, steps, &Judged::attributed(index, a)).is_some_and(|f| f.kind == *kind)
}

/// Runs a step for its attribution alone.
fn attribution(sim: &mut Sim<'_>, up: &mut OriginModel, i: usize, st: &Step) -> Attributed {
    sim.step_attribution(up, i, st, st.at_ms)
}

fn cache_index(p: &Pool, s: &SessionStep) -> usize {
    (((s.client * p.requests.len() + s.request) * (p.credentials.len() + 1) + s.credentials)
        << p.extra_headers.len())
        + s.extra as usize
}

impl<'a> Explorer<'a> {
    /// An explorer for `sc`, whose origin must be modelled.
    pub fn new(sc: &'a Scenario) -> Result<Explorer<'a>, ExploreError> {
        let model = match &sc.origin {
            OriginSpec::Model(m) => m.clone(),
            OriginSpec::Upstream(u) => {
                return Err(ExploreError::Upstream(sc.file.clone(), u.clone()))
            }
        };
        let pool = Pool::new(sc, Some(&model));
        if pool.is_empty() {
            return Err(ExploreError::NoSteps(sc.file.clone()));
        }
        let mut scratch = sc.clone();
        scratch.steps.clear();
        let n = Self::cache_len(&pool);
        Ok(Explorer {
            sc,
            model,
            steps: if n <= STEP_CACHE_LIMIT {
                vec![None; n]
            } else {
                Vec::new()
            },
            pool,
            scratch,
            reports: Vec::new(),
            poisoned: Vec::new(),
            last_steps: Vec::new(),
            parts: None,
            kinds: Kinds::default(),
        })
    }

    /// What sessions are drawn from.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    fn cache_len(pool: &Pool) -> usize {
        pool.clients
            .saturating_mul(pool.requests.len())
            .saturating_mul(pool.credentials.len() + 1)
            .saturating_mul(1 << pool.extra_headers.len())
    }

    /// Simulates a session; returns each step's report.
    pub fn run(&mut self, session: &Session) -> &[StepReport] {
        self.run_inner(session, Keep::None, |_, _, _| false);
        &self.reports
    }

    /// Runs the session's steps in order until `stop(scenario, steps so far, report)`
    /// says so (or the session ends); returns whether it stopped early. A step never
    /// depends on a later one, so the reports run so far are those of the whole session.
    fn run_inner(
        &mut self,
        session: &Session,
        keep: Keep,
        stop: impl Fn(&Scenario, &[Step], &StepReport) -> bool,
    ) -> bool {
        self.run_with(
            session,
            keep,
            |sim, up, i, st| sim.step(up, i, st),
            |sc, steps, _, r| stop(sc, steps, r),
        )
    }

    /// [`Explorer::run_inner`] with each step run by `run`: the full report, or only the
    /// attribution when nothing else is read ([`Explorer::any_failure`]).
    fn run_with<R: Ran>(
        &mut self,
        session: &Session,
        keep: Keep,
        run: impl Fn(&mut Sim<'_>, &mut OriginModel, usize, &Step) -> R,
        stop: impl Fn(&Scenario, &[Step], usize, &R) -> bool,
    ) -> bool {
        let Explorer {
            sc,
            model,
            pool,
            scratch,
            steps,
            reports,
            poisoned,
            last_steps,
            parts,
            ..
        } = self;
        for (c, p) in scratch.clients.iter_mut().zip(&session.pops) {
            c.pop = Some(*p);
        }
        reports.clear();
        poisoned.clear();
        last_steps.clear();
        let knobs: &Knobs = &sc.edge.knobs;
        let fresh = match parts.take() {
            Some(mut p) => {
                p.reset();
                p
            }
            None => {
                // the scratch scenario has no steps: every client gets its cookie for
                // every host the scenario's requests go to (see `flow::browsers_for`)
                let mut hosts: Vec<&str> = sc.steps.iter().map(|st| st.host.as_str()).collect();
                hosts.sort_unstable();
                hosts.dedup();
                SimParts::for_hosts(scratch, knobs, Some(&hosts))
            }
        };
        let (mut sim, kept) = Sim::from_parts(scratch, knobs, fresh);
        let mut now = 0u64;
        let mut keep_steps = keep == Keep::All;
        for (i, s) in session.steps.iter().enumerate() {
            now = now.saturating_add(pool.gaps_ms[s.gap]);
            let idx = cache_index(pool, s);
            let report = match steps.get_mut(idx) {
                Some(slot) => {
                    let st = slot.get_or_insert_with(|| pool.step(sc, s, now));
                    st.at_ms = now;
                    if keep_steps {
                        last_steps.push(st.clone());
                    }
                    run(&mut sim, model, i, st)
                }
                None => {
                    let st = pool.step(sc, s, now);
                    let r = run(&mut sim, model, i, &st);
                    if keep_steps {
                        last_steps.push(st);
                    }
                    r
                }
            };
            if keep == Keep::FromFailure && !keep_steps && report.poisoned() {
                // the steps so far as the cache above holds them: `Pool::step` at their times
                let upto = &session.steps[..=i];
                last_steps.extend(
                    upto.iter()
                        .zip(pool.times(session))
                        .map(|(s, t)| pool.step(sc, s, t)),
                );
                keep_steps = true;
            }
            let done = stop(scratch, last_steps, i, &report);
            report.keep(i, reports, poisoned);
            if done {
                *parts = Some(sim.into_parts(kept));
                return true;
            }
        }
        *parts = Some(sim.into_parts(kept));
        false
    }

    /// The cache-induced findings of a session, in step order.
    pub fn findings(&mut self, session: &Session) -> Vec<Finding> {
        self.run_inner(session, Keep::All, |_, _, _| false);
        self.reports
            .iter()
            .filter_map(|r| classify(&self.scratch, &self.last_steps, r))
            .collect()
    }

    /// What [`Explorer::any_failure`] then (when it is true) [`Explorer::findings`] say,
    /// in one run: the steps are kept from the first failing step on.
    /// Each step is run for its attribution alone (no report is built); the poisoned
    /// ones are classified.
    pub fn sample(&mut self, session: &Session) -> Option<Vec<Finding>> {
        // When every step of the session has its place in the step cache (nearly
        // always), the run leaves each there, and a kind reads only a step's client,
        // mode and method (not its time): the poisoned steps are classified from the
        // cache, and no step is copied.
        let cached = session
            .steps
            .iter()
            .all(|s| self.steps.get(cache_index(&self.pool, s)).is_some());
        let keep = if cached {
            Keep::None
        } else {
            Keep::FromFailure
        };
        self.run_with(session, keep, attribution, |_, _, _, _| false);
        if self.poisoned.is_empty() {
            return None;
        }
        let Explorer {
            scratch,
            pool,
            steps,
            last_steps,
            poisoned,
            kinds,
            ..
        } = self;
        let step = |i: usize| -> Option<&Step> {
            if cached {
                let s = session.steps.get(i)?;
                steps.get(cache_index(pool, s))?.as_ref()
            } else {
                last_steps.get(i)
            }
        };
        Some(
            poisoned
                .iter()
                .filter_map(|(i, a)| kinds.classify_by(scratch, step, &Judged::attributed(*i, a)))
                .collect(),
        )
    }

    /// Whether a session shows a failure of this kind.
    /// Stops at the first step that shows it.
    /// Each step is run for its attribution alone.
    pub fn shows(&mut self, session: &Session, kind: &FailureKind) -> bool {
        self.run_with(session, Keep::All, attribution, |sc, steps, i, a| {
            shows_kind(sc, steps, i, a, kind)
        })
    }

    /// Whether a session meets any cache-induced failure (the fast path of sampling).
    /// Only failures a stored response caused count: one the edge causes on every
    /// forwarded request (a field it never sends the origin, `edge::forward`) is not
    /// intermittent and has no poisoning step; replay and lint report it.
    /// Stops at the first failing step: the steps after it cannot change the answer.
    pub fn any_failure(&mut self, session: &Session) -> bool {
        self.run_with(session, Keep::None, attribution, |_, _, _, a| a.poisoned())
    }

    /// The session as a scenario: only the clients it uses (POPs pinned where the edge
    /// has several or the scenario pinned them), its steps at their times, no expectations.
    pub fn to_scenario(&self, session: &Session, name: &str, about: &str) -> Scenario {
        let mut used: Vec<usize> = session.steps.iter().map(|s| s.client).collect();
        used.sort_unstable();
        used.dedup();
        let multi_pop = self.sc.edge.knobs.pops > 1;
        let clients = used
            .iter()
            .map(|&i| {
                let mut c = self.sc.clients[i].clone();
                if multi_pop || c.pop.is_some() {
                    c.pop = Some(session.pops[i]);
                }
                c
            })
            .collect();
        let times = self.pool.times(session);
        let steps = session
            .steps
            .iter()
            .zip(times)
            .map(|(s, t)| {
                let mut st = self.pool.step(self.sc, s, t);
                st.client = used.iter().position(|&u| u == s.client).unwrap_or(0);
                st
            })
            .collect();
        Scenario {
            name: name.to_string(),
            about: about.to_string(),
            file: format!("{name}.yaml"),
            origin: OriginSpec::Model(self.model.clone()),
            edge: self.sc.edge.clone(),
            clients,
            steps,
        }
    }
}

/// The proptest runner for case `case` of seed `seed`: its own ChaCha stream.
pub fn case_runner(seed: u64, case: u64) -> TestRunner {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&case.to_le_bytes());
    key[16..].copy_from_slice(b"varyedge-explore");
    let config = Config {
        cases: 1,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &key))
}

/// Explores `sc` on one thread. `progress(done, total)` is called now and then while
/// sampling.
pub fn explore(
    sc: &Scenario,
    settings: &Settings,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Exploration, ExploreError> {
    explore_jobs(sc, settings, 1, progress)
}

/// Below this many cases sampling stays on one thread: starting the others (each builds
/// its own [`Explorer`]) would cost about what they save.
const MIN_CASES_PER_THREAD: u64 = 256;

/// How many threads sample `cases` sessions when asked for `jobs` (0 = one per available
/// core).
pub fn threads_for(cases: u64, jobs: usize) -> usize {
    let want = sim::jobs::wanted(jobs);
    let most = usize::try_from(cases / MIN_CASES_PER_THREAD).unwrap_or(usize::MAX);
    want.min(most).max(1)
}

/// One kind as sampling met it: in how many sessions, and the first of them (up to the
/// shrink candidates), in case order.
#[derive(Debug)]
struct Seen {
    kind: FailureKind,
    sessions: u64,
    cases: Vec<u64>,
}

/// What sampling a run of consecutive cases found, tallied as it goes (its size does not
/// grow with the number of cases): the steps simulated, the failing sessions, and each
/// kind in order of discovery.
#[derive(Debug, Default)]
struct Sampled {
    steps: u64,
    failing: u64,
    failing_blocked: u64,
    seen: Vec<Seen>,
}

impl Sampled {
    /// Counts case `case`'s findings; `kept` is how many cases a kind keeps.
    fn count(&mut self, case: u64, findings: Vec<Finding>, kept: usize) {
        self.failing += 1;
        self.failing_blocked += u64::from(findings.iter().any(|f| f.kind.blocked));
        let mut here: Vec<usize> = Vec::new();
        for f in findings {
            let i = match self.seen.iter().position(|s| s.kind == f.kind) {
                Some(i) => i,
                None => {
                    self.seen.push(Seen {
                        kind: f.kind,
                        sessions: 0,
                        cases: Vec::new(),
                    });
                    self.seen.len() - 1
                }
            };
            if !here.contains(&i) {
                here.push(i);
                self.seen[i].sessions += 1;
                if self.seen[i].cases.len() < kept {
                    self.seen[i].cases.push(case);
                }
            }
        }
    }

    /// Appends the tally of the cases right after this one's: the same tally as counting
    /// both runs of cases in order.
    fn join(&mut self, later: Sampled, kept: usize) {
        self.steps += later.steps;
        self.failing += later.failing;
        self.failing_blocked += later.failing_blocked;
        for l in later.seen {
            match self.seen.iter_mut().find(|s| s.kind == l.kind) {
                Some(s) => {
                    s.sessions += l.sessions;
                    let room = kept.saturating_sub(s.cases.len());
                    s.cases.extend(l.cases.into_iter().take(room));
                }
                None => self.seen.push(l),
            }
        }
    }
}

/// Samples cases `cases` with `ex`. Every case is independent of the others (its own
/// random stream; the explorer resets the edge and browsers between sessions and only
/// keeps pure memos), so any split of the cases gives the same findings per case.
/// `done` counts the cases sampled by every thread; `progress`, when given, is called
/// with it at every 256th case.
fn sample_cases(
    ex: &mut Explorer<'_>,
    settings: &Settings,
    cases: std::ops::Range<u64>,
    done: &std::sync::atomic::AtomicU64,
    mut progress: Option<&mut dyn FnMut(u64, u64)>,
) -> Sampled {
    use std::sync::atomic::Ordering;
    let strategy = ex.pool.strategy(settings.min_steps, settings.max_steps);
    let kept = settings.shrink_candidates.max(1);
    let mut out = Sampled::default();
    for case in cases {
        if let Some(p) = progress.as_mut() {
            if case % 256 == 0 {
                p(done.load(Ordering::Relaxed), settings.cases);
            }
        }
        let session = session_tree(&strategy, settings.seed, case).current();
        out.steps += session.steps.len() as u64;
        if let Some(findings) = ex.sample(&session) {
            out.count(case, findings, kept);
        }
        done.fetch_add(1, Ordering::Relaxed);
    }
    out
}

/// Samples every case of `settings` on `threads` threads (contiguous ranges of cases,
/// each thread with its own explorer; this thread takes the first range and reports
/// progress), and joins the results in case order.
fn sample_all(
    ex: &mut Explorer<'_>,
    sc: &Scenario,
    settings: &Settings,
    threads: usize,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Sampled, ExploreError> {
    let done = std::sync::atomic::AtomicU64::new(0);
    let n = settings.cases;
    let per = n.div_ceil(threads.max(1) as u64).max(1);
    let ranges: Vec<std::ops::Range<u64>> = (0..n)
        .step_by(usize::try_from(per).unwrap_or(usize::MAX))
        .map(|start| start..(start + per).min(n))
        .collect();
    let Some((first, rest)) = ranges.split_first() else {
        return Ok(Sampled::default());
    };
    let (mine, theirs) = std::thread::scope(|s| {
        let handles: Vec<_> = rest
            .iter()
            .map(|r| {
                let done = &done;
                s.spawn(move || -> Result<Sampled, ExploreError> {
                    let mut ex = Explorer::new(sc)?;
                    Ok(sample_cases(&mut ex, settings, r.clone(), done, None))
                })
            })
            .collect();
        let mine = sample_cases(ex, settings, first.clone(), &done, Some(progress));
        let theirs: Vec<_> = handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(r) => r,
                // a panic in a sampling thread is a bug: carry it on here
                Err(p) => std::panic::resume_unwind(p),
            })
            .collect();
        (mine, theirs)
    });
    let mut all = mine;
    for part in theirs {
        all.join(part?, settings.shrink_candidates.max(1));
    }
    Ok(all)
}

/// Explores `sc`, sampling on up to `jobs` threads (0 = one per available core). The
/// result is the same whatever `jobs` is: cases are independent, their results are
/// joined in case order, and shrinking runs on this thread as before.
pub fn explore_jobs(
    sc: &Scenario,
    settings: &Settings,
    jobs: usize,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Exploration, ExploreError> {
    let mut ex = Explorer::new(sc)?;
    let strategy = ex.pool.strategy(settings.min_steps, settings.max_steps);

    let threads = threads_for(settings.cases, jobs);
    let Sampled {
        steps: steps_simulated,
        failing,
        failing_blocked,
        seen,
    } = sample_all(&mut ex, sc, settings, threads, progress)?;
    progress(settings.cases, settings.cases);

    let mut kinds = Vec::new();
    for (n, s) in seen.into_iter().enumerate() {
        let mut best: Option<(u64, usize, Session)> = None;
        for &case in &s.cases {
            let mut tree = session_tree(&strategy, settings.seed, case);
            let from = tree.current().steps.len();
            let shrunk = shrink(&mut ex, &mut tree, &s.kind, settings.max_shrink_iters);
            if best
                .as_ref()
                .is_none_or(|(_, _, b)| shorter(&ex.pool, &shrunk, b))
            {
                best = Some((case, from, shrunk));
            }
        }
        let Some((case, from, session)) = best else {
            continue;
        };
        let repro = make_repro(&mut ex, sc, settings, n + 1, &s.kind, case, from, session)?;
        kinds.push(KindReport {
            first_case: s.cases.first().copied().unwrap_or(0),
            kind: s.kind,
            sessions: s.sessions,
            repro,
        });
    }
    Ok(Exploration {
        scenario: sc.name.clone(),
        file: sc.file.clone(),
        profile: sc.edge.profile.clone(),
        settings: settings.clone(),
        pool: ex.pool.clone(),
        steps_simulated,
        failing,
        failing_blocked,
        interval: stats::wilson(failing, settings.cases, stats::Z95),
        kinds,
    })
}

/// Case `case` of seed `seed` as a proptest value tree. The strategy cannot reject (no
/// filters), so generation cannot fail; if proptest ever reports otherwise, an empty
/// session stands in.
pub fn session_tree<S: Strategy<Value = Session>>(
    strategy: &S,
    seed: u64,
    case: u64,
) -> Box<dyn ValueTree<Value = Session>>
where
    S::Tree: 'static,
{
    let mut runner = case_runner(seed, case);
    match strategy.new_tree(&mut runner) {
        Ok(t) => Box::new(t),
        Err(_) => Box::new(proptest::strategy::Just(Session {
            pops: Vec::new(),
            steps: Vec::new(),
        })),
    }
}

/// Shorter: fewer steps, then less total time, then smaller indices.
fn shorter(pool: &Pool, a: &Session, b: &Session) -> bool {
    let key = |s: &Session| {
        (
            s.steps.len(),
            pool.times(s).last().copied().unwrap_or(0),
            s.steps
                .iter()
                .map(|x| (x.client, x.request, x.credentials, x.extra, x.gap))
                .collect::<Vec<_>>(),
            s.pops.clone(),
        )
    };
    key(a) < key(b)
}

/// proptest's shrinking loop (as `TestRunner::run` does it), with "still shows `kind`" as
/// the failure: simplify while it fails, complicate when it stops failing.
fn shrink(
    ex: &mut Explorer<'_>,
    tree: &mut Box<dyn ValueTree<Value = Session>>,
    kind: &FailureKind,
    max_iters: u32,
) -> Session {
    let mut best = tree.current();
    let mut iters = 0;
    if tree.simplify() {
        loop {
            iters += 1;
            if iters > max_iters {
                break;
            }
            let cur = tree.current();
            if ex.shows(&cur, kind) {
                best = cur;
                if !tree.simplify() {
                    break;
                }
            } else if !tree.complicate() {
                break;
            }
        }
    }
    best
}

/// Builds the repro scenario of a shrunk session, records every step's outcome as its
/// expectation, writes it as YAML and checks that the YAML replays to the same failure.
#[allow(clippy::too_many_arguments)]
fn make_repro(
    ex: &mut Explorer<'_>,
    sc: &Scenario,
    settings: &Settings,
    number: usize,
    kind: &FailureKind,
    case: u64,
    shrunk_from: usize,
    session: Session,
) -> Result<Repro, ExploreError> {
    let bad = |why: String| ExploreError::Repro {
        kind: kind.id.clone(),
        why,
    };
    let name = format!("{}-repro-{number}", sc.name);
    let about = format!(
        "{}. Found by varyedge explore (seed {}, session {case}), shrunk from {shrunk_from} to {} steps.",
        kind.text,
        settings.seed,
        session.steps.len()
    );
    let mut repro = ex.to_scenario(&session, &name, &about);
    let first = sim::replay(&repro).map_err(|e| bad(e.to_string()))?;
    for (st, r) in repro.steps.iter_mut().zip(&first.steps) {
        st.expect = observed(r);
    }
    let victim = first
        .steps
        .iter()
        .find_map(|r| {
            classify(&repro, &repro.steps, r)
                .filter(|f| f.kind == *kind)
                .map(|f| (f.step, f.poisoned_by))
        })
        .ok_or_else(|| bad("the shrunk session no longer shows it".into()))?;
    let yaml = scenario::write::to_yaml(&repro).map_err(|e| bad(e.to_string()))?;
    let back = scenario::parse(&repro.file, &yaml).map_err(|e| bad(format!("{e}\n{yaml}")))?;
    let trace = sim::replay(&back).map_err(|e| bad(e.to_string()))?;
    if !trace.passed() {
        return Err(bad(format!("its expectations are not met\n{yaml}")));
    }
    let again = trace
        .steps
        .get(victim.0)
        .and_then(|r| classify(&back, &back.steps, r));
    if again.as_ref().map(|f| (&f.kind, f.poisoned_by)) != Some((kind, victim.1)) {
        return Err(bad(format!(
            "step {} is not the same failure\n{yaml}",
            victim.0
        )));
    }
    Ok(Repro {
        case,
        shrunk_from,
        session,
        scenario: back,
        yaml,
        trace,
        victim: victim.0,
        poisoned_by: victim.1,
    })
}

/// A step's observed outcome as an expectation.
pub fn observed(r: &StepReport) -> Expect {
    Expect {
        cors_ok: Some(r.verdict.allowed),
        reason: (!r.verdict.allowed).then_some(r.verdict.reason),
        cache: Some(r.cache),
        cache_induced: Some(r.cache_induced),
        preflight: (r.preflight != PreflightUse::None).then_some(r.preflight),
        poisoned_by: r.poisoned_by,
        status: (r.status != 0).then_some(r.status),
        served_by: None,
    }
}

#[cfg(test)]
mod tests;
