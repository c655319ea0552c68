//! The running simulation as a task: one owner of the [`Sim`], commands in, state out.
//! Views (dashboard, admin API, CLI clients) read the published [`State`] and never compute
//! routing themselves.

use super::events::EventLog;
use super::sim::{Sim, SimOptions, State};
use crate::dataplane::reqlog::RequestLog;
use crate::stats::Registry;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

enum Command {
    Reload(oneshot::Sender<u64>),
    PodLog(String, oneshot::Sender<Option<Vec<String>>>),
    Shutdown(oneshot::Sender<()>),
}

/// A cheap, clonable handle on the running simulation.
#[derive(Clone)]
pub struct Handle {
    state: watch::Receiver<Arc<State>>,
    commands: mpsc::Sender<Command>,
    stats: Arc<Registry>,
    events: Arc<EventLog>,
    requests: Arc<RequestLog>,
}

/// Starts the simulation; with `watch_files`, changes in the folder reload it.
pub async fn spawn(options: SimOptions, watch_files: bool) -> Handle {
    let dir = options.dir.clone();
    let mut sim = Sim::start(options).await;
    let (state_tx, state_rx) = watch::channel(Arc::new(sim.state()));
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<Command>(64);
    let (fs_tx, mut fs_rx) = mpsc::channel::<()>(1);
    let watcher = if watch_files {
        match super::watch::watch(&dir, fs_tx) {
            Ok(w) => Some(w),
            Err(e) => {
                sim.events().push(
                    super::events::EventKind::Problem,
                    format!("cannot watch {}: {e}", dir.display()),
                );
                None
            }
        }
    } else {
        None
    };
    let handle = Handle {
        state: state_rx,
        commands: cmd_tx,
        stats: sim.stats().clone(),
        events: sim.events().clone(),
        requests: sim.requests().clone(),
    };
    tokio::spawn(async move {
        let _watcher = watcher;
        loop {
            tokio::select! {
                Some(()) = fs_rx.recv() => {
                    sim.reload().await;
                    let _ = state_tx.send(Arc::new(sim.state()));
                }
                cmd = cmd_rx.recv() => match cmd {
                    Some(Command::Reload(reply)) => {
                        sim.reload().await;
                        let _ = state_tx.send(Arc::new(sim.state()));
                        let _ = reply.send(sim.generation());
                    }
                    Some(Command::PodLog(name, reply)) => {
                        let _ = reply.send(sim.pod_log(&name));
                    }
                    Some(Command::Shutdown(reply)) => {
                        sim.shutdown().await;
                        let _ = reply.send(());
                        return;
                    }
                    None => {
                        sim.shutdown().await;
                        return;
                    }
                },
            }
        }
    });
    handle
}

impl Handle {
    /// The latest published state.
    pub fn state(&self) -> Arc<State> {
        self.state.borrow().clone()
    }

    /// A receiver that wakes on every new state.
    pub fn subscribe(&self) -> watch::Receiver<Arc<State>> {
        self.state.clone()
    }

    pub fn stats(&self) -> &Arc<Registry> {
        &self.stats
    }

    pub fn events(&self) -> &Arc<EventLog> {
        &self.events
    }

    /// Recent requests served by the listeners.
    pub fn requests(&self) -> &Arc<RequestLog> {
        &self.requests
    }

    /// Reloads now; returns the new generation.
    pub async fn reload(&self) -> Option<u64> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(Command::Reload(tx)).await.ok()?;
        rx.await.ok()
    }

    /// Waits until the published generation is at least `n`.
    pub async fn wait_for_generation(&self, n: u64) -> Arc<State> {
        let mut rx = self.state.clone();
        loop {
            let current = rx.borrow_and_update().clone();
            if current.generation >= n {
                return current;
            }
            if rx.changed().await.is_err() {
                return current;
            }
        }
    }

    /// A pod's log lines.
    pub async fn pod_log(&self, pod: &str) -> Option<Vec<String>> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::PodLog(pod.to_string(), tx))
            .await
            .ok()?;
        rx.await.ok().flatten()
    }

    /// Stops listeners and pods and ends the task.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}
