use super::*;

pub(crate) const PRODUCT_EXAMPLE: &str = r#"name: reflect-without-vary
about: The API reflects an allowlisted Origin but forgets Vary; the edge keys on the URL only.
origin:                                  # or: upstream: http://127.0.0.1:3000
  cors:
    allow_origins: [https://app1.example.com, https://app2.example.com]   # or "*" or reflect-any
    allow_credentials: false
    allow_methods: [GET, PUT]
    allow_headers: [authorization, content-type]   # or "*" or reflect (echoes Access-Control-Request-Headers)
    max_age: 600
    vary_origin: false                   # sends `Vary: Origin` on responses
    preflight_vary: false                # sends Vary on Origin + Access-Control-Request-* on preflights
    preflight_cache_control: "public, max-age=600"
  routes:
    - path: /api/data
      cache_control: "public, max-age=300"
      body: '{"status":"ok"}'
edge:
  profile: url-only                      # any knob above may follow and overrides the profile
  cache_options: true
clients:
  - { name: app1, origin: https://app1.example.com, browser: chrome }
  - { name: app2, origin: https://app2.example.com, browser: firefox }
steps:
  - { client: app1, fetch: GET /api/data, expect: { cors: ok, cache: miss } }
  - { at: +5s, client: app2, fetch: GET /api/data, expect: { cors: blocked, reason: origin-mismatch, cache: hit, cache_induced: true } }
  - client: app2
    fetch: PUT /api/data
    headers: { content-type: application/json }
    credentials: include
    expect: { cors: blocked, reason: credentials-not-allowed }
"#;

#[test]
fn product_example_parses() {
    let s = parse("example.yaml", PRODUCT_EXAMPLE).unwrap();
    assert_eq!(s.name, "reflect-without-vary");
    assert_eq!(s.edge.profile, "url-only");
    assert!(s.edge.knobs.cache_options);
    assert_eq!(s.clients.len(), 2);
    assert_eq!(s.clients[1].agent, Agent::Firefox);
    assert_eq!(s.steps.len(), 3);
    assert_eq!(s.steps[1].at_ms, 5000);
    assert_eq!(s.steps[2].at_ms, 5000);
    assert_eq!(s.steps[2].credentials, Credentials::Include);
    assert_eq!(
        s.steps[2].headers.get("content-type"),
        Some("application/json")
    );
    assert_eq!(s.steps[1].expect.reason, Some(Reason::OriginMismatch));
    assert_eq!(s.steps[1].expect.cache_induced, Some(true));
    assert_eq!(s.steps[1].line, 25);
    match &s.origin {
        OriginSpec::Model(m) => {
            let p = m.cors.as_ref().unwrap();
            assert_eq!(
                p.allow_origins,
                AllowOrigins::List(vec![
                    "https://app1.example.com".into(),
                    "https://app2.example.com".into()
                ])
            );
            assert_eq!(p.max_age, Some(600));
            assert_eq!(
                m.routes[0].cache_control.as_deref(),
                Some("public, max-age=300")
            );
        }
        other => panic!("{other:?}"),
    }
}

fn err(text: &str) -> InputError {
    parse("t.yaml", text).unwrap_err()
}

#[test]
fn syntax_error_has_line_and_column() {
    let e = err("name: broken\nclients:\n  - { name: a, origin: https://a.example\nsteps: []\n");
    assert_eq!(e.file, "t.yaml");
    assert!(e.line >= 3, "{e}");
    assert!(e.col >= 1, "{e}");
}

#[test]
fn semantic_errors_point_at_the_value() {
    let base = "origin:\n  routes: [{ path: /a }]\nclients:\n  - { name: a, origin: https://a.example }\nsteps:\n";
    let e = err(&format!("{base}  - {{ client: b, fetch: GET /a }}\n"));
    assert_eq!((e.line, e.col), (6, 15), "{e}");
    assert!(e.message.contains("unknown client \"b\""), "{e}");
    let e = err(&format!("{base}  - {{ client: a, fetch: \"g@t /a\" }}\n"));
    assert_eq!(e.line, 6);
    assert!(e.message.contains("an HTTP token"), "{e}");
    let e = err(&format!(
        "{base}  - {{ client: a, fetch: GET /a, expect: {{ reason: nope }} }}\n"
    ));
    assert!(e.message.contains("unknown reason"), "{e}");
    let e = err(&format!(
        "{base}  - {{ client: a, fetch: GET /a, at: soon }}\n"
    ));
    assert!(e.message.contains("+5s"), "{e}");
    let e = err("edge: { profile: nope }\norigin:\n  routes: [{ path: /a }]\nclients: [{ name: a, origin: https://a }]\nsteps: []\n");
    assert_eq!(e.line, 1);
    assert!(e.message.contains("unknown profile"), "{e}");
    let e = err("origin:\n  routes: [{ path: /a }]\nclients: [{ name: a, origin: https://a/ }]\nsteps: []\n");
    assert!(e.message.contains("trailing slash"), "{e}");
    let e = err("origin:\n  routes: [{ path: /a }]\n  cors: { allow_origins: \"*\", typo: 1 }\nclients: [{ name: a, origin: https://a }]\nsteps: []\n");
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("typo"), "{e}");
}

#[test]
fn absolute_and_relative_times() {
    let s = parse("t.yaml", "origin:\n  routes: [{ path: /a }]\nclients: [{ name: a, origin: https://a }]\nsteps:\n  - { client: a, fetch: GET /a, at: 90s }\n  - { client: a, fetch: GET /a, at: +500ms }\n  - { client: a, fetch: GET https://other.example/x }\n").unwrap();
    assert_eq!(s.steps[0].at_ms, 90_000);
    assert_eq!(s.steps[1].at_ms, 90_500);
    assert_eq!(s.steps[2].host, "other.example");
    assert_eq!(s.steps[2].target, "/x");
    let e = err("origin:\n  routes: [{ path: /a }]\nclients: [{ name: a, origin: https://a }]\nsteps:\n  - { client: a, fetch: GET /a, at: 90s }\n  - { client: a, fetch: GET /a, at: 10s }\n");
    assert_eq!(e.line, 6);
}

#[test]
fn origins_are_validated() {
    assert!(validate_origin("https://a.example:8443").is_ok());
    assert!(validate_origin("null").is_ok());
    assert!(validate_origin("https://a.example/").is_err());
    assert!(validate_origin("a.example").is_err());
    assert!(validate_origin("HTTPS://a").is_err());
}

fn with_cors(cors: &str) -> String {
    format!(
        "origin:\n  cors:\n{cors}\n  routes:\n    - path: /api/data\nclients:\n  - {{ name: a, origin: https://a.example.com }}\nsteps:\n  - {{ client: a, fetch: GET /api/data }}\n"
    )
}

#[test]
fn prefix_and_pattern_allowlists_parse() {
    let s = parse(
        "p.yaml",
        &with_cors("    allow_origin_prefix: https://app.example.com"),
    )
    .unwrap();
    let OriginSpec::Model(m) = s.origin else {
        panic!("model")
    };
    assert_eq!(
        m.cors.unwrap().allow_origins,
        AllowOrigins::Prefix("https://app.example.com".into())
    );
    let s = parse(
        "p.yaml",
        &with_cors("    allow_origin_pattern: '^https://app.example.com$'"),
    )
    .unwrap();
    let OriginSpec::Model(m) = s.origin else {
        panic!("model")
    };
    assert_eq!(
        m.cors.unwrap().allow_origins,
        AllowOrigins::Pattern("^https://app.example.com$".into())
    );
}

#[test]
fn origin_matchers_are_exclusive_and_patterns_checked() {
    let e = parse(
        "p.yaml",
        &with_cors(
            "    allow_origins: [https://a.example.com]\n    allow_origin_prefix: https://a",
        ),
    )
    .unwrap_err();
    assert_eq!((e.line, e.col), (4, 26), "{e}");
    assert!(e.message.contains("allow_origin_prefix"), "{e}");
    let e = parse(
        "p.yaml",
        &with_cors("    allow_origin_suffix: example.com\n    allow_origin_pattern: x"),
    )
    .unwrap_err();
    assert!(e.message.contains("allow_origin_pattern"), "{e}");
    let e = parse(
        "p.yaml",
        &with_cors("    allow_origin_pattern: '^https://(a|b)$'"),
    )
    .unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("not supported"), "{e}");
}

#[test]
fn route_error_windows_and_304_cors_parse_and_are_checked() {
    let route = |extra: &str| {
        format!("origin:\n  routes:\n    - {{ path: /a{extra} }}\nclients: [{{ name: a, origin: https://a }}]\nsteps: [{{ client: a, fetch: GET /a }}]\n")
    };
    let s = parse(
        "t.yaml",
        &route(", cors_on_304: false, errors: [{ status: 503, from: 10s, until: 40s, cache_control: \"max-age=5\" }]"),
    )
    .unwrap();
    let OriginSpec::Model(m) = &s.origin else {
        panic!("a modelled origin")
    };
    let r = &m.routes[0];
    assert!(!r.cors_on_304);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(
        (
            r.errors[0].status,
            r.errors[0].from_ms,
            r.errors[0].until_ms
        ),
        (503, 10_000, Some(40_000))
    );
    assert!(!r.errors[0].cors);
    let e = err(&route(", errors: [{ status: 200 }]"));
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("error status"), "{e}");
    let e = err(&route(", errors: [{ status: 503, from: 5s, until: 5s }]"));
    assert!(e.message.contains("after `from`"), "{e}");
    let e = err(&route(", errors: [{ status: 503, when: 5s }]"));
    assert!(e.message.contains("when"), "{e}");
    // v1 routes without the new keys parse as before
    let s = parse("t.yaml", &route("")).unwrap();
    let OriginSpec::Model(m) = &s.origin else {
        panic!("a modelled origin")
    };
    assert!(m.routes[0].cors_on_304 && m.routes[0].errors.is_empty());
}

#[test]
fn browser_fidelity_fields_parse() {
    let s = parse(
        "t.yaml",
        "origin:
  cors: { allow_origins: \"*\", preflight_headers: { access-control-max-age: \"+10\" } }
  routes:
    - { path: /old, redirect: /new, status: 308, redirect_options: true }
    - { path: /moved, redirect: \"https://other.example/x\" }
    - { path: /new }
clients:
  - { name: a, origin: https://a.example, user: u, http_cache: true, headers: { accept-language: fr, accept-encoding: \"\" }, cookie: \"s=1; SameSite=None; Secure\" }
  - { name: b, origin: https://b.example, user: u }
  - { name: c, origin: https://c.example }
steps:
  - { client: a, fetch: GET /old, redirect: manual, expect: { served_by: browser } }
  - { client: b, fetch: GET /moved, redirect: error }
  - { client: c, fetch: GET /new }
",
    )
    .unwrap();
    assert_eq!(s.clients[0].user, "u");
    assert!(s.clients[0].http_cache && !s.clients[2].http_cache);
    assert_eq!(
        s.clients[2].user, "c",
        "by default a client is its own browser"
    );
    assert_eq!(s.clients[0].headers.get("accept-language"), Some("fr"));
    assert_eq!(s.steps[0].redirect, RedirectMode::Manual);
    assert_eq!(s.steps[1].redirect, RedirectMode::Error);
    assert_eq!(s.steps[2].redirect, RedirectMode::Follow);
    assert_eq!(s.steps[0].expect.served_by, Some(ServedBy::Browser));
    let OriginSpec::Model(m) = &s.origin else {
        panic!("a model")
    };
    assert_eq!(m.routes[0].status, 308);
    assert_eq!(m.routes[0].headers.get("location"), Some("/new"));
    assert!(m.routes[0].redirect_options);
    assert_eq!(m.routes[1].status, 302, "redirect defaults to 302");
}

#[test]
fn redirect_routes_are_validated() {
    let base = "clients: [{ name: a, origin: https://a }]\nsteps: [{ client: a, fetch: GET /a }]\norigin:\n  routes:\n";
    let e = err(&format!(
        "{base}    - {{ path: /a, redirect: elsewhere }}\n"
    ));
    assert_eq!(e.line, 5, "{e}");
    assert!(
        e.message.contains("a path (/new) or an absolute URL"),
        "{e}"
    );
    let e = err(&format!(
        "{base}    - {{ path: /a, redirect: /b, status: 200 }}\n"
    ));
    assert!(e.message.contains("301, 302, 303, 307 or 308"), "{e}");
    let e = err("origin:\n  routes: [{ path: /a }]\nclients: [{ name: a, origin: https://a }]\nsteps:\n  - { client: a, fetch: GET /a, redirect: sometimes }\n");
    assert_eq!(e.line, 5, "{e}");
    assert!(e.message.contains("follow"), "{e}");
}

#[test]
fn durations_are_accepted_wherever_a_time_is() {
    let y = PRODUCT_EXAMPLE
        .replace("    max_age: 600\n", "    max_age: 10m\n")
        .replace(
            "  cache_options: true\n",
            "  cache_options: true\n  ttl: { default: 1h, min: 30s, max: 25h30m }\n",
        );
    let s = parse("d.yaml", &y).unwrap();
    assert_eq!(s.edge.knobs.ttl.default, Some(3600));
    assert_eq!(s.edge.knobs.ttl.min, Some(30));
    assert_eq!(s.edge.knobs.ttl.max, Some(91_800));
    match &s.origin {
        OriginSpec::Model(m) => assert_eq!(m.cors.as_ref().unwrap().max_age, Some(600)),
        other => panic!("{other:?}"),
    }
    // Plain numbers still mean seconds.
    let y = PRODUCT_EXAMPLE.replace(
        "  cache_options: true\n",
        "  cache_options: true\n  ttl: { default: 60 }\n",
    );
    assert_eq!(
        parse("d.yaml", &y).unwrap().edge.knobs.ttl.default,
        Some(60)
    );
}

#[test]
fn a_scalar_where_a_section_belongs_names_its_keys() {
    let y = PRODUCT_EXAMPLE.replace(
        "  cache_options: true\n",
        "  cache_options: true\n  ttl: 60\n",
    );
    let e = parse("t.yaml", &y).unwrap_err().to_string();
    assert!(e.starts_with("t.yaml:20:"), "{e}");
    assert!(e.contains("keys default, min, max"), "{e}");
    assert!(e.contains("ttl: { default: 1h }"), "{e}");
    let y = PRODUCT_EXAMPLE.replace("    max_age: 600\n", "    max_age: soon\n");
    let e = parse("t.yaml", &y).unwrap_err().to_string();
    assert!(e.starts_with("t.yaml:9:"), "{e}");
    assert!(e.contains("expected a duration"), "{e}");
    let y = PRODUCT_EXAMPLE.replace("    max_age: 600\n", "    max_age: 1.5s\n");
    let e = parse("t.yaml", &y).unwrap_err().to_string();
    assert!(e.contains("whole seconds"), "{e}");
    let y = PRODUCT_EXAMPLE.replace(
        "  - { client: app1, fetch: GET /api/data, expect: { cors: ok, cache: miss } }",
        "  - { client: app1, fetch: GET /api/data, expect: ok }",
    );
    let e = parse("t.yaml", &y).unwrap_err().to_string();
    assert!(
        e.contains("`expect:` takes a mapping with keys cors, reason"),
        "{e}"
    );
}

/// A scenario whose first step expects `expect` and whose second states nothing.
fn expecting(expect: &str) -> Scenario {
    parse(
        "t.yaml",
        &format!(
            "origin: {{ routes: [ {{ path: /x }} ] }}
clients: [ {{ name: a, origin: https://a.example }} ]
steps:
  - {{ client: a, fetch: GET /x, expect: {{ {expect} }} }}
  - {{ client: a, fetch: GET /x }}
"
        ),
    )
    .unwrap()
}

/// PRODUCT.md "Scenario format": `expect: { served_by: … }` takes origin, edge, browser
/// or none, the same words the report's `served_by` uses.
#[test]
fn every_served_by_value_parses_to_its_layer() {
    for b in ServedBy::ALL {
        let s = expecting(&format!("served_by: {}", b.id()));
        assert_eq!(s.steps[0].expect.served_by, Some(b));
    }
    assert_eq!(
        ServedBy::ALL.map(ServedBy::id),
        ["origin", "edge", "browser", "none"]
    );
}

/// PRODUCT.md "JSON report": a step's `preflight` is none, sent or cached, and
/// `expect: { preflight: … }` takes the same words. A step that states nothing has an
/// empty expectation (the scenario writer leaves its `expect:` out).
#[test]
fn every_preflight_value_parses_and_an_unstated_expectation_is_empty() {
    for u in PreflightUse::ALL {
        let s = expecting(&format!("preflight: {}", u.id()));
        assert_eq!(s.steps[0].expect.preflight, Some(u));
        assert!(!s.steps[0].expect.is_empty());
        assert!(s.steps[1].expect.is_empty());
    }
    assert_eq!(
        PreflightUse::ALL.map(PreflightUse::id),
        ["none", "sent", "cached"]
    );
}
