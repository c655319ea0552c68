//! A running simulation: the current pass, its fake pods, the compiled table and the bound
//! listeners. `gwsim up`, the end-to-end tests and the conformance runner all drive this.

use super::events::{EventKind, EventLog};
use super::transitions::Transitions;
use crate::controller::Translation;
use crate::dataplane::listener::{ListenerHandle, PortMapping};
use crate::dataplane::proxy::Proxy;
use crate::dataplane::table::{self, Counters, Endpoint, PortKey};
use crate::dataplane::tls::TlsPorts;
use crate::ir::{DeploymentPlan, EndpointIr, PodBehaviour};
use crate::pipeline::{self, Options, Pass};
use crate::pods::{self, naming, PodSpec, RunningPod};
use crate::store::History;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

mod listeners;

/// How long a stop waits for requests in flight to be answered before it closes their
/// connections anyway: long enough for any ordinary request, short enough that stopping
/// never feels stuck.
pub const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// How to run.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub dir: PathBuf,
    pub pipeline: Options,
    pub seed: u64,
    pub ports: PortMapping,
    /// Remember creation times and generations in `<dir>/.gwsim/`.
    pub persist_state: bool,
}

/// A pod as the runtime tracks it.
struct PodSlot {
    /// Template hash it was started with: a changed template restarts the pod.
    template_hash: String,
    pod: RunningPod,
}

/// The running simulation.
pub struct Sim {
    options: SimOptions,
    proxy: Arc<Proxy>,
    /// Live certificates of HTTPS ports, swapped per port on reload.
    tls: TlsPorts,
    counters: Counters,
    stats: Arc<crate::stats::Registry>,
    events: Arc<EventLog>,
    transitions: Transitions,
    last_reload: Option<ReloadInfo>,
    history: History,
    pass: Pass,
    pods: BTreeMap<(String, usize), PodSlot>,
    listeners: BTreeMap<PortKey, ListenerHandle>,
    /// The listeners serving TLS.
    tls_listeners: BTreeSet<PortKey>,
    /// Notes and failures from binding, by port.
    bind_notes: BTreeMap<PortKey, String>,
    bind_failures: BTreeMap<PortKey, String>,
    generation: u64,
}

impl Sim {
    /// Loads the folder, starts pods and listeners.
    pub async fn start(options: SimOptions) -> Sim {
        let history = if options.persist_state {
            super::state::load_history(&options.dir)
        } else {
            History::default()
        };
        let mut sim = Sim {
            options,
            proxy: Arc::new(Proxy::new()),
            tls: TlsPorts::default(),
            counters: Counters::default(),
            stats: Arc::new(crate::stats::Registry::default()),
            events: Arc::new(EventLog::default()),
            transitions: Transitions::default(),
            last_reload: None,
            history,
            pass: Pass::default(),
            pods: BTreeMap::new(),
            listeners: BTreeMap::new(),
            tls_listeners: BTreeSet::new(),
            bind_notes: BTreeMap::new(),
            bind_failures: BTreeMap::new(),
            generation: 0,
        };
        sim.reload().await;
        sim
    }

    /// Re-reads the folder and applies the result: pods where the plan changed, one atomic
    /// table swap, listeners where ports changed.
    pub async fn reload(&mut self) {
        let started = std::time::Instant::now();
        let now = super::clock::now_rfc3339();
        let previous = std::mem::take(&mut self.pass.store);
        let remembered = self.history.clone();
        let pass = pipeline::run(
            &self.options.dir,
            &self.options.pipeline,
            Some(&previous),
            &mut self.history,
            &now,
        );
        if self.options.persist_state && self.history != remembered {
            // Losing the history only loses stable timestamps across restarts; serving goes on.
            let _ = super::state::save_history(&self.options.dir, &self.history);
        }
        for moved in
            super::events::weight_changes(&self.pass.translation.routing, &pass.translation.routing)
        {
            self.events.push(EventKind::Reload, moved);
        }
        self.pass = pass;
        // New pods start before the table that points at them is swapped in, and retired pods
        // stop only after it, gracefully, so no request is sent to a pod that is going away.
        let retired = self.sync_pods().await;
        self.sync_listeners().await;
        self.swap_table();
        for slot in retired {
            self.events
                .push(EventKind::Pod, format!("pod {} stopped", slot.pod.name()));
            tokio::spawn(slot.pod.stop_with_grace(Duration::from_secs(5)));
        }
        self.fold_bind_results();
        self.transitions
            .observe(&self.pass.translation.status, &now);
        self.generation += 1;
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.events.reloads.observe(micros);
        let (errors, warnings) = self.pass.problem_counts();
        self.events.push(
            EventKind::Reload,
            format!(
                "reload #{}: {} objects, {errors} errors, {warnings} warnings ({:.1} ms)",
                self.generation,
                self.pass.store.objects.len(),
                micros as f64 / 1000.0
            ),
        );
        self.last_reload = Some(ReloadInfo {
            generation: self.generation,
            micros,
            time: now,
        });
    }

    /// Starts the pods the plan asks for; returns the ones it no longer wants (still running).
    async fn sync_pods(&mut self) -> Vec<PodSlot> {
        let plan = self.pass.translation.pods.clone();
        let needed_ports = self.ports_needed();
        let wanted: BTreeMap<(String, usize), &DeploymentPlan> = plan
            .deployments
            .iter()
            .flat_map(|(key, d)| (0..d.replicas).map(move |r| ((key.clone(), r), d)))
            .collect();
        let stale: Vec<(String, usize)> = self
            .pods
            .iter()
            .filter(|(k, slot)| {
                // A pod is replaced when its template changes, or when a Service now targets a
                // container port it does not listen on.
                let missing_port = needed_ports
                    .get(&k.0)
                    .is_some_and(|ports| ports.iter().any(|p| slot.pod.addr(*p).is_none()));
                wanted
                    .get(*k)
                    .is_none_or(|d| d.template_hash != slot.template_hash)
                    || missing_port
            })
            .map(|(k, _)| k.clone())
            .collect();
        let retired: Vec<PodSlot> = stale.iter().filter_map(|k| self.pods.remove(k)).collect();
        for ((key, replica), d) in wanted {
            if self.pods.contains_key(&(key.clone(), replica)) {
                continue;
            }
            let suffix = naming::pod_suffix(self.options.seed, &key, &d.template_hash, replica);
            let mut ports: BTreeSet<u16> = d.container_ports.iter().map(|c| c.port).collect();
            ports.extend(needed_ports.get(&key).into_iter().flatten());
            let spec = PodSpec {
                name: naming::pod_name(&d.name, &d.template_hash, &suffix),
                namespace: d.namespace.clone(),
                behaviour: match &d.behaviour {
                    PodBehaviour::Helloworld { version } => pods::Behaviour::Helloworld {
                        version: version.clone(),
                    },
                    PodBehaviour::Echo => pods::Behaviour::Echo,
                },
                container_ports: ports.into_iter().collect(),
            };
            match pods::start(spec, IpAddr::V4(Ipv4Addr::LOCALHOST)).await {
                Ok(pod) => {
                    self.events
                        .push(EventKind::Pod, format!("pod {} started", pod.name()));
                    self.pods.insert(
                        (key, replica),
                        PodSlot {
                            template_hash: d.template_hash.clone(),
                            pod,
                        },
                    );
                }
                Err(e) => self.events.push(
                    EventKind::Problem,
                    format!("pod {key}#{replica} could not start: {e}"),
                ),
            }
        }
        retired
    }

    /// The (deployment, replica) of the pod gwsim runs under the name `namespace/name`, by the
    /// same naming the pods are started with.
    fn planned_pod(&self, pod: &str) -> Option<(String, usize)> {
        let (ns, name) = pod.split_once('/')?;
        self.pass
            .translation
            .pods
            .deployments
            .iter()
            .filter(|(_, d)| d.namespace == ns)
            .find_map(|(key, d)| {
                (0..d.replicas).find_map(|r| {
                    let suffix = naming::pod_suffix(self.options.seed, key, &d.template_hash, r);
                    (naming::pod_name(&d.name, &d.template_hash, &suffix) == name)
                        .then(|| (key.clone(), r))
                })
            })
    }

    /// The running pod named `namespace/name`, if gwsim runs it.
    fn pod_slot(&self, pod: &str) -> Option<&PodSlot> {
        self.pods.get(&self.planned_pod(pod)?)
    }

    /// Container ports the routing table sends traffic to, per Deployment (a Service may
    /// target a port the template does not declare, as Kubernetes allows).
    fn ports_needed(&self) -> BTreeMap<String, BTreeSet<u16>> {
        let mut out: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
        for svc in self.pass.translation.routing.services.values() {
            for p in &svc.ports {
                for e in &p.endpoints {
                    let (deployment, port) = match e {
                        EndpointIr::Pod {
                            deployment,
                            container_port,
                            ..
                        } => (deployment.clone(), *container_port),
                        // An EndpointSlice entry naming one of gwsim's pods: that pod must
                        // listen on the slice's port.
                        EndpointIr::Address {
                            pod: Some(pod),
                            port,
                            ..
                        } => match self.planned_pod(pod) {
                            Some((deployment, _)) => (deployment, *port),
                            None => continue,
                        },
                        EndpointIr::Address { .. } => continue,
                    };
                    out.entry(deployment).or_default().insert(port);
                }
            }
        }
        out
    }

    fn swap_table(&self) {
        let resolve = |e: &EndpointIr| -> Option<Endpoint> {
            match e {
                EndpointIr::Pod {
                    deployment,
                    replica,
                    container_port,
                } => {
                    let slot = self.pods.get(&(deployment.clone(), *replica))?;
                    Some(Endpoint {
                        addr: slot.pod.addr(*container_port)?,
                        pod: slot.pod.name().to_string(),
                    })
                }
                EndpointIr::Address {
                    pod: Some(pod),
                    port,
                    ..
                } if self.pod_slot(pod).is_some() => {
                    let slot = self.pod_slot(pod)?;
                    Some(Endpoint {
                        addr: slot.pod.addr(*port)?,
                        pod: slot.pod.name().to_string(),
                    })
                }
                EndpointIr::Address { ip, port, .. } => {
                    let addr = SocketAddr::new(ip.parse().ok()?, *port);
                    Some(Endpoint {
                        addr,
                        pod: addr.to_string(),
                    })
                }
            }
        };
        let table = table::compile(
            &self.pass.translation.routing,
            self.options.seed,
            &self.counters,
            &self.stats,
            &resolve,
        );
        self.proxy.table.store(Arc::new(table));
    }

    /// The socket actually serving a Gateway's listener port (`namespace/name`, declared port).
    pub fn address(&self, gateway: &str, port: u16) -> Option<SocketAddr> {
        let p = self
            .pass
            .translation
            .routing
            .ports
            .iter()
            .find(|p| p.gateway == gateway && p.port == port)?;
        self.listeners
            .get(&(p.address.clone(), p.port))
            .map(|h| h.addr)
    }

    /// Every bound socket with its declared key.
    pub fn bound(&self) -> Vec<(PortKey, SocketAddr, Option<&str>)> {
        self.listeners
            .iter()
            .map(|(k, h)| {
                (
                    k.clone(),
                    h.addr,
                    self.bind_notes.get(k).map(String::as_str),
                )
            })
            .collect()
    }

    /// The traffic statistics.
    pub fn stats(&self) -> &Arc<crate::stats::Registry> {
        &self.stats
    }

    pub fn pass(&self) -> &Pass {
        &self.pass
    }

    pub fn translation(&self) -> &Translation {
        &self.pass.translation
    }

    /// How many reloads have been applied.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Logs of a running pod, by pod name.
    pub fn pod_log(&self, pod: &str) -> Option<Vec<String>> {
        self.pods
            .values()
            .find(|s| s.pod.name() == pod)
            .map(|s| s.pod.log().lines())
    }

    /// Names of the running pods, sorted.
    pub fn pod_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .pods
            .values()
            .map(|s| s.pod.name().to_string())
            .collect();
        names.sort();
        names
    }

    /// Recent requests served by the listeners.
    pub fn requests(&self) -> &Arc<crate::dataplane::reqlog::RequestLog> {
        &self.proxy.requests
    }

    /// The event log.
    pub fn events(&self) -> &Arc<EventLog> {
        &self.events
    }

    /// A copy of everything the views show.
    pub fn state(&self) -> State {
        let routing = &self.pass.translation.routing;
        State {
            generation: self.generation,
            seed: self.options.seed,
            dir: self.options.dir.display().to_string(),
            store: self.pass.store.clone(),
            translation: self.pass.translation.clone(),
            transitions: self.transitions.clone(),
            listeners: routing
                .ports
                .iter()
                .map(|p| {
                    let key = (p.address.clone(), p.port);
                    ListenerView {
                        gateway: p.gateway.clone(),
                        address: p.address.clone(),
                        port: p.port,
                        bound: self.listeners.get(&key).map(|h| h.addr),
                        note: self.bind_notes.get(&key).cloned(),
                        failure: self.bind_failures.get(&key).cloned(),
                    }
                })
                .collect(),
            pods: self
                .pods
                .iter()
                .map(|((deployment, replica), slot)| PodView {
                    name: slot.pod.name().to_string(),
                    namespace: slot.pod.namespace().to_string(),
                    deployment: deployment.clone(),
                    replica: *replica,
                    addrs: slot.pod.addrs().clone(),
                })
                .collect(),
            last_reload: self.last_reload.clone(),
        }
    }

    /// Running pods as `(namespace/deployment, pod name)`, sorted.
    pub fn running_pods(&self) -> Vec<(String, String)> {
        let mut pods: Vec<(String, String)> = self
            .pods
            .iter()
            .map(|((deployment, _), s)| (deployment.clone(), s.pod.name().to_string()))
            .collect();
        pods.sort();
        pods
    }

    /// Drains the listeners (requests in flight are answered), then stops the pods.
    pub async fn shutdown(mut self) {
        // Requests in flight still need their pods, so the listeners drain first.
        let draining = std::mem::take(&mut self.listeners)
            .into_values()
            .map(|h| h.drain(DRAIN_GRACE));
        let left: usize = futures_util::future::join_all(draining)
            .await
            .into_iter()
            .sum();
        if left > 0 {
            tracing::warn!(
                "{left} client connections still busy after {} s; closing them",
                DRAIN_GRACE.as_secs()
            );
        }
        for (_, slot) in std::mem::take(&mut self.pods) {
            slot.pod.stop_with_grace(Duration::from_secs(2)).await;
        }
    }
}

/// When and how fast the last reload went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReloadInfo {
    pub generation: u64,
    pub micros: u64,
    pub time: String,
}

/// A bound (or failed) listener socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListenerView {
    pub gateway: String,
    pub address: String,
    /// The port as declared on the listener.
    pub port: u16,
    /// The socket actually serving it.
    pub bound: Option<SocketAddr>,
    pub note: Option<String>,
    pub failure: Option<String>,
}

/// A running fake pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodView {
    pub name: String,
    pub namespace: String,
    /// `namespace/name` of its Deployment.
    pub deployment: String,
    pub replica: usize,
    pub addrs: BTreeMap<u16, SocketAddr>,
}

/// Everything the views show, as of one reload.
#[derive(Clone, Debug)]
pub struct State {
    pub generation: u64,
    pub seed: u64,
    pub dir: String,
    pub store: crate::store::Store,
    pub translation: Translation,
    pub transitions: Transitions,
    pub listeners: Vec<ListenerView>,
    pub pods: Vec<PodView>,
    pub last_reload: Option<ReloadInfo>,
}
