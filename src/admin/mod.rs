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
pub mod view;

pub use api::{StatsView, Totals};

use crate::runtime::events::EventKind;
use crate::runtime::handle::Handle;
use axum::routing::get;
use axum::Router;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// What every handler shares.
#[derive(Clone)]
pub struct AdminState {
    handle: Handle,
    metrics: Arc<prometheus_client::registry::Registry>,
    pods: Arc<objects::PodClock>,
    /// Requests per second for the view model, sampled by [`serve`]'s task.
    rates: Arc<Mutex<crate::view::Rates>>,
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

/// Every route of the admin server. Requests per second stay 0 unless [`serve`] samples them.
pub fn router(handle: Handle) -> Router {
    app(handle).0
}

fn app(handle: Handle) -> (Router, AdminState) {
    let state = AdminState {
        metrics: Arc::new(metrics::registry(handle.clone())),
        handle,
        pods: Arc::default(),
        rates: Arc::default(),
    };
    // Pods running now were born no later than now; the sampler notes later ones.
    state
        .pods
        .observe(&state.handle.state(), &crate::runtime::clock::now_rfc3339());
    let router = Router::new()
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
        .route("/api/view", get(view::get))
        .with_state(state.clone());
    (router, state)
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
    let (app, state) = app(handle);
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.changed().await;
        };
        let server = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .into_future();
        // The sampler never ends on its own: it lives exactly as long as the server.
        tokio::select! {
            result = server => {
                if let Err(e) = result {
                    tracing::warn!("admin server stopped: {e}");
                }
            }
            () = view::sample(state.handle.clone(), state.rates.clone(), state.pods.clone()) => {}
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

/// The admin server of a `gwsim up`, registered in its folder's instance file.
pub struct Running {
    server: Server,
    dir: std::path::PathBuf,
}

impl Running {
    /// `http://ADDR` of the admin server.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Stops the server and removes the instance file if it is still this process's.
    pub async fn stop(self) {
        instance::remove_if_ours(&self.dir, std::process::id());
        self.server.stop().await;
    }
}

/// Why the admin server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot bind the admin API on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// What `gwsim up` does: serve on `addr`, say where, warn when that is not loopback, and
/// register the instance in `<dir>/.gwsim/instance.json` for `gwsim get` and `gwsim wait`.
pub async fn start(
    handle: Handle,
    addr: SocketAddr,
    dir: &std::path::Path,
) -> Result<Running, StartError> {
    let server = serve(handle.clone(), addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    // Through the event log, so the terminal dashboard's event pane and the plain log lines
    // both say where the admin server is.
    let events = handle.events().clone();
    if let Some(w) = exposure_warning(server.addr) {
        events.push(EventKind::Problem, w);
    }
    events.push(
        EventKind::Listener,
        format!(
            "admin API and web dashboard on {}/ (metrics: /metrics)",
            server.url()
        ),
    );
    let record = instance::Instance {
        admin_url: server.url(),
        pid: std::process::id(),
        dir: dir.display().to_string(),
    };
    // Without the file, `get`/`wait` still work with --server; serving goes on.
    if let Err(e) = instance::write(dir, &record) {
        events.push(
            EventKind::Problem,
            format!(
                "cannot write {}: {e}; use --server {} with gwsim get/wait",
                instance::path(dir).display(),
                server.url()
            ),
        );
    }
    Ok(Running {
        server,
        dir: dir.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::exposure_warning;

    #[test]
    fn only_non_loopback_addresses_warn() {
        let at = |a: &str| exposure_warning(a.parse().expect("addr"));
        assert_eq!(at("127.0.0.1:0"), None);
        assert_eq!(at("[::1]:9000"), None);
        assert!(at("0.0.0.0:9000").is_some_and(|w| w.contains("no authentication")));
    }
}
