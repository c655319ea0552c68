//! Hop-by-hop headers stay on their own connection: what the client's `Connection` names
//! never reaches the pod, and the pod's `Connection`, `Keep-Alive` and what its
//! `Connection` names never reach the client. A pod closing its connection
//! (`Connection: close`) must not close the client's.

mod common;

use common::{start, Client};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const GATEWAY: &str = "e2e/gw";
const HOST: &str = "hop.example";

/// A keep-alive origin that answers each request with the request head it received as the
/// body, hop-by-hop headers of its own, and on `/close` a `Connection: close` after which
/// it closes the connection.
async fn origin() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(serve(s));
        }
    });
    addr
}

async fn serve(mut s: TcpStream) {
    let mut buf = Vec::new();
    loop {
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            let mut chunk = [0u8; 4096];
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            }
            continue;
        };
        let head: Vec<u8> = buf.drain(..end + 4).collect();
        let close = head.starts_with(b"GET /close ");
        let connection = if close {
            "connection: close, x-hop\r\n"
        } else {
            "connection: keep-alive, X-Hop\r\nkeep-alive: timeout=5, max=100\r\n"
        };
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n{connection}x-hop: secret\r\nx-end: kept\r\n\r\n",
            head.len()
        );
        let sent = s.write_all(answer.as_bytes()).await.is_ok() && s.write_all(&head).await.is_ok();
        if !sent || close {
            return;
        }
    }
}

fn assert_no_hop_headers(r: &common::Reply) {
    for name in ["connection", "keep-alive", "x-hop"] {
        assert!(
            !r.headers.contains_key(name),
            "{name} reached the client: {:?}",
            r.headers
        );
    }
    assert_eq!(
        r.headers.get("x-end").and_then(|v| v.to_str().ok()),
        Some("kept"),
        "{:?}",
        r.headers
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hop_by_hop_headers_stop_at_the_proxy_both_ways() {
    let origin = origin().await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("all.yaml"),
        common::loopback_origin_manifests(HOST, origin.port()),
    )
    .expect("write");
    let sim = start(dir.path(), 5, 88).await;
    let gw = sim.address(GATEWAY, 80).expect("listener bound");
    let mut c = Client::connect(gw).await;

    let r = c
        .send(
            http::Method::GET,
            HOST,
            "/",
            &[
                ("connection", "x-client-hop"),
                ("x-client-hop", "1"),
                ("x-client-end", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_no_hop_headers(&r);
    let upstream = r.body.to_ascii_lowercase();
    assert!(upstream.contains("x-client-end: 1"), "{upstream}");
    assert!(!upstream.contains("x-client-hop"), "{upstream}");
    assert!(!upstream.contains("\r\nconnection:"), "{upstream}");

    // The pod closes its connection; the client's stays open for the next request.
    let closed = c.get(HOST, "/close").await;
    assert_eq!(closed.status, 200, "{closed:?}");
    assert_no_hop_headers(&closed);
    for _ in 0..3 {
        let again = c.get(HOST, "/").await;
        assert_eq!(again.status, 200, "{again:?}");
        assert_no_hop_headers(&again);
    }
}
