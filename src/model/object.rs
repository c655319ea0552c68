//! One loaded object: its key, where it came from, and its typed body.

use super::Kind;
use crate::model::gw;
use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{ConfigMap, Namespace, Secret, Service},
    discovery::v1::EndpointSlice,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Identifies an object: kind, namespace ("" for cluster-scoped kinds) and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectKey {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(kind: Kind, namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ObjectKey {
            kind,
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// `namespace/name`, or the bare name for cluster-scoped objects.
    pub fn ref_name(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.ref_name())
    }
}

/// Where an object was declared.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct Origin {
    /// Path relative to the watched directory ("" for built-in objects).
    pub file: String,
    /// 1-based line of the document (or `List` item) that declared it.
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.file.is_empty() {
            f.write_str("<built-in>")
        } else {
            write!(f, "{}:{}", self.file, self.line)
        }
    }
}

/// The typed content of an object, using the `gateway-api` and `k8s-openapi` types.
// Bodies live in the store one per object, so their size matters less than matching on the
// plain generated types everywhere.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Namespace(Namespace),
    GatewayClass(gw::GatewayClass),
    Gateway(gw::Gateway),
    HttpRoute(gw::HttpRoute),
    ReferenceGrant(gw::ReferenceGrant),
    Service(Service),
    /// Boxed: a Deployment is several times larger than the other kinds.
    Deployment(Box<Deployment>),
    EndpointSlice(EndpointSlice),
    Secret(Secret),
    ConfigMap(ConfigMap),
}

macro_rules! each_body {
    ($body:expr, $b:ident => $e:expr) => {
        match $body {
            Body::Namespace($b) => $e,
            Body::GatewayClass($b) => $e,
            Body::Gateway($b) => $e,
            Body::HttpRoute($b) => $e,
            Body::ReferenceGrant($b) => $e,
            Body::Service($b) => $e,
            Body::Deployment($b) => $e,
            Body::EndpointSlice($b) => $e,
            Body::Secret($b) => $e,
            Body::ConfigMap($b) => $e,
        }
    };
}

impl Body {
    pub fn kind(&self) -> Kind {
        match self {
            Body::Namespace(_) => Kind::Namespace,
            Body::GatewayClass(_) => Kind::GatewayClass,
            Body::Gateway(_) => Kind::Gateway,
            Body::HttpRoute(_) => Kind::HttpRoute,
            Body::ReferenceGrant(_) => Kind::ReferenceGrant,
            Body::Service(_) => Kind::Service,
            Body::Deployment(_) => Kind::Deployment,
            Body::EndpointSlice(_) => Kind::EndpointSlice,
            Body::Secret(_) => Kind::Secret,
            Body::ConfigMap(_) => Kind::ConfigMap,
        }
    }

    pub fn meta(&self) -> &ObjectMeta {
        each_body!(self, b => &b.metadata)
    }

    pub fn meta_mut(&mut self) -> &mut ObjectMeta {
        each_body!(self, b => &mut b.metadata)
    }

    /// The object as JSON, with `apiVersion` and `kind` in their stored version.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = each_body!(self, b => serde_json::to_value(b)).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.remove("status");
            map.insert(
                "apiVersion".into(),
                serde_json::Value::String(self.kind().api_version()),
            );
            map.insert(
                "kind".into(),
                serde_json::Value::String(self.kind().as_str().into()),
            );
        }
        value
    }

    /// The part of the object whose change bumps `metadata.generation`.
    pub fn spec_json(&self) -> serde_json::Value {
        let mut value = self.to_json();
        if let Some(map) = value.as_object_mut() {
            map.remove("metadata");
            map.remove("apiVersion");
            map.remove("kind");
        }
        value
    }
}

/// An admitted object.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    pub key: ObjectKey,
    pub origin: Origin,
    pub body: Body,
    /// True when its file stopped parsing and this is the last good copy.
    pub stale: bool,
}

impl Object {
    pub fn meta(&self) -> &ObjectMeta {
        self.body.meta()
    }

    /// `metadata.generation`, 1 when unset.
    pub fn generation(&self) -> i64 {
        self.meta().generation.unwrap_or(1)
    }
}
