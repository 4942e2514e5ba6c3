//! Which request header fields the edge passes on to the origin when it forwards a
//! request (a miss or a pass). Both drivers build the origin request from [`keeps`] and
//! [`Forward::add`] — the simulator through [`OriginFields`] (which [`origin_request`]
//! states per field, and its tests hold it to), the proxy directly — so they cannot
//! disagree.
//!
//! Most caches forward every end-to-end field (RFC 9110 §7.6.1: a proxy removes only the
//! hop-by-hop fields). CloudFront does not: "The origin request always includes … the HTTP
//! headers that CloudFront automatically includes in every origin request, including Host,
//! User-Agent, and X-Amz-Cf-Id"; everything else reaches the origin only when the cache
//! policy keys it or an origin request policy names it
//! (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/controlling-origin-requests.html>).
//! So under `CachingOptimized` alone the origin never sees `Origin`.

use crate::fields::Headers;
use crate::message::Request;
use serde::Serialize;
use std::borrow::Cow;
use std::sync::Arc;

/// Which of the viewer's request header fields reach the origin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardHeaders {
    /// Every field (minus [`Forward::strip`]): what a proxy does by default.
    All,
    /// Only the fields in the cache key (`key_headers`): a CloudFront cache policy with no
    /// origin request policy.
    Key,
    /// The fields in the cache key plus these (lowercase): a cache policy plus an origin
    /// request policy's header list, or nginx `proxy_pass_request_headers off` with
    /// `proxy_set_header` lines.
    List(Vec<String>),
}

/// The forwarding knob: which viewer fields pass, which are always removed, and which the
/// edge adds itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Forward {
    /// Viewer fields passed on.
    pub headers: ForwardHeaders,
    /// Fields never passed on even under `all` (lowercase), e.g. nginx drops the
    /// conditional and range fields when caching is on, `AllViewerExceptHostHeader` drops
    /// `Host`.
    pub strip: Vec<String>,
    /// Fields the edge sets on every origin request (name lowercase, value), replacing a
    /// viewer field of the same name (CloudFront's `User-Agent: Amazon CloudFront`).
    pub add: Vec<(String, String)>,
}

impl Default for Forward {
    fn default() -> Forward {
        Forward {
            headers: ForwardHeaders::All,
            strip: Vec::new(),
            add: Vec::new(),
        }
    }
}

impl Forward {
    /// Everything forwarded, nothing added or removed.
    pub fn all() -> Forward {
        Forward::default()
    }

    /// Whether this is the plain "forward everything" setting.
    pub fn is_transparent(&self) -> bool {
        self.headers == ForwardHeaders::All && self.strip.is_empty() && self.add.is_empty()
    }

    /// A short readable form (`all`, `key`, `key+[origin]`, with `-[..]` and `+{..}`).
    pub fn describe(&self) -> String {
        let mut s = match &self.headers {
            ForwardHeaders::All => "all".to_string(),
            ForwardHeaders::Key => "key".to_string(),
            ForwardHeaders::List(l) => format!("key+[{}]", l.join(",")),
        };
        if !self.strip.is_empty() {
            s.push_str(&format!(" -[{}]", self.strip.join(",")));
        }
        if !self.add.is_empty() {
            let names: Vec<&str> = self.add.iter().map(|(n, _)| n.as_str()).collect();
            s.push_str(&format!(" +[{}]", names.join(",")));
        }
        s
    }
}

/// Whether the viewer's field `name` (any case) reaches the origin, given the cache key's
/// header names `key_headers` (lowercase).
pub fn keeps(fwd: &Forward, key_headers: &[String], name: &str) -> bool {
    if fwd.is_transparent() {
        return true;
    }
    // names are lowercase already when they come from `fields::Headers`: no copy then
    let lower: Cow<'_, str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    };
    let lower = &*lower;
    let has = |list: &[String]| list.iter().any(|x| x == lower);
    if has(&fwd.strip) || fwd.add.iter().any(|(n, _)| n == lower) {
        return false;
    }
    // "All URL query strings, HTTP headers, and cookies that you include in the cache key
    // … are automatically included in origin requests" (CloudFront developer guide).
    match &fwd.headers {
        ForwardHeaders::All => true,
        ForwardHeaders::Key => has(key_headers),
        ForwardHeaders::List(l) => has(key_headers) || has(l),
    }
}

/// The request the origin receives for `req` under `fwd`: borrowed untouched when
/// everything is forwarded.
pub fn origin_request<'a>(
    fwd: &Forward,
    key_headers: &[String],
    req: &'a Request,
) -> Cow<'a, Request> {
    if fwd.is_transparent() {
        return Cow::Borrowed(req);
    }
    // the kept fields as they were (static text stays static); the dropped ones are
    // never copied
    let mut headers = Headers::new();
    headers.reserve(req.headers.len() + fwd.add.len());
    headers.extend_where(&req.headers, |n| keeps(fwd, key_headers, n));
    for (n, v) in &fwd.add {
        headers.append(n, v);
    }
    Cow::Owned(with_headers(req, headers))
}

/// `req`'s method and URL with `headers` as its fields.
fn with_headers(req: &Request, headers: Headers) -> Request {
    Request {
        method: req.method.clone(),
        scheme: req.scheme.clone(),
        host: req.host.clone(),
        target: req.target.clone(),
        headers,
    }
}

/// [`origin_request`] for one (`fwd`, `key_headers`) pair, with [`keeps`]' answer
/// worked out once: the simulator builds an origin request on every forward, and
/// [`keeps`] would compare each field name against every list each time.
#[derive(Clone, Debug)]
pub struct OriginFields {
    /// `fwd.is_transparent()`: the request is forwarded as it is.
    transparent: bool,
    /// `names` lists the fields dropped (`ForwardHeaders::All`) rather than those kept.
    names_dropped: bool,
    /// Lowercase names: kept ones (key or list, minus strip and add), or, under `All`,
    /// dropped ones (strip and add).
    names: Vec<String>,
    /// The fields the edge adds, in order ([`Forward::add`]).
    add: Headers,
}

impl OriginFields {
    /// [`keeps`] and [`Forward::add`] of `fwd` with the cache key's header names
    /// `key_headers` (lowercase).
    pub fn new(fwd: &Forward, key_headers: &[String]) -> OriginFields {
        let mut add = Headers::new();
        for (n, v) in &fwd.add {
            add.append(n, v);
        }
        let dropped = |n: &String| fwd.strip.contains(n) || fwd.add.iter().any(|(a, _)| a == n);
        let mut names: Vec<String> = match &fwd.headers {
            ForwardHeaders::All => fwd
                .strip
                .iter()
                .chain(fwd.add.iter().map(|(n, _)| n))
                .cloned()
                .collect(),
            ForwardHeaders::Key => key_headers
                .iter()
                .filter(|n| !dropped(n))
                .cloned()
                .collect(),
            ForwardHeaders::List(l) => key_headers
                .iter()
                .chain(l)
                .filter(|n| !dropped(n))
                .cloned()
                .collect(),
        };
        names.dedup();
        OriginFields {
            transparent: fwd.is_transparent(),
            names_dropped: fwd.headers == ForwardHeaders::All,
            names,
            add,
        }
    }

    /// Whether the request is forwarded as it is ([`Forward::is_transparent`]).
    pub fn is_transparent(&self) -> bool {
        self.transparent
    }

    /// [`keeps`] for a lowercase `name` (as [`Headers`] stores names).
    pub fn keeps_lower(&self, name: &str) -> bool {
        if self.transparent {
            return true;
        }
        let listed = self
            .names
            .iter()
            .any(|n| n.len() == name.len() && n.as_bytes() == name.as_bytes());
        listed != self.names_dropped
    }

    /// [`origin_request`]: the same request, built without asking [`keeps`] per field.
    pub fn request<'a>(&self, req: &'a Request) -> Cow<'a, Request> {
        if self.transparent {
            return Cow::Borrowed(req);
        }
        let mut headers = Headers::new();
        headers.reserve(req.headers.len() + self.add.len());
        headers.extend_where(&req.headers, |n| self.keeps_lower(n));
        headers.extend_from(&self.add);
        Cow::Owned(with_headers(req, headers))
    }
}

/// Origin requests [`OriginFields::request_in`] built, kept to be handed out again for
/// a request whose forwarded parts are the same. Use one memo with one [`OriginFields`]
/// only (the entries end with its added fields).
#[derive(Clone, Default)]
pub struct SentMemo {
    entries: Vec<Request>,
    /// Each entry's number, counted over every entry this memo built: a caller that
    /// keeps something per entry (the simulator keeps the origin's last answer) tells a
    /// replaced entry from the one it knew by it.
    ids: Vec<u64>,
    /// Entries built so far.
    built: u64,
    /// The entry the next new request replaces once full.
    next: usize,
    /// Shared viewer requests met before, each with the entry it is answered by
    /// ([`OriginFields::request_in_shared`]). Holding the request keeps its allocation
    /// alive, so the same address is the same (never changed) request.
    links: Vec<(Arc<Request>, usize)>,
    /// The link the next new one replaces once full.
    next_link: usize,
}

/// Which entry of a [`SentMemo`] an origin request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SentEntry {
    /// Its place in the memo, below [`SENT_MEMO_SLOTS`].
    pub slot: usize,
    /// Its number among all the entries the memo built: the same slot holds another
    /// request under another number.
    pub id: u64,
}

impl SentMemo {
    fn entry(&self, slot: usize) -> SentEntry {
        SentEntry {
            slot,
            id: self.ids[slot],
        }
    }
}

/// Without its entries: a memo never changes what is sent, so a state that holds one
/// reads the same whatever it remembers.
impl std::fmt::Debug for SentMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SentMemo")
    }
}

/// Origin requests a [`SentMemo`] keeps (a simulated edge sends a handful of distinct
/// ones over and over).
pub const SENT_MEMO_SLOTS: usize = 16;
/// Shared viewer requests a [`SentMemo`] links to their entries (several viewer
/// requests, differing only in fields the edge drops, share one origin request).
const SENT_MEMO_LINKS: usize = 32;
/// Requests with more fields are built every time.
const SENT_MEMO_MAX_FIELDS: usize = 48;

impl OriginFields {
    /// [`OriginFields::request`], answered from `memo` when an earlier request had the
    /// same method, scheme, host, target and kept fields (all the origin request is
    /// made of), else built and remembered there.
    pub fn request_in<'a>(&self, req: &'a Request, memo: &'a mut SentMemo) -> &'a Request {
        self.request_in_entry(req, memo).0
    }

    /// [`OriginFields::request_in`], with the entry it comes from (its slot and
    /// [`SentEntry::id`]); none when the forwarding is transparent (`req` itself).
    pub fn request_in_entry<'a>(
        &self,
        req: &'a Request,
        memo: &'a mut SentMemo,
    ) -> (&'a Request, Option<SentEntry>) {
        if self.transparent {
            return (req, None);
        }
        let slot = self.slot_for(req, memo);
        (&memo.entries[slot], Some(memo.entry(slot)))
    }

    /// [`OriginFields::request_in`] for a shared request: the browser model hands out
    /// the same `Arc` for the same request step after step, so a request met before is
    /// found by its address, without looking at its fields (~40 instructions against
    /// ~900).
    pub fn request_in_shared<'a>(
        &self,
        req: &'a Arc<Request>,
        memo: &'a mut SentMemo,
    ) -> &'a Request {
        self.request_in_shared_entry(req, memo).0
    }

    /// [`OriginFields::request_in_shared`], with the entry it comes from, as
    /// [`OriginFields::request_in_entry`] gives it.
    pub fn request_in_shared_entry<'a>(
        &self,
        req: &'a Arc<Request>,
        memo: &'a mut SentMemo,
    ) -> (&'a Request, Option<SentEntry>) {
        if self.transparent {
            return (req, None);
        }
        if let Some(&(_, slot)) = memo.links.iter().find(|(r, _)| Arc::ptr_eq(r, req)) {
            return (&memo.entries[slot], Some(memo.entry(slot)));
        }
        let slot = self.slot_for(req, memo);
        let link = (req.clone(), slot);
        if memo.links.len() < SENT_MEMO_LINKS {
            memo.links.push(link);
        } else {
            memo.links[memo.next_link] = link;
            memo.next_link = (memo.next_link + 1) % SENT_MEMO_LINKS;
        }
        (&memo.entries[slot], Some(memo.entry(slot)))
    }

    /// The entry of `memo` that holds `req`'s origin request: found by comparing the
    /// forwarded parts, else built and put in place of the oldest entry once full.
    fn slot_for(&self, req: &Request, memo: &mut SentMemo) -> usize {
        let mut kept = [0u8; SENT_MEMO_MAX_FIELDS];
        let mut n = 0;
        if req.headers.len() <= SENT_MEMO_MAX_FIELDS {
            for (i, (name, _)) in req.headers.iter().enumerate() {
                if self.keeps_lower(name) {
                    kept[n] = i as u8;
                    n += 1;
                }
            }
            let same = |o: &Request| {
                o.headers.len() == n + self.add.len()
                    && o.method == req.method
                    && o.target == req.target
                    && o.host == req.host
                    && o.scheme == req.scheme
                    && kept[..n]
                        .iter()
                        .enumerate()
                        .all(|(j, &i)| o.headers.field(j) == req.headers.field(usize::from(i)))
            };
            if let Some(i) = memo.entries.iter().position(same) {
                return i;
            }
        }
        let built = self.request(req).into_owned();
        let id = memo.built;
        memo.built += 1;
        if memo.entries.len() < SENT_MEMO_SLOTS {
            memo.entries.push(built);
            memo.ids.push(id);
            return memo.entries.len() - 1;
        }
        let slot = memo.next;
        memo.next = (slot + 1) % SENT_MEMO_SLOTS;
        memo.entries[slot] = built;
        memo.ids[slot] = id;
        // the links to the request this one replaces would now name the wrong one
        memo.links.retain(|&(_, s)| s != slot);
        memo.next_link = memo.next_link.min(memo.links.len());
        slot
    }
}

/// Whether the origin misses (or gets replaced) any of `req`'s fields. Fields the edge
/// only adds are not counted: they stand for its identity, not for what the viewer sent.
pub fn drops_any(fwd: &Forward, key_headers: &[String], req: &Request) -> bool {
    !fwd.is_transparent() && req.headers.iter().any(|(n, _)| !keeps(fwd, key_headers, n))
}

/// Whether the origin misses `Origin` (and, for a preflight, the
/// `Access-Control-Request-*` fields) that the CORS protocol needs it to see.
pub fn drops_cors_fields(fwd: &Forward, key_headers: &[String], preflight: bool) -> bool {
    let pre = [
        "access-control-request-method",
        "access-control-request-headers",
    ];
    !keeps(fwd, key_headers, "origin")
        || (preflight && pre.iter().any(|n| !keeps(fwd, key_headers, n)))
}

/// Whether the origin receives the viewer's `Origin` field on every forwarded request.
pub fn forwards_origin(fwd: &Forward, key_headers: &[String]) -> bool {
    keeps(fwd, key_headers, "origin")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Headers;

    fn req() -> Request {
        Request {
            method: "GET".into(),
            scheme: "https".into(),
            host: "api".into(),
            target: "/d".into(),
            headers: Headers::from_pairs([
                ("origin", "https://a"),
                ("user-agent", "Browser"),
                ("if-none-match", "\"x\""),
            ]),
        }
    }

    #[test]
    fn all_is_borrowed_untouched() {
        let r = req();
        assert!(matches!(
            origin_request(&Forward::all(), &[], &r),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn key_keeps_only_key_fields_and_adds_the_edge_ones() {
        let f = Forward {
            headers: ForwardHeaders::Key,
            strip: vec![],
            add: vec![("user-agent".into(), "Amazon CloudFront".into())],
        };
        let r = req();
        let o = origin_request(&f, &[], &r);
        assert_eq!(o.headers.get("origin"), None);
        assert_eq!(o.headers.get("user-agent"), Some("Amazon CloudFront"));
        let o = origin_request(&f, &["origin".to_string()], &r);
        assert_eq!(o.headers.get("origin"), Some("https://a"));
        assert_eq!(o.headers.get("if-none-match"), None);
    }

    #[test]
    fn list_adds_to_the_key_and_strip_wins_over_all() {
        let f = Forward {
            headers: ForwardHeaders::List(vec!["origin".into()]),
            strip: vec![],
            add: vec![],
        };
        assert!(keeps(&f, &[], "Origin"));
        assert!(!keeps(&f, &[], "user-agent"));
        let s = Forward {
            headers: ForwardHeaders::All,
            strip: vec!["if-none-match".into()],
            add: vec![],
        };
        let r = req();
        let o = origin_request(&s, &[], &r);
        assert_eq!(o.headers.get("if-none-match"), None);
        assert_eq!(o.headers.get("origin"), Some("https://a"));
        assert_eq!(s.describe(), "all -[if-none-match]");
    }

    /// A request with fewer fields than the edge adds (a bare `curl`) still gets every
    /// added field, and keeps its method, scheme, host and target.
    #[test]
    fn the_edge_adds_more_fields_than_the_viewer_sent() {
        let f = Forward {
            headers: ForwardHeaders::Key,
            strip: vec![],
            add: vec![
                ("user-agent".into(), "Amazon CloudFront".into()),
                ("x-amz-cf-id".into(), "abc".into()),
            ],
        };
        let r = Request {
            headers: Headers::new(),
            ..req()
        };
        let o = origin_request(&f, &[], &r);
        assert_eq!(
            o.headers,
            Headers::from_pairs([("user-agent", "Amazon CloudFront"), ("x-amz-cf-id", "abc")])
        );
        assert_eq!(
            (&*o.method, &*o.scheme, &*o.host, &*o.target),
            ("GET", "https", "api", "/d")
        );
    }

    /// The precomputed [`OriginFields`] answers as [`keeps`] and [`origin_request`] do,
    /// for every kind of forwarding setting, with strip and add lists overlapping the
    /// key and the list.
    #[test]
    fn origin_fields_agree_with_keeps_and_origin_request() {
        let add = vec![
            ("user-agent".to_string(), "Amazon CloudFront".to_string()),
            ("x-amz-cf-id".to_string(), "abc".to_string()),
        ];
        let kinds = [
            ForwardHeaders::All,
            ForwardHeaders::Key,
            ForwardHeaders::List(vec!["origin".into(), "if-none-match".into()]),
        ];
        let names = [
            "origin",
            "user-agent",
            "if-none-match",
            "accept",
            "x-amz-cf-id",
            "cookie",
            "originx",
        ];
        let mut r = req();
        r.headers.append("accept", "*/*");
        r.headers.append("cookie", "a=1");
        let keys: [Vec<String>; 3] = [
            vec![],
            vec!["origin".into()],
            vec!["cookie".into(), "user-agent".into()],
        ];
        let mut checked = 0;
        for headers in &kinds {
            for strip in [vec![], vec!["cookie".to_string(), "origin".to_string()]] {
                for add in [vec![], add.clone()] {
                    let f = Forward {
                        headers: headers.clone(),
                        strip: strip.clone(),
                        add,
                    };
                    for key in &keys {
                        let o = OriginFields::new(&f, key);
                        for n in names {
                            assert_eq!(o.keeps_lower(n), keeps(&f, key, n), "{f:?} {key:?} {n}");
                        }
                        assert_eq!(
                            *o.request(&r),
                            *origin_request(&f, key, &r),
                            "{f:?} {key:?}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 36);
        let t = OriginFields::new(&Forward::all(), &[]);
        assert!(matches!(t.request(&r), Cow::Borrowed(_)));
    }

    /// A CloudFront-like forwarding: `Origin` listed, `Accept` in the key, the edge's
    /// own `User-Agent` added (every other viewer field dropped).
    fn origin_listed_accept_keyed() -> OriginFields {
        let f = Forward {
            headers: ForwardHeaders::List(vec!["origin".into()]),
            strip: vec![],
            add: vec![("user-agent".into(), "Amazon CloudFront".into())],
        };
        OriginFields::new(&f, &["accept".to_string()])
    }

    /// A forwarding that sends the cache key's fields only (none, with no key headers).
    fn key_forwarding() -> OriginFields {
        let f = Forward {
            headers: ForwardHeaders::Key,
            strip: vec![],
            add: vec![],
        };
        OriginFields::new(&f, &[])
    }

    /// A remembered origin request is the one [`OriginFields::request`] builds, for
    /// requests that differ in a kept field, in a dropped one, in the target, over more
    /// distinct requests than the memo keeps (slots reused).
    #[test]
    fn remembered_origin_requests_are_the_built_ones() {
        let o = origin_listed_accept_keyed();
        let mut memo = SentMemo::default();
        let mut reqs = Vec::new();
        for i in 0..(SENT_MEMO_SLOTS + 5) {
            for dropped in ["a", "b"] {
                let mut r = req();
                r.target = format!("/d{}", i % (SENT_MEMO_SLOTS + 3));
                r.headers = Headers::from_pairs([
                    ("user-agent", dropped),
                    ("origin", if i % 2 == 0 { "https://a" } else { "https://b" }),
                    ("accept", "*/*"),
                ]);
                reqs.push(r);
            }
        }
        let mut short = req();
        short.headers = Headers::from_pairs([("origin", "https://a")]);
        reqs.push(short);
        for round in 0..2 {
            for r in &reqs {
                let want = o.request(r).into_owned();
                assert_eq!(*o.request_in(r, &mut memo), want, "round {round}: {r:?}");
            }
        }
        assert_eq!(memo.entries.len(), SENT_MEMO_SLOTS);
        let t = OriginFields::new(&Forward::all(), &[]);
        let r = req();
        assert!(std::ptr::eq(t.request_in(&r, &mut memo), &r));
    }

    /// A shared request's origin request is the one [`OriginFields::request`] builds,
    /// whether found by its address or by its fields: over more distinct requests than
    /// the memo keeps entries and links (entries replaced under links that named them),
    /// with several shared requests per origin request (they differ in a dropped
    /// field), asked for in three rounds, each request both as itself and as a copy.
    #[test]
    fn shared_requests_get_the_built_ones() {
        let o = origin_listed_accept_keyed();
        let mut memo = SentMemo::default();
        let mut reqs = Vec::new();
        for i in 0..(SENT_MEMO_SLOTS + 7) {
            for dropped in ["a", "b", "c"] {
                let mut r = req();
                r.target = format!("/d{}", i % (SENT_MEMO_SLOTS + 4));
                r.headers = Headers::from_pairs([
                    ("user-agent", dropped),
                    ("origin", if i % 3 == 0 { "https://a" } else { "https://b" }),
                ]);
                reqs.push(Arc::new(r));
            }
        }
        for round in 0..3 {
            for r in &reqs {
                let want = o.request(r).into_owned();
                assert_eq!(
                    *o.request_in_shared(r, &mut memo),
                    want,
                    "round {round}: {r:?}"
                );
                let copy = Arc::new(Request::clone(r));
                assert_eq!(*o.request_in_shared(&copy, &mut memo), want, "{r:?}");
                assert!(memo.links.iter().all(|&(_, s)| s < memo.entries.len()));
            }
        }
        assert_eq!(memo.entries.len(), SENT_MEMO_SLOTS);
        assert_eq!(memo.links.len(), SENT_MEMO_LINKS);
        let t = OriginFields::new(&Forward::all(), &[]);
        let r = Arc::new(req());
        assert!(std::ptr::eq(t.request_in_shared(&r, &mut memo), &*r));
    }

    /// A shared request met again is answered through its link (no new entry, no new
    /// link); another request with the same forwarded parts gets a link to the same
    /// entry; when its entry is replaced, a link goes with it.
    #[test]
    fn a_shared_request_met_again_follows_its_link() {
        let f = Forward {
            headers: ForwardHeaders::Key,
            strip: vec![],
            add: vec![],
        };
        let o = OriginFields::new(&f, &["origin".to_string()]);
        let mut memo = SentMemo::default();
        let r = Arc::new(req());
        let want = o.request(&r).into_owned();
        assert_eq!(*o.request_in_shared(&r, &mut memo), want);
        assert_eq!((memo.entries.len(), memo.links.len()), (1, 1));
        assert_eq!(*o.request_in_shared(&r, &mut memo), want);
        assert_eq!((memo.entries.len(), memo.links.len()), (1, 1));
        let mut other = req();
        other.headers.append("accept", "*/*");
        let other = Arc::new(other);
        assert_eq!(*o.request_in_shared(&other, &mut memo), want);
        assert_eq!((memo.entries.len(), memo.links.len()), (1, 2));
        for i in 0..SENT_MEMO_SLOTS {
            let mut n = req();
            n.target = format!("/n{i}");
            o.request_in_shared(&Arc::new(n), &mut memo);
        }
        // the first entry was replaced: its two links went with it
        assert!(!memo
            .links
            .iter()
            .any(|(l, _)| Arc::ptr_eq(l, &r) || Arc::ptr_eq(l, &other)));
        assert_eq!(memo.links.len(), SENT_MEMO_SLOTS);
        assert_eq!(*o.request_in_shared(&r, &mut memo), want);
    }

    /// Once the links are full, a new one replaces the oldest in turn: the last
    /// `SENT_MEMO_LINKS` shared requests met are all linked.
    #[test]
    fn the_oldest_link_is_replaced() {
        let o = key_forwarding();
        let mut memo = SentMemo::default();
        // one origin request (no field is kept), so no entry is ever replaced
        let reqs: Vec<Arc<Request>> = (0..3 * SENT_MEMO_LINKS)
            .map(|i| {
                let mut r = req();
                r.headers = Headers::from_pairs([("x-n", i.to_string().as_str())]);
                Arc::new(r)
            })
            .collect();
        for (i, r) in reqs.iter().enumerate() {
            o.request_in_shared(r, &mut memo);
            let first = (i + 1).saturating_sub(SENT_MEMO_LINKS);
            for (j, r) in reqs.iter().enumerate().take(i + 1) {
                let linked = memo.links.iter().any(|(l, _)| Arc::ptr_eq(l, r));
                assert_eq!(linked, j >= first, "after {i}: {j}");
            }
        }
        assert_eq!(memo.entries.len(), 1);
    }

    /// Each origin request is handed out with its entry: the same request (met by its
    /// fields or as a shared one) with the same slot and id, every newly built one with
    /// an id never given before, also when it takes the slot of a replaced one; a
    /// transparent edge sends the request itself, of no entry.
    fn req_to(target: &str) -> Request {
        let mut r = req();
        r.target = target.into();
        r
    }

    #[test]
    fn entries_are_known_by_slot_and_id() {
        let transparent = OriginFields::new(&Forward::default(), &[]);
        let mut memo = SentMemo::default();
        let r = req();
        assert!(transparent.request_in_entry(&r, &mut memo).1.is_none());
        let shared = Arc::new(req());
        assert!(transparent
            .request_in_shared_entry(&shared, &mut memo)
            .1
            .is_none());

        let o = key_forwarding();
        let mut ids = std::collections::HashMap::new();
        let mut first = None;
        for round in 0..3 {
            for i in 0..SENT_MEMO_SLOTS + 3 {
                let mut r = req();
                r.target = format!("/t{i}");
                let r = Arc::new(r);
                let (sent, e) = o.request_in_shared_entry(&r, &mut memo);
                let (sent, e) = (sent.clone(), e.expect("an entry"));
                assert!(e.slot < SENT_MEMO_SLOTS);
                assert_eq!(memo.entries[e.slot], sent);
                assert_eq!(o.request_in_entry(&r, &mut memo).1, Some(e));
                assert_eq!(o.request_in_shared_entry(&r, &mut memo).1, Some(e));
                assert_eq!(o.request_in_entry(&req_to(&r.target), &mut memo).1, Some(e));
                // an id names one built request only
                let target = ids.entry(e.id).or_insert_with(|| sent.target.clone());
                assert_eq!(*target, sent.target, "round {round}");
                if round == 0 && i == 0 {
                    first = Some(e);
                }
            }
        }
        // the first request was replaced long ago: built again, under a new id
        let (_, again) = o.request_in_entry(&req_to("/t0"), &mut memo);
        let (first, again) = (first.expect("the first"), again.expect("an entry"));
        assert_ne!(again.id, first.id);
        assert!(!ids.contains_key(&again.id));
        assert_eq!(ids.len() as u64 + 1, memo.built);
    }

    /// Once the entries are full, a new origin request replaces the oldest in turn: the
    /// last `SENT_MEMO_SLOTS` distinct ones built are all kept.
    #[test]
    fn the_oldest_entry_is_replaced() {
        let o = key_forwarding();
        let mut memo = SentMemo::default();
        for i in 0..3 * SENT_MEMO_SLOTS {
            let mut r = req();
            r.target = format!("/t{i}");
            o.request_in(&r, &mut memo);
            let first = (i + 1).saturating_sub(SENT_MEMO_SLOTS);
            let mut kept: Vec<String> = memo.entries.iter().map(|e| e.target.clone()).collect();
            kept.sort();
            let mut want: Vec<String> = (first..=i).map(|j| format!("/t{j}")).collect();
            want.sort();
            assert_eq!(kept, want, "after {i}");
        }
    }
}
