//! `varyedge import cdn-config`: each supported format imports to the documented knobs,
//! the lab's nginx/Varnish configs (and variants) import to their profiles' knobs,
//! scenarios can `import:` a config, and bad configs are exit 2 with a location.

use std::path::{Path, PathBuf};
use std::process::Command;
use varyedge::edge::forward::ForwardHeaders;
use varyedge::import::{self, Imported};
use varyedge::profile::{self, PreflightKey, QueryKey, VaryMode};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/import")
        .join(name)
}

fn lab(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/lab/peers")
        .join(rel)
}

fn imp(path: &Path) -> Imported {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    import::import(&path.display().to_string(), &text).unwrap_or_else(|e| panic!("{e}"))
}

fn imp_text(name: &str, text: &str) -> Imported {
    import::import(name, text).unwrap_or_else(|e| panic!("{e}"))
}

/// A CloudFormation distribution whose default behavior uses these (managed) ids.
fn behavior(cache: &str, orp: Option<&str>, cached: &str) -> String {
    let orp = orp.map_or(String::new(), |o| {
        format!(", \"OriginRequestPolicyId\": \"{o}\"")
    });
    format!(
        "{{ \"Resources\": {{ \"D\": {{ \"Type\": \"AWS::CloudFront::Distribution\", \"Properties\": {{ \"DistributionConfig\": {{ \"DefaultCacheBehavior\": {{ \"AllowedMethods\": [\"GET\", \"HEAD\", \"OPTIONS\"], \"CachedMethods\": [{cached}], \"CachePolicyId\": \"{cache}\"{orp} }} }} }} }} }} }}"
    )
}

const OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

#[test]
fn managed_policies_import_to_documented_knobs() {
    let cf = profile::profile("cloudfront").unwrap().knobs;
    // CachingOptimized alone = the cloudfront profile
    let i = imp_text("t.json", &behavior(OPTIMIZED, None, "\"GET\", \"HEAD\""));
    assert_eq!(i.profile, "cloudfront");
    assert_eq!(i.knobs, cf);
    assert!(i.warnings.is_empty(), "{:?}", i.warnings);
    // + CORS-CustomOrigin = cloudfront-cors-custom
    let i = imp_text(
        "t.json",
        &behavior(
            OPTIMIZED,
            Some("59781a5b-3903-41f3-afcb-af62929ccde1"),
            "\"GET\", \"HEAD\"",
        ),
    );
    assert_eq!(
        i.knobs,
        profile::profile("cloudfront-cors-custom").unwrap().knobs
    );
    // + CORS-S3Origin + OPTIONS cached = cloudfront-cors-s3
    let i = imp_text(
        "t.json",
        &behavior(
            OPTIMIZED,
            Some("88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"),
            "\"GET\", \"HEAD\", \"OPTIONS\"",
        ),
    );
    assert_eq!(
        i.knobs,
        profile::profile("cloudfront-cors-s3").unwrap().knobs
    );
    // + AllViewer: everything forwarded (User-Agent too), nothing keyed
    let i = imp_text(
        "t.json",
        &behavior(
            OPTIMIZED,
            Some("216adef6-5c7f-47e4-b989-5492eafa07d3"),
            "\"GET\", \"HEAD\"",
        ),
    );
    assert_eq!(i.knobs.forward.headers, ForwardHeaders::All);
    assert!(i.knobs.key_headers.is_empty());
    // CachingDisabled: TTL 0/0/0
    let i = imp_text(
        "t.json",
        &behavior(
            "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
            None,
            "\"GET\", \"HEAD\"",
        ),
    );
    assert_eq!(
        (i.knobs.ttl.min, i.knobs.ttl.default, i.knobs.ttl.max),
        (Some(0), Some(0), Some(0))
    );
    // UseOriginCacheControlHeaders: Host, Origin and the method-override headers keyed;
    // cookies in the key are named as not modelled
    let i = imp_text(
        "t.json",
        &behavior(
            "83da9c7e-98b4-4e11-a168-04f0df8e2c65",
            None,
            "\"GET\", \"HEAD\"",
        ),
    );
    assert_eq!(
        i.knobs.key_headers,
        [
            "host",
            "origin",
            "x-http-method-override",
            "x-http-method",
            "x-method-override"
        ]
    );
    assert_eq!(
        (i.knobs.ttl.min, i.knobs.ttl.default, i.knobs.ttl.max),
        (Some(0), Some(0), Some(31_536_000))
    );
    assert!(
        i.warnings.iter().any(|w| w.contains("CookieBehavior all")),
        "{:?}",
        i.warnings
    );
}

#[test]
fn api_json_of_a_cache_policy() {
    let i = imp_text(
        "get-cache-policy.json",
        r#"{ "ETag": "E1", "CachePolicy": { "Id": "x", "CachePolicyConfig": { "Name": "p", "MinTTL": 0, "DefaultTTL": 10, "MaxTTL": 20,
            "ParametersInCacheKeyAndForwardedToOrigin": { "EnableAcceptEncodingGzip": true,
              "HeadersConfig": { "HeaderBehavior": "whitelist", "Headers": { "Quantity": 1, "Items": ["Origin"] } },
              "QueryStringsConfig": { "QueryStringBehavior": "all" }, "CookiesConfig": { "CookieBehavior": "none" } } } } }"#,
    );
    assert_eq!(i.knobs.key_headers, ["origin"]);
    assert_eq!(i.knobs.query, QueryKey::All);
    assert_eq!(i.knobs.ttl.default, Some(10));
    assert!(i.notes.iter().any(|n| n.knob == "key_headers" && n.from.contains("$.CachePolicy.CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig")));
}

#[test]
fn cloudformation_and_terraform_with_an_origin_keying_policy() {
    for f in ["cf-stack.yaml", "tf-show.json"] {
        let i = imp(&fixture(f));
        assert_eq!(i.profile, "cloudfront", "{f}");
        assert!(i.knobs.key_headers.contains(&"origin".to_string()), "{f}");
        // keyed, hence forwarded: the origin sees Origin
        assert!(
            varyedge::edge::forward::forwards_origin(&i.knobs.forward, &i.knobs.key_headers),
            "{f}"
        );
    }
    let y = imp(&fixture("cf-stack.yaml"));
    assert!(y.knobs.cache_options);
    assert_eq!(
        (y.knobs.ttl.min, y.knobs.ttl.default, y.knobs.ttl.max),
        (Some(0), Some(60), Some(3600))
    );
    assert!(y
        .warnings
        .iter()
        .any(|w| w.contains("CacheBehaviors[0] (PathPattern /static/*)")));
    let t = imp(&fixture("tf-show.json"));
    assert_eq!(t.knobs.query, QueryKey::List(vec!["v".into()]));
    assert!(!t.knobs.cache_options);
}

#[test]
fn response_headers_policy_cors_is_the_edge_answering() {
    let i = imp(&fixture("cf-stack.json"));
    let c = i.knobs.edge_cors.as_ref().expect("edge_cors");
    assert!(c.origin_override);
    assert_eq!(
        c.allow_origins,
        ["https://app1.example.com", "https://app2.example.com"]
    );
    assert_eq!(
        i.knobs.forward,
        profile::profile("cloudfront-cors-custom")
            .unwrap()
            .knobs
            .forward
    );
}

#[test]
fn cloudflare_ruleset() {
    let i = imp(&fixture("cloudflare-ruleset.json"));
    assert_eq!(i.profile, "cloudflare");
    // exclude_origin: true drops the default Origin from the key
    assert_eq!(i.knobs.key_headers, ["x-tenant"]);
    assert_eq!(i.knobs.query, QueryKey::List(vec!["v".into()]));
    assert_eq!(i.knobs.ttl.min, Some(120));
    assert!(i
        .warnings
        .iter()
        .any(|w| w.contains("cache_deception_armor")));
    assert!(i.warnings.iter().any(|w| w.contains("expression")));
    let v = imp_text(
        "v.json",
        r#"{ "rules": [ { "action": "set_cache_settings", "expression": "true", "action_parameters": { "vary": { "headers": { "origin": { "action": "normalize" } } } } } ] }"#,
    );
    assert_eq!(v.knobs.vary, VaryMode::Honor);
    assert_eq!(
        v.knobs.key_headers,
        ["origin"],
        "Origin stays in the default key"
    );
}

#[test]
fn lab_configs_import_to_their_profiles() {
    let n = imp(&lab("nginx/nginx.conf.in"));
    let mut want = profile::profile("nginx").unwrap().knobs;
    want.ttl.default = Some(60); // proxy_cache_valid 200 1m
    assert_eq!(n.knobs, want);
    // the one thing it cannot say: that 1m is for 200 only
    assert_eq!(n.warnings.len(), 1, "{:?}", n.warnings);
    assert!(
        n.warnings[0].contains("one default TTL for every status"),
        "{:?}",
        n.warnings
    );
    let v = imp(&lab("varnish/lab.vcl.in"));
    assert_eq!(v.knobs, profile::profile("varnish").unwrap().knobs);
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    let o = imp(&lab("varnish-options/lab.vcl.in"));
    assert!(o.knobs.cache_options);
    assert_eq!(o.knobs.preflight_key, PreflightKey::Ignore);
    // the X-Lab-Preflight marker lines are named, not silently dropped
    assert!(
        o.warnings.iter().any(|w| w.contains("X-Lab-Preflight")),
        "{:?}",
        o.warnings
    );
}

#[test]
fn variants_origin_in_key() {
    let n = imp(&fixture("nginx-origin-key.conf"));
    assert_eq!(n.knobs.key_headers, ["origin"]);
    assert_eq!(n.knobs.vary, VaryMode::Ignore);
    assert!(n.knobs.forward.strip.contains(&"cookie".to_string()));
    assert!(n
        .warnings
        .iter()
        .any(|w| w.contains("proxy_cache_min_uses")));
    let v = imp(&fixture("varnish-origin-hash.vcl"));
    assert_eq!(v.knobs.key_headers, ["origin"]);
    assert!(v.knobs.key_host, "the builtin vcl_hash still adds the host");
    let f = imp(&fixture("fastly.vcl"));
    assert_eq!(f.profile, "fastly");
    assert_eq!(f.knobs.key_headers, ["origin"]);
    assert_eq!(f.knobs.ttl.max, Some(300));
    assert!(f.knobs.pass_authorization);
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn bad_configs_exit_2_with_a_location() {
    for (f, want) in [
        ("bad-nginx.conf", "bad-nginx.conf:3:5: proxy_cache_methods accepts GET, HEAD and POST only"),
        ("bad-cache-policy.json", "at $.CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.HeaderBehavior: expected none or whitelist, found \"some\""),
        ("bad-json.json", "bad-json.json:2:1: invalid JSON"),
        ("bad.vcl", "bad.vcl:5:3: expected `;`"),
    ] {
        let p = fixture(f);
        let (code, out, err) = run(&["import", "cdn-config", p.to_str().unwrap()]);
        assert_eq!(code, 2, "{f}: {err}");
        assert!(out.is_empty(), "{f}: partial output {out}");
        assert!(err.contains(want), "{f}: {err}");
    }
}

#[test]
fn output_is_an_edge_block_a_scenario_accepts() {
    let dir = std::env::temp_dir().join(format!("varyedge-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in [
        "cf-stack.yaml",
        "cf-stack.json",
        "tf-show.json",
        "cloudflare-ruleset.json",
        "nginx-origin-key.conf",
        "fastly.vcl",
    ] {
        let (code, out, err) = run(&["import", "cdn-config", fixture(f).to_str().unwrap()]);
        assert_eq!(code, 0, "{f}: {err}");
        // every knob line names its source
        for l in out.lines().filter(|l| {
            l.starts_with("  ") && !l.starts_with("  profile") && !l.trim_start().starts_with('#')
        }) {
            assert!(l.contains("  # "), "{f}: knob without a source: {l}");
        }
        let sc = format!("{out}origin:\n  cors: {{ allow_origins: [https://app1.example.com] }}\n  routes: [{{ path: /d, cache_control: \"max-age=60\" }}]\nclients:\n  - {{ name: a, origin: https://app1.example.com }}\nsteps:\n  - {{ client: a, fetch: GET /d }}\n");
        let back = varyedge::scenario::parse(f, &sc).unwrap_or_else(|e| panic!("{f}: {e}\n{sc}"));
        assert_eq!(
            back.edge.knobs,
            imp(&fixture(f)).knobs,
            "{f}: the block round-trips"
        );
        let _ = std::fs::remove_file(dir.join(f));
    }
    let _ = std::fs::remove_dir(&dir);
}

#[test]
fn a_scenario_can_import_its_edge() {
    let dir = std::env::temp_dir().join(format!("varyedge-import-sc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("cf-stack.yaml"), dir.join("cf-stack.yaml")).unwrap();
    let sc = dir.join("s.yaml");
    std::fs::write(&sc, "origin:\n  cors: { allow_origins: [https://a.example, https://b.example], vary_origin: true }\n  routes: [{ path: /d, cache_control: \"public, max-age=60\" }]\nedge: { import: cf-stack.yaml }\nclients:\n  - { name: a, origin: https://a.example }\n  - { name: b, origin: https://b.example }\nsteps:\n  - { client: a, fetch: GET /d, expect: { cors: ok, cache: miss } }\n  - { client: b, fetch: GET /d, expect: { cors: ok, cache: miss } }\n  - { client: a, fetch: GET /d, expect: { cors: ok, cache: hit } }\n").unwrap();
    let (code, out, err) = run(&["replay", sc.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    std::fs::write(&sc, "origin:\n  cors: { allow_origins: [https://a.example] }\n  routes: [{ path: /d }]\nedge: { import: missing.yaml }\nclients:\n  - { name: a, origin: https://a.example }\nsteps:\n  - { client: a, fetch: GET /d }\n").unwrap();
    let (code, _, err) = run(&["replay", sc.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("missing.yaml") && err.contains("s.yaml:4:"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `set beresp.http.Vary` in `vcl_backend_response` (the usual Varnish CORS fix): the
/// stored object varies on the named headers, so each Origin gets its own object, which
/// the model keys as `key_headers`. A computed value is named as not modelled.
#[test]
fn vcl_beresp_vary_keys_the_named_headers() {
    let vcl = "vcl 4.1;\nbackend b { .host = \"127.0.0.1\"; }\nsub vcl_backend_response {\n    set beresp.http.Vary = beresp.http.Vary + \", Origin\";\n}\n";
    let v = imp_text("v.vcl", vcl);
    assert_eq!(v.knobs.key_headers, ["origin"]);
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    assert!(
        v.notes
            .iter()
            .any(|n| n.knob == "key_headers" && n.from.starts_with("v.vcl:4")),
        "{:?}",
        v.notes
    );
    let plain = vcl.replace(
        "beresp.http.Vary + \", Origin\"",
        "\"Accept-Encoding, Origin\"",
    );
    assert_eq!(imp_text("v.vcl", &plain).knobs.key_headers, ["origin"]);
    let ae = imp_text(
        "v.vcl",
        &vcl.replace("beresp.http.Vary + \", Origin\"", "\"Accept-Encoding\""),
    );
    assert!(ae.knobs.key_headers.is_empty() && ae.warnings.is_empty());
    assert!(!ae
        .notes
        .iter()
        .any(|n| n.knob == "key_headers" && n.from.starts_with("v.vcl:4")));
    let computed = vcl.replace("beresp.http.Vary + \", Origin\"", "req.http.X-Vary");
    let c = imp_text("v.vcl", &computed);
    assert!(c.knobs.key_headers.is_empty());
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("v.vcl:4") && w.contains("not modelled")),
        "{:?}",
        c.warnings
    );
}
