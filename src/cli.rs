//! Command-line arguments (clap derive only; no logic here).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use varyedge::report::{ExploreFormat, LintFormat, MatrixFormat, ReplayFormat};

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
    /// CORS misconfigurations in a scenario's policy and edge, or probed live on a server.
    Lint(LintArgs),
    /// Search random sessions of a scenario's clients (order, timing, POPs) for
    /// cache-induced CORS failures; report the rate and shrink each kind to a repro.
    Explore(ExploreArgs),
    /// A caching reverse proxy on the same edge core, for local staging: says what it did
    /// on every response and warns about cache-induced CORS failures.
    #[cfg(feature = "net")]
    Proxy(ProxyArgs),
    /// For a scenario the edge breaks: the candidate fixes, each proven (replay + explore),
    /// costed (hit ratio, forwarded requests, stored variants) and ready to paste; ranked.
    Fix(FixArgs),
}

/// `varyedge fix`.
#[derive(Debug, clap::Args)]
pub(crate) struct FixArgs {
    /// Scenario files (.yaml) or directories holding them.
    #[arg(required = true, value_name = "SCENARIO")]
    pub(crate) scenarios: Vec<PathBuf>,
    /// Explore sessions per proof, and generated sessions for the traffic-mix cost.
    #[arg(long, default_value_t = 300, value_name = "N")]
    pub(crate) cases: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = varyedge::report::FixFormat::Text)]
    pub(crate) format: varyedge::report::FixFormat,
    /// Write the report to FILE instead of standard output (written whole or not at all).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
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
    #[arg(long, value_enum, default_value_t = ReplayFormat::Text)]
    pub(crate) format: ReplayFormat,
    /// Write the report to FILE instead of standard output (written whole or not at all).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Send the steps over the wire to this cache (proxy, Varnish, CDN) instead of
    /// replaying in-process: `http://HOST:PORT`.
    #[cfg(feature = "net")]
    #[arg(long, value_name = "URL")]
    pub(crate) target: Option<String>,
    /// With --target: the origin behind it, asked directly for the no-cache verdict (and,
    /// when it is a `varyedge origin`, for whether each request reached it).
    #[cfg(feature = "net")]
    #[arg(long, value_name = "URL", requires = "target")]
    pub(crate) direct: Option<String>,
    /// With --target: the `Host` header to send (default: the target's host:port).
    #[cfg(feature = "net")]
    #[arg(long, value_name = "HOST", requires = "target")]
    pub(crate) host_header: Option<String>,
    /// With --target: the longest real wait between two steps (longer gaps are shortened).
    #[cfg(feature = "net")]
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub(crate) max_wait: String,
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

/// `varyedge lint`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["scenario", "upstream"])))]
pub(crate) struct LintArgs {
    /// The scenario whose origin policy, clients and edge to check.
    #[arg(value_name = "SCENARIO")]
    pub(crate) scenario: Option<PathBuf>,
    /// Probe this real server instead (an http:// URL), with crafted Origins.
    #[arg(long, value_name = "URL")]
    pub(crate) upstream: Option<String>,
    /// A trusted origin the probe derives its crafted origins from (repeatable).
    #[arg(long = "origin", value_name = "O", requires = "upstream")]
    pub(crate) origins: Vec<String>,
    /// A path to probe (repeatable; default /).
    #[arg(long = "path", value_name = "P", requires = "upstream")]
    pub(crate) paths: Vec<String>,
    /// Check the scenario against this profile's edge instead of its own.
    #[arg(long, value_name = "P", conflicts_with = "upstream")]
    pub(crate) profile: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub(crate) format: LintFormat,
    /// Write to FILE instead of standard output (written whole or not at all).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub(crate) fail_on: FailOn,
    /// Per-request timeout of the live probe (e.g. 5s, 500ms).
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    pub(crate) timeout: String,
}

/// `--fail-on` thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    /// Only critical findings fail.
    Critical,
    /// High or critical.
    High,
    /// Medium and above.
    Medium,
    /// Low and above.
    Low,
    /// Any finding.
    Info,
}

/// `varyedge explore`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExploreArgs {
    /// The scenario whose clients, requests, origin and edge are explored.
    #[arg(value_name = "SCENARIO")]
    pub(crate) scenario: PathBuf,
    /// Random sessions to run.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub(crate) cases: u64,
    /// Seed: the same seed gives the same result, byte for byte.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub(crate) seed: u64,
    /// Most steps in a session.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub(crate) max_steps: u16,
    /// Use this profile instead of the scenario's (its knob overrides still apply).
    #[arg(long, value_name = "P")]
    pub(crate) profile: Option<String>,
    /// Write the shortest repro of each failure kind as a v1 scenario: the first to FILE,
    /// the others beside it as FILE-STEM.2.yaml, …; or one file per kind into FILE when it
    /// is a directory.
    #[arg(long, value_name = "FILE")]
    pub(crate) write_repro: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExploreFormat::Text)]
    pub(crate) format: ExploreFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
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
    /// The cache profile and knob overrides.
    #[command(flatten)]
    pub(crate) edge: varyedge::profile::EdgeFlags,
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
