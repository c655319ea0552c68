//! ReferenceGrant checks: a reference across namespaces is allowed only when a grant in the
//! target's namespace names the referring kind and namespace and the target kind (and name).

use crate::model::{Body, Kind};
use crate::store::Store;

/// The referring side of a cross-namespace reference.
pub struct From<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
}

/// The referenced side.
pub struct To<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

/// Whether a Gateway in `gateway_ns` may use the core-group object `kind` `ns/name` (a
/// certificate Secret or a CA bundle).
pub fn gateway_may_use(store: &Store, gateway_ns: &str, kind: &str, ns: &str, name: &str) -> bool {
    let from = From {
        group: crate::model::GATEWAY_GROUP,
        kind: "Gateway",
        namespace: gateway_ns,
    };
    let to = To {
        group: "",
        kind,
        namespace: ns,
        name,
    };
    permits(store, &from, &to)
}

/// Whether the reference is allowed: same namespace, or granted.
pub fn permits(store: &Store, from: &From<'_>, to: &To<'_>) -> bool {
    if from.namespace == to.namespace {
        return true;
    }
    store
        .of_kind(Kind::ReferenceGrant)
        .filter(|o| o.key.namespace == to.namespace)
        .any(|o| {
            let Body::ReferenceGrant(grant) = &o.body else {
                return false;
            };
            let from_ok = grant.spec.from.iter().any(|f| {
                f.group == from.group && f.kind == from.kind && f.namespace == from.namespace
            });
            let to_ok = grant.spec.to.iter().any(|t| {
                t.group == to.group
                    && t.kind == to.kind
                    && t.name
                        .as_deref()
                        .is_none_or(|n| n.is_empty() || n == to.name)
            });
            from_ok && to_ok
        })
}
