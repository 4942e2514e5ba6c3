//! Range requests on stored responses (RFC 9110 §14; RFC 9111 §3.4 and §4: a cache may
//! satisfy a range request from a stored complete response). Only a single byte range is
//! served from the store; several ranges, other units or an `If-Range` that does not
//! match get the whole stored `200`, which RFC 9110 §14.2 allows ("a server MAY ignore
//! the Range header field").

use crate::fields::Headers;
use crate::message::{Request, Response};
use std::sync::Arc;

/// What a `Range` request gets from a stored response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeAnswer {
    /// No usable `Range`: the whole stored response.
    Whole,
    /// A `206` with bytes `first..=last`.
    Slice(u64, u64),
    /// `416 Range Not Satisfiable` (RFC 9110 §15.5.17).
    Unsatisfiable,
}

/// Decides how `req`'s `Range` is answered from `stored` (a complete `200` only; any
/// other stored status is served whole).
pub fn answer(req: &Request, stored: &Response) -> RangeAnswer {
    if stored.status != 200 || req.method != "GET" {
        return RangeAnswer::Whole;
    }
    let Some(range) = req.headers.get("range") else {
        return RangeAnswer::Whole;
    };
    // RFC 9110 §13.1.5: If-Range with a validator that does not match the stored one
    // means "send the whole representation"; only a strong tag or exact date matches.
    if let Some(ir) = req.headers.get("if-range").map(str::trim) {
        let tag = stored.headers.get("etag").map(str::trim);
        let lm = stored.headers.get("last-modified").map(str::trim);
        let strong_match = tag.is_some_and(|t| t == ir && !t.starts_with("W/"));
        if !(strong_match || lm == Some(ir)) {
            return RangeAnswer::Whole;
        }
    }
    parse_single(range, stored.body.len() as u64)
}

/// `bytes=first-last`, `bytes=first-`, `bytes=-suffix` against a body of `len` bytes.
fn parse_single(range: &str, len: u64) -> RangeAnswer {
    let Some(spec) = range.trim().strip_prefix("bytes=") else {
        return RangeAnswer::Whole;
    };
    let spec = spec.trim();
    if spec.contains(',') {
        return RangeAnswer::Whole;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeAnswer::Whole;
    };
    let num = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (a.trim().is_empty(), num(a), num(b)) {
        // suffix-range: the last N bytes
        (true, _, Some(n)) if n > 0 && len > 0 => {
            RangeAnswer::Slice(len.saturating_sub(n), len - 1)
        }
        (true, _, _) => RangeAnswer::Unsatisfiable,
        (false, Some(first), last) => {
            if first >= len {
                return RangeAnswer::Unsatisfiable;
            }
            match (b.trim().is_empty(), last) {
                (true, _) => RangeAnswer::Slice(first, len - 1),
                (false, Some(l)) if l >= first => RangeAnswer::Slice(first, l.min(len - 1)),
                _ => RangeAnswer::Whole,
            }
        }
        _ => RangeAnswer::Whole,
    }
}

/// The `206 Partial Content` for bytes `first..=last` of `stored` (RFC 9110 §15.3.7): the
/// stored fields, `Content-Range: bytes first-last/len`, the slice as body.
pub fn slice(stored: &Response, first: u64, last: u64) -> Response {
    let len = stored.body.len() as u64;
    let mut headers: Headers = stored.headers.clone();
    headers.remove("content-length");
    headers.insert("content-range", &format!("bytes {first}-{last}/{len}"));
    let body: Arc<[u8]> = Arc::from(&stored.body[first as usize..=last as usize]);
    Response {
        status: 206,
        headers,
        body,
    }
}

/// The `416` for `stored` (RFC 9110 §15.5.17: "SHOULD generate a Content-Range header
/// field specifying the current length").
pub fn unsatisfiable(stored: &Response) -> Response {
    let mut h = Headers::new();
    h.append("content-range", &format!("bytes */{}", stored.body.len()));
    Response::new(416, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(body: &str) -> Response {
        Response {
            status: 200,
            headers: Headers::from_pairs([("etag", "\"s\""), ("a", "1")]),
            body: Arc::from(body.as_bytes()),
        }
    }

    fn get(h: &[(&str, &str)]) -> Request {
        Request::fixture("GET", "a", "/", h)
    }

    #[test]
    fn single_ranges() {
        let s = stored("01234567890");
        let a = |r: &str| answer(&get(&[("range", r)]), &s);
        assert_eq!(a("bytes=0-1"), RangeAnswer::Slice(0, 1));
        assert_eq!(a("bytes=5-"), RangeAnswer::Slice(5, 10));
        assert_eq!(a("bytes=-5"), RangeAnswer::Slice(6, 10));
        assert_eq!(a("bytes=-50"), RangeAnswer::Slice(0, 10));
        assert_eq!(a("bytes=3-100"), RangeAnswer::Slice(3, 10));
        assert_eq!(a("bytes=20-"), RangeAnswer::Unsatisfiable);
        assert_eq!(a("bytes=0-1,3-4"), RangeAnswer::Whole);
        assert_eq!(a("items=0-1"), RangeAnswer::Whole);
        assert_eq!(a("bytes=4-2"), RangeAnswer::Whole);
        assert_eq!(answer(&get(&[]), &s), RangeAnswer::Whole);
    }

    #[test]
    fn if_range_must_match() {
        let s = stored("0123");
        let r = |ir: &str| answer(&get(&[("range", "bytes=0-1"), ("if-range", ir)]), &s);
        assert_eq!(r("\"s\""), RangeAnswer::Slice(0, 1));
        assert_eq!(r("\"t\""), RangeAnswer::Whole);
    }

    #[test]
    fn slice_has_content_range_and_the_bytes() {
        let p = slice(&stored("01234567890"), 0, 1);
        assert_eq!(p.status, 206);
        assert_eq!(&p.body[..], b"01");
        assert_eq!(p.headers.get("content-range"), Some("bytes 0-1/11"));
        assert_eq!(p.headers.get("a"), Some("1"));
        assert_eq!(
            unsatisfiable(&stored("0123")).headers.get("content-range"),
            Some("bytes */4")
        );
    }
}
