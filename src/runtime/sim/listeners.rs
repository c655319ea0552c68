//! Listener sockets follow the routing table's ports: opened, reopened when a port switches
//! between HTTP and HTTPS, closed when gone; bind failures are folded into the status.

use super::Sim;
use crate::dataplane::listener::{self, Bound};
use crate::dataplane::table::PortKey;
use crate::runtime::events::EventKind;
use crate::status::{CondStatus, CondType, Condition, ObjectStatus, Reason};
use std::collections::BTreeMap;

impl Sim {
    pub(super) async fn sync_listeners(&mut self) {
        for e in self.tls.update(&self.pass.translation.routing) {
            self.events.push(EventKind::Listener, format!("TLS: {e}"));
        }
        let wanted: BTreeMap<PortKey, &'static str> = self
            .pass
            .translation
            .routing
            .ports
            .iter()
            .map(|p| {
                (
                    (p.address.clone(), p.port),
                    if p.protocol == crate::ir::Protocol::Https {
                        "https"
                    } else {
                        "http"
                    },
                )
            })
            .collect();
        let gone: Vec<PortKey> = self
            .listeners
            .keys()
            // A port that switched between HTTP and HTTPS is reopened in its new mode.
            .filter(|k| {
                wanted
                    .get(*k)
                    .is_none_or(|s| (*s == "https") != self.tls_listeners.contains(*k))
            })
            .cloned()
            .collect();
        for k in gone {
            if let Some(h) = self.listeners.remove(&k) {
                h.stop().await;
            }
            self.tls_listeners.remove(&k);
            self.bind_notes.remove(&k);
        }
        self.bind_failures.retain(|k, _| wanted.contains_key(k));
        for (key, scheme) in wanted {
            if self.listeners.contains_key(&key) {
                continue;
            }
            let tls = self.tls.get(&key);
            if scheme == "https" && tls.is_none() {
                // Never serve an HTTPS port in cleartext.
                self.bind_failures
                    .insert(key, "no usable TLS certificate for this port".into());
                continue;
            }
            match listener::bind(&key, self.options.ports) {
                (Bound::Ok { note, .. }, Some(socket)) => {
                    if let Some(n) = note {
                        tracing::warn!("{n}");
                        self.bind_notes.insert(key.clone(), n);
                    }
                    self.bind_failures.remove(&key);
                    if tls.is_some() {
                        self.tls_listeners.insert(key.clone());
                    }
                    let handle =
                        listener::serve(socket, key.clone(), self.proxy.clone(), scheme, tls);
                    self.events.push(
                        EventKind::Listener,
                        format!("listening on {} for {}:{}", handle.addr, key.0, key.1),
                    );
                    self.listeners.insert(key, handle);
                }
                (Bound::Failed { reason }, _)
                | (
                    Bound::Ok {
                        note: Some(reason), ..
                    },
                    None,
                ) => {
                    tracing::warn!("{reason}");
                    self.bind_failures.insert(key, reason);
                }
                (Bound::Ok { note: None, .. }, None) => {}
            }
        }
    }

    /// The controller computes what should be; a port that could not be bound makes its
    /// listeners `Programmed=False/PortUnavailable`, so waiting for Programmed never races.
    pub(super) fn fold_bind_results(&mut self) {
        let routing = self.pass.translation.routing.clone();
        for p in &routing.ports {
            let Some(reason) = self.bind_failures.get(&(p.address.clone(), p.port)) else {
                continue;
            };
            let Some((ns, name)) = p.gateway.split_once('/') else {
                continue;
            };
            let key = crate::model::ObjectKey::new(crate::model::Kind::Gateway, ns, name);
            let generation = self
                .pass
                .store
                .objects
                .get(&key)
                .map(|o| o.generation())
                .unwrap_or(1);
            if let Some(ObjectStatus::Gateway(g)) = self.pass.translation.status.get_mut(&key) {
                for l in g
                    .listeners
                    .iter_mut()
                    .filter(|l| p.listeners.iter().any(|pl| pl.name == l.name))
                {
                    l.conditions.set(Condition::new(
                        CondType::Programmed,
                        CondStatus::False,
                        Reason::PortUnavailable,
                        reason.clone(),
                        generation,
                    ));
                }
                // A Gateway none of whose listeners could be bound is not programmed either.
                let none_bound = !g
                    .listeners
                    .iter()
                    .any(|l| l.conditions.is(CondType::Programmed, CondStatus::True));
                if none_bound {
                    g.conditions.set(Condition::new(
                        CondType::Programmed,
                        CondStatus::False,
                        Reason::Invalid,
                        format!("no listener could be bound: {reason}"),
                        generation,
                    ));
                }
            }
        }
    }
}
