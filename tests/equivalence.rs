//! The same scenario gives the same per-step outcomes replayed in-process and replayed
//! over the wire (`replay --target`) through `varyedge proxy` in front of
//! `varyedge origin` (issue 3). Only the varyedge binary is needed; loopback, ephemeral
//! ports, every child stopped on drop, every wait bounded.
//!
//! Corpus: the bundled `scenarios/*.yaml` and the short-gap scenarios in
//! `tests/equivalence/` (TTL expiry with max-age 2 s, the browser's preflight cache reused,
//! OPTIONS cached with and without the preflight headers in the key, a request without
//! Origin first, URL-only poisoning within one key, Vary honoured per Origin). For each:
//! `varyedge origin SCENARIO`, `varyedge proxy --upstream ORIGIN` with the scenario's edge
//! expressed as proxy flags (`--profile P` plus the overrides as `--vary`,
//! `--cache-options`, `--preflight-key`, `--key-header`, `--collapse`), then
//! `replay --target PROXY --direct ORIGIN --format json` and `replay --format json`.
//!
//! Compared per step: `cache` (exactly: the proxy's `Cache-Status` tells pass from miss,
//! and the wire driver takes it over the origin's counters, which the proxy's background
//! judge fetches disturb), `preflight`, `preflight_cache`, the verdict (`cors`, `reason`,
//! `console`, `in_preflight`, `checked`), the no-cache verdict `direct`, `cache_induced`,
//! `wrongly_allowed`, `poisoned_by`, `status` and `expectation`; and the exit codes. Not
//! compared: `key` and `url` (the wire run names the proxy's address, the in-process one
//! the scenario's host).
//!
//! Time: the wire run waits in real time. A scenario whose timeline fits in
//! [`REAL_PACE_MAX_MS`] runs at its own pace. A longer one runs with its gaps shortened
//! (`--max-wait`), which is exact only when no stored response's freshness lifetime falls
//! inside the timeline (every lifetime is 0 or longer than the whole scenario, so an entry
//! fresh at its first reuse stays fresh to the end in both runs); the browser's preflight
//! cache keeps the scenario's clock in both drivers, so its expiry is unaffected.
//!
//! Skipped bundled scenarios (the reason is computed by [`plan`]; the test fails if the
//! computed list and this one part ways):
//! - `13-ttl-expiry-intermittent.yaml`: entries expire at 60 s inside a 122 s timeline;
//!   too long to wait for, and shortened gaps would change what expires. Covered by
//!   `tests/equivalence/ttl-expiry.yaml` (max-age 2 s).
//! - `18-collapsed-naive.yaml`: its second request arrives while the first is still at the
//!   origin (200 ms latency) and is collapsed onto it; the wire driver sends steps one
//!   after another, so nothing is ever in flight together.
//! - `23-pops-and-shield.yaml`: two POPs and a shield; one proxy is one cache.
//!
//! No other bundled scenario uses several POPs, a shield, an `upstream:` origin or knobs
//! the proxy flags cannot set; [`plan`] would skip them with that reason.

mod common;

use common::{Server, TempDir};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use varyedge::fields::{CacheControl, Headers};
use varyedge::net::clock;
use varyedge::origin::{CorsPolicy, OriginModel};
use varyedge::profile::{self, Collapse, EdgeFlags};
use varyedge::scenario::{self, OriginSpec, Scenario};

const BIN: &str = env!("CARGO_BIN_EXE_varyedge");

/// Timelines up to this long are replayed at their own pace.
const REAL_PACE_MAX_MS: u64 = 4_000;

/// The bundled scenarios that cannot run over the wire (see the module comment).
const SKIPPED: &[&str] = &[
    "13-ttl-expiry-intermittent.yaml",
    "18-collapsed-naive.yaml",
    "23-pops-and-shield.yaml",
];

/// How to run one scenario over the wire.
#[derive(Debug)]
struct Plan {
    proxy_args: Vec<String>,
    max_wait: &'static str,
}

/// The scenario's edge as `varyedge proxy` flags, or why the flags cannot express it.
fn proxy_args(sc: &Scenario) -> Result<Vec<String>, String> {
    EdgeFlags::for_edge(&sc.edge.profile, &sc.edge.knobs)
        .map(|f| f.to_args())
        .map_err(|e| e.to_string())
}

/// Freshness lifetimes (s) a stored response of this origin can get at this edge, as the
/// edge core computes them from `Cache-Control` and the profile's TTL overrides: the
/// routes' when some step is a `GET` or `HEAD` (no profile stores another method but
/// `OPTIONS`), the preflights' when the edge stores `OPTIONS`.
fn lifetimes(sc: &Scenario, m: &OriginModel) -> Vec<u64> {
    let k = &sc.edge.knobs;
    let gets = sc
        .steps
        .iter()
        .any(|s| matches!(s.method.as_str(), "GET" | "HEAD"));
    let mut ccs: Vec<Option<String>> = Vec::new();
    let cors = |c: &Option<CorsPolicy>, ccs: &mut Vec<Option<String>>| {
        if let (Some(c), true) = (c, k.cache_options) {
            ccs.push(c.preflight_cache_control.clone());
        }
    };
    cors(&m.cors, &mut ccs);
    for r in &m.routes {
        if gets {
            ccs.push(r.cache_control.clone());
            ccs.push(
                r.headers
                    .get_combined("cache-control")
                    .map(|c| c.to_string()),
            );
        }
        if let Some(c) = &r.cors {
            cors(c, &mut ccs);
        }
    }
    let forced = k.ttl.min.is_some_and(|m| m > 0);
    let mut out = Vec::new();
    for cc in ccs {
        let h = Headers::from_pairs(cc.as_deref().map(|v| ("cache-control", v)));
        let cc = CacheControl::parse(&h, "cache-control").unwrap_or_default();
        if (cc.no_store || cc.private) && !forced {
            continue;
        }
        let Some(mut s) = cc.s_maxage.or(cc.max_age).or(k.ttl.default) else {
            continue;
        };
        if cc.no_cache && !forced {
            s = 0;
        }
        if forced && (cc.no_store || cc.private || cc.no_cache) {
            s = k.ttl.min.unwrap_or(0);
        }
        if let Some(min) = k.ttl.min {
            s = s.max(min);
        }
        if let Some(max) = k.ttl.max {
            s = s.min(max);
        }
        out.push(s);
    }
    out
}

/// How to replay `sc` over the wire, or why it cannot be.
fn plan(sc: &Scenario) -> Result<Plan, String> {
    let OriginSpec::Model(model) = &sc.origin else {
        return Err(
            "its origin is an `upstream:` URL, not a model `varyedge origin` serves".into(),
        );
    };
    let proxy_args = proxy_args(sc)?;
    if sc.edge.knobs.collapse != Collapse::Off && model.latency_ms > 0 {
        let overlap = sc
            .steps
            .windows(2)
            .any(|w| w[1].at_ms.saturating_sub(w[0].at_ms) < model.latency_ms);
        if overlap {
            return Err(format!(
                "a step starts while the previous one is still at the origin ({} ms latency) and is collapsed; the wire driver sends steps one after another",
                model.latency_ms
            ));
        }
    }
    let span = sc.steps.last().map_or(0, |s| s.at_ms);
    if span <= REAL_PACE_MAX_MS {
        return Ok(Plan {
            proxy_args,
            max_wait: "10s",
        });
    }
    if let Some(l) = lifetimes(sc, model)
        .into_iter()
        .find(|&l| l > 0 && l * 1000 <= span)
    {
        return Err(format!(
            "entries expire after {l} s inside a {span} ms timeline: too long to replay at its own pace, and shortened gaps would change what expires"
        ));
    }
    Ok(Plan {
        proxy_args,
        max_wait: "20ms",
    })
}

/// Runs the binary, killing it if it is still running after `within`.
fn run_bounded(args: &[&str], within: Duration) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run varyedge");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let t0 = clock::instant();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > within {
            let _ = child.kill();
            let _ = child.wait();
            panic!("varyedge {args:?} still running after {within:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn trace(out: &Output, what: &str) -> Value {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: no JSON report ({e}); exit {:?}; stderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    if v.is_array() {
        v[0].clone()
    } else {
        v
    }
}

/// The compared part of a step.
fn projection(s: &Value) -> Value {
    let v = &s["verdict"];
    json!({
        "cache": s["cache"],
        "preflight": s["preflight"],
        "preflight_cache": s.get("preflight_cache"),
        "verdict": {
            "cors": v["cors"], "reason": v["reason"], "console": v["console"],
            "in_preflight": v["in_preflight"], "checked": v["checked"],
        },
        "direct": s["direct"],
        "cache_induced": s["cache_induced"],
        "wrongly_allowed": s["wrongly_allowed"],
        "poisoned_by": s.get("poisoned_by"),
        "status": s["status"],
        "expectation": s["expectation"],
    })
}

/// What one scenario's comparison found.
struct Compared {
    file: String,
    steps: usize,
    agreeing: usize,
    mismatches: Vec<String>,
    /// `cache` values seen, for the coverage check.
    outcomes: BTreeSet<String>,
    cache_induced: usize,
    /// The in-process replay's exit code.
    sim_exit: Option<i32>,
}

fn compare(path: &Path, plan: &Plan) -> Compared {
    let file = path.display().to_string();
    let logs = TempDir::new("equiv");
    let mut origin_cmd = Command::new(BIN);
    origin_cmd
        .arg("origin")
        .arg(path)
        .args(["--listen", "127.0.0.1:0"])
        .stderr(std::fs::File::create(logs.path().join("origin.log")).unwrap());
    let origin = Server::spawn(
        "varyedge origin",
        &mut origin_cmd,
        Some(logs.path().join("origin.log")),
        Duration::from_secs(30),
    );
    let origin_url = origin.url.clone();
    let mut proxy_cmd = Command::new(BIN);
    proxy_cmd
        .args([
            "proxy",
            "--upstream",
            &origin_url,
            "--listen",
            "127.0.0.1:0",
        ])
        .args(&plan.proxy_args)
        .stderr(std::fs::File::create(logs.path().join("proxy.log")).unwrap());
    let mut proxy = Server::spawn(
        "varyedge proxy",
        &mut proxy_cmd,
        Some(logs.path().join("proxy.log")),
        Duration::from_secs(30),
    );
    let proxy_url = proxy.url.clone();
    let wire_out = run_bounded(
        &[
            "replay",
            &file,
            "--target",
            &proxy_url,
            "--direct",
            &origin_url,
            "--max-wait",
            plan.max_wait,
            "--format",
            "json",
        ],
        Duration::from_secs(90),
    );
    proxy.proc.check_alive();
    let sim_out = run_bounded(
        &["replay", &file, "--format", "json"],
        Duration::from_secs(30),
    );
    let wire = trace(&wire_out, &format!("{file} over the wire"));
    let sim = trace(&sim_out, &format!("{file} in-process"));
    let ws = wire["steps"].as_array().unwrap();
    let ss = sim["steps"].as_array().unwrap();
    let mut c = Compared {
        file: file.clone(),
        steps: ss.len(),
        agreeing: 0,
        mismatches: Vec::new(),
        outcomes: BTreeSet::new(),
        cache_induced: 0,
        sim_exit: sim_out.status.code(),
    };
    if ws.len() != ss.len() {
        c.mismatches.push(format!(
            "{file}: {} steps over the wire, {} in-process",
            ws.len(),
            ss.len()
        ));
        return c;
    }
    for (w, s) in ws.iter().zip(ss) {
        if projection(w) == projection(s) {
            c.agreeing += 1;
            c.outcomes
                .insert(s["cache"].as_str().unwrap_or("?").to_string());
            c.cache_induced += usize::from(s["cache_induced"] == true);
        } else {
            c.mismatches.push(format!(
                "{file} step {}: over the wire (proxy {})\n{}\nin-process\n{}\nproxy log:\n{}",
                s["index"],
                plan.proxy_args.join(" "),
                serde_json::to_string_pretty(w).unwrap(),
                serde_json::to_string_pretty(s).unwrap(),
                proxy.stderr_text()
            ));
        }
    }
    if wire_out.status.code() != sim_out.status.code() {
        c.mismatches.push(format!(
            "{file}: exit {:?} over the wire, {:?} in-process; wire stderr:\n{}",
            wire_out.status.code(),
            sim_out.status.code(),
            String::from_utf8_lossy(&wire_out.stderr)
        ));
    }
    c
}

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&d)
        .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v
}

fn load(path: &Path) -> Scenario {
    let text = std::fs::read_to_string(path).unwrap();
    scenario::parse(&path.display().to_string(), &text).unwrap()
}

/// The two corpus tests take turns: the short-gap scenarios run at their own pace and
/// should not share the two cores with the other corpus's processes.
static ONE_CORPUS_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Compares every planned scenario, `workers` at a time; panics with every mismatch.
fn compare_all(jobs: Vec<(PathBuf, Plan)>, workers: usize) -> Vec<Compared> {
    let _turn = ONE_CORPUS_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((path, plan)) = jobs.get(i) else {
                    break;
                };
                let c = compare(path, plan);
                results.lock().unwrap().push(c);
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.file.cmp(&b.file));
    let steps: usize = results.iter().map(|c| c.steps).sum();
    let agreeing: usize = results.iter().map(|c| c.agreeing).sum();
    println!(
        "{} scenarios compared, {agreeing} of {steps} steps agree",
        results.len()
    );
    let mismatches: Vec<&String> = results.iter().flat_map(|c| &c.mismatches).collect();
    assert!(
        mismatches.is_empty(),
        "{} mismatch(es):\n\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    results
}

#[test]
fn bundled_scenarios_agree_in_process_and_through_the_proxy() {
    let mut jobs = Vec::new();
    let mut skipped = Vec::new();
    for path in yaml_files("scenarios") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match plan(&load(&path)) {
            Ok(p) => jobs.push((path, p)),
            Err(why) => {
                println!("skipped {name}: {why}");
                skipped.push(name);
            }
        }
    }
    assert_eq!(
        skipped, SKIPPED,
        "the scenarios that cannot run over the wire changed: update SKIPPED and the module comment"
    );
    let n = jobs.len();
    let results = compare_all(jobs, 3);
    assert_eq!(results.len(), n);
    // not vacuous: the corpus exercises every forwarded/served outcome the wire can show
    let seen: BTreeSet<String> = results.iter().flat_map(|c| c.outcomes.clone()).collect();
    for o in ["hit", "miss", "pass"] {
        assert!(seen.contains(o), "no step with cache {o}: {seen:?}");
    }
    assert!(results.iter().map(|c| c.cache_induced).sum::<usize>() >= 3);
}

#[test]
fn short_gap_scenarios_agree_in_process_and_through_the_proxy() {
    let mut jobs = Vec::new();
    for path in yaml_files("tests/equivalence") {
        let p = plan(&load(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // these exist to be replayed at their own pace
        assert_eq!(p.max_wait, "10s", "{}: timeline too long", path.display());
        jobs.push((path, p));
    }
    assert!(
        jobs.len() >= 3,
        "tests/equivalence/ holds {} scenarios",
        jobs.len()
    );
    // at their own pace: all at once, so the TTL gaps overlap instead of adding up
    let n = jobs.len();
    let results = compare_all(jobs, n);
    for c in &results {
        // each states its expectations and they hold (exit 0; the wire run's exit code
        // was compared above)
        assert_eq!(c.sim_exit, Some(0), "{}", c.file);
        assert!(c.steps > 0, "{}", c.file);
    }
    assert!(results.iter().map(|c| c.cache_induced).sum::<usize>() >= 5);
}

#[test]
fn the_edge_maps_to_proxy_flags_or_is_refused_with_a_reason() {
    let sc = load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/equivalence/no-origin-first-keyed.yaml"),
    );
    assert_eq!(
        proxy_args(&sc).unwrap(),
        [
            "--profile",
            "varnish",
            "--vary",
            "ignore-origin",
            "--key-header",
            "x-tenant",
            "--collapse",
            "off"
        ]
    );
    let mut more = sc.clone();
    more.edge.knobs.pops = 2;
    assert!(proxy_args(&more).unwrap_err().contains("POPs"));
    let mut more = sc.clone();
    more.edge.knobs.max_variants = Some(3);
    assert!(proxy_args(&more).unwrap_err().contains("no proxy flag"));
    let mut more = sc;
    more.edge.profile = "cloudfront-cors-s3".into();
    more.edge.knobs = profile::profile("cloudfront-cors-s3").unwrap().knobs;
    more.edge.knobs.cache_options = false;
    assert!(proxy_args(&more).unwrap_err().contains("cache_options"));
}
