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
