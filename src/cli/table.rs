//! `gwsim get`'s tables: the columns the API server (for built-in kinds) or the Gateway API
//! CRDs' `additionalPrinterColumns` give each kind, kubectl's spacing (columns padded to the
//! widest cell plus 3 spaces) and kubectl's ages (`45s`, `5m`, `2d3h`).

use crate::admin::resources::Resource;
use crate::model::Kind;
use serde_json::Value;

/// Column headers and one row of cells per object.
pub fn rows(
    resource: Resource,
    items: &[Value],
    pods: &[Value],
    wide: bool,
    all_namespaces: bool,
    now: jiff::Timestamp,
) -> Vec<Vec<String>> {
    let mut header: Vec<&str> = vec!["NAME"];
    header.extend(columns(resource));
    header.push("AGE");
    if let (true, Some(extra)) = (wide, wide_after_age(resource)) {
        header.extend(extra);
    }
    if all_namespaces && resource.is_namespaced() {
        header.insert(0, "NAMESPACE");
    }
    let mut out = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for item in items {
        let mut row = vec![text(item.pointer("/metadata/name"))];
        row.extend(cells(resource, item, pods));
        row.push(age(item.pointer("/metadata/creationTimestamp"), now));
        if wide {
            row.extend(cells_after_age(resource, item));
        }
        if all_namespaces && resource.is_namespaced() {
            row.insert(0, text(item.pointer("/metadata/namespace")));
        }
        out.push(row);
    }
    out
}

/// Columns between NAME and AGE.
fn columns(resource: Resource) -> Vec<&'static str> {
    match resource {
        Resource::Object(Kind::GatewayClass) => vec!["CONTROLLER", "ACCEPTED"],
        Resource::Object(Kind::Gateway) => vec!["CLASS", "ADDRESS", "PROGRAMMED"],
        Resource::Object(Kind::HttpRoute) => vec!["HOSTNAMES"],
        Resource::Object(Kind::Namespace) => vec!["STATUS"],
        Resource::Object(Kind::Service) => vec!["TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"],
        Resource::Object(Kind::Deployment) => vec!["READY", "UP-TO-DATE", "AVAILABLE"],
        Resource::Object(Kind::EndpointSlice) => vec!["ADDRESSTYPE", "PORTS", "ENDPOINTS"],
        Resource::Object(Kind::Secret) => vec!["TYPE", "DATA"],
        Resource::Object(Kind::ConfigMap) => vec!["DATA"],
        Resource::Pod => vec!["READY", "STATUS", "RESTARTS"],
        Resource::Object(Kind::ReferenceGrant) => vec![],
    }
}

/// `-o wide` columns after AGE (printer columns of priority 1).
fn wide_after_age(resource: Resource) -> Option<Vec<&'static str>> {
    match resource {
        Resource::Object(Kind::GatewayClass) => Some(vec!["DESCRIPTION"]),
        Resource::Object(Kind::Service) => Some(vec!["SELECTOR"]),
        Resource::Object(Kind::Deployment) => Some(vec!["CONTAINERS", "IMAGES", "SELECTOR"]),
        Resource::Pod => Some(vec!["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// `status` of the first condition of `type` (the CRDs' `[?(@.type=="X")].status`).
fn condition(item: &Value, kind: &str) -> String {
    item.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
        })
        .map(|c| text(c.get("status")))
        .unwrap_or_default()
}

fn cells(resource: Resource, item: &Value, pods: &[Value]) -> Vec<String> {
    let at = |p: &str| text(item.pointer(p));
    match resource {
        Resource::Object(Kind::GatewayClass) => {
            vec![at("/spec/controllerName"), condition(item, "Accepted")]
        }
        Resource::Object(Kind::Gateway) => {
            let addresses: Vec<String> = item
                .pointer("/status/addresses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|a| text(a.get("value")))
                .collect();
            vec![
                at("/spec/gatewayClassName"),
                addresses.join(","),
                condition(item, "Programmed"),
            ]
        }
        // The CRD declares HOSTNAMES as a string column over a list: the list prints as JSON.
        Resource::Object(Kind::HttpRoute) => vec![item
            .pointer("/spec/hostnames")
            .map(|h| serde_json::to_string(h).unwrap_or_default())
            .unwrap_or_default()],
        Resource::Object(Kind::Namespace) => vec!["Active".into()],
        Resource::Object(Kind::Service) => {
            let ports: Vec<String> = item
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| {
                    let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                    format!("{}/{proto}", text(p.get("port")))
                })
                .collect();
            let ty = item
                .pointer("/spec/type")
                .and_then(Value::as_str)
                .unwrap_or("ClusterIP");
            let ip = item
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .unwrap_or("<none>");
            vec![
                ty.into(),
                ip.into(),
                "<none>".into(),
                none_if_empty(ports.join(",")),
            ]
        }
        Resource::Object(Kind::Deployment) => {
            let want = item
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let running = pods_of(item, pods);
            vec![
                format!("{running}/{want}"),
                running.to_string(),
                running.to_string(),
            ]
        }
        Resource::Object(Kind::EndpointSlice) => {
            let ports: Vec<String> = item
                .pointer("/ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| text(p.get("port")))
                .collect();
            let addrs: Vec<String> = item
                .pointer("/endpoints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .flat_map(|e| e.get("addresses").and_then(Value::as_array).cloned())
                .flatten()
                .map(|a| text(Some(&a)))
                .collect();
            vec![at("/addressType"), ports.join(","), addrs.join(",")]
        }
        Resource::Object(Kind::Secret) => vec![
            item.pointer("/type")
                .and_then(Value::as_str)
                .unwrap_or("Opaque")
                .into(),
            data_count(item),
        ],
        Resource::Object(Kind::ConfigMap) => vec![data_count(item)],
        Resource::Pod => vec!["1/1".into(), "Running".into(), "0".into()],
        Resource::Object(Kind::ReferenceGrant) => vec![],
    }
}

fn cells_after_age(resource: Resource, item: &Value) -> Vec<String> {
    let selector = |p: &str| {
        let pairs: Vec<String> = item
            .pointer(p)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={}", text(Some(v))))
            .collect();
        none_if_empty(pairs.join(","))
    };
    match resource {
        Resource::Object(Kind::GatewayClass) => vec![text(item.pointer("/spec/description"))],
        Resource::Object(Kind::Service) => vec![selector("/spec/selector")],
        Resource::Object(Kind::Deployment) => {
            let containers: Vec<&Value> = item
                .pointer("/spec/template/spec/containers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .collect();
            let names: Vec<String> = containers.iter().map(|c| text(c.get("name"))).collect();
            let images: Vec<String> = containers.iter().map(|c| text(c.get("image"))).collect();
            vec![
                names.join(","),
                images.join(","),
                selector("/spec/selector/matchLabels"),
            ]
        }
        Resource::Pod => vec![
            text(item.pointer("/status/podIP")),
            "<none>".into(),
            "<none>".into(),
            "<none>".into(),
        ],
        _ => vec![],
    }
}

fn none_if_empty(s: String) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s
    }
}

fn data_count(item: &Value) -> String {
    let n = item
        .get("data")
        .and_then(Value::as_object)
        .map_or(0, |m| m.len())
        + item
            .get("stringData")
            .and_then(Value::as_object)
            .map_or(0, |m| m.len());
    n.to_string()
}

fn pods_of(deployment: &Value, pods: &[Value]) -> usize {
    let ns = deployment.pointer("/metadata/namespace");
    let name = deployment.pointer("/metadata/name").and_then(Value::as_str);
    pods.iter()
        .filter(|p| {
            p.pointer("/metadata/namespace") == ns
                && p.pointer("/metadata/annotations/gwsim.dev~1deployment")
                    .and_then(Value::as_str)
                    == name
        })
        .count()
}

/// `AGE` of a creation timestamp, as kubectl prints it; `<unknown>` without one.
pub fn age(created: Option<&Value>, now: jiff::Timestamp) -> String {
    let Some(t) = created
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
    else {
        return "<unknown>".into();
    };
    human_duration(now.as_second() - t.as_second())
}

/// kubectl's `duration.HumanDuration`, in whole seconds.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
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

/// Lays rows out as kubectl does: every column but the last padded to its widest cell
/// plus 3 spaces.
pub fn format(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                let pad = widths.get(c).copied().unwrap_or(0) - cell.chars().count() + 3;
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        for (secs, want) in [
            (5, "5s"),
            (119, "119s"),
            (120, "2m"),
            (150, "2m30s"),
            (600, "10m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 25 * 60, "3h25m"),
            (30 * 3600, "30h"),
            (2 * 86400 + 3 * 3600, "2d3h"),
            (10 * 86400, "10d"),
            (-5, "<invalid>"),
        ] {
            assert_eq!(human_duration(secs), want, "{secs}");
        }
    }

    #[test]
    fn columns_pad_to_the_widest_cell_plus_three() {
        let rows = vec![
            vec!["NAME".to_string(), "CLASS".into(), "AGE".into()],
            vec!["sample-gateway".to_string(), "istio".into(), "5m".into()],
        ];
        assert_eq!(
            format(&rows),
            "NAME             CLASS   AGE\nsample-gateway   istio   5m\n"
        );
    }
}
