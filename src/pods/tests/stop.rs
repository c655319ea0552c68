//! Websocket sessions and stopping a pod: draining, killing after the grace period.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http::StatusCode;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::{echo_pod, get, http1, ok1};

#[tokio::test]
async fn websocket_echoes_a_text_frame() {
    let pod = echo_pod().await;
    let addr = pod.addr(3000).expect("port");
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), stream)
        .await
        .expect("upgrade");
    ws.send(WsMessage::text("hello pod")).await.expect("send");
    let echoed = ws.next().await.expect("a reply").expect("a frame");
    assert_eq!(echoed, WsMessage::text("hello pod"));
    ws.close(None).await.expect("close");
    pod.stop().await;
}

#[tokio::test]
async fn stopping_closes_websockets_with_going_away() {
    let pod = echo_pod().await;
    let addr = pod.addr(3000).expect("port");
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), stream)
        .await
        .expect("upgrade");
    let stopping = tokio::spawn(pod.stop());
    match ws.next().await {
        Some(Ok(WsMessage::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected a close frame, got {other:?}"),
    }
    drop(ws);
    stopping.await.expect("stop completes");
}

#[tokio::test]
async fn stop_lets_requests_in_flight_finish_then_refuses() {
    let pod = echo_pod().await;
    let addr = pod.addr(3000).expect("port");
    let in_flight = tokio::spawn(ok1(addr, "/slow?delay=100ms"));
    // The echo line is logged before the delay starts, so the request is in flight.
    while pod.log().last_seq() == 0 {
        tokio::task::yield_now().await;
    }
    pod.stop().await;
    let reply = in_flight.await.expect("request task");
    assert_eq!(reply.status, StatusCode::OK);
    let refused = TcpStream::connect(addr).await.expect_err("listener closed");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn stop_drops_requests_that_outlive_the_grace_period() {
    let pod = echo_pod().await;
    let addr = pod.addr(3001).expect("port");
    let in_flight = tokio::spawn(http1(addr, get("/stuck?delay=1h").header("host", "x")));
    while pod.log().last_seq() == 0 {
        tokio::task::yield_now().await;
    }
    pod.stop_with_grace(Duration::from_millis(20)).await;
    assert!(in_flight.await.expect("request task").is_err());
}
