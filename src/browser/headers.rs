//! The request headers an engine adds to every `fetch()` on its own (Fetch §4.5
//! "HTTP-network-or-cache fetch" steps 8–15 add `User-Agent`, `Accept-Encoding`,
//! `Accept-Language` and friends; Fetch §4.1 "main fetch" adds `Accept: */*`; Fetch
//! Metadata adds `Sec-Fetch-*`), and what a non-browser client (curl) sends.
//!
//! These matter to a cache: `Vary: Accept-Encoding` (sent by almost every CDN and origin)
//! and `Vary: User-Agent` split entries between a curl request and a browser's, and
//! between engines.

use super::Agent;
use crate::fields::Headers;

/// Chromium 156 on Linux, measured: a `fetch()` from `http://127.0.0.1:P` sent exactly
/// these (besides `Host`, `Connection`, `Origin`, `Sec-Fetch-*` and `Referer`), with
/// `HeadlessChrome` in place of `Chrome` in the User-Agent because it ran headless.
const CHROME: [(&str, &str); 7] = [
    ("sec-ch-ua-platform", "\"Linux\""),
    (
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
    ),
    ("sec-ch-ua", "\"Not:A-Brand\";v=\"8\", \"Chromium\";v=\"156\""),
    ("sec-ch-ua-mobile", "?0"),
    ("accept", "*/*"),
    // net/url_request/url_request_http_job.cc advertises zstd and br on every scheme
    // (measured over plain http too).
    ("accept-encoding", "gzip, deflate, br, zstd"),
    ("accept-language", "en-US,en;q=0.9"),
];

/// Firefox: `general.useragent` for Linux, `intl.accept_languages` rendered with the
/// `q=0.5` step Firefox uses, and `network.http.accept-encoding.secure`
/// (`gzip, deflate, br, zstd`) on https but `network.http.accept-encoding`
/// (`gzip, deflate`) on plain http (modules/libpref/init/all.js and StaticPrefList.yaml).
const FIREFOX: [(&str, &str); 3] = [
    (
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
    ),
    ("accept", "*/*"),
    ("accept-language", "en-US,en;q=0.5"),
];

/// Safari 18 on macOS (WebKit `NetworkLoadChecker` / CFNetwork defaults as documented by
/// Apple's WebKit blog and MDN's Accept-Encoding page: no zstd).
const SAFARI: [(&str, &str); 4] = [
    (
        "user-agent",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
    ),
    ("accept", "*/*"),
    ("accept-language", "en-US,en;q=0.9"),
    ("accept-encoding", "gzip, deflate, br"),
];

/// curl 8 with no options: `User-Agent: curl/<version>` and `Accept: */*`, nothing else
/// (src/tool_operate.c sets the agent; lib/http.c adds `Accept: */*`).
const CURL: [(&str, &str); 2] = [("user-agent", "curl/8.5.0"), ("accept", "*/*")];

/// The default header set of `agent` for a request to `scheme` (before the scenario's
/// per-client overrides). Browsers also send `Origin`, `Referer`, `Sec-Fetch-*` and
/// cookies; those depend on the request and are added where it is built.
pub fn defaults(agent: Agent, scheme: &str) -> Headers {
    let mut h = Headers::new();
    let set: &[(&str, &str)] = match agent {
        Agent::Chrome => &CHROME,
        Agent::Firefox => &FIREFOX,
        Agent::Safari => &SAFARI,
        Agent::None => &CURL,
    };
    h.reserve(set.len() + 1);
    for (n, v) in set {
        h.append_static(n, v);
    }
    if agent == Agent::Firefox {
        let ae = if scheme.eq_ignore_ascii_case("https") {
            "gzip, deflate, br, zstd"
        } else {
            "gzip, deflate"
        };
        h.append_static("accept-encoding", ae);
    }
    h
}

/// Applies a scenario's overrides to `base`: a name with a value replaces the default, a
/// name with an empty value removes it.
pub fn apply_overrides(base: &mut Headers, overrides: &Headers) {
    for (n, v) in overrides.iter() {
        if v.is_empty() {
            base.remove(n);
        } else {
            base.insert(n, v);
        }
    }
}

/// Fetch Metadata (<https://w3c.github.io/webappsec-fetch-metadata/>) `Sec-Fetch-Site`:
/// how the request's URL relates to the page that initiated it, the most distant over a
/// redirect chain ("cross-site" wins over "same-site" over "same-origin").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FetchSite {
    /// Same origin as the page.
    #[default]
    SameOrigin,
    /// Another origin of the page's site.
    SameSite,
    /// Another site.
    CrossSite,
}

impl FetchSite {
    /// Between the page origin and a URL.
    pub fn of(page_origin: &str, url: &str) -> FetchSite {
        FetchSite::of_parts(
            super::site::parts(page_origin).as_ref(),
            super::site::parts(url).as_ref(),
        )
    }

    /// The value for a page origin and URL related as `r` (one that does not parse is
    /// cross-site).
    pub(crate) fn of_relation(r: super::site::Relation) -> FetchSite {
        if r.same_origin {
            FetchSite::SameOrigin
        } else if r.same_site {
            FetchSite::SameSite
        } else {
            FetchSite::CrossSite
        }
    }

    /// [`FetchSite::of`] on split parts (`None`: not a URL, which is cross-site).
    pub(crate) fn of_parts(
        page: Option<&super::site::Parts<'_>>,
        url: Option<&super::site::Parts<'_>>,
    ) -> FetchSite {
        match (page, url) {
            (Some(p), Some(u)) if super::site::same_origin_parts(p, u) => FetchSite::SameOrigin,
            (Some(p), Some(u)) if super::site::same_site_parts(p, u) => FetchSite::SameSite,
            _ => FetchSite::CrossSite,
        }
    }

    /// The header value.
    pub fn value(self) -> &'static str {
        match self {
            FetchSite::SameOrigin => "same-origin",
            FetchSite::SameSite => "same-site",
            FetchSite::CrossSite => "cross-site",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_differ_where_caches_look() {
        let c = defaults(Agent::Chrome, "http");
        assert_eq!(c.get("accept-encoding"), Some("gzip, deflate, br, zstd"));
        assert_eq!(c.get("accept"), Some("*/*"));
        assert_eq!(
            defaults(Agent::Firefox, "http").get("accept-encoding"),
            Some("gzip, deflate")
        );
        assert_eq!(
            defaults(Agent::Firefox, "https").get("accept-encoding"),
            Some("gzip, deflate, br, zstd")
        );
        assert_eq!(
            defaults(Agent::Safari, "https").get("accept-encoding"),
            Some("gzip, deflate, br")
        );
        let curl = defaults(Agent::None, "https");
        assert_eq!(curl.get("accept-encoding"), None);
        assert!(curl
            .get("user-agent")
            .is_some_and(|u| u.starts_with("curl/")));
    }

    #[test]
    fn overrides_replace_and_remove() {
        let mut h = defaults(Agent::Chrome, "https");
        let o = Headers::from_pairs([("accept-language", "fr"), ("accept-encoding", "")]);
        apply_overrides(&mut h, &o);
        assert_eq!(h.get("accept-language"), Some("fr"));
        assert_eq!(h.get("accept-encoding"), None);
    }

    #[test]
    fn fetch_site() {
        let p = "http://127.0.0.1:1";
        assert_eq!(
            FetchSite::of(p, "http://127.0.0.1:1/x"),
            FetchSite::SameOrigin
        );
        assert_eq!(
            FetchSite::of(p, "http://127.0.0.1:2/x"),
            FetchSite::SameSite
        );
        assert_eq!(
            FetchSite::of(p, "http://localhost:1/x"),
            FetchSite::CrossSite
        );
        assert!(FetchSite::CrossSite > FetchSite::SameSite);
    }
}
