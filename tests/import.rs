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

/// nginx answers stale within a response's `stale-while-revalidate` window only with
/// `proxy_cache_background_update on` (the nginx profile has it off, as nginx does).
#[test]
fn nginx_background_update_turns_stale_while_revalidate_on() {
    let base = "proxy_cache_path /c keys_zone=z:1m;\nserver { location / { proxy_pass http://o; proxy_cache z;";
    let on = imp_text(
        "n.conf",
        &format!("{base} proxy_cache_background_update on; proxy_cache_use_stale updating error; }} }}\n"),
    );
    assert!(on.knobs.stale_while_revalidate);
    assert!(
        on.warnings
            .iter()
            .any(|w| w.contains("proxy_cache_use_stale updating")),
        "{:?}",
        on.warnings
    );
    let off = imp_text(
        "n.conf",
        &format!("{base} proxy_cache_background_update off; }} }}\n"),
    );
    assert!(!off.knobs.stale_while_revalidate);
    let unset = imp_text("n.conf", &format!("{base} }} }}\n"));
    assert!(!unset.knobs.stale_while_revalidate);
    assert!(
        !profile::profile("nginx")
            .unwrap()
            .knobs
            .stale_while_revalidate
    );
    // and the edge block written for it says so, with the line it comes from
    let dir = std::env::temp_dir().join(format!("varyedge-import-swr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("n.conf");
    std::fs::write(
        &f,
        format!("{base}\nproxy_cache_background_update on; }} }}\n"),
    )
    .unwrap();
    let (code, out, err) = run(&["import", "cdn-config", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("  stale_while_revalidate: true  # ")
            && out.contains("n.conf:3: proxy_cache_background_update on"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// VCL `set beresp.grace` fixes every object's grace (over the directive and
/// default_grace), and the edge block says where it came from; a conditional one is
/// left alone, and an unreadable duration is a warning.
#[test]
fn vcl_beresp_grace_fixes_the_grace() {
    let vcl = |body: &str| {
        imp_text(
            "g.vcl",
            &format!("vcl 4.1;\nbackend default {{ .host = \"127.0.0.1\"; .port = \"8080\"; }}\nsub vcl_backend_response {{\n{body}\n}}\n"),
        )
    };
    let six = vcl("  set beresp.grace = 6h;");
    assert_eq!(six.knobs.grace.fixed, Some(21_600));
    assert_eq!(six.knobs.grace.default, 10);
    let cond = vcl("  if (beresp.status == 200) { set beresp.grace = 1h; }");
    assert_eq!(cond.knobs.grace.fixed, None);
    let bad = vcl("  set beresp.grace = soon;");
    assert_eq!(bad.knobs.grace.fixed, None);
    assert!(
        bad.warnings
            .iter()
            .any(|w| w.contains("expected a duration")),
        "{:?}",
        bad.warnings
    );
    // Fastly: beresp.stale_while_revalidate fixes it; its beresp.grace is stale-if-error's
    let fastly = |body: &str| imp_text("f.vcl", &format!("sub vcl_fetch {{\n{body}\n}}\n"));
    let swr = fastly("  set beresp.stale_while_revalidate = 30s;");
    assert_eq!((swr.profile, swr.knobs.grace.fixed), ("fastly", Some(30)));
    let on_error = fastly("  set beresp.grace = 1h;");
    assert_eq!(on_error.knobs.grace.fixed, None);
    assert!(
        on_error
            .warnings
            .iter()
            .any(|w| w.contains("only when the origin fails")),
        "{:?}",
        on_error.warnings
    );
    let dir = std::env::temp_dir().join(format!("varyedge-import-grace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("g.vcl");
    std::fs::write(
        &f,
        "vcl 4.1;\nbackend default { .host = \"127.0.0.1\"; .port = \"8080\"; }\nsub vcl_backend_response {\n  set beresp.grace = 2m;\n}\n",
    )
    .unwrap();
    let (code, out, err) = run(&["import", "cdn-config", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("  grace: { default: 10, fixed: 120 }  # ")
            && out.contains("g.vcl:4: set beresp.grace = 2m"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
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
        ("bad.vcl", "bad.vcl:4:18: expected ';' after `return(hash)`, found `}`"),
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

// ---- nginx and VCL: syntax nginx / VCC refuse, add_header CORS, provenance ----

/// The error `import::import` gives for `text`, as `file:line:col: message`.
fn import_err(name: &str, text: &str) -> String {
    match import::import(name, text) {
        Ok(i) => panic!("{name} imported, expected an error: {:?}", i.knobs),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_missing_semicolon_is_exit_2_where_it_belongs() {
    for (f, want) in [
        (
            "text-nginx-missing-semicolon.conf",
            "text-nginx-missing-semicolon.conf:5:24: expected ';' after the arguments of \"proxy_cache\", found \"proxy_cache_key\" (line 6)",
        ),
        (
            "text-vcl-missing-semicolon.vcl",
            "text-vcl-missing-semicolon.vcl:5:23: expected ';' after `hash_data(req.url)`, found `hash_data`",
        ),
    ] {
        let p = fixture(f);
        let (code, out, err) = run(&["import", "cdn-config", p.to_str().unwrap()]);
        assert_eq!(code, 2, "{f}: {err}");
        assert!(out.is_empty(), "{f}: partial output {out}");
        assert!(err.contains(want), "{f}: {err}");
    }
}

#[test]
fn nginx_directives_nginx_refuses_are_errors() {
    let server = |body: &str| format!("server {{\n    location / {{\n{body}\n    }}\n}}\n");
    for (body, want) in [
        // ended by `}`: nginx says unexpected "}"
        (
            "        proxy_pass http://backend",
            "t.conf:3:34: expected ';' after the arguments of \"proxy_pass\", found '}' (line 4, column 5)",
        ),
        ("        proxy_cache a b c;", "t.conf:3:9: \"proxy_cache\" takes 1 argument, found 3"),
        ("        proxy_cache_key;", "\"proxy_cache_key\" takes 1 argument, found 0"),
        ("        proxy_set_header Cookie;", "\"proxy_set_header\" takes 2 arguments, found 1"),
        (
            "        add_header Vary Origin sometimes;",
            "t.conf:3:32: the third argument of \"add_header\" can only be \"always\", found \"sometimes\"",
        ),
        (
            "        add_header A b always extra;",
            "\"add_header\" takes 2 to 3 arguments, found 4",
        ),
        (
            "        proxy_cache_valid 200 10m\n        add_header Vary Origin;",
            "expected ';' after the arguments of \"proxy_cache_valid\", found \"add_header\" (line 4)",
        ),
        (
            "        proxy_cache_valid 2xx 10m;",
            "t.conf:3:27: expected a status code such as 200, or \"any\"",
        ),
        ("        location /x;", "\"location\" has no block: expected '{'"),
        ("        proxy_cache c {}", "\"proxy_cache\" does not take a block"),
    ] {
        let e = import_err("t.conf", &server(body));
        assert!(e.contains(want), "{body}: {e}");
    }
    // end of file in the middle of a directive
    let e = import_err("t.conf", "proxy_cache_path /tmp keys_zone=a:1m");
    assert!(
        e.contains("t.conf:1:37: expected ';' after the arguments of \"proxy_cache_path\", found end of file"),
        "{e}"
    );
    // `server` in `upstream` is a directive, not a block; multi-line arguments are fine
    let ok = "upstream b {\n    server 10.0.0.1:8080;\n}\nlog_format main '$a'\n    '$b';\nserver {\n    listen 80;\n    location ~* \\.(woff2?)$ {\n        proxy_cache c;\n        proxy_cache_valid 200 302\n            10m;\n    }\n}\n";
    imp_text("t.conf", ok);
}

#[test]
fn vcl_statements_vcc_refuses_are_errors() {
    let sub = |name: &str, body: &str| format!("vcl 4.1;\nsub {name} {{\n{body}\n}}\n");
    for (name, body, want) in [
        (
            "vcl_hash",
            "    hash_data(req.http.Origin));",
            "t.vcl:3:31: expected ';' after `hash_data(req.http.Origin)`, found `)`",
        ),
        (
            "vcl_backend_response",
            "    set beresp.ttl = 5 minutes;",
            "t.vcl:3:22: expected a duration for `beresp.ttl`: a number with a unit (ms, s, m, h, d, w, y) such as 5m, found `5 minutes`",
        ),
        (
            "vcl_backend_response",
            "    set beresp.ttl = 300;",
            "expected a duration for `beresp.ttl`",
        ),
        (
            "vcl_recv",
            "    unset req.http.Cookie\n    unset req.http.Authorization;",
            "t.vcl:3:26: expected ';' after `unset req.http.Cookie`, found `unset`",
        ),
        (
            "vcl_backend_fetch",
            "    set bereq.http.X = \"a\"\n    set bereq.http.Y = \"b\";",
            "expected ';' after `set bereq.http.X = \"a\"`, found `set`",
        ),
        (
            "vcl_recv",
            "    return (hash) return (pass);",
            "expected ';' after `return(hash)`, found `return`",
        ),
        ("vcl_recv", "    set req.http.X \"a\";", "expected '=' after `set req.http.X`"),
    ] {
        let e = import_err("t.vcl", &sub(name, body));
        assert!(e.contains(want), "{body}: {e}");
    }
    // valid VCL the importer does not interpret stays a warning, not an error
    let ok = sub(
        "vcl_backend_response",
        "    set beresp.grace = 6h;\n    set beresp.keep = 1h * 2;\n    set beresp.http.X = \"a\" + beresp.http.Y;\n    std.log(\"x\");\n    call other;\n    set beresp.ttl = std.duration(\"5m\", 0s);",
    );
    let i = imp_text("t.vcl", &ok);
    assert!(!i.warnings.is_empty());
    // the TTL was not imported: no warning about how the imported TTL behaves
    assert!(
        !i.warnings
            .iter()
            .any(|w| w.contains("without return (deliver)")),
        "{:?}",
        i.warnings
    );
    assert!(i.knobs.ttl.max.is_none(), "{:?}", i.knobs.ttl);
}

#[test]
fn nginx_add_header_cors_is_edge_cors() {
    let i = imp(&fixture("text-nginx-cors.conf"));
    let c = i.knobs.edge_cors.clone().expect("edge_cors");
    assert_eq!(c.allow_origins, ["*"], "$http_origin reflects every origin");
    assert!(c.allow_credentials);
    assert!(!c.origin_override);
    let note = i.notes.iter().find(|n| n.knob == "edge_cors").unwrap();
    assert!(
        note.from.contains("text-nginx-cors.conf:32"),
        "{}",
        note.from
    );
    let w = i.warnings.join("\n");
    // what edge_cors cannot say is named
    assert!(w.contains("browsers refuse a response with two"), "{w}");
    assert!(w.contains("nothing adds `Vary: Origin`"), "{w}");
    // the debugging header is understood, not warned
    assert!(!w.contains("x-cache-status"), "{w}");
    // proxy_hide_header makes nginx's field the only one: the edge's replaces the origin's
    let text = std::fs::read_to_string(fixture("text-nginx-cors.conf"))
        .unwrap()
        .replace(
            "add_header X-Cache-Status",
            "proxy_hide_header Access-Control-Allow-Origin;\n        add_header X-Cache-Status",
        );
    let i = imp_text("t.conf", &text);
    assert!(i.knobs.edge_cors.unwrap().origin_override);
    assert!(!i.warnings.join("\n").contains("two"), "{:?}", i.warnings);

    let loc = |body: &str| {
        format!("server {{\n    location / {{\n        proxy_cache c;\n{body}\n    }}\n}}\n")
    };
    // a fixed origin, the preflight fields; `*` with credentials is what browsers see: no credentials
    let i = imp_text(
        "t.conf",
        &loc("        add_header Access-Control-Allow-Origin https://app.example always;\n        add_header Access-Control-Allow-Methods 'GET, PUT' always;\n        add_header Access-Control-Allow-Headers Content-Type always;\n        add_header Access-Control-Max-Age 600 always;\n        add_header Access-Control-Expose-Headers X-Id always;"),
    );
    let c = i.knobs.edge_cors.unwrap();
    assert_eq!(c.allow_origins, ["https://app.example"]);
    assert_eq!(c.allow_methods, ["GET", "PUT"]);
    assert_eq!(c.allow_headers, ["Content-Type"]);
    assert_eq!(c.expose_headers, ["X-Id"]);
    assert_eq!(c.max_age, Some(600));
    let i = imp_text(
        "t.conf",
        &loc("        add_header Access-Control-Allow-Origin \"*\";\n        add_header Access-Control-Allow-Credentials true;"),
    );
    assert!(!i.knobs.edge_cors.unwrap().allow_credentials);
    let w = i.warnings.join("\n");
    assert!(w.contains("without `always`"), "{w}");
    assert!(w.contains("browsers refuse credentialed requests"), "{w}");
    // what is not mapped is warned: a map variable, add_header inside if, Vary, any other field
    let i = imp_text(
        "t.conf",
        &loc("        if ($request_method = OPTIONS) {\n            add_header Access-Control-Max-Age 600;\n            return 204;\n        }\n        add_header Access-Control-Allow-Origin $cors_origin always;\n        add_header Vary Origin;\n        add_header X-Frame-Options DENY;"),
    );
    assert!(i.knobs.edge_cors.is_none());
    let w = i.warnings.join("\n");
    assert!(
        w.contains("t.conf:5: add_header access-control-max-age 600 inside `if"),
        "{w}"
    );
    assert!(w.contains("t.conf:8: add_header access-control-allow-origin $cors_origin always: the value is not $http_origin"), "{w}");
    assert!(
        w.contains("t.conf:9: add_header vary Origin: adds Vary to the responses sent to clients"),
        "{w}"
    );
    assert!(w.contains("add_header x-frame-options (t.conf:10)"), "{w}");
}

#[test]
fn nginx_keys_that_differ_between_locations_are_warned() {
    let i = imp(&fixture("text-nginx-two-locations.conf"));
    assert!(
        i.knobs.key_headers.is_empty(),
        "the last key read is imported"
    );
    let w = i.warnings.join("\n");
    assert!(
        w.contains("proxy_cache_key differs between blocks: ")
            && w.contains("text-nginx-two-locations.conf:8 in location /api/: $scheme$host$request_uri$http_origin;"),
        "{w}"
    );
    assert!(
        w.contains("takes the last one it reads: ")
            && w.contains("text-nginx-two-locations.conf:14 in location /static/"),
        "{w}"
    );
    assert!(
        w.contains("proxy_cache_valid differs between blocks"),
        "{w}"
    );
    // one warning per proxy_cache_valid line
    for line in [":9: proxy_cache_valid", ":15: proxy_cache_valid"] {
        let n = i.warnings.iter().filter(|w| w.contains(line)).count();
        assert_eq!(n, 1, "{line}: {:?}", i.warnings);
    }
    // the same key in every block: no warning
    let text = std::fs::read_to_string(fixture("text-nginx-two-locations.conf"))
        .unwrap()
        .replace("$request_uri$http_origin", "$request_uri");
    let i = imp_text("t.conf", &text);
    assert!(
        !i.warnings.join("\n").contains("proxy_cache_key differs"),
        "{:?}",
        i.warnings
    );
}

#[test]
fn vcl_forwarding_provenance_and_conditional_method() {
    let i = imp_text(
        "t.vcl",
        "vcl 4.1;\nsub vcl_recv {\n    unset req.http.Cookie;\n}\nsub vcl_backend_fetch {\n    set bereq.http.X-Edge = \"1\";\n    if (bereq.http.X-Orig-Method) {\n        set bereq.method = bereq.http.X-Orig-Method;\n    }\n}\n",
    );
    let note = &i
        .notes
        .iter()
        .find(|n| n.knob == "forward_headers")
        .unwrap()
        .from;
    assert!(note.starts_with("t.vcl:3: unset req.http.Cookie (strips cookie), t.vcl:6: set bereq.http.X-Edge = \"1\" (adds x-edge)"), "{note}");
    assert!(
        note.contains("the varnish profile's default: forward_headers all"),
        "{note}"
    );
    assert!(
        i.warnings.iter().any(|w| w.starts_with("t.vcl:8: `set bereq.method = bereq.http.X-Orig-Method` under `if (bereq.http.X-Orig-Method)`")),
        "{:?}",
        i.warnings
    );
}

/// `line:col` (1-based, columns in characters) of the first `needle` in `text`.
fn pos_of(text: &str, needle: &str) -> String {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in the text"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("{line}:{col}")
}

/// Writes `base` with `from` replaced by `to` as `name` in a temporary directory and
/// imports it: (exit code, stdout, stderr, the text written).
fn import_variant(base: &str, name: &str, from: &str, to: &str) -> (i32, String, String, String) {
    let text = std::fs::read_to_string(fixture(base)).unwrap();
    assert!(text.contains(from), "{base}: no {from}");
    let text = text.replacen(from, to, 1);
    let dir = std::env::temp_dir().join(format!("varyedge-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, &text).unwrap();
    let (code, out, err) = run(&["import", "cdn-config", p.to_str().unwrap()]);
    (code, out, err, text)
}

/// CloudFront API reference (CachePolicyConfig, Headers): the TTLs are Long integers,
/// 0 or more, with MinTTL ≤ DefaultTTL ≤ MaxTTL, and lists are lists of strings. A value
/// of another type was replaced by the profile's default (exit 0); now it is exit 2 at
/// the value's line and column, with the path and what was expected.
#[test]
fn cloudfront_values_of_the_wrong_type_are_exit_2_at_the_value() {
    let base = "json-cache-policy.json";
    let cfg = "$.CachePolicy.CachePolicyConfig";
    let hdr =
        "$.CachePolicy.CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig";
    let cases: Vec<(&str, &str, String, &str)> = vec![
        (
            "\"DefaultTTL\": 86400",
            "\"DefaultTTL\": \"one day\"",
            format!("at {cfg}.DefaultTTL: expected a whole number of seconds, 0 or more, found \"one day\""),
            "\"one day\"",
        ),
        (
            "\"DefaultTTL\": 86400",
            "\"DefaultTTL\": 600.5",
            format!("at {cfg}.DefaultTTL: expected a whole number of seconds, 0 or more, found 600.5"),
            "600.5",
        ),
        (
            "\"MinTTL\": 1",
            "\"MinTTL\": -5",
            format!("at {cfg}.MinTTL: expected a whole number of seconds, 0 or more, found -5"),
            "-5",
        ),
        (
            "\"MinTTL\": 1",
            "\"MinTTL\": 99999999",
            format!("at {cfg}.MinTTL: MinTTL 99999999 is greater than DefaultTTL 86400; expected MinTTL ≤ DefaultTTL ≤ MaxTTL"),
            "99999999",
        ),
        (
            "\"MaxTTL\": 31536000",
            "\"MaxTTL\": 900",
            format!("at {cfg}.DefaultTTL: DefaultTTL 86400 is greater than MaxTTL 900"),
            "86400",
        ),
        (
            "\"Items\": [\"Origin\", \"Access-Control-Request-Method\"]",
            "\"Items\": \"Origin\"",
            format!("at {hdr}.Headers.Items: expected a list of strings, found \"Origin\""),
            "\"Origin\"",
        ),
        (
            "\"Items\": [\"Origin\", \"Access-Control-Request-Method\"]",
            "\"Items\": [\"Origin\", 7]",
            format!("at {hdr}.Headers.Items[1]: expected a string, found 7"),
            "7]",
        ),
        (
            "\"Quantity\": 2",
            "\"Quantity\": 3",
            format!("at {hdr}.Headers.Quantity: Quantity 3 but 2 Items"),
            "3,",
        ),
        (
            "\"HeaderBehavior\": \"whitelist\"",
            "\"HeaderBehavior\": \"allViewer\"",
            format!("at {hdr}.HeaderBehavior: expected none or whitelist, found \"allViewer\""),
            "\"allViewer\"",
        ),
        (
            "\"CookieBehavior\": \"none\"",
            "\"CookieBehavior\": false",
            "at $.CachePolicy.CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.CookiesConfig.CookieBehavior: expected none, whitelist, allExcept or all, found false".to_string(),
            "false",
        ),
    ];
    for (i, (from, to, msg, value)) in cases.iter().enumerate() {
        let name = format!("cf-{i}.json");
        let (code, out, err, text) = import_variant(base, &name, from, to);
        assert_eq!(code, 2, "{to}: {err}");
        assert!(out.is_empty(), "{to}: partial output {out}");
        let want = format!("{name}:{}: {msg}", pos_of(&text, value));
        assert!(err.contains(&want), "{to}:\nwant {want}\ngot  {err}");
    }
    // the well-typed policy imports, and CloudFormation's string of digits is a number
    let (code, out, err, _) = import_variant(
        base,
        "cf-ok.json",
        "\"DefaultTTL\": 86400",
        "\"DefaultTTL\": \"600\"",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("ttl: { default: 600, min: 1, max: 31536000 }"),
        "{out}"
    );
}

/// A TTL the policy leaves out keeps the profile's value only within the given ones.
#[test]
fn an_absent_ttl_stays_within_the_given_ones() {
    let i = imp_text(
        "t.json",
        r#"{ "CachePolicyConfig": { "MinTTL": 0, "MaxTTL": 900,
            "ParametersInCacheKeyAndForwardedToOrigin": { "HeadersConfig": { "HeaderBehavior": "none" } } } }"#,
    );
    assert_eq!(
        (i.knobs.ttl.min, i.knobs.ttl.default, i.knobs.ttl.max),
        (Some(0), Some(900), Some(900))
    );
    assert!(
        i.notes
            .iter()
            .any(|n| n.knob == "ttl" && n.from.contains("DefaultTTL absent: 900")),
        "{:?}",
        i.notes
    );
}

/// Cloudflare's API schema has booleans and arrays: `"true"`, `"false"` and a bare string
/// were read as their opposite or dropped (exit 0); now exit 2 at the value.
#[test]
fn cloudflare_values_of_the_wrong_type_are_exit_2_at_the_value() {
    let base = "json-cloudflare-rules.json";
    let r = "$.result.rules[0]";
    let h = "$.result.rules[0].action_parameters.cache_key.custom_key.header";
    let cases: Vec<(&str, &str, String, &str)> = vec![
        (
            "\"exclude_origin\": false",
            "\"exclude_origin\": \"true\"",
            format!("at {h}.exclude_origin: expected true or false (a JSON boolean), found \"true\""),
            "\"true\"",
        ),
        (
            "\"include\": [\"x-api-version\"]",
            "\"include\": \"x-api-version\"",
            format!("at {h}.include: expected a list of strings, found \"x-api-version\""),
            "\"x-api-version\"",
        ),
        (
            "\"enabled\": true",
            "\"enabled\": \"false\"",
            format!("at {r}.enabled: expected true or false (a JSON boolean), found \"false\""),
            "\"false\"",
        ),
        (
            "\"cache\": true",
            "\"cache\": \"no\"",
            format!("at {r}.action_parameters.cache: expected true or false (a JSON boolean), found \"no\""),
            "\"no\"",
        ),
        (
            "\"default\": 3600",
            "\"default\": \"1h\"",
            format!("at {r}.action_parameters.edge_ttl.default: expected a whole number of seconds, found \"1h\""),
            "\"1h\"",
        ),
        (
            "\"mode\": \"override_origin\"",
            "\"mode\": \"override\"",
            format!("at {r}.action_parameters.edge_ttl.mode: expected respect_origin, override_origin or bypass_by_default, found \"override\""),
            "\"override\"",
        ),
    ];
    for (i, (from, to, msg, value)) in cases.iter().enumerate() {
        let name = format!("cfl-{i}.json");
        let (code, out, err, text) = import_variant(base, &name, from, to);
        assert_eq!(code, 2, "{to}: {err}");
        assert!(out.is_empty(), "{to}: partial output {out}");
        let want = format!("{name}:{}: {msg}", pos_of(&text, value));
        assert!(err.contains(&want), "{to}:\nwant {want}\ngot  {err}");
    }
}

/// Header names are case-insensitive: `Origin` listed in `include` is the Origin that is
/// in the key anyway. Action parameters without a knob warn unless at their default.
#[test]
fn cloudflare_key_headers_are_unique_and_unmodelled_parameters_warn() {
    let text = std::fs::read_to_string(fixture("json-cloudflare-rules.json")).unwrap();
    let i = imp_text(
        "t.json",
        &text.replace(
            "\"include\": [\"x-api-version\"]",
            "\"include\": [\"Origin\", \"x-api-version\", \"origin\", \"X-API-Version\"]",
        ),
    );
    assert_eq!(i.knobs.key_headers, ["origin", "x-api-version"]);
    assert!(
        i.warnings.is_empty(),
        "defaults are silent: {:?}",
        i.warnings
    );
    let i = imp_text(
        "t.json",
        &text.replace(
            "\"cache\": true,",
            "\"cache\": true, \"serve_stale\": { \"disable_stale_while_updating\": true }, \"respect_strong_etags\": true, \"origin_error_page_passthru\": true,",
        ),
    );
    for k in [
        "serve_stale",
        "respect_strong_etags",
        "origin_error_page_passthru",
    ] {
        assert!(
            i.warnings
                .iter()
                .any(|w| w.contains(&format!("action_parameters.{k}: not interpreted"))),
            "{k}: {:?}",
            i.warnings
        );
    }
}

/// Legacy cache settings (AWS developer guide, "Cache keys and legacy cache settings"):
/// the forwarded headers are the cache key, `QueryString` puts the query in it, and the
/// behavior's TTLs apply. They were warned about and CachingOptimized assumed.
#[test]
fn cloudfront_legacy_cache_settings_are_imported() {
    let (code, out, err) = run(&[
        "import",
        "cdn-config",
        fixture("json-cf-legacy.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert!(!out.contains("CachingOptimized assumed"), "{out}");
    let b = "$.Distribution.DistributionConfig.DefaultCacheBehavior";
    for want in [
        format!("ttl: {{ default: 3600, min: 0, max: 86400 }}  # {b}.MinTTL/DefaultTTL/MaxTTL (legacy cache settings)"),
        format!("key_headers: [origin, access-control-request-headers, access-control-request-method]  # {b}.ForwardedValues.Headers"),
        format!("query: none  # {b}.ForwardedValues.QueryString false"),
        "forward_headers: key".to_string(),
        "cache_options: true".to_string(),
    ] {
        assert!(out.contains(&want), "{want}\nin:\n{out}");
    }
    let text = std::fs::read_to_string(fixture("json-cf-legacy.json")).unwrap();
    // QueryString true: the whole query, or the listed QueryStringCacheKeys
    let i = imp_text(
        "t.json",
        &text.replace("\"QueryString\": false", "\"QueryString\": true"),
    );
    assert_eq!(i.knobs.query, QueryKey::All);
    let i = imp_text(
        "t.json",
        &text
            .replace("\"QueryString\": false", "\"QueryString\": true")
            .replace(
                "\"QueryStringCacheKeys\": {\"Quantity\": 0}",
                "\"QueryStringCacheKeys\": {\"Quantity\": 1, \"Items\": [\"lang\"]}",
            ),
    );
    assert_eq!(i.knobs.query, QueryKey::List(vec!["lang".into()]));
    // all headers forwarded: CloudFront caches nothing
    let i = imp_text(
        "t.json",
        &text.replace(
            "{\"Quantity\": 3, \"Items\": [\"Origin\", \"Access-Control-Request-Headers\", \"Access-Control-Request-Method\"]}",
            "{\"Quantity\": 1, \"Items\": [\"*\"]}",
        ),
    );
    assert_eq!(
        (i.knobs.ttl.min, i.knobs.ttl.default, i.knobs.ttl.max),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(i.knobs.forward.headers, ForwardHeaders::All);
    assert!(i
        .notes
        .iter()
        .any(|n| n.knob == "ttl" && n.from.contains("does not cache")));
    // cookies forwarded: named as not modelled
    let i = imp_text(
        "t.json",
        &text.replace("\"Forward\": \"none\"", "\"Forward\": \"all\""),
    );
    assert!(
        i.warnings
            .iter()
            .any(|w| w.contains("Cookies.Forward: all")),
        "{:?}",
        i.warnings
    );
    // TTLs of the wrong type or order are errors there too
    let e = import::import(
        "t.json",
        &text.replace("\"MaxTTL\": 86400", "\"MaxTTL\": 60"),
    )
    .unwrap_err();
    assert!(
        e.message.contains(&format!(
            "at {b}.DefaultTTL: DefaultTTL 3600 is greater than MaxTTL 60"
        )),
        "{e}"
    );
    assert_eq!(e.line, 19, "{e}");
    // with a CachePolicyId the policy applies and ForwardedValues is named as ignored
    let i = imp_text(
        "t.json",
        &text.replace(
            "\"TargetOriginId\": \"s3\",",
            "\"TargetOriginId\": \"s3\", \"CachePolicyId\": \"658327ea-f89d-4fab-a63d-7e88639e58f6\",",
        ),
    );
    assert!(i.knobs.key_headers.is_empty());
    assert!(
        i.warnings
            .iter()
            .any(|w| w.contains("ForwardedValues: ignored")),
        "{:?}",
        i.warnings
    );
}

/// The same settings in CloudFormation (Headers a plain list, TTLs on the behavior).
#[test]
fn cloudformation_legacy_cache_settings_are_imported() {
    let i = imp_text(
        "t.yaml",
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  D:\n    Type: AWS::CloudFront::Distribution\n    Properties:\n      DistributionConfig:\n        DefaultCacheBehavior:\n          ForwardedValues:\n            QueryString: true\n            Headers: [Origin]\n          MinTTL: 0\n          DefaultTTL: 60\n          MaxTTL: 600\n",
    );
    assert_eq!(i.knobs.key_headers, ["origin"]);
    assert_eq!(i.knobs.query, QueryKey::All);
    assert_eq!(
        (i.knobs.ttl.min, i.knobs.ttl.default, i.knobs.ttl.max),
        (Some(0), Some(60), Some(600))
    );
    assert!(i.assumed.iter().all(|k| *k != "profile"), "{:?}", i.assumed);
}

/// `-` reads the configuration from standard input, named `<stdin>`.
#[test]
fn standard_input_is_read_for_dash() {
    use std::io::Write;
    let feed = |text: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_varyedge"))
            .args(["import", "cdn-config", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        let o = c.wait_with_output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let text = std::fs::read_to_string(fixture("json-cloudflare-rules.json")).unwrap();
    let (code, out, err) = feed(&text);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("import cdn-config <stdin> (read as cloudflare-ruleset)"),
        "{out}"
    );
    assert!(
        out.contains("key_headers: [origin, x-api-version]"),
        "{out}"
    );
    let (code, out, err) = feed(&text.replace("\"default\": 3600", "\"default\": \"1h\""));
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.starts_with("<stdin>:11:"), "{err}");
}

/// nginx's usual CORS allowlist: `map $http_origin $cors { … }` reflecting the origins a
/// key names (exact, `~` and `~*` patterns) and `add_header Access-Control-Allow-Origin
/// $cors always` behind `proxy_hide_header`: edge_cors with those origins and patterns,
/// as nginx reads them (`\.` kept, exact keys without case).
#[test]
fn nginx_origin_map_is_edge_cors_with_patterns() {
    let conf = |entries: &str| {
        format!(
            "map $http_origin $cors {{\n    default \"\";\n{entries}\n}}\nserver {{\n    location / {{\n        proxy_cache c;\n        proxy_hide_header Access-Control-Allow-Origin;\n        add_header Access-Control-Allow-Origin $cors always;\n    }}\n}}\n"
        )
    };
    let i = imp_text(
        "m.conf",
        &conf("    \"~^https://(app1|app2)\\.example\\.com$\" $http_origin;\n    ~*^https://ADMIN\\.example\\.org$ $http_origin;\n    https://Static.Example.net $http_origin;\n    volatile;"),
    );
    let c = i.knobs.edge_cors.clone().expect("edge_cors");
    assert_eq!(c.allow_origins, ["https://static.example.net"]);
    let p: Vec<&str> = c.allow_origin_patterns.iter().map(|p| p.as_str()).collect();
    assert_eq!(
        p,
        [
            r"^https://(app1|app2)\.example\.com$",
            r"(?i)^https://ADMIN\.example\.org$"
        ]
    );
    assert!(c.origin_override);
    assert!(!i.warnings.join("\n").contains("map"), "{:?}", i.warnings);
    let note = i.notes.iter().find(|n| n.knob == "edge_cors").unwrap();
    assert!(note.from.contains("m.conf:1 (map $cors)"), "{}", note.from);
    // the block renders to an edge block that parses back to the same patterns
    let rendered = import::render(&i);
    assert!(
        rendered.contains(r#"allow_origin_patterns: ["^https://(app1|app2)\\.example\\.com$", "(?i)^https://ADMIN\\.example\\.org$"]"#),
        "{rendered}"
    );
    // `default $http_origin` reflects every origin
    let i = imp_text("m.conf", &conf("    default $http_origin;"));
    assert_eq!(i.knobs.edge_cors.unwrap().allow_origins, ["*"]);
    // what edge_cors cannot say is a warning, and nothing is imported
    for (entries, why) in [
        (
            "    default https://app.example;",
            "every other origin gets that fixed value",
        ),
        ("    ~^https://(.+)$ https://$1;", "not $http_origin"),
        ("    https://a.example 1;", "not the origin itself"),
        ("    hostnames;", "`hostnames` in the map"),
        (
            "    \"~^https://(a\" $http_origin;",
            "not a regular expression",
        ),
        ("    https://a.example \"\";", "gives no origin back"),
    ] {
        let i = imp_text("m.conf", &conf(entries));
        assert!(i.knobs.edge_cors.is_none(), "{entries}");
        let w = i.warnings.join("\n");
        assert!(
            w.contains(why) && w.contains("edge_cors is not imported"),
            "{entries}: {w}"
        );
    }
    // a map of another variable is not read as the Origin's
    let other =
        conf("    https://a.example $http_origin;").replace("map $http_origin", "map $http_host");
    let i = imp_text("m.conf", &other);
    assert!(i.knobs.edge_cors.is_none());
}

/// Varnish's usual CORS allowlist: `if (req.http.Origin ~ "…")` in vcl_deliver setting
/// the field from req.http.Origin: edge_cors with that pattern (the viewer's own value,
/// replacing the origin's).
#[test]
fn vcl_origin_regex_is_edge_cors_with_patterns() {
    let vcl = "vcl 4.1;\nbackend b { .host = \"127.0.0.1\"; .port = \"8080\"; }\nsub vcl_deliver {\n    if (req.http.Origin ~ \"^https://(app1|app2)\\.example\\.com$\" || req.http.Origin == \"https://static.example.net\") {\n        set resp.http.Access-Control-Allow-Origin = req.http.Origin;\n        set resp.http.Access-Control-Allow-Credentials = \"true\";\n    }\n}\n";
    let i = imp_text("c.vcl", vcl);
    let c = i.knobs.edge_cors.clone().expect("edge_cors");
    assert_eq!(c.allow_origins, ["https://static.example.net"]);
    let p: Vec<&str> = c.allow_origin_patterns.iter().map(|p| p.as_str()).collect();
    assert_eq!(p, [r"^https://(app1|app2)\.example\.com$"]);
    assert!(c.allow_credentials && c.origin_override);
}

/// The other usual nginx allowlist: `if ($http_origin ~* "…") { set $cors $http_origin; }`
/// blocks, read as the entries of a map (`=` an exact origin); a negated condition is
/// not, and leaves the variable unread.
#[test]
fn nginx_if_set_origin_is_edge_cors_with_patterns() {
    let conf = |cond: &str| {
        format!(
            "server {{\n    location / {{\n        proxy_cache c;\n        set $cors \"\";\n        if ($http_origin ~* \"^https://(app1|app2)\\.example\\.com$\") {{\n            set $cors $http_origin;\n        }}\n        if ({cond}) {{\n            set $cors $http_origin;\n        }}\n        proxy_hide_header Access-Control-Allow-Origin;\n        add_header Access-Control-Allow-Origin $cors always;\n    }}\n}}\n"
        )
    };
    let i = imp_text(
        "s.conf",
        &conf("$http_origin = \"https://static.example.net\""),
    );
    let c = i.knobs.edge_cors.clone().expect("edge_cors");
    assert_eq!(c.allow_origins, ["https://static.example.net"]);
    let p: Vec<&str> = c.allow_origin_patterns.iter().map(|p| p.as_str()).collect();
    assert_eq!(p, [r"(?i)^https://(app1|app2)\.example\.com$"]);
    assert!(c.hide_origin_acao);
    assert!(i.warnings.is_empty(), "{:?}", i.warnings);
    let note = i.notes.iter().find(|n| n.knob == "edge_cors").unwrap();
    assert!(
        note.from.contains("s.conf:6 (set $cors $http_origin"),
        "{}",
        note.from
    );
    // a negation is not an allowlist: that `if` and its `set` stay unread
    let i = imp_text("s.conf", &conf("$http_origin !~ \"evil\""));
    let c = i.knobs.edge_cors.clone().expect("edge_cors");
    assert!(c.allow_origins.is_empty());
    assert_eq!(c.allow_origin_patterns.len(), 1);
    let w = i.warnings.join("\n");
    assert!(
        w.contains("if (s.conf:8)") && w.contains("set (s.conf:9)"),
        "{w}"
    );
}
