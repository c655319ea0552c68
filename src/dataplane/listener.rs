//! Listener sockets: one per Gateway address and port, served by hyper (HTTP/1.1 and h2c
//! with prior knowledge; on HTTPS ports, HTTP/1.1 or h2 by ALPN after the TLS handshake).
//! Sockets are opened without `SO_REUSEPORT`, so a port another process holds fails loudly
//! instead of silently sharing its traffic.

use super::proxy::Proxy;
use super::table::PortKey;
use super::tls::TlsInfo;
use arc_swap::ArcSwap;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

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
    task: tokio::task::JoinHandle<()>,
}

impl ListenerHandle {
    /// Stops accepting new connections; connections in progress finish on their own.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

fn bind_std(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )?;
    socket.set_reuse_address(true)?;
    socket.set_tcp_nodelay(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Binds the socket for `key` according to `mapping`.
pub fn bind(key: &PortKey, mapping: PortMapping) -> (Bound, Option<TcpListener>) {
    let Ok(ip) = key.0.parse::<IpAddr>() else {
        return (
            Bound::Failed {
                reason: format!("{} is not an IP address", key.0),
            },
            None,
        );
    };
    let try_bind = |port: u16| bind_std(SocketAddr::new(ip, port)).and_then(TcpListener::from_std);
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

/// Serves a bound socket until stopped; with `tls`, connections are TLS-terminated first
/// using the port's live configuration.
pub fn serve(
    listener: TcpListener,
    key: PortKey,
    proxy: Arc<Proxy>,
    scheme: &'static str,
    tls: Option<Arc<ArcSwap<rustls::ServerConfig>>>,
) -> ListenerHandle {
    let (stop, mut stopped) = watch::channel(false);
    let addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
    let key = Arc::new(key);
    let task = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = stopped.changed() => break,
                a = listener.accept() => a,
            };
            let Ok((stream, _peer)) = accepted else {
                continue;
            };
            let proxy = proxy.clone();
            let key = key.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    None => serve_connection(TokioIo::new(stream), proxy, key, scheme, None).await,
                    Some(config) => {
                        if let Some((stream, info)) = super::tls::accept(stream, &config).await {
                            serve_connection(TokioIo::new(stream), proxy, key, scheme, Some(info))
                                .await;
                        }
                    }
                }
            });
        }
    });
    ListenerHandle { addr, stop, task }
}

async fn serve_connection<I>(
    io: I,
    proxy: Arc<Proxy>,
    key: Arc<PortKey>,
    scheme: &'static str,
    tls: Option<TlsInfo>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
        let proxy = proxy.clone();
        let key = key.clone();
        if let Some(info) = &tls {
            req.extensions_mut().insert(info.clone());
        }
        async move {
            let started = std::time::Instant::now();
            let seen = super::reqlog::Seen::of(&req);
            let mut resp = proxy.handle(&key, scheme, req).await;
            if let Some(series) = resp.extensions_mut().remove::<Arc<crate::stats::Series>>() {
                let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                let status = resp.status().as_u16();
                series.record(status, us);
                proxy.requests.record(seen, status, us, &series);
            }
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection_with_upgrades(io, service)
        .await;
}
