//! Fidelity against the real caches: Varnish, nginx (proxy_cache), Squid and Apache Traffic
//! Server from Debian's packages, each started on loopback in front of `varyedge origin`
//! with the lab's configuration (`../shared/lab/peers/*/`), driven with `replay --target`
//! over the corpus `tests/fidelity/*.yaml`, and compared step by step with the in-process
//! replay under the matching profile.
//!
//! Per step: served from cache vs. forwarded (ground truth: the origin's request counters),
//! the same for the preflight, whether a preflight was sent, the delivered status, the
//! browser verdict (allowed, reason, console text — which quotes the delivered
//! `Access-Control-Allow-Origin` on a mismatch), cache-induced, and the poisoning step.
//! Each corpus file gets a fresh origin and a fresh cache.
//!
//! `#[ignore]`d so that `cargo test` passes on a machine without the caches; `.ci/run`
//! installs them and runs `cargo test --test fidelity -- --ignored --test-threads=1`.
//! A missing cache fails the test with the `apt-get install` line to run.

mod common;

use common::{Cache, Peer, Server};
use std::path::{Path, PathBuf};
use std::time::Duration;
use varyedge::edge::Outcome;
use varyedge::import::{self, Imported};
use varyedge::net::target::{self, TargetOptions};
use varyedge::scenario::{self, PreflightUse};
use varyedge::sim::{self, StepReport, Trace};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fidelity");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "corpus missing in {}", dir.display());
    // FIDELITY_ONLY=z15,z16 runs only the files whose names contain one of these (a
    // quicker loop while writing corpus files; CI sets nothing and runs them all)
    if let Ok(only) = std::env::var("FIDELITY_ONLY") {
        let parts: Vec<&str> = only.split(',').filter(|p| !p.is_empty()).collect();
        files.retain(|f| {
            let name = f.file_name().unwrap().to_string_lossy();
            parts.iter().any(|p| name.contains(p))
        });
    }
    files
}

fn from_cache(o: Outcome) -> bool {
    matches!(o, Outcome::Hit | Outcome::Stale | Outcome::Collapsed)
}

fn class(o: Outcome) -> &'static str {
    if from_cache(o) {
        "cache"
    } else {
        "origin"
    }
}

/// What must agree between the real cache and the profile, one step.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    edge: &'static str,
    preflight: PreflightUse,
    preflight_edge: Option<&'static str>,
    status: u16,
    allowed: bool,
    reason: &'static str,
    in_preflight: bool,
    console: String,
    cache_induced: bool,
    poisoned_by: Option<usize>,
}

fn observe(s: &StepReport) -> Observed {
    // an only-if-cached request the cache cannot answer gets its 504 without reaching the
    // origin (RFC 9111 §5.2.1.7): over the wire that counts as not forwarded
    let unforwarded = s.stored == Some(Err("only-if-cached"));
    Observed {
        edge: if unforwarded { "cache" } else { class(s.cache) },
        preflight: s.preflight,
        preflight_edge: s.preflight_cache.map(class),
        status: s.status,
        allowed: s.verdict.allowed,
        reason: s.verdict.reason.id(),
        in_preflight: s.verdict.in_preflight,
        console: s.verdict.console.clone(),
        cache_induced: s.cache_induced,
        poisoned_by: s.poisoned_by,
    }
}

/// The scenario over the wire through `cache`. Squid gets 50 ms between steps and ATS
/// 200 ms: they may still be completing the entry they just served when the next request
/// arrives, and then forward that request (Squid: 2 of 80 steps in two CI runs on
/// 2026-11-30; ATS: 4 of 555 steps in three runs of the 185-step corpus on 2026-12-01,
/// each right after the miss that stored the entry, none alone; with 50 ms, 2 of 185
/// steps once more in a CI run while a mutation run loaded the machine).
fn wire(file: &Path, peer: Peer, cache: &Cache, origin: &Server) -> Trace {
    let text = std::fs::read_to_string(file).unwrap();
    let sc = scenario::parse(&file.display().to_string(), &text).unwrap();
    let pause = match peer {
        Peer::Squid => 50,
        Peer::Ats => 200,
        _ => 0,
    };
    let opts = TargetOptions {
        direct: Some(origin.url.clone()),
        timeout: Duration::from_secs(10),
        pause: Duration::from_millis(pause),
        ..TargetOptions::new(&cache.url)
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(target::replay(&sc, &opts))
        .unwrap_or_else(|e| panic!("{e}"))
        .trace
}

fn in_process(file: &Path, profile: &str) -> Trace {
    let text = std::fs::read_to_string(file).unwrap();
    let sc =
        scenario::parse_with_profile(&file.display().to_string(), &text, Some(profile)).unwrap();
    sim::replay(&sc).unwrap()
}

/// The in-process replay under imported knobs instead of a profile.
fn in_process_knobs(file: &Path, imported: &Imported) -> Trace {
    let text = std::fs::read_to_string(file).unwrap();
    let mut sc = scenario::parse(&file.display().to_string(), &text).unwrap();
    sc.edge.profile = imported.profile.to_string();
    sc.edge.knobs = imported.knobs.clone();
    sim::replay(&sc).unwrap()
}

/// Runs the corpus through `peer` and its profile; prints the measured sequence and
/// fails listing every step where they disagree.
fn fidelity(peer: Peer) {
    fidelity_with(peer, "", false);
}

/// The same with `extra` configuration (Cache::start_with); with `imported`, the model
/// side uses the knobs `varyedge import cdn-config` reads from the running config file
/// instead of the peer's profile.
fn fidelity_with(peer: Peer, extra: &str, imported: bool) {
    fidelity_with_http(peer, "", extra, imported);
}

/// [`fidelity_with`], with `http_extra` in nginx's `http` block (a `map`).
fn fidelity_with_http(peer: Peer, http_extra: &str, extra: &str, imported: bool) {
    let mut disagreements = Vec::new();
    let mut steps = 0;
    for file in corpus() {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if imported
            && peer == Peer::Nginx
            && [
                "12-error-caching",
                "z09-errors-with-cors",
                "z28-redirect",
                "z30-status",
            ]
            .iter()
            .any(|f| name.starts_with(f))
        {
            // Known limit of the nginx import, which warns about it: the knobs have one
            // default TTL for every status, so `proxy_cache_valid 200 1m` also gives a 404
            // or 503 (or a redirect, or a 203) without Cache-Control a minute, where nginx
            // stores only the 200.
            // The built-in `nginx` profile is checked on this file by `nginx_matches_its_profile`.
            println!("{peer:?} {name}: not compared for the imported config (per-status TTLs are not modelled)");
            continue;
        }
        if !imported
            && peer == Peer::Nginx
            && (name.starts_with("z13-no-cache-control-200")
                || name.starts_with("z61-public-without-lifetime"))
        {
            // A configuration difference, not a profile bug: the lab's nginx runs with
            // `proxy_cache_valid 200 1m` (tests/common/mod.rs, ../shared/lab/peers/nginx),
            // so it stores a 200 without a lifetime (no max-age, s-maxage or Expires: z13, and
            // `public` alone: z61) for a minute; the
            // built-in `nginx` profile models nginx without proxy_cache_valid, which does
            // not store it (https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_valid).
            // The imported config (`imported_nginx_configs_match_the_real_nginx`) reads
            // the directive and is compared on this file.
            println!("{peer:?} {name}: not compared for the built-in profile (the lab config sets proxy_cache_valid 200 1m)");
            continue;
        }
        if imported && extra.contains("beresp.http.Vary") && name.starts_with("10-vary-star") {
            // Known limit of the VCL import (docs/import.md): the appended Vary is modelled
            // as Origin in the key, and the origin's own `Vary: *` still makes the model
            // refuse to store, where Varnish stores `*, Origin` and matches `*` literally.
            println!("{peer:?} {name}: not compared for the beresp.http.Vary config (the rewritten Vary field is not modelled)");
            continue;
        }
        let origin = Server::origin(&file);
        let mut cache = Cache::start_with_http(peer, origin.port(), http_extra, extra);
        let real = wire(&file, peer, &cache, &origin);
        cache.proc.check_alive();
        let model = if imported {
            let conf = std::fs::read_to_string(&cache.config).unwrap();
            let imp = import::import(&cache.config.display().to_string(), &conf)
                .unwrap_or_else(|e| panic!("{e}"));
            in_process_knobs(&file, &imp)
        } else {
            in_process(&file, peer.profile())
        };
        assert_eq!(real.steps.len(), model.steps.len());
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        println!("{peer:?} {name}");
        for (r, m) in real.steps.iter().zip(&model.steps) {
            steps += 1;
            let (ro, mut mo) = (observe(r), observe(m));
            if ro.edge == "origin"
                && mo.edge == "origin"
                && mo.cache_induced
                && ro.poisoned_by.is_none()
            {
                // A revalidation: forwarded, then the 304 merged into the stored response.
                // Squid and ATS say nothing of it in their headers, so the wire driver
                // cannot attribute the delivered fields to the step that stored them; the
                // delivered response itself (status, verdict, console text quoting the
                // ACAO) is still compared.
                // Over the wire the difference from the origin's own answer may still be
                // reported (as edge-induced, with no poisoning step).
                mo.cache_induced = ro.cache_induced;
                mo.poisoned_by = None;
            }
            let target = |s: &StepReport| s.request.split(' ').nth(1).map(str::to_string);
            let author = mo
                .poisoned_by
                .and_then(|i| model.steps.iter().find(|s| s.index == i));
            if ro.poisoned_by.is_none() && author.is_some_and(|a| target(a) != target(m)) {
                // The profile keys two spellings of one URL together (ATS: `/p?` and
                // `/p`); the wire driver looks for the storing step on the same URL
                // only (src/net/target.rs, `poisoned_by` is best effort), so it names
                // none. Whether the entry was served, and what it delivered, is compared.
                mo.poisoned_by = None;
            }
            let known = known_gap(peer, &name, r.index).filter(|_| !imported && ro != mo);
            let mark = match (ro == mo, known) {
                (true, _) => "  ",
                (false, Some(_)) => "~~",
                (false, None) => "!!",
            };
            println!(
                "  {mark} #{:<2} {:<4} {:<8} {:<18} real: {:<6} {:<20} profile: {:<6} {}",
                r.index,
                r.client,
                r.request.split(' ').next().unwrap_or(""),
                r.request.split(' ').nth(1).unwrap_or(""),
                ro.edge,
                ro.reason,
                mo.edge,
                mo.reason
            );
            if let Some(why) = known {
                println!("     (known, not counted: {why})");
            } else if ro != mo {
                disagreements.push(format!(
                    "{name} step #{} ({} {}): real {ro:?}\n    profile {} {mo:?}",
                    r.index,
                    r.client,
                    r.request,
                    peer.profile()
                ));
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {steps} steps disagree between real {peer:?} and profile `{}`:\n  {}",
        disagreements.len(),
        peer.profile(),
        disagreements.join("\n  ")
    );
}

/// Steps where the profile is known to differ from the real cache, with the reason (the
/// profile's caveat says the same): printed with `~~`, not counted as disagreements.
fn known_gap(peer: Peer, file: &str, step: usize) -> Option<&'static str> {
    match (peer, file, step) {
        (Peer::Ats, f, 3 | 4) if f.starts_with("z03-vary-mixed-order") => Some(
            "ATS picks the alternate with the best Accept-* quality score \
             (HttpTransactCache.cc SelectFromAlternates), the profile the newest match; \
             see the ats profile's caveat",
        ),
        (Peer::Squid, f, 6 | 9) if f.starts_with("z34-delete-invalidates-variants") => Some(
            "Squid's invalidation purges the URL's Vary marker, not the variants: the first \
             GET after the DELETE stores a new marker and the older variants are found \
             again; see the squid profile's caveat",
        ),
        _ => None,
    }
}

#[test]
#[ignore = "needs varnish installed (apt-get install -y varnish); run by .ci/run"]
fn varnish_matches_its_profile() {
    fidelity(Peer::Varnish);
}

#[test]
#[ignore = "needs nginx installed (apt-get install -y nginx-light); run by .ci/run"]
fn nginx_matches_its_profile() {
    fidelity(Peer::Nginx);
}

#[test]
#[ignore = "needs squid installed (apt-get install -y squid); run by .ci/run"]
fn squid_matches_its_profile() {
    fidelity(Peer::Squid);
}

#[test]
#[ignore = "needs trafficserver installed (apt-get install -y trafficserver); run by .ci/run"]
fn ats_matches_its_profile() {
    fidelity(Peer::Ats);
}

/// Import round trip: the configuration each real cache runs with, read back by `varyedge
/// import cdn-config`, gives knobs under which the corpus agrees with the real cache —
/// the lab's configs and variants (Origin in the key, OPTIONS cached).
#[test]
#[ignore = "needs varnish installed (apt-get install -y varnish); run by .ci/run"]
fn imported_varnish_configs_match_the_real_varnish() {
    fidelity_with(Peer::Varnish, "", true);
    fidelity_with(
        Peer::Varnish,
        "sub vcl_hash {\n  hash_data(req.http.Origin);\n}\n",
        true,
    );
    // the usual Varnish CORS fix: the stored object varies on Origin
    fidelity_with(
        Peer::Varnish,
        "sub vcl_backend_response {\n  set beresp.http.Vary = beresp.http.Vary + \", Origin\";\n}\n",
        true,
    );
    // the lab's opt-in VCL that caches OPTIONS (peers/varnish-options/lab.vcl.in)
    fidelity_with(
        Peer::Varnish,
        "sub vcl_recv {\n  if (req.method == \"OPTIONS\") {\n    set req.http.X-Lab-Preflight = \"1\";\n    return (hash);\n  }\n  unset req.http.X-Lab-Preflight;\n}\n\
         sub vcl_hash {\n  hash_data(req.method);\n}\n\
         sub vcl_backend_fetch {\n  if (bereq.http.X-Lab-Preflight == \"1\") {\n    set bereq.method = \"OPTIONS\";\n    unset bereq.http.X-Lab-Preflight;\n  }\n}\n",
        true,
    );
}

#[test]
#[ignore = "needs nginx installed (apt-get install -y nginx-light); run by .ci/run"]
fn imported_nginx_configs_match_the_real_nginx() {
    fidelity_with(Peer::Nginx, "", true);
    fidelity_with(
        Peer::Nginx,
        "      proxy_cache_key $scheme$proxy_host$request_uri$http_origin;",
        true,
    );
    // nginx answers CORS itself from an allowlist map, hiding the upstream's field:
    // imported as edge_cors with an origin, a pattern and hide_origin_acao
    // (docs/import.md). The map allows every Origin the corpus sends: for one it refuses,
    // the wire driver would call a cached answer without the field cache-induced (it
    // compares with the origin's own answer, which nginx rewrites on every response).
    fidelity_with_http(
        Peer::Nginx,
        "  map $http_origin $cors_origin {\n    default \"\";\n    https://a.example $http_origin;\n    null $http_origin;\n    \"~^https://(a|b|c[0-9])\\.example(\\.com)?$\" $http_origin;\n  }",
        "      proxy_hide_header Access-Control-Allow-Origin;\n      add_header Access-Control-Allow-Origin $cors_origin always;",
        true,
    );
}
