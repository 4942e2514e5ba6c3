//! The documentation is true: docs/profiles.md is what `profiles --format markdown` prints
//! today, every `--format json` output validates against its schema in docs/schemas/ (and
//! a broken one does not), every path the README names exists, and every command the README
//! shows runs with the exit code it states (the commands that need a network peer are
//! named and left out, see `NEEDS_PEER`).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn varyedge(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run varyedge")
}

fn stdout(args: &[&str]) -> String {
    let out = varyedge(args, &root());
    let code = out.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "varyedge {args:?}: exit {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("varyedge-docs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

#[test]
fn profiles_md_is_current() {
    let want = stdout(&["profiles", "--format", "markdown"]);
    let have = std::fs::read_to_string(root().join("docs/profiles.md")).expect("docs/profiles.md");
    assert!(
        have == want,
        "docs/profiles.md is out of date; regenerate it with\n  \
         cargo run -- profiles --format markdown --out docs/profiles.md"
    );
}

fn validator(name: &str) -> jsonschema::Validator {
    let path = root().join("docs/schemas").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name} compiles: {e}"))
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}:\n{}", errors.join("\n"));
}

/// The records of a JSON Lines output: each line one compact object (no pretty-printing,
/// no top-level array), parsed.
fn json_lines(args: &[&str]) -> Vec<Value> {
    let out = stdout(args);
    assert!(
        out.ends_with('\n'),
        "{args:?}: the last record ends with a newline"
    );
    out.lines()
        .enumerate()
        .map(|(i, line)| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{args:?}: line {}: {e}", i + 1));
            assert!(v.is_object(), "{args:?}: line {} is not an object", i + 1);
            // Compact: as long as its compact re-serialisation (key order aside, which
            // does not change the length; any pretty-printing whitespace would).
            assert_eq!(
                serde_json::to_string(&v).expect("serialise").len(),
                line.len(),
                "{args:?}: line {} is not compact JSON",
                i + 1
            );
            v
        })
        .collect()
}

/// The single record of a one-file output.
fn json(args: &[&str]) -> Value {
    let mut v = json_lines(args);
    assert_eq!(v.len(), 1, "{args:?}: one file gives one line");
    v.remove(0)
}

/// Every line of a several-file output validates; returns how many there were.
fn assert_lines_valid(v: &jsonschema::Validator, args: &[&str]) -> usize {
    let lines = json_lines(args);
    for (i, doc) in lines.iter().enumerate() {
        assert_valid(v, doc, &format!("{args:?} line {}", i + 1));
    }
    lines.len()
}

fn yaml_count(dir: &str) -> usize {
    std::fs::read_dir(root().join(dir))
        .expect("scenario dir")
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x == "yaml" || x == "yml")
        })
        .count()
}

#[test]
fn json_outputs_match_their_schemas() {
    let replay = validator("replay.schema.json");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() > 20);
    for f in &files {
        let f = f.to_str().expect("utf-8");
        assert_valid(&replay, &json(&["replay", f, "--format", "json"]), f);
    }
    let n = assert_lines_valid(&replay, &["replay", "scenarios/", "--format", "json"]);
    assert_eq!(n, files.len(), "replay scenarios/: one line per file");

    // The schema is not vacuous: a renamed verdict or a missing summary fails it.
    let mut broken = json(&[
        "replay",
        "scenarios/01-reflect-without-vary.yaml",
        "--format",
        "json",
    ]);
    broken["steps"][1]["verdict"]["cors"] = "maybe".into();
    assert!(!replay.is_valid(&broken), "a bad verdict must not validate");
    let mut broken = json(&[
        "replay",
        "scenarios/01-reflect-without-vary.yaml",
        "--format",
        "json",
    ]);
    broken.as_object_mut().expect("object").remove("summary");
    assert!(
        !replay.is_valid(&broken),
        "a missing summary must not validate"
    );

    let matrix = validator("matrix.schema.json");
    for f in [
        "scenarios/01-reflect-without-vary.yaml",
        "scenarios/23-pops-and-shield.yaml",
    ] {
        assert_valid(&matrix, &json(&["matrix", f, "--format", "json"]), f);
    }
    let explore = validator("explore.schema.json");
    for f in [
        "scenarios/01-reflect-without-vary.yaml",
        "scenarios/02-vary-origin-fix.yaml",
    ] {
        let doc = json(&["explore", f, "--cases", "60", "--format", "json"]);
        assert_valid(&explore, &doc, f);
    }
    let lint = validator("lint.schema.json");
    for f in &files {
        let f = f.to_str().expect("utf-8");
        assert_valid(&lint, &json(&["lint", f, "--format", "json"]), f);
    }
    // Several files: JSON Lines, one report of the same shape per file.
    let lint_dir = yaml_count("scenarios/lint");
    assert!(lint_dir >= 2);
    let n = assert_lines_valid(&lint, &["lint", "scenarios/lint/", "--format", "json"]);
    assert_eq!(n, lint_dir, "lint dir: one line per file");
    let explore_dir = yaml_count("scenarios/explore");
    assert!(explore_dir >= 2);
    let n = assert_lines_valid(
        &matrix,
        &["matrix", "scenarios/explore/", "--format", "json"],
    );
    assert_eq!(n, explore_dir, "matrix dir: one line per file");
    let args = [
        "explore",
        "scenarios/explore/",
        "--cases",
        "30",
        "--format",
        "json",
    ];
    let n = assert_lines_valid(&explore, &args);
    assert_eq!(n, explore_dir, "explore dir: one line per file");
    let profiles = validator("profiles.schema.json");
    let n = assert_lines_valid(&profiles, &["profiles", "--format", "json"]);
    assert!(n >= 14, "one line per built-in profile, {n} lines");
    assert_eq!(
        json_lines(&["profiles", "--json"]),
        json_lines(&["profiles", "--format", "json"]),
        "--json is an alias"
    );
}

/// README commands that need a server of their own on the network; the test names them
/// so that nothing is left out silently.
const NEEDS_PEER: [&str; 3] = ["--target", "--upstream", "varyedge origin"];
/// Commands of the build tool itself: running them inside `cargo test` would recurse or
/// rebuild the world; CI runs them (`.ci/run`).
const BUILD_TOOL: [&str; 4] = ["cargo install", "cargo test", "cargo bench", "cargo run"];

/// The `sh` blocks' commands and the `$ ` lines of the other blocks, with what follows
/// a `$ ` line (its shown output) up to the end of the block.
fn readme_commands(readme: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut lang: Option<String> = None;
    let mut current: Option<(String, Vec<String>)> = None;
    for line in readme.lines() {
        if let Some(rest) = line.strip_prefix("```") {
            if lang.is_some() {
                out.extend(current.take());
                lang = None;
            } else {
                lang = Some(rest.trim().to_string());
            }
            continue;
        }
        let Some(l) = &lang else { continue };
        if let Some(cmd) = line.strip_prefix("$ ") {
            out.extend(current.take());
            current = Some((cmd.to_string(), Vec::new()));
        } else if let Some((_, shown)) = &mut current {
            shown.push(line.to_string());
        } else if l == "sh" && !line.trim().is_empty() {
            out.push((line.to_string(), Vec::new()));
        }
    }
    out
}

/// Runs one README line in `dir` (with `scenarios` linked in): `varyedge ARGS [> FILE]
/// [# exit N]`; `~` is `dir/home`. Returns the output and the exit code it must have.
fn run_readme_line(line: &str, dir: &Path) -> (Output, i32) {
    let (cmd, comment) = match line.find(" # ") {
        Some(i) => (&line[..i], &line[i + 3..]),
        None => (line, ""),
    };
    let want = comment
        .trim()
        .strip_prefix("exit ")
        .and_then(|n| n.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let home = dir.join("home");
    let cmd = cmd.replace('~', home.to_str().expect("utf-8"));
    let (cmd, redirect) = match cmd.split_once(" > ") {
        Some((c, f)) => (c.to_string(), Some(f.trim().to_string())),
        None => (cmd.clone(), None),
    };
    let words: Vec<&str> = cmd.split_whitespace().collect();
    assert_eq!(
        words.first(),
        Some(&"varyedge"),
        "not a varyedge command: {line}"
    );
    let out = varyedge(&words[1..], dir);
    if let Some(f) = redirect {
        let p = dir.join(f);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, &out.stdout).expect("redirect");
    }
    (out, want)
}

#[test]
fn every_readme_command_runs() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    assert!(readme.contains("cargo install --path . --locked"));
    assert!(
        !readme.contains("../shared"),
        "the README refers to files outside the repository"
    );
    let dir = tmpdir("readme");
    std::os::unix::fs::symlink(root().join("scenarios"), dir.join("scenarios")).expect("link");
    std::fs::create_dir_all(dir.join("home")).expect("home");
    let mut ran = 0;
    let mut left_out = Vec::new();
    for (line, shown) in readme_commands(&readme) {
        if NEEDS_PEER
            .iter()
            .chain(&BUILD_TOOL)
            .any(|s| line.contains(s))
            || line.starts_with("bash ")
        {
            left_out.push(line);
            continue;
        }
        let (out, want) = run_readme_line(&line, &dir);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(want),
            "README: `{line}` should exit {want}:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The shown output appears in order, each line up to a closing `…`.
        let mut rest: &str = &text;
        for s in &shown {
            let prefix = s.trim_end().trim_end_matches('…').trim_end();
            let at = rest
                .find(prefix)
                .unwrap_or_else(|| panic!("README: `{line}` no longer prints {prefix:?}:\n{text}"));
            rest = &rest[at + prefix.len()..];
        }
        ran += 1;
    }
    assert!(ran >= 12, "ran {ran} README commands");
    for l in &left_out {
        eprintln!("README command not run here (needs a peer or is the build tool): {l}");
    }
    // What a reader is told to open exists.
    for f in ["report.html", "matrix.html", "repro.yaml", "scenario.yaml"] {
        assert!(dir.join(f).exists(), "README command wrote no {f}");
    }
    assert!(dir
        .join("home/.local/share/man/man1/varyedge-replay.1")
        .exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_path_the_docs_name_exists() {
    for doc in [
        "README.md",
        "docs/cookbook.md",
        "docs/ci.md",
        "docs/scenario-format.md",
    ] {
        let text = std::fs::read_to_string(root().join(doc)).expect(doc);
        for prefix in ["scenarios/", "docs/", "tests/", "benches/", "src/", ".ci/"] {
            for (i, _) in text.match_indices(prefix) {
                let before = text[..i].chars().last().unwrap_or(' ');
                if before.is_alphanumeric() || before == '/' || before == '.' {
                    continue;
                }
                let path: String = text[i..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || "/._-".contains(*c))
                    .collect();
                let path = path.trim_end_matches(['.', '/']);
                assert!(
                    root().join(path).exists(),
                    "{doc} names {path}, which does not exist"
                );
            }
        }
    }
}

#[test]
fn init_writes_a_starter_that_replays_and_refuses_to_overwrite() {
    let dir = tmpdir("init");
    let out = varyedge(&["init"], &dir);
    assert_eq!(out.status.code(), Some(0));
    let out = varyedge(&["replay", "scenario.yaml"], &dir);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let before = std::fs::read_to_string(dir.join("scenario.yaml")).expect("written");
    assert!(
        before
            .lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .count()
            > 10
    );
    std::fs::write(dir.join("scenario.yaml"), "mine").expect("write");
    let out = varyedge(&["init"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.join("scenario.yaml")).expect("kept"),
        "mine"
    );
    let out = varyedge(&["init", "--force"], &dir);
    assert_eq!(out.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_and_man_pages() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let s = stdout(&["completions", shell]);
        assert!(s.contains("replay") && s.contains("--format"), "{shell}");
    }
    let man = stdout(&["man"]);
    assert!(
        man.starts_with(".ie") || man.contains(".TH varyedge 1"),
        "{man}"
    );
    assert!(man.contains("replay"));
    let out = varyedge(&["completions", "tcsh"], &root());
    assert_eq!(out.status.code(), Some(2));
}

/// docs/har.md's walkthrough, run as a newcomer would: the recording it names copied to
/// `bug-report.har`, each `$ ` command with the exit code it states, `bug.yaml` edited
/// where the text says to, and the output shown (each line up to a closing `…`) found in
/// order in what the command prints on standard output and standard error.
#[test]
fn har_md_walkthrough_runs_as_shown() {
    let doc = std::fs::read_to_string(root().join("docs/har.md")).expect("docs/har.md");
    let dir = tmpdir("har-md");
    std::fs::copy(
        root().join("tests/har/firefox-reflect-without-vary.har"),
        dir.join("bug-report.har"),
    )
    .expect("copy the recording");
    let mut ran = 0;
    for (line, shown) in readme_commands(&doc) {
        if NEEDS_PEER.iter().any(|s| line.contains(s)) {
            continue;
        }
        if line.contains("after the fix") {
            let y = dir.join("bug.yaml");
            let text = std::fs::read_to_string(&y).expect("bug.yaml");
            assert!(text.contains("vary_origin: false"), "{text}");
            std::fs::write(&y, text.replace("vary_origin: false", "vary_origin: true"))
                .expect("edit bug.yaml");
        }
        let (out, want) = run_readme_line(&line, &dir);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(out.status.code(), Some(want), "har.md: `{line}`:\n{text}");
        let mut rest: &str = &text;
        for s in &shown {
            let prefix = s.trim_end().trim_end_matches('…').trim_end();
            let at = rest
                .find(prefix)
                .unwrap_or_else(|| panic!("har.md: `{line}` no longer prints {prefix:?}:\n{text}"));
            rest = &rest[at + prefix.len()..];
        }
        ran += 1;
    }
    assert!(ran >= 5, "ran {ran} har.md commands");
    let _ = std::fs::remove_dir_all(&dir);
}
