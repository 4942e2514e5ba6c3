//! `crate::edge::invalidate`: which stored responses an unsafe request's answer
//! invalidates (RFC 9111 §4.4).

use crate::edge::invalidate::targets;
use crate::fields::Headers;
use crate::message::Request;

fn req(method: &str, target: &str) -> Request {
    Request {
        method: method.into(),
        scheme: "https".into(),
        host: "api.example".into(),
        target: target.into(),
        headers: Headers::new(),
    }
}

fn with_location(v: &str) -> Vec<String> {
    targets(
        &req("POST", "/dir/a"),
        201,
        &Headers::from_pairs([("location", v)]),
    )
}

/// RFC 9111 §4.4: a `Location` URI is invalidated only when both its scheme and its host
/// are the target's (case-insensitively); an absolute URI with no path names `/`.
#[test]
fn location_needs_same_scheme_and_same_host() {
    assert_eq!(with_location("http://api.example/b"), vec!["/dir/a"]);
    assert_eq!(with_location("https://other.example/b"), vec!["/dir/a"]);
    assert_eq!(with_location("HTTPS://API.example/b"), vec!["/dir/a", "/b"]);
    assert_eq!(with_location("https://api.example"), vec!["/dir/a", "/"]);
}

/// RFC 3986 §4.2: `//host/path` is a network-path reference (another host, so §4.4 forbids
/// invalidating it), not an absolute path; an empty reference names nothing to add.
#[test]
fn network_path_and_empty_references_are_ignored() {
    assert_eq!(with_location("//api.example/b"), vec!["/dir/a"]);
    assert_eq!(with_location("//other.example/b"), vec!["/dir/a"]);
    assert_eq!(with_location("   "), vec!["/dir/a"]);
}

/// RFC 9111 §4.4: each URI is invalidated once, however many fields name it.
#[test]
fn a_target_named_twice_is_listed_once() {
    let h = Headers::from_pairs([("location", "/dir/a"), ("content-location", "/dir/a")]);
    assert_eq!(targets(&req("PUT", "/dir/a"), 200, &h), vec!["/dir/a"]);
    let h = Headers::from_pairs([("location", "/b"), ("content-location", "/b")]);
    assert_eq!(
        targets(&req("PUT", "/dir/a"), 200, &h),
        vec!["/dir/a", "/b"]
    );
}

/// RFC 9110 §9.2.1: GET, HEAD, OPTIONS and TRACE are safe and invalidate nothing; RFC 9111
/// §4.4: only a non-error (2xx/3xx) status invalidates.
#[test]
fn safe_methods_and_error_statuses_invalidate_nothing() {
    let none = Headers::new();
    for m in ["GET", "HEAD", "OPTIONS", "TRACE"] {
        assert!(targets(&req(m, "/a"), 200, &none).is_empty(), "{m}");
    }
    for s in [100, 199, 400] {
        assert!(targets(&req("POST", "/a"), s, &none).is_empty(), "{s}");
    }
    for s in [200, 399] {
        assert_eq!(targets(&req("POST", "/a"), s, &none), vec!["/a"], "{s}");
    }
}
