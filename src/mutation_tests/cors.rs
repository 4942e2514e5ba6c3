//! `crate::edge::cors`: the CORS fields an edge adds itself (a CloudFront response headers
//! policy's `CorsConfig`), computed per viewer request after the cache.

use crate::edge::cors::EdgeCors;
use crate::fields::Headers;

const ACAO: &str = "access-control-allow-origin";

fn policy(origins: &[&str], credentials: bool, over: bool) -> EdgeCors {
    EdgeCors {
        allow_origins: origins.iter().map(|s| s.to_string()).collect(),
        allow_origin_patterns: Vec::new(),
        allow_methods: vec!["GET".into(), "PUT".into()],
        allow_headers: vec!["content-type".into(), "x-token".into()],
        expose_headers: vec![],
        allow_credentials: credentials,
        max_age: None,
        origin_override: over,
        hide_origin_acao: false,
    }
}

/// Fetch §3.2.5 (CORS protocol and HTTP caches): when `Access-Control-Allow-Origin` is
/// anything more than `*` or a static origin, `Vary: Origin` is to be used; for `*` it is
/// not. The edge computes ACAO from the viewer's `Origin`, so a response carrying its
/// per-origin value must say `Vary: Origin` to any cache further down; a `*` must not.
#[test]
fn per_origin_answers_vary_on_origin_and_a_star_does_not() {
    let mut h = Headers::new();
    assert!(policy(&["https://a", "https://b"], false, true).apply(
        "GET",
        Some("https://a"),
        None,
        &mut h
    ));
    assert_eq!(h.get(ACAO), Some("https://a"));
    assert_eq!(h.list("vary"), vec!["Origin"]);

    let mut h = Headers::new();
    assert!(policy(&["*"], false, true).apply("GET", Some("https://a"), None, &mut h));
    assert_eq!(h.get(ACAO), Some("*"));
    assert!(!h.contains("vary"), "{h:?}");
}

/// RFC 9110 §12.5.5: Vary lists field names, compared case-insensitively (§5.1); naming
/// `Origin` again adds nothing. An origin that already varies on `origin` keeps one entry.
#[test]
fn an_existing_vary_origin_is_not_repeated() {
    let mut h = Headers::from_pairs([("vary", "Accept-Encoding, origin")]);
    policy(&["https://a"], false, true).apply("GET", Some("https://a"), None, &mut h);
    assert_eq!(h.list("vary"), vec!["Accept-Encoding", "origin"]);
}

/// CloudFront's "Origin override" = false keeps the origin's CORS field when it sent one.
/// The edge then has not made the answer depend on `Origin` unless the value it would
/// have written is the one kept (then it must say so, Fetch §3.2.5); a foreign value the
/// origin sent is the origin's business and gets no `Vary` from the edge.
#[test]
fn without_override_vary_follows_whose_value_is_served() {
    // origin sent nothing: the edge's per-origin value is served, so Vary: Origin
    let mut h = Headers::new();
    policy(&["https://a", "https://b"], false, false).apply("GET", Some("https://b"), None, &mut h);
    assert_eq!(h.get(ACAO), Some("https://b"));
    assert_eq!(h.list("vary"), vec!["Origin"]);
    // origin sent another origin's value: kept, and the edge adds no Vary
    let mut h = Headers::from_pairs([(ACAO, "https://a")]);
    policy(&["https://a", "https://b"], false, false).apply("GET", Some("https://b"), None, &mut h);
    assert_eq!(h.get(ACAO), Some("https://a"));
    assert!(!h.contains("vary"), "{h:?}");
}

/// Fetch §3.2.3 (CORS check): a credentialed response may not use `*`; it must name the
/// request's origin and send `Access-Control-Allow-Credentials: true`. A policy allowing
/// any origin with credentials therefore echoes the origin (and varies on it).
#[test]
fn any_origin_with_credentials_echoes_the_origin() {
    let mut h = Headers::new();
    policy(&["*"], true, true).apply("GET", Some("https://x"), None, &mut h);
    assert_eq!(h.get(ACAO), Some("https://x"));
    assert_eq!(h.get("access-control-allow-credentials"), Some("true"));
    assert_eq!(h.list("vary"), vec!["Origin"]);
    // and without credentials, no ACAC at all
    let mut h = Headers::new();
    policy(&["https://x"], false, true).apply("GET", Some("https://x"), None, &mut h);
    assert!(!h.contains("access-control-allow-credentials"), "{h:?}");
}

/// Fetch §3.2.3: `Access-Control-Expose-Headers` lists the response headers a script may
/// read. An empty policy list exposes nothing, so the field is not sent at all; a
/// non-empty one is sent as a comma-separated list.
#[test]
fn expose_headers_only_when_listed() {
    let mut h = Headers::new();
    policy(&["https://a"], false, true).apply("GET", Some("https://a"), None, &mut h);
    assert!(!h.contains("access-control-expose-headers"), "{h:?}");
    let mut p = policy(&["https://a"], false, true);
    p.expose_headers = vec!["x-a".into(), "x-b".into()];
    let mut h = Headers::new();
    p.apply("GET", Some("https://a"), None, &mut h);
    assert_eq!(h.get("access-control-expose-headers"), Some("x-a, x-b"));
}

/// Fetch §3.2.2: a CORS-preflight request is an `OPTIONS` request carrying
/// `Access-Control-Request-Method`; only its answer carries `Access-Control-Allow-Methods`
/// and `-Headers`. A plain `OPTIONS` (no ACRM) is an ordinary CORS request.
#[test]
fn preflight_fields_need_options_and_a_request_method() {
    let p = policy(&["https://a"], false, true);
    let mut h = Headers::new();
    p.apply("OPTIONS", Some("https://a"), Some("PUT"), &mut h);
    assert_eq!(h.get("access-control-allow-methods"), Some("GET, PUT"));
    assert_eq!(
        h.get("access-control-allow-headers"),
        Some("content-type, x-token")
    );
    assert!(
        !h.contains("access-control-max-age"),
        "no max-age configured"
    );
    let mut h = Headers::new();
    p.apply("OPTIONS", Some("https://a"), None, &mut h);
    assert!(!h.contains("access-control-allow-methods"), "{h:?}");
    let mut h = Headers::new();
    p.apply("GET", Some("https://a"), Some("PUT"), &mut h);
    assert!(!h.contains("access-control-allow-methods"), "{h:?}");
    // an empty allow-headers list sends no field
    let mut q = policy(&["https://a"], false, true);
    q.allow_headers.clear();
    let mut h = Headers::new();
    q.apply("OPTIONS", Some("https://a"), Some("PUT"), &mut h);
    assert!(!h.contains("access-control-allow-headers"), "{h:?}");
}

/// A request without `Origin` is not a CORS request (Fetch §3.2.2): the edge leaves the
/// response untouched and says so.
#[test]
fn no_origin_no_change() {
    let mut h = Headers::from_pairs([("etag", "\"v\"")]);
    assert!(!policy(&["*"], true, true).apply("GET", None, None, &mut h));
    assert_eq!(h.len(), 1);
}
