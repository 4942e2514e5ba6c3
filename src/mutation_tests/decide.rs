//! `crate::edge::decide`: the edge's decision API — collapsing, which stored candidate a
//! forward revalidates or falls back on (RFC 9111 §4.3.1, §4.2.4; RFC 5861 §4), what the
//! answer means, invalidation (§4.4) and the edge's own CORS fields.

use crate::edge::decide::{decide, edge_cors, to_viewer, Completion, Decision, ForwardPlan};
use crate::edge::knobs::{Collapse, Knobs};
use crate::edge::{make_variant, primary_key, Fwd, VariantSet};
use crate::fields::Headers;
use crate::message::{Request, Response};
use crate::time::{Timestamp, SIM_EPOCH};
use std::sync::Arc;

fn get() -> Request {
    Request {
        method: "GET".into(),
        scheme: "https".into(),
        host: "api".into(),
        target: "/d".into(),
        headers: Headers::from_pairs([("origin", "https://a")]),
    }
}

fn resp(status: u16, h: &[(&str, &str)]) -> Response {
    Response::new(status, Headers::from_pairs(h.iter().copied()))
}

/// A set holding one response to `get()` stored at the epoch.
fn stored(k: &Knobs, h: &[(&str, &str)]) -> VariantSet {
    let mut set = VariantSet::default();
    let v = make_variant(k, &get(), Arc::new(resp(200, h)), SIM_EPOCH, 1).unwrap();
    set.insert(v, None);
    set
}

fn plan(k: &Knobs, set: &VariantSet, at: Timestamp) -> ForwardPlan {
    let r = get();
    match decide(k, primary_key(k, &r), Some(set), &r, at) {
        Decision::Forward(p) => p,
        other => panic!("expected a forward, got {other:?}"),
    }
}

/// With collapsing off, a forward never joins another request's fetch.
#[test]
fn no_join_without_collapsing() {
    let k = Knobs::rfc9111();
    assert_eq!(k.collapse, Collapse::Off);
    assert!(!plan(&k, &VariantSet::default(), SIM_EPOCH).join);
}

/// RFC 9111 §4.3.1: a stale stored response is revalidated only when the cache does
/// revalidate and the response has a validator (`ETag` or `Last-Modified`); it is kept as
/// a candidate when revalidated, or when it may stand in for a failed origin
/// (`stale-if-error`, RFC 5861 §4; serving stale when disconnected, §4.2.4), each alone.
#[test]
fn candidate_needs_revalidation_or_a_stale_fallback() {
    let at = SIM_EPOCH.plus_secs(20);
    let base = Knobs {
        stale_if_error: false,
        stale_on_disconnect: false,
        ..Knobs::rfc9111()
    };
    let tagged = [("cache-control", "max-age=10"), ("etag", "\"v1\"")];
    let untagged = [("cache-control", "max-age=10")];

    let p = plan(&base, &stored(&base, &tagged), at);
    assert_eq!(p.fwd, Fwd::Stale);
    assert!(p.validate && p.candidate.is_some());

    let p = plan(&base, &stored(&base, &untagged), at);
    assert!(!p.validate && p.candidate.is_none());

    let no_reval = Knobs {
        revalidate: false,
        ..base.clone()
    };
    let p = plan(&no_reval, &stored(&no_reval, &tagged), at);
    assert!(!p.validate && p.candidate.is_none());
    assert!(p.validators().is_none());

    let sie = Knobs {
        stale_if_error: true,
        ..no_reval.clone()
    };
    let p = plan(&sie, &stored(&sie, &tagged), at);
    assert!(!p.validate && p.candidate.is_some());

    let sod = Knobs {
        stale_on_disconnect: true,
        ..no_reval
    };
    let p = plan(&sod, &stored(&sod, &tagged), at);
    assert!(!p.validate && p.candidate.is_some());
}

/// RFC 9111 §4.3.3/§4.3.4: a `304` that selects nothing stored means forwarding again
/// without the validators; any other answer is relayed. With no answer at all, a stale
/// candidate stands in (§4.2.4) and the RFC 9211 detail says why; RFC 5861 §4 likewise
/// for a 5xx within `stale-if-error`.
#[test]
fn what_a_forwards_answer_means() {
    let k = Knobs::rfc9111();
    let at = SIM_EPOCH.plus_secs(20);
    let set = stored(
        &k,
        &[
            ("cache-control", "max-age=10, stale-if-error=60"),
            ("etag", "\"v1\""),
        ],
    );
    let p = plan(&k, &set, at);
    assert!(p.candidate.is_some());
    let other = resp(304, &[("etag", "\"v2\"")]);
    assert!(matches!(
        p.complete(&k, Some(&other), at),
        Completion::Refetch
    ));
    let ok = resp(200, &[]);
    assert!(matches!(p.complete(&k, Some(&ok), at), Completion::Relay));
    let failed = resp(503, &[]);
    assert!(matches!(
        p.complete(&k, Some(&failed), at),
        Completion::ServeStale {
            detail: "stale-if-error",
            ..
        }
    ));
    assert!(matches!(
        p.complete(&k, None, at),
        Completion::ServeStale {
            detail: "stale-on-disconnect",
            ..
        }
    ));
    let bare = p.without_candidate();
    assert!(matches!(bare.complete(&k, None, at), Completion::Failed));
    assert!(matches!(
        bare.complete(&k, Some(&other), at),
        Completion::Relay
    ));
}

/// RFC 9111 §4.4: a non-error answer to an unsafe method invalidates the target URI
/// (made absolute with the request's scheme and host); a safe one invalidates nothing.
#[test]
fn an_unsafe_success_invalidates_its_url() {
    let k = Knobs::rfc9111();
    let p = plan(&k, &VariantSet::default(), SIM_EPOCH);
    let mut post = get();
    post.method = "POST".into();
    assert_eq!(
        p.invalidates(&k, &post, 200, &Headers::new()),
        vec!["https://api/d".to_string()]
    );
    assert!(p.invalidates(&k, &get(), 200, &Headers::new()).is_empty());
}

/// Without an edge CORS policy the edge adds nothing and reports no change.
#[test]
fn no_edge_cors_policy_changes_nothing() {
    let k = Knobs::rfc9111();
    let mut h = Headers::new();
    assert!(!edge_cors(&k, "GET", Some("https://a"), None, &mut h));
    assert!(h.is_empty());
    let r = Arc::new(resp(200, &[]));
    assert!(Arc::ptr_eq(&to_viewer(&k, &get(), r.clone()), &r));
}

/// RFC 5861 §4: `stale-if-error=N` lets a cache serve a response up to N seconds stale
/// when the origin answers 500/502/503/504 or cannot be reached; without the directive
/// (N = 0) it gives nothing, even at the very moment the response turned stale; and
/// past N seconds stale the error stands. (The edge's `stale_on_disconnect` is off
/// here, so only the directive decides.)
#[test]
fn stale_if_error_covers_n_seconds_of_staleness_and_nothing_without_it() {
    use crate::edge::{after_forward, Revalidated};
    let mut k = Knobs::rfc9111();
    k.stale_if_error = true;
    k.stale_on_disconnect = false;
    let with = |cc: &str| {
        make_variant(
            &k,
            &get(),
            Arc::new(resp(200, &[("cache-control", cc)])),
            SIM_EPOCH,
            1,
        )
        .unwrap()
    };
    let sie = with("max-age=10, stale-if-error=60");
    let none = with("max-age=10");
    let err = resp(503, &[]);
    let stale = |v: &crate::edge::Variant, secs: u64, r: Option<&Response>| {
        matches!(
            after_forward(&k, v, r, SIM_EPOCH.plus_secs(secs)),
            Revalidated::ServeStale
        )
    };
    for r in [Some(&err), None] {
        let what = if r.is_some() { "503" } else { "unreachable" };
        assert!(stale(&sie, 20, r), "{what}: 10 s stale, within 60");
        assert!(stale(&sie, 70, r), "{what}: exactly 60 s stale");
        assert!(!stale(&sie, 71, r), "{what}: 61 s stale");
        assert!(
            !stale(&none, 10, r),
            "{what}: no directive, just turned stale"
        );
        assert!(!stale(&none, 20, r), "{what}: no directive");
    }
    // Any other answer stands.
    assert!(!stale(&sie, 20, Some(&resp(404, &[]))));
}
