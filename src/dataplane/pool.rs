//! The HTTP/1 upstream connection pool: one per worker thread, on `hyper::client::conn::http1`.
//!
//! Every listener worker runs its own current-thread runtime (see `workers`), so a pool
//! local to the thread needs no lock and keeps a request, its client connection and its
//! upstream connection on one thread. A connection goes back to the pool when the response
//! body has been read to its end (before that it is busy); one the pod closed while idle is
//! skipped, and a request hyper hands back unsent (the connection died before a byte of it
//! was written) is sent again on another connection, so a stale keep-alive connection never
//! turns into a 502.
//!
//! A server may also close an idle connection just as a request is written to it (its idle
//! timeout fires while the request is in flight): hyper then reports the request as sent and
//! the connection as closed. A request that is safe to repeat (GET, HEAD, OPTIONS, TRACE
//! without a body) taken on a connection idle for at least [`REPLAY_AFTER_IDLE`] is copied
//! first and sent again on another connection in that case. Under load, connections are
//! reused within microseconds and nothing is copied.

use super::respond::Body;
use bytes::Bytes;
use http::{Request, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Idle connections kept per endpoint and thread; more than the busiest load keeps open
/// at once is only memory and file descriptors.
const MAX_IDLE_PER_ENDPOINT: usize = 256;

/// A connection idle this long may be closed by the server as the next request reaches it
/// (servers' idle timeouts are seconds; a busy proxy reuses a connection in microseconds).
pub const REPLAY_AFTER_IDLE: Duration = Duration::from_millis(100);

/// An idle connection and when it went idle.
struct Idle {
    sender: SendRequest<Body>,
    since: Instant,
}

thread_local! {
    static IDLE: RefCell<foldhash::HashMap<SocketAddr, Vec<Idle>>> =
        RefCell::new(foldhash::HashMap::default());
}

/// Why a request could not be forwarded.
#[derive(Debug)]
pub enum SendError {
    /// The TCP connection or the HTTP/1 handshake failed.
    Connect(std::io::Error),
    /// The exchange failed after the request was (at least partly) written.
    Http(hyper::Error),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Connect(e) => write!(f, "connect: {e}"),
            SendError::Http(e) => write!(f, "{e}"),
        }
    }
}

fn checkout(addr: SocketAddr) -> Option<Idle> {
    IDLE.with(|idle| {
        let mut idle = idle.borrow_mut();
        let list = idle.get_mut(&addr)?;
        // Most recently used first: it is the one least likely to have been closed.
        while let Some(conn) = list.pop() {
            if !conn.sender.is_closed() {
                return Some(conn);
            }
        }
        None
    })
}

fn checkin(addr: SocketAddr, sender: SendRequest<Body>) {
    if sender.is_closed() {
        return;
    }
    let since = Instant::now();
    IDLE.with(|idle| {
        let mut idle = idle.borrow_mut();
        let list = idle.entry(addr).or_default();
        if list.len() >= MAX_IDLE_PER_ENDPOINT {
            list.retain(|c| !c.sender.is_closed());
        }
        if list.len() < MAX_IDLE_PER_ENDPOINT {
            list.push(Idle { sender, since });
        }
    });
}

/// A copy of `req` to send again if the connection dies under it: only for methods that are
/// safe to repeat and a request without a body (a body cannot be read twice). Cold: under
/// load connections are reused long before they idle that long.
#[cold]
#[inline(never)]
fn replay_copy(req: &Request<Body>) -> Option<Box<Request<Body>>> {
    use http::Method;
    use http_body::Body as _;
    let safe = [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE].contains(req.method());
    if !safe || !req.body().is_end_stream() {
        return None;
    }
    let mut copy = Request::new(super::respond::empty());
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.version_mut() = req.version();
    *copy.headers_mut() = req.headers().clone();
    Some(Box::new(copy))
}

/// Whether a request that was written failed because the server closed the connection
/// before answering (rather than, say, a malformed response).
#[cold]
fn closed_before_answer(e: &hyper::Error) -> bool {
    if e.is_incomplete_message() || e.is_canceled() {
        return true;
    }
    let io = std::error::Error::source(e).and_then(|s| s.downcast_ref::<std::io::Error>());
    io.is_some_and(|io| {
        matches!(
            io.kind(),
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionAborted
        )
    })
}

/// Sends `req` (origin-form URI, `Host` already set) to `addr` over a pooled connection, or
/// a new one when none is idle.
/// An `async` block rather than an `async fn`, which would hold the request twice.
#[allow(clippy::manual_async_fn)]
pub fn send(
    addr: SocketAddr,
    mut req: Request<Body>,
) -> impl std::future::Future<Output = Result<Response<Body>, SendError>> {
    async move {
        while let Some(Idle { mut sender, since }) = checkout(addr) {
            // Ready at once for a connection that is really idle; an error means it closed.
            if sender.ready().await.is_err() {
                continue;
            }
            let replay = if since.elapsed() >= REPLAY_AFTER_IDLE {
                replay_copy(&req)
            } else {
                None
            };
            match sender.try_send_request(req).await {
                Ok(resp) => return Ok(pooled(resp, addr, sender)),
                Err(mut e) => match (e.take_message(), replay) {
                    // Not sent: safe to send again, whatever the method.
                    (Some(back), _) => req = back,
                    (None, Some(copy)) if closed_before_answer(e.error()) => req = *copy,
                    (None, _) => return Err(SendError::Http(e.into_error())),
                },
            }
        }
        // Boxed: its futures are large and a new connection is rare under load, while every
        // request's future is moved around whole (see `proxy::tests::request_future_stays_small`).
        Box::pin(send_on_new_connection(addr, req)).await
    }
}

async fn send_on_new_connection(
    addr: SocketAddr,
    req: Request<Body>,
) -> Result<Response<Body>, SendError> {
    let stream = TcpStream::connect(addr).await.map_err(SendError::Connect)?;
    // Small requests and responses go out at once instead of waiting for Nagle.
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(SendError::Http)?;
    // The connection's I/O runs on this thread's runtime, next to its pool.
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let resp = sender.send_request(req).await.map_err(SendError::Http)?;
    Ok(pooled(resp, addr, sender))
}

/// Wraps the response body so the connection returns to the pool once the body ends.
fn pooled(resp: Response<Incoming>, addr: SocketAddr, sender: SendRequest<Body>) -> Response<Body> {
    use http_body::Body as _;
    if resp.body().is_end_stream() {
        checkin(addr, sender);
        return resp.map(Body::Incoming);
    }
    resp.map(|inner| {
        Body::Pooled(PooledBody {
            inner,
            give_back: Some((addr, sender)),
        })
    })
}

/// A response body that hands its connection back to the pool at its end. Dropped before
/// the end, it drops the connection too (hyper closes it: the rest of the body is unread).
pub struct PooledBody {
    inner: Incoming,
    give_back: Option<(SocketAddr, SendRequest<Body>)>,
}

impl PooledBody {
    fn release(&mut self) {
        if let Some((addr, sender)) = self.give_back.take() {
            checkin(addr, sender);
        }
    }
}

impl http_body::Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => self.release(),
            Poll::Ready(Some(Ok(_))) if self.inner.is_end_stream() => self.release(),
            // An error leaves the connection in an unknown state: it is not reused.
            Poll::Ready(Some(Err(_))) => self.give_back = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Idle connections this thread holds for `addr` (for tests).
pub fn idle_count(addr: SocketAddr) -> usize {
    IDLE.with(|idle| idle.borrow().get(&addr).map_or(0, Vec::len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An origin that answers one request per connection with keep-alive, then closes it:
    /// every pooled connection is dead by the time it is reused.
    async fn closing_origin() -> SocketAddr {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = l.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let _ = s.read(&mut buf).await;
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await;
                    let _ = s.shutdown().await;
                });
            }
        });
        addr
    }

    fn get() -> Request<Body> {
        let mut req = Request::new(super::super::respond::empty());
        *req.uri_mut() = http::Uri::from_static("/");
        req.headers_mut()
            .insert(http::header::HOST, http::HeaderValue::from_static("x"));
        req
    }

    #[tokio::test]
    async fn dead_pooled_connections_are_not_errors() {
        let addr = closing_origin().await;
        for _ in 0..20 {
            let resp = send(addr, get()).await.expect("answered");
            assert_eq!(resp.status(), 200);
            let body = resp.into_body().collect().await.expect("body").to_bytes();
            assert_eq!(&body[..], b"ok");
            // Let the origin's close reach the pooled connection for some of the rounds.
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_connection_is_reused_after_its_body_ends() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = l.local_addr().expect("addr");
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = accepted.clone();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let svc = hyper::service::service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(Response::new(http_body_util::Full::new(
                        Bytes::from_static(b"hello"),
                    )))
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(s), svc),
                );
            }
        });
        for _ in 0..5 {
            let resp = send(addr, get()).await.expect("answered");
            let _ = resp.into_body().collect().await.expect("body");
        }
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(idle_count(addr), 1);
    }
}
