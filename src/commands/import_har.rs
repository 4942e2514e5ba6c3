//! `varyedge import har`: HAR files → a v1 scenario (stdout or --out, whole or nothing).

use super::emit;
use crate::cli::ImportHarArgs;
use varyedge::error::ExitStatus;
use varyedge::har::import::{import, ImportOptions};
use varyedge::har::read::read_path;

pub(crate) fn run(a: ImportHarArgs, _: super::Globals) -> anyhow::Result<ExitStatus> {
    // `-` is standard input
    let hars = match a
        .files
        .iter()
        .map(|f| read_path(f))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(h) => h,
        Err(e) => {
            eprintln!("varyedge: {e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    if hars.iter().all(|h| h.entries.is_empty()) {
        for h in &hars {
            eprintln!(
                "varyedge: {}: log.entries: empty, so no cross-origin request in the recording; expected at least one recorded request (keep the network panel open while reproducing, then save as HAR)",
                h.file
            );
        }
        return Ok(ExitStatus::BadInput);
    }
    // the scenario's `name:` is one line (its reader refuses a control character)
    if let Some(n) = a
        .name
        .as_deref()
        .filter(|n| n.chars().any(char::is_control))
    {
        eprintln!("varyedge: import har: --name {n:?}: expected a one-line name (no line break, tab or other control character)");
        return Ok(ExitStatus::BadInput);
    }
    let name = a
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| {
            a.files
                .first()
                .filter(|f| f.as_os_str() != "-")
                .and_then(|f| f.file_stem())
                .map_or("imported".into(), |s| s.to_string_lossy().to_string())
        });
    let opts = ImportOptions {
        name,
        profile: a.profile.clone(),
        hosts: a.hosts.clone(),
        keep_secrets: a.keep_secrets,
    };
    let imported = match import(&hars, &opts) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("varyedge: import har: {e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    emit(a.out.as_deref(), &imported.yaml)?;
    let (steps, folded, skipped) = imported.counts;
    super::note(format_args!(
        "varyedge: imported {steps} steps ({folded} preflights folded into their requests, {skipped} entries to other hosts or from the browser's own cache skipped), {} clients, edge {}",
        imported.scenario.clients.len(),
        imported.scenario.edge.profile
    ));
    Ok(ExitStatus::Clean)
}
