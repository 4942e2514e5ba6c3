//! The `traffic:` section of a scenario (optional; a v1 scenario without it is unchanged).
//! The scenario parser accepts the key; this module validates it, with file:line:col.

use super::{ClientTraffic, TrafficModel};
use crate::error::InputError;
use crate::scenario::Scenario;
use crate::time::parse_duration_ms;
use serde::Deserialize;
use serde_saphyr::{Location, Spanned as S};

#[derive(Deserialize)]
struct Doc {
    traffic: Option<S<RawTraffic>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraffic {
    window: Option<S<String>>,
    sessions_per_minute: Option<S<f64>>,
    clients: Option<S<Vec<S<RawClient>>>>,
    session_steps: Option<S<RawSteps>>,
    think: Option<S<String>>,
    pops: Option<S<Vec<f64>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    client: S<String>,
    rate: Option<S<f64>>,
    share: Option<S<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSteps {
    mean: S<f64>,
    max: Option<S<u64>>,
}

fn err(file: &str, l: &Location, msg: impl Into<String>) -> InputError {
    InputError::at(file, l.line(), l.column(), msg)
}

fn duration(file: &str, d: &S<String>, what: &str) -> Result<u64, InputError> {
    parse_duration_ms(&d.value).ok_or_else(|| {
        err(
            file,
            &d.referenced,
            format!("expected a duration for `{what}` such as 30s, 10m, 500ms"),
        )
    })
}

/// The traffic model of scenario `sc` (loaded from `text`, named `file`), if it has one.
pub fn parse(file: &str, text: &str, sc: &Scenario) -> Result<Option<TrafficModel>, InputError> {
    let doc: Doc = crate::scenario::read_yaml(file, text)?;
    let Some(t) = doc.traffic else {
        return Ok(None);
    };
    let at = t.referenced;
    let t = t.value;
    let Some(listed) = t.clients.as_ref().filter(|c| !c.value.is_empty()) else {
        return Err(err(
            file,
            t.clients.as_ref().map_or(&at, |c| &c.referenced),
            "`traffic:` needs `clients:`, a list of `{ client: NAME, rate: N }` (or `share:`) naming the scenario's clients whose sessions make the traffic (docs/traffic.md)",
        ));
    };
    let window_ms = match &t.window {
        Some(w) => duration(file, w, "window")?,
        None => 600_000,
    };
    if window_ms == 0 {
        return Err(err(
            file,
            &t.window
                .as_ref()
                .map_or(Location::UNKNOWN, |w| w.referenced),
            "the window must be longer than 0",
        ));
    }
    let total = t.sessions_per_minute.as_ref();
    let mut clients = Vec::new();
    for c in &listed.value {
        let c = &c.value;
        let idx = sc
            .clients
            .iter()
            .position(|x| x.name == c.client.value)
            .ok_or_else(|| {
                let names: Vec<&str> = sc.clients.iter().map(|x| x.name.as_str()).collect();
                err(
                    file,
                    &c.client.referenced,
                    format!(
                        "unknown client {:?}; expected one of: {}",
                        c.client.value,
                        names.join(", ")
                    ),
                )
            })?;
        let per_minute = match (&c.rate, &c.share, total) {
            (Some(r), None, _) => (r.value, r.referenced),
            (None, Some(s), Some(tot)) => (s.value * tot.value, s.referenced),
            (None, Some(s), None) => {
                return Err(err(
                    file,
                    &s.referenced,
                    "`share` needs `sessions_per_minute:` in `traffic:`",
                ))
            }
            _ => {
                return Err(err(
                    file,
                    &c.client.referenced,
                    "give exactly one of `rate:` (sessions per minute) or `share:`",
                ))
            }
        };
        if !(per_minute.0.is_finite() && per_minute.0 > 0.0) {
            return Err(err(
                file,
                &per_minute.1,
                "expected a positive number of sessions per minute",
            ));
        }
        clients.push(ClientTraffic {
            client: idx,
            per_minute: per_minute.0,
        });
    }
    if clients.is_empty() {
        return Err(err(
            file,
            &listed.referenced,
            "list at least one client with a `rate:` or `share:`",
        ));
    }
    let (mean_steps, max_steps) = match &t.session_steps {
        Some(s) => {
            let max = s.value.max.as_ref().map_or(100, |m| m.value as usize);
            if !(s.value.mean.value >= 1.0 && s.value.mean.value <= max as f64) {
                return Err(err(
                    file,
                    &s.value.mean.referenced,
                    format!("expected a mean between 1 and max ({max})"),
                ));
            }
            (s.value.mean.value, max)
        }
        None => (5.0, 100),
    };
    let think_ms = match &t.think {
        Some(d) => duration(file, d, "think")?,
        None => 10_000,
    };
    let pops = t.pops.as_ref().map_or(Ok(Vec::new()), |p| {
        if p.value.iter().all(|w| w.is_finite() && *w >= 0.0) && p.value.iter().sum::<f64>() > 0.0 {
            Ok(p.value.clone())
        } else {
            Err(err(
                file,
                &p.referenced,
                "expected non-negative POP weights, not all 0",
            ))
        }
    })?;
    Ok(Some(TrafficModel {
        window_ms,
        clients,
        mean_steps,
        max_steps,
        think_ms,
        pops,
    }))
}
