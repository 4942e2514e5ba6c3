//! nginx `proxy_cache` configuration: the directives that decide the key, the cached
//! methods, TTLs, Vary, the lock, and what reaches the upstream. Every directive in the
//! file is read (whatever block it is in); those not listed in `docs/import.md` are named
//! in one warning.

use super::Imported;
use crate::edge::forward::ForwardHeaders;
use crate::error::InputError;
use crate::profile::{Collapse, QueryKey, VaryMode};

/// One directive: its words (quotes removed) and where it starts.
#[derive(Debug)]
struct Directive {
    words: Vec<String>,
    line: u64,
    col: u64,
}

/// Splits the file into directives; block openers (`location / {`) count as directives
/// too (their words, without the brace).
fn directives(file: &str, text: &str) -> Result<Vec<Directive>, InputError> {
    let mut out = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut start = (0, 0);
    let mut depth = 0i64;
    // Block names, innermost last: the lines of a table block (`types { text/html html; }`
    // in mime.types, `map $http_origin $v { default ""; … }`) are entries, not directives;
    // the block's opener stays a directive (`map` is warned about, `types` is neutral).
    let mut blocks: Vec<String> = Vec::new();
    const TABLES: &[&str] = &["types", "map", "geo", "split_clients", "charset_map"];
    let chars: Vec<char> = text.chars().collect();
    let (mut i, mut line, mut col) = (0usize, 1u64, 1u64);
    while i < chars.len() {
        let c = chars[i];
        let adv = |i: &mut usize, line: &mut u64, col: &mut u64| {
            if chars[*i] == '\n' {
                *line += 1;
                *col = 1;
            } else {
                *col += 1;
            }
            *i += 1;
        };
        match c {
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    adv(&mut i, &mut line, &mut col);
                }
            }
            c if c.is_whitespace() => adv(&mut i, &mut line, &mut col),
            ';' | '{' | '}' => {
                if c == '}' && !cur.is_empty() {
                    return Err(InputError::at(
                        file,
                        line,
                        col,
                        format!("expected `;` after `{}` before `}}`", cur.join(" ")),
                    ));
                }
                if blocks.iter().any(|b| TABLES.contains(&b.as_str())) {
                    cur.clear();
                }
                if c == '{' {
                    blocks.push(cur.first().cloned().unwrap_or_default());
                }
                if c == '}' {
                    blocks.pop();
                }
                if !cur.is_empty() {
                    out.push(Directive {
                        words: std::mem::take(&mut cur),
                        line: start.0,
                        col: start.1,
                    });
                }
                depth += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                if depth < 0 {
                    return Err(InputError::at(
                        file,
                        line,
                        col,
                        "unexpected `}`: no block is open",
                    ));
                }
                adv(&mut i, &mut line, &mut col);
            }
            '"' | '\'' => {
                if cur.is_empty() {
                    start = (line, col);
                }
                let q = c;
                let (l0, c0) = (line, col);
                adv(&mut i, &mut line, &mut col);
                let mut w = String::new();
                while i < chars.len() && chars[i] != q {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        adv(&mut i, &mut line, &mut col);
                    }
                    w.push(chars[i]);
                    adv(&mut i, &mut line, &mut col);
                }
                if i >= chars.len() {
                    return Err(InputError::at(file, l0, c0, "unterminated quoted string"));
                }
                adv(&mut i, &mut line, &mut col);
                cur.push(w);
            }
            _ => {
                if cur.is_empty() {
                    start = (line, col);
                }
                let mut w = String::new();
                while i < chars.len() && !chars[i].is_whitespace() && !";{}".contains(chars[i]) {
                    w.push(chars[i]);
                    adv(&mut i, &mut line, &mut col);
                }
                cur.push(w);
            }
        }
    }
    if !cur.is_empty() {
        return Err(InputError::at(
            file,
            start.0,
            start.1,
            format!("expected `;` after `{}`", cur.join(" ")),
        ));
    }
    if depth != 0 {
        return Err(InputError::at(
            file,
            line,
            col,
            "expected `}`: a block is not closed",
        ));
    }
    Ok(out)
}

/// Directives that do not change what the cache keys, stores or forwards.
const NEUTRAL: &[&str] = &[
    "worker_processes",
    "daemon",
    "pid",
    "error_log",
    "events",
    "worker_connections",
    "http",
    "access_log",
    "client_body_temp_path",
    "proxy_temp_path",
    "fastcgi_temp_path",
    "uwsgi_temp_path",
    "scgi_temp_path",
    "server",
    "listen",
    "location",
    "proxy_pass",
    "proxy_cache",
    "proxy_cache_path",
    "add_header",
    "server_name",
    "root",
    "default_type",
    "types",
    "user",
    "sendfile",
    "keepalive_timeout",
    "upstream",
    "proxy_http_version",
    "proxy_read_timeout",
    "proxy_connect_timeout",
    "proxy_send_timeout",
    "proxy_buffering",
];

/// Parses an nginx time (`1m`, `30s`, `1h`, `600`) into seconds.
fn seconds(s: &str) -> Option<u64> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().ok()?;
    Some(match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        "w" => n * 604_800,
        _ => return None,
    })
}

pub(crate) fn import(file: &str, text: &str) -> Result<Imported, InputError> {
    let mut st = Ngx {
        imp: Imported::new(file, super::Format::Nginx, "nginx"),
        set_headers: Vec::new(),
        pass_request_headers: true,
        ignored: Vec::new(),
        valid: None,
        ignore_cc: false,
    };
    walk(&mut st, file, text, &mut vec![file.to_string()])?;
    let Ngx {
        mut imp,
        set_headers,
        pass_request_headers,
        ignored,
        valid,
        ignore_cc,
    } = st;
    if let Some((t, from)) = valid {
        imp.knobs.ttl.default = Some(t);
        if ignore_cc {
            imp.knobs.ttl.min = Some(t);
            imp.knobs.ttl.max = Some(t);
        }
        imp.note(
            "ttl",
            format!(
                "{from}{}",
                if ignore_cc {
                    " with proxy_ignore_headers Cache-Control/Expires"
                } else {
                    " (used when the response states no freshness)"
                }
            ),
        );
    } else if ignore_cc {
        imp.warn(format!("{file}: proxy_ignore_headers Cache-Control without proxy_cache_valid: nginx caches nothing then; not modelled"));
    }
    forwarding(&mut imp, &set_headers, pass_request_headers, file);
    if !ignored.is_empty() {
        imp.warn(format!(
            "directives not interpreted: {}",
            ignored.join(", ")
        ));
    }
    Ok(imp)
}

/// The directives of `file`, an `include` replaced by the files it names (nginx reads
/// them in place, in name order for a mask). A relative path is taken from the directory
/// of the including file (nginx takes it from its prefix's `conf/`, where `nginx.conf`
/// normally is). A file that cannot be read is a warning, not an error: absolute paths
/// such as `/etc/nginx/mime.types` are usually not on the machine importing the config.
fn walk(st: &mut Ngx, file: &str, text: &str, stack: &mut Vec<String>) -> Result<(), InputError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for d in &directives(file, text)? {
        if d.words[0] != "include" {
            directive(st, d, file)?;
            continue;
        }
        let at = format!("{file}:{}", d.line);
        let Some(pattern) = d.words.get(1) else {
            return Err(InputError::at(
                file,
                d.line,
                d.col,
                "`include` expects a file name or mask",
            ));
        };
        let files = match include_files(file, pattern) {
            Ok(f) if f.is_empty() => {
                st.imp.warn(format!("{at}: include {pattern}: no file matches (relative to the including file's directory); its directives are not imported"));
                continue;
            }
            Ok(f) => f,
            Err(e) => {
                st.imp.warn(format!(
                    "{at}: include {pattern}: {e}; its directives are not imported"
                ));
                continue;
            }
        };
        for inc in files {
            let name = inc.display().to_string();
            if stack.contains(&name) || stack.len() > 16 {
                return Err(InputError::at(
                    file,
                    d.line,
                    d.col,
                    format!("include {pattern}: {name} includes itself (directly or through other files)"),
                ));
            }
            let text = match std::fs::read(&inc).map(String::from_utf8) {
                Ok(Ok(t)) => t,
                Ok(Err(_)) => {
                    st.imp.warn(format!(
                        "{at}: include {name}: not UTF-8 text; not imported"
                    ));
                    continue;
                }
                Err(e) => {
                    st.imp.warn(format!(
                        "{at}: include {name}: cannot read ({e}); not imported"
                    ));
                    continue;
                }
            };
            stack.push(name.clone());
            walk(st, &name, &text, stack)?;
            stack.pop();
        }
    }
    Ok(())
}

/// The files an `include` names: one path, or a mask with `*` / `?` in its last part.
fn include_files(file: &str, pattern: &str) -> Result<Vec<std::path::PathBuf>, String> {
    use std::path::Path;
    let p = Path::new(pattern);
    let full = if p.is_absolute() {
        p.to_path_buf()
    } else {
        Path::new(file).parent().unwrap_or(Path::new("")).join(p)
    };
    let last = full
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if !last.contains(['*', '?']) {
        return if full.is_file() {
            Ok(vec![full])
        } else {
            Err("not found (relative to the including file's directory)".into())
        };
    }
    let dir = full.parent().unwrap_or(Path::new(""));
    let dir_shown = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let rd = std::fs::read_dir(dir_shown)
        .map_err(|e| format!("cannot list {}: {e}", dir_shown.display()))?;
    let mut out: Vec<_> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file() && mask_matches(&last, &e.file_name().to_string_lossy()))
        .map(|e| dir.join(e.file_name()))
        .collect();
    out.sort();
    Ok(out)
}

/// Shell-style `*` and `?` (what nginx's `glob(3)` masks use in practice).
fn mask_matches(mask: &str, name: &str) -> bool {
    let (m, n): (Vec<char>, Vec<char>) = (mask.chars().collect(), name.chars().collect());
    let (mut mi, mut ni, mut star, mut back) = (0, 0, None, 0);
    while ni < n.len() {
        if mi < m.len() && (m[mi] == '?' || m[mi] == n[ni]) {
            mi += 1;
            ni += 1;
        } else if mi < m.len() && m[mi] == '*' {
            star = Some(mi);
            mi += 1;
            back = ni;
        } else if let Some(s) = star {
            mi = s + 1;
            back += 1;
            ni = back;
        } else {
            return false;
        }
    }
    m[mi..].iter().all(|c| *c == '*')
}

/// What the directives collected, beyond the knobs set directly.
struct Ngx {
    imp: Imported,
    set_headers: Vec<(String, String, String)>,
    pass_request_headers: bool,
    ignored: Vec<String>,
    valid: Option<(u64, String)>,
    ignore_cc: bool,
}

/// One directive: the ones docs/import.md lists, or a name for the warning.
fn directive(st: &mut Ngx, d: &Directive, file: &str) -> Result<(), InputError> {
    let imp = &mut st.imp;
    {
        let at = format!("{file}:{}", d.line);
        let name = d.words[0].as_str();
        let args = &d.words[1..];
        let want = |n: usize| -> Result<(), InputError> {
            if args.len() < n {
                Err(InputError::at(
                    file,
                    d.line,
                    d.col,
                    format!("`{name}` expects at least {n} argument(s)"),
                ))
            } else {
                Ok(())
            }
        };
        match name {
            "proxy_cache_key" => {
                want(1)?;
                cache_key(imp, &args[0], &at);
            }
            "proxy_cache_methods" => {
                want(1)?;
                for m in args {
                    match m.to_ascii_uppercase().as_str() {
                        "GET" | "HEAD" => {}
                        "POST" => imp.warn(format!("{at}: proxy_cache_methods POST: caching POST is not modelled")),
                        other => return Err(InputError::at(file, d.line, d.col, format!("proxy_cache_methods accepts GET, HEAD and POST only, found {other:?} (nginx refuses OPTIONS too)"))),
                    }
                }
                imp.note(
                    "cache_options",
                    format!(
                        "{at}: proxy_cache_methods {} (OPTIONS cannot be cached by nginx)",
                        args.join(" ")
                    ),
                );
            }
            "proxy_cache_valid" => {
                want(1)?;
                let (codes, time) = args.split_at(args.len() - 1);
                let Some(t) = seconds(&time[0]) else {
                    return Err(InputError::at(
                        file,
                        d.line,
                        d.col,
                        format!("expected a time such as 1m or 30s, found {:?}", time[0]),
                    ));
                };
                if codes.is_empty() || codes.iter().any(|c| c == "200" || c == "any") {
                    st.valid = Some((t, format!("{at}: proxy_cache_valid {}", args.join(" "))));
                }
                if !codes.is_empty() && !codes.iter().any(|c| c == "any") {
                    imp.warn(format!("{at}: proxy_cache_valid {}: the edge block has one default TTL for every status, so a 404/5xx without Cache-Control is stored too, where nginx stores only the statuses listed", args.join(" ")));
                }
                if codes.iter().any(|c| c != "200" && c != "any") {
                    imp.warn(format!("{at}: proxy_cache_valid for status {}: per-status TTLs are not modelled (the 200 TTL applies to every status)", codes.join(" ")));
                }
            }
            "proxy_ignore_headers" => {
                for h in args {
                    match h.to_ascii_lowercase().as_str() {
                        "vary" => {
                            imp.knobs.vary = VaryMode::Ignore;
                            imp.note("vary", format!("{at}: proxy_ignore_headers Vary"));
                        }
                        "cache-control" | "expires" => st.ignore_cc = true,
                        other => {
                            imp.warn(format!("{at}: proxy_ignore_headers {other}: not modelled"))
                        }
                    }
                }
            }
            "proxy_cache_lock" => {
                imp.knobs.collapse = if args.first().is_some_and(|a| a == "on") {
                    Collapse::On
                } else {
                    Collapse::Off
                };
                imp.note(
                    "collapse",
                    format!("{at}: proxy_cache_lock {}", args.join(" ")),
                );
            }
            "proxy_set_header" => {
                want(2)?;
                st.set_headers
                    .push((args[0].to_ascii_lowercase(), args[1].clone(), at.clone()));
            }
            "proxy_pass_request_headers" => {
                st.pass_request_headers = args.first().is_none_or(|a| a != "off");
            }
            "proxy_cache_bypass" | "proxy_no_cache" => bypass(imp, name, args, &at),
            n if NEUTRAL.contains(&n) => {}
            other => st.ignored.push(format!("{other} ({at})")),
        }
    }
    Ok(())
}

/// `proxy_cache_key`: `$http_NAME` adds NAME to the key; `$host`/`$proxy_host`/
/// `$http_host` keep the host; `$request_uri`/`$args`/`$query_string` keep the query.
fn cache_key(imp: &mut Imported, key: &str, at: &str) {
    let mut headers = Vec::new();
    let (mut host, mut query) = (false, false);
    let mut rest = key;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        let braced = rest.starts_with('{');
        let body = rest.trim_start_matches('{');
        let end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        let var = &body[..end];
        rest = &body[end + usize::from(braced && body[end..].starts_with('}'))..];
        match var {
            "scheme" | "uri" | "is_args" | "request_method" => {}
            "host" | "proxy_host" | "http_host" | "server_name" => host = true,
            "request_uri" | "args" | "query_string" => query = true,
            v if v.starts_with("http_") => headers.push(v["http_".len()..].replace('_', "-")),
            v => imp.warn(format!(
                "{at}: proxy_cache_key variable ${v}: not modelled (left out of the key)"
            )),
        }
    }
    imp.knobs.key_host = host;
    imp.knobs.query = if query { QueryKey::All } else { QueryKey::None };
    imp.knobs.key_headers = headers;
    let from = format!("{at}: proxy_cache_key {key}");
    imp.note("key_headers", from.clone());
    imp.note("key_host", from.clone());
    imp.note("query", from);
}

fn bypass(imp: &mut Imported, name: &str, args: &[String], at: &str) {
    for a in args {
        match a.as_str() {
            "$http_cookie" | "$cookie" => {
                imp.knobs.pass_cookie = true;
                imp.note("pass_cookie", format!("{at}: {name} {a}"));
            }
            "$http_authorization" => {
                imp.knobs.pass_authorization = true;
                imp.note("pass_authorization", format!("{at}: {name} {a}"));
            }
            other => imp.warn(format!("{at}: {name} {other}: not modelled")),
        }
    }
}

/// `proxy_set_header NAME ""` strips NAME; `NAME $http_NAME` keeps it; a literal value is
/// added; `proxy_pass_request_headers off` forwards only the set ones.
fn forwarding(imp: &mut Imported, set: &[(String, String, String)], pass: bool, file: &str) {
    let mut f = imp.knobs.forward.clone();
    let mut keep = Vec::new();
    for (name, value, at) in set {
        if name == "host" || name == "connection" {
            continue;
        }
        if value.is_empty() {
            f.strip.push(name.clone());
        } else if value == &format!("$http_{}", name.replace('-', "_")) {
            keep.push(name.clone());
        } else if value.contains('$') {
            imp.warn(format!(
                "{at}: proxy_set_header {name} {value}: a computed value is not modelled"
            ));
        } else {
            f.add.push((name.clone(), value.clone()));
        }
    }
    if !pass {
        f.headers = ForwardHeaders::List(keep);
    }
    if f != imp.knobs.forward {
        imp.knobs.forward = f;
        let src: Vec<&str> = set.iter().map(|(_, _, a)| a.as_str()).collect();
        imp.note(
            "forward_headers",
            format!(
                "{} (proxy_set_header / proxy_pass_request_headers)",
                if src.is_empty() {
                    file.to_string()
                } else {
                    src.join(", ")
                }
            ),
        );
    }
}
