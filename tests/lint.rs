//! `varyedge lint SCENARIO`: exit codes, formats, `--out`, bad input, and the SARIF output
//! validated against the SARIF 2.1.0 JSON schema (vendored in tests/data, see its README).

use std::path::Path;
use std::process::{Command, Output};

fn varyedge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run varyedge")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn exit_codes_follow_fail_on() {
    let o = varyedge(&["lint", "scenarios/lint/correct.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("no findings"));
    // max-age-above-cap is low: below the default threshold, at --fail-on low.
    let o = varyedge(&["lint", "scenarios/lint/max-age.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("max-age-above-cap"));
    let o = varyedge(&["lint", "scenarios/lint/max-age.yaml", "--fail-on", "low"]);
    assert_eq!(o.status.code(), Some(1));
    let o = varyedge(&["lint", "scenarios/lint/reflect-any.yaml"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let o = varyedge(&[
        "lint",
        "scenarios/lint/reflect-any.yaml",
        "--fail-on",
        "critical",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = varyedge(&[
        "lint",
        "scenarios/lint/missing-vary.yaml",
        "--fail-on",
        "critical",
    ]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn bad_input_exits_2_with_a_location() {
    let dir = tempdir("bad");
    let f = dir.join("bad.yaml");
    std::fs::write(&f, "origin:\n  cors:\n    allow_origin_pattern: '(a|b)'\n  routes: [{ path: /a }]\nclients: [{ name: a, origin: https://a.example }]\nsteps: [{ client: a, fetch: GET /a }]\n").unwrap();
    let out = dir.join("report.json");
    let o = varyedge(&[
        "lint",
        f.to_str().unwrap(),
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.yaml:3:27:"), "{err}");
    assert!(!out.exists(), "no partial report on bad input");
    let o = varyedge(&["lint"]);
    assert_eq!(o.status.code(), Some(2));
    let o = varyedge(&[
        "lint",
        "scenarios/lint/correct.yaml",
        "--upstream",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "SCENARIO and --upstream exclude each other"
    );
    let o = varyedge(&[
        "lint",
        "--upstream",
        "http://127.0.0.1:9",
        "--origin",
        "https://a.example/",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("varyedge: --origin: "));
    let o = varyedge(&["lint", "--upstream", "ftp://x"]);
    assert_eq!(o.status.code(), Some(2));
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lint-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn json_report_written_to_out() {
    let dir = tempdir("json");
    let out = dir.join("lint.json");
    let o = varyedge(&[
        "lint",
        "scenarios/lint/suffix-match.yaml",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(j["target"], "scenarios/lint/suffix-match.yaml");
    let f = &j["findings"][0];
    assert_eq!(f["id"], "suffix-match-allowlist");
    assert_eq!(f["severity"], "critical");
    for k in ["title", "evidence", "why", "fix"] {
        assert!(f[k].as_str().is_some_and(|s| !s.is_empty()), "{k}");
    }
    assert_eq!(f["location"]["uri"], "scenarios/lint/suffix-match.yaml");
    assert_eq!(f["location"]["line"], 12);
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-2.1.0-rtm.5.json"),
    )
    .unwrap();
    // The schema's two `language` patterns have a stray `]`, a literal in ECMA-262 regular
    // expressions (what JSON Schema patterns are) but a syntax error for the Rust engine:
    // escape it, which keeps its meaning, and check that exactly those strings changed.
    const STRAY: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(text.matches(STRAY).count(), 2);
    let text = text.replace(STRAY, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#);
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("the schema compiles");
    // The validator must be able to fail: a log without `version` is invalid.
    let broken = serde_json::json!({ "runs": [] });
    assert!(!validator.is_valid(&broken));
    let mut checked = 0;
    for f in
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/lint")).unwrap()
    {
        let path = f.unwrap().path();
        let rel = format!(
            "scenarios/lint/{}",
            path.file_name().unwrap().to_str().unwrap()
        );
        let o = varyedge(&["lint", &rel, "--format", "sarif"]);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{rel}");
        let log: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{rel}: {errors:#?}");
        assert_eq!(log["version"], "2.1.0");
        let results = log["runs"][0]["results"].as_array().unwrap();
        if rel.ends_with("correct.yaml") {
            assert!(results.is_empty());
        } else {
            assert!(!results.is_empty(), "{rel}");
            let r = &results[0];
            let rules = log["runs"][0]["tool"]["driver"]["rules"]
                .as_array()
                .unwrap();
            let idx = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[idx]["id"], r["ruleId"]);
            assert_eq!(
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                rel.as_str()
            );
            assert!(
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap()
                    >= 1
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} lint scenarios");
}

#[test]
fn lint_scenarios_are_valid_scenarios() {
    // Each planted scenario replays (its steps' expectations hold) and lints to its rule.
    for (file, id) in [
        ("reflect-any", "reflect-any-origin"),
        ("null-origin", "null-origin-allowed"),
        ("suffix-match", "suffix-match-allowlist"),
        ("prefix-match", "prefix-match-allowlist"),
        ("regex-dot", "regex-unescaped-dot"),
        ("http-origin", "http-origin-trusted"),
        ("wildcard-credentials", "wildcard-with-credentials"),
        ("missing-vary", "missing-vary-origin"),
        ("vary-when-origin", "missing-vary-origin"),
        ("missing-preflight-vary", "missing-preflight-vary"),
        ("options-cached-unkeyed", "options-cached-unkeyed"),
        ("no-options", "no-options-handler"),
        ("max-age", "max-age-above-cap"),
        ("unmatchable-entry", "unmatchable-allowlist-entry"),
        ("header-not-allowed", "header-not-allowed"),
        ("pna-not-answered", "pna-not-answered"),
    ] {
        let path = format!("scenarios/lint/{file}.yaml");
        let o = varyedge(&["replay", &path, "--format", "json"]);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{path}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = varyedge(&["lint", &path, "--format", "json"]);
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let ids: Vec<&str> = j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&id), "{path}: {ids:?}");
    }
}
