//! The `varyedge` binary: arguments → command → exit code 0/1/2.

use clap::Parser;
use std::process::ExitCode;

mod cli;
mod commands;

/// Per-step temporaries of a long replay and the proxy's many small entries are the
/// allocation pattern here; see the `mimalloc` line in Cargo.toml for the measurement.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let status = commands::run(args);
    ExitCode::from(status as u8)
}
