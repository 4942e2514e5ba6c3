//! The decision API driven with canned responses: no simulator, no network. The test
//! plays the driver: it keeps the store (a [`VariantSet`]) and the in-flight fetch
//! itself, as the proxy does, and asks the core at every turn.

use super::*;
use crate::edge::cors::EdgeCors;
use crate::edge::{primary_key, Cache, StoreResult};
use crate::time::SIM_EPOCH;

fn get(origin: &str) -> Request {
    Request::fixture("GET", "api", "/d", &[("origin", origin)])
}

fn canned(cc: &str, acao: &str) -> Arc<Response> {
    Arc::new(Response::new(
        200,
        Headers::from_pairs([
            ("cache-control", cc),
            ("access-control-allow-origin", acao),
            ("etag", "\"v1\""),
        ]),
    ))
}

/// The driver's side of one decision: the primary key and the decision on `set`.
fn ask(k: &Knobs, set: &VariantSet, req: &Request, at: Timestamp) -> Decision {
    decide(k, primary_key(k, req), Some(set), req, at)
}

fn forward_of(d: Decision) -> ForwardPlan {
    match d {
        Decision::Forward(p) => p,
        other => panic!("expected a forward, got {other:?}"),
    }
}

fn serve_of(d: Decision) -> Serve {
    match d {
        Decision::Serve(s) => s,
        other => panic!("expected a stored response, got {other:?}"),
    }
}

#[test]
fn miss_forwards_and_stores_then_the_next_request_is_served_from_store() {
    let k = Knobs::rfc9111();
    let mut set = VariantSet::default();
    let a = get("https://a");
    let plan = forward_of(ask(&k, &set, &a, SIM_EPOCH));
    assert_eq!(
        (plan.fwd, plan.pass, plan.outcome()),
        (Fwd::UriMiss, false, Outcome::Miss)
    );
    assert!(plan.candidate.is_none());
    assert!(matches!(plan.request(&a), Cow::Borrowed(_)));
    let resp = canned("max-age=60", "https://a");
    assert!(matches!(
        plan.complete(&k, Some(&resp), SIM_EPOCH),
        Completion::Relay
    ));
    let v = match plan.offer(&k, &a, resp.clone(), SIM_EPOCH, 7) {
        Some(Ok(v)) => v,
        other => panic!("not offered for storage: {other:?}"),
    };
    set.insert(v, k.max_variants);
    let s = serve_of(ask(&k, &set, &a, SIM_EPOCH.plus_secs(10)));
    assert_eq!(s.outcome, Outcome::Hit);
    assert_eq!(
        (s.served.tag, s.served.age_secs, s.served.ttl_secs),
        (7, 10, 50)
    );
    assert!(Arc::ptr_eq(&s.served.response, &resp));
    assert!(s.refresh.is_none());
}

#[test]
fn a_pass_is_forwarded_never_stored() {
    let k = crate::profile::profile("varnish").unwrap().knobs;
    let mut r = get("https://a");
    r.headers.append("cookie", "s=1");
    let plan = forward_of(ask(&k, &VariantSet::default(), &r, SIM_EPOCH));
    assert_eq!(
        (plan.fwd, plan.pass, plan.outcome()),
        (Fwd::Request, true, Outcome::Pass)
    );
    assert!(plan
        .offer(&k, &r, canned("max-age=60", "*"), SIM_EPOCH, 0)
        .is_none());
}

#[test]
fn stale_entry_is_served_with_a_background_refresh_effect() {
    let k = Knobs::rfc9111();
    let mut set = VariantSet::default();
    let a = get("https://a");
    let old = canned("max-age=10, stale-while-revalidate=30", "https://a");
    let v = make_variant(&k, &a, old.clone(), SIM_EPOCH, 1).unwrap();
    set.insert(v, None);
    let at = SIM_EPOCH.plus_secs(15);
    let s = serve_of(ask(&k, &set, &a, at));
    assert_eq!(s.outcome, Outcome::Stale);
    assert!(Arc::ptr_eq(&s.served.response, &old));
    assert_eq!(s.served.ttl_secs, -5);
    // the effect: a plain forward for the same key whose answer is offered for storage
    let refresh = s.refresh.expect("a stale serve carries its refresh");
    assert_eq!((refresh.fwd, refresh.pass), (Fwd::Stale, false));
    assert_eq!(refresh.key, primary_key(&k, &a));
    let new = canned("max-age=10, stale-while-revalidate=30", "https://a");
    match refresh.offer(&k, &a, new.clone(), at, 2) {
        Some(Ok(v)) => set.insert(v, None),
        other => panic!("refresh not stored: {other:?}"),
    };
    let s = serve_of(ask(&k, &set, &a, at.plus_secs(1)));
    assert_eq!((s.outcome, s.served.tag), (Outcome::Hit, 2));
    // past stale-while-revalidate: a forward that revalidates the stored response
    let plan = forward_of(ask(&k, &set, &a, at.plus_secs(60)));
    assert_eq!(plan.fwd, Fwd::Stale);
    assert!(plan.validate);
    assert_eq!(
        plan.request(&a).headers.get("if-none-match"),
        Some("\"v1\"")
    );
    let nm = Response::new(304, Headers::from_pairs([("etag", "\"v1\"")]));
    assert!(matches!(
        plan.complete(&k, Some(&nm), at.plus_secs(60)),
        Completion::Freshened(_)
    ));
}

#[test]
fn two_concurrent_misses_make_one_forward_and_one_wait() {
    let mut k = Knobs::rfc9111();
    k.collapse = Collapse::On;
    let set = VariantSet::default();
    let a = get("https://a");
    // both arrive before anything is stored: both may join; the driver's in-flight
    // table makes the first the leader and the second a waiter
    let first = forward_of(ask(&k, &set, &a, SIM_EPOCH));
    let second = forward_of(ask(&k, &set, &a, SIM_EPOCH.plus_ms(5)));
    assert!(first.join && second.join);
    assert_eq!(first.key, second.key);
    let resp = canned("max-age=60", "https://a");
    let stored = first
        .offer(&k, &a, resp.clone(), SIM_EPOCH.plus_ms(100), 3)
        .and_then(Result::ok);
    let s = share(&k, &second.key, &resp, stored.as_ref(), 3, &a).expect("the waiter shares");
    assert_eq!(
        (s.outcome, s.served.tag, s.served.ttl_secs),
        (Outcome::Collapsed, 3, 60)
    );
    // with `on`, a waiter whose Vary does not match fetches for itself
    let vary = Arc::new(Response::new(
        200,
        Headers::from_pairs([("cache-control", "max-age=60"), ("vary", "Origin")]),
    ));
    let v = make_variant(&k, &a, vary.clone(), SIM_EPOCH, 3).ok();
    assert!(share(&k, &second.key, &vary, v.as_ref(), 3, &get("https://b")).is_none());
    // the core's own virtual-time table does the same for the simulator
    let mut c = Cache::new(Arc::new(k));
    assert!(matches!(c.decide(&a, SIM_EPOCH), Decision::Forward(_)));
    c.store(&a, resp, SIM_EPOCH, SIM_EPOCH.plus_ms(100), 3);
    let s = serve_of(c.decide(&a, SIM_EPOCH.plus_ms(5)));
    assert_eq!(s.outcome, Outcome::Collapsed);
}

#[test]
fn only_if_cached_without_a_stored_response_is_a_504() {
    let k = Knobs::rfc9111();
    let mut r = get("https://a");
    r.headers.append("cache-control", "only-if-cached");
    assert!(matches!(
        ask(&k, &VariantSet::default(), &r, SIM_EPOCH),
        Decision::OnlyIfCached { .. }
    ));
    assert_eq!(gateway_timeout().status, 504);
}

#[test]
fn edge_cors_is_applied_to_what_the_viewer_gets() {
    let mut k = Knobs::rfc9111();
    let stored = canned("max-age=60", "https://a");
    // without edge_cors the response is handed on untouched
    assert!(Arc::ptr_eq(
        &to_viewer(&k, &get("https://b"), stored.clone()),
        &stored
    ));
    k.edge_cors = Some(EdgeCors {
        allow_origins: vec!["https://a".into(), "https://b".into()],
        allow_origin_patterns: Vec::new(),
        allow_methods: vec!["GET".into()],
        allow_headers: vec![],
        expose_headers: vec![],
        allow_credentials: false,
        max_age: None,
        origin_override: true,
        hide_origin_acao: false,
    });
    let out = to_viewer(&k, &get("https://b"), stored.clone());
    assert_eq!(
        out.headers.get("access-control-allow-origin"),
        Some("https://b")
    );
    assert_eq!(out.headers.get("vary"), Some("Origin"));
    // the stored response itself is not rewritten
    assert_eq!(
        stored.headers.get("access-control-allow-origin"),
        Some("https://a")
    );
}

/// Varnish's builtin VCL passes a request with a `Cookie` (`return (pass)` in
/// `vcl_recv`), and a pass never waits on the busy object of a fetch in flight for the
/// same hash: request coalescing applies only to lookups. So with collapsing on, a
/// passed request arriving while a miss is being fetched is forwarded on its own.
#[test]
fn a_passed_request_never_joins_a_fetch_in_flight() {
    let mut k = Knobs::rfc9111();
    k.collapse = Collapse::On;
    k.pass_cookie = true;
    let mut c = Cache::new(Arc::new(k));
    let a = get("https://a");
    assert!(matches!(c.decide(&a, SIM_EPOCH), Decision::Forward(_)));
    c.store(
        &a,
        canned("max-age=60", "https://a"),
        SIM_EPOCH,
        SIM_EPOCH.plus_ms(100),
        3,
    );
    let mut with_cookie = get("https://a");
    with_cookie.headers.append("cookie", "s=1");
    let plan = forward_of(c.decide(&with_cookie, SIM_EPOCH.plus_ms(5)));
    assert!(plan.pass && !plan.join);
    // a plain lookup in the same window still joins
    let s = serve_of(c.decide(&a, SIM_EPOCH.plus_ms(5)));
    assert_eq!(s.outcome, Outcome::Collapsed);
}

/// What a cache holds, as `fix` and the explorer's stats read it: nothing at first; then
/// the stored variants' bytes (each response plus 64 bytes of bookkeeping).
#[test]
fn a_cache_reports_what_it_holds() {
    let k = Arc::new(Knobs::rfc9111());
    let mut c = Cache::new(k.clone());
    assert!(c.is_empty());
    assert_eq!((c.len(), c.byte_size()), ((0, 0), 0));
    let resp = canned("max-age=60", "https://a");
    let a = get("https://a");
    c.store(&a, resp.clone(), SIM_EPOCH, SIM_EPOCH, 1);
    assert!(!c.is_empty());
    assert_eq!(c.len(), (1, 1));
    assert_eq!(c.byte_size(), resp.byte_size() + 64);
}

/// RFC 9111 §5.2.1.1: with request `max-age=N` the client accepts a stored response
/// whose age is at most N seconds ("less than or equal to"); one second older is a miss.
#[test]
fn request_max_age_accepts_an_age_up_to_and_including_n() {
    let k = Knobs::rfc9111();
    let a = get("https://a");
    let mut set = VariantSet::default();
    set.insert(
        make_variant(&k, &a, canned("max-age=600", "https://a"), SIM_EPOCH, 1).unwrap(),
        None,
    );
    let mut r = get("https://a");
    r.headers.append("cache-control", "max-age=5");
    for (age, hit) in [(3, true), (5, true), (6, false)] {
        let d = ask(&k, &set, &r, SIM_EPOCH.plus_secs(age));
        assert_eq!(matches!(d, Decision::Serve(_)), hit, "age {age} s: {d:?}");
    }
}

/// A request `max-age=0` is forwarded even to an entry of age 0 (which RFC 9111 §5.2.1.1
/// would serve; Squid's src/refresh.cc refreshCheck does `age > maxAge || maxAge == 0`, and
/// the simulator's clock makes ages of exactly 0) by every cache that reads request
/// `Cache-Control`; Varnish ignores it.
#[test]
fn max_age_zero_is_forwarded_at_any_age_where_request_directives_count() {
    let squid = crate::profile::profile("squid").unwrap().knobs;
    let varnish = crate::profile::profile("varnish").unwrap().knobs;
    let rfc = Knobs::rfc9111();
    let mut r = get("https://a");
    r.headers.append("cache-control", "max-age=0");
    for (k, hit) in [(&rfc, false), (&squid, false), (&varnish, true)] {
        let mut set = VariantSet::default();
        let v = make_variant(
            k,
            &get("https://a"),
            canned("max-age=600", "*"),
            SIM_EPOCH,
            1,
        );
        set.insert(v.unwrap(), None);
        let d = ask(k, &set, &r, SIM_EPOCH);
        assert_eq!(matches!(d, Decision::Serve(_)), hit, "{d:?}");
        if !hit {
            assert_eq!(forward_of(d).fwd, Fwd::Request);
        }
        // max-age=1 at age 0 is served by both
        let mut one = get("https://a");
        one.headers.append("cache-control", "max-age=1");
        assert!(matches!(ask(k, &set, &one, SIM_EPOCH), Decision::Serve(_)));
    }
}

/// nginx (proxy_cache_convert_head) and Varnish (cache_fetch.c vbf_stp_mkbereq) fetch a
/// HEAD miss as GET and store the answer: the plan sends GET, the simulator's cache
/// stores it, and a later GET is a hit. RFC 9111 forwards the HEAD and stores nothing.
#[test]
fn a_head_miss_is_fetched_as_get_and_stored_where_the_profile_says() {
    for (name, as_get) in [
        ("nginx", true),
        ("varnish", true),
        ("rfc9111", false),
        ("squid", false),
    ] {
        let k = crate::profile::profile(name).unwrap().knobs;
        let mut c = Cache::new(Arc::new(k));
        let head = Request::fixture("HEAD", "api", "/d", &[]);
        let plan = forward_of(c.decide(&head, SIM_EPOCH));
        assert_eq!(plan.as_get, as_get, "{name}");
        assert_eq!(
            plan.request(&head).method,
            if as_get { "GET" } else { "HEAD" },
            "{name}"
        );
        let stored = c.store(&head, canned("max-age=60", "*"), SIM_EPOCH, SIM_EPOCH, 1);
        assert_eq!(
            matches!(stored, StoreResult::Stored { .. }),
            as_get,
            "{name}: {stored:?}"
        );
        let get = Request::fixture("GET", "api", "/d", &[]);
        let d = c.decide(&get, SIM_EPOCH.plus_secs(1));
        assert_eq!(matches!(d, Decision::Serve(_)), as_get, "{name}");
    }
    // a pass stays a pass, in its own method
    let k = crate::profile::profile("varnish").unwrap().knobs;
    let head = Request::fixture("HEAD", "api", "/d", &[("cookie", "s=1")]);
    let plan = forward_of(decide(&k, primary_key(&k, &head), None, &head, SIM_EPOCH));
    assert!(plan.pass && !plan.as_get);
    // the proxy's path (ForwardPlan::offer) keeps refusing a HEAD answer: it forwards HEAD
    let head = Request::fixture("HEAD", "api", "/d", &[]);
    let plan = forward_of(decide(&k, primary_key(&k, &head), None, &head, SIM_EPOCH));
    let offered = plan.offer(&k, &head, canned("max-age=60", "*"), SIM_EPOCH, 1);
    assert!(matches!(offered, Some(Err(NoStore::Method))), "{offered:?}");
}
