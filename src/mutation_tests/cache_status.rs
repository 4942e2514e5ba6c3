//! `crate::edge::cache_status`: the RFC 9211 `Cache-Status` member the proxy writes.

use crate::edge::Outcome;
use crate::edge::{CacheStatus, Fwd, CACHE_NAME};

/// RFC 9211 §2: each member names the cache that handled the request (ours is
/// `varyedge`); §2.1 `hit`: the request was satisfied by the cache; §2.8 `detail` adds
/// what happened — for a stale response served while revalidating (RFC 5861 §3),
/// `stale-while-revalidate`, and nothing for a fresh hit.
#[test]
fn a_hit_member_names_our_cache_and_details_only_a_stale_hit() {
    let fresh = CacheStatus::hit(false);
    assert_eq!(fresh.cache, CACHE_NAME);
    assert!(fresh.is_ours() && fresh.hit);
    assert_eq!(fresh.detail, None);
    assert_eq!(fresh.outcome(), Some(Outcome::Hit));

    let stale = CacheStatus::hit(true);
    assert_eq!(stale.cache, CACHE_NAME);
    assert!(stale.is_ours() && stale.hit);
    assert_eq!(stale.detail.as_deref(), Some("stale-while-revalidate"));
    assert_eq!(
        CacheStatus::from_outcome(Outcome::Stale, Fwd::UriMiss),
        stale
    );
}

/// RFC 9211 §2.4 `ttl`: the response's remaining freshness lifetime; "negative when
/// stale", so `ttl=0` on a hit is still a fresh hit and `ttl=-1` a stale one.
#[test]
fn a_hit_with_ttl_zero_is_fresh_and_a_negative_ttl_is_stale() {
    let outcome = |v: &str| CacheStatus::parse_last(v).and_then(|c| c.outcome());
    assert_eq!(outcome("Edge; hit; ttl=0"), Some(Outcome::Hit));
    assert_eq!(outcome("Edge; hit; ttl=-1"), Some(Outcome::Stale));
    assert_eq!(outcome("Edge; hit; ttl=5"), Some(Outcome::Hit));
}

/// Every parameter the proxy writes (RFC 9211 §2.1–§2.8, and the extension
/// `stored-set-cookie`, §2: "caches MAY define additional parameters") is read back by
/// `replay --target` from the last member (§2: the cache nearest the client).
#[test]
fn every_written_parameter_is_read_back_from_the_last_member() {
    let full = CacheStatus {
        cache: CACHE_NAME.into(),
        hit: true,
        fwd: Some("stale".into()),
        fwd_status: Some(304),
        collapsed: true,
        stored: true,
        ttl: Some(-3),
        key: Some("GET https://api.example/x; y=\"1\"".into()),
        detail: Some("stale-while-revalidate".into()),
        stored_set_cookie: true,
    };
    let text = format!("Upstream; fwd=uri-miss, {full}");
    assert_eq!(CacheStatus::parse_last(&text), Some(full));
    let plain = CacheStatus::forward(Fwd::VaryMiss);
    assert_eq!(CacheStatus::parse_last(&plain.to_string()), Some(plain));
}
