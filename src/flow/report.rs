//! What a replayed step and a whole replay report, the same for both drivers: the
//! types every renderer reads, the expectation check and the totals.

use crate::browser::{Agent, Verdict};
use crate::edge::Outcome;
use crate::scenario::{Expect, PreflightUse, Scenario, ServedBy};
use serde::Serialize;
use std::sync::Arc;

/// Whether a step's expectations held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expectation {
    /// Every stated expectation held.
    Met,
    /// At least one did not; each string says which and what happened.
    Unmet(Vec<String>),
    /// The step states none.
    None,
}

/// One replayed step, everything a report shows.
#[derive(Clone, Debug)]
pub struct StepReport {
    /// Index in file order, from 0.
    pub index: usize,
    /// Line in the scenario file.
    pub line: u64,
    /// Virtual time in ms.
    pub at_ms: u64,
    /// Client name.
    pub client: Arc<str>,
    /// Client origin (empty for `browser: none`).
    pub origin: Arc<str>,
    /// Agent.
    pub agent: Agent,
    /// `GET /api/data`.
    pub request: Arc<str>,
    /// Full URL.
    pub url: Arc<str>,
    /// POP.
    pub pop: usize,
    /// Edge outcome of the actual request, or of the preflight when only it was sent.
    pub cache: Outcome,
    /// The shield's outcome, when there is one and it was asked.
    pub shield: Option<Outcome>,
    /// The key that matched or was looked up.
    pub key: Arc<str>,
    /// Preflight use.
    pub preflight: PreflightUse,
    /// The preflight's edge outcome when one was sent.
    pub preflight_cache: Option<Outcome>,
    /// The preflight's key when one was sent.
    pub preflight_key: Option<Arc<str>>,
    /// Status the page got (of the preflight when it failed there).
    pub status: u16,
    /// Verdict on what the edge delivered.
    pub verdict: Verdict,
    /// Verdict on what the origin answers to the same request with no cache in between.
    pub direct: Verdict,
    /// The two differ.
    pub cache_induced: bool,
    /// Allowed only because of the cache (a security finding).
    pub wrongly_allowed: bool,
    /// The no-cache counterfactual's answer was a server error (5xx): the origin was
    /// failing, and the cache answered in its place.
    pub origin_failed: bool,
    /// The step whose stored response was served, when cache-induced.
    pub poisoned_by: Option<usize>,
    /// What this step stored at its POP (`Ok(key)`) or why not (`Err(reason)`).
    pub stored: Option<Result<Arc<str>, &'static str>>,
    /// Which layer delivered the response that decided the verdict: the origin, the
    /// edge's cache, or the browser's own HTTP cache.
    pub served_by: ServedBy,
    /// Every request that left the browser for this step, in order (preflights and
    /// redirect hops included).
    pub hops: Vec<HopReport>,
    /// Expectation result.
    pub expectation: Expectation,
    /// A failure on a step that did not expect `blocked`.
    pub unexpected_failure: bool,
    /// How to prevent it (shared between the steps given the same hint).
    pub fix: Option<Arc<str>>,
}

/// One request a step sent, and what the edge did with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HopReport {
    /// `preflight` or `actual`.
    pub leg: &'static str,
    /// `OPTIONS /x`.
    #[serde(serialize_with = "as_str")]
    pub request: Arc<str>,
    /// Full URL.
    #[serde(serialize_with = "as_str")]
    pub url: Arc<str>,
    /// The edge outcome.
    pub cache: Outcome,
    /// The status received.
    pub status: u16,
}

/// Serialises shared text as the string it holds.
fn as_str<S: serde::Serializer>(s: &Arc<str>, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s)
}

/// Totals over a replay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Steps.
    pub steps: usize,
    /// Blocked steps.
    pub blocked: usize,
    /// Cache-induced steps (blocked or wrongly allowed).
    pub cache_induced: usize,
    /// Allowed only because of the cache.
    pub wrongly_allowed: usize,
    /// Unmet expectations.
    pub unmet_expectations: usize,
    /// Failures on steps that did not expect them.
    pub unexpected_failures: usize,
    /// Edge hits (hit + stale + collapsed) among actual requests that reached the edge.
    pub hits: usize,
    /// Requests that reached the edge (actual requests and preflights).
    pub edge_requests: usize,
}

/// A whole replay.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Scenario name.
    pub scenario: String,
    /// Scenario file.
    pub file: String,
    /// Profile name.
    pub profile: String,
    /// Per step.
    pub steps: Vec<StepReport>,
    /// Totals.
    pub summary: Summary,
}

impl Trace {
    /// Whether the replay passes: every expectation met, no unexpected failure.
    pub fn passed(&self) -> bool {
        self.summary.unmet_expectations == 0 && self.summary.unexpected_failures == 0
    }
}

/// Builds the trace and its summary from step reports.
pub fn finish(sc: &Scenario, profile: String, steps: Vec<StepReport>) -> Trace {
    let mut s = Summary {
        steps: steps.len(),
        ..Summary::default()
    };
    for r in &steps {
        s.blocked += usize::from(!r.verdict.allowed);
        s.cache_induced += usize::from(r.cache_induced);
        s.wrongly_allowed += usize::from(r.wrongly_allowed);
        s.unmet_expectations += usize::from(matches!(r.expectation, Expectation::Unmet(_)));
        s.unexpected_failures += usize::from(r.unexpected_failure);
        // When the preflight failed the actual request never left, and `cache` repeats the
        // preflight's outcome: count it once.
        let actual_sent = !(r.preflight_cache.is_some() && r.verdict.in_preflight);
        for o in [r.preflight_cache, actual_sent.then_some(r.cache)]
            .into_iter()
            .flatten()
        {
            s.edge_requests += 1;
            s.hits += usize::from(o.from_cache());
        }
    }
    Trace {
        scenario: sc.name.clone(),
        file: sc.file.clone(),
        profile,
        steps,
        summary: s,
    }
}

/// Compares a step's outcome with its expectations.
pub fn check(e: &Expect, r: &StepReport) -> Expectation {
    if e.is_empty() {
        return Expectation::None;
    }
    let mut unmet = Vec::new();
    let word = |ok: bool| if ok { "ok" } else { "blocked" };
    if let Some(ok) = e.cors_ok {
        if ok != r.verdict.allowed {
            unmet.push(format!(
                "cors: expected {}, got {} ({})",
                word(ok),
                word(r.verdict.allowed),
                r.verdict.reason.id()
            ));
        }
    }
    if let Some(reason) = e.reason {
        if reason != r.verdict.reason {
            unmet.push(format!(
                "reason: expected {}, got {}",
                reason.id(),
                r.verdict.reason.id()
            ));
        }
    }
    if let Some(c) = e.cache {
        if c != r.cache {
            unmet.push(format!("cache: expected {}, got {}", c.id(), r.cache.id()));
        }
    }
    if let Some(ci) = e.cache_induced {
        if ci != r.cache_induced {
            unmet.push(format!(
                "cache_induced: expected {ci}, got {}",
                r.cache_induced
            ));
        }
    }
    if let Some(p) = e.preflight {
        if p != r.preflight {
            unmet.push(format!(
                "preflight: expected {}, got {}",
                p.id(),
                r.preflight.id()
            ));
        }
    }
    if let Some(p) = e.poisoned_by {
        if Some(p) != r.poisoned_by {
            unmet.push(format!(
                "poisoned_by: expected step {p}, got {}",
                r.poisoned_by
                    .map_or("none".to_string(), |x| format!("step {x}"))
            ));
        }
    }
    if let Some(s) = e.status {
        if s != r.status {
            unmet.push(format!("status: expected {s}, got {}", r.status));
        }
    }
    if let Some(s) = e.served_by {
        if s != r.served_by {
            unmet.push(format!(
                "served_by: expected {}, got {}",
                s.id(),
                r.served_by.id()
            ));
        }
    }
    if unmet.is_empty() {
        Expectation::Met
    } else {
        Expectation::Unmet(unmet)
    }
}
