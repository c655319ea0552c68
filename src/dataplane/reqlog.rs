//! The recent-requests ring the dashboards show: a fixed number of slots written round-robin.
//! A writer that finds its slot busy (a reader copying it) drops the record instead of
//! waiting, so the request path never blocks on a viewer.

use crate::stats::Series;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// How many recent requests are kept.
pub const CAPACITY: usize = 256;

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
    pub gateway: String,
    pub listener: String,
    pub route: String,
    /// The rule id that matched ("" when nothing matched).
    pub rule: String,
    pub backend: String,
    pub pod: String,
}

/// Wall-clock milliseconds of a monotonic instant, from one reading of both clocks taken at
/// the first request. The request path has just read the monotonic clock for its latency, so
/// this spares it a second clock read; a wall clock stepped while gwsim runs shifts the log's
/// times by that step, which the dashboards can live with.
fn unix_ms(at: Instant) -> u64 {
    static BASE: OnceLock<(Instant, u64)> = OnceLock::new();
    let (base, base_ms) = *BASE.get_or_init(|| {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        (Instant::now(), ms)
    });
    let since = u64::try_from(at.saturating_duration_since(base).as_millis()).unwrap_or(0);
    base_ms.saturating_add(since)
}

/// The ring.
#[derive(Debug)]
pub struct RequestLog {
    next: AtomicU64,
    slots: Box<[Mutex<Option<Slot>>]>,
}

impl Default for RequestLog {
    fn default() -> Self {
        RequestLog {
            next: AtomicU64::new(0),
            slots: (0..CAPACITY).map(|_| Mutex::new(None)).collect(),
        }
    }
}

/// The request fields the log shows, borrowed from the request being served.
#[derive(Debug)]
pub struct Seen<'a> {
    pub method: &'a http::Method,
    pub host: &'a str,
    pub path: &'a str,
}

impl RequestLog {
    /// Records a finished request; drops it if its slot is being read. The slot's strings
    /// are overwritten in place, so once the ring has gone round a request allocates nothing.
    pub fn record(
        &self,
        seen: &Seen<'_>,
        status: u16,
        latency_us: u64,
        series: &Arc<Series>,
        at: Instant,
    ) {
        let seq = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let index = usize::try_from(seq % CAPACITY as u64).unwrap_or(0);
        let Some(slot) = self.slots.get(index) else {
            return;
        };
        let Ok(mut guard) = slot.try_lock() else {
            return;
        };
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
                    series: series.clone(),
                })
            }
        }
    }

    /// Requests after `since` (0 for all kept), oldest first.
    pub fn since(&self, since: u64) -> Vec<RequestRecord> {
        let mut out: Vec<RequestRecord> = self
            .slots
            .iter()
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
        out
    }

    /// The sequence number of the latest request.
    pub fn last_seq(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
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
        for i in 0..(CAPACITY + 10) {
            let path = format!("/{i}");
            let seen = Seen {
                method: &http::Method::GET,
                host: "h",
                path: &path,
            };
            log.record(&seen, 200, 5, &series, Instant::now());
        }
        let all = log.since(0);
        assert_eq!(all.len(), CAPACITY);
        assert_eq!(all[0].path, "/10");
        assert_eq!(all[CAPACITY - 1].rule, "httproute/a/b/rule/0");
        assert_eq!(log.since(log.last_seq() - 2).len(), 2);
    }
}
