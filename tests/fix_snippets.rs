//! Every edge-configuration snippet `varyedge fix` prints (CloudFront JSON, VCL, nginx,
//! Cloudflare ruleset JSON) is read by `varyedge import cdn-config` (the library's
//! `import::import`), and, pasted into the scenario's edge (`import::overlay`), gives
//! knobs under which the scenario behaves as the proof replayed: where the candidate's
//! change fixes the replay, the imported snippet fixes it too.

use varyedge::fix::{self, FixKind};
use varyedge::import;
use varyedge::scenario::{self, Scenario};
use varyedge::sim;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bundled_paths() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .map(|n| format!("scenarios/{n}"))
        .collect();
    v.sort();
    v
}

fn load(path: &str, profile: Option<&str>) -> Scenario {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    scenario::parse_with_profile(path, &text, profile).unwrap()
}

/// Per step: (allowed, cache-induced).
fn outcome(sc: &Scenario) -> Vec<(bool, bool)> {
    sim::replay(sc)
        .unwrap()
        .steps
        .iter()
        .map(|s| (s.verdict.allowed, s.cache_induced))
        .collect()
}

/// Clean: no cache-induced step, none blocked that was allowed before.
fn clean(before: &[(bool, bool)], after: &[(bool, bool)]) -> bool {
    after.iter().zip(before).all(|(a, b)| !a.1 && (a.0 || !b.0))
}

/// Checks every edge snippet of every candidate of `sc`; returns how many were checked.
fn check(sc: &Scenario) -> usize {
    let before = outcome(sc);
    let mut n = 0;
    for kind in fix::candidates(sc) {
        let applied = fix::apply(sc, kind);
        let proof_clean = clean(&before, &outcome(&applied));
        for ch in fix::paste::changes(sc, kind).iter().filter(|c| c.edge) {
            let ext = match ch.lang {
                "vcl" => "vcl",
                "nginx" => "conf",
                _ => "json",
            };
            let name = format!("snippet-{}.{ext}", kind.id());
            let imp = import::import(&name, &ch.text).unwrap_or_else(|e| {
                panic!(
                    "{} [{}] {}: the snippet does not import: {e}\n{}",
                    sc.file,
                    kind.id(),
                    ch.target,
                    ch.text
                )
            });
            let unread: Vec<&String> = imp
                .warnings
                .iter()
                .filter(|w| !w.contains(".expression") && !w.contains("CustomErrorResponses"))
                .collect();
            assert!(
                unread.is_empty(),
                "{} [{}] {}: parts of the snippet are not read: {unread:?}",
                sc.file,
                kind.id(),
                ch.target
            );
            let mut pasted = applied.clone();
            pasted.edge.knobs = import::overlay(&sc.edge.knobs, &imp);
            let got = outcome(&pasted);
            if proof_clean {
                assert!(
                    clean(&before, &got),
                    "{} [{}] {}: the change fixes the replay, the imported snippet does not: {got:?}",
                    sc.file,
                    kind.id(),
                    ch.target
                );
            }
            if kind.side() == "edge" {
                assert_eq!(
                    got,
                    outcome(&applied),
                    "{} [{}] {}: the imported snippet and the modelled change disagree",
                    sc.file,
                    kind.id(),
                    ch.target
                );
            }
            n += 1;
        }
    }
    n
}

#[test]
fn every_bundled_failing_scenarios_edge_snippets_import_and_fix_it() {
    let mut checked = 0;
    let mut failing = 0;
    for path in bundled_paths() {
        let sc = load(&path, None);
        if sim::replay(&sc).unwrap().summary.cache_induced == 0 {
            continue;
        }
        failing += 1;
        checked += check(&sc);
    }
    assert!(failing >= 10, "only {failing} failing bundled scenarios");
    assert!(checked >= 10, "only {checked} snippets checked");
}

/// The bundled failing scenarios are mostly on CloudFront and RFC 9111 profiles; the
/// classic poisoning scenarios moved onto each edge with its own snippet forms cover the
/// VCL (Varnish, Fastly), nginx and Cloudflare snippets of every candidate.
#[test]
fn every_edge_snippet_form_imports_and_fixes_the_classic_scenarios() {
    let mut targets = std::collections::HashSet::new();
    for profile in [
        "varnish",
        "fastly",
        "nginx",
        "cloudflare",
        "cloudfront",
        "cloudfront-cors-s3",
    ] {
        for path in [
            "scenarios/01-reflect-without-vary.yaml",
            "scenarios/05-preflight-poisoned.yaml",
            "scenarios/03-request-without-origin-first.yaml",
        ] {
            let mut sc = load(path, Some(profile));
            sc.edge.knobs.cache_options = true; // so the OPTIONS candidates apply too
                                                // a zone whose cache rule excluded Origin (`exclude_origin: true`), so that
                                                // keying on it is a candidate there as elsewhere
            sc.edge.knobs.key_headers.retain(|h| h != "origin");
            check(&sc);
            for kind in fix::candidates(&sc) {
                for ch in fix::paste::changes(&sc, kind).iter().filter(|c| c.edge) {
                    targets.insert((kind, ch.target.clone()));
                }
            }
        }
    }
    for want in [
        (FixKind::EdgeKeyOrigin, "Varnish VCL"),
        (FixKind::EdgeKeyOrigin, "Fastly VCL"),
        (FixKind::EdgeKeyOrigin, "nginx (proxy_cache_key)"),
        (FixKind::EdgeKeyOrigin, "Cloudflare cache rule"),
        (FixKind::EdgeKeyOrigin, "CloudFront cache policy"),
        (FixKind::NoOptionsCache, "CloudFront cache behavior"),
        (FixKind::NoOptionsCache, "VCL"),
        (FixKind::NoOptionsCache, "nginx"),
        (FixKind::EdgeCors, "CloudFront response headers policy"),
        (FixKind::EdgeCors, "Varnish VCL"),
        (FixKind::EdgeCors, "Fastly VCL"),
        (
            FixKind::EdgeCors,
            "Cloudflare response header transform rule",
        ),
    ] {
        assert!(
            targets.contains(&(want.0, want.1.to_string())),
            "{want:?} never checked; checked: {targets:?}"
        );
    }
}
