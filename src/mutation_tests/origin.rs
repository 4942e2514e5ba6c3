//! `crate::origin`: the allow-origin matchers, the regex subset, and the modelled
//! backend's answers. Models are built from scenario YAML (the way users write them), so
//! these tests do not depend on the model structs' field lists.

use crate::fields::Headers;
use crate::message::{Request, Response};
use crate::origin::{pattern_error, pattern_matches, AllowOrigins, OriginModel};
use crate::scenario::{parse, OriginSpec};
use crate::time::SIM_EPOCH;

/// The origin model of a scenario whose `origin:` block is `origin_yaml` (indented by two).
fn model(origin_yaml: &str) -> OriginModel {
    let text = format!(
        "name: t\norigin:\n{origin_yaml}\nclients:\n  - {{ name: a, origin: https://a.example }}\n\
         steps:\n  - {{ client: a, fetch: GET /x }}\n"
    );
    match parse("t.yaml", &text) {
        Ok(s) => match s.origin {
            OriginSpec::Model(m) => m,
            other => panic!("not a model: {other:?}"),
        },
        Err(e) => panic!("{e}\n{text}"),
    }
}

fn ask(m: &OriginModel, method: &str, path: &str, h: &[(&str, &str)]) -> Response {
    let req = Request {
        method: method.into(),
        scheme: "https".into(),
        host: "api.example".into(),
        target: path.into(),
        headers: Headers::from_pairs(h.iter().copied()),
    };
    m.respond(&req, SIM_EPOCH)
}

const O: (&str, &str) = ("origin", "https://a.example");

#[test]
fn allow_origin_variants() {
    let o = Some("https://app.example.com.evil.test");
    assert_eq!(AllowOrigins::Any.allow(None).as_deref(), Some("*"));
    assert_eq!(AllowOrigins::ReflectAny.allow(o).as_deref(), o);
    assert_eq!(AllowOrigins::ReflectAny.allow(None), None);
    let list = AllowOrigins::List(vec!["https://a".into(), "null".into()]);
    assert_eq!(list.allow(Some("https://a")).as_deref(), Some("https://a"));
    assert_eq!(list.allow(Some("null")).as_deref(), Some("null"));
    assert_eq!(list.allow(Some("https://b")), None);
    assert_eq!(list.allow(None), None);
    let suffix = AllowOrigins::Suffix("example.com".into());
    assert_eq!(
        suffix.allow(Some("https://evilexample.com")).as_deref(),
        Some("https://evilexample.com")
    );
    assert_eq!(suffix.allow(Some("https://example.com.evil")), None);
    let prefix = AllowOrigins::Prefix("https://app.example.com".into());
    assert_eq!(prefix.allow(o).as_deref(), o);
    assert_eq!(prefix.allow(Some("https://evil.test")), None);
    let pat = AllowOrigins::Pattern("^https://app.example.com$".into());
    assert_eq!(
        pat.allow(Some("https://appxexample.com")).as_deref(),
        Some("https://appxexample.com")
    );
    assert_eq!(pat.allow(o), None);
    // Fetch §3.2.5 (CORS protocol and HTTP caches): only a value that depends on the
    // request's `Origin` needs `Vary: Origin`.
    assert!(!AllowOrigins::Any.varies_with_origin());
    assert!(AllowOrigins::ReflectAny.varies_with_origin());
    assert!(suffix.varies_with_origin());
}

/// The regular-expression subset: `^`/`$` anchors, `.` any one character, `\x` a literal
/// `x`, `*` zero or more of the previous item; unanchored patterns match anywhere.
#[test]
fn pattern_subset_semantics() {
    assert!(pattern_matches("b.d", "abcde"));
    assert!(!pattern_matches("^b.d", "abcde"));
    assert!(pattern_matches("com$", "x.com"));
    assert!(!pattern_matches("com$", "x.comx"));
    assert!(pattern_matches("^a\\.b$", "a.b"));
    assert!(!pattern_matches("^a\\.b$", "axb"));
    assert!(pattern_matches("^a*b$", "b"));
    assert!(pattern_matches("^a*b$", "aaab"));
    assert!(!pattern_matches("^a*b$", "acb"));
    assert!(!pattern_matches("^a*$", "aab"));
    assert!(pattern_matches("^.*$", ""));
    assert!(pattern_matches("^x.*$", "xyz"));
    assert!(!pattern_matches("^ab$", "a"));
    assert!(!pattern_matches("^ab", ""));
    // `\$` at the end is a literal dollar, not an anchor.
    assert!(pattern_matches("a\\$", "xa$y"));
    assert!(!pattern_matches("a\\$", "a"));
    // A leading `*` (rejected by `pattern_error`) is taken literally.
    assert!(pattern_matches("*a", "x*a"));
    assert!(!pattern_matches("*a", "xa"));
}

#[test]
fn pattern_errors() {
    assert_eq!(pattern_error("^https://a\\.example$"), None);
    assert_eq!(pattern_error("a\\[b"), None);
    assert!(pattern_error("*a").is_some());
    for bad in ["a[b]", "(a)", "a{2}", "a|b", "a+", "a?", "a^b", "a$b"] {
        assert!(pattern_error(bad).is_some(), "{bad}");
    }
    assert_eq!(
        pattern_error("a\\").as_deref(),
        Some("the pattern ends with a lone `\\`")
    );
}

const POLICY: &str = "  cors:
    allow_origins: [https://a.example]
    allow_credentials: true
    allow_methods: [GET, PUT]
    allow_headers: reflect
    expose_headers: [x-a, x-b]
    max_age: 600
    vary_origin: when-origin
    preflight_vary: true
    preflight_cache_control: \"public, max-age=60\"
    allow_private_network: true
  routes:
    - path: /x
      cache_control: \"max-age=5\"
      body: hello
    - path: /only-post
      methods: [POST]
    - path: /static/*
      headers: { content-type: text/css }
    - path: /open
      cors: false";

/// Fetch §3.2.2: a CORS-preflight request is an `OPTIONS` request with `Origin` and
/// `Access-Control-Request-Method`; the answer carries the policy's ACAO, ACAC, ACAM,
/// ACAH, max-age, PNA opt-in, `Vary` and `Cache-Control`.
#[test]
fn preflight_answer() {
    let m = model(POLICY);
    let r = ask(
        &m,
        "OPTIONS",
        "/x",
        &[
            O,
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "x-q"),
            ("access-control-request-private-network", "true"),
        ],
    );
    assert_eq!(r.status, 204);
    let h = &r.headers;
    assert_eq!(
        h.get("access-control-allow-origin"),
        Some("https://a.example")
    );
    assert_eq!(h.get("access-control-allow-credentials"), Some("true"));
    assert_eq!(h.get("access-control-allow-methods"), Some("GET, PUT"));
    assert_eq!(h.get("access-control-allow-headers"), Some("x-q"));
    assert_eq!(h.get("access-control-max-age"), Some("600"));
    assert_eq!(h.get("access-control-allow-private-network"), Some("true"));
    assert_eq!(h.get("vary"), Some(crate::origin::PREFLIGHT_VARY));
    assert_eq!(h.get("cache-control"), Some("public, max-age=60"));
    assert!(h.get("date").is_some());
    // No PNA request header (or not `true`): no PNA answer; no ACRH: no ACAH.
    let r = ask(
        &m,
        "OPTIONS",
        "/x",
        &[
            O,
            ("access-control-request-method", "PUT"),
            ("access-control-request-private-network", "yes"),
        ],
    );
    assert_eq!(r.headers.get("access-control-allow-private-network"), None);
    assert_eq!(r.headers.get("access-control-allow-headers"), None);
    // A disallowed origin gets no CORS headers but still the Vary.
    let r = ask(
        &m,
        "OPTIONS",
        "/x",
        &[
            ("origin", "https://b.example"),
            ("access-control-request-method", "PUT"),
        ],
    );
    assert_eq!(r.headers.get("access-control-allow-origin"), None);
    assert_eq!(r.headers.get("access-control-allow-methods"), None);
    assert_eq!(r.headers.get("vary"), Some(crate::origin::PREFLIGHT_VARY));
}

/// Without `Origin`, or without `Access-Control-Request-Method`, an `OPTIONS` request is
/// not a preflight: the route answers it, and the route serves only GET, HEAD and the
/// policy's methods (405 otherwise).
#[test]
fn options_that_is_not_a_preflight() {
    let m = model(POLICY);
    let no_acrm = ask(&m, "OPTIONS", "/x", &[O]);
    assert_eq!(no_acrm.status, 405);
    let no_origin = ask(
        &m,
        "OPTIONS",
        "/x",
        &[("access-control-request-method", "PUT")],
    );
    assert_eq!(no_origin.status, 405);
    assert_eq!(no_origin.headers.get("access-control-allow-methods"), None);
}

#[test]
fn simple_answers() {
    let m = model(POLICY);
    let r = ask(&m, "GET", "/x", &[O]);
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..], b"hello");
    let h = &r.headers;
    assert_eq!(
        h.get("access-control-allow-origin"),
        Some("https://a.example")
    );
    assert_eq!(h.get("access-control-allow-credentials"), Some("true"));
    assert_eq!(h.get("access-control-expose-headers"), Some("x-a, x-b"));
    assert_eq!(h.get("vary"), Some("Origin"));
    assert_eq!(h.get("cache-control"), Some("max-age=5"));
    assert_eq!(h.get("content-type"), Some("application/json"));
    // `when-origin`: no Vary without an Origin (the rs/cors#10 bug being modelled).
    let r = ask(&m, "GET", "/x", &[]);
    assert_eq!(r.headers.get("vary"), None);
    assert_eq!(r.headers.get("access-control-allow-origin"), None);
    // HEAD: same headers, no body (RFC 9110 §9.3.2).
    let r = ask(&m, "HEAD", "/x", &[O]);
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    // The policy's methods are served; others are 405.
    assert_eq!(ask(&m, "PUT", "/x", &[O]).status, 200);
    assert_eq!(ask(&m, "DELETE", "/x", &[O]).status, 405);
    // A route's own method list replaces the default.
    assert_eq!(ask(&m, "POST", "/only-post", &[]).status, 200);
    assert_eq!(ask(&m, "GET", "/only-post", &[]).status, 405);
    // Prefix routes; a route's content-type wins over the default.
    let css = ask(&m, "GET", "/static/a.css", &[]);
    assert_eq!(css.status, 200);
    assert_eq!(css.headers.get("content-type"), Some("text/css"));
    assert_eq!(css.headers.count("content-type"), 1);
    assert_eq!(ask(&m, "GET", "/static", &[]).status, 404);
    assert_eq!(ask(&m, "GET", "/xy", &[]).status, 404);
    // `cors: false` on a route: no CORS headers there.
    let open = ask(&m, "GET", "/open", &[O]);
    assert_eq!(open.status, 200);
    assert_eq!(open.headers.get("access-control-allow-origin"), None);
    assert_eq!(open.headers.get("vary"), None);
}

/// An origin without an `OPTIONS` handler answers every `OPTIONS` with 405 and
/// `Allow: GET, HEAD` (RFC 9110 §15.5.6: a 405 "MUST generate an Allow header field"),
/// without CORS headers; a route that lists `OPTIONS` itself is served normally.
#[test]
fn no_options_handler() {
    let m = model(
        "  cors:
    allow_origins: \"*\"
    options: false
    vary_origin: true
  routes:
    - path: /x
    - path: /opt
      methods: [OPTIONS]",
    );
    let pre = [O, ("access-control-request-method", "PUT")];
    let r = ask(&m, "OPTIONS", "/x", &pre);
    assert_eq!(r.status, 405);
    assert_eq!(r.headers.get("allow"), Some("GET, HEAD"));
    assert_eq!(r.headers.get("access-control-allow-origin"), None);
    let r = ask(&m, "OPTIONS", "/opt", &pre);
    assert_eq!(r.status, 200);
    assert_eq!(r.headers.get("access-control-allow-origin"), Some("*"));
    // `vary_origin: true` sends the Vary with or without an Origin.
    assert_eq!(
        ask(&m, "GET", "/x", &[]).headers.get("vary"),
        Some("Origin")
    );
    // `*` with no credentials: no ACAC, no expose header.
    let r = ask(&m, "GET", "/x", &[O]);
    assert_eq!(r.headers.get("access-control-allow-credentials"), None);
    assert_eq!(r.headers.get("access-control-expose-headers"), None);
}

/// A backend that knows nothing of CORS has no `OPTIONS` handler either.
#[test]
fn no_cors_at_all() {
    let m = model(
        "  routes:
    - path: /x",
    );
    let r = ask(
        &m,
        "OPTIONS",
        "/x",
        &[O, ("access-control-request-method", "GET")],
    );
    assert_eq!(r.status, 405);
    let r = ask(&m, "GET", "/x", &[O]);
    assert_eq!(r.status, 200);
    assert_eq!(r.headers.get("access-control-allow-origin"), None);
}

/// `redirect_options: true` (docs/scenario-format.md: a server rule in front of the CORS
/// handler): a CORS-preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`, Fetch §4.8) to the route gets the route's redirect,
/// not the preflight answer; without it, the CORS handler answers the preflight. A `GET`
/// is redirected either way.
#[test]
fn redirect_options_redirects_preflights_before_the_cors_handler() {
    let yaml = |ro: bool| {
        format!(
            "  cors: {{ allow_origins: [https://a.example], allow_methods: [GET, PUT] }}\n  \
             routes: [{{ path: /old, redirect: /new, status: 308, redirect_options: {ro} }}]"
        )
    };
    let pre = [O, ("access-control-request-method", "PUT")];
    let m = model(&yaml(true));
    let r = ask(&m, "OPTIONS", "/old", &pre);
    assert_eq!(r.status, 308);
    assert_eq!(r.headers.get("location"), Some("/new"));
    let g = ask(&m, "GET", "/old", &[O]);
    assert_eq!((g.status, g.headers.get("location")), (308, Some("/new")));

    let m = model(&yaml(false));
    let r = ask(&m, "OPTIONS", "/old", &pre);
    assert!(
        (200..300).contains(&r.status),
        "the preflight is answered: {r:?}"
    );
    assert_eq!(r.headers.get("location"), None);
    assert_eq!(
        r.headers.get("access-control-allow-origin"),
        Some("https://a.example")
    );
    let g = ask(&m, "GET", "/old", &[O]);
    assert_eq!((g.status, g.headers.get("location")), (308, Some("/new")));
}

/// An error window's `cors:` (docs/scenario-format.md, default `false`) says whether the
/// error carries the CORS headers: `cors: true` keeps the policy's
/// `Access-Control-Allow-Origin`, `false` sends none.
#[test]
fn an_error_window_carries_cors_headers_only_when_it_says_so() {
    for (cors, want) in [(true, Some("https://a.example")), (false, None)] {
        let m = model(&format!(
            "  cors: {{ allow_origins: [https://a.example] }}\n  \
             routes: [{{ path: /x, errors: [{{ status: 503, cors: {cors} }}] }}]"
        ));
        let r = ask(&m, "GET", "/x", &[O]);
        assert_eq!(r.status, 503);
        assert_eq!(
            r.headers.get("access-control-allow-origin"),
            want,
            "cors: {cors}"
        );
    }
}

/// RFC 9110 §15.4.5: `304 Not Modified` answers a conditional GET or HEAD whose selected
/// representation would have been a `200`. A matching `If-None-Match` on a `PUT`, or on
/// a route that answers `404`, gets no `304`.
#[test]
fn only_a_get_or_head_of_a_200_is_answered_not_modified() {
    let m = model(
        "  cors: { allow_origins: [https://a.example], allow_methods: [GET, PUT] }\n  \
         routes: [{ path: /x, headers: { etag: \"\\\"v1\\\"\" } }, \
         { path: /gone, status: 404, headers: { etag: \"\\\"v1\\\"\" } }]",
    );
    let inm = ("if-none-match", "\"v1\"");
    assert_eq!(ask(&m, "GET", "/x", &[O, inm]).status, 304);
    assert_eq!(ask(&m, "HEAD", "/x", &[O, inm]).status, 304);
    assert_ne!(ask(&m, "PUT", "/x", &[O, inm]).status, 304);
    assert_eq!(ask(&m, "GET", "/gone", &[O, inm]).status, 404);
}

/// The simulator remembers what the origin alone would answer a request only when the
/// origin is pure in time (`Upstream::pure`): a route with error windows answers an error
/// inside them and its normal answer outside, so such a model says its answers change
/// with time; without windows they do not.
#[test]
fn error_windows_make_answers_change_with_time() {
    assert!(!model("  routes:\n    - path: /x\n").answers_change_with_time());
    let m = model(
        "  routes:\n    - path: /ok\n    - path: /x\n      errors: [{ status: 503, from: 0s, until: 1s }]\n",
    );
    assert!(m.answers_change_with_time());
}
