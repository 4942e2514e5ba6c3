//! `crate::edge::range`: a single byte range served from a stored complete response
//! (RFC 9110 §14, RFC 9111 §3.4).

use crate::edge::range::{answer, RangeAnswer};
use crate::fields::Headers;
use crate::message::{Request, Response};
use std::sync::Arc;

const LM: &str = "Wed, 01 Jan 2020 00:00:00 GMT";

fn stored(status: u16, h: &[(&str, &str)], body: &str) -> Response {
    Response {
        status,
        headers: Headers::from_pairs(h.iter().copied()),
        body: Arc::from(body.as_bytes()),
    }
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

/// RFC 9110 §14.2: Range applies to GET only, and this cache slices only a stored complete
/// `200`; anything else is served whole (a server MAY ignore Range).
#[test]
fn only_a_get_on_a_stored_200_is_sliced() {
    let ok = stored(200, &[], "0123");
    let range = [("range", "bytes=0-1")];
    assert_eq!(answer(&req("GET", &range), &ok), RangeAnswer::Slice(0, 1));
    assert_eq!(answer(&req("HEAD", &range), &ok), RangeAnswer::Whole);
    let not_ok = stored(203, &[], "0123");
    assert_eq!(answer(&req("GET", &range), &not_ok), RangeAnswer::Whole);
}

/// RFC 9110 §13.1.5: If-Range matches only a strong entity tag equal to the stored one, or
/// a date exactly equal to the stored `Last-Modified`; a weak tag never matches (weak
/// comparison is not allowed here), and a non-matching If-Range means the whole response.
#[test]
fn if_range_needs_a_strong_tag_or_the_exact_date() {
    let weak = stored(200, &[("etag", "W/\"s\"")], "0123");
    let r = |ir: &str| req("GET", &[("range", "bytes=0-1"), ("if-range", ir)]);
    assert_eq!(answer(&r("W/\"s\""), &weak), RangeAnswer::Whole);
    let dated = stored(200, &[("last-modified", LM)], "0123");
    assert_eq!(answer(&r(LM), &dated), RangeAnswer::Slice(0, 1));
    assert_eq!(
        answer(&r("Thu, 02 Jan 2020 00:00:00 GMT"), &dated),
        RangeAnswer::Whole
    );
}

/// RFC 9110 §14.1.1: positions are 1*DIGIT, so a sign is not a number and the range is
/// ignored; a suffix length of 0, or any suffix of an empty body, is unsatisfiable
/// (§14.1.1: "a suffix-range with a suffix-length of zero" is not satisfiable). A range of
/// one byte (`first == last`) is valid.
#[test]
fn suffix_and_number_edge_cases() {
    let s = stored(200, &[], "0123");
    let a = |r: &str| answer(&req("GET", &[("range", r)]), &s);
    assert_eq!(a("bytes=+1-2"), RangeAnswer::Whole);
    assert_eq!(a("bytes=1-+2"), RangeAnswer::Whole);
    assert_eq!(a("bytes=-0"), RangeAnswer::Unsatisfiable);
    assert_eq!(a("bytes=-"), RangeAnswer::Unsatisfiable);
    assert_eq!(a("bytes=2-2"), RangeAnswer::Slice(2, 2));
    assert_eq!(a("bytes=-1"), RangeAnswer::Slice(3, 3));
    assert_eq!(a("bytes=0-"), RangeAnswer::Slice(0, 3));
    let empty = stored(200, &[], "");
    assert_eq!(
        answer(&req("GET", &[("range", "bytes=-5")]), &empty),
        RangeAnswer::Unsatisfiable
    );
}
