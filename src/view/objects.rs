//! The object panes of the view model: Gateways with their listeners and where they are
//! bound, routes with their parents, Services with their pods, and the details overlay.

use super::{
    ConditionView, Details, GatewayRow, Health, ListenerRow, ParentRow, PodRow, RouteRow,
    ServiceRow,
};
use crate::model::{Body, Kind, Object, ObjectKey};
use crate::runtime::sim::State;
use crate::status::{Condition, Conditions, ObjectStatus};

/// A condition as the view shows it, stamped with its last transition.
pub(super) fn condition(
    state: &State,
    key: &ObjectKey,
    place: &str,
    c: &Condition,
) -> ConditionView {
    ConditionView {
        kind: c.kind.as_str().to_string(),
        status: c.status.as_str().to_string(),
        reason: c.reason.as_str().to_string(),
        message: c.message.clone(),
        health: Health::of(c),
        last_transition_time: state
            .transitions
            .time(key, place, c.kind.as_str())
            .map(str::to_string),
    }
}

fn conditions(state: &State, key: &ObjectKey, place: &str, cs: &Conditions) -> Vec<ConditionView> {
    cs.iter().map(|c| condition(state, key, place, c)).collect()
}

/// An object's health: its conditions', made at least Unknown when it is a stale copy.
fn object_health(object: &Object, conditions: &[ConditionView]) -> Health {
    let h = Health::worst(conditions.iter().map(|c| c.health));
    if object.stale {
        h.max(Health::Unknown)
    } else {
        h
    }
}

/// Every Gateway, in key order.
pub(super) fn gateways(state: &State) -> Vec<GatewayRow> {
    state
        .store
        .of_kind(Kind::Gateway)
        .filter_map(|o| gateway(state, o))
        .collect()
}

fn gateway(state: &State, o: &Object) -> Option<GatewayRow> {
    let Body::Gateway(g) = &o.body else {
        return None;
    };
    let name = o.key.ref_name();
    let status = match state.translation.status.get(&o.key) {
        Some(ObjectStatus::Gateway(s)) => Some(s),
        _ => None,
    };
    let conds = status
        .map(|s| conditions(state, &o.key, "", &s.conditions))
        .unwrap_or_default();
    let addresses: Vec<String> = status
        .map(|s| s.addresses.iter().map(|a| a.value.clone()).collect())
        .unwrap_or_default();
    let listeners = g
        .spec
        .listeners
        .iter()
        .map(|l| {
            let ls = status.and_then(|s| s.listeners.iter().find(|x| x.name == l.name));
            let place = format!("listener {}", l.name);
            let lconds = ls
                .map(|s| conditions(state, &o.key, &place, &s.conditions))
                .unwrap_or_default();
            let port = u16::try_from(l.port).unwrap_or(0);
            let socket = state
                .listeners
                .iter()
                .find(|b| b.gateway == name && b.port == port);
            let address = socket
                .map(|b| b.address.clone())
                .or_else(|| addresses.first().cloned())
                .unwrap_or_else(|| "-".to_string());
            ListenerRow {
                name: l.name.clone(),
                protocol: l.protocol.clone(),
                hostname: l.hostname.clone().filter(|h| !h.is_empty()),
                declared: format!("{address}:{}", l.port),
                bound: socket.and_then(|b| b.bound).map(|a| a.to_string()),
                note: socket.and_then(|b| b.failure.clone().or_else(|| b.note.clone())),
                attached_routes: ls.map(|s| s.attached_routes).unwrap_or(0),
                health: Health::worst(lconds.iter().map(|c| c.health)),
                conditions: lconds,
            }
        })
        .collect::<Vec<_>>();
    let health = object_health(
        o,
        &conds
            .iter()
            .cloned()
            .chain(listeners.iter().flat_map(|l| l.conditions.iter().cloned()))
            .collect::<Vec<_>>(),
    );
    Some(GatewayRow {
        name,
        class: g.spec.gateway_class_name.clone(),
        origin: o.origin.to_string(),
        stale: o.stale,
        health,
        addresses,
        conditions: conds,
        listeners,
    })
}

/// Every HTTPRoute, in key order.
pub(super) fn routes(state: &State) -> Vec<RouteRow> {
    state
        .store
        .of_kind(Kind::HttpRoute)
        .filter_map(|o| {
            let Body::HttpRoute(r) = &o.body else {
                return None;
            };
            let parents: Vec<ParentRow> = match state.translation.status.get(&o.key) {
                Some(ObjectStatus::HttpRoute(s)) => s
                    .parents
                    .iter()
                    .map(|p| {
                        let r = &p.parent_ref;
                        let gateway = format!(
                            "{}/{}{}",
                            r.namespace.as_deref().unwrap_or(&o.key.namespace),
                            r.name,
                            r.section_name
                                .as_deref()
                                .map(|s| format!("/{s}"))
                                .unwrap_or_default()
                        );
                        let place = match &r.namespace {
                            Some(ns) => format!("parent {ns}/{}", r.name),
                            None => format!("parent {}", r.name),
                        };
                        let conds = conditions(state, &o.key, &place, &p.conditions);
                        ParentRow {
                            gateway,
                            health: Health::worst(conds.iter().map(|c| c.health)),
                            conditions: conds,
                        }
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let all: Vec<ConditionView> = parents
                .iter()
                .flat_map(|p| p.conditions.iter().cloned())
                .collect();
            Some(RouteRow {
                name: o.key.ref_name(),
                hostnames: r.spec.hostnames.clone().unwrap_or_default(),
                origin: o.origin.to_string(),
                stale: o.stale,
                health: object_health(o, &all),
                parents,
            })
        })
        .collect()
}

/// Every Service with the running pods its selector picks.
pub(super) fn services(state: &State) -> Vec<ServiceRow> {
    state
        .store
        .of_kind(Kind::Service)
        .filter_map(|o| {
            let Body::Service(svc) = &o.body else {
                return None;
            };
            let spec = svc.spec.clone().unwrap_or_default();
            let selector = spec.selector.clone().unwrap_or_default();
            let ports = spec
                .ports
                .iter()
                .flatten()
                .filter_map(|p| u16::try_from(p.port).ok())
                .collect();
            // Same rule as the controller's endpoints: every selector label on the pod
            // template; a Service without selector has no pods (its endpoints are addresses).
            let deployments: Vec<(&String, usize)> = state
                .translation
                .pods
                .deployments
                .iter()
                .filter(|(_, d)| {
                    !selector.is_empty()
                        && d.namespace == o.key.namespace
                        && selector.iter().all(|(k, v)| d.labels.get(k) == Some(v))
                })
                .map(|(key, d)| (key, d.replicas))
                .collect();
            let pods: Vec<PodRow> = state
                .pods
                .iter()
                .filter(|p| deployments.iter().any(|(d, _)| **d == p.deployment))
                .map(|p| PodRow {
                    name: p.name.clone(),
                    deployment: p.deployment.clone(),
                    addrs: p.addrs.values().map(|a| a.to_string()).collect(),
                })
                .collect();
            let wanted = deployments.iter().map(|(_, r)| r).sum();
            let health = if selector.is_empty() {
                Health::Healthy
            } else if pods.is_empty() {
                Health::Unhealthy
            } else if pods.len() < wanted {
                Health::Unknown
            } else {
                Health::Healthy
            };
            Some(ServiceRow {
                name: o.key.ref_name(),
                ports,
                pods,
                wanted,
                health,
            })
        })
        .collect()
}

/// The route `namespace/name` as `kubectl get -o yaml` would show it, with its status.
pub(super) fn details(state: &State, route: &str) -> Option<Details> {
    let (ns, name) = route.split_once('/')?;
    let object = state.store.get(Kind::HttpRoute, ns, name)?;
    let mut value = object.body.to_json();
    if let (Some(map), Some(status)) = (
        value.as_object_mut(),
        state.translation.status.get(&object.key),
    ) {
        map.insert(
            "status".into(),
            state.transitions.stamped(&object.key, status),
        );
    }
    Some(Details {
        title: object.key.to_string(),
        origin: object.origin.to_string(),
        yaml: crate::yaml::to_string(&value),
    })
}
