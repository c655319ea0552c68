//! TLS termination for one HTTPS port: the certificate is chosen by SNI among the listeners
//! sharing the port, by the same hostname specificity as routing.

use rustls::crypto::ring::sign::any_supported_type;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::sync::Arc;

/// A certificate chain and key, PEM encoded, for one listener hostname.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Material {
    pub cert_pem: String,
    pub key_pem: String,
}

/// Parses PEM material into a rustls key; `Err` says what is wrong with it.
pub fn certified_key(m: &Material) -> Result<Arc<CertifiedKey>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(m.cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("tls.crt: {e}"))?;
    if certs.is_empty() {
        return Err("tls.crt holds no certificate".into());
    }
    let key =
        PrivateKeyDer::from_pem_slice(m.key_pem.as_bytes()).map_err(|e| format!("tls.key: {e}"))?;
    let signing = any_supported_type(&key).map_err(|e| format!("tls.key: {e}"))?;
    let certified = CertifiedKey::new(certs, signing);
    // A key from another certificate would fail every handshake: say so up front.
    match certified.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InvalidCertificate(e)) => {
            return Err(format!("tls.crt: not a valid certificate ({e:?})"))
        }
        Err(e) => {
            return Err(format!(
                "tls.key is not the key of the certificate in tls.crt ({e})"
            ))
        }
    }
    Ok(Arc::new(certified))
}

/// Picks the listener of the most specific hostname matching the SNI, then among that
/// listener's certificates the first one valid for the name (else its first).
#[derive(Debug)]
pub struct SniResolver {
    /// (listener hostname or None for any, its keys in spec order), most specific first.
    entries: Vec<(Option<String>, Vec<Arc<CertifiedKey>>)>,
}

impl SniResolver {
    /// `entries` must be ordered most specific first, as the routing table orders listeners.
    pub fn new(entries: Vec<(Option<String>, Vec<Arc<CertifiedKey>>)>) -> SniResolver {
        SniResolver { entries }
    }

    /// The index of the listener whose certificate serves `sni`.
    pub fn pick(&self, sni: Option<&str>) -> Option<usize> {
        pick(self.entries.iter().map(|(h, _)| h.as_deref()), sni)
    }

    /// The key served for the TLS server name `sni`.
    pub fn choose(&self, sni: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let i = self.pick(sni)?;
        let keys = &self.entries.get(i)?.1;
        let name = sni.and_then(|n| ServerName::try_from(n.to_string()).ok());
        let fits = |k: &&Arc<CertifiedKey>| {
            let (Some(name), Some(leaf)) = (&name, k.end_entity_cert().ok()) else {
                return false;
            };
            webpki::EndEntityCert::try_from(leaf)
                .is_ok_and(|c| c.verify_is_valid_for_subject_name(name).is_ok())
        };
        keys.iter().find(fits).or(keys.first()).cloned()
    }
}

/// Among listener hostnames ordered most specific first (`None` matches any name), the
/// index of the one serving the TLS server name `sni`. The data plane uses the same choice
/// to tell which listener a connection belongs to.
pub fn pick<'a>(
    hostnames: impl Iterator<Item = Option<&'a str>>,
    sni: Option<&str>,
) -> Option<usize> {
    let hostnames: Vec<Option<&str>> = hostnames.collect();
    match sni {
        Some(name) => {
            let name = name.to_ascii_lowercase();
            hostnames
                .iter()
                .position(|h| h.is_none_or(|h| crate::dataplane::matcher::host_matches(h, &name)))
        }
        // Without SNI, a listener without hostname serves; else the first.
        None => hostnames
            .iter()
            .position(|h| h.is_none())
            .or(if hostnames.is_empty() { None } else { Some(0) }),
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.choose(hello.server_name())
    }
}

/// A rustls server configuration for a port, with ALPN `h2` and `http/1.1`, checking client
/// certificates with `clients` when the port validates them.
pub fn server_config(
    resolver: SniResolver,
    clients: Option<Arc<dyn ClientCertVerifier>>,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match clients {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::ca::ProjectCa;

    #[test]
    fn issued_certificates_load_and_sni_picks_the_most_specific() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = ProjectCa::load_or_create(dir.path()).expect("ca");
        let (cert, key) = ca.issue(&["*.example.com".into()]).expect("issue");
        let k = certified_key(&Material {
            cert_pem: cert,
            key_pem: key,
        })
        .expect("parses");
        let resolver = SniResolver::new(vec![
            (Some("foo.example.com".into()), vec![k.clone()]),
            (Some("*.example.com".into()), vec![k.clone()]),
            (None, vec![k]),
        ]);
        assert_eq!(resolver.pick(Some("foo.example.com")), Some(0));
        assert_eq!(resolver.pick(Some("bar.example.com")), Some(1));
        assert_eq!(resolver.pick(Some("other.org")), Some(2));
        assert_eq!(resolver.pick(None), Some(2));
        // The CA is created once and reused.
        let again = ProjectCa::load_or_create(dir.path()).expect("ca");
        assert_eq!(again.cert_pem, ca.cert_pem);
        assert!(server_config(SniResolver::new(Vec::new()), None).is_ok());
    }

    #[test]
    fn among_a_listeners_certificates_the_one_valid_for_the_name_serves() {
        let ca = crate::tls::ca::ProjectCa::generate().expect("CA");
        let key = |host: &str| {
            let (cert_pem, key_pem) = ca.issue(&[host.into()]).expect("issue");
            certified_key(&Material { cert_pem, key_pem }).expect("parses")
        };
        let (a, b) = (key("a.test"), key("b.test"));
        let resolver = SniResolver::new(vec![(None, vec![a.clone(), b.clone()])]);
        let chosen = |sni: &str| resolver.choose(Some(sni)).expect("a key");
        assert_eq!(resolver.pick(Some("b.test")), Some(0));
        assert!(Arc::ptr_eq(&chosen("b.test"), &b));
        assert!(Arc::ptr_eq(&chosen("a.test"), &a));
        // No certificate fits: the first one is served (the client decides what to do).
        assert!(Arc::ptr_eq(&chosen("c.test"), &a));
    }

    #[test]
    fn bad_pem_is_reported() {
        let err = certified_key(&Material {
            cert_pem: "nope".into(),
            key_pem: "nope".into(),
        })
        .expect_err("invalid");
        assert!(err.contains("tls.crt"), "{err}");
    }
}
