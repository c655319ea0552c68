//! Objects as the admin API serves them: the stored object with its status, every condition
//! stamped with the time it last changed, plus the running fake pods shaped as Pods.
//! Selection is here; rendering is the Kubernetes API's (`kube::view`).

use super::resources::Resource;
use crate::runtime::sim::State;
use serde_json::Value;
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
/// Objects are rendered by the Kubernetes API's own renderer, so `gwsim get` and kubectl
/// see the same objects.
pub fn list(state: &State, filter: &Filter, pod_times: &BTreeMap<String, String>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut pods_done = false;
    for o in state.store.objects.values() {
        if !pods_done && o.key.kind > crate::model::Kind::Deployment {
            out.extend(pods(state, filter, pod_times));
            pods_done = true;
        }
        if filter.wants(Resource::Object(o.key.kind), &o.key.namespace, &o.key.name) {
            out.push(crate::kube::view::store_object(o, state));
        }
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
            let born = times
                .get(&format!("{}/{}", p.namespace, p.name))
                .map(String::as_str)
                .unwrap_or_default();
            crate::kube::view::pod(p, state, born)
        })
        .collect()
}
