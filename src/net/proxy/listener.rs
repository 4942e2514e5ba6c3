//! The listening side: binding (refusing an address another process listens on), the
//! connection cap, and the per-connection silence timer.
//!
//! hyper's own `header_read_timeout` only starts once a connection's first bytes have
//! arrived, so a client that connects and sends nothing held a socket (and a file
//! descriptor) for ever, and a few hundred of them starved everyone else. [`Guarded`]
//! wraps each accepted socket: while no request is being handled on it, it is closed once
//! it has been silent for the header timeout (from accept, before the first request) or
//! the idle timeout (between keep-alive requests). "Silent" means: no request head
//! completed and nothing written.
//!
//! [`Guarded`] also keeps the limit hyper's `header_read_timeout` (30 s) used to set on
//! HTTP/1 connections, which hyper ran while it waited for a request head (from the first
//! bytes on a new connection; from the end of the previous exchange on a kept-alive
//! one): an HTTP/1 connection waiting that long for a head is closed, without an answer,
//! as hyper closed it. Kept here, it costs no timer per request ([`HEAD_WAIT`]).
//! [`Limits::max_connections`] caps how many sockets are open at once: at the cap the
//! proxy stops accepting until one closes (the kernel's backlog holds the rest).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;

/// Connection limits (flags of `varyedge proxy`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// A new connection must complete a request head within this.
    pub header_timeout: Duration,
    /// A keep-alive connection with no request in progress is closed after this.
    pub idle_timeout: Duration,
    /// At most this many client connections at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

/// Binds `addr`. Workers share the address with `SO_REUSEPORT`, which would also let a
/// second `varyedge proxy` (or anything else setting it) bind the same address and
/// silently take half the connections. So before the first worker binds, a probe socket
/// without `SO_REUSEPORT` binds and listens on the address: that fails with
/// `AddrInUse` when anyone listens there already. Port 0 needs no probe.
pub fn check_free(addr: SocketAddr) -> io::Result<()> {
    if addr.port() == 0 {
        return Ok(());
    }
    let probe = std::net::TcpListener::bind(addr).map_err(|e| {
        if e.kind() == io::ErrorKind::AddrInUse {
            io::Error::new(
                io::ErrorKind::AddrInUse,
                format!(
                    "{addr} is already in use (another varyedge proxy or server listens there)"
                ),
            )
        } else {
            e
        }
    })?;
    drop(probe);
    Ok(())
}

/// A listening socket on `addr` (with `SO_REUSEPORT` when several workers share it).
pub fn listen(addr: SocketAddr, reuse_port: bool) -> io::Result<TcpListener> {
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

/// Accepts one connection once a slot under [`Limits::max_connections`] is free; the
/// slot is held until the returned permit drops. `None` after an accept error (out of
/// file descriptors and the like), after a short pause so as not to spin. Also says
/// whether the peer is on loopback.
pub async fn accept(
    listener: &TcpListener,
    slots: &Arc<tokio::sync::Semaphore>,
) -> Option<(
    tokio::net::TcpStream,
    tokio::sync::OwnedSemaphorePermit,
    bool,
)> {
    let slot = slots.clone().acquire_owned().await.ok()?;
    match listener.accept().await {
        Ok((stream, peer)) => {
            let _ = stream.set_nodelay(true);
            Some((stream, slot, peer.ip().is_loopback()))
        }
        Err(_) => {
            tokio::time::sleep(Duration::from_millis(10)).await;
            None
        }
    }
}

/// What the service and the socket wrapper of one connection share.
#[derive(Debug, Default)]
pub struct Activity {
    active: AtomicUsize,
    served: AtomicUsize,
    /// Milliseconds since the process's clock origin of the last progress.
    last: AtomicU64,
}

fn now_ms() -> u64 {
    ms_at(crate::net::clock::instant())
}

/// `at` in milliseconds since the process's clock origin.
fn ms_at(at: std::time::Instant) -> u64 {
    at.duration_since(*ORIGIN.get_or_init(crate::net::clock::instant))
        .as_millis() as u64
}

static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

impl Activity {
    /// A fresh connection, just accepted.
    pub fn new() -> Arc<Activity> {
        let a = Activity::default();
        a.last.store(now_ms(), Ordering::Relaxed);
        Arc::new(a)
    }

    /// A request head arrived: the connection is busy until the guard drops.
    pub fn begin(self: &Arc<Activity>) -> Busy {
        self.active.fetch_add(1, Ordering::AcqRel);
        self.served.fetch_add(1, Ordering::Relaxed);
        Busy(self.clone())
    }

    /// A request head arrived and its answer is ready at once (nothing to wait for, so
    /// nothing to mark busy): the same as [`Activity::begin`] with its guard dropped.
    pub fn served_now(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
        self.touch();
    }

    fn touch(&self) {
        self.last.store(now_ms(), Ordering::Relaxed);
    }
}

/// A request in progress on a connection (see [`Activity::begin`]).
pub struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How long an HTTP/1 connection may wait for a request head (see the module docs): what
/// the proxy set as hyper's `header_read_timeout` before it moved here.
pub const HEAD_WAIT: Duration = Duration::from_secs(30);

/// The HTTP/2 connection preface (RFC 9113 §3.4); hyper's head timeout never applied to
/// a connection that starts with it.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What the first bytes read say about the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proto {
    /// Nothing read yet, or only a prefix of the HTTP/2 preface (`n` bytes of it).
    Unknown(usize),
    Http1,
    Http2,
}

/// A client socket closed after silence (see the module docs).
pub struct Guarded<T> {
    io: T,
    activity: Arc<Activity>,
    limits: Limits,
    timer: Pin<Box<tokio::time::Sleep>>,
    /// The timer's deadline in milliseconds since the clock origin, as last armed.
    armed_ms: u64,
    /// The waker the timer was last polled with (it wakes that one when it fires).
    registered: Option<std::task::Waker>,
    proto: Proto,
    /// When the first bytes arrived (milliseconds since the clock origin).
    first_byte_ms: Option<u64>,
    /// [`HEAD_WAIT`] (shorter in tests).
    head_wait: Duration,
}

impl<T> Guarded<T> {
    /// Wraps an accepted socket.
    pub fn new(io: T, activity: Arc<Activity>, limits: Limits) -> Guarded<T> {
        let at = crate::net::clock::instant();
        Guarded {
            io,
            activity,
            limits,
            timer: Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(
                at + limits.header_timeout,
            ))),
            armed_ms: ms_at(at).saturating_add(limits.header_timeout.as_millis() as u64),
            registered: None,
            proto: Proto::Unknown(0),
            first_byte_ms: None,
            head_wait: HEAD_WAIT,
        }
    }

    /// Notes what arrived: the time of the first bytes, and whether they are the HTTP/2
    /// preface.
    fn saw(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.first_byte_ms.is_none() {
            self.first_byte_ms = Some(now_ms());
        }
        if let Proto::Unknown(n) = self.proto {
            let want = &H2_PREFACE[n..];
            let k = want.len().min(bytes.len());
            self.proto = if bytes[..k] != want[..k] {
                Proto::Http1
            } else if n + k == H2_PREFACE.len() {
                Proto::Http2
            } else {
                Proto::Unknown(n + k)
            };
        }
    }

    /// The instant (milliseconds since the clock origin) after which a connection with
    /// nothing in progress is closed, and the limit it counts with.
    fn due(&self) -> (u64, Duration) {
        let a = &self.activity;
        let first = a.served.load(Ordering::Relaxed) == 0;
        let limit = if first {
            self.limits.header_timeout
        } else {
            self.limits.idle_timeout
        };
        let last = a.last.load(Ordering::Relaxed);
        let mut due = last.saturating_add(limit.as_millis() as u64);
        if self.proto != Proto::Http2 {
            // hyper's head timeout: from the first bytes before the first request, from
            // the end of the previous exchange after it
            let wait = self.head_wait.as_millis() as u64;
            let from = if first {
                self.first_byte_ms
            } else {
                Some(last)
            };
            if let Some(from) = from {
                due = due.min(from.saturating_add(wait));
            }
        }
        (due, limit)
    }

    /// `Err` once the connection has been silent too long with nothing in progress;
    /// otherwise arms the timer for the current deadline.
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let busy = self.activity.active.load(Ordering::Acquire) > 0;
        let (due, limit) = self.due();
        // The common case, once per request: the timer is armed to fire no later than
        // the connection may stay silent, and it will wake this task. Nothing to do (no
        // clock read, no timer update). When it fires, the full check below runs.
        let woken_here = self
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()));
        if woken_here && !self.timer.is_elapsed() && (busy || self.armed_ms <= due) {
            return Ok(());
        }
        let at = crate::net::clock::instant();
        let now = ms_at(at);
        if !busy && now >= due {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "client connection silent too long",
            ));
        }
        let wait = if busy {
            limit
        } else {
            Duration::from_millis(due - now)
        };
        let deadline = tokio::time::Instant::from_std(at + wait);
        // A timer armed for an earlier instant is left as it is: it fires early, the
        // socket is polled again, and this check re-arms it then. Moving it later on
        // every read (the deadline moves with the clock) cost a timer-wheel update per
        // request; now it is re-armed about once per `limit`.
        if self.timer.is_elapsed() || self.timer.deadline() > deadline {
            self.timer.as_mut().reset(deadline);
            self.armed_ms = now.saturating_add(wait.as_millis() as u64);
        }
        // registers the waker; on firing the next poll re-checks
        if self.timer.as_mut().poll(cx).is_ready() {
            cx.waker().wake_by_ref();
        }
        if !woken_here {
            self.registered = Some(cx.waker().clone());
        }
        Ok(())
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Pending => match this.check(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
            Poll::Ready(Ok(())) => {
                if this.proto != Proto::Http1 || this.first_byte_ms.is_none() {
                    this.saw(&buf.filled()[before..]);
                }
                Poll::Ready(Ok(()))
            }
            ready => ready,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test(flavor = "current_thread")]
    async fn a_silent_connection_is_closed_after_the_header_timeout() {
        let (client, server) = tokio::io::duplex(64);
        let limits = Limits {
            header_timeout: Duration::from_millis(50),
            ..Limits::default()
        };
        let mut g = Guarded::new(server, Activity::new(), limits);
        let mut buf = [0u8; 8];
        let r = tokio::time::timeout(Duration::from_secs(5), g.read(&mut buf)).await;
        let err = r
            .expect("timed out by the guard, not the test")
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(client);
    }

    fn quick_head_wait<T>(io: T, act: Arc<Activity>, idle: Duration) -> Guarded<T> {
        let limits = Limits {
            header_timeout: Duration::from_secs(20),
            idle_timeout: idle,
            ..Limits::default()
        };
        let mut g = Guarded::new(io, act, limits);
        g.head_wait = Duration::from_millis(60);
        g
    }

    /// What hyper's `header_read_timeout` did: a kept-alive HTTP/1 connection waiting
    /// for its next head is closed after the head wait, shorter than the idle timeout.
    #[tokio::test(flavor = "current_thread")]
    async fn an_http1_connection_waits_for_a_head_at_most_the_head_wait() {
        use tokio::io::AsyncWriteExt;
        let (mut client, server) = tokio::io::duplex(256);
        let act = Activity::new();
        let mut g = quick_head_wait(server, act.clone(), Duration::from_secs(20));
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 64];
        assert!(g.read(&mut buf).await.unwrap() > 0);
        drop(act.begin());
        let t = crate::net::clock::instant();
        let r = tokio::time::timeout(Duration::from_secs(5), g.read(&mut buf)).await;
        let err = r.expect("closed by the guard").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }

    /// Before the first head the wait counts from the first bytes, as hyper's did.
    #[tokio::test(flavor = "current_thread")]
    async fn a_partial_first_head_is_cut_at_the_head_wait() {
        use tokio::io::AsyncWriteExt;
        let (mut client, server) = tokio::io::duplex(256);
        let mut g = quick_head_wait(server, Activity::new(), Duration::from_secs(20));
        client.write_all(b"GET / HT").await.unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(g.read(&mut buf).await.unwrap(), 8);
        let r = tokio::time::timeout(Duration::from_secs(5), g.read(&mut buf)).await;
        let err = r.expect("closed by the guard").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    /// hyper's head timeout never applied to HTTP/2: an idle HTTP/2 connection keeps the
    /// idle timeout.
    #[tokio::test(flavor = "current_thread")]
    async fn an_http2_connection_is_not_cut_at_the_head_wait() {
        use tokio::io::AsyncWriteExt;
        let (mut client, server) = tokio::io::duplex(256);
        let act = Activity::new();
        let mut g = quick_head_wait(server, act.clone(), Duration::from_secs(20));
        // the preface in two pieces
        client.write_all(&H2_PREFACE[..5]).await.unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(g.read(&mut buf).await.unwrap(), 5);
        client.write_all(&H2_PREFACE[5..]).await.unwrap();
        assert_eq!(g.read(&mut buf).await.unwrap(), H2_PREFACE.len() - 5);
        assert_eq!(g.proto, Proto::Http2);
        drop(act.begin());
        let r = tokio::time::timeout(Duration::from_millis(300), g.read(&mut buf)).await;
        assert!(r.is_err(), "still open after the head wait");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_busy_connection_is_not_closed() {
        let (_client, server) = tokio::io::duplex(64);
        let limits = Limits {
            header_timeout: Duration::from_millis(30),
            ..Limits::default()
        };
        let act = Activity::new();
        let busy = act.begin();
        let mut g = Guarded::new(server, act, limits);
        let mut buf = [0u8; 8];
        let r = tokio::time::timeout(Duration::from_millis(150), g.read(&mut buf)).await;
        assert!(r.is_err(), "still open while a request is in progress");
        drop(busy);
    }
}
