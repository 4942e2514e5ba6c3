//! Cache-key knobs and the built-in profiles that emulate real caches and CDNs.
//!
//! Every profile is a [`Knobs`] value plus the sources its behaviour rests on; the facts
//! and their citations come from `research/cdn-vary.md` (shared with the project).
//! A scenario's `edge:` block names a profile and may override any knob.

pub use crate::edge::forward::{Forward, ForwardHeaders};
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
    /// Which request fields reach the origin on a miss or pass (`edge::forward`).
    pub forward: Forward,
    /// CORS fields the edge adds itself (a CloudFront response headers policy).
    pub edge_cors: Option<crate::edge::cors::EdgeCors>,
    /// `HEAD` keyed apart from `GET` (VCL `hash_data(req.method)`); by default they share.
    pub key_head_apart: bool,
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
            forward: Forward::all(),
            edge_cors: None,
            key_head_apart: false,
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
pub const PROFILE_NAMES: [&str; 15] = [
    "rfc9111",
    "url-only",
    "varnish",
    "nginx",
    "squid",
    "ats",
    "fastly",
    "cloudflare",
    "cloudfront",
    "cloudfront-cors-custom",
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
            summary: "strict shared cache: method + URI key, Vary honoured, OPTIONS never stored",
            knobs: base,
            sources: &["https://www.rfc-editor.org/rfc/rfc9111.html#section-4.1", "https://www.rfc-editor.org/rfc/rfc9110.html#section-9.3.7"],
            caveat: None,
        },
        "url-only" => Profile {
            name: "url-only",
            summary: "the naive cache: URL key, Vary ignored, preflight headers not keyed",
            knobs: Knobs { vary: VaryMode::Ignore, preflight_key: PreflightKey::Ignore, vary_star: VaryStar::Reuse, ..base },
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
                // cache_fetch.c: a fetch filters the request with HTTPH_R_FETCH (the
                // conditional and range fields), forces GET, sets `Accept-Encoding: gzip`
                // (http_gzip_support) and adds `X-Varnish`.
                forward: Forward {
                    headers: ForwardHeaders::All,
                    strip: names(&["if-modified-since", "if-none-match", "if-range", "range"]),
                    add: adds(&[("accept-encoding", "gzip"), ("x-varnish", "1")]),
                },
                ..base
            },
            sources: &[
                "varnishcache/varnish-cache bin/varnishd/builtin.vcl#L80-110 (methods, Cookie, Authorization)",
                "varnishcache/varnish-cache bin/varnishd/builtin.vcl#L138-145 (hash: url + host)",
                "varnishcache/varnish-cache bin/varnishd/builtin.vcl#L294-298 (Vary == \"*\" exact)",
                "varnishcache/varnish-cache bin/varnishd/cache/cache_vary.c#L30-140 (trim only)",
                "lab/RESULTS.md (Varnish 7.1: per-Origin variants, poisoned without Vary, Cookie pass)",
                "tests/fidelity.rs: real Varnish 7.1.1 (Debian 12, builtin VCL) agrees on all 72 corpus steps (hit/forward, verdict, `Vary: *` spellings)",
            ],
            caveat: None,
        },
        "nginx" => Profile {
            name: "nginx",
            summary: "proxy_cache: $scheme$proxy_host$request_uri, Vary honoured on raw values, GET/HEAD, Cookie requests cached, no lock",
            knobs: Knobs {
                vary_star: VaryStar::ExactOnly,
                vary_compare: VaryCompare::Raw,
                // proxy_set_header: "If caching is enabled, the header fields
                // If-Modified-Since, If-Unmodified-Since, If-None-Match, If-Match, Range,
                // and If-Range from the original request are not passed".
                forward: Forward {
                    headers: ForwardHeaders::All,
                    strip: names(NGINX_CACHE_STRIP),
                    add: Vec::new(),
                },
                ..base
            },
            sources: &[
                "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_key",
                "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_methods",
                "cache-tests results: nginx 1.28 fails `*, *`, `, *`, `*, Foo`, `Foo, *`",
                "lab/RESULTS.md (nginx 1.22: per-Origin variants, Cookie request hit)",
                "tests/fidelity.rs: real nginx 1.22.1 (nginx-light, default proxy_cache_key/methods) agrees on all 72 corpus steps",
            ],
            caveat: None,
        },
        "squid" => Profile {
            name: "squid",
            summary: "method + URL key, Vary marker + per-variant key on raw values, `*` never reused, GET/HEAD only",
            knobs: Knobs { vary_compare: VaryCompare::Raw, ..base },
            sources: &[
                "research/cdn-vary.md §1.1 [SQ-key] [SQ-vary] [SQ-meth]",
                "cache-tests results: Squid 6.13 passes all 15 required Vary tests",
                "lab/RESULTS.md (Squid 5.7)",
                "tests/fidelity.rs: real Squid 5.7 (accelerator, memory cache) agrees on all 72 corpus steps (`Vary: *` in any spelling never reused)",
            ],
            caveat: None,
        },
        "ats" => Profile {
            name: "ats",
            summary: "remapped URL key, alternates matched case/whitespace-insensitively, max_alts 5, `*` not stored",
            knobs: Knobs { max_variants: Some(5), vary_star: VaryStar::Bypass, vary_compare: VaryCompare::Fold, ..base },
            sources: &[
                "research/cdn-vary.md §1.1 [ATS-ck] [ATS-var] [ATS-alts] [ATS-meth]",
                "lab/RESULTS.md (ATS 9.2: 6 Origins on one URL thrash, 0/6 hits)",
                "tests/fidelity.rs: real ATS 9.2.9 agrees on all 72 corpus steps (5 Origins: 5/5 hits on round 2, 6 Origins: 0/6)",
            ],
            caveat: Some("collapse is off: research §1.3 lists `enable_read_while_writer` (default 1) as collapsing, but the ATS admin guide makes read-while-writer depend on further settings (background_fill_*, open_write_fail_action); concurrent misses were not measured (the fidelity suite sends steps one at a time)"),
        },
        "fastly" => Profile {
            name: "fastly",
            summary: "req.url + Host, Vary per spec, ~200 variants, `*` reused, GET/HEAD only, request collapsing on",
            knobs: Knobs { max_variants: Some(200), vary_star: VaryStar::Reuse, collapse: Collapse::On, ..base },
            sources: &[
                "https://www.fastly.com/documentation/reference/vcl/subroutines/hash",
                "https://www.fastly.com/documentation/reference/http/http-headers/Vary",
                "https://fastly.com/documentation/guides/concepts/edge-state/cache/request-collapsing",
                "cache-tests results: Fastly fails all 8 `*` tests",
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
                // Every viewer field is proxied; Cloudflare adds CF-Connecting-IP, CF-Ray,
                // CF-Visitor, X-Forwarded-For/-Proto and CDN-Loop (values are placeholders).
                forward: Forward {
                    headers: ForwardHeaders::All,
                    strip: Vec::new(),
                    add: adds(&[("cdn-loop", "cloudflare"), ("cf-ray", "0000000000000000-XXX")]),
                },
                ..base
            },
            sources: &[
                "https://developers.cloudflare.com/cache/how-to/cache-keys/ (\"Origin header sent by client (for CORS support)\")",
                "https://developers.cloudflare.com/cache/concepts/cache-control/ (Vary not considered by default)",
                "https://developers.cloudflare.com/cache/concepts/vary/ (`Vary: *` always bypasses)",
                "cloudflare-docs default-cache-behavior.mdx (non-GET not cached)",
            ],
            caveat: Some("JSON/HTML need an \"Eligible for cache\" rule to be cached at all; this profile assumes one. A 2019 community report (research §1.2) shows `Vary: Accept-Encoding, Origin` answered BYPASS, against the docs' \"Vary not considered\"; not modelled"),
        },
        "cloudfront" => Profile {
            name: "cloudfront",
            summary: "CachingOptimized, no origin request policy: URL path only (no query, no headers), only the key's headers reach the origin (never Origin), Vary ignored, GET/HEAD, TTL min 1 / default 86400 / max 31536000",
            knobs: cloudfront_base(base),
            sources: &[
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-the-cache-key.html",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/controlling-origin-requests.html (only the key's values and CloudFront's own headers reach the origin without an origin request policy)",
                "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CachePolicyHeadersConfig.html (HeaderBehavior none: no header in the key or in origin requests)",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/RequestAndResponseBehaviorCustomOrigin.html",
                "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateCachePolicy.html (min TTL > 0 overrides no-store)",
            ],
            caveat: Some("`Vary: *` under CachingOptimized (min TTL 1 s) is undocumented (only min TTL 0 is: stored, always forwarded); modelled as ignored like any Vary"),
        },
        "cloudfront-cors-custom" => Profile {
            name: "cloudfront-cors-custom",
            summary: "CachingOptimized + CORS-CustomOrigin: Origin reaches the origin but is not in the key, Vary ignored, GET/HEAD",
            knobs: Knobs {
                // CORS-CustomOrigin (59781a5b-3903-41f3-afcb-af62929ccde1): "Headers
                // included in origin requests: Origin"; an origin request policy never
                // adds to the cache key.
                forward: cloudfront_forward(ForwardHeaders::List(names(&["origin"]))),
                ..cloudfront_base(base)
            },
            sources: &[
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/controlling-origin-requests.html",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html",
            ],
            caveat: None,
        },
        "cloudfront-cors-s3" => Profile {
            name: "cloudfront-cors-s3",
            summary: "CachingOptimized + CORS-S3Origin + GET/HEAD/OPTIONS cached: Origin and preflight headers forwarded but not keyed",
            knobs: Knobs {
                cache_options: true,
                preflight_key: PreflightKey::Ignore,
                // CORS-S3Origin (88a5eaf4-2fd4-4709-b370-b4c650ea3fcf): "Headers included in
                // origin requests: Origin, Access-Control-Request-Headers,
                // Access-Control-Request-Method"; not in the key.
                forward: cloudfront_forward(ForwardHeaders::List(names(&[
                    "origin",
                    "access-control-request-headers",
                    "access-control-request-method",
                ]))),
                ..cloudfront_base(base)
            },
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
            knobs: Knobs { vary: VaryMode::Uncacheable, vary_star: VaryStar::Bypass, ..base },
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
                ..base
            },
            sources: &["https://cloud.google.com/cdn/docs/using-cache-keys", "https://cloud.google.com/cdn/docs/caching"],
            caveat: Some("the Vary allowlist is quoted from a docs index; older text allowed only Accept, Accept-Encoding, Origin"),
        },
        "azure-front-door" => Profile {
            name: "azure-front-door",
            summary: "URL key, Vary not honoured, GET only, in-flight requests for one URL may share a response",
            knobs: Knobs { vary: VaryMode::Ignore, preflight_key: PreflightKey::Ignore, vary_star: VaryStar::Reuse, collapse: Collapse::Naive, ..base },
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

/// nginx drops these from the request it proxies when caching is on.
pub const NGINX_CACHE_STRIP: &[&str] = &[
    "if-modified-since",
    "if-unmodified-since",
    "if-none-match",
    "if-match",
    "range",
    "if-range",
];

fn names(l: &[&str]) -> Vec<String> {
    l.iter().map(|s| s.to_string()).collect()
}

fn adds(l: &[(&str, &str)]) -> Vec<(String, String)> {
    l.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// CloudFront's origin request: "the headers that CloudFront automatically includes in
/// every origin request, including Host, User-Agent, and X-Amz-Cf-Id" (User-Agent is
/// `Amazon CloudFront` unless forwarded; the id value here is a placeholder) plus `which`.
pub fn cloudfront_forward(which: ForwardHeaders) -> Forward {
    Forward {
        headers: which,
        strip: Vec::new(),
        add: adds(&[
            ("user-agent", "Amazon CloudFront"),
            ("x-amz-cf-id", "varyedge-emulated"),
        ]),
    }
}

fn cloudfront_base(base: Knobs) -> Knobs {
    Knobs {
        forward: cloudfront_forward(ForwardHeaders::Key),
        vary: VaryMode::Ignore,
        preflight_key: PreflightKey::Ignore,
        query: QueryKey::None,
        vary_star: VaryStar::Reuse,
        ttl: TtlOverride {
            default: Some(86_400),
            min: Some(1),
            max: Some(31_536_000),
        },
        ..base
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
