//! One file per subcommand: the only place that reads files and prints.

mod explore;
mod fix;
mod lint;
mod matrix;
#[cfg(feature = "net")]
mod origin;
mod profiles;
#[cfg(feature = "net")]
mod proxy;
mod replay;
mod traffic;

use crate::cli::{Cli, Command};
use std::io::Write;
use std::path::{Path, PathBuf};
use varyedge::error::{ExitStatus, InputError};
use varyedge::scenario::{self, Scenario};

/// Runs a parsed command line.
pub(crate) fn run(cli: Cli) -> ExitStatus {
    let r = match cli.command {
        Command::Replay(a) => replay::run(a),
        Command::Matrix(a) => matrix::run(a),
        Command::Profiles(a) => profiles::run(a),
        #[cfg(feature = "net")]
        Command::Origin(a) => origin::run(a),
        Command::Lint(a) => lint::run(a),
        Command::Explore(a) => explore::run(a),
        #[cfg(feature = "net")]
        Command::Proxy(a) => proxy::run(a),
        Command::Fix(a) => fix::run(a),
    };
    match r {
        Ok(s) => s,
        Err(e) => {
            eprintln!("varyedge: {e:#}");
            ExitStatus::BadInput
        }
    }
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
                .filter(|f| {
                    f.is_file()
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

/// Reads and validates one scenario, optionally under another profile.
pub(crate) fn load(path: &Path, profile: Option<&str>) -> Result<Scenario, InputError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| InputError::at(&name, 0, 0, format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| InputError::at(&name, 0, 0, format!("not UTF-8 text: {e}")))?;
    scenario::parse_with_profile(&name, &text, profile)
}

/// Writes output to a file (whole or not at all: a temporary file renamed into place) or
/// to standard output (a closed pipe is not an error).
pub(crate) fn emit(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
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
            let res = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, p));
            if let Err(e) = res {
                let _ = std::fs::remove_file(&tmp);
                anyhow::bail!("cannot write {}: {e}", p.display());
            }
            Ok(())
        }
        None => {
            let mut so = std::io::stdout().lock();
            match so.write_all(text.as_bytes()).and_then(|_| so.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => Ok(r?),
            }
        }
    }
}
