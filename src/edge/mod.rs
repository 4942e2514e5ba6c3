//! The edge core: cache keys, RFC 9111 storage and `Vary` matching, freshness on a clock
//! it is handed, request collapsing, POPs and a shield tier. Pure and synchronous: the
//! driver (simulator or proxy) asks [`Cache::lookup`], does the IO, and hands the origin's
//! answer to [`Cache::store`]. Knows nothing of CORS beyond header names.

mod cache_status;
pub mod freshness;
pub mod hash;
pub mod key;
pub mod knobs;
pub mod vary;

pub use cache_status::{sf_string, CacheStatus, CACHE_NAME};
pub use freshness::{storable, Freshness, NoStore};
pub use key::primary_key;
pub use vary::{VaryRefusal, VarySpec};

use crate::edge::knobs::{Collapse, Knobs};
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
    pub values: Vec<Option<String>>,
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
    seq: u64,
}

impl Variant {
    /// Readable secondary key.
    pub fn secondary(&self) -> String {
        vary::describe(&self.spec, &self.values)
    }
}

/// All variants stored under one primary key (pure: the proxy keeps these in moka).
#[derive(Clone, Debug, Default)]
pub struct VariantSet {
    /// Variants, oldest first.
    pub variants: Vec<Variant>,
}

impl VariantSet {
    /// The most recently stored visible variant whose `Vary` matches `req` (RFC 9111 §4.1:
    /// with several matches, the most recent is used).
    pub fn select(&self, knobs: &Knobs, req: &Request, now: Timestamp) -> Option<&Variant> {
        self.variants.iter().rev().find(|v| {
            v.stored_at <= now
                && vary::matches(knobs.vary_compare, &v.spec, &v.values, &req.headers)
        })
    }

    /// Adds a variant, replacing one with the same secondary key, then evicting the oldest
    /// beyond `max_variants`. Returns how many were evicted by the cap.
    pub fn insert(&mut self, v: Variant, max_variants: Option<usize>) -> usize {
        self.variants
            .retain(|o| !(o.spec == v.spec && o.values == v.values));
        self.variants.push(v);
        let mut evicted = 0;
        if let Some(max) = max_variants {
            while self.variants.len() > max.max(1) {
                self.variants.remove(0);
                evicted += 1;
            }
        }
        evicted
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
    let freshness = storable(knobs, req, &resp, now)?;
    let spec = vary::vary_spec(knobs, &resp.headers).map_err(|r| match r {
        VaryRefusal::Star => NoStore::VaryStar,
        VaryRefusal::BeyondAcceptEncoding => NoStore::VaryBeyondAcceptEncoding,
        VaryRefusal::NotAllowlisted => NoStore::VaryNotAllowlisted,
    })?;
    let values = vary::selecting_values(knobs.vary_compare, &spec, &req.headers);
    let secondary = vary::describe(&spec, &values);
    let primary = primary_key(knobs, req);
    let key: Arc<str> = if secondary.is_empty() {
        Arc::from(primary)
    } else {
        Arc::from(format!("{primary} [{secondary}]"))
    };
    Ok(Variant {
        spec,
        values,
        response: resp,
        stored_at: now,
        freshness,
        tag,
        key,
        seq: 0,
    })
}

/// Whether the profile forwards this request without looking it up.
pub fn pass_reason(knobs: &Knobs, req: &Request) -> Option<Fwd> {
    if !knobs.caches_method(&req.method) {
        return Some(Fwd::Method);
    }
    if (knobs.pass_cookie && req.headers.contains("cookie"))
        || (knobs.pass_authorization && req.headers.contains("authorization"))
    {
        return Some(Fwd::Request);
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
    seq: u64,
}

impl Cache {
    /// An empty cache.
    pub fn new(knobs: Arc<Knobs>) -> Cache {
        Cache {
            knobs,
            map: HashMap::default(),
            inflight: HashMap::default(),
            seq: 0,
        }
    }

    /// The knobs.
    pub fn knobs(&self) -> &Knobs {
        &self.knobs
    }

    /// Looks `req` up at `now`. Returns the primary key with the answer.
    pub fn lookup(&mut self, req: &Request, now: Timestamp) -> (String, Lookup) {
        let key = primary_key(&self.knobs, req);
        if let Some(fwd) = pass_reason(&self.knobs, req) {
            return (key, Lookup::Pass(fwd));
        }
        let fwd = match lookup_stored(&self.knobs, self.map.get(&key), req, now) {
            Lookup::Miss(fwd) => fwd,
            found => return (key, found),
        };
        if self.inflight.is_empty() {
            return (key, Lookup::Miss(fwd));
        }
        if let Some(c) = self.collapse_onto(&key, req, now) {
            return (key, Lookup::Collapsed(c));
        }
        (key, Lookup::Miss(fwd))
    }

    /// A request arriving while another's fetch for the same key is in flight.
    fn collapse_onto(&mut self, key: &str, req: &Request, now: Timestamp) -> Option<Served> {
        let f = self.inflight.get(key)?;
        if f.done_at <= now {
            self.inflight.remove(key);
            return None;
        }
        collapse_shares(&self.knobs, f.variant.as_ref(), req)
            .then(|| collapsed_served(key, f.response.clone(), f.variant.as_ref(), f.tag))
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
        let made = make_variant(&self.knobs, req, resp.clone(), fetched_at, tag);
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
            Ok(mut v) => {
                self.seq += 1;
                v.seq = self.seq;
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
}

/// Looks `req` up among the variants stored under its primary key (`set`, `None`
/// when nothing is stored there) at `now`: [`Lookup::Hit`], [`Lookup::Stale`] (within
/// `stale-while-revalidate`) or [`Lookup::Miss`] with the reason. Passing and collapsing
/// are the caller's ([`pass_reason`], [`collapse_shares`]). [`Cache::lookup`] and the
/// proxy's store both decide with this.
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
    let ttl = v.freshness.ttl_ms(v.stored_at, now);
    let served = Served {
        response: v.response.clone(),
        age_secs: v.freshness.age_ms(v.stored_at, now) / 1000,
        ttl_secs: ttl.div_euclid(1000),
        tag: v.tag,
        key: v.key.clone(),
    };
    if ttl > 0 {
        return Lookup::Hit(served);
    }
    if ttl + v.freshness.swr_ms as i64 > 0 {
        return Lookup::Stale(served);
    }
    Lookup::Miss(Fwd::Stale)
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
