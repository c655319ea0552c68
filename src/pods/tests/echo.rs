//! The echo-basic contract over HTTP/1.1 and h2c.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use super::{echo_pod, get, h2c, http1, http1_on, ok1, NAMESPACE, POD};

#[tokio::test]
async fn echo_describes_an_http1_request() {
    let pod = echo_pod().await;
    let reply = http1(
        pod.addr(3000).expect("port 3000"),
        get("/some/path?foo=bar&x=%20y")
            .header("host", "foo.example:8080")
            .header("x-forwarded-for", "10.0.0.1")
            .header("x-multi", "one")
            .header("x-multi", "two")
            .header("USER-agent", "test"),
    )
    .await
    .expect("answered");
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
    assert!(
        reply.body.starts_with(b"{\n \"path\": "),
        "indented like Go"
    );
    let json = reply.json();
    assert_eq!(json["path"], "/some/path?foo=bar&x=%20y");
    assert_eq!(json["host"], "foo.example:8080");
    assert_eq!(json["method"], "GET");
    assert_eq!(json["proto"], "HTTP/1.1");
    assert_eq!(
        json["headers"]["X-Forwarded-For"],
        serde_json::json!(["10.0.0.1"])
    );
    assert_eq!(
        json["headers"]["X-Multi"],
        serde_json::json!(["one", "two"])
    );
    assert_eq!(json["headers"]["User-Agent"], serde_json::json!(["test"]));
    assert!(json["headers"].get("Host").is_none());
    assert_eq!(json["httpPort"], "3000");
    assert_eq!(json["namespace"], NAMESPACE);
    assert_eq!(json["ingress"], "");
    assert_eq!(json["service"], "");
    assert_eq!(json["pod"], POD);
    assert!(json.get("tls").is_none());

    let other_port = ok1(pod.addr(3001).expect("port 3001"), "/").await;
    assert_eq!(other_port.json()["httpPort"], "3001");
    pod.stop().await;
}

#[tokio::test]
async fn echo_over_h2c_with_prior_knowledge() {
    let pod = echo_pod().await;
    for port in [3000, 3001] {
        let reply = h2c(
            pod.addr(port).expect("port"),
            get("http://foo.example/h2?q=1").header("x-forwarded-proto", "http"),
        )
        .await
        .expect("answered");
        assert_eq!(reply.status, StatusCode::OK);
        let json = reply.json();
        assert_eq!(json["proto"], "HTTP/2.0");
        assert_eq!(json["path"], "/h2?q=1");
        assert_eq!(json["host"], "foo.example");
        assert_eq!(
            json["headers"]["X-Forwarded-Proto"],
            serde_json::json!(["http"])
        );
        assert_eq!(json["httpPort"], port.to_string());
    }
    pod.stop().await;
}

#[tokio::test]
async fn echo_sets_requested_response_headers() {
    let pod = echo_pod().await;
    let reply = http1(
        pod.addr(3000).expect("port"),
        get("/")
            .header("host", "example.com")
            .header("x-echo-set-header", "X-Foo: a, X-Bar:b")
            .header("x-echo-set-header", "X-Foo: c"),
    )
    .await
    .expect("answered");
    assert_eq!(reply.headers["x-foo"], "a,c");
    assert_eq!(reply.headers["x-bar"], "b");
    assert_eq!(reply.headers["content-type"], "application/json");
    pod.stop().await;
}

#[tokio::test]
async fn status_health_and_path_collapsing() {
    let pod = echo_pod().await;
    let addr = pod.addr(3000).expect("port");
    let unavailable = ok1(addr, "/status/503").await;
    assert_eq!(unavailable.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(unavailable.body.is_empty());
    assert_eq!(
        ok1(addr, "/status/abc").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        ok1(addr, "/status/503?x=1").await.status,
        StatusCode::BAD_REQUEST
    );
    // `//` is collapsed for routing, but the status is read from the raw request-URI.
    assert_eq!(
        ok1(addr, "//status/503").await.status,
        StatusCode::BAD_REQUEST
    );
    let health = ok1(addr, "//health").await;
    assert_eq!(
        (health.status, &health.body[..]),
        (StatusCode::OK, &b"OK"[..])
    );
    let echoed = ok1(addr, "/a//b").await;
    assert_eq!(echoed.json()["path"], "/a//b");
    pod.stop().await;
}

#[tokio::test]
async fn delay_parameter_is_parsed_as_a_go_duration() {
    let pod = echo_pod().await;
    let addr = pod.addr(3000).expect("port");
    let delayed = ok1(addr, "/d?delay=5ms").await;
    assert_eq!(delayed.status, StatusCode::OK);
    assert_eq!(delayed.json()["path"], "/d?delay=5ms");
    let bad = ok1(addr, "/d?delay=abc").await;
    assert_eq!(bad.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(bad.body, r#"{"message":"time: invalid duration \"abc\""}"#);
    pod.stop().await;
}

#[tokio::test]
async fn each_echo_logs_one_line() {
    let pod = echo_pod().await;
    let stream = TcpStream::connect(pod.addr(3000).expect("port"))
        .await
        .expect("connect");
    let client = stream.local_addr().expect("local addr");
    http1_on(stream, get("/log-me?x=1").header("host", "example.com"))
        .await
        .expect("answered");
    assert_eq!(
        pod.log().lines(),
        vec![format!(
            "Echoing back request made to /log-me?x=1 to client ({client})"
        )]
    );
    ok1(pod.addr(3000).expect("port"), "/status/200").await;
    assert_eq!(pod.log().lines().len(), 1, "only echo replies log");
    pod.stop().await;
}

#[tokio::test]
async fn retry_fails_until_seen_enough_times() {
    let pod = echo_pod().await;
    let addr = pod.addr(3000).expect("port");
    let target = "/retry/r?uuid=u1&succeedAfter=2&responseCode=503";
    assert_eq!(
        ok1(addr, target).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // The state is per pod, not per port.
    let second = ok1(pod.addr(3001).expect("port"), target).await;
    assert_eq!(second.status, StatusCode::SERVICE_UNAVAILABLE);
    let third = ok1(addr, target).await;
    assert_eq!(third.status, StatusCode::OK);
    assert_eq!(third.json()["path"], target);

    let reset = "/retry/r?uuid=u2&succeedAfter=1";
    let failed = http1(addr, get(reset).header("host", "example.com")).await;
    let err = failed.err().expect("the connection is reset, not answered");
    let io = std::error::Error::source(&err).and_then(|e| e.downcast_ref::<std::io::Error>());
    assert_eq!(
        io.map(std::io::Error::kind),
        Some(std::io::ErrorKind::ConnectionReset),
        "{err:?}"
    );
    assert_eq!(ok1(addr, reset).await.status, StatusCode::OK);
    // Over HTTP/2 only the stream is reset.
    let h2_reset = "http://example.com/retry/r?uuid=u4&succeedAfter=1";
    assert!(h2c(addr, get(h2_reset)).await.is_err());
    let h2_ok = h2c(addr, get(h2_reset)).await.expect("answered");
    assert_eq!(h2_ok.status, StatusCode::OK);
    assert_eq!(
        ok1(addr, "/retry/r?uuid=u3").await.status,
        StatusCode::BAD_REQUEST
    );
    pod.stop().await;
}

#[tokio::test]
async fn unread_request_bodies_are_discarded_and_the_connection_reused() {
    let pod = echo_pod().await;
    let stream = TcpStream::connect(pod.addr(3000).expect("port"))
        .await
        .expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    let driver = tokio::spawn(conn);
    for method in [Method::POST, Method::PUT] {
        sender.ready().await.expect("connection still open");
        let req = Request::builder()
            .method(method.clone())
            .uri("/upload")
            .header("host", "example.com")
            .body(Full::new(Bytes::from(vec![b'x'; 100 * 1024])))
            .expect("valid request");
        let response = sender.send_request(req).await.expect("answered");
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.expect("body");
        let json: Value = serde_json::from_slice(&body.to_bytes()).expect("JSON");
        assert_eq!(json["method"], method.as_str());
        assert_eq!(
            json["headers"]["Content-Length"],
            serde_json::json!(["102400"])
        );
    }
    drop(sender);
    let _ = driver.await;
    pod.stop().await;
}
