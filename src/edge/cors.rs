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

/// The CORS fields an edge adds to its responses. The default adds nothing: no origin is
/// listed, nothing is overridden.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EdgeCors {
    /// Allowed origins (exact serialisations), or `["*"]` for any.
    pub allow_origins: Vec<String>,
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
        self.allow_origins
            .iter()
            .any(|o| o == origin)
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
        let Some(origin) = origin else {
            return false;
        };
        let Some(value) = self.allow_origin(origin) else {
            return false;
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
            let methods = if self.allow_methods.iter().any(|m| m == "ALL") {
                "GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE".to_string()
            } else {
                self.allow_methods.join(", ")
            };
            set("access-control-allow-methods", methods);
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
            allow_methods: vec!["GET".into(), "PUT".into()],
            allow_headers: vec!["content-type".into()],
            expose_headers: vec![],
            allow_credentials: false,
            max_age: Some(600),
            origin_override: over,
        }
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
    }
}
