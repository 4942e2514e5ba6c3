//! The primary cache key: method class, URL parts and configured request headers, kept in
//! a readable form so a report can show *which* key matched (pingora-cache keeps a
//! readable form beside the digest for the same reason).

use crate::edge::knobs::{Knobs, PreflightKey, QueryKey};
use crate::message::Request;

/// The preflight request headers that key an `OPTIONS` entry under `preflight_key: honor`.
pub const PREFLIGHT_HEADERS: [&str; 3] = [
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
];

/// Builds the primary key of `req` under `knobs`.
///
/// RFC 9111 §2: "at a minimum, the request method and target URI". `GET` and `HEAD` share
/// entries (unless `key_head_apart`: VCL `hash_data(req.method)`); `OPTIONS` entries are
/// kept apart (as CloudFront does). Configured headers and,
/// for `OPTIONS` under `preflight_key: honor`, the preflight headers follow, as
/// `name=value` (`name=-` when absent: absent is not empty).
pub fn primary_key(knobs: &Knobs, req: &Request) -> String {
    let mut k = String::with_capacity(64);
    primary_key_into(knobs, req, &mut k);
    k
}

/// [`primary_key`] written into `k` (cleared first), so a caller can reuse one buffer.
pub fn primary_key_into(knobs: &Knobs, req: &Request, k: &mut String) {
    k.clear();
    let class = if req.method == "HEAD" && !knobs.key_head_apart {
        "GET"
    } else {
        req.method.as_str()
    };
    k.push_str(class);
    k.push(' ');
    if knobs.key_host {
        k.push_str(&req.scheme);
        k.push_str("://");
        if req.host.bytes().any(|b| b.is_ascii_uppercase()) {
            let at = k.len();
            k.push_str(&req.host);
            k[at..].make_ascii_lowercase();
        } else {
            k.push_str(&req.host);
        }
    }
    // the whole query kept: path, `?` and query are the target itself (no scan for `?`)
    // else the path alone: the query is dropped or listed below, or it is empty and the
    // cache keys `/p?` as `/p` (ATS proxy/hdrs/URL.cc url_CryptoHash_get_general hashes
    // "?" and then the query whether there is one or not)
    if knobs.query == QueryKey::All && (knobs.key_empty_query || req.query() != Some("")) {
        k.push_str(&req.target);
    } else {
        k.push_str(req.path());
    }
    // (the query is looked for only when the key keeps part of it)
    let listed = match &knobs.query {
        QueryKey::List(names) => req.query().map(|q| (names, q)),
        _ => None,
    };
    if let Some((names, q)) = listed {
        let mut kept: Vec<&str> = q
            .split('&')
            .filter(|p| {
                let name = p.split_once('=').map_or(*p, |(n, _)| n);
                names.iter().any(|w| w == name)
            })
            .collect();
        kept.sort_unstable();
        if !kept.is_empty() {
            k.push('?');
            k.push_str(&kept.join("&"));
        }
    }
    let mut first = true;
    let mut add = |k: &mut String, name: &str| {
        k.push_str(if first { " | " } else { " " });
        first = false;
        k.push_str(name);
        k.push('=');
        k.push_str(req.headers.get(name).unwrap_or("-"));
    };
    for h in &knobs.key_headers {
        add(k, h);
    }
    if req.method == "OPTIONS" && knobs.preflight_key == PreflightKey::Honor {
        for h in PREFLIGHT_HEADERS {
            if !knobs.key_headers.iter().any(|x| x == h) {
                add(k, h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, target: &str, h: &[(&str, &str)]) -> Request {
        Request::fixture(method, "API.example.com", target, h)
    }

    #[test]
    fn get_and_head_share_options_apart() {
        let k = Knobs::rfc9111();
        let g = primary_key(&k, &req("GET", "/a?x=1", &[]));
        assert_eq!(g, "GET https://api.example.com/a?x=1");
        assert_eq!(primary_key(&k, &req("HEAD", "/a?x=1", &[])), g);
        let o = primary_key(&k, &req("OPTIONS", "/a?x=1", &[("origin", "https://o")]));
        assert_eq!(
            o,
            "OPTIONS https://api.example.com/a?x=1 | origin=https://o access-control-request-method=- access-control-request-headers=-"
        );
    }

    #[test]
    fn query_modes_and_key_headers() {
        let mut k = Knobs::rfc9111();
        k.query = QueryKey::None;
        k.key_headers = vec!["origin".into()];
        assert_eq!(
            primary_key(&k, &req("GET", "/a?x=1", &[("Origin", "https://o")])),
            "GET https://api.example.com/a | origin=https://o"
        );
        k.query = QueryKey::List(vec!["b".into(), "a".into()]);
        k.key_headers.clear();
        assert_eq!(
            primary_key(&k, &req("GET", "/a?z=9&b=2&a=1", &[])),
            "GET https://api.example.com/a?a=1&b=2"
        );
        k.preflight_key = PreflightKey::Ignore;
        assert_eq!(
            primary_key(&k, &req("OPTIONS", "/a", &[("origin", "https://o")])),
            "OPTIONS https://api.example.com/a"
        );
    }

    /// With the whole query kept the key takes the target as it is and the host as it
    /// is when already lowercase: the same key as path, `?` and query put together
    /// with the host lowercased.
    #[test]
    fn the_whole_target_is_path_and_query() {
        let k = Knobs::rfc9111();
        assert_eq!(k.query, QueryKey::All);
        for host in ["api.example.com", "API.Example.com", "a"] {
            for target in ["/a", "/a?", "/a?x=1&y", "/?", "/a?x=1?y=2#f", "/r7?v=0"] {
                let r = Request::fixture("GET", host, target, &[]);
                let q = r.query().map_or(String::new(), |q| format!("?{q}"));
                let want = format!("GET https://{}{}{q}", host.to_ascii_lowercase(), r.path());
                assert_eq!(primary_key(&k, &r), want, "{host} {target}");
            }
        }
    }

    /// ATS hashes `?` and the query whether there is one or not (proxy/hdrs/URL.cc
    /// url_CryptoHash_get_general): `/p?` and `/p` share a key there, and only there.
    #[test]
    fn an_empty_query_is_its_own_key_except_at_ats() {
        let k = Knobs::rfc9111();
        let ats = crate::profile::profile("ats").unwrap().knobs;
        let key = |k: &Knobs, t: &str| primary_key(k, &Request::fixture("GET", "a", t, &[]));
        assert_ne!(key(&k, "/qs/3?"), key(&k, "/qs/3"));
        assert_eq!(key(&ats, "/qs/3?"), key(&ats, "/qs/3"));
        assert_eq!(key(&ats, "/qs/3?"), "GET https://a/qs/3");
        assert_ne!(key(&ats, "/qs/3?x"), key(&ats, "/qs/3"));
        assert_eq!(key(&ats, "/qs/3?x=1"), "GET https://a/qs/3?x=1");
    }
}

/// Tests that pin the key's layout at its edges (each kills a mutant the tests above let
/// through).
#[cfg(test)]
mod layout_tests {
    use super::*;
    use crate::fields::Headers;

    fn req(method: &str, target: &str, h: &[(&str, &str)]) -> Request {
        Request {
            method: method.into(),
            scheme: "https".into(),
            host: "api.example.com".into(),
            target: target.into(),
            headers: Headers::from_pairs(h.iter().copied()),
        }
    }

    /// With a query allowlist and none of its parameters present, the key has no query
    /// part at all: `/a` and `/a?z=9` are the same resource for that cache (CloudFront
    /// "query string allowlist"), so no bare `?` is appended.
    #[test]
    fn allowlist_with_no_kept_parameter_has_no_question_mark() {
        let mut k = Knobs::rfc9111();
        k.query = QueryKey::List(vec!["a".into()]);
        let with = primary_key(&k, &req("GET", "/a?z=9", &[]));
        assert_eq!(with, "GET https://api.example.com/a");
        assert_eq!(with, primary_key(&k, &req("GET", "/a", &[])));
        // A parameter named like an allowed one but longer is not kept.
        assert_eq!(
            primary_key(&k, &req("GET", "/a?ab=1&a=2", &[])),
            "GET https://api.example.com/a?a=2"
        );
    }

    /// A preflight header that is already a configured key header appears once, in the
    /// configured position; a GET never carries the preflight headers even under
    /// `preflight_key: honor`.
    #[test]
    fn preflight_headers_are_not_repeated_and_only_key_options() {
        let mut k = Knobs::rfc9111();
        k.key_headers = vec!["origin".into()];
        let h = [
            ("origin", "https://o"),
            ("access-control-request-method", "PUT"),
        ];
        assert_eq!(
            primary_key(&k, &req("OPTIONS", "/p", &h)),
            "OPTIONS https://api.example.com/p | origin=https://o \
             access-control-request-method=PUT access-control-request-headers=-"
        );
        assert_eq!(
            primary_key(&k, &req("GET", "/p", &h)),
            "GET https://api.example.com/p | origin=https://o"
        );
        k.key_headers.clear();
        assert_eq!(
            primary_key(&k, &req("POST", "/p", &h)),
            "POST https://api.example.com/p"
        );
    }
}
