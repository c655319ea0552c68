//! Requests per second: the caller samples the counters on its own clock and feeds them here,
//! so the view stays a pure function of its inputs (tests feed made-up times).

use crate::stats::SeriesSnapshot;
use std::collections::{BTreeMap, VecDeque};

/// How many samples are kept (the sparkline's width).
pub const HISTORY: usize = 60;

/// The window requests per second are averaged over, in seconds.
pub const WINDOW_SECS: f64 = 3.0;

/// Totals per (rule, backend) taken at one time; backend "" is the whole rule.
#[derive(Clone, Debug, Default, PartialEq)]
struct Sample {
    at_secs: f64,
    totals: BTreeMap<(String, String), u64>,
}

/// Recent samples of the counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rates {
    samples: VecDeque<Sample>,
}

impl Rates {
    /// Records the counters as of `at_secs` (seconds on any monotonic clock).
    pub fn observe(&mut self, at_secs: f64, stats: &[SeriesSnapshot]) {
        let mut totals: BTreeMap<(String, String), u64> = BTreeMap::new();
        for s in stats.iter().filter(|s| !s.key.rule.is_empty()) {
            *totals
                .entry((s.key.rule.clone(), String::new()))
                .or_default() += s.requests;
            if !s.key.backend.is_empty() {
                *totals
                    .entry((s.key.rule.clone(), s.key.backend.clone()))
                    .or_default() += s.requests;
            }
        }
        self.samples.push_back(Sample { at_secs, totals });
        while self.samples.len() > HISTORY + 1 {
            self.samples.pop_front();
        }
    }

    /// Forgets every sample (after the counters were reset).
    pub fn clear(&mut self) {
        self.samples.clear();
    }

    /// Requests per second on `rule` (and `backend`, "" for all) over the last
    /// [`WINDOW_SECS`]; 0 until two samples exist.
    pub fn per_second(&self, rule: &str, backend: &str) -> f64 {
        let Some(last) = self.samples.back() else {
            return 0.0;
        };
        let first = self
            .samples
            .iter()
            .find(|s| last.at_secs - s.at_secs <= WINDOW_SECS)
            .unwrap_or(last);
        rate(first, last, rule, backend)
    }

    /// Requests per second on `rule` between consecutive samples, oldest first.
    pub fn history(&self, rule: &str) -> Vec<u64> {
        self.samples
            .iter()
            .zip(self.samples.iter().skip(1))
            .map(|(a, b)| rate(a, b, rule, "").round() as u64)
            .collect()
    }
}

fn rate(from: &Sample, to: &Sample, rule: &str, backend: &str) -> f64 {
    let dt = to.at_secs - from.at_secs;
    if dt <= 0.0 {
        return 0.0;
    }
    let key = (rule.to_string(), backend.to_string());
    let a = from.totals.get(&key).copied().unwrap_or(0);
    let b = to.totals.get(&key).copied().unwrap_or(0);
    // A reset between samples makes the counters go down: count it as no traffic.
    b.saturating_sub(a) as f64 / dt
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::SeriesKey;

    fn snap(rule: &str, backend: &str, requests: u64) -> SeriesSnapshot {
        SeriesSnapshot {
            key: SeriesKey {
                rule: rule.into(),
                backend: backend.into(),
                pod: "p".into(),
                ..SeriesKey::default()
            },
            requests,
            codes: BTreeMap::from([(200, requests)]),
            latency_buckets: vec![0; 17],
            latency_sum_us: 0,
            retries: 0,
        }
    }

    #[test]
    fn rates_come_from_counter_deltas_over_the_window() {
        let mut r = Rates::default();
        assert_eq!(r.per_second("a", ""), 0.0);
        r.observe(0.0, &[snap("a", "b", 0)]);
        r.observe(1.0, &[snap("a", "b", 100)]);
        r.observe(2.0, &[snap("a", "b", 300)]);
        assert_eq!(r.per_second("a", ""), 150.0);
        assert_eq!(r.per_second("a", "b"), 150.0);
        assert_eq!(r.history("a"), vec![100, 200]);
        // A reset does not show as negative traffic.
        r.observe(3.0, &[snap("a", "b", 10)]);
        assert_eq!(r.history("a"), vec![100, 200, 0]);
    }
}
