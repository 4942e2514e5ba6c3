//! One `fetch()` from start to verdict, as a sans-IO state machine over one browser
//! ([`Instance`]: engine, CORS-preflight cache, HTTP cache, cookie jar).
//!
//! [`Run::start`] says what to send first; the driver sends it (through an edge, to an
//! origin, over the wire) and hands the answer to [`Run::on_response`], which says what
//! to send next or gives the [`Done`] outcome. In between the run implements, after the
//! Fetch standard (<https://fetch.spec.whatwg.org/>):
//!
//! * the `Request` constructor's `no-cors` method check (a TypeError, nothing sent);
//! * CORS-preflight (§4.8) with the preflight cache (§4.9) — a redirect answered to a
//!   preflight is a failure of its own;
//! * the browser's HTTP cache (§4.5 "HTTP-network-or-cache fetch", [`super::http_cache`]):
//!   a fresh stored response answers without sending anything; a stale one within its
//!   `stale-while-revalidate` window answers too, and, when the page could read it,
//!   the same request goes out again in the background to revalidate it (below);
//! * cookies: sent and stored only with the credentials flag (§4.5 steps 12 and 17),
//!   through the jar's SameSite and third-party rules ([`super::cookies`]);
//! * the CORS check on every response, redirects included (§4.3 "HTTP fetch" step 4.4
//!   runs before redirect handling);
//! * §4.4 "HTTP-redirect fetch": `redirect: follow | error | manual`, at most 20
//!   redirects, 301/302 turn POST into GET and 303 anything but HEAD into GET, and a
//!   cross-origin redirect from a cross-origin URL taints the origin (`Origin: null`
//!   from then on). A new preflight is made for the new URL when the request needs one.

use super::check::Failure;
use super::cookies::CookieJar;
use super::http_cache::{self, HttpCache};
use super::{safelist, site, Agent, Browser, Fetch, Mode, RedirectMode, Start, Verdict};
use crate::edge::validate;
use crate::message::{Request, Response};
use crate::time::Timestamp;
use std::sync::Arc;

/// One browser: what a client (or several clients with one `user:`) keeps between fetches.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Engine, default headers and CORS-preflight cache.
    pub browser: Browser,
    /// The HTTP cache.
    pub http: HttpCache,
    /// The cookie jar.
    pub jar: CookieJar,
    /// Whether the HTTP cache is used at all (a scenario's `http_cache:`; off, every
    /// fetch goes to the network as in DevTools' "Disable cache").
    pub http_cache_enabled: bool,
}

impl Instance {
    /// A fresh browser.
    pub fn new(browser: Browser) -> Instance {
        Instance {
            browser,
            http: HttpCache::new(),
            jar: CookieJar::new(),
            http_cache_enabled: true,
        }
    }

    /// The same browser with an empty HTTP cache: what "no cache in between" means for
    /// the counterfactual verdict.
    pub fn without_http_cache(&self) -> Instance {
        Instance {
            browser: self.browser.clone(),
            http: HttpCache::new(),
            jar: self.jar.clone(),
            http_cache_enabled: self.http_cache_enabled,
        }
    }
}

/// Which part of the fetch a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leg {
    /// A CORS-preflight (`OPTIONS`).
    Preflight,
    /// The request itself (or a redirect hop of it).
    Actual,
}

/// A request to send.
#[derive(Clone, Debug)]
pub struct Send {
    /// The request.
    pub request: Arc<Request>,
    /// Preflight or actual.
    pub leg: Leg,
    /// How many redirects came before it (0 for the first URL).
    pub hop: usize,
}

/// What the driver does next.
#[derive(Clone, Debug)]
pub enum Next {
    /// Send this and call [`Run::on_response`] with the answer.
    Send(Send),
    /// The fetch is over.
    Done(Done),
}

/// The outcome of a fetch.
#[derive(Clone, Debug)]
pub struct Done {
    /// What the page sees.
    pub verdict: Verdict,
    /// A preflight went out (on any hop).
    pub preflight_sent: bool,
    /// A needed preflight was answered from the preflight cache (on the first hop that
    /// needed one, when none was sent).
    pub preflight_cached: bool,
    /// When the deciding response came from the browser's HTTP cache: the tag of the
    /// fetch that stored it.
    pub browser_cache: Option<u64>,
    /// Status of the deciding response (0 when nothing was received).
    pub status: u16,
    /// Redirects followed.
    pub redirects: usize,
}

/// Fetch §4.4 step 5: at most 20 redirects.
const MAX_REDIRECTS: usize = 20;

/// A fetch in progress.
#[derive(Clone, Debug)]
pub struct Run {
    f: Fetch,
    tag: u64,
    waiting: Option<Leg>,
    hop: usize,
    preflight_sent: bool,
    preflight_cached: bool,
    /// The actual request of the current hop (for the HTTP cache), once built.
    actual: Option<Arc<Request>>,
    /// The stored response the request in flight validates (it went out with
    /// conditional fields).
    revalidating: Option<Box<http_cache::Revalidation>>,
    /// The page's outcome, when a stale entry answered it (`stale-while-revalidate`):
    /// what is sent from then on is the background revalidation, and this is the
    /// [`Done`] the run ends with.
    page_done: Option<Box<Done>>,
}

/// What the HTTP cache makes of a network answer.
#[derive(Clone, Copy)]
enum Kept {
    /// The page read it: stored, or invalidating, by the usual rules.
    Read,
    /// Its load ended after the head ([`http_cache::HttpCache::store_unread`]).
    Unread,
    /// A `304` freshened the stored response ([`http_cache::HttpCache::store_freshened`]).
    Freshened,
}

fn is_redirect(resp: &Response) -> bool {
    matches!(resp.status, 301 | 302 | 303 | 307 | 308) && resp.headers.contains("location")
}

impl Run {
    /// Starts `f` in `inst` at `now`; `tag` marks what this fetch stores in the HTTP cache.
    pub fn start(inst: &mut Instance, now: Timestamp, f: Fetch, tag: u64) -> (Run, Next) {
        let mut run = Run {
            f,
            tag,
            waiting: None,
            hop: 0,
            preflight_sent: false,
            preflight_cached: false,
            actual: None,
            revalidating: None,
            page_done: None,
        };
        // Fetch, `new Request(input, init)` step 30.1: "If this's request's mode is
        // "no-cors", then: if this's request's method is not a CORS-safelisted method,
        // then throw a TypeError." Every engine; nothing is sent.
        let is_browser = inst.browser.agent() != Agent::None && run.f.agent != Agent::None;
        if is_browser && run.f.mode == Mode::NoCors {
            let m = safelist::normalize_method(&run.f.method).into_owned();
            if !safelist::is_safelisted_method(&m) {
                let v =
                    inst.browser
                        .blocked_with_status(&run.f, &Failure::NoCorsMethod(&m), false, 0);
                let done = run.done(v, None, 0);
                return (run, Next::Done(done));
            }
        }
        let next = run.begin_hop(inst, now);
        (run, next)
    }

    /// Takes the fetch out (for its buffers, once the run is over), leaving an empty one
    /// in its place: the run must not be driven any further.
    pub fn take_fetch(&mut self) -> Fetch {
        std::mem::replace(&mut self.f, Fetch::empty())
    }

    /// The fetch as it stands (the current hop's URL, method and origin).
    pub fn fetch(&self) -> &Fetch {
        &self.f
    }

    /// The actual request of the first URL, once built, when no preflight went out and
    /// no redirect was followed: what this browser, in the state it started in, sends
    /// first for this fetch (whether or not its HTTP cache answered it).
    pub fn first_actual(&self) -> Option<&Arc<Request>> {
        self.actual
            .as_ref()
            .filter(|_| self.hop == 0 && !self.preflight_sent)
    }

    fn done(&self, verdict: Verdict, browser_cache: Option<u64>, status: u16) -> Done {
        Done {
            verdict,
            preflight_sent: self.preflight_sent,
            preflight_cached: self.preflight_cached && !self.preflight_sent,
            browser_cache,
            status,
            redirects: self.hop,
        }
    }

    /// The credentials flag (Fetch §4.5 step 12 "includeCredentials"): `include`, or
    /// `same-origin` for a same-origin untainted request.
    fn credentials_flag(&self) -> bool {
        self.f.includes_credentials()
    }

    /// Preflight (or the preflight cache), then the actual request of the current hop.
    fn begin_hop(&mut self, inst: &mut Instance, now: Timestamp) -> Next {
        let agent = inst.browser.agent();
        self.f.cookie = if self.credentials_flag() {
            inst.jar
                .cookie_header(agent, self.f.page_origin(), &self.f.scheme, &self.f.host)
        } else {
            None
        };
        match inst.browser.start(now, &self.f) {
            Start::Preflight(req) => {
                self.preflight_sent = true;
                self.waiting = Some(Leg::Preflight);
                Next::Send(Send {
                    request: req,
                    leg: Leg::Preflight,
                    hop: self.hop,
                })
            }
            Start::Actual {
                request,
                preflight_cached,
            } => {
                self.preflight_cached |= preflight_cached;
                self.send_actual(inst, now, request)
            }
        }
    }

    /// The HTTP cache answers, or the actual request goes out.
    fn send_actual(&mut self, inst: &mut Instance, now: Timestamp, request: Arc<Request>) -> Next {
        let browser = inst.browser.agent() != Agent::None && self.f.agent != Agent::None;
        let cached = browser && inst.http_cache_enabled;
        let mut sent = request.clone();
        if cached {
            let part = http_cache::partition(self.f.page_origin());
            let url = super::cache::url_of(&self.f);
            let url = super::url::sent(&url);
            let lookup = if self.page_done.is_some() {
                inst.http.consult_revalidating(now, &part, url, &request)
            } else {
                inst.http.consult(now, &part, url, &request)
            };
            match lookup {
                http_cache::Lookup::Fresh(s) => {
                    self.actual = Some(request);
                    return self.judge_actual(inst, now, &s.response, Some(s.stored_by));
                }
                http_cache::Lookup::Stale(s) => {
                    self.actual = Some(request);
                    let v = inst.browser.on_response(&self.f, &s.response);
                    if !v.allowed {
                        // Nothing is revalidated for a page that could not read the
                        // stale answer (measured on Chromium 156, case y40: a second
                        // origin of the site, refused by the stored ACAO, was refused
                        // again by the same entry and nothing reached the server);
                        // the entry stays.
                        return self.after_check(inst, now, &s.response, Some(s.stored_by), v);
                    }
                    return self.revalidate_in_background(inst, now, v, &s);
                }
                http_cache::Lookup::Revalidate(r) => {
                    // the cache's own conditional fields: added below the page, so
                    // outside the CORS safelist and the preflight
                    let mut conditional = (*request).clone();
                    for (n, v) in &r.fields {
                        conditional.headers.append(n, v);
                    }
                    sent = Arc::new(conditional);
                    self.revalidating = Some(Box::new(r));
                }
                http_cache::Lookup::Miss => {}
            }
        }
        // Kept only for the HTTP cache to store the answer under.
        self.actual = cached.then_some(request);
        self.waiting = Some(Leg::Actual);
        Next::Send(Send {
            request: sent,
            leg: Leg::Actual,
            hop: self.hop,
        })
    }

    /// RFC 5861 §3: the page gets the stale response (`v`, its verdict), and the fetch
    /// is made again to revalidate the entry. In Chromium the revalidation is Blink's
    /// own new request for the same URL, with the page's mode, credentials and headers
    /// (`ResourceFetcher` on a response marked `async_revalidation_requested`): it goes
    /// through CORS again, preflight included (measured on Chromium 156, case y51: a
    /// preflighted GET within the window sent a second preflight and one GET), and
    /// through the HTTP cache, which now validates the entry instead of serving it
    /// ([`http_cache::HttpCache::consult_revalidating`]).
    fn revalidate_in_background(
        &mut self,
        inst: &mut Instance,
        now: Timestamp,
        v: Verdict,
        s: &http_cache::Served,
    ) -> Next {
        let page = self.done(v, Some(s.stored_by), s.response.status);
        self.page_done = Some(Box::new(page));
        let next = self.begin_hop(inst, now);
        self.page_outcome(next)
    }

    /// Once the background revalidation is over, the run ends with the page's outcome.
    fn page_outcome(&mut self, next: Next) -> Next {
        match (next, self.page_done.take()) {
            (Next::Done(_), Some(page)) => Next::Done(*page),
            (next, page) => {
                self.page_done = page;
                next
            }
        }
    }

    /// The answer to the last [`Send`].
    pub fn on_response(
        &mut self,
        inst: &mut Instance,
        now: Timestamp,
        resp: &Arc<Response>,
    ) -> Next {
        let next = self.on_answer(inst, now, resp);
        self.page_outcome(next)
    }

    fn on_answer(&mut self, inst: &mut Instance, now: Timestamp, resp: &Arc<Response>) -> Next {
        match self.waiting.take() {
            Some(Leg::Preflight) => self.on_preflight(inst, now, resp),
            Some(Leg::Actual) => match self.revalidating.take() {
                // RFC 9111 §4.3.4 (Fetch §4.5 "HTTP-network-or-cache fetch": a 304 to a
                // request the cache conditionalized): the stored response, freshened with
                // the 304's fields, is what the page gets and what stays stored
                Some(r) if resp.status == 304 && validate::selects(&r.stored, resp) => {
                    let fresh = Arc::new(validate::freshen(&r.stored, resp));
                    self.remember(inst, now, &fresh, resp);
                    self.judge_actual(inst, now, &fresh, Some(r.stored_by))
                }
                _ => {
                    let v = inst.browser.on_response(&self.f, resp);
                    // a response head that fails the check is never read further, and
                    // a HEAD answer has nothing to store
                    let read = (v.allowed || is_redirect(resp)) && self.f.method != "HEAD";
                    self.remember_read(inst, now, resp, resp, read);
                    self.after_check(inst, now, resp, None, v)
                }
            },
            // Nothing was asked: the fetch is over; answer with its verdict again.
            None => Next::Done(self.done(Verdict::unchecked(), None, resp.status)),
        }
    }

    fn on_preflight(&mut self, inst: &mut Instance, now: Timestamp, resp: &Arc<Response>) -> Next {
        // Chromium's PreflightController fails a redirected preflight before any other
        // check (`kPreflightDisallowedRedirect`, measured on Chromium 156); the Fetch
        // standard reaches the same end through "not an ok status".
        if is_redirect(resp) {
            let v = inst.browser.blocked_with_status(
                &self.f,
                &Failure::PreflightRedirect,
                true,
                resp.status,
            );
            return Next::Done(self.done(v, None, resp.status));
        }
        match inst.browser.on_preflight(now, &self.f, resp) {
            Err(v) => Next::Done(self.done(v, None, resp.status)),
            Ok(actual) => self.send_actual(inst, now, actual),
        }
    }

    /// Stores what a network response leaves in the browser: the HTTP cache entry (or
    /// its invalidation) of `resp` (the stored response freshened, after a `304`), and
    /// the cookies `network` (what came over the network) sets.
    fn remember(
        &mut self,
        inst: &mut Instance,
        now: Timestamp,
        resp: &Arc<Response>,
        network: &Response,
    ) {
        self.remember_as(inst, now, resp, network, Kept::Freshened);
    }

    /// [`Run::remember`], for a network answer the page read ([`Kept::Read`]) or one
    /// whose load ended after its head ([`Kept::Unread`]).
    fn remember_read(
        &mut self,
        inst: &mut Instance,
        now: Timestamp,
        resp: &Arc<Response>,
        network: &Response,
        read: bool,
    ) {
        let how = if read { Kept::Read } else { Kept::Unread };
        self.remember_as(inst, now, resp, network, how);
    }

    fn remember_as(
        &mut self,
        inst: &mut Instance,
        now: Timestamp,
        resp: &Arc<Response>,
        network: &Response,
        how: Kept,
    ) {
        let agent = inst.browser.agent();
        if agent == Agent::None || self.f.agent == Agent::None {
            return;
        }
        if let Some(req) = self.actual.as_ref().filter(|_| inst.http_cache_enabled) {
            let part = http_cache::partition(self.f.page_origin());
            let url = super::cache::url_of(&self.f);
            let url = super::url::sent(&url);
            match how {
                Kept::Read => {
                    inst.http.store(now, &part, url, req, resp, self.tag);
                }
                Kept::Unread => inst.http.store_unread(now, &part, url, req, resp, self.tag),
                Kept::Freshened => {
                    inst.http
                        .store_freshened(now, &part, url, req, resp, self.tag);
                }
            }
        }
        // (the jar stores nothing from a response without `Set-Cookie`: that is tested
        // first, being cheaper than the credentials flag)
        if network.headers.contains("set-cookie") && self.credentials_flag() {
            let page = self.f.page_origin().to_string();
            inst.jar
                .store(agent, &page, &self.f.scheme, &self.f.host, &network.headers);
        }
    }

    /// The CORS check, then the redirect, if any.
    fn judge_actual(
        &mut self,
        inst: &mut Instance,
        now: Timestamp,
        resp: &Arc<Response>,
        from_cache: Option<u64>,
    ) -> Next {
        let v = inst.browser.on_response(&self.f, resp);
        self.after_check(inst, now, resp, from_cache, v)
    }

    /// What follows the CORS check's verdict `v` on `resp`: the end, or the redirect.
    fn after_check(
        &mut self,
        inst: &mut Instance,
        now: Timestamp,
        resp: &Arc<Response>,
        from_cache: Option<u64>,
        v: Verdict,
    ) -> Next {
        // curl without -L (and most server clients) does not follow redirects.
        let browser = inst.browser.agent() != Agent::None && self.f.agent != Agent::None;
        if !v.allowed || !is_redirect(resp) || !browser {
            return Next::Done(self.done(v, from_cache, resp.status));
        }
        match self.f.redirect {
            RedirectMode::Error => {
                let v = inst.browser.blocked_with_status(
                    &self.f,
                    &Failure::RedirectModeError,
                    false,
                    resp.status,
                );
                Next::Done(self.done(v, from_cache, resp.status))
            }
            // An opaque-redirect filtered response: status 0, nothing followed (measured:
            // the CORS check above still applies to it).
            RedirectMode::Manual => Next::Done(self.done(v, from_cache, 0)),
            RedirectMode::Follow => {
                let current = super::cache::url_of(&self.f);
                let location = resp.headers.get("location").unwrap_or("/").trim();
                let next = Target::of(&current, location);
                match self.redirect_failure(&current, &next) {
                    Some(failure) => {
                        let v =
                            inst.browser
                                .blocked_with_status(&self.f, &failure, false, resp.status);
                        Next::Done(self.done(v, from_cache, resp.status))
                    }
                    None => {
                        self.follow(resp, current, &next.url);
                        self.begin_hop(inst, now)
                    }
                }
            }
        }
    }

    /// The network errors Fetch §4.4 "HTTP-redirect fetch" returns before it follows a
    /// redirect from `current` to `next`, in the standard's order.
    fn redirect_failure(&self, current: &str, next: &Target) -> Option<Failure<'static>> {
        // The location URL must be an HTTP(S) one: anything else (`data:,hi`) ends the
        // fetch with a network error. Chromium refuses it as an unsafe redirect
        // (`net::ERR_UNSAFE_REDIRECT`; measured on Chromium 156, case w10).
        if !next.http {
            return Some(Failure::RedirectNotHttp);
        }
        // Twenty redirects already followed: the 21st is a network error.
        if self.hop >= MAX_REDIRECTS {
            return Some(Failure::TooManyRedirects);
        }
        // Userinfo in the location URL is a network error in `cors` mode when the
        // request's origin is not the location's origin, and whenever the response
        // tainting is already "cors" (some URL of the chain, this one included, was not
        // same origin with the request's origin). Chromium: `RedirectContainsCredentials`
        // (measured on Chromium 156, case w09).
        if next.credentials && self.f.mode == Mode::Cors {
            let origin = &self.f.origin;
            let to_other_origin = !site::same_origin(origin, &next.url);
            // (a tainted, `null`, origin is same origin with nothing)
            let cors_tainted = self.f.chain.fetch_site != super::headers::FetchSite::SameOrigin
                || !site::same_origin(origin, current);
            if to_other_origin || cors_tainted {
                return Some(Failure::RedirectContainsCredentials);
            }
        }
        None
    }

    /// Fetch §4.4 "HTTP-redirect fetch" steps 3–15: the next hop's request, from the
    /// `current` URL to `next_url` (absolute, HTTP(S), without userinfo).
    fn follow(&mut self, resp: &Response, current: String, next_url: &str) {
        if self.f.chain.first_url.is_empty() {
            self.f.chain.first_url.clone_from(&current);
        }
        if self.f.chain.page_origin.is_empty() {
            self.f.chain.page_origin = self.f.origin.clone();
        }
        let cur_origin = site::origin_of(&current);
        let next_origin = site::origin_of(next_url);
        // Step 12: "If locationURL's origin is not same origin with request's current
        // URL's origin and request's origin is not same origin with request's current
        // URL's origin, then set request's tainted origin flag."
        if !site::same_origin(&cur_origin, &next_origin)
            && !site::same_origin(&self.f.origin, &cur_origin)
        {
            self.f.origin = "null".to_string();
        }
        // Step 13: 301/302 with POST, and 303 with anything but GET/HEAD, become GET
        // without a body (and without the request-body-header names).
        let to_get = (matches!(resp.status, 301 | 302) && self.f.method == "POST")
            || (resp.status == 303 && !matches!(self.f.method.as_str(), "GET" | "HEAD"));
        if to_get {
            self.f.method = "GET".to_string();
            for n in [
                "content-encoding",
                "content-language",
                "content-location",
                "content-type",
            ] {
                self.f.headers.remove(n);
            }
        }
        // Step 14: a cross-origin redirect drops `Authorization`.
        if !site::same_origin(&cur_origin, &next_origin) {
            self.f.headers.remove("authorization");
        }
        let page = self.f.page_origin().to_string();
        self.f.chain.fetch_site = self
            .f
            .chain
            .fetch_site
            .max(super::headers::FetchSite::of(&page, &current));
        if let Some((scheme, rest)) = next_url.split_once("://") {
            let (host, target) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, "/"),
            };
            self.f.scheme = scheme.to_string();
            self.f.host = host.to_string();
            self.f.target = target.to_string();
        }
        self.hop += 1;
        self.actual = None;
    }
}

/// Where a redirect's `Location` leads.
struct Target {
    /// The absolute URL, without its userinfo.
    url: String,
    /// Whether the URL carried a username or a password (URL "includes credentials").
    credentials: bool,
    /// Whether its scheme is `http` or `https` (an HTTP(S) scheme).
    http: bool,
}

impl Target {
    fn of(current: &str, location: &str) -> Target {
        let url = resolve(current, location);
        let Some((scheme, rest)) = url.split_once("://").filter(|(s, _)| is_http(s)) else {
            return Target {
                url,
                credentials: false,
                http: false,
            };
        };
        let (credentials, rest) = split_userinfo(rest);
        Target {
            url: format!("{scheme}://{rest}"),
            credentials,
            http: true,
        }
    }
}

fn is_http(scheme: &str) -> bool {
    scheme == "http" || scheme == "https"
}

/// Splits the userinfo off `authority/path…` (what follows `scheme://`): whether it
/// had a non-empty username or password, and the rest without it. The authority ends
/// at the first `/`, `?`, `#` or `\`; its userinfo is what comes before its last `@`
/// (the URL standard's authority state), `user[:password]`.
fn split_userinfo(rest: &str) -> (bool, &str) {
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => {
            let (user, password) = rest[..at].split_once(':').unwrap_or((&rest[..at], ""));
            (!user.is_empty() || !password.is_empty(), &rest[at + 1..])
        }
        None => (false, rest),
    }
}

/// The scheme a URL string starts with, as the URL standard's scheme state reads it
/// (and RFC 3986 §3.1 writes it): an ASCII letter, then letters, digits, `+`, `-` or
/// `.`, up to the first `:`. Returns the scheme, lowercased, and what follows the `:`;
/// `None` when the string does not start with one (a relative reference).
fn split_scheme(s: &str) -> Option<(String, &str)> {
    let colon = s.find(':')?;
    let scheme = &s[..colon];
    let mut bytes = scheme.bytes();
    let first_is_letter = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    (first_is_letter && rest_ok).then(|| (scheme.to_ascii_lowercase(), &s[colon + 1..]))
}

/// Resolves a `Location` value against the current URL (`scheme://authority/path`).
///
/// One that starts with a scheme is an absolute URL: with an HTTP(S) scheme, the URL
/// standard reads `http:/x` or `http:x` against a base of the same scheme as the
/// relative `/x` or `x`, and otherwise skips any slashes before the authority; any
/// other scheme is kept as written (`data:,hi`, which the caller refuses). Without a
/// scheme: `//host/path`, `/path`, or a path relative to the current directory.
fn resolve(current: &str, location: &str) -> String {
    if let Some((scheme, after)) = split_scheme(location) {
        if !is_http(&scheme) {
            return format!("{scheme}:{after}");
        }
        let base_scheme = current.split_once("://").map_or("http", |(s, _)| s);
        if base_scheme.eq_ignore_ascii_case(&scheme) && !after.starts_with("//") {
            return resolve_relative(current, after);
        }
        let authority = after.trim_start_matches(['/', '\\']);
        return format!("{scheme}://{authority}");
    }
    resolve_relative(current, location)
}

/// [`resolve`] for a reference without a scheme.
fn resolve_relative(current: &str, location: &str) -> String {
    let (scheme, rest) = current.split_once("://").unwrap_or(("http", current));
    if let Some(net) = location.strip_prefix("//") {
        return format!("{scheme}://{net}");
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if location.starts_with('/') {
        return format!("{scheme}://{authority}{location}");
    }
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let dir = path.rfind('/').map_or("/", |i| &path[..=i]);
    format!("{scheme}://{authority}{dir}{location}")
}

#[cfg(test)]
pub(crate) mod tests;
