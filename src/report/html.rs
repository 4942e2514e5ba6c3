//! `--format html`: one self-contained page (no network request, no external script or
//! style: a `Content-Security-Policy` of `default-src 'none'` forbids them) that draws a
//! report from its JSON. The JSON reports are the single source of what a page shows, so
//! the page and `--format json` can never disagree; the page's script only lays it out:
//! a timeline per client lane on the scenario's clock with the edge's key lanes beneath,
//! steps coloured by verdict, an arrow from each poisoning step to each step it poisoned,
//! the console line and fix on hover and click, the matrix as a coloured table and
//! explore's failure rate with its interval as a chart. Timelines draw only what is in
//! view, so a 10,000-step trace stays usable.

use serde_json::{json, Value};

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// A `replay` page: one section per trace (`json::trace_value` of each).
pub fn replay(traces: &[Value]) -> String {
    let title = match traces {
        [one] => format!(
            "varyedge replay — {}",
            one["scenario"].as_str().unwrap_or("scenario")
        ),
        many => format!("varyedge replay — {} scenarios", many.len()),
    };
    page(&title, &json!({ "kind": "replay", "traces": traces }))
}

/// A `matrix` page: per scenario the matrix JSON (`{ scenario, profiles: [rows] }`), its
/// own profile, and every profile's trace in row order, shown when its row is chosen.
pub fn matrix(matrices: &[(Value, String, Vec<Value>)]) -> String {
    let title = match matrices {
        [(m, _, _)] => format!(
            "varyedge matrix — {}",
            m["scenario"].as_str().unwrap_or("scenario")
        ),
        many => format!("varyedge matrix — {} scenarios", many.len()),
    };
    let list: Vec<Value> = matrices
        .iter()
        .map(|(m, own, traces)| json!({ "matrix": m, "own_profile": own, "traces": traces }))
        .collect();
    page(&title, &json!({ "kind": "matrix", "matrices": list }))
}

/// An `explore` page: the explore JSON report of each scenario (its kinds carry their
/// repro traces).
pub fn explore(reports: &[Value]) -> String {
    let title = match reports {
        [one] => format!(
            "varyedge explore — {}",
            one["scenario"].as_str().unwrap_or("scenario")
        ),
        many => format!("varyedge explore — {} scenarios", many.len()),
    };
    page(&title, &json!({ "kind": "explore", "explores": reports }))
}

/// The page around the data. The JSON sits in a non-executed `<script type=
/// "application/json">`; `<`, `>` and `&` are written as `\u003c`… so no string in it can
/// close that element (HTML §4.12.1.3 restrictions for contents of script elements).
fn page(title: &str, data: &Value) -> String {
    let json = serde_json::to_string(data)
        .unwrap_or_else(|_| "{}".to_string())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    format!(
        "{head}<main id=\"app\"><noscript>This report draws \
         itself with JavaScript; the same data is in --format json.</noscript></main>\n\
         <div id=\"tip\" role=\"tooltip\" hidden></div>\n\
         <script type=\"application/json\" id=\"varyedge-data\">{json}</script>\n\
         <script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        head = head(title, ""),
    )
}

/// Everything up to and including the page's `<header>`: the CSP (`default-src 'none'`:
/// no network), the shared style plus `extra_style`, the title. Shared by the pages this
/// file draws with [`SCRIPT`] and the server-rendered ones (`html_fix`).
pub(crate) fn head(title: &str, extra_style: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"varyedge {version}\">\n\
         <title>{title}</title>\n<style>\n{STYLE}{extra_style}</style>\n</head>\n<body>\n\
         <header><h1>{title}</h1></header>\n",
        version = env!("CARGO_PKG_VERSION"),
        title = super::xml_escape(title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_cannot_close_its_script_element() {
        let t = json!({ "scenario": "</script><script>alert(1)</script>", "steps": [] });
        let html = replay(&[t]);
        assert_eq!(html.matches("</script>").count(), 2, "{html}");
        assert!(html.contains("\\u003c/script\\u003e"));
        assert!(html.contains("&lt;/script&gt;"), "title is escaped");
    }

    #[test]
    fn no_external_resource_is_referenced() {
        let html = replay(&[json!({ "scenario": "s", "steps": [] })]);
        for bad in ["src=\"http", "href=\"http", "url(http", "@import", "<link"] {
            assert!(!html.contains(bad), "{bad}");
        }
        assert!(html.contains("default-src 'none'"));
    }
}
