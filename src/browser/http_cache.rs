//! The browser's own HTTP cache: a private cache (RFC 9111, <https://www.rfc-editor.org/rfc/rfc9111>)
//! between the page and the network, partitioned the way Chromium partitions it.
//!
//! * **Partition.** Chromium keys every entry by its network isolation key — the
//!   top-frame site and the frame site — before the URL (`net/http/http_cache.cc`,
//!   `GenerateCacheKey`: `_dk_<top-frame site> <frame site> <url>`, "split cache", on by
//!   default since Chrome 86). A page's `fetch()` runs in the top frame, so both are the
//!   page's site: two origins of one site share entries. Measured on Chromium 156: a
//!   response stored for a fetch from `http://127.0.0.1:P1` was served from the disk
//!   cache to `http://127.0.0.1:P3` (same site) and not to `http://localhost:P2`.
//!   `credentials` does not split it (measured: an entry stored by a `same-origin`
//!   fetch answered an `include` and an `omit` fetch).
//! * **One entry per key.** `Vary` does not create variants: the stored request's
//!   nominated headers must match, or the request goes to the network and its response
//!   replaces the entry (`HttpCache::Transaction`, `vary_mismatch_`; measured: A, C, A
//!   with `Vary: Origin` reached the server three times).
//! * **Freshness** (RFC 9111 §4.2), read the way Chromium reads it
//!   (`net/http/http_response_headers.cc`, `GetFreshnessLifetimes`, measured on Chromium
//!   156 by `tests/chromium/cases/direct/z20`–`z40`):
//!   - never fresh with a bare `Cache-Control: no-cache` or `no-store`, or a response
//!     `Pragma: no-cache` (which RFC 9111 §5.4 leaves undefined); a qualified
//!     `no-cache="set-cookie"` is not a bare `no-cache` and does not count;
//!   - the first `max-age`, read only when its value is digits (`max-age="300"`, which
//!     RFC 9111 §5.2 asks recipients to accept, is ignored: the response then has no
//!     explicit lifetime), else `Expires` − `Date`, both read as tolerantly as
//!     Chromium's `base::Time::FromString` (`super::date`; measured: x13, x36); an
//!     `Expires` that is still not a date is ignored, except `0`, which is expired
//!     (u03);
//!   - `Age` is its first list member, digits only (x12, x35);
//!   - else 10 % of `Date` − `Last-Modified`, for 200, 203 and 206 only and not with
//!     `must-revalidate`; 300, 301, 308 and 410 are fresh forever;
//!   - `s-maxage` is for shared caches only (measured: `s-maxage=300` alone was not
//!     reused). The age counts the response's `Age` (an edge hit's age) plus the time
//!     since it was stored.
//! * **Revalidation** (RFC 9111 §4.3; Chromium's `ConditionalizeRequest`): a stored 200
//!   that is stale, `no-cache`, or whose `Vary` does not match is not thrown away when it
//!   has a validator: the request goes out with `If-None-Match` (its `ETag`) and
//!   `If-Modified-Since` (its `Last-Modified`, left out when `Vary` did not match). A
//!   `304` that selects it freshens it (RFC 9111 §3.2: the 304's fields replace the
//!   stored ones, the others stay) and the page gets the stored response with those
//!   fields: a stored `Access-Control-Allow-Origin` the 304 does not replace is checked
//!   again, for whichever origin asks now. A `HEAD`'s 304 freshens the stored GET too
//!   (x56). A request `Cache-Control: max-age=0` validates a fresh entry the same way
//!   (x53); a request `no-cache` or `Pragma: no-cache` refetches it. Each counts only as
//!   a whole list member, any case (`HeaderMatches`; u01, u02).
//! * **`stale-while-revalidate`** (RFC 5861 §3; Chromium's
//!   `HttpResponseHeaders::GetFreshnessLifetimes` and `RequiresValidation`): a stale
//!   entry still within `stale-while-revalidate=N` seconds after its lifetime answers a
//!   `GET` that matches it ([`Lookup::Stale`]), and the page revalidates it in the
//!   background (see `super::run`). Not with `must-revalidate` ("overrides
//!   stale-while-revalidate" there), `no-cache` or `no-store`; not for a request that
//!   validates (`max-age=0`) or bypasses the cache. Measured on Chromium 156: cases
//!   y40–y42, y50–y52.
//! * **Not stored**: `no-store`; responses to anything but `GET` (a `HEAD` that went out
//!   drops the stored GET, x54); a `GET` answer whose CORS check fails (Chromium
//!   cancels the load on the response head, before reading the body, and drops the
//!   entry it was writing and the one it replaced; a redirect is kept: measured by cases
//!   x32, x33, x37; see [`HttpCache::store_unread`]).
//! * **Invalidation** (RFC 9111 §4.4): a non-error response to `POST`, `DELETE` or
//!   `PATCH` invalidates the entry for its URL (measured: a POST and a DELETE evicted
//!   the stored GET). A `PUT` without a body does not (measured: Chromium passes a
//!   body-less `PUT` through its cache untouched; the scenario format has no request
//!   bodies).
//!
//! Preflights never use this cache (Chromium sends them with `LOAD_DISABLE_CACHE`).

use crate::fields::{split_list, Headers};
use crate::message::{Request, Response};
use crate::time::Timestamp;
use std::sync::Arc;

/// One stored response.
#[derive(Clone, Debug)]
struct Entry {
    partition: String,
    url: String,
    /// The values the stored request had for each field its response's `Vary` names; a
    /// field it did not have is an empty value (see [`vary_value`]).
    vary: Vec<(String, String)>,
    vary_star: bool,
    response: Arc<Response>,
    stored_at: Timestamp,
    /// Seconds of freshness, `u64::MAX` for "forever".
    lifetime_secs: u64,
    /// Its age when it arrived, in ms (RFC 9111 §4.2.3 "corrected_initial_age").
    initial_age_ms: u64,
    /// Seconds after `lifetime_secs` it may still be served while it is revalidated
    /// (`stale-while-revalidate`; 0 when it may not).
    swr_secs: u64,
    no_cache: bool,
    stored_by: u64,
}

/// What the cache does with a request.
#[derive(Clone, Debug)]
pub enum Lookup {
    /// Nothing usable is stored: the request goes out as it is.
    Miss,
    /// A fresh stored response answers it.
    Fresh(Served),
    /// A stale stored response within its `stale-while-revalidate` window answers it,
    /// and asks to be revalidated in the background (RFC 5861 §3).
    Stale(Served),
    /// A stored response needs validating: the request goes out with these fields.
    Revalidate(Revalidation),
}

/// A stored response to validate, and the conditional fields that do it.
#[derive(Clone, Debug)]
pub struct Revalidation {
    /// The stored response.
    pub stored: Arc<Response>,
    /// Who stored it.
    pub stored_by: u64,
    /// `If-None-Match` and/or `If-Modified-Since`, with their values.
    pub fields: Vec<(&'static str, String)>,
}

/// A response the cache answered with.
#[derive(Clone, Debug)]
pub struct Served {
    /// The stored response.
    pub response: Arc<Response>,
    /// Who stored it (the driver's tag: a step index).
    pub stored_by: u64,
    /// Its current age in seconds.
    pub age_secs: u64,
}

/// A private, partitioned HTTP cache.
#[derive(Clone, Debug, Default)]
pub struct HttpCache {
    entries: Vec<Entry>,
}

/// The partition of a fetch from a top-level page on `page_origin`: its site, twice
/// (top-frame site, frame site), as Chromium's network isolation key.
pub fn partition(page_origin: &str) -> String {
    match super::site::parts(page_origin) {
        Some(p) => {
            let site = super::site::registrable_domain(p.host);
            format!("{0}://{1} {0}://{1}", p.scheme, site)
        }
        None => format!("{page_origin} {page_origin}"),
    }
}

/// The caching directives of a response as Chromium reads them
/// (`HttpResponseHeaders::HasHeaderValue` matches a whole list member, any case;
/// `GetMaxAgeValue` takes the first `max-age` and reads its value as digits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Directives {
    /// A bare `no-cache` in `Cache-Control` or `Pragma`.
    no_cache: bool,
    /// A bare `no-store`.
    no_store: bool,
    /// `must-revalidate`.
    must_revalidate: bool,
    /// The first `max-age`, when its value is digits.
    max_age: Option<u64>,
    /// The first `stale-while-revalidate`, when its value is digits.
    swr: Option<u64>,
}

fn directives(resp: &Response) -> Directives {
    let mut d = Directives::default();
    let mut max_age_seen = false;
    let mut swr_seen = false;
    for line in resp.headers.get_all("cache-control") {
        for m in split_list(line) {
            if m.eq_ignore_ascii_case("no-cache") {
                d.no_cache = true;
            } else if m.eq_ignore_ascii_case("no-store") {
                d.no_store = true;
            } else if m.eq_ignore_ascii_case("must-revalidate") {
                d.must_revalidate = true;
            } else if let Some(v) = delta_seconds(m, "max-age=").filter(|_| !max_age_seen) {
                // (an empty `max-age=` is the first occurrence too: no lifetime)
                max_age_seen = true;
                d.max_age = v;
            } else if let Some(v) =
                delta_seconds(m, "stale-while-revalidate=").filter(|_| !swr_seen)
            {
                // read as `max-age` is: Chromium's `GetStaleWhileRevalidateValue` goes
                // through the same `GetCacheControlDirective`
                swr_seen = true;
                d.swr = v;
            }
        }
    }
    for line in resp.headers.get_all("pragma") {
        if split_list(line).any(|m| m.eq_ignore_ascii_case("no-cache")) {
            d.no_cache = true;
        }
    }
    d
}

/// The directive `m` read as `name` (which ends in `=`, any case) and delta-seconds:
/// `None` when `m` is another directive, `Some(None)` when its value is not digits (no
/// value, as Chromium reads it; `max-age="300"` included), a value too large for `u64`
/// as `u64::MAX`.
fn delta_seconds(m: &str, name: &str) -> Option<Option<u64>> {
    if !m.get(..name.len())?.eq_ignore_ascii_case(name) {
        return None;
    }
    let v = m.get(name.len()..).unwrap_or_default();
    let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    Some(digits.then(|| v.parse().unwrap_or(u64::MAX)))
}

/// RFC 9111 §4.2.1: the freshness lifetime the browser gives `resp` (see the module
/// notes for Chromium's reading).
fn lifetime_secs(resp: &Response, d: &Directives) -> u64 {
    // (a `no-store` response is never stored, see [`HttpCache::store`])
    if d.no_cache {
        return 0;
    }
    if let Some(ma) = d.max_age {
        return ma;
    }
    let date = resp.headers.get("date").and_then(super::date::parse);
    // RFC 9111 §5.3 reads an invalid `Expires` as "already expired". Chromium does so
    // only for the literal `0`; any other value it cannot read as a date is ignored, and
    // the heuristic and status rules below apply (measured: case u03, a 301 with
    // `Expires: never` was reused, one with `Expires: 0` was not).
    if let Some(exp) = resp.headers.get("expires") {
        let exp = exp.trim_matches(|c| c == ' ' || c == '\t');
        if exp == "0" {
            return 0;
        }
        if let Some(e) = super::date::parse(exp) {
            return match date {
                Some(d) => e.secs().saturating_sub(d.secs()),
                None => 0,
            };
        }
    }
    if matches!(resp.status, 200 | 203 | 206) && !d.must_revalidate {
        if let (Some(lm), Some(d)) = (
            resp.headers
                .get("last-modified")
                .and_then(super::date::parse),
            date,
        ) {
            if lm <= d {
                return (d.secs() - lm.secs()) / 10;
            }
        }
    }
    if matches!(resp.status, 300 | 301 | 308 | 410) {
        return u64::MAX;
    }
    0
}

/// The conditional fields that validate `stored` (Chromium's `ConditionalizeRequest`:
/// a stored 200 only; `If-Modified-Since` only when the request matched its `Vary`, an
/// `ETag` identifying the representation either way). Empty: refetch it whole.
fn validators(stored: &Response, vary_ok: bool) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if stored.status != 200 {
        return out;
    }
    if let Some(etag) = stored.headers.get("etag").map(str::trim) {
        if !etag.is_empty() {
            out.push(("if-none-match", etag.to_string()));
        }
    }
    if vary_ok {
        if let Some(lm) = stored.headers.get("last-modified").map(str::trim) {
            if Timestamp::parse_http_date(lm).is_some() {
                out.push(("if-modified-since", lm.to_string()));
            }
        }
    }
    out
}

/// RFC 5861 §3: how long after its lifetime `resp` may be served stale while it is
/// revalidated. Chromium's `GetFreshnessLifetimes` gives no such time to a response that
/// is never fresh (`no-cache`, `no-store`, `Pragma: no-cache`) and none with
/// `must-revalidate` (measured: case y52).
fn swr_secs(d: &Directives) -> u64 {
    if d.no_cache || d.no_store || d.must_revalidate {
        return 0;
    }
    d.swr.unwrap_or(0)
}

/// RFC 9111 §4.2.3: the age a response has when it arrives at `now`: the larger of its
/// `Age` and its apparent age (`now` − `Date`: an edge hit keeps the `Date` the origin
/// gave it, so a copy that waited at the edge arrives old even without `Age`), as
/// Chromium's `HttpResponseHeaders::GetCurrentAge` computes it (measured: case y38).
fn initial_age_ms(now: Timestamp, resp: &Response) -> u64 {
    let apparent = resp
        .headers
        .get("date")
        .and_then(super::date::parse)
        .map_or(0, |d| now.ms_since(d));
    age_header(resp).saturating_mul(1000).max(apparent)
}

/// The `Age` field as Chromium's `GetAgeValue` reads it: the first member of the list
/// (`Age: 400, 100` is 400, where RFC 9111 §5.1 would ignore the invalid field), digits
/// only (`+400`, `-100`, `abc` count as no `Age`), and a value too large to hold as
/// very old (RFC 9111 §1.2.2). Measured in cases `x12` and `x35`.
fn age_header(resp: &Response) -> u64 {
    let Some(first) = resp.headers.get("age").and_then(|a| split_list(a).next()) else {
        return 0;
    };
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    first.parse::<u64>().unwrap_or(u64::MAX)
}

/// Whether the request itself rules out a stored answer: RFC 9111 §5.2.1.4 request
/// `Cache-Control: no-cache` (or `Pragma: no-cache`, §5.4) must be revalidated — the
/// model refetches, as Chromium (`LOAD_BYPASS_CACHE`; measured: a page's
/// `Cache-Control: no-cache` went to the network; `max-age=0` is [`validates`]) — and
/// Fetch §4.5 step 8.21 turns a request carrying a conditional header (`If-None-Match`,
/// `If-Modified-Since`, …) into cache mode "no-store". A request `Cache-Control:
/// no-store` is not among them: Chromium's cache looks only for `no-cache` and
/// `max-age=0` there, and answered such a fetch from a fresh entry, and stored the answer
/// to one (measured: case x52; RFC 9111 §5.2.1.5 forbids only the storing).
///
/// Chromium finds `no-cache` the way `HttpCache::Transaction`'s `HeaderMatches` does:
/// one comma-separated member of the field equal to `no-cache` in any case, nothing
/// else. So `Pragma: x-no-cache` and a qualified `no-cache="set-cookie"` leave the
/// stored answer in use, while `Pragma: No-Cache` and `private, NO-CACHE` refetch
/// (measured: case u02).
fn bypasses(req: &Request) -> bool {
    has_member(req, "cache-control", "no-cache")
        || has_member(req, "pragma", "no-cache")
        || conditional(req)
}

/// RFC 9111 §5.2.1.1: a request `Cache-Control: max-age=0` takes no stored response
/// without validating it. Chromium (`LOAD_VALIDATE_CACHE`) sends it with the stored
/// entry's validators and serves the entry on a 304, and refetches only an entry
/// without validators (measured: case x53, where the 304 handed the second page the stored answer
/// naming the other page). Chromium looks for a member spelled `max-age=0` (any case)
/// and does not read the directive's value: `max-age=5, max-age=0` validates (where the
/// first `max-age` would count in a response), `max-age=00` does not (measured: u01).
fn validates(req: &Request) -> bool {
    has_member(req, "cache-control", "max-age=0")
}

/// The value of a `Vary`-nominated field in a request, as Chromium's `HttpVaryData`
/// compares it: the field lines combined, and a field the request does not have read
/// as an empty value. RFC 9111 §4.1 lets a cache treat a missing field and an empty one
/// as not matching, but Chromium does not tell them apart: an entry stored for a fetch
/// without `x-v` answered one with `x-v: ""`, and the other way round (measured: u11).
fn vary_value(req: &Request, name: &str) -> String {
    req.headers.get_combined(name).unwrap_or_default()
}

/// Whether a field line `name` of the request has a list member equal to `member`,
/// ASCII case-insensitively (members trimmed of spaces and tabs, empty ones skipped).
fn has_member(req: &Request, name: &str, member: &str) -> bool {
    req.headers
        .get_all(name)
        .any(|line| split_list(line).any(|m| m.eq_ignore_ascii_case(member)))
}

/// RFC 9111 §3.3 and §3.4: a stored `206` holds only part of the representation; a
/// cache may combine it with other parts or use it for a range it covers, but it is
/// never the answer, as it stands, to a request for the whole thing (no `Range`).
/// Validating it would not help either: a `304` would hand the page the partial body.
/// Chromium 156 sent the repeated plain `GET` to the network (case w06-206-to-plain-get).
/// A request that does carry `Range` is left to the other rules (cases z42, d88, z04).
fn partial_for_full(stored: &Response, req: &Request) -> bool {
    stored.status == 206 && !req.headers.contains("range")
}

fn conditional(req: &Request) -> bool {
    crate::edge::validate::CONDITIONAL_FIELDS
        .iter()
        .any(|h| req.headers.contains(h))
}

impl HttpCache {
    /// An empty cache.
    pub fn new() -> HttpCache {
        HttpCache::default()
    }

    /// Number of stored responses.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// RFC 9111 §4: a stored response that may answer `req` (to `url`, in `partition`) at
    /// `now` without contacting the network: same key, `Vary` fields match (§4.1), fresh
    /// (§4.2), and not `no-cache`.
    pub fn lookup(
        &self,
        now: Timestamp,
        partition: &str,
        url: &str,
        req: &Request,
    ) -> Option<Served> {
        match self.consult(now, partition, url, req) {
            Lookup::Fresh(s) => Some(s),
            Lookup::Miss | Lookup::Revalidate(_) | Lookup::Stale(_) => None,
        }
    }

    /// What the cache does with `req` (to `url`, in `partition`) at `now`: answer it from
    /// a fresh stored response, send it with conditional fields to validate a stored one
    /// (§4.3.1), or send it as it is; or answer it from a stale response within its
    /// `stale-while-revalidate` window ([`Lookup::Stale`]).
    pub fn consult(&self, now: Timestamp, partition: &str, url: &str, req: &Request) -> Lookup {
        self.consult_with(now, partition, url, req, true)
    }

    /// [`HttpCache::consult`] for the background revalidation a [`Lookup::Stale`] asks
    /// for: the stale entry is validated (or refetched), not served again.
    pub fn consult_revalidating(
        &self,
        now: Timestamp,
        partition: &str,
        url: &str,
        req: &Request,
    ) -> Lookup {
        self.consult_with(now, partition, url, req, false)
    }

    fn consult_with(
        &self,
        now: Timestamp,
        partition: &str,
        url: &str,
        req: &Request,
        allow_stale: bool,
    ) -> Lookup {
        // A HEAD is answered from the stored GET (measured: no request went out).
        if !matches!(req.method.as_str(), "GET" | "HEAD") || bypasses(req) {
            return Lookup::Miss;
        }
        let Some(e) = self
            .entries
            .iter()
            .find(|e| e.partition == partition && e.url == url)
        else {
            return Lookup::Miss;
        };
        if e.vary_star || partial_for_full(&e.response, req) {
            return Lookup::Miss;
        }
        let vary_ok = e.vary.iter().all(|(name, v)| vary_value(req, name) == *v);
        let age_ms = e.initial_age_ms.saturating_add(now.ms_since(e.stored_at));
        let served = || Served {
            response: e.response.clone(),
            stored_by: e.stored_by,
            age_secs: age_ms / 1000,
        };
        let usable = vary_ok && !e.no_cache && !validates(req);
        let fresh_ms = e.lifetime_secs.saturating_mul(1000);
        if usable && fresh_ms > age_ms {
            return Lookup::Fresh(served());
        }
        // Chromium's `RequiresValidation`: VALIDATION_ASYNCHRONOUS while the age is below
        // lifetime + staleness, for a GET only (HttpCache::Transaction)
        // (a stored redirect is left on the synchronous path: not measured)
        if allow_stale
            && usable
            && req.method == "GET"
            && !matches!(e.response.status, 301 | 302 | 303 | 307 | 308)
            && fresh_ms.saturating_add(e.swr_secs.saturating_mul(1000)) > age_ms
        {
            return Lookup::Stale(served());
        }
        let fields = validators(&e.response, vary_ok);
        if fields.is_empty() {
            return Lookup::Miss;
        }
        Lookup::Revalidate(Revalidation {
            stored: e.response.clone(),
            stored_by: e.stored_by,
            fields,
        })
    }

    /// RFC 9111 §3: stores the response to `req` when a private cache may, replacing the
    /// entry with the same key; returns whether it stored. RFC 9111 §4.4: a non-error
    /// response to an unsafe method invalidates the key instead.
    pub fn store(
        &mut self,
        now: Timestamp,
        partition: &str,
        url: &str,
        req: &Request,
        resp: &Arc<Response>,
        stored_by: u64,
    ) -> bool {
        // (a body-less PUT, the only kind a scenario sends, leaves the cache alone; a
        // POST, DELETE or PATCH answered 405 leaves it too: cases x22, x34)
        let invalidates = !matches!(
            req.method.as_str(),
            "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT"
        );
        if invalidates && (200..400).contains(&resp.status) {
            self.entries
                .retain(|e| !(e.partition == partition && e.url == url));
            return false;
        }
        if req.method != "GET" {
            return false;
        }
        self.put(now, partition, url, req, resp, stored_by)
    }

    /// The stored response a `304` freshened (RFC 9111 §4.3.4), after the validating
    /// `GET` or `HEAD` (§4.3.5: measured, Chromium's stored GET was fresh again after a
    /// HEAD's 304, case x56); returns whether it stored.
    pub fn store_freshened(
        &mut self,
        now: Timestamp,
        partition: &str,
        url: &str,
        req: &Request,
        fresh: &Arc<Response>,
        stored_by: u64,
    ) -> bool {
        if !matches!(req.method.as_str(), "GET" | "HEAD") {
            return false;
        }
        self.put(now, partition, url, req, fresh, stored_by)
    }

    /// Stores `resp`, the answer to `req`, under (partition, URL) unless it may not be.
    fn put(
        &mut self,
        now: Timestamp,
        partition: &str,
        url: &str,
        req: &Request,
        resp: &Arc<Response>,
        stored_by: u64,
    ) -> bool {
        if resp.status < 200 || conditional(req) {
            return false;
        }
        let d = directives(resp);
        // (a request `Cache-Control: no-store` does not stop it: see [`bypasses`])
        if d.no_store {
            return false;
        }
        let vary_names: Vec<String> = resp
            .headers
            .list("vary")
            .into_iter()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        let entry = Entry {
            partition: partition.to_string(),
            url: url.to_string(),
            vary_star: vary_names.iter().any(|n| n == "*"),
            vary: vary_names
                .into_iter()
                .filter(|n| n != "*")
                .map(|n| {
                    let v = vary_value(req, &n);
                    (n, v)
                })
                .collect(),
            response: resp.clone(),
            stored_at: now,
            lifetime_secs: lifetime_secs(resp, &d),
            initial_age_ms: initial_age_ms(now, resp),
            swr_secs: swr_secs(&d),
            no_cache: d.no_cache,
            stored_by,
        };
        self.entries
            .retain(|e| !(e.partition == partition && e.url == url));
        self.entries.push(entry);
        true
    }

    /// A network answer to `req` that leaves no entry: Chromium's CORS check fails on
    /// the response head and the load is cancelled before the body is read, so the
    /// entry the cache was writing for a `GET` is dropped, and with it the one it
    /// replaced (measured: cases x32 and x33; a redirect, complete with its head, is
    /// kept, x37). A `HEAD` that went to the network (the stored GET did not match or
    /// was stale) cannot write an entry either, and the stored GET it passed over is
    /// gone (measured: case x54). Other methods go through [`HttpCache::store`] (an
    /// unsafe method's invalidation does not depend on the page).
    pub fn store_unread(
        &mut self,
        now: Timestamp,
        partition: &str,
        url: &str,
        req: &Request,
        resp: &Arc<Response>,
        stored_by: u64,
    ) {
        if !matches!(req.method.as_str(), "GET" | "HEAD") {
            self.store(now, partition, url, req, resp, stored_by);
        } else if !conditional(req) {
            self.entries
                .retain(|e| !(e.partition == partition && e.url == url));
        }
    }

    /// Empties the cache.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Headers helper for tests and callers: a request as the cache sees it.
pub fn request(method: &str, headers: Headers) -> Request {
    Request {
        method: method.to_string(),
        scheme: String::new(),
        host: String::new(),
        target: String::new(),
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SIM_EPOCH;

    fn resp(status: u16, pairs: &[(&str, &str)]) -> Arc<Response> {
        Arc::new(Response::new(
            status,
            Headers::from_pairs(pairs.iter().copied()),
        ))
    }

    const U: &str = "http://127.0.0.1:9/x";

    #[test]
    fn partitions_by_site() {
        let a = partition("http://127.0.0.1:1");
        assert_eq!(a, partition("http://127.0.0.1:3"));
        assert_ne!(a, partition("http://localhost:2"));
        assert_eq!(
            partition("https://app1.example.com"),
            partition("https://app2.example.com")
        );
    }

    #[test]
    fn fresh_reuse_then_expiry() {
        let mut c = HttpCache::new();
        let p = partition("http://127.0.0.1:1");
        let get = request("GET", Headers::new());
        assert!(c.store(
            SIM_EPOCH,
            &p,
            U,
            &get,
            &resp(200, &[("cache-control", "max-age=60")]),
            3
        ));
        let s = c
            .lookup(SIM_EPOCH.plus_secs(59), &p, U, &get)
            .map(|s| s.stored_by);
        assert_eq!(s, Some(3));
        assert!(c.lookup(SIM_EPOCH.plus_secs(60), &p, U, &get).is_none());
        assert!(c
            .lookup(SIM_EPOCH, &partition("http://localhost:2"), U, &get)
            .is_none());
    }

    #[test]
    fn age_header_counts() {
        let mut c = HttpCache::new();
        let p = partition("http://a.example");
        let get = request("GET", Headers::new());
        c.store(
            SIM_EPOCH,
            &p,
            U,
            &get,
            &resp(200, &[("cache-control", "max-age=60"), ("age", "50")]),
            0,
        );
        assert!(c.lookup(SIM_EPOCH.plus_secs(9), &p, U, &get).is_some());
        assert!(c.lookup(SIM_EPOCH.plus_secs(10), &p, U, &get).is_none());
    }

    #[test]
    fn not_stored_or_not_reused() {
        let mut c = HttpCache::new();
        let p = partition("http://a.example");
        let get = request("GET", Headers::new());
        assert!(!c.store(
            SIM_EPOCH,
            &p,
            U,
            &get,
            &resp(200, &[("cache-control", "no-store")]),
            0
        ));
        c.store(
            SIM_EPOCH,
            &p,
            U,
            &get,
            &resp(200, &[("cache-control", "s-maxage=300")]),
            0,
        );
        assert!(
            c.lookup(SIM_EPOCH, &p, U, &get).is_none(),
            "s-maxage is for shared caches"
        );
        c.store(
            SIM_EPOCH,
            &p,
            U,
            &get,
            &resp(200, &[("cache-control", "no-cache, max-age=60")]),
            0,
        );
        assert!(c.lookup(SIM_EPOCH, &p, U, &get).is_none());
        c.store(
            SIM_EPOCH,
            &p,
            U,
            &get,
            &resp(200, &[("cache-control", "private, max-age=60")]),
            0,
        );
        assert!(c.lookup(SIM_EPOCH, &p, U, &get).is_some());
    }

    #[test]
    fn permanent_redirect_is_fresh_forever() {
        let mut c = HttpCache::new();
        let p = partition("http://a.example");
        let get = request("GET", Headers::new());
        c.store(SIM_EPOCH, &p, U, &get, &resp(301, &[("location", "/y")]), 0);
        assert!(c
            .lookup(SIM_EPOCH.plus_secs(86_400 * 365), &p, U, &get)
            .is_some());
        c.store(SIM_EPOCH, &p, U, &get, &resp(302, &[("location", "/y")]), 0);
        assert!(c.lookup(SIM_EPOCH, &p, U, &get).is_none());
    }

    #[test]
    fn vary_mismatch_misses_and_one_entry_per_key() {
        let mut c = HttpCache::new();
        let p = partition("http://a.example");
        let r1 = request("GET", Headers::from_pairs([("origin", "http://a.example")]));
        let r2 = request(
            "GET",
            Headers::from_pairs([("origin", "http://b.a.example")]),
        );
        let v = resp(200, &[("cache-control", "max-age=60"), ("vary", "Origin")]);
        c.store(SIM_EPOCH, &p, U, &r1, &v, 1);
        assert!(c.lookup(SIM_EPOCH, &p, U, &r1).is_some());
        assert!(c.lookup(SIM_EPOCH, &p, U, &r2).is_none());
        c.store(SIM_EPOCH, &p, U, &r2, &v, 2);
        assert_eq!(c.len(), 1);
        assert!(c.lookup(SIM_EPOCH, &p, U, &r1).is_none());
        let none = request("GET", Headers::new());
        c.store(
            SIM_EPOCH,
            &p,
            U,
            &none,
            &resp(200, &[("cache-control", "max-age=60")]),
            3,
        );
        assert!(
            c.lookup(SIM_EPOCH, &p, U, &r1).is_some(),
            "no Vary: any request matches"
        );
    }

    /// Chromium's `HttpVaryData` reads a missing field as an empty value, and compares
    /// values as sent (measured: case u11).
    #[test]
    fn vary_missing_field_is_an_empty_value() {
        let mut c = HttpCache::new();
        let p = partition("http://a.example");
        let v = resp(200, &[("cache-control", "max-age=60"), ("vary", "x-v")]);
        let with = |value: &str| request("GET", Headers::from_pairs([("x-v", value)]));
        let without = request("GET", Headers::new());
        c.store(SIM_EPOCH, &p, U, &without, &v, 1);
        assert!(c.lookup(SIM_EPOCH, &p, U, &with("")).is_some());
        assert!(c.lookup(SIM_EPOCH, &p, U, &with("a")).is_none());
        c.store(SIM_EPOCH, &p, U, &with(""), &v, 2);
        assert!(c.lookup(SIM_EPOCH, &p, U, &without).is_some());
        c.store(SIM_EPOCH, &p, U, &with("a,b"), &v, 3);
        assert!(c.lookup(SIM_EPOCH, &p, U, &with("a,b")).is_some());
        assert!(c.lookup(SIM_EPOCH, &p, U, &with("a, b")).is_none());
        assert!(c.lookup(SIM_EPOCH, &p, U, &without).is_none());
    }

    #[test]
    fn head_uses_the_get_entry_and_request_no_cache_bypasses() {
        let mut c = HttpCache::new();
        let p = partition("http://a.example");
        let get = request("GET", Headers::new());
        c.store(
            SIM_EPOCH,
            &p,
            U,
            &get,
            &resp(200, &[("cache-control", "max-age=60")]),
            0,
        );
        assert!(c
            .lookup(SIM_EPOCH, &p, U, &request("HEAD", Headers::new()))
            .is_some());
        let nc = request("GET", Headers::from_pairs([("cache-control", "no-cache")]));
        assert!(c.lookup(SIM_EPOCH, &p, U, &nc).is_none());
        let inm = request("GET", Headers::from_pairs([("if-none-match", "\"x\"")]));
        assert!(c.lookup(SIM_EPOCH, &p, U, &inm).is_none());
        assert!(c
            .lookup(SIM_EPOCH, &p, U, &request("PUT", Headers::new()))
            .is_none());
        // case x53: a request `max-age=0` validates a fresh entry that has a validator
        // and refetches one that has none
        let ma0 = request("GET", Headers::from_pairs([("cache-control", "max-age=0")]));
        assert!(matches!(c.consult(SIM_EPOCH, &p, U, &ma0), Lookup::Miss));
        c.store(
            SIM_EPOCH,
            &p,
            U,
            &get,
            &resp(200, &[("cache-control", "max-age=60"), ("etag", "\"v\"")]),
            0,
        );
        match c.consult(SIM_EPOCH, &p, U, &ma0) {
            Lookup::Revalidate(r) => {
                assert_eq!(r.fields, vec![("if-none-match", "\"v\"".to_string())]);
            }
            other => panic!("expected a revalidation, got {other:?}"),
        }
        // case x52: a request `no-store` neither bypasses nor stops storing
        let ns = request("GET", Headers::from_pairs([("cache-control", "no-store")]));
        assert!(c.lookup(SIM_EPOCH, &p, U, &ns).is_some());
        c.clear();
        assert!(c.store(
            SIM_EPOCH,
            &p,
            U,
            &ns,
            &resp(200, &[("cache-control", "max-age=60")]),
            1
        ));
    }

    #[test]
    fn unsafe_method_invalidates() {
        let mut c = HttpCache::new();
        let p = partition("http://a.example");
        let get = request("GET", Headers::new());
        c.store(
            SIM_EPOCH,
            &p,
            U,
            &get,
            &resp(200, &[("cache-control", "max-age=60")]),
            0,
        );
        assert!(!c.store(
            SIM_EPOCH,
            &p,
            U,
            &request("POST", Headers::new()),
            &resp(200, &[]),
            1
        ));
        assert!(c.is_empty());
    }

    fn fresh_after(c: &mut HttpCache, r: Arc<Response>, secs: u64) -> bool {
        let p = partition("http://a.example");
        let get = request("GET", Headers::new());
        c.clear();
        c.store(SIM_EPOCH, &p, U, &get, &r, 0);
        c.lookup(SIM_EPOCH.plus_secs(secs), &p, U, &get).is_some()
    }

    /// An `Expires` that is not a date is ignored, not "already expired", except the
    /// literal `0` (Chromium; measured: case u03).
    #[test]
    fn unreadable_expires_is_ignored_but_zero_expires() {
        let mut c = HttpCache::new();
        let date = ("date", "Mon, 01 Jan 2024 00:00:00 GMT");
        let lm = ("last-modified", "Mon, 01 Jan 2001 00:00:00 GMT");
        // a 301 stays fresh forever, a 200 gets the Last-Modified heuristic
        assert!(fresh_after(
            &mut c,
            resp(301, &[date, ("expires", "never")]),
            86_400
        ));
        assert!(fresh_after(
            &mut c,
            resp(200, &[date, lm, ("expires", "never")]),
            86_400
        ));
        assert!(!fresh_after(
            &mut c,
            resp(200, &[date, ("expires", "never")]),
            0
        ));
        // `0` is expired, for a 301 too
        assert!(!fresh_after(
            &mut c,
            resp(301, &[date, ("expires", "0")]),
            0
        ));
        assert!(!fresh_after(
            &mut c,
            resp(200, &[date, lm, ("expires", " 0")]),
            0
        ));
        // a past date is expired, whatever the status
        let past = ("expires", "Thu, 01 Jan 1998 00:00:00 GMT");
        assert!(!fresh_after(&mut c, resp(301, &[date, past]), 0));
    }

    /// A request's `no-cache` and `max-age=0` count only as whole list members, any
    /// case, as Chromium's `HeaderMatches` finds them (measured: cases u01, u02).
    #[test]
    fn request_directives_are_whole_members() {
        let mut c = HttpCache::new();
        let p = partition("http://a.example");
        let get = request("GET", Headers::new());
        c.store(
            SIM_EPOCH,
            &p,
            U,
            &get,
            &resp(200, &[("cache-control", "max-age=60")]),
            0,
        );
        let with = |name: &str, value: &str| request("GET", Headers::from_pairs([(name, value)]));
        let served = |c: &HttpCache, r: &Request| c.lookup(SIM_EPOCH, &p, U, r).is_some();
        for (name, value) in [
            ("pragma", "x-no-cache"),
            ("pragma", "no-cache-x"),
            ("cache-control", "no-cache=\"set-cookie\""),
            ("cache-control", "max-age=00"),
            ("cache-control", "max-age=1"),
            ("cache-control", "no-store"),
        ] {
            assert!(served(&c, &with(name, value)), "{name}: {value}");
        }
        for (name, value) in [
            ("pragma", "No-Cache"),
            ("pragma", "x, no-cache"),
            ("cache-control", "private, NO-CACHE"),
            ("cache-control", "max-age=5, max-age=0"),
            ("cache-control", "MAX-AGE=0"),
            ("cache-control", " max-age=0 "),
        ] {
            assert!(!served(&c, &with(name, value)), "{name}: {value}");
        }
    }

    /// Chromium's reading of the fields (each measured in tests/chromium/cases/direct
    /// z20, z21, z32, z33, z40).
    #[test]
    fn freshness_as_chromium_reads_it() {
        let mut c = HttpCache::new();
        let cc = |v: &str| resp(200, &[("cache-control", v)]);
        // Pragma: no-cache in a response is a no-cache
        assert!(!fresh_after(
            &mut c,
            resp(
                200,
                &[("cache-control", "max-age=300"), ("pragma", "no-cache")]
            ),
            1
        ));
        assert!(fresh_after(
            &mut c,
            resp(200, &[("cache-control", "max-age=300"), ("pragma", "x")]),
            1
        ));
        // a qualified no-cache is not a bare one; directive names in any case
        assert!(fresh_after(
            &mut c,
            cc("max-age=300, no-cache=\"set-cookie\""),
            1
        ));
        assert!(fresh_after(&mut c, cc("PRIVATE, MAX-AGE=300"), 299));
        // the first max-age, and only as digits
        assert!(fresh_after(&mut c, cc("max-age=300, max-age=0"), 1));
        assert!(!fresh_after(&mut c, cc("max-age=0, max-age=300"), 1));
        assert!(!fresh_after(&mut c, cc("max-age=\"300\""), 1));
        assert!(!fresh_after(&mut c, cc("max-age=\"300\", max-age=300"), 1));
        assert!(fresh_after(&mut c, cc("max-age=0300"), 299));
        assert!(!fresh_after(&mut c, cc("max-age=, max-age=300"), 1));
        assert!(fresh_after(&mut c, cc("max-ages=1, max-age=300"), 1));
        // the Last-Modified heuristic: 200, 203, 206, not with must-revalidate
        let lm = |status: u16, extra: (&str, &str)| {
            resp(
                status,
                &[
                    ("date", "Mon, 01 Jan 2024 00:00:00 GMT"),
                    ("last-modified", "Mon, 01 Jan 2001 00:00:00 GMT"),
                    extra,
                ],
            )
        };
        assert!(fresh_after(&mut c, lm(200, ("x", "1")), 86_400));
        assert!(fresh_after(&mut c, lm(203, ("x", "1")), 86_400));
        assert!(!fresh_after(&mut c, lm(404, ("x", "1")), 1));
        assert!(!fresh_after(&mut c, lm(204, ("x", "1")), 1));
        assert!(!fresh_after(
            &mut c,
            lm(200, ("cache-control", "must-revalidate")),
            1
        ));
        // implicitly fresh forever
        for status in [300, 301, 308, 410] {
            assert!(
                fresh_after(&mut c, resp(status, &[]), 86_400 * 365),
                "{status}"
            );
        }
        for status in [200, 302, 404] {
            assert!(!fresh_after(&mut c, resp(status, &[]), 0), "{status}");
        }
    }

    #[test]
    fn stale_or_mismatched_entries_with_a_validator_are_revalidated() {
        let mut c = HttpCache::new();
        let p = partition("http://a.example");
        let from = |o: &str| request("GET", Headers::from_pairs([("origin", o)]));
        let (a, b) = (from("http://a.example"), from("http://b.a.example"));
        let lm = "Mon, 01 Jan 2001 00:00:00 GMT";
        let both = resp(
            200,
            &[
                ("cache-control", "max-age=60"),
                ("etag", "\"v1\""),
                ("last-modified", lm),
                ("vary", "Origin"),
            ],
        );
        c.store(SIM_EPOCH, &p, U, &a, &both, 4);
        let fields = |l: Lookup| match l {
            Lookup::Revalidate(r) => {
                assert_eq!(r.stored_by, 4);
                Some(r.fields)
            }
            Lookup::Fresh(_) | Lookup::Stale(_) => None,
            Lookup::Miss => Some(Vec::new()),
        };
        assert_eq!(fields(c.consult(SIM_EPOCH, &p, U, &a)), None, "fresh");
        // stale: both validators
        assert_eq!(
            fields(c.consult(SIM_EPOCH.plus_secs(60), &p, U, &a)),
            Some(vec![
                ("if-none-match", "\"v1\"".to_string()),
                ("if-modified-since", lm.to_string())
            ])
        );
        // Vary does not match: the tag only
        assert_eq!(
            fields(c.consult(SIM_EPOCH, &p, U, &b)),
            Some(vec![("if-none-match", "\"v1\"".to_string())])
        );
        // Last-Modified only and Vary mismatched: refetched whole
        let lm_only = resp(
            200,
            &[
                ("cache-control", "max-age=60"),
                ("last-modified", lm),
                ("vary", "Origin"),
            ],
        );
        c.store(SIM_EPOCH, &p, U, &a, &lm_only, 5);
        assert!(matches!(c.consult(SIM_EPOCH, &p, U, &b), Lookup::Miss));
        // no-cache: revalidated even when fresh
        let nc = resp(
            200,
            &[("cache-control", "no-cache, max-age=60"), ("etag", "\"n\"")],
        );
        c.store(SIM_EPOCH, &p, U, &a, &nc, 6);
        assert!(matches!(
            c.consult(SIM_EPOCH, &p, U, &a),
            Lookup::Revalidate(_)
        ));
        assert!(c.lookup(SIM_EPOCH, &p, U, &a).is_none());
        // only a stored 200; never for a request that bypasses the cache
        let gone = resp(404, &[("etag", "\"g\"")]);
        c.store(SIM_EPOCH, &p, U, &a, &gone, 7);
        assert!(matches!(c.consult(SIM_EPOCH, &p, U, &a), Lookup::Miss));
        c.store(SIM_EPOCH, &p, U, &a, &nc, 8);
        let bypass = request("GET", Headers::from_pairs([("cache-control", "no-cache")]));
        assert!(matches!(c.consult(SIM_EPOCH, &p, U, &bypass), Lookup::Miss));
    }

    /// Cases x32/x33: an unread GET answer drops the entry; x22/x34: an unsafe method
    /// answered 405 leaves it, a 200 DELETE still evicts however the page fared.
    #[test]
    fn an_unread_answer_drops_the_entry() {
        let mut c = HttpCache::new();
        let p = partition("http://a.example");
        let get = request("GET", Headers::new());
        let stored = resp(200, &[("cache-control", "max-age=60")]);
        c.store(SIM_EPOCH, &p, U, &get, &stored, 0);
        c.store_unread(SIM_EPOCH, &p, U, &get, &stored, 1);
        assert!(c.is_empty());
        // case x54: a HEAD that went out leaves no entry either
        c.store(SIM_EPOCH, &p, U, &get, &stored, 0);
        c.store_unread(
            SIM_EPOCH,
            &p,
            U,
            &request("HEAD", Headers::new()),
            &stored,
            1,
        );
        assert!(c.is_empty());
        // a page-conditional GET never touched the cache
        c.store(SIM_EPOCH, &p, U, &get, &stored, 0);
        let cond = request("GET", Headers::from_pairs([("if-none-match", "\"x\"")]));
        c.store_unread(SIM_EPOCH, &p, U, &cond, &stored, 1);
        assert_eq!(c.len(), 1);
        for (method, status, evicts) in [
            ("POST", 405, false),
            ("DELETE", 405, false),
            ("DELETE", 200, true),
        ] {
            c.store(SIM_EPOCH, &p, U, &get, &stored, 0);
            c.store_unread(
                SIM_EPOCH,
                &p,
                U,
                &request(method, Headers::new()),
                &resp(status, &[]),
                1,
            );
            assert_eq!(c.is_empty(), evicts, "{method} {status}");
        }
    }

    /// Case x56: a HEAD's 304 freshens the stored GET; `store` itself keeps no HEAD.
    #[test]
    fn a_head_304_freshens_the_stored_get() {
        let mut c = HttpCache::new();
        let p = partition("http://a.example");
        let head = request("HEAD", Headers::new());
        let r = resp(200, &[("cache-control", "max-age=2"), ("etag", "\"v\"")]);
        assert!(!c.store(SIM_EPOCH, &p, U, &head, &r, 0));
        assert!(c.store_freshened(SIM_EPOCH, &p, U, &head, &r, 1));
        let get = request("GET", Headers::new());
        let s = c.lookup(SIM_EPOCH.plus_secs(1), &p, U, &get);
        assert_eq!(s.map(|s| s.stored_by), Some(1));
        assert!(!c.store_freshened(SIM_EPOCH, &p, U, &request("PUT", Headers::new()), &r, 2));
    }

    /// Cases x12, x35: Age as Chromium's GetAgeValue reads it.
    #[test]
    fn age_is_the_first_member_in_digits() {
        for (age, fresh) in [
            ("abc", true),
            ("-100", true),
            ("+400", true),
            ("100, 400", true),
            ("400, 100", false),
            ("4294967296", false),
            ("99999999999999999999999", false),
        ] {
            let r = resp(200, &[("cache-control", "max-age=300"), ("age", age)]);
            assert_eq!(fresh_after(&mut HttpCache::new(), r, 0), fresh, "{age}");
        }
    }

    /// Cases x13, x36: Expires read leniently; `0` stays "already expired" (z22).
    #[test]
    fn expires_read_as_chromium_reads_it() {
        let date = ("date", "Thu, 01 Jan 2026 00:00:00 GMT");
        for (exp, fresh) in [
            ("Thu, 31 Dec 2099 23:59:59 UTC", true),
            ("2099-12-31T23:59:59Z", true),
            ("31 Dec 2099 23:59:59 GMT", true),
            ("0", false),
        ] {
            let r = resp(200, &[date, ("expires", exp)]);
            assert_eq!(fresh_after(&mut HttpCache::new(), r, 0), fresh, "{exp}");
        }
    }

    #[test]
    fn a_body_less_put_leaves_the_entry_and_delete_patch_evict_it() {
        let mut c = HttpCache::new();
        let p = partition("http://a.example");
        let get = request("GET", Headers::new());
        let stored = resp(200, &[("cache-control", "max-age=60")]);
        for (method, evicts) in [("PUT", false), ("DELETE", true), ("PATCH", true)] {
            c.store(SIM_EPOCH, &p, U, &get, &stored, 0);
            c.store(
                SIM_EPOCH,
                &p,
                U,
                &request(method, Headers::new()),
                &resp(200, &[]),
                1,
            );
            assert_eq!(c.is_empty(), evicts, "{method}");
        }
    }

    /// Cases y40–y42, y52: RFC 5861 §3 as Chromium's `RequiresValidation` reads it — a
    /// stale GET within `stale-while-revalidate` is answered (Stale), not past the
    /// window, not with `must-revalidate` or `no-cache`, not a HEAD, not when a
    /// request `max-age=0` validates, and never for the revalidation itself.
    #[test]
    fn delta_seconds_reads_one_directive() {
        assert_eq!(delta_seconds("max-age=60", "max-age="), Some(Some(60)));
        assert_eq!(delta_seconds("MAX-AGE=7", "max-age="), Some(Some(7)));
        assert_eq!(delta_seconds("max-age=", "max-age="), Some(None));
        assert_eq!(delta_seconds("max-age=\"60\"", "max-age="), Some(None));
        assert_eq!(delta_seconds("max-age=6 0", "max-age="), Some(None));
        assert_eq!(
            delta_seconds("max-age=99999999999999999999999", "max-age="),
            Some(Some(u64::MAX))
        );
        assert_eq!(delta_seconds("max-age", "max-age="), None);
        assert_eq!(delta_seconds("s-maxage=60", "max-age="), None);
        assert_eq!(delta_seconds("no-cache", "stale-while-revalidate="), None);
        assert_eq!(
            delta_seconds("stale-while-revalidate=30", "stale-while-revalidate="),
            Some(Some(30))
        );
    }

    #[test]
    fn stale_while_revalidate_window() {
        let p = partition("http://a.example");
        let get = request("GET", Headers::new());
        let kind = |cc: &str, secs: u64, req: &Request, revalidating: bool| {
            let mut c = HttpCache::new();
            c.store(
                SIM_EPOCH,
                &p,
                U,
                &get,
                &resp(200, &[("cache-control", cc)]),
                1,
            );
            let at = SIM_EPOCH.plus_secs(secs);
            let l = if revalidating {
                c.consult_revalidating(at, &p, U, req)
            } else {
                c.consult(at, &p, U, req)
            };
            match l {
                Lookup::Fresh(_) => "fresh",
                Lookup::Stale(s) => {
                    assert_eq!((s.stored_by, s.age_secs), (1, secs));
                    "stale"
                }
                Lookup::Revalidate(_) => "revalidate",
                Lookup::Miss => "miss",
            }
        };
        let swr = "max-age=2, stale-while-revalidate=60";
        assert_eq!(kind(swr, 1, &get, false), "fresh");
        assert_eq!(kind(swr, 3, &get, false), "stale");
        assert_eq!(kind(swr, 61, &get, false), "stale");
        assert_eq!(kind(swr, 62, &get, false), "miss");
        assert_eq!(kind(swr, 3, &get, true), "miss");
        assert_eq!(
            kind(
                "max-age=2, must-revalidate, stale-while-revalidate=60",
                3,
                &get,
                false
            ),
            "miss"
        );
        assert_eq!(
            kind("no-cache, stale-while-revalidate=60", 0, &get, false),
            "miss"
        );
        assert_eq!(
            kind("max-age=2, stale-while-revalidate=+60", 3, &get, false),
            "miss"
        );
        assert_eq!(
            kind(
                "max-age=2, STALE-WHILE-REVALIDATE=60, stale-while-revalidate=0",
                3,
                &get,
                false
            ),
            "stale"
        );
        let head = request("HEAD", Headers::new());
        assert_eq!(kind(swr, 3, &head, false), "miss");
        let validate = request("GET", Headers::from_pairs([("cache-control", "max-age=0")]));
        assert_eq!(kind(swr, 3, &validate, false), "miss");
    }

    /// A stored `206` never answers a request without `Range`, fresh or with a
    /// validator (case w06-206-to-plain-get); a `Range` request still finds it, and a
    /// stored `200` still answers both.
    #[test]
    fn a_stored_206_does_not_answer_a_plain_get() {
        let p = partition("http://127.0.0.1:1");
        let plain = request("GET", Headers::new());
        let ranged = request("GET", Headers::from_pairs([("range", "bytes=0-1")]));
        let partial = resp(
            206,
            &[
                ("cache-control", "private, max-age=300"),
                ("content-range", "bytes 0-1/10"),
                ("etag", "\"p\""),
            ],
        );
        let mut c = HttpCache::new();
        assert!(c.store(SIM_EPOCH, &p, U, &plain, &partial, 1));
        let later = SIM_EPOCH.plus_secs(1);
        assert!(matches!(c.consult(later, &p, U, &plain), Lookup::Miss));
        let head = request("HEAD", Headers::new());
        assert!(matches!(c.consult(later, &p, U, &head), Lookup::Miss));
        assert_eq!(
            c.lookup(later, &p, U, &ranged).map(|s| s.stored_by),
            Some(1)
        );
        // stale, with a validator: not validated for a plain GET either
        let stale = SIM_EPOCH.plus_secs(301);
        assert!(matches!(c.consult(stale, &p, U, &plain), Lookup::Miss));
        let full = resp(200, &[("cache-control", "private, max-age=300")]);
        assert!(c.store(SIM_EPOCH, &p, U, &plain, &full, 2));
        for req in [&plain, &ranged] {
            assert_eq!(c.lookup(later, &p, U, req).map(|s| s.stored_by), Some(2));
        }
    }
}
