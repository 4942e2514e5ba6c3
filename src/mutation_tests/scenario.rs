//! `crate::scenario` validation: every rule that refuses input, and the values a valid
//! input turns into. Errors must name the file and position (PRODUCT.md: bad input is a
//! clear error with file:line:col and what was expected).

use crate::edge::knobs::QueryKey;
use crate::origin::{AllowHeaders, AllowOrigins, VaryOrigin};
use crate::scenario::{parse, validate_origin, OriginSpec, Scenario};

const ORIGIN: &str = "origin:\n  routes:\n    - path: /x\n";
const CLIENTS: &str = "clients:\n  - { name: a, origin: https://a.example }\n";
const STEPS: &str = "steps:\n  - { client: a, fetch: GET /x }\n";

fn ok(text: &str) -> Scenario {
    match parse("dir/t.yaml", text) {
        Ok(s) => s,
        Err(e) => panic!("{e}\n---\n{text}"),
    }
}

/// The error for `text`, which must mention `expected` and point into `dir/t.yaml`.
fn refused(text: &str, expected: &str) {
    match parse("dir/t.yaml", text) {
        Ok(_) => panic!("accepted, expected an error mentioning {expected:?}:\n{text}"),
        Err(e) => {
            let m = e.to_string();
            assert!(m.contains(expected), "{m:?} lacks {expected:?}");
            assert!(m.contains("dir/t.yaml:"), "{m:?} has no location");
        }
    }
}

fn with(top: &str, origin: &str, clients: &str, steps: &str) -> String {
    format!("{top}{origin}{clients}{steps}")
}

#[test]
fn top_level_rules() {
    let s = ok(&with("", ORIGIN, CLIENTS, STEPS));
    assert_eq!(s.name, "t", "the name defaults to the file stem");
    assert_eq!(
        ok(&with("version: 1\n", ORIGIN, CLIENTS, STEPS))
            .steps
            .len(),
        1
    );
    refused(&with("version: 2\n", ORIGIN, CLIENTS, STEPS), "version 2");
    let s = ok(&with(
        "host: API.Example\nscheme: http\n",
        ORIGIN,
        CLIENTS,
        STEPS,
    ));
    assert_eq!(s.steps[0].host, "api.example");
    assert_eq!(s.steps[0].scheme, "http");
    assert_eq!(
        ok(&with("", ORIGIN, CLIENTS, STEPS)).steps[0].scheme,
        "https"
    );
    refused(&with("host: a/b\n", ORIGIN, CLIENTS, STEPS), "host name");
    refused(&with("host: ''\n", ORIGIN, CLIENTS, STEPS), "host name");
    refused(
        &with("scheme: ftp\n", ORIGIN, CLIENTS, STEPS),
        "`http` or `https`",
    );
    refused(&with("", "", CLIENTS, STEPS), "missing `origin:`");
    refused(&with("", ORIGIN, "", STEPS), "missing `clients:`");
    refused(
        &with("", ORIGIN, "clients: []\n", STEPS),
        "`clients:` is empty",
    );
    refused(&with("", ORIGIN, CLIENTS, ""), "missing `steps:`");
}

#[test]
fn upstream_rules() {
    let s = ok(&with(
        "upstream: http://127.0.0.1:3000/\n",
        "",
        CLIENTS,
        STEPS,
    ));
    assert_eq!(
        s.origin,
        OriginSpec::Upstream("http://127.0.0.1:3000".into())
    );
    ok(&with("upstream: https://x\n", "", CLIENTS, STEPS));
    refused(
        &with("upstream: ftp://x\n", "", CLIENTS, STEPS),
        "http:// URL",
    );
    refused(
        &with("upstream: http://\n", "", CLIENTS, STEPS),
        "http:// URL",
    );
    refused(&with("upstream: x\n", "", CLIENTS, STEPS), "http:// URL");
    refused(
        &with("upstream: http://x\n", ORIGIN, CLIENTS, STEPS),
        "not both",
    );
    let nested = "origin:\n  upstream: http://x\n  routes:\n    - path: /x\n";
    refused(
        &with("", nested, CLIENTS, STEPS),
        "drop `cors:` and `routes:`",
    );
    let nested = "origin:\n  upstream: http://x\n  cors: { allow_origins: \"*\" }\n";
    refused(
        &with("", nested, CLIENTS, STEPS),
        "drop `cors:` and `routes:`",
    );
}

fn cors(block: &str) -> String {
    with(
        "",
        &format!("origin:\n  cors:\n{block}\n  routes:\n    - path: /x\n"),
        CLIENTS,
        STEPS,
    )
}

fn policy(block: &str) -> crate::origin::CorsPolicy {
    match ok(&cors(block)).origin {
        OriginSpec::Model(m) => m.cors.unwrap_or_default(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn cors_policy_rules() {
    assert_eq!(
        policy("    allow_origins: \"*\"").allow_origins,
        AllowOrigins::Any
    );
    assert_eq!(
        policy("    allow_origins: reflect-any").allow_origins,
        AllowOrigins::ReflectAny
    );
    assert_eq!(
        policy("    allow_origins: \"null\"").allow_origins,
        AllowOrigins::List(vec!["null".into()])
    );
    assert_eq!(
        policy("    allow_origins: https://a.example").allow_origins,
        AllowOrigins::List(vec!["https://a.example".into()])
    );
    refused(&cors("    allow_origins: a.example"), "list of origins");
    refused(
        &cors("    allow_methods: [GET]"),
        "missing `allow_origins:`",
    );
    let p = policy(
        "    allow_origins: \"*\"\n    allow_methods: [GET, PATCH]\n    allow_headers: \"*\"\n    vary_origin: always\n    preflight_status: 599\n    options: false",
    );
    assert_eq!(p.allow_methods, vec!["GET", "PATCH"]);
    assert_eq!(p.allow_headers, AllowHeaders::Any);
    assert_eq!(p.vary_origin, VaryOrigin::Always);
    assert_eq!(p.preflight_status, 599);
    assert!(!p.options_handler && !p.allow_credentials);
    let p = policy("    allow_origins: \"*\"\n    allow_headers: reflect\n    vary_origin: never\n    preflight_status: 100");
    assert_eq!(p.allow_headers, AllowHeaders::Reflect);
    assert_eq!(p.vary_origin, VaryOrigin::Never);
    assert_eq!(p.preflight_status, 100);
    assert!(p.options_handler);
    let p =
        policy("    allow_origins: \"*\"\n    allow_headers: [x-a]\n    allow_credentials: true");
    assert_eq!(p.allow_headers, AllowHeaders::List(vec!["x-a".into()]));
    assert!(p.allow_credentials);
    // one name written as a plain string is a list of one, not `reflect`
    let p = policy("    allow_origins: \"*\"\n    allow_headers: x-a");
    assert_eq!(p.allow_headers, AllowHeaders::List(vec!["x-a".into()]));
    refused(
        &cors("    allow_origins: \"*\"\n    allow_methods: [\"GE T\"]"),
        "not a method name",
    );
    refused(
        &cors("    allow_origins: \"*\"\n    vary_origin: maybe"),
        "when-origin",
    );
    refused(
        &cors("    allow_origins: \"*\"\n    preflight_status: 99"),
        "between 100 and 599",
    );
    refused(
        &cors("    allow_origins: \"*\"\n    preflight_status: 600"),
        "between 100 and 599",
    );
    refused(&cors("    allow_origin_pattern: \"a[b]\""), "not supported");
}

fn routes(block: &str) -> String {
    with(
        "",
        &format!("origin:\n  routes:\n{block}\n"),
        CLIENTS,
        STEPS,
    )
}

#[test]
fn route_rules() {
    let s = ok(&routes(
        "    - { path: /x, status: 599, cors: none }\n    - { path: /y, status: 100, cors: false }",
    ));
    let OriginSpec::Model(m) = s.origin else {
        panic!("not a model")
    };
    assert_eq!(m.routes[0].status, 599);
    assert_eq!(m.routes[0].cors, Some(None));
    assert_eq!(m.routes[1].status, 100);
    assert_eq!(m.routes[1].cors, Some(None));
    refused(&routes("    - { path: x }"), "starts with /");
    refused(
        &routes("    - { path: /x, status: 600 }"),
        "between 100 and 599",
    );
    refused(
        &routes("    - { path: /x, status: 99 }"),
        "between 100 and 599",
    );
    refused(
        &routes("    - { path: /x, cors: true }"),
        "can only be `false`",
    );
    refused(
        &routes("    - { path: /x, headers: { \"x y\": a } }"),
        "not a valid header name",
    );
    refused(
        &routes("    - { path: /x, headers: { x-y: \"a\\nb\" } }"),
        "line break",
    );
}

fn clients(block: &str) -> String {
    with("", ORIGIN, &format!("clients:\n{block}\n"), STEPS)
}

#[test]
fn client_rules() {
    let s = ok(&clients("  - { name: a, origin: https://a.example, browser: none, mode: no-cors, pop: 0 }\n  - { name: b, browser: none }"));
    assert_eq!(s.clients[1].origin, "");
    assert_eq!(s.clients[0].pop, Some(0));
    refused(&clients("  - { name: a, origin: https://a.example }\n  - { name: a, origin: https://b.example }"), "defined twice");
    refused(
        &clients("  - { name: a, origin: https://a.example, browser: opera }"),
        "expected one of chrome, firefox, safari, none",
    );
    refused(&clients("  - { name: a }"), "needs an `origin:`");
    refused(
        &clients("  - { name: a, origin: https://a.example, pop: 1 }"),
        "pop 1 does not exist",
    );
    refused(
        &clients("  - { name: a, origin: https://a.example/ }"),
        "not an origin",
    );
}

#[test]
fn edge_rules() {
    let e = |block: &str| with("", ORIGIN, CLIENTS, &format!("{STEPS}edge:\n{block}\n"));
    let s = ok(&e("  pops: 1024\n  query: all"));
    assert_eq!(s.edge.knobs.pops, 1024);
    assert_eq!(s.edge.knobs.query, QueryKey::All);
    assert_eq!(ok(&e("  query: none")).edge.knobs.query, QueryKey::None);
    assert_eq!(
        ok(&e("  query: [page]")).edge.knobs.query,
        QueryKey::List(vec!["page".into()])
    );
    refused(&e("  query: some"), "expected all, none or a list");
    assert_eq!(ok(&e("  max_variants: 3")).edge.knobs.max_variants, Some(3));
    assert_eq!(ok(&e("  max_variants: 1")).edge.knobs.max_variants, Some(1));
    refused(&e("  max_variants: 0"), "at least 1");
    // PRODUCT.md "Knobs", edge::forward: which viewer fields reach the origin
    use crate::edge::forward::ForwardHeaders;
    let f = ok(&e("  forward_headers: key\n  forward_strip: [Range, If-None-Match]\n  forward_add: { User-Agent: Amazon CloudFront }"))
        .edge
        .knobs
        .forward;
    assert_eq!(f.headers, ForwardHeaders::Key);
    assert_eq!(f.strip, ["range", "if-none-match"]);
    assert_eq!(
        f.add,
        [("user-agent".to_string(), "Amazon CloudFront".to_string())]
    );
    assert_eq!(
        ok(&e("  forward_headers: all")).edge.knobs.forward.headers,
        ForwardHeaders::All
    );
    assert_eq!(
        ok(&e("  forward_headers: [X-Tenant]"))
            .edge
            .knobs
            .forward
            .headers,
        ForwardHeaders::List(vec!["x-tenant".into()])
    );
    refused(&e("  forward_headers: some"), "expected all, key or a list");
    refused(&e("  forward_strip: [\"a b\"]"), "not a valid header name");
    ok(&e("  pops: 1"));
    refused(&e("  pops: 0"), "between 1 and 1024");
    refused(&e("  pops: 1025"), "between 1 and 1024");
    refused(&e("  profile: nosuch"), "nosuch");
}

fn steps(block: &str) -> String {
    with(
        "",
        ORIGIN,
        "clients:\n  - { name: a, origin: https://a.example }\n  - { name: b, origin: https://b.example }\n",
        &format!("steps:\n{block}\n"),
    )
}

#[test]
fn step_rules() {
    let s = ok(&steps(
        "  - { client: a, fetch: GET /x }\n  - { at: +5s, client: b, fetch: PUT https://Other.example, credentials: include, mode: no-cors }\n  - { at: 5s, client: a, fetch: \"GET  http://h/p?q\", credentials: omit }\n  - { at: +0s, client: a, fetch: GET /y, expect: { cors: ok, preflight: cached } }",
    ));
    assert_eq!(s.steps[1].at_ms, 5_000);
    assert_eq!(s.steps[1].client, 1);
    assert_eq!(s.steps[1].host, "other.example");
    assert_eq!(s.steps[1].target, "/");
    assert_eq!(s.steps[2].at_ms, 5_000);
    assert_eq!(s.steps[2].scheme, "http");
    assert_eq!(s.steps[2].target, "/p?q");
    assert_eq!(s.steps[3].expect.cors_ok, Some(true));
    refused(
        &steps(
            "  - { at: 5s, client: a, fetch: GET /x }\n  - { at: 4s, client: a, fetch: GET /x }",
        ),
        "before the previous step",
    );
    refused(
        &steps("  - { at: soon, client: a, fetch: GET /x }"),
        "expected `+5s`",
    );
    refused(
        &steps("  - { client: c, fetch: GET /x }"),
        "unknown client \"c\"; defined: a, b",
    );
    refused(&steps("  - { client: a, fetch: GET }"), "METHOD /path");
    // The scenario keeps the method as the page wrote it; the browser model normalises
    // the six well-known methods (Fetch §2.2.1), so `get` and `patch` both load.
    let lower = ok(&steps(
        "  - { client: a, fetch: get /x }\n  - { client: a, fetch: patch /x }",
    ));
    assert_eq!(lower.steps[0].method, "get");
    assert_eq!(lower.steps[1].method, "patch");
    refused(
        &steps("  - { client: a, fetch: \"G(T /x\" }"),
        "an HTTP token",
    );
    refused(
        &steps("  - { client: a, fetch: GET ftp://h/x }"),
        "http(s) URL",
    );
    refused(
        &steps("  - { client: a, fetch: GET http:///x }"),
        "http(s) URL",
    );
    refused(&steps("  - { client: a, fetch: GET x }"), "starting with /");
    refused(
        &steps("  - { client: a, fetch: GET /x, credentials: all }"),
        "omit, same-origin, include",
    );
    refused(
        &steps("  - { client: a, fetch: GET /x, expect: { cors: maybe } }"),
        "ok, blocked",
    );
    refused(
        &steps("  - { client: a, fetch: GET /x, expect: { reason: nope } }"),
        "unknown reason",
    );
    refused(
        &steps("  - { client: a, fetch: GET /x, expect: { cache: warm } }"),
        "hit, miss",
    );
}

/// An origin is `scheme "://" host [ ":" port ]` (RFC 6454 §6.2 serialisation) or
/// `null`; the scheme is lowercase; nothing follows the authority.
#[test]
fn origin_serialisation_rules() {
    for good in [
        "null",
        "https://a.example",
        "http://a:8080",
        "web+x.y-z://h",
    ] {
        assert_eq!(validate_origin(good), Ok(()), "{good}");
    }
    for bad in [
        "a.example",
        "://a",
        "HTTPS://a",
        "ht_tp://a",
        "https://",
        "https://a/",
        "https://a?q",
        "https://a#f",
        "https://a b",
    ] {
        assert!(validate_origin(bad).is_err(), "{bad}");
    }
}

/// PRODUCT.md "Knobs": `edge: { import: FILE }` takes its profile and knobs from the
/// imported configuration, unless `--profile` forces one, which then wins whole (its own
/// knobs, not the import's); a forced profile that does not exist is an error naming
/// `--profile`.
#[test]
fn an_import_gives_the_profile_unless_profile_is_forced() {
    use crate::scenario::parse_with;
    let text = with(
        "",
        ORIGIN,
        CLIENTS,
        &format!("{STEPS}edge:\n  import: cfg.vcl\n"),
    );
    let loader = |_: &str, file: &str| {
        let mut knobs = crate::profile::profile("varnish").unwrap().knobs;
        knobs.max_variants = Some(7);
        Ok(crate::import::Imported {
            file: file.to_string(),
            format: crate::import::Format::Vcl,
            profile: "varnish",
            knobs,
            notes: Vec::new(),
            warnings: Vec::new(),
            assumed: Vec::new(),
        })
    };
    let s = parse_with("dir/t.yaml", &text, None, Some(&loader)).unwrap();
    assert_eq!(s.edge.profile, "varnish");
    assert_eq!(s.edge.knobs.max_variants, Some(7), "the import's knobs");
    let s = parse_with("dir/t.yaml", &text, Some("cloudfront"), Some(&loader)).unwrap();
    assert_eq!(s.edge.profile, "cloudfront");
    assert_eq!(
        s.edge.knobs.max_variants,
        crate::profile::profile("cloudfront")
            .unwrap()
            .knobs
            .max_variants
    );
    let e = parse_with("dir/t.yaml", &text, Some("nosuch"), Some(&loader)).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("varyedge: --profile: unknown profile \"nosuch\"; expected one of"),
        "{e}"
    );
    // without an import, a forced profile also wins over the scenario's own
    let own = with(
        "",
        ORIGIN,
        CLIENTS,
        &format!("{STEPS}edge:\n  profile: fastly\n"),
    );
    assert_eq!(
        parse_with("dir/t.yaml", &own, Some("nginx"), None)
            .unwrap()
            .edge
            .profile,
        "nginx"
    );
    assert_eq!(
        parse_with("dir/t.yaml", &own, None, None)
            .unwrap()
            .edge
            .profile,
        "fastly"
    );
}

/// PRODUCT.md: bad input is an error saying what was expected. A key given the wrong
/// YAML shape names the shape it takes: a scalar, a string or a list of strings, a map of
/// header names to values.
#[test]
fn a_wrong_shape_names_the_shape_expected() {
    refused(
        &with(
            "",
            ORIGIN,
            CLIENTS,
            &format!("{STEPS}edge:\n  collapse: [a]\n"),
        ),
        "a single value (a string, number or boolean)",
    );
    refused(
        &with(
            "",
            ORIGIN,
            CLIENTS,
            &format!("{STEPS}edge:\n  key_headers: {{ a: 1 }}\n"),
        ),
        "a string or a list of strings",
    );
    for bad in ["a", "[a]"] {
        refused(
            &with(
                "",
                ORIGIN,
                CLIENTS,
                &format!("{STEPS}edge:\n  forward_add: {bad}\n"),
            ),
            "a map of header names to values",
        );
    }
}

/// PRODUCT.md "Exit codes": a replay passes when every expectation is met and no step
/// failed unexpectedly (blocked with no `cors:` expectation allowing it); either alone
/// fails it. The summary counts every step.
#[test]
fn a_trace_passes_only_without_unmet_expectations_and_unexpected_failures() {
    let run = |steps: &str| {
        let text = format!(
            "origin:\n  cors: {{ allow_origins: [https://a.example] }}\n  routes: [{{ path: /x }}]\nclients:\n  - {{ name: a, origin: https://a.example }}\n  - {{ name: b, origin: https://b.example }}\nsteps:\n{steps}"
        );
        crate::sim::replay(&ok(&text)).unwrap()
    };
    let t = run("  - { client: a, fetch: GET /x }\n  - { client: a, fetch: GET /x }\n");
    assert!(t.passed());
    assert_eq!(t.summary.steps, 2);
    assert_eq!(
        (
            t.summary.edge_requests,
            t.summary.blocked,
            t.summary.cache_induced
        ),
        (2, 0, 0)
    );
    let t = run("  - { client: b, fetch: GET /x }\n");
    assert_eq!((t.summary.blocked, t.summary.wrongly_allowed), (1, 0));
    assert_eq!(
        (t.summary.unexpected_failures, t.summary.unmet_expectations),
        (1, 0)
    );
    assert!(!t.passed(), "an unexpected failure alone fails it");
    let t = run("  - { client: b, fetch: GET /x, expect: { cors: blocked } }\n");
    assert!(t.passed(), "an expected failure passes");
    let t = run("  - { client: a, fetch: GET /x, expect: { cors: blocked } }\n");
    assert_eq!(
        (t.summary.unexpected_failures, t.summary.unmet_expectations),
        (0, 1)
    );
    assert!(!t.passed(), "an unmet expectation alone fails it");
}
