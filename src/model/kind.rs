//! The kinds gwsim loads, with their API groups, versions and scopes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A kind gwsim understands. The order is the order objects are printed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    Namespace,
    GatewayClass,
    Gateway,
    #[serde(rename = "HTTPRoute")]
    HttpRoute,
    ReferenceGrant,
    Service,
    Deployment,
    EndpointSlice,
    Secret,
    ConfigMap,
}

impl Kind {
    /// Every kind, in printing order.
    pub const ALL: [Kind; 10] = [
        Kind::Namespace,
        Kind::GatewayClass,
        Kind::Gateway,
        Kind::HttpRoute,
        Kind::ReferenceGrant,
        Kind::Service,
        Kind::Deployment,
        Kind::EndpointSlice,
        Kind::Secret,
        Kind::ConfigMap,
    ];

    /// The kind's name as written in `kind:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::GatewayClass => "GatewayClass",
            Kind::Gateway => "Gateway",
            Kind::HttpRoute => "HTTPRoute",
            Kind::ReferenceGrant => "ReferenceGrant",
            Kind::Service => "Service",
            Kind::Deployment => "Deployment",
            Kind::EndpointSlice => "EndpointSlice",
            Kind::Secret => "Secret",
            Kind::ConfigMap => "ConfigMap",
        }
    }

    /// The API group ("" for the core group).
    pub fn group(self) -> &'static str {
        match self {
            Kind::GatewayClass | Kind::Gateway | Kind::HttpRoute | Kind::ReferenceGrant => {
                super::GATEWAY_GROUP
            }
            Kind::Deployment => "apps",
            Kind::EndpointSlice => "discovery.k8s.io",
            Kind::Namespace | Kind::Service | Kind::Secret | Kind::ConfigMap => "",
        }
    }

    /// The versions of the group this kind is accepted in; the first is the stored one.
    pub fn versions(self) -> &'static [&'static str] {
        match self {
            Kind::GatewayClass | Kind::Gateway | Kind::HttpRoute | Kind::ReferenceGrant => {
                &["v1", "v1beta1"]
            }
            _ => &["v1"],
        }
    }

    /// The `apiVersion` objects of this kind are written with.
    pub fn api_version(self) -> String {
        let version = self.versions()[0];
        match self.group() {
            "" => version.to_string(),
            group => format!("{group}/{version}"),
        }
    }

    /// Whether objects of this kind live in a namespace.
    pub fn is_namespaced(self) -> bool {
        !matches!(self, Kind::Namespace | Kind::GatewayClass)
    }

    /// Resolves `apiVersion` + `kind` as written in a manifest.
    pub fn from_type(api_version: &str, kind: &str) -> Option<Kind> {
        let found = Kind::ALL.into_iter().find(|k| k.as_str() == kind)?;
        let (group, version) = match api_version.rsplit_once('/') {
            Some((group, version)) => (group, version),
            None => ("", api_version),
        };
        (found.group() == group && found.versions().contains(&version)).then_some(found)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn gateway_kinds_resolve_in_both_versions() {
        assert_eq!(
            Kind::from_type("gateway.networking.k8s.io/v1beta1", "Gateway"),
            Some(Kind::Gateway)
        );
        assert_eq!(
            Kind::from_type("gateway.networking.k8s.io/v1", "HTTPRoute"),
            Some(Kind::HttpRoute)
        );
        assert_eq!(
            Kind::from_type("apps/v1", "Deployment"),
            Some(Kind::Deployment)
        );
        assert_eq!(Kind::from_type("v1", "Service"), Some(Kind::Service));
    }

    #[test]
    fn wrong_group_or_version_is_unknown() {
        assert_eq!(Kind::from_type("v1", "Gateway"), None);
        assert_eq!(Kind::from_type("apps/v1beta2", "Deployment"), None);
        assert_eq!(Kind::from_type("networking.istio.io/v1", "Gateway"), None);
    }
}
