//! A minimal Kubernetes API endpoint over gwsim's store, so the real `kubectl` works against
//! gwsim: discovery, OpenAPI, CRDs, Tables, get/list/watch, create/patch/update/delete.
//!
//! The watched folder and the API share one store: API writes go to gwsim's own layer
//! (`<dir>/.gwsim/applied/`, see [`crate::source::layer`]), then the handler reloads and
//! waits for the new generation, so the next `get` or `wait` sees the change at once.

mod crds;
mod discovery;
mod errors;
mod handlers;
mod openapi;
mod patch;
mod protobuf;
mod query;
pub(crate) mod resources;
pub(crate) mod tables;
pub(crate) mod view;
mod watch;
mod write;

pub use errors::ApiError;

use crate::runtime::handle::Handle;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::watch as channel;
use view::{Builder, EventLog, Snapshot};

/// What every request handler shares.
pub struct KubeApi {
    handle: Handle,
    dir: PathBuf,
    view: channel::Receiver<Arc<Snapshot>>,
    log: Arc<Mutex<EventLog>>,
    /// API writes are serialised: read, write the layer, reload, answer.
    writes: tokio::sync::Mutex<()>,
}

impl KubeApi {
    /// The latest snapshot.
    fn snapshot(&self) -> Arc<Snapshot> {
        self.view.borrow().clone()
    }
}

/// A running API endpoint.
pub struct KubeServer {
    pub addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
    view: tokio::task::JoinHandle<()>,
}

impl KubeServer {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving.
    pub fn stop(&self) {
        self.server.abort();
        self.view.abort();
    }
}

impl Drop for KubeServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts the API for the simulation behind `handle`, whose manifests are in `dir`.
pub async fn start(handle: Handle, dir: &Path, addr: SocketAddr) -> std::io::Result<KubeServer> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let log = Arc::new(Mutex::new(EventLog::default()));
    let now = crate::runtime::clock::now_rfc3339();
    let mut builder = Builder::new(now.clone());
    let mut states = handle.subscribe();
    let first = states.borrow_and_update().clone();
    let (tx, rx) = channel::channel(Arc::new(builder.build(first, &log, &now)));
    let view_log = log.clone();
    let view = tokio::spawn(async move {
        while states.changed().await.is_ok() {
            let state = states.borrow_and_update().clone();
            let now = crate::runtime::clock::now_rfc3339();
            let snapshot = builder.build(state, &view_log, &now);
            if tx.send(Arc::new(snapshot)).is_err() {
                return;
            }
        }
    });
    let api = Arc::new(KubeApi {
        handle,
        dir: dir.to_path_buf(),
        view: rx,
        log,
        writes: tokio::sync::Mutex::new(()),
    });
    let app = handlers::router(api);
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!("kube API stopped: {e}");
        }
    });
    Ok(KubeServer { addr, server, view })
}

/// Where `gwsim up` records the API's URL: `<dir>/.gwsim/kube.json`.
pub fn endpoint_file(dir: &Path) -> PathBuf {
    crate::runtime::state::state_dir(dir).join("kube.json")
}

/// Records the API's URL atomically (temp + rename).
pub fn record_endpoint(dir: &Path, url: &str) -> std::io::Result<()> {
    let path = endpoint_file(dir);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("json.tmp");
    let body = serde_json::json!({"server": url});
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(&body).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(tmp, path)
}

/// The URL `gwsim up` recorded for `dir`.
pub fn recorded_endpoint(dir: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(endpoint_file(dir))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(std::io::Error::other)?;
    value["server"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| std::io::Error::other("kube.json has no \"server\""))
}

/// A kubeconfig whose cluster, user and context are all named `gwsim`. Plain http: kubectl
/// asks for a password on https without credentials.
pub fn kubeconfig(url: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: gwsim
  cluster:
    server: {url}
users:
- name: gwsim
  user: {{}}
contexts:
- name: gwsim
  context:
    cluster: gwsim
    user: gwsim
    namespace: default
current-context: gwsim
"
    )
}
