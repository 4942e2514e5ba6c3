//! `varyedge explore`: random sessions of a scenario through the simulator; the failure
//! rate, the kinds found and a shrunk repro of each; exit 1 when anything was found.

use super::{emit, load};
use crate::cli::ExploreArgs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use varyedge::error::ExitStatus;
use varyedge::explore::{self, Settings};
use varyedge::report::{github, Explore, ExploreFormat, Render};

pub(crate) fn run(a: ExploreArgs, g: super::Globals) -> anyhow::Result<ExitStatus> {
    if a.cases == 0 {
        eprintln!("varyedge: --cases must be at least 1 (the number of random sessions to try)");
        return Ok(ExitStatus::BadInput);
    }
    let files = match super::expand(&a.scenarios) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    // With several scenarios the repros of each go into a directory (one file per kind
    // and scenario); a single FILE could only hold one scenario's.
    if let Some(t) = &a.write_repro {
        // `--write-repro repros/`: the trailing slash says "a directory", so one that does
        // not exist yet is made (it failed with "Not a directory" when the first repro
        // was written, after the whole search)
        if t.as_os_str().to_string_lossy().ends_with('/') && !t.exists() {
            if let Err(e) = std::fs::create_dir_all(t) {
                eprintln!(
                    "varyedge explore: --write-repro {}: cannot create the directory: {e}",
                    t.display()
                );
                return Ok(ExitStatus::BadInput);
            }
        }
        if files.len() > 1 && !t.is_dir() {
            eprintln!(
                "varyedge explore: --write-repro {}: with several scenarios, name an existing directory",
                t.display()
            );
            return Ok(ExitStatus::BadInput);
        }
    }
    let mut scenarios = Vec::new();
    for f in &files {
        match load(f, a.profile.as_deref()) {
            Ok(s) => scenarios.push(s),
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitStatus::BadInput);
            }
        }
    }
    let mut runs = Vec::new();
    for sc in &scenarios {
        match explore_one(&a, sc, files.len() > 1, g.quiet)? {
            Ok(r) => runs.push(r),
            Err(status) => return Ok(status),
        }
    }
    // In GitHub Actions a text report on standard output carries the annotations.
    let format = if super::on_github() && a.format == ExploreFormat::Text && a.out.is_none() {
        ExploreFormat::Github
    } else {
        a.format
    };
    let text = match render(format, &runs, &files, &scenarios, a.seed, g) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    emit(a.out.as_deref(), &text)?;
    if super::on_github() {
        let all: Vec<&explore::Exploration> = runs.iter().map(|(ex, _)| ex).collect();
        let anns = annotations(&runs);
        let summary = github::summary(
            "varyedge explore",
            &github::explore_table(&all),
            anns.clone(),
        );
        // Standard output holds the report: the github format printed them, and a JSON or
        // HTML report there must stay parseable. Only beside --out FILE are they printed here.
        let printed = a.out.is_none();
        super::github_extras(printed, &github::commands(anns), &summary)?;
    }
    Ok(if runs.iter().any(|(ex, _)| ex.found()) {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

type Run = (explore::Exploration, Vec<Option<String>>);

/// The report of every exploration in `format` (with `-q` for the text); a traffic model's
/// section is added per scenario (its error: bad input).
fn render(
    format: ExploreFormat,
    runs: &[Run],
    files: &[PathBuf],
    scenarios: &[varyedge::scenario::Scenario],
    seed: u64,
    g: super::Globals,
) -> Result<String, varyedge::error::InputError> {
    let annotated = || match format {
        ExploreFormat::Github => github::commands(annotations(runs)),
        _ => String::new(),
    };
    match format {
        ExploreFormat::Html => {
            let v: Vec<_> = runs
                .iter()
                .map(|(ex, w)| varyedge::report::explore::json_value(ex, w))
                .collect();
            Ok(varyedge::report::html::explore(&v))
        }
        // -q: the result line of each scenario, nothing else (and GitHub's annotations).
        ExploreFormat::Text | ExploreFormat::Github if g.quiet => Ok(runs
            .iter()
            .map(|(ex, _)| varyedge::report::explore::result_line(ex))
            .collect::<String>()
            + &annotated()),
        // Text one report after the other; JSON one line per scenario file (JSON Lines);
        // GitHub each text report, then one set of annotations for all of them.
        f => {
            let each = if f == ExploreFormat::Github {
                ExploreFormat::Text
            } else {
                f
            };
            let mut parts = Vec::new();
            for ((ex, written), (file, sc)) in runs.iter().zip(files.iter().zip(scenarios)) {
                let one = Explore {
                    exploration: ex,
                    written,
                }
                .render(each);
                // A scenario with a traffic model also gets the per-request failure rate.
                parts.push(super::traffic::add_section(file, sc, seed, each, one)?);
            }
            let sep = if f == ExploreFormat::Json { "" } else { "\n" };
            Ok(parts.join(sep) + &annotated())
        }
    }
}

/// Every exploration's annotations, one per kind found.
fn annotations(runs: &[Run]) -> Vec<github::Annotation> {
    runs.iter()
        .flat_map(|(ex, _)| github::explore_annotations(ex))
        .collect()
}

/// Explores one scenario and writes its repros; `prefix` names them after the scenario
/// (several scenarios share one directory).
fn explore_one(
    a: &ExploreArgs,
    sc: &varyedge::scenario::Scenario,
    prefix: bool,
    quiet: bool,
) -> anyhow::Result<Result<Run, ExitStatus>> {
    let settings = Settings {
        cases: a.cases,
        seed: a.seed,
        max_steps: usize::from(a.max_steps),
        ..Settings::default()
    };
    let mut bar = Progress::new(!quiet && std::io::stderr().is_terminal());
    let result = explore::explore_jobs(sc, &settings, a.jobs, &mut |done, total| {
        bar.draw(done, total)
    });
    bar.clear();
    let ex = match result {
        Ok(e) => e,
        Err(e @ (explore::ExploreError::Upstream(..) | explore::ExploreError::NoSteps(_))) => {
            eprintln!("{e}");
            return Ok(Err(ExitStatus::BadInput));
        }
        Err(e) => anyhow::bail!(e),
    };
    let mut written = vec![None; ex.kinds.len()];
    if let Some(target) = &a.write_repro {
        for (i, k) in ex.kinds.iter().enumerate() {
            let mut slug = file_slug(&k.kind.id);
            if prefix {
                slug = format!("{}-{slug}", file_slug(&sc.name));
            }
            let path = repro_path(target, i, &slug);
            let header = format!(
                "# Written by `varyedge explore --seed {} --cases {}` from {}.\n\
                 # Each step expects what was observed, so `varyedge replay` passes (exit 0);\n\
                 # without the `expect:` blocks the failing step makes it exit 1.\n",
                ex.settings.seed, ex.settings.cases, ex.file
            );
            emit(Some(&path), &format!("{header}{}", k.repro.yaml))?;
            written[i] = Some(path.display().to_string());
        }
    }
    Ok(Ok((ex, written)))
}

/// Where kind `i`'s repro goes: into the directory, or FILE then FILE-STEM.N.EXT.
fn repro_path(target: &Path, i: usize, slug: &str) -> PathBuf {
    if target.is_dir() {
        return target.join(format!("{slug}.yaml"));
    }
    if i == 0 {
        return target.to_path_buf();
    }
    let stem = target
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("repro");
    let ext = target
        .extension()
        .and_then(|s| s.to_str())
        .unwrap_or("yaml");
    target.with_file_name(format!("{stem}.{}.{ext}", i + 1))
}

fn file_slug(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// One redrawn stderr line, only on a terminal; redrawn when the percentage changes.
struct Progress {
    on: bool,
    last: Option<u64>,
}

impl Progress {
    fn new(on: bool) -> Progress {
        Progress { on, last: None }
    }

    fn draw(&mut self, done: u64, total: u64) {
        if !self.on || total < 1000 {
            return;
        }
        let pct = done.saturating_mul(100) / total.max(1);
        if self.last == Some(pct) {
            return;
        }
        self.last = Some(pct);
        let width = 30u64;
        let filled = (pct * width / 100) as usize;
        let mut e = std::io::stderr().lock();
        let _ = write!(
            e,
            "\r\x1b[Kexplore [{}{}] {pct:>3}% {done}/{total} sessions",
            "#".repeat(filled),
            ".".repeat(width as usize - filled)
        );
        let _ = e.flush();
    }

    fn clear(&mut self) {
        if self.on && self.last.is_some() {
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "\r\x1b[K");
            let _ = e.flush();
        }
    }
}
