//! The `profiles` report: every built-in profile, its knobs, behaviour and sources.

use super::Render;
use crate::profile::{Knobs, Profile, QueryKey};
use std::fmt::Write;

/// Output formats of `profiles`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProfilesFormat {
    /// One block per profile.
    Text,
    /// The profiles serialised as a JSON array.
    Json,
    /// The markdown reference checked in as docs/profiles.md.
    Markdown,
}

/// The profiles to list, in order.
#[derive(Clone, Copy, Debug)]
pub struct Profiles<'a> {
    /// The profiles.
    pub profiles: &'a [Profile],
}

impl Render for Profiles<'_> {
    type Format = ProfilesFormat;
    fn render(&self, f: ProfilesFormat) -> String {
        match f {
            // JSON Lines: one profile object per line, like every `--format json`.
            // Serialised directly (not through a `Value`) to keep the fields in declaration
            // order. A `Profile` holds strings, numbers, booleans and lists only, so this
            // cannot fail.
            ProfilesFormat::Json => self
                .profiles
                .iter()
                .map(|p| match serde_json::to_string(p) {
                    Ok(s) => s + "\n",
                    Err(e) => format!("{{\"error\":\"{e}\"}}\n"),
                })
                .collect(),
            ProfilesFormat::Text => text(self.profiles),
            ProfilesFormat::Markdown => super::profiles_doc::markdown(self.profiles),
        }
    }
}

fn text(ps: &[Profile]) -> String {
    let mut o = String::new();
    for p in ps {
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
}

/// The RFC 9111 behaviours beyond the key (issue 12) on one line.
pub fn caching_line(k: &Knobs) -> String {
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

/// The knobs on one line, in PRODUCT.md's vocabulary.
pub fn knobs_line(k: &Knobs) -> String {
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
        "vary={} key_headers=[{}] cache_options={} preflight_key={} query={} max_variants={} collapse={} ttl={} pops={} shield={} key_host={} pass_cookie={} pass_authorization={} vary_star={} vary_compare={} forward={}",
        k.vary.id(),
        k.key_headers.join(","),
        k.cache_options,
        k.preflight_key.id(),
        query,
        k.max_variants.map_or("unbounded".to_string(), |m| m.to_string()),
        k.collapse.id(),
        if ttl.is_empty() { "origin".to_string() } else { ttl },
        k.pops,
        k.shield,
        k.key_host,
        k.pass_cookie,
        k.pass_authorization,
        k.vary_star.id(),
        k.vary_compare.id(),
        k.forward.describe(),
    )
}
