//! The proxy's store: `moka::sync::Cache<primary key, Arc<Entry>>`, where an [`Entry`] is
//! the core's [`VariantSet`] plus, per variant, what the wire needs to serve it again
//! (a ready header block and the body as shared [`Bytes`]) and who stored it.
//!
//! moka is sharded and lock-free on reads, so hits do not serialise on a lock. Updates
//! are copy-on-write under moka's per-key `and_compute_with` (copy the set, insert with
//! the core's [`VariantSet::insert`], put it back); variants and their wire forms are
//! shared (`Arc`), so the copy is a vector of pointers, not the variants. The weigher
//! ([`super::weigh`]) counts the bytes each entry holds, so `max_capacity` bounds them.

use super::metrics::{inc, Metrics};
use crate::edge::{self, Decision, ForwardPlan, Serve, Tag, Variant, VariantSet};
use crate::message::Request;
use crate::profile::Knobs;
use crate::time::Timestamp;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use moka::notification::RemovalCause;
use moka::ops::compute::Op;
use serde::Serialize;
use std::sync::Arc;

/// One stored response as the wire sends it.
#[derive(Debug)]
pub struct Wire {
    /// Status.
    pub status: http::StatusCode,
    /// The upstream's header block, hop-by-hop fields removed, in order: names (standard
    /// ones take no allocation) and values that are slices of one shared buffer. A hit
    /// builds its `http::HeaderMap` from these ([`Wire::header_map`]) by cloning
    /// pointers; a stored `HeaderMap` cost ~2 KB per entry for 7 fields.
    headers: Box<[(HeaderName, HeaderValue)]>,
    /// Whether the block has a `Set-Cookie`.
    pub set_cookie: bool,
    /// The body, shared by every hit.
    pub body: Bytes,
    /// The full key, for `Cache-Status` (shared with the core's [`Variant::key`]).
    pub key: Arc<str>,
}

impl Wire {
    /// The wire form of a response with header block `h` (values are copied once, into
    /// one buffer).
    pub fn new(status: http::StatusCode, h: &HeaderMap, body: Bytes, key: Arc<str>) -> Wire {
        let mut text = Vec::with_capacity(h.iter().map(|(_, v)| v.len()).sum());
        for v in h.values() {
            text.extend_from_slice(v.as_bytes());
        }
        let text = Bytes::from(text);
        let mut at = 0;
        let headers = h
            .iter()
            .map(|(n, v)| {
                let bytes = text.slice(at..at + v.len());
                at += v.len();
                // the bytes are a valid value's own: this does not fail, but never panic
                let mut c = HeaderValue::from_maybe_shared(bytes).unwrap_or_else(|_| v.clone());
                c.set_sensitive(v.is_sensitive());
                (n.clone(), c)
            })
            .collect();
        Wire {
            status,
            headers,
            set_cookie: h.contains_key(http::header::SET_COOKIE),
            body,
            key,
        }
    }

    /// The header block as a map with room for `extra` more fields.
    pub fn header_map(&self, extra: usize) -> HeaderMap {
        let mut h = HeaderMap::with_capacity(self.headers.len() + extra);
        for (n, v) in self.headers.iter() {
            h.append(n.clone(), v.clone());
        }
        h
    }

    /// The stored fields.
    pub fn fields(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }
}

/// The request whose response was stored (named in warnings and `/.varyedge/entries`).
#[derive(Clone, Debug, Serialize)]
pub struct StoredBy {
    /// The proxy's request number.
    pub tag: Tag,
    /// `METHOD target`.
    pub request: Box<str>,
    /// Its `Origin`, if any.
    pub origin: Option<Box<str>>,
    /// Whether it carried credentials (Cookie or Authorization).
    pub credentials: bool,
}

/// What the proxy keeps beside one variant.
#[derive(Clone, Debug)]
pub struct Stored {
    /// How to send it.
    pub wire: Arc<Wire>,
    /// Who stored it.
    pub by: Arc<StoredBy>,
}

/// Everything stored under one primary key.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The core's variants.
    pub set: VariantSet,
    /// Wire form and author of each variant, sorted by the variant's tag (found by
    /// binary search: a URL may hold thousands of variants).
    pub stored: Vec<(Tag, Stored)>,
    /// The request target (path and query) the key was made from (for purge by URL).
    pub target: Box<str>,
}

impl Entry {
    /// The target's path (purge by URL without a query).
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    fn stored(&self, tag: Tag) -> Option<&Stored> {
        self.stored
            .binary_search_by_key(&tag, |(t, _)| *t)
            .ok()
            .map(|i| &self.stored[i].1)
    }

    /// Drops the wire forms of variants the set no longer holds: O(n log n), not a scan
    /// of the set per wire form (quadratic at thousands of variants per URL).
    fn keep_only_held(&mut self) {
        let mut held: Vec<Tag> = self.set.variants.iter().map(|v| v.tag).collect();
        held.sort_unstable();
        self.stored.retain(|(t, _)| held.binary_search(t).is_ok());
    }

    /// Adds (or replaces) the wire form of variant `tag`, keeping the order by tag.
    fn put_stored(&mut self, tag: Tag, stored: Stored) {
        match self.stored.binary_search_by_key(&tag, |(t, _)| *t) {
            Ok(i) => self.stored[i].1 = stored,
            Err(i) => self.stored.insert(i, (tag, stored)),
        }
    }

    /// What moka weighs: the bytes really held (see [`super::weigh`]).
    fn weight(&self, key: &str) -> u32 {
        u32::try_from(super::weigh::entry(key, self)).unwrap_or(u32::MAX)
    }
}

/// The store's hasher for primary keys. moka's default is SipHash-1-3; its concurrent
/// table hashes every key again each time it grows or sheds the tombstones evictions
/// leave, which made hashing ~10 % of the proxy's CPU on a miss-only load
/// (`benches/load/README.md`). foldhash is seeded at random per process, so request
/// targets chosen to collide cannot be precomputed.
type KeyHasher = foldhash::fast::RandomState;

/// The store.
pub struct Store {
    cache: moka::sync::Cache<String, Arc<Entry>, KeyHasher>,
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
        // LRU, not moka's default TinyLFU: TinyLFU makes an entry visible at once but
        // decides later, when moka applies its pending writes, whether to admit it; at
        // capacity a new entry that is not yet more frequent than the least recently used
        // ones it would displace is then removed again. A hot key stored while the store
        // was full of a previous run's entries vanished that way mid-run and every
        // connection missed at once (benches/soak/README.md). An edge cache keeps what it
        // just stored and evicts the least recently used (as Varnish and nginx do).
        let cache = moka::sync::Cache::builder()
            .max_capacity(capacity)
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .weigher(|k: &String, e: &Arc<Entry>| e.weight(k))
            .eviction_listener(move |_k, _v, cause| {
                if cause == RemovalCause::Size {
                    inc(&metrics.evictions);
                }
            })
            .build_with_hasher(KeyHasher::default());
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
        let key = edge::primary_key(&self.knobs, req);
        let entry = self.cache.get(&key);
        let set = entry.as_deref().map(|e| &e.set);
        let wire = |tag: Tag| entry.as_deref().and_then(|e| e.stored(tag)).cloned();
        let gone = |req: &Request| {
            let key = edge::primary_key(&self.knobs, req);
            let join = self.knobs.collapse != crate::profile::Collapse::Off;
            Decided::Forward(
                ForwardPlan::plain(key, edge::Fwd::UriMiss, false, join),
                None,
            )
        };
        match edge::decide(&self.knobs, key, set, req, now) {
            Decision::Serve(s) => match wire(s.served.tag) {
                Some(stored) => Decided::Serve(s, stored),
                None => gone(req),
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
    pub fn invalidate(&self, urls: &[String]) -> usize {
        if urls.is_empty() {
            return 0;
        }
        let keys: Vec<Arc<String>> = self
            .cache
            .iter()
            .filter(|(_, e)| {
                e.set
                    .variants
                    .iter()
                    .any(|v| v.key.starts_with("GET ") && urls.iter().any(|u| **u == *v.url))
            })
            .map(|(k, _)| k)
            .collect();
        let mut dropped = 0;
        for k in keys {
            self.cache.entry_by_ref(k.as_str()).and_compute_with(|old| {
                let Some(old) = old else { return Op::Nop };
                let mut e = Entry::clone(&old.into_value());
                dropped += e.set.invalidate(urls);
                e.keep_only_held();
                if e.set.variants.is_empty() {
                    Op::Remove
                } else {
                    Op::Put(Arc::new(e))
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
        let tag = variant.tag;
        self.cache.entry_by_ref(key).and_compute_with(|old| {
            let mut e = match old {
                Some(o) => {
                    let o = o.into_value();
                    // pointers only: the variants are shared, the index is rebuilt below
                    Entry {
                        set: o.set.unindexed_copy(),
                        stored: o.stored.clone(),
                        target: o.target.clone(),
                    }
                }
                None => Entry {
                    set: VariantSet::default(),
                    stored: Vec::new(),
                    target: req.target.as_str().into(),
                },
            };
            evicted = e.set.insert(variant, max);
            e.keep_only_held();
            e.put_stored(tag, stored);
            let mut w = super::weigh::entry(key, &e);
            while w > budget && e.set.variants.len() > 1 {
                // drop the oldest eighth (at least one) and weigh again
                let n = (e.set.variants.len() / 8).max(1);
                e.set.drop_oldest(n);
                evicted += n;
                e.keep_only_held();
                w = super::weigh::entry(key, &e);
            }
            Op::Put(Arc::new(e))
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
        let doomed: Vec<Arc<String>> = self
            .cache
            .iter()
            .filter(|(_, e)| {
                if with_query {
                    *e.target == *target
                } else {
                    e.path() == target
                }
            })
            .map(|(k, _)| k)
            .collect();
        for k in &doomed {
            self.cache.invalidate(k.as_str());
        }
        self.cache.run_pending_tasks();
        doomed.len()
    }

    /// Removes everything. Returns how many keys there were.
    pub fn purge_all(&self) -> usize {
        self.cache.run_pending_tasks();
        let n = self.cache.entry_count() as usize;
        self.cache.invalidate_all();
        self.cache.run_pending_tasks();
        n
    }

    /// `(primary keys, bytes held, capacity)`, after applying pending evictions.
    pub fn size(&self) -> (u64, u64, u64) {
        self.cache.run_pending_tasks();
        (
            self.cache.entry_count(),
            self.cache.weighted_size(),
            self.capacity,
        )
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
        self.cache.run_pending_tasks();
        let mut best: std::collections::BinaryHeap<Arc<String>> = Default::default();
        let mut more = false;
        for (k, _) in self.cache.iter() {
            if after.is_some_and(|a| k.as_str() <= a) {
                continue;
            }
            if best.len() < limit {
                best.push(k);
            } else if best.peek().is_some_and(|top| k < *top) {
                best.pop();
                best.push(k);
                more = true;
            } else {
                more = true;
            }
        }
        let keys = best.into_sorted_vec();
        let page = keys
            .iter()
            .filter_map(|k| Some(self.info(k, &*self.cache.get(k.as_str())?, now)))
            .collect();
        (page, more)
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
                        stored_by: StoredBy::clone(&s.by),
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
        let buf = Bytes::from(vec![b'a'; 8192]);
        let mut h = HeaderMap::new();
        for (name, range) in [("x-a", 0..3), ("set-cookie", 3..5), ("x-a", 5..9)] {
            let v = HeaderValue::from_maybe_shared(buf.slice(range)).unwrap();
            h.append(http::HeaderName::from_static(name), v);
        }
        let w = Wire::new(http::StatusCode::OK, &h, Bytes::new(), Arc::from("k"));
        drop(h);
        assert!(buf.is_unique(), "the read buffer is still referenced");
        assert!(w.set_cookie);
        let m = w.header_map(4);
        let got: Vec<(&str, &[u8])> = m.iter().map(|(n, v)| (n.as_str(), v.as_bytes())).collect();
        assert_eq!(
            got,
            [
                ("x-a", &b"aaa"[..]),
                ("x-a", b"aaaa"),
                ("set-cookie", b"aa")
            ]
        );
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
        let stored = Stored {
            wire: Arc::new(Wire::new(
                http::StatusCode::OK,
                &wire,
                Bytes::new(),
                v.key.clone(),
            )),
            by: Arc::new(StoredBy {
                tag,
                request: format!("GET {target}").into(),
                origin: None,
                credentials: false,
            }),
        };
        let key = edge::primary_key(store.knobs(), &req);
        store.insert(&key, &req, v, stored);
    }

    fn held(store: &Store, target: &str) -> bool {
        let key = edge::primary_key(store.knobs(), &get(target));
        store.cache.contains_key(&key)
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
