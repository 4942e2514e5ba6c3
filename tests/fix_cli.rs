//! `varyedge fix` and the traffic section of `explore`, end to end through the binary:
//! exit codes, formats, located errors.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("run varyedge")
}

#[test]
fn fix_exits_0_with_a_working_fix_and_json_parses() {
    let o = run(&[
        "fix",
        "scenarios/05-preflight-poisoned.yaml",
        "--cases",
        "20",
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let first = &v["candidates"][0];
    assert_eq!(first["proof"]["works"], true);
    assert_eq!(
        first["proof"]["remaining"].as_array().map(Vec::len),
        Some(0)
    );
}

#[test]
fn fix_exits_0_when_nothing_to_fix_and_2_on_bad_input() {
    let o = run(&["fix", "scenarios/02-vary-origin-fix.yaml", "--cases", "20"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("nothing to fix"));
    let o = run(&["fix", "scenarios/no-such-file.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-file.yaml"));
}

#[test]
fn explore_reports_the_traffic_model_and_locates_its_errors() {
    let o = run(&[
        "explore",
        "scenarios/traffic/reflect-without-vary.yaml",
        "--cases",
        "20",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("traffic model: 16 window(s) of 60 min"),
        "{out}"
    );
    assert!(out.contains("quote this:"), "{out}");

    let dir = std::env::temp_dir().join(format!("varyedge-fixcli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(root().join("scenarios/traffic/reflect-without-vary.yaml"))
        .unwrap()
        .replace("client: app2, share", "client: app3, share");
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, &text).unwrap();
    let line = text.lines().position(|l| l.contains("app3")).unwrap() + 1;
    let o = run(&["explore", bad.to_str().unwrap(), "--cases", "5"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("bad.yaml:{line}:")) && err.contains("unknown client"),
        "{err}"
    );
}

/// A scenario the edge breaks and no candidate fixes: the edge keys on `Origin` but strips
/// it before the origin (so keying, `Vary` and `OPTIONS` changes cannot help), and the
/// request sends credentials (so `*` is not offered).
const NO_FIX: &str = "name: origin-never-reaches
origin:
  cors:
    allow_origins: [https://app1.example.com]
    allow_credentials: true
    vary_origin: true
    preflight_vary: true
  routes:
    - { path: /api/data, cache_control: \"private, max-age=0\" }
edge:
  profile: rfc9111
  key_headers: [origin]
  forward_strip: [origin]
clients:
  - { name: app1, origin: https://app1.example.com }
steps:
  - { client: app1, fetch: GET /api/data, credentials: include }
";

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("varyedge-fixexit-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn fix_exits_1_when_the_edge_breaks_a_scenario_and_no_candidate_fixes_it() {
    let dir = temp_dir("1");
    let f = dir.join("nofix.yaml");
    std::fs::write(&f, NO_FIX).unwrap();
    let o = run(&[
        "fix",
        f.to_str().unwrap(),
        "--cases",
        "10",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // with a fixable scenario beside it, the worst status still wins
    let both = run(&[
        "fix",
        "scenarios/05-preflight-poisoned.yaml",
        f.to_str().unwrap(),
        "--cases",
        "10",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // one advice object per scenario file (JSON Lines)
    let s = &v;
    assert_eq!(s["failing"], serde_json::json!([0]));
    assert!(s["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["proof"]["works"] == false));
    assert_eq!(both.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&both.stdout).contains("no candidate fixes it"));
}

#[test]
fn fix_exits_0_on_failures_the_origin_causes_alone() {
    // 08: `*` with credentials; no cache change fixes it, `fix` says so and `replay` fails
    let o = run(&[
        "fix",
        "scenarios/08-wildcard-with-credentials.yaml",
        "--cases",
        "10",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("fails without any cache") && out.contains("nothing to fix"),
        "{out}"
    );
    let r = run(&["replay", "scenarios/08-wildcard-with-credentials.yaml"]);
    assert_eq!(r.status.code(), Some(0), "its steps expect the block");
}

#[test]
fn fix_exits_2_on_bad_input_and_writes_no_file() {
    let dir = temp_dir("2");
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "name: x\nsteps: [\n").unwrap();
    let upstream = dir.join("upstream.yaml");
    std::fs::write(
        &upstream,
        NO_FIX.replace(
            "origin:\n  cors:\n    allow_origins: [https://app1.example.com]\n    allow_credentials: true\n    vary_origin: true\n    preflight_vary: true\n  routes:\n    - { path: /api/data, cache_control: \"private, max-age=0\" }\n",
            "origin: { upstream: \"http://127.0.0.1:9\" }\n",
        ),
    )
    .unwrap();
    let out = dir.join("report.html");
    let o1 = run(&[
        "fix",
        "scenarios/05-preflight-poisoned.yaml",
        bad.to_str().unwrap(),
        "--cases",
        "5",
        "--format",
        "html",
        "--out",
        out.to_str().unwrap(),
    ]);
    let o2 = run(&["fix", upstream.to_str().unwrap(), "--cases", "5"]);
    let o3 = run(&[
        "fix",
        "scenarios/05-preflight-poisoned.yaml",
        "--format",
        "pdf",
    ]);
    let written = out.exists();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(o1.status.code(), Some(2));
    let e1 = String::from_utf8_lossy(&o1.stderr);
    assert!(e1.contains("bad.yaml:"), "{e1}");
    assert!(!written, "a report was written despite the bad input");
    assert_eq!(o2.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o2.stderr).contains("needs a modelled origin"),
        "{}",
        String::from_utf8_lossy(&o2.stderr)
    );
    assert_eq!(o3.status.code(), Some(2));
}
