//! One file per subcommand: the only place that reads files and prints.

mod diagnose;
mod explore;
#[cfg(feature = "net")]
mod fingerprint;
mod fix;
mod import_config;
mod import_har;
mod init;
mod lint;
mod matrix;
#[cfg(feature = "net")]
mod origin;
mod profiles;
#[cfg(feature = "net")]
mod proxy;
mod replay;
mod simulator;
mod traffic;

use crate::cli::{Cli, ColorWhen, Command};
use std::io::Write;
use std::path::{Path, PathBuf};
use varyedge::error::{ExitStatus, InputError};
use varyedge::report::style::Style;
use varyedge::report::text::{TextOptions, Verbosity};
use varyedge::scenario::{self, Scenario};

/// Runs a parsed command line.
pub(crate) fn run(cli: Cli) -> ExitStatus {
    let opts = Globals {
        quiet: cli.quiet,
        verbose: cli.verbose,
        color: cli.color,
    };
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    if let Some(msg) = out_replaces_an_input(&cli.command) {
        eprintln!("{msg}");
        return ExitStatus::BadInput;
    }
    let r = match cli.command {
        Command::Replay(a) => replay::run(a, opts),
        Command::Matrix(a) => matrix::run(a, opts),
        Command::Profiles(a) => profiles::run(a),
        #[cfg(feature = "net")]
        Command::Origin(a) => origin::run(a),
        Command::Lint(a) => lint::run(a, opts),
        Command::Explore(a) => explore::run(a, opts),
        #[cfg(feature = "net")]
        Command::Proxy(a) => proxy::run(a, opts),
        Command::Import(crate::cli::ImportCommand::Har(a)) => import_har::run(a, opts),
        Command::Diagnose(crate::cli::DiagnoseCommand::Har(a)) => diagnose::run(a, opts),
        Command::Init(a) => init::run(a),
        Command::Completions(a) => init::completions(a),
        Command::Man(a) => init::man(a),
        Command::Import(crate::cli::ImportCommand::CdnConfig(a)) => import_config::run(a),
        #[cfg(feature = "net")]
        Command::Fingerprint(a) => fingerprint::run(a),
        Command::Fix(a) => fix::run(a, opts),
    };
    match r {
        Ok(s) => s,
        Err(e) => {
            eprintln!("varyedge: {e:#}");
            ExitStatus::BadInput
        }
    }
}

/// `--out FILE` naming one of the command's own input files (`replay api.yaml --out
/// api.yaml`, a slip of the hand in a CI script) would replace the input with the report;
/// refused before anything runs. A directory input is not looked into: a report written
/// into it is only read by a later run.
fn out_replaces_an_input(c: &Command) -> Option<String> {
    use crate::cli::{DiagnoseCommand, ImportCommand};
    let (inputs, out): (&[PathBuf], Option<&PathBuf>) = match c {
        Command::Replay(a) => (&a.scenarios, a.out.as_ref()),
        Command::Matrix(a) => (&a.scenarios, a.out.as_ref()),
        Command::Lint(a) => (&a.scenarios, a.out.as_ref()),
        Command::Explore(a) => (&a.scenarios, a.out.as_ref()),
        Command::Fix(a) => (&a.scenarios, a.out.as_ref()),
        Command::Import(ImportCommand::Har(a)) => (&a.files, a.out.as_ref()),
        Command::Diagnose(DiagnoseCommand::Har(a)) => (&a.files, a.out.as_ref()),
        Command::Import(ImportCommand::CdnConfig(a)) => {
            (std::slice::from_ref(&a.file), a.out.as_ref())
        }
        _ => return None,
    };
    let out_real = std::fs::canonicalize(out?).ok()?;
    let same = inputs
        .iter()
        .find(|i| std::fs::canonicalize(i).is_ok_and(|r| r == out_real))?;
    Some(format!(
        "varyedge: --out {}: that is the input {}; the report would replace it: name another file",
        out?.display(),
        same.display()
    ))
}

/// The network drivers' lines: information on standard output (flushed at once, since a
/// parent process waits for `listening on`), warnings on standard error.
#[cfg(feature = "net")]
struct StdSink;

#[cfg(feature = "net")]
impl varyedge::net::log::Sink for StdSink {
    fn line(&self, level: varyedge::net::log::Level, text: std::fmt::Arguments<'_>) {
        use varyedge::net::log::Level;
        // A closed pipe is not an error for a server's log lines.
        let _ = match level {
            Level::Info => {
                let mut o = std::io::stdout().lock();
                writeln!(o, "{text}").and_then(|_| o.flush())
            }
            Level::Warn => writeln!(std::io::stderr().lock(), "{text}"),
        };
    }
}

/// Sends the network drivers' lines to standard output and error.
#[cfg(feature = "net")]
pub(crate) fn log_to_std() {
    varyedge::net::log::set_sink(Box::new(StdSink));
}

/// `-q`: notes and warnings on standard error are left out (errors never are).
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A note or warning on standard error, unless `-q`.
pub(crate) fn note(text: std::fmt::Arguments<'_>) {
    if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("{text}");
    }
}

/// The options every command takes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Globals {
    /// `-q`
    pub(crate) quiet: bool,
    /// `-v`
    pub(crate) verbose: bool,
    /// `--color`
    pub(crate) color: ColorWhen,
}

impl Globals {
    /// The text report's options; colour only for a terminal (never into `--out FILE`
    /// unless `--color always`).
    pub(crate) fn text(&self, to_file: bool) -> TextOptions {
        use std::io::IsTerminal;
        let when = match self.color {
            ColorWhen::Always => "always",
            ColorWhen::Never => "never",
            ColorWhen::Auto => "auto",
        };
        let no_color = std::env::var("NO_COLOR").ok();
        let terminal = !to_file && std::io::stdout().is_terminal();
        TextOptions {
            style: Style::decide(when, no_color.as_deref(), terminal),
            verbosity: if self.quiet {
                Verbosity::Quiet
            } else if self.verbose {
                Verbosity::Verbose
            } else {
                Verbosity::Normal
            },
        }
    }
}

/// Whether we run in GitHub Actions (`GITHUB_ACTIONS=true`, set by its runner).
pub(crate) fn on_github() -> bool {
    std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true")
}

/// In GitHub Actions: prints `annotations` (workflow commands) unless standard output
/// holds the report (`annotations_printed`: the github format carried them, or a JSON,
/// JUnit, SARIF, Markdown or HTML report there must stay parseable), and appends `summary`
/// to `$GITHUB_STEP_SUMMARY` when it is set.
pub(crate) fn github_extras(
    annotations_printed: bool,
    annotations: &str,
    summary: &str,
) -> anyhow::Result<()> {
    if !on_github() {
        return Ok(());
    }
    if !annotations_printed {
        emit(None, annotations)?;
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("cannot open $GITHUB_STEP_SUMMARY: {e}"))?;
        f.write_all(summary.as_bytes())?;
    }
    Ok(())
}

/// Expands directories into the `.yaml`/`.yml` files they hold, sorted.
pub(crate) fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| {
                InputError::at(
                    &p.display().to_string(),
                    0,
                    0,
                    format!("cannot read directory: {e}"),
                )
            })?;
            let mut files: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                // every `.yaml` entry but a directory: a link to a file that is gone
                // is then "cannot read", not a scenario silently left out of the run
                .filter(|f| {
                    !f.is_dir()
                        && matches!(f.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"))
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(InputError::at(
                    &p.display().to_string(),
                    0,
                    0,
                    "no .yaml scenario files in this directory",
                ));
            }
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Standard input's bytes, read once: `-` may be loaded more than once (`matrix` reads
/// its scenario under each profile), and every load sees the same text.
fn stdin_bytes() -> std::io::Result<Vec<u8>> {
    static READ: std::sync::OnceLock<Result<Vec<u8>, String>> = std::sync::OnceLock::new();
    READ.get_or_init(|| {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut b)
            .map(|_| b)
            .map_err(|e| e.to_string())
    })
    .clone()
    .map_err(std::io::Error::other)
}

/// The name a scenario path goes by in messages and reports: `-` is `<stdin>`.
pub(crate) fn input_name(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

/// A scenario file's name (as [`input_name`]) and text, `-` being standard input. Every
/// command that reads a scenario's text reads it here, so `-` works wherever a file does.
pub(crate) fn read_input(path: &Path) -> Result<(String, String), InputError> {
    let name = input_name(path);
    let bytes = if path == Path::new("-") {
        stdin_bytes()
    } else {
        std::fs::read(path)
    }
    .map_err(|e| InputError::at(&name, 0, 0, format!("cannot read: {e}")))?;
    // the line and column of the first byte that is not UTF-8
    let text = scenario::text_of(&name, bytes)?;
    Ok((name, text))
}

/// Reads and validates one scenario, optionally under another profile. `-` is standard
/// input (an `edge: { import: FILE }` in it is relative to the working directory).
pub(crate) fn load(path: &Path, profile: Option<&str>) -> Result<Scenario, InputError> {
    let (name, text) = read_input(path)?;
    let sc = scenario::parse_with(&name, &text, profile, Some(&import_config::scenario_import))?;
    // A `traffic:` block is checked whichever command reads the file, so that every
    // command accepts and refuses the same files (`fix` and `explore` use it; the others
    // ignore it). Only a file with a top-level `traffic:` key is read again.
    if text.starts_with("traffic:") || text.contains("\ntraffic:") {
        varyedge::traffic::parse(&name, &text, &sc)?;
    }
    Ok(sc)
}

/// Reads HAR files, streaming each; the first bad one is reported (exit 2).
pub(crate) fn read_hars(
    files: &[PathBuf],
) -> Result<Vec<varyedge::har::Har>, varyedge::har::HarError> {
    // `-` is standard input
    files
        .iter()
        .map(|f| varyedge::har::read::read_path(f))
        .collect()
}

/// Writes output to a file (whole or not at all: a temporary file renamed into place) or
/// to standard output (a closed pipe is not an error).
pub(crate) fn emit(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    emit_with(out, |w| w.write_all(text.as_bytes()))
}

/// [`emit`] for a report written piece by piece by `write`: to `out` through a temporary
/// file renamed into place only once everything is written (an error leaves no partial
/// file), or to standard output, where a closed pipe (`| head`) is not an error.
pub(crate) fn emit_with(
    out: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    match out {
        Some(p) => {
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let tmp = dir.join(format!(
                ".{}.varyedge-tmp-{}",
                p.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
                std::process::id()
            ));
            let res = std::fs::File::create(&tmp)
                .and_then(|f| {
                    let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
                    write(&mut w)?;
                    w.into_inner().map(drop).map_err(|e| e.into_error())
                })
                .and_then(|_| std::fs::rename(&tmp, p));
            if let Err(e) = res {
                let _ = std::fs::remove_file(&tmp);
                anyhow::bail!("cannot write {}: {e}", p.display());
            }
            Ok(())
        }
        None => {
            let mut so = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            match write(&mut so).and_then(|_| so.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => Ok(r?),
            }
        }
    }
}
