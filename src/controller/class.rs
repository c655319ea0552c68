//! GatewayClass status: which classes gwsim owns, and what it tells about them.

use super::Config;
use crate::model::{Body, Kind, Object};
use crate::status::{
    CondStatus, CondType, Condition, GatewayClassStatus, Reason, SupportedFeature,
};
use crate::store::Store;

/// The Gateway API features gwsim implements, as the spec names them (sorted on output).
pub const SUPPORTED_FEATURES: &[&str] = &[
    "Gateway",
    "GatewayAddressEmpty",
    "GatewayFrontendClientCertificateValidation",
    "GatewayFrontendClientCertificateValidationInsecureFallback",
    "GatewayHTTPListenerIsolation",
    "GatewayInfrastructurePropagation",
    "GatewayPort8080",
    "GatewayStaticAddresses",
    "HTTPRoute",
    "HTTPRoute303RedirectStatusCode",
    "HTTPRoute307RedirectStatusCode",
    "HTTPRoute308RedirectStatusCode",
    "HTTPRouteBackendProtocolH2C",
    "HTTPRouteBackendProtocolWebSocket",
    "HTTPRouteBackendRequestHeaderModification",
    "HTTPRouteCORS",
    "HTTPRouteDestinationPortMatching",
    "HTTPRouteHostRewrite",
    "HTTPRouteMethodMatching",
    "HTTPRouteParentRefPort",
    "HTTPRoutePathRedirect",
    "HTTPRoutePathRewrite",
    "HTTPRoutePortRedirect",
    "HTTPRouteQueryParamMatching",
    "HTTPRouteRequestMirror",
    "HTTPRouteRequestMultipleMirrors",
    "HTTPRouteRequestPercentageMirror",
    "HTTPRouteRequestTimeout",
    "HTTPRouteBackendTimeout",
    "HTTPRouteResponseHeaderModification",
    "HTTPRouteRetry",
    "HTTPRouteRetryBackendTimeout",
    "HTTPRouteRetryBackoff",
    "HTTPRouteRetryCodes",
    "HTTPRouteSchemeRedirect",
    "ReferenceGrant",
    "SupportGatewayHTTPSListenerDetectMisdirectedRequests",
];

/// What the controller decided about one class.
#[derive(Clone, Debug)]
pub struct ClassInfo {
    pub controller_name: String,
    /// gwsim implements this class's controller.
    pub owned: bool,
    /// Owned and Accepted: its Gateways are served.
    pub usable: bool,
}

/// Decides ownership and status for one GatewayClass.
pub fn reconcile(
    object: &Object,
    store: &Store,
    config: &Config,
) -> (ClassInfo, Option<GatewayClassStatus>) {
    let Body::GatewayClass(class) = &object.body else {
        return (
            ClassInfo {
                controller_name: String::new(),
                owned: false,
                usable: false,
            },
            None,
        );
    };
    let controller_name = class.spec.controller_name.clone();
    let generation = object.generation();
    if !config.owns(&controller_name) {
        // Another controller's class keeps the status the CRD defaults to on a cluster where
        // no controller has written one yet.
        let mut status = GatewayClassStatus::default();
        status.conditions.set(Condition::new(
            CondType::Accepted,
            CondStatus::Unknown,
            Reason::Pending,
            "Waiting for controller",
            generation,
        ));
        return (
            ClassInfo {
                controller_name,
                owned: false,
                usable: false,
            },
            Some(status),
        );
    }
    let mut status = GatewayClassStatus::default();
    let accepted = match &class.spec.parameters_ref {
        None => Ok(()),
        Some(p) => parameters_exist(store, &p.group, &p.kind, &p.name, p.namespace.as_deref()),
    };
    match &accepted {
        Ok(()) => status.conditions.set(Condition::new(
            CondType::Accepted,
            CondStatus::True,
            Reason::Accepted,
            "gwsim implements this class",
            generation,
        )),
        Err(message) => status.conditions.set(Condition::new(
            CondType::Accepted,
            CondStatus::False,
            Reason::InvalidParameters,
            message.clone(),
            generation,
        )),
    }
    status.conditions.set(Condition::new(
        CondType::SupportedVersion,
        CondStatus::True,
        Reason::SupportedVersion,
        "Gateway API v1.6 is supported",
        generation,
    ));
    let mut features: Vec<SupportedFeature> = SUPPORTED_FEATURES
        .iter()
        .map(|f| SupportedFeature {
            name: (*f).to_string(),
        })
        .collect();
    features.sort();
    status.supported_features = features;
    (
        ClassInfo {
            controller_name,
            owned: true,
            usable: accepted.is_ok(),
        },
        Some(status),
    )
}

/// gwsim takes no parameters, but a reference to an object that exists is harmless; one
/// that does not resolve makes the class invalid, as the spec asks.
pub(super) fn parameters_exist(
    store: &Store,
    group: &str,
    kind: &str,
    name: &str,
    namespace: Option<&str>,
) -> Result<(), String> {
    let found = match (group, kind) {
        ("", "ConfigMap") => store
            .get(Kind::ConfigMap, namespace.unwrap_or_default(), name)
            .is_some(),
        ("", "Secret") => store
            .get(Kind::Secret, namespace.unwrap_or_default(), name)
            .is_some(),
        _ => false,
    };
    if found {
        Ok(())
    } else {
        Err(format!(
            "parametersRef {}{kind} {name} does not refer to an existing object gwsim understands",
            if group.is_empty() {
                String::new()
            } else {
                format!("{group}/")
            }
        ))
    }
}
