//! The proxy's store: `moka::sync::Cache<primary key, Arc<Entry>>`, where an [`Entry`] is
//! the core's [`VariantSet`] plus, per variant, what the wire needs to serve it again
//! (a ready header block and the body as shared [`Bytes`]) and who stored it.
//!
//! moka is sharded and lock-free on reads, so hits do not serialise on a lock. Updates
//! are copy-on-write under moka's per-key `and_compute_with` (clone the set, insert with
//! the core's [`VariantSet::insert`], put it back); the weigher is the set's
//! [`VariantSet::byte_size`], so `max_capacity` bounds the bytes held.

use super::metrics::{inc, Metrics};
use crate::edge::{self, Lookup, Served, Tag, Variant, VariantSet};
use crate::message::Request;
use crate::profile::Knobs;
use crate::time::Timestamp;
use bytes::Bytes;
use moka::notification::RemovalCause;
use moka::ops::compute::Op;
use serde::Serialize;
use std::sync::Arc;

/// One stored response as the wire sends it.
#[derive(Debug)]
pub struct Wire {
    /// Status.
    pub status: http::StatusCode,
    /// The upstream's header block, hop-by-hop fields removed.
    pub headers: http::HeaderMap,
    /// The body, shared by every hit.
    pub body: Bytes,
    /// The full key, for `Cache-Status`.
    pub key: String,
}

/// The request whose response was stored (named in warnings and `/.varyedge/entries`).
#[derive(Clone, Debug, Serialize)]
pub struct StoredBy {
    /// The proxy's request number.
    pub tag: Tag,
    /// `METHOD target`.
    pub request: String,
    /// Its `Origin`, if any.
    pub origin: Option<String>,
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
    /// Wire form and author of each variant, by the variant's tag.
    pub stored: Vec<(Tag, Stored)>,
    /// The request path the key was made from (for purge by URL).
    pub path: String,
    /// The request target (path and query).
    pub target: String,
}

impl Entry {
    fn stored(&self, tag: Tag) -> Option<&Stored> {
        self.stored.iter().find(|(t, _)| *t == tag).map(|(_, s)| s)
    }

    fn weight(&self) -> u32 {
        let extra: usize = self
            .stored
            .iter()
            .map(|(_, s)| s.by.request.len() + 96)
            .sum();
        u32::try_from(self.set.byte_size() + extra + self.path.len() + self.target.len())
            .unwrap_or(u32::MAX)
    }
}

/// The store.
pub struct Store {
    cache: moka::sync::Cache<String, Arc<Entry>>,
    knobs: Arc<Knobs>,
    capacity: u64,
}

/// A lookup's answer with what the wire needs to serve it.
pub enum Found {
    /// Serve this stored response (fresh, or stale within `stale-while-revalidate`).
    Serve {
        /// The core's answer (`Hit` or `Stale`).
        fresh: bool,
        /// Age, ttl, key, tag.
        served: Served,
        /// Wire form and author.
        stored: Stored,
    },
    /// Forward, for this reason.
    Forward(edge::Fwd),
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
    pub fn new(knobs: Arc<Knobs>, capacity: u64, metrics: Arc<Metrics>) -> Store {
        let cache = moka::sync::Cache::builder()
            .max_capacity(capacity)
            .weigher(|_k: &String, e: &Arc<Entry>| e.weight())
            .eviction_listener(move |_k, _v, cause| {
                if cause == RemovalCause::Size {
                    inc(&metrics.evictions);
                }
            })
            .build();
        Store {
            cache,
            knobs,
            capacity,
        }
    }

    /// The knobs.
    pub fn knobs(&self) -> &Knobs {
        &self.knobs
    }

    /// Looks `req` up under its primary key `key` at `now`, deciding with the core's
    /// [`edge::lookup_stored`].
    pub fn lookup(&self, key: &str, req: &Request, now: Timestamp) -> Found {
        let entry = self.cache.get(key);
        let set = entry.as_deref().map(|e| &e.set);
        let (fresh, served) = match edge::lookup_stored(&self.knobs, set, req, now) {
            Lookup::Hit(s) => (true, s),
            Lookup::Stale(s) => (false, s),
            Lookup::Miss(f) | Lookup::Pass(f) => return Found::Forward(f),
            Lookup::Collapsed(_) => return Found::Forward(edge::Fwd::UriMiss),
        };
        match entry.as_deref().and_then(|e| e.stored(served.tag)) {
            Some(stored) => Found::Serve {
                fresh,
                served,
                stored: stored.clone(),
            },
            None => Found::Forward(edge::Fwd::UriMiss),
        }
    }

    /// Stores `variant` (made by the core's [`edge::make_variant`]) under `key`,
    /// copy-on-write. Returns how many variants `max_variants` dropped.
    pub fn insert(&self, key: &str, req: &Request, variant: Variant, stored: Stored) -> usize {
        let max = self.knobs.max_variants;
        let mut evicted = 0;
        let tag = variant.tag;
        self.cache.entry_by_ref(key).and_compute_with(|old| {
            let mut e = match old {
                Some(o) => Entry::clone(&o.into_value()),
                None => Entry {
                    set: VariantSet::default(),
                    stored: Vec::new(),
                    path: req.path().to_string(),
                    target: req.target.clone(),
                },
            };
            evicted = e.set.insert(variant, max);
            let set = &e.set;
            e.stored
                .retain(|(t, _)| *t != tag && set.variants.iter().any(|v| v.tag == *t));
            e.stored.push((tag, stored));
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
                    e.target == target
                } else {
                    e.path == target
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

    /// Every entry, sorted by key, for `/.varyedge/entries`.
    pub fn entries(&self, now: Timestamp) -> Vec<EntryInfo> {
        self.cache.run_pending_tasks();
        let mut out: Vec<EntryInfo> = self
            .cache
            .iter()
            .map(|(k, e)| EntryInfo {
                key: k.to_string(),
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
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }
}
