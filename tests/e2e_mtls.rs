//! Client-certificate validation end to end (`spec.tls.frontend`): a port that requires a
//! certificate from the client CA, a port under `AllowInsecureFallback`, a CA ConfigMap
//! edited while running, and the `gwsim tls` commands that make the pieces.

mod common;

use common::tls::{handshake_as, http1, try_get};
use common::{options, start};
use gwsim::runtime::handle::spawn;
use gwsim::tls::ca::{ca_config_map_yaml, secret_yaml, ProjectCa};
use gwsim::tls::server::Material;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

const MANIFESTS: &str = r#"apiVersion: v1
kind: Namespace
metadata: {name: mtls}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: mtls}
spec:
  gatewayClassName: gwsim
  tls:
    frontend:
      default:
        validation:
          caCertificateRefs: [{group: "", kind: ConfigMap, name: clients}]
      perPort:
      - port: 8443
        tls:
          validation:
            mode: AllowInsecureFallback
            caCertificateRefs: [{group: "", kind: ConfigMap, name: clients}]
  listeners:
  - name: strict
    port: 443
    protocol: HTTPS
    tls: {certificateRefs: [{name: server}]}
  - name: fallback
    port: 8443
    protocol: HTTPS
    tls: {certificateRefs: [{name: server}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: echo, namespace: mtls}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: echo, port: 8080}]
"#;

/// Writes `text` as an editor saves: a temporary file renamed over the old one.
fn save(dir: &Path, name: &str, text: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, dir.join(name)).expect("rename");
}

fn client(ca: &ProjectCa, name: &str) -> Material {
    let (cert_pem, key_pem) = ca.issue_client(name).expect("client certificate");
    Material { cert_pem, key_pem }
}

/// Writes the manifests, the server certificate (signed by `server`) and the client CA
/// ConfigMap (trusting `clients`).
fn write_case(dir: &Path, server: &ProjectCa, clients: &ProjectCa) {
    save(dir, "gateway.yaml", MANIFESTS);
    common::write_echo_backends(dir, "mtls", &[("echo", 1)]);
    let (cert, key) = server.issue(&["*.example.com".into()]).expect("issue");
    save(
        dir,
        "server.yaml",
        &secret_yaml("server", "mtls", &cert, &key),
    );
    save(
        dir,
        "clients.yaml",
        &ca_config_map_yaml("clients", "mtls", &clients.cert_pem),
    );
}

/// The status of one request from a client presenting `cert`, or `None` when the handshake
/// or the request is refused.
async fn status_as(addr: SocketAddr, server_ca: &str, cert: Option<&Material>) -> Option<u16> {
    let tls = handshake_as(addr, server_ca, "www.example.com", &[], cert)
        .await
        .ok()?;
    let mut c = http1(tls).await;
    try_get(&mut c, "www.example.com", "/")
        .await
        .ok()
        .map(|r| r.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_client_certificate_is_required_except_under_insecure_fallback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, clients, stranger) = (
        ProjectCa::generate().expect("CA"),
        ProjectCa::generate().expect("CA"),
        ProjectCa::generate().expect("CA"),
    );
    write_case(dir.path(), &server, &clients);
    let sim = start(dir.path(), 5, 84).await;
    let strict = sim.address("mtls/gw", 443).expect("443 bound");
    let fallback = sim.address("mtls/gw", 8443).expect("8443 bound");
    let (alice, mallory) = (client(&clients, "alice"), client(&stranger, "mallory"));
    let ca = &server.cert_pem;

    assert_eq!(status_as(strict, ca, Some(&alice)).await, Some(200));
    assert_eq!(status_as(strict, ca, None).await, None, "no certificate");
    assert_eq!(
        status_as(strict, ca, Some(&mallory)).await,
        None,
        "a certificate from a CA the ConfigMap does not hold"
    );
    for (who, cert) in [
        ("alice", Some(&alice)),
        ("nobody", None),
        ("mallory", Some(&mallory)),
    ] {
        assert_eq!(
            status_as(fallback, ca, cert).await,
            Some(200),
            "AllowInsecureFallback lets {who} through"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_the_ca_config_map_changes_which_clients_get_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, clients, other) = (
        ProjectCa::generate().expect("CA"),
        ProjectCa::generate().expect("CA"),
        ProjectCa::generate().expect("CA"),
    );
    write_case(dir.path(), &server, &clients);
    let h = spawn(options(dir.path(), 5, 85), true).await;
    let s = h.state();
    let strict = s
        .listeners
        .iter()
        .find(|l| l.port == 443)
        .and_then(|l| l.bound)
        .expect("443 bound");
    let (alice, bob) = (client(&clients, "alice"), client(&other, "bob"));
    let ca = &server.cert_pem;
    assert_eq!(status_as(strict, ca, Some(&alice)).await, Some(200));
    assert_eq!(status_as(strict, ca, Some(&bob)).await, None);

    save(
        dir.path(),
        "clients.yaml",
        &ca_config_map_yaml("clients", "mtls", &other.cert_pem),
    );
    tokio::time::timeout(
        Duration::from_secs(10),
        h.wait_for_generation(s.generation + 1),
    )
    .await
    .expect("a reload within 10 s");
    assert_eq!(status_as(strict, ca, Some(&bob)).await, Some(200));
    assert_eq!(status_as(strict, ca, Some(&alice)).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_commands_make_a_ca_config_map_and_client_certificates_that_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gwsim = |args: &[&str]| common::tls::run_gwsim(dir.path(), args);
    let ca = gwsim(&["tls", "ca"]);
    save(dir.path(), "gateway.yaml", MANIFESTS);
    common::write_echo_backends(dir.path(), "mtls", &[("echo", 1)]);
    save(
        dir.path(),
        "server.yaml",
        &gwsim(&[
            "tls",
            "secret",
            "--name",
            "server",
            "-n",
            "mtls",
            "--hosts",
            "*.example.com",
        ]),
    );
    save(
        dir.path(),
        "clients.yaml",
        &gwsim(&["tls", "ca", "--configmap", "clients", "-n", "mtls"]),
    );
    // One PEM file with the certificate and its key, as `curl --cert` takes it.
    let pem = gwsim(&["tls", "client", "--name", "alice"]);
    assert!(
        pem.contains("BEGIN CERTIFICATE") && pem.contains("PRIVATE KEY"),
        "{pem}"
    );
    let alice = Material {
        cert_pem: pem.clone(),
        key_pem: pem,
    };
    let sim = start(dir.path(), 5, 86).await;
    let strict = sim.address("mtls/gw", 443).expect("443 bound");
    assert_eq!(status_as(strict, &ca, Some(&alice)).await, Some(200));
    assert_eq!(status_as(strict, &ca, None).await, None);
}
