//! GitHub Actions output: with `GITHUB_ACTIONS=true` (or `--format github`) failing steps
//! and findings become `::error file=…,line=…` annotations, at most 10 of a kind with the
//! rest counted, and a markdown summary is appended to `$GITHUB_STEP_SUMMARY`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output};

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("varyedge-gh-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str], summary: Option<&PathBuf>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_varyedge"));
    c.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    c.env("GITHUB_ACTIONS", "true");
    match summary {
        Some(s) => c.env("GITHUB_STEP_SUMMARY", s),
        None => c.env_remove("GITHUB_STEP_SUMMARY"),
    };
    c.output().unwrap()
}

/// Two apps, `n` rounds of "app1 fills, app2 is poisoned", no expectations: n failures.
fn poisoned(n: usize) -> String {
    let mut y = String::from(
        "name: many\norigin:\n  cors: { allow_origins: [https://a.example, https://b.example] }\n  routes: [{ path: /x, cache_control: \"public, max-age=10\" }]\nedge: { profile: url-only }\nclients:\n  - { name: a, origin: https://a.example }\n  - { name: b, origin: https://b.example }\nsteps:\n",
    );
    for _ in 0..n {
        y.push_str("  - { at: +20s, client: a, fetch: GET /x }\n  - { at: +1s, client: b, fetch: GET /x }\n");
    }
    y
}

#[test]
fn replay_annotates_failing_steps_within_the_limit_and_writes_a_summary() {
    let d = tmpdir("replay");
    let f = d.join("many.yaml");
    std::fs::write(&f, poisoned(15)).unwrap();
    let summary = d.join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let out = run(&["replay", f.to_str().unwrap()], Some(&summary));
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 10, "{text}");
    let file = format!("file={}", f.display());
    for e in &errors[..9] {
        assert!(e.contains(&file) && e.contains(",line="), "{e}");
        assert!(e.contains("cache-induced CORS failure"), "{e}");
    }
    assert!(errors[9].contains("6 more error"), "{}", errors[9]);
    assert!(
        text.contains("summary: 30 steps"),
        "the text report is there too"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("earlier step\n## varyedge replay"),
        "appended: {md}"
    );
    assert!(
        md.contains("| many | url-only | 30 | 15 | 15 | 0 | ❌ fail |"),
        "{md}"
    );
    assert_eq!(
        md.matches("\n- **varyedge: many #").count(),
        15,
        "every failure listed"
    );
}

#[test]
fn other_formats_stay_parseable_and_annotations_still_print() {
    let d = tmpdir("json");
    let out_file = d.join("r.json");
    let out = run(
        &[
            "replay",
            "scenarios/01-reflect-without-vary.yaml",
            "--format",
            "json",
            "--out",
            out_file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(json["summary"]["steps"], 3);
    assert!(
        out.stdout.is_empty(),
        "a passing run has nothing to annotate"
    );
}

#[test]
fn lint_findings_become_annotations_worst_first() {
    let out = run(
        &[
            "lint",
            "scenarios/01-reflect-without-vary.yaml",
            "--format",
            "github",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let anns: Vec<&str> = text.lines().filter(|l| l.starts_with("::")).collect();
    assert!(!anns.is_empty());
    let mut last = 0;
    for a in &anns {
        let rank = ["::error", "::warning", "::notice"]
            .iter()
            .position(|k| a.starts_with(k))
            .unwrap();
        assert!(rank >= last, "worst first: {text}");
        last = rank;
        assert!(
            a.contains("file=scenarios/01-reflect-without-vary.yaml,line="),
            "{a}"
        );
    }
    let mut expected = String::new();
    let _ = write!(
        expected,
        "title=varyedge lint%3A missing-vary-origin (high)"
    );
    assert!(text.contains(&expected), "{text}");
}

/// A poisoned scenario whose first failure is on a step of its own: `k` quiet rounds, then
/// the poisoning pair (so twelve files give twelve distinct failing lines).
fn poisoned_late(k: usize) -> String {
    let mut y = poisoned(0);
    for _ in 0..k {
        y.push_str("  - { at: +20s, client: a, fetch: GET /x, expect: { cors: ok } }\n");
    }
    y.push_str("  - { at: +1s, client: b, fetch: GET /x }\n");
    y
}

#[test]
fn matrix_annotates_each_failing_step_once_naming_its_profiles() {
    let d = tmpdir("matrix");
    let f = d.join("many.yaml");
    std::fs::write(&f, poisoned(3)).unwrap();
    let summary = d.join("summary.md");
    let out = run(&["matrix", f.to_str().unwrap()], Some(&summary));
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("profile "), "the table first: {text}");
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
    // One annotation per failing step: #1 (line 11) for the twelve profiles that store
    // a's answer for b, the scenario's own among them, so it comes first; #0 (line 10)
    // for cloudfront, which never forwards Origin.
    assert_eq!(errors.len(), 2, "{text}");
    let file = format!("file={}", f.display());
    assert!(
        errors[0].contains(&file) && errors[0].contains(",line=11,"),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("many #1%3A cache-induced CORS failure on 12 of 15 profiles"),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("url-only") && !errors[0].contains("cloudflare"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains(",line=10,") && errors[1].contains("on 1 profile: cloudfront%0A"),
        "{}",
        errors[1]
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("## varyedge matrix\n"), "{md}");
    assert!(md.contains("| many | 15 | rfc9111, url-only"), "{md}");
    // JSON stays JSON (annotations only when the text report is on stdout or --out is used).
    let out = run(&["matrix", f.to_str().unwrap(), "--format", "json"], None);
    assert!(serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok());
}

#[test]
fn matrix_annotations_stay_within_ten_errors_the_rest_counted() {
    let d = tmpdir("matrix-many");
    for k in 0..12 {
        std::fs::write(d.join(format!("s{k:02}.yaml")), poisoned_late(k)).unwrap();
    }
    let out = run(&["matrix", d.to_str().unwrap(), "--format", "github"], None);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
    // 23 failing steps in 12 files (s00 fails on cloudfront only): the nine worst (those
    // failing on the scenario's own profile) are shown, the tenth counts the other 14.
    assert_eq!(errors.len(), 10, "{text}");
    for e in &errors[..9] {
        assert!(e.contains("on 12 of 15 profiles"), "worst first: {e}");
    }
    assert!(errors[9].contains("14 more error"), "{}", errors[9]);
}

#[test]
fn explore_annotates_each_kind_with_a_summary() {
    let d = tmpdir("explore");
    let summary = d.join("summary.md");
    let f = "scenarios/explore/preflight-and-no-origin.yaml";
    let out = run(
        &["explore", f, "--cases", "200", "--seed", "9"],
        Some(&summary),
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
    assert!(errors.len() >= 2, "one per kind: {text}");
    for e in &errors {
        assert!(
            e.contains(&format!("file={f},title=varyedge explore%3A")),
            "{e}"
        );
        assert!(e.contains("of 200 sampled sessions"), "{e}");
    }
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("## varyedge explore\n"), "{md}");
    assert!(md.contains("| 200 |"), "{md}");
    assert_eq!(
        md.matches("\n- **varyedge explore: ").count(),
        errors.len(),
        "{md}"
    );
}

#[test]
fn diagnose_annotates_each_blocked_response_and_writes_a_summary() {
    let d = tmpdir("diagnose");
    let summary = d.join("summary.md");
    let har = "tests/har/firefox-reflect-without-vary.har";
    // inside GitHub Actions a text report on standard output carries the annotations
    let o = run(&["diagnose", "har", har], Some(&summary));
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("diagnose tests/har/"), "{out}");
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(errors.len(), 1, "{out}");
    assert!(
        errors[0].starts_with(&format!(
            "::error file={har},title=cache-induced CORS failure%3A log.entries[2]::"
        )),
        "{out}"
    );
    let s = std::fs::read_to_string(&summary).unwrap();
    assert!(s.starts_with("## varyedge diagnose har"), "{s}");
    assert!(s.contains("| 1 | 1 |"), "{s}");
    // JSON stays parseable, and --format github works outside GitHub too
    let o = run(&["diagnose", "har", har, "--format", "json"], None);
    let line = String::from_utf8_lossy(&o.stdout);
    let first = line.lines().next().unwrap_or_default();
    assert!(
        serde_json::from_str::<serde_json::Value>(first).is_ok(),
        "{line}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .args(["diagnose", "har", har, "--format", "github"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("::error file="));
    let _ = std::fs::remove_dir_all(&d);
}
