//! `crate::flow::fix`: the one-line fix named for a failing or wrongly allowed step, read
//! from the simulator's report of small scenarios.

use crate::scenario::parse;

/// The fix hints of a scenario's steps, run through the simulator.
fn hints(yaml: &str) -> Vec<Option<String>> {
    let sc = parse("t.yaml", yaml).unwrap();
    let t = crate::sim::replay(&sc).unwrap();
    t.steps
        .iter()
        .map(|s| s.fix.as_deref().map(str::to_string))
        .collect()
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
    let t = crate::sim::replay(&parse("t.yaml", yaml).unwrap()).unwrap();
    assert!(t.steps[1].verdict.allowed && t.steps[1].wrongly_allowed);
    let h = hints(yaml);
    assert_eq!(h[0], None, "allowed, and the origin alone allows it too");
    assert!(
        h[1].is_some(),
        "served from cache while the origin answers a bare 503"
    );
}
