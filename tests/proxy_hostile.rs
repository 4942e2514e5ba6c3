//! `varyedge proxy` against hostile and broken peers (issue 11): raw-socket clients, a
//! fault-injecting upstream that answers each connection with bytes of the test's
//! choosing, silent sockets, cross-site admin requests. Loopback only, every wait
//! bounded, every child killed on drop.
//!
//! `VARYEDGE_BIN=/path/to/varyedge` runs the same tests against another build (that is
//! how each test was seen to fail on the code before the fixes).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn bin() -> String {
    std::env::var("VARYEDGE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_varyedge").to_string())
}

/// A child process killed on drop, with its stdout and stderr lines collected.
struct Proc {
    child: Child,
    addr: String,
    out: Arc<Mutex<Vec<String>>>,
    err: Arc<Mutex<Vec<String>>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(
    r: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<String>>>,
    first: Option<mpsc::Sender<String>>,
) {
    thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if let Some(tx) = &first {
                let _ = tx.send(line.clone());
            }
            into.lock().unwrap().push(line);
        }
    });
}

impl Proc {
    /// Starts `varyedge ARGS` and waits for `listening on http://ADDR`.
    fn start(args: &[&str]) -> Proc {
        let mut child = Command::new(bin())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn varyedge");
        let (out, err) = (
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(Mutex::new(Vec::new())),
        );
        let (tx, rx) = mpsc::channel();
        collect(child.stdout.take().unwrap(), out.clone(), Some(tx));
        collect(child.stderr.take().unwrap(), err.clone(), None);
        let first = rx.recv_timeout(WAIT).unwrap_or_default();
        let Some(addr) = first
            .trim()
            .strip_prefix("listening on http://")
            .map(str::to_string)
        else {
            let _ = child.kill();
            let _ = child.wait();
            thread::sleep(Duration::from_millis(100));
            panic!(
                "varyedge {args:?} printed {first:?}; stderr {:?}",
                err.lock().unwrap()
            );
        };
        Proc {
            child,
            addr,
            out,
            err,
        }
    }

    fn stderr(&self) -> Vec<String> {
        self.err.lock().unwrap().clone()
    }

    /// A later stdout line starting with `prefix` (waits for it).
    fn stdout_line(&self, prefix: &str) -> String {
        let end = varyedge::net::clock::instant() + WAIT;
        loop {
            if let Some(l) = self
                .out
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.starts_with(prefix))
            {
                return l.clone();
            }
            assert!(
                varyedge::net::clock::instant() < end,
                "no stdout line {prefix:?}: {:?}",
                self.out.lock().unwrap()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_stderr(&self, needle: &str) -> String {
        let end = varyedge::net::clock::instant() + WAIT;
        loop {
            if let Some(l) = self.stderr().into_iter().find(|l| l.contains(needle)) {
                return l;
            }
            assert!(
                varyedge::net::clock::instant() < end,
                "no stderr line with {needle:?}: {:?}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// An upstream that answers every connection with `reply` and closes it; counts the
/// requests it saw (their request lines). Serves at most 64 connections.
struct Faulty {
    addr: String,
    seen: Arc<Mutex<Vec<String>>>,
}

fn faulty(reply: &'static [u8]) -> Faulty {
    upstream_keeping(reply, |head| {
        String::from_utf8_lossy(head)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    })
}

/// The upstream of [`faulty`] and [`recording`]: answers every connection with `reply`
/// once its head has arrived, and keeps `keep(head)` of each request.
fn upstream_keeping(reply: &'static [u8], keep: fn(&[u8]) -> String) -> Faulty {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    thread::spawn(move || {
        for s in l.incoming().take(64) {
            let Ok(mut s) = s else { break };
            let seen = s2.clone();
            thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                seen.lock().unwrap().push(keep(&buf));
                let _ = s.write_all(reply);
                let _ = s.shutdown(std::net::Shutdown::Write);
                thread::sleep(Duration::from_millis(200));
            });
        }
    });
    Faulty { addr, seen }
}

fn proxy(upstream: &str, extra: &[&str]) -> Proc {
    let up = format!("http://{upstream}");
    let mut args = vec![
        "proxy",
        "--upstream",
        up.as_str(),
        "--listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    Proc::start(&args)
}

#[derive(Debug)]
struct Resp {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Resp {
    fn h(&self, name: &str) -> String {
        let mut vals = Vec::new();
        for l in self.head.split("\r\n").skip(1) {
            if let Some((n, v)) = l.split_once(':') {
                if n.trim().eq_ignore_ascii_case(name) {
                    vals.push(v.trim().to_string());
                }
            }
        }
        vals.join(", ")
    }
}

/// Sends raw bytes, reads until the peer closes, parses one response. `Err` when no
/// status line came back, or the body's length contradicts Content-Length.
fn raw(addr: &str, bytes: &[u8]) -> Result<Resp, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(bytes).map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no response head in {:?}", String::from_utf8_lossy(&buf)))?;
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    let mut r = Resp {
        status,
        head,
        body: buf[split + 4..].to_vec(),
    };
    if r.h("transfer-encoding").contains("chunked") {
        r.body = dechunk(&r.body).ok_or_else(|| format!("bad chunked body: {r:?}"))?;
    }
    if let Ok(n) = r.h("content-length").parse::<usize>() {
        if n != r.body.len() && !bytes.starts_with(b"HEAD") {
            return Err(format!(
                "body of {} bytes, content-length {n}: {r:?}",
                r.body.len()
            ));
        }
    }
    Ok(r)
}

/// Sends `METHOD TARGET HTTP/1.1` with `Host: addr`, `extra` header lines (each ending
/// in CRLF), `Connection: close` and `body`, raw: the one way every test here speaks to
/// the proxy when hyper's client would refuse or repair the request.
fn raw_request(addr: &str, line: &str, extra: &str, body: &str) -> Result<Resp, String> {
    raw(
        addr,
        format!("{line} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n{body}")
            .as_bytes(),
    )
}

/// A chunked body decoded (RFC 9112 §7.1); `None` when malformed or cut short.
fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&b[..eol])
            .ok()?
            .split(';')
            .next()?
            .trim();
        let n = usize::from_str_radix(size, 16).ok()?;
        b = &b[eol + 2..];
        if n == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..n)?);
        b = b.get(n + 2..)?;
    }
}

fn get(addr: &str, target: &str, headers: &[(&str, &str)]) -> Resp {
    send(addr, "GET", target, headers)
}

fn send(addr: &str, method: &str, target: &str, headers: &[(&str, &str)]) -> Resp {
    let extra: String = headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}\r\n"))
        .collect();
    let line = format!("{method} {target}");
    let r = if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        // the test's own Host header(s) replace the default one
        raw(
            addr,
            format!("{line} HTTP/1.1\r\n{extra}Connection: close\r\n\r\n").as_bytes(),
        )
    } else {
        raw_request(addr, &line, &extra, "")
    };
    r.unwrap_or_else(|e| panic!("{method} {target}: {e}"))
}

fn stats(addr: &str) -> serde_json::Value {
    let r = get(addr, "/.varyedge/stats", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["stats"].clone()
}

// ---- 1. framing ----

#[test]
fn upstream_length_and_chunked_is_502_and_never_stored() {
    let up = faulty(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\nCache-Control: max-age=60\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    let p = proxy(&up.addr, &[]);
    let r = raw_request(&p.addr, "GET /x", "", "").expect("a whole response");
    assert_eq!(r.status, 502, "{r:?}");
    let s = stats(&p.addr);
    assert_eq!(
        (s["entries"].as_u64(), s["stores"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
}

#[test]
fn upstream_bad_chunk_size_is_a_502_status_line() {
    let up = faulty(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nCache-Control: max-age=60\r\n\r\nzz\r\nok\r\n0\r\n\r\n");
    let p = proxy(&up.addr, &[]);
    let r = raw_request(&p.addr, "GET /x", "", "").expect("a status line, not an empty reply");
    assert_eq!(r.status, 502, "{r:?}");
    assert_eq!(stats(&p.addr)["entries"], 0);
}

#[test]
fn a_small_chunked_response_is_stored_and_says_so() {
    let up = faulty(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nCache-Control: max-age=60\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    let p = proxy(&up.addr, &[]);
    let a = get(&p.addr, "/c", &[]);
    assert_eq!(a.body, b"hello");
    assert!(
        a.h("cache-status").contains("; stored"),
        "{:?}",
        a.h("cache-status")
    );
    let b = get(&p.addr, "/c", &[]);
    assert_eq!(
        (b.status, b.body.as_slice(), b.h("x-cache").as_str()),
        (200, &b"hello"[..], "HIT")
    );
    assert_eq!(up.seen.lock().unwrap().len(), 1);
}

/// A cacheable 200 with a body of `n` bytes (`b'a' + i % 26`), chunked in 4 KiB pieces
/// or with a Content-Length; leaked, as [`faulty`] wants.
fn big_reply(n: usize, chunked: bool) -> (&'static [u8], Vec<u8>) {
    let body: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
    let mut r = b"HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\n".to_vec();
    if chunked {
        r.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        for c in body.chunks(4096) {
            r.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            r.extend_from_slice(c);
            r.extend_from_slice(b"\r\n");
        }
        r.extend_from_slice(b"0\r\n\r\n");
    } else {
        r.extend_from_slice(format!("Content-Length: {n}\r\n\r\n").as_bytes());
        r.extend_from_slice(&body);
    }
    (Box::leak(r.into_boxed_slice()), body)
}

#[test]
fn every_stored_response_says_stored_and_no_other_does() {
    // --capacity 1MiB: objects up to 128 KiB (header block included)
    for (n, chunked, stored) in [
        (100 << 10, true, true),   // chunked, well past the 16 KiB read-ahead
        (100 << 10, false, true),  // Content-Length
        (0, true, true),           // empty chunked body
        (200 << 10, true, false),  // chunked, over the object limit
        (200 << 10, false, false), // Content-Length, over the object limit
    ] {
        let (reply, body) = big_reply(n, chunked);
        let up = faulty(reply);
        let p = proxy(&up.addr, &["--capacity", "1MiB"]);
        let case = format!("{n} bytes, chunked {chunked}");
        let a = raw_request(&p.addr, "GET /big", "", "").unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!((a.status, a.body == body), (200, true), "{case}");
        let cs = a.h("cache-status");
        assert_eq!(cs.contains("; stored"), stored, "{case}: {cs}");
        assert_eq!(cs.contains("too-large"), !stored, "{case}: {cs}");
        let b = raw_request(&p.addr, "GET /big", "", "").unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(b.body == body, "{case}");
        let hit = if stored { "HIT" } else { "MISS" };
        assert_eq!(b.h("x-cache"), hit, "{case}");
        assert_eq!(
            up.seen.lock().unwrap().len(),
            if stored { 1 } else { 2 },
            "{case}"
        );
        assert_eq!(stats(&p.addr)["entries"], u64::from(stored), "{case}");
    }
}

#[test]
fn a_malformed_chunked_request_body_is_a_400() {
    let up = faulty(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let p = proxy(&up.addr, &[]);
    let r = raw_request(
        &p.addr,
        "POST /x",
        "Transfer-Encoding: chunked\r\n",
        "zz\r\nhello\r\n0\r\n\r\n",
    )
    .expect("a response");
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(stats(&p.addr)["upstream_errors"], 0);
}

#[test]
fn two_host_headers_are_a_400() {
    let up = faulty(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let p = proxy(&up.addr, &[]);
    let r = get(
        &p.addr,
        "/x",
        &[("Host", "a.example"), ("Host", "b.example")],
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert!(up.seen.lock().unwrap().is_empty());
}

// ---- 3. variants ----

/// An origin whose answer varies on Origin (reflected for any Origin).
fn vary_origin() -> Proc {
    let dir = std::env::temp_dir().join(format!("varyedge-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let p = dir.join(format!(
        "vary-{}.yaml",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::write(
        &p,
        format!(
            "name: vary\norigin:\n  latency: 0ms\n  cors:\n    allow_origins: ['*']\n    vary_origin: true\n  routes:\n    - path: /v\n      cache_control: \"public, max-age=300\"\n      body: '{}'\nclients:\n  - {{ name: a, origin: https://a.example }}\nsteps:\n  - {{ client: a, fetch: GET /v }}\n",
            "x".repeat(2000)
        ),
    )
    .unwrap();
    Proc::start(&["origin", p.to_str().unwrap(), "--listen", "127.0.0.1:0"])
}

#[test]
fn variants_per_url_are_bounded_and_the_url_is_not_evicted_whole() {
    let o = vary_origin();
    let p = proxy(&o.addr, &["--max-variants", "20", "--capacity", "256KiB"]);
    for i in 0..60 {
        let r = get(
            &p.addr,
            "/v",
            &[("Origin", &format!("https://s{i}.example"))],
        );
        assert_eq!(r.status, 200);
    }
    let s = stats(&p.addr);
    assert_eq!(s["entries"], 1, "the URL is still stored: {s}");
    assert!(s["variant_evictions"].as_u64().unwrap() >= 40, "{s}");
    // the newest variants are the ones kept
    let r = get(&p.addr, "/v", &[("Origin", "https://s59.example")]);
    assert_eq!(r.h("x-cache"), "HIT");
    let r = get(&p.addr, "/v", &[("Origin", "https://s0.example")]);
    assert_eq!(r.h("x-cache"), "MISS");
    // a small capacity: one URL's variants are held to an eighth of it, oldest first
    let p = proxy(&o.addr, &["--capacity", "64KiB"]);
    for i in 0..40 {
        get(
            &p.addr,
            "/v",
            &[("Origin", &format!("https://s{i}.example"))],
        );
    }
    let s = stats(&p.addr);
    assert_eq!(s["entries"], 1, "{s}");
    assert!(s["bytes"].as_u64().unwrap() <= 64 * 1024 / 8, "{s}");
    assert_eq!(
        get(&p.addr, "/v", &[("Origin", "https://s39.example")]).h("x-cache"),
        "HIT"
    );
}

// ---- 4. timeouts and the connection cap ----

/// Whether the proxy closes a connection that sent `sent` and then nothing, within `within`.
fn closed_within(addr: &str, sent: &[u8], within: Duration) -> bool {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(sent).unwrap();
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        match s.read(&mut chunk) {
            Ok(0) => return true,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn silent_and_idle_connections_are_closed() {
    let up = faulty(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let p = proxy(
        &up.addr,
        &["--header-timeout", "0.5", "--idle-timeout", "0.5"],
    );
    assert!(
        closed_within(&p.addr, b"", Duration::from_secs(4)),
        "silent from accept"
    );
    assert!(
        closed_within(&p.addr, b"GET / HTTP/1.1\r\n", Duration::from_secs(4)),
        "head never completed"
    );
    let keep = format!("GET /k HTTP/1.1\r\nHost: {}\r\n\r\n", p.addr);
    assert!(
        closed_within(&p.addr, keep.as_bytes(), Duration::from_secs(4)),
        "idle keep-alive"
    );
}

#[test]
fn the_connection_cap_holds_and_silent_sockets_do_not_starve_others() {
    let up = faulty(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: max-age=60\r\n\r\nok");
    let p = proxy(
        &up.addr,
        &["--max-connections", "4", "--header-timeout", "1"],
    );
    let silent: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(&p.addr).unwrap())
        .collect();
    let t = varyedge::net::clock::instant();
    let r = get(&p.addr, "/ok", &[]);
    assert_eq!(r.status, 200);
    assert!(
        t.elapsed() < Duration::from_secs(8),
        "took {:?}",
        t.elapsed()
    );
    drop(silent);
}

// ---- 5. admin ----

#[test]
fn admin_answers_only_loopback_hosts_in_origin_form() {
    let up = faulty(b"HTTP/1.1 404 Not Found\r\nContent-Length: 8\r\n\r\nupstream");
    let p = proxy(&up.addr, &[]);
    let abs = raw(&p.addr, b"GET http://evil.example/.varyedge/stats HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n").unwrap();
    assert_eq!(
        (abs.status, abs.body.as_slice()),
        (404, &b"upstream"[..]),
        "absolute-form is proxied: {abs:?}"
    );
    let foreign = get(&p.addr, "/.varyedge/stats", &[("Host", "evil.example")]);
    assert_eq!(foreign.body, b"upstream", "foreign Host is proxied");
    assert_eq!(
        get(&p.addr, "/.varyedge/stats", &[("Host", "localhost:1")]).status,
        200
    );
}

#[test]
fn purges_need_a_non_simple_same_origin_request() {
    let up = faulty(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: max-age=60\r\n\r\nok");
    let p = proxy(&up.addr, &[]);
    // what a cross-site form or fetch() can send without a preflight
    let simple = send(
        &p.addr,
        "POST",
        "/.varyedge/purge-all",
        &[("Content-Type", "text/plain"), ("Content-Length", "0")],
    );
    assert_eq!(simple.status, 403, "{simple:?}");
    let cross = send(
        &p.addr,
        "POST",
        "/.varyedge/purge-all",
        &[
            ("X-Varyedge-Admin", "1"),
            ("Origin", "https://evil.example"),
        ],
    );
    assert_eq!(cross.status, 403);
    let site = send(
        &p.addr,
        "POST",
        "/.varyedge/purge-all",
        &[("X-Varyedge-Admin", "1"), ("Sec-Fetch-Site", "cross-site")],
    );
    assert_eq!(site.status, 403);
    let ok = send(
        &p.addr,
        "POST",
        "/.varyedge/purge-all",
        &[("X-Varyedge-Admin", "1")],
    );
    assert_eq!(ok.status, 200, "{ok:?}");
    let json = send(
        &p.addr,
        "POST",
        "/.varyedge/purge?url=/x",
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", "0"),
        ],
    );
    assert_eq!(json.status, 200);
}

#[test]
fn admin_on_its_own_listener_and_off() {
    let up = faulty(b"HTTP/1.1 404 Not Found\r\nContent-Length: 8\r\n\r\nupstream");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let admin = format!("127.0.0.1:{port}");
    let p = proxy(&up.addr, &["--admin-listen", &admin]);
    assert!(p.stdout_line("admin endpoints on http://").contains(&admin));
    assert_eq!(get(&admin, "/.varyedge/stats", &[]).status, 200);
    assert_eq!(get(&p.addr, "/.varyedge/stats", &[]).body, b"upstream");
    let q = proxy(&up.addr, &["--admin-listen", "off"]);
    assert_eq!(get(&q.addr, "/.varyedge/stats", &[]).body, b"upstream");
}

#[test]
fn entries_come_in_pages() {
    let up = faulty(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: max-age=60\r\n\r\nok");
    let p = proxy(&up.addr, &[]);
    for i in 0..5 {
        get(&p.addr, &format!("/e{i}"), &[]);
    }
    let mut keys = Vec::new();
    let mut next = "/.varyedge/entries?limit=2".to_string();
    for _ in 0..5 {
        let r = get(&p.addr, &next, &[]);
        let page: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert!(page.as_array().unwrap().len() <= 2);
        keys.extend(
            page.as_array()
                .unwrap()
                .iter()
                .map(|e| e["key"].as_str().unwrap().to_string()),
        );
        let link = r.h("link");
        match link.strip_prefix('<').and_then(|l| l.split_once('>')) {
            Some((n, _)) => next = n.to_string(),
            None => break,
        }
    }
    assert_eq!(keys.len(), 5, "{keys:?}");
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

// ---- 6. Set-Cookie ----

const COOKIE_REPLY: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: public, max-age=60\r\nSet-Cookie: session=alice\r\n\r\nok";

#[test]
fn varnish_and_nginx_profiles_do_not_store_set_cookie() {
    for profile in ["varnish", "nginx", "fastly", "cloudflare"] {
        let up = faulty(COOKIE_REPLY);
        let p = proxy(&up.addr, &["--profile", profile]);
        let a = get(&p.addr, "/s", &[]);
        assert!(
            a.h("cache-status").contains("detail=\"set-cookie\""),
            "{profile}: {:?}",
            a.h("cache-status")
        );
        let b = get(&p.addr, "/s", &[]);
        assert_ne!(b.h("x-cache"), "HIT", "{profile}");
        assert_eq!(up.seen.lock().unwrap().len(), 2, "{profile}");
    }
}

#[test]
fn rfc9111_stores_set_cookie_and_says_so() {
    let up = faulty(COOKIE_REPLY);
    let p = proxy(&up.addr, &[]);
    let a = get(&p.addr, "/s", &[]);
    assert!(
        a.h("cache-status").contains("stored-set-cookie"),
        "{:?}",
        a.h("cache-status")
    );
    let b = get(&p.addr, "/s", &[]);
    assert_eq!(b.h("x-cache"), "HIT");
    assert!(b.h("cache-status").contains("stored-set-cookie"));
    let line = p.wait_stderr("stored Set-Cookie replayed");
    assert!(line.contains("GET /s"), "{line}");
}

#[test]
fn squid_and_cloudfront_serve_hits_without_set_cookie() {
    for profile in ["squid", "cloudfront"] {
        let up = faulty(COOKIE_REPLY);
        let p = proxy(&up.addr, &["--profile", profile]);
        get(&p.addr, "/s", &[]);
        let b = get(&p.addr, "/s", &[]);
        assert_eq!(b.h("x-cache"), "HIT", "{profile}");
        assert_eq!(b.h("set-cookie"), "", "{profile}");
    }
}

// ---- 7. ports and targets ----

#[test]
fn bad_ports_are_usage_errors() {
    let cases: [&[&str]; 3] = [
        &["proxy", "--upstream", "http://127.0.0.1:99999"],
        &["proxy", "--upstream", "http://127.0.0.1:0"],
        &["replay", "scenarios/", "--target", "http://127.0.0.1:99999"],
    ];
    for args in cases {
        // bounded: a build that accepts the port would run (and listen) for ever
        let (code, err) = run_bounded(args, WAIT)
            .unwrap_or_else(|| panic!("{args:?} was accepted and kept running"));
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains("99999") || args[2].ends_with(":0"), "{err}");
    }
}

#[test]
fn asterisk_form_is_answered_locally() {
    let up = faulty(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: max-age=60\r\n\r\nok");
    let p = proxy(&up.addr, &[]);
    let o = raw_request(&p.addr, "OPTIONS *", "", "").unwrap();
    assert_eq!(o.status, 204, "{o:?}");
    assert!(o.h("allow").contains("GET"));
    let g = raw_request(&p.addr, "GET *", "", "");
    assert!(matches!(g, Ok(Resp { status: 400, .. })), "{g:?}");
    assert!(
        up.seen.lock().unwrap().is_empty(),
        "{:?}",
        up.seen.lock().unwrap()
    );
}

// ---- 8. one proxy per address ----

#[test]
fn a_second_proxy_on_the_same_address_is_refused() {
    let up = faulty(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let upstream = format!("http://{}", up.addr);
    let _first = Proc::start(&["proxy", "--upstream", &upstream, "--listen", &listen]);
    let (code, err) = run_bounded(
        &["proxy", "--upstream", &upstream, "--listen", &listen],
        WAIT,
    )
    .unwrap_or_else(|| panic!("a second proxy started on {listen}"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("in use"), "{err}");
}

// ---- 9. lower items: lint against a silent server ----

/// Runs `varyedge ARGS` (in the crate's directory) for at most `limit`; `None` when it
/// had to be killed.
fn run_bounded(args: &[&str], limit: Duration) -> Option<(Option<i32>, String)> {
    let child = Command::new(bin())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_bounded(child, limit)
}

/// Waits at most `limit` for `child` to exit: its exit code and stderr, or `None` (and
/// the child killed) when it kept running.
fn wait_bounded(mut child: Child, limit: Duration) -> Option<(Option<i32>, String)> {
    let end = varyedge::net::clock::instant() + limit;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                e.read_to_string(&mut err).unwrap();
            }
            return Some((st.code(), err));
        }
        if varyedge::net::clock::instant() > end {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn lint_gives_up_on_a_silent_server() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    // accepts (the kernel's backlog does) and never answers; kept open for the test
    let t = varyedge::net::clock::instant();
    let r = run_bounded(
        &["lint", "--upstream", &url, "--timeout", "1s"],
        Duration::from_secs(12),
    );
    let (code, err) = r.unwrap_or_else(|| panic!("lint still running after {:?}", t.elapsed()));
    assert!(
        t.elapsed() < Duration::from_millis(4500), // two probes waited on, the rest not sent
        "took {:?}",
        t.elapsed()
    );
    assert_ne!(code, Some(0), "{err}");
    drop(l);
}

#[test]
fn the_max_object_check_counts_the_header_block() {
    // capacity 16 KiB: objects up to 2 KiB; a 1.5 KiB body fits alone, not with 1 KiB of headers
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: 1500\r\nCache-Control: max-age=60\r\nX-Big: {}\r\n\r\n{}",
        "h".repeat(1000),
        "b".repeat(1500)
    );
    let up = faulty(Box::leak(reply.into_bytes().into_boxed_slice()));
    let p = proxy(&up.addr, &["--capacity", "16KiB"]);
    let a = get(&p.addr, "/big", &[]);
    assert_eq!(a.body.len(), 1500);
    assert!(
        a.h("cache-status").contains("too-large"),
        "{:?}",
        a.h("cache-status")
    );
    assert_eq!(stats(&p.addr)["entries"], 0);
}

// ---- request targets and Host (RFC 9112 §3.2, §3.3) ----

/// An upstream like [`faulty`] that keeps each request's whole head.
fn recording(reply: &'static [u8]) -> Faulty {
    upstream_keeping(reply, |head| {
        String::from_utf8_lossy(head).to_ascii_lowercase()
    })
}

const CACHEABLE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: max-age=60\r\n\r\nok";

/// RFC 9112 §3.2: a Host that is not `uri-host [ ":" port ]` is a 400. Before, `Host:
/// a.example/foo` with target `/bar` was forwarded as `/bar` and stored under the key
/// of `http://a.example/foo/bar`: anyone could fill another URL's entry.
#[test]
fn a_host_with_a_path_is_a_400_and_fills_no_other_key() {
    let up = faulty(CACHEABLE);
    let p = proxy(&up.addr, &["--profile", "varnish"]);
    for host in ["t.example/foo", "t.example?x", "u@t.example"] {
        let r = get(&p.addr, "/bar", &[("Host", host)]);
        assert_eq!(r.status, 400, "{host}: {r:?}");
        assert!(
            String::from_utf8_lossy(&r.body).contains("invalid Host header field"),
            "{r:?}"
        );
    }
    assert!(up.seen.lock().unwrap().is_empty());
    assert_eq!(stats(&p.addr)["entries"], 0);
    // and it keeps serving
    let ok = get(&p.addr, "/foo/bar", &[("Host", "t.example")]);
    assert_eq!(ok.status, 200);
    assert!(ok.h("cache-status").contains("fwd=uri-miss"), "{ok:?}");
}

/// RFC 9112 §3.2.2: with an absolute-form target the proxy ignores `Host` and uses the
/// target's authority, for the key and (with `--preserve-host`) for the upstream.
/// §3.2.3: the authority-form is for CONNECT only (it was forwarded as `/` and stored
/// as that); RFC 9110 §4.2.4: userinfo is an error.
#[test]
fn absolute_form_is_keyed_by_its_authority_and_authority_form_is_a_400() {
    let up = recording(CACHEABLE);
    let p = proxy(&up.addr, &["--profile", "varnish", "--preserve-host"]);
    let r = get(&p.addr, "http://abs.example/q", &[("Host", "t.example")]);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        r.h("cache-status")
            .contains("key=\"GET http://abs.example/q\""),
        "{r:?}"
    );
    let seen = up.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].starts_with("get /q http/1.1\r\n"), "{seen:?}");
    assert!(seen[0].contains("\r\nhost: abs.example\r\n"), "{seen:?}");
    // the origin-form request with that Host is the same entry
    let hit = get(&p.addr, "/q", &[("Host", "abs.example")]);
    assert_eq!(hit.h("x-cache"), "HIT", "{hit:?}");
    for target in ["abs.example:80", "http://u@abs.example/q"] {
        let r = get(&p.addr, target, &[("Host", "t.example")]);
        assert_eq!(r.status, 400, "{target}: {r:?}");
    }
    assert_eq!(up.seen.lock().unwrap().len(), 1);
    assert_eq!(stats(&p.addr)["entries"], 1);
}

/// RFC 9112 §3.2: only an HTTP/1.1 request must carry Host; an HTTP/1.0 one without it
/// is served (keyed and forwarded under the upstream's authority), as nginx and
/// Varnish do. An HTTP/1.1 one without it is still a 400.
#[test]
fn an_http10_request_without_host_is_served() {
    let up = faulty(CACHEABLE);
    let p = proxy(&up.addr, &["--profile", "varnish"]);
    let r = raw(&p.addr, b"GET /old HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        r.h("cache-status")
            .contains(&format!("key=\"GET http://{}/old\"", up.addr)),
        "{r:?}"
    );
    let r = raw(&p.addr, b"GET /new HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
    assert_eq!(r.status, 400, "{r:?}");
}

// ---- what the upstream sends (RFC 9112 §6, RFC 9110 §2.5) ----

/// RFC 9112 §6.1: a compression transfer coding (`gzip` alone: the body is read to the
/// close, still gzip-coded; or under chunked) is a 502 and never stored: the
/// proxy removes `Transfer-Encoding` (hop-by-hop), so the coded bytes would have gone
/// out and into the store as the content.
#[test]
fn an_upstream_compression_transfer_coding_is_502_and_never_stored() {
    for reply in [
        &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nCache-Control: max-age=60\r\n\r\nnot-gzip"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nCache-Control: max-age=60\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    ] {
        let up = faulty(reply);
        let p = proxy(&up.addr, &[]);
        let r = raw_request(&p.addr, "GET /x", "", "").expect("a whole response");
        assert_eq!(r.status, 502, "{r:?}");
        assert!(
            String::from_utf8_lossy(&r.body).contains("compression transfer coding"),
            "{r:?}"
        );
        assert_eq!(stats(&p.addr)["entries"], 0);
    }
}

/// RFC 9112 §6.3 (5): `Content-Length: 5, 5` is processed as 5, and the proxy relays
/// and stores a valid `Content-Length: 5`. RFC 9110 §2.5: an HTTP/1.0 upstream's answer
/// goes out in the proxy's own version, HTTP/1.1.
#[test]
fn an_upstream_length_list_is_relayed_as_one_value_and_its_version_as_ours() {
    let up = faulty(
        b"HTTP/1.0 200 OK\r\nContent-Length: 5, 5\r\nCache-Control: max-age=60\r\n\r\nhello",
    );
    let p = proxy(&up.addr, &[]);
    for x_cache in ["MISS", "HIT"] {
        let r = raw_request(&p.addr, "GET /x", "", "").expect("a whole response");
        assert!(r.head.starts_with("HTTP/1.1 200 "), "{r:?}");
        assert_eq!(r.h("content-length"), "5", "{r:?}");
        assert_eq!(r.h("x-cache"), x_cache, "{r:?}");
        assert_eq!(r.body, b"hello");
    }
}

/// RFC 9110 §6.6.1: a response that came without `Date` is stored with the time it was
/// received, so a later hit says when it was made (and `Age` since), as Varnish does;
/// it went out with the `Date` of each hit.
#[test]
fn a_response_without_date_is_stored_with_the_time_it_was_received() {
    let up = faulty(CACHEABLE);
    let p = proxy(&up.addr, &[]);
    let a = raw_request(&p.addr, "GET /d", "", "").unwrap();
    assert_eq!(a.h("x-cache"), "MISS");
    let date = a.h("date");
    assert!(date.ends_with(" GMT"), "{a:?}");
    thread::sleep(Duration::from_millis(2100));
    let b = raw_request(&p.addr, "GET /d", "", "").unwrap();
    assert_eq!(b.h("x-cache"), "HIT", "{b:?}");
    assert_eq!(b.h("date"), date, "{b:?}");
    assert!(b.h("age").parse::<u64>().unwrap() >= 2, "{b:?}");
}

/// RFC 9110 §7.6.2: OPTIONS or TRACE with `Max-Forwards: 0` is answered by the proxy as
/// the final recipient (OPTIONS: 204 with Allow; TRACE: 405, it reflects nothing), and a
/// larger value is forwarded decremented. §15.5.6: every 405 carries Allow (CONNECT's
/// did not).
#[test]
fn max_forwards_zero_ends_at_the_proxy_and_a_larger_one_is_decremented() {
    let up = recording(CACHEABLE);
    let p = proxy(&up.addr, &[]);
    let o = send(&p.addr, "OPTIONS", "/x", &[("Max-Forwards", "0")]);
    assert_eq!(o.status, 204, "{o:?}");
    assert!(o.h("allow").contains("OPTIONS"), "{o:?}");
    let t = send(&p.addr, "TRACE", "/x", &[("Max-Forwards", "0")]);
    assert_eq!(t.status, 405, "{t:?}");
    assert!(t.h("allow").contains("GET"), "{t:?}");
    assert!(up.seen.lock().unwrap().is_empty());
    let c = raw(
        &p.addr,
        b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert_eq!(c.status, 405, "{c:?}");
    assert!(c.h("allow").contains("GET"), "{c:?}");
    let fwd = send(&p.addr, "OPTIONS", "/x", &[("Max-Forwards", "3")]);
    assert_eq!(fwd.status, 200, "{fwd:?}");
    let seen = up.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].contains("\r\nmax-forwards: 2\r\n"), "{seen:?}");
}

/// RFC 9110 §15.2.2: a server must not switch to a protocol the client did not ask for,
/// and the proxy never forwards `Upgrade` (hop-by-hop): an upstream 101 is a 502, not a
/// 101 without `Upgrade` (§7.8) on a connection that then carries nothing.
#[test]
fn an_unasked_101_from_the_upstream_is_a_502() {
    let up = faulty(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nraw bytes",
    );
    let p = proxy(&up.addr, &[]);
    let r = raw_request(&p.addr, "GET /ws", "Upgrade: websocket\r\n", "").unwrap();
    assert_eq!(r.status, 502, "{r:?}");
    assert!(
        String::from_utf8_lossy(&r.body).contains("101 Switching Protocols"),
        "{r:?}"
    );
    assert_eq!(stats(&p.addr)["entries"], 0);
}
