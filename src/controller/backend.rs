//! backendRefs: Services in the same namespace, or across namespaces with a ReferenceGrant;
//! and the Services' endpoints (fake pods by label selector, or EndpointSlices).

use super::refgrant::{self, From, To};
use crate::ir::{BackendTarget, EndpointIr, PodPlan, ServiceIr, ServicePortIr};
use crate::model::{Body, Kind, Object, GATEWAY_GROUP};
use crate::status::Reason;
use crate::store::Store;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// A backend reference, whichever filter or rule it came from.
pub struct BackendRef<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    pub port: Option<i32>,
}

/// Resolves a reference from `route` to a Service port. An error carries the
/// `ResolvedRefs` reason and message; the target is then `Invalid` (its share answers 500).
pub fn resolve(
    route: &Object,
    r: &BackendRef<'_>,
    store: &Store,
) -> (String, BackendTarget, Option<(Reason, String)>) {
    let ns = r.namespace.unwrap_or(&route.key.namespace).to_string();
    let display = format!(
        "{ns}/{}:{}",
        r.name,
        r.port.map(|p| p.to_string()).unwrap_or_else(|| "?".into())
    );
    let invalid = |reason: Reason, msg: String| {
        (
            display.clone(),
            BackendTarget::Invalid {
                reason: reason.as_str().to_string(),
            },
            Some((reason, msg)),
        )
    };
    if !(r.group.is_empty() && r.kind == "Service") {
        let group = if r.group.is_empty() {
            "core".to_string()
        } else {
            r.group.to_string()
        };
        return invalid(
            Reason::InvalidKind,
            format!(
                "backendRef kind {group}/{} is not supported (use a Service)",
                r.kind
            ),
        );
    }
    let from = From {
        group: GATEWAY_GROUP,
        kind: "HTTPRoute",
        namespace: &route.key.namespace,
    };
    let to = To {
        group: "",
        kind: "Service",
        namespace: &ns,
        name: r.name,
    };
    if !refgrant::permits(store, &from, &to) {
        return invalid(
            Reason::RefNotPermitted,
            format!(
                "Service {ns}/{} is in another namespace and no ReferenceGrant allows it",
                r.name
            ),
        );
    }
    let Some(service) = store.get(Kind::Service, &ns, r.name) else {
        return invalid(
            Reason::BackendNotFound,
            format!("Service {ns}/{} not found", r.name),
        );
    };
    let Some(port) = r.port else {
        return invalid(
            Reason::BackendNotFound,
            format!("backendRef to Service {ns}/{} needs a port", r.name),
        );
    };
    let Body::Service(svc) = &service.body else {
        return invalid(
            Reason::BackendNotFound,
            format!("Service {ns}/{} not found", r.name),
        );
    };
    let has_port = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .is_some_and(|ports| ports.iter().any(|p| p.port == port));
    if !has_port {
        return invalid(
            Reason::BackendNotFound,
            format!("Service {ns}/{} has no port {port}", r.name),
        );
    }
    (
        display,
        BackendTarget::Service {
            service: format!("{ns}/{}", r.name),
            port: u16::try_from(port).unwrap_or_default(),
        },
        None,
    )
}

/// The endpoints of a Service: the fake pods its selector picks, or, for a Service without
/// selector, the addresses of its EndpointSlices.
pub fn service_ir(service: &Object, pods: &PodPlan, store: &Store) -> ServiceIr {
    let Body::Service(svc) = &service.body else {
        return ServiceIr::default();
    };
    let spec = svc.spec.clone().unwrap_or_default();
    let selector = spec.selector.clone().unwrap_or_default();
    let ns = &service.key.namespace;
    let mut ir = ServiceIr::default();
    for p in spec.ports.iter().flatten() {
        let mut endpoints = Vec::new();
        if selector.is_empty() {
            endpoints.extend(slice_endpoints(
                store,
                ns,
                &service.key.name,
                p.name.as_deref(),
            ));
        } else {
            for d in pods.deployments.values().filter(|d| &d.namespace == ns) {
                if !selector.iter().all(|(k, v)| d.labels.get(k) == Some(v)) {
                    continue;
                }
                let target = match &p.target_port {
                    None => Some(p.port),
                    Some(IntOrString::Int(n)) => Some(*n),
                    Some(IntOrString::String(name)) => d
                        .container_ports
                        .iter()
                        .find(|c| c.name.as_deref() == Some(name.as_str()))
                        .map(|c| i32::from(c.port)),
                };
                let Some(container_port) = target.and_then(|t| u16::try_from(t).ok()) else {
                    continue;
                };
                for replica in 0..d.replicas {
                    endpoints.push(EndpointIr::Pod {
                        deployment: format!("{}/{}", d.namespace, d.name),
                        replica,
                        container_port,
                    });
                }
            }
        }
        endpoints.sort();
        ir.ports.push(ServicePortIr {
            port: u16::try_from(p.port).unwrap_or_default(),
            name: p.name.clone(),
            app_protocol: p.app_protocol.clone(),
            endpoints,
        });
    }
    ir
}

fn slice_endpoints(
    store: &Store,
    ns: &str,
    service: &str,
    port_name: Option<&str>,
) -> Vec<EndpointIr> {
    let mut out = Vec::new();
    for o in store
        .of_kind(Kind::EndpointSlice)
        .filter(|o| o.key.namespace == ns)
    {
        let Body::EndpointSlice(slice) = &o.body else {
            continue;
        };
        let owned = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("kubernetes.io/service-name"))
            .is_some_and(|s| s == service);
        if !owned {
            continue;
        }
        let port = slice
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref().unwrap_or_default() == port_name.unwrap_or_default());
        let Some(port) = port
            .and_then(|p| p.port)
            .and_then(|p| u16::try_from(p).ok())
        else {
            continue;
        };
        for e in &slice.endpoints {
            let ready = e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
            if !ready {
                continue;
            }
            let pod = e
                .target_ref
                .as_ref()
                .filter(|t| t.kind.as_deref() == Some("Pod"))
                .and_then(|t| {
                    let name = t.name.as_deref()?;
                    Some(format!("{}/{name}", t.namespace.as_deref().unwrap_or(ns)))
                });
            for ip in &e.addresses {
                out.push(EndpointIr::Address {
                    ip: ip.clone(),
                    port,
                    pod: pod.clone(),
                });
            }
        }
    }
    out
}
