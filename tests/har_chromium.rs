//! From a real browser's HAR to a replay (issue 15): Chromium records a HAR (Playwright
//! `recordHar`, `tests/chromium/har_driver.mjs`) while fetching from two page origins
//! through `varyedge proxy --profile url-only` in front of `varyedge origin`. For each
//! story, `varyedge diagnose har` must name the poisoned request and its poisoner;
//! `varyedge import har` + `varyedge replay` must give Chromium's verdict on every step
//! (and attribute the failure to the same poisoner); `varyedge matrix` on the imported
//! scenario must list url-only among the profiles that poison it — or none, for the fix.
//!
//! Ignored by default (needs Chromium and Node, like tests/chromium.rs):
//! `cargo test --test har_chromium -- --ignored --nocapture`.

#[path = "common/har_cli.rs"]
mod har_cli;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const INSTALL: &str = "install it: apt-get install -y chromium; (cd tests/chromium && npm ci)";
const ARGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
];

/// A child process killed (and reaped) on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn varyedge() -> Command {
    Command::new(env!("CARGO_BIN_EXE_varyedge"))
}

/// Starts `cmd` and reads its `listening on http://ADDR` line.
fn spawn_listening(mut cmd: Command, log: &Path) -> (Proc, SocketAddr) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let proc = Proc(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        while let Some(Ok(l)) = lines.next() {
            if let Some(a) = l.strip_prefix("listening on http://") {
                let _ = tx.send(a.trim().to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| {
            panic!(
                "no `listening on` line; {}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        });
    (proc, addr.parse().unwrap())
}

/// A page origin serving an empty HTML page; the listener thread ends with the process.
fn page_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || serve_page(s));
        }
    });
    addr
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
    let body = "<!doctype html><title>page</title>";
    let _ = write!(s, "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
}

#[derive(Clone, Copy)]
enum Kind {
    Fetch,
    NoCors,
    Navigate,
}

struct Step {
    kind: Kind,
    /// Page 0 (A) or 1 (B); ignored for a navigation.
    page: usize,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    /// What Chromium must do (the story's premise).
    ok: bool,
}

struct Story {
    id: &'static str,
    /// The `cors:` and `routes:` of the origin (`${A}`, `${B}`: the page origins).
    origin: &'static str,
    proxy_extra: &'static [&'static str],
    /// What the recording cannot show (the importer says so in comments), added to the
    /// imported scenario as a user would: (line to insert after, lines to insert).
    patch: &'static [(&'static str, &'static str)],
    steps: Vec<Step>,
    /// (poisoned step, poisoner step).
    poisoned: Option<(usize, usize)>,
}

const ROUTES: &str =
    "  routes: [ { path: /*, cache_control: \"max-age=0, s-maxage=300\", body: ok } ]\n";

fn step(
    kind: Kind,
    page: usize,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    ok: bool,
) -> Step {
    Step {
        kind,
        page,
        path,
        headers,
        ok,
    }
}

fn stories() -> Vec<Story> {
    use Kind::*;
    vec![
        Story {
            id: "reflect-without-vary",
            origin: "  cors: { allow_origins: [\"${A}\", \"${B}\"], vary_origin: false }\n",
            proxy_extra: &[],
            patch: &[],
            steps: vec![step(Fetch, 0, "/s1/data", &[], true), step(Fetch, 1, "/s1/data", &[], false)],
            poisoned: Some((1, 0)),
        },
        Story {
            id: "no-origin-first",
            origin: "  cors: { allow_origins: [\"${A}\", \"${B}\"], vary_origin: when-origin }\n",
            proxy_extra: &[],
            patch: &[],
            steps: vec![step(Navigate, 0, "/s2/data", &[], true), step(Fetch, 0, "/s2/data", &[], false)],
            poisoned: Some((1, 0)),
        },
        Story {
            id: "preflight-without-acrh-in-key",
            origin: "  cors: { allow_origins: [\"${A}\", \"${B}\"], allow_headers: reflect, preflight_cache_control: \"public, max-age=600\" }\n",
            proxy_extra: &["--cache-options"],
            // Playwright records no preflight: whether the edge stores OPTIONS and what
            // Cache-Control the origin puts on preflights is not in the HAR.
            patch: &[
                ("  profile: url-only\n", "  cache_options: true\n"),
                ("    preflight_vary: false\n", "    preflight_cache_control: \"public, max-age=600\"\n"),
            ],
            steps: vec![step(Fetch, 0, "/s3/data", &[("x-a", "1")], true), step(Fetch, 0, "/s3/data", &[("x-b", "1")], false)],
            poisoned: Some((1, 0)),
        },
        Story {
            id: "no-cors-first",
            origin: "  cors: { allow_origins: [\"${A}\", \"${B}\"], vary_origin: true }\n",
            proxy_extra: &[],
            patch: &[],
            steps: vec![step(NoCors, 0, "/s4/data", &[], true), step(Fetch, 1, "/s4/data", &[], false)],
            poisoned: Some((1, 0)),
        },
        Story {
            id: "fix-wildcard",
            origin: "  cors: { allow_origins: \"*\" }\n",
            proxy_extra: &[],
            patch: &[],
            steps: vec![
                step(Fetch, 0, "/s5/data", &[], true),
                step(Fetch, 1, "/s5/data", &[], true),
                step(NoCors, 0, "/s5/other", &[], true),
                step(Fetch, 1, "/s5/other", &[], true),
            ],
            poisoned: None,
        },
    ]
}

fn check_prerequisites(here: &Path) {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing; {INSTALL}"
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "node is missing; {INSTALL}"
    );
    assert!(
        here.join("node_modules/playwright-core/package.json")
            .exists(),
        "tests/chromium/node_modules is missing; {INSTALL}"
    );
}

/// Runs the driver (bounded to 120 s) and returns its JSON.
fn run_driver(here: &Path, plan: &Value, dir: &Path) -> Value {
    let plan_file = dir.join("plan.json");
    std::fs::write(&plan_file, serde_json::to_vec(plan).unwrap()).unwrap();
    let child = Command::new("node")
        .arg(here.join("har_driver.mjs"))
        .arg(&plan_file)
        .current_dir(here)
        .stdout(std::fs::File::create(dir.join("driver.out")).unwrap())
        .stderr(std::fs::File::create(dir.join("driver.err")).unwrap())
        .spawn()
        .unwrap();
    let mut p = Proc(child);
    let mut waited = 0;
    let status = loop {
        if let Some(s) = p.0.try_wait().unwrap() {
            break s;
        }
        assert!(waited < 1200, "the driver did not finish within 120 s");
        std::thread::sleep(Duration::from_millis(100));
        waited += 1;
    };
    let err = std::fs::read_to_string(dir.join("driver.err")).unwrap_or_default();
    assert!(status.success(), "the driver failed: {err}");
    serde_json::from_str(&std::fs::read_to_string(dir.join("driver.out")).unwrap()).unwrap()
}

fn run_json(args: &[&str], want_code: i32, what: &str) -> Value {
    let o = varyedge().args(args).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(want_code),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"))
}

/// One story end to end; returns a line for the summary.
fn play(s: &Story, pages: &[String; 2], here: &Path, root: &Path) -> String {
    let dir = root.join(s.id);
    std::fs::create_dir_all(&dir).unwrap();
    let origin_yaml = format!(
        "name: {}\norigin:\n{}{ROUTES}clients: [ {{ name: a, origin: \"${{A}}\" }} ]\nsteps: [ {{ client: a, fetch: GET / }} ]\n",
        s.id, s.origin
    )
    .replace("${A}", &pages[0])
    .replace("${B}", &pages[1]);
    let origin_file = dir.join("origin.yaml");
    std::fs::write(&origin_file, origin_yaml).unwrap();
    let mut cmd = varyedge();
    cmd.arg("origin")
        .arg(&origin_file)
        .args(["--listen", "127.0.0.1:0"]);
    let (_origin, oaddr) = spawn_listening(cmd, &dir.join("origin.log"));
    let mut cmd = varyedge();
    cmd.args([
        "proxy",
        "--upstream",
        &format!("http://{oaddr}"),
        "--listen",
        "127.0.0.1:0",
        "--profile",
        "url-only",
    ])
    .args(s.proxy_extra);
    let (_proxy, paddr) = spawn_listening(cmd, &dir.join("proxy.log"));
    let api = format!("http://{paddr}");
    let har = dir.join("recording.har");
    let plan = json!({
        "executable": CHROMIUM, "user_data_dir": dir.join("profile"), "args": ARGS, "har": har, "pages": pages,
        "steps": s.steps.iter().map(|st| json!({
            "kind": match st.kind { Kind::Fetch => "fetch", Kind::NoCors => "no-cors", Kind::Navigate => "navigate" },
            "page": pages[st.page], "url": format!("{api}{}", st.path),
            "headers": st.headers.iter().map(|(n, v)| (n.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "delay_ms": 50,
        })).collect::<Vec<_>>(),
    });
    let out = run_driver(here, &plan, &dir);
    let seen: Vec<bool> = out["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ok"] == true)
        .collect();
    let premise: Vec<bool> = s.steps.iter().map(|st| st.ok).collect();
    assert_eq!(
        seen, premise,
        "{}: Chromium did not play the story as written: {}",
        s.id, out["steps"]
    );

    // The HAR entries of the API, in time order, are the steps.
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&har).unwrap()).unwrap();
    let api_entries: Vec<u64> = doc["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e["request"]["url"]
                .as_str()
                .is_some_and(|u| u.starts_with(&api))
        })
        .map(|(i, _)| i as u64)
        .collect();
    assert_eq!(
        api_entries.len(),
        s.steps.len(),
        "{}: one HAR entry per step",
        s.id
    );

    let har_s = har.to_str().unwrap();
    let d = run_json(
        &["diagnose", "har", har_s, "--format", "json"],
        if s.poisoned.is_some() { 1 } else { 0 },
        "diagnose",
    );
    let found = har_cli::induced(&d);
    let want: Vec<(u64, Option<u64>)> = s
        .poisoned
        .iter()
        .map(|&(p, by)| (api_entries[p], Some(api_entries[by])))
        .collect();
    assert_eq!(
        found, want,
        "{}: diagnose names the poisoned entry and its poisoner: {d}",
        s.id
    );

    let sc = dir.join("imported.yaml");
    let host = paddr.to_string();
    let o = varyedge()
        .args([
            "import",
            "har",
            har_s,
            "--profile",
            "url-only",
            "--host",
            &host,
            "--out",
            sc.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}: import: {}",
        s.id,
        String::from_utf8_lossy(&o.stderr)
    );
    let mut yaml = std::fs::read_to_string(&sc).unwrap();
    for (after, add) in s.patch {
        assert!(
            yaml.contains(after),
            "{}: no {after:?} in the imported scenario:\n{yaml}",
            s.id
        );
        yaml = yaml.replacen(after, &format!("{after}{add}"), 1);
    }
    std::fs::write(&sc, &yaml).unwrap();
    let r = run_json(
        &["replay", sc.to_str().unwrap(), "--format", "json"],
        if s.poisoned.is_some() { 1 } else { 0 },
        "replay",
    );
    let steps = r["steps"]
        .as_array()
        .or(r[0]["steps"].as_array())
        .unwrap()
        .clone();
    let replayed: Vec<bool> = steps
        .iter()
        .map(|st| st["verdict"]["cors"] != "blocked")
        .collect();
    assert_eq!(
        replayed, seen,
        "{}: the imported scenario's verdicts differ from Chromium's:\n{yaml}",
        s.id
    );
    let induced: Vec<(u64, Option<u64>)> = steps
        .iter()
        .filter(|st| st["cache_induced"] == true)
        .map(|st| (st["index"].as_u64().unwrap(), st["poisoned_by"].as_u64()))
        .collect();
    let want: Vec<(u64, Option<u64>)> = s
        .poisoned
        .iter()
        .map(|&(p, by)| (p as u64, Some(by as u64)))
        .collect();
    assert_eq!(
        induced, want,
        "{}: replay attributes the failure to the same poisoner:\n{yaml}",
        s.id
    );

    let m = run_json(
        &["matrix", sc.to_str().unwrap(), "--format", "json"],
        if s.poisoned.is_some() { 1 } else { 0 },
        "matrix",
    );
    let poisoning: Vec<&str> = m["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["cache_induced"].as_u64().unwrap_or(0) > 0)
        .map(|p| p["profile"].as_str().unwrap())
        .collect();
    if s.poisoned.is_some() {
        assert!(
            poisoning.contains(&"url-only"),
            "{}: matrix lists url-only among the poisoning profiles: {poisoning:?}",
            s.id
        );
    } else {
        assert!(
            poisoning.is_empty(),
            "{}: the fix holds under every profile: {poisoning:?}",
            s.id
        );
    }
    format!(
        "{}: Chromium {seen:?}; diagnose {found:?}; replay agrees; poisoning profiles: {}",
        s.id,
        if poisoning.is_empty() {
            "none".into()
        } else {
            poisoning.join(", ")
        }
    )
}

#[test]
#[ignore = "needs Chromium and Node: cargo test --test har_chromium -- --ignored"]
fn chromium_har_round_trip() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/chromium");
    check_prerequisites(&here);
    let root: PathBuf =
        std::env::temp_dir().join(format!("varyedge-har-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let (a, b) = (page_server(), page_server());
    // Two origins: 127.0.0.1 and localhost on their own ports.
    let pages = [
        format!("http://127.0.0.1:{}", a.port()),
        format!("http://localhost:{}", b.port()),
    ];
    let all = stories();
    assert!(all.len() >= 5);
    for s in &all {
        println!("{}", play(s, &pages, &here, &root));
    }
    let _ = std::fs::remove_dir_all(&root);
}
