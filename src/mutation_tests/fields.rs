//! `crate::fields`: the header multimap, list splitting, `Cache-Control`, tokens.

use crate::fields::{is_token, split_list, CacheControl, Headers};

/// RFC 9110 §5.1: field names are case-insensitive. `insert` replaces every line of the
/// name, `remove` drops every line and nothing else; `count`, `len`, `iter` see lines.
#[test]
fn multimap_operations() {
    let mut h = Headers::from_pairs([("A", "1"), ("b", "2"), ("a", "3")]);
    assert_eq!(h.count("a"), 2);
    assert_eq!(h.count("c"), 0);
    assert_eq!(h.len(), 3);
    assert!(!h.is_empty());
    assert!(h.contains("B") && !h.contains("c"));
    assert_eq!(h.get("a"), Some("1"));
    assert_eq!(h.get("c"), None);
    assert_eq!(h.get_all("A").collect::<Vec<_>>(), vec!["1", "3"]);
    assert_eq!(h.get_all("c").count(), 0);
    assert_eq!(
        h.iter().collect::<Vec<_>>(),
        vec![("a", "1"), ("b", "2"), ("a", "3")]
    );
    h.insert("A", "9");
    assert_eq!(h.iter().collect::<Vec<_>>(), vec![("b", "2"), ("a", "9")]);
    h.remove("a");
    assert_eq!(h.iter().collect::<Vec<_>>(), vec![("b", "2")]);
    h.remove("B");
    assert!(h.is_empty());
    assert_eq!(h.len(), 0);
}

/// The capacity estimate counts name + value + 4 separator bytes (`": "` and CRLF) per
/// field line.
#[test]
fn byte_size_counts_names_values_and_separators() {
    let h = Headers::from_pairs([("ab", "cde"), ("f", "")]);
    assert_eq!(h.byte_size(), (2 + 3 + 4) + (1 + 4));
    assert_eq!(Headers::from_pairs([("abc", "de")]).byte_size(), 3 + 2 + 4);
    assert_eq!(Headers::new().byte_size(), 0);
}

/// RFC 9110 §5.6.1: list members are separated by commas with optional whitespace (OWS =
/// SP / HTAB) around them, and "a recipient MUST parse and ignore a reasonable number of
/// empty list elements".
#[test]
fn split_list_trims_sp_and_htab_only() {
    let v: Vec<&str> = split_list("\ta ,b\t, ,,c d").collect();
    assert_eq!(v, vec!["a", "b", "c d"]);
    assert_eq!(split_list(" , ").count(), 0);
    // Only SP and HTAB are OWS: a newline is kept.
    assert_eq!(split_list("a\n").collect::<Vec<_>>(), vec!["a\n"]);
}

/// RFC 9111 §5.2.2: each response directive an edge cache acts on, matched
/// case-insensitively (§5.2: "Cache directives are ... case-insensitive"); unknown
/// directives are ignored; a present but empty field parses to no directives.
#[test]
fn every_cache_control_directive() {
    let h = Headers::from_pairs([(
        "cache-control",
        "No-Cache, PRIVATE, must-revalidate, proxy-revalidate, stale-while-revalidate=30, x-ext=1",
    )]);
    let cc = CacheControl::parse(&h, "cache-control").unwrap_or_default();
    assert!(cc.no_cache && cc.private && cc.must_revalidate && cc.proxy_revalidate);
    assert!(!cc.no_store && !cc.public);
    assert_eq!(cc.stale_while_revalidate, Some(30));
    assert_eq!(cc.max_age, None);
    assert_eq!(cc.s_maxage, None);
    let empty = Headers::from_pairs([("cache-control", "")]);
    assert_eq!(
        CacheControl::parse(&empty, "cache-control"),
        Some(CacheControl::default())
    );
    let swr = Headers::from_pairs([("cache-control", "stale-while-revalidate=x")]);
    let cc = CacheControl::parse(&swr, "cache-control").unwrap_or_default();
    assert_eq!(cc.stale_while_revalidate, None);
    let targeted = Headers::from_pairs([("cdn-cache-control", "s-maxage = 5")]);
    assert_eq!(
        CacheControl::parse(&targeted, "cdn-cache-control")
            .unwrap_or_default()
            .s_maxage,
        Some(5)
    );
}

/// RFC 9110 §5.6.2: `token = 1*tchar`, `tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" /
/// "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA`.
#[test]
fn every_tchar_and_some_delimiters() {
    assert!(is_token("!#$%&'*+-.^_`|~09azAZ"));
    for bad in ["a b", "a,b", "a\"", "a(", "a:", "a/", "a@", "é", "a\t"] {
        assert!(!is_token(bad), "{bad:?}");
    }
}

/// Two header blocks are the same request or response fields when they hold the same
/// lines, names and values as text, in the same order (RFC 9110 §5.3: the order of lines
/// of one name is significant). Static text (an engine's defaults) and the same text
/// allocated are equal; equal blocks hash alike (they key the counterfactual memo).
#[test]
fn header_blocks_compare_and_hash_as_text() {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let hash = |h: &Headers| {
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(h)
    };
    let mut a = Headers::new();
    a.append_static("accept", "*/*");
    a.append("x-a", "1");
    let b = Headers::from_pairs([("Accept", "*/*"), ("x-a", "1")]);
    assert_eq!(a, b);
    assert_eq!(hash(&a), hash(&b));
    let other = Headers::from_pairs([("accept", "*/*"), ("x-a", "2")]);
    assert_ne!(a, other, "a value differs");
    // (a fixed-key SipHash: deterministic, and these two do not collide)
    assert_ne!(hash(&a), hash(&other));
    assert_ne!(
        a,
        Headers::from_pairs([("accept", "*/*"), ("x-b", "1")]),
        "a name differs"
    );
    assert_ne!(
        a,
        Headers::from_pairs([("x-a", "1"), ("accept", "*/*")]),
        "the order differs"
    );
    assert_ne!(a, Headers::from_pairs([("accept", "*/*")]), "a line less");
    assert_ne!(
        Headers::from_pairs([("accept", "*/*"), ("x-a", "1"), ("x-a", "2")]),
        a,
        "a line more"
    );
    // Static texts at one address but of different lengths are different text.
    const LONG: &str = "gzip, br";
    let mut short = Headers::new();
    short.append_static("accept-encoding", &LONG[..4]);
    let mut long = Headers::new();
    long.append_static("accept-encoding", LONG);
    assert_ne!(short, long);
}
