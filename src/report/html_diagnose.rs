//! `diagnose har --format html`: one self-contained page (the shared head of
//! [`super::html`]: CSP `default-src 'none'`, the shared style), rendered here from the
//! diagnosis's JSON report so the page and `--format json` cannot disagree. No script:
//! per blocked response a row (entry, time, request, origin, reason, cache evidence) and
//! beneath it the entry whose stored answer was served and the browser's console line;
//! then the fix. A recording's entries have no timeline of their own to draw (they come
//! from several tabs, clocks and files), so the page is a table in recording order.

use super::xml_escape as esc;
use serde_json::Value;
use std::fmt::Write as _;

const EXTRA_STYLE: &str = "\
tr.ci td.reason { color: var(--ci); font-weight: 600; }\n\
tr.plain td.reason { color: var(--blocked); font-weight: 600; }\n\
tr.detail td { border-bottom: 2px solid var(--rule); font-size: 12px; color: #52606d; }\n\
code.console { white-space: pre-wrap; }\n";

/// The page for the diagnosis `d` (the value `--format json` prints) and its fix lines.
pub fn render(d: &Value, fixes: &[&str]) -> String {
    let files: Vec<&str> = d["files"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let title = format!("varyedge diagnose har — {}", files.join(", "));
    let mut o = super::html::head(&title, EXTRA_STYLE);
    let findings = d["findings"].as_array().cloned().unwrap_or_default();
    let induced = d["summary"]["cache_induced"].as_u64().unwrap_or(0);
    let (badge, verdict) = if induced > 0 {
        ("fail", "cache-induced CORS failures in the recording")
    } else {
        ("pass", "no cache-induced CORS failure in the recording")
    };
    let _ = write!(
        o,
        "<main>\n<section class=\"panel\">\n<p><span class=\"badge {badge}\">{verdict}</span></p>\n\
         <p>{} entries, {} cross-origin requests, {} blocked, {induced} cache-induced</p>\n",
        d["entries"].as_u64().unwrap_or(0),
        d["cors_requests"].as_u64().unwrap_or(0),
        findings.len(),
    );
    if !findings.is_empty() {
        o.push_str(
            "<table>\n<thead><tr><th>file</th><th>entry</th><th>started</th><th>request</th>\
             <th>origin</th><th>blocked</th><th>served from a cache</th></tr></thead>\n<tbody>\n",
        );
        for f in &findings {
            finding(&mut o, f);
        }
        o.push_str("</tbody>\n</table>\n");
    }
    for fix in fixes {
        let _ = writeln!(o, "<p class=\"fix\"><strong>fix:</strong> {}</p>", esc(fix));
    }
    o.push_str("</section>\n</main>\n</body>\n</html>\n");
    o
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or("")
}

fn finding(o: &mut String, f: &Value) {
    let ci = f["cache_induced"] == true;
    let reason = f["reason"].as_str().unwrap_or("cause not in the recording");
    let mark = if ci { " — cache-induced" } else { "" };
    let recorded = if f["recorded"] == false {
        " <em>(no response recorded: judged on what the cache would serve)</em>"
    } else {
        ""
    };
    let _ = writeln!(
        o,
        "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code>{recorded}</td>\
         <td>{}</td><td class=\"reason\">{}{mark}</td><td>{}</td></tr>",
        if ci { "ci" } else { "plain" },
        esc(s(f, "file")),
        f["entry"].as_u64().unwrap_or(0),
        esc(s(f, "started")),
        esc(s(f, "request")),
        esc(s(f, "origin")),
        esc(reason),
        esc(f["from_cache"].as_str().unwrap_or("—")),
    );
    let mut detail = String::new();
    let p = &f["poisoned_by"];
    if p.is_object() {
        let _ = write!(
            detail,
            "poisoned by entry {} at {} ({} ms earlier): <code>{}</code> from {}, answered with \
             <code>Access-Control-Allow-Origin: {}</code>",
            p["entry"].as_u64().unwrap_or(0),
            esc(s(p, "started")),
            p["before_ms"].as_i64().unwrap_or(0),
            esc(s(p, "request")),
            esc(p["origin"].as_str().unwrap_or("no Origin")),
            esc(p["acao"].as_str().unwrap_or("(none)")),
        );
    } else if ci {
        detail.push_str("the request that stored this answer is not in the recording");
    } else {
        detail.push_str("not from a cache: a CORS misconfiguration of the origin itself");
    }
    if let Some(ns) = f["not_sent"].as_array().filter(|a| !a.is_empty()) {
        let list: Vec<String> = ns.iter().map(|i| i.to_string()).collect();
        let _ = write!(
            detail,
            "<br>not sent because this preflight failed: entry {}",
            list.join(", entry ")
        );
    }
    if !s(f, "console").is_empty() {
        let _ = write!(
            detail,
            "<br>console: <code class=\"console\">{}</code>",
            esc(s(f, "console"))
        );
    }
    let _ = writeln!(
        o,
        "<tr class=\"detail\"><td colspan=\"7\">{detail}</td></tr>"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(origin: &str) -> Value {
        json!({
            "files": ["<b>.har"], "entries": 2, "cors_requests": 2,
            "findings": [{
                "file": "<b>.har", "entry": 1, "started": "2026-01-01T10:00:01Z",
                "request": "GET https://api.example.com/x", "origin": origin,
                "reason": "origin-mismatch", "console": "Access to fetch at 'x' <blocked>",
                "recorded": true, "from_cache": "age: 1", "cache_induced": true,
                "poisoned_by": { "entry": 0, "started": "2026-01-01T10:00:00Z", "before_ms": 1000,
                                 "request": "GET https://api.example.com/x",
                                 "origin": "https://a.example", "acao": "https://a.example" }
            }],
            "summary": { "blocked": 1, "cache_induced": 1 }
        })
    }

    #[test]
    fn every_recorded_value_is_escaped_and_shown() {
        let html = render(
            &one("https://b.example\"><script>x</script>"),
            &["key on <Origin>"],
        );
        assert!(!html.contains("<script>x</script>"), "{html}");
        assert!(!html.contains("<b>.har"), "{html}");
        assert!(html.contains("&lt;b&gt;.har"));
        assert!(html.contains("origin-mismatch — cache-induced"));
        assert!(html.contains("poisoned by entry 0"));
        assert!(html.contains("key on &lt;Origin&gt;"));
        assert!(html.contains("badge fail"));
        for bad in [
            "src=\"http",
            "href=\"http",
            "url(http",
            "@import",
            "<link",
            "<script",
        ] {
            assert!(!html.contains(bad), "{bad}");
        }
        assert!(html.contains("default-src 'none'"));
    }

    #[test]
    fn a_clean_recording_says_so() {
        let d = json!({ "files": ["a.har"], "entries": 3, "cors_requests": 0, "findings": [],
                        "summary": { "blocked": 0, "cache_induced": 0 } });
        let html = render(&d, &[]);
        assert!(
            html.contains("badge pass") && !html.contains("<table>"),
            "{html}"
        );
    }
}
