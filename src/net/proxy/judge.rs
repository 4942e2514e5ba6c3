//! The requesting browser's verdict on what the proxy served, computed with the pure
//! browser model ([`crate::browser`]), and the cache-induced check of PRODUCT.md: the
//! verdict on what was served vs. the verdict on what the upstream answers to this very
//! request.
//!
//! How it stays exact and cheap: a stored response served to a request with the same
//! `Origin` and credentials as the request that stored it is what the upstream answered
//! to that same request, so (for an upstream that answers the same request the same way)
//! the verdicts cannot differ and nothing is checked. Only when the stored response was
//! made for another `Origin` (or none, or other credentials) does the proxy need the
//! upstream's own answer: it asks the upstream once per (stored response, Origin,
//! credentials) in the background, off the response path, and remembers the verdict;
//! concurrent hits share one such request. Requests without `Origin` are never judged
//! (the browser checks nothing).

use crate::browser::{Agent, Browser, Credentials, Fetch, Mode, Reason, Verdict};
use crate::message::{Request, Response};
use crate::time::Timestamp;

/// What the request tells about the browser that sent it.
#[derive(Clone, Debug)]
pub struct Judged {
    /// The fetch as the browser model sees it.
    pub fetch: Fetch,
    /// A CORS-preflight request (`OPTIONS` with `Access-Control-Request-Method`): judged
    /// with the preflight rules, for the actual request it announces.
    pub preflight: bool,
}

/// The agent a request's `User-Agent` names: Firefox, Safari (WebKit without Chrome), or
/// Chrome by default.
pub fn agent_of(req: &Request) -> Agent {
    match req.headers.get("user-agent") {
        Some(ua) if ua.contains("Firefox/") => Agent::Firefox,
        Some(ua)
            if ua.contains("Safari/") && !ua.contains("Chrome/") && !ua.contains("Chromium/") =>
        {
            Agent::Safari
        }
        _ => Agent::Chrome,
    }
}

/// Who asks, as the judge sees it: the request's `Origin` and whether its credentials
/// are `include` (it carries `Cookie` or `Authorization`); `None` without `Origin`.
/// Cheap (no copy), so a request served the entry its own viewer stored is let through
/// before [`fetch_of`] builds anything.
pub fn viewer_of(req: &Request) -> Option<(&str, bool)> {
    let origin = req.headers.get("origin")?;
    let include = req.headers.contains("cookie") || req.headers.contains("authorization");
    Some((origin, include))
}

/// The fetch behind `req`, or `None` when it carries no `Origin` (nothing to judge).
/// Credentials are `include` when the request carries `Cookie` or `Authorization`.
pub fn fetch_of(req: &Request) -> Option<Judged> {
    let (origin, include) = viewer_of(req)?;
    let credentials = if include {
        Credentials::Include
    } else {
        Credentials::SameOrigin
    };
    let acrm = req.headers.get("access-control-request-method");
    let preflight = req.method == "OPTIONS" && acrm.is_some();
    let (method, headers) = match acrm {
        Some(m) if preflight => {
            // the actual request the preflight announces: its method, and the header
            // names listed in Access-Control-Request-Headers
            let mut h = crate::fields::Headers::new();
            for name in req.headers.list("access-control-request-headers") {
                h.append(name, "1");
            }
            (m.trim().to_string(), h)
        }
        _ => {
            let mut h = crate::fields::Headers::new();
            for (n, v) in req.headers.iter() {
                if !matches!(
                    n,
                    "origin" | "cookie" | "host" | "user-agent" | "authorization"
                ) {
                    h.append(n, v);
                }
            }
            if let Some(a) = req.headers.get("authorization") {
                h.append("authorization", a);
            }
            (req.method.clone(), h)
        }
    };
    Some(Judged {
        fetch: Fetch {
            agent: agent_of(req),
            origin: origin.to_string(),
            method,
            scheme: req.scheme.clone(),
            host: req.host.clone(),
            target: req.target.clone(),
            headers,
            mode: Mode::Cors,
            credentials,
            cookie: req.headers.get("cookie").map(str::to_string),
            private_network: req
                .headers
                .get("access-control-request-private-network")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
            redirect: crate::browser::RedirectMode::Follow,
            chain: crate::browser::Chain::default(),
        },
        preflight,
    })
}

/// The browser's verdict on `resp` for this fetch.
pub fn verdict(j: &Judged, resp: &Response, now: Timestamp) -> Verdict {
    let mut b = Browser::new(j.fetch.agent);
    if j.preflight {
        match b.on_preflight(now, &j.fetch, resp) {
            Ok(_) => Verdict::ok(),
            Err(v) => v,
        }
    } else {
        b.on_response(&j.fetch, resp)
    }
}

/// The part of a verdict that decides "differs".
pub fn outcome(v: &Verdict) -> (bool, Reason) {
    (v.allowed, v.reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Headers;

    fn req(method: &str, h: &[(&str, &str)]) -> Request {
        Request {
            method: method.into(),
            scheme: "http".into(),
            host: "api".into(),
            target: "/d".into(),
            headers: Headers::from_pairs(h.iter().copied()),
        }
    }

    fn resp(h: &[(&str, &str)]) -> Response {
        Response::new(200, Headers::from_pairs(h.iter().copied()))
    }

    #[test]
    fn no_origin_is_not_judged() {
        assert!(fetch_of(&req("GET", &[])).is_none());
    }

    #[test]
    fn another_origins_acao_is_a_mismatch() {
        let j = fetch_of(&req("GET", &[("origin", "https://app2")])).unwrap();
        let v = verdict(
            &j,
            &resp(&[("access-control-allow-origin", "https://app1")]),
            Timestamp(0),
        );
        assert_eq!(outcome(&v), (false, Reason::OriginMismatch));
        let v = verdict(
            &j,
            &resp(&[("access-control-allow-origin", "https://app2")]),
            Timestamp(0),
        );
        assert!(v.allowed);
    }

    #[test]
    fn cookies_mean_include_and_preflights_use_the_announced_request() {
        let j = fetch_of(&req("GET", &[("origin", "https://a"), ("cookie", "s=1")])).unwrap();
        assert_eq!(j.fetch.credentials, Credentials::Include);
        let v = verdict(
            &j,
            &resp(&[("access-control-allow-origin", "https://a")]),
            Timestamp(0),
        );
        assert_eq!(v.reason, Reason::CredentialsNotAllowed);
        let j = fetch_of(&req(
            "OPTIONS",
            &[
                ("origin", "https://a"),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "content-type"),
            ],
        ))
        .unwrap();
        assert!(j.preflight);
        let ok = resp(&[
            ("access-control-allow-origin", "https://a"),
            ("access-control-allow-methods", "GET, PUT"),
            ("access-control-allow-headers", "content-type"),
        ]);
        assert!(verdict(&j, &ok, Timestamp(0)).allowed);
        let no_put = resp(&[
            ("access-control-allow-origin", "https://a"),
            ("access-control-allow-methods", "GET"),
            ("access-control-allow-headers", "content-type"),
        ]);
        assert_eq!(
            verdict(&j, &no_put, Timestamp(0)).reason,
            Reason::MethodNotAllowed
        );
    }

    #[test]
    fn agents() {
        assert_eq!(
            agent_of(&req("GET", &[("user-agent", "Mozilla/5.0 Firefox/120.0")])),
            Agent::Firefox
        );
        assert_eq!(
            agent_of(&req(
                "GET",
                &[("user-agent", "Mozilla/5.0 Version/17 Safari/605.1.15")]
            )),
            Agent::Safari
        );
        assert_eq!(
            agent_of(&req(
                "GET",
                &[("user-agent", "Mozilla/5.0 Chrome/120 Safari/537.36")]
            )),
            Agent::Chrome
        );
        assert_eq!(agent_of(&req("GET", &[])), Agent::Chrome);
    }
}
