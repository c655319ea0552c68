//! Objects as the admin API serves them: the stored object with its status, every condition
//! stamped with the time it last changed, plus the running fake pods shaped as Pods.

use super::resources::Resource;
use crate::runtime::sim::{PodView, State};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Which objects to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// `None` lists every resource.
    pub resource: Option<Resource>,
    /// `None` lists every namespace; ignored for cluster-scoped resources.
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl Filter {
    fn wants(&self, resource: Resource, namespace: &str, name: &str) -> bool {
        self.resource.is_none_or(|r| r == resource)
            && (!resource.is_namespaced()
                || self.namespace.as_deref().is_none_or(|n| n == namespace))
            && self.name.as_deref().is_none_or(|n| n == name)
    }
}

/// When each fake pod was first seen running. The runtime does not publish start times, and
/// a pod keeps its name for as long as it runs, so the first sighting is its creation.
#[derive(Debug, Default)]
pub struct PodClock {
    first_seen: Mutex<BTreeMap<String, String>>,
}

impl PodClock {
    /// Records the pods of `state` at `now`; forgets pods that are gone.
    pub fn observe(&self, state: &State, now: &str) -> BTreeMap<String, String> {
        let mut seen = match self.first_seen.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let next: BTreeMap<String, String> = state
            .pods
            .iter()
            .map(|p| {
                let key = format!("{}/{}", p.namespace, p.name);
                let time = seen.get(&key).cloned().unwrap_or_else(|| now.to_string());
                (key, time)
            })
            .collect();
        *seen = next.clone();
        next
    }
}

/// The objects `filter` selects, in kind, namespace, name order, pods after Deployments.
pub fn list(state: &State, filter: &Filter, pod_times: &BTreeMap<String, String>) -> Vec<Value> {
    let fallback = state
        .last_reload
        .as_ref()
        .map(|r| r.time.clone())
        .unwrap_or_default();
    let mut out: Vec<Value> = Vec::new();
    let mut pods_done = false;
    for o in state.store.objects.values() {
        let resource = Resource::Object(o.key.kind);
        if !pods_done && o.key.kind > crate::model::Kind::Deployment {
            out.extend(pods(state, filter, pod_times));
            pods_done = true;
        }
        if !filter.wants(resource, &o.key.namespace, &o.key.name) {
            continue;
        }
        let mut value = o.body.to_json();
        if let (Some(map), Some(status)) =
            (value.as_object_mut(), state.translation.status.get(&o.key))
        {
            let mut s = state.transitions.stamped(&o.key, status);
            crate::render::stamp_conditions(&mut s, &fallback);
            map.insert("status".into(), s);
        }
        out.push(value);
    }
    if !pods_done {
        out.extend(pods(state, filter, pod_times));
    }
    out
}

fn pods(state: &State, filter: &Filter, times: &BTreeMap<String, String>) -> Vec<Value> {
    state
        .pods
        .iter()
        .filter(|p| filter.wants(Resource::Pod, &p.namespace, &p.name))
        .map(|p| {
            let created = times
                .get(&format!("{}/{}", p.namespace, p.name))
                .cloned()
                .unwrap_or_default();
            pod_json(state, p, &created)
        })
        .collect()
}

/// A running fake pod as `kubectl get pod -o json` would show it.
pub fn pod_json(state: &State, pod: &PodView, created: &str) -> Value {
    let plan = state.translation.pods.deployments.get(&pod.deployment);
    let mut labels: Map<String, Value> = plan
        .map(|d| {
            d.labels
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect()
        })
        .unwrap_or_default();
    if let Some(d) = plan {
        labels.insert(
            "pod-template-hash".into(),
            Value::String(d.template_hash.clone()),
        );
    }
    let containers = deployment_containers(state, &pod.deployment);
    let statuses: Vec<Value> = containers
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            json!({
                "name": c.get("name").cloned().unwrap_or(Value::Null),
                "image": c.get("image").cloned().unwrap_or(Value::Null),
                "ready": true,
                "started": true,
                "restartCount": 0,
                "state": {"running": {"startedAt": created}},
            })
        })
        .collect();
    let ip = pod
        .addrs
        .values()
        .next()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let owner = pod.deployment.split_once('/').map(|(_, n)| n).unwrap_or("");
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod.name,
            "namespace": pod.namespace,
            "labels": labels,
            "creationTimestamp": created,
            "annotations": {"gwsim.dev/deployment": owner, "gwsim.dev/replica": pod.replica.to_string()},
        },
        "spec": {"containers": containers},
        "status": {
            "phase": "Running",
            "podIP": ip,
            "startTime": created,
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": created}],
            "containerStatuses": statuses,
            "ports": pod.addrs.iter().map(|(port, addr)| json!({"containerPort": port, "servedAt": addr.to_string()})).collect::<Vec<_>>(),
        },
    })
}

fn deployment_containers(state: &State, deployment: &str) -> Value {
    let Some((ns, name)) = deployment.split_once('/') else {
        return Value::Array(Vec::new());
    };
    state
        .store
        .get(crate::model::Kind::Deployment, ns, name)
        .map(|o| o.body.to_json())
        .and_then(|v| v.pointer("/spec/template/spec/containers").cloned())
        .unwrap_or(Value::Array(Vec::new()))
}
