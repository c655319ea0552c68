//! HTTPRoute `retry`, end to end over loopback: the echo pod's `/retry/` endpoint fails a
//! request id a given number of times (with a status, or by resetting the connection), so
//! each case shows exactly how many tries gwsim made.

mod common;

use bytes::Bytes;
use common::{loopback_service, loopback_service_at, start, Client, Reply, E2E_GATEWAY};
use gwsim::runtime::sim::Sim;
use http_body_util::{BodyExt, Full};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HOST: &str = "retry.example";

/// Routes under `/retry/<name>` to the echo pod, plus `/upload` to `origin` and `/refused` to
/// `closed`, the test's own loopback ports.
fn manifests(origin: u16, closed: u16) -> String {
    format!(
        r#"{E2E_GATEWAY}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: retries, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]
  hostnames: [{HOST}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /retry/codes}}}}]
    retry: {{codes: [500, 502], attempts: 3, backoff: 10ms}}
    backendRefs: [{{name: echo, port: 8080}}]
  - matches: [{{path: {{type: PathPrefix, value: /retry/off}}}}]
    retry: {{codes: [500], attempts: 0}}
    backendRefs: [{{name: echo, port: 8080}}]
  - matches: [{{path: {{type: PathPrefix, value: /retry/slow}}}}]
    retry: {{attempts: 1, backoff: 10ms}}
    timeouts: {{backendRequest: 200ms}}
    backendRefs: [{{name: echo, port: 8080}}]
  - matches: [{{path: {{type: PathPrefix, value: /retry/bounded}}}}]
    retry: {{codes: [500], attempts: 3, backoff: 200ms}}
    timeouts: {{request: 300ms}}
    backendRefs: [{{name: echo, port: 8080}}]
  - matches: [{{path: {{type: PathPrefix, value: /retry/backoff}}}}]
    retry: {{codes: [503], attempts: 1, backoff: 300ms}}
    backendRefs: [{{name: echo, port: 8080}}]
  - matches: [{{path: {{type: PathPrefix, value: /upload}}}}]
    retry: {{codes: [503], attempts: 1, backoff: 1ms}}
    backendRefs: [{{name: origin, port: 8080}}]
  - matches: [{{path: {{type: PathPrefix, value: /pair}}}}]
    retry: {{attempts: 1, backoff: 1ms}}
    backendRefs: [{{name: pair, port: 8080}}]
  - matches: [{{path: {{type: PathPrefix, value: /refused}}}}]
    retry: {{attempts: 2, backoff: 50ms}}
    backendRefs: [{{name: closed, port: 8080}}]
---
{}
---
{}
---
{}
"#,
        loopback_service("origin", origin),
        loopback_service("closed", closed),
        loopback_service_at("pair", origin, &["127.0.0.2", "127.0.0.1"]),
    )
}

/// An origin that answers 503 and 200 in turn, starting with 503, each with the body it
/// received; `tries` counts the requests.
async fn flaky_origin() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind origin");
    let port = listener.local_addr().expect("origin address").port();
    let tries = Arc::new(AtomicUsize::new(0));
    let counted = tries.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counted = counted.clone();
            let service = hyper::service::service_fn(move |req: http::Request<_>| {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    let body = BodyExt::collect(req.into_body())
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let status = if n.is_multiple_of(2) { 503 } else { 200 };
                    http::Response::builder()
                        .status(status)
                        .body(Full::new(body))
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
            );
        }
    });
    (port, tries)
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("address").port()
}

async fn sim(pool: u8) -> (tempfile::TempDir, Sim, Client, Arc<AtomicUsize>) {
    let (origin, tries) = flaky_origin().await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("all.yaml"),
        manifests(origin, closed_port()),
    )
    .expect("write manifests");
    common::write_echo_backends(dir.path(), "e2e", &[("echo", 1)]);
    let sim = start(dir.path(), 5, pool).await;
    let addr = sim.address("e2e/gw", 80).expect("listener bound");
    (dir, sim, Client::connect(addr).await, tries)
}

/// `/retry/<rule>?uuid=<id>&...`: the echo pod fails `id` its first `succeedAfter` times.
async fn retry(c: &mut Client, rule: &str, id: &str, query: &str) -> Reply {
    c.get(HOST, &format!("/retry/{rule}?uuid={id}&{query}"))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_codes_are_retried_up_to_the_attempts() {
    let (_dir, sim, mut c, _) = sim(98).await;
    // Three failures, three retries: the fourth try succeeds.
    let r = retry(&mut c, "codes", "a", "responseCode=500&succeedAfter=3").await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = retry(&mut c, "codes", "b", "responseCode=502&succeedAfter=1").await;
    assert_eq!(r.status, 200, "{r:?}");
    // Four failures outlast the budget: the pod's own last answer comes back.
    let r = retry(&mut c, "codes", "c", "responseCode=500&succeedAfter=4").await;
    assert_eq!(r.status, 500, "{r:?}");
    assert!(r.headers.get("x-gwsim-reason").is_none(), "{r:?}");
    // A code the policy does not list is answered as it is.
    let r = retry(&mut c, "codes", "d", "responseCode=503&succeedAfter=1").await;
    assert_eq!(r.status, 503, "{r:?}");
    // `attempts: 0` turns retries off.
    let r = retry(&mut c, "off", "e", "responseCode=500&succeedAfter=1").await;
    assert_eq!(r.status, 500, "{r:?}");
    // A connection the pod resets after reading the request is not retried: the pod may
    // have acted on it.
    let r = retry(&mut c, "codes", "f", "succeedAfter=1").await;
    assert_eq!(r.status, 502, "{r:?}");
    // The stats count the repeated tries: 3 + 1 + 3.
    let retried: u64 = sim.stats().snapshot().iter().map(|s| s.retries).sum();
    assert_eq!(retried, 7);
    // So does the request log, per request, oldest first: a, b, c, then none.
    let logged: Vec<u32> = sim.requests().since(0).iter().map(|r| r.retries).collect();
    assert_eq!(logged, [3, 1, 3, 0, 0, 0]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_try_over_the_backend_timeout_is_retried() {
    let (_dir, sim, mut c, _) = sim(99).await;
    // The first try waits 5 s, past the 200 ms backend timeout; the retry is answered.
    let started = Instant::now();
    let r = retry(
        &mut c,
        "slow",
        "a",
        "responseCode=500&succeedAfter=1&delayRetry=5s",
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the slow try was awaited"
    );
    // The request timeout bounds all tries together: unbounded, the fourth try (after
    // 200 + 400 + 800 ms of backoff) would have been answered 200.
    let r = retry(&mut c, "bounded", "c", "responseCode=500&succeedAfter=3").await;
    assert_eq!(r.status, 504, "{r:?}");
    // Without `codes`, an answer is never retried.
    let r = retry(&mut c, "slow", "b", "responseCode=500&succeedAfter=1").await;
    assert_eq!(r.status, 500, "{r:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_waits_for_the_backoff_and_resends_the_body() {
    let (_dir, sim, mut c, tries) = sim(94).await;
    let started = Instant::now();
    let r = retry(&mut c, "backoff", "a", "responseCode=503&succeedAfter=1").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "retried before the 300 ms backoff: {:?}",
        started.elapsed()
    );

    let addr = sim.address("e2e/gw", 80).expect("listener bound");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(
        tokio::net::TcpStream::connect(addr).await.expect("connect"),
    ))
    .await
    .expect("handshake");
    tokio::spawn(conn);
    let req = http::Request::post("/upload")
        .header("host", HOST)
        .body(Full::new(Bytes::from_static(b"the same body twice")))
        .expect("request");
    let resp = sender.send_request(req).await.expect("send");
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(&body[..], b"the same body twice");
    assert_eq!(tries.load(Ordering::SeqCst), 2, "one 503, one retry");

    // A body over the 1 MiB that can be kept for retries goes once, without them.
    let big = Bytes::from(vec![b'x'; (1 << 20) + 1]);
    let req = http::Request::post("/upload")
        .header("host", HOST)
        .body(Full::new(big.clone()))
        .expect("request");
    let resp = sender.send_request(req).await.expect("send");
    assert_eq!(resp.status(), 503);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(body, big, "the whole body reached the origin");
    assert_eq!(tries.load(Ordering::SeqCst), 3, "not retried");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_retried_then_reported() {
    let (_dir, sim, mut c, _) = sim(93).await;
    let started = Instant::now();
    let r = c.get(HOST, "/refused").await;
    assert_eq!(r.status, 502, "{r:?}");
    assert_eq!(
        r.headers
            .get("x-gwsim-reason")
            .and_then(|v| v.to_str().ok()),
        Some("upstream-connection-failed")
    );
    let logged: Vec<u32> = sim.requests().since(0).iter().map(|r| r.retries).collect();
    assert_eq!(logged, [2], "both retries are in the request log");
    // Two retries after 50 ms and 100 ms: nothing was sent, so trying again was safe.
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "the refused connection was not retried with backoff: {:?}",
        started.elapsed()
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_moves_to_the_backends_next_endpoint() {
    // `pair` has two endpoints on the origin's port: 127.0.0.1, where the origin listens,
    // and 127.0.0.2, where nothing does.
    let (_dir, sim, mut c, tries) = sim(92).await;
    for _ in 0..6 {
        let r = c.get(HOST, "/pair").await;
        assert!(r.headers.get("x-gwsim-reason").is_none(), "{r:?}");
    }
    assert_eq!(
        tries.load(Ordering::SeqCst),
        6,
        "the origin answered every request"
    );
    let snapshot = sim.stats().snapshot();
    let by_ip = |ip: &str| {
        snapshot
            .iter()
            .filter(|s| s.key.rule.ends_with("/rule/6") && s.key.pod.starts_with(ip))
            .fold((0, 0), |(n, r), s| (n + s.requests, r + s.retries))
    };
    let (dead_requests, dead_retries) = by_ip("127.0.0.2:");
    assert_eq!(dead_requests, 0, "answers count where they came from");
    assert!(
        dead_retries > 0,
        "some requests drew the dead endpoint first"
    );
    assert_eq!(by_ip("127.0.0.1:"), (6, 0));
    sim.shutdown().await;
}
