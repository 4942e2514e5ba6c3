//! Validation (RFC 9111 §4.3): the conditional request a cache sends to revalidate a
//! stale entry, how a `304 Not Modified` freshens the stored response (§3.2, §4.3.4),
//! and answering a client's own conditional request from a stored response (§4.3.2).
//! Pure: header values in, header values out.

use crate::fields::Headers;
use crate::message::{Request, Response};
use crate::time::Timestamp;

/// The header fields to add to a request that revalidates `stored` (RFC 9111 §4.3.1):
/// `If-None-Match` with its entity tag, `If-Modified-Since` with its `Last-Modified`.
/// Empty when it has no validator (then the entry is refetched whole).
pub fn conditional_fields(stored: &Response) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    // "When generating a conditional request for validation, a cache ... MUST send the
    // relevant entity tags (using If-Match, If-None-Match, or If-Range) if the entity
    // tags were provided in the stored response(s) being validated."
    if let Some(etag) = stored.headers.get("etag") {
        out.push(("if-none-match", etag.trim().to_string()));
    }
    // "... SHOULD send the Last-Modified value (using If-Modified-Since) if only a
    // Last-Modified value has been provided"; sending it beside the tag does no harm
    // (RFC 9110 §13.2.2: If-None-Match takes precedence at the recipient).
    if let Some(lm) = stored.headers.get("last-modified") {
        if Timestamp::parse_http_date(lm).is_some() {
            out.push(("if-modified-since", lm.trim().to_string()));
        }
    }
    out
}

/// The conditional request fields (RFC 9110 §13.1), lowercase.
pub const CONDITIONAL_FIELDS: [&str; 5] = [
    "if-modified-since",
    "if-none-match",
    "if-unmodified-since",
    "if-match",
    "if-range",
];

/// `req` with the conditional fields for `stored` in place of any the client sent (the
/// client's own conditionals are answered by the cache afterwards, §4.3.2).
pub fn conditional_request(req: &Request, stored: &Response) -> Request {
    let mut r = req.clone();
    for name in CONDITIONAL_FIELDS {
        r.headers.remove(name);
    }
    for (n, v) in conditional_fields(stored) {
        r.headers.append(n, &v);
    }
    r
}

/// Whether the stored response can be revalidated (it has a validator).
pub fn has_validator(stored: &Response) -> bool {
    !conditional_fields(stored).is_empty()
}

/// RFC 9111 §4.3.4: whether a `304` applies to `stored`. "If the new response contains
/// a strong validator …, then that strong validator identifies the selected
/// representation"; else a matching `Last-Modified`; else, with no validator in the 304,
/// the one stored response being validated is selected.
pub fn selects(stored: &Response, not_modified: &Response) -> bool {
    let new_tag = not_modified.headers.get("etag").map(str::trim);
    let old_tag = stored.headers.get("etag").map(str::trim);
    if let Some(t) = new_tag.filter(|t| !t.starts_with("W/")) {
        return old_tag == Some(t);
    }
    if let Some(lm) = not_modified.headers.get("last-modified") {
        return stored.headers.get("last-modified").map(str::trim) == Some(lm.trim());
    }
    if let Some(t) = new_tag {
        return old_tag.is_some_and(|o| weak_eq(o, t));
    }
    true
}

/// Header fields a `304` never replaces in the stored response (RFC 9111 §3.2: those
/// excepted from storage (hop-by-hop, §3.1), "header fields that the cache's stored
/// response depends upon", and "the Content-Length header field").
const NOT_UPDATED: [&str; 12] = [
    "content-length",
    "content-encoding",
    "content-range",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
];

/// Freshens `stored` with a `304` (RFC 9111 §3.2): "the cache MUST add each header
/// field in the provided response to the stored response, replacing field values that
/// are already present", except [`NOT_UPDATED`]. Fields the 304 omits keep their stored
/// value — which is how a 304 without CORS headers keeps serving a stored
/// `Access-Control-Allow-Origin` that was written for another origin.
pub fn freshen(stored: &Response, not_modified: &Response) -> Response {
    let mut headers = stored.headers.clone();
    let mut replaced: Vec<&str> = Vec::new();
    for (n, v) in not_modified.headers.iter() {
        if NOT_UPDATED.contains(&n) {
            continue;
        }
        if !replaced.contains(&n) {
            headers.remove(n);
            replaced.push(n);
        }
        headers.append(n, v);
    }
    Response {
        status: stored.status,
        headers,
        body: stored.body.clone(),
    }
}

/// RFC 9111 §4.3.2: whether a client's conditional `req` is answered `304 Not Modified`
/// from the stored `stored`. `If-None-Match` is evaluated with the weak comparison and
/// takes precedence; `If-Modified-Since` (GET/HEAD only) compares with `Last-Modified`,
/// else `Date` (§4.3.2: "the last modified time of the stored response, or its Date").
/// Only a stored 200 is answered so (RFC 9110 §13.2.1: preconditions apply to a 2xx).
pub fn client_not_modified(req: &Request, stored: &Response) -> bool {
    fields_not_modified(req, stored.status, &stored.headers)
}

/// [`client_not_modified`] of a response given as its status and fields (the origin
/// model asks before it has built its answer).
pub fn fields_not_modified(req: &Request, status: u16, fields: &Headers) -> bool {
    if status != 200 || !matches!(req.method.as_str(), "GET" | "HEAD") {
        return false;
    }
    if let Some(inm) = req.headers.get_combined("if-none-match") {
        let Some(tag) = fields.get("etag") else {
            return false;
        };
        let inm = inm.trim();
        return inm == "*" || entity_tags(inm).iter().any(|t| weak_eq(t, tag.trim()));
    }
    let Some(ims) = req
        .headers
        .get("if-modified-since")
        .and_then(Timestamp::parse_http_date)
    else {
        return false;
    };
    let last = fields
        .get("last-modified")
        .or_else(|| fields.get("date"))
        .and_then(Timestamp::parse_http_date);
    last.is_some_and(|l| l <= ims)
}

/// The `304` a cache sends for `stored` (RFC 9110 §15.4.5: "the server generating a 304
/// response MUST generate any of the following header fields that would have been sent
/// in a 200 (OK) response to the same request": Content-Location, Date, ETag, Vary,
/// Cache-Control and Expires). Every stored field but those describing the body is
/// kept, so CORS fields travel with it as they would on the 200.
pub fn not_modified(stored: &Response) -> Response {
    let mut headers = Headers::new();
    for (n, v) in stored.headers.iter() {
        if !matches!(
            n,
            "content-length" | "content-encoding" | "content-range" | "transfer-encoding"
        ) {
            headers.append(n, v);
        }
    }
    Response::new(304, headers)
}

/// The entity tags of an `If-None-Match` list, commas inside quotes kept.
fn entity_tags(list: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in list.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(list[start..].trim());
    out.retain(|t| !t.is_empty());
    out
}

/// RFC 9110 §8.8.3.2 weak comparison: the opaque tags match, `W/` ignored.
fn weak_eq(a: &str, b: &str) -> bool {
    let strip = |t: &str| t.strip_prefix("W/").unwrap_or(t).to_string();
    strip(a) == strip(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, h: &[(&str, &str)]) -> Response {
        Response::new(status, Headers::from_pairs(h.iter().copied()))
    }

    fn get(h: &[(&str, &str)]) -> Request {
        Request::fixture("GET", "a", "/", h)
    }

    const LM: &str = "Wed, 01 Jan 2020 00:00:00 GMT";

    #[test]
    fn conditional_request_carries_the_stored_validators() {
        let stored = resp(200, &[("etag", "\"v1\""), ("last-modified", LM)]);
        let r = conditional_request(&get(&[("if-none-match", "\"mine\"")]), &stored);
        assert_eq!(r.headers.get("if-none-match"), Some("\"v1\""));
        assert_eq!(r.headers.get("if-modified-since"), Some(LM));
        assert_eq!(r.headers.count("if-none-match"), 1);
        assert!(!has_validator(&resp(200, &[])));
        assert!(!has_validator(&resp(200, &[("last-modified", "garbage")])));
    }

    #[test]
    fn freshen_replaces_present_fields_and_keeps_the_rest() {
        let stored = resp(
            200,
            &[
                ("etag", "\"v1\""),
                ("access-control-allow-origin", "https://a"),
                ("content-length", "10"),
                ("test-header", "A"),
            ],
        );
        let merged = freshen(
            &stored,
            &resp(
                304,
                &[
                    ("etag", "\"v1\""),
                    ("test-header", "B"),
                    ("content-length", "0"),
                ],
            ),
        );
        assert_eq!(merged.status, 200);
        assert_eq!(merged.headers.get("test-header"), Some("B"));
        assert_eq!(merged.headers.get("content-length"), Some("10"));
        // a 304 without CORS fields keeps the stored ACAO
        assert_eq!(
            merged.headers.get("access-control-allow-origin"),
            Some("https://a")
        );
        let updated = freshen(
            &stored,
            &resp(304, &[("access-control-allow-origin", "https://b")]),
        );
        assert_eq!(
            updated.headers.get("access-control-allow-origin"),
            Some("https://b")
        );
    }

    #[test]
    fn a_304_selects_by_strong_tag_then_last_modified() {
        let stored = resp(200, &[("etag", "\"v1\""), ("last-modified", LM)]);
        assert!(selects(&stored, &resp(304, &[("etag", "\"v1\"")])));
        assert!(!selects(&stored, &resp(304, &[("etag", "\"v2\"")])));
        assert!(selects(&stored, &resp(304, &[("last-modified", LM)])));
        assert!(selects(&stored, &resp(304, &[])));
        assert!(selects(&stored, &resp(304, &[("etag", "W/\"v1\"")])));
    }

    #[test]
    fn client_conditionals_on_a_stored_200() {
        let stored = resp(200, &[("etag", "W/\"abc\""), ("last-modified", LM)]);
        assert!(client_not_modified(
            &get(&[("if-none-match", "\"abc\"")]),
            &stored
        ));
        assert!(client_not_modified(
            &get(&[("if-none-match", "\"x\", \"a,b\", W/\"abc\"")]),
            &stored
        ));
        assert!(client_not_modified(
            &get(&[("if-none-match", "*")]),
            &stored
        ));
        assert!(!client_not_modified(
            &get(&[("if-none-match", "\"x\"")]),
            &stored
        ));
        // If-None-Match takes precedence over a matching If-Modified-Since
        assert!(!client_not_modified(
            &get(&[("if-none-match", "\"x\""), ("if-modified-since", LM)]),
            &stored
        ));
        assert!(client_not_modified(
            &get(&[("if-modified-since", LM)]),
            &stored
        ));
        assert!(!client_not_modified(
            &get(&[("if-modified-since", "Tue, 31 Dec 2019 00:00:00 GMT")]),
            &stored
        ));
        assert!(!client_not_modified(&get(&[]), &stored));
        let err = resp(404, &[("etag", "\"abc\"")]);
        assert!(!client_not_modified(
            &get(&[("if-none-match", "\"abc\"")]),
            &err
        ));
    }

    #[test]
    fn not_modified_keeps_metadata_but_not_body_fields() {
        let r = not_modified(&resp(
            200,
            &[
                ("etag", "\"v\""),
                ("content-length", "3"),
                ("access-control-allow-origin", "*"),
            ],
        ));
        assert_eq!(r.status, 304);
        assert_eq!(r.headers.get("etag"), Some("\"v\""));
        assert_eq!(r.headers.get("content-length"), None);
        assert_eq!(r.headers.get("access-control-allow-origin"), Some("*"));
    }
}
