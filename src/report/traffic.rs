//! The traffic-model section of `explore`: the share of requests and of sessions that
//! meet a cache-induced CORS failure under the scenario's `traffic:` model, per client,
//! per route and per minute.

use crate::traffic::{Rate, TrafficReport};
use std::fmt::Write as _;

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn rate(r: &Rate) -> String {
    format!(
        "{}/{} = {} (Wilson 95% {}-{})",
        r.failing,
        r.total,
        pct(r.rate),
        pct(r.interval.0),
        pct(r.interval.1)
    )
}

/// Human-readable section.
pub fn text(t: &TrafficReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "traffic model: {} window(s) of {} min, each from a cold edge shared by every session (seed {})",
        t.replications,
        t.window_ms / 60_000,
        t.seed
    );
    let _ = writeln!(o, "  requests failing: {}", rate(&t.requests));
    if let Some((lo, hi)) = t.replication_interval {
        let _ = writeln!(
            o,
            "  quote this: {} of requests fail (95% interval {}-{} from the spread between windows; requests served from one entry are correlated, so the Wilson intervals are too narrow)",
            pct(t.requests.rate),
            pct(lo),
            pct(hi)
        );
    }
    let _ = writeln!(
        o,
        "  sessions with a failing request: {}",
        rate(&t.sessions)
    );
    for (c, r) in &t.per_client {
        let _ = writeln!(o, "  client {c}: {}", rate(r));
    }
    for (c, r) in &t.per_route {
        let _ = writeln!(o, "  route {c}: {}", rate(r));
    }
    let minutes: Vec<String> = t
        .per_minute
        .iter()
        .map(|r| format!("{}/{}", r.failing, r.total))
        .collect();
    let _ = writeln!(
        o,
        "  failing/requests per minute from the window's start (pooled over windows; the last minutes hold sessions started near its end): {}",
        minutes.join(" ")
    );
    o
}

/// JSON value.
pub fn json(t: &TrafficReport) -> serde_json::Value {
    serde_json::to_value(t).unwrap_or(serde_json::Value::Null)
}
