//! Replays a generated trace of 1,000,000 requests (many origins, paths and POPs) through
//! the simulator: edge core, browser model, origin model and attribution, per step.
//! Target (issue 2): at least 1,000,000 simulated requests per second on one core; issue
//! 18 raises it to 3,000,000. Figures and how they were measured: benches/README.md.
//!
//! `cargo bench --bench replay` — the figure is criterion's "thrpt" in elements/s. The
//! `parse-100k` group times loading a 100,000-step trace (elements: steps).
#![allow(missing_docs)] // criterion's macros generate undocumented functions

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// The binary's allocator (src/main.rs), so the bench measures what `varyedge` runs.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::hint::black_box;
use varyedge::scenario::{parse, Scenario, Step};
use varyedge::sim::{Sim, Upstream};

const REQUESTS: usize = 1_000_000;
const ORIGINS: usize = 50;
const PATHS: usize = 200;
const POPS: usize = 4;

/// A scenario with many origins on several POPs behind a Vary-honouring edge, an origin
/// that reflects an allowlist with `Vary: Origin`, and a URL-keyed variant of it.
fn scenario(profile: &str) -> Scenario {
    parse("bench.yaml", &scenario_text(profile, 1, false)).expect("bench scenario parses")
}

/// The bench scenario's YAML with its step pool written `rounds` times over, 3 ms apart:
/// as one-line flow mappings (`- { at: +3ms, client: c1, fetch: GET /api/r0?v=0 }`, what
/// the quick step reader takes), or, with `block`, as block mappings over three lines
/// each (what only the YAML reader takes).
fn scenario_text(profile: &str, rounds: usize, block: bool) -> String {
    let mut y = String::from("origin:\n  cors:\n    allow_origins: [");
    y.push_str(
        &(0..ORIGINS)
            .filter(|i| i % 5 != 4)
            .map(|i| format!("https://app{i}.example.com"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    y.push_str("]\n    allow_methods: [GET, PUT]\n    allow_headers: [content-type]\n    max_age: 600\n    vary_origin: true\n  routes:\n    - { path: \"/api/*\", cache_control: \"public, max-age=60\" }\n");
    y.push_str(&format!(
        "edge: {{ profile: {profile}, pops: {POPS} }}\nclients:\n"
    ));
    for i in 0..ORIGINS {
        let agent = ["chrome", "firefox", "safari", "none"][i % 4];
        y.push_str(&format!(
            "  - {{ name: c{i}, origin: https://app{i}.example.com, browser: {agent}, pop: {} }}\n",
            i % POPS
        ));
    }
    y.push_str("steps:\n");
    for round in 0..rounds {
        for p in 0..PATHS {
            for c in 0..ORIGINS {
                if (p * 7 + c) % 10 == 0 {
                    let method = if (p + c) % 50 == 0 { "PUT" } else { "GET" };
                    let at = if round == 0 && p == 0 { "0ms" } else { "+3ms" };
                    let fetch = format!("{method} /api/r{p}?v={}", p % 3);
                    y.push_str(&if block {
                        format!("  - at: {at}\n    client: c{c}\n    fetch: {fetch}\n")
                    } else if rounds == 1 {
                        format!("  - {{ client: c{c}, fetch: {fetch} }}\n")
                    } else {
                        format!("  - {{ at: {at}, client: c{c}, fetch: {fetch} }}\n")
                    });
                }
            }
        }
    }
    y
}

/// Replays `n` requests drawn round-robin from the scenario's step pool, 3 ms apart, so
/// entries expire (60 s TTL) and refill many times over the trace.
fn replay(sc: &Scenario, n: usize) -> usize {
    let varyedge::scenario::OriginSpec::Model(m) = &sc.origin else {
        return 0;
    };
    let mut origin = m.clone();
    let up: &mut dyn Upstream = &mut origin;
    let mut sim = Sim::new(sc, &sc.edge.knobs);
    let pool: &[Step] = &sc.steps;
    let mut induced = 0;
    // a fixed, well-mixed walk over the pool
    let mut j = 0usize;
    for i in 0..n {
        j = (j + 7919) % pool.len();
        let r = sim.step_at(up, i, &pool[j], (i as u64) * 3);
        induced += usize::from(r.cache_induced);
        black_box(&r);
    }
    induced
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("replay-1M");
    g.sample_size(10);
    // VARYEDGE_BENCH_REQUESTS shortens the trace for profiling under callgrind.
    let n = std::env::var("VARYEDGE_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(REQUESTS);
    g.throughput(Throughput::Elements(n as u64));
    for profile in ["varnish", "url-only"] {
        let sc = scenario(profile);
        g.bench_function(profile, |b| b.iter(|| replay(&sc, n)));
    }
    g.finish();
}

/// Loading a 100,000-step trace (`scenario::parse`: YAML, then validation), the same
/// steps written two ways: one-line flow mappings, which the quick step reader takes,
/// and block mappings, which the general YAML reader reads.
fn bench_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse-100k");
    g.sample_size(10);
    let rounds = 100; // the pool is 1,000 steps
    for (name, block) in [("flow-lines", false), ("block-mappings", true)] {
        let text = scenario_text("varnish", rounds, block);
        let steps = parse("bench.yaml", &text)
            .expect("trace parses")
            .steps
            .len();
        assert_eq!(steps, rounds * 1000);
        g.throughput(Throughput::Elements(steps as u64));
        g.bench_function(name, |b| b.iter(|| parse("bench.yaml", black_box(&text))));
    }
    g.finish();
}

criterion_group!(benches, bench, bench_parse);
criterion_main!(benches);
