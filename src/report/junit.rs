//! JUnit XML: a test suite per scenario, a test case per step; an unmet expectation or an
//! unexpected CORS failure is a `<failure>`.

use super::xml_escape;
use crate::flow::{Expectation, StepReport, Trace};
use std::fmt::Write;

/// Renders traces as one `<testsuites>` document.
pub fn render(traces: &[Trace]) -> String {
    let tests: usize = traces.iter().map(|t| t.steps.len()).sum();
    let failures: usize = traces
        .iter()
        .map(|t| t.steps.iter().filter(|s| failed(s)).count())
        .sum();
    let mut o = String::new();
    let _ = writeln!(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let _ = writeln!(
        o,
        "<testsuites name=\"varyedge\" tests=\"{tests}\" failures=\"{failures}\">"
    );
    for t in traces {
        let f = t.steps.iter().filter(|s| failed(s)).count();
        let _ = writeln!(
            o,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" file=\"{}\">",
            xml_escape(&format!("{} [{}]", t.scenario, t.profile)),
            t.steps.len(),
            xml_escape(&t.file)
        );
        for s in &t.steps {
            let name = format!("#{} {} {} ({})", s.index, s.client, s.request, s.cache.id());
            let _ = write!(
                o,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\"",
                xml_escape(&name),
                xml_escape(&t.scenario),
                xml_escape(&t.file),
                s.line
            );
            if failed(s) {
                let mut msg = Vec::new();
                if let Expectation::Unmet(u) = &s.expectation {
                    msg.extend(u.iter().cloned());
                }
                if s.unexpected_failure {
                    msg.push(format!(
                        "unexpected CORS failure: {}",
                        s.verdict.reason.id()
                    ));
                }
                let mut body = s.verdict.console.clone();
                if let Some(p) = s.poisoned_by {
                    body.push_str(&format!(
                        "\ncache-induced: served the response stored by step {p} under key {}",
                        s.key
                    ));
                }
                if let Some(fx) = &s.fix {
                    body.push_str(&format!("\nfix: {fx}"));
                }
                let _ = writeln!(
                    o,
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    xml_escape(&msg.join("; ")),
                    s.verdict.reason.id(),
                    xml_escape(&body)
                );
            } else {
                let _ = writeln!(o, "/>");
            }
        }
        let _ = writeln!(o, "  </testsuite>");
    }
    let _ = writeln!(o, "</testsuites>");
    o
}

fn failed(s: &StepReport) -> bool {
    matches!(s.expectation, Expectation::Unmet(_)) || s.unexpected_failure
}
