//! `varyedge lint`: CORS policy and edge-cache misconfigurations, found two ways.
//!
//! - [`check`] reads a scenario: its origin policy, its clients and its edge. Rules are
//!   data ([`RULES`]) and pure functions over [`Scenario`]; whether a missing `Vary` will
//!   actually poison *this* edge is decided by running the simulator on a small generated
//!   session ([`poison`]), not by hand. Lint sits beside the simulator, not above it, so
//!   the caller hands the simulator in as a [`Replayer`]: `varyedge lint` passes the same
//!   entry point `varyedge matrix` builds its rows with, so the two cannot disagree.
//! - [`probe::plan`] and [`probe::analyse`] are the pure halves of a live probe of a real
//!   server (the `net` driver sends the planned requests in between): crafted `Origin`s
//!   derived from the trusted ones, with and without credentials, GET and preflight.
//!
//! Every [`Finding`] carries a stable kebab-case id, a [`Severity`], the evidence, why it
//! matters and the fix. Renderers: `report::lint` (text, JSON) and `report::sarif` (SARIF 2.1.0).

pub mod poison;
pub mod probe;
mod rules;

pub use rules::{check, static_rule_ids};

use crate::edge::knobs::Knobs;
use crate::flow::Trace;
use crate::origin::OriginModel;
use crate::scenario::Scenario;
use serde::Serialize;

/// How lint runs a scenario through an edge: the simulator, handed in by the caller (lint
/// does not drive it itself). `varyedge lint` and `varyedge matrix` use one implementation.
pub trait Replayer {
    /// `sc`'s steps on a cold edge with `knobs`, its origin answered by `origin`.
    fn replay(&self, sc: &Scenario, knobs: &Knobs, origin: &OriginModel) -> Trace;
    /// The edges `matrix` compares, in its order: each built-in profile's name and its
    /// knobs with the scenario's own knob overrides on top (what `--profile NAME` gives).
    fn profiles(&self, sc: &Scenario) -> Vec<(String, Knobs)>;
    /// Whether [`Replayer::replay`]'s trace has a cache-induced step; an implementation
    /// may answer without building the trace.
    fn any_cache_induced(&self, sc: &Scenario, knobs: &Knobs, origin: &OriginModel) -> bool {
        self.replay(sc, knobs, origin).summary.cache_induced > 0
    }
    /// [`Replayer::any_cache_induced`] under each of `edges`, in their order; an
    /// implementation may run them side by side.
    fn any_cache_induced_each(
        &self,
        sc: &Scenario,
        edges: &[(String, Knobs)],
        origin: &OriginModel,
    ) -> Vec<bool> {
        edges
            .iter()
            .map(|(_, knobs)| self.any_cache_induced(sc, knobs, origin))
            .collect()
    }
}

/// Where a profile a finding names as poisoning stands in `varyedge matrix` on the same
/// file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileMark {
    /// The built-in profile.
    pub profile: String,
    /// `fails`: the file's own steps have a cache-induced failure there (matrix shows it);
    /// `latent`: only the generated session poisons (matrix shows the row clean and says
    /// so in its `latent` note).
    pub matrix: &'static str,
    /// The generated session that poisons, described.
    pub session: String,
}

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Worth knowing; nothing breaks.
    Info,
    /// A latent problem or a small one.
    Low,
    /// Breaks some users, or weakens security a little.
    Medium,
    /// Breaks users intermittently (cache poisoning) or exposes data to a narrow attacker.
    High,
    /// Any web site can read responses as the logged-in user.
    Critical,
}

impl Severity {
    /// Every severity, least to most severe.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The stable id (`critical`, `high`, …).
    pub fn id(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a stable id.
    pub fn from_id(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.id() == s)
    }
}

/// Where a finding points: a scenario file position, or a probed URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The scenario file, or the URL probed.
    pub uri: String,
    /// 1-based line in the file (absent for a URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based column in the file (absent for a URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub col: Option<u64>,
}

impl Location {
    /// A position in a file.
    pub fn file(file: &str, line: u64, col: u64) -> Location {
        Location {
            uri: file.to_string(),
            line: Some(line.max(1)),
            col: Some(col.max(1)),
        }
    }

    /// A probed URL.
    pub fn url(url: &str) -> Location {
        Location {
            uri: url.to_string(),
            line: None,
            col: None,
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.col) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}", self.uri),
            _ => f.write_str(&self.uri),
        }
    }
}

/// One problem found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable kebab-case rule id (`reflect-any-origin`, …), an entry of [`RULES`].
    pub id: &'static str,
    /// Severity for this occurrence (a rule's default, raised or lowered by context).
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// What was seen: the configuration, the simulated session, the probe's request and answer.
    pub evidence: String,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix it.
    pub fix: &'static str,
    /// Where.
    pub location: Location,
    /// For a finding decided by simulation: each built-in profile where the generated
    /// session poisons, and whether `matrix` on the same file shows it failing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<ProfileMark>,
}

/// A lint rule: its stable id and its fixed text. Findings take `why` and `fix` from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable kebab-case id.
    pub id: &'static str,
    /// The usual severity (a finding may differ, e.g. `critical` when credentials are allowed).
    pub severity: Severity,
    /// Short title.
    pub title: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix it.
    pub fix: &'static str,
}

/// Every rule, in a stable order (SARIF `ruleIndex` refers to it).
pub const RULES: &[Rule] = &[
    Rule {
        id: "reflect-any-origin",
        severity: Severity::Medium,
        title: "Any Origin is reflected in Access-Control-Allow-Origin",
        why: "Every web site can read the API's responses from a visitor's browser. With Access-Control-Allow-Credentials: true it reads them as the logged-in visitor, cookies included: the same-origin policy is switched off for this API.",
        fix: "Compare the request's Origin byte for byte with an allowlist of serialised origins (scheme://host[:port]) and echo it only on a match; otherwise send no Access-Control-Allow-Origin.",
    },
    Rule {
        id: "suffix-match-allowlist",
        severity: Severity::High,
        title: "The origin allowlist matches by suffix (an endsWith check)",
        why: "An attacker registers a domain that ends with the trusted one (https://evil-example.com ends with example.com) and is trusted like the real site.",
        fix: "Compare whole serialised origins. To trust sub-domains, parse the origin, require the https scheme, and require the host to equal the domain or to end with \".\" followed by it.",
    },
    Rule {
        id: "prefix-match-allowlist",
        severity: Severity::High,
        title: "The origin allowlist matches by prefix (a startsWith check or an unanchored pattern)",
        why: "https://app.example.com.evil.test starts with https://app.example.com and belongs to whoever owns evil.test.",
        fix: "Compare whole origins, or anchor every pattern at both ends (^…$).",
    },
    Rule {
        id: "regex-unescaped-dot",
        severity: Severity::High,
        title: "An allowlist pattern has an unescaped dot",
        why: "In a regular expression `.` matches any character: ^https://app.example.com$ also accepts https://appxexample.com, a domain anyone can register.",
        fix: "Escape every dot (\\.) in origin patterns, or compare strings exactly.",
    },
    Rule {
        id: "null-origin-allowed",
        severity: Severity::High,
        title: "The `null` origin is allowed",
        why: "Sandboxed iframes, data: URLs, file: pages and some redirects send `Origin: null`; any site can produce it with <iframe sandbox>, so trusting `null` trusts everyone.",
        fix: "Remove `null` from the allowlist.",
    },
    Rule {
        id: "wildcard-with-credentials",
        severity: Severity::Medium,
        title: "`Access-Control-Allow-Origin: *` together with credentials",
        why: "The Fetch CORS check rejects `*` on a request whose credentials mode is include, so every credentialed fetch fails. The usual quick fix, reflecting the Origin, is the critical bug.",
        fix: "When credentials are needed, echo an allowlisted origin and send `Vary: Origin`; otherwise drop Access-Control-Allow-Credentials.",
    },
    Rule {
        id: "unmatchable-allowlist-entry",
        severity: Severity::Medium,
        title: "An allowlist entry can never match a browser's Origin",
        why: "Browsers send the serialised origin: a lowercase scheme and host, a port only when it is not the default, no path and no trailing slash. An entry written otherwise never equals it, so that site is blocked.",
        fix: "Write the entry as the browser sends it, e.g. https://app.example.com.",
    },
    Rule {
        id: "http-origin-trusted",
        severity: Severity::Medium,
        title: "An http:// origin is trusted beside https:// ones",
        why: "A page served over plain HTTP can be rewritten by anyone on the network path, who then reads with the trust given to the HTTPS site.",
        fix: "Trust only https:// origins in production; keep http://localhost for development configurations.",
    },
    Rule {
        id: "subdomain-trusted",
        severity: Severity::Low,
        title: "Every sub-domain of a trusted origin is trusted",
        why: "One forgotten sub-domain (a dangling DNS record taken over) or one XSS on any of them is enough to read the API.",
        fix: "List the sub-domains that need access instead of matching all of them.",
    },
    Rule {
        id: "missing-vary-origin",
        severity: Severity::High,
        title: "Access-Control-Allow-Origin depends on Origin but the response lacks `Vary: Origin`",
        why: "A shared cache stores one answer per URL: the answer for one origin (or for a request without Origin, or for a refused origin) is served to the next caller, whose browser blocks it. It fails intermittently, depending on who came first (Fetch, \"CORS protocol and HTTP caches\").",
        fix: "Send `Vary: Origin` on every response whose Access-Control-Allow-Origin could differ by Origin, including answers to requests without Origin and to refused origins.",
    },
    Rule {
        id: "edge-ignores-vary-origin",
        severity: Severity::High,
        title: "The edge serves one origin's response to another despite `Vary: Origin`",
        why: "The origin does its part, but this edge builds its key without Origin and does not honour Vary (CloudFront's CachingOptimized, a URL-only cache): the first caller's Access-Control-Allow-Origin is served to everyone until the entry expires.",
        fix: "Put Origin in the edge's cache key (CloudFront: a cache policy that includes the Origin header), or make origin-dependent responses uncacheable at the edge.",
    },
    Rule {
        id: "origin-not-forwarded",
        severity: Severity::High,
        title: "The origin never sees the request's Origin",
        why: "The edge forwards only what is in its cache key (CloudFront with a cache policy and no origin request policy: \"HeaderBehavior none – no HTTP headers are included in the cache key or in requests that CloudFront sends to the origin\"), so a reflecting origin never sees Origin and answers without Access-Control-Allow-Origin: every CORS request fails.",
        fix: "Key Origin in the cache policy (it is then forwarded too), or attach an origin request policy that forwards it (CORS-CustomOrigin, CORS-S3Origin, AllViewer) — alone, that forwards without keying, so also key it or send `Vary` the edge honours.",
    },
    Rule {
        id: "missing-preflight-vary",
        severity: Severity::High,
        title: "The preflight answer depends on the request but lacks the matching `Vary`",
        why: "A cache that stores OPTIONS serves one origin's (or one header set's) preflight answer to another; the browser then blocks the actual request although the origin would allow it.",
        fix: "Send `Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers` on preflight answers, or `Cache-Control: no-store` on them.",
    },
    Rule {
        id: "options-cached-unkeyed",
        severity: Severity::High,
        title: "The edge caches preflights without keying on Origin and the Access-Control-Request-* headers",
        why: "The edge replays one caller's preflight answer to callers with another Origin or other requested headers; `Vary` on the preflight does not help when the edge ignores it.",
        fix: "Put Origin, Access-Control-Request-Method and Access-Control-Request-Headers in the OPTIONS cache key (CloudFront: the cache policy's headers), or do not cache OPTIONS: browsers already cache preflights themselves.",
    },
    Rule {
        id: "max-age-above-cap",
        severity: Severity::Low,
        title: "Access-Control-Max-Age is above a browser's cap",
        why: "Browsers clamp it silently (Chrome 7200 s, Firefox 86400 s, Safari 600 s): the value promises preflight caching that does not happen, and hides how often preflights are really sent.",
        fix: "Use at most 7200 (600 if Safari matters); the browser caps it anyway.",
    },
    Rule {
        id: "no-options-handler",
        severity: Severity::High,
        title: "Preflight (OPTIONS) requests are not answered",
        why: "A request with a non-safelisted method, header or content type makes the browser send OPTIONS first; an answer that is not 2xx with CORS headers blocks the actual request.",
        fix: "Answer OPTIONS on CORS routes with 204 and the Access-Control-Allow-* headers (mount the CORS middleware before routing and method checks).",
    },
    Rule {
        id: "preflight-bad-status",
        severity: Severity::Medium,
        title: "Preflights are answered with a status outside 200-299",
        why: "The Fetch CORS-preflight fetch requires an ok status; anything else blocks the actual request even with every Access-Control-Allow-* header present.",
        fix: "Answer preflights with 204 (or 200).",
    },
    Rule {
        id: "header-not-allowed",
        severity: Severity::Medium,
        title: "A header the clients send is not allowed by the preflight answer",
        why: "Every request carrying it fails its preflight with header-not-allowed.",
        fix: "Add the header to Access-Control-Allow-Headers (authorization must always be listed by name; `*` does not cover it).",
    },
    Rule {
        id: "method-not-allowed",
        severity: Severity::Medium,
        title: "A method the clients use is not allowed by the preflight answer",
        why: "Every request with it fails its preflight with method-not-allowed.",
        fix: "Add the method to Access-Control-Allow-Methods (listed byte for byte, uppercase).",
    },
    Rule {
        id: "pna-not-answered",
        severity: Severity::Medium,
        title: "Private Network Access preflights are not answered",
        why: "A page on a public address calling this more private API sends `Access-Control-Request-Private-Network: true` on its preflight; without `Access-Control-Allow-Private-Network: true` in the answer, Chromium blocks the request.",
        fix: "Answer such preflights with `Access-Control-Allow-Private-Network: true` (for the allowlisted origins only).",
    },
    Rule {
        id: "client-blocked",
        severity: Severity::Medium,
        title: "A scenario client is blocked by the policy itself, with no cache involved",
        why: "The origin's own answer fails the browser's CORS check for this client: a plain misconfiguration, not a cache problem.",
        fix: "Allow the client's origin (or credentials) in the policy, or stop calling the API from that page.",
    },
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

impl Finding {
    /// A finding of rule `id` with the rule's title, `why` and `fix`. `id` must name an
    /// entry of [`RULES`]; an unknown id yields a finding with empty texts (a programming
    /// error a unit test catches, not a panic).
    pub fn new(
        id: &'static str,
        severity: Severity,
        evidence: String,
        location: Location,
    ) -> Finding {
        let r = rule(id);
        Finding {
            id,
            severity,
            title: r.map_or_else(String::new, |r| r.title.to_string()),
            evidence,
            why: r.map_or("", |r| r.why),
            fix: r.map_or("", |r| r.fix),
            location,
            profiles: Vec::new(),
        }
    }

    /// Names the profiles where the simulated session poisons.
    pub fn with_profiles(mut self, profiles: Vec<ProfileMark>) -> Finding {
        self.profiles = profiles;
        self
    }

    /// Replaces the title (a more specific one for this occurrence).
    pub fn titled(mut self, title: impl Into<String>) -> Finding {
        self.title = title.into();
        self
    }
}

/// Sorts findings most severe first, then by rule order and location, for stable output.
pub fn sort(findings: &mut [Finding]) {
    let order = |id: &str| RULES.iter().position(|r| r.id == id).unwrap_or(usize::MAX);
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(order(a.id).cmp(&order(b.id)))
            .then(a.location.line.cmp(&b.location.line))
            .then(a.location.uri.cmp(&b.location.uri))
    });
}

/// Whether any finding is at or above `threshold` (the `--fail-on` test).
pub fn fails(findings: &[Finding], threshold: Severity) -> bool {
    findings.iter().any(|f| f.severity >= threshold)
}
