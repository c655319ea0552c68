//! A verifying TLS client for the HTTPS tests: trusts one CA, optionally presents a client
//! certificate, and speaks HTTP/1.1 over the connection.

use gwsim::tls::server::{certified_key, Material};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;
use rustls_pki_types::pem::PemObject;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// A client configuration trusting `ca_pem`, offering `alpn`, presenting `client` (cert and
/// key PEM) when the server asks.
pub fn client_config(
    ca_pem: &str,
    alpn: &[&[u8]],
    client: Option<&Material>,
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.expect("CA PEM")).expect("CA usable as a root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    let mut config = match client {
        Some(m) => builder.with_client_cert_resolver(Arc::new(Always(
            certified_key(m).expect("client certificate and key"),
        ))),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// Presents the same certificate whatever CA names the server hints at, so a certificate
/// from a CA the server does not trust is still sent (and refused by the server).
#[derive(Debug)]
struct Always(Arc<CertifiedKey>);

impl ResolvesClientCert for Always {
    fn resolve(&self, _: &[&[u8]], _: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// Connects and runs the handshake.
pub async fn handshake(
    addr: SocketAddr,
    ca_pem: &str,
    sni: &str,
    alpn: &[&[u8]],
) -> Result<TlsStream<TcpStream>, std::io::Error> {
    handshake_as(addr, ca_pem, sni, alpn, None).await
}

/// Connects and runs the handshake, presenting `client` when asked.
pub async fn handshake_as(
    addr: SocketAddr,
    ca_pem: &str,
    sni: &str,
    alpn: &[&[u8]],
    client: Option<&Material>,
) -> Result<TlsStream<TcpStream>, std::io::Error> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(sni.to_string()).expect("server name");
    tokio_rustls::TlsConnector::from(client_config(ca_pem, alpn, client))
        .connect(name, tcp)
        .await
}

/// The leaf certificate the server presented.
pub fn presented(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec())
        .expect("a server certificate")
}

pub fn leaf_der(cert_pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .expect("leaf PEM")
        .as_ref()
        .to_vec()
}

pub type H1 = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

pub async fn http1(stream: TlsStream<TcpStream>) -> H1 {
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("http1 handshake");
    tokio::spawn(conn);
    sender
}

pub async fn get(sender: &mut H1, host: &str, path: &str) -> (u16, String) {
    try_get(sender, host, path).await.expect("a response")
}

/// A request that may fail: a server refusing the client's certificate in TLS 1.3 says so
/// only after the client's side of the handshake is done, on the first read.
pub async fn try_get(sender: &mut H1, host: &str, path: &str) -> Result<(u16, String), String> {
    let req = http::Request::builder()
        .uri(path)
        .header("host", host)
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    sender.ready().await.map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Runs the gwsim binary with `args` and `--dir dir` (the `gwsim tls` commands); returns its
/// standard output, failing the test when it exits non-zero.
pub fn run_gwsim(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gwsim"))
        .args(args)
        .arg("--dir")
        .arg(dir)
        .output()
        .expect("run gwsim");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}
