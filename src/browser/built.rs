//! The requests a browser builds for a fetch (the preflight, the actual request),
//! remembered per thread: the simulator runs the same few fetches from the same few
//! browsers over and over (the explorer, thousands of sessions; a replay, each client's
//! fetches over many paths), and building one — author headers through the guards, the
//! engine's defaults, Fetch Metadata, `Referer`, `Origin`, the `Access-Control-Request-*`
//! fields — costs more than comparing the fetch and copying the result.
//!
//! What is built depends only on the engine, its header overrides (the defaults follow
//! from both), the fetch and the method as sent, so whatever the memo holds, the
//! request handed out is the one that would be built. A fetch's target enters the
//! request only as its `target` when it is a path (or a query, a fragment, or empty):
//! the fetch's site relation then does not read it (`site::relation`), and nothing
//! else that is built does. So a request remembered for one path is handed out for
//! another path of the same fetch with its target replaced: a replay's client asks
//! for many paths, and every one after the first is a copy, not a build.

use super::site::target_is_path;
use super::{Agent, Fetch};
use crate::edge::hash::FastHasher;
use crate::fields::{head_word, tail_word, Headers};
use crate::message::Request;
use std::cell::RefCell;
use std::hash::Hasher;
use std::sync::Arc;

/// Slots of the memo (a power of two). A fetch has one slot, chosen by a hash of what
/// it is built from (not its target); a new one replaces what its slot held.
const SLOTS: usize = 1024;

/// One built request and what it was built from.
struct Entry {
    preflight: bool,
    agent: Agent,
    overrides: Headers,
    method: String,
    fetch: Fetch,
    request: Arc<Request>,
}

impl Entry {
    /// Whether this entry was built from the same inputs as a `preflight` request for
    /// `f` sent as `method` by an `agent` browser with `overrides`, its target aside:
    /// `Some(true)` when the targets are equal too, `Some(false)` when they differ but
    /// are both paths (the request is this one with `f`'s target), `None` otherwise.
    fn matches(
        &self,
        preflight: bool,
        agent: Agent,
        overrides: &Headers,
        f: &Fetch,
        method: &str,
    ) -> Option<bool> {
        let same = self.preflight == preflight
            && self.agent == agent
            && self.method == method
            && same_but_target(&self.fetch, f)
            && self.overrides == *overrides;
        if !same {
            return None;
        }
        if self.fetch.target == f.target {
            return Some(true);
        }
        (target_is_path(&self.fetch.target) && target_is_path(&f.target)).then_some(false)
    }
}

/// Whether `a` and `b` are equal in every part but their targets. Written out field by
/// field, so that a field added to [`Fetch`] does not compile until it is named here.
fn same_but_target(a: &Fetch, b: &Fetch) -> bool {
    let Fetch {
        agent,
        origin,
        method,
        scheme,
        host,
        target: _,
        headers,
        mode,
        credentials,
        cookie,
        private_network,
        redirect,
        chain,
    } = a;
    *agent == b.agent
        && *origin == b.origin
        && *method == b.method
        && *scheme == b.scheme
        && *host == b.host
        && *mode == b.mode
        && *credentials == b.credentials
        && *private_network == b.private_network
        && *redirect == b.redirect
        && *cookie == b.cookie
        && *headers == b.headers
        && *chain == b.chain
}

/// The slot of a `preflight` request for `f` sent as `method` by an `agent` browser: a
/// hash of the parts that tell a scenario's fetches apart (its origin, host, method,
/// engine, mode and how many fields the page set), not of its target.
fn slot_of(preflight: bool, agent: Agent, f: &Fetch, method: &str) -> usize {
    // a few words, as `site::relation`'s memo does: origins differ after their scheme
    // (`https://` is 8 bytes) or at their ends, methods at their starts; `matches`
    // tells apart what shares a slot
    let o = f.origin.as_bytes();
    let mut h = FastHasher::default();
    h.write_u64(head_word(o.get(8..).unwrap_or_default()));
    h.write_u64(tail_word(o) ^ head_word(method.as_bytes()).rotate_left(29));
    h.write_usize(
        o.len()
            | f.host.len() << 16
            | f.headers.len() << 32
            | usize::from(preflight) << 40
            | (agent as usize) << 41
            | (f.agent as usize) << 44
            | (f.mode as usize) << 47
            | (f.credentials as usize) << 49,
    );
    // the multiply leaves its best-mixed bits at the top
    (h.finish() >> 54) as usize % SLOTS
}

/// The request `r` with `target` as its target.
fn retargeted(r: &Request, target: &str) -> Request {
    Request {
        method: r.method.clone(),
        scheme: r.scheme.clone(),
        host: r.host.clone(),
        target: target.to_string(),
        headers: r.headers.clone(),
    }
}

struct Built {
    slots: Box<[Option<Entry>]>,
    /// Lookups and hits since the window began (see [`WINDOW`]).
    looked: u32,
    hits: u32,
    /// Requests still to build without looking.
    paused: u32,
}

impl Default for Built {
    fn default() -> Built {
        Built {
            slots: (0..SLOTS).map(|_| None).collect(),
            looked: 0,
            hits: 0,
            paused: 0,
        }
    }
}

/// A trace of thousands of distinct fetches (a long `replay` of as many clients) would
/// pay for every lookup and copy and seldom gain: when fewer than a quarter of a window
/// of this many lookups find their request, the memo is left alone for [`PAUSE`]
/// requests, then tried again.
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
/// not copied: a sent request is never changed), or a copy of the one built for another
/// path of the same fetch with `f`'s target, else built now and remembered.
pub(super) fn remembered(
    preflight: bool,
    agent: Agent,
    overrides: &Headers,
    f: &Fetch,
    method: &str,
    build: impl FnOnce() -> Request,
) -> Arc<Request> {
    let slot = slot_of(preflight, agent, f, method);
    let look = BUILT.with(|b| {
        let mut b = b.borrow_mut();
        let b = &mut *b;
        if b.paused > 0 {
            b.paused -= 1;
            return Look::Skip;
        }
        let entry = b.slots.get_mut(slot).and_then(Option::as_mut);
        let found = entry.and_then(|e| {
            let same_target = e.matches(preflight, agent, overrides, f, method)?;
            if !same_target {
                // kept with this target: the next fetch of it is a hit as it stands. A
                // request no step holds any more (the usual case: a step drops its
                // request when it ends) is changed in place, without a copy
                match Arc::get_mut(&mut e.request) {
                    Some(r) => r.target.clone_from(&f.target),
                    None => e.request = Arc::new(retargeted(&e.request, &f.target)),
                }
                e.fetch.target.clone_from(&f.target);
            }
            Some(e.request.clone())
        });
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
        if let Some(s) = b.slots.get_mut(slot) {
            *s = Some(Entry {
                preflight,
                agent,
                overrides: overrides.clone(),
                method: method.to_string(),
                fetch: f.clone(),
                request: request.clone(),
            });
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
        let kept = BUILT.with(|b| b.borrow().slots.iter().flatten().count());
        assert!(kept > 8, "only {kept} requests kept");
    }

    /// `GET /p{i}` from `https://app{o}.example.com` through `b`'s memo: the request
    /// handed out is the one built afresh.
    fn get_path(b: &Browser, o: impl std::fmt::Display, i: impl std::fmt::Display) {
        let origin = format!("https://app{o}.example.com");
        let f = fetch(&origin, "GET", &format!("/p{i}"), &[]);
        assert_eq!(*b.actual_request(&f, "GET"), b.build_actual(&f, "GET"));
    }

    fn hits() -> u32 {
        BUILT.with(|m| m.borrow().hits)
    }

    /// A fetch asked for path after path is built once: every other path is the request
    /// remembered with its target replaced (each equal to the one built afresh), and a
    /// path asked for again is a hit as it stands.
    #[test]
    fn another_path_of_the_same_fetch_is_the_remembered_request_retargeted() {
        let b = Browser::new(Agent::Chrome);
        for i in 0..100 {
            get_path(&b, 1, i);
        }
        assert_eq!(hits(), 99);
        let f = fetch("https://app1.example.com", "PUT", "/d?x=1", &[("x-a", "1")]);
        let p1 = b.preflight_request(&f, "PUT");
        let mut g = f.clone();
        g.target = "/e#frag".into();
        let p2 = b.preflight_request(&g, "PUT");
        assert_eq!(*p2, b.build_preflight(&g, "PUT"));
        assert_eq!(
            (p1.target.as_str(), p2.target.as_str()),
            ("/d?x=1", "/e#frag")
        );
        let again = b.preflight_request(&g, "PUT");
        assert!(
            Arc::ptr_eq(&again, &p2),
            "the same target again is the kept request"
        );
        assert_eq!(hits(), 101);
    }

    /// A target that is not a path (one the site relation reads) is never taken for
    /// another: each is built.
    #[test]
    fn a_target_that_is_not_a_path_is_built() {
        let b = Browser::new(Agent::Safari);
        for t in ["x/y", "x/z", ":8080/", "/p", "x/y", "x/y"] {
            let f = fetch("https://app.example.com", "GET", t, &[]);
            assert_eq!(
                *b.actual_request(&f, "GET"),
                b.build_actual(&f, "GET"),
                "{t}"
            );
        }
        // each replaced the one before in their slot: only the repeated `x/y` is found
        assert_eq!(hits(), 1);
    }

    /// A fetch that differs in any part but its target is not taken for another:
    /// [`same_but_target`] reads every field.
    #[test]
    fn every_part_but_the_target_tells_fetches_apart() {
        let base = fetch("https://app.example.com", "GET", "/d", &[("x-a", "1")]);
        let mut other = base.clone();
        other.target = "/elsewhere".into();
        assert!(same_but_target(&base, &other));
        let changes: [fn(&mut Fetch); 12] = [
            |f| f.agent = Agent::Firefox,
            |f| f.origin = "https://app2.example.com".into(),
            |f| f.method = "PUT".into(),
            |f| f.scheme = "http".into(),
            |f| f.host = "api2.example.com".into(),
            |f| f.headers = Headers::from_pairs([("x-a", "2")]),
            |f| f.mode = Mode::NoCors,
            |f| f.credentials = Credentials::Include,
            |f| f.cookie = Some("a=1".into()),
            |f| f.private_network = true,
            |f| f.redirect = RedirectMode::Error,
            |f| f.chain.first_url = "https://x.example/".into(),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut f = base.clone();
            change(&mut f);
            assert!(!same_but_target(&base, &f), "change {i}");
            assert!(!same_but_target(&f, &base), "change {i}");
        }
    }

    /// A window of lookups that mostly miss pauses the memo (nothing looked up or kept),
    /// the requests stay the built ones throughout, and it is used again after the pause;
    /// a window that mostly hits does not pause it.
    #[test]
    fn a_window_of_misses_pauses_the_memo() {
        let b = Browser::new(Agent::Firefox);
        // each `i` a fetch of its own (its own origin)
        let once = |i: u32| get_path(&b, i, 0);
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
