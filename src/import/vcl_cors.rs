//! VCL `vcl_deliver` that answers CORS at the edge, read into `edge_cors`: under
//! `if (req.http.Origin == "A" || req.http.Origin == "B")`,
//! `set resp.http.Access-Control-Allow-Origin = req.http.Origin;` (and the other
//! `Access-Control-*` fields as string literals; the preflight ones under a condition on
//! `req.method == "OPTIONS"`). `vcl_deliver` runs for every response sent to a client,
//! hits included, so the value is the viewer's own and replaces the origin's
//! (`origin_override: true`). Any other shape is a warning.

use super::Imported;
use crate::edge::cors::{EdgeCors, OriginPattern};

/// What a condition on `req.http.Origin` allows: the exact origins of `== "A"` and the
/// regular expressions of `~ "RE"` (VCL matches a regex anywhere in the value,
/// case-sensitively), joined by `||`; `None` for any other condition (or a regex VCL's
/// would read differently from the model's).
fn origin_list(cond: &str) -> Option<(Vec<String>, Vec<OriginPattern>)> {
    let (mut exact, mut patterns) = (Vec::new(), Vec::new());
    for part in cond.split("||") {
        let part = part.trim();
        // the operator written first (a regex may hold `==`, an origin `~`)
        let (lhs, op, rhs) = match (part.find("=="), part.find('~')) {
            (Some(e), None) => (&part[..e], "==", &part[e + 2..]),
            (Some(e), Some(t)) if e < t => (&part[..e], "==", &part[e + 2..]),
            (_, Some(t)) => (&part[..t], "~", &part[t + 1..]),
            (None, None) => return None,
        };
        if !lhs.trim().eq_ignore_ascii_case("req.http.origin") {
            return None;
        }
        let v = rhs.trim();
        let v = v.strip_prefix('"')?.strip_suffix('"')?;
        if op == "==" {
            exact.push(v.to_string());
        } else {
            patterns.push(OriginPattern::new(v).ok()?);
        }
    }
    (!exact.is_empty() || !patterns.is_empty()).then_some((exact, patterns))
}

fn literal(v: &[&str]) -> Option<String> {
    match v {
        [one] => Some(one.strip_prefix('"')?.strip_suffix('"')?.to_string()),
        _ => None,
    }
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

fn cors(imp: &mut Imported) -> &mut EdgeCors {
    imp.knobs.edge_cors.get_or_insert_default()
}

/// One `set resp.http.NAME = VALUE` in `vcl_deliver`.
pub(crate) fn deliver_set(imp: &mut Imported, name: &str, v: &[&str], conds: &[String], at: &str) {
    let name = name.to_ascii_lowercase();
    let text = format!("set resp.http.{name} = {}", v.join(" "));
    if name == "vary" {
        // the edge_cors model adds `Vary: Origin` itself when it reflects
        return;
    }
    let origins = conds.first().and_then(|c| origin_list(c));
    let preflight = conds
        .iter()
        .skip(1)
        .any(|c| c.to_ascii_lowercase().contains("req.method == \"options\""));
    let Some(origins) = origins else {
        imp.warn(format!(
            "{at}: `{text}` not under `if (req.http.Origin == \"…\" || req.http.Origin ~ \"…\")`: not modelled"
        ));
        return;
    };
    let lit = literal(v);
    match (name.as_str(), lit) {
        ("access-control-allow-origin", _)
            if v.len() == 1 && v[0].eq_ignore_ascii_case("req.http.origin") =>
        {
            let c = cors(imp);
            (c.allow_origins, c.allow_origin_patterns) = origins;
            c.origin_override = true;
            imp.note(
                "edge_cors",
                format!("{at}: vcl_deliver sets Access-Control-Allow-Origin from req.http.Origin for the listed origins (replacing the origin's)"),
            );
        }
        ("access-control-allow-credentials", Some(l)) if l == "true" => {
            cors(imp).allow_credentials = true
        }
        ("access-control-expose-headers", Some(l)) => cors(imp).expose_headers = list(&l),
        ("access-control-allow-methods", Some(l)) if preflight => {
            cors(imp).allow_methods = list(&l)
        }
        ("access-control-allow-headers", Some(l)) if preflight => {
            cors(imp).allow_headers = list(&l)
        }
        ("access-control-max-age", Some(l)) if preflight && l.parse::<u64>().is_ok() => {
            cors(imp).max_age = l.parse().ok()
        }
        _ => imp.warn(format!("{at}: `{text}` in vcl_deliver: not modelled")),
    }
}

/// Drops a half-read configuration (fields without `Access-Control-Allow-Origin`).
pub(crate) fn finish(imp: &mut Imported, file: &str) {
    if imp
        .knobs
        .edge_cors
        .as_ref()
        .is_some_and(|c| c.allow_origins.is_empty() && c.allow_origin_patterns.is_empty())
    {
        imp.knobs.edge_cors = None;
        imp.warn(format!("{file}: vcl_deliver sets Access-Control-* fields but not Access-Control-Allow-Origin from req.http.Origin; not modelled"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_origin_list_and_refuses_other_conditions() {
        assert_eq!(
            origin_list(r#"req.http.Origin == "https://a" || req.http.origin == "https://b""#),
            Some((
                vec!["https://a".to_string(), "https://b".to_string()],
                vec![]
            ))
        );
        assert_eq!(
            origin_list(
                r#"req.http.Origin ~ "^https://(a|b)\.example$" || req.http.Origin == "https://c""#
            ),
            Some((
                vec!["https://c".to_string()],
                vec![OriginPattern::new(r"^https://(a|b)\.example$").unwrap()]
            ))
        );
        assert_eq!(origin_list(r#"req.http.Origin ~ "(a""#), None);
        assert_eq!(
            origin_list(r#"req.http.Origin ~ "a==b""#).map(|(_, p)| p[0].as_str().to_string()),
            Some("a==b".to_string())
        );
        assert_eq!(
            origin_list(r#"req.http.Origin == "https://a~b""#).map(|(e, _)| e),
            Some(vec!["https://a~b".to_string()])
        );
        assert_eq!(origin_list(r#"req.http.Origin !~ "a""#), None);
        assert_eq!(origin_list(r#"req.http.Host == "a""#), None);
    }
}
