//! A fast, non-cryptographic hasher for the simulator's maps (keys are the scenario's own
//! strings; hash flooding is not a concern there: the proxy's store seeds its own hasher).

use std::hash::{BuildHasherDefault, Hasher};

/// Multiply-rotate hashing of 8-byte words (the scheme rustc's FxHash popularised).
#[derive(Clone, Copy, Default)]
pub struct FastHasher {
    hash: u64,
}

const K: u64 = 0x517c_c1b7_2722_0a95;

impl FastHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let rest = each_word(bytes, |w| self.add(w));
        if !rest.is_empty() {
            self.add(tail_word(rest) ^ ((rest.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Calls `f` with each whole 8-byte word of `bytes`, read little-endian, in order;
/// returns the 0–7 bytes left over.
#[inline]
fn each_word(bytes: &[u8], mut f: impl FnMut(u64)) -> &[u8] {
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        f(u64::from_le_bytes(b));
    }
    chunks.remainder()
}

/// The 1–7 bytes of `rest` as a little-endian word padded with zeros, read in pieces of
/// 4, 2 and 1 bytes (a variable-length copy into a buffer costs a `memcpy` call).
#[inline]
fn tail_word(rest: &[u8]) -> u64 {
    let (mut w, mut i) = (0u64, 0usize);
    if let [a, b, c, d, ..] = rest {
        w = u64::from(u32::from_le_bytes([*a, *b, *c, *d]));
        i = 4;
    }
    if let [a, b, ..] = &rest[i..] {
        w |= u64::from(u16::from_le_bytes([*a, *b])) << (8 * i);
        i += 2;
    }
    if let [a, ..] = &rest[i..] {
        w |= u64::from(*a) << (8 * i);
    }
    w
}

/// `HashMap<K, V, FastBuild>`.
pub type FastBuild = BuildHasherDefault<FastHasher>;

/// A seeded hasher whose `write` is streaming: bytes hash as one sequence however they
/// are split across calls (the variant store hashes a stored value whole and a request's
/// value in pieces, and the two must agree). Words of 8 bytes are mixed by a folded
/// multiply (the 128-bit product's halves xor-ed) with a multiplier drawn from the seed,
/// so which values collide depends on a seed no client sees (not a cryptographic
/// guarantee: a collision only ever costs a comparison, never a wrong answer).
#[derive(Clone, Copy)]
pub struct StreamHasher {
    state: u64,
    mul: u64,
    /// Bytes not yet mixed (fewer than 8), little-endian.
    pending: u64,
    pending_len: u32,
    /// Bytes written so far.
    len: u64,
}

/// The 128-bit product of `a` and `b`, its halves xor-ed.
#[inline]
fn folded_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

impl StreamHasher {
    /// A hasher for `seed` (two random words; the second's low bit is forced on, so the
    /// multiplier is odd).
    pub fn with_seed(seed: [u64; 2]) -> StreamHasher {
        StreamHasher {
            state: seed[0],
            mul: seed[1] | 1,
            pending: 0,
            pending_len: 0,
            len: 0,
        }
    }

    #[inline]
    fn mix(&mut self, w: u64) {
        self.state = folded_mul(self.state ^ w, self.mul);
    }
}

impl Hasher for StreamHasher {
    #[inline]
    fn write(&mut self, mut bytes: &[u8]) {
        self.len = self.len.wrapping_add(bytes.len() as u64);
        if self.pending_len > 0 {
            // top up the partial word first, byte by byte (at most 7)
            while self.pending_len < 8 {
                let Some((&b, rest)) = bytes.split_first() else {
                    return;
                };
                self.pending |= u64::from(b) << (8 * self.pending_len);
                self.pending_len += 1;
                bytes = rest;
            }
            let w = self.pending;
            self.mix(w);
            (self.pending, self.pending_len) = (0, 0);
        }
        let rest = each_word(bytes, |w| self.mix(w));
        if !rest.is_empty() {
            self.pending = tail_word(rest);
            self.pending_len = rest.len() as u32;
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // the pending bytes (zero-padded), then the length: "ab" and "ab\0" differ
        let s = folded_mul(self.state ^ self.pending, self.mul);
        folded_mul(s ^ self.len, K)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn different_strings_hash_differently() {
        let b = FastBuild::default();
        let h = |s: &str| b.hash_one(s);
        assert_ne!(h("GET /a"), h("GET /b"));
        assert_ne!(h("abcdefgh"), h("abcdefgh\0"));
        assert_eq!(h("same"), h("same"));
    }
}

/// Known-answer tests for the hasher's definition: each word `w` updates the state as
/// `h = (rotl(h, 5) xor w) * K mod 2^64`; a byte tail shorter than 8 is read little-endian,
/// zero-padded, with its length in the top byte. The expected values were computed from
/// that definition outside Rust (Python integers), so a change to the scheme shows here,
/// and the collision tests check what a map needs from it.
#[cfg(test)]
mod definition_tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn tail_words_are_the_zero_padded_bytes() {
        let bytes = [0x11u8, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77];
        for n in 1..8 {
            let mut b = [0u8; 8];
            b[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(tail_word(&bytes[..n]), u64::from_le_bytes(b), "{n} bytes");
        }
    }

    #[test]
    fn known_answers() {
        let mut h = FastHasher::default();
        h.write_u8(1);
        assert_eq!(h.finish(), K);
        h.write_u8(2);
        assert_eq!(h.finish(), 0x6a4b_e67f_f98f_abc8);
        let mut h = FastHasher::default();
        h.write(b"abcdefghij");
        assert_eq!(h.finish(), 0x685d_29f7_6a94_81f9);
        h.write_usize(7);
        assert_eq!(h.finish(), 0x65cf_a728_7a00_6772);
    }

    /// A `str` hashes as its bytes then a 0xFF terminator (`Hasher::write_str`), so a
    /// tuple of strings split at different places, and a tail with a trailing NUL, must
    /// hash differently — otherwise composite keys collide.
    #[test]
    fn splits_and_tail_lengths_do_not_collide() {
        let b = FastBuild::default();
        assert_ne!(b.hash_one(("ab", "c")), b.hash_one(("a", "bc")));
        assert_ne!(b.hash_one("a"), b.hash_one("a\0"));
        assert_ne!(b.hash_one(1usize), b.hash_one(2usize));
    }
}

/// The streaming hasher: its definition pinned by known answers (computed from the
/// definition in Python integers: words mixed as `s = fold((s xor w) * m)`, the pending
/// bytes zero-padded, then the length mixed with `K`), and the properties the variant
/// store relies on.
#[cfg(test)]
mod stream_tests {
    use super::*;

    fn hash(seed: [u64; 2], pieces: &[&[u8]]) -> u64 {
        let mut h = StreamHasher::with_seed(seed);
        for p in pieces {
            h.write(p);
        }
        h.finish()
    }

    #[test]
    fn known_answers() {
        assert_eq!(hash([1, 2], &[]), 0xf476_4525_7566_1fbf);
        assert_eq!(hash([1, 2], &[b"abcdefghij"]), 0xdb0c_748a_e7d0_3c64);
        // an odd second word is the multiplier as it is
        assert_eq!(hash([5, 7], &[b"origin"]), 0xeb26_56e5_bfe1_805f);
        let seed = [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210];
        assert_eq!(
            hash(seed, &[b"https://o1.load.example", &[0xff]]),
            0xa68a_30b9_1bda_6b82
        );
    }

    /// Every way of cutting a text into three pieces hashes as the whole text, whatever
    /// the pieces' lengths relative to the 8-byte words.
    #[test]
    fn pieces_hash_as_their_concatenation() {
        let text = b"origin: https://app1.example.com, accept-encoding: gzip";
        let seed = [7, 11];
        let whole = hash(seed, &[text]);
        for i in 0..=text.len() {
            for j in i..=text.len() {
                let cut = hash(seed, &[&text[..i], &text[i..j], &text[j..]]);
                assert_eq!(cut, whole, "cut at {i} and {j}");
            }
        }
        let mut bytes = StreamHasher::with_seed(seed);
        for &b in text.iter() {
            bytes.write_u8(b);
        }
        assert_eq!(bytes.finish(), whole);
    }

    #[test]
    fn lengths_seeds_and_bytes_all_count() {
        let s = [3, 5];
        assert_ne!(hash(s, &[b"ab"]), hash(s, &[b"ab\0"]));
        assert_ne!(hash(s, &[b""]), hash(s, &[b"\0"]));
        assert_ne!(hash(s, &[b"abcdefgh"]), hash(s, &[b"abcdefgh\0"]));
        assert_ne!(hash(s, &[b"abcdefgh"]), hash(s, &[b"abcdefgi"]));
        assert_ne!(hash([3, 5], &[b"same"]), hash([4, 5], &[b"same"]));
        assert_ne!(hash([3, 5], &[b"same"]), hash([3, 7], &[b"same"]));
    }

    /// 10,000 origins differing in a few digits (the shape a variant store sees) spread
    /// over 1,024 buckets by their low bits with no bucket holding more than four times
    /// its share, and no two share a 64-bit hash.
    #[test]
    fn similar_values_spread() {
        let seed = [0x9e37_79b9_7f4a_7c15, 0xbf58_476d_1ce4_e5b9];
        let mut buckets = vec![0u32; 1024];
        let mut seen = std::collections::HashSet::new();
        for i in 0..10_000 {
            let origin = format!("https://o{i}.example.com");
            let h = hash(seed, &[origin.as_bytes(), &[0xff]]);
            buckets[(h & 1023) as usize] += 1;
            assert!(seen.insert(h), "collision at {i}");
        }
        let most = buckets.iter().copied().max().unwrap_or(0);
        assert!(most <= 40, "a bucket holds {most} of 10,000");
    }
}
