//! `varyedge proxy --access-log FILE|-`: one JSON object per proxied request, one per line
//! (JSON Lines), written when the response head leaves: time (RFC 3339, UTC), method and
//! target, the client's `Origin`, the edge outcome and key (read back from the proxy's own
//! `Cache-Status` member, so the log can never say something the response did not), the
//! status and the milliseconds until the response head.

use super::server::CACHE_STATUS;
use crate::time::Timestamp;
use serde_json::json;
use std::io::Write;
use std::sync::Mutex;

/// Where the access log goes.
pub struct AccessLog {
    out: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessLog")
    }
}

/// One request, as logged.
pub struct Entry<'a> {
    /// When the request arrived.
    pub at: Timestamp,
    /// `GET /path?query`.
    pub request: &'a str,
    /// The request's `Origin`, if any.
    pub origin: Option<&'a str>,
    /// Milliseconds until the response head.
    pub ms: f64,
}

impl AccessLog {
    /// A log written to `out` (the command opens the file, or hands in standard output:
    /// the library itself writes to neither stream).
    pub fn to(out: Box<dyn Write + Send>) -> AccessLog {
        AccessLog {
            out: Mutex::new(out),
        }
    }

    /// Writes one line for `e` answered by `resp`. A failed write is dropped: logging
    /// never fails a request.
    pub fn record<B>(&self, e: &Entry<'_>, resp: &http::Response<B>) {
        let (outcome, key) = outcome_and_key(resp);
        let line = json!({
            "time": e.at.rfc3339(),
            "request": e.request,
            "origin": e.origin,
            "outcome": outcome,
            "key": key,
            "status": resp.status().as_u16(),
            "ms": (e.ms * 1000.0).round() / 1000.0,
        });
        let mut text = line.to_string();
        text.push('\n');
        if let Ok(mut out) = self.out.lock() {
            let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
        }
    }
}

/// The edge outcome and key of our `Cache-Status` member (the last one: RFC 9211 §2 puts
/// the cache nearest the client last): `hit`, `stale`, `collapsed`, `pass` (`fwd=method`
/// or `fwd=request`), `miss` (any other forward), or `error` for the proxy's own answers.
fn outcome_and_key<B>(resp: &http::Response<B>) -> (&'static str, Option<String>) {
    let Some(ours) = resp
        .headers()
        .get_all(CACHE_STATUS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|m| m.starts_with("varyedge"))
    else {
        return ("error", None);
    };
    let params: Vec<&str> = ours.split(';').map(str::trim).skip(1).collect();
    let has = |p: &str| params.contains(&p);
    let fwd = params.iter().find_map(|p| p.strip_prefix("fwd="));
    let outcome = match fwd {
        None if has("hit") && ours.contains("stale-while-revalidate") => "stale",
        None if has("hit") => "hit",
        None => "error",
        Some(_) if has("collapsed") => "collapsed",
        Some("method" | "request") => "pass",
        Some(_) if params.iter().any(|p| p.starts_with("detail=")) => "error",
        Some(_) => "miss",
    };
    let key = params
        .iter()
        .find_map(|p| p.strip_prefix("key="))
        .map(unquote);
    (outcome, key.filter(|_| outcome != "pass"))
}

/// An sf-string's content.
fn unquote(s: &str) -> String {
    let inner = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s);
    let mut o = String::with_capacity(inner.len());
    let mut esc = false;
    for c in inner.chars() {
        if !esc && c == '\\' {
            esc = true;
            continue;
        }
        esc = false;
        o.push(c);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(cs: &[&str]) -> http::Response<()> {
        let mut r = http::Response::new(());
        for v in cs {
            r.headers_mut().append(CACHE_STATUS, v.parse().unwrap());
        }
        r
    }

    #[test]
    fn outcomes_come_from_our_cache_status_member() {
        let k = |s: &str| Some(s.to_string());
        assert_eq!(
            outcome_and_key(&with(&["varyedge; hit; ttl=10; key=\"GET http://a/x\""])),
            ("hit", k("GET http://a/x"))
        );
        assert_eq!(
            outcome_and_key(&with(&[
                "Upstream; hit",
                "varyedge; fwd=uri-miss; fwd-status=200; stored; ttl=60; key=\"GET http://a/\\\"q\\\"\""
            ])),
            ("miss", k("GET http://a/\"q\""))
        );
        assert_eq!(
            outcome_and_key(&with(&[
                "varyedge; fwd=method; fwd-status=200; key=\"POST http://a/x\""
            ])),
            ("pass", None)
        );
        assert_eq!(
            outcome_and_key(&with(&[
                "varyedge; fwd=vary-miss; collapsed; ttl=5; key=\"k\""
            ])),
            ("collapsed", k("k"))
        );
        assert_eq!(
            outcome_and_key(&with(&[
                "varyedge; hit; detail=\"stale-while-revalidate\"; ttl=-1; key=\"k\""
            ])),
            ("stale", k("k"))
        );
        assert_eq!(
            outcome_and_key(&with(&["varyedge; detail=\"bad-request\""])).0,
            "error"
        );
        assert_eq!(outcome_and_key(&with(&[])).0, "error");
    }
}
