//! HTTPS end to end over loopback, with clients that verify the server against the CA that
//! signed its Secret: the HTTPS sample (HTTP/1.1 and h2 by ALPN, http→https redirect),
//! certificate choice by SNI, 421 for a host of another listener, and a certificate rotated
//! by editing the Secret file while connections stay open.

mod common;

use common::tls::{get, handshake, http1, leaf_der, presented};
use common::{copy_sample, options, start};
use gwsim::runtime::handle::spawn;
use gwsim::tls::ca::{secret_yaml, ProjectCa};
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::path::Path;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_serves_https_over_h1_and_h2_and_redirects_plain_http() {
    let dir = copy_sample("helloworld-https");
    let ca = std::fs::read_to_string(dir.path().join("ca.crt")).expect("sample CA");
    let sim = start(dir.path(), 3, 80).await;
    let gw = "sample-ingress/sample-gateway";
    let https = sim.address(gw, 443).expect("443 bound");
    let http = sim.address(gw, 80).expect("80 bound");

    let tls = handshake(https, &ca, "helloworld.sample.com", &[b"http/1.1"])
        .await
        .expect("the sample certificate verifies against the sample CA");
    let mut c = http1(tls).await;
    let (status, body) = get(&mut c, "helloworld.sample.com", "/hello").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Hello version"), "{body}");

    // h2 when the client offers it.
    let tls = handshake(https, &ca, "secure.sample.com", &[b"h2", b"http/1.1"])
        .await
        .expect("handshake");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut h2, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .expect("h2 handshake");
    tokio::spawn(conn);
    let req = http::Request::builder()
        .uri("https://secure.sample.com/hello")
        .body(Empty::<Bytes>::new())
        .expect("request");
    let resp = h2.send_request(req).await.expect("h2 request");
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.status(), 200);

    // Plain HTTP to the HTTPS-only host is redirected.
    let mut plain = common::Client::connect(http).await;
    let r = plain.get("secure.sample.com", "/hello").await;
    assert_eq!(r.status, 301);
    assert_eq!(
        r.headers.get("location").and_then(|l| l.to_str().ok()),
        Some("https://secure.sample.com/hello")
    );

    // A client trusting another CA refuses the server.
    let stranger = ProjectCa::generate().expect("CA");
    assert!(
        handshake(https, &stranger.cert_pem, "helloworld.sample.com", &[])
            .await
            .is_err()
    );
}

const GATEWAY: &str = r#"apiVersion: v1
kind: Namespace
metadata: {name: tls}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: tls}
spec:
  gatewayClassName: gwsim
  listeners:
  - name: a
    hostname: a.example.com
    port: 443
    protocol: HTTPS
    tls: {certificateRefs: [{name: a-cert}]}
  - name: any
    port: 443
    protocol: HTTPS
    tls: {certificateRefs: [{name: any-cert}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: echo, namespace: tls}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
"#;

/// Writes the manifests and both Secrets; returns the leaf PEM of each.
fn write_case(dir: &Path, ca: &ProjectCa) -> (String, String) {
    std::fs::write(dir.join("gateway.yaml"), GATEWAY).expect("write");
    common::write_echo_backends(dir, "tls", &[("echo", 1)]);
    let a = write_secret(dir, ca, "a-cert", "a.example.com");
    let any = write_secret(dir, ca, "any-cert", "*.example.com");
    (a, any)
}

fn write_secret(dir: &Path, ca: &ProjectCa, name: &str, host: &str) -> String {
    let (cert, key) = ca.issue(&[host.to_string()]).expect("issue");
    let path = dir.join(format!("{name}.yaml"));
    // Write and rename, as an editor saves, so the watcher never reads half a file.
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, secret_yaml(name, "tls", &cert, &key)).expect("write");
    std::fs::rename(&tmp, &path).expect("rename");
    cert
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sni_picks_the_certificate_and_a_host_of_another_listener_is_misdirected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = ProjectCa::generate().expect("CA");
    let (a, any) = write_case(dir.path(), &ca);
    let sim = start(dir.path(), 3, 81).await;
    let addr = sim.address("tls/gw", 443).expect("443 bound");

    let tls = handshake(addr, &ca.cert_pem, "a.example.com", &[])
        .await
        .expect("handshake");
    assert_eq!(presented(&tls), leaf_der(&a));
    let mut c = http1(tls).await;
    assert_eq!(get(&mut c, "a.example.com", "/").await.0, 200);
    // b.example.com belongs to listener `any`, not to the one this connection chose.
    let (status, body) = get(&mut c, "b.example.com", "/").await;
    assert_eq!(status, 421, "{body}");

    let tls = handshake(addr, &ca.cert_pem, "b.example.com", &[])
        .await
        .expect("handshake");
    assert_eq!(presented(&tls), leaf_der(&any));
    let mut c = http1(tls).await;
    assert_eq!(get(&mut c, "c.example.com", "/").await.0, 200);
    assert_eq!(get(&mut c, "a.example.com", "/").await.0, 421);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_the_secret_file_rotates_the_certificate_and_keeps_connections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = ProjectCa::generate().expect("CA");
    let (_, any) = write_case(dir.path(), &ca);
    let h = spawn(options(dir.path(), 3, 82), true).await;
    let s = h.state();
    let addr = s
        .listeners
        .iter()
        .find(|l| l.port == 443)
        .and_then(|l| l.bound)
        .expect("443 bound");

    let before = handshake(addr, &ca.cert_pem, "b.example.com", &[])
        .await
        .expect("handshake");
    assert_eq!(presented(&before), leaf_der(&any));
    let mut open = http1(before).await;
    assert_eq!(get(&mut open, "b.example.com", "/").await.0, 200);

    let rotated = write_secret(dir.path(), &ca, "any-cert", "*.example.com");
    tokio::time::timeout(
        Duration::from_secs(10),
        h.wait_for_generation(s.generation + 1),
    )
    .await
    .expect("a reload within 10 s");

    let after = handshake(addr, &ca.cert_pem, "b.example.com", &[])
        .await
        .expect("handshake");
    assert_eq!(presented(&after), leaf_der(&rotated));
    // The connection opened before the rotation goes on serving.
    assert_eq!(get(&mut open, "b.example.com", "/").await.0, 200);
}

#[test]
fn tls_commands_print_the_project_ca_and_secrets_it_signed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gwsim = |args: &[&str]| common::tls::run_gwsim(dir.path(), args);
    let ca = gwsim(&["tls", "ca"]);
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    assert_eq!(gwsim(&["tls", "ca"]), ca, "the CA is created once");
    assert!(dir.path().join(".gwsim/ca.key").is_file());

    let yaml = gwsim(&[
        "tls",
        "secret",
        "--name",
        "web",
        "-n",
        "shop",
        "--hosts",
        "a.test,*.b.test",
    ]);
    let secret: serde_json::Value = serde_norway::from_str(&yaml).expect("YAML");
    assert_eq!(secret["type"], "kubernetes.io/tls");
    assert_eq!(secret["metadata"]["namespace"], "shop");
    let field = |k: &str| {
        use base64::Engine;
        let b = base64::engine::general_purpose::STANDARD
            .decode(secret["data"][k].as_str().expect("field"))
            .expect("base64");
        String::from_utf8(b).expect("PEM")
    };
    let material = gwsim::tls::server::Material {
        cert_pem: field("tls.crt"),
        key_pem: field("tls.key"),
    };
    gwsim::tls::server::certified_key(&material).expect("a loadable certificate and key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_switched_from_http_to_https_is_reopened_with_tls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = ProjectCa::generate().expect("CA");
    write_case(dir.path(), &ca);
    let plain = GATEWAY.replace(
        "  - name: a\n    hostname: a.example.com\n    port: 443\n    protocol: HTTPS\n    tls: {certificateRefs: [{name: a-cert}]}\n  - name: any\n    port: 443\n    protocol: HTTPS\n    tls: {certificateRefs: [{name: any-cert}]}\n",
        "  - {name: any, port: 443, protocol: HTTP}\n",
    );
    assert_ne!(plain, GATEWAY);
    std::fs::write(dir.path().join("gateway.yaml"), &plain).expect("write");
    let h = spawn(options(dir.path(), 3, 83), true).await;
    let s = h.state();
    let bound = |s: &gwsim::runtime::sim::State| {
        s.listeners
            .iter()
            .find(|l| l.port == 443)
            .and_then(|l| l.bound)
            .expect("443 bound")
    };
    let mut c = common::Client::connect(bound(&s)).await;
    assert_eq!(c.get("b.example.com", "/").await.status, 200);

    std::fs::write(dir.path().join("gateway.yaml"), GATEWAY).expect("write");
    let s = tokio::time::timeout(
        Duration::from_secs(10),
        h.wait_for_generation(s.generation + 1),
    )
    .await
    .expect("a reload within 10 s");
    let tls = handshake(bound(&s), &ca.cert_pem, "b.example.com", &[])
        .await
        .expect("the port now speaks TLS");
    let mut c = http1(tls).await;
    assert_eq!(get(&mut c, "b.example.com", "/").await.0, 200);
}
