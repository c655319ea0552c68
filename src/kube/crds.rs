//! The CustomResourceDefinitions of the Gateway API kinds gwsim implements, pre-seeded so
//! the usual "are the CRDs installed?" check (`kubectl get crd gateways.gateway.networking.k8s.io`)
//! passes. Minimal but valid: names, scope, versions with served/storage, printer columns,
//! and the Established condition.

use super::resources::{Resource, RESOURCES};
use serde_json::{json, Value};

/// The Gateway API release whose CRDs these stand for.
pub const BUNDLE_VERSION: &str = "v1.5.0";

fn printer_columns(res: &Resource) -> Value {
    let age = json!({"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"});
    match res.kind {
        "GatewayClass" => json!([
            {"jsonPath": ".spec.controllerName", "name": "Controller", "type": "string"},
            {"jsonPath": ".status.conditions[?(@.type==\"Accepted\")].status", "name": "Accepted", "type": "string"},
            age,
            {"jsonPath": ".spec.description", "name": "Description", "priority": 1, "type": "string"},
        ]),
        "Gateway" => json!([
            {"jsonPath": ".spec.gatewayClassName", "name": "Class", "type": "string"},
            {"jsonPath": ".status.addresses[*].value", "name": "Address", "type": "string"},
            {"jsonPath": ".status.conditions[?(@.type==\"Programmed\")].status", "name": "Programmed", "type": "string"},
            age,
        ]),
        "HTTPRoute" => json!([
            {"jsonPath": ".spec.hostnames", "name": "Hostnames", "type": "string"},
            age,
        ]),
        _ => json!([age]),
    }
}

/// One CRD object, created at `created` (RFC 3339).
fn crd(res: &Resource, created: &str) -> Value {
    let name = res.qualified();
    let versions: Vec<Value> = res
        .versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            json!({
                "name": v,
                "served": true,
                "storage": i == 0,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                "subresources": {"status": {}},
                "additionalPrinterColumns": printer_columns(res),
            })
        })
        .collect();
    let names = json!({
        "plural": res.plural,
        "singular": res.singular,
        "kind": res.kind,
        "listKind": format!("{}List", res.kind),
        "shortNames": res.short_names,
        "categories": res.categories,
    });
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": name,
            "creationTimestamp": created,
            "generation": 1,
            "annotations": {
                "gateway.networking.k8s.io/bundle-version": BUNDLE_VERSION,
                "gateway.networking.k8s.io/channel": "standard",
            },
        },
        "spec": {
            "group": res.group,
            "names": names,
            "scope": if res.namespaced { "Namespaced" } else { "Cluster" },
            "versions": versions,
            "conversion": {"strategy": "None"},
        },
        "status": {
            "acceptedNames": names,
            "storedVersions": [res.versions[0]],
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                 "message": "no conflicts found", "lastTransitionTime": created},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                 "message": "the initial names have been accepted", "lastTransitionTime": created},
            ],
        },
    })
}

/// Every CRD gwsim serves, by name.
pub fn all(created: &str) -> Vec<Value> {
    RESOURCES
        .iter()
        .filter(|r| r.group == crate::model::GATEWAY_GROUP)
        .map(|r| crd(r, created))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn gateway_crd_is_named_and_established() {
        let crds = super::all("2025-01-01T00:00:00Z");
        let gw = crds
            .iter()
            .find(|c| c["metadata"]["name"] == "gateways.gateway.networking.k8s.io")
            .expect("gateway crd");
        assert_eq!(gw["spec"]["names"]["shortNames"][0], "gtw");
        assert_eq!(gw["spec"]["versions"][0]["storage"], true);
        assert_eq!(gw["spec"]["versions"][1]["name"], "v1beta1");
        assert_eq!(gw["status"]["conditions"][1]["type"], "Established");
        assert_eq!(crds.len(), 4);
    }
}
