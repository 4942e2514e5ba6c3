//! The origin model a recording implies: per route, the CORS policy seen (which Origins
//! got their own `Access-Control-Allow-Origin`, `*`, credentials, methods, headers,
//! max-age), `Vary`, `Cache-Control` and status. Responses that came from a cache are left
//! out when fresh ones exist (a poisoned answer says nothing about the origin). Whatever
//! the responses cannot tell becomes a [`Notes`] comment next to the value assumed.

use super::classify::cache_evidence;
use super::Entry;
use crate::fields::Headers;
use crate::origin::{AllowHeaders, AllowOrigins, CorsPolicy, OriginModel, Route, VaryOrigin};
use std::collections::BTreeSet;
use std::sync::Arc;

/// YAML comments, by where they go.
#[derive(Clone, Debug, Default)]
pub(super) struct Notes {
    origin: Vec<String>,
    routes: Vec<(String, String)>,
    edge: Vec<String>,
    clients: Vec<String>,
    steps: Vec<String>,
}

impl Notes {
    /// A comment above `origin:`.
    pub(super) fn origin(&mut self, s: String) {
        push_once(&mut self.origin, s);
    }
    /// A comment above the route `path`.
    pub(super) fn route(&mut self, path: &str, s: String) {
        let v = (path.to_string(), s);
        if !self.routes.contains(&v) {
            self.routes.push(v);
        }
    }
    /// A comment above `edge:`.
    pub(super) fn edge(&mut self, s: String) {
        push_once(&mut self.edge, s);
    }
    /// A comment above `clients:`.
    pub(super) fn clients(&mut self, s: String) {
        push_once(&mut self.clients, s);
    }
    /// A comment above `steps:`.
    pub(super) fn steps(&mut self, s: String) {
        push_once(&mut self.steps, s);
    }

    /// Inserts the comments into scenario YAML written by `scenario::write`.
    pub(super) fn annotate(&self, yaml: &str) -> String {
        let mut out = String::with_capacity(yaml.len() + 1024);
        for line in yaml.lines() {
            let block: Vec<&String> = match line {
                "origin:" => self.origin.iter().collect(),
                "edge:" => self.edge.iter().collect(),
                "clients:" => self.clients.iter().collect(),
                "steps:" => self.steps.iter().collect(),
                l => match l.strip_prefix("    - path: ") {
                    Some(p) => {
                        let p = serde_json::from_str::<String>(p).unwrap_or_else(|_| p.to_string());
                        self.routes
                            .iter()
                            .filter(|(r, _)| *r == p)
                            .map(|(_, s)| s)
                            .collect()
                    }
                    None => Vec::new(),
                },
            };
            let indent = &line[..line.len() - line.trim_start().len()];
            for c in block {
                for l in c.lines() {
                    out.push_str(indent);
                    out.push_str("# ");
                    out.push_str(l);
                    out.push('\n');
                }
            }
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

fn push_once(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// The path of a target, without the query.
fn path_of(t: &str) -> &str {
    t.split_once('?').map_or(t, |(p, _)| p)
}

/// Infers the origin model from the recorded (entry, sending page) pairs.
pub(super) fn infer_origin(items: &[(&Entry, Option<&str>)], notes: &mut Notes) -> OriginModel {
    let answered: Vec<&Entry> = items
        .iter()
        .map(|(e, _)| *e)
        .filter(|e| e.has_response())
        .collect();
    let fresh: Vec<&Entry> = answered
        .iter()
        .copied()
        .filter(|e| cache_evidence(e).is_none())
        .collect();
    let basis = if fresh.is_empty() {
        notes.origin("every recorded response came from a cache: the policy below is read from cached answers".into());
        answered.clone()
    } else {
        fresh
    };
    let actual: Vec<&Entry> = basis
        .iter()
        .copied()
        .filter(|e| !e.is_preflight())
        .collect();
    let preflights: Vec<&Entry> = basis.iter().copied().filter(|e| e.is_preflight()).collect();
    // Every Origin that made a CORS request, including failed ones (their page).
    let callers: BTreeSet<String> = items
        .iter()
        .filter_map(|(e, page)| {
            e.origin().map(str::to_string).or_else(|| {
                (!e.has_response())
                    .then(|| page.map(str::to_string))
                    .flatten()
            })
        })
        .filter(|o| o != "null")
        .collect();
    let cors = policy(&actual, &preflights, items, &callers, notes);
    let mut routes: Vec<Route> = Vec::new();
    for (e, _) in items {
        let p = path_of(&e.target);
        if routes.iter().any(|r| r.path == p) {
            continue;
        }
        routes.push(route(p, &actual, &answered, cors.as_ref(), notes));
    }
    OriginModel {
        cors,
        routes,
        latency_ms: 0,
        epoch: crate::time::SIM_EPOCH,
    }
}

fn route(
    path: &str,
    actual: &[&Entry],
    answered: &[&Entry],
    cors: Option<&CorsPolicy>,
    notes: &mut Notes,
) -> Route {
    let mine: Vec<&Entry> = actual
        .iter()
        .copied()
        .filter(|e| path_of(&e.target) == path)
        .collect();
    // What a GET answers is what the route serves; a POST's 201 says nothing about it.
    let reads: Vec<&Entry> = mine
        .iter()
        .copied()
        .filter(|e| matches!(e.method.as_str(), "GET" | "HEAD"))
        .collect();
    let counted = if reads.is_empty() { &mine } else { &reads };
    let mut statuses: Vec<(u16, usize)> = Vec::new();
    for e in counted {
        let s = e.status.clamp(100, 599) as u16;
        match statuses.iter_mut().find(|(x, _)| *x == s) {
            Some((_, n)) => *n += 1,
            None => statuses.push((s, 1)),
        }
    }
    let status = statuses
        .iter()
        .max_by_key(|(_, n)| *n)
        .map_or(200, |(s, _)| *s);
    if statuses.len() > 1 {
        notes.route(
            path,
            format!(
                "several statuses were recorded here ({}): the most frequent is kept",
                statuses
                    .iter()
                    .map(|(s, n)| format!("{s} ×{n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let cache_control = mine
        .iter()
        .rev()
        .find_map(|e| e.response_headers.get_combined("cache-control"));
    if mine.is_empty() {
        notes.route(path, "no fresh response was recorded for this path (failed, preflight-only, or served from a cache): status 200 and no Cache-Control assumed".into());
    } else if cache_control.is_none() {
        notes.route(path, "no Cache-Control was recorded: none is sent (the edge's heuristics and TTL defaults apply)".into());
    }
    let with_origin: Vec<&&Entry> = mine.iter().filter(|e| e.origin().is_some()).collect();
    let no_acao = !with_origin.is_empty()
        && with_origin
            .iter()
            .all(|e| !e.response_headers.contains("access-control-allow-origin"));
    let cors_off = no_acao
        && cors.is_some_and(|p| {
            with_origin
                .iter()
                .any(|e| p.allow_origins.allow(e.origin()).is_some())
        });
    if cors_off {
        notes.route(
            path,
            "no CORS headers here although the origin allows these callers elsewhere: cors: false"
                .into(),
        );
    }
    let mut headers = Headers::new();
    // A path answered `*` to every caller where the origin's policy names origins (a CDN
    // or a static bucket behind a redirect): the route sends that `*` itself.
    // A `*` is the same for every caller, so when no fresh answer here had an Origin a
    // stored one still says what the origin answers.
    let stored: Vec<&&Entry> = answered
        .iter()
        .filter(|e| path_of(&e.target) == path && !e.is_preflight() && e.origin().is_some())
        .collect();
    let star_basis = if with_origin.is_empty() {
        &stored
    } else {
        &with_origin
    };
    let star = !star_basis.is_empty()
        && cors.is_some_and(|p| !matches!(p.allow_origins, AllowOrigins::Any))
        && star_basis.iter().all(|e| {
            e.response_headers
                .get("access-control-allow-origin")
                .map(str::trim)
                == Some("*")
        });
    if star && !cors_off {
        headers.insert("access-control-allow-origin", "*");
        notes.route(
            path,
            "every caller got Access-Control-Allow-Origin: * here, unlike the origin's other answers: cors: false with that field as a header".into(),
        );
    }
    // A redirect: the Location the recorded answers gave, so a replayed fetch follows it.
    if (300..400).contains(&status) {
        let loc = mine
            .iter()
            .rev()
            .filter(|e| e.status == i32::from(status))
            .find_map(|e| e.response_headers.get("location"));
        if let Some(loc) = loc {
            headers.insert("location", loc.trim());
        }
    }
    Route {
        path: path.to_string(),
        methods: Vec::new(),
        status,
        cache_control,
        headers,
        body: Arc::from(&b""[..]),
        cors: (cors_off || star).then_some(None),
        redirect_options: false,
        cors_on_304: true,
        errors: Vec::new(),
    }
}

/// The origin-wide CORS policy the responses show; `None` when no response carried any
/// CORS header.
fn policy(
    actual: &[&Entry],
    preflights: &[&Entry],
    items: &[(&Entry, Option<&str>)],
    callers: &BTreeSet<String>,
    notes: &mut Notes,
) -> Option<CorsPolicy> {
    let acao = |e: &Entry| {
        e.response_headers
            .get("access-control-allow-origin")
            .map(str::trim)
            .map(str::to_string)
    };
    let fresh_origins: BTreeSet<&str> = actual
        .iter()
        .chain(preflights)
        .filter_map(|e| e.origin())
        .collect();
    let unanswered = callers.iter().any(|c| !fresh_origins.contains(c.as_str()));
    // A 2xx answer to a preflight means the origin handles CORS (it just allowed none of
    // these callers).
    let handles_options = preflights.iter().any(|e| (200..=299).contains(&e.status));
    if actual.iter().chain(preflights).all(|e| acao(e).is_none()) && !unanswered && !handles_options
    {
        notes.origin(
            "no response carried Access-Control-Allow-Origin: the origin is modelled without CORS"
                .into(),
        );
        return None;
    }
    if fresh_origins.is_empty() {
        notes.origin("no answer of the origin itself to a request with an Origin is in the recording: whether it sends Vary: Origin, credentials or exposed headers is unknown (none assumed)".into());
    }
    let mut p = CorsPolicy {
        allow_origins: allow_origins(actual, preflights, callers, notes),
        ..CorsPolicy::default()
    };
    p.allow_credentials = actual.iter().chain(preflights).any(|e| {
        e.response_headers
            .get("access-control-allow-credentials")
            .is_some_and(|v| v.trim() == "true")
    });
    let expose: BTreeSet<String> = actual
        .iter()
        .flat_map(|e| e.response_headers.list("access-control-expose-headers"))
        .map(str::to_ascii_lowercase)
        .collect();
    p.expose_headers = expose.into_iter().collect();
    p.vary_origin = vary_origin(actual, notes);
    preflight_policy(&mut p, actual, preflights, items, notes);
    Some(p)
}

fn allow_origins(
    actual: &[&Entry],
    preflights: &[&Entry],
    callers: &BTreeSet<String>,
    notes: &mut Notes,
) -> AllowOrigins {
    let mut allowed = BTreeSet::new();
    let mut denied = BTreeSet::new();
    let mut fixed = BTreeSet::new();
    for e in actual.iter().chain(preflights) {
        let a = e
            .response_headers
            .get("access-control-allow-origin")
            .map(str::trim);
        match (e.origin(), a) {
            (_, Some("*")) => {
                notes.origin(
                    "Access-Control-Allow-Origin: * was recorded: allow_origins \"*\"".into(),
                );
                return AllowOrigins::Any;
            }
            (Some(o), Some(v)) if v == o => {
                allowed.insert(o.to_string());
            }
            (Some(o), None) => {
                denied.insert(o.to_string());
            }
            (_, Some(v)) => {
                fixed.insert(v.to_string());
            }
            (None, None) => {}
        }
    }
    for v in &fixed {
        notes.origin(format!("a fresh response carried Access-Control-Allow-Origin: {v} for another (or no) Origin: a fixed value cannot be modelled; it is added to the allowlist"));
    }
    allowed.extend(fixed);
    let denied: Vec<String> = denied.difference(&allowed).cloned().collect();
    let saw_own = !allowed.is_empty();
    let unseen: Vec<String> = callers
        .iter()
        .filter(|o| !allowed.contains(*o) && !denied.contains(*o))
        .cloned()
        .collect();
    if !unseen.is_empty() {
        notes.origin(format!(
            "never answered by the origin itself in this recording (only cached answers, or failed requests): {}; assumed allowed, as a cache serving them another origin's answer is what the recording suggests. Remove them if the origin does not allow them",
            unseen.join(", ")
        ));
        allowed.extend(unseen);
    }
    if denied.is_empty() && saw_own {
        notes.origin("every Origin seen got its own Access-Control-Allow-Origin: an allowlist of those origins (reflect-any cannot be told apart from the recording)".into());
    } else if !denied.is_empty() {
        notes.origin(format!(
            "origins answered without Access-Control-Allow-Origin (not allowed): {}",
            denied.join(", ")
        ));
    }
    AllowOrigins::List(allowed.into_iter().collect())
}

fn vary_origin(actual: &[&Entry], notes: &mut Notes) -> VaryOrigin {
    let varies = |e: &&&Entry| {
        e.response_headers
            .list("vary")
            .iter()
            .any(|v| v.eq_ignore_ascii_case("origin") || *v == "*")
    };
    let with: Vec<&&Entry> = actual.iter().filter(|e| e.origin().is_some()).collect();
    let without: Vec<&&Entry> = actual.iter().filter(|e| e.origin().is_none()).collect();
    let w = with.iter().any(varies);
    let wo = without.iter().any(varies);
    match (w, wo, without.is_empty()) {
        (false, false, _) => VaryOrigin::Never,
        (_, true, _) => VaryOrigin::Always,
        (true, false, false) => {
            notes.origin("Vary: Origin only on responses to requests with an Origin: vary_origin: when-origin".into());
            VaryOrigin::WhenOrigin
        }
        (true, false, true) => {
            notes.origin("Vary: Origin was seen; no response to a request without Origin was recorded, so whether it is sent then too is unknown: vary_origin: true assumed".into());
            VaryOrigin::Always
        }
    }
}

/// Methods, headers, max-age and preflight caching: from recorded preflight answers, or —
/// when none is recorded — from the requests that were evidently let through.
fn preflight_policy(
    p: &mut CorsPolicy,
    actual: &[&Entry],
    preflights: &[&Entry],
    items: &[(&Entry, Option<&str>)],
    notes: &mut Notes,
) {
    let mut methods: BTreeSet<String> = ["GET", "HEAD", "POST"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for e in actual {
        methods.insert(e.method.clone());
    }
    if preflights.is_empty() {
        let preflighted = items.iter().any(|(e, _)| {
            !matches!(e.method.as_str(), "GET" | "HEAD" | "POST")
                || e.request_headers
                    .iter()
                    .any(|(n, _)| n.starts_with("x-") || n == "authorization")
        });
        if preflighted {
            p.allow_headers = AllowHeaders::Reflect;
            notes.origin("no preflight answer is in the recording (Playwright and some exports leave them out): allow_methods lists the methods that went through, allow_headers: reflect (what most CORS middlewares do) is assumed; max_age and preflight Cache-Control are unknown".into());
        }
        p.allow_methods = methods.into_iter().collect();
        return;
    }
    let mut headers: BTreeSet<String> = BTreeSet::new();
    let mut reflect = true;
    let mut star = false;
    for e in preflights {
        let h = &e.response_headers;
        methods.extend(
            h.list("access-control-allow-methods")
                .into_iter()
                .map(str::to_string),
        );
        let acah: Vec<String> = h
            .list("access-control-allow-headers")
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        let acrh: Vec<String> = e
            .request_headers
            .list("access-control-request-headers")
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        star |= acah.iter().any(|x| x == "*");
        reflect &= acah == acrh;
        headers.extend(acah);
        if let Some(m) = h
            .get("access-control-max-age")
            .and_then(|v| v.trim().parse().ok())
        {
            p.max_age = Some(m);
        }
        let v = h.list("vary");
        if v.iter().any(|x| {
            x.eq_ignore_ascii_case("access-control-request-headers")
                || x.eq_ignore_ascii_case("access-control-request-method")
        }) {
            p.preflight_vary = true;
        }
        if let Some(cc) = h.get_combined("cache-control") {
            p.preflight_cache_control = Some(cc);
        }
        if (200..=299).contains(&e.status) {
            p.preflight_status = e.status as u16;
        }
    }
    p.allow_methods = methods.into_iter().collect();
    p.allow_headers = if star {
        AllowHeaders::Any
    } else if reflect && !headers.is_empty() {
        notes.origin(
            "every preflight answer echoed Access-Control-Request-Headers: allow_headers: reflect"
                .into(),
        );
        AllowHeaders::Reflect
    } else {
        AllowHeaders::List(headers.into_iter().collect())
    };
}
