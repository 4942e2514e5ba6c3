//! Field names stored once per process, not once per stored response.
//!
//! Every stored response repeats the same few field names (`content-type`, `vary`, an
//! origin's own `x-…` fields). A stored wire block ([`super::store::Wire`]) refers to a
//! name by a 15-bit code into this table, and the core's copy of the header block
//! borrows the name's `&'static str`, so a custom name costs nothing per entry (it cost
//! ~65 bytes twice: the wire's `HeaderName` and the core's `String`).
//!
//! The table is append-only and bounded: at most [`SLOTS`] names of at most
//! [`MAX_NAME`] bytes are ever interned (their text is leaked, at most ~100 KB), so names
//! an upstream invents without end cannot grow it; past that, a name is stored with the
//! entry as before. A hit reads a slot without a lock (`OnceLock::get`); cloning an
//! interned name copies a pointer (standard names are an enum, custom ones static text),
//! so hits on different entries never touch a shared counter. Interning (on a store)
//! takes a read lock, and the write lock only for a name not seen before.

use crate::fields::Headers;
use http::{HeaderMap, HeaderName};
use std::collections::HashMap;
use std::sync::{OnceLock, PoisonError, RwLock};

/// How many names the table holds at most.
pub const SLOTS: usize = 1024;

/// Names longer than this are not interned.
pub const MAX_NAME: usize = 96;

/// Slot `i` holds the `i`-th interned name; filled once, never changed.
static TABLE: [OnceLock<(HeaderName, &'static str)>; SLOTS] = [const { OnceLock::new() }; SLOTS];

/// Text → slot, for interning.
fn index() -> &'static RwLock<HashMap<&'static str, u16, foldhash::fast::RandomState>> {
    static INDEX: OnceLock<RwLock<HashMap<&'static str, u16, foldhash::fast::RandomState>>> =
        OnceLock::new();
    INDEX.get_or_init(Default::default)
}

/// The code of `name`, interning it if there is room; `None` when the table is full or
/// the name is too long (the caller stores the name itself).
pub fn code(name: &HeaderName) -> Option<u16> {
    let text = name.as_str();
    if text.len() > MAX_NAME {
        return None;
    }
    if let Some(&c) = index()
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(text)
    {
        return Some(c);
    }
    let mut ix = index().write().unwrap_or_else(PoisonError::into_inner);
    if let Some(&c) = ix.get(text) {
        return Some(c);
    }
    let c = ix.len();
    if c >= SLOTS || !valid_static(text) {
        return None;
    }
    let leaked: &'static str = Box::leak(Box::from(text));
    // cannot panic: `valid_static` checked what `from_static` requires
    let interned = HeaderName::from_static(leaked);
    TABLE[c].set((interned, leaked)).ok()?;
    let c = u16::try_from(c).ok()?;
    ix.insert(leaked, c);
    Some(c)
}

/// What [`HeaderName::from_static`] accepts without panicking: a non-empty name of
/// lowercase token characters (a `HeaderName`'s own text always is; checked anyway).
fn valid_static(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
        })
        && HeaderName::from_bytes(text.as_bytes()).is_ok()
}

/// The name with code `c` (`None` for a code never handed out).
pub fn name(c: u16) -> Option<&'static HeaderName> {
    TABLE.get(usize::from(c))?.get().map(|(n, _)| n)
}

/// The static text of `name` if it is interned (or can be), for the core's header block.
pub fn text(name: &HeaderName) -> Option<&'static str> {
    let c = code(name)?;
    TABLE.get(usize::from(c))?.get().map(|(_, t)| *t)
}

/// Whether `text` is an interned name (the core's copy of a stored block borrows it).
pub fn is_interned(text: &str) -> bool {
    index()
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .contains_key(text)
}

/// The core's view of an upstream header block, as `convert::headers_lossy` makes it
/// (every field, in order, values read lossily as UTF-8), but with interned names
/// borrowed rather than copied per field.
pub fn core_headers(h: &HeaderMap) -> Headers {
    let mut out = Headers::new();
    out.reserve(h.len());
    for (n, v) in h {
        let value = String::from_utf8_lossy(v.as_bytes());
        match text(n) {
            Some(t) => out.append_known(t, value.into_owned()),
            None => out.append(n.as_str(), &value),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_interned_once_and_given_back() {
        let n = HeaderName::from_static("x-names-test-one");
        let c = code(&n).unwrap();
        assert_eq!(
            code(&HeaderName::from_bytes(b"X-Names-Test-One").unwrap()),
            Some(c)
        );
        assert_eq!(name(c), Some(&n));
        assert_eq!(text(&n), Some("x-names-test-one"));
        let std = code(&http::header::CONTENT_TYPE).unwrap();
        assert_eq!(name(std), Some(&http::header::CONTENT_TYPE));
        let long = HeaderName::from_bytes(&[b'x'; MAX_NAME + 1]).unwrap();
        assert_eq!(code(&long), None);
        assert_eq!(name(u16::MAX), None);
    }

    /// The same fields, values and order as `convert::headers_lossy`.
    #[test]
    fn core_headers_are_the_lossy_conversion() {
        let mut h = HeaderMap::new();
        h.append("x-names-test-two", http::HeaderValue::from_static("a"));
        h.append(http::header::VARY, http::HeaderValue::from_static("Origin"));
        h.append(
            "x-names-test-two",
            http::HeaderValue::from_bytes(b"\xe9t\xe9").unwrap(),
        );
        h.append(
            http::HeaderName::from_bytes(&[b'y'; MAX_NAME + 4]).unwrap(),
            http::HeaderValue::from_static("z"),
        );
        let got = core_headers(&h);
        assert_eq!(got, crate::net::convert::headers_lossy(&h));
        assert!(is_interned("x-names-test-two"));
    }
}
