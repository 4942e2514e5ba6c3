//! Held-back-style HAR inputs written from the HAR 1.2 spec and the exporters' shapes
//! (tests/probe/README.md says where each comes from): every one imports, its scenario
//! replays with the recorded edge outcomes met, and `diagnose har` finds exactly the
//! poisoning the recording shows.

#[path = "common/har_cli.rs"]
mod har_cli;

use har_cli::{diagnose, induced, varyedge};
use serde_json::Value;
use std::path::Path;

fn probe(name: &str) -> String {
    har_cli::fixture_in("probe/har", name)
}

/// Imports `har`, replays the scenario; (yaml, replay JSON).
fn import_replay(har: &str) -> (String, Value) {
    har_cli::import_replay("probe-har", har, &[])
}

/// Per step: (blocked, cache_induced, poisoned_by).
fn verdicts(v: &Value) -> Vec<(bool, bool, Option<u64>)> {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["verdict"]["cors"] == "blocked",
                s["cache_induced"] == true,
                s["poisoned_by"].as_u64(),
            )
        })
        .collect()
}

fn unmet(v: &Value) -> u64 {
    v["summary"]["unmet_expectations"].as_u64().unwrap()
}

/// A Chrome export with a `(disk cache)` entry, a redirect, a POST answered 201, a 304
/// and a blocked request (`status: 0`, `_error: net::ERR_FAILED`). The disk-cache entry
/// never reached the edge, the POST's "Miss from cloudfront" is a pass in the model, and
/// the POST's 201 is not what the GET route answers.
#[test]
fn chrome_disk_cache_post_and_status_0() {
    let (yaml, v) = import_replay(&probe("chrome-status0-blocked.har"));
    let steps = verdicts(&v);
    assert_eq!(
        steps.len(),
        5,
        "the disk-cache entry is not an edge request:\n{yaml}"
    );
    assert_eq!(
        unmet(&v),
        0,
        "recorded edge outcomes must hold:\n{yaml}\n{v:#}"
    );
    assert_eq!(steps[4], (true, true, Some(0)), "{yaml}");
    for s in v["steps"].as_array().unwrap() {
        if s["request"].as_str().unwrap().starts_with("GET /v1/items") {
            assert_eq!(
                s["status"], 200,
                "GET answered with the POST's status:\n{yaml}"
            );
        }
    }
    let (code, d) = diagnose(&probe("chrome-status0-blocked.har"));
    assert_eq!(code, 1);
    assert_eq!(induced(&d).len(), 1, "{d:#}");
    assert_eq!(induced(&d)[0].0, 5);
}

/// Chrome, HTTP/2 (pseudo-headers, lowercase names), preflights recorded, Cloudflare
/// (`cf-cache-status: HIT`) serving app1's answer to app2: Cloudflare's default key holds
/// Origin, so the recording proves this zone's key does not; the import must say so.
#[test]
fn chrome_cloudflare_cross_origin_hit_reproduces() {
    let har = probe("chrome-h2-cloudflare-poisoned.har");
    let (yaml, v) = import_replay(&har);
    assert_eq!(
        verdicts(&v),
        [(false, false, None), (true, true, Some(0))],
        "{yaml}"
    );
    assert_eq!(unmet(&v), 0, "{yaml}");
    assert!(!yaml.contains("eyJhbGciOi"), "a secret leaked:\n{yaml}");
    let (code, d) = diagnose(&har);
    assert_eq!(code, 1);
    assert_eq!(induced(&d), [(3, Some(1))]);
}

/// Fiddler (7-digit fractions with offsets) behind Varnish that cached a request with a
/// Cookie (X-Cache: HIT): the builtin VCL would pass it, this one did not.
#[test]
fn fiddler_cookie_hit_reproduces() {
    let har = probe("fiddler-7digit-fraction.har");
    let (yaml, v) = import_replay(&har);
    assert_eq!(unmet(&v), 0, "{yaml}\n{v:#}");
    assert_eq!(
        verdicts(&v),
        [(false, false, None), (true, true, Some(0))],
        "{yaml}"
    );
    assert!(!yaml.contains("s3cr3t"), "{yaml}");
    let (code, d) = diagnose(&har);
    assert_eq!(code, 1);
    assert_eq!(induced(&d), [(1, Some(0))]);
}

/// `Access-Control-Allow-Origin: *` with a credentialed request fails for every caller:
/// the origin's own answer to app2 is the same `*`, so the cached copy induces nothing.
#[test]
fn wildcard_with_credentials_from_a_cache_is_not_cache_induced() {
    let (code, d) = diagnose(&probe("charles-no-pages.har"));
    assert_eq!(d["findings"].as_array().unwrap().len(), 2, "{d:#}");
    assert_eq!(induced(&d), [], "{d:#}");
    assert_eq!(code, 0, "no cache-induced failure → exit 0 (docs/har.md)");
}

/// Every probe recording: import succeeds (or, with no cross-origin traffic, exit 2 with
/// a message), the scenario loads and replays, diagnose never fails on input.
#[test]
fn every_probe_recording_imports_replays_and_diagnoses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probe/har");
    let expect_induced: &[(&str, usize)] = &[
        ("chrome-clean-vary-origin.har", 0),
        ("chrome-h2-cloudflare-poisoned.har", 1),
        ("chrome-status0-blocked.har", 1),
        ("chrome-preflight-poisoned.har", 1),
        ("firefox-offsets-out-of-order.har", 1),
        ("firefox-cloudfront-origin-keyed.har", 0),
        ("webkit-cache-status.har", 1),
        ("fiddler-7digit-fraction.har", 1),
        ("charles-no-pages.har", 0),
        ("charles-credentials-mixed.har", 1),
        ("playwright-webkit-omit.har", 1),
        ("huge-body-unicode.har", 0),
        ("missing-optionals.har", 0),
        ("empty-entries.har", 0),
        // session 19 (tests/probe/README.md)
        ("safari-age-only.har", 1),
        ("chrome-multiple-acao.har", 2),
        ("firefox-origin-null.har", 1),
        ("playwright-preflight-base64.har", 1),
        // session 20
        ("chrome-service-worker-cache-storage.har", 1),
        ("chrome-304-revalidation.har", 0),
        ("chrome-304-edge-acao.har", 1),
        ("chrome-cors-redirect-chain.har", 1),
        ("chrome-preflight-status0.har", 0),
        ("chrome-h3-cloudflare.har", 1),
        ("chrome-vary-two-lines.har", 0),
        ("firefox-spec-comments.har", 1),
        ("missing-started-date.har", 0),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "har") {
            continue;
        }
        seen += 1;
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let har = p.display().to_string();
        if name == "missing-started-date.har" {
            continue; // refused as bad input: see a_missing_started_date_time_is_refused
        }
        let (code, d) = diagnose(&har);
        let want = expect_induced
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name}: no expectation"))
            .1;
        assert_eq!(induced(&d).len(), want, "{name}: {d:#}");
        assert_eq!(code, if want > 0 { 1 } else { 0 }, "{name}");
        if name == "empty-entries.har" {
            let o = varyedge(&["import", "har", &har]);
            assert_eq!(o.status.code(), Some(2), "{name}");
            assert!(String::from_utf8_lossy(&o.stderr).contains("no cross-origin request"));
            continue;
        }
        let (yaml, v) = import_replay(&har);
        assert_eq!(
            unmet(&v),
            0,
            "{name}: recorded edge outcomes must hold:\n{yaml}\n{v:#}"
        );
    }
    assert_eq!(seen, expect_induced.len());
}

/// CloudFront under a cache policy that keys Origin: app2 missed while app1's answer was
/// fresh, then app1 hit. The import must not replay a poisoning the recording disproves.
#[test]
fn a_miss_for_another_origin_within_freshness_keys_origin() {
    let har = probe("firefox-cloudfront-origin-keyed.har");
    let (yaml, v) = import_replay(&har);
    assert!(yaml.contains("key_headers: [origin]"), "{yaml}");
    assert_eq!(unmet(&v), 0, "{yaml}\n{v:#}");
    assert!(verdicts(&v).iter().all(|s| !s.0), "{yaml}");
    let (code, d) = diagnose(&har);
    assert_eq!((code, induced(&d).len()), (0, 0));
}

/// Same Origin, other credentials: an anonymous answer (no
/// Access-Control-Allow-Credentials) stored and served to a credentialed fetch is
/// cache-induced, and the hint is about credentials, not about keying Origin.
#[test]
fn an_anonymous_answer_served_to_a_credentialed_fetch() {
    let har = probe("charles-credentials-mixed.har");
    let (code, d) = diagnose(&har);
    assert_eq!(code, 1);
    assert_eq!(induced(&d), [(1, Some(0))], "{d:#}");
    assert_eq!(d["findings"][0]["reason"], "credentials-not-allowed");
    let o = varyedge(&["diagnose", "har", &har]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("Access-Control-Allow-Credentials: true"),
        "{text}"
    );
    assert!(!text.contains("make the cache key on Origin"), "{text}");
}

/// Chrome recorded app2's preflight answered from Cloudflare's cache with app1's
/// Access-Control-Allow-Origin (`cf-cache-status: HIT`), and no request after it. The
/// import makes the edge store OPTIONS without the preflight fields in the key, so the
/// replay fails at the preflight, as recorded.
#[test]
fn a_recorded_preflight_hit_makes_the_edge_store_options() {
    let har = probe("chrome-preflight-poisoned.har");
    let (yaml, v) = import_replay(&har);
    assert!(yaml.contains("cache_options: true"), "{yaml}");
    assert!(yaml.contains("preflight_key: ignore"), "{yaml}");
    assert_eq!(unmet(&v), 0, "{yaml}");
    let s1 = &v["steps"][1];
    assert_eq!(s1["verdict"]["cors"], "blocked", "{v:#}");
    assert_eq!(s1["verdict"]["in_preflight"], true, "{v:#}");
    assert_eq!(s1["cache_induced"], true);
    let (code, d) = diagnose(&har);
    assert_eq!(code, 1);
    assert_eq!(induced(&d), [(2, Some(0))], "{d:#}");
}

/// PRODUCT.md's CLI lists `--format html` for diagnose beside replay, matrix and explore:
/// one self-contained page (no network) with each blocked response, the entry that
/// poisoned it and the fix; the exit status is the text report's; a recording that cannot
/// be read writes no page.
#[test]
fn diagnose_html_is_a_self_contained_page() {
    let dir = std::env::temp_dir().join(format!("varyedge-probe-diag-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("d.html");
    let o = varyedge(&[
        "diagnose",
        "har",
        &probe("chrome-preflight-poisoned.har"),
        "--format",
        "html",
        "--out",
        page.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(html.contains("default-src 'none'"));
    assert!(html.contains("origin-mismatch — cache-induced"), "{html}");
    assert!(html.contains("poisoned by entry"), "{html}");
    assert!(html.contains("<strong>fix:</strong>"), "{html}");
    let clean = varyedge(&[
        "diagnose",
        "har",
        &probe("chrome-clean-vary-origin.har"),
        "--format",
        "html",
    ]);
    assert_eq!(clean.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&clean.stdout).contains("badge pass"));
    let bad = dir.join("bad.har");
    std::fs::write(&bad, "{\"log\":").unwrap();
    let page2 = dir.join("d2.html");
    let o = varyedge(&[
        "diagnose",
        "har",
        bad.to_str().unwrap(),
        "--format",
        "html",
        "--out",
        page2.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!page2.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Chrome writes `response._fetchedViaServiceWorker: true` and
/// `_serviceWorkerResponseSource: "cache-storage"` for an answer the page's service worker
/// took from its Cache Storage (devtools-frontend HAR export; the DevTools protocol's
/// `ServiceWorkerResponseSource`): no request reached the edge, so the import must not
/// replay it as one (it was replayed, and blocked, as a cache-induced failure the
/// recording does not show).
#[test]
fn a_service_worker_cache_storage_answer_is_not_an_edge_request() {
    let har = probe("chrome-service-worker-cache-storage.har");
    let (yaml, v) = import_replay(&har);
    assert_eq!(
        verdicts(&v),
        [(false, false, None), (true, true, Some(0))],
        "the service worker's answer replayed as an edge request:\n{yaml}"
    );
    assert_eq!(unmet(&v), 0, "{yaml}\n{v:#}");
    assert!(yaml.contains("_fetchedViaServiceWorker"), "{yaml}");
    let (code, d) = diagnose(&har);
    assert_eq!((code, induced(&d)), (1, vec![(2, Some(0))]), "{d:#}");
}

/// A 304 answering the browser's revalidation of its own stored answer: Fetch (HTTP-
/// network-or-cache fetch) hands the page the stored response updated with the 304's
/// fields (RFC 9111 §4.3.4), and the CORS check is made on that. A 304 without
/// `Access-Control-Allow-Origin` therefore passes on the stored answer's (it was reported
/// blocked, missing-allow-origin); one carrying another origin's value fails on it.
/// nginx's `REVALIDATED` is a refetch of a stale entry, which the model calls a miss.
#[test]
fn a_304_is_judged_with_the_stored_answer_it_revalidated() {
    let har = probe("chrome-304-revalidation.har");
    let (code, d) = diagnose(&har);
    assert_eq!(d["findings"].as_array().unwrap().len(), 0, "{d:#}");
    assert_eq!(code, 0);
    let (yaml, v) = import_replay(&har);
    assert_eq!(
        unmet(&v),
        0,
        "REVALIDATED is a miss in the model:\n{yaml}\n{v:#}"
    );
    let (code, d) = diagnose(&probe("chrome-304-edge-acao.har"));
    assert_eq!((code, induced(&d)), (1, vec![(2, Some(1))]), "{d:#}");
    assert_eq!(d["findings"][0]["reason"], "origin-mismatch", "{d:#}");
}

/// HAR 1.2 makes `startedDateTime` required: exit 2 at the entry that lacks it.
#[test]
fn a_missing_started_date_time_is_refused() {
    let har = probe("missing-started-date.har");
    for cmd in [&["import", "har"][..], &["diagnose", "har"][..]] {
        let mut args = cmd.to_vec();
        args.push(&har);
        let o = varyedge(&args);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("missing-started-date.har:162:7: log.entries[1].startedDateTime: missing"),
            "{cmd:?}: {err}"
        );
    }
}

/// Chrome records each hop of a followed redirect as an entry: the request to the 302's
/// `Location` on another host, with `Origin: null` (Fetch §4.4: a cross-origin hop taints
/// the origin). The hop is the same fetch going on, not a request from a page `null`: the
/// import replays it by following the route's `location` (it made a `null` client whose
/// step failed where the recording shows a `*` answer). app2's cached 302 carrying app1's
/// `Access-Control-Allow-Origin` fails the CORS check on the redirect itself.
#[test]
fn a_followed_redirect_hop_is_replayed_by_following_the_route() {
    let har = probe("chrome-cors-redirect-chain.har");
    let (yaml, v) = import_replay(&har);
    assert!(!yaml.contains("origin: \"null\""), "{yaml}");
    assert!(
        yaml.contains("headers: { location: https://cdn.example.net/a/7.png }"),
        "{yaml}"
    );
    assert_eq!(
        verdicts(&v),
        [(false, false, None), (true, true, Some(0))],
        "{yaml}\n{v:#}"
    );
    assert_eq!(unmet(&v), 0, "{yaml}\n{v:#}");
    let (code, d) = diagnose(&har);
    assert_eq!((code, induced(&d)), (1, vec![(2, Some(0))]), "{d:#}");
}
