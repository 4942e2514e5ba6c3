//! The requests a browser builds for a fetch (the preflight, the actual request),
//! remembered per thread: the simulator runs the same few fetches from the same few
//! browsers over and over (the explorer, thousands of sessions), and building one —
//! author headers through the guards, the engine's defaults, Fetch Metadata, `Referer`,
//! `Origin`, the `Access-Control-Request-*` fields — costs more than comparing the
//! fetch and copying the result.
//!
//! What is built depends only on the engine, its header overrides (the defaults follow
//! from both), the fetch and the method as sent, so whatever the memo holds, the
//! request handed out is the one that would be built.

use super::{Agent, Fetch};
use crate::fields::Headers;
use crate::message::Request;
use std::cell::RefCell;
use std::sync::Arc;

/// Requests kept; a new one replaces the oldest once full.
const SLOTS: usize = 16;

/// One built request and what it was built from.
struct Entry {
    preflight: bool,
    agent: Agent,
    overrides: Headers,
    method: String,
    fetch: Fetch,
    request: Arc<Request>,
}

#[derive(Default)]
struct Built {
    entries: Vec<Entry>,
    /// The entry the next new request replaces once full.
    next: usize,
    /// Lookups and hits since the window began (see [`WINDOW`]).
    looked: u32,
    hits: u32,
    /// Requests still to build without looking.
    paused: u32,
}

/// A trace of thousands of distinct fetches (a long `replay`) would pay for every lookup
/// and copy and seldom gain: when fewer than a quarter of a window of this many lookups
/// find their request, the memo is left alone for [`PAUSE`] requests, then tried again.
const WINDOW: u32 = 256;
/// See [`WINDOW`].
const PAUSE: u32 = 4096;

/// What a lookup found.
enum Look {
    Hit(Arc<Request>),
    /// Not there: build it and remember it.
    Remember,
    /// The memo is paused: build it only.
    Skip,
}

thread_local! {
    static BUILT: RefCell<Built> = RefCell::new(Built::default());
}

/// The request `build` makes (a preflight when `preflight`) for `f` sent as `method` by
/// an `agent` browser with `overrides`: the one built before for the same inputs (shared,
/// not copied: a sent request is never changed), else built now and remembered.
pub(super) fn remembered(
    preflight: bool,
    agent: Agent,
    overrides: &Headers,
    f: &Fetch,
    method: &str,
    build: impl FnOnce() -> Request,
) -> Arc<Request> {
    let look = BUILT.with(|b| {
        let mut b = b.borrow_mut();
        if b.paused > 0 {
            b.paused -= 1;
            return Look::Skip;
        }
        let hit = b.entries.iter().find(|e| {
            e.preflight == preflight
                && e.agent == agent
                && e.method == method
                && e.fetch == *f
                && e.overrides == *overrides
        });
        let found = hit.map(|e| e.request.clone());
        b.looked += 1;
        b.hits += u32::from(found.is_some());
        if b.looked == WINDOW {
            if b.hits < WINDOW / 4 {
                b.paused = PAUSE;
            }
            (b.looked, b.hits) = (0, 0);
        }
        match found {
            Some(r) => Look::Hit(r),
            None => Look::Remember,
        }
    });
    let request = match look {
        Look::Hit(r) => return r,
        Look::Skip => return Arc::new(build()),
        Look::Remember => Arc::new(build()),
    };
    BUILT.with(|b| {
        let mut b = b.borrow_mut();
        let e = Entry {
            preflight,
            agent,
            overrides: overrides.clone(),
            method: method.to_string(),
            fetch: f.clone(),
            request: request.clone(),
        };
        if b.entries.len() < SLOTS {
            b.entries.push(e);
        } else {
            let slot = b.next;
            b.next = (slot + 1) % SLOTS;
            b.entries[slot] = e;
        }
    });
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::{Browser, Chain, Credentials, Mode, RedirectMode};

    fn fetch(origin: &str, method: &str, target: &str, headers: &[(&str, &str)]) -> Fetch {
        Fetch {
            agent: Agent::Chrome,
            origin: origin.into(),
            method: method.into(),
            scheme: "https".into(),
            host: "api.example.com".into(),
            target: target.into(),
            headers: Headers::from_pairs(headers.iter().copied()),
            mode: Mode::Cors,
            credentials: Credentials::Omit,
            cookie: None,
            private_network: false,
            redirect: RedirectMode::Follow,
            chain: Chain::default(),
        }
    }

    /// Every remembered request is the one built afresh, across engines, overrides,
    /// fetches that differ in one part, both kinds of request and more distinct inputs
    /// than the memo keeps (slots reused), asked for twice.
    #[test]
    fn remembered_requests_are_the_built_ones() {
        let browsers = [
            Browser::new(Agent::Chrome),
            Browser::new(Agent::Safari),
            Browser::with_header_overrides(
                Agent::Chrome,
                Headers::from_pairs([("accept-language", "fr")]),
            ),
        ];
        let mut fetches = Vec::new();
        for i in 0..8 {
            let origin = format!("https://app{}.example.com", i % 3);
            fetches.push(fetch(
                &origin,
                "PUT",
                "/d",
                &[("content-type", "application/json")],
            ));
            fetches.push(fetch(&origin, "GET", &format!("/d{i}"), &[]));
        }
        let mut cookie = fetch("https://app1.example.com", "GET", "/d", &[]);
        cookie.cookie = Some("a=1".into());
        cookie.credentials = Credentials::Include;
        fetches.push(cookie);
        let mut built = 0;
        for round in 0..2 {
            for b in &browsers {
                for f in &fetches {
                    let method = b.method(f);
                    let a = b.actual_request(f, &method);
                    let fresh = b.build_actual(f, &method);
                    assert_eq!(*a, fresh, "round {round}: {f:?}");
                    let p = b.preflight_request(f, &method);
                    assert_eq!(*p, b.build_preflight(f, &method), "round {round}: {f:?}");
                    assert_eq!(p.method, "OPTIONS");
                    built += 1;
                }
            }
        }
        assert_eq!(built, 2 * 3 * 17);
        BUILT.with(|b| assert_eq!(b.borrow().entries.len(), SLOTS));
    }

    /// `GET /p{i}` through `b`'s memo: the request handed out is the one built afresh.
    fn get_path(b: &Browser, i: impl std::fmt::Display) {
        let f = fetch("https://app.example.com", "GET", &format!("/p{i}"), &[]);
        assert_eq!(*b.actual_request(&f, "GET"), b.build_actual(&f, "GET"));
    }

    /// Once full, new requests replace the oldest in turn: the last `SLOTS` built are
    /// all there.
    #[test]
    fn the_oldest_request_is_replaced() {
        let b = Browser::new(Agent::Chrome);
        let once = |i: usize| get_path(&b, i);
        for i in 0..2 * SLOTS {
            once(i);
        }
        let hits = || BUILT.with(|m| m.borrow().hits);
        assert_eq!(hits(), 0);
        for i in SLOTS..2 * SLOTS {
            once(i);
        }
        assert_eq!(hits() as usize, SLOTS);
    }

    /// A window of lookups that mostly miss pauses the memo (nothing looked up or kept),
    /// the requests stay the built ones throughout, and it is used again after the pause;
    /// a window that mostly hits does not pause it.
    #[test]
    fn a_window_of_misses_pauses_the_memo() {
        let b = Browser::new(Agent::Firefox);
        let once = |i: u32| get_path(&b, i);
        let state = || BUILT.with(|m| (m.borrow().looked, m.borrow().hits, m.borrow().paused));
        // a quarter of the window hits (every fourth fetch repeats the one before): kept on
        for i in 0..WINDOW {
            once(if i % 4 == 3 { i - 1 } else { i });
        }
        assert_eq!(state(), (0, 0, 0));
        // one hit fewer: paused
        for i in 0..WINDOW {
            once(if i % 4 == 3 && i > 3 { i - 1 } else { 1000 + i });
        }
        assert_eq!(state(), (0, 0, PAUSE));
        let f = fetch("https://app.example.com", "GET", "/again", &[]);
        for n in 1..=PAUSE {
            assert_eq!(*b.actual_request(&f, "GET"), b.build_actual(&f, "GET"));
            assert_eq!(state(), (0, 0, PAUSE - n));
        }
        // in use again: a miss, then a hit
        once(0);
        once(0);
        assert_eq!(state(), (2, 1, 0));
    }
}
