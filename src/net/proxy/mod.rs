//! `varyedge proxy`: a caching reverse proxy for local staging, on the same edge core as
//! the simulator. Every decision (key, pass, storability, `Vary` matching, freshness,
//! collapsing) comes from [`crate::edge`]; this module does the IO around it:
//!
//! - [`server`]: the hyper server (HTTP/1.1 and h2c), the request flow, `Cache-Status`;
//! - [`store`]: the store of [`crate::edge::VariantSet`]s, bounded in bytes, on a
//!   sharded LRU map of its own ([`lru`]);
//! - [`upstream`]: the pooled upstream client, hop-by-hop removal, the tee body that
//!   streams a response to the client while keeping a copy to store;
//! - [`collapse`]: in-flight fetches that concurrent misses wait on;
//! - [`judge`]: the browser's verdict on what was served vs. what the upstream answers;
//! - [`admin`] and [`metrics`]: `/.varyedge/` endpoints and counters.

pub mod access_log;
pub mod admin;
pub mod collapse;
pub mod framing;
pub mod hit_head;
pub mod judge;
pub mod listener;
pub mod lru;
pub mod malloc;
pub mod metrics;
pub mod names;
pub mod server;
pub mod store;
pub mod upstream;
pub mod weigh;

use crate::profile::Knobs;
use std::net::SocketAddr;
use std::time::Duration;

pub use server::run;

/// The reserved path prefix of the proxy's own endpoints.
pub const ADMIN_PREFIX: &str = "/.varyedge/";

/// How the proxy is set up (the command line, parsed).
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen (port 0 picks a free port; the bound address is printed).
    pub listen: SocketAddr,
    /// The upstream, `http://host:port` with an optional path prefix.
    pub upstream: Upstream,
    /// The cache's knobs (a profile plus overrides).
    pub knobs: Knobs,
    /// The profile's name, for stats.
    pub profile: String,
    /// Bytes the store may hold.
    pub capacity: u64,
    /// No response head from the upstream within this → 504; no body data within this
    /// → the response is aborted.
    pub upstream_timeout: Duration,
    /// Largest request body forwarded (413 beyond it).
    pub max_request_body: u64,
    /// Send the client's `Host` upstream instead of the upstream's authority.
    pub preserve_host: bool,
    /// Where the `/.varyedge/` endpoints answer.
    pub admin: AdminListen,
    /// Client connection limits and timeouts.
    pub limits: listener::Limits,
    /// At most this many variants per primary key (URL): the oldest go first. Applies on
    /// top of the profile's own `max_variants` (the smaller wins).
    pub max_variants_per_url: usize,
    /// One JSON line per proxied request (`--access-log FILE|-`), if asked for.
    pub access_log: Option<std::sync::Arc<access_log::AccessLog>>,
}

/// Where the proxy's own endpoints answer (`--admin-listen`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminListen {
    /// The default: on the proxy's listener, but only for origin-form requests whose
    /// `Host` is a loopback name or address (`localhost`, `127.0.0.1`, `[::1]`). Any other
    /// Host, and absolute-form targets, are proxied like every other path.
    Loopback,
    /// On a listener of their own at this address; the proxy's listener proxies
    /// `/.varyedge/` like any path.
    Addr(SocketAddr),
    /// Nowhere.
    Off,
}

impl AdminListen {
    /// Parses `--admin-listen`: `ADDR`, `loopback` or `off`.
    pub fn parse(s: &str) -> Result<AdminListen, String> {
        match s {
            "off" => Ok(AdminListen::Off),
            "loopback" => Ok(AdminListen::Loopback),
            a => a.parse().map(AdminListen::Addr).map_err(|_| {
                format!("--admin-listen {a:?}: expected ADDR:PORT, `loopback` or `off`")
            }),
        }
    }
}

/// The default per-URL variant bound (`--max-variants`): an Origin-varying API seen by a
/// few hundred sites fits; an attacker cycling Origins does not grow one key without end.
pub const MAX_VARIANTS_PER_URL: usize = 256;

impl Config {
    /// The largest single response stored: an eighth of the capacity, at most 8 MiB.
    pub fn max_object(&self) -> usize {
        (self.capacity / 8).min(8 << 20) as usize
    }
}

/// A parsed `--upstream` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    /// `host:port` (port defaulted to 80).
    pub authority: String,
    /// Path prefix without a trailing slash (`""` for none).
    pub prefix: String,
}

impl Upstream {
    /// Parses `http://host[:port][/prefix]`. Only plain HTTP is supported (no TLS). The
    /// structure is read by the one base-URL parser of `src/net`
    /// ([`crate::net::client::BaseUrl::parse`]); this adds the scheme's diagnosis and the
    /// default port.
    pub fn parse(url: &str) -> Result<Upstream, String> {
        match url.split_once("://") {
            Some(("http", _)) => {}
            Some((s, _)) => {
                return Err(format!(
                    "upstream {url:?}: scheme {s:?} is not supported (plain http:// only)"
                ))
            }
            None => return Err(format!("upstream {url:?}: expected http://HOST:PORT")),
        }
        let base = crate::net::client::BaseUrl::parse(url).map_err(|_| {
            format!(
                "upstream {url:?}: expected http://HOST[:PORT][/PREFIX], a port from 1 to 65535, without user, query or fragment"
            )
        })?;
        let has_port = base
            .authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.contains(']'));
        let authority = if has_port {
            base.authority
        } else {
            format!("{}:80", base.authority)
        };
        Ok(Upstream {
            authority,
            prefix: base.prefix,
        })
    }
}

/// Parses a size like `64MiB`, `1GB`, `512k`, `1048576` (bytes). Decimal units are
/// powers of 1000, binary (`KiB`, `MiB`, `GiB`) powers of 1024; `k`/`m`/`g` alone are
/// binary, as in most server configs.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| {
        format!("size {s:?}: expected a number of bytes like 64MiB, 1GB or 1048576")
    })?;
    let mul: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        u => {
            return Err(format!(
                "size {s:?}: unknown unit {u:?} (use B, KB, MB, GB, KiB, MiB, GiB)"
            ))
        }
    };
    n.checked_mul(mul)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("99999999999999999999GiB").is_err());
    }

    #[test]
    fn upstreams() {
        let u = Upstream::parse("http://127.0.0.1:3000").unwrap();
        assert_eq!(u.authority, "127.0.0.1:3000");
        assert_eq!(u.prefix, "");
        let u = Upstream::parse("http://api.local/v1/").unwrap();
        assert_eq!(u.authority, "api.local:80");
        assert_eq!(u.prefix, "/v1");
        let u = Upstream::parse("http://[::1]:8080").unwrap();
        assert_eq!(u.authority, "[::1]:8080");
        assert!(Upstream::parse("https://x").is_err());
        assert!(Upstream::parse("x:80").is_err());
        assert!(Upstream::parse("http://u@x/").is_err());
        assert!(Upstream::parse("http://x/?a").is_err());
        assert!(Upstream::parse("http://127.0.0.1:99999").is_err());
        assert!(Upstream::parse("http://127.0.0.1:0").is_err());
        assert!(Upstream::parse("http://127.0.0.1:").is_err());
    }
}
