//! `varyedge import cdn-config FILE`: a CDN/cache configuration → an `edge:` block; and
//! the file reads behind `edge: { import: FILE }` and `--edge-config FILE`.

use super::emit;
use crate::cli::ImportConfigArgs;
use std::path::Path;
use varyedge::error::{ExitStatus, InputError};
use varyedge::import::{self, Imported};

/// Reads and imports a configuration file; `-` is standard input (named `<stdin>`; its
/// format is then told from the content alone).
pub(crate) fn load_edge(path: &Path) -> Result<Imported, InputError> {
    let stdin = path == Path::new("-");
    let name = if stdin {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    let bytes = if stdin {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut b).map(|_| b)
    } else {
        std::fs::read(path)
    }
    .map_err(|e| InputError::at(&name, 0, 0, format!("cannot read: {e}")))?;
    // the line and column of the first byte that is not UTF-8
    let text = varyedge::scenario::text_of(&name, bytes)?;
    import::import(&name, &text)
}

/// The scenario loader: `import:` paths are relative to the scenario file.
pub(crate) fn scenario_import(scenario_file: &str, rel: &str) -> Result<Imported, InputError> {
    let base = Path::new(scenario_file).parent().unwrap_or(Path::new(""));
    load_edge(&base.join(rel))
}

/// `--edge-config FILE`, with its warnings on stderr.
pub(crate) fn edge_config(path: &Path) -> Result<Imported, InputError> {
    let imp = load_edge(path)?;
    for w in &imp.warnings {
        super::note(format_args!("varyedge: {}: warning: {w}", imp.file));
    }
    Ok(imp)
}

pub(crate) fn run(a: ImportConfigArgs) -> anyhow::Result<ExitStatus> {
    let imp = match load_edge(&a.file) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    for w in &imp.warnings {
        super::note(format_args!("varyedge: {}: warning: {w}", imp.file));
    }
    emit(a.out.as_deref(), &import::render(&imp))?;
    Ok(ExitStatus::Clean)
}
