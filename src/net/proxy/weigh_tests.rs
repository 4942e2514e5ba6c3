//! The weigher against the real layout: an entry made as the proxy makes one, then the
//! bytes freed when its last reference goes, counted by a global allocator that rounds
//! each block to mimalloc's size classes ([`block`]) for the thread that asks.

use super::*;
use crate::edge;
use crate::message::Request;
use crate::net::proxy::metrics::Metrics;
use crate::net::proxy::names;
use crate::net::proxy::store::{Head, Store, StoredBy};
use crate::profile::Knobs;
use crate::time::SIM_EPOCH;
use http::{HeaderMap, HeaderName, HeaderValue};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting the blocks of the threads that turned counting on.
struct Counting;

/// Blocks listed per count (sizes as requested).
const LISTED: usize = 64;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    /// Bytes allocated minus bytes freed, in mimalloc's classes.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The sizes of the blocks freed, in order (the first `LISTED`).
    static FREED: Cell<[usize; LISTED]> = const { Cell::new([0; LISTED]) };
    static FREED_N: Cell<usize> = const { Cell::new(0) };
}

fn track(size: usize, alloc: bool) {
    // `try_with`: a thread being torn down has no counter (and counts nothing)
    let _ = ON.try_with(|on| {
        if !on.get() {
            return;
        }
        let b = block(size) as isize;
        LIVE.with(|l| l.set(l.get() + if alloc { b } else { -b }));
        if !alloc {
            FREED_N.with(|n| {
                let i = n.get();
                if i < LISTED {
                    FREED.with(|f| {
                        let mut a = f.get();
                        a[i] = size;
                        f.set(a);
                    });
                }
                n.set(i + 1);
            });
        }
    });
}

// SAFETY: every call is passed to `System` unchanged; the counting touches only
// const-initialised thread-locals without destructors (no allocation, no reentry).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System`'s
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            track(l.size(), true);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: as above
        unsafe { System.dealloc(p, l) };
        track(l.size(), false);
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: as above
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            track(l.size(), false);
            track(new, true);
        }
        q
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Runs `f` counting this thread's blocks: (bytes allocated minus freed, the sizes of
/// the blocks freed).
pub(crate) fn counted(f: impl FnOnce()) -> (isize, Vec<usize>) {
    LIVE.with(|l| l.set(0));
    FREED_N.with(|n| n.set(0));
    ON.with(|on| on.set(true));
    f();
    ON.with(|on| on.set(false));
    let n = FREED_N.with(Cell::get).min(LISTED);
    let freed = FREED.with(Cell::get)[..n].to_vec();
    (LIVE.with(Cell::get), freed)
}

fn request(target: &str, origin: Option<&str>) -> Request {
    let mut headers = crate::fields::Headers::new();
    if let Some(o) = origin {
        headers.append("origin", o);
    }
    Request {
        method: "GET".into(),
        scheme: "http".into(),
        host: "127.0.0.1:18601".into(),
        target: target.into(),
        headers,
    }
}

/// The fields `varyedge origin` sends for `benches/soak/origin.yaml`'s `/m*` (the
/// per-entry measurement's entry), with this response's serial and `Vary`.
fn origin_fields(serial: u64, vary: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut put = |n: &str, v: &str| {
        h.append(
            HeaderName::from_bytes(n.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    };
    put("date", "Mon, 30 Nov 2026 06:42:53 GMT");
    put("cache-control", "public, max-age=600");
    put("content-type", "application/json");
    put("vary", vary);
    put("varyedge-origin-serial", &serial.to_string());
    put("varyedge-origin-saw", "host");
    put("content-length", "5");
    h
}

/// Stores a response as `server::forward` and `finish` do (the core's fields and the
/// wire block from one lookup, the body shared or copied), and returns the bytes its
/// entry frees when it goes, what the weigher says it holds, and the blocks freed.
fn stored_entry(
    store: &Store,
    req: &Request,
    serial: u64,
    body: &[u8],
    vary: &str,
) -> (isize, usize, Vec<usize>) {
    let h = origin_fields(serial, vary);
    let mut codes = Vec::new();
    let core = names::core_headers_coded(&h, &mut codes);
    let head = Head::coded(http::StatusCode::OK, &h, &codes).unwrap();
    let response = Arc::new(Response {
        status: 200,
        headers: core,
        body: Arc::from(body),
    });
    let v = edge::make_variant(store.knobs(), req, response, SIM_EPOCH, serial).unwrap();
    let by = StoredBy::new(req, serial, Some(&v.url));
    let wire = Arc::new(Wire::from_head(head, &v.response.body, by).unwrap());
    let key = edge::primary_key(store.knobs(), req);
    store.insert(&key, req, v, wire);
    let (k, e) = store.entry_for_test(&key).unwrap();
    // a hit has sliced the buffer (`bytes`' shared block, which the weigher counts)
    for s in e.stored.iter() {
        drop((s.header_map(4), s.body()));
    }
    let weighed = super::entry(&k, &e) - STORE_PER_ENTRY;
    assert_eq!(store.purge_all(), 1);
    let (live, freed) = counted(|| drop((k, e)));
    (-live, weighed, freed)
}

/// The weigher counts what an entry really holds (each block in mimalloc's classes),
/// for the per-entry measurement's entry (a 5-byte body, no `Origin`), a body too large
/// to copy, and an author with an `Origin` (kept in the wire's buffer) that the response
/// varies on (a selecting value of the variant's own).
#[test]
fn the_weigher_counts_the_blocks_an_entry_frees() {
    let store = Store::new(
        Arc::new(Knobs::rfc9111()),
        1 << 30,
        16,
        Arc::new(Metrics::default()),
    );
    // the repeated values are interned from their second sighting on
    for i in 0..3 {
        stored_entry(
            &store,
            &request(&format!("/warm-{i}"), None),
            i,
            b"small",
            "Origin",
        );
    }
    let small = stored_entry(&store, &request("/m1-1234", None), 10, b"small", "Origin");
    eprintln!(
        "5-byte body, no Origin: freed {} B, weighed {} B; blocks {:?}",
        small.0, small.1, small.2
    );
    assert_eq!(small.0, small.1 as isize, "blocks freed: {:?}", small.2);
    let large = stored_entry(
        &store,
        &request("/m1-1235", None),
        11,
        &[b'x'; 100],
        "Origin",
    );
    assert_eq!(large.0, large.1 as isize, "blocks freed: {:?}", large.2);
    let req = request("/m1-1236", Some("https://a.example"));
    let origin = stored_entry(&store, &req, 12, b"small", "Origin");
    assert_eq!(origin.0, origin.1 as isize, "blocks freed: {:?}", origin.2);
    // selecting fields that are not well-known names: each name is a block of its own
    let names = stored_entry(&store, &req, 13, b"small", "X-Tenant-Id, Origin, X-Region");
    assert_eq!(names.0, names.1 as isize, "blocks freed: {:?}", names.2);
}
