//! Starting and stopping a fake pod: one loopback listener per container port, all sharing
//! the pod's identity, log and in-memory state.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use http::header::EXPECT;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, Version};
use tokio::net::TcpListener;

use super::conn::{self, Peer};
use super::lifecycle::{Lifecycle, Tracker};
use super::retry::RetryBook;
use super::{echo, helloworld, Behaviour, PodLog};

/// How long [`RunningPod::stop`] lets in-flight requests run before dropping them: the
/// Kubernetes default `terminationGracePeriodSeconds`.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(30);

/// What to run: a pod's identity, its image's behaviour and the ports its container opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSpec {
    /// The full pod name, e.g. `infra-backend-v1-84f656fd64-k4ct5`.
    pub name: String,
    /// The pod's namespace.
    pub namespace: String,
    /// How the pod answers.
    pub behaviour: Behaviour,
    /// The container ports to listen on (e.g. 3000, 3001), one loopback socket each;
    /// duplicates are listened on once.
    pub container_ports: Vec<u16>,
}

/// A pod that is serving. Dropping it without [`RunningPod::stop`] kills its connections
/// at once, like a container killed without a grace period.
#[derive(Debug)]
pub struct RunningPod {
    name: String,
    namespace: String,
    addrs: BTreeMap<u16, SocketAddr>,
    log: PodLog,
    lifecycle: Lifecycle,
}

impl RunningPod {
    /// The pod's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The pod's namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The local address serving `container_port`, if the pod listens on it.
    pub fn addr(&self, container_port: u16) -> Option<SocketAddr> {
        self.addrs.get(&container_port).copied()
    }

    /// Every container port with the local address serving it, by port.
    pub fn addrs(&self) -> &BTreeMap<u16, SocketAddr> {
        &self.addrs
    }

    /// The pod's log (its stdout).
    pub fn log(&self) -> &PodLog {
        &self.log
    }

    /// Stops gracefully: closes the listeners at once, lets requests in flight finish for up
    /// to [`DEFAULT_GRACE_PERIOD`], and returns once every connection is closed.
    pub async fn stop(self) {
        self.stop_with_grace(DEFAULT_GRACE_PERIOD).await;
    }

    /// [`RunningPod::stop`] with another grace period; whatever is still running after it
    /// is dropped, as the kubelet kills a container that outlives its grace period.
    pub async fn stop_with_grace(self, grace: Duration) {
        self.lifecycle.shutdown(grace).await;
    }
}

/// Binds one listener per container port on `bind_ip` port 0 (ephemeral) and serves.
///
/// Every port speaks HTTP/1.1 and h2c with prior knowledge. Must be called within a Tokio
/// runtime; if any bind fails, nothing is left running.
pub async fn start(spec: PodSpec, bind_ip: IpAddr) -> std::io::Result<RunningPod> {
    let PodSpec {
        name,
        namespace,
        behaviour,
        container_ports,
    } = spec;
    let mut listeners = Vec::new();
    let mut addrs = BTreeMap::new();
    for port in container_ports.into_iter().collect::<BTreeSet<_>>() {
        let listener = TcpListener::bind((bind_ip, 0)).await?;
        addrs.insert(port, listener.local_addr()?);
        listeners.push((port, listener));
    }
    let log = PodLog::new();
    let (lifecycle, tracker) = Lifecycle::new();
    let pod = Arc::new(Pod {
        name: name.clone(),
        namespace: namespace.clone(),
        behaviour,
        log: log.clone(),
        retries: RetryBook::default(),
        tracker: tracker.clone(),
    });
    for (port, listener) in listeners {
        tracker.spawn(conn::accept_loop(
            listener,
            pod.clone(),
            port,
            tracker.clone(),
        ));
    }
    Ok(RunningPod {
        name,
        namespace,
        addrs,
        log,
        lifecycle,
    })
}

/// What every connection of a pod shares.
#[derive(Debug)]
pub(crate) struct Pod {
    pub(crate) name: String,
    pub(crate) namespace: String,
    pub(crate) behaviour: Behaviour,
    pub(crate) log: PodLog,
    pub(crate) retries: RetryBook,
    /// Lets handlers spawn work that outlives the request (websocket sessions) and still
    /// holds up the pod's stop.
    pub(crate) tracker: Tracker,
}

/// A handler's way of closing the connection without any response, as a crashing or
/// misbehaving backend does.
#[derive(Debug)]
pub(crate) struct Reset;

impl Reset {
    /// Fails the request: HTTP/1 connections end with a TCP reset, HTTP/2 streams with
    /// RST_STREAM (the rest of the connection carries on).
    pub(crate) fn connection(peer: &Peer, version: Version) -> Reset {
        if version != Version::HTTP_2 {
            peer.reset_on_close();
        }
        Reset
    }
}

impl fmt::Display for Reset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the pod reset the connection")
    }
}

impl std::error::Error for Reset {}

/// Answers one request as the pod's image would.
pub(crate) async fn handle(
    pod: Arc<Pod>,
    peer: Peer,
    req: Request<Incoming>,
) -> Result<Response, Reset> {
    let (mut parts, body) = req.into_parts();
    let response = match &pod.behaviour {
        Behaviour::Echo => echo::handle(&pod, &peer, &mut parts).await?,
        Behaviour::Helloworld { version } => helloworld::handle(&pod, version, &peer, &parts),
    };
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        discard_body(body, &parts.headers).await;
    }
    Ok(response)
}

/// How much of an unread request body is read and thrown away, as Go's server does.
const DISCARD_LIMIT: usize = 256 * 1024;

/// Reads what the handler left of the request body, up to [`DISCARD_LIMIT`]. Closing a
/// socket with unread bytes makes the kernel send an RST, which can destroy the response
/// before the client reads it; reading them keeps the connection reusable too.
async fn discard_body(body: Incoming, headers: &HeaderMap) {
    // Reading would send a `100 Continue` the client asked permission for; Go sends none
    // when the handler does not read, and neither do we.
    if headers.contains_key(EXPECT) {
        return;
    }
    let _ = Limited::new(body, DISCARD_LIMIT).collect().await;
}
