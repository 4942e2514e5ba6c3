//! Recorded exchanges → a HAR 1.2 document (`replay --target URL --har FILE`): what went
//! over the wire, so a staging run can be attached to a bug report and imported again.
//! Pure: the driver hands in what it saw, this returns the text.

use crate::fields::Headers;
use serde_json::{json, Value};

/// One request and what came back, as the wire driver saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    /// When the request was sent, ms since the Unix epoch.
    pub started_ms: i64,
    /// How long until the whole response was read, in ms.
    pub time_ms: f64,
    /// Method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Request headers as sent.
    pub request_headers: Headers,
    /// Response status; 0 when no response came.
    pub status: u16,
    /// Response headers.
    pub response_headers: Headers,
    /// Response body size in bytes.
    pub body_size: usize,
    /// Why no response came.
    pub failure: Option<String>,
    /// A note (the scenario step it belongs to).
    pub comment: Option<String>,
    /// The emulated client that sent it, written as the custom field `_varyedge`
    /// (HAR 1.2 allows fields starting with `_`) so `import har` reads it back exactly.
    pub sender: Option<super::Sender>,
}

/// HAR 1.2 `startedDateTime`: `2026-01-01T10:00:00.250Z`.
pub fn iso8601(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = crate::time::civil_from_days(days);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

fn headers(h: &Headers) -> Value {
    Value::Array(
        h.iter()
            .map(|(n, v)| json!({ "name": n, "value": v }))
            .collect(),
    )
}

fn query(url: &str) -> Value {
    let q = url
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(q))
        .unwrap_or("");
    Value::Array(
        q.split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (n, v) = kv.split_once('=').unwrap_or((kv, ""));
                json!({ "name": n, "value": v })
            })
            .collect(),
    )
}

fn entry(x: &Exchange) -> Value {
    let mime = x
        .response_headers
        .get("content-type")
        .unwrap_or("x-unknown")
        .to_string();
    let mut e = json!({
        "startedDateTime": iso8601(x.started_ms),
        "time": x.time_ms,
        "request": {
            "method": x.method, "url": x.url, "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": headers(&x.request_headers), "queryString": query(&x.url),
            "headersSize": -1, "bodySize": 0,
        },
        "response": {
            "status": if x.status == 0 { -1 } else { i32::from(x.status) },
            "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": headers(&x.response_headers),
            "content": { "size": x.body_size, "mimeType": mime },
            "redirectURL": x.response_headers.get("location").unwrap_or(""),
            "headersSize": -1, "bodySize": x.body_size,
        },
        "cache": {},
        "timings": { "send": 0, "wait": x.time_ms, "receive": 0 },
    });
    if let Some(f) = &x.failure {
        e["response"]["_failureText"] = json!(f);
    }
    if let Some(c) = &x.comment {
        e["comment"] = json!(c);
    }
    if let Some(s) = &x.sender {
        e["_varyedge"] = json!({ "page": s.page, "browser": s.browser, "mode": s.mode });
    }
    e
}

/// The HAR document, pretty-printed, with a trailing newline.
pub fn to_har(exchanges: &[Exchange], version: &str) -> String {
    let v = json!({
        "log": {
            "version": "1.2",
            "creator": { "name": "varyedge", "version": version },
            "pages": [],
            "entries": exchanges.iter().map(entry).collect::<Vec<_>>(),
        }
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_round_trip() {
        for ms in [0, 1_767_225_600_250, 951_782_400_001] {
            assert_eq!(
                super::super::read::parse_iso8601_ms(&iso8601(ms)),
                Some(ms),
                "{}",
                iso8601(ms)
            );
        }
        assert_eq!(iso8601(1_767_225_600_250), "2026-01-01T00:00:00.250Z");
    }

    #[test]
    fn written_har_reads_back() {
        let x = Exchange {
            started_ms: 1_767_225_600_000,
            time_ms: 3.5,
            method: "GET".into(),
            url: "http://127.0.0.1:8080/a?x=1".into(),
            request_headers: Headers::from_pairs([("origin", "https://app1.example.com")]),
            status: 200,
            response_headers: Headers::from_pairs([
                ("access-control-allow-origin", "https://app1.example.com"),
                ("x-cache", "MISS"),
            ]),
            body_size: 2,
            failure: None,
            comment: Some("step 0".into()),
            sender: Some(super::super::Sender {
                page: "https://app1.example.com".into(),
                browser: "firefox".into(),
                mode: "cors".into(),
            }),
        };
        let failed = Exchange {
            status: 0,
            failure: Some("connection refused".into()),
            started_ms: x.started_ms + 5,
            ..x.clone()
        };
        let text = to_har(&[x.clone(), failed], "0.1.0");
        let h = super::super::read("w.har", text.as_bytes()).unwrap();
        assert_eq!(h.creator, "varyedge");
        assert_eq!(h.entries.len(), 2);
        assert_eq!(h.entries[0].target, "/a?x=1");
        assert_eq!(h.entries[0].response_headers, x.response_headers);
        assert_eq!(h.entries[1].status, -1);
        assert_eq!(h.entries[0].sender, x.sender);
        assert_eq!(h.entries[1].failure.as_deref(), Some("connection refused"));
        assert_eq!(h.entries[1].started_ms - h.entries[0].started_ms, 5);
    }
}
