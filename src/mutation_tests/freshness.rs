//! `crate::edge::freshness`: storability (RFC 9111 §3) and freshness (§4.2), and the
//! reason ids the proxy writes into `Cache-Status`.

use crate::edge::NoStore;

/// RFC 9211 §2.8: `detail` carries implementation-specific information about why the
/// cache did what it did. The proxy writes a not-stored reason there as its id, so each
/// id must be a non-empty, lower-case token, distinct from the others, and stable (users
/// and tests/proxy.rs grep for `detail="no-store"`).
#[test]
fn not_stored_reason_ids_are_distinct_stable_tokens() {
    let all = [
        (NoStore::Method, "method"),
        (NoStore::Status, "status"),
        (NoStore::NoStoreDirective, "no-store"),
        (NoStore::Private, "private"),
        (NoStore::Authorization, "authorization"),
        (NoStore::VaryStar, "vary-star"),
        (
            NoStore::VaryBeyondAcceptEncoding,
            "vary-beyond-accept-encoding",
        ),
        (NoStore::VaryNotAllowlisted, "vary-not-allowlisted"),
        (NoStore::VaryTooLong, "vary-too-long"),
        (NoStore::NoFreshness, "no-freshness"),
        (NoStore::SetCookie, "set-cookie"),
        (NoStore::Incomplete, "incomplete"),
    ];
    let mut seen = std::collections::HashSet::new();
    for (reason, id) in all {
        assert_eq!(reason.id(), id, "{reason:?}");
        assert!(
            id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{id}"
        );
        assert!(seen.insert(reason.id()), "duplicate id {id}");
    }
}

/// RFC 9111 §3: a cache stores a response only if "the response status code is final"
/// (not 1xx), and this cache neither stores partial content (§3.3–3.4: a 206 is stored only
/// by a cache that supports ranges, which this model combines nowhere) nor a 304 (§4.3.4:
/// a 304 freshens the stored response, it is not one). Explicit freshness changes none of
/// that: each is refused for its status even with `max-age`.
#[test]
fn interim_partial_and_not_modified_are_never_stored() {
    use crate::edge::knobs::Knobs;
    use crate::edge::storable;
    use crate::fields::Headers;
    use crate::message::{Request, Response};
    use crate::time::SIM_EPOCH;
    let req = Request {
        method: "GET".into(),
        scheme: "https".into(),
        host: "a".into(),
        target: "/".into(),
        headers: Headers::new(),
    };
    let k = Knobs::rfc9111();
    for status in [100, 103, 199, 206, 304] {
        let resp = Response::new(
            status,
            Headers::from_pairs([("cache-control", "max-age=60")]),
        );
        assert_eq!(
            storable(&k, &req, &resp, SIM_EPOCH),
            Err(NoStore::Status),
            "{status}"
        );
    }
    // the same freshness on a final, complete status is stored
    let ok = Response::new(200, Headers::from_pairs([("cache-control", "max-age=60")]));
    assert!(storable(&k, &req, &ok, SIM_EPOCH).is_ok());
}

/// CloudFront (Developer Guide, "Managing how long content stays in the cache"): with a
/// minimum TTL above 0 it caches "even if the Cache-Control: no-cache, no-store, or
/// private directives are present"; a minimum TTL of 0 — its default — honours them. So
/// `min = Some(0)` must not force storing a `no-store` or `private` response.
#[test]
fn a_zero_minimum_ttl_does_not_override_no_store() {
    use crate::edge::knobs::Knobs;
    use crate::edge::storable;
    use crate::fields::Headers;
    use crate::message::{Request, Response};
    use crate::time::SIM_EPOCH;
    let req = Request {
        method: "GET".into(),
        scheme: "https".into(),
        host: "a".into(),
        target: "/".into(),
        headers: Headers::new(),
    };
    let mut k = Knobs::rfc9111();
    let with = |cc: &str| Response::new(200, Headers::from_pairs([("cache-control", cc)]));
    k.ttl.min = Some(0);
    assert_eq!(
        storable(&k, &req, &with("no-store, max-age=60"), SIM_EPOCH),
        Err(NoStore::NoStoreDirective)
    );
    assert_eq!(
        storable(&k, &req, &with("private, max-age=60"), SIM_EPOCH),
        Err(NoStore::Private)
    );
    k.ttl.min = Some(1);
    assert!(storable(&k, &req, &with("no-store, max-age=60"), SIM_EPOCH).is_ok());
}

/// RFC 9111 §5.2.2.2 (must-revalidate), §5.2.2.8 (proxy-revalidate, for shared caches),
/// §5.2.2.4 (no-cache) and §5.2.2.10 (s-maxage "incorporates the semantics of the
/// proxy-revalidate response directive"): each on its own forbids a shared cache to serve
/// the response stale without revalidating; a plain `max-age` does not.
#[test]
fn each_revalidation_directive_alone_forbids_serving_stale() {
    use crate::edge::knobs::Knobs;
    use crate::edge::storable;
    use crate::fields::Headers;
    use crate::message::{Request, Response};
    use crate::time::SIM_EPOCH;
    let req = Request {
        method: "GET".into(),
        scheme: "https".into(),
        host: "a".into(),
        target: "/".into(),
        headers: Headers::new(),
    };
    let k = Knobs::rfc9111();
    let must = |cc: &str| {
        let resp = Response::new(200, Headers::from_pairs([("cache-control", cc)]));
        storable(&k, &req, &resp, SIM_EPOCH)
            .expect(cc)
            .must_revalidate
    };
    assert!(must("max-age=60, must-revalidate"));
    assert!(must("max-age=60, proxy-revalidate"));
    assert!(must("max-age=60, no-cache"));
    assert!(must("s-maxage=60"));
    assert!(!must("max-age=60"));
}

/// RFC 9111 §4.2.1: an explicit lifetime (`max-age`) is the freshness lifetime. A CDN's
/// error TTL replaces it only where documented: CloudFront caches an error "for the
/// greater of the value in the header and the Error Caching Minimum TTL" (`ttl_is_floor`);
/// without that floor the response's own `max-age` stands, even when shorter.
#[test]
fn an_error_ttl_is_a_floor_over_max_age_only_when_the_profile_says_so() {
    use crate::edge::knobs::Knobs;
    use crate::edge::storable;
    use crate::fields::Headers;
    use crate::message::{Request, Response};
    use crate::time::SIM_EPOCH;
    let req = Request {
        method: "GET".into(),
        scheme: "https".into(),
        host: "a".into(),
        target: "/".into(),
        headers: Headers::new(),
    };
    let resp = Response::new(503, Headers::from_pairs([("cache-control", "max-age=5")]));
    let mut k = Knobs::rfc9111();
    k.errors.ttl = Some(10);
    k.errors.ttl_is_floor = false;
    let life = |k: &Knobs| storable(k, &req, &resp, SIM_EPOCH).map(|f| f.lifetime_ms);
    assert_eq!(life(&k), Ok(5_000));
    k.errors.ttl_is_floor = true;
    assert_eq!(life(&k), Ok(10_000));
}

/// CloudFront (Developer Guide, "Managing how long content stays in the cache"): when the
/// origin sends `no-cache`, `no-store` or `private` and the minimum TTL is above 0,
/// CloudFront caches the object for the minimum TTL — not for the response's own
/// `max-age`. Each of the three directives does this on its own.
#[test]
fn a_forced_store_lasts_the_minimum_ttl_whatever_max_age_says() {
    use crate::edge::knobs::Knobs;
    use crate::edge::storable;
    use crate::fields::Headers;
    use crate::message::{Request, Response};
    use crate::time::SIM_EPOCH;
    let req = Request {
        method: "GET".into(),
        scheme: "https".into(),
        host: "a".into(),
        target: "/".into(),
        headers: Headers::new(),
    };
    let mut k = Knobs::rfc9111();
    k.ttl.min = Some(30);
    for cc in [
        "no-store, max-age=100",
        "private, max-age=100",
        "no-cache, max-age=100",
    ] {
        let resp = Response::new(200, Headers::from_pairs([("cache-control", cc)]));
        assert_eq!(
            storable(&k, &req, &resp, SIM_EPOCH).map(|f| f.lifetime_ms),
            Ok(30_000),
            "{cc}"
        );
    }
}
