//! The browser model: the Fetch standard's CORS check, CORS-preflight fetch and
//! CORS-preflight cache, as a pure state machine (<https://fetch.spec.whatwg.org/#http-cors-protocol>).
//!
//! The driver (simulator or network) asks [`Browser::start`] what to send, sends it, and
//! hands the responses back to [`Browser::on_preflight`] / [`Browser::on_response`], which
//! return a [`Verdict`] carrying a stable [`Reason`] and Chromium's console text.
//! This module knows nothing of caches.

use crate::fields::Headers;
use crate::message::{Request, Response};
use crate::time::Timestamp;
use serde::Serialize;

mod built;
mod cache;
mod check;
mod console;
pub mod cookies;
mod date;
pub mod headers;
pub mod http_cache;
mod preflight;
pub mod run;
mod safelist;
mod site;
pub mod url;

use check::Failure;

/// Who makes the request: a browser engine, or a non-browser client (`browser: none`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agent {
    /// Chromium-based; preflight cache capped at 7200 s (since Chromium 76).
    Chrome,
    /// Firefox; preflight cache capped at 86400 s.
    Firefox,
    /// Safari/WebKit; `maxPreflightCacheTimeout = 600_s`.
    Safari,
    /// curl or a server: sends no `Origin`, checks nothing.
    None,
}

/// The request mode (Fetch "request mode"): `cors` for `fetch()`, `no-cors` for an
/// `<img>`/`<script>` without `crossorigin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// `fetch()` default: CORS checked.
    Cors,
    /// Opaque: GET/HEAD/POST only, nothing checked, no `Origin` on GET/HEAD.
    NoCors,
}

/// The request's credentials mode (Fetch "credentials mode").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Credentials {
    /// Never send cookies.
    Omit,
    /// Send cookies only to the same origin: cross-origin, nothing is sent (default).
    SameOrigin,
    /// Always send cookies; the response must then carry `Access-Control-Allow-Credentials: true`
    /// and an exact (non-`*`) `Access-Control-Allow-Origin`.
    Include,
}

/// Why a fetch was allowed or blocked. The kebab-case ids are stable: `expect.reason` and
/// the JSON report use them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// Allowed (or not checked).
    Ok,
    /// No `Access-Control-Allow-Origin` header.
    MissingAllowOrigin,
    /// ACAO is neither `*` nor the request's origin.
    OriginMismatch,
    /// More than one ACAO value.
    MultipleAllowOrigin,
    /// ACAO `*` with credentials mode `include`.
    WildcardWithCredentials,
    /// Credentials mode `include` without `Access-Control-Allow-Credentials: true`.
    CredentialsNotAllowed,
    /// The preflight's status is not 200–299.
    PreflightBadStatus,
    /// The method is not in the preflight's `Access-Control-Allow-Methods`.
    MethodNotAllowed,
    /// A non-safelisted header is not in the preflight's `Access-Control-Allow-Headers`.
    HeaderNotAllowed,
    /// A Private Network Access preflight was not answered with
    /// `Access-Control-Allow-Private-Network: true`.
    PrivateNetworkNotAllowed,
    /// The preflight was answered with a redirect (Fetch §4.8: a preflight's response
    /// must have an ok status; Chromium: `PreflightDisallowedRedirect`, "Redirect is not
    /// allowed for a preflight request.").
    PreflightRedirect,
    /// `mode: no-cors` with a method that is not CORS-safelisted: the `Request`
    /// constructor throws a `TypeError` and nothing is sent (Fetch, `new Request()`
    /// step 30.1).
    NoCorsMethod,
    /// `redirect: error` and the response was a redirect: a network error (Fetch §4.3
    /// "HTTP fetch" step 9, redirect mode "error").
    RedirectModeError,
    /// A 21st redirect: a network error (Fetch §4.4 "HTTP-redirect fetch" step 5: "If
    /// request's redirect count is 20, then return a network error"; Chromium:
    /// `net::ERR_TOO_MANY_REDIRECTS`).
    TooManyRedirects,
    /// A followed redirect in `cors` mode whose `Location` carries a username or
    /// password, to an origin other than the request's or after the request went
    /// cross-origin: a network error (Fetch §4.4 "HTTP-redirect fetch", the two
    /// "includes credentials" steps; Chromium: `RedirectContainsCredentials`).
    RedirectContainsCredentials,
    /// A followed redirect whose `Location` is not an `http:` or `https:` URL (`data:`,
    /// `ftp:`, …): a network error (Fetch §4.4 "HTTP-redirect fetch": a location URL
    /// whose scheme is not an HTTP(S) scheme; Chromium: `net::ERR_UNSAFE_REDIRECT`).
    RedirectNotHttp,
}

impl Reason {
    /// Every reason, in the order PRODUCT.md lists them.
    pub const ALL: [Reason; 16] = [
        Reason::Ok,
        Reason::MissingAllowOrigin,
        Reason::OriginMismatch,
        Reason::MultipleAllowOrigin,
        Reason::WildcardWithCredentials,
        Reason::CredentialsNotAllowed,
        Reason::PreflightBadStatus,
        Reason::MethodNotAllowed,
        Reason::HeaderNotAllowed,
        Reason::PrivateNetworkNotAllowed,
        Reason::PreflightRedirect,
        Reason::NoCorsMethod,
        Reason::RedirectModeError,
        Reason::TooManyRedirects,
        Reason::RedirectContainsCredentials,
        Reason::RedirectNotHttp,
    ];

    /// The stable kebab-case id.
    pub fn id(self) -> &'static str {
        match self {
            Reason::Ok => "ok",
            Reason::MissingAllowOrigin => "missing-allow-origin",
            Reason::OriginMismatch => "origin-mismatch",
            Reason::MultipleAllowOrigin => "multiple-allow-origin",
            Reason::WildcardWithCredentials => "wildcard-with-credentials",
            Reason::CredentialsNotAllowed => "credentials-not-allowed",
            Reason::PreflightBadStatus => "preflight-bad-status",
            Reason::MethodNotAllowed => "method-not-allowed",
            Reason::HeaderNotAllowed => "header-not-allowed",
            Reason::PrivateNetworkNotAllowed => "private-network-not-allowed",
            Reason::PreflightRedirect => "preflight-redirect",
            Reason::NoCorsMethod => "no-cors-method",
            Reason::RedirectModeError => "redirect-mode-error",
            Reason::TooManyRedirects => "too-many-redirects",
            Reason::RedirectContainsCredentials => "redirect-contains-credentials",
            Reason::RedirectNotHttp => "redirect-not-http",
        }
    }

    /// Parses a stable id.
    pub fn from_id(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.id() == s)
    }
}

/// The outcome of one fetch as the page sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// `true` when the page can read the response (or nothing was checked).
    pub allowed: bool,
    /// Why.
    pub reason: Reason,
    /// Whether a CORS check was made at all (`false` for `no-cors` and `browser: none`).
    pub checked: bool,
    /// What Chromium prints in the console for this failure; empty when allowed.
    pub console: String,
    /// `true` when the failure was on the preflight response rather than the actual one.
    pub in_preflight: bool,
}

/// One fetch as a page issues it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fetch {
    /// Who sends it.
    pub agent: Agent,
    /// The page's origin, serialised (`https://app1.example.com`).
    pub origin: String,
    /// Method, uppercase.
    pub method: String,
    /// Target URL scheme.
    pub scheme: String,
    /// Target host (authority).
    pub host: String,
    /// Path and query.
    pub target: String,
    /// Headers the page sets (author headers), not those the browser adds.
    pub headers: Headers,
    /// Request mode.
    pub mode: Mode,
    /// Credentials mode.
    pub credentials: Credentials,
    /// The cookie the browser holds for the target (`session=1`), sent when credentials allow.
    pub cookie: Option<String>,
    /// The target is in a more private address space than the page (Private Network
    /// Access): the preflight carries `Access-Control-Request-Private-Network: true`.
    pub private_network: bool,
    /// What a redirect answer does (`fetch()`'s `redirect` option).
    pub redirect: RedirectMode,
    /// Where this request sits on a redirect chain (default: the first request).
    pub chain: Chain,
}

/// Fetch §4.1 "main fetch" step 12: a `cors`-mode request whose current URL is same
/// origin with its origin, on a chain that has not left the page's origin (response
/// tainting still "basic"), is fetched as a same-origin request: no CORS-preflight, no
/// CORS check, and `Origin` only on a method other than GET and HEAD (Fetch §3.1).
/// `fetch_site` is the chain's furthest hop so far, so a redirect within the page's own
/// origin stays basic; a tainted origin (`null`) is same origin with nothing.
fn basic_tainting(f: &Fetch) -> bool {
    if f.chain.fetch_site != headers::FetchSite::SameOrigin {
        return false;
    }
    // Most fetches a scenario makes are cross-origin: a length comparison settles them.
    // An origin spelled as `scheme://host` of the URL is the same origin; only a URL
    // whose authority names a port (perhaps the default one) needs the full comparison.
    let (o, scheme, host) = (f.origin.as_bytes(), f.scheme.as_bytes(), f.host.as_bytes());
    let plain = scheme.len() + 3 + host.len();
    if o.len() == plain {
        return o.starts_with(scheme)
            && o.ends_with(host)
            && o.get(scheme.len()..scheme.len() + 3) == Some(b"://");
    }
    // a default port written out on one side (`:80`, `:443`) is 3 or 4 bytes more
    matches!(o.len().abs_diff(plain), 3 | 4)
        && f.origin != "null"
        && site::relation(&f.origin, &f.scheme, &f.host, &f.target).same_origin
}

/// The state a redirect chain carries from hop to hop.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Chain {
    /// The page's origin when the fetch's `origin` is not it (`null` after a tainting
    /// redirect); empty otherwise.
    pub page_origin: String,
    /// The most cross-site relation seen so far (`Sec-Fetch-Site` never gets closer
    /// after a redirect).
    pub fetch_site: headers::FetchSite,
    /// The URL the fetch started at, once it has been redirected; empty before.
    pub first_url: String,
}

impl Fetch {
    /// A fetch of nothing (empty texts, no fields), which allocates nothing: a
    /// placeholder for one taken out for its buffers.
    pub fn empty() -> Fetch {
        Fetch {
            agent: Agent::None,
            origin: String::new(),
            method: String::new(),
            scheme: String::new(),
            host: String::new(),
            target: String::new(),
            headers: crate::fields::Headers::new(),
            mode: Mode::Cors,
            credentials: Credentials::Omit,
            cookie: None,
            private_network: false,
            redirect: RedirectMode::Follow,
            chain: Chain::default(),
        }
    }

    /// Fetch §4.5 step 12 "includeCredentials": the credentials mode is `include`, or it
    /// is `same-origin` and the request's (untainted) origin is same origin with its
    /// current URL.
    pub fn includes_credentials(&self) -> bool {
        match self.credentials {
            Credentials::Include => true,
            Credentials::Omit => false,
            Credentials::SameOrigin => {
                self.origin != "null"
                    && site::relation(&self.origin, &self.scheme, &self.host, &self.target)
                        .same_origin
            }
        }
    }

    /// Makes this fetch equal to `src`, reusing this one's buffers (a driver that runs
    /// fetch after fetch keeps one to copy the next into, instead of allocating a copy).
    pub fn refill_from(&mut self, src: &Fetch) {
        self.agent = src.agent;
        self.origin.clone_from(&src.origin);
        self.method.clone_from(&src.method);
        self.scheme.clone_from(&src.scheme);
        self.host.clone_from(&src.host);
        self.target.clone_from(&src.target);
        self.headers.clone_from(&src.headers);
        self.mode = src.mode;
        self.credentials = src.credentials;
        self.cookie.clone_from(&src.cookie);
        self.private_network = src.private_network;
        self.redirect = src.redirect;
        self.chain.page_origin.clone_from(&src.chain.page_origin);
        self.chain.fetch_site = src.chain.fetch_site;
        self.chain.first_url.clone_from(&src.chain.first_url);
    }

    /// The origin of the page that made the fetch (not `null` after a tainting redirect).
    pub fn page_origin(&self) -> &str {
        if self.chain.page_origin.is_empty() {
            &self.origin
        } else {
            &self.chain.page_origin
        }
    }
}

/// `fetch()`'s `redirect` option (Fetch "request redirect mode").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RedirectMode {
    /// Follow up to 20 redirects, checking CORS on every hop (default).
    #[default]
    Follow,
    /// A redirect is a network error.
    Error,
    /// The page gets an opaque-redirect response (status 0) and nothing follows.
    Manual,
}

/// What the browser sends first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// A CORS-preflight request (`OPTIONS`) must be sent and passed first.
    Preflight(std::sync::Arc<Request>),
    /// The actual request goes out now; `preflight_cached` is true when a preflight was
    /// needed but answered from the browser's CORS-preflight cache.
    Actual {
        /// The request to send.
        request: std::sync::Arc<Request>,
        /// A preflight was needed and the preflight cache answered it.
        preflight_cached: bool,
    },
}

/// A browser instance: its engine, the headers it adds to every request, and its
/// CORS-preflight cache.
#[derive(Clone, Debug)]
pub struct Browser {
    agent: Agent,
    cache: PreflightCache,
    /// Per-client overrides of the engine's default request headers (empty value:
    /// removed).
    overrides: Headers,
    /// The engine's default headers with the overrides applied, for a request over
    /// `http` (0) and `https` (1), computed once (and shared by snapshots).
    defaults: std::sync::Arc<[Headers; 2]>,
}

/// The engine's default headers for `scheme` with `overrides` applied.
fn defaults_with(agent: Agent, scheme: &str, overrides: &Headers) -> Headers {
    let mut h = headers::defaults(agent, scheme);
    headers::apply_overrides(&mut h, overrides);
    h
}

/// The CORS-preflight cache (Fetch §4.9): entries of (origin, URL, credentials, method or
/// header name) with an expiry, capped per engine. Not governed by `Vary`.
///
/// The entries are shared copy-on-write: the simulator snapshots every browser before
/// each step (for the no-cache counterfactual), and a snapshot costs a reference count
/// until a preflight answer changes the cache.
#[derive(Clone, Debug, Default)]
pub struct PreflightCache {
    entries: std::sync::Arc<Vec<PreflightEntry>>,
}

#[derive(Clone, Debug)]
struct PreflightEntry {
    /// Shared by the entries one preflight answer made (and by their copies).
    origin: std::sync::Arc<str>,
    url: std::sync::Arc<str>,
    credentials: bool,
    item: CacheItem,
    expires: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum CacheItem {
    /// A method, byte-exact (may be `*`). Shared text: a browser's copy of the cache
    /// copies its entries, and the texts need not be copied with them.
    Method(std::sync::Arc<str>),
    /// A header name, lowercase (may be `*`).
    Header(std::sync::Arc<str>),
    /// A Private Network Access preflight was allowed.
    PrivateNetwork,
}

impl Agent {
    /// Whether `Access-Control-Allow-Headers: *` (without credentials) also covers
    /// `Authorization`. The Fetch standard says no (the CORS non-wildcard request-header
    /// name, §4.8 step 7.6); Chromium has only deprecated it and still passes such a
    /// preflight — but its preflight cache does not answer `Authorization` from a cached
    /// `*`, so the next identical fetch sends a new preflight (Chromium 156,
    /// `tests/chromium.rs` case d21; chromestatus.com/feature/5742041264816128).
    pub fn wildcard_covers_authorization(self) -> bool {
        self == Agent::Chrome
    }

    /// The engine's cap on `Access-Control-Max-Age`, in seconds ("imposed limit on
    /// max-age", Fetch §4.8 step 7.10): Chromium `kMaxTimeout = base::Hours(2)`,
    /// Firefox 86400, WebKit `maxPreflightCacheTimeout = 600_s`; 0 for a non-browser.
    pub fn preflight_cap_secs(self) -> u64 {
        match self {
            Agent::Chrome => 7200,
            Agent::Firefox => 86_400,
            Agent::Safari => 600,
            Agent::None => 0,
        }
    }
}

impl Verdict {
    /// Allowed after a CORS check. Does not allocate.
    pub fn ok() -> Verdict {
        Verdict {
            allowed: true,
            reason: Reason::Ok,
            checked: true,
            console: String::new(),
            in_preflight: false,
        }
    }

    /// Allowed because nothing was checked (`no-cors`, or not a browser). Does not
    /// allocate.
    pub fn unchecked() -> Verdict {
        Verdict {
            checked: false,
            ..Verdict::ok()
        }
    }
}

/// Fetch §4.1 "main fetch" / §4.3 "HTTP fetch" (whether a CORS-preflight is needed) and
/// §4.8 "CORS-preflight fetch", driven from outside: [`Browser::start`] says what to
/// send, [`Browser::on_preflight`] and [`Browser::on_response`] judge what came back.
///
/// The engine is the browser's own agent; a [`Fetch`] whose `agent` is
/// [`Agent::None`] is also treated as coming from a non-browser client.
impl Browser {
    /// A browser of this engine with an empty CORS-preflight cache.
    pub fn new(agent: Agent) -> Browser {
        Browser::with_header_overrides(agent, Headers::new())
    }

    /// A browser of this engine whose default request headers are changed by
    /// `overrides` (a name with an empty value is removed).
    pub fn with_header_overrides(agent: Agent, overrides: Headers) -> Browser {
        Browser {
            agent,
            cache: PreflightCache::default(),
            defaults: std::sync::Arc::new([
                defaults_with(agent, "http", &overrides),
                defaults_with(agent, "https", &overrides),
            ]),
            overrides,
        }
    }

    /// Whether Chromium's own rules apply (`browser: chrome`).
    fn chrome(&self) -> bool {
        self.agent == Agent::Chrome
    }

    /// The default headers `agent` adds to a request to `scheme`, with the overrides:
    /// the precomputed set for this engine over http or https, else computed.
    fn defaults_for(&self, agent: Agent, scheme: &str) -> std::borrow::Cow<'_, Headers> {
        if agent == self.agent {
            if scheme.eq_ignore_ascii_case("https") {
                return std::borrow::Cow::Borrowed(&self.defaults[1]);
            }
            if scheme.eq_ignore_ascii_case("http") {
                return std::borrow::Cow::Borrowed(&self.defaults[0]);
            }
        }
        std::borrow::Cow::Owned(defaults_with(agent, scheme, &self.overrides))
    }

    /// The engine.
    pub fn agent(&self) -> Agent {
        self.agent
    }

    /// The CORS-preflight cache, read-only.
    pub fn preflight_cache(&self) -> &PreflightCache {
        &self.cache
    }

    /// Whether this fetch comes from a browser engine at all.
    fn is_browser(&self, f: &Fetch) -> bool {
        self.agent != Agent::None && f.agent != Agent::None
    }

    /// The method as sent: a browser normalises it (Fetch §2.2.1 "normalize a method",
    /// `put` → `PUT`); a non-browser client sends it as given.
    fn method<'a>(&self, f: &'a Fetch) -> std::borrow::Cow<'a, str> {
        if self.is_browser(f) {
            safelist::normalize_method(&f.method)
        } else {
            std::borrow::Cow::Borrowed(&f.method)
        }
    }

    /// Whether the CORS protocol applies: a browser, in `cors` mode (Fetch §4.1 "main
    /// fetch" step 12: `no-cors` responses are opaque and never checked).
    fn cors_applies(&self, f: &Fetch) -> bool {
        self.is_browser(f) && f.mode == Mode::Cors && !basic_tainting(f)
    }

    /// The author headers the browser actually sends, `(lowercase name, value)`.
    /// Fetch §5.2 `Headers` guards: a browser ignores forbidden request-headers set by a
    /// page (guard `request`) and, in `no-cors` mode, anything that is not a
    /// no-CORS-safelisted request-header (guard `request-no-cors`). A non-browser client
    /// sends whatever it is given.
    fn author_headers<'a>(&self, f: &'a Fetch) -> impl Iterator<Item = (&'a str, &'a str)> {
        let browser = self.is_browser(f);
        let no_cors = f.mode == Mode::NoCors;
        // Chromium still treats `User-Agent` as forbidden (the page's value is dropped,
        // no preflight; measured on Chromium 156, `net::HttpUtil::IsSafeHeader`), though
        // the Fetch standard took it off the list in 2015.
        let chrome_ua = self.chrome();
        f.headers
            .iter()
            // Fetch §5.2 `Headers` "append"/"set": a page's value is normalized first
            // (leading and trailing HTTP whitespace bytes removed), so the field goes
            // out, is checked by the guards and is compared by `Vary` without them
            // (measured: case v04, `x-v: " a "` matched an entry stored for `a`).
            .map(move |(n, v)| {
                (
                    n,
                    if browser {
                        safelist::trim_http_ws(v)
                    } else {
                        v
                    },
                )
            })
            .filter(move |(n, v)| {
                let dropped = safelist::is_forbidden_header(n, v)
                    || (chrome_ua && *n == "user-agent")
                    || (no_cors && !safelist::is_no_cors_safelisted_header(n, v));
                !browser || !dropped
            })
    }

    /// Fetch §4.3 "HTTP fetch" step 4.1 (makeCORSPreflight) and Private Network Access:
    /// a `cors`-mode browser request needs a preflight when its method is not
    /// CORS-safelisted, when it has a CORS-unsafe request-header, or when it targets a
    /// more private network. Ignores the cache.
    pub fn needs_preflight(&self, f: &Fetch) -> bool {
        if !self.cors_applies(f) {
            return false;
        }
        let method = self.method(f);
        !safelist::is_safelisted_method(&method)
            || f.private_network
            || safelist::unsafe_names(self.chrome(), || self.author_headers(f))
                .next()
                .is_some()
    }

    /// Fetch §4.3 "HTTP fetch" step 4.1: whether the preflight cache answers every part
    /// of the preflight: a method cache entry match (unless the method is safelisted),
    /// a header-name cache entry match for every CORS-unsafe request-header name, and a
    /// PNA entry when the target is a private network.
    fn cache_answers(&self, now: Timestamp, f: &Fetch, method: &str) -> bool {
        let chrome = self.chrome();
        (safelist::is_safelisted_method(method) || self.cache.method_match(now, f, method, chrome))
            && (!f.private_network || self.cache.private_network_match(now, f))
            && safelist::unsafe_names(chrome, || self.author_headers(f))
                .all(|name| self.cache.header_match(now, f, name, chrome))
    }

    /// Read-only view for reports and tests: `true` when `f` needs a preflight and the
    /// CORS-preflight cache would answer it at `now` (what [`Start::Actual`]'s
    /// `preflight_cached` would say).
    pub fn preflight_cached(&self, now: Timestamp, f: &Fetch) -> bool {
        self.needs_preflight(f) && {
            let method = self.method(f);
            self.cache_answers(now, f, &method)
        }
    }

    /// What to send first: the actual request, or a CORS-preflight request when one is
    /// needed and the CORS-preflight cache cannot answer it (Fetch §4.3 step 4.1).
    pub fn start(&self, now: Timestamp, f: &Fetch) -> Start {
        let method = self.method(f);
        if !self.needs_preflight(f) {
            return Start::Actual {
                request: self.actual_request(f, &method),
                preflight_cached: false,
            };
        }
        if self.cache_answers(now, f, &method) {
            return Start::Actual {
                request: self.actual_request(f, &method),
                preflight_cached: true,
            };
        }
        Start::Preflight(self.preflight_request(f, &method))
    }

    /// The actual request on the wire (Fetch §4.1 "main fetch", §4.5 "HTTP-network-or-
    /// cache fetch"): method (normalised, Fetch §2.2.1), URL, the author headers a
    /// browser lets through, then `Origin` (Fetch §3.1 "append a request `Origin`
    /// header": on every CORS request, and on any other request whose method is neither
    /// GET nor HEAD; never from a non-browser), then `Cookie` when credentials are
    /// included ([`Fetch::includes_credentials`]: `include`, or `same-origin` on a
    /// same-origin URL).
    fn actual_request(&self, f: &Fetch, method: &str) -> std::sync::Arc<Request> {
        built::remembered(false, self.agent, &self.overrides, f, method, || {
            self.build_actual(f, method)
        })
    }

    /// [`Browser::actual_request`], built.
    fn build_actual(&self, f: &Fetch, method: &str) -> Request {
        let mut headers = Headers::new();
        // author headers, the defaults, four Fetch Metadata / Referer, Origin, Cookie
        headers.reserve(f.headers.len() + self.defaults[0].len().max(self.defaults[1].len()) + 6);
        for (n, v) in self.author_headers(f) {
            headers.append(n, v);
        }
        self.add_defaults(&mut headers, f, f.mode);
        self.add_revalidate(&mut headers, f);
        if self.is_browser(f) && (self.cors_applies(f) || !matches!(method, "GET" | "HEAD")) {
            headers.append("origin", &f.origin);
        }
        // (the cookie first: it is cheaper to test, and mostly absent)
        if let Some(c) = f.cookie.as_ref().filter(|_| f.includes_credentials()) {
            headers.append("cookie", c);
        }
        Request {
            method: method.to_string(),
            scheme: f.scheme.clone(),
            host: f.host.clone(),
            target: url::sent(&f.target).to_string(),
            headers,
        }
    }

    /// The engine's default headers (Fetch §4.5 steps 8–15, Fetch §4.1 `Accept`), each
    /// unless the page set it, then Fetch Metadata (`Sec-Fetch-Site`, `-Mode`, `-Dest`)
    /// and `Referer` (policy `strict-origin-when-cross-origin`: the page's origin
    /// followed by `/`) for a browser.
    fn add_defaults(&self, headers: &mut Headers, f: &Fetch, mode: Mode) {
        let browser = self.is_browser(f);
        let agent = if browser { self.agent } else { Agent::None };
        headers.append_missing(&self.defaults_for(agent, &f.scheme));
        if browser {
            let page = f.page_origin();
            let rel = site::relation(page, &f.scheme, &f.host, &f.target);
            let site = f.chain.fetch_site.max(headers::FetchSite::of_relation(rel));
            headers.append_static("sec-fetch-site", site.value());
            headers.append_static(
                "sec-fetch-mode",
                if mode == Mode::Cors {
                    "cors"
                } else {
                    "no-cors"
                },
            );
            headers.append_static("sec-fetch-dest", "empty");
            if rel.origin_parses {
                let mut referer = String::with_capacity(page.len() + 1);
                referer.push_str(page);
                referer.push('/');
                headers.append_known("referer", referer);
            }
        }
    }

    /// Fetch §4.5 "HTTP-network-or-cache fetch": a request the page gave a conditional
    /// field (`If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since`, `If-Match`,
    /// `If-Range`) gets cache mode "no-store", and goes out asking caches on the way not
    /// to answer from storage. Chromium 156 sends `Cache-Control: max-age=0` on it and on
    /// its preflight (measured: cases y35, y39), unless the page set `Cache-Control`.
    /// Firefox and Safari are not measured: nothing is added for them.
    fn add_revalidate(&self, headers: &mut Headers, f: &Fetch) {
        // (in no-cors mode the page's conditional fields are dropped: nothing to do; the
        // fields are the page's own, read directly: none of these names is forbidden)
        if !self.chrome() || !self.is_browser(f) || f.mode == Mode::NoCors {
            return;
        }
        let (mut conditional, mut own) = (false, false);
        for (n, _) in f.headers.iter() {
            let n = n.as_bytes();
            if n.len() > 3 && n[..3].eq_ignore_ascii_case(b"if-") {
                conditional |= crate::edge::validate::CONDITIONAL_FIELDS
                    .iter()
                    .any(|c| c.as_bytes().eq_ignore_ascii_case(n));
            } else if n.eq_ignore_ascii_case(b"cache-control") {
                own = true;
            }
        }
        if conditional && !own {
            headers.append_static("cache-control", "max-age=0");
        }
    }

    /// Fetch §4.8 "CORS-preflight fetch" steps 1–5: `OPTIONS` to the same URL with
    /// `Origin`, `Access-Control-Request-Method`, `Access-Control-Request-Headers`
    /// (sorted, lowercase, `,`-joined, omitted when empty) and, for Private Network
    /// Access, `Access-Control-Request-Private-Network: true`. Never credentials.
    fn preflight_request(&self, f: &Fetch, method: &str) -> std::sync::Arc<Request> {
        built::remembered(true, self.agent, &self.overrides, f, method, || {
            self.build_preflight(f, method)
        })
    }

    /// [`Browser::preflight_request`], built.
    fn build_preflight(&self, f: &Fetch, method: &str) -> Request {
        let mut headers = Headers::new();
        // the defaults, four Fetch Metadata / Referer, Origin and three ACR* fields
        headers.reserve(self.defaults[0].len().max(self.defaults[1].len()) + 8);
        self.add_defaults(&mut headers, f, Mode::Cors);
        self.add_revalidate(&mut headers, f);
        headers.append("origin", &f.origin);
        headers.append("access-control-request-method", method);
        if let Some(acrh) = safelist::acrh_value(self.chrome(), || self.author_headers(f)) {
            headers.append("access-control-request-headers", &acrh);
        }
        if f.private_network {
            headers.append("access-control-request-private-network", "true");
        }
        Request {
            method: "OPTIONS".to_string(),
            scheme: f.scheme.clone(),
            host: f.host.clone(),
            target: url::sent(&f.target).to_string(),
            headers,
        }
    }

    /// Judges a preflight response (Fetch §4.8 step 7) and, on success, fills the
    /// CORS-preflight cache (steps 7.8–7.15) and returns the actual request.
    ///
    /// Order (Chromium's, which follows the spec): CORS check; ok status (200–299);
    /// PNA `Access-Control-Allow-Private-Network: true`; parse ACAM and ACAH (a member
    /// that is not a token is a network error, reported as method-/header-not-allowed);
    /// the method (allowed if listed byte-exact, CORS-safelisted, or `*` without
    /// credentials); `authorization` must be listed explicitly (Chromium: or covered by `*`);
    /// every other CORS-unsafe header must be listed (case-insensitive) or covered by
    /// `*` without credentials.
    pub fn on_preflight(
        &mut self,
        now: Timestamp,
        f: &Fetch,
        resp: &Response,
    ) -> Result<std::sync::Arc<Request>, Verdict> {
        let method = self.method(f);
        if !self.cors_applies(f) {
            return Ok(self.actual_request(f, &method));
        }
        if self.chrome() {
            self.cache.forget(f);
        }
        let (methods, header_names) = match self.judge_preflight(f, &method, resp) {
            Ok(lists) => lists,
            Err(failure) => return Err(self.blocked_with_status(f, &failure, true, resp.status)),
        };
        // A request whose origin a redirect tainted has an opaque origin (serialised
        // `null`), which never matches a later request's: nothing worth caching.
        if f.origin == "null" {
            return Ok(self.actual_request(f, &method));
        }
        let max_age = preflight::max_age_secs(self.agent, &resp.headers);
        // every method, then every header name, then PNA, stored in that order
        let items = methods
            .iter()
            .map(|m| CacheItem::Method(cache::shared_name(m)))
            .chain(header_names.iter().map(|h| {
                CacheItem::Header(if h.bytes().any(|b| b.is_ascii_uppercase()) {
                    h.to_ascii_lowercase().into()
                } else {
                    cache::shared_name(h)
                })
            }))
            .chain(f.private_network.then_some(CacheItem::PrivateNetwork))
            .collect();
        self.cache.store_all(now, f, items, max_age);
        Ok(self.actual_request(f, &method))
    }

    /// The checks of Fetch §4.8 step 7, without side effects; on success the parsed
    /// `Access-Control-Allow-Methods` and `-Headers` lists.
    #[allow(clippy::type_complexity)]
    fn judge_preflight<'a>(
        &self,
        f: &'a Fetch,
        method: &'a str,
        resp: &'a Response,
    ) -> Result<(Vec<&'a str>, Vec<&'a str>), Failure<'a>> {
        let include = f.credentials == Credentials::Include;
        check::cors_check(&resp.headers, &f.origin, f.credentials)?;
        if !(200..=299).contains(&resp.status) {
            return Err(Failure::PreflightBadStatus);
        }
        // Private Network Access §3.3 (WICG): the preflight must opt in.
        if f.private_network {
            match check::single_or_combined(&resp.headers, "access-control-allow-private-network") {
                None => return Err(Failure::MissingAllowPrivateNetwork),
                Some(v) if v != "true" => return Err(Failure::InvalidAllowPrivateNetwork(v)),
                Some(_) => {}
            }
        }
        let methods = preflight::parse_token_list(&resp.headers, "access-control-allow-methods")
            .map_err(|()| Failure::InvalidAllowMethods)?;
        let names = preflight::parse_token_list(&resp.headers, "access-control-allow-headers")
            .map_err(|()| Failure::InvalidAllowHeaders)?;
        // Step 7.5.
        let method_ok = methods.contains(&method)
            || safelist::is_safelisted_method(method)
            || (!include && methods.contains(&"*"));
        if !method_ok {
            return Err(Failure::MethodNotAllowed(method));
        }
        // (the bytes first: the listed name is mostly written as the request's)
        let listed = |n: &str| names.iter().any(|x| *x == n || x.eq_ignore_ascii_case(n));
        let wildcard = !include && names.contains(&"*");
        // Step 7.6: `authorization` (the CORS non-wildcard request-header name) must be
        // listed explicitly, except where the engine lets `*` cover it.
        if self.author_headers(f).any(|(n, _)| n == "authorization")
            && !listed("authorization")
            && !(wildcard && self.agent.wildcard_covers_authorization())
        {
            return Err(Failure::HeaderNotAllowed("authorization"));
        }
        // Step 7.7.
        for name in safelist::unsafe_names(self.chrome(), || self.author_headers(f)) {
            if !listed(name) && !wildcard {
                return Err(Failure::HeaderNotAllowed(name));
            }
        }
        Ok((methods, names))
    }

    /// Judges the actual response: Fetch §3.2.5 "CORS check" (Fetch §4.1 "main fetch"
    /// step 14 for response tainting `cors`). `no-cors` and non-browser fetches are not
    /// checked. An allowed response does not allocate.
    pub fn on_response(&self, f: &Fetch, resp: &Response) -> Verdict {
        if !self.cors_applies(f) {
            return Verdict::unchecked();
        }
        match check::cors_check(&resp.headers, &f.origin, f.credentials) {
            Ok(()) => Verdict::ok(),
            Err(failure) => self.blocked_with_status(f, &failure, false, resp.status),
        }
    }

    /// A blocked verdict with Chromium's console text.
    /// A blocked verdict with the engine's console text; `status` is the failing
    /// response's (Firefox and Safari print it).
    pub(crate) fn blocked_with_status(
        &self,
        f: &Fetch,
        failure: &Failure<'_>,
        in_preflight: bool,
        status: u16,
    ) -> Verdict {
        let write = || self.console_text(f, failure, in_preflight, status);
        Verdict {
            allowed: false,
            reason: failure.reason(),
            checked: true,
            console: console::remembered(self.agent, f, failure, in_preflight, status, write),
            in_preflight,
        }
    }

    /// [`Browser::blocked_with_status`]'s console text, written.
    fn console_text(
        &self,
        f: &Fetch,
        failure: &Failure<'_>,
        in_preflight: bool,
        status: u16,
    ) -> String {
        let target = if f.target.is_empty() { "/" } else { &f.target };
        let url = format!("{}://{}{}", f.scheme, f.host, target);
        let ctx = console::Ctx {
            url: &url,
            redirected_from: (!f.chain.first_url.is_empty()).then_some(f.chain.first_url.as_str()),
            origin: f.page_origin(),
            status,
            address_space: preflight::address_space(&f.host),
        };
        console::for_engine(self.agent, &ctx, failure, in_preflight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SIM_EPOCH;
    use proptest::prelude::*;

    const ORIGIN: &str = "https://app.example.com";
    const URL: &str = "https://api.example.com/data";

    fn fetch(agent: Agent, method: &str, headers: &[(&str, &str)]) -> Fetch {
        Fetch {
            agent,
            origin: ORIGIN.into(),
            method: method.into(),
            scheme: "https".into(),
            host: "api.example.com".into(),
            target: "/data".into(),
            headers: Headers::from_pairs(headers.iter().copied()),
            mode: Mode::Cors,
            credentials: Credentials::SameOrigin,
            cookie: Some("session=1".into()),
            private_network: false,
            redirect: RedirectMode::Follow,
            chain: Chain::default(),
        }
    }

    fn resp(status: u16, headers: &[(&str, &str)]) -> Response {
        Response::new(status, Headers::from_pairs(headers.iter().copied()))
    }

    fn preflight_of(s: Start) -> Request {
        match s {
            Start::Preflight(r) => (*r).clone(),
            other => panic!("expected a preflight, got {other:?}"),
        }
    }

    fn actual_of(s: Start) -> (Request, bool) {
        match s {
            Start::Actual {
                request,
                preflight_cached,
            } => ((*request).clone(), preflight_cached),
            other => panic!("expected the actual request, got {other:?}"),
        }
    }

    /// Chromium 156 (cases y35, y39): a fetch carrying a conditional field the page set
    /// goes out, with its preflight, with `Cache-Control: max-age=0`; not with a
    /// `Cache-Control` of the page's own, not without a conditional, not from Firefox.
    #[test]
    fn a_page_conditional_asks_caches_to_revalidate_in_chrome() {
        let b = Browser::new(Agent::Chrome);
        let inm = fetch(Agent::Chrome, "GET", &[("if-none-match", "\"v1\"")]);
        let pf = preflight_of(b.start(SIM_EPOCH, &inm));
        assert_eq!(pf.headers.get("cache-control"), Some("max-age=0"));
        assert_eq!(
            pf.headers.get("access-control-request-headers"),
            Some("if-none-match")
        );
        let (actual, _) = actual_of(Browser::new(Agent::Chrome).start(
            SIM_EPOCH,
            &Fetch {
                mode: Mode::NoCors,
                ..fetch(Agent::Chrome, "GET", &[("if-modified-since", "x")])
            },
        ));
        // (no-cors drops the field, so nothing is conditional)
        assert_eq!(actual.headers.get("cache-control"), None);
        let own = fetch(
            Agent::Chrome,
            "GET",
            &[("if-none-match", "\"v1\""), ("cache-control", "no-cache")],
        );
        let pf = preflight_of(b.start(SIM_EPOCH, &own));
        assert_eq!(pf.headers.get("cache-control"), None);
        let plain = fetch(Agent::Chrome, "GET", &[("x-a", "1")]);
        assert_eq!(
            preflight_of(b.start(SIM_EPOCH, &plain))
                .headers
                .get("cache-control"),
            None
        );
        let ff = fetch(Agent::Firefox, "GET", &[("if-none-match", "\"v1\"")]);
        let pf = preflight_of(Browser::new(Agent::Firefox).start(SIM_EPOCH, &ff));
        assert_eq!(pf.headers.get("cache-control"), None);
    }

    /// A preflight response allowing `methods` and `headers` for ORIGIN.
    fn ok_preflight(methods: &str, headers: &str, max_age: Option<&str>) -> Response {
        let mut h = vec![
            ("access-control-allow-origin", ORIGIN),
            ("access-control-allow-methods", methods),
            ("access-control-allow-headers", headers),
        ];
        if let Some(m) = max_age {
            h.push(("access-control-max-age", m));
        }
        resp(204, &h)
    }

    #[test]
    fn caps_per_agent() {
        assert_eq!(Agent::Chrome.preflight_cap_secs(), 7200);
        assert_eq!(Agent::Firefox.preflight_cap_secs(), 86_400);
        assert_eq!(Agent::Safari.preflight_cap_secs(), 600);
        assert_eq!(Agent::None.preflight_cap_secs(), 0);
        assert_eq!(Browser::new(Agent::Safari).agent(), Agent::Safari);
    }

    #[test]
    fn verdict_constructors_do_not_allocate() {
        let ok = Verdict::ok();
        assert!(ok.allowed && ok.checked && ok.reason == Reason::Ok);
        assert_eq!(ok.console.capacity(), 0);
        let u = Verdict::unchecked();
        assert!(u.allowed && !u.checked && !u.in_preflight);
    }

    // ---- CORS check on the actual response, one test per reason ----

    #[test]
    fn reason_ok_and_missing_allow_origin() {
        let b = Browser::new(Agent::Chrome);
        let f = fetch(Agent::Chrome, "GET", &[]);
        let v = b.on_response(&f, &resp(200, &[("access-control-allow-origin", ORIGIN)]));
        assert_eq!(v, Verdict::ok());
        assert_eq!(
            v.console.capacity(),
            0,
            "an allowed response builds no console text"
        );
        let v = b.on_response(&f, &resp(200, &[]));
        assert!(!v.allowed && v.checked && !v.in_preflight);
        assert_eq!(v.reason, Reason::MissingAllowOrigin);
        assert_eq!(v.reason.id(), "missing-allow-origin");
        assert_eq!(
            v.console,
            format!("Access to fetch at '{URL}' from origin '{ORIGIN}' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource.")
        );
    }

    #[test]
    fn reason_origin_mismatch() {
        let b = Browser::new(Agent::Chrome);
        let f = fetch(Agent::Chrome, "GET", &[]);
        let other = "https://app2.example.com";
        let v = b.on_response(&f, &resp(200, &[("access-control-allow-origin", other)]));
        assert_eq!(v.reason, Reason::OriginMismatch);
        assert!(v.console.contains(
            "The 'Access-Control-Allow-Origin' header has a value 'https://app2.example.com' that is not equal to the supplied origin."
        ));
        let v = b.on_response(&f, &resp(200, &[("access-control-allow-origin", ORIGIN)]));
        assert!(v.allowed);
    }

    #[test]
    fn reason_multiple_allow_origin() {
        let b = Browser::new(Agent::Chrome);
        let f = fetch(Agent::Chrome, "GET", &[]);
        let two = resp(
            200,
            &[
                ("access-control-allow-origin", ORIGIN),
                ("access-control-allow-origin", "*"),
            ],
        );
        let v = b.on_response(&f, &two);
        assert_eq!(v.reason, Reason::MultipleAllowOrigin);
        assert!(v.console.contains(&format!(
            "The 'Access-Control-Allow-Origin' header contains multiple values '{ORIGIN}, *', but only one is allowed."
        )));
        let one = resp(200, &[("access-control-allow-origin", "*")]);
        assert!(b.on_response(&f, &one).allowed);
    }

    #[test]
    fn reason_wildcard_with_credentials() {
        let b = Browser::new(Agent::Chrome);
        let mut f = fetch(Agent::Chrome, "GET", &[]);
        f.credentials = Credentials::Include;
        let star = resp(
            200,
            &[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-credentials", "true"),
            ],
        );
        let v = b.on_response(&f, &star);
        assert_eq!(v.reason, Reason::WildcardWithCredentials);
        assert!(v.console.ends_with("The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'."));
        f.credentials = Credentials::Omit;
        assert!(b.on_response(&f, &star).allowed);
    }

    #[test]
    fn reason_credentials_not_allowed() {
        let b = Browser::new(Agent::Chrome);
        let mut f = fetch(Agent::Chrome, "GET", &[]);
        f.credentials = Credentials::Include;
        let no_acac = resp(200, &[("access-control-allow-origin", ORIGIN)]);
        let v = b.on_response(&f, &no_acac);
        assert_eq!(v.reason, Reason::CredentialsNotAllowed);
        assert!(v.console.ends_with("The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'."));
        let with = resp(
            200,
            &[
                ("access-control-allow-origin", ORIGIN),
                ("access-control-allow-credentials", "true"),
            ],
        );
        assert!(b.on_response(&f, &with).allowed);
    }

    // ---- preflight decision ----

    #[test]
    fn content_type_text_plain_is_simple_json_preflights() {
        let b = Browser::new(Agent::Chrome);
        let simple = fetch(
            Agent::Chrome,
            "POST",
            &[("Content-Type", "text/plain;charset=UTF-8")],
        );
        let (req, cached) = actual_of(b.start(SIM_EPOCH, &simple));
        assert!(!cached);
        assert_eq!(req.method, "POST");
        assert_eq!(req.headers.get("origin"), Some(ORIGIN));
        let json = fetch(
            Agent::Chrome,
            "POST",
            &[("Content-Type", "application/json")],
        );
        let p = preflight_of(b.start(SIM_EPOCH, &json));
        assert_eq!(
            p.headers.get("access-control-request-headers"),
            Some("content-type")
        );
    }

    #[test]
    fn long_accept_language_is_unsafe() {
        let b = Browser::new(Agent::Chrome);
        let long = "a".repeat(129);
        let f = fetch(Agent::Chrome, "GET", &[("Accept-Language", &long)]);
        let p = preflight_of(b.start(SIM_EPOCH, &f));
        assert_eq!(
            p.headers.get("access-control-request-headers"),
            Some("accept-language")
        );
        let short = "a".repeat(128);
        let f = fetch(Agent::Chrome, "GET", &[("Accept-Language", &short)]);
        assert!(!b.needs_preflight(&f));
    }

    #[test]
    fn preflight_request_shape() {
        let b = Browser::new(Agent::Chrome);
        let mut f = fetch(
            Agent::Chrome,
            "put",
            &[
                ("X-Zeta", "1"),
                ("Content-Type", "application/json"),
                ("x-alpha", "2"),
                ("X-ZETA", "3"),
                ("Accept", "*/*"),
            ],
        );
        f.credentials = Credentials::Include;
        let p = preflight_of(b.start(SIM_EPOCH, &f));
        assert_eq!(p.method, "OPTIONS");
        assert_eq!(p.url(), URL);
        assert_eq!(p.headers.get("origin"), Some(ORIGIN));
        assert_eq!(p.headers.get("access-control-request-method"), Some("PUT"));
        assert_eq!(
            p.headers.get("access-control-request-headers"),
            Some("content-type,x-alpha,x-zeta")
        );
        assert!(
            !p.headers.contains("cookie"),
            "preflights never carry credentials"
        );
        assert!(!p.headers.contains("access-control-request-private-network"));
        assert!(
            !p.headers.contains("x-zeta"),
            "author headers stay on the actual request"
        );
        // Safelisted-only: no ACRH at all.
        let g = fetch(Agent::Chrome, "DELETE", &[("Accept", "*/*")]);
        let p = preflight_of(b.start(SIM_EPOCH, &g));
        assert!(!p.headers.contains("access-control-request-headers"));
    }

    #[test]
    fn forbidden_author_headers_are_dropped_by_browsers_only() {
        let f = fetch(
            Agent::Chrome,
            "GET",
            &[("Cookie", "evil=1"), ("Origin", "https://x")],
        );
        let b = Browser::new(Agent::Chrome);
        let (req, _) = actual_of(b.start(SIM_EPOCH, &f));
        assert_eq!(
            req.headers.get_all("origin").collect::<Vec<_>>(),
            vec![ORIGIN]
        );
        assert!(!req.headers.contains("cookie"));
        let mut n = f.clone();
        n.agent = Agent::None;
        let (req, _) = actual_of(Browser::new(Agent::None).start(SIM_EPOCH, &n));
        assert_eq!(req.headers.get("cookie"), Some("evil=1"));
        assert_eq!(req.headers.get("origin"), Some("https://x"));
    }

    // ---- preflight response: reasons and wildcards ----

    #[test]
    fn reason_preflight_bad_status() {
        let mut b = Browser::new(Agent::Chrome);
        let f = fetch(Agent::Chrome, "PUT", &[]);
        let mut r = ok_preflight("PUT", "", None);
        r.status = 404;
        let v = b.on_preflight(SIM_EPOCH, &f, &r).unwrap_err();
        assert_eq!(v.reason, Reason::PreflightBadStatus);
        assert!(v.in_preflight && !v.allowed && v.checked);
        assert!(v.console.ends_with("Response to preflight request doesn't pass access control check: It does not have HTTP ok status."));
        r.status = 200;
        assert!(b.on_preflight(SIM_EPOCH, &f, &r).is_ok());
    }

    /// Private Network Access (WICG) §3.3, "CORS-preflight fetch" step 7: the preflight
    /// response must carry `Access-Control-Allow-Private-Network` with the value `true`,
    /// byte for byte; any other value fails the preflight, and so does its absence.
    #[test]
    fn private_network_preflight_needs_allow_private_network_true() {
        let mut f = fetch(Agent::Chrome, "PUT", &[]);
        f.private_network = true;
        let with = |v: Option<&str>| {
            let mut r = ok_preflight("PUT", "", None);
            if let Some(v) = v {
                r.headers.append("access-control-allow-private-network", v);
            }
            Browser::new(Agent::Chrome).on_preflight(SIM_EPOCH, &f, &r)
        };
        assert!(with(Some("true")).is_ok());
        for bad in ["yes", "TRUE", "true, true"] {
            let v = with(Some(bad)).unwrap_err();
            assert_eq!(v.reason, Reason::PrivateNetworkNotAllowed, "{bad}");
            assert!(
                v.console.contains(&format!("had a value of '{bad}'")),
                "{}",
                v.console
            );
        }
        let v = with(None).unwrap_err();
        assert_eq!(v.reason, Reason::PrivateNetworkNotAllowed);
        assert!(v
            .console
            .contains("No 'Access-Control-Allow-Private-Network' header"));
    }

    /// A fetch made by a non-browser client (`browser: none` on its step) gets none of the
    /// engine's behaviour even inside a browser instance: no `Origin`, no engine default
    /// headers, no CORS check (Fetch applies to user agents; curl sends what it is given).
    #[test]
    fn a_non_browser_fetch_in_a_browser_instance_is_sent_as_given() {
        let b = Browser::new(Agent::Chrome);
        let f = fetch(Agent::None, "PUT", &[("x-custom", "1")]);
        assert!(!b.needs_preflight(&f));
        let (req, _) = actual_of(b.start(SIM_EPOCH, &f));
        assert_eq!(req.headers.get("origin"), None);
        assert_eq!(req.headers.get("accept-encoding"), None);
        assert_eq!(req.headers.get("sec-fetch-mode"), None);
        assert!(req
            .headers
            .get("user-agent")
            .is_some_and(|u| u.starts_with("curl/")));
        assert_eq!(req.headers.get("x-custom"), Some("1"));
        let v = b.on_response(&f, &resp(200, &[]));
        assert!(v.allowed && !v.checked, "{v:?}");
    }

    #[test]
    fn cors_check_failure_on_preflight_gets_preflight_clause() {
        let mut b = Browser::new(Agent::Chrome);
        let f = fetch(Agent::Chrome, "PUT", &[]);
        let r = resp(204, &[("access-control-allow-methods", "PUT")]);
        let v = b.on_preflight(SIM_EPOCH, &f, &r).unwrap_err();
        assert_eq!(v.reason, Reason::MissingAllowOrigin);
        assert!(v.in_preflight);
        assert!(v.console.contains("has been blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource."));
        assert!(
            b.preflight_cache().is_empty(),
            "a failed preflight caches nothing"
        );
    }

    #[test]
    fn reason_method_not_allowed() {
        let mut b = Browser::new(Agent::Chrome);
        let f = fetch(Agent::Chrome, "PUT", &[]);
        let v = b
            .on_preflight(SIM_EPOCH, &f, &ok_preflight("GET, POST", "", None))
            .unwrap_err();
        assert_eq!(v.reason, Reason::MethodNotAllowed);
        assert_eq!(
            v.console,
            format!("Access to fetch at '{URL}' from origin '{ORIGIN}' has been blocked by CORS policy: Method PUT is not allowed by Access-Control-Allow-Methods in preflight response.")
        );
        // Methods are case-sensitive: `put` does not allow PUT.
        let v = b.on_preflight(SIM_EPOCH, &f, &ok_preflight("put", "", None));
        assert_eq!(v.unwrap_err().reason, Reason::MethodNotAllowed);
        assert!(b
            .on_preflight(SIM_EPOCH, &f, &ok_preflight("GET, PUT", "", None))
            .is_ok());
        // A list that does not parse is a network error.
        let v = b.on_preflight(SIM_EPOCH, &f, &ok_preflight("PUT, (bad)", "", None));
        assert!(v.unwrap_err().console.ends_with("Cannot parse Access-Control-Allow-Methods response header field in preflight response."));
    }

    #[test]
    fn reason_header_not_allowed() {
        let mut b = Browser::new(Agent::Chrome);
        let f = fetch(Agent::Chrome, "GET", &[("X-Custom", "1")]);
        let v = b
            .on_preflight(SIM_EPOCH, &f, &ok_preflight("GET", "x-other", None))
            .unwrap_err();
        assert_eq!(v.reason, Reason::HeaderNotAllowed);
        assert!(v.console.ends_with("Request header field x-custom is not allowed by Access-Control-Allow-Headers in preflight response."));
        assert!(!v.console.contains("Response to preflight request"));
        // Header names are compared case-insensitively.
        assert!(b
            .on_preflight(SIM_EPOCH, &f, &ok_preflight("GET", "X-CUSTOM", None))
            .is_ok());
    }

    #[test]
    fn wildcards_without_and_with_credentials() {
        let mut b = Browser::new(Agent::Chrome);
        let mut f = fetch(Agent::Chrome, "PATCH", &[("X-Custom", "1")]);
        let star = ok_preflight("*", "*", None);
        assert!(b.on_preflight(SIM_EPOCH, &f, &star).is_ok());
        f.credentials = Credentials::Include;
        let mut star_cred = star.clone();
        star_cred
            .headers
            .append("access-control-allow-credentials", "true");
        let v = b.on_preflight(SIM_EPOCH, &f, &star_cred).unwrap_err();
        assert_eq!(
            v.reason,
            Reason::MethodNotAllowed,
            "`*` methods do not count with include"
        );
        let mut methods_ok = ok_preflight("PATCH", "*", None);
        methods_ok
            .headers
            .append("access-control-allow-credentials", "true");
        let v = b.on_preflight(SIM_EPOCH, &f, &methods_ok).unwrap_err();
        assert_eq!(
            v.reason,
            Reason::HeaderNotAllowed,
            "`*` headers do not count with include"
        );
        let mut explicit = ok_preflight("PATCH", "x-custom", None);
        explicit
            .headers
            .append("access-control-allow-credentials", "true");
        assert!(b.on_preflight(SIM_EPOCH, &f, &explicit).is_ok());
    }

    #[test]
    fn authorization_is_not_covered_by_wildcard() {
        let mut b = Browser::new(Agent::Firefox);
        let f = fetch(
            Agent::Firefox,
            "GET",
            &[("Authorization", "Bearer x"), ("X-A", "1")],
        );
        let v = b
            .on_preflight(SIM_EPOCH, &f, &ok_preflight("GET", "*", None))
            .unwrap_err();
        assert_eq!(v.reason, Reason::HeaderNotAllowed);
        assert!(v.console.starts_with("Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://api.example.com/data. (Reason: header \u{2018}authorization\u{2019} is not allowed according to header \u{2018}Access-Control-Allow-Headers\u{2019} from CORS preflight response)."), "{}", v.console);
        assert!(b
            .on_preflight(
                SIM_EPOCH,
                &f,
                &ok_preflight("GET", "*, Authorization", None)
            )
            .is_ok());
        // The cached `*` answers x-a but not authorization: with only `*` cached, the
        // next identical fetch still needs a preflight.
        let mut b2 = Browser::new(Agent::Firefox);
        let g = fetch(Agent::Firefox, "GET", &[("X-A", "1")]);
        assert!(b2
            .on_preflight(SIM_EPOCH, &g, &ok_preflight("GET", "*", Some("60")))
            .is_ok());
        assert!(b2.preflight_cached(SIM_EPOCH, &g));
        assert!(!b2.preflight_cached(SIM_EPOCH, &f));
    }

    #[test]
    fn chrome_lets_the_wildcard_cover_authorization() {
        let mut b = Browser::new(Agent::Chrome);
        let f = fetch(Agent::Chrome, "GET", &[("Authorization", "Bearer x")]);
        assert!(b
            .on_preflight(SIM_EPOCH, &f, &ok_preflight("GET", "*", Some("60")))
            .is_ok());
        // ... but the cached `*` does not answer it: a new preflight each time.
        assert!(!b.preflight_cached(SIM_EPOCH, &f));
        // Never with credentials: then `*` is a literal name.
        let mut c = f.clone();
        c.credentials = Credentials::Include;
        let mut r = ok_preflight("GET", "*", None);
        r.headers.append("access-control-allow-credentials", "true");
        let v = b.on_preflight(SIM_EPOCH, &c, &r).unwrap_err();
        assert_eq!(v.reason, Reason::HeaderNotAllowed);
    }

    #[test]
    fn reason_private_network_not_allowed() {
        let mut b = Browser::new(Agent::Chrome);
        let mut f = fetch(Agent::Chrome, "GET", &[]);
        f.private_network = true;
        f.host = "192.168.1.10".into();
        let p = preflight_of(b.start(SIM_EPOCH, &f));
        assert_eq!(
            p.headers.get("access-control-request-private-network"),
            Some("true")
        );
        assert_eq!(p.headers.get("access-control-request-method"), Some("GET"));
        let v = b
            .on_preflight(SIM_EPOCH, &f, &ok_preflight("GET", "", None))
            .unwrap_err();
        assert_eq!(v.reason, Reason::PrivateNetworkNotAllowed);
        assert!(v.console.ends_with("Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Private-Network' header was present in the preflight response for this private network request targeting the `private` address space."));
        let mut ok = ok_preflight("GET", "", Some("60"));
        ok.headers
            .append("access-control-allow-private-network", "true");
        assert!(b.on_preflight(SIM_EPOCH, &f, &ok).is_ok());
        assert!(b.preflight_cached(SIM_EPOCH.plus_secs(10), &f));
        // A non-PNA fetch to the same URL needs no preflight at all.
        f.private_network = false;
        assert!(!b.needs_preflight(&f));
    }

    /// Fetch §5.2 `Headers`: a page's header value loses its leading and trailing HTTP
    /// whitespace when it is set, so the request carries the normalized value (and the
    /// HTTP cache's `Vary` comparison sees it: case v04). A non-browser sends it as given.
    #[test]
    fn page_header_values_are_normalized() {
        let b = Browser::new(Agent::Chrome);
        let f = fetch(
            Agent::Chrome,
            "GET",
            &[("x-v", " a\t"), ("accept", "\r\n*/* ")],
        );
        let pf = preflight_of(b.start(SIM_EPOCH, &f));
        assert_eq!(
            pf.headers.get("access-control-request-headers"),
            Some("x-v")
        );
        let (req, _) = actual_of(Browser::new(Agent::Chrome).start(
            SIM_EPOCH,
            &fetch(Agent::Chrome, "GET", &[("accept", " a/b ")]),
        ));
        assert_eq!(req.headers.get("accept"), Some("a/b"));
        let actual = {
            let mut b = Browser::new(Agent::Chrome);
            preflight_of(b.start(SIM_EPOCH, &f));
            b.on_preflight(SIM_EPOCH, &f, &ok_preflight("GET", "x-v", None))
                .unwrap()
        };
        assert_eq!(actual.headers.get("x-v"), Some("a"));
        assert_eq!(actual.headers.get("accept"), Some("*/*"));
        let curl = fetch(Agent::None, "GET", &[("x-v", " a ")]);
        let (req, _) = actual_of(b.start(SIM_EPOCH, &curl));
        assert_eq!(req.headers.get("x-v"), Some(" a "));
    }

    /// Chromium 156 (case v08): a preflight cache entry made by a credentialed preflight
    /// answered `Access-Control-Allow-Headers: *, x-a` covers x-a but its `*` is a literal
    /// name, even for a later uncredentialed request: x-b needs a new preflight. The Fetch
    /// standard's cache (Firefox, Safari here) lets that `*` match for a request that is
    /// not `include`.
    #[test]
    fn a_credentialed_entry_wildcard_is_literal_in_chrome() {
        for (agent, cached) in [(Agent::Chrome, false), (Agent::Firefox, true)] {
            let mut b = Browser::new(agent);
            let mut inc = fetch(agent, "PUT", &[("x-a", "1")]);
            inc.credentials = Credentials::Include;
            let mut r = ok_preflight("PUT", "*, x-a", Some("600"));
            r.headers.append("access-control-allow-credentials", "true");
            assert!(b.on_preflight(SIM_EPOCH, &inc, &r).is_ok());
            assert!(b.preflight_cached(SIM_EPOCH, &inc));
            let mut omit = fetch(agent, "PUT", &[("x-b", "1")]);
            omit.credentials = Credentials::Omit;
            assert_eq!(b.preflight_cached(SIM_EPOCH, &omit), cached, "{agent:?}");
            // The named header still answers an uncredentialed request.
            let mut named = fetch(agent, "PUT", &[("x-a", "2")]);
            named.credentials = Credentials::Omit;
            assert!(b.preflight_cached(SIM_EPOCH, &named), "{agent:?}");
        }
    }

    // ---- the CORS-preflight cache ----

    #[test]
    fn cache_reuse_within_max_age_and_expiry_after() {
        let mut b = Browser::new(Agent::Chrome);
        let f = fetch(Agent::Chrome, "PUT", &[("X-Custom", "1")]);
        let t0 = SIM_EPOCH;
        preflight_of(b.start(t0, &f));
        let actual = b
            .on_preflight(t0, &f, &ok_preflight("PUT", "x-custom", Some("60")))
            .unwrap();
        assert_eq!(actual.method, "PUT");
        assert_eq!(actual.headers.get("x-custom"), Some("1"));
        assert!(!actual.headers.contains("access-control-request-method"));
        let (again, cached) = actual_of(b.start(t0.plus_secs(59), &f));
        assert!(cached);
        assert_eq!(again, *actual);
        assert!(b.preflight_cached(t0.plus_secs(59), &f));
        assert!(!b.preflight_cached(t0.plus_secs(60), &f));
        preflight_of(b.start(t0.plus_secs(60), &f));
    }

    #[test]
    fn cache_caps_per_agent() {
        for (agent, cap) in [
            (Agent::Chrome, 7200),
            (Agent::Safari, 600),
            (Agent::Firefox, 86_400),
        ] {
            let mut b = Browser::new(agent);
            let f = fetch(agent, "PUT", &[]);
            b.on_preflight(SIM_EPOCH, &f, &ok_preflight("PUT", "", Some("86400")))
                .unwrap();
            assert!(
                b.preflight_cached(SIM_EPOCH.plus_secs(cap - 1), &f),
                "{agent:?}"
            );
            assert!(
                !b.preflight_cached(SIM_EPOCH.plus_secs(cap), &f),
                "{agent:?}"
            );
        }
    }

    #[test]
    fn max_age_zero_stores_nothing_and_absent_is_five_seconds() {
        let mut b = Browser::new(Agent::Chrome);
        let f = fetch(Agent::Chrome, "PUT", &[]);
        assert!(b
            .on_preflight(SIM_EPOCH, &f, &ok_preflight("PUT", "", Some("0")))
            .is_ok());
        assert!(b.preflight_cache().is_empty());
        assert!(!b.preflight_cached(SIM_EPOCH, &f));
        b.on_preflight(SIM_EPOCH, &f, &ok_preflight("PUT", "", None))
            .unwrap();
        assert!(b.preflight_cached(SIM_EPOCH.plus_ms(4999), &f));
        assert!(!b.preflight_cached(SIM_EPOCH.plus_secs(5), &f));
        // Max-age 0 after a longer one drops the earlier entry.
        b.on_preflight(SIM_EPOCH, &f, &ok_preflight("PUT", "", Some("600")))
            .unwrap();
        b.on_preflight(SIM_EPOCH, &f, &ok_preflight("PUT", "", Some("0")))
            .unwrap();
        assert!(!b.preflight_cached(SIM_EPOCH, &f));
    }

    #[test]
    fn uncached_method_or_header_forces_new_preflight() {
        let mut b = Browser::new(Agent::Chrome);
        let put = fetch(Agent::Chrome, "PUT", &[("X-A", "1")]);
        b.on_preflight(SIM_EPOCH, &put, &ok_preflight("PUT", "x-a", Some("600")))
            .unwrap();
        assert!(b.preflight_cached(SIM_EPOCH, &put));
        let delete = fetch(Agent::Chrome, "DELETE", &[("X-A", "1")]);
        let p = preflight_of(b.start(SIM_EPOCH, &delete));
        assert_eq!(
            p.headers.get("access-control-request-method"),
            Some("DELETE")
        );
        let extra = fetch(Agent::Chrome, "PUT", &[("X-A", "1"), ("X-B", "2")]);
        preflight_of(b.start(SIM_EPOCH, &extra));
        // Another origin or URL does not share the entry.
        let mut other = put.clone();
        other.origin = "https://app2.example.com".into();
        assert!(!b.preflight_cached(SIM_EPOCH, &other));
        let mut path = put.clone();
        path.target = "/data?x=1".into();
        assert!(!b.preflight_cached(SIM_EPOCH, &path));
        // An uncredentialed entry does not answer a credentialed fetch.
        let mut cred = put.clone();
        cred.credentials = Credentials::Include;
        assert!(!b.preflight_cached(SIM_EPOCH, &cred));
    }

    // ---- what is sent ----

    #[test]
    fn no_cors_get_has_no_origin_post_has() {
        let b = Browser::new(Agent::Chrome);
        let mut get = fetch(Agent::Chrome, "GET", &[("X-Custom", "1")]);
        get.mode = Mode::NoCors;
        let (req, cached) = actual_of(b.start(SIM_EPOCH, &get));
        assert!(!cached);
        assert!(!req.headers.contains("origin"));
        assert!(
            !req.headers.contains("x-custom"),
            "no-cors drops non-safelisted headers"
        );
        let mut post = get.clone();
        post.method = "POST".into();
        let (req, _) = actual_of(b.start(SIM_EPOCH, &post));
        assert_eq!(req.headers.get("origin"), Some(ORIGIN));
        let v = b.on_response(&post, &resp(200, &[]));
        assert_eq!(v, Verdict::unchecked());
    }

    #[test]
    fn agent_none_never_checks_nor_preflights() {
        let mut b = Browser::new(Agent::None);
        let f = fetch(Agent::None, "PUT", &[("X-Custom", "1")]);
        let (req, cached) = actual_of(b.start(SIM_EPOCH, &f));
        assert!(!cached);
        assert!(!req.headers.contains("origin"));
        assert_eq!(req.headers.get("x-custom"), Some("1"));
        assert!(!b.needs_preflight(&f));
        let v = b.on_response(&f, &resp(200, &[]));
        assert!(v.allowed && !v.checked && v.reason == Reason::Ok);
        assert!(b.on_preflight(SIM_EPOCH, &f, &resp(500, &[])).is_ok());
        // A browser does check the same response.
        let c = Browser::new(Agent::Chrome);
        let g = fetch(Agent::Chrome, "GET", &[]);
        assert!(!c.on_response(&g, &resp(200, &[])).allowed);
    }

    #[test]
    fn cookie_only_with_include() {
        let b = Browser::new(Agent::Chrome);
        for (c, expect) in [
            (Credentials::Omit, None),
            (Credentials::SameOrigin, None),
            (Credentials::Include, Some("session=1")),
        ] {
            let mut f = fetch(Agent::Chrome, "GET", &[]);
            f.credentials = c;
            let (req, _) = actual_of(b.start(SIM_EPOCH, &f));
            assert_eq!(req.headers.get("cookie"), expect, "{c:?}");
        }
    }

    #[test]
    fn preflight_never_has_cookie_but_actual_does() {
        let mut b = Browser::new(Agent::Chrome);
        let mut f = fetch(Agent::Chrome, "DELETE", &[]);
        f.credentials = Credentials::Include;
        let p = preflight_of(b.start(SIM_EPOCH, &f));
        assert!(!p.headers.contains("cookie"));
        let mut r = ok_preflight("DELETE", "", None);
        r.headers.append("access-control-allow-credentials", "true");
        let actual = b.on_preflight(SIM_EPOCH, &f, &r).unwrap();
        assert_eq!(actual.headers.get("cookie"), Some("session=1"));
    }

    fn arb_headers() -> impl Strategy<Value = Vec<(String, String)>> {
        let name = prop_oneof![
            Just("accept".to_string()),
            Just("content-type".to_string()),
            Just("accept-language".to_string()),
            Just("range".to_string()),
            "x-[a-c]{1,2}",
            Just("authorization".to_string()),
        ];
        let value = prop_oneof![
            Just("text/plain".to_string()),
            Just("application/json".to_string()),
            Just("bytes=0-".to_string()),
            "[a-z ]{0,8}",
        ];
        prop::collection::vec((name, value), 0..8)
    }

    fn random_case(s: &str, mask: u64) -> String {
        s.chars()
            .enumerate()
            .map(|(i, c)| {
                if mask >> (i % 64) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    }

    proptest! {
        /// The ACRH value depends only on the set of (name, value) pairs: not on their
        /// order, nor on the case the page wrote the names in; and it is always sorted,
        /// lowercase, deduplicated, with no spaces.
        #[test]
        fn acrh_invariant_under_order_and_case(
            pairs in arb_headers(),
            mask in any::<u64>(),
            seed in any::<u64>(),
        ) {
            let b = Browser::new(Agent::Chrome);
            let build = |ps: &[(String, String)]| {
                let f = fetch(Agent::Chrome, "PUT", &[]);
                let mut f = f;
                f.headers = Headers::from_pairs(ps.iter().map(|(n, v)| (n.as_str(), v.as_str())));
                preflight_of(b.start(SIM_EPOCH, &f))
                    .headers
                    .get("access-control-request-headers")
                    .map(str::to_string)
            };
            let original = build(&pairs);
            let mut shuffled: Vec<(String, String)> = pairs
                .iter()
                .map(|(n, v)| (random_case(n, mask), v.clone()))
                .collect();
            // Deterministic rotation + reversal driven by the seed.
            if !shuffled.is_empty() {
                let k = (seed as usize) % shuffled.len();
                shuffled.rotate_left(k);
                if seed & 1 == 1 {
                    shuffled.reverse();
                }
            }
            prop_assert_eq!(&original, &build(&shuffled));
            if let Some(v) = original {
                prop_assert!(!v.contains(' '));
                prop_assert_eq!(v.to_ascii_lowercase(), v.clone());
                let parts: Vec<&str> = v.split(',').collect();
                let mut sorted = parts.clone();
                sorted.sort_unstable();
                sorted.dedup();
                prop_assert_eq!(parts, sorted);
            }
        }
    }

    /// Every kept console text is the one written afresh: each kind of failure (two
    /// values for those that carry one), every engine, both legs, two statuses, and
    /// fetches that differ in one part each, among them parts the memo's slot does not
    /// read (the scheme, the host's letters, the first URL's letters), asked three times.
    #[test]
    fn kept_console_texts_are_the_written_ones() {
        use check::Failure as F;
        let failures = |v: &'static str| {
            [
                F::MissingAllowOrigin,
                F::MultipleAllowOrigin(v.into()),
                F::InvalidAllowOrigin(v),
                F::AllowOriginMismatch(v),
                F::WildcardWithCredentials,
                F::InvalidAllowCredentials(v.into()),
                F::PreflightBadStatus,
                F::InvalidAllowMethods,
                F::InvalidAllowHeaders,
                F::MethodNotAllowed(v),
                F::HeaderNotAllowed(v),
                F::MissingAllowPrivateNetwork,
                F::InvalidAllowPrivateNetwork(v.into()),
                F::PreflightRedirect,
                F::NoCorsMethod(v),
                F::RedirectModeError,
                F::TooManyRedirects,
                F::RedirectContainsCredentials,
                F::RedirectNotHttp,
            ]
        };
        let mut all: Vec<F<'static>> = failures("https://x.example").into();
        all.extend(failures("https://y.example"));
        let parts: std::collections::HashSet<_> = all.iter().map(|x| x.parts()).collect();
        assert_eq!(parts.len(), 19 + 8, "one kind and value each");
        let base = fetch(Agent::Chrome, "GET", &[]);
        let mut fetches = vec![base.clone()];
        let mut vary = |change: &dyn Fn(&mut Fetch)| {
            let mut f = base.clone();
            change(&mut f);
            fetches.push(f);
        };
        vary(&|f| f.scheme = "http".into());
        vary(&|f| f.host = "apx.example.com".into());
        vary(&|f| f.target = "/datb".into());
        vary(&|f| f.target = String::new());
        vary(&|f| f.origin = "https://apq.example.com".into());
        vary(&|f| f.chain.first_url = "https://api.example.com/a".into());
        vary(&|f| f.chain.first_url = "https://api.example.com/b".into());
        vary(&|f| f.chain.page_origin = "https://apq.example.com".into());
        vary(&|f| f.host = "10.0.0.1".into());
        let agents = [Agent::Chrome, Agent::Firefox, Agent::Safari, Agent::None];
        for round in 0..3 {
            for agent in agents {
                let b = Browser::new(agent);
                for f in &fetches {
                    for failure in &all {
                        for (leg, status) in [(false, 200), (true, 200), (false, 403)] {
                            let v = b.blocked_with_status(f, failure, leg, status);
                            let want = b.console_text(f, failure, leg, status);
                            assert_eq!(
                                v.console, want,
                                "round {round}: {agent:?} {failure:?} {f:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod refill_tests {
    use super::*;

    /// `refill_from` makes a fetch equal to its source whatever it held before: every
    /// field copied (each source differs from the others in some field).
    #[test]
    fn a_refilled_fetch_equals_its_source() {
        let a = Fetch {
            agent: Agent::Chrome,
            origin: "https://app1.example.com".into(),
            method: "PUT".into(),
            scheme: "https".into(),
            host: "api.example.com".into(),
            target: "/d?x=1".into(),
            headers: Headers::from_pairs([("content-type", "application/json"), ("x-a", "1")]),
            mode: Mode::Cors,
            credentials: Credentials::Include,
            cookie: Some("a=1".into()),
            private_network: true,
            redirect: RedirectMode::Manual,
            chain: Chain {
                page_origin: "null".into(),
                fetch_site: headers::FetchSite::CrossSite,
                first_url: "https://x.example/".into(),
            },
        };
        let b = Fetch {
            agent: Agent::Safari,
            origin: "https://b.example".into(),
            method: "GET".into(),
            scheme: "http".into(),
            host: "h".into(),
            target: "/".into(),
            headers: Headers::new(),
            mode: Mode::NoCors,
            credentials: Credentials::Omit,
            cookie: None,
            private_network: false,
            redirect: RedirectMode::Follow,
            chain: Chain::default(),
        };
        for (dst, src) in [(&a, &b), (&b, &a), (&a, &a)] {
            let mut f = dst.clone();
            f.refill_from(src);
            assert_eq!(f, *src);
            assert_eq!(format!("{f:?}"), format!("{src:?}"));
        }
    }
}
