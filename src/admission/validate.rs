//! The CRDs' validation: OpenAPI bounds and CEL rules. Each rule returns a [`Violation`]
//! naming the field and quoting the rule's message.

use super::Violation;
use crate::model::{gw, Body};
use std::collections::BTreeSet;

/// Every violation of the object's kind's rules.
pub fn check(body: &Body) -> Vec<Violation> {
    let mut out = Vec::new();
    match body {
        Body::Gateway(g) => gateway(&g.spec, &mut out),
        Body::HttpRoute(r) => http_route(&r.spec, &mut out),
        _ => {}
    }
    out
}

fn gateway(spec: &gw::GatewaySpec, out: &mut Vec<Violation>) {
    if spec.listeners.is_empty() {
        out.push(Violation::new(
            "spec.listeners",
            "must have at least 1 item",
        ));
    }
    let mut names = BTreeSet::new();
    let mut combos = BTreeSet::new();
    for (i, l) in spec.listeners.iter().enumerate() {
        let at = format!("spec.listeners[{i}]");
        if !names.insert(l.name.as_str()) {
            out.push(Violation::new(
                format!("{at}.name"),
                "Listener name must be unique within the Gateway",
            ));
        }
        if !(1..=65535).contains(&l.port) {
            out.push(Violation::new(
                format!("{at}.port"),
                "should be in the range 1 to 65535",
            ));
        }
        let combo = (
            l.port,
            l.protocol.clone(),
            l.hostname.clone().unwrap_or_default(),
        );
        if !combos.insert(combo) {
            out.push(Violation::new(
                at.clone(),
                "Combination of port, protocol and hostname must be unique for each listener",
            ));
        }
        if matches!(l.protocol.as_str(), "HTTP" | "TCP" | "UDP") && l.tls.is_some() {
            out.push(Violation::new(
                format!("{at}.tls"),
                "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
            ));
        }
        if matches!(l.protocol.as_str(), "HTTPS") && l.tls.is_none() {
            out.push(Violation::new(
                format!("{at}.tls"),
                "tls must be specified for protocols ['HTTPS', 'TLS']",
            ));
        }
        if matches!(l.protocol.as_str(), "TCP" | "UDP") && l.hostname.is_some() {
            out.push(Violation::new(
                format!("{at}.hostname"),
                "hostname must not be specified for protocols ['TCP', 'UDP']",
            ));
        }
    }
}

fn http_route(spec: &gw::HttpRouteSpec, out: &mut Vec<Violation>) {
    for (r, rule) in spec.rules.iter().flatten().enumerate() {
        let at = format!("spec.rules[{r}]");
        let filters = rule.filters.as_deref().unwrap_or_default();
        let has = |t: gw::HttpRouteRulesFiltersType| filters.iter().any(|f| f.r#type == t);
        if has(gw::HttpRouteRulesFiltersType::RequestRedirect)
            && rule.backend_refs.as_ref().is_some_and(|b| !b.is_empty())
        {
            out.push(Violation::new(
                at.clone(),
                "RequestRedirect filter must not be used together with backendRefs",
            ));
        }
        if has(gw::HttpRouteRulesFiltersType::RequestRedirect)
            && has(gw::HttpRouteRulesFiltersType::UrlRewrite)
        {
            out.push(Violation::new(
                format!("{at}.filters"),
                "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both",
            ));
        }
    }
}
