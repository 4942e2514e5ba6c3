//! nginx `proxy_cache` configuration: the directives that decide the key, the cached
//! methods, TTLs, Vary, the lock, what reaches the upstream, and the CORS fields
//! `add_header` adds. Every directive in the file is read (whatever block it is in); those
//! not listed in `docs/import.md` are named in one warning. The directives nginx would
//! refuse (a missing `;`, the wrong number of arguments for a directive whose syntax is
//! known here) are errors, as `nginx -t` reports them.

use super::Imported;
use crate::edge::cors::{EdgeCors, OriginPattern};
use crate::edge::forward::ForwardHeaders;
use crate::error::InputError;
use crate::profile::{Collapse, QueryKey, VaryMode};

/// One word of a directive: its text (quotes removed), whether it was quoted, and where
/// it starts.
#[derive(Debug)]
struct Word {
    text: String,
    quoted: bool,
    line: u64,
    col: u64,
}

impl Word {
    /// Just after the word: where a missing `;` belongs.
    fn end(&self) -> (u64, u64) {
        if self.text.contains('\n') {
            return (self.line, self.col);
        }
        let len = self.text.chars().count() as u64 + if self.quoted { 2 } else { 0 };
        (self.line, self.col + len)
    }
}

/// One directive: its words and where it starts, what ended it (`;` or `{`), and the
/// blocks it sits in (their openers, outermost first: `server`, `location /api/`).
#[derive(Debug)]
struct Directive {
    words: Vec<String>,
    spans: Vec<Word>,
    line: u64,
    col: u64,
    opens_block: bool,
    blocks: Vec<String>,
    /// Where the innermost block around it opens (`file:line:col` of its `{`; empty at the
    /// top level): tells two blocks with the same opener apart.
    block_at: String,
    /// A line of a `map` block (`"~^https://a" $http_origin;`): an entry of the block's
    /// table, not a directive (the block's opener is the last of `blocks`).
    map_entry: bool,
}

impl Directive {
    /// The innermost block that is not an `if`, for messages (`location /api/`).
    fn place(&self) -> String {
        self.blocks
            .iter()
            .rev()
            .find(|b| !b.starts_with("if "))
            .cloned()
            .unwrap_or_else(|| "the top level".to_string())
    }

    /// The `if (…)` block the directive sits in, if any.
    fn under_if(&self) -> Option<&str> {
        self.blocks
            .iter()
            .rev()
            .find(|b| b.starts_with("if "))
            .map(String::as_str)
    }
}

/// What a known directive takes: its least and greatest number of arguments (`None`: no
/// limit) and whether it opens a block. From the nginx reference (nginx.org/en/docs:
/// ngx_http_core_module, ngx_http_proxy_module, ngx_http_headers_module,
/// ngx_http_map_module, ngx_http_upstream_module, ngx_http_rewrite_module, the core
/// module).
struct Syntax {
    name: &'static str,
    min: usize,
    max: Option<usize>,
    block: bool,
}

const fn simple(name: &'static str, min: usize, max: Option<usize>) -> Syntax {
    Syntax {
        name,
        min,
        max,
        block: false,
    }
}

const fn block(name: &'static str, min: usize, max: Option<usize>) -> Syntax {
    Syntax {
        name,
        min,
        max,
        block: true,
    }
}

const SYNTAX: &[Syntax] = &[
    block("http", 0, Some(0)),
    block("events", 0, Some(0)),
    block("server", 0, Some(0)),
    block("location", 1, Some(2)),
    block("upstream", 1, Some(1)),
    block("map", 2, Some(2)),
    block("types", 0, Some(0)),
    block("if", 1, None),
    block("limit_except", 1, None),
    simple("include", 1, Some(1)),
    simple("listen", 1, None),
    simple("server_name", 1, None),
    simple("root", 1, Some(1)),
    simple("default_type", 1, Some(1)),
    simple("return", 1, Some(2)),
    simple("expires", 1, Some(2)),
    simple("add_header", 2, Some(3)),
    simple("proxy_pass", 1, Some(1)),
    simple("proxy_cache", 1, Some(1)),
    simple("proxy_cache_key", 1, Some(1)),
    simple("proxy_cache_valid", 1, None),
    simple("proxy_cache_methods", 1, None),
    simple("proxy_cache_lock", 1, Some(1)),
    simple("proxy_cache_bypass", 1, None),
    simple("proxy_no_cache", 1, None),
    simple("proxy_ignore_headers", 1, None),
    simple("proxy_hide_header", 1, Some(1)),
    simple("proxy_pass_header", 1, Some(1)),
    simple("proxy_set_header", 2, Some(2)),
    simple("proxy_pass_request_headers", 1, Some(1)),
    simple("proxy_cache_path", 2, None),
    simple("proxy_cache_use_stale", 1, None),
    simple("proxy_cache_min_uses", 1, Some(1)),
    simple("proxy_cache_revalidate", 1, Some(1)),
    simple("proxy_cache_background_update", 1, Some(1)),
    simple("proxy_http_version", 1, Some(1)),
    simple("proxy_read_timeout", 1, Some(1)),
    simple("proxy_connect_timeout", 1, Some(1)),
    simple("proxy_send_timeout", 1, Some(1)),
    simple("proxy_buffering", 1, Some(1)),
    simple("worker_processes", 1, Some(1)),
    simple("worker_connections", 1, Some(1)),
    simple("pid", 1, Some(1)),
    simple("user", 1, Some(2)),
    simple("daemon", 1, Some(1)),
    simple("sendfile", 1, Some(1)),
    simple("keepalive_timeout", 1, Some(2)),
];

fn syntax(name: &str) -> Option<&'static Syntax> {
    SYNTAX.iter().find(|s| s.name == name)
}

/// "1 argument", "2 or 3 arguments", "at least 1 argument".
fn arity(s: &Syntax) -> String {
    let n = |k: usize| format!("{k} argument{}", if k == 1 { "" } else { "s" });
    match s.max {
        Some(m) if m == s.min => n(m),
        Some(m) => format!("{} to {}", s.min, n(m)),
        None => format!("at least {}", n(s.min)),
    }
}

/// Checks a directive against what nginx accepts for it: a known directive's number of
/// arguments and whether it opens a block, and, for any directive, a known directive name
/// on a later line among its arguments (the `;` before it is missing).
fn check(file: &str, d: &Directive) -> Result<(), InputError> {
    let name = d.words[0].as_str();
    let at_word = |i: usize, msg: String| {
        let w = &d.spans[i];
        Err(InputError::at(file, w.line, w.col, msg))
    };
    // `proxy_cache api` on one line and `proxy_cache_key …;` on the next read as one
    // directive: the second name, on its own line, is the sign of the missing `;`.
    if let Some(i) = (1..d.spans.len()).find(|&i| {
        let w = &d.spans[i];
        !w.quoted && w.line > d.line && syntax(&w.text).is_some() && name != "if"
    }) {
        let (line, col) = d.spans[i - 1].end();
        return Err(InputError::at(
            file,
            line,
            col,
            format!(
                "expected ';' after the arguments of \"{name}\", found \"{}\" (line {})",
                d.spans[i].text, d.spans[i].line
            ),
        ));
    }
    let Some(s) = syntax(name) else {
        return Ok(());
    };
    // `server` inside `upstream` is a simple directive (`server 10.0.0.1:8080;`)
    let in_upstream = d.blocks.last().is_some_and(|b| b.starts_with("upstream"));
    if name == "server" && in_upstream {
        return Ok(());
    }
    let found = d.words.len() - 1;
    if found < s.min || s.max.is_some_and(|m| found > m) {
        return Err(InputError::at(
            file,
            d.line,
            d.col,
            format!(
                "\"{name}\" takes {}, found {found}{}",
                arity(s),
                if s.max.is_some_and(|m| found > m) && !d.opens_block && !s.block {
                    " (is a ';' missing after its arguments?)"
                } else {
                    ""
                }
            ),
        ));
    }
    if s.block && !d.opens_block {
        return Err(InputError::at(
            file,
            d.line,
            d.col,
            format!("\"{name}\" has no block: expected '{{' after its arguments, found ';'"),
        ));
    }
    if !s.block && d.opens_block {
        return Err(InputError::at(
            file,
            d.line,
            d.col,
            format!(
                "\"{name}\" does not take a block: expected ';' after its arguments, found '{{'"
            ),
        ));
    }
    if name == "add_header" && found == 3 && d.words[3] != "always" {
        return at_word(
            3,
            format!(
                "the third argument of \"add_header\" can only be \"always\", found \"{}\"",
                d.words[3]
            ),
        );
    }
    Ok(())
}

/// A backslash and `c` as nginx's configuration reader copies them into a word
/// (ngx_conf_file.c `ngx_conf_read_token`): `\"`, `\'` and `\\` lose the backslash,
/// `\t`, `\r` and `\n` are the control characters, and any other pair is kept whole, so
/// a regular expression's `\.` stays `\.`.
fn escaped(w: &mut String, c: char) {
    match c {
        '"' | '\'' | '\\' => w.push(c),
        't' => w.push('\t'),
        'r' => w.push('\r'),
        'n' => w.push('\n'),
        c => {
            w.push('\\');
            w.push(c);
        }
    }
}

/// Splits the file into directives; block openers (`location / {`) count as directives
/// too (their words, without the brace). A directive must end with `;` (or `{` for a
/// block): one ended by `}` or by the end of the file is an error, as in nginx.
fn directives(file: &str, text: &str) -> Result<Vec<Directive>, InputError> {
    let mut out = Vec::new();
    let mut cur: Vec<Word> = Vec::new();
    // Block openers, innermost last: the lines of a table block (`types { text/html html; }`
    // in mime.types, `map $http_origin $v { default ""; … }`) are entries, not directives;
    // the block's opener stays a directive (`map` is warned about, `types` is neutral).
    let mut blocks: Vec<String> = Vec::new();
    let mut block_at: Vec<String> = Vec::new();
    const TABLES: &[&str] = &["types", "map", "geo", "split_clients", "charset_map"];
    let in_table = |blocks: &[String]| {
        blocks
            .iter()
            .any(|b| TABLES.contains(&b.split(' ').next().unwrap_or("")))
    };
    let chars: Vec<char> = text.chars().collect();
    let (mut i, mut line, mut col) = (0usize, 1u64, 1u64);
    // reported just after the last word, where the `;` belongs
    let unfinished = |cur: &[Word], found: &str, line: u64, col: u64| {
        let (l, c) = cur.last().map_or((0, 0), Word::end);
        InputError::at(
            file,
            l,
            c,
            format!(
                "expected ';' after the arguments of \"{}\", found {found} (line {line}, column {col})",
                cur.first().map_or("", |w| w.text.as_str())
            ),
        )
    };
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
                    return Err(unfinished(&cur, "'}'", line, col));
                }
                if c == '{' && cur.is_empty() {
                    return Err(InputError::at(
                        file,
                        line,
                        col,
                        "unexpected '{': expected a directive name before it",
                    ));
                }
                // a `map` block's lines are kept as its entries; other tables' are dropped
                let map_entry = c != '{'
                    && blocks
                        .last()
                        .is_some_and(|b| b.split(' ').next() == Some("map"));
                if in_table(&blocks) && c != '{' && !map_entry {
                    cur.clear();
                }
                if c == '{' {
                    let opener: Vec<&str> = cur.iter().map(|w| w.text.as_str()).collect();
                    blocks.push(opener.join(" "));
                    block_at.push(format!("{file}:{line}:{col}"));
                }
                if c == '}' {
                    block_at.pop();
                }
                if c == '}' && blocks.pop().is_none() {
                    return Err(InputError::at(
                        file,
                        line,
                        col,
                        "unexpected '}': no block is open",
                    ));
                }
                if !cur.is_empty() {
                    let spans = std::mem::take(&mut cur);
                    let d = Directive {
                        words: spans.iter().map(|w| w.text.clone()).collect(),
                        line: spans[0].line,
                        col: spans[0].col,
                        spans,
                        opens_block: c == '{',
                        // the blocks around it, not the one it opens
                        blocks: blocks[..blocks.len() - usize::from(c == '{')].to_vec(),
                        block_at: block_at
                            .len()
                            .checked_sub(1 + usize::from(c == '{'))
                            .and_then(|j| block_at.get(j))
                            .cloned()
                            .unwrap_or_default(),
                        map_entry,
                    };
                    if !map_entry {
                        check(file, &d)?;
                    }
                    out.push(d);
                }
                adv(&mut i, &mut line, &mut col);
            }
            '"' | '\'' => {
                let q = c;
                let (l0, c0) = (line, col);
                adv(&mut i, &mut line, &mut col);
                let mut w = String::new();
                while i < chars.len() && chars[i] != q {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        adv(&mut i, &mut line, &mut col);
                        escaped(&mut w, chars[i]);
                    } else {
                        w.push(chars[i]);
                    }
                    adv(&mut i, &mut line, &mut col);
                }
                if i >= chars.len() {
                    return Err(InputError::at(
                        file,
                        l0,
                        c0,
                        format!("unterminated quoted string: expected a closing {q}"),
                    ));
                }
                adv(&mut i, &mut line, &mut col);
                cur.push(Word {
                    text: w,
                    quoted: true,
                    line: l0,
                    col: c0,
                });
            }
            _ => {
                let (l0, c0) = (line, col);
                let mut w = String::new();
                while i < chars.len() && !chars[i].is_whitespace() && !";{}".contains(chars[i]) {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        // the next character is the word's, whatever it is
                        adv(&mut i, &mut line, &mut col);
                        escaped(&mut w, chars[i]);
                    } else {
                        w.push(chars[i]);
                    }
                    adv(&mut i, &mut line, &mut col);
                }
                cur.push(Word {
                    text: w,
                    quoted: false,
                    line: l0,
                    col: c0,
                });
            }
        }
    }
    if !cur.is_empty() {
        return Err(unfinished(&cur, "end of file", line, col));
    }
    if !blocks.is_empty() {
        return Err(InputError::at(
            file,
            line,
            col,
            format!(
                "expected '}}': the block \"{}\" is not closed",
                blocks.last().map_or("", String::as_str)
            ),
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
    n.checked_mul(match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    })
}

/// One `add_header NAME VALUE [always]`.
struct AddHeader {
    /// The field name, lowercase.
    name: String,
    value: String,
    always: bool,
    /// The block it is in (`location /api/`).
    place: String,
    /// The `if (…)` it is under, if any.
    under_if: Option<String>,
    at: String,
}

/// What the directives collected, beyond the knobs set directly.
struct Ngx {
    imp: Imported,
    set_headers: Vec<(String, String, String)>,
    /// `proxy_pass_request_headers off`, where it is.
    pass_off: Option<String>,
    ignored: Vec<String>,
    /// Every block's first `proxy_cache_valid` for 200 or any: (seconds, block,
    /// provenance).
    valid: Vec<(u64, String, String)>,
    /// Where the blocks with an entry in `valid` open.
    valid_blocks: Vec<String>,
    ignore_cc: bool,
    /// Every `proxy_cache_key`: (key, block, `file:line`).
    keys: Vec<(String, String, String)>,
    add_headers: Vec<AddHeader>,
    /// `proxy_hide_header Access-Control-Allow-Origin`: the upstream's field is removed,
    /// so the one `add_header` adds is the only one.
    hide_acao: Option<String>,
    /// A `proxy_cache ZONE` (not `off`) was seen: without one nginx stores nothing.
    cache_on: bool,
    /// An `http { }` block was seen: the file is a whole configuration, not a fragment
    /// (a site file, a snippet) that inherits `proxy_cache` from the file including it.
    has_http: bool,
    /// The `map $http_origin $VAR { … }` blocks, for an `add_header` that sends `$VAR`.
    origin_maps: Vec<OriginMap>,
}

/// A `map $http_origin $VAR { KEY VALUE; … }` block: which value `$VAR` takes for a
/// viewer's `Origin` (ngx_http_map_module: exact keys compared case-insensitively, `~`
/// and `~*` keys as regular expressions, case-sensitive and not, tried in order after
/// the exact ones; `default` for the rest, the empty string when absent).
struct OriginMap {
    var: String,
    /// `map` for a map block; `set` for `if ($http_origin ~ …) { set $VAR $http_origin; }`
    /// lines, read as the entries of one.
    how: &'static str,
    at: String,
    /// (key, value, `file:line`)
    entries: Vec<(String, String, String)>,
}

/// The map key an `if ($http_origin OP VALUE)` block's opener stands for: `~RE`,
/// `~*RE` or the origin itself (`=`); `None` for any other condition (a negation, another
/// variable).
fn origin_condition(opener: &str) -> Option<String> {
    let cond = opener.strip_prefix("if (")?.strip_suffix(')')?.trim();
    let rest = cond.strip_prefix("$http_origin")?;
    let rest = rest.trim_start();
    let (op, value) = rest.split_once(char::is_whitespace)?;
    let value = value.trim();
    match op {
        "~" | "~*" => Some(format!("{op}{value}")),
        "=" => Some(value.to_string()),
        _ => None,
    }
}

/// What `Access-Control-Allow-Origin: $VAR` allows when a [`OriginMap`] sets `$VAR`: the
/// origins it reflects (its exact keys, or every origin: `["*"]`) and its patterns; or
/// why `edge_cors` cannot say it.
fn map_origins(m: &OriginMap) -> Result<(Vec<String>, Vec<OriginPattern>), String> {
    let (mut exact, mut patterns) = (Vec::new(), Vec::new());
    for (key, value, at) in &m.entries {
        let reflects = value == "$http_origin";
        match key.as_str() {
            "volatile" => continue,
            "hostnames" => return Err(format!("{at}: `hostnames` in the map: not modelled")),
            "include" => return Err(format!("{at}: `include` in the map: its entries are not read")),
            "default" if reflects => exact = vec!["*".to_string()],
            "default" if value.is_empty() => {}
            "default" => return Err(format!("{at}: default {value:?}: every other origin gets that fixed value, which edge_cors cannot say")),
            _ if value.is_empty() => {}
            _ if key.starts_with('~') => {
                let (re, fold) = match key.strip_prefix("~*") {
                    Some(r) => (r, true),
                    None => (&key[1..], false),
                };
                if !reflects {
                    return Err(format!("{at}: {key:?} gives {value:?}, not $http_origin: not modelled"));
                }
                let text = if fold { format!("(?i){re}") } else { re.to_string() };
                patterns.push(OriginPattern::new(&text).map_err(|e| format!("{at}: {key:?} is not a regular expression the model reads: {e}"))?);
            }
            _ => {
                let key = key.strip_prefix('\\').unwrap_or(key).to_ascii_lowercase();
                if !(reflects || value.eq_ignore_ascii_case(&key)) {
                    return Err(format!("{at}: {key:?} gives {value:?}, not the origin itself: not modelled"));
                }
                if !exact.contains(&"*".to_string()) {
                    exact.push(key);
                }
            }
        }
    }
    if exact.contains(&"*".to_string()) {
        // `default $http_origin`: every origin is reflected, whatever the other lines say
        return Ok((vec!["*".to_string()], Vec::new()));
    }
    if exact.is_empty() && patterns.is_empty() {
        return Err(format!(
            "{}: the map gives no origin back (every value is empty)",
            m.at
        ));
    }
    Ok((exact, patterns))
}

pub(crate) fn import(file: &str, text: &str) -> Result<Imported, InputError> {
    let mut st = Ngx {
        imp: Imported::new(file, super::Format::Nginx, "nginx"),
        set_headers: Vec::new(),
        pass_off: None,
        ignored: Vec::new(),
        valid: Vec::new(),
        valid_blocks: Vec::new(),
        ignore_cc: false,
        keys: Vec::new(),
        add_headers: Vec::new(),
        hide_acao: None,
        cache_on: false,
        has_http: false,
        origin_maps: Vec::new(),
    };
    walk(&mut st, file, text, &mut vec![file.to_string()])?;
    let Ngx {
        mut imp,
        set_headers,
        pass_off,
        mut ignored,
        valid,
        valid_blocks: _,
        ignore_cc,
        keys,
        add_headers,
        hide_acao,
        cache_on,
        has_http,
        origin_maps,
    } = st;
    // `proxy_cache` is off by default (ngx_http_proxy_module): a whole configuration (one
    // with its `http` block) that never enables a zone caches nothing. A fragment (a site
    // file, a snippet to paste) inherits it from the file that includes it: not warned.
    if has_http && !cache_on {
        imp.warn(format!("{file}: no `proxy_cache ZONE` directive in its http block or the files it includes: nginx caches nothing without one (proxy_cache is off by default); imported with nginx's caching profile all the same"));
    }
    if let Some((key, _, at)) = keys.last() {
        one_of_several(&mut imp, "proxy_cache_key", &keys, "cache key");
        cache_key(&mut imp, key, at);
    }
    if let Some((t, _, from)) = valid.last() {
        let shown: Vec<(String, String, String)> = valid
            .iter()
            .map(|(t, place, from)| {
                let at = from.split(": ").next().unwrap_or(from);
                (format!("{t}s"), place.clone(), at.to_string())
            })
            .collect();
        one_of_several(&mut imp, "proxy_cache_valid", &shown, "default TTL");
        let t = *t;
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
    forwarding(&mut imp, &set_headers, pass_off.as_deref());
    cors(
        &mut imp,
        &add_headers,
        hide_acao.as_deref(),
        &origin_maps,
        &mut ignored,
    );
    if !ignored.is_empty() {
        imp.warn(format!(
            "directives not interpreted: {}",
            ignored.join(", ")
        ));
    }
    Ok(imp)
}

/// The importer makes one edge block, so a directive that differs between blocks
/// (`location /api/` keyed on `$http_origin`, `location /static/` not) is imported from
/// the last one read, and the others are named in a warning. `seen` holds (value, block,
/// provenance) in reading order.
fn one_of_several(imp: &mut Imported, name: &str, seen: &[(String, String, String)], what: &str) {
    let Some((last, _, last_at)) = seen.last() else {
        return;
    };
    let others: Vec<String> = seen
        .iter()
        .filter(|(v, _, _)| v != last)
        .map(|(v, place, at)| format!("{at} in {place}: {v}"))
        .collect();
    if others.is_empty() {
        return;
    }
    let last_place = seen.last().map_or("", |(_, p, _)| p.as_str());
    imp.warn(format!(
        "{name} differs between blocks: {}; the edge block holds one {what}, and this importer takes the last one it reads: {last_at} in {last_place}: {last}. Requests the other blocks serve are cached differently; to model one of them, import a file holding only that block",
        others.join(", ")
    ));
}

/// The directives of `file`, an `include` replaced by the files it names (nginx reads
/// them in place, in name order for a mask). A relative path is taken from the directory
/// of the including file (nginx takes it from its prefix's `conf/`, where `nginx.conf`
/// normally is). A file that cannot be read is a warning, not an error: absolute paths
/// such as `/etc/nginx/mime.types` are usually not on the machine importing the config.
fn walk(st: &mut Ngx, file: &str, text: &str, stack: &mut Vec<String>) -> Result<(), InputError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for d in &directives(file, text)? {
        if d.words[0] == "proxy_cache" && d.words.get(1).is_some_and(|z| z != "off") {
            st.cache_on = true;
        }
        st.has_http |= d.words[0] == "http";
        if d.map_entry {
            if let Some(m) = st.origin_maps.last_mut().filter(|m| {
                d.blocks.last().map(String::as_str) == Some(&format!("map $http_origin {}", m.var))
            }) {
                let value = d.words.get(1).cloned().unwrap_or_default();
                m.entries
                    .push((d.words[0].clone(), value, format!("{file}:{}", d.line)));
            }
            continue;
        }
        if d.words[0] == "map"
            && d.opens_block
            && d.words.get(1).is_some_and(|s| s == "$http_origin")
        {
            if let Some(var) = d.words.get(2) {
                st.origin_maps.push(OriginMap {
                    var: var.clone(),
                    how: "map",
                    at: format!("{file}:{}", d.line),
                    entries: Vec::new(),
                });
                continue;
            }
        }
        if d.words[0] == "if" && d.opens_block && origin_condition(&d.words.join(" ")).is_some() {
            // read through the `set` lines inside it; anything else there is warned
            continue;
        }
        if d.words[0] == "set" && d.words.len() == 3 && d.words[1].starts_with('$') {
            let (var, value) = (&d.words[1], d.words[2].as_str());
            let at = format!("{file}:{}", d.line);
            match (d.under_if().and_then(origin_condition), value) {
                (Some(key), "$http_origin") => {
                    match st
                        .origin_maps
                        .iter_mut()
                        .find(|m| m.how == "set" && m.var == *var)
                    {
                        Some(m) => m.entries.push((key, value.to_string(), at)),
                        None => st.origin_maps.push(OriginMap {
                            var: var.clone(),
                            how: "set",
                            at: at.clone(),
                            entries: vec![(key, value.to_string(), at)],
                        }),
                    }
                    continue;
                }
                // the usual default before such `if` blocks: the variable is empty
                (None, "") if d.under_if().is_none() => continue,
                _ => {}
            }
        }
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

/// One directive: the ones docs/import.md lists, or a name for the warning. The number of
/// arguments was checked by [`check`] for the directives it knows.
fn directive(st: &mut Ngx, d: &Directive, file: &str) -> Result<(), InputError> {
    let imp = &mut st.imp;
    let at = format!("{file}:{}", d.line);
    let name = d.words[0].as_str();
    let args = &d.words[1..];
    let Some(first) = args.first() else {
        if !NEUTRAL.contains(&name) {
            st.ignored.push(format!("{name} ({at})"));
        }
        return Ok(());
    };
    match name {
        "proxy_cache_key" => st.keys.push((first.clone(), d.place(), at)),
        "proxy_cache_methods" => {
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
            let (codes, time) = args.split_at(args.len() - 1);
            let Some(t) = time.first().and_then(|t| seconds(t)) else {
                let w = &d.spans[d.spans.len() - 1];
                return Err(InputError::at(
                    file,
                    w.line,
                    w.col,
                    format!(
                        "expected a time such as 1m or 30s as the last argument of \"proxy_cache_valid\", found {:?}",
                        w.text
                    ),
                ));
            };
            if let Some(i) = codes.iter().position(|c| {
                c != "any" && !(c.len() == 3 && c.chars().all(|x| x.is_ascii_digit()))
            }) {
                let w = &d.spans[i + 1];
                return Err(InputError::at(
                    file,
                    w.line,
                    w.col,
                    format!(
                        "expected a status code such as 200, or \"any\", before the time of \"proxy_cache_valid\", found {:?}",
                        w.text
                    ),
                ));
            }
            let text = args.join(" ");
            let any = codes.iter().any(|c| c == "any");
            // nginx looks a status up in a block's lines in order and takes the first
            // that lists it or says `any` (ngx_http_file_cache_valid): a later line of the
            // same block never applies to 200 once one has.
            let first_in_block = !st.valid_blocks.contains(&d.block_at);
            if first_in_block && (codes.is_empty() || any || codes.iter().any(|c| c == "200")) {
                st.valid
                    .push((t, d.place(), format!("{at}: proxy_cache_valid {text}")));
                st.valid_blocks.push(d.block_at.clone());
            }
            // One warning per line: what the single default TTL of the edge block cannot say.
            if any || codes.is_empty() {
            } else if codes.iter().any(|c| c == "200") {
                imp.warn(format!("{at}: proxy_cache_valid {text}: nginx stores only the statuses listed ({}) when the response states no freshness; the edge block has one default TTL for every status, so a 404/5xx without Cache-Control is stored too", codes.join(" ")));
            } else {
                imp.warn(format!("{at}: proxy_cache_valid {text}: per-status TTLs are not modelled; this line is not imported (the default TTL comes from a line for 200 or any)"));
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
                    "x-accel-expires" => imp.warn(format!("{at}: proxy_ignore_headers X-Accel-Expires: the nginx profile reads X-Accel-Expires over Cache-Control, and an edge block cannot turn that off; answers carrying it are judged as nginx without this line would")),
                    other => imp.warn(format!("{at}: proxy_ignore_headers {other}: not modelled")),
                }
            }
        }
        // ngx_http_proxy_module, proxy_cache_use_stale: a response's own
        // `stale-while-revalidate` lets nginx answer stale "if it is currently being
        // updated" (1.11.10); with `proxy_cache_background_update on` the request that
        // finds the entry stale is answered that way while a subrequest updates it. Off,
        // that request waits for the origin (the nginx profile, measured on nginx 1.22).
        "proxy_cache_background_update" => {
            imp.knobs.stale_while_revalidate = first == "on";
            imp.note(
                "stale_while_revalidate",
                format!("{at}: proxy_cache_background_update {first}"),
            );
        }
        "proxy_cache_use_stale" if args.iter().any(|a| a == "updating") => imp.warn(format!(
            "{at}: proxy_cache_use_stale updating: nginx also answers stale during an update when the response has no stale-while-revalidate; the model serves stale only within the response's own stale-while-revalidate window (stale_while_revalidate follows proxy_cache_background_update)"
        )),
        "proxy_cache_lock" => {
            imp.knobs.collapse = if first == "on" {
                Collapse::On
            } else {
                Collapse::Off
            };
            imp.note("collapse", format!("{at}: proxy_cache_lock {first}"));
        }
        "proxy_set_header" => {
            let value = args.get(1).cloned().unwrap_or_default();
            st.set_headers
                .push((first.to_ascii_lowercase(), value, at.clone()));
        }
        "proxy_pass_request_headers" => {
            st.pass_off = (first == "off").then(|| at.clone());
        }
        "proxy_cache_bypass" | "proxy_no_cache" => bypass(imp, name, args, &at),
        "add_header" => st.add_headers.push(AddHeader {
            name: first.to_ascii_lowercase(),
            value: args.get(1).cloned().unwrap_or_default(),
            always: args.get(2).is_some_and(|a| a == "always"),
            place: d.place(),
            under_if: d.under_if().map(str::to_string),
            at,
        }),
        "proxy_hide_header" if first.eq_ignore_ascii_case("access-control-allow-origin") => {
            st.hide_acao = Some(at)
        }
        n if NEUTRAL.contains(&n) => {}
        other => st.ignored.push(format!("{other} ({at})")),
    }
    Ok(())
}

/// `add_header Access-Control-*`: nginx adds these fields to every response it sends,
/// cache hits included, computed from the viewer's own request, after the cache: what
/// `edge_cors` models. `$http_origin` reflects any origin (`allow_origins: ["*"]`, which
/// the model answers with the viewer's origin when credentials are allowed and with `*`
/// otherwise: the same outcome in a browser); a fixed origin is that one origin. What
/// `edge_cors` cannot say is a warning; every other `add_header` is named too.
fn cors(
    imp: &mut Imported,
    headers: &[AddHeader],
    hide_acao: Option<&str>,
    maps: &[OriginMap],
    ignored: &mut Vec<String>,
) {
    let mut c = EdgeCors::default();
    let mut from = Vec::new();
    let (mut origin_set, mut unknown_origin) = (false, false);
    let mut places: Vec<&str> = Vec::new();
    let mut without_always = Vec::new();
    for h in headers {
        let text = format!(
            "add_header {} {}{}",
            h.name,
            shown_value(&h.value),
            if h.always { " always" } else { "" }
        );
        if let Some(cond) = &h.under_if {
            imp.warn(format!("{}: {text} inside `{cond}`: added only when the condition holds, which is not modelled (not imported)", h.at));
            continue;
        }
        if h.name == "vary" {
            imp.warn(format!("{}: {text}: adds Vary to the responses sent to clients (browsers and caches after nginx vary on it), but nginx's own cache stores and matches by the upstream's Vary and its proxy_cache_key only, so its key does not change; not modelled (put $http_origin in proxy_cache_key to key on Origin)", h.at));
            continue;
        }
        if h.value == "$upstream_cache_status" {
            // HIT / MISS for debugging: changes nothing the model looks at
            continue;
        }
        let Some(field) = h.name.strip_prefix("access-control-") else {
            ignored.push(format!("add_header {} ({})", h.name, h.at));
            continue;
        };
        let v = h.value.trim();
        let ok = match field {
            "allow-origin" if v == "$http_origin" || v == "*" => {
                c.allow_origins = vec!["*".to_string()];
                origin_set = true;
                true
            }
            "allow-origin"
                if (v.starts_with("https://") || v.starts_with("http://"))
                    && !v.contains(['$', ' ', ',']) =>
            {
                c.allow_origins = vec![v.to_string()];
                origin_set = true;
                true
            }
            "allow-origin" if maps.iter().any(|m| m.var == v) => {
                // the last map that sets the variable is the one nginx keeps
                let Some(m) = maps.iter().rev().find(|m| m.var == v) else {
                    continue;
                };
                match map_origins(m) {
                    Ok((exact, patterns)) => {
                        c.allow_origins = exact;
                        c.allow_origin_patterns = patterns;
                        origin_set = true;
                        from.push(match m.how {
                            "map" => format!("{} (map {v})", m.at),
                            _ => {
                                format!("{} (set {v} $http_origin under if ($http_origin …))", m.at)
                            }
                        });
                        true
                    }
                    Err(why) => {
                        imp.warn(format!("{}: {text}: {v} is set from $http_origin by `{}` at {}, which edge_cors cannot say: {why}; edge_cors is not imported", h.at, m.how, m.at));
                        unknown_origin = true;
                        continue;
                    }
                }
            }
            "allow-origin" => {
                imp.warn(format!("{}: {text}: the value is not $http_origin, `*`, one origin or a variable set by `map $http_origin` (another variable is not evaluated); edge_cors is not imported", h.at));
                unknown_origin = true;
                continue;
            }
            "allow-credentials" if v == "true" => {
                c.allow_credentials = true;
                true
            }
            "allow-methods" => {
                c.allow_methods = list(v);
                !v.contains('$')
            }
            "allow-headers" => {
                c.allow_headers = list(v);
                !v.contains('$')
            }
            "expose-headers" => {
                c.expose_headers = list(v);
                !v.contains('$')
            }
            "max-age" => match v.parse::<u64>() {
                Ok(n) => {
                    c.max_age = Some(n);
                    true
                }
                Err(_) => false,
            },
            _ => false,
        };
        if !ok {
            imp.warn(format!("{}: {text}: not modelled", h.at));
            continue;
        }
        if !places.contains(&h.place.as_str()) {
            places.push(&h.place);
        }
        if !h.always {
            without_always.push(h.at.clone());
        }
        from.push(h.at.clone());
    }
    if from.is_empty() || unknown_origin {
        return;
    }
    if !origin_set {
        imp.warn(format!("{}: add_header sets Access-Control-* fields but not Access-Control-Allow-Origin; edge_cors is not imported", from.join(", ")));
        return;
    }
    if places.len() > 1 {
        imp.warn(format!("add_header Access-Control-* lines in several blocks ({}) are imported as one edge_cors; nginx applies a block's add_header lines only, and inherits the outer ones only when the block has none of its own", places.join(", ")));
    }
    if !without_always.is_empty() {
        imp.warn(format!("{}: add_header without `always`: nginx adds the field only to 200, 201, 204, 206, 301, 302, 303, 304, 307 and 308 responses, where edge_cors adds it to every status (a 4xx/5xx answer has no CORS fields in nginx)", without_always.join(", ")));
    }
    if c.allow_origins == ["*"]
        && c.allow_credentials
        && !headers
            .iter()
            .any(|h| h.name == "access-control-allow-origin" && h.value.trim() == "$http_origin")
    {
        c.allow_credentials = false;
        imp.warn(format!("{}: Access-Control-Allow-Origin `*` with Access-Control-Allow-Credentials true: browsers refuse credentialed requests with `*`, so allow_credentials is imported as false (the outcome browsers see)", from.join(", ")));
    }
    let reflects = headers.iter().any(|h| {
        h.under_if.is_none()
            && h.name == "access-control-allow-origin"
            && h.value.trim() == "$http_origin"
    });
    let adds_vary_origin = headers.iter().any(|h| {
        h.under_if.is_none() && h.name == "vary" && h.value.to_ascii_lowercase().contains("origin")
    });
    if reflects && c.allow_credentials && !adds_vary_origin {
        imp.warn(format!("{}: Access-Control-Allow-Origin reflects $http_origin but nothing adds `Vary: Origin`, so a browser's cache may reuse one origin's answer for another; edge_cors adds `Vary: Origin` when it reflects, which hides that", from.join(", ")));
    }
    match hide_acao {
        Some(hide) => {
            c.origin_override = true;
            c.hide_origin_acao = true;
            from.push(format!("{hide} (proxy_hide_header: the upstream's field is removed)"));
        }
        None => imp.warn(format!("{}: add_header adds Access-Control-Allow-Origin even when the upstream's response has one, and browsers refuse a response with two; modelled as origin_override: false (the upstream's value is kept). `proxy_hide_header Access-Control-Allow-Origin;` removes the upstream's", from.join(", "))),
    }
    imp.knobs.edge_cors = Some(c);
    imp.note(
        "edge_cors",
        format!(
            "{}: add_header Access-Control-* (nginx adds them to every response it sends, cache hits included, from the viewer's own request)",
            from.join(", ")
        ),
    );
}

/// A value as written in the config, quoted when it is empty or has spaces.
fn shown_value(v: &str) -> String {
    if v.is_empty() || v.contains(' ') {
        format!("{v:?}")
    } else {
        v.to_string()
    }
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
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
/// added; `proxy_pass_request_headers off` forwards only the set ones. The note names the
/// line behind each change; what stays as the profile has it is said to be its default.
fn forwarding(imp: &mut Imported, set: &[(String, String, String)], pass_off: Option<&str>) {
    let base = imp.knobs.forward.clone();
    let mut f = base.clone();
    let mut keep = Vec::new();
    let mut from = Vec::new();
    for (name, value, at) in set {
        if name == "host" || name == "connection" {
            continue;
        }
        if value.is_empty() {
            f.strip.push(name.clone());
            from.push(format!("{at}: proxy_set_header {name} \"\" (strips it)"));
        } else if value == &format!("$http_{}", name.replace('-', "_")) {
            keep.push(name.clone());
        } else if value.contains('$') {
            imp.warn(format!(
                "{at}: proxy_set_header {name} {value}: a computed value is not modelled"
            ));
        } else {
            f.add.push((name.clone(), value.clone()));
            from.push(format!("{at}: proxy_set_header {name} {value} (adds it)"));
        }
    }
    if let Some(at) = pass_off {
        f.headers = ForwardHeaders::List(keep);
        from.push(format!(
            "{at}: proxy_pass_request_headers off (only the fields set are passed)"
        ));
    }
    if f != imp.knobs.forward {
        imp.knobs.forward = f;
        let rest = super::vcl::profile_part(&base, &imp.knobs.forward, imp.profile);
        imp.note("forward_headers", format!("{}{rest}", from.join(", ")));
    }
}
