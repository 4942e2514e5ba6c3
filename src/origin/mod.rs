//! The origin model: a backend described in a scenario — its CORS policy, its routes and
//! their `Cache-Control` — answering requests as a pure function of the request and the
//! time. The simulator asks it directly (the "no cache in between" answer) and through the
//! edge; `varyedge origin` serves it over HTTP so real caches can be put in front of it.

use crate::fields::Headers;
use crate::message::{Request, Response};
use crate::time::Timestamp;
use std::sync::Arc;

/// Which origins the policy allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowOrigins {
    /// `Access-Control-Allow-Origin: *` on every response (a static value: no `Vary` needed).
    Any,
    /// Echoes whatever `Origin` arrives (the classic misconfiguration).
    ReflectAny,
    /// Echoes the `Origin` when it is byte-equal to an entry (`null` included if listed).
    List(Vec<String>),
    /// Echoes the `Origin` when it ends with this string — the `endsWith("example.com")` bug.
    Suffix(String),
    /// Echoes the `Origin` when it starts with this string — the
    /// `startsWith("https://app.example.com")` bug (`https://app.example.com.evil.test` passes).
    Prefix(String),
    /// Echoes the `Origin` when this pattern matches it, as a regular expression would:
    /// the `^https://app.example.com$` bug (an unescaped `.` matches any character) and
    /// the unanchored-pattern bug. See [`pattern_matches`] for the supported subset.
    Pattern(String),
}

impl AllowOrigins {
    /// The ACAO value for a request `Origin`, if allowed.
    pub fn allow(&self, origin: Option<&str>) -> Option<String> {
        match (self, origin) {
            (AllowOrigins::Any, _) => Some("*".to_string()),
            (AllowOrigins::ReflectAny, Some(o)) => Some(o.to_string()),
            (AllowOrigins::List(l), Some(o)) if l.iter().any(|x| x == o) => Some(o.to_string()),
            (AllowOrigins::Suffix(s), Some(o)) if o.ends_with(s.as_str()) => Some(o.to_string()),
            (AllowOrigins::Prefix(p), Some(o)) if o.starts_with(p.as_str()) => Some(o.to_string()),
            (AllowOrigins::Pattern(p), Some(o)) if pattern_matches(p, o) => Some(o.to_string()),
            _ => None,
        }
    }

    /// Whether the ACAO value depends on the request's `Origin` (so `Vary: Origin` is needed,
    /// Fetch §3.2.5 "CORS protocol and HTTP caches").
    pub fn varies_with_origin(&self) -> bool {
        !matches!(self, AllowOrigins::Any)
    }
}

/// Whether `pattern` matches somewhere in `text`, with regular-expression semantics for
/// a small subset: `^` and `$` anchor (only as first / last character), `.` matches any
/// one character, `\\x` matches `x` literally, `*` repeats the previous item zero or more
/// times; everything else is literal. Unanchored patterns match anywhere, as `Regex::is_match`
/// does. [`pattern_error`] rejects what this subset does not cover.
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    let (anchored_start, body) = match pattern.strip_prefix('^') {
        Some(b) => (true, b),
        None => (false, pattern),
    };
    let (anchored_end, body) = match body.strip_suffix('$') {
        Some(b) if !b.ends_with('\\') => (true, b),
        _ => (false, body),
    };
    let items = pattern_items(body);
    let text: Vec<char> = text.chars().collect();
    let starts: Vec<usize> = if anchored_start {
        vec![0]
    } else {
        (0..=text.len()).collect()
    };
    starts
        .into_iter()
        .any(|s| match_here(&items, &text[s..], anchored_end))
}

/// Why `pattern` is outside the subset [`pattern_matches`] implements, if it is.
pub fn pattern_error(pattern: &str) -> Option<String> {
    let body = pattern.strip_prefix('^').unwrap_or(pattern);
    let body = body.strip_suffix('$').unwrap_or(body);
    if body.starts_with('*') {
        return Some("a pattern cannot start with `*`".into());
    }
    let mut escaped = false;
    for c in body.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' | ']' | '(' | ')' | '{' | '}' | '|' | '+' | '?' | '^' | '$' => {
                return Some(format!(
                    "`{c}` is not supported here: use literal text, `.`, `\\.`, `*`, and `^`/`$` at the ends"
                ))
            }
            _ => {}
        }
    }
    escaped.then(|| "the pattern ends with a lone `\\`".to_string())
}

#[derive(Clone, Copy, Debug)]
enum Item {
    Any,
    Lit(char),
}

fn pattern_items(body: &str) -> Vec<(Item, bool)> {
    let mut out: Vec<(Item, bool)> = Vec::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push((Item::Lit(chars.next().unwrap_or('\\')), false)),
            '.' => out.push((Item::Any, false)),
            '*' => match out.last_mut() {
                Some(last) => last.1 = true,
                None => out.push((Item::Lit('*'), false)),
            },
            c => out.push((Item::Lit(c), false)),
        }
    }
    out
}

fn match_here(items: &[(Item, bool)], text: &[char], anchored_end: bool) -> bool {
    let one = |it: Item, c: char| match it {
        Item::Any => true,
        Item::Lit(l) => l == c,
    };
    match items.split_first() {
        None => !anchored_end || text.is_empty(),
        Some((&(it, true), rest)) => {
            let mut i = 0;
            loop {
                if match_here(rest, &text[i..], anchored_end) {
                    return true;
                }
                if i < text.len() && one(it, text[i]) {
                    i += 1;
                } else {
                    return false;
                }
            }
        }
        Some((&(it, false), rest)) => {
            !text.is_empty() && one(it, text[0]) && match_here(rest, &text[1..], anchored_end)
        }
    }
}

/// What `Access-Control-Allow-Headers` a preflight answer carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowHeaders {
    /// This list.
    List(Vec<String>),
    /// `*`.
    Any,
    /// Echo `Access-Control-Request-Headers`.
    Reflect,
}

/// When the origin sends `Vary: Origin` on non-preflight responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VaryOrigin {
    /// Never.
    Never,
    /// On every response, with or without `Origin` (the correct choice).
    Always,
    /// Only when the request had an `Origin` (the bug of rs/cors#10 and Eric Lawrence's post).
    WhenOrigin,
}

/// The origin's CORS policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsPolicy {
    /// Allowed origins.
    pub allow_origins: AllowOrigins,
    /// Sends `Access-Control-Allow-Credentials: true`.
    pub allow_credentials: bool,
    /// Methods in `Access-Control-Allow-Methods`.
    pub allow_methods: Vec<String>,
    /// Headers in `Access-Control-Allow-Headers`.
    pub allow_headers: AllowHeaders,
    /// `Access-Control-Expose-Headers`.
    pub expose_headers: Vec<String>,
    /// `Access-Control-Max-Age` on preflights.
    pub max_age: Option<u64>,
    /// `Vary: Origin` on responses.
    pub vary_origin: VaryOrigin,
    /// `Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers` on preflights.
    pub preflight_vary: bool,
    /// `Cache-Control` on preflight answers.
    pub preflight_cache_control: Option<String>,
    /// Status of a preflight answer (204 by default).
    pub preflight_status: u16,
    /// Whether `OPTIONS` is handled at all; `false` answers 405 without CORS headers.
    pub options_handler: bool,
    /// Answers `Access-Control-Request-Private-Network: true` with
    /// `Access-Control-Allow-Private-Network: true`.
    pub allow_private_network: bool,
    /// Extra header fields on every preflight answer (`preflight_headers:`), after the
    /// CORS ones: how a scenario sends a raw `Access-Control-Max-Age: +10`.
    pub preflight_headers: Headers,
}

impl Default for CorsPolicy {
    fn default() -> Self {
        CorsPolicy {
            allow_origins: AllowOrigins::List(Vec::new()),
            allow_credentials: false,
            allow_methods: vec!["GET".into(), "HEAD".into(), "POST".into()],
            allow_headers: AllowHeaders::List(Vec::new()),
            expose_headers: Vec::new(),
            max_age: None,
            vary_origin: VaryOrigin::Never,
            preflight_vary: false,
            preflight_cache_control: None,
            preflight_status: 204,
            options_handler: true,
            allow_private_network: false,
            preflight_headers: Headers::new(),
        }
    }
}

/// One route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Exact path, or a prefix ending in `*`.
    pub path: String,
    /// Methods served (others get 405); empty = GET and HEAD plus any the policy allows.
    pub methods: Vec<String>,
    /// Status.
    pub status: u16,
    /// `Cache-Control`, if any.
    pub cache_control: Option<String>,
    /// Extra response headers.
    pub headers: Headers,
    /// Body.
    pub body: Arc<[u8]>,
    /// Overrides the origin's policy on this route; `Some(None)` = no CORS at all here.
    pub cors: Option<Option<CorsPolicy>>,
    /// A redirect route (status 3xx with `Location`) also redirects `OPTIONS`, preflights
    /// included (a server-level http→https or trailing-slash redirect in front of the
    /// CORS handler). By default the CORS handler answers preflights first, as most
    /// frameworks' CORS middleware does.
    pub redirect_options: bool,
    /// Whether a `304 Not Modified` to a conditional request carries the CORS headers
    /// (a framework's CORS middleware adds them; Apache httpd dropped them, bz 51223).
    pub cors_on_304: bool,
    /// Times at which the route answers an error instead (an outage, a deploy, a WAF).
    pub errors: Vec<ErrorWindow>,
}

/// A span of time during which a route answers an error status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorWindow {
    /// The status (4xx or 5xx).
    pub status: u16,
    /// From this many ms after the origin's epoch (inclusive).
    pub from_ms: u64,
    /// Until this many ms after the epoch (exclusive); `None`: for good.
    pub until_ms: Option<u64>,
    /// `Cache-Control` on the error, if any.
    pub cache_control: Option<String>,
    /// Whether the error carries the CORS headers (an error page from a load balancer or
    /// a crashed handler usually does not).
    pub cors: bool,
    /// Body.
    pub body: Arc<[u8]>,
}

impl ErrorWindow {
    fn active(&self, since_epoch_ms: u64) -> bool {
        since_epoch_ms >= self.from_ms && self.until_ms.is_none_or(|u| since_epoch_ms < u)
    }
}

impl Route {
    fn matches(&self, path: &str) -> bool {
        match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => self.path == path,
        }
    }
}

/// A modelled backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginModel {
    /// The CORS policy (`None`: the backend knows nothing of CORS).
    pub cors: Option<CorsPolicy>,
    /// Routes, first match wins.
    pub routes: Vec<Route>,
    /// How long the origin takes to answer, in ms (what makes request collapsing visible).
    pub latency_ms: u64,
    /// The instant route error windows count from: the simulation's start, or when
    /// `varyedge origin` started serving.
    pub epoch: Timestamp,
}

/// The `Vary` a preflight answer carries under `preflight_vary`.
pub const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

impl OriginModel {
    /// Whether the same request can get a different answer at another time: a route with
    /// error windows answers an error inside them and its normal answer outside.
    pub fn answers_change_with_time(&self) -> bool {
        self.routes.iter().any(|r| !r.errors.is_empty())
    }

    /// The origin's answer to `req` at `now`. Pure: the same request at the same time
    /// always gets the same answer.
    pub fn respond(&self, req: &Request, now: Timestamp) -> Response {
        let route = self.routes.iter().find(|r| r.matches(req.path()));
        let policy = match route.and_then(|r| r.cors.as_ref()) {
            Some(p) => p.as_ref(),
            None => self.cors.as_ref(),
        };
        let origin = req.headers.get("origin");
        let is_preflight = req.method == "OPTIONS"
            && origin.is_some()
            && req.headers.contains("access-control-request-method");
        let mut h = Headers::new();
        // A preflight's answer carries up to nine fields of its own (`Date`, the six
        // CORS ones, `Vary`, `Cache-Control`): room for them at once instead of growing
        // twice. Other answers mostly fit the first growth's four.
        if let Some(p) = policy.filter(|p| is_preflight && p.options_handler) {
            h.reserve(9 + p.preflight_headers.len());
        }
        h.append_known("date", now.http_date());
        if let Some(r) = route.filter(|r| r.redirect_options && req.method == "OPTIONS") {
            h.append_known(
                "location",
                r.headers.get("location").unwrap_or("/").to_string(),
            );
            if let Some(cc) = &r.cache_control {
                h.append_known("cache-control", cc.to_string());
            }
            if let Some(p) = policy {
                self.cors_headers(p, origin, &mut h);
            }
            return Response::new(r.status, h);
        }
        if is_preflight {
            if let Some(p) = policy.filter(|p| p.options_handler) {
                return self.preflight(p, req, h);
            }
        }
        if req.method == "OPTIONS"
            && policy.is_none_or(|p| !p.options_handler)
            && !route.is_some_and(|r| r.methods.iter().any(|m| m == "OPTIONS"))
        {
            h.append_static("allow", "GET, HEAD");
            h.append_static("content-type", "text/plain");
            return Response {
                status: 405,
                headers: h,
                body: Arc::from(&b"method not allowed\n"[..]),
            };
        }
        let since = now.ms_since(self.epoch);
        let outage = route.and_then(|r| r.errors.iter().find(|e| e.active(since)));
        let (status, body) = match (route, outage) {
            (Some(_), Some(e)) => {
                if let Some(cc) = &e.cache_control {
                    h.append_known("cache-control", cc.to_string());
                }
                h.append_static("content-type", "text/plain");
                (e.status, e.body.clone())
            }
            (None, _) => (404, Arc::from(&b"not found\n"[..])),
            (Some(r), _) if !self.serves_method(r, policy, &req.method) => {
                (405, Arc::from(&b"method not allowed\n"[..]))
            }
            (Some(r), _) => {
                if let Some(cc) = &r.cache_control {
                    h.append_known("cache-control", cc.to_string());
                }
                h.extend_from(&r.headers);
                if let Some(nm) = not_modified(req, r.status, &h) {
                    return self.not_modified(r, policy, origin, nm);
                }
                (r.status, r.body.clone())
            }
        };
        let policy = match outage {
            Some(e) if !e.cors => None,
            _ => policy,
        };
        if !h.contains("content-type") {
            h.append_static("content-type", "application/json");
        }
        if let Some(p) = policy {
            self.cors_headers(p, origin, &mut h);
        }
        let body = if req.method == "HEAD" {
            Arc::from(&b""[..])
        } else {
            body
        };
        Response {
            status,
            headers: h,
            body,
        }
    }

    /// [`OriginModel::respond`] to `req` at `now`, given `earlier`, this model's answer to
    /// the same request at `then`. Without error windows an answer depends on the time
    /// only through its `Date`, which every answer carries as its first field: at the
    /// same second it is `earlier` itself, at another a copy with that date. (A copy
    /// allocates what `respond` would, but skips the route, the policy and the joined
    /// lists; the simulator asks the same few requests over and over.) The exception is
    /// `If-Modified-Since`, which a route without `Last-Modified` compares with the
    /// answer's `Date`: such a request is answered afresh.
    pub fn respond_again(
        &self,
        req: &Request,
        now: Timestamp,
        earlier: &Arc<Response>,
        then: Timestamp,
    ) -> Arc<Response> {
        if self.answers_change_with_time() || req.headers.contains("if-modified-since") {
            return Arc::new(self.respond(req, now));
        }
        if now.secs() == then.secs() {
            return earlier.clone();
        }
        Arc::new(Response {
            status: earlier.status,
            headers: earlier.headers.with_first_value(now.http_date()),
            body: earlier.body.clone(),
        })
    }

    /// The `304` for a route whose conditional matched: the validators, `Date` and
    /// `Cache-Control` (RFC 9110 §15.4.5), and the CORS headers when the route sends them.
    fn not_modified(
        &self,
        r: &Route,
        policy: Option<&CorsPolicy>,
        origin: Option<&str>,
        mut h: Headers,
    ) -> Response {
        if let Some(p) = policy.filter(|_| r.cors_on_304) {
            self.cors_headers(p, origin, &mut h);
        }
        Response::new(304, h)
    }

    fn serves_method(&self, r: &Route, policy: Option<&CorsPolicy>, method: &str) -> bool {
        if !r.methods.is_empty() {
            return r.methods.iter().any(|m| m == method);
        }
        matches!(method, "GET" | "HEAD")
            || policy.is_some_and(|p| p.allow_methods.iter().any(|m| m == method))
    }

    fn cors_headers(&self, p: &CorsPolicy, origin: Option<&str>, h: &mut Headers) {
        if let Some(acao) = p.allow_origins.allow(origin) {
            h.append_known("access-control-allow-origin", acao);
            if p.allow_credentials {
                h.append_static("access-control-allow-credentials", "true");
            }
            if !p.expose_headers.is_empty() {
                h.append_known("access-control-expose-headers", p.expose_headers.join(", "));
            }
        }
        let vary = match p.vary_origin {
            VaryOrigin::Never => false,
            VaryOrigin::Always => true,
            VaryOrigin::WhenOrigin => origin.is_some(),
        };
        if vary {
            h.append_static("vary", "Origin");
        }
    }

    fn preflight(&self, p: &CorsPolicy, req: &Request, mut h: Headers) -> Response {
        let origin = req.headers.get("origin");
        if let Some(acao) = p.allow_origins.allow(origin) {
            h.append_known("access-control-allow-origin", acao);
            if p.allow_credentials {
                h.append_static("access-control-allow-credentials", "true");
            }
            h.append_known("access-control-allow-methods", p.allow_methods.join(", "));
            let acah = match &p.allow_headers {
                AllowHeaders::List(l) => l.join(", "),
                AllowHeaders::Any => "*".to_string(),
                AllowHeaders::Reflect => req
                    .headers
                    .get("access-control-request-headers")
                    .unwrap_or("")
                    .to_string(),
            };
            if !acah.is_empty() {
                h.append_known("access-control-allow-headers", acah);
            }
            if let Some(m) = p.max_age {
                h.append_known("access-control-max-age", m.to_string());
            }
            if p.allow_private_network
                && req.headers.get("access-control-request-private-network") == Some("true")
            {
                h.append_static("access-control-allow-private-network", "true");
            }
        }
        if p.preflight_vary {
            h.append_static("vary", PREFLIGHT_VARY);
        }
        if let Some(cc) = &p.preflight_cache_control {
            h.append_known("cache-control", cc.to_string());
        }
        h.extend_from(&p.preflight_headers);
        Response::new(p.preflight_status, h)
    }
}

/// The head of a `304` when `req` is a GET/HEAD conditional that the route's current
/// representation (status 200, fields `h`) satisfies (RFC 9110 §13.2.2: If-None-Match
/// first, weak comparison; else If-Modified-Since against Last-Modified).
fn not_modified(req: &Request, status: u16, h: &Headers) -> Option<Headers> {
    if !crate::edge::validate::fields_not_modified(req, status, h) {
        return None;
    }
    let mut out = Headers::new();
    for name in [
        "date",
        "etag",
        "last-modified",
        "cache-control",
        "expires",
        "vary",
    ] {
        for v in h.get_all(name) {
            out.append(name, v);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SIM_EPOCH;

    fn model(allow: AllowOrigins, vary: VaryOrigin) -> OriginModel {
        OriginModel {
            cors: Some(CorsPolicy {
                allow_origins: allow,
                allow_methods: vec!["GET".into(), "PUT".into()],
                allow_headers: AllowHeaders::Reflect,
                max_age: Some(600),
                vary_origin: vary,
                preflight_vary: true,
                preflight_cache_control: Some("public, max-age=600".into()),
                ..CorsPolicy::default()
            }),
            routes: vec![Route {
                path: "/api/data".into(),
                methods: vec![],
                status: 200,
                cache_control: Some("public, max-age=300".into()),
                headers: Headers::new(),
                body: Arc::from(&b"{}"[..]),
                cors: None,
                redirect_options: false,
                cors_on_304: true,
                errors: Vec::new(),
            }],
            latency_ms: 0,
            epoch: SIM_EPOCH,
        }
    }

    fn req(method: &str, path: &str, h: &[(&str, &str)]) -> Request {
        Request {
            method: method.into(),
            scheme: "https".into(),
            host: "api".into(),
            target: path.into(),
            headers: Headers::from_pairs(h.iter().copied()),
        }
    }

    #[test]
    fn allowlist_reflects_only_listed_origins() {
        let m = model(
            AllowOrigins::List(vec!["https://a".into()]),
            VaryOrigin::Always,
        );
        let r = m.respond(
            &req("GET", "/api/data", &[("origin", "https://a")]),
            SIM_EPOCH,
        );
        assert_eq!(
            r.headers.get("access-control-allow-origin"),
            Some("https://a")
        );
        assert_eq!(r.headers.get("vary"), Some("Origin"));
        assert_eq!(r.headers.get("cache-control"), Some("public, max-age=300"));
        let r = m.respond(
            &req("GET", "/api/data", &[("origin", "https://b")]),
            SIM_EPOCH,
        );
        assert_eq!(r.headers.get("access-control-allow-origin"), None);
        let r = m.respond(&req("GET", "/api/data", &[]), SIM_EPOCH);
        assert_eq!(
            r.headers.get("vary"),
            Some("Origin"),
            "Vary even without Origin"
        );
    }

    #[test]
    fn vary_when_origin_only_is_the_bug() {
        let m = model(AllowOrigins::ReflectAny, VaryOrigin::WhenOrigin);
        assert_eq!(
            m.respond(&req("GET", "/api/data", &[]), SIM_EPOCH)
                .headers
                .get("vary"),
            None
        );
        assert_eq!(
            m.respond(
                &req("GET", "/api/data", &[("origin", "https://x")]),
                SIM_EPOCH
            )
            .headers
            .get("vary"),
            Some("Origin")
        );
    }

    #[test]
    fn preflight_answer() {
        let m = model(
            AllowOrigins::List(vec!["https://a".into()]),
            VaryOrigin::Always,
        );
        let r = m.respond(
            &req(
                "OPTIONS",
                "/api/data",
                &[
                    ("origin", "https://a"),
                    ("access-control-request-method", "PUT"),
                    ("access-control-request-headers", "content-type,x-b"),
                ],
            ),
            SIM_EPOCH,
        );
        assert_eq!(r.status, 204);
        assert_eq!(
            r.headers.get("access-control-allow-methods"),
            Some("GET, PUT")
        );
        assert_eq!(
            r.headers.get("access-control-allow-headers"),
            Some("content-type,x-b")
        );
        assert_eq!(r.headers.get("access-control-max-age"), Some("600"));
        assert_eq!(r.headers.get("vary"), Some(PREFLIGHT_VARY));
    }

    #[test]
    fn missing_options_handler_and_unknown_paths() {
        let mut m = model(AllowOrigins::Any, VaryOrigin::Never);
        if let Some(p) = m.cors.as_mut() {
            p.options_handler = false;
        }
        let r = m.respond(
            &req(
                "OPTIONS",
                "/api/data",
                &[
                    ("origin", "https://a"),
                    ("access-control-request-method", "PUT"),
                ],
            ),
            SIM_EPOCH,
        );
        assert_eq!(r.status, 405);
        assert_eq!(r.headers.get("access-control-allow-origin"), None);
        let r = m.respond(
            &req("GET", "/api/data/", &[("origin", "https://a")]),
            SIM_EPOCH,
        );
        assert_eq!(r.status, 404);
        assert_eq!(r.headers.get("access-control-allow-origin"), Some("*"));
        let r = m.respond(&req("DELETE", "/api/data", &[]), SIM_EPOCH);
        assert_eq!(r.status, 405);
    }

    #[test]
    fn conditionals_get_a_304_with_or_without_cors() {
        let mut m = model(AllowOrigins::ReflectAny, VaryOrigin::Never);
        m.routes[0].headers.append("etag", "\"v1\"");
        let cond = req(
            "GET",
            "/api/data",
            &[("origin", "https://b"), ("if-none-match", "\"v1\"")],
        );
        let r = m.respond(&cond, SIM_EPOCH);
        assert_eq!(r.status, 304);
        assert_eq!(r.headers.get("etag"), Some("\"v1\""));
        assert_eq!(
            r.headers.get("access-control-allow-origin"),
            Some("https://b")
        );
        m.routes[0].cors_on_304 = false;
        let r = m.respond(&cond, SIM_EPOCH);
        assert_eq!(r.status, 304);
        assert_eq!(r.headers.get("access-control-allow-origin"), None);
        let other = req("GET", "/api/data", &[("if-none-match", "\"v0\"")]);
        assert_eq!(m.respond(&other, SIM_EPOCH).status, 200);
        // If-Modified-Since alone: the answer's `Date` is its last modification
        let since = |d: &str| req("GET", "/api/data", &[("if-modified-since", d)]);
        let now = SIM_EPOCH.http_date();
        assert_eq!(m.respond(&since(&now), SIM_EPOCH).status, 304);
        let earlier = crate::time::Timestamp(SIM_EPOCH.0 - 1000).http_date();
        assert_eq!(m.respond(&since(&earlier), SIM_EPOCH).status, 200);
        assert_eq!(
            m.respond(&req("GET", "/api/data", &[]), SIM_EPOCH).status,
            200
        );
    }

    /// An answer derived from an earlier one to the same request is the one worked out
    /// afresh: for a preflight, actual requests, `HEAD`, conditionals (a 304 by
    /// `If-None-Match`, and by `If-Modified-Since`, which compares with the `Date`), a
    /// 404, a 405 and a redirected `OPTIONS`; at the same second, at another second and
    /// on another day; without error windows, then inside and outside one.
    #[test]
    fn answers_again_are_the_answers_afresh() {
        let mut m = model(AllowOrigins::ReflectAny, VaryOrigin::WhenOrigin);
        m.routes[0].headers.append("etag", "\"v1\"");
        m.routes.push(Route {
            path: "/moved".into(),
            status: 301,
            headers: Headers::from_pairs([("location", "/api/data")]),
            redirect_options: true,
            ..m.routes[0].clone()
        });
        let t0 = SIM_EPOCH.plus_ms(500);
        let ims = t0.http_date();
        let a = ("origin", "https://a");
        let reqs = [
            req(
                "OPTIONS",
                "/api/data",
                &[
                    a,
                    ("access-control-request-method", "PUT"),
                    ("access-control-request-headers", "content-type"),
                ],
            ),
            req("GET", "/api/data", &[a]),
            req("HEAD", "/api/data", &[]),
            req("GET", "/api/data", &[("if-none-match", "\"v1\"")]),
            req("GET", "/api/data", &[("if-modified-since", &ims)]),
            req("GET", "/nowhere", &[]),
            req("DELETE", "/api/data", &[]),
            req("OPTIONS", "/moved", &[a]),
        ];
        let times = [
            t0,
            t0.plus_ms(400),
            t0.plus_ms(1_000),
            t0.plus_secs(86_400 + 7),
        ];
        for windows in [false, true] {
            if windows {
                m.routes[0].errors.push(ErrorWindow {
                    status: 503,
                    from_ms: 1_000,
                    until_ms: Some(1_600),
                    cache_control: None,
                    cors: false,
                    body: Arc::from(&b"down"[..]),
                });
            }
            for r in &reqs {
                for &then in &times {
                    let earlier = Arc::new(m.respond(r, then));
                    for &now in &times {
                        let again = m.respond_again(r, now, &earlier, then);
                        let what = format!("{} {} at {now:?} after {then:?}", r.method, r.target);
                        assert_eq!(*again, m.respond(r, now), "{what}");
                        // the same second is the earlier answer itself
                        let fresh = windows || r.headers.contains("if-modified-since");
                        if now.secs() == then.secs() && !fresh {
                            assert!(Arc::ptr_eq(&again, &earlier), "{what}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn error_windows_answer_without_cors() {
        let mut m = model(AllowOrigins::ReflectAny, VaryOrigin::Never);
        m.routes[0].errors.push(ErrorWindow {
            status: 503,
            from_ms: 1_000,
            until_ms: Some(3_000),
            cache_control: None,
            cors: false,
            body: Arc::from(&b"down"[..]),
        });
        let r = |t: u64| {
            m.respond(
                &req("GET", "/api/data", &[("origin", "https://a")]),
                SIM_EPOCH.plus_ms(t),
            )
        };
        assert_eq!(r(999).status, 200);
        let down = r(1_000);
        assert_eq!(down.status, 503);
        assert_eq!(down.headers.get("access-control-allow-origin"), None);
        assert_eq!(down.headers.get("cache-control"), None);
        assert_eq!(r(3_000).status, 200);
    }

    #[test]
    fn suffix_allowlist_accepts_attacker_domains() {
        let s = AllowOrigins::Suffix("example.com".into());
        assert!(s.allow(Some("https://evil-example.com")).is_some());
        assert!(s.allow(Some("https://example.org")).is_none());
        assert!(s.varies_with_origin());
        assert!(!AllowOrigins::Any.varies_with_origin());
    }

    #[test]
    fn prefix_allowlist_accepts_longer_hosts() {
        let p = AllowOrigins::Prefix("https://app.example.com".into());
        assert!(p.allow(Some("https://app.example.com")).is_some());
        assert!(p.allow(Some("https://app.example.com.evil.test")).is_some());
        assert!(p.allow(Some("https://evil.test")).is_none());
        assert!(p.allow(None).is_none());
    }

    #[test]
    fn pattern_with_unescaped_dot_matches_any_character() {
        let p = AllowOrigins::Pattern("^https://app.example.com$".into());
        assert!(p.allow(Some("https://app.example.com")).is_some());
        assert!(p.allow(Some("https://appxexample.com")).is_some());
        assert!(p.allow(Some("https://app.example.com.evil.test")).is_none());
        let escaped = AllowOrigins::Pattern(r"^https://app\.example\.com$".into());
        assert!(escaped.allow(Some("https://app.example.com")).is_some());
        assert!(escaped.allow(Some("https://appxexample.com")).is_none());
    }

    #[test]
    fn unanchored_pattern_matches_anywhere() {
        assert!(pattern_matches(
            r"https://app\.example\.com",
            "https://app.example.com.evil.test"
        ));
        assert!(pattern_matches(
            r"^https://.*\.example\.com$",
            "https://a.b.example.com"
        ));
        assert!(!pattern_matches(
            r"^https://.*\.example\.com$",
            "https://example.com"
        ));
        assert!(pattern_matches("^a*$", ""));
        assert!(!pattern_matches("^ab$", "abc"));
    }

    #[test]
    fn pattern_subset_is_checked() {
        assert_eq!(pattern_error(r"^https://app\.example\.com$"), None);
        assert!(pattern_error("^https://(a|b)$").is_some());
        assert!(pattern_error("[a-z]+").is_some());
        assert!(pattern_error("*abc").is_some());
        assert!(pattern_error(r"abc\").is_some());
    }
}
