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
