//! Request-header classification (Fetch §2.2.2 "Headers"): CORS-safelisted
//! request-headers, CORS-unsafe request-header names, forbidden request-headers, and
//! method normalisation. All functions here are allocation-free except
//! [`acrh_value`], which builds the `Access-Control-Request-Headers` value.

use std::borrow::Cow;

/// Fetch §2.2.2: the maximum length of a CORS-safelisted request-header value.
const SAFELIST_VALUE_MAX: usize = 128;
/// Fetch §2.2.2 "CORS-unsafe request-header names", step 3: the total size budget.
const SAFELIST_TOTAL_MAX: usize = 1024;

/// Fetch §2.2.1 "CORS-safelisted method": `GET`, `HEAD` or `POST` (byte-exact).
pub(crate) fn is_safelisted_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "POST")
}

/// Fetch §2.2.1 "normalize a method": the six well-known methods are byte-uppercased
/// when they match case-insensitively; every other method is kept as given.
pub(crate) fn normalize_method(method: &str) -> Cow<'_, str> {
    const NORMALIZED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    // Methods come uppercase nearly always: the exact bytes are looked for first, and
    // only then folded letter by letter.
    if NORMALIZED.contains(&method) {
        return Cow::Borrowed(method);
    }
    match NORMALIZED.iter().find(|m| method.eq_ignore_ascii_case(m)) {
        Some(m) => Cow::Borrowed(m),
        None => Cow::Borrowed(method),
    }
}

/// Fetch §2.2.2 "CORS-unsafe request-header byte".
fn is_cors_unsafe_byte(b: u8) -> bool {
    (b < 0x20 && b != 0x09)
        || matches!(
            b,
            0x22 | 0x28
                | 0x29
                | 0x3A
                | 0x3C
                | 0x3E
                | 0x3F
                | 0x40
                | 0x5B
                | 0x5C
                | 0x5D
                | 0x7B
                | 0x7D
                | 0x7F
        )
}

/// The bytes allowed in `Accept-Language` / `Content-Language` (Fetch §2.2.2).
fn is_language_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b' ' | b'*' | b',' | b'-' | b'.' | b';' | b'=')
}

/// HTTP whitespace (Fetch §2.2): SP, HTAB, CR, LF.
fn is_http_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// How many bytes of HTTP whitespace end `s`.
fn ws_suffix_len(s: &str) -> usize {
    s.bytes().rev().take_while(|b| is_http_ws(*b)).count()
}

/// `s` without leading and trailing HTTP whitespace, by a byte scan: the four are ASCII,
/// so it finds the ends a trim by `char` finds, without decoding every character.
pub(crate) fn trim_http_ws(s: &str) -> &str {
    let start = s.bytes().take_while(|b| is_http_ws(*b)).count();
    let rest = &s[start..];
    &rest[..rest.len() - ws_suffix_len(rest)]
}

/// MIME Sniffing §4.4 "parse a MIME type", reduced to what the safelist needs: the
/// essence (`type/subtype`, compared ASCII case-insensitively); parameters are ignored
/// since their parsing never fails.
fn content_type_is_safelisted(value: &str) -> bool {
    let v = trim_http_ws(value);
    // (`/` and `;` are ASCII: a byte scan finds the same places as a char pattern)
    let Some(slash) = v.bytes().position(|b| b == b'/') else {
        return false;
    };
    let (ty, rest) = (&v[..slash], &v[slash + 1..]);
    let sub = match rest.bytes().position(|b| b == b';') {
        Some(i) => &rest[..i],
        None => rest,
    };
    let sub = &sub[..sub.len() - ws_suffix_len(sub)];
    // The essence must be a token `/` token; each of the three safelisted essences is
    // made of tokens (in any case), so matching one of them already proves it and the
    // token scan is not repeated. The subtype is compared first: the three differ in
    // its length, so most types (`application/json`) are told apart without folding.
    let is = |t: &str, s: &str| sub.eq_ignore_ascii_case(s) && ty.eq_ignore_ascii_case(t);
    is("application", "x-www-form-urlencoded")
        || is("multipart", "form-data")
        || is("text", "plain")
}

/// Fetch §2.2.2 "parse a single range header value" (allowWhitespace = false), then the
/// safelist's extra rule that the range has a start (no suffix range `bytes=-500`).
/// "If data does not start with `bytes`, then return failure": the unit is matched as
/// written (measured: Chromium 156 preflighted `Range: Bytes=0-5`).
fn range_is_safelisted(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("bytes") else {
        return false;
    };
    let Some(rest) = rest.strip_prefix('=') else {
        return false;
    };
    let Some((start, end)) = rest.split_once('-') else {
        return false;
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if start.is_empty() || !digits(start) || !digits(end) {
        return false;
    }
    if end.is_empty() {
        return true;
    }
    // Compare as numbers without overflow: strip leading zeros, then length, then bytes.
    let (s, e) = (start.trim_start_matches('0'), end.trim_start_matches('0'));
    (s.len(), s) <= (e.len(), e)
}

/// The length in bytes of `value` as the browser sends it. A header value set by a page
/// is a ByteString: each code point up to U+00FF is one byte (Fetch "isomorphic encode";
/// `fetch()` throws for anything above), so `é` counts 1, not its 2 UTF-8 bytes.
/// Fetch §2.2.2 "If value's length is greater than 128" and the 1024-byte budget count
/// those bytes; Chromium 156 sent `Accept: é×70` without a preflight.
fn byte_len(value: &str) -> usize {
    if value.is_ascii() {
        value.len()
    } else {
        value.chars().count()
    }
}

/// Fetch §2.2.2 "CORS-safelisted request-header" (name is lowercase, as [`crate::fields::Headers`]
/// stores it).
pub(crate) fn is_safelisted_header(name: &str, value: &str) -> bool {
    // A page's header value is normalized when it is set (Fetch §5.2 `Headers`: leading
    // and trailing HTTP whitespace removed) before the request is checked: measured,
    // Chromium 156 sent `Range: bytes=0-5 ` without a preflight.
    let value = trim_http_ws(value);
    // Both the length limit and the name's own rule must hold; the name is looked at
    // first (most fields are not safelisted at all, and it needs no scan of the value).
    let value_ok = match name {
        "accept" => !value.bytes().any(is_cors_unsafe_byte),
        "accept-language" | "content-language" => value.bytes().all(is_language_byte),
        "content-type" => {
            content_type_is_safelisted(value) && !value.bytes().any(is_cors_unsafe_byte)
        }
        "range" => range_is_safelisted(value),
        _ => return false,
    };
    value_ok && byte_len(value) <= SAFELIST_VALUE_MAX
}

/// Chromium's additions to the CORS-safelisted request-headers
/// (`services/network/public/cpp/cors/cors.cc`, `IsCorsSafelistedHeader`): the client
/// hints `DPR`, `Device-Memory` (a decimal number), `Width`, `Viewport-Width` (an
/// integer), `Save-Data` (`on`), plus `Intervention`. Chromium 156 also let `RTT`,
/// `Downlink` and `ECT` through without a preflight (measured with `rtt: 50`,
/// `downlink: 1.5`, `ect: 4g`). `Lang` is not among them: Chromium 156 preflights a
/// `lang: de` request header and refuses it when the preflight does not allow it (case
/// w02-lang-not-safelisted), as the Fetch standard's list (§2.2.2) would.
fn chromium_client_hint(name: &str, value: &str) -> bool {
    let int = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    let double = |v: &str| match v.split_once('.') {
        Some((a, b)) => int(a) && int(b),
        None => int(v),
    };
    match name {
        "dpr" | "device-memory" | "downlink" => double(value),
        "width" | "viewport-width" | "rtt" => int(value),
        "save-data" => value.eq_ignore_ascii_case("on"),
        "ect" => crate::fields::is_token(value),
        "intervention" => true,
        _ => false,
    }
}

/// [`is_safelisted_header`], with Chromium's client-hint additions when `chrome`.
pub(crate) fn is_safelisted_for(chrome: bool, name: &str, value: &str) -> bool {
    is_safelisted_header(name, value)
        || (chrome && chromium_client_hint(name, value) && byte_len(value) <= SAFELIST_VALUE_MAX)
}

/// Fetch §2.2.2 "no-CORS-safelisted request-header": what a `no-cors` request may carry
/// (the `request-no-cors` headers guard drops anything else).
pub(crate) fn is_no_cors_safelisted_header(name: &str, value: &str) -> bool {
    matches!(
        name,
        "accept" | "accept-language" | "content-language" | "content-type"
    ) && is_safelisted_header(name, value)
}

/// Fetch §2.2.2 "forbidden request-header": set by the browser only; a page's attempt to
/// set one is silently ignored (the `request` headers guard).
pub(crate) fn is_forbidden_header(name: &str, value: &str) -> bool {
    const NAMES: [&str; 21] = [
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    ];
    if NAMES.contains(&name) || name.starts_with("proxy-") || name.starts_with("sec-") {
        return true;
    }
    if matches!(
        name,
        "x-http-method" | "x-http-method-override" | "x-method-override"
    ) {
        return crate::fields::split_list(value).any(|m| {
            ["CONNECT", "TRACE", "TRACK"]
                .iter()
                .any(|f| m.eq_ignore_ascii_case(f))
        });
    }
    false
}

/// Fetch §2.2.2 "CORS-unsafe request-header names", in the order Chromium checks them
/// (`CorsUnsafeRequestHeaderNames`: the unsafe ones in header order, then, when the
/// safelisted values exceed 1024 bytes in total, the safelisted ones too). Names are
/// lowercase; duplicates are not removed (see [`acrh_value`] for the sorted set).
/// `headers()` yields `(lowercase name, value)`; it is called three times.
pub(crate) fn unsafe_names<'a, I, F>(chrome: bool, headers: F) -> impl Iterator<Item = &'a str>
where
    F: Fn() -> I,
    I: Iterator<Item = (&'a str, &'a str)>,
{
    // The safelisted values are some of all values: when all of them fit the budget
    // (nearly always), the safelisted ones do too, without classifying every field an
    // extra time (each call of this classifies them once more below).
    let size = |safelisted_only: bool| -> usize {
        headers()
            .filter(|(n, v)| !safelisted_only || is_safelisted_for(chrome, n, v))
            .map(|(_, v)| byte_len(v))
            .sum()
    };
    let over = size(false) > SAFELIST_TOTAL_MAX && size(true) > SAFELIST_TOTAL_MAX;
    let unsafe_ones = headers()
        .filter(move |(n, v)| !is_safelisted_for(chrome, n, v))
        .map(|(n, _)| n);
    let overflow = headers()
        .filter(move |(n, v)| over && is_safelisted_for(chrome, n, v))
        .map(|(n, _)| n);
    unsafe_ones.chain(overflow)
}

/// Fetch §4.8 "CORS-preflight fetch" steps 4–5: the `Access-Control-Request-Headers`
/// value, the CORS-unsafe names as a sorted-lowercase set joined by `,` with no space
/// ("convert header names to a sorted-lowercase set"). `None` when there are none.
pub(crate) fn acrh_value<'a, I, F>(chrome: bool, headers: F) -> Option<String>
where
    F: Fn() -> I,
    I: Iterator<Item = (&'a str, &'a str)>,
{
    let mut names: Vec<&str> = unsafe_names(chrome, headers).collect();
    if names.is_empty() {
        return None;
    }
    names.sort_unstable();
    names.dedup();
    Some(names.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Headers;

    fn hs(pairs: &[(&str, &str)]) -> Headers {
        Headers::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn safelisted_methods() {
        assert!(is_safelisted_method("GET") && is_safelisted_method("POST"));
        assert!(!is_safelisted_method("PUT") && !is_safelisted_method("get"));
        assert_eq!(normalize_method("put"), "PUT");
        assert_eq!(normalize_method("patch"), "patch");
    }

    /// HTTP whitespace trimmed by bytes is the trim by `char`: SP, HTAB, CR and LF at
    /// either end only, non-ASCII text kept whole; and the essence is found between
    /// such whitespace, in any case, whatever its parameters.
    #[test]
    fn http_whitespace_is_trimmed_at_the_ends_only() {
        const WS: [char; 4] = [' ', '\t', '\r', '\n'];
        for v in [
            "",
            " \r\n\t",
            "a",
            " a b ",
            "\n\ré\t",
            "\u{a0}x\u{a0}",
            " ñ/ñ \r",
        ] {
            assert_eq!(trim_http_ws(v), v.trim_matches(WS), "{v:?}");
            assert_eq!(&v[..v.len() - ws_suffix_len(v)], v.trim_end_matches(WS));
        }
        for v in [
            " text/plain\r\n",
            "\tTEXT/Plain \t; charset=utf-8",
            "multipart/form-data\n",
            "Application/X-WWW-Form-Urlencoded ;x=y",
        ] {
            assert!(content_type_is_safelisted(v), "{v:?}");
        }
        for v in [
            "text /plain",
            "text/plain-ish",
            "text/json",
            "application/plain",
            "form-data/multipart",
            "application/form-data",
            "\u{a0}text/plain",
            "text/plain\u{a0}",
        ] {
            assert!(!content_type_is_safelisted(v), "{v:?}");
        }
    }

    #[test]
    fn content_type_text_plain_is_safelisted_json_is_not() {
        assert!(is_safelisted_header("content-type", "text/plain"));
        assert!(is_safelisted_header(
            "content-type",
            " Text/Plain ; charset=utf-8"
        ));
        assert!(is_safelisted_header(
            "content-type",
            "multipart/form-data; boundary=x"
        ));
        assert!(!is_safelisted_header("content-type", "application/json"));
        assert!(!is_safelisted_header("content-type", "text/plain; x=\"a\""));
        assert!(!is_safelisted_header("content-type", "text"));
    }

    #[test]
    fn language_length_limit() {
        let ok = "a".repeat(128);
        let long = "a".repeat(129);
        assert!(is_safelisted_header("accept-language", &ok));
        assert!(!is_safelisted_header("accept-language", &long));
        assert!(!is_safelisted_header("content-language", "en@x"));
    }

    #[test]
    fn range_rules() {
        assert!(is_safelisted_header("range", "bytes=0-"));
        assert!(!is_safelisted_header("range", "BYTES=10-20"));
        assert!(!is_safelisted_header("range", "Bytes=0-5"));
        assert!(is_safelisted_header("range", "bytes=0-5 "));
        assert!(is_safelisted_header("range", "\tbytes=007-9"));
        assert!(!is_safelisted_header("range", "bytes=-"));
        assert!(!is_safelisted_header("range", "bytes=-500"));
        assert!(!is_safelisted_header("range", "bytes=20-10"));
        assert!(!is_safelisted_header("range", "bytes=0-1,5-6"));
        assert!(!is_safelisted_header("range", "bytes = 0-1"));
        assert!(!is_safelisted_header("range", "b"));
    }

    #[test]
    fn unsafe_names_sorted_lowercase_no_space() {
        let h = hs(&[
            ("X-B", "1"),
            ("Content-Type", "application/json"),
            ("accept", "*/*"),
            ("x-a", "2"),
            ("X-B", "3"),
        ]);
        assert_eq!(
            acrh_value(false, || h.iter()).as_deref(),
            Some("content-type,x-a,x-b")
        );
        let safe = hs(&[("accept", "*/*")]);
        assert_eq!(acrh_value(false, || safe.iter()), None);
    }

    #[test]
    fn total_safelisted_size_over_1024_makes_all_unsafe() {
        let v = "a".repeat(120);
        let mut h = Headers::new();
        for _ in 0..9 {
            h.append("accept-language", &v); // 9 * 120 = 1080 > 1024
        }
        assert_eq!(
            acrh_value(false, || h.iter()).as_deref(),
            Some("accept-language")
        );
        let mut small = Headers::new();
        for _ in 0..8 {
            small.append("accept-language", &v); // 960
        }
        assert_eq!(acrh_value(false, || small.iter()), None);
    }

    #[test]
    fn forbidden_headers() {
        assert!(is_forbidden_header("cookie", "a=1"));
        assert!(is_forbidden_header("sec-fetch-mode", "cors"));
        assert!(is_forbidden_header("x-http-method-override", "TRACE"));
        assert!(!is_forbidden_header("x-http-method-override", "PATCH"));
        assert!(!is_forbidden_header("x-custom", "1"));
    }

    #[test]
    fn chromium_client_hints() {
        for (n, v) in [
            ("dpr", "2"),
            ("dpr", "1.5"),
            ("viewport-width", "1280"),
            ("width", "640"),
            ("device-memory", "8"),
            ("save-data", "on"),
            ("rtt", "50"),
            ("downlink", "1.5"),
            ("ect", "4g"),
            ("intervention", "<https://example.com/>; level=\"warning\""),
        ] {
            assert!(is_safelisted_for(true, n, v), "{n}: {v}");
            assert!(
                !is_safelisted_for(false, n, v),
                "{n} is not in the Fetch standard's list"
            );
        }
        assert!(!is_safelisted_for(true, "dpr", "high"));
        // a decimal needs digits on both sides of its one dot
        for half in ["1.", ".5", "1.5.2", "."] {
            assert!(!is_safelisted_for(true, "dpr", half), "{half}");
        }
        assert!(!is_safelisted_for(true, "width", "1.5"));
        assert!(!is_safelisted_for(true, "save-data", "off"));
        // `Lang` needs a preflight in Chromium 156 too (case w02-lang-not-safelisted)
        for agent_is_chrome in [true, false] {
            assert!(!is_safelisted_for(agent_is_chrome, "lang", "en"));
        }
        let h = hs(&[("dpr", "2"), ("lang", "de"), ("x-a", "1")]);
        assert_eq!(acrh_value(true, || h.iter()).as_deref(), Some("lang,x-a"));
        let h = hs(&[("dpr", "2"), ("x-a", "1")]);
        assert_eq!(acrh_value(true, || h.iter()).as_deref(), Some("x-a"));
        assert_eq!(acrh_value(false, || h.iter()).as_deref(), Some("dpr,x-a"));
    }
}

/// Tests that pin each classification rule at its boundary (each kills a mutant the
/// tests above let through).
#[cfg(test)]
mod rule_tests {
    use super::*;
    use crate::fields::Headers;

    /// The `Access-Control-Request-Headers` value for `h` (the one call of the
    /// signature-bearing function, so that a signature change is fixed here only).
    fn acrh(h: &Headers) -> Option<String> {
        acrh_value(false, || h.iter())
    }

    /// Fetch §2.2.2: "A CORS-unsafe request-header byte is a byte byte for which one of
    /// the following is true: byte is less than 0x20 and is not 0x09 HT; byte is 0x22
    /// ("), 0x28 (left parenthesis), 0x29 (right parenthesis), 0x3A (:), 0x3C (<), 0x3E
    /// (>), 0x3F (?), 0x40 (@), 0x5B ([), 0x5C (\), 0x5D (]), 0x7B ({), 0x7D (}), or 0x7F
    /// DEL." `Accept` is safelisted when its value has no such byte.
    #[test]
    fn cors_unsafe_bytes_in_accept() {
        assert!(is_safelisted_header("accept", "text/html,\t*/*"));
        assert!(is_safelisted_header("accept", "text/html, */*;q=0.8"));
        assert!(is_safelisted_header("accept", "!#$%&'*+-.^_`|~"));
        for unsafe_byte in [
            "\u{0}", "\u{1}", "\u{1f}", "\"", "(", ":", "@", "{", "\u{7f}",
        ] {
            let v = format!("text/html{unsafe_byte}");
            assert!(!is_safelisted_header("accept", &v), "{v:?}");
        }
    }

    /// Fetch §2.2.2: `Content-Type` is safelisted when its parsed essence is
    /// `application/x-www-form-urlencoded`, `multipart/form-data` or `text/plain`.
    #[test]
    fn each_safelisted_content_type() {
        assert!(is_safelisted_header(
            "content-type",
            "application/x-www-form-urlencoded"
        ));
        assert!(!is_safelisted_header(
            "content-type",
            "application/form-data"
        ));
        assert!(!is_safelisted_header(
            "content-type",
            "text/x-www-form-urlencoded"
        ));
    }

    /// Fetch §2.2.2 "no-CORS-safelisted request-header": "If name is not a no-CORS-
    /// safelisted request-header name [`Accept`, `Accept-Language`, `Content-Language`,
    /// `Content-Type`], then return false. Return whether (name, value) is a
    /// CORS-safelisted request-header." `Range` is CORS-safelisted but not no-CORS.
    #[test]
    fn no_cors_safelist() {
        assert!(is_no_cors_safelisted_header("accept", "*/*"));
        assert!(is_no_cors_safelisted_header("content-type", "text/plain"));
        assert!(!is_no_cors_safelisted_header("range", "bytes=0-"));
        assert!(!is_no_cors_safelisted_header(
            "content-type",
            "application/json"
        ));
        assert!(!is_no_cors_safelisted_header("x-custom", "1"));
    }

    /// Fetch §2.2.2 "CORS-safelisted request-header": "If value's length is greater
    /// than 128, then return false" — the length of the byte sequence the page's
    /// ByteString becomes (one byte per code point up to U+00FF), not of its UTF-8 text.
    /// Chromium 156 sent `Accept: é×70` (70 bytes on the wire) without a preflight.
    #[test]
    fn value_length_counts_latin1_bytes_not_utf8() {
        let e70 = "\u{e9}".repeat(70); // 140 UTF-8 bytes, 70 bytes as sent
        assert!(is_safelisted_header("accept", &e70));
        assert!(!is_safelisted_header("accept", &"\u{e9}".repeat(129)));
        assert!(is_safelisted_header("accept", &"\u{e9}".repeat(128)));
        // The 1024-byte budget counts the same bytes: 8 × 128 = 1024 is not over it.
        let v = "\u{e9}".repeat(128);
        let h: Vec<(&str, &str)> = (0..8).map(|_| ("accept", v.as_str())).collect();
        assert_eq!(unsafe_names(false, || h.iter().copied()).count(), 0);
    }

    /// The budget counts the safelisted values only: unsafe values, however long, do not
    /// make the safelisted names unsafe; safelisted ones over it do, beside them.
    #[test]
    fn unsafe_values_do_not_count_toward_the_budget() {
        let long = "a".repeat(2000);
        let v = "b".repeat(120);
        let mut h = Headers::new();
        h.append("x-long", &long);
        h.append("accept-language", &v);
        h.append("content-type", "text/plain");
        assert_eq!(acrh(&h).as_deref(), Some("x-long"));
        for _ in 0..8 {
            h.append("accept-language", &v); // 9 * 120 + 10 = 1090
        }
        assert_eq!(
            acrh(&h).as_deref(),
            Some("accept-language,content-type,x-long")
        );
        // safelisted values of exactly 1024 bytes beside an unsafe one: not over
        let v = "c".repeat(128);
        let mut h = Headers::new();
        for _ in 0..8 {
            h.append("accept-language", &v); // 8 * 128 = 1024
        }
        h.append("x-long", &long);
        assert_eq!(acrh(&h).as_deref(), Some("x-long"));
    }

    /// Fetch §2.2.2 "CORS-unsafe request-header names" step 3: "If safelistValueSize is
    /// greater than 1024, then for each name of potentiallyUnsafeNames, add name to
    /// unsafeNames." Exactly 1024 bytes is not greater.
    #[test]
    fn safelist_budget_is_strictly_greater_than_1024() {
        let v = "a".repeat(128);
        let mut h = Headers::new();
        for _ in 0..8 {
            h.append("accept-language", &v); // 8 * 128 = 1024
        }
        assert_eq!(acrh(&h), None);
        h.append("accept", "b"); // 1025
        assert_eq!(acrh(&h).as_deref(), Some("accept,accept-language"));
    }

    /// Fetch §2.2.1 "normalize a method": byte-uppercase `method` if it is a
    /// byte-case-insensitive match for `DELETE`, `GET`, `HEAD`, `OPTIONS`, `POST` or
    /// `PUT`.
    #[test]
    fn normalize_each_method() {
        for m in ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"] {
            assert_eq!(normalize_method(&m.to_ascii_lowercase()), m);
            assert_eq!(normalize_method(m), m);
        }
        assert_eq!(normalize_method("Patch"), "Patch");
        assert!(is_safelisted_method("HEAD"));
        assert!(!is_safelisted_method("OPTIONS"));
    }
}
