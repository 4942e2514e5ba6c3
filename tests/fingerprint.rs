//! `varyedge fingerprint` round trips: against `varyedge proxy --profile P` in front of
//! `varyedge origin` it must list P among the profiles consistent with what it measured,
//! for every built-in profile (the groups it cannot tell apart are pinned and printed),
//! and against the real Varnish, nginx, Squid and ATS of the fidelity suite it must list
//! their profiles (those are `#[ignore]`d: they need the caches installed).

mod common;

use common::{Cache, Peer, Server};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use varyedge::net::client::BaseUrl;
use varyedge::net::fingerprint::{self, Fingerprint, Options};
use varyedge::profile::PROFILE_NAMES;

fn origin() -> Server {
    Server::origin(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fingerprint/origin.yaml"))
}

fn probe(url: &str) -> Fingerprint {
    let opts = Options {
        target: BaseUrl::parse(url).unwrap(),
        path: "/fp/vary/".into(),
        novary_path: Some("/fp/novary/".into()),
        max_probes: 80,
        rate: 500.0,
        timeout: Duration::from_secs(10),
        origins: vec![
            "https://app1.example.com".into(),
            "https://app2.example.com".into(),
        ],
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(fingerprint::fingerprint(opts))
        .unwrap_or_else(|e| panic!("{url}: {e}"))
}

#[test]
fn recovers_every_builtin_profile_through_the_proxy() {
    let o = origin();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in PROFILE_NAMES {
        let proxy = Server::proxy(&o.url, &["--profile", p]);
        let f = probe(&proxy.url);
        assert!(f.probes <= 80);
        assert!(
            f.candidates.iter().any(|c| c == p),
            "{p}: not among the candidates {:?}\n{}",
            f.candidates,
            fingerprint::render_text(&f)
        );
        println!(
            "{p:<24} {:>2} probes  candidates: {}",
            f.probes,
            f.candidates.join(", ")
        );
        groups.insert(p.to_string(), f.candidates.clone());
    }
    // the profiles these probes cannot tell apart (they differ only in what is not
    // probed: Vary: * handling, value comparison, TTLs, collapsing, POPs)
    let together = |a: &str, b: &str| groups[a].contains(&b.to_string());
    assert_eq!(
        groups["nginx"],
        ["rfc9111", "nginx", "squid", "fastly", "gcp-cdn"],
        "the spec-Vary group"
    );
    assert!(together("rfc9111", "squid"));
    assert!(together("nginx", "squid"));
    assert!(together("url-only", "azure-front-door"));
    assert!(
        !together("varnish", "nginx"),
        "Cookie pass tells them apart"
    );
    assert!(
        !together("ats", "nginx"),
        "the 5-variant cap tells them apart"
    );
    assert!(
        !together("cloudfront", "cloudfront-cors-custom"),
        "forwarded Origin tells them apart"
    );
    assert!(!together("cloudflare", "cloudfront-origin-keyed"));
}

fn real(peer: Peer) {
    let o = origin();
    let cache = Cache::start(peer, o.port());
    let f = probe(&cache.url);
    println!("{}", fingerprint::render_text(&f));
    assert!(
        f.candidates.iter().any(|c| c == peer.profile()),
        "real {peer:?}: {} not among {:?}",
        peer.profile(),
        f.candidates
    );
}

#[test]
#[ignore = "needs varnish installed (apt-get install -y varnish); run by .ci/run"]
fn recovers_real_varnish() {
    real(Peer::Varnish);
}

#[test]
#[ignore = "needs nginx installed (apt-get install -y nginx-light); run by .ci/run"]
fn recovers_real_nginx() {
    real(Peer::Nginx);
}

#[test]
#[ignore = "needs squid installed (apt-get install -y squid); run by .ci/run"]
fn recovers_real_squid() {
    real(Peer::Squid);
}

#[test]
#[ignore = "needs trafficserver installed (apt-get install -y trafficserver); run by .ci/run"]
fn recovers_real_ats() {
    real(Peer::Ats);
}
