//! What a recorded exchange's headers say about the browser that sent it and the cache
//! that answered it.

use super::Entry;
use crate::browser::Agent;
use crate::edge::Outcome;
use crate::fields::Headers;

/// The engine from a `User-Agent` (Safari's UA also says `Safari/`, Chrome's says both
/// `Chrome/` and `Safari/`, Firefox's says `Firefox/`); `hint` is the HAR's
/// `log.browser.name` or `log.creator.name` when the UA is absent. `None` = not a browser.
pub fn engine(ua: Option<&str>, hint: &str) -> Option<Agent> {
    let from = |s: &str| {
        let l = s.to_ascii_lowercase();
        if l.contains("firefox") || l.contains("gecko/") && !l.contains("like gecko") {
            Some(Agent::Firefox)
        } else if l.contains("chrome")
            || l.contains("chromium")
            || l.contains("edg/")
            || l.contains("webinspector") && !l.contains("webkit web inspector")
        {
            Some(Agent::Chrome)
        } else if l.contains("safari") || l.contains("webkit") {
            Some(Agent::Safari)
        } else {
            None
        }
    };
    match ua {
        Some(u) if !u.trim().is_empty() => from(u),
        _ => from(hint),
    }
}

/// The outcome as the response headers report it. `None` = unknown.
///
/// A response can pass several caches (a CDN's shield and edge, a CDN in front of an
/// nginx). What matters for a CORS failure is whether any of them answered from storage:
/// then the headers the browser judged were stored for an earlier request. So each source
/// is read closest cache first, and the first cache that answered from storage decides;
/// a response every cache forwarded is a miss (or a pass).
///
/// - RFC 9211 `Cache-Status`: one member per cache, the last closest to the user (§2).
/// - `X-Cache` as Fastly writes it with shielding, `HIT, MISS` (shield, edge): Fastly's
///   reference says any entry other than `MISS` means the request was satisfied from
///   cache. `X-Cache-Hits` (`1, 0`) likewise: a positive count is a hit.
/// - Cloudflare's `CF-Cache-Status: REVALIDATED` and nginx's `REVALIDATED`: the stored
///   response was served after a conditional request to the origin, so its stored fields
///   (`Access-Control-Allow-Origin` among them) are what the browser got.
/// - Varnish's `X-Varnish`: two transaction ids (this request's and the one that stored
///   the object) on a hit, one otherwise (Varnish reference, "X-Varnish").
/// - Finally `Age` above 0 (RFC 9111 §5.1: the response came from a cache).
pub fn cache_outcome(h: &Headers) -> Option<Outcome> {
    let members = h.list("cache-status");
    if !members.is_empty() {
        let outcomes: Vec<Outcome> = members
            .iter()
            .rev()
            .filter_map(|m| cache_status_member(m))
            .collect();
        if let Some(o) = closest_stored(&outcomes) {
            return Some(o);
        }
    }
    for name in [
        "cf-cache-status",
        "x-cache-status",
        "x-vercel-cache",
        "x-cache",
    ] {
        if let Some(v) = h.get_combined(name) {
            let outcomes: Vec<Outcome> = v
                .rsplit(',')
                .filter_map(|w| word_outcome(&w.trim().to_ascii_lowercase()))
                .collect();
            if let Some(o) = closest_stored(&outcomes) {
                return Some(o);
            }
        }
    }
    if let Some(hits) = h.get_combined("x-cache-hits") {
        let counts: Vec<u64> = hits
            .split(',')
            .filter_map(|c| c.trim().parse().ok())
            .collect();
        if counts.iter().any(|&c| c > 0) {
            return Some(Outcome::Hit);
        }
    }
    if let Some(ids) = h.get("x-varnish") {
        if ids.split_ascii_whitespace().count() >= 2 {
            return Some(Outcome::Hit);
        }
    }
    match age(h) {
        Some(a) if a > 0 => Some(Outcome::Hit),
        _ => None,
    }
}

/// Whether the closest cache reporting an outcome says it revalidated a stale entry with
/// the origin before serving it (`CF-Cache-Status` / `X-Cache-Status: REVALIDATED`,
/// Squid's `TCP_REFRESH_UNMODIFIED` in `X-Cache`): the request reached the origin.
pub fn revalidated(h: &Headers) -> bool {
    ["cf-cache-status", "x-cache-status", "x-cache"]
        .iter()
        .find_map(|n| h.get_combined(n))
        .and_then(|v| v.rsplit(',').next().map(|w| w.trim().to_ascii_lowercase()))
        .is_some_and(|w| {
            let w = w.trim_start_matches("tcp_");
            w == "revalidated" || w.starts_with("refresh_unmodified")
        })
}

/// Of the outcomes of a response's caches, closest first: the closest one that answered
/// from storage, else the closest one's (a miss or a pass), else `None`.
fn closest_stored(outcomes: &[Outcome]) -> Option<Outcome> {
    outcomes
        .iter()
        .copied()
        .find(|o| o.from_cache())
        .or_else(|| outcomes.first().copied())
}

/// `Age` in seconds (RFC 9111 §5.1), when present and valid.
pub fn age(h: &Headers) -> Option<u64> {
    h.get("age").and_then(|v| v.trim().parse().ok())
}

/// One RFC 9211 member: `name; hit`, `name; fwd=uri-miss; stored`, `name; fwd=bypass`.
fn cache_status_member(m: &str) -> Option<Outcome> {
    let params: Vec<&str> = m.split(';').skip(1).map(str::trim).collect();
    let has = |p: &str| {
        params
            .iter()
            .any(|x| *x == p || x.starts_with(&format!("{p}=")))
    };
    let fwd = params.iter().find_map(|x| x.strip_prefix("fwd="));
    if has("collapsed") {
        return Some(Outcome::Collapsed);
    }
    if has("hit") {
        let stale = params.iter().any(|x| x.contains("stale"));
        return Some(if stale { Outcome::Stale } else { Outcome::Hit });
    }
    match fwd {
        Some("bypass" | "method" | "request") => Some(Outcome::Pass),
        Some(_) => Some(Outcome::Miss),
        None => None,
    }
}

/// `HIT`, `Hit from cloudfront`, `TCP_MISS`, `BYPASS`, `EXPIRED`, `STALE`…
fn word_outcome(w: &str) -> Option<Outcome> {
    let w = w.trim_start_matches("tcp_");
    if w.contains("stale") || w.contains("updating") {
        Some(Outcome::Stale)
    } else if w.contains("hit") || w == "revalidated" || w.starts_with("refresh_unmodified") {
        // a stored response served after a 304 (Cloudflare, nginx; Squid's
        // TCP_REFRESH_UNMODIFIED)
        Some(Outcome::Hit)
    } else if w.contains("miss") || w.contains("expired") || w.contains("refresh") {
        Some(Outcome::Miss)
    } else if w.contains("bypass") || w.contains("dynamic") || w.contains("pass") {
        Some(Outcome::Pass)
    } else {
        None
    }
}

/// Whether a cache (an edge, or the browser's own) served this response, and the
/// evidence: `Age: 120`, `x-cache: Hit from cloudfront`, `_fromCache: disk`.
pub fn cache_evidence(e: &Entry) -> Option<String> {
    if let Some(c) = &e.from_cache {
        return Some(match c.strip_prefix("service-worker:") {
            Some(src) => format!("the page's service worker (_serviceWorkerResponseSource: {src})"),
            None => format!("the browser's own cache (_fromCache: {c})"),
        });
    }
    let h = &e.response_headers;
    match cache_outcome(h) {
        Some(Outcome::Hit | Outcome::Stale | Outcome::Collapsed) => {}
        _ => return None,
    }
    let mut why = Vec::new();
    for n in [
        "cache-status",
        "cf-cache-status",
        "x-cache",
        "x-cache-status",
        "x-vercel-cache",
        "x-cache-hits",
        "x-varnish",
        "age",
    ] {
        if let Some(v) = h.get_combined(n) {
            why.push(format!("{n}: {v}"));
        }
    }
    Some(why.join("; "))
}

/// The CDN or cache the headers point at, as a profile name, with the evidence.
pub fn guess_edge(h: &Headers) -> Option<(&'static str, String)> {
    let has = |n: &str| h.contains(n);
    let val = |n: &str| h.get_combined(n).unwrap_or_default().to_ascii_lowercase();
    let ev = |n: &str| format!("{n}: {}", h.get_combined(n).unwrap_or_default());
    if has("cf-cache-status") || has("cf-ray") {
        let n = if has("cf-cache-status") {
            "cf-cache-status"
        } else {
            "cf-ray"
        };
        return Some(("cloudflare", ev(n)));
    }
    if has("x-amz-cf-pop")
        || has("x-amz-cf-id")
        || val("x-cache").contains("cloudfront")
        || val("via").contains("cloudfront")
    {
        let n = ["x-amz-cf-pop", "x-amz-cf-id", "x-cache"]
            .into_iter()
            .find(|n| has(n))
            .unwrap_or("via");
        return Some(("cloudfront", ev(n)));
    }
    if has("x-served-by") && has("x-cache") || has("fastly-debug-digest") {
        return Some(("fastly", ev("x-served-by")));
    }
    if has("x-akamai-request-id")
        || has("x-akamai-transformed")
        || val("server").contains("akamaighost")
    {
        return Some(("akamai", "akamai headers".to_string()));
    }
    if has("x-azure-ref") || has("x-fd-healthprobe") {
        return Some(("azure-front-door", ev("x-azure-ref")));
    }
    if val("via").contains("google") {
        return Some(("gcp-cdn", ev("via")));
    }
    if has("x-varnish") || val("via").contains("varnish") {
        return Some((
            "varnish",
            if has("x-varnish") {
                ev("x-varnish")
            } else {
                ev("via")
            },
        ));
    }
    if val("via").contains("squid")
        || val("x-cache").contains("from ") && val("server").contains("squid")
    {
        return Some(("squid", ev("via")));
    }
    if val("via").contains("trafficserver")
        || val("via").contains("ats") && val("server").contains("ats")
    {
        return Some(("ats", ev("via")));
    }
    if has("x-cache-status") || has("x-proxy-cache") {
        return Some(("nginx", ev("x-cache-status")));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(p: &[(&str, &str)]) -> Headers {
        Headers::from_pairs(p.iter().copied())
    }

    #[test]
    fn engines() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36";
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
        let safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
        assert_eq!(engine(Some(chrome), ""), Some(Agent::Chrome));
        assert_eq!(engine(Some(firefox), ""), Some(Agent::Firefox));
        assert_eq!(engine(Some(safari), ""), Some(Agent::Safari));
        assert_eq!(engine(Some("curl/8.5.0"), "Firefox"), None);
        assert_eq!(engine(None, "WebKit Web Inspector"), Some(Agent::Safari));
        assert_eq!(engine(None, "WebInspector"), Some(Agent::Chrome));
    }

    #[test]
    fn outcomes() {
        assert_eq!(
            cache_outcome(&h(&[("cf-cache-status", "HIT")])),
            Some(Outcome::Hit)
        );
        assert_eq!(
            cache_outcome(&h(&[("cf-cache-status", "DYNAMIC")])),
            Some(Outcome::Pass)
        );
        assert_eq!(
            cache_outcome(&h(&[("x-cache", "Miss from cloudfront")])),
            Some(Outcome::Miss)
        );
        // Fastly with shielding: the shield answered from storage, the edge forwarded
        assert_eq!(
            cache_outcome(&h(&[("x-cache", "HIT, MISS")])),
            Some(Outcome::Hit)
        );
        assert_eq!(
            cache_outcome(&h(&[("x-cache", "MISS, MISS")])),
            Some(Outcome::Miss)
        );
        assert_eq!(
            cache_outcome(&h(&[("x-cache", "MISS"), ("x-cache-hits", "0")])),
            Some(Outcome::Miss)
        );
        assert_eq!(
            cache_outcome(&h(&[("x-cache-hits", "1, 0")])),
            Some(Outcome::Hit)
        );
        assert_eq!(
            cache_outcome(&h(&[("cf-cache-status", "REVALIDATED")])),
            Some(Outcome::Hit)
        );
        assert_eq!(
            cache_outcome(&h(&[("x-cache-status", "REVALIDATED")])),
            Some(Outcome::Hit)
        );
        assert_eq!(
            cache_outcome(&h(&[("x-cache", "TCP_REFRESH_UNMODIFIED")])),
            Some(Outcome::Hit)
        );
        assert_eq!(
            cache_outcome(&h(&[("x-cache", "TCP_REFRESH_MODIFIED")])),
            Some(Outcome::Miss)
        );
        assert_eq!(
            cache_outcome(&h(&[("x-varnish", "32770 3")])),
            Some(Outcome::Hit)
        );
        assert_eq!(cache_outcome(&h(&[("x-varnish", "32770")])), None);
        // RFC 9211: the farther cache answered from storage, the nearer one forwarded
        assert_eq!(
            cache_outcome(&h(&[(
                "cache-status",
                "Shield; hit, Edge; fwd=uri-miss; stored"
            )])),
            Some(Outcome::Hit)
        );
        assert_eq!(
            cache_outcome(&h(&[(
                "cache-status",
                "Shield; fwd=uri-miss, Edge; fwd=uri-miss; stored"
            )])),
            Some(Outcome::Miss)
        );
        assert_eq!(
            cache_outcome(&h(&[("cache-status", "varyedge; fwd=uri-miss; stored")])),
            Some(Outcome::Miss)
        );
        assert_eq!(
            cache_outcome(&h(&[("cache-status", "varyedge; hit; ttl=3")])),
            Some(Outcome::Hit)
        );
        assert_eq!(cache_outcome(&h(&[("age", "12")])), Some(Outcome::Hit));
        assert_eq!(cache_outcome(&h(&[("age", "0")])), None);
    }

    #[test]
    fn edges() {
        assert_eq!(
            guess_edge(&h(&[("cf-cache-status", "HIT")])).map(|g| g.0),
            Some("cloudflare")
        );
        assert_eq!(
            guess_edge(&h(&[("x-amz-cf-pop", "FRA56-P1")])).map(|g| g.0),
            Some("cloudfront")
        );
        assert_eq!(
            guess_edge(&h(&[("x-served-by", "cache-fra"), ("x-cache", "HIT")])).map(|g| g.0),
            Some("fastly")
        );
        assert_eq!(
            guess_edge(&h(&[("x-varnish", "32770 3")])).map(|g| g.0),
            Some("varnish")
        );
        assert_eq!(guess_edge(&h(&[("via", "1.1 varyedge")])), None);
    }
}
