//! HTTP field (header) storage and list parsing, independent of any HTTP library.
//!
//! Names are kept lowercase (RFC 9110 §5.1: field names are case-insensitive); values are
//! kept byte-for-byte as received, so that a cache comparing raw values (Squid) can be
//! told apart from one that normalises (ATS). Several field lines with the same name are
//! kept as separate entries, in order, so that `Vary: Origin` + `Vary: *` on two lines is
//! seen as the list `Origin, *` (RFC 9110 §5.3).

use serde::Serialize;

mod text;

/// A field name or value: borrowed from a static table (the browser's and the origin's
/// fixed fields, common names) or owned. Compares, hashes and serialises as its text.
pub use text::Text;

/// An ordered multimap of header fields with lowercase names.
///
/// Names and values that are static text (the engines' default request headers, the
/// well-known field names) are stored without allocating, so building and cloning a
/// request's fields is mostly copying pointers.
#[derive(Debug, Default, Serialize)]
pub struct Headers(Vec<(Text, Text)>);

impl Clone for Headers {
    fn clone(&self) -> Headers {
        Headers(self.0.clone())
    }

    /// Copies `source` into this list's buffers (its own allocation, and each owned text
    /// written over an owned one), as a driver refilling one fetch step after step does,
    /// instead of building a new list and dropping this one. (An empty source, the
    /// usual case, only empties this one: the slice copy's setup costs more than that.)
    fn clone_from(&mut self, source: &Headers) {
        if source.0.is_empty() {
            self.0.clear();
        } else {
            self.0.clone_from(&source.0);
        }
    }
}

/// Whether a stored field name (lowercase) is `name`, compared ASCII case-insensitively.
/// Callers mostly ask for a name written in lowercase, so equal bytes settle it without
/// the letter-by-letter folding (the usual answer when a lookup finds its field); only
/// a name of the same length that differs in its bytes is compared folded.
fn is_name(stored: &str, name: &str) -> bool {
    stored.len() == name.len()
        && (stored.as_bytes() == name.as_bytes() || stored.eq_ignore_ascii_case(name))
}

/// Equal as text; the same static text (the engines' default fields) is recognised by
/// its address without comparing bytes.
fn same_text(a: &str, b: &str) -> bool {
    (std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len()) || a == b
}

impl PartialEq for Headers {
    fn eq(&self, other: &Headers) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|((n, v), (m, w))| same_text(n, m) && same_text(v, w))
    }
}

impl Eq for Headers {}

impl std::hash::Hash for Headers {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // as the text compares (`PartialEq` above)
        self.0.hash(state);
    }
}

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
            .find(|(n, _)| is_name(n, name))
            .map(|(_, v)| &**v)
    }

    /// Every field line's value, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| is_name(n, name))
            .map(|(_, v)| &**v)
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
            if is_name(n, name) {
                out.extend(split_list(v));
            }
        }
        out
    }

    /// Adds a field line after any existing ones.
    pub fn append(&mut self, name: &str, value: &str) {
        self.0
            .push((lowercase_name(name), Text::owned(value.to_string())));
    }

    /// Makes the field lines `fields`, in order (names given lowercase, as `http`'s
    /// `HeaderName` has them), reusing the lines already here: a line whose name is the
    /// same text keeps it without a lookup, and an owned value's buffer is written over
    /// instead of a new one allocated. A client on a kept-alive connection sends the same
    /// names in the same order request after request, so refilling a recycled request
    /// usually allocates nothing. The result equals clearing and then [`Self::append`]ing
    /// each line.
    pub fn overwrite_lowercase<'a>(&mut self, fields: impl Iterator<Item = (&'a str, &'a str)>) {
        let mut len = 0;
        for (n, v) in fields {
            debug_assert!(!n.bytes().any(|b| b.is_ascii_uppercase()));
            match self.0.get_mut(len) {
                Some((name, value)) => {
                    if **name != *n {
                        *name = lowercase_name(n);
                    }
                    value.set(v);
                }
                None => self.0.push((lowercase_name(n), Text::owned(v.to_string()))),
            }
            len += 1;
        }
        self.0.truncate(len);
    }

    /// Bytes of text the lines own (the capacity of their owned names and values).
    pub fn owned_capacity(&self) -> usize {
        self.owned_capacities().map(|(n, v)| n + v).sum()
    }

    /// Adds a field line whose name is the model's own lowercase text, without looking
    /// the name up; the value is moved in (a `String`) or borrowed (static text).
    pub fn append_known(&mut self, name: &'static str, value: impl Into<Text>) {
        debug_assert!(!name.bytes().any(|b| b.is_ascii_uppercase()));
        self.0.push((Text::from_static(name), value.into()));
    }

    /// A copy whose first field line has `value` as its value (its name kept), the others
    /// as they are (static text stays static); empty when there is no field line. The
    /// copy is sized once, and the first value is not copied only to be replaced.
    pub fn with_first_value(&self, value: impl Into<Text>) -> Headers {
        let mut out = Vec::with_capacity(self.0.len());
        if let Some(((name, _), rest)) = self.0.split_first() {
            out.push((name.clone(), value.into()));
            out.extend_from_slice(rest);
        }
        Headers(out)
    }

    /// Appends every field line of `other`, in order (names are lowercase there already;
    /// static text stays static).
    pub fn extend_from(&mut self, other: &Headers) {
        self.0.extend_from_slice(&other.0);
    }

    /// Appends the field lines of `other` whose (lowercase) name `keep` accepts, in
    /// order (static text stays static).
    pub fn extend_where(&mut self, other: &Headers, mut keep: impl FnMut(&str) -> bool) {
        self.0
            .extend(other.0.iter().filter(|(n, _)| keep(n)).cloned());
    }

    /// Adds a field line of static text after any existing ones, without allocating.
    /// `name` must already be lowercase (the browser's and origin's own fields are).
    pub fn append_static(&mut self, name: &'static str, value: &'static str) {
        debug_assert!(!name.bytes().any(|b| b.is_ascii_uppercase()));
        self.0
            .push((Text::from_static(name), Text::from_static(value)));
    }

    /// Appends every field line of `other` whose name is not here yet, keeping static
    /// text static.
    pub fn append_missing(&mut self, other: &Headers) {
        self.0.reserve(other.0.len());
        for (n, v) in &other.0 {
            // names are lowercase on both sides
            if !self.0.iter().any(|(m, _)| same_text(m, n)) {
                self.0.push((n.clone(), v.clone()));
            }
        }
    }

    /// Keeps only the field lines whose (lowercase) name `keep` accepts, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.0.retain(|(n, _)| keep(n));
    }

    /// Reserves room for `n` more field lines.
    pub fn reserve(&mut self, n: usize) {
        self.0.reserve(n);
    }

    /// Replaces every field line with this name by one.
    pub fn insert(&mut self, name: &str, value: &str) {
        self.remove(name);
        self.append(name, value);
    }

    /// Removes every field line with this name.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !is_name(n, name));
    }

    /// All fields in order, names lowercase.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (&**n, &**v))
    }

    /// Each field line's heap bytes, name then value: an owned text's capacity, 0 for
    /// static text (for a weigher of what a stored response holds).
    pub fn owned_capacities(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.0.iter().map(|(n, v)| (n.capacity(), v.capacity()))
    }

    /// The `i`-th field line (name lowercase, value), in order.
    pub fn field(&self, i: usize) -> Option<(&str, &str)> {
        self.0.get(i).map(|(n, v)| (&**n, &**v))
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

/// Field names common enough to be kept as static text rather than allocated per line.
const KNOWN_NAMES: [&str; 33] = [
    "accept",
    "accept-encoding",
    "accept-language",
    "access-control-allow-credentials",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "access-control-allow-origin",
    "access-control-expose-headers",
    "access-control-max-age",
    "access-control-request-headers",
    "access-control-request-method",
    "age",
    "authorization",
    "cache-control",
    "content-length",
    "content-type",
    "cookie",
    "date",
    "etag",
    "expires",
    "host",
    "last-modified",
    "location",
    "origin",
    "referer",
    "sec-fetch-dest",
    "sec-fetch-mode",
    "sec-fetch-site",
    "set-cookie",
    "user-agent",
    "vary",
    "via",
    "x-cache",
];

/// `name` in lowercase: a well-known name as static text, any other one allocated.
pub fn lowercase_name(name: &str) -> Text {
    // a name written in lowercase (the model's own) is looked up as it is
    if !name.bytes().any(|b| b.is_ascii_uppercase()) {
        return match KNOWN_NAMES.binary_search(&name) {
            Ok(i) => Text::from_static(KNOWN_NAMES[i]),
            Err(_) => Text::owned(name.to_string()),
        };
    }
    if let Ok(i) = KNOWN_NAMES.binary_search_by(|k| cmp_lowercase(k, name)) {
        return Text::from_static(KNOWN_NAMES[i]);
    }
    Text::owned(name.to_ascii_lowercase())
}

/// Orders lowercase `k` against `name` compared ASCII case-insensitively.
fn cmp_lowercase(k: &str, name: &str) -> std::cmp::Ordering {
    k.bytes().cmp(name.bytes().map(|b| b.to_ascii_lowercase()))
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
    /// `stale-if-error=N` (RFC 5861 §4).
    pub stale_if_error: Option<u64>,
    /// Request `min-fresh=N` (RFC 9111 §5.2.1.3).
    pub min_fresh: Option<u64>,
    /// Request `max-stale[=N]` (RFC 9111 §5.2.1.2): `Some(None)` accepts any staleness.
    pub max_stale: Option<Option<u64>>,
    /// Request `only-if-cached` (RFC 9111 §5.2.1.7).
    pub only_if_cached: bool,
}

impl CacheControl {
    /// Parses every field line of `name` in `headers`. Unknown directives are ignored, as
    /// RFC 9111 §5.2 requires; a directive with an unparsable number is treated as absent
    /// except `max-age`/`s-maxage`, which are then taken as 0 (stale), the safe reading.
    pub fn parse(headers: &Headers, name: &str) -> Option<CacheControl> {
        let mut lines = headers.get_all(name);
        let first = lines.next()?;
        let Some(second) = lines.next() else {
            // one line, the usual case: the same text was most likely parsed just before
            return Some(CacheControl::parse_line_memo(first));
        };
        let mut cc = CacheControl::parse_line(first);
        for line in std::iter::once(second).chain(lines) {
            for member in split_list(line) {
                cc.apply(member);
            }
        }
        Some(cc)
    }

    /// The directives of one field line.
    fn parse_line(line: &str) -> CacheControl {
        let mut cc = CacheControl::default();
        for member in split_list(line) {
            cc.apply(member);
        }
        cc
    }

    /// [`CacheControl::parse_line`], remembered for the last few lines of this thread
    /// (a simulated origin sends the same few values over and over; a pure function's
    /// results, so whatever the memo holds, the answer is the same).
    fn parse_line_memo(line: &str) -> CacheControl {
        if line.len() > CC_MEMO_MAX_LEN {
            return CacheControl::parse_line(line);
        }
        CC_MEMO.with(|m| {
            let mut m = m.borrow_mut();
            if let Some((_, cc)) = m.entries.iter().find(|(l, _)| **l == *line) {
                return cc.clone();
            }
            let cc = CacheControl::parse_line(line);
            let slot = m.next;
            m.next = (slot + 1) % CC_MEMO_SLOTS;
            if let Some(e) = m.entries.get_mut(slot) {
                e.0.clear();
                e.0.push_str(line);
                e.1 = cc.clone();
            } else {
                m.entries.push((line.to_string(), cc.clone()));
            }
            cc
        })
    }

    /// [`CacheControl::parse`] as a real cache with parsing quirks reads the field:
    /// `case_sensitive` knows a directive only by its lowercase name (Squid);
    /// `quoted_invalid` takes a quoted `max-age`/`s-maxage` value as invalid, so 0
    /// (Varnish, nginx, Squid); `repeat_stale` takes a `max-age`/`s-maxage` repeated with
    /// another value as 0, RFC 9111 §4.2.1's "considered stale" (ATS); `invalid_absent`
    /// ignores an invalid `max-age`/`s-maxage` as if it were not there, so `Expires` or
    /// the other directive decides (Squid), instead of taking it as 0.
    pub fn parse_quirks(
        headers: &Headers,
        name: &str,
        case_sensitive: bool,
        quoted_invalid: bool,
        repeat_stale: bool,
        invalid_absent: bool,
    ) -> Option<CacheControl> {
        let mut lines = headers.get_all(name).peekable();
        lines.peek()?;
        let mut cc = CacheControl::default();
        for member in lines.flat_map(split_list) {
            let (k, v) = match member.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (member, None),
            };
            if case_sensitive && k.bytes().any(|b| b.is_ascii_uppercase()) {
                continue;
            }
            let slot = if k.eq_ignore_ascii_case("max-age") {
                &mut cc.max_age
            } else if k.eq_ignore_ascii_case("s-maxage") {
                &mut cc.s_maxage
            } else {
                cc.apply(member);
                continue;
            };
            let value = match v {
                Some(v) if quoted_invalid && v.starts_with('"') => None,
                Some(v) => delta_seconds(v.trim_matches('"')),
                None => None,
            };
            let value = match value {
                Some(n) => n,
                None if invalid_absent => continue,
                None => 0,
            };
            match *slot {
                None => *slot = Some(value),
                Some(first) if repeat_stale && first != value => *slot = Some(0),
                Some(_) => {}
            }
        }
        Some(cc)
    }

    /// Applies one list member (`name` or `name=value`, any case) of a `Cache-Control`.
    fn apply(&mut self, member: &str) {
        let (k, v) = match member.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim().trim_matches('"'))),
            None => (member, None),
        };
        // the name lowercased on the stack: no directive acted on is longer than 22
        let mut buf = [0u8; 24];
        let Some(lower) = buf.get_mut(..k.len()) else {
            return;
        };
        for (d, c) in lower.iter_mut().zip(k.bytes()) {
            *d = c.to_ascii_lowercase();
        }
        let num = || v.and_then(delta_seconds);
        match &*lower {
            // RFC 9111 §4.2.1: with more than one value for a directive, "the first
            // occurrence should be used" (Chromium does so too)
            b"max-age" if self.max_age.is_none() => self.max_age = Some(num().unwrap_or(0)),
            b"s-maxage" if self.s_maxage.is_none() => {
                self.s_maxage = Some(num().unwrap_or(0));
            }
            b"no-store" => self.no_store = true,
            b"no-cache" => self.no_cache = true,
            b"private" => self.private = true,
            b"public" => self.public = true,
            b"must-revalidate" => self.must_revalidate = true,
            b"proxy-revalidate" => self.proxy_revalidate = true,
            b"stale-while-revalidate" => self.stale_while_revalidate = num(),
            b"stale-if-error" => self.stale_if_error = num(),
            b"min-fresh" => self.min_fresh = num(),
            b"max-stale" => self.max_stale = Some(num()),
            b"only-if-cached" => self.only_if_cached = true,
            _ => {}
        }
    }

    /// Parses a targeted cache-control field (RFC 9213 §2), such as `CDN-Cache-Control`.
    /// Its value is a Structured Fields Dictionary (RFC 8941 §3.2); RFC 9213 §2.1: "If a
    /// targeted field in a given response is empty, or a parsing error is encountered,
    /// that field SHOULD be ignored by the cache" — so `None` when absent or invalid.
    /// A directive whose value has the wrong type is ignored (§2.1: "parameters … and
    /// directives with invalid values are ignored"); `max-age`/`s-maxage` must be
    /// Integers.
    pub fn parse_targeted(headers: &Headers, name: &str) -> Option<CacheControl> {
        let value = headers.get_combined(name)?;
        let members = sf_dictionary(&value)?;
        let mut cc = CacheControl::default();
        for (k, v) in members {
            let int = || match v {
                SfValue::Integer(n) if n >= 0 => Some(n as u64),
                _ => None,
            };
            match k {
                "max-age" => cc.max_age = int().or(cc.max_age),
                "s-maxage" => cc.s_maxage = int().or(cc.s_maxage),
                "no-store" => cc.no_store = true,
                "no-cache" => cc.no_cache = true,
                "private" => cc.private = true,
                "public" => cc.public = true,
                "must-revalidate" => cc.must_revalidate = true,
                "proxy-revalidate" => cc.proxy_revalidate = true,
                "stale-while-revalidate" => cc.stale_while_revalidate = int(),
                "stale-if-error" => cc.stale_if_error = int(),
                _ => {}
            }
        }
        Some(cc)
    }
}

/// Lines [`CacheControl::parse_line_memo`] remembers, replaced in turn.
const CC_MEMO_SLOTS: usize = 8;
/// Longer lines are parsed every time (not worth keeping a copy).
const CC_MEMO_MAX_LEN: usize = 256;

/// The remembered `Cache-Control` lines and their directives.
#[derive(Default)]
struct CcMemo {
    entries: Vec<(String, CacheControl)>,
    /// The slot the next new line replaces.
    next: usize,
}

thread_local! {
    static CC_MEMO: std::cell::RefCell<CcMemo> = std::cell::RefCell::new(CcMemo::default());
}

/// The type of a Structured Fields bare item (RFC 8941 §3.3), as far as a cache needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SfValue {
    /// An Integer (up to 15 digits).
    Integer(i64),
    /// Any other valid bare item (decimal, string, token, byte sequence, boolean).
    Other,
}

/// Parses an RFC 8941 Dictionary into `(key, value)` pairs (a key without a value is the
/// boolean `true`, [`SfValue::Other`]); parameters are checked and dropped. `None` on any
/// syntax error (RFC 8941 §4.2: "fail parsing" makes the whole field ignored).
fn sf_dictionary(input: &str) -> Option<Vec<(&str, SfValue)>> {
    let mut out = Vec::new();
    let mut rest = input.trim_matches(|c| c == ' ' || c == '\t');
    if rest.is_empty() {
        return Some(out);
    }
    loop {
        let (key, r) = sf_key(rest)?;
        rest = r;
        let value = match rest.strip_prefix('=') {
            Some(r) => {
                let (v, r) = sf_bare_item(r)?;
                rest = r;
                v
            }
            None => SfValue::Other,
        };
        rest = sf_params(rest)?;
        out.push((key, value));
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return Some(out);
        }
        rest = rest.strip_prefix(',')?.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return None;
        }
    }
}

/// RFC 8941 §4.2.3.3: `key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )`.
fn sf_key(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    if !b
        .first()
        .is_some_and(|c| c.is_ascii_lowercase() || *c == b'*')
    {
        return None;
    }
    let n = b
        .iter()
        .position(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || b"_-.*".contains(c)))
        .unwrap_or(b.len());
    Some((&s[..n], &s[n..]))
}

/// `;key[=bare-item]` parameters, checked and skipped.
fn sf_params(mut s: &str) -> Option<&str> {
    while let Some(r) = s.strip_prefix(';') {
        let (_, r) = sf_key(r.trim_start_matches(' '))?;
        s = match r.strip_prefix('=') {
            Some(r) => sf_bare_item(r)?.1,
            None => r,
        };
    }
    Some(s)
}

/// One bare item (RFC 8941 §4.2.3.1).
fn sf_bare_item(s: &str) -> Option<(SfValue, &str)> {
    let b = s.as_bytes();
    match *b.first()? {
        c if c == b'-' || c.is_ascii_digit() => {
            let neg = c == b'-';
            let body = &s[usize::from(neg)..];
            let end = body
                .bytes()
                .position(|c| !(c.is_ascii_digit() || c == b'.'))
                .unwrap_or(body.len());
            let num = &body[..end];
            let rest = &body[end..];
            if num.contains('.') {
                let (i, f) = num.split_once('.')?;
                let ok = !i.is_empty() && i.len() <= 12 && !f.is_empty() && f.len() <= 3;
                return (ok && !f.contains('.')).then_some((SfValue::Other, rest));
            }
            if num.is_empty() || num.len() > 15 {
                return None;
            }
            let n: i64 = num.parse().ok()?;
            Some((SfValue::Integer(if neg { -n } else { n }), rest))
        }
        b'"' => {
            let mut esc = false;
            for (i, c) in s.char_indices().skip(1) {
                match c {
                    _ if esc => {
                        if c != '"' && c != '\\' {
                            return None;
                        }
                        esc = false;
                    }
                    '\\' => esc = true,
                    '"' => return Some((SfValue::Other, &s[i + 1..])),
                    ' '..='~' => {}
                    _ => return None,
                }
            }
            None
        }
        b':' => {
            let end = s[1..].find(':')? + 1;
            let ok = s[1..end]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"+/=".contains(&c));
            ok.then_some((SfValue::Other, &s[end + 1..]))
        }
        b'?' => match b.get(1) {
            Some(b'0' | b'1') => Some((SfValue::Other, &s[2..])),
            _ => None,
        },
        c if c.is_ascii_alphabetic() || c == b'*' => {
            let n = b
                .iter()
                .position(|c| !(is_tchar(*c) || *c == b':' || *c == b'/'))
                .unwrap_or(b.len());
            Some((SfValue::Other, &s[n..]))
        }
        _ => None,
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The `Age` value in seconds (RFC 9111 §5.1): the first member of the first field line
/// (`Age: 7200, 0` is 7200; a recipient of a list where a single value is expected uses
/// the first, RFC 9110 §5.5). `None` when absent; 0 when not a non-negative integer.
pub fn age_secs(headers: &Headers) -> Option<u64> {
    let v = headers.get("age")?;
    let first = v.split(',').next().unwrap_or("").trim();
    Some(delta_seconds(first).unwrap_or(0))
}

/// The most delta-seconds a cache represents (RFC 9111 §1.2.2: 2^31).
pub const DELTA_SECONDS_MAX: u64 = 1 << 31;

/// The first 8 bytes of `b` as a little-endian word (all of a shorter `b`): with
/// [`tail_word`], a few words that tell texts of one shape apart, for a memo's slot
/// where hashing the whole text costs more than the search it saves.
pub(crate) fn head_word(b: &[u8]) -> u64 {
    match b.first_chunk::<8>() {
        Some(w) => u64::from_le_bytes(*w),
        None => short_word(b),
    }
}

/// The last 8 bytes of `b` as a little-endian word (all of a shorter `b`).
pub(crate) fn tail_word(b: &[u8]) -> u64 {
    match b.last_chunk::<8>() {
        Some(w) => u64::from_le_bytes(*w),
        None => short_word(b),
    }
}

/// The bytes of a `b` shorter than a word, as one.
fn short_word(b: &[u8]) -> u64 {
    b.iter().fold(0, |w, &c| (w << 8) + u64::from(c))
}

/// `n` in decimal, written at the end of `buf` (`u64::MAX` has 20 digits): the text
/// `n.to_string()` makes, without going through `fmt` (the JSON report and the proxy's
/// `Cache-Status` write numbers by the million).
pub fn decimal(n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    let mut rest = n;
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    &buf[at..]
}

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
    !s.is_empty() && s.bytes().all(is_tchar)
}

#[cfg(test)]
mod tests {

    /// Overwriting lines in place gives what clearing and appending them does, whatever
    /// the lines held before (fewer, more, other names, static text).
    #[test]
    fn overwriting_lines_is_clearing_and_appending() {
        let sets: [&[(&str, &str)]; 5] = [
            &[("host", "h"), ("origin", "https://a"), ("x-custom", "1")],
            &[("host", "h"), ("origin", "https://bbbb"), ("x-custom", "")],
            &[("accept", "*/*")],
            &[],
            &[
                ("x-one", "1"),
                ("host", "h"),
                ("vary", "origin"),
                ("x-two", "2"),
            ],
        ];
        let mut before = Headers::new();
        before.append_static("vary", "origin");
        before.append_static("cache-control", "max-age=1");
        for _ in 0..2 {
            for set in sets {
                let mut want = Headers::new();
                for (n, v) in set {
                    want.append(n, v);
                }
                before.overwrite_lowercase(set.iter().copied());
                assert_eq!(before, want);
                assert_eq!(before.len(), set.len());
            }
        }
    }

    #[test]
    fn owned_capacity_counts_owned_text_only() {
        let mut h = Headers::new();
        h.append_static("vary", "origin");
        assert_eq!(h.owned_capacity(), 0);
        // (a name or value copied from a `&str` owns exactly its length)
        h.append("x-custom", "12345");
        assert_eq!(h.owned_capacity(), "x-custom".len() + 5);
        h.append("origin", "abc");
        assert_eq!(h.owned_capacity(), "x-custom".len() + 5 + 3);
    }
    use super::*;

    /// Lookups find a field whatever the case the caller writes its name in, and never a
    /// field of another name, of the same length or not.
    #[test]
    fn lookups_match_names_in_any_case_and_only_them() {
        let mut h = Headers::from_pairs([
            ("Vary", "Origin"),
            ("date", "d"),
            ("Cache-Control", "max-age=1"),
            ("last-modified", "m"),
        ]);
        for name in ["cache-control", "Cache-Control", "CACHE-CONTROL"] {
            assert_eq!(h.get(name), Some("max-age=1"), "{name}");
            assert_eq!(h.get_all(name).collect::<Vec<_>>(), ["max-age=1"]);
            assert!(h.contains(name));
        }
        assert_eq!(h.get("VARY"), Some("Origin"));
        assert_eq!(h.list("vary"), ["Origin"]);
        assert_eq!(h.get("Date"), Some("d"));
        // same length as `cache-control`, and as `date`: not them
        assert_eq!(h.get("accept-ranges"), None);
        assert_eq!(h.get("LAST-MODIFIED"), Some("m"));
        assert_eq!(h.get("data"), None);
        assert_eq!(h.get("dat"), None);
        assert_eq!(h.count("cache-controls"), 0);
        h.remove("Last-Modified");
        assert!(!h.contains("last-modified"));
        assert_eq!(h.len(), 3);
    }

    /// A copy with another first value is the list with that one value changed: owned
    /// and static text elsewhere as it was, the first name kept; no fields, no copy.
    #[test]
    fn with_first_value_changes_the_first_value_only() {
        let mut h = Headers::new();
        h.append_known("date", "Thu, 01 Jan 2026 00:00:00 GMT".to_string());
        h.append_static("vary", "Origin");
        h.append("x-a", "1");
        h.append("date", "again");
        let c = h.with_first_value("Fri, 02 Jan 2026 00:00:00 GMT".to_string());
        let mut want = Headers::new();
        want.append("date", "Fri, 02 Jan 2026 00:00:00 GMT");
        want.append("vary", "Origin");
        want.append("x-a", "1");
        want.append("date", "again");
        assert_eq!(c, want);
        assert_eq!(
            c.iter().collect::<Vec<_>>(),
            want.iter().collect::<Vec<_>>()
        );
        let one = Headers::from_pairs([("etag", "\"v\"")]).with_first_value("\"w\"");
        assert_eq!(one.iter().collect::<Vec<_>>(), [("etag", "\"w\"")]);
        assert!(Headers::new().with_first_value("x").is_empty());
    }

    /// A list cloned into another one's buffers is the source, whatever the two held:
    /// empty, shorter, longer, owned or static text on either side.
    #[test]
    fn clone_from_is_a_clone() {
        let mut owned = Headers::from_pairs([("content-type", "application/json")]);
        owned.append("x-a", "1");
        let mut mixed = Headers::new();
        mixed.append_static("accept", "*/*");
        mixed.append("content-type", "text/plain");
        mixed.append_static("x-b", "2");
        let lists = [
            Headers::new(),
            owned,
            mixed,
            Headers::from_pairs([("X-C", "3")]),
        ];
        for source in &lists {
            for start in &lists {
                let mut h = start.clone();
                h.clone_from(source);
                assert_eq!(h, *source, "{start:?} <- {source:?}");
                assert_eq!(format!("{h:?}"), format!("{source:?}"));
            }
        }
    }

    #[test]
    fn decimal_is_to_string() {
        let mut cases = vec![0, 1, 9, u64::MAX, u64::MAX - 1];
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            cases.extend([p - 1, p, p + 1, next - 1]);
            p = next;
        }
        for n in cases {
            let mut buf = [0u8; 20];
            assert_eq!(decimal(n, &mut buf), n.to_string().as_bytes(), "{n}");
        }
    }

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
    fn known_names_are_sorted_lowercase_and_found_in_any_case() {
        assert!(KNOWN_NAMES.windows(2).all(|w| w[0] < w[1]));
        assert!(KNOWN_NAMES.iter().all(|n| *n == n.to_ascii_lowercase()));
        for n in KNOWN_NAMES {
            let t = lowercase_name(&n.to_ascii_uppercase());
            assert!(!t.is_owned() && t.as_str() == n);
        }
        let custom = lowercase_name("X-Custom");
        assert!(custom.is_owned() && custom.as_str() == "x-custom");
        let mut h = Headers::new();
        h.append("Content-Type", "a");
        h.append_static("vary", "Origin");
        assert_eq!(
            h,
            Headers::from_pairs([("content-type", "a"), ("vary", "Origin")])
        );
    }

    #[test]
    fn list_drops_empty_members_and_whitespace() {
        let h = Headers::from_pairs([("vary", " , *"), ("vary", "Origin ,\tAccept")]);
        assert_eq!(h.list("Vary"), vec!["*", "Origin", "Accept"]);
    }

    /// The remembered parse answers as a fresh one, across more distinct lines than
    /// the memo holds (each slot reused), repeated, and with several lines per field.
    #[test]
    fn remembered_cache_control_lines_parse_as_fresh_ones() {
        let values: Vec<String> = (0..(CC_MEMO_SLOTS as u64 * 2 + 3))
            .map(|i| match i % 4 {
                0 => format!("public, max-age={i}"),
                1 => format!("s-maxage={i}, no-store"),
                2 => format!("private, stale-while-revalidate={i}"),
                _ => format!("max-age=\"{i}\", Must-Revalidate"),
            })
            .chain(["x".repeat(CC_MEMO_MAX_LEN + 1) + ", no-cache"])
            .collect();
        for round in 0..3 {
            for (i, v) in values.iter().enumerate() {
                let h = Headers::from_pairs([("cache-control", v.as_str())]);
                let got = CacheControl::parse(&h, "cache-control");
                assert_eq!(got, Some(CacheControl::parse_line(v)), "{round} {v}");
                let want_max_age = match i % 4 {
                    _ if i == values.len() - 1 => None,
                    0 | 3 => Some(i as u64),
                    _ => None,
                };
                assert_eq!(got.and_then(|c| c.max_age), want_max_age, "{v}");
            }
        }
        let two = Headers::from_pairs([
            ("cache-control", "max-age=5"),
            ("cache-control", "no-store"),
        ]);
        let cc = CacheControl::parse(&two, "cache-control").unwrap_or_default();
        assert_eq!((cc.max_age, cc.no_store), (Some(5), true));
        assert_eq!(CacheControl::parse(&two, "pragma"), None);
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

    /// RFC 9111 §4.2.1: with a directive given twice, the first occurrence is used, on
    /// one line or across lines (a structured targeted field keeps the last, RFC 8941).
    #[test]
    fn a_repeated_lifetime_directive_keeps_its_first_value() {
        let t = |v: &str| {
            CacheControl::parse(
                &Headers::from_pairs([("cache-control", v)]),
                "cache-control",
            )
        };
        assert_eq!(t("max-age=0, max-age=3600").unwrap().max_age, Some(0));
        assert_eq!(t("max-age=3600, max-age=0").unwrap().max_age, Some(3600));
        assert_eq!(t("s-maxage=5, s-maxage=9").unwrap().s_maxage, Some(5));
        let two = Headers::from_pairs([
            ("cache-control", "max-age=7"),
            ("cache-control", "max-age=1"),
        ]);
        assert_eq!(
            CacheControl::parse(&two, "cache-control").unwrap().max_age,
            Some(7)
        );
    }

    #[test]
    fn targeted_fields_are_sf_dictionaries() {
        let t = |v: &str| {
            CacheControl::parse_targeted(
                &Headers::from_pairs([("cdn-cache-control", v)]),
                "cdn-cache-control",
            )
        };
        assert_eq!(t("max-age=3600").unwrap().max_age, Some(3600));

        assert_eq!(t("foobar, max-age=3600").unwrap().max_age, Some(3600));
        assert_eq!(
            t("max-age=99999999999").unwrap().max_age,
            Some(99_999_999_999)
        );
        assert!(t("no-store").unwrap().no_store);
        assert!(t("private;x=1, no-cache").unwrap().private);
        // every directive an edge acts on (RFC 9213 §2.1 reuses RFC 9111's)
        let all = t("s-maxage=10, no-cache, public, must-revalidate, proxy-revalidate, stale-while-revalidate=5, stale-if-error=6").unwrap();
        assert_eq!(
            (all.s_maxage, all.stale_while_revalidate, all.stale_if_error),
            (Some(10), Some(5), Some(6))
        );
        assert!(all.no_cache && all.public && all.must_revalidate && all.proxy_revalidate);
        assert!(!all.no_store && !all.private && all.max_age.is_none());
        // RFC 8941 §4.2: leading and trailing spaces are discarded; a key may start
        // with `*`
        assert_eq!(t("  max-age=5\t ").unwrap().max_age, Some(5));
        assert_eq!(t("*x=1, max-age=5").unwrap().max_age, Some(5));
        // RFC 8941 §3.3 bare items: each kind parses (and the dictionary with it), and a
        // malformed one fails the whole field
        for ok in [
            "x=:YWJj:",
            "x=?1",
            "x=?0",
            "x=tok/en:1",
            "x=*tok",
            "x=\"s\\\"q\"",
            "x=\"back\\\\slash\"",
            "x=1.5",
            "x=123456789012.123",
            "x=-7",
            "x=123456789012345",
        ] {
            let v = format!("{ok}, max-age=5");
            assert_eq!(t(&v).map(|c| c.max_age), Some(Some(5)), "{v}");
        }
        for bad in [
            "x=:a b:",
            "x=?2",
            "x=?",
            "x=%",
            "x=1.",
            "x=.5",
            "x=1234567890123.5",
            "x=1.1234",
            "x=1234567890123456",
            "x=\"open",
            "x=\"a\\b\"",
        ] {
            let v = format!("{bad}, max-age=5");
            assert_eq!(t(&v), None, "{v}");
        }
        // invalid dictionaries: the whole field is ignored
        assert_eq!(t("max-age=10000, &&&&&"), None);
        assert_eq!(t("max-age =100"), None);
        assert_eq!(t("MaX-aGe=3600"), None);
        assert_eq!(t("max-age=1,"), None);
        // a wrongly typed value drops the directive only
        assert_eq!(t("max-age=\"10000\"").unwrap().max_age, None);
        assert_eq!(t("max-age=1.5").unwrap().max_age, None);
        assert_eq!(t("max-age=-1").unwrap().max_age, None);
        assert_eq!(
            CacheControl::parse_targeted(&Headers::new(), "cdn-cache-control"),
            None
        );
    }

    #[test]
    fn age_is_the_first_member() {
        let a = |v: &[(&str, &str)]| age_secs(&Headers::from_pairs(v.iter().copied()));
        assert_eq!(a(&[("age", "7200, 0")]), Some(7200));
        assert_eq!(a(&[("age", "0, 7200")]), Some(0));
        assert_eq!(a(&[("age", "0"), ("age", "7200")]), Some(0));
        assert_eq!(a(&[("age", "abc")]), Some(0));
        assert_eq!(a(&[]), None);
    }

    #[test]
    fn request_directives() {
        let h = Headers::from_pairs([("cache-control", "max-stale, min-fresh=5, only-if-cached")]);
        let cc = CacheControl::parse(&h, "cache-control").unwrap();
        assert_eq!(cc.max_stale, Some(None));
        assert_eq!(cc.min_fresh, Some(5));
        assert!(cc.only_if_cached);
    }

    #[test]
    fn tokens() {
        assert!(is_token("X-Custom"));
        assert!(!is_token("bad header"));
        assert!(!is_token(""));
    }

    /// A word is the text's first or last 8 bytes, little-endian; a shorter text is one
    /// word of all its bytes, in order.
    #[test]
    fn head_and_tail_words_are_the_ends() {
        assert_eq!(head_word(b"abcdefghij"), u64::from_le_bytes(*b"abcdefgh"));
        assert_eq!(tail_word(b"abcdefghij"), u64::from_le_bytes(*b"cdefghij"));
        assert_eq!(head_word(b"abcdefgh"), tail_word(b"abcdefgh"));
        assert_eq!(head_word(b""), 0);
        assert_eq!(tail_word(b"a"), 0x61);
        assert_eq!(head_word(b"ab"), 0x6162);
        assert_eq!(tail_word(b"abc"), 0x61_6263);
        assert_ne!(head_word(b"ab"), head_word(b"ba"));
    }
}
