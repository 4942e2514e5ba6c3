//! Input errors that point at the file, line and column, and the process exit status.

use std::fmt;

/// A problem with user input: a scenario file, a flag value. Displayed as
/// `file:line:col: message` so editors and CI annotate the right place.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    /// The file (or `<flag>` / `<stdin>`).
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// 1-based column, 0 when unknown.
    pub col: u64,
    /// What was wrong and what was expected.
    pub message: String,
}

impl InputError {
    /// An error at a position.
    pub fn at(file: &str, line: u64, col: u64, message: impl Into<String>) -> Self {
        InputError {
            file: file.to_string(),
            line,
            col,
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    /// `file:line:col: message`; `file: message` when there is no position (a file that
    /// cannot be read, a flag).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 && self.col == 0 {
            return write!(f, "{}: {}", self.file, self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.file,
            self.line.max(1),
            self.col.max(1),
            self.message
        )
    }
}

/// The exit status of every command (PRODUCT.md "Exit codes everywhere").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// All expectations met / nothing found.
    Clean = 0,
    /// An unmet expectation, or an unexpected CORS failure, or a finding.
    Findings = 1,
    /// Bad input or usage.
    BadInput = 2,
}

impl ExitStatus {
    /// The worse of two statuses (bad input beats findings beats clean).
    pub fn worst(self, other: ExitStatus) -> ExitStatus {
        if (other as u8) > (self as u8) {
            other
        } else {
            self
        }
    }
}
