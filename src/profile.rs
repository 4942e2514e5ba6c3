//! Cache-key knobs and the built-in profiles that emulate real caches and CDNs.
//!
//! Every profile is a [`Knobs`] value plus the sources its behaviour rests on; the facts
//! and their citations come from `research/cdn-vary.md` (shared with the project).
//! A scenario's `edge:` block names a profile and may override any knob.

use serde::Serialize;

/// How the response `Vary` field forms the secondary key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VaryMode {
    /// RFC 9111 §4.1: every nominated request field must match.
    Honor,
    /// `Vary` plays no part in the key (CloudFront, Cloudflare's default, Azure Front Door).
    Ignore,
    /// Honoured, except that `Origin` is dropped from it (a cache that normalises Origin away).
    IgnoreOrigin,
    /// Only `Accept-Encoding` is honoured (Cloudflare's default).
    AcceptEncodingOnly,
    /// A response whose `Vary` names anything beyond `Accept-Encoding` is not stored (Akamai).
    Uncacheable,
}

/// Whether `Origin` and the `Access-Control-Request-*` headers key an `OPTIONS` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PreflightKey {
    /// They are part of an `OPTIONS` entry's primary key.
    Honor,
    /// They are not (CloudFront with `CachedMethods: GET,HEAD,OPTIONS` and no header in the policy).
    Ignore,
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

/// How a `Vary` field value with a `*` member is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VaryStar {
    /// RFC 9111 §4.1: any `*` member always fails to match (stored, never reused).
    NeverMatch,
    /// Only the exact value `*` is recognised (and not stored); `Foo, *` is stored and
    /// matched on `Foo` (Varnish builtin VCL, nginx: cache-tests `vary-parse` failures).
    ExactOnly,
    /// Never stored (ATS, Cloudflare).
    Bypass,
    /// The `*` is ignored and the response reused (Fastly fails all 8 `*` tests).
    Reuse,
}

/// How the selecting request header values are compared (research §0.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VaryCompare {
    /// Field lines combined, optional whitespace around commas removed (RFC 9111 §4.1 (1)(2)).
    Combine,
    /// Raw bytes of the first line, untouched (Squid).
    Raw,
    /// Leading and trailing whitespace trimmed only (Varnish).
    Trim,
    /// Case- and whitespace-insensitive (ATS).
    Fold,
}

/// Request collapsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Collapse {
    /// Every miss goes to the origin.
    Off,
    /// Concurrent misses for one primary key wait for the leader; a waiter takes the
    /// leader's response only if it is stored and its `Vary` matches the waiter.
    On,
    /// Waiters take the leader's response whatever it varies on (method+URL collapsing,
    /// as go-proxy-cache and Azure Front Door's "in-flight requests may share" do).
    Naive,
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
    /// Vary names (lowercase) a response may carry and still be stored; any other name
    /// makes it uncacheable (Google Cloud CDN). `None` = no such rule.
    pub vary_allowlist: Option<Vec<String>>,
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
    /// A stale entry with a validator is revalidated with a conditional request
    /// (`If-None-Match` / `If-Modified-Since`, RFC 9111 §4.3.1) and a `304` freshens it
    /// (§4.3.4); otherwise it is refetched whole.
    pub revalidate: bool,
    /// A non-error response to an unsafe method invalidates the stored responses for
    /// the target URI and same-origin `Location` / `Content-Location` (RFC 9111 §4.4).
    pub invalidate_unsafe: bool,
    /// `stale-if-error` (RFC 5861 §4) is honoured: a stale entry within its window is
    /// served when the origin answers 500, 502, 503 or 504 or cannot be reached.
    pub stale_if_error: bool,
    /// A stale entry is served when the origin cannot be reached at all (RFC 9111 §4.2.4:
    /// a disconnected cache may), unless `must-revalidate`, `proxy-revalidate`,
    /// `no-cache` or `s-maxage` forbid it.
    pub stale_on_disconnect: bool,
    /// Error responses.
    pub errors: ErrorCaching,
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
            vary_allowlist: None,
            targeted: vec!["cdn-cache-control".into()],
            request_cache_control: true,
            heuristic_pct: Some(10),
            revalidate: true,
            invalidate_unsafe: true,
            stale_if_error: true,
            stale_on_disconnect: true,
            errors: ErrorCaching::default(),
        }
    }

    /// The RFC 9111 behaviours beyond the key that most real caches do not have by
    /// default, switched off: no targeted field, request `Cache-Control` ignored, no
    /// heuristic, no invalidation, no stale on error. Profiles start from this and turn
    /// on what their cache documents.
    fn plain(self) -> Knobs {
        Knobs {
            targeted: Vec::new(),
            request_cache_control: false,
            heuristic_pct: None,
            invalidate_unsafe: false,
            stale_if_error: false,
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

/// A named preset: knobs plus what it emulates and where the facts come from.
#[derive(Clone, Debug, Serialize)]
pub struct Profile {
    /// Stable name (`url-only`, `cloudfront`, …).
    pub name: &'static str,
    /// One line: how it builds keys and treats `Vary` and `OPTIONS`.
    pub summary: &'static str,
    /// The knobs.
    pub knobs: Knobs,
    /// Sources, from `research/cdn-vary.md`.
    pub sources: &'static [&'static str],
    /// Where the evidence is weak (a Q&A answer, a community post), said plainly.
    pub caveat: Option<&'static str>,
}

/// The names of every built-in profile, in the order `varyedge profiles` lists them.
pub const PROFILE_NAMES: [&str; 14] = [
    "rfc9111",
    "url-only",
    "varnish",
    "nginx",
    "squid",
    "ats",
    "fastly",
    "cloudflare",
    "cloudfront",
    "cloudfront-cors-s3",
    "cloudfront-origin-keyed",
    "akamai",
    "gcp-cdn",
    "azure-front-door",
];

/// Every built-in profile.
pub fn builtin_profiles() -> Vec<Profile> {
    PROFILE_NAMES.iter().filter_map(|n| profile(n)).collect()
}

/// A built-in profile by name.
pub fn profile(name: &str) -> Option<Profile> {
    let base = Knobs::rfc9111();
    let p = match name {
        // RFC 9111 §2, §4.1; RFC 9110 §9.3.7 ("Responses to the OPTIONS method are not cacheable").
        "rfc9111" => Profile {
            name: "rfc9111",
            summary: "strict shared cache: method + URI key, Vary honoured, OPTIONS never stored; revalidates, invalidates on unsafe methods, obeys CDN-Cache-Control and request Cache-Control, 10% heuristic, stale only when disconnected or stale-if-error",
            knobs: base,
            sources: &[
                "https://www.rfc-editor.org/rfc/rfc9111.html#section-4.1",
                "https://www.rfc-editor.org/rfc/rfc9110.html#section-9.3.7",
                "https://www.rfc-editor.org/rfc/rfc9111.html#section-4.3 (validation), #section-4.4 (invalidation), #section-4.2.2 (heuristic: 10% typical), #section-4.2.4 (stale when disconnected)",
                "https://www.rfc-editor.org/rfc/rfc9213.html (CDN-Cache-Control)",
                "https://www.rfc-editor.org/rfc/rfc5861.html#section-4 (stale-if-error)",
            ],
            caveat: None,
        },
        "url-only" => Profile {
            name: "url-only",
            summary: "the naive cache: URL key, Vary ignored, preflight headers not keyed, no revalidation or invalidation",
            knobs: Knobs { vary: VaryMode::Ignore, preflight_key: PreflightKey::Ignore, vary_star: VaryStar::Reuse, revalidate: false, ..base.plain() },
            sources: &["research/cdn-vary.md §3 (field reports 2-5: caches keyed on the URL alone)"],
            caveat: None,
        },
        // builtin.vcl: vcl_req_method (non-GET/HEAD pass, Cookie/Authorization pass),
        // vcl_builtin_hash (url + host), vcl_beresp_vary (exact "*" only), cache_vary.c (trim).
        "varnish" => Profile {
            name: "varnish",
            summary: "builtin VCL: URL + Host, Vary honoured (outer whitespace trimmed), only GET/HEAD, Cookie/Authorization pass, waiting list",
            knobs: Knobs {
                pass_cookie: true,
                pass_authorization: true,
                vary_star: VaryStar::ExactOnly,
                vary_compare: VaryCompare::Trim,
                collapse: Collapse::On,
                // default_keep 0: an expired object is gone, so there is nothing to
                // revalidate; Surrogate-Control is read only for `no-store`
                revalidate: false,
                errors: ErrorCaching {
                    statuses: Some(vec![404, 410, 414]),
                    ttl: Some(120),
                    ..ErrorCaching::default()
                },
                ..base.plain()
            },
            sources: &[
                "varnishcache/varnish-cache bin/varnishd/builtin.vcl#L80-110 (methods, Cookie, Authorization)",
                "varnishcache/varnish-cache bin/varnishd/builtin.vcl#L138-145 (hash: url + host)",
                "varnishcache/varnish-cache bin/varnishd/builtin.vcl#L294-298 (Vary == \"*\" exact)",
                "varnishcache/varnish-cache bin/varnishd/cache/cache_vary.c#L30-140 (trim only)",
                "varnishcache/varnish-cache bin/varnishd/cache/cache_rfc2616.c RFC2616_Ttl (only 200 203 204 300 301 304 404 410 414 get a TTL, default_ttl 120 s; any other status ttl -1: never stored)",
                "varnishd -x parameter: default_keep 0 (no conditional revalidation of expired objects), default_grace 10 s",
                "tests/fidelity 11, 12: real Varnish 7.1 refetches an expired entry whole (b gets its own ACAO), stores a 404 without Cache-Control, never a 503",
                "lab/RESULTS.md (Varnish 7.1: per-Origin variants, poisoned without Vary, Cookie pass)",
                "tests/fidelity.rs: real Varnish 7.1.1 (Debian 12, builtin VCL) agrees on all 72 corpus steps (hit/forward, verdict, `Vary: *` spellings)",
            ],
            caveat: Some("default_ttl 120 s is applied to 404/410/414 without Cache-Control, but not to 200 without it (kept as not stored, as before); grace (10 s of stale-while-revalidate) is not modelled"),
        },
        "nginx" => Profile {
            name: "nginx",
            summary: "proxy_cache: $scheme$proxy_host$request_uri, Vary honoured on raw values, GET/HEAD, Cookie requests cached, no lock",
            // proxy_cache_revalidate is off by default; no proxy_cache_valid: only responses
            // with explicit freshness are stored; proxy_cache_use_stale off
            knobs: Knobs { vary_star: VaryStar::ExactOnly, vary_compare: VaryCompare::Raw, revalidate: false, ..base.plain() },
            sources: &[
                "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_key",
                "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_methods",
                "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_revalidate (default off)",
                "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_use_stale (default off)",
                "tests/fidelity 11, 12: real nginx 1.22 refetches an expired entry whole, stores a 503 only with max-age (lab config: proxy_cache_valid 200 1m)",
                "cache-tests results: nginx 1.28 fails `*, *`, `, *`, `*, Foo`, `Foo, *`",
                "lab/RESULTS.md (nginx 1.22: per-Origin variants, Cookie request hit)",
                "tests/fidelity.rs: real nginx 1.22.1 (nginx-light, default proxy_cache_key/methods) agrees on all 72 corpus steps",
            ],
            caveat: None,
        },
        "squid" => Profile {
            name: "squid",
            summary: "method + URL key, Vary marker + per-variant key on raw values, `*` never reused, GET/HEAD only",
            // refresh_pattern `.  0 20% 4320`: 20% of the Last-Modified age; Squid revalidates
            // and purges on unsafe methods; CDN-Cache-Control is not read
            knobs: Knobs {
                vary_compare: VaryCompare::Raw,
                heuristic_pct: Some(20),
                invalidate_unsafe: true,
                request_cache_control: true,
                // 404 and 5xx are only "negatively cached" for negative_ttl (default 0):
                // a 503 with max-age=60 is forwarded again (tests/fidelity 12)
                errors: ErrorCaching { statuses: Some(vec![410]), ..ErrorCaching::default() },
                ..base.plain()
            },
            sources: &[
                "research/cdn-vary.md §1.1 [SQ-key] [SQ-vary] [SQ-meth]",
                "http://www.squid-cache.org/Doc/config/refresh_pattern/ (default `. 0 20% 4320`)",
                "http://www.squid-cache.org/Doc/config/negative_ttl/ (default 0: errors are not cached)",
                "tests/fidelity 11, 12: real Squid 5.7 revalidates (keeps the stored ACAO on a 304 without CORS) and does not store a 503 with max-age=60",
                "cache-tests results: Squid 6.13 passes all 15 required Vary tests",
                "lab/RESULTS.md (Squid 5.7)",
                "tests/fidelity.rs: real Squid 5.7 (accelerator, memory cache) agrees on all 72 corpus steps (`Vary: *` in any spelling never reused)",
            ],
            caveat: None,
        },
        "ats" => Profile {
            name: "ats",
            summary: "remapped URL key, alternates matched case/whitespace-insensitively, max_alts 5, `*` not stored",
            knobs: Knobs { max_variants: Some(5), vary_star: VaryStar::Bypass, vary_compare: VaryCompare::Fold, heuristic_pct: Some(10), invalidate_unsafe: true, ..base.plain() },
            sources: &[
                "research/cdn-vary.md §1.1 [ATS-ck] [ATS-var] [ATS-alts] [ATS-meth]",
                "https://docs.trafficserver.apache.org/en/latest/admin-guide/files/records.yaml.en.html (heuristic_lm_factor 0.10, ignore_client_no_cache 1, negative_caching_enabled 0)",
                "tests/fidelity 11, 12: real ATS 9.2 revalidates (keeps the stored ACAO on a 304 without CORS), stores a 503 with max-age=60, not a 404/503 without it",
                "lab/RESULTS.md (ATS 9.2: 6 Origins on one URL thrash, 0/6 hits)",
                "tests/fidelity.rs: real ATS 9.2.9 agrees on all 72 corpus steps (5 Origins: 5/5 hits on round 2, 6 Origins: 0/6)",
            ],
            caveat: Some("collapse is off: research §1.3 lists `enable_read_while_writer` (default 1) as collapsing, but the ATS admin guide makes read-while-writer depend on further settings (background_fill_*, open_write_fail_action); concurrent misses were not measured (the fidelity suite sends steps one at a time)"),
        },
        "fastly" => Profile {
            name: "fastly",
            summary: "req.url + Host, Vary per spec, ~200 variants, `*` reused, GET/HEAD only, request collapsing on",
            knobs: Knobs { max_variants: Some(200), vary_star: VaryStar::Reuse, collapse: Collapse::On, targeted: vec!["surrogate-control".into()], ..base.plain() },
            sources: &[
                "https://www.fastly.com/documentation/reference/vcl/subroutines/hash",
                "https://www.fastly.com/documentation/reference/http/http-headers/Vary",
                "https://fastly.com/documentation/guides/concepts/edge-state/cache/request-collapsing",
                "cache-tests results: Fastly fails all 8 `*` tests",
                "https://www.fastly.com/documentation/reference/http/http-headers/Surrogate-Control/ (preferred over Cache-Control)",
            ],
            caveat: Some("the 200-variant cap comes from a Fastly community post, not reference docs"),
        },
        "cloudflare" => Profile {
            name: "cloudflare",
            summary: "URL + request Origin in the default key, Vary ignored but Accept-Encoding, `Vary: *` bypasses, GET only",
            knobs: Knobs {
                vary: VaryMode::AcceptEncodingOnly,
                key_headers: vec!["origin".into()],
                vary_star: VaryStar::Bypass,
                targeted: vec!["cloudflare-cdn-cache-control".into(), "cdn-cache-control".into()],
                ..base.plain()
            },
            sources: &[
                "https://developers.cloudflare.com/cache/concepts/cdn-cache-control/ (Cloudflare-CDN-Cache-Control, then CDN-Cache-Control)",
                "https://developers.cloudflare.com/cache/how-to/cache-keys/ (\"Origin header sent by client (for CORS support)\")",
                "https://developers.cloudflare.com/cache/concepts/cache-control/ (Vary not considered by default)",
                "https://developers.cloudflare.com/cache/concepts/vary/ (`Vary: *` always bypasses)",
                "cloudflare-docs default-cache-behavior.mdx (non-GET not cached)",
            ],
            caveat: Some("JSON/HTML need an \"Eligible for cache\" rule to be cached at all; this profile assumes one. A 2019 community report (research §1.2) shows `Vary: Accept-Encoding, Origin` answered BYPASS, against the docs' \"Vary not considered\"; not modelled"),
        },
        "cloudfront" => Profile {
            name: "cloudfront",
            summary: "CachingOptimized: URL path only (no query, no headers), Vary ignored, GET/HEAD, TTL min 1 / default 86400 / max 31536000",
            knobs: cloudfront_base(base),
            sources: &[
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-the-cache-key.html",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/RequestAndResponseBehaviorCustomOrigin.html",
                "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateCachePolicy.html (min TTL > 0 overrides no-store)",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/custom-error-pages-expiration.html (errors cached 10 s; the greater of max-age and the Error Caching Minimum TTL; no-store honoured only on 404, 410, 414, 501)",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HTTPStatusCodes.html (cached errors; origin unavailable: \"CloudFront continues to serve cached content\")",
            ],
            caveat: Some("`Vary: *` under CachingOptimized (min TTL 1 s) is undocumented (only min TTL 0 is: stored, always forwarded); modelled as ignored like any Vary"),
        },
        "cloudfront-cors-s3" => Profile {
            name: "cloudfront-cors-s3",
            summary: "CachingOptimized + CORS-S3Origin + GET/HEAD/OPTIONS cached: Origin and preflight headers forwarded but not keyed",
            knobs: Knobs { cache_options: true, preflight_key: PreflightKey::Ignore, ..cloudfront_base(base) },
            sources: &[
                "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CachedMethods.html",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/controlling-origin-requests.html",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html",
            ],
            caveat: None,
        },
        "cloudfront-origin-keyed" => Profile {
            name: "cloudfront-origin-keyed",
            summary: "cache policy keys Origin, Access-Control-Request-Method, -Headers; OPTIONS cached",
            knobs: Knobs {
                key_headers: vec![
                    "origin".into(),
                    "access-control-request-method".into(),
                    "access-control-request-headers".into(),
                ],
                cache_options: true,
                preflight_key: PreflightKey::Honor,
                ..cloudfront_base(base)
            },
            sources: &[
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/header-caching.html#header-caching-web-cors",
                "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CachedMethods.html",
            ],
            caveat: None,
        },
        "akamai" => Profile {
            name: "akamai",
            summary: "hostname + path + query key; a response with Vary beyond Accept-Encoding is not stored; OPTIONS never cached",
            knobs: Knobs { vary: VaryMode::Uncacheable, vary_star: VaryStar::Bypass, ..base.plain() },
            sources: &[
                "https://techdocs.akamai.com/property-mgr/docs/rm-vary-header",
                "https://techdocs.akamai.com/property-mgr/reference/ga-allow-options",
                "https://techdocs.akamai.com/property-mgr/docs/cache-id-modification",
            ],
            caveat: None,
        },
        "gcp-cdn" => Profile {
            name: "gcp-cdn",
            summary: "full URI key; Vary honoured for an allowlist (Origin, ACRM, ACRH, Accept, Accept-Encoding …), any other name → not stored; GET only",
            knobs: Knobs {
                vary_star: VaryStar::Bypass,
                vary_allowlist: Some(
                    [
                        "accept",
                        "accept-encoding",
                        "access-control-request-headers",
                        "access-control-request-method",
                        "origin",
                        "sec-fetch-dest",
                        "sec-fetch-mode",
                        "sec-fetch-site",
                        "sec-fetch-user",
                        "x-goog-allowed-resources",
                        "x-origin",
                    ]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                ),
                ..base.plain()
            },
            sources: &["https://cloud.google.com/cdn/docs/using-cache-keys", "https://cloud.google.com/cdn/docs/caching"],
            caveat: Some("the Vary allowlist is quoted from a docs index; older text allowed only Accept, Accept-Encoding, Origin"),
        },
        "azure-front-door" => Profile {
            name: "azure-front-door",
            summary: "URL key, Vary not honoured, GET only, in-flight requests for one URL may share a response",
            knobs: Knobs { vary: VaryMode::Ignore, preflight_key: PreflightKey::Ignore, vary_star: VaryStar::Reuse, collapse: Collapse::Naive, ..base.plain() },
            sources: &[
                "https://learn.microsoft.com/en-us/azure/frontdoor/front-door-caching",
                "https://learn.microsoft.com/en-us/azure/frontdoor/cross-origin-resource-sharing",
                "MicrosoftDocs/azure-docs articles/frontdoor/front-door-caching.md (in-flight sharing)",
            ],
            caveat: Some("\"does not honour Vary\" rests on a Stack Overflow answer, not Microsoft documentation; the query-string default is configurable and kept as \"use all\" here"),
        },
        _ => return None,
    };
    Some(p)
}

fn cloudfront_base(base: Knobs) -> Knobs {
    Knobs {
        vary: VaryMode::Ignore,
        preflight_key: PreflightKey::Ignore,
        query: QueryKey::None,
        vary_star: VaryStar::Reuse,
        ttl: TtlOverride {
            default: Some(86_400),
            min: Some(1),
            max: Some(31_536_000),
        },
        stale_on_disconnect: true,
        errors: ErrorCaching {
            statuses: Some(vec![400, 403, 404, 405, 414, 500, 501, 502, 503, 504]),
            ttl: Some(10),
            ttl_is_floor: true,
            ignore_no_store: vec![400, 403, 405, 500, 502, 503, 504],
        },
        ..base.plain()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_resolves_and_unknown_does_not() {
        for n in PROFILE_NAMES {
            let p = profile(n).unwrap();
            assert_eq!(p.name, n);
            assert!(!p.sources.is_empty(), "{n} has no source");
        }
        assert!(profile("nope").is_none());
    }

    #[test]
    fn options_cached_only_where_documented() {
        for p in builtin_profiles() {
            let expect = matches!(p.name, "cloudfront-cors-s3" | "cloudfront-origin-keyed");
            assert_eq!(p.knobs.cache_options, expect, "{}", p.name);
        }
    }
}
