//! The traffic-model section `explore` adds when the scenario has a `traffic:` model.

use std::path::Path;
use varyedge::error::InputError;
use varyedge::report::{traffic, ExploreFormat};
use varyedge::scenario::Scenario;

/// Independent windows sampled per run (each from a cold edge).
const WINDOWS: u32 = 16;

/// `report` with the traffic section appended (text) or added as `"traffic"` (JSON), when
/// the scenario at `path` has a traffic model; unchanged otherwise.
pub(crate) fn add_section(
    path: &Path,
    sc: &Scenario,
    seed: u64,
    format: ExploreFormat,
    report: String,
) -> Result<String, InputError> {
    let (name, text) = super::read_input(path)?;
    let Some(model) = varyedge::traffic::parse(&name, &text, sc)? else {
        return Ok(report);
    };
    let Some(t) = varyedge::traffic::simulate(sc, &model, seed, WINDOWS) else {
        return Ok(report);
    };
    Ok(match format {
        // the HTML page is built from the exploration alone (no traffic section yet)
        ExploreFormat::Html => report,
        ExploreFormat::Text | ExploreFormat::Github => format!("{report}\n{}", traffic::text(&t)),
        ExploreFormat::Json => {
            let mut v: serde_json::Value =
                serde_json::from_str(&report).unwrap_or(serde_json::Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.insert("traffic".into(), traffic::json(&t));
            }
            varyedge::report::json_line(&v)
        }
    })
}
