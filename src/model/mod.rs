//! The objects gwsim understands: their kinds, keys, origins and typed bodies.

mod kind;
mod object;

pub use kind::Kind;
pub use object::{Body, Object, ObjectKey, Origin};

/// The API group of every Gateway API kind.
pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// The namespace objects without `metadata.namespace` land in, as with kubectl.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The Gateway API types gwsim stores, from the `gateway-api` crate's experimental channel
/// (a superset of the standard channel, so manifests written for either decode).
pub mod gw {
    pub use gateway_api::apis::experimental::gatewayclasses::*;
    pub use gateway_api::apis::experimental::gateways::*;
    pub use gateway_api::apis::experimental::httproutes::*;
    pub use gateway_api::apis::experimental::referencegrants::*;
}
