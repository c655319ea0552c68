//! Stopping a pod the way the kubelet does: stop taking work, let in-flight work drain for a
//! grace period, then kill whatever is left; and knowing when every task has ended.

use std::future::Future;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

/// Where a pod is in its shutdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Running,
    /// Listeners are closed; connections finish what they are doing and close.
    Draining,
    /// Every remaining task is dropped at its next await point.
    Killed,
}

/// The owner's side: changes the phase and waits for the tasks.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    phase: watch::Sender<Phase>,
    // Every Tracker holds a sender of this channel, so `recv` returning `None` means no
    // tracked task (and no Tracker that could spawn one) is left.
    all_done: mpsc::Receiver<()>,
}

/// The tasks' side: spawns tracked tasks and tells them when to wind down. Dropping the
/// [`Lifecycle`] without calling [`Lifecycle::shutdown`] kills every task.
#[derive(Clone, Debug)]
pub(crate) struct Tracker {
    phase: watch::Receiver<Phase>,
    _alive: mpsc::Sender<()>,
}

impl Lifecycle {
    /// A running lifecycle and the first tracker of its tasks.
    pub(crate) fn new() -> (Lifecycle, Tracker) {
        let (phase, phase_rx) = watch::channel(Phase::Running);
        let (alive, all_done) = mpsc::channel(1);
        let tracker = Tracker {
            phase: phase_rx,
            _alive: alive,
        };
        (Lifecycle { phase, all_done }, tracker)
    }

    /// Drains, waits up to `grace` for every tracked task to end, kills what is left, and
    /// returns once no task is running.
    pub(crate) async fn shutdown(mut self, grace: Duration) {
        self.phase.send_replace(Phase::Draining);
        if tokio::time::timeout(grace, self.all_done.recv())
            .await
            .is_err()
        {
            self.phase.send_replace(Phase::Killed);
            // A killed task ends at its next poll, which the runtime schedules at once.
            self.all_done.recv().await;
        }
    }
}

impl Tracker {
    /// Spawns `task` so that the pod's shutdown waits for it, and drops it if the pod is
    /// killed first.
    pub(crate) fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let tracker = self.clone();
        tokio::spawn(async move {
            let mut phase = tracker.phase.clone();
            tokio::select! {
                biased;
                _ = phase.wait_for(|p| *p == Phase::Killed) => {}
                () = task => {}
            }
            drop(tracker);
        });
    }

    /// Resolves once the pod starts shutting down (or its owner is gone).
    pub(crate) async fn draining(&self) {
        let mut phase = self.phase.clone();
        // An error means the Lifecycle was dropped, which is a shutdown too.
        let _ = phase.wait_for(|p| *p != Phase::Running).await;
    }
}

/// A hyper executor whose tasks (HTTP/2 streams) are tracked like connections.
#[derive(Clone, Debug)]
pub(crate) struct TrackedExecutor(pub(crate) Tracker);

impl<F> hyper::rt::Executor<F> for TrackedExecutor
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, fut: F) {
        self.0.spawn(fut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn shutdown_waits_for_draining_tasks() {
        let (lifecycle, tracker) = Lifecycle::new();
        let finished = Arc::new(AtomicBool::new(false));
        let (flag, t) = (finished.clone(), tracker.clone());
        tracker.spawn(async move {
            t.draining().await;
            tokio::task::yield_now().await;
            flag.store(true, Ordering::SeqCst);
        });
        drop(tracker);
        lifecycle.shutdown(Duration::from_secs(30)).await;
        assert!(finished.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn shutdown_kills_tasks_after_the_grace_period() {
        let (lifecycle, tracker) = Lifecycle::new();
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        tracker.spawn(async move {
            std::future::pending::<()>().await;
            flag.store(true, Ordering::SeqCst);
        });
        drop(tracker);
        lifecycle.shutdown(Duration::from_millis(20)).await;
        assert!(!finished.load(Ordering::SeqCst));
    }
}
