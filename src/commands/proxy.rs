//! `varyedge proxy`: the caching reverse proxy for local staging.

use crate::cli::ProxyArgs;
use std::time::Duration;
use varyedge::error::ExitStatus;
use varyedge::net::proxy::{self, Config, Upstream};

fn config(a: &ProxyArgs) -> Result<Config, String> {
    let upstream = Upstream::parse(&a.upstream)?;
    let knobs = a.edge.knobs().map_err(|e| e.to_string())?;
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
        profile: a.edge.profile.clone(),
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
    super::log_to_std();
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
