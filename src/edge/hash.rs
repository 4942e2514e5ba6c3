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
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
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
