//! A fast reader for the shape that makes scenario files large: a `steps:` list of
//! one-line flow mappings of plain scalars, as traces generated from access logs are
//! usually written (and as `benches/gen-scenario.py` writes them):
//!
//! ```yaml
//! steps:
//!   - { client: c19, fetch: GET /api/r158?v=2 }
//!   - { at: +3ms, client: c38, fetch: GET /api/r116?v=2 }
//! ```
//!
//! The general YAML reader costs ~50 k instructions for such a line; this one a few
//! hundred. It accepts only a strict subset of YAML whose meaning it can state exactly
//! (YAML 1.2.2 §7.3.3 plain scalars and §7.4 flow mappings, on one line, ASCII, with the
//! step's six scalar keys) and gives up — returns `None` — at anything else: quotes, a
//! nested `headers:` or `expect:`, a value YAML would read as a number, boolean or null,
//! a comment after an entry, tabs, CR. Then the whole file goes through the YAML reader,
//! so every error message and every odd-but-valid file is the reader's as before.
//!
//! When it accepts, the rest of the document is read by the YAML reader with the
//! steps block blanked out (`steps: []` and one empty line for each line it took), so
//! every other line keeps its number and column for errors; and the caller checks that
//! the reader saw exactly that empty list where it was written (a `steps:` line that
//! was really inside a quoted or flow value then sends the file the slow way).

use super::raw::{narrow, At, Pos, StepIn};
use std::borrow::Cow;

/// A `steps:` block read by [`take_steps`].
pub(crate) struct Quick<'a> {
    /// The document with the block replaced by `steps: []` and empty lines.
    pub rest: String,
    /// The line (1-based) of the `steps:` key.
    pub key_line: u64,
    /// The steps, in file order.
    pub steps: Vec<StepIn<'a>>,
}

/// Reads the top-level `steps:` block of `text` if every line of it has the simple
/// shape; `None` means "read the whole file with the YAML reader".
pub(crate) fn take_steps(text: &str) -> Option<Quick<'_>> {
    let start = key_offset(text)?;
    let key_line = 1 + text[..start].bytes().filter(|&b| b == b'\n').count() as u64;
    let after_key = start + text[start..].find('\n')? + 1;
    let mut steps = Vec::new();
    let mut indent = None;
    let mut end = after_key;
    let mut blanked = 0usize;
    for (line_no, line) in (key_line + 1..).zip(text[after_key..].split_inclusive('\n')) {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let trimmed = body.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            // YAML 1.2.2 §6.7 / §6.6: empty and comment-only lines separate nothing.
        } else if ends_block(body) {
            break;
        } else {
            let ind = body.len() - trimmed.len();
            if *indent.get_or_insert(ind) != ind {
                return None;
            }
            steps.push(step_line(body, ind, line_no)?);
        }
        end += line.len();
        blanked += 1;
    }
    if steps.is_empty() || (end == text.len() && !text.ends_with('\n')) {
        // A last line without its newline would change the blanked document's shape.
        return None;
    }
    let mut rest = String::with_capacity(start + 10 + blanked + text.len() - end);
    rest.push_str(&text[..start]);
    rest.push_str("steps: []\n");
    rest.extend(std::iter::repeat_n('\n', blanked));
    rest.push_str(&text[end..]);
    Some(Quick {
        rest,
        key_line,
        steps,
    })
}

/// The byte offset of the only line that is exactly `steps:` (trailing spaces allowed)
/// at column 0; `None` when there is none or more than one (a duplicate key is the YAML
/// reader's error to report).
fn key_offset(text: &str) -> Option<usize> {
    let mut found = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        if let Some(tail) = body.strip_prefix("steps:") {
            if !tail.bytes().all(|b| b == b' ') || found.is_some() {
                return None;
            }
            found = Some(at);
        }
        at += line.len();
    }
    found
}

/// A line that ends the block: a top-level key (a letter or `_` at column 0). Any other
/// line that is not a step (a `---`, a more-indented continuation, a step at another
/// indentation) is not for this reader, and the caller gives up on it.
fn ends_block(body: &str) -> bool {
    body.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
}

/// One `- { key: value, ... }` line at indentation `ind`, line `line` (1-based).
fn step_line(body: &str, ind: usize, line: u64) -> Option<StepIn<'_>> {
    // Printable ASCII only: no tab, CR or other control character (YAML 1.2.2 §5.1 refuses
    // most of them; the YAML reader then says where), nothing that is not ASCII.
    if !body.bytes().all(|c| (b' '..=b'~').contains(&c)) {
        return None;
    }
    let b = body.as_bytes();
    let mut i = ind;
    if b.get(i) != Some(&b'-') {
        return None;
    }
    i += 1;
    let spaces = skip_spaces(b, i);
    if spaces == i || b.get(spaces) != Some(&b'{') {
        return None;
    }
    i = spaces + 1;
    // at, client, fetch, credentials, mode, redirect, as written
    let mut keys: [Option<At<Cow<'_, str>>>; 6] = Default::default();
    loop {
        i = skip_spaces(b, i);
        let key_end = i + b[i..].iter().take_while(|c| c.is_ascii_lowercase()).count();
        let key = &body[i..key_end];
        // `key: value` — a plain key needs the space after its colon (§7.4.2).
        if b.get(key_end) != Some(&b':') || b.get(key_end + 1) != Some(&b' ') {
            return None;
        }
        let v_start = skip_spaces(b, key_end + 1);
        let stop = v_start + b[v_start..].iter().position(|&c| c == b',' || c == b'}')?;
        let value = body[v_start..stop].trim_end_matches(' ');
        if !plain_string(value) {
            return None;
        }
        let at = At {
            value: Cow::Borrowed(value),
            at: Pos {
                line: narrow(line),
                column: narrow(v_start as u64 + 1),
            },
        };
        let slot = match key {
            "at" => 0,
            "client" => 1,
            "fetch" => 2,
            "credentials" => 3,
            "mode" => 4,
            "redirect" => 5,
            _ => return None,
        };
        if keys[slot].replace(at).is_some() {
            return None;
        }
        i = stop + 1;
        if b[stop] == b'}' {
            break;
        }
    }
    if !b[i..].iter().all(|&c| c == b' ') {
        return None;
    }
    let [at, client, fetch, credentials, mode, redirect] = keys;
    Some(StepIn {
        line,
        at,
        client: client?,
        fetch: fetch?,
        credentials,
        mode,
        redirect,
        headers: None,
        expect: None,
    })
}

fn skip_spaces(b: &[u8], i: usize) -> usize {
    i + b[i.min(b.len())..]
        .iter()
        .take_while(|&&c| c == b' ')
        .count()
}

/// `v` is a plain scalar in flow context (YAML 1.2.2 §7.3.3) that YAML resolves to a
/// string under both the 1.2 core schema and 1.1's wider one (§10.3.2; YAML 1.1 bool,
/// int, float and null types), with nothing this reader does not model: no quote,
/// no flow indicator, no comment, no `: `, no anchor, alias, tag or other indicator
/// at its start.
fn plain_string(v: &str) -> bool {
    let b = v.as_bytes();
    let Some(&first) = b.first() else {
        return false; // an empty value is null
    };
    if b"-?:,[]{}#&*!|>'\"%@`".contains(&first) || v.ends_with(':') {
        return false;
    }
    // One pass: a flow indicator or quote anywhere, `: ` (a key), ` #` (a comment; `#`
    // is never first here, so `i - 1` is in range).
    let simple = b.iter().enumerate().all(|(i, &c)| match c {
        b',' | b'[' | b']' | b'{' | b'}' | b'\'' | b'"' => false,
        b':' => b.get(i + 1) != Some(&b' '),
        b'#' => b[i - 1] != b' ',
        _ => true,
    });
    simple && !maybe_not_a_string(v)
}

/// Whether YAML might read `v` as something other than a string: a null, a boolean
/// (1.2's `true`/`false`, 1.1's `yes`/`no`/`on`/`off`/`y`/`n`), or a number in any
/// notation of either version (a sign, `0x`/`0o`/`0b`, exponents, `_` separators, 1.1's
/// base 60 with `:`, `.inf`, `.nan`). Every such number starts, after its sign, with a
/// digit or a dot. The test errs towards "might": then the YAML reader decides.
fn maybe_not_a_string(v: &str) -> bool {
    const WORDS: [&str; 12] = [
        "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", ".inf", ".nan",
    ];
    let unsigned = v.trim_start_matches(['+', '-']);
    // (No word, signed or not, is longer than five characters: `false`, `-.inf`.)
    if v.len() <= 5
        && WORDS
            .iter()
            .any(|w| v.eq_ignore_ascii_case(w) || unsigned.eq_ignore_ascii_case(w))
    {
        return true;
    }
    let b = unsigned.as_bytes();
    match b {
        [b'0', b'x' | b'X' | b'o' | b'O' | b'b' | b'B', rest @ ..] => {
            rest.iter().all(|c| c.is_ascii_hexdigit() || *c == b'_')
        }
        [first, ..] if first.is_ascii_digit() || *first == b'.' => b
            .iter()
            .all(|c| c.is_ascii_digit() || b"._:eE+-".contains(c)),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
