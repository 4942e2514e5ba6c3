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
use crate::edge::hash::{FastBuild, FastHasher};
use crate::fields::{head_word as head, tail_word as tail, Headers};
use crate::message::Request;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hasher;
use std::sync::Arc;

/// Requests kept at most. A long replay walks a pool of distinct fetches (the replay
/// bench's 1,000, `gen-scenario.py`'s 10,000; ~1.3 KB each with its request); the
/// explorer's sessions a few. A full memo takes no new request until a window of
/// lookups finds it stale (see [`WINDOW`]) and it starts afresh.
const CAP: usize = 16384;

/// Requests kept in a list searched in turn, before the memo moves them to slots: the
/// explorer's sessions need no more, and for so few a search costs less than hashing
/// the fetch to find its slot.
const SHORT: usize = 16;

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
    /// Whether this is the request for these inputs.
    fn is_for(
        &self,
        preflight: bool,
        agent: Agent,
        overrides: &Headers,
        f: &Fetch,
        method: &str,
    ) -> bool {
        self.preflight == preflight
            && self.agent == agent
            && self.method == method
            && self.fetch == *f
            && self.overrides == *overrides
    }

    /// Its place in [`Built::by_slot`].
    fn slot(&self) -> u64 {
        slot(
            self.preflight,
            self.agent,
            &self.overrides,
            &self.fetch,
            &self.method,
        )
    }
}

#[derive(Default)]
struct Built {
    /// The first [`SHORT`] requests; empty once they have moved to `by_slot`.
    short: Vec<Entry>,
    /// Past [`SHORT`], every request by [`slot`]: a slot holds one, and a lookup
    /// compares everything, so two fetches sharing a slot only take turns.
    /// (Boxed: the table's empty slots cost a pointer, not an entry.)
    by_slot: HashMap<u64, Box<Entry>, FastBuild>,
    /// Lookups and hits since the window began (see [`WINDOW`]).
    looked: u32,
    hits: u32,
    /// Requests still to build without looking.
    paused: u32,
}

impl Built {
    fn len(&self) -> usize {
        self.short.len() + self.by_slot.len()
    }

    /// Keeps `e`, in the list while it has room, else in its slot (the list's requests
    /// move there first). A full memo takes it only in place of the one in its slot.
    fn keep(&mut self, e: Entry) {
        if self.by_slot.is_empty() && self.short.len() < SHORT {
            self.short.push(e);
            return;
        }
        for kept in self.short.drain(..) {
            self.by_slot.insert(kept.slot(), Box::new(kept));
        }
        let at = e.slot();
        if self.by_slot.len() < CAP || self.by_slot.contains_key(&at) {
            self.by_slot.insert(at, Box::new(e));
        }
    }
}

/// A trace of thousands of distinct fetches (a long `replay`) would pay for every lookup
/// and copy and seldom gain: when the memo is full and fewer than a quarter of a window
/// of this many lookups find their request, it is emptied and left alone for [`PAUSE`]
/// requests, then filled again. While it is not full it keeps filling whatever the hits:
/// a trace that walks a pool of fetches finds none of them before it has seen them all.
const WINDOW: u32 = 256;
/// See [`WINDOW`]. Filling a memo costs a copy a request, so an all-distinct trace pays
/// for [`CAP`] copies in every `CAP + WINDOW + PAUSE` requests.
const PAUSE: u32 = 16384;

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

/// Where a request for these inputs is kept: a few words of the texts that tell fetches
/// apart (the page origin's host part and end, the target's start and end, the method)
/// and a word of lengths and flags. It only has to spread them (a lookup compares all of
/// it, so fetches sharing a slot only take turns); hashing the texts whole cost more
/// than the explorer's search of a short list did.
fn slot(preflight: bool, agent: Agent, overrides: &Headers, f: &Fetch, method: &str) -> u64 {
    let origin = f.origin.as_bytes();
    let target = f.target.as_bytes();
    let mut h = FastHasher::default();
    // `https://` is 8 bytes: the word after it starts the host
    h.write_usize(head(origin.get(8..).unwrap_or_default()) as usize);
    h.write_usize(tail(origin) as usize);
    h.write_usize(head(target) as usize);
    h.write_usize(tail(target) as usize);
    h.write_usize(head(method.as_bytes()) as usize);
    let word = u64::from(preflight)
        | ((agent as u64) << 1)
        | ((origin.len() as u64) << 4)
        | ((target.len() as u64) << 16)
        | ((f.host.len() as u64) << 32)
        | ((f.headers.len() as u64) << 40)
        | ((f.cookie.as_ref().map_or(0, |c| c.len() + 1) as u64) << 48)
        | ((overrides.len() as u64) << 56);
    h.write_usize(word as usize);
    h.finish()
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
        let found = if b.by_slot.is_empty() {
            b.short
                .iter()
                .find(|e| e.is_for(preflight, agent, overrides, f, method))
        } else {
            b.by_slot
                .get(&slot(preflight, agent, overrides, f, method))
                .map(|e| &**e)
                .filter(|e| e.is_for(preflight, agent, overrides, f, method))
        }
        .map(|e| e.request.clone());
        b.looked += 1;
        b.hits += u32::from(found.is_some());
        if b.looked == WINDOW {
            if b.hits < WINDOW / 4 && b.len() >= CAP {
                b.by_slot.clear();
                b.paused = PAUSE;
            }
            (b.looked, b.hits) = (0, 0);
        }
        match found {
            Some(r) => Look::Hit(r),
            None if b.paused == 0 => Look::Remember,
            None => Look::Skip,
        }
    });
    let request = match look {
        Look::Hit(r) => return r,
        Look::Skip => return Arc::new(build()),
        Look::Remember => Arc::new(build()),
    };
    BUILT.with(|b| {
        b.borrow_mut().keep(Entry {
            preflight,
            agent,
            overrides: overrides.clone(),
            method: method.to_string(),
            fetch: f.clone(),
            request: request.clone(),
        });
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
        // 12 distinct fetches (three PUTs, eight GETs, one with a cookie) × 3 browsers ×
        // 2 kinds, each in a slot of its own; the first round found the five repeated
        // fetches, the second round every one
        let state = BUILT.with(|b| (b.borrow().by_slot.len(), b.borrow().hits));
        assert_eq!(state, (72, 2 * 3 * (17 - 12) + 2 * 3 * 17));
    }

    /// `GET /p{i}` through `b`'s memo: the request handed out is the one built afresh.
    fn get_path(b: &Browser, i: impl std::fmt::Display) {
        let f = fetch("https://app.example.com", "GET", &format!("/p{i}"), &[]);
        assert_eq!(*b.actual_request(&f, "GET"), b.build_actual(&f, "GET"));
    }

    fn state() -> (usize, u32, u32, u32) {
        BUILT.with(|m| {
            let m = m.borrow();
            (m.len(), m.looked, m.hits, m.paused)
        })
    }

    /// A memo filling up keeps every request, however few are found again (a trace
    /// walking a pool sees them all before any comes back); once full it takes no new
    /// one and keeps finding the ones it has.
    #[test]
    fn a_full_memo_keeps_what_it_has() {
        let b = Browser::new(Agent::Chrome);
        for i in 0..CAP {
            get_path(&b, i);
        }
        let looked = (CAP % WINDOW as usize) as u32;
        assert_eq!(state(), (CAP, looked, 0, 0));
        get_path(&b, "new");
        assert_eq!(state(), (CAP, looked + 1, 0, 0));
        get_path(&b, "new");
        get_path(&b, 0);
        get_path(&b, CAP - 1);
        assert_eq!(state(), (CAP, looked + 4, 2, 0));
    }

    /// A full memo whose window of lookups mostly misses is emptied and paused (nothing
    /// looked up or kept), the requests stay the built ones throughout, and it fills
    /// again after the pause; a window that finds a quarter of its requests does not
    /// pause it.
    #[test]
    fn a_full_window_of_misses_empties_and_pauses_the_memo() {
        let b = Browser::new(Agent::Firefox);
        for i in 0..CAP {
            get_path(&b, i);
        }
        // finish the window that is under way with hits
        while state().1 != 0 {
            get_path(&b, 0);
        }
        // a quarter of the window hits: kept on
        for i in 0..WINDOW {
            if i % 4 == 3 {
                get_path(&b, i);
            } else {
                get_path(&b, format!("x{i}"));
            }
        }
        assert_eq!(state(), (CAP, 0, 0, 0));
        // one hit fewer: emptied and paused
        for i in 0..WINDOW {
            if i % 4 == 3 && i > 3 {
                get_path(&b, i);
            } else {
                get_path(&b, format!("y{i}"));
            }
        }
        assert_eq!(state(), (0, 0, 0, PAUSE));
        let f = fetch("https://app.example.com", "GET", "/again", &[]);
        for n in 1..=PAUSE {
            assert_eq!(*b.actual_request(&f, "GET"), b.build_actual(&f, "GET"));
            assert_eq!(state(), (0, 0, 0, PAUSE - n));
        }
        // in use again: a miss, then a hit
        get_path(&b, 0);
        get_path(&b, 0);
        assert_eq!(state(), (1, 2, 1, 0));
    }

    /// A memo that is not full is not paused by a window without a single hit.
    #[test]
    fn a_memo_filling_up_is_not_paused() {
        let b = Browser::new(Agent::Safari);
        for i in 0..WINDOW {
            get_path(&b, i);
        }
        assert_eq!(state(), (WINDOW as usize, 0, 0, 0));
    }

    /// The first [`SHORT`] requests are kept in the list; the next one moves them all to
    /// their slots, where each is found again.
    #[test]
    fn the_list_moves_to_slots_past_short() {
        let b = Browser::new(Agent::Chrome);
        let tiers = || BUILT.with(|m| (m.borrow().short.len(), m.borrow().by_slot.len()));
        for i in 0..SHORT {
            get_path(&b, i);
        }
        assert_eq!(tiers(), (SHORT, 0));
        get_path(&b, SHORT);
        assert_eq!(tiers(), (0, SHORT + 1));
        for i in 0..=SHORT {
            get_path(&b, i);
        }
        assert_eq!(
            state(),
            (SHORT + 1, 2 * SHORT as u32 + 2, SHORT as u32 + 1, 0)
        );
    }

    /// Two fetches whose targets differ only in the middle share a slot: each is
    /// answered with its own request, the slot holding the last one built.
    #[test]
    fn fetches_sharing_a_slot_take_turns() {
        let b = Browser::new(Agent::Chrome);
        for i in 0..SHORT {
            get_path(&b, i);
        }
        let (x, y) = ("/12345678/x/12345678", "/12345678/y/12345678");
        let fx = fetch("https://app.example.com", "GET", x, &[]);
        let fy = fetch("https://app.example.com", "GET", y, &[]);
        let at = |f: &Fetch| slot(false, Agent::Chrome, &Headers::new(), f, "GET");
        assert_eq!(at(&fx), at(&fy));
        for _ in 0..2 {
            for f in [&fx, &fy] {
                let r = b.actual_request(f, "GET");
                assert_eq!(*r, b.build_actual(f, "GET"));
                assert_eq!(r.target, f.target);
            }
        }
        // no hits: each replaced the other
        assert_eq!(state(), (SHORT + 1, SHORT as u32 + 4, 0, 0));
    }
}
