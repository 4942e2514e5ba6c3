//! The pure halves of a live CORS probe, as CORS scanners do it but cache-aware:
//! [`plan`] crafts the requests (`Origin`s derived from the trusted ones, with and
//! without credentials, GET and preflight) and [`analyse`] reads the answers. The `net`
//! driver sends the planned requests in between; `lint SCENARIO` answers them with the
//! origin model instead, so the static and the live check share one analysis.

use super::{Finding, Location, Severity};
use crate::fields::{CacheControl, Headers};

/// The attacker's own origin: reflecting it means any origin is reflected.
pub const ATTACKER: &str = "https://evil.test";

/// How a probe's `Origin` was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Craft {
    /// No `Origin` at all (curl, a server, an `<img>`): what a cache may store first.
    NoOrigin,
    /// A trusted origin, as given.
    Trusted,
    /// An unrelated attacker origin ([`ATTACKER`]).
    Attacker,
    /// `null` (sandboxed iframes, `data:` and `file:` pages).
    Null,
    /// `https://evil-<registrable domain>`: passes an `endsWith(domain)` check.
    Suffix,
    /// `<trusted>.evil.test`: passes a `startsWith(origin)` check or an unanchored pattern.
    Prefix,
    /// The trusted host with its first dot replaced by `x`: passes a pattern whose dot is
    /// not escaped.
    UnescapedDot,
    /// `http://` instead of `https://`.
    HttpDowngrade,
    /// `evil.<trusted host>`: passes a check that trusts every sub-domain.
    Subdomain,
}

impl Craft {
    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            Craft::NoOrigin => "no-origin",
            Craft::Trusted => "trusted",
            Craft::Attacker => "attacker",
            Craft::Null => "null",
            Craft::Suffix => "suffix",
            Craft::Prefix => "prefix",
            Craft::UnescapedDot => "unescaped-dot",
            Craft::HttpDowngrade => "http-downgrade",
            Craft::Subdomain => "subdomain",
        }
    }
}

/// One request to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Path (and query) as given to [`plan`].
    pub path: String,
    /// `GET` or `OPTIONS`.
    pub method: String,
    /// The `Origin` sent, if any.
    pub origin: Option<String>,
    /// How the origin was made.
    pub craft: Craft,
    /// The trusted origin it was derived from, for crafted ones.
    pub from: Option<String>,
    /// Sends a `Cookie`, as a credentialed fetch would.
    pub credentials: bool,
    /// `Access-Control-Request-Method` (preflights only).
    pub request_method: Option<String>,
    /// `Access-Control-Request-Headers` (preflights only).
    pub request_headers: Option<String>,
}

impl Probe {
    /// The request headers to send.
    pub fn headers(&self) -> Headers {
        let mut h = Headers::new();
        if let Some(o) = &self.origin {
            h.append("origin", o);
        }
        if let Some(m) = &self.request_method {
            h.append("access-control-request-method", m);
        }
        if let Some(v) = &self.request_headers {
            h.append("access-control-request-headers", v);
        }
        if self.credentials {
            h.append("cookie", "varyedge-probe=1");
        }
        h
    }

    /// One line for evidence: `GET /api/data Origin: https://x (with cookie)`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {}", self.method, self.path);
        match &self.origin {
            Some(o) => s.push_str(&format!(" with Origin: {o}")),
            None => s.push_str(" without Origin"),
        }
        if let Some(m) = &self.request_method {
            s.push_str(&format!(", Access-Control-Request-Method: {m}"));
        }
        if let Some(h) = &self.request_headers {
            s.push_str(&format!(", Access-Control-Request-Headers: {h}"));
        }
        if self.credentials {
            s.push_str(" (with a cookie)");
        }
        s
    }
}

/// What came back for one probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Status.
    pub status: u16,
    /// Headers (lowercase names).
    pub headers: Headers,
}

/// The host of a serialised origin (`https://a.b:8443` → `a.b`) and its scheme and port.
fn split_origin(o: &str) -> Option<(&str, &str, Option<&str>)> {
    let (scheme, rest) = o.split_once("://")?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
        _ => (rest, None),
    };
    Some((scheme, host, port))
}

/// The last two labels of a host name (`app.example.com` → `example.com`), the part an
/// attacker cannot register but can end a domain with.
fn registrable(host: &str) -> &str {
    let mut dots = host.rmatch_indices('.').map(|(i, _)| i);
    match (dots.next(), dots.next()) {
        (Some(_), Some(i)) => &host[i + 1..],
        _ => host,
    }
}

/// The crafted origins derived from one trusted origin, each with its craft.
pub fn crafted(trusted: &str) -> Vec<(Craft, String)> {
    let Some((scheme, host, port)) = split_origin(trusted) else {
        return Vec::new();
    };
    let port = port.map_or(String::new(), |p| format!(":{p}"));
    let mut out = vec![
        (
            Craft::Suffix,
            format!("{scheme}://evil-{}{port}", registrable(host)),
        ),
        (Craft::Prefix, format!("{trusted}.evil.test")),
    ];
    if let Some(i) = host.find('.') {
        out.push((
            Craft::UnescapedDot,
            format!("{scheme}://{}x{}{port}", &host[..i], &host[i + 1..]),
        ));
    }
    if scheme == "https" {
        out.push((Craft::HttpDowngrade, format!("http://{host}{port}")));
    }
    out.push((Craft::Subdomain, format!("{scheme}://evil.{host}{port}")));
    out
}

/// The probes for `trusted` origins on `paths`: per path, a GET without `Origin`, then
/// every origin (trusted, attacker, `null`, crafted) without and with a cookie, then three
/// preflights (a trusted origin with two different method/header requests, the attacker).
pub fn plan(trusted: &[String], paths: &[String]) -> Vec<Probe> {
    // first come, first kept; sets, not scans, so that 50k trusted origins plan in
    // linear time
    let mut origins: Vec<(Craft, String, Option<String>)> = Vec::new();
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut push = |c: Craft, o: String, from: Option<String>| {
        if seen.insert(o.clone()) {
            origins.push((c, o, from));
        }
    };
    let trusted_set: std::collections::HashSet<&str> = trusted.iter().map(String::as_str).collect();
    for t in trusted {
        push(Craft::Trusted, t.clone(), None);
    }
    push(Craft::Attacker, ATTACKER.to_string(), None);
    push(Craft::Null, "null".to_string(), None);
    for t in trusted {
        for (c, o) in crafted(t) {
            if !trusted_set.contains(o.as_str()) {
                push(c, o, Some(t.clone()));
            }
        }
    }
    let pre_origin = trusted.first().map_or(ATTACKER, String::as_str);
    let mut out = Vec::new();
    for path in paths {
        let get = |origin: Option<String>, craft, from, credentials| Probe {
            path: path.clone(),
            method: "GET".into(),
            origin,
            craft,
            from,
            credentials,
            request_method: None,
            request_headers: None,
        };
        out.push(get(None, Craft::NoOrigin, None, false));
        for (c, o, from) in &origins {
            for cred in [false, true] {
                out.push(get(Some(o.clone()), *c, from.clone(), cred));
            }
        }
        let pre = |origin: &str, craft, m: &str, h: &str| Probe {
            path: path.clone(),
            method: "OPTIONS".into(),
            origin: Some(origin.to_string()),
            craft,
            from: None,
            credentials: false,
            request_method: Some(m.into()),
            request_headers: Some(h.into()),
        };
        let craft = if trusted.is_empty() {
            Craft::Attacker
        } else {
            Craft::Trusted
        };
        out.push(pre(pre_origin, craft, "PUT", "x-varyedge-a"));
        out.push(pre(pre_origin, craft, "PATCH", "x-varyedge-b"));
        if pre_origin != ATTACKER {
            out.push(pre(ATTACKER, Craft::Attacker, "PUT", "x-varyedge-a"));
        }
    }
    out
}

fn acao(a: &Answer) -> Option<&str> {
    a.headers.get("access-control-allow-origin").map(str::trim)
}

fn acac(a: &Answer) -> bool {
    a.headers
        .get("access-control-allow-credentials")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

fn varies_on(a: &Answer, name: &str) -> bool {
    a.headers
        .list("vary")
        .iter()
        .any(|v| *v == "*" || v.eq_ignore_ascii_case(name))
}

/// A shared cache may store it without asking: `public`, `s-maxage` or a positive
/// `max-age`, and none of `no-store`, `private`, `no-cache`.
fn shared_cacheable(a: &Answer) -> bool {
    match CacheControl::parse(&a.headers, "cache-control") {
        Some(cc) => {
            !cc.no_store
                && !cc.private
                && !cc.no_cache
                && (cc.public
                    || cc.s_maxage.is_some_and(|s| s > 0)
                    || cc.max_age.is_some_and(|m| m > 0))
        }
        None => a.headers.contains("expires"),
    }
}

fn never_stored(a: &Answer) -> bool {
    CacheControl::parse(&a.headers, "cache-control").is_some_and(|cc| cc.no_store || cc.private)
}

/// `probe → status, header values`: what a finding cites as evidence.
fn evidence(p: &Probe, a: &Answer, names: &[&str]) -> String {
    format!("{} → {}", p.describe(), show(a, names))
}

fn show(a: &Answer, names: &[&str]) -> String {
    let mut s = format!("{}", a.status);
    for n in names {
        match a.headers.get_combined(n) {
            Some(v) => s.push_str(&format!(", {}: {v}", canonical(n))),
            None => s.push_str(&format!(", no {}", canonical(n))),
        }
    }
    s
}

fn canonical(name: &str) -> String {
    name.split('-')
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Reads the answers (one per probe, in plan order; `Err` for a failed request, skipped)
/// and returns the findings, at most one per rule, located at `base` + the path.
pub fn analyse(base: &str, probes: &[Probe], answers: &[Result<Answer, String>]) -> Vec<Finding> {
    let pairs: Vec<(&Probe, &Answer)> = probes
        .iter()
        .zip(answers)
        .filter_map(|(p, a)| a.as_ref().ok().map(|a| (p, a)))
        .collect();
    let mut paths: Vec<&str> = Vec::new();
    for p in probes {
        if !paths.contains(&p.path.as_str()) {
            paths.push(&p.path);
        }
    }
    let mut out: Vec<Finding> = Vec::new();
    for path in paths {
        let url = format!("{}{}", base.trim_end_matches('/'), path);
        let here: Vec<(&Probe, &Answer)> = pairs
            .iter()
            .copied()
            .filter(|(p, _)| p.path == path)
            .collect();
        let gets: Vec<(&Probe, &Answer)> = here
            .iter()
            .copied()
            .filter(|(p, _)| p.method == "GET")
            .collect();
        let pres: Vec<(&Probe, &Answer)> = here
            .iter()
            .copied()
            .filter(|(p, _)| p.method == "OPTIONS")
            .collect();
        let mut found = reflection(&gets, &url);
        found.extend(vary(&gets, &url));
        found.extend(preflight(&gets, &pres, &url));
        for f in found {
            if !out.iter().any(|o| o.id == f.id) {
                out.push(f);
            }
        }
    }
    out
}

/// The answers that echo their own `Origin`, by crafted origin.
fn reflected<'a>(gets: &[(&'a Probe, &'a Answer)], craft: Craft) -> Vec<(&'a Probe, &'a Answer)> {
    gets.iter()
        .copied()
        .filter(|(p, a)| p.craft == craft && p.origin.is_some() && acao(a) == p.origin.as_deref())
        .collect()
}

fn reflection(gets: &[(&Probe, &Answer)], url: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let ev = |hits: &[(&Probe, &Answer)]| -> (String, bool) {
        let creds = hits.iter().any(|(_, a)| acac(a));
        let Some((p, a)) = hits.iter().find(|(_, a)| acac(a)).or(hits.first()).copied() else {
            return (String::new(), false);
        };
        (
            evidence(
                p,
                a,
                &[
                    "access-control-allow-origin",
                    "access-control-allow-credentials",
                ],
            ),
            creds,
        )
    };
    let loc = || Location::url(url);
    let attacker = reflected(gets, Craft::Attacker);
    if !attacker.is_empty() {
        let (e, creds) = ev(&attacker);
        let sev = if creds {
            Severity::Critical
        } else {
            Severity::Medium
        };
        let also: Vec<String> = [
            Craft::Null,
            Craft::Suffix,
            Craft::Prefix,
            Craft::HttpDowngrade,
        ]
        .into_iter()
        .filter_map(|c| {
            reflected(gets, c)
                .first()
                .and_then(|(p, _)| p.origin.clone())
        })
        .collect();
        let e = if also.is_empty() {
            e
        } else {
            format!("{e}; also echoed: {}", also.join(", "))
        };
        out.push(Finding::new("reflect-any-origin", sev, e, loc()));
        return out;
    }
    let mut explained: Vec<String> = Vec::new();
    let suffix = reflected(gets, Craft::Suffix);
    if let Some((p, _)) = suffix.first() {
        let domain = p
            .from
            .as_deref()
            .and_then(split_origin)
            .map_or("", |(_, h, _)| registrable(h))
            .to_string();
        let others: Vec<String> = [Craft::UnescapedDot, Craft::HttpDowngrade, Craft::Subdomain]
            .into_iter()
            .flat_map(|c| reflected(gets, c))
            .filter_map(|(p, _)| p.origin.clone())
            .filter(|o| split_origin(o).is_some_and(|(_, h, _)| h.ends_with(&domain)))
            .fold(Vec::new(), |mut v, o| {
                if !v.contains(&o) {
                    v.push(o);
                }
                v
            });
        let (e, creds) = ev(&suffix);
        let e = if others.is_empty() {
            e
        } else {
            format!(
                "{e}; consistent with it, also echoed: {}",
                others.join(", ")
            )
        };
        explained.extend(others);
        let sev = if creds {
            Severity::Critical
        } else {
            Severity::High
        };
        out.push(Finding::new("suffix-match-allowlist", sev, e, loc()));
    }
    let unexplained = |c: Craft| -> Vec<(&Probe, &Answer)> {
        reflected(gets, c)
            .into_iter()
            .filter(|(p, _)| !p.origin.as_ref().is_some_and(|o| explained.contains(o)))
            .collect()
    };
    let rules = [
        (
            Craft::Prefix,
            "prefix-match-allowlist",
            Severity::High,
            Severity::Critical,
        ),
        (
            Craft::UnescapedDot,
            "regex-unescaped-dot",
            Severity::High,
            Severity::Critical,
        ),
        (
            Craft::Null,
            "null-origin-allowed",
            Severity::High,
            Severity::Critical,
        ),
        (
            Craft::HttpDowngrade,
            "http-origin-trusted",
            Severity::Medium,
            Severity::High,
        ),
        (
            Craft::Subdomain,
            "subdomain-trusted",
            Severity::Low,
            Severity::Medium,
        ),
    ];
    for (craft, id, plain, with_creds) in rules {
        let hits = unexplained(craft);
        if !hits.is_empty() {
            let (e, creds) = ev(&hits);
            out.push(Finding::new(
                id,
                if creds { with_creds } else { plain },
                e,
                loc(),
            ));
        }
    }
    if let Some((p, a)) = gets.iter().find(|(_, a)| acao(a) == Some("*") && acac(a)) {
        out.push(Finding::new(
            "wildcard-with-credentials",
            Severity::Medium,
            evidence(
                p,
                a,
                &[
                    "access-control-allow-origin",
                    "access-control-allow-credentials",
                ],
            ),
            loc(),
        ));
    }
    out
}

fn vary(gets: &[(&Probe, &Answer)], url: &str) -> Vec<Finding> {
    let echoed = gets.iter().find(|(p, a)| {
        p.origin.is_some() && acao(a).is_some_and(|v| v != "*") && acao(a) == p.origin.as_deref()
    });
    let with_origin: Vec<&(&Probe, &Answer)> =
        gets.iter().filter(|(p, _)| p.origin.is_some()).collect();
    let some_allowed = with_origin.iter().any(|(_, a)| acao(a).is_some());
    let some_refused = with_origin.iter().any(|(_, a)| acao(a).is_none());
    let dependent = echoed.is_some() || (some_allowed && some_refused);
    if !dependent {
        return Vec::new();
    }
    let lacking: Vec<&(&Probe, &Answer)> = gets
        .iter()
        .filter(|(_, a)| !varies_on(a, "origin") && !never_stored(a))
        .collect();
    if lacking.is_empty() {
        return Vec::new();
    }
    let how = match echoed {
        Some((p, a)) => format!(
            "Access-Control-Allow-Origin echoes the Origin ({} → {})",
            p.describe(),
            show(a, &["access-control-allow-origin", "vary"])
        ),
        None => "Access-Control-Allow-Origin is sent to some origins and not to others".to_string(),
    };
    let mut origins: Vec<&Option<String>> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (p, a) in &lacking {
        if seen.len() < 3 && !origins.contains(&&p.origin) {
            origins.push(&p.origin);
            seen.push(evidence(
                p,
                a,
                &["access-control-allow-origin", "vary", "cache-control"],
            ));
        }
    }
    let cacheable = lacking.iter().any(|(_, a)| shared_cacheable(a));
    let sev = if cacheable {
        Severity::High
    } else {
        Severity::Medium
    };
    let note = if cacheable {
        "a shared cache may store them"
    } else {
        "they carry no explicit shared-cache freshness, but heuristic caching or a CDN TTL override can still store them"
    };
    vec![Finding::new(
        "missing-vary-origin",
        sev,
        format!(
            "{how}; {} of {} answers lack `Vary: Origin` ({note}), e.g. {}",
            lacking.len(),
            gets.len(),
            seen.join("; ")
        ),
        Location::url(url),
    )]
}

fn preflight(gets: &[(&Probe, &Answer)], pres: &[(&Probe, &Answer)], url: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let loc = || Location::url(url);
    let trusted: Vec<&(&Probe, &Answer)> = pres
        .iter()
        .filter(|(p, _)| p.craft == Craft::Trusted)
        .collect();
    let Some((p0, a0)) = trusted.first().copied() else {
        return out;
    };
    let get_allowed = gets
        .iter()
        .any(|(p, a)| p.origin == p0.origin && acao(a).is_some());
    let ok_status = (200..=299).contains(&a0.status);
    let shown = |a: &Answer| {
        show(
            a,
            &[
                "access-control-allow-origin",
                "access-control-allow-methods",
                "access-control-allow-headers",
                "vary",
            ],
        )
    };
    if acao(a0).is_none() && get_allowed {
        out.push(Finding::new(
            "no-options-handler",
            Severity::High,
            format!(
                "{} → {} (a GET from the same origin is allowed)",
                p0.describe(),
                shown(a0)
            ),
            loc(),
        ));
        return out;
    }
    if !ok_status && acao(a0).is_some() {
        out.push(Finding::new(
            "preflight-bad-status",
            Severity::Medium,
            format!("{} → {}", p0.describe(), shown(a0)),
            loc(),
        ));
    }
    if acao(a0).is_none() {
        return out;
    }
    // What the answer depends on.
    let attacker = pres.iter().find(|(p, _)| p.craft == Craft::Attacker);
    let on_origin =
        acao(a0).is_some_and(|v| v != "*") || attacker.is_some_and(|(_, a)| acao(a) != acao(a0));
    let echoes = |name: &str, field: &str| {
        trusted.len() >= 2
            && trusted.iter().all(|(p, a)| {
                let asked = match field {
                    "access-control-request-method" => p.request_method.as_deref(),
                    _ => p.request_headers.as_deref(),
                };
                a.headers.get_combined(name).as_deref().map(str::trim) == asked
            })
    };
    let mut needs: Vec<&str> = Vec::new();
    if on_origin {
        needs.push("origin");
    }
    if echoes(
        "access-control-allow-methods",
        "access-control-request-method",
    ) {
        needs.push("access-control-request-method");
    }
    if echoes(
        "access-control-allow-headers",
        "access-control-request-headers",
    ) {
        needs.push("access-control-request-headers");
    }
    let lacking: Vec<(&Probe, &Answer, Vec<&str>)> = pres
        .iter()
        .filter(|(_, a)| !never_stored(a))
        .filter_map(|(p, a)| {
            let miss: Vec<&str> = needs.iter().copied().filter(|n| !varies_on(a, n)).collect();
            (!miss.is_empty()).then_some((*p, *a, miss))
        })
        .collect();
    if let Some((p, a, miss)) = lacking.first() {
        let cacheable = lacking.iter().any(|(_, a, _)| shared_cacheable(a));
        let depends: Vec<String> = needs.iter().map(|n| canonical(n)).collect();
        out.push(Finding::new(
            "missing-preflight-vary",
            if cacheable {
                Severity::High
            } else {
                Severity::Medium
            },
            format!(
                "the preflight answer depends on {}; {} → {}: Vary lacks {}{}",
                depends.join(", "),
                p.describe(),
                show(
                    a,
                    &[
                        "access-control-allow-origin",
                        "access-control-allow-headers",
                        "vary",
                        "cache-control"
                    ]
                ),
                miss.iter()
                    .map(|n| canonical(n))
                    .collect::<Vec<_>>()
                    .join(", "),
                if cacheable {
                    " and a shared cache may store it"
                } else {
                    ""
                }
            ),
            loc(),
        ));
    }
    if let Some(v) = a0.headers.get("access-control-max-age") {
        if let Ok(secs) = v.trim().parse::<u64>() {
            let capped: Vec<String> = [("Safari", 600u64), ("Chrome", 7200), ("Firefox", 86_400)]
                .into_iter()
                .filter(|(_, cap)| secs > *cap)
                .map(|(b, cap)| format!("{b} uses {cap}"))
                .collect();
            if !capped.is_empty() {
                out.push(Finding::new(
                    "max-age-above-cap",
                    Severity::Low,
                    format!(
                        "{} → Access-Control-Max-Age: {secs}; {}",
                        p0.describe(),
                        capped.join(", ")
                    ),
                    loc(),
                ));
            }
        }
    }
    out
}
