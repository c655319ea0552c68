//! The admin server `gwsim up` starts beside the listeners: a JSON API over the published
//! state, a server-sent event stream, Prometheus `/metrics`, health and readiness, and the
//! web dashboard. It only reads what the runtime publishes; it never computes routing.

mod api;
pub mod client;
pub mod instance;
pub mod metrics;
pub mod objects;
mod page;
pub mod resources;
mod stream;

pub use api::{StatsView, Totals};

use crate::runtime::handle::Handle;
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

/// What every handler shares.
#[derive(Clone)]
pub struct AdminState {
    handle: Handle,
    metrics: Arc<prometheus_client::registry::Registry>,
    pods: Arc<objects::PodClock>,
}

impl AdminState {
    /// A kubectl-style `List` of the objects `filter` selects.
    fn list(&self, filter: &objects::Filter) -> serde_json::Value {
        let state = self.handle.state();
        let times = self
            .pods
            .observe(&state, &crate::runtime::clock::now_rfc3339());
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "metadata": {"resourceVersion": state.generation.to_string()},
            "items": objects::list(&state, filter, &times),
        })
    }
}

/// Every route of the admin server.
pub fn router(handle: Handle) -> Router {
    let state = AdminState {
        metrics: Arc::new(metrics::registry(handle.clone())),
        handle,
        pods: Arc::default(),
    };
    Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::app))
        .route("/style.css", get(page::style))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .route("/api/info", get(api::info))
        .route("/api/objects", get(api::objects))
        .route("/api/routing", get(api::routing))
        .route("/api/pods", get(api::pods))
        .route("/api/pods/{namespace}/{name}/log", get(api::pod_log))
        .route("/api/stats", get(api::stats))
        .route("/api/diagnostics", get(api::diagnostics))
        .route("/api/events", get(api::events))
        .route("/api/requests", get(api::requests))
        .route("/api/stream", get(stream::stream))
        .with_state(state)
}

/// A running admin server.
pub struct Server {
    /// The bound address.
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting and lets requests in flight finish. Event streams end when the
    /// runtime shuts down; one still open after a short grace is cut.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(std::time::Duration::from_secs(2), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

/// Binds `addr` and serves the admin API for `handle`.
pub async fn serve(handle: Handle, addr: SocketAddr) -> std::io::Result<Server> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = watch::channel(false);
    let app = router(handle);
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.changed().await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!("admin server stopped: {e}");
        }
    });
    Ok(Server { addr, stop, task })
}

/// A warning for binding the admin API where other machines can reach it: it has no
/// authentication and shows every object and request.
pub fn exposure_warning(addr: SocketAddr) -> Option<String> {
    (!addr.ip().is_loopback()).then(|| {
        format!(
            "the admin API on {addr} is reachable from other machines and has no authentication"
        )
    })
}
