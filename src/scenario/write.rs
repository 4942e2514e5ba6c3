//! Writes a [`Scenario`] back as scenario format v1 YAML: the explorer's repro files.
//!
//! The output parses back (with [`super::parse`]) to an equal scenario, except for the
//! file name and the steps' line numbers. The edge is written as its profile plus only the
//! knobs that differ from that profile; steps carry absolute-time-preserving `at: +Δ`
//! gaps and their expectations. Scalars are written plain when YAML reads them back as
//! the same string, and double-quoted (JSON escapes, valid YAML) otherwise.

use super::{Client, EdgeSpec, Expect, OriginSpec, Scenario, Step, DEFAULT_HOST};
use crate::browser::{Agent, Credentials, Mode, RedirectMode};
use crate::fields::Headers;
use crate::origin::{AllowHeaders, AllowOrigins, CorsPolicy, OriginModel, Route, VaryOrigin};
use crate::profile::{self, Collapse, Knobs, QueryKey};
use std::fmt::Write as _;

/// A scenario holds something format v1 cannot say (a knob with no YAML field, a
/// non-UTF-8 body): writing it would not give the same scenario back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot write scenario {scenario:?} as YAML: {what}")]
pub struct WriteError {
    /// The scenario's name.
    pub scenario: String,
    /// What cannot be expressed.
    pub what: String,
}

/// The scenario as v1 YAML.
pub fn to_yaml(sc: &Scenario) -> Result<String, WriteError> {
    let fail = |what: String| WriteError {
        scenario: sc.name.clone(),
        what,
    };
    let mut o = String::new();
    line(&mut o, 0, "version", "1");
    line(&mut o, 0, "name", &scalar(&sc.name));
    if !sc.about.is_empty() {
        line(&mut o, 0, "about", &scalar(&sc.about));
    }
    // The most common scheme and host become the defaults; other steps get full URLs.
    let (scheme, host) = base_authority(&sc.steps);
    if scheme != "https" {
        line(&mut o, 0, "scheme", &scalar(&scheme));
    }
    if host != DEFAULT_HOST {
        line(&mut o, 0, "host", &scalar(&host));
    }
    match &sc.origin {
        OriginSpec::Upstream(u) => line(&mut o, 0, "upstream", &scalar(u)),
        OriginSpec::Model(m) => origin(&mut o, m).map_err(fail)?,
    }
    edge(&mut o, &sc.edge).map_err(fail)?;
    o.push_str("clients:\n");
    for c in &sc.clients {
        client(&mut o, c);
    }
    o.push_str("steps:\n");
    let mut now = 0u64;
    for st in &sc.steps {
        let c = sc.clients.get(st.client).ok_or_else(|| {
            fail(format!(
                "a step names client #{} which does not exist",
                st.client
            ))
        })?;
        if st.at_ms < now {
            return Err(fail(format!(
                "step times go backwards ({}ms after {}ms)",
                st.at_ms, now
            )));
        }
        step(&mut o, st, c, &scheme, &host, st.at_ms - now);
        now = st.at_ms;
    }
    Ok(o)
}

fn line(o: &mut String, indent: usize, key: &str, value: &str) {
    let _ = writeln!(o, "{:indent$}{key}: {value}", "");
}

/// The most frequent (scheme, host) among the steps, first seen wins ties.
fn base_authority(steps: &[Step]) -> (String, String) {
    let mut counts: Vec<((&str, &str), usize)> = Vec::new();
    for s in steps {
        let k = (s.scheme.as_str(), s.host.as_str());
        match counts.iter_mut().find(|(x, _)| *x == k) {
            Some((_, n)) => *n += 1,
            None => counts.push((k, 1)),
        }
    }
    let mut best: Option<((&str, &str), usize)> = None;
    for (k, n) in counts {
        if best.is_none_or(|(_, b)| n > b) {
            best = Some((k, n));
        }
    }
    best.map_or(("https".into(), DEFAULT_HOST.into()), |((s, h), _)| {
        (s.to_string(), h.to_string())
    })
}

fn origin(o: &mut String, m: &OriginModel) -> Result<(), String> {
    o.push_str("origin:\n");
    if m.latency_ms > 0 {
        line(o, 2, "latency", &duration(m.latency_ms));
    }
    if let Some(p) = &m.cors {
        o.push_str("  cors:\n");
        cors(o, 4, p);
    }
    o.push_str("  routes:\n");
    for r in &m.routes {
        route(o, r)?;
    }
    Ok(())
}

fn cors(o: &mut String, ind: usize, p: &CorsPolicy) {
    match &p.allow_origins {
        AllowOrigins::Any => line(o, ind, "allow_origins", "\"*\""),
        AllowOrigins::ReflectAny => line(o, ind, "allow_origins", "reflect-any"),
        AllowOrigins::List(l) => line(o, ind, "allow_origins", &flow_list(l)),
        AllowOrigins::Suffix(s) => line(o, ind, "allow_origin_suffix", &scalar(s)),
        AllowOrigins::Prefix(s) => line(o, ind, "allow_origin_prefix", &scalar(s)),
        AllowOrigins::Pattern(s) => line(o, ind, "allow_origin_pattern", &scalar(s)),
    }
    line(o, ind, "allow_credentials", bool_str(p.allow_credentials));
    line(o, ind, "allow_methods", &flow_list(&p.allow_methods));
    match &p.allow_headers {
        AllowHeaders::List(l) => line(o, ind, "allow_headers", &flow_list(l)),
        AllowHeaders::Any => line(o, ind, "allow_headers", "\"*\""),
        AllowHeaders::Reflect => line(o, ind, "allow_headers", "reflect"),
    }
    if !p.expose_headers.is_empty() {
        line(o, ind, "expose_headers", &flow_list(&p.expose_headers));
    }
    if let Some(m) = p.max_age {
        line(o, ind, "max_age", &m.to_string());
    }
    let vary = match p.vary_origin {
        VaryOrigin::Never => "false",
        VaryOrigin::Always => "true",
        VaryOrigin::WhenOrigin => "when-origin",
    };
    line(o, ind, "vary_origin", vary);
    line(o, ind, "preflight_vary", bool_str(p.preflight_vary));
    if let Some(cc) = &p.preflight_cache_control {
        line(o, ind, "preflight_cache_control", &scalar(cc));
    }
    if p.preflight_status != 204 {
        line(o, ind, "preflight_status", &p.preflight_status.to_string());
    }
    if !p.options_handler {
        line(o, ind, "options", "false");
    }
    if p.allow_private_network {
        line(o, ind, "allow_private_network", "true");
    }
}

fn route(o: &mut String, r: &Route) -> Result<(), String> {
    let _ = writeln!(o, "    - path: {}", scalar(&r.path));
    if !r.methods.is_empty() {
        line(o, 6, "methods", &flow_list(&r.methods));
    }
    if r.status != 200 {
        line(o, 6, "status", &r.status.to_string());
    }
    if let Some(cc) = &r.cache_control {
        line(o, 6, "cache_control", &scalar(cc));
    }
    if !r.headers.is_empty() {
        line(o, 6, "headers", &flow_headers(&r.headers));
    }
    if !r.body.is_empty() {
        let body = std::str::from_utf8(&r.body)
            .map_err(|_| format!("the body of route {} is not UTF-8 text", r.path))?;
        line(o, 6, "body", &scalar(body));
    }
    if r.redirect_options {
        line(o, 6, "redirect_options", "true");
    }
    if !r.cors_on_304 {
        line(o, 6, "cors_on_304", "false");
    }
    if !r.errors.is_empty() {
        o.push_str("      errors:\n");
        for w in &r.errors {
            let mut f = vec![
                format!("status: {}", w.status),
                format!("from: {}", duration(w.from_ms)),
            ];
            if let Some(u) = w.until_ms {
                f.push(format!("until: {}", duration(u)));
            }
            if let Some(cc) = &w.cache_control {
                f.push(format!("cache_control: {}", flow_scalar(cc)));
            }
            if w.cors {
                f.push("cors: true".into());
            }
            if !w.body.is_empty() {
                let body = std::str::from_utf8(&w.body)
                    .map_err(|_| format!("an error body of route {} is not UTF-8 text", r.path))?;
                f.push(format!("body: {}", flow_scalar(body)));
            }
            let _ = writeln!(o, "        - {{ {} }}", f.join(", "));
        }
    }
    match &r.cors {
        None => {}
        Some(None) => line(o, 6, "cors", "false"),
        Some(Some(_)) => {
            return Err(format!(
                "route {} has its own CORS policy; v1 can only switch CORS off per route",
                r.path
            ))
        }
    }
    Ok(())
}

fn edge(o: &mut String, e: &EdgeSpec) -> Result<(), String> {
    let (name, base) = match profile::profile(&e.profile) {
        Some(p) => (e.profile.as_str(), p.knobs),
        None => ("rfc9111", Knobs::rfc9111()),
    };
    let k = &e.knobs;
    o.push_str("edge:\n");
    line(o, 2, "profile", &scalar(name));
    if k.vary != base.vary {
        line(o, 2, "vary", k.vary.id());
    }
    if k.key_headers != base.key_headers {
        line(o, 2, "key_headers", &flow_list(&k.key_headers));
    }
    if k.cache_options != base.cache_options {
        line(o, 2, "cache_options", bool_str(k.cache_options));
    }
    if k.preflight_key != base.preflight_key {
        line(o, 2, "preflight_key", k.preflight_key.id());
    }
    if k.query != base.query {
        match &k.query {
            QueryKey::All => line(o, 2, "query", "all"),
            QueryKey::None => line(o, 2, "query", "none"),
            QueryKey::List(l) => line(o, 2, "query", &flow_list(l)),
        }
    }
    if k.max_variants != base.max_variants {
        match k.max_variants {
            Some(n) => line(o, 2, "max_variants", &n.to_string()),
            None => {
                return Err(format!(
                    "max_variants unbounded, but profile {name} bounds it"
                ))
            }
        }
    }
    if k.collapse != base.collapse {
        // The plain modes are written as the YAML booleans the parser also takes.
        let v = match k.collapse {
            Collapse::On => "true",
            Collapse::Off => "false",
            c => c.id(),
        };
        line(o, 2, "collapse", v);
    }
    if k.ttl != base.ttl {
        let mut parts = Vec::new();
        for (n, v, b) in [
            ("default", k.ttl.default, base.ttl.default),
            ("min", k.ttl.min, base.ttl.min),
            ("max", k.ttl.max, base.ttl.max),
        ] {
            match (v, b) {
                (Some(v), _) if Some(v) != b => parts.push(format!("{n}: {v}")),
                (None, Some(_)) => {
                    return Err(format!("ttl.{n} unset, but profile {name} sets it"))
                }
                _ => {}
            }
        }
        line(o, 2, "ttl", &format!("{{ {} }}", parts.join(", ")));
    }
    if k.grace != base.grace {
        if k.grace.fixed.is_none() && base.grace.fixed.is_some() {
            return Err(format!("grace.fixed unset, but profile {name} sets it"));
        }
        let mut parts = Vec::new();
        if k.grace.default != base.grace.default {
            parts.push(format!("default: {}", k.grace.default));
        }
        if let Some(f) = k.grace.fixed.filter(|f| Some(*f) != base.grace.fixed) {
            parts.push(format!("fixed: {f}"));
        }
        line(o, 2, "grace", &format!("{{ {} }}", parts.join(", ")));
    }
    if k.pops != base.pops {
        line(o, 2, "pops", &k.pops.to_string());
    }
    for (n, v, b) in [
        ("shield", k.shield, base.shield),
        ("key_head_apart", k.key_head_apart, base.key_head_apart),
        (
            "stale_while_revalidate",
            k.stale_while_revalidate,
            base.stale_while_revalidate,
        ),
        ("key_host", k.key_host, base.key_host),
        ("pass_cookie", k.pass_cookie, base.pass_cookie),
        (
            "pass_authorization",
            k.pass_authorization,
            base.pass_authorization,
        ),
    ] {
        if v != b {
            line(o, 2, n, bool_str(v));
        }
    }
    if k.vary_star != base.vary_star {
        line(o, 2, "vary_star", k.vary_star.id());
    }
    if k.vary_compare != base.vary_compare {
        line(o, 2, "vary_compare", k.vary_compare.id());
    }
    forward(o, &k.forward, &base.forward);
    if k.edge_cors != base.edge_cors {
        match crate::import::knob_value(k, "edge_cors") {
            Some(v) => line(o, 2, "edge_cors", &v),
            None => return Err(format!("edge_cors unset, but profile {name} sets it")),
        }
    }
    if k.vary_allowlist != base.vary_allowlist {
        return Err(format!(
            "vary_allowlist differs from profile {name}; v1 has no field for it"
        ));
    }
    Ok(())
}

fn forward(
    o: &mut String,
    k: &crate::edge::forward::Forward,
    base: &crate::edge::forward::Forward,
) {
    use crate::edge::forward::ForwardHeaders;
    if k.headers != base.headers {
        match &k.headers {
            ForwardHeaders::All => line(o, 2, "forward_headers", "all"),
            ForwardHeaders::Key => line(o, 2, "forward_headers", "key"),
            ForwardHeaders::List(l) => line(o, 2, "forward_headers", &flow_list(l)),
        }
    }
    if k.strip != base.strip {
        line(o, 2, "forward_strip", &flow_list(&k.strip));
    }
    if k.add != base.add {
        let parts: Vec<String> = k
            .add
            .iter()
            .map(|(n, v)| format!("{}: {}", flow_scalar(n), flow_scalar(v)))
            .collect();
        line(o, 2, "forward_add", &format!("{{ {} }}", parts.join(", ")));
    }
}

fn client(o: &mut String, c: &Client) {
    let mut f = vec![format!("name: {}", flow_scalar(&c.name))];
    if !(c.origin.is_empty() && c.agent == Agent::None) {
        f.push(format!("origin: {}", flow_scalar(&c.origin)));
    }
    f.push(format!("browser: {}", agent_id(c.agent)));
    if c.mode == Mode::NoCors {
        f.push("mode: no-cors".into());
    }
    if c.cookie != "session=1" {
        f.push(format!("cookie: {}", flow_scalar(&c.cookie)));
    }
    if let Some(p) = c.pop {
        f.push(format!("pop: {p}"));
    }
    if c.private_network {
        f.push("private_network: true".into());
    }
    if c.user != c.name {
        f.push(format!("user: {}", flow_scalar(&c.user)));
    }
    if c.http_cache {
        f.push("http_cache: true".into());
    }
    if !c.headers.is_empty() {
        f.push(format!("headers: {}", flow_headers(&c.headers)));
    }
    let _ = writeln!(o, "  - {{ {} }}", f.join(", "));
}

fn step(o: &mut String, st: &Step, c: &Client, scheme: &str, host: &str, gap_ms: u64) {
    let _ = writeln!(o, "  - client: {}", scalar(&c.name));
    if gap_ms > 0 {
        line(o, 4, "at", &format!("+{}", duration(gap_ms)));
    }
    let url = if st.scheme == scheme && st.host == host {
        st.target.clone()
    } else {
        format!("{}://{}{}", st.scheme, st.host, st.target)
    };
    line(o, 4, "fetch", &scalar(&format!("{} {url}", st.method)));
    if !st.headers.is_empty() {
        line(o, 4, "headers", &flow_headers(&st.headers));
    }
    if st.credentials != Credentials::SameOrigin {
        line(o, 4, "credentials", credentials_id(st.credentials));
    }
    if st.mode != c.mode {
        line(o, 4, "mode", mode_id(st.mode));
    }
    match st.redirect {
        RedirectMode::Follow => {}
        RedirectMode::Error => line(o, 4, "redirect", "error"),
        RedirectMode::Manual => line(o, 4, "redirect", "manual"),
    }
    if !st.expect.is_empty() {
        line(o, 4, "expect", &expect(&st.expect));
    }
}

fn expect(e: &Expect) -> String {
    let mut f = Vec::new();
    if let Some(b) = e.served_by {
        f.push(format!("served_by: {}", b.id()));
    }
    if let Some(ok) = e.cors_ok {
        f.push(format!("cors: {}", if ok { "ok" } else { "blocked" }));
    }
    if let Some(r) = e.reason {
        f.push(format!("reason: {}", r.id()));
    }
    if let Some(c) = e.cache {
        f.push(format!("cache: {}", c.id()));
    }
    if let Some(ci) = e.cache_induced {
        f.push(format!("cache_induced: {ci}"));
    }
    if let Some(p) = e.preflight {
        f.push(format!("preflight: {}", p.id()));
    }
    if let Some(p) = e.poisoned_by {
        f.push(format!("poisoned_by: {p}"));
    }
    if let Some(s) = e.status {
        f.push(format!("status: {s}"));
    }
    format!("{{ {} }}", f.join(", "))
}

/// The stable id of an agent, as `browser:` takes it.
pub fn agent_id(a: Agent) -> &'static str {
    match a {
        Agent::Chrome => "chrome",
        Agent::Firefox => "firefox",
        Agent::Safari => "safari",
        Agent::None => "none",
    }
}

/// The stable id of a credentials mode, as a step's `credentials:` takes it.
pub fn credentials_id(c: Credentials) -> &'static str {
    match c {
        Credentials::Omit => "omit",
        Credentials::SameOrigin => "same-origin",
        Credentials::Include => "include",
    }
}

/// The stable id of a request mode, as `mode:` takes it.
pub fn mode_id(m: Mode) -> &'static str {
    match m {
        Mode::Cors => "cors",
        Mode::NoCors => "no-cors",
    }
}

fn bool_str(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// `5s`, `250ms`: whole seconds when exact.
fn duration(ms: u64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn flow_list(items: &[String]) -> String {
    let v: Vec<String> = items.iter().map(|s| flow_scalar(s)).collect();
    format!("[{}]", v.join(", "))
}

fn flow_headers(h: &Headers) -> String {
    let v: Vec<String> = h
        .iter()
        .map(|(n, v)| format!("{}: {}", flow_scalar(n), flow_scalar(v)))
        .collect();
    format!("{{ {} }}", v.join(", "))
}

/// A scalar in block context: plain when that reads back as this same string.
fn scalar(s: &str) -> String {
    if plain_ok(s, false) {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// A scalar inside `[...]` or `{...}`.
fn flow_scalar(s: &str) -> String {
    if plain_ok(s, true) {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// A YAML double-quoted scalar. JSON string escapes are a subset of YAML's.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// Conservative: letters, digits and `/._-+@=?&%~`, `:` only when not followed by a
/// space or the end, single inner spaces in block context; never something YAML would
/// read as a boolean, null or number, nor a leading indicator.
fn plain_ok(s: &str, flow: bool) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || first == b'/' || first == b'.' || first == b'_')
        || last == b' '
        || last == b':'
    {
        return false;
    }
    for (i, &c) in b.iter().enumerate() {
        let ok = match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => true,
            b'/' | b'.' | b'_' | b'-' | b'+' | b'@' | b'=' | b'?' | b'&' | b'%' | b'~' => true,
            b':' => b.get(i + 1).is_some_and(|n| *n != b' '),
            b' ' => !flow && b.get(i + 1).is_some_and(|n| *n != b' ' && *n != b'#'),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "~"
    ) || lower.starts_with(".inf")
        || lower == ".nan"
    {
        return false;
    }
    // anything number-like (1, 1.5, 1e3, 0x1f, 0o7, .5) is quoted
    if first.is_ascii_digit() || first == b'.' {
        let number_like = s
            .bytes()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, b'.' | b'x' | b'o' | b'+' | b'-' | b'_'));
        if number_like {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{parse, tests_support::PRODUCT_EXAMPLE};

    /// Equal except for where they came from.
    fn same(a: &Scenario, b: &Scenario) {
        let strip = |s: &Scenario| {
            let mut s = s.clone();
            s.file.clear();
            for st in &mut s.steps {
                st.line = 0;
            }
            s
        };
        assert_eq!(strip(a), strip(b));
    }

    #[test]
    fn product_example_round_trips() {
        let a = parse("a.yaml", PRODUCT_EXAMPLE).unwrap();
        let y = to_yaml(&a).unwrap();
        let b = parse("b.yaml", &y).unwrap_or_else(|e| panic!("{e}\n{y}"));
        same(&a, &b);
        assert!(
            y.contains("profile: url-only\n  cache_options: true\n"),
            "{y}"
        );
    }

    #[test]
    fn origin_matchers_round_trip() {
        for m in [
            "allow_origin_suffix: example.com",
            "allow_origin_prefix: https://app.example.com",
            "allow_origin_pattern: '^https://app.example.com$'",
            "allow_origins: reflect-any",
            "allow_origins: \"*\"",
            "allow_origins: []",
        ] {
            let y = format!("origin:\n  cors: {{ {m} }}\n  routes: [{{ path: /a }}]\nclients: [{{ name: a, origin: https://a }}]\nsteps: [{{ client: a, fetch: GET /a }}]\n");
            let a = parse("a.yaml", &y).unwrap_or_else(|e| panic!("{e}\n{y}"));
            let w = to_yaml(&a).unwrap();
            same(
                &a,
                &parse("b.yaml", &w).unwrap_or_else(|e| panic!("{e}\n{w}")),
            );
        }
    }

    /// `grace:` is read as durations and written back as whole seconds, only where it
    /// differs from the profile's.
    #[test]
    fn grace_round_trips() {
        for (edge, want) in [
            (
                "{ profile: varnish, grace: { default: 0 } }",
                Some("grace: { default: 0 }"),
            ),
            (
                "{ profile: varnish, grace: { fixed: 6h } }",
                Some("grace: { fixed: 21600 }"),
            ),
            (
                "{ profile: nginx, grace: { default: 1m, fixed: 2m } }",
                Some("grace: { default: 60, fixed: 120 }"),
            ),
            ("{ profile: varnish, grace: { default: 10s } }", None),
        ] {
            let y = format!("origin:\n  cors: {{ allow_origins: \"*\" }}\n  routes: [{{ path: /a }}]\nedge: {edge}\nclients: [{{ name: a, origin: https://a }}]\nsteps: [{{ client: a, fetch: GET /a }}]\n");
            let a = parse("a.yaml", &y).unwrap_or_else(|e| panic!("{e}\n{y}"));
            let w = to_yaml(&a).unwrap();
            match want {
                Some(line) => assert!(w.contains(line), "{w}"),
                None => assert!(!w.contains("grace"), "{w}"),
            }
            same(
                &a,
                &parse("b.yaml", &w).unwrap_or_else(|e| panic!("{e}\n{w}")),
            );
        }
        let bad = "origin:\n  routes: [{ path: /a }]\nedge: { profile: varnish, grace: 10 }\nclients: [{ name: a, origin: https://a }]\nsteps: [{ client: a, fetch: GET /a }]\n";
        let e = parse("bad.yaml", bad).unwrap_err().to_string();
        assert!(
            e.contains("bad.yaml:3:")
                && e.contains("`grace:` takes a mapping with keys default, fixed"),
            "{e}"
        );
    }

    #[test]
    fn awkward_scalars_are_quoted() {
        for s in [
            "true",
            "No",
            "5",
            "1.5",
            "0x1f",
            "",
            " a",
            "a ",
            "a: b",
            "a #b",
            "{x}",
            "[x]",
            "*",
            "&a",
            "!t",
            "'q'",
            "\"q\"",
            "a,b",
            "-",
            "- a",
            "é",
            "line\nbreak",
            ".5",
        ] {
            let y = format!("v: {}\nw: [{}]\n", scalar(s), flow_scalar(s));
            #[derive(serde::Deserialize)]
            struct T {
                v: String,
                w: Vec<String>,
            }
            let t: T = serde_saphyr::from_str(&y).unwrap_or_else(|e| panic!("{s:?}: {e}\n{y}"));
            assert_eq!(t.v, s, "{y}");
            assert_eq!(t.w, vec![s.to_string()], "{y}");
        }
        assert_eq!(
            scalar("https://app1.example.com"),
            "https://app1.example.com"
        );
        assert_eq!(scalar("GET /api/data?x=1"), "GET /api/data?x=1");
        assert_eq!(flow_scalar("GET /a"), "\"GET /a\"");
    }

    #[test]
    fn inexpressible_knobs_are_an_error() {
        let mut a = parse("a.yaml", PRODUCT_EXAMPLE).unwrap();
        a.edge.knobs.vary_allowlist = Some(vec!["origin".into()]);
        let e = to_yaml(&a).unwrap_err();
        assert!(e.what.contains("vary_allowlist"), "{e}");
    }
}
