//! The path and query of an `http(s)` URL as a browser sends them (WHATWG URL Standard,
//! "basic URL parser", path and query states, for special schemes): the fragment is never
//! sent, `\\` is a `/`, dot segments (`.`, `..` and their percent-encoded spellings
//! `%2e`, `.%2E`, …) are resolved, and the bytes the standard's percent-encode sets name
//! are percent-encoded. A scenario's `fetch:` goes through it, so two spellings of one
//! URL reach the edge as the same request line, as they do from Chromium (measured:
//! `tests/chromium/cases/proxy/y21`, `y22`, `y34`). The scenario parser and the browser
//! model use it.

use std::fmt::Write as _;

/// The C0 control percent-encode set plus the query set's space, `"`, `#`, `<`, `>`;
/// `'` for a special scheme's query; the path set's `?`, `` ` ``, `{`, `}`.
fn encoded(b: u8, path: bool) -> bool {
    !(0x20..0x7f).contains(&b)
        || matches!(b, b' ' | b'"' | b'#' | b'<' | b'>')
        || (!path && b == b'\'')
        || (path && matches!(b, b'?' | b'`' | b'{' | b'}'))
}

fn push_encoded(out: &mut String, s: &str, path: bool) {
    for &b in s.as_bytes() {
        if encoded(b, path) {
            let _ = write!(out, "%{b:02X}");
        } else {
            out.push(char::from(b));
        }
    }
}

/// `.` or `%2e` (any case).
fn single_dot(s: &str) -> bool {
    s == "." || s.eq_ignore_ascii_case("%2e")
}

/// `..`, `.%2e`, `%2e.` or `%2e%2e` (any case).
fn double_dot(s: &str) -> bool {
    match s.len() {
        2 => s == "..",
        4 => s.eq_ignore_ascii_case(".%2e") || s.eq_ignore_ascii_case("%2e."),
        6 => s.eq_ignore_ascii_case("%2e%2e"),
        _ => false,
    }
}

/// `target` (a path starting with `/`, maybe a query and a fragment) as the browser's
/// URL parser leaves it: the fragment is kept (Chromium's CORS-preflight cache compares
/// whole URLs, measured in `tests/chromium/cases/direct/z31`); [`sent`] drops it.
pub fn normalize_target(target: &str) -> String {
    let (target, fragment) = match target.split_once('#') {
        Some((t, f)) => (t, Some(f)),
        None => (target, None),
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let path = path.replace('\\', "/");
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(&path).split('/').collect();
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    let last = segments.len().saturating_sub(1);
    for (i, s) in segments.iter().enumerate() {
        if double_dot(s) {
            out.pop();
            if i == last {
                out.push("");
            }
        } else if single_dot(s) {
            if i == last {
                out.push("");
            }
        } else {
            out.push(s);
        }
    }
    let mut sent = String::with_capacity(target.len() + 8);
    for s in &out {
        sent.push('/');
        push_encoded(&mut sent, s, true);
    }
    if out.is_empty() {
        sent.push('/');
    }
    if let Some(q) = query {
        sent.push('?');
        push_encoded(&mut sent, q, false);
    }
    if let Some(f) = fragment {
        sent.push('#');
        // the fragment percent-encode set: C0 controls, space, `"`, `<`, `>`, `` ` ``
        for &b in f.as_bytes() {
            if !(0x20..0x7f).contains(&b) || matches!(b, b' ' | b'"' | b'<' | b'>' | b'`') {
                let _ = write!(sent, "%{b:02X}");
            } else {
                sent.push(char::from(b));
            }
        }
    }
    sent
}

/// The target as it goes on the wire and into HTTP caches' keys: without its fragment
/// (RFC 9110 §4.2.5; Chromium's HTTP cache keys on the URL without it).
pub fn sent(target: &str) -> &str {
    // (a byte scan: `#` is ASCII, and targets are short)
    match target.bytes().position(|b| b == b'#') {
        Some(i) => target.get(..i).unwrap_or(target),
        None => target,
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_target as n;

    #[test]
    fn as_chromium_sends_them() {
        // dot segments, plain and percent-encoded, in the middle and at the end
        assert_eq!(n("/y21/x/../data"), "/y21/data");
        assert_eq!(n("/y34/x/%2e%2e/one"), "/y34/one");
        assert_eq!(n("/a/%2E./b/.%2e/c"), "/c");
        assert_eq!(n("/a/./b"), "/a/b");
        assert_eq!(n("/a/%2e/b"), "/a/b");
        assert_eq!(n("/a/b/.."), "/a/");
        assert_eq!(n("/a/b/."), "/a/b/");
        assert_eq!(n("/.."), "/");
        assert_eq!(n("/../../x"), "/x");
        assert_eq!(n("/"), "/");
        assert_eq!(n("/a//b"), "/a//b");
        assert_eq!(n("/a/...b/..."), "/a/...b/...");
        assert_eq!(n("/a\\b"), "/a/b");
        // the fragment is kept for the page's URL, never sent
        assert_eq!(n("/y34/two#frag"), "/y34/two#frag");
        assert_eq!(super::sent(&n("/y34/two#frag")), "/y34/two");
        assert_eq!(super::sent(&n("/x?a=1#f?g <")), "/x?a=1");
        assert_eq!(n("/x#a b"), "/x#a%20b");
        // the query: ' < > " encoded (special scheme), an existing escape kept, ? kept
        assert_eq!(n("/y22/data?q='a'<b>"), "/y22/data?q=%27a%27%3Cb%3E");
        assert_eq!(n("/q?x=%27&y=?z"), "/q?x=%27&y=?z");
        assert_eq!(n("/e?"), "/e?");
        // the path: ` { } " < > encoded, ' kept; non-ASCII as UTF-8
        assert_eq!(n("/p/`{x}`/'\"é"), "/p/%60%7Bx%7D%60/'%22%C3%A9");
        assert_eq!(n("/q?é"), "/q?%C3%A9");
    }
}
