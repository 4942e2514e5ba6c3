//! Where the network drivers' lines go. The library never writes to standard output or
//! error itself: the proxy's and the origin server's lines (the bound address, the
//! cache-induced differences the proxy observes) go to the [`Sink`] the command installed
//! with [`set_sink`]. Without one they are dropped, so a library user or a test running
//! the servers in-process prints nothing unless it asks to.

use std::fmt;
use std::sync::OnceLock;

/// How much a line matters to the person running the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Normal operation: `listening on http://ADDR`.
    Info,
    /// Something the person should look at: a cache-induced CORS difference.
    Warn,
}

/// Receives the lines; called from any worker thread.
pub trait Sink: Send + Sync {
    /// One line, without its newline.
    fn line(&self, level: Level, text: fmt::Arguments<'_>);
}

static SINK: OnceLock<Box<dyn Sink>> = OnceLock::new();

/// Installs the process's sink. Only the first call takes effect (like a global logger);
/// returns whether this one did.
pub fn set_sink(sink: Box<dyn Sink>) -> bool {
    SINK.set(sink).is_ok()
}

/// Sends a line to the installed sink, if any.
pub(crate) fn emit(level: Level, text: fmt::Arguments<'_>) {
    if let Some(s) = SINK.get() {
        s.line(level, text);
    }
}

/// `info!(...)`: a [`Level::Info`] line, `format!` syntax.
macro_rules! info {
    ($($t:tt)*) => { $crate::net::log::emit($crate::net::log::Level::Info, format_args!($($t)*)) };
}

/// `warning!(...)`: a [`Level::Warn`] line, `format!` syntax.
macro_rules! warning {
    ($($t:tt)*) => { $crate::net::log::emit($crate::net::log::Level::Warn, format_args!($($t)*)) };
}

pub(crate) use {info, warning};
