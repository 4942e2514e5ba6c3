//! Pure renderers: a [`Trace`] in, text out. No IO here; `commands` writes the result.

pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod profiles_doc;
pub mod sarif;
pub mod style;
pub mod text;

/// Output formats of `replay`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable, one block per step.
    Text,
    /// The JSON report of PRODUCT.md.
    Json,
    /// JUnit XML, one test case per step.
    Junit,
}

/// Escapes text for XML attribute and element content.
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                o.push_str(&format!("&#{};", c as u32))
            }
            c => o.push(c),
        }
    }
    o
}
