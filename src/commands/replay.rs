//! `varyedge replay`: scenarios through the simulator, reports out, exit 0/1/2.

use super::{emit, emit_with, expand, load};
use crate::cli::ReplayArgs;
use varyedge::error::ExitStatus;
use varyedge::report::{Render, Replay, ReplayFormat};
use varyedge::scenario::OriginSpec;
use varyedge::sim;

pub(crate) fn run(a: ReplayArgs, g: super::Globals) -> anyhow::Result<ExitStatus> {
    let mut phases = Phases::from_env();
    let files = match expand(&a.scenarios) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    if let Some(p) = a.profile.as_deref() {
        if varyedge::profile::profile(p).is_none() {
            eprintln!(
                "varyedge: --profile: unknown profile {p:?}; expected one of {}",
                varyedge::profile::PROFILE_NAMES.join(", ")
            );
            return Ok(ExitStatus::BadInput);
        }
    }
    #[cfg(feature = "net")]
    let in_process = a.target.is_none();
    #[cfg(not(feature = "net"))]
    let in_process = true;
    // Validate everything before running anything: bad input exits 2 with no report.
    let mut scenarios = Vec::new();
    let mut bad = false;
    for f in &files {
        match load(f, a.profile.as_deref()) {
            Ok(s) => {
                if let (true, OriginSpec::Upstream(u)) = (in_process, &s.origin) {
                    // A real server cannot be replayed in-process: said at its `upstream:`.
                    let (line, col) = super::read_input(f)
                        .ok()
                        .map(|(_, t)| t)
                        .and_then(|t| varyedge::scenario::upstream_at(&t))
                        .unwrap_or((1, 1));
                    eprintln!(
                        "{}:{line}:{col}: the origin is a real server ({u}); replay it over the wire with --target, or model it under `origin:`",
                        super::input_name(f)
                    );
                    bad = true;
                }
                scenarios.push(s);
            }
            Err(e) => {
                eprintln!("{e}");
                bad = true;
            }
        }
    }
    if bad {
        return Ok(ExitStatus::BadInput);
    }
    phases.mark("parse");
    let mut traces = Vec::new();
    #[cfg(feature = "net")]
    if let Some(target) = &a.target {
        match over_the_wire(&a, target, &scenarios, g.quiet)? {
            Ok(t) => traces = t,
            Err(status) => return Ok(status),
        }
    }
    for s in scenarios.iter().filter(|_| in_process) {
        match sim::jobs::replay(s, a.jobs) {
            Ok(t) => traces.push(t),
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitStatus::BadInput);
            }
        }
    }
    // In GitHub Actions a text report on standard output carries the annotations.
    let format = if super::on_github() && a.format == ReplayFormat::Text && a.out.is_none() {
        ReplayFormat::Github
    } else {
        a.format
    };
    phases.mark("simulate");
    if format == ReplayFormat::Json {
        // Rendered on the replay's threads and written as it goes: never whole in memory.
        emit_with(a.out.as_deref(), |w| {
            varyedge::report::json::write_jobs(w, &traces, a.jobs)
        })?;
        phases.mark("render and write");
    } else if format == ReplayFormat::Text {
        // Written a step at a time: a long trace's report is never whole in memory.
        let opt = g.text(a.out.is_some());
        emit_with(a.out.as_deref(), |w| {
            varyedge::report::text::write_with(w, &traces, opt)
        })?;
        phases.mark("render and write");
    } else {
        let text = Replay {
            traces: &traces,
            text: g.text(a.out.is_some()),
        }
        .render(format);
        phases.mark("render");
        emit(a.out.as_deref(), &text)?;
        phases.mark("write");
    }
    if super::on_github() {
        use varyedge::report::{github, json};
        let values: Vec<_> = traces.iter().map(json::trace_value).collect();
        let anns = github::replay_annotations(&values);
        let summary = github::summary(
            "varyedge replay",
            &github::replay_table(&values),
            anns.clone(),
        );
        // Standard output holds the report: the github format printed them, and a JSON or
        // JUnit report there must stay parseable. Only beside --out FILE are they printed here.
        let printed = a.out.is_none();
        super::github_extras(printed, &github::commands(anns), &summary)?;
    }
    Ok(if traces.iter().all(|t| t.passed()) {
        ExitStatus::Clean
    } else {
        ExitStatus::Findings
    })
}

/// The duration `value` of `flag`; `None` after saying on stderr what was expected
/// (`examples`, such as "30s or 500ms").
#[cfg(feature = "net")]
fn duration_flag(flag: &str, value: &str, examples: &str) -> Option<std::time::Duration> {
    let ms = varyedge::time::parse_duration_ms(value);
    if ms.is_none() {
        eprintln!("varyedge: {flag}: expected a duration such as {examples}, found {value:?}");
    }
    ms.map(std::time::Duration::from_millis)
}

/// `--target`: every scenario over the wire, one after another. Notes go to stderr.
#[cfg(feature = "net")]
fn over_the_wire(
    a: &ReplayArgs,
    target: &str,
    scenarios: &[varyedge::scenario::Scenario],
    quiet: bool,
) -> anyhow::Result<Result<Vec<sim::Trace>, ExitStatus>> {
    use varyedge::net::target::{self, TargetOptions};
    let (Some(max_wait), Some(pause)) = (
        duration_flag("--max-wait", &a.max_wait, "30s or 500ms"),
        duration_flag("--pause", &a.pause, "50ms or 1s"),
    ) else {
        return Ok(Err(ExitStatus::BadInput));
    };
    let opts = TargetOptions {
        direct: a.direct.clone(),
        host_header: a.host_header.clone(),
        max_wait,
        pause,
        ..TargetOptions::new(target)
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut traces = Vec::new();
    let mut wire = Vec::new();
    for s in scenarios {
        match rt.block_on(target::replay(s, &opts)) {
            Ok(run) => {
                for n in run.notes.iter().filter(|_| !quiet) {
                    eprintln!("varyedge: note: {n}");
                }
                traces.push(run.trace);
                wire.extend(run.exchanges);
            }
            Err(e) => {
                eprintln!("varyedge: {e}");
                return Ok(Err(ExitStatus::BadInput));
            }
        }
    }
    if let Some(har) = &a.har {
        let text = varyedge::har::write::to_har(&wire, env!("CARGO_PKG_VERSION"));
        emit(Some(har), &text)?;
    }
    Ok(Ok(traces))
}

/// Wall time per phase on standard error when `VARYEDGE_PHASE_TIMES` is set (for
/// benches/README.md's measurements; not part of any report).
struct Phases(Option<std::time::Instant>);

// Wall-clock time of the run itself, not a time the core decides with (which takes `now`
// as an argument); this also builds without the `net` feature and its clock.
#[allow(clippy::disallowed_methods)]
impl Phases {
    fn from_env() -> Phases {
        Phases(std::env::var_os("VARYEDGE_PHASE_TIMES").map(|_| std::time::Instant::now()))
    }

    /// Prints the time since the previous mark under `name`.
    fn mark(&mut self, name: &str) {
        if let Some(t) = &mut self.0 {
            eprintln!("varyedge: phase {name}: {:.3} s", t.elapsed().as_secs_f64());
            *t = std::time::Instant::now();
        }
    }
}
