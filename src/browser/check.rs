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
        }
    }
}

/// The value of a header that must appear at most once: the single field line borrowed,
/// or several lines combined with `", "` (how both Fetch "get" and Chromium's
/// `GetNormalizedHeader` see them). `None` when absent.
pub(crate) fn single_or_combined<'a>(h: &'a Headers, name: &'a str) -> Option<Cow<'a, str>> {
    let mut lines = h.get_all(name);
    let first = lines.next()?;
    match lines.next() {
        None => Some(Cow::Borrowed(first)),
        Some(_) => h.get_combined(name).map(Cow::Owned),
    }
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
    let acao = match acao {
        Cow::Borrowed(v) if !v.contains([',', ' ']) => v,
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
