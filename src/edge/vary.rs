//! The secondary key: which request fields a stored response varies on, how their values
//! are normalised, and whether a later request matches (RFC 9111 §4.1).

use crate::edge::knobs::{Knobs, VaryAcceptEncoding, VaryCompare, VaryMode, VaryStar};
use crate::fields::{Headers, Text};
use serde::Serialize;

/// The selecting fields of one stored response, after the profile's `Vary` treatment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VarySpec {
    /// Lowercase field names, sorted and deduplicated: order and case do not matter.
    /// Well-known names are static text (no allocation per stored response).
    pub names: Box<[Text]>,
    /// The response's `Vary` had a `*` member that this cache honours: never matches.
    pub star: bool,
    /// `Accept-Encoding`, when among `names`, is matched on its gzip-normalised value
    /// ([`gzip_value`], `vary_accept_encoding: gzip`).
    pub gzip_ae: bool,
}

/// Why a response was not stored because of its `Vary`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VaryRefusal {
    /// `Vary: *` at a cache that does not store it.
    Star,
    /// `Vary` names something beyond `Accept-Encoding` (Akamai).
    BeyondAcceptEncoding,
    /// `Vary` names a field outside the cache's allowlist (Google Cloud CDN).
    NotAllowlisted,
    /// `Vary` is longer than the cache keeps (nginx: 128 bytes).
    TooLong,
}

/// Applies the profile's `Vary` treatment to a response's `Vary` field lines.
pub fn vary_spec(knobs: &Knobs, resp: &Headers) -> Result<VarySpec, VaryRefusal> {
    // One pass over the fields gathers the names straight into the spec's list, sized
    // for the first `Vary` line's members (most answers have one line of a name or two,
    // or none), so the list is not grown, nor shrunk when it becomes the spec's.
    let mut names: Vec<Text> = Vec::new();
    let mut has_star = false;
    let mut present = false;
    // the lines' bytes as nginx joins them (`, ` between lines)
    let mut joined = 0usize;
    for (n, v) in resp.iter() {
        if !n.eq_ignore_ascii_case("vary") {
            continue;
        }
        joined += v.len() + if present { 2 } else { 0 };
        present = true;
        if names.capacity() == 0 {
            names.reserve_exact(crate::fields::split_list(v).count());
        }
        for m in crate::fields::split_list(v) {
            if m == "*" {
                has_star = true;
            } else {
                names.push(crate::fields::lowercase_name(m));
            }
        }
        if knobs.vary_first_line {
            break;
        }
    }
    // Squid's httpMakeVaryMark gives an empty mark for a Vary without members, and an
    // empty mark is what `*` gets: the response is not shared
    if present && names.is_empty() && knobs.vary_empty_as_star {
        has_star = true;
    }
    if has_star {
        match knobs.vary_star {
            VaryStar::Bypass => return Err(VaryRefusal::Star),
            // Varnish compares the whole header with "*"; nginx likewise only knows the
            // single value. `Foo, *` or `*, *` slip through and are cached on the rest.
            VaryStar::ExactOnly => {
                if resp.count("vary") == 1 && resp.get("vary").map(str::trim) == Some("*") {
                    return Err(VaryRefusal::Star);
                }
            }
            VaryStar::NeverMatch | VaryStar::Reuse => {}
        }
    }
    // ngx_http_upstream_process_vary: longer than NGX_HTTP_CACHE_VARY_LEN, not cacheable
    if knobs.vary_max_len.is_some_and(|max| joined > max) {
        return Err(VaryRefusal::TooLong);
    }
    names.sort_unstable();
    names.dedup();
    if knobs.vary == VaryMode::Uncacheable
        && (has_star || names.iter().any(|n| *n != "accept-encoding"))
    {
        return Err(VaryRefusal::BeyondAcceptEncoding);
    }
    if let Some(allow) = &knobs.vary_allowlist {
        if names
            .iter()
            .any(|n| !allow.iter().chain(&knobs.key_headers).any(|a| *n == **a))
        {
            return Err(VaryRefusal::NotAllowlisted);
        }
    }
    match knobs.vary {
        VaryMode::Honor | VaryMode::Uncacheable => {}
        VaryMode::Ignore => names.clear(),
        VaryMode::IgnoreOrigin => names.retain(|n| *n != "origin"),
        VaryMode::AcceptEncodingOnly => names.retain(|n| *n == "accept-encoding"),
    }
    // cache_vary.c vry_cmp: "If we do gzip processing, we do not vary on
    // Accept-Encoding" — the stored value never decides, so the name is dropped
    if knobs.vary_accept_encoding == VaryAcceptEncoding::Ignore {
        names.retain(|n| *n != "accept-encoding");
    }
    let star =
        has_star && knobs.vary_star == VaryStar::NeverMatch && knobs.vary != VaryMode::Ignore;
    let gzip_ae = knobs.vary_accept_encoding == VaryAcceptEncoding::Gzip
        && names.iter().any(|n| *n == "accept-encoding");
    Ok(VarySpec {
        names: names.into_boxed_slice(),
        star,
        gzip_ae,
    })
}

/// Whether a request accepts gzip as ATS decides it before normalising `Accept-Encoding`
/// (proxy/http/HttpTransactCache.cc `match_content_encoding`): some member, before its
/// parameters, is `gzip`, `x-gzip` or `*` (case-insensitive) and has no `q` of 0.
pub fn accepts_gzip(req: &Headers) -> bool {
    req.get_all("accept-encoding")
        .flat_map(crate::fields::split_list)
        .any(|m| {
            let mut parts = m.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q_zero = parts.any(|p| {
                let p = p.trim();
                p.get(..2).is_some_and(|n| n.eq_ignore_ascii_case("q="))
                    && p[2..].trim().parse::<f32>().is_ok_and(|q| q == 0.0)
            });
            !q_zero
                && (coding == "*"
                    || coding.eq_ignore_ascii_case("gzip")
                    || coding.eq_ignore_ascii_case("x-gzip"))
        })
}

/// The `Accept-Encoding` an ATS lookup sees with `proxy.config.http.normalize_ae` 1
/// (proxy/http/HttpTransactHeaders.cc `normalize_accept_encoding`: "Force
/// Accept-Encoding header to gzip or no header"): `gzip`, or absent.
pub fn gzip_value(req: &Headers) -> Option<&'static str> {
    accepts_gzip(req).then_some("gzip")
}

/// `req`'s selecting value for `name` under `spec` (its gzip normalisation applied).
fn spec_value(compare: VaryCompare, spec: &VarySpec, req: &Headers, name: &str) -> Option<String> {
    if spec.gzip_ae && name == "accept-encoding" {
        return gzip_value(req).map(str::to_string);
    }
    selecting_value(compare, req, name)
}

/// The value a request presents for one selecting field, normalised as the cache does;
/// `None` when the field is absent (RFC 9111 §4.1: absent only matches absent).
pub fn selecting_value(compare: VaryCompare, req: &Headers, name: &str) -> Option<String> {
    match compare {
        VaryCompare::Raw => req.get(name).map(str::to_string),
        VaryCompare::Trim => req.get_combined(name).map(|v| v.trim().to_string()),
        // RFC 9111 §4.1 (1) whitespace where the syntax allows it and (2) combining lines.
        VaryCompare::Combine => req
            .get_combined(name)
            .map(|v| crate::fields::split_list(&v).collect::<Vec<_>>().join(",")),
        VaryCompare::Fold => req.get_combined(name).map(|v| {
            v.chars()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_lowercase)
                .collect()
        }),
    }
}

/// The selecting values of `req` for `spec`, in `spec.names` order (as stored: one
/// exact-size block for the list and one per value).
pub fn selecting_values(
    compare: VaryCompare,
    spec: &VarySpec,
    req: &Headers,
) -> Box<[Option<Box<str>>]> {
    spec.names
        .iter()
        .map(|n| spec_value(compare, spec, req, n).map(String::into_boxed_str))
        .collect()
}

/// RFC 9111 §4.1: a stored response matches when "all the presented request header fields
/// nominated by that Vary field value match those fields in the original request"; "a
/// stored response with a Vary header field value containing a member '*' always fails to
/// match".
pub fn matches(
    compare: VaryCompare,
    spec: &VarySpec,
    stored: &[Option<Box<str>>],
    req: &Headers,
) -> bool {
    if spec.star {
        return false;
    }
    spec.names
        .iter()
        .zip(stored)
        .all(|(n, v)| spec_value(compare, spec, req, n).as_deref() == v.as_deref())
}

/// A readable form of the secondary key: `origin=https://a accept-encoding=-`.
pub fn describe(spec: &VarySpec, values: &[Option<Box<str>>]) -> String {
    if spec.star {
        return "vary=*".to_string();
    }
    let parts: Vec<String> = spec
        .names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{}={}", n, v.as_deref().unwrap_or("-")))
        .collect();
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::profile;

    fn h(pairs: &[(&str, &str)]) -> Headers {
        Headers::from_pairs(pairs.iter().copied())
    }

    fn spec(knobs: &Knobs, vary: &[&str]) -> Result<VarySpec, VaryRefusal> {
        let mut r = Headers::new();
        for v in vary {
            r.append("Vary", v);
        }
        vary_spec(knobs, &r)
    }

    #[test]
    fn names_are_case_and_order_insensitive() {
        let k = Knobs::rfc9111();
        let a = spec(&k, &["Origin, Accept-Encoding"]).unwrap();
        let b = spec(&k, &["accept-encoding", " ORIGIN "]).unwrap();
        assert_eq!(a, b);
        assert_eq!(*a.names, ["accept-encoding", "origin"]);
    }

    /// A `Vary` with no member is no variance for the RFC reading, and `*` at Squid
    /// (tests/fidelity z16); a `Vary` with a member is unaffected.
    #[test]
    fn empty_vary_is_star_at_squid() {
        let rfc = Knobs::rfc9111();
        let squid = profile("squid").unwrap().knobs;
        for v in ["", " , ,"] {
            assert!(!spec(&rfc, &[v]).unwrap().star, "{v:?}");
            assert!(spec(&squid, &[v]).unwrap().star, "{v:?}");
        }
        assert!(!spec(&squid, &[",Origin,,"]).unwrap().star);
        assert!(!spec(&squid, &[]).unwrap().star);
    }

    /// ATS reads only the first `Vary` line (tests/fidelity z44); every other profile
    /// reads them all, a `*` on a later line included.
    #[test]
    fn ats_reads_the_first_vary_line_only() {
        let ats = profile("ats").unwrap().knobs;
        let rfc = Knobs::rfc9111();
        let lines = ["Accept-Encoding", "Origin"];
        assert_eq!(*spec(&ats, &lines).unwrap().names, ["accept-encoding"]);
        assert_eq!(
            *spec(&rfc, &lines).unwrap().names,
            ["accept-encoding", "origin"]
        );
        assert_eq!(
            *spec(&ats, &["Origin, Accept-Encoding"]).unwrap().names,
            ["accept-encoding", "origin"]
        );
        // ATS refuses `*`, but only where it reads it
        assert!(spec(&ats, &["Origin", "*"]).is_ok());
        assert_eq!(spec(&ats, &["*", "Origin"]), Err(VaryRefusal::Star));
    }

    /// nginx refuses a `Vary` longer than 128 bytes, its lines joined with `, `
    /// (tests/fidelity z46); other profiles have no limit.
    #[test]
    fn nginx_refuses_a_vary_over_128_bytes() {
        let nginx = profile("nginx").unwrap().knobs;
        let name = |n: usize| format!("X-{}", "a".repeat(n - 2));
        assert!(spec(&nginx, &[&name(128)]).is_ok());
        assert_eq!(spec(&nginx, &[&name(129)]), Err(VaryRefusal::TooLong));
        // 63 + ", " + 63 = 128: kept; one byte more on either line is not
        assert!(spec(&nginx, &[&name(63), &name(63)]).is_ok());
        assert_eq!(
            spec(&nginx, &[&name(64), &name(63)]),
            Err(VaryRefusal::TooLong)
        );
        assert!(spec(&Knobs::rfc9111(), &[&name(4000)]).is_ok());
    }

    /// Every `Vary` line counts wherever it sits among the other fields, and only those:
    /// the first line's members, then a later line's, with a field of a similar name
    /// (and an empty line) in between.
    #[test]
    fn names_come_from_every_vary_line_and_no_other_field() {
        let k = Knobs::rfc9111();
        let r = h(&[
            ("content-type", "text/plain"),
            ("vary", "Origin"),
            ("vary-by", "X-Other"),
            ("vary", ""),
            ("cache-control", "max-age=60"),
            ("vary", "Accept-Language, X-Tenant"),
        ]);
        let s = vary_spec(&k, &r).unwrap();
        assert_eq!(*s.names, ["accept-language", "origin", "x-tenant"]);
        assert!(!s.star);
        let none = vary_spec(&k, &h(&[("vary-by", "Origin")])).unwrap();
        assert!(none.names.is_empty());
    }

    #[test]
    fn every_star_spelling_never_matches_under_rfc() {
        let k = Knobs::rfc9111();
        for v in [
            &["*"][..],
            &["*, *"],
            &["*", "*"],
            &[", *"],
            &["", "*"],
            &["*, Foo"],
            &["Foo, *"],
            &["Foo", "*"],
        ] {
            let s = spec(&k, v).unwrap();
            assert!(s.star, "{v:?}");
            assert!(!matches(
                k.vary_compare,
                &s,
                &selecting_values(k.vary_compare, &s, &Headers::new()),
                &Headers::new()
            ));
        }
    }

    #[test]
    fn varnish_and_nginx_only_know_the_single_star() {
        let k = profile("varnish").unwrap().knobs;
        assert_eq!(spec(&k, &["*"]), Err(VaryRefusal::Star));
        assert_eq!(spec(&k, &[" * "]), Err(VaryRefusal::Star));
        let foo = spec(&k, &["Foo, *"]).unwrap();
        assert!(!foo.star);
        assert_eq!(*foo.names, ["foo"]);
        assert!(spec(&k, &["*, *"]).is_ok());
        let ats = profile("ats").unwrap().knobs;
        assert_eq!(spec(&ats, &["Foo, *"]), Err(VaryRefusal::Star));
    }

    #[test]
    fn modes_filter_names() {
        let mut k = Knobs::rfc9111();
        k.vary = VaryMode::IgnoreOrigin;
        assert_eq!(
            *spec(&k, &["Origin, Accept-Encoding"]).unwrap().names,
            ["accept-encoding"]
        );
        k.vary = VaryMode::Ignore;
        assert!(spec(&k, &["Origin"]).unwrap().names.is_empty());
        k.vary = VaryMode::AcceptEncodingOnly;
        assert_eq!(
            *spec(&k, &["Origin, accept-encoding"]).unwrap().names,
            ["accept-encoding"]
        );
        k.vary = VaryMode::Uncacheable;
        assert_eq!(
            spec(&k, &["Origin"]),
            Err(VaryRefusal::BeyondAcceptEncoding)
        );
        assert!(spec(&k, &["Accept-Encoding"]).is_ok());
        let g = profile("gcp-cdn").unwrap().knobs;
        assert!(spec(&g, &["Origin"]).is_ok());
        assert_eq!(spec(&g, &["User-Agent"]), Err(VaryRefusal::NotAllowlisted));
    }

    #[test]
    fn absent_is_not_empty() {
        let k = Knobs::rfc9111();
        let s = spec(&k, &["Origin"]).unwrap();
        let stored = selecting_values(k.vary_compare, &s, &Headers::new());
        assert!(matches(k.vary_compare, &s, &stored, &Headers::new()));
        assert!(!matches(k.vary_compare, &s, &stored, &h(&[("origin", "")])));
        let empty = selecting_values(k.vary_compare, &s, &h(&[("origin", "")]));
        assert!(!matches(k.vary_compare, &s, &empty, &Headers::new()));
    }

    #[test]
    fn value_comparison_per_cache() {
        let s = VarySpec {
            names: Box::new(["accept-language".into()]),
            star: false,
            gzip_ae: false,
        };
        let stored = [("accept-language", "en, fr")];
        let combined_lines = h(&[("accept-language", "en"), ("accept-language", "fr")]);
        let spaced = h(&[("accept-language", "  en,fr ")]);
        let upper = h(&[("accept-language", "EN, FR")]);
        let sv = |c| selecting_values(c, &s, &h(&stored));
        assert!(matches(
            VaryCompare::Combine,
            &s,
            &sv(VaryCompare::Combine),
            &combined_lines
        ));
        assert!(matches(
            VaryCompare::Combine,
            &s,
            &sv(VaryCompare::Combine),
            &spaced
        ));
        assert!(!matches(
            VaryCompare::Combine,
            &s,
            &sv(VaryCompare::Combine),
            &upper
        ));
        assert!(!matches(
            VaryCompare::Raw,
            &s,
            &sv(VaryCompare::Raw),
            &spaced
        ));
        assert!(!matches(
            VaryCompare::Trim,
            &s,
            &sv(VaryCompare::Trim),
            &spaced
        ));
        assert!(matches(
            VaryCompare::Trim,
            &s,
            &sv(VaryCompare::Trim),
            &h(&[("accept-language", " en, fr ")])
        ));
        assert!(matches(
            VaryCompare::Fold,
            &s,
            &sv(VaryCompare::Fold),
            &upper
        ));
        assert!(matches(
            VaryCompare::Fold,
            &s,
            &sv(VaryCompare::Fold),
            &spaced
        ));
    }
}

/// Tests that pin the remaining branches of the `Vary` treatment (each kills a mutant the
/// tests above let through).
#[cfg(test)]
mod branch_tests {
    use super::*;

    fn vary(v: &str) -> Headers {
        Headers::from_pairs([("vary", v)])
    }

    /// Akamai stores a response only when `Vary` names nothing but `Accept-Encoding`
    /// ("Akamai caches only responses whose Vary is limited to Accept-Encoding"): a `*`
    /// is beyond it as much as a field name is.
    #[test]
    fn uncacheable_mode_refuses_a_star_alone() {
        let mut k = Knobs::rfc9111();
        k.vary = VaryMode::Uncacheable;
        k.vary_star = VaryStar::NeverMatch;
        assert_eq!(
            vary_spec(&k, &vary("*")),
            Err(VaryRefusal::BeyondAcceptEncoding)
        );
        assert!(vary_spec(&k, &vary("accept-encoding")).is_ok());
    }

    /// An allowlisting cache (Google Cloud CDN) refuses a `Vary` name that is neither on
    /// its allowlist nor already part of the cache key; either one suffices.
    #[test]
    fn allowlist_or_key_header_suffices() {
        let mut k = Knobs::rfc9111();
        k.vary_allowlist = Some(vec!["accept".into()]);
        k.key_headers = vec!["x-tenant".into()];
        assert!(vary_spec(&k, &vary("Accept")).is_ok());
        assert!(vary_spec(&k, &vary("X-Tenant")).is_ok());
        assert!(vary_spec(&k, &vary("Accept, X-Tenant")).is_ok());
        assert_eq!(
            vary_spec(&k, &vary("Accept, Origin")),
            Err(VaryRefusal::NotAllowlisted)
        );
    }

    /// A cache that ignores `Vary` ignores its `*` too: the entry is reusable.
    #[test]
    fn ignore_mode_drops_the_star() {
        let mut k = Knobs::rfc9111();
        k.vary = VaryMode::Ignore;
        k.vary_star = VaryStar::NeverMatch;
        let s = vary_spec(&k, &vary("*, Origin")).unwrap();
        assert!(!s.star && s.names.is_empty());
    }

    /// The readable secondary key: `name=value` pairs in name order, `-` for an absent
    /// field, and `vary=*` for a never-matching entry.
    #[test]
    fn describe_layout() {
        let s = VarySpec {
            names: Box::new(["accept-encoding".into(), "origin".into()]),
            star: false,
            gzip_ae: false,
        };
        assert_eq!(
            describe(&s, &[None, Some("https://a".into())]),
            "accept-encoding=- origin=https://a"
        );
        let star = VarySpec {
            names: Box::new([]),
            star: true,
            gzip_ae: false,
        };
        assert_eq!(describe(&star, &[]), "vary=*");
    }
}

/// How ATS decides that a request accepts gzip before it normalises Accept-Encoding.
#[cfg(test)]
mod gzip_tests {
    use super::*;

    fn ae(v: &[&str]) -> Headers {
        let mut h = Headers::new();
        for l in v {
            h.append("Accept-Encoding", l);
        }
        h
    }

    #[test]
    fn gzip_x_gzip_or_star_with_q_above_zero() {
        for yes in [
            &["gzip"][..],
            &["GZIP"],
            &["br", "gzip"],
            &["deflate, x-gzip"],
            &["*"],
            &["gzip;q=0.5"],
            &["gzip ; q=1, br"],
        ] {
            assert!(accepts_gzip(&ae(yes)), "{yes:?}");
            assert_eq!(gzip_value(&ae(yes)), Some("gzip"));
        }
        for no in [
            &[][..],
            &[""],
            &["br"],
            &["gzip;q=0"],
            &["gzip; Q=0.0, br"],
            &["gzipped"],
            &["identity"],
        ] {
            assert!(!accepts_gzip(&ae(no)), "{no:?}");
            assert_eq!(gzip_value(&ae(no)), None);
        }
    }

    /// The gzip treatment is marked on a spec only when Accept-Encoding is among its
    /// names; Varnish's drops the name.
    #[test]
    fn specs_per_accept_encoding_mode() {
        let vary = |v: &str| Headers::from_pairs([("vary", v)]);
        let mut k = Knobs::rfc9111();
        k.vary_accept_encoding = VaryAcceptEncoding::Gzip;
        assert!(
            vary_spec(&k, &vary("Origin, Accept-Encoding"))
                .unwrap()
                .gzip_ae
        );
        assert!(!vary_spec(&k, &vary("Origin")).unwrap().gzip_ae);
        k.vary_accept_encoding = VaryAcceptEncoding::Ignore;
        let s = vary_spec(&k, &vary("Origin, Accept-Encoding")).unwrap();
        assert_eq!(*s.names, ["origin"]);
        assert!(!s.gzip_ae);
    }
}
