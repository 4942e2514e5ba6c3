//! CORS answered by the edge itself: a CloudFront response headers policy's `CorsConfig`.
//! The edge adds the CORS fields to every response it sends a viewer, computed from that
//! viewer's own request, after the cache: so a stored response never carries another
//! caller's `Access-Control-Allow-Origin` when the policy overrides the origin's.
//!
//! "Origin override: a Boolean that determines how CloudFront behaves when the response
//! from the origin contains one of the CORS headers that's also in the policy" — `true`:
//! the policy's value is used; `false`: the origin's value is kept
//! (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-response-headers-policies.html>).

use crate::fields::Headers;
use serde::Serialize;

/// A regular expression an `Origin` is matched against, as an edge configuration writes
/// it (nginx `map $http_origin … { ~^https://… $http_origin; }`, VCL
/// `req.http.Origin ~ "…"`): unanchored unless it says `^`/`$`, case-sensitive unless it
/// starts with `(?i)`. Compared and shown by its text.
#[derive(Clone, Debug)]
pub struct OriginPattern {
    text: String,
    re: regex_lite::Regex,
}

impl OriginPattern {
    /// The pattern `text`, or why it is not a regular expression.
    pub fn new(text: &str) -> Result<OriginPattern, String> {
        regex_lite::Regex::new(text)
            .map(|re| OriginPattern {
                text: text.to_string(),
                re,
            })
            .map_err(|e| e.to_string())
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether it matches somewhere in `origin`.
    pub fn matches(&self, origin: &str) -> bool {
        self.re.is_match(origin)
    }
}

impl PartialEq for OriginPattern {
    fn eq(&self, other: &OriginPattern) -> bool {
        self.text == other.text
    }
}

impl Eq for OriginPattern {}

impl Serialize for OriginPattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// The CORS fields an edge adds to its responses. The default adds nothing: no origin is
/// listed, nothing is overridden.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EdgeCors {
    /// Allowed origins (exact serialisations), or `["*"]` for any.
    pub allow_origins: Vec<String>,
    /// Origins allowed besides `allow_origins`: those one of these matches (the value
    /// sent is the viewer's own `Origin`).
    pub allow_origin_patterns: Vec<OriginPattern>,
    /// `Access-Control-Allow-Methods` values (`ALL` allowed, as CloudFront spells it).
    pub allow_methods: Vec<String>,
    /// `Access-Control-Allow-Headers` values (`*` allowed).
    pub allow_headers: Vec<String>,
    /// `Access-Control-Expose-Headers` values.
    pub expose_headers: Vec<String>,
    /// `Access-Control-Allow-Credentials: true`.
    pub allow_credentials: bool,
    /// `Access-Control-Max-Age` in seconds, for preflight responses.
    pub max_age: Option<u64>,
    /// The policy's value replaces the origin's (`OriginOverride`).
    pub origin_override: bool,
    /// The origin's `Access-Control-Allow-Origin` is removed from every response, whoever
    /// asks (nginx `proxy_hide_header Access-Control-Allow-Origin`): a viewer the policy
    /// does not allow gets none, rather than the stored one.
    pub hide_origin_acao: bool,
}

const ACAO: &str = "access-control-allow-origin";

impl EdgeCors {
    /// The value of `Access-Control-Allow-Origin` for a request from `origin`, if allowed.
    fn allow_origin(&self, origin: &str) -> Option<String> {
        if self.allow_origins.iter().any(|o| o == "*") {
            return Some(if self.allow_credentials {
                origin.to_string()
            } else {
                "*".to_string()
            });
        }
        (self.allow_origins.iter().any(|o| o == origin)
            || self.allow_origin_patterns.iter().any(|p| p.matches(origin)))
        .then(|| origin.to_string())
    }

    /// Rewrites `resp` (the response headers going to the viewer) for a request with
    /// `method`, `origin` and `Access-Control-Request-Method` `acrm`. Returns whether
    /// anything changed. Requests without `Origin` are left alone (not CORS).
    pub fn apply(
        &self,
        method: &str,
        origin: Option<&str>,
        acrm: Option<&str>,
        resp: &mut Headers,
    ) -> bool {
        let hidden = self.hide_origin_acao && resp.contains(ACAO);
        if hidden {
            resp.remove(ACAO);
        }
        let Some(origin) = origin else {
            return hidden;
        };
        let Some(value) = self.allow_origin(origin) else {
            return hidden;
        };
        let mut set = |name: &str, v: String| {
            if self.origin_override || !resp.contains(name) {
                resp.insert(name, &v);
            }
        };
        set(ACAO, value.clone());
        if self.allow_credentials {
            set("access-control-allow-credentials", "true".into());
        }
        if !self.expose_headers.is_empty() {
            set(
                "access-control-expose-headers",
                self.expose_headers.join(", "),
            );
        }
        if method == "OPTIONS" && acrm.is_some() {
            // a policy without methods (nginx adding only Access-Control-Allow-Origin)
            // leaves the origin's field as it is
            if !self.allow_methods.is_empty() {
                let methods = if self.allow_methods.iter().any(|m| m == "ALL") {
                    "GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE".to_string()
                } else {
                    self.allow_methods.join(", ")
                };
                set("access-control-allow-methods", methods);
            }
            if !self.allow_headers.is_empty() {
                set(
                    "access-control-allow-headers",
                    self.allow_headers.join(", "),
                );
            }
            if let Some(m) = self.max_age {
                set("access-control-max-age", m.to_string());
            }
        }
        if value != "*" && (self.origin_override || resp.get(ACAO) == Some(value.as_str())) {
            // the answer now depends on Origin: say so to any cache downstream
            if !resp
                .list("vary")
                .iter()
                .any(|v| v.eq_ignore_ascii_case("origin"))
            {
                resp.append("vary", "Origin");
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(over: bool) -> EdgeCors {
        EdgeCors {
            allow_origins: vec!["https://a".into(), "https://b".into()],
            allow_origin_patterns: Vec::new(),
            allow_methods: vec!["GET".into(), "PUT".into()],
            allow_headers: vec!["content-type".into()],
            expose_headers: vec![],
            allow_credentials: false,
            max_age: Some(600),
            origin_override: over,
            hide_origin_acao: false,
        }
    }

    #[test]
    fn a_hidden_origin_value_reaches_no_viewer_the_policy_refuses() {
        let mut c = cfg(true);
        c.hide_origin_acao = true;
        let mut h = Headers::from_pairs([(ACAO, "https://a"), ("x-other", "1")]);
        assert!(c.apply("GET", Some("https://evil"), None, &mut h));
        assert_eq!(h.get(ACAO), None);
        assert_eq!(h.get("x-other"), Some("1"));
        let mut h = Headers::from_pairs([(ACAO, "https://a")]);
        assert!(c.apply("GET", None, None, &mut h));
        assert!(!h.contains(ACAO));
        // nothing to hide, nobody allowed: nothing changed
        assert!(!c.apply("GET", Some("https://evil"), None, &mut Headers::new()));
        // an allowed viewer gets its own
        let mut h = Headers::from_pairs([(ACAO, "https://a")]);
        assert!(c.apply("GET", Some("https://b"), None, &mut h));
        assert_eq!(h.get(ACAO), Some("https://b"));
        // without hiding, the stored value stays for a refused viewer
        let mut h = Headers::from_pairs([(ACAO, "https://a")]);
        assert!(!cfg(true).apply("GET", Some("https://evil"), None, &mut h));
        assert_eq!(h.get(ACAO), Some("https://a"));
    }

    #[test]
    fn override_replaces_a_stored_foreign_value() {
        let mut h = Headers::from_pairs([(ACAO, "https://a")]);
        assert!(cfg(true).apply("GET", Some("https://b"), None, &mut h));
        assert_eq!(h.get(ACAO), Some("https://b"));
        let mut h = Headers::from_pairs([(ACAO, "https://a")]);
        cfg(false).apply("GET", Some("https://b"), None, &mut h);
        assert_eq!(h.get(ACAO), Some("https://a"));
    }

    #[test]
    fn preflight_fields_only_on_preflights_and_unlisted_origins_untouched() {
        let mut h = Headers::new();
        cfg(true).apply("OPTIONS", Some("https://a"), Some("PUT"), &mut h);
        assert_eq!(h.get("access-control-allow-methods"), Some("GET, PUT"));
        assert_eq!(h.get("access-control-max-age"), Some("600"));
        let mut h = Headers::new();
        assert!(!cfg(true).apply("GET", Some("https://evil"), None, &mut h));
        assert!(h.is_empty());
        // no methods in the policy: the origin's stay
        let mut c = cfg(true);
        c.allow_methods.clear();
        let mut h = Headers::from_pairs([("access-control-allow-methods", "PUT")]);
        c.apply("OPTIONS", Some("https://a"), Some("PUT"), &mut h);
        assert_eq!(h.get("access-control-allow-methods"), Some("PUT"));
    }

    #[test]
    fn a_pattern_allows_what_it_matches_and_answers_the_viewers_origin() {
        let mut c = cfg(true);
        c.allow_origins.clear();
        c.allow_origin_patterns =
            vec![OriginPattern::new(r"^https://(app1|app2)\.example\.com$").unwrap()];
        let mut h = Headers::from_pairs([(ACAO, "https://app1.example.com")]);
        assert!(c.apply("GET", Some("https://app2.example.com"), None, &mut h));
        assert_eq!(h.get(ACAO), Some("https://app2.example.com"));
        assert_eq!(h.get("vary"), Some("Origin"));
        for refused in [
            "https://app3.example.com",
            "https://app1.example.com.evil",
            "https://app1xexample.com",
        ] {
            let mut h = Headers::new();
            assert!(!c.apply("GET", Some(refused), None, &mut h), "{refused}");
            assert!(h.is_empty());
        }
        // unanchored, as nginx and Varnish match: anywhere in the value
        c.allow_origin_patterns = vec![OriginPattern::new(r"example\.com").unwrap()];
        let mut h = Headers::new();
        assert!(c.apply("GET", Some("https://example.com.evil"), None, &mut h));
        // case only with (?i)
        c.allow_origin_patterns = vec![OriginPattern::new("^https://APP$").unwrap()];
        assert!(!c.apply("GET", Some("https://app"), None, &mut Headers::new()));
        c.allow_origin_patterns = vec![OriginPattern::new("(?i)^https://APP$").unwrap()];
        assert!(c.apply("GET", Some("https://app"), None, &mut Headers::new()));
        assert!(OriginPattern::new("^https://(a").is_err());
        assert_eq!(OriginPattern::new("a.b").unwrap().as_str(), "a.b");
        assert_eq!(
            OriginPattern::new("a").unwrap(),
            OriginPattern::new("a").unwrap()
        );
        assert_ne!(
            OriginPattern::new("a").unwrap(),
            OriginPattern::new("b").unwrap()
        );
    }
}
