//! The fix advisor: for a scenario whose edge causes CORS failures, the candidate changes
//! that apply to its origin and edge, each with a proof (the scenario replayed with the
//! change applied, and an explore run), a cost (hit ratio, forwarded requests, stored
//! variants and bytes, before and after) and the change itself, ready to paste.
//!
//! A *failure* here is what the edge causes: a cache-induced step (blocked, or allowed
//! only because of the cache — PRODUCT.md "The key definition"). Failures the origin
//! causes alone (a missing allowlist entry, `*` with credentials) keep their one-line hint
//! (`flow::fix_hint`); no cache change fixes them.

mod edge_cors;
pub mod paste;
pub mod proof;

use crate::browser::{Agent, Credentials};
use crate::origin::{AllowOrigins, CorsPolicy, OriginModel, VaryOrigin};
use crate::profile::PreflightKey;
use crate::scenario::{OriginSpec, Scenario};
pub use proof::{advise, advise_with, Advice, Candidate, Cost, FixError, Proof};
use serde::Serialize;

/// One candidate change (serialised as its [`FixKind::id`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FixKind {
    /// The origin sends `Vary: Origin` on every response and `Vary: Origin,
    /// Access-Control-Request-Method, Access-Control-Request-Headers` on preflights.
    OriginVary,
    /// The origin answers `Access-Control-Allow-Origin: *` (no step sends credentials, and
    /// every client's origin is already allowed, so nothing new is opened).
    AllowAny,
    /// The edge keys on `Origin` (and the `Access-Control-Request-*` headers of preflights).
    EdgeKeyOrigin,
    /// The edge stops storing `OPTIONS` answers.
    NoOptionsCache,
    /// Error answers (routes with status ≥ 400, failing preflights) carry `no-store`.
    ErrorsNoStore,
    /// The edge writes the CORS fields itself, per viewer, after the cache, replacing the
    /// origin's (CloudFront response headers policy with `OriginOverride`, VCL
    /// `vcl_deliver`): a stored response never carries another caller's value.
    EdgeCors,
}

impl FixKind {
    /// Every candidate, in a fixed order (the tie-break of the ranking).
    pub const ALL: &'static [FixKind] = &[
        FixKind::EdgeCors,
        FixKind::EdgeKeyOrigin,
        FixKind::NoOptionsCache,
        FixKind::AllowAny,
        FixKind::OriginVary,
        FixKind::ErrorsNoStore,
    ];

    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            FixKind::OriginVary => "origin-vary",
            FixKind::AllowAny => "allow-any-origin",
            FixKind::EdgeKeyOrigin => "edge-key-origin",
            FixKind::NoOptionsCache => "edge-no-options-cache",
            FixKind::ErrorsNoStore => "errors-no-store",
            FixKind::EdgeCors => "edge-answers-cors",
        }
    }

    /// One line saying what changes.
    pub fn title(self) -> &'static str {
        match self {
            FixKind::OriginVary => "origin sends `Vary: Origin` on every response and `Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers` on preflights",
            FixKind::AllowAny => "origin answers `Access-Control-Allow-Origin: *` (no step sends credentials; any site can then read these responses: public data only)",
            FixKind::EdgeKeyOrigin => "edge keys on `Origin`, `Access-Control-Request-Method` and `Access-Control-Request-Headers`",
            FixKind::NoOptionsCache => "edge stops caching `OPTIONS` (preflights always reach the origin)",
            FixKind::ErrorsNoStore => "error answers carry `Cache-Control: no-store`",
            FixKind::EdgeCors => "edge answers CORS itself, per viewer, after the cache, replacing the origin's fields (a fixed list of origins: the scenario's allowed ones)",
        }
    }

    /// `origin` or `edge`: who makes the change.
    pub fn side(self) -> &'static str {
        match self {
            FixKind::OriginVary | FixKind::AllowAny | FixKind::ErrorsNoStore => "origin",
            FixKind::EdgeKeyOrigin | FixKind::NoOptionsCache | FixKind::EdgeCors => "edge",
        }
    }
}

impl Serialize for FixKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// Every policy of a model: the origin's and each route's own.
fn policies_mut(m: &mut OriginModel) -> impl Iterator<Item = &mut CorsPolicy> {
    m.cors.iter_mut().chain(
        m.routes
            .iter_mut()
            .filter_map(|r| r.cors.as_mut().and_then(|c| c.as_mut())),
    )
}

fn policies(m: &OriginModel) -> impl Iterator<Item = &CorsPolicy> {
    m.cors.iter().chain(
        m.routes
            .iter()
            .filter_map(|r| r.cors.as_ref().and_then(|c| c.as_ref())),
    )
}

/// Whether `kind` applies to `sc` (its origin must be modelled).
pub fn applies(sc: &Scenario, kind: FixKind) -> bool {
    let OriginSpec::Model(m) = &sc.origin else {
        return false;
    };
    let k = &sc.edge.knobs;
    match kind {
        FixKind::OriginVary => {
            policies(m).any(|p| p.vary_origin != VaryOrigin::Always || !p.preflight_vary)
        }
        FixKind::AllowAny => {
            // Fetch §3.2.5: `*` cannot be used with credentials; and it must not open the
            // API to an origin the policy refuses today.
            let no_credentials = sc
                .steps
                .iter()
                .all(|s| s.credentials != Credentials::Include);
            let browsers: Vec<&str> = sc
                .clients
                .iter()
                .filter(|c| c.agent != Agent::None)
                .map(|c| c.origin.as_str())
                .collect();
            no_credentials
                && policies(m).any(|p| p.allow_origins != AllowOrigins::Any)
                && policies(m).all(|p| {
                    browsers
                        .iter()
                        .all(|o| p.allow_origins.allow(Some(o)).is_some())
                })
        }
        FixKind::EdgeKeyOrigin => {
            !k.key_headers.iter().any(|h| h == "origin")
                || (k.cache_options && k.preflight_key == PreflightKey::Ignore)
        }
        FixKind::NoOptionsCache => k.cache_options,
        FixKind::EdgeCors => edge_cors::applies(sc),
        FixKind::ErrorsNoStore => {
            m.routes.iter().any(|r| r.status >= 400)
                || policies(m).any(|p| p.preflight_status >= 400 || !p.options_handler)
        }
    }
}

/// The candidates that apply to `sc`, in [`FixKind::ALL`] order.
pub fn candidates(sc: &Scenario) -> Vec<FixKind> {
    FixKind::ALL
        .iter()
        .copied()
        .filter(|&k| applies(sc, k))
        .collect()
}

/// `sc` with `kind` applied (unchanged where it does not apply).
pub fn apply(sc: &Scenario, kind: FixKind) -> Scenario {
    let mut out = sc.clone();
    let OriginSpec::Model(m) = &mut out.origin else {
        return out;
    };
    let k = &mut out.edge.knobs;
    match kind {
        FixKind::OriginVary => policies_mut(m).for_each(|p| {
            p.vary_origin = VaryOrigin::Always;
            p.preflight_vary = true;
        }),
        FixKind::AllowAny => policies_mut(m).for_each(|p| {
            p.allow_origins = AllowOrigins::Any;
            p.allow_credentials = false;
        }),
        FixKind::EdgeKeyOrigin => {
            for h in [
                "origin",
                "access-control-request-method",
                "access-control-request-headers",
            ] {
                if !k.key_headers.iter().any(|x| x == h) {
                    k.key_headers.push(h.to_string());
                }
            }
            k.preflight_key = PreflightKey::Honor;
        }
        FixKind::NoOptionsCache => k.cache_options = false,
        FixKind::EdgeCors => {
            if let Some(c) = edge_cors::config(sc) {
                k.edge_cors = Some(c);
            }
        }
        FixKind::ErrorsNoStore => {
            for r in m.routes.iter_mut().filter(|r| r.status >= 400) {
                r.cache_control = Some("no-store".into());
                r.headers.remove("cache-control");
            }
            policies_mut(m)
                .filter(|p| p.preflight_status >= 400 || !p.options_handler)
                .for_each(|p| p.preflight_cache_control = Some("no-store".into()));
        }
    }
    out
}

#[cfg(test)]
mod tests;
