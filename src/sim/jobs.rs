//! `replay --jobs N`: one scenario's steps split across threads, with the same report as
//! one thread.
//!
//! The steps are grouped by the path of their URL (every primary key of a request is
//! built from its path, so requests in two groups never share a cache entry, whatever
//! the profile puts beside the path in the key). Each thread replays whole groups, in
//! file order, on a [`Sim`] of its own: its own edge, its own copy of every browser, its
//! own counterfactual memo; the reports are put back in file order and summed as one
//! replay would. This gives one thread's answer exactly when nothing a step does reaches
//! a step of another group. What does, and makes [`split`] refuse (one thread then):
//!
//! * **redirects** (a route with a 3xx status or a `Location`): a fetch follows them to
//!   another path, and a cross-path `Location` invalidates another path's entries
//!   (RFC 9111 §4.4);
//! * **`Content-Location`** on a route, when the profile invalidates on unsafe methods;
//! * **`Set-Cookie`** on a route: the browser's cookie jar is shared by every path of a
//!   host, so one response changes what the next request to another path sends;
//! * **error windows** on a route: the counterfactual memo is keyed by request, not time,
//!   so which step fills it first would matter;
//! * a target with whitespace or `|`, which the readable key could confuse with the
//!   header part of another key.
//!
//! What does *not* couple groups, though shared: a browser's CORS-preflight cache and
//! HTTP cache (entries are per URL: a lookup, a store, Chromium's per-URL forget and an
//! unsafe method's invalidation only touch the same URL; purging expired entries changes
//! no answer), a POP or the shield (their entries, variants, in-flight fetches for
//! collapsing and stale refreshes are per primary key), `max_variants` (per primary key)
//! and `edge_cors` (no state). The simulator's edge has no capacity bound (eviction
//! across keys would couple them; only the proxy has `--capacity`). The property test
//! `tests/replay_jobs.rs` compares whole JSON reports of one and several threads on
//! random scenarios that use all of these.

use super::{Sim, SimError, StepReport, Trace};
use crate::origin::OriginModel;
use crate::scenario::{OriginSpec, Scenario};
use std::collections::HashMap;

/// Below this many steps a scenario is replayed on one thread (splitting costs more
/// than it saves).
pub const MIN_STEPS_TO_SPLIT: usize = 4096;

/// Why `sc`'s steps cannot be split across threads, or `None` when they can.
pub fn coupling(sc: &Scenario) -> Option<&'static str> {
    let OriginSpec::Model(m) = &sc.origin else {
        return Some("the origin is a real server");
    };
    if let Some(why) = origin_coupling(m, sc.edge.knobs.invalidate_unsafe) {
        return Some(why);
    }
    if sc
        .steps
        .iter()
        .any(|s| s.target.contains(|c: char| c.is_whitespace() || c == '|'))
    {
        return Some("a step's target has whitespace or `|`");
    }
    None
}

fn origin_coupling(m: &OriginModel, invalidates: bool) -> Option<&'static str> {
    for r in &m.routes {
        if (300..400).contains(&r.status) || r.redirect_options || r.headers.contains("location") {
            return Some("a route redirects");
        }
        if r.headers.contains("set-cookie") {
            return Some("a route sets cookies (one cookie jar per browser spans paths)");
        }
        if invalidates && r.headers.contains("content-location") {
            return Some("a route sends Content-Location (invalidation across paths)");
        }
        if !r.errors.is_empty() {
            return Some("a route has error windows (time-dependent origin)");
        }
    }
    None
}

/// The steps' indices grouped by path, groups in order of first appearance, indices in
/// file order within each; `None` when the steps cannot be split ([`coupling`]).
pub fn split(sc: &Scenario) -> Option<Vec<Vec<usize>>> {
    if coupling(sc).is_some() {
        return None;
    }
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, st) in sc.steps.iter().enumerate() {
        let path = st.target.split(['?', '#']).next().unwrap_or("");
        let g = *group_of.entry(path).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    Some(groups)
}

/// Deals groups to `n` bins, largest first into the emptiest bin; each bin's indices
/// sorted (file order).
fn deal(mut groups: Vec<Vec<usize>>, n: usize) -> Vec<Vec<usize>> {
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let mut bins: Vec<Vec<usize>> = vec![Vec::new(); n.max(1)];
    for g in groups {
        if let Some(b) = bins.iter_mut().min_by_key(|b| b.len()) {
            b.extend(g);
        }
    }
    for b in &mut bins {
        b.sort_unstable();
    }
    bins.retain(|b| !b.is_empty());
    bins
}

/// What `--jobs N` asks for: `N` threads, or one per available core for 0 (the
/// convention of `replay`, `explore` and the JSON report).
pub fn wanted(jobs: usize) -> usize {
    match jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// How many threads a replay of `sc` uses when asked for `jobs` (0 = one per available
/// core): 1 when the scenario is small or cannot be split.
pub fn threads_for(sc: &Scenario, jobs: usize) -> usize {
    let want = wanted(jobs);
    if want <= 1 || sc.steps.len() < MIN_STEPS_TO_SPLIT || coupling(sc).is_some() {
        1
    } else {
        want
    }
}

/// Replays `sc` in-process on up to `jobs` threads (0 = automatic); the trace is the one
/// [`super::replay`] gives.
pub fn replay(sc: &Scenario, jobs: usize) -> Result<Trace, SimError> {
    if threads_for(sc, jobs) <= 1 {
        return super::replay(sc);
    }
    replay_split(sc, jobs.max(1))
}

/// Replays `sc` split into (at most) `threads` threads whatever its size; one thread when
/// it cannot be split. For tests and benchmarks; [`replay`] decides by itself.
pub fn replay_split(sc: &Scenario, threads: usize) -> Result<Trace, SimError> {
    let groups = match (&sc.origin, split(sc)) {
        (OriginSpec::Model(_), Some(g)) if threads > 1 => g,
        _ => return super::replay(sc),
    };
    let OriginSpec::Model(model) = &sc.origin else {
        return super::replay(sc);
    };
    let bins = deal(groups, threads);
    let parts: Vec<Vec<StepReport>> = std::thread::scope(|s| {
        let handles: Vec<_> = bins
            .iter()
            .map(|bin| s.spawn(move || run_bin(sc, model, bin)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let steps = merge(sc.steps.len(), &bins, parts);
    Ok(super::finish(sc, sc.edge.profile.clone(), steps))
}

/// The bins' reports back in file order: each bin's are in file order already, so step
/// `i` is the next one of the bin that holds `i` (no sort, each report moved once).
fn merge<T>(n: usize, bins: &[Vec<usize>], parts: Vec<Vec<T>>) -> Vec<T> {
    let mut owner = vec![0usize; n];
    for (b, bin) in bins.iter().enumerate() {
        for &i in bin {
            owner[i] = b;
        }
    }
    let mut parts: Vec<_> = parts.into_iter().map(Vec::into_iter).collect();
    owner
        .iter()
        .filter_map(|&b| parts.get_mut(b).and_then(Iterator::next))
        .collect()
}

/// One thread's share: its steps in file order on a fresh simulator.
fn run_bin(sc: &Scenario, model: &OriginModel, bin: &[usize]) -> Vec<StepReport> {
    let mut up = model.clone();
    let mut sim = Sim::new(sc, &sc.edge.knobs);
    bin.iter()
        .map(|&i| sim.step(&mut up, i, &sc.steps[i]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deal_balances_and_keeps_file_order() {
        let bins = deal(vec![vec![0, 3, 4], vec![1], vec![2, 5]], 2);
        assert_eq!(bins, vec![vec![0, 3, 4], vec![1, 2, 5]]);
        assert_eq!(deal(vec![vec![0]], 4), vec![vec![0]]);
    }

    #[test]
    fn merge_restores_file_order() {
        let bins = vec![vec![0, 3, 4], vec![1, 2, 5]];
        let parts = vec![vec!["a", "d", "e"], vec!["b", "c", "f"]];
        assert_eq!(merge(6, &bins, parts), vec!["a", "b", "c", "d", "e", "f"]);
    }
}
