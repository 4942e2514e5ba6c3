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
}

impl Reason {
    /// Every reason, in the order PRODUCT.md lists them.
    pub const ALL: [Reason; 10] = [
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
#[derive(Clone, Debug, PartialEq, Eq)]
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
}

/// What the browser sends first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// A CORS-preflight request (`OPTIONS`) must be sent and passed first.
    Preflight(Request),
    /// The actual request goes out now; `preflight_cached` is true when a preflight was
    /// needed but answered from the browser's CORS-preflight cache.
    Actual {
        /// The request to send.
        request: Request,
        /// A preflight was needed and the preflight cache answered it.
        preflight_cached: bool,
    },
}

/// A browser instance: its engine and its CORS-preflight cache.
#[derive(Clone, Debug)]
pub struct Browser {
    agent: Agent,
    cache: PreflightCache,
}

/// The CORS-preflight cache (Fetch §4.9): entries of (origin, URL, credentials, method or
/// header name) with an expiry, capped per engine. Not governed by `Vary`.
#[derive(Clone, Debug, Default)]
pub struct PreflightCache {
    entries: Vec<PreflightEntry>,
}

#[derive(Clone, Debug)]
struct PreflightEntry {
    origin: String,
    url: String,
    credentials: bool,
    item: CacheItem,
    expires: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum CacheItem {
    Method(String),
    Header(String),
}
