//! HTTPS listener certificates: each `tls.certificateRefs` entry must name a permitted
//! `kubernetes.io/tls` Secret whose `tls.crt` and `tls.key` parse as a certificate chain and
//! a matching private key. The PEM goes into the routing table for the data plane.

use super::refgrant;
use crate::ir::ListenerTls;
use crate::model::{gw, Body, Kind, Object};
use crate::status::Reason;
use crate::store::Store;
use crate::tls::server::{certified_key, Material};

/// Resolves an HTTPS listener's certificateRefs, or says why its refs do not resolve.
pub fn resolve(
    object: &Object,
    l: &gw::GatewayListeners,
    store: &Store,
) -> Result<ListenerTls, (Reason, String)> {
    let Some(tls) = &l.tls else {
        return Err((
            Reason::InvalidCertificateRef,
            "an HTTPS listener needs tls.certificateRefs".into(),
        ));
    };
    if tls.mode == Some(gw::GatewayListenersTlsMode::Passthrough) {
        return Err((
            Reason::InvalidCertificateRef,
            "tls.mode Passthrough is not supported on HTTPS listeners".into(),
        ));
    }
    let refs = tls.certificate_refs.clone().unwrap_or_default();
    if refs.is_empty() {
        return Err((
            Reason::InvalidCertificateRef,
            "tls.certificateRefs is empty".into(),
        ));
    }
    let mut out = ListenerTls::default();
    for r in &refs {
        let group = r.group.as_deref().unwrap_or_default();
        let kind = r.kind.as_deref().unwrap_or("Secret");
        let ns = r
            .namespace
            .clone()
            .unwrap_or_else(|| object.key.namespace.clone());
        if !(group.is_empty() && kind == "Secret") {
            return Err((
                Reason::InvalidCertificateRef,
                format!("certificateRef kind {kind} is not supported (use a Secret)"),
            ));
        }
        if !refgrant::gateway_may_use(store, &object.key.namespace, "Secret", &ns, &r.name) {
            return Err((
                Reason::RefNotPermitted,
                format!(
                    "Secret {ns}/{} is in another namespace and no ReferenceGrant allows it",
                    r.name
                ),
            ));
        }
        let Some(secret) = store.get(Kind::Secret, &ns, &r.name) else {
            return Err((
                Reason::InvalidCertificateRef,
                format!("Secret {ns}/{} not found", r.name),
            ));
        };
        let material = tls_material(&secret.body).map_err(|msg| {
            (
                Reason::InvalidCertificateRef,
                format!("Secret {ns}/{}: {msg}", r.name),
            )
        })?;
        out.certificate_refs.push(format!("{ns}/{}", r.name));
        out.certificates.push(material);
    }
    Ok(out)
}

/// A usable certificate Secret has type `kubernetes.io/tls` and a `tls.crt` / `tls.key`
/// pair that rustls accepts; anything less would fail every handshake at run time.
fn tls_material(body: &Body) -> Result<Material, String> {
    let Body::Secret(secret) = body else {
        return Err("not a Secret".into());
    };
    // Only `kubernetes.io/tls` Secrets hold certificates (an absent type is `Opaque`).
    let kind = secret.type_.as_deref().unwrap_or("Opaque");
    if kind != "kubernetes.io/tls" {
        return Err(format!("type is {kind}, not kubernetes.io/tls"));
    }
    let get = |k: &str| -> Option<String> {
        secret
            .data
            .as_ref()
            .and_then(|d| d.get(k))
            .map(|b| String::from_utf8_lossy(&b.0).into_owned())
            .or_else(|| secret.string_data.as_ref().and_then(|d| d.get(k)).cloned())
    };
    let material = Material {
        cert_pem: get("tls.crt").ok_or("missing tls.crt")?,
        key_pem: get("tls.key").ok_or("missing tls.key")?,
    };
    certified_key(&material)?;
    Ok(material)
}
