//! `fix --format html`: one self-contained page (the shared head of [`super::html`]: CSP
//! `default-src 'none'`, the shared style), rendered here rather than drawn by script so it
//! reads without JavaScript: per scenario the ranked candidates as a table, then each
//! candidate's proof, cost and paste-ready changes, each change with a copy button (the
//! one script on the page, inline).

use super::fix::{cost_line, steps, verdict};
use super::xml_escape as esc;
use crate::fix::{Advice, Candidate};
use std::fmt::Write as _;

const EXTRA_STYLE: &str = "\
.snippet { margin: 6px 0 10px; border: 1px solid var(--rule); border-radius: 4px; }\n\
.snippet-head { display: flex; justify-content: space-between; align-items: center;\n\
  padding: 3px 8px; background: #eceff1; font-size: 12px; }\n\
.snippet pre { margin: 0; padding: 8px; overflow-x: auto; background: #fafbfc; font-size: 12px; }\n\
button.copy { font: inherit; font-size: 12px; cursor: pointer; }\n\
.works { color: var(--ok); font-weight: 600; } .fails { color: var(--ci); font-weight: 600; }\n";

/// Copies the `<code>` next to the button: the Clipboard API, else a selection and
/// `execCommand('copy')` (a page opened from `file:` may not have the former).
const SCRIPT: &str = "\
document.querySelectorAll('button.copy').forEach(function (b) {\n\
  b.addEventListener('click', function () {\n\
    var code = b.closest('.snippet').querySelector('code');\n\
    var done = function () { b.textContent = 'Copied'; setTimeout(function () { b.textContent = 'Copy'; }, 1500); };\n\
    var fallback = function () {\n\
      var r = document.createRange(); r.selectNodeContents(code);\n\
      var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);\n\
      try { document.execCommand('copy'); done(); } catch (e) { b.textContent = 'Press Ctrl+C'; }\n\
    };\n\
    if (navigator.clipboard) navigator.clipboard.writeText(code.textContent).then(done, fallback);\n\
    else fallback();\n\
  });\n\
});\n\
document.body.setAttribute('data-ready', '1');\n";

/// The page for `advice`.
pub fn render(advice: &[Advice]) -> String {
    let title = match advice {
        [one] => format!("varyedge fix — {}", one.scenario),
        many => format!("varyedge fix — {} scenarios", many.len()),
    };
    let mut o = super::html::head(&title, EXTRA_STYLE);
    o.push_str("<main>\n");
    for a in advice {
        scenario(&mut o, a);
    }
    let _ = write!(
        o,
        "</main>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    );
    o
}

fn status(a: &Advice) -> (&'static str, &'static str) {
    if !a.needs_fix() {
        ("pass", "nothing to fix")
    } else if a.fixed() {
        ("pass", "a proven fix")
    } else {
        ("fail", "no candidate fixes it")
    }
}

fn scenario(o: &mut String, a: &Advice) {
    let (cls, st) = status(a);
    let _ = writeln!(
        o,
        "<section class=\"panel\" data-scenario=\"{}\">\n<h2>{} <span class=\"muted\">({}) on {}</span> <span class=\"badge {cls}\">{st}</span></h2>",
        esc(&a.file),
        esc(&a.scenario),
        esc(&a.file),
        esc(&a.profile)
    );
    let _ = writeln!(
        o,
        "<p class=\"counts\"><span>cache-induced failures: <b>{}</b></span><span>explore: <b>{}</b>/{} sessions fail</span><span><b data-count=\"candidates\">{}</b> candidates</span></p>",
        esc(&steps(&a.failing)),
        a.explore_failing,
        a.cases,
        a.candidates.len()
    );
    if !a.origin_failures.is_empty() {
        o.push_str("<ul>\n");
        for (i, h) in &a.origin_failures {
            let _ = writeln!(
                o,
                "<li>step #{i} fails without any cache (origin policy): {}</li>",
                esc(h)
            );
        }
        o.push_str("</ul>\n");
    }
    if !a.candidates.is_empty() {
        table(o, a);
        for (n, c) in a.candidates.iter().enumerate() {
            candidate(o, a, n + 1, c);
        }
    }
    o.push_str("</section>\n");
}

fn table(o: &mut String, a: &Advice) {
    let _ = writeln!(
        o,
        "<table>\n<tr><th>rank</th><th>fix</th><th>side</th><th>works here</th><th>hit ratio ({m})</th><th>forwarded ({m})</th><th>stored bytes ({m})</th></tr>",
        m = esc(&a.mix)
    );
    for (n, c) in a.candidates.iter().enumerate() {
        let [b, f] = &c.mix_cost;
        let _ = writeln!(
            o,
            "<tr data-candidate=\"{id}\" data-works=\"{w}\"><td class=\"num\">{}</td><td><code>{id}</code></td><td>{}</td><td class=\"{}\">{}</td><td class=\"num\">{:.1}% → {:.1}%</td><td class=\"num\">{} → {}</td><td class=\"num\">{} → {}</td></tr>",
            n + 1,
            c.kind.side(),
            if c.proof.works { "works" } else { "fails" },
            if c.proof.works { "yes" } else { "no" },
            b.hit_ratio() * 100.0,
            f.hit_ratio() * 100.0,
            b.forwarded,
            f.forwarded,
            b.bytes,
            f.bytes,
            id = c.kind.id(),
            w = c.proof.works,
        );
    }
    o.push_str("</table>\n");
}

fn candidate(o: &mut String, a: &Advice, rank: usize, c: &Candidate) {
    let _ = writeln!(
        o,
        "<details class=\"candidate\" data-rank=\"{rank}\"{}>\n<summary><b>{rank}. <code>{}</code></b> {}</summary>",
        if rank == 1 { " open" } else { "" },
        c.kind.id(),
        esc(c.kind.title())
    );
    let _ = writeln!(
        o,
        "<p data-proof=\"{}\">proof: {}</p>\n<p>cost {}<br>cost {}</p>",
        c.proof.works,
        esc(&verdict(c)),
        esc(&cost_line("on the scenario", &c.scenario_cost)),
        esc(&cost_line(&a.mix, &c.mix_cost))
    );
    for ch in &c.changes {
        let _ = writeln!(
            o,
            "<div class=\"snippet\" data-snippet=\"{}\"><div class=\"snippet-head\"><span>{}{}</span><button type=\"button\" class=\"copy\">Copy</button></div><pre><code class=\"lang-{}\">{}</code></pre></div>",
            esc(&ch.target),
            esc(&ch.target),
            if ch.edge {
                " <span class=\"muted\">(reads back with varyedge import cdn-config)</span>"
            } else {
                ""
            },
            ch.lang,
            esc(&ch.text)
        );
    }
    o.push_str("</details>\n");
}
