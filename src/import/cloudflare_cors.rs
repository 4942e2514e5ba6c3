//! A Cloudflare response header transform rule (`action: rewrite`, phase
//! `http_response_headers_transform`) that answers CORS at the edge, read into
//! `edge_cors`. Its response header values "are calculated using the field values from the
//! corresponding HTTP request" and it runs on every response sent to a visitor, cached
//! ones included
//! (<https://developers.cloudflare.com/rules/transform/response-header-modification/>), so
//! `Access-Control-Allow-Origin` set from `http.request.headers["origin"][0]` under
//! `any(http.request.headers["origin"][*] in {"A" "B"})` is the viewer's own, replacing the
//! origin's (`origin_override: true`). Parameters:
//! <https://developers.cloudflare.com/rules/transform/response-header-modification/reference/parameters/>.

use super::Imported;
use crate::edge::cors::EdgeCors;
use serde_json::Value;

/// The dynamic value that reflects the request's `Origin`.
pub(crate) const REFLECT: &str = "http.request.headers[\"origin\"][0]";

/// The rule expression matching a list of origins.
pub(crate) fn match_expression(origins: &[String]) -> String {
    let quoted: Vec<String> = origins.iter().map(|o| format!("\"{o}\"")).collect();
    format!(
        "any(http.request.headers[\"origin\"][*] in {{{}}})",
        quoted.join(" ")
    )
}

fn origin_list(expr: &str) -> Option<Vec<String>> {
    let inner = expr
        .trim()
        .strip_prefix("any(http.request.headers[\"origin\"][*] in {")?
        .strip_suffix("})")?;
    let list: Option<Vec<String>> = inner
        .split_whitespace()
        .map(|q| Some(q.strip_prefix('"')?.strip_suffix('"')?.to_string()))
        .collect();
    list.filter(|l| !l.is_empty())
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// One `rewrite` rule at `path`; returns whether it was interpreted.
pub(crate) fn rewrite(imp: &mut Imported, r: &Value, path: &str) -> bool {
    let expr = r.get("expression").and_then(Value::as_str).unwrap_or("");
    let headers = r
        .get("action_parameters")
        .and_then(|p| p.get("headers"))
        .and_then(Value::as_object);
    let (Some(origins), Some(headers)) = (origin_list(expr), headers) else {
        imp.warn(format!("{path}: a rewrite rule other than CORS answered for a list of origins (expression any(http.request.headers[\"origin\"][*] in {{…}}), headers set): not interpreted"));
        return false;
    };
    let mut c = EdgeCors::default();
    for (name, spec) in headers {
        let op = spec.get("operation").and_then(Value::as_str).unwrap_or("");
        let value = spec.get("value").and_then(Value::as_str);
        let dynamic = spec.get("expression").and_then(Value::as_str);
        let hp = format!("{path}.action_parameters.headers.{name}");
        match (name.to_ascii_lowercase().as_str(), op, value, dynamic) {
            ("access-control-allow-origin", "set", None, Some(REFLECT)) => {
                c.allow_origins = origins.clone();
                c.origin_override = true;
            }
            ("access-control-allow-credentials", "set", Some("true"), None) => {
                c.allow_credentials = true
            }
            ("access-control-allow-methods", "set", Some(v), None) => c.allow_methods = list(v),
            ("access-control-allow-headers", "set", Some(v), None) => c.allow_headers = list(v),
            ("access-control-expose-headers", "set", Some(v), None) => c.expose_headers = list(v),
            ("access-control-max-age", "set", Some(v), None) if v.parse::<u64>().is_ok() => {
                c.max_age = v.parse().ok()
            }
            // the edge_cors model adds `Vary: Origin` itself when it reflects
            ("vary", "add", Some(v), None) if v.eq_ignore_ascii_case("origin") => {}
            _ => imp.warn(format!("{hp}: {op} not modelled")),
        }
    }
    if c.allow_origins.is_empty() {
        imp.warn(format!(
            "{path}: does not set Access-Control-Allow-Origin to {REFLECT}; not modelled"
        ));
        return false;
    }
    imp.knobs.edge_cors = Some(c);
    imp.note(
        "edge_cors",
        format!("{path}: response header transform rule sets Access-Control-Allow-Origin from the request's Origin for the listed origins (replacing the origin's)"),
    );
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_match_expression_reads_back() {
        let l = vec!["https://a".to_string(), "https://b".to_string()];
        assert_eq!(origin_list(&match_expression(&l)), Some(l));
        assert_eq!(origin_list("http.host eq \"a\""), None);
    }
}
