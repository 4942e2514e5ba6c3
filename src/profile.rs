//! Cache-key knobs and the built-in profiles that emulate real caches and CDNs.
//!
//! Every profile is a [`Knobs`] value plus the sources its behaviour rests on; the facts
//! and their citations are in `docs/research/cdn-vary.md` and `docs/research/lab.md`.
//! A scenario's `edge:` block names a profile and may override any knob.

pub use crate::edge::forward::{Forward, ForwardHeaders};
pub use crate::edge::knobs::*;
use serde::Serialize;

/// A named preset: knobs plus what it emulates and where the facts come from.
#[derive(Clone, Debug, Serialize)]
pub struct Profile {
    /// Stable name (`url-only`, `cloudfront`, …).
    pub name: &'static str,
    /// One line: how it builds keys and treats `Vary` and `OPTIONS`.
    pub summary: &'static str,
    /// The knobs.
    pub knobs: Knobs,
    /// Sources: URLs, vendor source files, and `docs/research/` sections.
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
            sources: &["docs/research/cdn-vary.md §3 (field reports 2-5: caches keyed on the URL alone)"],
            caveat: None,
        },
        // builtin.vcl: vcl_req_method (non-GET/HEAD pass, Cookie/Authorization pass),
        // vcl_builtin_hash (url + host), vcl_beresp_vary (exact "*" only), cache_vary.c (trim).
        "varnish" => Profile {
            name: "varnish",
            summary: "builtin VCL: URL + Host, Vary honoured (outer whitespace trimmed), only GET/HEAD, Cookie/Authorization pass, waiting list, 10 s grace (stale served while refreshed)",
            knobs: Knobs {
                pass_cookie: true,
                pass_authorization: true,
                // builtin vcl_hash hashes req.url and Host (or server.ip) only: a VCL that
                // caches OPTIONS keys a preflight like any GET, and only the answer's Vary
                // keeps callers apart (docs/research/lab.md finding 2: poisoned without it)
                preflight_key: PreflightKey::Ignore,
                vary_star: VaryStar::ExactOnly,
                vary_compare: VaryCompare::Trim,
                // cache_vary.c vry_cmp: with http_gzip_support (default on) "we do not
                // vary on Accept-Encoding"
                vary_accept_encoding: VaryAcceptEncoding::Ignore,
                collapse: Collapse::On,
                // beresp.grace defaults to the stale-while-revalidate value: a stale hit
                // within it is delivered while a background fetch refreshes the object
                stale_while_revalidate: true,
                // ... and without the directive to default_grace (10 s), must-revalidate
                // or not (RFC2616_Ttl reads neither it nor proxy-revalidate)
                grace: Grace { default: 10, fixed: None },
                // vcl_beresp_stale: an object with a TTL of 0 is hit-for-miss, so not
                // even `max-age=0, stale-while-revalidate=N` is delivered stale
                stale_needs_ttl: true,
                // cache_fetch.c vbf_stp_mkbereq: a fetch that is not a pass is sent as GET,
                // so a HEAD miss stores the whole object
                head_as_get: true,
                // cache_rfc2616.c RFC2616_Ttl: default_ttl (120 s) for these statuses
                // without s-maxage, max-age or Expires, whatever Last-Modified says
                ttl: TtlOverride { default: Some(120), ..TtlOverride::default() },
                default_ttl_statuses: Some(vec![200, 203, 204, 300, 301, 304, 404, 410, 414]),
                // default_keep 0: an expired object is gone, so there is nothing to
                // revalidate
                revalidate: false,
                // builtin vcl_beresp_control: `(?i)no-store` in Surrogate-Control makes
                // the answer hit-for-miss, and while Surrogate-Control is there at all the
                // Cache-Control regex `(?i:no-cache|no-store|private)` is skipped, so a
                // `private` answer gets its max-age or default_ttl (tests/fidelity z48, z49)
                surrogate_control: SurrogateControl::VarnishBuiltin,
                // ... which matches the words anywhere, `x-private-hint` and
                // `x-note="no-store"` too (tests/fidelity z50)
                cc_words_anywhere: true,
                // rfc2616_time: strtoul, so `+60` and `60.5` are 60, `0x3c` 0, and a value
                // above 2^32-1 that (tests/fidelity z52, z53)
                delta_seconds: DeltaSeconds::Strtoul,
                errors: ErrorCaching {
                    statuses: Some(vec![404, 410, 414]),
                    ttl: Some(120),
                    ..ErrorCaching::default()
                },
                set_cookie: SetCookie::NotStored,
                // RFC2616_Ttl: any other status gets ttl -1 whatever its Cache-Control
                // (302 and 307 only from Cache-Control or Expires, never default_ttl)
                store_statuses: Some(vec![200, 203, 204, 300, 301, 302, 304, 307, 404, 410, 414]),
                // RFC2616_Ttl: VTIM_parse gives 0 for an Expires that is not a date, read
                // as "no Expires", so default_ttl applies (tests/fidelity z20)
                expires_invalid_ignored: true,
                // VTIM_parse takes the three RFC 9110 forms only (tests/fidelity z69)
                http_date: HttpDate::Strict,
                // max-age is read with strtoul: `max-age="60"` is 0 (tests/fidelity z19)
                cc_quoted_invalid: true,
                // the builtin vcl_recv's pass is Varnish's only Authorization rule: a VCL
                // that skips it (an imported `return (hash)`) stores such answers as any
                authorization: AuthorizationRule::Ignore,
                // cache_fetch.c: a fetch filters the request with HTTPH_R_FETCH (the
                // conditional and range fields), forces GET, sets `Accept-Encoding: gzip`
                // (http_gzip_support) and adds `X-Varnish`.
                forward: Forward {
                    headers: ForwardHeaders::All,
                    strip: names(&["if-modified-since", "if-none-match", "if-range", "range"]),
                    add: adds(&[("accept-encoding", "gzip"), ("x-varnish", "1")]),
                },
                ..base.plain()
            },
            sources: &[
                "varnishcache/varnish-cache bin/varnishd/builtin.vcl#L80-110 (methods, Cookie, Authorization)",
                "varnishcache/varnish-cache bin/varnishd/builtin.vcl sub vcl_beresp_cookie (Set-Cookie: uncacheable, hit-for-miss)",
                "varnishcache/varnish-cache bin/varnishd/builtin.vcl#L138-145 (hash: url + host)",
                "varnishcache/varnish-cache bin/varnishd/builtin.vcl#L294-298 (Vary == \"*\" exact)",
                "varnishcache/varnish-cache bin/varnishd/cache/cache_vary.c#L30-140 (trim only)",
                "varnishcache/varnish-cache bin/varnishd/cache/cache_rfc2616.c RFC2616_Ttl (only 200 203 204 300 301 304 404 410 414 get a TTL, default_ttl 120 s; any other status ttl -1: never stored)",
                "https://varnish-cache.org/docs/7.1/reference/varnishd.html#default-ttl (120 s)",
                "varnishcache/varnish-cache bin/varnishd/cache/cache_vary.c vry_cmp (\"If we do gzip processing, we do not vary on Accept-Encoding\")",
                "https://varnish-cache.org/docs/7.1/reference/varnishd.html#http-gzip-support (default on)",
                "varnishcache/varnish-cache bin/varnishd/cache/cache_fetch.c vbf_stp_mkbereq (a fetch that is not a pass forces the method to GET: a HEAD miss is fetched whole and stored)",
                "varnishd -x parameter: default_keep 0 (no conditional revalidation of expired objects), default_grace 10 s",
                "varnishcache/varnish-cache bin/varnishd/cache/cache_rfc2616.c RFC2616_Ttl (302/307 only with Cache-Control or Expires; other statuses ttl -1; Expires through VTIM_parse, 0 when not a date; max-age through strtoul)",
                "tests/fidelity z19, z20, z28, z29: real Varnish 7.1 stores a 404 and a 302/307 with max-age, not a 308 with max-age; an Expires of `0` or `soon` gets default_ttl; `max-age=\"60\"` is not stored",
                "tests/fidelity 11, 12: real Varnish 7.1 refetches an expired entry whole (b gets its own ACAO), stores a 404 without Cache-Control, never a 503",
                "docs/research/lab.md (Varnish 7.1: per-Origin variants, poisoned without Vary, Cookie pass); finding 2: with a VCL that caches OPTIONS the preflight is keyed on URL + Host like any GET, safe only with the preflight's Vary (preflight_key: ignore)",
                "https://varnish-cache.org/docs/7.1/reference/vcl-var.html#beresp-grace (default: the stale-while-revalidate directive, else default_grace)",
                "https://varnish-cache.org/docs/7.1/reference/varnishd.html#default-grace (10 s)",
                "varnishcache/varnish-cache varnish-7.1.1 bin/varnishd/cache/cache_rfc2616.c RFC2616_Ttl (grace = default_grace unless stale-while-revalidate is given; must-revalidate and proxy-revalidate are not read)",
                "varnishcache/varnish-cache varnish-7.1.1 bin/varnishd/builtin.vcl sub vcl_beresp_stale (beresp.ttl <= 0s: hit-for-miss, never delivered, stale-while-revalidate or not)",
                "tests/fidelity z42: real Varnish 7.1.1 refetches a max-age=0, stale-while-revalidate=30 answer 1 s later (b gets its own ACAO)",
                "tests/fidelity z33: real Varnish 7.1.1 serves a max-age=2, must-revalidate entry 1.5 s after expiry from the object (two X-Varnish ids) and refreshes it behind",
                "varnishcache/varnish-cache varnish-7.1.1 bin/varnishd/builtin.vcl sub vcl_beresp_control (Surrogate-Control ~ \"(?i)no-store\": hit-for-miss; without Surrogate-Control, Cache-Control ~ \"(?i:no-cache|no-store|private)\" anywhere in the text: hit-for-miss) and cache_rfc2616.c rfc2616_time (strtoul: `+60`, `60.5` are 60, other trailing text 0, capped at UINT_MAX)",
                "tests/fidelity z48-z53: real Varnish 7.1.1 reuses `private` / `no-store` answers that carry any Surrogate-Control, not `Surrogate-Control: no-store` or `x-private-hint`, and reads `max-age=+60`, `60.5`, ` 60` and 2147483648 as lifetimes",
                "tests/probe/README.md (scn round): real Varnish 7.1.1 served a max-age=2, stale-while-revalidate=60 answer stale 12 s after expiry and refreshed it behind",
                "tests/fidelity.rs: real Varnish 7.1.1 (Debian 12, builtin VCL) agrees on all 412 corpus steps, z01-z40 included (hit/forward, verdict, `Vary: *` spellings)",
            ],
            // Not modelled: the gzip/gunzip
            // Varnish does between the stored object and a client (only its effect on
            // Vary matching, `vary_accept_encoding: ignore`, is).
            caveat: None,
        },
        "nginx" => Profile {
            name: "nginx",
            summary: "proxy_cache: $scheme$proxy_host$request_uri, Vary honoured on raw values (up to 128 bytes), GET/HEAD, Cookie requests cached, X-Accel-Expires over Cache-Control, no lock",
            // proxy_cache_revalidate is off by default; no proxy_cache_valid: only responses
            // with explicit freshness are stored; proxy_cache_use_stale off
            knobs: Knobs {
                // ngx_http_upstream.c process_accel_expires: X-Accel-Expires over
                // Cache-Control and Expires (proxy_ignore_headers X-Accel-Expires: off)
                targeted: vec!["x-accel-expires".into()],
                // ngx_http_upstream_process_vary: a Vary longer than
                // NGX_HTTP_CACHE_VARY_LEN (128) makes the answer uncacheable (z46)
                vary_max_len: Some(128),
                vary_star: VaryStar::ExactOnly,
                vary_compare: VaryCompare::Raw,
                set_cookie: SetCookie::NotStored,
                revalidate: false,
                // proxy_cache_convert_head (default on): a HEAD miss is fetched as GET
                head_as_get: true,
                // ngx_http_upstream_process_cache_control reads max-age with ngx_atoi from
                // the receipt time: Age and Date are not read, a quoted value is not a
                // number and makes the response uncacheable (tests/fidelity z19, z21)
                age_ignored: true,
                cc_quoted_invalid: true,
                // ... as text, not directives: `no-cache`, `no-store` or `private`
                // anywhere (ngx_strlcasestrn) makes it uncacheable (tests/fidelity z50);
                // the lifetime follows the first `s-maxage=`, else the first `max-age=`,
                // inside `s-max-age=60` too (z51); the digits run to `,` `;` or a space,
                // so `max-age= 60`, `+60` and `60.5` are not cacheable (z53)
                cc_words_anywhere: true,
                cc_lifetime_anywhere: true,
                delta_seconds: DeltaSeconds::Nginx,
                // ngx_http_upstream_process_expires reads Expires with
                // ngx_parse_http_time (src/core/ngx_parse_time.c): two-digit day
                // required, nothing after the seconds read, so `+0000` and `UTC` pass and
                // `Fri, 1 Jan` does not (tests/fidelity z69)
                http_date: HttpDate::Nginx,
                // nothing in proxy_cache looks at Authorization: stored and served like
                // any request (tests/fidelity z23)
                authorization: AuthorizationRule::Ignore,
                // proxy_set_header: "If caching is enabled, the header fields
                // If-Modified-Since, If-Unmodified-Since, If-None-Match, If-Match, Range,
                // and If-Range from the original request are not passed".
                forward: Forward {
                    headers: ForwardHeaders::All,
                    strip: names(NGINX_CACHE_STRIP),
                    add: Vec::new(),
                },
                ..base.plain()
            },
            sources: &[
                "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_key",
                "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_valid (a response with Set-Cookie is not cached) and #proxy_ignore_headers",
                "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_methods",
                "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_revalidate (default off)",
                "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_use_stale (default off) and #proxy_cache_background_update (default off): a stale-while-revalidate answer is served stale only to requests that arrive while another one updates it",
                "tests/probe/README.md (scn round): real nginx 1.22.1 refetched a max-age=2, stale-while-revalidate=60 answer 2 s after expiry (EXPIRED), never served it stale (stale_while_revalidate: false)",
                "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_convert_head (default on: HEAD converted to GET for caching)",
                "tests/fidelity 11, 12: real nginx 1.22 refetches an expired entry whole, stores a 503 only with max-age (lab config: proxy_cache_valid 200 1m)",
                "nginx/nginx src/http/ngx_http_upstream.c ngx_http_upstream_process_cache_control (max-age/s-maxage by ngx_atoi, an unparsable value: not cacheable; no Age handling)",
                "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_valid (X-Accel-Expires, in seconds or @ seconds since the epoch, has priority over Cache-Control and Expires; 0 disables caching)",
                "nginx/nginx src/http/ngx_http_cache.h NGX_HTTP_CACHE_VARY_LEN 128 and ngx_http_upstream_process_vary (a longer Vary: not cacheable); tests/fidelity z46: real nginx 1.22.1 refetches an answer whose Vary is 131 bytes",
                "nginx/nginx src/http/ngx_http_upstream.c ngx_http_upstream_process_vary (1.23.0 and later join every Vary line; 1.22 kept only the last one, so tests/fidelity z44, whose Origin line comes last, agrees with both)",
                "nginx/nginx src/http/ngx_http_upstream.c ngx_http_upstream_process_accel_expires (ngx_atoi: digits only; since 1.23.0, commit 8df3ad13c, independent of the order of X-Accel-Expires and Cache-Control; 1.22 obeys a no-cache/no-store/private that comes first)",
                "tests/fidelity z43: real nginx 1.22.1 stores a no-store answer for its X-Accel-Expires: 60 when that field comes first",
                "nginx/nginx release-1.22.1 src/http/ngx_http_upstream.c ngx_http_upstream_process_cache_control (per line: ngx_strlcasestrn for no-cache, no-store, private, then the first `s-maxage=`, else `max-age=`, as text; digits up to `,` `;` or a space, anything else or 0: not cacheable)",
                "tests/fidelity z50-z53: real nginx 1.22.1 does not reuse `x-private-hint` or `x-note=\"no-store\"`, reuses `s-max-age=60, max-age=0` for 60 s, and none of `max-age=+60`, `60.5`, `0x3c`, `max-age= 60`",
                "tests/fidelity z19, z21, z23: real nginx 1.22 does not store `max-age=\"60\"`, serves an Age: 100 max-age=60 answer for a minute, stores and serves answers to Authorization requests",
                "docs/research/cdn-vary.md §2 (cache-tests.fyi results): nginx 1.28 fails `*, *`, `, *`, `*, Foo`, `Foo, *`",
                "docs/research/lab.md (nginx 1.22: per-Origin variants, Cookie request hit)",
                "tests/fidelity.rs: real nginx 1.22.1 (nginx-light, default proxy_cache_key/methods) agrees on all 406 corpus steps compared, z01-z40 included (z13 is not: the lab config sets proxy_cache_valid 200 1m)",
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
                // `refresh_pattern -i (/cgi-bin/|\?) 0 0% 0` comes before `.`
                heuristic_skips_query: true,
                invalidate_unsafe: true,
                request_cache_control: true,
                // refresh.cc refreshCheck: client max-age 0 is always
                // STALE_EXCEEDS_REQUEST_MAX_AGE_VALUE (unless ignore-reload), which the
                // edge core does for every cache that reads request Cache-Control
                // 404 and 5xx are only "negatively cached" for negative_ttl (default 0):
                // a 503 with max-age=60 is forwarded again (tests/fidelity 12)
                errors: ErrorCaching { statuses: Some(vec![410]), ..ErrorCaching::default() },
                set_cookie: SetCookie::Strip,
                // http.cc HttpStateData::reusableReply: only these are cached positively;
                // 204, 400, 403, 404, 405, 414, 5xx … are "negatively cached" for
                // negative_ttl (0 by default): never stored; Squid 5.7 does not list 308
                // (tests/fidelity z28, z29, z30)
                store_statuses: Some(vec![200, 203, 300, 301, 302, 307, 410]),
                // HttpHdrCc.cc: directive names looked up as written, delta-seconds by
                // httpHeaderParseInt (a quoted value fails) (tests/fidelity z19)
                cc_quoted_invalid: true,
                cc_case_sensitive: true,
                // an invalid max-age/s-maxage is dropped, so Expires or max-age decides
                // (tests/fidelity z37); a response `Pragma: no-cache` without
                // Cache-Control is honoured (z38)
                cc_invalid_absent: true,
                // httpHeaderParseInt is atoi: `+60`, ` 60` and `60.5` are 60, `0x3c` is 0,
                // and 2147483648 or a 20-digit value come out negative: rejected, so no
                // lifetime (tests/fidelity z52, z53)
                delta_seconds: DeltaSeconds::Atoi,
                // HttpHeader::getTime → parse_rfc1123 (lib/rfc1123.c): the day by atoi,
                // so `Fri, 1 Jan` passes; `zone && strcmp(zone, "GMT")` rejects `+0000`
                // and `UTC` (tests/fidelity z69)
                http_date: HttpDate::Squid,
                // an accelerator (the lab's `http_port … accel`) obeys Surrogate-Control:
                // no-store is not stored, max-age without +max-stale is 0 s, and
                // Cache-Control's no-store/private/no-cache are ignored (z48, z49)
                surrogate_control: SurrogateControl::SquidAccel,
                // client_side_reply.cc handleIMSReply: a 5xx to a revalidation serves the
                // stale entry (TCP_REFRESH_FAIL_OLD) unless must-revalidate,
                // proxy-revalidate, s-maxage or no-cache set failOnValidationError
                // (tests/fidelity z54)
                stale_on_revalidation_error: true,
                response_pragma: ResponsePragma::WithoutCacheControl,
                // http.cc: a Vary whose mark comes out empty is not shared, as `*`
                // (tests/fidelity z16: `Vary:` empty never reused)
                vary_empty_as_star: true,
                // refreshIsCachable: an answer without any lifetime is stored stale and
                // revalidated on each use, unless its body is empty (tests/fidelity z47)
                store_stale: true,
                ..base.plain()
            },
            sources: &[
                "docs/research/cdn-vary.md §1.1 [SQ-key] [SQ-vary] [SQ-meth]",
                "http://www.squid-cache.org/Doc/config/refresh_pattern/ (default `-i (/cgi-bin/|\\?) 0 0% 0` then `. 0 20% 4320`; ignore-reload is what makes a client max-age=0 servable)",
                "squid-cache/squid src/refresh.cc refreshCheck (client `max-age=0`: STALE_EXCEEDS_REQUEST_MAX_AGE_VALUE whatever the age)",
                "http://www.squid-cache.org/Doc/config/negative_ttl/ (default 0: errors are not cached)",
                "tests/fidelity 11, 12: real Squid 5.7 revalidates (keeps the stored ACAO on a 304 without CORS) and does not store a 503 with max-age=60",
                "squid-cache/squid src/client_side_reply.cc buildReplyHeader (Set-Cookie deleted from cache hits)",
                "squid-cache/squid src/http.cc HttpStateData::reusableReply (200 203 300 301 302 307 410 cacheable in 5.7; 204 and most errors only negatively cached) and haveParsedReplyHeaders (an empty vary mark: not shared)",
                "squid-cache/squid src/HttpHdrCc.cc HttpHdrCc::parse (directive names case-sensitive; max-age by httpHeaderParseInt)",
                "tests/fidelity z37, z38: real Squid 5.7 serves `max-age=abc` or `max-age=` with a 2038 Expires, and `s-maxage=abc, max-age=60`, from cache; not `Pragma: no-cache` with a 2038 Expires",
                "tests/fidelity z16, z19, z28, z29, z30: real Squid 5.7 never reuses an empty Vary, `MAX-AGE=60` or `max-age=\"60\"`, nor a 204 or 308 with max-age=60",
                "docs/research/cdn-vary.md §2 (cache-tests.fyi results): Squid 6.13 passes all 15 required Vary tests",
                "docs/research/lab.md (Squid 5.7)",
                "tests/probe/README.md (scn round): real Squid 5.7 refetched a max-age=2, stale-while-revalidate=60 answer 2 s after expiry, never served it stale (stale_while_revalidate: false)",
                "tests/fidelity.rs: real Squid 5.7 (accelerator, memory cache) agrees on 410 of 412 corpus steps, all but z34 steps 6 and 9 (see the caveat) (`Vary: *` in any spelling never reused)",
                "squid-cache/squid SQUID_5_7 src/http.cc HttpStateData::reusableReply (200 203 300 301 308 410: cached when refreshIsCachable) and src/refresh.cc refreshIsCachable (a stale answer is cached when its lastModified() is known, which falls back to the time received (src/Store.h), and its body is not empty)",
                "tests/fidelity z47: real Squid 5.7 stores `public, no-cache` with an ETag and no lifetime, revalidates it for b, and serves a's Access-Control-Allow-Origin from the 304",
                "tests/fidelity z34: after a DELETE, real Squid 5.7 forwards the next GET on a Vary: Origin URL and serves the other Origin's older variant from cache",
                "squid-cache/squid SQUID_5_7 src/HttpHeaderTools.cc httpHeaderParseInt (atoi into an int: an overflow comes out negative and HttpHdrCc::parse rejects it) and src/http.cc HttpStateData::processSurrogateControl (accelerated requests: no-store not stored, max-age=N[+M] gives Expires = Date + min(N, M), Cache-Control ignored)",
                "squid-cache/squid SQUID_5_7 src/client_side_reply.cc clientReplyContext::handleIMSReply (a 5xx to a refresh: the old entry, TCP_REFRESH_FAIL_OLD, unless refresh.cc set failOnValidationError for must-revalidate, proxy-revalidate, s-maxage, no-cache or an expired stale-if-error)",
                "tests/fidelity z48, z49, z52, z53: real Squid 5.7 (accelerator) does not store `Surrogate-Control: no-store`, reuses `private, max-age=60` with `Surrogate-Control: content=\"ESI/1.0\"`, revalidates max-age=2147483648, reuses `max-age=+60`, `60.5`, ` 60`",
            ],
            caveat: Some("an unsafe method's invalidation is modelled as removing every variant of the URL; Squid purges the Vary marker object only, so after the first request re-creates it, the older variants are served again (tests/fidelity z34 steps 6 and 9 disagree)"),
        },
        "ats" => Profile {
            name: "ats",
            summary: "remapped URL key, alternates matched case/whitespace-insensitively on the first Vary line, max_alts 5, `*` not stored",
            knobs: Knobs {
                // cache.required_headers 2 keeps a 200 without Expires, max-age or
                // s-maxage out; 203, 300, 301 and 410 get heuristic_lm_factor 0.10 of
                // their Last-Modified age within heuristic_min/max_lifetime (3600 s,
                // 86400 s), the minimum without Last-Modified (tests/fidelity z28, z30)
                heuristic_pct: Some(10),
                heuristic_statuses: Some(vec![203, 300, 301, 410]),
                heuristic_bounds: Some((3600, 86400)),
                max_variants: Some(5),
                vary_star: VaryStar::Bypass,
                vary_compare: VaryCompare::Fold,
                // normalize_ae 1: Accept-Encoding is `gzip` or absent before the lookup
                vary_accept_encoding: VaryAcceptEncoding::Gzip,
                key_empty_query: false,
                invalidate_unsafe: true,
                // the unsafe request is looked up first: no matching alternate, nothing
                // invalidated (tests/fidelity z34)
                invalidate_needs_match: true,
                // nor Location / Content-Location (tests/fidelity z39)
                invalidate_locations: false,
                // a response `Pragma: no-cache` is no-cache even beside max-age (z38)
                response_pragma: ResponsePragma::Always,
                // min-fresh, max-stale and only-if-cached are honoured; no-cache, Pragma,
                // max-age and no-store from the client are not (ignore_client_no_cache 1,
                // ignore_client_cc_max_age 1) (tests/fidelity z11, z24, z25)
                request_cache_control: true,
                ignore_client_reload: true,
                // `max-age=60, max-age=0`: stale (tests/fidelity z19)
                cc_repeat_stale: true,
                // mime_parse_integer skips to the first digit: `+60`, ` 60` and `60.5`
                // are 60, `0x3c` is 0, an overflow saturates at 2^31-1 (z52, z53)
                delta_seconds: DeltaSeconds::SkipToDigit,
                // MIMEHdr::get_expires → mime_parse_date (proxy/hdrs/MIME.cc): "ignore
                // timezone specifier", the day by mime_parse_integer, so `+0000`, `UTC`
                // and `Fri, 1 Jan` all pass (tests/fidelity z69)
                http_date: HttpDate::Ats,
                // negative_revalidating_enabled 1: a 500/502/503/504 to a revalidation
                // serves the stale entry when is_stale_cache_response_returnable (not
                // with must-revalidate, proxy-revalidate, no-cache or s-maxage) (z54)
                stale_on_revalidation_error: true,
                // an answer to an Authorization request is stored, and served to such a
                // request only when public, s-maxage or must-revalidate (tests/fidelity z23)
                authorization: AuthorizationRule::AtLookup,
                // only the first Vary line is read: `Vary: Accept-Encoding` then
                // `Vary: Origin` shares one alternate among Origins (tests/fidelity z44)
                vary_first_line: true,
                ..base.plain()
            },
            sources: &[
                "docs/research/cdn-vary.md §1.1 [ATS-ck] [ATS-var] [ATS-alts] [ATS-meth]",
                "tests/probe/README.md (scn round): real ATS 9.2.9 refetched a max-age=2, stale-while-revalidate=60 answer 2 s after expiry (Via cSsSfU), never served it stale (stale_while_revalidate: false; the stale_while_revalidate plugin is not loaded by default)",
                "https://docs.trafficserver.apache.org/en/latest/admin-guide/files/records.yaml.en.html (ignore_client_no_cache 1, negative_caching_enabled 0)",
                "https://docs.trafficserver.apache.org/en/9.2.x/admin-guide/files/records.config.en.html#proxy-config-http-cache-ignore-client-cc-max-age (default 1)",
                "https://docs.trafficserver.apache.org/en/9.2.x/admin-guide/files/records.config.en.html#proxy-config-http-cache-heuristic-min-lifetime (3600), #proxy-config-http-cache-heuristic-max-lifetime (86400), #proxy-config-http-cache-heuristic-lm-factor (0.10)",
                "apache/trafficserver proxy/http/HttpTransact.cc is_response_cacheable (required_headers checked for 200; 203 300 301 410 cacheable by status) and calculate_document_freshness_limit",
                "tests/fidelity z28, z30: real ATS 9.2 stores a 301 without Cache-Control or Last-Modified, and 203/300/410 with only Last-Modified; not a 200, 204, 404, 405, 414 or 501 so",
                "tests/fidelity z34, z38, z39: a DELETE without Origin leaves real ATS 9.2's Vary: Origin alternates in place, one from a.example removes a.example's only; a POST's Location and Content-Location stay; a response `Pragma: no-cache` is never reused, max-age=60 or not",
                "tests/fidelity z19, z23, z24, z25: real ATS 9.2 treats a repeated max-age as stale, stores answers to Authorization requests but serves them to one only when public/s-maxage/must-revalidate, honours request min-fresh, max-stale and only-if-cached",
                "https://docs.trafficserver.apache.org/en/9.2.x/admin-guide/files/records.config.en.html#proxy-config-http-cache-required-headers (9.x default 2: an explicit lifetime is required; Debian's /etc/trafficserver/records.config sets 2)",
                "https://docs.trafficserver.apache.org/en/9.2.x/admin-guide/files/records.config.en.html#proxy-config-http-normalize-ae (default 1: gzip or removed); apache/trafficserver proxy/http/HttpTransactHeaders.cc normalize_accept_encoding, HttpTransactCache.cc match_content_encoding",
                "apache/trafficserver 9.2.9 proxy/http/HttpTransactCache.cc CalcVariability and proxy/hdrs/MIME.h MIMEHdr::value_get_comma_list (the first Vary field only, not its duplicates)",
                "tests/fidelity z44: real ATS 9.2.9 serves a's answer to b when `Vary: Accept-Encoding` and `Vary: Origin` come as two lines",
                "apache/trafficserver 9.2.9 proxy/hdrs/MIME.cc mime_parse_integer (skips to the first digit or `-`, saturates at INT_MAX) and proxy/http/HttpTransact.cc handle_cache_operation_on_forward_server_response (negative_revalidating_enabled: a 500/502/503/504 to a revalidation serves the cached object when is_stale_cache_response_returnable)",
                "tests/fidelity z52, z53: real ATS 9.2.9 reuses max-age=2147483648, a 20-digit max-age, `max-age=+60`, `60.5` and ` 60`, not `0x3c`",
                "apache/trafficserver proxy/hdrs/URL.cc url_CryptoHash_get_general (\"?\" hashed before the query, present or not: `/p?` and `/p` share a key)",
                "tests/fidelity 11, 12: real ATS 9.2 revalidates (keeps the stored ACAO on a 304 without CORS), stores a 503 with max-age=60, not a 404/503 without it",
                "docs/research/lab.md (ATS 9.2: 6 Origins on one URL thrash, 0/6 hits)",
                "tests/fidelity.rs: real ATS 9.2.9 agrees on 410 of 412 corpus steps (z01-z40), all but z03 steps 3 and 4 (alternate selection, see the caveat) (5 Origins: 5/5 hits on round 2, 6 Origins: 0/6)",
            ],
            caveat: Some("collapse is off: docs/research/cdn-vary.md §1.1 lists `enable_read_while_writer` (default 1) as collapsing, but the ATS admin guide makes read-while-writer depend on further settings (background_fill_*, open_write_fail_action); concurrent misses were not measured (the fidelity suite sends steps one at a time). Alternate selection is modelled as the newest matching alternate; ATS (proxy/http/HttpTransactCache.cc SelectFromAlternates) takes the best Accept/-Charset/-Encoding/-Language quality score against the request that stored each alternate (scored only when it has Vary; an exact match weighs 1.001), the youngest among equals: a Vary: Origin alternate stored by the same browser outranks a newer one without Vary (tests/fidelity z03 steps 3, 4 disagree)"),
        },
        "fastly" => Profile {
            name: "fastly",
            summary: "req.url + Host, Vary per spec, ~200 variants, `*` reused, GET/HEAD only, request collapsing on",
            // vcl_hash: req.url + req.http.host (+ generation), no request field: a
            // service that caches OPTIONS keys a preflight on the URL, its Vary aside
            knobs: Knobs { max_variants: Some(200), preflight_key: PreflightKey::Ignore, stale_while_revalidate: true, vary_star: VaryStar::Reuse, collapse: Collapse::On, targeted: vec!["surrogate-control".into()], set_cookie: SetCookie::NotStored, ..base.plain() },
            sources: &[
                "https://fastly.com/blog/cache-recipe-success (\"By default, Fastly will pass requests that have the headers Set-Cookie or Cache-Control: private\"; default VCL vcl_fetch: Set-Cookie → pass)",
                "https://www.fastly.com/documentation/reference/vcl/subroutines/hash (req.url + req.http.host: a cached OPTIONS is keyed on neither Origin nor Access-Control-Request-*)",
                "https://www.fastly.com/documentation/reference/vcl/variables/backend-response/beresp-stale-while-revalidate (parsed by default from stale-while-revalidate in Surrogate-Control or Cache-Control)",
                "https://www.fastly.com/documentation/reference/http/http-headers/Vary",
                "https://fastly.com/documentation/guides/concepts/edge-state/cache/request-collapsing",
                "docs/research/cdn-vary.md §2 (cache-tests.fyi results): Fastly fails all 8 `*` tests",
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
                set_cookie: SetCookie::NotStored,
                stale_while_revalidate: true,
                // Every viewer field is proxied; Cloudflare adds CF-Connecting-IP, CF-Ray,
                // CF-Visitor, X-Forwarded-For/-Proto and CDN-Loop (values are placeholders).
                forward: Forward {
                    headers: ForwardHeaders::All,
                    strip: Vec::new(),
                    add: adds(&[("cdn-loop", "cloudflare"), ("cf-ray", "0000000000000000-XXX")]),
                },
                ..base.plain()
            },
            sources: &[
                "https://developers.cloudflare.com/cache/concepts/cdn-cache-control/ (Cloudflare-CDN-Cache-Control, then CDN-Cache-Control)",
                "https://developers.cloudflare.com/cache/concepts/cache-behavior/ (Set-Cookie with origin cache control: not cached, BYPASS)",
                "https://developers.cloudflare.com/cache/how-to/cache-keys/ (\"Origin header sent by client (for CORS support)\")",
                "https://developers.cloudflare.com/cache/concepts/cache-control/ (Vary not considered by default)",
                "https://developers.cloudflare.com/cache/concepts/vary/ (`Vary: *` always bypasses)",
                "https://developers.cloudflare.com/cache/concepts/cache-control/ (stale-while-revalidate honoured; served UPDATING while revalidated, asynchronously since cloudflare/cloudflare-docs#28577)",
                "cloudflare-docs default-cache-behavior.mdx (non-GET not cached)",
            ],
            caveat: Some("JSON/HTML need an \"Eligible for cache\" rule to be cached at all; this profile assumes one. A 2019 community report (docs/research/cdn-vary.md §1.1, Cloudflare) shows `Vary: Accept-Encoding, Origin` answered BYPASS, against the docs' \"Vary not considered\"; not modelled"),
        },
        "cloudfront" => Profile {
            name: "cloudfront",
            summary: "CachingOptimized, no origin request policy: URL path only (no query, no headers), only the key's headers reach the origin (never Origin), Vary ignored, GET/HEAD, TTL min 1 / default 86400 / max 31536000",
            knobs: cloudfront_base(base),
            sources: &[
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-the-cache-key.html",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Cookies.html (no cookie forwarding: Set-Cookie removed from responses)",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/controlling-origin-requests.html (only the key's values and CloudFront's own headers reach the origin without an origin request policy)",
                "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CachePolicyHeadersConfig.html (HeaderBehavior none: no header in the key or in origin requests)",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/RequestAndResponseBehaviorCustomOrigin.html",
                "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateCachePolicy.html (min TTL > 0 overrides no-store)",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/custom-error-pages-expiration.html (errors cached 10 s; the greater of max-age and the Error Caching Minimum TTL; no-store honoured only on 404, 410, 414, 501)",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HTTPStatusCodes.html (cached errors; origin unavailable: \"CloudFront continues to serve cached content\")",
                "https://aws.amazon.com/about-aws/whats-new/2023/05/amazon-cloudfront-stale-while-revalidate-stale-if-error-cache-control-directives/ (stale-while-revalidate honoured)",
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
            knobs: Knobs { vary: VaryMode::Uncacheable, vary_star: VaryStar::Bypass, ..base.plain() },
            sources: &[
                "https://techdocs.akamai.com/property-mgr/docs/rm-vary-header",
                "https://techdocs.akamai.com/property-mgr/reference/ga-allow-options",
                "https://techdocs.akamai.com/property-mgr/docs/cache-id-modification",
            ],
            caveat: Some("stale-while-revalidate is not among the Caching behavior's documented options (techdocs.akamai.com/property-mgr/reference/latest-caching); modelled as not honoured"),
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
                // "Cloud CDN honors this directive, serving the stale content … past the
                // cache entry expiration time" while it revalidates
                stale_while_revalidate: true,
                ..base.plain()
            },
            sources: &[
                "https://cloud.google.com/cdn/docs/using-cache-keys",
                "https://cloud.google.com/cdn/docs/caching",
                "https://cloud.google.com/cdn/docs/serving-stale-content (stale-while-revalidate honoured)",
            ],
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
                "https://learn.microsoft.com/en-us/answers/questions/768364/frontdoor-not-honoring-cache-header (Microsoft: \"stale-while-revalidate is not supported by Azure Front Door yet\", 2022)",
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
        // Cookies.html: without cookie forwarding CloudFront "removes Set-Cookie headers
        // from responses before returning responses to your viewers"
        set_cookie: SetCookie::Strip,
        ttl: TtlOverride {
            default: Some(86_400),
            min: Some(1),
            max: Some(31_536_000),
        },
        stale_on_disconnect: true,
        // "CloudFront supports stale-while-revalidate and stale-if-error" (2023-05-17)
        stale_while_revalidate: true,
        errors: ErrorCaching {
            statuses: Some(vec![400, 403, 404, 405, 414, 500, 501, 502, 503, 504]),
            ttl: Some(10),
            ttl_is_floor: true,
            ignore_no_store: vec![400, 403, 405, 500, 502, 503, 504],
        },
        ..base.plain()
    }
}

/// An edge as `varyedge proxy` flags: `--profile P` plus the knob overrides the proxy
/// takes. [`EdgeFlags::knobs`] turns flags into knobs (what the proxy runs);
/// [`EdgeFlags::for_edge`] finds the flags for given knobs (what a test spawning a proxy
/// for a scenario's edge passes), or says why no flags express them.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct EdgeFlags {
    /// The cache profile whose knobs to use (see `varyedge profiles`).
    #[arg(long, default_value = "rfc9111", value_name = "P")]
    pub profile: String,
    /// Override the profile's Vary treatment.
    #[arg(long, value_enum, value_name = "MODE")]
    pub vary: Option<VaryMode>,
    /// Store OPTIONS (preflight) responses.
    #[arg(long)]
    pub cache_options: bool,
    /// Override whether Origin and Access-Control-Request-* key an OPTIONS entry.
    #[arg(long, value_enum, value_name = "MODE")]
    pub preflight_key: Option<PreflightKey>,
    /// Request header always in the primary key (repeatable).
    #[arg(long = "key-header", value_name = "NAME")]
    pub key_headers: Vec<String>,
    /// Override the profile's request collapsing.
    #[arg(long, value_enum, value_name = "MODE")]
    pub collapse: Option<Collapse>,
}

/// Flags that name no profile, or knobs no flags express.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlagsError {
    /// `--profile` names no built-in profile.
    #[error("--profile {0:?}: no such profile (one of: {names})", names = PROFILE_NAMES.join(", "))]
    UnknownProfile(String),
    /// `--key-header` is not a field name.
    #[error("--key-header {0:?}: not a header name")]
    BadKeyHeader(String),
    /// The knobs differ from the profile's where no flag reaches.
    #[error("{0}")]
    Inexpressible(String),
}

/// `Some(a)` when `a` differs from the profile's `b`.
fn differs<T: PartialEq>(a: T, b: T) -> Option<T> {
    (a != b).then_some(a)
}

impl EdgeFlags {
    /// The knobs these flags select: the profile's, with the overrides applied
    /// (`--key-header` adds lowercase names the profile does not already key on).
    pub fn knobs(&self) -> Result<Knobs, FlagsError> {
        let k = profile(&self.profile)
            .ok_or_else(|| FlagsError::UnknownProfile(self.profile.clone()))?
            .knobs;
        self.apply_to(k)
    }

    /// The overrides applied to `k` (knobs from `--edge-config` instead of the profile's).
    pub fn apply_to(&self, mut k: Knobs) -> Result<Knobs, FlagsError> {
        if let Some(v) = self.vary {
            k.vary = v;
        }
        if self.cache_options {
            k.cache_options = true;
        }
        if let Some(p) = self.preflight_key {
            k.preflight_key = p;
        }
        for h in &self.key_headers {
            if !crate::fields::is_token(h) {
                return Err(FlagsError::BadKeyHeader(h.clone()));
            }
            let h = h.to_ascii_lowercase();
            if !k.key_headers.contains(&h) {
                k.key_headers.push(h);
            }
        }
        if let Some(c) = self.collapse {
            k.collapse = c;
        }
        Ok(k)
    }

    /// The flags that make the proxy run `knobs` on top of profile `name`: the inverse of
    /// [`EdgeFlags::knobs`]. Only knobs that differ from the profile's become flags.
    pub fn for_edge(name: &str, knobs: &Knobs) -> Result<EdgeFlags, FlagsError> {
        let base = profile(name)
            .ok_or_else(|| FlagsError::UnknownProfile(name.to_string()))?
            .knobs;
        let k = knobs;
        if k.pops > 1 || k.shield {
            return Err(FlagsError::Inexpressible(format!(
                "{} POPs, shield {}: the proxy is one cache",
                k.pops, k.shield
            )));
        }
        if !k.cache_options && base.cache_options {
            return Err(FlagsError::Inexpressible(
                "cache_options: false over a profile that stores OPTIONS (no flag turns it off)"
                    .into(),
            ));
        }
        let Some(extra) = k.key_headers.strip_prefix(&base.key_headers[..]) else {
            return Err(FlagsError::Inexpressible(format!(
                "key_headers {:?} drop some of the profile's {:?} (--key-header only adds)",
                k.key_headers, base.key_headers
            )));
        };
        let flags = EdgeFlags {
            profile: name.to_string(),
            vary: differs(k.vary, base.vary),
            cache_options: k.cache_options && !base.cache_options,
            preflight_key: differs(k.preflight_key, base.preflight_key),
            key_headers: extra.to_vec(),
            collapse: differs(k.collapse, base.collapse),
        };
        match flags.knobs() {
            Ok(back) if back == *k => Ok(flags),
            Ok(back) => Err(FlagsError::Inexpressible(format!(
                "knobs no proxy flag sets: {k:?} vs. what the flags give, {back:?}"
            ))),
            Err(e) => Err(e),
        }
    }

    /// The flags as command-line arguments, `--profile` first, in the order of the
    /// proxy's `--help`.
    pub fn to_args(&self) -> Vec<String> {
        let mut a = vec!["--profile".to_string(), self.profile.clone()];
        if let Some(v) = self.vary {
            a.extend(["--vary".into(), v.id().into()]);
        }
        if self.cache_options {
            a.push("--cache-options".into());
        }
        if let Some(p) = self.preflight_key {
            a.extend(["--preflight-key".into(), p.id().into()]);
        }
        for h in &self.key_headers {
            a.extend(["--key-header".into(), h.clone()]);
        }
        if let Some(c) = self.collapse {
            a.extend(["--collapse".into(), c.id().into()]);
        }
        a
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

    #[derive(clap::Parser)]
    struct Cmd {
        #[command(flatten)]
        edge: EdgeFlags,
    }

    fn parse(args: &[String]) -> EdgeFlags {
        use clap::Parser;
        let argv = std::iter::once("proxy".to_string()).chain(args.iter().cloned());
        Cmd::try_parse_from(argv).unwrap().edge
    }

    #[test]
    fn flags_round_trip_through_the_command_line() {
        let mut k = profile("varnish").unwrap().knobs;
        k.vary = VaryMode::IgnoreOrigin;
        k.key_headers.push("x-tenant".into());
        k.collapse = Collapse::Off;
        // varnish keys a stored OPTIONS on URL + Host (ignore): honouring is the override
        k.preflight_key = PreflightKey::Honor;
        k.cache_options = true;
        let f = EdgeFlags::for_edge("varnish", &k).unwrap();
        let args = f.to_args();
        assert_eq!(
            args,
            [
                "--profile",
                "varnish",
                "--vary",
                "ignore-origin",
                "--cache-options",
                "--preflight-key",
                "honor",
                "--key-header",
                "x-tenant",
                "--collapse",
                "off"
            ]
        );
        let back = parse(&args);
        assert_eq!(back, f);
        assert_eq!(back.knobs().unwrap(), k);
        // A profile's own knobs need no override.
        for n in PROFILE_NAMES {
            let f = EdgeFlags::for_edge(n, &profile(n).unwrap().knobs).unwrap();
            assert_eq!(f.to_args(), ["--profile", n]);
        }
    }

    #[test]
    fn flags_refuse_what_they_cannot_express() {
        let base = profile("rfc9111").unwrap().knobs;
        let mut k = base.clone();
        k.max_variants = Some(3);
        let e = EdgeFlags::for_edge("rfc9111", &k).unwrap_err().to_string();
        assert!(e.contains("no proxy flag"), "{e}");
        let mut k = base.clone();
        k.pops = 2;
        let e = EdgeFlags::for_edge("rfc9111", &k).unwrap_err().to_string();
        assert!(e.contains("POPs"), "{e}");
        let k = profile("cloudflare").unwrap().knobs;
        let e = EdgeFlags::for_edge(
            "rfc9111",
            &Knobs {
                key_headers: vec![],
                ..k.clone()
            },
        );
        assert!(e.is_err());
        let e = EdgeFlags::for_edge(
            "cloudflare",
            &Knobs {
                key_headers: vec![],
                ..k
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("only adds"), "{e}");
        assert!(matches!(
            EdgeFlags::for_edge("nope", &base),
            Err(FlagsError::UnknownProfile(_))
        ));
        let f = parse(&["--key-header".into(), "bad header".into()]);
        assert_eq!(
            f.knobs().unwrap_err().to_string(),
            "--key-header \"bad header\": not a header name"
        );
    }
}
