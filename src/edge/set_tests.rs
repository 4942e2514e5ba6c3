//! The indexed variant lookup against the scan it replaces, and the profiles'
//! `Set-Cookie` rules in the pure core (issue 11).

use super::*;
use crate::fields::Headers;
use crate::profile::profile;
use crate::time::SIM_EPOCH;
use proptest::prelude::*;

fn req(headers: &[(&str, &str)]) -> Request {
    Request {
        method: "GET".into(),
        scheme: "https".into(),
        host: "api".into(),
        target: "/d".into(),
        headers: Headers::from_pairs(headers.iter().copied()),
    }
}

fn resp(pairs: &[(&str, &str)]) -> Arc<Response> {
    let mut h = Headers::from_pairs([("cache-control", "max-age=60")]);
    for (n, v) in pairs {
        h.append(n, v);
    }
    Arc::new(Response::new(200, h))
}

/// The list and index of a set of two or more variants.
fn many(set: &mut VariantSet) -> &mut Many {
    match &mut set.variants.0 {
        Repr::Many(m) => m,
        r => panic!("not a list of two or more: {r:?}"),
    }
}

const ORIGINS: &[&str] = &["https://a", "https://b", "https://c", "https://d"];
const VARY: &[&str] = &["Origin", "Accept-Encoding", "Origin, Accept-Encoding", ""];
const AE: &[&str] = &["gzip", "br", "gzip, br"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever was stored (several `Vary` specs mixed, replacements, a cap), the index
    /// answers exactly as scanning newest-first does.
    #[test]
    fn the_index_agrees_with_a_scan(
        stores in prop::collection::vec((0..4usize, 0..4usize, 0..3usize, any::<bool>()), 1..40),
        probes in prop::collection::vec((0..4usize, 0..3usize, any::<bool>()), 1..10),
        cap in prop::option::of(1usize..8),
    ) {
        let knobs = Knobs::rfc9111();
        let mut set = VariantSet::default();
        for (i, (o, v, ae, with_ae)) in stores.iter().enumerate() {
            let mut h = vec![("origin", ORIGINS[*o])];
            if *with_ae { h.push(("accept-encoding", AE[*ae])); }
            let r = req(&h);
            let mut extra = Vec::new();
            if !VARY[*v].is_empty() { extra.push(("vary", VARY[*v])); }
            if let Ok(var) = make_variant(&knobs, &r, resp(&extra), SIM_EPOCH, i as Tag) {
                set.insert(var, cap);
            }
        }
        for (o, ae, with_ae) in probes {
            let mut h = vec![("origin", ORIGINS[o])];
            if with_ae { h.push(("accept-encoding", AE[ae])); }
            let r = req(&h);
            let indexed = set.select(&knobs, &r, SIM_EPOCH).map(|v| v.tag);
            let scanned = set.scan(&knobs, &r, SIM_EPOCH).map(|v| v.tag);
            prop_assert_eq!(indexed, scanned);
        }
    }
}

const MESSY: &[&str] = &[
    "gzip, br",
    " gzip ,br",
    "gzip,br",
    "GZIP, BR",
    "",
    " , gzip",
    "br",
];
const COMPARES: &[VaryCompare] = &[
    VaryCompare::Raw,
    VaryCompare::Trim,
    VaryCompare::Combine,
    VaryCompare::Fold,
];

fn messy_req(lines: &[usize]) -> Request {
    let mut r = req(&[]);
    for l in lines {
        r.headers.append("Accept-Encoding", MESSY[*l]);
    }
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// The index hashes a request's selecting values without building them; under every
    /// comparison (raw, trimmed, combined, folded), with repeated lines, blank members and
    /// odd whitespace, it answers exactly as the scan does.
    #[test]
    fn the_index_agrees_with_a_scan_under_every_comparison(
        compare in 0..4usize,
        stores in prop::collection::vec(prop::collection::vec(0..7usize, 0..3), 1..24),
        probes in prop::collection::vec(prop::collection::vec(0..7usize, 0..3), 1..10),
    ) {
        let knobs = Knobs { vary_compare: COMPARES[compare], ..Knobs::rfc9111() };
        let mut set = VariantSet::default();
        for (i, lines) in stores.iter().enumerate() {
            let v = make_variant(&knobs, &messy_req(lines), resp(&[("vary", "Accept-Encoding")]), SIM_EPOCH, i as Tag);
            set.insert(v.unwrap(), None);
        }
        for lines in probes {
            let r = messy_req(&lines);
            let indexed = set.select(&knobs, &r, SIM_EPOCH).map(|v| v.tag);
            let scanned = set.scan(&knobs, &r, SIM_EPOCH).map(|v| v.tag);
            prop_assert_eq!(indexed, scanned);
        }
    }
}

#[test]
fn ten_thousand_variants_look_up_without_a_scan() {
    let knobs = Knobs::rfc9111();
    let mut set = VariantSet::default();
    for i in 0..10_000u64 {
        let o = format!("https://s{i}.example");
        let v = make_variant(
            &knobs,
            &req(&[("origin", &o)]),
            resp(&[("vary", "Origin")]),
            SIM_EPOCH,
            i,
        )
        .unwrap();
        set.insert(v, None);
    }
    let r = req(&[("origin", "https://s17.example")]);
    assert_eq!(set.select(&knobs, &r, SIM_EPOCH).map(|v| v.tag), Some(17));
    let m = many(&mut set);
    assert_eq!(m.specs.len(), 1);
    assert_eq!(m.index.len(), 10_000);
}

/// Variants whose secondary keys hash alike are found by comparing them one by one:
/// here every variant is moved to the collision list, and lookups answer as before.
#[test]
fn hash_collisions_fall_back_to_comparing_variants() {
    let knobs = Knobs::rfc9111();
    let mut set = VariantSet::default();
    let origins: Vec<String> = (0..3 * SMALL_SET)
        .map(|i| format!("https://o{i}"))
        .collect();
    for (i, o) in origins.iter().enumerate() {
        let r = req(&[("origin", o)]);
        let v = make_variant(&knobs, &r, resp(&[("vary", "Origin")]), SIM_EPOCH, i as Tag);
        set.insert(v.unwrap(), None);
    }
    let m = many(&mut set);
    let mut moved: Vec<usize> = m.index.drain().map(|(_, i)| i).collect();
    assert_eq!(moved.len(), origins.len());
    moved.sort_unstable();
    m.collided = moved;
    for (i, o) in origins.iter().enumerate() {
        let r = req(&[("origin", o)]);
        assert_eq!(
            set.select(&knobs, &r, SIM_EPOCH).map(|v| v.tag),
            Some(i as Tag)
        );
    }
    let none = req(&[("origin", "https://elsewhere")]);
    assert_eq!(set.select(&knobs, &none, SIM_EPOCH).map(|v| v.tag), None);
}

/// Equal hashes from different specs (a 64-bit collision, forged here) are told apart by
/// comparing the specs: a lookup by one spec never answers with another spec's variant
/// whose stored values happen to read the same. Both as a small set (scanned by hash)
/// and as an indexed one, the impostor stored first (so it is what the hash finds first).
#[test]
fn a_hash_collision_across_specs_is_told_apart() {
    let knobs = Knobs::rfc9111();
    let both = req(&[("origin", "x"), ("accept-encoding", "x")]);
    for fillers in [0, 2 * SMALL_SET] {
        let mut set = VariantSet::default();
        let real = make_variant(&knobs, &both, resp(&[("vary", "Origin")]), SIM_EPOCH, 100);
        let real = real.unwrap();
        let impostor = make_variant(
            &knobs,
            &both,
            resp(&[("vary", "Accept-Encoding")]),
            SIM_EPOCH,
            1,
        );
        let mut impostor = impostor.unwrap();
        impostor.secondary_hash = real.secondary_hash;
        set.insert(impostor, None);
        for i in 0..fillers {
            let o = format!("https://f{i}");
            let r = req(&[("origin", o.as_str())]);
            let v = make_variant(
                &knobs,
                &r,
                resp(&[("vary", "Origin")]),
                SIM_EPOCH,
                2 + i as Tag,
            );
            set.insert(v.unwrap(), None);
        }
        set.insert(real, None);
        assert_eq!(many(&mut set).specs.len(), 2);
        // only the Origin variant matches a request without Accept-Encoding
        let r = req(&[("origin", "x")]);
        assert_eq!(
            set.select(&knobs, &r, SIM_EPOCH).map(|v| v.tag),
            Some(100),
            "{fillers}"
        );
        assert_eq!(set.scan(&knobs, &r, SIM_EPOCH).map(|v| v.tag), Some(100));
    }
}

/// A set's debug form names where its specs are and leaves their hashers out (their
/// state comes from the process's secret seed).
#[test]
fn a_spec_entry_debugs_without_its_hasher() {
    let spec = SpecAt {
        at: 3,
        hashed: spec_hasher(&VarySpec {
            names: Box::from([crate::fields::Text::from("origin")]),
            star: false,
            gzip_ae: false,
        }),
    };
    assert_eq!(format!("{spec:?}"), "SpecAt { at: 3, .. }");
}

/// A `Vary: *` variant (stored by a profile that keeps them) matches no request, in a set
/// of two or more as alone.
#[test]
fn a_star_variant_in_a_set_matches_nothing() {
    let knobs = Knobs::rfc9111();
    let r = req(&[("origin", "https://a")]);
    // (rfc9111 stores it, `VaryStar::NeverMatch`)
    let star = make_variant(&knobs, &r, resp(&[("vary", "*")]), SIM_EPOCH, 5).unwrap();
    let other = make_variant(&knobs, &req(&[]), resp(&[("vary", "Origin")]), SIM_EPOCH, 1);
    let mut set = VariantSet::default();
    set.insert(other.unwrap(), None);
    set.insert(star, None);
    assert_eq!(set.variants.len(), 2);
    assert_eq!(set.select(&knobs, &r, SIM_EPOCH).map(|v| v.tag), None);
    assert_eq!(
        set.select(&knobs, &req(&[]), SIM_EPOCH).map(|v| v.tag),
        Some(1)
    );
}

fn stored_with_cookie(name: &str) -> Result<Variant, NoStore> {
    let knobs = profile(name).unwrap().knobs;
    make_variant(
        &knobs,
        &req(&[]),
        resp(&[("set-cookie", "session=alice"), ("cache-control", "public")]),
        SIM_EPOCH,
        0,
    )
}

#[test]
fn set_cookie_rules_per_profile() {
    for p in ["varnish", "nginx", "fastly", "cloudflare"] {
        assert!(
            matches!(stored_with_cookie(p), Err(NoStore::SetCookie)),
            "{p}"
        );
    }
    for p in ["squid", "cloudfront", "cloudfront-cors-s3"] {
        let v = stored_with_cookie(p).unwrap();
        assert!(!replays_set_cookie(&v.response), "{p}");
    }
    for p in ["rfc9111", "url-only"] {
        let v = stored_with_cookie(p).unwrap();
        assert!(replays_set_cookie(&v.response), "{p}");
    }
}

/// A stored variant's readable secondary key (what `/.varyedge/entries` lists): each
/// field its `Vary` names with the request's value, `-` for an absent one (RFC 9111
/// §4.1: an absent field is a value of its own), sorted by field name as the key is.
#[test]
fn a_variant_describes_its_secondary_key() {
    let knobs = Knobs::rfc9111();
    let r = req(&[("origin", "https://a")]);
    let v = make_variant(
        &knobs,
        &r,
        resp(&[("vary", "Origin, Accept-Encoding")]),
        SIM_EPOCH,
        1,
    )
    .unwrap();
    assert_eq!(v.secondary(), "accept-encoding=- origin=https://a");
}

/// Two different secondary keys whose 64-bit hashes collide (forged here; the hash is
/// randomly seeded, so real ones cannot be aimed) are still two variants: RFC 9111 §4.1
/// selects a stored response only when the selecting values match, so a lookup compares
/// the values themselves after the hash, a proper prefix included.
#[test]
fn a_hash_collision_never_selects_another_variant() {
    let knobs = Knobs::rfc9111();
    let vary = resp(&[("vary", "Origin")]);
    let a = make_variant(
        &knobs,
        &req(&[("origin", "https://a")]),
        vary.clone(),
        SIM_EPOCH,
        1,
    )
    .unwrap();
    for other in ["https://ab", "https://b", "https://"] {
        let mut forged = make_variant(
            &knobs,
            &req(&[("origin", other)]),
            vary.clone(),
            SIM_EPOCH,
            2,
        )
        .unwrap();
        forged.secondary_hash = a.secondary_hash;
        let mut set = VariantSet::default();
        set.insert(a.clone(), None);
        set.insert(forged, None);
        assert_eq!(
            set.variants.len(),
            2,
            "{other}: a collision replaced nothing"
        );
        let got = |o: &str| {
            set.select(&knobs, &req(&[("origin", o)]), SIM_EPOCH)
                .map(|v| v.tag)
        };
        // The forged variant is newer and shares the request's hash; only its value
        // differs.
        assert_eq!(got("https://a"), Some(1), "{other}");
    }
}

/// An index that no longer describes the list (as after [`VariantSet::unindexed_copy`])
/// is not trusted: lookups scan until the set is indexed again.
#[test]
fn a_set_whose_index_is_stale_is_scanned() {
    let knobs = Knobs::rfc9111();
    let mut set = VariantSet::default();
    for i in 0..(SMALL_SET + 4) {
        let r = req(&[("origin", &format!("https://o{i}"))]);
        set.insert(
            make_variant(&knobs, &r, resp(&[("vary", "Origin")]), SIM_EPOCH, i as Tag).unwrap(),
            None,
        );
    }
    many(&mut set).list.remove(0);
    let last = SMALL_SET + 3;
    let r = req(&[("origin", &format!("https://o{last}"))]);
    assert_eq!(
        set.select(&knobs, &r, SIM_EPOCH).map(|v| v.tag),
        Some(last as Tag)
    );
    let gone = req(&[("origin", "https://o0")]);
    assert_eq!(set.select(&knobs, &gone, SIM_EPOCH).map(|v| v.tag), None);
}

/// RFC 9111 §4.1 keys a variant by the fields its `Vary` names *and* their values: a
/// response varying on `X-A` and one varying on `X-B` are two variants even when the
/// request's values for them are equal.
#[test]
fn equal_values_under_different_fields_are_two_variants() {
    let knobs = Knobs::rfc9111();
    let r = req(&[("x-a", "1"), ("x-b", "1")]);
    let mut set = VariantSet::default();
    for (tag, vary) in [(1, "X-A"), (2, "X-B")] {
        set.insert(
            make_variant(&knobs, &r, resp(&[("vary", vary)]), SIM_EPOCH, tag).unwrap(),
            None,
        );
    }
    assert_eq!(set.variants.len(), 2);
    // The same field and value again replaces its variant.
    set.insert(
        make_variant(&knobs, &r, resp(&[("vary", "X-A")]), SIM_EPOCH, 3).unwrap(),
        None,
    );
    let tags: Vec<Tag> = set.variants.iter().map(|v| v.tag).collect();
    assert_eq!(tags, [2, 3]);
}

/// A set holding one `Vary: Origin` variant per member of [`ORIGINS`], tagged by position.
fn one_per_origin(knobs: &Knobs) -> VariantSet {
    let mut set = VariantSet::default();
    for (i, o) in ORIGINS.iter().enumerate() {
        let r = req(&[("origin", o)]);
        set.insert(
            make_variant(knobs, &r, resp(&[("vary", "Origin")]), SIM_EPOCH, i as Tag).unwrap(),
            None,
        );
    }
    set
}

/// The proxy's copy-on-write update copies a set without its index and inserts into the
/// copy; until then the copy answers every lookup the original does.
#[test]
fn an_unindexed_copy_keeps_every_variant() {
    let knobs = Knobs::rfc9111();
    let set = one_per_origin(&knobs);
    let copy = set.unindexed_copy();
    assert_eq!(copy.variants.len(), ORIGINS.len());
    for (i, o) in ORIGINS.iter().enumerate() {
        let r = req(&[("origin", o)]);
        assert_eq!(
            copy.select(&knobs, &r, SIM_EPOCH).map(|v| v.tag),
            Some(i as Tag)
        );
    }
}

/// Trimming a set (the proxy's per-URL variant cap) drops the oldest first and always
/// keeps the newest one.
#[test]
fn drop_oldest_keeps_the_newest() {
    let knobs = Knobs::rfc9111();
    let mut set = one_per_origin(&knobs);
    set.drop_oldest(2);
    let tags: Vec<Tag> = set.variants.iter().map(|v| v.tag).collect();
    assert_eq!(tags, [2, 3]);
    let gone = req(&[("origin", ORIGINS[0])]);
    assert_eq!(set.select(&knobs, &gone, SIM_EPOCH).map(|v| v.tag), None);
    set.drop_oldest(10);
    assert_eq!(set.variants.len(), 1);
    assert_eq!(set.variants[0].tag, 3);
}

/// RFC 9111 §4.4: an unsafe request invalidates the stored responses of its target URI
/// (GET and HEAD ones; the `OPTIONS` ones only a CDN keeps are left). Only variants
/// stored for one of the URLs go; the count is what went; and the set is indexed again
/// afterwards, so lookups stay a hash probe (issue 18), not a scan.
#[test]
fn invalidate_drops_only_that_urls_variants_and_reindexes() {
    let knobs = Knobs::rfc9111();
    let mut set = VariantSet::default();
    for i in 0..(2 * SMALL_SET + 4) {
        let mut r = req(&[("origin", &format!("https://o{i}"))]);
        r.target = if i % 2 == 0 { "/d" } else { "/e" }.into();
        set.insert(
            make_variant(&knobs, &r, resp(&[("vary", "Origin")]), SIM_EPOCH, i as Tag).unwrap(),
            None,
        );
    }
    let total = set.variants.len();
    assert_eq!(set.invalidate(&["https://api/elsewhere".to_string()]), 0);
    assert_eq!(set.variants.len(), total);
    assert_eq!(set.invalidate(&["https://api/d".to_string()]), total / 2);
    assert!(set.variants.iter().all(|v| &*v.url == "https://api/e"));
    let n = set.variants.len();
    let m = many(&mut set);
    assert_eq!(m.indexed, n, "the index is rebuilt");
    assert!(n > SMALL_SET && !m.index.is_empty());
}

/// Capacity accounting (`sim::Sim::stored`, the proxy's weigher builds on it): a set
/// weighs its responses' bytes plus 64 bytes of bookkeeping per variant.
#[test]
fn a_set_weighs_its_responses_and_64_bytes_each() {
    assert_eq!(VariantSet::default().byte_size(), 0);
    let set = one_per_origin(&Knobs::rfc9111());
    let want: usize = set
        .variants
        .iter()
        .map(|v| v.response.byte_size() + 64)
        .sum();
    assert_eq!(set.variants.len(), ORIGINS.len());
    assert_eq!(set.byte_size(), want);
}

/// The inline form a set takes for one variant, by tag: `None` when the set is not one
/// variant held inline.
fn one_tag(set: &VariantSet) -> Option<Tag> {
    match &set.variants.0 {
        Repr::One(v) => Some(v.tag),
        _ => None,
    }
}

/// A set of one variant is held inline (no list, no index) and grows into an indexed
/// list at the second distinct variant; trimmed back to one (by the cap, by dropping the
/// oldest, by invalidation) it is held inline again, and emptied it is nothing. Every
/// form answers lookups and reads (`len`, indexing, `capacity`) alike.
#[test]
fn one_variant_grows_to_a_list_and_back() {
    let knobs = Knobs::rfc9111();
    let store = |set: &mut VariantSet, o: &str, tag: Tag, cap: Option<usize>| {
        let r = req(&[("origin", o)]);
        let v = make_variant(&knobs, &r, resp(&[("vary", "Origin")]), SIM_EPOCH, tag);
        set.insert(v.unwrap(), cap)
    };
    let tag_for = |set: &VariantSet, o: &str| {
        set.select(&knobs, &req(&[("origin", o)]), SIM_EPOCH)
            .map(|v| v.tag)
    };
    let mut set = VariantSet::default();
    assert!(matches!(set.variants.0, Repr::Empty));
    assert_eq!((set.variants.len(), set.variants.capacity()), (0, 0));
    assert_eq!(tag_for(&set, "https://a"), None);
    // the first variant, then one with the same secondary key replacing it: inline
    assert_eq!(store(&mut set, "https://a", 1, None), 0);
    assert_eq!(one_tag(&set), Some(1));
    assert_eq!(store(&mut set, "https://a", 2, None), 0);
    assert_eq!(one_tag(&set), Some(2));
    assert_eq!((set.variants.len(), set.variants.capacity()), (1, 0));
    assert_eq!(set.variants[0].tag, 2);
    assert_eq!(tag_for(&set, "https://a"), Some(2));
    assert_eq!(tag_for(&set, "https://b"), None);
    // a second secondary key: a list of two, both found
    assert_eq!(store(&mut set, "https://b", 3, None), 0);
    assert_eq!(one_tag(&set), None);
    assert_eq!(many(&mut set).list.len(), 2);
    assert!(set.variants.capacity() >= 2);
    assert_eq!(
        (tag_for(&set, "https://a"), tag_for(&set, "https://b")),
        (Some(2), Some(3))
    );
    // a cap of one keeps the newest, inline again, and says one was evicted
    assert_eq!(store(&mut set, "https://c", 4, Some(1)), 2);
    assert_eq!(one_tag(&set), Some(4));
    assert_eq!(tag_for(&set, "https://a"), None);
    // a cap of one over one other variant replaces it inline
    assert_eq!(store(&mut set, "https://d", 5, Some(1)), 1);
    assert_eq!(one_tag(&set), Some(5));
    assert_eq!(store(&mut set, "https://d", 6, Some(1)), 0);
    assert_eq!(one_tag(&set), Some(6));
    // grown again, then dropping the oldest leaves the newest inline
    for (i, o) in ORIGINS.iter().enumerate() {
        store(&mut set, o, 10 + i as Tag, None);
    }
    // `https://d` is among them: it replaced tag 6
    assert_eq!(set.variants.len(), ORIGINS.len());
    set.drop_oldest(ORIGINS.len());
    assert_eq!(one_tag(&set), Some(10 + ORIGINS.len() as Tag - 1));
    set.drop_oldest(1);
    assert_eq!(set.variants.len(), 1, "the last one is kept");
    // invalidation: down to one (inline), then to none
    store(&mut set, "https://x", 20, None);
    let mut r = req(&[("origin", "https://y")]);
    r.target = "/other".into();
    let other = make_variant(&knobs, &r, resp(&[("vary", "Origin")]), SIM_EPOCH, 21);
    set.insert(other.unwrap(), None);
    assert_eq!(set.variants.len(), 3);
    assert_eq!(set.invalidate(&["https://api/d".to_string()]), 2);
    assert_eq!(one_tag(&set), Some(21));
    assert_eq!(set.invalidate(&["https://api/d".to_string()]), 0);
    assert_eq!(set.invalidate(&["https://api/other".to_string()]), 1);
    assert!(matches!(set.variants.0, Repr::Empty));
    assert!(set.variants.is_empty());
}

/// A set of one inline variant matches exactly as the scan does: a variant stored at a
/// later time is not visible before it, an absent field matches only absent, and a
/// `Vary: *` entry never matches (RFC 9111 §4.1).
#[test]
fn one_inline_variant_matches_as_a_scan() {
    let mut knobs = Knobs::rfc9111();
    knobs.vary_star = crate::edge::knobs::VaryStar::NeverMatch;
    let later = SIM_EPOCH.plus_ms(1000);
    for (vary, stored, at) in [
        ("Origin", Some("https://a"), SIM_EPOCH),
        ("Origin", None, SIM_EPOCH),
        ("Origin", Some("https://a"), later),
        ("Origin, Accept-Encoding", Some("https://a"), SIM_EPOCH),
        ("*", Some("https://a"), SIM_EPOCH),
        ("", None, SIM_EPOCH),
    ] {
        let h: Vec<(&str, &str)> = stored.iter().map(|o| ("origin", *o)).collect();
        let v = make_variant(&knobs, &req(&h), resp(&[("vary", vary)]), at, 1).unwrap();
        let mut set = VariantSet::default();
        set.insert(v, None);
        assert_eq!(one_tag(&set), Some(1));
        for probe in [None, Some("https://a"), Some("https://b"), Some("")] {
            let h: Vec<(&str, &str)> = probe.iter().map(|o| ("origin", *o)).collect();
            let r = req(&h);
            for now in [SIM_EPOCH, later] {
                let got = set.select(&knobs, &r, now).map(|v| v.tag);
                let want = set.scan(&knobs, &r, now).map(|v| v.tag);
                assert_eq!(got, want, "{vary} {stored:?} {probe:?} {now:?}");
                let visible = at <= now;
                let same = vary != "*" && (vary.is_empty() || probe == stored);
                assert_eq!(
                    got.is_some(),
                    visible && same,
                    "{vary} {stored:?} {probe:?}"
                );
            }
        }
    }
}

/// An unindexed copy of an inline variant is the same inline variant (shared, not
/// copied), and an empty set copies as empty.
#[test]
fn an_unindexed_copy_of_one_variant_shares_it() {
    let knobs = Knobs::rfc9111();
    let mut set = VariantSet::default();
    assert!(set.unindexed_copy().variants.is_empty());
    let v = make_variant(&knobs, &req(&[]), resp(&[]), SIM_EPOCH, 7).unwrap();
    set.insert(v, None);
    let copy = set.unindexed_copy();
    assert_eq!(one_tag(&copy), Some(7));
    assert!(Arc::ptr_eq(&copy.variants[0], &set.variants[0]));
    assert_eq!(
        copy.select(&knobs, &req(&[]), SIM_EPOCH).map(|v| v.tag),
        Some(7)
    );
}

/// The layouts the proxy's per-entry figures rest on (64-bit): a set is 16 bytes (none,
/// one shared variant, or a boxed list), a variant 144 (its `Arc` block in mimalloc's
/// 160-byte class).
#[test]
#[cfg(target_pointer_width = "64")]
fn set_and_variant_sizes() {
    assert_eq!(std::mem::size_of::<VariantSet>(), 16);
    assert_eq!(std::mem::size_of::<Variant>(), 144);
}

/// A line is taken whole exactly when splitting it as a list gives it back as its one
/// member: every string of up to four characters from a small alphabet, lines as
/// several members, and the combined value with several lines.
#[test]
fn a_bare_member_is_what_splitting_gives_back_whole() {
    let alphabet = ['a', ',', ' ', '\t', 'b'];
    let mut lines = vec![String::new()];
    for len in 1..=4u32 {
        for mut n in 0..alphabet.len().pow(len) {
            let mut s = String::new();
            for _ in 0..len {
                s.push(alphabet[n % alphabet.len()]);
                n /= alphabet.len();
            }
            lines.push(s);
        }
    }
    for line in &lines {
        let members: Vec<&str> = crate::fields::split_list(line).collect();
        assert_eq!(is_bare_member(line), members == [line.as_str()], "{line:?}");
    }
    for (a, b) in [("x", "y, z"), ("a , b", "c"), ("", "q"), (" p", "r\t")] {
        let r = req(&[("origin", a), ("origin", b)]);
        let mut got = Vec::new();
        let present = value_pieces(
            VaryCompare::Combine,
            &r.headers,
            "origin",
            &mut |p: &[u8]| got.extend_from_slice(p),
        );
        let want: Vec<&str> = [a, b]
            .iter()
            .flat_map(|l| crate::fields::split_list(l))
            .collect();
        assert!(present);
        assert_eq!(
            String::from_utf8(got).unwrap(),
            want.join(","),
            "{a:?} {b:?}"
        );
    }
}

const CHROME_AE: &str = "gzip, deflate, br, zstd";
const SAFARI_AE: &str = "gzip, deflate, br";

/// A set of `n` `Vary: Accept-Encoding, Origin` variants (one per Origin, stored with
/// Chrome's list), looked up with Safari's list, with none, with `br` only and with
/// gzip refused — through the set's one-variant, small-list and indexed paths alike.
fn accept_encoding_lookups(knobs: &Knobs, n: usize) -> Vec<[bool; 4]> {
    let origin = |i: usize| format!("https://o{i}");
    let mut set = VariantSet::default();
    for i in 0..n {
        let r = req(&[("origin", &origin(i)), ("accept-encoding", CHROME_AE)]);
        let v = make_variant(
            knobs,
            &r,
            resp(&[("vary", "Accept-Encoding, Origin")]),
            SIM_EPOCH,
            i as Tag,
        )
        .unwrap();
        set.insert(v, None);
    }
    (0..n)
        .map(|i| {
            let o = origin(i);
            let hit = |ae: Option<&str>| {
                let mut h = vec![("origin", o.as_str())];
                h.extend(ae.map(|v| ("accept-encoding", v)));
                let r = req(&h);
                let v = set.select(knobs, &r, SIM_EPOCH).map(|v| v.tag);
                assert_eq!(
                    v,
                    set.scan(knobs, &r, SIM_EPOCH).map(|v| v.tag),
                    "index vs scan"
                );
                v == Some(i as Tag)
            };
            [
                hit(Some(SAFARI_AE)),
                hit(None),
                hit(Some("br")),
                hit(Some("gzip;q=0, br")),
            ]
        })
        .collect()
}

/// Varnish (cache_vary.c vry_cmp, http_gzip_support on) never compares Accept-Encoding:
/// every spelling, absent included, matches. RFC 9111 compares the lists as they are.
#[test]
fn varnish_matches_any_accept_encoding() {
    let varnish = profile("varnish").unwrap().knobs;
    let rfc = Knobs::rfc9111();
    for n in [1, 3, 40] {
        for row in accept_encoding_lookups(&varnish, n) {
            assert_eq!(row, [true; 4], "varnish, {n} variants");
        }
        for row in accept_encoding_lookups(&rfc, n) {
            assert_eq!(row, [false; 4], "rfc9111, {n} variants");
        }
    }
}

/// ATS (normalize_ae 1) compares `gzip` or nothing: Safari's list matches Chrome's
/// (both accept gzip); no Accept-Encoding, `br` alone and gzip at q=0 do not.
#[test]
fn ats_matches_accept_encoding_normalised_to_gzip() {
    let ats = profile("ats").unwrap().knobs;
    for n in [1, 3, 40] {
        for row in accept_encoding_lookups(&ats, n) {
            assert_eq!(row, [true, false, false, false], "ats, {n} variants");
        }
    }
    // and the three that do not accept gzip share one variant among themselves
    let none = req(&[]);
    let v = make_variant(
        &ats,
        &none,
        resp(&[("vary", "Accept-Encoding")]),
        SIM_EPOCH,
        7,
    )
    .unwrap();
    let mut set = VariantSet::default();
    set.insert(v, None);
    for ae in ["br", "gzip;q=0, br", "identity"] {
        let r = req(&[("accept-encoding", ae)]);
        assert_eq!(
            set.select(&ats, &r, SIM_EPOCH).map(|v| v.tag),
            Some(7),
            "{ae}"
        );
    }
    assert!(set
        .select(&ats, &req(&[("accept-encoding", "x-gzip")]), SIM_EPOCH)
        .is_none());
}
