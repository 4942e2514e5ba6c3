//! GitHub Actions output: workflow-command annotations (`::error file=…,line=…::…`) for
//! failing steps and lint findings, worst first, and a markdown job summary for
//! `$GITHUB_STEP_SUMMARY`. Pure: JSON reports in, text out; `commands` decides where the
//! text goes.
//!
//! GitHub shows at most 10 error, 10 warning and 10 notice annotations per step and 50 per
//! job (actions/toolkit docs/problem-matchers.md, "Limitations"); a step summary may hold
//! 1 MiB (GitHub Docs, "Adding a job summary"). Past 10 of a kind the tenth annotation says
//! how many more there are, so none is dropped without a word.

use serde_json::Value;
use std::fmt::Write;

/// Annotations of one kind GitHub shows per step.
pub const PER_KIND: usize = 10;
/// Bytes the job summary may take: GitHub's 1 MiB per step, less room for other tools.
pub const SUMMARY_BUDGET: usize = 1_000_000;

/// An annotation's kind, worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `::error`
    Error,
    /// `::warning`
    Warning,
    /// `::notice`
    Notice,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// One annotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// Its kind.
    pub level: Level,
    /// Rank within the kind: lower is worse, shown first.
    pub rank: u8,
    /// The file it points at.
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// 1-based column, 0 when unknown.
    pub col: u64,
    /// A short title.
    pub title: String,
    /// The message (may span lines).
    pub message: String,
}

/// Escapes workflow-command data (the message).
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property (file, title).
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The failing steps of replay traces (`json::trace_value`): an unmet expectation first,
/// then a response wrongly allowed by the cache, then a cache-induced failure, then any
/// other failure no expectation covered.
pub fn replay_annotations(traces: &[Value]) -> Vec<Annotation> {
    let mut out = Vec::new();
    for t in traces {
        let file = t["file"].as_str().unwrap_or_default();
        for s in t["steps"].as_array().into_iter().flatten() {
            let unmet = s["expectation"] == "unmet";
            let blocked = s["verdict"]["cors"] == "blocked";
            let unexpected = blocked && s["expectation"] == "none";
            let allowed = s["wrongly_allowed"] == true && s["expectation"] == "none";
            if !(unmet || unexpected || allowed) {
                continue;
            }
            let rank = if unmet {
                0
            } else if allowed {
                1
            } else if s["cache_induced"] == true {
                2
            } else {
                3
            };
            out.push(Annotation {
                level: Level::Error,
                rank,
                file: file.to_string(),
                line: s["line"].as_u64().unwrap_or(0),
                col: 0,
                title: step_title(t, s, unmet),
                message: step_message(s),
            });
        }
    }
    out
}

fn step_title(t: &Value, s: &Value, unmet: bool) -> String {
    let what = if unmet {
        "expectation unmet"
    } else if s["wrongly_allowed"] == true {
        "wrongly allowed by the cache"
    } else if s["cache_induced"] == true {
        "cache-induced CORS failure"
    } else {
        "CORS failure"
    };
    format!(
        "varyedge: {} #{} ({}): {what}",
        t["scenario"].as_str().unwrap_or_default(),
        s["index"],
        t["profile"].as_str().unwrap_or_default()
    )
}

fn step_message(s: &Value) -> String {
    let mut m = format!(
        "{} {} from {}: {} {}",
        s["client"].as_str().unwrap_or_default(),
        s["request"].as_str().unwrap_or_default(),
        s["origin"]
            .as_str()
            .filter(|o| !o.is_empty())
            .unwrap_or("(no Origin)"),
        s["verdict"]["cors"].as_str().unwrap_or_default(),
        s["verdict"]["reason"].as_str().unwrap_or_default(),
    );
    if let Some(p) = s["poisoned_by"].as_u64() {
        let _ = write!(m, ", served what step #{p} stored");
    }
    for u in s["unmet"].as_array().into_iter().flatten() {
        let _ = write!(m, "\nunmet: {}", u.as_str().unwrap_or_default());
    }
    if let Some(c) = s["verdict"]["console"].as_str().filter(|c| !c.is_empty()) {
        let _ = write!(m, "\nconsole: {c}");
    }
    if let Some(f) = s["fix"].as_str() {
        let _ = write!(m, "\nfix: {f}");
    }
    m
}

/// Lint findings (`lint --format json`): critical and high are errors, medium and low
/// warnings, info notices.
pub fn lint_annotations(report: &Value) -> Vec<Annotation> {
    let target = report["target"].as_str().unwrap_or_default();
    let mut out = Vec::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        let (level, rank) = match f["severity"].as_str().unwrap_or_default() {
            "critical" => (Level::Error, 0),
            "high" => (Level::Error, 1),
            "medium" => (Level::Warning, 0),
            "low" => (Level::Warning, 1),
            _ => (Level::Notice, 0),
        };
        let loc = &f["location"];
        out.push(Annotation {
            level,
            rank,
            file: loc["uri"].as_str().unwrap_or(target).to_string(),
            line: loc["line"].as_u64().unwrap_or(0),
            col: loc["col"].as_u64().unwrap_or(0),
            title: format!(
                "varyedge lint: {} ({})",
                f["id"].as_str().unwrap_or_default(),
                f["severity"].as_str().unwrap_or_default()
            ),
            message: format!(
                "{}\n{}\nfix: {}",
                f["title"].as_str().unwrap_or_default(),
                f["evidence"].as_str().unwrap_or_default(),
                f["fix"].as_str().unwrap_or_default()
            ),
        });
    }
    out
}

/// Matrix rows with a cache-induced failure, one annotation per scenario step that fails
/// (on the line of that step), naming every profile where it does: a response wrongly
/// allowed first, then a failure on the scenario's own profile, then on other profiles.
/// Rows lint marks latent become one notice per scenario.
pub fn matrix_annotations(m: &super::Matrix<'_>) -> Vec<Annotation> {
    use std::collections::BTreeMap;
    let mut by_step: BTreeMap<usize, Vec<&super::MatrixRow>> = BTreeMap::new();
    for r in m.rows {
        if let Some(s) = r.trace.steps.iter().find(|s| s.cache_induced) {
            by_step.entry(s.index).or_default().push(r);
        }
    }
    let mut out: Vec<Annotation> = by_step
        .iter()
        .filter_map(|(index, rows)| failing_step(m, *index, rows))
        .collect();
    out.extend(latent_notice(m));
    out
}

/// The annotation of step `index`, which fails first on each of `rows`.
fn failing_step<'a>(
    m: &super::Matrix<'_>,
    index: usize,
    rows: &[&'a super::MatrixRow],
) -> Option<Annotation> {
    fn at(r: &super::MatrixRow, index: usize) -> Option<&crate::flow::StepReport> {
        r.trace.steps.get(index)
    }
    let step = |r: &'a super::MatrixRow| at(r, index);
    let first = rows.first()?;
    let s = step(first)?;
    let names: Vec<&str> = rows.iter().map(|r| r.profile.as_str()).collect();
    let mut message = format!(
        "{} {} from {}: cache-induced on {}: {}",
        s.client,
        s.request,
        if s.origin.is_empty() {
            "(no Origin)"
        } else {
            &s.origin
        },
        count(names.len(), "profile"),
        names.join(", ")
    );
    for r in rows {
        if let Some(s) = step(r) {
            let what = if s.wrongly_allowed {
                "wrongly allowed".to_string()
            } else {
                format!("blocked {}", s.verdict.reason.id())
            };
            let by = s
                .poisoned_by
                .map_or(String::new(), |p| format!(", served what step #{p} stored"));
            let _ = write!(message, "\n{}: {what}{by}", r.profile);
        }
    }
    if let Some(f) = &s.fix {
        let _ = write!(message, "\nfix: {f}");
    }
    let allowed = rows
        .iter()
        .any(|r| step(r).is_some_and(|s| s.wrongly_allowed));
    let own = rows
        .iter()
        .any(|r| Some(r.profile.as_str()) == m.own_profile);
    Some(Annotation {
        level: Level::Error,
        rank: if allowed {
            0
        } else if own {
            1
        } else {
            2
        },
        file: first.trace.file.clone(),
        line: s.line,
        col: 0,
        title: format!(
            "varyedge matrix: {} #{index}: cache-induced CORS failure on {} of {}",
            first.trace.scenario,
            names.len(),
            count(m.rows.len(), "profile")
        ),
        message,
    })
}

/// One notice naming the rows lint marks latent, if any.
fn latent_notice(m: &super::Matrix<'_>) -> Option<Annotation> {
    let rows: Vec<&super::MatrixRow> = m.rows.iter().filter(|r| !r.latent.is_empty()).collect();
    let first = rows.first()?;
    let lines: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            r.latent
                .iter()
                .map(move |l| format!("{}: {} ({})", r.profile, l.rule, l.session))
        })
        .collect();
    Some(Annotation {
        level: Level::Notice,
        rank: 0,
        file: first.trace.file.clone(),
        line: 0,
        col: 0,
        title: format!(
            "varyedge matrix: {}: latent on {}",
            first.trace.scenario,
            count(rows.len(), "profile")
        ),
        message: format!(
            "none of this file's steps fails there, but lint's generated traffic poisons it:\n{}",
            lines.join("\n")
        ),
    })
}

/// The summary table of matrix runs: per scenario, the profiles that poison it.
pub fn matrix_table(ms: &[super::Matrix<'_>]) -> String {
    let mut o = String::from(
        "| scenario | profiles | cache-induced on | latent on |\n|---|---:|---|---|\n",
    );
    for m in ms {
        let pick = |f: &dyn Fn(&super::MatrixRow) -> bool| {
            let v: Vec<&str> = m
                .rows
                .iter()
                .filter(|r| f(r))
                .map(|r| r.profile.as_str())
                .collect();
            if v.is_empty() {
                "—".to_string()
            } else {
                md(&v.join(", "))
            }
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            md(m.rows.first().map_or("", |r| r.trace.scenario.as_str())),
            m.rows.len(),
            pick(&|r| r.trace.summary.cache_induced > 0),
            pick(&|r| !r.latent.is_empty()),
        );
    }
    o
}

/// Explorations that found cache-induced failures: one annotation per kind on the
/// scenario file, wrongly allowed kinds first, then the most frequent.
pub fn explore_annotations(e: &crate::explore::Exploration) -> Vec<Annotation> {
    let mut kinds: Vec<&crate::explore::KindReport> = e.kinds.iter().collect();
    kinds.sort_by_key(|k| (k.kind.blocked, std::cmp::Reverse(k.sessions)));
    kinds
        .iter()
        .enumerate()
        .map(|(i, k)| Annotation {
            level: Level::Error,
            rank: u8::try_from(i).unwrap_or(u8::MAX),
            file: e.file.clone(),
            line: 0,
            col: 0,
            title: format!("varyedge explore: {}: {}", e.scenario, k.kind.text),
            message: format!(
                "{} in {} of {} sampled sessions on {} (seed {}); shortest repro: {} steps (varyedge explore {} --seed {} --write-repro FILE)",
                if k.kind.blocked { "blocked" } else { "wrongly allowed" },
                k.sessions,
                e.settings.cases,
                e.profile,
                e.settings.seed,
                k.repro.trace.steps.len(),
                e.file,
                e.settings.seed
            ),
        })
        .collect()
}

/// The summary table of explorations: rate, interval and kinds per scenario.
pub fn explore_table(es: &[&crate::explore::Exploration]) -> String {
    let mut o = String::from("| scenario | profile | sessions | failing | rate (95% CI) | kinds |\n|---|---|---:|---:|---|---:|\n");
    for e in es {
        let (lo, hi) = e.interval;
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {:.1}% ({:.1}%–{:.1}%) | {} |",
            md(&e.scenario),
            md(&e.profile),
            e.settings.cases,
            e.failing,
            100.0 * e.rate(),
            100.0 * lo,
            100.0 * hi,
            e.kinds.len()
        );
    }
    o
}

/// The workflow commands: per kind the worst first, at most [`PER_KIND`]; when there are
/// more, the last one shown says how many were left out and where to read them.
pub fn commands(mut anns: Vec<Annotation>) -> String {
    anns.sort_by_key(|a| (a.level, a.rank));
    let mut o = String::new();
    for level in [Level::Error, Level::Warning, Level::Notice] {
        let of: Vec<&Annotation> = anns.iter().filter(|a| a.level == level).collect();
        let shown = if of.len() > PER_KIND {
            PER_KIND - 1
        } else {
            of.len()
        };
        for a in &of[..shown] {
            command(&mut o, a);
        }
        if of.len() > shown {
            let rest = of.len() - shown;
            let _ = writeln!(
                o,
                "::{} title={}::{}",
                level.command(),
                property(&format!("varyedge: {rest} more")),
                data(&format!(
                    "{rest} more {} not annotated (GitHub shows {PER_KIND} per step): see the job summary or the log",
                    level.command()
                ))
            );
        }
    }
    o
}

fn command(o: &mut String, a: &Annotation) {
    let _ = write!(o, "::{} file={}", a.level.command(), property(&a.file));
    if a.line > 0 {
        let _ = write!(o, ",line={}", a.line);
    }
    if a.col > 0 {
        let _ = write!(o, ",col={}", a.col);
    }
    let _ = writeln!(o, ",title={}::{}", property(&a.title), data(&a.message));
}

/// Markdown for `$GITHUB_STEP_SUMMARY`: a title, a table, then every annotation (not only
/// the ten GitHub shows), cut to [`SUMMARY_BUDGET`] with a closing note when it is cut.
pub fn summary(title: &str, table: &str, mut anns: Vec<Annotation>) -> String {
    anns.sort_by_key(|a| (a.level, a.rank));
    let mut o = format!("## {title}\n\n{table}\n");
    if !anns.is_empty() {
        let _ = writeln!(o, "\n### {}\n", count(anns.len(), "problem"));
    }
    let tail_room = 200;
    for (i, a) in anns.iter().enumerate() {
        let mut item = format!(
            "- **{}** `{}:{}` — {}\n",
            md(&a.title),
            a.file,
            a.line,
            md(a.message.lines().next().unwrap_or_default())
        );
        for l in a.message.lines().skip(1) {
            let _ = writeln!(item, "  {}", md(l));
        }
        if o.len() + item.len() + tail_room > SUMMARY_BUDGET {
            let _ = writeln!(
                o,
                "\n… {} left out to stay within GitHub's 1 MiB step summary; run with --format json for all.",
                count(anns.len() - i, "problem")
            );
            break;
        }
        o.push_str(&item);
    }
    o
}

/// The summary table of replay traces.
pub fn replay_table(traces: &[Value]) -> String {
    let mut o = String::from(
        "| scenario | profile | steps | blocked | cache-induced | unmet | result |\n|---|---|---:|---:|---:|---:|---|\n",
    );
    for t in traces {
        let s = &t["summary"];
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} |",
            md(t["scenario"].as_str().unwrap_or_default()),
            md(t["profile"].as_str().unwrap_or_default()),
            s["steps"],
            s["blocked"],
            s["cache_induced"],
            s["unmet_expectations"],
            if s["passed"] == true {
                "✅ pass"
            } else {
                "❌ fail"
            }
        );
    }
    o
}

/// `1 problem`, `2 problems`.
fn count(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Text safe in a markdown table cell or list item.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('<', "&lt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ann(level: Level, rank: u8, n: usize) -> Annotation {
        Annotation {
            level,
            rank,
            file: "a,b:c.yaml".into(),
            line: n as u64,
            col: 0,
            title: format!("t{n}"),
            message: "one\ntwo 100%".into(),
        }
    }

    #[test]
    fn escaping_follows_the_workflow_command_rules() {
        let o = commands(vec![ann(Level::Warning, 0, 3)]);
        assert_eq!(
            o,
            "::warning file=a%2Cb%3Ac.yaml,line=3,title=t3::one%0Atwo 100%25\n"
        );
    }

    #[test]
    fn worst_first_ten_per_kind_and_the_rest_counted() {
        let mut anns: Vec<Annotation> = (0..15).map(|i| ann(Level::Error, 3, i)).collect();
        anns.push(ann(Level::Error, 0, 99));
        anns.push(ann(Level::Notice, 0, 7));
        let o = commands(anns);
        let errors: Vec<&str> = o.lines().filter(|l| l.starts_with("::error")).collect();
        assert_eq!(errors.len(), PER_KIND);
        assert!(errors[0].contains("line=99"), "the worst first: {o}");
        assert!(errors[9].contains("7 more error"), "{o}");
        assert_eq!(o.lines().filter(|l| l.starts_with("::notice")).count(), 1);
    }

    #[test]
    fn failing_steps_become_errors_met_ones_do_not() {
        let t = json!({ "scenario": "s", "profile": "p", "file": "s.yaml", "steps": [
            { "index": 0, "line": 5, "expectation": "met", "verdict": { "cors": "blocked", "reason": "origin-mismatch" }, "cache_induced": true },
            { "index": 1, "line": 6, "expectation": "none", "verdict": { "cors": "blocked", "reason": "origin-mismatch", "console": "Access…" }, "cache_induced": true, "poisoned_by": 0, "client": "b", "request": "GET /", "origin": "https://b" },
            { "index": 2, "line": 7, "expectation": "unmet", "unmet": ["cache: expected hit, got miss"], "verdict": { "cors": "ok", "reason": "ok" } }
        ]});
        let a = replay_annotations(&[t]);
        assert_eq!(a.len(), 2);
        let o = commands(a);
        let lines: Vec<&str> = o.lines().collect();
        assert!(lines[0].starts_with("::error file=s.yaml,line=7,"), "{o}");
        assert!(lines[1].contains("line=6") && lines[1].contains("served what step #0 stored"));
    }

    #[test]
    fn the_summary_stays_within_its_budget() {
        let anns: Vec<Annotation> = (0..40_000).map(|i| ann(Level::Error, 0, i)).collect();
        let s = summary("varyedge replay", "| a |\n|---|\n", anns);
        assert!(s.len() <= SUMMARY_BUDGET, "{}", s.len());
        assert!(s.contains("left out to stay within"));
        assert!(s.starts_with("## varyedge replay\n"));
    }
}
