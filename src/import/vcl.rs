//! Varnish / Fastly VCL, a subset: `vcl_hash` (`hash_data(...)`, `set req.hash += ...`),
//! `vcl_recv` pass/hash decisions on the method, `Cookie` and `Authorization`, `unset
//! req.http.X`, `vcl_backend_fetch` `unset`/`set bereq.http.X`, and `beresp.ttl` /
//! `return (pass)` in `vcl_backend_response` (`vcl_fetch` in Fastly). Everything else is
//! named in a warning with its line. Subroutines not defined fall through to the builtin
//! VCL, which the `varnish` profile models.

use super::Imported;
use crate::edge::forward::{Forward, ForwardHeaders};
use crate::error::InputError;
use crate::profile::PreflightKey;

#[derive(Clone, Debug, PartialEq)]
struct Tok {
    text: String,
    line: u64,
    col: u64,
}

fn tokens(file: &str, text: &str) -> Result<Vec<Tok>, InputError> {
    let c: Vec<char> = text.chars().collect();
    let (mut i, mut line, mut col) = (0usize, 1u64, 1u64);
    let mut out = Vec::new();
    while i < c.len() {
        let (l0, c0) = (line, col);
        let step = |i: &mut usize, line: &mut u64, col: &mut u64| {
            if c[*i] == '\n' {
                *line += 1;
                *col = 1;
            } else {
                *col += 1;
            }
            *i += 1;
        };
        if c[i].is_whitespace() {
            step(&mut i, &mut line, &mut col);
        } else if c[i] == '#' || (c[i] == '/' && c.get(i + 1) == Some(&'/')) {
            while i < c.len() && c[i] != '\n' {
                step(&mut i, &mut line, &mut col);
            }
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            while i < c.len() && !(c[i] == '*' && c.get(i + 1) == Some(&'/')) {
                step(&mut i, &mut line, &mut col);
            }
            if i >= c.len() {
                return Err(InputError::at(file, l0, c0, "unterminated /* comment"));
            }
            step(&mut i, &mut line, &mut col);
            step(&mut i, &mut line, &mut col);
        } else if c[i] == '"' {
            let mut s = String::from("\"");
            step(&mut i, &mut line, &mut col);
            while i < c.len() && c[i] != '"' && c[i] != '\n' {
                s.push(c[i]);
                step(&mut i, &mut line, &mut col);
            }
            if i >= c.len() || c[i] != '"' {
                return Err(InputError::at(file, l0, c0, "unterminated string"));
            }
            step(&mut i, &mut line, &mut col);
            s.push('"');
            out.push(Tok {
                text: s,
                line: l0,
                col: c0,
            });
        } else if c[i].is_ascii_alphanumeric() || "_.-:".contains(c[i]) {
            let mut s = String::new();
            while i < c.len() && (c[i].is_ascii_alphanumeric() || "_.-:".contains(c[i])) {
                s.push(c[i]);
                step(&mut i, &mut line, &mut col);
            }
            out.push(Tok {
                text: s,
                line: l0,
                col: c0,
            });
        } else {
            let two: String = c[i..(i + 2).min(c.len())].iter().collect();
            let op = if ["==", "!=", "&&", "||", "+=", "~"].contains(&two.as_str()) {
                two
            } else {
                c[i].to_string()
            };
            for _ in 0..op.chars().count() {
                step(&mut i, &mut line, &mut col);
            }
            out.push(Tok {
                text: op,
                line: l0,
                col: c0,
            });
        }
    }
    Ok(out)
}

struct P<'a> {
    file: &'a str,
    t: Vec<Tok>,
    i: usize,
}

impl P<'_> {
    fn peek(&self) -> Option<&str> {
        self.t.get(self.i).map(|t| t.text.as_str())
    }
    fn err_here(&self, msg: impl Into<String>) -> InputError {
        let (l, c) = self
            .t
            .get(self.i)
            .or(self.t.last())
            .map_or((0, 0), |t| (t.line, t.col));
        InputError::at(self.file, l, c, msg)
    }
    fn expect(&mut self, s: &str) -> Result<(), InputError> {
        if self.peek() == Some(s) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err_here(format!(
                "expected `{s}`, found {}",
                self.peek()
                    .map_or("end of file".to_string(), |p| format!("`{p}`"))
            )))
        }
    }
    /// Tokens up to the matching `)` (the `(` already consumed), joined by spaces.
    fn until_close(&mut self) -> Result<String, InputError> {
        let mut depth = 1;
        let mut parts = Vec::new();
        while let Some(t) = self.peek().map(str::to_string) {
            self.i += 1;
            match t.as_str() {
                "(" => depth += 1,
                ")" => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(parts.join(" "));
                    }
                }
                _ => {}
            }
            parts.push(self.t[self.i - 1].text.clone());
        }
        Err(self.err_here("expected `)`"))
    }
    fn skip_block(&mut self) -> Result<(), InputError> {
        self.expect("{")?;
        let mut depth = 1;
        while let Some(t) = self.peek().map(str::to_string) {
            self.i += 1;
            match t.as_str() {
                "{" => depth += 1,
                "}" => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        Err(self.err_here("expected `}`: a block is not closed"))
    }
}

/// One statement with the subroutine and the conditions it sits under.
#[derive(Clone, Debug)]
struct Stmt {
    sub: String,
    conds: Vec<String>,
    words: Vec<String>,
    line: u64,
}

fn body(
    p: &mut P<'_>,
    sub: &str,
    conds: &mut Vec<String>,
    out: &mut Vec<Stmt>,
) -> Result<(), InputError> {
    p.expect("{")?;
    loop {
        match p.peek() {
            None => return Err(p.err_here("expected `}`: a subroutine is not closed")),
            Some("}") => {
                p.i += 1;
                return Ok(());
            }
            Some("if") => {
                p.i += 1;
                p.expect("(")?;
                let c = p.until_close()?;
                conds.push(c.clone());
                body(p, sub, conds, out)?;
                conds.pop();
                let mut negs = vec![format!("!({c})")];
                loop {
                    match p.peek() {
                        Some("elsif") | Some("elseif") => {
                            p.i += 1;
                            p.expect("(")?;
                            let c2 = p.until_close()?;
                            conds.push(format!("{} && {c2}", negs.join(" && ")));
                            body(p, sub, conds, out)?;
                            conds.pop();
                            negs.push(format!("!({c2})"));
                        }
                        Some("else") => {
                            p.i += 1;
                            if p.peek() == Some("if") {
                                p.i += 1;
                                p.expect("(")?;
                                let c2 = p.until_close()?;
                                conds.push(format!("{} && {c2}", negs.join(" && ")));
                                body(p, sub, conds, out)?;
                                conds.pop();
                                negs.push(format!("!({c2})"));
                            } else {
                                conds.push(negs.join(" && "));
                                body(p, sub, conds, out)?;
                                conds.pop();
                                break;
                            }
                        }
                        _ => break,
                    }
                }
            }
            Some(_) => {
                let line = p.t[p.i].line;
                let start = p.i;
                let mut words = Vec::new();
                while let Some(t) = p.peek() {
                    if t == ";" {
                        break;
                    }
                    if t == "}" || t == "{" {
                        // reported just after the last word, where the `;` belongs
                        let (line, col) = p.i.checked_sub(1).map_or((0, 0), |j| {
                            let last = &p.t[j];
                            (last.line, last.col + last.text.chars().count() as u64)
                        });
                        return Err(InputError::at(
                            p.file,
                            line,
                            col,
                            format!(
                                "expected ';' after `{}`, found `{t}`",
                                words.join(" ").replace(" ( ", "(").replace(" )", ")")
                            ),
                        ));
                    }
                    words.push(t.to_string());
                    p.i += 1;
                }
                check_statement(p, start)?;
                p.expect(";")?;
                out.push(Stmt {
                    sub: sub.to_string(),
                    conds: conds.clone(),
                    words,
                    line,
                });
            }
        }
    }
}

/// Words that begin a statement: one of them inside an expression means the `;` before
/// it is missing.
const STATEMENT_WORDS: &[&str] = &[
    "set",
    "unset",
    "remove",
    "add",
    "return",
    "call",
    "hash_data",
    "synthetic",
    "ban",
    "new",
    "restart",
    "esi",
    "error",
    "declare",
    "log",
    "if",
];

/// Checks the statement `p.t[start..p.i]` (the `;` not included) as VCC does for the
/// shapes this importer reads: a call (`hash_data(X)`, `return (X)`, `std.log(…)`) ends
/// at its closing parenthesis; `unset X` and `call X` take one word; `set X = EXPR` has
/// an assignment and an expression without another statement in it, and a duration
/// variable (`beresp.ttl`, …) gets durations (a number with a unit: ms, s, m, h, d, w,
/// y). Anything else VCC would refuse there is "expected ';'": what the user forgot.
fn check_statement(p: &P<'_>, start: usize) -> Result<(), InputError> {
    let toks = &p.t[start..p.i];
    let words: Vec<&str> = toks.iter().map(|t| t.text.as_str()).collect();
    let err = |i: usize, msg: String| -> Result<(), InputError> {
        let t = &toks[i];
        Err(InputError::at(p.file, t.line, t.col, msg))
    };
    let expected_semicolon = |i: usize| {
        // reported just after the statement's last word, where the `;` belongs
        let last = &toks[i - 1];
        Err(InputError::at(
            p.file,
            last.line,
            last.col + last.text.chars().count() as u64,
            format!(
                "expected ';' after `{}`, found `{}`",
                words[..i].join(" ").replace(" ( ", "(").replace(" )", ")"),
                words[i]
            ),
        ))
    };
    let name = words.first().copied().unwrap_or("");
    let is_word = |w: &str| w.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    // `hash_data(req.url)`, `return (lookup)`, `std.log("…")`: nothing after the `)`
    if words.get(1) == Some(&"(") && is_word(name) {
        let mut depth = 0;
        for (i, w) in words.iter().enumerate().skip(1) {
            match *w {
                "(" => depth += 1,
                ")" => {
                    depth -= 1;
                    if depth == 0 {
                        return if i + 1 < words.len() {
                            expected_semicolon(i + 1)
                        } else {
                            Ok(())
                        };
                    }
                }
                _ => {}
            }
        }
        return Ok(());
    }
    match name {
        "unset" | "remove" | "call" if words.len() > 2 => expected_semicolon(2),
        "unset" | "remove" | "call" if words.len() < 2 => {
            err(0, format!("expected a name after `{name}`, found `;`"))
        }
        "set" | "add" => {
            let Some(lhs) = words.get(1) else {
                return err(0, format!("expected a variable after `{name}`, found `;`"));
            };
            // `=`, `+=`, and `-=` `*=` `/=` (read here as two tokens)
            let value_at = match words.get(2).copied() {
                Some("=" | "+=") => 3,
                Some("-" | "*" | "/") if words.get(3) == Some(&"=") => 4,
                Some(other) => {
                    return err(
                        2,
                        format!("expected '=' after `{name} {lhs}`, found `{other}`"),
                    )
                }
                None => return err(1, format!("expected '=' after `{name} {lhs}`, found `;`")),
            };
            if value_at >= words.len() {
                return err(
                    value_at - 1,
                    format!(
                        "expected a value after `{}`, found `;`",
                        words[..value_at].join(" ")
                    ),
                );
            }
            let mut depth = 0i32;
            for (i, w) in words.iter().enumerate().skip(value_at) {
                match *w {
                    "(" => depth += 1,
                    ")" => depth -= 1,
                    "=" => return expected_semicolon(i),
                    w if depth == 0 && STATEMENT_WORDS.contains(&w) => {
                        return expected_semicolon(i)
                    }
                    _ => {}
                }
            }
            if is_duration_var(lhs) {
                for i in value_at..words.len() {
                    let w = words[i];
                    let number = w.starts_with(|c: char| c.is_ascii_digit());
                    let scaled = ["*", "/"].contains(&words[i - 1])
                        || words.get(i + 1).is_some_and(|n| ["*", "/"].contains(n));
                    if number && ttl_secs(w).is_none() && !scaled {
                        return err(
                            i,
                            format!(
                                "expected a duration for `{lhs}`: a number with a unit (ms, s, m, h, d, w, y) such as 5m, found `{}`",
                                words[i..].join(" ")
                            ),
                        );
                    }
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The variables VCC types as DURATION (the ones a config sets the TTL with).
fn is_duration_var(v: &str) -> bool {
    let v = v.to_ascii_lowercase();
    (v.starts_with("beresp.") || v.starts_with("obj.") || v.starts_with("req."))
        && [
            ".ttl",
            ".grace",
            ".keep",
            ".stale_while_revalidate",
            ".stale_if_error",
        ]
        .iter()
        .any(|s| v.ends_with(s))
}

fn statements(file: &str, text: &str) -> Result<(Vec<Stmt>, Vec<String>), InputError> {
    let mut p = P {
        file,
        t: tokens(file, text)?,
        i: 0,
    };
    let mut out = Vec::new();
    let mut subs = Vec::new();
    while let Some(t) = p.peek() {
        match t {
            "vcl" | "import" | "include" => {
                while p.peek().is_some_and(|t| t != ";") {
                    p.i += 1;
                }
                p.expect(";")?;
            }
            "backend" | "probe" | "acl" | "director" | "table" => {
                p.i += 2;
                p.skip_block()?;
            }
            "sub" => {
                p.i += 1;
                let name = p
                    .peek()
                    .ok_or_else(|| p.err_here("expected a subroutine name"))?
                    .to_string();
                p.i += 1;
                subs.push(name.clone());
                body(&mut p, &name, &mut Vec::new(), &mut out)?;
            }
            other => {
                return Err(p.err_here(format!(
                    "expected `vcl`, `import`, `backend` or `sub`, found `{other}`"
                )))
            }
        }
    }
    Ok((out, subs))
}

/// Whitespace collapsed, lowercase; Fastly's `req.request` spelled `req.method`.
fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
        .replace("req.request", "req.method")
}

/// The methods a `vcl_recv` guard `if (req.method != "GET" && req.method != "HEAD") {
/// return (pass); }` lets through to the statements after it; `None` when the condition
/// is not such a conjunction.
fn methods_let_through(cond: &str) -> Option<Vec<String>> {
    norm(cond)
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split("&&")
        .map(|part| {
            let m = part
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .trim()
                .strip_prefix("req.method != ")?;
            let m = m.trim().strip_prefix('"')?.strip_suffix('"')?;
            Some(m.to_ascii_uppercase())
        })
        .collect()
}

fn is_method_is(c: &str, m: &str) -> bool {
    norm(c) == format!("req.method == \"{}\"", m.to_ascii_lowercase())
}

/// A header the statement names as `req.http.X` / `bereq.http.X` (lowercase).
fn header_of(w: &str, prefix: &str) -> Option<String> {
    w.strip_prefix(prefix).map(|h| h.to_ascii_lowercase())
}

/// `call NAME;` runs the file's own subroutine NAME where it stands, under the caller's
/// conditions (Varnish reference, "VCL Syntax" → Subroutines: a `return (action)` in it
/// ends the built-in subroutine that called it), so its statements are read as the
/// caller's. The statements of a subroutine some `call` reaches are not read on their
/// own; those of one never called stay (and are warned as not interpreted). VCC refuses
/// recursion, so a chain deeper than the subroutines there are is left uninlined.
fn inline_calls(stmts: Vec<Stmt>, subs: &[String]) -> (Vec<Stmt>, Vec<String>) {
    let own = |n: &str| subs.iter().any(|s| s == n) && !n.starts_with("vcl_");
    let callee = |s: &Stmt| match s.words.as_slice() {
        [c, name] if c == "call" && own(name) => Some(name.clone()),
        _ => None,
    };
    let mut called: Vec<String> = stmts.iter().filter_map(callee).collect();
    called.sort();
    called.dedup();
    fn expand(
        s: &Stmt,
        all: &[Stmt],
        callee: &dyn Fn(&Stmt) -> Option<String>,
        depth: usize,
        out: &mut Vec<Stmt>,
    ) {
        match callee(s).filter(|_| depth > 0) {
            Some(name) => {
                for c in all.iter().filter(|c| c.sub == name) {
                    let mut conds = s.conds.clone();
                    conds.extend(c.conds.iter().cloned());
                    let inlined = Stmt {
                        sub: s.sub.clone(),
                        conds,
                        words: c.words.clone(),
                        line: c.line,
                    };
                    expand(&inlined, all, callee, depth - 1, out);
                }
            }
            None => out.push(s.clone()),
        }
    }
    let mut out = Vec::new();
    for s in stmts.iter().filter(|s| !called.contains(&s.sub)) {
        expand(s, &stmts, &callee, subs.len(), &mut out);
    }
    (out, called)
}

pub(crate) fn import(file: &str, text: &str) -> Result<Imported, InputError> {
    let (stmts, subs) = statements(file, text)?;
    let (stmts, called) = inline_calls(stmts, &subs);
    let fastly =
        text.contains("req.hash +=") || text.contains("#FASTLY") || text.contains("vcl_fetch");
    let mut imp = Imported::new(
        file,
        super::Format::Vcl,
        if fastly { "fastly" } else { "varnish" },
    );
    let mut hashed = Vec::new();
    let mut returns_lookup = false;
    let mut recv = Recv::default();
    for s in &stmts {
        statement(
            &mut imp,
            s,
            file,
            &mut hashed,
            &mut returns_lookup,
            &mut recv,
        );
    }
    for sub in &subs {
        if ![
            "vcl_recv",
            "vcl_hash",
            "vcl_backend_fetch",
            "vcl_backend_response",
            "vcl_fetch",
            "vcl_miss",
            "vcl_pass",
            "vcl_deliver",
        ]
        .contains(&sub.as_str())
            && !called.contains(sub)
        {
            imp.warn(format!("{file}: sub {sub}: not interpreted"));
        }
    }
    // Varnish's builtin vcl_backend_response runs after the file's unless it returns: it
    // makes no-store / private / Set-Cookie answers uncacheable whatever beresp.ttl says,
    // where the model's ttl.min stores them (as CloudFront does).
    let in_backend_response = |w: &[&str]| {
        stmts.iter().find(|s| {
            s.sub == "vcl_backend_response"
                && s.conds.is_empty()
                && s.words
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .starts_with(w)
        })
    };
    if !fastly {
        let ttl_imported = imp
            .notes
            .iter()
            .any(|n| n.knob == "ttl" && n.from.contains("set beresp.ttl"));
        if let Some(t) = in_backend_response(&["set", "beresp.ttl"]).filter(|_| ttl_imported) {
            if in_backend_response(&["return", "(", "deliver"]).is_none() {
                imp.warn(format!(
                    "{file}:{}: set beresp.ttl without return (deliver): the builtin vcl_backend_response still makes no-store/private/Set-Cookie answers uncacheable, but the imported ttl.min stores them; add `return (deliver);` or treat findings on such answers with care",
                    t.line
                ));
            }
        }
    }
    if let Some(n) = imp.notes.iter_mut().find(|n| n.knob == "forward_headers") {
        let base = Imported::new(file, super::Format::Vcl, imp.profile)
            .knobs
            .forward;
        n.from
            .push_str(&profile_part(&base, &imp.knobs.forward, imp.profile));
    }
    hash_knobs(&mut imp, &hashed, returns_lookup, file);
    beresp_vary(&mut imp, &stmts, file);
    super::vcl_cors::finish(&mut imp, file);
    Ok(imp)
}

/// `set beresp.http.Vary = ...` in `vcl_backend_response` (Fastly: `vcl_fetch`): the
/// stored object carries that `Vary`, and Varnish selects variants by it (its builtin
/// behaviour, RFC 9111 §4.1), so each value of a named request header gets its own
/// object. The model keys those headers (`key_headers`): the same objects are stored and
/// served. The `Vary` field itself, which the browser would also see, is not added.
/// The value is a string (`"Origin"`) or an append to the origin's own
/// (`beresp.http.Vary + ", Origin"`); the names are the quoted strings' members.
fn beresp_vary(imp: &mut Imported, stmts: &[Stmt], file: &str) {
    for s in stmts {
        let w: Vec<&str> = s.words.iter().map(String::as_str).collect();
        let ["set", h, "=", v @ ..] = w.as_slice() else {
            continue;
        };
        if !matches!(s.sub.as_str(), "vcl_backend_response" | "vcl_fetch")
            || !h.eq_ignore_ascii_case("beresp.http.vary")
        {
            continue;
        }
        let at = format!("{file}:{}", s.line);
        let text = s.words.join(" ");
        let names: Vec<String> = v
            .iter()
            .filter(|t| t.starts_with('"'))
            .flat_map(|t| t.trim_matches('"').split(','))
            .map(|n| n.trim().to_ascii_lowercase())
            .filter(|n| !n.is_empty() && n != "accept-encoding")
            .collect();
        let only_strings_and_vary = v
            .iter()
            .all(|t| t.starts_with('"') || *t == "+" || t.eq_ignore_ascii_case("beresp.http.vary"));
        if !only_strings_and_vary || names.iter().any(|n| n == "*") {
            imp.warn(format!("{at}: `{text}`: a computed Vary is not modelled"));
            continue;
        }
        if names.is_empty() {
            // `Accept-Encoding` alone: no CORS-relevant variation, the key stays as it is
            continue;
        }
        if !s.conds.is_empty() {
            imp.warn(format!(
                "{at}: `{text}` under `if ({})`: modelled as if it applied to every response",
                s.conds.join(" && ")
            ));
        }
        for n in names {
            if !imp.knobs.key_headers.contains(&n) {
                imp.knobs.key_headers.push(n);
            }
        }
        imp.note(
            "key_headers",
            format!("{at}: {text} (each value of the named headers is stored apart)"),
        );
    }
}

/// One statement of a subroutine: the constructs docs/import.md lists, or a warning.
fn statement(
    imp: &mut Imported,
    s: &Stmt,
    file: &str,
    hashed: &mut Vec<(String, String)>,
    returns_lookup: &mut bool,
    recv: &mut Recv,
) {
    {
        let at = format!("{file}:{}", s.line);
        let w: Vec<&str> = s.words.iter().map(String::as_str).collect();
        let cond = s.conds.join(" && ");
        let text = w.join(" ");
        match (s.sub.as_str(), w.as_slice()) {
            ("vcl_hash", ["hash_data", "(", x, ")"])
            | ("vcl_hash", ["set", "req.hash", "+=", x]) => {
                // The builtin vcl_hash: the Host when there is one, else the server's
                // address; either way the host part of the key (`key_host`).
                let x_l = x.to_ascii_lowercase();
                let builtin_host = match s.conds.as_slice() {
                    [c] => {
                        let c = norm(c);
                        // `if (req.http.X) { hash_data(req.http.X); }` keys X as the
                        // unconditional form does: one entry per value of X, one without X
                        (x_l.starts_with("req.http.") && c == x_l)
                            || (x_l == "server.ip"
                                && (c == "!(req.http.host)" || c == "!req.http.host"))
                    }
                    _ => false,
                };
                if !s.conds.is_empty() && !builtin_host {
                    imp.warn(format!(
                        "{at}: `{text}` under `if ({cond})`: conditional hashing not modelled"
                    ));
                }
                hashed.push((x.to_ascii_lowercase(), at));
            }
            ("vcl_hash", ["return", "(", r, ")"]) if *r == "lookup" || *r == "hash" => {
                *returns_lookup = true
            }
            ("vcl_recv", ["return", "(", r, ")"]) => {
                recv_return(imp, r, &s.conds, &at, recv)
            }
            ("vcl_recv", ["unset", h])
            | ("vcl_backend_fetch", ["unset", h])
            | ("vcl_miss", ["unset", h])
            | ("vcl_pass", ["unset", h]) => {
                let name = header_of(h, "req.http.").or_else(|| header_of(h, "bereq.http."));
                match name {
                    Some(n) if s.conds.is_empty() => {
                        if n == "cookie" {
                            imp.knobs.pass_cookie = false;
                            imp.note(
                                "pass_cookie",
                                format!("{at}: {text} (the builtin Cookie pass never sees it)"),
                            );
                        }
                        if n == "authorization" {
                            imp.knobs.pass_authorization = false;
                            imp.note("pass_authorization", format!("{at}: {text}"));
                        }
                        imp.knobs.forward.strip.push(n.clone());
                        forward_from(imp, format!("{at}: {text} (strips {n})"));
                    }
                    _ => imp.warn(format!(
                        "{at}: `{text}`{}: not modelled",
                        if cond.is_empty() {
                            String::new()
                        } else {
                            format!(" under `if ({cond})`")
                        }
                    )),
                }
            }
            ("vcl_deliver", ["set", h, "=", v @ ..])
                if h.to_ascii_lowercase().starts_with("resp.http.") =>
            {
                super::vcl_cors::deliver_set(imp, &h["resp.http.".len()..], v, &s.conds, &at)
            }
            ("vcl_backend_fetch", ["set", "bereq.method", "=", ..]) if s.conds.is_empty() => {}
            ("vcl_backend_fetch", ["set", "bereq.method", "=", ..]) => imp.warn(format!(
                "{at}: `{text}` under `if ({cond})`: the backend fetch's method is changed only when the condition holds; not modelled (the model fetches with the method the builtin leaves)"
            )),
            ("vcl_backend_fetch", ["set", h, "=", v])
                if h.starts_with("bereq.http.") && v.starts_with('"') && s.conds.is_empty() =>
            {
                let n = h["bereq.http.".len()..].to_ascii_lowercase();
                imp.knobs
                    .forward
                    .add
                    .push((n.clone(), v.trim_matches('"').to_string()));
                forward_from(imp, format!("{at}: {text} (adds {n})"));
            }
            ("vcl_backend_response" | "vcl_fetch", ["set", "beresp.ttl", "=", v])
                if s.conds.is_empty() =>
            {
                match ttl_secs(v) {
                    Some(t) => {
                        imp.knobs.ttl.min = Some(t);
                        imp.knobs.ttl.max = Some(t);
                        imp.knobs.ttl.default = Some(t);
                        imp.note(
                            "ttl",
                            format!("{at}: {text} (overrides the origin's freshness)"),
                        );
                    }
                    None => imp.warn(format!(
                        "{at}: `{text}`: expected a duration such as 60s, 5m"
                    )),
                }
            }
            // Varnish: beresp.grace replaces the grace RFC2616_Ttl set (the
            // stale-while-revalidate directive or default_grace) for every object; the
            // builtin still makes objects with a TTL of 0 hit-for-miss, which the knob
            // keeps. Fastly: beresp.stale_while_revalidate does that (its default is the
            // directive, else 0), and its deprecated beresp.grace is stale-if-error's
            // twin, used only when the origin fails (fastly.com/documentation/reference/
            // vcl/variables/backend-response/beresp-grace).
            ("vcl_backend_response" | "vcl_fetch", ["set", var, "=", v])
                if s.conds.is_empty()
                    && ((imp.profile == "varnish" && var.eq_ignore_ascii_case("beresp.grace"))
                        || (imp.profile == "fastly"
                            && var.eq_ignore_ascii_case("beresp.stale_while_revalidate"))) =>
            {
                match ttl_secs(v) {
                    Some(g) => {
                        imp.knobs.grace.fixed = Some(g);
                        imp.note(
                            "grace",
                            format!(
                                "{at}: {text} (an expired object is served for {} more while it is refreshed)",
                                crate::time::human_duration(g.saturating_mul(1000))
                            ),
                        );
                    }
                    None => imp.warn(format!(
                        "{at}: `{text}`: expected a duration such as 10s, 6h"
                    )),
                }
            }
            ("vcl_fetch", ["set", var, "=", ..])
                if imp.profile == "fastly" && var.eq_ignore_ascii_case("beresp.grace") =>
            {
                imp.warn(format!(
                    "{at}: `{text}`: Fastly's beresp.grace serves stale content only when the origin fails (as stale-if-error); not modelled"
                ));
            }
            // Varnish builds an object's variant key from `beresp.http.Vary` as it stands
            // when vcl_backend_response ends (Fastly: vcl_fetch), so removing it stores
            // one object per URL whatever the origin varied on: `vary: ignore`. Under
            // `if (beresp.http.Vary)` it removes the same field, so it means the same.
            ("vcl_backend_response" | "vcl_fetch", ["unset", h])
                if h.eq_ignore_ascii_case("beresp.http.vary")
                    && s.conds.iter().all(|c| {
                        norm(c).trim_start_matches('(').trim_end_matches(')').trim()
                            == "beresp.http.vary"
                    }) =>
            {
                imp.knobs.vary = crate::profile::VaryMode::Ignore;
                imp.note(
                    "vary",
                    format!("{at}: {text} (objects are stored without the origin's Vary)"),
                );
            }
            // read by `beresp_vary` once every statement is seen
            ("vcl_backend_response" | "vcl_fetch", ["set", h, "=", ..])
                if h.eq_ignore_ascii_case("beresp.http.vary") => {}
            // skips the builtin vcl_backend_response: beresp.ttl holds for every answer
            ("vcl_backend_response", ["return", "(", "deliver", ")"]) if s.conds.is_empty() => {}
            ("vcl_backend_response" | "vcl_fetch", ["return", "(", "pass", ..])
            | ("vcl_backend_response" | "vcl_fetch", ["set", "beresp.uncacheable", "=", "true"])
                if s.conds.is_empty() =>
            {
                imp.knobs.ttl.max = Some(0);
                imp.note(
                    "ttl",
                    format!("{at}: {text} (nothing is stored: every request goes to the origin)"),
                );
            }
            ("vcl_recv", ["set", h, ..])
                if h.starts_with("req.http.x-") || h.starts_with("req.http.X-") =>
            {
                imp.warn(format!(
                    "{at}: `{text}`: setting a request header is not modelled"
                ));
            }
            _ => imp.warn(format!(
                "{at}: `{text}` in {}{}: not interpreted",
                s.sub,
                if cond.is_empty() {
                    String::new()
                } else {
                    format!(" under `if ({cond})`")
                }
            )),
        }
    }
}

fn ttl_secs(v: &str) -> Option<u64> {
    let (n, unit) = v.split_at(
        v.find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(v.len()),
    );
    let n: f64 = n.parse().ok()?;
    let mul = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        "w" => 604_800.0,
        "y" => 31_536_000.0,
        "ms" => 0.001,
        _ => return None,
    };
    Some((n * mul) as u64)
}

/// `vcl_recv` returns: `hash` on OPTIONS stores preflights; `pass` on Cookie /
/// Authorization passes those (as the builtin does); an unconditional `hash` skips the
/// builtin (no Cookie/Authorization pass).
/// What the `return`s of vcl_recv read so far decide.
#[derive(Default)]
struct Recv {
    /// The methods a method guard (`if (req.method != "GET" && …) { return (pass); }`) let
    /// through.
    let_through: Option<Vec<String>>,
    /// An `if (req.method == "OPTIONS") { return (…); }` came first: vcl_recv ends there
    /// for a preflight, so no later `return` decides whether OPTIONS is looked up.
    options_done: bool,
}

fn recv_return(imp: &mut Imported, r: &str, conds: &[String], at: &str, recv: &mut Recv) {
    let c = conds.join(" && ");
    match (r, conds.len()) {
        // Only the methods a guard above let through reach this lookup.
        ("hash" | "lookup", 0) if recv.let_through.is_some() => {
            let methods = recv.let_through.clone().unwrap_or_default();
            let options = methods.iter().any(|m| m == "OPTIONS");
            if !recv.options_done {
                imp.knobs.cache_options = options;
                imp.note(
                    "cache_options",
                    format!(
                        "{at}: return ({r}) after the method guard: only {} looked up",
                        methods.join(", ")
                    ),
                );
            }
            if options && !recv.options_done {
                imp.knobs.preflight_key = PreflightKey::Ignore;
                imp.note(
                    "preflight_key",
                    format!("{at}: OPTIONS looked up under the hash of vcl_hash only"),
                );
            }
            let explicit = |imp: &Imported, k: &str| imp.notes.iter().any(|n| n.knob == k);
            if !explicit(imp, "pass_cookie") {
                imp.knobs.pass_cookie = false;
                imp.note(
                    "pass_cookie",
                    format!("{at}: return ({r}) before the builtin's Cookie pass"),
                );
            }
            if !explicit(imp, "pass_authorization") {
                imp.knobs.pass_authorization = false;
                imp.note(
                    "pass_authorization",
                    format!("{at}: return ({r}) before the builtin's Authorization pass"),
                );
            }
            let others: Vec<&String> = methods
                .iter()
                .filter(|m| {
                    !["GET", "HEAD", "OPTIONS", "PURGE", "FASTLYPURGE"].contains(&m.as_str())
                })
                .collect();
            if !others.is_empty() {
                imp.warn(format!(
                    "{at}: return ({r}) also looks up {}; not modelled",
                    others
                        .iter()
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        ("hash" | "lookup", 1) if is_method_is(&conds[0], "OPTIONS") => {
            recv.options_done = true;
            imp.knobs.cache_options = true;
            // keyed by what vcl_hash hashes, not by the preflight headers
            imp.knobs.preflight_key = PreflightKey::Ignore;
            imp.note("cache_options", format!("{at}: return ({r}) if ({c})"));
            imp.note(
                "preflight_key",
                format!("{at}: OPTIONS looked up under the hash of vcl_hash only"),
            );
        }
        ("hash" | "lookup", 0) => {
            if !recv.options_done {
                imp.knobs.cache_options = true;
                imp.knobs.preflight_key = PreflightKey::Ignore;
                imp.note(
                    "cache_options",
                    format!("{at}: unconditional return (hash): the builtin vcl_recv never runs"),
                );
                imp.note(
                    "preflight_key",
                    format!("{at}: OPTIONS looked up under the hash of vcl_hash only"),
                );
            }
            // the builtin's Cookie/Authorization pass never runs; an explicit one above stays
            let explicit = |imp: &Imported, k: &str| imp.notes.iter().any(|n| n.knob == k);
            if !explicit(imp, "pass_cookie") {
                imp.knobs.pass_cookie = false;
                imp.note("pass_cookie", format!("{at}: unconditional return (hash)"));
            }
            if !explicit(imp, "pass_authorization") {
                imp.knobs.pass_authorization = false;
                imp.note(
                    "pass_authorization",
                    format!("{at}: unconditional return (hash)"),
                );
            }
            imp.warn(format!("{at}: unconditional return (hash) also looks up POST/PUT/DELETE; only OPTIONS is modelled"));
        }
        ("pass", 1) if is_method_is(&conds[0], "OPTIONS") => {
            recv.options_done = true;
            imp.knobs.cache_options = false;
            imp.note(
                "cache_options",
                format!("{at}: return (pass) if ({c}) (preflights are never stored)"),
            );
        }
        ("pass", 1) if norm(&conds[0]) == "req.http.cookie" => {
            imp.knobs.pass_cookie = true;
            imp.note("pass_cookie", format!("{at}: return (pass) if ({c})"));
        }
        ("pass", 1) if norm(&conds[0]) == "req.http.authorization" => {
            imp.knobs.pass_authorization = true;
            imp.note(
                "pass_authorization",
                format!("{at}: return (pass) if ({c})"),
            );
        }
        ("pass", 1) if methods_let_through(&conds[0]).is_some() => {
            recv.let_through = methods_let_through(&conds[0]);
            if recv.options_done {
                return;
            }
            imp.note(
                "cache_options",
                format!("{at}: return (pass) if ({c}) (as the builtin)"),
            );
        }
        _ => imp.warn(format!(
            "{at}: return ({r}){}: not interpreted",
            if c.is_empty() {
                String::new()
            } else {
                format!(" if ({c})")
            }
        )),
    }
}

/// What `vcl_hash` hashes: `req.url`, the host (`req.http.host`, `server.ip`), request
/// headers; without `return (lookup)` the builtin adds url + host after it.
fn hash_knobs(imp: &mut Imported, hashed: &[(String, String)], returns: bool, file: &str) {
    if hashed.is_empty() && !returns {
        return;
    }
    let mut headers = Vec::new();
    let (mut url, mut host) = (!returns, !returns);
    let mut from = Vec::new();
    for (x, at) in hashed {
        from.push(format!("{at}: hash_data({x})"));
        match x.as_str() {
            "req.url" | "bereq.url" => url = true,
            "req.http.host" | "server.ip" | "server.hostname" => host = true,
            "req.method" => {
                imp.knobs.key_head_apart = true;
                imp.note(
                    "key_head_apart",
                    format!("{at}: hash_data({x}) (HEAD no longer shares GET's entry)"),
                );
            }
            h => match header_of(h, "req.http.") {
                Some(n) => headers.push(n),
                None => imp.warn(format!(
                    "{at}: hash_data({x}): not modelled (left out of the key)"
                )),
            },
        }
    }
    if !url {
        imp.warn(format!("{file}: vcl_hash returns without hashing req.url: every URL would share one entry; not modelled (URL kept in the key)"));
    }
    imp.knobs.key_host = host;
    imp.knobs.key_headers = headers;
    let src = if from.is_empty() {
        format!("{file}: vcl_hash")
    } else {
        from.join(", ")
    };
    imp.note("key_headers", src.clone());
    imp.note("key_host", src);
}

/// Adds a line to the note of the forwarding knobs (several statements can each strip
/// or add a field; the note names all of them).
fn forward_from(imp: &mut Imported, from: String) {
    let so_far = imp
        .notes
        .iter()
        .find(|n| n.knob == "forward_headers")
        .map(|n| n.from.clone());
    imp.note(
        "forward_headers",
        match so_far {
            Some(s) => format!("{s}, {from}"),
            None => from,
        },
    );
}

/// The parts of the forwarding knobs (`now`) that are still the profile's (`base`), as
/// a tail for their note: "; the varnish profile's default: forward_headers all, …". The
/// three knobs share one note, so it says which values no line of the file set.
pub(crate) fn profile_part(base: &Forward, now: &Forward, profile: &str) -> String {
    let mut parts = Vec::new();
    if base.headers == now.headers {
        parts.push(format!(
            "forward_headers {}",
            match &now.headers {
                ForwardHeaders::All => "all".to_string(),
                ForwardHeaders::Key => "key".to_string(),
                ForwardHeaders::List(l) => format!("[{}]", l.join(", ")),
            }
        ));
    }
    let strip: Vec<&str> = now
        .strip
        .iter()
        .filter(|n| base.strip.contains(n))
        .map(String::as_str)
        .collect();
    if !strip.is_empty() {
        parts.push(format!("forward_strip {}", strip.join(", ")));
    }
    let add: Vec<&str> = now
        .add
        .iter()
        .filter(|a| base.add.contains(a))
        .map(|(n, _)| n.as_str())
        .collect();
    if !add.is_empty() {
        parts.push(format!("forward_add {}", add.join(", ")));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; the {profile} profile's default: {}", parts.join("; "))
    }
}
