//! The upstream side: a pooled hyper client, hop-by-hop field removal (RFC 9110 §7.6.1),
//! the faults a client sees as 502/504, and [`TeeBody`], which streams an upstream body to
//! the client while keeping a copy, and reports at the end whether it arrived whole.

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http_body_util::{Either, Empty, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A request body going upstream: the client's (capped) or none.
pub type UpBody = Either<Limited<Incoming>, Empty<Bytes>>;

type Pool = Client<HttpConnector, UpBody>;

/// The upstream client: a keep-alive pool per thread.
///
/// The proxy runs one single-threaded runtime per worker thread. hyper's pool drives
/// each connection from a task on the runtime that opened it, so one pool shared by all
/// workers hands a worker connections driven by another worker's thread: every request
/// and every body frame then crosses threads (a wakeup through the other runtime's
/// eventfd). With a pool per thread, a miss is handled start to end on one thread, as a
/// hit is.
pub struct UpClient {
    id: u64,
    connect_timeout: Duration,
}

impl std::fmt::Debug for UpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpClient")
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

thread_local! {
    /// This thread's pools, by [`UpClient::id`] (one per proxy in the process).
    static POOLS: std::cell::RefCell<Vec<(u64, Pool)>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl UpClient {
    /// This thread's pool (made on first use).
    fn pool(&self) -> Pool {
        POOLS.with(|p| {
            let mut pools = p.borrow_mut();
            if let Some((_, c)) = pools.iter().find(|(id, _)| *id == self.id) {
                return c.clone();
            }
            let c = pool(self.connect_timeout);
            pools.push((self.id, c.clone()));
            c
        })
    }

    /// Sends `req` on this thread's pool, with no deadline of its own (the caller
    /// bounds it; see [`send`] for the proxy's bounded form).
    pub async fn request(
        &self,
        req: http::Request<UpBody>,
    ) -> Result<http::Response<Incoming>, hyper_util::client::legacy::Error> {
        self.pool().request(req).await
    }
}

/// A client with keep-alive pooling (per thread), `TCP_NODELAY`, and a connect timeout.
pub fn client(connect_timeout: Duration) -> UpClient {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    UpClient {
        id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        connect_timeout,
    }
}

fn pool(connect_timeout: Duration) -> Pool {
    let mut conn = HttpConnector::new();
    conn.set_nodelay(true);
    conn.set_connect_timeout(Some(connect_timeout));
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(256)
        .build(conn)
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

/// How many times a bodiless idempotent request is sent again after its pooled
/// connection turned out closed ([`send`]).
const STALE_RETRIES: usize = 3;

/// Whether `req` may be sent again after its pooled connection turned out closed: an
/// idempotent method (RFC 9110 §9.2.2) with no body.
fn may_resend(req: &http::Request<UpBody>) -> bool {
    req.method().is_idempotent() && matches!(req.body(), Either::Right(_))
}

/// A copy of `req` to send again, when it may be ([`may_resend`]).
fn resendable(req: &http::Request<UpBody>) -> Option<http::Request<UpBody>> {
    if !may_resend(req) {
        return None;
    }
    let mut copy = http::Request::new(Either::Right(Empty::new()));
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
/// the same request again (with no body), for a retry.
///
/// A pooled keep-alive connection may have been closed by the upstream just as it was
/// taken (its FIN not yet seen): the request then fails with no answer at all. RFC 9110
/// §9.2.2 lets a client retry an idempotent request automatically; Varnish retries once
/// on a reused backend connection and nginx moves on (`proxy_next_upstream error`). This
/// proxy sends a bodiless idempotent request again when its connection closed before any
/// response byte, up to [`STALE_RETRIES`] times (several pooled connections can go stale
/// together) and within the one deadline. An upstream that closes every connection
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
    let pool = client.pool();
    let resend = may_resend(&req);
    let deadline = tokio::time::Instant::from_std(crate::net::clock::instant()) + limit;
    let mut sent = tokio::time::timeout_at(deadline, pool.request(req)).await;
    // Each failed attempt drops its connection from the pool; several idle ones may have
    // gone stale together, so up to STALE_RETRIES more.
    for _ in 0..STALE_RETRIES {
        let stale = matches!(&sent, Ok(Err(e)) if !e.is_connect() && closed_early(e));
        let Some(req) = (resend && stale).then(&again).flatten().filter(may_resend) else {
            break;
        };
        sent = tokio::time::timeout_at(deadline, pool.request(req)).await;
    }
    match sent {
        Err(_) => Err(Fault::Timeout(limit)),
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) if e.is_connect() => Err(Fault::Unreachable(chain(&e))),
        Ok(Err(e)) if is_length_limit(&e) => Err(Fault::BodyTooLarge),
        Ok(Err(e)) if is_request_body_error(&e) => Err(Fault::BadRequestBody(chain(&e))),
        Ok(Err(e)) => Err(Fault::Broken(chain(&e))),
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
