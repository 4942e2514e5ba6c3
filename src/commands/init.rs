//! `varyedge init`, `varyedge completions SHELL`, `varyedge man`: getting started.

use super::emit;
use crate::cli::{Cli, CompletionsArgs, InitArgs, ManArgs};
use anyhow::Context;
use clap::CommandFactory;
use std::path::Path;
use varyedge::error::ExitStatus;

/// The starter scenario: commented, and every expectation in it holds (a test replays it).
pub(crate) const STARTER: &str = include_str!("starter.yaml");

pub(crate) fn run(a: InitArgs) -> anyhow::Result<ExitStatus> {
    if a.file == Path::new("-") {
        emit(None, STARTER)?;
        return Ok(ExitStatus::Clean);
    }
    if a.file.exists() && !a.force {
        anyhow::bail!(
            "{} already exists; pass --force to replace it, or name another file",
            a.file.display()
        );
    }
    // The header's example command names the file actually written.
    let text = STARTER.replacen(
        "varyedge replay scenario.yaml",
        &format!("varyedge replay {}", a.file.display()),
        1,
    );
    emit(Some(&a.file), &text)?;
    eprintln!("wrote {0}; try: varyedge replay {0}", a.file.display());
    Ok(ExitStatus::Clean)
}

pub(crate) fn completions(a: CompletionsArgs) -> anyhow::Result<ExitStatus> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "varyedge", &mut buf);
    emit(None, &String::from_utf8_lossy(&buf))?;
    Ok(ExitStatus::Clean)
}

pub(crate) fn man(a: ManArgs) -> anyhow::Result<ExitStatus> {
    let cmd = Cli::command();
    match a.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, &dir)
                .with_context(|| format!("cannot write man pages into {}", dir.display()))?;
            eprintln!("wrote man pages into {}", dir.display());
        }
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            emit(None, &String::from_utf8_lossy(&buf))?;
        }
    }
    Ok(ExitStatus::Clean)
}
