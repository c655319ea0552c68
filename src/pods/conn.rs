//! One listening socket of a pod: accepting connections, serving each with HTTP/1.1 or h2c
//! (prior knowledge) on the same port, and closing them with a TCP reset when asked.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::lifecycle::{TrackedExecutor, Tracker};
use super::server::{self, Pod};

/// What a request handler knows about the connection it arrived on.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    /// The client's address, as the server sees it.
    pub(crate) remote: SocketAddr,
    /// The container port the request was addressed to (not the ephemeral port bound).
    pub(crate) container_port: u16,
    reset: Arc<AtomicBool>,
}

impl Peer {
    /// Makes the connection end with a TCP reset instead of a FIN once it is closed.
    pub(crate) fn reset_on_close(&self) {
        self.reset.store(true, Ordering::Relaxed);
    }
}

/// Accepts connections until the pod drains, then closes the listener.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    pod: Arc<Pod>,
    container_port: u16,
    tracker: Tracker,
) {
    let mut builder = auto::Builder::new(TrackedExecutor(tracker.clone()));
    // Gives HTTP/1 its default header-read timeout, so a client that opens a connection and
    // never finishes its request does not hold up a drain.
    builder.http1().timer(TokioTimer::new());
    let mut backoff = Duration::from_millis(5);
    loop {
        let accepted = tokio::select! {
            () = tracker.draining() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(err) if is_connection_error(&err) => continue,
            Err(err) => {
                // Out of file descriptors and the like: back off rather than spin, as Go's
                // http.Server does.
                tracing::warn!(pod = %pod.name, %err, "accept failed");
                tokio::select! {
                    () = tracker.draining() => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        backoff = Duration::from_millis(5);
        let _ = stream.set_nodelay(true);
        let peer = Peer {
            remote,
            container_port,
            reset: Arc::new(AtomicBool::new(false)),
        };
        tracker.spawn(serve_connection(
            builder.clone(),
            stream,
            peer,
            pod.clone(),
            tracker.clone(),
        ));
    }
}

fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

async fn serve_connection(
    builder: auto::Builder<TrackedExecutor>,
    stream: TcpStream,
    peer: Peer,
    pod: Arc<Pod>,
    tracker: Tracker,
) {
    let io = TokioIo::new(ResettableStream {
        inner: stream,
        reset: peer.reset.clone(),
    });
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        server::handle(pod.clone(), peer.clone(), req)
    });
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(err) = result {
                tracing::debug!(%err, "connection ended with an error");
            }
            return;
        }
        () = tracker.draining() => {}
    }
    // Lets the request in flight finish (HTTP/1) or sends GOAWAY and lets open streams
    // finish (HTTP/2); idle connections close at once.
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// A TCP stream that, when its handler asked for it, is closed with an RST: the way
/// echo-basic fails a `/retry/` request without answering it.
struct ResettableStream {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Relaxed) {
            // A zero linger turns the close into an abortive one; on a non-blocking socket
            // it does not block the drop.
            let _ = socket2::SockRef::from(&self.inner).set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.reset.load(Ordering::Relaxed) {
            // A FIN sent now would reach the client before the RST of the drop.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
