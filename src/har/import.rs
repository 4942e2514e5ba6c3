//! HAR entries → a v1 scenario that `replay` runs: one client per (page origin, engine,
//! mode), the API requests as timed steps in `startedDateTime` order, preflights folded
//! into the requests they preceded, an origin model inferred from the responses
//! ([`super::infer`]), and the edge guessed from the response headers. What the recording
//! cannot tell is written as YAML comments beside the guess, never guessed silently.

use super::classify::{cache_outcome, engine, guess_edge, revalidated};
use super::infer::{infer_origin, Notes};
use super::{Entry, Har};
use crate::browser::{Agent, Credentials, Mode};
use crate::edge::forward::ForwardHeaders;
use crate::edge::Outcome;
use crate::fields::Headers;
use crate::profile;
use crate::scenario::write::{to_yaml, WriteError};
use crate::scenario::{Client, EdgeSpec, Expect, OriginSpec, Scenario, Step};
use std::collections::{BTreeMap, HashMap};

/// How to import.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The scenario's name.
    pub name: String,
    /// The edge profile to use instead of guessing it from the headers.
    pub profile: Option<String>,
    /// Only requests to these hosts (authorities); empty = every host that answered a
    /// cross-origin request.
    pub hosts: Vec<String>,
    /// Write cookies and `Authorization` values as recorded (default: placeholders).
    pub keep_secrets: bool,
}

/// The imported scenario and its YAML (with the comments).
#[derive(Clone, Debug)]
pub struct Imported {
    /// The scenario, as `replay` will load it.
    pub scenario: Scenario,
    /// Scenario format v1, with comments for what could not be inferred.
    pub yaml: String,
    /// Steps written, preflights folded into their requests, entries skipped.
    pub counts: (usize, usize, usize),
}

/// Why a recording could not be imported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// Nothing to replay.
    #[error("{0}")]
    NoTraffic(String),
    /// `--profile` names no profile.
    #[error("unknown profile {0:?}; expected one of: {list}", list = profile::PROFILE_NAMES.join(", "))]
    UnknownProfile(String),
    /// The scenario cannot be written as v1.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// One entry of one file, with what was worked out about its sender.
#[derive(Clone, Debug)]
struct Item<'h> {
    e: &'h Entry,
    har: usize,
    /// The page that sent it, when known (Origin, Referer, Playwright frame, pageref).
    page: Option<String>,
    agent: Option<Agent>,
}

/// Imports one or several recordings (several browsers or users) into one scenario.
pub fn import(hars: &[Har], opts: &ImportOptions) -> Result<Imported, ImportError> {
    let hosts = select_hosts(hars, &opts.hosts)?;
    let mut items = collect(hars, &hosts);
    items.sort_by_key(|i| (i.e.started_ms, i.har, i.e.index));
    let pairs = pair_preflights(&items);
    let hops = redirect_hops(&items);
    let mut notes = Notes::default();
    let followed = hops.iter().filter(|h| **h).count();
    if followed > 0 {
        notes.steps(format!(
            "{followed} entries were the next hop of a redirect the browser followed (the request to a 3xx answer's Location, from the same page, as soon as it came): not steps of their own; the redirect route's `location` makes the replayed fetch follow it"
        ));
    }
    let browser_cached = hars
        .iter()
        .flat_map(|h| &h.entries)
        .filter(|e| hosts.contains(&e.host) && e.from_cache.is_some())
        .count();
    if browser_cached > 0 {
        notes.steps(format!(
            "{browser_cached} entries were answered by the browser's own cache (_fromCache, Safari's Disk/Memory Cache) or by a service worker without the network (_fetchedViaServiceWorker) and never reached the edge: left out"
        ));
    }
    let mut secrets = Secrets::new(opts.keep_secrets);
    let mut clients: Vec<Client> = Vec::new();
    let mut steps = Vec::new();
    let t0 = items.first().map_or(0, |i| i.e.started_ms);
    let mut last = 0u64;
    let mut folded = 0;
    for (k, it) in items.iter().enumerate() {
        if pairs.folded[k] {
            folded += 1;
            continue;
        }
        if hops[k] {
            continue;
        }
        let pre = pairs.preflight_of[k].map(|p| items[p].e);
        let (client, mode) = client_for(it, &mut clients, &mut secrets, &mut notes);
        let at = ((it.e.started_ms - t0).max(0) as u64).max(last);
        last = at;
        steps.push(step_for(
            it,
            pre,
            client,
            mode,
            at,
            &mut secrets,
            &mut notes,
        ));
    }
    let origin = infer_origin(
        &items
            .iter()
            .map(|i| (i.e, i.page.as_deref()))
            .collect::<Vec<_>>(),
        &mut notes,
    );
    let edge = edge_for(&items, opts.profile.as_deref(), &mut notes)?;
    if steps.is_empty() {
        return Err(ImportError::NoTraffic(
            "every request to the selected hosts was a preflight with no request to fold it into"
                .into(),
        ));
    }
    let n = steps.len();
    let sc = Scenario {
        name: opts.name.clone(),
        about: format!(
            "Imported from {} ({} requests to {})",
            hars.iter()
                .map(|h| base_name(&h.file))
                .collect::<Vec<_>>()
                .join(", "),
            n,
            hosts.join(", ")
        ),
        file: String::new(),
        origin: OriginSpec::Model(origin),
        edge,
        clients,
        steps,
    };
    // `to_yaml` output loads back to an equal scenario (scenario::write's tests) and the
    // notes are only `#` lines: the scenario is returned as built, not parsed again.
    let yaml = notes.annotate(&to_yaml(&sc)?);
    let scenario = Scenario {
        file: format!("{}.yaml", opts.name),
        ..sc
    };
    let skipped = hars.iter().map(|h| h.entries.len()).sum::<usize>() - items.len();
    Ok(Imported {
        scenario,
        yaml,
        counts: (n, folded, skipped),
    })
}

/// For each item, whether it is the next hop of an earlier redirect the browser followed
/// (Chrome, Firefox and Playwright record each hop as an entry of its own): the request to
/// the `Location` of an earlier 3xx answer from the same page and recording, with the
/// method the redirect leaves it (Fetch §4.4 HTTP-redirect fetch: a 301/302 turns a POST
/// into a GET, a 303 anything but GET/HEAD), started once that answer was in (its `time`)
/// plus at most a second: the same fetch goes on at the new URL, with `Origin: null`
/// after a cross-origin hop. A later request to that URL (the page fetching it itself) is
/// not a hop. Each redirect has one next hop.
fn redirect_hops(items: &[Item<'_>]) -> Vec<bool> {
    let mut hop = vec![false; items.len()];
    let mut used = vec![false; items.len()];
    let method_after = |r: &Entry| match (r.status, r.method.as_str()) {
        (301 | 302, "POST") => "GET".to_string(),
        (303, m) if m != "GET" && m != "HEAD" => "GET".to_string(),
        (_, m) => m.to_string(),
    };
    for (k, it) in items.iter().enumerate() {
        let found = items[..k].iter().enumerate().rev().find(|(j, r)| {
            !used[*j]
                && r.har == it.har
                && r.page == it.page
                && (300..400).contains(&r.e.status)
                && method_after(r.e) == it.e.method
                && (0..=r.e.time_ms + 1000).contains(&(it.e.started_ms - r.e.started_ms))
                && redirect_target(r.e).as_deref() == Some(it.e.url.as_str())
        });
        if let Some((j, _)) = found {
            used[j] = true;
            hop[k] = true;
        }
    }
    hop
}

/// The absolute URL a 3xx entry's `Location` names (a path is resolved against the
/// entry's own scheme and host; the fragment is dropped, as in [`Entry::url`]).
pub(super) fn redirect_target(e: &Entry) -> Option<String> {
    let loc = e.response_headers.get("location")?.trim();
    let loc = loc.split('#').next().unwrap_or(loc);
    if loc.starts_with('/') && !loc.starts_with("//") {
        return Some(format!("{}://{}{loc}", e.scheme, e.host));
    }
    let (s, h, t) = super::read::split_url(loc)?;
    Some(format!("{s}://{h}{t}"))
}

fn base_name(f: &str) -> &str {
    f.rsplit('/').next().unwrap_or(f)
}

/// The origin (`scheme://host`) of a URL.
fn origin_of_url(url: &str) -> Option<String> {
    let (s, h, _) = super::read::split_url(url)?;
    Some(format!("{s}://{h}"))
}

/// The hosts whose traffic becomes steps: `--host`, or every host that received a request
/// with an `Origin` other than its own, or answered with `Access-Control-Allow-Origin`.
fn select_hosts(hars: &[Har], wanted: &[String]) -> Result<Vec<String>, ImportError> {
    let all = || hars.iter().flat_map(|h| h.entries.iter());
    if !wanted.is_empty() {
        let wanted: Vec<String> = wanted.iter().map(|h| h.to_ascii_lowercase()).collect();
        if let Some(missing) = wanted.iter().find(|w| !all().any(|e| &e.host == *w)) {
            let seen: std::collections::BTreeSet<&str> = all().map(|e| e.host.as_str()).collect();
            return Err(ImportError::NoTraffic(format!(
                "--host {missing}: no request in the recording went to it; hosts seen: {}",
                seen.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
        return Ok(wanted);
    }
    let mut hosts: Vec<String> = Vec::new();
    for e in all() {
        let own = format!("{}://{}", e.scheme, e.host);
        let cross = e.origin().is_some_and(|o| o != own);
        if (cross || e.response_headers.contains("access-control-allow-origin"))
            && !hosts.contains(&e.host)
        {
            hosts.push(e.host.clone());
        }
    }
    if hosts.is_empty() {
        return Err(ImportError::NoTraffic(
            "no cross-origin request in the recording (no request with an Origin other than its host's, no response with Access-Control-Allow-Origin); name the API with --host".into(),
        ));
    }
    Ok(hosts)
}

/// The page each entry of `h` came from (indexed like `h.entries`): its `Origin`, else
/// its `Referer`'s origin, else the first document of its Playwright frame, else its
/// page's title when that is a URL.
pub(crate) fn page_origins(h: &Har) -> Vec<Option<String>> {
    let mut frames: HashMap<&str, String> = HashMap::new();
    for e in &h.entries {
        if let (Some(f), Some("document")) = (e.frame_ref.as_deref(), e.resource_type.as_deref()) {
            frames
                .entry(f)
                .or_insert_with(|| format!("{}://{}", e.scheme, e.host));
        }
    }
    let pages: HashMap<&str, &str> = h
        .pages
        .iter()
        .map(|p| (p.id.as_str(), p.title.as_str()))
        .collect();
    h.entries
        .iter()
        .map(|e| {
            e.origin()
                .filter(|o| *o != "null")
                .map(str::to_string)
                .or_else(|| e.request_headers.get("referer").and_then(origin_of_url))
                .or_else(|| e.frame_ref.as_deref().and_then(|f| frames.get(f).cloned()))
                .or_else(|| {
                    e.page_ref
                        .as_deref()
                        .and_then(|p| pages.get(p))
                        .and_then(|t| origin_of_url(t))
                })
        })
        .collect()
}

/// The entries to the selected hosts, each with the page that sent it.
fn collect<'h>(hars: &'h [Har], hosts: &[String]) -> Vec<Item<'h>> {
    let mut out = Vec::new();
    for (hi, h) in hars.iter().enumerate() {
        let hint = h
            .browser
            .as_deref()
            .filter(|b| !b.is_empty())
            .unwrap_or(&h.creator);
        let pages = page_origins(h);
        // An answer from the browser's own cache (Chrome `_fromCache`, Safari `_fetchType:
        // "Disk Cache"`) never reached the edge: replaying it would add an edge request.
        for (e, page) in h
            .entries
            .iter()
            .zip(pages)
            .filter(|(e, _)| hosts.contains(&e.host) && e.from_cache.is_none())
        {
            let agent = engine(e.request_headers.get("user-agent"), hint);
            out.push(Item {
                e,
                har: hi,
                page,
                agent,
            });
        }
    }
    out
}

struct Pairs {
    /// For each item, the preflight item folded into it.
    preflight_of: Vec<Option<usize>>,
    /// Items that are preflights folded into a later request.
    folded: Vec<bool>,
}

/// Fetch §4.8: a preflight precedes its actual request, same origin, same URL, method =
/// `Access-Control-Request-Method`. Each recorded preflight is matched to the first such
/// request after it; one with no request (the preflight failed) stays a step of its own,
/// replayed as the request it was for.
fn pair_preflights(items: &[Item<'_>]) -> Pairs {
    let mut preflight_of = vec![None; items.len()];
    let mut folded = vec![false; items.len()];
    // Positions of the requests to each URL, so matching stays linear in large files.
    let mut by_url: HashMap<&str, Vec<usize>> = HashMap::new();
    for (k, it) in items.iter().enumerate() {
        by_url.entry(it.e.url.as_str()).or_default().push(k);
    }
    for (p, it) in items.iter().enumerate() {
        if !it.e.is_preflight() {
            continue;
        }
        let acrm =
            it.e.request_headers
                .get("access-control-request-method")
                .unwrap_or("")
                .trim()
                .to_ascii_uppercase();
        let same_url = by_url.get(it.e.url.as_str()).map_or(&[][..], |v| &v[..]);
        let actual = same_url.iter().copied().filter(|&k| k > p).find(|&k| {
            let a = items[k].e;
            // The request carries every header the preflight announced.
            let announced = it.e.request_headers.list("access-control-request-headers");
            !a.is_preflight()
                && announced.iter().all(|n| a.request_headers.contains(n))
                && preflight_of[k].is_none()
                && a.url == it.e.url
                && a.method == acrm
                && items[k].page == it.page
                && items[k].har == it.har
        });
        if let Some(k) = actual {
            preflight_of[k] = Some(p);
            folded[p] = true;
        }
    }
    Pairs {
        preflight_of,
        folded,
    }
}

/// The client an entry comes from (created on first use) and the step's request mode.
fn client_for(
    it: &Item<'_>,
    clients: &mut Vec<Client>,
    secrets: &mut Secrets,
    notes: &mut Notes,
) -> (usize, Mode) {
    let e = it.e;
    let own = format!("{}://{}", e.scheme, e.host);
    let sfm = e
        .request_headers
        .get("sec-fetch-mode")
        .map(str::to_ascii_lowercase);
    let cross_page = it.page.clone().filter(|p| *p != own);
    let declared = e.sender.as_ref().and_then(|s| {
        let agent = match s.browser.as_str() {
            "chrome" => Agent::Chrome,
            "firefox" => Agent::Firefox,
            "safari" => Agent::Safari,
            "none" => return Some((String::new(), Agent::None, Mode::Cors)),
            _ => return None,
        };
        let mode = if s.mode == "no-cors" {
            Mode::NoCors
        } else {
            Mode::Cors
        };
        Some((s.page.clone(), agent, mode))
    });
    let key: (String, Agent, Mode) = match (it.agent, sfm.as_deref(), e.origin(), cross_page) {
        _ if declared.is_some() => declared.unwrap_or((String::new(), Agent::None, Mode::Cors)),
        (None, ..) => (String::new(), Agent::None, Mode::Cors),
        (_, Some("navigate" | "same-origin"), ..) => (String::new(), Agent::None, Mode::Cors),
        (Some(a), Some("no-cors"), _, Some(p)) => (p, a, Mode::NoCors),
        (Some(a), Some("cors") | None, Some(o), _) if o != own => (o.to_string(), a, Mode::Cors),
        // Playwright keeps only the headers known before sending for a failed request:
        // no Origin, but a Referer on another origin means a cross-origin fetch().
        (Some(a), None, None, Some(p)) if !e.has_response() => (p, a, Mode::Cors),
        (Some(a), None, None, Some(p)) if is_subresource(e) => (p, a, Mode::NoCors),
        _ => (String::new(), Agent::None, Mode::Cors),
    };
    if key.1 == Agent::None && it.agent.is_some() {
        notes.clients(format!(
            "{} {} (entry {}) carried no Origin (a navigation or same-origin load): replayed by the browser: none client",
            e.method, e.target, e.index
        ));
    }
    let idx = match clients
        .iter()
        .position(|c| (c.origin.as_str(), c.agent, c.mode) == (key.0.as_str(), key.1, key.2))
    {
        Some(i) => i,
        None => {
            let name = client_name(&key, clients);
            clients.push(Client {
                user: name.clone(),
                headers: Headers::new(),
                http_cache: false,
                name,
                origin: key.0.clone(),
                agent: key.1,
                mode: key.2,
                cookie: "session=1".into(),
                pop: None,
                private_network: false,
            });
            clients.len() - 1
        }
    };
    if let (Some(c), true) = (e.request_headers.get("cookie"), secrets.keep) {
        clients[idx].cookie = c.to_string();
    }
    (idx, key.2)
}

fn is_subresource(e: &Entry) -> bool {
    matches!(
        e.resource_type.as_deref(),
        Some("image" | "script" | "stylesheet" | "font" | "media")
    )
}

fn client_name(key: &(String, Agent, Mode), clients: &[Client]) -> String {
    let mut base = if key.1 == Agent::None {
        "no-origin".to_string()
    } else {
        let host = key.0.split("://").nth(1).unwrap_or(&key.0);
        let label = host.split(['.', ':']).next().unwrap_or(host);
        let plain = label
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && label != "localhost"
            && label != "www";
        let raw = if plain {
            label.to_string()
        } else {
            host.to_string()
        };
        raw.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect()
    };
    if key.2 == Mode::NoCors {
        base.push_str("-no-cors");
    }
    if !matches!(key.1, Agent::Chrome | Agent::None) {
        base.push('-');
        base.push_str(crate::scenario::write::agent_id(key.1));
    }
    let mut name = base.clone();
    let mut n = 2;
    while clients.iter().any(|c| c.name == name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

/// Request headers the browser adds itself: not the page's to send, so not a step's.
pub(crate) fn browser_header(name: &str) -> bool {
    name.starts_with("sec-")
        || name.starts_with("access-control-request-")
        || name.starts_with("proxy-")
        || matches!(
            name,
            "accept"
                | "accept-encoding"
                | "accept-language"
                | "cache-control"
                | "pragma"
                | "connection"
                | "host"
                | "origin"
                | "referer"
                | "user-agent"
                | "cookie"
                | "content-length"
                | "dnt"
                | "upgrade-insecure-requests"
                | "te"
                | "priority"
                | "if-none-match"
                | "if-modified-since"
                | "range"
                | "purpose"
                | "x-client-data"
                | "keep-alive"
                | "trailer"
                | "transfer-encoding"
                | "upgrade"
                | "via"
                | "if-range"
                | "if-match"
                | "if-unmodified-since"
                | "expect"
        )
}

/// One step: the request the page made (or, for a preflight whose request never went
/// out, the request it was for), with the recorded edge outcome as the expectation.
fn step_for(
    it: &Item<'_>,
    pre: Option<&Entry>,
    client: usize,
    mode: Mode,
    at_ms: u64,
    secrets: &mut Secrets,
    notes: &mut Notes,
) -> Step {
    let e = it.e;
    let (method, mut headers) = if e.is_preflight() {
        notes.steps(format!(
            "entry {} is a preflight with no request after it (it failed, or the request was not recorded): replayed as the request it asked for",
            e.index
        ));
        (
            e.request_headers
                .get("access-control-request-method")
                .unwrap_or("GET")
                .trim()
                .to_ascii_uppercase(),
            headers_from_acrh(e),
        )
    } else {
        let mut h = Headers::new();
        for (n, v) in e.request_headers.iter().filter(|(n, _)| !browser_header(n)) {
            h.append(n, v);
        }
        (e.method.clone(), h)
    };
    if let Some(p) = pre {
        for n in p.request_headers.list("access-control-request-headers") {
            if !headers.contains(n) {
                headers.append(&n.to_ascii_lowercase(), "1");
            }
        }
    }
    let headers = secrets.headers(&headers);
    let credentials = if e.cookies {
        Credentials::Include
    } else {
        Credentials::SameOrigin
    };
    // A CDN reports a forwarded POST/PUT/DELETE as a miss (`Miss from cloudfront`); no
    // profile stores those methods, so the model calls it a pass.
    // A redirect is followed in the replay and a step's outcome is its last hop's: the
    // edge outcome recorded for the redirect itself says nothing about that hop.
    let followed = (300..400).contains(&e.status) && e.response_headers.contains("location");
    if followed {
        notes.steps(format!(
            "entry {} was answered with a redirect: the replay follows it, so its recorded edge outcome (the redirect's) is not an expectation",
            e.index
        ));
    }
    let cache = (e.has_response() && !followed)
        .then(|| cache_outcome(&e.response_headers))
        .flatten()
        .map(|o| match o {
            Outcome::Miss if !matches!(method.as_str(), "GET" | "HEAD") => Outcome::Pass,
            // A stale entry revalidated with the origin (`REVALIDATED`): the edge sent the
            // request on, which the model reports as a miss (a stale entry's refetch).
            Outcome::Hit if revalidated(&e.response_headers) => Outcome::Miss,
            o => o,
        });
    let expect = Expect {
        cache,
        ..Expect::default()
    };
    Step {
        at_ms,
        client,
        method,
        scheme: e.scheme.clone(),
        host: e.host.clone(),
        target: secrets.target(&e.target),
        headers,
        credentials,
        mode,
        redirect: Default::default(),
        expect,
        line: 0,
    }
}

/// The author headers a preflight announced, with stand-in values.
fn headers_from_acrh(e: &Entry) -> Headers {
    let mut h = Headers::new();
    for n in e.request_headers.list("access-control-request-headers") {
        let n = n.to_ascii_lowercase();
        let v = if n == "content-type" {
            "application/json"
        } else {
            "1"
        };
        h.append(&n, v);
    }
    h
}

/// The edge: `--profile`, or the CDN the response headers point at, or rfc9111.
fn edge_for(
    items: &[Item<'_>],
    forced: Option<&str>,
    notes: &mut Notes,
) -> Result<EdgeSpec, ImportError> {
    if let Some(p) = forced {
        let prof = profile::profile(p).ok_or_else(|| ImportError::UnknownProfile(p.to_string()))?;
        notes.edge(format!("profile {p} from --profile"));
        return Ok(EdgeSpec {
            profile: p.to_string(),
            knobs: prof.knobs,
        });
    }
    let mut votes: BTreeMap<&'static str, (usize, String)> = BTreeMap::new();
    let mut varyedge = false;
    for it in items {
        let h = &it.e.response_headers;
        varyedge |= h.get_all("via").any(|v| v.contains("varyedge"));
        if let Some((p, why)) = guess_edge(h) {
            let v = votes.entry(p).or_insert((0, why));
            v.0 += 1;
        }
    }
    let best = votes.iter().max_by_key(|(_, (n, _))| *n);
    let name = match best {
        Some((p, (n, why))) => {
            notes.edge(format!(
                "profile {p} guessed from the response headers ({why}; {n} responses)"
            ));
            *p
        }
        None => {
            notes.edge("no CDN header in the responses: rfc9111 (a strict shared cache) assumed; pass --profile".to_string());
            if varyedge {
                notes.edge("a varyedge proxy answered (Via: 1.1 varyedge); its profile is not in its headers: pass --profile".to_string());
            }
            "rfc9111"
        }
    };
    // CloudFront under a cache policy alone forwards no `Origin` to the origin, so the
    // origin could never have reflected one; a reflected Origin in the recording means an
    // origin request policy (CORS-CustomOrigin, AllViewer…) forwards it without keying it.
    let reflected = items.iter().any(|i| {
        let acao = i.e.response_headers.get("access-control-allow-origin");
        let origin = i.e.request_headers.get("origin");
        acao.is_some() && acao != Some("*") && acao == origin
    });
    let name = if name == "cloudfront" && reflected {
        notes.edge("the origin reflected a request's Origin, so this distribution forwards Origin (an origin request policy such as CORS-CustomOrigin): cloudfront-cors-custom; if its cache policy keys Origin, use cloudfront-origin-keyed".to_string());
        "cloudfront-cors-custom"
    } else {
        name
    };
    let preflighted = items.iter().any(|i| {
        !matches!(i.e.method.as_str(), "GET" | "HEAD" | "POST")
            || i.e
                .request_headers
                .iter()
                .any(|(n, _)| n == "authorization" || n.starts_with("x-") && !browser_header(n))
    });
    if preflighted && items.iter().all(|i| !i.e.is_preflight()) {
        notes.edge("no preflight is in the recording (Playwright and some exports leave them out): whether the edge stores OPTIONS is unknown; set cache_options: true if it does".to_string());
    }
    let mut knobs = profile::profile(name)
        .map(|p| p.knobs)
        .unwrap_or_else(profile::Knobs::rfc9111);
    // A preflight the origin answered with the methods or headers asked for shows that the
    // `Access-Control-Request-*` fields reached it too (CORS-S3Origin forwards them,
    // CORS-CustomOrigin only Origin).
    let preflight_seen = items.iter().any(|i| {
        i.e.is_preflight()
            && (200..300).contains(&i.e.status)
            && (i
                .e
                .response_headers
                .contains("access-control-allow-methods")
                || i.e
                    .response_headers
                    .contains("access-control-allow-headers"))
    });
    if name == "cloudfront-cors-custom" && preflight_seen {
        if let ForwardHeaders::List(l) = &mut knobs.forward.headers {
            for h in [
                "access-control-request-method",
                "access-control-request-headers",
            ] {
                if !l.iter().any(|x| x == h) {
                    l.push(h.to_string());
                }
            }
            notes.edge("preflights were answered with the methods/headers asked for: Access-Control-Request-Method and -Headers reach the origin too (forward_headers)".to_string());
        }
    }
    recorded_hits(items, &mut knobs, notes);
    Ok(EdgeSpec {
        profile: name.to_string(),
        knobs,
    })
}

/// A stored answer `p` for one Origin and a later recorded miss `e` for another Origin,
/// same method class and URL, while `p` was fresh by its own `Cache-Control` (`s-maxage`,
/// else `max-age`, less its `Age`; RFC 9111 §4.2).
fn kept_apart<'h>(items: &[Item<'h>]) -> Option<(&'h Entry, &'h Entry)> {
    let read = |e: &Entry| matches!(e.method.as_str(), "GET" | "HEAD");
    let lifetime_ms = |e: &Entry| -> Option<i64> {
        let cc = e.response_headers.list("cache-control");
        let dirs: Vec<String> = cc.iter().map(|d| d.trim().to_ascii_lowercase()).collect();
        if dirs
            .iter()
            .any(|d| d == "no-store" || d == "private" || d == "no-cache")
        {
            return None;
        }
        let get = |n: &str| {
            dirs.iter()
                .find_map(|d| d.strip_prefix(n)?.parse::<i64>().ok())
        };
        let life = get("s-maxage=").or_else(|| get("max-age="))?;
        let age = super::classify::age(&e.response_headers).unwrap_or(0) as i64;
        Some((life - age).max(0) * 1000)
    };
    // by URL, in time order; each stored answer is compared with at most the next 256
    // requests for its URL inside its freshness (a large recording stays linear)
    let mut by_url: HashMap<&str, Vec<&'h Entry>> = HashMap::new();
    for it in items {
        if read(it.e) && it.e.from_cache.is_none() {
            by_url.entry(it.e.url.as_str()).or_default().push(it.e);
        }
    }
    let mut groups: Vec<&Vec<&'h Entry>> = by_url.values().collect();
    groups.sort_by_key(|g| (g[0].started_ms, g[0].index));
    for g in groups {
        if let Some(pair) = kept_apart_in(g, &lifetime_ms) {
            return Some(pair);
        }
    }
    None
}

fn kept_apart_in<'h>(
    g: &[&'h Entry],
    lifetime_ms: &dyn Fn(&Entry) -> Option<i64>,
) -> Option<(&'h Entry, &'h Entry)> {
    for (i, p) in g.iter().copied().enumerate() {
        if !(p.has_response() && (200..300).contains(&p.status)) {
            continue;
        }
        let Some(o1) = p.origin() else { continue };
        if !matches!(
            cache_outcome(&p.response_headers),
            Some(Outcome::Miss | Outcome::Hit)
        ) {
            continue;
        }
        let Some(fresh) = lifetime_ms(p) else {
            continue;
        };
        let found = g[i + 1..]
            .iter()
            .copied()
            .take(256)
            .take_while(|e| e.started_ms - p.started_ms < fresh)
            .find(|e| {
                e.origin().is_some_and(|o2| o2 != o1)
                    && cache_outcome(&e.response_headers) == Some(Outcome::Miss)
            });
        if let Some(e) = found {
            return Some((p, e));
        }
    }
    None
}

/// What the recorded hits prove about the edge's key, where the guessed profile says
/// otherwise: a hit that carries another origin's `Access-Control-Allow-Origin` was stored
/// under a key without Origin (Cloudflare keys Origin by default; a custom cache key can
/// exclude it), and a hit on a request with a Cookie or Authorization shows the edge does
/// not pass those (Varnish's builtin VCL does; a custom one may not).
fn recorded_hits(items: &[Item<'_>], knobs: &mut profile::Knobs, notes: &mut Notes) {
    let hits = || {
        items.iter().map(|i| i.e).filter(|e| {
            e.has_response()
                && e.from_cache.is_none()
                && cache_outcome(&e.response_headers) == Some(Outcome::Hit)
        })
    };
    // A preflight answered from the edge's cache: this edge stores OPTIONS; one carrying
    // another origin's answer was looked up without the preflight fields in the key.
    if let Some(e) = hits().find(|e| e.is_preflight()) {
        if !knobs.cache_options {
            knobs.cache_options = true;
            notes.edge(format!(
                "entry {} (a preflight) was a cache hit: this edge stores OPTIONS (cache_options: true)",
                e.index
            ));
        }
        let acao = e
            .response_headers
            .get("access-control-allow-origin")
            .map(str::trim);
        let foreign = matches!((acao, e.origin()), (Some(a), Some(o)) if a != "*" && a != o);
        if foreign && knobs.preflight_key != crate::profile::PreflightKey::Ignore {
            knobs.preflight_key = crate::profile::PreflightKey::Ignore;
            notes.edge(format!(
                "entry {} (a preflight) got another origin's stored answer: Origin and Access-Control-Request-* are not in its key (preflight_key: ignore)",
                e.index
            ));
        }
    }
    let foreign = hits().find(|e| {
        let acao = e
            .response_headers
            .get("access-control-allow-origin")
            .map(str::trim);
        matches!((acao, e.origin()), (Some(a), Some(o)) if a != "*" && a != o)
    });
    if let Some(e) = foreign {
        if knobs.key_headers.iter().any(|h| h == "origin") {
            knobs.key_headers.retain(|h| h != "origin");
            notes.edge(format!(
                "entry {} from {} was a cache hit carrying another origin's Access-Control-Allow-Origin: this edge does not key on Origin (origin removed from key_headers)",
                e.index,
                e.origin().unwrap_or_default()
            ));
        }
    }
    // The other way round: a miss for another Origin while an answer stored for the first
    // was still fresh shows a key that keeps Origins apart (a cache policy keying Origin),
    // where the profile would have served the stored one.
    if foreign.is_none() && !knobs.key_headers.iter().any(|h| h == "origin") {
        if let Some((p, e)) = kept_apart(items) {
            let vary_keys = knobs.vary == crate::profile::VaryMode::Honor
                && p.response_headers
                    .list("vary")
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case("origin"));
            if !vary_keys {
                knobs.key_headers.push("origin".into());
                notes.edge(format!(
                    "entry {} from {} missed while entry {}'s answer for {} was still fresh ({} ms earlier): this edge keeps Origins apart (origin added to key_headers)",
                    e.index,
                    e.origin().unwrap_or_default(),
                    p.index,
                    p.origin().unwrap_or_default(),
                    e.started_ms - p.started_ms
                ));
            }
        }
    }
    if knobs.pass_cookie {
        if let Some(e) = hits().find(|e| e.cookies) {
            knobs.pass_cookie = false;
            notes.edge(format!(
                "entry {} carried cookies and was a cache hit: this edge does not pass requests with a Cookie (pass_cookie: false)",
                e.index
            ));
        }
    }
    if knobs.pass_authorization {
        if let Some(e) = hits().find(|e| e.request_headers.contains("authorization")) {
            knobs.pass_authorization = false;
            notes.edge(format!(
                "entry {} carried Authorization and was a cache hit: this edge does not pass such requests (pass_authorization: false)",
                e.index
            ));
        }
    }
}

/// Replaces secrets by stable placeholders (`redacted-1`, `redacted-2`: equal values stay
/// equal, so cache keys collide as they did) unless `--keep-secrets`.
struct Secrets {
    keep: bool,
    seen: HashMap<String, usize>,
}

impl Secrets {
    fn new(keep: bool) -> Secrets {
        Secrets {
            keep,
            seen: HashMap::new(),
        }
    }

    fn placeholder(&mut self, v: &str) -> String {
        let n = self.seen.len() + 1;
        let i = *self.seen.entry(v.to_string()).or_insert(n);
        format!("redacted-{i}")
    }

    fn is_secret(name: &str) -> bool {
        let n = name.to_ascii_lowercase();
        [
            "auth",
            "token",
            "secret",
            "password",
            "passwd",
            "session",
            "api-key",
            "apikey",
            "api_key",
            "signature",
            "sig",
            "key",
            "cookie",
        ]
        .iter()
        .any(|s| n == *s || n.contains(s) && *s != "sig" && *s != "key")
            || n.ends_with("-key")
            || n.ends_with("_key")
    }

    fn headers(&mut self, h: &Headers) -> Headers {
        let mut out = Headers::new();
        for (n, v) in h.iter() {
            if !self.keep && Self::is_secret(n) {
                let p = self.placeholder(v);
                out.append(n, &p);
            } else {
                out.append(n, v);
            }
        }
        out
    }

    fn target(&mut self, t: &str) -> String {
        let Some((path, q)) = t.split_once('?').filter(|_| !self.keep) else {
            return t.to_string();
        };
        let parts: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) if Self::is_secret(k) => format!("{k}={}", self.placeholder(v)),
                _ => kv.to_string(),
            })
            .collect();
        format!("{path}?{}", parts.join("&"))
    }
}

#[cfg(test)]
pub(crate) mod tests;
