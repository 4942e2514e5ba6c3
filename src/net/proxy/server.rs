//! The request flow. For each request: the core's key and pass decision, a lookup in the
//! store (decided by the core), then either a stored response (with `Age`,
//! `Cache-Status`, `Via`) or a forward upstream whose response is streamed back and, when
//! the core says it is storable and it arrives whole, stored. Concurrent misses collapse
//! as the core's `collapse` knob says. Served stored responses are judged as the
//! requesting browser would ([`super::judge`]).

use super::collapse::{Inflight, Join, Leader, Shared};
use super::judge;
use super::metrics::{inc, Metrics};
use super::store::{Found, Store, Stored, StoredBy, Wire};
use super::upstream::{self, Ended, TeeBody, UpBody, UpClient, VIA};
use super::{admin, Config, ADMIN_PREFIX};
use crate::browser::Credentials;
use crate::edge::{self, sf_string, CacheStatus, Fwd, Outcome, Tag};
use crate::fields::Headers;
use crate::message::{Request, Response};
use crate::net::{clock, convert, shutdown};
use crate::profile::{Collapse, Knobs};
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt, Either, Empty, Full, Limited};
use hyper::body::{Body, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::borrow::Cow;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, OnceCell};

/// What the proxy sends to clients: a stored (or its own) response, or a streamed one.
pub type ProxyBody = Either<Full<Bytes>, TeeBody>;

/// The RFC 9211 field.
pub const CACHE_STATUS: HeaderName = HeaderName::from_static(CacheStatus::FIELD);
const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// What a (stored response, requesting Origin, credentials, request) judgement is keyed on.
type VerdictKey = (Tag, String, bool, String);
/// The upstream's own verdict, once known (`None`: the upstream could not be asked).
type VerdictCell = Arc<OnceCell<Option<(bool, crate::browser::Reason)>>>;

/// The proxy's shared state.
pub struct State {
    pub(super) cfg: Config,
    pub(super) knobs: Arc<Knobs>,
    pub(super) store: Store,
    pub(super) inflight: Arc<Inflight>,
    pub(super) client: UpClient,
    pub(super) metrics: Arc<Metrics>,
    tags: AtomicU64,
    verdicts: moka::sync::Cache<VerdictKey, VerdictCell>,
    upstream_host: HeaderValue,
}

impl State {
    /// The proxy's state for `cfg`.
    pub fn new(cfg: Config) -> State {
        let knobs = Arc::new(cfg.knobs.clone());
        let metrics = Arc::new(Metrics::default());
        let store = Store::new(knobs.clone(), cfg.capacity, metrics.clone());
        let upstream_host = HeaderValue::from_str(&cfg.upstream.authority)
            .unwrap_or(HeaderValue::from_static("localhost"));
        State {
            client: upstream::client(cfg.upstream_timeout),
            knobs,
            store,
            inflight: Arc::new(Inflight::default()),
            metrics,
            tags: AtomicU64::new(0),
            verdicts: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            upstream_host,
            cfg,
        }
    }
}

/// Runs the proxy until SIGINT/SIGTERM, then drains connections for up to 5 s. Sends
/// `listening on http://ADDR` to the `net::log` sink once every worker listens.
///
/// `workers` threads each run a single-threaded runtime with its own listening socket on
/// the same address (`SO_REUSEPORT`; the kernel spreads connections over them, as over
/// nginx's worker processes): a hit is handled start to end on one thread, with no work
/// stealing and no cross-thread wakeup. The store, the in-flight table and the counters
/// are shared. Without `SO_REUSEPORT` (non-unix) one worker serves.
pub fn run(cfg: Config, workers: usize) -> std::io::Result<()> {
    let workers = if cfg!(unix) { workers.max(1) } else { 1 };
    let state = Arc::new(State::new(cfg));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut addr = state.cfg.listen;
    let mut threads = Vec::with_capacity(workers);
    for i in 0..workers {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (st, stop) = (state.clone(), stop_rx.clone());
        let t = std::thread::Builder::new()
            .name(format!("varyedge-proxy-{i}"))
            .spawn(move || worker(st, addr, workers > 1, stop, ready_tx))?;
        threads.push(t);
        match ready_rx.recv() {
            Ok(Ok(a)) => addr = a,
            Ok(Err(e)) => {
                let _ = stop_tx.send(true);
                return Err(e);
            }
            Err(_) => {
                let _ = stop_tx.send(true);
                return Err(std::io::Error::other("a proxy worker died while starting"));
            }
        }
    }
    crate::net::log::info!("listening on http://{addr}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(shutdown::signal());
    let _ = stop_tx.send(true);
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

fn worker(
    st: Arc<State>,
    addr: SocketAddr,
    reuse_port: bool,
    stop: watch::Receiver<bool>,
    ready: std::sync::mpsc::Sender<std::io::Result<SocketAddr>>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    rt.block_on(async move {
        let listener = match listen(addr, reuse_port) {
            Ok(l) => l,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let _ = ready.send(listener.local_addr());
        serve_on(st, listener, stop).await;
    });
}

fn listen(addr: SocketAddr, reuse_port: bool) -> std::io::Result<TcpListener> {
    let sock = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    sock.set_reuseaddr(true)?;
    #[cfg(unix)]
    if reuse_port {
        sock.set_reuseport(true)?;
    }
    #[cfg(not(unix))]
    let _ = reuse_port;
    sock.bind(addr)?;
    sock.listen(1024)
}

/// Accepts and serves connections on `listener` until `stop` turns true.
async fn serve_on(state: Arc<State>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .max_headers(100)
        .max_buf_size(64 << 10);
    builder.http2().max_header_list_size(64 << 10);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    Err(_) => {
                        // out of file descriptors and the like: do not spin
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let st = state.clone();
                let svc = service_fn(move |req| handle(st.clone(), req));
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
}

async fn handle(
    st: Arc<State>,
    req: http::Request<Incoming>,
) -> Result<http::Response<ProxyBody>, Infallible> {
    if req.uri().path().starts_with(ADMIN_PREFIX) {
        return Ok(admin::handle(&st, req).await.map(Either::Left));
    }
    inc(&st.metrics.requests);
    Ok(proxy(st, req).await)
}

/// Our `Cache-Status` member as a field value (RFC 9211).
fn cache_status_value(cs: &CacheStatus<'_>) -> Option<HeaderValue> {
    let mut v = String::with_capacity(96);
    let _ = write!(v, "{cs}");
    HeaderValue::from_maybe_shared(Bytes::from(v)).ok()
}

fn own(st: &State, status: u16, body: &str, detail: &str) -> http::Response<ProxyBody> {
    if (400..500).contains(&status) {
        inc(&st.metrics.bad_requests);
    }
    let mut r = convert::text(status, body);
    if let Some(v) = cache_status_value(&CacheStatus::own(detail)) {
        r.headers_mut().append(CACHE_STATUS, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().append(header::VIA, VIA);
    r.map(Either::Left)
}

/// A stored (or collapsed) response on the wire: the stored header block plus `Age`, our
/// `Cache-Status` member (after any the upstream sent: RFC 9211 §2, the first member is
/// the cache closest to the origin), `X-Cache` and `Via`. The body is shared, not copied.
fn from_store(
    wire: &Wire,
    age: u64,
    cs: CacheStatus<'_>,
    ttl: i64,
    x_cache: &'static str,
) -> http::Response<ProxyBody> {
    let mut r = http::Response::new(Either::Left(Full::new(wire.body.clone())));
    *r.status_mut() = wire.status;
    let mut h = wire.headers.clone();
    h.insert(header::AGE, HeaderValue::from(age));
    let cs = CacheStatus {
        ttl: Some(ttl),
        key: Some(Cow::Borrowed(&wire.key)),
        ..cs
    };
    if let Some(v) = cache_status_value(&cs) {
        h.append(CACHE_STATUS, v);
    }
    h.insert(X_CACHE, HeaderValue::from_static(x_cache));
    h.append(header::VIA, VIA);
    *r.headers_mut() = h;
    r
}

fn stored_by(core: &Request, tag: Tag) -> Arc<StoredBy> {
    Arc::new(StoredBy {
        tag,
        request: format!("{} {}", core.method, core.target),
        origin: core.headers.get("origin").map(str::to_string),
        credentials: core.headers.contains("cookie") || core.headers.contains("authorization"),
    })
}

async fn proxy(st: Arc<State>, req: http::Request<Incoming>) -> http::Response<ProxyBody> {
    let (parts, body) = req.into_parts();
    if parts.method == http::Method::CONNECT {
        return own(
            &st,
            405,
            "varyedge proxy: CONNECT is not supported (this is a reverse proxy)\n",
            "method",
        );
    }
    let too_long = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > st.cfg.max_request_body);
    if too_long {
        return own(
            &st,
            413,
            "varyedge proxy: request body too large\n",
            "request-too-large",
        );
    }
    let core = match convert::request_from_parts(&parts, "http") {
        Ok(r) => r,
        Err(e) => return own(&st, 400, &format!("varyedge proxy: {e}\n"), "bad-request"),
    };
    let knobs = &*st.knobs;
    let key = edge::primary_key(knobs, &core);
    if let Some(fwd) = edge::pass_reason(knobs, &core) {
        inc(&st.metrics.passes);
        return forward(st, parts, body, core, key, fwd, true, None).await;
    }
    let now = clock::now();
    let fwd = match st.store.lookup(&key, &core, now) {
        Found::Serve {
            fresh,
            served,
            stored,
        } => {
            if fresh {
                inc(&st.metrics.hits);
            } else {
                inc(&st.metrics.stale);
                refresh(&st, &parts, &key, &core);
            }
            let cs = CacheStatus::hit(!fresh);
            judge_served(
                &st,
                &parts,
                &core,
                &served.response,
                &stored.by,
                &served.key,
                now,
            );
            return from_store(&stored.wire, served.age_secs, cs, served.ttl_secs, "HIT");
        }
        Found::Forward(fwd) => fwd,
    };
    let mut leader = None;
    if knobs.collapse != Collapse::Off {
        match st.inflight.join(&key) {
            // HEAD responses have no body to share: a HEAD never leads
            Join::Lead(l) if core.method != "HEAD" => leader = Some(l),
            Join::Lead(_) => {}
            Join::Wait(w) => {
                if let Some(sh) = w.wait(st.cfg.upstream_timeout * 2).await {
                    if edge::collapse_shares(knobs, sh.variant.as_ref(), &core) {
                        inc(&st.metrics.collapsed);
                        let served = edge::collapsed_served(
                            &key,
                            sh.response.clone(),
                            sh.variant.as_ref(),
                            sh.by.tag,
                        );
                        let cs = CacheStatus::from_outcome(Outcome::Collapsed, fwd);
                        judge_served(
                            &st,
                            &parts,
                            &core,
                            &served.response,
                            &sh.by,
                            &served.key,
                            clock::now(),
                        );
                        return from_store(&sh.wire, 0, cs, served.ttl_secs, "MISS");
                    }
                }
            }
        }
    }
    inc(&st.metrics.misses);
    forward(st, parts, body, core, key, fwd, false, leader).await
}

/// The request the upstream gets: same method and target (under the upstream's path
/// prefix), hop-by-hop fields removed, `Host` = the upstream's authority (or the
/// client's with `--preserve-host`), our `Via` added.
fn upstream_request(
    st: &State,
    method: &http::Method,
    target: &str,
    headers: &HeaderMap,
    body: UpBody,
) -> Result<http::Request<UpBody>, String> {
    let uri = format!(
        "http://{}{}{}",
        st.cfg.upstream.authority, st.cfg.upstream.prefix, target
    );
    let mut h = headers.clone();
    upstream::strip_hop_by_hop(&mut h);
    if !st.cfg.preserve_host || !h.contains_key(header::HOST) {
        h.insert(header::HOST, st.upstream_host.clone());
    }
    h.append(header::VIA, VIA);
    let mut r = http::Request::builder()
        .method(method.clone())
        .uri(uri)
        .body(body)
        .map_err(|e| e.to_string())?;
    *r.headers_mut() = h;
    Ok(r)
}

fn core_headers(h: &HeaderMap) -> Headers {
    let mut out = Headers::new();
    for (n, v) in h {
        out.append(n.as_str(), &String::from_utf8_lossy(v.as_bytes()));
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn forward(
    st: Arc<State>,
    parts: http::request::Parts,
    body: Incoming,
    core: Request,
    key: String,
    fwd: Fwd,
    pass: bool,
    leader: Option<Leader>,
) -> http::Response<ProxyBody> {
    let tag = st.tags.fetch_add(1, Ordering::Relaxed);
    let target = core.target.as_str();
    let up_body = Either::Left(Limited::new(body, st.cfg.max_request_body as usize));
    let up_req = match upstream_request(&st, &parts.method, target, &parts.headers, up_body) {
        Ok(r) => r,
        Err(e) => {
            return own(
                &st,
                400,
                &format!("varyedge proxy: cannot forward: {e}\n"),
                "bad-request",
            )
        }
    };
    let resp = match upstream::send(&st.client, up_req, st.cfg.upstream_timeout).await {
        Ok(r) => r,
        Err(f) => {
            let (status, text) = f.answer();
            match status {
                504 => inc(&st.metrics.upstream_timeouts),
                502 => inc(&st.metrics.upstream_errors),
                _ => {}
            }
            let detail = match f {
                upstream::Fault::Unreachable(_) => "upstream-unreachable",
                upstream::Fault::Timeout(_) => "upstream-timeout",
                upstream::Fault::BodyTooLarge => "request-too-large",
                upstream::Fault::Broken(_) => "upstream-error",
            };
            let mut r = own(&st, status, &text, detail);
            if status >= 500 {
                // say it went forward, and why
                let cs = CacheStatus {
                    detail: Some(Cow::Borrowed(detail)),
                    ..CacheStatus::forward(fwd)
                };
                if let Some(v) = cache_status_value(&cs) {
                    r.headers_mut().insert(CACHE_STATUS, v);
                }
            }
            return r;
        }
    };
    let (mut rparts, rbody) = resp.into_parts();
    upstream::strip_hop_by_hop(&mut rparts.headers);
    let now = clock::now();
    let status = rparts.status;
    let head = Response::new(status.as_u16(), core_headers(&rparts.headers));
    let made =
        (!pass).then(|| edge::make_variant(&st.knobs, &core, Arc::new(head.clone()), now, tag));
    let limit = st.cfg.max_object();
    let length = rbody.size_hint().exact();
    let fits = length.is_none_or(|n| n as usize <= limit);
    let storable = matches!(made, Some(Ok(_)));
    let mut cs = CacheStatus {
        fwd_status: Some(status.as_u16()),
        ..CacheStatus::forward(fwd)
    };
    match &made {
        Some(Ok(v)) if fits && length.is_some() => {
            // stored exactly when the body arrives whole: if it does not, the client's
            // response is aborted too, so a complete response never claims it wrongly
            cs.stored = true;
            cs.ttl = Some(v.freshness.ttl_ms(v.stored_at, now).div_euclid(1000));
            cs.key = Some(Cow::Borrowed(&v.key));
        }
        Some(Ok(v)) => {
            if !fits {
                inc(&st.metrics.too_large);
                cs.detail = Some(Cow::Borrowed("too-large"));
            }
            cs.key = Some(Cow::Borrowed(&v.key));
        }
        Some(Err(ns)) => {
            inc(&st.metrics.not_stored);
            cs.key = Some(Cow::Borrowed(&key));
            cs.detail = Some(Cow::Borrowed(ns.id()));
        }
        None => {}
    }
    let wire_headers = rparts.headers.clone();
    if let Some(v) = cache_status_value(&cs) {
        rparts.headers.append(CACHE_STATUS, v);
    }
    rparts.headers.insert(
        X_CACHE,
        HeaderValue::from_static(if pass { "PASS" } else { "MISS" }),
    );
    rparts.headers.append(header::VIA, VIA);
    let keep = fits && (storable || leader.is_some());
    let by = stored_by(&core, tag);
    let st2 = st.clone();
    let on_end: upstream::OnEnd = Box::new(move |ended| {
        let body = match ended {
            Ended::Whole(Some(b)) => b,
            Ended::Whole(None) => {
                if storable && fits {
                    inc(&st2.metrics.too_large);
                }
                return;
            }
            Ended::Broken => {
                if storable {
                    inc(&st2.metrics.incomplete);
                }
                return;
            }
        };
        finish(
            &st2,
            &key,
            &core,
            head,
            wire_headers,
            body,
            by,
            pass,
            leader,
        );
    });
    if rbody.is_end_stream() {
        // nothing to stream: complete now, so that an empty body is stored too
        on_end(Ended::Whole(keep.then(Bytes::new)));
        return http::Response::from_parts(rparts, Either::Left(Full::new(Bytes::new())));
    }
    let tee = TeeBody::new(rbody, keep, limit, st.cfg.upstream_timeout, on_end);
    http::Response::from_parts(rparts, Either::Right(tee))
}

/// A forwarded response arrived whole: store it if the core says so (deciding again at
/// completion time), and hand it to the requests that waited on it.
#[allow(clippy::too_many_arguments)]
fn finish(
    st: &State,
    key: &str,
    core: &Request,
    head: Response,
    wire_headers: HeaderMap,
    body: Bytes,
    by: Arc<StoredBy>,
    pass: bool,
    leader: Option<Leader>,
) {
    let status = http::StatusCode::from_u16(head.status).unwrap_or(http::StatusCode::OK);
    let response = Arc::new(Response {
        status: head.status,
        headers: head.headers,
        body: Arc::from(&body[..]),
    });
    let variant = if pass {
        None
    } else {
        edge::make_variant(&st.knobs, core, response.clone(), clock::now(), by.tag).ok()
    };
    let full = variant
        .as_ref()
        .map_or_else(|| key.to_string(), |v| v.key.to_string());
    let wire = Arc::new(Wire {
        status,
        headers: wire_headers,
        body: Bytes::from_owner(ArcBytes(response.body.clone())),
        key: full,
    });
    drop(body);
    if let Some(v) = &variant {
        let evicted = st.store.insert(
            key,
            core,
            v.clone(),
            Stored {
                wire: wire.clone(),
                by: by.clone(),
            },
        );
        inc(&st.metrics.stores);
        st.metrics
            .variant_evictions
            .fetch_add(evicted as u64, Ordering::Relaxed);
    }
    if let Some(l) = leader {
        l.finish(Some(Arc::new(Shared {
            response,
            wire,
            variant,
            by,
        })));
    }
}

/// `Arc<[u8]>` as a [`Bytes`] owner, so a stored body is held once.
struct ArcBytes(Arc<[u8]>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Reads a whole upstream body (up to `limit` bytes) within `idle` per frame.
async fn read_whole(body: Incoming, limit: usize, idle: Duration) -> Option<Bytes> {
    tokio::time::timeout(idle, Limited::new(body, limit).collect())
        .await
        .ok()?
        .ok()
        .map(|c| c.to_bytes())
}

/// `stale-while-revalidate`: the stale response was served; fetch a fresh one in the
/// background (one at a time per key) and store it.
fn refresh(st: &Arc<State>, parts: &http::request::Parts, key: &str, core: &Request) {
    let Some(leader) = st.inflight.try_lead(key) else {
        return;
    };
    let method = if parts.method == http::Method::HEAD {
        http::Method::GET
    } else {
        parts.method.clone()
    };
    let Ok(req) = upstream_request(
        st,
        &method,
        &core.target,
        &parts.headers,
        Either::Right(Empty::new()),
    ) else {
        return;
    };
    let (st, key, mut core) = (st.clone(), key.to_string(), core.clone());
    core.method = method.to_string();
    tokio::spawn(async move {
        let Ok(resp) = upstream::send(&st.client, req, st.cfg.upstream_timeout).await else {
            return;
        };
        let (mut rparts, rbody) = resp.into_parts();
        upstream::strip_hop_by_hop(&mut rparts.headers);
        let Some(body) = read_whole(rbody, st.cfg.max_object(), st.cfg.upstream_timeout).await
        else {
            return;
        };
        let tag = st.tags.fetch_add(1, Ordering::Relaxed);
        let head = Response::new(rparts.status.as_u16(), core_headers(&rparts.headers));
        finish(
            &st,
            &key,
            &core,
            head,
            rparts.headers,
            body,
            stored_by(&core, tag),
            false,
            Some(leader),
        );
    });
}

/// Judges a stored response served to `core` against what the upstream itself answers
/// (see [`super::judge`] for why this is exact and cheap), and warns on a difference.
/// A request without Origin has nothing to judge (`judge::fetch_of` returns `None`).
fn judge_served(
    st: &Arc<State>,
    parts: &http::request::Parts,
    core: &Request,
    served: &Arc<Response>,
    by: &Arc<StoredBy>,
    full_key: &str,
    now: crate::time::Timestamp,
) {
    let Some(j) = judge::fetch_of(core) else {
        return;
    };
    let include = j.fetch.credentials == Credentials::Include;
    if by.origin.as_deref() == Some(j.fetch.origin.as_str()) && by.credentials == include {
        return;
    }
    let served_v = judge::verdict(&j, served, now);
    let shape = format!(
        "{} {} {}",
        core.method,
        core.headers
            .get("access-control-request-method")
            .unwrap_or("-"),
        core.headers
            .get_combined("access-control-request-headers")
            .unwrap_or_default()
    );
    let cell = st
        .verdicts
        .get_with((by.tag, j.fetch.origin.clone(), include, shape), || {
            Arc::new(OnceCell::new())
        });
    let request = format!("{} {}", core.method, core.target);
    if let Some(direct) = cell.get() {
        // the upstream's answer for this entry and this Origin is known already
        if let Some(direct) = *direct {
            report(
                st,
                &request,
                &j.fetch.origin,
                by,
                full_key,
                &served_v,
                direct,
            );
        }
        return;
    }
    let Ok(req) = upstream_request(
        st,
        &parts.method,
        &core.target,
        &parts.headers,
        Either::Right(Empty::new()),
    ) else {
        return;
    };
    let (st, by, full_key) = (st.clone(), by.clone(), full_key.to_string());
    tokio::spawn(async move {
        let direct = *cell
            .get_or_init(|| async {
                inc(&st.metrics.judge_fetches);
                let resp = upstream::send(&st.client, req, st.cfg.upstream_timeout)
                    .await
                    .ok()?;
                let (rparts, rbody) = resp.into_parts();
                // read it (bounded) so the pooled connection is reused; the verdict
                // needs only the head
                let _ = read_whole(rbody, st.cfg.max_object(), st.cfg.upstream_timeout).await;
                let head = Response::new(rparts.status.as_u16(), core_headers(&rparts.headers));
                Some(judge::outcome(&judge::verdict(&j, &head, clock::now())))
            })
            .await;
        if let Some(direct) = direct {
            report(
                &st,
                &request,
                &j.fetch.origin,
                &by,
                &full_key,
                &served_v,
                direct,
            );
        }
    });
}

/// Counts and prints one cache-induced difference (nothing when the verdicts agree).
fn report(
    st: &State,
    request: &str,
    origin: &str,
    by: &StoredBy,
    full_key: &str,
    served: &crate::browser::Verdict,
    direct: (bool, crate::browser::Reason),
) {
    if direct == judge::outcome(served) {
        return;
    }
    inc(&st.metrics.cache_induced);
    let stored = match &by.origin {
        Some(o) => format!("{} from {o}", by.request),
        None => format!("{} without Origin", by.request),
    };
    if served.allowed {
        crate::net::log::warning!(
            "varyedge: cache-induced CORS pass: {request} from {origin} got the entry stored by {stored} (key {}): allowed, but the upstream's own answer is blocked ({})",
            sf_string(full_key),
            direct.1.id()
        );
    } else {
        inc(&st.metrics.cache_induced_blocked);
        crate::net::log::warning!(
            "varyedge: cache-induced CORS failure: {request} from {origin} got the entry stored by {stored} (key {}): {}",
            sf_string(full_key),
            served.reason.id()
        );
    }
}
