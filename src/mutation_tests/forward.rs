//! `crate::edge::forward`: which viewer request fields reach the origin. RFC 9110 §7.6.1:
//! a proxy forwards every end-to-end field; CloudFront forwards only the fields its cache
//! policy keys or its origin request policy lists, and sets some of its own.

use crate::edge::forward::{
    drops_any, drops_cors_fields, forwards_origin, keeps, origin_request, Forward, ForwardHeaders,
};
use crate::fields::Headers;
use crate::message::Request;

fn fwd(headers: ForwardHeaders, strip: &[&str], add: &[(&str, &str)]) -> Forward {
    Forward {
        headers,
        strip: strip.iter().map(|s| s.to_string()).collect(),
        add: add
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

fn req(h: &[(&str, &str)]) -> Request {
    Request {
        method: "GET".into(),
        scheme: "https".into(),
        host: "api".into(),
        target: "/d".into(),
        headers: Headers::from_pairs(h.iter().copied()),
    }
}

fn key(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The plain proxy setting forwards everything; any of "only the key", a strip list or an
/// added field makes the setting non-transparent.
#[test]
fn each_knob_alone_makes_forwarding_non_transparent() {
    assert!(Forward::all().is_transparent());
    assert!(!fwd(ForwardHeaders::Key, &[], &[]).is_transparent());
    assert!(!fwd(ForwardHeaders::All, &["host"], &[]).is_transparent());
    assert!(!fwd(ForwardHeaders::All, &[], &[("user-agent", "Edge")]).is_transparent());
    assert!(!fwd(ForwardHeaders::List(vec![]), &[], &[]).is_transparent());
}

/// CloudFront: a field the edge sets itself replaces the viewer's (one `User-Agent`, the
/// edge's), even when every other field is forwarded; names compare case-insensitively.
#[test]
fn an_added_field_replaces_the_viewers() {
    let f = fwd(
        ForwardHeaders::All,
        &[],
        &[("user-agent", "Amazon CloudFront")],
    );
    assert!(!keeps(&f, &[], "User-Agent"));
    assert!(keeps(&f, &[], "Origin"));
    let r = req(&[("user-agent", "Browser"), ("origin", "https://a")]);
    let o = origin_request(&f, &[], &r);
    assert_eq!(
        o.headers.get_all("user-agent").collect::<Vec<_>>(),
        vec!["Amazon CloudFront"]
    );
    assert_eq!(o.headers.get("origin"), Some("https://a"));
}

/// CloudFront: with a cache policy only, exactly the keyed fields reach the origin.
#[test]
fn key_only_forwards_exactly_the_keyed_fields() {
    let f = fwd(ForwardHeaders::Key, &[], &[]);
    assert!(!keeps(&f, &[], "origin"));
    assert!(keeps(&f, &key(&["origin"]), "Origin"));
    assert!(!forwards_origin(&f, &[]));
    assert!(forwards_origin(&f, &key(&["origin"])));
    assert!(forwards_origin(&Forward::all(), &[]));
    let f = fwd(ForwardHeaders::List(vec!["x-a".into()]), &[], &[]);
    assert!(keeps(&f, &key(&["origin"]), "origin"));
    assert!(keeps(&f, &[], "X-A"));
    assert!(!keeps(&f, &[], "origin"));
}

/// Whether the origin misses any viewer field: never when everything is forwarded, and
/// only when some field present is actually dropped.
#[test]
fn drops_any_means_a_present_field_is_dropped() {
    let r = req(&[("origin", "https://a"), ("x-a", "1")]);
    assert!(!drops_any(&Forward::all(), &[], &r));
    let f = fwd(ForwardHeaders::Key, &[], &[]);
    assert!(drops_any(&f, &key(&["origin"]), &r));
    assert!(!drops_any(&f, &key(&["origin", "x-a"]), &r));
    assert!(drops_any(&f, &key(&["x-a"]), &r));
    assert!(!drops_any(&f, &[], &req(&[])));
}

/// Fetch §3.2.2 / §4.8: the server needs `Origin` on every CORS request, and a preflight
/// also needs `Access-Control-Request-Method` and `-Headers`; missing any one is reported.
#[test]
fn cors_fields_the_origin_needs() {
    let f = fwd(ForwardHeaders::Key, &[], &[]);
    assert!(drops_cors_fields(&f, &[], false));
    assert!(!drops_cors_fields(&f, &key(&["origin"]), false));
    assert!(drops_cors_fields(&f, &key(&["origin"]), true));
    let acrm = "access-control-request-method";
    let acrh = "access-control-request-headers";
    assert!(drops_cors_fields(&f, &key(&["origin", acrm]), true));
    assert!(drops_cors_fields(&f, &key(&["origin", acrh]), true));
    assert!(!drops_cors_fields(&f, &key(&["origin", acrm, acrh]), true));
    assert!(!drops_cors_fields(&Forward::all(), &[], true));
}

/// The readable form names the mode, the stripped fields and the added ones.
#[test]
fn describe_names_every_knob() {
    assert_eq!(Forward::all().describe(), "all");
    let f = fwd(
        ForwardHeaders::List(vec!["origin".into(), "x-a".into()]),
        &[],
        &[("user-agent", "E"), ("via", "1.1 e")],
    );
    assert_eq!(f.describe(), "key+[origin,x-a] +[user-agent,via]");
    assert_eq!(fwd(ForwardHeaders::Key, &[], &[]).describe(), "key");
}
