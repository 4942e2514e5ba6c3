//! Helpers for the wire tests: child processes stopped on drop, `varyedge origin`, the real
//! caches (Varnish, nginx, Squid, Apache Traffic Server) configured like the lab's peers
//! (`../shared/lab/peers/*/`), each in a fresh temporary directory on loopback.
#![allow(dead_code, unreachable_pub)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use varyedge::net::clock;

/// A child process in its own process group; the whole group is stopped on drop
/// (SIGTERM, then SIGKILL after 5 s), so nginx workers and Varnish's child go too.
pub struct Proc {
    child: Child,
    name: String,
    log: Option<PathBuf>,
}

impl Proc {
    pub fn spawn(name: &str, cmd: &mut Command, log: Option<PathBuf>) -> Proc {
        cmd.process_group(0).stdin(Stdio::null());
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            child,
            name: name.to_string(),
            log,
        }
    }

    /// The process id (the group's id too).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the process has exited.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Panics with the log when the process has exited.
    pub fn check_alive(&mut self) {
        if let Ok(Some(st)) = self.child.try_wait() {
            panic!(
                "{} exited early ({st}); log:\n{}",
                self.name,
                self.log_text()
            );
        }
    }

    pub fn log_text(&self) -> String {
        self.log
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    }

    fn signal_group(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.signal_group("-TERM");
        let t0 = clock::instant();
        while t0.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                // the leader is gone; make sure nothing of its group lingers
                self.signal_group("-KILL");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.signal_group("-KILL");
        let _ = self.child.wait();
    }
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

static DIRS: AtomicUsize = AtomicUsize::new(0);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let n = DIRS.fetch_add(1, Ordering::Relaxed);
        let d = std::env::temp_dir().join(format!("varyedge-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn chown(user: &str, path: &Path) {
    if is_root() {
        let st = Command::new("chown")
            .args(["-R", user])
            .arg(path)
            .status()
            .unwrap();
        assert!(st.success(), "chown -R {user} {}", path.display());
    }
}

/// Fails with the install hint when a program is missing.
pub fn require(program: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
        || Path::new("/usr/sbin").join(program).is_file();
    assert!(
        found,
        "{program} not found: install it: apt-get install -y {package}"
    );
}

/// The `varyedge` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_varyedge");

/// A serving child (`varyedge origin`, `varyedge proxy`, or any program that prints
/// `listening on URL` as its first line of standard output): spawned in its own process
/// group, waited for (bounded), stopped with its group on drop. Its standard error is
/// collected line by line (or goes to the log file the command was given, if it was).
pub struct Server {
    pub proc: Proc,
    /// `http://127.0.0.1:PORT` (whatever followed `listening on`).
    pub url: String,
    /// `127.0.0.1:PORT`: the URL without its scheme.
    pub addr: String,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// `varyedge ARGS` run from the crate root, waited for at most 20 s.
    pub fn varyedge<I, A>(args: I) -> Server
    where
        I: IntoIterator<Item = A>,
        A: AsRef<OsStr>,
    {
        let mut cmd = Command::new(BIN);
        cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
        let name = format!("varyedge {:?}", cmd.get_args().collect::<Vec<_>>());
        Server::spawn(&name, &mut cmd, None, Duration::from_secs(20))
    }

    /// `varyedge origin SCENARIO --listen 127.0.0.1:0`.
    pub fn origin(scenario: &Path) -> Server {
        Server::varyedge([
            OsStr::new("origin"),
            scenario.as_os_str(),
            OsStr::new("--listen"),
            OsStr::new("127.0.0.1:0"),
        ])
    }

    /// `varyedge proxy --upstream URL --listen 127.0.0.1:0 EXTRA…`.
    pub fn proxy<A: AsRef<OsStr>>(upstream: &str, extra: &[A]) -> Server {
        let mut args: Vec<&OsStr> = ["proxy", "--upstream", upstream, "--listen", "127.0.0.1:0"]
            .into_iter()
            .map(OsStr::new)
            .collect();
        args.extend(extra.iter().map(AsRef::as_ref));
        Server::varyedge(args)
    }

    /// Spawns `cmd` (its standard output piped; its standard error collected unless the
    /// caller redirected it, then `log` names that file) and waits at most `within` for
    /// the first line, `listening on URL`. The rest of standard output is drained in the
    /// background so the child never blocks writing to it.
    pub fn spawn(name: &str, cmd: &mut Command, log: Option<PathBuf>, within: Duration) -> Server {
        cmd.stdout(Stdio::piped());
        if log.is_none() {
            cmd.stderr(Stdio::piped());
        }
        let mut p = Proc::spawn(name, cmd, log);
        let lines = Arc::new(Mutex::new(Vec::new()));
        if let Some(err) = p.child.stderr.take() {
            let l2 = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines() {
                    let Ok(line) = line else { break };
                    l2.lock().unwrap().push(line);
                }
            });
        }
        let out = p.child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(out);
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            let _ = tx.send(line);
            let _ = std::io::copy(&mut r, &mut std::io::sink());
        });
        let mut server = Server {
            proc: p,
            url: String::new(),
            addr: String::new(),
            stderr: lines,
        };
        let line = match rx.recv_timeout(within) {
            Ok(l) => l,
            Err(_) => panic!(
                "{name}: no `listening on` line within {within:?}; stderr:\n{}",
                server.stderr_text()
            ),
        };
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            // give the stderr reader a moment to collect the child's last words
            std::thread::sleep(Duration::from_millis(100));
            panic!("{name} said {line:?}; stderr:\n{}", server.stderr_text());
        };
        server.url = url.to_string();
        server.addr = url.strip_prefix("http://").unwrap_or(url).to_string();
        server
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// Standard error so far: the collected lines, or the log file's text.
    pub fn stderr(&self) -> Vec<String> {
        let lines = self.stderr.lock().unwrap().clone();
        if lines.is_empty() {
            self.proc.log_text().lines().map(str::to_string).collect()
        } else {
            lines
        }
    }

    pub fn stderr_text(&self) -> String {
        self.stderr().join("\n")
    }

    /// Waits at most `within` until a standard-error line contains `needle`.
    pub fn wait_stderr(&self, needle: &str, within: Duration) -> String {
        let end = clock::instant() + within;
        loop {
            if let Some(l) = self.stderr().into_iter().find(|l| l.contains(needle)) {
                return l;
            }
            assert!(
                clock::instant() < end,
                "no stderr line with {needle:?} within {within:?}; got {:?}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The real caches of the fidelity suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    Varnish,
    Nginx,
    Squid,
    Ats,
}

impl Peer {
    /// The varyedge profile that claims to behave like it.
    pub fn profile(self) -> &'static str {
        match self {
            Peer::Varnish => "varnish",
            Peer::Nginx => "nginx",
            Peer::Squid => "squid",
            Peer::Ats => "ats",
        }
    }

    fn program_and_package(self) -> (&'static str, &'static str) {
        match self {
            Peer::Varnish => ("varnishd", "varnish"),
            Peer::Nginx => ("nginx", "nginx-light"),
            Peer::Squid => ("squid", "squid"),
            Peer::Ats => ("traffic_server", "trafficserver"),
        }
    }
}

/// A running cache in front of an origin port.
pub struct Cache {
    pub url: String,
    pub proc: Proc,
    /// The configuration file it runs with (VCL, nginx.conf, squid.conf, records.config).
    pub config: PathBuf,
    _dir: TempDir,
}

impl Cache {
    pub fn start(peer: Peer, origin_port: u16) -> Cache {
        Cache::start_with(peer, origin_port, "")
    }

    /// Like [`Cache::start`], with `extra` appended to the VCL (Varnish) or to the
    /// `location /` block (nginx); ignored for Squid and ATS.
    pub fn start_with(peer: Peer, origin_port: u16, extra: &str) -> Cache {
        Cache::start_with_http(peer, origin_port, "", extra)
    }

    /// Like [`Cache::start_with`], with `http_extra` in nginx's `http` block too (a
    /// `map`); ignored for the others.
    pub fn start_with_http(peer: Peer, origin_port: u16, http_extra: &str, extra: &str) -> Cache {
        let (prog, pkg) = peer.program_and_package();
        require(prog, pkg);
        let dir = TempDir::new(peer.profile());
        let d = dir.path().to_path_buf();
        let port = free_port();
        let log = d.join("stderr.log");
        let logf = || std::fs::File::create(&log).unwrap();
        let mut cmd = match peer {
            Peer::Varnish => {
                // builtin VCL for everything but the backend (lab peers/varnish)
                std::fs::write(
                    d.join("lab.vcl"),
                    format!("vcl 4.1;\nbackend origin {{ .host = \"127.0.0.1\"; .port = \"{origin_port}\"; }}\n{extra}"),
                )
                .unwrap();
                let mut c = Command::new("varnishd");
                c.args(["-F", "-j", "none", "-n"])
                    .arg(d.join("inst"))
                    .args(["-a", &format!("127.0.0.1:{port}"), "-T", "none", "-f"])
                    .arg(d.join("lab.vcl"))
                    .args(["-s", "malloc,64m"]);
                c
            }
            Peer::Nginx => {
                // default proxy_cache_key and proxy_cache_methods (lab peers/nginx)
                for sub in ["tmp", "cache"] {
                    std::fs::create_dir_all(d.join(sub)).unwrap();
                }
                let w = d.display();
                std::fs::write(
                    d.join("nginx.conf"),
                    format!(
                        "worker_processes 1;\ndaemon off;\npid {w}/nginx.pid;\nerror_log {w}/error.log warn;\n\
                         events {{ worker_connections 256; }}\n\
                         http {{\n  access_log off;\n  client_body_temp_path {w}/tmp/client_body;\n  proxy_temp_path {w}/tmp/proxy;\n  \
                         fastcgi_temp_path {w}/tmp/fastcgi;\n  uwsgi_temp_path {w}/tmp/uwsgi;\n  scgi_temp_path {w}/tmp/scgi;\n  \
                         proxy_cache_path {w}/cache levels=1:2 keys_zone=lab:10m max_size=64m inactive=10m;\n{http_extra}\n  \
                         server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://127.0.0.1:{origin_port};\n      \
                         proxy_cache lab;\n      proxy_cache_valid 200 1m;\n      add_header X-Cache-Status $upstream_cache_status always;\n{extra}\n    }}\n  }}\n}}\n"
                    ),
                )
                .unwrap();
                chown("nobody", &d.join("tmp"));
                chown("nobody", &d.join("cache"));
                let mut c = Command::new("nginx");
                c.arg("-p")
                    .arg(&d)
                    .arg("-c")
                    .arg(d.join("nginx.conf"))
                    .arg("-e")
                    .arg(d.join("error.log"));
                c
            }
            Peer::Squid => {
                // accelerator, memory cache only, Debian's refresh_patterns (lab peers/squid)
                let w = d.display();
                std::fs::write(
                    d.join("squid.conf"),
                    format!(
                        "http_port 127.0.0.1:{port} accel defaultsite=lab-origin no-vhost\n\
                         cache_peer 127.0.0.1 parent {origin_port} 0 no-query originserver name=origin\n\
                         cache_peer_access origin allow all\n\
                         acl lab_clients src 127.0.0.1/32\nhttp_access allow lab_clients\nhttp_access deny all\n\
                         visible_hostname lab-squid\nicp_port 0\nhtcp_port 0\nshutdown_lifetime 0 seconds\n\
                         pid_filename {w}/squid.pid\ncache_log {w}/cache.log\naccess_log none\ncache_store_log none\n\
                         netdb_filename none\ncoredump_dir {w}\n\
                         refresh_pattern ^ftp: 1440 20% 10080\nrefresh_pattern -i (/cgi-bin/|\\?) 0 0% 0\nrefresh_pattern . 0 20% 4320\n"
                    ),
                )
                .unwrap();
                chown("proxy", &d);
                let mut c = Command::new("squid");
                c.args(["-N", "-d", "1", "-f"]).arg(d.join("squid.conf"));
                c
            }
            Peer::Ats => {
                // packaged config set + remap, private runroot, Via codes on (lab peers/ats)
                for sub in ["etc", "var", "run", "log", "cache", "data"] {
                    std::fs::create_dir_all(d.join(sub)).unwrap();
                }
                let st = Command::new("cp")
                    .arg("-r")
                    .arg("/etc/trafficserver/.")
                    .arg(d.join("etc"))
                    .status()
                    .unwrap();
                assert!(st.success(), "cp /etc/trafficserver");
                let user = if is_root() {
                    "trafficserver".to_string()
                } else {
                    String::from_utf8_lossy(&Command::new("id").arg("-un").output().unwrap().stdout)
                        .trim()
                        .to_string()
                };
                let w = d.display();
                std::fs::write(
                    d.join("etc/records.config"),
                    format!(
                        "CONFIG proxy.config.http.server_ports STRING {port}:ipv4:ip-in=127.0.0.1\n\
                         CONFIG proxy.config.admin.user_id STRING {user}\n\
                         CONFIG proxy.config.http.cache.http INT 1\n\
                         CONFIG proxy.config.reverse_proxy.enabled INT 1\n\
                         CONFIG proxy.config.url_remap.remap_required INT 1\n\
                         CONFIG proxy.config.log.logging_enabled INT 1\n\
                         CONFIG proxy.config.http.insert_response_via_str INT 2\n\
                         CONFIG proxy.config.body_factory.template_sets_dir STRING {w}/etc/body_factory\n\
                         CONFIG proxy.config.diags.debug.enabled INT 0\n"
                    ),
                )
                .unwrap();
                std::fs::write(
                    d.join("etc/remap.config"),
                    format!("map http://127.0.0.1:{port}/ http://127.0.0.1:{origin_port}/\n"),
                )
                .unwrap();
                std::fs::write(d.join("etc/storage.config"), format!("{w}/cache 64M\n")).unwrap();
                std::fs::write(d.join("etc/logging.yaml"), "").unwrap();
                std::fs::write(
                    d.join("runroot.yaml"),
                    format!(
                        "prefix: {w}\nexec_prefix: /usr\nbindir: /usr/bin\nsbindir: /usr/sbin\nsysconfdir: {w}/etc\n\
                         datadir: {w}/data\nincludedir: /usr/include\nlibdir: /usr/lib/trafficserver\n\
                         libexecdir: /usr/lib/trafficserver/modules\nlocalstatedir: {w}/var\nruntimedir: {w}/run\n\
                         logdir: {w}/log\ncachedir: {w}/cache\n"
                    ),
                )
                .unwrap();
                chown("trafficserver", &d);
                let mut c = Command::new("traffic_server");
                c.arg(format!("--run-root={w}/runroot.yaml"));
                c
            }
        };
        cmd.stdout(logf()).stderr(logf());
        let proc = Proc::spawn(peer.profile(), &mut cmd, Some(log));
        let config = d.join(match peer {
            Peer::Varnish => "lab.vcl",
            Peer::Nginx => "nginx.conf",
            Peer::Squid => "squid.conf",
            Peer::Ats => "etc/records.config",
        });
        let mut cache = Cache {
            url: format!("http://127.0.0.1:{port}"),
            proc,
            config,
            _dir: dir,
        };
        cache.wait_ready(port);
        cache
    }

    /// Ready when `/.varyedge/stats` answers 200 through the cache (the origin marks it
    /// `no-store` and does not count it, so this primes nothing).
    fn wait_ready(&mut self, port: u16) {
        let t0 = clock::instant();
        while t0.elapsed() < Duration::from_secs(60) {
            self.proc.check_alive();
            if http_status(port, "/.varyedge/stats") == Some(200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "{} not ready on port {port} after 60 s; log:\n{}",
            self.proc.name,
            self.proc.log_text()
        );
    }
}

/// A bare HTTP/1.0 GET, for readiness only.
fn http_status(port: u16, path: &str) -> Option<u16> {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.split_whitespace().nth(1)?.parse().ok()
}
