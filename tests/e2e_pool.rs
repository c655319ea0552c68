//! The upstream connection pool against an origin that closes idle connections: no request
//! may fail because a pooled connection died while it was idle.
//!
//! The origin closes connections in both ways a real server's idle timeout does: closing
//! them while idle (the proxy sees the close before reusing them), and closing one just as
//! a request arrives on it (the request was written, no answer comes). The pauses that make
//! connections idle are the test's own; nothing waits on a timer to synchronise.

mod common;

use common::{start, Client};
use gwsim::dataplane::pool::REPLAY_AFTER_IDLE;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const GATEWAY: &str = "e2e/gw";
const HOST: &str = "pool.example";

/// What the origin did, for the assertions.
#[derive(Default)]
struct Counts {
    answered: AtomicUsize,
    /// Connections closed on a request that arrived after the idle timeout.
    dropped_on_arrival: AtomicUsize,
    /// Idle connections closed when told to.
    closed_idle: AtomicUsize,
}

struct Origin {
    addr: SocketAddr,
    counts: Arc<Counts>,
    /// Bumped to make the origin close every idle connection.
    close_idle: watch::Sender<u64>,
    /// Connections open at the origin.
    open: watch::Receiver<usize>,
}

/// A keep-alive HTTP/1.1 origin whose idle timeout is [`REPLAY_AFTER_IDLE`]: a request
/// arriving on a connection idle that long is not answered, the connection is closed.
async fn origin() -> Origin {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let counts = Arc::new(Counts::default());
    let (close_idle, close_rx) = watch::channel(0u64);
    let (open_tx, open) = watch::channel(0usize);
    let open_tx = Arc::new(open_tx);
    let c = counts.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            open_tx.send_modify(|n| *n += 1);
            let (c, mut close_rx, open_tx) = (c.clone(), close_rx.clone(), open_tx.clone());
            close_rx.mark_unchanged();
            tokio::spawn(async move {
                serve(s, &c, &mut close_rx).await;
                open_tx.send_modify(|n| *n -= 1);
            });
        }
    });
    Origin {
        addr,
        counts,
        close_idle,
        open,
    }
}

async fn serve(mut s: TcpStream, counts: &Counts, close_idle: &mut watch::Receiver<u64>) {
    let mut buf = Vec::with_capacity(1024);
    let mut last_answer: Option<Instant> = None;
    loop {
        let mut chunk = [0u8; 1024];
        let n = tokio::select! {
            r = s.read(&mut chunk) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = close_idle.changed(), if buf.is_empty() => {
                counts.closed_idle.fetch_add(1, Ordering::SeqCst);
                return;
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        buf.drain(..end + 4);
        if last_answer.is_some_and(|t| t.elapsed() >= REPLAY_AFTER_IDLE) {
            counts.dropped_on_arrival.fetch_add(1, Ordering::SeqCst);
            return;
        }
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        if s.write_all(answer).await.is_err() {
            return;
        }
        counts.answered.fetch_add(1, Ordering::SeqCst);
        last_answer = Some(Instant::now());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_closing_idle_connections_costs_no_request() {
    let origin = origin().await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("all.yaml"),
        common::loopback_origin_manifests(HOST, origin.addr.port()),
    )
    .expect("write");
    let sim = start(dir.path(), 5, 84).await;
    let gw = sim.address(GATEWAY, 80).expect("listener bound");
    const ROUNDS: usize = 8;
    const CLIENTS: usize = 4;
    const PER_CLIENT: usize = 5;
    let mut statuses = Vec::new();
    for round in 0..ROUNDS {
        // Concurrent clients, so the proxy holds several pooled connections per worker.
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|_| {
                tokio::spawn(async move {
                    let mut c = Client::connect(gw).await;
                    let mut got = Vec::new();
                    for _ in 0..PER_CLIENT {
                        let r = c.get(HOST, "/").await;
                        got.push((r.status, r.body));
                    }
                    got
                })
            })
            .collect();
        for t in tasks {
            statuses.extend(t.await.expect("client"));
        }
        if round % 2 == 0 {
            // The origin closes its idle connections and the test waits until they are gone.
            origin.close_idle.send_modify(|g| *g += 1);
            let mut open = origin.open.clone();
            open.wait_for(|n| *n == 0).await.expect("origin alive");
        }
        // Idle for the origin's timeout: in odd rounds every pooled connection is still open
        // and is closed by the origin when the next request reaches it.
        tokio::time::sleep(REPLAY_AFTER_IDLE + Duration::from_millis(20)).await;
    }
    let failed: Vec<_> = statuses.iter().filter(|(s, _)| *s != 200).collect();
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
    assert_eq!(statuses.len(), ROUNDS * CLIENTS * PER_CLIENT);
    let c = &origin.counts;
    assert_eq!(c.answered.load(Ordering::SeqCst), statuses.len());
    assert!(
        c.closed_idle.load(Ordering::SeqCst) > 0,
        "idle connections were closed"
    );
    assert!(
        c.dropped_on_arrival.load(Ordering::SeqCst) > 0,
        "requests reached connections past their idle timeout"
    );
    sim.shutdown().await;
}
