//! Fake pods over real loopback sockets: shared client helpers and the helloworld pod.

mod echo;
mod stop;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio::net::TcpStream;

use super::{start, Behaviour, PodSpec, RunningPod};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const POD: &str = "infra-backend-v1-84f656fd64-k4ct5";
const NAMESPACE: &str = "gateway-conformance-infra";

async fn echo_pod() -> RunningPod {
    start(
        PodSpec {
            name: POD.into(),
            namespace: NAMESPACE.into(),
            behaviour: Behaviour::Echo,
            container_ports: vec![3000, 3001],
        },
        LOCALHOST,
    )
    .await
    .expect("pod starts")
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("echo body is JSON")
    }
}

fn get(target: &str) -> http::request::Builder {
    Request::builder().method(Method::GET).uri(target)
}

/// One HTTP/1.1 request on a fresh connection; `Err` when the server closes or resets the
/// connection instead of answering.
async fn http1_on(stream: TcpStream, req: http::request::Builder) -> Result<Reply, hyper::Error> {
    let req = req.body(Empty::<Bytes>::new()).expect("valid request");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(conn);
    let response = sender.send_request(req).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    drop(sender);
    let _ = driver.await;
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

async fn http1(addr: SocketAddr, req: http::request::Builder) -> Result<Reply, hyper::Error> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    http1_on(stream, req).await
}

async fn ok1(addr: SocketAddr, target: &str) -> Reply {
    http1(addr, get(target).header("host", "example.com"))
        .await
        .expect("answered")
}

/// One request over h2c with prior knowledge.
async fn h2c(addr: SocketAddr, req: http::request::Builder) -> Result<Reply, hyper::Error> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let req = req.body(Empty::<Bytes>::new()).expect("valid request");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await?;
    let driver = tokio::spawn(conn);
    let response = sender.send_request(req).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    drop(sender);
    let _ = driver.await;
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

#[tokio::test]
async fn helloworld_answers_like_the_sample() {
    let pod = start(
        PodSpec {
            name: "helloworld-v1-84f656fd64-k4ct5".into(),
            namespace: "sample".into(),
            behaviour: Behaviour::Helloworld {
                version: "v1".into(),
            },
            container_ports: vec![5000],
        },
        LOCALHOST,
    )
    .await
    .expect("pod starts");
    let addr = pod.addr(5000).expect("port 5000");
    assert_eq!(pod.addr(3000), None);

    let hello = ok1(addr, "/hello").await;
    assert_eq!(hello.status, StatusCode::OK);
    assert_eq!(
        hello.body,
        "Hello version: v1, instance: helloworld-v1-84f656fd64-k4ct5\n"
    );
    assert_eq!(hello.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(ok1(addr, "/health").await.status, StatusCode::OK);
    assert_eq!(ok1(addr, "/nope").await.status, StatusCode::NOT_FOUND);
    let post = http1(addr, get("/hello").method(Method::POST))
        .await
        .expect("answered");
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);

    let lines = pod.log().lines();
    assert!(lines[0].starts_with("127.0.0.1 - - ["), "{lines:?}");
    assert!(
        lines[0].ends_with("] \"GET /hello HTTP/1.1\" 200 -"),
        "{lines:?}"
    );
    pod.stop().await;
}
