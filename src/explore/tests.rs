use super::*;
use crate::profile::PROFILE_NAMES;
use crate::report::explore as report;
use crate::scenario::parse;
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, RngSeed};

/// A scenario variant: an origin, an edge and clients as the knobs below say.
#[derive(Clone, Debug)]
struct Variant {
    allow: &'static str,
    credentials: bool,
    vary_origin: &'static str,
    preflight_vary: bool,
    preflight_cc: Option<&'static str>,
    max_age: Option<u64>,
    route_cc: Option<&'static str>,
    profile: &'static str,
    overrides: Vec<String>,
    bot: bool,
    img: bool,
    latency: u64,
}

impl Variant {
    fn yaml(&self) -> String {
        let mut y = String::from("name: variant\norigin:\n");
        if self.latency > 0 {
            y += &format!("  latency: {}ms\n", self.latency);
        }
        y += &format!(
            "  cors:\n    allow_origins: {}\n    allow_credentials: {}\n    allow_methods: [GET, PUT]\n    allow_headers: [content-type]\n    vary_origin: {}\n    preflight_vary: {}\n",
            self.allow, self.credentials, self.vary_origin, self.preflight_vary
        );
        if let Some(cc) = self.preflight_cc {
            y += &format!("    preflight_cache_control: \"{cc}\"\n");
        }
        if let Some(m) = self.max_age {
            y += &format!("    max_age: {m}\n");
        }
        y += "  routes:\n    - path: /api/data\n      body: '{}'\n";
        if let Some(cc) = self.route_cc {
            y += &format!("      cache_control: \"{cc}\"\n");
        }
        y += &format!("edge:\n  profile: {}\n", self.profile);
        for o in &self.overrides {
            y += &format!("  {o}\n");
        }
        y += "clients:\n  - { name: app1, origin: https://app1.example.com }\n  - { name: app2, origin: https://app2.example.com, browser: safari }\n";
        if self.bot {
            y += "  - { name: bot, browser: none }\n";
        }
        if self.img {
            y += "  - { name: page, origin: https://app1.example.com, mode: no-cors, browser: firefox }\n";
        }
        y += "steps:\n  - { client: app1, fetch: GET /api/data }\n  - { client: app2, fetch: PUT /api/data, headers: { content-type: application/json } }\n  - { client: app2, fetch: GET /api/data, credentials: include }\n";
        y
    }

    fn scenario(&self) -> Scenario {
        let y = self.yaml();
        parse("variant.yaml", &y).unwrap_or_else(|e| panic!("{e}\n{y}"))
    }
}

fn variant() -> impl Strategy<Value = Variant> {
    (
        (
            prop::sample::select(vec![
                "[https://app1.example.com, https://app2.example.com]",
                "reflect-any",
                "\"*\"",
            ]),
            any::<bool>(),
            prop::sample::select(vec!["true", "false", "when-origin"]),
            any::<bool>(),
            prop::option::of(Just("public, max-age=600")),
            prop::option::of(prop::sample::select(vec![5u64, 600, 86_400])),
        ),
        (
            prop::option::of(prop::sample::select(vec![
                "public, max-age=300",
                "max-age=60, s-maxage=120",
                "no-store",
            ])),
            prop::sample::select(PROFILE_NAMES.to_vec()),
            prop::collection::vec(
                prop::sample::select(vec![
                    "cache_options: true",
                    "pops: 2",
                    "shield: true",
                    "collapse: true",
                    "preflight_key: ignore",
                ]),
                0..3,
            ),
            any::<bool>(),
            any::<bool>(),
            prop::sample::select(vec![0u64, 200]),
        ),
    )
        .prop_map(
            |(
                (allow, credentials, vary_origin, preflight_vary, preflight_cc, max_age),
                (route_cc, profile, ov, bot, img, latency),
            )| {
                let mut overrides: Vec<String> = ov.into_iter().map(String::from).collect();
                overrides.sort();
                overrides.dedup_by(|a, b| a.split(':').next() == b.split(':').next());
                Variant {
                    allow,
                    credentials,
                    vary_origin,
                    preflight_vary,
                    preflight_cc,
                    max_age,
                    route_cc,
                    profile,
                    overrides,
                    bot,
                    img,
                    latency,
                }
            },
        )
}

fn quick(seed: u64, cases: u64) -> Settings {
    Settings {
        cases,
        seed,
        max_steps: 6,
        shrink_candidates: 2,
        ..Settings::default()
    }
}

fn strip(s: &Scenario) -> Scenario {
    let mut s = s.clone();
    s.file.clear();
    for st in &mut s.steps {
        st.line = 0;
    }
    s
}

proptest! {
    #![proptest_config(PtConfig {
        cases: 48,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x7661_7279_6564_6765),
        ..PtConfig::default()
    })]

    /// An origin that always sends `Vary: Origin` (and Vary on preflights) behind an edge
    /// that honours Vary and keys preflights is never poisoned, whatever the sessions.
    #[test]
    fn honour_and_vary_never_poisons(mut v in variant(), seed in any::<u64>()) {
        v.vary_origin = "true";
        v.preflight_vary = true;
        v.overrides.retain(|o| !o.starts_with("collapse") && !o.starts_with("preflight_key"));
        v.overrides.push("vary: honor".into());
        v.overrides.push("preflight_key: honor".into());
        v.overrides.push("collapse: false".into());
        // and that lets Origin reach the origin (CloudFront without an origin request
        // policy does not: every CORS request fails there, poisoning or not)
        v.overrides.push("forward_headers: all".into());
        let sc = v.scenario();
        let mut ex = Explorer::new(&sc).unwrap();
        let strategy = ex.pool().strategy(1, 8);
        for case in 0..64 {
            let s = session_tree(&strategy, seed, case).current();
            let f = ex.findings(&s);
            prop_assert!(f.is_empty(), "{:?} in {}\n{}", f, sc.name, scenario::write::to_yaml(&ex.to_scenario(&s, "x", "")).unwrap());
        }
    }

    /// The explorer reuses one simulator state across sessions, reset between them: a
    /// session run after another gives the very reports it gives on a fresh explorer,
    /// and the reset state reads the same as a freshly built one. The early stops agree
    /// with the full run: `any_failure` with its reports, `shows` with `findings`.
    #[test]
    fn reset_then_run_is_fresh_then_run(v in variant(), seed in any::<u64>()) {
        let sc = v.scenario();
        let mut used = Explorer::new(&sc).unwrap();
        let strategy = used.pool().strategy(1, 10);
        for case in 0..8 {
            let before = session_tree(&strategy, seed, 2 * case).current();
            let s = session_tree(&strategy, seed, 2 * case + 1).current();
            used.run(&before);
            let again = format!("{:?}", used.run(&s));
            let mut fresh = Explorer::new(&sc).unwrap();
            prop_assert_eq!(&again, &format!("{:?}", fresh.run(&s)));
            let failing = fresh.reports.iter().any(|r| r.cache_induced && r.poisoned_by.is_some());
            prop_assert_eq!(used.any_failure(&s), failing);
            let sampled = used.sample(&s).map(|f| format!("{f:?}"));
            let full = failing.then(|| format!("{:?}", fresh.findings(&s)));
            prop_assert_eq!(sampled, full);
            for f in used.findings(&s) {
                prop_assert!(fresh.shows(&s, &f.kind));
            }
            let p = used.parts.as_mut().unwrap();
            p.reset();
            let mut hosts: Vec<&str> = sc.steps.iter().map(|st| st.host.as_str()).collect();
            hosts.sort_unstable();
            hosts.dedup();
            prop_assert_eq!(p.describe(), SimParts::for_hosts(&used.scratch, &sc.edge.knobs, Some(&hosts)).describe());
        }
    }

    /// Sampling split across threads finds the same cases with the same findings and
    /// counts the same steps as one thread, however the cases are split.
    #[test]
    fn any_split_of_the_cases_samples_the_same(v in variant(), seed in any::<u64>(), threads in 2usize..6) {
        let sc = v.scenario();
        let settings = quick(seed, 40);
        let sample = |threads| {
            let mut ex = Explorer::new(&sc).unwrap();
            let s = sample_all(&mut ex, &sc, &settings, threads, &mut |_, _| {}).unwrap();
            format!("{s:?}")
        };
        prop_assert_eq!(sample(threads), sample(1));
    }

    /// Every repro the explorer writes parses, replays with all expectations met, shows
    /// the very failure it was shrunk for at the same step, and — for a blocked kind —
    /// fails replay (an unexpected CORS failure) once its expectations are removed.
    #[test]
    fn written_repros_replay_to_the_same_failure(v in variant(), seed in any::<u64>()) {
        let sc = v.scenario();
        let e = explore(&sc, &quick(seed, 60), &mut |_, _| {}).unwrap();
        for k in &e.kinds {
            let r = &k.repro;
            let back = parse("repro.yaml", &r.yaml).unwrap();
            let t = sim::replay(&back).unwrap();
            prop_assert!(t.passed(), "{}", r.yaml);
            let f = classify(&back, &back.steps, &t.steps[r.victim]).unwrap();
            prop_assert_eq!(&f.kind, &k.kind);
            prop_assert_eq!(f.poisoned_by, r.poisoned_by);
            prop_assert!(r.session.steps.len() <= r.shrunk_from);
            let mut bare = back.clone();
            for st in &mut bare.steps {
                st.expect = Expect::default();
            }
            let t = sim::replay(&bare).unwrap();
            if k.kind.blocked {
                prop_assert!(!t.passed(), "{}", r.yaml);
            } else {
                prop_assert!(t.steps[r.victim].verdict.allowed && t.steps[r.victim].wrongly_allowed);
            }
        }
        prop_assert_eq!(e.found(), !e.kinds.is_empty());
    }

    /// `parse(write(sc))` gives `sc` back, for sessions of any variant with expectations.
    #[test]
    fn write_then_parse_round_trips(v in variant(), seed in any::<u64>()) {
        let sc = v.scenario();
        prop_assert_eq!(strip(&parse("a.yaml", &scenario::write::to_yaml(&sc).unwrap()).unwrap()), strip(&sc));
        let ex = Explorer::new(&sc).unwrap();
        let strategy = ex.pool().strategy(1, 6);
        let s = session_tree(&strategy, seed, 0).current();
        let mut out = ex.to_scenario(&s, "x", "a: b # not a comment");
        let t = sim::replay(&out).unwrap();
        for (st, r) in out.steps.iter_mut().zip(&t.steps) {
            st.expect = observed(r);
        }
        let y = scenario::write::to_yaml(&out).unwrap();
        let back = parse("x.yaml", &y).unwrap_or_else(|e| panic!("{e}\n{y}"));
        prop_assert_eq!(strip(&back), strip(&out));
        prop_assert!(sim::replay(&back).unwrap().passed());
    }
}

fn load(name: &str) -> Scenario {
    let path = format!("{}/scenarios/explore/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    parse(&path, &text).unwrap()
}

#[test]
fn finds_reflect_without_vary_and_shrinks_to_two_steps() {
    let sc = load("reflect-without-vary.yaml");
    let e = explore(&sc, &quick(1, 300), &mut |_, _| {}).unwrap();
    assert!(e.found());
    assert!(e.rate() > 0.2 && e.rate() < 0.95, "{}", e.rate());
    assert!(e.interval.0 < e.rate() && e.rate() < e.interval.1);
    let k = &e.kinds[0];
    assert_eq!(k.kind.id, "origin-mismatch/get-cors>get-cors");
    assert_eq!(k.repro.session.steps.len(), 2);
    assert_eq!((k.repro.poisoned_by, k.repro.victim), (0, 1));
}

#[test]
fn vary_when_origin_only_is_poisoned_by_a_request_without_origin() {
    let mut v = Variant {
        allow: "reflect-any",
        credentials: false,
        vary_origin: "when-origin",
        preflight_vary: false,
        preflight_cc: None,
        max_age: None,
        route_cc: Some("public, max-age=300"),
        profile: "rfc9111",
        overrides: vec![],
        bot: true,
        img: false,
        latency: 0,
    };
    let e = explore(&v.scenario(), &quick(7, 400), &mut |_, _| {}).unwrap();
    let ids: Vec<&str> = e.kinds.iter().map(|k| k.kind.id.as_str()).collect();
    assert!(
        ids.contains(&"missing-allow-origin/get-no-origin>get-cors"),
        "{ids:?}"
    );
    // with Vary on every response there is nothing to find
    v.vary_origin = "true";
    let e = explore(&v.scenario(), &quick(7, 400), &mut |_, _| {}).unwrap();
    assert!(!e.found(), "{:?}", e.kinds.first().map(|k| &k.kind));
}

#[test]
fn pops_separate_caches() {
    // Two POPs, no shield: the repro pins both clients to one POP.
    let mut v = Variant {
        allow: "reflect-any",
        credentials: false,
        vary_origin: "false",
        preflight_vary: false,
        preflight_cc: None,
        max_age: None,
        route_cc: Some("public, max-age=300"),
        profile: "url-only",
        overrides: vec!["pops: 2".into()],
        bot: false,
        img: false,
        latency: 0,
    };
    let e = explore(&v.scenario(), &quick(3, 300), &mut |_, _| {}).unwrap();
    let r = &e.kinds[0].repro;
    let pop_of = |i: usize| r.scenario.clients[r.scenario.steps[i].client].pop;
    assert!(pop_of(r.victim).is_some(), "{}", r.yaml);
    assert_eq!(pop_of(r.victim), pop_of(r.poisoned_by), "{}", r.yaml);
    // the same steps with the victim's client on the other POP are clean
    let mut moved = r.scenario.clone();
    let c = moved.steps[r.victim].client;
    moved.clients[c].pop = pop_of(r.victim).map(|p| 1 - p);
    for st in &mut moved.steps {
        st.expect = Expect::default();
    }
    if moved.steps[r.poisoned_by].client != c {
        assert_eq!(sim::replay(&moved).unwrap().summary.cache_induced, 0);
    }
    v.overrides.push("shield: true".into());
    assert!(explore(&v.scenario(), &quick(3, 300), &mut |_, _| {})
        .unwrap()
        .found());
}

#[test]
fn same_seed_same_bytes() {
    let sc = load("reflect-without-vary.yaml");
    let run = |seed| {
        let e = explore(&sc, &quick(seed, 200), &mut |_, _| {}).unwrap();
        (report::text(&e, &[]), report::json(&e, &[]))
    };
    assert_eq!(run(5), run(5));
    let (t, j) = run(5);
    assert!(t.contains("95% CI"), "{t}");
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(v["cases"], 200);
    assert_eq!(v["kinds"][0]["id"], "origin-mismatch/get-cors>get-cors");
}

#[test]
fn upstream_origins_are_refused() {
    let sc = parse(
        "u.yaml",
        "upstream: http://127.0.0.1:9\nclients: [{ name: a, origin: https://a }]\nsteps: [{ client: a, fetch: GET /a }]\n",
    )
    .unwrap();
    assert!(matches!(
        Explorer::new(&sc),
        Err(ExploreError::Upstream(..))
    ));
}

#[test]
fn gaps_straddle_the_lifetimes() {
    let sc = load("reflect-without-vary.yaml");
    let p = Pool::new(
        &sc,
        match &sc.origin {
            OriginSpec::Model(m) => Some(m),
            OriginSpec::Upstream(_) => None,
        },
    );
    for g in [0, 299_000, 301_000, 599_000, 601_000] {
        assert!(p.gaps_ms.contains(&g), "{:?}", p.gaps_ms);
    }
    assert!(p.gaps_ms.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn explore_on_several_threads_reports_the_same_bytes() {
    for name in [
        "reflect-without-vary.yaml",
        "preflight-and-no-origin.yaml",
        "reflect-with-vary.yaml",
    ] {
        let sc = load(name);
        let settings = quick(3, 2 * MIN_CASES_PER_THREAD + 7);
        let run = |jobs| {
            let e = explore_jobs(&sc, &settings, jobs, &mut |_, _| {}).unwrap();
            (report::text(&e, &[]), report::json(&e, &[]))
        };
        assert_eq!(run(3), run(1), "{name}");
    }
}

#[test]
fn threads_follow_jobs_and_the_number_of_cases() {
    assert_eq!(threads_for(0, 4), 1);
    assert_eq!(threads_for(MIN_CASES_PER_THREAD - 1, 4), 1);
    assert_eq!(threads_for(2 * MIN_CASES_PER_THREAD, 4), 2);
    assert_eq!(threads_for(2 * MIN_CASES_PER_THREAD - 1, 4), 1);
    assert_eq!(threads_for(100 * MIN_CASES_PER_THREAD, 3), 3);
    assert_eq!(threads_for(100 * MIN_CASES_PER_THREAD, 1), 1);
    assert!(threads_for(100 * MIN_CASES_PER_THREAD, 0) >= 1);
}

#[test]
fn progress_counts_every_case_once() {
    let sc = load("reflect-without-vary.yaml");
    let settings = quick(1, 3 * MIN_CASES_PER_THREAD);
    let n = settings.cases;
    let mut calls = Vec::new();
    explore_jobs(&sc, &settings, 1, &mut |done, total| {
        calls.push((done, total))
    })
    .unwrap();
    assert_eq!(calls, [(0, n), (256, n), (512, n), (n, n)]);
    calls.clear();
    explore_jobs(&sc, &settings, 3, &mut |done, total| {
        calls.push((done, total))
    })
    .unwrap();
    assert_eq!(calls.last(), Some(&(n, n)));
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0), "{calls:?}");
    assert!(calls.iter().all(|&(d, t)| d <= t && t == n));
}

#[test]
fn steps_simulated_are_the_sessions_steps() {
    let sc = load("preflight-and-no-origin.yaml");
    let settings = quick(4, 2 * MIN_CASES_PER_THREAD + 3);
    let ex = Explorer::new(&sc).unwrap();
    let strategy = ex.pool().strategy(settings.min_steps, settings.max_steps);
    let want: u64 = (0..settings.cases)
        .map(|case| {
            session_tree(&strategy, settings.seed, case)
                .current()
                .steps
                .len() as u64
        })
        .sum();
    for jobs in [1, 2] {
        let e = explore_jobs(&sc, &settings, jobs, &mut |_, _| {}).unwrap();
        assert_eq!(e.steps_simulated, want, "{jobs} thread(s)");
    }
}

/// Sampling classifies the poisoned steps from the step cache when every step has its
/// place there, and from the steps it kept otherwise: the same findings either way, and
/// those of a full run.
#[test]
fn sampling_finds_the_same_with_or_without_the_step_cache() {
    for name in ["preflight-and-no-origin.yaml", "reflect-without-vary.yaml"] {
        let sc = load(name);
        let mut cached = Explorer::new(&sc).unwrap();
        let mut uncached = Explorer::new(&sc).unwrap();
        uncached.steps = Vec::new();
        let strategy = cached.pool().strategy(1, 10);
        let mut found = 0;
        for case in 0..200 {
            let s = session_tree(&strategy, 7, case).current();
            let a = cached.sample(&s).map(|f| format!("{f:?}"));
            // every step had its place in the cache: none was copied
            assert!(cached.last_steps.is_empty(), "{name} case {case}");
            let b = uncached.sample(&s).map(|f| format!("{f:?}"));
            assert_eq!(a, b, "{name} case {case}");
            assert!(uncached.last_steps.len() >= s.steps.len() || a.is_none());
            if a.is_some() {
                found += 1;
                assert_eq!(a, Some(format!("{:?}", cached.findings(&s))));
            }
        }
        assert!(found > 10, "{name}: {found} sessions with findings");
    }
}
