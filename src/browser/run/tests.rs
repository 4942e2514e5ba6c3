use super::*;
use crate::browser::Credentials;
use crate::fields::Headers;
use crate::time::SIM_EPOCH;

pub(crate) const PAGE: &str = "http://127.0.0.1:1000";
pub(crate) const API: &str = "127.0.0.1:9000";

/// A CORS GET-style fetch from `PAGE` to `API` (test fixture shared with
/// `mutation_tests::run`).
pub(crate) fn fetch(method: &str, target: &str) -> Fetch {
    Fetch {
        agent: Agent::Chrome,
        origin: PAGE.into(),
        method: method.into(),
        scheme: "http".into(),
        host: API.into(),
        target: target.into(),
        headers: Headers::new(),
        mode: Mode::Cors,
        credentials: Credentials::SameOrigin,
        cookie: None,
        private_network: false,
        redirect: RedirectMode::Follow,
        chain: super::super::Chain::default(),
    }
}

pub(crate) fn resp(status: u16, pairs: &[(&str, &str)]) -> Arc<Response> {
    Arc::new(Response::new(
        status,
        Headers::from_pairs(pairs.iter().copied()),
    ))
}

fn chrome() -> Instance {
    Instance::new(Browser::new(Agent::Chrome))
}

fn sent(n: &Next) -> &Send {
    match n {
        Next::Send(s) => s,
        Next::Done(d) => panic!("expected a request, got {d:?}"),
    }
}

/// Drives a run against a function answering each request.
pub(crate) fn drive(
    inst: &mut Instance,
    f: Fetch,
    tag: u64,
    mut answer: impl FnMut(&Request) -> Arc<Response>,
) -> (Done, Vec<Request>) {
    let (mut run, mut next) = Run::start(inst, SIM_EPOCH, f, tag);
    let mut seen = Vec::new();
    loop {
        match next {
            Next::Done(d) => return (d, seen),
            Next::Send(s) => {
                let r = answer(&s.request);
                seen.push((*s.request).clone());
                next = run.on_response(inst, SIM_EPOCH, &r);
            }
        }
    }
}

#[test]
fn default_headers_on_the_wire() {
    let mut inst = chrome();
    let (_, next) = Run::start(&mut inst, SIM_EPOCH, fetch("GET", "/x"), 0);
    let h = &sent(&next).request.headers;
    assert_eq!(h.get("accept-encoding"), Some("gzip, deflate, br, zstd"));
    assert_eq!(h.get("accept"), Some("*/*"));
    assert_eq!(h.get("sec-fetch-mode"), Some("cors"));
    assert_eq!(h.get("sec-fetch-site"), Some("same-site"));
    assert_eq!(h.get("origin"), Some(PAGE));
    let mut curl = Instance::new(Browser::new(Agent::None));
    let mut f = fetch("GET", "/x");
    f.agent = Agent::None;
    let (_, next) = Run::start(&mut curl, SIM_EPOCH, f, 0);
    let h = &sent(&next).request.headers;
    assert_eq!(h.get("accept-encoding"), None);
    assert!(h.get("user-agent").is_some_and(|u| u.starts_with("curl/")));
    assert_eq!(h.get("origin"), None);
}

#[test]
fn no_cors_put_is_a_type_error_and_sends_nothing() {
    let mut inst = chrome();
    let mut f = fetch("PUT", "/x");
    f.mode = Mode::NoCors;
    let (d, seen) = drive(&mut inst, f, 0, |_| resp(200, &[]));
    assert!(seen.is_empty());
    assert_eq!(d.verdict.reason, super::super::Reason::NoCorsMethod);
    assert_eq!(
        d.verdict.console,
        "TypeError: Failed to execute 'fetch' on 'Window': 'PUT' is unsupported in no-cors mode."
    );
}

#[test]
fn browser_cache_no_cors_first_then_cors_is_blocked_from_cache() {
    let mut inst = chrome();
    let mut img = fetch("GET", "/logo");
    img.mode = Mode::NoCors;
    let (d, seen) = drive(&mut inst, img, 0, |_| {
        resp(200, &[("cache-control", "max-age=300")])
    });
    assert!(d.verdict.allowed && seen.len() == 1);
    // same site, other origin: same partition
    let mut f = fetch("GET", "/logo");
    f.origin = "http://127.0.0.1:3000".into();
    let (d, seen) = drive(&mut inst, f, 1, |_| panic!("must come from the cache"));
    assert!(seen.is_empty());
    assert!(!d.verdict.allowed);
    assert_eq!(d.browser_cache, Some(0));
    assert_eq!(d.verdict.reason, super::super::Reason::MissingAllowOrigin);
    // another site: another partition, goes to the network
    let mut g = fetch("GET", "/logo");
    g.origin = "http://localhost:2000".into();
    let (_, seen) = drive(&mut inst, g, 2, |_| {
        resp(200, &[("cache-control", "max-age=300")])
    });
    assert_eq!(seen.len(), 1);
}

/// Cases x32, x33, x37: an answer that fails the CORS check is not kept (nor the entry
/// it replaced); a redirect that fails it is.
#[test]
fn a_blocked_answer_is_not_kept_but_a_blocked_redirect_is() {
    let mut inst = chrome();
    let ok = || {
        resp(
            200,
            &[
                ("cache-control", "max-age=300"),
                ("vary", "origin"),
                ("access-control-allow-origin", PAGE),
            ],
        )
    };
    let refused = || resp(200, &[("cache-control", "max-age=300"), ("vary", "origin")]);
    let (d, _) = drive(&mut inst, fetch("GET", "/x"), 0, |_| ok());
    assert!(d.verdict.allowed);
    // same partition, Vary does not match: goes out, is refused, and is not kept
    let mut other = fetch("GET", "/x");
    other.origin = "http://127.0.0.1:3000".into();
    for tag in [1, 2] {
        let (d, seen) = drive(&mut inst, other.clone(), tag, |_| refused());
        assert!(!d.verdict.allowed && seen.len() == 1, "{tag}");
    }
    // nor is the entry it replaced: the first page's fetch goes out again
    let (d, seen) = drive(&mut inst, fetch("GET", "/x"), 2, |_| ok());
    assert!(d.verdict.allowed && seen.len() == 1);
    // a redirect without ACAO: blocked, and stored
    let redirect = || resp(302, &[("cache-control", "max-age=300"), ("location", "/y")]);
    let (d, seen) = drive(&mut inst, fetch("GET", "/r"), 3, |_| redirect());
    assert!(!d.verdict.allowed && seen.len() == 1);
    let (d, seen) = drive(&mut inst, fetch("GET", "/r"), 4, |_| {
        panic!("from the cache")
    });
    assert!(!d.verdict.allowed && seen.is_empty());
    assert_eq!(d.browser_cache, Some(3));
}

#[test]
fn redirect_taints_origin_and_checks_every_hop() {
    let mut inst = chrome();
    let f = fetch("GET", "/a");
    let (d, seen) = drive(&mut inst, f, 0, |r| {
        if r.target == "/a" {
            resp(
                302,
                &[
                    ("location", "http://localhost:9000/b"),
                    ("access-control-allow-origin", PAGE),
                ],
            )
        } else {
            assert_eq!(r.headers.get("origin"), Some("null"));
            resp(200, &[("access-control-allow-origin", "null")])
        }
    });
    assert!(d.verdict.allowed, "{d:?}");
    assert_eq!(seen.len(), 2);
    assert_eq!(d.redirects, 1);
    // the first hop without ACAO fails there
    let mut inst = chrome();
    let (d, seen) = drive(&mut inst, fetch("GET", "/a"), 0, |_| {
        resp(301, &[("location", "/b")])
    });
    assert_eq!(seen.len(), 1);
    assert_eq!(d.verdict.reason, super::super::Reason::MissingAllowOrigin);
    // a failure on the second hop names both URLs (a fresh browser: the 301 above,
    // without Cache-Control, is fresh forever in the HTTP cache)
    let mut inst = chrome();
    let (d, _) = drive(&mut inst, fetch("GET", "/a"), 0, |r| {
        if r.target == "/a" {
            resp(
                302,
                &[("location", "/b"), ("access-control-allow-origin", PAGE)],
            )
        } else {
            resp(200, &[])
        }
    });
    assert!(d.verdict.console.starts_with(
        "Access to fetch at 'http://127.0.0.1:9000/b' (redirected from 'http://127.0.0.1:9000/a') from origin 'http://127.0.0.1:1000'"
    ), "{}", d.verdict.console);
}

#[test]
fn redirect_modes() {
    let redirect = |_: &Request| {
        resp(
            302,
            &[("location", "/b"), ("access-control-allow-origin", PAGE)],
        )
    };
    let mut f = fetch("GET", "/a");
    f.redirect = RedirectMode::Error;
    let (d, seen) = drive(&mut chrome(), f, 0, redirect);
    assert_eq!(
        (seen.len(), d.verdict.reason),
        (1, super::super::Reason::RedirectModeError)
    );
    let mut f = fetch("GET", "/a");
    f.redirect = RedirectMode::Manual;
    let (d, seen) = drive(&mut chrome(), f, 0, redirect);
    assert!(d.verdict.allowed && seen.len() == 1 && d.status == 0);
}

#[test]
fn redirected_preflight_fails_and_post_303_becomes_get() {
    let (d, seen) = drive(&mut chrome(), fetch("PUT", "/a"), 0, |_| {
        resp(307, &[("location", "/b")])
    });
    assert_eq!(seen.len(), 1);
    assert_eq!(d.verdict.reason, super::super::Reason::PreflightRedirect);
    assert!(d.verdict.in_preflight);
    assert!(d.verdict.console.ends_with("Response to preflight request doesn't pass access control check: Redirect is not allowed for a preflight request."));
    let (d, seen) = drive(&mut chrome(), fetch("POST", "/a"), 0, |r| {
        if r.target == "/a" {
            resp(
                303,
                &[("location", "/b"), ("access-control-allow-origin", PAGE)],
            )
        } else {
            resp(200, &[("access-control-allow-origin", PAGE)])
        }
    });
    assert!(d.verdict.allowed);
    assert_eq!(seen[1].method, "GET");
}

#[test]
fn preflighted_redirect_preflights_again_for_the_new_url() {
    let ok = |r: &Request| {
        if r.method == "OPTIONS" {
            resp(
                204,
                &[
                    ("access-control-allow-origin", PAGE),
                    ("access-control-allow-methods", "PUT"),
                ],
            )
        } else if r.target == "/a" {
            resp(
                307,
                &[("location", "/b"), ("access-control-allow-origin", PAGE)],
            )
        } else {
            resp(200, &[("access-control-allow-origin", PAGE)])
        }
    };
    let (d, seen) = drive(&mut chrome(), fetch("PUT", "/a"), 0, ok);
    assert!(d.verdict.allowed);
    let kinds: Vec<String> = seen
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(kinds, ["OPTIONS /a", "PUT /a", "OPTIONS /b", "PUT /b"]);
}

#[test]
fn cookies_follow_credentials_and_site() {
    let mut inst = chrome();
    inst.jar.preset(API, "session=1");
    let mut f = fetch("GET", "/x");
    f.credentials = Credentials::Include;
    let (_, seen) = drive(&mut inst, f.clone(), 0, |_| {
        resp(200, &[("set-cookie", "n=2")])
    });
    assert_eq!(seen[0].headers.get("cookie"), Some("session=1"));
    let (_, seen) = drive(&mut inst, f.clone(), 1, |_| resp(200, &[]));
    assert_eq!(seen[0].headers.get("cookie"), Some("session=1; n=2"));
    f.origin = "http://localhost:2000".into();
    let (_, seen) = drive(&mut inst, f, 2, |_| resp(200, &[]));
    assert_eq!(seen[0].headers.get("cookie"), None, "cross-site: withheld");
    let (_, seen) = drive(&mut inst, fetch("GET", "/x"), 3, |_| resp(200, &[]));
    assert_eq!(
        seen[0].headers.get("cookie"),
        None,
        "same-origin credentials, cross-origin URL"
    );
}

#[test]
fn chrome_preflight_cache_keeps_one_entry_per_url() {
    let mut inst = chrome();
    let reflect = |r: &Request| {
        let acrh = r
            .headers
            .get("access-control-request-headers")
            .unwrap_or("")
            .to_string();
        Arc::new(Response::new(
            if r.method == "OPTIONS" { 204 } else { 200 },
            Headers::from_pairs([
                ("access-control-allow-origin", PAGE),
                ("access-control-allow-methods", "PUT"),
                ("access-control-allow-headers", acrh.as_str()),
                ("access-control-max-age", "600"),
            ]),
        ))
    };
    let with = |h: &str| {
        let mut f = fetch("PUT", "/x");
        f.headers = Headers::from_pairs([(h, "1")]);
        f
    };
    let (d, _) = drive(&mut inst, with("x-a"), 0, reflect);
    assert!(d.preflight_sent);
    let (d, _) = drive(&mut inst, with("x-b"), 1, reflect);
    assert!(d.preflight_sent);
    let (d, _) = drive(&mut inst, with("x-a"), 2, reflect);
    assert!(d.preflight_sent, "x-b's preflight replaced x-a's entry");
    let mut ff = Instance::new(Browser::new(Agent::Firefox));
    let mut f = with("x-a");
    f.agent = Agent::Firefox;
    drive(&mut ff, f.clone(), 0, reflect);
    let mut g = with("x-b");
    g.agent = Agent::Firefox;
    drive(&mut ff, g, 1, reflect);
    let (d, _) = drive(&mut ff, f, 2, reflect);
    assert!(
        d.preflight_cached && !d.preflight_sent,
        "the standard's cache keeps both"
    );
}

#[test]
fn resolve_locations() {
    assert_eq!(resolve("http://h:1/a/b?q", "/c"), "http://h:1/c");
    assert_eq!(resolve("http://h:1/a/b?q", "c"), "http://h:1/a/c");
    assert_eq!(resolve("http://h:1/a", "//o:2/x"), "http://o:2/x");
    assert_eq!(resolve("http://h:1/a", "https://o/x"), "https://o/x");
    // a scheme makes it absolute, whatever follows; without one, `://` later on is
    // part of a relative reference
    assert_eq!(resolve("http://h:1/a", "data:,hi"), "data:,hi");
    assert_eq!(resolve("http://h:1/a", "DaTa:,hi"), "data:,hi");
    assert_eq!(resolve("http://h:1/a", "ftp://o/x"), "ftp://o/x");
    assert_eq!(resolve("http://h:1/a", "x-y.z+1:q"), "x-y.z+1:q");
    assert_eq!(
        resolve("http://h:1/a", "/go?to=http://o/x"),
        "http://h:1/go?to=http://o/x"
    );
    assert_eq!(resolve("http://h:1/d/a", "b/c:d"), "http://h:1/d/b/c:d");
    assert_eq!(resolve("http://h:1/d/a", "1x:y"), "http://h:1/d/1x:y");
    assert_eq!(resolve("http://h:1/d/a", ":x"), "http://h:1/d/:x");
    // an HTTP(S) scheme: the base's own is relative without `//`, another one skips
    // the slashes to the authority
    assert_eq!(resolve("http://h:1/d/a", "HTTP://o/x"), "http://o/x");
    assert_eq!(resolve("http://h:1/d/a", "http:/x"), "http://h:1/x");
    assert_eq!(resolve("http://h:1/d/a", "http:x"), "http://h:1/d/x");
    assert_eq!(resolve("http://h:1/d/a", "https:o/x"), "https://o/x");
    assert_eq!(resolve("http://h:1/d/a", "https:///o/x"), "https://o/x");
}

#[test]
fn location_targets() {
    let t = Target::of("http://h:1/a", "http://u:p@o:2/x@y");
    assert_eq!(
        (t.url.as_str(), t.credentials, t.http),
        ("http://o:2/x@y", true, true)
    );
    for (loc, creds) in [
        ("http://u@o/x", true),
        ("http://:p@o/x", true),
        ("http://:@o/x", false),
        ("http://@o/x", false),
        ("http://o/x?u:p@q", false),
        ("http://a@b@o/x", true),
    ] {
        let t = Target::of("http://h/", loc);
        assert_eq!(t.credentials, creds, "{loc}");
        assert!(t.url.starts_with("http://o/x"), "{loc}: {}", t.url);
    }
    let t = Target::of("http://h:1/a", "data:,hi");
    assert!(!t.http && !t.credentials);
    assert!(!Target::of("http://h:1/a", "ftp://u:p@o/x").http);
}

/// Fetch §4.4: a location URL that is not HTTP(S) is a network error, whatever the
/// mode (case w10, measured on Chromium 156: `Location: data:,hi` failed the fetch
/// with "Failed to fetch"); nothing after the redirect is fetched.
#[test]
fn a_redirect_to_a_non_http_url_is_a_network_error() {
    for location in ["data:,hi", "ftp://127.0.0.1:9000/b", "javascript:x"] {
        for mode in [Mode::Cors, Mode::NoCors] {
            let mut f = fetch("GET", "/a");
            f.mode = mode;
            let (d, seen) = drive(&mut chrome(), f, 0, |_| {
                resp(
                    302,
                    &[("location", location), ("access-control-allow-origin", "*")],
                )
            });
            assert_eq!(seen.len(), 1, "{location}");
            assert_eq!(
                d.verdict.reason,
                super::super::Reason::RedirectNotHttp,
                "{location}"
            );
            assert!(!d.verdict.allowed && d.redirects == 0);
            assert_eq!(d.verdict.console, "TypeError: Failed to fetch");
        }
    }
    // not under `redirect: manual`: nothing is followed
    let mut f = fetch("GET", "/a");
    f.redirect = RedirectMode::Manual;
    let (d, _) = drive(&mut chrome(), f, 0, |_| {
        resp(
            302,
            &[
                ("location", "data:,hi"),
                ("access-control-allow-origin", "*"),
            ],
        )
    });
    assert!(d.verdict.allowed && d.status == 0);
}

/// Fetch §4.4: in `cors` mode, a location URL with a username or password is a network
/// error unless it is same origin with the request's origin and the chain never left
/// it (case w09, measured on Chromium 156: `RedirectContainsCredentials`, to another
/// origin and back to the API's own). A same-origin one, or a `no-cors` one, is
/// followed, without the userinfo in the host.
#[test]
fn a_cors_redirect_to_a_url_with_credentials_fails() {
    for location in [
        "http://u:p@localhost:9000/b",
        "http://u:p@127.0.0.1:9000/b",
        "http://u@127.0.0.1:1000/b",
    ] {
        let (d, seen) = drive(&mut chrome(), fetch("GET", "/a"), 0, |_| {
            resp(
                302,
                &[("location", location), ("access-control-allow-origin", "*")],
            )
        });
        assert_eq!(seen.len(), 1, "{location}");
        assert_eq!(
            d.verdict.reason,
            super::super::Reason::RedirectContainsCredentials,
            "{location}"
        );
        assert_eq!(d.verdict.console, "Access to fetch at 'http://127.0.0.1:9000/a' from origin 'http://127.0.0.1:1000' has been blocked by CORS policy: Redirect location '' contains a username and password, which is disallowed for cross-origin requests.");
    }
    // a same-origin fetch redirected within its origin keeps going, and stays a
    // same-origin fetch (response tainting "basic"): its target needs no CORS fields
    let mut f = fetch("GET", "/a");
    f.host = "127.0.0.1:1000".into();
    let (d, seen) = drive(&mut chrome(), f, 0, |r| {
        if r.target == "/a" {
            resp(302, &[("location", "http://u:p@127.0.0.1:1000/b")])
        } else {
            resp(200, &[])
        }
    });
    assert!(d.verdict.allowed, "{d:?}");
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[1].host.as_str(), seen[1].target.as_str()),
        ("127.0.0.1:1000", "/b")
    );
    // …but not once it has been cross-origin (the response tainting is "cors")
    let mut f = fetch("GET", "/a");
    f.host = "127.0.0.1:1000".into();
    let (d, seen) = drive(&mut chrome(), f, 0, |r| match r.target.as_str() {
        "/a" => resp(302, &[("location", "http://127.0.0.1:9000/b")]),
        _ => resp(
            302,
            &[
                ("location", "http://u:p@127.0.0.1:1000/c"),
                ("access-control-allow-origin", "*"),
            ],
        ),
    });
    assert_eq!(seen.len(), 2);
    assert_eq!(
        d.verdict.reason,
        super::super::Reason::RedirectContainsCredentials
    );
    // no-cors: the standard's check is for `cors` mode only
    let mut f = fetch("GET", "/a");
    f.mode = Mode::NoCors;
    let (d, seen) = drive(&mut chrome(), f, 0, |r| {
        if r.target == "/a" {
            resp(302, &[("location", "http://u:p@localhost:9000/b")])
        } else {
            resp(200, &[])
        }
    });
    assert_eq!(seen.len(), 2, "{d:?}");
    assert_eq!(seen[1].host, "localhost:9000");
}

/// Cases y40 and y51 (measured on Chromium 156): a stale entry within its
/// `stale-while-revalidate` window answers the page; a page that can read it sends the
/// same fetch again in the background (its preflight included) and the run ends with
/// the page's verdict on the stale answer; a page the stored ACAO refuses sends nothing.
#[test]
fn stale_while_revalidate_answers_then_revalidates_in_the_background() {
    const OTHER: &str = "http://127.0.0.1:3000";
    let mut inst = chrome();
    let at = |secs| SIM_EPOCH.plus_secs(secs);
    let answer = |req: &Request| {
        let origin = req.headers.get("origin").unwrap_or_default().to_string();
        if req.method == "OPTIONS" {
            return resp(
                204,
                &[
                    ("access-control-allow-origin", &origin),
                    ("access-control-allow-headers", "x-token"),
                    ("access-control-max-age", "0"),
                ],
            );
        }
        resp(
            200,
            &[
                ("cache-control", "max-age=2, stale-while-revalidate=60"),
                ("access-control-allow-origin", &origin),
            ],
        )
    };
    let run_at = |inst: &mut Instance, secs: u64, f: Fetch, tag: u64| {
        let (mut run, mut next) = Run::start(inst, at(secs), f, tag);
        let mut seen = Vec::new();
        loop {
            match next {
                Next::Done(d) => return (d, seen),
                Next::Send(s) => {
                    seen.push(s.request.method.clone());
                    next = run.on_response(inst, at(secs), &answer(&s.request));
                }
            }
        }
    };
    let (d, seen) = run_at(&mut inst, 0, fetch("GET", "/y40"), 0);
    assert!(d.verdict.allowed && d.browser_cache.is_none());
    assert_eq!(seen, ["GET"]);
    // another origin of the site, 3 s later: the stale answer names PAGE; nothing sent
    let mut other = fetch("GET", "/y40");
    other.origin = OTHER.into();
    let (d, seen) = run_at(&mut inst, 3, other.clone(), 1);
    assert!(!d.verdict.allowed);
    assert_eq!((d.browser_cache, seen.len()), (Some(0), 0));
    // PAGE reads the stale answer, and one GET revalidates it in the background
    let (d, seen) = run_at(&mut inst, 3, fetch("GET", "/y40"), 2);
    assert!(d.verdict.allowed);
    assert_eq!((d.browser_cache, d.status), (Some(0), 200));
    assert_eq!(seen, ["GET"]);
    // the refreshed entry (stored by fetch 2) is fresh: no request
    let (d, seen) = run_at(&mut inst, 4, fetch("GET", "/y40"), 3);
    assert_eq!((d.browser_cache, seen.len()), (Some(2), 0));
    // past the window the fetch waits for the network
    let (d, seen) = run_at(&mut inst, 70, fetch("GET", "/y40"), 4);
    assert_eq!((d.browser_cache, seen.len()), (None, 1));
    // a preflighted GET: the page's preflight, then the background's preflight and GET
    let mut pf = fetch("GET", "/y51");
    pf.headers.append("x-token", "1");
    run_at(&mut inst, 100, pf.clone(), 5);
    let (d, seen) = run_at(&mut inst, 103, pf, 6);
    assert!(d.verdict.allowed && d.preflight_sent);
    assert_eq!(d.browser_cache, Some(5));
    assert_eq!(seen, ["OPTIONS", "OPTIONS", "GET"]);
}
