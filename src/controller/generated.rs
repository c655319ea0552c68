//! What a Gateway controller provisions for each Gateway it serves: a `LoadBalancer` Service
//! whose external IP is the Gateway's address, named `<gateway>-<class>` as Istio names its
//! own. It carries the standard `gateway.networking.k8s.io/gateway-name` label and the
//! Gateway's `spec.infrastructure` labels and annotations (GEP-1867), so that tools which
//! find a Gateway's Service by label, and policies keyed on those labels, see what a
//! cluster would show.

use super::gateway::GatewayInfo;
use crate::model::{Body, Kind};
use crate::store::Store;
use serde::Serialize;
use std::collections::BTreeMap;

/// The label every generated object carries, naming its Gateway.
pub const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";
/// The label naming the Gateway's class.
pub const GATEWAY_CLASS_LABEL: &str = "gateway.networking.k8s.io/gateway-class-name";

/// The Service generated for one Gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GatewayService {
    pub namespace: String,
    pub name: String,
    /// The Gateway's name (same namespace).
    pub gateway: String,
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    pub address: String,
    /// One port per distinct listener port, named after its first listener.
    pub ports: Vec<ServicePort>,
}

/// A port of a generated Service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServicePort {
    pub name: String,
    pub port: u16,
}

/// The Services of the Gateways gwsim serves that have an address. A Service the folder
/// declares under the same name wins: nothing is generated over it.
pub fn services(
    store: &Store,
    gateways: &BTreeMap<crate::model::ObjectKey, GatewayInfo>,
) -> Vec<GatewayService> {
    let mut out = Vec::new();
    for info in gateways.values().filter(|g| g.owned) {
        let (Some(address), Some(object)) = (info.address, store.objects.get(&info.key)) else {
            continue;
        };
        let Body::Gateway(gateway) = &object.body else {
            continue;
        };
        let (namespace, gateway_name) = (&info.key.namespace, &info.key.name);
        let class = &gateway.spec.gateway_class_name;
        let name = format!("{gateway_name}-{class}");
        if store.get(Kind::Service, namespace, &name).is_some() {
            continue;
        }
        let infrastructure = gateway.spec.infrastructure.as_ref();
        // The controller's own labels are applied last: infrastructure cannot override them.
        let mut labels = infrastructure
            .and_then(|i| i.labels.clone())
            .unwrap_or_default();
        labels.insert(GATEWAY_NAME_LABEL.into(), gateway_name.clone());
        labels.insert(GATEWAY_CLASS_LABEL.into(), class.clone());
        let annotations = infrastructure
            .and_then(|i| i.annotations.clone())
            .unwrap_or_default();
        let mut ports: Vec<ServicePort> = Vec::new();
        for l in &info.listeners {
            if !ports.iter().any(|p| p.port == l.port) {
                ports.push(ServicePort {
                    name: l.name.clone(),
                    port: l.port,
                });
            }
        }
        out.push(GatewayService {
            namespace: namespace.clone(),
            name,
            gateway: gateway_name.clone(),
            labels,
            annotations,
            address: address.to_string(),
            ports,
        });
    }
    out
}
