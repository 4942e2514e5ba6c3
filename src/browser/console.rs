//! The console wording of CORS failures, per engine. Chromium's sentences were written
//! from `third_party/blink/renderer/platform/loader/cors/cors_error_string.cc`
//! (`GetErrorStringForConsoleMessage`), for a request whose initiator is `fetch()`;
//! Firefox's from `dom/locales/en-US/chrome/security/security.properties` (the `CORS*`
//! keys, also quoted on MDN's "CORS errors" pages); Safari's from WebKit's
//! `Source/WebCore/loader/CrossOriginAccessControl.cpp` and
//! `CrossOriginPreflightChecker.cpp`. The reason each maps to is in
//! [`super::check::Failure::reason`].

use super::check::Failure;
use super::{Agent, Fetch};
use crate::edge::hash::{FastBuild, FastHasher};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write;
use std::hash::Hasher;

/// One console text and everything it was written from: the engine, the leg, the
/// failing status, the failure's parts ([`Failure::parts`]), the URL's three parts, the
/// URL the fetch started at and the page's origin (the address space follows from the
/// host).
struct Kept {
    agent: Agent,
    in_preflight: bool,
    status: u16,
    kind: u8,
    payload: String,
    scheme: String,
    host: String,
    target: String,
    first_url: String,
    origin: String,
    text: String,
}

impl Kept {
    fn is_for(&self, agent: Agent, f: &Fetch, failure: (u8, &str), leg: (bool, u16)) -> bool {
        self.agent == agent
            && (self.in_preflight, self.status) == leg
            && self.kind == failure.0
            && self.payload == failure.1
            && self.target == f.target
            && self.origin == f.page_origin()
            && self.host == f.host
            && self.scheme == f.scheme
            && self.first_url == f.chain.first_url
    }
}

/// Console texts kept per thread, at most this many (then it starts over): a trace
/// that fails the same ways in turn finds nothing in a memo smaller than its round
/// (`gen-scenario.py`'s traces block ~2,000 distinct requests).
const CONSOLE_MAX: usize = 8192;

thread_local! {
    /// By a hash of the texts that tell failures apart: a slot holds one, and a lookup
    /// compares everything, so two failures sharing a slot only take turns.
    static CONSOLE: RefCell<HashMap<u64, Kept, FastBuild>> = RefCell::default();
}

/// The console text `write` gives for `failure` of `f` by an `agent` browser: a trace
/// fails the same few ways over and over, and writing the sentence (a URL, an origin,
/// an engine's wording) costs several times the comparison that finds it written.
pub(crate) fn remembered(
    agent: Agent,
    f: &Fetch,
    failure: &Failure<'_>,
    in_preflight: bool,
    status: u16,
    write: impl FnOnce() -> String,
) -> String {
    let (kind, payload) = failure.parts();
    let leg = (in_preflight, status);
    let mut h = FastHasher::default();
    h.write(f.target.as_bytes());
    h.write(f.page_origin().as_bytes());
    h.write(payload.as_bytes());
    h.write_usize(
        usize::from(kind)
            | (usize::from(in_preflight) << 8)
            | ((agent as usize) << 9)
            | (usize::from(status) << 16)
            | (f.host.len() << 32)
            | (f.chain.first_url.len() << 48),
    );
    let slot = h.finish();
    let found = CONSOLE.with(|m| {
        m.borrow()
            .get(&slot)
            .filter(|k| k.is_for(agent, f, (kind, payload), leg))
            .map(|k| k.text.clone())
    });
    if let Some(text) = found {
        return text;
    }
    let text = write();
    CONSOLE.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= CONSOLE_MAX {
            m.clear();
        }
        m.insert(
            slot,
            Kept {
                agent,
                in_preflight,
                status,
                kind,
                payload: payload.to_string(),
                scheme: f.scheme.clone(),
                host: f.host.clone(),
                target: f.target.clone(),
                first_url: f.chain.first_url.clone(),
                origin: f.page_origin().to_string(),
                text: text.clone(),
            },
        );
    });
    text
}

/// Where a failure happened, for the message.
pub(crate) struct Ctx<'a> {
    /// The URL of the failing request (the last hop after redirects).
    pub url: &'a str,
    /// The URL the fetch started at, when it was redirected.
    pub redirected_from: Option<&'a str>,
    /// The page's origin (Chromium prints it even after a redirect tainted the request's
    /// origin to `null`; measured).
    pub origin: &'a str,
    /// The failing response's status (0 when nothing was received).
    pub status: u16,
    /// PNA address space name.
    pub address_space: &'a str,
}

/// The console text `agent` prints for `failure`.
pub(crate) fn for_engine(
    agent: Agent,
    c: &Ctx<'_>,
    failure: &Failure<'_>,
    on_preflight: bool,
) -> String {
    match failure {
        // Not CORS failures: the page gets a TypeError and Chromium logs no CORS line.
        // The verdict carries the TypeError text (measured on Chromium 156; Firefox and
        // Safari word their TypeErrors differently, their messages follow).
        Failure::NoCorsMethod(m) => match agent {
            Agent::Firefox => format!("TypeError: Window.fetch: Method must be GET, POST or HEAD with no-cors mode ('{m}' given)."),
            Agent::Safari => "TypeError: Method must be GET, POST or HEAD with no-cors mode".to_string(),
            _ => format!("TypeError: Failed to execute 'fetch' on 'Window': '{m}' is unsupported in no-cors mode."),
        },
        Failure::RedirectModeError | Failure::TooManyRedirects | Failure::RedirectNotHttp => {
            network_error(agent)
        }
        // Chromium reports it as a CORS error (`RedirectContainsCredentials`) with a
        // console line (measured on Chromium 156, case w09). Firefox's CORS listener
        // refuses such a redirect without logging a CORS reason (`NS_ERROR_DOM_BAD_URI`
        // from `nsCORSListenerProxy::UpdateChannel`): the page's TypeError is all there
        // is. Safari's wording is not known: its network-error TypeError.
        Failure::RedirectContainsCredentials => match agent {
            Agent::Firefox | Agent::Safari => network_error(agent),
            _ => chromium(c, failure, on_preflight),
        },
        _ => match agent {
            Agent::Firefox => firefox(c, failure),
            Agent::Safari => safari(c, failure, on_preflight),
            _ => chromium(c, failure, on_preflight),
        },
    }
}

/// The TypeError a fetch() rejects with on a network error, per engine.
fn network_error(agent: Agent) -> String {
    match agent {
        Agent::Firefox => "TypeError: NetworkError when attempting to fetch resource.".to_string(),
        Agent::Safari => "TypeError: Load failed".to_string(),
        _ => "TypeError: Failed to fetch".to_string(),
    }
}

fn chromium(c: &Ctx<'_>, failure: &Failure<'_>, on_preflight: bool) -> String {
    match c.redirected_from {
        None => message(c.url, c.origin, failure, on_preflight, c.address_space),
        // cors_error_string.cc: "Access to fetch at '<url>' (redirected from '<first
        // url>') from origin …" (measured on a failure at the second hop).
        Some(first) => {
            let plain = message(c.url, c.origin, failure, on_preflight, c.address_space);
            let at = format!("Access to fetch at '{}'", c.url);
            plain.replacen(&at, &format!("{at} (redirected from '{first}')"), 1)
        }
    }
}

/// Firefox: "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the
/// remote resource at <url>. (Reason: …)." (security.properties `CORS*`).
fn firefox(c: &Ctx<'_>, failure: &Failure<'_>) -> String {
    let reason = match failure {
        Failure::MissingAllowOrigin => format!(
            "CORS header \u{2018}Access-Control-Allow-Origin\u{2019} missing). Status code: {}.",
            c.status
        ),
        Failure::MultipleAllowOrigin(_) => {
            "Multiple CORS header \u{2018}Access-Control-Allow-Origin\u{2019} not allowed).".to_string()
        }
        Failure::InvalidAllowOrigin(_) | Failure::AllowOriginMismatch(_) => format!(
            "CORS header \u{2018}Access-Control-Allow-Origin\u{2019} does not match \u{2018}{}\u{2019}).",
            match failure {
                Failure::InvalidAllowOrigin(v) | Failure::AllowOriginMismatch(v) => v,
                _ => "",
            }
        ),
        Failure::WildcardWithCredentials => "Credential is not supported if the CORS header \u{2018}Access-Control-Allow-Origin\u{2019} is \u{2018}*\u{2019}).".to_string(),
        Failure::InvalidAllowCredentials(_) => "expected \u{2018}true\u{2019} in CORS header \u{2018}Access-Control-Allow-Credentials\u{2019}).".to_string(),
        Failure::PreflightBadStatus | Failure::PreflightRedirect => format!(
            "CORS preflight response did not succeed). Status code: {}.",
            c.status
        ),
        Failure::InvalidAllowMethods => "invalid token in CORS header \u{2018}Access-Control-Allow-Methods\u{2019}).".to_string(),
        Failure::InvalidAllowHeaders => "invalid token in CORS header \u{2018}Access-Control-Allow-Headers\u{2019}).".to_string(),
        Failure::MethodNotAllowed(_) => "Did not find method in CORS header \u{2018}Access-Control-Allow-Methods\u{2019}).".to_string(),
        Failure::HeaderNotAllowed(h) => format!(
            "header \u{2018}{h}\u{2019} is not allowed according to header \u{2018}Access-Control-Allow-Headers\u{2019} from CORS preflight response)."
        ),
        Failure::MissingAllowPrivateNetwork | Failure::InvalidAllowPrivateNetwork(_) => {
            "CORS request did not succeed).".to_string()
        }
        Failure::NoCorsMethod(_)
        | Failure::RedirectModeError
        | Failure::TooManyRedirects
        | Failure::RedirectContainsCredentials
        | Failure::RedirectNotHttp => String::new(),
    };
    format!(
        "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at {}. (Reason: {reason}",
        c.url
    )
}

/// Safari: the reason line, then "Fetch API cannot load <url> due to access control
/// checks." (WebKit `CrossOriginAccessControl.cpp`, `passesAccessControlCheck`, and
/// `DocumentThreadableLoader`).
fn safari(c: &Ctx<'_>, failure: &Failure<'_>, on_preflight: bool) -> String {
    let reason = match failure {
        Failure::MissingAllowOrigin
        | Failure::InvalidAllowOrigin(_)
        | Failure::AllowOriginMismatch(_) => format!(
            "Origin {} is not allowed by Access-Control-Allow-Origin. Status code: {}",
            c.origin, c.status
        ),
        Failure::MultipleAllowOrigin(_) => {
            "Access-Control-Allow-Origin cannot contain more than one origin.".to_string()
        }
        Failure::WildcardWithCredentials => {
            "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true."
                .to_string()
        }
        Failure::InvalidAllowCredentials(_) => {
            "Credentials flag is true, but Access-Control-Allow-Credentials is not \"true\"."
                .to_string()
        }
        Failure::PreflightBadStatus => {
            format!(
                "Preflight response is not successful. Status code: {}",
                c.status
            )
        }
        Failure::PreflightRedirect => {
            "Preflight response is not successful. Redirections are not allowed.".to_string()
        }
        Failure::InvalidAllowMethods | Failure::MethodNotAllowed(_) => format!(
            "Method {} is not allowed by Access-Control-Allow-Methods.",
            match failure {
                Failure::MethodNotAllowed(m) => m,
                _ => "",
            }
        ),
        Failure::InvalidAllowHeaders | Failure::HeaderNotAllowed(_) => format!(
            "Request header field {} is not allowed by Access-Control-Allow-Headers.",
            match failure {
                Failure::HeaderNotAllowed(h) => h,
                _ => "",
            }
        ),
        Failure::MissingAllowPrivateNetwork | Failure::InvalidAllowPrivateNetwork(_) => {
            "Private network access is not allowed.".to_string()
        }
        Failure::NoCorsMethod(_)
        | Failure::RedirectModeError
        | Failure::TooManyRedirects
        | Failure::RedirectContainsCredentials
        | Failure::RedirectNotHttp => String::new(),
    };
    let _ = on_preflight;
    format!(
        "{reason}\nFetch API cannot load {} due to access control checks.",
        c.url
    )
}

/// Built only for failures, so an allowed response never allocates a console string.
///
/// `url` is the request URL, `origin` the page's serialised origin, `on_preflight`
/// whether the failing response was a preflight's, `address_space` the PNA target
/// address space name (`private` or `local`).
pub(crate) fn message(
    url: &str,
    origin: &str,
    failure: &Failure<'_>,
    on_preflight: bool,
    address_space: &str,
) -> String {
    let mut s = String::with_capacity(256 + url.len() + origin.len());
    // cors_error_string.cc: the common prefix, "Access to <kind> at '<url>' from origin
    // '<origin>' has been blocked by CORS policy: " (kind is "fetch" for fetch()).
    let _ = write!(
        s,
        "Access to fetch at '{url}' from origin '{origin}' has been blocked by CORS policy: "
    );
    // cors_error_string.cc IsPreflightError(): CORS-check failures on a preflight, and
    // the preflight status and PNA failures, get this clause; method/header ones do not.
    let preflight_clause = match failure {
        Failure::PreflightBadStatus
        | Failure::PreflightRedirect
        | Failure::MissingAllowPrivateNetwork
        | Failure::InvalidAllowPrivateNetwork(_) => true,
        Failure::MissingAllowOrigin
        | Failure::MultipleAllowOrigin(_)
        | Failure::InvalidAllowOrigin(_)
        | Failure::AllowOriginMismatch(_)
        | Failure::WildcardWithCredentials
        | Failure::InvalidAllowCredentials(_) => on_preflight,
        Failure::InvalidAllowMethods
        | Failure::InvalidAllowHeaders
        | Failure::MethodNotAllowed(_)
        | Failure::HeaderNotAllowed(_)
        | Failure::NoCorsMethod(_)
        | Failure::RedirectModeError
        | Failure::TooManyRedirects
        | Failure::RedirectContainsCredentials
        | Failure::RedirectNotHttp => false,
    };
    if preflight_clause {
        s.push_str(PREFLIGHT_CLAUSE);
    }
    body(&mut s, failure, address_space);
    s
}

/// cors_error_string.cc, IsPreflightError(): inserted before the CORS-check sentence
/// when the failing response was a preflight.
pub(crate) const PREFLIGHT_CLAUSE: &str =
    "Response to preflight request doesn't pass access control check: ";

/// Appended after the multiple/invalid/mismatch ACAO sentences. Chromium 156 prints only
/// this sentence; the older "…, or, if an opaque response serves your needs, set the
/// request's mode to 'no-cors' …" hint is gone (observed by `tests/chromium.rs`, cases
/// d03–d07).
const HAVE_THE_SERVER_SEND: &str = " Have the server send the header with a valid value.";

fn body(s: &mut String, failure: &Failure<'_>, address_space: &str) {
    match failure {
        // cors_error_string.cc, kMissingAllowOriginHeader. Chromium 156 no longer adds
        // the no-cors hint after it (observed by `tests/chromium.rs`, cases d01, d02, d14).
        Failure::MissingAllowOrigin => s.push_str(
            "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
        ),
        // cors_error_string.cc, kMultipleAllowOriginValues.
        Failure::MultipleAllowOrigin(v) => {
            s.push_str("The 'Access-Control-Allow-Origin' header contains multiple values '");
            hint(s, v);
            s.push_str("', but only one is allowed.");
            s.push_str(HAVE_THE_SERVER_SEND);
        }
        // cors_error_string.cc, kInvalidAllowOriginValue.
        Failure::InvalidAllowOrigin(v) => {
            s.push_str("The 'Access-Control-Allow-Origin' header contains the invalid value '");
            hint(s, v);
            s.push_str("'.");
            s.push_str(HAVE_THE_SERVER_SEND);
        }
        // cors_error_string.cc, kAllowOriginMismatch.
        Failure::AllowOriginMismatch(v) => {
            s.push_str("The 'Access-Control-Allow-Origin' header has a value '");
            hint(s, v);
            s.push_str("' that is not equal to the supplied origin.");
            s.push_str(HAVE_THE_SERVER_SEND);
        }
        // cors_error_string.cc, kWildcardOriginNotAllowed.
        Failure::WildcardWithCredentials => s.push_str(
            "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.",
        ),
        // cors_error_string.cc, kInvalidAllowCredentials.
        Failure::InvalidAllowCredentials(v) => {
            s.push_str(
                "The value of the 'Access-Control-Allow-Credentials' header in the response is '",
            );
            hint(s, v);
            s.push_str("' which must be 'true' when the request's credentials mode is 'include'.");
        }
        // cors_error_string.cc, kPreflightDisallowedRedirect (measured on Chromium 156).
        Failure::PreflightRedirect => s.push_str("Redirect is not allowed for a preflight request."),
        // cors_error_string.cc, kRedirectContainsCredentials: the sentence quotes the
        // error's failed parameter, which Chromium 156 leaves empty here (measured, case
        // w09: "Redirect location ''").
        Failure::RedirectContainsCredentials => s.push_str(
            "Redirect location '' contains a username and password, which is disallowed for cross-origin requests.",
        ),
        // Not CORS errors (see for_engine).
        Failure::NoCorsMethod(_)
        | Failure::RedirectModeError
        | Failure::TooManyRedirects
        | Failure::RedirectNotHttp => {}
        // cors_error_string.cc, kPreflightInvalidStatus.
        Failure::PreflightBadStatus => s.push_str("It does not have HTTP ok status."),
        // cors_error_string.cc, kInvalidAllowMethodsPreflightResponse.
        Failure::InvalidAllowMethods => s.push_str(
            "Cannot parse Access-Control-Allow-Methods response header field in preflight response.",
        ),
        // cors_error_string.cc, kInvalidAllowHeadersPreflightResponse.
        Failure::InvalidAllowHeaders => s.push_str(
            "Cannot parse Access-Control-Allow-Headers response header field in preflight response.",
        ),
        // cors_error_string.cc, kMethodDisallowedByPreflightResponse.
        Failure::MethodNotAllowed(m) => {
            s.push_str("Method ");
            hint(s, m);
            s.push_str(" is not allowed by Access-Control-Allow-Methods in preflight response.");
        }
        // cors_error_string.cc, kHeaderDisallowedByPreflightResponse.
        Failure::HeaderNotAllowed(n) => {
            s.push_str("Request header field ");
            hint(s, n);
            s.push_str(" is not allowed by Access-Control-Allow-Headers in preflight response.");
        }
        // cors_error_string.cc, kPreflightMissingAllowPrivateNetwork.
        Failure::MissingAllowPrivateNetwork => {
            let _ = write!(
                s,
                "No 'Access-Control-Allow-Private-Network' header was present in the preflight response for this private network request targeting the `{address_space}` address space."
            );
        }
        // cors_error_string.cc, kPreflightInvalidAllowPrivateNetwork (the double space
        // before "not" is Chromium's).
        Failure::InvalidAllowPrivateNetwork(v) => {
            let _ = write!(
                s,
                "The 'Access-Control-Allow-Private-Network' header in the preflight response for this private network request targeting the `{address_space}` address space had a value of '"
            );
            hint(s, v);
            s.push_str("',  not 'true'.");
        }
    }
}

/// cors_error_string.cc `EncodeHint`: printable ASCII as is, anything else as `\uXXXX`
/// (UTF-16 code units).
fn hint(s: &mut String, v: &str) {
    for c in v.chars() {
        if (' '..='~').contains(&c) {
            s.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                let _ = write!(s, "\\u{:04X}", unit);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    const URL: &str = "https://api.example.com/data";
    const O: &str = "https://app.example.com";

    #[test]
    fn prefix_and_missing() {
        let m = message(URL, O, &Failure::MissingAllowOrigin, false, "private");
        assert_eq!(
            m,
            "Access to fetch at 'https://api.example.com/data' from origin 'https://app.example.com' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource."
        );
    }

    #[test]
    fn preflight_clause_only_for_preflight_check_failures() {
        let m = message(
            URL,
            O,
            &Failure::AllowOriginMismatch("https://x"),
            true,
            "private",
        );
        assert!(m.contains(": Response to preflight request doesn't pass access control check: The 'Access-Control-Allow-Origin' header has a value 'https://x' that is not equal to the supplied origin."));
        let m = message(URL, O, &Failure::MethodNotAllowed("PUT"), true, "private");
        assert!(!m.contains(PREFLIGHT_CLAUSE));
        assert!(m.ends_with(
            "Method PUT is not allowed by Access-Control-Allow-Methods in preflight response."
        ));
        let m = message(URL, O, &Failure::PreflightBadStatus, true, "private");
        assert!(m.ends_with("Response to preflight request doesn't pass access control check: It does not have HTTP ok status."));
    }

    #[test]
    fn hints_are_escaped() {
        let m = message(
            URL,
            O,
            &Failure::InvalidAllowCredentials(Cow::Borrowed("tr\u{e9}")),
            false,
            "private",
        );
        assert!(m.contains("is 'tr\\u00E9' which must be 'true'"));
        let m = message(
            URL,
            O,
            &Failure::HeaderNotAllowed("x-custom"),
            true,
            "private",
        );
        assert!(m.ends_with("Request header field x-custom is not allowed by Access-Control-Allow-Headers in preflight response."));
    }

    fn ctx<'a>(redirected_from: Option<&'a str>) -> Ctx<'a> {
        Ctx {
            url: URL,
            redirected_from,
            origin: O,
            status: 200,
            address_space: "private",
        }
    }

    #[test]
    fn firefox_wording() {
        let m = for_engine(
            Agent::Firefox,
            &ctx(None),
            &Failure::MissingAllowOrigin,
            false,
        );
        assert_eq!(m, "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://api.example.com/data. (Reason: CORS header \u{2018}Access-Control-Allow-Origin\u{2019} missing). Status code: 200.");
        let m = for_engine(
            Agent::Firefox,
            &ctx(None),
            &Failure::MethodNotAllowed("PUT"),
            true,
        );
        assert!(m.ends_with("(Reason: Did not find method in CORS header \u{2018}Access-Control-Allow-Methods\u{2019})."), "{m}");
    }

    #[test]
    fn safari_wording() {
        let m = for_engine(
            Agent::Safari,
            &ctx(None),
            &Failure::AllowOriginMismatch("https://x"),
            false,
        );
        assert_eq!(m, "Origin https://app.example.com is not allowed by Access-Control-Allow-Origin. Status code: 200\nFetch API cannot load https://api.example.com/data due to access control checks.");
    }

    /// Fetch `new Request()` step 30.1 and the redirect-mode / redirect-count network
    /// errors reject the promise with a TypeError, and each engine words it its own way:
    /// Firefox names `Window.fetch` and the method, Safari says "Load failed" for a
    /// network error, Chromium "Failed to fetch" (measured, case d117).
    #[test]
    fn type_errors_are_worded_per_engine() {
        let f = |a| for_engine(a, &ctx(None), &Failure::NoCorsMethod("PUT"), false);
        assert_eq!(f(Agent::Firefox), "TypeError: Window.fetch: Method must be GET, POST or HEAD with no-cors mode ('PUT' given).");
        assert_eq!(
            f(Agent::Safari),
            "TypeError: Method must be GET, POST or HEAD with no-cors mode"
        );
        assert_eq!(f(Agent::Chrome), "TypeError: Failed to execute 'fetch' on 'Window': 'PUT' is unsupported in no-cors mode.");
        for failure in [
            Failure::RedirectModeError,
            Failure::TooManyRedirects,
            Failure::RedirectNotHttp,
        ] {
            let r = |a| for_engine(a, &ctx(None), &failure, false);
            assert_eq!(
                r(Agent::Firefox),
                "TypeError: NetworkError when attempting to fetch resource."
            );
            assert_eq!(r(Agent::Safari), "TypeError: Load failed");
            assert_eq!(r(Agent::Chrome), "TypeError: Failed to fetch");
        }
    }

    /// A redirect to a URL with credentials is a CORS error in Chromium (its console
    /// line quotes an empty location, measured: case w09) and a bare network error in
    /// the others.
    #[test]
    fn redirect_with_credentials_is_worded_per_engine() {
        let failure = Failure::RedirectContainsCredentials;
        let r = |a| for_engine(a, &ctx(None), &failure, false);
        assert_eq!(r(Agent::Chrome), "Access to fetch at 'https://api.example.com/data' from origin 'https://app.example.com' has been blocked by CORS policy: Redirect location '' contains a username and password, which is disallowed for cross-origin requests.");
        assert_eq!(
            r(Agent::Firefox),
            "TypeError: NetworkError when attempting to fetch resource."
        );
        assert_eq!(r(Agent::Safari), "TypeError: Load failed");
    }

    #[test]
    fn chromium_names_the_first_url_after_a_redirect() {
        let m = for_engine(
            Agent::Chrome,
            &ctx(Some("https://api.example.com/old")),
            &Failure::MissingAllowOrigin,
            false,
        );
        assert!(m.starts_with("Access to fetch at 'https://api.example.com/data' (redirected from 'https://api.example.com/old') from origin 'https://app.example.com' has been blocked"), "{m}");
        let m = for_engine(Agent::Chrome, &ctx(None), &Failure::PreflightRedirect, true);
        assert!(m.ends_with("Response to preflight request doesn't pass access control check: Redirect is not allowed for a preflight request."), "{m}");
        let m = for_engine(
            Agent::Chrome,
            &ctx(None),
            &Failure::NoCorsMethod("PUT"),
            false,
        );
        assert_eq!(m, "TypeError: Failed to execute 'fetch' on 'Window': 'PUT' is unsupported in no-cors mode.");
    }

    fn fetch() -> Fetch {
        Fetch {
            agent: Agent::Chrome,
            origin: O.into(),
            method: "GET".into(),
            scheme: "https".into(),
            host: "api.example.com".into(),
            target: "/data".into(),
            ..Fetch::empty()
        }
    }

    /// A text asked for again is the kept one (`write` is not asked), for two texts
    /// kept side by side; one input changed in any part is written afresh.
    #[test]
    fn a_kept_text_is_found_again_and_only_for_its_inputs() {
        let (f, fail) = (fetch(), Failure::AllowOriginMismatch("https://x"));
        let ask = |a: Agent, f: &Fetch, x: &Failure<'_>, leg: bool, status: u16, text: &str| {
            remembered(a, f, x, leg, status, || text.to_string())
        };
        assert_eq!(ask(Agent::Chrome, &f, &fail, false, 200, "first"), "first");
        let other = Failure::MissingAllowOrigin;
        assert_eq!(ask(Agent::Chrome, &f, &other, false, 200, "other"), "other");
        assert_eq!(ask(Agent::Chrome, &f, &fail, false, 200, "again"), "first");
        assert_eq!(ask(Agent::Chrome, &f, &other, false, 200, "again"), "other");
        type Change = fn(&mut Fetch);
        let changed: [(&str, Change); 6] = [
            ("scheme", |f| f.scheme = "http".into()),
            ("host", |f| f.host = "apx.example.com".into()),
            ("target", |f| f.target = "/datb".into()),
            ("origin", |f| f.origin = "https://apq.example.com".into()),
            ("page origin", |f| f.chain.page_origin = "null".into()),
            ("first URL", |f| f.chain.first_url = "https://a/".into()),
        ];
        for (what, change) in changed {
            let mut g = fetch();
            change(&mut g);
            assert_eq!(ask(Agent::Chrome, &g, &fail, false, 200, what), what);
        }
        let y = Failure::AllowOriginMismatch("https://y");
        assert_eq!(ask(Agent::Chrome, &f, &y, false, 200, "value"), "value");
        assert_eq!(ask(Agent::Firefox, &f, &fail, false, 200, "agent"), "agent");
        assert_eq!(ask(Agent::Chrome, &f, &fail, true, 200, "leg"), "leg");
        assert_eq!(
            ask(Agent::Chrome, &f, &fail, false, 403, "status"),
            "status"
        );
        // (the changed fetches that share the first one's slot took it over)
        assert_eq!(ask(Agent::Chrome, &f, &fail, false, 403, "again"), "status");
    }
}
