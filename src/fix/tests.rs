use super::*;
use crate::scenario;
use crate::sim;

fn root() -> String {
    env!("CARGO_MANIFEST_DIR").to_string()
}

fn load(path: &str, profile: Option<&str>) -> Scenario {
    let text = std::fs::read_to_string(format!("{}/{path}", root())).unwrap();
    scenario::parse_with_profile(path, &text, profile).unwrap()
}

fn bundled() -> Vec<Scenario> {
    scenario::tests_support::bundled_files("")
        .iter()
        .map(|p| {
            let rel = format!("scenarios/{}", p.file_name().unwrap().to_string_lossy());
            load(&rel, None)
        })
        .collect()
}

/// Re-checks a proof independently of `advise`: apply, replay with `sim::replay`, no
/// cache-induced step and no step blocked that was allowed before.
fn recheck(sc: &Scenario, kind: FixKind) {
    let before = sim::replay(sc).unwrap();
    let after = sim::replay(&apply(sc, kind)).unwrap();
    for (a, b) in after.steps.iter().zip(&before.steps) {
        assert!(
            !a.cache_induced,
            "{}: {} leaves step {} cache-induced",
            sc.file,
            kind.id(),
            a.index
        );
        assert!(
            a.verdict.allowed || !b.verdict.allowed,
            "{}: {} blocks step {}",
            sc.file,
            kind.id(),
            a.index
        );
    }
}

#[test]
fn every_failing_bundled_scenario_gets_a_proven_fix() {
    let mut failing = 0;
    for sc in bundled() {
        let t = sim::replay(&sc).unwrap();
        if t.summary.cache_induced == 0 {
            continue;
        }
        failing += 1;
        let a = advise(&sc, 40).unwrap();
        assert!(a.needs_fix());
        assert!(
            a.fixed(),
            "{}: no working fix among {:?}",
            sc.file,
            a.candidates
                .iter()
                .map(|c| (c.kind, &c.proof))
                .collect::<Vec<_>>()
        );
        assert!(
            a.candidates[0].proof.works,
            "{}: the first-ranked fix must work",
            sc.file
        );
        for c in a.candidates.iter().filter(|c| c.proof.works) {
            assert!(c.proof.remaining.is_empty() && c.proof.explore_failing == 0);
            recheck(&sc, c.kind);
        }
    }
    assert!(
        failing >= 5,
        "only {failing} bundled scenarios fail; the test would prove little"
    );
}

#[test]
fn on_cloudfront_the_first_fix_works_there_and_vary_origin_is_not_first() {
    let mut seen = 0;
    for sc in bundled() {
        if !sc.edge.profile.starts_with("cloudfront") {
            continue;
        }
        let a = advise(&sc, 40).unwrap();
        if !a.needs_fix() {
            continue;
        }
        seen += 1;
        let first = &a.candidates[0];
        assert!(first.proof.works, "{}", sc.file);
        if first.kind == FixKind::OriginVary {
            // Only where the poisoned copy sits in the browser's own HTTP cache, which
            // honours Vary: CloudFront's ignoring it does not matter there.
            let t = sim::replay(&sc).unwrap();
            assert!(
                t.steps
                    .iter()
                    .filter(|s| s.cache_induced)
                    .all(|s| s.served_by == crate::scenario::ServedBy::Browser),
                "{}: Vary: Origin ranked first although the edge served the failure",
                sc.file
            );
        }
        recheck(&sc, first.kind);
    }
    // The classic reflect-without-Vary scenario moved onto CloudFront: `Vary: Origin` is a
    // candidate, and its proof shows it fails there (CloudFront ignores Vary).
    let sc = load("scenarios/01-reflect-without-vary.yaml", Some("cloudfront"));
    let a = advise(&sc, 40).unwrap();
    let vary = a
        .candidates
        .iter()
        .find(|c| c.kind == FixKind::OriginVary)
        .unwrap();
    assert!(!vary.proof.works && !vary.proof.remaining.is_empty());
    assert!(a.candidates[0].proof.works);
    assert!(seen >= 2, "only {seen} failing cloudfront scenarios");
}

#[test]
fn cost_matches_a_hand_computation() {
    // 01-reflect-without-vary on url-only with cache_options: true.
    // Steps: #0 app1 GET /api/data, #1 app2 GET /api/data, #2 app2 PUT with credentials
    // (preflighted; the preflight fails: no Access-Control-Allow-Credentials, so the PUT is
    // never sent).
    // Before: #0 miss (forwarded, stores the GET), #1 hit on that entry, #2's OPTIONS miss
    // (forwarded, stored: cache_options) → 3 edge requests, 1 hit, 2 forwarded, 2 variants.
    // After edge-key-origin: #1's key holds app2's Origin → a miss too → 3 requests, 0 hits,
    // 3 forwarded, 3 variants (two GET entries, one OPTIONS).
    // Bytes of one GET entry (Headers::byte_size = name + value + 4 per field):
    //   date "Thu, 01 Jan 2026 00:00:00 GMT"           4 + 29 + 4 = 37
    //   cache-control "public, max-age=300"            13 + 19 + 4 = 36
    //   content-type "application/json"                12 + 16 + 4 = 32
    //   access-control-allow-origin "https://appN.example.com" 27 + 24 + 4 = 55
    //   headers 160 + body `{"status":"ok"}` 15 + 16 (Response) + 64 (variant) = 255.
    // So after = before + 255 (app2's GET entry is the same size as app1's).
    let sc = load("scenarios/01-reflect-without-vary.yaml", None);
    let a = advise(&sc, 10).unwrap();
    let c = a
        .candidates
        .iter()
        .find(|c| c.kind == FixKind::EdgeKeyOrigin)
        .unwrap();
    let [b, f] = c.scenario_cost;
    assert_eq!(
        (b.edge_requests, b.hits, b.forwarded, b.variants),
        (3, 1, 2, 2)
    );
    assert_eq!(
        (f.edge_requests, f.hits, f.forwarded, f.variants),
        (3, 0, 3, 3)
    );
    assert!((b.hit_ratio() - 1.0 / 3.0).abs() < 1e-12 && f.hit_ratio() == 0.0);
    assert_eq!(f.bytes - b.bytes, 255);
    // The no-OPTIONS-cache candidate stores only the one GET entry: 255 bytes.
    let n = a
        .candidates
        .iter()
        .find(|c| c.kind == FixKind::NoOptionsCache)
        .unwrap();
    assert_eq!(
        (n.scenario_cost[1].variants, n.scenario_cost[1].bytes),
        (1, 255)
    );
}

#[test]
fn allow_any_is_not_offered_with_credentials_or_to_refused_origins() {
    let sc = load("scenarios/01-reflect-without-vary.yaml", None);
    assert!(
        !applies(&sc, FixKind::AllowAny),
        "step #2 sends credentials"
    );
    let mut no_creds = sc.clone();
    no_creds.steps.truncate(2);
    assert!(applies(&no_creds, FixKind::AllowAny));
}

#[test]
fn mix_cost_uses_the_traffic_model_when_given() {
    let path = "scenarios/traffic/reflect-without-vary.yaml";
    let text = std::fs::read_to_string(format!("{}/{path}", root())).unwrap();
    let sc = scenario::parse(path, &text).unwrap();
    let m = crate::traffic::parse(path, &text, &sc).unwrap().unwrap();
    let a = advise_with(&sc, 10, Some(&m)).unwrap();
    assert!(a.mix.contains("traffic model"), "{}", a.mix);
    let g = crate::traffic::sampled(&sc, &m, 0).unwrap();
    let (_, before) = proof::measure(&g).unwrap();
    assert!(before.edge_requests > 100);
    assert_eq!(a.candidates[0].mix_cost[0], before);
    let (_, after) = proof::measure(&apply(&g, a.candidates[0].kind)).unwrap();
    assert_eq!(a.candidates[0].mix_cost[1], after);
    assert!(a.fixed());
}

#[test]
fn edge_answers_cors_costs_nothing_in_the_cache_by_hand() {
    // 27-edge-answers-cors without its edge_cors: cloudfront-cors-custom forwards Origin
    // without keying it. #0 app1 GET miss (forwarded, stored with app1's ACAO, no Vary),
    // #1 app2 GET +1s hit on that entry → blocked, cache-induced.
    // Before: 2 edge requests, 1 hit, 1 forwarded, 1 variant.
    // edge-answers-cors rewrites the fields after the cache: the same hit, the same one
    // stored entry (the rewrite is not stored) → after == before, byte for byte.
    // edge-key-origin: #1's key holds app2's Origin → a miss → 2 forwarded, 0 hits,
    // 2 variants. So the edge's own CORS ranks above keying (fewer forwarded requests).
    let mut sc = load("scenarios/27-edge-answers-cors.yaml", None);
    assert!(
        advise(&sc, 10).unwrap().candidates.is_empty(),
        "27 passes as it is"
    );
    sc.edge.knobs.edge_cors = None;
    let a = advise(&sc, 10).unwrap();
    assert_eq!(a.failing, vec![1]);
    let find = |k: FixKind| a.candidates.iter().find(|c| c.kind == k).unwrap();
    let e = find(FixKind::EdgeCors);
    let [b, f] = e.scenario_cost;
    assert_eq!(
        (b.edge_requests, b.hits, b.forwarded, b.variants),
        (2, 1, 1, 1)
    );
    assert_eq!(f, b);
    assert!(e.proof.works && e.proof.removed == vec![1]);
    let k = find(FixKind::EdgeKeyOrigin).scenario_cost[1];
    assert_eq!(
        (k.edge_requests, k.hits, k.forwarded, k.variants),
        (2, 0, 2, 2)
    );
    let rank = |k: FixKind| a.candidates.iter().position(|c| c.kind == k).unwrap();
    assert!(rank(FixKind::EdgeCors) < rank(FixKind::EdgeKeyOrigin));
    // the pasted policy carries the scenario's two origins and overrides the origin
    let cf = &e.changes[0];
    assert_eq!(cf.target, "CloudFront response headers policy");
    assert!(cf.text.contains("\"OriginOverride\": true"));
    assert!(
        cf.text.contains("https://app1.example.com")
            && cf.text.contains("https://app2.example.com")
    );
}

#[test]
fn bundled_scenarios_failing_only_in_explore_get_a_proven_fix_too() {
    // A replay can pass while explore finds the poisoning (29: the revalidation that
    // updates ACAO hides it in the written order); those need a fix as well.
    let mut seen = 0;
    for sc in bundled() {
        if sim::replay(&sc).unwrap().summary.cache_induced > 0 {
            continue; // covered above
        }
        let a = advise(&sc, 20).unwrap();
        if !a.needs_fix() {
            assert!(a.candidates.is_empty(), "{}", sc.file);
            continue;
        }
        seen += 1;
        assert!(
            a.candidates[0].proof.works,
            "{}: {:?}",
            sc.file, a.candidates[0]
        );
        for c in a.candidates.iter().filter(|c| c.proof.works) {
            assert_eq!(c.proof.explore_failing, 0);
            recheck(&sc, c.kind);
        }
    }
    assert!(seen >= 1, "no bundled scenario fails in explore only");
}

#[test]
fn cloudfront_error_responses_list_the_scenarios_own_error_statuses() {
    let sc = load("scenarios/22-preflight-auth-401.yaml", None);
    assert!(applies(&sc, FixKind::ErrorsNoStore));
    let v = paste::changes(&sc, FixKind::ErrorsNoStore);
    let cf = v.iter().find(|c| c.edge).unwrap();
    assert_eq!(
        cf.text,
        "{\"DistributionConfig\":{\"CustomErrorResponses\":{\"Items\":[{\"ErrorCachingMinTTL\":0,\"ErrorCode\":401}],\"Quantity\":1}}}\n"
    );
}
