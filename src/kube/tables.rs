//! `meta.k8s.io/v1` Tables: the columns kubectl users know for each kind, computed by the
//! server as the API server and its CRD printer columns do. kubectl prints them verbatim,
//! adding NAMESPACE itself for `-A`.

use super::resources::{Backing, Resource};
use crate::model::Kind;
use serde_json::{json, Value};

/// A column: name, type, priority (1 = only with `-o wide`).
type Column = (&'static str, &'static str, u8);

fn columns(res: &Resource) -> Vec<Column> {
    let age = ("Age", "date", 0);
    let name = ("Name", "string", 0);
    let rest: Vec<Column> = match res.backing {
        Backing::Crds => return vec![name, ("Created At", "date", 0)],
        Backing::Pods => vec![
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            age,
            ("IP", "string", 1),
            ("Node", "string", 1),
        ],
        Backing::Store(kind) => match kind {
            Kind::Namespace => vec![("Status", "string", 0), age],
            Kind::GatewayClass => vec![
                ("Controller", "string", 0),
                ("Accepted", "string", 0),
                age,
                ("Description", "string", 1),
            ],
            Kind::Gateway => vec![
                ("Class", "string", 0),
                ("Address", "string", 0),
                ("Programmed", "string", 0),
                age,
            ],
            Kind::HttpRoute => vec![("Hostnames", "string", 0), age],
            Kind::ReferenceGrant => vec![age],
            Kind::Service => vec![
                ("Type", "string", 0),
                ("Cluster-IP", "string", 0),
                ("External-IP", "string", 0),
                ("Port(s)", "string", 0),
                age,
                ("Selector", "string", 1),
            ],
            Kind::Deployment => vec![
                ("Ready", "string", 0),
                ("Up-to-date", "string", 0),
                ("Available", "string", 0),
                age,
            ],
            Kind::EndpointSlice => vec![
                ("AddressType", "string", 0),
                ("Ports", "string", 0),
                ("Endpoints", "string", 0),
                age,
            ],
            Kind::Secret => vec![("Type", "string", 0), ("Data", "string", 0), age],
            Kind::ConfigMap => vec![("Data", "string", 0), age],
        },
    };
    std::iter::once(name).chain(rest).collect()
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, p| v.get(p))?.as_str()
}

/// The status of the first condition of `kind` in `status.conditions`.
fn condition(v: &Value, kind: &str) -> Value {
    v.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == kind))
        .map(|c| c["status"].clone())
        .unwrap_or(Value::Null)
}

fn count(v: Option<&Value>) -> usize {
    match v {
        Some(Value::Object(m)) => m.len(),
        Some(Value::Array(a)) => a.len(),
        _ => 0,
    }
}

/// A deterministic ClusterIP in 10.96.0.0/16 for Services that name none.
fn cluster_ip(v: &Value) -> String {
    if let Some(ip) = str_at(v, &["spec", "clusterIP"]) {
        return ip.to_string();
    }
    let key = format!(
        "{}/{}",
        str_at(v, &["metadata", "namespace"]).unwrap_or_default(),
        str_at(v, &["metadata", "name"]).unwrap_or_default()
    );
    let h = crate::sim::rng::fnv1a32(key.as_bytes());
    format!("10.96.{}.{}", (h >> 8) & 0xff, (h & 0xfe).max(2))
}

/// kubectl's EXTERNAL-IP: the load balancer's addresses, `<pending>` for a LoadBalancer
/// that has none yet.
fn external_ip(v: &Value) -> String {
    let ips: Vec<&str> = v
        .pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| i["ip"].as_str().or_else(|| i["hostname"].as_str()))
        .collect();
    match (ips.is_empty(), str_at(v, &["spec", "type"])) {
        (false, _) => ips.join(","),
        (true, Some("LoadBalancer")) => "<pending>".into(),
        (true, _) => "<none>".into(),
    }
}

fn cells(res: &Resource, v: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let name = json!(str_at(v, &["metadata", "name"]).unwrap_or_default());
    let created = str_at(v, &["metadata", "creationTimestamp"]).unwrap_or_default();
    let age = json!(age(created, now));
    let rest: Vec<Value> = match res.backing {
        Backing::Crds => return vec![name, json!(created)],
        Backing::Pods => {
            let statuses = v
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let ready = statuses.iter().filter(|c| c["ready"] == true).count();
            let restarts: i64 = statuses
                .iter()
                .filter_map(|c| c["restartCount"].as_i64())
                .sum();
            vec![
                json!(format!("{ready}/{}", statuses.len())),
                v.pointer("/status/phase").cloned().unwrap_or(Value::Null),
                json!(restarts.to_string()),
                age,
                v.pointer("/status/podIP").cloned().unwrap_or(Value::Null),
                v.pointer("/spec/nodeName").cloned().unwrap_or(Value::Null),
            ]
        }
        Backing::Store(kind) => match kind {
            Kind::Namespace => vec![
                v.pointer("/status/phase")
                    .cloned()
                    .unwrap_or(json!("Active")),
                age,
            ],
            Kind::GatewayClass => vec![
                v.pointer("/spec/controllerName")
                    .cloned()
                    .unwrap_or(Value::Null),
                condition(v, "Accepted"),
                age,
                v.pointer("/spec/description")
                    .cloned()
                    .unwrap_or(Value::Null),
            ],
            Kind::Gateway => {
                let addresses: Vec<&str> = v
                    .pointer("/status/addresses")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a["value"].as_str())
                    .collect();
                vec![
                    v.pointer("/spec/gatewayClassName")
                        .cloned()
                        .unwrap_or(Value::Null),
                    if addresses.is_empty() {
                        Value::Null
                    } else {
                        json!(addresses.join(","))
                    },
                    condition(v, "Programmed"),
                    age,
                ]
            }
            Kind::HttpRoute => vec![
                v.pointer("/spec/hostnames")
                    .map(|h| json!(h.to_string()))
                    .unwrap_or(Value::Null),
                age,
            ],
            Kind::ReferenceGrant => vec![age],
            Kind::Service => {
                let ports: Vec<String> = v
                    .pointer("/spec/ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP")))
                    .collect();
                let selector: Vec<String> = v
                    .pointer("/spec/selector")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect();
                vec![
                    json!(str_at(v, &["spec", "type"]).unwrap_or("ClusterIP")),
                    json!(cluster_ip(v)),
                    json!(external_ip(v)),
                    json!(if ports.is_empty() {
                        "<none>".to_string()
                    } else {
                        ports.join(",")
                    }),
                    age,
                    json!(if selector.is_empty() {
                        "<none>".to_string()
                    } else {
                        selector.join(",")
                    }),
                ]
            }
            Kind::Deployment => {
                let n = |p: &str| v.pointer(p).and_then(Value::as_i64).unwrap_or(0);
                vec![
                    json!(format!(
                        "{}/{}",
                        n("/status/readyReplicas"),
                        v.pointer("/spec/replicas")
                            .and_then(Value::as_i64)
                            .unwrap_or(1)
                    )),
                    json!(n("/status/updatedReplicas")),
                    json!(n("/status/availableReplicas")),
                    age,
                ]
            }
            Kind::EndpointSlice => vec![
                v.get("addressType").cloned().unwrap_or(Value::Null),
                json!(v
                    .get("ports")
                    .and_then(Value::as_array)
                    .map(|ps| ps
                        .iter()
                        .map(|p| p["port"].to_string())
                        .collect::<Vec<_>>()
                        .join(","))
                    .unwrap_or_else(|| "<unset>".into())),
                json!(v
                    .get("endpoints")
                    .and_then(Value::as_array)
                    .map(|es| es
                        .iter()
                        .flat_map(|e| e["addresses"].as_array().cloned().unwrap_or_default())
                        .filter_map(|a| a.as_str().map(str::to_string))
                        .collect::<Vec<_>>()
                        .join(","))
                    .unwrap_or_default()),
                age,
            ],
            Kind::Secret => vec![
                json!(v.get("type").and_then(Value::as_str).unwrap_or("Opaque")),
                json!(count(v.get("data")) + count(v.get("stringData"))),
                age,
            ],
            Kind::ConfigMap => vec![
                json!(count(v.get("data")) + count(v.get("binaryData"))),
                age,
            ],
        },
    };
    std::iter::once(name).chain(rest).collect()
}

/// The row's `object`: the item's metadata, as `PartialObjectMetadata`.
fn row_object(v: &Value) -> Value {
    let mut meta = v.get("metadata").cloned().unwrap_or_else(|| json!({}));
    if let Some(m) = meta.as_object_mut() {
        m.remove("managedFields");
    }
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta})
}

/// The Table of `items` (full objects) at list resourceVersion `rv`.
pub fn table(res: &Resource, items: &[&Value], rv: u64, now: jiff::Timestamp) -> Value {
    let cols: Vec<Value> = columns(res)
        .into_iter()
        .map(|(name, kind, priority)| {
            let mut c = json!({"name": name, "type": kind, "format": "", "description": "", "priority": priority});
            if name == "Name" {
                c["format"] = json!("name");
            }
            c
        })
        .collect();
    let rows: Vec<Value> = items
        .iter()
        .map(|v| json!({"cells": cells(res, v, now), "object": row_object(v)}))
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv.to_string()},
        "columnDefinitions": cols,
        "rows": rows,
    })
}

/// Age as kubectl shows it (`duration.HumanDuration`): `45s`, `3m12s`, `15m`, `5h3m`, `2d`.
pub fn age(created: &str, now: jiff::Timestamp) -> String {
    let Ok(t) = created.parse::<jiff::Timestamp>() else {
        return "<unknown>".into();
    };
    human_duration(now.as_second() - t.as_second())
}

/// Kubernetes' `HumanDuration` on whole seconds.
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        return match secs % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return match (hours / 24) % 365 {
            0 => format!("{}y", hours / 24 / 365),
            d => format!("{}y{d}d", hours / 24 / 365),
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::resources::{find, for_kind};

    #[test]
    fn ages_read_like_kubectl() {
        let cases = [
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (190, "3m10s"),
            (600, "10m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 120, "3h2m"),
            (30 * 3600, "30h"),
            (50 * 3600, "2d2h"),
            (400 * 86400, "400d"),
            (3 * 365 * 86400, "3y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(secs), want, "{secs}");
        }
    }

    #[test]
    fn gateway_row_has_class_address_programmed_age() {
        let now: jiff::Timestamp = "2025-01-01T00:01:00Z".parse().expect("time");
        let gw = json!({
            "metadata": {"name": "g", "namespace": "n", "creationTimestamp": "2025-01-01T00:00:00Z"},
            "spec": {"gatewayClassName": "istio"},
            "status": {"addresses": [{"value": "127.0.1.5"}],
                       "conditions": [{"type": "Accepted", "status": "True"}, {"type": "Programmed", "status": "True"}]}
        });
        let t = table(for_kind(Kind::Gateway), &[&gw], 7, now);
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .expect("columns")
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, ["Name", "Class", "Address", "Programmed", "Age"]);
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["g", "istio", "127.0.1.5", "True", "60s"])
        );
        assert_eq!(t["rows"][0]["object"]["metadata"]["namespace"], "n");
        assert_eq!(t["metadata"]["resourceVersion"], "7");
    }

    #[test]
    fn httproute_hostnames_print_as_a_json_list_and_crds_show_created_at() {
        let now: jiff::Timestamp = "2025-01-01T00:00:05Z".parse().expect("time");
        let r = json!({"metadata": {"name": "r", "creationTimestamp": "2025-01-01T00:00:00Z"},
                       "spec": {"hostnames": ["a.example.com"]}});
        let t = table(for_kind(Kind::HttpRoute), &[&r], 1, now);
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["r", "[\"a.example.com\"]", "5s"])
        );
        let crd = json!({"metadata": {"name": "gateways.gateway.networking.k8s.io",
                                      "creationTimestamp": "2025-01-01T00:00:00Z"}});
        let res = find("apiextensions.k8s.io", "v1", "customresourcedefinitions").expect("crds");
        let t = table(res, &[&crd], 1, now);
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["gateways.gateway.networking.k8s.io", "2025-01-01T00:00:00Z"])
        );
    }
}
