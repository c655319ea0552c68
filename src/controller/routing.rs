//! Assembles the routing table: per Gateway address and port, listeners by hostname
//! specificity, virtual hosts by hostname specificity, and match entries by precedence.

use super::gateway::GatewayInfo;
use super::hostname;
use super::precedence::Rank;
use super::route::RouteResult;
use crate::ir::{ListenerIr, MatchEntry, PortIr, Protocol, RoutingIr, VirtualHost};
use crate::model::{Object, ObjectKey};
use std::collections::BTreeMap;

/// Builds ports, listeners and virtual hosts; rules are added by the caller.
pub fn build(
    gateways: &BTreeMap<ObjectKey, GatewayInfo>,
    routes: &[(&Object, RouteResult)],
    ir: &mut RoutingIr,
) {
    for g in gateways.values() {
        let Some(address) = g.address else {
            continue;
        };
        let mut ports: BTreeMap<u16, PortIr> = BTreeMap::new();
        for (li, l) in g.listeners.iter().enumerate() {
            if !l.programmed() {
                continue;
            }
            let mut hosts: BTreeMap<String, Vec<(Rank, MatchEntry)>> = BTreeMap::new();
            for (route, result) in routes {
                if !result.status.parents.iter().any(|p| {
                    p.conditions.is(
                        crate::status::CondType::Accepted,
                        crate::status::CondStatus::True,
                    )
                }) {
                    continue;
                }
                let created = route
                    .meta()
                    .creation_timestamp
                    .as_ref()
                    .map(|t| (t.0.as_second(), t.0.subsec_nanosecond()))
                    .unwrap_or_default();
                for a in result
                    .attachments
                    .iter()
                    .filter(|a| a.gateway == g.key && a.refusal.is_none())
                {
                    for (_, served) in a.listeners.iter().filter(|(i, _)| *i == li) {
                        for h in served {
                            let entries = hosts.entry(h.clone()).or_default();
                            for rule in &result.rules {
                                for (mi, m) in rule.matches.iter().enumerate() {
                                    let entry = MatchEntry {
                                        rule: rule.id.clone(),
                                        matcher: m.clone(),
                                    };
                                    if entries.iter().any(|(_, e)| *e == entry) {
                                        continue;
                                    }
                                    entries.push((
                                        Rank::new(m, created, route.key.ref_name(), rule.index, mi),
                                        entry,
                                    ));
                                }
                            }
                        }
                    }
                }
            }
            let mut virtual_hosts: Vec<VirtualHost> = hosts
                .into_iter()
                .map(|(hostname, mut entries)| {
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                    VirtualHost {
                        hostname,
                        routes: entries.into_iter().map(|(_, e)| e).collect(),
                    }
                })
                .collect();
            virtual_hosts.sort_by(|a, b| hostname::specificity_order(&a.hostname, &b.hostname));
            let protocol = if l.protocol == "HTTPS" {
                Protocol::Https
            } else {
                Protocol::Http
            };
            let port = ports.entry(l.port).or_insert_with(|| PortIr {
                gateway: g.key.ref_name(),
                address: address.to_string(),
                port: l.port,
                protocol,
                listeners: Vec::new(),
            });
            port.listeners.push(ListenerIr {
                name: l.name.clone(),
                hostname: l.hostname.clone(),
                virtual_hosts,
                tls: l.tls.clone(),
            });
        }
        for mut p in ports.into_values() {
            p.listeners.sort_by(|a, b| {
                hostname::specificity_order(
                    a.hostname.as_deref().unwrap_or("*"),
                    b.hostname.as_deref().unwrap_or("*"),
                )
            });
            ir.ports.push(p);
        }
    }
    ir.ports
        .sort_by_key(|p| (p.address.parse::<std::net::Ipv4Addr>().ok(), p.port));
}
