//! Finding where a value sits in JSON text, given the path an error names
//! (`$.CachePolicy.CachePolicyConfig.MinTTL`, `log.entries[1].response.status`).
//!
//! The importers and the HAR reader check values after the JSON has been parsed, when
//! the parser's positions are gone. This module walks the text again and returns the
//! line and column where the named value starts. The scanner is tolerant: it never
//! fails and never panics on malformed text. When the full path is not in the text (a
//! missing member, a path through a broken part), it returns the position of the
//! deepest value on the path that it did find, which at worst is the document itself.
//!
//! Positions are 1-based; a column counts characters, not bytes. When a key occurs
//! twice in one object, the last occurrence is taken, as serde_json keeps the last.

use crate::error::InputError;

/// One step of a JSON path: an object member or an array element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    /// An object member by name.
    Key(String),
    /// An array element by 0-based index.
    Index(usize),
}

/// Where a path was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    /// 1-based line.
    pub(crate) line: u64,
    /// 1-based column, in characters.
    pub(crate) col: u64,
    /// Whether the whole path was found (false: this is an enclosing value).
    pub(crate) exact: bool,
}

/// Reads a path as the importers and the HAR reader write it: an optional leading `$`,
/// then names separated by `.` and indices in brackets. The path ends at the first
/// space (the importers add notes such as ` (module.x)` after it).
pub(crate) fn parse_path(path: &str) -> Vec<Seg> {
    let path = path.split(' ').next().unwrap_or("");
    let path = path.strip_prefix('$').unwrap_or(path);
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let Some((n, after)) = r.split_once(']') else {
                break;
            };
            match n.parse() {
                Ok(i) => out.push(Seg::Index(i)),
                Err(_) => out.push(Seg::Key(n.to_string())),
            }
            rest = after;
            continue;
        }
        let r = rest.strip_prefix('.').unwrap_or(rest);
        let end = r.find(['.', '[']).unwrap_or(r.len());
        if end > 0 {
            out.push(Seg::Key(r[..end].to_string()));
        }
        rest = &r[end..];
    }
    out
}

/// The position of the value at `path` in `text`, or of the deepest enclosing value
/// found. `None` only when the text holds no value at all.
pub(crate) fn locate(text: &[u8], path: &[Seg]) -> Option<Found> {
    let mut s = Scanner {
        s: text,
        i: 0,
        line: 1,
        col: 1,
        target: path,
        best: None,
    };
    // a byte order mark is not part of the document
    if s.s.starts_with(&[0xEF, 0xBB, 0xBF]) {
        s.i = 3;
    }
    s.value(Some(0));
    s.best.map(|(depth, line, col)| Found {
        line,
        col,
        exact: depth == path.len(),
    })
}

/// Gives an error made by [`super::at_path`] (`at $.a.b: …`, no position) the line and
/// column of the value it names in `text`. Other errors, and errors that already have
/// a position, are returned unchanged.
pub(crate) fn place(text: &str, mut e: InputError) -> InputError {
    if e.line != 0 {
        return e;
    }
    let Some(rest) = e.message.strip_prefix("at ") else {
        return e;
    };
    let Some((path, _)) = rest.split_once(": ") else {
        return e;
    };
    if let Some(f) = locate(text.as_bytes(), &parse_path(path)) {
        e.line = f.line;
        e.col = f.col;
    }
    e
}

/// A JSON value for a message (`"one day"`, `600.5`, `-5`), shortened when long;
/// `nothing` when absent.
pub(crate) fn shown_value(v: Option<&serde_json::Value>) -> String {
    let Some(v) = v else {
        return "nothing".to_string();
    };
    let text = v.to_string();
    if text.chars().count() > 60 {
        let short: String = text.chars().take(57).collect();
        format!("{short}…")
    } else {
        text
    }
}

struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
    line: u64,
    col: u64,
    target: &'a [Seg],
    /// (path depth matched, line, col) of the deepest value on the target path so far.
    best: Option<(usize, u64, u64)>,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Moves past one byte, keeping line and column (a column per character: UTF-8
    /// continuation bytes do not count).
    fn bump(&mut self) {
        let Some(b) = self.peek() else {
            return;
        };
        self.i += 1;
        if b == b'\n' {
            self.line += 1;
            self.col = 1;
        } else if b & 0xC0 != 0x80 {
            self.col += 1;
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.bump();
        }
    }

    /// Reads a string starting at its opening quote; returns its content with the
    /// common escapes decoded (enough to compare it with a key).
    fn string(&mut self) -> String {
        self.bump();
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.bump();
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(e) = self.peek() else {
                        break;
                    };
                    self.bump();
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex: Vec<u8> = (0..4)
                                .filter_map(|_| {
                                    let h = self.peek().filter(u8::is_ascii_hexdigit);
                                    if h.is_some() {
                                        self.bump();
                                    }
                                    h
                                })
                                .collect();
                            let code = std::str::from_utf8(&hex)
                                .ok()
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .and_then(char::from_u32)
                                .unwrap_or('\u{fffd}');
                            let mut buf = [0; 4];
                            out.extend_from_slice(code.encode_utf8(&mut buf).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Skips one value without looking inside it (no recursion: nesting is counted).
    fn skip_value(&mut self) {
        match self.peek() {
            Some(b'"') => {
                self.string();
            }
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                while let Some(b) = self.peek() {
                    match b {
                        b'"' => {
                            self.string();
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                self.bump();
                                return;
                            }
                        }
                        _ => {}
                    }
                    self.bump();
                }
            }
            // a number, true, false, null, or garbage: up to the next delimiter
            _ => {
                while let Some(b) = self.peek() {
                    if matches!(
                        b,
                        b',' | b'}'
                            | b']'
                            | b'{'
                            | b'['
                            | b'"'
                            | b':'
                            | b' '
                            | b'\t'
                            | b'\r'
                            | b'\n'
                    ) {
                        break;
                    }
                    self.bump();
                }
            }
        }
    }

    /// Walks one value. `matched` is `Some(d)` when this value's path equals the first
    /// `d` steps of the target; only such values are entered (so the recursion depth is
    /// bounded by the target's length), the others are skipped.
    fn value(&mut self, matched: Option<usize>) {
        self.skip_ws();
        let Some(d) = matched else {
            self.skip_value();
            return;
        };
        if self.peek().is_none() {
            return;
        }
        // the deepest match wins; at equal depth the later one (a repeated key)
        if self.best.is_none_or(|(b, _, _)| d >= b) {
            self.best = Some((d, self.line, self.col));
        }
        let next = self.target.get(d);
        match self.peek() {
            Some(b'{') if next.is_some() => {
                self.bump();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b'"') => {}
                        Some(b'}') => {
                            self.bump();
                            return;
                        }
                        _ => return,
                    }
                    let key = self.string();
                    self.skip_ws();
                    if self.peek() != Some(b':') {
                        return;
                    }
                    self.bump();
                    let child = matches!(next, Some(Seg::Key(k)) if *k == key).then_some(d + 1);
                    self.value(child);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.bump(),
                        Some(b'}') => {
                            self.bump();
                            return;
                        }
                        _ => return,
                    }
                }
            }
            Some(b'[') if next.is_some() => {
                self.bump();
                let mut index = 0;
                loop {
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.bump();
                        return;
                    }
                    let start = self.i;
                    let child = matches!(next, Some(Seg::Index(n)) if *n == index).then_some(d + 1);
                    self.value(child);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => {
                            self.bump();
                            index += 1;
                        }
                        Some(b']') => {
                            self.bump();
                            return;
                        }
                        _ => return,
                    }
                    if self.i == start {
                        return;
                    }
                }
            }
            _ => self.skip_value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, path: &str) -> Option<(u64, u64, bool)> {
        locate(text.as_bytes(), &parse_path(path)).map(|f| (f.line, f.col, f.exact))
    }

    #[test]
    fn paths_are_read() {
        use Seg::*;
        assert_eq!(
            parse_path("$.a.b[2].c"),
            [Key("a".into()), Key("b".into()), Index(2), Key("c".into())]
        );
        assert_eq!(
            parse_path("log.entries[1].response.status"),
            [
                Key("log".into()),
                Key("entries".into()),
                Index(1),
                Key("response".into()),
                Key("status".into())
            ]
        );
        assert_eq!(parse_path("$"), []);
        assert_eq!(
            parse_path("$.r[0] (module.x).y"),
            [Key("r".into()), Index(0)]
        );
        assert_eq!(parse_path("$.a[x]"), [Key("a".into()), Key("x".into())]);
        assert_eq!(parse_path("$.a[1"), [Key("a".into())]);
    }

    #[test]
    fn finds_values_in_objects_and_arrays() {
        let t = "{\n  \"a\": {\"b\": [10, {\"c\": \"x\"}, 30]},\n  \"d\": true\n}";
        assert_eq!(at(t, "$"), Some((1, 1, true)));
        assert_eq!(at(t, "$.a"), Some((2, 8, true)));
        assert_eq!(at(t, "$.a.b"), Some((2, 14, true)));
        assert_eq!(at(t, "$.a.b[0]"), Some((2, 15, true)));
        assert_eq!(at(t, "$.a.b[1].c"), Some((2, 25, true)));
        assert_eq!(at(t, "$.a.b[2]"), Some((2, 31, true)));
        assert_eq!(at(t, "$.d"), Some((3, 8, true)));
    }

    #[test]
    fn strings_with_escapes_and_brackets_do_not_confuse_it() {
        let t = r#"{"s": "a \" } ] { [ , b", "k\"ey": 1, "t\u0041b": [ "]", 2 ], "x": 3}"#;
        assert_eq!(at(t, "$.x"), Some((1, 68, true)));
        assert_eq!(at(t, "$.tAb[1]"), Some((1, 58, true)));
        // an escaped quote in a key is part of the key
        assert_eq!(at(t, "$.k\"ey"), Some((1, 36, true)));
    }

    #[test]
    fn columns_count_characters() {
        let t = "{\"é€\": 1, \"b\": 2}";
        assert_eq!(at(t, "$.b"), Some((1, 16, true)));
        assert_eq!(at(t, "$.é€"), Some((1, 8, true)));
    }

    #[test]
    fn a_missing_path_falls_back_to_the_deepest_value_found() {
        let t = "{\n \"a\": {\n  \"b\": 1\n }\n}";
        assert_eq!(at(t, "$.a.zz.y"), Some((2, 7, false)));
        assert_eq!(at(t, "$.a.b.c"), Some((3, 8, false)));
        assert_eq!(at(t, "$.q"), Some((1, 1, false)));
        assert_eq!(at(t, "$.a[3]"), Some((2, 7, false)));
        let arr = "[1, 2]";
        assert_eq!(at(arr, "$[5]"), Some((1, 1, false)));
        assert_eq!(at(arr, "$[1]"), Some((1, 5, true)));
    }

    #[test]
    fn the_last_of_repeated_keys_is_taken() {
        assert_eq!(at(r#"{"a": 1, "a": 2}"#, "$.a"), Some((1, 15, true)));
    }

    #[test]
    fn broken_text_never_panics() {
        for t in [
            "",
            "{",
            "{\"a\"",
            "{\"a\":",
            "{\"a\": [1, 2",
            "{\"a\": \"unterminated",
            "[,,,]",
            "{\"a\" 1}",
            "{1: 2}",
            "}}}]]]",
            "{\"a\": {\"b\": \"\\u12\"}}",
            "\"\\",
        ] {
            let _ = at(t, "$.a.b[3].c");
            let _ = at(t, "$[2]");
        }
        assert_eq!(at("", "$.a"), None);
        assert_eq!(at("  ", "$"), None);
        // a truncated document still gives what was read
        assert_eq!(
            at("{\"a\": [1, {\"b\": ", "$.a[1].b.c"),
            Some((1, 11, false))
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        assert_eq!(at("\u{feff}{\"a\": 1}", "$.a"), Some((1, 7, true)));
    }

    #[test]
    fn deep_unrelated_nesting_is_skipped_without_recursion() {
        let deep = format!(
            "{{\"x\": {}{}, \"a\": 5}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(at(&deep, "$.a"), Some((1, 200_014, true)));
    }

    #[test]
    fn errors_at_a_path_get_the_position() {
        let t = "{\n  \"a\": {\n    \"b\": \"x\"\n  }\n}";
        let e = place(
            t,
            super::super::at_path("f.json", "$.a.b", "expected a number"),
        );
        assert_eq!(e.to_string(), "f.json:3:10: at $.a.b: expected a number");
        // an error with a position is left alone
        let e = place(t, InputError::at("f.json", 7, 2, "at $.a.b: x"));
        assert_eq!((e.line, e.col), (7, 2));
    }
}
