//! `crate::browser::http_cache`: the browser's private HTTP cache — what it stores (RFC 9111
//! §3), how long a stored response stays fresh (§4.2.1), which requests bypass it (§5.2.1,
//! §5.4, Fetch §4.5) and what an unsafe method invalidates (§4.4).

use crate::browser::http_cache::{partition, request, HttpCache};
use crate::fields::Headers;
use crate::message::{Request, Response};
use crate::time::SIM_EPOCH;
use std::sync::Arc;

const U: &str = "http://127.0.0.1:9/x";
const DATE: &str = "Wed, 01 Jan 2020 00:00:00 GMT";
const DATE_PLUS_100: &str = "Wed, 01 Jan 2020 00:01:40 GMT";
const DATE_MINUS_1000: &str = "Tue, 31 Dec 2019 23:43:20 GMT";

fn resp(status: u16, h: &[(&str, &str)]) -> Arc<Response> {
    Arc::new(Response::new(
        status,
        Headers::from_pairs(h.iter().copied()),
    ))
}

fn get(h: &[(&str, &str)]) -> Request {
    request("GET", Headers::from_pairs(h.iter().copied()))
}

/// Stores `r` for a plain GET when it was sent (its `Date`, else the epoch: a response
/// arriving later is that much older, RFC 9111 §4.2.3) and says for how many whole
/// seconds a plain GET is then answered from the cache (probing up to `limit` seconds).
fn fresh_secs(r: &Arc<Response>, limit: u64) -> u64 {
    let p = partition("http://a.example");
    let mut c = HttpCache::new();
    let t0 = r
        .headers
        .get("date")
        .and_then(crate::time::Timestamp::parse_http_date)
        .unwrap_or(SIM_EPOCH);
    assert!(c.store(t0, &p, U, &get(&[]), r, 0));
    (0..=limit)
        .take_while(|s| c.lookup(t0.plus_secs(*s), &p, U, &get(&[])).is_some())
        .count() as u64
}

/// RFC 9111 §4.2.3: a response's age on arrival is the larger of its `Age` and `now` −
/// `Date`; a copy that waited at an edge arrives old even without `Age`.
#[test]
fn a_response_arrives_as_old_as_its_date_says() {
    let p = partition("http://a.example");
    let mut c = HttpCache::new();
    let r = resp(200, &[("date", DATE), ("cache-control", "max-age=100")]);
    let sent = crate::time::Timestamp::parse_http_date(DATE).unwrap_or(SIM_EPOCH);
    // arrives 40 s after its Date: fresh for 60 s more
    assert!(c.store(sent.plus_secs(40), &p, U, &get(&[]), &r, 0));
    assert!(c.lookup(sent.plus_secs(99), &p, U, &get(&[])).is_some());
    assert!(c.lookup(sent.plus_secs(100), &p, U, &get(&[])).is_none());
    // an Age larger than that counts instead
    let r = resp(
        200,
        &[
            ("date", DATE),
            ("age", "70"),
            ("cache-control", "max-age=100"),
        ],
    );
    assert!(c.store(sent.plus_secs(40), &p, U, &get(&[]), &r, 0));
    assert!(c.lookup(sent.plus_secs(69), &p, U, &get(&[])).is_some());
    assert!(c.lookup(sent.plus_secs(70), &p, U, &get(&[])).is_none());
}

/// RFC 9111 §4.2.1: without `max-age`, the lifetime is `Expires` minus `Date`; an
/// `Expires` that does not parse means already expired (§5.3). `max-age` wins over
/// `Expires` (§5.3).
#[test]
fn expires_minus_date_is_the_lifetime_unless_max_age_is_given() {
    let r = resp(200, &[("date", DATE), ("expires", DATE_PLUS_100)]);
    assert_eq!(fresh_secs(&r, 200), 100);
    let r = resp(200, &[("date", DATE), ("expires", "0")]);
    assert_eq!(fresh_secs(&r, 10), 0);
    let r = resp(
        200,
        &[
            ("date", DATE),
            ("expires", DATE_PLUS_100),
            ("cache-control", "max-age=5"),
        ],
    );
    assert_eq!(fresh_secs(&r, 200), 5);
}

/// RFC 9111 §4.2.2: with no explicit lifetime, a heuristic one of 10 % of
/// `Date` − `Last-Modified` (Chromium's choice); none at all without `Last-Modified`.
/// Chromium treats 301, 308 and 410 without a lifetime as fresh forever, even when they
/// carry `Last-Modified`, but an explicit `Expires` still bounds them.
#[test]
fn heuristic_lifetime_is_a_tenth_of_the_age_at_date() {
    let r = resp(200, &[("date", DATE), ("last-modified", DATE_MINUS_1000)]);
    assert_eq!(fresh_secs(&r, 200), 100);
    let r = resp(200, &[("date", DATE)]);
    assert_eq!(fresh_secs(&r, 10), 0);
    for status in [308, 410] {
        let r = resp(
            status,
            &[("date", DATE), ("last-modified", DATE_MINUS_1000)],
        );
        assert_eq!(fresh_secs(&r, 500), 501, "{status} is fresh forever");
    }
    let r = resp(301, &[("date", DATE), ("expires", DATE_PLUS_100)]);
    assert_eq!(fresh_secs(&r, 200), 100);
}

/// RFC 9111 §4.2.3: the current age includes the `Age` the response arrived with
/// (whitespace around the number is tolerated; a value that is not a number counts as 0).
#[test]
fn arriving_age_counts_and_a_bad_one_is_zero() {
    let r = resp(200, &[("cache-control", "max-age=60"), ("age", " 50 ")]);
    assert_eq!(fresh_secs(&r, 100), 10);
    let r = resp(200, &[("cache-control", "max-age=60"), ("age", "soon")]);
    assert_eq!(fresh_secs(&r, 100), 60);
    let p = partition("http://a.example");
    let mut c = HttpCache::new();
    let r = resp(200, &[("cache-control", "max-age=60"), ("age", "7")]);
    c.store(SIM_EPOCH, &p, U, &get(&[]), &r, 4);
    let s = c.lookup(SIM_EPOCH.plus_secs(3), &p, U, &get(&[])).unwrap();
    assert_eq!((s.age_secs, s.stored_by), (10, 4));
}

/// RFC 9111 §5.2.1.1, §5.2.1.4, §5.4 and Fetch §4.5 step 8.21: a request with
/// `max-age=0`, `no-cache`, `Pragma: no-cache` or any conditional header is not answered
/// from the cache; other request directives (`max-stale`, and `no-store`, which Chromium
/// ignores: case x52) and other pragmas do not bypass it.
#[test]
fn each_bypassing_request_field_alone_bypasses() {
    let p = partition("http://a.example");
    let mut c = HttpCache::new();
    c.store(
        SIM_EPOCH,
        &p,
        U,
        &get(&[]),
        &resp(200, &[("cache-control", "max-age=60")]),
        0,
    );
    for h in [
        ("cache-control", "max-age=0"),
        ("cache-control", "no-cache"),
        ("pragma", "No-Cache"),
        ("if-modified-since", DATE),
        ("if-none-match", "\"v\""),
        ("if-unmodified-since", DATE),
        ("if-match", "\"v\""),
        ("if-range", "\"v\""),
    ] {
        assert!(c.lookup(SIM_EPOCH, &p, U, &get(&[h])).is_none(), "{h:?}");
    }
    // (a request `no-store` is read by Chromium as nothing at all: case x52)
    for h in [
        ("cache-control", "max-age=10"),
        ("cache-control", "no-store"),
        ("pragma", "x-other"),
    ] {
        assert!(c.lookup(SIM_EPOCH, &p, U, &get(&[h])).is_some(), "{h:?}");
    }
}

/// RFC 9111 §3: only a final response to a GET is stored here; a conditional request's
/// response is not. A request with `no-store` (which §5.2.1.5 says forbids storing) is,
/// as Chromium stores it (case x52). The key is (partition, URL).
#[test]
fn what_is_not_stored() {
    let p = partition("http://a.example");
    let ok = resp(200, &[("cache-control", "max-age=60")]);
    let mut c = HttpCache::new();
    assert!(!c.store(SIM_EPOCH, &p, U, &request("HEAD", Headers::new()), &ok, 0));
    assert!(!c.store(
        SIM_EPOCH,
        &p,
        U,
        &get(&[]),
        &resp(103, &[("cache-control", "max-age=60")]),
        0
    ));
    assert!(!c.store(
        SIM_EPOCH,
        &p,
        U,
        &get(&[("if-none-match", "\"v\"")]),
        &ok,
        0
    ));
    assert!(c.is_empty());
    assert!(HttpCache::new().store(
        SIM_EPOCH,
        &p,
        U,
        &get(&[("cache-control", "no-store")]),
        &ok,
        0
    ));
    assert_eq!(c.len(), 0);
    assert!(c.store(SIM_EPOCH, &p, U, &get(&[]), &ok, 0));
    assert!(c.store(SIM_EPOCH, &p, "http://127.0.0.1:9/y", &get(&[]), &ok, 0));
    let q = partition("http://other.example");
    assert!(c.store(SIM_EPOCH, &q, U, &get(&[]), &ok, 0));
    assert_eq!(c.len(), 3);
    assert!(!c.is_empty());
    assert!(c
        .lookup(SIM_EPOCH, &q, "http://127.0.0.1:9/y", &get(&[]))
        .is_none());
    c.clear();
    assert!(c.is_empty());
}

/// RFC 9111 §4.1: `Vary: *` never matches; otherwise each named field must equal the
/// stored request's (absent matching absent). §4.4: only a non-error response to an unsafe
/// method invalidates, and only that URL in that partition; a safe method
/// (`OPTIONS`, `TRACE`) invalidates nothing.
#[test]
fn vary_star_and_invalidation_scope() {
    let p = partition("http://a.example");
    let mut c = HttpCache::new();
    let star = resp(200, &[("cache-control", "max-age=60"), ("vary", "*")]);
    assert!(c.store(SIM_EPOCH, &p, U, &get(&[]), &star, 0));
    assert!(c.lookup(SIM_EPOCH, &p, U, &get(&[])).is_none());
    let v = resp(
        200,
        &[("cache-control", "max-age=60"), ("vary", "X-A, X-B")],
    );
    c.store(SIM_EPOCH, &p, U, &get(&[("x-a", "1")]), &v, 0);
    assert!(c.lookup(SIM_EPOCH, &p, U, &get(&[("x-a", "1")])).is_some());
    assert!(c
        .lookup(SIM_EPOCH, &p, U, &get(&[("x-a", "1"), ("x-b", "2")]))
        .is_none());

    let ok = resp(200, &[("cache-control", "max-age=60")]);
    let fill = |c: &mut HttpCache| {
        c.clear();
        c.store(SIM_EPOCH, &p, U, &get(&[]), &ok, 0);
        c.store(SIM_EPOCH, &p, "http://127.0.0.1:9/y", &get(&[]), &ok, 0);
        c.store(
            SIM_EPOCH,
            &partition("http://b.example"),
            U,
            &get(&[]),
            &ok,
            0,
        );
    };
    for m in ["OPTIONS", "TRACE"] {
        fill(&mut c);
        c.store(SIM_EPOCH, &p, U, &request(m, Headers::new()), &ok, 0);
        assert_eq!(c.len(), 3, "{m} is safe");
    }
    for status in [400, 500, 199] {
        fill(&mut c);
        c.store(
            SIM_EPOCH,
            &p,
            U,
            &request("DELETE", Headers::new()),
            &resp(status, &[]),
            0,
        );
        assert_eq!(c.len(), 3, "a {status} does not invalidate");
    }
    for status in [200, 399] {
        fill(&mut c);
        c.store(
            SIM_EPOCH,
            &p,
            U,
            &request("DELETE", Headers::new()),
            &resp(status, &[]),
            0,
        );
        assert_eq!(
            c.len(),
            2,
            "a {status} invalidates this URL in this partition only"
        );
        assert!(c.lookup(SIM_EPOCH, &p, U, &get(&[])).is_none());
    }
}
