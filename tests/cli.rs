//! The binary's contract: exit codes, located errors, report formats, atomic `--out`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary, outside GitHub Actions even when the tests run there (its annotations
/// and step summary are tests/github.rs's subject).
fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_varyedge"));
    c.env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run varyedge")
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("varyedge-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn product_example() -> String {
    let product = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/01-reflect-without-vary.yaml"),
    )
    .unwrap();
    product
}

#[test]
fn product_example_exits_0_and_a_changed_expectation_exits_1() {
    let d = tmpdir("example");
    let ok = d.join("ok.yaml");
    std::fs::write(&ok, product_example()).unwrap();
    let out = run(&["replay", ok.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let changed = d.join("changed.yaml");
    std::fs::write(
        &changed,
        product_example().replacen(
            "expect: { cors: ok, cache: miss }",
            "expect: { cors: blocked, cache: miss }",
            1,
        ),
    )
    .unwrap();
    let out = run(&["replay", changed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("UNMET cors: expected blocked, got ok"));
    // no expectations at all: the blocked step still fails the run
    let bare = d.join("bare.yaml");
    let text: String = product_example()
        .lines()
        .filter(|l| !l.trim_start().starts_with("expect:"))
        .map(|l| match l.find(", expect:") {
            Some(i) => format!("{} }}", &l[..i]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&bare, text).unwrap();
    let out = run(&["replay", bare.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn malformed_input_exits_2_with_file_line_col() {
    let d = tmpdir("bad");
    let cases = [
        ("broken.yaml", "name: broken\nclients:\n  - { name: a, origin: https://a.example\nsteps: []\n", ":3:"),
        ("unknown-client.yaml", "origin:\n  routes: [{ path: /a }]\nclients: [{ name: a, origin: https://a }]\nsteps:\n  - { client: zz, fetch: GET /a }\n", ":5:15:"),
        ("bad-knob.yaml", "origin:\n  routes: [{ path: /a }]\nedge: { profile: url-only, vary: sometimes }\nclients: [{ name: a, origin: https://a }]\nsteps: []\n", ":3:"),
        ("binary.yaml", "\u{0}\u{1}\u{2}garbage: [", ":"),
    ];
    for (name, text, loc) in cases {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        let out = run(&["replay", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(&format!("{name}{loc}")), "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}: no report on bad input");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    let out = run(&["replay", d.join("missing.yaml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&[
        "replay",
        "--profile",
        "nope",
        d.join("broken.yaml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["replay"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn json_report_has_the_stable_fields() {
    let d = tmpdir("json");
    let p = d.join("ex.yaml");
    std::fs::write(&p, product_example()).unwrap();
    let out = run(&["replay", p.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["scenario"], "reflect-without-vary");
    assert_eq!(v["profile"], "url-only");
    let s1 = &v["steps"][1];
    for k in [
        "index",
        "client",
        "origin",
        "request",
        "pop",
        "cache",
        "key",
        "preflight",
        "verdict",
        "cache_induced",
        "expectation",
    ] {
        assert!(!s1[k].is_null(), "missing {k}");
    }
    assert_eq!(s1["cache"], "hit");
    assert_eq!(s1["verdict"]["cors"], "blocked");
    assert_eq!(s1["verdict"]["reason"], "origin-mismatch");
    // app2 is `browser: firefox`: Firefox's wording (issue 13), not Chromium's.
    assert!(s1["verdict"]["console"].as_str().unwrap().starts_with("Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://api.example.com/api/data. (Reason: CORS header \u{2018}Access-Control-Allow-Origin\u{2019} does not match \u{2018}https://app1.example.com\u{2019})."));
    assert_eq!(s1["served_by"], "edge");
    assert_eq!(s1["poisoned_by"], 0);
    assert_eq!(s1["expectation"], "met");
    assert!(v["steps"][0].get("poisoned_by").is_none());
    assert_eq!(v["steps"][2]["preflight"], "sent");
    assert_eq!(v["summary"]["steps"], 3);
    assert_eq!(v["summary"]["blocked"], 2);
    assert_eq!(v["summary"]["cache_induced"], 1);
    assert_eq!(v["summary"]["unmet_expectations"], 0);
}

#[test]
fn out_file_is_written_whole_or_not_at_all() {
    let d = tmpdir("out");
    let p = d.join("ex.yaml");
    std::fs::write(&p, product_example()).unwrap();
    let target = d.join("report.xml");
    let out = run(&[
        "replay",
        p.to_str().unwrap(),
        "--format",
        "junit",
        "--out",
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let xml = std::fs::read_to_string(&target).unwrap();
    assert!(xml.starts_with("<?xml") && xml.trim_end().ends_with("</testsuites>"));
    assert!(xml.contains("tests=\"3\""));
    let bad = d.join("no-such-dir").join("r.json");
    let out = run(&[
        "replay",
        p.to_str().unwrap(),
        "--format",
        "json",
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!bad.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("varyedge-tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn bundled_scenarios_all_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let out = run(&["replay", dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let n = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yaml")
        })
        .count();
    assert!(n >= 12, "only {n} bundled scenarios");
}

#[test]
fn profile_override_and_matrix() {
    let d = tmpdir("matrix");
    let p = d.join("ex.yaml");
    std::fs::write(&p, product_example()).unwrap();
    // Under Cloudflare's key (Origin in it) step 1 is a miss, so its expectation fails.
    let out = run(&[
        "replay",
        p.to_str().unwrap(),
        "--profile",
        "cloudflare",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["profile"], "cloudflare");
    assert_eq!(v["steps"][1]["cache"], "miss");
    let out = run(&["matrix", p.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |name: &str| {
        v["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["profile"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(row("url-only")["cache_induced"], 1);
    assert_eq!(row("cloudflare")["cache_induced"], 0);
    // without Vary even a Vary-honouring cache serves app1's answer to app2
    assert_eq!(row("varnish")["cache_induced"], 1);
    assert_eq!(row("cloudfront-origin-keyed")["cache_induced"], 0);
    let out = run(&[
        "matrix",
        p.to_str().unwrap(),
        "--profiles",
        "cloudfront-origin-keyed,cloudflare",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let out = run(&["matrix", p.to_str().unwrap(), "--profiles", "varnish,nope"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn profiles_lists_every_name_with_sources() {
    let out = run(&["profiles"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for n in varyedge::profile::PROFILE_NAMES {
        assert!(text.lines().any(|l| l == n), "{n}");
    }
    assert!(text.contains("weak evidence"));
}

#[test]
fn lint_matrix_and_explore_take_several_files_and_directories() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/explore");
    let n = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        })
        .count();
    assert!(n >= 2);
    let d = dir.to_str().unwrap();
    let one = "scenarios/01-reflect-without-vary.yaml";
    for args in [
        vec!["lint", d, one, "--format", "json"],
        vec!["matrix", d, one, "--format", "json"],
        vec!["explore", d, one, "--cases", "30", "--format", "json"],
    ] {
        let out = bin()
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        // JSON Lines: one compact report object per file, the same shape as one file's.
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{args:?}: {e}: {l}")))
            .collect();
        assert_eq!(lines.len(), n + 1, "{args:?}: one line per file");
        assert!(lines.iter().all(|v| v.is_object()), "{args:?}: no arrays");
        let single = bin()
            .args([args[0], one, "--format", "json"])
            .args(if args[0] == "explore" {
                &["--cases", "30"][..]
            } else {
                &[]
            })
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(single.stdout).unwrap(),
            format!("{}\n", text.lines().last().unwrap()),
            "{args:?}: the last file's line is exactly its single-file output"
        );
    }
    // SARIF: one run with every file's results.
    let out = run(&["lint", d, "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["runs"].as_array().map(Vec::len), Some(1));
    // Several scenarios write their repros into a directory, never into one FILE.
    let t = tmpdir("multi-repro");
    let f = t.join("r.yaml");
    let out = run(&[
        "explore",
        d,
        "--cases",
        "30",
        "--write-repro",
        f.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!f.exists());
}

#[test]
fn quiet_verbose_and_colour() {
    let f = "scenarios/20-method-not-allowed.yaml";
    let text = |args: &[&str]| {
        let out = bin()
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let normal = text(&["replay", f]);
    assert!(normal.contains("#1 "), "{normal}");
    assert!(
        normal.contains("edge pass (method)"),
        "a pass says why: {normal}"
    );
    assert!(
        !normal.contains("pop 0"),
        "no POPs, no pop column: {normal}"
    );
    let quiet = text(&["replay", f, "-q"]);
    assert_eq!(
        quiet,
        "replay method-not-allowed: 2 steps, 2 blocked, 0 cache-induced — PASS\n"
    );
    let verbose = text(&["replay", "scenarios/01-reflect-without-vary.yaml", "-v"]);
    assert!(verbose.contains("origin alone: ok"), "{verbose}");
    assert!(!normal.contains('\x1b'), "no colour into a pipe");
    assert!(text(&["replay", f, "--color", "always"]).contains("\x1b["));
    let out = bin()
        .args(["replay", f, "--color", "auto"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
    let one = text(&["replay", "scenarios/16-ats-alternates-thrash.yaml"]);
    assert!(!one.contains("1 steps") && !one.contains("(s)"), "{one}");
}

/// `-q` leaves only errors and the result line on every command that reports; `-v` adds
/// detail. Each case: the arguments, the exact lines `-q` prints (stderr stays empty).
#[test]
fn quiet_leaves_only_errors_and_the_result_line() {
    let dir = tmpdir("quiet");
    let imported = dir.join("imported.yaml");
    let cases: Vec<(Vec<&str>, Vec<String>)> = vec![
        (
            vec!["replay", "scenarios/01-reflect-without-vary.yaml", "scenarios/02-vary-origin-fix.yaml"],
            vec!["replay: 2 scenarios: 2 passed, 0 failed — PASS".into()],
        ),
        (
            vec!["matrix", "scenarios/15-cloudflare-origin-in-key.yaml"],
            vec!["matrix cloudflare-origin-in-key: cache-induced failures on 13 of 15 profiles: rfc9111, url-only, varnish, nginx, squid, ats, fastly, cloudfront, cloudfront-cors-custom, cloudfront-cors-s3, akamai, gcp-cdn, azure-front-door".into()],
        ),
        (
            vec!["explore", "scenarios/02-vary-origin-fix.yaml", "--cases", "40"],
            vec!["explore vary-origin-fix: no cache-induced CORS failure in 40 sessions (seed 0)".into()],
        ),
        (
            vec!["lint", "scenarios/lint/correct.yaml", "scenarios/lint/max-age.yaml"],
            vec![
                "varyedge lint scenarios/lint/correct.yaml: no findings".into(),
                "varyedge lint scenarios/lint/max-age.yaml: 1 finding (1 low)".into(),
            ],
        ),
        (
            vec!["fix", "scenarios/02-vary-origin-fix.yaml", "--cases", "20"],
            vec!["fix vary-origin-fix (varnish): nothing to fix".into()],
        ),
        (
            vec!["diagnose", "har", "tests/har/firefox-reflect-without-vary.har"],
            vec![],
        ),
        (
            vec!["import", "har", "tests/har/firefox-reflect-without-vary.har", "--out", imported.to_str().unwrap()],
            vec![],
        ),
    ];
    for (args, want) in cases {
        let loud = bin()
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let out = bin()
            .arg("-q")
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            loud.status.code(),
            "{args:?}: -q keeps the exit code"
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr, "", "{args:?}: -q prints no notes");
        let lines: Vec<&str> = stdout.lines().collect();
        if args[0] == "diagnose" {
            // its one line is the first line of the full report
            let full = String::from_utf8(loud.stdout).unwrap();
            assert_eq!(lines, vec![full.lines().next().unwrap()], "{args:?}");
            assert!(
                full.lines().count() > 1,
                "{args:?}: the full report says more"
            );
        } else if args[0] == "import" {
            assert!(lines.is_empty(), "{args:?}: {stdout}");
            assert!(
                !loud.stderr.is_empty(),
                "{args:?}: without -q it says what it imported"
            );
        } else {
            assert_eq!(lines, want, "{args:?}");
            assert!(
                loud.stdout.len() > stdout.len(),
                "{args:?}: without -q it says more"
            );
        }
    }
    // A failing step is an error: `-q` keeps it, as file:line, before the result line.
    let changed = dir.join("changed.yaml");
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/01-reflect-without-vary.yaml"),
    )
    .unwrap()
    .replacen(
        "expect: { cors: ok, cache: miss }",
        "expect: { cors: blocked, cache: miss }",
        1,
    );
    std::fs::write(&changed, text).unwrap();
    let out = bin()
        .args(["-q", "replay", changed.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("{}:", changed.display()))
            && lines[0].contains("#0")
            && lines[0].contains("expectation unmet"),
        "{stdout}"
    );
    assert!(lines[1].ends_with("— FAIL"), "{stdout}");
    // -v adds detail: matrix shows each failing row's first failure in full.
    let f = "scenarios/01-reflect-without-vary.yaml";
    let normal = bin()
        .args(["matrix", f])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let verbose = bin()
        .args(["-v", "matrix", f])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let (normal, verbose) = (
        String::from_utf8(normal.stdout).unwrap(),
        String::from_utf8(verbose.stdout).unwrap(),
    );
    assert!(verbose.starts_with(&normal), "the table first");
    assert!(
        verbose.contains(
            "\nvarnish: #1 app2 GET /api/data from https://app2.example.com: origin-mismatch"
        ),
        "{verbose}"
    );
    assert!(
        verbose.contains("console: ") && !normal.contains("console: "),
        "{verbose}"
    );
}

/// The newcomer's probes (tests/data/scn-*): bad input exits 2 with nothing on standard
/// output and one error at the place it was written, in words that say what was expected.
#[test]
fn probe_inputs_exit_2_at_the_right_place() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let file = |n: &str| data.join(n).to_str().unwrap().to_string();
    let bad = |args: &[&str], want: &str| {
        let o = run(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}: no partial output");
        assert!(err.contains(want), "{args:?}: {err:?} lacks {want:?}");
        assert!(!err.contains("panicked"), "{err}");
    };
    let huge = file("scn-huge.yaml");
    bad(
        &["replay", &huge],
        &format!("{huge}:2:60: duration too large (at most 11574074d, about 31,700 years), found \"99999999999999999999\""),
    );
    let nonutf8 = file("scn-nonutf8.yaml");
    bad(
        &["replay", &nonutf8],
        &format!("{nonutf8}:1:11: expected UTF-8 text"),
    );
    let upstream = file("scn-upstream.yaml");
    bad(
        &["replay", &upstream],
        &format!("{upstream}:2:11: the origin is a real server (http://127.0.0.1:9)"),
    );
    // a file that cannot be read has no line or column
    bad(&["replay", "nonexist.yaml"], "nonexist.yaml: cannot read: ");
    let ok = file("scn-edge-cors-max-age.yaml");
    bad(
        &["replay", "--profile", "nope", &ok],
        "varyedge: --profile: unknown profile \"nope\"; expected one of rfc9111,",
    );
    bad(
        &["explore", "--cases", "0", &ok],
        "--cases must be at least 1",
    );
    // and `edge_cors.max_age: 10m` is read as a duration
    let o = run(&["replay", &ok]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn init_names_the_file_it_wrote_in_its_header() {
    let d = tmpdir("init-name");
    let f = d.join("init.yaml");
    let o = run(&["init", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(
        text.contains(&format!("varyedge replay {}\n", f.display())),
        "{text}"
    );
    assert!(!text.contains("scenario.yaml"), "{text}");
}

/// PRODUCT.md "Exit codes everywhere": 1 is an unmet expectation or a finding, 2 bad
/// input or usage. A target nothing listens on is neither an edge finding nor clean:
/// `fingerprint` exits 2 and writes nothing, as `replay --target` and `lint --upstream` do.
#[test]
fn fingerprint_of_an_unreachable_target_exits_2_and_writes_nothing() {
    // a loopback port that was free a moment ago: bound, read, released
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = tmpdir("fingerprint-unreachable");
    let out_file = d.join("fp.json");
    let target = format!("http://127.0.0.1:{port}");
    let out = run(&[
        "fingerprint",
        "--target",
        &target,
        "--path",
        "/x",
        "--format",
        "json",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!out_file.exists());
}

/// Option values that would make a run prove nothing are usage errors (exit 2), never a
/// pass: `matrix --profiles ""` (an empty CI variable) ran no profile and exited 0, and
/// `fix --cases 0` explored no session for its proofs, as `explore --cases 0` refuses to.
/// A profile named twice is one row.
#[test]
fn options_that_would_run_nothing_are_usage_errors() {
    let d = tmpdir("run-nothing");
    let f = d.join("s.yaml");
    std::fs::write(&f, product_example()).unwrap();
    let f = f.to_str().unwrap();
    for args in [
        vec!["matrix", f, "--profiles", ""],
        vec!["matrix", f, "--profiles", " , "],
        vec!["fix", f, "--cases", "0"],
    ] {
        let o = run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("expected") || err.contains("at least 1"),
            "{args:?}: {err}"
        );
    }
    let o = run(&[
        "matrix",
        f,
        "--profiles",
        "url-only,rfc9111,url-only",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows: Vec<&str> = v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["profile"].as_str().unwrap())
        .collect();
    assert_eq!(rows, ["url-only", "rfc9111"]);
}

/// `explore --write-repro DIR/` (README: `--write-repro FILE|DIR`): a path ending in `/`
/// names a directory, made when missing, with one repro per failure kind in it.
#[test]
fn write_repro_into_a_new_directory_named_with_a_slash() {
    let d = tmpdir("repro-dir");
    let f = d.join("s.yaml");
    std::fs::write(&f, product_example()).unwrap();
    let target = format!("{}/repros/", d.display());
    let o = run(&[
        "explore",
        f.to_str().unwrap(),
        "--cases",
        "50",
        "--write-repro",
        &target,
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let written: Vec<_> = std::fs::read_dir(d.join("repros")).unwrap().collect();
    assert!(!written.is_empty());
}

/// `--out` naming the command's own input (a slip in a CI script: `replay api.yaml --out
/// api.yaml`) would replace the scenario with its report: exit 2, the input untouched.
#[test]
fn out_that_is_an_input_is_refused_and_the_input_kept() {
    let d = tmpdir("out-is-input");
    let f = d.join("api.yaml");
    std::fs::write(&f, product_example()).unwrap();
    let f = f.to_str().unwrap();
    let spelled = format!("{}/./api.yaml", d.display());
    for args in [
        vec!["replay", f, "--format", "json", "--out", &spelled],
        vec!["matrix", f, "--out", f],
        vec!["lint", f, "--out", f],
        vec!["explore", f, "--cases", "8", "--out", f],
        vec!["fix", f, "--cases", "8", "--out", f],
        vec!["import", "cdn-config", f, "--out", f],
    ] {
        let o = run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("that is the input"), "{args:?}: {err}");
        assert_eq!(
            std::fs::read_to_string(f).unwrap(),
            product_example(),
            "{args:?}"
        );
    }
}

/// A directory of scenarios with a `.yaml` link to a file that is gone: the run names it
/// (exit 2) instead of leaving a scenario out silently; other files (`.txt`, a
/// subdirectory) are still not scenarios.
#[test]
fn a_dangling_yaml_link_in_a_directory_is_an_error() {
    let d = tmpdir("dangling");
    std::fs::write(d.join("a.yaml"), product_example()).unwrap();
    std::fs::write(d.join("notes.txt"), "not a scenario").unwrap();
    std::fs::create_dir_all(d.join("sub.yaml")).unwrap();
    let dir = d.to_str().unwrap();
    assert_eq!(run(&["replay", dir, "-q"]).status.code(), Some(0));
    std::os::unix::fs::symlink(d.join("gone.yaml"), d.join("b.yaml")).unwrap();
    let o = run(&["replay", dir, "-q"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("b.yaml: cannot read"), "{err}");
}

/// docs/scenario-format.md: a wrong flag has no position, and reads
/// `varyedge: --flag: what was expected` — in every command (lint and fingerprint wrote
/// `<--path>: …` and `<--upstream>:1:1: …`).
#[test]
fn a_wrong_flag_value_reads_the_same_in_every_command() {
    let d = tmpdir("flag-form");
    let f = d.join("s.yaml");
    std::fs::write(&f, product_example()).unwrap();
    let f = f.to_str().unwrap();
    for (args, flag) in [
        (vec!["lint", "--upstream", "ftp://x"], "--upstream"),
        (
            vec![
                "lint",
                "--upstream",
                "http://127.0.0.1:9",
                "--origin",
                "bad",
            ],
            "--origin",
        ),
        (
            vec!["lint", "--upstream", "http://127.0.0.1:9", "--path", "x"],
            "--path",
        ),
        (
            vec!["lint", "--upstream", "http://127.0.0.1:9", "--timeout", "x"],
            "--timeout",
        ),
        (
            vec!["fingerprint", "--target", "x", "--path", "/a"],
            "--target",
        ),
        (
            vec![
                "fingerprint",
                "--target",
                "http://127.0.0.1:9",
                "--path",
                "a",
            ],
            "--path",
        ),
        (
            vec![
                "fingerprint",
                "--target",
                "http://127.0.0.1:9",
                "--path",
                "/a",
                "--rate",
                "0",
            ],
            "--rate",
        ),
        (
            vec![
                "replay",
                f,
                "--target",
                "http://127.0.0.1:9",
                "--max-wait",
                "x",
            ],
            "--max-wait",
        ),
        (vec!["replay", f, "--profile", "nope"], "--profile"),
    ] {
        let o = run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("varyedge: {flag}: ")),
            "{args:?}: {err}"
        );
        assert!(err.contains("expected"), "{args:?}: {err}");
    }
}

/// `-` is standard input for every scenario command, named `<stdin>`; a bad file read
/// there is located at `<stdin>:LINE:COL` and exits 2.
#[test]
fn a_scenario_can_be_read_from_standard_input() {
    use std::io::Write;
    let piped = |args: &[&str], text: &str| {
        let mut child = bin()
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run varyedge");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(text.as_bytes()).unwrap();
        drop(stdin);
        child.wait_with_output().unwrap()
    };
    let text = product_example();
    let from_file = run(&["replay", "scenarios/01-reflect-without-vary.yaml"]);
    let from_stdin = piped(&["replay", "-"], &text);
    assert_eq!(from_stdin.status.code(), from_file.status.code());
    let out = String::from_utf8_lossy(&from_stdin.stdout);
    assert!(out.contains("(<stdin>)"), "{out}");
    // the same steps and verdicts as the file gives: only the name differs
    assert_eq!(
        out.replace("<stdin>", "F"),
        String::from_utf8_lossy(&from_file.stdout)
            .replace("scenarios/01-reflect-without-vary.yaml", "F")
    );
    // matrix loads the scenario once per profile and lint marks latent rows from its
    // text: every read sees the same piped bytes
    let m = piped(&["matrix", "-", "--format", "json"], &text);
    let mf = run(&[
        "matrix",
        "scenarios/01-reflect-without-vary.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(
        m.status.code(),
        mf.status.code(),
        "{}",
        String::from_utf8_lossy(&m.stderr)
    );
    let rows = |o: &Output| {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["profiles"].clone()
    };
    assert_eq!(rows(&m), rows(&mf));
    assert!(rows(&m).as_array().is_some_and(|r| r.len() >= 14));
    let l = piped(&["lint", "-"], &text);
    assert!(String::from_utf8_lossy(&l.stdout).contains("<stdin>:"));
    let bad = piped(&["replay", "-"], "version: 1\nfoo: [\n");
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).starts_with("<stdin>:2:1:"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
