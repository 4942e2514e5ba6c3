//! The matrix claims of research/cdn-vary.md, on the bundled matrix scenarios: which
//! profiles serve one origin's CORS answer to another, with and without `Vary: Origin`.

use std::path::Path;
use std::process::Command;

fn matrix(name: &str) -> serde_json::Value {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let out = Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .args(["matrix", f.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn row<'a>(v: &'a serde_json::Value, profile: &str) -> &'a serde_json::Value {
    v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["profile"] == profile)
        .unwrap_or_else(|| panic!("no row for {profile}"))
}

#[test]
fn the_matrix_scenarios_pass_under_their_own_profile() {
    for name in ["matrix-reflect-vary.yaml", "matrix-reflect-novary.yaml"] {
        let f = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(name);
        let out = Command::new(env!("CARGO_BIN_EXE_varyedge"))
            .args(["replay", f.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn reflect_with_vary_breaks_only_the_caches_that_ignore_vary() {
    let v = matrix("matrix-reflect-vary.yaml");
    // research §1.1: CloudFront keys on its cache policy only, Azure Front Door does not
    // honour Vary (weak: a Q&A answer), url-only is the naive cache
    for p in [
        "cloudfront-cors-custom",
        "cloudfront-cors-s3",
        "url-only",
        "azure-front-door",
    ] {
        assert_eq!(row(&v, p)["cache_induced"], 2, "{p}");
        assert_eq!(
            row(&v, p)["first_failure"]["reason"],
            "origin-mismatch",
            "{p}"
        );
        assert_eq!(row(&v, p)["first_failure"]["poisoned_by"], 0, "{p}");
    }
    // spec Vary (Varnish, Fastly, nginx, Squid, ATS), Origin on Cloud CDN's Vary
    // allowlist, Origin in Cloudflare's default key or in the CloudFront policy
    for p in [
        "rfc9111",
        "varnish",
        "fastly",
        "nginx",
        "squid",
        "ats",
        "gcp-cdn",
        "cloudflare",
        "cloudfront-origin-keyed",
    ] {
        assert_eq!(row(&v, p)["cache_induced"], 0, "{p}");
        assert_eq!(row(&v, p)["blocked"], 0, "{p}");
        assert_eq!(
            row(&v, p)["hits"],
            2,
            "{p}: a variant per Origin, both reused"
        );
    }
    // CachingOptimized with no origin request policy: the origin never sees Origin, so
    // all 4 steps fail, the first one on the miss itself (controlling-origin-requests)
    assert_eq!(row(&v, "cloudfront")["blocked"], 4);
    assert_eq!(row(&v, "cloudfront")["cache_induced"], 4);
    assert_eq!(
        row(&v, "cloudfront")["first_failure"]["reason"],
        "missing-allow-origin"
    );
    assert_eq!(row(&v, "cloudfront")["first_failure"]["index"], 0);
    // Akamai: Vary beyond Accept-Encoding → not cached at all
    assert_eq!(row(&v, "akamai")["cache_induced"], 0);
    assert_eq!(row(&v, "akamai")["hits"], 0);
}

#[test]
fn reflect_without_vary_breaks_every_url_keyed_cache() {
    let v = matrix("matrix-reflect-novary.yaml");
    for p in [
        "rfc9111",
        "url-only",
        "varnish",
        "nginx",
        "squid",
        "ats",
        "fastly",
        "cloudfront-cors-custom",
        "cloudfront-cors-s3",
        "akamai",
        "gcp-cdn",
        "azure-front-door",
    ] {
        assert_eq!(row(&v, p)["cache_induced"], 1, "{p}");
        assert_eq!(row(&v, p)["first_failure"]["index"], 1, "{p}");
        assert_eq!(
            row(&v, p)["first_failure"]["reason"],
            "origin-mismatch",
            "{p}"
        );
    }
    // CachingOptimized alone: blocked from the first step (Origin never forwarded)
    assert_eq!(row(&v, "cloudfront")["blocked"], 3);
    assert_eq!(row(&v, "cloudfront")["first_failure"]["index"], 0);
    // the request Origin is in the key: each origin gets its own entry
    for p in ["cloudflare", "cloudfront-origin-keyed"] {
        assert_eq!(row(&v, p)["cache_induced"], 0, "{p}");
        assert_eq!(row(&v, p)["blocked"], 0, "{p}");
    }
}

/// Every bundled scenario file (scenarios/ and its subdirectories), sorted.
fn bundled() -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn json_of(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Issue 16, "lint and matrix agree": for every bundled scenario and every profile, a
/// profile a lint finding names as poisoning is failing in `matrix` on the same file
/// (`"matrix": "fails"`, the row has a cache-induced step), or both say it is latent (lint
/// `"matrix": "latent"`, and the matrix row has no cache-induced step and carries that very
/// rule and session in `latent`). And nothing in `matrix`'s `latent` lacks its lint finding.
#[test]
fn lint_and_matrix_agree_on_every_bundled_scenario_and_profile() {
    let (mut fails, mut latent, mut pairs) = (0, 0, 0);
    for f in bundled() {
        let file = f.to_str().unwrap();
        let lint = json_of(&["lint", file, "--format", "json"]);
        let matrix = json_of(&["matrix", file, "--format", "json"]);
        let rows = matrix["profiles"].as_array().unwrap();
        assert_eq!(rows.len(), 15, "{file}: every profile has a row");
        for r in rows {
            pairs += 1;
            let p = r["profile"].as_str().unwrap();
            let ci = r["cache_induced"].as_u64().unwrap();
            let notes = r["latent"].as_array().unwrap();
            for finding in lint["findings"].as_array().unwrap() {
                let rule = finding["id"].as_str().unwrap();
                let marks = finding["profiles"].as_array().into_iter().flatten();
                for m in marks.filter(|m| m["profile"] == p) {
                    match m["matrix"].as_str().unwrap() {
                        "fails" => {
                            fails += 1;
                            assert!(ci > 0, "{file}: lint {rule} says {p} fails, matrix shows no cache-induced step");
                        }
                        "latent" => {
                            latent += 1;
                            assert_eq!(
                                ci, 0,
                                "{file}: lint {rule} says {p} is latent, matrix shows it failing"
                            );
                            let note = serde_json::json!({ "rule": rule, "session": m["session"] });
                            assert!(
                                notes.contains(&note),
                                "{file}: matrix row {p} does not explain lint's {rule}: {notes:?}"
                            );
                        }
                        other => panic!("{file}: {rule}: unknown matrix mark {other:?}"),
                    }
                }
            }
            for n in notes {
                let backed = lint["findings"].as_array().unwrap().iter().any(|x| {
                    x["id"] == n["rule"]
                        && x["profiles"].as_array().into_iter().flatten().any(|m| {
                            m["profile"] == p
                                && m["matrix"] == "latent"
                                && m["session"] == n["session"]
                        })
                });
                assert!(
                    backed,
                    "{file}: matrix row {p} says latent {n}, lint does not"
                );
                assert_eq!(ci, 0, "{file}: a failing row {p} is not latent");
            }
        }
    }
    // Not vacuous: the bundled scenarios exercise both cases.
    assert!(pairs >= 50 * 15, "{pairs} scenario × profile pairs");
    assert!(fails > 0 && latent > 0, "fails {fails}, latent {latent}");
}
