//! The upstream pool ([`super::UpClient`], [`super::Pool`]): reuse, the idle timeout and
//! its reaper, the bounds, and which connections a request may be given.

use super::*;
use http_body_util::BodyExt;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What a test upstream saw: connections accepted, requests answered, connections the
/// proxy closed (end of stream while waiting for a request).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Seen {
    conns: usize,
    requests: usize,
    closed: usize,
}

/// A keep-alive upstream on loopback answering every request `200 ok`, except a target
/// starting `/partial` (2 bytes of a 100,000-byte body, and the rest never) and one
/// starting `/slow` (`o`, then `k` 100 ms later). It takes at most 8 connections and each
/// waits at most 5 s for a request.
fn upstream() -> (String, Arc<Mutex<Seen>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let counts = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming().take(8) {
            let Ok(s) = s else { break };
            counts.lock().unwrap().conns += 1;
            let counts = counts.clone();
            std::thread::spawn(move || serve(s, &counts));
        }
    });
    (addr, seen)
}

fn serve(mut s: TcpStream, seen: &Mutex<Seen>) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let partial = buf.starts_with(b"GET /partial");
            let slow = buf.starts_with(b"GET /slow");
            buf.drain(..end + 4);
            seen.lock().unwrap().requests += 1;
            if slow {
                let head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no";
                if s.write_all(head).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
                if s.write_all(b"k").is_err() {
                    return;
                }
                continue;
            }
            let answer: &[u8] = if partial {
                b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nok"
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            };
            if s.write_all(answer).is_err() {
                return;
            }
        }
        match s.read(&mut chunk) {
            Ok(0) => {
                seen.lock().unwrap().closed += 1;
                return;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => return,
        }
    }
}

fn get(addr: &str, path: &str) -> http::Request<UpBody> {
    let mut r = http::Request::new(no_body());
    *r.uri_mut() = format!("http://{addr}{path}").parse().unwrap();
    r
}

/// Sends a GET and reads its body whole: `(status, body)`.
async fn fetch(c: &UpClient, addr: &str, path: &str) -> (u16, Bytes) {
    let resp = c.request(get(addr, path)).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

fn idle(c: &UpClient) -> usize {
    with_pool(c.id, |p| p.idle.len())
}

/// Lets the tasks on this thread run until `done` holds, for at most 2 s.
async fn until(done: impl Fn() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_connection_is_reused_then_closed_once_idle_too_long() {
    let (addr, seen) = upstream();
    let c = client_idling(Duration::from_secs(2), Duration::from_millis(300));
    for n in 0..3 {
        assert_eq!(
            fetch(&c, &addr, &format!("/{n}")).await,
            (200, Bytes::from("ok"))
        );
        until(|| idle(&c) == 1).await;
    }
    let now = *seen.lock().unwrap();
    assert_eq!((now.conns, now.requests, now.closed), (1, 3, 0));
    // nothing more is sent: the reaper closes it
    until(|| seen.lock().unwrap().closed == 1).await;
    assert_eq!(
        *seen.lock().unwrap(),
        Seen {
            conns: 1,
            requests: 3,
            closed: 1
        }
    );
    assert_eq!(idle(&c), 0);
    // and the next request opens a new one
    assert_eq!(fetch(&c, &addr, "/again").await.0, 200);
    assert_eq!(seen.lock().unwrap().conns, 2);
}

/// A connection whose body was still arriving when its head was handed back is kept
/// once the body has been read, and reused.
#[tokio::test(flavor = "current_thread")]
async fn a_connection_is_kept_once_a_slow_body_is_read() {
    let (addr, seen) = upstream();
    let c = client(Duration::from_secs(2));
    assert_eq!(fetch(&c, &addr, "/slow").await, (200, Bytes::from("ok")));
    until(|| idle(&c) == 1).await;
    assert_eq!(fetch(&c, &addr, "/next").await.0, 200);
    let s = *seen.lock().unwrap();
    assert_eq!((s.conns, s.requests), (1, 2));
}

#[tokio::test(flavor = "current_thread")]
async fn concurrent_requests_get_their_own_connections_and_both_are_kept() {
    let (addr, seen) = upstream();
    let c = client(Duration::from_secs(2));
    let (a, b) = tokio::join!(fetch(&c, &addr, "/a"), fetch(&c, &addr, "/b"));
    assert_eq!((a.0, b.0), (200, 200));
    until(|| idle(&c) == 2).await;
    assert_eq!(idle(&c), 2);
    let (a, b) = tokio::join!(fetch(&c, &addr, "/a"), fetch(&c, &addr, "/b"));
    assert_eq!((a.0, b.0), (200, 200));
    assert_eq!(seen.lock().unwrap().conns, 2, "both were reused");
}

/// A response whose body is dropped before it arrived whole leaves its connection
/// unusable: it is not given to the next request, which gets a connection of its own.
#[tokio::test(flavor = "current_thread")]
async fn a_connection_whose_body_was_cut_short_is_not_reused() {
    let (addr, seen) = upstream();
    let c = client(Duration::from_secs(2));
    let mut body = c.request(get(&addr, "/partial")).await.unwrap().into_body();
    let first = body.frame().await.unwrap().unwrap();
    assert_eq!(first.data_ref().map(|d| &d[..]), Some(&b"ok"[..]));
    drop(body);
    assert_eq!(fetch(&c, &addr, "/next").await.0, 200);
    let s = *seen.lock().unwrap();
    assert_eq!((s.conns, s.requests), (2, 2));
}

/// The request line is in origin form, and a request without `Host` gets the authority's
/// (without the default port).
#[tokio::test(flavor = "current_thread")]
async fn the_request_line_is_origin_form_and_host_is_set() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let head = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut chunk).unwrap();
            buf.extend_from_slice(&chunk[..n]);
        }
        s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
        String::from_utf8(buf).unwrap()
    });
    let c = client(Duration::from_secs(2));
    let resp = c.request(get(&addr, "/p?q=1")).await.unwrap();
    assert_eq!(resp.status(), 204);
    let head = head.join().unwrap();
    assert!(head.starts_with("GET /p?q=1 HTTP/1.1\r\n"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("\r\nhost: {addr}\r\n")),
        "{head}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn refused_and_non_http_urls_are_connect_errors() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = client(Duration::from_secs(2));
    let e = c
        .request(get(&format!("127.0.0.1:{port}"), "/"))
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Connect(_)), "{e}");
    let mut r = get("127.0.0.1:1", "/");
    *r.uri_mut() = "https://127.0.0.1:1/".parse().unwrap();
    let e = c.request(r).await.unwrap_err();
    assert!(e.to_string().contains("not an http:// URL"), "{e}");
}

/// A sender on an in-memory connection, ready for a request; aborting the returned
/// task closes its connection.
async fn sender() -> (SendRequest<UpBody>, tokio::task::JoinHandle<()>) {
    let (io, peer) = tokio::io::duplex(64);
    let (mut s, conn) = http1::handshake(TokioIo::new(io)).await.unwrap();
    let task = tokio::spawn(async move {
        let _peer = peer;
        let _ = conn.await;
    });
    s.ready().await.unwrap();
    (s, task)
}

fn auth(s: &str) -> Authority {
    s.parse().unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn take_gives_a_ready_connection_to_the_same_authority_only() {
    let t0 = crate::net::clock::instant();
    let mut p = Pool::default();
    let (x, _tx) = sender().await;
    let (y, _ty) = sender().await;
    assert!(p.put(x, auth("x:1"), t0), "the first put asks for a reaper");
    assert!(!p.put(y, auth("y:1"), t0), "one reaper a pool");
    assert!(p.take(&auth("z:1")).is_none());
    assert!(
        p.take(&auth("X:1")).is_some(),
        "authorities compare without case"
    );
    assert!(p.take(&auth("x:1")).is_none());
    assert_eq!(p.idle.len(), 1);
    // one the upstream closed is dropped, not given out
    let (z, tz) = sender().await;
    p.put(z, auth("y:1"), t0);
    tz.abort();
    let _ = tz.await;
    until(|| p.idle.last().is_some_and(|c| c.sender.is_closed())).await;
    assert!(p.take(&auth("y:1")).is_some(), "the older, open one");
    assert!(p.idle.is_empty(), "the closed one went on the way");
}

#[tokio::test(flavor = "current_thread")]
async fn prune_closes_connections_idle_for_the_timeout() {
    let t0 = crate::net::clock::instant();
    let timeout = Duration::from_secs(30);
    let mut p = Pool::default();
    let mut tasks = Vec::new();
    for i in 0..3u64 {
        let (s, t) = sender().await;
        tasks.push(t);
        p.put(s, auth("x:1"), t0 + Duration::from_secs(i));
    }
    assert_eq!(p.next_expiry(timeout), Some(t0 + timeout));
    p.prune(t0 + timeout - Duration::from_millis(1), timeout);
    assert_eq!(p.idle.len(), 3);
    p.prune(t0 + timeout + Duration::from_secs(1), timeout);
    let left: Vec<Duration> = p.idle.iter().map(|c| c.since - t0).collect();
    assert_eq!(left, [Duration::from_secs(2)]);
    assert_eq!(
        p.next_expiry(timeout),
        Some(t0 + timeout + Duration::from_secs(2))
    );
    p.prune(t0 + timeout + Duration::from_secs(2), timeout);
    assert_eq!(p.next_expiry(timeout), None);
}

#[tokio::test(flavor = "current_thread")]
async fn a_full_pool_closes_its_longest_idle() {
    let t0 = crate::net::clock::instant();
    let mut p = Pool::default();
    let mut tasks = Vec::new();
    for i in 0..=MAX_IDLE as u64 {
        let (s, t) = sender().await;
        tasks.push(t);
        p.put(s, auth("x:1"), t0 + Duration::from_millis(i));
    }
    assert_eq!(p.idle.len(), MAX_IDLE);
    assert_eq!(p.idle[0].since - t0, Duration::from_millis(1));
}

#[test]
fn host_is_the_authority_without_the_default_port() {
    let hosts: Vec<String> = [
        "a.example",
        "a.example:80",
        "a.example:8080",
        "[::1]:80",
        "[::1]:81",
    ]
    .iter()
    .map(|a| host_field(&auth(a)))
    .collect();
    assert_eq!(
        hosts,
        [
            "a.example",
            "a.example",
            "a.example:8080",
            "[::1]",
            "[::1]:81"
        ]
    );
}

/// What may be sent again after a stale connection: an idempotent request with no body
/// or a held one, copied with its method, target, headers and body; never a `POST`.
#[tokio::test]
async fn resendable_copies_idempotent_requests_with_their_held_body() {
    let held = |method: &str, body: &'static str| {
        let mut r = http::Request::new(Either::Right(Full::new(Bytes::from_static(
            body.as_bytes(),
        ))));
        *r.method_mut() = http::Method::from_bytes(method.as_bytes()).unwrap();
        *r.uri_mut() = "http://a.example/doc?x=1".parse().unwrap();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        r
    };
    for (method, body) in [("PUT", "abc"), ("DELETE", ""), ("GET", "")] {
        let original = held(method, body);
        let copy = resendable(&original).expect(method);
        assert_eq!(copy.method(), original.method());
        assert_eq!(copy.uri(), original.uri());
        assert_eq!(copy.headers(), original.headers());
        let bytes = copy.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(bytes, body.as_bytes(), "{method}");
    }
    assert!(resendable(&held("POST", "abc")).is_none());
    assert!(resendable(&held("PATCH", "abc")).is_none());
}
