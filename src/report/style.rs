//! Colour for the text renderers: ANSI SGR codes when asked for, nothing otherwise. The
//! decision is the caller's ([`Style::decide`]): `--color always|never`, or `auto` = a
//! terminal and no `NO_COLOR` (no-color.org: "when present and not an empty string").

/// What a piece of text is, so that one place picks its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paint {
    /// A passing result.
    Good,
    /// A failure the report is about.
    Bad,
    /// Worth a look, not a failure (an expected block, a weak profile).
    Warn,
    /// Secondary detail (keys, console text).
    Dim,
    /// Headings.
    Bold,
}

/// Whether to colour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// Emit ANSI colour codes.
    pub color: bool,
}

impl Style {
    /// `when` is `always`, `never` or `auto`; `no_color` the value of `NO_COLOR` if set;
    /// `terminal` whether the output is a terminal.
    pub fn decide(when: &str, no_color: Option<&str>, terminal: bool) -> Style {
        let color = match when {
            "always" => true,
            "never" => false,
            _ => terminal && no_color.is_none_or(str::is_empty),
        };
        Style { color }
    }

    /// `text` in the colour of `p` (unchanged without colour).
    pub fn paint(self, p: Paint, text: &str) -> String {
        if !self.color || text.is_empty() {
            return text.to_string();
        }
        let code = match p {
            Paint::Good => "32",
            Paint::Bad => "1;31",
            Paint::Warn => "33",
            Paint::Dim => "2",
            Paint::Bold => "1",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_and_terminals_decide_auto() {
        assert!(Style::decide("auto", None, true).color);
        assert!(!Style::decide("auto", Some("1"), true).color);
        assert!(
            Style::decide("auto", Some(""), true).color,
            "an empty NO_COLOR does not count"
        );
        assert!(!Style::decide("auto", None, false).color);
        assert!(Style::decide("always", Some("1"), false).color);
        assert!(!Style::decide("never", None, true).color);
    }

    #[test]
    fn paint_only_with_colour() {
        assert_eq!(Style::default().paint(Paint::Bad, "x"), "x");
        assert_eq!(
            Style { color: true }.paint(Paint::Bad, "x"),
            "\x1b[1;31mx\x1b[0m"
        );
    }
}
