//! `/metrics`: a `prometheus-client` collector that turns the lock-free stats registry into
//! labelled series at scrape time. The request path only bumps atomics resolved when the
//! routing table was compiled; labels are assembled here, once per scrape.

use crate::runtime::handle::Handle;
use crate::stats::{SeriesKey, BUCKETS_US};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

/// Requests per gateway/listener/route/rule/backend/pod and status code.
pub const REQUESTS: &str = "gwsim_requests";
/// Request latency histogram, seconds.
pub const REQUEST_DURATION: &str = "gwsim_request_duration_seconds";
/// Tries repeated by retry policies, per gateway/listener/route/rule/backend/pod.
pub const RETRIES: &str = "gwsim_retries";
/// Reloads applied.
pub const RELOADS: &str = "gwsim_reloads";
/// Reload duration histogram, seconds.
pub const RELOAD_DURATION: &str = "gwsim_reload_duration_seconds";
/// Problems in the manifests (errors) as of the last reload.
pub const CONFIG_ERRORS: &str = "gwsim_config_errors";
/// Warnings in the manifests as of the last reload.
pub const CONFIG_WARNINGS: &str = "gwsim_config_warnings";

/// Reads the simulation's counters on every scrape.
#[derive(Clone)]
pub struct SimCollector {
    handle: Handle,
}

impl std::fmt::Debug for SimCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimCollector").finish_non_exhaustive()
    }
}

/// The registry `/metrics` encodes.
pub fn registry(handle: Handle) -> Registry {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(SimCollector { handle }));
    registry
}

/// Encodes the registry in the Prometheus text format (0.0.4), which every scraper reads.
pub fn encode(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut out, registry)?;
    Ok(out)
}

/// The content type of [`encode`]'s output.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

fn labels(key: &SeriesKey) -> [(&'static str, String); 6] {
    [
        ("gateway", key.gateway.clone()),
        ("listener", key.listener.clone()),
        ("route", key.route.clone()),
        ("rule", key.rule.clone()),
        ("backend", key.backend.clone()),
        ("pod", key.pod.clone()),
    ]
}

/// Bucket bounds in seconds with per-bucket (not cumulative) counts; the encoder
/// accumulates them and adds `+Inf` from the total.
fn buckets(counts: &[u64]) -> Vec<(f64, u64)> {
    BUCKETS_US
        .iter()
        .zip(counts)
        .map(|(bound, n)| (*bound as f64 / 1e6, *n))
        .collect()
}

impl Collector for SimCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let series = self.handle.stats().snapshot();
        {
            let mut family = encoder.encode_descriptor(
                REQUESTS,
                "Requests served, by gateway, listener, route, rule, backend, pod and status code.",
                None,
                MetricType::Counter,
            )?;
            for s in &series {
                let base = labels(&s.key);
                for (code, n) in &s.codes {
                    let mut set: Vec<(&str, String)> = base.to_vec();
                    set.push(("code", code.to_string()));
                    let metric = family.encode_family(&set)?;
                    ConstCounter::new(*n).encode(metric)?;
                }
            }
        }
        {
            let mut family = encoder.encode_descriptor(
                REQUEST_DURATION,
                "Time from request received to response headers sent, by gateway, listener, route, rule, backend and pod.",
                None,
                MetricType::Histogram,
            )?;
            for s in &series {
                let set = labels(&s.key);
                let mut metric = family.encode_family(&set)?;
                metric.encode_histogram::<NoLabelSet>(
                    s.latency_sum_us as f64 / 1e6,
                    s.requests,
                    &buckets(&s.latency_buckets),
                    None,
                )?;
            }
        }
        {
            let mut family = encoder.encode_descriptor(
                RETRIES,
                "Tries repeated by HTTPRoute retry policies, by gateway, listener, route, rule, backend and pod.",
                None,
                MetricType::Counter,
            )?;
            for s in series.iter().filter(|s| s.retries > 0) {
                let set = labels(&s.key);
                let metric = family.encode_family(&set)?;
                ConstCounter::new(s.retries).encode(metric)?;
            }
        }
        let reloads = &self.handle.events().reloads;
        let counts = reloads.counts();
        let total: u64 = counts.iter().sum();
        ConstCounter::new(total).encode(encoder.encode_descriptor(
            RELOADS,
            "Reloads of the manifest folder applied.",
            None,
            MetricType::Counter,
        )?)?;
        encoder
            .encode_descriptor(
                RELOAD_DURATION,
                "Time to load, reconcile and apply the manifest folder.",
                None,
                MetricType::Histogram,
            )?
            .encode_histogram::<NoLabelSet>(
                reloads.sum_us() as f64 / 1e6,
                total,
                &buckets(&counts),
                None,
            )?;
        let state = self.handle.state();
        let diagnostics = || {
            state
                .store
                .diagnostics
                .iter()
                .chain(&state.translation.diagnostics)
        };
        let errors = diagnostics().filter(|d| d.is_error()).count();
        let warnings = diagnostics().count() - errors;
        ConstGauge::new(i64::try_from(errors).unwrap_or(i64::MAX))
            .encode(encoder.encode_descriptor(
            CONFIG_ERRORS,
            "Errors in the manifests as of the last reload (objects not admitted or not usable).",
            None,
            MetricType::Gauge,
        )?)?;
        ConstGauge::new(i64::try_from(warnings).unwrap_or(i64::MAX)).encode(
            encoder.encode_descriptor(
                CONFIG_WARNINGS,
                "Warnings in the manifests as of the last reload.",
                None,
                MetricType::Gauge,
            )?,
        )?;
        Ok(())
    }
}
