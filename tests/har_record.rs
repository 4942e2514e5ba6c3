//! Property (issue 15): for generated scenarios, `replay --target URL --har FILE` through
//! `varyedge proxy` in front of `varyedge origin`, then `import har FILE`, yields a
//! scenario whose in-process replay gives the same verdict on every step as the wire run.
//! Loopback only; seeded; a bounded number of cases (each starts two processes).

mod common;

use common::{Server, TempDir};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;
use std::process::Command;

const CASES: u32 = 12;

#[derive(Clone, Debug)]
struct Case {
    profile: &'static str,
    allow: &'static str,
    vary: &'static str,
    /// (client, method, path, header x-a?, gap ms)
    steps: Vec<(usize, &'static str, &'static str, bool, u64)>,
}

const CLIENTS: &str = "clients:\n  - { name: a, origin: https://a.example, browser: chrome }\n  - { name: b, origin: https://b.example, browser: firefox }\n  - { name: c, origin: https://c.example, browser: safari }\n  - { name: img, origin: https://a.example, mode: no-cors }\n  - { name: curl, browser: none }\n";
const NAMES: [&str; 5] = ["a", "b", "c", "img", "curl"];

fn case() -> impl Strategy<Value = Case> {
    let step = (
        0..5usize,
        prop::sample::select(vec!["GET", "GET", "PUT"]),
        prop::sample::select(vec!["/p/1", "/p/2"]),
        any::<bool>(),
        0..1500u64,
    );
    (
        prop::sample::select(vec!["url-only", "rfc9111", "cloudflare"]),
        prop::sample::select(vec![
            "[https://a.example, https://b.example]",
            "\"*\"",
            "[https://a.example]",
        ]),
        prop::sample::select(vec!["false", "true", "when-origin"]),
        prop::collection::vec(step, 2..7),
    )
        .prop_map(|(profile, allow, vary, steps)| Case {
            profile,
            allow,
            vary,
            steps,
        })
}

fn yaml(c: &Case) -> String {
    let mut y = format!(
        "name: generated\nscheme: http\nhost: 127.0.0.1:9\norigin:\n  cors: {{ allow_origins: {}, vary_origin: {}, allow_methods: [GET, PUT], allow_headers: [x-a] }}\n  routes: [ {{ path: /p/*, cache_control: \"max-age=0, s-maxage=300\", body: ok }} ]\nedge: {{ profile: {} }}\n{CLIENTS}steps:\n",
        c.allow, c.vary, c.profile
    );
    for &(cl, m, p, h, gap) in &c.steps {
        // no-cors and non-browser clients only send simple requests
        let m = if cl >= 3 { "GET" } else { m };
        y.push_str(&format!(
            "  - {{ client: {}, at: +{gap}ms, fetch: {m} {p}{} }}\n",
            NAMES[cl],
            if h && cl < 3 {
                ", headers: { x-a: \"1\" }"
            } else {
                ""
            }
        ));
    }
    y
}

fn varyedge(args: &[&str]) -> (i32, Value, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (o.status.code().unwrap_or(-1), v, err)
}

fn verdicts(v: &Value) -> Vec<(String, String)> {
    let steps = v["steps"]
        .as_array()
        .or(v[0]["steps"].as_array())
        .cloned()
        .unwrap_or_default();
    steps
        .iter()
        .map(|s| {
            (
                s["verdict"]["cors"].as_str().unwrap_or("?").to_string(),
                s["verdict"]["reason"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

fn check(c: &Case, dir: &TempDir, n: u32) -> Result<(), TestCaseError> {
    let sc = dir.path().join(format!("case{n}.yaml"));
    std::fs::write(&sc, yaml(c)).unwrap();
    let origin = Server::origin(&sc);
    let proxy_srv = Server::proxy(&origin.url, &["--profile", c.profile]);
    let proxy = proxy_srv.url.clone();
    let har = dir.path().join(format!("case{n}.har"));
    let sc_s = sc.to_str().unwrap();
    let (code, wire, err) = varyedge(&[
        "replay",
        sc_s,
        "--target",
        &proxy,
        "--direct",
        &origin.url,
        "--har",
        har.to_str().unwrap(),
        "--format",
        "json",
    ]);
    prop_assert!(code == 0 || code == 1, "replay --target: {err}");
    let host = proxy.trim_start_matches("http://").trim_end_matches('/');
    let imported = dir.path().join(format!("case{n}.imported.yaml"));
    let (code, _, err) = varyedge(&[
        "import",
        "har",
        har.to_str().unwrap(),
        "--profile",
        c.profile,
        "--host",
        host,
        "--out",
        imported.to_str().unwrap(),
    ]);
    prop_assert_eq!(code, 0, "import: {}", err);
    let (code, again, err) = varyedge(&["replay", imported.to_str().unwrap(), "--format", "json"]);
    prop_assert!(code == 0 || code == 1, "replay of the import: {err}");
    let text = std::fs::read_to_string(&imported).unwrap_or_default();
    prop_assert_eq!(
        verdicts(&wire),
        verdicts(&again),
        "scenario:\n{}\nimported:\n{}",
        yaml(c),
        text
    );
    Ok(())
}

/// Most of a case's time is the real gaps between its steps (`at: +Nms`, up to 1.5 s
/// each, ~3 s a case), so the cases run side by side, each with its own origin, proxy
/// and files: the same cases and checks as one after the other, in the time of the
/// longest. A failing case is then shrunk one run at a time, as proptest would.
#[test]
fn a_recorded_wire_run_imports_to_the_same_verdicts() {
    let dir = TempDir::new("har-record");
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let mut trees: Vec<_> = (0..CASES)
        .map(|_| case().new_tree(&mut runner).unwrap())
        .collect();
    let cases: Vec<Case> = trees.iter().map(ValueTree::current).collect();
    let results: Vec<Result<(), TestCaseError>> = std::thread::scope(|s| {
        let runs: Vec<_> = cases
            .iter()
            .zip(1..)
            .map(|(c, n)| {
                let dir = &dir;
                s.spawn(move || check(c, dir, n))
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let failed = results
        .into_iter()
        .zip(trees.iter_mut())
        .find_map(|(r, t)| r.err().map(|e| (e, t)));
    if let Some((err, tree)) = failed {
        let (small, why) = shrink(tree, err, &dir);
        panic!("case failed: {why}\nminimal failing input: {small:#?}");
    }
}

/// proptest's shrinking loop over one failing case (bounded): simplify while it still
/// fails, complicate back when a simpler one passes; the last failure is the answer.
fn shrink<T: ValueTree<Value = Case>>(
    tree: &mut T,
    first: TestCaseError,
    dir: &TempDir,
) -> (Case, TestCaseError) {
    let mut last = (tree.current(), first);
    if !tree.simplify() {
        return last;
    }
    for n in 0..64 {
        let c = tree.current();
        match check(&c, dir, 1000 + n) {
            Err(e) => {
                last = (c, e);
                if !tree.simplify() {
                    break;
                }
            }
            Ok(()) => {
                if !tree.complicate() {
                    break;
                }
            }
        }
    }
    last
}
