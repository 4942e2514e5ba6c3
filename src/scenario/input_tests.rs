//! Scenario validation of hostile input (issue 11): control characters in header values,
//! non-token header names, library-internal error texts, and the YAML budget.

use super::*;

fn scenario(client_extra: &str, origin_extra: &str, edge: &str) -> String {
    format!(
        "name: t\norigin:\n  cors:\n    allow_origins: [https://a.example]\n{origin_extra}  routes:\n    - path: /x\n      cache_control: \"max-age=60\"\nedge:\n  profile: rfc9111\n{edge}clients:\n  - name: a\n    origin: https://a.example\n{client_extra}steps:\n  - {{ client: a, fetch: GET /x }}\n"
    )
}

fn err(text: &str) -> InputError {
    parse("s.yaml", text).expect_err("must be rejected")
}

#[test]
fn a_baseline_scenario_parses() {
    parse("s.yaml", &scenario("", "", "")).unwrap();
}

#[test]
fn crlf_in_a_cookie_is_an_error_at_its_place() {
    let e = err(&scenario("    cookie: \"a=1\\r\\nX-Evil: 1\"\n", "", ""));
    assert_eq!((e.line, e.col), (13, 13), "{e}");
    assert!(
        e.message.contains("cookie") && e.message.contains("control character"),
        "{e}"
    );
}

#[test]
fn crlf_in_cache_control_and_host_are_errors() {
    let t = scenario("", "", "").replace("\"max-age=60\"", "\"max-age=60\\r\\nSet-Cookie: x\"");
    assert!(err(&t).message.contains("cache_control"));
    let t = format!("host: \"api.example\\r\\nX: 1\"\n{}", scenario("", "", ""));
    let e = err(&t);
    assert_eq!(e.line, 1, "{e}");
}

/// RFC 3986 §3.2.2: a host name (reg-name) has no whitespace and no control character;
/// each alone is refused, as are the delimiters that would end the authority.
#[test]
fn a_host_with_a_space_a_control_character_or_a_delimiter_is_refused() {
    for bad in [
        "api example.com",
        "api\\texample.com",
        "api\\u0001x",
        "a/b",
        "a@b",
        "",
    ] {
        let t = format!("host: \"{bad}\"\n{}", scenario("", "", ""));
        let e = err(&t);
        assert!(e.message.contains("expected a host name"), "{bad:?}: {e}");
    }
    let t = format!("host: API.Example.com\n{}", scenario("", "", ""));
    assert_eq!(
        parse("s.yaml", &t).unwrap().steps[0].host,
        "api.example.com"
    );
}

#[test]
fn header_names_must_be_tokens() {
    let e = err(&scenario(
        "",
        "    allow_headers: [\"x ok\", \"bad:name\"]\n",
        "",
    ));
    assert!(
        e.message.contains("allow_headers") && e.message.contains("not a header name"),
        "{e}"
    );
    assert!(e.line > 0);
    let e = err(&scenario("", "", "  key_headers: [\"a b\"]\n"));
    assert!(e.message.contains("key_headers"), "{e}");
}

#[test]
fn duplicate_keys_do_not_mention_library_options() {
    let t = scenario("", "", "").replace("name: t\n", "name: t\nname: u\n");
    let e = err(&t);
    assert!(e.message.contains("duplicate key"), "{e}");
    assert!(
        !e.message.contains("DuplicateKeyPolicy") && !e.message.contains("Options"),
        "{e}"
    );
}

#[test]
fn a_50k_step_scenario_loads() {
    let mut t = scenario("", "", "");
    for i in 0..50_000 {
        t.push_str(&format!(
            "  - {{ client: a, fetch: GET /x?i={i}, at: +1ms }}\n"
        ));
    }
    let s = parse("big.yaml", &t).unwrap();
    assert_eq!(s.steps.len(), 50_001);
}

#[test]
fn a_budget_breach_is_reported_in_plain_words() {
    // the library's real message, with a budget small enough to breach cheaply
    let mut o = yaml_options();
    if let Some(b) = &mut o.budget {
        b.max_nodes = 10;
    }
    let e = serde_saphyr::from_str_with_options::<Vec<u32>>("[1,2,3,4,5,6,7,8,9,10,11,12]", o)
        .expect_err("over budget");
    let raw = e.without_snippet().to_string();
    assert!(raw.contains("budget"), "{raw}");
    let plain = plain_message(&strip_location(&raw));
    assert!(plain.contains("too large"), "{plain}");
    assert!(
        !plain.contains("Nodes {") && !plain.contains("budget"),
        "{plain}"
    );
}

/// Probe inputs (tests/probe/README.md): the library's wording never reaches the user.
#[test]
fn a_second_yaml_document_is_named_in_plain_words() {
    let t = format!("{}---\nname: second\n", scenario("", "", ""));
    let e = err(&t);
    assert!(e.message.contains("second YAML document"), "{e}");
    assert!(!e.message.contains("from_str_multiple"), "{e}");
    assert!(e.line > 1, "{e}");
}

#[test]
fn an_out_of_range_status_says_what_a_status_is() {
    let t = scenario("", "", "").replace(
        "fetch: GET /x }",
        "fetch: GET /x, expect: { status: 99999 } }",
    );
    let e = err(&t);
    assert!(e.message.contains("HTTP status code"), "{e}");
    assert!(!e.message.contains("u16"), "{e}");
    assert!(e.line > 0 && e.col > 0, "{e}");
}

#[test]
fn a_list_where_a_string_goes_is_named_in_plain_words() {
    let t = scenario("", "", "").replace("fetch: GET /x", "fetch: [GET, /x]");
    let e = err(&t);
    assert!(e.message.contains("found a list"), "{e}");
    assert!(!e.message.contains("scalar"), "{e}");
}

/// Every YAML reader shares one error form: a CDN config given to `import` reports a
/// duplicate key like a scenario does, at its line and column, in the same words.
#[test]
fn an_imported_config_reports_yaml_errors_like_a_scenario() {
    let e = crate::import::parse_tree("cfg.yaml", "Comment: x\nOrigins: 1\nComment: y\n")
        .expect_err("a duplicate key is an error");
    assert_eq!((e.file.as_str(), e.line), ("cfg.yaml", 3), "{e}");
    assert!(
        e.message.starts_with("duplicate key") && !e.message.contains("DuplicateKeyPolicy"),
        "{e}"
    );
    let s = err(&format!("{}---\nname: u\n", scenario("", "", "")));
    assert!(s.message.contains("second YAML document"), "{s}");
    let i = crate::import::parse_tree("cfg.yaml", "a: 1\n---\nb: 2\n").expect_err("two docs");
    assert_eq!(i.message, s.message);
}

/// A scenario with `origin_extra` under `origin:`, `edge` as the edge mapping and `steps`
/// as the steps list (the newcomer probes, tests/data/scn-*).
fn probe(origin_extra: &str, edge: &str, steps: &str) -> String {
    format!(
        "origin:\n  cors: {{ allow_origins: [https://a.example] }}\n{origin_extra}  routes:\n    - {{ path: /x, cache_control: \"max-age=60\" }}\nedge: {edge}\nclients:\n  - {{ name: a, origin: https://a.example }}\nsteps:\n{steps}"
    )
}

const ONE_STEP: &str = "  - { client: a, fetch: GET /x }\n";

#[test]
fn edge_cors_max_age_takes_a_duration_as_origin_cors_does() {
    let s = parse(
        "s.yaml",
        &probe(
            "",
            "{ edge_cors: { allow_origins: [https://a.example], max_age: 10m } }",
            ONE_STEP,
        ),
    )
    .unwrap();
    assert_eq!(
        s.edge.knobs.edge_cors.as_ref().and_then(|c| c.max_age),
        Some(600)
    );
    let s = parse(
        "s.yaml",
        &probe(
            "",
            "{ edge_cors: { allow_origins: [https://a.example], max_age: 600 } }",
            ONE_STEP,
        ),
    )
    .unwrap();
    assert_eq!(
        s.edge.knobs.edge_cors.as_ref().and_then(|c| c.max_age),
        Some(600)
    );
    let e = err(&probe(
        "",
        "{ edge_cors: { allow_origins: [x], max_age: 1.5s } }",
        ONE_STEP,
    ));
    assert!(e.message.contains("whole seconds"), "{e}");
}

/// `allow_origin_patterns` holds regular expressions, one per string (a `,` inside one
/// does not split it); a wrong one is refused where the list is, naming it; an
/// `edge_cors` with neither list is refused.
#[test]
fn edge_cors_takes_origin_patterns() {
    let s = parse(
        "s.yaml",
        &probe(
            "",
            r#"{ edge_cors: { allow_origin_patterns: ['^https://[a-z]{1,3}\.example$', "(?i)^https://B\\.example$"] } }"#,
            ONE_STEP,
        ),
    )
    .unwrap();
    let c = s.edge.knobs.edge_cors.clone().unwrap();
    assert!(c.allow_origins.is_empty());
    let p: Vec<&str> = c.allow_origin_patterns.iter().map(|p| p.as_str()).collect();
    assert_eq!(
        p,
        [
            r"^https://[a-z]{1,3}\.example$",
            r"(?i)^https://B\.example$"
        ]
    );
    let one = parse(
        "s.yaml",
        &probe(
            "",
            "{ edge_cors: { allow_origin_patterns: 'a{1,2}' } }",
            ONE_STEP,
        ),
    )
    .unwrap();
    let one = one.edge.knobs.edge_cors.unwrap();
    assert_eq!(one.allow_origin_patterns.len(), 1);
    let e = err(&probe(
        "",
        "{ edge_cors: { allow_origins: [https://a.example],\n  allow_origin_patterns: ['^https://(a'] } }",
        ONE_STEP,
    ));
    assert!(
        e.message
            .contains("\"^https://(a\" is not a regular expression"),
        "{e}"
    );
    assert_eq!((e.line, e.col), (6, 26), "{e}");
    let e = err(&probe("", "{ edge_cors: { max_age: 10 } }", ONE_STEP));
    assert!(e.message.contains("needs `allow_origins`"), "{e}");
}

#[test]
fn a_ttl_with_min_above_max_or_default_outside_is_refused_at_the_ttl() {
    for (ttl, what) in [
        (
            "{ default: 1h, min: 2h, max: 1h }",
            "min (2h) is above max (1h)",
        ),
        ("{ default: 3h, max: 2h }", "default (3h) is above max (2h)"),
        ("{ default: 1m, min: 1h }", "default (1m) is below min (1h)"),
    ] {
        let e = err(&probe("", &format!("{{ ttl: {ttl} }}"), ONE_STEP));
        assert_eq!((e.line, e.col), (5, 14), "{e}");
        assert!(e.message.contains(what), "{e}");
    }
    parse(
        "s.yaml",
        &probe("", "{ ttl: { default: 1h, min: 1h, max: 1d } }", ONE_STEP),
    )
    .unwrap();
}

#[test]
fn a_duration_too_large_says_so_and_quotes_what_was_written() {
    for (t, found) in [
        (
            probe("  latency: 100000000d\n", "{}", ONE_STEP),
            "\"100000000d\"",
        ),
        (
            probe(
                "",
                "{}",
                "  - { at: 99999999999999999999999h, client: a, fetch: GET /x }\n",
            ),
            "\"99999999999999999999999h\"",
        ),
        (
            probe(
                "",
                "{}",
                "  - { at: +18446744073709551615s, client: a, fetch: GET /x }\n",
            ),
            "\"+18446744073709551615s\"",
        ),
        (
            probe("", "{}", ONE_STEP).replace(
                "allow_origins: [https://a.example]",
                "allow_origins: [https://a.example], max_age: 99999999999999999999",
            ),
            "\"99999999999999999999\"",
        ),
    ] {
        let e = err(&t);
        assert!(
            e.message
                .starts_with("duration too large (at most 11574074d"),
            "{e}"
        );
        assert!(e.message.ends_with(found), "{e}");
    }
}

#[test]
fn numbers_out_of_range_name_the_range_and_non_numbers_say_what_is_expected() {
    let e = err(&probe("", "{ pops: 100000000000 }", ONE_STEP));
    assert_eq!(
        e.message,
        "pops must be a whole number between 1 and 1024, found \"100000000000\""
    );
    for v in ["1e400", ".nan"] {
        let e = err(&probe(&format!("  latency: {v}\n"), "{}", ONE_STEP));
        assert_eq!(
            e.message,
            format!("expected a duration such as 5s, 250ms, 10m, 1h30m or 1d, found {v:?}")
        );
    }
}

#[test]
fn errors_point_at_the_right_place() {
    // several errors: the first one written is reported (here a duration before a status)
    let t = probe("", "{ pops: 0 }", ONE_STEP)
        .replace(
            "allow_origins: [https://a.example]",
            "allow_origins: [https://a.example], max_age: 99999999999999999999",
        )
        .replace("cache_control: \"max-age=60\"", "status: 70000");
    assert_eq!(err(&t).line, 2, "{}", err(&t));
    // an empty required key is pointed at
    let e = err(
        "origin:\n  routes: [{ path: /x }]\nclients: ~\nsteps: [{ client: a, fetch: GET /x }]\n",
    );
    assert_eq!((e.line, e.col), (3, 1), "{e}");
    assert!(e.message.starts_with("`clients:` is empty"), "{e}");
    // a byte that is not UTF-8: its own line and column
    let e = text_of("s.yaml", b"name: \"caf\xe9\"\nx: 1\n".to_vec()).unwrap_err();
    assert_eq!((e.line, e.col), (1, 11), "{e}");
    let e = text_of("s.yaml", b"a: 1\n\xc3\xa9\xff\n".to_vec()).unwrap_err();
    assert_eq!((e.line, e.col), (2, 2), "{e}");
    // a flag has no position
    let e = parse_with_profile("s.yaml", &probe("", "{}", ONE_STEP), Some("nope")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("varyedge: --profile: unknown profile \"nope\"; expected one of rfc9111"),
        "{e}"
    );
    assert_eq!(
        upstream_at("name: u\nupstream: http://127.0.0.1:9\n"),
        Some((2, 11))
    );
    assert_eq!(
        upstream_at("origin:\n  upstream: http://x\n"),
        Some((2, 13))
    );
}

#[test]
fn messages_say_what_was_expected() {
    let e = err(&probe("", "{}", ONE_STEP).replace(
        "[https://a.example] }",
        "[https://a.example], allow_credentials: \"yes please\" }",
    ));
    assert_eq!(e.message, "expected true or false, found \"yes please\"");
    let e = err(&probe("", "{ collapse: maybe }", ONE_STEP));
    assert_eq!(
        e.message,
        "expected true, on, false, off or naive, found \"maybe\""
    );
    for v in ["on", "off", "true", "false", "naive", "True"] {
        parse(
            "s.yaml",
            &probe("", &format!("{{ collapse: {v} }}"), ONE_STEP),
        )
        .unwrap();
    }
    let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
    let e = err(&probe("", "{}", &format!("  - {deep}\n")));
    assert!(
        e.message
            .starts_with("lists or mappings nested deeper than 255 levels; expected"),
        "{e}"
    );
}

#[test]
fn questionable_expectations_and_empty_steps_are_refused() {
    let e = err(&probe("", "{}", "  []\n"));
    assert!(e.message.contains("expected at least one step"), "{e}");
    let e = err(&probe(
        "",
        "{}",
        "  - { client: a, fetch: GET /x, expect: { poisoned_by: 5 } }\n",
    ));
    assert_eq!(
        e.message,
        "poisoned_by names step 5, but the scenario has 1 step (0)"
    );
    let two = "  - { client: a, fetch: GET /x }\n  - { client: a, fetch: GET /x, expect: { poisoned_by: 1 } }\n";
    let e = err(&probe("", "{}", two));
    assert!(
        e.message.contains("this is step 1") && e.message.ends_with("expected step 0"),
        "{e}"
    );
    parse(
        "s.yaml",
        &probe("", "{}", &two.replace("poisoned_by: 1", "poisoned_by: 0")),
    )
    .unwrap();
    for x in [
        "{ cors: blocked, reason: ok }",
        "{ cors: ok, reason: origin-mismatch }",
    ] {
        let e = err(&probe(
            "",
            "{}",
            &format!("  - {{ client: a, fetch: GET /x, expect: {x} }}\n"),
        ));
        assert!(e.message.contains("contradicts"), "{e}");
    }
    let e = err(&probe(
        "",
        "{}",
        "  - { at: 60s, client: a, fetch: GET /x }\n  - { at: 30s, client: a, fetch: GET /x }\n",
    ));
    assert!(
        e.message
            .starts_with("step time 30s is before the previous step (1m)"),
        "{e}"
    );
}

/// A header value is sent as written, quoted or not: `"TRUE"` stays `TRUE` (a Chromium
/// case checks that `Access-Control-Allow-Credentials: TRUE` is refused), and a number
/// keeps its spelling.
#[test]
fn header_values_are_kept_as_written() {
    let t = probe("", "{}", ONE_STEP).replace(
        "cache_control: \"max-age=60\"",
        "headers: { x-a: \"TRUE\", x-b: TRUE, x-c: 1.50, x-d: 0x1F }",
    );
    let s = parse("s.yaml", &t).unwrap();
    let OriginSpec::Model(m) = &s.origin else {
        panic!("a modelled origin")
    };
    let h = &m.routes[0].headers;
    assert_eq!(
        [h.get("x-a"), h.get("x-b"), h.get("x-c"), h.get("x-d")],
        [Some("TRUE"), Some("TRUE"), Some("1.50"), Some("0x1F")]
    );
    // while a boolean key reads YAML's spellings of one
    parse(
        "s.yaml",
        &probe("", "{ shield: TRUE, collapse: False }", ONE_STEP),
    )
    .unwrap();
}

/// `expect: { status: 0 }` is what a page sees of an opaque redirect (Chromium case d47).
#[test]
fn an_expected_status_may_be_0() {
    let t = probe(
        "",
        "{}",
        "  - { client: a, fetch: GET /x, expect: { status: 0 } }\n",
    );
    assert_eq!(parse("s.yaml", &t).unwrap().steps[0].expect.status, Some(0));
}

/// WHATWG URL Standard: the scheme and host are lower-cased and a scheme's default port
/// is dropped ("port state": "if port is url's scheme's default port, set url's port to
/// null"), so these spellings are the URL the scenario's host already names and share its
/// cache entry; another port stays.
#[test]
fn an_absolute_fetch_url_is_parsed_as_the_browser_parses_it() {
    let cases = [
        (
            "GET HTTPS://API.Example.COM:443/x",
            "https",
            "api.example.com",
        ),
        ("GET Https://api.example.com:/x", "https", "api.example.com"),
        ("GET http://api.example.com:80/x", "http", "api.example.com"),
        (
            "GET https://api.example.com:80/x",
            "https",
            "api.example.com:80",
        ),
        (
            "GET http://api.example.com:443/x",
            "http",
            "api.example.com:443",
        ),
        (
            "GET https://api.example.com:8443/x",
            "https",
            "api.example.com:8443",
        ),
        ("GET http://[::1]:80/x", "http", "[::1]"),
        ("GET http://[::1]/x", "http", "[::1]"),
    ];
    for (fetch, scheme, host) in cases {
        let text = scenario("", "", "").replace("fetch: GET /x", &format!("fetch: \"{fetch}\""));
        let s = parse("s.yaml", &text).unwrap_or_else(|e| panic!("{fetch}: {e}"));
        assert_eq!(
            (s.steps[0].scheme.as_str(), s.steps[0].host.as_str()),
            (scheme, host),
            "{fetch}"
        );
    }
    let e = err(&scenario("", "", "").replace("fetch: GET /x", "fetch: \"GET FTP://h/x\""));
    assert!(e.message.contains("http(s) URL"), "{e}");
}

/// A list where a mapping belongs, or a value where a list belongs, is named in the
/// format's terms, not as the YAML reader's "expected mapping start".
#[test]
fn a_list_or_mapping_in_the_wrong_place_is_named() {
    for (text, at, want) in [
        ("- just\n- a list\n", (1, 1), "expected a mapping here"),
        ("# only a comment\n---\n", (2, 4), "expected a mapping here"),
        (
            "name: x\norigin:\n  routes: hello\nclients: []\nsteps: []\n",
            (3, 11),
            "expected a list here",
        ),
    ] {
        let e = err(text);
        assert_eq!((e.line, e.col), at, "{e}");
        assert!(e.message.starts_with(want), "{e}");
        assert!(!e.message.contains(" start"), "{e}");
    }
}

/// Every report prints the scenario's name in a line of its own: a line break in it is
/// an error at its place, and an empty name is the file's, as an absent one is.
#[test]
fn a_name_is_one_line_and_an_empty_one_is_the_files() {
    let e = err(&scenario("", "", "").replace("name: t\n", "name: \"a\\nb\"\n"));
    assert_eq!((e.line, e.col), (1, 7), "{e}");
    assert!(e.message.contains("one-line name"), "{e}");
    let s = parse(
        "dir/api.yaml",
        &scenario("", "", "").replace("name: t\n", "name: \"\"\n"),
    )
    .unwrap();
    assert_eq!(s.name, "api");
}

/// `poisoned_by` names the step whose stored answer was served, which makes the step
/// cache-induced; with `cache_induced: false` beside it the expectation could never hold,
/// so it is refused at the `poisoned_by`, as `cors`/`reason` contradictions are.
#[test]
fn poisoned_by_with_cache_induced_false_is_a_contradiction() {
    let two = "  - { client: a, fetch: GET /x }\n  - { client: a, fetch: GET /x, expect: { cache_induced: false, poisoned_by: 0 } }\n";
    let text = scenario("", "", "").replace(ONE_STEP, two);
    let e = err(&text);
    assert!(
        e.message.contains("contradicts cache_induced: false"),
        "{e}"
    );
    assert_eq!((e.line, e.col), (15, 78), "{e}");
    // either one alone, or with cache_induced: true, is accepted
    for ok in [
        "{ poisoned_by: 0 }",
        "{ cache_induced: true, poisoned_by: 0 }",
        "{ cache_induced: false }",
    ] {
        let t = scenario("", "", "").replace(
            ONE_STEP,
            &format!("  - {{ client: a, fetch: GET /x }}\n  - {{ client: a, fetch: GET /x, expect: {ok} }}\n"),
        );
        parse("s.yaml", &t).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
}
