//! The CRDs' validation: OpenAPI bounds and CEL rules of GatewayClass, Gateway, HTTPRoute
//! and ReferenceGrant. Each broken rule is a [`Violation`] naming the field and quoting the
//! rule's message (CEL rules) or the API server's wording (OpenAPI bounds).

mod common;
mod filter_kinds;
mod filters;
mod gateway;
mod httproute;

use super::Violation;
use crate::model::{gw, Body};
use common::{
    group_kind, max_items, max_len, min_items, reference, string, Ref, Str, CONTROLLER_RE,
    NAMESPACE, OBJECT_NAME,
};

#[cfg(test)]
pub(super) use common::{duration_ms, ALL_PATTERNS};

/// Every violation of the rules of the object's kind.
pub fn check(body: &Body) -> Vec<Violation> {
    let mut out = Vec::new();
    match body {
        Body::GatewayClass(c) => gateway_class(&c.spec, &mut out),
        Body::Gateway(g) => gateway::check(&g.spec, &mut out),
        Body::HttpRoute(r) => httproute::check(&r.spec, &mut out),
        Body::ReferenceGrant(g) => reference_grant(&g.spec, &mut out),
        _ => {}
    }
    out
}

/// GatewayClass. `controllerName` is also immutable (`self == oldSelf`), which needs an
/// update to check and so is not enforced here.
fn gateway_class(spec: &gw::GatewayClassSpec, out: &mut Vec<Violation>) {
    let controller = Str {
        min: 1,
        max: 253,
        pattern: Some(&CONTROLLER_RE),
    };
    string(
        out,
        "spec.controllerName",
        &spec.controller_name,
        &controller,
    );
    if let Some(d) = &spec.description {
        max_len(out, "spec.description", d, 64);
    }
    if let Some(p) = &spec.parameters_ref {
        let at = "spec.parametersRef";
        group_kind(out, at, Some(&p.group), Some(&p.kind));
        string(out, &format!("{at}.name"), &p.name, &OBJECT_NAME);
        if let Some(ns) = &p.namespace {
            string(out, &format!("{at}.namespace"), ns, &NAMESPACE);
        }
    }
}

/// ReferenceGrant: `from` and `to` each hold 1 to 16 entries; their fields are the shared
/// `Group`, `Kind`, `Namespace` and `ObjectName` types (a missing required field fails
/// decoding before admission).
fn reference_grant(spec: &gw::ReferenceGrantSpec, out: &mut Vec<Violation>) {
    min_items(out, "spec.from", &spec.from, 1);
    max_items(out, "spec.from", &spec.from, 16);
    min_items(out, "spec.to", &spec.to, 1);
    max_items(out, "spec.to", &spec.to, 16);
    for (i, f) in spec.from.iter().enumerate() {
        let at = format!("spec.from[{i}]");
        group_kind(out, &at, Some(&f.group), Some(&f.kind));
        string(out, &format!("{at}.namespace"), &f.namespace, &NAMESPACE);
    }
    for (i, t) in spec.to.iter().enumerate() {
        let at = format!("spec.to[{i}]");
        match &t.name {
            Some(name) => {
                let r = Ref {
                    group: Some(&t.group),
                    kind: Some(&t.kind),
                    name,
                    ..Ref::default()
                };
                reference(out, &at, r);
            }
            None => group_kind(out, &at, Some(&t.group), Some(&t.kind)),
        }
    }
}
