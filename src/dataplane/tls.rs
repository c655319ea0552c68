//! TLS termination on HTTPS ports: one rustls configuration per port, each behind its own
//! `ArcSwap` so a Secret change re-keys only that port and leaves open connections alone.
//! The accepted connection's server name travels to the proxy as a request extension.

use super::table::PortKey;
use crate::ir::{ClientValidation, PortIr, Protocol, RoutingIr};
use crate::tls::client_auth::verifier;
use crate::tls::server::{certified_key, server_config, Material, SniResolver};
use arc_swap::ArcSwap;
use rustls::ServerConfig;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A client that opens a connection and never finishes the handshake must not hold a task
/// forever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the TLS handshake told about a connection; every request on it carries a copy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// The SNI server name the client sent, if any.
    pub sni: Option<String>,
}

/// The certificate inputs of one port, compared to skip rebuilding an unchanged config:
/// each listener's hostname and certificate, and the port's client validation.
type Inputs = (
    Vec<(Option<String>, Vec<Material>)>,
    Option<ClientValidation>,
);

/// A port's configuration as the accept loop reads it, swapped whole on a change.
pub type LiveConfig = Arc<ArcSwap<ServerConfig>>;

/// The live TLS configuration of every HTTPS port.
#[derive(Default)]
pub struct TlsPorts {
    ports: Mutex<HashMap<PortKey, (Inputs, LiveConfig)>>,
}

impl TlsPorts {
    /// Brings every HTTPS port of `ir` up to date; returns one message per port whose
    /// certificates could not be loaded (that port keeps its previous configuration).
    pub fn update(&self, ir: &RoutingIr) -> Vec<String> {
        let mut errors = Vec::new();
        let mut ports = match self.ports.lock() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        };
        let wanted: Vec<&PortIr> = ir
            .ports
            .iter()
            .filter(|p| p.protocol == Protocol::Https)
            .collect();
        ports.retain(|k, _| wanted.iter().any(|p| p.address == k.0 && p.port == k.1));
        for p in wanted {
            let key = (p.address.clone(), p.port);
            let inputs = inputs(p);
            if ports.get(&key).is_some_and(|(old, _)| *old == inputs) {
                continue;
            }
            match config(&inputs) {
                Ok(cfg) => match ports.get_mut(&key) {
                    Some((old, live)) => {
                        live.store(cfg);
                        *old = inputs;
                    }
                    None => {
                        ports.insert(key, (inputs, Arc::new(ArcSwap::new(cfg))));
                    }
                },
                Err(e) => errors.push(format!("{}:{}: {e}", p.address, p.port)),
            }
        }
        errors
    }

    /// The live configuration of an HTTPS port, for its accept loop.
    pub fn get(&self, key: &PortKey) -> Option<LiveConfig> {
        let ports = match self.ports.lock() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        };
        ports.get(key).map(|(_, live)| live.clone())
    }
}

/// Each listener's hostname and certificates, in the port's listener order (most
/// specific first), which is also the order SNI is matched in. Client validation is set per
/// port (`spec.tls.frontend.perPort` or the default), so every listener of a port carries
/// the same one.
fn inputs(port: &PortIr) -> Inputs {
    let certs = port
        .listeners
        .iter()
        .filter_map(|l| Some((l.hostname.clone(), l.tls.as_ref()?.certificates.clone())))
        .collect();
    let validation = port
        .listeners
        .iter()
        .find_map(|l| l.tls.as_ref()?.client_validation.clone());
    (certs, validation)
}

fn config((certs, validation): &Inputs) -> Result<Arc<ServerConfig>, String> {
    let entries = certs
        .iter()
        .map(|(h, ms)| {
            let keys = ms.iter().map(certified_key).collect::<Result<_, _>>()?;
            Ok::<_, String>((h.clone(), keys))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let clients = validation.as_ref().map(verifier).transpose()?;
    server_config(SniResolver::new(entries), clients)
}

/// Runs the handshake with the port's current configuration; `None` when it fails.
pub async fn accept(
    stream: TcpStream,
    config: &ArcSwap<ServerConfig>,
) -> Option<(TlsStream<TcpStream>, TlsInfo)> {
    let acceptor = TlsAcceptor::from(config.load_full());
    let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))
        .await
        .ok()?
        .ok()?;
    let sni = stream
        .get_ref()
        .1
        .server_name()
        .map(str::to_ascii_lowercase);
    Some((stream, TlsInfo { sni }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{ListenerIr, ListenerTls};
    use crate::tls::ca::ProjectCa;

    fn port(port: u16, m: &Material) -> PortIr {
        PortIr {
            gateway: "ns/gw".into(),
            address: "127.0.0.1".into(),
            port,
            protocol: Protocol::Https,
            listeners: vec![ListenerIr {
                name: "https".into(),
                hostname: None,
                virtual_hosts: Vec::new(),
                tls: Some(ListenerTls {
                    certificate_refs: vec!["ns/cert".into()],
                    certificates: vec![m.clone()],
                    client_validation: None,
                }),
            }],
        }
    }

    fn material(ca: &ProjectCa) -> Material {
        let (cert_pem, key_pem) = ca.issue(&["a.test".into()]).expect("issue");
        Material { cert_pem, key_pem }
    }

    #[test]
    fn a_changed_secret_swaps_only_its_port() {
        let ca = ProjectCa::generate().expect("CA");
        let (m1, m2) = (material(&ca), material(&ca));
        let ports = TlsPorts::default();
        let mut ir = RoutingIr {
            ports: vec![port(443, &m1), port(8443, &m1)],
            ..RoutingIr::default()
        };
        assert!(ports.update(&ir).is_empty());
        let a = ports.get(&("127.0.0.1".into(), 443)).expect("443");
        let b = ports.get(&("127.0.0.1".into(), 8443)).expect("8443");
        let (a0, b0) = (a.load_full(), b.load_full());

        // The same inputs again: nothing is rebuilt.
        assert!(ports.update(&ir).is_empty());
        assert!(Arc::ptr_eq(&a0, &a.load_full()));

        ir.ports[0] = port(443, &m2);
        assert!(ports.update(&ir).is_empty());
        assert!(
            !Arc::ptr_eq(&a0, &a.load_full()),
            "443 is re-keyed in place"
        );
        assert!(Arc::ptr_eq(&b0, &b.load_full()), "8443 is untouched");

        // Unloadable material keeps the last good configuration and is reported.
        ir.ports[0] = port(
            443,
            &Material {
                cert_pem: "x".into(),
                key_pem: "y".into(),
            },
        );
        let before = a.load_full();
        assert_eq!(ports.update(&ir).len(), 1);
        assert!(Arc::ptr_eq(&before, &a.load_full()));

        // A port that is gone is forgotten.
        ir.ports.truncate(1);
        ports.update(&ir);
        assert!(ports.get(&("127.0.0.1".into(), 8443)).is_none());
    }
}
