//! Command-line arguments (clap derive only; no logic here).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use varyedge::report::{
    DiagnoseFormat, ExploreFormat, LintFormat, MatrixFormat, ProfilesFormat, ReplayFormat,
};

/// varyedge — find the CORS failures a CDN edge cache will cause, before it does.
#[derive(Debug, Parser)]
#[command(name = "varyedge", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// The command.
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Say less: only errors and the result line (a text report shrinks to its result
    /// line, replay's failing steps as file:line lines; notes and progress are left out).
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// Say more: replay adds where each response was stored (or why not) and what the
    /// origin alone answers; matrix each failing profile's first failure in full.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub(crate) verbose: bool,
    /// Colour the text report: `auto` on a terminal unless NO_COLOR is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub(crate) color: ColorWhen,
}

/// `--color` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set to something.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
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
    // --- HAR (issue 15): `import har`, `diagnose har` ---
    /// Turn traffic (HAR) or configuration (CDN config) you already have into scenario material.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Find the cache-induced CORS failures a recording already shows.
    #[command(subcommand)]
    Diagnose(DiagnoseCommand),
    /// Write a commented starter scenario that replays as it is (then edit it).
    Init(InitArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a directory.
    Man(ManArgs),
    /// Probe a live edge with cache-busted requests and infer its knobs and profile.
    #[cfg(feature = "net")]
    Fingerprint(FingerprintArgs),
    /// For a scenario the edge breaks: the candidate fixes, each proven (replay + explore),
    /// costed (hit ratio, forwarded requests, stored variants) and ready to paste; ranked.
    Fix(FixArgs),
}

/// `varyedge init`.
#[derive(Debug, clap::Args)]
pub(crate) struct InitArgs {
    /// Where to write it (`-` for standard output).
    #[arg(default_value = "scenario.yaml", value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub(crate) force: bool,
}

/// `varyedge completions`.
#[derive(Debug, clap::Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum, value_name = "SHELL")]
    pub(crate) shell: clap_complete::Shell,
}

/// `varyedge man`.
#[derive(Debug, clap::Args)]
pub(crate) struct ManArgs {
    /// Write varyedge.1 and varyedge-COMMAND.1 into this directory instead.
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
}

/// `fingerprint --format`.
#[cfg(feature = "net")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FingerprintFormat {
    /// Edge block with the evidence as comments.
    Text,
    /// JSON.
    Json,
}

/// `varyedge fingerprint`.
#[cfg(feature = "net")]
#[derive(Debug, clap::Args)]
pub(crate) struct FingerprintArgs {
    /// The edge to probe: http://HOST[:PORT]. Nothing else is ever contacted.
    #[arg(long, value_name = "URL")]
    pub(crate) target: String,
    /// A cacheable CORS route (a prefix route when the query is not in the key: probes
    /// append /vefp-… to it).
    #[arg(long, value_name = "PATH")]
    pub(crate) path: String,
    /// A route answering without `Vary: Origin`, to tell "Origin keyed" from "Vary honoured".
    #[arg(long, value_name = "PATH")]
    pub(crate) novary_path: Option<String>,
    /// Two origins the route allows (repeat the flag).
    #[arg(long = "origin", value_name = "ORIGIN", default_values_t = ["https://app1.example.com".to_string(), "https://app2.example.com".to_string()])]
    pub(crate) origins: Vec<String>,
    /// At most this many requests in all.
    #[arg(long, default_value_t = 80, value_name = "N")]
    pub(crate) max_probes: usize,
    /// At most this many requests per second (polite by default).
    #[arg(long, default_value_t = 5.0, value_name = "PER_SEC")]
    pub(crate) rate: f64,
    /// `text`: an edge block with the evidence as comments; `json`.
    #[arg(long, value_enum, default_value_t = FingerprintFormat::Text)]
    pub(crate) format: FingerprintFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

/// `varyedge import …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ImportCommand {
    /// A HAR 1.2 recording (DevTools, Playwright recordHar, Charles, Fiddler) → a v1 scenario.
    Har(ImportHarArgs),
    /// A CDN or cache configuration (CloudFront JSON / CloudFormation / terraform show
    /// -json, Cloudflare ruleset, nginx, VCL) → an `edge:` block with where each knob came
    /// from; constructs it cannot interpret are warnings (docs/import.md).
    CdnConfig(ImportConfigArgs),
}

/// `varyedge import har`.
#[derive(Debug, clap::Args)]
pub(crate) struct ImportHarArgs {
    /// HAR files (several browsers or users are merged by time).
    #[arg(required = true, value_name = "FILE.har")]
    pub(crate) files: Vec<PathBuf>,
    /// Write the scenario to FILE instead of standard output (whole or not at all).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// The edge profile, instead of guessing it from the response headers.
    #[arg(long, value_name = "P")]
    pub(crate) profile: Option<String>,
    /// Only requests to this host (host[:port]; repeatable). Default: every host that
    /// answered a cross-origin request.
    #[arg(long = "host", value_name = "H")]
    pub(crate) hosts: Vec<String>,
    /// Write cookies, Authorization and secret-looking values as recorded.
    #[arg(long)]
    pub(crate) keep_secrets: bool,
    /// The scenario's name (default: the first file's stem).
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
}

/// `varyedge diagnose …`.
#[derive(Debug, Subcommand)]
pub(crate) enum DiagnoseCommand {
    /// The blocked responses in a HAR, which came from a cache, and who poisoned it.
    Har(DiagnoseHarArgs),
}

/// `varyedge diagnose har`.
#[derive(Debug, clap::Args)]
pub(crate) struct DiagnoseHarArgs {
    /// HAR files (each diagnosed on its own).
    #[arg(required = true, value_name = "FILE.har")]
    pub(crate) files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiagnoseFormat::Text)]
    pub(crate) format: DiagnoseFormat,
    /// Write to FILE instead of standard output (written whole or not at all).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

/// `varyedge import cdn-config`.
#[derive(Debug, clap::Args)]
pub(crate) struct ImportConfigArgs {
    /// The configuration file.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Write the edge block to FILE instead of standard output (whole or not at all).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
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
    /// Threads for an in-process replay of a large scenario: 0 (the default) uses every
    /// available core. Steps on different paths run apart with the same report as one
    /// thread; a scenario whose paths interact (redirects, Set-Cookie, error windows)
    /// runs on one thread.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub(crate) jobs: usize,
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
    /// With --target: write what went over the wire as a HAR 1.2 file (for a bug report;
    /// `varyedge import har` reads it back).
    #[cfg(feature = "net")]
    #[arg(long, value_name = "FILE", requires = "target")]
    pub(crate) har: Option<PathBuf>,
    /// With --target: the longest real wait between two steps (longer gaps are shortened).
    #[cfg(feature = "net")]
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub(crate) max_wait: String,
    /// With --target: a real pause before every step after the first (default none),
    /// for a cache that may still be completing the entry it just served when the next
    /// request arrives back to back (Squid: 50ms is enough). Steps keep their order and
    /// the model's clock is unchanged.
    #[cfg(feature = "net")]
    #[arg(long, value_name = "DURATION", default_value = "0ms")]
    pub(crate) pause: String,
}

/// `varyedge matrix`.
#[derive(Debug, clap::Args)]
pub(crate) struct MatrixArgs {
    /// Scenario files (or directories of them); one matrix each.
    #[arg(required = true, value_name = "SCENARIO")]
    pub(crate) scenarios: Vec<PathBuf>,
    /// `all`, or a comma-separated list of profile names.
    #[arg(long, default_value = "all", value_name = "all|p1,p2")]
    pub(crate) profiles: String,
    /// Add a row for the edge imported from this CDN/cache configuration (see `import cdn-config`).
    #[arg(long, value_name = "FILE")]
    pub(crate) edge_config: Option<PathBuf>,
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
    /// Output format (`markdown` is the reference checked in as docs/profiles.md).
    #[arg(long, value_enum, default_value_t = ProfilesFormat::Text)]
    pub(crate) format: ProfilesFormat,
    /// Same as `--format json` (kept for scripts written before `--format`).
    #[arg(long, conflicts_with = "format")]
    pub(crate) json: bool,
    /// Write to FILE instead of standard output (written whole or not at all).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
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
#[command(group(clap::ArgGroup::new("target").required(true).args(["scenarios", "upstream"])))]
pub(crate) struct LintArgs {
    /// Scenario files (or directories of them) whose origin policy, clients and edge to check.
    #[arg(value_name = "SCENARIO")]
    pub(crate) scenarios: Vec<PathBuf>,
    /// Probe this real server instead (an http:// URL), with crafted Origins.
    #[arg(long, value_name = "URL")]
    pub(crate) upstream: Option<String>,
    /// A trusted origin the probe derives its crafted origins from (repeatable).
    #[arg(long = "origin", value_name = "O", requires = "upstream")]
    pub(crate) origins: Vec<String>,
    /// A path to probe (repeatable; default /).
    #[arg(long = "path", value_name = "P", requires = "upstream")]
    pub(crate) paths: Vec<String>,
    /// Use the edge imported from this CDN/cache configuration (see `import cdn-config`).
    #[arg(long, value_name = "FILE")]
    pub(crate) edge_config: Option<PathBuf>,
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
    /// Scenario files (or directories of them) whose clients, requests, origin and edge
    /// are explored, each on its own.
    #[arg(required = true, value_name = "SCENARIO")]
    pub(crate) scenarios: Vec<PathBuf>,
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
    /// Threads that sample sessions: 0 (the default) uses every available core. The
    /// report is the same, byte for byte, whatever the number.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub(crate) jobs: usize,
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
    /// Use the knobs imported from this CDN/cache configuration (or a YAML `edge:` block)
    /// instead of --profile's; the other flags still apply on top.
    #[arg(long, value_name = "FILE")]
    pub(crate) edge_config: Option<PathBuf>,
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
    /// Where the /.varyedge/ endpoints answer: `loopback` (on the proxy's listener, for
    /// loopback Hosts only), ADDR:PORT (a listener of their own), or `off`.
    #[arg(long, default_value = "loopback", value_name = "ADDR|loopback|off")]
    pub(crate) admin_listen: String,
    /// Seconds a new connection has to send a complete request head.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub(crate) header_timeout: f64,
    /// Seconds an idle keep-alive connection is kept open.
    #[arg(long, default_value_t = 60.0, value_name = "SECS")]
    pub(crate) idle_timeout: f64,
    /// Most client connections open at once (keep it below `ulimit -n`).
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub(crate) max_connections: usize,
    /// Worker threads, each with its own listening socket and event loop (0: one per
    /// available core). On a machine whose cores are shared with a load generator, fewer
    /// workers than cores keeps the latency tail short (benches/load/README.md).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub(crate) workers: usize,
    /// Most variants kept per URL (primary key); the oldest go first.
    #[arg(long, default_value_t = varyedge::net::proxy::MAX_VARIANTS_PER_URL, value_name = "N")]
    pub(crate) max_variants: usize,
    /// Log every proxied request as one JSON line (time, request, Origin, outcome, key,
    /// status, ms) to FILE (appended), or to standard output with `-`.
    #[arg(long, value_name = "FILE|-")]
    pub(crate) access_log: Option<String>,
}
