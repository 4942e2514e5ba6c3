//! `varyedge import cdn-config`: reads a CDN or cache configuration the user already has
//! (CloudFront policy JSON, CloudFormation, `terraform show -json`, a Cloudflare ruleset,
//! nginx, Varnish/Fastly VCL) and turns it into an `edge:` block — the profile it starts
//! from plus knobs — with the place each knob came from, and a warning naming every
//! construct it could not interpret. Pure: text in, [`Imported`] out; the command reads
//! the file. The understood constructs are listed in `docs/import.md`.

pub mod cloudflare;
pub(crate) mod cloudflare_cors;
pub mod cloudfront;
pub(crate) mod json_at;
pub mod nginx;
mod render;
pub mod vcl;
mod vcl_cors;

pub use render::{knob_value, render};

use crate::error::InputError;
use crate::profile::{self, Knobs};

/// Which kind of configuration a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `aws cloudfront get-*-policy` output or a bare `*PolicyConfig` object.
    CloudFrontPolicy,
    /// A CloudFormation template (JSON or YAML).
    CloudFormation,
    /// `terraform show -json` output.
    Terraform,
    /// A Cloudflare ruleset (API JSON).
    Cloudflare,
    /// nginx configuration.
    Nginx,
    /// Varnish or Fastly VCL.
    Vcl,
    /// A YAML document with an `edge:` block (a scenario, or this command's output).
    EdgeBlock,
}

impl Format {
    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            Format::CloudFrontPolicy => "cloudfront-policy",
            Format::CloudFormation => "cloudformation",
            Format::Terraform => "terraform",
            Format::Cloudflare => "cloudflare-ruleset",
            Format::Nginx => "nginx",
            Format::Vcl => "vcl",
            Format::EdgeBlock => "edge-block",
        }
    }
}

/// Where one knob's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The scenario key (`key_headers`, `ttl`, …).
    pub knob: &'static str,
    /// The config line (`file:line`) or JSON path it came from, and what it said.
    pub from: String,
}

/// The result of an import.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The file, as named.
    pub file: String,
    /// What it was read as.
    pub format: Format,
    /// The built-in profile the knobs start from.
    pub profile: &'static str,
    /// The knobs.
    pub knobs: Knobs,
    /// Where each set knob came from, in the order they were set.
    pub notes: Vec<Note>,
    /// Constructs not interpreted (each names the construct and its place).
    pub warnings: Vec<String>,
    /// Knobs noted from what the file does *not* say (CloudFront without an origin
    /// request policy, without a cache policy): [`overlay`] leaves them as they were.
    pub assumed: Vec<&'static str>,
}

impl Imported {
    /// Starts from a built-in profile.
    pub(crate) fn new(file: &str, format: Format, profile: &'static str) -> Imported {
        Imported {
            file: file.to_string(),
            format,
            profile,
            knobs: profile::profile(profile).map_or_else(Knobs::rfc9111, |p| p.knobs),
            notes: Vec::new(),
            warnings: Vec::new(),
            assumed: Vec::new(),
        }
    }

    /// Like [`Imported::note`], for a value assumed because the file is silent on it.
    pub(crate) fn assume(&mut self, knob: &'static str, from: impl Into<String>) {
        self.note(knob, from);
        self.assumed.push(knob);
    }

    /// Records that `knob` was set from `from` (replacing an earlier note for it).
    pub(crate) fn note(&mut self, knob: &'static str, from: impl Into<String>) {
        self.notes.retain(|n| n.knob != knob);
        self.notes.push(Note {
            knob,
            from: from.into(),
        });
    }

    /// Records a construct that was not interpreted.
    pub(crate) fn warn(&mut self, w: impl Into<String>) {
        self.warnings.push(w.into());
    }
}

/// Guesses the format from the file name and content.
pub fn detect(file: &str, text: &str) -> Option<Format> {
    let lower = file.to_ascii_lowercase();
    if text.lines().any(|l| l.starts_with("edge:")) && !text.contains("AWSTemplateFormatVersion") {
        return Some(Format::EdgeBlock);
    }
    if lower.ends_with(".vcl") {
        return Some(Format::Vcl);
    }
    if (lower.ends_with(".conf") || lower.ends_with(".conf.in") || text.contains("proxy_cache"))
        && !text.trim_start().starts_with('{')
    {
        return Some(Format::Nginx);
    }
    let t = text.trim_start();
    if t.starts_with("vcl ") || text.contains("sub vcl_") {
        return Some(Format::Vcl);
    }
    if text.contains("AWSTemplateFormatVersion") || text.contains("AWS::CloudFront::") {
        return Some(Format::CloudFormation);
    }
    if text.contains("\"format_version\"") && text.contains("aws_cloudfront") {
        return Some(Format::Terraform);
    }
    if text.contains("set_cache_settings")
        || text.contains("http_request_cache_settings")
        || text.contains("http_response_headers_transform")
        || (text.contains("\"rewrite\"") && text.contains("action_parameters"))
    {
        return Some(Format::Cloudflare);
    }
    if text.contains("CachePolicyConfig")
        || text.contains("\"DistributionConfig\"")
        || text.contains("OriginRequestPolicyConfig")
        || text.contains("ResponseHeadersPolicyConfig")
        || (text.contains("\"DistributionConfig\"") && text.contains("\"DefaultCacheBehavior\""))
    {
        return Some(Format::CloudFrontPolicy);
    }
    None
}

/// Imports `text` (the content of `file`).
pub fn import(file: &str, text: &str) -> Result<Imported, InputError> {
    // a UTF-8 byte order mark (Windows editors) is not part of the first word
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(format) = detect(file, text) else {
        return Err(InputError::at(
            file,
            1,
            1,
            "cannot tell what configuration this is; expected a CloudFront policy JSON (CachePolicyConfig / OriginRequestPolicyConfig / ResponseHeadersPolicyConfig / DistributionConfig), a CloudFormation template with AWS::CloudFront:: resources, `terraform show -json` output with aws_cloudfront_* resources, a Cloudflare ruleset with set_cache_settings (or a CORS http_response_headers_transform rule), an nginx config with proxy_cache directives, or VCL",
        ));
    };
    match format {
        Format::CloudFrontPolicy | Format::CloudFormation | Format::Terraform => {
            cloudfront::import(file, text, format)
        }
        Format::Cloudflare => cloudflare::import(file, text),
        Format::Nginx => nginx::import(file, text),
        Format::Vcl => vcl::import(file, text),
        Format::EdgeBlock => edge_block(file, text),
    }
}

/// The scenario knobs an import can name, in output order.
pub const KNOBS: &[&str] = &[
    "vary",
    "key_headers",
    "key_host",
    "key_head_apart",
    "query",
    "cache_options",
    "preflight_key",
    "max_variants",
    "collapse",
    "ttl",
    "pass_cookie",
    "pass_authorization",
    "forward_headers",
    "forward_strip",
    "forward_add",
    "edge_cors",
    "vary_star",
    "vary_compare",
    "stale_while_revalidate",
    "grace",
];

/// `base` with every knob the imported file itself sets (its notes, assumptions aside)
/// taken from `imp`: the edge `base` describes with this snippet pasted into its
/// configuration. `pops` and `shield` stay `base`'s.
pub fn overlay(base: &Knobs, imp: &Imported) -> Knobs {
    let mut k = base.clone();
    let from = &imp.knobs;
    for n in imp.notes.iter().filter(|n| !imp.assumed.contains(&n.knob)) {
        match n.knob {
            "vary" => k.vary = from.vary,
            "key_headers" => k.key_headers = from.key_headers.clone(),
            "key_host" => k.key_host = from.key_host,
            "key_head_apart" => k.key_head_apart = from.key_head_apart,
            "query" => k.query = from.query.clone(),
            "cache_options" => k.cache_options = from.cache_options,
            "preflight_key" => k.preflight_key = from.preflight_key,
            "max_variants" => k.max_variants = from.max_variants,
            "collapse" => k.collapse = from.collapse,
            "ttl" => k.ttl = from.ttl,
            "pass_cookie" => k.pass_cookie = from.pass_cookie,
            "pass_authorization" => k.pass_authorization = from.pass_authorization,
            "forward_headers" | "forward_strip" | "forward_add" => k.forward = from.forward.clone(),
            "edge_cors" => k.edge_cors = from.edge_cors.clone(),
            "vary_star" => k.vary_star = from.vary_star,
            "vary_compare" => k.vary_compare = from.vary_compare,
            "stale_while_revalidate" => k.stale_while_revalidate = from.stale_while_revalidate,
            "grace" => k.grace = from.grace,
            _ => {}
        }
    }
    k
}

/// An `edge:` block read back: its knobs as they are, one note saying so.
fn edge_block(file: &str, text: &str) -> Result<Imported, InputError> {
    let spec = crate::scenario::parse_edge_block(file, text)?;
    let name = profile::PROFILE_NAMES
        .iter()
        .find(|n| **n == spec.profile)
        .copied()
        .unwrap_or("rfc9111");
    let mut imp = Imported::new(file, Format::EdgeBlock, name);
    let base = imp.knobs.clone();
    imp.knobs = spec.knobs;
    for knob in KNOBS {
        if knob_value(&imp.knobs, knob) != knob_value(&base, knob) {
            imp.note(knob, format!("{file}: edge.{knob}, as written"));
        }
    }
    if imp.knobs.pops != base.pops || imp.knobs.shield != base.shield {
        imp.warn(format!(
            "{file}: pops/shield are not carried by an imported edge"
        ));
    }
    Ok(imp)
}

/// Parses JSON or YAML into a tree, errors at file:line:col.
pub(crate) fn parse_tree(file: &str, text: &str) -> Result<serde_json::Value, InputError> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| {
            InputError::at(
                file,
                e.line() as u64,
                e.column() as u64,
                format!("invalid JSON: {e}"),
            )
        });
    }
    crate::scenario::read_yaml(file, text)
}

/// An error at a JSON path.
pub(crate) fn at_path(file: &str, path: &str, msg: impl std::fmt::Display) -> InputError {
    InputError::at(file, 0, 0, format!("at {path}: {msg}"))
}

/// `"value"` or `nothing`, for "expected …, found …".
pub(crate) fn shown(v: Option<&str>) -> String {
    v.map_or("nothing".to_string(), |s| format!("{s:?}"))
}
