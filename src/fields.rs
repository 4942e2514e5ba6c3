//! HTTP field (header) storage and list parsing, independent of any HTTP library.
//!
//! Names are kept lowercase (RFC 9110 §5.1: field names are case-insensitive); values are
//! kept byte-for-byte as received, so that a cache comparing raw values (Squid) can be
//! told apart from one that normalises (ATS). Several field lines with the same name are
//! kept as separate entries, in order, so that `Vary: Origin` + `Vary: *` on two lines is
//! seen as the list `Origin, *` (RFC 9110 §5.3).

use serde::Serialize;
use std::borrow::Cow;

/// A field name or value handed in: borrowed from a static table (the browser's and the
/// origin's fixed fields, common names, the proxy's interned text) or owned.
type Text = Cow<'static, str>;

/// Where one name or value of a [`Headers`] is: static text (kept as its pointer, so
/// building and cloning a request of the models' fixed fields copies pointers) or a
/// span of the block's own text buffer.
#[derive(Clone, Copy, Debug)]
enum Part {
    Static(&'static str),
    Own { at: u32, len: u32 },
}

/// One field line: 32 bytes, its owned text in the block's buffer.
#[derive(Clone, Copy, Debug)]
struct Field {
    name: Part,
    value: Part,
}

/// An ordered multimap of header fields with lowercase names.
///
/// Names and values that are static text (the engines' default request headers, the
/// well-known field names) are stored without allocating, so building and cloning a
/// request's fields is mostly copying pointers. The other names and values are kept one
/// after another in a single text buffer, so a field costs 32 bytes plus its owned text,
/// and a block two allocations whatever its number of fields ([`Headers::shrink_to_fit`]
/// drops the spare room a stored block does not need). A block holds at most 4 GiB of
/// owned text (spans are 32-bit): text beyond that is kept empty.
#[derive(Clone, Default)]
pub struct Headers {
    fields: Vec<Field>,
    /// The owned names and values.
    text: String,
}

/// Bytes the text buffer is given at its first owned name or value (a request's or
/// response's owned text is mostly under this: one allocation instead of one per
/// doubling; [`Headers::shrink_to_fit`] trims a stored block).
const FIRST_TEXT_ROOM: usize = 128;

/// `part`'s text in a block whose buffer is `text`.
#[inline]
fn resolve(text: &str, part: Part) -> &str {
    match part {
        Part::Static(s) => s,
        Part::Own { at, len } => {
            let at = at as usize;
            text.get(at..at + len as usize).unwrap_or("")
        }
    }
}

/// Equal as text; the same static text (the engines' default fields) is recognised by
/// its address without comparing bytes.
fn same_text(a: &str, b: &str) -> bool {
    (std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len()) || a == b
}

/// Whether `p` of block `a` and `q` of block `b` are the same text: lengths first, then
/// the same static text by its address (the engines' default fields), then the bytes.
#[inline]
fn same_part(a: &Headers, p: Part, b: &Headers, q: Part) -> bool {
    p.len() == q.len()
        && match (p, q) {
            (Part::Static(x), Part::Static(y)) => same_text(x, y),
            _ => a.text(p) == b.text(q),
        }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Headers) -> bool {
        self.fields.len() == other.fields.len()
            && self.fields.iter().zip(&other.fields).all(|(f, g)| {
                same_part(self, f.name, other, g.name) && same_part(self, f.value, other, g.value)
            })
    }
}

impl Eq for Headers {}

impl std::hash::Hash for Headers {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // as the text compares (`PartialEq` above), and as the list of (name, value)
        // pairs it was before hashes: its length, then each pair
        self.len().hash(state);
        for pair in self.iter() {
            pair.hash(state);
        }
    }
}

/// The field lines as a list of `(name, value)` pairs.
struct Pairs<'a>(&'a Headers);

impl Serialize for Pairs<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

impl std::fmt::Debug for Pairs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl Serialize for Headers {
    /// A list of `[name, value]` pairs (as a newtype around it, as ever).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct("Headers", &Pairs(self))
    }
}

impl std::fmt::Debug for Headers {
    /// `Headers([("name", "value"), …])`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Headers").field(&Pairs(self)).finish()
    }
}

impl Headers {
    /// No fields.
    pub fn new() -> Self {
        Headers::default()
    }

    /// Builds from `(name, value)` pairs; names are lowercased.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut h = Headers::new();
        for (n, v) in pairs {
            h.append(n, v);
        }
        h
    }

    /// `part`'s text.
    #[inline]
    fn text(&self, part: Part) -> &str {
        resolve(&self.text, part)
    }

    /// Adds `s` to the text buffer and returns its span; `lower` lowercases the copy (a
    /// field name). Static empty text when empty, or when the buffer would pass 4 GiB.
    fn own(&mut self, s: &str, lower: bool) -> Part {
        let at = self.text.len();
        let (Ok(at32), Ok(len)) = (u32::try_from(at), u32::try_from(s.len())) else {
            return Part::Static("");
        };
        if s.is_empty() || at32.checked_add(len).is_none() {
            return Part::Static("");
        }
        if self.text.capacity() == 0 {
            // room for a few more values at once: a block is built by several appends
            self.text.reserve(s.len().max(FIRST_TEXT_ROOM));
        }
        self.text.push_str(s);
        if lower {
            if let Some(copy) = self.text.get_mut(at..) {
                copy.make_ascii_lowercase();
            }
        }
        Part::Own { at: at32, len }
    }

    /// `part` of `other` as a part of this block (its text copied if owned).
    fn adopt(&mut self, other: &Headers, part: Part) -> Part {
        match part {
            Part::Static(_) => part,
            Part::Own { .. } => self.own(other.text(part), false),
        }
    }

    /// Whether field line `f` is named `name` (any case): the length first, so most
    /// other names are passed over without reading their text.
    #[inline]
    fn is_named(&self, f: &Field, name: &str) -> bool {
        f.name.len() == name.len() && self.text(f.name).eq_ignore_ascii_case(name)
    }

    /// The field lines named `name` (any case); only names are read.
    fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Field> + 'a {
        self.fields.iter().filter(move |f| self.is_named(f, name))
    }

    /// The first field line's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        // a plain loop: the lookup every model makes, kept small enough to inline
        for f in &self.fields {
            if self.is_named(f, name) {
                return Some(self.text(f.value));
            }
        }
        None
    }

    /// Every field line's value, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.named(name).map(|f| self.text(f.value))
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
        self.named(name).count()
    }

    /// Whether a field line with this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.fields.iter().any(|f| self.is_named(f, name))
    }

    /// The comma-separated members of all field lines, trimmed, empty members dropped
    /// (RFC 9110 §5.6.1: recipients ignore empty list elements).
    pub fn list(&self, name: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for f in self.named(name) {
            out.extend(split_list(self.text(f.value)));
        }
        out
    }

    /// Adds a field line after any existing ones.
    pub fn append(&mut self, name: &str, value: &str) {
        let name = match known_name(name) {
            Some(k) => Part::Static(k),
            None => self.own(name, true),
        };
        let value = self.own(value, false);
        self.fields.push(Field { name, value });
    }

    /// Adds a field line whose name is the model's own lowercase text, without looking
    /// the name up; the value is copied in (a `String`) or borrowed (static text).
    pub fn append_known(&mut self, name: &'static str, value: impl Into<Text>) {
        debug_assert!(!name.bytes().any(|b| b.is_ascii_uppercase()));
        let value = match value.into() {
            Cow::Borrowed(v) => Part::Static(v),
            Cow::Owned(v) => self.own(&v, false),
        };
        self.fields.push(Field {
            name: Part::Static(name),
            value,
        });
    }

    /// Appends every field line of `other`, in order (names are lowercase there already;
    /// static text stays static).
    pub fn extend_from(&mut self, other: &Headers) {
        self.fields.reserve(other.fields.len());
        if other.text.is_empty() {
            self.fields.extend_from_slice(&other.fields);
            return;
        }
        for f in &other.fields {
            let name = self.adopt(other, f.name);
            let value = self.adopt(other, f.value);
            self.fields.push(Field { name, value });
        }
    }

    /// Appends the field lines of `other` whose (lowercase) name `keep` accepts, in
    /// order (static text stays static).
    pub fn extend_where(&mut self, other: &Headers, mut keep: impl FnMut(&str) -> bool) {
        for f in &other.fields {
            if keep(other.text(f.name)) {
                let name = self.adopt(other, f.name);
                let value = self.adopt(other, f.value);
                self.fields.push(Field { name, value });
            }
        }
    }

    /// Adds a field line of static text after any existing ones, without allocating.
    /// `name` must already be lowercase (the browser's and origin's own fields are).
    pub fn append_static(&mut self, name: &'static str, value: &'static str) {
        debug_assert!(!name.bytes().any(|b| b.is_ascii_uppercase()));
        self.fields.push(Field {
            name: Part::Static(name),
            value: Part::Static(value),
        });
    }

    /// Appends every field line of `other` whose name is not here yet, keeping static
    /// text static.
    pub fn append_missing(&mut self, other: &Headers) {
        self.fields.reserve(other.fields.len());
        for f in &other.fields {
            let n = other.text(f.name);
            // names are lowercase on both sides
            if !self.fields.iter().any(|g| same_text(self.text(g.name), n)) {
                let name = self.adopt(other, f.name);
                let value = self.adopt(other, f.value);
                self.fields.push(Field { name, value });
            }
        }
    }

    /// Keeps only the field lines whose (lowercase) name `keep` accepts, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        let text = &self.text;
        let mut dropped_owned = false;
        self.fields.retain(|f| {
            let k = keep(resolve(text, f.name));
            dropped_owned |= !k && f.owns_text();
            k
        });
        if dropped_owned {
            self.compact();
        }
    }

    /// Rebuilds the text buffer with only the text the fields still use.
    fn compact(&mut self) {
        let old = std::mem::take(self);
        self.fields.reserve_exact(old.fields.len());
        let mut text = String::with_capacity(old.fields.iter().map(Field::owned_len).sum());
        let mut home = |p: Part| match p {
            Part::Static(_) => p,
            Part::Own { len, .. } => {
                // within 4 GiB: a subset of a buffer that was
                let at = u32::try_from(text.len()).unwrap_or(u32::MAX);
                text.push_str(resolve(&old.text, p));
                Part::Own { at, len }
            }
        };
        for f in &old.fields {
            let (name, value) = (home(f.name), home(f.value));
            self.fields.push(Field { name, value });
        }
        self.text = text;
    }

    /// Reserves room for `n` more field lines.
    pub fn reserve(&mut self, n: usize) {
        self.fields.reserve(n);
    }

    /// Drops the spare room of the field list and of the text buffer (a block that is
    /// complete: a stored response's, [`crate::message::Response::new`]).
    pub fn shrink_to_fit(&mut self) {
        self.fields.shrink_to_fit();
        self.text.shrink_to_fit();
    }

    /// Replaces every field line with this name by one.
    pub fn insert(&mut self, name: &str, value: &str) {
        self.remove(name);
        self.append(name, value);
    }

    /// Removes every field line with this name.
    pub fn remove(&mut self, name: &str) {
        self.retain(|n| !n.eq_ignore_ascii_case(name));
    }

    /// All fields in order, names lowercase.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .map(|f| (self.text(f.name), self.text(f.value)))
    }

    /// The `i`-th field line (name lowercase, value), in order.
    pub fn field(&self, i: usize) -> Option<(&str, &str)> {
        self.fields
            .get(i)
            .map(|f| (self.text(f.name), self.text(f.value)))
    }

    /// Number of field lines.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no field lines.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Approximate size in bytes (names, values and separators), for capacity accounting.
    pub fn byte_size(&self) -> usize {
        self.fields
            .iter()
            .map(|f| f.name.len() + f.value.len() + 4)
            .sum()
    }
}

impl Part {
    /// Length of the text.
    #[inline]
    fn len(self) -> usize {
        match self {
            Part::Static(s) => s.len(),
            Part::Own { len, .. } => len as usize,
        }
    }

    /// Bytes of the block's buffer it uses.
    fn owned_len(self) -> usize {
        match self {
            Part::Static(_) => 0,
            Part::Own { len, .. } => len as usize,
        }
    }
}

impl Field {
    fn owns_text(&self) -> bool {
        self.owned_len() > 0
    }

    fn owned_len(&self) -> usize {
        self.name.owned_len() + self.value.owned_len()
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

/// The well-known name `name` is in any case, as static lowercase text.
fn known_name(name: &str) -> Option<&'static str> {
    // a name written in lowercase (the model's own) is looked up as it is
    let found = if name.bytes().any(|b| b.is_ascii_uppercase()) {
        KNOWN_NAMES.binary_search_by(|k| cmp_lowercase(k, name))
    } else {
        KNOWN_NAMES.binary_search(&name)
    };
    found.ok().map(|i| KNOWN_NAMES[i])
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
            b"max-age" => self.max_age = Some(num().unwrap_or(0)),
            b"s-maxage" => self.s_maxage = Some(num().unwrap_or(0)),
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
    fn known_names_are_sorted_lowercase_and_found_in_any_case() {
        assert!(KNOWN_NAMES.windows(2).all(|w| w[0] < w[1]));
        assert!(KNOWN_NAMES.iter().all(|n| *n == n.to_ascii_lowercase()));
        for n in KNOWN_NAMES {
            assert_eq!(known_name(&n.to_ascii_uppercase()), Some(n));
            assert_eq!(known_name(n), Some(n));
        }
        assert_eq!(known_name("X-Custom"), None);
        assert_eq!(known_name("x-custom"), None);
        let mut h = Headers::new();
        h.append("Content-Type", "a");
        h.append_static("vary", "Origin");
        assert_eq!(
            h,
            Headers::from_pairs([("content-type", "a"), ("vary", "Origin")])
        );
    }

    /// What a block holds, as plain pairs.
    fn pairs(h: &Headers) -> Vec<(String, String)> {
        h.iter().map(|(n, v)| (n.into(), v.into())).collect()
    }

    fn hash_of(h: &Headers) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault};
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(h)
    }

    /// A block mixing static and owned names and values: clones, compares and hashes as
    /// its text (a static and an owned copy of the same text are equal and hash alike),
    /// serialises and prints as the list of pairs it used to be, and keeps each field's
    /// text through copies into other blocks and removals.
    #[test]
    fn static_and_owned_text_clone_compare_and_hash_as_text() {
        let mut a = Headers::new();
        a.append_static("accept", "*/*");
        a.append("X-Owned", "Mixed Case");
        a.append_known("origin", String::from("https://a"));
        a.append_known("vary", "Origin");
        a.append("Cache-Control", "");
        let want = [
            ("accept", "*/*"),
            ("x-owned", "Mixed Case"),
            ("origin", "https://a"),
            ("vary", "Origin"),
            ("cache-control", ""),
        ];
        let owned = Headers::from_pairs(want);
        assert_eq!(a, owned);
        assert_eq!(hash_of(&a), hash_of(&owned));
        let as_list: Vec<(Cow<'static, str>, Cow<'static, str>)> = want
            .iter()
            .map(|(n, v)| (Cow::Owned(n.to_string()), Cow::Owned(v.to_string())))
            .collect();
        assert_eq!(hash_of(&a), {
            use std::hash::BuildHasher;
            std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
                .hash_one(&as_list)
        });
        // the representation this block replaced, derived
        mod before {
            #[derive(Debug, serde::Serialize)]
            pub(super) struct Headers(
                pub(super) Vec<(super::Cow<'static, str>, super::Cow<'static, str>)>,
            );
        }
        let old = before::Headers(as_list.clone());
        assert_eq!(format!("{a:?}"), format!("{old:?}"));
        assert_eq!(format!("{a:#?}"), format!("{old:#?}"));
        let json = serde_json::to_string(&a).unwrap_or_default();
        assert_eq!(json, serde_json::to_string(&old).unwrap_or_default());
        assert_eq!(
            json,
            r#"[["accept","*/*"],["x-owned","Mixed Case"],["origin","https://a"],["vary","Origin"],["cache-control",""]]"#
        );
        let b = a.clone();
        assert_eq!(
            (b.get("X-OWNED"), b.get("origin")),
            (Some("Mixed Case"), Some("https://a"))
        );
        assert_eq!(b, a);
        // one value differs: unequal, whether static or owned
        let mut c = Headers::from_pairs(want[..4].iter().copied());
        c.append("cache-control", "x");
        assert_ne!(c, a);
        assert_ne!(Headers::from_pairs(want[..4].iter().copied()), a);
        // the static text is the same pointer in the clone; owned text is copied
        let ptr = |h: &Headers, i: usize| h.field(i).map(|(_, v)| v.as_ptr());
        assert_eq!(ptr(&a, 0), ptr(&b, 0));
        assert_ne!(ptr(&a, 1), ptr(&b, 1));
        assert_eq!(
            a.byte_size(),
            want.iter()
                .map(|(n, v)| n.len() + v.len() + 4)
                .sum::<usize>()
        );
        // copied into other blocks, owned text comes along
        let mut d = Headers::new();
        d.append("x-first", "1");
        d.extend_from(&a);
        assert_eq!(pairs(&d)[1..], pairs(&a)[..]);
        let mut e = Headers::new();
        e.extend_where(&a, |n| n != "accept");
        assert_eq!(pairs(&e), pairs(&a)[1..]);
        let mut f = Headers::from_pairs([("origin", "https://kept"), ("x-f", "f")]);
        f.append_missing(&a);
        assert_eq!(f.get("origin"), Some("https://kept"));
        assert_eq!(f.get("x-owned"), Some("Mixed Case"));
        assert_eq!(f.len(), 6);
        // removing owned fields keeps the others' text (the buffer is rebuilt)
        let mut g = a.clone();
        g.remove("x-owned");
        assert_eq!(
            pairs(&g),
            pairs(&Headers::from_pairs(
                want.iter().copied().filter(|(n, _)| *n != "x-owned")
            ))
        );
        assert_eq!(&*g.text, "https://a");
        g.insert("Origin", "https://b");
        assert_eq!(g.get("origin"), Some("https://b"));
        assert_eq!(g.len(), 4);
        g.retain(|n| n == "accept");
        assert_eq!(pairs(&g), [("accept".to_string(), "*/*".to_string())]);
        assert!(g.text.is_empty());
    }

    /// The layout the stored-entry figures rest on (64-bit): a field line is 32 bytes,
    /// a block 48 (its list and one text buffer).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_field_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Field>(), 32);
        assert_eq!(std::mem::size_of::<Headers>(), 48);
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
}
