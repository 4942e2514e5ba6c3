//! `varyedge import cdn-config` on configurations written from the vendors' documentation
//! the way users export them (tests/probe/README.md): the knobs each must give, and no
//! warning where the construct is understood.

use std::path::Path;
use std::process::{Command, Output};

fn varyedge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .args(args)
        .output()
        .expect("run varyedge")
}

/// (exit code, stdout, stderr) of importing `tests/probe/cdn/NAME`.
fn import(name: &str) -> (i32, String, String) {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/probe/cdn")
        .join(name);
    let o = varyedge(&["import", "cdn-config", f.to_str().unwrap()]);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The value of `knob` in the edge block (the text before its `#` comment).
fn knob(out: &str, knob: &str) -> Option<String> {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{knob}: ")))
        .map(|v| v.split("  #").next().unwrap().trim().to_string())
}

/// Asserts each `(knob, value)` of the edge block, naming the knob that differs.
fn assert_knobs(out: &str, want: &[(&str, &str)]) {
    for (k, v) in want {
        assert_eq!(knob(out, k).as_deref(), Some(*v), "knob {k}:\n{out}");
    }
}

/// `aws cloudfront get-distribution-config` prints `{ETag, DistributionConfig}` with
/// `{Quantity, Items}` lists and CachedMethods nested in AllowedMethods (CloudFront API
/// reference, DistributionConfig / AllowedMethods).
#[test]
fn cloudfront_get_distribution_config_output() {
    let (code, out, err) = import("cf-get-distribution-config.json");
    assert_eq!(code, 0, "{err}");
    assert_knobs(
        &out,
        &[("profile", "cloudfront"), ("cache_options", "true")],
    );
    assert_eq!(
        knob(&out, "forward_headers").as_deref(),
        Some("[origin, access-control-request-headers, access-control-request-method]"),
        "CORS-S3Origin by its managed id:\n{out}"
    );
    assert!(!err.contains("warning"), "{err}");
}

/// `terraform show -json` writes an unset `forwarded_values` block as `[]`: not the
/// legacy settings in use.
#[test]
fn terraform_empty_forwarded_values_is_not_warned() {
    let (code, out, err) = import("tf-show-modules.json");
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("ForwardedValues"), "{err}");
    assert_knobs(
        &out,
        &[("key_headers", "[origin]"), ("cache_options", "false")],
    );
}

/// nginx.conf `include conf.d/*.conf;` (relative to the including file) brings the cache
/// settings in; a `types {}` map of an included mime.types is not a directive list.
#[test]
fn nginx_includes_are_followed() {
    let (code, out, err) = import("nginx/nginx.conf");
    assert_eq!(code, 0, "{err}");
    assert_knobs(
        &out,
        &[
            ("key_headers", "[origin]"),
            ("collapse", "true"),
            ("ttl", "{ default: 600 }"),
        ],
    );
    assert!(
        out.contains("conf.d/api.conf:8"),
        "the knob names the included file:\n{out}"
    );
    assert!(!err.contains("text/html"), "{err}");
}

/// The builtin vcl_hash's `if (req.http.host) { hash_data(req.http.host); } else {
/// hash_data(server.ip); }` is the host part of the key, not an unmodelled condition.
#[test]
fn varnish_builtin_hash_shape_is_understood() {
    let (code, out, err) = import("varnish-builtin-origin.vcl");
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert_knobs(&out, &[("key_headers", "[origin]"), ("key_host", "true")]);
}

/// Fastly: `if (req.request != "HEAD" && req.request != "GET" …) { return(pass); }`
/// then `return(lookup);` looks up GET/HEAD only: OPTIONS is passed, not cached.
#[test]
fn fastly_method_guard_then_lookup_does_not_cache_options() {
    let (code, out, err) = import("fastly-macros.vcl");
    assert_eq!(code, 0, "{err}");
    assert_knobs(&out, &[("profile", "fastly")]);
    assert_ne!(
        knob(&out, "cache_options").as_deref(),
        Some("true"),
        "{out}"
    );
    assert!(!err.contains("POST/PUT/DELETE"), "{err}");
    assert!(
        !err.contains("req.request"),
        "the guard is understood:\n{err}"
    );
    assert_knobs(&out, &[("key_headers", "[origin]")]);
}

/// The other exports import with the knobs their documents state.
#[test]
fn other_exports_import() {
    let (code, out, err) = import("cf-get-cache-policy.json");
    assert_eq!(code, 0, "{err}");
    assert_eq!(knob(&out, "key_headers").as_deref(), Some("[origin]"));
    assert_eq!(knob(&out, "query").as_deref(), Some("[lang, page]"));
    assert_eq!(
        knob(&out, "ttl").as_deref(),
        Some("{ default: 300, min: 1, max: 86400 }")
    );

    let (code, out, err) = import("cfn-template.yaml");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        knob(&out, "key_headers").as_deref(),
        Some("[origin, access-control-request-method, access-control-request-headers]")
    );
    assert_eq!(knob(&out, "forward_headers").as_deref(), Some("all"));
    assert!(out.contains("origin_override: true"), "{out}");
    assert_eq!(knob(&out, "cache_options").as_deref(), Some("true"));

    let (code, out, err) = import("cdk-synth.template.json");
    assert_eq!(code, 0, "{err}");
    assert_eq!(knob(&out, "query").as_deref(), Some("none"));
    assert_eq!(knob(&out, "cache_options").as_deref(), Some("true"));

    let (code, out, err) = import("cloudflare-api-response.json");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        knob(&out, "key_headers").as_deref(),
        Some("[x-api-version]")
    );
    assert!(
        err.contains("not evaluated"),
        "the expression is warned about: {err}"
    );

    let (code, out, err) = import("nginx-braces.conf");
    assert_eq!(code, 0, "{err}");
    assert_eq!(knob(&out, "key_headers").as_deref(), Some("[origin]"));

    let (code, out, err) = import("cloudflare-list-rulesets.json");
    assert_eq!(code, 2, "a list of rulesets holds no rules:\n{out}");
    assert!(err.contains("cloudflare-list-rulesets.json"), "{err}");
    assert!(out.is_empty());
}

/// A config saved by a Windows editor starts with a UTF-8 byte order mark: it is not
/// part of the first word.
#[test]
fn a_byte_order_mark_is_skipped() {
    let (code, out, err) = import("bom-varnish.vcl");
    assert_eq!(code, 0, "{err}");
    assert_knobs(&out, &[("key_headers", "[origin]")]);
    let (code, out, err) = import("bom-nginx.conf");
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("not interpreted"), "{err}");
    assert_knobs(&out, &[("key_headers", "[origin]")]);
}

/// `CachePolicyId: !If [IsProd, !Ref OriginKeyed, <managed id>]` is valid
/// CloudFormation: the import says it cannot evaluate it, it does not refuse the file.
#[test]
fn a_cloudformation_condition_is_a_warning() {
    let (code, out, err) = import("cfn-if-condition.yaml");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("CachePolicyId") && err.contains("not evaluated"),
        "{err}"
    );
    assert!(out.contains("# warning:"), "{out}");
    // the other policies of the behavior still are
    assert_knobs(&out, &[("forward_headers", "all")]);
}

/// A `map $http_origin $cors_origin { … }` block's entries are not directives; the map
/// is read for the `add_header` that sends its variable (its pattern kept as nginx reads
/// it, `\.` included).
#[test]
fn nginx_map_entries_are_not_directives() {
    let (code, out, err) = import("nginx-cors-map.conf");
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("map (") && err.contains("if ("),
        "still warned: {err}"
    );
    assert!(
        out.contains(r#"allow_origin_patterns: ["^https://(app1|app2)\\.example\\.com$"]"#),
        "{out}"
    );
    assert!(!err.contains("default ("), "{err}");
    assert!(!err.contains("example.com$ ("), "{err}");
}

/// Cloudflare Cache Rules settings the model does not have are named, the defaults are
/// not: `header.contains` and `edge_ttl.status_code_ttl` warned; `host: {resolved:
/// false}` and `user` all false are the default key, no warning.
#[test]
fn cloudflare_unmodelled_settings_are_warned_defaults_are_not() {
    let (code, out, err) = import("cloudflare-cache-rules-extras.json");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("header.contains"), "{err}");
    assert!(err.contains("status_code_ttl"), "{err}");
    assert!(!err.contains("custom_key.host"), "{err}");
    assert!(!err.contains("custom_key.user"), "{err}");
    assert!(err.contains("disabled rule"), "{err}");
    assert!(err.contains("bypass_by_default"), "{err}");
    assert_knobs(
        &out,
        &[("key_headers", "[origin, x-tenant]"), ("query", "all")],
    );
}

/// `if (req.http.Origin) { hash_data(req.http.Origin); }` (the usual CORS idiom) keys
/// Origin exactly as the unconditional form: no warning; OPTIONS stored under that key.
#[test]
fn varnish_conditional_origin_hash_idiom() {
    let (code, out, err) = import("varnish-cors-idiom.vcl");
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("conditional hashing"), "{err}");
    assert_knobs(
        &out,
        &[
            ("key_headers", "[origin]"),
            ("cache_options", "true"),
            ("preflight_key", "ignore"),
        ],
    );
}

/// `aws cloudfront get-response-headers-policy` prints every part, configured or not
/// (`CustomHeadersConfig: {Quantity: 0}`, `ServerTimingHeadersConfig: {Enabled: false}`):
/// only configured parts are warned about.
#[test]
fn cloudfront_empty_policy_parts_are_not_warned() {
    let (code, out, err) = import("cf-get-response-headers-policy.json");
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("not interpreted"), "{err}");
    assert!(out.contains("origin_override: true"), "{out}");
}

/// Varnish: `set beresp.ttl = 5m;` falling through to the builtin vcl_backend_response
/// still leaves no-store/private answers uncacheable, which the imported `ttl.min` does
/// not: said in a warning. With `return (deliver);` the TTL holds for every answer.
#[test]
fn varnish_ttl_without_deliver_is_warned() {
    let (code, out, err) = import("varnish-ttl-fallthrough.vcl");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("without return (deliver)"), "{err}");
    assert_knobs(&out, &[("ttl", "{ default: 300, min: 300, max: 300 }")]);
    let (code, out, err) = import("varnish-ttl-deliver.vcl");
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert_knobs(&out, &[("ttl", "{ default: 300, min: 300, max: 300 }")]);
}

/// Varnish computes an object's variants from `beresp.http.Vary` as it stands after
/// vcl_backend_response (varnish-cache `cache_fetch.c`: `VRY_Create` on the backend
/// response once VCL returned), so the common "drop Vary for the hit ratio" idiom,
/// `if (beresp.http.Vary) { unset beresp.http.Vary; }`, stores one object per hash:
/// `vary: ignore`. The Origin in vcl_hash still keys it.
#[test]
fn varnish_unset_beresp_vary_ignores_vary() {
    let (code, out, err) = import("varnish-unset-vary.vcl");
    assert_eq!(code, 0, "{err}");
    assert_knobs(
        &out,
        &[
            ("profile", "varnish"),
            ("vary", "ignore"),
            ("key_headers", "[origin]"),
            ("cache_options", "true"),
        ],
    );
    assert!(!err.contains("beresp.http.Vary"), "{err}");
    // under any other condition it is not read as unconditional
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probe/cdn/varnish-unset-vary.vcl");
    let text = std::fs::read_to_string(&f).unwrap().replace(
        "if (beresp.http.Vary) {",
        "if (bereq.url ~ \"^/static/\") {",
    );
    let dir =
        std::env::temp_dir().join(format!("varyedge-probe-unset-vary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let g = dir.join("cond.vcl");
    std::fs::write(&g, text).unwrap();
    let o = varyedge(&["import", "cdn-config", g.to_str().unwrap()]);
    let (out2, err2) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(knob(&out2, "vary"), None, "{out2}");
    assert!(err2.contains("unset beresp.http.Vary"), "{err2}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// More exports written from the vendors' docs (tests/probe/README.md, session 19): each
/// imports with the knobs its documentation gives.
#[test]
fn more_exports_import() {
    // `aws cloudfront get-origin-request-policy`: the managed CORS-S3Origin headers
    let (code, out, err) = import("cf-get-origin-request-policy.json");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        knob(&out, "forward_headers").as_deref(),
        Some("[origin, access-control-request-headers, access-control-request-method]"),
        "{out}"
    );
    // CloudFormation JSON: a cache policy keying Origin + ACRM + ACRH, TTLs quoted or not
    let (code, out, err) = import("cfn-cache-policy-origin.json");
    assert_eq!(code, 0, "{err}");
    assert_knobs(
        &out,
        &[
            (
                "key_headers",
                "[origin, access-control-request-method, access-control-request-headers]",
            ),
            ("ttl", "{ default: 300, min: 1, max: 86400 }"),
            ("query", "[v]"),
            ("cache_options", "true"),
        ],
    );
    // Cloudflare cache rule from the rulesets API: custom key on Origin
    let (code, out, err) = import("cloudflare-cache-rules-origin.json");
    assert_eq!(code, 0, "{err}");
    assert_knobs(
        &out,
        &[
            ("profile", "cloudflare"),
            ("key_headers", "[origin]"),
            ("query", "[v]"),
        ],
    );
    // nginx: include of a glob, a map, a location nested in a location
    let (code, out, err) = import("nginx-nested/nginx.conf");
    assert_eq!(code, 0, "{err}");
    assert_knobs(
        &out,
        &[
            ("vary", "ignore"),
            ("key_headers", "[origin]"),
            ("cache_options", "false"),
        ],
    );
    // Fastly: `set req.hash += req.http.Origin`
    let (code, out, err) = import("fastly-hash-origin.vcl");
    assert_eq!(code, 0, "{err}");
    assert_knobs(&out, &[("profile", "fastly"), ("key_headers", "[origin]")]);
}

/// ngx_http_proxy_module: `proxy_cache` defaults to `off`. A configuration with a zone
/// declared (`proxy_cache_path`) but never enabled, or `proxy_cache off`, caches nothing;
/// the import must say so rather than hand back nginx's caching profile silently.
#[test]
fn nginx_without_proxy_cache_is_warned() {
    let (code, out, err) = import("nginx-no-proxy-cache.conf");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no `proxy_cache ZONE`"), "{err}");
    assert!(
        out.contains("# warning:") && out.contains("proxy_cache is off by default"),
        "{out}"
    );
    let (_, _, err) = import("nginx-nested/nginx.conf");
    assert!(!err.contains("no `proxy_cache ZONE`"), "{err}");
    // a site file or snippet (no `http` block) inherits proxy_cache from the file that
    // includes it: not warned
    let dir = std::env::temp_dir().join(format!("varyedge-probe-site-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let site = dir.join("site.conf");
    std::fs::write(
        &site,
        "server {\n    location /api/ {\n        proxy_pass http://b;\n        proxy_cache_key $scheme$host$request_uri$http_origin;\n    }\n}\n",
    )
    .unwrap();
    let o = varyedge(&["import", "cdn-config", site.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("proxy_cache ZONE"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A configuration that is not UTF-8 (a Latin-1 comment) is exit 2 at the line and
/// column of the first such byte, as a scenario is, not a byte index.
#[test]
fn a_non_utf8_config_is_a_located_error() {
    let dir = std::env::temp_dir().join(format!("varyedge-probe-latin1-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("latin1.vcl");
    std::fs::write(&f, b"sub vcl_recv {\n  # caf\xe9\n}\n").unwrap();
    let o = varyedge(&["import", "cdn-config", f.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("latin1.vcl:2:8: expected UTF-8 text"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The managed cache policy "Amplify" by its id (CloudFront Developer Guide, "Use managed
/// cache policies": TTLs 2 / 2 / 600 s, Authorization, CloudFront-Viewer-Country and Host
/// in the key, all cookies and query strings) is resolved, not warned as unknown.
#[test]
fn cloudfront_managed_amplify_policy_is_known() {
    let (code, out, err) = import("cf-distribution-amplify-policy.json");
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("neither a policy in this file"), "{err}");
    assert_knobs(
        &out,
        &[
            ("ttl", "{ default: 2, min: 2, max: 600 }"),
            (
                "key_headers",
                "[authorization, cloudfront-viewer-country, host]",
            ),
            ("query", "all"),
        ],
    );
}

/// A Cloudflare cache-rules ruleset whose only rule is switched off (`enabled: false`,
/// Rulesets API) is Cloudflare's default caching: the profile with a warning, not exit 2
/// "no set_cache_settings rule" (there is one).
#[test]
fn cloudflare_ruleset_with_every_rule_disabled_is_the_default() {
    let (code, out, err) = import("cloudflare-all-rules-disabled.json");
    assert_eq!(code, 0, "{err}");
    assert_knobs(&out, &[("profile", "cloudflare")]);
    assert_eq!(
        knob(&out, "key_headers"),
        None,
        "the disabled rule's key is not used:\n{out}"
    );
    assert!(
        err.contains("disabled rule skipped")
            && err.contains("every set_cache_settings rule is disabled"),
        "{err}"
    );
}

/// Session 20 (tests/probe/README.md): VCL `call` runs the called subroutine where it
/// stands (Varnish reference, "VCL Syntax" → Subroutines), so a `hash_data(req.http.Origin)`
/// in a subroutine vcl_hash calls is in the key. It was warned as not interpreted and the
/// key imported without Origin.
#[test]
fn vcl_call_from_vcl_hash_is_read_as_the_callers() {
    let (code, out, err) = import("varnish-options-hash-sub.vcl");
    assert_eq!(code, 0, "{err}");
    assert_knobs(
        &out,
        &[
            ("profile", "varnish"),
            ("key_headers", "[origin]"),
            ("key_host", "true"),
            ("cache_options", "true"),
            ("preflight_key", "ignore"),
        ],
    );
    assert!(!err.contains("warning"), "{err}");
}

/// VCL runs vcl_recv top to bottom and `return` ends it: an
/// `if (req.request == "OPTIONS") { return(lookup); }` before Fastly's method guard looks
/// preflights up whatever the later `return(lookup)` after the guard lets through (it was
/// imported as `cache_options: false`). Fastly's `set req.hash +=` in a called
/// subroutine keys Origin.
#[test]
fn an_options_lookup_first_in_vcl_recv_is_not_undone_by_the_method_guard() {
    let (code, out, err) = import("fastly-options-lookup-sub.vcl");
    assert_eq!(code, 0, "{err}");
    assert_knobs(
        &out,
        &[
            ("profile", "fastly"),
            ("cache_options", "true"),
            ("preflight_key", "ignore"),
            ("key_headers", "[origin]"),
        ],
    );
    assert!(!err.contains("add_origin_to_key"), "{err}");
}

/// nginx looks a status up in a block's `proxy_cache_valid` lines in order and takes the
/// first that lists it or says `any` (ngx_http_file_cache_valid, ngx_http_file_cache.c):
/// with `200 10m` then `any 1m` a 200 is kept 10 minutes. The importer took the last line
/// (`any 1m`) and warned that the block differed from itself.
#[test]
fn nginx_first_proxy_cache_valid_for_200_in_a_block_wins() {
    let (code, out, err) = import("nginx-origin-key-valid.conf");
    assert_eq!(code, 0, "{err}");
    assert_knobs(
        &out,
        &[
            ("ttl", "{ default: 600 }"),
            ("key_headers", "[origin]"),
            ("key_host", "true"),
            ("query", "all"),
            ("collapse", "true"),
            ("cache_options", "false"),
        ],
    );
    assert!(!err.contains("differs between blocks"), "{err}");
}

/// The other session-20 configurations, each as its documentation reads.
#[test]
fn session_20_configurations() {
    // CloudFront: Origin forwarded by an origin request policy only is not in the key
    // (CachingOptimized keys no header).
    let (code, out, err) = import("cfn-orp-only-origin.json");
    assert_eq!(code, 0, "{err}");
    assert_knobs(
        &out,
        &[
            ("key_headers", "[]"),
            ("query", "none"),
            ("cache_options", "false"),
            (
                "forward_headers",
                "[origin, access-control-request-method, access-control-request-headers]",
            ),
        ],
    );
    // legacy ForwardedValues in a distribution: the forwarded headers are the key
    let (code, out, err) = import("cf-distribution-legacy-forwarded.json");
    assert_eq!(code, 0, "{err}");
    assert_knobs(
        &out,
        &[
            (
                "key_headers",
                "[access-control-request-headers, access-control-request-method, origin]",
            ),
            ("query", "[v]"),
            ("ttl", "{ default: 3600, min: 0, max: 86400 }"),
            ("cache_options", "true"),
        ],
    );
    // terraform's empty cache_policy_id is no policy: the legacy settings apply
    let (code, out, err) = import("tf-legacy-forwarded-values.json");
    assert_eq!(code, 0, "{err}");
    assert_knobs(
        &out,
        &[
            ("key_headers", "[origin]"),
            ("query", "none"),
            ("ttl", "{ default: 600, min: 0, max: 3600 }"),
        ],
    );
    // Cloudflare: exclude_origin takes Origin out of the key; query exclude.all
    let (code, out, err) = import("cloudflare-exclude-origin-respect.json");
    assert_eq!(code, 0, "{err}");
    assert_knobs(
        &out,
        &[("key_headers", "[x-api-version]"), ("query", "none")],
    );
    assert!(err.contains("rules[1]: disabled rule skipped"), "{err}");
    let (code, out, err) = import("cloudflare-override-status-ttl.json");
    assert_eq!(code, 0, "{err}");
    assert_knobs(&out, &[("ttl", "{ default: 600, min: 600, max: 600 }")]);
    for w in ["status_code_ttl", "browser_ttl", "respect_strong_etags"] {
        assert!(err.contains(w), "{w}: {err}");
    }
    // nginx: Vary and Cache-Control ignored, a time-only proxy_cache_valid
    let (code, out, err) = import("nginx-ignore-vary-cc.conf");
    assert_eq!(code, 0, "{err}");
    assert_knobs(
        &out,
        &[
            ("vary", "ignore"),
            ("ttl", "{ default: 300, min: 300, max: 300 }"),
        ],
    );
    // proxy_cache_methods takes GET, HEAD, POST only: nginx -t refuses OPTIONS
    let (code, out, err) = import("nginx-cache-methods-options.conf");
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.contains("nginx-cache-methods-options.conf:8:9:"),
        "{err}"
    );
}
