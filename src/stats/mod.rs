//! Traffic statistics: lock-free counters and latency histograms per
//! gateway/listener/route/rule/backend/pod, resolved when the routing table is compiled so
//! the request path pays one atomic add per counter and no lock or label hashing. Each
//! listener worker adds to counters of its own, on cache lines no other worker writes, and a
//! read sums them.

mod histogram;

pub use histogram::{Histogram, BUCKETS_US};

use serde::Serialize;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

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

/// Status codes counted in each worker's own shard; any other code goes to the shared
/// per-code table, which is large (500 counters), so it is neither copied per worker nor
/// allocated before a series first sees such a code.
const HOT_CODES: [u16; 14] = [
    200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 500, 502, 503, 504,
];

fn hot_slot(status: u16) -> Option<usize> {
    HOT_CODES.iter().position(|c| *c == status)
}

/// One worker's counters of a series. Aligned so two workers never write the same cache
/// line (128: x86 prefetches lines in pairs).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard {
    requests: AtomicU64,
    sum_us: AtomicU64,
    buckets: [AtomicU64; BUCKETS_US.len() + 1],
    hot: [AtomicU64; HOT_CODES.len()],
}

thread_local! {
    /// The shard this thread writes (see [`set_thread_shard`]); 0 for threads that are not
    /// listener workers.
    static THREAD_SHARD: Cell<usize> = const { Cell::new(0) };
}

/// How many shards each series has: one per CPU this process may use, at most 16.
pub fn shard_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 16)
    })
}

/// Makes the calling thread count its requests in shard `index` (modulo the shard count), so
/// threads given different indices never write the same counters. Called once by each
/// listener worker.
pub fn set_thread_shard(index: usize) {
    let _ = THREAD_SHARD.try_with(|s| s.set(index));
}

/// The shard the calling thread writes (0 unless [`set_thread_shard`] chose another).
pub fn thread_shard() -> usize {
    THREAD_SHARD.try_with(Cell::get).unwrap_or(0)
}

/// The counters of one series, split per worker and summed when read.
#[derive(Debug)]
pub struct Series {
    pub key: SeriesKey,
    shards: Box<[Shard]>,
    /// Index `code - 100` for codes 100..=599 not in [`HOT_CODES`]; out-of-range codes
    /// count at 0. Most series never see such a code, and a table of tens of thousands of
    /// routes has tens of thousands of series.
    codes: OnceLock<Box<[AtomicU64]>>,
    /// Tries a retry policy repeated for the requests of this series. Retries are rare, so
    /// one shared counter does.
    retries: AtomicU64,
}

impl Series {
    fn new(key: SeriesKey) -> Series {
        Series {
            key,
            shards: (0..shard_count()).map(|_| Shard::default()).collect(),
            codes: OnceLock::new(),
            retries: AtomicU64::new(0),
        }
    }

    fn shard(&self) -> Option<&Shard> {
        self.shards.get(thread_shard() % self.shards.len().max(1))
    }

    /// Counts one finished request.
    pub fn record(&self, status: u16, latency_us: u64) {
        let Some(shard) = self.shard() else {
            return;
        };
        shard.requests.fetch_add(1, Ordering::Relaxed);
        match hot_slot(status).and_then(|i| shard.hot.get(i)) {
            Some(c) => {
                c.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                let slot = usize::from(status)
                    .checked_sub(100)
                    .filter(|i| *i < 500)
                    .unwrap_or(0);
                let codes = self
                    .codes
                    .get_or_init(|| (0..500).map(|_| AtomicU64::new(0)).collect());
                if let Some(c) = codes.get(slot) {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        let bucket = BUCKETS_US
            .iter()
            .position(|b| latency_us <= *b)
            .unwrap_or(BUCKETS_US.len());
        if let Some(b) = shard.buckets.get(bucket) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        shard.sum_us.fetch_add(latency_us, Ordering::Relaxed);
    }

    /// Counts one more try repeated by a retry policy.
    pub fn add_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    pub fn requests(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.requests.load(Ordering::Relaxed))
            .sum()
    }

    /// Non-zero status code counts.
    pub fn codes(&self) -> BTreeMap<u16, u64> {
        let mut out: BTreeMap<u16, u64> = self
            .codes
            .get()
            .into_iter()
            .flat_map(|codes| codes.iter())
            .enumerate()
            .filter_map(|(i, c)| {
                let n = c.load(Ordering::Relaxed);
                (n > 0).then(|| (u16::try_from(i + 100).unwrap_or(0), n))
            })
            .collect();
        for (i, code) in HOT_CODES.iter().enumerate() {
            let n: u64 = self
                .shards
                .iter()
                .filter_map(|s| s.hot.get(i))
                .map(|c| c.load(Ordering::Relaxed))
                .sum();
            if n > 0 {
                *out.entry(*code).or_default() += n;
            }
        }
        out
    }

    /// Counts per bucket of [`BUCKETS_US`] (not cumulative), plus one overflow bucket.
    pub fn latency_counts(&self) -> Vec<u64> {
        let mut out = vec![0; BUCKETS_US.len() + 1];
        for s in self.shards.iter() {
            for (o, b) in out.iter_mut().zip(s.buckets.iter()) {
                *o += b.load(Ordering::Relaxed);
            }
        }
        out
    }

    /// The sum of the recorded latencies, in microseconds.
    pub fn latency_sum_us(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.sum_us.load(Ordering::Relaxed))
            .sum()
    }

    fn reset(&self) {
        for s in self.shards.iter() {
            s.requests.store(0, Ordering::Relaxed);
            s.sum_us.store(0, Ordering::Relaxed);
            for c in s.buckets.iter().chain(s.hot.iter()) {
                c.store(0, Ordering::Relaxed);
            }
        }
        for c in self.codes.get().into_iter().flat_map(|codes| codes.iter()) {
            c.store(0, Ordering::Relaxed);
        }
        self.retries.store(0, Ordering::Relaxed);
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

    /// A point-in-time copy of every series with traffic (requests, or tries retried away
    /// from it).
    pub fn snapshot(&self) -> Vec<SeriesSnapshot> {
        let map = match self.series.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.values()
            .filter(|s| s.requests() > 0 || s.retries() > 0)
            .map(|s| SeriesSnapshot {
                key: s.key.clone(),
                requests: s.requests(),
                codes: s.codes(),
                latency_buckets: s.latency_counts(),
                latency_sum_us: s.latency_sum_us(),
                retries: s.retries(),
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
    /// Tries repeated by a retry policy (not counted in `requests`).
    pub retries: u64,
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

    #[test]
    fn shards_written_by_different_threads_sum_on_read() {
        let r = Registry::default();
        let s = r.series(SeriesKey::default());
        std::thread::scope(|scope| {
            for shard in 0..4 {
                let s = &s;
                scope.spawn(move || {
                    set_thread_shard(shard);
                    for _ in 0..100 {
                        s.record(200, 10);
                    }
                    s.record(418, 3_000);
                });
            }
        });
        assert_eq!(s.requests(), 404);
        assert_eq!(s.codes(), BTreeMap::from([(200, 400), (418, 4)]));
        let buckets = s.latency_counts();
        assert_eq!(buckets.first(), Some(&400));
        assert_eq!(buckets.iter().sum::<u64>(), 404);
        assert_eq!(s.latency_sum_us(), 400 * 10 + 4 * 3_000);
    }
}
