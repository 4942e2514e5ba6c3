//! A Cloudflare ruleset (the API's JSON, `{ "result": { "rules": [...] } }` or the bare
//! ruleset): every rule whose action is `set_cache_settings`, in order (a later rule
//! overrides an earlier one), and a CORS response header transform rule
//! (`cloudflare_cors`). The rules' expressions are not evaluated: each is imported
//! as if it matched, and named in a warning when it is not `true`.
//! Cache-key fields: <https://developers.cloudflare.com/cache/how-to/cache-rules/settings/>.

use super::json_at::{self, shown_value};
use super::{at_path, parse_tree, Format, Imported};
use crate::error::InputError;
use crate::profile::{QueryKey, VaryMode, VaryStar};
use serde_json::Value;

/// A list of strings at `path` (the API's arrays): absent or `null` is empty; anything
/// else that is not an array of strings is an error naming what was found.
fn strings(file: &str, v: Option<&Value>, path: &str) -> Result<Vec<String>, InputError> {
    let a = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(at_path(
                file,
                path,
                format!(
                    "expected a list of strings, found {}",
                    shown_value(Some(other))
                ),
            ))
        }
    };
    a.iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_str().map(str::to_string).ok_or_else(|| {
                at_path(
                    file,
                    &format!("{path}[{i}]"),
                    format!("expected a string, found {}", shown_value(Some(x))),
                )
            })
        })
        .collect()
}

/// A boolean member `key` of `v` (at `path`): absent or `null` is `None`; a string such
/// as `"false"` is an error (the API's schema has JSON booleans, and reading `"false"`
/// as true or as absent would both be wrong).
fn flag(file: &str, v: &Value, key: &str, path: &str) -> Result<Option<bool>, InputError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        other => Err(at_path(
            file,
            &format!("{path}.{key}"),
            format!(
                "expected true or false (a JSON boolean), found {}",
                shown_value(other)
            ),
        )),
    }
}

/// Imports a ruleset; an error about a value names the value's line and column.
pub(crate) fn import(file: &str, text: &str) -> Result<Imported, InputError> {
    import_tree(file, text).map_err(|e| {
        if text.trim_start().starts_with('{') {
            json_at::place(text, e)
        } else {
            e
        }
    })
}

fn import_tree(file: &str, text: &str) -> Result<Imported, InputError> {
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
    let mut disabled = 0;
    for (i, r) in rules.iter().enumerate() {
        let path = format!("{base}[{i}]");
        let action = r.get("action").and_then(Value::as_str).unwrap_or("");
        let enabled = flag(file, r, "enabled", &path)?;
        if action == "rewrite" && enabled != Some(false) {
            any |= super::cloudflare_cors::rewrite(&mut imp, r, &path);
            continue;
        }
        if action != "set_cache_settings" {
            imp.warn(format!("{path}: action {action:?} not interpreted"));
            continue;
        }
        if enabled == Some(false) {
            imp.warn(format!("{path}: disabled rule skipped"));
            disabled += 1;
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
    // A zone whose cache rules are all switched off is a real configuration: Cloudflare's
    // defaults apply, which is the profile itself.
    if !any && disabled > 0 {
        imp.warn(format!(
            "{base}: every set_cache_settings rule is disabled: Cloudflare's default cache settings apply (profile cloudflare)"
        ));
        return Ok(imp);
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
    for (k, v) in p.as_object().into_iter().flatten() {
        // Settings the model has no knob for are silent only at Cloudflare's default
        // (which is what the model does).
        let default = match k.as_str() {
            "cache" | "cache_key" | "edge_ttl" | "vary" => true,
            "browser_ttl" => v.get("mode").and_then(Value::as_str) == Some("respect_origin"),
            "respect_strong_etags" | "origin_error_page_passthru" => {
                matches!(v, Value::Bool(false) | Value::Null)
            }
            _ => false,
        };
        if !default {
            imp.warn(format!("{ap}.{k}: not interpreted"));
        }
    }
    if flag(file, p, "cache", ap)? == Some(false) {
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
                let d = t.get("default").and_then(Value::as_u64).ok_or_else(|| {
                    at_path(
                        file,
                        &format!("{tp}.default"),
                        format!(
                            "expected a whole number of seconds, found {}",
                            shown_value(t.get("default"))
                        ),
                    )
                })?;
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
            _ => {
                return Err(at_path(
                    file,
                    &format!("{tp}.mode"),
                    format!(
                        "expected respect_origin, override_origin or bypass_by_default, found {}",
                        shown_value(t.get("mode"))
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
    if flag(file, ck, "cache_deception_armor", cp)? == Some(true) {
        imp.warn(format!("{cp}.cache_deception_armor: the extension check is not modelled (it only refuses to cache mismatched content types)"));
    }
    let Some(custom) = ck.get("custom_key") else {
        return Ok(());
    };
    let kp = format!("{cp}.custom_key");
    if let Some(h) = custom.get("header") {
        let hp = format!("{kp}.header");
        let mut include = strings(file, h.get("include"), &format!("{hp}.include"))?;
        // "Currently, you can only exclude the Origin header. The Origin header is always
        // included unless explicitly excluded."
        if flag(file, h, "exclude_origin", &hp)? != Some(true) {
            include.insert(0, "origin".into());
        }
        // header names are case-insensitive: `Origin` listed again is the same field
        let key = super::cloudfront::lower_unique(include);
        if !strings(
            file,
            h.get("check_presence"),
            &format!("{hp}.check_presence"),
        )?
        .is_empty()
        {
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
        let exclude_all = match q.get("exclude") {
            Some(Value::String(s)) => s == "*",
            Some(e) => flag(file, e, "all", &format!("{qp}.exclude"))? == Some(true),
            None => false,
        };
        imp.knobs.query = if exclude_all {
            QueryKey::None
        } else if let Some(l) = q.get("include").and_then(|i| i.get("list")) {
            QueryKey::List(strings(file, Some(l), &format!("{qp}.include.list"))?)
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
            .or_else(|| action.get("action").and_then(Value::as_str));
        match a {
            Some("normalize" | "passthrough") => honoured = true,
            Some("bypass") if name.eq_ignore_ascii_case("origin") => {
                imp.knobs.vary = VaryMode::Uncacheable;
                imp.note("vary", format!("{vp}.{name} = bypass"));
                return;
            }
            other => imp.warn(format!(
                "{vp}.{name}: action {} not modelled",
                super::shown(other)
            )),
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
