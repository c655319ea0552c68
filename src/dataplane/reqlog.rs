//! The recent-requests log the dashboards show: one ring per listener worker, each a fixed
//! number of slots written round-robin by its worker alone, so recording a request writes no
//! cache line another worker writes. A writer that finds its slot busy (a reader copying it)
//! drops the record instead of waiting, so the request path never blocks on a viewer.
//!
//! A record's sequence number orders it among all rings: its monotonic time in microseconds,
//! times [`MAX_RINGS`], plus its ring, kept increasing within each ring. Readers merge the
//! rings by it; `since` takes one as a cursor.

use crate::stats::Series;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// How many recent requests are kept (per ring, and in what readers get).
pub const CAPACITY: usize = 256;

/// Rings are numbered below this (the stats shard count is at most 16 too).
const MAX_RINGS: u64 = 16;

/// What the listener knows about a finished request.
#[derive(Clone, Debug)]
struct Slot {
    seq: u64,
    unix_ms: u64,
    method: http::Method,
    host: String,
    path: String,
    status: u16,
    latency_us: u64,
    retries: u32,
    /// The series it was counted in: its key names the gateway, listener, route, rule,
    /// backend and pod, without copying those strings per request.
    series: Arc<Series>,
}

/// One request as the admin API serves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub unix_ms: u64,
    pub method: String,
    pub host: String,
    pub path: String,
    pub status: u16,
    pub latency_us: u64,
    /// Tries a retry policy repeated (left out when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub retries: u32,
    pub gateway: String,
    pub listener: String,
    pub route: String,
    /// The rule id that matched ("" when nothing matched).
    pub rule: String,
    pub backend: String,
    pub pod: String,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One reading of both clocks, taken at the first request: the request path has just read
/// the monotonic clock for its latency, so the wall-clock time and the sequence number are
/// derived from that reading instead of a second clock read. A wall clock stepped while gwsim
/// runs shifts the log's times by that step, which the dashboards can live with.
fn base() -> (Instant, u64) {
    static BASE: OnceLock<(Instant, u64)> = OnceLock::new();
    *BASE.get_or_init(|| {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        (Instant::now(), ms)
    })
}

/// Wall-clock milliseconds of a monotonic instant.
fn unix_ms(at: Instant) -> u64 {
    let (base, base_ms) = base();
    let since = u64::try_from(at.saturating_duration_since(base).as_millis()).unwrap_or(0);
    base_ms.saturating_add(since)
}

/// One worker's ring. Aligned so two rings' counters never share a cache line.
#[derive(Debug)]
#[repr(align(128))]
struct Ring {
    /// Records written so far (the next slot is this modulo the capacity).
    written: AtomicU64,
    /// The sequence number of the latest record.
    last: AtomicU64,
    slots: Box<[Mutex<Option<Slot>>]>,
}

impl Ring {
    fn new() -> Ring {
        Ring {
            written: AtomicU64::new(0),
            last: AtomicU64::new(0),
            slots: (0..CAPACITY).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// The sequence number for a record of this ring at `at`: later than the ring's last
    /// even when two records share a microsecond (or, off the workers, two threads share
    /// the ring).
    fn next_seq(&self, index: u64, at: Instant) -> u64 {
        let micros = u64::try_from(at.saturating_duration_since(base().0).as_micros())
            .unwrap_or(u64::MAX / MAX_RINGS - 1);
        let wanted = micros
            .saturating_add(1)
            .saturating_mul(MAX_RINGS)
            .saturating_add(index);
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let seq = wanted.max(last.saturating_add(MAX_RINGS));
            match self
                .last
                .compare_exchange_weak(last, seq, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return seq,
                Err(now) => last = now,
            }
        }
    }
}

/// The rings.
#[derive(Debug)]
pub struct RequestLog {
    rings: Box<[Ring]>,
}

impl Default for RequestLog {
    fn default() -> Self {
        let count = crate::stats::shard_count().clamp(1, MAX_RINGS as usize);
        RequestLog {
            rings: (0..count).map(|_| Ring::new()).collect(),
        }
    }
}

/// The request fields the log shows, borrowed from the request being served.
#[derive(Debug)]
pub struct Seen<'a> {
    pub method: &'a http::Method,
    pub host: &'a str,
    pub path: &'a str,
    /// Tries a retry policy repeated for it.
    pub retries: u32,
}

impl RequestLog {
    /// Records a finished request in the calling worker's ring; drops it if its slot is
    /// being read. The slot's strings are overwritten in place, so once the ring has gone
    /// round a request allocates nothing.
    pub fn record(
        &self,
        seen: &Seen<'_>,
        status: u16,
        latency_us: u64,
        series: &Arc<Series>,
        at: Instant,
    ) {
        let index = crate::stats::thread_shard() % self.rings.len().max(1);
        let Some(ring) = self.rings.get(index) else {
            return;
        };
        let written = ring.written.fetch_add(1, Ordering::Relaxed);
        let Some(slot) = ring.slots.get((written % CAPACITY as u64) as usize) else {
            return;
        };
        let Ok(mut guard) = slot.try_lock() else {
            return;
        };
        let seq = ring.next_seq(index as u64, at);
        let unix_ms = unix_ms(at);
        match guard.as_mut() {
            Some(s) => {
                s.seq = seq;
                s.unix_ms = unix_ms;
                if s.method != *seen.method {
                    s.method = seen.method.clone();
                }
                s.host.clear();
                s.host.push_str(seen.host);
                s.path.clear();
                s.path.push_str(seen.path);
                s.status = status;
                s.latency_us = latency_us;
                s.retries = seen.retries;
                if !Arc::ptr_eq(&s.series, series) {
                    s.series = series.clone();
                }
            }
            None => {
                *guard = Some(Slot {
                    seq,
                    unix_ms,
                    method: seen.method.clone(),
                    host: seen.host.to_string(),
                    path: seen.path.to_string(),
                    status,
                    latency_us,
                    retries: seen.retries,
                    series: series.clone(),
                })
            }
        }
    }

    /// The latest [`CAPACITY`] requests after `since` (0 for all kept), oldest first.
    pub fn since(&self, since: u64) -> Vec<RequestRecord> {
        let mut out: Vec<RequestRecord> = self
            .rings
            .iter()
            .flat_map(|r| r.slots.iter())
            .filter_map(|s| match s.lock() {
                Ok(g) => g.clone(),
                Err(p) => p.into_inner().clone(),
            })
            .filter(|s| s.seq > since)
            .map(|s| {
                let k = &s.series.key;
                RequestRecord {
                    seq: s.seq,
                    unix_ms: s.unix_ms,
                    method: s.method.to_string(),
                    host: s.host,
                    path: s.path,
                    status: s.status,
                    latency_us: s.latency_us,
                    retries: s.retries,
                    gateway: k.gateway.clone(),
                    listener: k.listener.clone(),
                    route: k.route.clone(),
                    rule: k.rule.clone(),
                    backend: k.backend.clone(),
                    pod: k.pod.clone(),
                }
            })
            .collect();
        out.sort_by_key(|r| r.seq);
        let extra = out.len().saturating_sub(CAPACITY);
        out.drain(..extra);
        out
    }

    /// The sequence number of the latest request (0 before the first).
    pub fn last_seq(&self) -> u64 {
        self.rings
            .iter()
            .map(|r| r.last.load(Ordering::Relaxed))
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Registry, SeriesKey};

    #[test]
    fn keeps_the_latest_requests_in_order() {
        let log = RequestLog::default();
        let series = Registry::default().series(SeriesKey {
            rule: "httproute/a/b/rule/0".into(),
            ..SeriesKey::default()
        });
        assert_eq!(log.last_seq(), 0);
        // One instant for all: records in the same microsecond still get increasing numbers.
        let at = Instant::now();
        for i in 0..(CAPACITY + 10) {
            let path = format!("/{i}");
            let seen = Seen {
                method: &http::Method::GET,
                host: "h",
                path: &path,
                retries: 0,
            };
            log.record(&seen, 200, 5, &series, at);
        }
        let all = log.since(0);
        assert_eq!(all.len(), CAPACITY);
        assert_eq!(all[0].path, "/10");
        assert_eq!(all[CAPACITY - 1].rule, "httproute/a/b/rule/0");
        assert_eq!(all[CAPACITY - 1].seq, log.last_seq());
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
        let later = log.since(all[CAPACITY - 3].seq);
        assert_eq!(later.len(), 2);
        assert_eq!(later[0].path, format!("/{}", CAPACITY + 8));
    }

    #[test]
    fn rings_of_different_workers_merge_by_time() {
        let log = RequestLog::default();
        let series = Registry::default().series(SeriesKey::default());
        let start = base().0;
        std::thread::scope(|scope| {
            for worker in 0..2 {
                let (log, series) = (&log, &series);
                scope.spawn(move || {
                    crate::stats::set_thread_shard(worker);
                    for i in 0..5u64 {
                        // Worker 0 at even microseconds, worker 1 at odd ones.
                        let at = start + std::time::Duration::from_micros(2 * i + worker as u64);
                        let path = format!("/{}", 2 * i + worker as u64);
                        let seen = Seen {
                            method: &http::Method::GET,
                            host: "h",
                            path: &path,
                            retries: 0,
                        };
                        log.record(&seen, 200, 1, series, at);
                    }
                });
            }
        });
        let paths: Vec<String> = log.since(0).into_iter().map(|r| r.path).collect();
        assert_eq!(paths.len(), 10);
        // With one CPU there is one ring, which the two threads share in whatever order ran.
        if log.rings.len() > 1 {
            let in_time_order: Vec<String> = (0..10).map(|i| format!("/{i}")).collect();
            assert_eq!(paths, in_time_order);
        }
    }
}
