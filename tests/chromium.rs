//! The browser model agrees with a real browser (issue 6).
//!
//! Every case in `tests/chromium/cases/{direct,proxy}/*.yaml` is a v1 scenario. This test
//! serves three loopback page origins, starts `varyedge origin` for each case (and
//! `varyedge proxy` in front of it for the `proxy/` cases), has one headless Chromium run
//! the case's steps as `fetch()` calls from those pages (`tests/chromium/driver.mjs`,
//! playwright-core), and replays the same scenario in-process. Per step, the page's result
//! (allowed, or Chromium's CORS error and console text), whether a preflight went out, and
//! what reached the origin must equal the model's. A disagreement fails the test with
//! both verdicts printed.
//!
//! Ignored by default (it needs Chromium and Node): `.ci/run` runs
//! `cargo test --test chromium -- --ignored --test-threads=1`.

mod common;

use common::{Proc, Server};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use varyedge::browser::{Agent, Credentials, Mode, Reason, RedirectMode};
use varyedge::edge::Outcome;
use varyedge::profile::EdgeFlags;
use varyedge::scenario::{PreflightUse, Scenario};
use varyedge::sim::{Expectation, StepReport};

const CHROMIUM: &str = "/usr/bin/chromium";
const INSTALL: &str =
    "install it: apt-get install -y chromium chromium-driver / npm ci in tests/chromium";
/// The flags the brief asks for; `--disable-quic` keeps everything on plain HTTP/1.1.
const CHROMIUM_ARGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
];

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/chromium")
}

/// Starts `cmd` and waits for its `listening on http://ADDR` line; its stderr goes to `log`.
fn spawn_listening(mut cmd: Command, what: &str, log: &Path) -> (Server, SocketAddr) {
    cmd.stderr(std::fs::File::create(log).unwrap());
    let s = Server::spawn(
        what,
        &mut cmd,
        Some(log.to_path_buf()),
        Duration::from_secs(20),
    );
    let addr = s
        .addr
        .parse()
        .unwrap_or_else(|e| panic!("{what}: listening on {:?}: {e}", s.url));
    (s, addr)
}

/// A page origin: answers every request with an empty HTML page (the page only runs the
/// `fetch()` calls the driver evaluates in it). Stops on drop.
struct PageServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PageServer {
    fn start() -> PageServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(s) = stream {
                    std::thread::spawn(move || serve_page(s));
                }
            }
        });
        PageServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

fn serve_page(mut s: TcpStream) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let first = String::from_utf8_lossy(&buf);
    let (status, body) = if first.starts_with("GET / ") {
        ("200 OK", "<!doctype html><title>varyedge page</title>")
    } else {
        ("404 Not Found", "")
    };
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\ncontent-type: text/html\r\ncache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A case file, loaded and running.
struct Case {
    id: String,
    via: String,
    scenario: Scenario,
    trace: varyedge::sim::Trace,
    stats: String,
    /// The proxy's `/.varyedge/stats`, for `proxy/` cases.
    proxy_stats: Option<String>,
    _procs: Vec<Server>,
}

/// What one step looked like, from either side; compared field by field.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    allowed: bool,
    reason: String,
    in_preflight: bool,
    preflight_sent: bool,
    /// What reached the origin. Direct: `OPTIONS n, GET m`. Through the proxy: requests
    /// the proxy forwarded for this step, without its judge fetches (the proxy asks the
    /// upstream what it would have answered before warning about a served entry).
    origin: String,
    /// Through the proxy: its outcomes for this step's requests (`hit 1 miss 0 pass 1`).
    edge: Option<String>,
    console: String,
}

fn edge_counts(hit: i64, miss: i64, pass: i64, stale: i64, collapsed: i64) -> String {
    format!("hit {hit} miss {miss} pass {pass} stale {stale} collapsed {collapsed}")
}

impl std::fmt::Display for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}{} | preflight {} | origin saw {}",
            if self.allowed { "allowed" } else { "blocked" },
            self.reason,
            if self.in_preflight {
                " (on the preflight)"
            } else {
                ""
            },
            if self.preflight_sent {
                "sent"
            } else {
                "not sent"
            },
            self.origin
        )?;
        if let Some(e) = &self.edge {
            write!(f, " | proxy {e}")?;
        }
        if !self.console.is_empty() {
            write!(f, "\n        console: {}", self.console)?;
        }
        Ok(())
    }
}

fn reached_origin(o: Outcome) -> bool {
    matches!(o, Outcome::Miss | Outcome::Pass | Outcome::Stale)
}

fn model_seen(r: &StepReport, via_proxy: bool) -> Seen {
    let preflight_sent = r.preflight == PreflightUse::Sent;
    // Every request that left the browser (preflights, redirect hops); none when the
    // browser's HTTP cache answered.
    let n = |o: Outcome| r.hops.iter().filter(|h| h.cache == o).count() as i64;
    let reached = |leg: &str| {
        r.hops
            .iter()
            .filter(|h| h.leg == leg && reached_origin(h.cache))
            .count() as i64
    };
    let (options, actual) = (reached("preflight"), reached("actual"));
    Seen {
        allowed: r.verdict.allowed,
        reason: r.verdict.reason.id().to_string(),
        in_preflight: r.verdict.in_preflight,
        preflight_sent,
        origin: if via_proxy {
            format!("{} forwarded", options + actual)
        } else {
            format!("OPTIONS {options}, others {actual}")
        },
        edge: via_proxy.then(|| {
            edge_counts(
                n(Outcome::Hit),
                n(Outcome::Miss),
                n(Outcome::Pass),
                n(Outcome::Stale),
                n(Outcome::Collapsed),
            )
        }),
        console: r.verdict.console.clone(),
    }
}

/// Chromium's `Network.CorsError` (CDP) → our reason id, and whether it was the
/// preflight's. Anything else stays Chromium's name, so it can never agree by accident.
fn chromium_reason(cors_error: &str) -> (String, bool) {
    let in_preflight = cors_error.starts_with("Preflight") || cors_error.contains("Preflight");
    let base = cors_error.strip_prefix("Preflight").unwrap_or(cors_error);
    let id = match base {
        "MissingAllowOriginHeader" => "missing-allow-origin",
        "MultipleAllowOriginValues" => "multiple-allow-origin",
        "InvalidAllowOriginValue" | "AllowOriginMismatch" => "origin-mismatch",
        "WildcardOriginNotAllowed" => "wildcard-with-credentials",
        "InvalidAllowCredentials" => "credentials-not-allowed",
        "InvalidStatus" => "preflight-bad-status",
        "MethodDisallowedByPreflightResponse" | "InvalidAllowMethodsPreflightResponse" => {
            "method-not-allowed"
        }
        "HeaderDisallowedByPreflightResponse" | "InvalidAllowHeadersPreflightResponse" => {
            "header-not-allowed"
        }
        "MissingAllowPrivateNetwork" | "InvalidAllowPrivateNetwork" => {
            "private-network-not-allowed"
        }
        "DisallowedRedirect" => "preflight-redirect",
        "RedirectContainsCredentials" => "redirect-contains-credentials",
        _ => return (format!("chromium:{cors_error}"), in_preflight),
    };
    (id.to_string(), in_preflight)
}

/// A failure without a CORS error: the page's TypeError, mapped to our id where the
/// model has one (`no-cors-method`: the Request constructor's TypeError;
/// `redirect-mode-error`: a network error on a `redirect: "error"` fetch;
/// `too-many-redirects`: Chromium's `net::ERR_TOO_MANY_REDIRECTS` after 20 redirects;
/// `redirect-not-http`: `net::ERR_UNSAFE_REDIRECT`, a redirect to a non-HTTP(S) URL).
fn type_error_reason(s: &Value, redirect: &str) -> String {
    let page_error = s["page"]["error"].as_str().unwrap_or("");
    if page_error.contains("is unsupported in no-cors mode") {
        return "no-cors-method".to_string();
    }
    if redirect == "error" && s["net_error"].as_str() == Some("net::ERR_FAILED") {
        return "redirect-mode-error".to_string();
    }
    if s["net_error"].as_str() == Some("net::ERR_TOO_MANY_REDIRECTS") {
        return "too-many-redirects".to_string();
    }
    if s["net_error"].as_str() == Some("net::ERR_UNSAFE_REDIRECT") {
        return "redirect-not-http".to_string();
    }
    format!(
        "network-error:{}",
        s["net_error"].as_str().unwrap_or(page_error)
    )
}

/// Whether the step's CORS failures all belong to Blink's background revalidation of a
/// stale entry (`stale-while-revalidate`): a request DevTools shows as type `Other`,
/// made after the page's `fetch()` resolved with the stale answer, whose console line
/// reads "Access to resource at …". Its failure is not the page's: the model's verdict is
/// the page's, and what the failed revalidation leaves (no entry) shows in the next step.
fn background_failure_only(s: &Value, allowed: bool) -> bool {
    let failed: Vec<&Value> = s["events"]
        .as_array()
        .map(|ev| {
            ev.iter()
                .filter(|e| e["kind"] == "failed" && !e["cors"].is_null())
                .collect()
        })
        .unwrap_or_default();
    allowed && !failed.is_empty() && failed.iter().all(|e| e["type"] == "Other")
}

fn chromium_seen(s: &Value, redirect: &str, via_proxy: bool) -> Seen {
    let allowed = s["page"]["ok"].as_bool().unwrap();
    let background = background_failure_only(s, allowed);
    if background {
        println!(
            "         (a background revalidation failed CORS: {})",
            s["cors_error"].as_str().unwrap_or("")
        );
    }
    let cors_error = s["cors_error"].as_str().filter(|_| !background);
    let (reason, in_preflight) = match cors_error {
        Some(e) => chromium_reason(e),
        None if allowed => ("ok".to_string(), false),
        None => (type_error_reason(s, redirect), false),
    };
    let console: Vec<&str> = s["console"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|l| !(background && l.starts_with("Access to resource at ")))
        .collect();
    // No CORS console line: the page's TypeError is what the model's console carries.
    let console = if console.is_empty() && !allowed && cors_error.is_none() {
        s["page"]["error"].as_str().unwrap_or("").to_string()
    } else {
        console.join("\n")
    };
    let options = s["server_options"].as_i64().unwrap();
    let actual = s["server_actual"].as_i64().unwrap();
    let e = |k: &str| s["edge"][k].as_i64().unwrap_or(0);
    Seen {
        allowed,
        reason,
        in_preflight,
        preflight_sent: s["devtools_preflight"].as_bool().unwrap(),
        origin: if via_proxy {
            format!("{} forwarded", options + actual - e("judge_fetches"))
        } else {
            format!("OPTIONS {options}, others {actual}")
        },
        edge: via_proxy.then(|| {
            edge_counts(
                e("hits"),
                e("misses"),
                e("passes"),
                e("stale"),
                e("collapsed"),
            )
        }),
        console,
    }
}

fn redirect_id(m: RedirectMode) -> &'static str {
    match m {
        RedirectMode::Follow => "follow",
        RedirectMode::Error => "error",
        RedirectMode::Manual => "manual",
    }
}

/// The harness runs every case's pages in one Chromium: its clients are one browser —
/// one HTTP cache (partitioned by site), one cookie jar, one preflight cache — so the
/// model gets the same topology: every browser client shares one `user`, with the HTTP
/// cache on.
fn one_browser(sc: &mut Scenario) {
    for c in sc.clients.iter_mut().filter(|c| c.agent != Agent::None) {
        c.user = "chromium".to_string();
        c.http_cache = true;
    }
}

/// Fills a case template's placeholders. `${A_PORT}` is the port of `${A}` alone, for
/// values spelled differently from the serialized origin (`HTTP://127.0.0.1:${A_PORT}`).
fn fill(template: &str, pages: &[String; 3], api: &str, api_alt: &str) -> String {
    let a_port = pages[0].rsplit(':').next().unwrap_or_default();
    template
        .replace("${A_PORT}", a_port)
        .replace("${A}", &pages[0])
        .replace("${B}", &pages[1])
        .replace("${C}", &pages[2])
        .replace("${API_ALT}", api_alt)
        .replace("${API}", api)
}

/// The cookies the case's browser clients hold, for Playwright's `addCookies`: each
/// client's `cookie:` (name=value pairs and attributes) for every host its steps call.
fn case_cookies(sc: &Scenario) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for (ci, c) in sc.clients.iter().enumerate() {
        if c.agent == Agent::None {
            continue;
        }
        let mut same_site = None;
        let mut secure = false;
        let mut pairs = Vec::new();
        for part in c.cookie.split(';') {
            let (k, v) = part
                .split_once('=')
                .map_or((part.trim(), ""), |(k, v)| (k.trim(), v.trim()));
            match k.to_ascii_lowercase().as_str() {
                "samesite" => {
                    same_site = Some(match v.to_ascii_lowercase().as_str() {
                        "strict" => "Strict",
                        "none" => "None",
                        _ => "Lax",
                    })
                }
                "secure" => secure = true,
                "" | "path" | "domain" | "max-age" | "expires" | "httponly" => {}
                _ => pairs.push((k.to_string(), v.to_string())),
            }
        }
        let mut hosts: Vec<&str> = sc
            .steps
            .iter()
            .filter(|s| s.client == ci)
            .map(|s| s.host.as_str())
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        for h in hosts {
            let domain = h.rsplit_once(':').map_or(h, |(d, _)| d);
            for (name, value) in &pairs {
                let mut ck = json!({ "name": name, "value": value, "domain": domain, "path": "/", "secure": secure });
                if let Some(ss) = same_site {
                    ck["sameSite"] = json!(ss);
                }
                if !out.contains(&ck) {
                    out.push(ck);
                }
            }
        }
    }
    out
}

fn varyedge() -> Command {
    Command::new(env!("CARGO_BIN_EXE_varyedge"))
}

/// The proxy flags that reproduce a case's edge knobs.
fn proxy_args(sc: &Scenario) -> Vec<String> {
    EdgeFlags::for_edge(&sc.edge.profile, &sc.edge.knobs)
        .unwrap_or_else(|e| panic!("{}: no proxy flags for this edge: {e}", sc.file))
        .to_args()
}

fn load_case(path: &Path, via: &str, pages: &[String; 3], tmp: &Path) -> Case {
    let id = path.file_stem().unwrap().to_string_lossy().to_string();
    let template = std::fs::read_to_string(path).unwrap();
    // The API's address must be known before the servers start: a redirect route's
    // `Location` may name it (`${API_ALT}`). Ports are reserved by binding port 0 and
    // letting go (the servers take them a moment later).
    let origin_port = free_port();
    let api_port = if via == "proxy" {
        free_port()
    } else {
        origin_port
    };
    let api = format!("127.0.0.1:{api_port}");
    // `${API_ALT}`: the same server under another origin (and another site than ${A}).
    let alt = format!("localhost:{api_port}");
    let text = fill(&template, pages, &api, &alt);
    let origin_file = tmp.join(format!("{via}-{id}.origin.yaml"));
    std::fs::write(&origin_file, &text).unwrap();
    let mut cmd = varyedge();
    cmd.arg("origin")
        .arg(&origin_file)
        .args(["--listen", &format!("127.0.0.1:{origin_port}")]);
    let (origin, origin_addr) = spawn_listening(
        cmd,
        &format!("varyedge origin for {id}"),
        &tmp.join(format!("{via}-{id}.origin.log")),
    );
    let mut procs = vec![origin];
    let mut proxy_stats = None;
    let mut scenario = varyedge::scenario::parse(&path.display().to_string(), &text)
        .unwrap_or_else(|e| panic!("{e}"));
    if via == "proxy" {
        let mut cmd = varyedge();
        cmd.arg("proxy")
            .args(["--upstream", &format!("http://{origin_addr}")])
            .args(["--listen", &api])
            .args(proxy_args(&scenario));
        let (proxy, proxy_addr) = spawn_listening(
            cmd,
            &format!("varyedge proxy for {id}"),
            &tmp.join(format!("{via}-{id}.proxy.log")),
        );
        procs.push(proxy);
        proxy_stats = Some(format!("http://{proxy_addr}/.varyedge/stats"));
    }
    one_browser(&mut scenario);
    let trace = varyedge::sim::replay(&scenario).unwrap();
    Case {
        id,
        via: via.to_string(),
        scenario,
        trace,
        stats: format!("http://{origin_addr}/.varyedge/stats"),
        proxy_stats,
        _procs: procs,
    }
}

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Whether `VARYEDGE_CHROMIUM_CASES` (comma-separated file-name prefixes) selects `f`.
fn selected(f: &Path, filter: Option<&str>) -> bool {
    let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
    filter.is_none_or(|l| {
        l.split(',')
            .any(|p| !p.is_empty() && name.starts_with(p.trim()))
    })
}

fn case_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

fn plan_steps(c: &Case) -> Vec<Value> {
    let mut prev = 0;
    c.scenario
        .steps
        .iter()
        .map(|st| {
            let client = &c.scenario.clients[st.client];
            let delay = st.at_ms.saturating_sub(prev);
            prev = st.at_ms;
            let mut headers: BTreeMap<String, String> = st
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            // Node sends only what it is given: a curl client gets curl's own headers.
            if client.agent == Agent::None {
                for (n, v) in varyedge::browser::headers::defaults(Agent::None, &st.scheme).iter() {
                    headers.entry(n.to_string()).or_insert_with(|| v.to_string());
                }
            }
            json!({
                "page": if client.agent == Agent::None { Value::Null } else { json!(client.origin) },
                "url": format!("{}://{}{}", st.scheme, st.host, st.target),
                "method": st.method,
                "headers": headers,
                "credentials": match st.credentials {
                    Credentials::Omit => "omit",
                    Credentials::SameOrigin => "same-origin",
                    Credentials::Include => "include",
                },
                "mode": match st.mode { Mode::Cors => "cors", Mode::NoCors => "no-cors" },
                "redirect": redirect_id(st.redirect),
                "delay_ms": delay,
                "stats": c.stats,
                "proxy_stats": c.proxy_stats,
                "path": st.target,
            })
        })
        .collect()
}

fn check_prerequisites() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing; {INSTALL}"
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "node is missing; {INSTALL} (Node 20 + npm)"
    );
    assert!(
        here()
            .join("node_modules/playwright-core/package.json")
            .exists(),
        "tests/chromium/node_modules/playwright-core is missing; {INSTALL}"
    );
}

fn run_driver(plan: &Value, tmp: &Path) -> Value {
    let plan_file = tmp.join("plan.json");
    std::fs::write(&plan_file, serde_json::to_vec_pretty(plan).unwrap()).unwrap();
    let out_file = std::fs::File::create(tmp.join("driver.out")).unwrap();
    let err_file = std::fs::File::create(tmp.join("driver.err")).unwrap();
    let mut cmd = Command::new("node");
    cmd.arg(here().join("driver.mjs"))
        .arg(&plan_file)
        .current_dir(here())
        .stdout(out_file)
        .stderr(err_file);
    // Its own process group, stopped on drop: Chromium goes with the driver.
    let mut driver = Proc::spawn("the Chromium driver (node)", &mut cmd, None);
    // A hang guard, not a budget: the whole corpus (307 cases, 914 steps, their
    // `at:` delays waited in real time) took 7 minutes on 2 shared cores in nine
    // batches, more than the 240 s this once was.
    let limit = Duration::from_secs(900);
    let mut waited = Duration::ZERO;
    let status = loop {
        if let Some(s) = driver.try_wait() {
            break s;
        }
        assert!(
            waited < limit,
            "the Chromium driver did not finish within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
        waited += Duration::from_millis(100);
    };
    let err = std::fs::read_to_string(tmp.join("driver.err")).unwrap_or_default();
    assert!(status.success(), "the Chromium driver failed: {err}");
    let out = std::fs::read_to_string(tmp.join("driver.out")).unwrap();
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("driver output is not JSON ({e}): {out}"))
}

#[test]
#[ignore = "needs Chromium and Node: run by .ci/run"]
fn chromium_agrees_with_the_browser_model() {
    check_prerequisites();
    let tmp = std::env::temp_dir().join(format!("varyedge-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();

    let servers = [
        PageServer::start(),
        PageServer::start(),
        PageServer::start(),
    ];
    // Three origins: two ports on 127.0.0.1 and one on `localhost`.
    let pages = [
        format!("http://127.0.0.1:{}", servers[0].addr.port()),
        format!("http://localhost:{}", servers[1].addr.port()),
        format!("http://127.0.0.1:{}", servers[2].addr.port()),
    ];

    // `VARYEDGE_CHROMIUM_CASES=d68,p22` runs only the cases whose file names start with
    // one of those prefixes (while writing cases); the coverage check needs them all.
    let filter = std::env::var("VARYEDGE_CHROMIUM_CASES").ok();
    let mut cases = Vec::new();
    for via in ["direct", "proxy"] {
        let dir = here().join("cases").join(via);
        if !dir.exists() {
            continue;
        }
        for f in case_files(&dir) {
            if !selected(&f, filter.as_deref()) {
                continue;
            }
            cases.push(load_case(&f, via, &pages, &tmp));
        }
    }
    assert!(!cases.is_empty(), "no cases under tests/chromium/cases");

    let plan = json!({
        "executable": CHROMIUM,
        "user_data_dir": tmp.join("profile"),
        "args": CHROMIUM_ARGS,
        "pages": pages,
        "cases": cases.iter().map(|c| json!({ "id": format!("{}/{}", c.via, c.id), "steps": plan_steps(c), "cookies": case_cookies(&c.scenario) })).collect::<Vec<_>>(),
    });
    let out = run_driver(&plan, &tmp);
    println!(
        "Chromium {}",
        out["chromium"].as_str().unwrap_or("(unknown version)")
    );

    let mut problems = Vec::new();
    let (mut steps, mut agree, mut cases_agree) = (0, 0, 0);
    let mut covered = std::collections::HashSet::new();
    for (c, got) in cases.iter().zip(out["cases"].as_array().unwrap()) {
        let mut case_ok = true;
        if c.trace.summary.unmet_expectations > 0 {
            case_ok = false;
            for r in &c.trace.steps {
                if let Expectation::Unmet(why) = &r.expectation {
                    problems.push(format!(
                        "{}/{} step {}: the in-process replay does not meet the case's expectations: {}",
                        c.via,
                        c.id,
                        r.index,
                        why.join("; ")
                    ));
                }
            }
        }
        if c.via == "direct" {
            for r in &c.trace.steps {
                let hit = r.hops.iter().any(|h| !reached_origin(h.cache));
                assert!(!hit, "{}/{} step {}: a direct case must not be served from the in-process edge (give its routes cache_control: no-store)", c.via, c.id, r.index);
            }
        }
        for (r, s) in c.trace.steps.iter().zip(got["steps"].as_array().unwrap()) {
            steps += 1;
            let via_proxy = c.via == "proxy";
            let model = model_seen(r, via_proxy);
            let redirect = redirect_id(c.scenario.steps[r.index].redirect);
            let chromium = chromium_seen(s, redirect, via_proxy);
            let same = model == chromium;
            println!(
                "{} {}/{} step {} {} from {}: {}",
                if same { "agree   " } else { "DISAGREE" },
                c.via,
                c.id,
                r.index,
                r.request,
                r.client,
                chromium.to_string().lines().next().unwrap_or("")
            );
            if same {
                agree += 1;
                covered.insert(r.verdict.reason);
            } else {
                case_ok = false;
                problems.push(format!(
                    "{}/{} step {} ({} from {}):\n    model:    {model}\n    chromium: {chromium}",
                    c.via, c.id, r.index, r.request, r.origin
                ));
            }
        }
        cases_agree += usize::from(case_ok);
    }
    println!(
        "{} cases, {cases_agree} agree; {steps} steps, {agree} agree",
        cases.len()
    );
    // Every verdict reason is shown to agree, except the one Chromium 156 cannot produce
    // here: it no longer sends Private Network Access preflights (tests/chromium/README.md).
    for r in Reason::ALL {
        if filter.is_none() && r != Reason::PrivateNetworkNotAllowed && !covered.contains(&r) {
            problems.push(format!(
                "no agreeing step has the verdict reason {}: the corpus must cover it",
                r.id()
            ));
        }
    }
    drop(cases);
    drop(servers);
    if problems.is_empty() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    assert!(
        problems.is_empty(),
        "the browser model disagrees with Chromium (files kept in {}):\n{}",
        tmp.display(),
        problems.join("\n")
    );
}

/// Runs in plain `cargo test` (no browser needed): every case parses once its
/// placeholders are filled, names itself after its file, and its in-process replay meets
/// its own expectations.
#[test]
fn corpus_parses_and_meets_its_own_expectations() {
    let mut n = 0;
    for via in ["direct", "proxy"] {
        let dir = here().join("cases").join(via);
        if !dir.exists() {
            continue;
        }
        for f in case_files(&dir) {
            let pages = [
                "http://127.0.0.1:1001".to_string(),
                "http://localhost:1002".to_string(),
                "http://127.0.0.1:1003".to_string(),
            ];
            let text = fill(
                &std::fs::read_to_string(&f).unwrap(),
                &pages,
                "127.0.0.1:1004",
                "localhost:1004",
            );
            let mut sc = varyedge::scenario::parse(&f.display().to_string(), &text)
                .unwrap_or_else(|e| panic!("{e}"));
            one_browser(&mut sc);
            assert_eq!(
                sc.name,
                f.file_stem().unwrap().to_string_lossy(),
                "{}",
                f.display()
            );
            let trace = varyedge::sim::replay(&sc).unwrap();
            assert_eq!(
                trace.summary.unmet_expectations,
                0,
                "{}: the in-process replay does not meet the case's expectations",
                f.display()
            );
            if via == "proxy" {
                proxy_args(&sc);
            }
            n += 1;
        }
    }
    assert!(
        n >= 70,
        "the corpus has {n} cases; issue 13 asks for at least 70"
    );
}

#[test]
fn cdp_cors_errors_map_to_reason_ids() {
    let cases = [
        ("MissingAllowOriginHeader", "missing-allow-origin", false),
        (
            "PreflightMissingAllowOriginHeader",
            "missing-allow-origin",
            true,
        ),
        ("AllowOriginMismatch", "origin-mismatch", false),
        ("InvalidAllowOriginValue", "origin-mismatch", false),
        ("MultipleAllowOriginValues", "multiple-allow-origin", false),
        (
            "WildcardOriginNotAllowed",
            "wildcard-with-credentials",
            false,
        ),
        (
            "PreflightInvalidAllowCredentials",
            "credentials-not-allowed",
            true,
        ),
        ("PreflightInvalidStatus", "preflight-bad-status", true),
        ("PreflightDisallowedRedirect", "preflight-redirect", true),
        (
            "MethodDisallowedByPreflightResponse",
            "method-not-allowed",
            true,
        ),
        (
            "InvalidAllowHeadersPreflightResponse",
            "header-not-allowed",
            true,
        ),
        (
            "PreflightMissingAllowPrivateNetwork",
            "private-network-not-allowed",
            true,
        ),
        (
            "RedirectContainsCredentials",
            "redirect-contains-credentials",
            false,
        ),
        (
            "LocalNetworkAccessPermissionDenied",
            "chromium:LocalNetworkAccessPermissionDenied",
            false,
        ),
    ];
    for (cdp, id, pre) in cases {
        assert_eq!(chromium_reason(cdp), (id.to_string(), pre), "{cdp}");
    }
}
