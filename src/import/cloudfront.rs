//! CloudFront: cache policies (the key and TTLs), origin request policies (what reaches
//! the origin), response headers policies (`CorsConfig`: the edge answers CORS), and the
//! cache behavior that ties them together (AllowedMethods / CachedMethods, policy ids,
//! managed policies by id). Three containers carry the same objects: the API JSON
//! (`aws cloudfront get-cache-policy`), CloudFormation (JSON or YAML) and
//! `terraform show -json` (snake_case, blocks as one-element lists: normalised here to
//! the CloudFormation spelling before interpretation).

use super::json_at::{self, shown_value};
use super::{at_path, parse_tree, Format, Imported};
use crate::edge::cors::EdgeCors;
use crate::edge::forward::ForwardHeaders;
use crate::error::InputError;
use crate::profile::{cloudfront_forward, Forward, QueryKey, TtlOverride};
use serde_json::{Map, Value};

/// Managed cache policies by id: name and configuration, from
/// <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html>.
fn managed_cache_policy(id: &str) -> Option<(&'static str, Value)> {
    let hdr = |h: &[&str]| {
        if h.is_empty() {
            serde_json::json!({ "HeaderBehavior": "none" })
        } else {
            serde_json::json!({ "HeaderBehavior": "whitelist", "Headers": h })
        }
    };
    let cfg = |min: u64, def: u64, max: u64, h: Value, qs: &str, cookies: &str| {
        serde_json::json!({
            "MinTTL": min, "DefaultTTL": def, "MaxTTL": max,
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "HeadersConfig": h,
                "QueryStringsConfig": { "QueryStringBehavior": qs },
                "CookiesConfig": { "CookieBehavior": cookies },
            }
        })
    };
    let origin_cc = [
        "Host",
        "Origin",
        "X-HTTP-Method-Override",
        "X-HTTP-Method",
        "X-Method-Override",
    ];
    Some(match id {
        "658327ea-f89d-4fab-a63d-7e88639e58f6" => (
            "CachingOptimized",
            cfg(1, 86_400, 31_536_000, hdr(&[]), "none", "none"),
        ),
        "b2884449-e4de-46a7-ac36-70bc7f1ddd6d" => (
            "CachingOptimizedForUncompressedObjects",
            cfg(1, 86_400, 31_536_000, hdr(&[]), "none", "none"),
        ),
        "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" => {
            ("CachingDisabled", cfg(0, 0, 0, hdr(&[]), "none", "none"))
        }
        "83da9c7e-98b4-4e11-a168-04f0df8e2c65" => (
            "UseOriginCacheControlHeaders",
            cfg(0, 0, 31_536_000, hdr(&origin_cc), "none", "all"),
        ),
        // "Amplify": Minimum TTL 2 s, Maximum 600 s, Default 2 s; Authorization,
        // CloudFront-Viewer-Country and Host in the key; all cookies, all query strings
        "2e54312d-136d-493c-8eb9-b001f22f67d2" => (
            "Amplify",
            cfg(
                2,
                2,
                600,
                hdr(&["Authorization", "CloudFront-Viewer-Country", "Host"]),
                "all",
                "all",
            ),
        ),
        "4cc15a8a-d715-48a4-82b8-cc0b614638fe" => (
            "UseOriginCacheControlHeaders-QueryStrings",
            cfg(0, 0, 31_536_000, hdr(&origin_cc), "all", "all"),
        ),
        _ => return None,
    })
}

/// Managed origin request policies by id, from
/// <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html>.
fn managed_origin_request_policy(id: &str) -> Option<(&'static str, Value)> {
    let h = |b: &str, items: &[&str]| serde_json::json!({ "HeadersConfig": { "HeaderBehavior": b, "Headers": items } });
    Some(match id {
        "216adef6-5c7f-47e4-b989-5492eafa07d3" => ("AllViewer", h("allViewer", &[])),
        "33f36d7e-f396-46d9-90e0-52428a34d9dc" => (
            "AllViewerAndCloudFrontHeaders-2022-06",
            h("allViewerAndWhitelistCloudFront", &[]),
        ),
        "b689b0a8-53d0-40ab-baf2-68738e2966ac" => {
            ("AllViewerExceptHostHeader", h("allExcept", &["Host"]))
        }
        "59781a5b-3903-41f3-afcb-af62929ccde1" => {
            ("CORS-CustomOrigin", h("whitelist", &["Origin"]))
        }
        "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf" => (
            "CORS-S3Origin",
            h(
                "whitelist",
                &[
                    "Origin",
                    "Access-Control-Request-Headers",
                    "Access-Control-Request-Method",
                ],
            ),
        ),
        "acba4595-bd28-49b8-b9fe-13317c0390fa" => (
            "UserAgentRefererHeaders",
            h("whitelist", &["User-Agent", "Referer"]),
        ),
        _ => return None,
    })
}

/// Managed response headers policies with a CORS part, from
/// <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-response-headers-policies.html>.
fn managed_response_headers_policy(id: &str) -> Option<(&'static str, Value)> {
    let simple = serde_json::json!({ "CorsConfig": {
        "AccessControlAllowOrigins": ["*"], "AccessControlAllowHeaders": [],
        "AccessControlAllowMethods": ["GET", "HEAD", "OPTIONS"],
        "AccessControlAllowCredentials": false, "OriginOverride": false } });
    let preflight = serde_json::json!({ "CorsConfig": {
        "AccessControlAllowOrigins": ["*"], "AccessControlAllowHeaders": ["*"],
        "AccessControlAllowMethods": ["ALL"], "AccessControlExposeHeaders": ["*"],
        "AccessControlAllowCredentials": false, "AccessControlMaxAgeSec": 600,
        "OriginOverride": false } });
    Some(match id {
        "60669652-455b-4ae9-85a4-c4c02393f86c" => ("SimpleCORS", simple),
        "e61eb60c-9c35-4d20-a928-2b84e02af89c" => ("CORS-and-SecurityHeadersPolicy", simple),
        "5cc3b908-e619-4b99-88e5-2cf7f45965bd" => ("CORS-With-Preflight", preflight),
        "eaab4381-ed33-4a86-88ca-d9558dc6cd63" => {
            ("CORS-with-preflight-and-SecurityHeadersPolicy", preflight)
        }
        "67f7725c-6f97-4210-82d7-5512b31e9d03" => ("SecurityHeadersPolicy", serde_json::json!({})),
        _ => return None,
    })
}

/// A policy object found in the file (or a managed one), with where it is.
#[derive(Clone, Debug)]
struct Found {
    path: String,
    config: Value,
}

#[derive(Default)]
struct Policies {
    cache: Option<Found>,
    origin: Option<Found>,
    headers: Option<Found>,
    behavior: Option<Found>,
    /// A behavior with legacy cache settings (`ForwardedValues`, its own TTLs) and no
    /// cache policy.
    legacy: Option<Found>,
}

/// Imports CloudFront JSON or YAML. An error about a value names the value's line and
/// column in JSON text; in YAML it names the JSON path only (the tree read from YAML
/// keeps no positions).
pub(crate) fn import(file: &str, text: &str, format: Format) -> Result<Imported, InputError> {
    import_tree(file, text, format).map_err(|e| {
        if text.trim_start().starts_with('{') {
            json_at::place(text, e)
        } else {
            e
        }
    })
}

fn import_tree(file: &str, text: &str, format: Format) -> Result<Imported, InputError> {
    let tree = parse_tree(file, text)?;
    let mut imp = Imported::new(file, format, "cloudfront");
    let p = match format {
        Format::CloudFormation => cloudformation(file, &tree, &mut imp)?,
        Format::Terraform => terraform(file, &tree, &mut imp)?,
        _ => api_json(file, &tree, &mut imp)?,
    };
    if p.cache.is_none() && p.origin.is_none() && p.headers.is_none() && p.behavior.is_none() {
        return Err(at_path(
            file,
            "$",
            "found no CloudFront cache policy, origin request policy, response headers policy or distribution",
        ));
    }
    let mut all_headers = false;
    if let Some(c) = &p.cache {
        cache_policy(file, &mut imp, c)?;
    } else if let Some(b) = &p.legacy {
        all_headers = legacy_settings(file, &mut imp, b)?;
    } else {
        imp.assume("profile", "no cache policy in the file: CloudFront's CachingOptimized assumed (profile cloudfront)");
    }
    match &p.origin {
        Some(o) => origin_request_policy(file, &mut imp, o)?,
        // legacy settings forwarding every header: noted by legacy_settings
        None if all_headers => {}
        None => imp.assume(
            "forward_headers",
            "no origin request policy: only the cache key's headers reach the origin (controlling-origin-requests)",
        ),
    }
    if let Some(h) = &p.headers {
        response_headers_policy(file, &mut imp, h)?;
    }
    if let Some(b) = &p.behavior {
        behavior_methods(file, &mut imp, b)?;
    }
    Ok(imp)
}

/// `{ "CachePolicy": { "CachePolicyConfig": … } }`, `{ "CachePolicyConfig": … }`, the
/// same for the other two policy kinds, or several of them in one object; or a
/// distribution as `aws cloudfront get-distribution-config` (`{ETag, DistributionConfig}`)
/// and `get-distribution` (`{ETag, Distribution: {…, DistributionConfig}}`) print it, whose
/// policy ids can only be managed ones (the file holds no policy).
fn api_json(file: &str, tree: &Value, imp: &mut Imported) -> Result<Policies, InputError> {
    let Some(obj) = tree.as_object() else {
        return Err(at_path(file, "$", "expected a JSON object"));
    };
    let mut p = Policies::default();
    let find = |outer: &str, inner: &str| -> Option<Found> {
        if let Some(v) = obj.get(outer).and_then(|o| o.get(inner)) {
            return Some(Found {
                path: format!("$.{outer}.{inner}"),
                config: v.clone(),
            });
        }
        obj.get(inner).map(|v| Found {
            path: format!("$.{inner}"),
            config: v.clone(),
        })
    };
    p.cache = find("CachePolicy", "CachePolicyConfig");
    p.origin = find("OriginRequestPolicy", "OriginRequestPolicyConfig");
    p.headers = find("ResponseHeadersPolicy", "ResponseHeadersPolicyConfig");
    if let Some(Found { path, config: dc }) = find("Distribution", "DistributionConfig") {
        let bpath = format!("{path}.DefaultCacheBehavior");
        let b = dc
            .get("DefaultCacheBehavior")
            .ok_or_else(|| at_path(file, &bpath, "missing DefaultCacheBehavior"))?;
        warn_other_behaviors(imp, &dc, &path);
        let mut d = Policies::default();
        resolve_behavior(file, imp, b, &bpath, |_| None, &mut d)?;
        // a policy given beside the distribution (several objects merged) stays
        p.cache = p.cache.or(d.cache);
        p.origin = p.origin.or(d.origin);
        p.headers = p.headers.or(d.headers);
        p.behavior = d.behavior;
        p.legacy = d.legacy;
    }
    Ok(p)
}

/// `CacheBehaviors` as a list (CloudFormation) or `{Quantity, Items}` (the API): each one
/// is warned about, only the default behavior is imported.
fn warn_other_behaviors(imp: &mut Imported, dc: &Value, base: &str) {
    let others = match dc.get("CacheBehaviors") {
        Some(Value::Array(a)) => a.as_slice(),
        Some(Value::Object(o)) => match o.get("Items") {
            Some(Value::Array(a)) => a.as_slice(),
            _ => &[],
        },
        _ => &[],
    };
    for (i, o) in others.iter().enumerate() {
        let pat = o.get("PathPattern").and_then(Value::as_str).unwrap_or("?");
        imp.warn(format!(
            "{base}.CacheBehaviors[{i}] (PathPattern {pat}): not imported; only DefaultCacheBehavior is"
        ));
    }
}

fn resources(tree: &Value) -> Vec<(String, &str, &Value)> {
    let Some(r) = tree.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    r.iter()
        .filter_map(|(name, v)| {
            let ty = v.get("Type")?.as_str()?;
            Some((
                name.clone(),
                ty,
                v.get("Properties").unwrap_or(&Value::Null),
            ))
        })
        .collect()
}

/// A policy id in a behavior: a managed id, `{Ref: X}`, `{Fn::GetAtt: [X, Id]}`, or the
/// tag-stripped YAML forms `X` / `X.Id`.
fn ref_name(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim_end_matches(".Id").to_string()),
        Value::Object(o) => {
            if let Some(Value::String(s)) = o.get("Ref") {
                return Some(s.clone());
            }
            match o.get("Fn::GetAtt") {
                Some(Value::Array(a)) => a.first()?.as_str().map(str::to_string),
                Some(Value::String(s)) => Some(s.split('.').next()?.to_string()),
                _ => None,
            }
        }
        _ => None,
    }
}

fn cloudformation(file: &str, tree: &Value, imp: &mut Imported) -> Result<Policies, InputError> {
    let res = resources(tree);
    if res.is_empty() {
        return Err(at_path(
            file,
            "$.Resources",
            "expected a map of resources with Type and Properties",
        ));
    }
    let mut by_name = std::collections::HashMap::new();
    for (name, ty, props) in &res {
        let inner = match *ty {
            "AWS::CloudFront::CachePolicy" => "CachePolicyConfig",
            "AWS::CloudFront::OriginRequestPolicy" => "OriginRequestPolicyConfig",
            "AWS::CloudFront::ResponseHeadersPolicy" => "ResponseHeadersPolicyConfig",
            _ => continue,
        };
        let path = format!("$.Resources.{name}.Properties.{inner}");
        let config = props
            .get(inner)
            .cloned()
            .ok_or_else(|| at_path(file, &path, format!("missing {inner}")))?;
        by_name.insert(name.clone(), (*ty, Found { path, config }));
    }
    let dists: Vec<&(String, &str, &Value)> = res
        .iter()
        .filter(|r| r.1 == "AWS::CloudFront::Distribution")
        .collect();
    let mut p = Policies::default();
    let Some((dname, _, props)) = dists.first().map(|d| (*d).clone()) else {
        // policies only: take one of each kind
        for (name, (ty, f)) in sorted(&by_name) {
            let slot = match *ty {
                "AWS::CloudFront::CachePolicy" => &mut p.cache,
                "AWS::CloudFront::OriginRequestPolicy" => &mut p.origin,
                _ => &mut p.headers,
            };
            if slot.is_some() {
                imp.warn(format!("{}: a second {ty} ({name}) in a template without a distribution: not imported (only the first of each kind is)", f.path));
            } else {
                *slot = Some(f.clone());
            }
        }
        return Ok(p);
    };
    if dists.len() > 1 {
        imp.warn(format!(
            "$.Resources: {} distributions; only {dname} imported",
            dists.len()
        ));
    }
    let base = format!("$.Resources.{dname}.Properties.DistributionConfig");
    let dc = props
        .get("DistributionConfig")
        .ok_or_else(|| at_path(file, &base, "missing DistributionConfig"))?;
    let bpath = format!("{base}.DefaultCacheBehavior");
    let b = dc
        .get("DefaultCacheBehavior")
        .ok_or_else(|| at_path(file, &bpath, "missing DefaultCacheBehavior"))?;
    warn_other_behaviors(imp, dc, &base);
    resolve_behavior(
        file,
        imp,
        b,
        &bpath,
        |name| by_name.get(name).map(|(_, f)| f.clone()),
        &mut p,
    )?;
    Ok(p)
}

fn sorted<'a>(
    m: &'a std::collections::HashMap<String, (&'a str, Found)>,
) -> Vec<(&'a String, &'a (&'a str, Found))> {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

/// Fills `p` from a cache behavior: its policy ids resolved to policies in the file
/// (`lookup`) or managed ones. Legacy cache settings (`ForwardedValues`) are taken when
/// the behavior has no `CachePolicyId`, and warned about when it has one.
fn resolve_behavior(
    file: &str,
    imp: &mut Imported,
    b: &Value,
    bpath: &str,
    lookup: impl Fn(&str) -> Option<Found>,
    p: &mut Policies,
) -> Result<(), InputError> {
    p.behavior = Some(Found {
        path: bpath.to_string(),
        config: b.clone(),
    });
    type Managed = fn(&str) -> Option<(&'static str, Value)>;
    let kinds: [(&str, Managed, u8); 3] = [
        ("CachePolicyId", managed_cache_policy, 0),
        ("OriginRequestPolicyId", managed_origin_request_policy, 1),
        (
            "ResponseHeadersPolicyId",
            managed_response_headers_policy,
            2,
        ),
    ];
    for (field, managed, slot) in kinds {
        let Some(v) = b
            .get(field)
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
        else {
            continue;
        };
        let path = format!("{bpath}.{field}");
        // `Fn::If`, `Fn::ImportValue`, `Fn::Sub` with variables (`!If [Cond, A, B]` reads
        // as a list once its tag is stripped): valid CloudFormation this import cannot
        // evaluate.
        let intrinsic = match v {
            Value::Array(_) => Some("a CloudFormation function (such as !If)".to_string()),
            Value::Object(o) => o
                .keys()
                .find(|k| k.starts_with("Fn::"))
                .filter(|_| ref_name(v).is_none())
                .cloned(),
            _ => None,
        };
        if let Some(f) = intrinsic {
            imp.warn(format!(
                "{path}: {f} is not evaluated; this policy is not imported (give the policy id, !Ref or !GetAtt X.Id)"
            ));
            continue;
        }
        let Some(name) = ref_name(v) else {
            return Err(at_path(
                file,
                &path,
                "expected a policy id string, {Ref: Name} or {Fn::GetAtt: [Name, Id]}",
            ));
        };
        let found = match lookup(&name) {
            Some(f) => f,
            None => match managed(&name) {
                Some((mname, config)) => Found {
                    path: format!("{path} = {name} (managed policy {mname})"),
                    config,
                },
                None => {
                    imp.warn(format!("{path}: {name} is neither a policy in this file nor a managed policy varyedge knows; not imported"));
                    continue;
                }
            },
        };
        match slot {
            0 => p.cache = Some(found),
            1 => p.origin = Some(found),
            _ => p.headers = Some(found),
        }
    }
    // `terraform show -json` writes an unset block as `[]`
    let set = |v: &Value| match v {
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    };
    if b.get("ForwardedValues").is_some_and(set) {
        let has_policy = b
            .get("CachePolicyId")
            .is_some_and(|v| !v.is_null() && v.as_str() != Some(""));
        if has_policy {
            imp.warn(format!(
                "{bpath}.ForwardedValues: ignored; the behavior has a CachePolicyId, whose policy sets the cache key and TTLs"
            ));
        } else {
            p.legacy = Some(Found {
                path: bpath.to_string(),
                config: b.clone(),
            });
        }
    }
    Ok(())
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A list in any of the three spellings: `[..]`, `{Quantity, Items: [..]}`, `{Items: [..]}`
/// (`{Quantity: 0}` and `null` are empty), every element a string; anything else is an
/// error at `path` (or at the element or `Items` that is wrong).
fn items(file: &str, v: Option<&Value>, path: &str) -> Result<Vec<String>, InputError> {
    let (arr, apath) = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => (a, path.to_string()),
        Some(Value::Object(o)) => match o.get("Items") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(a)) => {
                // the API refuses a list whose Quantity differs (InconsistentQuantities)
                if let Some(q) = o.get("Quantity").and_then(Value::as_u64) {
                    if q != a.len() as u64 {
                        return Err(at_path(
                            file,
                            &format!("{path}.Quantity"),
                            format!(
                                "Quantity {q} but {} Items; expected them to agree (CloudFront rejects the request otherwise)",
                                a.len()
                            ),
                        ));
                    }
                }
                (a, format!("{path}.Items"))
            }
            Some(other) => {
                return Err(at_path(
                    file,
                    &format!("{path}.Items"),
                    format!(
                        "expected a list of strings, found {}",
                        shown_value(Some(other))
                    ),
                ))
            }
        },
        Some(other) => {
            return Err(at_path(
                file,
                path,
                format!(
                "expected a list of strings ([…] or {{\"Quantity\": n, \"Items\": […]}}), found {}",
                shown_value(Some(other))
            ),
            ))
        }
    };
    arr.iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_str().map(str::to_string).ok_or_else(|| {
                at_path(
                    file,
                    &format!("{apath}[{i}]"),
                    format!("expected a string, found {}", shown_value(Some(x))),
                )
            })
        })
        .collect()
}

/// A number of seconds: the API's Long, 0 or more (CloudFormation also takes it as a
/// string of digits). Absent or `null`: `None`.
fn seconds(file: &str, v: &Value, key: &str, path: &str) -> Result<Option<u64>, InputError> {
    let bad = |x: &Value| {
        at_path(
            file,
            &format!("{path}.{key}"),
            format!(
                "expected a whole number of seconds, 0 or more, found {}",
                shown_value(Some(x))
            ),
        )
    };
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(x @ Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| bad(x)),
        Some(x @ Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map(Some).map_err(|_| bad(x))
        }
        Some(x) => Err(bad(x)),
    }
}

/// `MinTTL` / `DefaultTTL` / `MaxTTL` of the object at `path` (a cache policy, or a
/// behavior with legacy settings) → `ttl`. Each is a whole number of seconds, and
/// CloudFront refuses a policy unless MinTTL ≤ DefaultTTL ≤ MaxTTL: the values given
/// must be in that order. An absent one keeps the profile's value, moved within the
/// given ones when it would break the order.
fn ttls(
    file: &str,
    imp: &mut Imported,
    c: &Value,
    path: &str,
    what: &str,
) -> Result<(), InputError> {
    let keys = ["MinTTL", "DefaultTTL", "MaxTTL"];
    let mut given = [None; 3];
    for (slot, key) in given.iter_mut().zip(keys) {
        *slot = seconds(file, c, key, path)?;
    }
    if given.iter().all(Option::is_none) {
        return Ok(());
    }
    for a in 0..3 {
        for b in a + 1..3 {
            if let (Some(x), Some(y)) = (given[a], given[b]) {
                if x > y {
                    return Err(at_path(
                        file,
                        &format!("{path}.{}", keys[a]),
                        format!(
                            "{} {x} is greater than {} {y}; expected MinTTL ≤ DefaultTTL ≤ MaxTTL (CloudFront rejects the policy otherwise)",
                            keys[a], keys[b]
                        ),
                    ));
                }
            }
        }
    }
    let profile = imp.knobs.ttl;
    let mut t = [
        given[0].or(profile.min),
        given[1].or(profile.default),
        given[2].or(profile.max),
    ];
    let mut moved = Vec::new();
    for i in 0..3 {
        if given[i].is_some() {
            continue;
        }
        let Some(v) = t[i] else {
            continue;
        };
        // the nearest given value below and above this one
        let lo = given[..i].iter().rev().flatten().next().copied();
        let hi = given[i + 1..].iter().flatten().next().copied();
        let fixed = v.max(lo.unwrap_or(v)).min(hi.unwrap_or(v));
        if fixed != v {
            t[i] = Some(fixed);
            moved.push(format!(
                "{} absent: {fixed}, not the profile's {v}",
                keys[i]
            ));
        }
    }
    imp.knobs.ttl = TtlOverride {
        min: t[0],
        default: t[1],
        max: t[2],
    };
    let moved = if moved.is_empty() {
        String::new()
    } else {
        format!("; {}", moved.join(", "))
    };
    imp.note(
        "ttl",
        format!("{path}.MinTTL/DefaultTTL/MaxTTL{what}{moved}"),
    );
    Ok(())
}

/// A part the API prints although nothing is configured in it: `{"Quantity": 0}`,
/// `{"Enabled": false, …}`, `null`, `[]` / `{}` (terraform's unset blocks).
fn unset(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => {
            o.is_empty()
                || o.get("Quantity").and_then(Value::as_u64) == Some(0)
                || o.get("Enabled").and_then(Value::as_bool) == Some(false)
        }
        _ => false,
    }
}

fn warn_unknown(imp: &mut Imported, v: &Value, path: &str, known: &[&str]) {
    if let Some(o) = v.as_object() {
        for k in o.keys() {
            if !known.contains(&k.as_str())
                && !["Name", "Comment", "Id", "Etag", "Arn"].contains(&k.as_str())
                && !unset(&o[k])
            {
                imp.warn(format!("{path}.{k}: not interpreted"));
            }
        }
    }
}

fn cache_policy(file: &str, imp: &mut Imported, f: &Found) -> Result<(), InputError> {
    let c = &f.config;
    let path = &f.path;
    warn_unknown(
        imp,
        c,
        path,
        &[
            "MinTTL",
            "DefaultTTL",
            "MaxTTL",
            "ParametersInCacheKeyAndForwardedToOrigin",
        ],
    );
    ttls(file, imp, c, path, "")?;
    let ppath = format!("{path}.ParametersInCacheKeyAndForwardedToOrigin");
    let Some(params) = c.get("ParametersInCacheKeyAndForwardedToOrigin") else {
        return Err(at_path(
            file,
            &ppath,
            "missing (a cache policy needs HeadersConfig, QueryStringsConfig, CookiesConfig)",
        ));
    };
    warn_unknown(
        imp,
        params,
        &ppath,
        &[
            "HeadersConfig",
            "QueryStringsConfig",
            "CookiesConfig",
            "EnableAcceptEncodingGzip",
            "EnableAcceptEncodingBrotli",
        ],
    );
    if let Some(h) = params.get("HeadersConfig") {
        let hp = format!("{ppath}.HeadersConfig");
        imp.knobs.key_headers = match str_at(h, "HeaderBehavior") {
            Some("none") => Vec::new(),
            Some("whitelist") => {
                lower_unique(items(file, h.get("Headers"), &format!("{hp}.Headers"))?)
            }
            _ => {
                return Err(at_path(
                    file,
                    &format!("{hp}.HeaderBehavior"),
                    format!(
                        "expected none or whitelist, found {}",
                        shown_value(h.get("HeaderBehavior"))
                    ),
                ))
            }
        };
        imp.note(
            "key_headers",
            format!("{hp} ({})", str_at(h, "HeaderBehavior").unwrap_or("")),
        );
    }
    if let Some(q) = params.get("QueryStringsConfig") {
        let qp = format!("{ppath}.QueryStringsConfig");
        imp.knobs.query = match str_at(q, "QueryStringBehavior") {
            Some("none") => QueryKey::None,
            Some("all") => QueryKey::All,
            Some("whitelist") => QueryKey::List(items(
                file,
                q.get("QueryStrings"),
                &format!("{qp}.QueryStrings"),
            )?),
            Some("allExcept") => {
                imp.warn(format!("{qp}: allExcept is not modelled; imported as all"));
                QueryKey::All
            }
            _ => {
                return Err(at_path(
                    file,
                    &format!("{qp}.QueryStringBehavior"),
                    format!(
                        "expected none, whitelist, allExcept or all, found {}",
                        shown_value(q.get("QueryStringBehavior"))
                    ),
                ))
            }
        };
        imp.note(
            "query",
            format!("{qp} ({})", str_at(q, "QueryStringBehavior").unwrap_or("")),
        );
    }
    if let Some(ck) = params.get("CookiesConfig") {
        match ck.get("CookieBehavior") {
            None | Some(Value::Null) => {}
            Some(Value::String(b)) if b == "none" => {}
            Some(Value::String(b)) if ["whitelist", "allExcept", "all"].contains(&b.as_str()) => {
                imp.warn(format!(
                    "{ppath}.CookiesConfig: CookieBehavior {b} (cookies in the key) is not modelled"
                ))
            }
            other => {
                return Err(at_path(
                    file,
                    &format!("{ppath}.CookiesConfig.CookieBehavior"),
                    format!(
                        "expected none, whitelist, allExcept or all, found {}",
                        shown_value(other)
                    ),
                ))
            }
        }
    }
    Ok(())
}

/// Header names lowercased (they are case-insensitive), each once, in their order.
pub(crate) fn lower_unique(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let n = n.to_ascii_lowercase();
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// Legacy cache settings of a behavior without a cache policy (AWS developer guide,
/// "Cache keys and legacy cache settings" / "Cache behavior settings"): the headers
/// named in `ForwardedValues.Headers` are forwarded and are the cache key (`["*"]`:
/// every header is forwarded and CloudFront caches nothing), `QueryString: true` puts
/// the query in the key (only `QueryStringCacheKeys` when it lists some),
/// `Cookies.Forward` forwards cookies into the key, and the behavior's own
/// `MinTTL` / `DefaultTTL` / `MaxTTL` apply. Returns whether every header is forwarded.
fn legacy_settings(file: &str, imp: &mut Imported, b: &Found) -> Result<bool, InputError> {
    let fp = format!("{}.ForwardedValues", b.path);
    let Some(fv) = b.config.get("ForwardedValues").filter(|v| v.is_object()) else {
        return Err(at_path(
            file,
            &fp,
            format!(
                "expected an object {{QueryString, Cookies, Headers}}, found {}",
                shown_value(b.config.get("ForwardedValues"))
            ),
        ));
    };
    warn_unknown(
        imp,
        fv,
        &fp,
        &["QueryString", "Cookies", "Headers", "QueryStringCacheKeys"],
    );
    ttls(file, imp, &b.config, &b.path, " (legacy cache settings)")?;
    let hp = format!("{fp}.Headers");
    let headers = lower_unique(items(file, fv.get("Headers"), &hp)?);
    let all = headers.iter().any(|h| h == "*");
    if all {
        imp.knobs.ttl = TtlOverride {
            min: Some(0),
            default: Some(0),
            max: Some(0),
        };
        imp.note(
            "ttl",
            format!("{hp} [*]: every header is forwarded, and CloudFront then does not cache (legacy cache settings)"),
        );
        imp.knobs.key_headers = Vec::new();
        imp.knobs.forward = Forward {
            headers: ForwardHeaders::All,
            strip: Vec::new(),
            add: vec![("x-amz-cf-id".into(), "varyedge-emulated".into())],
        };
        imp.note(
            "forward_headers",
            format!("{hp} [*]: every header is forwarded"),
        );
    } else {
        imp.knobs.key_headers = headers;
        imp.note(
            "key_headers",
            format!("{hp} (legacy cache settings: the forwarded headers are the cache key)"),
        );
    }
    let qp = format!("{fp}.QueryString");
    let query = match fv.get("QueryString") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(q)) => *q,
        Some(Value::String(q)) if q == "true" || q == "false" => q == "true",
        other => {
            return Err(at_path(
                file,
                &qp,
                format!("expected true or false, found {}", shown_value(other)),
            ))
        }
    };
    let kp = format!("{fp}.QueryStringCacheKeys");
    let keys = items(file, fv.get("QueryStringCacheKeys"), &kp)?;
    imp.knobs.query = match (query, keys.is_empty()) {
        (false, _) => QueryKey::None,
        (true, true) => QueryKey::All,
        (true, false) => QueryKey::List(keys),
    };
    let how = match &imp.knobs.query {
        QueryKey::None => format!("{qp} false"),
        QueryKey::List(_) => format!("{qp} true, {kp}"),
        _ => format!("{qp} true"),
    };
    imp.note("query", format!("{how} (legacy cache settings)"));
    if let Some(ck) = fv.get("Cookies").filter(|c| !c.is_null()) {
        let cp = format!("{fp}.Cookies.Forward");
        match ck.get("Forward") {
            None | Some(Value::Null) => {}
            Some(Value::String(f)) if f == "none" => {}
            Some(Value::String(f)) if f == "whitelist" || f == "all" => imp.warn(format!(
                "{cp}: {f} (cookies forwarded, so in the key) is not modelled"
            )),
            other => {
                return Err(at_path(
                    file,
                    &cp,
                    format!(
                        "expected none, whitelist or all, found {}",
                        shown_value(other)
                    ),
                ))
            }
        }
    }
    Ok(all)
}

fn origin_request_policy(file: &str, imp: &mut Imported, f: &Found) -> Result<(), InputError> {
    let c = &f.config;
    warn_unknown(
        imp,
        c,
        &f.path,
        &["HeadersConfig", "CookiesConfig", "QueryStringsConfig"],
    );
    let hp = format!("{}.HeadersConfig", f.path);
    let Some(h) = c.get("HeadersConfig") else {
        return Err(at_path(file, &hp, "missing"));
    };
    let names = lower_unique(items(file, h.get("Headers"), &format!("{hp}.Headers"))?);
    let beh = str_at(h, "HeaderBehavior");
    imp.knobs.forward = match beh {
        Some("none") => cloudfront_forward(ForwardHeaders::Key),
        Some("whitelist") => cloudfront_forward(ForwardHeaders::List(names)),
        Some("allViewer") | Some("allViewerAndWhitelistCloudFront") => Forward {
            headers: ForwardHeaders::All,
            strip: Vec::new(),
            add: vec![("x-amz-cf-id".into(), "varyedge-emulated".into())],
        },
        Some("allExcept") => Forward {
            headers: ForwardHeaders::All,
            strip: names,
            add: vec![("x-amz-cf-id".into(), "varyedge-emulated".into())],
        },
        _ => return Err(at_path(file, &format!("{hp}.HeaderBehavior"), format!("expected none, whitelist, allViewer, allViewerAndWhitelistCloudFront or allExcept, found {}", shown_value(h.get("HeaderBehavior"))))),
    };
    imp.note("forward_headers", format!("{hp} ({})", beh.unwrap_or("")));
    Ok(())
}

fn response_headers_policy(file: &str, imp: &mut Imported, f: &Found) -> Result<(), InputError> {
    let c = &f.config;
    warn_unknown(imp, c, &f.path, &["CorsConfig"]);
    let Some(cors) = c.get("CorsConfig") else {
        return Ok(());
    };
    let cp = format!("{}.CorsConfig", f.path);
    let flag = |k: &str| -> Result<bool, InputError> {
        match cors.get(k) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
            Some(other) => Err(at_path(
                file,
                &format!("{cp}.{k}"),
                format!("expected true or false, found {other}"),
            )),
        }
    };
    let list = |k: &str| items(file, cors.get(k), &format!("{cp}.{k}"));
    let origins = list("AccessControlAllowOrigins")?;
    if origins.is_empty() {
        return Err(at_path(
            file,
            &format!("{cp}.AccessControlAllowOrigins"),
            "expected a list of origins (or \"*\")",
        ));
    }
    imp.knobs.edge_cors = Some(EdgeCors {
        allow_origins: origins,
        allow_origin_patterns: Vec::new(),
        allow_methods: list("AccessControlAllowMethods")?,
        allow_headers: list("AccessControlAllowHeaders")?,
        expose_headers: list("AccessControlExposeHeaders")?,
        allow_credentials: flag("AccessControlAllowCredentials")?,
        max_age: seconds(file, cors, "AccessControlMaxAgeSec", &cp)?,
        origin_override: flag("OriginOverride")?,
        hide_origin_acao: false,
    });
    warn_unknown(
        imp,
        cors,
        &cp,
        &[
            "AccessControlAllowOrigins",
            "AccessControlAllowMethods",
            "AccessControlAllowHeaders",
            "AccessControlExposeHeaders",
            "AccessControlAllowCredentials",
            "AccessControlMaxAgeSec",
            "OriginOverride",
        ],
    );
    imp.note("edge_cors", cp);
    Ok(())
}

fn methods(file: &str, v: Option<&Value>, path: &str) -> Result<Option<Vec<String>>, InputError> {
    let l = items(file, v, path)?;
    Ok((!l.is_empty()).then(|| l.iter().map(|m| m.to_ascii_uppercase()).collect()))
}

fn behavior_methods(file: &str, imp: &mut Imported, b: &Found) -> Result<(), InputError> {
    let ap = format!("{}.AllowedMethods", b.path);
    let allowed = methods(file, b.config.get("AllowedMethods"), &ap)?;
    // The API nests CachedMethods inside AllowedMethods; CloudFormation and terraform
    // put them side by side.
    let cached = match b.config.get("CachedMethods") {
        Some(c) => methods(file, Some(c), &format!("{}.CachedMethods", b.path))?,
        None => methods(
            file,
            b.config
                .get("AllowedMethods")
                .and_then(|a| a.get("CachedMethods")),
            &format!("{ap}.CachedMethods"),
        )?,
    };
    if let Some(c) = &cached {
        imp.knobs.cache_options = c.iter().any(|m| m == "OPTIONS");
        imp.note(
            "cache_options",
            format!("{}.CachedMethods [{}]", b.path, c.join(", ")),
        );
    }
    if let Some(a) = &allowed {
        if !a.iter().any(|m| m == "OPTIONS") {
            imp.warn(format!("{}.AllowedMethods [{}]: without OPTIONS CloudFront refuses preflights itself; not modelled (the origin model answers them)", b.path, a.join(", ")));
        }
    }
    Ok(())
}

/// `terraform show -json`: resources under `values.root_module` (and child modules).
fn terraform(file: &str, tree: &Value, imp: &mut Imported) -> Result<Policies, InputError> {
    let Some(root) = tree.get("values").and_then(|v| v.get("root_module")) else {
        return Err(at_path(
            file,
            "$.values.root_module",
            "missing: expected `terraform show -json` output (state), not a plan",
        ));
    };
    let mut all = Vec::new();
    collect_tf(root, "$.values.root_module", &mut all);
    let mut by_id = std::collections::HashMap::new();
    let mut p = Policies::default();
    let mut dist = None;
    for (path, ty, addr, values) in &all {
        let found = Found {
            path: format!("{path} ({addr})"),
            config: tf_norm(values),
        };
        let id = values
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match ty.as_str() {
            "aws_cloudfront_cache_policy"
            | "aws_cloudfront_origin_request_policy"
            | "aws_cloudfront_response_headers_policy" => {
                by_id.insert(id, (ty.clone(), found));
            }
            "aws_cloudfront_distribution" if dist.is_none() => dist = Some(found),
            "aws_cloudfront_distribution" => imp.warn(format!(
                "{path} ({addr}): a second distribution, not imported"
            )),
            t if t.starts_with("aws_cloudfront_") => {
                imp.warn(format!("{path} ({addr}): {t} not interpreted"))
            }
            _ => {}
        }
    }
    let Some(d) = dist else {
        for (_, (ty, f)) in by_id {
            let slot = match ty.as_str() {
                "aws_cloudfront_cache_policy" => &mut p.cache,
                "aws_cloudfront_origin_request_policy" => &mut p.origin,
                _ => &mut p.headers,
            };
            if slot.is_some() {
                imp.warn(format!(
                    "{}: a second {ty} without a distribution: not imported",
                    f.path
                ));
            } else {
                *slot = Some(f);
            }
        }
        return Ok(p);
    };
    let bpath = format!("{}.default_cache_behavior[0]", d.path);
    let Some(b) = d.config.get("DefaultCacheBehavior").cloned() else {
        return Err(at_path(file, &bpath, "missing default_cache_behavior"));
    };
    if let Some(o) = d
        .config
        .get("OrderedCacheBehavior")
        .filter(|o| o.as_array().is_none_or(|a| !a.is_empty()))
    {
        let n = o.as_array().map_or(1, Vec::len);
        imp.warn(format!("{}.ordered_cache_behavior: {n} behavior(s) not imported; only default_cache_behavior is", d.path));
    }
    resolve_behavior(
        file,
        imp,
        &b,
        &bpath,
        |id| by_id.get(id).map(|(_, f)| f.clone()),
        &mut p,
    )?;
    Ok(p)
}

fn collect_tf<'a>(
    module: &'a Value,
    path: &str,
    out: &mut Vec<(String, String, String, &'a Value)>,
) {
    if let Some(Value::Array(rs)) = module.get("resources") {
        for (i, r) in rs.iter().enumerate() {
            let ty = r
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let addr = r
                .get("address")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if let Some(v) = r.get("values") {
                out.push((format!("{path}.resources[{i}]"), ty, addr, v));
            }
        }
    }
    if let Some(Value::Array(ms)) = module.get("child_modules") {
        for (i, m) in ms.iter().enumerate() {
            collect_tf(m, &format!("{path}.child_modules[{i}]"), out);
        }
    }
}

/// terraform's spelling → CloudFormation's: snake_case keys to PascalCase (`*_ttl` to
/// `*TTL`), one-element lists of blocks unwrapped.
fn tf_norm(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, v) in o {
                out.insert(pascal(k), tf_norm(v));
            }
            Value::Object(out)
        }
        Value::Array(a) if a.len() == 1 && a[0].is_object() => tf_norm(&a[0]),
        Value::Array(a) => Value::Array(a.iter().map(tf_norm).collect()),
        other => other.clone(),
    }
}

fn pascal(k: &str) -> String {
    if let Some(p) = k.strip_suffix("_ttl") {
        return format!("{}TTL", pascal(p));
    }
    k.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or(String::new(), |f| {
                f.to_ascii_uppercase().to_string() + c.as_str()
            })
        })
        .collect()
}
