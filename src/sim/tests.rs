use super::*;
use crate::browser::Reason;
use crate::scenario::{parse, ServedBy};

fn run(text: &str) -> Trace {
    replay(&parse("t.yaml", text).unwrap()).unwrap()
}

#[test]
fn product_example_replays_as_written() {
    let t = run(crate::scenario::tests_support::PRODUCT_EXAMPLE);
    assert!(
        t.passed(),
        "{:#?}",
        t.steps
            .iter()
            .map(|s| (&s.expectation, &s.verdict))
            .collect::<Vec<_>>()
    );
    assert_eq!(t.steps[1].poisoned_by, Some(0));
    assert_eq!(&*t.steps[1].key, "GET https://api.example.com/api/data");
    assert_eq!(t.summary.cache_induced, 1);
    assert_eq!(t.summary.blocked, 2);
    assert!(t.steps[1]
        .fix
        .as_deref()
        .unwrap_or("")
        .contains("Vary: Origin"));
}

const REFLECT: &str = "origin:
  cors: { allow_origins: [https://a.example, https://b.example], vary_origin: VARY }
  routes: [{ path: /d, cache_control: \"public, max-age=60\" }]
edge: { profile: PROFILE }
clients:
  - { name: a, origin: https://a.example }
  - { name: b, origin: https://b.example }
  - { name: curl, browser: none }
  - { name: a2, origin: https://a.example }
  - { name: a3, origin: https://a.example, http_cache: true }
steps:
  - { client: a, fetch: GET /d }
  - { client: b, fetch: GET /d }
  - { client: curl, fetch: GET /d }
  - { client: a2, fetch: GET /d }
  - { client: a3, fetch: GET /d }
  - { client: a3, fetch: GET /d }
";

fn reflect(profile: &str, vary: bool) -> Trace {
    run(&REFLECT
        .replace("PROFILE", profile)
        .replace("VARY", &vary.to_string()))
}

#[test]
fn vary_origin_fixes_honouring_caches_only() {
    for p in ["rfc9111", "varnish", "nginx", "squid", "ats", "fastly"] {
        let t = reflect(p, true);
        assert_eq!(t.summary.cache_induced, 0, "{p}");
        assert_eq!(t.steps[3].cache, Outcome::Hit, "{p}");
        // the same browser again: its own HTTP cache answers, nothing is sent
        assert_eq!(t.steps[5].cache, Outcome::NotSent, "{p}");
        assert_eq!(t.steps[5].served_by, ServedBy::Browser, "{p}");
        assert!(t.steps[5].hops.is_empty(), "{p}");
    }
    for p in ["url-only", "cloudfront-cors-custom", "azure-front-door"] {
        let t = reflect(p, true);
        assert_eq!(t.steps[1].verdict.reason, Reason::OriginMismatch, "{p}");
        assert_eq!(t.steps[1].poisoned_by, Some(0), "{p}");
    }
    // CachingOptimized alone: the origin never sees Origin, every CORS step fails, the
    // miss too (edge-induced, no poisoning step), the hits as served from step 0.
    let t = reflect("cloudfront", true);
    for i in [0, 1, 3] {
        assert_eq!(
            t.steps[i].verdict.reason,
            Reason::MissingAllowOrigin,
            "step {i}"
        );
        assert!(t.steps[i].cache_induced, "step {i}");
    }
    assert_eq!(t.steps[0].poisoned_by, None);
    let t = reflect("cloudflare", false);
    assert_eq!(t.summary.cache_induced, 0);
    let t = reflect("akamai", true);
    assert!(t.steps[..5].iter().all(|s| s.cache == Outcome::Miss));
}

#[test]
fn request_without_origin_first_poisons() {
    let t = run("origin:
  cors: { allow_origins: [https://a.example] }
  routes: [{ path: /d, cache_control: \"max-age=60\" }]
edge: { profile: varnish }
clients:
  - { name: curl, browser: none }
  - { name: a, origin: https://a.example }
steps:
  - { client: curl, fetch: GET /d, expect: { cors: ok, cache: miss } }
  - { client: a, fetch: GET /d, expect: { cors: blocked, reason: missing-allow-origin, cache: hit, cache_induced: true, poisoned_by: 0 } }
");
    assert!(t.passed(), "{:?}", t.steps[1].expectation);
}

#[test]
fn replay_is_deterministic() {
    let a = reflect("url-only", false);
    let b = reflect("url-only", false);
    let key = |t: &Trace| {
        t.steps
            .iter()
            .map(|s| (s.cache, s.key.clone(), s.verdict.clone(), s.poisoned_by))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&a), key(&b));
}

#[test]
fn browser_cache_poisoning_no_cors_image_then_fetch() {
    let t = run("origin:
  cors: { allow_origins: [https://a.example] }
  routes: [{ path: /logo.png, cache_control: \"max-age=600\" }]
edge: { profile: rfc9111 }
clients:
  - { name: img, origin: https://a.example, mode: no-cors, user: u, http_cache: true }
  - { name: app, origin: https://a.example, user: u }
steps:
  - { client: img, fetch: GET /logo.png, expect: { cors: ok, cache: miss } }
  - { client: app, fetch: GET /logo.png, expect: { cors: blocked, reason: missing-allow-origin, cache: none, served_by: browser, cache_induced: true, poisoned_by: 0 } }
");
    assert!(
        t.passed(),
        "{:?}",
        t.steps.iter().map(|s| &s.expectation).collect::<Vec<_>>()
    );
}

#[test]
fn redirect_route_on_every_hop() {
    let t = run("origin:
  cors: { allow_origins: [https://a.example] }
  routes:
    - { path: /old, redirect: /new, status: 301, cors: false }
    - { path: /new, cache_control: no-store }
edge: { profile: rfc9111 }
clients:
  - { name: a, origin: https://a.example }
steps:
  - { client: a, fetch: GET /old, expect: { cors: blocked, reason: missing-allow-origin, status: 301 } }
");
    assert!(t.passed(), "{:?}", t.steps[0].expectation);
    assert_eq!(t.steps[0].hops.len(), 1);
}

/// `step_attribution` (the explorer's fast path) says what the full report says: the
/// same cache-induced flag, poisoning step and no-cache verdict, step after step, with
/// the state between steps the same (every bundled scenario, under every profile).
#[test]
fn attribution_alone_agrees_with_the_full_report() {
    use crate::scenario::tests_support::bundled_files;
    let mut files = bundled_files("");
    files.extend(bundled_files("explore"));
    assert!(files.len() >= 8, "{files:?}");
    let mut steps = 0;
    for path in &files {
        let sc = parse(
            &path.to_string_lossy(),
            &std::fs::read_to_string(path).unwrap(),
        )
        .unwrap();
        let OriginSpec::Model(m) = &sc.origin else {
            continue;
        };
        for p in crate::profile::builtin_profiles() {
            let (mut full, mut lean) = (Sim::new(&sc, &p.knobs), Sim::new(&sc, &p.knobs));
            let (mut up1, mut up2) = (m.clone(), m.clone());
            for (i, st) in sc.steps.iter().enumerate() {
                let r = full.step(&mut up1, i, st);
                let a = lean.step_attribution(&mut up2, i, st, st.at_ms);
                let at = format!("{} under {}, step {i}", path.display(), p.name);
                assert_eq!(a.cache_induced, r.cache_induced, "{at}");
                assert_eq!(a.poisoned_by, r.poisoned_by, "{at}");
                assert_eq!(a.direct, r.direct, "{at}");
                steps += 1;
            }
        }
    }
    assert!(steps > 500, "{steps}");
}

/// A remembered counterfactual is found again by a request at another address with the
/// same fields and by the same request, and not for a request or fetch that differs,
/// even when the two share a slot; several verdicts under one slot are kept side by side,
/// at most `DIRECT_MEMO_PER_SLOT` of them.
#[test]
fn counterfactual_memo_finds_equal_requests_wherever_they_live() {
    let sc = parse(
        "t.yaml",
        &REFLECT
            .replace("VARY", "true")
            .replace("PROFILE", "rfc9111"),
    )
    .unwrap();
    let f = sc.fetch(&sc.steps[0]);
    let kept = Arc::new(Request::fixture(
        "GET",
        "api.example",
        "/d",
        &[("origin", "https://a.example")],
    ));
    let copy = Arc::new((*kept).clone());
    // the same shape (one field of the same length): the same slot, another request
    let other = Arc::new(Request::fixture(
        "GET",
        "api.example",
        "/d",
        &[("origin", "https://b.example")],
    ));
    let verdict = crate::browser::Verdict::ok();
    let mut memo = CounterfactualMemo::default();
    let slot = memo_slot(false, &kept, &f);
    memo_put(&mut memo, slot, false, kept.clone(), &f, &verdict);
    for r in [&kept, &copy] {
        let s = memo_slot(false, r, &f);
        assert_eq!(s, slot);
        assert_eq!(memo_get(&memo, s, false, r, &f), Some(verdict.clone()));
        assert_eq!(memo_get(&memo, s, true, r, &f), None);
    }
    let s = memo_slot(false, &other, &f);
    assert_eq!(s, slot);
    assert_ne!(memo_slot(true, &kept, &f), slot);
    assert_eq!(memo_get(&memo, s, false, &other, &f), None);
    let mut g = f.clone();
    g.origin = "https://b.example".into();
    assert_ne!(memo_slot(false, &kept, &g), slot);
    assert_eq!(memo_get(&memo, slot, false, &kept, &g), None);
    // a second verdict is kept beside the first
    let blocked = crate::browser::Verdict {
        allowed: false,
        ..crate::browser::Verdict::ok()
    };
    memo_put(&mut memo, s, false, other.clone(), &f, &blocked);
    assert_eq!(memo_get(&memo, s, false, &other, &f), Some(blocked.clone()));
    assert_eq!(
        memo_get(&memo, slot, false, &kept, &f),
        Some(verdict.clone())
    );
    // beyond the bound the oldest under the slot goes, the newest stay
    for i in 0..DIRECT_MEMO_PER_SLOT {
        let r = Arc::new(Request::fixture(
            "GET",
            "api.example",
            "/d",
            &[("origin", &format!("https://{i}.example.com"))],
        ));
        memo_put(&mut memo, slot, false, r, &f, &verdict);
    }
    assert_eq!(memo_get(&memo, slot, false, &kept, &f), None);
    assert_eq!(memo_get(&memo, slot, false, &other, &f), None);
    let last = Arc::new(Request::fixture(
        "GET",
        "api.example",
        "/d",
        &[(
            "origin",
            &format!("https://{}.example.com", DIRECT_MEMO_PER_SLOT - 1),
        )],
    ));
    assert_eq!(memo_get(&memo, slot, false, &last, &f), Some(verdict));
}

/// The origin's answers, and every request it got.
struct Recorder(Vec<Request>);

impl Upstream for Recorder {
    fn respond(&mut self, req: &Request, now: Timestamp) -> Response {
        self.0.push(req.clone());
        let mut h = crate::fields::Headers::new();
        h.append("date", &now.http_date());
        h.append("cache-control", "max-age=1");
        h.append("etag", "\"v\"");
        let status = if req.headers.contains("if-none-match") {
            304
        } else {
            200
        };
        Response::new(status, h)
    }
    fn latency_ms(&self) -> u64 {
        0
    }
}

/// A revalidation sends the conditional request, also when the step's request is a
/// shared one whose origin request the edge found by its address before: the
/// conditional is a new request, never the shared one. Its plain counterpart sends
/// the same requests.
#[test]
fn a_shared_request_revalidates_with_its_validators() {
    let mut k = Knobs::rfc9111();
    k.forward = edge::forward::Forward {
        headers: edge::forward::ForwardHeaders::All,
        strip: vec!["x-drop".into()],
        add: vec![],
    };
    let r = Arc::new(Request {
        method: "GET".into(),
        scheme: "https".into(),
        host: "api".into(),
        target: "/d".into(),
        headers: crate::fields::Headers::from_pairs([("x-drop", "1"), ("accept", "*/*")]),
    });
    let later = crate::time::SIM_EPOCH.plus_ms(5_000);
    let mut shared = (Edge::new(&k), Recorder(Vec::new()));
    let mut plain = (Edge::new(&k), Recorder(Vec::new()));
    for (i, at) in [crate::time::SIM_EPOCH, later].into_iter().enumerate() {
        let a = shared.0.exchange_shared(&mut shared.1, &r, 0, at, i as Tag);
        let b = plain.0.exchange(&mut plain.1, &r, 0, at, i as Tag);
        assert_eq!(
            (a.outcome, a.response.status),
            (b.outcome, b.response.status)
        );
    }
    let got = &shared.1 .0;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].headers.get("if-none-match"), None);
    assert_eq!(got[1].headers.get("if-none-match"), Some("\"v\""));
    assert!(got.iter().all(|g| g.headers.get("x-drop").is_none()));
    assert_eq!(*got, plain.1 .0);
}

/// An upstream that says whether it was asked afresh or given its earlier answer (and
/// which: the `x-n` of that answer, and when it was asked).
#[derive(Default)]
struct Again {
    fresh: u32,
    again: Vec<(String, Timestamp)>,
}

impl Upstream for Again {
    fn respond(&mut self, req: &Request, now: Timestamp) -> Response {
        self.fresh += 1;
        let mut h = crate::fields::Headers::new();
        h.append("date", &now.http_date());
        h.append("cache-control", "no-store");
        h.append("x-n", &self.fresh.to_string());
        h.append("x-for", &format!("{} {}", req.method, req.target));
        Response::new(200, h)
    }
    fn latency_ms(&self) -> u64 {
        0
    }
    fn respond_again(
        &mut self,
        req: &Request,
        now: Timestamp,
        earlier: &Arc<Response>,
        then: Timestamp,
    ) -> Arc<Response> {
        let n = earlier.headers.get("x-n").unwrap_or("").to_string();
        let asked = format!("{} {}", req.method, req.target);
        assert_eq!(earlier.headers.get("x-for"), Some(asked.as_str()));
        self.again.push((n, then));
        Arc::new(self.respond(req, now))
    }
}

/// The edge hands the upstream its last answer to the same origin request, forwarded
/// (a miss) or passed, and nothing for a request it has not asked before, nor once that
/// request's entry was replaced by others (its slot then holds another's answer). A
/// transparent edge knows a shared request by its address, the oldest forgotten first,
/// and a copy not at all.
#[test]
fn the_upstream_gets_its_last_answer_to_the_same_request() {
    let mut k = Knobs::rfc9111();
    k.forward = edge::forward::Forward {
        headers: edge::forward::ForwardHeaders::All,
        strip: vec!["x-drop".into()],
        add: vec![],
    };
    let get = |target: &str| {
        Arc::new(Request::fixture(
            "GET",
            "api",
            target,
            &[("x-drop", target), ("accept", "*/*")],
        ))
    };
    let post = Arc::new(Request::fixture("POST", "api", "/a", &[]));
    let t = |s: u64| crate::time::SIM_EPOCH.plus_secs(s);
    let mut edge = Edge::new(&k);
    let mut up = Again::default();
    let a = get("/a");
    edge.exchange_shared(&mut up, &a, 0, t(0), 0);
    assert_eq!((up.fresh, up.again.len()), (1, 0));
    // as a copy (not the shared request), with another dropped field: the same request
    let mut copy = Request::clone(&a);
    copy.headers.insert("x-drop", "other");
    edge.exchange(&mut up, &copy, 0, t(1), 1);
    assert_eq!(up.again, [("1".to_string(), t(0))]);
    edge.exchange_shared(&mut up, &post, 0, t(2), 2);
    edge.exchange_shared(&mut up, &a, 0, t(3), 3);
    edge.exchange_shared(&mut up, &post, 0, t(4), 4);
    assert_eq!(
        up.again[1..],
        [("2".to_string(), t(1)), ("3".to_string(), t(2))]
    );
    // as many other requests as the memo holds: `/a`'s entry goes
    let before = up.again.len();
    for i in 0..edge::forward::SENT_MEMO_SLOTS {
        edge.exchange_shared(&mut up, &get(&format!("/f{i}")), 0, t(5), 5);
    }
    assert_eq!(up.again.len(), before);
    edge.exchange_shared(&mut up, &a, 0, t(6), 6);
    assert_eq!(
        up.again.len(),
        before,
        "a replaced entry's slot answers another"
    );
    edge.exchange_shared(&mut up, &a, 0, t(7), 7);
    assert_eq!(
        up.again.last(),
        Some(&(up.fresh.saturating_sub(1).to_string(), t(6)))
    );

    // transparent: the shared request itself is known by its address, a copy is not
    let mut plain = Edge::new(&Knobs::rfc9111());
    let mut up = Again::default();
    for s in 0..3 {
        plain.exchange_shared(&mut up, &a, 0, t(s), s as Tag);
    }
    assert_eq!(up.again, [("1".to_string(), t(0)), ("2".to_string(), t(1))]);
    plain.exchange(&mut up, &copy, 0, t(3), 3);
    assert_eq!((up.fresh, up.again.len()), (4, 2));
    // as many other shared requests as are kept: the oldest, `a`, goes first
    let others: Vec<_> = (0..super::ANSWERED_REQUESTS)
        .map(|i| get(&format!("/g{i}")))
        .collect();
    for (i, o) in others.iter().enumerate() {
        plain.exchange_shared(&mut up, o, 0, t(4), 4);
        assert_eq!(up.again.len(), 2, "{i}");
    }
    plain.exchange_shared(&mut up, &a, 0, t(5), 5);
    assert_eq!(up.again.len(), 2, "forgotten");
    // `a` took the place of the oldest other: the second other is still known
    plain.exchange_shared(&mut up, &others[1], 0, t(6), 6);
    assert_eq!(up.again.len(), 3);
    plain.exchange_shared(&mut up, &others[0], 0, t(7), 7);
    assert_eq!(up.again.len(), 3, "replaced by `a`");
}

/// A stored variant names its URL and its key (`primary [secondary]`, or the primary
/// alone without selecting fields) as the request's own texts, store after store: the
/// texts put together for one are not left in the next.
#[test]
fn stored_variants_name_their_url_and_key() {
    let k = Knobs::rfc9111();
    let resp = |vary: bool| {
        let mut h = crate::fields::Headers::new();
        h.append("cache-control", "max-age=60");
        if vary {
            h.append("vary", "Origin");
        }
        Arc::new(Response::new(200, h))
    };
    for round in 0..2 {
        for (target, origin, vary) in [
            ("/a", "https://x.example", true),
            ("/bb?q=1", "https://y.example", true),
            ("/a", "https://x.example", false),
            ("/", "https://zz.example", true),
        ] {
            let req = Request::fixture("GET", "api.example", target, &[("origin", origin)]);
            let v = edge::make_variant(&k, &req, resp(vary), crate::time::SIM_EPOCH, 0)
                .expect("stored");
            assert_eq!(*v.url, req.url(), "round {round}");
            let primary = edge::primary_key(&k, &req);
            let want = if vary {
                let secondary = edge::vary::describe(&v.spec, &v.values);
                assert!(!secondary.is_empty());
                format!("{primary} [{secondary}]")
            } else {
                primary
            };
            assert_eq!(*v.key, want, "round {round}");
        }
    }
}

/// The parts of a simulator remember whether forwarded answers stand for the direct
/// exchange as the knobs say, for profiles that forward the CORS fields and for those
/// that drop them, and a `Sim` made from the parts uses it.
#[test]
fn parts_know_whether_forwarded_answers_are_reused() {
    let sc = parse("t.yaml", crate::scenario::tests_support::PRODUCT_EXAMPLE).unwrap();
    let mut seen = (false, false);
    for p in crate::profile::builtin_profiles() {
        let want = reuse_forwarded(&p.knobs);
        let parts = SimParts::new(&sc, &p.knobs);
        assert_eq!(parts.reuse_forwarded, want, "{}", p.name);
        let (sim, _) = Sim::from_parts(&sc, &p.knobs, parts);
        assert_eq!(sim.reuse_forwarded, want, "{}", p.name);
        if want {
            seen.0 = true;
        } else {
            seen.1 = true;
        }
    }
    assert_eq!(seen, (true, true), "both kinds of profile");
}

/// Fetch §4.1 "main fetch": a `cors`-mode fetch to the page's own origin is a same-origin
/// fetch (response tainting "basic"): no CORS check and no preflight, even with no CORS
/// policy at all, and `Origin` only on a method other than GET/HEAD. A redirect that
/// leaves the origin and comes back taints the chain: CORS applies again.
#[test]
fn a_same_origin_fetch_is_not_a_cors_fetch() {
    let t = run("host: app.example.com
origin:
  routes:
    - { path: /x, methods: [GET, PUT], cache_control: \"max-age=60\" }
    - { path: /away, redirect: \"https://api.example.net/back\" }
    - { path: /back, redirect: \"https://app.example.com/x\" }
clients:
  - { name: a, origin: https://app.example.com }
  - { name: port, origin: \"https://app.example.com:8443\" }
steps:
  - { client: a, fetch: GET /x }
  - { client: a, fetch: PUT /x, headers: { content-type: application/json, x-custom: \"1\" } }
  - { client: port, fetch: GET /x }
  - { client: a, fetch: \"GET https://app.example.com/away\" }
");
    let s = &t.steps;
    assert!(
        s[0].verdict.allowed && !s[0].verdict.checked,
        "{:?}",
        s[0].verdict
    );
    assert!(
        s[1].verdict.allowed && !s[1].verdict.checked,
        "{:?}",
        s[1].verdict
    );
    assert_eq!(s[1].preflight, crate::scenario::PreflightUse::None);
    // another port is another origin: a CORS fetch, refused by an origin without CORS
    assert!(!s[2].verdict.allowed, "{:?}", s[2].verdict);
    assert_eq!(s[2].verdict.reason, Reason::MissingAllowOrigin);
    // back to the page's origin through another host: the chain is tainted
    assert!(s[3].verdict.checked, "{:?}", s[3]);
}

/// A response served from the cache while the origin alone fails with a 5xx (an
/// `errors:` window without CORS fields) is, by PRODUCT.md's definition, allowed only
/// because of the cache; its fix says the origin failed and the stored answer is its own
/// (not a keying problem).
#[test]
fn a_cache_answer_during_an_origin_outage_is_flagged_with_the_outage_fix() {
    let t = run("origin:
  cors: { allow_origins: [https://a.example] }
  routes:
    - path: /x
      cache_control: \"public, max-age=5, stale-if-error=60\"
      errors: [ { status: 503, from: 10s, until: 20s } ]
clients:
  - { name: a, origin: https://a.example }
steps:
  - { at: 6s, client: a, fetch: GET /x }
  - { at: 10s, client: a, fetch: GET /x }
  - { at: 12s, client: a, fetch: GET /x }
");
    assert!(!t.steps[0].wrongly_allowed && t.steps[0].fix.is_none());
    for s in &t.steps[1..] {
        assert!(
            s.verdict.allowed && s.wrongly_allowed && s.origin_failed,
            "{s:?}"
        );
        let fix = s.fix.as_deref().unwrap_or_default();
        assert!(
            fix.starts_with("the origin alone fails here") && !fix.contains("key on Origin"),
            "{fix}"
        );
    }
    assert_eq!(t.steps[1].cache, Outcome::Hit);
    assert_eq!(t.steps[2].cache, Outcome::Stale);
    // without an outage a foreign stored answer is still found
    let t = run("origin:
  cors: { allow_origins: [https://a.example] }
  routes: [ { path: /x, cache_control: \"public, max-age=60\" } ]
edge: { profile: url-only }
clients:
  - { name: a, origin: https://a.example }
  - { name: evil, origin: https://evil.example }
steps:
  - { client: a, fetch: GET /x }
  - { client: evil, fetch: GET /x }
");
    assert!(!t.steps[1].verdict.allowed && t.steps[1].cache_induced);
}

/// The edge's own CORS fields (`edge_cors`) are configuration: the counterfactual "origin
/// alone" gets them too, so an answer the edge's policy allows is not "allowed only
/// because of the cache", and one it refuses is a plain misconfiguration.
#[test]
fn edge_cors_is_part_of_the_counterfactual() {
    let t = run("origin:
  routes: [ { path: /api/*, cache_control: \"public, max-age=60\" } ]
edge:
  profile: cloudfront
  edge_cors: { allow_origins: [https://app1.example.com], origin_override: true }
clients:
  - { name: app1, origin: https://app1.example.com }
  - { name: evil, origin: https://evil.example.net }
steps:
  - { client: app1, fetch: GET /api/a }
  - { client: app1, fetch: GET /api/a }
  - { client: evil, fetch: GET /api/a }
");
    let s = &t.steps;
    assert!(s[0].verdict.allowed && !s[0].wrongly_allowed && !s[0].cache_induced);
    assert!(s[1].verdict.allowed && !s[1].wrongly_allowed && !s[1].cache_induced);
    assert!(!s[2].verdict.allowed && !s[2].cache_induced, "{:?}", s[2]);
    assert_eq!(t.summary.cache_induced, 0);
}

/// A request `Cache-Control: max-age=0` is never answered from storage as it is, even at
/// the simulated instant the entry was stored (age exactly 0): it is how browsers ask for
/// validation. An edge that ignores request directives still answers it.
#[test]
fn request_max_age_0_is_never_served_as_it_is() {
    for (profile, served) in [("rfc9111", false), ("squid", false), ("varnish", true)] {
        let t = run(&format!(
            "origin:
  routes: [ {{ path: /x, cache_control: \"public, max-age=60\", cors: false }} ]
edge: {{ profile: {profile} }}
clients:
  - {{ name: curl, browser: none }}
steps:
  - {{ client: curl, fetch: GET /x }}
  - {{ client: curl, fetch: GET /x, headers: {{ cache-control: max-age=0 }} }}
  - {{ client: curl, fetch: GET /x, headers: {{ cache-control: max-age=5 }} }}
"
        ));
        assert_eq!(
            t.steps[1].cache.from_cache(),
            served,
            "{profile}: {:?}",
            t.steps[1].cache
        );
        assert!(t.steps[2].cache.from_cache(), "{profile}");
    }
}

/// RFC 9111 §4.3 in the browser's HTTP cache (Chromium, measured in
/// `tests/chromium/cases/direct/z36`): a stale stored 200 with an `ETag` is revalidated;
/// a 304 without CORS fields keeps the stored `Access-Control-Allow-Origin`, which names
/// the first page's origin, so the second page (same site, same cache partition) is
/// blocked though the origin answered it correctly; a 304 with CORS fields replaces it.
#[test]
fn the_browser_revalidates_and_a_304_keeps_or_replaces_the_stored_cors_fields() {
    let run_with = |cors_on_304: bool| {
        run(&format!(
            "origin:
  cors: {{ allow_origins: [https://a.example.com, https://c.example.com] }}
  routes:
    - {{ path: /x, cache_control: \"private, max-age=0\", headers: {{ etag: '\"v1\"' }}, cors_on_304: {cors_on_304} }}
clients:
  - {{ name: a, origin: https://a.example.com, user: u, http_cache: true }}
  - {{ name: c, origin: https://c.example.com, user: u, http_cache: true }}
steps:
  - {{ client: a, fetch: GET /x }}
  - {{ client: c, fetch: GET /x }}
"
        ))
    };
    let t = run_with(false);
    let s = &t.steps[1];
    assert!(!s.verdict.allowed, "{s:?}");
    assert_eq!(s.verdict.reason, Reason::OriginMismatch);
    assert_eq!(s.served_by, ServedBy::Browser);
    assert_eq!(s.poisoned_by, Some(0));
    assert!(
        s.hops.iter().any(|h| h.leg == "actual" && h.status == 304),
        "{:?}",
        s.hops
    );
    let t = run_with(true);
    let s = &t.steps[1];
    assert!(s.verdict.allowed, "{s:?}");
    assert!(s.hops.iter().any(|h| h.status == 304), "{:?}", s.hops);
}

/// A 304 that carries the requester's CORS fields replaces the stored ones (RFC 9111
/// §4.3.4): a later hit delivers that step's ACAO, so it is the poisoning step (real
/// Squid and ATS, tests/fidelity z22); a 304 without them leaves the first author.
#[test]
fn a_304_with_cors_fields_authors_the_entry() {
    let scenario = |cors_on_304: bool, then: &str| {
        format!(
            "origin:
  cors: {{ allow_origins: [https://a.example, https://b.example] }}
  routes:
    - path: /r
      cache_control: \"public, max-age=1\"
      headers: {{ etag: '\"v1\"' }}
      cors_on_304: {cors_on_304}
edge: {{ profile: squid }}
clients:
  - {{ name: a, origin: https://a.example }}
  - {{ name: b, origin: https://b.example }}
steps:
  - {{ client: a, fetch: GET /r }}
  - {{ at: 2500ms, client: b, fetch: GET /r, expect: {{ cache: miss, cors: {mid} }} }}
  - {{ client: {then}, fetch: GET /r, expect: {{ cors: blocked, reason: origin-mismatch, cache: hit, cache_induced: true, poisoned_by: {by} }} }}
",
            by = if cors_on_304 { 1 } else { 0 },
            mid = if cors_on_304 { "ok" } else { "blocked" },
        )
    };
    for (cors, then) in [(true, "a"), (false, "b")] {
        let t = run(&scenario(cors, then));
        assert!(
            t.passed(),
            "{cors}: {:?}",
            t.steps.iter().map(|s| &s.expectation).collect::<Vec<_>>()
        );
    }
}
