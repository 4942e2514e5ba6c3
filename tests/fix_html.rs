//! `varyedge fix --format html`: the page is well-formed (every element closed in order,
//! attributes quoted), references nothing outside itself (CSP `default-src 'none'`, no
//! `src`/`href`/`url(` to anything), and shows what `--format json` says: one table row
//! per candidate in the same order, its proof verdict, one snippet per change with a copy
//! button, the snippet text byte-equal once unescaped.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn run(args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_varyedge"))
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .args(args)
        .output()
        .expect("run varyedge");
    (o.status.code(), String::from_utf8(o.stdout).expect("utf-8"))
}

const VOID: &[&str] = &["meta", "br", "hr", "img", "input", "link", "wbr"];

/// One start or end tag: name, attributes (name, raw value), closing.
#[derive(Debug)]
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
    end: bool,
}

/// Tags and text in document order; `<script>` / `<style>` content is raw text.
fn parse(html: &str) -> Result<(Vec<Tag>, Vec<String>), String> {
    let mut tags = Vec::new();
    let mut texts = Vec::new();
    let mut rest = html.strip_prefix("<!DOCTYPE html>").ok_or("no doctype")?;
    while let Some(i) = rest.find('<') {
        texts.push(rest[..i].to_string());
        let j = rest[i..].find('>').ok_or("unclosed tag")? + i;
        let inner = &rest[i + 1..j];
        rest = &rest[j + 1..];
        let end = inner.starts_with('/');
        let inner = inner.trim_start_matches('/');
        let name: String = inner
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if name.is_empty() {
            return Err(format!("bad tag <{inner}>"));
        }
        let attrs = attributes(&inner[name.len()..])?;
        if !end && (name == "script" || name == "style") {
            let close = format!("</{name}>");
            let k = rest.find(&close).ok_or(format!("{name} not closed"))?;
            rest = &rest[k..]; // raw text, skipped: one text per tag stays aligned
        }
        tags.push(Tag { name, attrs, end });
    }
    texts.push(rest.to_string());
    Ok((tags, texts))
}

fn attributes(mut s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(out);
        }
        let n = s
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(s.len());
        let name = s[..n].to_string();
        s = &s[n..];
        if let Some(r) = s.strip_prefix("=\"") {
            let e = r.find('"').ok_or("unterminated attribute")?;
            if r[..e].contains('<') {
                return Err(format!("unescaped < in {name}"));
            }
            out.push((name, r[..e].to_string()));
            s = &r[e + 1..];
        } else if s.starts_with('=') {
            return Err(format!("unquoted attribute {name}"));
        } else {
            out.push((name, String::new()));
        }
    }
}

fn well_formed(tags: &[Tag]) -> Result<(), String> {
    let mut stack: Vec<&str> = Vec::new();
    for t in tags {
        if VOID.contains(&t.name.as_str()) {
            continue;
        }
        if t.end {
            match stack.pop() {
                Some(open) if open == t.name => {}
                other => return Err(format!("</{}> closes {other:?}", t.name)),
            }
        } else {
            stack.push(&t.name);
        }
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("left open: {stack:?}"))
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn attr<'a>(t: &'a Tag, n: &str) -> Option<&'a str> {
    t.attrs
        .iter()
        .find(|(k, _)| k == n)
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_html_page_is_well_formed_offline_and_matches_json() {
    let files = [
        "scenarios/05-preflight-poisoned.yaml",
        "scenarios/03-request-without-origin-first.yaml",
        "scenarios/02-vary-origin-fix.yaml",
    ];
    let args = |f: &str| {
        let mut a = vec!["fix", "--cases", "12", "--format", f];
        a.extend(files);
        a.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let a_json = args("json");
    let a_html = args("html");
    let (c1, json) = run(&a_json.iter().map(String::as_str).collect::<Vec<_>>());
    let (c2, html) = run(&a_html.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!((c1, c2), (Some(0), Some(0)));
    // JSON Lines: one advice object per scenario file
    let scenarios: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (tags, texts) = parse(&html).unwrap_or_else(|e| panic!("not well-formed: {e}"));
    well_formed(&tags).unwrap_or_else(|e| panic!("not well-formed: {e}"));

    // offline: the CSP, and no attribute or style pointing anywhere
    assert!(html.contains("content=\"default-src 'none'"));
    for t in &tags {
        for (k, val) in &t.attrs {
            assert!(
                !(k == "src" || k == "href" || k == "action" || k == "srcset"),
                "<{} {k}={val:?}>",
                t.name
            );
        }
        assert!(t.name != "link" && t.name != "img" && t.name != "iframe");
    }
    assert!(!html.contains("url(") && !html.contains("@import"));

    // the same scenarios, candidates (ids, order, verdicts) and snippets as the JSON
    let sections: Vec<&Tag> = tags
        .iter()
        .filter(|t| !t.end && attr(t, "data-scenario").is_some())
        .collect();
    assert_eq!(sections.len(), scenarios.len());
    let rows: Vec<(String, String)> = tags
        .iter()
        .filter(|t| !t.end)
        .filter_map(|t| {
            Some((
                attr(t, "data-candidate")?.to_string(),
                attr(t, "data-works")?.to_string(),
            ))
        })
        .collect();
    let want: Vec<(String, String)> = scenarios
        .iter()
        .flat_map(|s| s["candidates"].as_array().unwrap())
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_string(),
                c["proof"]["works"].to_string(),
            )
        })
        .collect();
    assert!(want.len() >= 6, "{want:?}");
    assert_eq!(rows, want);
    let changes: Vec<String> = scenarios
        .iter()
        .flat_map(|s| s["candidates"].as_array().unwrap())
        .flat_map(|c| c["changes"].as_array().unwrap())
        .map(|c| c["text"].as_str().unwrap().to_string())
        .collect();
    let snippets = tags
        .iter()
        .filter(|t| !t.end && attr(t, "data-snippet").is_some())
        .count();
    let buttons = tags
        .iter()
        .filter(|t| !t.end && t.name == "button" && attr(t, "class") == Some("copy"))
        .count();
    assert_eq!((snippets, buttons), (changes.len(), changes.len()));
    // each <code> holds one change's text, in order
    let codes: Vec<String> = tags
        .iter()
        .zip(texts.iter().skip(1))
        .filter(|(t, _)| {
            !t.end && t.name == "code" && attr(t, "class").is_some_and(|c| c.starts_with("lang-"))
        })
        .map(|(_, text)| unescape(text))
        .collect();
    assert_eq!(codes, changes);
    assert!(html.contains("nothing to fix"), "02 has nothing to fix");
}
