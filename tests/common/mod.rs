//! Shared helpers for end-to-end tests: an in-process gwsim on its own address pool and
//! ephemeral ports, and a small HTTP client.

#![allow(dead_code)]

pub mod kubectl;
pub mod tls;

use gwsim::controller::{AddressPool, Config};
use gwsim::dataplane::listener::PortMapping;
use gwsim::pipeline::Options;
use gwsim::runtime::sim::{Sim, SimOptions};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

/// Writes `echo.yaml` into `dir`: for each (name, replicas), an echo-basic Deployment and a
/// Service of that name in `namespace` (port 8080 → 3000), as the conformance backends are.
pub fn write_echo_backends(dir: &Path, namespace: &str, backends: &[(&str, u32)]) {
    let mut yaml = String::new();
    for (name, replicas) in backends {
        yaml.push_str(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}}}\n\
             spec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    \
             metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers:\n      \
             - {{name: echo, image: registry.k8s.io/gateway-api/echo-basic:v1.5.1}}\n---\n\
             apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {namespace}}}\n\
             spec:\n  selector: {{app: {name}}}\n  ports: [{{port: 8080, targetPort: 3000}}]\n---\n"
        ));
    }
    std::fs::write(dir.join("echo.yaml"), yaml).expect("write echo.yaml");
}

/// A selector-less Service `name` in namespace `e2e` (port 8080) whose EndpointSlice points
/// at `127.0.0.1:port`: a process of the test's own behind gwsim.
pub fn loopback_service(name: &str, port: u16) -> String {
    loopback_service_at(name, port, &["127.0.0.1"])
}

/// [`loopback_service`] with one endpoint per address, all on `port`.
pub fn loopback_service_at(name: &str, port: u16, addresses: &[&str]) -> String {
    let endpoints: Vec<String> = addresses
        .iter()
        .map(|a| format!("{{addresses: [{a}]}}"))
        .collect();
    let endpoints = endpoints.join(", ");
    format!(
        r#"
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: e2e}}
spec:
  ports: [{{port: 8080}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: {name}-1
  namespace: e2e
  labels: {{kubernetes.io/service-name: {name}}}
addressType: IPv4
ports: [{{port: {port}}}]
endpoints: [{endpoints}]
"#
    )
}

/// Namespace `e2e` and its Gateway `gw`, HTTP on port 80.
pub const E2E_GATEWAY: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: e2e}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: e2e}
spec:
  gatewayClassName: gwsim
  listeners:
  - {name: http, port: 80, protocol: HTTP}
"#;

/// Gateway `e2e/gw` (HTTP on port 80) and an HTTPRoute for `host` to the test's own origin
/// on `127.0.0.1:port` (see [`loopback_service`]).
pub fn loopback_origin_manifests(host: &str, port: u16) -> String {
    let origin = loopback_service("origin", port);
    format!(
        r#"{E2E_GATEWAY}---{origin}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: origin, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]
  hostnames: [{host}]
  rules:
  - backendRefs: [{{name: origin, port: 8080}}]
"#
    )
}

/// Options for an instance on `dir` with `seed`, Gateway addresses from `127.0.<pool>.0/24`,
/// ephemeral ports.
pub fn options(dir: &Path, seed: u64, pool: u8) -> SimOptions {
    SimOptions {
        dir: dir.to_path_buf(),
        pipeline: Options {
            controller: Config {
                pool: AddressPool {
                    base: Ipv4Addr::new(127, 0, pool, 0),
                    size: 254,
                },
                ..Config::default()
            },
            ..Options::default()
        },
        seed,
        ports: PortMapping::Ephemeral,
        persist_state: false,
    }
}

/// Starts gwsim in-process (see [`options`]).
pub async fn start(dir: &Path, seed: u64, pool: u8) -> Sim {
    Sim::start(options(dir, seed, pool)).await
}

/// A copy of a sample folder in a temp directory, so tests can edit it.
pub fn copy_sample(name: &str) -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name);
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(&src)
        .expect("sample")
        .flatten()
        .filter(|e| e.path().is_file())
    {
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
    }
    dir
}

/// A response reduced to what tests look at.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

/// A keep-alive HTTP/1.1 client bound to one address.
pub struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .expect("handshake");
        tokio::spawn(conn);
        Client { sender }
    }

    pub async fn get(&mut self, host: &str, path: &str) -> Reply {
        self.send(http::Method::GET, host, path, &[]).await
    }

    pub async fn send(
        &mut self,
        method: http::Method,
        host: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", host);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(Bytes::new())).expect("request");
        self.sender.ready().await.expect("ready");
        let resp = self.sender.send_request(req).await.expect("send");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }
}
