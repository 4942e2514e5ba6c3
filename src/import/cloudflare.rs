//! A Cloudflare ruleset (the API's JSON, `{ "result": { "rules": [...] } }` or the bare
//! ruleset): every rule whose action is `set_cache_settings`, in order (a later rule
//! overrides an earlier one), and a CORS response header transform rule
//! (`cloudflare_cors`). The rules' expressions are not evaluated: each is imported
//! as if it matched, and named in a warning when it is not `true`.
//! Cache-key fields: <https://developers.cloudflare.com/cache/how-to/cache-rules/settings/>.

use super::{at_path, parse_tree, Format, Imported};
use crate::error::InputError;
use crate::profile::{QueryKey, VaryMode, VaryStar};
use serde_json::Value;

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn import(file: &str, text: &str) -> Result<Imported, InputError> {
    let tree = parse_tree(file, text)?;
    let (rules, base) = match tree.get("result").and_then(|r| r.get("rules")) {
        Some(r) => (r, "$.result.rules"),
        None => (tree.get("rules").unwrap_or(&Value::Null), "$.rules"),
    };
    let Some(rules) = rules.as_array() else {
        return Err(at_path(file, base, "expected a list of rules"));
    };
    let mut imp = Imported::new(file, Format::Cloudflare, "cloudflare");
    let mut any = false;
    for (i, r) in rules.iter().enumerate() {
        let path = format!("{base}[{i}]");
        let action = r.get("action").and_then(Value::as_str).unwrap_or("");
        if action == "rewrite" && r.get("enabled").and_then(Value::as_bool) != Some(false) {
            any |= super::cloudflare_cors::rewrite(&mut imp, r, &path);
            continue;
        }
        if action != "set_cache_settings" {
            imp.warn(format!("{path}: action {action:?} not interpreted"));
            continue;
        }
        if r.get("enabled").and_then(Value::as_bool) == Some(false) {
            imp.warn(format!("{path}: disabled rule skipped"));
            continue;
        }
        any = true;
        let expr = r
            .get("expression")
            .and_then(Value::as_str)
            .unwrap_or("true");
        if expr != "true" {
            imp.warn(format!("{path}.expression {expr:?}: not evaluated; the rule is imported as if it matched every request"));
        }
        let ap = format!("{path}.action_parameters");
        let Some(p) = r.get("action_parameters") else {
            return Err(at_path(file, &ap, "missing action_parameters"));
        };
        rule(file, &mut imp, p, &ap)?;
    }
    if !any {
        return Err(at_path(
            file,
            base,
            "no set_cache_settings rule and no CORS response header transform rule",
        ));
    }
    Ok(imp)
}

fn rule(file: &str, imp: &mut Imported, p: &Value, ap: &str) -> Result<(), InputError> {
    for (k, _) in p.as_object().into_iter().flatten() {
        if ![
            "cache",
            "cache_key",
            "edge_ttl",
            "vary",
            "browser_ttl",
            "serve_stale",
            "respect_strong_etags",
            "origin_error_page_passthru",
        ]
        .contains(&k.as_str())
        {
            imp.warn(format!("{ap}.{k}: not interpreted"));
        }
    }
    if p.get("cache").and_then(Value::as_bool) == Some(false) {
        imp.knobs.ttl.max = Some(0);
        imp.note(
            "ttl",
            format!("{ap}.cache = false (bypass: nothing is stored)"),
        );
    }
    if let Some(ck) = p.get("cache_key") {
        cache_key(file, imp, ck, &format!("{ap}.cache_key"))?;
    }
    if let Some(t) = p.get("edge_ttl") {
        let tp = format!("{ap}.edge_ttl");
        match t.get("mode").and_then(Value::as_str) {
            Some("override_origin") => {
                let d = t
                    .get("default")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| at_path(file, &format!("{tp}.default"), "expected seconds"))?;
                imp.knobs.ttl = crate::profile::TtlOverride {
                    default: Some(d),
                    min: Some(d),
                    max: Some(d),
                };
                imp.note("ttl", format!("{tp} override_origin {d}"));
            }
            Some("respect_origin") => {}
            Some("bypass_by_default") => {
                imp.warn(format!("{tp}: bypass_by_default not modelled"));
            }
            other => {
                return Err(at_path(
                    file,
                    &format!("{tp}.mode"),
                    format!(
                        "expected respect_origin, override_origin or bypass_by_default, found {}",
                        super::shown(other)
                    ),
                ))
            }
        }
    }
    if let Some(t) = p
        .get("edge_ttl")
        .and_then(|t| t.get("status_code_ttl"))
        .filter(|l| l.as_array().is_some_and(|a| !a.is_empty()))
    {
        let n = t.as_array().map_or(0, Vec::len);
        imp.warn(format!("{ap}.edge_ttl.status_code_ttl: {n} per-status TTL(s) not modelled (the profile's error caching applies)"));
    }
    if let Some(v) = p.get("vary") {
        vary(imp, v, &format!("{ap}.vary"));
    }
    Ok(())
}

/// Whether a custom-key setting asks for more than the default: a `true`, a non-empty list.
fn set_value(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => o.values().any(set_value),
        Value::Null => false,
        _ => true,
    }
}

fn cache_key(file: &str, imp: &mut Imported, ck: &Value, cp: &str) -> Result<(), InputError> {
    if ck.get("cache_deception_armor").and_then(Value::as_bool) == Some(true) {
        imp.warn(format!("{cp}.cache_deception_armor: the extension check is not modelled (it only refuses to cache mismatched content types)"));
    }
    let Some(custom) = ck.get("custom_key") else {
        return Ok(());
    };
    let kp = format!("{cp}.custom_key");
    if let Some(h) = custom.get("header") {
        let hp = format!("{kp}.header");
        let mut key: Vec<String> = strings(h.get("include"))
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        // "Currently, you can only exclude the Origin header. The Origin header is always
        // included unless explicitly excluded."
        if h.get("exclude_origin").and_then(Value::as_bool) != Some(true) {
            key.insert(0, "origin".into());
        }
        if !strings(h.get("check_presence")).is_empty() {
            imp.warn(format!(
                "{hp}.check_presence: keying on a header's presence is not modelled"
            ));
        }
        if h.get("contains")
            .and_then(Value::as_object)
            .is_some_and(|o| !o.is_empty())
        {
            imp.warn(format!(
                "{hp}.contains: keying on whether a header contains given values is not modelled (those headers are left out of the key)"
            ));
        }
        imp.knobs.key_headers = key;
        imp.note("key_headers", format!("{hp} (include, exclude_origin)"));
    }
    if let Some(q) = custom.get("query_string") {
        let qp = format!("{kp}.query_string");
        let all =
            |v: Option<&Value>| v.and_then(|x| x.get("all")).and_then(Value::as_bool) == Some(true);
        imp.knobs.query =
            if all(q.get("exclude")) || q.get("exclude").is_some_and(|e| e.as_str() == Some("*")) {
                QueryKey::None
            } else if let Some(l) = q.get("include").and_then(|i| i.get("list")) {
                QueryKey::List(strings(Some(l)))
            } else if q.get("exclude").and_then(|e| e.get("list")).is_some() {
                imp.warn(format!(
                    "{qp}.exclude.list: excluding some parameters is not modelled; imported as all"
                ));
                QueryKey::All
            } else {
                QueryKey::All
            };
        imp.note("query", qp);
    }
    // The defaults (`host: {resolved: false}`, `user` all false, an empty `cookie`) are
    // what the model does; anything else is not modelled.
    let set = |v: Option<&Value>| v.is_some_and(set_value);
    for k in ["cookie", "user", "host"] {
        if set(custom.get(k)) {
            imp.warn(format!("{kp}.{k}: not modelled"));
        }
    }
    let _ = file;
    Ok(())
}

/// The Cache Rules `vary` setting: per-header `normalize` / `passthrough` / `bypass`
/// (<https://developers.cloudflare.com/cache/concepts/vary/>). Any header with
/// `normalize` or `passthrough` turns Vary on (honoured); `bypass` on `Origin` makes a
/// response that varies on it uncacheable.
fn vary(imp: &mut Imported, v: &Value, vp: &str) {
    let Some(o) = v.as_object() else {
        imp.warn(format!(
            "{vp}: expected an object of header → action; not interpreted"
        ));
        return;
    };
    let headers = o.get("headers").and_then(Value::as_object).unwrap_or(o);
    let mut honoured = false;
    for (name, action) in headers {
        let a = action
            .as_str()
            .or_else(|| action.get("action").and_then(Value::as_str))
            .unwrap_or("");
        match a {
            "normalize" | "passthrough" => honoured = true,
            "bypass" if name.eq_ignore_ascii_case("origin") => {
                imp.knobs.vary = VaryMode::Uncacheable;
                imp.note("vary", format!("{vp}.{name} = bypass"));
                return;
            }
            other => imp.warn(format!("{vp}.{name}: action {other:?} not modelled")),
        }
    }
    if honoured {
        imp.knobs.vary = VaryMode::Honor;
        imp.knobs.vary_star = VaryStar::Bypass;
        imp.note(
            "vary",
            format!("{vp} (normalize/passthrough: Vary honoured)"),
        );
    }
}
