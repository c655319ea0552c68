//! Selector-less Services whose EndpointSlices name gwsim's own pods in `targetRef` (what a
//! cluster's manual EndpointSlices look like): traffic goes to the named pod, on the slice's
//! port, even though every simulated pod reports the same IP.

mod common;

use common::{start, write_echo_backends, Client};

const MANIFESTS: &str = r#"apiVersion: v1
kind: Namespace
metadata: {name: eps}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: eps}
spec:
  gatewayClassName: gwsim
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: v1
kind: Service
metadata: {name: manual, namespace: eps}
spec:
  ports: [{name: web, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: manual, namespace: eps}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: manual, port: 8080}]
"#;

fn slice(pod: Option<&str>) -> String {
    let endpoints = match pod {
        Some(name) => format!(
            "endpoints:\n- addresses: [127.0.0.1]\n  conditions: {{ready: true}}\n  targetRef: {{kind: Pod, name: {name}, namespace: eps}}\n"
        ),
        None => String::new(),
    };
    format!(
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: manual-1\n  namespace: eps\n  labels: {{kubernetes.io/service-name: manual}}\naddressType: IPv4\nports: [{{name: web, port: 3000}}]\n{endpoints}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_naming_a_simulated_pod_reaches_that_pod() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("gateway.yaml"), MANIFESTS).expect("write");
    write_echo_backends(dir.path(), "eps", &[("echo", 2)]);
    std::fs::write(dir.path().join("slice.yaml"), slice(None)).expect("write");
    let mut sim = start(dir.path(), 9, 87).await;
    let addr = sim.address("eps/gw", 80).expect("listener bound");
    let mut c = Client::connect(addr).await;
    let empty = c.get("any.example", "/").await;
    assert_eq!(empty.status, 503, "no endpoint yet: {empty:?}");

    let pods: Vec<String> = sim
        .running_pods()
        .into_iter()
        .filter(|(d, _)| d == "eps/echo")
        .map(|(_, name)| name)
        .collect();
    assert_eq!(pods.len(), 2, "{pods:?}");
    for pod in &pods {
        std::fs::write(dir.path().join("slice.yaml"), slice(Some(pod))).expect("write");
        sim.reload().await;
        for _ in 0..3 {
            let r = c.get("any.example", "/").await;
            assert_eq!(r.status, 200, "{r:?}");
            let echo: serde_json::Value = serde_json::from_str(&r.body).expect("echo JSON");
            assert_eq!(echo["pod"], pod.as_str(), "{}", r.body);
        }
    }

    // A targetRef naming no pod gwsim runs falls back to the address, as written.
    std::fs::write(dir.path().join("slice.yaml"), slice(Some("elsewhere"))).expect("write");
    sim.reload().await;
    let r = c.get("any.example", "/").await;
    assert!(
        pods.iter().all(|p| !r.body.contains(p.as_str())),
        "no simulated pod answers for 127.0.0.1:3000: {r:?}"
    );
    sim.shutdown().await;
}
