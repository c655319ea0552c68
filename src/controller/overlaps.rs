//! Listeners of one Gateway that share a port: protocol and hostname conflicts (the listener
//! is not programmed) and overlapping TLS hostnames (a warning condition).

use super::gateway::ListenerInfo;
use super::hostname;
use crate::status::{CondStatus, CondType, Condition, Reason};
use std::collections::{BTreeMap, BTreeSet};

/// HTTPS listeners of one port whose hostnames overlap (`*.example.com` and
/// `foo.example.com`, or no hostname and any) get `OverlappingTLSConfig=True`: a client may
/// reuse one HTTP/2 connection for both names though their TLS settings differ. The spec makes
/// detecting this a MUST and the condition negative-polarity, so it is only ever written True.
pub fn mark_tls_overlaps(listeners: &mut [ListenerInfo], generation: i64) {
    let serving = |l: &ListenerInfo| {
        l.protocol == "HTTPS"
            && l.conditions.is(CondType::Accepted, CondStatus::True)
            && !l.conditions.is(CondType::Conflicted, CondStatus::True)
    };
    let host = |l: &ListenerInfo| l.hostname.clone().unwrap_or_else(|| "*".into());
    let mut overlaps: Vec<Vec<String>> = vec![Vec::new(); listeners.len()];
    for (i, a) in listeners.iter().enumerate().filter(|(_, l)| serving(l)) {
        for b in listeners
            .iter()
            .filter(|b| serving(b) && b.port == a.port && b.name != a.name)
        {
            let (ha, hb) = (host(a), host(b));
            if hostname::covers(&ha, &hb) || hostname::covers(&hb, &ha) {
                if let Some(o) = overlaps.get_mut(i) {
                    o.push(format!("{} ({hb})", b.name));
                }
            }
        }
    }
    for (l, others) in listeners.iter_mut().zip(overlaps) {
        if others.is_empty() {
            continue;
        }
        let hostname = l.hostname.clone().unwrap_or_else(|| "any host".into());
        l.conditions.set(Condition::new(
            CondType::OverlappingTLSConfig,
            CondStatus::True,
            Reason::OverlappingHostnames,
            format!(
                "{hostname} overlaps the hostname of {} on port {}",
                others.join(", "),
                l.port
            ),
            generation,
        ));
    }
}

/// Listeners sharing a port must speak compatible protocols; HTTP and HTTPS cannot share one.
pub fn mark_conflicts(listeners: &mut [ListenerInfo], generation: i64) {
    let mut by_port: BTreeMap<u16, BTreeSet<String>> = BTreeMap::new();
    for l in listeners
        .iter()
        .filter(|l| l.conditions.is(CondType::Accepted, CondStatus::True))
    {
        by_port
            .entry(l.port)
            .or_default()
            .insert(l.protocol.clone());
    }
    let mut seen_hosts: BTreeSet<(u16, String, String)> = BTreeSet::new();
    for l in listeners.iter_mut() {
        let conflict = if by_port.get(&l.port).is_some_and(|p| p.len() > 1) {
            Some((
                Reason::ProtocolConflict,
                format!("port {} is used with several protocols", l.port),
            ))
        } else if !seen_hosts.insert((
            l.port,
            l.protocol.clone(),
            l.hostname.clone().unwrap_or_default(),
        )) {
            Some((
                Reason::HostnameConflict,
                format!("another listener on port {} has the same hostname", l.port),
            ))
        } else {
            None
        };
        if let Some((reason, msg)) = conflict {
            l.conditions.set(Condition::new(
                CondType::Conflicted,
                CondStatus::True,
                reason,
                msg.clone(),
                generation,
            ));
            l.conditions.set(Condition::new(
                CondType::Programmed,
                CondStatus::False,
                Reason::Invalid,
                msg,
                generation,
            ));
        }
    }
}
