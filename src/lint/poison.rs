//! "Will this missing `Vary` actually poison this edge?" — decided by the simulator, not
//! by hand: a few two-step sessions are generated from the scenario's policy (two allowed
//! origins; a request without `Origin`, then an allowed one; a refused origin, then an
//! allowed one) and replayed with the scenario's edge knobs and with every edge `matrix`
//! compares (each built-in profile with the scenario's overrides on top). A cache-induced
//! failure in the replay is the answer, and its evidence. Each profile is also marked with
//! what `matrix` shows for the file's own steps there, so the two reports agree: a profile
//! lint names either fails in `matrix` too, or both say it is latent.

use crate::browser::{Agent, Credentials, Mode};
use crate::fields::Headers;
use crate::flow::Trace;
use crate::lint::{ProfileMark, Replayer};
use crate::origin::{AllowHeaders, AllowOrigins, CorsPolicy, OriginModel};
use crate::profile::Knobs;
use crate::scenario::{validate_origin, Client, Expect, Scenario, Step, DEFAULT_HOST};

/// What the simulator showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Poisoning {
    /// The cache-induced failure on the scenario's own edge, described; `None` when no
    /// generated session produced one.
    pub on_edge: Option<String>,
    /// The profiles (as `matrix` runs them) on which some session produced a
    /// cache-induced failure, each with what `matrix` shows for the file's own steps.
    pub profiles: Vec<ProfileMark>,
}

impl Poisoning {
    /// One sentence for a finding's evidence.
    pub fn evidence(&self, edge: &str) -> String {
        let others = self.profiles_sentence();
        match &self.on_edge {
            Some(d) => format!("simulated on this edge (`{edge}`): {d}; profiles where it poisons: {others}"),
            None => format!(
                "simulated on this edge (`{edge}`): no cache-induced failure (latent); it would poison on: {others}"
            ),
        }
    }

    fn profiles_sentence(&self) -> String {
        let named = |m: &str| {
            self.profiles
                .iter()
                .filter(|p| p.matrix == m)
                .map(|p| p.profile.as_str())
                .collect::<Vec<_>>()
        };
        let (fails, latent) = (named(FAILS), named(LATENT));
        let mut parts = Vec::new();
        if !fails.is_empty() {
            parts.push(format!(
                "{} (this file's steps fail there too: `varyedge matrix` shows it)",
                fails.join(", ")
            ));
        }
        if !latent.is_empty() {
            parts.push(format!(
                "{} (only with other traffic: this file's own steps do not trigger it there, so `varyedge matrix` shows no cache-induced step and marks the row latent)",
                latent.join(", ")
            ));
        }
        if parts.is_empty() {
            "no built-in profile".to_string()
        } else {
            parts.join("; ")
        }
    }
}

/// [`ProfileMark::matrix`]: the file's own steps fail there.
pub const FAILS: &str = "fails";
/// [`ProfileMark::matrix`]: only a generated session poisons there.
pub const LATENT: &str = "latent";

/// The edges `matrix` compares, each with whether the file's own steps have a
/// cache-induced failure there (computed once per lint run, shared by the rules).
pub struct Edges(Vec<(String, Knobs, bool)>);

impl Edges {
    /// Replays the scenario once per edge, as `matrix` does.
    pub fn of(sc: &Scenario, model: &OriginModel, r: &dyn Replayer) -> Edges {
        let edges = r.profiles(sc);
        let fails = r.any_cache_induced_each(sc, &edges, model);
        Edges(
            edges
                .into_iter()
                .zip(fails)
                .map(|((name, knobs), fails)| (name, knobs, fails))
                .collect(),
        )
    }
}

/// One generated session: clients and the steps they take.
struct Session {
    clients: Vec<Client>,
    steps: Vec<(usize, String, Headers)>,
}

fn client(name: &str, origin: &str, agent: Agent) -> Client {
    Client {
        name: name.to_string(),
        origin: origin.to_string(),
        agent,
        mode: Mode::Cors,
        cookie: "session=1".to_string(),
        pop: None,
        private_network: false,
        headers: crate::fields::Headers::new(),
        user: name.to_string(),
        http_cache: false,
    }
}

/// Origins the policy allows: the scenario's clients, the allowlist, and samples that fit
/// a matcher — each checked against the model itself.
pub fn allowed_origins(sc: &Scenario, policy: &CorsPolicy) -> Vec<String> {
    let mut cands: Vec<String> = sc
        .clients
        .iter()
        .filter(|c| !c.origin.is_empty())
        .map(|c| c.origin.clone())
        .collect();
    match &policy.allow_origins {
        AllowOrigins::List(l) => cands.extend(l.iter().cloned()),
        AllowOrigins::Suffix(s) => {
            let d = s.trim_start_matches('.');
            cands.push(format!("https://a.{d}"));
            cands.push(format!("https://b.{d}"));
        }
        AllowOrigins::Prefix(p) => {
            cands.push(p.clone());
            cands.push(format!("{p}.b.test"));
        }
        AllowOrigins::Pattern(p) => {
            let sample: String = p
                .trim_start_matches('^')
                .trim_end_matches('$')
                .replace(".*", "")
                .replace('\\', "");
            cands.push(sample);
        }
        AllowOrigins::Any | AllowOrigins::ReflectAny => {
            cands.push("https://a.example".into());
            cands.push("https://b.example".into());
        }
    }
    // sets, not scans: a 50k-origin allowlist is checked in linear time
    let listed: Option<std::collections::HashSet<&str>> = match &policy.allow_origins {
        AllowOrigins::List(l) => Some(l.iter().map(String::as_str).collect()),
        _ => None,
    };
    let allowed = |c: &str| match &listed {
        Some(set) => set.contains(c),
        None => policy.allow_origins.allow(Some(c)).is_some(),
    };
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in cands {
        if c != "null" && validate_origin(&c).is_ok() && allowed(&c) && seen.insert(c.clone()) {
            out.push(c);
        }
    }
    out
}

/// Trusted origins the static probe of the origin model sends at most, beyond the
/// scenario's own clients.
pub const PROBE_TRUSTED: usize = 8;

/// The trusted origins the static probe crafts its variants from: the scenario's clients
/// and at most [`PROBE_TRUSTED`] more. Enough: an explicit list matches exactly, so a
/// crafted variant of a listed origin is accepted only if it is listed itself (then the
/// probe skips it as trusted); the matchers (suffix, prefix, pattern, any) are sampled by
/// [`allowed_origins`] with a few origins already. Probing all of a 50k-entry list would
/// cost 14 requests per entry, each matched against the whole list: quadratic (issue 11).
pub fn probe_trusted(sc: &Scenario, policy: &CorsPolicy) -> Vec<String> {
    let clients = sc.clients.iter().filter(|c| !c.origin.is_empty()).count();
    let mut out = allowed_origins(sc, policy);
    out.truncate(clients + PROBE_TRUSTED);
    out
}

/// A path on a route with CORS, for the generated sessions.
fn probe_path(sc: &Scenario, model: &OriginModel) -> String {
    let route = model
        .routes
        .iter()
        .find(|r| !matches!(r.cors, Some(None)))
        .or(model.routes.first());
    match route {
        Some(r) => match r.path.strip_suffix('*') {
            Some(p) => format!("{p}varyedge-lint"),
            None => r.path.clone(),
        },
        None => sc
            .steps
            .first()
            .map_or_else(|| "/".to_string(), |s| s.target.clone()),
    }
}

const REFUSED: &str = "https://refused.invalid";

fn get_sessions(allowed: &[String], policy: &CorsPolicy) -> Vec<Session> {
    let mut out = Vec::new();
    let Some(a) = allowed.first() else {
        return out;
    };
    let get = |c: usize| (c, "GET".to_string(), Headers::new());
    if let Some(b) = allowed.get(1) {
        out.push(Session {
            clients: vec![
                client("first", a, Agent::Chrome),
                client("second", b, Agent::Chrome),
            ],
            steps: vec![get(0), get(1)],
        });
    }
    out.push(Session {
        clients: vec![
            client("curl", "", Agent::None),
            client("page", a, Agent::Chrome),
        ],
        steps: vec![get(0), get(1)],
    });
    if policy.allow_origins.allow(Some(REFUSED)).is_none() {
        out.push(Session {
            clients: vec![
                client("refused", REFUSED, Agent::Chrome),
                client("page", a, Agent::Chrome),
            ],
            steps: vec![get(0), get(1)],
        });
    }
    out
}

fn preflight_sessions(allowed: &[String], policy: &CorsPolicy) -> Vec<Session> {
    let mut out = Vec::new();
    let Some(a) = allowed.first() else {
        return out;
    };
    let method = policy
        .allow_methods
        .iter()
        .find(|m| !matches!(m.as_str(), "GET" | "HEAD" | "POST"))
        .cloned()
        .unwrap_or_else(|| "PUT".to_string());
    let header = match &policy.allow_headers {
        AllowHeaders::List(l) => l.first().cloned(),
        AllowHeaders::Any | AllowHeaders::Reflect => Some("x-varyedge".to_string()),
    };
    let hdrs = |extra: bool| {
        let mut h = Headers::new();
        if let Some(n) = &header {
            h.append(n, "1");
        }
        if extra {
            h.append("x-varyedge-extra", "1");
        }
        h
    };
    if let Some(b) = allowed.get(1) {
        out.push(Session {
            clients: vec![
                client("first", a, Agent::Chrome),
                client("second", b, Agent::Chrome),
            ],
            steps: vec![
                (0, method.clone(), hdrs(false)),
                (1, method.clone(), hdrs(false)),
            ],
        });
    }
    if policy.allow_origins.allow(Some(REFUSED)).is_none() {
        out.push(Session {
            clients: vec![
                client("refused", REFUSED, Agent::Chrome),
                client("page", a, Agent::Chrome),
            ],
            steps: vec![
                (0, method.clone(), hdrs(false)),
                (1, method.clone(), hdrs(false)),
            ],
        });
    }
    if matches!(policy.allow_headers, AllowHeaders::Reflect) {
        out.push(Session {
            clients: vec![
                client("first", a, Agent::Chrome),
                client("second", a, Agent::Firefox),
            ],
            steps: vec![(0, method.clone(), hdrs(false)), (1, method, hdrs(true))],
        });
    }
    out
}

fn scenario_for(sc: &Scenario, s: &Session, path: &str) -> Scenario {
    let (scheme, host) = sc
        .steps
        .first()
        .map_or(("https".to_string(), DEFAULT_HOST.to_string()), |st| {
            (st.scheme.clone(), st.host.clone())
        });
    // Callers a moment apart, once the origin has answered the one before: a whole second
    // let an answer stored for CloudFront's 1 s minimum TTL (a `no-store` preflight)
    // expire between the two, and called that edge safe (tests/probe/scenarios/n12).
    let gap_ms = match &sc.origin {
        crate::scenario::OriginSpec::Model(m) => m.latency_ms.saturating_add(100),
        crate::scenario::OriginSpec::Upstream(_) => 1000,
    };
    let steps = s
        .steps
        .iter()
        .enumerate()
        .map(|(i, (c, m, h))| Step {
            at_ms: gap_ms.saturating_mul(i as u64),
            client: *c,
            method: m.clone(),
            scheme: scheme.clone(),
            host: host.clone(),
            target: path.to_string(),
            headers: h.clone(),
            credentials: Credentials::SameOrigin,
            mode: Mode::Cors,
            redirect: crate::browser::RedirectMode::Follow,
            expect: Expect::default(),
            line: 0,
        })
        .collect();
    Scenario {
        name: format!("{}-lint", sc.name),
        clients: s.clients.clone(),
        steps,
        ..sc.clone()
    }
}

fn describe(t: &Trace) -> Option<String> {
    let s = t.steps.iter().find(|s| s.cache_induced)?;
    let by = s.poisoned_by.and_then(|i| t.steps.get(i))?;
    let who = |o: &str| {
        if o.is_empty() {
            "a request without Origin".to_string()
        } else {
            o.to_string()
        }
    };
    let what = if s.verdict.allowed {
        "wrongly allowed".to_string()
    } else {
        format!("blocked ({})", s.verdict.reason.id())
    };
    let part = if s.verdict.in_preflight {
        "preflight answer"
    } else {
        "response"
    };
    Some(format!(
        "{} from {} after {} from {}: {what}, served the {part} stored for {} (key {})",
        s.request,
        who(&s.origin),
        by.request,
        who(&by.origin),
        who(&by.origin),
        if s.verdict.in_preflight {
            s.preflight_key.clone().unwrap_or_default()
        } else {
            s.key.clone()
        }
    ))
}

/// The scenario, its origin model, and how to run both.
pub struct Sim<'a> {
    /// The scenario linted.
    pub sc: &'a Scenario,
    /// Its origin.
    pub model: &'a OriginModel,
    /// The simulator.
    pub replayer: &'a dyn Replayer,
    /// The edges `matrix` compares.
    pub edges: &'a Edges,
}

fn run(s: &Sim<'_>, sessions: &[Session]) -> Poisoning {
    let path = probe_path(s.sc, s.model);
    let scs: Vec<Scenario> = sessions
        .iter()
        .map(|g| scenario_for(s.sc, g, &path))
        .collect();
    let first = |knobs: &Knobs| {
        scs.iter()
            .find_map(|g| describe(&s.replayer.replay(g, knobs, s.model)))
    };
    Poisoning {
        on_edge: first(&s.sc.edge.knobs),
        profiles: s
            .edges
            .0
            .iter()
            .filter_map(|(name, knobs, fails)| {
                first(knobs).map(|session| ProfileMark {
                    profile: name.clone(),
                    matrix: if *fails { FAILS } else { LATENT },
                    session,
                })
            })
            .collect(),
    }
}

/// Whether simple GETs get poisoned at the scenario's edge (and at which profiles).
pub fn responses(s: &Sim<'_>, policy: &CorsPolicy) -> Poisoning {
    let allowed = allowed_origins(s.sc, policy);
    run(s, &get_sessions(&allowed, policy))
}

/// Whether preflights get poisoned at the scenario's edge (and at which profiles).
pub fn preflights(s: &Sim<'_>, policy: &CorsPolicy) -> Poisoning {
    let allowed = allowed_origins(s.sc, policy);
    run(s, &preflight_sessions(&allowed, policy))
}
