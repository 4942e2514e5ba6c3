//! The change of each candidate, ready to paste: header lines for the origin frameworks
//! (Express `cors`, Django with django-cors-headers, Rails `rack-cors`, Spring, nginx
//! `add_header`) and the edge's configuration (CloudFront cache policy JSON, VCL
//! `vcl_hash`, nginx `proxy_cache_key`, Cloudflare cache rule JSON), plus the scenario
//! knob that models it. Written here from the vendors' documented directives; the values
//! (origins, host) come from the scenario.

use super::FixKind;
use crate::origin::AllowOrigins;
use crate::scenario::{OriginSpec, Scenario, DEFAULT_HOST};
use serde::Serialize;

/// One paste-ready change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Where it goes: `Express (cors)`, `CloudFront cache policy`, `scenario`, …
    pub target: String,
    /// Code-block language hint (`js`, `python`, `ruby`, `java`, `nginx`, `vcl`, `json`, `yaml`).
    pub lang: &'static str,
    /// The text.
    pub text: String,
    /// An edge configuration that `varyedge import cdn-config` reads (CloudFront JSON,
    /// VCL, nginx, Cloudflare rule JSON); imported over the scenario's edge, it yields
    /// the knobs the proof replayed (tests/fix_snippets.rs).
    pub edge: bool,
}

pub(crate) fn change(target: &str, lang: &'static str, text: String) -> Change {
    Change {
        target: target.to_string(),
        lang,
        text,
        edge: false,
    }
}

pub(crate) fn edge_change(target: &str, lang: &'static str, text: String) -> Change {
    Change {
        edge: true,
        ..change(target, lang, text)
    }
}

/// The allowlisted origins of the scenario's policy, quoted for code (`'a', 'b'`).
fn origins(sc: &Scenario, quote: char) -> String {
    let list: Vec<String> = match &sc.origin {
        OriginSpec::Model(m) => match m.cors.as_ref().map(|p| &p.allow_origins) {
            Some(AllowOrigins::List(l)) => l.clone(),
            _ => sc
                .clients
                .iter()
                .map(|c| c.origin.clone())
                .filter(|o| !o.is_empty())
                .collect(),
        },
        OriginSpec::Upstream(_) => Vec::new(),
    };
    list.iter()
        .map(|o| format!("{quote}{o}{quote}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn host(sc: &Scenario) -> String {
    sc.steps
        .first()
        .map_or(DEFAULT_HOST.to_string(), |s| s.host.clone())
}

/// The edge family of a profile name, for the edge snippets.
pub(crate) fn family(profile: &str) -> &'static str {
    match profile {
        p if p.starts_with("cloudfront") => "cloudfront",
        "varnish" => "varnish",
        "fastly" => "fastly",
        "nginx" => "nginx",
        "cloudflare" => "cloudflare",
        _ => "other",
    }
}

/// The paste-ready changes of `kind` for `sc`'s origin frameworks and edge.
pub fn changes(sc: &Scenario, kind: FixKind) -> Vec<Change> {
    match kind {
        FixKind::OriginVary => origin_vary(sc),
        FixKind::AllowAny => allow_any(),
        FixKind::ErrorsNoStore => errors_no_store(sc),
        FixKind::EdgeKeyOrigin => edge_key(sc),
        FixKind::NoOptionsCache => no_options(sc),
        FixKind::EdgeCors => super::edge_cors::changes(sc),
    }
}

fn origin_vary(sc: &Scenario) -> Vec<Change> {
    let sq = origins(sc, '\'');
    let dq = origins(sc, '"');
    vec![
        change("Express (cors)", "js", format!(
            "app.use((req, res, next) => {{\n  res.vary('Origin');\n  if (req.method === 'OPTIONS') res.vary('Access-Control-Request-Method').vary('Access-Control-Request-Headers');\n  next();\n}});\napp.use(cors({{ origin: [{sq}] }}));\n")),
        change("Django (django-cors-headers)", "python", format!(
            "# settings.py\nCORS_ALLOWED_ORIGINS = [{sq}]\n# a middleware listed before corsheaders.middleware.CorsMiddleware:\nfrom django.utils.cache import patch_vary_headers\ndef vary_origin(get_response):\n    def mw(request):\n        response = get_response(request)\n        patch_vary_headers(response, ('Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers') if request.method == 'OPTIONS' else ('Origin',))\n        return response\n    return mw\n")),
        change("Rails (rack-cors)", "ruby", format!(
            "allow do\n  origins {dq}\n  resource '*', headers: :any, methods: :any,\n    vary: ['Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers']\nend\n")),
        change("Spring", "java", format!(
            "CorsConfiguration c = new CorsConfiguration();\nc.setAllowedOrigins(List.of({dq}));\n// DefaultCorsProcessor adds Vary: Origin, Access-Control-Request-Method,\n// Access-Control-Request-Headers; responses it does not process need it too:\nresponse.addHeader(\"Vary\", \"Origin\");\n")),
        change("nginx (add_header)", "nginx",
            "add_header Vary \"Origin\" always;\n# in the block answering OPTIONS:\nadd_header Vary \"Origin, Access-Control-Request-Method, Access-Control-Request-Headers\" always;\n".to_string()),
        change("scenario", "yaml", "origin:\n  cors:\n    vary_origin: true\n    preflight_vary: true\n".to_string()),
    ]
}

fn allow_any() -> Vec<Change> {
    vec![
        change("Express (cors)", "js", "app.use(cors({ origin: '*', credentials: false }));\n".into()),
        change("Django (django-cors-headers)", "python", "CORS_ALLOW_ALL_ORIGINS = True\nCORS_ALLOW_CREDENTIALS = False\n".into()),
        change("Rails (rack-cors)", "ruby", "allow do\n  origins '*'\n  resource '*', headers: :any, methods: :any, credentials: false\nend\n".into()),
        change("Spring", "java", "c.addAllowedOrigin(\"*\");\nc.setAllowCredentials(false);\n".into()),
        change("nginx (add_header)", "nginx", "add_header Access-Control-Allow-Origin \"*\" always;\n".into()),
        change("scenario", "yaml", "origin:\n  cors:\n    allow_origins: \"*\"\n    allow_credentials: false\n".into()),
    ]
}

fn errors_no_store(sc: &Scenario) -> Vec<Change> {
    let mut v = vec![
        change("Express", "js", "app.use((err, req, res, next) => {\n  res.set('Cache-Control', 'no-store');\n  next(err);\n});\n".into()),
        change("Django", "python", "from django.utils.cache import patch_cache_control\n# in the view or middleware producing the error response:\npatch_cache_control(response, no_store=True)\n".into()),
        change("Rails", "ruby", "response.headers['Cache-Control'] = 'no-store' if response.status >= 400\n".into()),
        change("Spring", "java", "return ResponseEntity.status(status).cacheControl(CacheControl.noStore()).body(body);\n".into()),
        change("nginx (add_header)", "nginx", "# in the location serving error pages:\nadd_header Cache-Control \"no-store\" always;\n".into()),
    ];
    if family(&sc.edge.profile) == "cloudfront" {
        v.push(edge_change(
            "CloudFront distribution (CustomErrorResponses)",
            "json",
            error_responses(sc),
        ));
    }
    v
}

/// CloudFront's `CustomErrorResponses` with `ErrorCachingMinTTL: 0` for the scenario's
/// error statuses (routes and preflights answering ≥ 400): CloudFront otherwise caches errors for 10 s and ignores `no-store` on most of
/// them (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HTTPStatusCodes.html>).
fn error_responses(sc: &Scenario) -> String {
    let mut codes: Vec<u16> = Vec::new();
    if let OriginSpec::Model(m) = &sc.origin {
        codes.extend(m.routes.iter().map(|r| r.status).filter(|s| *s >= 400));
        codes.extend(
            super::policies(m)
                .map(|p| p.preflight_status)
                .filter(|s| *s >= 400),
        );
    }
    codes.sort_unstable();
    codes.dedup();
    let items: Vec<serde_json::Value> = codes
        .iter()
        .map(|c| serde_json::json!({ "ErrorCode": c, "ErrorCachingMinTTL": 0 }))
        .collect();
    let doc = serde_json::json!({ "DistributionConfig": { "CustomErrorResponses": {
        "Quantity": items.len(), "Items": items } } });
    serde_json::to_string(&doc).unwrap_or_default() + "\n"
}

fn edge_key(sc: &Scenario) -> Vec<Change> {
    let h = host(sc);
    let mut v = Vec::new();
    match family(&sc.edge.profile) {
        "cloudfront" => v.push(edge_change("CloudFront cache policy", "json",
            "{\n  \"CachePolicyConfig\": {\n    \"Name\": \"cors-keyed\",\n    \"MinTTL\": 1, \"DefaultTTL\": 86400, \"MaxTTL\": 31536000,\n    \"ParametersInCacheKeyAndForwardedToOrigin\": {\n      \"EnableAcceptEncodingGzip\": true,\n      \"HeadersConfig\": {\n        \"HeaderBehavior\": \"whitelist\",\n        \"Headers\": {\"Quantity\": 3, \"Items\": [\"Origin\", \"Access-Control-Request-Method\", \"Access-Control-Request-Headers\"]}\n      },\n      \"CookiesConfig\": {\"CookieBehavior\": \"none\"},\n      \"QueryStringsConfig\": {\"QueryStringBehavior\": \"none\"}\n    }\n  }\n}\n".into())),
        "varnish" => v.push(edge_change("Varnish VCL", "vcl",
            "# an absent header hashes as empty: GETs keep one entry per Origin\nsub vcl_hash {\n    hash_data(req.http.Origin);\n    hash_data(req.http.Access-Control-Request-Method);\n    hash_data(req.http.Access-Control-Request-Headers);\n}\n".into())),
        "fastly" => v.push(edge_change("Fastly VCL", "vcl",
            "sub vcl_hash {\n  set req.hash += req.url;\n  set req.hash += req.http.host;\n  set req.hash += req.http.Origin;\n  set req.hash += req.http.Access-Control-Request-Method;\n  set req.hash += req.http.Access-Control-Request-Headers;\n#FASTLY hash\n  return (hash);\n}\n".into())),
        "nginx" => v.push(edge_change("nginx (proxy_cache_key)", "nginx",
            "proxy_cache_key \"$scheme$proxy_host$request_uri$http_origin$http_access_control_request_method$http_access_control_request_headers\";\n".into())),
        "cloudflare" => v.push(edge_change("Cloudflare cache rule", "json", format!(
            "{{\"rules\": [{{\n  \"expression\": \"(http.host eq \\\"{h}\\\")\",\n  \"action\": \"set_cache_settings\",\n  \"action_parameters\": {{\n    \"cache\": true,\n    \"cache_key\": {{\"custom_key\": {{\"header\": {{\"include\": [\"origin\", \"access-control-request-method\", \"access-control-request-headers\"]}}}}}}\n  }}\n}}]}}\n"))),
        _ => {}
    }
    v.push(change("scenario", "yaml", "edge:\n  key_headers: [origin, access-control-request-method, access-control-request-headers]\n  preflight_key: honor\n".into()));
    v
}

fn no_options(sc: &Scenario) -> Vec<Change> {
    let mut v = Vec::new();
    match family(&sc.edge.profile) {
        "cloudfront" => v.push(edge_change("CloudFront cache behavior", "json",
            "{\"DistributionConfig\": {\"DefaultCacheBehavior\": {\n  \"AllowedMethods\": {\"Quantity\": 3, \"Items\": [\"GET\", \"HEAD\", \"OPTIONS\"],\n    \"CachedMethods\": {\"Quantity\": 2, \"Items\": [\"GET\", \"HEAD\"]}}}}}\n".into())),
        "varnish" | "fastly" => v.push(edge_change("VCL", "vcl",
            "sub vcl_recv {\n    if (req.method == \"OPTIONS\") { return (pass); }\n}\n".into())),
        "nginx" => v.push(edge_change("nginx", "nginx", "proxy_cache_methods GET HEAD;\n".into())),
        _ => {}
    }
    v.push(change(
        "scenario",
        "yaml",
        "edge:\n  cache_options: false\n".into(),
    ));
    v
}
