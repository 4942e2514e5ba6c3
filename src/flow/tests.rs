//! [`StepRun`] scripted by hand: canned answers, no simulator, no network.

use super::*;
use crate::browser::Reason;
use crate::fields::Headers;
use crate::scenario::{parse, Scenario};

const SC: &str = "origin:
  cors: { allow_origins: [https://app1.example.com, https://app2.example.com], allow_methods: [GET, PUT], allow_headers: [content-type] }
  routes: [{ path: /api/items, cache_control: \"no-store\" }]
edge: { profile: cloudfront-cors-s3 }
clients:
  - { name: app1, origin: https://app1.example.com }
  - { name: app2, origin: https://app2.example.com }
steps:
  - { client: app1, fetch: PUT /api/items, headers: { content-type: application/json } }
  - client: app2
    at: +1s
    fetch: PUT /api/items
    headers: { content-type: application/json }
    expect: { cors: blocked, reason: origin-mismatch, preflight: sent, cache: hit, cache_induced: true, poisoned_by: 0 }
";

fn scenario() -> Scenario {
    parse("t.yaml", SC).unwrap()
}

/// A CORS answer allowing `origin` (a preflight's when `preflight`).
fn allowing(origin: &str, preflight: bool) -> Arc<Response> {
    let mut pairs = vec![("access-control-allow-origin", origin)];
    if preflight {
        pairs.push(("access-control-allow-methods", "GET, PUT"));
        pairs.push(("access-control-allow-headers", "content-type"));
    }
    Arc::new(Response::new(
        if preflight { 204 } else { 200 },
        Headers::from_pairs(pairs),
    ))
}

fn answer(resp: Arc<Response>, outcome: Outcome, stored_by: Option<usize>) -> EdgeAnswer {
    EdgeAnswer {
        response: resp,
        outcome,
        shield: None,
        key: Arc::from("OPTIONS https://api.example.com/api/items"),
        stored_by,
        elapsed_ms: if outcome.from_cache() { 0 } else { 30 },
        stored: None,
    }
}

/// What the run asks for, as (kind, method, ms after the scenario epoch).
fn asked(run: &StepRun<'_>) -> (&'static str, String, u64) {
    let ms = |t: Timestamp| t.ms_since(SIM_EPOCH);
    match run.poll() {
        Next::Edge { request, at } => ("edge", request.method.clone(), ms(at)),
        Next::Remembered { request, .. } => ("remembered", request.method.clone(), 0),
        Next::Origin { request, at } => ("origin", request.method.clone(), ms(at)),
        Next::Done => ("done", String::new(), 0),
    }
}

/// app2's preflight is answered from the cache with app1's stored preflight (step 0):
/// blocked at the edge, allowed by the origin alone, so cache-induced and poisoned by 0.
#[test]
fn served_preflight_is_attributed_to_the_step_that_stored_it() {
    let sc = scenario();
    let st = &sc.steps[1];
    let mut browser = Instance::new(crate::browser::Browser::new(sc.clients[1].agent));
    let mut run = StepRun::new(1, st, &sc.clients[1], &mut browser, sc.fetch(st), 1000);

    assert_eq!(asked(&run), ("edge", "OPTIONS".into(), 1000));
    let poisoned = allowing("https://app1.example.com", true);
    run.on_edge(answer(poisoned, Outcome::Hit, Some(0)));
    // the preflight failed: no actual request at the edge; the counterfactual follows
    assert_eq!(asked(&run), ("remembered", "OPTIONS".into(), 0));
    run.remembered(None);
    assert_eq!(asked(&run), ("origin", "OPTIONS".into(), 1000));
    run.on_origin(allowing("https://app2.example.com", true), 30);
    assert_eq!(asked(&run), ("origin", "PUT".into(), 1030));
    run.on_origin(allowing("https://app2.example.com", false), 30);
    assert_eq!(asked(&run).0, "done");

    let (r, f) = run.finish(&sc.edge.knobs);
    assert_eq!(f.method, "PUT");
    assert!(!r.verdict.allowed && r.verdict.in_preflight);
    assert_eq!(r.verdict.reason, Reason::OriginMismatch);
    assert!(r.direct.allowed, "{:?}", r.direct);
    assert!(r.cache_induced && !r.wrongly_allowed);
    assert_eq!(r.poisoned_by, Some(0));
    assert_eq!(r.preflight, PreflightUse::Sent);
    assert_eq!(r.preflight_cache, Some(Outcome::Hit));
    assert_eq!((r.cache, r.status), (Outcome::Hit, 204));
    assert_eq!(r.expectation, Expectation::Met);
    assert!(r.fix.is_some());
    // the real browser did not cache the failed preflight: a rerun preflights again
    let again = StepRun::new(1, st, &sc.clients[1], &mut browser, sc.fetch(st), 2000);
    assert_eq!(asked(&again), ("edge", "OPTIONS".into(), 2000));
}

/// A step started from its step and client runs the step's fetch whatever the buffers
/// it is handed hold, and fills its own copy (the counterfactual's) when it needs one:
/// the same questions, the same report and the same fetch back as a step started with
/// the fetch built.
#[test]
fn a_step_run_from_its_step_fills_its_own_fetch_when_needed() {
    let sc = scenario();
    let st = &sc.steps[1];
    let built = sc.fetch(st);
    // buffers holding another fetch: app1's no-cors GET without headers
    let mut other = sc.fetch(&sc.steps[0]);
    other.method = "GET".into();
    other.headers = Headers::new();
    other.mode = crate::browser::Mode::NoCors;
    let drive = |mut run: StepRun<'_>| {
        let mut seen = vec![asked(&run)];
        run.on_edge(answer(
            allowing("https://app1.example.com", true),
            Outcome::Hit,
            Some(0),
        ));
        seen.push(asked(&run));
        let Next::Remembered { fetch, .. } = run.poll() else {
            panic!("expected a remembered-verdict request");
        };
        assert_eq!(*fetch, sc.fetch(st));
        assert_eq!(*run.fetch(), sc.fetch(st));
        run.remembered(None);
        seen.push(asked(&run));
        run.on_origin(allowing("https://app2.example.com", true), 30);
        seen.push(asked(&run));
        run.on_origin(allowing("https://app2.example.com", false), 30);
        seen.push(asked(&run));
        let (r, f) = run.finish(&sc.edge.knobs);
        (seen, format!("{r:?}"), f)
    };
    let mut a = Instance::new(crate::browser::Browser::new(sc.clients[1].agent));
    let mut b = a.clone();
    let mut c = a.clone();
    let new = drive(StepRun::new(
        1,
        st,
        &sc.clients[1],
        &mut a,
        built.clone(),
        1000,
    ));
    let spare = Some(other.clone());
    let from = drive(StepRun::from_step(
        1,
        st,
        &sc.clients[1],
        &mut b,
        other.clone(),
        1000,
        spare,
    ));
    assert_eq!(new.0[0], ("edge", "OPTIONS".into(), 1000));
    assert_eq!((&new.0, &new.1), (&from.0, &from.1));
    assert_eq!((new.2, from.2), (built.clone(), built.clone()));
    let (seen, _, _) = drive(StepRun::from_step(
        1,
        st,
        &sc.clients[1],
        &mut c,
        other,
        1000,
        None,
    ));
    assert_eq!(seen, new.0);
}

/// A step whose forwarded answers stand in for the origin's never needs its own copy of
/// the fetch: started from its step, it leaves the buffer it was handed as it was.
#[test]
fn a_step_run_from_its_step_fills_nothing_it_does_not_need() {
    let sc = scenario();
    let st = &sc.steps[1];
    let mut other = sc.fetch(&sc.steps[0]);
    other.method = "GET".into();
    let mut browser = Instance::new(crate::browser::Browser::new(sc.clients[1].agent));
    let mut run = StepRun::from_step(
        1,
        st,
        &sc.clients[1],
        &mut browser,
        other.clone(),
        1000,
        None,
    );
    run.reuse_forwarded();
    run.on_edge(answer(
        allowing("https://app2.example.com", true),
        Outcome::Miss,
        None,
    ));
    run.on_edge(answer(
        allowing("https://app2.example.com", false),
        Outcome::Miss,
        None,
    ));
    assert_eq!(asked(&run).0, "done");
    assert!(run.attribution().verdict.allowed);
    assert_eq!(run.take_fetch(), other);
}

/// The preflight is forwarded (its answer stands in for the origin's, so the origin is
/// asked only the actual request); the actual is a hit stored by step 7 for app1.
#[test]
fn forwarded_answers_stand_in_and_a_served_actual_is_attributed() {
    let sc = scenario();
    let st = &sc.steps[1];
    let mut browser = Instance::new(crate::browser::Browser::new(sc.clients[1].agent));
    let mut run = StepRun::new(1, st, &sc.clients[1], &mut browser, sc.fetch(st), 1000);
    run.reuse_forwarded();
    run.on_edge(answer(
        allowing("https://app2.example.com", true),
        Outcome::Miss,
        None,
    ));
    assert_eq!(asked(&run), ("edge", "PUT".into(), 1030));
    run.on_edge(answer(
        allowing("https://app1.example.com", false),
        Outcome::Hit,
        Some(7),
    ));
    assert_eq!(asked(&run).0, "remembered");
    run.remembered(None);
    assert_eq!(asked(&run), ("origin", "PUT".into(), 1030));
    run.on_origin(allowing("https://app2.example.com", false), 30);
    let (r, _) = run.finish(&sc.edge.knobs);
    assert!(!r.verdict.allowed && !r.verdict.in_preflight);
    assert!(r.cache_induced);
    assert_eq!(r.poisoned_by, Some(7));
    assert_eq!(r.preflight_cache, Some(Outcome::Miss));
    // the scenario expected step 0 to be the poisoner: only that expectation fails
    assert_eq!(
        r.expectation,
        Expectation::Unmet(vec!["poisoned_by: expected step 0, got step 7".into()])
    );
}

/// A cached answer that the origin would have given too is not cache-induced; a
/// remembered verdict skips the origin.
#[test]
fn same_verdict_from_cache_is_not_cache_induced() {
    let sc = scenario();
    let st = &sc.steps[0];
    let mut browser = Instance::new(crate::browser::Browser::new(sc.clients[0].agent));
    let mut run = StepRun::new(0, st, &sc.clients[0], &mut browser, sc.fetch(st), 0);
    let ok = allowing("https://app1.example.com", true);
    run.on_edge(answer(ok, Outcome::Stale, Some(3)));
    run.on_edge(answer(
        allowing("https://app1.example.com", false),
        Outcome::Hit,
        Some(3),
    ));
    let Next::Remembered { preflight, .. } = run.poll() else {
        panic!("expected a remembered-verdict request");
    };
    assert!(preflight);
    run.remembered(Some(Verdict::unchecked()));
    assert_eq!(asked(&run).0, "done");
    let (r, _) = run.finish(&sc.edge.knobs);
    assert!(r.verdict.allowed);
    // unchecked is allowed with reason ok: the same as the edge's verdict
    assert!(!r.cache_induced && r.poisoned_by.is_none(), "{r:?}");
}

/// A redirect answered at the edge: the run asks for the next hop, and the report lists
/// both hops; a failure on the hop is decided by the redirect's own answer.
#[test]
fn redirect_hops_go_through_the_edge_one_by_one() {
    let sc = scenario();
    let st = &sc.steps[0];
    let mut f = sc.fetch(st);
    f.method = "GET".into();
    f.headers = Headers::new();
    let mut browser = Instance::new(crate::browser::Browser::new(sc.clients[0].agent));
    let mut run = StepRun::new(0, st, &sc.clients[0], &mut browser, f, 0);
    assert_eq!(asked(&run), ("edge", "GET".into(), 0));
    let redirect = Arc::new(Response::new(
        302,
        Headers::from_pairs([
            ("location", "/api/items2"),
            ("access-control-allow-origin", "https://app1.example.com"),
        ]),
    ));
    run.on_edge(answer(redirect, Outcome::Miss, None));
    match run.poll() {
        Next::Edge { request, at } => {
            assert_eq!(request.target, "/api/items2");
            assert_eq!(at.ms_since(SIM_EPOCH), 30);
        }
        _ => panic!("the next hop goes through the edge"),
    }
    run.on_edge(answer(
        allowing("https://app1.example.com", false),
        Outcome::Miss,
        None,
    ));
    run.remembered(Some(crate::browser::Verdict::ok()));
    assert_eq!(asked(&run).0, "done");
    let (r, _) = run.finish(&sc.edge.knobs);
    assert!(r.verdict.allowed);
    assert_eq!(r.hops.len(), 2);
    assert_eq!(r.served_by, ServedBy::Origin);
}

/// The browser's HTTP cache answers: nothing goes to the edge, the report says so, and
/// the step that stored it is the poisoner when the origin alone would have allowed it.
#[test]
fn a_browser_cache_answer_sends_nothing_and_is_attributed() {
    let sc = scenario();
    let st = &sc.steps[0];
    let mut browser = Instance::new(crate::browser::Browser::new(sc.clients[0].agent));
    let mut get = sc.fetch(st);
    get.method = "GET".into();
    get.headers = Headers::new();
    get.mode = crate::browser::Mode::NoCors;
    // step 0: a no-cors GET stores an answer without ACAO in the browser's cache
    let mut run = StepRun::new(0, st, &sc.clients[0], &mut browser, get.clone(), 0);
    let stored = Arc::new(Response::new(
        200,
        Headers::from_pairs([("cache-control", "max-age=600")]),
    ));
    run.on_edge(answer(stored, Outcome::Miss, None));
    while !matches!(run.poll(), Next::Done) {
        run.remembered(Some(crate::browser::Verdict::unchecked()));
    }
    drop(run.finish(&sc.edge.knobs));
    // step 1: the CORS fetch of the same URL
    get.mode = crate::browser::Mode::Cors;
    let mut run = StepRun::new(1, st, &sc.clients[0], &mut browser, get, 1000);
    assert_eq!(asked(&run).0, "remembered", "nothing is sent to the edge");
    run.remembered(None);
    assert_eq!(asked(&run), ("origin", "GET".into(), 1000));
    run.on_origin(allowing("https://app1.example.com", false), 30);
    let (r, _) = run.finish(&sc.edge.knobs);
    assert!(!r.verdict.allowed && r.direct.allowed);
    assert_eq!(r.served_by, ServedBy::Browser);
    assert_eq!(r.cache, Outcome::NotSent);
    assert!(r.hops.is_empty());
    assert!(r.cache_induced);
    assert_eq!(r.poisoned_by, Some(0));
}

/// Report text is shared: the same parts give the same string, once; other parts, or the
/// same text split elsewhere, give their own text.
#[test]
fn report_text_is_shared_and_exact() {
    let mut t = ReportText::default();
    let a = t.join(&["GET", " ", "/a?x=1"]);
    let b = t.join(&["GET", " ", "/a?x=1"]);
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(&*a, "GET /a?x=1");
    assert_eq!(&*t.join(&["GET /a", "?x=1"]), "GET /a?x=1");
    assert_eq!(&*t.join(&["GET", " ", "/a?x=2"]), "GET /a?x=2");
    assert_eq!(&*t.join(&["GET", " ", "/a?x="]), "GET /a?x=");
    assert_eq!(&*t.join(&[]), "");
}

/// A trace repeats the same few strings over millions of steps: [`ReportText`] hands out
/// one shared copy of each (the same allocation each time), across other strings joined
/// in between.
#[test]
fn report_text_shares_one_copy_of_each_string() {
    let mut t = ReportText::default();
    let a = t.join(&["GET ", "/a"]);
    let b = t.join(&["GET ", "/b"]);
    let again = t.join(&["GET /", "a"]);
    assert_eq!(&*again, "GET /a");
    assert!(Arc::ptr_eq(&a, &again), "one copy of GET /a");
    assert!(!Arc::ptr_eq(&a, &b));
}

/// Requests are the same when they are one, or equal wherever they live.
#[test]
fn same_request_is_by_address_or_by_fields() {
    let a = Request::fixture(
        "GET",
        "api.example.com",
        "/d",
        &[("origin", "https://a.example")],
    );
    let copy = a.clone();
    let other = Request::fixture(
        "GET",
        "api.example.com",
        "/d",
        &[("origin", "https://b.example")],
    );
    assert!(same_request(&a, &a));
    assert!(same_request(&a, &copy));
    assert!(!same_request(&a, &other));
}

/// A step's request line and URL from the table of step texts are the joined parts,
/// shared with [`ReportText::join`]'s copy, for more distinct steps than the table has
/// slots (so slots are taken over and a step met again is checked against its parts).
#[test]
fn step_text_is_the_joined_text_whatever_the_slot() {
    let sc = scenario();
    let mut t = ReportText::default();
    let mut st = sc.steps[0].clone();
    for _ in 0..2 {
        for i in 0..3 * STEP_TEXT_SLOTS {
            st.method = ["GET", "PUT", "OPTIONS", "GE"][i % 4].into();
            st.scheme = if i % 7 == 0 { "http" } else { "https" }.into();
            st.host = format!("h{}.example", i % 5);
            st.target = format!(
                "{}/p{}?q={}",
                if i % 4 == 3 { "T " } else { "" },
                i / 3,
                i % 11
            );
            let (r, u) = t.step(&st);
            assert_eq!(*r, format!("{} {}", st.method, st.target));
            assert_eq!(*u, format!("{}://{}{}", st.scheme, st.host, st.target));
            assert!(Arc::ptr_eq(&r, &t.join(&[&st.method, " ", &st.target])));
            assert!(Arc::ptr_eq(
                &u,
                &t.join(&[&st.scheme, "://", &st.host, &st.target])
            ));
        }
    }
}

/// A hop's text is the step's own only when the hop goes to the step's URL (and, for the
/// request line, with the step's method): a preflight, or a redirect hop to another
/// scheme, host or target, gets the text of its own request line and URL.
#[test]
fn hop_text_is_the_steps_only_for_the_steps_url() {
    let sc = scenario();
    let mut t = ReportText::default();
    let st = sc.steps[0].clone();
    let (request, url) = t.step(&st);
    let text = StepText {
        step: &st,
        request,
        url,
    };
    let own = Request {
        method: st.method.clone(),
        scheme: st.scheme.clone(),
        host: st.host.clone(),
        target: st.target.clone(),
        headers: Headers::new(),
    };
    let with = |f: &dyn Fn(&mut Request)| {
        let mut r = own.clone();
        f(&mut r);
        r
    };
    let hops = [
        own.clone(),
        with(&|r| r.method = "OPTIONS".into()),
        with(&|r| r.scheme = "http".into()),
        with(&|r| r.host = "elsewhere.example".into()),
        with(&|r| r.target = "/moved".into()),
    ];
    for r in &hops {
        let (line, u) = text.of(r, &mut t);
        assert_eq!(*line, format!("{} {}", r.method, r.target));
        assert_eq!(*u, format!("{}://{}{}", r.scheme, r.host, r.target));
    }
}

/// Two steps with the same request line whose URLs differ only where the slot's hash does
/// not look (the host's letters, the scheme) share a slot: each gets its own URL.
#[test]
fn step_text_checks_both_texts_of_a_slot() {
    let sc = scenario();
    let mut t = ReportText::default();
    let mut st = sc.steps[0].clone();
    st.target = "/same".into();
    for (scheme, host) in [
        ("https", "a.example"),
        ("https", "b.example"),
        ("http", "b.example"),
        ("https", "a.example"),
    ] {
        st.scheme = scheme.into();
        st.host = host.into();
        let (r, u) = t.step(&st);
        assert_eq!(*r, format!("{} /same", st.method));
        assert_eq!(*u, format!("{scheme}://{host}/same"));
    }
}

/// `is_joined` compares a string with the concatenation of its parts.
#[test]
fn is_joined_is_concatenation() {
    assert!(is_joined("GET /a", &["GET", " ", "/a"]));
    assert!(is_joined("", &[]));
    assert!(!is_joined("GET /a", &["GE", " ", "/a"]));
    assert!(!is_joined("GET /ab", &["GET", " ", "/a"]));
    assert!(!is_joined("GET /a", &["GET", " ", "/ab"]));
}

/// [`StepRun::pending_request`] is the very request [`Next::Edge`] names (the same
/// shared allocation), at each request sent to the edge, and nothing while the run
/// asks for anything else.
#[test]
fn the_pending_request_is_the_one_the_edge_is_asked() {
    let same = |run: &StepRun<'_>| match (run.poll(), run.pending_request()) {
        (Next::Edge { request, .. }, Some(shared)) => std::ptr::eq(request, &**shared),
        (Next::Edge { .. }, None) => false,
        (_, p) => p.is_none(),
    };
    let sc = scenario();
    let st = &sc.steps[1];
    let mut browser = Instance::new(crate::browser::Browser::new(sc.clients[1].agent));
    let mut run = StepRun::new(1, st, &sc.clients[1], &mut browser, sc.fetch(st), 1000);
    run.reuse_forwarded();
    assert_eq!(asked(&run).0, "edge");
    assert!(same(&run));
    run.on_edge(answer(
        allowing("https://app2.example.com", true),
        Outcome::Miss,
        None,
    ));
    assert_eq!(asked(&run), ("edge", "PUT".into(), 1030));
    assert!(same(&run));
    run.on_edge(answer(
        allowing("https://app1.example.com", false),
        Outcome::Hit,
        Some(7),
    ));
    assert_ne!(asked(&run).0, "edge");
    assert!(same(&run));

    let mut browser = Instance::new(crate::browser::Browser::new(sc.clients[1].agent));
    let mut run = StepRun::new(1, st, &sc.clients[1], &mut browser, sc.fetch(st), 1000);
    run.on_edge(answer(
        allowing("https://app1.example.com", true),
        Outcome::Hit,
        Some(0),
    ));
    assert_eq!(asked(&run).0, "remembered");
    assert!(same(&run));
    run.remembered(None);
    assert_eq!(asked(&run).0, "origin");
    assert!(same(&run));
}
