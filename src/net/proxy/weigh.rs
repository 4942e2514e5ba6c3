//! What one store entry really holds, in bytes, for moka's weigher: every heap allocation
//! (rounded as glibc's malloc rounds it) plus the fixed structures, plus moka's own
//! per-entry bookkeeping. Checked with `benches/soak/per-entry.sh` (RSS slope between
//! 100k and 1M distinct 5-byte entries, nothing evicted) and `benches/soak/mem.sh` /
//! `soak.sh` (churn at a 64 MiB capacity): see `benches/soak/README.md`.

use super::framing::is_static_name as static_name;
use super::store::{Entry, Key, Stored, Wire};
use crate::edge::Variant;
use crate::fields::Headers;
use crate::message::Response;
use std::mem::size_of;
use std::sync::Arc;

/// moka's per-entry bookkeeping plus the allocator's slack under churn (moka runs with
/// its LRU policy: see `store.rs`).
///
/// Derived from moka 0.12.16's sources (sizes on 64-bit, glibc malloc rounding):
/// the key's `Arc<String>` shared by the table and the entry info (40 → 48 B); the
/// concurrent table's `Bucket { key, value }` (`cht/map/bucket.rs`, 16 → 32 B) and its
/// slot in the bucket array (8 B, the array kept under 70 % full: 12–23 B);
/// `MiniArc<ValueEntry>` (`common/concurrent.rs`: value, info, nodes; 28 → 48 B);
/// `MiniArc<EntryInfo>` (`common/concurrent/entry_info.rs`: key and hash, flags, two
/// generations, weight, three `AtomicInstant`s; ~60 → 80 B); `MiniArc<Mutex<DeqNodes>>`
/// (~40 → 48 B); the access-order `DeqNode` (`common/deque.rs`: two links and a
/// `MiniArc`; 24 → 32 B). Together ~300 B.
///
/// Measured (`per-entry.sh`, 2026-11-29, the layout of this file: one compact wire
/// header block, `Arc`'d variants, a hash index above 8 variants): RSS grows 3,077 B per
/// entry while this weigher counts 3,376 B with 768 here; the structures weighed below
/// come to 2,608 B, so a fill alone needs ~469 B for moka (its ~300 B plus its
/// frequency sketch, its write log and epoch-deferred frees). The other ~300 B are kept
/// for glibc's fragmentation under churn (entries freed and replaced all the time): with
/// 256 here a 3-minute soak of the older layout peaked at 100 MiB for a 64 MiB store. With 768, `mem.sh -c 64MiB
/// -N 1000000` peaked at 80.8 MiB and `vary-cap.sh` (16,000 then 1,000 variants of 1 KiB
/// under `Vary: Origin`) at 78.3–79.8 MiB at 64 MiB and 55.7 MiB at 32 MiB: within the
/// capacity plus 32 MiB (benches/soak/README.md).
const MOKA_PER_ENTRY: usize = 768;

/// glibc malloc's footprint for a request of `n` bytes: 8 bytes of header, 16-byte
/// granules, 32 bytes at least; nothing for `n == 0` (no allocation).
pub fn alloc(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (n + 8).div_ceil(16).max(2) * 16
    }
}

fn headers(h: &Headers) -> usize {
    alloc(h.len() * size_of::<(String, String)>())
        + h.iter()
            .map(|(n, v)| {
                // the core's well-known names and the interned ones are static text
                let own = !static_name(n) && !super::names::is_interned(n);
                let name = if own { alloc(n.len()) } else { 0 };
                name + alloc(v.len())
            })
            .sum::<usize>()
}

fn response(r: &Response) -> usize {
    // Arc<Response> (two counters + the struct), its fields, the body's Arc<[u8]>
    alloc(16 + size_of::<Response>()) + headers(&r.headers) + alloc(16 + r.body.len())
}

/// `bytes`' shared-count block, made when a buffer is first sliced or cloned.
const BYTES_SHARED: usize = 32;

fn variant(v: &Variant) -> usize {
    let values: usize = v
        .values
        .iter()
        .map(|x| x.as_ref().map_or(0, |s| alloc(s.len())))
        .sum();
    // the Arc'd variant, its spec and values, key and URL; the set's index holds a hash
    // and a position (counted in `index`)
    alloc(16 + size_of::<Variant>())
        + alloc(v.spec.names.len() * size_of::<String>())
        + v.spec.names.iter().map(|x| alloc(x.len())).sum::<usize>()
        + alloc(v.values.len() * size_of::<Option<String>>())
        + values
        + alloc(16 + v.key.len())
        + alloc(16 + v.url.len())
        + response(&v.response)
}

/// The set's hash index (`HashMap<u64, usize>`: buckets of 16 bytes plus a control
/// byte each and a 16-byte group, at most 7/8 full; none for a set of at most 8
/// variants, which compares hashes instead) and its list of spec positions.
fn index(n: usize) -> usize {
    let table = if n <= 8 {
        0
    } else {
        alloc((n * 8 / 7).next_power_of_two() * 17 + 16)
    };
    // one spec in the common case
    table + alloc(size_of::<usize>())
}

/// The wire form beside a variant whose URL is `url`: the `Arc`'d `Wire` (with its
/// author inline), its header block (records, values and any name not interned: one
/// buffer, and `bytes`' shared-count block once a hit slices it), the body's owner block
/// (the body itself is the core response's), and what the author holds beyond the
/// variant's URL.
fn stored(s: &Stored, url: &Arc<str>) -> usize {
    let block = s.block_len();
    alloc(16 + size_of::<Wire>())
        + if block == 0 {
            0
        } else {
            alloc(block) + BYTES_SHARED
        }
        + alloc(32)
        + s.by.heap(Some(url))
}

/// Bytes held by the entry stored under `key`.
pub fn entry(key: &Key, e: &Entry) -> usize {
    // the key's text is the first variant's full key while that variant is held
    let key_text = if e.set.variants.iter().any(|v| key.shares(&v.key)) {
        0
    } else {
        alloc(16 + key.text_len())
    };
    let variants: usize = e
        .set
        .variants
        .iter()
        .map(|v| variant(v) + e.stored_for(v.tag).map_or(0, |s| stored(s, &v.url)))
        .sum();
    MOKA_PER_ENTRY
        + key_text
        + alloc(16 + size_of::<Entry>())
        + alloc(e.set.variants.capacity() * size_of::<usize>())
        + variants
        + index(e.set.variants.len())
        + alloc(e.stored.capacity() * size_of::<Stored>())
        + e.own_url().map_or(0, |u| alloc(16 + u.len()))
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
}
