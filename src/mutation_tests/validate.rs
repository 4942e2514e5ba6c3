//! `crate::edge::validate`: revalidation requests, 304 selection and freshening, and the
//! cache's answers to a client's own conditional request.

use crate::edge::validate::{
    client_not_modified, conditional_request, freshen, has_validator, selects,
};
use crate::fields::Headers;
use crate::message::{Request, Response};

const LM: &str = "Wed, 01 Jan 2020 00:00:00 GMT";
const LATER: &str = "Thu, 02 Jan 2020 00:00:00 GMT";
const EARLIER: &str = "Tue, 31 Dec 2019 00:00:00 GMT";

fn resp(status: u16, h: &[(&str, &str)]) -> Response {
    Response::new(status, Headers::from_pairs(h.iter().copied()))
}

fn req(method: &str, h: &[(&str, &str)]) -> Request {
    Request {
        method: method.into(),
        scheme: "https".into(),
        host: "a".into(),
        target: "/".into(),
        headers: Headers::from_pairs(h.iter().copied()),
    }
}

/// RFC 9111 §4.3.1: a cache validating a stored response sends its entity tag
/// (`If-None-Match`) and/or its `Last-Modified` (`If-Modified-Since`). Either one alone is
/// a validator, so an entry with either can be revalidated rather than refetched.
#[test]
fn either_validator_alone_makes_an_entry_revalidatable() {
    assert!(has_validator(&resp(200, &[("etag", "\"v\"")])));
    assert!(has_validator(&resp(200, &[("last-modified", LM)])));
    let r = conditional_request(&req("GET", &[]), &resp(200, &[("last-modified", LM)]));
    assert_eq!(r.headers.get("if-modified-since"), Some(LM));
    assert!(!r.headers.contains("if-none-match"));
}

/// RFC 9111 §4.3.1/§4.3.2: the client's own preconditions are answered by the cache, not
/// forwarded on the revalidation, which carries only the cache's validators.
#[test]
fn the_clients_preconditions_do_not_ride_on_the_revalidation() {
    let client = req(
        "GET",
        &[
            ("if-match", "\"c\""),
            ("if-unmodified-since", LM),
            ("if-range", "\"c\""),
            ("if-modified-since", EARLIER),
            ("accept", "text/plain"),
        ],
    );
    let r = conditional_request(&client, &resp(200, &[("etag", "\"v\"")]));
    for gone in [
        "if-match",
        "if-unmodified-since",
        "if-range",
        "if-modified-since",
    ] {
        assert!(!r.headers.contains(gone), "{gone} forwarded: {r:?}");
    }
    assert_eq!(r.headers.get("if-none-match"), Some("\"v\""));
    assert_eq!(r.headers.get("accept"), Some("text/plain"));
}

/// RFC 9110 §8.8.3: an entity tag is an opaque quoted string whose characters may include
/// a comma, so a list `"a,b", "c"` holds two tags, the first being `"a,b"`
/// (§13.1.2 If-None-Match is a list of entity tags). A client holding `"a,b"` gets a 304.
#[test]
fn a_comma_inside_a_quoted_tag_does_not_split_it() {
    let stored = resp(200, &[("etag", "\"a,b\"")]);
    assert!(client_not_modified(
        &req("GET", &[("if-none-match", "\"a,b\", \"c\"")]),
        &stored
    ));
    assert!(!client_not_modified(
        &req("GET", &[("if-none-match", "\"a\", \"b\"")]),
        &stored
    ));
}

/// RFC 9110 §13.1.3: If-Modified-Since is false (answer 304) when the representation's
/// last modification is earlier than or equal to the date given; a later date in the
/// request is therefore a 304 too, and an earlier one is not.
#[test]
fn if_modified_since_after_last_modified_is_not_modified() {
    let stored = resp(200, &[("last-modified", LM)]);
    assert!(client_not_modified(
        &req("GET", &[("if-modified-since", LATER)]),
        &stored
    ));
    assert!(client_not_modified(
        &req("HEAD", &[("if-modified-since", LM)]),
        &stored
    ));
    assert!(!client_not_modified(
        &req("GET", &[("if-modified-since", EARLIER)]),
        &stored
    ));
    // RFC 9110 §13.1.3: If-Modified-Since applies to GET and HEAD only
    assert!(!client_not_modified(
        &req("POST", &[("if-modified-since", LATER)]),
        &stored
    ));
    // RFC 9111 §4.3.2: without Last-Modified, the stored response's Date stands in
    let dated = resp(200, &[("date", LM)]);
    assert!(client_not_modified(
        &req("GET", &[("if-modified-since", LM)]),
        &dated
    ));
    assert!(!client_not_modified(
        &req("GET", &[("if-modified-since", EARLIER)]),
        &dated
    ));
}

/// RFC 9111 §4.3.4: a 304 with only a weak validator selects the stored response whose
/// tag matches it weakly; a different weak tag selects nothing; a 304 with a
/// Last-Modified selects only a stored response with the same Last-Modified.
#[test]
fn a_304_with_a_weak_tag_or_a_date_selects_only_its_match() {
    let stored = resp(200, &[("etag", "W/\"v1\""), ("last-modified", LM)]);
    assert!(selects(&stored, &resp(304, &[("etag", "W/\"v1\"")])));
    assert!(!selects(&stored, &resp(304, &[("etag", "W/\"v2\"")])));
    assert!(!selects(
        &resp(200, &[]),
        &resp(304, &[("etag", "W/\"v1\"")])
    ));
    assert!(!selects(&stored, &resp(304, &[("last-modified", LATER)])));
}

/// RFC 9111 §3.2: fields of the 304 replace the stored ones of the same name, every line
/// of a repeated field kept; the hop-by-hop and body-describing fields are not updated.
#[test]
fn freshen_takes_every_line_of_a_repeated_field() {
    let stored = resp(
        200,
        &[
            ("x-a", "old"),
            ("connection", "keep-alive"),
            ("etag", "\"v\""),
        ],
    );
    let merged = freshen(
        &stored,
        &resp(304, &[("x-a", "1"), ("x-a", "2"), ("connection", "close")]),
    );
    assert_eq!(
        merged.headers.get_all("x-a").collect::<Vec<_>>(),
        ["1", "2"]
    );
    assert_eq!(merged.headers.get("connection"), Some("keep-alive"));
    assert_eq!(merged.headers.get("etag"), Some("\"v\""));
}
