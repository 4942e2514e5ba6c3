//! `varyedge diagnose har`: the cache-induced CORS failures in a recording; exit 1 when
//! there is one.

use super::{emit, read_hars};
use crate::cli::DiagnoseHarArgs;
use varyedge::error::ExitStatus;
use varyedge::har::diagnose::{
    annotations, diagnose, github_table, render_github, render_html, render_json, render_sarif,
    render_text,
};
use varyedge::report::github;
use varyedge::report::DiagnoseFormat;

pub(crate) fn run(a: DiagnoseHarArgs, g: super::Globals) -> anyhow::Result<ExitStatus> {
    let hars = match read_hars(&a.files) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("varyedge: {e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    let d = diagnose(&hars);
    // In GitHub Actions a text report to standard output carries the annotations.
    let format = if super::on_github() && a.format == DiagnoseFormat::Text && a.out.is_none() {
        DiagnoseFormat::Github
    } else {
        a.format
    };
    // the first line of the text report
    let result_line = || {
        render_text(&d)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
            + "\n"
    };
    let text = match format {
        // -q: the result line only
        DiagnoseFormat::Text if g.quiet => result_line(),
        DiagnoseFormat::Text => render_text(&d),
        DiagnoseFormat::Json => render_json(&d),
        DiagnoseFormat::Sarif => render_sarif(&d, env!("CARGO_PKG_VERSION")),
        DiagnoseFormat::Html => render_html(&d),
        // -q: the result line, then the annotations
        DiagnoseFormat::Github if g.quiet => result_line() + &github::commands(annotations(&d)),
        DiagnoseFormat::Github => render_github(&d),
    };
    emit(a.out.as_deref(), &text)?;
    if super::on_github() {
        let anns = annotations(&d);
        let summary = github::summary("varyedge diagnose har", &github_table(&d), anns.clone());
        // Standard output holds the report: the github format printed them, and a JSON or
        // SARIF report there must stay parseable. Only beside --out FILE are they printed here.
        let printed = a.out.is_none();
        super::github_extras(printed, &github::commands(anns), &summary)?;
    }
    Ok(if d.cache_induced() > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}
