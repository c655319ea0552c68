//! The catalogue of served resources: one table drives discovery, routing, lists, Tables and
//! the CRD objects, so they cannot drift apart.

use crate::model::Kind;

/// What stores a resource's objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Objects of the store (files and the API layer), writable.
    Store(Kind),
    /// The fake pods the runtime runs; read-only.
    Pods,
    /// The Gateway API CRDs gwsim implements; read-only.
    Crds,
}

/// One served resource.
#[derive(Debug)]
pub struct Resource {
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    /// "" for the core group.
    pub group: &'static str,
    /// Served versions; the first is the preferred one.
    pub versions: &'static [&'static str],
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub backing: Backing,
}

const GW: &str = crate::model::GATEWAY_GROUP;
const GW_VERSIONS: &[&str] = &["v1", "v1beta1"];
const GW_CATEGORIES: &[&str] = &["gateway-api"];

/// Every served resource, core group first.
pub static RESOURCES: &[Resource] = &[
    Resource {
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        group: "",
        versions: &["v1"],
        namespaced: false,
        short_names: &["ns"],
        categories: &[],
        backing: Backing::Store(Kind::Namespace),
    },
    Resource {
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        group: "",
        versions: &["v1"],
        namespaced: true,
        short_names: &["po"],
        categories: &["all"],
        backing: Backing::Pods,
    },
    Resource {
        plural: "services",
        singular: "service",
        kind: "Service",
        group: "",
        versions: &["v1"],
        namespaced: true,
        short_names: &["svc"],
        categories: &["all"],
        backing: Backing::Store(Kind::Service),
    },
    Resource {
        plural: "secrets",
        singular: "secret",
        kind: "Secret",
        group: "",
        versions: &["v1"],
        namespaced: true,
        short_names: &[],
        categories: &[],
        backing: Backing::Store(Kind::Secret),
    },
    Resource {
        plural: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        group: "",
        versions: &["v1"],
        namespaced: true,
        short_names: &["cm"],
        categories: &[],
        backing: Backing::Store(Kind::ConfigMap),
    },
    Resource {
        plural: "deployments",
        singular: "deployment",
        kind: "Deployment",
        group: "apps",
        versions: &["v1"],
        namespaced: true,
        short_names: &["deploy"],
        categories: &["all"],
        backing: Backing::Store(Kind::Deployment),
    },
    Resource {
        plural: "endpointslices",
        singular: "endpointslice",
        kind: "EndpointSlice",
        group: "discovery.k8s.io",
        versions: &["v1"],
        namespaced: true,
        short_names: &[],
        categories: &[],
        backing: Backing::Store(Kind::EndpointSlice),
    },
    Resource {
        plural: "customresourcedefinitions",
        singular: "customresourcedefinition",
        kind: "CustomResourceDefinition",
        group: "apiextensions.k8s.io",
        versions: &["v1"],
        namespaced: false,
        short_names: &["crd", "crds"],
        categories: &["api-extensions"],
        backing: Backing::Crds,
    },
    Resource {
        plural: "gatewayclasses",
        singular: "gatewayclass",
        kind: "GatewayClass",
        group: GW,
        versions: GW_VERSIONS,
        namespaced: false,
        short_names: &["gc"],
        categories: GW_CATEGORIES,
        backing: Backing::Store(Kind::GatewayClass),
    },
    Resource {
        plural: "gateways",
        singular: "gateway",
        kind: "Gateway",
        group: GW,
        versions: GW_VERSIONS,
        namespaced: true,
        short_names: &["gtw"],
        categories: GW_CATEGORIES,
        backing: Backing::Store(Kind::Gateway),
    },
    Resource {
        plural: "httproutes",
        singular: "httproute",
        kind: "HTTPRoute",
        group: GW,
        versions: GW_VERSIONS,
        namespaced: true,
        short_names: &[],
        categories: GW_CATEGORIES,
        backing: Backing::Store(Kind::HttpRoute),
    },
    Resource {
        plural: "referencegrants",
        singular: "referencegrant",
        kind: "ReferenceGrant",
        group: GW,
        versions: GW_VERSIONS,
        namespaced: true,
        short_names: &["refgrant"],
        categories: GW_CATEGORIES,
        backing: Backing::Store(Kind::ReferenceGrant),
    },
];

impl Resource {
    /// `group/version`, or the bare version for the core group.
    pub fn group_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{version}", self.group)
        }
    }

    /// `plural.group` as kubectl prints it (`gateways.gateway.networking.k8s.io`).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Whether the API may change objects of this resource.
    pub fn writable(&self) -> bool {
        matches!(self.backing, Backing::Store(_))
    }
}

/// The resource served at `group`/`version` under `plural`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.plural == plural && r.versions.contains(&version))
}

/// The resource storing a model kind.
pub fn for_kind(kind: Kind) -> &'static Resource {
    RESOURCES
        .iter()
        .find(|r| r.backing == Backing::Store(kind))
        .unwrap_or(&RESOURCES[0])
}

/// Whether any resource is served in `group`/`version`.
pub fn serves(group: &str, version: &str) -> bool {
    RESOURCES
        .iter()
        .any(|r| r.group == group && r.versions.contains(&version))
}

/// The groups served under `/apis`, in discovery order, with their versions.
pub fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) => {
                for v in r.versions {
                    if !versions.contains(v) {
                        versions.push(v);
                    }
                }
            }
            None => out.push((r.group, r.versions.to_vec())),
        }
    }
    out
}
