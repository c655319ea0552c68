//! Frontend client-certificate validation (`spec.tls.frontend`): an HTTPS listener takes the
//! `perPort` entry for its port, else the default, and its `caCertificateRefs` must name
//! permitted ConfigMaps (or Secrets) whose `ca.crt` holds CA certificates.

use super::refgrant;
use crate::ir::{ClientValidation, ValidationMode};
use crate::model::{gw, Body, Kind, Object};
use crate::status::Reason;
use crate::store::Store;

/// The validation settings that apply to one port, from whichever part of the spec holds
/// them (the default and per-port types are distinct but equal in shape).
struct Effective {
    /// (group, kind, name, namespace) of each CA reference.
    refs: Vec<(String, String, String, Option<String>)>,
    insecure: bool,
    /// The field path the settings come from, for messages.
    path: String,
}

/// The default and per-port validation types are distinct generated structs of one shape.
macro_rules! effective_of {
    ($v:expr, $insecure:expr, $path:expr) => {
        Effective {
            path: $path,
            refs: $v
                .ca_certificate_refs
                .iter()
                .map(|r| {
                    let ns = r.namespace.clone();
                    (r.group.clone(), r.kind.clone(), r.name.clone(), ns)
                })
                .collect(),
            insecure: $v.mode == Some($insecure),
        }
    };
}

fn effective(spec: &gw::GatewaySpec, port: i32) -> Option<Effective> {
    let frontend = spec.tls.as_ref()?.frontend.as_ref()?;
    let per_port = frontend
        .per_port
        .iter()
        .flatten()
        .enumerate()
        .find(|(_, p)| p.port == port);
    match per_port {
        // A per-port entry overrides the default, even one without validation.
        Some((i, p)) => p.tls.validation.as_ref().map(|v| {
            effective_of!(
                v,
                gw::GatewayTlsFrontendPerPortTlsValidationMode::AllowInsecureFallback,
                format!("spec.tls.frontend.perPort[{i}].tls.validation")
            )
        }),
        None => frontend.default.validation.as_ref().map(|v| {
            effective_of!(
                v,
                gw::GatewayTlsFrontendDefaultValidationMode::AllowInsecureFallback,
                "spec.tls.frontend.default.validation".to_string()
            )
        }),
    }
}

/// What the client validation of an HTTPS listener on `port` resolves to.
#[derive(Debug, Default)]
pub struct Resolved {
    /// The usable part; `None` when the port validates no client, or no reference is usable.
    pub validation: Option<ClientValidation>,
    /// The first unusable reference's reason, with every unusable reference in the message.
    pub problem: Option<(Reason, String)>,
    /// Validation was asked for and no reference is usable: the listener cannot serve.
    pub none_valid: bool,
}

/// Resolves the CA references for an HTTPS listener of `object` on `port`.
pub fn resolve(object: &Object, spec: &gw::GatewaySpec, port: i32, store: &Store) -> Resolved {
    let Some(eff) = effective(spec, port) else {
        return Resolved::default();
    };
    let mut validation = ClientValidation {
        ca_refs: Vec::new(),
        mode: if eff.insecure {
            ValidationMode::AllowInsecureFallback
        } else {
            ValidationMode::AllowValidOnly
        },
        ca_pems: Vec::new(),
    };
    let mut problems: Vec<(Reason, String)> = Vec::new();
    for (group, kind, name, namespace) in &eff.refs {
        let ns = namespace.as_deref().unwrap_or(&object.key.namespace);
        match ca_bundle(object, store, group, kind, name, ns) {
            Ok(pem) => {
                validation.ca_refs.push(format!("{kind} {ns}/{name}"));
                validation.ca_pems.push(pem);
            }
            Err(p) => problems.push(p),
        }
    }
    let none_valid = validation.ca_pems.is_empty();
    let problem = problems.first().map(|(reason, _)| {
        let all: Vec<&str> = problems.iter().map(|(_, m)| m.as_str()).collect();
        (*reason, format!("{}: {}", eff.path, all.join("; ")))
    });
    Resolved {
        validation: (!none_valid).then_some(validation),
        problem: if none_valid && problem.is_none() {
            // Only reachable with an empty list, which admission rejects; still say so.
            Some((
                Reason::InvalidCACertificateRef,
                "tls.frontend validation names no CA certificate".into(),
            ))
        } else {
            problem
        },
        none_valid,
    }
}

fn ca_bundle(
    object: &Object,
    store: &Store,
    group: &str,
    kind: &str,
    name: &str,
    ns: &str,
) -> Result<String, (Reason, String)> {
    let target = match (group, kind) {
        ("", "ConfigMap") => Kind::ConfigMap,
        ("", "Secret") => Kind::Secret,
        _ => {
            let shown = if group.is_empty() {
                kind.to_string()
            } else {
                format!("{group}/{kind}")
            };
            return Err((
                Reason::InvalidCACertificateKind,
                format!("caCertificateRef {shown} {ns}/{name}: kind is not supported (use a ConfigMap or Secret)"),
            ));
        }
    };
    if !refgrant::gateway_may_use(store, &object.key.namespace, kind, ns, name) {
        return Err((
            Reason::RefNotPermitted,
            format!("{kind} {ns}/{name} is in another namespace and no ReferenceGrant allows it"),
        ));
    }
    let invalid = |msg: String| {
        (
            Reason::InvalidCACertificateRef,
            format!("{kind} {ns}/{name}: {msg}"),
        )
    };
    let Some(found) = store.get(target, ns, name) else {
        return Err(invalid("not found".into()));
    };
    let pem = match &found.body {
        Body::ConfigMap(cm) => cm.data.as_ref().and_then(|d| d.get("ca.crt")).cloned(),
        Body::Secret(s) => s
            .data
            .as_ref()
            .and_then(|d| d.get("ca.crt"))
            .map(|b| String::from_utf8_lossy(&b.0).into_owned())
            .or_else(|| {
                s.string_data
                    .as_ref()
                    .and_then(|d| d.get("ca.crt"))
                    .cloned()
            }),
        _ => None,
    };
    let pem = pem.ok_or_else(|| invalid("has no ca.crt key".into()))?;
    crate::tls::client_auth::ca_roots(&pem).map_err(invalid)?;
    Ok(pem)
}

/// Whether an HTTPS listener of the Gateway lets clients through without a trusted
/// certificate (`AllowInsecureFallback`): the Gateway then says so in a condition.
pub fn insecure_fallback(spec: &gw::GatewaySpec) -> bool {
    spec.listeners
        .iter()
        .filter(|l| l.protocol == "HTTPS")
        .any(|l| effective(spec, l.port).is_some_and(|e| e.insecure))
}
