//! The runner's TLS client for `scheme: https` steps: trusts the certificates of the Secret
//! the step names, sends the case's server name as SNI, and offers `h2` only for H2 cases.

use crate::model::{Body, Kind};
use crate::runtime::sim::Sim;
use crate::tls::server::{certified_key, Material};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// How one request's connection is secured.
#[derive(Clone, Debug)]
pub struct TlsTarget {
    /// Sent as SNI and checked against the server certificate.
    pub server_name: String,
    /// `None` when the step trusts no certificate: every handshake then fails.
    pub config: Option<Arc<ClientConfig>>,
    /// The client certificate to present when the server asks for one.
    pub client_cert: Option<Arc<CertifiedKey>>,
}

/// The trust a step sets up, as client configurations offering HTTP/1.1 or h2.
#[derive(Clone, Debug, Default)]
pub struct Trust {
    pub server_name: Option<String>,
    configs: Option<(Arc<ClientConfig>, Arc<ClientConfig>)>,
    client_cert: Option<Arc<CertifiedKey>>,
}

impl Trust {
    /// Reads a step's `tls` block: `serverName` and `trustedServerCert: {secret, key}`.
    pub fn from_step(sim: &Sim, tls: Option<&Value>) -> Result<Trust, String> {
        let Some(tls) = tls else {
            return Ok(Trust::default());
        };
        let mut trust = Trust {
            server_name: tls["serverName"].as_str().map(str::to_string),
            configs: None,
            client_cert: None,
        };
        if let (Some(cs), Some(ks)) = (
            tls["clientCert"]["secret"].as_str(),
            tls["clientKey"]["secret"].as_str(),
        ) {
            let ck = tls["clientCert"]["key"].as_str().unwrap_or("tls.crt");
            let kk = tls["clientKey"]["key"].as_str().unwrap_or("tls.key");
            let material = Material {
                cert_pem: secret_value(sim, cs, ck)?,
                key_pem: secret_value(sim, ks, kk)?,
            };
            trust.client_cert = Some(
                certified_key(&material).map_err(|e| format!("client certificate {cs}: {e}"))?,
            );
        }
        let Some(secret) = tls["trustedServerCert"]["secret"].as_str() else {
            return Ok(trust);
        };
        let key = tls["trustedServerCert"]["key"]
            .as_str()
            .unwrap_or("tls.crt");
        let pem = secret_value(sim, secret, key)?;
        let mut roots = RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let c = c.map_err(|e| format!("Secret {secret} {key}: {e}"))?;
            // A certificate webpki cannot use as an anchor just adds no trust.
            let _ = roots.add(c);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| format!("Secret {secret} {key}: {e}"))?;
        let verifier = Arc::new(GoNames { inner });
        let config = |alpn: &[u8]| -> Result<Arc<ClientConfig>, String> {
            let mut c = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .dangerous()
                .with_custom_certificate_verifier(verifier.clone())
                .with_no_client_auth();
            c.alpn_protocols = vec![alpn.to_vec()];
            Ok(Arc::new(c))
        };
        trust.configs = Some((config(b"http/1.1")?, config(b"h2")?));
        Ok(trust)
    }

    /// The target for one case: its own `tls.serverName` wins over the step's, and without
    /// either the request host (without port) is the server name, as a browser would use.
    pub fn target(&self, case_tls: Option<&Value>, host: &str, h2: bool) -> TlsTarget {
        let server_name = case_tls
            .and_then(|t| t["serverName"].as_str())
            .map(str::to_string)
            .or_else(|| self.server_name.clone())
            .unwrap_or_else(|| crate::dataplane::matcher::normalize_host(host));
        TlsTarget {
            server_name,
            config: self
                .configs
                .as_ref()
                .map(|(h1, h2c)| if h2 { h2c.clone() } else { h1.clone() }),
            client_cert: self.client_cert.clone(),
        }
    }
}

/// Chain checks as webpki does them, host names as Go's `crypto/tls` matches them: upstream's
/// client is Go, whose wildcards may sit right under a top-level domain (`*.org`, which the
/// suite's certificate uses) where webpki requires two labels.
#[derive(Debug)]
struct GoNames {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for GoNames {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain before the name, so a name error means the chain is good.
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
                expected: ServerName::DnsName(host),
                presented,
            })) if presented
                .iter()
                .filter_map(|p| p.strip_prefix("DnsName(\"")?.strip_suffix("\")"))
                .any(|pattern| go_host_match(pattern, host.as_ref())) =>
            {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Go's `matchHostnames`: same number of labels, a leading `*` label matches any one label.
fn go_host_match(pattern: &str, host: &str) -> bool {
    let p: Vec<&str> = pattern.trim_end_matches('.').split('.').collect();
    let h: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    p.len() == h.len()
        && p.iter()
            .zip(&h)
            .enumerate()
            .all(|(i, (p, h))| (i == 0 && *p == "*") || p.eq_ignore_ascii_case(h))
}

/// Runs the client handshake on a connected socket.
pub async fn connect(
    stream: TcpStream,
    target: &TlsTarget,
) -> Result<TlsStream<TcpStream>, String> {
    let name = ServerName::try_from(target.server_name.clone())
        .map_err(|e| format!("server name {}: {e}", target.server_name))?;
    let mut config = target
        .config
        .clone()
        .ok_or("the step trusts no server certificate")?;
    let asked = Arc::new(AtomicBool::new(false));
    if let Some(key) = &target.client_cert {
        let mut with_cert = (*config).clone();
        with_cert.client_auth_cert_resolver = Arc::new(Presents {
            key: key.clone(),
            asked: asked.clone(),
        });
        config = Arc::new(with_cert);
    }
    let stream = TlsConnector::from(config)
        .connect(name, stream)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))?;
    // Upstream's client fails a request whose client certificate the server never asked for.
    if target.client_cert.is_some() && !asked.load(Ordering::Relaxed) {
        return Err("the server did not ask for the client certificate".into());
    }
    Ok(stream)
}

/// Presents the step's client certificate and remembers that the server asked for one.
#[derive(Debug)]
struct Presents {
    key: Arc<CertifiedKey>,
    asked: Arc<AtomicBool>,
}

impl ResolvesClientCert for Presents {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        Some(self.key.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

fn secret_value(sim: &Sim, secret: &str, key: &str) -> Result<String, String> {
    let (ns, name) = secret
        .split_once('/')
        .ok_or_else(|| format!("secret `{secret}` is not namespace/name"))?;
    let object = sim
        .pass()
        .store
        .get(Kind::Secret, ns, name)
        .ok_or_else(|| format!("Secret {secret} does not exist"))?;
    let Body::Secret(s) = &object.body else {
        return Err(format!("{secret} is not a Secret"));
    };
    s.data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| String::from_utf8_lossy(&b.0).into_owned())
        .or_else(|| s.string_data.as_ref().and_then(|d| d.get(key)).cloned())
        .ok_or_else(|| format!("Secret {secret} has no {key}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_match_one_label_as_go_does() {
        assert!(super::go_host_match("*.org", "example.org"));
        assert!(super::go_host_match("*.wildcard.org", "a.wildcard.org"));
        assert!(!super::go_host_match("*.org", "a.wildcard.org"));
        assert!(!super::go_host_match("*", "example.org"));
        assert!(super::go_host_match("Example.org", "example.org"));
    }
}
