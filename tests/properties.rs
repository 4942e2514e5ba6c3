//! Property tests of the core (seeded by proptest's defaults; failures print the case).

use proptest::prelude::*;
use std::sync::Arc;
use varyedge::browser::{Agent, Credentials, Mode};
use varyedge::edge::vary::{matches, selecting_values, vary_spec};
use varyedge::edge::{Cache, Decision, Outcome};
use varyedge::fields::Headers;
use varyedge::message::{Request, Response};
use varyedge::origin::{AllowHeaders, AllowOrigins, CorsPolicy, OriginModel, Route, VaryOrigin};
use varyedge::profile::{Collapse, Knobs, PreflightKey, VaryCompare, VaryMode};
use varyedge::scenario::{Client, EdgeSpec, Expect, OriginSpec, Scenario, Step};
use varyedge::sim;
use varyedge::time::SIM_EPOCH;

const ORIGINS: [&str; 4] = [
    "https://a.example",
    "https://b.example",
    "http://a.example",
    "https://evil.example",
];
const PATHS: [&str; 3] = ["/d", "/d?x=1", "/e"];
const METHODS: [&str; 5] = ["GET", "GET", "HEAD", "POST", "PUT"];
const HEADERS: [(&str, &str); 4] = [
    ("content-type", "application/json"),
    ("x-trace", "1"),
    ("authorization", "Bearer t"),
    ("accept-language", "en"),
];

fn origin_model(vary: bool, allow: u8, credentials: bool, max_age: u64) -> OriginModel {
    let allow_origins = match allow % 3 {
        0 => AllowOrigins::List(vec![ORIGINS[0].into(), ORIGINS[1].into()]),
        1 => AllowOrigins::ReflectAny,
        _ => AllowOrigins::Any,
    };
    let route = |p: &str, cc: &str| Route {
        path: p.into(),
        methods: vec![],
        status: 200,
        cache_control: Some(cc.into()),
        headers: Headers::new(),
        body: Arc::from(&b"{}"[..]),
        cors: None,
        redirect_options: false,
        cors_on_304: true,
        errors: Vec::new(),
    };
    OriginModel {
        cors: Some(CorsPolicy {
            allow_origins,
            allow_credentials: credentials,
            allow_methods: vec!["GET".into(), "POST".into(), "PUT".into()],
            allow_headers: AllowHeaders::Reflect,
            max_age: Some(max_age),
            vary_origin: if vary {
                VaryOrigin::Always
            } else {
                VaryOrigin::Never
            },
            preflight_vary: vary,
            preflight_cache_control: Some("public, max-age=30".into()),
            ..CorsPolicy::default()
        }),
        routes: vec![
            route("/d", "public, max-age=20"),
            route("/e", "public, s-maxage=5, stale-while-revalidate=10"),
        ],
        latency_ms: 0,
        epoch: varyedge::time::SIM_EPOCH,
    }
}

#[derive(Debug, Clone)]
struct RawStep {
    gap_ms: u64,
    client: usize,
    method: usize,
    path: usize,
    headers: Vec<bool>,
    credentials: u8,
}

fn raw_steps() -> impl Strategy<Value = Vec<RawStep>> {
    prop::collection::vec(
        (
            prop_oneof![Just(0u64), 0u64..3_000, 0u64..60_000],
            0usize..6,
            0usize..METHODS.len(),
            0usize..PATHS.len(),
            prop::collection::vec(any::<bool>(), HEADERS.len()),
            0u8..3,
        )
            .prop_map(
                |(gap_ms, client, method, path, headers, credentials)| RawStep {
                    gap_ms,
                    client,
                    method,
                    path,
                    headers,
                    credentials,
                },
            ),
        1..25,
    )
}

fn clients() -> Vec<Client> {
    let c = |name: &str, origin: &str, agent: Agent, mode: Mode| Client {
        name: name.into(),
        origin: origin.into(),
        agent,
        mode,
        cookie: "session=1".into(),
        pop: None,
        private_network: false,
        headers: Headers::new(),
        user: name.into(),
        http_cache: false,
    };
    vec![
        c("a", ORIGINS[0], Agent::Chrome, Mode::Cors),
        c("b", ORIGINS[1], Agent::Firefox, Mode::Cors),
        c("plain", ORIGINS[2], Agent::Safari, Mode::Cors),
        c("evil", ORIGINS[3], Agent::Chrome, Mode::Cors),
        c("img", ORIGINS[0], Agent::Chrome, Mode::NoCors),
        c("curl", "", Agent::None, Mode::Cors),
    ]
}

fn scenario(model: OriginModel, knobs: Knobs, raw: &[RawStep]) -> Scenario {
    let clients = clients();
    let mut at = 0;
    let steps = raw
        .iter()
        .map(|r| {
            at += r.gap_ms;
            let mut headers = Headers::new();
            for (i, on) in r.headers.iter().enumerate() {
                if *on {
                    headers.append(HEADERS[i].0, HEADERS[i].1);
                }
            }
            Step {
                at_ms: at,
                client: r.client % clients.len(),
                method: METHODS[r.method].into(),
                scheme: "https".into(),
                host: "api.example.com".into(),
                target: PATHS[r.path].into(),
                headers,
                credentials: [
                    Credentials::Omit,
                    Credentials::SameOrigin,
                    Credentials::Include,
                ][r.credentials as usize % 3],
                mode: clients[r.client % clients.len()].mode,
                redirect: varyedge::browser::RedirectMode::Follow,
                expect: Expect::default(),
                line: 0,
            }
        })
        .collect();
    Scenario {
        name: "prop".into(),
        about: String::new(),
        file: "prop.yaml".into(),
        origin: OriginSpec::Model(model),
        edge: EdgeSpec {
            profile: "custom".into(),
            knobs,
        },
        clients,
        steps,
    }
}

fn honour_knobs() -> impl Strategy<Value = Knobs> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::option::of(1usize..4),
        1u32..3,
        any::<bool>(),
        any::<bool>(),
        0u8..4,
        any::<bool>(),
    )
        .prop_map(
            |(cache_options, pk, max_variants, pops, shield, collapse, cmp, key_host)| Knobs {
                vary: VaryMode::Honor,
                cache_options,
                preflight_key: if pk {
                    PreflightKey::Honor
                } else {
                    PreflightKey::Ignore
                },
                max_variants,
                pops,
                shield,
                collapse: if collapse {
                    Collapse::On
                } else {
                    Collapse::Off
                },
                vary_compare: [
                    VaryCompare::Combine,
                    VaryCompare::Raw,
                    VaryCompare::Trim,
                    VaryCompare::Fold,
                ][cmp as usize],
                key_host,
                ..Knobs::rfc9111()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// With `vary: honor` and an origin that sends `Vary: Origin` (and the preflight Vary),
    /// no request sequence ever yields a cache-induced step.
    #[test]
    fn honour_plus_vary_never_poisons(knobs in honour_knobs(), allow in 0u8..3, creds in any::<bool>(), max_age in 0u64..20, raw in raw_steps(), latency in prop_oneof![Just(0u64), 1u64..500]) {
        let mut model = origin_model(true, allow, creds, max_age);
        model.latency_ms = latency;
        let sc = scenario(model, knobs, &raw);
        let t = sim::replay(&sc).unwrap();
        let bad: Vec<_> = t.steps.iter().filter(|s| s.cache_induced).map(|s| (s.index, s.request.clone(), s.verdict.reason, s.key.clone())).collect();
        prop_assert!(bad.is_empty(), "cache-induced steps: {:?}", bad);
    }

    /// The same scenario replays to the same report, byte for byte.
    #[test]
    fn replay_is_deterministic(knobs in honour_knobs(), vary in any::<bool>(), allow in 0u8..3, raw in raw_steps()) {
        let mut k = knobs;
        if !vary { k.vary = VaryMode::Ignore; }
        let sc = scenario(origin_model(vary, allow, false, 5), k, &raw);
        let a = varyedge::report::json::render(&[sim::replay(&sc).unwrap()]);
        let b = varyedge::report::json::render(&[sim::replay(&sc).unwrap()]);
        prop_assert_eq!(a, b);
    }

    /// Without Vary, a URL-keyed edge poisons exactly when a response stored for one origin
    /// is served to another whose own answer differs — and every cache-induced step names
    /// an earlier step.
    #[test]
    fn attribution_points_backwards(allow in 0u8..2, raw in raw_steps()) {
        let knobs = Knobs { vary: VaryMode::Ignore, cache_options: true, preflight_key: PreflightKey::Ignore, ..Knobs::rfc9111() };
        let sc = scenario(origin_model(false, allow, false, 5), knobs, &raw);
        let t = sim::replay(&sc).unwrap();
        for s in &t.steps {
            if s.cache_induced {
                let p = s.poisoned_by.unwrap();
                prop_assert!(p < s.index || (p == s.index && s.preflight_cache.is_some()), "step {} poisoned by {}", s.index, p);
                prop_assert!(s.verdict.allowed != s.direct.allowed || s.verdict.reason != s.direct.reason);
            }
        }
    }

    /// RFC 9111 §4.1: Vary field names match whatever their order, case, whitespace and
    /// split into field lines; selecting values match across combined lines and optional
    /// whitespace.
    #[test]
    fn vary_ignores_order_case_and_whitespace(names in prop::collection::vec(prop::sample::select(vec!["origin", "accept-encoding", "x-a", "access-control-request-method"]), 1..4), perm in any::<prop::sample::Index>(), split in any::<bool>(), upper in any::<bool>(), ws in 0usize..3) {
        let knobs = Knobs::rfc9111();
        let pad = " ".repeat(ws);
        let canonical = Headers::from_pairs([("vary", names.join(", ").as_str())]);
        let mut shuffled = names.clone();
        shuffled.rotate_left(perm.index(names.len()));
        let spelled: Vec<String> = shuffled.iter().map(|n| if upper { n.to_ascii_uppercase() } else { n.to_string() }).collect();
        let mut other = Headers::new();
        if split {
            for n in &spelled { other.append("Vary", &format!("{pad}{n}{pad}")); }
        } else {
            other.append("Vary", &spelled.join(&format!("{pad},{pad}")));
        }
        let a = vary_spec(&knobs, &canonical).unwrap();
        let b = vary_spec(&knobs, &other).unwrap();
        prop_assert_eq!(&a, &b);
        // values: "x, y" on one line matches "x" + "y" on two lines, with any OWS
        let one = Headers::from_pairs(names.iter().map(|n| (*n, "v1, v2")));
        let mut two = Headers::new();
        for n in &names { two.append(n, &format!("{pad}v1")); two.append(n, &format!("v2{pad}")); }
        let stored = selecting_values(VaryCompare::Combine, &a, &one);
        prop_assert!(matches(VaryCompare::Combine, &a, &stored, &two));
    }

    /// The edge cache agrees with a tiny reference model: under `vary: honor` with one
    /// selecting header and no expiry, a GET hits iff an earlier GET of the same URL with
    /// the same header value (absent ≠ empty) was stored.
    #[test]
    fn cache_agrees_with_reference_model(reqs in prop::collection::vec((0usize..3, prop::option::of(prop::sample::select(vec!["", "a", "b"]))), 1..40)) {
        let mut cache = Cache::new(Arc::new(Knobs::rfc9111()));
        let mut model: Vec<(usize, Option<&str>)> = Vec::new();
        for (i, (path, val)) in reqs.iter().enumerate() {
            let mut h = Headers::new();
            if let Some(v) = val { h.append("x-sel", v); }
            let req = Request { method: "GET".into(), scheme: "https".into(), host: "h".into(), target: format!("/p{path}"), headers: h };
            let expect_hit = model.contains(&(*path, *val));
            let hit = matches!(cache.decide(&req, SIM_EPOCH), Decision::Serve(s) if s.outcome == Outcome::Hit);
            prop_assert_eq!(hit, expect_hit, "request {}", i);
            if !expect_hit {
                let resp = Response::new(200, Headers::from_pairs([("cache-control", "max-age=600"), ("vary", "X-Sel")]));
                cache.store(&req, Arc::new(resp), SIM_EPOCH, SIM_EPOCH, i as u64);
                model.push((*path, *val));
            }
        }
    }
}
