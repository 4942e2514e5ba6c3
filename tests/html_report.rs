//! `--format html` in the real browser: headless Chromium opens the reports of `replay`,
//! `matrix` and `explore`, and its DOM must say what `--format json` says — the same
//! counts, one mark per step, one arrow per poisoned step from the step that poisoned it —
//! without one network request, and a 10,000-step trace must open quickly with only the
//! visible part drawn. Screenshots are kept in `target/artifacts/html-report/`.
//!
//! Ignored by default (it needs Chromium and Node, `npm ci` in tests/chromium): `.ci/run`
//! runs `cargo test --test html_report -- --ignored`.

use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";
const INSTALL: &str = "install it: apt-get install -y chromium / (cd tests/chromium && npm ci)";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs varyedge; returns its stdout (exit 0 or 1 both write a report).
fn varyedge(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run varyedge");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "varyedge {args:?} exited {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The JSON report and the HTML page of one command, the page written to `dir/name.html`.
fn both(dir: &Path, name: &str, args: &[&str]) -> (Value, PathBuf) {
    // JSON Lines: one report per scenario file; several files are compared as a list
    let text = varyedge(&[args, &["--format", "json"]].concat());
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json report line"))
        .collect();
    let json = if lines.len() == 1 {
        lines.remove(0)
    } else {
        Value::Array(lines)
    };
    let page = dir.join(format!("{name}.html"));
    let p = page.to_str().expect("utf-8 path");
    varyedge(&[args, &["--format", "html", "--out", p]].concat());
    (json, page)
}

/// A scenario of `n` steps: three apps on one URL-keyed edge, a TTL that lapses now and then.
fn long_scenario(n: usize) -> String {
    let mut y = String::from(
        "name: ten-thousand\norigin:\n  cors:\n    allow_origins: [https://a.example, https://b.example, https://c.example]\n  routes:\n    - { path: /x, cache_control: \"public, max-age=30\" }\n    - { path: /y, cache_control: \"public, max-age=90\" }\nedge: { profile: url-only }\nclients:\n  - { name: a, origin: https://a.example }\n  - { name: b, origin: https://b.example }\n  - { name: c, origin: https://c.example }\nsteps:\n",
    );
    for i in 0..n {
        let client = ["a", "b", "c"][(i * 7 / 3) % 3];
        let path = if i % 5 == 0 { "/y" } else { "/x" };
        let _ = writeln!(
            y,
            "  - {{ at: +{}s, client: {client}, fetch: GET {path} }}",
            i % 4
        );
    }
    y
}

fn run_driver(plan: &Value, dir: &Path) -> Vec<Value> {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing; {INSTALL}"
    );
    let here = root().join("tests/chromium");
    assert!(
        here.join("node_modules/playwright-core").exists(),
        "tests/chromium/node_modules/playwright-core is missing; {INSTALL}"
    );
    let plan_file = dir.join("plan.json");
    std::fs::write(&plan_file, plan.to_string()).expect("write plan");
    let out = Command::new("node")
        .arg("report.mjs")
        .arg(&plan_file)
        .current_dir(&here)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node: {e}; {INSTALL}"));
    assert!(
        out.status.success(),
        "report.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("driver JSON")
}

/// The page's timeline sections must say what the JSON traces say.
fn check_traces(page: &Value, traces: &[Value], all_drawn: bool) {
    let sections = page["traces"].as_array().expect("traces");
    assert_eq!(sections.len(), traces.len(), "one section per trace");
    for (sec, t) in sections.iter().zip(traces) {
        let name = t["scenario"].as_str().unwrap_or_default();
        assert_eq!(sec["scenario"], t["scenario"]);
        for k in [
            "steps",
            "blocked",
            "cache_induced",
            "wrongly_allowed",
            "unmet_expectations",
        ] {
            assert_eq!(
                sec["counts"][k].as_str(),
                Some(t["summary"][k].to_string().as_str()),
                "{name}: count {k}"
            );
        }
        let steps = t["steps"].as_array().expect("steps");
        let want: BTreeSet<(u64, u64)> = steps
            .iter()
            .filter_map(|s| Some((s["poisoned_by"].as_u64()?, s["index"].as_u64()?)))
            .collect();
        let got: BTreeSet<(u64, u64)> = sec["arrows"]
            .as_array()
            .expect("arrows")
            .iter()
            .map(|a| {
                (
                    a[0].as_u64().unwrap_or(u64::MAX),
                    a[1].as_u64().unwrap_or(u64::MAX),
                )
            })
            .collect();
        let marks = sec["steps"].as_array().expect("marks");
        if all_drawn {
            assert_eq!(marks.len(), steps.len(), "{name}: one mark per step");
            assert_eq!(got, want, "{name}: arrows poisoner → poisoned");
        } else {
            assert!(
                got.is_subset(&want),
                "{name}: every drawn arrow is a real poisoning"
            );
        }
        for m in marks {
            let i = m["index"].as_u64().expect("index") as usize;
            let s = &steps[i];
            let ci = m["verdict"] == "ci";
            assert_eq!(
                ci,
                s["cache_induced"] == true && s["verdict"]["cors"] == "blocked",
                "{name} #{i}: red exactly when blocked because of the cache"
            );
            assert_eq!(
                m["unmet"] == true,
                s["expectation"] == "unmet",
                "{name} #{i}"
            );
        }
    }
}

fn clean(page: &Value) {
    assert_eq!(page["requests"], Value::Array(vec![]), "no network request");
    assert_eq!(page["errors"], Value::Array(vec![]), "no script error");
}

#[test]
#[ignore = "needs Chromium and Node (tests/chromium); run with --ignored"]
fn html_reports_match_their_json_in_chromium() {
    let shots = root().join("target/artifacts/html-report");
    std::fs::create_dir_all(&shots).expect("artifact dir");
    let tmp = std::env::temp_dir().join(format!("varyedge-html-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp dir");
    let long = tmp.join("ten-thousand.yaml");
    std::fs::write(&long, long_scenario(10_000)).expect("write scenario");

    let (replay, replay_html) = both(&tmp, "replay", &["replay", "scenarios/"]);
    let matrix_file = "scenarios/23-pops-and-shield.yaml";
    let (matrix, matrix_html) = both(&tmp, "matrix", &["matrix", matrix_file]);
    let (explore, explore_html) = both(
        &tmp,
        "explore",
        &[
            "explore",
            "scenarios/01-reflect-without-vary.yaml",
            "--cases",
            "300",
        ],
    );
    let (big, big_html) = both(&tmp, "big", &["replay", long.to_str().expect("utf-8")]);
    let shot = |n: &str| shots.join(n).to_string_lossy().into_owned();
    let plan = serde_json::json!({
        "executable": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu"],
        "pages": [
            { "file": replay_html, "screenshot": shot("replay.png") },
            { "file": matrix_html, "screenshot": shot("matrix.png") },
            { "file": explore_html, "screenshot": shot("explore.png") },
            { "file": big_html, "screenshot": shot("big-start.png") },
            { "file": big_html, "screenshot": shot("big-end.png"), "scroll_to_end": true },
        ]
    });
    let pages = run_driver(&plan, &tmp);
    assert_eq!(pages.len(), 5);
    for p in &pages {
        clean(p);
    }

    // replay of every bundled scenario: a table of them, then one timeline each.
    let traces = replay
        .as_array()
        .expect("several scenarios give an array")
        .clone();
    assert_eq!(
        pages[0]["overview_rows"].as_u64(),
        Some(traces.len() as u64)
    );
    check_traces(&pages[0], &traces, true);
    let first_ci = traces
        .iter()
        .flat_map(|t| t["steps"].as_array().into_iter().flatten())
        .find(|s| s["cache_induced"] == true && s["verdict"]["cors"] == "blocked")
        .expect("a bundled scenario has a cache-induced step");
    let console = first_ci["verdict"]["console"].as_str().expect("console");
    for what in ["hover", "click"] {
        let shown = pages[0][what].as_str().unwrap_or_default();
        assert!(
            shown.contains(console),
            "{what} shows the console line: {shown}"
        );
        assert!(shown.contains("fix:"), "{what} shows the fix: {shown}");
    }

    // matrix: one coloured row per profile; the shown timeline is one of the traces.
    let rows = pages[1]["matrix"].as_array().expect("rows");
    let want = matrix["profiles"].as_array().expect("profiles");
    assert_eq!(rows.len(), want.len());
    for (r, w) in rows.iter().zip(want) {
        assert_eq!(r["profile"], w["profile"]);
        assert_eq!(
            r["cells"][2].as_str(),
            Some(w["cache_induced"].to_string().as_str())
        );
        let red = r["class"].as_str().unwrap_or_default().contains("row-ci");
        assert_eq!(
            red,
            w["cache_induced"].as_u64() > Some(0),
            "{}",
            w["profile"]
        );
    }
    let shown = pages[1]["traces"][0]["profile"]
        .as_str()
        .expect("a timeline");
    let t: Value = serde_json::from_str(&varyedge(&[
        "replay",
        matrix_file,
        "--profile",
        shown,
        "--format",
        "json",
    ]))
    .expect("json");
    check_traces(&pages[1], &[t], true);

    // explore: the chart's rate and interval are the JSON's; each kind has a bar.
    let chart = &pages[2]["chart"];
    assert_eq!(chart["rate"], explore["failure_rate"]);
    assert_eq!(chart["low"], explore["interval"]["low"]);
    assert_eq!(chart["high"], explore["interval"]["high"]);
    let kinds: Vec<&Value> = explore["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .map(|k| &k["id"])
        .collect();
    assert_eq!(
        chart["kinds"]
            .as_array()
            .expect("kinds")
            .iter()
            .collect::<Vec<_>>(),
        kinds
    );
    let repro = &explore["kinds"][0]["repro"]["trace"];
    check_traces(&pages[2], std::slice::from_ref(repro), true);

    // 10,000 steps: counts from the JSON, only what is in view drawn, quick to open, and
    // the last step reachable by scrolling.
    for p in &pages[3..] {
        check_traces(p, std::slice::from_ref(&big), false);
        let marks = p["traces"][0]["steps"].as_array().expect("marks").len();
        assert!(
            marks > 10 && marks < 400,
            "virtualised: {marks} step marks drawn"
        );
        assert!(p["traces"][0]["svg_nodes"].as_u64() < Some(4000));
        assert!(
            p["ready_ms"].as_u64() < Some(5000),
            "opened in {} ms",
            p["ready_ms"]
        );
        assert_eq!(p["traces"][0]["failures_listed"].as_u64(), Some(300));
    }
    let last = pages[4]["traces"][0]["steps"].as_array().expect("marks");
    assert!(
        last.iter().any(|m| m["index"].as_u64() == Some(9_999)),
        "scrolled to the end"
    );
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!("screenshots in {}", shots.display());
}
