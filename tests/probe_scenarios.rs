//! v1 scenarios written from PRODUCT.md's format alone (tests/probe/README.md): anchors,
//! flow style, CRLF + BOM, durations everywhere, expectations reasoned from the Fetch
//! standard and RFC 9111 in each file's comments, and `edge: { import: … }` of the probe
//! CDN configs. Every one replays with its expectations met; a tab-indented one is exit 2
//! with its place; no command fails on input or panics on any of them.

use std::path::Path;
use std::process::{Command, Output};

fn varyedge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .args(args)
        .output()
        .expect("run varyedge")
}

fn scenarios() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probe/scenarios");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| p.display().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn every_probe_scenario_replays_with_its_expectations_met() {
    let all = scenarios();
    assert!(all.len() >= 12, "{all:?}");
    for s in &all {
        let o = varyedge(&["replay", s]);
        let out = String::from_utf8_lossy(&o.stdout);
        let err = String::from_utf8_lossy(&o.stderr);
        if s.ends_with("s03-tabs.yaml") {
            assert_eq!(o.status.code(), Some(2), "{s}: {out}");
            assert!(err.contains("s03-tabs.yaml:3:2:"), "{err}");
            assert!(err.contains("tab"), "{err}");
            continue;
        }
        assert_eq!(o.status.code(), Some(0), "{s}:\n{out}\n{err}");
    }
}

#[test]
fn no_command_fails_on_input_or_panics() {
    for s in scenarios() {
        let bad = s.ends_with("s03-tabs.yaml");
        for args in [
            vec!["matrix", s.as_str()],
            vec!["lint", s.as_str()],
            vec!["explore", s.as_str(), "--cases", "16", "--seed", "7"],
        ] {
            let o = varyedge(&args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!err.contains("panicked"), "{args:?}: {err}");
            let code = o.status.code();
            if bad {
                assert_eq!(code, Some(2), "{args:?}");
            } else {
                assert!(matches!(code, Some(0 | 1)), "{args:?}: {code:?} {err}");
            }
        }
    }
}

/// PRODUCT.md "Exit codes": a CORS failure on a step whose expectation does not cover it is
/// exit 1. A step that states only `cache: hit` and is blocked is met on what it stated,
/// yet a failure: the text must not call the block expected, and the JSON step must say
/// what the summary counts.
#[test]
fn a_blocked_step_met_on_its_cache_expectation_is_one_story() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probe/report/met-but-blocked.yaml");
    let f = f.to_str().unwrap();
    let text = varyedge(&["replay", f]);
    let out = String::from_utf8_lossy(&text.stdout);
    assert_eq!(text.status.code(), Some(1), "{out}");
    assert!(!out.contains("as expected"), "{out}");
    assert!(out.contains("expect: met, but blocked"), "{out}");
    let json = varyedge(&["replay", f, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let blocked: Vec<&serde_json::Value> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["verdict"]["cors"] == "blocked")
        .collect();
    assert_eq!(blocked.len(), 1, "{v}");
    assert_eq!(blocked[0]["expectation"], "met");
    assert_eq!(blocked[0]["unexpected_failure"], true);
    assert_eq!(v["summary"]["unexpected_failures"], 1);
}

/// CloudFront with the CORS-CustomOrigin origin request policy forwards `Origin` but not
/// the preflight's `Access-Control-Request-*` fields: the fix hint of the failed preflight
/// names those fields (it said the origin never sees `Origin`, which it does).
#[test]
fn a_preflight_whose_fields_are_not_forwarded_gets_a_hint_naming_them() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probe/report/acr-not-forwarded.yaml");
    let json = varyedge(&["replay", f.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let step = &v["steps"][0];
    assert_eq!(step["verdict"]["in_preflight"], true, "{v}");
    let fix = step["fix"].as_str().unwrap_or_default();
    assert!(
        fix.contains("Access-Control-Request-Method/-Headers"),
        "{fix}"
    );
    assert!(!fix.contains("never sees the request's Origin"), "{fix}");
    // the managed policy that forwards them (CORS-CustomOrigin is the one that does not)
    assert!(fix.contains("CORS-S3Origin or AllViewer"), "{fix}");
}

/// Hostile scenario files (tests/probe/README.md, `hostile/`): duplicate keys, numbers out
/// of range, nesting thousands deep, non-UTF-8 and UTF-16 bytes, empty and comment-only
/// files, a top-level list, recursive and billion-laughs aliases, a time going back, a
/// list or mapping in the wrong place. Every command that reads a scenario exits 2 with
/// `file:line:col: what was expected`, writes no `--out` file and never panics.
#[test]
fn hostile_scenarios_are_located_errors_in_every_command() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probe/hostile");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    files.sort();
    assert!(files.len() >= 20, "{files:?}");
    let out_dir =
        std::env::temp_dir().join(format!("varyedge-probe-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join("report");
    let out = out.to_str().unwrap();
    for f in &files {
        for args in [
            vec!["replay", f, "--format", "json", "--out", out],
            vec!["matrix", f, "--out", out],
            vec!["explore", f, "--cases", "8", "--out", out],
            vec!["lint", f, "--out", out],
            vec!["fix", f, "--cases", "8", "--out", out],
        ] {
            let o = varyedge(&args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!err.contains("panicked"), "{args:?}: {err}");
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            let loc = err
                .strip_prefix(&format!("{f}:"))
                .unwrap_or_else(|| panic!("{args:?}: no file:line:col: {err}"));
            let mut parts = loc.splitn(3, ':');
            let (line, col) = (parts.next().unwrap(), parts.next().unwrap_or(""));
            assert!(
                line.parse::<u32>().is_ok_and(|n| n >= 1)
                    && col.parse::<u32>().is_ok_and(|n| n >= 1),
                "{args:?}: {err}"
            );
            assert!(
                parts.next().is_some_and(|m| m.trim().len() > 10),
                "{args:?}: {err}"
            );
            assert!(!Path::new(out).exists(), "{args:?} wrote {out}");
        }
    }
    let _ = std::fs::remove_dir_all(&out_dir);
}

fn probe(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/probe/scenarios")
        .join(name)
        .display()
        .to_string()
}

fn json(args: &[&str]) -> serde_json::Value {
    let o = varyedge(args);
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&o.stderr)))
}

/// `matrix --format json`: profile name → (blocked, cache_induced).
fn matrix(file: &str) -> std::collections::BTreeMap<String, (u64, u64)> {
    let v = json(&["matrix", &probe(file), "--format", "json"]);
    v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["profile"].as_str().unwrap().to_string(),
                (
                    p["blocked"].as_u64().unwrap(),
                    p["cache_induced"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

fn lint_rules(file: &str) -> Vec<(String, String)> {
    let v = json(&["lint", &probe(file), "--format", "json"]);
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Session scn, defect 1: a Varnish or Fastly that is told to cache OPTIONS hashes the URL
/// and Host only (builtin vcl_hash; Fastly vcl_hash), so a preflight answer without Vary
/// is served to another Origin — what the lab measured on real Varnish 7.1
/// (docs/research/lab.md finding 2). Both profiles keyed the preflight fields before.
#[test]
fn varnish_and_fastly_caching_options_key_preflights_on_the_url_only() {
    for (file, profile) in [
        ("n01-varnish-options-no-vary.yaml", "varnish"),
        ("n03-fastly-options-no-vary.yaml", "fastly"),
    ] {
        let m = matrix(file);
        assert_eq!(m[profile], (1, 1), "{file}: {m:?}");
        // a cache that keys the preflight fields (cloudfront-origin-keyed) is not poisoned
        assert_eq!(m["cloudfront-origin-keyed"], (0, 0), "{file}: {m:?}");
        assert_eq!(m["rfc9111"], (0, 0), "{file}: {m:?}");
    }
    // with the preflight's Vary, Varnish keeps one variant per Origin: nothing fails
    let m = matrix("n02-varnish-options-with-vary.yaml");
    assert_eq!(m["varnish"], (0, 0), "{m:?}");
    assert_eq!(m["fastly"], (0, 0), "{m:?}");
    // and a preflight that varies on the request headers only still poisons across Origins
    let m = matrix("n10-preflight-vary-acrh-only.yaml");
    assert_eq!(m["varnish"], (1, 1), "{m:?}");
}

/// Session scn, defect 2: RFC 5861 stale-while-revalidate is a MAY. Real nginx 1.22, Squid
/// 5.7 and ATS 9.2 refetched an expired `max-age=2, stale-while-revalidate=60` answer;
/// Varnish 7.1 served it stale (tests/probe/README.md, scn round); Fastly, CloudFront,
/// Cloud CDN document honouring it. Every profile honoured it before.
#[test]
fn stale_while_revalidate_is_honoured_only_where_the_cache_does() {
    let m = matrix("n04-swr-nginx.yaml");
    for p in [
        "nginx",
        "squid",
        "ats",
        "akamai",
        "azure-front-door",
        "url-only",
    ] {
        assert_eq!(m[p], (0, 0), "{p}: {m:?}");
    }
    for p in [
        "rfc9111",
        "varnish",
        "fastly",
        "cloudfront-cors-custom",
        "gcp-cdn",
    ] {
        assert_eq!(m[p], (1, 1), "{p}: {m:?}");
    }
    // the step that meets the expired entry is served stale at Varnish, refetched at nginx
    let step = |file: &str, profile: &str| {
        let v = json(&[
            "replay",
            &probe(file),
            "--profile",
            profile,
            "--format",
            "json",
        ]);
        v["steps"][1]["cache"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(step("n04-swr-nginx.yaml", "nginx"), "miss");
    assert_eq!(step("n04-swr-nginx.yaml", "varnish"), "stale");
    // the knob turns it on over a profile (nginx with proxy_cache_background_update)
    let o = varyedge(&["replay", &probe("n06-swr-knob.yaml")]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// Session scn, defect 3: options-cached-unkeyed fired (low) although the preflight's own
/// Vary, honoured by the edge, keeps callers apart (Varnish told to cache OPTIONS, lab
/// finding 2), or the cache policy's key headers do. It still fires where nothing does.
#[test]
fn options_cached_unkeyed_is_silent_when_vary_or_key_headers_keep_preflights_apart() {
    for file in [
        "n02-varnish-options-with-vary.yaml",
        "n29-options-keyed-by-key-headers.yaml",
    ] {
        let rules = lint_rules(file);
        assert!(
            !rules.iter().any(|(r, _)| r == "options-cached-unkeyed"),
            "{file}: {rules:?}"
        );
    }
    for file in [
        "n01-varnish-options-no-vary.yaml",
        "n03-fastly-options-no-vary.yaml",
        "n10-preflight-vary-acrh-only.yaml",
    ] {
        let rules = lint_rules(file);
        assert!(
            rules
                .iter()
                .any(|(r, s)| r == "options-cached-unkeyed" && s == "high"),
            "{file}: {rules:?}"
        );
    }
}

/// Per-profile verdicts the scn round's files state in their headers, beyond the profile
/// each file names (which `every_probe_scenario_replays_with_its_expectations_met` checks).
#[test]
fn scn_round_verdicts_per_profile() {
    // Vary: * — Varnish/RFC never reuse it, Fastly does (cache-tests.fyi)
    let m = matrix("n07-vary-star-varnish.yaml");
    assert_eq!(m["varnish"], (0, 0), "{m:?}");
    assert_eq!(m["rfc9111"], (0, 0), "{m:?}");
    assert_eq!(m["cloudflare"], (0, 0), "{m:?}");
    assert_eq!(m["fastly"], (1, 1), "{m:?}");
    // Set-Cookie: Varnish/Fastly/Cloudflare do not store it; CloudFront strips and stores
    let m = matrix("n17-set-cookie-varnish.yaml");
    for p in ["varnish", "fastly", "cloudflare", "nginx"] {
        assert_eq!(m[p], (0, 0), "{p}: {m:?}");
    }
    assert_eq!(m["cloudfront-cors-custom"], (1, 1), "{m:?}");
    // s-maxage governs every shared cache; those keying Origin stay safe
    let m = matrix("n18-s-maxage.yaml");
    for p in ["rfc9111", "nginx", "squid", "ats"] {
        assert_eq!(m[p], (1, 1), "{p}: {m:?}");
    }
    // ... and Varnish's default grace (10 s, tests/fidelity z41) still delivers app1's
    // answer 5 s after it expired
    assert_eq!(m["varnish"], (2, 2), "{m:?}");
    assert_eq!(m["cloudflare"], (0, 0), "{m:?}");
    // HEAD fills the GET entry where a HEAD miss is fetched as GET
    let m = matrix("n19-head-then-get-varnish.yaml");
    assert_eq!(m["varnish"], (1, 1), "{m:?}");
    assert_eq!(m["nginx"], (1, 1), "{m:?}");
    // the 304 without CORS keeps app1's ACAO where the cache revalidates
    let m = matrix("n15-304-keeps-stored-acao.yaml");
    assert_eq!(m["rfc9111"], (1, 1), "{m:?}");
    assert_eq!(m["nginx"], (0, 0), "{m:?}");
    // Varnish refetches whole, but only past its default grace: 8 s after expiry it
    // still delivers app1's answer (tests/fidelity z41)
    assert_eq!(m["varnish"], (1, 1), "{m:?}");
    let m = matrix("n16-304-updates-acao.yaml");
    assert_eq!(m["rfc9111"], (0, 0), "{m:?}");
    // `*` with credentials fails without any cache: never cache-induced
    for (p, (blocked, induced)) in matrix("n23-credentials-star.yaml") {
        assert!(blocked >= 1 && induced == 0, "{p}: {blocked} {induced}");
    }
}

/// Session scn: the lint's simulated callers were a whole second apart, so a `no-store`
/// preflight that CloudFront keeps for its 1 s minimum TTL (Expiration.html: no-store with
/// a minimum TTL above 0 is cached for the minimum TTL) had expired before the second
/// caller, and options-cached-unkeyed said "no cache-induced failure" (low) about a file
/// whose own replay is poisoned 500 ms later (n12).
#[test]
fn lint_sees_a_preflight_stored_only_for_the_minimum_ttl() {
    let rules = lint_rules("n12-preflight-no-store-cloudfront.yaml");
    assert!(
        rules
            .iter()
            .any(|(r, s)| r == "options-cached-unkeyed" && s == "high"),
        "{rules:?}"
    );
    // a preflight the edge never stores (Varnish, `private`) stays a latent finding
    let rules = lint_rules("n13-preflight-private-varnish.yaml");
    assert!(
        rules
            .iter()
            .any(|(r, s)| r == "options-cached-unkeyed" && s == "low"),
        "{rules:?}"
    );
}
