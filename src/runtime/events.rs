//! The event log the dashboard, the admin API and the plain log lines share: reloads with
//! their duration, pods started and stopped, listeners bound. Bounded; never blocks.

use crate::stats::Histogram;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Mutex;

/// One event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    pub seq: u64,
    /// RFC 3339.
    pub time: String,
    pub kind: EventKind,
    pub message: String,
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EventKind {
    Reload,
    Pod,
    Listener,
    Problem,
}

/// A bounded ring of events.
#[derive(Debug)]
pub struct EventLog {
    inner: Mutex<(u64, VecDeque<Event>)>,
    capacity: usize,
    /// Reload durations in microseconds; its count is the number of reloads. Atomics, so
    /// `/metrics` reads it without waiting on the runtime task.
    pub reloads: Histogram,
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog {
            inner: Mutex::new((0, VecDeque::new())),
            capacity: 500,
            reloads: Histogram::default(),
        }
    }
}

impl EventLog {
    /// Appends an event and mirrors it to the log output.
    pub fn push(&self, kind: EventKind, message: impl Into<String>) {
        let message = message.into();
        match kind {
            EventKind::Problem => tracing::warn!(target: "gwsim", "{message}"),
            _ => tracing::info!(target: "gwsim", "{message}"),
        }
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        guard.0 += 1;
        let seq = guard.0;
        guard.1.push_back(Event {
            seq,
            time: super::clock::now_rfc3339(),
            kind,
            message,
        });
        while guard.1.len() > self.capacity {
            guard.1.pop_front();
        }
    }

    /// Events after `seq` (0 for all kept).
    pub fn since(&self, seq: u64) -> Vec<Event> {
        let guard = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        guard.1.iter().filter(|e| e.seq > seq).cloned().collect()
    }
}
