//! `crate::flow`: one browser step through the edge, and its no-cache counterfactual
//! ("direct" verdict), driven by hand through the public state machine ([`StepRun`]).

use crate::browser::run::Instance;
use crate::browser::{Browser, Reason};
use crate::edge::Outcome;
use crate::fields::Headers;
use crate::flow::{EdgeAnswer, Next, StepRun};
use crate::message::Response;
use crate::scenario::{parse, Scenario, ServedBy};
use crate::time::SIM_EPOCH;
use std::sync::Arc;

const SC: &str = "origin:
  cors: { allow_origins: [https://app1.example.com], allow_methods: [GET, PUT] }
  routes: [{ path: /api/*, cache_control: \"max-age=60\" }]
edge: { profile: cloudfront-cors-s3 }
clients:
  - { name: app1, origin: https://app1.example.com }
steps:
  - { client: app1, fetch: GET /api/items }
  - { client: app1, fetch: GET /api/other }
";

fn scenario() -> Scenario {
    parse("t.yaml", SC).unwrap()
}

fn resp(status: u16, pairs: &[(&str, &str)]) -> Arc<Response> {
    Arc::new(Response::new(
        status,
        Headers::from_pairs(pairs.iter().copied()),
    ))
}

fn allowed() -> Arc<Response> {
    resp(
        200,
        &[("access-control-allow-origin", "https://app1.example.com")],
    )
}

fn answer(
    response: Arc<Response>,
    outcome: Outcome,
    shield: Option<Outcome>,
    stored_by: Option<usize>,
) -> EdgeAnswer {
    EdgeAnswer {
        response,
        outcome,
        shield,
        key: Arc::from("GET https://api.example.com/api/items"),
        stored_by,
        elapsed_ms: 10,
        stored: None,
    }
}

/// PRODUCT.md "The key definition": a step is cache-induced only when the deciding
/// response was served from a cache — the edge's (`hit`, `stale`, `collapsed`), its
/// shield's, or a stored response freshened by a `304` (RFC 9111 §4.3.4: the stored
/// response is served, `stored_by` names its author). Each alone is enough; a forwarded
/// answer from both tiers, with no stored author, is not.
#[test]
fn an_answer_is_from_a_cache_when_any_tier_served_a_stored_response() {
    let a = |o, s, by| answer(allowed(), o, s, by).served_from_cache();
    assert!(!a(Outcome::Miss, None, None));
    assert!(!a(Outcome::Miss, Some(Outcome::Miss), None));
    assert!(!a(Outcome::Pass, Some(Outcome::Pass), None));
    assert!(a(Outcome::Hit, None, None));
    assert!(
        a(Outcome::Miss, Some(Outcome::Hit), None),
        "the shield's hit"
    );
    assert!(
        a(Outcome::Miss, Some(Outcome::Stale), None),
        "the shield's stale"
    );
    assert!(
        a(Outcome::Miss, None, Some(3)),
        "a revalidated stored response"
    );
}

/// The in-process edge hands forwarded answers through unaltered: when every request
/// of a fetch that was not redirected went through the edge and none was served from a
/// cache, the no-cache run would send the same requests and get the same answers, so
/// its verdict is the fetch's own — nothing is asked of the driver (neither a
/// remembered verdict nor the origin).
#[test]
fn an_all_forwarded_fetch_is_its_own_counterfactual() {
    let sc = scenario();
    let (st, cl) = (&sc.steps[0], &sc.clients[0]);
    let mut inst = Instance::new(Browser::new(cl.agent));
    let mut run = StepRun::new(0, st, cl, &mut inst, sc.fetch(st), 0);
    run.reuse_forwarded();
    assert!(matches!(run.poll(), Next::Edge { .. }));
    run.on_edge(answer(allowed(), Outcome::Miss, None, None));
    assert!(matches!(run.poll(), Next::Done), "nothing more to ask");
    let (r, _) = run.finish(&sc.edge.knobs);
    assert!(r.verdict.allowed && r.direct.allowed && !r.cache_induced);
    assert_eq!(
        r.served_by,
        ServedBy::Origin,
        "a miss is the origin's answer"
    );

    // a hit at the edge: the counterfactual is needed (a remembered verdict first)
    let mut inst = Instance::new(Browser::new(cl.agent));
    let mut run = StepRun::new(0, st, cl, &mut inst, sc.fetch(st), 0);
    run.reuse_forwarded();
    run.on_edge(answer(allowed(), Outcome::Hit, None, Some(0)));
    assert!(matches!(run.poll(), Next::Remembered { .. }));
    run.remembered(None);
    let Next::Origin { request, .. } = run.poll() else {
        panic!("the hit's request goes to the origin")
    };
    assert_eq!(request.target, "/api/items");
    run.on_origin(allowed(), 10);
    assert!(matches!(run.poll(), Next::Done));
    assert!(!run.direct_redirected(), "no redirect followed");
    let (r, _) = run.finish(&sc.edge.knobs);
    assert!(r.verdict.allowed && r.direct.allowed && !r.cache_induced);
    assert_eq!(r.served_by, ServedBy::Edge, "a hit is served by the edge");
}

/// A redirected fetch's counterfactual is run from the browser as it was before the
/// step (Fetch §4.4: each hop depends on the origin's answers): the driver is asked for
/// a remembered verdict under its first request — here a CORS GET, which needs no
/// preflight (Fetch §4.8: a safelisted method without non-safelisted headers), so
/// `preflight` is false — then every hop goes to the origin, and the run says it was
/// redirected (so the driver does not remember it under that first request).
#[test]
fn a_redirected_fetch_starts_its_counterfactual_with_its_first_request() {
    let sc = scenario();
    let (st, cl) = (&sc.steps[0], &sc.clients[0]);
    let acao = ("access-control-allow-origin", "https://app1.example.com");
    let moved = resp(302, &[acao, ("location", "/api/other")]);
    let mut inst = Instance::new(Browser::new(cl.agent));
    let mut run = StepRun::new(0, st, cl, &mut inst, sc.fetch(st), 0);
    run.on_edge(answer(moved.clone(), Outcome::Miss, None, None));
    run.on_edge(answer(allowed(), Outcome::Hit, None, Some(0)));
    match run.poll() {
        Next::Remembered {
            preflight, request, ..
        } => {
            assert!(!preflight, "a simple GET starts without a preflight");
            assert_eq!(
                (request.method.as_str(), request.target.as_str()),
                ("GET", "/api/items")
            );
        }
        other => panic!("expected Remembered, got {other:?}"),
    }
    run.remembered(None);
    let Next::Origin { request, at } = run.poll() else {
        panic!("the first hop goes to the origin")
    };
    // sent when the step starts; the next hop when the first answer came, 10 ms later
    assert_eq!(
        (request.target.as_str(), at.ms_since(SIM_EPOCH)),
        ("/api/items", 0)
    );
    run.on_origin(moved, 10);
    let Next::Origin { request, at } = run.poll() else {
        panic!("the redirect is followed at the origin too")
    };
    assert_eq!(
        (request.target.as_str(), at.ms_since(SIM_EPOCH)),
        ("/api/other", 10)
    );
    run.on_origin(allowed(), 10);
    assert!(matches!(run.poll(), Next::Done));
    assert!(run.direct_redirected());
    let (r, _) = run.finish(&sc.edge.knobs);
    assert!(r.verdict.allowed && r.direct.allowed);
}

/// With an edge that hands forwarded answers through unaltered, each forwarded answer
/// stands in for the origin's answer to the same request in the same position: a
/// redirected fetch whose two hops were both forwarded needs no origin exchange at all
/// (the second hop's answer is matched to the second request, not the first).
#[test]
fn forwarded_hops_stand_in_for_the_origin_position_by_position() {
    let sc = scenario();
    let (st, cl) = (&sc.steps[0], &sc.clients[0]);
    let acao = ("access-control-allow-origin", "https://app1.example.com");
    let mut inst = Instance::new(Browser::new(cl.agent));
    let mut run = StepRun::new(0, st, cl, &mut inst, sc.fetch(st), 0);
    run.reuse_forwarded();
    run.on_edge(answer(
        resp(302, &[acao, ("location", "/api/other")]),
        Outcome::Miss,
        None,
        None,
    ));
    run.on_edge(answer(allowed(), Outcome::Miss, None, None));
    assert!(matches!(run.poll(), Next::Remembered { .. }));
    run.remembered(None);
    assert!(matches!(run.poll(), Next::Done), "both hops reused");
    assert!(run.direct_redirected());
    let (r, _) = run.finish(&sc.edge.knobs);
    assert!(r.verdict.allowed && r.direct.allowed && !r.cache_induced);
}

/// A redirect hop through the edge, then the final response from the browser's own HTTP
/// cache (a private cache, RFC 9111 §1; the redirect is followed, Fetch §4.4): the
/// response that decided the step is the browser's, so the step is served by the
/// browser, not by the edge's forwarded redirect.
#[test]
fn a_redirect_ending_in_the_browser_cache_is_served_by_the_browser() {
    let sc = scenario();
    let cl = &sc.clients[0];
    let acao = ("access-control-allow-origin", "https://app1.example.com");
    let mut inst = Instance::new(Browser::new(cl.agent));
    // step 1 stores /api/other in the browser's HTTP cache
    let st = &sc.steps[1];
    let mut run = StepRun::new(1, st, cl, &mut inst, sc.fetch(st), 0);
    let stored = resp(200, &[acao, ("cache-control", "max-age=600")]);
    run.on_edge(answer(stored, Outcome::Miss, None, None));
    while !matches!(run.poll(), Next::Done) {
        run.remembered(Some(crate::browser::Verdict::ok()));
    }
    drop(run.finish(&sc.edge.knobs));
    // step 0: /api/items redirects (through the edge) to /api/other, which the browser
    // then answers from its cache
    let st = &sc.steps[0];
    let mut run = StepRun::new(0, st, cl, &mut inst, sc.fetch(st), 1000);
    let moved = resp(302, &[acao, ("location", "/api/other")]);
    run.on_edge(answer(moved, Outcome::Miss, None, None));
    while !matches!(run.poll(), Next::Done) {
        assert!(
            !matches!(run.poll(), Next::Edge { .. }),
            "/api/other is not sent"
        );
        run.remembered(Some(crate::browser::Verdict::ok()));
    }
    let (r, _) = run.finish(&sc.edge.knobs);
    assert!(r.verdict.allowed);
    assert_eq!(r.served_by, ServedBy::Browser);
}

/// PRODUCT.md "The key definition": the step is cache-induced when the verdict on what
/// the edge delivered and the no-cache verdict differ — blocked both times, but for a
/// different reason (another origin's stored `Access-Control-Allow-Origin` where the
/// origin alone sends none) still differs, and the storing step is named.
#[test]
fn blocked_both_ways_for_different_reasons_is_cache_induced() {
    let sc = scenario();
    let (st, cl) = (&sc.steps[0], &sc.clients[0]);
    let mut inst = Instance::new(Browser::new(cl.agent));
    let mut run = StepRun::new(0, st, cl, &mut inst, sc.fetch(st), 0);
    let other = resp(
        200,
        &[("access-control-allow-origin", "https://other.example")],
    );
    run.on_edge(answer(other, Outcome::Hit, None, Some(4)));
    run.remembered(None);
    assert!(matches!(run.poll(), Next::Origin { .. }));
    run.on_origin(resp(200, &[]), 10);
    let (r, _) = run.finish(&sc.edge.knobs);
    assert!(!r.verdict.allowed && !r.direct.allowed);
    assert_eq!(r.verdict.reason, Reason::OriginMismatch);
    assert_eq!(r.direct.reason, Reason::MissingAllowOrigin);
    assert!(r.cache_induced);
    assert_eq!(r.poisoned_by, Some(4));

    // the same reason both ways is a plain misconfiguration, not cache-induced
    let mut inst = Instance::new(Browser::new(cl.agent));
    let mut run = StepRun::new(0, st, cl, &mut inst, sc.fetch(st), 0);
    run.on_edge(answer(resp(200, &[]), Outcome::Hit, None, Some(4)));
    run.remembered(None);
    run.on_origin(resp(200, &[]), 10);
    let (r, _) = run.finish(&sc.edge.knobs);
    assert!(!r.verdict.allowed && !r.cache_induced && r.poisoned_by.is_none());
}

/// The report names the step's request and URL, and one line per exchange through the
/// edge in order, each with its leg: the CORS-preflight (Fetch §4.8, an `OPTIONS` before
/// a `PUT`, a method that is not CORS-safelisted) and the actual request.
#[test]
fn the_report_lists_each_exchange_with_its_leg() {
    let sc = scenario();
    let (st, cl) = (&sc.steps[0], &sc.clients[0]);
    let mut f = sc.fetch(st);
    f.method = "PUT".into();
    let mut inst = Instance::new(Browser::new(cl.agent));
    let mut run = StepRun::new(0, st, cl, &mut inst, f, 0);
    run.reuse_forwarded();
    let Next::Edge { request, .. } = run.poll() else {
        panic!("the preflight goes through the edge")
    };
    assert_eq!(request.method, "OPTIONS");
    let acao = ("access-control-allow-origin", "https://app1.example.com");
    let pre = resp(204, &[acao, ("access-control-allow-methods", "PUT")]);
    run.on_edge(answer(pre, Outcome::Miss, None, None));
    run.on_edge(answer(allowed(), Outcome::Miss, None, None));
    assert!(matches!(run.poll(), Next::Done));
    let (r, _) = run.finish(&sc.edge.knobs);
    assert!(r.verdict.allowed);
    assert_eq!(
        &*r.request, "GET /api/items",
        "the step's own request, as written"
    );
    assert_eq!(&*r.url, "https://api.example.com/api/items");
    let hops: Vec<(&str, &str, u16)> = r
        .hops
        .iter()
        .map(|h| (h.leg, &*h.request, h.status))
        .collect();
    assert_eq!(
        hops,
        [
            ("preflight", "OPTIONS /api/items", 204),
            ("actual", "PUT /api/items", 200)
        ]
    );
}

/// PRODUCT.md "The key definition" with the in-process edge (`reuse_forwarded`): the
/// first hop's redirect is served from the edge's cache (stored by step 2), the hop it
/// points to is forwarded and allowed; the origin alone answers the first request
/// itself, without `Access-Control-Allow-Origin`. The verdicts differ because of the
/// cached redirect: cache-induced, and wrongly allowed.
///
/// Found by the surviving mutant `flow/mod.rs:543:36` (`&&` → `||` in `attribute`):
/// `attribute` looked for a stored response only in the deciding exchange and the
/// preflight, so an earlier redirect hop served from the cache was not counted and the
/// report said `cache_induced: false, wrongly_allowed: false`.
#[test]
fn a_cached_redirect_that_changes_the_verdict_is_cache_induced() {
    let sc = scenario();
    let (st, cl) = (&sc.steps[0], &sc.clients[0]);
    let acao = ("access-control-allow-origin", "https://app1.example.com");
    let mut inst = Instance::new(Browser::new(cl.agent));
    let mut run = StepRun::new(0, st, cl, &mut inst, sc.fetch(st), 0);
    run.reuse_forwarded();
    let moved = resp(302, &[acao, ("location", "/api/other")]);
    run.on_edge(answer(moved, Outcome::Hit, None, Some(2)));
    run.on_edge(answer(allowed(), Outcome::Miss, None, None));
    run.remembered(None);
    let Next::Origin { request, .. } = run.poll() else {
        panic!("the cached hop's request goes to the origin")
    };
    assert_eq!(request.target, "/api/items");
    run.on_origin(resp(200, &[]), 10);
    assert!(matches!(run.poll(), Next::Done));
    let (r, _) = run.finish(&sc.edge.knobs);
    assert!(r.verdict.allowed && !r.direct.allowed);
    assert!(r.cache_induced && r.wrongly_allowed, "{r:?}");
}

/// A client's `cookie:` (default `session=1`) is in its browser's jar before the first
/// step, for the hosts its steps call: a client with no step, in a browser of its own,
/// starts with an empty jar. Clients with the same `user:` share one browser.
#[test]
fn a_clients_cookie_is_in_its_browsers_jar_from_the_start() {
    let text = "origin:
  routes: [{ path: /api/*, cache_control: \"max-age=60\" }]
clients:
  - { name: a, origin: https://app1.example.com, cookie: \"s=1\", user: u1 }
  - { name: b, origin: https://app1.example.com, user: u2 }
  - { name: c, origin: https://app2.example.com, user: u1 }
steps:
  - { client: a, fetch: GET /api/items }
";
    let sc = parse("t.yaml", text).unwrap();
    let (browsers, user_of) = crate::flow::browsers_of(&sc);
    assert_eq!(user_of, [0, 1, 0]);
    assert_eq!(browsers.len(), 2);
    assert!(!browsers[0].jar.is_empty(), "a's cookie is preset");
    assert!(browsers[1].jar.is_empty(), "b calls no host");
}
