//! The proxy's own endpoints under [`super::ADMIN_PREFIX`] (never forwarded):
//!
//! | endpoint | what |
//! |---|---|
//! | `GET /.varyedge/entries` | JSON: every primary key with its variants (secondary key, who stored it, age, ttl, size) |
//! | `POST /.varyedge/purge?url=/path` | removes every entry of that URL (all methods, all variants); with a query, that exact target |
//! | `POST /.varyedge/purge-all` | removes everything |
//! | `GET /.varyedge/stats` | JSON counters |
//! | `GET /.varyedge/metrics` | the same in the Prometheus text format |

use super::server::State;
use crate::net::{clock, convert};
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;

const ENDPOINTS: &str = "GET /.varyedge/entries, POST /.varyedge/purge?url=/path, POST /.varyedge/purge-all, GET /.varyedge/stats, GET /.varyedge/metrics";

fn typed(status: u16, body: String, content_type: &'static str) -> http::Response<Full<Bytes>> {
    let mut r = convert::text(status, &body);
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn json(v: &impl serde::Serialize) -> http::Response<Full<Bytes>> {
    match serde_json::to_string_pretty(v) {
        Ok(mut s) => {
            s.push('\n');
            typed(200, s, "application/json")
        }
        Err(e) => typed(
            500,
            format!("cannot serialise: {e}\n"),
            "text/plain; charset=utf-8",
        ),
    }
}

/// Decodes `%XX` escapes and `+` in a query parameter value; `None` if malformed.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Answers one admin request.
pub async fn handle(st: &State, req: http::Request<Incoming>) -> http::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    // admin requests carry no meaningful body; read (bounded) and drop it
    if Limited::new(body, 64 << 10).collect().await.is_err() {
        return typed(
            413,
            "request body too large\n".into(),
            "text/plain; charset=utf-8",
        );
    }
    let path = parts.uri.path();
    let get = parts.method == http::Method::GET || parts.method == http::Method::HEAD;
    let post = parts.method == http::Method::POST;
    match path {
        "/.varyedge/entries" if get => json(&st.store.entries(clock::now())),
        "/.varyedge/stats" if get => {
            let (entries, bytes, cap) = st.store.size();
            let snap = st.metrics.snapshot(entries, bytes, cap);
            json(&serde_json::json!({
                "profile": st.cfg.profile,
                "upstream": format!("http://{}{}", st.cfg.upstream.authority, st.cfg.upstream.prefix),
                "in_flight": st.inflight.len(),
                "stats": snap,
            }))
        }
        "/.varyedge/metrics" if get => {
            let (entries, bytes, cap) = st.store.size();
            typed(
                200,
                st.metrics.snapshot(entries, bytes, cap).prometheus(),
                "text/plain; version=0.0.4; charset=utf-8",
            )
        }
        "/.varyedge/purge" if post => {
            let url = parts
                .uri
                .query()
                .unwrap_or("")
                .split('&')
                .find_map(|p| p.strip_prefix("url="))
                .and_then(percent_decode);
            match url {
                Some(u) if !u.is_empty() => {
                    let n = st.store.purge(&u);
                    st.metrics
                        .purged
                        .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                    json(&serde_json::json!({ "url": u, "purged": n }))
                }
                _ => typed(
                    400,
                    "purge needs ?url=/path (percent-encoded)\n".into(),
                    "text/plain; charset=utf-8",
                ),
            }
        }
        "/.varyedge/purge-all" if post => {
            let n = st.store.purge_all();
            st.metrics
                .purged
                .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
            json(&serde_json::json!({ "purged": n }))
        }
        "/.varyedge/entries" | "/.varyedge/stats" | "/.varyedge/metrics" => {
            let mut r = typed(405, "use GET\n".into(), "text/plain; charset=utf-8");
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            r
        }
        "/.varyedge/purge" | "/.varyedge/purge-all" => {
            let mut r = typed(405, "use POST\n".into(), "text/plain; charset=utf-8");
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            r
        }
        _ => typed(
            404,
            format!("no such endpoint; the proxy's own endpoints are: {ENDPOINTS}\n"),
            "text/plain; charset=utf-8",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert_eq!(
            percent_decode("%2Fapi%2Fdata").as_deref(),
            Some("/api/data")
        );
        assert_eq!(percent_decode("/a?x=1").as_deref(), Some("/a?x=1"));
        assert_eq!(percent_decode("%2"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%ff"), None);
    }
}
