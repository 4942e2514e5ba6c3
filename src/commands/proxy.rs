//! `varyedge proxy`: the caching reverse proxy for local staging.

use crate::cli::ProxyArgs;
use std::time::Duration;
use varyedge::error::ExitStatus;
use varyedge::net::proxy::listener::Limits;
use varyedge::net::proxy::{self, AdminListen, Config, Upstream};

fn config(a: &ProxyArgs) -> Result<Config, String> {
    let upstream = Upstream::parse(&a.upstream)?;
    let knobs = match &a.edge_config {
        // the imported knobs, with the flags' overrides on top
        Some(f) => {
            let imp = super::import_config::edge_config(f).map_err(|e| e.to_string())?;
            a.edge.apply_to(imp.knobs).map_err(|e| e.to_string())?
        }
        None => a.edge.knobs().map_err(|e| e.to_string())?,
    };
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
    let secs = |flag: &str, v: f64| -> Result<Duration, String> {
        if v.is_finite() && v > 0.0 && v <= 86_400.0 {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(format!("--{flag} {v}: expected seconds in (0, 86400]"))
        }
    };
    let limits = Limits {
        header_timeout: secs("header-timeout", a.header_timeout)?,
        idle_timeout: secs("idle-timeout", a.idle_timeout)?,
        max_connections: a.max_connections,
    };
    if a.max_connections == 0 || a.max_variants == 0 {
        return Err("--max-connections and --max-variants must be at least 1".to_string());
    }
    if a.workers > MAX_WORKERS {
        return Err(format!(
            "--workers {}: expected 0 (one per core) to {MAX_WORKERS}",
            a.workers
        ));
    }
    Ok(Config {
        admin: AdminListen::parse(&a.admin_listen)?,
        limits,
        max_variants_per_url: a.max_variants,
        listen: a.listen,
        upstream,
        knobs,
        profile: a.edge.profile.clone(),
        capacity,
        upstream_timeout: Duration::from_secs_f64(a.upstream_timeout),
        max_request_body,
        preserve_host: a.preserve_host,
        access_log: match &a.access_log {
            None => None,
            Some(t) => Some(std::sync::Arc::new(proxy::access_log::AccessLog::to(
                access_log_target(t)?,
            ))),
        },
    })
}

/// `--access-log -` is standard output; a path is a file, appended to.
fn access_log_target(t: &str) -> Result<Box<dyn std::io::Write + Send>, String> {
    if t == "-" {
        return Ok(Box::new(std::io::stdout()));
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(t)
        .map(|f| Box::new(f) as Box<dyn std::io::Write + Send>)
        .map_err(|e| format!("--access-log {t:?}: cannot open: {e}"))
}

/// The most worker threads `--workers` takes (each holds a listening socket, a runtime
/// and its memos: far more than cores only adds contention).
const MAX_WORKERS: usize = 256;

pub(crate) fn run(a: ProxyArgs, _: super::Globals) -> anyhow::Result<ExitStatus> {
    let cfg = match config(&a) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("varyedge proxy: {e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    super::log_to_std();
    let workers = match a.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let listen = cfg.listen;
    // The start line (stdout keeps only `listening on http://ADDR`, which scripts read);
    // -q leaves it out.
    super::note(format_args!(
        "varyedge proxy: profile {}, upstream {}, admin {}entries|stats|metrics (GET), purge?url=|purge-all (POST){}",
        cfg.profile,
        a.upstream,
        proxy::ADMIN_PREFIX,
        a.access_log
            .as_deref()
            .map_or(String::new(), |t| format!(", access log {}", if t == "-" { "stdout" } else { t })),
    ));
    match proxy::run(cfg, workers) {
        Ok(()) => Ok(ExitStatus::Clean),
        Err(e) => {
            eprintln!("varyedge proxy: cannot listen on {listen}: {e}");
            Ok(ExitStatus::BadInput)
        }
    }
}
