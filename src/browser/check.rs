//! Fetch §3.2.5 "CORS check" (<https://fetch.spec.whatwg.org/#cors-check>), with the
//! finer distinctions Chromium makes when it reports a failure
//! (`services/network/public/cpp/cors/cors.cc`, `CheckAccess`).

use super::Credentials;
use crate::fields::Headers;
use std::borrow::Cow;

/// Why a check failed, with the value Chromium quotes in its console message (its
/// `failed_parameter`). Borrowed from the response where possible, so that building a
/// failure does not allocate; the console text is only built from it on demand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure<'a> {
    /// No `Access-Control-Allow-Origin`.
    MissingAllowOrigin,
    /// ACAO has several values (several field lines, or a comma or space in the value).
    MultipleAllowOrigin(Cow<'a, str>),
    /// ACAO is not `*`, `null` nor anything that parses as a URL (reason: origin-mismatch).
    InvalidAllowOrigin(&'a str),
    /// ACAO is a single value that is not the request's origin.
    AllowOriginMismatch(&'a str),
    /// ACAO `*` with credentials mode `include`.
    WildcardWithCredentials,
    /// ACAC is not exactly `true` (the value, or empty when absent).
    InvalidAllowCredentials(Cow<'a, str>),
    /// The preflight's status is not an ok status.
    PreflightBadStatus,
    /// `Access-Control-Allow-Methods` is not a list of tokens.
    InvalidAllowMethods,
    /// `Access-Control-Allow-Headers` is not a list of tokens.
    InvalidAllowHeaders,
    /// The method is not allowed by the preflight.
    MethodNotAllowed(&'a str),
    /// This (lowercase) request header is not allowed by the preflight.
    HeaderNotAllowed(&'a str),
    /// PNA preflight without `Access-Control-Allow-Private-Network`.
    MissingAllowPrivateNetwork,
    /// PNA preflight with `Access-Control-Allow-Private-Network` other than `true`.
    InvalidAllowPrivateNetwork(Cow<'a, str>),
    /// The preflight's answer was a redirect.
    PreflightRedirect,
    /// `no-cors` with this non-safelisted method (a TypeError before anything is sent).
    NoCorsMethod(&'a str),
    /// A redirect under `redirect: error`.
    RedirectModeError,
    /// A redirect after 20 followed ones.
    TooManyRedirects,
    /// A followed `cors` redirect to a URL with a username or password.
    RedirectContainsCredentials,
    /// A followed redirect to a URL that is not `http:` or `https:`.
    RedirectNotHttp,
}

impl Failure<'_> {
    /// The stable reason this failure is reported under.
    pub(crate) fn reason(&self) -> super::Reason {
        use super::Reason as R;
        match self {
            Failure::MissingAllowOrigin => R::MissingAllowOrigin,
            Failure::MultipleAllowOrigin(_) => R::MultipleAllowOrigin,
            Failure::InvalidAllowOrigin(_) | Failure::AllowOriginMismatch(_) => R::OriginMismatch,
            Failure::WildcardWithCredentials => R::WildcardWithCredentials,
            Failure::InvalidAllowCredentials(_) => R::CredentialsNotAllowed,
            Failure::PreflightBadStatus => R::PreflightBadStatus,
            Failure::InvalidAllowMethods | Failure::MethodNotAllowed(_) => R::MethodNotAllowed,
            Failure::InvalidAllowHeaders | Failure::HeaderNotAllowed(_) => R::HeaderNotAllowed,
            Failure::MissingAllowPrivateNetwork | Failure::InvalidAllowPrivateNetwork(_) => {
                R::PrivateNetworkNotAllowed
            }
            Failure::PreflightRedirect => R::PreflightRedirect,
            Failure::NoCorsMethod(_) => R::NoCorsMethod,
            Failure::RedirectModeError => R::RedirectModeError,
            Failure::TooManyRedirects => R::TooManyRedirects,
            Failure::RedirectContainsCredentials => R::RedirectContainsCredentials,
            Failure::RedirectNotHttp => R::RedirectNotHttp,
        }
    }

    /// The failure as a number for its kind and the text it carries (empty for a kind
    /// that carries none): two failures are equal when their parts are, which lets a
    /// memo keep a failure's console text without keeping the borrowed failure.
    pub(crate) fn parts(&self) -> (u8, &str) {
        match self {
            Failure::MissingAllowOrigin => (0, ""),
            Failure::MultipleAllowOrigin(v) => (1, v),
            Failure::InvalidAllowOrigin(v) => (2, v),
            Failure::AllowOriginMismatch(v) => (3, v),
            Failure::WildcardWithCredentials => (4, ""),
            Failure::InvalidAllowCredentials(v) => (5, v),
            Failure::PreflightBadStatus => (6, ""),
            Failure::InvalidAllowMethods => (7, ""),
            Failure::InvalidAllowHeaders => (8, ""),
            Failure::MethodNotAllowed(v) => (9, v),
            Failure::HeaderNotAllowed(v) => (10, v),
            Failure::MissingAllowPrivateNetwork => (11, ""),
            Failure::InvalidAllowPrivateNetwork(v) => (12, v),
            Failure::PreflightRedirect => (13, ""),
            Failure::NoCorsMethod(v) => (14, v),
            Failure::RedirectModeError => (15, ""),
            Failure::TooManyRedirects => (16, ""),
            Failure::RedirectContainsCredentials => (17, ""),
            Failure::RedirectNotHttp => (18, ""),
        }
    }
}

/// The value of a header that must appear at most once: the single field line borrowed,
/// or several lines combined with `", "` (how both Fetch "get" and Chromium's
/// `GetNormalizedHeader` see them). `None` when absent.
///
/// Each line is trimmed of leading and trailing spaces and tabs first: "a field value does
/// not include leading or trailing whitespace" (RFC 9110 §5.5), and Fetch §2.2 has a
/// header value "normalized" (no leading or trailing HTTP whitespace bytes). Chromium's
/// HTTP parser trims them (`HttpUtil::TrimLWS`), so `ACAO: <origin><TAB>` and
/// `ACAC: true ` pass its CORS check (cases d68, d69, d74).
pub(crate) fn single_or_combined<'a>(h: &'a Headers, name: &'a str) -> Option<Cow<'a, str>> {
    let mut lines = h.get_all(name);
    let first = lines.next()?;
    match lines.next() {
        None => Some(Cow::Borrowed(trim_ows(first))),
        Some(_) => {
            let mut out = String::new();
            for (i, v) in h.get_all(name).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(trim_ows(v));
            }
            Some(Cow::Owned(out))
        }
    }
}

/// `v` without leading and trailing SP and HTAB (RFC 9110 OWS). Both are ASCII, so a
/// byte scan finds the same ends as a trim by `char` (every CORS check trims its fields,
/// and the `char` walk decoded each one).
fn trim_ows(v: &str) -> &str {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let bytes = v.as_bytes();
    let start = bytes.iter().position(|b| !ows(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !ows(b)).map_or(start, |i| i + 1);
    &v[start..end]
}

/// Fetch §3.2.5 "CORS check": whether the response's `Access-Control-Allow-Origin` and
/// `Access-Control-Allow-Credentials` let `origin` read it. Allocation-free on success.
///
/// 1. ACAO absent → failure. (Fetch step 2.)
/// 2. More than one value (several field lines, or — as Chromium reports it — a comma
///    or space in the value) → failure: it can never equal a serialised origin.
/// 3. Credentials not `include` and ACAO `*` → success. (Fetch step 3.)
/// 4. ACAO ≠ serialised origin, byte-exact → failure; `*` with `include` is reported as
///    the wildcard error (Chromium `kWildcardOriginNotAllowed`). (Fetch step 4.)
/// 5. Credentials not `include` → success. (Fetch step 5.)
/// 6. ACAC must be exactly `true` (case-sensitive). (Fetch steps 6–7.)
pub(crate) fn cors_check<'a>(
    headers: &'a Headers,
    origin: &str,
    credentials: Credentials,
) -> Result<(), Failure<'a>> {
    let include = credentials == Credentials::Include;
    let acao = single_or_combined(headers, "access-control-allow-origin")
        .ok_or(Failure::MissingAllowOrigin)?;
    // Several field lines arrive combined (owned); a comma or space means several values.
    // (both are ASCII: a byte scan, not a search by `char`)
    let acao = match acao {
        Cow::Borrowed(v) if !v.bytes().any(|b| b == b',' || b == b' ') => v,
        several => return Err(Failure::MultipleAllowOrigin(several)),
    };
    if acao == "*" {
        if !include {
            return Ok(());
        }
        return Err(Failure::WildcardWithCredentials);
    }
    if acao != origin {
        if acao == "null" || looks_like_url(acao) {
            return Err(Failure::AllowOriginMismatch(acao));
        }
        return Err(Failure::InvalidAllowOrigin(acao));
    }
    if !include {
        return Ok(());
    }
    match single_or_combined(headers, "access-control-allow-credentials") {
        Some(v) if v == "true" => Ok(()),
        Some(v) => Err(Failure::InvalidAllowCredentials(v)),
        None => Err(Failure::InvalidAllowCredentials(Cow::Borrowed(""))),
    }
}

/// A cheap stand-in for Chromium's `GURL(value).is_valid()`, which only decides whether
/// the console says "has a value ... not equal" or "contains the invalid value": a
/// scheme, a colon, and for the special schemes a non-empty host.
fn looks_like_url(v: &str) -> bool {
    let Some((scheme, rest)) = v.split_once(':') else {
        return false;
    };
    let mut bytes = scheme.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    if !first_ok || !bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) {
        return false;
    }
    let special = ["http", "https", "ws", "wss", "ftp", "file"]
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s));
    if !special {
        return true;
    }
    let host = rest
        .trim_start_matches(['/', '\\'])
        .split(['/', '\\', '?', '#'])
        .next()
        .unwrap_or("");
    !host.is_empty() || scheme.eq_ignore_ascii_case("file")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::Reason;

    const O: &str = "https://app.example.com";

    fn h(pairs: &[(&str, &str)]) -> Headers {
        Headers::from_pairs(pairs.iter().copied())
    }

    fn reason(pairs: &[(&str, &str)], c: Credentials) -> Reason {
        match cors_check(&h(pairs), O, c) {
            Ok(()) => Reason::Ok,
            Err(f) => f.reason(),
        }
    }

    #[test]
    fn missing_allow_origin() {
        assert_eq!(reason(&[], Credentials::Omit), Reason::MissingAllowOrigin);
        assert_eq!(
            reason(&[("access-control-allow-origin", O)], Credentials::Omit),
            Reason::Ok
        );
    }

    #[test]
    fn exact_origin_matches_other_does_not() {
        let ok = [("Access-Control-Allow-Origin", O)];
        assert_eq!(reason(&ok, Credentials::SameOrigin), Reason::Ok);
        let bad = [("access-control-allow-origin", "https://other.example.com")];
        assert_eq!(
            reason(&bad, Credentials::SameOrigin),
            Reason::OriginMismatch
        );
        // Byte-exact: a trailing slash or different case does not match.
        let slash = [("access-control-allow-origin", "https://app.example.com/")];
        assert_eq!(reason(&slash, Credentials::Omit), Reason::OriginMismatch);
        let case = [("access-control-allow-origin", "https://APP.example.com")];
        assert_eq!(reason(&case, Credentials::Omit), Reason::OriginMismatch);
        let invalid = h(&[("access-control-allow-origin", "app.example.com")]);
        assert_eq!(
            cors_check(&invalid, O, Credentials::Omit),
            Err(Failure::InvalidAllowOrigin("app.example.com"))
        );
    }

    #[test]
    fn multiple_values() {
        let lines = h(&[
            ("access-control-allow-origin", O),
            ("access-control-allow-origin", O),
        ]);
        assert_eq!(
            cors_check(&lines, O, Credentials::Omit),
            Err(Failure::MultipleAllowOrigin(Cow::Owned(format!(
                "{O}, {O}"
            ))))
        );
        let comma = [(
            "access-control-allow-origin",
            "https://a.example, https://b.example",
        )];
        assert_eq!(
            reason(&comma, Credentials::Omit),
            Reason::MultipleAllowOrigin
        );
        let stars = [
            ("access-control-allow-origin", "*"),
            ("access-control-allow-origin", "*"),
        ];
        assert_eq!(
            reason(&stars, Credentials::Omit),
            Reason::MultipleAllowOrigin
        );
        assert_eq!(
            reason(&[("access-control-allow-origin", O)], Credentials::Omit),
            Reason::Ok
        );
    }

    #[test]
    fn wildcard_depends_on_credentials() {
        let star = [("access-control-allow-origin", "*")];
        assert_eq!(reason(&star, Credentials::Omit), Reason::Ok);
        assert_eq!(reason(&star, Credentials::SameOrigin), Reason::Ok);
        assert_eq!(
            reason(&star, Credentials::Include),
            Reason::WildcardWithCredentials
        );
        let star_acac = [
            ("access-control-allow-origin", "*"),
            ("access-control-allow-credentials", "true"),
        ];
        assert_eq!(
            reason(&star_acac, Credentials::Include),
            Reason::WildcardWithCredentials
        );
    }

    #[test]
    fn credentials_need_exact_true() {
        let good = [
            ("access-control-allow-origin", O),
            ("access-control-allow-credentials", "true"),
        ];
        assert_eq!(reason(&good, Credentials::Include), Reason::Ok);
        let upper = [
            ("access-control-allow-origin", O),
            ("access-control-allow-credentials", "True"),
        ];
        assert_eq!(
            reason(&upper, Credentials::Include),
            Reason::CredentialsNotAllowed
        );
        let absent = h(&[("access-control-allow-origin", O)]);
        assert_eq!(
            cors_check(&absent, O, Credentials::Include),
            Err(Failure::InvalidAllowCredentials(Cow::Borrowed("")))
        );
        // Without include, ACAC is not looked at.
        assert_eq!(reason(&upper, Credentials::Omit), Reason::Ok);
    }

    #[test]
    fn url_validity_heuristic() {
        assert!(looks_like_url("https://x.example"));
        assert!(looks_like_url("chrome-extension:abc"));
        assert!(!looks_like_url("https://"));
        assert!(!looks_like_url("x.example"));
        assert!(!looks_like_url("1http://x"));
    }
}

/// Tests that pin each rule of the check to the sentence it implements, written so that
/// a small change to the rule (a mutant) changes a verdict or a reported value.
#[cfg(test)]
mod rule_tests {
    use super::*;

    const O: &str = "https://app.example.com";

    fn acao(v: &str) -> Headers {
        Headers::from_pairs([("access-control-allow-origin", v)])
    }

    /// Fetch §3.2.5 CORS check, step 4: "If the result of byte-serializing a request
    /// origin with request is not origin, then return failure." The comparison is
    /// byte-for-byte equality: an ACAO that is a prefix of the page's origin (or the
    /// page's origin a prefix of the ACAO) is not that origin. Accepting a prefix would
    /// let `https://app.example.com.evil.example` read responses meant for
    /// `https://app.example.com`.
    #[test]
    fn allow_origin_must_equal_the_origin_not_prefix_it() {
        let evil = "https://app.example.com.evil.example";
        let h = acao(O);
        assert_eq!(
            cors_check(&h, evil, Credentials::Omit),
            Err(Failure::AllowOriginMismatch(O))
        );
        assert_eq!(
            cors_check(&h, "https://app.example.com:8443", Credentials::Include),
            Err(Failure::AllowOriginMismatch(O))
        );
        let h = acao(evil);
        assert_eq!(
            cors_check(&h, O, Credentials::Omit),
            Err(Failure::AllowOriginMismatch(evil))
        );
        // The equal origin still passes.
        assert_eq!(cors_check(&acao(evil), evil, Credentials::Omit), Ok(()));
    }

    /// The header's grammar (Fetch §3.3.3) is `Access-Control-Allow-Origin =
    /// origin-or-null / wildcard`: one serialised origin, which never contains a space or
    /// a comma. Chromium (`cors.cc`, `CheckAccess`) reports a value containing either as
    /// "contains multiple values ..., but only one is allowed" (kMultipleAllowOriginValues),
    /// not as a mismatch; so a space-separated list is a multiple-values failure that
    /// quotes the whole value.
    #[test]
    fn space_separated_allow_origin_is_multiple_values() {
        let v = "https://a.example https://b.example";
        let h = acao(v);
        assert_eq!(
            cors_check(&h, "https://a.example", Credentials::Omit),
            Err(Failure::MultipleAllowOrigin(Cow::Borrowed(v)))
        );
        assert_eq!(
            cors_check(&h, O, Credentials::Omit).map_err(|f| f.reason()),
            Err(crate::browser::Reason::MultipleAllowOrigin)
        );
        // A comma alone is also several values.
        let v = "https://a.example,https://b.example";
        assert_eq!(
            cors_check(&acao(v), O, Credentials::Omit),
            Err(Failure::MultipleAllowOrigin(Cow::Borrowed(v)))
        );
    }

    /// `null` is an allowed value (`origin-or-null`): the serialisation of an opaque
    /// origin is `null` (HTML "serialization of an origin"), so ACAO `null` matches a
    /// `null` origin, and for any other origin it is a mismatch (Chromium: "has a value
    /// 'null' that is not equal to the supplied origin"), not an invalid value.
    #[test]
    fn null_allow_origin_is_a_mismatch_not_invalid() {
        assert_eq!(cors_check(&acao("null"), "null", Credentials::Omit), Ok(()));
        assert_eq!(
            cors_check(&acao("null"), O, Credentials::Omit),
            Err(Failure::AllowOriginMismatch("null"))
        );
        // A value that is neither `null`, `*` nor a URL is reported as invalid.
        assert_eq!(
            cors_check(&acao("nul"), O, Credentials::Omit),
            Err(Failure::InvalidAllowOrigin("nul"))
        );
    }

    /// Fetch §3.2.5 steps 6–7: "Let credentials be the result of getting
    /// `Access-Control-Allow-Credentials` ... If credentials is `true`, then return
    /// success." Anything else, and absence, fail with the value quoted; with credentials
    /// not "include" (step 5) the header is not consulted.
    #[test]
    fn allow_credentials_value_is_reported() {
        let h = Headers::from_pairs([
            ("access-control-allow-origin", O),
            ("access-control-allow-credentials", "yes"),
        ]);
        assert_eq!(
            cors_check(&h, O, Credentials::Include),
            Err(Failure::InvalidAllowCredentials(Cow::Borrowed("yes")))
        );
        assert_eq!(cors_check(&h, O, Credentials::SameOrigin), Ok(()));
        let two = Headers::from_pairs([
            ("access-control-allow-origin", O),
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-credentials", "true"),
        ]);
        assert_eq!(
            cors_check(&two, O, Credentials::Include),
            Err(Failure::InvalidAllowCredentials(Cow::Owned(
                "true, true".to_owned()
            )))
        );
    }

    /// A field value has no leading or trailing whitespace (RFC 9110 §5.5; Fetch §2.2
    /// "normalize"): Chromium passes `ACAO: <origin><TAB>`, `ACAO:  <origin> ` and
    /// `ACAC: true ` (Chromium cases d68, d69, d74); inner whitespace still counts.
    #[test]
    fn surrounding_whitespace_is_not_part_of_the_value() {
        for v in [format!("{O}\t"), format!(" {O} "), format!("\t{O}")] {
            assert_eq!(cors_check(&acao(&v), O, Credentials::Omit), Ok(()), "{v:?}");
        }
        for c in ["true ", "true\t", " true"] {
            let hs = Headers::from_pairs([
                ("access-control-allow-origin", O),
                ("access-control-allow-credentials", c),
            ]);
            assert_eq!(cors_check(&hs, O, Credentials::Include), Ok(()), "{c:?}");
        }
        let two = Headers::from_pairs([
            ("access-control-allow-credentials", "true "),
            ("access-control-allow-credentials", " true"),
        ]);
        assert_eq!(
            single_or_combined(&two, "access-control-allow-credentials").as_deref(),
            Some("true, true")
        );
        let inner = format!("{O} x");
        assert_eq!(
            cors_check(&acao(&inner), O, Credentials::Omit),
            Err(Failure::MultipleAllowOrigin(Cow::Borrowed(inner.as_str())))
        );
    }

    /// OWS trimmed by bytes is the trim by `char`: SP and HTAB at either end only, not
    /// CR or LF, nothing inside, non-ASCII text kept whole.
    #[test]
    fn trim_ows_trims_sp_and_htab_at_the_ends() {
        for v in [
            "",
            " ",
            "\t \t",
            "https://a",
            " https://a\t",
            "\t\thttps://a  b \t",
            "\r https://a \n",
            " é\t",
            "\tñ x ñ ",
            "日本 ",
        ] {
            assert_eq!(trim_ows(v), v.trim_matches([' ', '\t']), "{v:?}");
        }
    }

    /// `single_or_combined`: Fetch "get" a header combines its values with ", " (0x2C
    /// 0x20); one field line is borrowed as is; absence is `None`.
    #[test]
    fn single_or_combined_values() {
        let h = Headers::from_pairs([("x-a", "1"), ("x-b", "2"), ("x-b", "3")]);
        assert_eq!(single_or_combined(&h, "x-a"), Some(Cow::Borrowed("1")));
        assert_eq!(
            single_or_combined(&h, "x-b"),
            Some(Cow::Owned("2, 3".to_owned()))
        );
        assert_eq!(single_or_combined(&h, "x-c"), None);
    }

    /// The URL-validity stand-in: a scheme (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ),
    /// RFC 3986 §3.1), a colon, and for the special schemes (URL Standard) a non-empty
    /// host — except `file`, whose host may be empty.
    #[test]
    fn url_validity_rules() {
        // Non-special schemes need only a valid scheme.
        assert!(looks_like_url("a+b-c.d9:anything"));
        assert!(looks_like_url("foo:"));
        // Each scheme character class is checked.
        assert!(!looks_like_url("a_b:x"));
        assert!(!looks_like_url(":x"));
        assert!(!looks_like_url("9a:x"));
        // Special schemes need a host, matched case-insensitively.
        assert!(looks_like_url("HTTPS://x"));
        assert!(looks_like_url("ws:\\\\x"));
        assert!(!looks_like_url("wss://"));
        assert!(!looks_like_url("http://?q"));
        assert!(!looks_like_url("http:///#f"));
        // `file` may have an empty host.
        assert!(looks_like_url("file:///etc/hosts"));
        assert!(looks_like_url("FILE:"));
    }
}
