//! The one wall clock of the program. Everything else takes `now` as an argument.

use crate::time::Timestamp;

/// Wall-clock time as a [`Timestamp`].
#[allow(clippy::disallowed_methods)]
pub fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(d.as_millis() as u64)
}

/// A monotonic instant for measuring elapsed time (latency, timeouts).
#[allow(clippy::disallowed_methods)]
pub fn instant() -> std::time::Instant {
    std::time::Instant::now()
}
