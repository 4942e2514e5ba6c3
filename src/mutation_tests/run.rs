//! `crate::browser::run`: one `fetch()` as a state machine — what is sent, what the
//! browser keeps (HTTP cache, cookie jar), and when a redirect is followed.

use crate::browser::run::tests::{drive, fetch, resp, API, PAGE};
use crate::browser::run::{Instance, Next, Run};
use crate::browser::{Agent, Browser, Credentials, Fetch, Mode};
use crate::fields::Headers;
use crate::message::Request;
use crate::time::SIM_EPOCH;

/// Fetch §4.4 "HTTP-redirect fetch" runs for a redirect status (301, 302, 303, 307, 308)
/// only, and step 3–4 return the response as it is when it has no `Location`: a 302
/// without `Location`, or a 200 with one, is the final response, and nothing more is sent.
#[test]
fn only_a_redirect_status_with_a_location_is_followed() {
    let acao = ("access-control-allow-origin", PAGE);
    for (status, pairs) in [(302, vec![acao]), (200, vec![acao, ("location", "/b")])] {
        let mut inst = Instance::new(Browser::new(Agent::Chrome));
        let (d, seen) = drive(&mut inst, fetch("GET", "/a"), 0, |_| resp(status, &pairs));
        assert_eq!(seen.len(), 1, "{status}: nothing followed");
        assert_eq!((d.status, d.redirects), (status, 0));
        assert!(d.verdict.allowed);
    }
    // the same with a Location on a 302 is followed
    let mut inst = Instance::new(Browser::new(Agent::Chrome));
    let (d, seen) = drive(&mut inst, fetch("GET", "/a"), 0, |r| {
        if r.target == "/a" {
            resp(302, &[acao, ("location", "/b")])
        } else {
            resp(200, &[acao])
        }
    });
    assert_eq!((seen.len(), d.redirects, d.status), (2, 1, 200));
}

/// Fetch, `new Request()` step 30.1 throws the no-cors TypeError: it is the page's
/// JavaScript API. A non-browser client (`agent: None`, e.g. curl) sending the same
/// request through the same instance sends it.
#[test]
fn the_no_cors_method_type_error_is_a_browser_rule() {
    let mut inst = Instance::new(Browser::new(Agent::Chrome));
    let mut f = fetch("PUT", "/x");
    f.mode = Mode::NoCors;
    f.agent = Agent::None;
    let (d, seen) = drive(&mut inst, f, 0, |_| resp(200, &[]));
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "PUT");
    assert_eq!(d.status, 200);
}

/// `first_actual` is the request the browser sends first for the URL, as it started:
/// there is one for a plain GET (the very request sent), none once a CORS-preflight
/// went out (Fetch §4.8) — then the actual request depends on the preflight's answer.
#[test]
fn first_actual_is_the_first_request_unless_a_preflight_went_out() {
    let mut inst = Instance::new(Browser::new(Agent::Chrome));
    let (mut run, next) = Run::start(&mut inst, SIM_EPOCH, fetch("GET", "/x"), 0);
    let Next::Send(s) = next else {
        panic!("a GET is sent")
    };
    assert_eq!(run.first_actual(), Some(&s.request));
    let Next::Done(d) = run.on_response(&mut inst, SIM_EPOCH, &resp(200, &[ok_acao()])) else {
        panic!("done")
    };
    // No preflight needed: none sent, none "answered from the preflight cache".
    assert!(!d.preflight_sent && !d.preflight_cached);

    let mut inst = Instance::new(Browser::new(Agent::Chrome));
    let (mut run, next) = Run::start(&mut inst, SIM_EPOCH, fetch("PUT", "/x"), 0);
    let Next::Send(s) = next else {
        panic!("a PUT is preflighted")
    };
    assert_eq!(s.request.method, "OPTIONS");
    let ok = resp(
        204,
        &[
            ("access-control-allow-origin", PAGE),
            ("access-control-allow-methods", "PUT"),
        ],
    );
    let Next::Send(s) = run.on_response(&mut inst, SIM_EPOCH, &ok) else {
        panic!("the preflight passes")
    };
    assert_eq!(s.request.method, "PUT");
    assert_eq!(run.first_actual(), None);
    let Next::Done(d) = run.on_response(&mut inst, SIM_EPOCH, &resp(200, &[ok_acao()])) else {
        panic!("done")
    };
    // A preflight that was sent is not also "answered from the preflight cache".
    assert!(d.preflight_sent && !d.preflight_cached);
}

fn ok_acao() -> (&'static str, &'static str) {
    ("access-control-allow-origin", PAGE)
}

/// Fetch §4.5 step 12: includeCredentials is true for `include`, or for `same-origin`
/// when the request is same-origin (and not tainted); step 17 then stores the
/// response's cookies only when it is true. So `omit`, and `same-origin` across
/// origins, leave the jar empty; `same-origin` on a same-origin URL fills it.
#[test]
fn cookies_are_stored_only_with_the_credentials_flag() {
    let set = |f: Fetch| {
        let mut inst = Instance::new(Browser::new(Agent::Chrome));
        drive(&mut inst, f, 0, |_| {
            resp(200, &[ok_acao(), ("set-cookie", "n=2; Path=/")])
        });
        inst.jar.is_empty()
    };
    let mut omit = fetch("GET", "/x");
    omit.credentials = Credentials::Omit;
    assert!(set(omit), "omit stores nothing");
    assert!(
        set(fetch("GET", "/x")),
        "same-origin credentials, other origin"
    );
    let mut same = fetch("GET", "/x");
    same.origin = format!("http://{API}");
    assert!(!set(same), "same-origin credentials, same origin: stored");
    let mut include = fetch("GET", "/x");
    include.credentials = Credentials::Include;
    assert!(!set(include), "include: stored");
}

/// Fetch §4.5 step 12 decides sending too: with includeCredentials the request carries
/// the jar's `Cookie` (step 13), so a `same-origin` fetch (fetch()'s default) to its own
/// origin sends it, and the same fetch to another origin does not.
#[test]
fn cookies_are_sent_with_the_credentials_flag() {
    let cookie_sent = |origin: &str, credentials: Credentials| {
        let mut inst = Instance::new(Browser::new(Agent::Chrome));
        let mut first = fetch("GET", "/x");
        first.credentials = Credentials::Include;
        drive(&mut inst, first, 0, |_| {
            resp(200, &[ok_acao(), ("set-cookie", "n=2; Path=/")])
        });
        let mut f = fetch("GET", "/y");
        f.origin = origin.to_string();
        f.credentials = credentials;
        let (_, seen) = drive(&mut inst, f, 0, |_| resp(200, &[ok_acao()]));
        seen[0].headers.get("cookie").map(str::to_string)
    };
    let own = format!("http://{API}");
    assert_eq!(
        cookie_sent(&own, Credentials::SameOrigin).as_deref(),
        Some("n=2")
    );
    assert_eq!(cookie_sent(PAGE, Credentials::SameOrigin), None);
    assert_eq!(
        cookie_sent(PAGE, Credentials::Include).as_deref(),
        Some("n=2")
    );
    assert_eq!(cookie_sent(&own, Credentials::Omit), None);
}

/// A non-browser client (`agent: None`) sharing an instance neither reads nor fills the
/// browser's HTTP cache (RFC 9111 is the browser's cache here; curl has none) nor its
/// cookie jar, and it does not follow redirects.
#[test]
fn a_non_browser_client_uses_neither_the_http_cache_nor_the_jar() {
    let mut inst = Instance::new(Browser::new(Agent::Chrome));
    let mut curl = fetch("GET", "/x");
    curl.agent = Agent::None;
    curl.credentials = Credentials::Include;
    for _ in 0..2 {
        let (_, seen) = drive(&mut inst, curl.clone(), 0, |_| {
            resp(
                200,
                &[("cache-control", "max-age=300"), ("set-cookie", "n=2")],
            )
        });
        assert_eq!(seen.len(), 1, "every time to the network");
    }
    assert!(inst.http.is_empty());
    assert!(inst.jar.is_empty());
    // what the browser stored is not read for it either
    let answer = |_: &Request| resp(200, &[ok_acao(), ("cache-control", "max-age=300")]);
    drive(&mut inst, fetch("GET", "/x"), 0, answer);
    assert!(!inst.http.is_empty());
    let (d, seen) = drive(&mut inst, curl.clone(), 0, answer);
    assert_eq!((seen.len(), d.browser_cache), (1, None));
    // nor does it follow redirects (curl without -L)
    let (d, seen) = drive(&mut inst, curl, 0, |_| resp(302, &[("location", "/y")]));
    assert_eq!((seen.len(), d.status, d.redirects), (1, 302, 0));
}

/// A scenario's `http_cache: off` is DevTools' "Disable cache": a response that would be
/// fresh for 300 s is fetched again every time.
#[test]
fn a_disabled_http_cache_is_neither_read_nor_filled() {
    let mut inst = Instance::new(Browser::new(Agent::Chrome));
    inst.http_cache_enabled = false;
    for _ in 0..2 {
        let (d, seen) = drive(&mut inst, fetch("GET", "/x"), 0, |_| {
            resp(200, &[ok_acao(), ("cache-control", "max-age=300")])
        });
        assert_eq!((seen.len(), d.browser_cache), (1, None));
    }
    assert!(inst.http.is_empty());
    // the same fetch with the cache on is answered from it the second time
    let mut inst = Instance::new(Browser::new(Agent::Chrome));
    let answer = |_: &Request| resp(200, &[ok_acao(), ("cache-control", "max-age=300")]);
    drive(&mut inst, fetch("GET", "/x"), 0, answer);
    let (d, seen) = drive(&mut inst, fetch("GET", "/x"), 0, answer);
    assert_eq!((seen.len(), d.browser_cache), (0, Some(0)));
    // turned off afterwards, what it stored is not read
    inst.http_cache_enabled = false;
    let (d, seen) = drive(&mut inst, fetch("GET", "/x"), 0, answer);
    assert_eq!((seen.len(), d.browser_cache), (1, None));
}

/// Fetch §4.4 "HTTP-redirect fetch" step 14: when the redirect changes origin, the CORS
/// non-wildcard request-header name `Authorization` is removed; a same-origin redirect
/// keeps it.
#[test]
fn a_cross_origin_redirect_drops_authorization_a_same_origin_one_keeps_it() {
    let auth_on_b = |location: &str| {
        let mut inst = Instance::new(Browser::new(Agent::Chrome));
        let mut f = fetch("GET", "/a");
        f.headers = Headers::from_pairs([("authorization", "Bearer t")]);
        let (d, seen) = drive(&mut inst, f, 0, |r| {
            let h = [
                ok_acao(),
                ("access-control-allow-headers", "authorization"),
                ("location", location),
            ];
            if r.method == "OPTIONS" {
                resp(204, &h[..2])
            } else if r.target == "/a" {
                resp(302, &h)
            } else {
                resp(200, &h[..1])
            }
        });
        assert_eq!(d.redirects, 1);
        let last = seen.last().expect("sent");
        assert_eq!(last.target, "/b");
        last.headers.get("authorization").map(str::to_string)
    };
    assert_eq!(auth_on_b("/b").as_deref(), Some("Bearer t"));
    assert_eq!(auth_on_b("http://127.0.0.1:9001/b"), None);
}

/// Fetch §4.4 "HTTP-redirect fetch" step 5: "If request's redirect count is 20, then
/// return a network error" — the first request and 20 redirects are sent, never a 22nd.
/// (The answer here stops redirecting after 30 requests so that a run without the limit
/// ends too, and fails.)
#[test]
fn at_most_twenty_redirects_are_followed() {
    let mut inst = Instance::new(Browser::new(Agent::Chrome));
    let mut n = 0;
    let (d, seen) = drive(&mut inst, fetch("GET", "/a"), 0, |_| {
        n += 1;
        if n < 30 {
            resp(302, &[ok_acao(), ("location", "/a")])
        } else {
            resp(200, &[ok_acao()])
        }
    });
    assert_eq!(seen.len(), 21);
    assert_eq!(d.redirects, 20);
    // the 21st redirect is not followed and the page gets a network error, not the 302
    assert!(!d.verdict.allowed);
    assert_eq!(d.verdict.reason, crate::browser::Reason::TooManyRedirects);
    assert_eq!(d.status, 302);
    // not a CORS error: the page's TypeError, in each engine's words
    assert_eq!(d.verdict.console, "TypeError: Failed to fetch");
    let mut inst = Instance::new(Browser::new(Agent::Firefox));
    let mut f = fetch("GET", "/a");
    f.agent = Agent::Firefox;
    let (d, _) = drive(&mut inst, f, 0, |_| {
        resp(302, &[ok_acao(), ("location", "/a")])
    });
    assert_eq!(
        (d.verdict.reason, d.verdict.console.as_str()),
        (
            crate::browser::Reason::TooManyRedirects,
            "TypeError: NetworkError when attempting to fetch resource."
        )
    );
    // with 20 redirects the chain ends normally: allowed
    let mut inst = Instance::new(Browser::new(Agent::Chrome));
    let mut n = 0;
    let (d, _) = drive(&mut inst, fetch("GET", "/a"), 0, |_| {
        n += 1;
        if n <= 20 {
            resp(302, &[ok_acao(), ("location", "/a")])
        } else {
            resp(200, &[ok_acao()])
        }
    });
    assert_eq!((d.redirects, d.status, d.verdict.allowed), (20, 200, true));
}

/// Fetch §4.4 "HTTP-redirect fetch" step 12: the method becomes GET (and the body is
/// dropped) when the status is 301 or 302 and the method is POST, or when the status is
/// 303 and the method is neither GET nor HEAD. A POST redirected by 307 stays a POST, and
/// a PUT redirected by 302 stays a PUT.
#[test]
fn which_redirects_turn_the_method_into_get() {
    let methods = |method: &str, status: u16| {
        let mut inst = Instance::new(Browser::new(Agent::Chrome));
        let (d, seen) = drive(&mut inst, fetch(method, "/a"), 0, |r| {
            let allow = [
                ok_acao(),
                ("access-control-allow-methods", "PUT, POST"),
                ("location", "/b"),
            ];
            if r.method == "OPTIONS" {
                resp(204, &allow[..2])
            } else if r.target == "/a" {
                resp(status, &allow)
            } else {
                resp(200, &allow[..1])
            }
        });
        assert_eq!((d.redirects, d.status), (1, 200), "{method} {status}");
        seen.iter()
            .filter(|r| r.method != "OPTIONS")
            .map(|r| format!("{} {}", r.method, r.target))
            .collect::<Vec<_>>()
    };
    assert_eq!(methods("POST", 302), ["POST /a", "GET /b"]);
    assert_eq!(methods("POST", 301), ["POST /a", "GET /b"]);
    assert_eq!(methods("POST", 307), ["POST /a", "POST /b"]);
    assert_eq!(methods("PUT", 302), ["PUT /a", "PUT /b"]);
    assert_eq!(methods("PUT", 303), ["PUT /a", "GET /b"]);
    assert_eq!(methods("HEAD", 303), ["HEAD /a", "HEAD /b"]);
}
