//! `crate::browser::cache` (the CORS-preflight cache, Fetch §4.9) as Chromium runs it:
//! a new preflight replaces what the last one allowed for its own (origin, URL) only.

use crate::browser::{Agent, Browser, Chain, Credentials, Fetch, Mode, RedirectMode};
use crate::fields::Headers;
use crate::message::Response;
use crate::time::SIM_EPOCH;

fn put(origin: &str, target: &str) -> Fetch {
    Fetch {
        agent: Agent::Chrome,
        origin: origin.into(),
        method: "PUT".into(),
        scheme: "https".into(),
        host: "api.example.com".into(),
        target: target.into(),
        headers: Headers::new(),
        mode: Mode::Cors,
        credentials: Credentials::SameOrigin,
        cookie: None,
        private_network: false,
        redirect: RedirectMode::Follow,
        chain: Chain::default(),
    }
}

fn allow_put(origin: &str) -> Response {
    Response::new(
        204,
        Headers::from_pairs([
            ("access-control-allow-origin", origin),
            ("access-control-allow-methods", "PUT"),
            ("access-control-max-age", "600"),
        ]),
    )
}

const A: &str = "https://a.example";
const B: &str = "https://b.example";

/// Chromium keys its preflight cache by (origin, URL, …) and a new preflight replaces
/// that key's entry (`services/network/cors/preflight_cache.cc`): it must not erase what
/// was cached for another URL of the same origin, nor for the same URL from another
/// origin (Fetch §4.9: entries are per origin and URL).
#[test]
fn a_new_preflight_forgets_only_its_own_origin_and_url() {
    let mut b = Browser::new(Agent::Chrome);
    let (a_x, a_y, b_x) = (put(A, "/x"), put(A, "/y"), put(B, "/x"));
    assert!(b.on_preflight(SIM_EPOCH, &a_x, &allow_put(A)).is_ok());
    assert!(b.on_preflight(SIM_EPOCH, &b_x, &allow_put(B)).is_ok());
    assert!(b.preflight_cached(SIM_EPOCH, &a_x));
    assert!(b.preflight_cached(SIM_EPOCH, &b_x));
    assert!(b.on_preflight(SIM_EPOCH, &a_y, &allow_put(A)).is_ok());
    assert!(
        b.preflight_cached(SIM_EPOCH, &a_x),
        "same origin, other URL kept"
    );
    assert!(b.preflight_cached(SIM_EPOCH, &b_x), "other origin kept");
    assert!(b.preflight_cached(SIM_EPOCH, &a_y));
    // a preflight for A's /x that allows nothing cacheable erases A's /x only
    let no_cache = Response::new(
        204,
        Headers::from_pairs([
            ("access-control-allow-origin", A),
            ("access-control-allow-methods", "PUT"),
            ("access-control-max-age", "0"),
        ]),
    );
    assert!(b.on_preflight(SIM_EPOCH, &a_x, &no_cache).is_ok());
    assert!(!b.preflight_cached(SIM_EPOCH, &a_x));
    assert!(b.preflight_cached(SIM_EPOCH, &b_x) && b.preflight_cached(SIM_EPOCH, &a_y));
}

fn allow_put_for(origin: &str, max_age: &str) -> Response {
    Response::new(
        204,
        Headers::from_pairs([
            ("access-control-allow-origin", origin),
            ("access-control-allow-methods", "PUT"),
            ("access-control-max-age", max_age),
        ]),
    )
}

/// Fetch §4.9 "create a new cache entry": a method entry with the same key is replaced,
/// not duplicated, and a later `Access-Control-Max-Age: 0` for it leaves nothing usable
/// (Firefox, which does not erase the URL's entries on every preflight as Chromium does).
#[test]
fn a_repeated_method_entry_is_replaced_and_max_age_zero_drops_it() {
    let mut b = Browser::new(Agent::Firefox);
    let mut f = put(A, "/x");
    f.agent = Agent::Firefox;
    assert!(b
        .on_preflight(SIM_EPOCH, &f, &allow_put_for(A, "600"))
        .is_ok());
    assert!(b
        .on_preflight(SIM_EPOCH, &f, &allow_put_for(A, "600"))
        .is_ok());
    assert_eq!(b.preflight_cache().len(), 1);
    assert!(b.preflight_cached(SIM_EPOCH, &f));
    assert!(b
        .on_preflight(SIM_EPOCH, &f, &allow_put_for(A, "0"))
        .is_ok());
    assert!(!b.preflight_cached(SIM_EPOCH, &f));
}
