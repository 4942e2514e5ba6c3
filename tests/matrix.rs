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
