//! When `gwsim up` is asked to stop: Ctrl-C (SIGINT) or SIGTERM, which `kill`, `timeout`,
//! `docker stop` and systemd send. Both end in the same shutdown: the listeners stop
//! accepting, the requests in flight get their answers (for up to `DRAIN_GRACE`) and their
//! connections close, the pods stop with a grace period, the dashboard restores the
//! terminal, and the folder's `.gwsim/instance.json` is removed.

/// The process's stop signals, listened for from the moment [`StopSignal::listen`] returns:
/// listening starts before gwsim says it is serving, so a signal sent as soon as it does is
/// never the default one that ends the process on the spot.
pub struct StopSignal {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl StopSignal {
    /// Starts listening (inside the runtime).
    pub fn listen() -> StopSignal {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signals = signal(SignalKind::interrupt())
                .and_then(|int| Ok((int, signal(SignalKind::terminate())?)))
                .ok();
            StopSignal { signals }
        }
        #[cfg(not(unix))]
        StopSignal {}
    }

    /// Resolves at the first SIGINT or SIGTERM (at once if they could not be listened for:
    /// nothing would stop the process cleanly then).
    pub async fn requested(self) {
        #[cfg(unix)]
        if let Some((mut int, mut term)) = self.signals {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
