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
