//! `varyedge lint --upstream`: each planted misconfiguration is served live by
//! `varyedge origin` on 127.0.0.1 (ephemeral port), probed, and must yield exactly its
//! finding; the correct policy must yield none. Children are killed on drop; every wait
//! is bounded.

mod common;

use common::{Server, BIN};
use std::path::Path;
use std::process::Command;

/// `varyedge origin SCENARIO` on an ephemeral loopback port, stopped when dropped.
fn serve(scenario: &str) -> Server {
    Server::origin(Path::new(scenario))
}

/// Probes a served scenario; returns (exit code, finding ids, the JSON report).
fn probe(scenario: &str, extra: &[&str]) -> (Option<i32>, Vec<String>, serde_json::Value) {
    let o = serve(scenario);
    let mut args = vec![
        "lint",
        "--upstream",
        &o.url,
        "--origin",
        "https://app.example.com",
        "--origin",
        "https://admin.example.com",
        "--path",
        "/api/data",
        "--format",
        "json",
        "--timeout",
        "5s",
    ];
    args.extend_from_slice(extra);
    let out = Command::new(BIN).args(&args).output().expect("run lint");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{scenario}: not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let ids = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    (out.status.code(), ids, j)
}

#[test]
fn each_planted_misconfiguration_is_found_exactly() {
    let cases: &[(&str, &[&str])] = &[
        ("correct", &[]),
        ("reflect-any", &["reflect-any-origin"]),
        ("null-origin", &["null-origin-allowed"]),
        ("suffix-match", &["suffix-match-allowlist"]),
        ("prefix-match", &["prefix-match-allowlist"]),
        ("regex-dot", &["regex-unescaped-dot"]),
        ("http-origin", &["http-origin-trusted"]),
        ("wildcard-credentials", &["wildcard-with-credentials"]),
        ("missing-vary", &["missing-vary-origin"]),
        ("vary-when-origin", &["missing-vary-origin"]),
        ("missing-preflight-vary", &["missing-preflight-vary"]),
        ("no-options", &["no-options-handler"]),
        ("max-age", &["max-age-above-cap"]),
    ];
    let mut wrong = Vec::new();
    for (name, want) in cases {
        let (_, got, j) = probe(&format!("scenarios/lint/{name}.yaml"), &[]);
        let mut got = got;
        got.sort();
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        if got != want {
            wrong.push(format!("{name}: want {want:?}, got {got:?}\n{j:#}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn evidence_names_the_crafted_request_and_the_answer() {
    let (code, ids, j) = probe("scenarios/lint/suffix-match.yaml", &[]);
    assert_eq!(code, Some(1), "critical ≥ the default --fail-on high");
    assert_eq!(ids, ["suffix-match-allowlist"]);
    let f = &j["findings"][0];
    assert_eq!(
        f["severity"], "critical",
        "the crafted origin gets credentials too"
    );
    let ev = f["evidence"].as_str().unwrap();
    assert!(ev.contains("Origin: https://evil-example.com"), "{ev}");
    assert!(
        ev.contains("Access-Control-Allow-Credentials: true"),
        "{ev}"
    );
    assert!(f["location"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("/api/data"));
    // The correct policy exits 0; a missing Vary on cacheable answers is high.
    let (code, ids, _) = probe("scenarios/lint/correct.yaml", &[]);
    assert_eq!((code, ids.len()), (Some(0), 0));
    let (code, _, j) = probe("scenarios/lint/missing-vary.yaml", &[]);
    assert_eq!(code, Some(1));
    assert_eq!(j["findings"][0]["severity"], "high");
}

#[test]
fn sarif_from_a_live_probe_points_at_the_url() {
    let o = serve("scenarios/lint/null-origin.yaml");
    let out = Command::new(BIN)
        .args([
            "lint",
            "--upstream",
            &o.url,
            "--origin",
            "https://app.example.com",
            "--path",
            "/api/data",
            "--format",
            "sarif",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &log["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "null-origin-allowed");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        format!("{}/api/data", o.url)
    );
}

#[test]
fn an_unreachable_upstream_is_bad_input() {
    // Bind then drop a listener: the port is (almost certainly) closed now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = Command::new(BIN)
        .args(["lint", "--upstream", &url, "--timeout", "2s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot probe"));
}

/// Issue 11: against a server that accepts and never answers, lint waits on a bounded
/// number of probes (`GIVE_UP_AFTER` in a row) and sends none of the rest; asserted on
/// what it reports, not on the clock.
#[test]
fn a_silent_server_is_waited_on_for_a_bounded_number_of_probes() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let out = Command::new(BIN)
        .args(["lint", "--upstream", &url, "--timeout", "200ms"])
        .args(["--origin", "https://app.example.com"])
        .output()
        .expect("run lint");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let waited = varyedge::net::probe::GIVE_UP_AFTER;
    assert!(
        err.contains(&format!("cannot probe {url}: GET "))
            && err.contains("no answer within 200ms"),
        "{err}"
    );
    let trusted = ["https://app.example.com".to_string()];
    let planned = varyedge::lint::probe::plan(&trusted, &["/".to_string()]).len();
    assert!(planned > waited + 5, "{planned} probes planned");
    assert!(
        err.contains(&format!(
            "; {waited} probes sent and unanswered, the other {} not sent",
            planned - waited
        )),
        "{err}"
    );
    drop(l);
}
