//! The edge's configuration: the cache-key knobs of PRODUCT.md. The edge core reads them;
//! profiles (`crate::profile`) are named presets of them.
//!
//! Every knob enum carries its id — the one spelling used by the scenario YAML (parser and
//! writer), the JSON of `varyedge profiles`, the `varyedge proxy` flags and the reports:
//! [`VaryMode::id`], `FromStr` and clap's `ValueEnum` all come from the one table in
//! `knob_enum!`.

use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A knob value that is not one of the knob's ids.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected one of {expected}, found {found:?}")]
pub struct UnknownKnobValue {
    /// The knob (`vary`, `collapse`, …).
    pub knob: &'static str,
    /// What was given.
    pub found: String,
    /// The ids, comma-separated.
    pub expected: String,
}

/// Defines a knob enum with its ids: `id()`, `ALL`, `FromStr`, `Display`, `Serialize` (the
/// id as a string) and clap's `ValueEnum` (the id as the value, `$help` as its help).
macro_rules! knob_enum {
    (
        $(#[$m:meta])*
        pub enum $name:ident ($knob:literal) {
            $( $(#[$vm:meta])* $var:ident = $id:literal, $help:literal; )+
        }
    ) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vm])* $var, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The knob's name in a scenario's `edge:` block.
            pub const KNOB: &'static str = $knob;

            /// The value's id (kebab-case).
            pub fn id(self) -> &'static str {
                match self { $($name::$var => $id,)+ }
            }

            fn help(self) -> &'static str {
                match self { $($name::$var => $help,)+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownKnobValue;
            fn from_str(s: &str) -> Result<Self, UnknownKnobValue> {
                Self::ALL.iter().copied().find(|v| v.id() == s).ok_or_else(|| UnknownKnobValue {
                    knob: $knob,
                    found: s.to_string(),
                    expected: Self::ALL.iter().map(|v| v.id()).collect::<Vec<_>>().join(", "),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.id())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.id())
            }
        }

        impl clap::ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                Self::ALL
            }
            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(self.id()).help(self.help()))
            }
        }
    };
}

knob_enum! {
    /// How the response `Vary` field forms the secondary key.
    pub enum VaryMode ("vary") {
        /// RFC 9111 §4.1: every nominated request field must match.
        Honor = "honor", "RFC 9111: every nominated request field must match";
        /// `Vary` plays no part in the key (CloudFront, Cloudflare's default, Azure Front Door).
        Ignore = "ignore", "Vary plays no part in the key";
        /// Honoured, except that `Origin` is dropped from it (a cache that normalises Origin away).
        IgnoreOrigin = "ignore-origin", "Honoured except for Origin";
        /// Only `Accept-Encoding` is honoured (Cloudflare's default).
        AcceptEncodingOnly = "accept-encoding-only", "Only Accept-Encoding is honoured";
        /// A response whose `Vary` names anything beyond `Accept-Encoding` is not stored (Akamai).
        Uncacheable = "uncacheable", "Vary beyond Accept-Encoding is not stored";
    }
}

knob_enum! {
    /// Whether `Origin` and the `Access-Control-Request-*` headers key an `OPTIONS` entry.
    pub enum PreflightKey ("preflight_key") {
        /// They are part of an `OPTIONS` entry's primary key.
        Honor = "honor", "They key OPTIONS entries";
        /// They are not (CloudFront with `CachedMethods: GET,HEAD,OPTIONS` and no header in the policy).
        Ignore = "ignore", "They do not";
    }
}

knob_enum! {
    /// How a `Vary` field value with a `*` member is treated.
    pub enum VaryStar ("vary_star") {
        /// RFC 9111 §4.1: any `*` member always fails to match (stored, never reused).
        NeverMatch = "never-match", "RFC 9111: a `*` member never matches";
        /// Only the exact value `*` is recognised (and not stored); `Foo, *` is stored and
        /// matched on `Foo` (Varnish builtin VCL, nginx: cache-tests `vary-parse` failures).
        ExactOnly = "exact-only", "Only the exact value `*` is recognised";
        /// Never stored (ATS, Cloudflare).
        Bypass = "bypass", "Never stored";
        /// The `*` is ignored and the response reused (Fastly fails all 8 `*` tests).
        Reuse = "reuse", "The `*` is ignored and the response reused";
    }
}

knob_enum! {
    /// How the selecting request header values are compared (docs/research/cdn-vary.md §0, point 6).
    pub enum VaryCompare ("vary_compare") {
        /// Field lines combined, optional whitespace around commas removed (RFC 9111 §4.1 (1)(2)).
        Combine = "combine", "Field lines combined, whitespace around commas removed";
        /// Raw bytes of the first line, untouched (Squid).
        Raw = "raw", "Raw bytes of the first line";
        /// Leading and trailing whitespace trimmed only (Varnish).
        Trim = "trim", "Outer whitespace trimmed only";
        /// Case- and whitespace-insensitive (ATS).
        Fold = "fold", "Case- and whitespace-insensitive";
    }
}

knob_enum! {
    /// How `Accept-Encoding` takes part in `Vary` matching. Caches that compress
    /// themselves do not compare browsers' differing `Accept-Encoding` lists as they are,
    /// so a `Vary: Accept-Encoding` entry stored for one engine is served to another.
    pub enum VaryAcceptEncoding ("vary_accept_encoding") {
        /// Compared like any other selecting field (`vary_compare`).
        Exact = "exact", "Compared like any other selecting field";
        /// Never compared: any two values match, absent included (Varnish with
        /// `http_gzip_support` on, its default: cache_vary.c `vry_cmp`).
        Ignore = "ignore", "Never compared: any two values match";
        /// Rewritten before the lookup to `gzip` when the request accepts gzip (a
        /// `gzip`, `x-gzip` or `*` member with q other than 0), removed otherwise (ATS
        /// `proxy.config.http.normalize_ae` 1, its default).
        Gzip = "gzip", "Rewritten to gzip when gzip is accepted, removed otherwise";
    }
}

knob_enum! {
    /// What a cache does with a response carrying `Set-Cookie`. RFC 9111 lets a shared
    /// cache store it (nothing in §3 forbids it); a stored `Set-Cookie` replayed to other
    /// clients hands them someone else's session, so most caches refuse or strip it.
    pub enum SetCookie ("set_cookie") {
        /// Stored with the `Set-Cookie` and replayed on hits (flagged by the proxy).
        Store = "store", "Stored with the Set-Cookie, replayed on hits";
        /// Not stored (Varnish builtin VCL, nginx, Fastly, Cloudflare).
        NotStored = "not-stored", "Responses with Set-Cookie are not stored";
        /// Stored, but served without the `Set-Cookie` (Squid strips it from hits,
        /// CloudFront without cookie forwarding from every response).
        Strip = "strip", "Stored, served without the Set-Cookie";
    }
}

knob_enum! {
    /// Request collapsing.
    pub enum Collapse ("collapse") {
        /// Every miss goes to the origin.
        Off = "off", "Every miss goes upstream";
        /// Concurrent misses for one primary key wait for the leader; a waiter takes the
        /// leader's response only if it is stored and its `Vary` matches the waiter.
        On = "on", "Waiters take the leader's response only if it is stored and its Vary matches";
        /// Waiters take the leader's response whatever it varies on (method+URL collapsing,
        /// as go-proxy-cache and Azure Front Door's "in-flight requests may share" do).
        Naive = "naive", "Waiters take the leader's response whatever it varies on";
    }
}

knob_enum! {
    /// How a request carrying `Authorization` meets stored responses.
    pub enum AuthorizationRule ("authorization") {
        /// RFC 9111 §3.5: the answer to such a request is stored only when it says
        /// `public`, `s-maxage` or `must-revalidate`.
        Rfc = "rfc", "Stored only with public, s-maxage or must-revalidate";
        /// `Authorization` plays no part: stored and served as any request (nginx).
        Ignore = "ignore", "Authorization plays no part";
        /// The answer is stored whatever it says, but a request with `Authorization` is
        /// served a stored response only when that says `public`, `s-maxage` or
        /// `must-revalidate` (ATS 9.2, measured: tests/fidelity z23).
        AtLookup = "at-lookup", "Stored always; served to Authorization requests only when public, s-maxage or must-revalidate";
    }
}

knob_enum! {
    /// What a response's `Pragma: no-cache` means to the cache.
    pub enum ResponsePragma ("response_pragma") {
        /// Nothing (RFC 9111 §5.4 defines Pragma for requests).
        Ignored = "ignored", "Nothing: Pragma is a request field";
        /// `no-cache` when the response has no `Cache-Control` (Squid).
        WithoutCacheControl = "without-cache-control", "no-cache when there is no Cache-Control";
        /// `no-cache` whatever else the response says (ATS).
        Always = "always", "no-cache, whatever Cache-Control says";
    }
}

knob_enum! {
    /// How the value of a `max-age` or `s-maxage` directive (delta-seconds) is read.
    /// Whatever the reading, a value beyond 2^31 is held as 2^31 (RFC 9111 §1.2.2); what
    /// is invalid is stale at once, or absent with `cc_invalid_absent`.
    pub enum DeltaSeconds ("delta_seconds") {
        /// RFC 9111 §1.2.2: `1*DIGIT`, anything else invalid; too large to represent
        /// means 2^31.
        Strict = "strict", "RFC 9111: digits only; too large means 2^31";
        /// C `strtoul` in base 10 (Varnish 7.1 `rfc2616_time` in cache_rfc2616.c):
        /// leading blanks and a `+` skipped, the digits read, then blanks; the value
        /// counts when the text ends there or goes on with `,` or `.` (so `60.5` is 60),
        /// else it is 0; a leading `-` is 0; above 2^32-1 it is 2^32-1.
        Strtoul = "strtoul", "C strtoul: `+60` and `60.5` are 60, trailing text other than `,` or `.` makes 0";
        /// C `atoi` into a 32-bit int (Squid 5.7 `httpHeaderParseInt`, HttpHeaderTools.cc):
        /// blanks and a sign skipped, digits read up to the first non-digit (`60.5` and
        /// `+60` are 60, `0x3c` is 0); a value that overflows the int comes out negative and
        /// the directive is rejected, and so is a 0 whose text does not start with a digit.
        Atoi = "atoi", "C atoi into an int: `+60` and `60.5` are 60, an overflow is rejected";
        /// Everything before the first digit is skipped, then digits are read, saturating
        /// at 2^31-1 (ATS 9.2 `mime_parse_integer` in MIME.cc): `+60`, `60.5`, `"60"` are
        /// 60, `0x3c` is 0, no digit at all is 0.
        SkipToDigit = "skip-to-digit", "Skips to the first digit: `+60`, `60.5`, `\"60\"` are 60, saturating";
        /// Digits up to `,`, `;`, a space or the end; any other byte, or a value of 0,
        /// makes the response uncacheable (nginx 1.22 `ngx_http_upstream_process_cache_control`:
        /// `max-age= 60` is 0).
        Nginx = "nginx", "Digits up to `,` `;` or a space; anything else, or 0, uncacheable";
    }
}

knob_enum! {
    /// What a response's `Surrogate-Control` (W3C Edge Architecture 1.0) does at a cache
    /// that does not take it as its targeted field (`targeted`).
    pub enum SurrogateControl ("surrogate_control") {
        /// Not read.
        Ignored = "ignored", "Not read";
        /// Varnish 7.1 builtin `vcl_beresp_control`: `no-store` anywhere in it
        /// (case-insensitive) makes the response hit-for-miss, never reused; while it is
        /// present at all, `Cache-Control` is not searched for no-cache, no-store or
        /// private (the core reads neither field's lifetime from it: TTL from
        /// `Cache-Control` max-age or `default_ttl`).
        VarnishBuiltin = "varnish-builtin", "no-store in it: not stored; present: Cache-Control's no-cache/no-store/private not looked for";
        /// Squid 5.7 as an accelerator (`HttpStateData::processSurrogateControl`, http.cc):
        /// when a directive applies to it (untargeted here), `no-store` means not stored,
        /// `max-age=N[+M]` gives a lifetime of min(N, M) (M is 0 when absent), and
        /// `Cache-Control`'s no-store, private and no-cache are ignored (its max-age still
        /// gives the lifetime when Surrogate-Control has none).
        SquidAccel = "squid-accel", "no-store: not stored; max-age=N[+M]: min(N, M); Cache-Control's no-store/private/no-cache ignored";
    }
}

knob_enum! {
    /// How the cache reads the HTTP-date in a response's `Expires`. RFC 9110 §5.6.7
    /// defines IMF-fixdate and the obsolete RFC 850 and asctime forms; a recipient MAY
    /// take other forms, and each cache's own parser takes some (tests/fidelity z69).
    pub enum HttpDate ("http_date") {
        /// The three forms of RFC 9110 §5.6.7 exactly, anything else invalid (Varnish
        /// 7.1 `VTIM_parse`).
        Strict = "strict", "RFC 9110: IMF-fixdate, RFC 850 or asctime, exactly";
        /// nginx 1.22 `ngx_parse_http_time`: nothing after the seconds is read (`+0000`,
        /// `UTC` pass), but the day must be two digits (`1 Jan` is invalid).
        Nginx = "nginx", "Zone not read; two-digit day required";
        /// Squid 5.7 `parse_rfc1123`: words in any order, the day read with `atoi`
        /// (`1 Jan` passes), but a zone other than `GMT` is invalid.
        Squid = "squid", "One-digit day read; a zone other than GMT is invalid";
        /// ATS 9.2 `mime_parse_date`: the zone is never read and each number is the
        /// next run of digits (`1 Jan`, `+0000`, `UTC` all pass); past 2037 is 2^31-1.
        Ats = "ats", "Zone not read; any day digits; past 2037 is 2038-01-19";
    }
}

/// What part of the query string is in the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueryKey {
    /// The whole query, as sent.
    All,
    /// None of it (CloudFront `CachingOptimized`).
    None,
    /// Only these parameters, sorted by name.
    List(Vec<String>),
}

/// TTL overrides as CDNs offer them, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TtlOverride {
    /// Used when the response states no freshness lifetime.
    pub default: Option<u64>,
    /// Lower bound; when above 0 it also stores responses marked `no-store`, `no-cache` or
    /// `private`, as CloudFront documents for a cache policy's minimum TTL.
    pub min: Option<u64>,
    /// Upper bound.
    pub max: Option<u64>,
}

/// A cache's own window for serving an expired entry while it is refreshed behind, in
/// seconds: Varnish's grace (`beresp.grace`). Varnish 7.1 sets it from the response's
/// `stale-while-revalidate` directive when there is one, else from `default_grace` (10 s),
/// and a VCL `set beresp.grace` replaces both. It ignores `must-revalidate`
/// (`cache_rfc2616.c` `RFC2616_Ttl` reads neither it nor `proxy-revalidate`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Grace {
    /// The window of a response without a `stale-while-revalidate` directive (or whose
    /// directive the profile ignores).
    pub default: u64,
    /// The window of every response, directive or not (a VCL's `set beresp.grace`).
    pub fixed: Option<u64>,
}

/// How a cache stores and reuses error responses (status 400 and above). RFC 9111 lets a
/// cache store any status with explicit freshness (§3) and none without it unless it is
/// heuristically cacheable (RFC 9110 §15.1: 404, 405, 410, 414, 501); CDNs add their own
/// defaults, which is how a 404 or 503 without `Access-Control-Allow-Origin` ends up
/// served to every caller for a while (cdnjs/cdnjs#13165, rust-lang/crates.io#6142).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ErrorCaching {
    /// Error statuses the cache stores at all; any other error status is never stored,
    /// whatever its headers say. `None`: every status, as RFC 9111 allows.
    pub statuses: Option<Vec<u16>>,
    /// TTL in seconds for a listed error without explicit freshness (CloudFront's Error
    /// Caching Minimum TTL, 10 s by default). `None`: RFC 9111 rules only.
    pub ttl: Option<u64>,
    /// The TTL is also a floor over explicit freshness (CloudFront caches "for the greater
    /// of the value in the header and the Error Caching Minimum TTL").
    pub ttl_is_floor: bool,
    /// Statuses whose `no-store`, `no-cache` and `private` the cache ignores, storing them
    /// for `ttl` anyway (CloudFront: every cached error but 404, 410, 414 and 501).
    pub ignore_no_store: Vec<u16>,
}

/// One edge configuration: the knobs of PRODUCT.md plus the per-cache details the real
/// caches differ on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Knobs {
    /// How `Vary` forms the secondary key.
    pub vary: VaryMode,
    /// Request headers always in the primary key, lowercase.
    pub key_headers: Vec<String>,
    /// Whether `OPTIONS` responses are stored.
    pub cache_options: bool,
    /// Whether the preflight headers key an `OPTIONS` entry.
    pub preflight_key: PreflightKey,
    /// Query string in the key.
    pub query: QueryKey,
    /// Variants kept per primary key, oldest replaced; `None` = unbounded.
    pub max_variants: Option<usize>,
    /// Request collapsing.
    pub collapse: Collapse,
    /// TTL overrides.
    pub ttl: TtlOverride,
    /// Edge locations.
    pub pops: u32,
    /// A shared tier behind the POPs.
    pub shield: bool,
    /// Whether `Host` is part of the key.
    pub key_host: bool,
    /// Requests carrying `Cookie` are passed (Varnish builtin VCL).
    pub pass_cookie: bool,
    /// Requests carrying `Authorization` are passed (Varnish builtin VCL); otherwise RFC
    /// 9111 §3.5 applies (stored only with `public`, `s-maxage` or `must-revalidate`).
    pub pass_authorization: bool,
    /// `Vary: *` treatment.
    pub vary_star: VaryStar,
    /// Selecting-header comparison.
    pub vary_compare: VaryCompare,
    /// How `Accept-Encoding` takes part in `Vary` matching.
    pub vary_accept_encoding: VaryAcceptEncoding,
    /// Vary names (lowercase) a response may carry and still be stored; any other name
    /// makes it uncacheable (Google Cloud CDN). `None` = no such rule.
    pub vary_allowlist: Option<Vec<String>>,
    /// Responses with `Set-Cookie`.
    pub set_cookie: SetCookie,
    /// Which request fields reach the origin on a miss or pass (`edge::forward`).
    pub forward: crate::edge::forward::Forward,
    /// CORS fields the edge adds itself (a CloudFront response headers policy).
    pub edge_cors: Option<crate::edge::cors::EdgeCors>,
    /// `HEAD` keyed apart from `GET` (VCL `hash_data(req.method)`); by default they share.
    pub key_head_apart: bool,
    /// A cacheable `HEAD` miss is fetched as `GET` and the whole response stored, so a
    /// later `GET` is a hit (Varnish's fetch, nginx `proxy_cache_convert_head` on);
    /// otherwise a `HEAD` answer stores nothing.
    pub head_as_get: bool,
    /// `/p?` (an empty query) is keyed apart from `/p`; ATS keys them as one URL.
    pub key_empty_query: bool,
    /// Targeted cache-control fields the cache obeys instead of `Cache-Control`, first
    /// present and valid one wins (RFC 9213 §2.1), lowercase: `cdn-cache-control`,
    /// `cloudflare-cdn-cache-control`, `surrogate-control`. Empty: none.
    pub targeted: Vec<String>,
    /// Request `Cache-Control` (`no-cache`, `max-age`, `min-fresh`, `max-stale`,
    /// `no-store`, `only-if-cached`) and `Pragma: no-cache` are honoured (RFC 9111
    /// §5.2.1); most CDNs ignore them.
    pub request_cache_control: bool,
    /// Heuristic freshness (RFC 9111 §4.2.2) as a percentage of the time since
    /// `Last-Modified`, for heuristically cacheable statuses without explicit freshness.
    pub heuristic_pct: Option<u64>,
    /// A URL with a query string or `/cgi-bin/` gets a heuristic lifetime of 0: stored
    /// (when it has `Last-Modified`) but stale at once (Squid's default `refresh_pattern
    /// -i (/cgi-bin/|\?) 0 0% 0`).
    pub heuristic_skips_query: bool,
    /// The statuses `ttl.default` applies to; `None`: every status (Varnish gives its
    /// `default_ttl` only to 200, 203, 204, 300, 301, 304, 404, 410 and 414).
    pub default_ttl_statuses: Option<Vec<u16>>,
    /// A stale entry with a validator is revalidated with a conditional request
    /// (`If-None-Match` / `If-Modified-Since`, RFC 9111 §4.3.1) and a `304` freshens it
    /// (§4.3.4); otherwise it is refetched whole.
    pub revalidate: bool,
    /// A non-error response to an unsafe method invalidates the stored responses for
    /// the target URI and same-origin `Location` / `Content-Location` (RFC 9111 §4.4).
    pub invalidate_unsafe: bool,
    /// With `invalidate_unsafe`, only the stored responses the unsafe request itself
    /// selects by their `Vary` go (ATS looks the URL up with the unsafe request's fields
    /// and removes that alternate: a DELETE without Origin leaves Vary: Origin
    /// alternates alone, one from a.example removes a.example's only).
    pub invalidate_needs_match: bool,
    /// With `invalidate_unsafe`, the same-origin `Location` and `Content-Location` of the
    /// answer are invalidated too (RFC 9111 §4.4's MAY; Squid does, ATS does not).
    pub invalidate_locations: bool,
    /// What a response's `Pragma: no-cache` means (RFC 9111 §5.4 defines it for requests
    /// only).
    pub response_pragma: ResponsePragma,
    /// `stale-if-error` (RFC 5861 §4) is honoured: a stale entry within its window is
    /// served when the origin answers 500, 502, 503 or 504 or cannot be reached.
    pub stale_if_error: bool,
    /// `stale-while-revalidate` (RFC 5861 §3) is honoured: within its window a stale
    /// entry is served and refreshed behind it. Otherwise the directive is read and
    /// ignored, and the request that finds the entry stale waits for the origin (nginx
    /// without `proxy_cache_background_update`, Squid, ATS).
    pub stale_while_revalidate: bool,
    /// A cache's own stale-while-revalidate window (Varnish's grace), used whatever
    /// `must-revalidate` says.
    pub grace: Grace,
    /// A stale window, the directive's or the cache's own, applies only to a response
    /// stored with a lifetime above 0 (Varnish: the builtin `vcl_beresp_stale` makes an
    /// object whose TTL is 0 hit-for-miss, never delivered; tests/fidelity z42).
    pub stale_needs_ttl: bool,
    /// A stale entry is served when the origin cannot be reached at all (RFC 9111 §4.2.4:
    /// a disconnected cache may), unless `must-revalidate`, `proxy-revalidate`,
    /// `no-cache` or `s-maxage` forbid it.
    pub stale_on_disconnect: bool,
    /// A stale entry whose revalidation (or refetch) the origin answers with 500, 502,
    /// 503 or 504 is served instead of the error, unless `must-revalidate`,
    /// `proxy-revalidate`, `no-cache` or `s-maxage` forbid serving it stale, with or
    /// without `stale-if-error` (Squid 5.7 `clientReplyContext::handleIMSReply`:
    /// TCP_REFRESH_FAIL_OLD unless refresh.cc set `failOnValidationError`; ATS 9.2
    /// `proxy.config.http.negative_revalidating_enabled` 1, HttpTransact.cc
    /// `handle_cache_operation_on_forward_server_response` with
    /// `is_stale_cache_response_returnable`). RFC 9111 §4.2.4 allows stale only when
    /// disconnected, RFC 5861 §4 within `stale-if-error`.
    pub stale_on_revalidation_error: bool,
    /// Error responses.
    pub errors: ErrorCaching,
    /// The statuses this cache ever stores, whatever the response says; `None`: any
    /// status RFC 9111 §3 allows (Varnish's RFC2616_Ttl and Squid's reusableReply list
    /// theirs).
    pub store_statuses: Option<Vec<u16>>,
    /// An `Expires` that does not parse as a date is ignored, as if absent (so a default
    /// TTL applies), instead of meaning "already expired" (RFC 9111 §5.3): Varnish.
    pub expires_invalid_ignored: bool,
    /// How `Expires` is read as a date (what it does not read is invalid: already
    /// expired, or ignored with `expires_invalid_ignored`).
    pub http_date: HttpDate,
    /// The response's `Age` and `Date` do not count against its lifetime: the lifetime
    /// runs from when the cache received it (nginx reads neither).
    pub age_ignored: bool,
    /// `max-age` and `s-maxage` take bare digits only: the quoted form RFC 9111 §5.2 asks
    /// recipients to accept (`max-age="60"`) is invalid, so stale at once (Varnish, nginx,
    /// Squid).
    pub cc_quoted_invalid: bool,
    /// `Cache-Control` directive names are matched case-sensitively: `MAX-AGE=60` is an
    /// unknown directive (Squid).
    pub cc_case_sensitive: bool,
    /// A `max-age` or `s-maxage` repeated with another value makes the response stale
    /// (RFC 9111 §4.2.1's other choice) instead of the first value winning (ATS).
    pub cc_repeat_stale: bool,
    /// An invalid `max-age` or `s-maxage` value is ignored as if absent, so `Expires` or
    /// the other directive decides, instead of making the response stale (RFC 9111
    /// §4.2.1's advice): Squid.
    pub cc_invalid_absent: bool,
    /// How a `max-age` / `s-maxage` value is read (`+60`, `60.5`, ` 60`, an overflow).
    pub delta_seconds: DeltaSeconds,
    /// The words `no-cache`, `no-store` and `private` anywhere in `Cache-Control`, in any
    /// case and inside other directives or quoted values too, count as those directives
    /// (Varnish 7.1 builtin `vcl_beresp_control` matches the regex
    /// `(?i:no-cache|no-store|private)` on the field; nginx 1.22
    /// `ngx_http_upstream_process_cache_control` searches each with `ngx_strlcasestrn`).
    pub cc_words_anywhere: bool,
    /// The lifetime comes from the first `s-maxage=` in a `Cache-Control` line, else its
    /// first `max-age=`, found as text anywhere (`s-max-age=60` holds a `max-age=`),
    /// read with `delta_seconds`; a line that gives one replaces an earlier line's, and
    /// a line whose value is invalid or 0 makes the response uncacheable whatever the
    /// other lines say (nginx 1.22 `ngx_http_upstream_process_cache_control`, run on
    /// each line). Other directives are not read beyond `cc_words_anywhere`.
    pub cc_lifetime_anywhere: bool,
    /// What `Surrogate-Control` does when it is not a targeted field.
    pub surrogate_control: SurrogateControl,
    /// How requests with `Authorization` meet stored responses (unless
    /// `pass_authorization` passes them).
    pub authorization: AuthorizationRule,
    /// A `Vary` field with no member (`Vary:` empty, or only commas) is treated as
    /// `Vary: *` (Squid's empty vary mark: not shared).
    pub vary_empty_as_star: bool,
    /// Only the response's first `Vary` field line names selecting fields; later lines
    /// are not read (ATS 9.2: `MIMEHdr::value_get_comma_list` parses the first field
    /// `field_find` returns, not its duplicates; nginx 1.22 read only the last line,
    /// nginx 1.23 and later all of them).
    pub vary_first_line: bool,
    /// A `Vary` value longer than this many bytes (its lines joined with `, `) makes the
    /// response uncacheable (nginx: `NGX_HTTP_CACHE_VARY_LEN`, 128).
    pub vary_max_len: Option<usize>,
    /// A response with no freshness lifetime from any source (no explicit one, no
    /// default TTL, no heuristic: no `Last-Modified`) is still stored, stale on arrival,
    /// when its body is not empty, and revalidated on every use (Squid's
    /// `refreshIsCachable`; tests/fidelity z47).
    pub store_stale: bool,
    /// The statuses given a heuristic lifetime; `None`: those RFC 9110 §15.1 calls
    /// heuristically cacheable (ATS: 203, 300, 301, 410, and 200 not at all under
    /// `cache.required_headers` 2).
    pub heuristic_statuses: Option<Vec<u16>>,
    /// Bounds (min, max) in seconds on a heuristic lifetime; with them a response without
    /// `Last-Modified` gets the min (ATS `heuristic_min_lifetime` 3600,
    /// `heuristic_max_lifetime` 86400). `None`: no bounds, and no `Last-Modified` means no
    /// heuristic.
    pub heuristic_bounds: Option<(u64, u64)>,
    /// Request `no-cache`, `Pragma: no-cache`, `max-age` and `no-store` are ignored even
    /// where `request_cache_control` honours `min-fresh`, `max-stale` and
    /// `only-if-cached` (ATS `ignore_client_no_cache` 1, `ignore_client_cc_max_age` 1).
    pub ignore_client_reload: bool,
}

impl Knobs {
    /// RFC 9111 strict shared cache: method + URI key, `Vary` honoured, `OPTIONS` never stored.
    pub fn rfc9111() -> Knobs {
        Knobs {
            vary: VaryMode::Honor,
            key_headers: Vec::new(),
            cache_options: false,
            preflight_key: PreflightKey::Honor,
            query: QueryKey::All,
            max_variants: None,
            collapse: Collapse::Off,
            ttl: TtlOverride::default(),
            pops: 1,
            shield: false,
            key_host: true,
            pass_cookie: false,
            pass_authorization: false,
            vary_star: VaryStar::NeverMatch,
            vary_compare: VaryCompare::Combine,
            vary_accept_encoding: VaryAcceptEncoding::Exact,
            vary_allowlist: None,
            set_cookie: SetCookie::Store,
            forward: crate::edge::forward::Forward::all(),
            edge_cors: None,
            key_head_apart: false,
            head_as_get: false,
            key_empty_query: true,
            targeted: vec!["cdn-cache-control".into()],
            request_cache_control: true,
            heuristic_pct: Some(10),
            heuristic_skips_query: false,
            default_ttl_statuses: None,
            revalidate: true,
            invalidate_unsafe: true,
            invalidate_needs_match: false,
            invalidate_locations: true,
            response_pragma: ResponsePragma::Ignored,
            stale_if_error: true,
            stale_while_revalidate: true,
            grace: Grace::default(),
            stale_needs_ttl: false,
            stale_on_disconnect: true,
            stale_on_revalidation_error: false,
            errors: ErrorCaching::default(),
            store_statuses: None,
            expires_invalid_ignored: false,
            http_date: HttpDate::Strict,
            age_ignored: false,
            cc_quoted_invalid: false,
            cc_case_sensitive: false,
            cc_repeat_stale: false,
            cc_invalid_absent: false,
            delta_seconds: DeltaSeconds::Strict,
            cc_words_anywhere: false,
            cc_lifetime_anywhere: false,
            surrogate_control: SurrogateControl::Ignored,
            authorization: AuthorizationRule::Rfc,
            vary_empty_as_star: false,
            vary_first_line: false,
            vary_max_len: None,
            store_stale: false,
            ignore_client_reload: false,
            heuristic_statuses: None,
            heuristic_bounds: None,
        }
    }

    /// The RFC 9111 behaviours beyond the key that most real caches do not have by
    /// default, switched off: no targeted field, request `Cache-Control` ignored, no
    /// heuristic, no invalidation, no stale on error. Profiles start from this and turn
    /// on what their cache documents.
    pub(crate) fn plain(self) -> Knobs {
        Knobs {
            targeted: Vec::new(),
            request_cache_control: false,
            heuristic_pct: None,
            invalidate_unsafe: false,
            stale_if_error: false,
            stale_while_revalidate: false,
            stale_on_disconnect: false,
            ..self
        }
    }

    /// Whether requests with this method are looked up and stored at all.
    pub fn caches_method(&self, method: &str) -> bool {
        match method {
            "GET" | "HEAD" => true,
            "OPTIONS" => self.cache_options,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T>(all: &[T])
    where
        T: Copy
            + PartialEq
            + fmt::Debug
            + FromStr<Err = UnknownKnobValue>
            + Serialize
            + clap::ValueEnum
            + Id
            + fmt::Display,
    {
        for v in all {
            assert_eq!(v.id().parse::<T>().as_ref(), Ok(v));
            assert_eq!(serde_json::to_value(v).unwrap(), v.id());
            assert_eq!(v.to_string(), v.id());
            let pv = v.to_possible_value().unwrap();
            assert_eq!(pv.get_name(), v.id());
            assert!(pv.get_help().is_some(), "{v:?} has no help");
        }
    }

    // `id` is a method of each enum, not a trait: a local trait lets `round_trip` call it.
    trait Id {
        fn id(&self) -> &'static str;
    }
    macro_rules! id {
        ($($t:ty),*) => {$( impl Id for $t { fn id(&self) -> &'static str { <$t>::id(*self) } } )*};
    }
    id!(
        VaryMode,
        PreflightKey,
        VaryStar,
        VaryCompare,
        Collapse,
        SetCookie,
        VaryAcceptEncoding,
        AuthorizationRule,
        ResponsePragma,
        DeltaSeconds,
        SurrogateControl,
        HttpDate
    );

    #[test]
    fn ids_parse_serialise_and_name_the_clap_values() {
        round_trip(VaryMode::ALL);
        round_trip(PreflightKey::ALL);
        round_trip(VaryStar::ALL);
        round_trip(VaryCompare::ALL);
        round_trip(Collapse::ALL);
        round_trip(SetCookie::ALL);
        round_trip(VaryAcceptEncoding::ALL);
        round_trip(AuthorizationRule::ALL);
        round_trip(ResponsePragma::ALL);
        round_trip(DeltaSeconds::ALL);
        round_trip(SurrogateControl::ALL);
        round_trip(HttpDate::ALL);
        assert_eq!(VaryMode::IgnoreOrigin.id(), "ignore-origin");
        assert_eq!(VaryStar::NeverMatch.id(), "never-match");
    }

    #[test]
    fn an_unknown_id_names_the_knob_and_every_id() {
        let e = "sometimes".parse::<VaryMode>().unwrap_err();
        assert_eq!(e.knob, "vary");
        assert_eq!(
            e.to_string(),
            "expected one of honor, ignore, ignore-origin, accept-encoding-only, uncacheable, found \"sometimes\""
        );
        assert!("On".parse::<Collapse>().is_err(), "ids are case-sensitive");
    }

    /// `plain` is the starting point of profiles for caches that implement none of
    /// RFC 9111's optional behaviours: among them serving a stored response when the
    /// upstream connection fails (RFC 9111 §4.2.4 allows it; most CDNs answer 502/504).
    #[test]
    fn plain_switches_off_every_optional_behaviour() {
        let k = Knobs::rfc9111().plain();
        assert!(k.targeted.is_empty());
        assert!(!k.request_cache_control && !k.invalidate_unsafe);
        assert_eq!(k.heuristic_pct, None);
        assert!(!k.stale_if_error && !k.stale_on_disconnect);
        assert!(k.revalidate, "revalidation is not optional");
    }
}
