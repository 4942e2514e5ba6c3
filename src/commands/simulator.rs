//! One way to run a scenario under the profiles `matrix` compares, shared by `matrix` (its
//! rows) and `lint` (its simulated poisoning, through [`lint::Replayer`]), so that when
//! lint names a profile as poisoning, `matrix` on the same file shows it failing or both
//! say it is latent.

use std::path::Path;
use varyedge::edge::knobs::Knobs;
use varyedge::error::InputError;
use varyedge::flow::Trace;
use varyedge::lint::{self, Replayer};
use varyedge::origin::OriginModel;
use varyedge::profile::PROFILE_NAMES;
use varyedge::scenario::Scenario;
use varyedge::sim::{self, SimError};

/// A scenario file's edge under each profile (the profile's knobs, the file's overrides
/// on top), and the simulator to run it.
pub(crate) struct Simulator {
    /// `(profile, the file's knobs under it)`, in the order asked for. Only the knobs are
    /// kept: fourteen copies of a long trace's steps would not fit in memory.
    pub(crate) under: Vec<(String, Knobs)>,
}

impl Simulator {
    /// Loads `file` under each of `names` (exit 2 on the first that does not load), one
    /// at a time (only the knobs are kept).
    pub(crate) fn load(file: &Path, names: &[String]) -> Result<Simulator, InputError> {
        let mut under = Vec::new();
        for n in names {
            let sc = super::load(file, Some(n))?;
            under.push((n.clone(), sc.edge.knobs));
        }
        Ok(Simulator { under })
    }

    /// [`Simulator::load`] with each profile's replay ([`Simulator::row`]), the profiles
    /// side by side on every core (one scenario in memory per thread). As one thread
    /// would say: the first profile (in `names` order) that does not load is the error;
    /// otherwise each profile's replay, in order.
    pub(crate) fn load_rows(
        file: &Path,
        names: &[String],
    ) -> Result<(Simulator, Vec<Result<Trace, SimError>>), InputError> {
        let cores = sim::jobs::wanted(0);
        let each = each_on(cores, names, |n| {
            let sc = super::load(file, Some(n))?;
            let trace = Simulator::row(&sc);
            Ok::<_, InputError>((sc.edge.knobs, trace))
        });
        let mut under = Vec::new();
        let mut rows = Vec::new();
        for (n, r) in names.iter().zip(each) {
            let (knobs, trace) = r?;
            under.push((n.clone(), knobs));
            rows.push(trace);
        }
        Ok((Simulator { under }, rows))
    }

    /// Every built-in profile, as `lint` compares them.
    pub(crate) fn all(file: &Path) -> Result<Simulator, InputError> {
        let names: Vec<String> = PROFILE_NAMES.iter().map(|n| n.to_string()).collect();
        Simulator::load(file, &names)
    }

    /// The replay of a scenario as loaded: its own origin, its own edge. This is what a
    /// `matrix` row is.
    pub(crate) fn row(sc: &Scenario) -> Result<Trace, SimError> {
        sim::replay(sc)
    }

    /// Lints `sc` (loaded from `text`) with this simulator.
    pub(crate) fn lint(&self, sc: &Scenario, text: &str) -> Vec<lint::Finding> {
        lint::check(sc, text, self)
    }
}

impl Replayer for Simulator {
    fn replay(&self, sc: &Scenario, knobs: &Knobs, origin: &OriginModel) -> Trace {
        sim::replay_with(sc, knobs, &mut origin.clone())
    }

    fn profiles(&self, _: &Scenario) -> Vec<(String, Knobs)> {
        self.under.clone()
    }

    fn any_cache_induced(&self, sc: &Scenario, knobs: &Knobs, origin: &OriginModel) -> bool {
        sim::any_cache_induced(sc, knobs, &mut origin.clone())
    }

    /// The edges side by side, one thread per available core: each replay is independent
    /// (its own cold edge, its own copy of the origin), so the answers are the same.
    fn any_cache_induced_each(
        &self,
        sc: &Scenario,
        edges: &[(String, Knobs)],
        origin: &OriginModel,
    ) -> Vec<bool> {
        let cores = sim::jobs::wanted(0);
        each_on(cores, edges, |(_, knobs)| {
            self.any_cache_induced(sc, knobs, origin)
        })
    }
}

/// `f` of every item, in their order, computed on up to `threads` threads that take the
/// next item as they finish one (replays of one trace under different edges take very
/// different times).
fn each_on<T: Sync, R: Send>(threads: usize, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                return done;
            };
            done.push((i, f(item)));
        }
    };
    let mut all: Vec<(usize, R)> = std::thread::scope(|s| {
        let others: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in others {
            match h.join() {
                Ok(part) => all.extend(part),
                // a panic in a replay is a bug: carry it on here
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        all
    });
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::each_on;

    #[test]
    fn each_on_keeps_the_order_whatever_the_threads() {
        let items: Vec<u64> = (0..37).collect();
        let want: Vec<u64> = items.iter().map(|x| x * x + 1).collect();
        for threads in [0, 1, 2, 3, 8, 64] {
            assert_eq!(each_on(threads, &items, |x| x * x + 1), want, "{threads}");
        }
        assert!(each_on(4, &[] as &[u64], |x| *x).is_empty());
    }

    #[test]
    fn each_on_uses_several_threads() {
        use std::collections::HashSet;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Condvar, Mutex};
        use std::time::Duration;
        let gave_up = AtomicBool::new(false);
        // each item waits (up to 10 s, once) until a second thread has taken one: on one
        // thread the first item gives up and the count stays at 1
        let seen = (Mutex::new(HashSet::new()), Condvar::new());
        let items: Vec<u32> = (0..16).collect();
        each_on(4, &items, |_| {
            let (lock, cv) = &seen;
            let Ok(mut s) = lock.lock() else { return };
            s.insert(std::thread::current().id());
            cv.notify_all();
            if s.len() < 2 && !gave_up.load(Ordering::Relaxed) {
                let waited = cv.wait_timeout_while(s, Duration::from_secs(10), |s| s.len() < 2);
                if waited.is_ok_and(|(_, t)| t.timed_out()) {
                    gave_up.store(true, Ordering::Relaxed);
                }
            }
        });
        let n = seen.0.lock().map(|s| s.len()).unwrap_or(0);
        assert!(n > 1, "{n} thread(s)");
    }
}
