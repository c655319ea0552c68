//! `/version` and API discovery, aggregated (`/api`, `/apis` as `APIGroupDiscoveryList`,
//! labelled with the exact content type kubectl requires) and legacy (`/api/v1`,
//! `/apis/<g>/<v>` resource lists, for clients that do not ask for aggregated discovery).

use super::resources::{groups, Backing, Resource, RESOURCES};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The content type of aggregated discovery. kubectl reads a body labelled otherwise as
/// legacy discovery and then finds no resources at all.
pub const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// `GET /version`: a 1.32 server. The gcloud kubectl dispatcher picks its kubectl by it.
pub async fn version() -> Response {
    axum::Json(json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.23.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    }))
    .into_response()
}

fn verbs(res: &Resource) -> Vec<&'static str> {
    if res.writable() {
        vec![
            "create", "delete", "get", "list", "patch", "update", "watch",
        ]
    } else {
        vec!["get", "list", "watch"]
    }
}

fn aggregated_resource(res: &Resource, version: &str) -> Value {
    let kind = json!({"group": res.group, "version": version, "kind": res.kind});
    let mut r = json!({
        "resource": res.plural,
        "responseKind": kind,
        "scope": if res.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": res.singular,
        "verbs": verbs(res),
    });
    if !res.short_names.is_empty() {
        r["shortNames"] = json!(res.short_names);
    }
    if !res.categories.is_empty() {
        r["categories"] = json!(res.categories);
    }
    if matches!(res.backing, Backing::Store(_) | Backing::Pods) {
        r["subresources"] =
            json!([{"subresource": "status", "responseKind": kind, "verbs": ["get"]}]);
    }
    r
}

fn aggregated_group(group: &str, versions: &[&str]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| {
            let resources: Vec<Value> = RESOURCES
                .iter()
                .filter(|r| r.group == group && r.versions.contains(v))
                .map(|r| aggregated_resource(r, v))
                .collect();
            json!({"version": v, "resources": resources, "freshness": "Current"})
        })
        .collect();
    json!({"metadata": {"name": group}, "versions": versions})
}

fn wants_aggregated(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("as=APIGroupDiscoveryList"))
}

fn aggregated(items: Vec<Value>) -> Response {
    let body = json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, AGGREGATED)],
        body.to_string(),
    )
        .into_response()
}

/// `GET /api`.
pub async fn core(headers: HeaderMap) -> Response {
    if wants_aggregated(&headers) {
        return aggregated(vec![aggregated_group("", &["v1"])]);
    }
    axum::Json(json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}))
        .into_response()
}

/// `GET /apis`.
pub async fn apis(headers: HeaderMap) -> Response {
    if wants_aggregated(&headers) {
        return aggregated(
            groups()
                .iter()
                .map(|(g, vs)| aggregated_group(g, vs))
                .collect(),
        );
    }
    let items: Vec<Value> = groups()
        .iter()
        .map(|(g, vs)| {
            let versions: Vec<Value> = vs
                .iter()
                .map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
                .collect();
            json!({"name": g, "versions": versions, "preferredVersion": versions[0]})
        })
        .collect();
    axum::Json(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": items})).into_response()
}

/// Legacy `GET /api/v1` or `/apis/<g>/<v>`: the resources of one group version.
pub fn resource_list(group: &str, version: &str) -> Value {
    let resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.versions.contains(&version))
        .map(|r| {
            json!({
                "name": r.plural,
                "singularName": r.singular,
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": verbs(r),
                "shortNames": r.short_names,
                "categories": r.categories,
            })
        })
        .collect();
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_group_lists_v1_first_with_short_names() {
        let (group, versions) = groups()
            .into_iter()
            .find(|(g, _)| *g == "gateway.networking.k8s.io")
            .expect("gateway group");
        let g = aggregated_group(group, &versions);
        assert_eq!(g["versions"][0]["version"], "v1");
        assert_eq!(g["versions"][1]["version"], "v1beta1");
        let v1 = g["versions"][0]["resources"].as_array().expect("resources");
        let gtw = v1
            .iter()
            .find(|r| r["resource"] == "gateways")
            .expect("gateways");
        assert_eq!(gtw["shortNames"], json!(["gtw"]));
        assert_eq!(gtw["scope"], "Namespaced");
        let beta = g["versions"][1]["resources"].as_array().expect("resources");
        assert!(beta.iter().any(
            |r| r["resource"] == "referencegrants" && r["responseKind"]["version"] == "v1beta1"
        ));
    }

    #[test]
    fn every_required_resource_is_discoverable() {
        let all: Vec<String> = std::iter::once(aggregated_group("", &["v1"]))
            .chain(groups().iter().map(|(g, vs)| aggregated_group(g, vs)))
            .flat_map(|g| {
                g["versions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .flat_map(|v| v["resources"].as_array().cloned().unwrap_or_default())
                    .filter_map(|r| r["resource"].as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .collect();
        for want in [
            "namespaces",
            "pods",
            "services",
            "secrets",
            "configmaps",
            "deployments",
            "endpointslices",
            "customresourcedefinitions",
            "gatewayclasses",
            "gateways",
            "httproutes",
            "referencegrants",
        ] {
            assert!(all.iter().any(|r| r == want), "{want} missing");
        }
    }
}
