//! Golden-file tests of every report format: each renderer of `report` (replay, matrix,
//! explore, lint, profiles) is run on fixed input and compared byte for byte with a file
//! under tests/snapshots/. A change in any output shows up as a failing test naming the
//! first differing line.
//!
//! To accept a deliberate change: `UPDATE_SNAPSHOTS=1 cargo test --test snapshots`, then
//! read the diff (`git diff tests/snapshots`) before committing it.

use std::path::PathBuf;
use varyedge::explore::{self, Settings};
use varyedge::lint;
use varyedge::profile::{self, builtin_profiles};
use varyedge::report::{
    Explore, ExploreFormat, Lint, LintFormat, Matrix, MatrixFormat, MatrixRow, Profiles,
    ProfilesFormat, Render, Replay, ReplayFormat,
};
use varyedge::scenario::{self, Scenario};
use varyedge::sim;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `actual` with tests/snapshots/`name`, or rewrites the file when
/// `UPDATE_SNAPSHOTS=1`.
fn snapshot(name: &str, actual: &str) {
    let path = root().join("tests/snapshots").join(name);
    if std::env::var("UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with UPDATE_SNAPSHOTS=1 cargo test --test snapshots and review it",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the renderer's output at line {}:\n  expected: {:?}\n  actual:   {:?}\n\
             (UPDATE_SNAPSHOTS=1 rewrites it; review the diff)",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

/// A JSON Lines output: every line one compact JSON object (checked here), kept in the
/// golden file pretty-printed, one record after the other, so that a diff is readable.
fn snapshot_jsonl(name: &str, actual: &str) {
    assert!(actual.ends_with('\n'), "{name}: newline-terminated");
    let mut pretty = String::new();
    for (i, line) in actual.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{name}: line {} is not JSON: {e}", i + 1));
        assert!(v.is_object(), "{name}: line {} is not an object", i + 1);
        // Compact: no longer than its compact re-serialisation (key order aside).
        assert_eq!(
            serde_json::to_string(&v).unwrap().len(),
            line.len(),
            "{name}: line {} is not compact",
            i + 1
        );
        pretty.push_str(&serde_json::to_string_pretty(&v).unwrap());
        pretty.push('\n');
    }
    snapshot(name, &pretty);
}

/// Loads a scenario by path relative to the crate, as the commands name it.
fn load(rel: &str, profile: Option<&str>) -> (Scenario, String) {
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    let sc = scenario::parse_with_profile(rel, &text, profile).unwrap();
    (sc, text)
}

/// Every bundled scenario, as `varyedge replay scenarios/` names them.
fn bundled() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|f| {
            f.strip_prefix(root())
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    files.sort();
    files
}

#[test]
fn replay_formats() {
    // (The trace type is not named here: it moves from `sim` to `flow`.)
    let traces: Vec<_> = bundled()
        .iter()
        .map(|rel| sim::replay(&load(rel, None).0).unwrap())
        .collect();
    assert!(traces.len() >= 20, "{} bundled scenarios", traces.len());
    let r = Replay {
        traces: &traces,
        text: Default::default(),
    };
    snapshot("replay.txt", &r.render(ReplayFormat::Text));
    let all = r.render(ReplayFormat::Json);
    assert_eq!(all.lines().count(), traces.len(), "one line per scenario");
    snapshot_jsonl("replay.json", &all);
    snapshot("replay.junit.xml", &r.render(ReplayFormat::Junit));
    // One trace renders as one line holding the object, not a one-element array.
    let one = Replay {
        traces: &traces[..1],
        text: Default::default(),
    };
    snapshot("replay-one.txt", &one.render(ReplayFormat::Text));
    let one_json = one.render(ReplayFormat::Json);
    assert_eq!(one_json.lines().count(), 1);
    assert_eq!(
        all.lines().next(),
        one_json.lines().next(),
        "the same shape"
    );
    snapshot_jsonl("replay-one.json", &one_json);
}

fn matrix_rows(rel: &str) -> Vec<MatrixRow> {
    // `latent` is filled by `mark_latent` below, from lint's findings.
    profile::PROFILE_NAMES
        .iter()
        .map(|n| MatrixRow {
            profile: n.to_string(),
            caveat: profile::profile(n).and_then(|p| p.caveat),
            trace: sim::replay(&load(rel, Some(n)).0).unwrap(),
            latent: Vec::new(),
        })
        .collect()
}

#[test]
fn matrix_formats() {
    let rel = "scenarios/01-reflect-without-vary.yaml";
    let mut rows = matrix_rows(rel);
    // As `varyedge matrix` does: lint's latent poisonings on the rows that do not fail.
    let (sc, text) = load(rel, None);
    let findings = lint::check(&sc, &text, &Simulator(rel.to_string()));
    varyedge::report::matrix::mark_latent(&mut rows, &findings);
    let m = Matrix {
        rows: &rows,
        own_profile: Some("url-only"),
    };
    snapshot("matrix.txt", &m.render(MatrixFormat::Text));
    snapshot("matrix.md", &m.render(MatrixFormat::Markdown));
    snapshot_jsonl("matrix.json", &m.render(MatrixFormat::Json));
}

#[test]
fn explore_formats() {
    let (sc, _) = load("scenarios/01-reflect-without-vary.yaml", None);
    let settings = Settings {
        cases: 50,
        seed: 3,
        ..Settings::default()
    };
    let ex = explore::explore(&sc, &settings, &mut |_, _| {}).unwrap();
    assert!(ex.found(), "the snapshot should show a kind and its repro");
    let written: Vec<Option<String>> = (0..ex.kinds.len())
        .map(|i| (i == 0).then(|| "repro-1.yaml".to_string()))
        .collect();
    let e = Explore {
        exploration: &ex,
        written: &written,
    };
    snapshot("explore.txt", &e.render(ExploreFormat::Text));
    snapshot_jsonl("explore.json", &e.render(ExploreFormat::Json));
}

/// The simulator as `varyedge lint` hands it to lint (see src/commands/simulator.rs).
struct Simulator(String);

impl lint::Replayer for Simulator {
    fn replay(
        &self,
        sc: &Scenario,
        knobs: &varyedge::edge::knobs::Knobs,
        origin: &varyedge::origin::OriginModel,
    ) -> varyedge::flow::Trace {
        sim::replay_with(sc, knobs, &mut origin.clone())
    }
    fn profiles(&self, _: &Scenario) -> Vec<(String, varyedge::edge::knobs::Knobs)> {
        profile::PROFILE_NAMES
            .iter()
            .map(|n| (n.to_string(), load(&self.0, Some(n)).0.edge.knobs))
            .collect()
    }
}

fn lint_report(rel: &str, format: LintFormat) -> String {
    let (sc, text) = load(rel, None);
    let mut findings = lint::check(&sc, &text, &Simulator(rel.to_string()));
    lint::sort(&mut findings);
    Lint {
        target: rel,
        findings: &findings,
        version: "0.0.0-snapshot",
    }
    .render(format)
}

#[test]
fn lint_formats() {
    let rel = "scenarios/01-reflect-without-vary.yaml";
    snapshot("lint.txt", &lint_report(rel, LintFormat::Text));
    snapshot_jsonl("lint.json", &lint_report(rel, LintFormat::Json));
    snapshot("lint.sarif.json", &lint_report(rel, LintFormat::Sarif));
    let clean = "scenarios/lint/correct.yaml";
    snapshot("lint-clean.txt", &lint_report(clean, LintFormat::Text));
    snapshot_jsonl("lint-clean.json", &lint_report(clean, LintFormat::Json));
    snapshot(
        "lint-clean.sarif.json",
        &lint_report(clean, LintFormat::Sarif),
    );
}

#[test]
fn profiles_formats() {
    let ps = builtin_profiles();
    let p = Profiles { profiles: &ps };
    snapshot("profiles.txt", &p.render(ProfilesFormat::Text));
    snapshot_jsonl("profiles.json", &p.render(ProfilesFormat::Json));
}

#[test]
fn a_changed_output_fails_its_snapshot() {
    // The comparison itself must be able to fail: a real snapshot with one byte changed.
    // (Under UPDATE_SNAPSHOTS=1 this would write the changed text, so it compares only.)
    if std::env::var("UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        return;
    }
    let ps = builtin_profiles();
    let mut text = Profiles { profiles: &ps }.render(ProfilesFormat::Text);
    text.push('x');
    let r = std::panic::catch_unwind(|| snapshot("profiles.txt", &text));
    assert!(r.is_err(), "a changed report passed its snapshot");
}

/// `fix`: the advice on 05-preflight-poisoned (cloudfront-cors-s3) in every format.
#[test]
fn fix_formats() {
    use varyedge::report::{Fix, FixFormat};
    let (sc, _) = load("scenarios/05-preflight-poisoned.yaml", None);
    let advice = vec![varyedge::fix::advise(&sc, 30).unwrap()];
    let r = Fix { advice: &advice };
    snapshot("fix.txt", &r.render(FixFormat::Text));
    snapshot_jsonl("fix.json", &r.render(FixFormat::Json));
    snapshot("fix.md", &r.render(FixFormat::Markdown));
}

/// The traffic section of `explore` on the bundled traffic example.
#[test]
fn traffic_text() {
    let (sc, text) = load("scenarios/traffic/reflect-without-vary.yaml", None);
    let m = varyedge::traffic::parse("t.yaml", &text, &sc)
        .unwrap()
        .unwrap();
    let t = varyedge::traffic::simulate(&sc, &m, 0, 4).unwrap();
    snapshot("traffic.txt", &varyedge::report::traffic::text(&t));
}
