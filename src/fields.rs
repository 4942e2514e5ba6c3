//! HTTP field (header) storage and list parsing, independent of any HTTP library.
//!
//! Names are kept lowercase (RFC 9110 §5.1: field names are case-insensitive); values are
//! kept byte-for-byte as received, so that a cache comparing raw values (Squid) can be
//! told apart from one that normalises (ATS). Several field lines with the same name are
//! kept as separate entries, in order, so that `Vary: Origin` + `Vary: *` on two lines is
//! seen as the list `Origin, *` (RFC 9110 §5.3).

use serde::Serialize;

/// An ordered multimap of header fields with lowercase names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// No fields.
    pub fn new() -> Self {
        Headers(Vec::new())
    }

    /// Builds from `(name, value)` pairs; names are lowercased.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut h = Headers::new();
        for (n, v) in pairs {
            h.append(n, v);
        }
        h
    }

    /// The first field line's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every field line's value, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All field lines combined into one value with `", "`, as RFC 9110 §5.3 allows for
    /// list-based fields; `None` when the field is absent (absent is not empty).
    pub fn get_combined(&self, name: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for v in self.get_all(name) {
            match &mut out {
                None => out = Some(v.to_string()),
                Some(s) => {
                    s.push_str(", ");
                    s.push_str(v);
                }
            }
        }
        out
    }

    /// Number of field lines with this name.
    pub fn count(&self, name: &str) -> usize {
        self.get_all(name).count()
    }

    /// Whether a field line with this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The comma-separated members of all field lines, trimmed, empty members dropped
    /// (RFC 9110 §5.6.1: recipients ignore empty list elements).
    pub fn list(&self, name: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for (n, v) in &self.0 {
            if n.eq_ignore_ascii_case(name) {
                out.extend(split_list(v));
            }
        }
        out
    }

    /// Adds a field line after any existing ones.
    pub fn append(&mut self, name: &str, value: &str) {
        self.0.push((name.to_ascii_lowercase(), value.to_string()));
    }

    /// Replaces every field line with this name by one.
    pub fn insert(&mut self, name: &str, value: &str) {
        self.remove(name);
        self.append(name, value);
    }

    /// Removes every field line with this name.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// All fields in order, names lowercase.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of field lines.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no field lines.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Approximate size in bytes (names, values and separators), for capacity accounting.
    pub fn byte_size(&self) -> usize {
        self.0.iter().map(|(n, v)| n.len() + v.len() + 4).sum()
    }
}

/// Splits a list-based field value on commas, trimming optional whitespace and dropping
/// empty members (`", *"` is the one member `*`).
pub fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(|m| m.trim_matches(|c| c == ' ' || c == '\t'))
        .filter(|m| !m.is_empty())
}

/// A parsed `Cache-Control` (or targeted `CDN-Cache-Control`) field: only the directives
/// an edge cache acts on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheControl {
    /// `max-age=N` in seconds.
    pub max_age: Option<u64>,
    /// `s-maxage=N` in seconds (shared caches only; RFC 9111 §5.2.2.10).
    pub s_maxage: Option<u64>,
    /// `no-store`.
    pub no_store: bool,
    /// `no-cache` (unqualified or qualified: either way a shared cache must revalidate).
    pub no_cache: bool,
    /// `private` (unqualified or qualified).
    pub private: bool,
    /// `public`.
    pub public: bool,
    /// `must-revalidate`.
    pub must_revalidate: bool,
    /// `proxy-revalidate`.
    pub proxy_revalidate: bool,
    /// `stale-while-revalidate=N` (RFC 5861).
    pub stale_while_revalidate: Option<u64>,
}

impl CacheControl {
    /// Parses every field line of `name` in `headers`. Unknown directives are ignored, as
    /// RFC 9111 §5.2 requires; a directive with an unparsable number is treated as absent
    /// except `max-age`/`s-maxage`, which are then taken as 0 (stale), the safe reading.
    pub fn parse(headers: &Headers, name: &str) -> Option<CacheControl> {
        if !headers.contains(name) {
            return None;
        }
        let mut cc = CacheControl::default();
        for member in headers.list(name) {
            let (k, v) = match member.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim().trim_matches('"'))),
                None => (member, None),
            };
            let num = |v: Option<&str>| v.and_then(delta_seconds);
            let is = |name: &str| k.eq_ignore_ascii_case(name);
            if is("max-age") {
                cc.max_age = Some(num(v).unwrap_or(0));
            } else if is("s-maxage") {
                cc.s_maxage = Some(num(v).unwrap_or(0));
            } else if is("no-store") {
                cc.no_store = true;
            } else if is("no-cache") {
                cc.no_cache = true;
            } else if is("private") {
                cc.private = true;
            } else if is("public") {
                cc.public = true;
            } else if is("must-revalidate") {
                cc.must_revalidate = true;
            } else if is("proxy-revalidate") {
                cc.proxy_revalidate = true;
            } else if is("stale-while-revalidate") {
                cc.stale_while_revalidate = num(v);
            }
        }
        Some(cc)
    }
}

/// The most delta-seconds a cache represents (RFC 9111 §1.2.2: 2^31).
pub const DELTA_SECONDS_MAX: u64 = 1 << 31;

/// Parses delta-seconds (RFC 9111 §1.2.2: `1*DIGIT`). "If a cache receives a
/// delta-seconds value greater than the greatest integer it can represent, or if any of
/// its subsequent calculations overflows, the cache MUST consider the value to be
/// 2147483648 (2^31)": larger values, even beyond 64 bits, become 2^31. `None` when not
/// digits.
pub fn delta_seconds(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        s.parse::<u64>()
            .map_or(DELTA_SECONDS_MAX, |n| n.min(DELTA_SECONDS_MAX)),
    )
}

/// Whether `s` is a valid RFC 9110 token (field names, methods).
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_and_absent_differ_from_empty() {
        let mut h = Headers::new();
        assert_eq!(h.get_combined("vary"), None);
        h.append("Vary", "");
        assert_eq!(h.get_combined("vary").as_deref(), Some(""));
        h.append("VARY", "Origin");
        assert_eq!(h.get_combined("vary").as_deref(), Some(", Origin"));
        assert_eq!(h.list("vary"), vec!["Origin"]);
    }

    #[test]
    fn list_drops_empty_members_and_whitespace() {
        let h = Headers::from_pairs([("vary", " , *"), ("vary", "Origin ,\tAccept")]);
        assert_eq!(h.list("Vary"), vec!["*", "Origin", "Accept"]);
    }

    #[test]
    fn cache_control_directives() {
        let h = Headers::from_pairs([
            ("cache-control", "public, max-age=300"),
            ("cache-control", "s-maxage=\"60\", No-Store"),
        ]);
        let cc = CacheControl::parse(&h, "cache-control").unwrap();
        assert_eq!(cc.max_age, Some(300));
        assert_eq!(cc.s_maxage, Some(60));
        assert!(cc.no_store && cc.public && !cc.private);
        let mut huge = Headers::new();
        huge.append(
            "cache-control",
            "max-age=99999999999999999999999, s-maxage=4294967296",
        );
        let cc = CacheControl::parse(&huge, "cache-control").unwrap();
        assert_eq!(cc.max_age, Some(DELTA_SECONDS_MAX));
        assert_eq!(cc.s_maxage, Some(DELTA_SECONDS_MAX));
        assert_eq!(delta_seconds("12a"), None);
        let bad = Headers::from_pairs([("cache-control", "max-age=abc")]);
        assert_eq!(
            CacheControl::parse(&bad, "cache-control").unwrap().max_age,
            Some(0)
        );
        assert_eq!(CacheControl::parse(&Headers::new(), "cache-control"), None);
    }

    #[test]
    fn tokens() {
        assert!(is_token("X-Custom"));
        assert!(!is_token("bad header"));
        assert!(!is_token(""));
    }
}
