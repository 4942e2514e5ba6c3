//! `replay --jobs N` gives the report of one thread: random scenarios (several paths,
//! clients sharing browsers, HTTP caches, preflights, credentials, POPs, a shield,
//! collapsing, stored OPTIONS, unsafe methods that invalidate) are replayed on one thread
//! and split over three, and their whole JSON reports compared.

use proptest::prelude::*;
use varyedge::report::json::trace_value;
use varyedge::scenario::{parse, Scenario};
use varyedge::sim;

const PROFILES: [&str; 6] = [
    "url-only",
    "varnish",
    "rfc9111",
    "cloudfront-cors-s3",
    "cloudflare",
    "azure-front-door",
];
const AGENTS: [&str; 4] = ["chrome", "firefox", "safari", "none"];
const FETCHES: [&str; 8] = [
    "GET /a",
    "GET /a?x=1",
    "GET /b",
    "PUT /b",
    "HEAD /c",
    "POST /c",
    "DELETE /a",
    "GET /d/e",
];

#[derive(Clone, Debug)]
struct Knobs {
    profile: usize,
    pops: u32,
    shield: bool,
    cache_options: bool,
    vary_origin: bool,
    preflight_vary: bool,
    latency_ms: u64,
    max_age: u64,
}

#[derive(Clone, Debug)]
struct Client {
    agent: usize,
    origin: usize,
    user: usize,
    http_cache: bool,
    no_cors: bool,
}

#[derive(Clone, Debug)]
struct StepGen {
    gap_ms: u64,
    client: usize,
    fetch: usize,
    header: usize,
    include: bool,
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        0..PROFILES.len(),
        1u32..4,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(0u64), Just(50), Just(400)],
        prop_oneof![Just(1u64), Just(5), Just(60)],
    )
        .prop_map(
            |(profile, pops, shield, cache_options, vary_origin, preflight_vary, l, m)| Knobs {
                profile,
                pops,
                shield,
                cache_options,
                vary_origin,
                preflight_vary,
                latency_ms: l,
                max_age: m,
            },
        )
}

fn clients() -> impl Strategy<Value = Vec<Client>> {
    prop::collection::vec(
        (0..AGENTS.len(), 0..3usize, 0..3usize, any::<bool>(), 0..6u8).prop_map(
            |(agent, origin, user, http_cache, nc)| Client {
                agent,
                origin,
                user,
                http_cache,
                no_cors: nc == 0,
            },
        ),
        1..5,
    )
}

fn steps(clients: usize) -> impl Strategy<Value = Vec<StepGen>> {
    prop::collection::vec(
        (
            prop_oneof![Just(0u64), Just(30), Just(900), Just(4000), Just(61_000)],
            0..clients,
            0..FETCHES.len(),
            0..3usize,
            any::<bool>(),
        )
            .prop_map(|(gap_ms, client, fetch, header, include)| StepGen {
                gap_ms,
                client,
                fetch,
                header,
                include,
            }),
        1..40,
    )
}

fn yaml(k: &Knobs, cs: &[Client], ss: &[StepGen]) -> String {
    let mut y = String::from("name: jobs-prop\norigin:\n");
    y.push_str(&format!("  latency: {}ms\n", k.latency_ms));
    y.push_str("  cors:\n    allow_origins: [https://o0.example.com, https://o1.example.com]\n");
    y.push_str("    allow_methods: [GET, PUT, POST, DELETE]\n    allow_headers: [content-type]\n");
    y.push_str(&format!(
        "    max_age: 30\n    vary_origin: {}\n    preflight_vary: {}\n    preflight_cache_control: \"public, max-age={}\"\n",
        k.vary_origin, k.preflight_vary, k.max_age
    ));
    y.push_str(&format!(
        "  routes:\n    - {{ path: \"/*\", cache_control: \"public, max-age={}\" }}\n",
        k.max_age
    ));
    y.push_str(&format!(
        "edge: {{ profile: {}, pops: {}, shield: {}, cache_options: {} }}\nclients:\n",
        PROFILES[k.profile], k.pops, k.shield, k.cache_options
    ));
    for (i, c) in cs.iter().enumerate() {
        y.push_str(&format!(
            "  - {{ name: c{i}, origin: https://o{}.example.com, browser: {}, user: u{}, http_cache: {}{} }}\n",
            c.origin,
            AGENTS[c.agent],
            c.user,
            c.http_cache,
            if c.no_cors { ", mode: no-cors" } else { "" }
        ));
    }
    y.push_str("steps:\n");
    let mut at = 0u64;
    for s in ss {
        at += s.gap_ms;
        let header = match s.header {
            1 => ", headers: { content-type: application/json }",
            2 => ", headers: { authorization: Bearer x }",
            _ => "",
        };
        let cred = if s.include {
            ", credentials: include"
        } else {
            ""
        };
        y.push_str(&format!(
            "  - {{ at: {at}ms, client: c{}, fetch: {}{header}{cred} }}\n",
            s.client, FETCHES[s.fetch]
        ));
    }
    y
}

fn scenario() -> impl Strategy<Value = (Scenario, String)> {
    (knobs(), clients())
        .prop_flat_map(|(k, cs)| {
            let n = cs.len();
            (Just(k), Just(cs), steps(n))
        })
        .prop_map(|(k, cs, ss)| {
            let y = yaml(&k, &cs, &ss);
            let sc = parse("jobs-prop.yaml", &y).expect("generated scenario parses");
            (sc, y)
        })
}

fn json(t: &sim::Trace) -> String {
    serde_json::to_string_pretty(&trace_value(t)).expect("serialisable")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn split_replay_reports_what_one_thread_reports((sc, y) in scenario()) {
        let one = sim::replay(&sc).expect("modelled origin");
        let split = sim::jobs::replay_split(&sc, 3).expect("modelled origin");
        prop_assert_eq!(json(&one), json(&split), "scenario:\n{}", y);
    }
}

/// The property above only says something if the generated scenarios do split.
#[test]
fn generated_scenarios_do_split() {
    let k = Knobs {
        profile: 0,
        pops: 2,
        shield: true,
        cache_options: true,
        vary_origin: false,
        preflight_vary: false,
        latency_ms: 50,
        max_age: 60,
    };
    let cs = vec![Client {
        agent: 0,
        origin: 0,
        user: 0,
        http_cache: true,
        no_cors: false,
    }];
    let ss: Vec<StepGen> = (0..FETCHES.len())
        .map(|f| StepGen {
            gap_ms: 30,
            client: 0,
            fetch: f,
            header: 0,
            include: false,
        })
        .collect();
    let sc = parse("s.yaml", &yaml(&k, &cs, &ss)).expect("parses");
    assert_eq!(sim::jobs::coupling(&sc), None);
    let groups = sim::jobs::split(&sc).expect("splits");
    // /a (3 steps: GET /a, GET /a?x=1, DELETE /a), /b, /c, /d/e
    assert_eq!(groups.len(), 4);
    assert_eq!(groups[0], vec![0, 1, 6]);
}

/// What couples paths makes the replay stay on one thread.
#[test]
fn coupled_scenarios_stay_on_one_thread() {
    let base = "name: c\norigin:\n  cors: { allow_origins: \"*\" }\n  routes:\n";
    let tail = "clients: [ { name: a, origin: https://a.example } ]\nsteps:\n  - { client: a, fetch: GET /x }\n  - { client: a, fetch: GET /y }\n";
    for (route, why) in [
        (
            "    - { path: /x, status: 302, headers: { location: /y } }\n",
            "redirect",
        ),
        (
            "    - { path: /x, headers: { set-cookie: s=2 } }\n",
            "cookie",
        ),
    ] {
        let y = format!("{base}{route}    - {{ path: /y }}\n{tail}");
        let sc = parse("c.yaml", &y).expect("parses");
        let reason = sim::jobs::coupling(&sc).expect("coupled");
        assert!(reason.contains(why), "{reason}");
        assert!(sim::jobs::split(&sc).is_none());
        assert_eq!(sim::jobs::threads_for(&sc, 8), 1);
    }
}
