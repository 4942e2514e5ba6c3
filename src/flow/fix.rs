//! The fix hint: the knob or header that would have prevented a step's failure.

use super::StepReport;
use crate::browser::Reason;
use crate::message::Response;
use crate::profile::{Collapse, Knobs, PreflightKey, VaryMode};

/// A one-line fix for a failing or wrongly allowed step, naming the knob or header.
pub fn fix_hint(r: &StepReport, knobs: &Knobs, served: Option<&Response>) -> Option<String> {
    if r.verdict.allowed && !r.wrongly_allowed {
        return None;
    }
    if r.wrongly_allowed && r.origin_failed {
        // PRODUCT.md: allowed only because of the cache. But the stored answer is the
        // origin's own; only the outage's error answer lacks CORS fields.
        return Some(format!("the origin alone fails here ({} without CORS headers) and the cache answered with the stored response (still fresh, or stale-if-error): keying changes nothing; send the CORS headers on error answers too (`cors: true` on the route's errors) so pages read the outage as an error, or accept that the cache answers during outages", r.direct.reason.id()));
    }
    if r.cache_induced {
        return Some(cache_fix(r, knobs, served));
    }
    let on_redirect = matches!(r.status, 301 | 302 | 303 | 307 | 308) && !r.verdict.in_preflight;
    if on_redirect
        && matches!(
            r.verdict.reason,
            Reason::MissingAllowOrigin | Reason::OriginMismatch | Reason::CredentialsNotAllowed
        )
    {
        return Some("fetch() checks CORS on the redirect itself: answer the redirect with the CORS headers (a redirect rule in front of the CORS handler sends none), or call the final URL".to_string());
    }
    if r.verdict.reason == Reason::MissingAllowOrigin && !r.verdict.in_preflight && r.status >= 400
    {
        return Some(error_without_cors(r.status));
    }
    let hint = match r.verdict.reason {
        Reason::Ok => return None,
        Reason::MissingAllowOrigin => "the origin does not allow this origin: add it to `allow_origins` (compare scheme, host and port byte for byte)",
        Reason::OriginMismatch => "the origin answers with another origin's value: reflect the request's Origin when it is allowlisted",
        Reason::MultipleAllowOrigin => "send exactly one Access-Control-Allow-Origin value: reflect the one matching origin, not the whole list",
        Reason::WildcardWithCredentials => "`*` never works with credentials: reflect the allowlisted origin and send Vary: Origin, or fetch with credentials: omit",
        Reason::CredentialsNotAllowed => "send `Access-Control-Allow-Credentials: true` (allow_credentials: true), or fetch with credentials: omit",
        Reason::PreflightBadStatus => "answer the preflight (OPTIONS) with a 2xx status and the CORS headers (`options: true` in the origin's cors)",
        Reason::MethodNotAllowed => "add the method to `allow_methods` (Access-Control-Allow-Methods)",
        Reason::HeaderNotAllowed => "add the header to `allow_headers`; `*` never covers Authorization, and does not apply with credentials",
        Reason::PrivateNetworkNotAllowed => "answer the preflight with `Access-Control-Allow-Private-Network: true` (allow_private_network: true)",
        Reason::PreflightRedirect => "a preflight must not be redirected: call the final URL directly (scheme, host, trailing slash), or answer OPTIONS before the redirect (`redirect_options: false`)",
        Reason::NoCorsMethod => "`no-cors` allows only GET, HEAD and POST: use `mode: cors` with a CORS-enabled endpoint",
        Reason::RedirectModeError => "the fetch uses `redirect: error` and the server redirected: call the final URL, or use `redirect: follow`",
        Reason::TooManyRedirects => "the server redirected more than 20 times in a row (a redirect loop): fix the Location chain",
        Reason::RedirectContainsCredentials => "a cross-origin redirect's Location must not carry a username or password (`https://user:pass@host/`): redirect to the URL without them",
        Reason::RedirectNotHttp => "a redirect's Location must be an http: or https: URL (not data:, ftp:, …): fix the Location header",
    };
    Some(hint.to_string())
}

/// An error answer without `Access-Control-Allow-Origin`: the usual source is a load
/// balancer, WAF or error handler in front of the CORS code, not the allowlist.
fn error_without_cors(status: u16) -> String {
    format!("this {status} error answer carries no CORS headers (load balancer, WAF and error-handler pages usually send none): send Access-Control-Allow-Origin on error answers too, so the page can read the error; if the origin is simply not allowed, add it to `allow_origins`")
}

/// A stored error answer without CORS headers served again: keying on Origin would not
/// help (the origin's error carries no `Access-Control-Allow-Origin` for anyone); the
/// error must not be stored, or must carry the CORS headers.
fn cached_error_fix(status: u16, knobs: &Knobs) -> String {
    let kept = knobs.errors.ttl.map_or(String::new(), |t| {
        format!(" (this edge keeps errors {t} s when they state no freshness)")
    });
    let store = if knobs.errors.ignore_no_store.contains(&status) {
        format!("set the error caching TTL for {status} to 0 (CloudFront: a custom error response with ErrorCachingMinTTL 0; this edge ignores `no-store` on a {status})")
    } else {
        "mark error answers `Cache-Control: no-store`".to_string()
    };
    format!("the edge served a stored {status} error answer without CORS headers{kept}: {store}, and send Access-Control-Allow-Origin on error answers too")
}

fn cache_fix(r: &StepReport, knobs: &Knobs, served: Option<&Response>) -> String {
    if let Some(s) =
        served.filter(|s| s.status >= 400 && !s.headers.contains("access-control-allow-origin"))
    {
        if !r.verdict.in_preflight {
            return cached_error_fix(s.status, knobs);
        }
    }
    let mut parts: Vec<String> = Vec::new();
    if crate::edge::forward::drops_cors_fields(
        &knobs.forward,
        &knobs.key_headers,
        r.verdict.in_preflight,
    ) {
        if crate::edge::forward::forwards_origin(&knobs.forward, &knobs.key_headers) {
            // Origin gets through; what the preflight asks for does not
            parts.push(format!("the origin never sees the preflight's Access-Control-Request-Method/-Headers (forward_headers: {}): forward them (`forward_headers: [origin, access-control-request-method, access-control-request-headers]`; CloudFront: the CORS-S3Origin or AllViewer origin request policy (CORS-CustomOrigin forwards only Origin), or these headers in the cache policy, which also keys them where OPTIONS is cached): without them its OPTIONS answer cannot allow what the page asks for", knobs.forward.describe()));
        } else {
            parts.push(format!("the origin never sees the request's Origin (forward_headers: {}): key it in the cache policy (`key_headers: [origin]`), which also forwards it; an origin request policy alone (CORS-CustomOrigin) forwards it without keying and turns this into intermittent poisoning", knobs.forward.describe()));
        }
    }
    if r.cache == crate::edge::Outcome::Collapsed && knobs.collapse == Collapse::Naive {
        parts.push("the edge collapsed this request onto another origin's fetch: make collapsing Vary-aware (`collapse: true`) or turn it off".into());
    }
    let vary: Vec<String> = served
        .map(|s| {
            s.headers
                .list("vary")
                .iter()
                .map(|v| v.to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    // A preflight is selected by Origin and both Access-Control-Request-* fields
    // (Fetch §4.8): a cache must key (or Vary on) all three.
    const PREFLIGHT_FIELDS: [&str; 3] = [
        "origin",
        "access-control-request-method",
        "access-control-request-headers",
    ];
    if r.verdict.in_preflight {
        let keyed = |n: &str| knobs.key_headers.iter().any(|h| h == n);
        if knobs.cache_options
            && knobs.preflight_key == PreflightKey::Ignore
            && !PREFLIGHT_FIELDS.iter().all(|n| keyed(n))
        {
            parts.push("this edge stores OPTIONS without keying Origin and the Access-Control-Request-* headers: `cache_options: false`, or `preflight_key: honor` (CloudFront: add Origin, Access-Control-Request-Method, -Headers to the cache policy)".into());
        }
        if !PREFLIGHT_FIELDS.iter().all(|n| vary.iter().any(|v| v == n)) {
            parts.push("send `Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers` on preflights (preflight_vary: true)".into());
        }
    } else {
        if !vary.iter().any(|v| v == "origin") {
            parts.push("the origin does not send `Vary: Origin` on this response: send it on every response, with or without Origin (vary_origin: true)".into());
        }
        if !matches!(knobs.vary, VaryMode::Honor)
            && !knobs.key_headers.iter().any(|h| h == "origin")
        {
            parts.push(format!("this edge does not key on Origin (vary: {}): add `origin` to `key_headers` (a CloudFront cache policy's header list)", vary_id(knobs.vary)));
        }
    }
    if parts.is_empty() {
        parts.push(format!("the entry stored by step {} was reused for a different request: key on Origin (`key_headers: [origin]`)", r.poisoned_by.unwrap_or(0)));
    }
    parts.join("; ")
}

fn vary_id(v: VaryMode) -> &'static str {
    v.id()
}
