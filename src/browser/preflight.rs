//! Fetch §4.8 "CORS-preflight fetch" (<https://fetch.spec.whatwg.org/#cors-preflight-fetch>):
//! parsing the preflight response's `Access-Control-Allow-Methods`, `-Headers` and
//! `-Max-Age`, and the Private Network Access address-space name used in messages.

use super::check::single_or_combined;
use super::Agent;
use crate::fields::{is_token, Headers};

/// Fetch §2.2 "extract header list values" for `#method` / `#field-name` lists: every
/// member of every field line, trimmed of SP/HTAB, empty members skipped. `Err(())` when
/// a member is not a token (Fetch §4.8 step 7.3: a network error). Absent → empty.
pub(crate) fn parse_token_list<'a>(h: &'a Headers, name: &'a str) -> Result<Vec<&'a str>, ()> {
    debug_assert!(!name.bytes().any(|b| b.is_ascii_uppercase()));
    // `Headers` keeps names lowercase and `name` is too: compared as bytes (lengths
    // first), not letter by letter without case as `get_all` does
    let mut lines = h
        .iter()
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .peekable();
    if lines.peek().is_none() {
        return Ok(Vec::new());
    }
    // room for a few members at once (a preflight answer allows a method or two, a
    // header or two), rather than growing an empty list on the first
    let mut out = Vec::with_capacity(4);
    for line in lines {
        for member in comma_members(line) {
            let m = trim_sp_tab(member);
            if m.is_empty() {
                continue;
            }
            if !is_token(m) {
                return Err(());
            }
            out.push(m);
        }
    }
    Ok(out)
}

/// `line.split(',')` by a byte scan (`,` is ASCII, so every cut is a char boundary).
fn comma_members(line: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(line);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.bytes().position(|b| b == b',') {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// `s.trim_matches([' ', '\t'])` by a byte scan (both are ASCII).
fn trim_sp_tab(s: &str) -> &str {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = s.bytes().position(|b| !ows(&b)).unwrap_or(s.len());
    let end = s.bytes().rposition(|b| !ows(&b)).map_or(start, |i| i + 1);
    &s[start..end.max(start)]
}

/// Default max-age when `Access-Control-Max-Age` is absent (Fetch §4.8 step 7.9; every
/// engine uses 5 s).
pub(crate) const DEFAULT_MAX_AGE_SECS: u64 = 5;

/// Fetch §4.8 steps 7.8–7.10: the number of seconds a successful preflight is cached.
///
/// * absent → 5 s;
/// * `delta-seconds` (digits only) → that, clipped to [`Agent::preflight_cap_secs`];
/// * anything else (several values, `-1`, `10s`, empty) is a parse failure, which the
///   spec also maps to 5 s — as do Chromium (`ParseAccessControlMaxAge` in
///   `services/network/cors/preflight_result.cc`) and WebKit
///   (`CrossOriginPreflightResultCache.cpp`), except that Chromium treats a negative
///   integer as 0 (do not cache), and Firefox (`nsCORSListenerProxy.cpp`,
///   `AddResultToCache`) caches nothing for any non-digit value other than empty.
pub(crate) fn max_age_secs(agent: Agent, h: &Headers) -> u64 {
    let cap = agent.preflight_cap_secs();
    let Some(v) = single_or_combined(h, "access-control-max-age") else {
        return DEFAULT_MAX_AGE_SECS.min(cap);
    };
    let v: &str = &v;
    if agent == Agent::Chrome {
        return chromium_max_age(v);
    }
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if all_digits(v) {
        let n = v.bytes().fold(0u64, |acc, b| {
            acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
        });
        return n.min(cap);
    }
    let secs = match agent {
        Agent::Firefox if !v.is_empty() => 0,
        Agent::Chrome if v.strip_prefix('-').is_some_and(all_digits) => 0,
        _ => DEFAULT_MAX_AGE_SECS,
    };
    secs.min(cap)
}

/// Chromium's `ParseAccessControlMaxAge` (`services/network/cors/preflight_result.cc`):
/// `base::StringToInt64` (an optional `+` or `-`, then digits only; out of range is a
/// failure) → failure gives the 5 s default, a negative number 0, and anything from
/// `kMaxTimeout` (2 h) up is clipped to it. So `+10` is 10 s and a value too large for
/// an `int64_t` is 5 s, not 7200.
fn chromium_max_age(v: &str) -> u64 {
    let cap = Agent::Chrome.preflight_cap_secs();
    let (negative, digits) = match v.as_bytes().first() {
        Some(b'+') => (false, &v[1..]),
        Some(b'-') => (true, &v[1..]),
        _ => (false, v),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return DEFAULT_MAX_AGE_SECS;
    }
    let mut n: i64 = 0;
    for b in digits.bytes() {
        let d = i64::from(b - b'0');
        let next = n.checked_mul(10).and_then(|x| {
            if negative {
                x.checked_sub(d)
            } else {
                x.checked_add(d)
            }
        });
        match next {
            Some(x) => n = x,
            None => return DEFAULT_MAX_AGE_SECS,
        }
    }
    if n < 0 {
        0
    } else {
        u64::try_from(n).unwrap_or(0).min(cap)
    }
}

/// The address-space name Chromium prints for a PNA target: `local` for loopback,
/// `private` otherwise (the model only knows that the target is more private).
pub(crate) fn address_space(host: &str) -> &'static str {
    let h = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    let loopback = h.eq_ignore_ascii_case("localhost")
        || h.to_ascii_lowercase().ends_with(".localhost")
        || h.starts_with("127.")
        || h == "::1";
    if loopback {
        "local"
    } else {
        "private"
    }
}

#[cfg(test)]
mod tests {

    /// The byte-scan splitting and trimming cut where `split(',')` and
    /// `trim_matches([' ', '\t'])` do.
    #[test]
    fn byte_scans_cut_like_the_char_patterns() {
        for line in [
            "",
            ",",
            "a",
            " a ,b\t, ,\tc",
            "é, x ,",
            ",,GET , PUT",
            "\t \t",
            "a b,c",
        ] {
            let ours: Vec<&str> = comma_members(line).collect();
            let std: Vec<&str> = line.split(',').collect();
            assert_eq!(ours, std, "{line:?}");
            for m in std {
                assert_eq!(trim_sp_tab(m), m.trim_matches([' ', '\t']), "{m:?}");
            }
        }
    }

    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Headers {
        Headers::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn token_lists() {
        let ok = h(&[
            ("access-control-allow-methods", "PUT, ,DELETE"),
            ("access-control-allow-methods", "*"),
        ]);
        assert_eq!(
            parse_token_list(&ok, "access-control-allow-methods"),
            Ok(vec!["PUT", "DELETE", "*"])
        );
        // a name sent in any case is found; a look-alike of the same length is not
        let cased = h(&[
            ("Access-Control-Allow-Methods", "GET"),
            ("access-control-allow-headerz", "x-a"),
        ]);
        assert_eq!(
            parse_token_list(&cased, "access-control-allow-methods"),
            Ok(vec!["GET"])
        );
        assert_eq!(
            parse_token_list(&cased, "access-control-allow-headers"),
            Ok(vec![])
        );
        let bad = h(&[("access-control-allow-headers", "x-a, x b")]);
        assert_eq!(
            parse_token_list(&bad, "access-control-allow-headers"),
            Err(())
        );
        assert_eq!(
            parse_token_list(&Headers::new(), "access-control-allow-headers"),
            Ok(vec![])
        );
    }

    #[test]
    fn max_age_rules() {
        let ma = |v: &str| h(&[("access-control-max-age", v)]);
        assert_eq!(max_age_secs(Agent::Chrome, &Headers::new()), 5);
        assert_eq!(max_age_secs(Agent::Chrome, &ma("600")), 600);
        assert_eq!(max_age_secs(Agent::Chrome, &ma("86400")), 7200);
        assert_eq!(max_age_secs(Agent::Firefox, &ma("86400")), 86400);
        assert_eq!(
            max_age_secs(Agent::Firefox, &ma("999999999999999999999999")),
            86400
        );
        assert_eq!(max_age_secs(Agent::Safari, &ma("86400")), 600);
        assert_eq!(max_age_secs(Agent::Chrome, &ma("0")), 0);
        assert_eq!(max_age_secs(Agent::Chrome, &ma("abc")), 5);
        assert_eq!(max_age_secs(Agent::Safari, &ma("abc")), 5);
        assert_eq!(max_age_secs(Agent::Firefox, &ma("abc")), 0);
        assert_eq!(max_age_secs(Agent::Chrome, &ma("-1")), 0);
        assert_eq!(max_age_secs(Agent::Safari, &ma("-1")), 5);
        let two = h(&[
            ("access-control-max-age", "10"),
            ("access-control-max-age", "20"),
        ]);
        assert_eq!(max_age_secs(Agent::Chrome, &two), 5);
        assert_eq!(max_age_secs(Agent::Chrome, &ma("+10")), 10);
        assert_eq!(max_age_secs(Agent::Safari, &ma("+10")), 5);
        assert_eq!(max_age_secs(Agent::Chrome, &ma("99999999999999999999")), 5);
        assert_eq!(
            max_age_secs(Agent::Chrome, &ma("9223372036854775807")),
            7200
        );
        assert_eq!(max_age_secs(Agent::Chrome, &ma("-9223372036854775808")), 0);
        assert_eq!(max_age_secs(Agent::Chrome, &ma("1 0")), 5);
        assert_eq!(max_age_secs(Agent::None, &ma("600")), 0);
    }

    #[test]
    fn address_spaces() {
        assert_eq!(address_space("localhost:8080"), "local");
        assert_eq!(address_space("127.0.0.1"), "local");
        assert_eq!(address_space("[::1]:443"), "local");
        assert_eq!(address_space("10.0.0.5"), "private");
        assert_eq!(address_space("router.lan"), "private");
    }
}

/// Tests that pin the edge cases of each parsing rule (each kills a mutant the tests
/// above let through).
#[cfg(test)]
mod rule_tests {
    use super::*;

    fn ma(v: &str) -> Headers {
        Headers::from_pairs([("access-control-max-age", v)])
    }

    /// `Access-Control-Max-Age = delta-seconds` (Fetch §3.3.3), and `delta-seconds =
    /// 1*DIGIT` (RFC 9111 §1.2.2): the empty value and a value with a unit are not
    /// delta-seconds, so parsing fails and the default (5 s) applies (Fetch §4.8 step
    /// 7.9: "If max-age is null, then set max-age to 5"). Firefox caches nothing for a
    /// non-digit value, but treats the empty value as absent.
    #[test]
    fn empty_or_unit_max_age_is_the_default() {
        assert_eq!(max_age_secs(Agent::Chrome, &ma("")), 5);
        assert_eq!(max_age_secs(Agent::Chrome, &ma("10s")), 5);
        assert_eq!(max_age_secs(Agent::Firefox, &ma("")), 5);
        assert_eq!(max_age_secs(Agent::Firefox, &ma("10s")), 0);
        assert_eq!(max_age_secs(Agent::Chrome, &ma("-")), 5);
        assert_eq!(max_age_secs(Agent::Chrome, &ma("1234")), 1234);
    }

    /// Chromium names `localhost`, `*.localhost` (RFC 6761 §6.3: these names resolve to
    /// loopback), `127.0.0.0/8` and `::1` as the `local` address space.
    #[test]
    fn loopback_names_are_local() {
        assert_eq!(address_space("LOCALHOST"), "local");
        assert_eq!(address_space("app.localhost:3000"), "local");
        assert_eq!(address_space("127.9.9.9:80"), "local");
        assert_eq!(address_space("[::1]"), "local");
        assert_eq!(address_space("[fd00::1]:80"), "private");
        assert_eq!(address_space("notlocalhost"), "private");
        assert_eq!(address_space("192.168.1.1:8080"), "private");
    }
}
