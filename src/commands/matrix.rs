//! `varyedge matrix`: one scenario under every profile, one row each.

use super::simulator::Simulator;
use super::{emit, load};
use crate::cli::MatrixArgs;
use varyedge::error::ExitStatus;
use varyedge::profile::{self, PROFILE_NAMES};
use varyedge::report::{github, Matrix, MatrixFormat, MatrixRow, Render};

pub(crate) fn run(a: MatrixArgs, g: super::Globals) -> anyhow::Result<ExitStatus> {
    let names = match profile_names(&a.profiles) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    let files = match super::expand(&a.scenarios) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    // Every file loads and runs before anything is written: bad input writes nothing.
    let mut all = Vec::new();
    for f in &files {
        match rows_of(f, &names, a.edge_config.as_deref()) {
            Ok(r) => all.push(r),
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitStatus::BadInput);
            }
        }
    }
    let matrices: Vec<Matrix> = all
        .iter()
        .map(|(rows, own)| Matrix {
            rows,
            own_profile: own.as_deref(),
        })
        .collect();
    // In GitHub Actions a text report on standard output carries the annotations.
    let format = if super::on_github() && a.format == MatrixFormat::Text && a.out.is_none() {
        MatrixFormat::Github
    } else {
        a.format
    };
    emit(a.out.as_deref(), &render(format, &matrices, g))?;
    if super::on_github() {
        let anns: Vec<_> = matrices
            .iter()
            .flat_map(github::matrix_annotations)
            .collect();
        let summary = github::summary(
            "varyedge matrix",
            &github::matrix_table(&matrices),
            anns.clone(),
        );
        // Standard output holds the report: the github format printed them, and a JSON or
        // Markdown report there must stay parseable. Only beside --out FILE are they printed here.
        let printed = a.out.is_none();
        super::github_extras(printed, &github::commands(anns), &summary)?;
    }
    let poisons = all
        .iter()
        .any(|(rows, _)| rows.iter().any(|r| r.trace.summary.cache_induced > 0));
    Ok(if poisons {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

/// `--profiles all|p1,p2`, each checked.
fn profile_names(arg: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = if arg.trim() == "all" {
        PROFILE_NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        arg.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    if names.is_empty() {
        // `--profiles "$EMPTY"` would run no profile and pass: refuse it
        return Err(format!(
            "varyedge: --profiles: no profile named; expected all or a list of: {}",
            PROFILE_NAMES.join(", ")
        ));
    }
    // a name given twice is one row, in the place it was first named
    let mut seen = std::collections::HashSet::new();
    let names: Vec<String> = names
        .into_iter()
        .filter(|n| seen.insert(n.clone()))
        .collect();
    match names.iter().find(|n| profile::profile(n).is_none()) {
        Some(bad) => Err(format!(
            "varyedge: --profiles: unknown profile {bad:?}; expected all or a list of: {}",
            PROFILE_NAMES.join(", ")
        )),
        None => Ok(names),
    }
}

/// The report of every scenario's matrix in `format` (with `-q`/`-v` for the text).
fn render(format: MatrixFormat, ms: &[Matrix<'_>], g: super::Globals) -> String {
    use varyedge::report::matrix::{details, result_line};
    let annotations = || github::commands(ms.iter().flat_map(github::matrix_annotations).collect());
    match format {
        // -q: the result line of each scenario, nothing else (and GitHub's annotations).
        MatrixFormat::Text if g.quiet => ms.iter().map(result_line).collect(),
        MatrixFormat::Github if g.quiet => {
            ms.iter().map(result_line).collect::<String>() + &annotations()
        }
        // -v: each failing row's first failure in full after the table.
        MatrixFormat::Text if g.verbose => join(ms, |m| m.render(MatrixFormat::Text) + &details(m)),
        // The tables, then one set of annotations for all files within GitHub's limits.
        MatrixFormat::Github => join(ms, |m| m.render(MatrixFormat::Text)) + &annotations(),
        // JSON Lines: one matrix object per scenario file.
        MatrixFormat::Json => ms.iter().map(|m| m.render(MatrixFormat::Json)).collect(),
        MatrixFormat::Html => {
            let parts: Vec<_> = ms.iter().map(Matrix::html_part).collect();
            varyedge::report::html::matrix(&parts)
        }
        f => join(ms, |m| m.render(f)),
    }
}

/// Each matrix rendered, separated by an empty line.
fn join(ms: &[Matrix<'_>], f: impl Fn(&Matrix<'_>) -> String) -> String {
    ms.iter().map(f).collect::<Vec<_>>().join("\n")
}

/// One scenario under each profile, and the profile it names itself. A row where the
/// file's own steps never fail but lint finds the profile poisoned by other traffic says
/// so (`latent`), with lint's rule and session: the two commands agree.
fn rows_of(
    file: &std::path::Path,
    names: &[String],
    edge_config: Option<&std::path::Path>,
) -> Result<(Vec<MatrixRow>, Option<String>), String> {
    let own = load(file, None).map_err(|e| e.to_string())?;
    let (sim, traces) = Simulator::load_rows(file, names).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for (n, trace) in names.iter().zip(traces) {
        rows.push(MatrixRow {
            profile: n.to_string(),
            caveat: profile::profile(n).and_then(|p| p.caveat),
            trace: trace.map_err(|e| e.to_string())?,
            latent: Vec::new(),
        });
    }
    mark_latent(file, &own, &sim, &mut rows)?;
    if let Some(f) = edge_config {
        // `--edge-config FILE`: one more row, the scenario under the imported edge.
        let imp = super::import_config::edge_config(f).map_err(|e| e.to_string())?;
        let mut sc = own.clone();
        sc.edge.profile = imp.profile.to_string();
        sc.edge.knobs = imp.knobs;
        let trace = Simulator::row(&sc).map_err(|e| e.to_string())?;
        rows.push(MatrixRow {
            profile: format!("import:{}", f.display()),
            caveat: None,
            trace,
            latent: Vec::new(),
        });
    }
    Ok((rows, Some(own.edge.profile)))
}

/// Lint's simulated poisoning on the rows the file's own steps leave clean.
fn mark_latent(
    file: &std::path::Path,
    own: &varyedge::scenario::Scenario,
    sim: &Simulator,
    rows: &mut [MatrixRow],
) -> Result<(), String> {
    if !matches!(own.origin, varyedge::scenario::OriginSpec::Model(_)) {
        return Ok(());
    }
    let (_, text) = super::read_input(file).map_err(|e| e.to_string())?;
    varyedge::report::matrix::mark_latent(rows, &sim.lint(own, &text));
    Ok(())
}
