//! Route attachment: which listeners each parentRef selects, whether they allow the route,
//! and the reason when none does.

use super::gateway::{GatewayInfo, ListenerInfo};
use super::hostname;
use crate::model::{gw, Body, Kind, Object, ObjectKey, GATEWAY_GROUP};
use crate::status::{ParentRefOut, Reason};
use crate::store::Store;
use std::collections::BTreeMap;

/// The outcome of one parentRef.
#[derive(Clone, Debug)]
pub struct Attachment {
    pub parent: ParentRefOut,
    pub gateway: ObjectKey,
    pub controller_name: String,
    /// Indices of the gateway's listeners the route attached to, with the hostnames it
    /// serves on each.
    pub listeners: Vec<(usize, Vec<String>)>,
    /// Why it did not attach, when `listeners` is empty.
    pub refusal: Option<(Reason, String)>,
}

/// Resolves a route's parentRefs. Parents gwsim does not own produce no attachment.
pub fn resolve(
    route: &Object,
    spec: &gw::HttpRouteSpec,
    gateways: &BTreeMap<ObjectKey, GatewayInfo>,
    store: &Store,
) -> Vec<Attachment> {
    let hostnames = spec.hostnames.clone().unwrap_or_default();
    let mut out = Vec::new();
    for p in spec.parent_refs.iter().flatten() {
        let group = p.group.clone().unwrap_or_else(|| GATEWAY_GROUP.into());
        let kind = p.kind.clone().unwrap_or_else(|| "Gateway".into());
        let namespace = p
            .namespace
            .clone()
            .unwrap_or_else(|| route.key.namespace.clone());
        if group != GATEWAY_GROUP || kind != "Gateway" {
            continue;
        }
        let key = ObjectKey::new(Kind::Gateway, namespace.clone(), p.name.clone());
        let Some(gateway) = gateways.get(&key) else {
            continue;
        };
        if !gateway.owned {
            continue;
        }
        let parent = ParentRefOut {
            group,
            kind,
            name: p.name.clone(),
            namespace: Some(namespace),
            port: p.port,
            section_name: p.section_name.clone(),
        };
        let mut attachment = Attachment {
            parent,
            gateway: key,
            controller_name: gateway.controller_name.clone(),
            listeners: Vec::new(),
            refusal: None,
        };
        // A Gateway that is not accepted takes no route; the listener checks still run
        // first so the route says why it would not attach anyway (NotAllowedByListeners).
        let not_accepted = || {
            Some((
                Reason::NoMatchingParent,
                "the parent Gateway is not accepted".to_string(),
            ))
        };
        if !gateway.accepts_routes() && gateway.listeners.is_empty() {
            attachment.refusal = not_accepted();
            out.push(attachment);
            continue;
        }
        let selected: Vec<(usize, &ListenerInfo)> = gateway
            .listeners
            .iter()
            .enumerate()
            .filter(|(_, l)| p.section_name.as_deref().is_none_or(|s| s == l.name))
            .filter(|(_, l)| p.port.is_none_or(|port| i32::from(l.port) == port))
            .collect();
        if selected.is_empty() {
            let what = match (&p.section_name, p.port) {
                (Some(s), Some(port)) => format!("no listener named {s} on port {port}"),
                (Some(s), None) => format!("no listener named {s}"),
                (None, Some(port)) => format!("no listener on port {port}"),
                (None, None) => "the Gateway has no listeners".into(),
            };
            attachment.refusal = Some((Reason::NoMatchingParent, what));
            out.push(attachment);
            continue;
        }
        let kind_supported = selected.iter().any(|(_, l)| l.supports_http_route());
        let allowed: Vec<(usize, &ListenerInfo)> = selected
            .into_iter()
            .filter(|(_, l)| {
                l.supports_http_route()
                    && namespace_allowed(l, &gateway.key.namespace, &route.key.namespace, store)
            })
            .collect();
        if allowed.is_empty() {
            let why = if kind_supported {
                format!(
                    "no selected listener allows HTTPRoutes from namespace {}",
                    route.key.namespace
                )
            } else {
                "no selected listener allows the HTTPRoute kind".to_string()
            };
            attachment.refusal = Some((Reason::NotAllowedByListeners, why));
            out.push(attachment);
            continue;
        }
        if !gateway.accepts_routes() {
            attachment.refusal = not_accepted();
            out.push(attachment);
            continue;
        }
        for (i, l) in allowed {
            let served = hostname::intersect(l.hostname.as_deref(), &hostnames);
            if !served.is_empty() {
                attachment.listeners.push((i, served));
            }
        }
        if attachment.listeners.is_empty() {
            attachment.refusal = Some((
                Reason::NoMatchingListenerHostname,
                "no hostname of the route matches a hostname of the selected listeners".into(),
            ));
        }
        out.push(attachment);
    }
    out
}

/// `allowedRoutes.namespaces` (defaulted to `from: Same` at admission).
fn namespace_allowed(l: &ListenerInfo, gateway_ns: &str, route_ns: &str, store: &Store) -> bool {
    use gw::GatewayListenersAllowedRoutesNamespacesFrom as From;
    let from = l
        .allowed
        .as_ref()
        .and_then(|a| a.from.clone())
        .unwrap_or(From::Same);
    match from {
        From::All => true,
        From::Same => gateway_ns == route_ns,
        From::Selector => {
            let Some(selector) = l.allowed.as_ref().and_then(|a| a.selector.as_ref()) else {
                return false;
            };
            let labels = store
                .get(Kind::Namespace, "", route_ns)
                .and_then(|o| match &o.body {
                    Body::Namespace(ns) => ns.metadata.labels.clone(),
                    _ => None,
                })
                .unwrap_or_default();
            selector_matches(selector, &labels)
        }
    }
}

/// A Kubernetes label selector against a label set.
fn selector_matches(
    selector: &gw::GatewayListenersAllowedRoutesNamespacesSelector,
    labels: &BTreeMap<String, String>,
) -> bool {
    let labels_ok = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let exprs_ok = selector.match_expressions.iter().flatten().all(|e| {
        let values = e.values.clone().unwrap_or_default();
        let value = labels.get(&e.key);
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}
