//! Field names stored once per process, not once per stored response.
//!
//! Every stored response repeats the same few field names (`content-type`, `vary`, an
//! origin's own `x-…` fields). A stored wire block ([`super::store::Wire`]) refers to a
//! name by a 13-bit code into this table, and the core's copy of the header block
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
//!
//! Field values that repeat from response to response (`Cache-Control: public,
//! max-age=600`, `Vary: Origin`, a content type) are interned the same way, in a second
//! bounded table ([`VALUE_SLOTS`] values of at most [`MAX_VALUE`] visible ASCII bytes),
//! but only once a value has been seen in two responses (a fingerprint per value in a
//! fixed array of recent ones), so values that never repeat (serial numbers, request ids)
//! do not fill it; fields whose values change with every response or second (`Date`,
//! `Expires`, `Last-Modified`, `Age`, `ETag`) and `Set-Cookie` are never interned. An
//! interned value costs neither the core's copy nor the wire block's text, and a hit
//! clones it without touching a counter. At most ~256 KB of value text is leaked; the
//! two slot tables are static (~300 KB of address space, touched as they fill).

use crate::fields::Headers;
use http::{header, HeaderMap, HeaderName, HeaderValue};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
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
    name_text(code(name)?)
}

/// How many field values the value table holds at most.
pub const VALUE_SLOTS: usize = 4096;

/// Values longer than this are not interned.
pub const MAX_VALUE: usize = 64;

/// Slot `i` holds the `i`-th interned value; filled once, never changed.
static VALUES: [OnceLock<(HeaderValue, &'static str)>; VALUE_SLOTS] =
    [const { OnceLock::new() }; VALUE_SLOTS];

/// Fingerprints of recently seen values, one per slot (a value is interned when its
/// fingerprint is found here: seen in an earlier response).
static SEEN: [AtomicU64; VALUE_SLOTS] = [const { AtomicU64::new(0) }; VALUE_SLOTS];

type ValueIndex = RwLock<HashMap<&'static str, u16, foldhash::fast::RandomState>>;

fn value_index() -> &'static ValueIndex {
    static INDEX: OnceLock<ValueIndex> = OnceLock::new();
    INDEX.get_or_init(Default::default)
}

/// The fingerprint hasher, seeded per process.
fn seen_hasher() -> &'static foldhash::fast::RandomState {
    static SEED: OnceLock<foldhash::fast::RandomState> = OnceLock::new();
    SEED.get_or_init(Default::default)
}

/// Fields whose values are not interned: they change with every response or every
/// second, or are private.
fn volatile(name: &HeaderName) -> bool {
    [
        header::DATE,
        header::EXPIRES,
        header::LAST_MODIFIED,
        header::AGE,
        header::ETAG,
        header::SET_COOKIE,
    ]
    .contains(name)
}

/// The code of value `v` of field `name` if it is interned; with `admit`, interns it
/// when it was seen in an earlier response and there is room.
pub fn value_code(name: &HeaderName, v: &HeaderValue, admit: bool) -> Option<u16> {
    let bytes = v.as_bytes();
    if bytes.len() > MAX_VALUE || v.is_sensitive() || volatile(name) {
        return None;
    }
    // visible ASCII, SP and HTAB: what `HeaderValue::from_static` takes without panicking
    if !bytes
        .iter()
        .all(|&b| (b' '..=b'~').contains(&b) || b == b'\t')
    {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if let Some(&c) = value_index()
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(text)
    {
        return Some(c);
    }
    if !admit {
        return None;
    }
    let h = seen_hasher().hash_one(text) | 1;
    let slot = SEEN.get(h as usize % VALUE_SLOTS)?;
    if slot.swap(h, Ordering::Relaxed) != h {
        return None;
    }
    let mut ix = value_index()
        .write()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(&c) = ix.get(text) {
        return Some(c);
    }
    let c = ix.len();
    if c >= VALUE_SLOTS {
        return None;
    }
    let leaked: &'static str = Box::leak(Box::from(text));
    // cannot panic: every byte is visible ASCII, SP or HTAB (checked above)
    let interned = HeaderValue::from_static(leaked);
    VALUES.get(c)?.set((interned, leaked)).ok()?;
    let c = u16::try_from(c).ok()?;
    ix.insert(leaked, c);
    Some(c)
}

/// The value with code `c` (`None` for a code never handed out).
pub fn value(c: u16) -> Option<&'static HeaderValue> {
    VALUES.get(usize::from(c))?.get().map(|(v, _)| v)
}

/// The text of the value with code `c`.
fn value_text(c: u16) -> Option<&'static str> {
    VALUES.get(usize::from(c))?.get().map(|(_, t)| *t)
}

/// Whether `table` (the name index or the value index) holds `text`.
#[cfg(test)]
fn interned(table: &ValueIndex, text: &str) -> bool {
    table
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .contains_key(text)
}

/// The codes a stored header block records for one field: its name's, and its value's
/// when the value is interned (only with an interned name).
pub type Codes = (Option<u16>, Option<u16>);

/// The core's view of an upstream header block, as `convert::headers_lossy` makes it
/// (every field, in order, values read lossily as UTF-8), but with interned names and
/// values borrowed rather than copied per field (this is where values are admitted to
/// the value table).
pub fn core_headers(h: &HeaderMap) -> Headers {
    core_headers_with(h, |_| {})
}

/// [`core_headers`], and each field's [`Codes`] pushed on `codes` (cleared first), for
/// the stored block ([`super::store::Head::coded`]): a stored response's names and
/// values are looked up once, not once for the core and again for the wire.
pub fn core_headers_coded(h: &HeaderMap, codes: &mut Vec<Codes>) -> Headers {
    codes.clear();
    codes.reserve(h.len());
    core_headers_with(h, |c| codes.push(c))
}

fn core_headers_with(h: &HeaderMap, mut each: impl FnMut(Codes)) -> Headers {
    let mut out = Headers::new();
    out.reserve(h.len());
    for (n, v) in h {
        let Some((c, t)) = code(n).and_then(|c| Some((c, name_text(c)?))) else {
            each((None, None));
            out.append(n.as_str(), &String::from_utf8_lossy(v.as_bytes()));
            continue;
        };
        let vc = value_code(n, v, true);
        each((Some(c), vc));
        match vc.and_then(value_text) {
            Some(interned) => out.append_static(t, interned),
            None => out.append_known(t, String::from_utf8_lossy(v.as_bytes()).into_owned()),
        }
    }
    out
}

/// The static text of the name with code `c`.
fn name_text(c: u16) -> Option<&'static str> {
    TABLE.get(usize::from(c))?.get().map(|(_, t)| *t)
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
        assert!(interned(index(), "x-names-test-two"));
    }

    /// A value is interned once seen in two responses, never for a volatile field, and
    /// the core and the wire then share it.
    #[test]
    fn repeated_values_are_interned() {
        let cc = HeaderValue::from_static("public, max-age=7171");
        assert_eq!(value_code(&header::CACHE_CONTROL, &cc, false), None);
        assert_eq!(
            value_code(&header::CACHE_CONTROL, &cc, true),
            None,
            "first sighting"
        );
        let c = value_code(&header::CACHE_CONTROL, &cc, true).unwrap();
        assert_eq!(value_code(&header::VARY, &cc, false), Some(c));
        assert_eq!(value(c), Some(&cc));
        assert!(interned(value_index(), "public, max-age=7171"));
        let date = HeaderValue::from_static("Sun, 29 Nov 2026 20:00:00 GMT");
        for _ in 0..3 {
            assert_eq!(value_code(&header::DATE, &date, true), None);
        }
        let odd = HeaderValue::from_bytes(b"caf\xe9").unwrap();
        for _ in 0..3 {
            assert_eq!(value_code(&header::CONTENT_TYPE, &odd, true), None);
        }
        let mut h = HeaderMap::new();
        h.append(header::CACHE_CONTROL, cc.clone());
        assert_eq!(core_headers(&h), crate::net::convert::headers_lossy(&h));
    }
}
