//! Every static rule with a positive and a negative case, the simulator-decided severity,
//! and the probe's plan and analysis on hand-made answers. (Lint's own unit tests, kept
//! here because lint is handed the simulator by its caller and does not import it.)

use varyedge::edge::knobs::Knobs;
use varyedge::fields::Headers;
use varyedge::flow::Trace;
use varyedge::lint::probe::{self, Answer, Craft};
use varyedge::lint::*;
use varyedge::origin::OriginModel;
use varyedge::report::lint as render;
use varyedge::scenario::{self, Scenario};

const CORRECT: &str = include_str!("../scenarios/lint/correct.yaml");

/// `correct.yaml` with text replacements applied (each must apply).
fn variant(edits: &[(&str, &str)]) -> String {
    let mut s = CORRECT.to_string();
    for (from, to) in edits {
        assert!(s.contains(from), "correct.yaml has no {from:?}");
        s = s.replacen(from, to, 1);
    }
    s
}

/// The simulator, as `varyedge lint` hands it to lint: each built-in profile with the
/// scenario's overrides on top, as `matrix` and `replay --profile` load it.
struct Sim<'a>(&'a str);

impl Replayer for Sim<'_> {
    fn replay(&self, sc: &Scenario, knobs: &Knobs, origin: &OriginModel) -> Trace {
        varyedge::sim::replay_with(sc, knobs, &mut origin.clone())
    }
    fn profiles(&self, _: &Scenario) -> Vec<(String, Knobs)> {
        varyedge::profile::PROFILE_NAMES
            .iter()
            .map(|n| {
                let sc = scenario::parse_with_profile("t.yaml", self.0, Some(n)).unwrap();
                (n.to_string(), sc.edge.knobs)
            })
            .collect()
    }
}

fn lint(text: &str) -> Vec<Finding> {
    let sc = scenario::parse("t.yaml", text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    check(&sc, text, &Sim(text))
}

fn ids(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.id).collect()
}

const ORIGINS: &str = "allow_origins: [https://app.example.com, https://admin.example.com]";
const STEPS: &str = "  - { client: app, fetch: GET /api/data, expect: { cors: ok } }";

/// (rule, a scenario that must report it, a close one that must not).
fn cases() -> Vec<(&'static str, String, String)> {
    vec![
        (
            "reflect-any-origin",
            variant(&[(ORIGINS, "allow_origins: reflect-any")]),
            variant(&[(ORIGINS, "allow_origins: \"*\""), ("allow_credentials: true", "allow_credentials: false")]),
        ),
        (
            "suffix-match-allowlist",
            variant(&[(ORIGINS, "allow_origin_suffix: example.com")]),
            variant(&[(ORIGINS, "allow_origin_suffix: .example.com")]),
        ),
        (
            "prefix-match-allowlist",
            variant(&[(ORIGINS, "allow_origin_prefix: https://app.example.com")]),
            variant(&[(ORIGINS, "allow_origin_pattern: '^https://app\\.example\\.com$'")]),
        ),
        (
            "regex-unescaped-dot",
            variant(&[(ORIGINS, "allow_origin_pattern: '^https://app.example.com$'")]),
            variant(&[(ORIGINS, "allow_origin_pattern: '^https://app\\.example\\.com$'")]),
        ),
        (
            "subdomain-trusted",
            variant(&[(ORIGINS, "allow_origin_pattern: '^https://.*\\.example\\.com$'")]),
            variant(&[(ORIGINS, "allow_origin_pattern: '^https://(app|admin)\\.example\\.com$'".replace("(app|admin)", "app").as_str())]),
        ),
        (
            "null-origin-allowed",
            variant(&[(ORIGINS, "allow_origins: [https://app.example.com, \"null\"]")]),
            variant(&[(ORIGINS, "allow_origins: [https://app.example.com]")]),
        ),
        (
            "http-origin-trusted",
            variant(&[(ORIGINS, "allow_origins: [https://app.example.com, http://admin.example.com]")]),
            variant(&[(ORIGINS, "allow_origins: [https://app.example.com, http://localhost:3000]")]),
        ),
        (
            "unmatchable-allowlist-entry",
            variant(&[(ORIGINS, "allow_origins: [https://app.example.com, https://admin.example.com/]")]),
            variant(&[(ORIGINS, "allow_origins: [https://app.example.com, https://admin.example.com:8443]")]),
        ),
        (
            "wildcard-with-credentials",
            variant(&[(ORIGINS, "allow_origins: \"*\"")]),
            variant(&[(ORIGINS, "allow_origins: \"*\""), ("allow_credentials: true", "allow_credentials: false")]),
        ),
        (
            "missing-vary-origin",
            variant(&[("vary_origin: true", "vary_origin: false")]),
            variant(&[(ORIGINS, "allow_origins: \"*\""), ("allow_credentials: true", "allow_credentials: false"), ("vary_origin: true", "vary_origin: false")]),
        ),
        (
            "edge-ignores-vary-origin",
            variant(&[("profile: varnish", "profile: url-only")]),
            variant(&[("profile: varnish", "profile: cloudflare")]),
        ),
        (
            "origin-not-forwarded",
            variant(&[("profile: varnish", "profile: cloudfront")]),
            variant(&[("profile: varnish", "profile: cloudfront-origin-keyed")]),
        ),
        (
            "missing-preflight-vary",
            variant(&[("preflight_vary: true", "preflight_vary: false")]),
            variant(&[("preflight_vary: true", "preflight_vary: false"), ("\"public, max-age=600\"", "no-store")]),
        ),
        (
            "options-cached-unkeyed",
            variant(&[("profile: varnish", "profile: cloudfront-cors-s3")]),
            variant(&[("profile: varnish", "profile: cloudfront-origin-keyed")]),
        ),
        (
            "max-age-above-cap",
            variant(&[("max_age: 600", "max_age: 7200")]),
            variant(&[("max_age: 600", "max_age: 7200"), ("browser: safari", "browser: chrome")]),
        ),
        (
            "no-options-handler",
            variant(&[("preflight_vary: true", "preflight_vary: true\n    options: false")]),
            variant(&[("preflight_vary: true", "preflight_vary: true\n    options: false"), ("allow_methods: [GET, PUT]", "allow_methods: [GET]"), ("allow_headers: [content-type]", "allow_headers: []"), ("fetch: PUT /api/data, headers: { content-type: application/json }", "fetch: GET /api/data")]),
        ),
        (
            "preflight-bad-status",
            variant(&[("preflight_vary: true", "preflight_vary: true\n    preflight_status: 400")]),
            variant(&[("preflight_vary: true", "preflight_vary: true\n    preflight_status: 200")]),
        ),
        (
            "header-not-allowed",
            variant(&[(STEPS, "  - { client: app, fetch: GET /api/data, headers: { x-api-key: k } }")]),
            variant(&[(STEPS, "  - { client: app, fetch: GET /api/data, headers: { content-type: application/json } }")]),
        ),
        (
            "method-not-allowed",
            variant(&[(STEPS, "  - { client: app, fetch: DELETE /api/data }")]),
            variant(&[(STEPS, "  - { client: app, fetch: PUT /api/data }")]),
        ),
        (
            "pna-not-answered",
            variant(&[("browser: chrome }", "browser: chrome, private_network: true }")]),
            variant(&[("browser: chrome }", "browser: chrome, private_network: true }"), ("preflight_vary: true", "preflight_vary: true\n    allow_private_network: true")]),
        ),
        (
            "client-blocked",
            variant(&[(ORIGINS, "allow_origins: [https://admin.example.com]")]),
            variant(&[(ORIGINS, "allow_origins: [https://app.example.com, https://admin.example.com, https://other.example.com]")]),
        ),
    ]
}

#[test]
fn correct_policy_has_no_findings() {
    assert_eq!(ids(&lint(CORRECT)), Vec::<&str>::new());
}

#[test]
fn every_static_rule_has_a_positive_and_a_negative_case() {
    let cases = cases();
    for id in static_rule_ids() {
        assert!(
            cases.iter().any(|(c, _, _)| *c == id),
            "no test case for {id}"
        );
        assert!(rule(id).is_some(), "{id} is not in RULES");
    }
    for (id, pos, neg) in &cases {
        let p = lint(pos);
        assert!(
            ids(&p).contains(id),
            "{id}: positive case did not report it: {:?}\n{pos}",
            ids(&p)
        );
        let n = lint(neg);
        assert!(
            !ids(&n).contains(id),
            "{id}: negative case reported it: {n:#?}\n{neg}"
        );
    }
}

#[test]
fn findings_carry_texts_and_locations() {
    let text = variant(&[(
        ORIGINS,
        "allow_origins: [https://app.example.com, \"null\"]",
    )]);
    let f = lint(&text);
    let n = f.iter().find(|f| f.id == "null-origin-allowed").unwrap();
    assert_eq!(n.severity, Severity::Critical, "credentials are allowed");
    assert_eq!(
        (n.location.line, n.location.col),
        (Some(5), Some(47)),
        "{n:?}"
    );
    assert!(!n.why.is_empty() && !n.fix.is_empty() && !n.title.is_empty());
    let text = variant(&[(
        STEPS,
        "  - { client: app, fetch: GET /api/data, headers: { x-api-key: k } }",
    )]);
    let step_line = text.lines().position(|l| l.contains("x-api-key")).unwrap() as u64 + 1;
    let f = lint(&text);
    let h = f.iter().find(|f| f.id == "header-not-allowed").unwrap();
    assert_eq!(h.location.line, Some(step_line), "the step's line: {h:?}");
    assert!(h.evidence.contains("x-api-key"), "{}", h.evidence);
}

#[test]
fn credentials_raise_reflection_to_critical() {
    let with = lint(&variant(&[(ORIGINS, "allow_origins: reflect-any")]));
    assert_eq!(with[0].severity, Severity::Critical);
    let without = lint(&variant(&[
        (ORIGINS, "allow_origins: reflect-any"),
        ("allow_credentials: true", "allow_credentials: false"),
    ]));
    let r = without
        .iter()
        .find(|f| f.id == "reflect-any-origin")
        .unwrap();
    assert_eq!(r.severity, Severity::Medium);
}

#[test]
fn the_simulator_decides_whether_a_missing_vary_poisons() {
    // varnish honours Vary but the origin sends none: poisoned.
    let f = lint(&variant(&[("vary_origin: true", "vary_origin: false")]));
    let m = f.iter().find(|f| f.id == "missing-vary-origin").unwrap();
    assert_eq!(m.severity, Severity::High);
    assert!(
        m.evidence.contains("blocked (origin-mismatch)"),
        "{}",
        m.evidence
    );
    // cloudflare keys on the request Origin: no poisoning on this edge, latent elsewhere.
    let f = lint(&variant(&[
        ("vary_origin: true", "vary_origin: false"),
        ("profile: varnish", "profile: cloudflare"),
    ]));
    let m = f.iter().find(|f| f.id == "missing-vary-origin").unwrap();
    assert_eq!(m.severity, Severity::Low, "{}", m.evidence);
    assert!(
        m.evidence.contains("latent") && m.evidence.contains("url-only"),
        "{}",
        m.evidence
    );
    // when-origin: a request without Origin comes first.
    let f = lint(&variant(&[(
        "vary_origin: true",
        "vary_origin: when-origin",
    )]));
    let m = f.iter().find(|f| f.id == "missing-vary-origin").unwrap();
    assert!(
        m.evidence.contains("a request without Origin"),
        "{}",
        m.evidence
    );
}

#[test]
fn severity_ids_round_trip_and_order() {
    for s in Severity::ALL {
        assert_eq!(Severity::from_id(s.id()), Some(s));
    }
    assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
    let f = lint(&variant(&[("max_age: 600", "max_age: 86400")]));
    assert!(fails(&f, Severity::Low));
    assert!(!fails(&f, Severity::Medium));
}

#[test]
fn rule_ids_are_unique_kebab_case() {
    for (i, r) in RULES.iter().enumerate() {
        assert!(
            r.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{}",
            r.id
        );
        assert!(
            RULES[..i].iter().all(|o| o.id != r.id),
            "duplicate {}",
            r.id
        );
    }
}

#[test]
fn plan_crafts_origins_from_the_trusted_one() {
    let p = probe::plan(&["https://app.example.com".into()], &["/api".into()]);
    let origin = |c: Craft| {
        p.iter()
            .find(|x| x.craft == c && x.method == "GET")
            .and_then(|x| x.origin.clone())
    };
    assert_eq!(origin(Craft::Attacker).as_deref(), Some(probe::ATTACKER));
    assert_eq!(origin(Craft::Null).as_deref(), Some("null"));
    assert_eq!(
        origin(Craft::Suffix).as_deref(),
        Some("https://evil-example.com")
    );
    assert_eq!(
        origin(Craft::Prefix).as_deref(),
        Some("https://app.example.com.evil.test")
    );
    assert_eq!(
        origin(Craft::UnescapedDot).as_deref(),
        Some("https://appxexample.com")
    );
    assert_eq!(
        origin(Craft::HttpDowngrade).as_deref(),
        Some("http://app.example.com")
    );
    assert_eq!(
        origin(Craft::Subdomain).as_deref(),
        Some("https://evil.app.example.com")
    );
    assert_eq!(p.iter().filter(|x| x.craft == Craft::NoOrigin).count(), 1);
    assert!(p
        .iter()
        .any(|x| x.credentials && x.headers().contains("cookie")));
    assert!(p
        .iter()
        .any(|x| !x.credentials && x.craft == Craft::Attacker));
    let pre: Vec<_> = p.iter().filter(|x| x.method == "OPTIONS").collect();
    assert_eq!(pre.len(), 3);
    assert!(pre
        .iter()
        .all(|x| x.headers().contains("access-control-request-method")));
}

fn answer(status: u16, h: &[(&str, &str)]) -> Answer {
    Answer {
        status,
        headers: Headers::from_pairs(h.iter().copied()),
    }
}

/// Answers from a hand-written server: `reflect(origin)` says whether it is echoed.
fn run(reflect: impl Fn(&str) -> bool, vary: bool, creds: bool) -> Vec<&'static str> {
    let probes = probe::plan(&["https://app.example.com".into()], &["/".into()]);
    let answers: Vec<Result<Answer, String>> = probes
        .iter()
        .map(|p| {
            let mut h: Vec<(&str, &str)> = vec![("cache-control", "public, max-age=60")];
            if vary {
                h.push((
                    "vary",
                    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
                ));
            }
            if let Some(o) = p.origin.as_deref().filter(|o| reflect(o)) {
                h.push(("access-control-allow-origin", o));
                if creds {
                    h.push(("access-control-allow-credentials", "true"));
                }
                if p.method == "OPTIONS" {
                    h.push(("access-control-allow-methods", "GET, PUT"));
                }
            }
            Ok(answer(if p.method == "OPTIONS" { 204 } else { 200 }, &h))
        })
        .collect();
    ids(&probe::analyse("http://x", &probes, &answers))
}

#[test]
fn analyse_attributes_each_reflection_to_its_cause() {
    let exact = |o: &str| o == "https://app.example.com";
    assert_eq!(run(exact, true, true), Vec::<&str>::new());
    assert_eq!(run(|_| true, true, true), vec!["reflect-any-origin"]);
    assert_eq!(
        run(|o| o.ends_with("example.com"), true, false),
        vec!["suffix-match-allowlist"]
    );
    assert_eq!(
        run(|o| o.starts_with("https://app.example.com"), true, false),
        vec!["prefix-match-allowlist"]
    );
    assert_eq!(
        run(|o| exact(o) || o == "https://appxexample.com", true, false),
        vec!["regex-unescaped-dot"]
    );
    assert_eq!(
        run(|o| exact(o) || o == "null", true, false),
        vec!["null-origin-allowed"]
    );
    assert_eq!(
        run(|o| exact(o) || o == "http://app.example.com", true, false),
        vec!["http-origin-trusted"]
    );
    assert_eq!(
        run(
            |o| o.starts_with("https://") && o.ends_with(".example.com") && !o.contains("evil-"),
            true,
            false
        ),
        vec!["subdomain-trusted"]
    );
    assert_eq!(
        run(exact, false, false),
        vec!["missing-vary-origin", "missing-preflight-vary"]
    );
}

#[test]
fn analyse_preflight_problems() {
    let probes = probe::plan(&["https://app.example.com".into()], &["/".into()]);
    let get_ok = |p: &probe::Probe| {
        let mut h = vec![("vary", "Origin")];
        if p.origin.as_deref() == Some("https://app.example.com") {
            h.push(("access-control-allow-origin", "https://app.example.com"));
        }
        answer(200, &h)
    };
    let with = |pre: &dyn Fn(&probe::Probe) -> Answer| -> Vec<&'static str> {
        let answers: Vec<Result<Answer, String>> = probes
            .iter()
            .map(|p| {
                Ok(if p.method == "OPTIONS" {
                    pre(p)
                } else {
                    get_ok(p)
                })
            })
            .collect();
        ids(&probe::analyse("http://x", &probes, &answers))
    };
    assert_eq!(
        with(&|_| answer(405, &[("allow", "GET")])),
        vec!["no-options-handler"]
    );
    let reflecting = |p: &probe::Probe| {
        let acrh = p.request_headers.clone().unwrap_or_default();
        let mut a = answer(204, &[("vary", "Origin"), ("cache-control", "max-age=600")]);
        if p.craft == Craft::Trusted {
            a.headers
                .append("access-control-allow-origin", "https://app.example.com");
            a.headers.append("access-control-allow-headers", &acrh);
            a.headers.append("access-control-max-age", "86400");
        }
        a
    };
    assert_eq!(
        with(&reflecting),
        vec!["missing-preflight-vary", "max-age-above-cap"]
    );
    // Failed requests are skipped, not judged.
    let answers: Vec<Result<Answer, String>> =
        probes.iter().map(|_| Err("refused".to_string())).collect();
    assert!(probe::analyse("http://x", &probes, &answers).is_empty());
}

#[test]
fn renderers_show_every_field() {
    let f = lint(&variant(&[(ORIGINS, "allow_origins: reflect-any")]));
    let t = render::text("t.yaml", &f);
    assert!(t.contains("CRITICAL reflect-any-origin  t.yaml:5:5"), "{t}");
    assert!(
        t.contains("evidence:") && t.contains("why:") && t.contains("fix:"),
        "{t}"
    );
    let j: serde_json::Value = serde_json::from_str(&render::json("t.yaml", &f)).unwrap();
    assert_eq!(j["findings"][0]["id"], "reflect-any-origin");
    assert_eq!(j["findings"][0]["severity"], "critical");
    assert_eq!(j["findings"][0]["location"]["line"], 5);
    assert_eq!(j["summary"]["critical"], 1);
    assert_eq!(
        render::text("t.yaml", &[]),
        "varyedge lint t.yaml: no findings\n"
    );
}

/// Counts what lint asks of the simulator: replays, and steps replayed.
struct Counting<'a> {
    inner: Sim<'a>,
    replays: std::cell::Cell<usize>,
    steps: std::cell::Cell<usize>,
}

impl Replayer for Counting<'_> {
    fn replay(&self, sc: &Scenario, knobs: &Knobs, origin: &OriginModel) -> Trace {
        self.replays.set(self.replays.get() + 1);
        self.steps.set(self.steps.get() + sc.steps.len());
        self.inner.replay(sc, knobs, origin)
    }
    fn profiles(&self, sc: &Scenario) -> Vec<(String, Knobs)> {
        self.inner.profiles(sc)
    }
}

/// `correct.yaml`-like policy without `Vary: Origin`, allowing `n` origins.
fn allowlist(n: usize) -> String {
    let list: Vec<String> = (0..n)
        .map(|i| format!("https://app{i}.example.com"))
        .collect();
    variant(&[
        (ORIGINS, &format!("allow_origins: [{}]", list.join(", "))),
        ("vary_origin: true", "vary_origin: false"),
    ])
}

/// Issue 11: lint was quadratic in the allowlist (16k origins 15.5 s, 50k > 120 s): the
/// static probe sent 14 requests per listed origin, each matched against the whole list.
/// Not timed: the work lint plans is counted, and must not grow with the list — the same
/// replays and steps, and the same number of probe requests, for 100 and for 50,000
/// origins (only parsing and matching, linear, grow).
#[test]
fn lint_work_does_not_grow_with_the_allowlist() {
    let mut seen = Vec::new();
    for n in [100, 50_000] {
        let text = allowlist(n);
        let sc = scenario::parse("t.yaml", &text).unwrap();
        let scenario::OriginSpec::Model(m) = &sc.origin else {
            panic!("a modelled origin")
        };
        let policy = m.cors.as_ref().unwrap();
        let trusted = poison::probe_trusted(&sc, policy);
        let probes = probe::plan(&trusted, &["/api/data".to_string()]).len();
        let c = Counting {
            inner: Sim(&text),
            replays: 0.into(),
            steps: 0.into(),
        };
        let f = check(&sc, &text, &c);
        assert!(
            ids(&f).contains(&"missing-vary-origin"),
            "{n}: {:?}",
            ids(&f)
        );
        seen.push((probes, c.replays.get(), c.steps.get()));
    }
    assert_eq!(seen[0], seen[1], "work planned for 100 vs 50,000 origins");
    let (probes, replays, steps) = seen[0];
    assert!(probes < 200 && replays > 0 && steps > 0, "{seen:?}");
}

/// Unmatchable entries are located one by one (a scan of the text each) only for the first
/// twenty; one more finding counts the rest.
#[test]
fn many_unmatchable_entries_are_counted_past_twenty() {
    let list: Vec<String> = (0..30)
        .map(|i| format!("https://app{i}.example.com/"))
        .collect();
    let text = variant(&[(
        ORIGINS,
        &format!(
            "allow_origins: [https://app.example.com, {}]",
            list.join(", ")
        ),
    )]);
    let f: Vec<Finding> = lint(&text)
        .into_iter()
        .filter(|f| f.id == "unmatchable-allowlist-entry")
        .collect();
    assert_eq!(f.len(), 21, "{f:#?}");
    assert!(
        f[20].evidence.starts_with(
            "10 more entries no browser sends, the first \"https://app20.example.com/\""
        ),
        "{}",
        f[20].evidence
    );
}

/// The simulator's quick answer to "has this replay a cache-induced step" (each step run
/// only to its attribution, stopping at the first) is the full replay's, for every bundled
/// scenario under every built-in profile; both answers occur.
#[test]
fn the_quick_cache_induced_answer_is_the_replays() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut seen = [0usize; 2];
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for name in varyedge::profile::PROFILE_NAMES {
            let sc = scenario::parse_with_profile("s.yaml", &text, Some(name)).unwrap();
            let scenario::OriginSpec::Model(m) = &sc.origin else {
                continue;
            };
            let k = &sc.edge.knobs;
            let full = varyedge::sim::replay_with(&sc, k, &mut m.clone());
            let quick = varyedge::sim::any_cache_induced(&sc, k, &mut m.clone());
            assert_eq!(
                quick,
                full.summary.cache_induced > 0,
                "{} under {name}",
                p.display()
            );
            seen[usize::from(quick)] += 1;
        }
    }
    assert!(seen[0] > 10 && seen[1] > 10, "{seen:?}");
}

/// `origin-not-forwarded` when Origin reaches the origin but the preflight's own fields do
/// not: the title, evidence and fix name `Access-Control-Request-*`, not Origin.
#[test]
fn origin_not_forwarded_names_the_preflight_fields_when_only_they_are_missing() {
    let text = variant(&[(
        "profile: varnish",
        "profile: rfc9111\n  forward_headers: [origin]",
    )]);
    let f = lint(&text);
    let Some(x) = f.iter().find(|x| x.id == "origin-not-forwarded") else {
        panic!("{:?}", ids(&f));
    };
    assert!(
        x.title.contains("Access-Control-Request-Method"),
        "{}",
        x.title
    );
    assert!(
        !x.evidence.contains("never sees `Origin`"),
        "{}",
        x.evidence
    );
    assert!(
        x.fix.contains("access-control-request-headers"),
        "{}",
        x.fix
    );
    // CloudFront's managed CORS-CustomOrigin forwards only Origin: not a fix for this
    assert!(
        x.fix.contains("CORS-S3Origin or AllViewer")
            && !x.fix.contains("such as CORS-CustomOrigin"),
        "{}",
        x.fix
    );
    // with nothing of CORS forwarded it is about Origin
    let text = variant(&[("profile: varnish", "profile: cloudfront")]);
    let f = lint(&text);
    let x = f.iter().find(|x| x.id == "origin-not-forwarded");
    assert!(
        x.is_some_and(|x| x.title == "The origin never sees the request's Origin"),
        "{f:?}"
    );
}
