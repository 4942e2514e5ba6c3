//! Failure kinds: what failed (the verdict reason) × which kind of step poisoned which.

use crate::browser::{Agent, Mode, Reason, Verdict};
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
    Shape::of(sc, st).to_string()
}

/// What a [`label`] is made of, or the preflight's own label ([`PREFLIGHT`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape<'a> {
    Preflight,
    Step { method: &'a str, how: &'static str },
}

impl<'a> Shape<'a> {
    fn of(sc: &Scenario, st: &'a Step) -> Shape<'a> {
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
        Shape::Step {
            method: &st.method,
            how,
        }
    }

    /// The same shape, owning its method (what [`Kinds`] keeps).
    fn owned(self) -> OwnedShape {
        match self {
            Shape::Preflight => OwnedShape::Preflight,
            Shape::Step { method, how } => OwnedShape::Step {
                method: method.to_string(),
                how,
            },
        }
    }

    fn is(self, o: &OwnedShape) -> bool {
        match (self, o) {
            (Shape::Preflight, OwnedShape::Preflight) => true,
            (Shape::Step { method, how }, OwnedShape::Step { method: m, how: h }) => {
                method == m && how == *h
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Shape<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shape::Preflight => f.write_str(PREFLIGHT),
            Shape::Step { method, how } => write!(f, "{method} ({how})"),
        }
    }
}

/// A [`Shape`] kept by [`Kinds`].
#[derive(Debug)]
enum OwnedShape {
    Preflight,
    Step { method: String, how: &'static str },
}

/// Everything a [`FailureKind`] is built from: two findings with the same key have the
/// same kind.
#[derive(Clone, Copy, Debug)]
struct KindKey<'a> {
    blocked: bool,
    /// The verdict's reason when blocked, else the origin alone's.
    reason: Reason,
    poisoner: Shape<'a>,
    victim: Shape<'a>,
}

impl KindKey<'_> {
    fn kind(&self) -> FailureKind {
        let (poisoner, victim) = (self.poisoner.to_string(), self.victim.to_string());
        let (reason_id, reason_text) = if self.blocked {
            (self.reason.id().to_string(), self.reason.id().to_string())
        } else {
            (
                format!("wrongly-allowed.{}", self.reason.id()),
                format!(
                    "allowed only by the cache (the origin alone: {})",
                    self.reason.id()
                ),
            )
        };
        FailureKind {
            id: format!("{reason_id}/{}>{}", slug(&poisoner), slug(&victim)),
            text: format!("{reason_text}: {poisoner} poisons {victim}"),
            blocked: self.blocked,
        }
    }
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
    let (p, key) = kind_key(sc, |i| steps.get(i), r)?;
    Some(Finding {
        step: r.index,
        poisoned_by: p,
        kind: key.kind(),
    })
}

/// The poisoning step and what the kind of a cache-induced step is made of; `step`
/// gives the session's step by index (only its client, mode and method are read).
fn kind_key<'s>(
    sc: &Scenario,
    step: impl Fn(usize) -> Option<&'s Step>,
    r: &Judged<'_>,
) -> Option<(usize, KindKey<'s>)> {
    if !r.cache_induced {
        return None;
    }
    let p = r.poisoned_by?;
    let victim_step = step(r.index)?;
    let poison_step = step(p)?;
    let (victim, poisoner) = if r.verdict.in_preflight {
        let poisoner = if poison_step.method == "OPTIONS" {
            Shape::of(sc, poison_step)
        } else {
            Shape::Preflight
        };
        (Shape::Preflight, poisoner)
    } else {
        (Shape::of(sc, victim_step), Shape::of(sc, poison_step))
    };
    let blocked = !r.verdict.allowed;
    let reason = if blocked {
        r.verdict.reason
    } else {
        r.direct.reason
    };
    let key = KindKey {
        blocked,
        reason,
        poisoner,
        victim,
    };
    Some((p, key))
}

/// The kinds [`Kinds::classify`] has built, so that a kind met again (the explorer meets
/// the same few thousands of times) is copied rather than formatted anew.
#[derive(Debug, Default)]
pub struct Kinds {
    known: Vec<(bool, Reason, OwnedShape, OwnedShape, FailureKind)>,
}

/// Kinds kept at most (a scenario has a handful; past this, new ones are built each time).
const KINDS_KEPT: usize = 256;

impl Kinds {
    /// Whether a new kind is kept (at most [`KINDS_KEPT`]).
    fn has_room(&self) -> bool {
        self.known.len() < KINDS_KEPT
    }

    /// [`classify_judged`], the kind copied when it was built before.
    pub fn classify(&mut self, sc: &Scenario, steps: &[Step], r: &Judged<'_>) -> Option<Finding> {
        self.classify_by(sc, |i| steps.get(i), r)
    }

    /// [`Kinds::classify`] with the session's steps given by index (`step`), wherever
    /// they are kept.
    pub fn classify_by<'s>(
        &mut self,
        sc: &Scenario,
        step: impl Fn(usize) -> Option<&'s Step>,
        r: &Judged<'_>,
    ) -> Option<Finding> {
        let (p, key) = kind_key(sc, step, r)?;
        let known = self.known.iter().find(|(b, reason, poisoner, victim, _)| {
            *b == key.blocked
                && *reason == key.reason
                && key.poisoner.is(poisoner)
                && key.victim.is(victim)
        });
        let kind = match known {
            Some((.., kind)) => kind.clone(),
            None => {
                let kind = key.kind();
                if self.has_room() {
                    self.known.push((
                        key.blocked,
                        key.reason,
                        key.poisoner.owned(),
                        key.victim.owned(),
                        kind.clone(),
                    ));
                }
                kind
            }
        };
        Some(Finding {
            step: r.index,
            poisoned_by: p,
            kind,
        })
    }
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
    use crate::scenario::parse;

    /// Steps of every shape: a browser's GET, PUT and OPTIONS in cors and no-cors mode,
    /// and a server-side client's.
    fn shapes() -> Scenario {
        let y = r#"
name: shapes
origin:
  cors: { allow_origins: [https://app1.example.com], allow_methods: [GET, PUT] }
  routes: [{ path: /a }]
edge: { profile: url-only }
clients:
  - { name: app, origin: https://app1.example.com, browser: chrome }
  - { name: backend, browser: none }
steps:
  - { client: app, fetch: GET /a }
  - { client: app, fetch: PUT /a }
  - { client: app, fetch: GET /a, mode: no-cors }
  - { client: app, fetch: PUT /a, mode: no-cors }
  - { client: backend, fetch: GET /a }
  - { client: app, fetch: OPTIONS /a }
  - { client: backend, fetch: PUT /a }
"#;
        parse("shapes.yaml", y).unwrap_or_else(|e| panic!("{e}"))
    }

    fn verdict(allowed: bool, reason: Reason, in_preflight: bool) -> Verdict {
        Verdict {
            allowed,
            reason,
            checked: true,
            console: String::new(),
            in_preflight,
        }
    }

    /// One memo over every (victim, poisoner, preflight, blocked, reason) gives what
    /// building each kind afresh gives: a kind met before is never mistaken for another
    /// that differs in one part.
    #[test]
    fn remembered_kinds_are_the_kinds_built_afresh() {
        let sc = shapes();
        let steps = &sc.steps;
        let mut kinds = Kinds::default();
        let mut distinct = std::collections::BTreeSet::new();
        for round in 0..2 {
            for victim in 0..steps.len() {
                for poisoner in 0..steps.len() {
                    for in_preflight in [false, true] {
                        for allowed in [false, true] {
                            for reason in [Reason::OriginMismatch, Reason::MissingAllowOrigin] {
                                let (v, d) = if allowed {
                                    (
                                        verdict(true, Reason::Ok, in_preflight),
                                        verdict(false, reason, false),
                                    )
                                } else {
                                    (
                                        verdict(false, reason, in_preflight),
                                        verdict(true, Reason::Ok, false),
                                    )
                                };
                                let j = Judged {
                                    index: victim,
                                    cache_induced: true,
                                    poisoned_by: Some(poisoner),
                                    verdict: &v,
                                    direct: &d,
                                };
                                let fresh = classify_judged(&sc, steps, &j);
                                assert!(fresh.is_some());
                                assert_eq!(kinds.classify(&sc, steps, &j), fresh, "round {round}");
                                distinct.insert(fresh.map(|f| f.kind.id));
                            }
                        }
                    }
                }
            }
        }
        // 5 browser and 2 server-side shapes (the no-cors GET is `GET (no Origin)` like
        // the backend's) plus the preflight, met as victims and poisoners
        assert!(distinct.len() > 100, "{}", distinct.len());
        // each kind was built once and found again in the second round
        assert_eq!(kinds.known.len(), distinct.len());
        let not_induced = Judged {
            index: 0,
            cache_induced: false,
            poisoned_by: Some(1),
            verdict: &verdict(false, Reason::OriginMismatch, false),
            direct: &verdict(true, Reason::Ok, false),
        };
        assert_eq!(kinds.classify(&sc, steps, &not_induced), None);
    }

    /// What a step's kind says, for a victim judged on its preflight or its actual
    /// request, poisoned by an `OPTIONS` or another step.
    #[test]
    fn kinds_name_the_preflight_and_the_steps() {
        let sc = shapes();
        let (blocked, ok) = (
            verdict(false, Reason::OriginMismatch, false),
            verdict(true, Reason::Ok, false),
        );
        let in_preflight = verdict(false, Reason::OriginMismatch, true);
        let id = |index: usize, poisoner: usize, v: &Verdict| {
            let j = Judged {
                index,
                cache_induced: true,
                poisoned_by: Some(poisoner),
                verdict: v,
                direct: &ok,
            };
            classify_judged(&sc, &sc.steps, &j).map(|f| (f.kind.id, f.kind.text))
        };
        let pair = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(
            id(1, 5, &in_preflight),
            pair(
                "origin-mismatch/options-cors>options-preflight",
                "origin-mismatch: OPTIONS (cors) poisons OPTIONS (preflight)"
            )
        );
        assert_eq!(
            id(1, 0, &in_preflight),
            pair(
                "origin-mismatch/options-preflight>options-preflight",
                "origin-mismatch: OPTIONS (preflight) poisons OPTIONS (preflight)"
            )
        );
        assert_eq!(
            id(0, 4, &blocked),
            pair(
                "origin-mismatch/get-no-origin>get-cors",
                "origin-mismatch: GET (no Origin) poisons GET (cors)"
            )
        );
    }

    #[test]
    fn kinds_kept_are_bounded() {
        let sc = shapes();
        let mut kinds = Kinds::default();
        let j = Judged {
            index: 0,
            cache_induced: true,
            poisoned_by: Some(4),
            verdict: &verdict(false, Reason::OriginMismatch, false),
            direct: &verdict(true, Reason::Ok, false),
        };
        let f = kinds.classify(&sc, &sc.steps, &j);
        let first = kinds.known.pop();
        assert!(first.is_some());
        while kinds.known.len() < KINDS_KEPT - 1 {
            let mut k = KindKey {
                blocked: true,
                reason: Reason::OriginMismatch,
                poisoner: Shape::Preflight,
                victim: Shape::Preflight,
            }
            .kind();
            k.id = format!("filler-{}", kinds.known.len());
            kinds.known.push((
                true,
                Reason::Ok,
                OwnedShape::Preflight,
                OwnedShape::Preflight,
                k,
            ));
        }
        assert!(kinds.has_room());
        assert_eq!(kinds.classify(&sc, &sc.steps, &j), f);
        assert_eq!(kinds.known.len(), KINDS_KEPT);
        assert!(!kinds.has_room());
        // full: a new kind is built and handed out, not kept
        let j2 = Judged {
            poisoned_by: Some(2),
            ..j
        };
        assert!(kinds.classify(&sc, &sc.steps, &j2).is_some());
        assert_eq!(kinds.known.len(), KINDS_KEPT);
    }

    #[test]
    fn labels() {
        let sc = shapes();
        let labels: Vec<String> = sc.steps.iter().map(|st| label(&sc, st)).collect();
        assert_eq!(
            labels,
            [
                "GET (cors)",
                "PUT (cors)",
                "GET (no Origin)",
                "PUT (no-cors)",
                "GET (no Origin)",
                "OPTIONS (cors)",
                "PUT (no Origin)"
            ]
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("GET (no Origin)"), "get-no-origin");
        assert_eq!(slug("POST (no-cors)"), "post-no-cors");
        assert_eq!(slug(PREFLIGHT), "options-preflight");
    }
}
