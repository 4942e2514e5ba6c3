use super::*;
use crate::scenario;

fn scenario_with(traffic: &str) -> (Scenario, TrafficModel) {
    let path = format!(
        "{}/scenarios/01-reflect-without-vary.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap() + traffic;
    let sc = scenario::parse("t.yaml", &text).unwrap();
    let m = parse("t.yaml", &text, &sc).unwrap().unwrap();
    (sc, m)
}

const TRAFFIC: &str = "traffic:
  window: 10m
  sessions_per_minute: 6
  clients:
    - { client: app1, share: 0.75 }
    - { client: app2, share: 0.25 }
  session_steps: { mean: 3, max: 50 }
  think: 20s
";

#[test]
fn v1_scenarios_parse_unchanged_and_have_no_model() {
    let path = format!(
        "{}/scenarios/01-reflect-without-vary.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let sc = scenario::parse("s.yaml", &text).unwrap();
    assert_eq!(parse("s.yaml", &text, &sc).unwrap(), None);
    let (with, m) = scenario_with(TRAFFIC);
    assert_eq!(with.steps, sc.steps);
    assert_eq!(m.window_ms, 600_000);
    assert_eq!(m.clients[0].per_minute, 4.5);
}

#[test]
fn errors_carry_file_line_col() {
    let path = format!(
        "{}/scenarios/01-reflect-without-vary.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let base = std::fs::read_to_string(path).unwrap();
    let lines = base.lines().count() as u64;
    let text = base.clone() + "traffic:\n  clients:\n    - { client: nobody, rate: 3 }\n";
    let sc = scenario::parse("t.yaml", &text).unwrap();
    let e = parse("t.yaml", &text, &sc).unwrap_err();
    assert_eq!((e.line, e.file.as_str()), (lines + 3, "t.yaml"), "{e}");
    assert!(e.to_string().contains("unknown client"), "{e}");
    let text = base + "traffic:\n  clients:\n    - { client: app1, rate: 3 }\n  think: soon\n";
    let e = parse("t.yaml", &text, &sc).unwrap_err();
    assert_eq!(e.line, lines + 4, "{e}");
}

/// The rate converges as the number of sampled sessions grows: with more independent
/// windows the between-window interval narrows, each estimate lies inside the previous
/// (wider) interval, and the last one is narrower than ±3 points.
#[test]
fn request_rate_converges_as_sessions_grow() {
    let (sc, mut m) = scenario_with(TRAFFIC);
    m.window_ms = 60 * 60_000;
    let mut prev: Option<TrafficReport> = None;
    for reps in [4u32, 16, 64] {
        let r = simulate(&sc, &m, 7, reps).unwrap();
        let (lo, hi) = r.replication_interval.unwrap();
        assert!(
            r.requests.failing > 0,
            "this scenario fails under shared traffic"
        );
        if let Some(p) = &prev {
            let (plo, phi) = p.replication_interval.unwrap();
            assert!(hi - lo < phi - plo, "{reps}: interval narrows");
            assert!(
                (plo..=phi).contains(&r.requests.rate),
                "{reps}: {} outside {plo}-{phi}",
                r.requests.rate
            );
        }
        prev = Some(r);
    }
    let (lo, hi) = prev.unwrap().replication_interval.unwrap();
    assert!(hi - lo < 0.06, "{lo}-{hi}");
}

/// With a traffic model the rate is a property of the model: nothing in it reads a step
/// cap (explore's --max-steps), and the session length comes from `session_steps`.
#[test]
fn rate_is_independent_of_any_step_cap() {
    let (sc, m) = scenario_with(TRAFFIC);
    let a = simulate(&sc, &m, 1, 1).unwrap();
    // Same model, same seed → same numbers, whatever explore's settings are.
    let b = simulate(&sc, &m, 1, 1).unwrap();
    assert_eq!(a, b);
    // Session lengths follow the model's mean (3): requests / sessions near 3.
    let per_session = a.requests.total as f64 / a.sessions.total as f64;
    assert!((2.5..3.5).contains(&per_session), "{per_session}");
    // Per-minute buckets cover the window and sum to the total.
    assert!(
        a.per_minute.len() >= 10,
        "the window's 10 minutes, and the tails of sessions started near its end"
    );
    assert_eq!(
        a.per_minute.iter().map(|r| r.total).sum::<u64>(),
        a.requests.total
    );
    assert_eq!(
        a.per_client.iter().map(|r| r.1.failing).sum::<u64>(),
        a.requests.failing
    );
}

#[test]
fn a_traffic_block_without_clients_names_what_it_needs() {
    let path = format!(
        "{}/scenarios/01-reflect-without-vary.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let base = std::fs::read_to_string(path).unwrap();
    let sc = scenario::parse("t.yaml", &base).unwrap();
    for block in ["traffic: {}\n", "traffic:\n  window: 10m\n  clients: []\n"] {
        let text = base.clone() + block;
        let e = parse("t.yaml", &text, &sc).unwrap_err().to_string();
        assert!(e.contains("`traffic:` needs `clients:`"), "{e}");
        let line = base.lines().count() + 1;
        assert!(
            e.starts_with(&format!("t.yaml:{line}:"))
                || e.starts_with(&format!("t.yaml:{}:", line + 2)),
            "{e}"
        );
    }
}
