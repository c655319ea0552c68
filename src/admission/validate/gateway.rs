//! Gateway admission: the listener, address, TLS and infrastructure bounds and the CEL rules
//! of `gateway.networking.k8s.io_gateways.yaml`.

use super::common::{
    group_kind, max_items, max_len, max_properties, min_items, port, push, reference, string, Ref,
    Str, ADDRESS_TYPE_RE, HOSTNAME, HOSTNAME_RE, LABEL_VALUE_RE, OBJECT_NAME, PROTOCOL_RE,
    QUALIFIED_NAME_RE, SECTION_NAME,
};
use crate::admission::Violation;
use crate::model::gw;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Every violation of a Gateway spec.
pub fn check(spec: &gw::GatewaySpec, out: &mut Vec<Violation>) {
    string(
        out,
        "spec.gatewayClassName",
        &spec.gateway_class_name,
        &OBJECT_NAME,
    );
    listeners(&spec.listeners, out);
    if let Some(list) = &spec.addresses {
        addresses(list, out);
    }
    if let Some(infra) = &spec.infrastructure {
        infrastructure(infra, out);
    }
    if let Some(tls) = &spec.tls {
        gateway_tls(tls, out);
    }
}

fn listeners(listeners: &[gw::GatewayListeners], out: &mut Vec<Violation>) {
    min_items(out, "spec.listeners", listeners, 1);
    max_items(out, "spec.listeners", listeners, 64);
    let mut names = BTreeSet::new();
    let mut combos = BTreeSet::new();
    for (i, l) in listeners.iter().enumerate() {
        let at = format!("spec.listeners[{i}]");
        string(out, &format!("{at}.name"), &l.name, &SECTION_NAME);
        if !names.insert(l.name.as_str()) {
            push(
                out,
                format!("{at}.name"),
                "Listener name must be unique within the Gateway",
            );
        }
        if let Some(hostname) = &l.hostname {
            string(out, &format!("{at}.hostname"), hostname, &HOSTNAME);
        }
        port(out, &format!("{at}.port"), l.port);
        let protocol = Str {
            min: 1,
            max: 255,
            pattern: Some(&PROTOCOL_RE),
        };
        string(out, &format!("{at}.protocol"), &l.protocol, &protocol);
        // The CEL compares hostnames only when both are set; an unset one equals only unset.
        if !combos.insert((l.port, l.protocol.as_str(), l.hostname.as_deref())) {
            push(
                out,
                at.as_str(),
                "Combination of port, protocol and hostname must be unique for each listener",
            );
        }
        protocol_rules(l, &at, out);
        if let Some(tls) = &l.tls {
            listener_tls(tls, &format!("{at}.tls"), out);
        }
        let kinds = l.allowed_routes.as_ref().and_then(|a| a.kinds.as_deref());
        if let Some(kinds) = kinds {
            let at = format!("{at}.allowedRoutes.kinds");
            max_items(out, &at, kinds, 8);
            for (k, kind) in kinds.iter().enumerate() {
                let at = format!("{at}[{k}]");
                group_kind(out, &at, kind.group.as_deref(), Some(&kind.kind));
            }
        }
    }
}

/// The listener-list CEL rules that tie `tls` and `hostname` to the protocol. Note that the
/// CRD does not require `tls` for HTTPS or TLS listeners (the Gateway-level TLS config can
/// supply it); the controller reports a listener it cannot serve.
fn protocol_rules(l: &gw::GatewayListeners, at: &str, out: &mut Vec<Violation>) {
    let protocol = l.protocol.as_str();
    if matches!(protocol, "HTTP" | "TCP" | "UDP") && l.tls.is_some() {
        push(
            out,
            format!("{at}.tls"),
            "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
        );
    }
    let mode = l.tls.as_ref().and_then(|t| t.mode.as_ref());
    if protocol == "HTTPS" && mode == Some(&gw::GatewayListenersTlsMode::Passthrough) {
        push(
            out,
            format!("{at}.tls.mode"),
            "tls mode must be Terminate for protocol HTTPS",
        );
    }
    if matches!(protocol, "TCP" | "UDP") && l.hostname.as_deref().is_some_and(|h| !h.is_empty()) {
        push(
            out,
            format!("{at}.hostname"),
            "hostname must not be specified for protocols ['TCP', 'UDP']",
        );
    }
}

fn listener_tls(tls: &gw::GatewayListenersTls, at: &str, out: &mut Vec<Violation>) {
    let certs = tls.certificate_refs.as_deref().unwrap_or_default();
    max_items(out, &format!("{at}.certificateRefs"), certs, 64);
    for (c, cert) in certs.iter().enumerate() {
        let r = Ref {
            group: cert.group.as_deref(),
            kind: cert.kind.as_deref(),
            name: &cert.name,
            namespace: cert.namespace.as_deref(),
            port: None,
        };
        reference(out, &format!("{at}.certificateRefs[{c}]"), r);
    }
    let options = tls.options.as_ref();
    if let Some(options) = options {
        max_properties(out, &format!("{at}.options"), options.len(), 16);
        for (key, value) in options {
            max_len(out, &format!("{at}.options.{key}"), value, 4096);
        }
    }
    // ListenerTLSConfig: `self.mode == 'Terminate' ? size(self.certificateRefs) > 0 ||
    // size(self.options) > 0 : true`, after `mode` defaulted to Terminate.
    let terminate = tls.mode.as_ref() == Some(&gw::GatewayListenersTlsMode::Terminate);
    if terminate && certs.is_empty() && options.is_none_or(BTreeMap::is_empty) {
        push(
            out,
            at,
            "certificateRefs or options must be specified when mode is Terminate",
        );
    }
}

fn addresses(list: &[gw::GatewayAddresses], out: &mut Vec<Violation>) {
    max_items(out, "spec.addresses", list, 16);
    let mut seen = BTreeSet::new();
    for (i, a) in list.iter().enumerate() {
        let at = format!("spec.addresses[{i}]");
        let ty = a.r#type.as_deref().unwrap_or("IPAddress");
        let address_type = Str {
            min: 1,
            max: 253,
            pattern: Some(&ADDRESS_TYPE_RE),
        };
        string(out, &format!("{at}.type"), ty, &address_type);
        let Some(value) = a.value.as_deref() else {
            continue;
        };
        let at = format!("{at}.value");
        max_len(out, &at, value, 253);
        match ty {
            // The generator's `oneOf` for `<gateway:validateIPAddress>`: an IPAddress value
            // has format ipv4 or ipv6.
            "IPAddress" if value.parse::<IpAddr>().is_err() => push(
                out,
                at.as_str(),
                format!(
                    "Invalid value: {value:?}: must be of type ipv4 or ipv6 when type is IPAddress"
                ),
            ),
            "Hostname" if !HOSTNAME_RE.is_match(value) => push(
                out,
                at.as_str(),
                format!(
                    "Hostname value must be empty or contain only valid characters (matching {})",
                    HOSTNAME_RE.source()
                ),
            ),
            _ => {}
        }
        let unique = match ty {
            "IPAddress" => "IPAddress values must be unique",
            "Hostname" => "Hostname values must be unique",
            _ => continue,
        };
        if !seen.insert((ty, value)) {
            push(out, at, unique);
        }
    }
}

fn infrastructure(infra: &gw::GatewayInfrastructure, out: &mut Vec<Violation>) {
    let at = "spec.infrastructure";
    if let Some(labels) = &infra.labels {
        map_keys(
            labels,
            &format!("{at}.labels"),
            "Label keys",
            "label key's",
            out,
        );
        for (key, value) in labels {
            let label_value = Str {
                min: 0,
                max: 63,
                pattern: Some(&LABEL_VALUE_RE),
            };
            string(out, &format!("{at}.labels.{key}"), value, &label_value);
        }
    }
    if let Some(annotations) = &infra.annotations {
        map_keys(
            annotations,
            &format!("{at}.annotations"),
            "Annotation keys",
            "annotation key's",
            out,
        );
        for (key, value) in annotations {
            max_len(out, &format!("{at}.annotations.{key}"), value, 4096);
        }
    }
    if let Some(p) = &infra.parameters_ref {
        let at = format!("{at}.parametersRef");
        group_kind(out, &at, Some(&p.group), Some(&p.kind));
        string(out, &format!("{at}.name"), &p.name, &OBJECT_NAME);
    }
}

/// `maxProperties: 8` and the two key CEL rules of `infrastructure.labels`/`annotations`.
fn map_keys(
    map: &BTreeMap<String, String>,
    at: &str,
    keys: &str,
    key_s: &str,
    out: &mut Vec<Violation>,
) {
    max_properties(out, at, map.len(), 8);
    for key in map.keys() {
        let at = format!("{at}.{key}");
        if !QUALIFIED_NAME_RE.is_match(key) {
            push(
                out,
                at.as_str(),
                format!(
                    "{keys} must be in the form of an optional DNS subdomain prefix followed by a \
                     required name segment of up to 63 characters."
                ),
            );
        }
        if key.split('/').next().unwrap_or_default().chars().count() >= 253 {
            push(
                out,
                at,
                format!(
                    "If specified, the {key_s} prefix must be a DNS subdomain not longer than 253 \
                     characters in total."
                ),
            );
        }
    }
}

fn gateway_tls(tls: &gw::GatewayTls, out: &mut Vec<Violation>) {
    if let Some(c) = tls
        .backend
        .as_ref()
        .and_then(|b| b.client_certificate_ref.as_ref())
    {
        let r = Ref {
            group: c.group.as_deref(),
            kind: c.kind.as_deref(),
            name: &c.name,
            namespace: c.namespace.as_deref(),
            port: None,
        };
        reference(out, "spec.tls.backend.clientCertificateRef", r);
    }
    let Some(frontend) = &tls.frontend else {
        return;
    };
    if let Some(v) = &frontend.default.validation {
        let refs: Vec<Ref<'_>> = v
            .ca_certificate_refs
            .iter()
            .map(|c| object_ref(&c.group, &c.kind, &c.name, &c.namespace))
            .collect();
        ca_refs(
            &refs,
            "spec.tls.frontend.default.validation.caCertificateRefs",
            out,
        );
    }
    let per_port = frontend.per_port.as_deref().unwrap_or_default();
    max_items(out, "spec.tls.frontend.perPort", per_port, 64);
    let mut ports = BTreeSet::new();
    for (i, p) in per_port.iter().enumerate() {
        let at = format!("spec.tls.frontend.perPort[{i}]");
        port(out, &format!("{at}.port"), p.port);
        if !ports.insert(p.port) {
            push(
                out,
                format!("{at}.port"),
                "Port for TLS configuration must be unique within the Gateway",
            );
        }
        if let Some(v) = &p.tls.validation {
            let refs: Vec<Ref<'_>> = v
                .ca_certificate_refs
                .iter()
                .map(|c| object_ref(&c.group, &c.kind, &c.name, &c.namespace))
                .collect();
            ca_refs(
                &refs,
                &format!("{at}.tls.validation.caCertificateRefs"),
                out,
            );
        }
    }
}

fn object_ref<'a>(
    group: &'a str,
    kind: &'a str,
    name: &'a str,
    namespace: &'a Option<String>,
) -> Ref<'a> {
    Ref {
        group: Some(group),
        kind: Some(kind),
        name,
        namespace: namespace.as_deref(),
        port: None,
    }
}

fn ca_refs(refs: &[Ref<'_>], at: &str, out: &mut Vec<Violation>) {
    min_items(out, at, refs, 1);
    max_items(out, at, refs, 8);
    for (i, r) in refs.iter().enumerate() {
        reference(out, &format!("{at}[{i}]"), *r);
    }
}
