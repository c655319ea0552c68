//! The real kubectl against an in-process gwsim with its Kubernetes API: a kubeconfig and
//! a discovery cache of its own per test, and kubectl found at `/usr/bin/kubectl` or on PATH.

use super::{options, Client};
use gwsim::kube::KubeServer;
use gwsim::runtime::handle::{spawn, Handle};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const HOST: &str = "helloworld.sample.com";

pub const GATEWAY: &str = "apiVersion: gateway.networking.k8s.io/v1beta1
kind: Gateway
metadata:
  name: sample-gateway
  namespace: sample-ingress
spec:
  gatewayClassName: istio
  listeners:
  - name: http
    hostname: \"*.sample.com\"
    port: 80
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: All
";

pub const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata:
  name: helloworld
spec:
  parentRefs:
  - name: sample-gateway
    namespace: sample-ingress
  hostnames: [\"helloworld.sample.com\"]
  rules:
  - matches:
    - path:
        type: Exact
        value: /hello
    backendRefs:
    - name: helloworld
      port: 5000
";

pub const ROUTE_90_10: &str = "apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata:
  name: helloworld
spec:
  parentRefs:
  - name: sample-gateway
    namespace: sample-ingress
  hostnames: [\"helloworld.sample.com\"]
  rules:
  - matches:
    - path:
        type: Exact
        value: /hello
    backendRefs:
    - name: helloworld-v1
      port: 5000
      weight: 90
    - name: helloworld-v2
      port: 5000
      weight: 10
";

/// The kubectl to test with: `/usr/bin/kubectl`, else the first on PATH.
pub fn find_kubectl() -> Option<PathBuf> {
    let fixed = PathBuf::from("/usr/bin/kubectl");
    if fixed.is_file() {
        return Some(fixed);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|p| p.join("kubectl"))
        .find(|p| p.is_file())
}

/// What one kubectl run printed.
#[derive(Debug)]
pub struct Out {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// gwsim in-process with its API, and a kubectl with its own kubeconfig and cache.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub handle: Handle,
    pub _server: KubeServer,
    pub kubectl: PathBuf,
    pub kubeconfig: PathBuf,
    pub cache: tempfile::TempDir,
}

impl Cluster {
    /// Starts on `dir` with Gateway addresses from `127.0.<pool>.0/24`; `None` (after saying
    /// why) when kubectl is not installed.
    pub async fn start(dir: tempfile::TempDir, seed: u64, pool: u8) -> Option<Cluster> {
        let Some(kubectl) = find_kubectl() else {
            eprintln!("skipping: kubectl not found (looked at /usr/bin/kubectl and PATH)");
            return None;
        };
        let handle = spawn(options(dir.path(), seed, pool), false).await;
        let server = gwsim::kube::start(
            handle.clone(),
            dir.path(),
            "127.0.0.1:0".parse().expect("addr"),
        )
        .await
        .expect("kube API");
        let cache = tempfile::tempdir().expect("cache dir");
        let kubeconfig = cache.path().join("kubeconfig");
        std::fs::write(&kubeconfig, gwsim::kube::kubeconfig(&server.url())).expect("kubeconfig");
        Some(Cluster {
            dir,
            handle,
            _server: server,
            kubectl,
            kubeconfig,
            cache,
        })
    }

    pub async fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut cmd = Command::new(&self.kubectl);
        cmd.env("KUBECONFIG", &self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.cache.path().join("cache"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let stdin = stdin.map(str::to_string);
        tokio::task::spawn_blocking(move || {
            let mut child = cmd.spawn().expect("kubectl runs");
            if let Some(mut pipe) = child.stdin.take() {
                if let Some(text) = stdin {
                    pipe.write_all(text.as_bytes()).expect("stdin");
                }
            }
            let out = child.wait_with_output().expect("kubectl output");
            Out {
                ok: out.status.success(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        })
        .await
        .expect("kubectl task")
    }

    /// Runs kubectl and insists that it succeeds.
    pub async fn ok(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let out = self.kubectl(args, stdin).await;
        assert!(out.ok, "kubectl {args:?} failed: {out:?}");
        out
    }

    /// The socket serving `address:port` (the listener port is mapped in tests).
    pub fn bound(&self, address: &str, port: u16) -> std::net::SocketAddr {
        self.handle
            .state()
            .listeners
            .iter()
            .find(|l| l.address == address && l.port == port)
            .and_then(|l| l.bound)
            .expect("listener bound")
    }

    pub fn sample(&self, name: &str) -> String {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(name)
            .display()
            .to_string()
    }
}

/// `n` requests for the walk-through's host: replies by version, and any other statuses.
pub async fn versions(addr: std::net::SocketAddr, n: usize) -> BTreeMap<String, usize> {
    let mut client = Client::connect(addr).await;
    let mut seen = BTreeMap::new();
    for _ in 0..n {
        let r = client.get(HOST, "/hello").await;
        let key = if r.status == 200 {
            r.body
                .split(',')
                .next()
                .unwrap_or_default()
                .trim_start_matches("Hello version: ")
                .to_string()
        } else {
            format!("status {}", r.status)
        };
        *seen.entry(key).or_insert(0) += 1;
    }
    seen
}
