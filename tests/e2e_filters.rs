//! Every HTTPRoute filter and every error gwsim answers itself, end to end over loopback:
//! header modifiers, redirects, URL rewrites, mirrors, CORS, 500/502/503/504, and WebSocket
//! upgrades passed through to the pod.

mod common;

use common::{start, Client, Reply};
use gwsim::runtime::sim::Sim;
use serde_json::Value;
use std::time::{Duration, Instant};

const HOST: &str = "filters.example";
const GATEWAY: &str = "e2e/gw";

const BACKENDS: &[(&str, u32)] = &[("echo", 1), ("mirror", 1), ("scaled-down", 0)];

const MANIFESTS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: e2e}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: e2e}
spec:
  gatewayClassName: gwsim
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: filters, namespace: e2e}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /request-headers}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: X-Set, value: set}]
        add: [{name: X-Add, value: added}]
        remove: [X-Remove]
    backendRefs: [{name: echo, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /response-headers}}]
    filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{name: X-Resp-Set, value: set}]
        add: [{name: X-Resp-Add, value: added}]
        remove: [X-Content-Type-Options]
    backendRefs: [{name: echo, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /redirect-scheme}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, statusCode: 301}
  - matches: [{path: {type: PathPrefix, value: /redirect-host}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {hostname: elsewhere.example}
  - matches: [{path: {type: PathPrefix, value: /redirect-port}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {port: 8083, statusCode: 308}
  - matches: [{path: {type: PathPrefix, value: /redirect-full}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /replaced}}
  - matches: [{path: {type: PathPrefix, value: /redirect-prefix}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /moved}}
  - matches: [{path: {type: PathPrefix, value: /rewrite-host}}]
    filters:
    - type: URLRewrite
      urlRewrite: {hostname: rewritten.example}
    backendRefs: [{name: echo, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /rewrite-full}}]
    filters:
    - type: URLRewrite
      urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /full}}
    backendRefs: [{name: echo, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /rewrite-prefix}}]
    filters:
    - type: URLRewrite
      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /prefix}}
    backendRefs: [{name: echo, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /mirror}}]
    filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: mirror, port: 8080}}
    backendRefs: [{name: echo, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /cors}}]
    filters:
    - type: CORS
      cors:
        allowOrigins: [https://ok.example]
        allowMethods: [GET, PUT]
        allowHeaders: [x-a]
        exposeHeaders: [x-b]
        maxAge: 60
    backendRefs: [{name: echo, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /invalid-backend}}]
    backendRefs: [{name: does-not-exist, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /no-endpoints}}]
    backendRefs: [{name: scaled-down, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /ws}}]
    backendRefs: [{name: echo, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /slow}}]
    timeouts: {backendRequest: 200ms}
    backendRefs: [{name: echo, port: 8080}]
"#;

/// Starts gwsim on the manifests above; each test passes its own address pool.
async fn sim(pool: u8) -> (tempfile::TempDir, Sim, Client) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("all.yaml"), MANIFESTS).expect("write manifests");
    common::write_echo_backends(dir.path(), "e2e", BACKENDS);
    let sim = start(dir.path(), 3, pool).await;
    let addr = sim.address(GATEWAY, 80).expect("listener bound");
    let client = Client::connect(addr).await;
    (dir, sim, client)
}

fn echo(r: &Reply) -> Value {
    assert_eq!(r.status, 200, "{r:?}");
    serde_json::from_str(&r.body).expect("echo JSON")
}

fn header(e: &Value, name: &str) -> Option<String> {
    e["headers"][name].as_array().map(|v| {
        v.iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(",")
    })
}

async fn get(client: &mut Client, path: &str, headers: &[(&str, &str)]) -> Reply {
    client.send(http::Method::GET, HOST, path, headers).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_modifiers_edit_request_and_response() {
    let (_dir, sim, mut c) = sim(21).await;
    let r = get(
        &mut c,
        "/request-headers",
        &[("x-add", "first"), ("x-remove", "gone"), ("x-set", "old")],
    )
    .await;
    let e = echo(&r);
    assert_eq!(header(&e, "X-Set").as_deref(), Some("set"));
    assert_eq!(header(&e, "X-Add").as_deref(), Some("first,added"));
    assert_eq!(header(&e, "X-Remove"), None);

    let r = get(&mut c, "/response-headers", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["x-resp-set"], "set");
    assert_eq!(r.headers["x-resp-add"], "added");
    assert!(r.headers.get("x-content-type-options").is_none(), "{r:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_set_scheme_host_port_path_and_status() {
    let (_dir, sim, mut c) = sim(22).await;
    let cases = [
        (
            "/redirect-scheme/a?q=1",
            301,
            "https://filters.example/redirect-scheme/a?q=1",
        ),
        (
            "/redirect-host",
            302,
            "http://elsewhere.example/redirect-host",
        ),
        (
            "/redirect-port/x",
            308,
            "http://filters.example:8083/redirect-port/x",
        ),
        ("/redirect-full/x", 302, "http://filters.example/replaced"),
        (
            "/redirect-prefix/x/y",
            302,
            "http://filters.example/moved/x/y",
        ),
    ];
    for (path, status, location) in cases {
        let r = get(&mut c, path, &[]).await;
        assert_eq!(r.status, status, "{path}: {r:?}");
        assert_eq!(r.headers[http::header::LOCATION], location, "{path}");
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_rewrites_change_host_and_path() {
    let (_dir, sim, mut c) = sim(23).await;
    let e = echo(&get(&mut c, "/rewrite-host/p", &[]).await);
    assert_eq!(e["host"], "rewritten.example");
    assert_eq!(e["path"], "/rewrite-host/p");
    let e = echo(&get(&mut c, "/rewrite-full/p?x=1", &[]).await);
    assert_eq!(e["path"], "/full?x=1");
    assert_eq!(e["host"], HOST);
    let e = echo(&get(&mut c, "/rewrite-prefix/a/b", &[]).await);
    assert_eq!(e["path"], "/prefix/a/b");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirror_sends_a_copy_to_the_mirror_backend() {
    let (_dir, sim, mut c) = sim(24).await;
    let e = echo(&get(&mut c, "/mirror/copy?id=7", &[]).await);
    assert!(
        e["pod"].as_str().is_some_and(|p| p.starts_with("echo-")),
        "{e}"
    );
    let mirror_pod = sim
        .running_pods()
        .into_iter()
        .find(|(d, _)| d == "e2e/mirror")
        .map(|(_, p)| p)
        .expect("mirror pod");
    let wanted = "Echoing back request made to /mirror/copy?id=7 to client";
    // The copy is fire-and-forget: wait for its log line, bounded, instead of sleeping.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let lines = sim.pod_log(&mirror_pod).unwrap_or_default();
        if lines.iter().any(|l| l.starts_with(wanted)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "mirror pod never logged the copy: {lines:?}"
        );
        tokio::task::yield_now().await;
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_is_answered_by_the_gateway() {
    let (_dir, sim, mut c) = sim(25).await;
    let preflight = [
        ("origin", "https://ok.example"),
        ("access-control-request-method", "PUT"),
        ("access-control-request-headers", "x-a"),
    ];
    let r = c
        .send(http::Method::OPTIONS, HOST, "/cors", &preflight)
        .await;
    assert_eq!(r.status, 204, "{r:?}");
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "https://ok.example"
    );
    assert_eq!(r.headers["access-control-allow-methods"], "GET, PUT");
    assert_eq!(r.headers["access-control-allow-headers"], "x-a");
    assert_eq!(r.headers["access-control-max-age"], "60");
    assert!(r.body.is_empty(), "the backend must not see a preflight");

    let refused = [
        ("origin", "https://evil.example"),
        ("access-control-request-method", "GET"),
    ];
    let r = c.send(http::Method::OPTIONS, HOST, "/cors", &refused).await;
    assert_eq!(r.status, 204);
    assert!(
        r.headers.get("access-control-allow-origin").is_none(),
        "{r:?}"
    );

    let r = get(&mut c, "/cors", &[("origin", "https://ok.example")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "https://ok.example"
    );
    assert_eq!(r.headers["access-control-expose-headers"], "x-b");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_their_reason() {
    let (_dir, sim, mut c) = sim(26).await;
    let r = get(&mut c, "/invalid-backend", &[]).await;
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(r.headers["x-gwsim-reason"], "invalid-backend");
    let r = get(&mut c, "/no-endpoints", &[]).await;
    assert_eq!(r.status, 503, "{r:?}");
    assert_eq!(r.headers["x-gwsim-reason"], "no-ready-endpoint");
    let r = get(&mut c, "/slow?delay=1s", &[]).await;
    assert_eq!(r.status, 504, "{r:?}");
    assert_eq!(r.headers["x-gwsim-reason"], "timeout");
    let r = get(&mut c, "/slow", &[]).await;
    assert_eq!(r.status, 200, "without a delay the backend answers in time");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_endpoint_answers_502() {
    // A port that was just free: bind, read it, close. Nothing listens there afterwards.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("probe port")
        .port();
    let extra = format!(
        r#"{}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: dead, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /dead}}}}]
    backendRefs: [{{name: dead, port: 8080}}]
"#,
        common::loopback_service("dead", closed)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("all.yaml"), MANIFESTS).expect("write manifests");
    common::write_echo_backends(dir.path(), "e2e", BACKENDS);
    std::fs::write(dir.path().join("dead.yaml"), extra).expect("write manifests");
    let sim = start(dir.path(), 3, 27).await;
    let mut c = Client::connect(sim.address(GATEWAY, 80).expect("listener bound")).await;
    let r = get(&mut c, "/dead", &[]).await;
    assert_eq!(r.status, 502, "{r:?}");
    assert_eq!(r.headers["x-gwsim-reason"], "upstream-connection-failed");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_upgrades_pass_through_to_the_pod() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (_dir, sim, _c) = sim(28).await;
    let addr = sim.address(GATEWAY, 80).expect("listener bound");
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut ws, resp) = tokio_tungstenite::client_async(format!("ws://{HOST}/ws"), stream)
        .await
        .expect("websocket handshake through the proxy");
    assert_eq!(resp.status(), 101);
    ws.send(Message::text("hello")).await.expect("send");
    let got = ws.next().await.expect("a reply").expect("no error");
    assert_eq!(got, Message::text("hello"));
    ws.send(Message::binary(vec![1u8, 2, 3]))
        .await
        .expect("send");
    let got = ws.next().await.expect("a reply").expect("no error");
    assert_eq!(got, Message::binary(vec![1u8, 2, 3]));
    let _ = ws.close(None).await;
    sim.shutdown().await;
}
