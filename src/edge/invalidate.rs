//! Invalidation (RFC 9111 §4.4): "A cache MUST invalidate the target URI … when it
//! receives a non-error status code in response to an unsafe request method (including
//! methods whose safety is unknown)", and "MAY invalidate other URIs": the `Location` and
//! `Content-Location` URIs, only when they share the target's origin. Pure: which request
//! targets to drop; the driver drops every stored response made from them.

use crate::fields::Headers;
use crate::message::Request;

/// RFC 9110 §9.2.1: the safe methods. Anything else, unknown methods included, is unsafe.
pub fn is_safe(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// The request targets (path and query) whose stored responses `req`'s answer with
/// `status` and `headers` invalidates: none for a safe method or an error status (§4.4:
/// "non-error status code", i.e. 2xx or 3xx); else the target itself and any
/// same-origin `Location` / `Content-Location`.
pub fn targets(req: &Request, status: u16, headers: &Headers) -> Vec<String> {
    if is_safe(&req.method) || !(200..400).contains(&status) {
        return Vec::new();
    }
    let mut out = vec![req.target.clone()];
    for name in ["location", "content-location"] {
        if let Some(t) = headers
            .get(name)
            .and_then(|v| same_origin_target(req, v.trim()))
        {
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

/// The path and query of `uri` when it is a reference on `req`'s origin: an absolute
/// path, or an absolute URI with the same scheme and host. §4.4: "a cache MUST NOT
/// invalidate a URI … if the host part of that URI differs from the host part in the
/// target URI". Relative-path references (`foo`, `../x`) are resolved against the
/// target's directory.
fn same_origin_target(req: &Request, uri: &str) -> Option<String> {
    if let Some((scheme, rest)) = uri.split_once("://") {
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let same = scheme.eq_ignore_ascii_case(&req.scheme) && host.eq_ignore_ascii_case(&req.host);
        return same.then(|| path.to_string());
    }
    if uri.starts_with("//") || uri.is_empty() {
        return None;
    }
    if uri.starts_with('/') {
        return Some(uri.to_string());
    }
    let dir = req.path().rsplit_once('/').map_or("", |(d, _)| d);
    Some(format!("{dir}/{uri}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, target: &str) -> Request {
        Request::fixture(method, "api.example", target, &[])
    }

    #[test]
    fn unsafe_success_invalidates_the_target() {
        let none = Headers::new();
        assert_eq!(targets(&req("POST", "/a?x=1"), 200, &none), vec!["/a?x=1"]);
        assert_eq!(targets(&req("M-SEARCH", "/a"), 204, &none), vec!["/a"]);
        assert_eq!(targets(&req("DELETE", "/a"), 301, &none), vec!["/a"]);
        assert!(targets(&req("POST", "/a"), 500, &none).is_empty());
        assert!(targets(&req("PUT", "/a"), 404, &none).is_empty());
        assert!(targets(&req("GET", "/a"), 200, &none).is_empty());
        assert!(targets(&req("OPTIONS", "/a"), 200, &none).is_empty());
    }

    #[test]
    fn location_only_on_the_same_origin() {
        let h = Headers::from_pairs([
            ("location", "https://api.example/b"),
            ("content-location", "https://other.example/c"),
        ]);
        assert_eq!(
            targets(&req("POST", "/dir/a"), 201, &h),
            vec!["/dir/a", "/b"]
        );
        let rel = Headers::from_pairs([("location", "c"), ("content-location", "/d")]);
        assert_eq!(
            targets(&req("PUT", "/dir/a"), 200, &rel),
            vec!["/dir/a", "/dir/c", "/d"]
        );
    }
}
