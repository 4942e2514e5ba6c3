//! `varyedge fingerprint`: probes a live edge with cache-busted requests on a route the
//! user names and infers its knobs — query in the key, whether Origin separates entries
//! (key or Vary), HEAD sharing GET's entry, Cookie/Authorization pass, OPTIONS stored and
//! keyed, the variant cap, which request fields reach the origin — each with the probes
//! that show it and a confidence, and the built-in profiles consistent with all of it.
//!
//! Hit or miss is read from `varyedge-origin-serial` when the origin is `varyedge origin`
//! (a stored copy repeats the origin's number); otherwise from `Age`, `X-Cache`,
//! `X-Cache-Status` or `Cache-Status` (weaker: marked low confidence). Only the target is
//! ever contacted; the probe count is bounded and paced.

use super::client::{BaseUrl, Client, ClientError};
use super::origin_server::{SAW, SERIAL};
use crate::edge::forward;
use crate::fields::Headers;
use crate::message::{Request, Response};
use crate::profile::{self, Knobs, PreflightKey, QueryKey, VaryMode};
use serde::Serialize;
use std::time::Duration;

/// How sure an inference is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// Read from the origin's own serial / echo.
    High,
    /// From the cache's headers, or one of two explanations ruled out by another probe.
    Medium,
    /// Ambiguous: consistent with more than one setting.
    Low,
}

/// One probe and what came back.
#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    /// `METHOD target [headers]`.
    pub probe: String,
    /// `status, from cache|origin (how known)`.
    pub answer: String,
}

/// One inferred knob.
#[derive(Clone, Debug, Serialize)]
pub struct Inferred {
    /// Scenario key (`query`, `key_headers`, …) or an observation id (`origin-separates`).
    pub knob: &'static str,
    /// Value as it would be written in an `edge:` block.
    pub value: String,
    /// How sure.
    pub confidence: Confidence,
    /// The probes behind it.
    pub evidence: Vec<Evidence>,
}

/// The result.
#[derive(Clone, Debug, Serialize)]
pub struct Fingerprint {
    /// The target.
    pub target: String,
    /// Requests sent.
    pub probes: usize,
    /// What was inferred.
    pub knobs: Vec<Inferred>,
    /// Built-in profiles consistent with every observation (several = indistinguishable by
    /// these probes).
    pub candidates: Vec<String>,
    /// What was not probed, and why.
    pub not_probed: Vec<String>,
}

/// Options.
#[derive(Clone, Debug)]
pub struct Options {
    /// The edge.
    pub target: BaseUrl,
    /// A route whose responses carry `Vary: Origin` (or any cacheable CORS route).
    pub path: String,
    /// Optionally a route answering without `Vary` (tells "Origin in the key" from
    /// "Vary honoured").
    pub novary_path: Option<String>,
    /// At most this many requests.
    pub max_probes: usize,
    /// At most this many requests per second.
    pub rate: f64,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Origins to send (the route must allow the first two).
    pub origins: Vec<String>,
}

/// Why fingerprinting stopped.
#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    /// A request failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The probe budget ran out.
    #[error("probe budget of {0} requests used up (raise --max-probes)")]
    Budget(usize),
    /// The route does not let itself be cache-busted, or nothing is stored.
    #[error("{0}")]
    Route(String),
}

#[derive(Clone, Debug)]
struct Obs {
    status: u16,
    serial: Option<u64>,
    saw: Option<Vec<String>>,
    hint: Option<bool>,
    vary: Vec<String>,
}

fn observe(r: &Response) -> Obs {
    let h = &r.headers;
    let hint = cache_hint(h);
    Obs {
        status: r.status,
        serial: h.get(SERIAL).and_then(|v| v.trim().parse().ok()),
        saw: h.get(SAW).map(|v| {
            v.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        }),
        hint,
        vary: h
            .list("vary")
            .iter()
            .map(|v| v.to_ascii_lowercase())
            .collect(),
    }
}

/// A cache's own word on hit or miss: `Cache-Status` (RFC 9211 `hit`), `X-Cache`,
/// `X-Cache-Status`, or `Age` > 0.
fn cache_hint(h: &Headers) -> Option<bool> {
    if let Some(cs) = h.get("cache-status") {
        return Some(cs.split(';').any(|p| p.trim() == "hit"));
    }
    for n in ["x-cache", "x-cache-status"] {
        if let Some(v) = h.get(n) {
            let v = v.to_ascii_uppercase();
            return Some(v.contains("HIT"));
        }
    }
    h.get("age")
        .and_then(|a| a.trim().parse::<u64>().ok())
        .map(|a| a > 0)
}

struct Prober {
    client: Client,
    opts: Options,
    sent: usize,
    run: String,
    seq: u64,
    bust_path: bool,
}

/// The outcome of a second request on a key the first just filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Second {
    Hit,
    Miss,
}

impl Prober {
    fn key(&mut self, path: &str) -> String {
        self.seq += 1;
        if self.bust_path {
            format!(
                "{}/vefp-{}-{}",
                path.trim_end_matches('/'),
                self.run,
                self.seq
            )
        } else {
            let sep = if path.contains('?') { '&' } else { '?' };
            format!("{path}{sep}vefp={}-{}", self.run, self.seq)
        }
    }

    async fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        ev: &mut Vec<Evidence>,
    ) -> Result<Obs, FingerprintError> {
        if self.sent >= self.opts.max_probes {
            return Err(FingerprintError::Budget(self.opts.max_probes));
        }
        if self.sent > 0 && self.opts.rate > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(1.0 / self.opts.rate)).await;
        }
        self.sent += 1;
        let mut h = Headers::from_pairs([
            ("user-agent", "varyedge-fingerprint"),
            ("x-varyedge-probe", "1"),
        ]);
        for (n, v) in headers {
            h.append(n, v);
        }
        let req = Request {
            method: method.into(),
            scheme: "http".into(),
            host: self.opts.target.authority.clone(),
            target: target.into(),
            headers: h,
        };
        let r = self.client.send(&self.opts.target, &req, None).await?;
        let o = observe(&r);
        let shown: Vec<String> = headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
        ev.push(Evidence {
            probe: format!("{method} {target} [{}]", shown.join("; ")),
            answer: format!(
                "{}{}",
                o.status,
                o.serial
                    .map_or(String::new(), |s| format!(", origin serial {s}"))
            ),
        });
        Ok(o)
    }

    /// Two requests on one fresh key: whether the second came from the cache.
    async fn pair(
        &mut self,
        path: &str,
        first: (&str, &[(&str, &str)]),
        second: (&str, &[(&str, &str)]),
        ev: &mut Vec<Evidence>,
    ) -> Result<(Second, Confidence, Obs), FingerprintError> {
        let k = self.key(path);
        let a = self.send(first.0, &k, first.1, ev).await?;
        let b = self.send(second.0, &k, second.1, ev).await?;
        let (s, c) = judge(&a, &b);
        if let Some(e) = ev.last_mut() {
            e.answer.push_str(if s == Second::Hit {
                " → from the cache"
            } else {
                " → from the origin"
            });
        }
        Ok((s, c, a))
    }
}

fn judge(a: &Obs, b: &Obs) -> (Second, Confidence) {
    match (a.serial, b.serial) {
        (Some(x), Some(y)) => (
            if x == y { Second::Hit } else { Second::Miss },
            Confidence::High,
        ),
        _ => match b.hint {
            Some(true) => (Second::Hit, Confidence::Medium),
            Some(false) => (Second::Miss, Confidence::Medium),
            None => (Second::Miss, Confidence::Low),
        },
    }
}

fn inferred(
    knob: &'static str,
    value: impl Into<String>,
    confidence: Confidence,
    evidence: Vec<Evidence>,
) -> Inferred {
    Inferred {
        knob,
        value: value.into(),
        confidence,
        evidence,
    }
}

/// Probes `opts.target` and infers its knobs.
pub async fn fingerprint(opts: Options) -> Result<Fingerprint, FingerprintError> {
    let run = format!(
        "{:x}",
        super::clock::now().0 ^ u64::from(std::process::id())
    );
    let mut p = Prober {
        client: Client::new(opts.timeout),
        opts: opts.clone(),
        sent: 0,
        run,
        seq: 0,
        bust_path: false,
    };
    let mut out = Vec::new();
    let query_keyed = p.query(&mut out).await?;
    p.bust_path = !query_keyed;
    let (path, first) = p.stored(&mut out).await?;
    let sep_vary = p.origin(&path, &first, &mut out).await?;
    p.passes(&path, &mut out).await?;
    p.options(&path, &mut out).await?;
    if sep_vary {
        out.push(variants(&mut p, &path).await?);
    }
    if let Some(f) = forwarded(&path, &first) {
        out.push(f);
    }
    let candidates = candidates(&out);
    Ok(Fingerprint {
        target: opts.target.to_string(),
        probes: p.sent,
        knobs: out,
        candidates,
        not_probed: vec![
            "Vary: * (needs a route that sends it)".into(),
            "TTL clamps (would need waits past the route's max-age)".into(),
            "request collapsing (needs concurrent misses)".into(),
            "Host in the key (one target host)".into(),
        ],
    })
}

impl Prober {
    fn origin_a(&self) -> Vec<(&'static str, String)> {
        vec![("origin", self.opts.origins[0].clone())]
    }

    /// Step 1: is the query in the key? Two different queries on one path.
    async fn query(&mut self, out: &mut Vec<Inferred>) -> Result<bool, FingerprintError> {
        let path = self.opts.path.clone();
        let a = self.origin_a();
        let oa = borrow(&a);
        let mut ev = Vec::new();
        let sep = if path.contains('?') { '&' } else { '?' };
        let k1 = format!("{path}{sep}vefp-q={}-a", self.run);
        let k2 = k1.replace("-a", "-b");
        let x = self.send("GET", &k1, &oa, &mut ev).await?;
        let y = self.send("GET", &k2, &oa, &mut ev).await?;
        let (s, c) = judge(&x, &y);
        let keyed = s == Second::Miss;
        out.push(inferred("query", if keyed { "all" } else { "none" }, c, ev));
        Ok(keyed)
    }

    /// Step 2: stored at all? A response with `Vary: Origin` may not be (Akamai) while
    /// one without is: then the rest is probed on the no-Vary route. Returns the route
    /// used and the first answer on it.
    async fn stored(&mut self, out: &mut Vec<Inferred>) -> Result<(String, Obs), FingerprintError> {
        let path = self.opts.path.clone();
        let a = self.origin_a();
        let oa = borrow(&a);
        let mut ev = Vec::new();
        let (s, c, first) = self
            .pair(&path, ("GET", &oa), ("GET", &oa), &mut ev)
            .await?;
        if s == Second::Hit {
            out.push(inferred("stores-get", "true", c, ev));
            return Ok((path, first));
        }
        let Some(nv) = self.opts.novary_path.clone() else {
            return Err(not_stored(&path, c));
        };
        let (s2, c2, f2) = self.pair(&nv, ("GET", &oa), ("GET", &oa), &mut ev).await?;
        if s2 == Second::Miss {
            return Err(not_stored(&nv, c2));
        }
        out.push(inferred("stores-get", "false", c, ev));
        Ok((nv, f2))
    }

    /// Step 3: does Origin separate entries, on the Vary route and the no-Vary route?
    async fn origin(
        &mut self,
        path: &str,
        first: &Obs,
        out: &mut Vec<Inferred>,
    ) -> Result<bool, FingerprintError> {
        let (a, b) = (
            self.origin_a(),
            vec![("origin", self.opts.origins[1].clone())],
        );
        let (oa, ob) = (borrow(&a), borrow(&b));
        let mut ev = Vec::new();
        let (s, c, _) = self.pair(path, ("GET", &oa), ("GET", &ob), &mut ev).await?;
        let sep_vary = s == Second::Miss;
        out.push(inferred("origin-separates", sep_vary.to_string(), c, ev));
        let mut sep_novary = None;
        if let Some(nv) = self.opts.novary_path.clone() {
            let mut ev = Vec::new();
            let (s, c, o) = self.pair(&nv, ("GET", &oa), ("GET", &ob), &mut ev).await?;
            if o.vary.iter().any(|v| v == "origin") {
                return Err(FingerprintError::Route(format!(
                    "--novary-path {nv} answers with Vary: Origin"
                )));
            }
            sep_novary = Some(s == Second::Miss);
            out.push(inferred(
                "origin-separates-without-vary",
                (s == Second::Miss).to_string(),
                c,
                ev,
            ));
        }
        let vary_origin = first.vary.iter().any(|v| v == "origin");
        out.push(origin_knobs(vary_origin, sep_vary, sep_novary));
        Ok(sep_vary)
    }

    /// Step 4: HEAD after GET; Cookie and Authorization after a stored GET.
    async fn passes(
        &mut self,
        path: &str,
        out: &mut Vec<Inferred>,
    ) -> Result<(), FingerprintError> {
        let a = self.origin_a();
        let oa = borrow(&a);
        let mut ev = Vec::new();
        let (s, c, _) = self
            .pair(path, ("GET", &oa), ("HEAD", &oa), &mut ev)
            .await?;
        out.push(inferred(
            "key_head_apart",
            (s == Second::Miss).to_string(),
            c,
            ev,
        ));
        for (knob, name, value) in [
            ("pass_cookie", "cookie", "vefp=1"),
            ("pass_authorization", "authorization", "Bearer vefp"),
        ] {
            let mut ev = Vec::new();
            let mut with = oa.clone();
            with.push((name, value));
            let (s, c, _) = self
                .pair(path, ("GET", &oa), ("GET", &with), &mut ev)
                .await?;
            out.push(inferred(knob, (s == Second::Miss).to_string(), c, ev));
        }
        Ok(())
    }

    /// Step 5: OPTIONS stored? Keyed on Origin?
    async fn options(
        &mut self,
        path: &str,
        out: &mut Vec<Inferred>,
    ) -> Result<(), FingerprintError> {
        let (a, b) = (self.opts.origins[0].clone(), self.opts.origins[1].clone());
        let pa = [
            ("origin", a.as_str()),
            ("access-control-request-method", "PUT"),
        ];
        let pb = [
            ("origin", b.as_str()),
            ("access-control-request-method", "PUT"),
        ];
        let mut ev = Vec::new();
        let (s, c, _) = self
            .pair(path, ("OPTIONS", &pa), ("OPTIONS", &pa), &mut ev)
            .await?;
        let stored = s == Second::Hit;
        out.push(inferred("cache_options", stored.to_string(), c, ev));
        if stored {
            let mut ev = Vec::new();
            let (s, c, o) = self
                .pair(path, ("OPTIONS", &pa), ("OPTIONS", &pb), &mut ev)
                .await?;
            // separated with a `Vary: Origin` on the preflight: keyed or Vary, unknown
            let ambiguous = s == Second::Miss && o.vary.iter().any(|v| v == "origin");
            let value = if s == Second::Miss { "honor" } else { "ignore" };
            out.push(inferred(
                "preflight_key",
                value,
                if ambiguous { Confidence::Low } else { c },
                ev,
            ));
            // the preflight's request headers: two ACRH values, one Origin
            let ha = [
                ("origin", a.as_str()),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "x-vefp-a"),
            ];
            let hb = [
                ("origin", a.as_str()),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "x-vefp-b"),
            ];
            let mut ev = Vec::new();
            let (s, c, _) = self
                .pair(path, ("OPTIONS", &ha), ("OPTIONS", &hb), &mut ev)
                .await?;
            out.push(inferred(
                "preflight-headers-keyed",
                (s == Second::Miss).to_string(),
                c,
                ev,
            ));
        }
        Ok(())
    }
}

fn borrow<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(n, x)| (*n, x.as_str())).collect()
}

/// Step 7: what reaches the origin: the origin's echo on the first miss.
fn forwarded(path: &str, first: &Obs) -> Option<Inferred> {
    let saw = first.saw.as_ref()?;
    let origin_seen = saw.iter().any(|h| h == "origin");
    let probe_seen = saw.iter().any(|h| h == "x-varyedge-probe");
    let v = match (origin_seen, probe_seen) {
        (_, true) => "all",
        (true, false) => "key or [origin]",
        (false, false) => "key",
    };
    Some(inferred(
        "forward_headers",
        v,
        Confidence::High,
        vec![Evidence {
            probe: format!("GET {path}… [origin, x-varyedge-probe, user-agent]"),
            answer: format!("origin received: {}", saw.join(", ")),
        }],
    ))
}

fn not_stored(path: &str, c: Confidence) -> FingerprintError {
    FingerprintError::Route(format!(
        "a repeated GET on {path} was not served from the cache ({c:?} confidence): the route's responses are not stored here (or cannot be cache-busted: with the query not in the key, the route must accept a path suffix); nothing to infer"
    ))
}

/// Origin separation on the Vary route and (optionally) the no-Vary route → key or Vary.
fn origin_knobs(vary_origin: bool, sep_vary: bool, sep_novary: Option<bool>) -> Inferred {
    let (value, c) = match (vary_origin, sep_vary, sep_novary) {
        (true, false, _) => (
            "vary: ignore (Origin not keyed, Vary: Origin not honoured)",
            Confidence::High,
        ),
        (_, true, Some(true)) => ("key_headers: [origin]", Confidence::High),
        (true, true, Some(false)) => ("vary: honor (Origin not keyed)", Confidence::High),
        (true, true, None) => (
            "Origin keyed or Vary honoured (give --novary-path to tell)",
            Confidence::Low,
        ),
        (false, true, _) => ("key_headers: [origin]", Confidence::High),
        (false, false, _) => (
            "Origin not keyed (the route sends no Vary: Origin)",
            Confidence::Medium,
        ),
    };
    inferred("origin", value, c, Vec::new())
}

/// Variants kept per key: 6 Origins twice; if the second round misses, 5 Origins twice.
async fn variants(p: &mut Prober, path: &str) -> Result<Inferred, FingerprintError> {
    let mut ev = Vec::new();
    for n in [6usize, 5] {
        let k = p.key(path);
        let origins: Vec<String> = (0..n).map(|i| format!("https://fp{i}.example")).collect();
        let mut first = Vec::new();
        for o in &origins {
            first.push(p.send("GET", &k, &[("origin", o)], &mut ev).await?);
        }
        let mut hits = 0;
        let mut conf = Confidence::High;
        for (i, o) in origins.iter().enumerate() {
            let b = p.send("GET", &k, &[("origin", o)], &mut ev).await?;
            let (s, c) = judge(&first[i], &b);
            hits += usize::from(s == Second::Hit);
            if c != Confidence::High {
                conf = c;
            }
        }
        if hits == n {
            let v = if n == 6 {
                "unbounded (≥ 6)".to_string()
            } else {
                "5".to_string()
            };
            return Ok(inferred("max_variants", v, conf, ev));
        }
    }
    Ok(inferred("max_variants", "< 5", Confidence::Medium, ev))
}

/// What a profile predicts for each observation id, as the inferred value text.
fn predict(k: &Knobs, knob: &str) -> Option<String> {
    let origin_keyed = k.key_headers.iter().any(|h| h == "origin");
    let honours = matches!(k.vary, VaryMode::Honor)
        && k.vary_allowlist
            .as_ref()
            .is_none_or(|l| l.iter().any(|h| h == "origin"));
    Some(match knob {
        "query" => (if k.query == QueryKey::None {
            "none"
        } else {
            "all"
        })
        .to_string(),
        "stores-get" => (!matches!(k.vary, VaryMode::Uncacheable)).to_string(),
        "origin-separates" => (origin_keyed || honours).to_string(),
        "origin-separates-without-vary" => origin_keyed.to_string(),
        "key_head_apart" => k.key_head_apart.to_string(),
        "pass_cookie" => k.pass_cookie.to_string(),
        "pass_authorization" => k.pass_authorization.to_string(),
        "cache_options" => k.cache_options.to_string(),
        "preflight_key" => (if origin_keyed || k.preflight_key == PreflightKey::Honor || honours {
            "honor"
        } else {
            "ignore"
        })
        .to_string(),
        "preflight-headers-keyed" => (k
            .key_headers
            .iter()
            .any(|h| h == "access-control-request-headers")
            || k.preflight_key == PreflightKey::Honor
            || matches!(k.vary, VaryMode::Honor))
        .to_string(),
        "max_variants" => match k.max_variants {
            None => "unbounded (≥ 6)".into(),
            Some(n) if n >= 6 => "unbounded (≥ 6)".into(),
            Some(5) => "5".into(),
            Some(_) => "< 5".into(),
        },
        "forward_headers" => {
            let o = forward::keeps(&k.forward, &k.key_headers, "origin");
            let p = forward::keeps(&k.forward, &k.key_headers, "x-varyedge-probe");
            (match (o, p) {
                (_, true) => "all",
                (true, false) => "key or [origin]",
                (false, false) => "key",
            })
            .to_string()
        }
        _ => return None,
    })
}

/// The built-in profiles whose predictions match every observation.
pub fn candidates(found: &[Inferred]) -> Vec<String> {
    profile::builtin_profiles()
        .into_iter()
        .filter(|p| {
            found
                .iter()
                .all(|i| predict(&p.knobs, i.knob).is_none_or(|v| v == i.value))
        })
        .map(|p| p.name.to_string())
        .collect()
}

/// The result as an `edge:` block (the first candidate's profile) with the evidence as
/// comments.
pub fn render_text(f: &Fingerprint) -> String {
    let mut o = format!(
        "# varyedge fingerprint {} ({} probes)\n",
        f.target, f.probes
    );
    match f.candidates.as_slice() {
        [] => o.push_str("# no built-in profile matches every observation\n"),
        [one] => o.push_str(&format!("# matches profile {one}\n")),
        many => o.push_str(&format!(
            "# indistinguishable by these probes: {}\n",
            many.join(", ")
        )),
    }
    for i in &f.knobs {
        o.push_str(&format!(
            "# {}: {} ({:?} confidence)\n",
            i.knob, i.value, i.confidence
        ));
        for e in &i.evidence {
            o.push_str(&format!("#   {} → {}\n", e.probe, e.answer));
        }
    }
    for n in &f.not_probed {
        o.push_str(&format!("# not probed: {n}\n"));
    }
    o.push_str("edge:\n");
    o.push_str(&format!(
        "  profile: {}\n",
        f.candidates.first().map_or("rfc9111", String::as_str)
    ));
    o
}
