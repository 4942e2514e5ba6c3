//! What one store entry really holds, in bytes, for the store's weight: every heap
//! allocation (rounded to mimalloc's size classes, [`block`]) plus the fixed structures,
//! plus the store map's own per-entry bookkeeping. Checked with
//! `benches/soak/per-entry.sh` (RSS slope between 100k and 1M distinct 5-byte entries,
//! nothing evicted) and `benches/soak/mem.sh` / `soak.sh` (churn at a 64 MiB capacity):
//! see `benches/soak/README.md`.

use super::store::{Entry, Key, Stored, Tagged, Wire};
use crate::edge::{Variant, LIST_FORM_BYTES, SPEC_ENTRY_BYTES};
use crate::fields::{Headers, Text};
use crate::message::Response;
use std::mem::size_of;
use std::sync::Arc;

/// The store's per-entry bookkeeping ([`super::lru`]) plus the allocator's slack under
/// churn.
///
/// Derived (64-bit, mimalloc size classes): a slot in a shard's slab (key 24 B, the
/// `Arc<Entry>` 8, half the key's hash, the weight and two `u32` links 16: 48 B, in
/// 48 KiB chunks; 56 B before session 11) and a `u32` bucket plus a control byte in the
/// shard's hash table, kept 7/16 to 7/8 full (6–12 B; the table doubles as it grows):
/// ~57 B.
///
/// Measured (`benches/soak/per-entry.sh -l 50000 -h 300000`, 2026-11-30, session 9):
/// RSS grows ~1,612 B per entry where the structures weighed below come to 1,448 B, so
/// a fill needs ~164 B for the store (the ~65 B above plus what the hash tables and
/// chunks leave resident as they grow, and what the other weighed figures miss; moka
/// needed ~410 B in the same measurement). The rest is slack for churn (entries freed
/// and replaced all the time): with 640 here (moka's figure) `mem.sh -c 64MiB -N 600000`
/// peaked at 79.8 MiB; the figures with this value are in `benches/soak/README.md`,
/// session 9. Session 11 took the slot's 8 bytes off (448 → 440).
///
/// Session 16 found that both of `unique.lua`'s wrk threads had requested the same URLs
/// (a third of the fill's stores replaced an entry), which those measurements included.
/// With the script fixed, `per-entry.sh` measures 1,100 B of RSS per entry where the
/// blocks weighed below come to 952 B: ~150 B for the store (its ~57 B, the tables'
/// growth, the allocator's pages). `mem.sh -c 64MiB -N 600000` peaked at 81.4 MiB (bound
/// 96): the slack is kept as it is.
const STORE_PER_ENTRY: usize = 440;

/// glibc malloc's footprint for a request of `n` bytes: 8 bytes of header, 16-byte
/// granules, 32 bytes at least; nothing for `n == 0` (no allocation).
pub fn alloc(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (n + 8).div_ceil(16).max(2) * 16
    }
}

/// mimalloc's footprint for a request of `n` bytes (the proxy's global allocator,
/// `src/main.rs`): its size class, with no per-block header. Word multiples up to 64
/// bytes, then four classes per doubling (80, 96, 112, 128, 160, 192, ...: mimalloc's
/// `mi_bin`); nothing for `n == 0` (no allocation).
pub fn block(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let words = n.div_ceil(8);
    if words <= 8 {
        return words * 8;
    }
    let top = usize::BITS - 1 - (words - 1).leading_zeros();
    let step = 1usize << (top - 2);
    words.div_ceil(step) * step * 8
}

fn headers(h: &Headers) -> usize {
    // the core's well-known names, the interned names and the interned values are static
    // text (`names::core_headers`): only the others have blocks of their own
    block(h.len() * size_of::<(Text, Text)>())
        + h.owned_capacities()
            .map(|(n, v)| block(n) + block(v))
            .sum::<usize>()
}

fn response(r: &Response) -> usize {
    // Arc<Response> (two counters + the struct), its fields, the body's Arc<[u8]>
    block(16 + size_of::<Response>()) + headers(&r.headers) + block(16 + r.body.len())
}

/// `bytes`' shared-count block (buffer, capacity, count: 24 bytes), made when a buffer
/// is first sliced or cloned.
const BYTES_SHARED: usize = 24;

/// `bytes`' owner block around the core's `Arc<[u8]>` body (its count and the `Arc`: 24
/// bytes; counted as 32 before session 11's layout test measured it).
const BODY_OWNER: usize = 24;

fn variant(v: &Variant) -> usize {
    let values: usize = v
        .values
        .iter()
        .map(|x| x.as_ref().map_or(0, |s| block(s.len())))
        .sum();
    // the Arc'd variant, its spec and values, key and URL; the set's index holds a hash
    // and a position (counted in `index`)
    block(16 + size_of::<Variant>())
        + block(v.spec.names.len() * size_of::<Text>())
        + v.spec
            .names
            .iter()
            .map(|x| block(x.capacity()))
            .sum::<usize>()
        + block(std::mem::size_of_val(&*v.values))
        + values
        + block(16 + v.key.len())
        + block(16 + v.url.len())
        + response(&v.response)
}

/// What a set of `n` variants keeps beside them: nothing for one (held inline); for two
/// or more, the boxed list form ([`LIST_FORM_BYTES`]), its hash index (`HashMap<u64,
/// usize>`: buckets of 16 bytes plus a control byte each and a 16-byte group, at most 7/8
/// full; none for a set of at most 8 variants, which compares hashes instead) and its
/// list of spec positions.
fn index(n: usize) -> usize {
    if n < 2 {
        return 0;
    }
    let table = if n <= 8 {
        0
    } else {
        block((n * 8 / 7).next_power_of_two() * 17 + 16)
    };
    // one spec in the common case
    block(LIST_FORM_BYTES) + table + block(SPEC_ENTRY_BYTES)
}

/// The wire form beside a variant whose URL is `url`: the `Arc`'d `Wire` (with its
/// author inline), its buffer (records, values and any name not interned, a small body,
/// the author's `Origin`: one block, and `bytes`' shared-count block once a hit slices
/// it), a larger body's owner block (the body itself is the core response's), and the
/// author's URL when it is not the variant's.
fn stored(s: &Stored, url: &Arc<str>) -> usize {
    let text = s.block_len();
    block(16 + size_of::<Wire>())
        + if text == 0 {
            0
        } else {
            block(text) + BYTES_SHARED
        }
        + if s.separate_body() { BODY_OWNER } else { 0 }
        + s.url_heap(Some(url))
}

/// Bytes held by the entry stored under `key`.
pub fn entry(key: &Key, e: &Entry) -> usize {
    // the key's text is a variant's full key (the latest put's) while it is held
    let key_text = if e.set.variants.iter().any(|v| key.shares(&v.key)) {
        0
    } else {
        block(16 + key.text_len())
    };
    let variants: usize = e
        .set
        .variants
        .iter()
        .map(|v| variant(v) + e.stored_for(v.tag).map_or(0, |s| stored(s, &v.url)))
        .sum();
    STORE_PER_ENTRY
        + key_text
        + block(16 + size_of::<Entry>())
        + block(e.set.variants.capacity() * size_of::<usize>())
        + variants
        + index(e.set.variants.len())
        + block(e.stored.listed() * size_of::<Tagged>())
        + e.own_url().map_or(0, |u| block(16 + u.len()))
}

#[cfg(test)]
#[path = "weigh_tests.rs"]
pub(crate) mod layout_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malloc_rounding() {
        assert_eq!(alloc(0), 0);
        assert_eq!(alloc(1), 32);
        assert_eq!(alloc(24), 32);
        assert_eq!(alloc(25), 48);
        assert_eq!(alloc(1000), 1008);
    }

    #[test]
    fn mimalloc_size_classes() {
        let classes: Vec<usize> = [0, 1, 8, 9, 64, 65, 80, 81, 128, 129, 160, 161, 257, 1000]
            .iter()
            .map(|&n| block(n))
            .collect();
        assert_eq!(
            classes,
            [0, 8, 8, 16, 64, 80, 80, 96, 128, 160, 160, 192, 320, 1024]
        );
    }
}
