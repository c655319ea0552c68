//! The compiled routing table: the controller's IR with matchers compiled, backends resolved
//! to pod addresses, and each rule's seeded draw stream. It is immutable; a reload builds a
//! new one and swaps it in atomically, so a request finishes on the table it started with.

use super::hostindex::HostIndex;
use super::matcher::Matcher;
use crate::ir::{BackendTarget, EndpointIr, FilterIr, RetryIr, RoutingIr, Timeouts};
use crate::sim::rng::Stream;
use crate::stats::{Registry, Series, SeriesKey};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

/// One resolved endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub addr: SocketAddr,
    /// The pod name, or the address for EndpointSlice endpoints.
    pub pod: String,
}

/// Where a backend's share goes once resolved.
#[derive(Debug)]
pub enum Target {
    /// Ready endpoints (empty: the share answers 503).
    Endpoints { endpoints: Vec<Endpoint>, h2c: bool },
    /// The ref did not resolve: the share answers 500.
    Invalid(String),
}

/// A backend of a compiled rule.
#[derive(Debug)]
pub struct Backend {
    pub name: String,
    pub target: Target,
    pub filters: Vec<FilterIr>,
    /// Draws the endpoint within the backend.
    pub endpoint_stream: Stream,
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub filters: Vec<FilterIr>,
    pub backends: Vec<Backend>,
    pub weights: Vec<u32>,
    pub stream: Stream,
    /// The n-th request on this rule gets the n-th draw, whichever thread serves it.
    pub counter: Arc<AtomicU64>,
    pub timeouts: Timeouts,
    pub retry: Option<RetryIr>,
    /// RequestMirror targets resolved to endpoints, in filter order.
    pub mirrors: Vec<MirrorTarget>,
}

/// Where a RequestMirror filter sends its copies.
#[derive(Debug)]
pub struct MirrorTarget {
    pub name: String,
    pub endpoints: Vec<Endpoint>,
    pub h2c: bool,
    /// Share of requests mirrored, in parts per million.
    pub ppm: u32,
    /// Draws whether the n-th request is mirrored, and to which endpoint.
    pub stream: Stream,
}

/// One match entry.
#[derive(Debug)]
pub struct Entry {
    pub rule: Arc<Rule>,
    pub matcher: Matcher,
    pub series: EntrySeries,
}

/// The stats series a request through one entry lands in, resolved at compile time.
#[derive(Debug)]
pub struct EntrySeries {
    /// Answers made before a backend was chosen (redirects, CORS preflights, 500s).
    pub rule: Arc<Series>,
    /// Per backend: one series per endpoint, plus one for synthetic answers (503, 500).
    pub backends: Vec<(Vec<Arc<Series>>, Arc<Series>)>,
}

/// A virtual host.
#[derive(Debug)]
pub struct VirtualHost {
    pub pattern: String,
    pub entries: Vec<Entry>,
}

/// A listener's routes.
#[derive(Debug)]
pub struct Listener {
    pub name: String,
    pub hostname: Option<String>,
    pub virtual_hosts: Vec<VirtualHost>,
    /// Where each request host's virtual host is, built with the list.
    pub hosts: HostIndex,
}

impl Listener {
    /// The virtual host serving `host` (normalised), as the first match in precedence order.
    pub fn virtual_host(&self, host: &str) -> Option<&VirtualHost> {
        self.hosts
            .find(host)
            .and_then(|i| self.virtual_hosts.get(i))
    }
}

/// Everything served on one Gateway address and listener port.
#[derive(Debug)]
pub struct PortTable {
    pub gateway: String,
    pub listeners: Vec<Listener>,
    /// Requests nothing matched.
    pub unmatched: Arc<Series>,
}

/// The key of a served socket: the Gateway's address and the listener port as declared.
pub type PortKey = (String, u16);

/// The whole compiled table.
#[derive(Debug, Default)]
pub struct RouteTable {
    /// Looked up on every request: a fast hasher, the keys are the table's own.
    pub ports: foldhash::HashMap<PortKey, Arc<PortTable>>,
}

/// Per-rule counters that outlive table swaps, so an unchanged rule's draw sequence goes on
/// across reloads instead of starting over.
#[derive(Debug, Default)]
pub struct Counters {
    by_rule: Mutex<BTreeMap<String, Arc<AtomicU64>>>,
}

impl Counters {
    fn get(&self, rule: &str) -> Arc<AtomicU64> {
        match self.by_rule.lock() {
            Ok(mut map) => map.entry(rule.to_string()).or_default().clone(),
            Err(poisoned) => poisoned
                .into_inner()
                .entry(rule.to_string())
                .or_default()
                .clone(),
        }
    }
}

/// Compiles the IR. `resolve` maps a symbolic endpoint to a running pod's address and name.
pub fn compile(
    ir: &RoutingIr,
    seed: u64,
    counters: &Counters,
    stats: &Registry,
    resolve: &dyn Fn(&EndpointIr) -> Option<Endpoint>,
) -> RouteTable {
    let endpoints_of = |service: &str, port: u16| -> (Vec<Endpoint>, bool) {
        let Some(svc) = ir.services.get(service) else {
            return (Vec::new(), false);
        };
        let Some(p) = svc.ports.iter().find(|p| p.port == port) else {
            return (Vec::new(), false);
        };
        let h2c = p.app_protocol.as_deref() == Some("kubernetes.io/h2c");
        (p.endpoints.iter().filter_map(resolve).collect(), h2c)
    };
    let mut rules: BTreeMap<&str, Arc<Rule>> = BTreeMap::new();
    for (id, r) in &ir.rules {
        let backends = r
            .backends
            .iter()
            .enumerate()
            .map(|(i, b)| Backend {
                name: b.name.clone(),
                target: match &b.target {
                    BackendTarget::Service { service, port } => {
                        let (endpoints, h2c) = endpoints_of(service, *port);
                        Target::Endpoints { endpoints, h2c }
                    }
                    BackendTarget::Invalid { reason } => Target::Invalid(reason.clone()),
                },
                filters: b.filters.clone(),
                endpoint_stream: Stream::new(seed, &format!("{id}/backend/{i}")),
            })
            .collect();
        let mirrors = r
            .filters
            .iter()
            .filter_map(|f| match f {
                FilterIr::RequestMirror(m) => match &m.backend {
                    BackendTarget::Service { service, port } => Some((service, *port, m.ppm)),
                    BackendTarget::Invalid { .. } => None,
                },
                _ => None,
            })
            .enumerate()
            .map(|(i, (service, port, ppm))| {
                let (endpoints, h2c) = endpoints_of(service, port);
                MirrorTarget {
                    name: format!("{service}:{port}"),
                    endpoints,
                    h2c,
                    ppm,
                    stream: Stream::new(seed, &format!("{id}/mirror/{i}")),
                }
            })
            .collect();
        rules.insert(
            id,
            Arc::new(Rule {
                id: id.clone(),
                filters: r.filters.clone(),
                weights: r.backends.iter().map(|b| b.weight).collect(),
                backends,
                stream: Stream::new(seed, id),
                counter: counters.get(id),
                timeouts: r.timeouts.clone(),
                retry: r.retry.clone(),
                mirrors,
            }),
        );
    }
    let mut table = RouteTable::default();
    for p in &ir.ports {
        let listeners = p
            .listeners
            .iter()
            .map(|l| {
                let virtual_hosts: Vec<VirtualHost> = l
                    .virtual_hosts
                    .iter()
                    .map(|v| VirtualHost {
                        pattern: v.hostname.clone(),
                        entries: v
                            .routes
                            .iter()
                            .filter_map(|e| {
                                let rule = rules.get(e.rule.as_str())?.clone();
                                let base = SeriesKey {
                                    gateway: p.gateway.clone(),
                                    listener: l.name.clone(),
                                    route: ir
                                        .rules
                                        .get(e.rule.as_str())
                                        .map(|r| r.route.clone())
                                        .unwrap_or_default(),
                                    rule: e.rule.clone(),
                                    ..SeriesKey::default()
                                };
                                Some(Entry {
                                    series: entry_series(&rule, &base, stats),
                                    rule,
                                    matcher: Matcher::compile(&e.matcher)?,
                                })
                            })
                            .collect(),
                    })
                    .collect();
                Listener {
                    name: l.name.clone(),
                    hostname: l.hostname.clone(),
                    hosts: HostIndex::new(virtual_hosts.iter().map(|v| v.pattern.as_str())),
                    virtual_hosts,
                }
            })
            .collect();
        table.ports.insert(
            (p.address.clone(), p.port),
            Arc::new(PortTable {
                gateway: p.gateway.clone(),
                listeners,
                unmatched: stats.series(SeriesKey {
                    gateway: p.gateway.clone(),
                    ..SeriesKey::default()
                }),
            }),
        );
    }
    table
}

fn entry_series(rule: &Rule, base: &SeriesKey, stats: &Registry) -> EntrySeries {
    let backends = rule
        .backends
        .iter()
        .map(|b| {
            let key = SeriesKey {
                backend: b.name.clone(),
                ..base.clone()
            };
            let endpoints = match &b.target {
                Target::Endpoints { endpoints, .. } => endpoints
                    .iter()
                    .map(|e| {
                        stats.series(SeriesKey {
                            pod: e.pod.clone(),
                            ..key.clone()
                        })
                    })
                    .collect(),
                Target::Invalid(_) => Vec::new(),
            };
            (endpoints, stats.series(key))
        })
        .collect();
    EntrySeries {
        rule: stats.series(base.clone()),
        backends,
    }
}
