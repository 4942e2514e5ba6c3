//! The `varyedge import har` / `replay` / `diagnose har` round trips shared by tests/har.rs
//! (hand-made exports) and tests/probe_har.rs (held-back-style recordings).
#![allow(dead_code, unreachable_pub)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built `varyedge` with `args`.
pub fn varyedge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .args(args)
        .output()
        .expect("run varyedge")
}

/// `tests/DIR/NAME` as a path string.
pub fn fixture_in(dir: &str, name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir)
        .join(name)
        .display()
        .to_string()
}

/// `NAME` in this process's own temporary directory `varyedge-TAG-PID`.
pub fn tmp(tag: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("varyedge-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// Imports `har` (with `extra` flags) into a scenario under `tag`'s temporary directory,
/// asserting exit 0, then replays it, asserting it was not refused as bad input:
/// (the scenario's YAML, the replay's JSON report).
pub fn import_replay(tag: &str, har: &str, extra: &[&str]) -> (String, Value) {
    let out = tmp(
        tag,
        &format!(
            "{}.yaml",
            Path::new(har).file_stem().unwrap().to_string_lossy()
        ),
    );
    let mut args = vec!["import", "har", har, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = varyedge(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let yaml = std::fs::read_to_string(&out).unwrap();
    let r = varyedge(&["replay", out.to_str().unwrap(), "--format", "json"]);
    assert_ne!(
        r.status.code(),
        Some(2),
        "{}\n{yaml}",
        String::from_utf8_lossy(&r.stderr)
    );
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    (yaml, v)
}

/// `diagnose har HAR --format json`: (exit code, report).
pub fn diagnose(har: &str) -> (i32, Value) {
    let o = varyedge(&["diagnose", "har", har, "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    (o.status.code().unwrap_or(-1), v)
}

/// (entry, poisoner entry) of each cache-induced finding of a `diagnose har` report.
pub fn induced(v: &Value) -> Vec<(u64, Option<u64>)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["cache_induced"] == true)
        .map(|f| {
            (
                f["entry"].as_u64().unwrap(),
                f["poisoned_by"]["entry"].as_u64(),
            )
        })
        .collect()
}
