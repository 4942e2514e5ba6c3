//! A browser's cookie jar (RFC 6265bis, <https://httpwg.org/http-extensions/draft-ietf-httpbis-rfc6265bis.html>),
//! reduced to what decides whether a cross-origin `fetch()` carries a `Cookie` header:
//! host/domain matching, `Secure`, `SameSite`, and the engine's third-party cookie policy.
//! Cookies are filled from the scenario (a client's `cookie:`) and from `Set-Cookie`.
//! Paths and expiry dates are not modelled (every cookie has path `/` and lives for the
//! whole scenario; `Max-Age=0` deletes).

use super::site;
use super::Agent;
use crate::fields::Headers;

/// The `SameSite` attribute (RFC 6265bis §4.1.2.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=None` (needs `Secure`).
    None,
    /// No attribute: Chromium treats it as `Lax` ("Lax by default", since Chrome 80).
    Unspecified,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Cookie {
    name: String,
    value: String,
    /// Lowercase host or domain, without a leading dot.
    domain: String,
    /// No `Domain` attribute: only this exact host.
    host_only: bool,
    secure: bool,
    same_site: SameSite,
}

/// One browser's cookies.
#[derive(Clone, Debug, Default)]
pub struct CookieJar {
    /// Shared copy-on-write: a snapshot of the jar costs a reference count until a
    /// cookie is stored.
    cookies: std::sync::Arc<Vec<Cookie>>,
}

/// Whether the engine withholds (and refuses to store) cookies in a cross-site context
/// even with `SameSite=None`. Chromium 156 headless with a fresh profile did so
/// (measured: a `SameSite=None; Secure` cookie set for 127.0.0.1 was sent from a page on
/// 127.0.0.1 and not from a page on localhost; a `Set-Cookie` answered to the localhost
/// page was not stored). Safari blocks all third-party cookies (WebKit, "Full
/// Third-Party Cookie Blocking", March 2020); Firefox's Total Cookie Protection (default
/// since Firefox 103) keeps third-party cookies in a per-site partition, so a cookie set
/// first-party is never sent cross-site.
pub fn blocks_third_party_cookies(agent: Agent) -> bool {
    agent != Agent::None
}

/// A parsed cookie string: its name=value pairs and the attributes that apply to all.
struct Parsed<'a> {
    pairs: Vec<(&'a str, &'a str)>,
    same_site: SameSite,
    secure: bool,
    domain: Option<&'a str>,
    /// `Max-Age` of zero or less.
    delete: bool,
}

/// Splits a cookie string (`a=1; b=2; SameSite=None; Secure`).
///
/// The first part is a cookie even without a name, as RFC 6265bis §5.6 parses a
/// `Set-Cookie` line: `=x` and a bare `x` (no `=`) are both a cookie with an empty name and
/// the value `x`; only a part whose name and value are both empty is dropped. Later parts
/// are attributes, or further `name=value` pairs (a scenario's `cookie:` may list several).
fn parse(s: &str) -> Parsed<'_> {
    let (mut pairs, mut same_site, mut secure, mut domain, mut delete) =
        (Vec::new(), SameSite::Unspecified, false, None, false);
    for (i, part) in s.split(';').enumerate() {
        let part = part.trim();
        let (k, v) = part
            .split_once('=')
            .map_or((part, ""), |(k, v)| (k.trim(), v.trim()));
        if i == 0 && (k.is_empty() || !part.contains('=')) {
            if !part.contains('=') && !part.is_empty() {
                pairs.push(("", part));
            } else if !v.is_empty() {
                pairs.push(("", v));
            }
            continue;
        }
        match k.to_ascii_lowercase().as_str() {
            "" => {}
            "samesite" => {
                same_site = match v.to_ascii_lowercase().as_str() {
                    "strict" => SameSite::Strict,
                    "lax" => SameSite::Lax,
                    "none" => SameSite::None,
                    _ => SameSite::Unspecified,
                }
            }
            "secure" => secure = true,
            "domain" => domain = Some(v.trim_start_matches('.')),
            "max-age" => delete = v.trim().parse::<i64>().is_ok_and(|n| n <= 0),
            "path" | "expires" | "httponly" | "partitioned" | "priority" => {}
            _ if part.contains('=') => pairs.push((k, v)),
            _ => {}
        }
    }
    Parsed {
        pairs,
        same_site,
        secure,
        domain,
        delete,
    }
}

/// Whether `host` domain-matches a cookie (RFC 6265bis §5.1.3).
fn domain_match(c: &Cookie, host: &str) -> bool {
    if c.host_only {
        return host.eq_ignore_ascii_case(&c.domain);
    }
    let h = host.to_ascii_lowercase();
    h == c.domain || h.ends_with(&format!(".{}", c.domain))
}

/// Whether a `Secure` cookie may travel to this URL: https, or a loopback host (Chromium
/// treats http://localhost and 127.0.0.1 as potentially trustworthy; measured).
fn secure_ok(scheme: &str, host: &str) -> bool {
    scheme.eq_ignore_ascii_case("https") || site::is_loopback(host)
}

impl CookieJar {
    /// An empty jar.
    pub fn new() -> CookieJar {
        CookieJar::default()
    }

    /// Whether the jar holds no cookie.
    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// Stores a cookie string for `host` as if set first-party (a scenario's `cookie:`).
    pub fn preset(&mut self, host: &str, cookie: &str) {
        self.put(host, cookie);
    }

    fn put(&mut self, host: &str, line: &str) {
        let Parsed {
            pairs,
            same_site,
            secure,
            domain,
            delete,
        } = parse(line);
        let (host, _) = site::split_authority(host);
        for (name, value) in pairs {
            let c = Cookie {
                name: name.to_string(),
                value: value.to_string(),
                domain: domain.unwrap_or(host).to_ascii_lowercase(),
                host_only: domain.is_none(),
                secure,
                same_site,
            };
            let cookies = std::sync::Arc::make_mut(&mut self.cookies);
            cookies.retain(|o| {
                !(o.name == c.name && o.domain == c.domain && o.host_only == c.host_only)
            });
            if !delete {
                cookies.push(c);
            }
        }
    }

    /// RFC 6265bis §5.7 "storage model" for the `Set-Cookie` lines of a response to
    /// `scheme://host`, fetched from a page on `page_origin`, when the request's
    /// credentials flag was set (a `fetch()` with `credentials: include`, Fetch §4.5 step
    /// 17). Cookies are stored before (and whatever) the CORS check (measured: a
    /// `Set-Cookie` on a response blocked for a missing `Access-Control-Allow-Credentials`
    /// was sent on the next request). Rejected: `SameSite=None` without `Secure`
    /// (§5.7 step 19), `Secure` from an untrustworthy origin, and anything in a cross-site
    /// context when the engine blocks third-party cookies.
    pub fn store(
        &mut self,
        agent: Agent,
        page_origin: &str,
        scheme: &str,
        host: &str,
        resp: &Headers,
    ) {
        let url = format!("{scheme}://{host}/");
        let cross_site = !site::same_site(page_origin, &url);
        if cross_site && blocks_third_party_cookies(agent) {
            return;
        }
        let (bare, _) = site::split_authority(host);
        for line in resp.get_all("set-cookie") {
            let Parsed {
                same_site, secure, ..
            } = parse(line);
            if same_site == SameSite::None && !secure {
                continue;
            }
            if secure && !secure_ok(scheme, bare) {
                continue;
            }
            if cross_site && same_site != SameSite::None {
                continue;
            }
            self.put(host, line);
        }
    }

    /// RFC 6265bis §5.8.3 "retrieval algorithm": the `Cookie` value for a request to
    /// `scheme://host` initiated by a page on `page_origin`, or `None`. A cross-site
    /// request gets no `Strict`, `Lax` or unspecified cookie (§5.8.3 step 1, "Lax by
    /// default"), and no `None` one either when the engine blocks third-party cookies.
    pub fn cookie_header(
        &self,
        agent: Agent,
        page_origin: &str,
        scheme: &str,
        host: &str,
    ) -> Option<String> {
        let url = format!("{scheme}://{host}/");
        let cross_site = !site::same_site(page_origin, &url);
        let (bare, _) = site::split_authority(host);
        let mut out = String::new();
        for c in self.cookies.iter() {
            let allowed = domain_match(c, bare)
                && (!c.secure || secure_ok(scheme, bare))
                && (!cross_site
                    || (c.same_site == SameSite::None && !blocks_third_party_cookies(agent)));
            if allowed {
                if !out.is_empty() {
                    out.push_str("; ");
                }
                // §5.8.3 step 4: a nameless cookie is sent as its value alone.
                if !c.name.is_empty() {
                    out.push_str(&c.name);
                    out.push('=');
                }
                out.push_str(&c.value);
            }
        }
        (!out.is_empty()).then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "http://127.0.0.1:1000";
    const B: &str = "http://localhost:2000";

    #[test]
    fn same_site_sends_every_kind_cross_site_none() {
        let mut j = CookieJar::new();
        j.preset("127.0.0.1:9", "lax=1; SameSite=Lax");
        j.preset("127.0.0.1:9", "def=1");
        j.preset("127.0.0.1:9", "none=1; SameSite=None; Secure");
        j.preset("127.0.0.1:9", "strict=1; SameSite=Strict");
        assert_eq!(
            j.cookie_header(Agent::Chrome, A, "http", "127.0.0.1:9")
                .as_deref(),
            Some("lax=1; def=1; none=1; strict=1")
        );
        assert_eq!(
            j.cookie_header(Agent::Chrome, B, "http", "127.0.0.1:9"),
            None
        );
        assert_eq!(
            j.cookie_header(Agent::Safari, B, "http", "127.0.0.1:9"),
            None
        );
        assert_eq!(
            j.cookie_header(Agent::None, B, "http", "127.0.0.1:9")
                .as_deref(),
            Some("none=1")
        );
        assert_eq!(
            j.cookie_header(Agent::Chrome, A, "http", "localhost:9"),
            None
        );
    }

    #[test]
    fn set_cookie_rules() {
        let mut j = CookieJar::new();
        let h = Headers::from_pairs([
            ("set-cookie", "a=1"),
            ("set-cookie", "bad=1; SameSite=None"),
            ("set-cookie", "s=1; Secure"),
        ]);
        j.store(Agent::Chrome, B, "http", "127.0.0.1:9", &h);
        assert!(j.is_empty(), "cross-site Set-Cookie is refused");
        j.store(Agent::Chrome, A, "http", "127.0.0.1:9", &h);
        assert_eq!(
            j.cookie_header(Agent::Chrome, A, "http", "127.0.0.1:9")
                .as_deref(),
            Some("a=1; s=1")
        );
        j.store(
            Agent::Chrome,
            A,
            "http",
            "127.0.0.1:9",
            &Headers::from_pairs([("set-cookie", "a=; Max-Age=0")]),
        );
        assert_eq!(
            j.cookie_header(Agent::Chrome, A, "http", "127.0.0.1:9")
                .as_deref(),
            Some("s=1")
        );
        let mut k = CookieJar::new();
        k.store(
            Agent::Chrome,
            "https://app.example.com",
            "http",
            "api.example.com",
            &Headers::from_pairs([("set-cookie", "s=1; Secure")]),
        );
        assert!(k.is_empty(), "Secure over plain http to a public host");
    }

    #[test]
    fn domain_attribute_covers_subdomains() {
        let mut j = CookieJar::new();
        j.preset("www.example.com", "d=1; Domain=example.com");
        let o = "https://app.example.com";
        assert_eq!(
            j.cookie_header(Agent::Chrome, o, "https", "api.example.com")
                .as_deref(),
            Some("d=1")
        );
    }

    /// RFC 6265bis §5.8.3 step 1: a cookie is sent only to a host that domain-matches
    /// it; host-only (no `Domain`) means that exact host, `Domain=` that host and its
    /// subdomains (§5.1.3). Same-site hosts that do not match get nothing.
    #[test]
    fn only_domain_matching_hosts_get_the_cookie() {
        let page = "https://app.example.com";
        let mut j = CookieJar::new();
        j.preset("api.example.com", "h=1");
        j.preset("api.example.com", "d=1; Domain=api.example.com");
        let get = |host| j.cookie_header(Agent::Chrome, page, "https", host);
        assert_eq!(get("api.example.com").as_deref(), Some("h=1; d=1"));
        assert_eq!(get("v2.api.example.com").as_deref(), Some("d=1"));
        assert_eq!(get("other.example.com"), None);
        assert_eq!(get("xapi.example.com"), None, "a suffix is not a subdomain");
    }

    /// RFC 6265bis §5.8.3 step 1: a `Secure` cookie goes only over a secure channel
    /// (https, or a loopback host, which Chromium treats as potentially trustworthy); the
    /// http requests come from an http page (schemeful same-site: an https page calling
    /// http is cross-site).
    #[test]
    fn a_secure_cookie_needs_a_secure_channel() {
        let page = "https://app.example.com";
        let mut j = CookieJar::new();
        j.preset("api.example.com", "s=1; Secure");
        assert_eq!(
            j.cookie_header(
                Agent::Chrome,
                "http://app.example.com",
                "http",
                "api.example.com"
            ),
            None
        );
        j.preset("api.example.com", "p=1");
        assert_eq!(
            j.cookie_header(
                Agent::Chrome,
                "http://app.example.com",
                "http",
                "api.example.com"
            )
            .as_deref(),
            Some("p=1"),
            "a cookie without Secure goes over http too"
        );
        assert_eq!(
            j.cookie_header(Agent::Chrome, page, "https", "api.example.com")
                .as_deref(),
            Some("s=1; p=1")
        );
    }

    /// RFC 6265bis §5.6: an attribute the user agent does not recognise is ignored; a
    /// bare word after the name-value pair is an attribute, not another cookie.
    #[test]
    fn an_unknown_attribute_is_not_a_cookie() {
        let mut j = CookieJar::new();
        j.preset("api.example.com", "a=1; Bogus; HttpOnly");
        assert_eq!(
            j.cookie_header(
                Agent::Chrome,
                "https://api.example.com",
                "https",
                "api.example.com"
            )
            .as_deref(),
            Some("a=1")
        );
    }

    /// RFC 6265bis §5.7 step 22 (the storage model): a cookie set in a cross-site context
    /// is stored only with `SameSite=None`; a client that blocks no third-party cookie
    /// (`browser: none`) reaches that rule, a browser refuses them all before it.
    #[test]
    fn cross_site_set_cookie_is_stored_only_with_samesite_none() {
        let mut resp = Headers::new();
        resp.append("set-cookie", "n=1; SameSite=None; Secure");
        resp.append("set-cookie", "u=1; Secure");
        let mut j = CookieJar::new();
        j.store(
            Agent::None,
            "https://app.other.example",
            "https",
            "api.example.com",
            &resp,
        );
        assert_eq!(
            j.cookie_header(
                Agent::None,
                "https://api.example.com",
                "https",
                "api.example.com"
            )
            .as_deref(),
            Some("n=1")
        );
    }

    /// RFC 6265bis §5.6 (parsing `Set-Cookie`): a name-value pair without `=`, or with
    /// nothing before it, is a cookie with an empty name; one with neither name nor value
    /// is ignored. §5.8.3 step 4 sends a nameless cookie as its value alone. An attribute
    /// with an empty name (`; =x` after the pair) is ignored (§5.6 step 6.3 only knows
    /// attributes by name).
    #[test]
    fn a_nameless_cookie_is_kept_and_sent_as_its_value() {
        let get = |line: &str| {
            let mut resp = Headers::new();
            resp.append("set-cookie", line);
            let mut j = CookieJar::new();
            j.store(Agent::Chrome, A, "http", "127.0.0.1:9", &resp);
            j.cookie_header(Agent::Chrome, A, "http", "127.0.0.1:9")
        };
        assert_eq!(get("=x").as_deref(), Some("x"));
        assert_eq!(get("x; Path=/").as_deref(), Some("x"));
        assert_eq!(get(" = "), None);
        assert_eq!(get("; Path=/"), None);
        assert_eq!(get("a=1; =x").as_deref(), Some("a=1"));
        // A nameless cookie replaces the earlier nameless one (same name, domain).
        let mut j = CookieJar::new();
        j.preset("127.0.0.1:9", "=x");
        j.preset("127.0.0.1:9", "y");
        assert_eq!(
            j.cookie_header(Agent::Chrome, A, "http", "127.0.0.1:9")
                .as_deref(),
            Some("y")
        );
    }
}
