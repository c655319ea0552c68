//! The project's own certificate authority, for local HTTPS: created once under
//! `<project>/.gwsim/`, then used to sign certificates for the hosts asked.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use std::path::{Path, PathBuf};

/// Why a CA or certificate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
}

/// The CA's certificate and key, PEM encoded.
pub struct ProjectCa {
    pub cert_pem: String,
    key: KeyPair,
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "gwsim local CA");
    dn.push(DnType::OrganizationName, "gwsim");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

impl ProjectCa {
    /// Loads the CA of `state_dir` (`.gwsim/`), creating it on first use.
    pub fn load_or_create(state_dir: &Path) -> Result<ProjectCa, CaError> {
        let cert_path = state_dir.join("ca.crt");
        let key_path = state_dir.join("ca.key");
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CaError::Io { path, source }
        };
        if cert_path.exists() && key_path.exists() {
            let cert_pem = std::fs::read_to_string(&cert_path).map_err(io(&cert_path))?;
            let key_pem = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
            return Ok(ProjectCa {
                cert_pem,
                key: KeyPair::from_pem(&key_pem)?,
            });
        }
        let key = KeyPair::generate()?;
        let cert = ca_params().self_signed(&key)?;
        std::fs::create_dir_all(state_dir).map_err(io(state_dir))?;
        write_atomic(&key_path, &key.serialize_pem()).map_err(io(&key_path))?;
        write_atomic(&cert_path, &cert.pem()).map_err(io(&cert_path))?;
        Ok(ProjectCa {
            cert_pem: cert.pem(),
            key,
        })
    }

    /// A new CA kept in memory only, for throwaway setups such as a conformance run.
    pub fn generate() -> Result<ProjectCa, CaError> {
        let key = KeyPair::generate()?;
        let cert = ca_params().self_signed(&key)?;
        Ok(ProjectCa {
            cert_pem: cert.pem(),
            key,
        })
    }

    /// A certificate for `hosts` (DNS names, wildcards or IPs) signed by this CA, and its key.
    pub fn issue(&self, hosts: &[String]) -> Result<(String, String), CaError> {
        // The issuer needs only the CA's name, key-id method and usages, which `ca_params`
        // reproduces exactly, plus its key: the stored certificate need not be parsed.
        let issuer = Issuer::new(ca_params(), &self.key);
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(hosts.to_vec())?;
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            hosts.first().cloned().unwrap_or_else(|| "gwsim".into()),
        );
        params.distinguished_name = dn;
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

impl ProjectCa {
    /// A client certificate named `name` (its common name) signed by this CA, and its key,
    /// for listeners that validate clients against this CA.
    pub fn issue_client(&self, name: &str) -> Result<(String, String), CaError> {
        let issuer = Issuer::new(ca_params(), &self.key);
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

/// A ConfigMap holding a CA bundle under `ca.crt`, the shape `spec.tls.frontend`
/// validation refers to.
pub fn ca_config_map_yaml(name: &str, namespace: &str, ca_pem: &str) -> String {
    let indented: String = ca_pem.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\ndata:\n  ca.crt: |\n{indented}"
    )
}

fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, path)
}

/// A `kubernetes.io/tls` Secret manifest holding a certificate and key.
pub fn secret_yaml(name: &str, namespace: &str, cert_pem: &str, key_pem: &str) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {namespace}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n",
        b64(cert_pem),
        b64(key_pem)
    )
}
