//! An [`Imported`] as a scenario `edge:` block: the profile, then each knob set by the
//! config with a comment naming where it came from, then the warnings as comments.

use super::Imported;
use crate::edge::forward::ForwardHeaders;
use crate::profile::{Collapse, Knobs, PreflightKey, QueryKey, VaryMode};

fn list(l: &[String]) -> String {
    let q: Vec<String> = l.iter().map(|s| quote(s)).collect();
    format!("[{}]", q.join(", "))
}

fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !matches!(s, "true" | "false" | "null" | "yes" | "no" | "on" | "off")
    {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

/// The YAML value of one scenario knob, or `None` for an unknown name.
pub fn knob_value(k: &Knobs, knob: &str) -> Option<String> {
    Some(match knob {
        "vary" => match k.vary {
            VaryMode::Honor => "honor",
            VaryMode::Ignore => "ignore",
            VaryMode::IgnoreOrigin => "ignore-origin",
            VaryMode::AcceptEncodingOnly => "accept-encoding-only",
            VaryMode::Uncacheable => "uncacheable",
        }
        .to_string(),
        "key_headers" => list(&k.key_headers),
        "cache_options" => k.cache_options.to_string(),
        "preflight_key" => match k.preflight_key {
            PreflightKey::Honor => "honor",
            PreflightKey::Ignore => "ignore",
        }
        .to_string(),
        "query" => match &k.query {
            QueryKey::All => "all".to_string(),
            QueryKey::None => "none".to_string(),
            QueryKey::List(l) => list(l),
        },
        "max_variants" => k.max_variants?.to_string(),
        "collapse" => match k.collapse {
            Collapse::Off => "false",
            Collapse::On => "true",
            Collapse::Naive => "naive",
        }
        .to_string(),
        "ttl" => {
            let parts: Vec<String> = [
                ("default", k.ttl.default),
                ("min", k.ttl.min),
                ("max", k.ttl.max),
            ]
            .iter()
            .filter_map(|(n, v)| v.map(|v| format!("{n}: {v}")))
            .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        "grace" => {
            let mut parts = vec![format!("default: {}", k.grace.default)];
            if let Some(f) = k.grace.fixed {
                parts.push(format!("fixed: {f}"));
            }
            format!("{{ {} }}", parts.join(", "))
        }
        "key_host" => k.key_host.to_string(),
        "vary_star" => serde_json::to_value(k.vary_star)
            .ok()?
            .as_str()?
            .to_string(),
        "vary_compare" => serde_json::to_value(k.vary_compare)
            .ok()?
            .as_str()?
            .to_string(),
        "key_head_apart" => k.key_head_apart.to_string(),
        "stale_while_revalidate" => k.stale_while_revalidate.to_string(),
        "pass_cookie" => k.pass_cookie.to_string(),
        "pass_authorization" => k.pass_authorization.to_string(),
        "forward_headers" => match &k.forward.headers {
            ForwardHeaders::All => "all".to_string(),
            ForwardHeaders::Key => "key".to_string(),
            ForwardHeaders::List(l) => list(l),
        },
        "forward_strip" => list(&k.forward.strip),
        "forward_add" => {
            let parts: Vec<String> = k
                .forward
                .add
                .iter()
                .map(|(n, v)| format!("{}: {}", quote(n), quote(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        "edge_cors" => {
            let c = k.edge_cors.as_ref()?;
            let mut f = Vec::new();
            if !c.allow_origins.is_empty() || c.allow_origin_patterns.is_empty() {
                f.push(format!("allow_origins: {}", list(&c.allow_origins)));
            }
            if !c.allow_origin_patterns.is_empty() {
                let p: Vec<String> = c
                    .allow_origin_patterns
                    .iter()
                    .map(|p| p.as_str().to_string())
                    .collect();
                f.push(format!("allow_origin_patterns: {}", list(&p)));
            }
            for (n, l) in [
                ("allow_methods", &c.allow_methods),
                ("allow_headers", &c.allow_headers),
                ("expose_headers", &c.expose_headers),
            ] {
                if !l.is_empty() {
                    f.push(format!("{n}: {}", list(l)));
                }
            }
            f.push(format!("allow_credentials: {}", c.allow_credentials));
            if let Some(m) = c.max_age {
                f.push(format!("max_age: {m}"));
            }
            f.push(format!("origin_override: {}", c.origin_override));
            if c.hide_origin_acao {
                f.push("hide_origin_acao: true".to_string());
            }
            format!("{{ {} }}", f.join(", "))
        }
        _ => return None,
    })
}

/// The `edge:` block, with the provenance comments and warnings.
pub fn render(imp: &Imported) -> String {
    let mut o = String::new();
    o.push_str(&format!(
        "# varyedge import cdn-config {} (read as {})\n",
        imp.file,
        imp.format.id()
    ));
    for w in &imp.warnings {
        o.push_str(&format!("# warning: {}\n", one_line(w)));
    }
    o.push_str("edge:\n");
    o.push_str(&format!("  profile: {}\n", imp.profile));
    let mut emitted: Vec<&str> = Vec::new();
    for n in &imp.notes {
        let knob = n.knob;
        if knob == "forward_headers" {
            for extra in ["forward_headers", "forward_strip", "forward_add"] {
                emit(&mut o, &imp.knobs, extra, &n.from, &mut emitted);
            }
            continue;
        }
        if knob == "profile" {
            o.push_str(&format!("  # {}\n", one_line(&n.from)));
            continue;
        }
        emit(&mut o, &imp.knobs, knob, &n.from, &mut emitted);
    }
    o
}

fn emit<'a>(o: &mut String, k: &Knobs, knob: &'a str, from: &str, done: &mut Vec<&'a str>) {
    if done.contains(&knob) {
        return;
    }
    let Some(v) = knob_value(k, knob) else {
        return;
    };
    if (knob == "forward_strip" && k.forward.strip.is_empty())
        || (knob == "forward_add" && k.forward.add.is_empty())
    {
        return;
    }
    done.push(knob);
    o.push_str(&format!("  {knob}: {v}  # {}\n", one_line(from)));
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}
