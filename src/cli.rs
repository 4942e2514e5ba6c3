//! Command-line arguments (clap derive only; no logic here).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// varyedge — find the CORS failures a CDN edge cache will cause, before it does.
#[derive(Debug, Parser)]
#[command(name = "varyedge", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// The command.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Replay scenario files (or directories of them) through the emulated edge.
    Replay(ReplayArgs),
    /// One scenario through every profile: which CDNs break it, and how.
    Matrix(MatrixArgs),
    /// List the built-in profiles: their knobs, behaviour and sources.
    Profiles(ProfilesArgs),
    /// Serve a scenario's origin model over HTTP, to put real caches in front of it.
    #[cfg(feature = "net")]
    Origin(OriginArgs),
    /// A caching reverse proxy on the same edge core, for local staging: says what it did
    /// on every response and warns about cache-induced CORS failures.
    #[cfg(feature = "net")]
    Proxy(ProxyArgs),
}

/// `varyedge replay`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReplayArgs {
    /// Scenario files (.yaml) or directories holding them.
    #[arg(required = true, value_name = "SCENARIO")]
    pub(crate) scenarios: Vec<PathBuf>,
    /// Use this profile instead of the scenario's (the scenario's knob overrides still apply).
    #[arg(long, value_name = "P")]
    pub(crate) profile: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
    /// Write the report to FILE instead of standard output (written whole or not at all).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// Human-readable.
    Text,
    /// JSON (PRODUCT.md's stable report).
    Json,
    /// JUnit XML for CI.
    Junit,
}

/// `varyedge matrix`.
#[derive(Debug, clap::Args)]
pub(crate) struct MatrixArgs {
    /// The scenario.
    #[arg(value_name = "SCENARIO")]
    pub(crate) scenario: PathBuf,
    /// `all`, or a comma-separated list of profile names.
    #[arg(long, default_value = "all", value_name = "all|p1,p2")]
    pub(crate) profiles: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = MatrixFormat::Text)]
    pub(crate) format: MatrixFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

/// Matrix formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum MatrixFormat {
    /// Aligned table.
    Text,
    /// Markdown table.
    Markdown,
    /// JSON.
    Json,
}

/// `varyedge profiles`.
#[derive(Debug, clap::Args)]
pub(crate) struct ProfilesArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `varyedge origin`.
#[cfg(feature = "net")]
#[derive(Debug, clap::Args)]
pub(crate) struct OriginArgs {
    /// The scenario whose `origin:` to serve.
    #[arg(value_name = "SCENARIO")]
    pub(crate) scenario: PathBuf,
    /// Address to listen on (loopback by default; port 0 picks a free port and prints it).
    #[arg(long, default_value = "127.0.0.1:3000", value_name = "ADDR")]
    pub(crate) listen: std::net::SocketAddr,
}

/// `varyedge proxy`.
#[cfg(feature = "net")]
#[derive(Debug, clap::Args)]
pub(crate) struct ProxyArgs {
    /// The upstream to proxy to: http://HOST[:PORT][/PREFIX].
    #[arg(long, value_name = "URL")]
    pub(crate) upstream: String,
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub(crate) listen: std::net::SocketAddr,
    /// The cache profile whose knobs to use (see `varyedge profiles`).
    #[arg(long, default_value = "rfc9111", value_name = "P")]
    pub(crate) profile: String,
    /// Override the profile's Vary treatment.
    #[arg(long, value_enum, value_name = "MODE")]
    pub(crate) vary: Option<VaryArg>,
    /// Store OPTIONS (preflight) responses.
    #[arg(long)]
    pub(crate) cache_options: bool,
    /// Override whether Origin and Access-Control-Request-* key an OPTIONS entry.
    #[arg(long, value_enum, value_name = "MODE")]
    pub(crate) preflight_key: Option<PreflightKeyArg>,
    /// Request header always in the primary key (repeatable).
    #[arg(long = "key-header", value_name = "NAME")]
    pub(crate) key_headers: Vec<String>,
    /// Override the profile's request collapsing.
    #[arg(long, value_enum, value_name = "MODE")]
    pub(crate) collapse: Option<CollapseArg>,
    /// Bytes the store may hold (64MiB, 1GB, 1048576).
    #[arg(long, default_value = "64MiB", value_name = "SIZE")]
    pub(crate) capacity: String,
    /// Seconds to wait for the upstream's response head (then 504) and between body chunks.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub(crate) upstream_timeout: f64,
    /// Largest request body forwarded (413 beyond it).
    #[arg(long, default_value = "16MiB", value_name = "SIZE")]
    pub(crate) max_body: String,
    /// Send the client's Host upstream instead of the upstream's authority.
    #[arg(long)]
    pub(crate) preserve_host: bool,
}

/// `--vary` values (PRODUCT.md knob `vary`).
#[cfg(feature = "net")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum VaryArg {
    /// RFC 9111: every nominated request field must match.
    Honor,
    /// Vary plays no part in the key.
    Ignore,
    /// Honoured except for Origin.
    IgnoreOrigin,
    /// Only Accept-Encoding is honoured.
    AcceptEncodingOnly,
    /// Vary beyond Accept-Encoding is not stored.
    Uncacheable,
}

/// `--preflight-key` values.
#[cfg(feature = "net")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum PreflightKeyArg {
    /// They key OPTIONS entries.
    Honor,
    /// They do not.
    Ignore,
}

/// `--collapse` values.
#[cfg(feature = "net")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum CollapseArg {
    /// Every miss goes upstream.
    Off,
    /// Waiters take the leader's response only if it is stored and its Vary matches.
    On,
    /// Waiters take the leader's response whatever it varies on.
    Naive,
}
