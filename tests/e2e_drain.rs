//! Stopping gwsim drains its listeners: a request in flight still gets its answer, after
//! which its connection is closed, no new connection is accepted, and the stop completes once
//! the last connection has closed. A listener that a reload removes closes its connections
//! the same way. The origin is the test's own, so it answers exactly when the test says.

mod common;

use common::{loopback_origin_manifests, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// An origin that reads one request, says so on `got`, and answers it only when `release`
/// fires; it then keeps the connection until gwsim closes it.
async fn held_origin() -> (u16, oneshot::Receiver<()>, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind origin");
    let port = listener.local_addr().expect("origin address").port();
    let (got_tx, got_rx) = oneshot::channel();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.expect("accept");
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = conn.read(&mut buf).await.expect("read request");
            assert!(n > 0, "gwsim closed before sending the request");
            head.extend_from_slice(&buf[..n]);
        }
        let _ = got_tx.send(());
        let _ = release_rx.await;
        conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nlate\n")
            .await
            .expect("answer");
        while conn.read(&mut buf).await.is_ok_and(|n| n > 0) {}
    });
    (port, got_rx, release_tx)
}

/// gwsim in front of a held origin: the instance, its listener's address, and the origin's
/// "got the request" and "answer now".
async fn gwsim_before_held_origin(
    pool: u8,
) -> (
    tempfile::TempDir,
    gwsim::runtime::sim::Sim,
    std::net::SocketAddr,
    oneshot::Receiver<()>,
    oneshot::Sender<()>,
) {
    let (origin_port, got, release) = held_origin().await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("origin.yaml"),
        loopback_origin_manifests("drain.example", origin_port),
    )
    .expect("write");
    let sim = start(dir.path(), 5, pool).await;
    let addr = sim.address("e2e/gw", 80).expect("listener bound");
    (dir, sim, addr, got, release)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_answers_the_request_in_flight_before_it_completes() {
    let (_dir, sim, addr, got, release) = gwsim_before_held_origin(95).await;

    // A raw client: what it reads to the end of the connection is exactly what gwsim sent.
    let mut client = TcpStream::connect(addr).await.expect("connect");
    client
        .write_all(b"GET / HTTP/1.1\r\nhost: drain.example\r\n\r\n")
        .await
        .expect("send the request");
    let in_flight = tokio::spawn(async move {
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.map(|_| answer)
    });
    let idle = TcpStream::connect(addr).await.expect("connect");
    got.await.expect("the origin got the request");

    let mut stopping = tokio::spawn(sim.shutdown());
    // Draining starts by closing the listening sockets: a new connection is refused.
    while TcpStream::connect(addr).await.is_ok() {
        tokio::task::yield_now().await;
    }
    // Once an idle connection is closed, the drain has reached every connection.
    assert_closed(idle).await;
    assert!(
        !stopping.is_finished(),
        "the stop completed while a request was still waiting for its answer"
    );

    release.send(()).expect("the origin is waiting");
    assert_last_answer(in_flight).await;
    (&mut stopping).await.expect("the stop completes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_closes_idle_connections_without_waiting_for_the_grace_period() {
    let (_dir, sim, addr, _got, _release) = gwsim_before_held_origin(96).await;
    // Keep-alive connections that carry no request: the stop must close them at once.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(addr).await.expect("connect"));
    }
    let started = tokio::time::Instant::now();
    sim.shutdown().await;
    assert!(
        started.elapsed() < gwsim::runtime::sim::DRAIN_GRACE,
        "idle connections held the stop for the whole grace period"
    );
    for conn in idle {
        assert_closed(conn).await;
    }
}

/// What a client read until gwsim closed its connection is the origin's answer, and that
/// answer says the connection ends, so no client sends another request on it. The timeout
/// only guards against hanging: gwsim closes the connection right after the answer.
async fn assert_last_answer(in_flight: tokio::task::JoinHandle<std::io::Result<Vec<u8>>>) {
    let answer = tokio::time::timeout(std::time::Duration::from_secs(30), in_flight)
        .await
        .expect("gwsim closed the connection after answering")
        .expect("client task")
        .expect("read the answer");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nlate\n"), "{answer}");
    assert!(answer.contains("\r\nconnection: close\r\n"), "{answer}");
}

/// The connection is closed by gwsim (the timeout only guards against hanging).
async fn assert_closed(mut conn: TcpStream) {
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), conn.read(&mut buf))
        .await
        .expect("gwsim closed the idle connection");
    // An accepted connection ends with EOF; one still in the listening socket's queue when
    // it closed is reset by the kernel.
    let closed = match &read {
        Ok(n) => *n == 0,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    };
    assert!(closed, "gwsim closed the idle connection: {read:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_removed_by_a_reload_closes_its_connections_once_answered() {
    let (dir, mut sim, addr, got, release) = gwsim_before_held_origin(97).await;
    let idle = TcpStream::connect(addr).await.expect("connect");
    let mut busy = TcpStream::connect(addr).await.expect("connect");
    busy.write_all(b"GET / HTTP/1.1\r\nhost: drain.example\r\n\r\n")
        .await
        .expect("send the request");
    let in_flight = tokio::spawn(async move {
        let mut answer = Vec::new();
        busy.read_to_end(&mut answer).await.map(|_| answer)
    });
    got.await.expect("the origin got the request");

    // The Gateway's only listener moves from port 80 to 81: port 80's listener goes away.
    let path = dir.path().join("origin.yaml");
    let manifests = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, manifests.replace("port: 80,", "port: 81,")).expect("write");
    sim.reload().await;
    assert!(
        sim.address("e2e/gw", 80).is_none(),
        "port 80 is still listed"
    );
    assert_closed(idle).await;

    release.send(()).expect("the origin is waiting");
    assert_last_answer(in_flight).await;
    sim.shutdown().await;
}
