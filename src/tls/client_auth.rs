//! Frontend client-certificate validation: the CA bundles of `spec.tls.frontend` turned into
//! the rustls verifier a port's handshake uses.

use crate::ir::{ClientValidation, ValidationMode};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use std::sync::Arc;

/// Parses a `ca.crt` bundle into trust anchors; `Err` says what is wrong with it.
pub fn ca_roots(pem: &str) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for (i, cert) in CertificateDer::pem_slice_iter(pem.as_bytes()).enumerate() {
        let cert = cert.map_err(|e| format!("ca.crt: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("ca.crt certificate {}: {e}", i + 1))?;
    }
    if roots.is_empty() {
        return Err("ca.crt holds no PEM certificate".into());
    }
    Ok(roots)
}

/// The verifier for a port with client validation.
pub fn verifier(v: &ClientValidation) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let mut roots = RootCertStore::empty();
    for pem in &v.ca_pems {
        for anchor in ca_roots(pem)?.roots {
            roots.roots.push(anchor);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
    match v.mode {
        ValidationMode::AllowValidOnly => builder.build().map_err(|e| e.to_string()),
        ValidationMode::AllowInsecureFallback => {
            let inner = builder
                .allow_unauthenticated()
                .build()
                .map_err(|e| e.to_string())?;
            Ok(Arc::new(InsecureFallback { inner }))
        }
    }
}

/// `AllowInsecureFallback`: the certificate is still asked for (the CA names are sent as
/// hints), but a missing or untrusted one lets the connection through; the backend is left
/// to decide.
#[derive(Debug)]
struct InsecureFallback {
    inner: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for InsecureFallback {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if let Err(e) = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)
        {
            tracing::debug!(
                "client certificate not trusted, let through (AllowInsecureFallback): {e}"
            );
        }
        Ok(ClientCertVerified::assertion())
    }

    // The signatures prove the client holds the key of the certificate it sent, whatever
    // signed that certificate, so they are still checked.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::ca::ProjectCa;

    #[test]
    fn bundles_parse_or_say_why_not() {
        let ca = ProjectCa::generate().expect("CA");
        assert_eq!(ca_roots(&ca.cert_pem).expect("parses").len(), 1);
        let two = format!("{}{}", ca.cert_pem, ca.cert_pem);
        assert_eq!(ca_roots(&two).expect("parses").len(), 2);
        let err = ca_roots("not pem").expect_err("no certificate");
        assert!(err.contains("no PEM certificate"), "{err}");
        let v = ClientValidation {
            ca_refs: vec!["ConfigMap ns/ca".into()],
            mode: ValidationMode::AllowValidOnly,
            ca_pems: vec![ca.cert_pem.clone()],
        };
        let strict = verifier(&v).expect("verifier");
        assert!(strict.offer_client_auth() && strict.client_auth_mandatory());
        let lenient = verifier(&ClientValidation {
            mode: ValidationMode::AllowInsecureFallback,
            ..v
        })
        .expect("verifier");
        assert!(lenient.offer_client_auth() && !lenient.client_auth_mandatory());
        assert_eq!(lenient.root_hint_subjects().len(), 1);
    }
}
