//! The request flow. For each request: the core's key and pass decision, a lookup in the
//! store (decided by the core), then either a stored response (with `Age`,
//! `Cache-Status`, `Via`) or a forward upstream whose response is streamed back and, when
//! the core says it is storable and it arrives whole, stored. Concurrent misses collapse
//! as the core's `collapse` knob says. Served stored responses are judged as the
//! requesting browser would ([`super::judge`]).

use super::collapse::{Inflight, Join, Leader, Shared};
use super::hit_head::{self, age_value, X_CACHE};
use super::judge;
use super::metrics::{inc, Metrics};
use super::names;
use super::store::{Decided, Head, Store, Stored, StoredBy, Wire};
use super::upstream::{self, Ended, TeeBody, UpBody, UpClient, VIA};
use super::{access_log, admin, framing, listener, Config, ADMIN_PREFIX};
use crate::edge::{self, sf_string, CacheStatus, Completion, ForwardPlan, Fwd, Tag};
use crate::message::{Request, Response};
use crate::net::{clock, convert, shutdown};
use crate::profile::Knobs;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::{Body, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
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
    /// The upstream's authority, parsed once (its text is static: cloning it touches no
    /// shared counter); `None` if it does not parse, and each request then reports why.
    upstream_authority: Option<http::uri::Authority>,
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
        let upstream_authority = static_authority(&cfg.upstream.authority);
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
            upstream_authority,
            cfg,
        }
    }
}

/// `text` as an authority with static text (leaked once per proxy: a few bytes), or
/// `None` when it is not one.
fn static_authority(text: &str) -> Option<http::uri::Authority> {
    http::uri::Authority::try_from(text).ok()?;
    let text: &'static str = Box::leak(Box::from(text));
    // cannot panic: the same text parsed above
    Some(http::uri::Authority::from_static(text))
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
    // SIGINT/SIGTERM are caught from here on, before the workers answer anything
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let signals = {
        let _in_rt = rt.enter();
        shutdown::Signals::listen()
    };
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
    rt.block_on(signals.recv());
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
        // no hyper timer: its `header_read_timeout` (30 s) armed and dropped a timer per
        // request; `listener::Guarded` keeps the same limit (`listener::HEAD_WAIT`)
        .header_read_timeout(None)
        // at most 100 header fields per request: hyper's default, not set here because
        // setting it (even to 100) makes hyper allocate and fill a header array per
        // request instead of using one on the stack (~7 % of a hit's instructions)
        .max_buf_size(64 << 10);
    builder.http2().max_header_list_size(64 << 10);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let limits = state.cfg.limits;
    loop {
        tokio::select! {
            accepted = listener::accept(&listener, &state.slots) => {
                // the admin endpoints on this listener answer loopback peers only: their
                // `Host` alone is the client's say (a proxy listening beyond loopback
                // would take `Host: localhost` from anyone)
                let Some((stream, slot, peer_loopback)) = accepted else { continue };
                let activity = listener::Activity::new();
                let st = state.clone();
                let act = activity.clone();
                let svc = service_fn(move |req| {
                    // a hit is answered here, within hyper's call: the request's buffers
                    // are freed before hyper reads the socket again, and its future is
                    // a ready value (no state moved around, no `State` count touched);
                    // nothing else runs on this connection meanwhile, so it needs no
                    // busy mark
                    match start(&st, req, peer_loopback) {
                        Started::Done(r) => {
                            act.served_now();
                            Reply::Now(Some(r))
                        }
                        later => {
                            let busy = act.begin();
                            let st = st.clone();
                            Reply::Later(Box::pin(async move {
                                let r = complete(st, later).await;
                                drop(busy);
                                r
                            }))
                        }
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

/// A request as far as it goes without waiting: answered (a hit, a refusal, a local
/// answer), or what is left to await.
enum Started {
    Done(http::Response<ProxyBody>),
    /// An admin endpoint on the proxy's listener.
    Admin(http::Request<Incoming>),
    /// The access log or the edge's own CORS fields wrap the whole request.
    Wrapped(http::Request<Incoming>),
    /// A forward upstream.
    Forward(Box<Pending>),
}

/// The service's answer: ready at once, or a future.
// the large variant is the common one (every hit): boxing it would allocate per hit
#[allow(clippy::large_enum_variant)]
enum Reply {
    Now(Option<http::Response<ProxyBody>>),
    Later(std::pin::Pin<Box<dyn Future<Output = http::Response<ProxyBody>> + Send>>),
}

impl Future for Reply {
    type Output = Result<http::Response<ProxyBody>, Infallible>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.get_mut() {
            // hyper polls a service future until it is ready, once
            Reply::Now(r) => std::task::Poll::Ready(Ok(r
                .take()
                .unwrap_or_else(|| own_plain(500, "varyedge proxy: response already sent\n")))),
            Reply::Later(f) => f.as_mut().poll(cx).map(Ok),
        }
    }
}

/// A bare 500 for a service future polled after it finished (hyper never does that).
fn own_plain(status: u16, text: &str) -> http::Response<ProxyBody> {
    convert::text(status, text).map(Either::Left)
}

/// Everything up to the first wait: the admin and local answers, then (with no access
/// log and no edge CORS configured) the core's decision and a hit.
fn start(st: &Arc<State>, mut req: http::Request<Incoming>, peer_loopback: bool) -> Started {
    if admin::on_proxy_listener(&st.cfg.admin, &req, peer_loopback) {
        return Started::Admin(req);
    }
    inc(&st.metrics.requests);
    if let Some((status, text)) = framing::local_answer(&req) {
        return Started::Done(answer_locally(st, status, text));
    }
    if req.uri().authority().is_some() || req.version() < http::Version::HTTP_11 {
        target_host(st, &mut req);
    }
    if st.cfg.access_log.is_some() || st.knobs.edge_cors.is_some() {
        return Started::Wrapped(req);
    }
    match begin(st, req) {
        Step::Done(r) => Started::Done(r),
        Step::Forward(p) => Started::Forward(p),
    }
}

/// The `Host` the request is keyed and forwarded with, where it is not the client's own
/// `Host` field (RFC 9112 §3.3, the target URI's authority):
/// - absolute-form (§3.2.2): "a proxy MUST ignore the received Host header field (if
///   any) and instead replace it with the host information of the request-target";
/// - an HTTP/1.0 request without `Host` (only HTTP/1.1 must send one, §3.2): the
///   server's default name, here the upstream's authority.
fn target_host(st: &State, req: &mut http::Request<Incoming>) {
    let host = match req.uri().authority() {
        Some(a) => HeaderValue::from_str(a.as_str()).ok(),
        None if !req.headers().contains_key(header::HOST) => Some(st.upstream_host.clone()),
        None => None,
    };
    if let Some(h) = host {
        req.headers_mut().insert(header::HOST, h);
    }
}

/// The rest of what [`start`] left.
async fn complete(st: Arc<State>, started: Started) -> http::Response<ProxyBody> {
    match started {
        Started::Done(r) => r,
        Started::Admin(req) => admin::handle(&st, req).await.map(Either::Left),
        Started::Wrapped(req) => logged(st, req).await,
        Started::Forward(p) => p.run(st).await,
    }
}

/// A request through the access log (when configured) and the edge's CORS fields.
async fn logged(st: Arc<State>, req: http::Request<Incoming>) -> http::Response<ProxyBody> {
    let Some(log) = st.cfg.access_log.clone() else {
        return with_edge_cors(st, req).await;
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
    resp
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
    }
    if status == 204 || status == 405 {
        // RFC 9110 §15.5.6: a 405 "MUST generate an Allow header field"
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
    }
    r
}

/// The methods the proxy takes (what it says in `Allow`).
const ALLOW: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

/// The proxy, with the CORS fields the edge adds itself (`edge_cors`, a CloudFront
/// response headers policy) applied per viewer after the cache, by the core's
/// [`edge::decide::edge_cors`] as in the simulator.
async fn with_edge_cors(st: Arc<State>, req: http::Request<Incoming>) -> http::Response<ProxyBody> {
    if st.knobs.edge_cors.is_none() {
        return proxy(st, req).await;
    }
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
    let knobs = st.knobs.clone();
    let mut resp = proxy(st, req).await;
    let mut core = convert::headers_lossy(resp.headers());
    if edge::decide::edge_cors(
        &knobs,
        &method,
        origin.as_deref(),
        acrm.as_deref(),
        &mut core,
    ) {
        let out = resp.headers_mut();
        out.clear();
        convert::append_fields(out, core.iter());
    }
    resp
}

/// The member of a response served from the store, whose `key` is `key`'s text.
///
/// A hit's member is the same for every request served the same entry within one second
/// (`ttl` is in whole seconds), yet writing it (the key escaped as an sf-string, then
/// checked by `HeaderValue`) costs more than a thousand instructions. So hits go
/// through a per-thread memo of members already written, found by the address of the
/// key's text and `ttl`. The memo holds the key (`Arc`), so while a member is kept no
/// other text can take that address: the same address is the same key, and only the
/// member's other fields are compared (reading the key's text again would cost a cache
/// miss or two per hit when thousands of entries are hot). A member equal in every
/// field reuses the value, which is the same bytes by construction.
fn keyed_status_value(cs: &CacheStatus<'_>, key: &Arc<str>) -> Option<HeaderValue> {
    debug_assert_eq!(cs.key.as_deref(), Some(&**key), "a member for another key");
    if !cs.hit || key.len() > CS_MEMO_KEY_MAX {
        return write_cache_status(cs);
    }
    let at = (Arc::as_ptr(key).cast::<u8>() as usize, cs.ttl);
    CS_MEMO.with(|m| {
        let mut m = m.borrow_mut();
        let m = &mut *m;
        if let Some(kept) = m.members.get_mut(&at) {
            if same_but_key(&kept.status, cs) {
                return Some(kept.value.clone());
            }
            // another member for this key and ttl: written anew, its strings reused
            let v = write_cache_status(cs)?;
            refill(&mut kept.status, cs);
            m.bytes = (m.bytes + v.len()).saturating_sub(kept.value.len());
            kept.value = v.clone();
            return Some(v);
        }
        let v = write_cache_status(cs)?;
        let cost = member_bytes(key, &v);
        // members of past seconds stay until the memo is full, then all go at once
        if m.members.len() >= CS_MEMO_MAX || m.bytes + cost > CS_MEMO_BYTES {
            m.members.clear();
            m.bytes = 0;
        }
        let kept = Kept {
            _key: key.clone(),
            status: owned_status(cs),
            value: v.clone(),
        };
        m.members.insert(at, kept);
        m.bytes += cost;
        Some(v)
    })
}

/// What a memo member holds at most: its key (when the store has dropped it), its value,
/// and the map's slot, the member's other strings and allocator slack (rounded up).
fn member_bytes(key: &str, value: &HeaderValue) -> usize {
    key.len() + value.len() + CS_MEMBER_FIXED
}

/// Whether `kept` (a memo member, kept without its key) and `cs` are equal but for the
/// key. Every field is named, so a field added to `CacheStatus` must be added here.
fn same_but_key(kept: &CacheStatus<'_>, cs: &CacheStatus<'_>) -> bool {
    let CacheStatus {
        cache,
        hit,
        fwd,
        fwd_status,
        collapsed,
        stored,
        ttl,
        key: _,
        detail,
        stored_set_cookie,
    } = cs;
    kept.cache == *cache
        && kept.hit == *hit
        && kept.fwd == *fwd
        && kept.fwd_status == *fwd_status
        && kept.collapsed == *collapsed
        && kept.stored == *stored
        && kept.ttl == *ttl
        && kept.detail == *detail
        && kept.stored_set_cookie == *stored_set_cookie
}

fn write_cache_status(cs: &CacheStatus<'_>) -> Option<HeaderValue> {
    // the fixed parts take under 64 bytes: room for them and the texts, unescaped
    let texts = [&cs.key, &cs.detail, &cs.fwd].map(|t| t.as_deref().map_or(0, str::len));
    let mut v = String::with_capacity(64 + texts.iter().sum::<usize>());
    cs.write_into(&mut v);
    HeaderValue::from_maybe_shared(Bytes::from(v)).ok()
}

/// Members the per-thread `Cache-Status` memo holds at most: room for a few thousand hot
/// entries over a second or two.
const CS_MEMO_MAX: usize = 2048;

/// Bytes the per-thread memo holds at most ([`member_bytes`] summed): with keys of a
/// hundred bytes the member count binds first; with long keys (a preflight's, which
/// names its `Origin` and `Access-Control-Request-*` values twice, easily passes 256
/// bytes) fewer are kept. A key the store has dropped lives on in the memo until it is
/// cleared: within this bound, outside the cache's capacity.
const CS_MEMO_BYTES: usize = 2 << 20;

/// [`member_bytes`] beyond the key and value: the map's slot (key and `Kept`, ~220
/// bytes), the `Arc` and `Bytes` counters and the member's other strings, rounded up.
const CS_MEMBER_FIXED: usize = 320;

/// Members with longer keys are written each time, not remembered (writing one costs in
/// proportion to its key anyway, and a few would fill the memo).
const CS_MEMO_KEY_MAX: usize = 4096;

/// A member the memo keeps: its key (held, so that its address stays its own), the
/// member's other fields (`key` is `None`) and its value.
struct Kept {
    _key: Arc<str>,
    status: CacheStatus<'static>,
    value: HeaderValue,
}

/// A member memo: (address of the key's text, `ttl`) → the member, and the members'
/// [`member_bytes`].
#[derive(Default)]
struct StatusMemo {
    members: std::collections::HashMap<(usize, Option<i64>), Kept, edge::hash::FastBuild>,
    bytes: usize,
}

thread_local! {
    static CS_MEMO: std::cell::RefCell<StatusMemo> =
        std::cell::RefCell::new(StatusMemo::default());
}

/// Makes `slot` equal to `cs` but for the key (the memo keeps none), reusing the
/// buffers of its owned strings.
fn refill(slot: &mut CacheStatus<'static>, cs: &CacheStatus<'_>) {
    fn text(to: &mut Cow<'static, str>, from: &str) {
        match to {
            Cow::Owned(s) => {
                s.clear();
                s.push_str(from);
            }
            Cow::Borrowed(_) => *to = Cow::Owned(from.to_string()),
        }
    }
    fn opt(to: &mut Option<Cow<'static, str>>, from: &Option<Cow<'_, str>>) {
        match (to.as_mut(), from.as_deref()) {
            (Some(t), Some(f)) => text(t, f),
            (_, f) => *to = f.map(|f| Cow::Owned(f.to_string())),
        }
    }
    text(&mut slot.cache, &cs.cache);
    opt(&mut slot.fwd, &cs.fwd);
    slot.key = None;
    opt(&mut slot.detail, &cs.detail);
    slot.hit = cs.hit;
    slot.fwd_status = cs.fwd_status;
    slot.collapsed = cs.collapsed;
    slot.stored = cs.stored;
    slot.ttl = cs.ttl;
    slot.stored_set_cookie = cs.stored_set_cookie;
}

/// `cs` with owned strings and no key (the memo keeps the key apart).
fn owned_status(cs: &CacheStatus<'_>) -> CacheStatus<'static> {
    let own = |c: &Option<Cow<'_, str>>| c.as_deref().map(|s| Cow::Owned(s.to_string()));
    CacheStatus {
        cache: Cow::Owned(cs.cache.to_string()),
        hit: cs.hit,
        fwd: own(&cs.fwd),
        fwd_status: cs.fwd_status,
        collapsed: cs.collapsed,
        stored: cs.stored,
        ttl: cs.ttl,
        key: None,
        detail: own(&cs.detail),
        stored_set_cookie: cs.stored_set_cookie,
    }
}

fn own(st: &State, status: u16, body: &str, detail: &str) -> http::Response<ProxyBody> {
    if (400..500).contains(&status) {
        inc(&st.metrics.bad_requests);
    }
    let mut r = convert::text(status, body);
    if let Some(v) = write_cache_status(&CacheStatus::own(detail)) {
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
    wire: &Stored,
    key: &Arc<str>,
    age: u64,
    cs: CacheStatus<'_>,
    ttl: i64,
    x_cache: &'static str,
) -> http::Response<ProxyBody> {
    let mut r = http::Response::new(Either::Left(Full::new(wire.body())));
    *r.status_mut() = wire.status();
    let cs = CacheStatus {
        ttl: Some(ttl),
        key: Some(Cow::Borrowed(key)),
        stored_set_cookie: wire.set_cookie(),
        ..cs
    };
    let cs = keyed_status_value(&cs, key);
    *r.headers_mut() = hit_head::hit_headers(wire, age, cs, x_cache);
    r
}

/// A stored response as the client gets it: the core's [`edge::deliver`] answers the
/// client's own conditional (`304`) or byte `Range` (`206`/`416`) from it; otherwise the
/// stored wire form is sent unchanged.
fn serve_stored(
    core: &Request,
    wire: &Stored,
    served: &edge::Served,
    cs: CacheStatus<'_>,
    x_cache: &'static str,
) -> http::Response<ProxyBody> {
    let out = edge::deliver(core, &served.response);
    if Arc::ptr_eq(&out, &served.response) {
        return from_store(
            wire,
            &served.key,
            served.age_secs,
            cs,
            served.ttl_secs,
            x_cache,
        );
    }
    from_core(
        &out,
        served.age_secs,
        cs,
        served.ttl_secs,
        &served.key,
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
    key: &Arc<str>,
    x_cache: &'static str,
) -> http::Response<ProxyBody> {
    let mut r = convert::to_hyper(resp).map(Either::Left);
    let h = r.headers_mut();
    h.insert(header::AGE, age_value(age));
    let cs = CacheStatus {
        ttl: Some(ttl),
        key: Some(Cow::Borrowed(key)),
        ..cs
    };
    if let Some(v) = keyed_status_value(&cs, key) {
        h.append(CACHE_STATUS, v);
    }
    h.insert(X_CACHE, HeaderValue::from_static(x_cache));
    h.append(header::VIA, VIA);
    r
}

/// A forward with a stored candidate (stale, or refused by the request's own
/// directives), as the core's plan says: sent with the candidate's validators when it
/// revalidates (RFC 9111 §4.3.1); what the answer means is the core's
/// [`edge::ForwardPlan::complete`]: a `304` merged and stored (§4.3.4), a failed origin
/// answered with the stale entry (§4.2.4, RFC 5861 §4), a refetch, or a plain relay.
async fn revalidate(
    st: Arc<State>,
    parts: http::request::Parts,
    body: Incoming,
    core: Request,
    plan: ForwardPlan,
    stored: Stored,
    leader: Option<Leader>,
) -> http::Response<ProxyBody> {
    let validators = plan.validators();
    let method = upstream_method(&plan, &parts.method);
    // The profile's forwarding rule filters the viewer's fields; the validators are the
    // edge's own and reach the origin whatever it forwards (a CloudFront edge that keys
    // no conditional field still revalidates an expired object with them).
    let build = || {
        let empty = upstream::no_body();
        let mut r = upstream_request(&st, &method, &core.target, &parts.headers, empty).ok()?;
        if let Some(fields) = &validators {
            let h = r.headers_mut();
            for n in edge::decide::REPLACED_WHEN_VALIDATING {
                h.remove(n);
            }
            for (n, v) in fields {
                if let Ok(v) = HeaderValue::from_str(v) {
                    h.insert(HeaderName::from_static(n), v);
                }
            }
        }
        Some(r)
    };
    let Some(up_req) = build() else {
        let plain = plan.without_candidate();
        return forward(st, parts, body, core, plain, leader).await;
    };
    let sent = upstream::send(&st.client, up_req, st.cfg.upstream_timeout, build).await;
    let now = clock::now();
    let resp = match sent {
        Ok(r) => r,
        Err(f) => {
            return match plan.complete(&st.knobs, None, now) {
                Completion::ServeStale { served, detail } => {
                    serve_stale(&st, &core, &served, &stored, detail)
                }
                _ => fault(&st, &f, plan.fwd),
            }
        }
    };
    let mut rh = resp.headers().clone();
    upstream::strip_hop_by_hop(&mut rh);
    let head = Response::new(resp.status().as_u16(), names::core_headers(&rh));
    match plan.complete(&st.knobs, Some(&head), now) {
        Completion::Relay | Completion::Failed => relay(st, core, plan, leader, resp).await,
        Completion::Freshened(fresh) => {
            drain(&st, resp);
            freshened(&st, &parts, &core, &plan, fresh, &stored, now, leader)
        }
        Completion::ServeStale { served, detail } => {
            drain(&st, resp);
            serve_stale(&st, &core, &served, &stored, detail)
        }
        Completion::Refetch => {
            // a 304 for something else than what is stored: fetch it whole
            drain(&st, resp);
            let plain = plan.without_candidate();
            forward(st, parts, body, core, plain, leader).await
        }
    }
}

/// Reads and drops an upstream body in the background, so its connection is reused.
fn drain(st: &Arc<State>, resp: http::Response<Incoming>) {
    let (limit, idle) = (st.cfg.max_object(), st.cfg.upstream_timeout);
    tokio::spawn(async move {
        let _ = read_whole(resp.into_body(), limit, idle).await;
    });
}

/// Serves the stale candidate (`served`) because the origin failed (`why`: the RFC 9211
/// detail the core gave).
fn serve_stale(
    st: &State,
    core: &Request,
    served: &edge::Served,
    stored: &Stored,
    why: &str,
) -> http::Response<ProxyBody> {
    inc(&st.metrics.stale);
    let cs = CacheStatus {
        detail: Some(Cow::Borrowed(why)),
        ..CacheStatus::hit(false)
    };
    serve_stored(core, stored, served, cs, "HIT")
}

/// A `304` freshened the stored response: store the merged copy in its place (as the
/// plan offers it), hand it to any waiters, and serve it (answering the client's own
/// conditional or range from it).
#[allow(clippy::too_many_arguments)]
fn freshened(
    st: &Arc<State>,
    parts: &http::request::Parts,
    core: &Request,
    plan: &ForwardPlan,
    fresh: Arc<Response>,
    stored: &Stored,
    now: crate::time::Timestamp,
    leader: Option<Leader>,
) -> http::Response<ProxyBody> {
    let tag = st.tags.fetch_add(1, Ordering::Relaxed);
    // the entry keeps its author (and its URL, which the new variant shares when equal)
    let by = stored.renumbered(tag);
    let wire_resp = convert::to_hyper(&fresh);
    // a HEAD revalidated with GET ([`upstream_method`]) freshens the GET's entry
    let as_get;
    let stored_for = if plan.as_get && core.method == "HEAD" {
        as_get = Request {
            method: http::Method::GET.to_string(),
            ..core.clone()
        };
        &as_get
    } else {
        core
    };
    let mut made = plan
        .offer(&st.knobs, stored_for, fresh.clone(), now, tag)
        .and_then(Result::ok);
    if let Some(v) = made.as_mut().filter(|v| *v.url == **by.url()) {
        v.url = by.url().clone();
    }
    let full: Arc<str> = made
        .as_ref()
        .map_or_else(|| Arc::from(plan.key.as_str()), |v| v.key.clone());
    let Some(wire) =
        Wire::new(wire_resp.status(), wire_resp.headers(), &fresh.body, by).map(Arc::new)
    else {
        // a block its record format cannot hold (never under hyper's head limits): not
        // stored, and any waiters fetch for themselves
        let plain = CacheStatus::forward(plan.fwd);
        return from_core(
            &edge::deliver(core, &fresh),
            0,
            plain,
            0,
            &full,
            "REVALIDATED",
        );
    };
    let mut cs = CacheStatus {
        fwd_status: Some(304),
        ..CacheStatus::forward(plan.fwd)
    };
    let (mut age, mut ttl) = (0, 0);
    if let Some(v) = &made {
        let served = edge::served_from(v, now);
        (age, ttl) = (served.age_secs, served.ttl_secs);
        st.store
            .insert(&plan.key, stored_for, v.clone(), wire.clone());
        inc(&st.metrics.stores);
        cs.stored = true;
    }
    judge_served(st, parts, core, &fresh, &wire, &full, now);
    let out = edge::deliver(core, &fresh);
    let r = from_core(&out, age, cs, ttl, &full, "REVALIDATED");
    if let Some(l) = leader {
        l.finish(Some(Arc::new(Shared {
            response: fresh,
            wire,
            variant: made,
        })));
    }
    r
}

/// Warns (once per stored entry) that a stored `Set-Cookie` is being replayed to
/// another request: the session leak the profile's rule allows.
fn warn_set_cookie(st: &State, stored: &Stored, key: &str, core: &Request) {
    if !stored.set_cookie() || st.set_cookie_warned.contains_key(&stored.tag()) {
        return;
    }
    st.set_cookie_warned.insert(stored.tag(), ());
    inc(&st.metrics.set_cookie_replayed);
    crate::net::log::warning!(
        "varyedge: stored Set-Cookie replayed: {} {} got the Set-Cookie stored by {} (key {}); the {} profile stores responses with Set-Cookie",
        core.method,
        core.target,
        stored.request(),
        sf_string(key),
        st.cfg.profile
    );
}

/// One request through the edge: the core decides ([`Store::decide`] asks
/// [`edge::decide`]); this drives the decision.
async fn proxy(st: Arc<State>, req: http::Request<Incoming>) -> http::Response<ProxyBody> {
    match begin(&st, req) {
        Step::Done(r) => r,
        Step::Forward(p) => p.run(st).await,
    }
}

/// How far [`begin`] got.
// the large variant is the common one (every hit): boxing it would allocate per hit
#[allow(clippy::large_enum_variant)]
enum Step {
    Done(http::Response<ProxyBody>),
    Forward(Box<Pending>),
}

/// A forward the core planned, not started yet.
struct Pending {
    parts: http::request::Parts,
    body: Incoming,
    core: Request,
    plan: ForwardPlan,
    stored: Option<Stored>,
}

impl Pending {
    async fn run(self, st: Arc<State>) -> http::Response<ProxyBody> {
        let Pending {
            parts,
            body,
            core,
            plan,
            stored,
        } = self;
        // boxed: the forward's state (an upstream exchange, a relay) is far larger than
        // what awaits it
        Box::pin(forward_plan(st, parts, body, core, plan, stored)).await
    }
}

/// The core's decision on a request, and the answer when it needs no upstream (a hit,
/// `only-if-cached`, a refusal); a forward is left to [`Pending::run`].
fn begin(st: &Arc<State>, req: http::Request<Incoming>) -> Step {
    let (parts, body) = req.into_parts();
    let core = match admit(st, &parts) {
        Ok(core) => core,
        Err(refused) => return Step::Done(*refused),
    };
    let now = clock::now();
    match st.store.decide(&core, now) {
        Decided::Serve(s, stored) => {
            let r = serve_hit(st, &parts, &core, s, &stored, now);
            // the request's buffers serve the next request on this thread
            convert::recycle(core);
            Step::Done(r)
        }
        Decided::OnlyIfCached => Step::Done(own(
            st,
            504,
            "varyedge proxy: only-if-cached and not stored\n",
            "only-if-cached",
        )),
        Decided::Forward(plan, stored) => Step::Forward(Box::new(Pending {
            parts,
            body,
            core,
            plan,
            stored,
        })),
    }
}

/// The proxy's own answer to a request it does not take.
type Refused = Box<http::Response<ProxyBody>>;

/// The core's view of a request the proxy takes at all, or the proxy's own refusal
/// (`CONNECT`, a declared body over the limit, a head the core cannot read).
fn admit(st: &State, parts: &http::request::Parts) -> Result<Request, Refused> {
    if parts.method == http::Method::CONNECT {
        let mut r = own(
            st,
            405,
            "varyedge proxy: CONNECT is not supported (this is a reverse proxy)\n",
            "method",
        );
        // RFC 9110 §15.5.6: a 405 "MUST generate an Allow header field"
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
        return Err(Box::new(r));
    }
    let too_long = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > st.cfg.max_request_body);
    if too_long {
        return Err(Box::new(own(
            st,
            413,
            "varyedge proxy: request body too large\n",
            "request-too-large",
        )));
    }
    convert::pooled_request(parts, "http").map_err(|e| {
        Box::new(own(
            st,
            400,
            &format!("varyedge proxy: {e}\n"),
            "bad-request",
        ))
    })
}

/// A stored response the core chose (`hit`, or `stale` with its background refresh).
fn serve_hit(
    st: &Arc<State>,
    parts: &http::request::Parts,
    core: &Request,
    s: edge::Serve,
    stored: &Stored,
    now: crate::time::Timestamp,
) -> http::Response<ProxyBody> {
    match s.refresh {
        Some(plan) => {
            inc(&st.metrics.stale);
            refresh(st, parts, core, plan);
        }
        None => inc(&st.metrics.hits),
    }
    let served = &s.served;
    judge_served(st, parts, core, &served.response, stored, &served.key, now);
    warn_set_cookie(st, stored, &served.key, core);
    let cs = CacheStatus::from_outcome(s.outcome, Fwd::UriMiss);
    serve_stored(core, stored, served, cs, "HIT")
}

/// A forward as the core planned it: a pass; else joining the in-flight table when the
/// plan says so (leading the fetch, or waiting and taking its response where
/// [`edge::decide::share`] allows); then a revalidation of the plan's candidate or a plain
/// forward.
async fn forward_plan(
    st: Arc<State>,
    parts: http::request::Parts,
    body: Incoming,
    core: Request,
    plan: ForwardPlan,
    stored: Option<Stored>,
) -> http::Response<ProxyBody> {
    if plan.pass {
        inc(&st.metrics.passes);
        return forward(st, parts, body, core, plan, None).await;
    }
    let mut leader = None;
    if plan.join {
        match st.inflight.join(&plan.key) {
            // HEAD responses have no body to share: a HEAD leads only when it is
            // fetched as GET
            Join::Lead(l) if core.method != "HEAD" || plan.as_get => leader = Some(l),
            Join::Lead(_) => {}
            Join::Wait(w) => {
                if let Some(r) = collapsed(&st, &parts, &core, &plan, w).await {
                    return r;
                }
            }
        }
    }
    inc(&st.metrics.misses);
    match stored {
        Some(stored) => revalidate(st, parts, body, core, plan, stored, leader).await,
        None => forward(st, parts, body, core, plan, leader).await,
    }
}

/// Waits on the fetch in flight for the plan's key; the waiter's answer when the core
/// lets it take the leader's response, else `None` (it fetches for itself).
async fn collapsed(
    st: &Arc<State>,
    parts: &http::request::Parts,
    core: &Request,
    plan: &ForwardPlan,
    w: super::collapse::Waiter,
) -> Option<http::Response<ProxyBody>> {
    let sh = w.wait(st.cfg.upstream_timeout * 2).await?;
    let variant = sh.variant.as_ref();
    let s = edge::decide::share(
        &st.knobs,
        &plan.key,
        &sh.response,
        variant,
        sh.wire.tag(),
        core,
    )?;
    inc(&st.metrics.collapsed);
    let cs = CacheStatus::from_outcome(s.outcome, plan.fwd);
    let served = &s.served;
    judge_served(
        st,
        parts,
        core,
        &served.response,
        &sh.wire,
        &served.key,
        clock::now(),
    );
    Some(from_store(
        &sh.wire,
        &served.key,
        0,
        cs,
        served.ttl_secs,
        "MISS",
    ))
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
    let up = &st.cfg.upstream;
    let uri = upstream_uri(
        st.upstream_authority.as_ref(),
        &up.authority,
        &up.prefix,
        target,
    )?;
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
    framing::next_max_forwards(method, &mut h);
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

/// `http://` + the upstream's authority and path prefix + `target`. Put together from
/// its parts (the authority parsed once) rather than written out and parsed whole per
/// request; the same URI either way. Anything the parts refuse goes through the whole
/// parse, for its error.
fn upstream_uri(
    parsed: Option<&http::uri::Authority>,
    authority: &str,
    prefix: &str,
    target: &str,
) -> Result<http::Uri, String> {
    let pq = if prefix.is_empty() {
        http::uri::PathAndQuery::try_from(target).ok()
    } else {
        http::uri::PathAndQuery::try_from(format!("{prefix}{target}")).ok()
    };
    // a target that is a path (or a query), so that the whole form splits there
    let split = target.starts_with('/') || target.starts_with('?');
    let parts = parsed.cloned().zip(pq).filter(|_| split);
    if let Some((authority, pq)) = parts {
        let mut p = http::uri::Parts::default();
        p.scheme = Some(http::uri::Scheme::HTTP);
        p.authority = Some(authority);
        p.path_and_query = Some(pq);
        if let Ok(u) = http::Uri::from_parts(p) {
            return Ok(u);
        }
    }
    let whole = format!("http://{authority}{prefix}{target}");
    http::Uri::try_from(whole).map_err(|e| e.to_string())
}

/// Sends the client's request upstream as `plan` says and relays the answer.
async fn forward(
    st: Arc<State>,
    parts: http::request::Parts,
    body: Incoming,
    core: Request,
    plan: ForwardPlan,
    leader: Option<Leader>,
) -> http::Response<ProxyBody> {
    let target = core.target.as_str();
    // No body, or a small one held whole for an idempotent method: `upstream::send` may
    // send the request again if a pooled connection turns out closed. Others stream.
    // (most requests have none: they skip the future that reads one)
    let up_body = if hyper::body::Body::is_end_stream(&body) {
        upstream::no_body()
    } else {
        let (max, wait) = (st.cfg.max_request_body, st.cfg.upstream_timeout);
        match upstream::take_body(&parts.method, body, max, wait).await {
            Ok(b) => b,
            Err(f) => return fault(&st, &f, plan.fwd),
        }
    };
    let held = match &up_body {
        Either::Right(b) => Some(b.clone()),
        Either::Left(_) => None,
    };
    let method = upstream_method(&plan, &parts.method);
    let up_req = match upstream_request(&st, &method, target, &parts.headers, up_body) {
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
    // a retry (a request with no body or a held one, whose pooled connection closed) is
    // built again
    let again = || {
        let body = Either::Right(held.clone()?);
        upstream_request(&st, &method, target, &parts.headers, body).ok()
    };
    let sent = upstream::send(&st.client, up_req, st.cfg.upstream_timeout, again).await;
    match sent {
        Ok(r) => relay(st, core, plan, leader, r).await,
        Err(f) => fault(&st, &f, plan.fwd),
    }
}

/// The method sent upstream: the client's, or `GET` for a `HEAD` miss the profile fetches
/// as `GET` ([`edge::ForwardPlan::as_get`]: Varnish sends `GET` for a `HEAD` miss,
/// nginx's `proxy_cache_convert_head`), so that there is a whole response to store.
fn upstream_method(plan: &ForwardPlan, client: &http::Method) -> http::Method {
    if plan.as_get && client == http::Method::HEAD {
        http::Method::GET
    } else {
        client.clone()
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
        upstream::Fault::RequestTimeout(_) => "request-timeout",
    };
    let mut r = own(st, status, &text, detail);
    if status >= 500 {
        // say it went forward, and why
        let cs = CacheStatus {
            detail: Some(Cow::Borrowed(detail)),
            ..CacheStatus::forward(fwd)
        };
        if let Some(v) = write_cache_status(&cs) {
            r.headers_mut().insert(CACHE_STATUS, v);
        }
    }
    r
}

/// Streams an upstream response to the client and, when the core says so
/// ([`edge::ForwardPlan::offer`]), stores it; an answer that invalidates stored
/// responses drops them ([`edge::ForwardPlan::invalidates`], RFC 9111 §4.4).
async fn relay(
    st: Arc<State>,
    mut core: Request,
    plan: ForwardPlan,
    leader: Option<Leader>,
    resp: http::Response<Incoming>,
) -> http::Response<ProxyBody> {
    // a HEAD fetched as GET: the answer is a GET's, stored as one; the client gets its
    // head only
    let head_only = plan.as_get && core.method == "HEAD";
    if head_only {
        core.method = http::Method::GET.to_string();
    }
    let tag = st.tags.fetch_add(1, Ordering::Relaxed);
    let (mut rparts, rbody) = resp.into_parts();
    if let Err(bad) = framing::upstream_framing(&rparts.headers) {
        return bad_upstream(&st, plan.fwd, bad.text());
    }
    if rparts.status == http::StatusCode::SWITCHING_PROTOCOLS {
        // the proxy removes `Upgrade` (hop-by-hop) and never asks to switch: RFC 9110
        // §15.2.2, a server "MUST NOT switch to a protocol that was not indicated by the
        // client"; relayed, it reached the client without the Upgrade field a 101 must
        // carry (§7.8), on a connection that then carried nothing
        return bad_upstream(&st, plan.fwd, UNASKED_SWITCH);
    }
    upstream::strip_hop_by_hop(&mut rparts.headers);
    framing::single_length(&mut rparts.headers);
    // RFC 9110 §2.5: an intermediary sends its own version, not the upstream's (an
    // HTTP/1.0 upstream's status line is not relayed as such)
    rparts.version = http::Version::HTTP_11;
    let now = clock::now();
    framing::date_if_missing(&mut rparts.headers, now);
    // each field's name and value are looked up once, for the core's view and for the
    // stored block
    let mut codes = Vec::new();
    let head = Arc::new(Response::new(
        rparts.status.as_u16(),
        names::core_headers_coded(&rparts.headers, &mut codes),
    ));
    st.store.invalidate(
        &plan.invalidates(&st.knobs, &core, head.status, &head.headers),
        &st.knobs,
        &core,
    );
    let made = plan.offer(&st.knobs, &core, head.clone(), now, tag);
    // the per-object limit counts the stored header block too, not only the body
    let limit = st
        .cfg
        .max_object()
        .saturating_sub(framing::headers_heap_size(&rparts.headers));
    let bound = framing::read_ahead_bound(matches!(made, Some(Ok(_))), limit, READ_AHEAD);
    let (prefix, rbody) = match ahead(&st, rbody, bound).await {
        Ok(p) => p,
        Err(e) => return bad_upstream(&st, plan.fwd, &e),
    };
    let made = offer_with_prefix(&st.knobs, &plan, &core, &head, made, &prefix, now, tag);
    let storable = matches!(made, Some(Ok(_)));
    let length = match &rbody {
        None => Some(prefix.len() as u64),
        Some(b) => b.size_hint().exact().map(|n| n + prefix.len() as u64),
    };
    let fits = prefix.len() <= limit && length.is_none_or(|n| n as usize <= limit);
    let cs = forwarded_status(
        &st,
        &plan,
        rparts.status.as_u16(),
        &made,
        fits,
        length.is_some(),
        now,
    );
    let keep = fits && (storable || leader.is_some());
    // the stored block, made before the proxy's own fields are added (it was a copy of
    // the whole map, looked up again field by field at completion)
    let wire = keep
        .then(|| Head::coded(rparts.status, &rparts.headers, &codes))
        .flatten();
    if let Some(v) = write_cache_status(&cs) {
        rparts.headers.append(CACHE_STATUS, v);
    }
    let x_cache = if plan.pass { "PASS" } else { "MISS" };
    rparts
        .headers
        .insert(X_CACHE, HeaderValue::from_static(x_cache));
    rparts.headers.append(header::VIA, VIA);
    // the offer's variant shares `head`; once it is gone `head` is ours again, and is
    // moved into the completion rather than copied
    drop(made);
    let head = Arc::try_unwrap(head).unwrap_or_else(|shared| Response::clone(&shared));
    let on_end = completion(&st, plan, core, head, wire, tag, leader, storable, fits);
    let rbody = match rbody {
        Some(b) if !b.is_end_stream() => b,
        _ => {
            // all of it is here: complete now, so that an empty body is stored too
            on_end(Ended::Whole(keep.then(|| prefix.clone())));
            return http::Response::from_parts(rparts, Either::Left(Full::new(prefix)));
        }
    };
    let tee = TeeBody::new(prefix, rbody, keep, limit, st.cfg.upstream_timeout, on_end);
    if head_only {
        // hyper sends no body to a HEAD and drops the one it is given unread: the body
        // to store is read here, in the background, while the client has its head
        // (with the upstream's Content-Length, if it sent one); one that will not be
        // stored is not read at all (dropping it closes that upstream connection)
        if keep {
            tokio::spawn(async move {
                let _ = tee.collect().await;
            });
        }
        return http::Response::from_parts(rparts, Either::Left(Full::new(Bytes::new())));
    }
    http::Response::from_parts(rparts, Either::Right(tee))
}

/// The core's offer made again once the first bytes of a body of unstated length are
/// here, where the head alone could not settle it: Squid keeps an answer with no
/// lifetime unless its `Content-Length` says 0 (`store_stale`, refresh.cc
/// `refreshIsCachable`), and the core, asked on a head without one, takes the empty body
/// it holds for an empty answer. A chunked answer whose first bytes have come is not
/// empty. (An empty chunked answer stays unstored; Squid, which reads only the field,
/// would keep it.)
#[allow(clippy::too_many_arguments)]
fn offer_with_prefix(
    knobs: &Knobs,
    plan: &ForwardPlan,
    core: &Request,
    head: &Response,
    made: Option<Result<edge::Variant, edge::NoStore>>,
    prefix: &Bytes,
    now: crate::time::Timestamp,
    tag: Tag,
) -> Option<Result<edge::Variant, edge::NoStore>> {
    match made {
        Some(Err(edge::NoStore::NoFreshness)) if knobs.store_stale && !prefix.is_empty() => {
            let held = Arc::new(Response {
                status: head.status,
                headers: head.headers.clone(),
                body: Arc::from(&prefix[..]),
            });
            plan.offer(knobs, core, held, now, tag)
        }
        made => made,
    }
}

/// The client's 502 text for an upstream 101.
const UNASKED_SWITCH: &str =
    "varyedge proxy: upstream error: 101 Switching Protocols to a request that asked for no upgrade (RFC 9110 §15.2.2)\n";

/// What runs when a relayed body ends: a whole body goes to [`finish`] (stored as the
/// core offers it, handed to waiters); a cut or oversized one is only counted.
#[allow(clippy::too_many_arguments)]
fn completion(
    st: &Arc<State>,
    plan: ForwardPlan,
    core: Request,
    head: Response,
    wire: Option<Head>,
    tag: Tag,
    leader: Option<Leader>,
    storable: bool,
    fits: bool,
) -> upstream::OnEnd {
    let st = st.clone();
    Box::new(move |ended| {
        let body = match ended {
            Ended::Whole(Some(b)) => b,
            Ended::Whole(None) => {
                if storable && fits {
                    inc(&st.metrics.too_large);
                }
                return;
            }
            Ended::Broken => {
                if storable {
                    inc(&st.metrics.incomplete);
                }
                return;
            }
        };
        // a block its record format cannot hold (never under hyper's head limits): not
        // stored, and the waiters fetch for themselves
        let Some(wire) = wire else { return };
        let done = Fetched {
            head,
            wire,
            body,
            tag,
        };
        finish(&st, &plan, &core, done, leader);
    })
}

/// Our `Cache-Status` member for a forwarded answer with `status`: `stored` exactly
/// when the core offered it for storage (`made`) and it arrives whole within the size
/// limit (`fits`, `whole`: its length is known); else why not.
fn forwarded_status<'a>(
    st: &State,
    plan: &'a ForwardPlan,
    status: u16,
    made: &'a Option<Result<edge::Variant, edge::NoStore>>,
    fits: bool,
    whole: bool,
    now: crate::time::Timestamp,
) -> CacheStatus<'a> {
    let mut cs = CacheStatus {
        fwd_status: Some(status),
        ..CacheStatus::forward(plan.fwd)
    };
    match made {
        Some(Ok(v)) if fits && whole => {
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
            cs.key = Some(Cow::Borrowed(&plan.key));
            cs.detail = Some(Cow::Borrowed(ns.id()));
        }
        None => {}
    }
    cs
}

/// A forwarded answer that arrived whole: its head in the core's form, its stored
/// status and header block, its body and the number of the request that asked for it.
struct Fetched {
    head: Response,
    wire: Head,
    body: Bytes,
    tag: Tag,
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

/// A forwarded response arrived whole: store it if the core says so (offered again at
/// completion time, with the body), and hand it to the requests that waited on it.
fn finish(st: &State, plan: &ForwardPlan, core: &Request, done: Fetched, leader: Option<Leader>) {
    let Fetched {
        head,
        wire,
        body,
        tag,
    } = done;
    let response = Arc::new(Response {
        status: head.status,
        headers: head.headers,
        body: Arc::from(&body[..]),
    });
    let variant = plan
        .offer(&st.knobs, core, response.clone(), clock::now(), tag)
        .and_then(Result::ok);
    let wire = if variant
        .as_ref()
        .is_some_and(|v| !edge::replays_set_cookie(&v.response))
    {
        // the profile strips Set-Cookie from what it stores
        wire.without_set_cookie()
    } else {
        Some(wire)
    };
    let by = StoredBy::new(core, tag, variant.as_ref().map(|v| &v.url));
    let Some(wire) = wire
        .and_then(|h| Wire::from_head(h, &response.body, by))
        .map(Arc::new)
    else {
        // a block its record format cannot hold (never under hyper's head limits): not
        // stored, and the waiters fetch for themselves
        return;
    };
    drop(body);
    if let Some(v) = &variant {
        let evicted = st.store.insert(&plan.key, core, v.clone(), wire.clone());
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
        })));
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

/// RFC 5861 `stale-while-revalidate`: the stale response was served; run the core's
/// refresh plan in the background (one at a time per key: the in-flight table) and store
/// what comes back. A `HEAD` refreshes with `GET`, to have a body to store.
fn refresh(st: &Arc<State>, parts: &http::request::Parts, core: &Request, plan: ForwardPlan) {
    let Some(leader) = st.inflight.try_lead(&plan.key) else {
        return;
    };
    let method = if parts.method == http::Method::HEAD {
        http::Method::GET
    } else {
        parts.method.clone()
    };
    let empty = upstream::no_body();
    let Ok(req) = upstream_request(st, &method, &core.target, &parts.headers, empty) else {
        return;
    };
    let (st, mut core) = (st.clone(), core.clone());
    core.method = method.to_string();
    tokio::spawn(async move {
        let Ok(resp) = upstream::send_copying(&st.client, req, st.cfg.upstream_timeout).await
        else {
            return;
        };
        let (mut rparts, rbody) = resp.into_parts();
        if framing::upstream_framing(&rparts.headers).is_err() {
            return;
        }
        upstream::strip_hop_by_hop(&mut rparts.headers);
        framing::single_length(&mut rparts.headers);
        framing::date_if_missing(&mut rparts.headers, clock::now());
        let Some(body) = read_whole(rbody, st.cfg.max_object(), st.cfg.upstream_timeout).await
        else {
            return;
        };
        let tag = st.tags.fetch_add(1, Ordering::Relaxed);
        let mut codes = Vec::new();
        let h = names::core_headers_coded(&rparts.headers, &mut codes);
        let head = Response::new(rparts.status.as_u16(), h);
        let Some(wire) = Head::coded(rparts.status, &rparts.headers, &codes) else {
            return;
        };
        let done = Fetched {
            head,
            wire,
            body,
            tag,
        };
        finish(&st, &plan, &core, done, Some(leader));
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
    stored: &Stored,
    full_key: &str,
    now: crate::time::Timestamp,
) {
    // the entry's own viewer (same Origin, same credentials) has nothing to compare
    let Some((origin, include)) = judge::viewer_of(core) else {
        return;
    };
    if stored.made_for(origin, include) {
        return;
    }
    let Some(j) = judge::fetch_of(core) else {
        return;
    };
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
    let cell = st.verdicts.get_with(
        (stored.tag(), j.fetch.origin.clone(), include, shape),
        || Arc::new(OnceCell::new()),
    );
    let seen = Seen {
        request: format!("{} {}", core.method, core.target),
        stored: stored.clone(),
        full_key: full_key.to_string(),
        served: served_v,
    };
    match cell.get() {
        // the upstream's answer for this entry and this Origin is known already
        Some(direct) => {
            if let Some(direct) = *direct {
                report(st, &j.fetch.origin, &seen, direct);
            }
        }
        None => ask_upstream(st, parts, core, j, cell, seen),
    }
}

/// What a judged request was served: its `METHOD target`, the stored entry's author and
/// key, and the verdict on it.
struct Seen {
    request: String,
    stored: Stored,
    full_key: String,
    served: crate::browser::Verdict,
}

/// Asks the upstream, in the background and once per verdict cell, what it answers to
/// this very request, then reports a cache-induced difference.
fn ask_upstream(
    st: &Arc<State>,
    parts: &http::request::Parts,
    core: &Request,
    j: judge::Judged,
    cell: VerdictCell,
    seen: Seen,
) {
    let empty = upstream::no_body();
    let Ok(req) = direct_request(st, &parts.method, &core.target, &parts.headers, empty) else {
        return;
    };
    let st = st.clone();
    tokio::spawn(async move {
        let direct = *cell
            .get_or_init(|| async {
                inc(&st.metrics.judge_fetches);
                let resp = upstream::send_copying(&st.client, req, st.cfg.upstream_timeout)
                    .await
                    .ok()?;
                let (rparts, rbody) = resp.into_parts();
                // read it (bounded) so the pooled connection is reused; the verdict
                // needs only the head
                let _ = read_whole(rbody, st.cfg.max_object(), st.cfg.upstream_timeout).await;
                let h = convert::headers_lossy(&rparts.headers);
                let head = Response::new(rparts.status.as_u16(), h);
                Some(judge::outcome(&judge::verdict(&j, &head, clock::now())))
            })
            .await;
        if let Some(direct) = direct {
            report(&st, &j.fetch.origin, &seen, direct);
        }
    });
}

/// Counts and prints one cache-induced difference (nothing when the verdicts agree).
fn report(st: &State, origin: &str, seen: &Seen, direct: (bool, crate::browser::Reason)) {
    let Seen {
        request,
        stored,
        full_key,
        served,
    } = seen;
    if direct == judge::outcome(served) {
        return;
    }
    inc(&st.metrics.cache_induced);
    let stored = match stored.origin() {
        Some(o) => format!("{} from {o}", stored.request()),
        None => format!("{} without Origin", stored.request()),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(key: &str, ttl: i64) -> CacheStatus<'_> {
        CacheStatus {
            ttl: Some(ttl),
            key: Some(Cow::Borrowed(key)),
            ..CacheStatus::hit(false)
        }
    }

    /// A hit's member for `key`, through the memo.
    fn memo(cs: &CacheStatus<'_>, key: &Arc<str>) -> Option<HeaderValue> {
        keyed_status_value(cs, key)
    }

    #[test]
    fn the_memoised_cache_status_is_the_written_one() {
        let keys: Vec<Arc<str>> = (0..1000)
            .map(|i| Arc::from(format!("GET http://h/vary/{} o{}", i % 7, i)))
            .collect();
        // twice over, so the second pass reads what the first one memoised
        for _ in 0..2 {
            for (i, k) in keys.iter().enumerate() {
                let mut cs = hit(k, (i % 3) as i64 - 1);
                cs.stored_set_cookie = i % 5 == 0;
                if i % 11 == 0 {
                    cs.detail = Some(Cow::Borrowed("stale-while-revalidate"));
                }
                assert_eq!(memo(&cs, k), write_cache_status(&cs), "{cs:?}");
            }
        }
    }

    #[test]
    fn a_member_differing_in_any_field_is_written_anew() {
        let (x, y): (Arc<str>, Arc<str>) =
            (Arc::from("GET http://h/x"), Arc::from("GET http://h/y"));
        let base = hit(&x, 5);
        let v = memo(&base, &x);
        assert_eq!(v, write_cache_status(&base));
        let others = [
            (hit(&x, 4), &x),
            (hit(&y, 5), &y),
            (
                CacheStatus {
                    stored_set_cookie: true,
                    ..hit(&x, 5)
                },
                &x,
            ),
            (
                CacheStatus {
                    detail: Some(Cow::Borrowed("stale-while-revalidate")),
                    ..hit(&x, 5)
                },
                &x,
            ),
            (
                CacheStatus {
                    cache: Cow::Borrowed("other"),
                    ..hit(&x, 5)
                },
                &x,
            ),
            (
                CacheStatus {
                    collapsed: true,
                    ..hit(&x, 5)
                },
                &x,
            ),
            (
                CacheStatus {
                    fwd: Some(Cow::Borrowed("stale")),
                    fwd_status: Some(200),
                    ..hit(&x, 5)
                },
                &x,
            ),
            (
                CacheStatus {
                    stored: true,
                    ..hit(&x, 5)
                },
                &x,
            ),
        ];
        for (o, k) in &others {
            let w = memo(o, k);
            assert_eq!(w, write_cache_status(o));
            assert_ne!(w, v, "{o:?}");
            // and the first member is still answered right after
            assert_eq!(memo(&base, &x), v);
        }
    }

    /// Each field but the key tells two members apart.
    #[test]
    fn same_but_key_compares_every_other_field() {
        let base = hit("GET http://h/x", 5);
        assert!(same_but_key(&base, &hit("GET http://h/other", 5)));
        let differing = [
            CacheStatus {
                cache: Cow::Borrowed("other"),
                ..base.clone()
            },
            CacheStatus {
                hit: false,
                ..base.clone()
            },
            CacheStatus {
                fwd: Some(Cow::Borrowed("stale")),
                ..base.clone()
            },
            CacheStatus {
                fwd_status: Some(304),
                ..base.clone()
            },
            CacheStatus {
                collapsed: true,
                ..base.clone()
            },
            CacheStatus {
                stored: true,
                ..base.clone()
            },
            CacheStatus {
                ttl: Some(4),
                ..base.clone()
            },
            CacheStatus {
                detail: Some(Cow::Borrowed("d")),
                ..base.clone()
            },
            CacheStatus {
                stored_set_cookie: true,
                ..base.clone()
            },
        ];
        for d in &differing {
            assert!(!same_but_key(&base, d), "{d:?}");
            assert!(!same_but_key(d, &base), "{d:?}");
        }
    }

    /// The memo holds the key of each member it keeps, so the address it finds a member
    /// by cannot be taken by another key while the member is kept: a key the store
    /// dropped is not mistaken for a new one.
    #[test]
    fn the_memo_holds_its_keys() {
        let a: Arc<str> = Arc::from("GET http://h/vary/1 [origin=\"https://a.example\"]");
        let first = memo(&hit(&a, 7), &a);
        assert_eq!(first, write_cache_status(&hit(&a, 7)));
        assert_eq!(Arc::strong_count(&a), 2, "the memo keeps the key");
        drop(a);
        let b: Arc<str> = Arc::from("GET http://h/vary/1 [origin=\"https://b.example\"]");
        let second = memo(&hit(&b, 7), &b);
        assert_eq!(second, write_cache_status(&hit(&b, 7)));
        assert_ne!(second, first);
    }

    /// A member with a key longer than the memo takes is written, not remembered.
    #[test]
    fn long_keys_are_not_remembered() {
        let held = || CS_MEMO.with(|m| m.borrow().members.len());
        let before = held();
        let long: Arc<str> = Arc::from(format!("GET http://h/{}", "x".repeat(CS_MEMO_KEY_MAX)));
        let cs = hit(&long, 3);
        assert_eq!(memo(&cs, &long), write_cache_status(&cs));
        assert_eq!(held(), before);
        assert_eq!(Arc::strong_count(&long), 1);
        let edge: Arc<str> = Arc::from("y".repeat(CS_MEMO_KEY_MAX));
        let cs = hit(&edge, 3);
        assert_eq!(memo(&cs, &edge), write_cache_status(&cs));
        assert_eq!(
            held(),
            before + 1,
            "a key of exactly the bound is remembered"
        );
    }

    /// Members that are not hits are written, not remembered.
    #[test]
    fn only_hits_are_remembered() {
        let held = || CS_MEMO.with(|m| m.borrow().members.len());
        let before = held();
        let k: Arc<str> = Arc::from("GET http://h/stale");
        let cs = CacheStatus {
            ttl: Some(-3),
            key: Some(Cow::Borrowed(&k)),
            ..CacheStatus::forward(Fwd::Stale)
        };
        assert_eq!(memo(&cs, &k), write_cache_status(&cs));
        assert_eq!(held(), before);
    }

    /// The memo never holds more than its bound: once full it starts again.
    #[test]
    fn the_memo_is_bounded() {
        let keys: Vec<Arc<str>> = (0..CS_MEMO_MAX + 10)
            .map(|i| Arc::from(format!("GET /k{i}")))
            .collect();
        for (i, k) in keys.iter().enumerate() {
            let cs = hit(k, 1);
            assert_eq!(memo(&cs, k), write_cache_status(&cs));
            let held = CS_MEMO.with(|m| m.borrow().members.len());
            assert!(held <= CS_MEMO_MAX, "{held} held");
            assert!(
                held >= 1 && (i < CS_MEMO_MAX) == (held == i + 1),
                "{held} after {i}"
            );
        }
    }

    /// Long keys (a preflight's) are remembered, and the memo's bytes stay within
    /// their bound: once the next member would pass it, the memo starts again.
    #[test]
    fn the_memo_is_bounded_in_bytes() {
        let members = || CS_MEMO.with(|m| m.borrow().members.len());
        let bytes = || CS_MEMO.with(|m| m.borrow().bytes);
        let keys: Vec<Arc<str>> = (0..2 * CS_MEMO_BYTES / 2048)
            .map(|i| Arc::from(format!("OPTIONS http://h/pf/{i} {}", "o".repeat(1000))))
            .collect();
        let first = hit(&keys[0], 1);
        assert_eq!(memo(&first, &keys[0]), write_cache_status(&first));
        let one = bytes();
        assert!(one > 2000 && one < 2000 + 2 * CS_MEMBER_FIXED, "{one}");
        let mut cleared = false;
        for (i, k) in keys.iter().enumerate().skip(1) {
            let before = members();
            let cs = hit(k, 1);
            assert_eq!(memo(&cs, k), write_cache_status(&cs));
            let (after, held) = (members(), bytes());
            assert!(held <= CS_MEMO_BYTES, "{held} bytes after {i}");
            if after < before {
                assert_eq!(after, 1, "starts again with the new member");
                cleared = true;
            }
            // a long key's member is found again
            assert_eq!(memo(&cs, k), write_cache_status(&cs));
            assert_eq!(members(), after);
        }
        assert!(cleared, "{} members never filled the memo", keys.len());
    }

    #[test]
    fn a_refilled_slot_equals_the_member_but_for_the_key() {
        let mut slot = owned_status(&hit("GET http://h/a-long-key", 9));
        assert_eq!(slot.key, None);
        let members = [
            hit("GET http://h/b", 3),
            CacheStatus {
                detail: Some(Cow::Borrowed("stale-while-revalidate")),
                stored_set_cookie: true,
                ..hit("GET http://h/c", -2)
            },
            CacheStatus {
                fwd: Some(Cow::Borrowed("uri-miss")),
                fwd_status: Some(200),
                collapsed: true,
                stored: true,
                key: None,
                ..CacheStatus::forward(Fwd::UriMiss)
            },
            hit("GET http://h/d", 1),
        ];
        for m in &members {
            refill(&mut slot, m);
            assert_eq!(
                slot,
                CacheStatus {
                    key: None,
                    ..m.clone()
                }
            );
        }
    }

    /// The URI put together from its parts is the one the whole text parses to (and
    /// what the parts refuse gets the whole parse's error).
    #[test]
    fn the_upstream_uri_from_parts_is_the_parsed_one() {
        let targets = [
            "/",
            "/a/b?x=1&y=%20",
            "?only=query",
            "/p?q",
            "/%E2%82%AC/x;y",
            "*",
            "",
            "/bad path",
            "/caf\u{e9}",
        ];
        for authority in [
            "127.0.0.1:8080",
            "origin.example:80",
            "[::1]:9000",
            "bad host",
        ] {
            let parsed = static_authority(authority);
            for prefix in ["", "/api", "/v1/x"] {
                for t in targets {
                    let whole = format!("http://{authority}{prefix}{t}");
                    let want = http::Uri::try_from(whole).map_err(|e| e.to_string());
                    let got = upstream_uri(parsed.as_ref(), authority, prefix, t);
                    assert_eq!(got, want, "{authority} {prefix} {t}");
                }
            }
        }
    }

    #[test]
    fn forwards_are_written_directly() {
        let cs = CacheStatus {
            fwd_status: Some(200),
            stored: true,
            ttl: Some(600),
            key: Some(Cow::Borrowed("GET http://h/m")),
            ..CacheStatus::forward(Fwd::UriMiss)
        };
        let v = write_cache_status(&cs).map(|v| v.to_str().map(str::to_string));
        assert_eq!(
            v.and_then(Result::ok).as_deref(),
            Some("varyedge; fwd=uri-miss; fwd-status=200; stored; ttl=600; key=\"GET http://h/m\"")
        );
    }
}
