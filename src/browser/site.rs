//! Origins and sites, as the browser compares them: same origin (HTML "same origin":
//! scheme, host and port), and same site (HTML "schemefully same site": scheme and
//! registrable domain, <https://html.spec.whatwg.org/multipage/browsers.html#sites>).
//!
//! The registrable domain needs the Public Suffix List. The model carries a short list of
//! multi-label public suffixes that scenarios are likely to use; any other name's site is
//! its last two labels. An IP address or a single-label name (`localhost`) is its own site.

use crate::edge::hash::{FastBuild, FastHasher};
use crate::fields::{head_word, tail_word};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hasher;

/// `scheme`, `host` (lowercase, no port) and port of an origin or URL authority.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Parts<'a> {
    pub scheme: &'a str,
    pub host: &'a str,
    pub port: Option<&'a str>,
}

/// Splits `scheme://host[:port][/...]` (an origin or a URL): the scheme ends at the
/// first `://`, the authority at the first `/`, `?` or `#` after it. Byte scans, no
/// allocation (this runs several times per simulated request).
pub(crate) fn parts(url: &str) -> Option<Parts<'_>> {
    let b = url.as_bytes();
    let mut at = 0;
    let at = loop {
        match b.get(at..at + 3)? {
            [b':', b'/', b'/'] => break at,
            _ => at += 1,
        }
    };
    let rest = &b[at + 3..];
    let mut end = 0;
    while end < rest.len() && !matches!(rest[end], b'/' | b'?' | b'#') {
        end += 1;
    }
    let (host, port) = split_authority(&url[at + 3..at + 3 + end]);
    Some(Parts {
        scheme: &url[..at],
        host,
        port,
    })
}

/// [`parts`] of the URL `scheme://host` + `target` (as [`super::cache::url_of`] writes
/// it) without building it, when that is plain: a scheme of URL scheme characters, a
/// host without `/`, `?`, `#`, and a target that is empty or starts a path, query or
/// fragment. `None` otherwise (then build the URL and call [`parts`]).
pub(crate) fn url_parts<'a>(scheme: &'a str, host: &'a str, target: &str) -> Option<Parts<'a>> {
    let delim = |b: u8| matches!(b, b'/' | b'?' | b'#');
    let plain = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && !host.bytes().any(delim)
        && target.bytes().next().is_none_or(delim);
    if !plain {
        return None;
    }
    let (host, port) = split_authority(host);
    Some(Parts { scheme, host, port })
}

/// Splits `host[:port]`, with `[v6]` literals kept whole.
pub(crate) fn split_authority(authority: &str) -> (&str, Option<&str>) {
    let b = authority.as_bytes();
    if b.first() == Some(&b'[') {
        return match b.windows(2).position(|w| w == b"]:") {
            Some(i) => (&authority[..i + 1], Some(&authority[i + 2..])),
            None => (authority, None),
        };
    }
    match b.iter().rposition(|&c| c == b':') {
        Some(i) if b[i + 1..].iter().all(u8::is_ascii_digit) => {
            (&authority[..i], Some(&authority[i + 1..]))
        }
        _ => (authority, None),
    }
}

/// The port a scheme uses when none is written.
fn default_port(scheme: &str) -> Option<&'static str> {
    match scheme {
        "http" | "ws" => Some("80"),
        "https" | "wss" => Some("443"),
        _ => None,
    }
}

/// How the URL `scheme://host` + target relates to an origin (the page's, or the
/// request's): whether each parses, and whether they are same origin and same site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Relation {
    /// The origin is `scheme://host[:port]` (not `null`, not garbage).
    pub origin_parses: bool,
    /// Both parse and are same origin.
    pub same_origin: bool,
    /// Both parse and are schemefully same site.
    pub same_site: bool,
}

impl Relation {
    fn of(origin: Option<&Parts<'_>>, url: Option<&Parts<'_>>) -> Relation {
        let both = |f: fn(&Parts<'_>, &Parts<'_>) -> bool| match (origin, url) {
            (Some(o), Some(u)) => f(o, u),
            _ => false,
        };
        let same_origin = both(same_origin_parts);
        Relation {
            origin_parses: origin.is_some(),
            same_origin,
            // same origin is same scheme and host, hence same site
            same_site: same_origin || both(same_site_parts),
        }
    }
}

/// Bound on the pairs the per-thread memo of [`relation`] holds (beyond it, it starts
/// over).
const RELATIONS_MAX: usize = 4096;

/// `hash(origin, scheme, host)` → those three and their [`Relation`].
type RelationMemo = HashMap<u64, Vec<(Box<str>, Box<str>, Box<str>, Relation)>, FastBuild>;

thread_local! {
    /// The pairs [`relation`] was asked about. A pure function's results: whatever it
    /// holds, [`relation`] answers the same.
    static RELATION_MEMO: RefCell<RelationMemo> = RefCell::new(HashMap::default());
}

/// Whether memo entry `e` is the one for `origin`, `scheme` and `host` (entries that
/// share a hash slot are told apart here).
fn is_pair(
    e: &(Box<str>, Box<str>, Box<str>, Relation),
    origin: &str,
    scheme: &str,
    host: &str,
) -> bool {
    *e.0 == *origin && *e.1 == *scheme && *e.2 == *host
}

/// [`Relation`] of `origin` and the URL `scheme://host` + `target` (as
/// [`super::cache::url_of`] writes it). Every simulated request asks this two or three
/// times, for pairs a scenario repeats, so the answer for a plain target (empty, or
/// starting a path, query or fragment: then it cannot change the URL's origin) is
/// remembered.
pub(crate) fn relation(origin: &str, scheme: &str, host: &str, target: &str) -> Relation {
    let compute = || {
        let o = parts(origin);
        match url_parts(scheme, host, target) {
            Some(u) => Relation::of(o.as_ref(), Some(&u)),
            None => {
                let url = format!("{scheme}://{host}{target}");
                Relation::of(o.as_ref(), parts(&url).as_ref())
            }
        }
    };
    if !target
        .bytes()
        .next()
        .is_none_or(|b| matches!(b, b'/' | b'?' | b'#'))
    {
        return compute();
    }
    // a few words of the three texts (origins and hosts differ at their starts or ends;
    // `https://` is 8 bytes) and their lengths: a slot only has to spread the pairs,
    // `is_pair` tells them apart, and hashing every byte cost more than the lookup
    let (o, hb) = (origin.as_bytes(), host.as_bytes());
    let mut h = FastHasher::default();
    h.write_usize(head_word(o.get(8..).unwrap_or_default()) as usize);
    h.write_usize(tail_word(o) as usize);
    h.write_usize(head_word(hb) as usize);
    h.write_usize(tail_word(hb) as usize);
    h.write_usize(o.len() | (hb.len() << 16) | (scheme.len() << 32));
    let slot = h.finish();
    RELATION_MEMO.with(|m| {
        let mut m = m.borrow_mut();
        let found = m.get(&slot).and_then(|v| {
            v.iter()
                .find(|e| is_pair(e, origin, scheme, host))
                .map(|e| e.3)
        });
        if let Some(r) = found {
            return r;
        }
        let r = compute();
        if m.len() >= RELATIONS_MAX {
            m.clear();
        }
        m.entry(slot)
            .or_default()
            .push((origin.into(), scheme.into(), host.into(), r));
        r
    })
}

/// HTML "same origin": scheme, host and port equal (the default port written or not).
pub(crate) fn same_origin(a: &str, b: &str) -> bool {
    match (parts(a), parts(b)) {
        (Some(x), Some(y)) => same_origin_parts(&x, &y),
        _ => false,
    }
}

/// [`same_origin`] on split parts.
pub(crate) fn same_origin_parts(x: &Parts<'_>, y: &Parts<'_>) -> bool {
    x.scheme.eq_ignore_ascii_case(y.scheme)
        && x.host.eq_ignore_ascii_case(y.host)
        && x.port.or(default_port(x.scheme)) == y.port.or(default_port(y.scheme))
}

/// Multi-label public suffixes (a small extract of the Public Suffix List,
/// <https://publicsuffix.org/list/>): under these, the registrable domain has three labels.
const MULTI_LABEL_SUFFIXES: [&str; 16] = [
    "co.uk",
    "org.uk",
    "ac.uk",
    "gov.uk",
    "com.au",
    "net.au",
    "org.au",
    "co.jp",
    "co.nz",
    "com.br",
    "co.in",
    "github.io",
    "herokuapp.com",
    "vercel.app",
    "netlify.app",
    "pages.dev",
];

/// The registrable domain of `host` (lowercase input expected; compared case-insensitively).
pub(crate) fn registrable_domain(host: &str) -> &str {
    let h = host.trim_end_matches('.');
    let is_ip = h.starts_with('[') || h.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if is_ip || !h.contains('.') {
        return h;
    }
    let take = |n: usize| -> &str {
        // the last n labels: after the n-th dot from the end (the whole name when it has
        // fewer dots)
        let mut end = h.len();
        for _ in 0..n {
            match h.as_bytes()[..end].iter().rposition(|&b| b == b'.') {
                Some(i) => end = i,
                None => return h,
            }
        }
        &h[end + 1..]
    };
    let two = take(2);
    if MULTI_LABEL_SUFFIXES
        .iter()
        .any(|s| two.eq_ignore_ascii_case(s))
    {
        take(3)
    } else {
        two
    }
}

/// HTML "schemefully same site": same scheme and same registrable domain (ports ignored).
/// An origin that is not a URL (`null`) is same site with nothing.
pub(crate) fn same_site(a: &str, b: &str) -> bool {
    match (parts(a), parts(b)) {
        (Some(x), Some(y)) => same_site_parts(&x, &y),
        _ => false,
    }
}

/// [`same_site`] on split parts.
pub(crate) fn same_site_parts(x: &Parts<'_>, y: &Parts<'_>) -> bool {
    x.scheme.eq_ignore_ascii_case(y.scheme)
        && registrable_domain(x.host).eq_ignore_ascii_case(registrable_domain(y.host))
}

/// `scheme://host[:port]` of a URL: its origin, serialised.
pub(crate) fn origin_of(url: &str) -> String {
    match parts(url) {
        Some(p) => match p.port {
            Some(port) if Some(port) != default_port(p.scheme) => {
                format!("{}://{}:{}", p.scheme, p.host, port)
            }
            _ => format!("{}://{}", p.scheme, p.host),
        },
        None => "null".to_string(),
    }
}

/// Whether `host` is a loopback name or address (a "potentially trustworthy" origin for
/// Secure cookies even over http, as Chromium and the Secure Contexts spec treat it).
pub(crate) fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.to_ascii_lowercase().ends_with(".localhost")
        || h.starts_with("127.")
        || h == "::1"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert!(same_origin("https://a.example", "https://a.example:443/x"));
        assert!(!same_origin("https://a.example", "http://a.example"));
        assert!(!same_origin("http://127.0.0.1:1", "http://127.0.0.1:2"));
        assert!(!same_origin("null", "null"));
        assert_eq!(origin_of("http://h:80/x?y"), "http://h");
        assert_eq!(origin_of("http://h:8080/x"), "http://h:8080");
        assert_eq!(origin_of("https://[::1]:9/x"), "https://[::1]:9");
    }

    #[test]
    fn sites() {
        assert!(same_site(
            "https://app.example.com",
            "https://api.example.com"
        ));
        assert!(!same_site(
            "http://app.example.com",
            "https://api.example.com"
        ));
        assert!(same_site("http://127.0.0.1:1", "http://127.0.0.1:2"));
        assert!(!same_site("http://localhost:1", "http://127.0.0.1:2"));
        assert!(same_site("http://localhost:3000", "http://localhost:8080"));
        assert!(!same_site("https://a.github.io", "https://b.github.io"));
        assert!(same_site("https://x.a.co.uk", "https://y.a.co.uk"));
        assert!(!same_site("https://a.co.uk", "https://b.co.uk"));
        assert!(!same_site("null", "https://a.example"));
    }

    /// The reference [`parts`]: the standard library's splitting, as first written.
    fn parts_by_split(url: &str) -> Option<Parts<'_>> {
        let (scheme, rest) = url.split_once("://")?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let (host, port) = match authority.strip_prefix('[') {
            Some(_) => match authority.split_once("]:") {
                Some((h, p)) => (&authority[..h.len() + 1], Some(p)),
                None => (authority, None),
            },
            None => match authority.rsplit_once(':') {
                Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
                _ => (authority, None),
            },
        };
        Some(Parts { scheme, host, port })
    }

    proptest::proptest! {
        /// The byte scans split like the standard library's `split_once`/`rsplit_once`,
        /// and `url_parts` (when it answers) like `parts` of the built URL.
        #[test]
        fn byte_scans_split_like_the_reference(
            scheme in "[a-z:/]{0,6}",
            host in "[a-z0-9.:\\[\\]/?#]{0,12}",
            target in "[a-z/?#:]{0,6}",
        ) {
            let url = format!("{scheme}://{host}{target}");
            proptest::prop_assert_eq!(parts(&url), parts_by_split(&url));
            let raw = format!("{scheme}{host}{target}");
            proptest::prop_assert_eq!(parts(&raw), parts_by_split(&raw));
            if let Some(p) = url_parts(&scheme, &host, &target) {
                proptest::prop_assert_eq!(Some(p), parts(&url));
            }
        }
    }

    proptest::proptest! {
        /// The last n labels by reverse scans, as by the list of dot positions.
        #[test]
        fn registrable_domain_by_reverse_scan(host in "[a-c.]{0,12}(\\.(co\\.uk|github\\.io))?") {
            let h = host.trim_end_matches('.');
            let labels: Vec<usize> = h.match_indices('.').map(|(i, _)| i).collect();
            let take = |n: usize| if labels.len() < n { h } else { &h[labels[labels.len() - n] + 1..] };
            let two = take(2);
            let want = if !h.contains('.') || h.bytes().all(|b| b == b'.') {
                h
            } else if MULTI_LABEL_SUFFIXES.iter().any(|s| two.eq_ignore_ascii_case(s)) {
                take(3)
            } else {
                two
            };
            proptest::prop_assert_eq!(registrable_domain(&host), want);
        }
    }

    #[test]
    fn url_parts_answers_plain_urls() {
        let p = url_parts("https", "[::1]:8443", "/x?y");
        assert_eq!(p, parts("https://[::1]:8443/x?y"));
        assert!(p.is_some());
        assert!(url_parts("https", "a.example", "").is_some());
        assert_eq!(url_parts("https", "a.example", "x"), None);
        assert_eq!(url_parts("", "a.example", "/"), None);
        assert_eq!(url_parts("https", "a/b", "/"), None);
    }

    #[test]
    fn loopback() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("10.0.0.1"));
    }

    /// HTML "obtain a site": a host that is an IP address (or has no dot) has no
    /// registrable domain; the host itself is the site. Two addresses in one /24 are not
    /// same-site, as two names under one public suffix would be.
    #[test]
    fn an_ip_address_is_its_own_site() {
        assert_eq!(registrable_domain("192.168.0.1"), "192.168.0.1");
        assert_eq!(registrable_domain("127.0.0.1."), "127.0.0.1");
        assert_eq!(registrable_domain("[::ffff:10.0.0.1]"), "[::ffff:10.0.0.1]");
        assert_eq!(registrable_domain("localhost"), "localhost");
        assert_eq!(registrable_domain("api.app.example.com"), "example.com");
        assert!(!same_site("http://10.0.0.1:80", "http://10.0.0.2/"));
    }

    /// The remembered relation is the one computed from the URL itself, whichever pairs
    /// came before it (more pairs than the memo holds, asked three times over), and a
    /// target that is not plain is never answered from the memo.
    #[test]
    fn relation_is_what_the_urls_say() {
        let origins = [
            "https://app.example.com",
            "https://api.example.com:443",
            "http://api.example.com",
            "https://evil.example",
            "null",
            "garbage",
            "https://x.co.uk",
        ];
        let urls = [
            ("https", "api.example.com", "/d?x=1"),
            ("https", "api.example.com:8443", "/d"),
            ("http", "api.example.com", ""),
            ("https", "y.x.co.uk", "#f"),
            ("https", "evil.example", "?q"),
            ("https", "app.example.com", "x/y"),
            ("https", "app.example.com", ":8080/"),
            ("https", "app.example.com", "/z"),
            ("https", "app.example.com/p", "/q"),
            ("", "app.example.com", "/"),
        ];
        for _ in 0..3 {
            for o in origins {
                for (scheme, host, target) in urls {
                    let url = format!("{scheme}://{host}{target}");
                    let want = Relation {
                        origin_parses: parts(o).is_some(),
                        same_origin: same_origin(o, &url),
                        same_site: same_site(o, &url),
                    };
                    assert_eq!(relation(o, scheme, host, target), want, "{o} {url}");
                }
            }
        }
    }

    /// Entries sharing a hash slot are told apart by all three texts.
    #[test]
    fn a_memo_entry_answers_only_its_own_pair() {
        let r = Relation {
            origin_parses: true,
            same_origin: false,
            same_site: true,
        };
        let e = (
            "https://a.example".into(),
            "https".into(),
            "b.example".into(),
            r,
        );
        assert!(is_pair(&e, "https://a.example", "https", "b.example"));
        assert!(!is_pair(&e, "https://c.example", "https", "b.example"));
        assert!(!is_pair(&e, "https://a.example", "http", "b.example"));
        assert!(!is_pair(&e, "https://a.example", "https", "c.example"));
    }
}
