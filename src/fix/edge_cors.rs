//! The "edge answers CORS itself" candidate: the edge writes the CORS fields per viewer,
//! after the cache, replacing the origin's (the `edge_cors` knob with `origin_override`).
//! What each edge can express, and so what this candidate models:
//!
//! - CloudFront: a response headers policy `CorsConfig` — a *fixed* list of origins (or
//!   `*`), methods, headers, credentials, max-age, and `OriginOverride: true` so the
//!   policy's values replace the origin's and a cached response's
//!   (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-response-headers-policies.html>,
//!   <https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ResponseHeadersPolicyCorsConfig.html>).
//!   A reflect-anything or pattern allowlist becomes the scenario's own client origins.
//! - Varnish / Fastly: `vcl_deliver` runs on every response sent to a client, hits
//!   included, so it can set `Access-Control-Allow-Origin` from `req.http.Origin` when it
//!   is one of the listed origins
//!   (<https://varnish-cache.org/docs/trunk/users-guide/vcl-built-in-subs.html#vcl-deliver>,
//!   <https://www.fastly.com/documentation/reference/vcl/subroutines/deliver/>).
//!
//! - Cloudflare: a response header transform rule (phase `http_response_headers_transform`)
//!   whose expression matches the listed origins and which sets the field from the
//!   request's `Origin`: response header values are computed from the request's fields,
//!   on every response sent to a visitor
//!   (<https://developers.cloudflare.com/rules/transform/response-header-modification/>).

use super::paste::{change, edge_change, Change};
use crate::browser::{Agent, Credentials};
use crate::edge::cors::EdgeCors;
use crate::origin::{AllowHeaders, AllowOrigins, CorsPolicy, OriginModel};
use crate::scenario::{OriginSpec, Scenario};

/// Methods a CloudFront `CorsConfig` accepts (`ALL` aside).
const METHODS: &[&str] = &["GET", "DELETE", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// The origins the edge would allow: the policy's own list when it is one, else the
/// scenario's browser origins that every policy allows today (a fixed list, as CloudFront
/// needs; nothing new is opened).
fn origins(sc: &Scenario, m: &OriginModel) -> Vec<String> {
    if let Some(AllowOrigins::List(l)) = m.cors.as_ref().map(|p| &p.allow_origins) {
        return l.clone();
    }
    let mut out = Vec::new();
    for c in sc.clients.iter().filter(|c| c.agent != Agent::None) {
        let ok = super::policies(m).all(|p| p.allow_origins.allow(Some(&c.origin)).is_some());
        if ok && !c.origin.is_empty() {
            push_unique(&mut out, c.origin.clone());
        }
    }
    out
}

fn headers(sc: &Scenario, p: &CorsPolicy) -> Vec<String> {
    match &p.allow_headers {
        AllowHeaders::List(l) => l.clone(),
        AllowHeaders::Any => vec!["*".into()],
        AllowHeaders::Reflect => {
            let mut out = Vec::new();
            for s in &sc.steps {
                for (n, _) in s.headers.iter() {
                    push_unique(&mut out, n.to_ascii_lowercase());
                }
            }
            out
        }
    }
}

/// The edge CORS configuration equivalent to `sc`'s origin policy, if there is one to
/// copy (a modelled origin with a policy and at least one origin to list).
pub(crate) fn config(sc: &Scenario) -> Option<EdgeCors> {
    let OriginSpec::Model(m) = &sc.origin else {
        return None;
    };
    let p = m.cors.as_ref()?;
    let allow_origins = origins(sc, m);
    if allow_origins.is_empty() {
        return None;
    }
    let mut allow_methods = Vec::new();
    for q in super::policies(m) {
        for x in &q.allow_methods {
            let x = x.to_ascii_uppercase();
            if METHODS.contains(&x.as_str()) {
                push_unique(&mut allow_methods, x);
            }
        }
    }
    if allow_methods.is_empty() {
        allow_methods = vec!["GET".into(), "HEAD".into()];
    }
    let credentials = sc
        .steps
        .iter()
        .any(|s| s.credentials == Credentials::Include);
    Some(EdgeCors {
        allow_origins,
        allow_origin_patterns: Vec::new(),
        allow_methods,
        allow_headers: headers(sc, p),
        expose_headers: p.expose_headers.clone(),
        allow_credentials: p.allow_credentials && credentials,
        max_age: p.max_age,
        origin_override: true,
        hide_origin_acao: false,
    })
}

/// Whether the edge of `sc` can answer CORS itself and does not already override.
pub(crate) fn applies(sc: &Scenario) -> bool {
    let edge_can = matches!(
        super::paste::family(&sc.edge.profile),
        "cloudfront" | "varnish" | "fastly" | "cloudflare"
    );
    let already = sc
        .edge
        .knobs
        .edge_cors
        .as_ref()
        .is_some_and(|c| c.origin_override);
    edge_can && !already && config(sc).is_some()
}

/// The paste-ready changes: the edge's own configuration, then the scenario knob.
pub(crate) fn changes(sc: &Scenario) -> Vec<Change> {
    let Some(c) = config(sc) else {
        return Vec::new();
    };
    let mut v = Vec::new();
    match super::paste::family(&sc.edge.profile) {
        "cloudfront" => v.push(edge_change(
            "CloudFront response headers policy",
            "json",
            cloudfront(&c),
        )),
        "cloudflare" => v.push(edge_change(
            "Cloudflare response header transform rule",
            "json",
            cloudflare(&c),
        )),
        f @ ("varnish" | "fastly") => v.push(edge_change(
            if f == "fastly" {
                "Fastly VCL"
            } else {
                "Varnish VCL"
            },
            "vcl",
            vcl(&c, f == "fastly"),
        )),
        _ => {}
    }
    let yaml = crate::import::knob_value(
        &crate::profile::Knobs {
            edge_cors: Some(c),
            ..crate::profile::Knobs::rfc9111()
        },
        "edge_cors",
    )
    .unwrap_or_default();
    v.push(change(
        "scenario",
        "yaml",
        format!("edge:\n  edge_cors: {yaml}\n"),
    ));
    v
}

fn quantity(items: &[String]) -> serde_json::Value {
    if items.is_empty() {
        serde_json::json!({ "Quantity": 0 })
    } else {
        serde_json::json!({ "Quantity": items.len(), "Items": items })
    }
}

/// A `ResponseHeadersPolicyConfig` (the shape `aws cloudfront create-response-headers-policy
/// --response-headers-policy-config` takes). CloudFront's list is fixed: an origin not in
/// it gets no CORS fields from the edge.
fn cloudfront(c: &EdgeCors) -> String {
    let mut cors = serde_json::json!({
        "AccessControlAllowOrigins": quantity(&c.allow_origins),
        "AccessControlAllowHeaders": quantity(&c.allow_headers),
        "AccessControlAllowMethods": quantity(&c.allow_methods),
        "AccessControlAllowCredentials": c.allow_credentials,
        "OriginOverride": true,
    });
    if !c.expose_headers.is_empty() {
        cors["AccessControlExposeHeaders"] = quantity(&c.expose_headers);
    }
    if let Some(m) = c.max_age {
        cors["AccessControlMaxAgeSec"] = m.into();
    }
    let doc = serde_json::json!({ "ResponseHeadersPolicyConfig": {
        "Name": "varyedge-edge-cors",
        "Comment": "CloudFront writes the CORS fields per viewer after the cache; OriginOverride replaces the origin's (and a cached) value. Only the listed origins get them.",
        "CorsConfig": cors,
    }});
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// A ruleset for the `http_response_headers_transform` phase with one `rewrite` rule
/// (parameters: <https://developers.cloudflare.com/rules/transform/response-header-modification/reference/parameters/>).
/// The preflight fields are set on every matching response; browsers read them on
/// preflights only.
fn cloudflare(c: &EdgeCors) -> String {
    use crate::import::cloudflare_cors::{match_expression, REFLECT};
    let set = |v: String| serde_json::json!({ "operation": "set", "value": v });
    let mut h = serde_json::Map::new();
    h.insert(
        "Access-Control-Allow-Origin".into(),
        serde_json::json!({ "operation": "set", "expression": REFLECT }),
    );
    if c.allow_credentials {
        h.insert(
            "Access-Control-Allow-Credentials".into(),
            set("true".into()),
        );
    }
    for (name, l) in [
        ("Access-Control-Allow-Methods", &c.allow_methods),
        ("Access-Control-Allow-Headers", &c.allow_headers),
        ("Access-Control-Expose-Headers", &c.expose_headers),
    ] {
        if !l.is_empty() {
            h.insert(name.into(), set(l.join(", ")));
        }
    }
    if let Some(m) = c.max_age {
        h.insert("Access-Control-Max-Age".into(), set(m.to_string()));
    }
    h.insert(
        "Vary".into(),
        serde_json::json!({ "operation": "add", "value": "Origin" }),
    );
    let doc = serde_json::json!({
        "phase": "http_response_headers_transform",
        "rules": [{
            "description": "the edge answers CORS per visitor, after the cache, replacing the origin's value",
            "expression": match_expression(&c.allow_origins),
            "action": "rewrite",
            "action_parameters": { "headers": h },
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

fn vcl_str(s: &str) -> String {
    // VCL strings cannot escape a double quote; origins and header names never hold one
    format!("\"{}\"", s.replace('"', ""))
}

/// A `vcl_deliver` that writes the fields for listed origins, on hits too.
fn vcl(c: &EdgeCors, fastly: bool) -> String {
    let cond = c
        .allow_origins
        .iter()
        .map(|o| format!("req.http.Origin == {}", vcl_str(o)))
        .collect::<Vec<_>>()
        .join(" || ");
    let mut o = String::from("sub vcl_deliver {\n");
    if fastly {
        o.push_str("#FASTLY deliver\n");
    }
    o.push_str(
        "  # the edge answers CORS per viewer, after the cache, replacing the origin's value\n",
    );
    o.push_str(&format!("  if ({cond}) {{\n"));
    o.push_str("    set resp.http.Access-Control-Allow-Origin = req.http.Origin;\n");
    if c.allow_credentials {
        o.push_str("    set resp.http.Access-Control-Allow-Credentials = \"true\";\n");
    }
    if !c.expose_headers.is_empty() {
        o.push_str(&format!(
            "    set resp.http.Access-Control-Expose-Headers = {};\n",
            vcl_str(&c.expose_headers.join(", "))
        ));
    }
    o.push_str("    if (req.method == \"OPTIONS\" && req.http.Access-Control-Request-Method) {\n");
    o.push_str(&format!(
        "      set resp.http.Access-Control-Allow-Methods = {};\n",
        vcl_str(&c.allow_methods.join(", "))
    ));
    if !c.allow_headers.is_empty() {
        o.push_str(&format!(
            "      set resp.http.Access-Control-Allow-Headers = {};\n",
            vcl_str(&c.allow_headers.join(", "))
        ));
    }
    if let Some(m) = c.max_age {
        o.push_str(&format!(
            "      set resp.http.Access-Control-Max-Age = \"{m}\";\n"
        ));
    }
    o.push_str("    }\n    if (resp.http.Vary) {\n      set resp.http.Vary = resp.http.Vary + \", Origin\";\n    } else {\n      set resp.http.Vary = \"Origin\";\n    }\n  }\n");
    o.push_str("}\n");
    o
}
