//! Waiting for SIGINT or SIGTERM, for graceful shutdown of the servers.

/// SIGINT (Ctrl-C) and SIGTERM, caught from the moment [`Signals::listen`] returns (on
/// Unix; elsewhere Ctrl-C is caught from when [`Signals::recv`] is first awaited).
///
/// A server calls it before it announces its address. A signal sent as soon as the
/// server is up (by a supervisor, or a test that waits for the `listening on` line)
/// then stops it gracefully. Before, the handlers were installed only when the server
/// first waited for them, after the announcement. A SIGTERM sent in between met the
/// default action and killed the process, which exited by the signal and not with 0.
pub struct Signals {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Installs the handlers now. Must be called within a Tokio runtime, the one that
    /// then awaits [`Signals::recv`].
    pub fn listen() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Signals {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// Resolves on the first SIGINT or SIGTERM since [`Signals::listen`].
    pub async fn recv(self) {
        #[cfg(unix)]
        {
            let (mut int, mut term) = (self.int, self.term);
            tokio::select! {
                _ = one(&mut int) => {}
                _ = one(&mut term) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// The next delivery of `s`; never, for a handler that could not be installed.
#[cfg(unix)]
async fn one(s: &mut Option<tokio::signal::unix::Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
