//! RFC 9211 `Cache-Status`: one member, built from the edge core's decision and written by
//! the proxy, or parsed back from any cache's header by `replay --target`.
//!
//! RFC 9211 §2: "The Cache-Status HTTP response header field indicates caches' handling
//! of the request corresponding to the response it occurs within. Its value is a List
//! … Each member of the list represents a cache that has handled the request", the first
//! the cache closest to the origin server, the last the one closest to the user agent.

use super::{Fwd, Outcome};
use std::borrow::Cow;
use std::fmt;

/// The cache name `varyedge proxy` writes in its `Cache-Status` members.
pub const CACHE_NAME: &str = "varyedge";

/// One `Cache-Status` member (RFC 9211 §2.1–§2.8), parameters in a fixed order when
/// written: `hit`, `fwd`, `fwd-status`, `collapsed`, `stored`, `ttl`, `key`, `detail`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheStatus<'a> {
    /// The cache's name (the member's item).
    pub cache: Cow<'a, str>,
    /// §2.1 `hit`: the request was satisfied by the cache.
    pub hit: bool,
    /// §2.2 `fwd`: why the request went forward (`uri-miss`, `vary-miss`, `method`, …).
    pub fwd: Option<Cow<'a, str>>,
    /// §2.3 `fwd-status`: the status the next hop answered.
    pub fwd_status: Option<u16>,
    /// §2.7 `collapsed`: the request was collapsed with another one.
    pub collapsed: bool,
    /// §2.5 `stored`: the cache stored the forwarded response.
    pub stored: bool,
    /// §2.4 `ttl`: the response's remaining freshness lifetime in seconds (negative
    /// when stale).
    pub ttl: Option<i64>,
    /// §2.6 `key`: the cache key, unquoted.
    pub key: Option<Cow<'a, str>>,
    /// §2.8 `detail`: extra information, unquoted.
    pub detail: Option<Cow<'a, str>>,
    /// The extension parameter `stored-set-cookie` (RFC 9211 §2: "caches MAY define
    /// additional parameters"): the response comes from the store with a `Set-Cookie`,
    /// which every client it is served to receives.
    pub stored_set_cookie: bool,
}

impl<'a> CacheStatus<'a> {
    /// The field's name, lowercase.
    pub const FIELD: &'static str = "cache-status";

    /// Our member for a response served from the cache (`hit`; `stale` adds a detail).
    pub fn hit(stale: bool) -> CacheStatus<'a> {
        CacheStatus {
            cache: Cow::Borrowed(CACHE_NAME),
            hit: true,
            detail: stale.then_some(Cow::Borrowed("stale-while-revalidate")),
            ..CacheStatus::default()
        }
    }

    /// Our member for a request that went forward for `fwd`.
    pub fn forward(fwd: Fwd) -> CacheStatus<'a> {
        CacheStatus {
            cache: Cow::Borrowed(CACHE_NAME),
            fwd: Some(Cow::Borrowed(fwd.token())),
            ..CacheStatus::default()
        }
    }

    /// Our member for a response the proxy made itself (`detail` says why).
    pub fn own(detail: &'a str) -> CacheStatus<'a> {
        CacheStatus {
            cache: Cow::Borrowed(CACHE_NAME),
            detail: Some(Cow::Borrowed(detail)),
            ..CacheStatus::default()
        }
    }

    /// The member for an edge core outcome: what the proxy writes for it.
    pub fn from_outcome(outcome: Outcome, fwd: Fwd) -> CacheStatus<'a> {
        match outcome {
            Outcome::Hit => CacheStatus::hit(false),
            Outcome::Stale => CacheStatus::hit(true),
            Outcome::Collapsed => CacheStatus {
                collapsed: true,
                ..CacheStatus::forward(fwd)
            },
            // `NotSent` never comes from the edge core (a report's "no request reached the
            // edge"); written as a forward if it ever did.
            Outcome::Miss | Outcome::Pass | Outcome::NotSent => CacheStatus::forward(fwd),
        }
    }

    /// The outcome this member claims:
    /// `hit` → hit (stale when `ttl` < 0 or `fwd=stale`); `collapsed` with a `fwd` →
    /// collapsed; `fwd=method|request|bypass` → pass; any other `fwd` (`uri-miss`,
    /// `vary-miss`, `miss`, `stale`, `partial`) → miss; neither `hit` nor `fwd` → `None`.
    pub fn outcome(&self) -> Option<Outcome> {
        let fwd = self.fwd.as_deref().map(str::to_ascii_lowercase);
        if self.hit {
            let stale = self.ttl.is_some_and(|t| t < 0) || fwd.as_deref() == Some("stale");
            return Some(if stale { Outcome::Stale } else { Outcome::Hit });
        }
        let fwd = fwd?;
        if self.collapsed {
            return Some(Outcome::Collapsed);
        }
        Some(match fwd.as_str() {
            "method" | "request" | "bypass" => Outcome::Pass,
            _ => Outcome::Miss,
        })
    }

    /// Whether this member is `varyedge proxy`'s own.
    pub fn is_ours(&self) -> bool {
        self.cache == CACHE_NAME
    }

    /// The last member of a `Cache-Status` field value (the cache nearest the client).
    pub fn parse_last(v: &str) -> Option<CacheStatus<'static>> {
        let last = split_unquoted(v, ',')
            .into_iter()
            .map(str::trim)
            .rfind(|m| !m.is_empty())?;
        let mut parts = split_unquoted(last, ';').into_iter();
        let mut cs = CacheStatus {
            cache: Cow::Owned(parts.next().unwrap_or("").trim().to_string()),
            ..CacheStatus::default()
        };
        for p in parts {
            let p = p.trim();
            let (k, val) = p.split_once('=').unwrap_or((p, "?1"));
            let val = val.trim();
            let truthy = val != "?0";
            match k.trim().to_ascii_lowercase().as_str() {
                "hit" => cs.hit = truthy,
                "collapsed" => cs.collapsed = truthy,
                "stored" => cs.stored = truthy,
                "fwd" => cs.fwd = Some(Cow::Owned(unquote(val))),
                "fwd-status" => cs.fwd_status = val.parse().ok(),
                "ttl" => cs.ttl = val.parse().ok(),
                "key" => cs.key = Some(Cow::Owned(unquote(val))),
                "detail" => cs.detail = Some(Cow::Owned(unquote(val))),
                "stored-set-cookie" => cs.stored_set_cookie = truthy,
                _ => {}
            }
        }
        Some(cs)
    }
}

/// Writes the member as RFC 8941 text: keys and details as sf-strings.
impl fmt::Display for CacheStatus<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(96);
        self.write_into(&mut s);
        f.write_str(&s)
    }
}

impl CacheStatus<'_> {
    /// Appends the member as RFC 8941 text to `out` (what `Display` writes). The proxy
    /// writes one per response: straight into a `String`, this costs a fraction of going
    /// through `fmt` (a `Formatter` call per piece, `key=` in several pieces).
    pub fn write_into(&self, out: &mut String) {
        out.push_str(&self.cache);
        if self.hit {
            out.push_str("; hit");
        }
        if let Some(fwd) = &self.fwd {
            out.push_str("; fwd=");
            out.push_str(fwd);
        }
        if let Some(s) = self.fwd_status {
            out.push_str("; fwd-status=");
            push_integer(out, i64::from(s));
        }
        if self.collapsed {
            out.push_str("; collapsed");
        }
        if self.stored {
            out.push_str("; stored");
        }
        if let Some(t) = self.ttl {
            out.push_str("; ttl=");
            push_integer(out, t);
        }
        if let Some(k) = &self.key {
            out.push_str("; key=");
            push_sf_string(out, k);
        }
        if let Some(d) = &self.detail {
            out.push_str("; detail=");
            push_sf_string(out, d);
        }
        if self.stored_set_cookie {
            out.push_str("; stored-set-cookie");
        }
    }
}

/// Appends `n` in decimal.
fn push_integer(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    for &d in crate::fields::decimal(n.unsigned_abs(), &mut digits) {
        out.push(char::from(d));
    }
}

/// RFC 8941 §3.3.3 sf-string: quoted, `"` and `\` escaped; bytes outside printable
/// ASCII (not allowed in an sf-string) become `?`.
pub fn sf_string(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    push_sf_string(&mut o, s);
    o
}

/// The bytes an sf-string cannot hold as they are: `"` and `\` (escaped) and anything
/// outside printable ASCII (written `?`).
const SF_SPECIAL: [bool; 256] = {
    let mut t = [true; 256];
    let mut b = b' ';
    while b <= b'~' {
        t[b as usize] = false;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Appends runs of bytes that need no escaping whole (a proxied hit's `key=` is ~80 of
/// them), found by table: one load per byte.
fn push_sf_string(o: &mut String, s: &str) {
    o.push('"');
    let mut rest = s;
    loop {
        let plain = rest
            .bytes()
            .position(|b| SF_SPECIAL[usize::from(b)])
            .unwrap_or(rest.len());
        o.push_str(&rest[..plain]);
        rest = &rest[plain..];
        let Some(c) = rest.chars().next() else {
            break;
        };
        match c {
            '"' | '\\' => {
                o.push('\\');
                o.push(c);
            }
            _ => o.push('?'),
        }
        rest = &rest[c.len_utf8()..];
    }
    o.push('"');
}

/// An sf-string's content (or a token as is).
fn unquote(v: &str) -> String {
    let Some(inner) = v.strip_prefix('"').and_then(|k| k.strip_suffix('"')) else {
        return v.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut escaped = false;
    for c in inner.chars() {
        if !escaped && c == '\\' {
            escaped = true;
            continue;
        }
        escaped = false;
        out.push(c);
    }
    out
}

/// Splits on `sep` outside double-quoted strings (RFC 8941 sf-string).
fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, ch) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && ch == '\\' {
            escaped = true;
        } else if ch == '"' {
            quoted = !quoted;
        } else if ch == sep && !quoted {
            out.push(&s[start..i]);
            start = i + ch.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sf_strings() {
        assert_eq!(sf_string("GET http://a/b"), "\"GET http://a/b\"");
        assert_eq!(sf_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(sf_string("é\n"), "\"??\"");
        assert_eq!(sf_string("\u{7f}~ x\t"), "\"?~ x?\"");
        assert_eq!(sf_string(""), "\"\"");
    }

    proptest::proptest! {
        /// RFC 8941 §3.3.3: the run-at-a-time writer gives what escaping one character at
        /// a time gives (printable ASCII as is, `"` and `\` escaped, anything else `?`).
        #[test]
        fn sf_string_escapes_as_char_by_char(s in "\\PC{0,40}|[ -~\"\\\\é\t\u{7f}]{0,40}") {
            let mut want = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' | '\\' => {
                        want.push('\\');
                        want.push(c);
                    }
                    ' '..='~' => want.push(c),
                    _ => want.push('?'),
                }
            }
            want.push('"');
            proptest::prop_assert_eq!(sf_string(&s), want);
        }
    }

    /// Numbers are written in decimal as `format!` writes them, from the smallest to the
    /// largest, with every other parameter in its place.
    #[test]
    fn numbers_are_written_as_decimal() {
        let ttls = [i64::MIN, -3_600, -10, -9, -1, 0, 1, 9, 10, 59, 86_400];
        for t in ttls.into_iter().chain([i64::MAX]) {
            for status in [0u16, 9, 10, 200, 504, u16::MAX] {
                let cs = CacheStatus {
                    ttl: Some(t),
                    fwd_status: Some(status),
                    stored_set_cookie: true,
                    ..CacheStatus::hit(true)
                };
                let want = format!(
                    "varyedge; hit; fwd-status={status}; ttl={t}; \
                     detail=\"stale-while-revalidate\"; stored-set-cookie"
                );
                assert_eq!(cs.to_string(), want);
                let mut appended = String::from("x, ");
                cs.write_into(&mut appended);
                assert_eq!(appended, format!("x, {want}"));
            }
        }
    }

    #[test]
    fn written_members_parse_back() {
        let mut cs = CacheStatus::forward(Fwd::VaryMiss);
        cs.fwd_status = Some(200);
        cs.stored = true;
        cs.ttl = Some(60);
        cs.key = Some("GET x, \"y\"\\".into());
        let text = cs.to_string();
        assert_eq!(
            text,
            "varyedge; fwd=vary-miss; fwd-status=200; stored; ttl=60; key=\"GET x, \\\"y\\\"\\\\\""
        );
        let back = CacheStatus::parse_last(&format!("Origin; fwd=miss, {text}")).unwrap();
        assert_eq!(back, cs);
        assert!(back.is_ours());
        assert_eq!(back.outcome(), Some(Outcome::Miss));
        assert_eq!(
            CacheStatus::own("bad-request").to_string(),
            "varyedge; detail=\"bad-request\""
        );
    }

    #[test]
    fn outcomes_round_trip_through_the_header() {
        for o in [
            Outcome::Hit,
            Outcome::Stale,
            Outcome::Collapsed,
            Outcome::Miss,
        ] {
            let mut cs = CacheStatus::from_outcome(o, Fwd::UriMiss);
            if o == Outcome::Stale {
                cs.ttl = Some(-3);
            }
            let back = CacheStatus::parse_last(&cs.to_string()).unwrap();
            assert_eq!(back.outcome(), Some(o), "{cs}");
            assert_eq!(
                back.outcome().is_some_and(Outcome::from_cache),
                o.from_cache()
            );
        }
        let pass = CacheStatus::from_outcome(Outcome::Pass, Fwd::Method).to_string();
        assert_eq!(
            CacheStatus::parse_last(&pass).and_then(|c| c.outcome()),
            Some(Outcome::Pass)
        );
        assert_eq!(
            CacheStatus::parse_last("x; detail=y").unwrap().outcome(),
            None
        );
    }
}
