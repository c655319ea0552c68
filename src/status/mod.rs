//! The status gwsim writes on Gateway API objects, shaped as `kubectl get -o yaml` shows it.

mod condition;

pub use condition::{CondStatus, CondType, Condition, Conditions, Reason};

use serde::Serialize;

/// Status of a GatewayClass.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayClassStatus {
    pub conditions: Conditions,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supported_features: Vec<SupportedFeature>,
}

/// One entry of `status.supportedFeatures`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SupportedFeature {
    pub name: String,
}

/// Status of a Gateway.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayStatus {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<GatewayAddress>,
    pub conditions: Conditions,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<ListenerStatus>,
}

/// One entry of a Gateway's `status.addresses`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GatewayAddress {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// Status of one listener.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerStatus {
    pub attached_routes: i32,
    pub conditions: Conditions,
    pub name: String,
    pub supported_kinds: Vec<RouteGroupKind>,
}

/// A route kind a listener supports.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RouteGroupKind {
    pub group: String,
    pub kind: String,
}

/// Status of an HTTPRoute.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RouteStatus {
    pub parents: Vec<RouteParentStatus>,
}

/// One entry of a route's `status.parents`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteParentStatus {
    pub conditions: Conditions,
    pub controller_name: String,
    pub parent_ref: ParentRefOut,
}

/// A parentRef written out in full, group and kind included, as conformance expects.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentRefOut {
    pub group: String,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

/// The status of any object that has one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ObjectStatus {
    GatewayClass(GatewayClassStatus),
    Gateway(GatewayStatus),
    HttpRoute(RouteStatus),
}

impl ObjectStatus {
    /// Every condition in this status, with where it sits (`listeners[http]`, a parent...).
    pub fn conditions(&self) -> Vec<(String, &Condition)> {
        let mut out = Vec::new();
        match self {
            ObjectStatus::GatewayClass(s) => {
                out.extend(s.conditions.iter().map(|c| (String::new(), c)))
            }
            ObjectStatus::Gateway(s) => {
                out.extend(s.conditions.iter().map(|c| (String::new(), c)));
                for l in &s.listeners {
                    out.extend(
                        l.conditions
                            .iter()
                            .map(|c| (format!("listener {}", l.name), c)),
                    );
                }
            }
            ObjectStatus::HttpRoute(s) => {
                for p in &s.parents {
                    let at = match &p.parent_ref.namespace {
                        Some(ns) => format!("parent {ns}/{}", p.parent_ref.name),
                        None => format!("parent {}", p.parent_ref.name),
                    };
                    out.extend(p.conditions.iter().map(|c| (at.clone(), c)));
                }
            }
        }
        out
    }
}
