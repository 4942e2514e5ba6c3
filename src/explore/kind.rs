//! Failure kinds: what failed (the verdict reason) × which kind of step poisoned which.

use crate::browser::{Agent, Mode, Verdict};
use crate::flow::{Attributed, StepReport};
use crate::scenario::{Scenario, Step};

/// A class of cache-induced failure, e.g. `origin-mismatch: GET (no Origin) poisons GET
/// (cors)`. The id is stable (lowercase, no spaces) and is what findings are grouped by.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FailureKind {
    /// `origin-mismatch/get-no-origin>get-cors`.
    pub id: String,
    /// `origin-mismatch: GET (no Origin) poisons GET (cors)`.
    pub text: String,
    /// The victim was blocked (`false`: it was wrongly allowed, a security finding).
    pub blocked: bool,
}

/// One cache-induced step in a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The victim step.
    pub step: usize,
    /// The step whose stored response was served.
    pub poisoned_by: usize,
    /// Its kind.
    pub kind: FailureKind,
}

/// How a step's request looks to the cache and the origin: `GET (cors)`, `GET (no
/// Origin)`, `POST (no-cors)`. Credentials and headers are left out: the verdict reason
/// already tells a credentials failure, and finer labels split one bug into many kinds.
pub fn label(sc: &Scenario, st: &Step) -> String {
    let agent = sc.clients.get(st.client).map_or(Agent::None, |c| c.agent);
    let how = if agent == Agent::None {
        "no Origin"
    } else if st.mode == Mode::NoCors {
        if matches!(st.method.as_str(), "GET" | "HEAD") {
            "no Origin"
        } else {
            "no-cors"
        }
    } else {
        "cors"
    };
    format!("{} ({how})", st.method)
}

const PREFLIGHT: &str = "OPTIONS (preflight)";

/// The kind of a step report, when it is cache-induced. `steps` are the session's steps
/// (for the poisoning step's shape).
pub fn classify(sc: &Scenario, steps: &[Step], r: &StepReport) -> Option<Finding> {
    classify_judged(sc, steps, &Judged::from(r))
}

/// What [`classify`] reads of a step's outcome: a full report's fields, or those of the
/// attribution alone (the explorer's sampling runs without building reports).
#[derive(Clone, Copy, Debug)]
pub struct Judged<'a> {
    /// The step's index in its session.
    pub index: usize,
    /// The cache changed the verdict against the no-cache counterfactual.
    pub cache_induced: bool,
    /// The step whose stored response did it.
    pub poisoned_by: Option<usize>,
    /// The browser's verdict.
    pub verdict: &'a Verdict,
    /// The no-cache counterfactual's verdict.
    pub direct: &'a Verdict,
}

impl<'a> From<&'a StepReport> for Judged<'a> {
    fn from(r: &'a StepReport) -> Self {
        Judged {
            index: r.index,
            cache_induced: r.cache_induced,
            poisoned_by: r.poisoned_by,
            verdict: &r.verdict,
            direct: &r.direct,
        }
    }
}

impl<'a> Judged<'a> {
    /// Step `index`'s attribution.
    pub fn attributed(index: usize, a: &'a Attributed) -> Self {
        Judged {
            index,
            cache_induced: a.cache_induced,
            poisoned_by: a.poisoned_by,
            verdict: &a.verdict,
            direct: &a.direct,
        }
    }
}

/// [`classify`] from what it reads.
pub fn classify_judged(sc: &Scenario, steps: &[Step], r: &Judged<'_>) -> Option<Finding> {
    if !r.cache_induced {
        return None;
    }
    let p = r.poisoned_by?;
    let victim_step = steps.get(r.index)?;
    let poison_step = steps.get(p)?;
    let (victim, poisoner) = if r.verdict.in_preflight {
        let poisoner = if poison_step.method == "OPTIONS" {
            label(sc, poison_step)
        } else {
            PREFLIGHT.to_string()
        };
        (PREFLIGHT.to_string(), poisoner)
    } else {
        (label(sc, victim_step), label(sc, poison_step))
    };
    let blocked = !r.verdict.allowed;
    let (reason_id, reason_text) = if blocked {
        (
            r.verdict.reason.id().to_string(),
            r.verdict.reason.id().to_string(),
        )
    } else {
        (
            format!("wrongly-allowed.{}", r.direct.reason.id()),
            format!(
                "allowed only by the cache (the origin alone: {})",
                r.direct.reason.id()
            ),
        )
    };
    Some(Finding {
        step: r.index,
        poisoned_by: p,
        kind: FailureKind {
            id: format!("{reason_id}/{}>{}", slug(&poisoner), slug(&victim)),
            text: format!("{reason_text}: {poisoner} poisons {victim}"),
            blocked,
        },
    })
}

/// `GET (no Origin)` → `get-no-origin`.
fn slug(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            o.push(c.to_ascii_lowercase());
        } else if !o.ends_with('-') && !o.is_empty() {
            o.push('-');
        }
    }
    while o.ends_with('-') {
        o.pop();
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("GET (no Origin)"), "get-no-origin");
        assert_eq!(slug("POST (no-cors)"), "post-no-cors");
        assert_eq!(slug(PREFLIGHT), "options-preflight");
    }
}
