//! Storability (RFC 9111 §3) and freshness (§4.2) of a response, under a profile's TTL
//! overrides. Pure: every instant is an argument.

use crate::edge::knobs::{
    AuthorizationRule, DeltaSeconds, HttpDate, Knobs, ResponsePragma, SurrogateControl,
};
use crate::fields::{split_list, CacheControl, Headers, DELTA_SECONDS_MAX};
use crate::message::{Request, Response};
use crate::time::Timestamp;
use serde::Serialize;

/// Why a response was not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoStore {
    /// The method is not cached by this profile (or a `HEAD` response, which cannot create
    /// an entry for `GET`).
    Method,
    /// The status code is not cacheable without explicit freshness.
    Status,
    /// `Cache-Control: no-store`.
    NoStoreDirective,
    /// `Cache-Control: private` (a shared cache, RFC 9111 §5.2.2.7).
    Private,
    /// The request had `Authorization` and the response did not allow sharing (§3.5).
    Authorization,
    /// `Vary: *` at a cache that does not store it.
    VaryStar,
    /// `Vary` beyond `Accept-Encoding` (Akamai).
    VaryBeyondAcceptEncoding,
    /// `Vary` outside the allowlist (Google Cloud CDN).
    VaryNotAllowlisted,
    /// `Vary` longer than the cache keeps (nginx).
    VaryTooLong,
    /// No explicit freshness and no default TTL.
    NoFreshness,
    /// The response has `Set-Cookie` and the profile does not store those.
    SetCookie,
    /// The response was not received whole.
    Incomplete,
}

impl NoStore {
    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            NoStore::Method => "method",
            NoStore::Status => "status",
            NoStore::NoStoreDirective => "no-store",
            NoStore::Private => "private",
            NoStore::Authorization => "authorization",
            NoStore::VaryStar => "vary-star",
            NoStore::VaryBeyondAcceptEncoding => "vary-beyond-accept-encoding",
            NoStore::VaryNotAllowlisted => "vary-not-allowlisted",
            NoStore::VaryTooLong => "vary-too-long",
            NoStore::NoFreshness => "no-freshness",
            NoStore::SetCookie => "set-cookie",
            NoStore::Incomplete => "incomplete",
        }
    }
}

/// How long a stored response stays fresh, and how old it already was when stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Freshness {
    /// Freshness lifetime in ms (0 = must revalidate on every use, e.g. `no-cache`).
    pub lifetime_ms: u64,
    /// Corrected initial age in ms (RFC 9111 §4.2.3).
    pub initial_age_ms: u64,
    /// Stale-while-revalidate window in ms: the directive's (RFC 5861 §3), or the
    /// cache's own grace (`Knobs::grace`); 0 when neither applies.
    pub swr_ms: u64,
    /// `stale-if-error` window in ms (RFC 5861 §4).
    pub sie_ms: u64,
    /// `must-revalidate`, `proxy-revalidate`, `no-cache` or `s-maxage` was present: a
    /// stale response must never be served without revalidation (RFC 9111 §5.2.2.2,
    /// §5.2.2.8, §5.2.2.10), not even when disconnected.
    pub must_revalidate: bool,
}

impl Freshness {
    /// Current age at `now` for an entry stored at `stored_at` (RFC 9111 §4.2.3:
    /// corrected initial age + resident time).
    pub fn age_ms(&self, stored_at: Timestamp, now: Timestamp) -> u64 {
        self.initial_age_ms + now.ms_since(stored_at)
    }

    /// Remaining freshness in ms at `now`; negative once stale.
    pub fn ttl_ms(&self, stored_at: Timestamp, now: Timestamp) -> i64 {
        self.lifetime_ms as i64 - self.age_ms(stored_at, now) as i64
    }
}

/// Status codes that are heuristically cacheable (RFC 9110 §15.1); others need explicit
/// freshness to be stored.
const HEURISTIC: [u16; 12] = [200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501];

/// The cache-control directives that govern this cache: the first targeted field the
/// profile obeys that is present and valid (RFC 9213 §2.1: "the cache ... MUST use the
/// first applicable field in the list ... and ignore the others", `Cache-Control`
/// included), else `Cache-Control`. The bool says whether a targeted field was used.
pub fn governing_directives(knobs: &Knobs, resp: &Response) -> (CacheControl, bool) {
    for name in &knobs.targeted {
        // Surrogate-Control predates RFC 9213 and uses the Cache-Control syntax
        let parsed = match name.as_str() {
            "surrogate-control" => CacheControl::parse(&resp.headers, name),
            "x-accel-expires" => accel_expires(resp),
            _ => CacheControl::parse_targeted(&resp.headers, name),
        };
        if let Some(cc) = parsed {
            return (cc, true);
        }
    }
    let quirks = knobs.cc_case_sensitive
        || knobs.cc_quoted_invalid
        || knobs.cc_repeat_stale
        || knobs.cc_invalid_absent
        || knobs.delta_seconds != DeltaSeconds::Strict;
    let cc = if knobs.cc_lifetime_anywhere {
        lifetime_anywhere(knobs, &resp.headers)
    } else if quirks {
        CacheControl::parse_quirks(
            &resp.headers,
            "cache-control",
            knobs.cc_case_sensitive,
            knobs.cc_quoted_invalid,
            knobs.cc_repeat_stale,
            knobs.cc_invalid_absent,
        )
        .map(|mut cc| {
            if knobs.delta_seconds != DeltaSeconds::Strict {
                reread_lifetimes(knobs, &resp.headers, &mut cc);
            }
            cc
        })
    } else {
        CacheControl::parse(&resp.headers, "cache-control")
    };
    let cc = cc.map(|mut cc| {
        if knobs.cc_words_anywhere {
            words_anywhere(&resp.headers, &mut cc);
        }
        cc
    });
    let pragma = || {
        resp.headers
            .list("pragma")
            .iter()
            .any(|p| p.eq_ignore_ascii_case("no-cache"))
    };
    let no_cache = match knobs.response_pragma {
        ResponsePragma::Ignored => false,
        ResponsePragma::WithoutCacheControl => cc.is_none() && pragma(),
        ResponsePragma::Always => pragma(),
    };
    let mut cc = cc.unwrap_or_default();
    cc.no_cache |= no_cache;
    surrogate_control(knobs.surrogate_control, &resp.headers, &mut cc);
    (cc, false)
}

/// `hay` holds `needle` (lowercase) in any case, at the returned byte offset.
fn find_ignore_case(hay: &str, needle: &str) -> Option<usize> {
    hay.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// `cc_words_anywhere`: the words `no-cache`, `no-store` and `private` anywhere in the
/// field's text count as those directives (Varnish builtin `vcl_beresp_control`'s
/// regex; nginx's `ngx_strlcasestrn`), `x-private-hint` and `x-note="no-store"` included.
fn words_anywhere(headers: &Headers, cc: &mut CacheControl) {
    for line in headers.get_all("cache-control") {
        cc.no_cache |= find_ignore_case(line, "no-cache").is_some();
        cc.no_store |= find_ignore_case(line, "no-store").is_some();
        cc.private |= find_ignore_case(line, "private").is_some();
    }
}

/// `max-age` and `s-maxage` read again with the profile's `delta_seconds` (the other
/// directives as `CacheControl::parse_quirks` read them), with the same rules for a
/// name's case, a quoted value, a repeat and an invalid value.
fn reread_lifetimes(knobs: &Knobs, headers: &Headers, cc: &mut CacheControl) {
    cc.max_age = None;
    cc.s_maxage = None;
    for member in headers.get_all("cache-control").flat_map(split_list) {
        let (k, v) = match member.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v)),
            None => (member, None),
        };
        if knobs.cc_case_sensitive && k.bytes().any(|b| b.is_ascii_uppercase()) {
            continue;
        }
        let slot = if k.eq_ignore_ascii_case("max-age") {
            &mut cc.max_age
        } else if k.eq_ignore_ascii_case("s-maxage") {
            &mut cc.s_maxage
        } else {
            continue;
        };
        let value = match v {
            Some(v) if knobs.cc_quoted_invalid && v.trim_start().starts_with('"') => None,
            Some(v) => read_delta_seconds(knobs.delta_seconds, v),
            None => None,
        };
        let value = match value {
            Some(n) => n,
            None if knobs.cc_invalid_absent => continue,
            None => 0,
        };
        match *slot {
            None => *slot = Some(value),
            Some(first) if knobs.cc_repeat_stale && first != value => *slot = Some(0),
            Some(_) => {}
        }
    }
}

/// `cc_lifetime_anywhere` (nginx 1.22 `ngx_http_upstream_process_cache_control`, run on
/// each `Cache-Control` line): the lifetime follows the first `s-maxage=` in the line's
/// text, else its first `max-age=`, wherever they stand (inside `s-max-age=60` too); a
/// later line's replaces an earlier one's; an invalid or zero value, or a
/// `stale-while-revalidate=` / `stale-if-error=` value with a byte other than a digit
/// before `,` `;` or a space, makes the response uncacheable, modelled as stale at once
/// (a lifetime of 0: never reused). Nothing else is read here (`cc_words_anywhere`
/// reads no-cache, no-store and private).
fn lifetime_anywhere(knobs: &Knobs, headers: &Headers) -> Option<CacheControl> {
    let mut lines = headers.get_all("cache-control").peekable();
    lines.peek()?;
    let mut cc = CacheControl::default();
    let mut uncacheable = false;
    for line in lines {
        let at = find_ignore_case(line, "s-maxage=")
            .map(|i| i + "s-maxage=".len())
            .or_else(|| find_ignore_case(line, "max-age=").map(|i| i + "max-age=".len()));
        if let Some(at) = at {
            let rest = &line[at..];
            let text = match knobs.delta_seconds {
                DeltaSeconds::Nginx => rest,
                _ => rest.split(',').next().unwrap_or(""),
            };
            match read_delta_seconds(knobs.delta_seconds, text) {
                Some(n) => cc.max_age = Some(n),
                None => uncacheable = true,
            }
        }
        for (name, slot) in [
            ("stale-while-revalidate=", &mut cc.stale_while_revalidate),
            ("stale-if-error=", &mut cc.stale_if_error),
        ] {
            if let Some(i) = find_ignore_case(line, name) {
                match nginx_digits(&line[i + name.len()..]) {
                    Some(n) => *slot = Some(n),
                    None => uncacheable = true,
                }
            }
        }
    }
    if uncacheable {
        cc.max_age = Some(0);
    }
    Some(cc)
}

/// nginx's digit loop: digits up to `,`, `;`, a space or the end, `None` on any other
/// byte; the value wraps as nginx's 64-bit `ngx_int_t` does, then is held within 2^31.
fn nginx_digits(text: &str) -> Option<u64> {
    let mut n: i64 = 0;
    for b in text.bytes() {
        match b {
            b',' | b';' | b' ' => break,
            b'0'..=b'9' => n = n.wrapping_mul(10).wrapping_add(i64::from(b - b'0')),
            _ => return None,
        }
    }
    Some(u64::try_from(n).unwrap_or(0).min(DELTA_SECONDS_MAX))
}

/// A `max-age` / `s-maxage` value as `how` reads it (`v` is the text after `=`, up to
/// the end of the directive); `None` when the cache takes it as invalid. Held within
/// 2^31 (RFC 9111 §1.2.2).
pub(crate) fn read_delta_seconds(how: DeltaSeconds, v: &str) -> Option<u64> {
    let blank = |c: char| c == ' ' || c == '\t';
    let value = match how {
        DeltaSeconds::Strict => crate::fields::delta_seconds(v.trim_matches(blank))?,
        DeltaSeconds::Strtoul => {
            let t = v.trim_start_matches(blank);
            if t.starts_with('-') {
                return Some(0);
            }
            let (n, rest) = digits_of(t.strip_prefix('+').unwrap_or(t));
            let rest = rest.trim_start_matches(blank);
            match n {
                Some(n) if rest.is_empty() || rest.starts_with([',', '.']) => {
                    n.min(u64::from(u32::MAX))
                }
                _ => 0,
            }
        }
        DeltaSeconds::Atoi => {
            let t = v.trim_start_matches(blank);
            let (neg, t) = match t.as_bytes().first() {
                Some(b'-') => (true, &t[1..]),
                Some(b'+') => (false, &t[1..]),
                _ => (false, t),
            };
            // strtol clamps to the 64-bit long, atoi's int keeps its low 32 bits
            let long = match digits_of(t).0 {
                Some(n) => {
                    let n = i64::try_from(n).unwrap_or(i64::MAX);
                    if neg {
                        -n
                    } else {
                        n
                    }
                }
                None => 0,
            };
            let int = long as i32;
            if int < 0 || (int == 0 && !v.starts_with(|c: char| c.is_ascii_digit())) {
                return None;
            }
            int as u64
        }
        DeltaSeconds::SkipToDigit => {
            let from = v.find(|c: char| c.is_ascii_digit() || c == '-')?;
            let t = &v[from..];
            if t.starts_with('-') {
                0
            } else {
                digits_of(t).0.unwrap_or(0).min(i32::MAX as u64)
            }
        }
        DeltaSeconds::Nginx => match nginx_digits(v)? {
            0 => return None,
            n => n,
        },
    };
    Some(value.min(DELTA_SECONDS_MAX))
}

/// The leading digits of `t` as a number (`u64::MAX` when they overflow it; `None`
/// without any) and the text after them.
fn digits_of(t: &str) -> (Option<u64>, &str) {
    let end = t
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(t.len());
    let n = t[..end]
        .parse::<u64>()
        .ok()
        .or((end > 0).then_some(u64::MAX));
    (n, &t[end..])
}

/// What `Surrogate-Control` does at a cache that does not take it as its targeted field
/// ([`SurrogateControl`]).
fn surrogate_control(how: SurrogateControl, headers: &Headers, cc: &mut CacheControl) {
    let lines = || headers.get_all("surrogate-control");
    match how {
        SurrogateControl::Ignored => {}
        SurrogateControl::VarnishBuiltin => {
            if lines().next().is_none() {
                return;
            }
            // the only place Varnish reads these words is vcl_beresp_control, skipped
            cc.no_cache = false;
            cc.private = false;
            cc.no_store = lines().any(|l| find_ignore_case(l, "no-store").is_some());
        }
        SurrogateControl::SquidAccel => {
            // untargeted directives only: one with `;target` names some other surrogate
            // (Squid's surrogate_id is not set in the lab)
            let members: Vec<&str> = lines()
                .flat_map(split_list)
                .filter(|m| !m.contains(';'))
                .collect();
            if members.is_empty() {
                return;
            }
            // processSurrogateControl: ignoreCacheControl
            cc.no_cache = false;
            cc.private = false;
            cc.no_store = false;
            for m in members {
                let (k, v) = match m.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (m, None),
                };
                match k {
                    "no-store" => cc.no_store = true,
                    "max-age" => {
                        let Some(v) = v else { continue };
                        let (n, stale) = match v.split_once('+') {
                            Some((n, m)) => (n, read_delta_seconds(DeltaSeconds::Atoi, m)),
                            None => (v, None),
                        };
                        let Some(n) = read_delta_seconds(DeltaSeconds::Atoi, n) else {
                            continue;
                        };
                        // Expires = Date + (max-age < max-stale ? max-age : max-stale),
                        // max-stale 0 when not given
                        let stale = stale.unwrap_or(0);
                        cc.max_age = Some(if n < stale { n } else { stale });
                        cc.s_maxage = None;
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Decides whether a response may be stored, and its freshness (RFC 9111 §3, §4.2.1),
/// with the profile's TTL overrides and error-caching rules applied. `Vary` is checked
/// separately.
pub fn storable(
    knobs: &Knobs,
    req: &Request,
    resp: &Response,
    now: Timestamp,
) -> Result<Freshness, NoStore> {
    if req.method == "HEAD" || !knobs.caches_method(&req.method) {
        return Err(NoStore::Method);
    }
    if (100..200).contains(&resp.status) || resp.status == 206 || resp.status == 304 {
        return Err(NoStore::Status);
    }
    if knobs
        .store_statuses
        .as_ref()
        .is_some_and(|l| !l.contains(&resp.status))
    {
        return Err(NoStore::Status);
    }
    let error = resp.status >= 400;
    if error
        && knobs
            .errors
            .statuses
            .as_ref()
            .is_some_and(|l| !l.contains(&resp.status))
    {
        return Err(NoStore::Status);
    }
    let (cc, targeted) = governing_directives(knobs, resp);
    // RFC 9111 §5.2.1.5: a request `no-store` forbids storing the request and response.
    if knobs.request_cache_control && crate::edge::request_directives(knobs, req).no_store {
        return Err(NoStore::NoStoreDirective);
    }
    // CloudFront: a minimum TTL above 0 caches "even if the Cache-Control: no-cache,
    // no-store, or private directives are present"; for errors, only on the statuses
    // its error-caching rules list.
    let forced = if error && knobs.errors.statuses.is_some() {
        knobs.errors.ignore_no_store.contains(&resp.status)
    } else {
        knobs.ttl.min.is_some_and(|m| m > 0)
    };
    if cc.no_store && !forced {
        return Err(NoStore::NoStoreDirective);
    }
    if cc.private && !forced {
        return Err(NoStore::Private);
    }
    if knobs.set_cookie == crate::profile::SetCookie::NotStored
        && resp.headers.contains("set-cookie")
    {
        return Err(NoStore::SetCookie);
    }
    // RFC 9111 §3.5: a shared cache must not reuse a response to a request with
    // Authorization unless public, s-maxage or must-revalidate allows it.
    if knobs.authorization == AuthorizationRule::Rfc
        && req.headers.contains("authorization")
        && !shareable_with_authorization(&cc)
    {
        return Err(NoStore::Authorization);
    }
    let date = resp
        .headers
        .get("date")
        .and_then(Timestamp::parse_http_date);
    let explicit_s = explicit_lifetime(knobs, &cc, targeted, resp, date, now)
        .filter(|_| !(knobs.expires_invalid_ignored && invalid_expires_only(knobs, &cc, resp)));
    let no_heuristic = knobs.heuristic_skips_query && squid_dynamic_url(&req.target);
    let lifetime_s = lifetime(knobs, resp, &cc, explicit_s, date, forced, no_heuristic)?;
    // §4.2.3: apparent_age = max(0, response_time − date_value); corrected_age_value =
    // age_value + response_delay (0 here: the driver hands the response over at `now`).
    let age_value = crate::fields::age_secs(&resp.headers)
        .filter(|_| !knobs.age_ignored)
        .unwrap_or(0)
        .saturating_mul(1000);
    // Date has one-second resolution, so only whole seconds of apparent age are evidence
    // of age: a response dated 12:00:02 and received at 12:00:02.5 is not half a second
    // old (real caches count whole seconds of their own clock; Varnish 7.1, nginx 1.22,
    // Squid 5.7 and ATS 9.2 served a max-age=1 entry stored at 2.5 s again at 3.0 s,
    // tests/fidelity z33).
    let apparent = date
        .filter(|_| !knobs.age_ignored)
        .map_or(0, |d| now.ms_since(d) / 1000 * 1000);
    Ok(Freshness {
        lifetime_ms: lifetime_s.saturating_mul(1000),
        initial_age_ms: apparent.max(age_value),
        // RFC 5861 §3: "caches MAY serve the response in which it appears after it
        // becomes stale, up to the indicated number of seconds" — a MAY, which nginx,
        // Squid and ATS do not take by default
        swr_ms: stale_window_s(knobs, &cc, lifetime_s).saturating_mul(1000),
        sie_ms: cc.stale_if_error.unwrap_or(0).saturating_mul(1000),
        must_revalidate: cc.must_revalidate
            || cc.proxy_revalidate
            || cc.no_cache
            || cc.s_maxage.is_some(),
    })
}

/// Whether the answer's body is empty: its `Content-Length` says 0, or without one
/// the body held is empty. (The proxy decides on the head, before the body: a length
/// it does not know yet is not taken for empty when the head states one.)
fn empty_body(resp: &Response) -> bool {
    match resp.headers.get("content-length") {
        Some(n) => n.trim() == "0",
        None => resp.body.is_empty(),
    }
}

/// nginx's `X-Accel-Expires` (ngx_http_upstream.c `process_accel_expires`, read with
/// `ngx_atoi`: digits only): `0` makes the answer uncacheable; `N` caches it for N
/// seconds and `@T` until T (seconds since the epoch, measured here from the answer's
/// `Date`), whatever `Cache-Control` and `Expires` say; anything else is ignored. Only
/// the first line counts (nginx 1.23 ignores duplicates). Since nginx 1.23.0 this holds
/// whatever the order of the fields; 1.22 still obeys a `Cache-Control: no-cache`,
/// `no-store` or `private` that comes before it.
fn accel_expires(resp: &Response) -> Option<CacheControl> {
    let v = resp.headers.get("x-accel-expires")?;
    let digits = |t: &str| {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u64>().unwrap_or(u64::MAX))
    };
    let secs = match v.strip_prefix('@') {
        Some(at) => {
            let until = digits(at)?;
            let date = resp
                .headers
                .get("date")
                .and_then(Timestamp::parse_http_date)?;
            until.saturating_sub(date.secs())
        }
        None => digits(v)?,
    };
    Some(if secs == 0 && !v.starts_with('@') {
        CacheControl {
            no_store: true,
            ..CacheControl::default()
        }
    } else {
        CacheControl {
            max_age: Some(secs),
            ..CacheControl::default()
        }
    })
}

/// How long after expiry a stored response is served stale while it is refreshed behind.
///
/// RFC 5861 §3's `stale-while-revalidate=N` where the profile honours it; never for a
/// `no-cache` answer, which must not be reused without validation (RFC 9111 §5.2.2.4).
/// A cache's own grace ([`Grace`](super::knobs::Grace), Varnish) replaces or fills in the
/// directive, and applies only to an object with a positive lifetime: Varnish's builtin
/// `vcl_beresp_stale` and `vcl_beresp_control` make one whose TTL is 0 or whose
/// `Cache-Control` says `no-cache` a hit-for-miss object, never delivered; with
/// `stale_needs_ttl` (Varnish) that holds for the directive's window too.
fn stale_window_s(knobs: &Knobs, cc: &CacheControl, lifetime_s: u64) -> u64 {
    if cc.no_cache || (knobs.stale_needs_ttl && lifetime_s == 0) {
        return 0;
    }
    let directive = cc
        .stale_while_revalidate
        .filter(|_| knobs.stale_while_revalidate);
    match knobs.grace.fixed {
        Some(g) if lifetime_s > 0 => g,
        Some(_) => 0,
        None => directive.unwrap_or(if lifetime_s > 0 {
            knobs.grace.default
        } else {
            0
        }),
    }
}

/// RFC 9111 §3.5: what lets a response to a request with `Authorization` be shared.
pub fn shareable_with_authorization(cc: &CacheControl) -> bool {
    cc.public || cc.s_maxage.is_some() || cc.must_revalidate
}

/// The lifetime would come from an `Expires` that is not a date (no `max-age` or
/// `s-maxage`).
fn invalid_expires_only(knobs: &Knobs, cc: &CacheControl, resp: &Response) -> bool {
    cc.s_maxage.is_none()
        && cc.max_age.is_none()
        && resp
            .headers
            .get("expires")
            .is_some_and(|e| expires_date(knobs.http_date, e).is_none())
}

/// `Expires` read as a date the way the profile's cache reads it (`http_date`);
/// `None` when that cache finds no date in it.
pub(crate) fn expires_date(how: HttpDate, v: &str) -> Option<Timestamp> {
    match how {
        HttpDate::Strict => Timestamp::parse_http_date(v),
        HttpDate::Nginx => crate::time::parse_http_date_nginx(v),
        HttpDate::Squid => crate::time::parse_http_date_squid(v),
        HttpDate::Ats => crate::time::parse_http_date_ats(v),
    }
}

/// §4.2.1: s-maxage, then max-age, then Expires − Date. An invalid Expires means
/// "already expired" (§5.3). Under a targeted field, `Expires` plays no part (RFC 9213
/// §2.1: the other fields' directives are ignored).
fn explicit_lifetime(
    knobs: &Knobs,
    cc: &CacheControl,
    targeted: bool,
    resp: &Response,
    date: Option<Timestamp>,
    now: Timestamp,
) -> Option<u64> {
    cc.s_maxage.or(cc.max_age).or_else(|| {
        if targeted {
            return None;
        }
        resp.headers
            .get("expires")
            .map(|e| match expires_date(knobs.http_date, e) {
                Some(exp) => exp.ms_since(date.unwrap_or(now)) / 1000,
                None => 0,
            })
    })
}

/// Whether `target` matches Squid's default `refresh_pattern -i (/cgi-bin/|\?) 0 0% 0`
/// (http://www.squid-cache.org/Doc/config/refresh_pattern/): a query mark anywhere, or
/// `/cgi-bin/` in any case.
fn squid_dynamic_url(target: &str) -> bool {
    target.contains('?')
        || target
            .as_bytes()
            .windows(9)
            .any(|w| w.eq_ignore_ascii_case(b"/cgi-bin/"))
}

/// The freshness lifetime in seconds: explicit, else the profile's error TTL, default
/// TTL or heuristic (0 when `no_heuristic`); then `no-cache` and the profile's bounds.
fn lifetime(
    knobs: &Knobs,
    resp: &Response,
    cc: &CacheControl,
    explicit_s: Option<u64>,
    date: Option<Timestamp>,
    forced: bool,
    no_heuristic: bool,
) -> Result<u64, NoStore> {
    let error_ttl = (resp.status >= 400).then_some(knobs.errors.ttl).flatten();
    let heuristic = knobs
        .heuristic_statuses
        .as_ref()
        .map_or(HEURISTIC.contains(&resp.status), |l| {
            l.contains(&resp.status)
        });
    // Varnish cache_rfc2616.c RFC2616_Ttl: default_ttl only for the statuses it lists
    let default_ttl = knobs.ttl.default.filter(|_| {
        knobs
            .default_ttl_statuses
            .as_ref()
            .is_none_or(|l| l.contains(&resp.status))
    });
    // §4.2.2: "a cache MAY assign a heuristic expiration time when an explicit time is
    // not specified"; "a typical setting of this fraction might be 10%" of the time
    // since Last-Modified.
    let lm_heuristic = || {
        let pct = knobs.heuristic_pct?;
        let lm = resp
            .headers
            .get("last-modified")
            .and_then(Timestamp::parse_http_date);
        let since = match (lm, date) {
            (Some(lm), Some(date)) => Some(date.ms_since(lm) / 1000),
            _ => None,
        };
        // a `0 0% 0` refresh_pattern: stored (a validator to revalidate with) but stale
        if no_heuristic {
            return since.map(|_| 0);
        }
        let guess = since.map(|s| s.saturating_mul(pct) / 100);
        match knobs.heuristic_bounds {
            // ATS calculate_document_freshness_limit: no Last-Modified gets the minimum
            Some((lo, hi)) => Some(guess.map_or(lo, |g| g.clamp(lo, hi.max(lo)))),
            None => guess,
        }
    };
    let mut lifetime_s = match (explicit_s, error_ttl) {
        (Some(s), Some(t)) if knobs.errors.ttl_is_floor => s.max(t),
        (Some(s), _) => s,
        (None, Some(t)) => t,
        (None, None) if !heuristic && default_ttl.is_none() => return Err(NoStore::Status),
        (None, None) => match default_ttl.or_else(|| heuristic.then(lm_heuristic).flatten()) {
            Some(s) => s,
            // Squid refreshIsCachable: stale on arrival, but refreshable (its
            // lastModified() falls back to the time received) unless the body is empty
            None if knobs.store_stale && !empty_body(resp) => 0,
            None => return Err(NoStore::NoFreshness),
        },
    };
    if cc.no_cache && !forced {
        lifetime_s = 0;
    }
    if forced && (cc.no_store || cc.private || cc.no_cache) {
        lifetime_s = error_ttl.or(knobs.ttl.min).unwrap_or(0);
    }
    if let Some(min) = knobs.ttl.min {
        lifetime_s = lifetime_s.max(min);
    }
    if let Some(max) = knobs.ttl.max {
        lifetime_s = lifetime_s.min(max);
    }
    Ok(lifetime_s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Headers;
    use crate::profile::profile;
    use crate::time::SIM_EPOCH;

    fn get(h: &[(&str, &str)]) -> Request {
        Request::fixture("GET", "a", "/", h)
    }

    fn resp(status: u16, h: &[(&str, &str)]) -> Response {
        Response::new(status, Headers::from_pairs(h.iter().copied()))
    }

    /// nginx's X-Accel-Expires over Cache-Control and Expires: N seconds, `@` an epoch
    /// time (from the answer's Date), 0 uncacheable, anything not digits ignored; a cache
    /// that does not read it (Varnish) goes by Cache-Control (tests/fidelity z43).
    #[test]
    fn x_accel_expires_governs_nginx() {
        let nginx = profile("nginx").unwrap().knobs;
        let varnish = profile("varnish").unwrap().knobs;
        let date = SIM_EPOCH.http_date();
        let life = |k: &Knobs, h: &[(&str, &str)]| {
            let mut all = vec![("date", date.as_str())];
            all.extend_from_slice(h);
            storable(k, &get(&[]), &resp(200, &all), SIM_EPOCH).map(|f| f.lifetime_ms / 1000)
        };
        let no_store = [("x-accel-expires", "60"), ("cache-control", "no-store")];
        assert_eq!(life(&nginx, &no_store), Ok(60));
        assert_eq!(life(&varnish, &no_store), Err(NoStore::NoStoreDirective));
        let zero = [
            ("cache-control", "public, max-age=60"),
            ("x-accel-expires", "0"),
        ];
        assert_eq!(life(&nginx, &zero), Err(NoStore::NoStoreDirective));
        assert_eq!(life(&varnish, &zero), Ok(60));
        let until = (SIM_EPOCH.secs() + 90).to_string();
        let at = format!("@{until}");
        assert_eq!(life(&nginx, &[("x-accel-expires", at.as_str())]), Ok(90));
        let past = format!("@{}", SIM_EPOCH.secs() - 5);
        assert_eq!(life(&nginx, &[("x-accel-expires", past.as_str())]), Ok(0));
        let over_cc = [("x-accel-expires", "30"), ("cache-control", "max-age=600")];
        assert_eq!(life(&nginx, &over_cc), Ok(30));
        // not ngx_atoi's digits: ignored, Cache-Control decides
        for bad in ["60s", "-1", "", "@", "@soon", "+5"] {
            let h = [("x-accel-expires", bad), ("cache-control", "max-age=7")];
            assert_eq!(life(&nginx, &h), Ok(7), "{bad:?}");
        }
        // an `@` time needs the answer's Date to be measured from
        let no_date = resp(
            200,
            &[
                ("x-accel-expires", at.as_str()),
                ("cache-control", "max-age=7"),
            ],
        );
        assert_eq!(
            storable(&nginx, &get(&[]), &no_date, SIM_EPOCH).map(|f| f.lifetime_ms),
            Ok(7000)
        );
    }

    /// Squid stores an answer with no lifetime from any source, stale, when its body is
    /// not empty (refreshIsCachable; tests/fidelity z47); the RFC reading does not.
    #[test]
    fn squid_stores_what_it_can_only_revalidate() {
        let squid = profile("squid").unwrap().knobs;
        let h = [("cache-control", "public, no-cache"), ("etag", "\"v1\"")];
        let with_body = |body: &'static [u8]| Response {
            body: std::sync::Arc::from(body),
            ..resp(200, &h)
        };
        let f = storable(&squid, &get(&[]), &with_body(b"x"), SIM_EPOCH).unwrap();
        assert_eq!(f.lifetime_ms, 0);
        assert_eq!(
            storable(&squid, &get(&[]), &with_body(b""), SIM_EPOCH),
            Err(NoStore::NoFreshness)
        );
        // the proxy asks on the head: the length it states decides, not the body so far
        let head = |len: &str| {
            let mut r = resp(200, &h);
            r.headers.append("content-length", len);
            storable(&squid, &get(&[]), &r, SIM_EPOCH).map(|f| f.lifetime_ms)
        };
        assert_eq!(head("12"), Ok(0));
        assert_eq!(head("0"), Err(NoStore::NoFreshness));
        assert_eq!(
            storable(&Knobs::rfc9111(), &get(&[]), &with_body(b"x"), SIM_EPOCH),
            Err(NoStore::NoFreshness)
        );
    }

    /// Surrogate-Control is read with the Cache-Control syntax (it predates RFC 9213's
    /// structured fields): an upper-case directive, which a structured dictionary
    /// refuses, still governs Fastly.
    #[test]
    fn surrogate_control_uses_the_cache_control_syntax() {
        let fastly = profile("fastly").unwrap().knobs;
        let r = resp(
            200,
            &[
                ("surrogate-control", "MAX-AGE=60"),
                ("cache-control", "max-age=5"),
            ],
        );
        let f = storable(&fastly, &get(&[]), &r, SIM_EPOCH).unwrap();
        assert_eq!(f.lifetime_ms, 60_000);
    }

    /// `Expires` dates in spellings RFC 9110 §5.6.7 does not define: each cache reads
    /// them with its own parser (tests/fidelity z69). nginx ignores the zone but wants a
    /// two-digit day, Squid wants `GMT` but reads any day, ATS takes all three; RFC 9111
    /// and Varnish (`VTIM_parse`) none, Varnish then giving its default_ttl.
    #[test]
    fn expires_spellings_per_cache() {
        let date = SIM_EPOCH.http_date();
        let life = |name: &str, expires: &str| {
            let k = profile(name).map_or_else(Knobs::rfc9111, |p| p.knobs);
            let h = [("date", date.as_str()), ("expires", expires)];
            storable(&k, &get(&[]), &resp(200, &h), SIM_EPOCH).map_or(0, |f| f.lifetime_ms / 1000)
        };
        let zone = "Fri, 01 Jan 2038 00:00:00 +0000";
        let utc = "Fri, 01 Jan 2038 00:00:00 UTC";
        let one = "Fri, 1 Jan 2038 00:00:00 GMT";
        // 2026-01-01 to 2038-01-01, and to ATS's 2^31-1 (2038-01-19T03:14:07Z)
        let to_2038 = 4383 * 86_400;
        let to_max = i32::MAX as u64 - SIM_EPOCH.secs();
        let want: [(&str, [u64; 3]); 5] = [
            ("rfc9111", [0, 0, 0]),
            ("varnish", [120, 120, 120]),
            ("nginx", [to_2038, to_2038, 0]),
            ("squid", [0, 0, to_2038]),
            ("ats", [to_max, to_max, to_max]),
        ];
        for (name, [z, u, o]) in want {
            assert_eq!(life(name, zone), z, "{name} {zone}");
            assert_eq!(life(name, utc), u, "{name} {utc}");
            assert_eq!(life(name, one), o, "{name} {one}");
        }
    }

    /// The caches' date parsers agree with RFC 9110 on its three forms (z20): the same
    /// instant for any IMF-fixdate, RFC 850 and asctime date from 1970 to 2037, nothing
    /// for `0` or `soon`; ATS reads a year past 2037 as 2^31-1 seconds. And each one's
    /// leniencies: nginx reads nothing after the seconds, Squid reads a one-digit day
    /// and month names in any case but only the zone `GMT`, ATS any of those.
    #[test]
    fn cache_date_parsers_agree_on_the_rfc_forms() {
        use crate::time::{parse_http_date_ats, parse_http_date_nginx, parse_http_date_squid};
        let all = [
            HttpDate::Strict,
            HttpDate::Nginx,
            HttpDate::Squid,
            HttpDate::Ats,
        ];
        let day = 86_400_000;
        let instants = (0..2000u64).map(|i| Timestamp(1000 + i * 7 * day + i * 3_601_001 % day));
        for t in instants.filter(|t| t.secs() < 2_145_916_800) {
            let t = Timestamp(t.secs() * 1000);
            let imf = t.http_date();
            let (wd, rest) = imf.split_once(", ").unwrap();
            let p: Vec<&str> = rest.split(' ').collect();
            let (d, m, y, clock) = (p[0], p[1], p[2], p[3]);
            let long = [
                "Sunday",
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
            ]
            .into_iter()
            .find(|l| l.starts_with(wd))
            .unwrap();
            let rfc850 = format!("{long}, {d}-{m}-{} {clock} GMT", &y[2..]);
            let asctime = format!("{wd} {m} {:>2} {clock} {y}", d.trim_start_matches('0'));
            let forms: &[&str] = if (1970..2070).contains(&y.parse::<i32>().unwrap()) {
                &[&imf, &rfc850, &asctime]
            } else {
                &[&imf, &asctime]
            };
            for form in forms {
                assert_eq!(Timestamp::parse_http_date(form), Some(t), "{form}");
                for how in all {
                    assert_eq!(expires_date(how, form), Some(t), "{how} {form}");
                }
            }
            let no_zone = imf.trim_end_matches(" GMT");
            let plus = format!("{no_zone} +0000");
            let one_digit = format!("{wd}, {} {m} {y} {clock} GMT", d.trim_start_matches('0'));
            let upper = imf.replace(m, &m.to_uppercase());
            assert_eq!(parse_http_date_nginx(&plus), Some(t), "{plus}");
            assert_eq!(parse_http_date_ats(&plus), Some(t), "{plus}");
            assert_eq!(parse_http_date_squid(&plus), None, "{plus}");
            assert_eq!(parse_http_date_squid(&upper), Some(t), "{upper}");
            assert_eq!(parse_http_date_squid(no_zone), Some(t), "{no_zone}");
            assert_eq!(parse_http_date_ats(&one_digit), Some(t), "{one_digit}");
            assert_eq!(parse_http_date_squid(&one_digit), Some(t), "{one_digit}");
            if d.starts_with('0') {
                assert_eq!(parse_http_date_nginx(&one_digit), None, "{one_digit}");
            }
        }
        for bad in ["0", "soon", "", "Fri, 01 Jan 2038 24:00:00 GMT"] {
            for how in [HttpDate::Strict, HttpDate::Nginx, HttpDate::Squid] {
                assert_eq!(expires_date(how, bad), None, "{how} {bad:?}");
            }
        }
        for bad in ["0", "soon", "", "Thu, 01 Jan 1970 00:00:00 GMT"] {
            assert_eq!(parse_http_date_ats(bad), None, "{bad:?}");
        }
        let max = Some(Timestamp(i32::MAX as u64 * 1000));
        for late in ["Friday, 01-Jan-38 00:00:00 GMT", "Fri Jan  1 00:00:00 2038"] {
            assert_eq!(parse_http_date_ats(late), max, "{late}");
            let strict = Timestamp::parse_http_date(late);
            assert!(strict.is_some(), "{late}");
            assert_eq!(parse_http_date_nginx(late), strict, "{late}");
            assert_eq!(parse_http_date_squid(late), strict, "{late}");
        }
        // ATS adds the fields up: hour 24 is the next day
        assert_eq!(
            parse_http_date_ats("Thu, 01 Jan 2026 24:00:00 GMT"),
            Some(SIM_EPOCH.plus_secs(86_400))
        );
        assert_eq!(parse_http_date_squid("fri, 01 jan 2038 00:00:00 gmt"), None);
    }

    #[test]
    fn s_maxage_wins_over_max_age_and_expires() {
        let k = Knobs::rfc9111();
        let f = storable(
            &k,
            &get(&[]),
            &resp(200, &[("cache-control", "max-age=10, s-maxage=20")]),
            SIM_EPOCH,
        )
        .unwrap();
        assert_eq!(f.lifetime_ms, 20_000);
        let date = SIM_EPOCH.http_date();
        let exp = SIM_EPOCH.plus_secs(30).http_date();
        let f = storable(
            &k,
            &get(&[]),
            &resp(200, &[("date", &date), ("expires", &exp)]),
            SIM_EPOCH,
        )
        .unwrap();
        assert_eq!(f.lifetime_ms, 30_000);
        let f = storable(
            &k,
            &get(&[]),
            &resp(200, &[("expires", "not a date")]),
            SIM_EPOCH,
        )
        .unwrap();
        assert_eq!(f.lifetime_ms, 0);
    }

    #[test]
    fn age_and_date_make_it_older() {
        let k = Knobs::rfc9111();
        let f = storable(
            &k,
            &get(&[]),
            &resp(200, &[("cache-control", "max-age=60"), ("age", "50")]),
            SIM_EPOCH,
        )
        .unwrap();
        assert_eq!(f.ttl_ms(SIM_EPOCH, SIM_EPOCH.plus_secs(5)), 5_000);
        assert!(f.ttl_ms(SIM_EPOCH, SIM_EPOCH.plus_secs(11)) < 0);
        let old = SIM_EPOCH.http_date();
        let f = storable(
            &k,
            &get(&[]),
            &resp(200, &[("cache-control", "max-age=60"), ("date", &old)]),
            SIM_EPOCH.plus_secs(20),
        )
        .unwrap();
        assert_eq!(f.initial_age_ms, 20_000);
        // received half a second after the second its Date names: not older for it
        let f = storable(
            &k,
            &get(&[]),
            &resp(200, &[("cache-control", "max-age=1"), ("date", &old)]),
            SIM_EPOCH.plus_ms(500),
        )
        .unwrap();
        assert_eq!(f.initial_age_ms, 0);
        assert!(f.ttl_ms(SIM_EPOCH.plus_ms(500), SIM_EPOCH.plus_ms(1000)) > 0);
    }

    #[test]
    fn no_store_private_authorization() {
        let k = Knobs::rfc9111();
        let r = |cc: &str| resp(200, &[("cache-control", cc)]);
        assert_eq!(
            storable(&k, &get(&[]), &r("no-store, max-age=60"), SIM_EPOCH),
            Err(NoStore::NoStoreDirective)
        );
        assert_eq!(
            storable(&k, &get(&[]), &r("private, max-age=60"), SIM_EPOCH),
            Err(NoStore::Private)
        );
        let auth = get(&[("authorization", "Bearer x")]);
        assert_eq!(
            storable(&k, &auth, &r("max-age=60"), SIM_EPOCH),
            Err(NoStore::Authorization)
        );
        assert!(storable(&k, &auth, &r("public, max-age=60"), SIM_EPOCH).is_ok());
        assert!(storable(&k, &auth, &r("s-maxage=60"), SIM_EPOCH).is_ok());
        assert_eq!(
            storable(&k, &get(&[]), &r("no-cache, max-age=60"), SIM_EPOCH)
                .unwrap()
                .lifetime_ms,
            0
        );
    }

    #[test]
    fn ttl_overrides() {
        let cf = profile("cloudfront").unwrap().knobs;
        // default TTL when the origin says nothing
        assert_eq!(
            storable(&cf, &get(&[]), &resp(200, &[]), SIM_EPOCH)
                .unwrap()
                .lifetime_ms,
            86_400_000
        );
        // min TTL 1 s stores even no-store
        assert_eq!(
            storable(
                &cf,
                &get(&[]),
                &resp(200, &[("cache-control", "no-store")]),
                SIM_EPOCH
            )
            .unwrap()
            .lifetime_ms,
            1_000
        );
        let mut k = Knobs::rfc9111();
        k.ttl.max = Some(5);
        assert_eq!(
            storable(
                &k,
                &get(&[]),
                &resp(200, &[("cache-control", "max-age=60")]),
                SIM_EPOCH
            )
            .unwrap()
            .lifetime_ms,
            5_000
        );
        assert_eq!(
            storable(&Knobs::rfc9111(), &get(&[]), &resp(200, &[]), SIM_EPOCH),
            Err(NoStore::NoFreshness)
        );
        assert_eq!(
            storable(&Knobs::rfc9111(), &get(&[]), &resp(500, &[]), SIM_EPOCH),
            Err(NoStore::Status)
        );
        assert!(storable(
            &Knobs::rfc9111(),
            &get(&[]),
            &resp(500, &[("cache-control", "max-age=5")]),
            SIM_EPOCH
        )
        .is_ok());
    }

    #[test]
    fn cdn_cache_control_takes_precedence() {
        let k = Knobs::rfc9111();
        let life = |h: &[(&str, &str)]| {
            storable(&k, &get(&[]), &resp(200, h), SIM_EPOCH).map(|f| f.lifetime_ms)
        };
        assert_eq!(
            life(&[
                ("cache-control", "max-age=3600"),
                ("cdn-cache-control", "max-age=1")
            ]),
            Ok(1_000)
        );
        assert_eq!(
            life(&[
                ("cache-control", "no-store"),
                ("cdn-cache-control", "max-age=100")
            ]),
            Ok(100_000)
        );
        assert_eq!(
            life(&[
                ("cache-control", "max-age=100"),
                ("cdn-cache-control", "no-store")
            ]),
            Err(NoStore::NoStoreDirective)
        );
        assert_eq!(
            life(&[
                ("cache-control", "max-age=100"),
                ("cdn-cache-control", "private")
            ]),
            Err(NoStore::Private)
        );
        // Expires plays no part under a targeted field
        let exp = SIM_EPOCH.plus_secs(100).http_date();
        assert_eq!(
            life(&[("expires", &exp), ("cdn-cache-control", "max-age=0")]),
            Ok(0)
        );
        // an invalid targeted field is ignored: Cache-Control governs
        assert_eq!(
            life(&[
                ("cache-control", "no-store"),
                ("cdn-cache-control", "max-age=10000, &&&&&")
            ]),
            Err(NoStore::NoStoreDirective)
        );
        // a profile that does not honour it
        let nginx = profile("nginx").unwrap().knobs;
        assert_eq!(
            storable(
                &nginx,
                &get(&[]),
                &resp(
                    200,
                    &[
                        ("cache-control", "max-age=3600"),
                        ("cdn-cache-control", "max-age=1")
                    ]
                ),
                SIM_EPOCH
            )
            .map(|f| f.lifetime_ms),
            Ok(3_600_000)
        );
    }

    #[test]
    fn error_caching_per_profile() {
        let cf = profile("cloudfront").unwrap().knobs;
        let life = |k: &Knobs, status: u16, h: &[(&str, &str)]| {
            storable(k, &get(&[]), &resp(status, h), SIM_EPOCH).map(|f| f.lifetime_ms)
        };
        // CloudFront: 10 s for a cached error without headers; the greater of max-age
        // and 10 s; no-store ignored on a 503, honoured on a 404; 416 never cached
        assert_eq!(life(&cf, 503, &[]), Ok(10_000));
        assert_eq!(
            life(&cf, 404, &[("cache-control", "max-age=5")]),
            Ok(10_000)
        );
        assert_eq!(
            life(&cf, 404, &[("cache-control", "max-age=60")]),
            Ok(60_000)
        );
        assert_eq!(life(&cf, 503, &[("cache-control", "no-store")]), Ok(10_000));
        assert_eq!(
            life(&cf, 404, &[("cache-control", "no-store")]),
            Err(NoStore::NoStoreDirective)
        );
        assert_eq!(life(&cf, 416, &[]), Err(NoStore::Status));
        // Varnish: 404 gets default_ttl, 503 is never stored even with max-age
        let v = profile("varnish").unwrap().knobs;
        assert_eq!(life(&v, 404, &[]), Ok(120_000));
        assert_eq!(
            life(&v, 503, &[("cache-control", "max-age=60")]),
            Err(NoStore::Status)
        );
        // RFC 9111 / nginx: only with explicit freshness
        let n = profile("nginx").unwrap().knobs;
        assert_eq!(life(&n, 503, &[]), Err(NoStore::Status));
        assert_eq!(life(&n, 503, &[("cache-control", "max-age=7")]), Ok(7_000));
        assert_eq!(life(&Knobs::rfc9111(), 404, &[]), Err(NoStore::NoFreshness));
    }

    #[test]
    fn heuristic_and_age_list() {
        let k = Knobs::rfc9111();
        let date = SIM_EPOCH.http_date();
        let lm = Timestamp(SIM_EPOCH.0 - 1_000_000_000).http_date();
        let f = storable(
            &k,
            &get(&[]),
            &resp(200, &[("date", &date), ("last-modified", &lm)]),
            SIM_EPOCH,
        )
        .unwrap();
        assert_eq!(f.lifetime_ms, 100_000_000);
        assert_eq!(
            storable(
                &profile("nginx").unwrap().knobs,
                &get(&[]),
                &resp(200, &[("date", &date), ("last-modified", &lm)]),
                SIM_EPOCH
            ),
            Err(NoStore::NoFreshness)
        );
        let f = storable(
            &k,
            &get(&[]),
            &resp(
                200,
                &[("cache-control", "max-age=3600"), ("age", "7200, 0")],
            ),
            SIM_EPOCH,
        )
        .unwrap();
        assert!(f.ttl_ms(SIM_EPOCH, SIM_EPOCH) < 0);
        let f = storable(
            &k,
            &get(&[]),
            &resp(
                200,
                &[(
                    "cache-control",
                    "max-age=60, must-revalidate, stale-if-error=30",
                )],
            ),
            SIM_EPOCH,
        )
        .unwrap();
        assert!(f.must_revalidate);
        assert_eq!(f.sie_ms, 30_000);
    }

    /// Varnish (cache_rfc2616.c RFC2616_Ttl) gives default_ttl 120 s to its listed
    /// statuses without s-maxage, max-age or Expires, Last-Modified or not; other
    /// statuses without them are not stored.
    #[test]
    fn varnish_default_ttl_for_its_statuses() {
        let k = profile("varnish").unwrap().knobs;
        let date = SIM_EPOCH.http_date();
        let lm = Timestamp(SIM_EPOCH.0 - 1_000_000_000).http_date();
        for status in [200, 203, 204, 300, 301, 404, 410, 414] {
            for h in [
                &[][..],
                &[("date", date.as_str()), ("last-modified", lm.as_str())],
            ] {
                let f = storable(&k, &get(&[]), &resp(status, h), SIM_EPOCH);
                assert_eq!(f.map(|f| f.lifetime_ms), Ok(120_000), "{status} {h:?}");
            }
        }
        for status in [201, 302, 307, 308, 403, 503] {
            assert!(
                storable(&k, &get(&[]), &resp(status, &[]), SIM_EPOCH).is_err(),
                "{status}"
            );
        }
        // explicit freshness still wins
        let f = storable(
            &k,
            &get(&[]),
            &resp(200, &[("cache-control", "max-age=5")]),
            SIM_EPOCH,
        );
        assert_eq!(f.map(|f| f.lifetime_ms), Ok(5_000));
    }

    /// ATS 9.2 (`proxy.config.http.cache.required_headers` 2) stores no 200 without an
    /// explicit lifetime: no heuristic from Last-Modified for it (a 203 gets one).
    #[test]
    fn ats_requires_an_explicit_lifetime() {
        let k = profile("ats").unwrap().knobs;
        let date = SIM_EPOCH.http_date();
        let lm = Timestamp(SIM_EPOCH.0 - 1_000_000_000).http_date();
        let r = resp(200, &[("date", &date), ("last-modified", &lm)]);
        assert_eq!(storable(&k, &get(&[]), &r, SIM_EPOCH), Err(NoStore::Status));
        let r = resp(203, &[("date", &date), ("last-modified", &lm)]);
        assert_eq!(
            storable(&k, &get(&[]), &r, SIM_EPOCH).map(|f| f.lifetime_ms),
            Ok(86_400_000)
        );
        let r = resp(200, &[("cache-control", "max-age=60")]);
        assert!(storable(&k, &get(&[]), &r, SIM_EPOCH).is_ok());
    }

    /// Squid's default `refresh_pattern -i (/cgi-bin/|\?) 0 0% 0`: a URL with a query
    /// or /cgi-bin/ is stored on Last-Modified but stale at once; others get 20%.
    #[test]
    fn squid_gives_query_urls_no_heuristic_lifetime() {
        let k = profile("squid").unwrap().knobs;
        let date = SIM_EPOCH.http_date();
        let lm = Timestamp(SIM_EPOCH.0 - 1_000_000_000).http_date();
        let r = resp(200, &[("date", &date), ("last-modified", &lm)]);
        let at = |t: &str| {
            storable(&k, &Request::fixture("GET", "a", t, &[]), &r, SIM_EPOCH)
                .map(|f| f.lifetime_ms)
        };
        assert_eq!(at("/lm/1"), Ok(200_000_000));
        assert_eq!(at("/lm/2?v=1"), Ok(0));
        assert_eq!(at("/lm/2?"), Ok(0));
        assert_eq!(at("/x/CGI-BIN/run"), Ok(0));
        assert_eq!(at("/cgi-bin"), Ok(200_000_000));
        // explicit freshness is not a heuristic
        let mx = resp(200, &[("cache-control", "max-age=60")]);
        let f = storable(
            &k,
            &Request::fixture("GET", "a", "/q?x", &[]),
            &mx,
            SIM_EPOCH,
        );
        assert_eq!(f.map(|f| f.lifetime_ms), Ok(60_000));
        // without Last-Modified there is nothing to revalidate with: not stored
        let bare = resp(200, &[("date", &date)]);
        let f = storable(
            &k,
            &Request::fixture("GET", "a", "/q?x", &[]),
            &bare,
            SIM_EPOCH,
        );
        assert_eq!(f, Err(NoStore::NoFreshness));
    }

    #[test]
    fn methods() {
        let k = Knobs::rfc9111();
        let mut r = get(&[]);
        let ok = resp(200, &[("cache-control", "max-age=60")]);
        r.method = "OPTIONS".into();
        assert_eq!(storable(&k, &r, &ok, SIM_EPOCH), Err(NoStore::Method));
        r.method = "HEAD".into();
        assert_eq!(storable(&k, &r, &ok, SIM_EPOCH), Err(NoStore::Method));
        r.method = "POST".into();
        assert_eq!(storable(&k, &r, &ok, SIM_EPOCH), Err(NoStore::Method));
        let mut s3 = profile("cloudfront-cors-s3").unwrap().knobs;
        r.method = "OPTIONS".into();
        assert!(storable(&s3, &r, &ok, SIM_EPOCH).is_ok());
        s3.cache_options = false;
        assert!(storable(&s3, &r, &ok, SIM_EPOCH).is_err());
    }

    /// Varnish's builtin VCL and nginx look for the words no-cache, no-store and private
    /// anywhere in Cache-Control, inside unknown extensions too; Squid, ATS and the RFC
    /// reading ignore the unknown extensions (tests/fidelity z50).
    #[test]
    fn cache_control_words_found_anywhere() {
        let life = |p: &str, cc: &str| {
            let k = profile(p).unwrap().knobs;
            storable(
                &k,
                &get(&[]),
                &resp(200, &[("cache-control", cc)]),
                SIM_EPOCH,
            )
            .map(|f| f.lifetime_ms)
        };
        let hint = "public, max-age=60, x-private-hint";
        let note = "public, max-age=60, x-note=\"no-store\"";
        for p in ["varnish", "nginx"] {
            assert_eq!(life(p, hint), Err(NoStore::Private), "{p}");
            assert_eq!(life(p, note), Err(NoStore::NoStoreDirective), "{p}");
            assert_eq!(life(p, "public, max-age=60"), Ok(60_000), "{p}");
        }
        for p in ["rfc9111", "squid", "ats"] {
            assert_eq!(life(p, hint), Ok(60_000), "{p}");
            assert_eq!(life(p, note), Ok(60_000), "{p}");
        }
    }

    /// nginx finds `max-age=` as text, so inside `s-max-age=60`; its digits end at `,`
    /// `;` or a space, and anything else or 0 is not cacheable; later lines replace
    /// earlier ones, an invalid one spoils them all (tests/fidelity z19, z45, z51, z53).
    #[test]
    fn nginx_finds_the_lifetime_as_text() {
        let nginx = profile("nginx").unwrap().knobs;
        let life = |k: &Knobs, lines: &[&str]| {
            let h: Vec<_> = lines.iter().map(|l| ("cache-control", *l)).collect();
            storable(k, &get(&[]), &resp(200, &h), SIM_EPOCH).map(|f| f.lifetime_ms / 1000)
        };
        let typo = ["public, s-max-age=60, max-age=0"];
        assert_eq!(life(&nginx, &typo), Ok(60));
        assert_eq!(life(&Knobs::rfc9111(), &typo), Ok(0));
        assert_eq!(life(&profile("varnish").unwrap().knobs, &typo), Ok(0));
        assert_eq!(life(&nginx, &["public, s-maxage=30, max-age=60"]), Ok(30));
        assert_eq!(life(&nginx, &["MAX-AGE=60;x"]), Ok(60));
        assert_eq!(life(&nginx, &["max-age=60, max-age=0"]), Ok(60));
        for bad in [
            "max-age= 60",
            "max-age=+60",
            "max-age=60.5",
            "max-age=\"60\"",
            "max-age=0",
        ] {
            assert_eq!(life(&nginx, &[bad]), Ok(0), "{bad}");
        }
        assert_eq!(life(&nginx, &["public, s-maxage=abc, max-age=60"]), Ok(0));
        assert_eq!(life(&nginx, &["max-age=60, stale-if-error=x"]), Ok(0));
        assert_eq!(life(&nginx, &["public", "max-age=60"]), Ok(60));
        assert_eq!(life(&nginx, &["max-age=60", "max-age=30"]), Ok(30));
        assert_eq!(life(&nginx, &["max-age=0", "max-age=30"]), Ok(0));
        // 20 digits wrap nginx's 64-bit int to a positive value: cached
        assert_eq!(
            life(&nginx, &["max-age=99999999999999999999"]),
            Ok(DELTA_SECONDS_MAX)
        );
    }

    /// How each cache reads a delta-seconds value (tests/fidelity z52, z53): the RFC
    /// takes digits only; Varnish strtoul, Squid atoi into an int, ATS skips to the
    /// first digit, nginx stops at `,` `;` or a space.
    #[test]
    fn delta_seconds_per_cache() {
        use DeltaSeconds::*;
        let big = Some(DELTA_SECONDS_MAX);
        let cases: [(&str, [Option<u64>; 5]); 13] = [
            // value: strict, strtoul, atoi, skip-to-digit, nginx
            ("60", [Some(60); 5]),
            ("+60", [None, Some(60), Some(60), Some(60), None]),
            ("60.5", [None, Some(60), Some(60), Some(60), None]),
            ("0x3c", [None, Some(0), Some(0), Some(0), None]),
            (" 60", [Some(60), Some(60), Some(60), Some(60), None]),
            ("60 s", [None, Some(0), Some(60), Some(60), Some(60)]),
            ("\"60\"", [None, Some(0), None, Some(60), None]),
            ("abc", [None, Some(0), None, None, None]),
            ("-5", [None, Some(0), None, Some(0), None]),
            ("+0", [None, Some(0), None, Some(0), None]),
            ("2147483648", [big, big, None, Some(i32::MAX as u64), big]),
            (
                "99999999999999999999",
                [big, big, None, Some(i32::MAX as u64), big],
            ),
            (
                "4294967356",
                [big, big, Some(60), Some(i32::MAX as u64), big],
            ),
        ];
        for (v, want) in cases {
            for (how, want) in [Strict, Strtoul, Atoi, SkipToDigit, Nginx]
                .into_iter()
                .zip(want)
            {
                assert_eq!(read_delta_seconds(how, v), want, "{how} {v:?}");
            }
        }
        // through the profiles: Squid rejects the overflow and has no lifetime left
        let life = |p: &str, cc: &str| {
            let k = profile(p).unwrap().knobs;
            storable(
                &k,
                &get(&[]),
                &resp(200, &[("cache-control", cc)]),
                SIM_EPOCH,
            )
            .map(|f| f.lifetime_ms / 1000)
        };
        assert_eq!(
            life("squid", "public, max-age=2147483648"),
            Err(NoStore::NoFreshness)
        );
        for p in ["varnish", "nginx", "ats", "rfc9111"] {
            assert!(
                life(p, "public, max-age=2147483648").unwrap() > 86_400,
                "{p}"
            );
        }
        for p in ["varnish", "squid", "ats"] {
            assert_eq!(life(p, "public, max-age=+60"), Ok(60), "{p}");
            assert_eq!(life(p, "public, max-age=60.5"), Ok(60), "{p}");
            assert_eq!(life(p, "public, max-age=0x3c"), Ok(0), "{p}");
        }
        assert_eq!(life("rfc9111", "public, max-age=+60"), Ok(0));
        assert_eq!(life("nginx", "public, max-age=+60"), Ok(0));
    }

    /// Surrogate-Control where it is not the targeted field: Varnish's builtin VCL and
    /// Squid as an accelerator read it, nginx, ATS and the RFC reading do not
    /// (tests/fidelity z48, z49).
    #[test]
    fn surrogate_control_at_varnish_and_squid() {
        let life = |p: &str, cc: &str, sc: &str| {
            let k = profile(p).unwrap().knobs;
            let h = [("cache-control", cc), ("surrogate-control", sc)];
            storable(&k, &get(&[]), &resp(200, &h), SIM_EPOCH).map(|f| f.lifetime_ms / 1000)
        };
        // z49: no-store for the CDN only
        for p in ["varnish", "squid"] {
            assert_eq!(
                life(p, "public, max-age=60", "no-store"),
                Err(NoStore::NoStoreDirective),
                "{p}"
            );
        }
        for p in ["nginx", "ats", "rfc9111"] {
            assert_eq!(life(p, "public, max-age=60", "no-store"), Ok(60), "{p}");
        }
        // z48: private / no-store with a Surrogate-Control max-age
        assert_eq!(life("varnish", "private", "max-age=60"), Ok(120));
        assert_eq!(life("varnish", "no-store", "max-age=60"), Ok(120));
        assert_eq!(life("squid", "private", "max-age=60"), Ok(0));
        assert_eq!(life("squid", "no-store", "max-age=60+90"), Ok(60));
        let esi = "content=\"ESI/1.0\"";
        for p in ["varnish", "squid"] {
            assert_eq!(life(p, "private, max-age=60", esi), Ok(60), "{p}");
        }
        for p in ["nginx", "ats", "rfc9111"] {
            assert_eq!(
                life(p, "private, max-age=60", esi),
                Err(NoStore::Private),
                "{p}"
            );
        }
        // a directive targeted at another surrogate leaves Squid's Cache-Control alone
        assert_eq!(
            life("squid", "private, max-age=60", "no-store;abc"),
            Err(NoStore::Private)
        );
    }

    /// The parsing and storage quirks of the real caches (tests/fidelity z19-z30), each
    /// against the RFC reading of the same response.
    #[test]
    fn real_cache_quirks() {
        let rfc = Knobs::rfc9111();
        let knobs = |p: &str| profile(p).unwrap().knobs;
        let life = |k: &Knobs, h: &[(&str, &str)], status: u16| {
            storable(k, &get(&[]), &resp(status, h), SIM_EPOCH).map(|f| f.lifetime_ms)
        };
        // quoted max-age: accepted by the RFC reading, 0 where it is taken as invalid
        let quoted = [("cache-control", "public, max-age=\"60\"")];
        assert_eq!(life(&rfc, &quoted, 200), Ok(60_000));
        for p in ["varnish", "nginx"] {
            assert_eq!(life(&knobs(p), &quoted, 200), Ok(0), "{p}");
        }
        // Squid drops an invalid max-age: no lifetime, unless Expires gives one
        let squid = knobs("squid");
        assert_eq!(life(&squid, &quoted, 200), Err(NoStore::NoFreshness));
        let date = SIM_EPOCH.http_date();
        let later = SIM_EPOCH.plus_secs(60).http_date();
        let bad_ma = [
            ("cache-control", "max-age=abc"),
            ("date", date.as_str()),
            ("expires", later.as_str()),
        ];
        assert_eq!(life(&rfc, &bad_ma, 200), Ok(0));
        assert_eq!(life(&squid, &bad_ma, 200), Ok(60_000));
        // a response Pragma: no-cache without Cache-Control: nothing, or no-cache at Squid
        let pragma = [
            ("pragma", "no-cache"),
            ("date", date.as_str()),
            ("expires", later.as_str()),
        ];
        assert_eq!(life(&rfc, &pragma, 200), Ok(60_000));
        assert_eq!(life(&squid, &pragma, 200), Ok(0));
        let with_cc = [("pragma", "no-cache"), ("cache-control", "max-age=60")];
        assert_eq!(life(&squid, &with_cc, 200), Ok(60_000));
        assert_eq!(life(&knobs("ats"), &with_cc, 200), Ok(0));
        // upper-case directive names: unknown to Squid (no lifetime, no heuristic)
        let upper = [("cache-control", "PUBLIC, MAX-AGE=60")];
        assert_eq!(life(&rfc, &upper, 200), Ok(60_000));
        assert_eq!(
            life(&knobs("squid"), &upper, 200),
            Err(NoStore::NoFreshness)
        );
        // a repeated max-age: the first wins, or stale at ATS
        let twice = [("cache-control", "max-age=60, max-age=0")];
        assert_eq!(life(&rfc, &twice, 200), Ok(60_000));
        assert_eq!(life(&knobs("ats"), &twice, 200), Ok(0));
        let same = [("cache-control", "max-age=60, max-age=60")];
        assert_eq!(life(&knobs("ats"), &same, 200), Ok(60_000));
        // an Expires that is not a date: expired, or default_ttl at Varnish
        let bad = [("expires", "0")];
        assert_eq!(life(&rfc, &bad, 200), Ok(0));
        assert_eq!(life(&knobs("varnish"), &bad, 200), Ok(120_000));
        // Age counts, except at nginx
        let aged = storable(
            &knobs("nginx"),
            &get(&[]),
            &resp(200, &[("cache-control", "max-age=60"), ("age", "100")]),
            SIM_EPOCH,
        )
        .unwrap();
        assert_eq!(aged.initial_age_ms, 0);
        // statuses a cache never stores, whatever the lifetime
        let ma = [("cache-control", "max-age=60")];
        assert!(life(&rfc, &ma, 308).is_ok());
        assert_eq!(life(&knobs("varnish"), &ma, 308), Err(NoStore::Status));
        assert!(life(&knobs("varnish"), &ma, 302).is_ok());
        assert_eq!(life(&knobs("squid"), &ma, 204), Err(NoStore::Status));
        // ATS heuristics: 203/300/301/410 only, within 3600..86400 s, 3600 without
        // Last-Modified; a 200 needs an explicit lifetime
        let date = SIM_EPOCH.plus_secs(100 * 86_400).http_date();
        let lm = SIM_EPOCH.http_date();
        let ats = knobs("ats");
        let with_lm = [("date", date.as_str()), ("last-modified", lm.as_str())];
        assert_eq!(life(&ats, &with_lm, 203), Ok(86_400_000));
        assert_eq!(life(&ats, &with_lm, 200), Err(NoStore::Status));
        assert_eq!(life(&ats, &with_lm, 404), Err(NoStore::Status));
        assert_eq!(life(&ats, &[("date", date.as_str())], 301), Ok(3_600_000));
        assert_eq!(
            life(&rfc, &[("date", date.as_str())], 301),
            Err(NoStore::NoFreshness)
        );
        // Authorization: RFC refuses a plain max-age; nginx and ATS store it
        let auth = get(&[("authorization", "Bearer x")]);
        let plain = resp(200, &ma);
        assert_eq!(
            storable(&rfc, &auth, &plain, SIM_EPOCH),
            Err(NoStore::Authorization)
        );
        assert!(storable(&knobs("nginx"), &auth, &plain, SIM_EPOCH).is_ok());
        assert!(storable(&knobs("ats"), &auth, &plain, SIM_EPOCH).is_ok());
    }
}
