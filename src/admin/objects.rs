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

/// The objects `filter` selects, in kind, namespace, name order, pods after Deployments, the
/// Services generated for Gateways among the Services. Objects are rendered by the
/// Kubernetes API's own renderer, so `gwsim get` and kubectl see the same objects.
pub fn list(state: &State, filter: &Filter, pod_times: &BTreeMap<String, String>) -> Vec<Value> {
    use crate::model::Kind;
    // (kind, after that kind's objects, namespace, name)
    let mut out: Vec<((Kind, bool, String, String), Value)> = Vec::new();
    for o in state.store.objects.values() {
        if filter.wants(Resource::Object(o.key.kind), &o.key.namespace, &o.key.name) {
            let at = (
                o.key.kind,
                false,
                o.key.namespace.clone(),
                o.key.name.clone(),
            );
            out.push((at, crate::kube::view::store_object(o, state)));
        }
    }
    for g in &state.translation.generated {
        if filter.wants(Resource::Object(Kind::Service), &g.namespace, &g.name) {
            let at = (Kind::Service, false, g.namespace.clone(), g.name.clone());
            out.push((at, crate::kube::view::gateway_service(g, state)));
        }
    }
    for (p, v) in pods(state, filter, pod_times) {
        out.push((
            (Kind::Deployment, true, p.namespace.clone(), p.name.clone()),
            v,
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.into_iter().map(|(_, v)| v).collect()
}

fn pods<'s>(
    state: &'s State,
    filter: &Filter,
    times: &BTreeMap<String, String>,
) -> Vec<(&'s crate::runtime::sim::PodView, Value)> {
    state
        .pods
        .iter()
        .filter(|p| filter.wants(Resource::Pod, &p.namespace, &p.name))
        .map(|p| {
            let born = times
                .get(&format!("{}/{}", p.namespace, p.name))
                .map(String::as_str)
                .unwrap_or_default();
            (p, crate::kube::view::pod(p, state, born))
        })
        .collect()
}
