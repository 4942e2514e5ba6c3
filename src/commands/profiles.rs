//! `varyedge profiles`: every built-in profile, its knobs, behaviour and sources.

use super::emit;
use crate::cli::ProfilesArgs;
use std::fmt::Write;
use varyedge::error::ExitStatus;
use varyedge::profile::{builtin_profiles, Knobs, QueryKey};

pub(crate) fn run(a: ProfilesArgs) -> anyhow::Result<ExitStatus> {
    let ps = builtin_profiles();
    let text = if a.json {
        let mut s = serde_json::to_string_pretty(&ps)?;
        s.push('\n');
        s
    } else {
        let mut o = String::new();
        for p in &ps {
            let _ = writeln!(
                o,
                "{}\n  {}\n  knobs: {}\n  caching: {}",
                p.name,
                p.summary,
                knobs_line(&p.knobs),
                caching_line(&p.knobs)
            );
            if let Some(c) = p.caveat {
                let _ = writeln!(o, "  weak evidence: {c}");
            }
            for s in p.sources {
                let _ = writeln!(o, "  source: {s}");
            }
            o.push('\n');
        }
        o
    };
    emit(None, &text)?;
    Ok(ExitStatus::Clean)
}

/// The knobs on one line, in PRODUCT.md's vocabulary.
pub(crate) fn knobs_line(k: &Knobs) -> String {
    let id = |v: &dyn erased::Id| v.id();
    let query = match &k.query {
        QueryKey::All => "all".to_string(),
        QueryKey::None => "none".to_string(),
        QueryKey::List(l) => format!("[{}]", l.join(",")),
    };
    let ttl = [
        ("default", k.ttl.default),
        ("min", k.ttl.min),
        ("max", k.ttl.max),
    ]
    .iter()
    .filter_map(|(n, v)| v.map(|v| format!("{n}={v}")))
    .collect::<Vec<_>>()
    .join(",");
    format!(
        "vary={} key_headers=[{}] cache_options={} preflight_key={} query={} max_variants={} collapse={} ttl={} pops={} shield={} key_host={} pass_cookie={} pass_authorization={} vary_star={} vary_compare={}",
        id(&k.vary),
        k.key_headers.join(","),
        k.cache_options,
        id(&k.preflight_key),
        query,
        k.max_variants.map_or("unbounded".to_string(), |m| m.to_string()),
        id(&k.collapse),
        if ttl.is_empty() { "origin".to_string() } else { ttl },
        k.pops,
        k.shield,
        k.key_host,
        k.pass_cookie,
        k.pass_authorization,
        id(&k.vary_star),
        id(&k.vary_compare),
    )
}

/// The RFC 9111 behaviours beyond the key (issue 12) on one line.
pub(crate) fn caching_line(k: &Knobs) -> String {
    let e = &k.errors;
    let errors = match (&e.statuses, e.ttl) {
        (None, None) => "rfc9111".to_string(),
        (statuses, ttl) => {
            let list = statuses.as_ref().map_or("any".to_string(), |l| {
                l.iter().map(u16::to_string).collect::<Vec<_>>().join(",")
            });
            let ttl = ttl.map_or("explicit".to_string(), |t| {
                format!("{t}s{}", if e.ttl_is_floor { " (floor)" } else { "" })
            });
            format!("[{list}] ttl={ttl}")
        }
    };
    format!(
        "revalidate={} invalidate_unsafe={} targeted=[{}] request_cache_control={} heuristic={} stale_if_error={} stale_on_disconnect={} errors={}",
        k.revalidate,
        k.invalidate_unsafe,
        k.targeted.join(","),
        k.request_cache_control,
        k.heuristic_pct.map_or("none".to_string(), |p| format!("{p}%")),
        k.stale_if_error,
        k.stale_on_disconnect,
        errors,
    )
}

mod erased {
    /// The kebab-case id serde gives a knob value.
    pub(crate) trait Id {
        fn id(&self) -> String;
    }
    impl<T: serde::Serialize> Id for T {
        fn id(&self) -> String {
            serde_json::to_value(self)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        }
    }
}
