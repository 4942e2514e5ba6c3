//! The static rules: pure functions over a [`Scenario`] (and its text, for locations).
//! Each entry of [`CHECKS`] implements the rules named beside it; texts live in
//! [`super::RULES`].

use super::poison::{self, Edges, Poisoning};
use super::probe::{self, Answer};
use super::{Finding, Location, Replayer, Severity};
use crate::browser::{Agent, Browser, Mode, Reason, Start};
use crate::fields::Headers;
use crate::message::Request;
use crate::origin::{AllowHeaders, AllowOrigins, CorsPolicy, OriginModel, VaryOrigin};
use crate::profile::PreflightKey;
use crate::scenario::{validate_origin, OriginSpec, Scenario, DEFAULT_HOST};
use crate::time::SIM_EPOCH;
use std::cell::OnceCell;

/// What every check sees.
struct Ctx<'a> {
    sc: &'a Scenario,
    text: &'a str,
    model: &'a OriginModel,
    policy: Option<&'a CorsPolicy>,
    replayer: &'a dyn Replayer,
    /// The edges `matrix` compares, replayed on first use.
    edges: OnceCell<Edges>,
}

type Check = fn(&Ctx<'_>) -> Vec<Finding>;

/// The checks, with the rule ids each can report.
const CHECKS: &[(&[&str], Check)] = &[
    (
        &[
            "reflect-any-origin",
            "suffix-match-allowlist",
            "prefix-match-allowlist",
            "regex-unescaped-dot",
            "subdomain-trusted",
            "null-origin-allowed",
            "http-origin-trusted",
        ],
        origin_matching,
    ),
    (&["null-origin-allowed"], null_in_list),
    (&["http-origin-trusted"], http_in_list),
    (&["unmatchable-allowlist-entry"], unmatchable_entries),
    (&["wildcard-with-credentials"], wildcard_with_credentials),
    (&["missing-vary-origin"], missing_vary_origin),
    (&["edge-ignores-vary-origin"], edge_ignores_vary),
    (&["origin-not-forwarded"], origin_not_forwarded),
    (&["missing-preflight-vary"], missing_preflight_vary),
    (&["options-cached-unkeyed"], options_cached_unkeyed),
    (&["max-age-above-cap"], max_age_above_cap),
    (&["no-options-handler"], no_options_handler),
    (&["preflight-bad-status"], preflight_bad_status),
    (
        &[
            "header-not-allowed",
            "method-not-allowed",
            "pna-not-answered",
            "client-blocked",
        ],
        client_steps,
    ),
];

/// Every rule id a static check can report (the tests cover each).
pub fn static_rule_ids() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = CHECKS
        .iter()
        .flat_map(|(ids, _)| ids.iter().copied())
        .collect();
    v.dedup();
    v
}

/// Lints a scenario's origin policy and edge together. `text` is the scenario's source,
/// used only to point findings at the line and column of the relevant key; `replayer`
/// runs the generated sessions (the simulator `matrix` uses). A scenario whose origin is a
/// real server (`upstream:`) has no policy to read: it yields nothing here (probe it live
/// instead).
pub fn check(sc: &Scenario, text: &str, replayer: &dyn Replayer) -> Vec<Finding> {
    let OriginSpec::Model(model) = &sc.origin else {
        return Vec::new();
    };
    let ctx = Ctx {
        sc,
        text,
        model,
        policy: model.cors.as_ref(),
        replayer,
        edges: OnceCell::new(),
    };
    let mut out: Vec<Finding> = CHECKS.iter().flat_map(|(_, f)| f(&ctx)).collect();
    super::sort(&mut out);
    out
}

/// `(line, col)` of `key:` in the YAML text (block or flow style), 1-based.
fn locate_key(text: &str, key: &str) -> Option<(u64, u64)> {
    let pat = format!("{key}:");
    for (i, line) in text.lines().enumerate() {
        let mut from = 0;
        while let Some(j) = line[from..].find(&pat) {
            let at = from + j;
            let before = line[..at].chars().last();
            if before.is_none_or(|c| c == ' ' || c == '{' || c == ',' || c == '-' || c == '\t') {
                if line[..at].contains('#') {
                    break;
                }
                return Some((i as u64 + 1, at as u64 + 1));
            }
            from = at + pat.len();
        }
    }
    None
}

/// `(line, col)` of `value` at or after the line of `key`.
fn locate_value(text: &str, key: &str, value: &str) -> Option<(u64, u64)> {
    let (kl, _) = locate_key(text, key)?;
    text.lines()
        .enumerate()
        .skip(kl as usize - 1)
        .find_map(|(i, l)| l.find(value).map(|c| (i as u64 + 1, c as u64 + 1)))
}

impl Ctx<'_> {
    /// Whether (and where) simple GETs get poisoned.
    fn poisoned_responses(&self, p: &CorsPolicy) -> Poisoning {
        poison::responses(&self.sim(), p)
    }

    /// Whether (and where) preflights get poisoned.
    fn poisoned_preflights(&self, p: &CorsPolicy) -> Poisoning {
        poison::preflights(&self.sim(), p)
    }

    fn sim(&self) -> poison::Sim<'_> {
        poison::Sim {
            sc: self.sc,
            model: self.model,
            replayer: self.replayer,
            edges: self
                .edges
                .get_or_init(|| Edges::of(self.sc, self.model, self.replayer)),
        }
    }

    fn at(&self, pos: Option<(u64, u64)>) -> Location {
        let (l, c) = pos.unwrap_or((1, 1));
        Location::file(&self.sc.file, l, c)
    }

    fn key(&self, keys: &[&str]) -> Location {
        self.at(keys.iter().find_map(|k| locate_key(self.text, k)))
    }

    fn origins_key(&self) -> Location {
        self.key(&[
            "allow_origins",
            "allow_origin_suffix",
            "allow_origin_prefix",
            "allow_origin_pattern",
            "cors",
        ])
    }

    fn list(&self) -> Option<&[String]> {
        match &self.policy?.allow_origins {
            AllowOrigins::List(l) => Some(l),
            _ => None,
        }
    }

    fn edge_name(&self) -> &str {
        &self.sc.edge.profile
    }

    /// Whether the policy's preflight answer depends on the request's headers.
    fn preflight_varies(&self, p: &CorsPolicy) -> bool {
        p.allow_origins.varies_with_origin() || p.allow_headers == AllowHeaders::Reflect
    }
}

/// The origin model answers the live probe's requests; the live analysis names what its
/// origin matching accepts. One analysis for both, so they cannot disagree.
fn origin_matching(ctx: &Ctx<'_>) -> Vec<Finding> {
    let Some(policy) = ctx.policy else {
        return Vec::new();
    };
    let trusted = poison::probe_trusted(ctx.sc, policy);
    let path = ctx
        .model
        .routes
        .iter()
        .find(|r| !matches!(r.cors, Some(None)))
        .map_or("/".to_string(), |r| {
            r.path.trim_end_matches('*').to_string()
        });
    let probes = probe::plan(&trusted, std::slice::from_ref(&path));
    let answers: Vec<Result<Answer, String>> = probes
        .iter()
        .map(|p| {
            let req = Request {
                method: p.method.clone(),
                scheme: "https".into(),
                host: DEFAULT_HOST.into(),
                target: p.path.clone(),
                headers: p.headers(),
            };
            let r = ctx.model.respond(&req, SIM_EPOCH);
            Ok(Answer {
                status: r.status,
                headers: r.headers,
            })
        })
        .collect();
    let in_list = ctx.list().is_some();
    probe::analyse("", &probes, &answers)
        .into_iter()
        .filter(|f| {
            matches!(
                f.id,
                "reflect-any-origin"
                    | "suffix-match-allowlist"
                    | "prefix-match-allowlist"
                    | "regex-unescaped-dot"
                    | "subdomain-trusted"
            ) || (!in_list && matches!(f.id, "null-origin-allowed" | "http-origin-trusted"))
        })
        .map(|mut f| {
            f.evidence = format!("the origin model answers {}", f.evidence);
            f.location = ctx.origins_key();
            f
        })
        .collect()
}

fn null_in_list(ctx: &Ctx<'_>) -> Vec<Finding> {
    let (Some(l), Some(p)) = (ctx.list(), ctx.policy) else {
        return Vec::new();
    };
    if !l.iter().any(|o| o == "null") {
        return Vec::new();
    }
    let sev = if p.allow_credentials {
        Severity::Critical
    } else {
        Severity::High
    };
    vec![Finding::new(
        "null-origin-allowed",
        sev,
        format!(
            "allow_origins lists `null`{}",
            if p.allow_credentials {
                ", with allow_credentials: true"
            } else {
                ""
            }
        ),
        ctx.at(locate_value(ctx.text, "allow_origins", "null")),
    )]
}

fn is_local(origin: &str) -> bool {
    let host = origin.split_once("://").map_or("", |(_, r)| r);
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(host, "localhost" | "127.0.0.1" | "[::1]") || host.ends_with(".localhost")
}

fn http_in_list(ctx: &Ctx<'_>) -> Vec<Finding> {
    let (Some(l), Some(p)) = (ctx.list(), ctx.policy) else {
        return Vec::new();
    };
    if !l.iter().any(|o| o.starts_with("https://")) {
        return Vec::new();
    }
    let http: Vec<&String> = l
        .iter()
        .filter(|o| o.starts_with("http://") && !is_local(o))
        .collect();
    let Some(first) = http.first() else {
        return Vec::new();
    };
    let sev = if p.allow_credentials {
        Severity::High
    } else {
        Severity::Medium
    };
    vec![Finding::new(
        "http-origin-trusted",
        sev,
        format!(
            "allow_origins trusts {} beside https:// origins",
            http.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ctx.at(locate_value(ctx.text, "allow_origins", first)),
    )]
}

/// Why a list entry never equals a browser's serialised origin, if it never does.
fn unmatchable(entry: &str) -> Option<String> {
    if entry == "null" {
        return None;
    }
    if let Err(e) = validate_origin(entry) {
        return Some(e);
    }
    if entry.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some(format!(
            "{entry:?} has uppercase letters; browsers send the host in lowercase"
        ));
    }
    if entry.starts_with("https://") && entry.ends_with(":443")
        || entry.starts_with("http://") && entry.ends_with(":80")
    {
        return Some(format!(
            "{entry:?} names the default port; browsers omit it from Origin"
        ));
    }
    None
}

fn unmatchable_entries(ctx: &Ctx<'_>) -> Vec<Finding> {
    let Some(l) = ctx.list() else {
        return Vec::new();
    };
    let bad: Vec<(&String, String)> = l
        .iter()
        .filter_map(|e| unmatchable(e).map(|why| (e, why)))
        .collect();
    // Each finding is located by a scan of the text: past a few, one finding counts the
    // rest (a list of 50k unmatchable entries would otherwise be located quadratically).
    let mut out: Vec<Finding> = bad
        .iter()
        .take(UNMATCHABLE_SHOWN)
        .map(|(e, why)| {
            Finding::new(
                "unmatchable-allowlist-entry",
                Severity::Medium,
                why.clone(),
                ctx.at(locate_value(ctx.text, "allow_origins", e)),
            )
        })
        .collect();
    let rest = bad.get(UNMATCHABLE_SHOWN..).unwrap_or_default();
    if let Some((first, _)) = rest.first() {
        out.push(Finding::new(
            "unmatchable-allowlist-entry",
            Severity::Medium,
            format!(
                "{} more entries no browser sends, the first {first:?}",
                rest.len()
            ),
            ctx.origins_key(),
        ));
    }
    out
}

/// Unmatchable allowlist entries reported one by one; the rest are counted in one more.
const UNMATCHABLE_SHOWN: usize = 20;

fn wildcard_with_credentials(ctx: &Ctx<'_>) -> Vec<Finding> {
    match ctx.policy {
        Some(p) if p.allow_origins == AllowOrigins::Any && p.allow_credentials => vec![Finding::new(
            "wildcard-with-credentials",
            Severity::Medium,
            "allow_origins: \"*\" with allow_credentials: true: the origin answers `Access-Control-Allow-Origin: *` and `Access-Control-Allow-Credentials: true`; browsers block every credentialed fetch".into(),
            ctx.key(&["allow_credentials", "allow_origins"]),
        )],
        _ => Vec::new(),
    }
}

fn missing_vary_origin(ctx: &Ctx<'_>) -> Vec<Finding> {
    let Some(p) = ctx.policy else {
        return Vec::new();
    };
    if !p.allow_origins.varies_with_origin() || p.vary_origin == VaryOrigin::Always {
        return Vec::new();
    }
    let sent = match p.vary_origin {
        VaryOrigin::WhenOrigin => {
            "vary_origin: when-origin: `Vary: Origin` only on requests that carry Origin, so the answer to a request without it is stored for everyone"
        }
        _ => "vary_origin: false: no `Vary: Origin` although Access-Control-Allow-Origin depends on Origin",
    };
    let poisoning = ctx.poisoned_responses(p);
    let sev = if poisoning.on_edge.is_some() {
        Severity::High
    } else {
        Severity::Low
    };
    vec![Finding::new(
        "missing-vary-origin",
        sev,
        format!("{sent}; {}", poisoning.evidence(ctx.edge_name())),
        ctx.key(&[
            "vary_origin",
            "allow_origins",
            "allow_origin_suffix",
            "allow_origin_prefix",
            "allow_origin_pattern",
            "cors",
        ]),
    )
    .with_profiles(poisoning.profiles.clone())]
}

fn edge_ignores_vary(ctx: &Ctx<'_>) -> Vec<Finding> {
    let Some(p) = ctx.policy else {
        return Vec::new();
    };
    if !p.allow_origins.varies_with_origin() || p.vary_origin != VaryOrigin::Always {
        return Vec::new();
    }
    let poisoning = ctx.poisoned_responses(p);
    let Some(d) = &poisoning.on_edge else {
        return Vec::new();
    };
    vec![Finding::new(
        "edge-ignores-vary-origin",
        Severity::High,
        format!(
            "the origin sends `Vary: Origin`, yet simulated on this edge (`{}`): {d}",
            ctx.edge_name()
        ),
        ctx.key(&["profile", "vary", "edge"]),
    )
    .with_profiles(poisoning.profiles.clone())]
}

/// The origin's CORS answer depends on `Origin` (or, for preflights, on the
/// `Access-Control-Request-*` fields), but the edge never forwards them: CloudFront with a
/// cache policy that does not key them and no origin request policy that names them.
fn origin_not_forwarded(ctx: &Ctx<'_>) -> Vec<Finding> {
    let k = &ctx.sc.edge.knobs;
    let Some(p) = ctx.policy else {
        return Vec::new();
    };
    use crate::edge::forward::drops_cors_fields;
    let actual = p.allow_origins.varies_with_origin()
        && drops_cors_fields(&k.forward, &k.key_headers, false);
    let preflight = p.options_handler && drops_cors_fields(&k.forward, &k.key_headers, true);
    if !actual && !preflight {
        return Vec::new();
    }
    let what = if actual {
        "`Origin`"
    } else {
        "`Access-Control-Request-Method`/`-Headers`"
    };
    let f = Finding::new(
        "origin-not-forwarded",
        Severity::High,
        format!(
            "edge `{}` forwards only {} to the origin (forward_headers: {}), so the origin never sees {what}: it answers every CORS request as if it were same-origin, and every cross-origin fetch through this edge fails, not intermittently",
            ctx.edge_name(),
            if k.key_headers.is_empty() { "its own headers".to_string() } else { format!("the key's headers ({})", k.key_headers.join(", ")) },
            k.forward.describe()
        ),
        ctx.key(&["forward_headers", "key_headers", "profile", "edge"]),
    );
    if actual {
        return vec![f];
    }
    // Origin reaches the origin; the preflight's own fields do not
    let mut f = f
        .titled("The origin never sees the preflight's `Access-Control-Request-Method`/`-Headers`");
    f.evidence = format!(
        "edge `{}` forwards {} to the origin, which leaves out `Access-Control-Request-Method` and `Access-Control-Request-Headers`: the origin's OPTIONS handler cannot tell what a preflight asks for, so every preflighted fetch through this edge fails, not intermittently",
        ctx.edge_name(),
        k.forward.describe()
    );
    f.why = "The origin's OPTIONS handler cannot tell which method and headers the page asks for, so it answers without (or with the wrong) Access-Control-Allow-Methods/-Headers: every preflighted fetch through this edge fails.";
    f.fix = "Forward Access-Control-Request-Method and Access-Control-Request-Headers to the origin (`forward_headers: [origin, access-control-request-method, access-control-request-headers]`; CloudFront: the CORS-S3Origin or AllViewer origin request policy (CORS-CustomOrigin forwards only Origin), or these headers in the cache policy).";
    vec![f]
}

fn preflight_never_stored(p: &CorsPolicy) -> bool {
    let mut h = Headers::new();
    if let Some(cc) = &p.preflight_cache_control {
        h.append("cache-control", cc);
    }
    crate::fields::CacheControl::parse(&h, "cache-control")
        .is_some_and(|cc| cc.no_store || cc.private)
}

fn missing_preflight_vary(ctx: &Ctx<'_>) -> Vec<Finding> {
    let Some(p) = ctx.policy else {
        return Vec::new();
    };
    if !p.options_handler
        || p.preflight_vary
        || !ctx.preflight_varies(p)
        || preflight_never_stored(p)
    {
        return Vec::new();
    }
    let on: Vec<&str> = [
        p.allow_origins.varies_with_origin().then_some("Origin"),
        (p.allow_headers == AllowHeaders::Reflect)
            .then_some("Access-Control-Request-Headers (reflected)"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let poisoning = ctx.poisoned_preflights(p);
    let sev = if poisoning.on_edge.is_some() {
        Severity::High
    } else {
        Severity::Low
    };
    vec![Finding::new(
        "missing-preflight-vary",
        sev,
        format!(
            "preflight_vary: false, yet the preflight answer depends on {}; {}",
            on.join(" and "),
            poisoning.evidence(ctx.edge_name())
        ),
        ctx.key(&["preflight_vary", "cors"]),
    )
    .with_profiles(poisoning.profiles.clone())]
}

fn options_cached_unkeyed(ctx: &Ctx<'_>) -> Vec<Finding> {
    let k = &ctx.sc.edge.knobs;
    let Some(p) = ctx.policy else {
        return Vec::new();
    };
    if !k.cache_options
        || k.preflight_key != PreflightKey::Ignore
        || !p.options_handler
        || !ctx.preflight_varies(p)
        || preflights_kept_apart(k, p)
    {
        return Vec::new();
    }
    let poisoning = ctx.poisoned_preflights(p);
    let sev = if poisoning.on_edge.is_some() {
        Severity::High
    } else {
        Severity::Low
    };
    let detail = match &poisoning.on_edge {
        Some(d) => format!("simulated: {d}"),
        None => "simulated: no cache-induced failure here (the preflight answer is not stored, or its Vary keeps callers apart), but any change to the origin's Cache-Control exposes it".to_string(),
    };
    vec![Finding::new(
        "options-cached-unkeyed",
        sev,
        format!(
            "edge `{}` stores OPTIONS (cache_options: true) with preflight_key: ignore; {detail}",
            ctx.edge_name()
        ),
        ctx.key(&["preflight_key", "cache_options", "profile", "edge"]),
    )
    .with_profiles(poisoning.profiles.clone())]
}

/// Whether the edge keeps preflight callers apart although `preflight_key` is `ignore`:
/// the answer's own `Vary` (kept as RFC 9111 §4.1 says) or the key headers cover every
/// request field the answer depends on (`Origin` when the allowed origin is echoed,
/// `Access-Control-Request-Headers` when they are reflected), or the `Vary` makes the
/// answer one the edge never stores or never reuses. Varnish told to cache `OPTIONS` is safe this way (docs/research/lab.md
/// finding 2), whatever the answer's `Cache-Control` becomes.
fn preflights_kept_apart(k: &crate::profile::Knobs, p: &CorsPolicy) -> bool {
    let mut h = Headers::new();
    if p.preflight_vary {
        h.append("vary", crate::origin::PREFLIGHT_VARY);
    }
    for (n, v) in p.preflight_headers.iter() {
        if n.eq_ignore_ascii_case("vary") {
            h.append("vary", v);
        }
    }
    let names = match crate::edge::vary::vary_spec(k, &h) {
        // refused for its Vary: never stored, so never served to another caller
        Err(_) => return true,
        Ok(spec) if spec.star => return true,
        Ok(spec) => spec.names,
    };
    let kept =
        |name: &str| names.iter().any(|n| **n == *name) || k.key_headers.iter().any(|n| n == name);
    (!p.allow_origins.varies_with_origin() || kept("origin"))
        && (p.allow_headers != AllowHeaders::Reflect || kept("access-control-request-headers"))
}

fn max_age_above_cap(ctx: &Ctx<'_>) -> Vec<Finding> {
    let Some(max_age) = ctx.policy.and_then(|p| p.max_age) else {
        return Vec::new();
    };
    let mut agents: Vec<Agent> = ctx
        .sc
        .clients
        .iter()
        .map(|c| c.agent)
        .filter(|a| *a != Agent::None)
        .collect();
    if agents.is_empty() {
        agents = vec![Agent::Chrome, Agent::Firefox, Agent::Safari];
    }
    agents.sort_by_key(|a| a.preflight_cap_secs());
    agents.dedup();
    let capped: Vec<String> = agents
        .iter()
        .filter(|a| max_age > a.preflight_cap_secs())
        .map(|a| format!("{a:?} caps it at {} s", a.preflight_cap_secs()))
        .collect();
    if capped.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        "max-age-above-cap",
        Severity::Low,
        format!("max_age: {max_age}; {}", capped.join(", ")),
        ctx.key(&["max_age"]),
    )]
}

/// Fetches of the scenario's steps as its browsers make them, each with a fresh browser.
fn step_fetches(ctx: &Ctx<'_>) -> Vec<(usize, crate::browser::Fetch)> {
    ctx.sc
        .steps
        .iter()
        .enumerate()
        .map(|(i, st)| (i, ctx.sc.fetch(st)))
        .filter(|(_, f)| f.agent != Agent::None && f.mode == Mode::Cors)
        .collect()
}

fn no_options_handler(ctx: &Ctx<'_>) -> Vec<Finding> {
    let Some(p) = ctx.policy.filter(|p| !p.options_handler) else {
        return Vec::new();
    };
    let needing: Vec<usize> = step_fetches(ctx)
        .into_iter()
        .filter(|(_, f)| Browser::new(f.agent).needs_preflight(f))
        .map(|(i, _)| i)
        .collect();
    let policy_wants = p
        .allow_methods
        .iter()
        .any(|m| !matches!(m.as_str(), "GET" | "HEAD" | "POST"))
        || !matches!(&p.allow_headers, AllowHeaders::List(l) if l.is_empty());
    if needing.is_empty() && !policy_wants {
        return Vec::new();
    }
    let evidence = match needing.first() {
        Some(i) => format!(
            "options: false: OPTIONS is answered 405 without CORS headers, and {} step(s) need a preflight (first: step {i}, line {})",
            needing.len(),
            ctx.sc.steps[*i].line
        ),
        None => "options: false: OPTIONS is answered 405 without CORS headers, yet the policy allows methods or headers that only preflighted requests use".to_string(),
    };
    vec![Finding::new(
        "no-options-handler",
        Severity::High,
        evidence,
        ctx.key(&["options", "cors"]),
    )]
}

fn preflight_bad_status(ctx: &Ctx<'_>) -> Vec<Finding> {
    match ctx.policy {
        Some(p) if p.options_handler && !(200..=299).contains(&p.preflight_status) => {
            vec![Finding::new(
                "preflight-bad-status",
                Severity::Medium,
                format!(
                    "preflight_status: {}: browsers require 200-299",
                    p.preflight_status
                ),
                ctx.key(&["preflight_status"]),
            )]
        }
        _ => Vec::new(),
    }
}

/// Each step's fetch straight to the origin model (no cache), judged by the browser model.
fn client_steps(ctx: &Ctx<'_>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut seen: Vec<(&'static str, String)> = Vec::new();
    for (i, f) in step_fetches(ctx) {
        let st = &ctx.sc.steps[i];
        let mut b = Browser::new(f.agent);
        let verdict = match b.start(SIM_EPOCH, &f) {
            Start::Preflight(req) => {
                let resp = ctx.model.respond(&req, SIM_EPOCH);
                match b.on_preflight(SIM_EPOCH, &f, &resp) {
                    Err(v) => v,
                    Ok(actual) => b.on_response(&f, &ctx.model.respond(&actual, SIM_EPOCH)),
                }
            }
            Start::Actual { request, .. } => {
                b.on_response(&f, &ctx.model.respond(&request, SIM_EPOCH))
            }
        };
        if verdict.allowed
            || (verdict.in_preflight && ctx.policy.is_some_and(|p| !p.options_handler))
        {
            // allowed, or reported by no-options-handler
            continue;
        }
        let id = match verdict.reason {
            Reason::HeaderNotAllowed => "header-not-allowed",
            Reason::MethodNotAllowed => "method-not-allowed",
            Reason::PrivateNetworkNotAllowed => "pna-not-answered",
            // reported by no-options-handler / preflight-bad-status
            Reason::PreflightBadStatus => continue,
            _ => "client-blocked",
        };
        let detail = format!("{} {} from {}", st.method, st.target, f.origin);
        if seen.iter().any(|(x, d)| *x == id && *d == detail) {
            continue;
        }
        seen.push((id, detail));
        let expected = st.expect.cors_ok == Some(false);
        let sev = if expected {
            Severity::Info
        } else {
            super::rule(id).map_or(Severity::Medium, |r| r.severity)
        };
        out.push(Finding::new(
            id,
            sev,
            format!(
                "step {i} ({}: {} {}{}) straight to the origin, no cache: blocked, {}{}. Console: {}",
                ctx.sc.clients[st.client].name,
                st.method,
                st.target,
                if f.origin.is_empty() { String::new() } else { format!(" from {}", f.origin) },
                verdict.reason.id(),
                if expected { " (the step expects it)" } else { "" },
                verdict.console
            ),
            Location::file(&ctx.sc.file, st.line, 1),
        ));
    }
    out
}
