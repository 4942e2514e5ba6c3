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
use super::{access_log, admin, framing, listener, Config, ADMIN_PREFIX};
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
    pub(super) slots: Arc<tokio::sync::Semaphore>,
    set_cookie_warned: moka::sync::Cache<Tag, ()>,
    verdicts: moka::sync::Cache<VerdictKey, VerdictCell>,
    upstream_host: HeaderValue,
}

impl State {
    /// The proxy's state for `cfg`.
    pub fn new(cfg: Config) -> State {
        let knobs = Arc::new(cfg.knobs.clone());
        let metrics = Arc::new(Metrics::default());
        let store = Store::new(
            knobs.clone(),
            cfg.capacity,
            cfg.max_variants_per_url,
            metrics.clone(),
        );
        let upstream_host = HeaderValue::from_str(&cfg.upstream.authority)
            .unwrap_or(HeaderValue::from_static("localhost"));
        State {
            client: upstream::client(cfg.upstream_timeout),
            knobs,
            store,
            inflight: Arc::new(Inflight::default()),
            metrics,
            tags: AtomicU64::new(0),
            set_cookie_warned: moka::sync::Cache::new(10_000),
            slots: Arc::new(tokio::sync::Semaphore::new(
                cfg.limits.max_connections.max(1),
            )),
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
    listener::check_free(cfg.listen)?;
    let admin = admin::bind(&cfg)?;
    super::malloc::limit_arenas();
    let state = Arc::new(State::new(cfg));
    let (stop_tx, stop_rx) = watch::channel(false);
    super::malloc::trim_every(Duration::from_secs(2), stop_rx.clone());
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
    if let Some(a) = admin {
        crate::net::log::info!(
            "admin endpoints on http://{}{ADMIN_PREFIX}",
            a.local_addr()?
        );
        admin::spawn(state.clone(), a, stop_rx.clone())?;
    }
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
        let listener = match listener::listen(addr, reuse_port) {
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
    let limits = state.cfg.limits;
    loop {
        tokio::select! {
            accepted = listener::accept(&listener, &state.slots) => {
                let Some((stream, slot)) = accepted else { continue };
                let activity = listener::Activity::new();
                let st = state.clone();
                let act = activity.clone();
                let svc = service_fn(move |req| {
                    let busy = act.begin();
                    let st = st.clone();
                    async move {
                        let r = handle(st, req).await;
                        drop(busy);
                        r
                    }
                });
                let io = listener::Guarded::new(stream, activity, limits);
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), svc).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(slot);
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
    if admin::on_proxy_listener(&st.cfg, &req) {
        return Ok(admin::handle(&st, req).await.map(Either::Left));
    }
    inc(&st.metrics.requests);
    if let Some((status, text)) = framing::local_answer(&req) {
        return Ok(answer_locally(&st, status, text));
    }
    let Some(log) = st.cfg.access_log.clone() else {
        return Ok(with_edge_cors(st, req).await);
    };
    let (at, start) = (clock::now(), clock::instant());
    let request = format!(
        "{} {}",
        req.method(),
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let resp = with_edge_cors(st, req).await;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let e = access_log::Entry {
        at,
        request: &request,
        origin: origin.as_deref(),
        ms,
    };
    log.record(&e, &resp);
    Ok(resp)
}

/// The proxy's own answer to a request it does not forward ([`framing::local_answer`]);
/// a 4xx counts as a bad request (in [`own`]), `OPTIONS *` as a pass.
fn answer_locally(st: &State, status: u16, text: &str) -> http::Response<ProxyBody> {
    if status < 400 {
        inc(&st.metrics.passes);
    }
    let mut r = own(
        st,
        status,
        text,
        if status < 400 { "local" } else { "bad-request" },
    );
    if status == 204 {
        *r.body_mut() = Either::Left(Full::new(Bytes::new()));
        r.headers_mut().remove(header::CONTENT_TYPE);
        r.headers_mut().insert(
            header::ALLOW,
            HeaderValue::from_static("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
        );
    }
    r
}

/// The proxy, with the CORS fields the edge adds itself (`edge::cors`, a CloudFront
/// response headers policy) applied per viewer after the cache.
async fn with_edge_cors(st: Arc<State>, req: http::Request<Incoming>) -> http::Response<ProxyBody> {
    let Some(cors) = st.knobs.edge_cors.clone() else {
        return proxy(st, req).await;
    };
    // the edge answers CORS itself (edge::cors), per viewer, after the cache
    let h = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (method, origin, acrm) = (
        req.method().to_string(),
        h("origin"),
        h("access-control-request-method"),
    );
    let mut resp = proxy(st, req).await;
    let mut core = core_headers(resp.headers());
    if cors.apply(&method, origin.as_deref(), acrm.as_deref(), &mut core) {
        let out = resp.headers_mut();
        out.clear();
        convert::append_fields(out, core.iter());
    }
    resp
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
        stored_set_cookie: wire.headers.contains_key(header::SET_COOKIE),
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

/// A stored response as the client gets it: the core's [`edge::deliver`] answers the
/// client's own conditional (`304`) or byte `Range` (`206`/`416`) from it; otherwise the
/// stored wire form is sent unchanged.
fn serve_stored(
    core: &Request,
    wire: &Wire,
    served: &edge::Served,
    cs: CacheStatus<'_>,
    x_cache: &'static str,
) -> http::Response<ProxyBody> {
    let out = edge::deliver(core, &served.response);
    if Arc::ptr_eq(&out, &served.response) {
        return from_store(wire, served.age_secs, cs, served.ttl_secs, x_cache);
    }
    from_core(
        &out,
        served.age_secs,
        cs,
        served.ttl_secs,
        &wire.key,
        x_cache,
    )
}

/// A response the core derived from a stored one (a 304, a 206, a freshened entry),
/// with the same `Age`, `Cache-Status`, `X-Cache` and `Via` as [`from_store`].
fn from_core(
    resp: &Response,
    age: u64,
    cs: CacheStatus<'_>,
    ttl: i64,
    key: &str,
    x_cache: &'static str,
) -> http::Response<ProxyBody> {
    let mut r = convert::to_hyper(resp).map(Either::Left);
    let h = r.headers_mut();
    h.insert(header::AGE, HeaderValue::from(age));
    let cs = CacheStatus {
        ttl: Some(ttl),
        key: Some(Cow::Borrowed(key)),
        ..cs
    };
    if let Some(v) = cache_status_value(&cs) {
        h.append(CACHE_STATUS, v);
    }
    h.insert(X_CACHE, HeaderValue::from_static(x_cache));
    h.append(header::VIA, VIA);
    r
}

/// The conditional fields a cache replaces with its own when it revalidates.
const CONDITIONALS: [HeaderName; 5] = [
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_MATCH,
    header::IF_UNMODIFIED_SINCE,
    header::IF_RANGE,
];

/// A forward with a stored candidate (stale, or refused by the request's own
/// directives): revalidated with the stored validators when the profile does that
/// (RFC 9111 §4.3.1), the `304` merged and stored (§4.3.4); a failed origin answered
/// with the stale entry where the core allows it (§4.2.4, RFC 5861 §4); anything else
/// relayed and stored as a plain miss.
#[allow(clippy::too_many_arguments)]
async fn revalidate(
    st: Arc<State>,
    parts: http::request::Parts,
    body: Incoming,
    core: Request,
    key: String,
    fwd: Fwd,
    cand: edge::Variant,
    stored: Stored,
) -> http::Response<ProxyBody> {
    let conditional = st.knobs.revalidate && edge::validate::has_validator(&cand.response);
    if !conditional && !st.knobs.stale_on_disconnect && !st.knobs.stale_if_error {
        return forward(st, parts, body, core, key, fwd, false, None).await;
    }
    let mut headers = parts.headers.clone();
    if conditional {
        for n in &CONDITIONALS {
            headers.remove(n);
        }
        headers.remove(header::RANGE);
        for (n, v) in edge::validate::conditional_fields(&cand.response) {
            if let Ok(v) = HeaderValue::from_str(&v) {
                headers.insert(n, v);
            }
        }
    }
    let Ok(up_req) = upstream_request(
        &st,
        &parts.method,
        &core.target,
        &headers,
        Either::Right(Empty::new()),
    ) else {
        return forward(st, parts, body, core, key, fwd, false, None).await;
    };
    let sent = upstream::send(&st.client, up_req, st.cfg.upstream_timeout).await;
    let now = clock::now();
    let resp = match sent {
        Ok(r) => r,
        Err(f) => {
            return match edge::after_forward(&st.knobs, &cand, None, now) {
                edge::Revalidated::ServeStale => {
                    serve_stale(&st, &core, &cand, &stored, now, "stale-on-disconnect")
                }
                _ => fault(&st, &f, fwd),
            }
        }
    };
    let code = resp.status().as_u16();
    if code != 304 && !matches!(code, 500 | 502 | 503 | 504) {
        return relay(st, core, key, fwd, false, None, resp).await;
    }
    let mut rh = resp.headers().clone();
    upstream::strip_hop_by_hop(&mut rh);
    let head = Response::new(code, core_headers(&rh));
    match edge::after_forward(&st.knobs, &cand, Some(&head), now) {
        edge::Revalidated::Freshened(fresh) => {
            drain(&st, resp);
            freshened(&st, &parts, &core, &key, fresh, &stored, now, fwd)
        }
        edge::Revalidated::ServeStale => {
            drain(&st, resp);
            serve_stale(&st, &core, &cand, &stored, now, "stale-if-error")
        }
        edge::Revalidated::Replaced if code == 304 => {
            // a 304 for something else than what is stored: fetch it whole
            drain(&st, resp);
            forward(st, parts, body, core, key, fwd, false, None).await
        }
        edge::Revalidated::Replaced => relay(st, core, key, fwd, false, None, resp).await,
    }
}

/// Reads and drops an upstream body in the background, so its connection is reused.
fn drain(st: &Arc<State>, resp: http::Response<Incoming>) {
    let (limit, idle) = (st.cfg.max_object(), st.cfg.upstream_timeout);
    tokio::spawn(async move {
        let _ = read_whole(resp.into_body(), limit, idle).await;
    });
}

/// Serves the stale `cand` because the origin failed (`why`: the RFC 9211 detail).
fn serve_stale(
    st: &State,
    core: &Request,
    cand: &edge::Variant,
    stored: &Stored,
    now: crate::time::Timestamp,
    why: &str,
) -> http::Response<ProxyBody> {
    inc(&st.metrics.stale);
    let served = edge::served_from(cand, now);
    let cs = CacheStatus {
        detail: Some(Cow::Borrowed(why)),
        ..CacheStatus::hit(false)
    };
    serve_stored(core, &stored.wire, &served, cs, "HIT")
}

/// A `304` freshened the stored response: store the merged copy in its place and serve
/// it (answering the client's own conditional or range from it).
#[allow(clippy::too_many_arguments)]
fn freshened(
    st: &Arc<State>,
    parts: &http::request::Parts,
    core: &Request,
    key: &str,
    fresh: Arc<Response>,
    stored: &Stored,
    now: crate::time::Timestamp,
    fwd: Fwd,
) -> http::Response<ProxyBody> {
    let tag = st.tags.fetch_add(1, Ordering::Relaxed);
    let by = Arc::new(StoredBy {
        tag,
        ..StoredBy::clone(&stored.by)
    });
    let wire_resp = convert::to_hyper(&fresh);
    let made = edge::make_variant(&st.knobs, core, fresh.clone(), now, tag);
    let full: String = made
        .as_ref()
        .map_or_else(|_| key.to_string(), |v| v.key.to_string());
    let wire = Arc::new(Wire {
        status: wire_resp.status(),
        headers: wire_resp.headers().clone(),
        body: Bytes::from_owner(ArcBytes(fresh.body.clone())),
        key: full.clone(),
    });
    let mut cs = CacheStatus {
        fwd_status: Some(304),
        ..CacheStatus::forward(fwd)
    };
    let (age, ttl) = match made {
        Ok(v) => {
            let served = edge::served_from(&v, now);
            st.store.insert(
                key,
                core,
                v,
                Stored {
                    wire: wire.clone(),
                    by: by.clone(),
                },
            );
            inc(&st.metrics.stores);
            cs.stored = true;
            (served.age_secs, served.ttl_secs)
        }
        Err(_) => (0, 0),
    };
    judge_served(st, parts, core, &fresh, &by, &full, now);
    let out = edge::deliver(core, &fresh);
    from_core(&out, age, cs, ttl, &wire.key, "REVALIDATED")
}

/// Warns (once per stored entry) that a stored `Set-Cookie` is being replayed to
/// another request: the session leak the profile's rule allows.
fn warn_set_cookie(st: &State, stored: &Stored, core: &Request) {
    if !stored.wire.headers.contains_key(header::SET_COOKIE)
        || st.set_cookie_warned.contains_key(&stored.by.tag)
    {
        return;
    }
    st.set_cookie_warned.insert(stored.by.tag, ());
    inc(&st.metrics.set_cookie_replayed);
    crate::net::log::warning!(
        "varyedge: stored Set-Cookie replayed: {} {} got the Set-Cookie stored by {} (key {}); the {} profile stores responses with Set-Cookie",
        core.method,
        core.target,
        stored.by.request,
        sf_string(&stored.wire.key),
        st.cfg.profile
    );
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
            warn_set_cookie(&st, &stored, &core);
            return serve_stored(&core, &stored.wire, &served, cs, "HIT");
        }
        Found::Forward(fwd) => fwd,
    };
    // RFC 9111 §5.2.1.7: only-if-cached and nothing usable stored → 504
    if edge::only_if_cached(knobs, &core) {
        return own(
            &st,
            504,
            "varyedge proxy: only-if-cached and not stored\n",
            "only-if-cached",
        );
    }
    if matches!(fwd, Fwd::Stale | Fwd::Request) {
        if let Some((cand, stored)) = st.store.candidate(&key, &core, now) {
            inc(&st.metrics.misses);
            return revalidate(st, parts, body, core, key, fwd, cand, stored).await;
        }
    }
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
    build_upstream(st, method, target, headers, body, true)
}

/// The judge's request: what the origin alone would get, every viewer field included.
fn direct_request(
    st: &State,
    method: &http::Method,
    target: &str,
    headers: &HeaderMap,
    body: UpBody,
) -> Result<http::Request<UpBody>, String> {
    build_upstream(st, method, target, headers, body, false)
}

fn build_upstream(
    st: &State,
    method: &http::Method,
    target: &str,
    headers: &HeaderMap,
    body: UpBody,
    as_edge: bool,
) -> Result<http::Request<UpBody>, String> {
    let uri = format!(
        "http://{}{}{}",
        st.cfg.upstream.authority, st.cfg.upstream.prefix, target
    );
    // Only the fields the profile forwards (edge::forward): CloudFront without an origin
    // request policy sends the origin the key's fields and its own, never `Origin`.
    let k = &*st.knobs;
    let mut h = HeaderMap::with_capacity(headers.len() + k.forward.add.len());
    for (n, v) in headers {
        if !as_edge || edge::forward::keeps(&k.forward, &k.key_headers, n.as_str()) {
            h.append(n.clone(), v.clone());
        }
    }
    if as_edge {
        let add = k.forward.add.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        convert::append_fields(&mut h, add);
    }
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
    match upstream::send(&st.client, up_req, st.cfg.upstream_timeout).await {
        Ok(r) => relay(st, core, key, fwd, pass, leader, r).await,
        Err(f) => fault(&st, &f, fwd),
    }
}

/// The client's answer when the upstream gave no response head.
fn fault(st: &State, f: &upstream::Fault, fwd: Fwd) -> http::Response<ProxyBody> {
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
        upstream::Fault::BadRequestBody(_) => "bad-request",
    };
    let mut r = own(st, status, &text, detail);
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
    r
}

/// Streams an upstream response to the client and, when the core says so, stores it;
/// a non-error answer to an unsafe method invalidates what it names (RFC 9111 §4.4).
async fn relay(
    st: Arc<State>,
    core: Request,
    key: String,
    fwd: Fwd,
    pass: bool,
    leader: Option<Leader>,
    resp: http::Response<Incoming>,
) -> http::Response<ProxyBody> {
    let tag = st.tags.fetch_add(1, Ordering::Relaxed);
    let (mut rparts, rbody) = resp.into_parts();
    if let Err(bad) = framing::upstream_framing(&rparts.headers) {
        return bad_upstream(&st, fwd, bad.text());
    }
    upstream::strip_hop_by_hop(&mut rparts.headers);
    let now = clock::now();
    let status = rparts.status;
    let head = Response::new(status.as_u16(), core_headers(&rparts.headers));
    st.store.invalidate(&edge::invalidated_urls(
        &st.knobs,
        &core,
        head.status,
        &head.headers,
    ));
    let made =
        (!pass).then(|| edge::make_variant(&st.knobs, &core, Arc::new(head.clone()), now, tag));
    // the per-object limit counts the stored header block too, not only the body
    let limit = st
        .cfg
        .max_object()
        .saturating_sub(framing::headers_heap_size(&rparts.headers));
    let bound = framing::read_ahead_bound(matches!(made, Some(Ok(_))), limit, READ_AHEAD);
    let (prefix, rbody) = match ahead(&st, rbody, bound).await {
        Ok(p) => p,
        Err(e) => return bad_upstream(&st, fwd, &e),
    };
    let length = match &rbody {
        None => Some(prefix.len() as u64),
        Some(b) => b.size_hint().exact().map(|n| n + prefix.len() as u64),
    };
    let fits = prefix.len() <= limit && length.is_none_or(|n| n as usize <= limit);
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
            cs.stored_set_cookie = edge::replays_set_cookie(&v.response);
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
    let rbody = match rbody {
        Some(b) if !b.is_end_stream() => b,
        _ => {
            // all of it is here: complete now, so that an empty body is stored too
            on_end(Ended::Whole(keep.then(|| prefix.clone())));
            return http::Response::from_parts(rparts, Either::Left(Full::new(prefix)));
        }
    };
    let tee = TeeBody::new(prefix, rbody, keep, limit, st.cfg.upstream_timeout, on_end);
    http::Response::from_parts(rparts, Either::Right(tee))
}

/// How much of a body of unknown length is read before the response head goes out when
/// it will not be stored (see [`framing::read_ahead_bound`]).
const READ_AHEAD: usize = 16 << 10;

/// A body of known length as is; one of unknown length read ahead up to `bound` bytes
/// (see [`framing::read_ahead`]): `(bytes read, the rest if any)`, or why it broke.
async fn ahead(
    st: &State,
    body: Incoming,
    bound: usize,
) -> Result<(Bytes, Option<Incoming>), String> {
    if body.size_hint().exact().is_some() {
        return Ok((Bytes::new(), Some(body)));
    }
    match framing::read_ahead(body, bound, st.cfg.upstream_timeout).await {
        framing::Ahead::Whole(b) => Ok((b, None)),
        framing::Ahead::Partial(b, rest) => Ok((b, Some(rest))),
        framing::Ahead::Broken(e) => Err(format!("varyedge proxy: upstream error: {e}\n")),
    }
}

/// A 502 for an upstream response that cannot be forwarded (bad framing, broken body
/// before the head went out); counted as an upstream error.
fn bad_upstream(st: &State, fwd: Fwd, text: &str) -> http::Response<ProxyBody> {
    inc(&st.metrics.upstream_errors);
    let mut r = own(st, 502, text, "upstream-error");
    let cs = format!("varyedge; fwd={}; detail=\"upstream-error\"", fwd.token());
    if let Ok(v) = HeaderValue::from_str(&cs) {
        r.headers_mut().insert(CACHE_STATUS, v);
    }
    r
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
    let mut wire_headers = super::framing::compact_headers(&wire_headers);
    if variant
        .as_ref()
        .is_some_and(|v| !edge::replays_set_cookie(&v.response))
    {
        // the profile strips Set-Cookie from what it stores
        wire_headers.remove(header::SET_COOKIE);
    }
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
        if framing::upstream_framing(&rparts.headers).is_err() {
            return;
        }
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
    let Ok(req) = direct_request(
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
