//! Fetch §4.9 "CORS-preflight cache" (<https://fetch.spec.whatwg.org/#cors-preflight-cache>).
//!
//! Entries are (byte-serialised origin, URL, credentials, method or header name) with an
//! expiry. The network partition key is ignored: one [`super::Browser`] is one partition.
//! Lookups do not allocate; the URL is compared piecewise with the fetch's parts.

use super::{CacheItem, Credentials, Fetch, PreflightCache, PreflightEntry};
use crate::time::Timestamp;

/// Whether `url` is `scheme://host` + `target` (as [`crate::message::Request::url`]
/// builds it), without allocating.
fn url_is(url: &str, f: &Fetch) -> bool {
    url.strip_prefix(f.scheme.as_str())
        .and_then(|r| r.strip_prefix("://"))
        .and_then(|r| r.strip_prefix(f.host.as_str()))
        .is_some_and(|r| r == f.target)
}

/// The URL string a cache entry stores.
pub(super) fn url_of(f: &Fetch) -> String {
    let mut s = String::with_capacity(f.scheme.len() + 3 + f.host.len() + f.target.len());
    s.push_str(&f.scheme);
    s.push_str("://");
    s.push_str(&f.host);
    s.push_str(&f.target);
    s
}

/// Item texts (method and header names) handed out before, per thread: a browser stores
/// the same few names preflight after preflight, and sharing the text it already has
/// spares an allocation and a copy for each.
const SHARED_NAMES: usize = 16;

thread_local! {
    static NAMES: std::cell::RefCell<(Vec<std::sync::Arc<str>>, usize)> =
        const { std::cell::RefCell::new((Vec::new(), 0)) };
}

/// `name` as shared text: one handed out before with the same bytes, else a new one,
/// remembered in place of the oldest once [`SHARED_NAMES`] are.
pub(super) fn shared_name(name: &str) -> std::sync::Arc<str> {
    NAMES.with(|n| {
        let (names, next) = &mut *n.borrow_mut();
        if let Some(found) = names.iter().find(|t| t.as_bytes() == name.as_bytes()) {
            return found.clone();
        }
        let made: std::sync::Arc<str> = std::sync::Arc::from(name);
        if names.len() < SHARED_NAMES {
            names.push(made.clone());
        } else {
            names[*next] = made.clone();
            *next = (*next + 1) % SHARED_NAMES;
        }
        made
    })
}

impl PreflightEntry {
    /// Fetch §4.9 "cache entry match": same origin and URL, not expired, and either the
    /// entry was made with credentials or the request is not `include` (a credentialed
    /// entry also answers uncredentialed requests, not the other way round).
    fn matches(&self, now: Timestamp, f: &Fetch) -> bool {
        now < self.expires
            && (self.credentials || f.credentials != Credentials::Include)
            && *self.origin == *f.origin
            && url_is(&self.url, f)
    }

    /// Whether a `*` this entry holds may stand for any method or header name. The Fetch
    /// standard keeps `*` items from a credentialed preflight and lets them match any
    /// later request that is not `include`. Chromium does not: its cached
    /// `PreflightResult` remembers whether the preflight that made it was credentialed
    /// and reads `*` as a wildcard only when it was not
    /// (`services/network/cors/preflight_result.cc`, `EnsureAllowedCrossOriginMethod`
    /// and `-Headers` test the entry's `credentials_`, not the new request's mode).
    /// Measured on Chromium 156 (case v08): after a credentialed PUT answered
    /// `Access-Control-Allow-Headers: *, x-a`, an uncredentialed PUT with x-b sent a new
    /// preflight.
    fn wildcard_counts(&self, chrome: bool) -> bool {
        !(chrome && self.credentials)
    }
}

impl PreflightCache {
    /// An empty cache.
    pub fn new() -> PreflightCache {
        PreflightCache::default()
    }

    /// Number of entries held, expired ones included until the next store purges them.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entries are held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.entries = Default::default();
    }

    /// Fetch §4.9 "method cache entry match": an entry for exactly this method (byte
    /// case-sensitive), or for `*` when the request's credentials mode is not `include`.
    /// `chrome`: a cached `*` counts only in an entry its preflight made without
    /// credentials ([`PreflightEntry::wildcard_counts`]).
    pub(super) fn method_match(
        &self,
        now: Timestamp,
        f: &Fetch,
        method: &str,
        chrome: bool,
    ) -> bool {
        let include = f.credentials == Credentials::Include;
        self.entries.iter().any(|e| match &e.item {
            CacheItem::Method(m) => {
                (**m == *method || (!include && &**m == "*" && e.wildcard_counts(chrome)))
                    && e.matches(now, f)
            }
            _ => false,
        })
    }

    /// Fetch §4.9 "header-name cache entry match": an entry for this name (ASCII
    /// case-insensitive), or for `*` when the request's credentials mode is not `include`
    /// and the name is not a CORS non-wildcard request-header name (`authorization`).
    /// `chrome`: as in [`PreflightCache::method_match`].
    pub(super) fn header_match(&self, now: Timestamp, f: &Fetch, name: &str, chrome: bool) -> bool {
        let include = f.credentials == Credentials::Include;
        let wildcard_ok = !include && !name.eq_ignore_ascii_case("authorization");
        self.entries.iter().any(|e| match &e.item {
            CacheItem::Header(h) => {
                (same_name(h, name) || (wildcard_ok && &**h == "*" && e.wildcard_counts(chrome)))
                    && e.matches(now, f)
            }
            _ => false,
        })
    }

    /// Private Network Access: whether a preflight that allowed a private-network request
    /// to this URL is cached (Chromium keeps the target address space in its preflight
    /// cache key, so a PNA request is not answered by a non-PNA preflight).
    pub(super) fn private_network_match(&self, now: Timestamp, f: &Fetch) -> bool {
        self.entries
            .iter()
            .any(|e| e.item == CacheItem::PrivateNetwork && e.matches(now, f))
    }

    /// Chromium's preflight cache holds one entry per (origin, URL, network isolation
    /// key, target address space), and a lookup that finds it stale or insufficient
    /// erases it (`services/network/cors/preflight_cache.cc`,
    /// `CheckIfRequestCanSkipPreflight` then `AppendEntry`, `cache_[key] = …`): a new
    /// preflight's result replaces everything the last one allowed for this URL.
    pub(super) fn forget(&mut self, f: &Fetch) {
        if !self
            .entries
            .iter()
            .any(|e| *e.origin == *f.origin && url_is(&e.url, f))
        {
            return;
        }
        self.keep_only(|e| !(*e.origin == *f.origin && url_is(&e.url, f)), 0);
    }

    /// The entries `keep` keeps, as a list this cache owns alone, with room for `room`
    /// more. A browser's copy (the flow snapshots browsers) shares the list until one
    /// side changes it: then only the kept entries are copied, into a list of the size
    /// needed, rather than copying every entry and removing some from the copy.
    fn keep_only(
        &mut self,
        keep: impl Fn(&PreflightEntry) -> bool,
        room: usize,
    ) -> &mut Vec<PreflightEntry> {
        match std::sync::Arc::get_mut(&mut self.entries) {
            Some(own) => {
                own.retain(|e| keep(e));
                own.reserve(room);
            }
            None => {
                let kept = self.entries.iter().filter(|e| keep(e)).count();
                let mut fresh = Vec::with_capacity(kept + room);
                fresh.extend(self.entries.iter().filter(|e| keep(e)).cloned());
                self.entries = std::sync::Arc::new(fresh);
            }
        }
        // owned alone by now, so this copies nothing
        std::sync::Arc::make_mut(&mut self.entries)
    }

    /// Fetch §4.8 steps 7.12–7.15, simplified to Fetch §4.9 "create a new cache entry",
    /// where an entry with the same key (origin, URL, credentials, item) is replaced. A
    /// `max_age_secs` of 0 stores nothing and drops the same-key entry (the spec would
    /// set its max-age to 0, which expires it). Expired entries are purged here, so the
    /// cache does not grow without bound.
    pub(super) fn store(
        &mut self,
        now: Timestamp,
        f: &Fetch,
        url: &str,
        item: CacheItem,
        max_age_secs: u64,
    ) {
        let credentials = f.credentials == Credentials::Include;
        let room = usize::from(max_age_secs != 0);
        let entries = self.keep_only(
            |e| {
                let same_key = e.credentials == credentials
                    && e.item.same_key(&item)
                    && *e.origin == *f.origin
                    && *e.url == *url;
                !same_key && now < e.expires
            },
            room,
        );
        if max_age_secs == 0 {
            return;
        }
        entries.push(PreflightEntry {
            origin: std::sync::Arc::from(f.origin.as_str()),
            url: std::sync::Arc::from(url),
            credentials,
            item,
            expires: now.plus_secs(max_age_secs),
        });
    }

    /// [`PreflightCache::store`] of each of `items` in turn, in one pass: the entries
    /// with the key of any item (or expired) go, then each item is added unless a later
    /// one has its key (a later store would have replaced it), all sharing one origin
    /// and URL text. Nothing happens for no items.
    pub(super) fn store_all(
        &mut self,
        now: Timestamp,
        f: &Fetch,
        items: Vec<CacheItem>,
        max_age_secs: u64,
    ) {
        if items.is_empty() {
            return;
        }
        // which items a later one replaces, as a bit set (a longer list is stored one
        // item at a time)
        if items.len() > 64 {
            let url = url_of(f);
            for item in items {
                self.store(now, f, &url, item, max_age_secs);
            }
            return;
        }
        let mut replaced = 0u64;
        for (i, a) in items.iter().enumerate() {
            if items[i + 1..].iter().any(|b| b.same_key(a)) {
                replaced |= 1 << i;
            }
        }
        let credentials = f.credentials == Credentials::Include;
        // an entry already held for this origin and URL lends its texts to the new ones
        let texts = self
            .entries
            .iter()
            .find(|e| *e.origin == *f.origin && url_is(&e.url, f))
            .map(|e| (e.origin.clone(), e.url.clone()));
        let room = if max_age_secs == 0 {
            0
        } else {
            items.len() - replaced.count_ones() as usize
        };
        let entries = self.keep_only(
            |e| {
                let same_key = e.credentials == credentials
                    && items.iter().any(|i| e.item.same_key(i))
                    && *e.origin == *f.origin
                    && url_is(&e.url, f);
                !same_key && now < e.expires
            },
            room,
        );
        if max_age_secs == 0 {
            return;
        }
        let (origin, url) = texts.unwrap_or_else(|| {
            (
                std::sync::Arc::from(f.origin.as_str()),
                std::sync::Arc::from(url_of(f)),
            )
        });
        let expires = now.plus_secs(max_age_secs);
        for (i, item) in items.into_iter().enumerate() {
            if replaced & (1 << i) != 0 {
                continue;
            }
            entries.push(PreflightEntry {
                origin: origin.clone(),
                url: url.clone(),
                credentials,
                item,
                expires,
            });
        }
    }
}

/// Header names ASCII case-insensitively equal: the bytes first (the names are mostly
/// written the same), then folded letter by letter.
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && (a == b || a.eq_ignore_ascii_case(b))
}

impl CacheItem {
    /// Same cache key: methods byte-exact, header names ASCII case-insensitive.
    fn same_key(&self, other: &CacheItem) -> bool {
        match (self, other) {
            (CacheItem::Method(a), CacheItem::Method(b)) => a == b,
            (CacheItem::Header(a), CacheItem::Header(b)) => same_name(a, b),
            (CacheItem::PrivateNetwork, CacheItem::PrivateNetwork) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    /// A name handed out again is the same shared text while remembered; the oldest is
    /// forgotten first once more names than [`SHARED_NAMES`] came, and a forgotten
    /// name comes back as new text with the same bytes.
    #[test]
    fn shared_names_are_shared_while_remembered() {
        let first = shared_name("GET");
        assert_eq!(&*first, "GET");
        assert!(std::sync::Arc::ptr_eq(&first, &shared_name("GET")));
        assert!(!std::sync::Arc::ptr_eq(&first, &shared_name("get")));
        let others: Vec<_> = (1..SHARED_NAMES)
            .map(|i| shared_name(&format!("x-{i}")))
            .collect();
        // 16 remembered: `GET`, `get` and x-1 … x-14 (x-15 replaced `GET`)
        assert!(!std::sync::Arc::ptr_eq(&first, &shared_name("GET")));
        let kept =
            |i: usize| std::sync::Arc::ptr_eq(&others[i - 1], &shared_name(&format!("x-{i}")));
        assert!(kept(14));
        // the new `GET` replaced `get`; x-1 goes next, then x-2, not x-14
        let get = shared_name("get");
        assert_eq!(&*get, "get");
        assert!(!kept(1));
        assert!(kept(14));
        assert!(!kept(2));
        assert!(kept(13));
    }

    use super::*;
    use crate::browser::{Agent, Mode};
    use crate::fields::Headers;
    use crate::time::SIM_EPOCH;

    fn fetch(c: Credentials) -> Fetch {
        Fetch {
            agent: Agent::Chrome,
            origin: "https://app.example.com".into(),
            method: "PUT".into(),
            scheme: "https".into(),
            host: "api.example.com".into(),
            target: "/x".into(),
            headers: Headers::new(),
            mode: Mode::Cors,
            credentials: c,
            cookie: None,
            private_network: false,
            redirect: crate::browser::RedirectMode::Follow,
            chain: crate::browser::Chain::default(),
        }
    }

    #[test]
    fn url_comparison() {
        let f = fetch(Credentials::Omit);
        assert!(url_is("https://api.example.com/x", &f));
        assert!(!url_is("https://api.example.com/x?y", &f));
        assert!(!url_is("http://api.example.com/x", &f));
        assert_eq!(url_of(&f), "https://api.example.com/x");
    }

    #[test]
    fn credentialed_entry_answers_uncredentialed_not_reverse() {
        let now = SIM_EPOCH;
        let inc = fetch(Credentials::Include);
        let omit = fetch(Credentials::Omit);
        let mut c = PreflightCache::new();
        c.store(
            now,
            &inc,
            &url_of(&inc),
            CacheItem::Method("PUT".into()),
            60,
        );
        assert!(c.method_match(now, &omit, "PUT", false));
        let mut d = PreflightCache::new();
        d.store(
            now,
            &omit,
            &url_of(&omit),
            CacheItem::Method("PUT".into()),
            60,
        );
        assert!(!d.method_match(now, &inc, "PUT", false));
    }

    #[test]
    fn same_key_replaces_and_zero_removes() {
        let now = SIM_EPOCH;
        let f = fetch(Credentials::Omit);
        let url = url_of(&f);
        let mut c = PreflightCache::new();
        c.store(now, &f, &url, CacheItem::Header("x-a".into()), 60);
        c.store(now, &f, &url, CacheItem::Header("X-A".into()), 10);
        assert_eq!(c.len(), 1);
        // another name of the same length is another entry
        c.store(now, &f, &url, CacheItem::Header("x-b".into()), 10);
        assert_eq!(c.len(), 2);
        assert!(!c.header_match(now, &f, "x-c", false));
        c.store(now, &f, &url, CacheItem::Header("X-B".into()), 0);
        assert_eq!(c.len(), 1);
        assert!(c.header_match(now.plus_secs(9), &f, "x-a", false));
        assert!(!c.header_match(now.plus_secs(10), &f, "x-a", false));
        c.store(now, &f, &url, CacheItem::Header("x-a".into()), 0);
        assert!(c.is_empty());
        c.store(now, &f, &url, CacheItem::Method("put".into()), 60);
        assert!(
            !c.method_match(now, &f, "PUT", false),
            "methods are case-sensitive"
        );
        c.clear();
        assert!(c.is_empty());
    }

    /// `store_all` leaves the cache as storing each item in turn does: same-key
    /// entries replaced (a later item in the same list too), expired ones purged, a
    /// zero max-age removing, an empty list touching nothing.
    #[test]
    fn store_all_is_store_in_turn() {
        let f = fetch(Credentials::Omit);
        let g = Fetch {
            target: "/y".into(),
            ..fetch(Credentials::Omit)
        };
        let url = url_of(&f);
        let items = |v: &[&str]| -> Vec<CacheItem> {
            v.iter()
                .map(|s| match s.strip_prefix('h') {
                    Some(h) => CacheItem::Header(h.into()),
                    None if *s == "pna" => CacheItem::PrivateNetwork,
                    None => CacheItem::Method((*s).into()),
                })
                .collect()
        };
        let lists: [&[&str]; 6] = [
            &[],
            &["GET", "PUT"],
            &["PUT", "hX-A", "GET", "hx-a", "PUT"],
            &["hx-b", "pna", "GET"],
            &["pna", "pna"],
            &["DELETE"],
        ];
        for first in lists {
            for second in lists {
                for (age1, age2, later) in [(60, 60, 10), (5, 60, 10), (60, 0, 1), (5, 5, 4)] {
                    let mut b = PreflightCache::new();
                    let now = SIM_EPOCH;
                    let t = now.plus_secs(later);
                    b.store(now, &g, &url_of(&g), CacheItem::Method("GET".into()), 3);
                    // an entry for another URL, expired by `t` in some cases
                    let mut a = PreflightCache {
                        entries: std::sync::Arc::new(b.entries.to_vec()),
                    };
                    for i in items(first) {
                        a.store(now, &f, &url, i, age1);
                    }
                    b.store_all(now, &f, items(first), age1);
                    for i in items(second) {
                        a.store(t, &f, &url, i, age2);
                    }
                    b.store_all(t, &f, items(second), age2);
                    assert_eq!(
                        format!("{:?}", a.entries),
                        format!("{:?}", b.entries),
                        "{first:?} {second:?} {age1} {age2} {later}"
                    );
                }
            }
        }
        let many: Vec<CacheItem> = (0..70)
            .map(|i| CacheItem::Header(format!("x-{}", i % 66).into()))
            .collect();
        let mut a = PreflightCache::new();
        for i in many.clone() {
            a.store(SIM_EPOCH, &f, &url, i, 60);
        }
        let mut b = PreflightCache::new();
        b.store_all(SIM_EPOCH, &f, many, 60);
        assert_eq!(format!("{:?}", a.entries), format!("{:?}", b.entries));
        assert_eq!(b.len(), 66);
    }
}

/// Tests that pin each condition of the Fetch §4.9 cache matches (each kills a mutant the
/// tests above let through).
#[cfg(test)]
mod rule_tests {
    use super::*;
    use crate::browser::{Agent, Mode};
    use crate::fields::Headers;
    use crate::time::SIM_EPOCH;

    /// A CORS fetch of `https://api.example.com{target}` from `origin` (the one place
    /// that lists `Fetch`'s fields, so a new field is added here only).
    fn fetch(origin: &str, target: &str, c: Credentials) -> Fetch {
        Fetch {
            agent: Agent::Chrome,
            origin: origin.into(),
            method: "PUT".into(),
            scheme: "https".into(),
            host: "api.example.com".into(),
            target: target.into(),
            headers: Headers::new(),
            mode: Mode::Cors,
            credentials: c,
            cookie: None,
            private_network: false,
            redirect: crate::browser::RedirectMode::Follow,
            chain: crate::browser::Chain::default(),
        }
    }

    const A: &str = "https://a.example";

    fn cache_with(f: &Fetch, items: Vec<CacheItem>, secs: u64) -> PreflightCache {
        let mut c = PreflightCache::new();
        for it in items {
            c.store(SIM_EPOCH, f, &url_of(f), it, secs);
        }
        c
    }

    /// Fetch §4.9 "method cache entry match": "... and whose method is method or `*`",
    /// where `*` counts only "if request's credentials mode is not "include"" (Fetch
    /// §4.8 step 7.6: for credentialed requests `*` is the literal method name).
    #[test]
    fn wildcard_method_only_without_credentials() {
        let inc = fetch(A, "/x", Credentials::Include);
        let omit = fetch(A, "/x", Credentials::Omit);
        let c = cache_with(&inc, vec![CacheItem::Method("*".into())], 60);
        assert!(c.method_match(SIM_EPOCH, &omit, "DELETE", false));
        // Chromium: a `*` from a credentialed preflight is never a wildcard (case v08).
        assert!(!c.method_match(SIM_EPOCH, &omit, "DELETE", true));
        assert!(c.method_match(SIM_EPOCH, &inc, "*", true));
        assert!(!c.method_match(SIM_EPOCH, &inc, "DELETE", false));
        assert!(c.method_match(SIM_EPOCH, &inc, "*", false));
        let c = cache_with(&inc, vec![CacheItem::Method("PATCH".into())], 60);
        assert!(c.method_match(SIM_EPOCH, &inc, "PATCH", false));
        assert!(!c.method_match(SIM_EPOCH, &inc, "DELETE", false));
        // A header entry is not a method entry.
        let c = cache_with(&omit, vec![CacheItem::Header("PUT".into())], 60);
        assert!(!c.method_match(SIM_EPOCH, &omit, "PUT", false));
    }

    /// Fetch §4.9 "header-name cache entry match": the name matches ASCII
    /// case-insensitively, or the entry is `*`, the request is not credentialed, and the
    /// name is not a CORS non-wildcard request-header name (`Authorization`).
    #[test]
    fn wildcard_header_rules() {
        let inc = fetch(A, "/x", Credentials::Include);
        let omit = fetch(A, "/x", Credentials::Omit);
        let c = cache_with(&inc, vec![CacheItem::Header("*".into())], 60);
        assert!(c.header_match(SIM_EPOCH, &omit, "x-any", false));
        // Chromium: the entry was made with credentials, so its `*` is a literal name
        // even for an uncredentialed request (case v08); an uncredentialed entry's is not.
        assert!(!c.header_match(SIM_EPOCH, &omit, "x-any", true));
        let u = cache_with(&omit, vec![CacheItem::Header("*".into())], 60);
        assert!(u.header_match(SIM_EPOCH, &omit, "x-any", true));
        assert!(!u.header_match(SIM_EPOCH, &omit, "authorization", true));
        assert!(!u.header_match(SIM_EPOCH, &inc, "x-any", true));
        assert!(!c.header_match(SIM_EPOCH, &omit, "Authorization", false));
        assert!(!c.header_match(SIM_EPOCH, &inc, "x-any", false));
        let c = cache_with(&inc, vec![CacheItem::Header("X-Named".into())], 60);
        assert!(c.header_match(SIM_EPOCH, &inc, "x-named", false));
        assert!(!c.header_match(SIM_EPOCH, &inc, "x-other", false));
        let c = cache_with(&omit, vec![CacheItem::Method("x-a".into())], 60);
        assert!(!c.header_match(SIM_EPOCH, &omit, "x-a", false));
    }

    /// Fetch §4.9 "cache entry match": "entry's key is ... origin is request's origin,
    /// and entry's URL is request's current URL" — another origin or URL does not match;
    /// an entry applies until its max-age runs out, not at that instant.
    #[test]
    fn origin_url_and_expiry_must_match() {
        let f = fetch(A, "/x", Credentials::Omit);
        let c = cache_with(
            &f,
            vec![CacheItem::Method("PUT".into()), CacheItem::PrivateNetwork],
            10,
        );
        let now = SIM_EPOCH;
        assert!(c.method_match(now, &f, "PUT", false));
        let other_origin = fetch("https://b.example", "/x", Credentials::Omit);
        assert!(!c.method_match(now, &other_origin, "PUT", false));
        assert!(!c.private_network_match(now, &other_origin));
        let other_url = fetch(A, "/y", Credentials::Omit);
        assert!(!c.method_match(now, &other_url, "PUT", false));
        let last = now.plus_ms(9_999);
        assert!(c.method_match(last, &f, "PUT", false) && c.private_network_match(last, &f));
        let end = now.plus_secs(10);
        assert!(!c.method_match(end, &f, "PUT", false));
        assert!(!c.private_network_match(end, &f));
        let only_method = cache_with(&f, vec![CacheItem::Method("PUT".into())], 10);
        assert!(!only_method.private_network_match(now, &f));
    }

    /// Fetch §4.9 "create a new cache entry" replaces only the entry with the same key
    /// (origin, URL, credentials, method or header name); storing also purges expired
    /// entries.
    #[test]
    fn store_keys_and_purges() {
        let omit = fetch(A, "/x", Credentials::Omit);
        let inc = fetch(A, "/x", Credentials::Include);
        let mut c = cache_with(
            &omit,
            vec![
                CacheItem::Method("PUT".into()),
                CacheItem::Method("put".into()),
                CacheItem::Header("put".into()),
                CacheItem::PrivateNetwork,
                CacheItem::PrivateNetwork,
            ],
            60,
        );
        assert_eq!(c.len(), 4);
        assert!(!c.is_empty());
        c.store(
            SIM_EPOCH,
            &inc,
            &url_of(&inc),
            CacheItem::Method("PUT".into()),
            60,
        );
        assert_eq!(c.len(), 5);
        let b = fetch("https://b.example", "/x", Credentials::Omit);
        c.store(
            SIM_EPOCH,
            &b,
            &url_of(&b),
            CacheItem::Method("PUT".into()),
            60,
        );
        assert_eq!(c.len(), 6);
        c.store(
            SIM_EPOCH,
            &omit,
            "https://api.example.com/z",
            CacheItem::Method("PUT".into()),
            60,
        );
        assert_eq!(c.len(), 7);
        // At the expiry instant every old entry is purged by the next store.
        let later = SIM_EPOCH.plus_secs(60);
        c.store(
            later,
            &omit,
            &url_of(&omit),
            CacheItem::Header("x-new".into()),
            5,
        );
        assert_eq!(c.len(), 1);
        assert!(c.header_match(later, &omit, "x-new", false));
        c.clear();
        assert!(c.is_empty());
        assert_eq!(c.len(), 0);
    }

    /// A copy of the cache (the flow snapshots browsers) shares its entries until one
    /// side changes them; a change on either side leaves the other as it was, and a
    /// store into a shared list keeps exactly what a store into an owned one keeps.
    #[test]
    fn a_copy_and_the_original_change_apart() {
        let now = SIM_EPOCH;
        let f = fetch("https://app.example.com", "/x", Credentials::Omit);
        let g = fetch("https://app.example.com", "/y", Credentials::Omit);
        let mut a = PreflightCache::new();
        a.store_all(now, &f, vec![CacheItem::Method("PUT".into())], 60);
        a.store_all(now, &g, vec![CacheItem::Method("PUT".into())], 5);
        let snapshot = a.clone();
        let mut owned = PreflightCache::new();
        owned.entries = std::sync::Arc::new(a.entries.to_vec());
        // later: g's entry expired; a new item for f replaces nothing else
        let later = now.plus_secs(10);
        for c in [&mut a, &mut owned] {
            c.store_all(later, &f, vec![CacheItem::Header("x-a".into())], 60);
        }
        for c in [&a, &owned] {
            assert_eq!(c.len(), 2);
            assert!(c.method_match(later, &f, "PUT", false));
            assert!(c.header_match(later, &f, "x-a", false));
            assert!(!c.method_match(now, &g, "PUT", false));
        }
        // an entry whose expiry is the store's own instant goes too
        let mut edge = snapshot.clone();
        edge.store_all(
            now.plus_secs(5),
            &f,
            vec![CacheItem::Header("x-b".into())],
            60,
        );
        assert_eq!(edge.len(), 2);
        assert!(!edge.method_match(now, &g, "PUT", false));
        assert_eq!(snapshot.len(), 2);
        assert!(snapshot.method_match(now, &g, "PUT", false));
        assert!(!snapshot.header_match(later, &f, "x-a", false));
        // Chromium's erase, on a copy and on the original
        let mut copy = a.clone();
        copy.forget(&f);
        assert!(copy.is_empty());
        assert_eq!(a.len(), 2);
        a.forget(&g);
        assert_eq!(a.len(), 2);
        a.forget(&f);
        assert!(a.is_empty());
    }

    /// New entries take their origin and URL text from an entry already held only when
    /// both are the fetch's own: another origin's entry for the same URL, or the same
    /// origin's entry for another URL, lends nothing.
    #[test]
    fn new_entries_carry_their_own_origin_and_url() {
        let now = SIM_EPOCH;
        let a = fetch("https://a.example", "/x", Credentials::Omit);
        let b = fetch("https://b.example", "/x", Credentials::Omit);
        let a_y = fetch("https://a.example", "/y", Credentials::Omit);
        let mut c = PreflightCache::new();
        c.store_all(now, &a, vec![CacheItem::Method("PUT".into())], 60);
        c.store_all(now, &b, vec![CacheItem::Method("PATCH".into())], 60);
        c.store_all(now, &a_y, vec![CacheItem::Method("DELETE".into())], 60);
        c.store_all(now, &a, vec![CacheItem::Method("POST".into())], 60);
        assert!(c.method_match(now, &a, "PUT", false) && c.method_match(now, &a, "POST", false));
        assert!(c.method_match(now, &b, "PATCH", false) && !c.method_match(now, &b, "PUT", false));
        assert!(
            c.method_match(now, &a_y, "DELETE", false) && !c.method_match(now, &a_y, "PUT", false)
        );
        assert!(
            !c.method_match(now, &a, "PATCH", false) && !c.method_match(now, &a, "DELETE", false)
        );
        let texts: Vec<(&str, &str)> = c.entries.iter().map(|e| (&*e.origin, &*e.url)).collect();
        assert_eq!(
            texts,
            [
                ("https://a.example", "https://api.example.com/x"),
                ("https://b.example", "https://api.example.com/x"),
                ("https://a.example", "https://api.example.com/y"),
                ("https://a.example", "https://api.example.com/x"),
            ]
        );
    }
}
