//! `varyedge origin`: serves a scenario's origin model over HTTP/1.1 and h2c so real
//! caches (the proxy, Varnish, nginx, Squid, ATS) can be put in front of it.
//!
//! `GET /.varyedge/stats` answers the number of requests seen per `METHOD path` as JSON
//! (the ground truth for whether a cache forwarded a request), and
//! `POST /.varyedge/stats/reset` clears it. Every modelled response carries
//! `varyedge-origin-serial` and `varyedge-origin-saw` (see [`SERIAL`], [`SAW`]).

use super::{clock, convert, shutdown};
use crate::origin::OriginModel;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// Request bodies the origin accepts (it ignores them, but reads them whole).
const MAX_BODY: usize = 1 << 20;

struct State {
    model: OriginModel,
    stats: Mutex<BTreeMap<String, u64>>,
    serial: std::sync::atomic::AtomicU64,
}

/// Response header: this response's number at the origin. A cache that serves a stored
/// copy repeats it, so `varyedge fingerprint` tells a hit from a miss without headers the
/// cache may or may not send.
pub const SERIAL: &str = "varyedge-origin-serial";
/// Response header: the request header names the origin received (sorted, comma-joined),
/// so `varyedge fingerprint` sees which fields the edge forwards.
pub const SAW: &str = "varyedge-origin-saw";

/// Binds `listen` and serves `model` until SIGINT/SIGTERM. Sends the bound address as
/// `listening on http://ADDR` to the `net::log` sink first (port 0 picks a free port).
/// Route error windows count from when it starts listening.
pub async fn serve(mut model: OriginModel, listen: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    // caught before the address is announced (see `Signals`)
    let signals = shutdown::Signals::listen();
    super::log::info!("listening on http://{addr}");
    model.epoch = clock::now();
    let state = Arc::new(State {
        model,
        stats: Mutex::new(BTreeMap::new()),
        serial: std::sync::atomic::AtomicU64::new(0),
    });
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let stop = signals.recv();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    Err(_) => continue,
                };
                let _ = stream.set_nodelay(true);
                let st = state.clone();
                let svc = service_fn(move |req| handle(st.clone(), req));
                let conn = auto::Builder::new(TokioExecutor::new()).serve_connection_with_upgrades(TokioIo::new(stream), svc).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut stop => break,
        }
    }
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
    Ok(())
}

async fn handle(
    st: Arc<State>,
    req: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = req.into_parts();
    if Limited::new(body, MAX_BODY).collect().await.is_err() {
        return Ok(convert::text(413, "request body too large or broken\n"));
    }
    let path = parts.uri.path();
    if path == "/.varyedge/stats" || path == "/.varyedge/stats/reset" {
        let mut stats = match st.stats.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        if path.ends_with("/reset") {
            stats.clear();
        }
        let body = serde_json::to_string(&*stats).unwrap_or_else(|_| "{}".into());
        drop(stats);
        let mut r = convert::text(200, &body);
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        r.headers_mut().insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        return Ok(r);
    }
    let core = match convert::request_from_parts(&parts, "http") {
        Ok(r) => r,
        Err(e) => return Ok(convert::text(400, &format!("{e}\n"))),
    };
    {
        let mut stats = match st.stats.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        *stats
            .entry(format!("{} {}", core.method, core.target))
            .or_insert(0) += 1;
    }
    if st.model.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(st.model.latency_ms)).await;
    }
    let resp = st.model.respond(&core, clock::now());
    let mut out = convert::to_hyper(&resp);
    let n = st.serial.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    let mut names: Vec<&str> = parts.headers.keys().map(|k| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    if let Ok(v) = http::HeaderValue::from_str(&n.to_string()) {
        out.headers_mut().insert(SERIAL, v);
    }
    if let Ok(v) = http::HeaderValue::from_str(&names.join(",")) {
        out.headers_mut().insert(SAW, v);
    }
    Ok(out)
}
