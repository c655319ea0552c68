//! A pod's stdout: a bounded ring of numbered lines that request handlers append to.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

/// How many lines a pod keeps by default, the newest ones.
pub const DEFAULT_CAPACITY: usize = 1000;

/// A pod's log. Cloning is cheap and every clone sees the same lines.
///
/// Lines are numbered from 1 in the order they were pushed; the numbers keep counting
/// when old lines fall out of the ring, so a reader can tell it missed some.
#[derive(Clone, Debug)]
pub struct PodLog {
    inner: Arc<Mutex<Ring>>,
}

#[derive(Debug)]
struct Ring {
    capacity: usize,
    last_seq: u64,
    lines: VecDeque<(u64, String)>,
}

impl PodLog {
    /// An empty log keeping the last [`DEFAULT_CAPACITY`] lines.
    pub fn new() -> PodLog {
        PodLog::with_capacity(DEFAULT_CAPACITY)
    }

    /// An empty log keeping the last `capacity` lines (at least one).
    pub fn with_capacity(capacity: usize) -> PodLog {
        let capacity = capacity.max(1);
        PodLog {
            inner: Arc::new(Mutex::new(Ring {
                capacity,
                last_seq: 0,
                lines: VecDeque::with_capacity(capacity.min(64)),
            })),
        }
    }

    /// Appends a line and returns its sequence number.
    pub fn push(&self, line: impl Into<String>) -> u64 {
        // The String is built before taking the lock so request handlers hold it only for
        // the push itself.
        let line = line.into();
        let mut ring = self.lock();
        ring.last_seq += 1;
        let seq = ring.last_seq;
        if ring.lines.len() == ring.capacity {
            ring.lines.pop_front();
        }
        ring.lines.push_back((seq, line));
        seq
    }

    /// The lines still held, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.lock().lines.iter().map(|(_, l)| l.clone()).collect()
    }

    /// The held lines numbered after `seq`, oldest first: pass 0 for everything, then the
    /// last number seen to follow the log.
    pub fn since(&self, seq: u64) -> Vec<(u64, String)> {
        let ring = self.lock();
        // Sequence numbers in the ring are consecutive, so the start index is arithmetic.
        let first = ring.lines.front().map_or(ring.last_seq + 1, |(s, _)| *s);
        let skip = seq.saturating_add(1).saturating_sub(first);
        ring.lines
            .iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .cloned()
            .collect()
    }

    /// The number of the last line pushed (0 before the first).
    pub fn last_seq(&self) -> u64 {
        self.lock().last_seq
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        // A panic while holding the lock cannot leave the ring half-updated in a way that
        // matters to readers, so a poisoned lock is still used.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for PodLog {
    fn default() -> PodLog {
        PodLog::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_lines_and_numbers_them() {
        let log = PodLog::with_capacity(3);
        assert_eq!(log.last_seq(), 0);
        assert!(log.since(0).is_empty());
        for i in 1..=5 {
            assert_eq!(log.push(format!("line {i}")), i);
        }
        assert_eq!(log.lines(), vec!["line 3", "line 4", "line 5"]);
        assert_eq!(log.last_seq(), 5);
        let tail = log.since(3);
        assert_eq!(
            tail,
            vec![(4, "line 4".to_string()), (5, "line 5".to_string())]
        );
        assert_eq!(log.since(0).len(), 3);
        assert!(log.since(5).is_empty());
        assert!(log.since(u64::MAX).is_empty());
    }

    #[test]
    fn clones_share_lines() {
        let log = PodLog::new();
        let other = log.clone();
        other.push("hello");
        assert_eq!(log.lines(), vec!["hello"]);
    }
}
