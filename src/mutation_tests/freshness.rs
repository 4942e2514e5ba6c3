//! `crate::edge::freshness`: storability (RFC 9111 §3) and freshness (§4.2), and the
//! reason ids the proxy writes into `Cache-Status`.

use crate::edge::NoStore;

/// RFC 9211 §2.8: `detail` carries implementation-specific information about why the
/// cache did what it did. The proxy writes a not-stored reason there as its id, so each
/// id must be a non-empty, lower-case token, distinct from the others, and stable (users
/// and tests/proxy.rs grep for `detail="no-store"`).
#[test]
fn not_stored_reason_ids_are_distinct_stable_tokens() {
    let all = [
        (NoStore::Method, "method"),
        (NoStore::Status, "status"),
        (NoStore::NoStoreDirective, "no-store"),
        (NoStore::Private, "private"),
        (NoStore::Authorization, "authorization"),
        (NoStore::VaryStar, "vary-star"),
        (
            NoStore::VaryBeyondAcceptEncoding,
            "vary-beyond-accept-encoding",
        ),
        (NoStore::VaryNotAllowlisted, "vary-not-allowlisted"),
        (NoStore::NoFreshness, "no-freshness"),
        (NoStore::SetCookie, "set-cookie"),
        (NoStore::Incomplete, "incomplete"),
    ];
    let mut seen = std::collections::HashSet::new();
    for (reason, id) in all {
        assert_eq!(reason.id(), id, "{reason:?}");
        assert!(
            id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{id}"
        );
        assert!(seen.insert(reason.id()), "duplicate id {id}");
    }
}
