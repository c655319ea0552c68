//! The traffic pane: per rule of the selected route, one row per backend with its observed
//! share next to its configured weight, per-pod shares, requests per second, status codes and
//! latency; and where the traffic generator would send to exercise the route.

use super::{BackendTraffic, Counts, PodTraffic, Rates, RuleTraffic, TrafficPane, TrafficTarget};
use crate::ir::{BackendTarget, MatchIr, PathMatch, RoutingIr, RuleIr, ValueMatchKind};
use crate::runtime::sim::State;
use crate::stats::{SeriesKey, SeriesSnapshot};
use std::collections::BTreeMap;

/// The pane for route `namespace/name`.
pub(super) fn pane(
    state: &State,
    stats: &[SeriesSnapshot],
    rates: &Rates,
    route: &str,
) -> TrafficPane {
    let routing = &state.translation.routing;
    let mut rules: Vec<(&String, &RuleIr)> = routing
        .rules
        .iter()
        .filter(|(_, r)| r.route == route)
        .collect();
    rules.sort_by_key(|(_, r)| r.index);
    let target = target(state, &rules);
    TrafficPane {
        route: route.to_string(),
        rules: rules
            .iter()
            .map(|(id, r)| rule(routing, stats, rates, id, r))
            .collect(),
        no_target: match (&target, rules.is_empty()) {
            (Some(_), _) => None,
            (None, true) => Some(
                "the route serves no traffic: it is not accepted by any programmed listener".into(),
            ),
            (None, false) => Some("no listener of this route is bound".into()),
        },
        target,
    }
}

fn rule(
    routing: &RoutingIr,
    stats: &[SeriesSnapshot],
    rates: &Rates,
    id: &str,
    r: &RuleIr,
) -> RuleTraffic {
    let series: Vec<&SeriesSnapshot> = stats.iter().filter(|s| s.key.rule == id).collect();
    let routed: u64 = series
        .iter()
        .filter(|s| !s.key.backend.is_empty())
        .map(|s| s.requests)
        .sum();
    let total_weight: u64 = r.backends.iter().map(|b| u64::from(b.weight)).sum();
    let percent = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 * 100.0 / whole as f64
        }
    };
    let backends = r
        .backends
        .iter()
        .map(|b| {
            let mine: Vec<&SeriesSnapshot> = series
                .iter()
                .copied()
                .filter(|s| s.key.backend == b.name)
                .collect();
            let counts = counts(&mine);
            let mut pods: BTreeMap<&str, u64> = BTreeMap::new();
            for s in mine.iter().filter(|s| !s.key.pod.is_empty()) {
                *pods.entry(s.key.pod.as_str()).or_default() += s.requests;
            }
            BackendTraffic {
                name: b.name.clone(),
                label: label(&b.name, &r.route),
                weight: b.weight,
                weight_share: percent(u64::from(b.weight), total_weight),
                share: (routed > 0).then(|| percent(counts.requests, routed)),
                rps: rates.per_second(id, &b.name),
                pods: pods
                    .into_iter()
                    .map(|(pod, requests)| PodTraffic {
                        pod: pod.to_string(),
                        requests,
                        share: percent(requests, routed),
                    })
                    .collect(),
                problem: backend_problem(routing, &b.target),
                counts,
            }
        })
        .collect();
    let direct: Vec<&SeriesSnapshot> = series
        .iter()
        .copied()
        .filter(|s| s.key.backend.is_empty())
        .collect();
    RuleTraffic {
        id: id.to_string(),
        index: r.index,
        matches: matches_of(routing, id),
        totals: counts(&series),
        rps: rates.per_second(id, ""),
        history: rates.history(id),
        backends,
        direct: counts(&direct),
    }
}

/// `helloworld-v1` for `sample/helloworld-v1:5000` on a route in `sample`; the full name
/// when the Service is in another namespace.
fn label(backend: &str, route: &str) -> String {
    let route_ns = route.split_once('/').map(|(ns, _)| ns).unwrap_or_default();
    let name = backend.rsplit_once(':').map(|(n, _)| n).unwrap_or(backend);
    match name.split_once('/') {
        Some((ns, svc)) if ns == route_ns => svc.to_string(),
        _ => name.to_string(),
    }
}

fn backend_problem(routing: &RoutingIr, target: &BackendTarget) -> Option<String> {
    match target {
        BackendTarget::Invalid { reason } => Some(format!("{reason}: its share answers 500")),
        BackendTarget::Service { service, port } => {
            let endpoints = routing
                .services
                .get(service)
                .and_then(|s| s.ports.iter().find(|p| p.port == *port))
                .map(|p| p.endpoints.len())
                .unwrap_or(0);
            (endpoints == 0).then(|| "no endpoints: its share answers 503".to_string())
        }
    }
}

/// The rule's matches in words, as placed in the routing table (`helloworld.sample.com Exact /hello`).
fn matches_of(routing: &RoutingIr, id: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    for v in routing
        .ports
        .iter()
        .flat_map(|p| &p.listeners)
        .flat_map(|l| &l.virtual_hosts)
    {
        for e in v.routes.iter().filter(|e| e.rule == id) {
            let text = format!("{} {}", v.hostname, describe(&e.matcher));
            if !seen.contains(&text) {
                seen.push(text);
            }
        }
    }
    seen.join(", ")
}

fn describe(m: &MatchIr) -> String {
    let mut out = match &m.path {
        PathMatch::Exact(p) => format!("Exact {p}"),
        PathMatch::PathPrefix(p) => format!("PathPrefix {p}"),
        PathMatch::RegularExpression(p) => format!("RegularExpression {p}"),
    };
    if let Some(method) = &m.method {
        out = format!("{method} {out}");
    }
    for h in &m.headers {
        out.push_str(&format!(" {}: {}", h.name, h.value));
    }
    for q in &m.query_params {
        out.push_str(&format!(" ?{}={}", q.name, q.value));
    }
    out
}

/// Adds up series: requests, codes and latency buckets.
pub(super) fn counts(series: &[&SeriesSnapshot]) -> Counts {
    let mut merged = SeriesSnapshot {
        key: SeriesKey::default(),
        requests: 0,
        codes: BTreeMap::new(),
        latency_buckets: Vec::new(),
        latency_sum_us: 0,
        retries: 0,
    };
    for s in series {
        merged.requests += s.requests;
        for (code, n) in &s.codes {
            *merged.codes.entry(*code).or_default() += n;
        }
        if merged.latency_buckets.len() < s.latency_buckets.len() {
            merged.latency_buckets.resize(s.latency_buckets.len(), 0);
        }
        for (slot, n) in merged.latency_buckets.iter_mut().zip(&s.latency_buckets) {
            *slot += n;
        }
        merged.latency_sum_us += s.latency_sum_us;
        merged.retries += s.retries;
    }
    Counts {
        requests: merged.requests,
        p50_ms: merged.quantile_us(0.5).map(|us| us as f64 / 1000.0),
        p99_ms: merged.quantile_us(0.99).map(|us| us as f64 / 1000.0),
        codes: merged.codes,
        retries: merged.retries,
    }
}

/// A request the route's first served match answers: the bound socket of its listener, a
/// host its virtual host serves, and a path, method, headers and query its match accepts.
fn target(state: &State, rules: &[(&String, &RuleIr)]) -> Option<TrafficTarget> {
    let routing = &state.translation.routing;
    for (id, _) in rules {
        for p in &routing.ports {
            for l in &p.listeners {
                for v in &l.virtual_hosts {
                    let Some(e) = v.routes.iter().find(|e| e.rule == **id) else {
                        continue;
                    };
                    let bound = state
                        .listeners
                        .iter()
                        .find(|b| b.address == p.address && b.port == p.port)
                        .and_then(|b| b.bound);
                    let Some(addr) = bound else {
                        continue;
                    };
                    return Some(TrafficTarget {
                        addr: addr.to_string(),
                        host: concrete_host(&v.hostname, l.hostname.as_deref()),
                        method: e.matcher.method.clone().unwrap_or_else(|| "GET".into()),
                        path: concrete_path(&e.matcher),
                        headers: e
                            .matcher
                            .headers
                            .iter()
                            .filter(|h| h.kind == ValueMatchKind::Exact)
                            .map(|h| (h.name.clone(), h.value.clone()))
                            .collect(),
                    });
                }
            }
        }
    }
    None
}

/// A host name a hostname pattern accepts: `*.sample.com` → `gwsim.sample.com`.
fn concrete_host(pattern: &str, listener: Option<&str>) -> String {
    let pattern = if pattern == "*" {
        listener.unwrap_or("gwsim.local")
    } else {
        pattern
    };
    match pattern.strip_prefix("*.") {
        Some(rest) => format!("gwsim.{rest}"),
        None if pattern == "*" => "gwsim.local".to_string(),
        None => pattern.to_string(),
    }
}

/// A path (with query) a match accepts. A regular expression gets `/`, which may not match:
/// the generator's 404s then say so rather than guessing a string the pattern accepts.
fn concrete_path(m: &MatchIr) -> String {
    let mut path = match &m.path {
        PathMatch::Exact(p) | PathMatch::PathPrefix(p) => p.clone(),
        PathMatch::RegularExpression(_) => "/".to_string(),
    };
    let query: Vec<String> = m
        .query_params
        .iter()
        .filter(|q| q.kind == ValueMatchKind::Exact)
        .map(|q| format!("{}={}", q.name, q.value))
        .collect();
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query.join("&"));
    }
    path
}
