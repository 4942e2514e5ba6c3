//! `crate::flow::fix`: the one-line fix named for a failing or wrongly allowed step, read
//! from the simulator's report of small scenarios.

use crate::flow::Trace;
use crate::scenario::parse;

/// A scenario run through the simulator.
fn trace(yaml: &str) -> Trace {
    crate::sim::replay(&parse("t.yaml", yaml).unwrap()).unwrap()
}

/// The fix hint of each step of `t`.
fn fixes(t: &Trace) -> Vec<Option<String>> {
    t.steps
        .iter()
        .map(|s| s.fix.as_deref().map(str::to_string))
        .collect()
}

/// The fix hints of a scenario's steps, run through the simulator.
fn hints(yaml: &str) -> Vec<Option<String>> {
    fixes(&trace(yaml))
}

fn says(hint: &Option<String>, what: &str) -> bool {
    hint.as_deref().is_some_and(|h| h.contains(what))
}

const REDIRECT: &str = "checks CORS on the redirect itself";
const ALLOWLIST: &str = "add it to `allow_origins` (compare";
const ERROR_PAGE: &str = "error answer carries no CORS headers";
const MISMATCH: &str = "answers with another origin's value";

/// Which hint a failure gets follows where the browser failed (Fetch §4.4, Chromium's
/// console text): a redirect answered without CORS headers (the CORS check runs on every
/// hop), a 4xx/5xx without them (an error page in front of the CORS code), a success
/// without them (the allowlist), a preflight without them (the allowlist: the redirect
/// and error-page hints are about the actual request), another origin's value on an
/// error (still that value's fix).
#[test]
fn each_failure_gets_the_hint_for_where_it_failed() {
    let h = hints(
        "origin:
  routes:
    - { path: /old, redirect: /new, status: 302 }
    - { path: /new }
    - { path: /err, status: 404 }
    - { path: /other, status: 404, headers: { access-control-allow-origin: https://b.example } }
clients:
  - { name: a, origin: https://a.example }
steps:
  - { client: a, fetch: GET /old }
  - { client: a, fetch: GET /new }
  - { client: a, fetch: GET /err }
  - { client: a, fetch: PUT /new }
  - { client: a, fetch: GET /other }
",
    );
    assert!(says(&h[0], REDIRECT), "302 without ACAO: {:?}", h[0]);
    assert!(
        says(&h[1], ALLOWLIST) && !says(&h[1], ERROR_PAGE),
        "200 without ACAO: {:?}",
        h[1]
    );
    assert!(says(&h[2], ERROR_PAGE), "404 without ACAO: {:?}", h[2]);
    assert!(
        says(&h[3], ALLOWLIST) && !says(&h[3], ERROR_PAGE),
        "preflight (405) without ACAO: {:?}",
        h[3]
    );
    assert!(
        says(&h[4], MISMATCH),
        "404 with another origin's ACAO: {:?}",
        h[4]
    );
}

/// PRODUCT.md: a wrongly allowed step (the edge served a response the origin would not
/// give now, and the browser accepted it) is a finding and gets a fix, like a blocked one;
/// an allowed step that the origin alone allows too gets none.
#[test]
fn a_wrongly_allowed_step_gets_a_fix_and_a_rightly_allowed_one_none() {
    let yaml = "origin:
  cors: { allow_origins: \"*\" }
  routes:
    - path: /api
      cache_control: \"public, max-age=60\"
      errors:
        - { status: 503, from: 1s, until: 5s, cors: false }
clients:
  - { name: a, origin: https://a.example }
steps:
  - { at: 0s, client: a, fetch: GET /api }
  - { at: 2s, client: a, fetch: GET /api }
";
    let t = trace(yaml);
    assert!(t.steps[1].verdict.allowed && t.steps[1].wrongly_allowed);
    let sum = &t.summary;
    assert_eq!(
        (
            sum.steps,
            sum.blocked,
            sum.cache_induced,
            sum.wrongly_allowed,
            sum.edge_requests,
            sum.hits
        ),
        (2, 0, 1, 1, 2, 1)
    );
    let h = fixes(&t);
    assert_eq!(h[0], None, "allowed, and the origin alone allows it too");
    assert!(
        h[1].is_some(),
        "served from cache while the origin answers a bare 503"
    );
}

/// A scenario of clients `a` and `b` against `origin` behind `edge`, run through the
/// simulator; its second step must be cache-induced.
fn two_origins_trace(origin: &str, edge: &str, steps: &str) -> Trace {
    let t = trace(&format!(
        "origin:
{origin}
edge: {edge}
clients:
  - {{ name: a, origin: https://a.example }}
  - {{ name: b, origin: https://b.example }}
steps:
{steps}"
    ));
    assert!(t.steps[1].cache_induced, "{:?}", t.steps[1]);
    t
}

/// The fix hints of [`two_origins_trace`]'s steps.
fn two_origins(origin: &str, edge: &str, steps: &str) -> Vec<Option<String>> {
    fixes(&two_origins_trace(origin, edge, steps))
}

const REFLECT: &str = "  cors: { allow_origins: [https://a.example, https://b.example] }
  routes: [{ path: /api, cache_control: \"public, max-age=60\" }]";
const REFLECT_VARY: &str =
    "  cors: { allow_origins: [https://a.example, https://b.example], vary_origin: true }
  routes: [{ path: /api, cache_control: \"public, max-age=60\" }]";
const A_THEN_B: &str =
    "  - { at: 0s, client: a, fetch: GET /api }\n  - { at: 1s, client: b, fetch: GET /api }\n";
const NO_VARY: &str = "does not send `Vary: Origin` on this response";
const NOT_KEYED: &str = "this edge does not key on Origin (vary: ignore)";

/// The cache-induced hints name the layer at fault (RFC 9111 §4.1: a cache selects a
/// stored response by the fields its `Vary` names, so the origin must name Origin; an
/// edge that ignores `Vary` must put Origin in its key): an origin without `Vary: Origin`
/// behind an edge that honours it; an edge that ignores it, with or without other key
/// headers, behind an origin that sends it; both at fault.
#[test]
fn a_poisoned_step_names_the_origin_the_edge_or_both() {
    let h = two_origins(REFLECT, "{ profile: rfc9111 }", A_THEN_B);
    assert!(
        says(&h[1], NO_VARY) && !says(&h[1], "does not key"),
        "{:?}",
        h[1]
    );
    let h = two_origins(REFLECT_VARY, "{ profile: url-only }", A_THEN_B);
    assert!(
        says(&h[1], NOT_KEYED) && !says(&h[1], NO_VARY),
        "{:?}",
        h[1]
    );
    let h = two_origins(
        REFLECT_VARY,
        "{ profile: url-only, key_headers: [accept-language] }",
        A_THEN_B,
    );
    assert!(
        says(&h[1], NOT_KEYED),
        "keyed on other fields only: {:?}",
        h[1]
    );
    let h = two_origins(REFLECT, "{ profile: url-only }", A_THEN_B);
    assert!(says(&h[1], NOT_KEYED) && says(&h[1], NO_VARY), "{:?}", h[1]);
    assert!(!says(&h[1], "collapsed"), "{:?}", h[1]);
    // A response stored for a request without Origin (no ACAO at all) is poisoning too,
    // not a stored error.
    let h = two_origins(
        REFLECT,
        "{ profile: url-only }",
        "  - { at: 0s, client: a, fetch: GET /api, mode: no-cors }\n  - { at: 1s, client: b, fetch: GET /api }\n",
    );
    assert!(
        says(&h[1], NO_VARY) && !says(&h[1], "stored 200"),
        "{:?}",
        h[1]
    );
}

/// Naive request collapsing (PRODUCT.md knobs: `collapse: naive`) hands one origin's
/// in-flight answer to another origin's request: its own hint, only when the step was in
/// fact collapsed.
#[test]
fn a_naively_collapsed_step_says_so() {
    let slow = format!("  latency: 200ms\n{REFLECT}");
    let h = two_origins(
        &slow,
        "{ profile: rfc9111, collapse: naive }",
        "  - { at: 0s, client: a, fetch: GET /api }\n  - { at: 10ms, client: b, fetch: GET /api }\n",
    );
    assert!(
        says(&h[1], "collapsed this request onto another origin's fetch"),
        "{:?}",
        h[1]
    );
    let h = two_origins(REFLECT, "{ profile: url-only, collapse: naive }", A_THEN_B);
    assert!(!says(&h[1], "collapsed"), "a plain hit: {:?}", h[1]);
}

/// A poisoned preflight (an edge that stores `OPTIONS` keyed on the URL alone) names the
/// edge's OPTIONS caching and the preflight's `Vary`, not the actual response's.
#[test]
fn a_poisoned_preflight_names_options_caching_and_the_preflight_vary() {
    let t = two_origins_trace(
        "  cors: { allow_origins: [https://a.example, https://b.example], allow_methods: [PUT] }
  routes: [{ path: /api, cache_control: \"public, max-age=60\" }]",
        "{ profile: cloudfront-cors-s3, key_headers: [accept-language] }",
        "  - { at: 0s, client: a, fetch: PUT /api }\n  - { at: 1s, client: b, fetch: PUT /api }\n",
    );
    let h = fixes(&t);
    let hint = &h[1];
    assert!(
        says(hint, "stores OPTIONS without keying Origin"),
        "{hint:?}"
    );
    assert!(
        says(hint, "`Vary: Origin, Access-Control-Request-Method"),
        "{hint:?}"
    );
    assert!(!says(hint, NO_VARY), "{hint:?}");
    assert_eq!(
        (t.summary.edge_requests, t.summary.hits),
        (3, 1),
        "edge requests: step 0's preflight and actual request, step 1's preflight only \
         (it failed, so the actual request never left); one of them a hit"
    );
}

/// A stored error without CORS headers served again: stop storing it (how depends on
/// whether the edge honours `no-store` on that status) and send CORS headers on errors;
/// keying on Origin would not help.
#[test]
fn a_stored_error_says_how_to_stop_storing_it() {
    let err = |extra: &str| {
        format!(
            "  cors: {{ allow_origins: \"*\" }}
  routes:
    - path: /api
      cache_control: \"public, max-age=60\"
      errors: [{{ status: 503, from: 0s, until: 500ms{extra} }}]"
        )
    };
    let h = two_origins(
        &err(", cache_control: \"max-age=10\""),
        "{ profile: rfc9111 }",
        A_THEN_B,
    );
    assert!(
        says(&h[1], "served a stored 503 error answer without CORS headers: mark error answers `Cache-Control: no-store`"),
        "{:?}",
        h[1]
    );
    let h = two_origins(&err(""), "{ profile: cloudfront }", A_THEN_B);
    assert!(
        says(&h[1], "keeps errors 10 s") && says(&h[1], "ErrorCachingMinTTL 0"),
        "{:?}",
        h[1]
    );
}

/// Fetch §4.8: a cached preflight answers for one origin, method and header list. An edge
/// that keys OPTIONS on Origin alone, behind an origin whose preflight varies on Origin
/// alone, serves the answer for `X-A` to a request announcing `X-B`: the fix names the
/// Access-Control-Request-* fields (keying and `Vary`), though Origin is keyed.
#[test]
fn a_preflight_keyed_on_origin_alone_still_needs_the_request_fields() {
    let h = two_origins(
        "  cors:
    allow_origins: [https://a.example, https://b.example]
    allow_methods: [PUT]
    allow_headers: reflect
    preflight_headers: { vary: Origin }
  routes: [{ path: /api, cache_control: \"public, max-age=60\" }]",
        "{ profile: cloudfront-cors-s3, key_headers: [origin] }",
        "  - { at: 0s, client: a, fetch: PUT /api, headers: { x-a: \"1\" } }\n  - { at: 1s, client: a, fetch: PUT /api, headers: { x-b: \"1\" } }\n",
    );
    let hint = &h[1];
    assert!(says(hint, "stores OPTIONS without keying"), "{hint:?}");
    assert!(
        says(hint, "`Vary: Origin, Access-Control-Request-Method"),
        "{hint:?}"
    );
}

/// A preflight whose `Vary` names some other field (here `Accept-Encoding`) still needs
/// Origin and both Access-Control-Request-* fields in it.
#[test]
fn a_preflight_varying_on_something_else_needs_the_cors_fields() {
    let h = two_origins(
        "  cors:
    allow_origins: [https://a.example, https://b.example]
    allow_methods: [PUT]
    preflight_headers: { vary: Accept-Encoding }
  routes: [{ path: /api, cache_control: \"public, max-age=60\" }]",
        "{ profile: cloudfront-cors-s3 }",
        "  - { at: 0s, client: a, fetch: PUT /api }\n  - { at: 1s, client: b, fetch: PUT /api }\n",
    );
    assert!(
        says(&h[1], "`Vary: Origin, Access-Control-Request-Method"),
        "{:?}",
        h[1]
    );
}
