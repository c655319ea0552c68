//! Traffic statistics: lock-free counters and latency histograms per
//! gateway/listener/route/rule/backend/pod, resolved when the routing table is compiled so
//! the request path pays one atomic add per counter and no lock or label hashing.

mod histogram;

pub use histogram::{Histogram, BUCKETS_US};

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The labels of one series.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SeriesKey {
    pub gateway: String,
    pub listener: String,
    /// `namespace/name` of the route ("" when nothing matched).
    pub route: String,
    /// The rule id ("" when nothing matched).
    pub rule: String,
    /// `namespace/service:port` ("" when no backend was chosen).
    pub backend: String,
    /// The pod (or endpoint address) that served ("" for synthetic answers).
    pub pod: String,
}

/// The counters of one series.
#[derive(Debug)]
pub struct Series {
    pub key: SeriesKey,
    requests: AtomicU64,
    /// Index `code - 100` for codes 100..=599; out-of-range codes count at 0.
    codes: Box<[AtomicU64]>,
    pub latency: Histogram,
}

impl Series {
    fn new(key: SeriesKey) -> Series {
        Series {
            key,
            requests: AtomicU64::new(0),
            codes: (0..500).map(|_| AtomicU64::new(0)).collect(),
            latency: Histogram::default(),
        }
    }

    /// Counts one finished request.
    pub fn record(&self, status: u16, latency_us: u64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let slot = usize::from(status)
            .checked_sub(100)
            .filter(|i| *i < 500)
            .unwrap_or(0);
        if let Some(c) = self.codes.get(slot) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.latency.observe(latency_us);
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Non-zero status code counts.
    pub fn codes(&self) -> BTreeMap<u16, u64> {
        self.codes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let n = c.load(Ordering::Relaxed);
                (n > 0).then(|| (u16::try_from(i + 100).unwrap_or(0), n))
            })
            .collect()
    }

    fn reset(&self) {
        self.requests.store(0, Ordering::Relaxed);
        for c in self.codes.iter() {
            c.store(0, Ordering::Relaxed);
        }
        self.latency.reset();
    }
}

/// Every series, kept across routing-table swaps so counts survive reloads.
#[derive(Debug, Default)]
pub struct Registry {
    series: Mutex<BTreeMap<SeriesKey, Arc<Series>>>,
}

impl Registry {
    /// The series for `key`, created on first use (at table compile time, not per request).
    pub fn series(&self, key: SeriesKey) -> Arc<Series> {
        let mut map = match self.series.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(key.clone())
            .or_insert_with(|| Arc::new(Series::new(key)))
            .clone()
    }

    /// A point-in-time copy of every series with traffic.
    pub fn snapshot(&self) -> Vec<SeriesSnapshot> {
        let map = match self.series.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.values()
            .filter(|s| s.requests() > 0)
            .map(|s| SeriesSnapshot {
                key: s.key.clone(),
                requests: s.requests(),
                codes: s.codes(),
                latency_buckets: s.latency.counts(),
                latency_sum_us: s.latency.sum_us(),
            })
            .collect()
    }

    /// Zeroes every counter (the dashboard's reset key).
    pub fn reset(&self) {
        let map = match self.series.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        for s in map.values() {
            s.reset();
        }
    }
}

/// A copy of one series' numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeriesSnapshot {
    pub key: SeriesKey,
    pub requests: u64,
    pub codes: BTreeMap<u16, u64>,
    /// Counts per bucket of [`BUCKETS_US`] (not cumulative), plus one overflow bucket.
    pub latency_buckets: Vec<u64>,
    pub latency_sum_us: u64,
}

impl SeriesSnapshot {
    /// Latency quantile estimate (upper bucket bound), in microseconds.
    pub fn quantile_us(&self, q: f64) -> Option<u64> {
        histogram::quantile(&self.latency_buckets, q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_shared_by_key_and_count_codes() {
        let r = Registry::default();
        let key = SeriesKey {
            rule: "r".into(),
            pod: "p".into(),
            ..SeriesKey::default()
        };
        let a = r.series(key.clone());
        let b = r.series(key);
        a.record(200, 120);
        b.record(503, 80_000);
        let snap = r.snapshot();
        assert_eq!(snap.len(), 1);
        assert_eq!(snap[0].requests, 2);
        assert_eq!(snap[0].codes, BTreeMap::from([(200, 1), (503, 1)]));
        r.reset();
        assert!(r.snapshot().is_empty());
    }
}
