//! The cluster as the API serves it: every object of one published runtime state rendered
//! as JSON (status from the controller with transition times, server metadata, pods from the
//! fake pods, the CRDs), with resourceVersions from one global counter and a bounded log of
//! changes for watches.

use super::resources::for_kind;
use crate::controller::generated::{GatewayService, GATEWAY_NAME_LABEL};
use crate::model::{Kind, Object};
use crate::runtime::sim::{PodView, State};
use crate::runtime::versions::{Change, Versions};
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Identifies a served object: resource plural, namespace ("" when cluster-scoped), name.
pub type ResKey = (&'static str, String, String);

/// One change, as watches replay it.
#[derive(Clone, Debug)]
pub struct Event {
    pub rv: u64,
    pub change: Change,
    pub key: ResKey,
    /// The object after the change (for a deletion, its last state).
    pub object: Arc<Value>,
}

/// The cluster at one runtime generation.
pub struct Snapshot {
    /// The runtime generation (reload count) this reflects.
    pub generation: u64,
    /// The resourceVersion of a list taken now.
    pub rv: u64,
    pub objects: BTreeMap<ResKey, Arc<Value>>,
    pub state: Arc<State>,
}

/// The changes kept for watches that resume from a resourceVersion.
#[derive(Debug, Default)]
pub struct EventLog {
    events: VecDeque<Event>,
    /// Events up to this resourceVersion are no longer kept.
    floor: u64,
}

/// How many changes watches can resume across.
const LOG_CAPACITY: usize = 4096;

impl EventLog {
    fn push(&mut self, e: Event) {
        self.events.push_back(e);
        while self.events.len() > LOG_CAPACITY {
            if let Some(old) = self.events.pop_front() {
                self.floor = old.rv;
            }
        }
    }

    /// Changes after `rv`, or `Err` when some of them are no longer kept (the client must
    /// list again: 410 Expired).
    pub fn since(&self, rv: u64) -> Result<Vec<Event>, u64> {
        if rv < self.floor {
            return Err(rv);
        }
        Ok(self.events.iter().filter(|e| e.rv > rv).cloned().collect())
    }
}

/// Locks the log; a poisoned lock still holds consistent events.
pub fn lock(log: &Mutex<EventLog>) -> std::sync::MutexGuard<'_, EventLog> {
    match log.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// Turns successive runtime states into snapshots.
pub struct Builder {
    versions: Versions<ResKey>,
    last: BTreeMap<ResKey, Arc<Value>>,
    /// When each fake pod was first seen: its creationTimestamp.
    pods_born: BTreeMap<String, String>,
    /// When the API started: the CRDs' creationTimestamp.
    started: String,
}

impl Builder {
    pub fn new(started: String) -> Self {
        Builder {
            versions: Versions::default(),
            last: BTreeMap::new(),
            pods_born: BTreeMap::new(),
            started,
        }
    }

    /// Renders `state`, assigns resourceVersions to what changed and logs the changes.
    pub fn build(&mut self, state: Arc<State>, log: &Mutex<EventLog>, now: &str) -> Snapshot {
        let mut objects: BTreeMap<ResKey, Value> = BTreeMap::new();
        for o in state.store.objects.values() {
            let res = for_kind(o.key.kind);
            objects.insert(
                (res.plural, o.key.namespace.clone(), o.key.name.clone()),
                store_object(o, &state),
            );
        }
        self.pods_born
            .retain(|name, _| state.pods.iter().any(|p| &p.name == name));
        for p in &state.pods {
            let born = self
                .pods_born
                .entry(p.name.clone())
                .or_insert_with(|| now.to_string())
                .clone();
            objects.insert(
                ("pods", p.namespace.clone(), p.name.clone()),
                pod(p, &state, &born),
            );
        }
        for g in &state.translation.generated {
            objects.insert(
                ("services", g.namespace.clone(), g.name.clone()),
                gateway_service(g, &state),
            );
        }
        for crd in super::crds::all(&self.started) {
            let name = crd["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            objects.insert(("customresourcedefinitions", String::new(), name), crd);
        }
        let hashes: BTreeMap<ResKey, u64> = objects
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    crate::sim::rng::fnv1a64(v.to_string().as_bytes()),
                )
            })
            .collect();
        let changes = self.versions.observe(&hashes);
        let objects: BTreeMap<ResKey, Arc<Value>> = objects
            .into_iter()
            .map(|(k, mut v)| {
                let rv = self.versions.of(&k).unwrap_or_default();
                v["metadata"]["resourceVersion"] = json!(rv.to_string());
                (k, Arc::new(v))
            })
            .collect();
        {
            let mut log = lock(log);
            for (key, change, rv) in changes {
                let object = match change {
                    Change::Deleted => self.last.get(&key).map(|v| {
                        let mut v = (**v).clone();
                        v["metadata"]["resourceVersion"] = json!(rv.to_string());
                        Arc::new(v)
                    }),
                    _ => objects.get(&key).cloned(),
                };
                if let Some(object) = object {
                    log.push(Event {
                        rv,
                        change,
                        key,
                        object,
                    });
                }
            }
        }
        self.last = objects.clone();
        Snapshot {
            generation: state.generation,
            rv: self.versions.current(),
            objects,
            state,
        }
    }
}

/// A deterministic uid: the same object (same key and creation time) keeps its uid.
fn uid(seed: &str) -> String {
    let a = crate::sim::rng::fnv1a64(seed.as_bytes());
    let b = crate::sim::rng::fnv1a64(format!("{seed}#uid").as_bytes());
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A store object's creationTimestamp and its uid, which that time keeps stable.
fn created_and_uid(o: &Object) -> (String, String) {
    let created = o
        .meta()
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .unwrap_or_default();
    let uid = uid(&format!("{}@{created}", o.key));
    (created, uid)
}

/// A store object as the API serves it: status with transition times, server metadata.
pub(crate) fn store_object(o: &Object, state: &State) -> Value {
    let mut v = o.body.to_json();
    let (created, object_uid) = created_and_uid(o);
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        meta.insert("uid".into(), json!(object_uid));
    }
    if let Some(status) = state.translation.status.get(&o.key) {
        v["status"] = state.transitions.stamped(&o.key, status);
        crate::render::stamp_conditions(&mut v["status"], &created);
    }
    match o.key.kind {
        Kind::Namespace => v["status"] = json!({"phase": "Active"}),
        Kind::Deployment => {
            let running = state
                .pods
                .iter()
                .filter(|p| p.deployment == o.key.ref_name())
                .count();
            let wanted = v
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let available = if i64::try_from(running).unwrap_or(0) >= wanted {
                "True"
            } else {
                "False"
            };
            v["status"] = json!({
                "observedGeneration": o.generation(),
                "replicas": running,
                "readyReplicas": running,
                "availableReplicas": running,
                "updatedReplicas": running,
                "conditions": [{"type": "Available", "status": available,
                                "reason": "MinimumReplicasAvailable",
                                "lastTransitionTime": created}],
            });
        }
        _ => {}
    }
    v
}

/// A fake pod as a Pod, created at `born`.
pub(crate) fn pod(p: &PodView, state: &State, born: &str) -> Value {
    let plan = state.translation.pods.deployments.get(&p.deployment);
    let mut labels = plan.map(|d| d.labels.clone()).unwrap_or_default();
    let hash = plan.map(|d| d.template_hash.clone()).unwrap_or_default();
    labels.insert("pod-template-hash".into(), hash.clone());
    let deployment = plan.map(|d| d.name.clone()).unwrap_or_default();
    let template = state
        .store
        .get(Kind::Deployment, &p.namespace, &deployment)
        .and_then(|o| match &o.body {
            crate::model::Body::Deployment(d) => d.spec.as_ref().map(|s| s.template.clone()),
            _ => None,
        })
        .and_then(|t| t.spec)
        .map(|s| serde_json::to_value(s).unwrap_or_default())
        .unwrap_or_else(|| json!({"containers": []}));
    let mut spec = template;
    spec["nodeName"] = json!("gwsim");
    let containers: Vec<Value> = spec["containers"].as_array().cloned().unwrap_or_default();
    let statuses: Vec<Value> = containers
        .iter()
        .map(|c| {
            json!({
                "name": c["name"], "image": c["image"], "ready": true, "started": true,
                "restartCount": 0, "state": {"running": {"startedAt": born}},
            })
        })
        .collect();
    let ports: Vec<String> = p
        .addrs
        .iter()
        .map(|(port, addr)| format!("{port}={addr}"))
        .collect();
    let conditions: Vec<Value> = [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    .iter()
    .map(|t| json!({"type": t, "status": "True", "lastTransitionTime": born}))
    .collect();
    let replica_set = format!("{deployment}-{hash}");
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": p.name,
            "namespace": p.namespace,
            "generateName": format!("{replica_set}-"),
            "labels": labels,
            "annotations": {"gwsim.dev/listening": ports.join(",")},
            "uid": uid(&format!("pod {}/{}@{born}", p.namespace, p.name)),
            "creationTimestamp": born,
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": replica_set,
                "uid": uid(&format!("replicaset {}/{replica_set}", p.namespace)),
                "controller": true, "blockOwnerDeletion": true,
            }],
        },
        "spec": spec,
        "status": {
            "phase": "Running",
            "conditions": conditions,
            "hostIP": "127.0.0.1",
            "hostIPs": [{"ip": "127.0.0.1"}],
            "podIP": "127.0.0.1",
            "podIPs": [{"ip": "127.0.0.1"}],
            "startTime": born,
            "containerStatuses": statuses,
            "qosClass": "BestEffort",
        },
    })
}

/// The Service a controller creates for a Gateway (see `controller::generated`): owned by
/// the Gateway, born with it, its external IP the Gateway's address.
pub(crate) fn gateway_service(g: &GatewayService, state: &State) -> Value {
    let (created, gateway_uid) = state
        .store
        .get(Kind::Gateway, &g.namespace, &g.gateway)
        .map(created_and_uid)
        .unwrap_or_default();
    let ports: Vec<Value> = g
        .ports
        .iter()
        .map(|p| json!({"name": p.name, "port": p.port, "protocol": "TCP", "targetPort": p.port}))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": g.name,
            "namespace": g.namespace,
            "uid": uid(&format!("service {}/{}@{created}", g.namespace, g.name)),
            "creationTimestamp": created,
            "labels": g.labels,
            "annotations": g.annotations,
            "ownerReferences": [{
                "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                "name": g.gateway, "uid": gateway_uid,
                "controller": true, "blockOwnerDeletion": true,
            }],
        },
        "spec": {
            "type": "LoadBalancer",
            "selector": {GATEWAY_NAME_LABEL: g.gateway},
            "ports": ports,
        },
        "status": {"loadBalancer": {"ingress": [{"ip": g.address, "ipMode": "VIP"}]}},
    })
}
