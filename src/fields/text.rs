//! [`Text`]: a field name or value in 16 bytes, static text or an owned buffer.
//!
//! `Cow<'static, str>` takes 24 bytes (its tag beside a `String`'s pointer, capacity and
//! length), so a field line took 48; this type keeps the pointer and two 32-bit counts,
//! and a line takes 32. A stored response's list of seven fields takes 224 bytes where it
//! took 384 (mimalloc's class for 336; `benches/load/README.md`, session 16), and copying
//! a request's fields copies a third less.

use serde::Serialize;
use std::ptr::NonNull;

/// Static text (`cap == 0`) or an owned UTF-8 buffer of `cap` bytes, `len` of them used.
///
/// Invariants: `ptr` and `len` make a valid `&str`; with `cap > 0`, `ptr`, `len`, `cap`
/// are the parts of a `String` this value owns (allocated by `String`, `len <= cap`).
pub struct Text {
    ptr: NonNull<u8>,
    len: u32,
    cap: u32,
}

// SAFETY: a `Text` is a `&'static str` or an owned `String`, both `Send` and `Sync`; its
// owned buffer is reachable only through it (no shared mutable state).
unsafe impl Send for Text {}
// SAFETY: as above: `&Text` gives out only `&str`.
unsafe impl Sync for Text {}

impl Text {
    /// Borrowed static text (no allocation).
    #[inline]
    pub fn from_static(s: &'static str) -> Text {
        if over_32_bits(s.len()) {
            return Text::from_static(&s[..fitting(s, u32::MAX as usize)]);
        }
        // SAFETY: a `&str`'s pointer is never null
        let ptr = unsafe { NonNull::new_unchecked(s.as_ptr().cast_mut()) };
        Text {
            ptr,
            // checked above
            len: s.len() as u32,
            cap: 0,
        }
    }

    /// Takes `s`'s buffer (no copy). An empty string is the static empty text (its
    /// buffer, if any, is freed).
    #[inline]
    pub fn owned(s: String) -> Text {
        if s.is_empty() || over_32_bits(s.capacity()) {
            return Text::owned_rare(s);
        }
        let mut s = std::mem::ManuallyDrop::new(s);
        // `len <= capacity <= u32::MAX`, checked above
        let (len, cap) = (s.len() as u32, s.capacity() as u32);
        // SAFETY: a `String`'s pointer is never null; its capacity is above 0 (it is
        // not empty)
        let ptr = unsafe { NonNull::new_unchecked(s.as_mut_ptr()) };
        Text { ptr, len, cap }
    }

    /// [`Self::owned`] of an empty string, or of a buffer of 4 GiB or more (cut, see
    /// [`fitting`], and copied to an exact size).
    #[cold]
    fn owned_rare(mut s: String) -> Text {
        if s.is_empty() {
            return Text::from_static("");
        }
        s.truncate(fitting(&s, u32::MAX as usize));
        Text::owned(s.as_str().to_owned())
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        // SAFETY: `ptr`/`len` are a valid `&str` (the type's invariant), borrowed for
        // `self`'s lifetime (static text outlives it; an owned buffer lives as long)
        unsafe {
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(
                self.ptr.as_ptr(),
                self.len as usize,
            ))
        }
    }

    /// Whether it owns its buffer (not static text).
    #[inline]
    pub fn is_owned(&self) -> bool {
        self.cap > 0
    }

    /// Bytes of its owned buffer (0 for static text).
    #[inline]
    pub fn capacity(&self) -> usize {
        self.cap as usize
    }

    /// Becomes `s`, written into its own buffer when it owns one large enough (no
    /// allocation), else into a new one.
    #[inline]
    pub fn set(&mut self, s: &str) {
        if self.is_owned() && s.len() <= self.cap as usize {
            // SAFETY: the buffer is this value's own, `cap` bytes long, and `s` fits; `s`
            // cannot be inside it (`&mut self` excludes any borrow of this text); after
            // the copy the first `s.len()` bytes are `s`, valid UTF-8
            unsafe {
                std::ptr::copy_nonoverlapping(s.as_ptr(), self.ptr.as_ptr(), s.len());
            }
            // `s.len() <= cap`, a `u32`
            self.len = s.len() as u32;
        } else {
            *self = Text::owned(s.to_string());
        }
    }
}

/// Whether a length or capacity does not fit [`Text`]'s 32-bit counts.
#[inline]
fn over_32_bits(n: usize) -> bool {
    n > u32::MAX as usize
}

/// How much of `s` a [`Text`] keeps, `max` being `u32::MAX`: all of it up to `max`
/// bytes; else its longest prefix up to `max` that ends on a character boundary. No
/// field line is 4 GiB long (the parsers refuse far shorter ones), but the type must stay
/// sound if one were.
fn fitting(s: &str, max: usize) -> usize {
    let mut n = s.len().min(max);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    n
}

impl Drop for Text {
    #[inline]
    fn drop(&mut self) {
        if self.is_owned() {
            // SAFETY: with `cap > 0` these are the parts of the `String` this value owns
            // (the invariant), dropped once, here
            drop(unsafe {
                String::from_raw_parts(self.ptr.as_ptr(), self.len as usize, self.cap as usize)
            });
        }
    }
}

impl Clone for Text {
    #[inline]
    fn clone(&self) -> Text {
        if self.is_owned() {
            Text::owned(self.as_str().to_string())
        } else {
            Text { ..*self }
        }
    }

    /// An owned text large enough takes `source`'s bytes in its own buffer (as
    /// `String::clone_from` does); otherwise a clone.
    fn clone_from(&mut self, source: &Text) {
        if source.is_owned() {
            self.set(source.as_str());
        } else {
            *self = Text { ..*source };
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for Text {
    fn from(s: &'static str) -> Text {
        Text::from_static(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::owned(s)
    }
}

impl From<std::borrow::Cow<'static, str>> for Text {
    fn from(s: std::borrow::Cow<'static, str>) -> Text {
        match s {
            std::borrow::Cow::Borrowed(b) => Text::from_static(b),
            std::borrow::Cow::Owned(o) => Text::owned(o),
        }
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        // as `str` orders
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // as `str` hashes (and `Cow<str>` did)
        self.as_str().hash(h);
    }
}

impl Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bytes_and_a_niche() {
        assert_eq!(std::mem::size_of::<Text>(), 16);
        assert_eq!(std::mem::size_of::<Option<Text>>(), 16);
        assert_eq!(std::mem::size_of::<(Text, Text)>(), 32);
    }

    #[test]
    fn static_text_owns_nothing_and_owned_text_keeps_its_buffer() {
        let s = Text::from("vary");
        assert!(!s.is_owned());
        assert_eq!((s.as_str(), s.capacity()), ("vary", 0));
        let mut buf = String::with_capacity(40);
        buf.push_str("https://a.example");
        let at = buf.as_ptr();
        let o = Text::from(buf);
        assert!(o.is_owned());
        assert_eq!((o.as_str(), o.capacity()), ("https://a.example", 40));
        assert_eq!(o.as_ptr(), at, "the String's buffer is taken, not copied");
        assert!(!Text::from(String::new()).is_owned());
        // an empty string's buffer is freed, not kept
        let empty = Text::from(String::with_capacity(16));
        assert!(!empty.is_owned() && empty.capacity() == 0);
        assert_eq!(Text::from(String::new()).as_str(), "");
    }

    #[test]
    fn set_writes_in_place_when_it_fits_and_reallocates_when_not() {
        let mut t = Text::owned(String::from("https://a.example"));
        let at = t.as_ptr();
        t.set("https://b.ex");
        assert_eq!(t.as_str(), "https://b.ex");
        assert_eq!(t.as_ptr(), at);
        t.set("");
        assert_eq!((t.as_str(), t.as_ptr()), ("", at));
        t.set("https://a-much-longer-origin.example");
        assert_eq!(t.as_str(), "https://a-much-longer-origin.example");
        assert!(t.capacity() >= t.len());
        let mut s = Text::from("static");
        s.set("now owned é");
        assert!(s.is_owned());
        assert_eq!(s.as_str(), "now owned é");
    }

    #[test]
    fn clones_are_equal_and_independent() {
        let o = Text::owned("é-value".to_string());
        let c = o.clone();
        assert_eq!(c, o);
        assert_ne!(c.as_ptr(), o.as_ptr());
        drop(o);
        assert_eq!(c.as_str(), "é-value");
        let s = Text::from("origin");
        assert_eq!(s.clone().as_ptr(), s.as_ptr(), "static text is not copied");
        // clone_from: into an owned buffer that fits, into one that does not, from static
        let mut into = Text::owned("0123456789".to_string());
        let at = into.as_ptr();
        into.clone_from(&c);
        assert_eq!((into.as_str(), into.as_ptr()), ("é-value", at));
        into.clone_from(&Text::owned("a value longer than ten".to_string()));
        assert_eq!(into.as_str(), "a value longer than ten");
        into.clone_from(&s);
        assert!(!into.is_owned());
        assert_eq!(into.as_ptr(), s.as_ptr());
        let mut from_static = Text::from("x");
        from_static.clone_from(&c);
        assert_eq!(from_static.as_str(), "é-value");
    }

    #[test]
    fn compares_hashes_and_prints_as_its_text() {
        use std::hash::{BuildHasher, Hash, Hasher};
        let a = Text::from("max-age=60");
        let b = Text::owned("max-age=60".to_string());
        assert_eq!(a, b);
        assert_ne!(a, Text::from("max-age=61"));
        assert_ne!(b, Text::owned("max-age=6".to_string()));
        assert!(a == "max-age=60" && a != "max-age=6");
        assert!(a == *"max-age=60" && a != *"no-store");
        let (age, date) = (Text::from("age"), Text::owned("date".to_string()));
        assert_eq!(age.cmp(&date), std::cmp::Ordering::Less);
        assert!(date > age);
        assert_eq!(format!("[{:>5}]", Text::from("ab")), "[   ab]");
        let state = std::collections::hash_map::RandomState::new();
        let hash = |x: &dyn Fn(&mut std::collections::hash_map::DefaultHasher)| {
            let mut h = state.build_hasher();
            x(&mut h);
            h.finish()
        };
        assert_eq!(hash(&|h| a.hash(h)), hash(&|h| "max-age=60".hash(h)));
        assert_eq!(hash(&|h| b.hash(h)), hash(&|h| "max-age=60".hash(h)));
        assert_eq!(format!("{a:?}"), format!("{:?}", "max-age=60"));
        assert_eq!(
            serde_json::to_string(&b).ok().as_deref(),
            Some("\"max-age=60\"")
        );
    }

    #[test]
    fn text_too_long_for_32_bits_is_cut_on_a_character_boundary() {
        assert!(!over_32_bits(u32::MAX as usize));
        assert!(over_32_bits(u32::MAX as usize + 1));
        assert_eq!(fitting("abc", 8), 3);
        assert_eq!(fitting("abcdef", 4), 4);
        // "é" is two bytes: a cut inside it moves back before it
        assert_eq!(fitting("abé", 3), 2);
        assert_eq!(fitting("éé", 3), 2);
        assert_eq!(fitting("é", 1), 0);
    }

    #[test]
    fn cow_converts_without_copying() {
        let s = String::from("owned");
        let at = s.as_ptr();
        let t = Text::from(std::borrow::Cow::<'static, str>::Owned(s));
        assert_eq!((t.as_str(), t.as_ptr(), t.is_owned()), ("owned", at, true));
        let b = Text::from(std::borrow::Cow::Borrowed("static"));
        assert!(!b.is_owned());
    }
}
