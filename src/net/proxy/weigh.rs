//! What one store entry really holds, in bytes, for moka's weigher: every heap allocation
//! (rounded to mimalloc's size classes, [`block`]) plus the fixed structures, plus moka's
//! own per-entry bookkeeping. Checked with `benches/soak/per-entry.sh` (RSS slope between
//! 100k and 1M distinct 5-byte entries, nothing evicted) and `benches/soak/mem.sh` /
//! `soak.sh` (churn at a 64 MiB capacity): see `benches/soak/README.md`.

use super::framing::is_static_name as static_name;
use super::names::Interned;
use super::store::{Entry, Key, Stored, Wire};
use crate::edge::Variant;
use crate::fields::Headers;
use crate::message::Response;
use std::mem::size_of;
use std::sync::Arc;

/// moka's per-entry bookkeeping plus the allocator's slack under churn (moka runs with
/// its LRU policy: see `store.rs`).
///
/// Derived from moka 0.12.16's sources (sizes on 64-bit, mimalloc size classes): the
/// key's `Arc<Key>` shared by the table and the entry info (40 B); the concurrent
/// table's `Bucket { key, value }` (`cht/map/bucket.rs`, 16 B) and its slot in the
/// bucket array (8 B, the array kept under 70 % full: 12–23 B); `MiniArc<ValueEntry>`
/// (`common/concurrent.rs`: value, info, nodes; 28 → 32 B); `MiniArc<EntryInfo>`
/// (`common/concurrent/entry_info.rs`: key and hash, flags, two generations, weight,
/// three `AtomicInstant`s; ~60 → 64 B); `MiniArc<Mutex<DeqNodes>>` (~40 B); the
/// access-order `DeqNode` (`common/deque.rs`: two links and a `MiniArc`; 24 B).
/// Together ~230 B.
///
/// Measured (`per-entry.sh -l 50000 -h 300000`, 2026-11-29, session 7: wire block with
/// interned names and values, `StoredBy` inside `Wire`, shared key and URL text): RSS
/// grows ~1,860 B per entry; the structures weighed below come to 1,448 B, so a fill
/// needs ~410 B for moka (its ~230 B plus its frequency sketch, its write log and
/// epoch-deferred frees). The rest is slack for churn (entries freed and replaced all the
/// time, moka's evictions applied late): with 512 here `mem.sh -c 64MiB -N 600000`
/// peaked at 91.1 MiB, 5 MiB under the capacity plus 32 MiB; 640 keeps ~4 MiB more room
/// (the figures with it: `benches/soak/README.md`, session 7).
const MOKA_PER_ENTRY: usize = 640;

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

fn headers(h: &Headers, interned: &Interned) -> usize {
    block(h.len() * size_of::<(String, String)>())
        + h.iter()
            .map(|(n, v)| {
                // the core's well-known names and the interned ones are static text, and
                // so are interned values (with an interned name: `names::core_headers`);
                // the block in which a value was first seen keeps its own copy but is
                // counted as sharing it once the value is interned (one block per value)
                let shared_name = interned.name(n);
                let own = !static_name(n) && !shared_name;
                let name = if own { block(n.len()) } else { 0 };
                let value = if shared_name && interned.value(v) {
                    0
                } else {
                    block(v.len())
                };
                name + value
            })
            .sum::<usize>()
}

fn response(r: &Response, interned: &Interned) -> usize {
    // Arc<Response> (two counters + the struct), its fields, the body's Arc<[u8]>
    block(16 + size_of::<Response>()) + headers(&r.headers, interned) + block(16 + r.body.len())
}

/// `bytes`' shared-count block (buffer, capacity, count: 24 bytes), made when a buffer
/// is first sliced or cloned.
const BYTES_SHARED: usize = 24;

fn variant(v: &Variant, interned: &Interned) -> usize {
    let values: usize = v
        .values
        .iter()
        .map(|x| x.as_ref().map_or(0, |s| block(s.len())))
        .sum();
    // the Arc'd variant, its spec and values, key and URL; the set's index holds a hash
    // and a position (counted in `index`)
    block(16 + size_of::<Variant>())
        + block(v.spec.names.len() * size_of::<String>())
        + v.spec.names.iter().map(|x| block(x.len())).sum::<usize>()
        + block(v.values.len() * size_of::<Option<String>>())
        + values
        + block(16 + v.key.len())
        + block(16 + v.url.len())
        + response(&v.response, interned)
}

/// The set's hash index (`HashMap<u64, usize>`: buckets of 16 bytes plus a control
/// byte each and a 16-byte group, at most 7/8 full; none for a set of at most 8
/// variants, which compares hashes instead) and its list of spec positions.
fn index(n: usize) -> usize {
    let table = if n <= 8 {
        0
    } else {
        block((n * 8 / 7).next_power_of_two() * 17 + 16)
    };
    // one spec in the common case
    table + block(size_of::<usize>())
}

/// The wire form beside a variant whose URL is `url`: the `Arc`'d `Wire` (with its
/// author inline), its header block (records, values and any name not interned: one
/// buffer, and `bytes`' shared-count block once a hit slices it), the body's owner block
/// (the body itself is the core response's), and what the author holds beyond the
/// variant's URL.
fn stored(s: &Stored, url: &Arc<str>) -> usize {
    let text = s.block_len();
    block(16 + size_of::<Wire>())
        + if text == 0 {
            0
        } else {
            block(text) + BYTES_SHARED
        }
        + block(32)
        + s.by.heap(Some(url))
}

/// Bytes held by the entry stored under `key`.
pub fn entry(key: &Key, e: &Entry) -> usize {
    // the key's text is a variant's full key (the latest put's) while it is held
    let key_text = if e.set.variants.iter().any(|v| key.shares(&v.key)) {
        0
    } else {
        block(16 + key.text_len())
    };
    let interned = Interned::now();
    let variants: usize = e
        .set
        .variants
        .iter()
        .map(|v| variant(v, &interned) + e.stored_for(v.tag).map_or(0, |s| stored(s, &v.url)))
        .sum();
    MOKA_PER_ENTRY
        + key_text
        + block(16 + size_of::<Entry>())
        + block(e.set.variants.capacity() * size_of::<usize>())
        + variants
        + index(e.set.variants.len())
        + block(e.stored.capacity() * size_of::<Stored>())
        + e.own_url().map_or(0, |u| block(16 + u.len()))
}

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
