//! Listener sockets: one group per Gateway address and port, served by hyper (HTTP/1.1 and
//! h2c with prior knowledge) on the per-core workers (see `workers`).
//!
//! Each worker accepts on a socket of its own, all bound to the same address with
//! `SO_REUSEPORT` so the kernel spreads new connections over them. `SO_REUSEPORT` must never
//! let gwsim share a port with another process, so binding goes in two steps:
//!
//! 1. a probe socket *without* `SO_REUSEPORT` is bound (not listened on): if anything else
//!    holds the port, with or without `SO_REUSEPORT`, this fails and the port is reported
//!    as taken, as before; for port 0 the probe also picks the port;
//! 2. the probe is closed and the workers' sockets are bound at once with `SO_REUSEPORT`.
//!
//! What is left: another process could grab the port in the microseconds between 1 and 2
//! (the bind in 2 then fails, unless that process set `SO_REUSEPORT` and runs as the same
//! user), and a process of the same user that itself sets `SO_REUSEPORT` could join the
//! group later (the kernel refuses other users). With one worker no `SO_REUSEPORT` is used.

use super::proxy::{PortCtx, Proxy};
use super::table::PortKey;
use super::tls::{LiveConfig, TlsInfo};
use super::workers;
use futures_util::task::AtomicWaker;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

/// How declared listener ports map to the ports actually bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortMapping {
    /// Bind the declared port; when the process may not (a port below 1024 without the
    /// capability), bind `port + fallback_offset` and say so.
    Declared { fallback_offset: u16 },
    /// Always bind `port + offset` (0 = ephemeral ports, for tests).
    Offset(u16),
    /// Ephemeral ports chosen by the kernel.
    Ephemeral,
}

/// The outcome of binding one port.
#[derive(Debug)]
pub enum Bound {
    Ok {
        addr: SocketAddr,
        note: Option<String>,
    },
    Failed {
        reason: String,
    },
}

/// A running listener; dropping the handle's sender stops accepting.
pub struct ListenerHandle {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Per worker: its open connections, and the way to tell them to close once their
    /// request in flight is answered. Per worker, so that a connection's start and end never
    /// write a cache line another worker shares.
    open: Vec<Arc<OpenConnections>>,
}

impl ListenerHandle {
    /// Stops accepting and tells the open connections to close once the request they carry
    /// is answered; idle keep-alive connections close at once. Does not wait for them: a
    /// listener removed by a reload must not keep serving a port the configuration dropped.
    pub async fn stop(self) {
        self.close().await;
    }

    /// Ends the accept loops and starts draining; what is left is the open connections.
    async fn close(self) -> Vec<Arc<OpenConnections>> {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        // Every worker's flag is set before any connection is woken: once one connection has
        // seen the drain, every answer from then on says `connection: close`.
        for o in &self.open {
            o.draining.store(true, Ordering::SeqCst);
        }
        for o in &self.open {
            o.wake_all();
        }
        self.open
    }

    /// [`ListenerHandle::stop`], then waits until every connection has closed or `grace` has
    /// passed. Returns how many connections were still open then (they are cut when the
    /// process exits).
    pub async fn drain(self, grace: Duration) -> usize {
        let open = self.close().await;
        let all_closed = async {
            for o in &open {
                o.closed().await;
            }
        };
        let _ = tokio::time::timeout(grace, all_closed).await;
        open.iter().map(|o| o.count()).sum()
    }
}

/// The connections one worker has open on a listener. Each connection watches the drain
/// flag through a waker of its own rather than a shared channel: a connection's task polls
/// that watch on every wake-up, so it must cost an atomic load, not a lock.
#[derive(Default)]
struct OpenConnections {
    /// Shared with the worker's [`PortCtx`], whose answers then say the connection closes.
    draining: Arc<AtomicBool>,
    /// Each open connection's waker, to wake it when draining starts, keyed by its address
    /// (unique while the connection is open).
    wakers: Mutex<foldhash::HashMap<usize, Arc<AtomicWaker>>>,
    none_left: Notify,
}

impl OpenConnections {
    fn enter(self: &Arc<Self>) -> OpenGuard {
        let waker = Arc::new(AtomicWaker::new());
        self.lock().insert(key(&waker), waker.clone());
        OpenGuard {
            conns: self.clone(),
            waker,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, foldhash::HashMap<usize, Arc<AtomicWaker>>> {
        // The map stays consistent whatever panicked while holding it.
        self.wakers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn count(&self) -> usize {
        self.lock().len()
    }

    fn wake_all(&self) {
        for waker in self.lock().values() {
            waker.wake();
        }
    }

    /// Resolves once no connection is open.
    async fn closed(&self) {
        loop {
            // Registered before the count is read, so a close in between is not missed.
            let notified = self.none_left.notified();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// One open connection; dropped when the connection ends.
struct OpenGuard {
    conns: Arc<OpenConnections>,
    waker: Arc<AtomicWaker>,
}

fn key(waker: &Arc<AtomicWaker>) -> usize {
    Arc::as_ptr(waker) as usize
}

impl OpenGuard {
    /// Resolves when the listener stops (never when its handle is just dropped).
    fn drained(&self) -> Drained<'_> {
        Drained(self)
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        let mut wakers = self.conns.lock();
        wakers.remove(&key(&self.waker));
        if wakers.is_empty() {
            drop(wakers);
            self.conns.none_left.notify_waiters();
        }
    }
}

struct Drained<'a>(&'a OpenGuard);

impl Future for Drained<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Registered before the flag is read, so a drain in between still wakes this task.
        self.0.waker.register(cx.waker());
        if self.0.conns.draining.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

fn socket_for(addr: SocketAddr) -> std::io::Result<socket2::Socket> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )?;
    socket.set_reuse_address(true)?;
    Ok(socket)
}

fn bind_std(addr: SocketAddr, reuse_port: bool) -> std::io::Result<std::net::TcpListener> {
    let socket = socket_for(addr)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.set_tcp_nodelay(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// The bound sockets of one port, one per worker.
pub struct Sockets {
    listeners: Vec<std::net::TcpListener>,
}

impl Sockets {
    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match self.listeners.first() {
            Some(l) => l.local_addr(),
            None => Err(std::io::Error::other("no socket bound")),
        }
    }
}

/// Binds `count` sockets to `addr` (see the module comment for why the probe comes first).
fn bind_group(addr: SocketAddr, count: usize) -> std::io::Result<Sockets> {
    if count <= 1 {
        return Ok(Sockets {
            listeners: vec![bind_std(addr, false)?],
        });
    }
    // An ephemeral port may be taken between probe and bind; then another one is tried.
    let attempts = if addr.port() == 0 { 3 } else { 1 };
    let mut last = None;
    for _ in 0..attempts {
        let probe = socket_for(addr)?;
        probe.bind(&addr.into())?;
        let port = probe
            .local_addr()?
            .as_socket()
            .map_or(addr.port(), |a| a.port());
        drop(probe);
        let at = SocketAddr::new(addr.ip(), port);
        match (0..count)
            .map(|_| bind_std(at, true))
            .collect::<std::io::Result<Vec<_>>>()
        {
            Ok(listeners) => return Ok(Sockets { listeners }),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("cannot bind")))
}

/// Binds the sockets for `key` according to `mapping`, one per listener worker.
pub fn bind(key: &PortKey, mapping: PortMapping) -> (Bound, Option<Sockets>) {
    let Ok(ip) = key.0.parse::<IpAddr>() else {
        return (
            Bound::Failed {
                reason: format!("{} is not an IP address", key.0),
            },
            None,
        );
    };
    let count = workers::get().count();
    let try_bind = |port: u16| bind_group(SocketAddr::new(ip, port), count);
    let (result, note) = match mapping {
        PortMapping::Ephemeral => (try_bind(0), None),
        PortMapping::Offset(off) => (try_bind(key.1.saturating_add(off)), None),
        PortMapping::Declared { fallback_offset } => match try_bind(key.1) {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                let mapped = key.1.saturating_add(fallback_offset);
                let note = format!(
                    "port {} needs privileges (run as root, `sudo setcap cap_net_bind_service=+ep $(which gwsim)`, or `sysctl net.ipv4.ip_unprivileged_port_start=0`); serving it on {mapped} instead",
                    key.1
                );
                (try_bind(mapped), Some(note))
            }
            other => (other, None),
        },
    };
    match result {
        Ok(l) => match l.local_addr() {
            Ok(addr) => (Bound::Ok { addr, note }, Some(l)),
            Err(e) => (
                Bound::Failed {
                    reason: e.to_string(),
                },
                None,
            ),
        },
        Err(e) => (
            Bound::Failed {
                reason: format!("cannot bind {}:{}: {e}", key.0, key.1),
            },
            None,
        ),
    }
}

/// Serves bound sockets until stopped: each socket's accept loop runs on its own worker.
/// With `tls`, connections are TLS-terminated first using the port's live configuration.
pub fn serve(
    sockets: Sockets,
    key: PortKey,
    proxy: Arc<Proxy>,
    scheme: &'static str,
    tls: Option<LiveConfig>,
) -> ListenerHandle {
    let (stop, stopped) = watch::channel(false);
    let addr = sockets
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
    let key = Arc::new(key);
    let runtimes = workers::get().handles();
    let mut open = Vec::new();
    let tasks = sockets
        .listeners
        .into_iter()
        .zip(runtimes.iter().cycle())
        .map(|(socket, rt)| {
            let conns = Arc::<OpenConnections>::default();
            open.push(conns.clone());
            // This worker's own handle (see `PortCtx`), unlike the proxy's shared count.
            let port = Arc::new(PortCtx {
                proxy: proxy.clone(),
                key: key.clone(),
                closing: conns.draining.clone(),
            });
            rt.spawn(accept_loop(
                socket,
                port,
                scheme,
                tls.clone(),
                stopped.clone(),
                conns,
            ))
        })
        .collect();
    ListenerHandle {
        addr,
        stop,
        tasks,
        open,
    }
}

/// Accepts on one socket, on the worker this runs on, until told to stop.
async fn accept_loop(
    socket: std::net::TcpListener,
    port: Arc<PortCtx>,
    scheme: &'static str,
    tls: Option<LiveConfig>,
    mut stopped: watch::Receiver<bool>,
    conns: Arc<OpenConnections>,
) {
    // Registering here ties the socket to this worker's I/O driver.
    let listener = match TcpListener::from_std(socket) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("cannot serve {}:{}: {e}", port.key.0, port.key.1);
            return;
        }
    };
    loop {
        let accepted = tokio::select! {
            _ = stopped.changed() => break,
            a = listener.accept() => a,
        };
        let Ok((stream, _peer)) = accepted else {
            continue;
        };
        let port = port.clone();
        let open = conns.enter();
        match &tls {
            None => {
                tokio::spawn(serve_connection(
                    TokioIo::new(stream),
                    port,
                    scheme,
                    None,
                    open,
                ));
            }
            Some(config) => {
                let config = config.clone();
                tokio::spawn(async move {
                    // A handshake that has not finished when draining starts is dropped.
                    let accepted = tokio::select! {
                        a = super::tls::accept(stream, &config) => a,
                        () = open.drained() => None,
                    };
                    if let Some((stream, info)) = accepted {
                        serve_connection(TokioIo::new(stream), port, scheme, Some(info), open)
                            .await;
                    }
                });
            }
        }
    }
}

/// Serves one client connection: HTTP/1.1 (with upgrades) or h2c, every request through
/// the proxy, each answer counted in the stats series the proxy tagged it with. When the
/// listener drains, the connection closes once its request in flight has its answer.
async fn serve_connection<I>(
    io: I,
    port: Arc<PortCtx>,
    scheme: &'static str,
    tls: Option<TlsInfo>,
    open: OpenGuard,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
        if let Some(info) = &tls {
            req.extensions_mut().insert(info.clone());
        }
        // The proxy's future itself, not wrapped in another async block: hyper moves each
        // request's future into the connection, and every level of nesting adds to its size.
        Proxy::serve(port.clone(), scheme, req)
    });
    let head = tokio::select! {
        h = super::head::Head::read(io) => h,
        () = open.drained() => return,
    };
    let Ok(Some((io, h2))) = head else {
        return;
    };
    if h2 {
        // Behind a trait object, so the HTTP/2 server's code is not inlined into the
        // HTTP/1.1 connection's, which nearly every connection runs.
        let h2: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
            let conn = http2::Builder::new(TokioExecutor::new()).serve_connection(io, service);
            until_drained(conn, &open, |c| c.graceful_shutdown()).await;
        });
        h2.await;
    } else {
        let conn = http1::Builder::new()
            .serve_connection(io, service)
            .with_upgrades();
        until_drained(conn, &open, |c| c.graceful_shutdown()).await;
    }
}

/// Runs a connection to its end; if the listener drains first, asks it to finish the
/// request in flight and close (`shutdown` is the protocol's graceful shutdown).
async fn until_drained<C: Future>(conn: C, open: &OpenGuard, shutdown: impl FnOnce(Pin<&mut C>)) {
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        biased;
        _ = conn.as_mut() => return,
        () = open.drained() => {}
    }
    shutdown(conn.as_mut());
    let _ = conn.await;
}
