//! Hand-built states for the view and dashboard tests: manifests decoded from memory, the
//! pure controller, and made-up sockets, pods, times and counters — no I/O, no clock.

use crate::controller::{self, Config};
use crate::runtime::events::{Event, EventKind};
use crate::runtime::sim::{ListenerView, PodView, ReloadInfo, State};
use crate::runtime::transitions::Transitions;
use crate::source::{decode_file, DirLoad, FileLoad};
use crate::stats::{SeriesKey, SeriesSnapshot};
use crate::store::{History, Store};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// The time every fixture pretends it is.
pub const NOW: &str = "2025-01-02T12:01:07Z";

/// The helloworld sample's files.
pub fn helloworld() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "gateway.yaml",
            include_str!("../../samples/helloworld/gateway.yaml"),
        ),
        (
            "helloworld-versions.yaml",
            include_str!("../../samples/helloworld/helloworld-versions.yaml"),
        ),
        (
            "helloworld.yaml",
            include_str!("../../samples/helloworld/helloworld.yaml"),
        ),
        (
            "namespaces.yaml",
            include_str!("../../samples/helloworld/namespaces.yaml"),
        ),
        (
            "route.yaml",
            include_str!("../../samples/variants/route-90-10.yaml"),
        ),
    ]
}

/// A state of `files` after one reload: every listener bound on `127.0.0.1:10000 + port`
/// (shifted per Gateway), every planned pod running.
pub fn state(files: &[(&str, &str)]) -> State {
    state_after(files, None)
}

/// Like [`state`], with `previous` as the last good store (for broken files).
pub fn state_after(files: &[(&str, &str)], previous: Option<&Store>) -> State {
    let load = DirLoad {
        files: files
            .iter()
            .map(|(path, text)| FileLoad {
                path: (*path).to_string(),
                decoded: decode_file(path, text, "default"),
            })
            .collect(),
        diagnostics: Vec::new(),
        unreadable: false,
        applied: Vec::new(),
    };
    let store = Store::assemble(load, previous, &mut History::default(), NOW);
    let translation = controller::reconcile(&store, &Config::default());
    let mut transitions = Transitions::default();
    transitions.observe(&translation.status, NOW);
    let listeners = translation
        .routing
        .ports
        .iter()
        .enumerate()
        .map(|(i, p)| ListenerView {
            gateway: p.gateway.clone(),
            address: p.address.clone(),
            port: p.port,
            bound: Some(SocketAddr::from((
                [127, 0, 0, 1],
                10_000 + p.port + u16::try_from(i).unwrap_or(0),
            ))),
            note: None,
            failure: None,
        })
        .collect();
    let mut pods = Vec::new();
    for (key, d) in &translation.pods.deployments {
        for replica in 0..d.replicas {
            let port = 20_000 + u16::try_from(pods.len()).unwrap_or(0);
            pods.push(PodView {
                name: format!("{}-{}-x{replica}", d.name, d.template_hash),
                namespace: d.namespace.clone(),
                deployment: key.clone(),
                replica,
                addrs: BTreeMap::from([(5000, SocketAddr::from(([127, 0, 0, 1], port)))]),
            });
        }
    }
    State {
        generation: 12,
        seed: 7,
        dir: "/home/me/shop".into(),
        store,
        translation,
        transitions,
        listeners,
        pods,
        last_reload: Some(ReloadInfo {
            generation: 12,
            micros: 3_200,
            time: NOW.into(),
        }),
    }
}

/// A series of `requests` answered 200 on `rule` by `backend`'s `pod`, all within `latency_us`.
pub fn series(
    rule: &str,
    backend: &str,
    pod: &str,
    requests: u64,
    latency_us: u64,
) -> SeriesSnapshot {
    let mut buckets = vec![0; crate::stats::BUCKETS_US.len() + 1];
    let slot = crate::stats::BUCKETS_US
        .iter()
        .position(|b| latency_us <= *b)
        .unwrap_or(crate::stats::BUCKETS_US.len());
    buckets[slot] = requests;
    SeriesSnapshot {
        key: SeriesKey {
            gateway: "sample-ingress/sample-gateway".into(),
            listener: "http".into(),
            route: "sample/helloworld".into(),
            rule: rule.into(),
            backend: backend.into(),
            pod: pod.into(),
        },
        requests,
        codes: BTreeMap::from([(200, requests)]),
        latency_buckets: buckets,
        latency_sum_us: requests * latency_us,
        retries: 0,
    }
}

/// The sample's 90/10 rule after 2,000 requests: 1,794 to v1, 206 to v2.
pub fn helloworld_stats(state: &State) -> Vec<SeriesSnapshot> {
    let rule = "httproute/sample/helloworld/rule/0";
    let pod = |deployment: &str| {
        state
            .pods
            .iter()
            .find(|p| p.deployment == deployment)
            .map(|p| p.name.clone())
            .unwrap_or_default()
    };
    vec![
        series(
            rule,
            "sample/helloworld-v1:5000",
            &pod("sample/helloworld-v1"),
            1_794,
            400,
        ),
        series(
            rule,
            "sample/helloworld-v2:5000",
            &pod("sample/helloworld-v2"),
            206,
            1_900,
        ),
    ]
}

/// A short event log.
pub fn events() -> Vec<Event> {
    vec![
        Event {
            seq: 1,
            time: "2025-01-02T12:00:01Z".into(),
            kind: EventKind::Listener,
            message: "listening on 127.0.0.1:10080 for 127.0.1.16:80".into(),
        },
        Event {
            seq: 2,
            time: NOW.into(),
            kind: EventKind::Reload,
            message: "reload #12: 12 objects, 0 errors, 0 warnings (3.2 ms)".into(),
        },
    ]
}
