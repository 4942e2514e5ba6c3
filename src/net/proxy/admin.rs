//! The proxy's own endpoints under [`super::ADMIN_PREFIX`] (never forwarded):
//!
//! | endpoint | what |
//! |---|---|
//! | `GET /.varyedge/entries?limit=N&after=KEY` | JSON: one page of primary keys (sorted; `limit` default 1000, at most 10000) with their variants (secondary key, who stored it, age, ttl, size); a `Link: <…>; rel="next"` header names the next page |
//! | `POST /.varyedge/purge?url=/path` | removes every entry of that URL (all methods, all variants); with a query, that exact target |
//! | `POST /.varyedge/purge-all` | removes everything |
//! | `GET /.varyedge/stats` | JSON counters |
//! | `GET /.varyedge/metrics` | the same in the Prometheus text format |
//!
//! Where they answer is `--admin-listen` ([`super::AdminListen`]): by default on the
//! proxy's listener for loopback Hosts only (so a page on another site, or a DNS-rebound
//! name, never reaches them), or on a listener of their own, or nowhere.
//!
//! The mutations (`purge`, `purge-all`) are a cross-site request forgery target: any web
//! page a developer visits could POST to `http://localhost:8080/.varyedge/purge-all`. A
//! browser sends a cross-origin POST without a preflight only when it is a CORS-safelisted
//! ("simple") request (Fetch standard, "CORS-safelisted request-header"), so a mutation
//! must carry the header `X-Varyedge-Admin` or `Content-Type: application/json`, neither
//! of which a page can send cross-origin without a preflight this server never approves.
//! Besides, a request whose `Origin` is not this server's own or whose `Sec-Fetch-Site`
//! is `cross-site`/`same-site` is refused (403).

use super::server::State;
use super::{AdminListen, Config, ADMIN_PREFIX};
use crate::net::{clock, convert};
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use std::sync::Arc;
use tokio::sync::watch;

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

/// The header that makes a mutation a non-simple request.
pub const ADMIN_HEADER: &str = "x-varyedge-admin";

/// Whether a request on the proxy's listener is for the admin endpoints: only with
/// `--admin-listen loopback` (the default), an origin-form target under the prefix, a
/// loopback `Host` and a loopback peer.
pub fn on_proxy_listener<B>(
    admin: &AdminListen,
    req: &http::Request<B>,
    peer_loopback: bool,
) -> bool {
    // the peer too: `Host` is whatever the client wrote, so a proxy listening beyond
    // loopback would otherwise answer `Host: localhost` from anywhere
    peer_loopback
        && *admin == AdminListen::Loopback
        && req.uri().scheme().is_none()
        && req.uri().authority().is_none()
        && req.uri().path().starts_with(ADMIN_PREFIX)
        && req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(is_loopback_host)
        && req.headers().get_all(header::HOST).iter().count() == 1
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Why a mutation is refused (a cross-site request forgery guard), if it is.
pub fn forgery(h: &http::HeaderMap) -> Option<&'static str> {
    let non_simple = h.contains_key(ADMIN_HEADER)
        || h.get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
    if !non_simple {
        return Some("a purge needs the header X-Varyedge-Admin (any value) or Content-Type: application/json, which a web page cannot send cross-site without a preflight");
    }
    let site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(site, Some("cross-site" | "same-site")) {
        return Some("a purge from another site (Sec-Fetch-Site) is refused");
    }
    if let Some(origin) = h.get(header::ORIGIN) {
        let own = h
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(|host| format!("http://{host}"));
        if origin.to_str().ok() != own.as_deref() {
            return Some("a purge from another Origin is refused");
        }
    }
    None
}

/// Binds the admin listener of `--admin-listen ADDR`, if that is the setting.
pub fn bind(cfg: &Config) -> std::io::Result<Option<std::net::TcpListener>> {
    match cfg.admin {
        AdminListen::Addr(a) => {
            let l = std::net::TcpListener::bind(a)
                .map_err(|e| std::io::Error::new(e.kind(), format!("--admin-listen {a}: {e}")))?;
            l.set_nonblocking(true)?;
            Ok(Some(l))
        }
        _ => Ok(None),
    }
}

/// Serves the admin endpoints on `listener` on a thread of its own until `stop`.
pub fn spawn(
    st: Arc<State>,
    listener: std::net::TcpListener,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("varyedge-admin".into())
        .spawn(move || {
            rt.block_on(async move {
                let Ok(l) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                loop {
                    tokio::select! {
                        acc = l.accept() => {
                            let Ok((s, _)) = acc else { continue };
                            let st = st.clone();
                            let svc = hyper::service::service_fn(move |req| {
                                let st = st.clone();
                                async move { Ok::<_, std::convert::Infallible>(handle(&st, req).await) }
                            });
                            tokio::spawn(async move {
                                let conn = hyper::server::conn::http1::Builder::new()
                                    .timer(hyper_util::rt::TokioTimer::new())
                                    .header_read_timeout(std::time::Duration::from_secs(10))
                                    .serve_connection(hyper_util::rt::TokioIo::new(s), svc);
                                let _ = conn.await;
                            });
                        }
                        _ = stop.wait_for(|s| *s) => break,
                    }
                }
            })
        })?;
    Ok(())
}

/// `limit` and `after` of an `entries` request.
fn page_of(query: Option<&str>) -> Result<(usize, Option<String>), &'static str> {
    let mut limit = 1000;
    let mut after = None;
    for p in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match p.split_once('=') {
            Some(("limit", v)) => {
                limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or("limit must be a number from 1 to 10000")?;
            }
            Some(("after", v)) => after = Some(percent_decode(v).ok_or("after: bad %-escape")?),
            _ => return Err("entries takes limit=N and after=KEY"),
        }
    }
    Ok((limit, after))
}

fn entries(st: &State, query: Option<&str>) -> http::Response<Full<Bytes>> {
    let (limit, after) = match page_of(query) {
        Ok(p) => p,
        Err(e) => return typed(400, format!("{e}\n"), "text/plain; charset=utf-8"),
    };
    let (page, more) = st.store.entries_page(after.as_deref(), limit, clock::now());
    let next = more
        .then(|| page.last().map(|e| percent_encode(&e.key)))
        .flatten();
    let mut r = json(&page);
    if let Some(n) = next {
        let link = format!("<{ADMIN_PREFIX}entries?limit={limit}&after={n}>; rel=\"next\"");
        if let Ok(v) = HeaderValue::from_str(&link) {
            r.headers_mut().insert(header::LINK, v);
        }
    }
    r
}

/// `%XX`-escapes everything but unreserved characters (RFC 3986 §2.3).
pub fn percent_encode(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
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
    let post = parts.method == http::Method::POST;
    if post && path.starts_with("/.varyedge/purge") {
        if let Some(why) = forgery(&parts.headers) {
            return typed(403, format!("{why}\n"), "text/plain; charset=utf-8");
        }
    }
    let get = parts.method == http::Method::GET || parts.method == http::Method::HEAD;
    match path {
        "/.varyedge/entries" if get => entries(st, parts.uri.query()),
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

    /// On the proxy's listener the endpoints answer an origin-form request with a
    /// loopback `Host`, and only from a loopback peer.
    #[test]
    fn the_proxy_listener_answers_admin_requests_from_loopback_peers_only() {
        let req = |target: &str, host: &str| {
            http::Request::builder()
                .uri(target)
                .header(header::HOST, host)
                .body(())
                .unwrap()
        };
        let stats = req("/.varyedge/stats", "localhost:8080");
        assert!(on_proxy_listener(&AdminListen::Loopback, &stats, true));
        assert!(!on_proxy_listener(&AdminListen::Loopback, &stats, false));
        assert!(!on_proxy_listener(&AdminListen::Off, &stats, true));
        let foreign = req("/.varyedge/stats", "api.example");
        assert!(!on_proxy_listener(&AdminListen::Loopback, &foreign, true));
        let absolute = req("http://localhost/.varyedge/stats", "localhost");
        assert!(!on_proxy_listener(&AdminListen::Loopback, &absolute, true));
    }
}
