//! Scenario format v1: loading YAML with located errors, validation, and the typed
//! scenario the simulator runs. See PRODUCT.md "Scenario format v1".

mod fetch;
mod quick;
mod raw;
pub mod write;

pub use fetch::fill_fetch;

use crate::browser::{Agent, Credentials, Mode, Reason, RedirectMode};
use crate::edge::Outcome;
use crate::error::InputError;
use crate::fields::{is_token, Headers};
use crate::origin::{AllowHeaders, AllowOrigins, CorsPolicy, OriginModel, Route, VaryOrigin};
use crate::profile::{self, Collapse, Knobs, QueryKey, UnknownKnobValue};
use crate::time::parse_duration_ms;
use raw::{Flag, Mapping, Pos, RawCors, RawEdge, RawScenario, Scalar, StepIn, StrOrList, S};
use serde_saphyr::Location;
use std::str::FromStr;
use std::sync::Arc;

/// Where the responses come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OriginSpec {
    /// A modelled backend.
    Model(OriginModel),
    /// A real server (`upstream: http://127.0.0.1:3000`).
    Upstream(String),
}

/// The edge: a profile name and the knobs after the scenario's overrides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeSpec {
    /// Profile the knobs started from.
    pub profile: String,
    /// Effective knobs.
    pub knobs: Knobs,
}

/// One emulated client (a page on an origin in a browser, or curl).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// Name steps refer to.
    pub name: String,
    /// The page's origin (`https://app1.example.com`); empty for `browser: none`.
    pub origin: String,
    /// Browser engine or none.
    pub agent: Agent,
    /// Default request mode.
    pub mode: Mode,
    /// Cookie sent with `credentials: include`.
    pub cookie: String,
    /// Pinned POP; `None` = POP 0.
    pub pop: Option<u32>,
    /// The API is in a more private address space than the page (PNA).
    pub private_network: bool,
    /// Changes to the engine's default request headers (`headers:` on the client; an
    /// empty value removes the header).
    pub headers: Headers,
    /// Clients with the same `user:` are one browser: they share its HTTP cache, cookie
    /// jar and CORS-preflight cache. By default every client is its own browser.
    pub user: String,
    /// Whether the browser uses its HTTP cache (`http_cache: true`). Off by default, so
    /// that v1 scenarios — written as if every fetch reached the edge — run unchanged.
    pub http_cache: bool,
}

/// What a step expects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    /// `ok` (true) or `blocked` (false).
    pub cors_ok: Option<bool>,
    /// The verdict reason.
    pub reason: Option<Reason>,
    /// The edge outcome.
    pub cache: Option<Outcome>,
    /// Whether the step is cache-induced.
    pub cache_induced: Option<bool>,
    /// Preflight: `none`, `sent` or `cached`.
    pub preflight: Option<PreflightUse>,
    /// The step whose stored response was served.
    pub poisoned_by: Option<usize>,
    /// The HTTP status delivered.
    pub status: Option<u16>,
    /// Which layer delivered the response that decided the verdict.
    pub served_by: Option<ServedBy>,
}

/// Which layer delivered the response that decided a step's verdict: the origin (through
/// the edge on a miss or pass), the edge's cache, or the browser's own HTTP cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServedBy {
    /// Fetched from the origin.
    Origin,
    /// A stored response at the edge (hit, stale, collapsed).
    Edge,
    /// The browser's HTTP cache; nothing was sent.
    Browser,
    /// Nothing was delivered (a TypeError before sending).
    None,
}

impl ServedBy {
    /// Every layer, in the order `expect: served_by` lists them in errors.
    pub const ALL: [ServedBy; 4] = [
        ServedBy::Origin,
        ServedBy::Edge,
        ServedBy::Browser,
        ServedBy::None,
    ];

    /// Stable id (the scenario's `served_by:` value and the report's).
    pub fn id(self) -> &'static str {
        match self {
            ServedBy::Origin => "origin",
            ServedBy::Edge => "edge",
            ServedBy::Browser => "browser",
            ServedBy::None => "none",
        }
    }
}

impl Expect {
    /// Whether the step states any expectation.
    pub fn is_empty(&self) -> bool {
        *self == Expect::default()
    }
}

/// How the preflight went for one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PreflightUse {
    /// None was needed.
    None,
    /// One was sent.
    Sent,
    /// One was needed and the browser's preflight cache answered it.
    Cached,
}

impl PreflightUse {
    /// Every value, in the order `expect: preflight` lists them in errors.
    pub const ALL: [PreflightUse; 3] =
        [PreflightUse::None, PreflightUse::Sent, PreflightUse::Cached];

    /// Stable id (the scenario's `preflight:` value and the report's).
    pub fn id(self) -> &'static str {
        match self {
            PreflightUse::None => "none",
            PreflightUse::Sent => "sent",
            PreflightUse::Cached => "cached",
        }
    }
}

/// One timed fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Absolute virtual time in ms from the start.
    pub at_ms: u64,
    /// Index into `clients`.
    pub client: usize,
    /// Method.
    pub method: String,
    /// Scheme of the API.
    pub scheme: String,
    /// Host of the API.
    pub host: String,
    /// Path and query.
    pub target: String,
    /// Author headers.
    pub headers: Headers,
    /// Credentials mode.
    pub credentials: Credentials,
    /// Request mode.
    pub mode: Mode,
    /// `redirect: follow | error | manual` (default follow).
    pub redirect: RedirectMode,
    /// Expectations.
    pub expect: Expect,
    /// Line of the step in the file (for reports).
    pub line: u64,
}

/// A validated scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// One-line description.
    pub about: String,
    /// The file it came from.
    pub file: String,
    /// Backend.
    pub origin: OriginSpec,
    /// Edge.
    pub edge: EdgeSpec,
    /// Clients.
    pub clients: Vec<Client>,
    /// Steps in file order.
    pub steps: Vec<Step>,
}

/// Default API host when the scenario names none.
pub const DEFAULT_HOST: &str = "api.example.com";

/// Loads and validates a scenario from YAML text. `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Scenario, InputError> {
    parse_with_profile(file, text, None)
}

/// Like [`parse`], but with the edge's profile replaced by `profile` (the scenario's knob
/// overrides still apply on top of it), as `replay --profile` and `matrix` do.
pub fn parse_with_profile(
    file: &str,
    text: &str,
    profile: Option<&str>,
) -> Result<Scenario, InputError> {
    parse_with(file, text, profile, None)
}

/// Resolves an `edge: { import: FILE }`: given the scenario's file name and the path as
/// written, returns the imported edge (the caller reads the file, relative to the
/// scenario).
pub type ImportLoader<'a> = &'a dyn Fn(&str, &str) -> Result<crate::import::Imported, InputError>;

/// Like [`parse_with_profile`], with a loader for `edge: { import: FILE }` (without one,
/// such a scenario is an error).
pub fn parse_with(
    file: &str,
    text: &str,
    profile: Option<&str>,
    loader: Option<ImportLoader<'_>>,
) -> Result<Scenario, InputError> {
    read_scenario(file, text, profile, loader, true)
}

/// [`parse_with`]; `quick` lets long step lists take the quick reader when every line of
/// them is simple (the YAML reader reads the rest, or everything when it gives up). Tests
/// turn it off to compare the two readers.
fn read_scenario(
    file: &str,
    text: &str,
    profile: Option<&str>,
    loader: Option<ImportLoader<'_>>,
    quick: bool,
) -> Result<Scenario, InputError> {
    let v = Validator {
        file,
        text,
        profile,
        loader,
    };
    if let Some((raw, steps)) = quick.then(|| read_quick(file, text)).flatten() {
        return v.scenario(raw, Some(steps));
    }
    let mut raw: RawScenario = read_yaml(file, text)?;
    let steps = raw.steps.take().map(|l| {
        let at = Pos::from(&l.referenced);
        (at, l.value.into_iter().map(StepIn::from).collect())
    });
    v.scenario(raw, steps)
}

/// The document with its steps read by the quick reader and the rest by the YAML reader,
/// when the quick reader takes the steps and the YAML reader agrees that the block it
/// took is the top-level `steps:` (an empty list, where the key was); otherwise `None`.
fn read_quick<'t>(file: &str, text: &'t str) -> Option<(RawScenario, StepsIn<'t>)> {
    let quick::Quick {
        rest,
        key_line,
        steps,
    } = quick::take_steps(text)?;
    let read = read_yaml::<RawScenario>(file, &rest);
    drop(rest); // a copy of the file: not kept while the steps are validated
    let mut raw = read.ok()?;
    let blank = raw.steps.take()?;
    let at = Pos::from(&blank.referenced);
    (blank.value.is_empty() && blank.referenced.line() == key_line).then_some((raw, (at, steps)))
}

/// The text of a file read as `bytes` (named `file` in errors): UTF-8, or an error at
/// the line and column of the first byte that is not.
pub fn text_of(file: &str, bytes: Vec<u8>) -> Result<String, InputError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..valid];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count() as u64;
        // the valid prefix is UTF-8: its characters since the line's start
        let col = 1 + String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count() as u64;
        InputError::at(
            file,
            line,
            col,
            format!(
                "expected UTF-8 text, found the byte 0x{:02x}, which is not UTF-8 here",
                e.as_bytes()[valid]
            ),
        )
    })
}

/// Where the scenario `text` names a real server (`upstream:`, at the top level or under
/// `origin:`): the line and column of its value, for an error that points at it.
pub fn upstream_at(text: &str) -> Option<(u64, u64)> {
    #[derive(serde::Deserialize)]
    struct Doc {
        upstream: Option<S<String>>,
        origin: Option<Origin>,
    }
    #[derive(serde::Deserialize)]
    struct Origin {
        upstream: Option<S<String>>,
    }
    let doc: Doc = read_yaml("", text).ok()?;
    let u = doc.upstream.or(doc.origin.and_then(|o| o.upstream))?;
    Some((u.referenced.line(), u.referenced.column()))
}

/// Reads only the `edge:` block of a YAML document (a scenario, or what `varyedge import
/// cdn-config` writes), validated like a scenario's.
pub fn parse_edge_block(file: &str, text: &str) -> Result<EdgeSpec, InputError> {
    let raw: raw::RawEdgeDoc = read_yaml(file, text)?;
    let Some(e) = raw.edge else {
        return Err(InputError::at(file, 1, 1, "expected an `edge:` block"));
    };
    Validator {
        file,
        text,
        profile: None,
        loader: None,
    }
    .edge(e)
}

/// Deserialises the YAML document `text` (named `file` in errors) with the scenario
/// loader's budgets: every YAML reader of the crate (scenarios, edge blocks, imports, the
/// traffic model) goes through here, so they all report a syntax or type error the same
/// way — `file:line:col` and the message in the scenario's terms.
pub(crate) fn read_yaml<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
) -> Result<T, InputError> {
    serde_saphyr::from_str_with_options(text, yaml_options_for(text)).map_err(|e| {
        let (line, col) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        let msg = e.without_snippet().to_string();
        InputError::at(file, line, col, plain_message(&strip_location(&msg)))
    })
}

/// The most YAML nodes a scenario may have: a 50,000-step scenario (about ten nodes a
/// step) fits with room to spare; a billion-laughs style file does not.
pub const MAX_YAML_NODES: usize = 2_000_000;

/// How deep the YAML reader lets lists and mappings nest (its `flow_nesting_limit` and
/// `block_nesting_limit`, 255 by default).
const MAX_NESTING: usize = 255;

/// serde-saphyr's options with the node and event budgets sized for large scenarios.
#[cfg(test)]
fn yaml_options() -> serde_saphyr::Options {
    yaml_options_for("")
}

/// [`yaml_options`] for `text`: a file larger than [`MAX_YAML_NODES`] bytes may have one
/// node per byte (a generated million-step trace), still linear in its size; the alias
/// and depth limits that stop a billion-laughs file stay as they are.
fn yaml_options_for(text: &str) -> serde_saphyr::Options {
    let nodes = MAX_YAML_NODES.max(text.len());
    let mut o = serde_saphyr::Options::default();
    if let Some(b) = &mut o.budget {
        b.max_nodes = nodes;
        b.max_events = 4 * nodes;
    }
    o
}

/// The YAML library's messages in the scenario's terms: no advice about the library's
/// own options (`set DuplicateKeyPolicy in Options`), no debug dumps of its budget.
fn plain_message(msg: &str) -> String {
    if msg.starts_with("duplicate mapping key") {
        let key = msg
            .strip_prefix("duplicate mapping key: ")
            .and_then(|k| k.split(", set DuplicateKeyPolicy").next());
        return match key {
            Some(k) => format!("duplicate key {k}: each key may appear once in a mapping"),
            None => "duplicate key: each key may appear once in a mapping".to_string(),
        };
    }
    if msg.starts_with("multiple YAML documents") {
        return "a second YAML document (`---`) follows: the file must hold exactly one"
            .to_string();
    }
    if msg.starts_with("invalid u16") {
        return "expected an HTTP status code (a whole number from 100 to 599)".to_string();
    }
    if ["u8", "u32", "u64", "usize", "i64"]
        .iter()
        .any(|t| msg.starts_with(&format!("invalid {t}")))
    {
        return "expected a whole number in range (no sign, no fraction)".to_string();
    }
    if msg.starts_with("expected string scalar") {
        return "expected a single value (a string, number or boolean), found a list or a mapping"
            .to_string();
    }
    if msg.starts_with("recursion limit exceeded") {
        return format!(
            "lists or mappings nested deeper than {MAX_NESTING} levels; expected the format's own nesting (a scenario needs fewer than ten levels)"
        );
    }
    // the YAML reader's own words for a list or mapping where the other (or a scalar) stands
    if msg.starts_with("expected sequence start") {
        return "expected a list here (`- item` lines or `[a, b]`), found a single value or a mapping"
            .to_string();
    }
    if msg.starts_with("expected mapping start") {
        return "expected a mapping here (`key: value` lines or `{ key: value }`), found a single value or a list"
            .to_string();
    }
    if msg.starts_with("invalid boolean") {
        return "expected true or false".to_string();
    }
    if msg.starts_with("non-finite float") {
        return "expected a finite number (not .nan, .inf or a number too large to hold)"
            .to_string();
    }
    if msg.starts_with("cannot deserialize null into string") {
        return "expected a value, found nothing (an empty value or null)".to_string();
    }
    if msg.starts_with("budget breached") {
        return format!(
            "the file is too large or too deeply nested (at most {MAX_YAML_NODES} YAML nodes or one per byte of a larger file, nesting depth 64, 50,000 aliases)"
        );
    }
    msg.to_string()
}

/// serde-saphyr appends " at line L column C" to some messages; the location is already
/// in front of ours.
fn strip_location(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or(msg);
    match first.find(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}

/// The `steps:` list: where it is written and its steps, from either reader.
type StepsIn<'a> = (Pos, Vec<StepIn<'a>>);

struct Validator<'a> {
    file: &'a str,
    /// The whole file, to find a key whose value is empty (`clients: ~`).
    text: &'a str,
    profile: Option<&'a str>,
    loader: Option<ImportLoader<'a>>,
}

impl Validator<'_> {
    fn err(&self, loc: &Location, msg: impl Into<String>) -> InputError {
        InputError::at(self.file, loc.line(), loc.column(), msg)
    }

    fn err_at(&self, p: Pos, msg: impl Into<String>) -> InputError {
        InputError::at(self.file, u64::from(p.line), u64::from(p.column), msg)
    }

    /// `raw` without its `steps:`, which come apart in `steps` (read by either reader).
    /// Each part is checked; when several are wrong, the one written first in the file
    /// is reported (the reader stops at one error, so it should be the first one met).
    fn scenario(
        &self,
        raw: RawScenario,
        steps: Option<StepsIn<'_>>,
    ) -> Result<Scenario, InputError> {
        let version = match &raw.version {
            Some(v) if v.value.0 != "1" => Err(self.err(
                &v.referenced,
                format!(
                    "unsupported scenario version {}; this varyedge reads version 1",
                    v.value.0
                ),
            )),
            _ => Ok(()),
        };
        let host = match &raw.host {
            Some(h)
                if h.value.is_empty()
                    || h.value.contains(['/', '?', '#', '@'])
                    || h.value.chars().any(|c| c.is_control() || c.is_whitespace()) =>
            {
                Err(self.err(
                    &h.referenced,
                    "expected a host name such as api.example.com",
                ))
            }
            Some(h) => Ok(h.value.to_ascii_lowercase()),
            None => Ok(DEFAULT_HOST.to_string()),
        };
        let scheme = match &raw.scheme {
            Some(s) if s.value != "http" && s.value != "https" => {
                Err(self.err(&s.referenced, "expected `http` or `https`"))
            }
            Some(s) => Ok(s.value.clone()),
            None => Ok("https".to_string()),
        };
        let origin = match (raw.upstream, raw.origin) {
            (Some(u), None) => self.upstream_url(&u).map(OriginSpec::Upstream),
            (Some(u), Some(_)) => Err(self.err(
                &u.referenced,
                "give either `origin:` or `upstream:`, not both",
            )),
            (None, Some(o)) => self.origin(o),
            (None, None) => {
                Err(self.missing("origin", "a modelled backend, or `upstream:` with a URL"))
            }
        };
        let edge = match raw.edge {
            Some(e) => self.edge(e),
            None => {
                let name = self.profile.unwrap_or("rfc9111");
                profile::profile(name)
                    .map(|p| EdgeSpec {
                        profile: name.to_string(),
                        knobs: p.knobs,
                    })
                    .ok_or_else(|| unknown_profile_flag(name))
            }
        };
        // The clients are checked even when the edge is wrong (then without the POP
        // count), so that an earlier mistake among them is the one reported.
        let lenient = Knobs {
            pops: u32::MAX,
            ..Knobs::rfc9111()
        };
        let knobs = edge.as_ref().map_or(&lenient, |e| &e.knobs);
        let clients = self.clients(raw.clients, knobs);
        let steps = match (&clients, &host, &scheme) {
            (Ok(c), Ok(h), Ok(sc)) => Some(self.steps(steps, c, sc, h)),
            _ => None,
        };
        // A name is one line: every report prints it in a line of its own (`-q`'s
        // `file:line: NAME #1 …`, JUnit's suite name), so a line break would split it.
        // An empty one is as if none were given: the file's name.
        let name_err = raw.name.as_ref().and_then(|n| {
            n.value.chars().any(char::is_control).then(|| {
                self.err(
                    &n.referenced,
                    "expected a one-line name (no line break, tab or other control character)",
                )
            })
        });
        let first = earliest(
            [
                version.err(),
                name_err,
                host.as_ref().err().cloned(),
                scheme.as_ref().err().cloned(),
                origin.as_ref().err().cloned(),
                edge.as_ref().err().cloned(),
                clients.as_ref().err().cloned(),
                steps.as_ref().and_then(|s| s.as_ref().err().cloned()),
            ]
            .into_iter()
            .flatten(),
        );
        match (origin, edge, clients, steps, first) {
            (Ok(origin), Ok(edge), Ok(clients), Some(Ok(steps)), None) => Ok(Scenario {
                name: raw
                    .name
                    .map(|n| n.value)
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| stem(self.file)),
                about: raw.about.unwrap_or_default(),
                file: self.file.to_string(),
                origin,
                edge,
                clients,
                steps,
            }),
            (.., Some(e)) => Err(e),
            // (not reached: every part that failed gave an error above)
            _ => Err(InputError::at(
                self.file,
                1,
                1,
                "the scenario could not be read",
            )),
        }
    }

    /// A required top-level `key:` that is absent or empty (`clients: ~`): the error
    /// points at the key when it is written, at the file's start when it is not.
    fn missing(&self, key: &str, what: &str) -> InputError {
        let written = self
            .text
            .lines()
            .position(|l| {
                l.strip_prefix(key)
                    .and_then(|r| r.trim_start_matches(' ').strip_prefix(':'))
                    .is_some()
            })
            .map(|i| i as u64 + 1);
        match written {
            Some(line) => InputError::at(
                self.file,
                line,
                1,
                format!("`{key}:` is empty; expected {what}"),
            ),
            None => InputError::at(self.file, 1, 1, format!("missing `{key}:` ({what})")),
        }
    }

    fn upstream_url(&self, u: &S<String>) -> Result<String, InputError> {
        let v = u.value.trim_end_matches('/');
        if !(v.starts_with("http://") || v.starts_with("https://"))
            || v.split("://").nth(1).is_none_or(str::is_empty)
        {
            return Err(self.err(
                &u.referenced,
                format!(
                    "expected an http:// URL such as http://127.0.0.1:3000, found {:?}",
                    u.value
                ),
            ));
        }
        Ok(v.to_string())
    }

    fn origin(&self, o: S<Mapping<raw::RawOrigin>>) -> Result<OriginSpec, InputError> {
        let loc = o.referenced;
        let o = o.value.0;
        if let Some(u) = &o.upstream {
            if o.cors.is_some() || o.routes.is_some() {
                return Err(self.err(
                    &u.referenced,
                    "`upstream:` replaces the modelled origin: drop `cors:` and `routes:`",
                ));
            }
            return Ok(OriginSpec::Upstream(self.upstream_url(u)?));
        }
        let cors = match o.cors {
            Some(c) => Some(self.cors(c)?),
            None => None,
        };
        let mut routes = Vec::new();
        for r in o.routes.unwrap_or_default() {
            routes.push(self.route(r, cors.as_ref())?);
        }
        if routes.is_empty() {
            return Err(self.err(
                &loc,
                "the origin has no `routes:`; give at least one `- path: /api/data`",
            ));
        }
        let latency_ms = match o.latency {
            Some(l) => self.duration(&l)?,
            None => 0,
        };
        Ok(OriginSpec::Model(OriginModel {
            cors,
            routes,
            latency_ms,
            epoch: crate::time::SIM_EPOCH,
        }))
    }

    fn duration(&self, s: &S<Scalar>) -> Result<u64, InputError> {
        duration_ms(&s.value.0).map_err(|m| self.err(&s.referenced, m))
    }

    /// A whole number written at `s`, from `lo` to `hi`; otherwise `expected` (which
    /// names the range) and what was written.
    fn whole(&self, s: &S<Scalar>, lo: u64, hi: u64, expected: &str) -> Result<u64, InputError> {
        let t = s.value.0.trim();
        t.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| t.parse::<u64>().ok())
            .flatten()
            .filter(|n| (lo..=hi).contains(n))
            .ok_or_else(|| self.err(&s.referenced, format!("{expected}, found {t:?}")))
    }

    /// An HTTP status from `lo` to `hi`.
    fn status(&self, s: &S<Scalar>, lo: u16, hi: u16, what: &str) -> Result<u16, InputError> {
        let n = self.whole(
            s,
            u64::from(lo),
            u64::from(hi),
            &format!("expected {what} code between {lo} and {hi}"),
        )?;
        Ok(u16::try_from(n).unwrap_or(hi))
    }

    /// A header field value from the scenario: RFC 9110 §5.5 allows no CR, LF or NUL in
    /// one (nor other controls but HTAB); such a value would fail only later, at send time.
    fn field_value(&self, v: Option<&S<String>>, what: &str) -> Result<Option<String>, InputError> {
        let Some(v) = v else { return Ok(None) };
        if let Some(c) = v.value.chars().find(|c| c.is_control() && *c != '\t') {
            return Err(self.err(
                &v.referenced,
                format!(
                    "{what}: a header field value cannot contain the control character {c:?} (RFC 9110 §5.5)"
                ),
            ));
        }
        Ok(Some(v.value.clone()))
    }

    /// A list of header names; each must be a token (RFC 9110 §5.1).
    fn header_names(&self, s: &S<StrOrList>, what: &str) -> Result<Vec<String>, InputError> {
        let names = self.list(s);
        if let Some(bad) = names.iter().find(|n| !is_token(n)) {
            return Err(self.err(
                &s.referenced,
                format!("{what}: {bad:?} is not a header name (RFC 9110 §5.1: a token)"),
            ));
        }
        Ok(names)
    }

    /// A whole number of seconds written as a duration (`600`, `10m`, `1h`, `1d`), as
    /// `max-age` and TTLs count them (RFC 9111 §1.2.2 delta-seconds).
    fn duration_secs(&self, s: &S<Scalar>) -> Result<u64, InputError> {
        let ms = self.duration(s)?;
        if ms % 1000 != 0 {
            return Err(self.err(
                &s.referenced,
                format!(
                    "expected whole seconds (such as 600, 10m or 1h), found {:?}",
                    s.value.0
                ),
            ));
        }
        Ok(ms / 1000)
    }

    fn list(&self, s: &S<StrOrList>) -> Vec<String> {
        match &s.value {
            StrOrList::One(v) => crate::fields::split_list(v).map(str::to_string).collect(),
            StrOrList::Many(v) => v.clone(),
        }
    }

    fn cors(&self, c: S<Mapping<RawCors>>) -> Result<CorsPolicy, InputError> {
        let loc = c.referenced;
        let c = c.value.0;
        let matchers = [
            c.allow_origin_suffix
                .as_ref()
                .map(|s| ("allow_origin_suffix", s)),
            c.allow_origin_prefix
                .as_ref()
                .map(|s| ("allow_origin_prefix", s)),
            c.allow_origin_pattern
                .as_ref()
                .map(|s| ("allow_origin_pattern", s)),
        ];
        let mut matchers = matchers.into_iter().flatten();
        let matcher = matchers.next();
        if let Some((name, s)) = matchers
            .next()
            .or(matcher.filter(|_| c.allow_origins.is_some()))
        {
            return Err(self.err(
                &s.referenced,
                format!("`{name}` cannot be combined with `allow_origins` or another `allow_origin_*`: give one"),
            ));
        }
        let allow_origins = match (&c.allow_origins, matcher) {
            (_, Some(("allow_origin_suffix", s))) => AllowOrigins::Suffix(s.value.clone()),
            (_, Some(("allow_origin_prefix", s))) => AllowOrigins::Prefix(s.value.clone()),
            (_, Some((_, s))) => {
                if let Some(e) = crate::origin::pattern_error(&s.value) {
                    return Err(self.err(&s.referenced, e));
                }
                AllowOrigins::Pattern(s.value.clone())
            }
            (Some(a), None) => match &a.value {
                StrOrList::One(v) if v == "*" => AllowOrigins::Any,
                StrOrList::One(v) if v == "reflect-any" => AllowOrigins::ReflectAny,
                StrOrList::One(v) if !v.contains("://") && v != "null" => {
                    return Err(self.err(
                        &a.referenced,
                        format!("expected a list of origins, \"*\" or reflect-any, found {v:?}"),
                    ))
                }
                _ => AllowOrigins::List(self.list(a)),
            },
            (None, None) => {
                return Err(self.err(
                    &loc,
                    "missing `allow_origins:` (a list of origins, \"*\" or reflect-any)",
                ))
            }
        };
        let mut p = CorsPolicy {
            allow_origins,
            allow_credentials: Flag::or(c.allow_credentials, false),
            ..CorsPolicy::default()
        };
        if let Some(m) = &c.allow_methods {
            p.allow_methods = self.list(m).into_iter().map(|m| m.to_string()).collect();
            if let Some(bad) = p.allow_methods.iter().find(|m| !is_token(m)) {
                return Err(self.err(&m.referenced, format!("{bad:?} is not a method name")));
            }
        }
        if let Some(h) = &c.allow_headers {
            p.allow_headers = match &h.value {
                StrOrList::One(v) if v == "*" => AllowHeaders::Any,
                StrOrList::One(v) if v == "reflect" => AllowHeaders::Reflect,
                _ => AllowHeaders::List(self.header_names(h, "allow_headers")?),
            };
        }
        if let Some(e) = &c.expose_headers {
            p.expose_headers = self.header_names(e, "expose_headers")?;
        }
        p.max_age = match &c.max_age {
            Some(m) => Some(self.duration_secs(m)?),
            None => None,
        };
        if let Some(v) = &c.vary_origin {
            p.vary_origin = match v.value.boolean() {
                "true" | "always" => VaryOrigin::Always,
                "false" | "never" => VaryOrigin::Never,
                "when-origin" => VaryOrigin::WhenOrigin,
                other => {
                    return Err(self.err(
                        &v.referenced,
                        format!("expected true, false or when-origin, found {other:?}"),
                    ))
                }
            };
        }
        p.preflight_vary = Flag::or(c.preflight_vary, false);
        p.preflight_cache_control = self.field_value(
            c.preflight_cache_control.as_ref(),
            "preflight_cache_control",
        )?;
        if let Some(s) = &c.preflight_status {
            p.preflight_status = self.status(s, 100, 599, "an HTTP status")?;
        }
        p.options_handler = Flag::or(c.options, true);
        p.allow_private_network = Flag::or(c.allow_private_network, false);
        p.preflight_headers = self.headers(c.preflight_headers.as_ref())?;
        Ok(p)
    }

    fn route(&self, r: S<raw::RawRoute>, _cors: Option<&CorsPolicy>) -> Result<Route, InputError> {
        let r = r.value;
        if !r.path.value.starts_with('/') {
            return Err(self.err(
                &r.path.referenced,
                format!("a route path starts with /, found {:?}", r.path.value),
            ));
        }
        let status = match &r.status {
            Some(s) => self.status(s, 100, 599, "an HTTP status")?,
            None if r.redirect.is_some() => 302,
            None => 200,
        };
        let mut headers = self.headers(r.headers.as_ref())?;
        if let Some(to) = &r.redirect {
            let ok = to.value.starts_with('/') || to.value.contains("://");
            if !ok || to.value.contains(char::is_whitespace) {
                return Err(self.err(
                    &to.referenced,
                    format!("`redirect:` is a path (/new) or an absolute URL (https://other.example/x), found {:?}", to.value),
                ));
            }
            if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                return Err(self.err(
                    &to.referenced,
                    format!("a route with `redirect:` answers 301, 302, 303, 307 or 308, not `status: {status}`"),
                ));
            }
            headers.insert("location", &to.value);
        }
        let cors = match &r.cors {
            None => None,
            Some(v) if v.value.boolean() == "false" || v.value.0 == "none" => Some(None),
            Some(v) => {
                return Err(self.err(
                    &v.referenced,
                    "a route's `cors:` can only be `false` (no CORS headers on this route)",
                ))
            }
        };
        let mut errors = Vec::new();
        for e in r.errors.into_iter().flatten() {
            errors.push(self.error_window(e)?);
        }
        Ok(Route {
            path: r.path.value,
            methods: r.methods.as_ref().map(|m| self.list(m)).unwrap_or_default(),
            status,
            cache_control: self.field_value(r.cache_control.as_ref(), "cache_control")?,
            headers,
            body: Arc::from(r.body.unwrap_or_default().into_bytes()),
            cors,
            redirect_options: Flag::or(r.redirect_options, false),
            cors_on_304: Flag::or(r.cors_on_304, true),
            errors,
        })
    }

    /// `errors: [{ status: 503, from: 10s, until: 40s }]`: times from the scenario's start.
    fn error_window(
        &self,
        e: S<raw::RawErrorWindow>,
    ) -> Result<crate::origin::ErrorWindow, InputError> {
        let e = e.value;
        let status = self.status(&e.status, 400, 599, "an error status")?;
        let from_ms = match &e.from {
            Some(f) => self.duration(f)?,
            None => 0,
        };
        let until_ms = match &e.until {
            Some(u) => {
                let ms = self.duration(u)?;
                if ms <= from_ms {
                    return Err(self.err(&u.referenced, "`until` must come after `from`"));
                }
                Some(ms)
            }
            None => None,
        };
        Ok(crate::origin::ErrorWindow {
            status,
            from_ms,
            until_ms,
            cache_control: e.cache_control,
            cors: Flag::or(e.cors, false),
            body: Arc::from(
                e.body
                    .unwrap_or_else(|| format!("error {status}\n"))
                    .into_bytes(),
            ),
        })
    }

    fn headers(&self, h: Option<&S<raw::HeaderList>>) -> Result<Headers, InputError> {
        let mut out = Headers::new();
        if let Some(h) = h {
            for (n, v) in &h.value.0 {
                if !is_token(n) {
                    return Err(
                        self.err(&h.referenced, format!("{n:?} is not a valid header name"))
                    );
                }
                if v.contains(['\r', '\n']) {
                    return Err(self.err(
                        &h.referenced,
                        format!("the value of header {n:?} contains a line break"),
                    ));
                }
                out.append(n, v);
            }
        }
        Ok(out)
    }

    fn edge(&self, e: S<Mapping<RawEdge>>) -> Result<EdgeSpec, InputError> {
        let e = e.value.0;
        let name = match self.profile {
            Some(forced) => forced.to_string(),
            None => e
                .profile
                .as_ref()
                .map_or("rfc9111".to_string(), |p| p.value.clone()),
        };
        let imported = self.import(&e)?;
        let name = match &imported {
            Some(i) if self.profile.is_none() => i.profile.to_string(),
            _ => name,
        };
        let mut k = match (profile::profile(&name), &e.profile) {
            _ if imported.is_some() && self.profile.is_none() => {
                imported.map(|i| i.knobs).unwrap_or_else(Knobs::rfc9111)
            }
            (Some(p), _) => p.knobs,
            (None, _) if self.profile.is_some() => {
                return Err(unknown_profile_flag(&name));
            }
            (None, Some(p)) => {
                return Err(self.err(
                    &p.referenced,
                    format!(
                        "unknown profile {name:?}; expected one of: {}",
                        profile::PROFILE_NAMES.join(", ")
                    ),
                ));
            }
            (None, None) => Knobs::rfc9111(),
        };
        if let Some(v) = &e.vary {
            k.vary = knob(self, v)?;
        }
        if let Some(h) = &e.key_headers {
            k.key_headers = self
                .header_names(h, "key_headers")?
                .into_iter()
                .map(|s| s.to_ascii_lowercase())
                .collect();
        }
        if let Some(Flag(b)) = e.cache_options {
            k.cache_options = b;
        }
        if let Some(v) = &e.preflight_key {
            k.preflight_key = knob(self, v)?;
        }
        if let Some(q) = &e.query {
            k.query = match &q.value {
                StrOrList::One(v) if v == "all" => QueryKey::All,
                StrOrList::One(v) if v == "none" => QueryKey::None,
                StrOrList::One(v) => {
                    return Err(self.err(
                        &q.referenced,
                        format!("expected all, none or a list of parameter names, found {v:?}"),
                    ))
                }
                StrOrList::Many(l) => QueryKey::List(l.clone()),
            };
        }
        if let Some(m) = &e.max_variants {
            let hi = u64::try_from(usize::MAX).unwrap_or(u64::MAX);
            let n = self.whole(m, 1, hi, "max_variants must be a whole number, at least 1")?;
            k.max_variants = Some(usize::try_from(n).unwrap_or(usize::MAX));
        }
        if let Some(c) = &e.collapse {
            // YAML spells the two plain modes as booleans; the ids `on`/`off` are accepted too.
            k.collapse = match c.value.boolean() {
                "true" => Collapse::On,
                "false" => Collapse::Off,
                other => other.parse().map_err(|_| {
                    self.err(
                        &c.referenced,
                        format!("expected true, on, false, off or naive, found {other:?}"),
                    )
                })?,
            };
        }
        if let Some(t) = &e.ttl {
            self.ttl(t, &mut k)?;
        }
        if let Some(p) = &e.pops {
            let n = self.whole(p, 1, 1024, "pops must be a whole number between 1 and 1024")?;
            k.pops = u32::try_from(n).unwrap_or(1024);
        }
        if let Some(Flag(b)) = e.shield {
            k.shield = b;
        }
        if let Some(Flag(b)) = e.key_host {
            k.key_host = b;
        }
        if let Some(Flag(b)) = e.pass_cookie {
            k.pass_cookie = b;
        }
        if let Some(Flag(b)) = e.pass_authorization {
            k.pass_authorization = b;
        }
        if let Some(v) = &e.vary_star {
            k.vary_star = knob(self, v)?;
        }
        if let Some(v) = &e.vary_compare {
            k.vary_compare = knob(self, v)?;
        }
        self.forward_knobs(&e, &mut k)?;
        self.edge_cors(&e, &mut k)?;
        if let Some(Flag(b)) = e.key_head_apart {
            k.key_head_apart = b;
        }
        if let Some(Flag(b)) = e.stale_while_revalidate {
            k.stale_while_revalidate = b;
        }
        if let Some(g) = &e.grace {
            if let Some(d) = &g.value.default {
                k.grace.default = self.duration_secs(d)?;
            }
            if let Some(f) = &g.value.fixed {
                k.grace.fixed = Some(self.duration_secs(f)?);
            }
        }
        Ok(EdgeSpec {
            profile: name,
            knobs: k,
        })
    }

    /// `import: FILE`: the knobs of a CDN configuration (crate::import), resolved by the
    /// caller's loader; the block's other keys still apply on top.
    fn import(&self, e: &RawEdge) -> Result<Option<crate::import::Imported>, InputError> {
        let Some(path) = &e.import else {
            return Ok(None);
        };
        if e.profile.is_some() {
            return Err(self.err(
                &path.referenced,
                "give either `profile:` or `import:`, not both (the import names its profile)",
            ));
        }
        let Some(load) = self.loader else {
            return Err(self.err(
                &path.referenced,
                "`import:` needs the scenario to be read from a file by varyedge",
            ));
        };
        load(self.file, &path.value).map(Some).map_err(|mut err| {
            let at = self.err(&path.referenced, "");
            err.message = format!(
                "{} (imported at {}:{}:{})",
                err.message, at.file, at.line, at.col
            );
            err
        })
    }

    /// `ttl: { default, min, max }`: CloudFront refuses a policy with min above max, or a
    /// default outside them, and so does the scenario (at the `ttl:` mapping).
    fn ttl(&self, t: &S<Mapping<raw::RawTtl>>, k: &mut Knobs) -> Result<(), InputError> {
        let secs = |v: &Option<S<Scalar>>| match v {
            Some(d) => self.duration_secs(d).map(Some),
            None => Ok(None),
        };
        let (default, min, max) = (
            secs(&t.value.default)?,
            secs(&t.value.min)?,
            secs(&t.value.max)?,
        );
        let show = |s: u64| crate::time::human_duration(s.saturating_mul(1000));
        let wrong = match (default, min, max) {
            (_, Some(lo), Some(hi)) if lo > hi => Some(format!(
                "ttl: min ({}) is above max ({})",
                show(lo),
                show(hi)
            )),
            (Some(d), Some(lo), _) if d < lo => Some(format!(
                "ttl: default ({}) is below min ({})",
                show(d),
                show(lo)
            )),
            (Some(d), _, Some(hi)) if d > hi => Some(format!(
                "ttl: default ({}) is above max ({})",
                show(d),
                show(hi)
            )),
            _ => None,
        };
        if let Some(w) = wrong {
            return Err(self.err(
                &t.referenced,
                format!(
                    "{w}; expected min <= default <= max (CloudFront refuses such a cache policy)"
                ),
            ));
        }
        k.ttl.default = default.or(k.ttl.default);
        k.ttl.min = min.or(k.ttl.min);
        k.ttl.max = max.or(k.ttl.max);
        Ok(())
    }

    fn edge_cors(&self, e: &RawEdge, k: &mut Knobs) -> Result<(), InputError> {
        let Some(spanned) = &e.edge_cors else {
            return Ok(());
        };
        let c = &spanned.value;
        let max_age = match &c.max_age {
            Some(m) => Some(self.duration_secs(m)?),
            None => None,
        };
        let l = |v: &Option<S<StrOrList>>| v.as_ref().map(|x| self.list(x)).unwrap_or_default();
        // a pattern may hold commas (`{2,3}`): one string is one pattern
        let mut allow_origin_patterns = Vec::new();
        if let Some(p) = &c.allow_origin_patterns {
            let texts = match &p.value {
                StrOrList::One(v) => std::slice::from_ref(v),
                StrOrList::Many(v) => v.as_slice(),
            };
            for t in texts {
                let pattern = crate::edge::cors::OriginPattern::new(t).map_err(|e| {
                    self.err(
                        &p.referenced,
                        format!("allow_origin_patterns: {t:?} is not a regular expression: {e}"),
                    )
                })?;
                allow_origin_patterns.push(pattern);
            }
        }
        if c.allow_origins.is_none() && allow_origin_patterns.is_empty() {
            return Err(self.err(
                &spanned.referenced,
                "`edge_cors:` needs `allow_origins` (a list of origins, or [\"*\"]) or `allow_origin_patterns` (regular expressions)",
            ));
        }
        k.edge_cors = Some(crate::edge::cors::EdgeCors {
            allow_origins: l(&c.allow_origins),
            allow_origin_patterns,
            allow_methods: l(&c.allow_methods),
            allow_headers: l(&c.allow_headers),
            expose_headers: l(&c.expose_headers),
            allow_credentials: Flag::or(c.allow_credentials, false),
            max_age,
            origin_override: Flag::or(c.origin_override, false),
            hide_origin_acao: Flag::or(c.hide_origin_acao, false),
        });
        Ok(())
    }

    /// `forward_headers: all | key | [names]`, `forward_strip: [names]`,
    /// `forward_add: { name: value }` (edge::forward).
    fn forward_knobs(&self, e: &RawEdge, k: &mut Knobs) -> Result<(), InputError> {
        use crate::edge::forward::ForwardHeaders;
        if let Some(f) = &e.forward_headers {
            k.forward.headers = match &f.value {
                StrOrList::One(v) if v == "all" => ForwardHeaders::All,
                StrOrList::One(v) if v == "key" => ForwardHeaders::Key,
                StrOrList::One(v) => {
                    return Err(self.err(
                        &f.referenced,
                        format!("expected all, key or a list of header names, found {v:?}"),
                    ))
                }
                StrOrList::Many(l) => ForwardHeaders::List(self.header_list(f, l)?),
            };
        }
        if let Some(f) = &e.forward_strip {
            k.forward.strip = self.header_list(f, &self.list(f))?;
        }
        if let Some(a) = &e.forward_add {
            let h = self.headers(Some(a))?;
            k.forward.add = h
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
        }
        Ok(())
    }

    fn header_list<T>(&self, at: &S<T>, l: &[String]) -> Result<Vec<String>, InputError> {
        l.iter()
            .map(|n| {
                if is_token(n) {
                    Ok(n.to_ascii_lowercase())
                } else {
                    Err(self.err(&at.referenced, format!("{n:?} is not a valid header name")))
                }
            })
            .collect()
    }

    fn clients(
        &self,
        raw: Option<S<Vec<S<raw::RawClient>>>>,
        knobs: &Knobs,
    ) -> Result<Vec<Client>, InputError> {
        let Some(list) = raw else {
            return Err(self.missing("clients", "a list of { name, origin, browser }"));
        };
        let mut out: Vec<Client> = Vec::new();
        // Names seen so far (a set: a generated trace has thousands of clients).
        let mut names: std::collections::HashSet<String> = std::collections::HashSet::new();
        for c in list.value {
            let c = c.value;
            if !names.insert(c.name.value.clone()) {
                return Err(self.err(
                    &c.name.referenced,
                    format!("client {:?} is defined twice", c.name.value),
                ));
            }
            let agent = match &c.browser {
                None => Agent::Chrome,
                Some(b) => pick(
                    self,
                    b,
                    &[
                        ("chrome", Agent::Chrome),
                        ("firefox", Agent::Firefox),
                        ("safari", Agent::Safari),
                        ("none", Agent::None),
                    ],
                )?,
            };
            let origin = match (&c.origin, agent) {
                (Some(o), _) => {
                    validate_origin(&o.value).map_err(|m| self.err(&o.referenced, m))?;
                    o.value.clone()
                }
                (None, Agent::None) => String::new(),
                (None, _) => return Err(self.err(&c.name.referenced, format!("client {:?} needs an `origin:` (the page's origin, e.g. https://app.example.com)", c.name.value))),
            };
            let mode = match &c.mode {
                None => Mode::Cors,
                Some(m) => pick(self, m, &[("cors", Mode::Cors), ("no-cors", Mode::NoCors)])?,
            };
            let pop = match &c.pop {
                Some(p) => {
                    let n = self.whole(
                        p,
                        0,
                        u64::from(u32::MAX),
                        "pop must be a POP's number (a whole number from 0)",
                    )?;
                    if n >= u64::from(knobs.pops) {
                        return Err(self.err(
                            &p.referenced,
                            format!(
                                "pop {n} does not exist: the edge has {} POP(s), numbered from 0",
                                knobs.pops
                            ),
                        ));
                    }
                    Some(u32::try_from(n).unwrap_or(u32::MAX))
                }
                None => None,
            };
            let user = c.user.map_or_else(|| c.name.value.clone(), |u| u.value);
            out.push(Client {
                name: c.name.value,
                origin,
                agent,
                mode,
                cookie: self
                    .field_value(c.cookie.as_ref(), "cookie")?
                    .unwrap_or_else(|| "session=1".to_string()),
                pop,
                private_network: Flag::or(c.private_network, false),
                headers: self.headers(c.headers.as_ref())?,
                user,
                http_cache: Flag::or(c.http_cache, false),
            });
        }
        if out.is_empty() {
            return Err(self.err(
                &list.referenced,
                "`clients:` is empty; define at least one client",
            ));
        }
        Ok(out)
    }

    fn steps(
        &self,
        raw: Option<StepsIn<'_>>,
        clients: &[Client],
        scheme: &str,
        host: &str,
    ) -> Result<Vec<Step>, InputError> {
        let Some((list_at, list)) = raw else {
            return Err(self.missing("steps", "a list of { client, fetch }"));
        };
        if list.is_empty() {
            return Err(self.err_at(
                list_at,
                "`steps:` is empty; expected at least one step ({ client, fetch })",
            ));
        }
        let count = list.len();
        let mut out = Vec::new();
        let mut now = 0u64;
        // Client names are unique (checked above); a map keeps the lookup constant for
        // traces with thousands of clients.
        let mut by_name: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::with_capacity(clients.len());
        for (i, c) in clients.iter().enumerate() {
            by_name.entry(c.name.as_str()).or_insert(i);
        }
        for (index, s) in list.into_iter().enumerate() {
            let line = s.line;
            if let Some(at) = &s.at {
                let text = at.value.trim();
                let (rel, body) = match text.strip_prefix('+') {
                    Some(b) => (true, b),
                    None => (false, text),
                };
                let ms = duration_ms(body).map_err(|m| {
                    let m = if m.starts_with("expected") {
                        format!("expected `+5s` (after the previous step) or `90s` (from the start), found {text:?}")
                    } else {
                        m.replace(&format!("{body:?}"), &format!("{text:?}"))
                    };
                    self.err_at(at.at, m)
                })?;
                let t = if rel { now.saturating_add(ms) } else { ms };
                if t > MAX_STEP_MS {
                    return Err(self.err_at(
                        at.at,
                        format!("step time too large: {text} puts this step more than {MAX_DURATION} after the start"),
                    ));
                }
                if t < now {
                    return Err(self.err_at(
                        at.at,
                        format!(
                            "step time {} is before the previous step ({}): steps run in file order; write `+DURATION` for a time after it",
                            crate::time::human_duration(t),
                            crate::time::human_duration(now)
                        ),
                    ));
                }
                now = t;
            }
            let client = by_name.get(&*s.client.value).copied().ok_or_else(|| {
                self.err_at(
                    s.client.at,
                    format!(
                        "unknown client {:?}; defined: {}",
                        s.client.value,
                        clients
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            let (method, url) = s
                .fetch
                .value
                .trim()
                .split_once(char::is_whitespace)
                .ok_or_else(|| {
                    self.err_at(
                        s.fetch.at,
                        format!(
                            "expected `METHOD /path` such as `GET /api/data`, found {:?}",
                            s.fetch.value
                        ),
                    )
                })?;
            let method = method.to_string();
            // Any token is a method (RFC 9110 §9.1); the browser normalises the six
            // well-known ones to upper case and sends any other as written, so `patch`
            // stays `patch` (Fetch §2.2.1 "normalize a method").
            if !is_token(&method) {
                return Err(self.err_at(
                    s.fetch.at,
                    format!(
                        "expected a method (an HTTP token such as GET or PATCH), found {method:?}"
                    ),
                ));
            }
            let url = url.trim();
            let (st_scheme, st_host, target) = if let Some((sch, rest)) = url.split_once("://") {
                let (h, t) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
                // The URL parser lower-cases the scheme and the host and drops the
                // scheme's default port (WHATWG URL Standard, "scheme state" and "port
                // state"): `HTTPS://API.example.com:443/x` is the URL the browser
                // fetches, keys and sends `Host: api.example.com` for as `https://api.example.com/x`.
                let sch = sch.to_ascii_lowercase();
                if (sch != "http" && sch != "https") || h.is_empty() {
                    return Err(self.err_at(
                        s.fetch.at,
                        format!("expected an http(s) URL or a path, found {url:?}"),
                    ));
                }
                (
                    sch.clone(),
                    without_default_port(&sch, &h.to_ascii_lowercase()),
                    if t.starts_with('/') {
                        t.to_string()
                    } else {
                        format!("/{t}")
                    },
                )
            } else if url.starts_with('/') {
                (scheme.to_string(), host.to_string(), url.to_string())
            } else {
                return Err(self.err_at(
                    s.fetch.at,
                    format!("expected a path starting with / or a full URL, found {url:?}"),
                ));
            };
            if target.contains(char::is_whitespace) {
                return Err(self.err_at(
                    s.fetch.at,
                    "the path contains whitespace; percent-encode it",
                ));
            }
            // as the browser's URL parser sends it: dot segments resolved, the fragment
            // dropped, the bytes the URL Standard escapes escaped
            let target = crate::browser::url::normalize_target(&target);
            let credentials = match &s.credentials {
                None => Credentials::SameOrigin,
                Some(c) => pick_at(
                    self,
                    &c.value,
                    c.at,
                    &[
                        ("omit", Credentials::Omit),
                        ("same-origin", Credentials::SameOrigin),
                        ("include", Credentials::Include),
                    ],
                )?,
            };
            let mode = match &s.mode {
                None => clients[client].mode,
                Some(m) => pick_at(
                    self,
                    &m.value,
                    m.at,
                    &[("cors", Mode::Cors), ("no-cors", Mode::NoCors)],
                )?,
            };
            let redirect = match &s.redirect {
                None => RedirectMode::Follow,
                Some(r) => pick_at(
                    self,
                    &r.value,
                    r.at,
                    &[
                        ("follow", RedirectMode::Follow),
                        ("error", RedirectMode::Error),
                        ("manual", RedirectMode::Manual),
                    ],
                )?,
            };
            let expect = match s.expect {
                None => Expect::default(),
                Some(e) => self.expect(e.value.0, index, count)?,
            };
            out.push(Step {
                at_ms: now,
                client,
                method,
                scheme: st_scheme,
                host: st_host,
                target,
                headers: self.headers(s.headers.as_deref())?,
                credentials,
                mode,
                redirect,
                expect,
                line,
            });
        }
        Ok(out)
    }

    /// The `expect:` of step `index` of `count`.
    fn expect(&self, e: raw::RawExpect, index: usize, count: usize) -> Result<Expect, InputError> {
        let x = Expect {
            cors_ok: match &e.cors {
                None => None,
                Some(c) => Some(pick(self, c, &[("ok", true), ("blocked", false)])?),
            },
            reason: match &e.reason {
                None => None,
                Some(r) => Some(Reason::from_id(&r.value).ok_or_else(|| {
                    self.err(
                        &r.referenced,
                        format!(
                            "unknown reason {:?}; expected one of: {}",
                            r.value,
                            Reason::ALL
                                .iter()
                                .map(|r| r.id())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?),
            },
            cache: match &e.cache {
                None => None,
                Some(c) => Some(Outcome::from_id(&c.value).ok_or_else(|| {
                    self.err(
                        &c.referenced,
                        format!(
                            "expected hit, miss, stale, pass, collapsed or none, found {:?}",
                            c.value
                        ),
                    )
                })?),
            },
            cache_induced: e.cache_induced.map(|f| f.0),
            preflight: match &e.preflight {
                None => None,
                Some(p) => Some(pick(self, p, &PreflightUse::ALL.map(|u| (u.id(), u)))?),
            },
            poisoned_by: match &e.poisoned_by {
                None => None,
                Some(p) => Some(self.poisoned_by(p, index, count)?),
            },
            status: match &e.status {
                None => None,
                // 0 is what a page sees of an opaque redirect or a failed fetch
                Some(s) => Some(self.status(s, 0, 599, "an HTTP status")?),
            },
            served_by: match &e.served_by {
                None => None,
                Some(c) => Some(pick(self, c, &ServedBy::ALL.map(|b| (b.id(), b)))?),
            },
        };
        // `reason: ok` is the verdict of an allowed fetch, every other reason a blocked one.
        if let (Some(ok), Some(reason), Some(r)) = (x.cors_ok, x.reason, &e.reason) {
            if ok != (reason == Reason::Ok) {
                let cors = if ok { "ok" } else { "blocked" };
                let expected = if ok {
                    "reason: ok (or leave reason out)"
                } else {
                    "a reason that blocks, such as origin-mismatch"
                };
                return Err(self.err(
                    &r.referenced,
                    format!(
                        "reason {} contradicts cors: {cors}; with cors: {cors}, expected {expected}",
                        reason.id()
                    ),
                ));
            }
        }
        // A step poisoned by an earlier one is cache-induced (PRODUCT.md: `poisoned_by` is
        // absent when not cache-induced), so the pair could never be met.
        if let (Some(false), Some(_), Some(p)) = (x.cache_induced, x.poisoned_by, &e.poisoned_by) {
            return Err(self.err(
                &p.referenced,
                "poisoned_by contradicts cache_induced: false; a step served another step's stored answer is cache-induced: expected cache_induced: true (or leave it out), or no poisoned_by",
            ));
        }
        Ok(x)
    }

    /// `poisoned_by: N` on step `index` of `count`: a step before this one.
    fn poisoned_by(&self, p: &S<Scalar>, index: usize, count: usize) -> Result<usize, InputError> {
        let n = self.whole(
            p,
            0,
            u64::MAX,
            "poisoned_by is a step number (a whole number, steps counted from 0)",
        )?;
        let plural = if count == 1 { "step" } else { "steps" };
        let range = match count {
            1 => "(0)".to_string(),
            _ => format!("(0 to {})", count - 1),
        };
        let n_steps = usize::try_from(n).unwrap_or(usize::MAX);
        if n_steps >= count {
            return Err(self.err(
                &p.referenced,
                format!(
                    "poisoned_by names step {n}, but the scenario has {count} {plural} {range}"
                ),
            ));
        }
        if n_steps >= index {
            let expected = match index {
                0 => "step 0 has no earlier step, so leave poisoned_by out".to_string(),
                1 => "expected step 0".to_string(),
                _ => format!("expected one of steps 0 to {}", index - 1),
            };
            return Err(self.err(
                &p.referenced,
                format!(
                    "poisoned_by names step {n}, but this is step {index}: a step is poisoned by an earlier one, whose stored answer it was served; {expected}"
                ),
            ));
        }
        Ok(n_steps)
    }
}

/// The largest duration a scenario may give: 10^15 ms (crate::time's limit), about
/// 31,700 years, written in days.
const MAX_DURATION: &str = "11574074d";

/// A duration as the scenario format writes it (`5s`, `1h30m`, `600`), in milliseconds;
/// otherwise what was expected, quoting `text` as written: a well-formed duration over
/// the limit is told as too large, not as malformed.
fn duration_ms(text: &str) -> Result<u64, String> {
    if let Some(ms) = parse_duration_ms(text) {
        return Ok(ms);
    }
    if well_formed_duration(text) {
        return Err(format!(
            "duration too large (at most {MAX_DURATION}, about 31,700 years), found {text:?}"
        ));
    }
    Err(format!(
        "expected a duration such as 5s, 250ms, 10m, 1h30m or 1d, found {text:?}"
    ))
}

/// Whether `text` has a duration's form (numbers, each with a unit from the largest
/// down) whatever its size: the same text with every number made 0 is a duration.
fn well_formed_duration(text: &str) -> bool {
    let mut zeroed = String::with_capacity(text.len());
    let mut rest = text.trim();
    while let Some(i) = rest.find(|c: char| c.is_ascii_digit() || c == '.') {
        zeroed.push_str(&rest[..i]);
        let tail = &rest[i..];
        let n = tail
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(tail.len());
        if tail[..n].parse::<f64>().is_err() {
            return false;
        }
        zeroed.push('0');
        rest = &tail[n..];
    }
    zeroed.push_str(rest);
    parse_duration_ms(&zeroed).is_some()
}

/// The latest time a step may have, in ms from the start: [`MAX_DURATION`].
const MAX_STEP_MS: u64 = 11_574_074 * 86_400_000;

/// The error written first in the file. One about the whole file (a missing key, at
/// 1:1, or a flag, at no position) comes after every located one.
fn earliest(errors: impl Iterator<Item = InputError>) -> Option<InputError> {
    errors.min_by_key(|e| {
        if e.line == 0 || e.message.starts_with("missing ") {
            (u64::MAX, u64::MAX)
        } else {
            (e.line, e.col)
        }
    })
}

/// `--profile NAME` names no built-in profile.
fn unknown_profile_flag(name: &str) -> InputError {
    InputError::at(
        "varyedge",
        0,
        0,
        format!(
            "--profile: unknown profile {name:?}; expected one of {}",
            profile::PROFILE_NAMES.join(", ")
        ),
    )
}

fn pick<T: Copy>(v: &Validator<'_>, s: &S<String>, options: &[(&str, T)]) -> Result<T, InputError> {
    pick_at(v, s.value.as_str(), Pos::from(&s.referenced), options)
}

/// [`pick`] for a value `s` written at `at`.
fn pick_at<T: Copy>(
    v: &Validator<'_>,
    s: &str,
    at: Pos,
    options: &[(&str, T)],
) -> Result<T, InputError> {
    options
        .iter()
        .find(|(n, _)| *n == s)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            v.err_at(
                at,
                format!(
                    "expected one of {}, found {:?}",
                    options
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", "),
                    s
                ),
            )
        })
}

/// A knob value by its id (`VaryMode`, `VaryStar`, …), with the knob's own error.
fn knob<T: FromStr<Err = UnknownKnobValue>>(
    v: &Validator<'_>,
    s: &S<String>,
) -> Result<T, InputError> {
    s.value
        .parse()
        .map_err(|e: UnknownKnobValue| v.err(&s.referenced, e.to_string()))
}

/// `host[:port]` without the port when it is `scheme`'s default (or empty), as the URL
/// parser stores it: `api.example.com:443` under https is `api.example.com`.
fn without_default_port(scheme: &str, host: &str) -> String {
    let default = if scheme == "https" { "443" } else { "80" };
    // an IPv6 literal's colons are inside its brackets; the port follows the last `]`
    let after = host.rfind(']').map_or(0, |i| i + 1);
    match host[after..].rfind(':').map(|i| after + i) {
        Some(i) if host[i + 1..] == *default || host[i + 1..].is_empty() => host[..i].to_string(),
        _ => host.to_string(),
    }
}

/// Checks that `o` is a serialised origin: `scheme://host[:port]`, nothing after.
/// `null` is accepted (sandboxed iframes, `file:` pages send it).
pub fn validate_origin(o: &str) -> Result<(), String> {
    if o == "null" {
        return Ok(());
    }
    let Some((scheme, rest)) = o.split_once("://") else {
        return Err(format!(
            "expected an origin such as https://app.example.com, found {o:?}"
        ));
    };
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
    {
        return Err(format!("{o:?}: the scheme must be lowercase, e.g. https"));
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err(format!("{o:?} is not an origin: an origin has no path, query or trailing slash (a browser sends `{scheme}://{}`)", rest.split('/').next().unwrap_or("")));
    }
    Ok(())
}

fn stem(file: &str) -> String {
    let base = file.rsplit('/').next().unwrap_or(file);
    base.strip_suffix(".yaml")
        .or_else(|| base.strip_suffix(".yml"))
        .unwrap_or(base)
        .to_string()
}

#[cfg(test)]
mod input_tests;
#[cfg(test)]
mod tests;

/// The PRODUCT.md example and the bundled scenario files, for tests across modules.
#[cfg(test)]
pub(crate) mod tests_support {
    pub(crate) use super::tests::PRODUCT_EXAMPLE;

    /// The `.yaml` files in the repository's `scenarios/` folder, or in `scenarios/sub`
    /// (`sub` not empty), sorted.
    pub(crate) fn bundled_files(sub: &str) -> Vec<std::path::PathBuf> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(sub);
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        files
    }
}
