//! A bounded, stable-toolchain fuzz harness for the proxy's request path (issue 11):
//! proptest builds raw HTTP/1.1 requests from hostile parts (methods, targets in every
//! form, duplicated and malformed header lines, Content-Length / Transfer-Encoding
//! combinations, broken chunked bodies, bare CR/LF, NULs, admin paths) and sends each
//! over a fresh loopback connection to `varyedge proxy` in front of `varyedge origin`.
//! Properties: every reply that arrives starts with a well-formed status line and never
//! a 5xx that blames the upstream for the client's bytes; the proxy stays up; afterwards
//! a normal request is still served and the stats stay coherent. `FUZZ_CASES` sets the
//! number of requests (default 1500); executions are printed.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

/// Proptest runners sending requests at the same time.
const RUNNERS: u32 = 4;

const BIN: &str = env!("CARGO_BIN_EXE_varyedge");

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> (Kill, String) {
    let mut c = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn varyedge");
    let out = c.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(out);
        let mut l = String::new();
        let _ = r.read_line(&mut l);
        let _ = tx.send(l);
        let mut sink = Vec::new();
        let _ = r.read_to_end(&mut sink);
    });
    let line = rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("varyedge {args:?} printed {line:?}"))
        .to_string();
    (Kill(c), addr)
}

const ORIGIN: &str = "name: fuzz\norigin:\n  latency: 0ms\n  cors:\n    allow_origins: [https://a.example]\n    vary_origin: true\n  routes:\n    - path: /api*\n      cache_control: \"public, max-age=60\"\n      body: ok\n    - path: /c*\n      cache_control: \"public, max-age=60\"\n      headers: { set-cookie: s=1 }\n      body: ok\nclients:\n  - { name: a, origin: https://a.example }\nsteps:\n  - { client: a, fetch: GET /api }\n";

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(&["GET", "HEAD", "OPTIONS"][..]).prop_map(str::to_string),
        3 => prop::sample::select(&["GET", "HEAD", "POST", "PUT", "OPTIONS", "DELETE", "CONNECT", "TRACE", "PRI", "get", "G\0T", ""][..]).prop_map(str::to_string),
        1 => "[A-Z]{1,12}",
    ]
}

fn target() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "/api/[a-z0-9]{0,6}(\\?[a-z=&]{0,8})?",
        4 => prop::sample::select(&[
            "/api/data", "/api?x=1&x=2", "*", "/.varyedge/stats", "/.varyedge/entries?limit=0",
            "/.varyedge/purge-all", "http://evil.example/.varyedge/stats", "http://127.0.0.1/api",
            "//api", "/c", "/%zz", "/a b", "", "example.com:443", "/api#frag", "/../../etc/passwd",
        ][..])
        .prop_map(str::to_string),
        1 => "/[ -~]{0,40}",
    ]
}

fn header_line() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            &[
                "Host: x",
                "Host: a\r\nHost: b",
                "Content-Length: 5",
                "Content-Length: -1",
                "Content-Length: 5, 6",
                "Content-Length: 99999999999999999999",
                "Transfer-Encoding: chunked",
                "Transfer-Encoding: gzip, chunked",
                "Transfer-Encoding: identity",
                "Origin: https://a.example",
                "Origin: null",
                "Cookie: s=1",
                "Authorization: Basic x",
                "Connection: keep-alive, x-foo",
                "Expect: 100-continue",
                "Upgrade: h2c",
                "X-Varyedge-Admin: 1",
                "Content-Type: application/json",
                "Sec-Fetch-Site: cross-site",
                " folded: x",
                "bad header",
                ": empty",
                "X: \u{1}",
                "Vary: *",
            ][..]
        )
        .prop_map(str::to_string),
        "[a-zA-Z-]{1,12}: [ -~]{0,30}",
    ]
}

fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("5\r\nhello\r\n0\r\n\r\n".to_string()),
        Just("zz\r\nhello\r\n0\r\n\r\n".to_string()),
        Just("ffffffffffffffffff\r\n".to_string()),
        Just("hello".to_string()),
        "[ -~\r\n]{0,64}",
    ]
}

fn request() -> impl Strategy<Value = Vec<u8>> {
    (
        method(),
        target(),
        prop_oneof![
            8 => Just("HTTP/1.1"),
            1 => Just("HTTP/1.0"),
            1 => prop::sample::select(&["HTTP/2.0", "HTTP/1.1x", "", "HTTP/9"][..]),
        ],
        prop::collection::vec(header_line(), 0..6),
        body(),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.85),
    )
        .prop_map(|(m, t, v, hs, b, bare_lf, host)| {
            let eol = if bare_lf { "\n" } else { "\r\n" };
            let mut r = format!("{m} {t} {v}{eol}");
            if host {
                r.push_str("Host: fuzz.example");
                r.push_str(eol);
            }
            for h in hs {
                r.push_str(&h);
                r.push_str(eol);
            }
            r.push_str("Connection: close");
            r.push_str(eol);
            r.push_str(eol);
            r.push_str(&b);
            r.into_bytes()
        })
}

/// Sends one request; the first line of the reply (empty when none came).
fn exchange(addr: &str, bytes: &[u8]) -> String {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return "<connect failed>".into();
    };
    // no half-close: hyper (like most servers) drops a connection whose client shut its
    // side down before the answer; a request waiting for body bytes that never come
    // times out here
    let _ = s.set_read_timeout(Some(Duration::from_millis(1500)));
    let _ = s.write_all(bytes);
    let mut buf = Vec::new();
    let _ = s.take(64 << 10).read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    text.lines().next().unwrap_or("").to_string()
}

fn stats(addr: &str) -> serde_json::Value {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET /.varyedge/stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let body = buf.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str::<serde_json::Value>(body).unwrap()["stats"].clone()
}

#[test]
fn hostile_requests_never_break_the_proxy() {
    let cases: u32 = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let dir = std::env::temp_dir().join(format!("varyedge-fuzz-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sc = dir.join("origin.yaml");
    std::fs::write(&sc, ORIGIN).unwrap();
    let (_o, oaddr) = start(&["origin", sc.to_str().unwrap(), "--listen", "127.0.0.1:0"]);
    let up = format!("http://{oaddr}");
    let (proxy, addr) = start(&[
        "proxy",
        "--upstream",
        &up,
        "--listen",
        "127.0.0.1:0",
        "--upstream-timeout",
        "2",
    ]);
    // Four runners side by side, each a quarter of the cases over its own connections:
    // the same number of requests, and a request whose body never comes (the client
    // waits 1.5 s for it) no longer holds up the others (it did ~15 of 17 s).
    let runs = AtomicU64::new(0);
    let statuses: Mutex<BTreeMap<String, u64>> = Mutex::default();
    let proxy = Mutex::new(proxy);
    let one = |cases: u32| {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        runner.run(&request(), |bytes| {
            runs.fetch_add(1, Ordering::Relaxed);
            let line = exchange(&addr, &bytes);
            let status = line.split(' ').nth(1).unwrap_or("none").to_string();
            *statuses.lock().unwrap().entry(status.clone()).or_default() += 1;
            if !line.is_empty() {
                prop_assert!(
                    (line.starts_with("HTTP/1.1 ") || line.starts_with("HTTP/1.0 "))
                        && status.len() == 3
                        && status.bytes().all(|b| b.is_ascii_digit()),
                    "bad status line {line:?} for {:?}",
                    String::from_utf8_lossy(&bytes)
                );
            }
            prop_assert!(
                proxy.lock().unwrap().0.try_wait().ok().flatten().is_none(),
                "the proxy exited after {:?}",
                String::from_utf8_lossy(&bytes)
            );
            Ok(())
        })
    };
    let results: Vec<_> = std::thread::scope(|s| {
        let one = &one;
        let handles: Vec<_> = (0..RUNNERS)
            .map(|i| s.spawn(move || one(cases / RUNNERS + u32::from(i < cases % RUNNERS))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    eprintln!(
        "fuzz_proxy: {} executions; replies by status: {:?}",
        runs.load(Ordering::Relaxed),
        statuses.lock().unwrap()
    );
    for r in results {
        if let Err(e) = r {
            panic!("{e}");
        }
    }
    // still serving, and the counters still add up
    let ok = exchange(
        &addr,
        format!("GET /api/ok HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let s = stats(&addr);
    let n = |k: &str| s[k].as_u64().unwrap_or(0);
    // every request is a hit, stale hit, miss, pass or collapse, or was refused before
    // the lookup (a 4xx); a 4xx after the lookup (a malformed body) is counted twice
    let decided = n("hits") + n("stale") + n("misses") + n("passes") + n("collapsed");
    assert!(
        decided <= n("requests") && n("requests") <= decided + n("bad_requests"),
        "{s}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
