//! The header map a hit is sent with: the stored header block, then `Age`, our
//! `Cache-Status` member, `X-Cache` and `Via`.
//!
//! Building it from the stored block costs ~300 instructions a field (each value is
//! checked again by `HeaderValue`, each name hashed into the map): ~2,200 for a plain
//! 7-field hit and ~3,400 for a preflight's 9 fields, a sixth of what the proxy spends
//! on such a hit. So a per-thread memo keeps the map last sent for a hot wire form, and
//! a hit clones it (its values are `Bytes` sharing the same buffers). The map is found by
//! the address of the wire form; the memo holds a [`Weak`] to it, so the address cannot
//! be reused while the member lives, and the wire's body is still freed when the store
//! drops the entry. What changes from one hit to the next (`Age`, the `Cache-Status`
//! member, `X-Cache`) is replaced in the kept map when it differs; a replaced field keeps
//! its place, so the map is the same, field for field and in order, as one built anew.
//!
//! A wire form is admitted on its second hit within a short window (a direct-mapped
//! table of addresses), so a store walked once, or a rotation wider than the memo, pays
//! a table probe, not a map copied in and thrown out.

use super::server::CACHE_STATUS;
use super::store::{Stored, Wire};
use super::upstream::VIA;
use super::weigh::block;
use crate::edge::hash::FastBuild;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::mem::size_of;
use std::sync::{Arc, Weak};

/// `X-Cache`: whether the response came from the store.
pub const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// The map for a hit on `wire`, `age` seconds old, with our `Cache-Status` member `cs`
/// (`None`: none, when it could not be written) and `X-Cache: x_cache`.
pub fn hit_headers(
    wire: &Stored,
    age: u64,
    cs: Option<HeaderValue>,
    x_cache: &'static str,
) -> HeaderMap {
    let Some(cs) = cs else {
        return build(wire, age, None, x_cache);
    };
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        let m = &mut *m;
        let at = Arc::as_ptr(wire) as usize;
        m.lookups += 1;
        if let Some(made) = m.members.get_mut(&at) {
            m.served += 1;
            made.refresh(age, &cs, x_cache);
            return made.map.clone();
        }
        let map = build(wire, age, Some(cs.clone()), x_cache);
        if !m.seen_before(at) || !memoable(&map) {
            return map;
        }
        let cost = member_bytes(wire, &map);
        if cost > MEMO_BYTES / 16 {
            return map;
        }
        if m.members.len() >= MEMO_MAX || m.bytes + cost > MEMO_BYTES {
            // full: its members stay for a while (a hot set wider than the memo would
            // otherwise be copied in and thrown out on every pass), then all go at once
            if m.lookups < m.renew_after {
                return map;
            }
            m.renew();
        }
        let made = Made {
            _wire: Arc::downgrade(wire),
            map: map.clone(),
            age,
            cs: value_id(&cs),
            x_cache,
        };
        m.members.insert(at, made);
        m.bytes += cost;
        map
    })
}

/// The map built from the stored block, as [`hit_headers`] returns it.
pub fn build(wire: &Wire, age: u64, cs: Option<HeaderValue>, x_cache: &'static str) -> HeaderMap {
    // room for Age, Cache-Status, X-Cache and Via
    let mut h = wire.header_map(4);
    h.insert(header::AGE, age_value(age));
    if let Some(v) = cs {
        h.append(CACHE_STATUS, v);
    }
    h.insert(X_CACHE, HeaderValue::from_static(x_cache));
    h.append(header::VIA, VIA);
    h
}

/// Whether a map [`build`] made can be kept and refreshed field by field: `Age` and
/// `X-Cache` are single (inserted), but `Cache-Status` and `Via` are appended after any
/// the upstream sent, and a kept map could not replace ours alone among them.
fn memoable(map: &HeaderMap) -> bool {
    map.get_all(CACHE_STATUS).iter().count() == 1 && map.get_all(header::VIA).iter().count() == 1
}

/// A member: the map last sent for a wire form, and the varying parts it holds.
struct Made {
    /// Held so that no other wire form takes the address while this member lives.
    _wire: Weak<Wire>,
    /// The map as last sent.
    map: HeaderMap,
    /// Its `Age`, in seconds.
    age: u64,
    /// Its `Cache-Status` member ([`value_id`]).
    cs: (usize, usize),
    /// Its `X-Cache`.
    x_cache: &'static str,
}

impl Made {
    /// Makes the kept map the one a hit `age` seconds old with member `cs` and `x_cache`
    /// is sent with. Each is one field (see [`memoable`]), so `insert` replaces it in
    /// place.
    fn refresh(&mut self, age: u64, cs: &HeaderValue, x_cache: &'static str) {
        if age != self.age {
            self.map.insert(header::AGE, age_value(age));
            self.age = age;
        }
        // the `Cache-Status` memo hands out clones of one value while its member lives.
        // The kept map holds the value `self.cs` names, so no other text can be at that
        // address: the same buffer is the same text; another buffer (maybe the same text
        // written again) is put in
        let id = value_id(cs);
        if id != self.cs {
            self.map.insert(CACHE_STATUS, cs.clone());
            self.cs = id;
        }
        if x_cache != self.x_cache {
            self.map.insert(X_CACHE, HeaderValue::from_static(x_cache));
            self.x_cache = x_cache;
        }
    }
}

/// A value's text by address and length: equal ids are the same bytes.
fn value_id(v: &HeaderValue) -> (usize, usize) {
    let b = v.as_bytes();
    (b.as_ptr() as usize, b.len())
}

/// The per-thread memo: wire address → member, the members' [`member_bytes`], the
/// lookups since it was last emptied and how many of them it served, the lookups it
/// waits once full, and the admission table.
struct Memo {
    members: HashMap<usize, Made, FastBuild>,
    bytes: usize,
    lookups: usize,
    served: usize,
    renew_after: usize,
    seen: Box<[usize]>,
}

impl Default for Memo {
    fn default() -> Memo {
        Memo {
            members: HashMap::default(),
            bytes: 0,
            lookups: 0,
            served: 0,
            renew_after: RENEW_AFTER,
            seen: vec![0; SEEN_SLOTS].into_boxed_slice(),
        }
    }
}

impl Memo {
    /// Empties the memo to take new members. One that served under a quarter of its
    /// lookups (a hot set several times wider than it, where any members serve as well
    /// as others) waits twice as long before the next time, up to [`RENEW_MAX`]; one
    /// that served more waits [`RENEW_AFTER`] again.
    fn renew(&mut self) {
        self.renew_after = if self.served < self.lookups / 4 {
            (self.renew_after * 2).min(RENEW_MAX)
        } else {
            RENEW_AFTER
        };
        self.members.clear();
        self.bytes = 0;
        self.lookups = 0;
        self.served = 0;
    }

    /// Whether `at` was the last address seen in its slot of the admission table (it is
    /// now, either way).
    fn seen_before(&mut self, at: usize) -> bool {
        // a block's lowest address bits are mostly zero: drop four, then let the odd
        // multiplier spread the rest over the high half
        let h = ((at as u64) >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        let Some(slot) = self.seen.get_mut(h as usize % SEEN_SLOTS) else {
            return false;
        };
        let again = *slot == at;
        *slot = at;
        again
    }
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
}

/// Members a thread's memo holds at most.
const MEMO_MAX: usize = 192;

/// Bytes a thread's memo holds at most ([`member_bytes`] summed): room for 100–150 hot
/// wire forms of ~10 fields. A member bigger than a sixteenth of it is not kept.
///
/// Small, so that it stays in a core's second-level cache beside the store's hot
/// entries: a kept map takes ~1.3 KB against the stored block's ~300 bytes. With 1,000
/// hot variants (`benches/load/instr.sh`'s vary-1x1000 with `CACHE_SIM=1`: 1 MiB L2, one
/// worker), a hit read 16.6 lines from memory without the memo, 34.6 with 3 MiB of it
/// (every variant kept), 25.3 with 512 KiB and 20.9 with this; the instructions it saves
/// on hot sets (~2,000 a hit) are the same at any of these sizes.
const MEMO_BYTES: usize = 192 << 10;

/// Lookups after which a full memo may be emptied to take new members: with a hot set
/// wider than the memo, the members kept serve for this long, then the memo is refilled
/// from the wire forms hit after it.
const RENEW_AFTER: usize = 16 * MEMO_MAX;

/// The longest a full memo waits: ~200,000 lookups, a few seconds of a busy worker.
const RENEW_MAX: usize = 64 * RENEW_AFTER;

/// Slots of the admission table (8 bytes each): a wire form seen again before 4,096
/// others hashed into the table is likely still in its slot.
const SEEN_SLOTS: usize = 4096;

/// What a member holds at most: the map (its bucket list and index), the memo's slot,
/// and the wire's buffer, which the map's values keep alive after the store drops it.
fn member_bytes(wire: &Wire, map: &HeaderMap) -> usize {
    // `http`'s bucket list (a name and a value, the name's hash and the links to its
    // extra values: not public, rounded up) and its index (a 4-byte position per slot:
    // a power of two slots, of which the capacity is three quarters), in the
    // allocator's classes
    let bucket = size_of::<HeaderName>() + size_of::<HeaderValue>() + 32;
    let index = map.capacity().next_power_of_two() * 4;
    block(map.len() * bucket) + block(index) + wire.block_len() + MEMBER_FIXED
}

/// [`member_bytes`] beyond the map and the buffer: the memo's slot (the address and a
/// [`Made`]), the `Weak`'s block kept alive, allocator slack.
const MEMBER_FIXED: usize = 384;

/// Ages (in seconds) whose `Age` value is made once per process.
pub const SMALL_AGES: usize = 3600;

/// The `Age` field value for `age` seconds (RFC 9111 §5.1: a non-negative integer).
///
/// A hit formatted and allocated one per response (~200 instructions and a free); ages
/// under an hour are taken from a table made on first use: static text (one leaked
/// string of ~14 KB) and a value per age (~140 KB), whose clones copy a pointer and
/// touch no shared counter.
pub fn age_value(age: u64) -> HeaderValue {
    static SMALL: std::sync::OnceLock<Box<[HeaderValue]>> = std::sync::OnceLock::new();
    let small = SMALL.get_or_init(|| {
        let mut text = String::new();
        let mut ends = Vec::with_capacity(SMALL_AGES);
        for a in 0..SMALL_AGES {
            let _ = write!(text, "{a}");
            ends.push(text.len());
        }
        let text: &'static str = Box::leak(text.into_boxed_str());
        let mut start = 0;
        ends.iter()
            .map(|&end| {
                // digits only: `from_static` accepts them (it panics on control bytes)
                let v = HeaderValue::from_static(text.get(start..end).unwrap_or("0"));
                start = end;
                v
            })
            .collect()
    });
    usize::try_from(age)
        .ok()
        .and_then(|a| small.get(a))
        .cloned()
        .unwrap_or_else(|| HeaderValue::from(age))
}

#[cfg(test)]
#[path = "hit_head_tests.rs"]
mod tests;
