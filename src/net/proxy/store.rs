//! The proxy's store: a sharded LRU map ([`super::lru`]) of primary key to `Arc<Entry>`,
//! where an [`Entry`] is
//! the core's [`VariantSet`] plus, per variant, what the wire needs to serve it again
//! (a ready header block and the body as shared [`Bytes`]) and who stored it, in one
//! [`Wire`].
//!
//! Text is kept once per entry where the core already holds it: the primary key is a
//! prefix of a variant's full key ([`Key`]), the entry's target and the author's
//! `METHOD target` are the tail of the variant's URL, and field names and repeated field
//! values are interned process-wide ([`super::names`]).
//!
//! The map is sharded: a hit locks one shard for a probe, an `Arc` clone and an LRU
//! bump. Updates are copy-on-write under the key's shard lock ([`Lru::compute`]: copy
//! the set, insert with the core's [`VariantSet::insert`], put it back); variants and
//! their wire forms are shared (`Arc`), so the copy is a vector of pointers, not the
//! variants. The weigher ([`super::weigh`]) counts the bytes each entry holds, so the
//! capacity bounds them.

use super::lru::{Lru, Op, Removed};
use super::metrics::{inc, Metrics};
use super::names;
use crate::edge::{self, Decision, ForwardPlan, Serve, Tag, Variant, VariantSet};
use crate::message::Request;
use crate::profile::Knobs;
use crate::time::Timestamp;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use std::borrow::Cow;
use std::sync::Arc;

/// One stored response as the wire sends it, and who stored it.
///
/// One `Arc` block of at most 112 bytes (mimalloc's 128-byte class with the counters)
/// plus one buffer: the header block's records and texts, then a small body
/// ([`INLINE_BODY`]), the author's `Origin` and an extension method's name, so none of
/// those is an allocation of its own. The author is kept in fields of this struct, not
/// as a [`StoredBy`] (whose method and `Origin` took 40 bytes inline and a block for the
/// `Origin`): [`Wire::by`] rebuilds one for the rare reader (warnings, the admin listing).
#[derive(Debug)]
pub struct Wire {
    /// [`Head::block`]'s records and texts, then `body_len` bytes of body, then
    /// `origin_len` bytes of `Origin`, then an extension method's name.
    block: Bytes,
    /// The body when it is not in `block` (over [`INLINE_BODY`] bytes: the core's own
    /// copy, shared); empty otherwise.
    body: Bytes,
    /// The author's URL (`scheme://host` + target; the variant's when it was stored).
    url: Arc<str>,
    /// The author's request number.
    ///
    /// (The full key `Cache-Status` names is the core's: [`Variant::key`], or
    /// [`edge::Served::key`] on a hit.)
    tag: Tag,
    /// Where the header block's texts end in `block` (and an inline body starts).
    tail: u32,
    /// Bytes of body in `block` (0: the body is `body`).
    body_len: u32,
    /// Bytes of the author's `Origin` in `block`, [`NO_ORIGIN`] when it sent none.
    origin_len: u32,
    /// Where the author's target starts in `url`.
    target_at: u32,
    /// Status.
    status: http::StatusCode,
    /// How many fields the header block holds.
    fields: u16,
    /// The author's method: its position in [`METHODS`], or [`EXTENSION`] (its name is
    /// the end of `block`).
    method: u8,
    /// Whether the header block has a `Set-Cookie`.
    set_cookie: bool,
    /// Whether the author sent credentials (Cookie or Authorization).
    credentials: bool,
}

/// Bodies up to this size are copied into the wire's buffer: a separate body costs a
/// 24-byte block (`bytes`' owner of the core's `Arc<[u8]>`), so a copy this small costs
/// about what it saves at most.
pub const INLINE_BODY: usize = 24;

/// [`Wire::origin_len`] of an author without `Origin` (distinct from an empty one).
const NO_ORIGIN: u32 = u32::MAX;

/// The standard methods, coded as their position.
const METHODS: [http::Method; 9] = [
    http::Method::GET,
    http::Method::HEAD,
    http::Method::POST,
    http::Method::PUT,
    http::Method::DELETE,
    http::Method::OPTIONS,
    http::Method::PATCH,
    http::Method::TRACE,
    http::Method::CONNECT,
];

/// [`Wire::method`] for a method not in [`METHODS`].
const EXTENSION: u8 = u8::MAX;

/// A stored response's status and header block, made when its head arrives (before its
/// body, and before the proxy adds its own fields to what it relays).
#[derive(Debug)]
pub struct Head {
    /// Status.
    status: http::StatusCode,
    /// Whether the block has a `Set-Cookie`.
    set_cookie: bool,
    /// How many fields `block` holds.
    fields: u16,
    /// The upstream's header block, hop-by-hop fields removed, in order, in one buffer:
    /// a record per field (see [`Head::coded`]), then each field's (uninterned) name and
    /// value. A hit builds its `http::HeaderMap` from it ([`Wire::header_map`]): names
    /// from [`super::names`], values as slices of this buffer. A `(HeaderName,
    /// HeaderValue)` per field cost 72 bytes before the text; a stored `HeaderMap` ~2 KB
    /// for 7 fields.
    block: Bytes,
}

/// Bytes per field record in [`Head::block`]: the name code (bits 0–12, and the two
/// flags below) and a second `u16`, little-endian: the code of an interned value, the
/// length of a text value (its text follows the previous field's), or [`LONG`]; for an
/// inline name, the name's length, and the value's length is a `u32` between the name
/// and the value. (Records of 8 bytes, with the value's end as a `u32`, cost 28 bytes
/// more for a 7-field block: that block's buffer went from mimalloc's 128-byte class to
/// the 96-byte one.)
const RECORD: usize = 4;

/// The second `u16` of a text value of 65,535 bytes or more: its length is a `u32` in
/// the block, before its text.
const LONG: u16 = u16::MAX;

/// The name code of a field whose name is stored in the block (the table was full).
const INLINE: u16 = 0x1fff;

/// Bit 15 of a record's code: the value is sensitive.
const SENSITIVE: u16 = 0x8000;

/// Bit 13 of a record's code: the value is interned ([`super::names::value`]); the
/// second `u16` is its code and the block holds no text for it.
const VALUE: u16 = 0x2000;

/// The flags of a record's code.
const FLAGS: u16 = SENSITIVE | VALUE;

// every interned name's code fits below the flags and `INLINE`
const _: () = assert!(super::names::SLOTS < INLINE as usize);

impl Head {
    /// The stored form of status `status` and header block `h` (names interned, values
    /// copied once, into one buffer). `None` for a block too large for its record format
    /// (over 65,535 fields or 4 GiB: never, under hyper's head limits).
    pub fn new(status: http::StatusCode, h: &HeaderMap) -> Option<Head> {
        let codes: Vec<names::Codes> = h
            .iter()
            .map(|(n, v)| {
                let c = names::code(n);
                // interned values only with an interned name (the second `u16` holds one
                // or the other); the core's copy admitted them (`names::core_headers`)
                (c, c.and_then(|_| names::value_code(n, v, false)))
            })
            .collect();
        Head::coded(status, h, &codes)
    }

    /// [`Head::new`] with each field's codes known already (`codes[i]` for the `i`-th
    /// field of `h`, as [`names::core_headers_coded`] gives them).
    pub fn coded(status: http::StatusCode, h: &HeaderMap, codes: &[names::Codes]) -> Option<Head> {
        let n = h.len();
        if codes.len() != n {
            return Head::new(status, h);
        }
        let fields = u16::try_from(n).ok()?;
        let text: usize = h
            .iter()
            .zip(codes)
            .map(|((name, v), codes)| match *codes {
                (Some(_), Some(_)) => 0,
                (Some(_), None) if v.len() < usize::from(LONG) => v.len(),
                (Some(_), None) => 4 + v.len(),
                (None, _) => name.as_str().len() + 4 + v.len(),
            })
            .sum();
        let mut b = Vec::with_capacity(n * RECORD + text);
        b.resize(n * RECORD, 0);
        for (i, ((name, v), codes)) in h.iter().zip(codes).enumerate() {
            let long = || u32::try_from(v.len()).ok().map(u32::to_le_bytes);
            let (code, second) = match *codes {
                (Some(c), Some(vc)) => (c | VALUE, vc),
                (Some(c), None) => {
                    let second = match u16::try_from(v.len()) {
                        Ok(len) if len != LONG => len,
                        _ => {
                            b.extend_from_slice(&long()?);
                            LONG
                        }
                    };
                    b.extend_from_slice(v.as_bytes());
                    (c, second)
                }
                (None, _) => {
                    let second = u16::try_from(name.as_str().len()).ok()?;
                    b.extend_from_slice(name.as_str().as_bytes());
                    b.extend_from_slice(&long()?);
                    b.extend_from_slice(v.as_bytes());
                    (INLINE, second)
                }
            };
            let code = if v.is_sensitive() {
                code | SENSITIVE
            } else {
                code
            };
            let r = b.get_mut(i * RECORD..(i + 1) * RECORD)?;
            r[0..2].copy_from_slice(&code.to_le_bytes());
            r[2..4].copy_from_slice(&second.to_le_bytes());
        }
        // offsets into the block are `u32`s (`Wire`'s)
        u32::try_from(b.len()).ok()?;
        Some(Head {
            status,
            set_cookie: h.contains_key(http::header::SET_COOKIE),
            fields,
            block: Bytes::from(b),
        })
    }

    /// The same head without its `Set-Cookie` fields (a profile that strips them from
    /// what it stores); itself when it has none.
    pub fn without_set_cookie(self) -> Option<Head> {
        if !self.set_cookie {
            return Some(self);
        }
        let mut h = self.header_map(0);
        h.remove(http::header::SET_COOKIE);
        Head::new(self.status, &h)
    }

    /// The header block as a map with room for `extra` more fields.
    fn header_map(&self, extra: usize) -> HeaderMap {
        header_map(&self.block, self.fields, extra)
    }
}

/// The header block of `fields` fields at the start of `block` as a map with room for
/// `extra` more fields.
fn header_map(block: &Bytes, fields: u16, extra: usize) -> HeaderMap {
    let n = usize::from(fields);
    let mut h = HeaderMap::with_capacity(n + extra);
    let Some((records, _)) = block.split_at_checked(n * RECORD) else {
        return h;
    };
    let mut at = records.len();
    for r in records.chunks_exact(RECORD) {
        if let Some((name, v)) = field(block, r, &mut at) {
            h.append(name, v);
        }
    }
    h
}

/// The field of record `r`, whose name and text start at `at` in `block` (moved past
/// them). Every part was a valid name and value when stored: this is never `None`, but a
/// field that were would be left out, never a panic.
#[inline]
fn field(block: &Bytes, r: &[u8], at: &mut usize) -> Option<(HeaderName, HeaderValue)> {
    let code = u16::from_le_bytes([*r.first()?, *r.get(1)?]);
    let second = u16::from_le_bytes([*r.get(2)?, *r.get(3)?]);
    if code & VALUE != 0 {
        let name = names::name(code & !FLAGS)?;
        return Some((name.clone(), names::value(second)?.clone()));
    }
    let inline = code & !FLAGS == INLINE;
    let mut start = *at;
    let name = if inline {
        let end = start + usize::from(second);
        let name = HeaderName::from_bytes(block.get(start..end)?).ok()?;
        start = end;
        name
    } else {
        names::name(code & !FLAGS)?.clone()
    };
    let len = if inline || second == LONG {
        let l = block.get(start..start + 4)?;
        start += 4;
        u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize
    } else {
        usize::from(second)
    };
    let end = start + len;
    *at = end;
    if end > block.len() {
        return None;
    }
    let bytes = block.slice(start..end);
    // checked again on every hit (~500 instructions): the bytes are a valid value's
    // own, but a value made without the check would rest on this block's offsets
    let mut v = HeaderValue::from_maybe_shared(bytes).ok()?;
    if code & SENSITIVE != 0 {
        v.set_sensitive(true);
    }
    Some((name, v))
}

/// `Arc<[u8]>` as a [`Bytes`] owner, so a stored body is held once.
struct ArcBytes(Arc<[u8]>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Wire {
    /// The wire form of a response with header block `h` and body `body` stored by `by`
    /// (see [`Head::new`] and [`Wire::from_head`]; `None` when its record format cannot
    /// hold the block).
    pub fn new(
        status: http::StatusCode,
        h: &HeaderMap,
        body: &Arc<[u8]>,
        by: StoredBy,
    ) -> Option<Wire> {
        Wire::from_head(Head::new(status, h)?, body, by)
    }

    /// The wire form of a response whose head was made already, with the core's body
    /// `body` (shared, or copied into the buffer when it is at most [`INLINE_BODY`]
    /// bytes). `None` when the buffer would pass 4 GiB (never, under hyper's head limits).
    pub fn from_head(head: Head, body: &Arc<[u8]>, by: StoredBy) -> Option<Wire> {
        let StoredBy {
            tag,
            method,
            url,
            target_at,
            origin,
            credentials,
        } = by;
        let code = METHODS
            .iter()
            .position(|m| *m == method)
            .and_then(|i| u8::try_from(i).ok())
            .unwrap_or(EXTENSION);
        let ext = if code == EXTENSION {
            method.as_str().as_bytes()
        } else {
            b""
        };
        let inline: &[u8] = if body.len() <= INLINE_BODY {
            &body[..]
        } else {
            b""
        };
        let origin_text = origin.as_deref().map_or(&b""[..], str::as_bytes);
        let origin_len = match &origin {
            None => NO_ORIGIN,
            Some(o) => u32::try_from(o.len()).ok().filter(|&n| n != NO_ORIGIN)?,
        };
        let tail = u32::try_from(head.block.len()).ok()?;
        let extra = inline.len() + origin_text.len() + ext.len();
        let block = if extra == 0 {
            head.block
        } else {
            // one exact buffer (a `Bytes` of a full `Vec` shares it without a second block
            // until a hit slices it, as before)
            let mut b = Vec::with_capacity(head.block.len() + extra);
            b.extend_from_slice(&head.block);
            b.extend_from_slice(inline);
            b.extend_from_slice(origin_text);
            b.extend_from_slice(ext);
            u32::try_from(b.len()).ok()?;
            Bytes::from(b.into_boxed_slice())
        };
        let separate = body.len() > INLINE_BODY;
        Some(Wire {
            block,
            body: if separate {
                Bytes::from_owner(ArcBytes(body.clone()))
            } else {
                Bytes::new()
            },
            url,
            tag,
            tail,
            body_len: if separate { 0 } else { inline.len() as u32 },
            origin_len,
            target_at,
            status: head.status,
            fields: head.fields,
            method: code,
            set_cookie: head.set_cookie,
            credentials,
        })
    }

    /// Status.
    pub fn status(&self) -> http::StatusCode {
        self.status
    }

    /// Whether the block has a `Set-Cookie`.
    pub fn set_cookie(&self) -> bool {
        self.set_cookie
    }

    /// The header block as a map with room for `extra` more fields.
    pub fn header_map(&self, extra: usize) -> HeaderMap {
        header_map(&self.block, self.fields, extra)
    }

    /// The body, shared by every hit (a slice of the buffer when it is small).
    pub fn body(&self) -> Bytes {
        if self.body_len == 0 {
            return self.body.clone();
        }
        let at = self.tail as usize;
        let end = at + self.body_len as usize;
        if end > self.block.len() {
            // never: `from_head` put the body there
            return Bytes::new();
        }
        self.block.slice(at..end)
    }

    /// Whether the body is a block of its own (the core's, behind `bytes`' owner).
    pub fn separate_body(&self) -> bool {
        !self.body.is_empty()
    }

    /// Bytes of the buffer (records, inline names, values, a small body, the author's
    /// `Origin` and extension method).
    pub fn block_len(&self) -> usize {
        self.block.len()
    }

    /// The author's request number.
    pub fn tag(&self) -> Tag {
        self.tag
    }

    /// Whether the author sent credentials.
    pub fn credentials(&self) -> bool {
        self.credentials
    }

    /// The author's URL (shared with the variant's).
    pub fn url(&self) -> &Arc<str> {
        &self.url
    }

    /// The author's `Origin` in the buffer, if it sent one.
    fn origin_bytes(&self) -> Option<&[u8]> {
        if self.origin_len == NO_ORIGIN {
            return None;
        }
        let at = self.tail as usize + self.body_len as usize;
        self.block.get(at..at + self.origin_len as usize)
    }

    /// The author's `Origin`, if it sent one.
    pub fn origin(&self) -> Option<&str> {
        std::str::from_utf8(self.origin_bytes()?).ok()
    }

    /// Whether the author had this `Origin` and the same credentials (a viewer the
    /// entry was made for: nothing to judge).
    pub fn made_for(&self, origin: &str, credentials: bool) -> bool {
        self.credentials == credentials && self.origin_bytes() == Some(origin.as_bytes())
    }

    /// The author's method.
    fn method(&self) -> http::Method {
        if let Some(m) = METHODS.get(usize::from(self.method)) {
            return m.clone();
        }
        let at = self.tail as usize
            + self.body_len as usize
            + self.origin_bytes().map_or(0, <[u8]>::len);
        // the name of an `http::Method` it was made from: never the default
        http::Method::from_bytes(self.block.get(at..).unwrap_or_default()).unwrap_or_default()
    }

    /// Who stored it (its parts copied out: for warnings and the admin listing).
    pub fn by(&self) -> StoredBy {
        StoredBy {
            tag: self.tag,
            method: self.method(),
            url: self.url.clone(),
            target_at: self.target_at,
            origin: self.origin().map(Box::from),
            credentials: self.credentials,
        }
    }

    /// Who stored it, under a new number (a freshened entry keeps its author).
    pub fn renumbered(&self, tag: Tag) -> StoredBy {
        StoredBy { tag, ..self.by() }
    }

    /// The author's `METHOD target`.
    pub fn request(&self) -> String {
        self.by().request()
    }

    /// Bytes it holds on the heap for the author's URL when that is not the variant's.
    pub fn url_heap(&self, variant_url: Option<&Arc<str>>) -> usize {
        if variant_url.is_some_and(|u| Arc::ptr_eq(u, &self.url)) {
            0
        } else {
            super::weigh::block(16 + self.url.len())
        }
    }
}

/// The request whose response was stored (named in warnings and `/.varyedge/entries`).
///
/// Its `METHOD target` text is not kept: the target is the tail of the URL the core's
/// variant already holds (`scheme://host` + target), so that `Arc` is shared.
#[derive(Clone, Debug)]
pub struct StoredBy {
    /// The proxy's request number.
    pub tag: Tag,
    /// Its method.
    method: http::Method,
    /// Its URL, `scheme://host` + target (the variant's when it was stored).
    url: Arc<str>,
    /// Where the target starts in `url`.
    target_at: u32,
    /// Its `Origin`, if any.
    pub origin: Option<Box<str>>,
    /// Whether it carried credentials (Cookie or Authorization).
    pub credentials: bool,
}

impl StoredBy {
    /// `core` with number `tag`; `url` is the stored variant's URL, shared when it is
    /// `core`'s (it always is: the core makes it from the same request).
    pub fn new(core: &Request, tag: Tag, url: Option<&Arc<str>>) -> StoredBy {
        let url = match url {
            Some(u) if is_url_of(u, core) => u.clone(),
            _ => Arc::from(core.url()),
        };
        let target_at = url
            .len()
            .checked_sub(core.target.len())
            .and_then(|at| u32::try_from(at).ok())
            .unwrap_or(0);
        StoredBy {
            tag,
            // the core's method is an `http::Method`'s own text (`convert`), so this is
            // never the default
            method: http::Method::from_bytes(core.method.as_bytes()).unwrap_or_default(),
            url,
            target_at,
            origin: core.headers.get("origin").map(Box::from),
            credentials: core.headers.contains("cookie") || core.headers.contains("authorization"),
        }
    }

    /// The same request under a new number (a freshened entry keeps its author).
    pub fn renumbered(&self, tag: Tag) -> StoredBy {
        StoredBy {
            tag,
            ..self.clone()
        }
    }

    /// Its request target (path and query).
    pub fn target(&self) -> &str {
        self.url.get(self.target_at as usize..).unwrap_or(&self.url)
    }

    /// `METHOD target`.
    pub fn request(&self) -> String {
        format!("{} {}", self.method, self.target())
    }

    /// Its URL (shared with the variant's).
    pub fn url(&self) -> &Arc<str> {
        &self.url
    }
}

/// Whether `url` is `core`'s URL (`scheme://host` + target, as [`Request::url`] makes it).
fn is_url_of(url: &str, core: &Request) -> bool {
    url.strip_prefix(core.scheme.as_str())
        .and_then(|u| u.strip_prefix("://"))
        .and_then(|u| u.strip_prefix(core.host.as_str()))
        .is_some_and(|u| u == core.target)
}

impl Serialize for StoredBy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        // the fields and their order as before the request text was derived
        let mut m = s.serialize_struct("StoredBy", 4)?;
        m.serialize_field("tag", &self.tag)?;
        m.serialize_field("request", &self.request())?;
        m.serialize_field("origin", &self.origin)?;
        m.serialize_field("credentials", &self.credentials)?;
        m.end()
    }
}

/// What the proxy keeps beside one variant: how to send it, and who stored it.
pub type Stored = Arc<Wire>;

/// A wire form and its variant's tag, the tag copied beside the pointer: finding one
/// wire form among a URL's thousands then reads this array alone, where a search by
/// `Wire::tag` read a block of its own (a cache miss) at each of its ~10 steps.
#[derive(Clone, Debug)]
pub struct Tagged {
    tag: Tag,
    wire: Stored,
}

/// The wire forms of an entry's variants, by tag. Most URLs hold one variant, kept
/// inline (no list block; 16 bytes like the list's pointer and length); two or more
/// are a list sorted by tag (found by binary search: a URL may hold thousands), exactly
/// sized (a `Vec` grown by one push kept room for four). An empty list is none.
#[derive(Clone, Debug)]
pub enum Wires {
    /// The one variant's.
    One(Stored),
    /// Two or more (or none), sorted by tag.
    Many(Box<[Tagged]>),
}

impl Default for Wires {
    fn default() -> Wires {
        Wires::Many(Box::default())
    }
}

impl Wires {
    /// The wire form of variant `tag`.
    fn get(&self, tag: Tag) -> Option<&Stored> {
        match self {
            Wires::One(w) => (w.tag == tag).then_some(w),
            Wires::Many(list) => list
                .binary_search_by_key(&tag, |s| s.tag)
                .ok()
                .map(|i| &list[i].wire),
        }
    }

    /// The wire forms, by tag.
    pub fn iter(&self) -> impl Iterator<Item = &Stored> {
        let (one, many) = match self {
            Wires::One(w) => (Some(w), &[][..]),
            Wires::Many(list) => (None, &list[..]),
        };
        one.into_iter().chain(many.iter().map(|t| &t.wire))
    }

    /// Entries of the list block (0 when there is none).
    pub fn listed(&self) -> usize {
        match self {
            Wires::One(_) => 0,
            Wires::Many(list) => list.len(),
        }
    }

    /// Keeps the wire forms whose tag `keep` accepts.
    fn retain(&mut self, keep: impl Fn(Tag) -> bool) {
        match self {
            Wires::One(w) if !keep(w.tag) => *self = Wires::default(),
            Wires::One(_) => {}
            Wires::Many(list) => {
                // (a boxed slice and a `Vec` of it are the same block: no copy unless one
                // went)
                let mut v = std::mem::take(list).into_vec();
                v.retain(|s| keep(s.tag));
                *self = Wires::from_sorted(v);
            }
        }
    }

    /// Adds (or replaces) a wire form, keeping the order by tag.
    fn put(&mut self, wire: Stored) {
        let mut v = match std::mem::take(self) {
            // the first, or the one replaced: no list
            Wires::One(w) if w.tag == wire.tag => return *self = Wires::One(wire),
            Wires::Many(list) if list.is_empty() => return *self = Wires::One(wire),
            Wires::One(w) => vec![Tagged {
                tag: w.tag,
                wire: w,
            }],
            Wires::Many(list) => list.into_vec(),
        };
        let new = Tagged {
            tag: wire.tag,
            wire,
        };
        match v.binary_search_by_key(&new.tag, |s| s.tag) {
            Ok(i) => v[i] = new,
            Err(i) => {
                v.reserve_exact(1);
                v.insert(i, new);
            }
        }
        *self = Wires::from_sorted(v);
    }

    fn from_sorted(mut v: Vec<Tagged>) -> Wires {
        if v.len() == 1 {
            if let Some(t) = v.pop() {
                return Wires::One(t.wire);
            }
        }
        Wires::Many(v.into_boxed_slice())
    }
}

/// A primary key as the store holds it: a prefix of the latest stored variant's full key
/// (`primary` or `primary [secondary]`, [`edge::make_variant`]), so the key text is not
/// kept twice. Hashes, compares and borrows as that prefix.
#[derive(Clone, Debug)]
pub struct Key {
    text: Arc<str>,
    len: usize,
}

impl Key {
    /// `primary`, sharing `full`'s text when `full` starts with it.
    fn new(primary: &str, full: &Arc<str>) -> Key {
        if full.starts_with(primary) {
            Key {
                text: full.clone(),
                len: primary.len(),
            }
        } else {
            Key {
                text: Arc::from(primary),
                len: primary.len(),
            }
        }
    }

    /// The primary key.
    pub fn as_str(&self) -> &str {
        // `len` is a char boundary of `text` (a prefix that `starts_with` matched)
        self.text.get(..self.len).unwrap_or(&self.text)
    }

    /// Whether its text is `full`'s allocation.
    pub(super) fn shares(&self, full: &Arc<str>) -> bool {
        Arc::ptr_eq(&self.text, full)
    }

    /// Bytes of its text's allocation.
    pub(super) fn text_len(&self) -> usize {
        self.text.len()
    }
}

impl std::borrow::Borrow<str> for Key {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // as `str` hashes: the store looks keys up by `&str`
        self.as_str().hash(h);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Everything stored under one primary key.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The core's variants.
    pub set: VariantSet,
    /// Wire form and author of each variant.
    pub stored: Wires,
    /// The URL of the request the key was made from (for purge by URL): shared with its
    /// variant's.
    url: Arc<str>,
    /// Where its target (path and query) starts in `url`.
    target_at: u32,
    /// What [`super::weigh::entry`] counted when it was put in the store (the map is
    /// given it rather than weighing every variant again).
    weight: u32,
}

impl Entry {
    /// The target (path and query) the key was made from.
    pub fn target(&self) -> &str {
        self.url.get(self.target_at as usize..).unwrap_or(&self.url)
    }

    /// The target's path (purge by URL without a query).
    pub fn path(&self) -> &str {
        let t = self.target();
        t.split_once('?').map_or(t, |(p, _)| p)
    }

    /// The URL the target is part of, when it is not a variant's (counted by the
    /// weigher).
    pub fn own_url(&self) -> Option<&str> {
        let shared = self
            .set
            .variants
            .iter()
            .any(|v| Arc::ptr_eq(&v.url, &self.url));
        (!shared).then_some(&*self.url)
    }

    /// The wire form of variant `tag`.
    pub(super) fn stored_for(&self, tag: Tag) -> Option<&Stored> {
        self.stored(tag)
    }

    fn stored(&self, tag: Tag) -> Option<&Stored> {
        self.stored.get(tag)
    }

    /// Drops the wire forms of variants the set no longer holds: O(n log n), not a scan
    /// of the set per wire form (quadratic at thousands of variants per URL).
    fn keep_only_held(&mut self) {
        let mut held: Vec<Tag> = self.set.variants.iter().map(|v| v.tag).collect();
        held.sort_unstable();
        self.stored.retain(|t| held.binary_search(&t).is_ok());
    }

    /// Adds (or replaces) the wire form of a variant, keeping the order by tag.
    fn put_stored(&mut self, stored: Stored) {
        self.stored.put(stored);
    }

    /// The entry, weighed (the bytes really held, see [`super::weigh`]), as the map
    /// stores it.
    fn weighed(mut self, key: &Key, bytes: Option<usize>) -> Op<Arc<Entry>> {
        let bytes = bytes.unwrap_or_else(|| super::weigh::entry(key, &self));
        self.weight = u32::try_from(bytes).unwrap_or(u32::MAX);
        let w = self.weight;
        Op::Put(Arc::new(self), w)
    }
}

/// The store's hasher for primary keys. When the store was moka, its default SipHash-1-3
/// cost ~10 % of the proxy's CPU on a miss-only load (moka's table hashed every key
/// again each time it grew or shed the tombstones evictions leave;
/// `benches/load/README.md`). The map now keeps each key's hash in its slot, so keys are
/// hashed once per lookup or put; foldhash stays because it is the cheaper of the two
/// and is seeded at random per process, so request targets chosen to collide cannot be
/// precomputed.
type KeyHasher = foldhash::fast::RandomState;

/// Shards for a machine of `cores` cores: four per core, at least 16, a power of two
/// (so that two workers rarely wait on one shard's lock).
fn shards_for(cores: usize) -> usize {
    (cores.saturating_mul(4)).max(16).next_power_of_two()
}

/// The store.
pub struct Store {
    cache: Lru<Key, Arc<Entry>, KeyHasher>,
    knobs: Arc<Knobs>,
    capacity: u64,
    max_variants: usize,
}

/// The core's decision ([`edge::decide`]) with the wire form of the stored response it
/// serves or revalidates.
pub enum Decided {
    /// Serve this stored response (fresh, or stale with a refresh to start).
    Serve(Serve, Stored),
    /// `only-if-cached` and nothing usable stored: `504`.
    OnlyIfCached,
    /// Forward as the plan says; `Some` exactly when the plan has a candidate.
    Forward(ForwardPlan, Option<Stored>),
}

/// One variant in `/.varyedge/entries`.
#[derive(Debug, Serialize)]
pub struct VariantInfo {
    /// Full key (primary + secondary).
    pub key: String,
    /// Secondary key (`origin=https://a`), empty when it varies on nothing.
    pub secondary: String,
    /// Status.
    pub status: u16,
    /// Who stored it.
    pub stored_by: StoredBy,
    /// Age in seconds.
    pub age: u64,
    /// Remaining freshness in seconds (negative when stale).
    pub ttl: i64,
    /// Bytes (headers and body).
    pub size: usize,
}

/// One primary key in `/.varyedge/entries`.
#[derive(Debug, Serialize)]
pub struct EntryInfo {
    /// The primary key.
    pub key: String,
    /// Its variants, oldest first.
    pub variants: Vec<VariantInfo>,
}

thread_local! {
    /// The buffer [`Store::decide`] writes a request's primary key into (reused; it
    /// keeps the capacity of the longest key seen).
    static KEY_BUF: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

impl Store {
    /// An empty store bounded to `capacity` bytes; evictions by size are counted in
    /// `metrics`.
    /// At most `max_variants` variants are kept per primary key (fewer if the profile
    /// says so).
    pub fn new(
        knobs: Arc<Knobs>,
        capacity: u64,
        max_variants: usize,
        metrics: Arc<Metrics>,
    ) -> Store {
        // LRU with no admission test: an edge cache keeps what it just stored and evicts
        // the least recently used (as Varnish and nginx do). moka's default TinyLFU
        // removed a new entry again when it was not yet more frequent than those it
        // would displace; a hot key stored while the store was full of a previous run's
        // entries vanished that way mid-run (benches/soak/README.md).
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let cache = Lru::new(
            capacity,
            shards_for(cores),
            KeyHasher::default(),
            Box::new(move |_: &Key, _: &Arc<Entry>, why| {
                if why == Removed::Evicted {
                    inc(&metrics.evictions);
                }
            }),
        );
        Store {
            cache,
            knobs,
            capacity,
            max_variants,
        }
    }

    /// The knobs.
    pub fn knobs(&self) -> &Knobs {
        &self.knobs
    }

    /// The core's decision for `req` at `now` ([`edge::decide`]) on what is stored under
    /// its primary key, with the wire form of the response it names. Nothing is decided
    /// here: a decision naming a variant without a wire form (never, while `insert` keeps
    /// the two together) is a plain `uri-miss` forward.
    pub fn decide(&self, req: &Request, now: Timestamp) -> Decided {
        // the key is built in a per-thread buffer: a hit allocates none (a preflight's
        // key, which names its `Origin` and `Access-Control-Request-*` values, outgrew a
        // fresh buffer twice)
        KEY_BUF
            .try_with(|buf| match buf.try_borrow_mut() {
                Ok(mut key) => self.decide_in(req, now, &mut key),
                Err(_) => self.decide_in(req, now, &mut String::new()),
            })
            .unwrap_or_else(|_| self.decide_in(req, now, &mut String::new()))
    }

    fn decide_in(&self, req: &Request, now: Timestamp, key: &mut String) -> Decided {
        edge::key::primary_key_into(&self.knobs, req, key);
        let key = key.as_str();
        let entry = self.cache.get(key);
        let set = entry.as_deref().map(|e| &e.set);
        let wire = |tag: Tag| entry.as_deref().and_then(|e| e.stored(tag)).cloned();
        let gone = || {
            let join = self.knobs.collapse != crate::profile::Collapse::Off;
            Decided::Forward(
                ForwardPlan::plain(key.to_string(), edge::Fwd::UriMiss, false, join),
                None,
            )
        };
        let decision = edge::decide::decide_key(&self.knobs, Cow::Borrowed(key), set, req, now);
        match decision {
            Decision::Serve(s) => match wire(s.served.tag) {
                Some(stored) => Decided::Serve(s, stored),
                None => gone(),
            },
            Decision::OnlyIfCached { .. } => Decided::OnlyIfCached,
            Decision::Forward(mut plan) => {
                let stored = plan.candidate.as_ref().and_then(|c| wire(c.tag));
                if stored.is_none() {
                    plan.candidate = None;
                    plan.validate = false;
                }
                Decided::Forward(plan, stored)
            }
        }
    }

    /// Drops every variant stored for one of `urls` (RFC 9111 §4.4 invalidation; the
    /// core's [`edge::invalidated_urls`] says which). Walks the store: unsafe requests
    /// are rare next to hits. Returns how many variants went.
    pub fn invalidate(&self, urls: &[String], knobs: &Knobs, req: &Request) -> usize {
        if urls.is_empty() {
            return 0;
        }
        let mut keys: Vec<Key> = Vec::new();
        self.cache.for_each(|k, e| {
            let hit = e
                .set
                .variants
                .iter()
                .any(|v| v.key.starts_with("GET ") && urls.iter().any(|u| **u == *v.url));
            if hit {
                keys.push(k.clone());
            }
        });
        let mut dropped = 0;
        for k in keys {
            let weigh_key = k.clone();
            self.cache.compute(k, |old| {
                let Some(old) = old else { return Op::Nop };
                let mut e = Entry::clone(old);
                dropped += e.set.invalidate_for(knobs, req, urls);
                e.keep_only_held();
                if e.set.variants.is_empty() {
                    Op::Remove
                } else {
                    e.weighed(&weigh_key, None)
                }
            });
        }
        dropped
    }

    /// Stores `variant` (made by the core's [`edge::make_variant`]) under `key`,
    /// copy-on-write. Returns how many variants `max_variants` dropped.
    ///
    /// One primary key's variants never outweigh an eighth of the capacity: beyond that
    /// the oldest go (counted as evicted), so one URL with many variants cannot push the
    /// whole key, and every other entry, out of the store at once.
    pub fn insert(&self, key: &str, req: &Request, variant: Variant, stored: Stored) -> usize {
        let max = Some(
            self.knobs
                .max_variants
                .map_or(self.max_variants, |m| m.min(self.max_variants)),
        );
        let budget = (self.capacity / 8) as usize;
        let mut evicted = 0;
        debug_assert_eq!(stored.tag, variant.tag, "a wire form under another tag");
        // the key shares the variant's key text (the map keeps the key of the latest put)
        let key = Key::new(key, &variant.key);
        let weigh_key = key.clone();
        self.cache.compute(key, |old| {
            let mut e = match old {
                Some(o) => {
                    // pointers only: the variants are shared, the index is rebuilt below
                    Entry {
                        set: o.set.unindexed_copy(),
                        stored: o.stored.clone(),
                        url: o.url.clone(),
                        target_at: o.target_at,
                        weight: 0,
                    }
                }
                None => {
                    // the target's URL: the variant's, made from this request
                    let (url, target_at) = if is_url_of(&variant.url, req) {
                        let at = variant.url.len() - req.target.len();
                        (variant.url.clone(), at)
                    } else {
                        (Arc::from(req.target.as_str()), 0)
                    };
                    Entry {
                        set: VariantSet::default(),
                        stored: Wires::default(),
                        url,
                        target_at: u32::try_from(target_at).unwrap_or(0),
                        weight: 0,
                    }
                }
            };
            evicted = e.set.insert(variant, max);
            e.keep_only_held();
            e.put_stored(stored);
            let mut w = super::weigh::entry(&weigh_key, &e);
            while w > budget && e.set.variants.len() > 1 {
                // drop the oldest eighth (at least one) and weigh again
                let n = (e.set.variants.len() / 8).max(1);
                e.set.drop_oldest(n);
                evicted += n;
                e.keep_only_held();
                w = super::weigh::entry(&weigh_key, &e);
            }
            e.weighed(&weigh_key, Some(w))
        });
        evicted
    }

    /// Removes every primary key made from `url` (a path, or a path and query, or an
    /// absolute URL): all methods, all variants. Returns how many keys went.
    pub fn purge(&self, url: &str) -> usize {
        let target = match url.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => url,
        };
        let with_query = target.contains('?');
        let mut doomed: Vec<Key> = Vec::new();
        self.cache.for_each(|k, e| {
            let hit = if with_query {
                e.target() == target
            } else {
                e.path() == target
            };
            if hit {
                doomed.push(k.clone());
            }
        });
        doomed
            .iter()
            .filter(|k| self.cache.remove(k.as_str()))
            .count()
    }

    /// Removes everything. Returns how many keys there were.
    pub fn purge_all(&self) -> usize {
        self.cache.clear()
    }

    /// `(primary keys, bytes held, capacity)`.
    pub fn size(&self) -> (u64, u64, u64) {
        (self.cache.len() as u64, self.cache.weight(), self.capacity)
    }

    /// One page of entries for `/.varyedge/entries`: the `limit` smallest primary keys
    /// after `after`, sorted, and whether more follow. Memory is bounded by `limit`
    /// (a heap of the best keys so far), not by the store's size.
    pub fn entries_page(
        &self,
        after: Option<&str>,
        limit: usize,
        now: Timestamp,
    ) -> (Vec<EntryInfo>, bool) {
        let mut best: std::collections::BinaryHeap<Key> = Default::default();
        let mut more = false;
        self.cache.for_each(|k, _| {
            if after.is_some_and(|a| k.as_str() <= a) {
                return;
            }
            if best.len() < limit {
                best.push(k.clone());
            } else if best.peek().is_some_and(|top| k < top) {
                best.pop();
                best.push(k.clone());
                more = true;
            } else {
                more = true;
            }
        });
        let keys = best.into_sorted_vec();
        let page = keys
            .iter()
            .filter_map(|k| Some(self.info(k.as_str(), &*self.cache.get(k.as_str())?, now)))
            .collect();
        (page, more)
    }

    /// The entry under `key` and the key as the map holds it (for tests).
    #[cfg(test)]
    pub(super) fn entry_for_test(&self, key: &str) -> Option<(Key, Arc<Entry>)> {
        let mut got = None;
        self.cache.for_each(|k, e| {
            if k.as_str() == key {
                got = Some((k.clone(), e.clone()));
            }
        });
        got
    }

    fn info(&self, key: &str, e: &Entry, now: Timestamp) -> EntryInfo {
        EntryInfo {
            key: key.to_string(),
            variants: e
                .set
                .variants
                .iter()
                .filter_map(|v| {
                    let s = e.stored(v.tag)?;
                    Some(VariantInfo {
                        key: v.key.to_string(),
                        secondary: v.secondary(),
                        status: v.response.status,
                        stored_by: s.by(),
                        age: v.freshness.age_ms(v.stored_at, now) / 1000,
                        ttl: v.freshness.ttl_ms(v.stored_at, now).div_euclid(1000),
                        size: v.response.byte_size(),
                    })
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Headers;
    use crate::message::Response;
    use crate::time::SIM_EPOCH;

    /// hyper's header values are slices of its read buffer (8 KiB or more): the stored
    /// block copies them into one buffer of its own, so a stored response does not keep a
    /// connection's buffer alive, and a hit gets the same fields back in the same order.
    #[test]
    fn a_wire_block_owns_its_values_and_gives_them_back_in_order() {
        let mut raw = vec![b'a'; 8192];
        raw[10] = 0xe9; // obs-text: not UTF-8, and a valid field value
        let buf = Bytes::from(raw);
        let mut h = HeaderMap::new();
        // a name too long to intern is kept in the block itself
        let long = "x-".repeat(60);
        let fields = [
            ("x-a", 0..3),
            ("set-cookie", 3..5),
            ("x-a", 5..9),
            (&long, 9..10),
            ("x-b", 10..12),
        ];
        for (name, range) in fields {
            let mut v = HeaderValue::from_maybe_shared(buf.slice(range)).unwrap();
            v.set_sensitive(name == "set-cookie");
            h.append(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), v);
        }
        let by = StoredBy::new(&get("/"), 1, None);
        let w = Wire::new(http::StatusCode::OK, &h, &Arc::from(&b""[..]), by).unwrap();
        drop(h);
        assert!(buf.is_unique(), "the read buffer is still referenced");
        assert!(w.set_cookie());
        let m = w.header_map(4);
        let got: Vec<(&str, &[u8], bool)> = m
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes(), v.is_sensitive()))
            .collect();
        assert_eq!(
            got,
            [
                ("x-a", &b"aaa"[..], false),
                ("x-a", b"aaaa", false),
                ("set-cookie", b"aa", true),
                (&long, b"a", false),
                ("x-b", b"\xe9a", false),
            ]
        );
    }

    /// The block made from the codes the core's conversion looked up is the block
    /// [`Head::new`] makes, and dropping `Set-Cookie` from a made head gives the head of
    /// the map without it.
    #[test]
    fn a_coded_head_is_the_head_and_sheds_set_cookie() {
        let mut h = HeaderMap::new();
        let long = "y-".repeat(60);
        let fields: [(&str, &[u8]); 7] = [
            ("cache-control", b"public, max-age=600"),
            ("set-cookie", b"a=1"),
            ("x-store-test-coded", b"v"),
            (&long, b"w"),
            ("cache-control", b"public, max-age=600"),
            ("set-cookie", b"b=2"),
            ("x-bin", b"\xe9"),
        ];
        for (n, v) in fields {
            let mut v = HeaderValue::from_bytes(v).unwrap();
            v.set_sensitive(n == "set-cookie");
            h.append(HeaderName::from_bytes(n.as_bytes()).unwrap(), v);
        }
        // The value repeated within the block is interned on its second sighting, in
        // the middle of the first pass: that pass's coded block keeps the first copy's
        // text (it looked the value up before it was interned), gives back the same
        // fields, and from the next pass on the blocks are the same bytes.
        for pass in 0..3 {
            let mut codes = Vec::new();
            let core = names::core_headers_coded(&h, &mut codes);
            // (nothing that admits values runs between the two: `Head::new` does not)
            let coded = Head::coded(http::StatusCode::OK, &h, &codes).unwrap();
            let plain = Head::new(http::StatusCode::OK, &h).unwrap();
            assert_eq!(core, crate::net::convert::headers_lossy(&h));
            assert_eq!(coded.header_map(0), h);
            assert_eq!(plain.header_map(0), h);
            if pass > 0 {
                assert_eq!(coded.block, plain.block);
            }
            assert_eq!((coded.fields, coded.set_cookie), (7, true));
            let mut without = h.clone();
            without.remove(http::header::SET_COOKIE);
            let shed = coded.without_set_cookie().unwrap();
            let want = Head::new(http::StatusCode::OK, &without).unwrap();
            assert_eq!(
                (shed.block, shed.fields, shed.set_cookie),
                (want.block, 5, false)
            );
        }
    }

    /// Values of 65,535 bytes and more keep their length beside their text (a record's
    /// `u16` cannot hold it), and read back as they were, with the fields after them.
    #[test]
    fn long_values_read_back() {
        let mut h = HeaderMap::new();
        for (i, len) in [65_534, 65_535, 65_536, 70_000, 3].into_iter().enumerate() {
            let v = HeaderValue::from_bytes(&vec![b'a' + i as u8; len]).unwrap();
            h.append(HeaderName::from_static("x-long-value-test"), v);
        }
        let long = "z-".repeat(60);
        h.append(
            HeaderName::from_bytes(long.as_bytes()).unwrap(),
            HeaderValue::from_bytes(&[b'q'; 65_540]).unwrap(),
        );
        h.append(http::header::VARY, HeaderValue::from_static("origin"));
        let head = Head::new(http::StatusCode::OK, &h).unwrap();
        assert_eq!(head.header_map(0), h);
        let body: Arc<[u8]> = Arc::from(&b"body"[..]);
        let w = Wire::new(
            http::StatusCode::OK,
            &h,
            &body,
            StoredBy::new(&get("/"), 1, None),
        );
        let w = w.unwrap();
        assert_eq!(w.header_map(0), h);
        assert_eq!(&w.body()[..], b"body");
    }

    fn get(target: &str) -> Request {
        Request {
            method: "GET".into(),
            scheme: "http".into(),
            host: "api".into(),
            target: target.into(),
            headers: Headers::new(),
        }
    }

    fn put(store: &Store, target: &str, tag: Tag) {
        let req = get(target);
        let mut h = Headers::new();
        h.append("cache-control", "max-age=600");
        let resp = Arc::new(Response::new(200, h));
        let v = edge::make_variant(store.knobs(), &req, resp, SIM_EPOCH, tag).unwrap();
        let mut wire = HeaderMap::new();
        wire.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=600"),
        );
        let by = StoredBy::new(&req, tag, Some(&v.url));
        let empty: Arc<[u8]> = Arc::from(&b""[..]);
        let stored = Arc::new(Wire::new(http::StatusCode::OK, &wire, &empty, by).unwrap());
        let key = edge::primary_key(store.knobs(), &req);
        store.insert(&key, &req, v, stored);
    }

    /// One entry of the store (the test's only one).
    fn first(store: &Store) -> (Key, Arc<Entry>) {
        let mut got = None;
        store
            .cache
            .for_each(|k, e| got = Some((k.clone(), e.clone())));
        got.unwrap()
    }

    fn held(store: &Store, target: &str) -> bool {
        let key = edge::primary_key(store.knobs(), &get(target));
        store.cache.contains_key(key.as_str())
    }

    /// The author's `METHOD target` is the tail of the variant's URL (shared, not
    /// copied), and serialises as the fields it had when it was a copy.
    #[test]
    fn stored_by_derives_its_request_from_the_shared_url() {
        let mut req = get("/a/b?x=1");
        req.method = "HEAD".into();
        req.headers.append("origin", "https://o.example");
        let url: Arc<str> = Arc::from(req.url());
        let by = StoredBy::new(&req, 7, Some(&url));
        assert!(Arc::ptr_eq(by.url(), &url));
        assert_eq!(by.request(), "HEAD /a/b?x=1");
        assert_eq!(
            serde_json::to_string(&by).unwrap(),
            r#"{"tag":7,"request":"HEAD /a/b?x=1","origin":"https://o.example","credentials":false}"#
        );
        // a URL that is not this request's is not taken
        let other: Arc<str> = Arc::from("http://api/elsewhere");
        let by = StoredBy::new(&req, 8, Some(&other));
        assert!(!Arc::ptr_eq(by.url(), &other));
        assert_eq!(by.renumbered(9).request(), "HEAD /a/b?x=1");
    }

    /// The primary key is a variant's key text; the entry's target is its URL's.
    #[test]
    fn the_key_and_target_share_the_variants_text() {
        let knobs = Arc::new(Knobs::rfc9111());
        let store = Store::new(knobs, 1 << 20, 16, Arc::new(Metrics::default()));
        put(&store, "/k?q=1", 1);
        put(&store, "/k?q=1", 2);
        store.size();
        let (key, e) = first(&store);
        assert_eq!(key.as_str(), "GET http://api/k?q=1");
        assert_eq!(e.set.variants.len(), 1);
        // the map keeps the key of the latest put: the new variant's text
        assert!(key.shares(&e.set.variants[0].key));
        assert_eq!(e.target(), "/k?q=1");
        assert_eq!(e.path(), "/k");
        assert_eq!(store.purge("/k"), 1);
        put(&store, "/k?q=1", 3);
        store.size();
        let (key, e) = first(&store);
        assert!(key.shares(&e.set.variants[0].key));
        assert!(e.own_url().is_none());
        let wire = e.stored.get(e.set.variants[0].tag);
        assert!(wire.is_some_and(|w| Arc::ptr_eq(w.url(), &e.set.variants[0].url)));
    }

    /// The author, a small body and the author's `Origin` and extension method live in
    /// the wire's one buffer, a larger body is the core's own bytes (shared), and each
    /// reads back as it was given: `by()` serialises as the `StoredBy` it was made from.
    #[test]
    fn a_wire_keeps_its_author_and_small_body_in_its_buffer() {
        let mut h = HeaderMap::new();
        h.append(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=60"),
        );
        h.append("x-wire-author-test", HeaderValue::from_static("v"));
        let big = [b'y'; INLINE_BODY + 1];
        let cases: [(&str, Option<&str>, &[u8]); 5] = [
            ("GET", None, b""),
            ("HEAD", Some(""), b"small"),
            ("GET", Some("https://a.example"), &[b'x'; INLINE_BODY]),
            ("PURGEX", Some("https://b.example"), &big),
            ("A-LONGER-EXTENSION-METHOD", None, b"z"),
        ];
        for (i, (method, origin, body)) in cases.into_iter().enumerate() {
            let mut req = get("/w?q=1");
            req.method = method.into();
            if let Some(o) = origin {
                req.headers.append("origin", o);
            }
            let credentials = i % 2 == 1;
            if credentials {
                req.headers.append("cookie", "c=1");
            }
            let url: Arc<str> = Arc::from(req.url());
            let tag = i as Tag;
            let by = StoredBy::new(&req, tag, Some(&url));
            let want = serde_json::to_string(&by).unwrap();
            let core_body: Arc<[u8]> = Arc::from(body);
            let w = Wire::new(http::StatusCode::OK, &h, &core_body, by).unwrap();
            assert_eq!(serde_json::to_string(&w.by()).unwrap(), want, "{method}");
            assert_eq!(w.request(), format!("{method} /w?q=1"));
            assert_eq!(
                (w.origin(), w.credentials(), w.tag()),
                (origin, credentials, tag)
            );
            assert_eq!(w.renumbered(99).tag, 99);
            assert_eq!(w.renumbered(99).request(), w.request());
            assert!(Arc::ptr_eq(w.url(), &url));
            assert_eq!(&w.body()[..], body);
            assert_eq!(w.header_map(0), h);
            let separate = body.len() > INLINE_BODY;
            assert_eq!(w.separate_body(), separate);
            // a large body is not copied: the wire's bytes are the core's
            assert_eq!(separate, w.body().as_ptr() == core_body.as_ptr());
            if let Some(o) = origin {
                assert!(w.made_for(o, credentials));
                assert!(!w.made_for(o, !credentials));
            }
            assert!(!w.made_for("https://other.example", credentials));
        }
    }

    /// The wire form with its author fits mimalloc's 128-byte class with `Arc`'s two
    /// counters (it was 144 bytes: the 160-byte class).
    #[test]
    fn a_wire_fits_in_112_bytes() {
        if cfg!(target_pointer_width = "64") {
            assert!(
                std::mem::size_of::<Wire>() <= 112,
                "{}",
                std::mem::size_of::<Wire>()
            );
        }
    }

    /// An entry's wire forms: one inline, two or more a list sorted by tag, none an empty
    /// list; found by tag in every form; no larger than the list's pointer and length.
    #[test]
    fn wires_hold_one_inline_and_more_in_order() {
        let wire = |tag: Tag| {
            let req = get("/w");
            let by = StoredBy::new(&req, tag, None);
            let empty: Arc<[u8]> = Arc::from(&b""[..]);
            Arc::new(Wire::new(http::StatusCode::OK, &HeaderMap::new(), &empty, by).unwrap())
        };
        let tags = |w: &Wires| w.iter().map(|s| s.tag()).collect::<Vec<Tag>>();
        assert_eq!(std::mem::size_of::<Wires>(), 16);
        let mut w = Wires::default();
        assert_eq!((tags(&w), w.listed()), (vec![], 0));
        w.put(wire(7));
        assert!(matches!(w, Wires::One(_)));
        assert_eq!((tags(&w), w.listed()), (vec![7], 0));
        let replaced = wire(7);
        w.put(replaced.clone());
        assert!(w.get(7).is_some_and(|s| Arc::ptr_eq(s, &replaced)));
        assert_eq!(w.listed(), 0);
        w.put(wire(3));
        w.put(wire(9));
        w.put(wire(5));
        assert_eq!((tags(&w), w.listed()), (vec![3, 5, 7, 9], 4));
        for t in [3, 5, 7, 9] {
            assert_eq!(w.get(t).map(|s| s.tag()), Some(t));
        }
        assert!(w.get(4).is_none() && w.get(10).is_none());
        let newer = wire(5);
        w.put(newer.clone());
        assert!(w.get(5).is_some_and(|s| Arc::ptr_eq(s, &newer)));
        assert_eq!(w.listed(), 4);
        w.retain(|t| t != 3);
        assert_eq!((tags(&w), w.listed()), (vec![5, 7, 9], 3));
        w.retain(|t| t == 9);
        assert!(matches!(w, Wires::One(_)));
        assert_eq!((tags(&w), w.get(9).map(|s| s.tag())), (vec![9], Some(9)));
        assert!(w.get(5).is_none());
        w.retain(|t| t == 9);
        assert_eq!(tags(&w), vec![9]);
        w.retain(|_| false);
        assert_eq!((tags(&w), w.listed()), (vec![], 0));
        assert!(w.get(9).is_none());
    }

    /// Each variant keeps its wire form beside it (and no other) through a second
    /// variant, a replaced one and the per-URL cap.
    #[test]
    fn wire_forms_follow_the_variants() {
        let knobs = Arc::new(Knobs::rfc9111());
        let store = Store::new(knobs, 1 << 20, 2, Arc::new(Metrics::default()));
        let put_from = |origin: &str, tag: Tag| {
            let mut req = get("/v");
            req.headers.append("origin", origin);
            let mut h = Headers::new();
            h.append("cache-control", "max-age=600");
            h.append("vary", "origin");
            let resp = Arc::new(Response::new(200, h));
            let v = edge::make_variant(store.knobs(), &req, resp, SIM_EPOCH, tag).unwrap();
            let mut wire = HeaderMap::new();
            wire.insert(http::header::VARY, HeaderValue::from_static("origin"));
            let by = StoredBy::new(&req, tag, Some(&v.url));
            let empty: Arc<[u8]> = Arc::from(&b""[..]);
            let stored = Arc::new(Wire::new(http::StatusCode::OK, &wire, &empty, by).unwrap());
            let key = edge::primary_key(store.knobs(), &req);
            store.insert(&key, &req, v, stored);
            let (_, e) = first(&store);
            let mut tags: Vec<Tag> = e.set.variants.iter().map(|v| v.tag).collect();
            tags.sort_unstable();
            let wires: Vec<Tag> = e.stored.iter().map(|s| s.tag()).collect();
            assert_eq!(wires, tags);
            tags
        };
        assert_eq!(put_from("https://a", 1), [1]);
        assert_eq!(put_from("https://b", 2), [1, 2]);
        assert_eq!(put_from("https://a", 3), [2, 3]);
        assert_eq!(put_from("https://c", 4), [3, 4]);
    }

    /// A full store keeps what it just stored (and evicts the least recently used),
    /// however rarely the new key was seen before: moka's default TinyLFU admission
    /// removed such an entry again when it applied its pending writes.
    #[test]
    fn a_full_store_keeps_the_entry_it_just_stored() {
        let knobs = Arc::new(Knobs::rfc9111());
        let store = Store::new(knobs, 64 * 1024, 16, Arc::new(Metrics::default()));
        for i in 0..200 {
            put(&store, &format!("/old/{i}"), i);
            if i % 10 == 0 {
                store.size();
            }
        }
        let (_, bytes, cap) = store.size();
        assert!(bytes <= cap && bytes > cap / 2, "{bytes} of {cap}");
        put(&store, "/new", 1000);
        store.size();
        assert!(held(&store, "/new"), "the new entry was dropped");
        assert!(!held(&store, "/old/0"), "the oldest entry was not evicted");
    }
}
