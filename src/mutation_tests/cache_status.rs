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
