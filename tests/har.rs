//! `varyedge import har` and `varyedge diagnose har` on hand-made Firefox and Safari
//! exports and a Playwright (Chromium) recording (see tests/har/README.md for where each
//! shape comes from), and on bad input.

#[path = "common/har_cli.rs"]
mod har_cli;

use har_cli::{diagnose, induced, varyedge};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> String {
    har_cli::fixture_in("har", name)
}

fn tmp(name: &str) -> PathBuf {
    har_cli::tmp("har", name)
}

/// Imports, then replays the scenario: (yaml, per step (allowed, cache_induced, poisoned_by)).
fn import_and_replay(har: &str, extra: &[&str]) -> (String, Vec<(bool, bool, Option<u64>)>) {
    let (yaml, v) = har_cli::import_replay("har", har, extra);
    let steps = v["steps"]
        .as_array()
        .or(v[0]["steps"].as_array())
        .unwrap_or_else(|| panic!("no steps in {v}"))
        .iter()
        .map(|s| {
            (
                s["verdict"]["cors"] != "blocked",
                s["cache_induced"] == true,
                s["poisoned_by"].as_u64(),
            )
        })
        .collect();
    (yaml, steps)
}

#[test]
fn firefox_export_imports_and_reproduces() {
    let har = fixture("firefox-reflect-without-vary.har");
    let (yaml, steps) = import_and_replay(&har, &[]);
    assert!(
        yaml.contains("browser: firefox") && yaml.contains("profile: fastly"),
        "{yaml}"
    );
    assert!(!yaml.contains("eyJhbGciOi"), "a secret leaked:\n{yaml}");
    assert_eq!(
        steps,
        [(true, false, None), (false, true, Some(0))],
        "{yaml}"
    );
    let (code, v) = diagnose(&har);
    assert_eq!(code, 1);
    assert_eq!(induced(&v), [(2, Some(1))]);
    assert_eq!(v["findings"][0]["reason"], "origin-mismatch");
}

#[test]
fn safari_export_imports_and_reproduces() {
    let har = fixture("safari-no-cors-first.har");
    let (yaml, steps) = import_and_replay(&har, &[]);
    assert!(
        yaml.contains("browser: safari, mode: no-cors") && yaml.contains("profile: cloudfront"),
        "{yaml}"
    );
    assert_eq!(
        steps,
        [(true, false, None), (false, true, Some(0))],
        "{yaml}"
    );
    let (code, v) = diagnose(&har);
    assert_eq!(code, 1);
    assert_eq!(induced(&v), [(2, Some(1))]);
    assert_eq!(v["findings"][0]["poisoned_by"]["origin"], Value::Null);
}

#[test]
fn playwright_recording_with_failed_requests() {
    let har = fixture("playwright-chromium.har");
    let (code, v) = diagnose(&har);
    assert_eq!(code, 1);
    assert_eq!(induced(&v), [(3, Some(2)), (5, Some(4))]);
    let (yaml, steps) = import_and_replay(&har, &["--profile", "url-only"]);
    let blocked: Vec<bool> = steps.iter().map(|s| !s.0).collect();
    assert_eq!(blocked, [false, true, false, true, false, false], "{yaml}");
    assert!(
        yaml.contains("headers: { x-b: \"1\" }"),
        "the failed request's author header is kept:\n{yaml}"
    );
}

#[test]
fn secrets_only_with_keep_secrets() {
    let har = fixture("firefox-reflect-without-vary.har");
    let o = varyedge(&["import", "har", &har, "--keep-secrets"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("Bearer eyJhbGciOi.secret"));
}

#[test]
fn sarif_names_the_entry() {
    let o = varyedge(&[
        "diagnose",
        "har",
        &fixture("firefox-reflect-without-vary.har"),
        "--format",
        "sarif",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = &v["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "cache-induced-cors-failure");
    assert_eq!(
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "log.entries[2]"
    );
    // Valid SARIF 2.1.0 (the schema vendored for `lint`, with the same one-character
    // regex repair tests/lint.rs explains).
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-2.1.0-rtm.5.json"),
    )
    .unwrap();
    const STRAY: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(text.matches(STRAY).count(), 2);
    let text = text.replace(STRAY, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#);
    let schema: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&v)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(!validator.is_valid(&serde_json::json!({ "runs": [] })));
}

/// Bad input exits 2, names the JSON path and what was expected, and writes no file.
#[test]
fn bad_input_exits_2_with_the_json_path() {
    let good = std::fs::read_to_string(fixture("firefox-reflect-without-vary.har")).unwrap();
    let needle = "\"startedDateTime\": \"2026-01-05T10:00:00.000+01:00\",";
    let cut = good.find(needle).unwrap();
    let mut binary = good.clone().into_bytes();
    let at = good.find("cache-fra").unwrap();
    binary[at] = 0xfe;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not-har.har",
            b"<!doctype html><p>hi".to_vec(),
            "$: not JSON",
        ),
        ("not-log.har", br#"{"har": {}}"#.to_vec(), "no `log` member"),
        (
            "v11.har",
            good.replace("\"Firefox\"", "\"Charles\"").into_bytes(),
            "log.version: HAR 1.1 is not supported; expected \"1.2\"",
        ),
        (
            "truncated.har",
            good.as_bytes()[..good.len() * 2 / 3].to_vec(),
            "is the file truncated?",
        ),
        (
            "no-time.har",
            format!("{}{}", &good[..cut], &good[cut + needle.len()..]).into_bytes(),
            "log.entries[1].startedDateTime: missing; expected an ISO 8601",
        ),
        ("binary.har", binary, "binary bodies must be base64"),
    ];
    for (name, bytes, want) in cases {
        let f = tmp(name);
        std::fs::write(&f, bytes).unwrap();
        let out = tmp(&format!("{name}.yaml"));
        for args in [
            vec![
                "import",
                "har",
                f.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            vec!["diagnose", "har", f.to_str().unwrap()],
        ] {
            let o = varyedge(&args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{name}: {err}");
            assert!(err.contains(want), "{name}: expected {want:?} in: {err}");
            assert!(
                err.contains(f.to_str().unwrap()),
                "{name}: the file is named: {err}"
            );
        }
        assert!(!out.exists(), "{name}: no partial output file");
    }
}

/// Several recordings (browsers, users) merge into one scenario by time.
#[test]
fn several_files_merge_by_time() {
    let ff = fixture("firefox-reflect-without-vary.har");
    let sa = fixture("safari-no-cors-first.har");
    let o = varyedge(&[
        "import",
        "har",
        &sa,
        &ff,
        "--profile",
        "url-only",
        "--name",
        "both",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let y = String::from_utf8_lossy(&o.stdout);
    for c in [
        "app1-firefox",
        "app2-firefox",
        "blog-no-cors-safari",
        "blog-safari",
    ] {
        assert!(y.contains(&format!("name: {c},")), "{c}:\n{y}");
    }
    // Firefox's requests (5 Jan) come before Safari's (6 Jan) whatever the argument order.
    let first = y.find("client: app1-firefox").unwrap();
    let later = y.find("client: blog-no-cors-safari").unwrap();
    assert!(first < later, "{y}");
    assert!(y.starts_with("version: 1\nname: both\n"), "{y}");
}

/// `line:col` (1-based, columns in characters) of the only `needle` in `text`, moved
/// `skip` characters on.
fn pos_of(text: &str, needle: &str, skip: usize) -> String {
    assert_eq!(text.matches(needle).count(), 1, "{needle} is not unique");
    let before = &text[..text.find(needle).unwrap_or(0) + skip];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("{line}:{col}")
}

/// A value of the wrong type is found once its entry is parsed, when the parser's
/// position is gone: the error named the path only. It now names the value's line and
/// column too, as syntax errors do.
#[test]
fn type_errors_name_the_line_and_column_of_the_value() {
    let good: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("firefox-reflect-without-vary.har")).unwrap(),
    )
    .unwrap();
    type Edit = fn(&mut Value);
    // (file, edit, message, the value's text, characters before the value in it)
    let cases: [(&str, Edit, &str, &str, usize); 4] = [
        (
            "status-string.har",
            |v| v["log"]["entries"][1]["response"]["status"] = "200".into(),
            "log.entries[1].response.status: expected a whole number (an HTTP status such as 200, or 0 for a request that got no answer), found a string",
            "\"200\"",
            0,
        ),
        (
            "headers-object.har",
            |v| v["log"]["entries"][1]["response"]["headers"] = serde_json::json!({"x-cache": "HIT"}),
            "log.entries[1].response.headers: expected an array of {name, value}, found an object",
            "\"headers\": {",
            "\"headers\": ".len(),
        ),
        (
            "started-number.har",
            |v| v["log"]["entries"][0]["startedDateTime"] = 1_767_603_599_100u64.into(),
            "log.entries[0].startedDateTime: expected an ISO 8601 date-time",
            "1767603599100",
            0,
        ),
        (
            "value-number.har",
            |v| v["log"]["entries"][1]["response"]["headers"][1]["value"] = 424_242.into(),
            "log.entries[1].response.headers[1].value: expected the header value, a string, found a number",
            "424242",
            0,
        ),
    ];
    for (name, edit, want, value, skip) in cases {
        let mut v = good.clone();
        edit(&mut v);
        let text = serde_json::to_string_pretty(&v).unwrap();
        let f = tmp(name);
        std::fs::write(&f, &text).unwrap();
        let want = format!("{}:{}: {want}", f.display(), pos_of(&text, value, skip));
        for cmd in ["import", "diagnose"] {
            let o = varyedge(&[cmd, "har", f.to_str().unwrap()]);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{name}: {err}");
            assert!(err.contains(&want), "{name}:\nwant {want}\ngot  {err}");
        }
    }
}

/// `import har -` reads standard input (named `<stdin>`); a recording without entries
/// is named in the error.
#[test]
fn standard_input_and_an_empty_recording() {
    use std::io::Write;
    let text = std::fs::read_to_string(fixture("firefox-reflect-without-vary.har")).unwrap();
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .args(["import", "har", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("Imported from <stdin>"), "{out}");
    assert!(
        out.contains("name: imported"),
        "no file stem to name it by: {out}"
    );
    // diagnose reads it too, and finds the cache-induced failure (exit 1)
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .args(["diagnose", "har", "-", "-q"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.starts_with("diagnose <stdin>:"), "{out}");
    let f = tmp("no-entries.har");
    std::fs::write(
        &f,
        r#"{"log": {"version": "1.2", "creator": {"name": "x"}, "entries": []}}"#,
    )
    .unwrap();
    let o = varyedge(&["import", "har", f.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{}: log.entries: empty", f.display())),
        "{err}"
    );
}
