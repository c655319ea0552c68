//! Gateway and listener validation: protocols, route kinds, certificates, conflicts and
//! addresses. Attachment counts are filled in later by `attach`.

use super::certificates;
use super::class::ClassInfo;
use super::client_ca;
use super::overlaps;
use super::Config;
use crate::ir::ListenerTls;
use crate::model::{gw, Body, Object, ObjectKey, GATEWAY_GROUP};
use crate::status::{
    CondStatus, CondType, Condition, Conditions, GatewayAddress, GatewayStatus, ListenerStatus,
    Reason, RouteGroupKind,
};
use crate::store::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// A validated listener.
#[derive(Clone, Debug)]
pub struct ListenerInfo {
    pub name: String,
    pub port: u16,
    pub protocol: String,
    pub hostname: Option<String>,
    pub supported_kinds: Vec<RouteGroupKind>,
    pub allowed: Option<gw::GatewayListenersAllowedRoutesNamespaces>,
    pub conditions: Conditions,
    pub attached_routes: i32,
    /// The resolved certificates of a valid HTTPS listener.
    pub tls: Option<ListenerTls>,
}

impl ListenerInfo {
    /// Serves traffic: accepted, refs resolved and not conflicted.
    pub fn programmed(&self) -> bool {
        self.conditions.is(CondType::Programmed, CondStatus::True)
    }

    pub fn supports_http_route(&self) -> bool {
        self.supported_kinds.iter().any(|k| k.kind == "HTTPRoute")
    }
}

/// A Gateway as the rest of the controller sees it.
#[derive(Clone, Debug)]
pub struct GatewayInfo {
    pub key: ObjectKey,
    /// gwsim owns its class; otherwise it keeps the status of a cluster with no controller.
    pub owned: bool,
    pub controller_name: String,
    pub address: Option<Ipv4Addr>,
    pub listeners: Vec<ListenerInfo>,
    pub conditions: Conditions,
}

impl GatewayInfo {
    /// Turns the gateway into its status once attachments are counted.
    pub fn status(&self) -> GatewayStatus {
        GatewayStatus {
            addresses: self
                .address
                .iter()
                .map(|a| GatewayAddress {
                    kind: "IPAddress".into(),
                    value: a.to_string(),
                })
                .collect(),
            conditions: self.conditions.clone(),
            listeners: self
                .listeners
                .iter()
                .map(|l| ListenerStatus {
                    attached_routes: l.attached_routes,
                    conditions: l.conditions.clone(),
                    name: l.name.clone(),
                    supported_kinds: l.supported_kinds.clone(),
                })
                .collect(),
        }
    }

    /// Whether routes may attach (owned and accepted).
    pub fn accepts_routes(&self) -> bool {
        self.owned && self.conditions.is(CondType::Accepted, CondStatus::True)
    }
}

fn pending(generation: i64) -> Conditions {
    let mut c = Conditions::default();
    for t in [CondType::Accepted, CondType::Programmed] {
        c.set(Condition::new(
            t,
            CondStatus::Unknown,
            Reason::Pending,
            "Waiting for controller",
            generation,
        ));
    }
    c
}

/// Validates one Gateway. `taken` holds addresses already given to older Gateways.
pub fn reconcile(
    object: &Object,
    classes: &BTreeMap<String, ClassInfo>,
    store: &Store,
    config: &Config,
    taken: &mut BTreeSet<Ipv4Addr>,
) -> GatewayInfo {
    let generation = object.generation();
    let mut info = GatewayInfo {
        key: object.key.clone(),
        owned: false,
        controller_name: String::new(),
        address: None,
        listeners: Vec::new(),
        conditions: pending(generation),
    };
    let Body::Gateway(gateway) = &object.body else {
        return info;
    };
    let Some(class) = classes.get(&gateway.spec.gateway_class_name) else {
        return info;
    };
    if !class.owned {
        return info;
    }
    info.owned = true;
    info.controller_name = class.controller_name.clone();
    if !class.usable {
        info.conditions.set(Condition::new(
            CondType::Accepted,
            CondStatus::False,
            Reason::Invalid,
            format!(
                "GatewayClass {} is not accepted",
                gateway.spec.gateway_class_name
            ),
            generation,
        ));
        info.conditions.set(Condition::new(
            CondType::Programmed,
            CondStatus::False,
            Reason::Invalid,
            "the Gateway is not accepted",
            generation,
        ));
        return info;
    }
    info.listeners = gateway
        .spec
        .listeners
        .iter()
        .map(|l| listener(object, l, store, generation))
        .collect();
    overlaps::mark_conflicts(&mut info.listeners, generation);
    overlaps::mark_tls_overlaps(&mut info.listeners, generation);

    let address = addresses(object, &gateway.spec, config, taken);
    // An unresolvable infrastructure.parametersRef makes the Gateway invalid
    // (GatewayReasonInvalidParameters).
    let parameters = match gateway
        .spec
        .infrastructure
        .as_ref()
        .and_then(|i| i.parameters_ref.as_ref())
    {
        None => Ok(()),
        Some(p) => super::class::parameters_exist(
            store,
            &p.group,
            &p.kind,
            &p.name,
            Some(&object.key.namespace),
        ),
    };
    // A conflicted listener is not valid either: its port is not configured.
    let valid = info
        .listeners
        .iter()
        .filter(|l| {
            l.conditions.is(CondType::Accepted, CondStatus::True)
                && !l.conditions.is(CondType::Conflicted, CondStatus::True)
        })
        .count();
    let all = info.listeners.len();
    let accepted = match &address {
        Err(AddressProblem::Unsupported(msg)) => Condition::new(
            CondType::Accepted,
            CondStatus::False,
            Reason::UnsupportedAddress,
            msg.clone(),
            generation,
        ),
        _ if parameters.is_err() => Condition::new(
            CondType::Accepted,
            CondStatus::False,
            Reason::InvalidParameters,
            format!(
                "infrastructure.{}",
                parameters.as_ref().err().cloned().unwrap_or_default()
            ),
            generation,
        ),
        _ if valid == 0 => Condition::new(
            CondType::Accepted,
            CondStatus::False,
            Reason::ListenersNotValid,
            "no listener is valid",
            generation,
        ),
        _ if valid < all => Condition::new(
            CondType::Accepted,
            CondStatus::True,
            Reason::ListenersNotValid,
            format!("{} of {all} listeners are not valid", all - valid),
            generation,
        ),
        _ => Condition::new(
            CondType::Accepted,
            CondStatus::True,
            Reason::Accepted,
            "all listeners are valid",
            generation,
        ),
    };
    let is_accepted = accepted.status == CondStatus::True;
    info.conditions.set(accepted);
    let any_listener_programmed = info.listeners.iter().any(ListenerInfo::programmed);
    let programmed = match &address {
        Ok(ip) if is_accepted && !any_listener_programmed => {
            info.address = Some(*ip);
            Condition::new(
                CondType::Programmed,
                CondStatus::False,
                Reason::Invalid,
                "no listener is programmed",
                generation,
            )
        }
        Ok(ip) if is_accepted => {
            info.address = Some(*ip);
            Condition::new(
                CondType::Programmed,
                CondStatus::True,
                Reason::Programmed,
                format!("listening on {ip}"),
                generation,
            )
        }
        Err(AddressProblem::NotUsable(msg)) => Condition::new(
            CondType::Programmed,
            CondStatus::False,
            Reason::AddressNotUsable,
            msg.clone(),
            generation,
        ),
        Err(AddressProblem::PoolExhausted) => Condition::new(
            CondType::Programmed,
            CondStatus::False,
            Reason::AddressNotAssigned,
            "the address pool is exhausted",
            generation,
        ),
        _ => Condition::new(
            CondType::Programmed,
            CondStatus::False,
            Reason::Invalid,
            "the Gateway is not accepted",
            generation,
        ),
    };
    info.conditions.set(programmed);
    if client_ca::insecure_fallback(&gateway.spec) {
        info.conditions.set(Condition::new(
            CondType::InsecureFrontendValidationMode,
            CondStatus::True,
            Reason::ConfigurationChanged,
            "client certificate validation is AllowInsecureFallback: clients without a trusted certificate get through",
            generation,
        ));
    }
    info
}

fn listener(
    object: &Object,
    l: &gw::GatewayListeners,
    store: &Store,
    generation: i64,
) -> ListenerInfo {
    let mut conditions = Conditions::default();
    let protocol_ok = matches!(l.protocol.as_str(), "HTTP" | "HTTPS");
    let mut supported_kinds = Vec::new();
    let mut resolved: Result<(), (Reason, String)> = Ok(());
    // Route kinds are checked whatever the protocol: a listener of a protocol gwsim does not
    // serve supports no kind, so any kind it asks for is invalid too.
    let requested = l
        .allowed_routes
        .as_ref()
        .and_then(|a| a.kinds.clone())
        .unwrap_or_default();
    if requested.is_empty() {
        if protocol_ok {
            supported_kinds.push(http_route_kind());
        }
    } else {
        for k in &requested {
            let group = k.group.as_deref().unwrap_or(GATEWAY_GROUP);
            if protocol_ok && group == GATEWAY_GROUP && k.kind == "HTTPRoute" {
                if !supported_kinds.contains(&http_route_kind()) {
                    supported_kinds.push(http_route_kind());
                }
            } else {
                resolved = Err((
                    Reason::InvalidRouteKinds,
                    if protocol_ok {
                        format!("route kind {group}/{} is not supported", k.kind)
                    } else {
                        format!(
                            "route kind {group}/{} is not supported (gwsim serves no route on {} listeners)",
                            k.kind, l.protocol
                        )
                    },
                ));
            }
        }
    }
    let mut tls = None;
    // Unusable CA references turn ResolvedRefs False, yet the listener serves with the
    // usable ones; only when none is usable it cannot serve (Accepted=False).
    let mut ca_problem = None;
    let mut no_valid_ca = None;
    if protocol_ok && l.protocol == "HTTPS" {
        let ca = match &object.body {
            Body::Gateway(g) => client_ca::resolve(object, &g.spec, l.port, store),
            _ => client_ca::Resolved::default(),
        };
        if ca.none_valid {
            no_valid_ca = ca.problem.as_ref().map(|(_, m)| m.clone());
        }
        ca_problem = ca.problem;
        match certificates::resolve(object, l, store) {
            Ok(mut t) => {
                t.client_validation = ca.validation;
                tls = Some(t);
            }
            Err(e) => resolved = Err(e),
        }
    }
    let serves = protocol_ok && resolved.is_ok() && no_valid_ca.is_none();
    if resolved.is_ok() {
        if let Some(p) = ca_problem {
            resolved = Err(p);
        }
    }
    let accepted = if let (true, Some(msg)) = (protocol_ok, &no_valid_ca) {
        Condition::new(
            CondType::Accepted,
            CondStatus::False,
            Reason::NoValidCACertificate,
            format!("no usable CA certificate for client validation: {msg}"),
            generation,
        )
    } else if protocol_ok {
        Condition::new(
            CondType::Accepted,
            CondStatus::True,
            Reason::Accepted,
            "listener is valid",
            generation,
        )
    } else {
        Condition::new(
            CondType::Accepted,
            CondStatus::False,
            Reason::UnsupportedProtocol,
            format!(
                "protocol {} is not supported (gwsim serves HTTP and HTTPS)",
                l.protocol
            ),
            generation,
        )
    };
    conditions.set(accepted);
    conditions.set(match &resolved {
        Ok(()) => Condition::new(
            CondType::ResolvedRefs,
            CondStatus::True,
            Reason::ResolvedRefs,
            "all references resolved",
            generation,
        ),
        Err((reason, msg)) => Condition::new(
            CondType::ResolvedRefs,
            CondStatus::False,
            *reason,
            msg.clone(),
            generation,
        ),
    });
    conditions.set(Condition::new(
        CondType::Conflicted,
        CondStatus::False,
        Reason::NoConflicts,
        "no conflicts",
        generation,
    ));
    conditions.set(if serves {
        Condition::new(
            CondType::Programmed,
            CondStatus::True,
            Reason::Programmed,
            "listener is programmed",
            generation,
        )
    } else {
        Condition::new(
            CondType::Programmed,
            CondStatus::False,
            Reason::Invalid,
            "listener is not valid",
            generation,
        )
    });
    ListenerInfo {
        name: l.name.clone(),
        port: u16::try_from(l.port).unwrap_or_default(),
        protocol: l.protocol.clone(),
        hostname: l.hostname.clone().filter(|h| !h.is_empty()),
        supported_kinds,
        allowed: l.allowed_routes.as_ref().and_then(|a| a.namespaces.clone()),
        conditions,
        attached_routes: 0,
        tls,
    }
}

fn http_route_kind() -> RouteGroupKind {
    RouteGroupKind {
        group: GATEWAY_GROUP.into(),
        kind: "HTTPRoute".into(),
    }
}

enum AddressProblem {
    Unsupported(String),
    NotUsable(String),
    PoolExhausted,
}

/// Honours `spec.addresses` (loopback IPs only) or assigns one from the pool.
fn addresses(
    object: &Object,
    spec: &gw::GatewaySpec,
    config: &Config,
    taken: &mut BTreeSet<Ipv4Addr>,
) -> Result<Ipv4Addr, AddressProblem> {
    let requested = spec.addresses.clone().unwrap_or_default();
    for a in &requested {
        let kind = a.r#type.as_deref().unwrap_or("IPAddress");
        if kind != "IPAddress" {
            return Err(AddressProblem::Unsupported(format!(
                "address type {kind} is not supported (use IPAddress)"
            )));
        }
    }
    // Every requested address is checked, whatever its place: one that cannot be used
    // makes the whole Gateway unprogrammed, as a real load balancer would.
    let mut chosen: Option<Ipv4Addr> = None;
    for value in requested
        .iter()
        .filter_map(|a| a.value.as_deref())
        .filter(|v| !v.is_empty())
    {
        match value.parse::<Ipv4Addr>() {
            Ok(ip) if ip.is_loopback() && chosen.is_none_or(|c| c == ip) => chosen = Some(ip),
            Ok(ip) if ip.is_loopback() => {
                return Err(AddressProblem::NotUsable(format!(
                    "gwsim serves a Gateway on one address: {value} is one too many"
                )));
            }
            Ok(_) | Err(_) => {
                return Err(AddressProblem::NotUsable(format!(
                    "{value} is not a loopback IPv4 address gwsim can bind"
                )));
            }
        }
    }
    if let Some(ip) = chosen {
        taken.insert(ip);
        return Ok(ip);
    }
    config
        .pool
        .assign(&object.key.ref_name(), taken)
        .ok_or(AddressProblem::PoolExhausted)
}
