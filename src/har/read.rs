//! A streaming HAR 1.2 reader. The JSON is parsed from a reader with serde visitors: the
//! `log.entries` array is walked one element at a time, each entry is turned into a
//! compact [`Entry`] (headers, status, times; no bodies) and dropped, so a file of tens of
//! MB never lives in memory as a tree. Every error names the JSON path and what was
//! expected (`log.entries[12].startedDateTime: missing; expected an ISO 8601 date-time`).
//!
//! Shape: HAR 1.2 (Jan Odvarko, "HAR 1.2 Spec", softwareishard.com): `log.version`,
//! `log.creator`, `log.browser`, `log.pages[]`, `log.entries[]` with `startedDateTime`,
//! `request{method,url,headers[],cookies[]}`, `response{status,headers[],content}`.
//! Chrome (devtools-frontend `front_end/models/har/Log.ts`) adds `_fromCache`,
//! `_resourceType`, `_initiator`, `response._error`; Playwright adds `_frameref` and
//! `response._failureText` (a failed request has `status: -1` and only the headers known
//! before it was sent).

use crate::fields::Headers;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::cell::RefCell;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// A HAR file could not be read: where (file, JSON path, and line/column when the JSON
/// itself is broken) and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct HarError {
    /// The file.
    pub file: String,
    /// The JSON path (`log.entries[12].request`), `$` for the document.
    pub path: String,
    /// 1-based line of a JSON syntax error, 0 when the JSON was fine.
    pub line: usize,
    /// 1-based column of a JSON syntax error, 0 when the JSON was fine.
    pub col: usize,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for HarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: ", self.file, self.line, self.col.max(1))?;
        } else {
            write!(f, "{}: ", self.file)?;
        }
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A page of the recording (`log.pages[]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// `id`, which entries name in `pageref`.
    pub id: String,
    /// `title` (Chrome and Firefox write the page URL there).
    pub title: String,
}

/// One request/response pair, reduced to what varyedge uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Position in `log.entries`.
    pub index: usize,
    /// `startedDateTime` as written.
    pub started: String,
    /// `startedDateTime` in ms since the Unix epoch.
    pub started_ms: i64,
    /// `time`: the request's elapsed ms, rounded (0 when absent, negative or not a number).
    pub time_ms: i64,
    /// Request method, uppercase.
    pub method: String,
    /// The full URL (fragment dropped).
    pub url: String,
    /// `http` or `https`.
    pub scheme: String,
    /// Authority, lowercase (`api.example.com:8443`).
    pub host: String,
    /// Path and query.
    pub target: String,
    /// Request headers (HTTP/2 pseudo-headers dropped).
    pub request_headers: Headers,
    /// The request carried cookies (a `Cookie` header or `request.cookies[]`).
    pub cookies: bool,
    /// Response status; 0 or -1 when no response was received (blocked, failed).
    pub status: i32,
    /// Response headers.
    pub response_headers: Headers,
    /// Why the request failed (`_failureText`, `_error`), if the export says.
    pub failure: Option<String>,
    /// Chrome's `_fromCache`: `memory` or `disk` (the browser's own cache answered), or
    /// `service-worker:SOURCE` when a service worker answered without the network.
    pub from_cache: Option<String>,
    /// Chrome's `_resourceType` (`fetch`, `xhr`, `document`, `image`, `preflight`…).
    pub resource_type: Option<String>,
    /// Chrome's `_initiator.type` (`script`, `parser`, `preflight`…).
    pub initiator: Option<String>,
    /// `pageref`.
    pub page_ref: Option<String>,
    /// Playwright's `_frameref`.
    pub frame_ref: Option<String>,
    /// varyedge's own `_varyedge` field (written by `replay --target --har`): the client
    /// that sent the request, so a re-import need not guess it.
    pub sender: Option<Sender>,
}

/// The client a `_varyedge` entry field names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sender {
    /// The page's origin (empty for `browser: none`).
    pub page: String,
    /// `chrome`, `firefox`, `safari` or `none`.
    pub browser: String,
    /// `cors` or `no-cors`.
    pub mode: String,
}

impl Entry {
    /// Whether a response was recorded (status > 0).
    pub fn has_response(&self) -> bool {
        self.status > 0
    }

    /// The request's `Origin`, if any.
    pub fn origin(&self) -> Option<&str> {
        self.request_headers.get("origin")
    }

    /// Whether this is a CORS preflight: `OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method` (Fetch §4.8).
    pub fn is_preflight(&self) -> bool {
        self.method == "OPTIONS"
            && self.origin().is_some()
            && self
                .request_headers
                .contains("access-control-request-method")
    }
}

/// A HAR document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Har {
    /// The file it came from.
    pub file: String,
    /// `log.creator.name` (`WebInspector`, `Firefox`, `WebKit Web Inspector`, `Playwright`).
    pub creator: String,
    /// `log.browser.name`, when given.
    pub browser: Option<String>,
    /// `log.pages`.
    pub pages: Vec<Page>,
    /// `log.entries`, in file order.
    pub entries: Vec<Entry>,
}

/// Reads the HAR file at `path`; `-` is standard input, named `<stdin>` in errors.
pub fn read_path(path: &Path) -> Result<Har, HarError> {
    if path == Path::new("-") {
        return read("<stdin>", std::io::stdin().lock());
    }
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| io_error(&name, &e))?;
    read(&name, file)
}

/// Reads a HAR 1.2 document from `input`; `file` names it in errors.
pub fn read<R: Read>(file: &str, input: R) -> Result<Har, HarError> {
    let mut input = BufReader::with_capacity(1 << 16, input);
    let head = input.fill_buf().map_err(|e| io_error(file, &e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        return Err(err(
            file,
            "$",
            "this is a gzip file; expected HAR JSON (gunzip it first)",
        ));
    }
    if head.is_empty() {
        return Err(err(
            file,
            "$",
            "the file is empty; expected a HAR 1.2 document ({\"log\": {...}})",
        ));
    }
    let ctx = Ctx {
        file,
        path: RefCell::new("$".to_string()),
        failure: RefCell::new(None),
    };
    // The bytes are read whole (tens of MB at most) and parsed with serde_json's slice
    // reader, several times faster than its byte-at-a-time io reader; the parse itself is
    // still a stream: entries are converted one by one and no document tree is built.
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(file, &e))?;
    // Windows tools write a UTF-8 byte order mark; RFC 8259 §8.1 lets a parser ignore it.
    let body = bytes
        .strip_prefix(&[0xEF, 0xBB, 0xBF][..])
        .unwrap_or(&bytes);
    let mut de = serde_json::Deserializer::from_slice(body);
    let res = RootSeed { ctx: &ctx }.deserialize(&mut de).and_then(|h| {
        de.end()?;
        Ok(h)
    });
    match res {
        Ok(h) => Ok(h),
        Err(e) => Err(match ctx.failure.take() {
            Some(f) => placed(body, f),
            None => json_error(&ctx, &e),
        }),
    }
}

/// A semantic error (a missing member, a value of the wrong type) found once the entry
/// was parsed, given the line and column of the value its path names (of the enclosing
/// object when the member is missing).
fn placed(body: &[u8], mut e: HarError) -> HarError {
    if e.line == 0 {
        let path = crate::import::json_at::parse_path(&e.path);
        if let Some(f) = crate::import::json_at::locate(body, &path) {
            e.line = f.line as usize;
            e.col = f.col as usize;
        }
    }
    e
}

fn io_error(file: &str, e: &std::io::Error) -> HarError {
    err(file, "$", format!("cannot read: {e}"))
}

fn err(file: &str, path: &str, message: impl Into<String>) -> HarError {
    HarError {
        file: file.to_string(),
        path: path.to_string(),
        line: 0,
        col: 0,
        message: message.into(),
    }
}

/// A serde_json error (syntax, truncation, type) as a HarError at the innermost path
/// the reader had reached.
fn json_error(ctx: &Ctx<'_>, e: &serde_json::Error) -> HarError {
    let path = ctx.path.borrow().clone();
    let text = e.to_string();
    let bare = text.split(" at line ").next().unwrap_or(&text);
    let message = match e.classify() {
        serde_json::error::Category::Eof => format!(
            "the JSON ends inside {path} ({bare}); expected the rest of the document: is the file truncated?"
        ),
        serde_json::error::Category::Io => format!("cannot read: {bare}"),
        serde_json::error::Category::Syntax if path == "$" => format!(
            "not JSON ({bare}); expected a HAR 1.2 document ({{\"log\": {{\"version\": \"1.2\", \"entries\": [...]}}}})"
        ),
        serde_json::error::Category::Syntax if bare.contains("unicode") || bare.contains("control character") => format!(
            "{bare}: expected JSON text; binary bodies must be base64 in `content.text` with `\"encoding\": \"base64\"`"
        ),
        _ => format!("{bare}; expected valid HAR JSON"),
    };
    HarError {
        file: ctx.file.to_string(),
        path,
        line: e.line(),
        col: e.column(),
        message,
    }
}

struct Ctx<'a> {
    file: &'a str,
    /// The innermost JSON path being read, for serde's own errors.
    path: RefCell<String>,
    /// A semantic error (missing field, wrong version) raised inside a visitor; it wins
    /// over the generic serde error it is smuggled out as.
    failure: RefCell<Option<HarError>>,
}

impl Ctx<'_> {
    fn fail<E: de::Error>(&self, e: HarError) -> E {
        let msg = e.message.clone();
        *self.failure.borrow_mut() = Some(e);
        E::custom(msg)
    }

    fn set_path(&self, p: &str) {
        let mut s = self.path.borrow_mut();
        s.clear();
        s.push_str(p);
    }
}

struct RootSeed<'c, 'a> {
    ctx: &'c Ctx<'a>,
}

impl<'de> DeserializeSeed<'de> for RootSeed<'_, '_> {
    type Value = Har;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Har, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RootSeed<'_, '_> {
    type Value = Har;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a HAR document: an object with a `log` member")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Har, A::Error> {
        let mut har = None;
        while let Some(k) = map.next_key::<String>()? {
            if k == "log" {
                self.ctx.set_path("log");
                har = Some(map.next_value_seed(LogSeed { ctx: self.ctx })?);
                self.ctx.set_path("$");
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        har.ok_or_else(|| {
            self.ctx.fail(err(
                self.ctx.file,
                "$",
                "no `log` member; expected a HAR 1.2 document ({\"log\": {\"version\": \"1.2\", \"entries\": [...]}})",
            ))
        })
    }
}

struct LogSeed<'c, 'a> {
    ctx: &'c Ctx<'a>,
}

impl<'de> DeserializeSeed<'de> for LogSeed<'_, '_> {
    type Value = Har;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Har, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LogSeed<'_, '_> {
    type Value = Har;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the `log` object ({\"version\", \"creator\", \"entries\"})")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Har, A::Error> {
        let ctx = self.ctx;
        let mut har = Har {
            file: ctx.file.to_string(),
            ..Har::default()
        };
        let mut version: Option<Value> = None;
        let mut entries = None;
        while let Some(k) = map.next_key::<String>()? {
            ctx.set_path(&format!("log.{k}"));
            match k.as_str() {
                "version" => version = Some(map.next_value()?),
                "creator" => har.creator = name_of(&map.next_value::<Value>()?),
                "browser" => har.browser = Some(name_of(&map.next_value::<Value>()?)),
                "pages" => har.pages = pages(&map.next_value::<Value>()?),
                "entries" => entries = Some(map.next_value_seed(EntriesSeed { ctx })?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            ctx.set_path("log");
        }
        match version.as_ref().map(|v| v.as_str()) {
            Some(Some("1.2")) => {}
            // Firefox's exporter labels its output "1.1" (devtools/client/netmonitor/src/
            // har/har-builder-utils.js `HAR_VERSION`) but writes every field of 1.2 that
            // is read here; only that producer's 1.1 is accepted.
            Some(Some("1.1")) if har.creator == "Firefox" => {}
            Some(Some(v)) => {
                return Err(ctx.fail(err(ctx.file, "log.version", format!(
                    "HAR {v} is not supported; expected \"1.2\" (export again from a current browser, or Playwright's recordHar; Firefox's \"1.1\" is read)"
                ))))
            }
            Some(None) => return Err(ctx.fail(err(ctx.file, "log.version", "expected the string \"1.2\""))),
            None => return Err(ctx.fail(err(ctx.file, "log.version", "missing; expected \"1.2\" (HAR 1.2)"))),
        }
        har.entries = entries.ok_or_else(|| {
            ctx.fail(err(
                ctx.file,
                "log.entries",
                "missing; expected an array of entries",
            ))
        })?;
        Ok(har)
    }
}

fn name_of(v: &Value) -> String {
    v.get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn pages(v: &Value) -> Vec<Page> {
    let Some(a) = v.as_array() else {
        return Vec::new();
    };
    a.iter()
        .map(|p| Page {
            id: p
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            title: p
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        })
        .collect()
}

struct EntriesSeed<'c, 'a> {
    ctx: &'c Ctx<'a>,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_> {
    type Value = Vec<Entry>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<Entry>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_> {
    type Value = Vec<Entry>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of entries")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Entry>, A::Error> {
        let mut out = Vec::new();
        loop {
            let i = out.len();
            let path = format!("log.entries[{i}]");
            self.ctx.set_path(&path);
            // One entry at a time: its tree is dropped once converted.
            let Some(v) = seq.next_element::<Value>()? else {
                break;
            };
            match entry(&v, i, &path) {
                Ok(e) => out.push(e),
                Err((p, m)) => return Err(self.ctx.fail(err(self.ctx.file, &p, m))),
            }
        }
        Ok(out)
    }
}

/// A semantic problem: (JSON path, message).
type Bad = (String, String);

fn get<'v>(v: &'v Value, path: &str, key: &str, what: &str) -> Result<&'v Value, Bad> {
    if !v.is_object() {
        return Err((
            path.to_string(),
            format!("expected an object, found {}", kind(v)),
        ));
    }
    v.get(key)
        .ok_or_else(|| (format!("{path}.{key}"), format!("missing; expected {what}")))
}

fn get_str<'v>(v: &'v Value, path: &str, key: &str, what: &str) -> Result<&'v str, Bad> {
    let x = get(v, path, key, what)?;
    x.as_str().ok_or_else(|| {
        (
            format!("{path}.{key}"),
            format!("expected {what}, found {}", kind(x)),
        )
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn entry(v: &Value, index: usize, path: &str) -> Result<Entry, Bad> {
    let started = get_str(
        v,
        path,
        "startedDateTime",
        "an ISO 8601 date-time such as \"2026-01-01T10:00:00.000Z\"",
    )?;
    let started_ms = parse_iso8601_ms(started).ok_or_else(|| {
        (
            format!("{path}.startedDateTime"),
            format!("expected an ISO 8601 date-time such as \"2026-01-01T10:00:00.000Z\", found {started:?}"),
        )
    })?;
    let rpath = format!("{path}.request");
    let req = get(v, path, "request", "the request object")?;
    let method = get_str(
        req,
        &rpath,
        "method",
        "the method, a string such as \"GET\"",
    )?;
    let url = get_str(req, &rpath, "url", "the absolute request URL")?;
    let (scheme, host, target) = split_url(url).ok_or_else(|| {
        (
            format!("{rpath}.url"),
            format!("expected an absolute http(s) URL, found {url:?}"),
        )
    })?;
    let request_headers = headers(
        get(req, &rpath, "headers", "an array of {name, value}")?,
        &format!("{rpath}.headers"),
    )?;
    let cookies = request_headers.contains("cookie")
        || req
            .get("cookies")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
    let resp = get(v, path, "response", "the response object")?;
    let (status, response_headers) = response(resp, &format!("{path}.response"))?;
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    Ok(Entry {
        index,
        started: started.to_string(),
        started_ms,
        time_ms: v
            .get("time")
            .and_then(Value::as_f64)
            .filter(|t| t.is_finite() && *t > 0.0 && *t < 1e12)
            .map_or(0, |t| t.round() as i64),
        method: method.to_ascii_uppercase(),
        url: format!("{scheme}://{host}{target}"),
        scheme,
        host,
        target,
        request_headers,
        cookies,
        status,
        response_headers,
        failure: s(resp.get("_failureText"))
            .or(s(resp.get("_error")))
            .filter(|f| !f.is_empty()),
        // Chrome `_fromCache: "disk"`; Safari `_fetchType: "Disk Cache"` (WebKit
        // HARBuilder.js `fetchType`).
        from_cache: s(v.get("_fromCache"))
            .or_else(|| s(v.get("_fetchType")).filter(|t| t.contains("Cache")))
            .or_else(|| service_worker_answer(resp)),
        resource_type: s(v.get("_resourceType")),
        initiator: s(v.get("_initiator").and_then(|i| i.get("type"))),
        page_ref: s(v.get("pageref")),
        frame_ref: s(v.get("_frameref")),
        sender: v.get("_varyedge").map(|x| Sender {
            page: s(x.get("page")).unwrap_or_default(),
            browser: s(x.get("browser")).unwrap_or_default(),
            mode: s(x.get("mode")).unwrap_or_default(),
        }),
    })
}

/// A response a service worker gave the page without a network request of its own:
/// Chrome writes `response._fetchedViaServiceWorker: true` and the DevTools protocol's
/// `ServiceWorkerResponseSource` as `_serviceWorkerResponseSource` (`cache-storage`,
/// `http-cache`, `fallback-code`, `network`). Only `network` reached a server; the others
/// came from the worker's Cache Storage, the HTTP cache or the worker's own code, so the
/// entry is `service-worker:SOURCE` (an unknown or missing source counts as not `network`).
fn service_worker_answer(resp: &Value) -> Option<String> {
    if resp
        .get("_fetchedViaServiceWorker")
        .and_then(Value::as_bool)
        != Some(true)
    {
        return None;
    }
    let source = resp
        .get("_serviceWorkerResponseSource")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    (source != "network").then(|| format!("service-worker:{source}"))
}

/// `response.status` and `response.headers` (and a check of `content.encoding`).
fn response(resp: &Value, spath: &str) -> Result<(i32, Headers), Bad> {
    let status = get(resp, spath, "status", "the status, a number")?;
    let status = status.as_i64().ok_or_else(|| {
        // a number that is not a whole one (`1e30`, `200.5`) is named by its value:
        // "expected a number, found a number" told the user nothing
        let found = match status {
            Value::Number(n) => n.to_string(),
            other => kind(other).to_string(),
        };
        (
            format!("{spath}.status"),
            format!("expected a whole number (an HTTP status such as 200, or 0 for a request that got no answer), found {found}"),
        )
    })?;
    let h = headers(
        get(resp, spath, "headers", "an array of {name, value}")?,
        &format!("{spath}.headers"),
    )?;
    content(resp, spath)?;
    Ok((status.clamp(-1, 999) as i32, h))
}

/// `response.content`: optional here (only its `encoding` is checked, bodies are not used).
fn content(resp: &Value, spath: &str) -> Result<(), Bad> {
    let Some(c) = resp.get("content") else {
        return Ok(());
    };
    match c.get("encoding") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(e)) if e == "base64" || e.is_empty() => Ok(()),
        Some(other) => Err((
            format!("{spath}.content.encoding"),
            format!("expected \"base64\" or no encoding, found {other}"),
        )),
    }
}

fn headers(v: &Value, path: &str) -> Result<Headers, Bad> {
    let a = v.as_array().ok_or_else(|| {
        (
            path.to_string(),
            format!("expected an array of {{name, value}}, found {}", kind(v)),
        )
    })?;
    let mut h = Headers::new();
    for (i, x) in a.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let name = get_str(x, &p, "name", "the header name, a string")?;
        let value = get_str(x, &p, "value", "the header value, a string")?;
        // HTTP/2 pseudo-headers (`:authority`) are not fields.
        if !name.starts_with(':') && !name.is_empty() {
            h.append(name, value);
        }
    }
    Ok(h)
}

/// `scheme://authority/path?query#fragment` → (scheme, authority, path+query).
pub fn split_url(url: &str) -> Option<(String, String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let rest = rest.split('#').next().unwrap_or(rest);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (host, target) = rest.split_at(end);
    let host = host.rsplit('@').next().unwrap_or(host).to_ascii_lowercase();
    // The URL Standard's serialisation leaves out the scheme's default port: the host
    // of `https://api.example:443/` is `api.example`, as in `Origin` and `Host`.
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let host = match host.strip_suffix(default_port) {
        Some(h) => h.to_string(),
        None => host,
    };
    if host.is_empty() {
        return None;
    }
    let target = match target {
        "" => "/".to_string(),
        t if t.starts_with('?') => format!("/{t}"),
        t => t.to_string(),
    };
    Some((scheme, host, target))
}

/// `2026-01-01T10:00:00.123Z`, `2026-01-01T11:00:00.123+01:00` (ISO 8601 extended, as
/// HAR 1.2 writes `startedDateTime`) → ms since the Unix epoch.
pub fn parse_iso8601_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = s.get(start..i)?;
        if frac.is_empty() {
            return None;
        }
        let three: String = frac.chars().chain("000".chars()).take(3).collect();
        ms = three.parse().ok()?;
    }
    let offset_min = match s.get(i..)? {
        "Z" | "z" | "" => 0,
        tz if tz.len() == 6 && matches!(&tz[..1], "+" | "-") && &tz[3..4] == ":" => {
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            let m = oh * 60 + om;
            if &tz[..1] == "-" {
                -m
            } else {
                m
            }
        }
        _ => return None,
    };
    let days = crate::time::days_from_civil(y, mo as u32, d as u32);
    Some(((days * 24 + h) * 60 + mi - offset_min) * 60_000 + sec * 1000 + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(s: &str) -> Result<Har, HarError> {
        read("t.har", s.as_bytes())
    }

    /// Only a service worker's `network` answer reached a server; its Cache Storage,
    /// HTTP-cache or code answers (and one without a source) did not.
    #[test]
    fn service_worker_answers_by_source() {
        let entry = |extra: &str| {
            format!(
                r#"{{"log":{{"version":"1.2","creator":{{"name":"WebInspector","version":"537.36"}},"entries":[
      {{"startedDateTime":"2026-01-01T10:00:00Z","request":{{"method":"GET","url":"https://api.example.com/a","headers":[]}},
       "response":{{"status":200,"headers":[]{extra}}}}}]}}}}"#
            )
        };
        let from = |extra: &str| {
            read_str(&entry(extra)).unwrap().entries[0]
                .from_cache
                .clone()
        };
        assert_eq!(from(""), None);
        assert_eq!(from(r#","_fetchedViaServiceWorker":false"#), None);
        assert_eq!(
            from(r#","_fetchedViaServiceWorker":true,"_serviceWorkerResponseSource":"network""#),
            None
        );
        for src in ["cache-storage", "http-cache", "fallback-code"] {
            assert_eq!(
                from(&format!(
                    r#","_fetchedViaServiceWorker":true,"_serviceWorkerResponseSource":"{src}""#
                ))
                .as_deref(),
                Some(format!("service-worker:{src}").as_str())
            );
        }
        assert_eq!(
            from(r#","_fetchedViaServiceWorker":true"#).as_deref(),
            Some("service-worker:unknown")
        );
    }

    const ONE: &str = r#"{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},"pages":[],"entries":[
      {"startedDateTime":"2026-01-01T10:00:00.250Z","time":5,"request":{"method":"get","url":"https://API.example.com/a?x=1#f","headers":[{"name":":authority","value":"api"},{"name":"Origin","value":"https://app.example.com"}],"cookies":[]},
       "response":{"status":200,"headers":[{"name":"Access-Control-Allow-Origin","value":"https://app.example.com"}],"content":{"size":2,"text":"b2s=","encoding":"base64"}},"_fromCache":"disk"}]}}"#;

    #[test]
    fn reads_an_entry() {
        let h = read_str(ONE).unwrap();
        assert_eq!(h.creator, "WebInspector");
        let e = &h.entries[0];
        assert_eq!(
            (e.method.as_str(), e.host.as_str(), e.target.as_str()),
            ("GET", "api.example.com", "/a?x=1")
        );
        assert_eq!(e.origin(), Some("https://app.example.com"));
        assert_eq!(e.request_headers.len(), 1, "pseudo-headers dropped");
        assert_eq!(e.from_cache.as_deref(), Some("disk"));
        assert_eq!(
            e.started_ms,
            parse_iso8601_ms("2026-01-01T11:00:00.25+01:00").unwrap()
        );
    }

    /// Probe input (tests/probe/README.md): a HAR saved by a Windows tool starts with a
    /// UTF-8 byte order mark.
    #[test]
    fn a_byte_order_mark_is_skipped() {
        let h = read("t.har", format!("\u{feff}{ONE}").as_bytes()).unwrap();
        assert_eq!(h.entries.len(), 1);
        // only a leading one: a BOM elsewhere is not JSON
        let e = read("t.har", format!(" \u{feff}{ONE}").as_bytes()).unwrap_err();
        assert_eq!((e.line, e.col > 0), (1, true), "{e}");
    }

    /// HAR 1.2 `response.status` is an integer; a number that is not one is named by its
    /// value (the message said "expected a number, found a number").
    #[test]
    fn a_status_that_is_not_a_whole_number_is_named() {
        for (v, shown) in [
            ("1e30", "1e+30"),
            ("200.5", "200.5"),
            ("\"200\"", "a string"),
        ] {
            let e = error_of(&ONE.replace("\"status\":200", &format!("\"status\":{v}")));
            assert_eq!(e.path, "log.entries[0].response.status", "{e}");
            assert!(
                e.message.contains("whole number") && e.message.ends_with(shown),
                "{v}: {e}"
            );
        }
    }

    #[test]
    fn iso_dates() {
        assert_eq!(parse_iso8601_ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_iso8601_ms("1970-01-01T00:00:00.1234Z"), Some(123));
        assert_eq!(parse_iso8601_ms("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_iso8601_ms("1969-12-31T19:00:00-05:00"), Some(0));
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01T00:00:00.",
        ] {
            assert_eq!(parse_iso8601_ms(bad), None, "{bad}");
        }
    }

    fn error_of(s: &str) -> HarError {
        read_str(s).unwrap_err()
    }

    #[test]
    fn bad_input_names_the_path() {
        let e = error_of(r#"{"log":{"version":"1.1","entries":[]}}"#);
        assert_eq!(e.path, "log.version");
        assert!(e.message.contains("HAR 1.1 is not supported"), "{e}");
        let no_time = ONE.replace("\"startedDateTime\":\"2026-01-01T10:00:00.250Z\",", "");
        let e = error_of(&no_time);
        assert_eq!(e.path, "log.entries[0].startedDateTime", "{e}");
        assert!(e.message.contains("missing; expected an ISO 8601"), "{e}");
        let e = error_of(&ONE[..ONE.len() / 2]);
        assert!(e.line > 0 && e.message.contains("truncated"), "{e}");
        assert!(e.path.starts_with("log.entries[0]"), "{e}");
        let e = error_of("<html></html>");
        assert_eq!((e.path.as_str(), e.line), ("$", 1), "{e}");
        let e = error_of(r#"{"foo": 1}"#);
        assert!(e.message.contains("no `log` member"), "{e}");
        let e = error_of(&ONE.replace("\"base64\"", "\"gzip\""));
        assert_eq!(e.path, "log.entries[0].response.content.encoding", "{e}");
        let e = error_of(&ONE.replace("\"method\":\"get\",", ""));
        assert_eq!(e.path, "log.entries[0].request.method", "{e}");
        let e = error_of(&ONE.replace("[{\"name\":\"Access", "[{\"nam\":\"Access"));
        assert_eq!(e.path, "log.entries[0].response.headers[0].name", "{e}");
        let e = read("t.har", &[0x1f, 0x8b, 8, 0][..]).unwrap_err();
        assert!(e.message.contains("gzip"), "{e}");
        let mut bin = ONE.as_bytes().to_vec();
        let at = ONE.find("b2s=").unwrap();
        bin[at] = 0xff;
        let e = read("t.har", &bin[..]).unwrap_err();
        assert!(e.message.contains("binary bodies"), "{e}");
        assert!(e.path.starts_with("log.entries[0]"), "{e}");
        assert!(e.to_string().starts_with("t.har:"), "{e}");
    }

    /// Errors found after an entry is parsed name the value's line and column; a missing
    /// member names its enclosing object.
    #[test]
    fn semantic_errors_have_a_position() {
        let at = |text: &str, needle: &str| {
            let before = &text[..text.find(needle).unwrap()];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
            (line, col)
        };
        let text = ONE.replace("\"status\":200", "\"status\":\"200\"");
        let e = error_of(&text);
        assert_eq!(e.path, "log.entries[0].response.status", "{e}");
        assert_eq!((e.line, e.col), at(&text, "\"200\""), "{e}");
        let text = ONE.replace("\"method\":\"get\",", "");
        let e = error_of(&text);
        assert_eq!((e.line, e.col), at(&text, "{\"url\""), "{e}");
        let e = error_of(&ONE.replace("\"time\":5,\"request\"", "\"time\":5,\"req\""));
        assert_eq!((e.line, e.col), at(ONE, "{\"startedDateTime\""), "{e}");
    }

    /// URL Standard: a port equal to the scheme's default is not serialised, so the
    /// recorded `https://api.example:443/x` names the same host as `https://api.example/x`;
    /// another port stays.
    #[test]
    fn default_ports_are_dropped_from_the_host() {
        let host = |u: &str| split_url(u).map(|(_, h, _)| h);
        assert_eq!(
            host("https://API.example:443/x").as_deref(),
            Some("api.example")
        );
        assert_eq!(
            host("http://api.example:80/x").as_deref(),
            Some("api.example")
        );
        assert_eq!(
            host("http://api.example:443/x").as_deref(),
            Some("api.example:443")
        );
        assert_eq!(
            host("https://api.example:8443/").as_deref(),
            Some("api.example:8443")
        );
        assert_eq!(host("https://[::1]:443/").as_deref(), Some("[::1]"));
    }
}
