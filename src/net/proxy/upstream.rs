//! The upstream side: a keep-alive connection pool per worker thread, hop-by-hop field
//! removal (RFC 9110 §7.6.1), the faults a client sees as 502/504, and [`TeeBody`], which
//! streams an upstream body to the client while keeping a copy, and reports at the end
//! whether it arrived whole.

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::Authority;
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::cell::RefCell;
use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A request body going upstream: the client's, streamed (capped), or held whole (a
/// small one that may be sent again, or none at all).
pub type UpBody = Either<Limited<Incoming>, Full<Bytes>>;

/// An empty request body (a request with none).
pub fn no_body() -> UpBody {
    Either::Right(Full::default())
}

/// The largest request body held whole before it goes upstream, so that an idempotent
/// request whose pooled connection closed under it can be sent again with its body
/// (see [`take_body`]). nginx holds every request body by default
/// (`proxy_request_buffering on`, in memory up to `client_body_buffer_size`, 8 or 16 KiB,
/// then in a file); Go's `http.Transport` resends a body it can get again (`GetBody`).
pub const HOLD_MAX: u64 = 64 * 1024;

/// The client's request body as it goes upstream (a request that has one: the caller
/// sends [`no_body`] for one that has none, without this future). A request with an
/// idempotent method (RFC 9110 §9.2.2) whose framing declares a length of at most
/// [`HOLD_MAX`] (and at most `max`) is read whole first, within `wait`, so that [`send`]
/// can send it again: [`Fault::RequestTimeout`] if it does not arrive in time,
/// [`Fault::BadRequestBody`] if it is cut short. Any other body streams, capped at `max`
/// bytes. (The proxy answers a declared length over `max` with 413 before it gets here.)
pub async fn take_body(
    method: &http::Method,
    body: Incoming,
    max: u64,
    wait: Duration,
) -> Result<UpBody, Fault> {
    let held = body
        .size_hint()
        .exact()
        .is_some_and(|n| n <= HOLD_MAX.min(max));
    if !(held && method.is_idempotent()) {
        let capped = Limited::new(body, usize::try_from(max).unwrap_or(usize::MAX));
        return Ok(Either::Left(capped));
    }
    // the framing bounds what arrives to the declared length
    match tokio::time::timeout(wait, body.collect()).await {
        Err(_) => Err(Fault::RequestTimeout(wait)),
        Ok(Ok(all)) => Ok(Either::Right(Full::new(all.to_bytes()))),
        Ok(Err(e)) => Err(Fault::BadRequestBody(chain(&e))),
    }
}

/// How long a connection may sit idle in a pool before it is closed: under the 5 s
/// after which Node.js's HTTP server (`server.keepAliveTimeout`) and Apache httpd
/// (`KeepAliveTimeout`) close an idle keep-alive connection by default. A connection
/// taken just as such an origin closes it fails with no answer; an idempotent request
/// is then sent again ([`send`]), but one whose body streamed up cannot be, and the
/// client got a 502. The conformance suite's Node.js origin showed it: a `PUT` of a
/// test's config answered 502 in one run in a few (session 16), with the 30 s this was
/// before. Reconnecting after 4 s idle costs a handshake; under load no connection sits
/// idle that long. Since session 17 a small idempotent request's body is held whole
/// ([`take_body`]) and sent again too, which covers origins that close sooner.
const IDLE_TIMEOUT: Duration = Duration::from_secs(4);

// the bound the note above gives: below the 5 s of Node.js's and Apache's defaults
const _: () = assert!(IDLE_TIMEOUT.as_millis() < 5_000);

/// How many idle connections a pool keeps; past that, the longest idle is closed.
const MAX_IDLE: usize = 256;

/// The upstream client: a pool of keep-alive HTTP/1.1 connections per worker thread.
///
/// The proxy runs one single-threaded runtime per worker thread, and a connection is
/// driven by a task on the runtime that opened it. One pool shared by all workers would
/// hand a worker connections driven by another worker's thread: every request and every
/// body frame would then cross threads (a wakeup through the other runtime's eventfd).
/// With a pool per thread, a miss is handled start to end on one thread, as a hit is.
///
/// The pool is this module's own rather than `hyper-util`'s general client: the proxy
/// talks to one upstream over plain HTTP/1.1, and the general client's checkout (a
/// SipHash map keyed by scheme and authority, a race between waiting for an idle
/// connection and dialling a new one, boxed futures, connection metadata per request)
/// cost ~9,000 instructions per miss (`benches/load/README.md`, session 15).
pub struct UpClient {
    id: u64,
    connect_timeout: Duration,
    idle_timeout: Duration,
}

impl std::fmt::Debug for UpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpClient")
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

/// A connection waiting for its next request.
struct Idle {
    sender: SendRequest<UpBody>,
    authority: Authority,
    /// When it went idle.
    since: Instant,
}

/// One client's idle connections on one thread, longest idle first.
#[derive(Default)]
struct Pool {
    idle: Vec<Idle>,
    /// Whether a task is closing this pool's connections as they time out ([`reap`]).
    reaping: bool,
}

impl Pool {
    /// Closes the connections idle for `timeout` or more at `now`, and those the upstream
    /// closed.
    fn prune(&mut self, now: Instant, timeout: Duration) {
        self.idle
            .retain(|c| now.duration_since(c.since) < timeout && !c.sender.is_closed());
    }

    /// When the longest idle connection reaches `timeout` idle (`None`: the pool is
    /// empty).
    fn next_expiry(&self, timeout: Duration) -> Option<Instant> {
        self.idle.first().map(|c| c.since + timeout)
    }

    /// The most recently idle connection to `authority` that is ready for a request.
    /// Connections the upstream closed are dropped on the way.
    fn take(&mut self, authority: &Authority) -> Option<SendRequest<UpBody>> {
        let mut i = self.idle.len();
        while i > 0 {
            i -= 1;
            let c = &self.idle[i];
            if c.sender.is_closed() {
                self.idle.remove(i);
            } else if c.sender.is_ready() && c.authority == *authority {
                return Some(self.idle.remove(i).sender);
            }
        }
        None
    }

    /// Keeps `sender` for the next request; `true` when the pool has no reaper yet.
    fn put(&mut self, sender: SendRequest<UpBody>, authority: Authority, now: Instant) -> bool {
        if self.idle.len() >= MAX_IDLE {
            self.idle.remove(0);
        }
        self.idle.push(Idle {
            sender,
            authority,
            since: now,
        });
        !std::mem::replace(&mut self.reaping, true)
    }
}

thread_local! {
    /// This thread's pools, by [`UpClient::id`] (one per proxy in the process).
    static POOLS: RefCell<Vec<(u64, Pool)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on this thread's pool for client `id` (made on first use).
fn with_pool<R>(id: u64, f: impl FnOnce(&mut Pool) -> R) -> R {
    POOLS.with(|p| {
        let mut pools = p.borrow_mut();
        let i = match pools.iter().position(|(i, _)| *i == id) {
            Some(i) => i,
            None => {
                pools.push((id, Pool::default()));
                pools.len() - 1
            }
        };
        f(&mut pools[i].1)
    })
}

/// Closes pool `id`'s connections as they reach `timeout` idle, so that an upstream is
/// not held open by a proxy that has stopped sending it anything; ends when the pool is
/// empty (the next connection put back starts another).
async fn reap(id: u64, timeout: Duration) {
    loop {
        let next = with_pool(id, |p| {
            p.prune(crate::net::clock::instant(), timeout);
            let next = p.next_expiry(timeout);
            p.reaping = next.is_some();
            next
        });
        let Some(at) = next else { return };
        tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
    }
}

/// Why a request got no response head from [`UpClient::request`].
#[derive(Debug)]
pub enum SendError {
    /// No connection could be made (the address, the connect, its timeout).
    Connect(String),
    /// The connection broke or the exchange failed.
    Exchange(hyper::Error),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Connect(e) => f.write_str(e),
            SendError::Exchange(e) => f.write_str(&chain(e)),
        }
    }
}

impl UpClient {
    /// Sends `req` (an absolute URI: the authority to connect to, then the request line's
    /// path and query) on an idle connection of this thread's pool, or on a new one, with
    /// no deadline of its own (the caller bounds it; see [`send`]). The connection goes
    /// back to the pool once its response has been read whole.
    pub async fn request(
        &self,
        mut req: http::Request<UpBody>,
    ) -> Result<http::Response<Incoming>, SendError> {
        let uri = req.uri();
        let authority = match (uri.scheme(), uri.authority()) {
            (Some(s), Some(a)) if *s == http::uri::Scheme::HTTP => a.clone(),
            _ => {
                return Err(SendError::Connect(format!(
                    "{uri}: not an http:// URL (plain HTTP/1.1 only)"
                )))
            }
        };
        if !req.headers().contains_key(header::HOST) {
            if let Ok(v) = HeaderValue::from_str(&host_field(&authority)) {
                req.headers_mut().insert(header::HOST, v);
            }
        }
        // the request line carries the origin form (RFC 9112 §3.2.1)
        let pq = req
            .uri()
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/"));
        *req.uri_mut() = http::Uri::from(pq);
        let pooled = with_pool(self.id, |p| p.take(&authority));
        let (mut sender, req) = match pooled {
            Some(mut sender) => match sender.try_send_request(req).await {
                Ok(resp) => {
                    self.keep(sender, authority);
                    return Ok(resp);
                }
                // closed before the request was written: it goes on a new connection,
                // whatever its method, since the upstream never saw it
                Err(mut e) => match e.take_message() {
                    Some(req) => (self.connect(&authority).await?, req),
                    None => return Err(SendError::Exchange(e.into_error())),
                },
            },
            None => (self.connect(&authority).await?, req),
        };
        let resp = sender
            .send_request(req)
            .await
            .map_err(SendError::Exchange)?;
        self.keep(sender, authority);
        Ok(resp)
    }

    /// Puts `sender` back in this thread's pool once its connection is ready for the
    /// next request: at once if it is, else when its response body has been read (a task
    /// waits for that; a body left unread closes the connection, and it is not kept).
    fn keep(&self, mut sender: SendRequest<UpBody>, authority: Authority) {
        let (id, timeout) = (self.id, self.idle_timeout);
        let put = move |sender, authority| {
            let now = crate::net::clock::instant();
            if with_pool(id, |p| p.put(sender, authority, now)) {
                tokio::spawn(reap(id, timeout));
            }
        };
        if sender.is_ready() {
            put(sender, authority);
        } else if !sender.is_closed() {
            tokio::spawn(async move {
                if sender.ready().await.is_ok() {
                    put(sender, authority);
                }
            });
        }
    }

    /// A new connection to `authority` (port 80 when it names none), `TCP_NODELAY`, within
    /// the connect timeout; its HTTP/1.1 exchange is driven by a task on this thread.
    async fn connect(&self, authority: &Authority) -> Result<SendRequest<UpBody>, SendError> {
        let addr = format!(
            "{}:{}",
            authority.host(),
            authority.port_u16().unwrap_or(80)
        );
        let tcp = match tokio::time::timeout(
            self.connect_timeout,
            tokio::net::TcpStream::connect(addr.as_str()),
        )
        .await
        {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => return Err(SendError::Connect(format!("tcp connect to {addr}: {e}"))),
            Err(_) => {
                return Err(SendError::Connect(format!(
                    "tcp connect to {addr}: no answer within {}s",
                    self.connect_timeout.as_secs_f64()
                )))
            }
        };
        // a request is written whole before its response is read: without this, Nagle
        // would hold its last segment back until the upstream acknowledged the first
        let _ = tcp.set_nodelay(true);
        let (sender, conn) = http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| SendError::Connect(chain(&e)))?;
        tokio::spawn(async move {
            // its errors reach the request that was on it; nothing more to tell here
            let _ = conn.await;
        });
        Ok(sender)
    }
}

/// The `Host` field for `authority` (RFC 9112 §3.2): host and port, without the default
/// port 80.
fn host_field(authority: &Authority) -> String {
    match authority.port_u16() {
        Some(p) if p != 80 => format!("{}:{p}", authority.host()),
        _ => authority.host().to_string(),
    }
}

/// A client with keep-alive pooling (per thread), `TCP_NODELAY`, and a connect timeout;
/// idle connections are closed after [`IDLE_TIMEOUT`].
pub fn client(connect_timeout: Duration) -> UpClient {
    client_idling(connect_timeout, IDLE_TIMEOUT)
}

/// [`client`] with idle connections closed after `idle_timeout`.
fn client_idling(connect_timeout: Duration, idle_timeout: Duration) -> UpClient {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    UpClient {
        id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        connect_timeout,
        idle_timeout,
    }
}

/// Why the upstream gave no usable response head.
#[derive(Debug)]
pub enum Fault {
    /// Could not connect.
    Unreachable(String),
    /// No response head in time.
    Timeout(Duration),
    /// The client's request body went over the limit.
    BodyTooLarge,
    /// Connected, but the exchange broke (reset, malformed response).
    Broken(String),
    /// The client's own request body was malformed (a bad chunk size): the client's fault.
    BadRequestBody(String),
    /// The client's request body, to be held whole ([`take_body`]), did not arrive within
    /// this.
    RequestTimeout(Duration),
}

impl Fault {
    /// The status and body the client gets.
    pub fn answer(&self) -> (u16, String) {
        match self {
            Fault::Unreachable(e) => (502, format!("varyedge proxy: upstream unreachable: {e}\n")),
            Fault::Timeout(d) => (
                504,
                format!(
                    "varyedge proxy: upstream timeout: no response head within {}s\n",
                    d.as_secs_f64()
                ),
            ),
            Fault::BodyTooLarge => (413, "varyedge proxy: request body too large\n".to_string()),
            Fault::Broken(e) => (502, format!("varyedge proxy: upstream error: {e}\n")),
            Fault::BadRequestBody(e) => (
                400,
                format!("varyedge proxy: malformed request body: {e}\n"),
            ),
            Fault::RequestTimeout(d) => (
                408,
                format!(
                    "varyedge proxy: request body not received whole within {}s\n",
                    d.as_secs_f64()
                ),
            ),
        }
    }
}

/// An error and its causes, `: `-joined.
pub fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// Whether `e` or any of its causes satisfies `is`.
fn any_cause(e: &(dyn StdError + 'static), is: impl Fn(&(dyn StdError + 'static)) -> bool) -> bool {
    let mut cur = Some(e);
    while let Some(c) = cur {
        if is(c) {
            return true;
        }
        cur = c.source();
    }
    false
}

fn hyper_cause(e: &(dyn StdError + 'static), is: impl Fn(&hyper::Error) -> bool) -> bool {
    any_cause(e, |c| c.downcast_ref::<hyper::Error>().is_some_and(&is))
}

fn is_length_limit(e: &(dyn StdError + 'static)) -> bool {
    any_cause(e, |c| c.is::<http_body_util::LengthLimitError>())
}

/// Whether hyper gave up because the connection closed before a whole response came
/// ("connection closed before message completed").
fn closed_early(e: &(dyn StdError + 'static)) -> bool {
    hyper_cause(e, |h| h.is_incomplete_message() || h.is_canceled())
}

/// Whether the exchange failed while reading the client's request body (hyper reports a
/// failing request body as a "user" error whose cause is the body's own error).
fn is_request_body_error(e: &(dyn StdError + 'static)) -> bool {
    hyper_cause(e, hyper::Error::is_user)
}

/// How many times an idempotent request with no body or a held one is sent again after
/// its pooled connection turned out closed ([`send`]).
const STALE_RETRIES: usize = 3;

/// Whether `req` may be sent again after its pooled connection turned out closed: an
/// idempotent method (RFC 9110 §9.2.2) with no body or one held whole ([`take_body`]).
fn may_resend(req: &http::Request<UpBody>) -> bool {
    req.method().is_idempotent() && matches!(req.body(), Either::Right(_))
}

/// A copy of `req` to send again, when it may be ([`may_resend`]).
fn resendable(req: &http::Request<UpBody>) -> Option<http::Request<UpBody>> {
    if !may_resend(req) {
        return None;
    }
    let Either::Right(held) = req.body() else {
        return None;
    };
    let mut copy = http::Request::new(Either::Right(held.clone()));
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.version_mut() = req.version();
    *copy.headers_mut() = req.headers().clone();
    Some(copy)
}

/// [`send`] for a caller that cannot build the request again: a copy of it is kept for
/// the retries.
pub async fn send_copying(
    client: &UpClient,
    req: http::Request<UpBody>,
    limit: Duration,
) -> Result<http::Response<Incoming>, Fault> {
    let copy = resendable(&req);
    send(client, req, limit, move || {
        copy.as_ref().and_then(resendable)
    })
    .await
}

/// Sends `req` upstream; the response head must arrive within `limit`. `again` builds
/// the same request again (with the same held body, or none), for a retry.
///
/// A pooled keep-alive connection may have been closed by the upstream just as it was
/// taken (its FIN not yet seen): the request then fails with no answer at all. RFC 9110
/// §9.2.2 lets a client retry an idempotent request automatically; Varnish retries once
/// on a reused backend connection and nginx moves on (`proxy_next_upstream error`). This
/// proxy sends an idempotent request with no body or a held one ([`take_body`]) again
/// when its connection closed before any response byte, up to [`STALE_RETRIES`] times
/// (several pooled connections can go stale together) and within the one deadline. An upstream that closes every connection
/// without answering therefore sees such a request up to four times before the 502.
///
/// The retry is built by `again` only when it is needed: copying every request's header
/// map in advance cost ~650 instructions per miss.
pub async fn send<F>(
    client: &UpClient,
    req: http::Request<UpBody>,
    limit: Duration,
    again: F,
) -> Result<http::Response<Incoming>, Fault>
where
    F: Fn() -> Option<http::Request<UpBody>>,
{
    let resend = may_resend(&req);
    let deadline = tokio::time::Instant::from_std(crate::net::clock::instant()) + limit;
    let mut sent = tokio::time::timeout_at(deadline, client.request(req)).await;
    // Each failed attempt closes its connection; several idle ones may have gone stale
    // together, so up to STALE_RETRIES more.
    for _ in 0..STALE_RETRIES {
        let stale = matches!(&sent, Ok(Err(SendError::Exchange(e))) if closed_early(e));
        let Some(req) = (resend && stale).then(&again).flatten().filter(may_resend) else {
            break;
        };
        sent = tokio::time::timeout_at(deadline, client.request(req)).await;
    }
    match sent {
        Err(_) => Err(Fault::Timeout(limit)),
        Ok(Ok(r)) => Ok(r),
        Ok(Err(SendError::Connect(e))) => Err(Fault::Unreachable(e)),
        Ok(Err(SendError::Exchange(e))) if is_length_limit(&e) => Err(Fault::BodyTooLarge),
        Ok(Err(SendError::Exchange(e))) if is_request_body_error(&e) => {
            Err(Fault::BadRequestBody(chain(&e)))
        }
        Ok(Err(SendError::Exchange(e))) => Err(Fault::Broken(chain(&e))),
    }
}

/// Removes the hop-by-hop fields (RFC 9110 §7.6.1): those `Connection` lists, and
/// `Connection`, `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`, `Transfer-Encoding`,
/// `Upgrade`.
pub fn strip_hop_by_hop(h: &mut HeaderMap) {
    // Most blocks hold none of them: one pass over the distinct names says so, where a
    // `remove` per name hashed and probed fourteen times per miss (~1,600 instructions
    // each time). `Connection` is one of the names, so with none present nothing is
    // listed either.
    if !h.keys().any(is_hop_by_hop) {
        return;
    }
    let listed: Vec<HeaderName> = h
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in listed {
        h.remove(n);
    }
    for n in HOP_BY_HOP {
        h.remove(n);
    }
}

/// The fixed hop-by-hop names [`strip_hop_by_hop`] removes.
const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Whether `n` is one of [`HOP_BY_HOP`].
fn is_hop_by_hop(n: &HeaderName) -> bool {
    HOP_BY_HOP.contains(n)
}

/// The `Via` member this proxy adds (RFC 9110 §7.6.3).
pub const VIA: HeaderValue = HeaderValue::from_static("1.1 varyedge");

/// How a teed body ended.
pub enum Ended {
    /// Received whole; the copy, unless it went over the limit.
    Whole(Option<Bytes>),
    /// Broken (upstream error, idle timeout) or abandoned by the client.
    Broken,
}

/// Called once when a [`TeeBody`] ends.
pub type OnEnd = Box<dyn FnOnce(Ended) + Send>;

/// Streams an upstream body frame by frame while copying it (up to `limit` bytes).
/// A gap of more than `idle` between frames ends it with an error, which aborts the
/// client's response. `on_end` learns how it ended, also when dropped unfinished.
pub struct TeeBody {
    prefix: Option<Bytes>,
    inner: Incoming,
    copy: Option<BytesMut>,
    limit: usize,
    idle: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
    on_end: Option<OnEnd>,
}

/// The idle timeout fired.
#[derive(Debug, thiserror::Error)]
#[error("upstream body stalled for more than {0:?}")]
pub struct Stalled(Duration);

impl TeeBody {
    /// Tees `prefix` (bytes already read from it) then `inner`, copying up to `limit`
    /// bytes (`keep == false`: no copy).
    pub fn new(
        prefix: Bytes,
        inner: Incoming,
        keep: bool,
        limit: usize,
        idle: Duration,
        on_end: OnEnd,
    ) -> TeeBody {
        let cap = inner
            .size_hint()
            .exact()
            .map_or(8192, |n| n as usize)
            .saturating_add(prefix.len())
            .min(limit);
        TeeBody {
            prefix: (!prefix.is_empty()).then_some(prefix),
            inner,
            copy: keep.then(|| BytesMut::with_capacity(cap)),
            limit,
            idle,
            timer: Box::pin(tokio::time::sleep(idle)),
            on_end: Some(on_end),
        }
    }

    fn end(&mut self, how: Ended) {
        if let Some(f) = self.on_end.take() {
            f(how);
        }
    }
}

impl Body for TeeBody {
    type Data = Bytes;
    type Error = Box<dyn StdError + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Some(p) = this.prefix.take() {
            if let Some(c) = &mut this.copy {
                if c.len() + p.len() > this.limit {
                    this.copy = None;
                } else {
                    c.extend_from_slice(&p);
                }
            }
            return Poll::Ready(Some(Ok(Frame::data(p))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    let over = this
                        .copy
                        .as_ref()
                        .is_some_and(|c| c.len() + d.len() > this.limit);
                    if over {
                        this.copy = None;
                    } else if let Some(c) = &mut this.copy {
                        c.extend_from_slice(d);
                    }
                }
                if this.inner.is_end_stream() {
                    // the last frame of a sized body: the server may never poll again
                    let copy = this.copy.take().map(BytesMut::freeze);
                    this.end(Ended::Whole(copy));
                } else {
                    let deadline =
                        tokio::time::Instant::from_std(crate::net::clock::instant() + this.idle);
                    this.timer.as_mut().reset(deadline);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.end(Ended::Broken);
                Poll::Ready(Some(Err(Box::new(e))))
            }
            Poll::Ready(None) => {
                let copy = this.copy.take().map(BytesMut::freeze);
                this.end(Ended::Whole(copy));
                Poll::Ready(None)
            }
            Poll::Pending => {
                if this.timer.as_mut().poll(cx).is_ready() {
                    this.end(Ended::Broken);
                    return Poll::Ready(Some(Err(Box::new(Stalled(this.idle)))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let n = self.prefix.as_ref().map_or(0, |p| p.len() as u64);
        let h = self.inner.size_hint();
        let mut s = SizeHint::new();
        s.set_lower(h.lower().saturating_add(n));
        if let Some(u) = h.upper() {
            s.set_upper(u.saturating_add(n));
        }
        s
    }
}

impl Drop for TeeBody {
    fn drop(&mut self) {
        self.end(Ended::Broken);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_fields_go() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, X-Secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=5"));
        h.insert(header::UPGRADE, HeaderValue::from_static("h2c"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key(header::CACHE_CONTROL));
    }

    /// The early return for a block without hop-by-hop fields misses none of them: each
    /// fixed name alone is found and removed, and a block without any is left as it was.
    #[test]
    fn each_hop_by_hop_name_alone_goes() {
        let names = [
            "connection",
            "keep-alive",
            "proxy-connection",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
        ];
        for n in names {
            let mut h = HeaderMap::new();
            h.append(header::CACHE_CONTROL, HeaderValue::from_static("max-age=5"));
            h.append(HeaderName::from_static(n), HeaderValue::from_static("x"));
            h.append(header::VARY, HeaderValue::from_static("Origin"));
            strip_hop_by_hop(&mut h);
            let left: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
            assert_eq!(left, ["cache-control", "vary"], "{n}");
        }
        let mut h = HeaderMap::new();
        h.append(header::CACHE_CONTROL, HeaderValue::from_static("max-age=5"));
        h.append("x-te", HeaderValue::from_static("1"));
        h.append(header::CACHE_CONTROL, HeaderValue::from_static("public"));
        let before = h.clone();
        strip_hop_by_hop(&mut h);
        assert_eq!(h, before);
    }

    #[test]
    fn faults_answer_502_504() {
        assert_eq!(Fault::Unreachable("refused".into()).answer().0, 502);
        assert!(Fault::Unreachable("refused".into())
            .answer()
            .1
            .contains("upstream unreachable: refused"));
        assert_eq!(Fault::Timeout(Duration::from_secs(2)).answer().0, 504);
        assert_eq!(Fault::BodyTooLarge.answer().0, 413);
    }
}

#[cfg(test)]
#[path = "upstream_pool_tests.rs"]
mod pool_tests;
