//! PATCH bodies: JSON merge patch (RFC 7386), the strategic merge patch kubectl sends when
//! re-applying built-in kinds (merge keys for the lists gwsim's kinds have, `$patch`,
//! `$setElementOrder`, `$retainKeys`), and server-side apply treated as a merge patch.

use serde_json::{Map, Value};

/// RFC 7386: objects merge recursively, `null` removes a key, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// The merge key of a list field in the built-in kinds, chosen by the field name (and, for
/// `ports`, by what the elements hold: container ports merge on `containerPort`, Service
/// ports on `port`).
fn merge_key(field: &str, items: &[Value]) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "ports" => {
            let container = items.iter().any(|i| i.get("containerPort").is_some());
            Some(if container { "containerPort" } else { "port" })
        }
        "conditions" => Some("type"),
        "hostAliases" => Some("ip"),
        "topologySpreadConstraints" => Some("topologyKey"),
        _ => None,
    }
}

/// Applies a strategic merge patch. Lists with a known merge key merge element by element;
/// other lists are replaced, as for a merge patch.
pub fn strategic_merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if p.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replaced = p.clone();
        replaced.remove("$patch");
        *target = Value::Object(replaced);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else {
        return;
    };
    let retain: Option<Vec<String>> = p.get("$retainKeys").and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect()
    });
    for (k, v) in p {
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Some(remove)) = (t.get_mut(field), v.as_array()) {
                list.retain(|x| !remove.contains(x));
            }
            continue;
        }
        // `$setElementOrder/…` is applied after the lists merged; other directives are done.
        if k.starts_with('$') {
            continue;
        }
        if v.is_null() {
            t.remove(k);
            continue;
        }
        match (t.get_mut(k), v) {
            (Some(Value::Array(current)), Value::Array(items)) => {
                match merge_key(k, items).or_else(|| merge_key(k, current)) {
                    Some(key) => merge_list(current, items, key),
                    None => *current = items.clone(),
                }
            }
            (Some(existing), Value::Object(_)) if existing.is_object() => {
                strategic_merge_patch(existing, v)
            }
            _ => {
                let mut fresh = Value::Null;
                strategic_merge_patch(&mut fresh, v);
                t.insert(k.clone(), strip_directives(fresh));
            }
        }
    }
    for (k, order) in p {
        if let Some(field) = k.strip_prefix("$setElementOrder/") {
            if let (Some(Value::Array(list)), Some(order)) = (t.get_mut(field), order.as_array()) {
                reorder(list, order);
            }
        }
    }
    if let Some(keep) = retain {
        t.retain(|k, _| keep.contains(k));
    }
}

/// Merges patch elements into a list by `key`: `$patch: delete` removes, a known key merges,
/// a new key appends.
fn merge_list(current: &mut Vec<Value>, items: &[Value], key: &str) {
    for item in items {
        let id = item.get(key).cloned();
        let pos = id
            .as_ref()
            .and_then(|id| current.iter().position(|c| c.get(key) == Some(id)));
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                current.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => strategic_merge_patch(&mut current[i], item),
            (None, false) => current.push(strip_directives(item.clone())),
        }
    }
}

/// Orders `list` as `order` names its elements (by their merge-key fields); elements the
/// order does not name keep their relative order at the end.
fn reorder(list: &mut Vec<Value>, order: &[Value]) {
    let position = |v: &Value| {
        order.iter().position(|o| {
            o.as_object()
                .is_some_and(|o| !o.is_empty() && o.iter().all(|(k, ov)| v.get(k) == Some(ov)))
                || o == v
        })
    };
    let mut keyed: Vec<(usize, usize, Value)> = list
        .drain(..)
        .enumerate()
        .map(|(i, v)| (position(&v).unwrap_or(usize::MAX), i, v))
        .collect();
    keyed.sort_by_key(|(p, i, _)| (*p, *i));
    list.extend(keyed.into_iter().map(|(_, _, v)| v));
}

/// Removes patch directives from a value that is inserted whole.
fn strip_directives(mut value: Value) -> Value {
    match &mut value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with('$'));
            for v in map.values_mut() {
                *v = strip_directives(std::mem::take(v));
            }
        }
        Value::Array(items) => {
            for v in items.iter_mut() {
                *v = strip_directives(std::mem::take(v));
            }
        }
        _ => {}
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]});
        merge_patch(
            &mut t,
            &json!({"a": "z", "c": {"f": null}, "l": [3], "n": {"x": 1}}),
        );
        assert_eq!(
            t,
            json!({"a": "z", "c": {"d": "e"}, "l": [3], "n": {"x": 1}})
        );
    }

    #[test]
    fn strategic_patch_of_service_ports_as_kubectl_sends_it() {
        let mut svc = json!({"spec": {"ports": [
            {"name": "http", "port": 8000, "targetPort": 8080},
            {"name": "admin", "port": 9000}
        ], "selector": {"app": "httpbin"}}});
        let patch = json!({"spec": {
            "$setElementOrder/ports": [{"port": 8001}, {"port": 9000}],
            "ports": [{"name": "http", "port": 8001, "targetPort": 8080},
                      {"$patch": "delete", "port": 8000}]
        }});
        strategic_merge_patch(&mut svc, &patch);
        assert_eq!(
            svc["spec"]["ports"],
            json!([{"name": "http", "port": 8001, "targetPort": 8080}, {"name": "admin", "port": 9000}])
        );
        assert_eq!(svc["spec"]["selector"], json!({"app": "httpbin"}));
    }

    #[test]
    fn strategic_patch_merges_containers_by_name() {
        let mut d = json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "a", "image": "a:1", "ports": [{"containerPort": 80}]},
            {"name": "b", "image": "b:1"}
        ]}}}});
        let patch = json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"name": "a", "image": "a:2"}
        ]}}}});
        strategic_merge_patch(&mut d, &patch);
        assert_eq!(d["spec"]["replicas"], 2);
        let c = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(c[0]["image"], "a:2");
        assert_eq!(c[0]["ports"], json!([{"containerPort": 80}]));
        assert_eq!(c[1]["image"], "b:1");
    }

    #[test]
    fn strategic_patch_replaces_lists_without_merge_key_and_honours_replace() {
        let mut t = json!({"spec": {"hostnames": ["a"], "m": {"x": 1, "y": 2}}});
        strategic_merge_patch(
            &mut t,
            &json!({"spec": {"hostnames": ["b"], "m": {"$patch": "replace", "z": 3}}}),
        );
        assert_eq!(t, json!({"spec": {"hostnames": ["b"], "m": {"z": 3}}}));
    }
}
