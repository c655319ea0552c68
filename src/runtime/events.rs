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

/// One line per rule whose backend weights changed between two routing tables, such as
/// `weights sample/helloworld rule 0: 90/10 → 50/50`, so the log says what moved.
pub fn weight_changes(before: &crate::ir::RoutingIr, after: &crate::ir::RoutingIr) -> Vec<String> {
    let weights =
        |r: &crate::ir::RuleIr| -> Vec<u32> { r.backends.iter().map(|b| b.weight).collect() };
    let join = |w: &[u32]| -> String { w.iter().map(u32::to_string).collect::<Vec<_>>().join("/") };
    after
        .rules
        .iter()
        .filter_map(|(id, new)| {
            let old = before.rules.get(id)?;
            let (a, b) = (weights(old), weights(new));
            (a != b).then(|| {
                format!(
                    "weights {} rule {}: {} → {}",
                    new.route,
                    new.index,
                    join(&a),
                    join(&b)
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BackendIr, BackendTarget, RoutingIr, RuleIr, Timeouts};

    fn table(weights: &[u32]) -> RoutingIr {
        let mut ir = RoutingIr::default();
        ir.rules.insert(
            "httproute/sample/helloworld/rule/0".into(),
            RuleIr {
                route: "sample/helloworld".into(),
                index: 0,
                name: None,
                filters: Vec::new(),
                backends: weights
                    .iter()
                    .map(|w| BackendIr {
                        name: "sample/x:5000".into(),
                        weight: *w,
                        target: BackendTarget::Invalid { reason: "x".into() },
                        filters: Vec::new(),
                    })
                    .collect(),
                timeouts: Timeouts::default(),
                retry: None,
            },
        );
        ir
    }

    #[test]
    fn weight_changes_say_what_moved() {
        assert_eq!(
            weight_changes(&table(&[90, 10]), &table(&[50, 50])),
            vec!["weights sample/helloworld rule 0: 90/10 → 50/50".to_string()]
        );
        assert!(weight_changes(&table(&[90, 10]), &table(&[90, 10])).is_empty());
        assert!(weight_changes(&RoutingIr::default(), &table(&[1])).is_empty());
    }
}
