//! The quick reader against the YAML reader: whatever it accepts, it must read exactly as
//! the YAML reader does (values and positions), and a whole scenario must come out the
//! same — or fail with the same error — whichever reader took its steps.

use super::super::raw::RawScenario;
use super::super::{read_quick, read_scenario, read_yaml, tests_support::bundled_files};
use super::*;
use proptest::prelude::*;

/// What a step says, with positions, comparable across the two readers.
type Seen = (
    u64,
    Option<At<String>>,
    At<String>,
    At<String>,
    [Option<At<String>>; 3],
);

fn seen(s: &StepIn<'_>) -> Seen {
    let own = |a: &At<Cow<'_, str>>| At {
        value: a.value.to_string(),
        at: a.at,
    };
    (
        s.line,
        s.at.as_ref().map(own),
        own(&s.client),
        own(&s.fetch),
        [
            s.credentials.as_ref().map(own),
            s.mode.as_ref().map(own),
            s.redirect.as_ref().map(own),
        ],
    )
}

/// The steps as the YAML reader reads them, or its error.
fn by_yaml(text: &str) -> Result<Vec<Seen>, String> {
    let raw: RawScenario = read_yaml("t.yaml", text).map_err(|e| e.to_string())?;
    let steps = raw.steps.map(|l| l.value).unwrap_or_default();
    Ok(steps.into_iter().map(|s| seen(&StepIn::from(s))).collect())
}

fn doc(steps: &str) -> String {
    format!(
        "name: t\norigin:\n  cors: {{ allow_origins: [https://a.example] }}\n  routes:\n    - {{ path: \"/*\", cache_control: \"max-age=60\" }}\nclients:\n  - {{ name: c1, origin: https://a.example }}\n  - {{ name: c 2, origin: https://b.example }}\nsteps:\n{steps}"
    )
}

/// Both readers on `text`: the quick reader's steps (if it takes them) equal the YAML
/// reader's, and the scenarios (or errors) are equal.
fn agree(text: &str) -> bool {
    let quick = read_quick("t.yaml", text);
    if let Some((_, (_, steps))) = &quick {
        let mine: Vec<Seen> = steps.iter().map(seen).collect();
        assert_eq!(Ok(mine), by_yaml(text), "{text}");
    }
    assert_eq!(
        read_scenario("t.yaml", text, None, None, true),
        read_scenario("t.yaml", text, None, None, false),
        "{text}"
    );
    quick.is_some()
}

#[test]
fn generated_traces_take_the_quick_reader() {
    let text = doc(
        "  - { client: c1, fetch: GET /api/r158?v=2 }\n  - { at: +3ms, client: c 2, fetch: GET https://x.example/p#f }\n  - {at: 90s,client: c1 ,  fetch: PUT /a/b:c , credentials: include, mode: no-cors, redirect: manual}\n",
    );
    assert!(agree(&text));
    let q = take_steps(&text).unwrap();
    assert_eq!(q.steps.len(), 3);
    assert_eq!(q.steps[1].fetch.value, "GET https://x.example/p#f");
    assert_eq!(
        q.steps[2].client.at,
        Pos {
            line: 12,
            column: 22
        }
    );
    assert_eq!(q.rest.lines().count(), text.lines().count());
    // Trailing spaces after the key, and after a step, change nothing; a word made of
    // the letters of an exponent is a word.
    assert!(agree(&text.replace("steps:\n", "steps:   \n")));
    assert!(agree(
        &text.replace("/api/r158?v=2 }", "/api/r158?v=2 }   ")
    ));
    let e = doc("  - { client: e, fetch: GET /q }\n  - { client: E, fetch: GET /q }\n");
    assert_eq!(take_steps(&e).map(|q| q.steps.len()), Some(2));
    // The bundled scenarios: whichever reader took their steps, the same scenario.
    for f in bundled_files("") {
        let text = std::fs::read_to_string(&f).unwrap();
        agree(&text);
    }
}

#[test]
fn what_the_quick_reader_does_not_model_goes_to_the_yaml_reader() {
    for line in [
        "  - { client: c1, fetch: \"GET /q\" }",
        "  - { client: c1, fetch: GET /q, headers: { x-a: b } }",
        "  - { client: c1, fetch: GET /q, expect: { cors: ok } }",
        "  - { client: c1, fetch: GET /q }  # trailing comment",
        "  - { client: c1, fetch: GET /q #c }",
        "  - { client: c1, fetch: GET /q, }",
        "  - { client: c1, client: c1, fetch: GET /q }",
        "  - { client: c1 }",
        "  - { client: c1, fetch: GET /q, bogus: 1 }",
        "  - { client: c1, fetch: GET\t/q }",
        "  - { client: c1, fetch: GET /q }\r",
        "  - { client: c1, fetch: GET /é }",
        "  - { client: c1, fetch: GET /\u{1}x }",
        "  - { client: c1, fetch: GET /\u{7f}x }",
        "  - { at: 5, client: c1, fetch: GET /q }",
        "  - { at: +1.5e3, client: c1, fetch: GET /q }",
        "  - { at: 0x1F, client: c1, fetch: GET /q }",
        "  - { at: ~, client: c1, fetch: GET /q }",
        "  - { at: .INF, client: c1, fetch: GET /q }",
        "  - { at: -.inf, client: c1, fetch: GET /q }",
        "  - { at: False, client: c1, fetch: GET /q }",
        "  - { at: , client: c1, fetch: GET /q }",
        "  - { client: yes, fetch: GET /q }",
        "  - { client: &a c1, fetch: GET /q }",
        "  - { client: c1, fetch: GET /q: x }",
        "  - { client:c1, fetch: GET /q }",
        "  - {client: c1, fetch: GET /q } x",
        "  - { client: c1, fetch: GET /q }x",
        "  - { client: c1, fetch: GET /a[0] }",
        "  - { client: c1, fetch: GET /a{b} }",
        "  - { at: +.inf, client: c1, fetch: GET /q }",
        "  - { at: .5, client: c1, fetch: GET /q }",
        "  - { at: 0x1_0, client: c1, fetch: GET /q }",
        "  -{ client: c1, fetch: GET /q }",
        "  - client: c1\n    fetch: GET /q",
    ] {
        let text = doc(&format!("  - {{ client: c1, fetch: GET /ok }}\n{line}\n"));
        assert!(!agree(&text), "taken: {line:?}");
    }
    // A different indentation, a second document, a missing last newline, a second
    // `steps:` key, a `steps:` line inside a quoted value.
    let one = "  - { client: c1, fetch: GET /ok }\n";
    for text in [
        doc(&format!("{one}    - {{ client: c1, fetch: GET /q }}\n")),
        doc(&format!("{one}---\n")),
        doc(one.trim_end()),
        format!("{}steps:\n{one}", doc(one)),
        format!("about: \"a\n\nsteps:\n{one}\"\n{}", doc(one)),
    ] {
        assert!(!agree(&text), "taken: {text}");
    }
}

#[test]
fn errors_in_quick_steps_are_located_as_the_yaml_reader_locates_them() {
    for line in [
        "  - { client: nobody, fetch: GET /q }",
        "  - { client: c1, fetch: GET }",
        "  - { client: c1, fetch: G@T /q }",
        "  - { client: c1, fetch: GET q }",
        "  - { client: c1, fetch: GET ftp://x/ }",
        "  - { at: soon, client: c1, fetch: GET /q }",
        "  - { at: 5s, client: c1, fetch: GET /q }\n  - { at: 1s, client: c1, fetch: GET /q }",
        "  - { client: c1, fetch: GET /q, credentials: all }",
        "  - { client: c1, fetch: GET /q, mode: navigate }",
        "  - { client: c1, fetch: GET /q, redirect: never }",
    ] {
        let text = doc(&format!("{line}\n"));
        assert!(agree(&text), "not taken: {line:?}");
        assert!(
            read_scenario("t.yaml", &text, None, None, true).is_err(),
            "{line}"
        );
    }
    // An error after the block keeps its line and column: one the YAML reader finds
    // (then it reads the whole file), and one validation finds in the blanked document.
    let text = doc("  - { client: c1, fetch: GET /q }\nbogus: 1\n");
    assert!(!agree(&text));
    let e = read_scenario("t.yaml", &text, None, None, true).unwrap_err();
    assert_eq!((e.line, e.col), (11, 1), "{e}");
    let text = doc("  - { client: c1, fetch: GET /q }\n\n  # c\nedge: { profile: nosuch }\n");
    assert!(agree(&text));
    let e = read_scenario("t.yaml", &text, None, None, true).unwrap_err();
    assert_eq!((e.line, e.col), (13, 18), "{e}");
}

/// Pieces a step line is made of: plain words, and what YAML reads otherwise.
fn value() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "c1",
        "c 2",
        "nobody",
        "+3ms",
        "90s",
        "5",
        "-1",
        "1.5",
        "+2",
        "0o17",
        "1_0",
        "true",
        "No",
        "~",
        "null",
        ".nan",
        "GET /a?b=1#f",
        "GET /a #c",
        "GET /x: y",
        "GET 'q'",
        "GET /é",
        "a,b",
        "?x",
        "-x",
        "!t x",
        "*a",
        "GET https://h.example/p",
        "include",
        "no-cors",
        "manual",
        "cors",
        "omit",
        "y",
        "0b1",
        "12:30",
        "x:",
        "GET\t/x",
        "",
    ])
    .prop_map(str::to_string)
}

/// A `key: value` entry: mostly one a step takes, sometimes anything.
fn entry() -> impl Strategy<Value = String> {
    let fine = prop::sample::select(vec![
        "at: +3ms",
        "at: 2s",
        "credentials: include",
        "mode: no-cors",
        "redirect: manual",
        "redirect: error",
    ])
    .prop_map(str::to_string);
    let key = prop::sample::select(vec![
        "at",
        "client",
        "fetch",
        "credentials",
        "mode",
        "redirect",
        "headers",
        "Client",
    ]);
    let gap = prop::sample::select(vec!["", " ", "  "]);
    let any = (key, gap.clone(), value(), gap).prop_map(|(k, g, v, g2)| format!("{k}:{g} {v}{g2}"));
    prop_oneof![4 => fine, 1 => any]
}

fn step_line() -> impl Strategy<Value = String> {
    let fetch = prop::sample::select(vec!["GET /a", "PUT /b?x=1", "GET https://h.example/"]);
    (
        prop::sample::select(vec!["c1", "c 2"]),
        fetch,
        prop::collection::vec(entry(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(c, f, extra, compact)| {
            let mut parts = vec![format!("client: {c}"), format!("fetch: {f}")];
            parts.extend(extra);
            let sep = if compact { "," } else { ", " };
            format!("  - {{ {} }}", parts.join(sep))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random step lists, most lines simple and some not: whenever the quick reader
    /// takes them it reads them as the YAML reader does, and the scenario (or the error)
    /// is the same either way.
    #[test]
    fn both_readers_agree(lines in prop::collection::vec(step_line(), 1..6), tail in any::<bool>()) {
        let mut steps = lines.join("\n");
        steps.push('\n');
        if tail {
            steps.push_str("\n# done\n");
        }
        agree(&doc(&steps));
    }
}

/// A `steps:` line at column 0 that is not the top-level key — here inside a quoted
/// value — is found by the line scan; the YAML reader then sees the real `steps`
/// elsewhere, and the file is read the slow way, as it must be.
#[test]
fn a_steps_line_inside_a_quoted_value_is_not_the_steps_key() {
    let routes = "  routes:\n    - { path: \"/*\", cache_control: \"max-age=60\" }\n";
    let head = format!("name: t\nabout: \"x\nsteps:\n  - {{ client: c1, fetch: GET /q }}\nend\"\norigin:\n  cors: {{ allow_origins: [https://a.example] }}\n{routes}clients:\n  - {{ name: c1, origin: https://a.example }}\n");
    for real in [
        "\"steps\": []\n",
        "\"steps\":\n  - { client: c1, fetch: GET /real }\n",
    ] {
        let text = format!("{head}{real}");
        assert!(take_steps(&text).is_some(), "the line scan finds it");
        assert!(!agree(&text), "{text}");
    }
    let sc = read_scenario(
        "t.yaml",
        &format!("{head}\"steps\":\n  - {{ client: c1, fetch: GET /real }}\n"),
        None,
        None,
        true,
    )
    .unwrap();
    assert_eq!(sc.about, "x steps: - { client: c1, fetch: GET /q } end");
    assert_eq!(sc.steps[0].target, "/real");
}
