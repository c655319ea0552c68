//! The routing table and pod plan the controller produces: serializable, symbolic (backends
//! are `namespace/service:port`, pods are `deployment#replica`), and sorted so the same
//! input always prints the same way. The data plane compiles this into its lookup structures.

use serde::Serialize;
use std::collections::BTreeMap;

/// Everything the data plane needs to serve traffic.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RoutingIr {
    /// One entry per (gateway address, port), sorted by address then port.
    pub ports: Vec<PortIr>,
    /// Every usable rule, by its stable id (`httproute/<ns>/<name>/rule/<i>`).
    pub rules: BTreeMap<String, RuleIr>,
    /// Services that rules refer to, by `namespace/name`.
    pub services: BTreeMap<String, ServiceIr>,
}

/// Listener protocols the data plane serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Protocol {
    #[serde(rename = "HTTP")]
    Http,
    #[serde(rename = "HTTPS")]
    Https,
}

/// A socket to listen on: one Gateway address and port, shared by that Gateway's listeners.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PortIr {
    /// `namespace/name` of the Gateway.
    pub gateway: String,
    pub address: String,
    pub port: u16,
    pub protocol: Protocol,
    /// Listeners on this port, most specific hostname first; the first whose hostname
    /// matches the request's host serves it.
    pub listeners: Vec<ListenerIr>,
}

/// One programmed listener.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerIr {
    pub name: String,
    /// `None` matches every host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Virtual hosts, most specific first: exact names, then longer wildcards, then `*`.
    pub virtual_hosts: Vec<VirtualHost>,
    /// TLS termination, on HTTPS listeners.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ListenerTls>,
}

/// The certificates an HTTPS listener terminates TLS with.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerTls {
    /// `namespace/name` of each certificate Secret, in spec order.
    pub certificate_refs: Vec<String>,
    /// The PEM of those Secrets, in the same order. Kept out of the printed table: key
    /// material has no place in goldens or the dashboard.
    #[serde(skip)]
    pub certificates: Vec<crate::tls::server::Material>,
    /// Client certificate validation (`spec.tls.frontend`), when the listener's port has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_validation: Option<ClientValidation>,
}

/// How an HTTPS listener checks the certificates clients present.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientValidation {
    /// `Kind namespace/name` of each usable CA reference, in spec order.
    pub ca_refs: Vec<String>,
    /// `AllowValidOnly` or `AllowInsecureFallback`.
    pub mode: ValidationMode,
    /// The CA bundles (PEM) of those references, in the same order.
    #[serde(skip)]
    pub ca_pems: Vec<String>,
}

/// `FrontendValidationMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ValidationMode {
    /// Only clients presenting a certificate that chains to one of the CAs get through.
    AllowValidOnly,
    /// Every client gets through; the certificate is asked for but not required.
    AllowInsecureFallback,
}

/// The routes serving one hostname pattern on a listener, in precedence order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VirtualHost {
    /// An exact name, a `*.suffix` wildcard, or `*` for any host.
    pub hostname: String,
    pub routes: Vec<MatchEntry>,
}

/// One `matches[]` entry of one rule, placed in precedence order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MatchEntry {
    /// The rule this match belongs to (key into `RoutingIr::rules`).
    pub rule: String,
    #[serde(rename = "match")]
    pub matcher: MatchIr,
}

/// What a request must look like to match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatchIr {
    pub path: PathMatch,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<ValueMatch>,
    #[serde(rename = "queryParams", skip_serializing_if = "Vec::is_empty")]
    pub query_params: Vec<ValueMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// A path match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value")]
pub enum PathMatch {
    Exact(String),
    PathPrefix(String),
    RegularExpression(String),
}

/// A header or query parameter match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValueMatch {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ValueMatchKind,
    pub value: String,
}

/// How a header or query value is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ValueMatchKind {
    Exact,
    RegularExpression,
}

/// One route rule, ready to serve.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleIr {
    /// `namespace/name` of the route.
    pub route: String,
    pub index: usize,
    /// The rule's `name`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<FilterIr>,
    /// Weighted backends; a request draws among them. Empty with no filter answering
    /// means the rule answers 500.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backends: Vec<BackendIr>,
    #[serde(skip_serializing_if = "Timeouts::is_empty")]
    pub timeouts: Timeouts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryIr>,
}

/// A rule's retry policy (`retry`); absent when the rule has none or asks for 0 attempts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryIr {
    /// Answers that are retried, sorted; a failed connection or an exceeded backend timeout
    /// is always retried.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<u16>,
    /// Retries after the first try.
    pub attempts: u32,
    /// The wait before the first retry; it doubles before each next one, up to 10 times
    /// this.
    pub backoff_ms: u64,
}

impl RetryIr {
    /// Retries when `attempts` is not given, as Envoy's default.
    pub const DEFAULT_ATTEMPTS: u32 = 1;
    /// The wait when `backoff` is not given, as Envoy's default base interval.
    pub const DEFAULT_BACKOFF_MS: u64 = 25;

    /// The wait before retry number `n` (1 for the first), without jitter so that a run
    /// replays exactly.
    pub fn backoff(&self, n: u32) -> std::time::Duration {
        let doubled = self
            .backoff_ms
            .saturating_mul(1u64 << n.saturating_sub(1).min(16));
        std::time::Duration::from_millis(doubled.min(self.backoff_ms.saturating_mul(10)))
    }
}

/// Request and backend-request timeouts, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeouts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_request_ms: Option<u64>,
}

impl Timeouts {
    pub fn is_empty(&self) -> bool {
        self.request_ms.is_none() && self.backend_request_ms.is_none()
    }
}

/// A weighted backend of a rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendIr {
    /// `namespace/service:port` for display and stats; set for invalid refs too.
    pub name: String,
    pub weight: u32,
    pub target: BackendTarget,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<FilterIr>,
}

/// Where a backend's share of requests goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum BackendTarget {
    /// A Service port; endpoints come from `RoutingIr::services`.
    Service { service: String, port: u16 },
    /// The ref could not be resolved: its share answers 500, per spec.
    Invalid { reason: String },
}

/// A Service as the data plane needs it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ServiceIr {
    pub ports: Vec<ServicePortIr>,
}

/// One Service port and the endpoints behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePortIr {
    pub port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
    pub endpoints: Vec<EndpointIr>,
}

/// One endpoint: a fake pod's container port, or a literal address (EndpointSlice).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum EndpointIr {
    Pod {
        /// `namespace/deployment`.
        deployment: String,
        replica: usize,
        container_port: u16,
    },
    Address {
        ip: String,
        port: u16,
        /// `namespace/name` of the Pod the endpoint's `targetRef` names: when gwsim runs that
        /// pod itself, traffic goes to it rather than to the address.
        #[serde(skip_serializing_if = "Option::is_none")]
        pod: Option<String>,
    },
}

/// A filter, with every field defaulted and validated.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum FilterIr {
    RequestHeaderModifier(HeaderModifier),
    ResponseHeaderModifier(HeaderModifier),
    RequestRedirect(Redirect),
    #[serde(rename = "URLRewrite")]
    UrlRewrite(Rewrite),
    RequestMirror(Mirror),
    #[serde(rename = "CORS")]
    Cors(Cors),
    /// A filter that cannot be honoured; requests the rule would serve get this status.
    Unresolved {
        status: u16,
        reason: String,
    },
}

/// Header edits, applied in the order set, add, remove.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HeaderModifier {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

/// How a path is replaced by a redirect or rewrite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value")]
pub enum PathModifier {
    ReplaceFullPath(String),
    ReplacePrefixMatch(String),
}

/// A RequestRedirect filter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Redirect {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathModifier>,
    pub status_code: u16,
}

/// A URLRewrite filter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rewrite {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathModifier>,
}

/// A RequestMirror filter.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mirror {
    pub backend: BackendTarget,
    /// Share of requests mirrored, in parts per million.
    pub ppm: u32,
}

/// A CORS filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cors {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_origins: Vec<String>,
    pub allow_credentials: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_methods: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_headers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i32>,
}

/// Which fake pods to run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PodPlan {
    /// By `namespace/name` of the Deployment.
    pub deployments: BTreeMap<String, DeploymentPlan>,
}

/// The pods of one Deployment.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentPlan {
    pub namespace: String,
    pub name: String,
    pub replicas: usize,
    /// Kubernetes' `pod-template-hash`: changes only when the pod template changes.
    pub template_hash: String,
    pub labels: BTreeMap<String, String>,
    pub image: String,
    pub behaviour: PodBehaviour,
    pub container_ports: Vec<ContainerPortIr>,
}

/// How a fake pod answers, decided from its image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum PodBehaviour {
    /// Istio's helloworld sample.
    Helloworld { version: String },
    /// The Gateway API conformance echo server.
    Echo,
}

/// A container port of a pod template.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ContainerPortIr {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub port: u16,
}

#[cfg(test)]
mod tests {
    use super::RetryIr;
    use std::time::Duration;

    #[test]
    fn the_backoff_doubles_up_to_ten_times_the_base() {
        let r = RetryIr {
            codes: vec![],
            attempts: 9,
            backoff_ms: 25,
        };
        let waits: Vec<Duration> = (1..=6).map(|n| r.backoff(n)).collect();
        let ms = |v: u64| Duration::from_millis(v);
        assert_eq!(waits, [ms(25), ms(50), ms(100), ms(200), ms(250), ms(250)]);
        let huge = RetryIr {
            backoff_ms: u64::MAX / 2,
            ..r
        };
        assert_eq!(huge.backoff(40), ms(u64::MAX));
    }
}
