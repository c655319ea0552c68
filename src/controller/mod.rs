//! The controller: a pure function from the store to the status of every object and the
//! routing table. No I/O, no clock, no randomness: the golden tests pin it.
//!
//! The phases run in a fixed order: classes, gateways (listeners, addresses), routes
//! (attachment, rules, backends), attachment counts, routing table, pod plan.

mod attach;
mod backend;
mod certificates;
mod class;
mod client_ca;
mod filters;
mod gateway;
pub mod generated;
pub mod hostname;
mod overlaps;
mod pods;
mod precedence;
mod refgrant;
mod route;

pub use class::SUPPORTED_FEATURES;
pub use filters::parse_duration_ms;
pub use pods::MAX_REPLICAS;
pub use route::rule_id;

use crate::ir::{PodPlan, RoutingIr};
use crate::model::{Body, Kind, ObjectKey};
use crate::source::Diagnostic;
use crate::status::ObjectStatus;
use crate::store::{Store, BUILTIN_CLASSES};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

mod routing;

/// Where Gateway addresses come from when a Gateway asks for none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressPool {
    /// The first address of the pool; Gateways get `base + 1 ..= base + size`.
    pub base: Ipv4Addr,
    pub size: u32,
}

impl Default for AddressPool {
    fn default() -> Self {
        AddressPool {
            base: Ipv4Addr::new(127, 0, 1, 0),
            size: 254,
        }
    }
}

impl AddressPool {
    /// A stable address for `name`: its hash picks a slot, so a Gateway keeps its address
    /// when others come and go; a taken slot moves to the next free one.
    pub fn assign(&self, name: &str, taken: &mut BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
        if self.size == 0 {
            return None;
        }
        let start = crate::sim::rng::fnv1a32(name.as_bytes()) % self.size;
        let base = u32::from(self.base);
        for i in 0..self.size {
            let ip = Ipv4Addr::from(base.wrapping_add(1 + (start + i) % self.size));
            if taken.insert(ip) {
                return Some(ip);
            }
        }
        None
    }
}

/// What the controller needs besides the store.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Config {
    pub pool: AddressPool,
    /// Extra controller names gwsim answers for, besides the well-known ones.
    pub extra_controllers: Vec<String>,
}

/// Controller names of well-known implementations whose classes gwsim owns, so manifests
/// written for them work unchanged.
pub const KNOWN_CONTROLLERS: &[&str] = &[
    "gateway.envoyproxy.io/gatewayclass-controller",
    "gateway.nginx.org/nginx-gateway-controller",
    "io.cilium/gateway-controller",
    "konghq.com/kic-gateway-controller",
    "projectcontour.io/gateway-controller",
    "traefik.io/gateway-controller",
];

impl Config {
    /// Whether gwsim implements `controller_name`.
    pub fn owns(&self, controller_name: &str) -> bool {
        BUILTIN_CLASSES.iter().any(|(_, c)| *c == controller_name)
            || KNOWN_CONTROLLERS.contains(&controller_name)
            || self.extra_controllers.iter().any(|c| c == controller_name)
    }
}

/// Everything the controller computes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Translation {
    pub status: BTreeMap<ObjectKey, ObjectStatus>,
    pub routing: RoutingIr,
    pub pods: PodPlan,
    /// The Services a controller would create for the Gateways (see `generated`).
    pub generated: Vec<generated::GatewayService>,
    /// Problems found while reconciling (on top of the store's).
    pub diagnostics: Vec<Diagnostic>,
}

/// Computes status and routing for the whole store.
pub fn reconcile(store: &Store, config: &Config) -> Translation {
    let mut out = Translation::default();

    let mut classes = BTreeMap::new();
    for o in store.of_kind(Kind::GatewayClass) {
        let (info, status) = class::reconcile(o, store, config);
        if let Some(s) = status {
            out.status
                .insert(o.key.clone(), ObjectStatus::GatewayClass(s));
        }
        classes.insert(o.key.name.clone(), info);
    }

    // Requested addresses are reserved first so the pool never hands them to another Gateway;
    // the oldest Gateway gets first pick when two ask for the same slot.
    let mut taken: BTreeSet<Ipv4Addr> = BTreeSet::new();
    let mut gateway_objects: Vec<_> = store.of_kind(Kind::Gateway).collect();
    gateway_objects.sort_by_key(|o| {
        (
            o.meta().creation_timestamp.as_ref().map(|t| t.0),
            o.key.clone(),
        )
    });
    for o in &gateway_objects {
        if let Body::Gateway(g) = &o.body {
            for a in g.spec.addresses.iter().flatten() {
                if let Some(ip) = a.value.as_deref().and_then(|v| v.parse::<Ipv4Addr>().ok()) {
                    taken.insert(ip);
                }
            }
        }
    }
    let mut gateways = BTreeMap::new();
    for o in gateway_objects {
        let info = gateway::reconcile(o, &classes, store, config, &mut taken);
        gateways.insert(o.key.clone(), info);
    }

    let mut routes = Vec::new();
    for o in store.of_kind(Kind::HttpRoute) {
        let result = route::reconcile(o, &gateways, store);
        routes.push((o, result));
    }

    // attachedRoutes counts attachment (parentRefs and allowedRoutes, and a hostname in
    // common), not the route's own validity: a route attached with Accepted=False counts too
    // (ListenerStatus.attachedRoutes).
    for (_, result) in &routes {
        for a in &result.attachments {
            if let Some(g) = gateways.get_mut(&a.gateway) {
                for (li, _) in &a.listeners {
                    if let Some(l) = g.listeners.get_mut(*li) {
                        l.attached_routes += 1;
                    }
                }
            }
        }
    }
    for g in gateways.values() {
        out.status
            .insert(g.key.clone(), ObjectStatus::Gateway(g.status()));
    }
    out.generated = generated::services(store, &gateways);

    out.pods = pods::plan(store, &mut out.diagnostics);
    routing::build(&gateways, &routes, &mut out.routing);
    for (o, result) in routes {
        for rule in &result.rules {
            out.routing.rules.insert(rule.id.clone(), rule.ir.clone());
        }
        out.diagnostics.extend(result.diagnostics);
        out.status
            .insert(o.key.clone(), ObjectStatus::HttpRoute(result.status));
    }
    // Only rules a served listener can reach are part of the table; services are those they use.
    let reachable: BTreeSet<String> = out
        .routing
        .ports
        .iter()
        .flat_map(|p| &p.listeners)
        .flat_map(|l| &l.virtual_hosts)
        .flat_map(|v| &v.routes)
        .map(|e| e.rule.clone())
        .collect();
    out.routing.rules.retain(|id, _| reachable.contains(id));
    let mut services = BTreeSet::new();
    for rule in out.routing.rules.values() {
        for b in &rule.backends {
            if let crate::ir::BackendTarget::Service { service, .. } = &b.target {
                services.insert(service.clone());
            }
        }
        for f in rule
            .filters
            .iter()
            .chain(rule.backends.iter().flat_map(|b| &b.filters))
        {
            if let crate::ir::FilterIr::RequestMirror(m) = f {
                if let crate::ir::BackendTarget::Service { service, .. } = &m.backend {
                    services.insert(service.clone());
                }
            }
        }
    }
    for s in services {
        let Some((ns, name)) = s.split_once('/') else {
            continue;
        };
        if let Some(o) = store.get(Kind::Service, ns, name) {
            out.routing
                .services
                .insert(s.clone(), backend::service_ir(o, &out.pods, store));
        }
    }
    out
}
