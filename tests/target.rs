//! `replay --target`: the wire driver judges real responses exactly as the simulator
//! judges modelled ones. Loopback only; every process started here is stopped on drop.

mod common;

use common::{free_port, Server};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use varyedge::edge::Outcome;
use varyedge::net::target::{self, TargetOptions};
use varyedge::scenario;
use varyedge::sim::{self, Trace};

fn file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/wire")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .args(args)
        .output()
        .expect("run varyedge")
}

fn wire(path: &Path, target_url: &str, direct: Option<&str>) -> Trace {
    let text = std::fs::read_to_string(path).unwrap();
    let sc = scenario::parse(&path.display().to_string(), &text).unwrap();
    let opts = TargetOptions {
        direct: direct.map(str::to_string),
        max_wait: Duration::from_secs(2),
        ..TargetOptions::new(target_url)
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(target::replay(&sc, &opts)).unwrap().trace
}

fn in_process(path: &Path) -> Trace {
    let text = std::fs::read_to_string(path).unwrap();
    sim::replay(&scenario::parse(&path.display().to_string(), &text).unwrap()).unwrap()
}

#[test]
fn straight_to_the_origin_the_verdicts_equal_the_in_process_ones() {
    let f = file("origin-alone.yaml");
    let origin = Server::origin(&f);
    let model = in_process(&f);
    assert!(model.passed());
    for direct in [Some(origin.url.as_str()), None] {
        let real = wire(&f, &origin.url, direct);
        assert_eq!(real.profile, format!("target {}", origin.url));
        assert_eq!(real.steps.len(), model.steps.len());
        for (r, m) in real.steps.iter().zip(&model.steps) {
            let i = r.index;
            assert_eq!(r.verdict, m.verdict, "step {i}");
            assert_eq!(r.direct, m.direct, "step {i}");
            assert_eq!(r.preflight, m.preflight, "step {i}");
            assert_eq!(r.status, m.status, "step {i}");
            assert_eq!(r.expectation, m.expectation, "step {i}");
            assert!(!r.cache_induced && r.poisoned_by.is_none(), "step {i}");
            // with the origin's counters, every request is known to have reached it
            if direct.is_some() {
                assert_eq!(r.cache, Outcome::Miss, "step {i}");
                assert!(
                    r.preflight_cache.is_none_or(|o| o == Outcome::Miss),
                    "step {i}"
                );
            }
        }
        assert!(real.passed());
        assert_eq!(real.summary, model.summary);
    }
}

/// The first trace of a JSON report, from a run that must have exited 0.
fn json_trace(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    if v.is_array() {
        v[0].clone()
    } else {
        v
    }
}

#[test]
fn the_binary_replays_over_the_wire_with_every_report_format() {
    let f = file("origin-alone.yaml");
    let origin = Server::origin(&f);
    let fs = f.to_str().unwrap();
    let out = run(&[
        "replay",
        fs,
        "--target",
        &origin.url,
        "--direct",
        &origin.url,
        "--format",
        "json",
    ]);
    let t = json_trace(&out);
    assert_eq!(t["profile"], format!("target {}", origin.url));
    assert_eq!(t["steps"].as_array().unwrap().len(), 8);
    assert_eq!(t["steps"][4]["verdict"]["reason"], "header-not-allowed");
    for fmt in ["text", "junit"] {
        let out = run(&["replay", fs, "--target", &origin.url, "--format", fmt]);
        assert_eq!(out.status.code(), Some(0), "{fmt}");
        assert!(!out.stdout.is_empty());
        // without --direct the user is told where the no-cache verdicts came from
        assert!(String::from_utf8_lossy(&out.stderr).contains("origin model"));
    }
}

/// `--pause D` waits D before every step after the first, and changes no verdict.
#[test]
fn pause_waits_between_steps_and_changes_no_verdict() {
    let f = file("origin-alone.yaml");
    let origin = Server::origin(&f);
    let fs = f.to_str().unwrap();
    let verdicts = |out: &Output| -> Vec<serde_json::Value> {
        json_trace(out)["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["verdict"].clone())
            .collect()
    };
    let args = ["replay", fs, "--target", &origin.url, "--format", "json"];
    let plain = run(&args);
    let started = varyedge::net::clock::instant();
    let paused = run(&[&args[..], &["--pause", "150ms"]].concat());
    let took = started.elapsed().as_millis();
    let (plain, paused) = (verdicts(&plain), verdicts(&paused));
    assert_eq!(plain.len(), 8);
    assert_eq!(plain, paused);
    // seven pauses of 150 ms at least (a lower bound: sleeping never ends early)
    assert!(took >= 7 * 150, "took {took} ms");
}

#[test]
fn bad_targets_exit_2_with_a_message_and_no_report() {
    let f = file("origin-alone.yaml");
    let fs = f.to_str().unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--target".into(), "https://127.0.0.1:1".into()],
            "expected an http:// URL",
        ),
        (
            vec!["--target".into(), "127.0.0.1:1".into()],
            "expected an http:// URL",
        ),
        (
            vec![
                "--target".into(),
                format!("http://127.0.0.1:{}", free_port()),
            ],
            "step #0 (line",
        ),
        (
            vec![
                "--target".into(),
                "http://127.0.0.1:1".into(),
                "--max-wait".into(),
                "soon".into(),
            ],
            "--max-wait",
        ),
        (
            vec![
                "--target".into(),
                "http://127.0.0.1:1".into(),
                "--pause".into(),
                "a bit".into(),
            ],
            "--pause: expected a duration",
        ),
        (
            vec!["--direct".into(), "http://127.0.0.1:1".into()],
            "--target",
        ),
    ];
    for (extra, msg) in cases {
        let mut args = vec!["replay".to_string(), fs.to_string()];
        args.extend(extra.iter().cloned());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&refs);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(msg), "{extra:?}: {err}");
        assert!(out.stdout.is_empty(), "{extra:?}");
    }
}
