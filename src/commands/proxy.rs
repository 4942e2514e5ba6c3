//! `varyedge proxy`: the caching reverse proxy for local staging.

use crate::cli::{CollapseArg, PreflightKeyArg, ProxyArgs, VaryArg};
use std::time::Duration;
use varyedge::error::ExitStatus;
use varyedge::net::proxy::{self, Config, Upstream};
use varyedge::profile::{self, Collapse, PreflightKey, VaryMode};

fn config(a: &ProxyArgs) -> Result<Config, String> {
    let upstream = Upstream::parse(&a.upstream)?;
    let p = profile::profile(&a.profile).ok_or_else(|| {
        format!(
            "--profile {:?}: no such profile (one of: {})",
            a.profile,
            profile::PROFILE_NAMES.join(", ")
        )
    })?;
    let mut knobs = match &a.edge_config {
        Some(f) => {
            super::import_config::edge_config(f)
                .map_err(|e| e.to_string())?
                .knobs
        }
        None => p.knobs,
    };
    if let Some(v) = a.vary {
        knobs.vary = match v {
            VaryArg::Honor => VaryMode::Honor,
            VaryArg::Ignore => VaryMode::Ignore,
            VaryArg::IgnoreOrigin => VaryMode::IgnoreOrigin,
            VaryArg::AcceptEncodingOnly => VaryMode::AcceptEncodingOnly,
            VaryArg::Uncacheable => VaryMode::Uncacheable,
        };
    }
    if a.cache_options {
        knobs.cache_options = true;
    }
    if let Some(k) = a.preflight_key {
        knobs.preflight_key = match k {
            PreflightKeyArg::Honor => PreflightKey::Honor,
            PreflightKeyArg::Ignore => PreflightKey::Ignore,
        };
    }
    for h in &a.key_headers {
        if !varyedge::fields::is_token(h) {
            return Err(format!("--key-header {h:?}: not a header name"));
        }
        let h = h.to_ascii_lowercase();
        if !knobs.key_headers.contains(&h) {
            knobs.key_headers.push(h);
        }
    }
    if let Some(c) = a.collapse {
        knobs.collapse = match c {
            CollapseArg::Off => Collapse::Off,
            CollapseArg::On => Collapse::On,
            CollapseArg::Naive => Collapse::Naive,
        };
    }
    let capacity = proxy::parse_size(&a.capacity).map_err(|e| format!("--capacity: {e}"))?;
    if capacity < 1024 {
        return Err(format!("--capacity {:?}: at least 1KiB", a.capacity));
    }
    let max_request_body =
        proxy::parse_size(&a.max_body).map_err(|e| format!("--max-body: {e}"))?;
    if !(a.upstream_timeout.is_finite()
        && a.upstream_timeout > 0.0
        && a.upstream_timeout <= 86_400.0)
    {
        return Err(format!(
            "--upstream-timeout {}: expected seconds in (0, 86400]",
            a.upstream_timeout
        ));
    }
    Ok(Config {
        listen: a.listen,
        upstream,
        knobs,
        profile: a.profile.clone(),
        capacity,
        upstream_timeout: Duration::from_secs_f64(a.upstream_timeout),
        max_request_body,
        preserve_host: a.preserve_host,
    })
}

pub(crate) fn run(a: ProxyArgs) -> anyhow::Result<ExitStatus> {
    let cfg = match config(&a) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("varyedge proxy: {e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let listen = cfg.listen;
    match proxy::run(cfg, workers) {
        Ok(()) => Ok(ExitStatus::Clean),
        Err(e) => {
            eprintln!("varyedge proxy: cannot listen on {listen}: {e}");
            Ok(ExitStatus::BadInput)
        }
    }
}
