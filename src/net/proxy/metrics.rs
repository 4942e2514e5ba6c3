//! Counters of the proxy: plain atomics (no lock on the hit path), rendered as JSON
//! (`/.varyedge/stats`) and in the Prometheus text exposition format
//! (`/.varyedge/metrics`, <https://prometheus.io/docs/instrumenting/exposition_formats/>).

use serde::Serialize;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Every counter the proxy keeps.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests handled (admin endpoints excluded).
    pub requests: AtomicU64,
    /// Served from a fresh stored response.
    pub hits: AtomicU64,
    /// Served a stale response within `stale-while-revalidate`.
    pub stale: AtomicU64,
    /// Forwarded; the response could be stored.
    pub misses: AtomicU64,
    /// Forwarded, never stored (method, Cookie/Authorization).
    pub passes: AtomicU64,
    /// Took another request's in-flight response.
    pub collapsed: AtomicU64,
    /// Responses stored.
    pub stores: AtomicU64,
    /// Responses not stored although the request could have been (no-store, private, …).
    pub not_stored: AtomicU64,
    /// Storable responses not stored because they were not received whole.
    pub incomplete: AtomicU64,
    /// Storable responses larger than the per-object limit.
    pub too_large: AtomicU64,
    /// Primary keys evicted by the capacity bound.
    pub evictions: AtomicU64,
    /// Variants dropped by `max_variants`.
    pub variant_evictions: AtomicU64,
    /// Primary keys removed by purge.
    pub purged: AtomicU64,
    /// Served responses whose browser verdict differs from the upstream's own answer's.
    pub cache_induced: AtomicU64,
    /// Of those, the ones the cache made fail (the rest it wrongly allowed).
    pub cache_induced_blocked: AtomicU64,
    /// Requests answered 502 (upstream unreachable or broken).
    pub upstream_errors: AtomicU64,
    /// Requests answered 504 (upstream too slow).
    pub upstream_timeouts: AtomicU64,
    /// Requests refused with a 4xx by the proxy itself.
    pub bad_requests: AtomicU64,
    /// Requests the proxy sent upstream to learn the upstream's own answer for a verdict.
    pub judge_fetches: AtomicU64,
    /// Stored responses with `Set-Cookie` served from the store (warned once each).
    pub set_cookie_replayed: AtomicU64,
}

/// A point-in-time copy of the counters, with the store's size.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Snapshot {
    pub requests: u64,
    pub hits: u64,
    pub stale: u64,
    pub misses: u64,
    pub passes: u64,
    pub collapsed: u64,
    pub stores: u64,
    pub not_stored: u64,
    pub incomplete: u64,
    pub too_large: u64,
    pub evictions: u64,
    pub variant_evictions: u64,
    pub purged: u64,
    pub cache_induced: u64,
    pub cache_induced_blocked: u64,
    pub cache_induced_allowed: u64,
    pub upstream_errors: u64,
    pub upstream_timeouts: u64,
    pub bad_requests: u64,
    pub judge_fetches: u64,
    pub set_cookie_replayed: u64,
    /// Primary keys stored.
    pub entries: u64,
    /// Bytes held by the store (its weighted size).
    pub bytes: u64,
    /// The capacity bound in bytes.
    pub capacity: u64,
}

/// Adds one.
pub fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    /// Copies the counters; `entries`, `bytes` and `capacity` come from the store.
    pub fn snapshot(&self, entries: u64, bytes: u64, capacity: u64) -> Snapshot {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let ci = g(&self.cache_induced);
        let cib = g(&self.cache_induced_blocked);
        Snapshot {
            requests: g(&self.requests),
            hits: g(&self.hits),
            stale: g(&self.stale),
            misses: g(&self.misses),
            passes: g(&self.passes),
            collapsed: g(&self.collapsed),
            stores: g(&self.stores),
            not_stored: g(&self.not_stored),
            incomplete: g(&self.incomplete),
            too_large: g(&self.too_large),
            evictions: g(&self.evictions),
            variant_evictions: g(&self.variant_evictions),
            purged: g(&self.purged),
            cache_induced: ci,
            cache_induced_blocked: cib,
            cache_induced_allowed: ci.saturating_sub(cib),
            upstream_errors: g(&self.upstream_errors),
            upstream_timeouts: g(&self.upstream_timeouts),
            bad_requests: g(&self.bad_requests),
            judge_fetches: g(&self.judge_fetches),
            set_cookie_replayed: g(&self.set_cookie_replayed),
            entries,
            bytes,
            capacity,
        }
    }
}

impl Snapshot {
    /// The Prometheus text exposition format (version 0.0.4).
    pub fn prometheus(&self) -> String {
        let mut o = String::with_capacity(2048);
        let mut m = |name: &str, kind: &str, help: &str, v: u64| {
            let _ = writeln!(o, "# HELP varyedge_{name} {help}");
            let _ = writeln!(o, "# TYPE varyedge_{name} {kind}");
            let _ = writeln!(o, "varyedge_{name} {v}");
        };
        m(
            "requests_total",
            "counter",
            "Requests handled, admin endpoints excluded.",
            self.requests,
        );
        m(
            "hits_total",
            "counter",
            "Responses served from a fresh stored response.",
            self.hits,
        );
        m(
            "stale_total",
            "counter",
            "Stale responses served within stale-while-revalidate.",
            self.stale,
        );
        m(
            "misses_total",
            "counter",
            "Requests forwarded whose response could be stored.",
            self.misses,
        );
        m(
            "passes_total",
            "counter",
            "Requests forwarded without lookup (method, Cookie, Authorization).",
            self.passes,
        );
        m(
            "collapsed_total",
            "counter",
            "Requests answered with another request's in-flight response.",
            self.collapsed,
        );
        m("stores_total", "counter", "Responses stored.", self.stores);
        m(
            "not_stored_total",
            "counter",
            "Responses the cache rules refused to store.",
            self.not_stored,
        );
        m(
            "incomplete_total",
            "counter",
            "Storable responses not stored because they were not received whole.",
            self.incomplete,
        );
        m(
            "too_large_total",
            "counter",
            "Storable responses above the per-object size limit.",
            self.too_large,
        );
        m(
            "evictions_total",
            "counter",
            "Primary keys evicted by the capacity bound.",
            self.evictions,
        );
        m(
            "variant_evictions_total",
            "counter",
            "Variants dropped by max_variants.",
            self.variant_evictions,
        );
        m(
            "purged_total",
            "counter",
            "Primary keys removed by purge.",
            self.purged,
        );
        m(
            "cache_induced_total",
            "counter",
            "Served responses whose browser verdict differs from the upstream's own answer.",
            self.cache_induced,
        );
        m(
            "cache_induced_blocked_total",
            "counter",
            "Cache-induced CORS failures (blocked by the cache).",
            self.cache_induced_blocked,
        );
        m(
            "cache_induced_allowed_total",
            "counter",
            "Responses wrongly allowed because of the cache.",
            self.cache_induced_allowed,
        );
        m(
            "upstream_errors_total",
            "counter",
            "Requests answered 502.",
            self.upstream_errors,
        );
        m(
            "upstream_timeouts_total",
            "counter",
            "Requests answered 504.",
            self.upstream_timeouts,
        );
        m(
            "bad_requests_total",
            "counter",
            "Requests refused with a 4xx by the proxy.",
            self.bad_requests,
        );
        m(
            "judge_fetches_total",
            "counter",
            "Upstream requests made to judge a served response.",
            self.judge_fetches,
        );
        m(
            "set_cookie_replayed_total",
            "counter",
            "Stored responses with Set-Cookie served from the store (first hit of each).",
            self.set_cookie_replayed,
        );
        m("entries", "gauge", "Primary keys stored.", self.entries);
        m("bytes", "gauge", "Bytes held by the store.", self.bytes);
        m(
            "capacity_bytes",
            "gauge",
            "The store's capacity bound in bytes.",
            self.capacity,
        );
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_format() {
        let m = Metrics::default();
        inc(&m.hits);
        inc(&m.cache_induced);
        let t = m.snapshot(3, 1000, 4096).prometheus();
        assert!(t.contains("# TYPE varyedge_hits_total counter\nvaryedge_hits_total 1\n"));
        assert!(t.contains("varyedge_cache_induced_allowed_total 1\n"));
        assert!(t.contains("# TYPE varyedge_bytes gauge\nvaryedge_bytes 1000\n"));
        for line in t.lines().filter(|l| !l.starts_with('#')) {
            let (name, v) = line.split_once(' ').unwrap();
            assert!(
                name.starts_with("varyedge_") && v.parse::<u64>().is_ok(),
                "{line}"
            );
        }
    }
}
