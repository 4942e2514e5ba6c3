//! The edge core: cache keys, RFC 9111 storage and `Vary` matching, freshness on a clock
//! it is handed, request collapsing, POPs and a shield tier. Pure and synchronous: the
//! drivers (simulator and proxy) ask the one decision API in [`decide`], do the IO, and
//! hand the origin's answer back to it. Knows nothing of CORS beyond header names (the
//! edge's own CORS fields, [`cors`], are applied by [`decide::edge_cors`]).

mod cache_status;
pub mod cors;
pub mod decide;
pub mod forward;
pub mod freshness;
pub mod hash;
pub mod invalidate;
pub mod key;
pub mod knobs;
pub mod range;
pub mod validate;
pub mod vary;

pub use cache_status::{sf_string, CacheStatus, CACHE_NAME};
pub use decide::{decide, Completion, Decision, ForwardPlan, Serve};
pub use freshness::{storable, Freshness, NoStore};
pub use key::primary_key;
pub use vary::{VaryRefusal, VarySpec};

use crate::edge::knobs::{Collapse, Knobs, VaryCompare};
use crate::fields::Headers;
use crate::message::{Request, Response};
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Who stored an entry: the simulator's step index, the proxy's request number.
pub type Tag = u64;

/// What the edge did with one request (the `cache` field of a report).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Served from a fresh stored response.
    Hit,
    /// Forwarded; the response could be stored (a stale entry's refetch included).
    Miss,
    /// Served a stale stored response (stale-while-revalidate), refreshed behind it.
    Stale,
    /// Forwarded and never stored (method not cached, Cookie/Authorization pass).
    Pass,
    /// Waited for another request's origin fetch and got its response.
    Collapsed,
    /// No request reached the edge: the browser's own HTTP cache answered, or the fetch
    /// failed before anything was sent (a report's `cache` only; the edge never says it).
    #[serde(rename = "none")]
    NotSent,
}

impl Outcome {
    /// Whether the client got a stored response (`hit`, `stale` or `collapsed`) rather
    /// than a forwarded one (`miss`, `pass`).
    pub fn from_cache(self) -> bool {
        matches!(self, Outcome::Hit | Outcome::Stale | Outcome::Collapsed)
    }

    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            Outcome::Hit => "hit",
            Outcome::Miss => "miss",
            Outcome::Stale => "stale",
            Outcome::Pass => "pass",
            Outcome::Collapsed => "collapsed",
            Outcome::NotSent => "none",
        }
    }

    /// Parses a stable id.
    pub fn from_id(s: &str) -> Option<Outcome> {
        [
            Outcome::Hit,
            Outcome::Miss,
            Outcome::Stale,
            Outcome::Pass,
            Outcome::Collapsed,
            Outcome::NotSent,
        ]
        .into_iter()
        .find(|o| o.id() == s)
    }
}

/// Why a request was forwarded (RFC 9211 `fwd` parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fwd {
    /// No entry under the primary key.
    UriMiss,
    /// Entries under the primary key, none whose `Vary` matches.
    VaryMiss,
    /// A matching entry, but stale.
    Stale,
    /// The method is not cached.
    Method,
    /// The request carries Cookie or Authorization and the profile passes those.
    Request,
}

impl Fwd {
    /// The RFC 9211 token.
    pub fn token(self) -> &'static str {
        match self {
            Fwd::UriMiss => "uri-miss",
            Fwd::VaryMiss => "vary-miss",
            Fwd::Stale => "stale",
            Fwd::Method => "method",
            Fwd::Request => "request",
        }
    }
}

/// A stored response handed out by a lookup.
#[derive(Clone, Debug)]
pub struct Served {
    /// The stored response, shared.
    pub response: Arc<Response>,
    /// Age in seconds, for the `Age` header.
    pub age_secs: u64,
    /// Remaining freshness in seconds (negative when stale), for Cache-Status `ttl`.
    pub ttl_secs: i64,
    /// Who stored it.
    pub tag: Tag,
    /// Readable full key: primary key plus the secondary key it was stored under.
    pub key: Arc<str>,
}

/// The core's answer to a request.
#[derive(Clone, Debug)]
pub enum Lookup {
    /// Serve this fresh stored response.
    Hit(Served),
    /// Serve this stale response and refresh it from the origin.
    Stale(Served),
    /// Another request's fetch for this key is in flight: take its response.
    Collapsed(Served),
    /// Forward; the response may be stored with [`Cache::store`].
    Miss(Fwd),
    /// Forward; do not store.
    Pass(Fwd),
}

/// One stored response and its secondary key.
#[derive(Clone, Debug)]
pub struct Variant {
    /// Selecting fields.
    pub spec: VarySpec,
    /// The original request's normalised values for them.
    pub values: Box<[Option<Box<str>>]>,
    /// The response.
    pub response: Arc<Response>,
    /// When it was stored (it is visible from then on: a fetch still in flight is stored
    /// with its completion time).
    pub stored_at: Timestamp,
    /// Freshness.
    pub freshness: Freshness,
    /// Who stored it.
    pub tag: Tag,
    /// Readable full key (primary + secondary), computed once when stored.
    pub key: Arc<str>,
    /// `scheme://host/target` of the request it was stored for (what invalidation and
    /// purges match on).
    pub url: Arc<str>,
    /// Hash of (`spec`, `values`), the set's index key.
    secondary_hash: u64,
}

impl Variant {
    /// Readable secondary key.
    pub fn secondary(&self) -> String {
        vary::describe(&self.spec, &self.values)
    }
}

/// All variants stored under one primary key (pure: the proxy's own store keeps them).
///
/// Most URLs hold one variant, and a set of one is just that variant (no list, no
/// index: 16 bytes inline), looked up by comparing its selecting values directly.
/// Larger sets are not searched linearly: `index` maps the hash of each variant's
/// (selecting fields, selecting values) pair to its position, and the variant itself is
/// compared on a hit, so a lookup costs one hash probe per distinct `Vary` spec (almost
/// always one) and the index holds no second copy of any spec or value. Variants are
/// shared (`Arc`), so copying a set (the proxy's copy-on-write store) copies pointers.
/// Sets of at most [`SMALL_SET`] variants have no map: each variant keeps its hash, and
/// comparing a handful of hashes costs less than a probe (and saves the map's ~100 bytes
/// per stored URL). The index is rebuilt by [`Self::insert`]; a copy made by
/// [`Self::unindexed_copy`] scans until then.
#[derive(Clone, Debug, Default)]
pub struct VariantSet {
    /// Variants, oldest first (read-only: change them through the set's methods).
    pub variants: Variants,
}

/// The variants of a [`VariantSet`], oldest first: a slice of shared variants to read
/// (`iter`, `len`, indexing), kept as nothing, one variant, or a boxed indexed list.
#[derive(Clone, Default)]
pub struct Variants(Repr);

#[derive(Clone, Debug, Default)]
enum Repr {
    #[default]
    Empty,
    One(Arc<Variant>),
    /// Two or more.
    Many(Box<Many>),
}

/// Bytes of the boxed block a set of two or more variants keeps (its list, index and
/// positions are further blocks), for a weigher of stored entries.
pub const LIST_FORM_BYTES: usize = std::mem::size_of::<Many>();

/// Two or more variants and their index.
#[derive(Clone, Debug, Default)]
struct Many {
    /// Variants, oldest first.
    list: Vec<Arc<Variant>>,
    /// Secondary-key hash -> position, for the first variant with that hash (empty for
    /// small sets).
    index: HashMap<u64, usize, hash::FastBuild>,
    /// Positions of variants whose hash another variant already had (a 64-bit collision:
    /// practically never; checked one by one).
    collided: Vec<usize>,
    /// One variant per distinct spec: its position, and the secondary-key hasher with
    /// that spec already fed (so a lookup feeds only the request's values).
    specs: Vec<SpecAt>,
    /// How many variants `index` and `specs` describe.
    indexed: usize,
}

/// Where a set's spec is, and its hash prefix (see [`Many::specs`]).
#[derive(Clone, Copy)]
struct SpecAt {
    at: usize,
    hashed: hash::StreamHasher,
}

impl std::fmt::Debug for SpecAt {
    // the hasher's state is left out: it is drawn from the process's secret seed
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpecAt")
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// Bytes of one entry of a set's list of specs (for the proxy's weigher).
pub const SPEC_ENTRY_BYTES: usize = std::mem::size_of::<SpecAt>();

impl std::ops::Deref for Variants {
    type Target = [Arc<Variant>];

    fn deref(&self) -> &[Arc<Variant>] {
        match &self.0 {
            Repr::Empty => &[],
            Repr::One(v) => std::slice::from_ref(v),
            Repr::Many(m) => &m.list,
        }
    }
}

impl std::fmt::Debug for Variants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Variants {
    /// Slots of the heap list holding the variants (0 for none or one, which need no
    /// list), for weighing.
    pub fn capacity(&self) -> usize {
        match &self.0 {
            Repr::Many(m) => m.list.capacity(),
            _ => 0,
        }
    }
}

/// Up to this many variants a set is searched by comparing each variant's hash.
const SMALL_SET: usize = 8;

/// A hasher for secondary keys, with the process's seed: random, so request values
/// chosen to collide cannot be precomputed (a collision only costs a comparison, never a
/// result).
fn key_hasher() -> hash::StreamHasher {
    use std::hash::BuildHasher;
    static SEED: std::sync::OnceLock<[u64; 2]> = std::sync::OnceLock::new();
    let seed = SEED.get_or_init(|| {
        let r = std::collections::hash_map::RandomState::new();
        [r.hash_one(1u8), r.hash_one(2u8)]
    });
    hash::StreamHasher::with_seed(*seed)
}

/// Ends a present value in a secondary-key hash, and stands for an absent one: bytes
/// that never occur in UTF-8, so the encoding is unambiguous.
const PRESENT: u8 = 0xff;
const ABSENT: u8 = 0xfe;

/// Hash of a stored variant's (spec, values). Values are fed as bytes (`write` is
/// streaming: pieces hash as their concatenation), so a lookup ([`Many::position`])
/// gets the same hash from a request's values gathered as one stream.
fn secondary_hash(spec: &VarySpec, values: &[Option<Box<str>>]) -> u64 {
    use std::hash::Hasher;
    let mut h = spec_hasher(spec);
    for v in values {
        match v {
            Some(v) => {
                h.write(v.as_bytes());
                h.write_u8(PRESENT);
            }
            None => h.write_u8(ABSENT),
        }
    }
    h.finish()
}

/// Calls `f` with pieces whose concatenation is `vary::selecting_value(compare, req,
/// name)`, allocating nothing for the raw and combined comparisons and for a single
/// trimmed line (the others build the value once); `false` when the request has no such
/// field.
fn value_pieces(compare: VaryCompare, req: &Headers, name: &str, f: &mut dyn FnMut(&[u8])) -> bool {
    match compare {
        VaryCompare::Raw => req.get(name).map(|v| f(v.as_bytes())).is_some(),
        // RFC 9111 §4.1: the field's lines combined, list members without the whitespace
        // around them, joined by ","; as `vary::selecting_value`, line by line
        VaryCompare::Combine => {
            let mut present = false;
            let mut first = true;
            let mut member = |m: &str| {
                if !first {
                    f(b",");
                }
                first = false;
                f(m.as_bytes());
            };
            for line in req.get_all(name) {
                present = true;
                // one member with nothing around it (an `Origin`, a method) is the
                // line itself: no splitting (~150 instructions a line)
                if is_bare_member(line) {
                    member(line);
                } else {
                    crate::fields::split_list(line).for_each(&mut member);
                }
            }
            present
        }
        // one line (the usual case) trimmed in place; several are combined first
        VaryCompare::Trim => {
            let mut lines = req.get_all(name);
            match (lines.next(), lines.next()) {
                (None, _) => false,
                (Some(v), None) => {
                    f(v.trim().as_bytes());
                    true
                }
                _ => vary::selecting_value(compare, req, name)
                    .map(|v| f(v.as_bytes()))
                    .is_some(),
            }
        }
        VaryCompare::Fold => vary::selecting_value(compare, req, name)
            .map(|v| f(v.as_bytes()))
            .is_some(),
    }
}

/// [`value_pieces`] under `spec`: `Accept-Encoding` gzip-normalised when the spec says
/// so ([`vary::gzip_value`]).
fn spec_pieces(
    compare: VaryCompare,
    spec: &VarySpec,
    req: &Headers,
    name: &str,
    f: &mut dyn FnMut(&[u8]),
) -> bool {
    if spec.gzip_ae && name == "accept-encoding" {
        return vary::gzip_value(req).map(|v| f(v.as_bytes())).is_some();
    }
    value_pieces(compare, req, name, f)
}

/// Whether [`crate::fields::split_list`] gives `line` back whole as its one member:
/// not empty, no comma, no space or tab at either end.
fn is_bare_member(line: &str) -> bool {
    let b = line.as_bytes();
    let edge = |c: Option<&u8>| matches!(c, Some(b' ' | b'\t') | None);
    !edge(b.first()) && !edge(b.last()) && !b.contains(&b',')
}

/// The hasher [`secondary_hash`] starts from, with `spec` fed.
fn spec_hasher(spec: &VarySpec) -> hash::StreamHasher {
    use std::hash::Hash;
    let mut h = key_hasher();
    spec.hash(&mut h);
    h
}

/// Writes into `out` what [`secondary_hash`] feeds after the spec, for `req`'s selecting
/// values: each value's bytes then [`PRESENT`], or [`ABSENT`].
fn selecting_stream(compare: VaryCompare, spec: &VarySpec, req: &Headers, out: &mut Vec<u8>) {
    out.clear();
    for n in &spec.names {
        let present = spec_pieces(compare, spec, req, n, &mut |p: &[u8]| {
            out.extend_from_slice(p)
        });
        out.push(if present { PRESENT } else { ABSENT });
    }
}

/// Whether `stream` (from [`selecting_stream`]) is the stream of stored `values`: the
/// same answer as comparing value by value ([`same_values`]), since neither marker byte
/// occurs in text.
fn stream_is(values: &[Option<Box<str>>], mut stream: &[u8]) -> bool {
    for v in values {
        let (text, mark) = match v {
            Some(v) => (v.as_bytes(), PRESENT),
            None => (&[][..], ABSENT),
        };
        match stream.split_at_checked(text.len()) {
            Some((head, rest)) if head == text && rest.first() == Some(&mark) => {
                stream = &rest[1..];
            }
            _ => return false,
        }
    }
    stream.is_empty()
}

thread_local! {
    /// The buffer a set's lookup writes a request's selecting values into (reused: a
    /// lookup allocates nothing once it has grown to the longest values seen).
    static STREAM: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether `stored` equals `req`'s selecting value for `name`.
fn same_value(
    compare: VaryCompare,
    spec: &VarySpec,
    req: &Headers,
    name: &str,
    stored: Option<&str>,
) -> bool {
    let mut rest = stored.map(str::as_bytes);
    let mut ok = true;
    let present = spec_pieces(compare, spec, req, name, &mut |p: &[u8]| match rest {
        Some(r) if ok && r.starts_with(p) => rest = Some(&r[p.len()..]),
        _ => ok = false,
    });
    match (present, rest) {
        (true, Some(r)) => ok && r.is_empty(),
        (false, None) => true,
        _ => false,
    }
}

/// Whether `req`'s selecting values for `v`'s spec are the ones `v` was stored with
/// (never for a `Vary: *` entry, RFC 9111 §4.1), compared in place: the same answer as
/// [`vary::matches`] and as the index's hash probe followed by the comparison.
fn same_values(compare: VaryCompare, v: &Variant, req: &Headers) -> bool {
    !v.spec.star
        && v.spec
            .names
            .iter()
            .zip(&v.values)
            .all(|(n, s)| same_value(compare, &v.spec, req, n, s.as_deref()))
}

impl Many {
    /// Where the variant stored for the set's spec `spec` (a [`Many::specs`] entry)
    /// and `req`'s values for it is, if any.
    ///
    /// The request's values are gathered once into one byte stream, which is both hashed
    /// (from the spec's hash prefix) and compared with the candidate's stored values.
    fn position(&self, compare: VaryCompare, spec: &SpecAt, req: &Headers) -> Option<usize> {
        let vary = &self.list[spec.at].spec;
        if vary.star {
            return None;
        }
        STREAM.with(|buf| {
            let Ok(mut stream) = buf.try_borrow_mut() else {
                // (never: a lookup does not look up again while it runs)
                return self.position_with(compare, spec, req, &mut Vec::new());
            };
            self.position_with(compare, spec, req, &mut stream)
        })
    }

    fn position_with(
        &self,
        compare: VaryCompare,
        spec: &SpecAt,
        req: &Headers,
        stream: &mut Vec<u8>,
    ) -> Option<usize> {
        use std::hash::Hasher;
        let vary = &self.list[spec.at].spec;
        selecting_stream(compare, vary, req, stream);
        let mut h = spec.hashed;
        h.write(stream);
        let hash = h.finish();
        // With one spec in the set (the usual `Vary: Origin` URL) every variant's spec is
        // `vary`: comparing them would only read each variant's copy (a cache miss per
        // lookup at a thousand variants). With several, equal hashes may still come from
        // different specs, and the variant's own is compared.
        let one_spec = self.specs.len() == 1;
        let same = |i: &usize| {
            let v = &self.list[*i];
            v.secondary_hash == hash
                && (one_spec || v.spec == *vary)
                && stream_is(&v.values, stream)
        };
        if self.list.len() <= SMALL_SET {
            return (0..self.list.len()).rev().find(same);
        }
        self.index
            .get(&hash)
            .copied()
            .filter(same)
            .or_else(|| self.collided.iter().copied().find(same))
    }

    fn reindex(&mut self) {
        self.collided.clear();
        self.specs.clear();
        self.indexed = self.list.len();
        let small = self.list.len() <= SMALL_SET;
        if small {
            self.index = HashMap::default();
        } else {
            self.index.clear();
        }
        for (i, v) in self.list.iter().enumerate() {
            if !self.specs.iter().any(|j| self.list[j.at].spec == v.spec) {
                self.specs.push(SpecAt {
                    at: i,
                    hashed: spec_hasher(&v.spec),
                });
            }
            if small {
                continue;
            }
            match self.index.entry(v.secondary_hash) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(i);
                }
                std::collections::hash_map::Entry::Occupied(_) => self.collided.push(i),
            }
        }
    }
}

impl VariantSet {
    /// The most recently stored visible variant whose `Vary` matches `req` (RFC 9111 §4.1:
    /// with several matches, the most recent is used).
    pub fn select(&self, knobs: &Knobs, req: &Request, now: Timestamp) -> Option<&Variant> {
        let m = match &self.variants.0 {
            Repr::Empty => return None,
            Repr::One(v) => {
                let hit = v.stored_at <= now && same_values(knobs.vary_compare, v, &req.headers);
                return hit.then_some(&**v);
            }
            Repr::Many(m) if m.indexed != m.list.len() => return self.scan(knobs, req, now),
            Repr::Many(m) => m,
        };
        // one variant per (spec, values): the newest visible match over the specs
        m.specs
            .iter()
            .filter_map(|spec| m.position(knobs.vary_compare, spec, &req.headers))
            .filter(|&i| m.list[i].stored_at <= now)
            .max()
            .map(|i| &*m.list[i])
    }

    fn scan(&self, knobs: &Knobs, req: &Request, now: Timestamp) -> Option<&Variant> {
        self.variants
            .iter()
            .rev()
            .find(|v| {
                v.stored_at <= now
                    && vary::matches(knobs.vary_compare, &v.spec, &v.values, &req.headers)
            })
            .map(|v| &**v)
    }

    /// Adds a variant, replacing one with the same secondary key, then evicting the oldest
    /// beyond `max_variants`. Returns how many were evicted by the cap.
    pub fn insert(&mut self, v: Variant, max_variants: Option<usize>) -> usize {
        let v = Arc::new(v);
        let same = |o: &Variant| {
            o.secondary_hash == v.secondary_hash && o.spec == v.spec && o.values == v.values
        };
        let max = max_variants.map(|m| m.max(1));
        // the usual cases, a first variant or one replacing the only one, need no list
        match &mut self.variants.0 {
            Repr::Empty => {
                self.variants.0 = Repr::One(v);
                return 0;
            }
            Repr::One(o) if max == Some(1) || same(o) => {
                let evicted = usize::from(!same(o));
                *o = v;
                return evicted;
            }
            _ => {}
        }
        self.edit(|list| {
            list.retain(|o| !same(o));
            list.push(v.clone());
            let over = max.map_or(0, |m| list.len().saturating_sub(m));
            list.drain(..over);
            over
        })
    }

    /// Applies `f` to the variants as a list, then stores them again as none, one or an
    /// indexed list (reusing the list and index it had).
    fn edit<R>(&mut self, f: impl FnOnce(&mut Vec<Arc<Variant>>) -> R) -> R {
        let mut many = match std::mem::take(&mut self.variants.0) {
            Repr::Empty => Box::default(),
            Repr::One(v) => {
                let mut m = Box::<Many>::default();
                m.list.push(v);
                m
            }
            Repr::Many(m) => m,
        };
        let r = f(&mut many.list);
        self.variants.0 = match many.list.len() {
            0 => Repr::Empty,
            1 => many.list.pop().map_or(Repr::Empty, Repr::One),
            _ => {
                many.reindex();
                Repr::Many(many)
            }
        };
        r
    }

    /// A copy holding the same (shared) variants without the index, for a copy-on-write
    /// update that [`Self::insert`]s next (which rebuilds the index): copying the index
    /// only to rebuild it would double the cost of an update. Until then lookups scan.
    pub fn unindexed_copy(&self) -> VariantSet {
        let repr = match &self.variants.0 {
            Repr::Many(m) => Repr::Many(Box::new(Many {
                list: m.list.clone(),
                ..Many::default()
            })),
            r => r.clone(),
        };
        VariantSet {
            variants: Variants(repr),
        }
    }

    /// Drops the `n` oldest variants (at least one is kept).
    pub fn drop_oldest(&mut self, n: usize) {
        if self.variants.len() > 1 {
            self.edit(|list| {
                let n = n.min(list.len() - 1);
                list.drain(..n);
            });
        }
    }

    /// Drops every `GET`/`HEAD` variant stored for one of `urls` (`scheme://host/target`).
    /// `OPTIONS` entries, which only CDNs store, are left alone (CloudFront, the one that
    /// stores them, invalidates nothing on unsafe methods). Returns how many went.
    pub fn invalidate(&mut self, urls: &[String]) -> usize {
        self.remove_where(|v| v.key.starts_with("GET ") && urls.iter().any(|u| **u == *v.url))
    }

    /// [`Self::invalidate`] for the unsafe request `req` under `knobs`: with
    /// `invalidate_needs_match` (ATS, which looks the URL up with the unsafe request's
    /// own fields and removes what that finds) only the variants `req` selects go.
    pub fn invalidate_for(&mut self, knobs: &Knobs, req: &Request, urls: &[String]) -> usize {
        if !knobs.invalidate_needs_match {
            return self.invalidate(urls);
        }
        self.remove_where(|v| {
            v.key.starts_with("GET ")
                && urls.iter().any(|u| **u == *v.url)
                && vary::matches(knobs.vary_compare, &v.spec, &v.values, &req.headers)
        })
    }

    /// Drops the variants `goes` picks (the set is copied only when one does); returns
    /// how many went.
    fn remove_where(&mut self, goes: impl Fn(&Variant) -> bool) -> usize {
        if !self.variants.iter().any(|v| goes(v)) {
            return 0;
        }
        self.edit(|list| {
            let before = list.len();
            list.retain(|v| !goes(v));
            before - list.len()
        })
    }

    /// Bytes held, for capacity accounting.
    pub fn byte_size(&self) -> usize {
        self.variants
            .iter()
            .map(|v| v.response.byte_size() + 64)
            .sum()
    }
}

/// Result of offering a response for storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreResult {
    /// Stored under this readable key; `evicted` variants dropped by `max_variants`.
    Stored {
        /// Primary + secondary key.
        key: Arc<str>,
        /// Variants evicted by the cap.
        evicted: usize,
    },
    /// Not stored.
    NotStored(NoStore),
}

/// Decides whether and how `resp` would be stored for `req`, without storing it: the
/// variant to insert, or why not. Both drivers use this.
pub fn make_variant(
    knobs: &Knobs,
    req: &Request,
    resp: Arc<Response>,
    now: Timestamp,
    tag: Tag,
) -> Result<Variant, NoStore> {
    make_keyed_variant(knobs, req, &primary_key(knobs, req), resp, now, tag)
}

/// [`make_variant`] for a caller that has `req`'s primary key already.
fn make_keyed_variant(
    knobs: &Knobs,
    req: &Request,
    primary: &str,
    resp: Arc<Response>,
    now: Timestamp,
    tag: Tag,
) -> Result<Variant, NoStore> {
    let freshness = storable(knobs, req, &resp, now)?;
    let resp = strip_set_cookie(knobs, resp);
    let spec = vary::vary_spec(knobs, &resp.headers).map_err(|r| match r {
        VaryRefusal::Star => NoStore::VaryStar,
        VaryRefusal::BeyondAcceptEncoding => NoStore::VaryBeyondAcceptEncoding,
        VaryRefusal::NotAllowlisted => NoStore::VaryNotAllowlisted,
        VaryRefusal::TooLong => NoStore::VaryTooLong,
    })?;
    let values = vary::selecting_values(knobs.vary_compare, &spec, &req.headers);
    let secondary_hash = secondary_hash(&spec, &values);
    let secondary = vary::describe(&spec, &values);
    thread_local! {
        /// Where a stored variant's joined texts are put together before they are
        /// copied into their shared allocation: one buffer for every store, instead of
        /// a `String` built and dropped for each text.
        static JOINED: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    let joined = |parts: &[&str]| -> Arc<str> {
        JOINED.with(|b| {
            let mut b = b.borrow_mut();
            b.clear();
            parts.iter().for_each(|p| b.push_str(p));
            Arc::from(b.as_str())
        })
    };
    let key: Arc<str> = if secondary.is_empty() {
        Arc::from(primary)
    } else {
        // `primary [secondary]`, one per stored variant
        joined(&[primary, " [", &secondary, "]"])
    };
    let url = joined(&req.url_parts());
    Ok(Variant {
        spec,
        values,
        response: resp,
        stored_at: now,
        freshness,
        tag,
        key,
        url,
        secondary_hash,
    })
}

/// The response as stored: under [`crate::profile::SetCookie::Strip`] without its
/// `Set-Cookie` fields (Squid removes them from hits, CloudFront from every response).
pub fn strip_set_cookie(knobs: &Knobs, resp: Arc<Response>) -> Arc<Response> {
    if knobs.set_cookie != crate::profile::SetCookie::Strip || !resp.headers.contains("set-cookie")
    {
        return resp;
    }
    let mut r = Response::clone(&resp);
    r.headers.remove("set-cookie");
    Arc::new(r)
}

/// Whether a stored response replays a `Set-Cookie` to whoever gets it.
pub fn replays_set_cookie(resp: &Response) -> bool {
    resp.headers.contains("set-cookie")
}

/// Whether the profile forwards this request without looking it up.
pub fn pass_reason(knobs: &Knobs, req: &Request) -> Option<Fwd> {
    if !knobs.caches_method(&req.method) {
        return Some(Fwd::Method);
    }
    // one pass over the names for both fields (most requests carry neither)
    let passes = |n: &str| match n.len() {
        6 => knobs.pass_cookie && n.eq_ignore_ascii_case("cookie"),
        13 => knobs.pass_authorization && n.eq_ignore_ascii_case("authorization"),
        _ => false,
    };
    if (knobs.pass_cookie || knobs.pass_authorization) && req.headers.iter().any(|(n, _)| passes(n))
    {
        return Some(Fwd::Request);
    }
    None
}

/// Why [`pass_reason`] passes `req`, as a stable id: `method` (a method this edge does not
/// cache), `cookie` or `authorization` (a request the edge passes for carrying it, as
/// Varnish's builtin VCL does). The same reasons the proxy's `Cache-Status` gives as
/// `fwd=method` / `fwd=request`, spelled out for reports.
pub fn pass_detail(knobs: &Knobs, req: &Request) -> Option<&'static str> {
    if !knobs.caches_method(&req.method) {
        return Some("method");
    }
    if knobs.pass_cookie && req.headers.contains("cookie") {
        return Some("cookie");
    }
    if knobs.pass_authorization && req.headers.contains("authorization") {
        return Some("authorization");
    }
    None
}

#[derive(Clone, Debug)]
struct InFlight {
    done_at: Timestamp,
    response: Arc<Response>,
    variant: Option<Variant>,
    tag: Tag,
}

/// One cache (a POP or the shield), with its own store.
#[derive(Clone, Debug)]
pub struct Cache {
    knobs: Arc<Knobs>,
    map: HashMap<String, VariantSet, hash::FastBuild>,
    inflight: HashMap<String, InFlight, hash::FastBuild>,
    /// The last primary key built by [`Cache::decide`], kept for its buffer.
    key_buf: String,
}

impl Cache {
    /// An empty cache.
    pub fn new(knobs: Arc<Knobs>) -> Cache {
        Cache {
            knobs,
            map: HashMap::default(),
            inflight: HashMap::default(),
            key_buf: String::new(),
        }
    }

    /// The knobs.
    pub fn knobs(&self) -> &Knobs {
        &self.knobs
    }

    /// The edge's decision for `req` at `now` ([`decide::decide`]), with this cache's
    /// in-flight fetches resolved on virtual time: a forward that may join one that is
    /// still in flight, and may take its response ([`decide::share`]), is served it as
    /// `collapsed`.
    pub fn decide(&mut self, req: &Request, now: Timestamp) -> Decision {
        // the key is built in a buffer kept between requests: a hit allocates none
        let mut key = std::mem::take(&mut self.key_buf);
        key::primary_key_into(&self.knobs, req, &mut key);
        let set = self.map.get(key.as_str());
        let d = decide::decide_key(&self.knobs, std::borrow::Cow::Borrowed(&key), set, req, now);
        self.key_buf = key;
        match d {
            Decision::Forward(plan) if plan.join && !self.inflight.is_empty() => {
                match self.collapse_onto(&plan.key, req, now) {
                    Some(s) => Decision::Serve(s),
                    None => Decision::Forward(plan),
                }
            }
            d => d,
        }
    }

    /// A request arriving while another's fetch for the same key is in flight.
    fn collapse_onto(&mut self, key: &str, req: &Request, now: Timestamp) -> Option<Serve> {
        let f = self.inflight.get(key)?;
        if f.done_at <= now {
            self.inflight.remove(key);
            return None;
        }
        decide::share(
            &self.knobs,
            key,
            &f.response,
            f.variant.as_ref(),
            f.tag,
            req,
        )
    }

    /// Offers the origin's response to `req` for storage. `fetched_at` is when the fetch
    /// completes (the entry is visible from then on); `started_at` is when it began: with
    /// collapsing on, requests in between wait for it.
    pub fn store(
        &mut self,
        req: &Request,
        resp: Arc<Response>,
        started_at: Timestamp,
        fetched_at: Timestamp,
        tag: Tag,
    ) -> StoreResult {
        let key = primary_key(&self.knobs, req);
        self.store_keyed(key, req, resp, started_at, fetched_at, tag)
    }

    /// [`Cache::store`] with `req`'s primary key already built (the one
    /// [`Cache::decide`] put in its [`ForwardPlan`]), so it is not built again.
    pub fn store_under(
        &mut self,
        key: &str,
        req: &Request,
        resp: Arc<Response>,
        started_at: Timestamp,
        fetched_at: Timestamp,
        tag: Tag,
    ) -> StoreResult {
        debug_assert_eq!(key, primary_key(&self.knobs, req));
        self.store_keyed(key.to_string(), req, resp, started_at, fetched_at, tag)
    }

    /// [`Cache::store`] under `key`, `req`'s primary key.
    fn store_keyed(
        &mut self,
        key: String,
        req: &Request,
        resp: Arc<Response>,
        started_at: Timestamp,
        fetched_at: Timestamp,
        tag: Tag,
    ) -> StoreResult {
        // a HEAD miss was fetched as GET (`ForwardPlan::as_get`): its answer is a GET's
        let as_get;
        let req = if self.knobs.head_as_get && req.method == "HEAD" {
            as_get = Request {
                method: "GET".into(),
                ..req.clone()
            };
            &as_get
        } else {
            req
        };
        let made = make_keyed_variant(&self.knobs, req, &key, resp.clone(), fetched_at, tag);
        if self.knobs.collapse != Collapse::Off && fetched_at > started_at {
            self.inflight.insert(
                key.clone(),
                InFlight {
                    done_at: fetched_at,
                    response: resp,
                    variant: made.as_ref().ok().cloned(),
                    tag,
                },
            );
        }
        match made {
            Ok(v) => {
                let full = v.key.clone();
                let evicted = self
                    .map
                    .entry(key)
                    .or_default()
                    .insert(v, self.knobs.max_variants);
                StoreResult::Stored { key: full, evicted }
            }
            Err(e) => StoreResult::NotStored(e),
        }
    }

    /// RFC 9111 §4.4: after `req` got a response with `status` and `headers`, drops the
    /// stored responses it invalidates (when the profile invalidates at all). Returns how
    /// many variants went.
    pub fn invalidate_after(
        &mut self,
        req: &Request,
        status: u16,
        headers: &crate::fields::Headers,
    ) -> usize {
        let urls = invalidated_urls(&self.knobs, req, status, headers);
        if urls.is_empty() {
            return 0;
        }
        let mut n = 0;
        for set in self.map.values_mut() {
            n += set.invalidate_for(&self.knobs, req, &urls);
        }
        self.map.retain(|_, s| !s.variants.is_empty());
        n
    }

    /// The stored response a forwarded `req` may revalidate or fall back on: the
    /// `Vary`-matching visible variant under its primary key, fresh or not (see
    /// [`revalidation_candidate`]).
    pub fn candidate(&self, req: &Request, now: Timestamp) -> Option<Variant> {
        let key = primary_key(&self.knobs, req);
        revalidation_candidate(&self.knobs, self.map.get(&key), req, now)
    }

    /// Number of primary keys and of stored variants.
    pub fn len(&self) -> (usize, usize) {
        (
            self.map.len(),
            self.map.values().map(|s| s.variants.len()).sum(),
        )
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Bytes held by every stored variant (what `fix` reports as a cost).
    pub fn byte_size(&self) -> usize {
        self.map.values().map(VariantSet::byte_size).sum()
    }
}

/// Looks `req` up among the variants stored under its primary key (`set`, `None`
/// when nothing is stored there) at `now`: [`Lookup::Hit`], [`Lookup::Stale`] (within
/// `stale-while-revalidate`) or [`Lookup::Miss`] with the reason. Passing and collapsing
/// are the caller's ([`pass_reason`], [`collapse_shares`]): [`decide()`] sequences them.
pub fn lookup_stored(
    knobs: &Knobs,
    set: Option<&VariantSet>,
    req: &Request,
    now: Timestamp,
) -> Lookup {
    let set = match set {
        Some(s) if !s.variants.is_empty() => s,
        _ => return Lookup::Miss(Fwd::UriMiss),
    };
    let Some(v) = set.select(knobs, req, now) else {
        return Lookup::Miss(Fwd::VaryMiss);
    };
    // ATS: a request with Authorization is not served what the response did not share
    // (RFC 9111 §3.5 read as a reuse rule); it is forwarded, and its answer stored
    if knobs.authorization == knobs::AuthorizationRule::AtLookup
        && req.headers.contains("authorization")
        && !crate::fields::CacheControl::parse(&v.response.headers, "cache-control")
            .is_some_and(|cc| freshness::shareable_with_authorization(&cc))
    {
        return Lookup::Miss(Fwd::Request);
    }
    let ttl = v.freshness.ttl_ms(v.stored_at, now);
    let served = served_from(v, now);
    let rcc = request_directives(knobs, req);
    if rcc.no_cache {
        return Lookup::Miss(Fwd::Request);
    }
    let age = v.freshness.age_ms(v.stored_at, now) as i64;
    // RFC 9111 §5.2.1.1: max-age=N "the client prefers a response whose age is less
    // than or equal to the specified number of seconds"; §5.2.1.3 min-fresh=N: "fresh
    // for at least the specified number of seconds".
    // `max-age=0` is how a browser asks for validation (Chromium sends it with a page's
    // conditional request, Squid's refresh check always forwards it): a stored response
    // is never accepted as 0 s old, though the simulator's clock can make it exactly that.
    let too_old = rcc.max_age.is_some_and(|m| m == 0 || age > m as i64 * 1000);
    let min_fresh = rcc.min_fresh.map_or(0, |m| m as i64 * 1000);
    if ttl > min_fresh && !too_old {
        return Lookup::Hit(served);
    }
    // §5.2.1.2: max-stale "indicates that the client will accept a response that has
    // exceeded its freshness lifetime" (never past must-revalidate, §5.2.2.2).
    let accepts_stale = match rcc.max_stale {
        Some(None) => true,
        Some(Some(n)) => ttl + n as i64 * 1000 >= 0,
        None => false,
    };
    if accepts_stale && !too_old && !v.freshness.must_revalidate && ttl <= 0 {
        return Lookup::Hit(served);
    }
    if ttl > 0 {
        return Lookup::Miss(Fwd::Request);
    }
    if ttl + v.freshness.swr_ms as i64 > 0 {
        return Lookup::Stale(served);
    }
    Lookup::Miss(Fwd::Stale)
}

/// What serving `v` at `now` looks like (age, ttl, tag, key).
pub fn served_from(v: &Variant, now: Timestamp) -> Served {
    Served {
        response: v.response.clone(),
        age_secs: v.freshness.age_ms(v.stored_at, now) / 1000,
        ttl_secs: v.freshness.ttl_ms(v.stored_at, now).div_euclid(1000),
        tag: v.tag,
        key: v.key.clone(),
    }
}

/// The request's cache directives when the profile honours them (RFC 9111 §5.2.1),
/// else none. `Pragma: no-cache` counts as `Cache-Control: no-cache` when the request
/// has no `Cache-Control` (§5.4).
pub fn request_directives(knobs: &Knobs, req: &Request) -> crate::fields::CacheControl {
    if !knobs.request_cache_control {
        return crate::fields::CacheControl::default();
    }
    match crate::fields::CacheControl::parse(&req.headers, "cache-control") {
        // ATS ignore_client_no_cache / ignore_client_cc_max_age: a client cannot force a
        // reload (nor keep the answer out of the cache), but may still ask for fresher,
        // staler or cached-only answers
        Some(cc) if knobs.ignore_client_reload => crate::fields::CacheControl {
            no_cache: false,
            max_age: None,
            no_store: false,
            ..cc
        },
        Some(cc) => cc,
        None if knobs.ignore_client_reload => crate::fields::CacheControl::default(),
        None => crate::fields::CacheControl {
            no_cache: req
                .headers
                .list("pragma")
                .iter()
                .any(|p| p.eq_ignore_ascii_case("no-cache")),
            ..Default::default()
        },
    }
}

/// RFC 9111 §5.2.1.7: a request with `only-if-cached` that the cache cannot answer from
/// store gets a `504 Gateway Timeout` (when the profile honours request directives).
pub fn only_if_cached(knobs: &Knobs, req: &Request) -> bool {
    request_directives(knobs, req).only_if_cached
}

/// The stored variant (fresh or stale) under `set` that a forwarded `req` may revalidate
/// (RFC 9111 §4.3.1) or fall back on when the origin fails (§4.2.4, RFC 5861 §4).
pub fn revalidation_candidate(
    knobs: &Knobs,
    set: Option<&VariantSet>,
    req: &Request,
    now: Timestamp,
) -> Option<Variant> {
    set?.select(knobs, req, now).cloned()
}

/// The URLs whose stored responses `req`'s answer invalidates under `knobs`
/// ([`invalidate::targets`], made absolute).
pub fn invalidated_urls(
    knobs: &Knobs,
    req: &Request,
    status: u16,
    headers: &crate::fields::Headers,
) -> Vec<String> {
    if !knobs.invalidate_unsafe {
        return Vec::new();
    }
    let mut targets = invalidate::targets(req, status, headers);
    if !knobs.invalidate_locations {
        targets.truncate(1);
    }
    targets
        .into_iter()
        .map(|t| format!("{}://{}{t}", req.scheme, req.host))
        .collect()
}

/// How a forwarded request that had a stored candidate ends, decided from the origin's
/// answer.
#[derive(Clone, Debug)]
pub enum Revalidated {
    /// A `304` selected the stored response (RFC 9111 §4.3.4): this freshened copy is
    /// stored in its place and served.
    Freshened(Arc<Response>),
    /// The origin failed and the stale stored response is served instead (RFC 9111
    /// §4.2.4 when disconnected, RFC 5861 §4 `stale-if-error`).
    ServeStale,
    /// The origin's answer stands (stored or not as [`make_variant`] says).
    Replaced,
}

/// What the origin's answer to a forwarded request means for the stored `candidate`
/// (a variant found by [`revalidation_candidate`]; `stored` is its response and
/// `freshness`/`stored_at` its state). `resp` is `None` when the origin could not be
/// reached at all.
pub fn after_forward(
    knobs: &Knobs,
    candidate: &Variant,
    resp: Option<&Response>,
    now: Timestamp,
) -> Revalidated {
    let stale_for_ms = -candidate.freshness.ttl_ms(candidate.stored_at, now);
    let f = &candidate.freshness;
    match resp {
        Some(r) if r.status == 304 => {
            if validate::selects(&candidate.response, r) {
                Revalidated::Freshened(Arc::new(validate::freshen(&candidate.response, r)))
            } else {
                Revalidated::Replaced
            }
        }
        // RFC 5861 §4: "when an error is encountered … a 500, 502, 503, or 504 status
        // code" or no answer at all
        Some(r) if matches!(r.status, 500 | 502 | 503 | 504) => {
            let sie = knobs.stale_if_error && stale_for_ms <= f.sie_ms as i64 && f.sie_ms > 0;
            // Squid's TCP_REFRESH_FAIL_OLD, ATS's negative revalidating: a stale entry
            // stands in for the error unless it must not be served stale
            let own = knobs.stale_on_revalidation_error && stale_for_ms >= 0 && !f.must_revalidate;
            if sie || own {
                Revalidated::ServeStale
            } else {
                Revalidated::Replaced
            }
        }
        Some(_) => Revalidated::Replaced,
        None => {
            let sie = knobs.stale_if_error && f.sie_ms > 0 && stale_for_ms <= f.sie_ms as i64;
            let disconnected = knobs.stale_on_disconnect && !f.must_revalidate;
            if sie || disconnected {
                Revalidated::ServeStale
            } else {
                Revalidated::Replaced
            }
        }
    }
}

/// What a client gets from a stored (or freshened) response `stored` for `req`: a `304`
/// when its own conditional matches (RFC 9111 §4.3.2), a `206` slice or `416` for a
/// single byte `Range` (RFC 9110 §14), else the stored response itself.
pub fn deliver(req: &Request, stored: &Arc<Response>) -> Arc<Response> {
    // Most requests carry none of the three fields either answer reads: one pass over
    // the names instead of a lookup of each (the two below look up four in all).
    if !asks_for_part(req) {
        return stored.clone();
    }
    if validate::client_not_modified(req, stored) {
        return Arc::new(validate::not_modified(stored));
    }
    match range::answer(req, stored) {
        range::RangeAnswer::Whole => stored.clone(),
        range::RangeAnswer::Slice(a, b) => Arc::new(range::slice(stored, a, b)),
        range::RangeAnswer::Unsatisfiable => Arc::new(range::unsatisfiable(stored)),
    }
}

/// Whether `req` has a field that may make [`deliver`] answer other than the stored
/// response whole: `If-None-Match` or `If-Modified-Since` (a `304`,
/// [`validate::client_not_modified`]) or `Range` (a slice, [`range::answer`]; `If-Range`
/// alone does nothing without it).
fn asks_for_part(req: &Request) -> bool {
    req.headers.iter().any(|(n, _)| match n.len() {
        5 => n.eq_ignore_ascii_case("range"),
        13 => n.eq_ignore_ascii_case("if-none-match"),
        17 => n.eq_ignore_ascii_case("if-modified-since"),
        _ => false,
    })
}

/// Whether a request waiting on another's in-flight fetch takes its response: never with
/// collapsing off; always when naive; with `on`, only a response that is stored
/// (`variant`) and whose `Vary` matches the waiter.
pub fn collapse_shares(knobs: &Knobs, variant: Option<&Variant>, req: &Request) -> bool {
    match (knobs.collapse, variant) {
        (Collapse::Off, _) => false,
        (Collapse::Naive, _) => true,
        (Collapse::On, Some(v)) => {
            vary::matches(knobs.vary_compare, &v.spec, &v.values, &req.headers)
        }
        (Collapse::On, None) => false,
    }
}

/// What a collapsed waiter is served: the leader's response, age 0, its freshness
/// lifetime as `ttl`, under the leader's full key (or the primary key when not stored).
pub fn collapsed_served(
    key: &str,
    response: Arc<Response>,
    variant: Option<&Variant>,
    tag: Tag,
) -> Served {
    Served {
        response,
        age_secs: 0,
        ttl_secs: variant.map_or(0, |v| v.freshness.lifetime_ms as i64 / 1000),
        tag,
        key: variant.map_or_else(|| Arc::from(key), |v| v.key.clone()),
    }
}

#[cfg(test)]
mod set_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Headers;
    use crate::profile::{profile, VaryMode};
    use crate::time::SIM_EPOCH;

    fn get(origin: Option<&str>) -> Request {
        let mut h = Headers::new();
        if let Some(o) = origin {
            h.append("origin", o);
        }
        Request {
            method: "GET".into(),
            scheme: "https".into(),
            host: "api".into(),
            target: "/d".into(),
            headers: h,
        }
    }

    fn reflect(origin: Option<&str>, vary: bool) -> Arc<Response> {
        let mut h = Headers::from_pairs([("cache-control", "max-age=60")]);
        if let Some(o) = origin {
            h.append("access-control-allow-origin", o);
        }
        if vary {
            h.append("vary", "Origin");
        }
        Arc::new(Response::new(200, h))
    }

    fn cache(knobs: Knobs) -> Cache {
        Cache::new(Arc::new(knobs))
    }

    impl Cache {
        /// The decision seen as a [`Lookup`], as these tests check it.
        fn lookup(&mut self, req: &Request, now: Timestamp) -> ((), Lookup) {
            let lk = match self.decide(req, now) {
                Decision::Serve(s) => match s.outcome {
                    Outcome::Hit => Lookup::Hit(s.served),
                    Outcome::Stale => Lookup::Stale(s.served),
                    _ => Lookup::Collapsed(s.served),
                },
                Decision::Forward(p) if p.pass => Lookup::Pass(p.fwd),
                Decision::Forward(p) => Lookup::Miss(p.fwd),
                Decision::OnlyIfCached { .. } => panic!("only-if-cached"),
            };
            ((), lk)
        }
    }

    #[test]
    fn honor_keeps_one_variant_per_origin() {
        let mut c = cache(Knobs::rfc9111());
        let (a, b) = (Some("https://a"), Some("https://b"));
        assert!(matches!(
            c.lookup(&get(a), SIM_EPOCH).1,
            Lookup::Miss(Fwd::UriMiss)
        ));
        c.store(&get(a), reflect(a, true), SIM_EPOCH, SIM_EPOCH, 0);
        assert!(matches!(
            c.lookup(&get(b), SIM_EPOCH).1,
            Lookup::Miss(Fwd::VaryMiss)
        ));
        c.store(&get(b), reflect(b, true), SIM_EPOCH, SIM_EPOCH, 1);
        match c.lookup(&get(a), SIM_EPOCH.plus_secs(1)).1 {
            Lookup::Hit(s) => {
                assert_eq!(s.tag, 0);
                assert_eq!(&*s.key, "GET https://api/d [origin=https://a]");
                assert_eq!(s.ttl_secs, 59);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            c.lookup(&get(None), SIM_EPOCH).1,
            Lookup::Miss(Fwd::VaryMiss)
        ));
        assert_eq!(c.len(), (1, 2));
    }

    #[test]
    fn ignore_serves_the_first_origin_to_everyone() {
        let mut k = Knobs::rfc9111();
        k.vary = VaryMode::Ignore;
        let mut c = cache(k);
        c.store(
            &get(Some("https://a")),
            reflect(Some("https://a"), true),
            SIM_EPOCH,
            SIM_EPOCH,
            7,
        );
        match c.lookup(&get(Some("https://b")), SIM_EPOCH).1 {
            Lookup::Hit(s) => assert_eq!(s.tag, 7),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn expiry_and_stale_while_revalidate() {
        let mut c = cache(Knobs::rfc9111());
        c.store(&get(None), reflect(None, false), SIM_EPOCH, SIM_EPOCH, 0);
        assert!(matches!(
            c.lookup(&get(None), SIM_EPOCH.plus_secs(59)).1,
            Lookup::Hit(_)
        ));
        assert!(matches!(
            c.lookup(&get(None), SIM_EPOCH.plus_secs(60)).1,
            Lookup::Miss(Fwd::Stale)
        ));
        let swr = Arc::new(Response::new(
            200,
            Headers::from_pairs([("cache-control", "max-age=10, stale-while-revalidate=30")]),
        ));
        c.store(&get(None), swr, SIM_EPOCH, SIM_EPOCH, 1);
        assert!(matches!(
            c.lookup(&get(None), SIM_EPOCH.plus_secs(20)).1,
            Lookup::Stale(_)
        ));
        assert!(matches!(
            c.lookup(&get(None), SIM_EPOCH.plus_secs(41)).1,
            Lookup::Miss(Fwd::Stale)
        ));
    }

    /// RFC 5861 §3 is a MAY: with `stale_while_revalidate` off (nginx, Squid, ATS by
    /// default) an expired entry is refetched inside the window, never served stale.
    #[test]
    fn stale_while_revalidate_off_refetches_inside_the_window() {
        let mut k = Knobs::rfc9111();
        k.stale_while_revalidate = false;
        let mut c = cache(k);
        let swr = Arc::new(Response::new(
            200,
            Headers::from_pairs([("cache-control", "max-age=10, stale-while-revalidate=30")]),
        ));
        c.store(&get(None), swr, SIM_EPOCH, SIM_EPOCH, 0);
        assert!(matches!(
            c.lookup(&get(None), SIM_EPOCH.plus_secs(9)).1,
            Lookup::Hit(_)
        ));
        assert!(matches!(
            c.lookup(&get(None), SIM_EPOCH.plus_secs(20)).1,
            Lookup::Miss(Fwd::Stale)
        ));
    }

    /// What the cache serves `secs` after storing one answer with `cc` under `k`.
    fn served_after(k: &Knobs, cc: &str, secs: u64) -> &'static str {
        let mut c = cache(k.clone());
        let r = Arc::new(Response::new(
            200,
            Headers::from_pairs([("cache-control", cc)]),
        ));
        c.store(&get(None), r, SIM_EPOCH, SIM_EPOCH, 0);
        match c.lookup(&get(None), SIM_EPOCH.plus_secs(secs)).1 {
            Lookup::Hit(_) => "hit",
            Lookup::Stale(_) => "stale",
            // expired, or never stored: either way the request goes to the origin
            Lookup::Miss(Fwd::Stale | Fwd::UriMiss) => "refetch",
            other => panic!("{other:?}"),
        }
    }

    /// Varnish's grace: `default_grace` (10 s) where the answer has no
    /// stale-while-revalidate, must-revalidate or not (RFC2616_Ttl reads neither it nor
    /// proxy-revalidate); the directive where there is one; a VCL's fixed grace over both;
    /// none for an object Varnish makes hit-for-miss (TTL 0, `no-cache`).
    #[test]
    fn a_grace_of_its_own_serves_stale_whatever_must_revalidate_says() {
        let varnish = profile("varnish").unwrap().knobs;
        assert_eq!(varnish.grace.default, 10);
        assert_eq!(
            served_after(&varnish, "max-age=2, must-revalidate", 11),
            "stale"
        );
        assert_eq!(
            served_after(&varnish, "max-age=2, must-revalidate", 12),
            "refetch"
        );
        assert_eq!(served_after(&varnish, "max-age=2", 1), "hit");
        assert_eq!(
            served_after(&varnish, "max-age=2, stale-while-revalidate=0", 3),
            "refetch"
        );
        assert_eq!(
            served_after(&varnish, "max-age=2, stale-while-revalidate=60", 61),
            "stale"
        );
        assert_eq!(served_after(&varnish, "max-age=0", 1), "refetch");
        // TTL 0 is hit-for-miss: not even the directive's window (tests/fidelity z42)
        assert_eq!(
            served_after(&varnish, "max-age=0, stale-while-revalidate=60", 1),
            "refetch"
        );
        assert_eq!(
            served_after(&varnish, "no-cache, max-age=60", 61),
            "refetch"
        );
        let mut fixed = varnish.clone();
        fixed.grace.fixed = Some(3600);
        assert_eq!(
            served_after(&fixed, "max-age=2, stale-while-revalidate=5", 3000),
            "stale"
        );
        assert_eq!(
            served_after(&fixed, "max-age=2, stale-while-revalidate=5", 3603),
            "refetch"
        );
        assert_eq!(served_after(&fixed, "max-age=0", 1), "refetch");
        // a cache without one (every other profile) refetches as soon as it expires
        for p in ["nginx", "squid", "ats", "rfc9111"] {
            let k = profile(p).unwrap().knobs;
            assert_eq!(served_after(&k, "max-age=2", 3), "refetch", "{p}");
        }
        // RFC 9111 §5.2.2.4: a no-cache answer is never reused without validation, not
        // even inside its stale-while-revalidate window
        let rfc = Knobs::rfc9111();
        assert_eq!(
            served_after(&rfc, "no-cache, stale-while-revalidate=60", 1),
            "refetch"
        );
        assert_eq!(
            served_after(&rfc, "max-age=0, stale-while-revalidate=60", 1),
            "stale"
        );
    }

    #[test]
    fn max_variants_replaces_the_oldest() {
        let mut c = cache(profile("ats").unwrap().knobs);
        for i in 0..6 {
            let o = format!("https://c{i}");
            c.store(
                &get(Some(&o)),
                reflect(Some(&o), true),
                SIM_EPOCH,
                SIM_EPOCH,
                i,
            );
        }
        assert_eq!(c.len(), (1, 5));
        assert!(matches!(
            c.lookup(&get(Some("https://c0")), SIM_EPOCH).1,
            Lookup::Miss(Fwd::VaryMiss)
        ));
        assert!(matches!(
            c.lookup(&get(Some("https://c5")), SIM_EPOCH).1,
            Lookup::Hit(_)
        ));
    }

    #[test]
    fn varnish_passes_cookie_and_other_methods() {
        let mut c = cache(profile("varnish").unwrap().knobs);
        let mut r = get(None);
        r.headers.append("cookie", "session=1");
        assert!(matches!(
            c.lookup(&r, SIM_EPOCH).1,
            Lookup::Pass(Fwd::Request)
        ));
        r.method = "PUT".into();
        assert!(matches!(
            c.lookup(&r, SIM_EPOCH).1,
            Lookup::Pass(Fwd::Method)
        ));
    }

    #[test]
    fn collapsing_vary_aware_and_naive() {
        let mut k = Knobs::rfc9111();
        k.collapse = Collapse::On;
        let mut c = cache(k.clone());
        let a = Some("https://a");
        c.store(
            &get(a),
            reflect(a, true),
            SIM_EPOCH,
            SIM_EPOCH.plus_ms(100),
            0,
        );
        assert!(matches!(
            c.lookup(&get(a), SIM_EPOCH.plus_ms(50)).1,
            Lookup::Collapsed(_)
        ));
        assert!(matches!(
            c.lookup(&get(Some("https://b")), SIM_EPOCH.plus_ms(50)).1,
            Lookup::Miss(_)
        ));
        assert!(matches!(
            c.lookup(&get(a), SIM_EPOCH.plus_ms(100)).1,
            Lookup::Hit(_)
        ));
        k.collapse = Collapse::Naive;
        let mut n = cache(k);
        n.store(
            &get(a),
            reflect(a, true),
            SIM_EPOCH,
            SIM_EPOCH.plus_ms(100),
            0,
        );
        match n.lookup(&get(Some("https://b")), SIM_EPOCH.plus_ms(50)).1 {
            Lookup::Collapsed(s) => assert_eq!(s.tag, 0),
            other => panic!("{other:?}"),
        }
    }

    fn tagged(cc: &str) -> Arc<Response> {
        Arc::new(Response::new(
            200,
            Headers::from_pairs([("cache-control", cc), ("etag", "\"v1\""), ("a", "1")]),
        ))
    }

    #[test]
    fn stale_entry_is_a_revalidation_candidate_and_a_304_freshens_it() {
        let mut c = cache(Knobs::rfc9111());
        c.store(&get(None), tagged("max-age=10"), SIM_EPOCH, SIM_EPOCH, 3);
        let later = SIM_EPOCH.plus_secs(11);
        assert!(matches!(
            c.lookup(&get(None), later).1,
            Lookup::Miss(Fwd::Stale)
        ));
        let cand = c.candidate(&get(None), later).unwrap();
        let nm = Response::new(304, Headers::from_pairs([("etag", "\"v1\""), ("a", "2")]));
        match after_forward(c.knobs(), &cand, Some(&nm), later) {
            Revalidated::Freshened(r) => {
                assert_eq!(r.status, 200);
                assert_eq!(r.headers.get("a"), Some("2"));
            }
            other => panic!("{other:?}"),
        }
        let other = Response::new(304, Headers::from_pairs([("etag", "\"v2\"")]));
        assert!(matches!(
            after_forward(c.knobs(), &cand, Some(&other), later),
            Revalidated::Replaced
        ));
    }

    /// Squid (TCP_REFRESH_FAIL_OLD) and ATS (negative revalidating) serve a stale entry
    /// when its revalidation gets a 500/502/503/504, stale-if-error or not, unless
    /// must-revalidate, proxy-revalidate, no-cache or s-maxage forbid it; Varnish, nginx
    /// and the RFC reading pass the error on (tests/fidelity z54).
    #[test]
    fn a_5xx_to_a_revalidation_serves_stale_at_squid_and_ats() {
        let e500 = Response::new(500, Headers::new());
        let at = |s| SIM_EPOCH.plus_secs(s);
        let stale_served = |p: &str, cc: &str| {
            let k = profile(p).unwrap().knobs;
            let mut c = cache(k.clone());
            c.store(&get(None), tagged(cc), SIM_EPOCH, SIM_EPOCH, 0);
            let cand = c.candidate(&get(None), at(20)).unwrap();
            matches!(
                after_forward(&k, &cand, Some(&e500), at(20)),
                Revalidated::ServeStale
            )
        };
        for p in ["squid", "ats"] {
            assert!(stale_served(p, "max-age=10"), "{p}");
            for cc in [
                "max-age=10, must-revalidate",
                "max-age=10, proxy-revalidate",
                "s-maxage=10",
            ] {
                assert!(!stale_served(p, cc), "{p} {cc}");
            }
        }
        for p in ["rfc9111", "varnish", "nginx"] {
            assert!(!stale_served(p, "max-age=10"), "{p}");
        }
        // without a validator there is nothing to revalidate with, but the decision
        // keeps the stale entry as the candidate to fall back on
        let ats = profile("ats").unwrap().knobs;
        let mut c = cache(ats);
        let bare = Response::new(200, Headers::from_pairs([("cache-control", "max-age=10")]));
        c.store(&get(None), Arc::new(bare), SIM_EPOCH, SIM_EPOCH, 0);
        match c.decide(&get(None), at(20)) {
            Decision::Forward(plan) => assert!(plan.candidate.is_some() && !plan.validate),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stale_on_error_and_disconnect() {
        let k = Knobs::rfc9111();
        let mut c = cache(k.clone());
        c.store(
            &get(None),
            tagged("max-age=10, stale-if-error=60"),
            SIM_EPOCH,
            SIM_EPOCH,
            0,
        );
        let cand = c.candidate(&get(None), SIM_EPOCH.plus_secs(20)).unwrap();
        let e503 = Response::new(503, Headers::new());
        let at = |s| SIM_EPOCH.plus_secs(s);
        assert!(matches!(
            after_forward(&k, &cand, Some(&e503), at(20)),
            Revalidated::ServeStale
        ));
        assert!(matches!(
            after_forward(&k, &cand, Some(&e503), at(80)),
            Revalidated::Replaced
        ));
        assert!(matches!(
            after_forward(&k, &cand, None, at(80)),
            Revalidated::ServeStale
        ));
        let mut strict = cache(k.clone());
        strict.store(
            &get(None),
            tagged("max-age=10, must-revalidate"),
            SIM_EPOCH,
            SIM_EPOCH,
            0,
        );
        let cand = strict.candidate(&get(None), at(20)).unwrap();
        assert!(matches!(
            after_forward(&k, &cand, None, at(20)),
            Revalidated::Replaced
        ));
        let nginx = profile("nginx").unwrap().knobs;
        let cand = c.candidate(&get(None), at(20)).unwrap();
        assert!(matches!(
            after_forward(&nginx, &cand, Some(&e503), at(20)),
            Revalidated::Replaced
        ));
    }

    #[test]
    fn request_directives_when_honoured() {
        let mut c = cache(Knobs::rfc9111());
        c.store(&get(None), tagged("max-age=100"), SIM_EPOCH, SIM_EPOCH, 0);
        let with = |v: &str| {
            let mut r = get(None);
            r.headers.append("cache-control", v);
            r
        };
        let at = SIM_EPOCH.plus_secs(50);
        assert!(matches!(
            c.lookup(&with("no-cache"), at).1,
            Lookup::Miss(Fwd::Request)
        ));
        assert!(matches!(
            c.lookup(&with("max-age=10"), at).1,
            Lookup::Miss(Fwd::Request)
        ));
        assert!(matches!(
            c.lookup(&with("min-fresh=60"), at).1,
            Lookup::Miss(Fwd::Request)
        ));
        assert!(matches!(
            c.lookup(&with("max-stale=60"), SIM_EPOCH.plus_secs(150)).1,
            Lookup::Hit(_)
        ));
        let mut p = get(None);
        p.headers.append("pragma", "no-cache");
        assert!(matches!(c.lookup(&p, at).1, Lookup::Miss(Fwd::Request)));
        let mut cf = cache(profile("cloudfront").unwrap().knobs);
        cf.store(&get(None), tagged("max-age=100"), SIM_EPOCH, SIM_EPOCH, 0);
        assert!(matches!(cf.lookup(&with("no-cache"), at).1, Lookup::Hit(_)));
    }

    /// ATS (tests/fidelity z11, z24, z23): a client cannot force a reload but may ask for
    /// fresher or cached-only answers; an Authorization request is not served what the
    /// stored response did not share, and others are.
    #[test]
    fn ats_request_directives_and_authorization() {
        let mut c = cache(profile("ats").unwrap().knobs);
        c.store(&get(None), tagged("max-age=100"), SIM_EPOCH, SIM_EPOCH, 0);
        let with = |n: &str, v: &str| {
            let mut r = get(None);
            r.headers.append(n, v);
            r
        };
        let at = SIM_EPOCH.plus_secs(50);
        for (n, v) in [
            ("cache-control", "no-cache"),
            ("cache-control", "max-age=0"),
            ("pragma", "no-cache"),
        ] {
            assert!(matches!(c.lookup(&with(n, v), at).1, Lookup::Hit(_)), "{v}");
        }
        assert!(matches!(
            c.lookup(&with("cache-control", "min-fresh=60"), at).1,
            Lookup::Miss(Fwd::Request)
        ));
        assert!(matches!(
            c.lookup(
                &with("cache-control", "max-stale=60"),
                SIM_EPOCH.plus_secs(150)
            )
            .1,
            Lookup::Hit(_)
        ));
        let ns = with("cache-control", "no-store");
        assert!(request_directives(c.knobs(), &ns) == crate::fields::CacheControl::default());
        let auth = with("authorization", "Bearer x");
        assert!(matches!(c.lookup(&auth, at).1, Lookup::Miss(Fwd::Request)));
        assert!(matches!(c.lookup(&get(None), at).1, Lookup::Hit(_)));
        c.store(
            &get(None),
            tagged("public, max-age=100"),
            SIM_EPOCH,
            SIM_EPOCH,
            1,
        );
        assert!(matches!(c.lookup(&auth, at).1, Lookup::Hit(_)));
    }

    #[test]
    fn unsafe_methods_invalidate_where_the_profile_does() {
        let mut c = cache(Knobs::rfc9111());
        c.store(
            &get(Some("https://a")),
            reflect(Some("https://a"), true),
            SIM_EPOCH,
            SIM_EPOCH,
            0,
        );
        c.store(
            &get(Some("https://b")),
            reflect(Some("https://b"), true),
            SIM_EPOCH,
            SIM_EPOCH,
            1,
        );
        let mut post = get(None);
        post.method = "POST".into();
        assert_eq!(c.invalidate_after(&post, 500, &Headers::new()), 0);
        assert_eq!(c.invalidate_after(&post, 200, &Headers::new()), 2);
        assert!(c.is_empty());
        let mut v = cache(profile("varnish").unwrap().knobs);
        v.store(&get(None), reflect(None, false), SIM_EPOCH, SIM_EPOCH, 0);
        assert_eq!(v.invalidate_after(&post, 200, &Headers::new()), 0);
        // ATS: an unsafe request without Origin selects no Vary: Origin variant and
        // invalidates nothing; one with a stored Origin takes them all
        let mut ats = cache(profile("ats").unwrap().knobs);
        for (i, o) in [(0, "https://a"), (1, "https://b")] {
            ats.store(
                &get(Some(o)),
                reflect(Some(o), true),
                SIM_EPOCH,
                SIM_EPOCH,
                i,
            );
        }
        assert_eq!(ats.invalidate_after(&post, 200, &Headers::new()), 0);
        let mut post_a = get(Some("https://a"));
        post_a.method = "POST".into();
        assert_eq!(ats.invalidate_after(&post_a, 200, &Headers::new()), 1);
        assert!(matches!(
            ats.lookup(&get(Some("https://b")), SIM_EPOCH).1,
            Lookup::Hit(_)
        ));
        // nor does ATS follow Location (the RFC's MAY)
        let loc = Headers::from_pairs([("location", "/elsewhere")]);
        assert_eq!(
            invalidated_urls(ats.knobs(), &post_a, 201, &loc).len(),
            1,
            "the target only"
        );
        assert_eq!(
            invalidated_urls(&Knobs::rfc9111(), &post_a, 201, &loc).len(),
            2
        );
    }

    #[test]
    fn deliver_answers_conditionals_and_ranges() {
        let stored = Arc::new(Response {
            status: 200,
            headers: Headers::from_pairs([("etag", "\"v1\"")]),
            body: Arc::from(&b"0123456789"[..]),
        });
        let mut r = get(None);
        assert!(Arc::ptr_eq(&deliver(&r, &stored), &stored));
        r.headers.append("range", "bytes=2-3");
        let p = deliver(&r, &stored);
        assert_eq!((p.status, &p.body[..]), (206, &b"23"[..]));
        r.headers.append("if-none-match", "\"v1\"");
        assert_eq!(deliver(&r, &stored).status, 304);
    }

    /// Each field `deliver` answers on changes the answer alone, whatever its case; other
    /// fields, `If-Range` without `Range` among them, leave the stored response whole.
    #[test]
    fn deliver_looks_at_each_of_its_fields() {
        let stored = Arc::new(Response {
            status: 200,
            headers: Headers::from_pairs([
                ("etag", "\"v1\""),
                ("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ]),
            body: Arc::from(&b"0123456789"[..]),
        });
        for (name, value, status) in [
            ("If-None-Match", "\"v1\"", 304),
            ("if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT", 304),
            ("RANGE", "bytes=0-0", 206),
            ("if-range", "\"v1\"", 200),
            ("x-range", "bytes=0-0", 200),
            ("if-none-matcx", "\"v1\"", 200),
        ] {
            let mut r = get(None);
            r.headers = Headers::from_pairs([(name, value)]);
            let d = deliver(&r, &stored);
            assert_eq!(d.status, status, "{name}");
            assert_eq!(Arc::ptr_eq(&d, &stored), status == 200, "{name}");
        }
    }

    #[test]
    fn pass_details_name_the_reason() {
        let k = profile("varnish").unwrap().knobs;
        let mut r = get(Some("https://a"));
        assert_eq!(pass_detail(&k, &r), None);
        r.headers.append("cookie", "s=1");
        assert_eq!(pass_detail(&k, &r), Some("cookie"));
        assert_eq!(pass_reason(&k, &r), Some(Fwd::Request));
        r.method = "POST".into();
        assert_eq!(pass_detail(&k, &r), Some("method"));
        let mut r = get(None);
        r.headers.append("authorization", "Bearer x");
        assert_eq!(pass_detail(&k, &r), Some("authorization"));
        assert_eq!(pass_detail(&profile("nginx").unwrap().knobs, &r), None);
    }

    /// `pass_reason` (one pass over the names) passes exactly the requests
    /// `pass_detail` (a lookup per field) names a reason for, under every built-in
    /// profile, look-alike names of the same length included.
    #[test]
    fn pass_reason_agrees_with_pass_detail() {
        let fields: [&[(&str, &str)]; 6] = [
            &[],
            &[("Cookie", "s=1")],
            &[("authorization", "Bearer x")],
            &[("accept", "*/*"), ("cookie", "s=1"), ("Authorization", "x")],
            &[("x-cook", "1"), ("x-authorizati", "1")],
            &[("cookies", "1"), ("authorization2", "1")],
        ];
        for p in crate::profile::builtin_profiles() {
            for method in ["GET", "POST", "OPTIONS"] {
                for f in fields {
                    let mut r = get(None);
                    r.method = method.into();
                    r.headers = Headers::from_pairs(f.iter().copied());
                    let (reason, detail) = (pass_reason(&p.knobs, &r), pass_detail(&p.knobs, &r));
                    assert_eq!(
                        reason.is_some(),
                        detail.is_some(),
                        "{} {method} {f:?}",
                        p.name
                    );
                    assert_eq!(reason == Some(Fwd::Method), detail == Some("method"));
                }
            }
        }
    }

    #[test]
    fn not_stored_reasons_surface() {
        let mut c = cache(profile("akamai").unwrap().knobs);
        let r = c.store(
            &get(Some("https://a")),
            reflect(Some("https://a"), true),
            SIM_EPOCH,
            SIM_EPOCH,
            0,
        );
        assert_eq!(r, StoreResult::NotStored(NoStore::VaryBeyondAcceptEncoding));
    }
}
