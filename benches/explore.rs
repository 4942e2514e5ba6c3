//! Sessions explored per second (generation + simulation + classification), against a
//! baseline measured in the same run: replaying the same number of steps with
//! `sim::replay` (no generation, one fixed scenario).
//!
//! "explore a 10-step session" is the sampling fast path (`Explorer::any_failure`, which
//! stops at the first failing step); "sample … as explore() does" adds the full second
//! run `explore()` makes of a failing session for its findings.
//!
//! "explore() …, 1 thread" and "…, N threads" time the library's whole sampling phase
//! (`explore::explore_jobs`) over 4,096 ten-step sessions, one thread against every
//! available core; shrinking is held to one simulation per kind so that the figure is
//! sessions sampled per second.
//!
//! `cargo bench --bench explore`

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// The binary's allocator (src/main.rs), so the bench measures what `varyedge` runs.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use proptest::strategy::ValueTree;
use std::hint::black_box;
use varyedge::explore::{explore_jobs, session_tree, Explorer, Settings};
use varyedge::scenario::{self, Scenario};
use varyedge::sim;

fn load(name: &str) -> Scenario {
    let path = format!("{}/scenarios/explore/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("bundled scenario");
    scenario::parse(&path, &text).expect("valid scenario")
}

/// The scenario with its steps repeated to `n` steps, 1 s apart: the baseline.
fn ten_steps(sc: &Scenario, n: usize) -> Scenario {
    let mut out = sc.clone();
    out.steps = (0..n)
        .map(|i| {
            let mut st = sc.steps[i % sc.steps.len()].clone();
            st.at_ms = i as u64 * 1000;
            st.expect = Default::default();
            st
        })
        .collect();
    out
}

fn bench(c: &mut Criterion) {
    for name in ["reflect-without-vary.yaml", "preflight-and-no-origin.yaml"] {
        let sc = load(name);
        let mut g = c.benchmark_group(format!("explore/{}", name.trim_end_matches(".yaml")));
        g.throughput(Throughput::Elements(1));

        let base = ten_steps(&sc, 10);
        g.bench_function("baseline: sim::replay of 10 steps", |b| {
            b.iter(|| black_box(sim::replay(black_box(&base)).map(|t| t.summary.cache_induced)))
        });

        let mut ex = Explorer::new(&sc).expect("modelled origin");
        let strategy = ex.pool().strategy(10, 10);
        let mut case = 0u64;
        g.bench_function("generate a 10-step session", |b| {
            b.iter(|| {
                case += 1;
                black_box(session_tree(&strategy, 0, case).current())
            })
        });
        g.bench_function("explore a 10-step session", |b| {
            b.iter(|| {
                case += 1;
                let s = session_tree(&strategy, 0, case).current();
                black_box(ex.any_failure(&s))
            })
        });
        // `any_failure` stops at the first failing step; `explore()` then runs a failing
        // session again in full for its findings. This is a sampled session's whole cost.
        g.bench_function("sample a 10-step session as explore() does", |b| {
            b.iter(|| {
                case += 1;
                let s = session_tree(&strategy, 0, case).current();
                if ex.any_failure(&s) {
                    black_box(ex.findings(&s));
                }
            })
        });
        g.finish();
        sample_phase(c, name, &sc);
    }
}

/// `explore_jobs` over [`SESSIONS`] ten-step sessions, on one thread and on every core.
fn sample_phase(c: &mut Criterion, name: &str, sc: &Scenario) {
    const SESSIONS: u64 = 4096;
    let settings = Settings {
        cases: SESSIONS,
        min_steps: 10,
        max_steps: 10,
        shrink_candidates: 1,
        max_shrink_iters: 1,
        ..Settings::default()
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut g = c.benchmark_group(format!("explore/{}", name.trim_end_matches(".yaml")));
    g.throughput(Throughput::Elements(SESSIONS));
    g.sample_size(10);
    for jobs in [1, cores] {
        let id = format!("explore() of {SESSIONS} 10-step sessions, {jobs} thread(s)");
        g.bench_function(id, |b| {
            b.iter(|| {
                let e = explore_jobs(sc, &settings, jobs, &mut |_, _| {}).expect("explorable");
                black_box(e.failing)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
