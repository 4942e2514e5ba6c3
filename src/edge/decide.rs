//! The edge's one decision API, driven by both the simulator's `Edge` and the proxy
//! (quinn-proto style: the core returns decisions as values, the driver does the IO).
//!
//! For each request the driver asks [`decide`] with what is stored under the request's
//! primary key and gets a [`Decision`]: serve a stored response (with a background
//! refresh to start when it is stale), answer `504` for `only-if-cached`, or forward as a
//! [`ForwardPlan`] says: whether to pass, whether to join the in-flight fetch for the key
//! (collapsing), which stored candidate to revalidate or fall back on, and what request
//! to send ([`ForwardPlan::request`]). When the answer comes back the driver asks
//! [`ForwardPlan::complete`] what it means ([`Completion`]) and offers the response for
//! storage with [`ForwardPlan::offer`]; RFC 9111 §4.4 invalidation is
//! [`ForwardPlan::invalidates`]. A request that waited on another's fetch asks [`share`].
//! Whatever the viewer gets last passes through [`edge_cors`].
//!
//! The drivers keep their own concurrency (the simulator's virtual-time in-flight map in
//! [`super::Cache`], the proxy's sharded table and its LRU store) and decide none of this.

use super::{
    after_forward, collapse_shares, collapsed_served, invalidated_urls, lookup_stored,
    make_variant, only_if_cached, pass_reason, revalidation_candidate, served_from, validate, Fwd,
    Lookup, NoStore, Outcome, Revalidated, Served, Tag, Variant, VariantSet,
};
use crate::edge::knobs::{Collapse, Knobs};
use crate::fields::Headers;
use crate::message::{Request, Response};
use crate::time::Timestamp;
use std::borrow::Cow;
use std::sync::Arc;

/// What the edge does with one request.
#[derive(Clone, Debug)]
pub enum Decision {
    /// Serve a stored response.
    Serve(Serve),
    /// RFC 9111 §5.2.1.7: "If it receives this directive, a cache SHOULD either respond
    /// using a stored response … or respond with a 504 (Gateway Timeout) status code."
    /// Nothing usable is stored: answer `504` ([`gateway_timeout`]).
    OnlyIfCached {
        /// The primary key.
        key: String,
    },
    /// Forward to the next hop.
    Forward(ForwardPlan),
}

/// A stored response to serve.
#[derive(Clone, Debug)]
pub struct Serve {
    /// The stored response, its age, ttl, author and key.
    pub served: Served,
    /// `hit`, `stale` (RFC 5861 stale-while-revalidate) or `collapsed`.
    pub outcome: Outcome,
    /// RFC 5861 §3: "the cache … will also attempt to revalidate it while still serving
    /// stale responses" — the background fetch to start (one per key is enough), whose
    /// answer is offered for storage.
    pub refresh: Option<ForwardPlan>,
}

/// How to forward one request, and what its answer may do.
#[derive(Clone, Debug)]
pub struct ForwardPlan {
    /// The primary key.
    pub key: String,
    /// Why it goes forward (RFC 9211 `fwd`).
    pub fwd: Fwd,
    /// Never stored (the method is not cached, or Cookie/Authorization pass).
    pub pass: bool,
    /// Collapsing is on: join the fetch in flight for `key` (waiting on it, then
    /// [`share`]) or lead it.
    pub join: bool,
    /// The stored variant (stale, or refused by the request's own directives) this
    /// forward revalidates (RFC 9111 §4.3.1) or falls back on when the origin fails
    /// (§4.2.4, RFC 5861 §4).
    pub candidate: Option<Variant>,
    /// Whether the forwarded request carries the candidate's validators in place of the
    /// client's own conditionals ([`ForwardPlan::request`]).
    pub validate: bool,
    /// A `HEAD` miss fetched as `GET` (`head_as_get`): [`ForwardPlan::request`] sends
    /// `GET`, and the simulator's [`super::Cache`] stores the answer for `GET`; so does
    /// the proxy (`net::proxy::server`), which sends the client the head only.
    pub as_get: bool,
}

/// What the answer to a forward means ([`ForwardPlan::complete`]).
#[derive(Clone, Debug)]
pub enum Completion {
    /// The answer goes to the client, offered for storage ([`ForwardPlan::offer`]).
    Relay,
    /// RFC 9111 §4.3.4: a `304` selected the candidate; this freshened copy is stored in
    /// its place and delivered ([`super::deliver`]).
    Freshened(Arc<Response>),
    /// The origin failed and the stale candidate is served instead.
    ServeStale {
        /// The candidate as served.
        served: Served,
        /// The RFC 9211 detail: `stale-if-error` or `stale-on-disconnect`.
        detail: &'static str,
    },
    /// A `304` for something other than what is stored: forward again without the
    /// candidate's validators, and relay that.
    Refetch,
    /// No answer and nothing to stand in for it: the driver answers with its own error.
    Failed,
}

/// The conditional fields (and `Range`) a cache replaces with its own when it
/// revalidates a stored response (the client's own conditionals are answered from the
/// store afterwards, RFC 9111 §4.3.2).
pub const REPLACED_WHEN_VALIDATING: [&str; 6] = [
    "if-none-match",
    "if-modified-since",
    "if-match",
    "if-unmodified-since",
    "if-range",
    "range",
];

/// The edge's decision for `req` at `now`; `key` is its primary key
/// ([`super::primary_key`]) and `set` what is stored under it. Order: pass (the
/// profile forwards without looking up), a usable stored response (fresh, stale within
/// `stale-while-revalidate`, or accepted by the request's `max-stale`), `only-if-cached`,
/// then a forward that may join an in-flight fetch and may revalidate a candidate.
pub fn decide(
    knobs: &Knobs,
    key: String,
    set: Option<&VariantSet>,
    req: &Request,
    now: Timestamp,
) -> Decision {
    decide_key(knobs, Cow::Owned(key), set, req, now)
}

/// [`decide`] with the primary key borrowed: it is copied only into a decision that
/// carries it (a forward or `only-if-cached`), so a hit allocates no key.
pub fn decide_key(
    knobs: &Knobs,
    key: Cow<'_, str>,
    set: Option<&VariantSet>,
    req: &Request,
    now: Timestamp,
) -> Decision {
    if let Some(fwd) = pass_reason(knobs, req) {
        return Decision::Forward(ForwardPlan::plain(key.into_owned(), fwd, true, false));
    }
    let fwd = match lookup_stored(knobs, set, req, now) {
        Lookup::Hit(served) => return serve(served, Outcome::Hit, None),
        Lookup::Stale(served) => {
            let refresh = ForwardPlan::plain(key.into_owned(), Fwd::Stale, false, false);
            return serve(served, Outcome::Stale, Some(refresh));
        }
        Lookup::Miss(fwd) | Lookup::Pass(fwd) => fwd,
        Lookup::Collapsed(_) => Fwd::UriMiss,
    };
    let key = key.into_owned();
    if only_if_cached(knobs, req) {
        return Decision::OnlyIfCached { key };
    }
    let mut plan = ForwardPlan::plain(key, fwd, false, knobs.collapse != Collapse::Off);
    // nginx proxy_cache_convert_head (on by default), Varnish cache_fetch.c (a fetch
    // for a HEAD miss is sent as GET): the whole response comes back and is stored
    plan.as_get = knobs.head_as_get && req.method == "HEAD";
    if matches!(fwd, Fwd::Stale | Fwd::Request) {
        if let Some(c) = revalidation_candidate(knobs, set, req, now) {
            plan.validate = knobs.revalidate && validate::has_validator(&c.response);
            // a candidate matters only when it is revalidated or may stand in for a
            // failed origin; otherwise this is a plain forward
            if plan.validate
                || knobs.stale_if_error
                || knobs.stale_on_disconnect
                || knobs.stale_on_revalidation_error
            {
                plan.candidate = Some(c);
            }
        }
    }
    Decision::Forward(plan)
}

fn serve(served: Served, outcome: Outcome, refresh: Option<ForwardPlan>) -> Decision {
    Decision::Serve(Serve {
        served,
        outcome,
        refresh,
    })
}

impl ForwardPlan {
    /// A forward with no candidate.
    pub fn plain(key: String, fwd: Fwd, pass: bool, join: bool) -> ForwardPlan {
        ForwardPlan {
            key,
            fwd,
            pass,
            join,
            candidate: None,
            validate: false,
            as_get: false,
        }
    }

    /// The report's outcome for a forwarded answer: `pass` or `miss` (a stale entry's
    /// refetch included, PRODUCT.md).
    pub fn outcome(&self) -> Outcome {
        if self.pass {
            Outcome::Pass
        } else {
            Outcome::Miss
        }
    }

    /// The same forward without its candidate (what [`Completion::Refetch`] sends).
    pub fn without_candidate(&self) -> ForwardPlan {
        ForwardPlan {
            as_get: self.as_get,
            ..ForwardPlan::plain(self.key.clone(), self.fwd, self.pass, self.join)
        }
    }

    /// The request to forward (before the profile's forwarding rules,
    /// [`super::forward::origin_request`]): `req` itself, or, when validating, `req` with
    /// the candidate's validators in place of [`REPLACED_WHEN_VALIDATING`]; as `GET`
    /// when the plan fetches a `HEAD` miss as `GET`.
    pub fn request<'r>(&self, req: &'r Request) -> Cow<'r, Request> {
        let fields = self.validators();
        if fields.is_none() && !self.as_get {
            return Cow::Borrowed(req);
        }
        let mut r = req.clone();
        if self.as_get {
            r.method = "GET".into();
        }
        if let Some(fields) = fields {
            for n in REPLACED_WHEN_VALIDATING {
                r.headers.remove(n);
            }
            for (n, v) in fields {
                r.headers.append(n, &v);
            }
        }
        Cow::Owned(r)
    }

    /// RFC 9111 §4.3.1: the validator fields to send, when validating (a driver editing
    /// its own header map removes [`REPLACED_WHEN_VALIDATING`] and sets these).
    pub fn validators(&self) -> Option<Vec<(&'static str, String)>> {
        let c = self.candidate.as_ref().filter(|_| self.validate)?;
        Some(validate::conditional_fields(&c.response))
    }

    /// What the answer `resp` (`None`: the next hop could not be reached) means, at
    /// `now`; only its status and header fields are read ([`after_forward`]).
    pub fn complete(&self, knobs: &Knobs, resp: Option<&Response>, now: Timestamp) -> Completion {
        let Some(cand) = &self.candidate else {
            return match resp {
                Some(_) => Completion::Relay,
                None => Completion::Failed,
            };
        };
        match (after_forward(knobs, cand, resp, now), resp) {
            (Revalidated::Freshened(fresh), _) => Completion::Freshened(fresh),
            (Revalidated::ServeStale, r) => Completion::ServeStale {
                served: served_from(cand, now),
                detail: if r.is_some() {
                    "stale-if-error"
                } else {
                    "stale-on-disconnect"
                },
            },
            (Revalidated::Replaced, Some(r)) if r.status == 304 => Completion::Refetch,
            (Revalidated::Replaced, Some(_)) => Completion::Relay,
            (Revalidated::Replaced, None) => Completion::Failed,
        }
    }

    /// Offers `resp` (the whole answer to `req`, or a freshened copy) for storage at
    /// `now` under `tag`: `None` when the forward passes, else the variant to store or
    /// why not ([`make_variant`]).
    pub fn offer(
        &self,
        knobs: &Knobs,
        req: &Request,
        resp: Arc<Response>,
        now: Timestamp,
        tag: Tag,
    ) -> Option<Result<Variant, NoStore>> {
        (!self.pass).then(|| make_variant(knobs, req, resp, now, tag))
    }

    /// RFC 9111 §4.4: the URLs whose stored responses an answer with `status` and
    /// `headers` to `req` invalidates ([`invalidated_urls`]; empty for most answers).
    pub fn invalidates(
        &self,
        knobs: &Knobs,
        req: &Request,
        status: u16,
        headers: &Headers,
    ) -> Vec<String> {
        invalidated_urls(knobs, req, status, headers)
    }
}

/// A request that joined an in-flight fetch for `key`, which ended with `response`
/// (stored as `variant`, if stored) by `tag`: what it is served, if it may take that
/// response at all ([`collapse_shares`]: never with collapsing off, anything when naive,
/// with `on` only a stored response whose `Vary` matches the waiter).
pub fn share(
    knobs: &Knobs,
    key: &str,
    response: &Arc<Response>,
    variant: Option<&Variant>,
    tag: Tag,
    req: &Request,
) -> Option<Serve> {
    collapse_shares(knobs, variant, req).then(|| Serve {
        served: collapsed_served(key, response.clone(), variant, tag),
        outcome: Outcome::Collapsed,
        refresh: None,
    })
}

/// The edge's own answer to an `only-if-cached` request it cannot serve from store.
pub fn gateway_timeout() -> Response {
    Response::new(504, Headers::from_pairs([("cache-control", "no-store")]))
}

/// The CORS fields the edge adds itself (`edge_cors`, a CloudFront response headers
/// policy: [`super::cors::EdgeCors::apply`]) to `headers`, the response going to a viewer
/// whose request had `method`, `origin` and `Access-Control-Request-Method` `acrm`;
/// applied after the cache, to everything the viewer gets. Returns whether anything
/// changed (never without `edge_cors`).
pub fn edge_cors(
    knobs: &Knobs,
    method: &str,
    origin: Option<&str>,
    acrm: Option<&str>,
    headers: &mut Headers,
) -> bool {
    match &knobs.edge_cors {
        Some(c) => c.apply(method, origin, acrm, headers),
        None => false,
    }
}

/// [`edge_cors`] on a core response to `req`: the response itself when nothing changes.
pub fn to_viewer(knobs: &Knobs, req: &Request, resp: Arc<Response>) -> Arc<Response> {
    if knobs.edge_cors.is_none() {
        return resp;
    }
    let mut h = resp.headers.clone();
    let (origin, acrm) = (
        req.headers.get("origin"),
        req.headers.get("access-control-request-method"),
    );
    if !edge_cors(knobs, &req.method, origin, acrm, &mut h) {
        return resp;
    }
    let mut r = Response::clone(&resp);
    r.headers = h;
    Arc::new(r)
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
