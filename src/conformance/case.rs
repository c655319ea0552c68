//! The serde model of a conformance case file, as the shared conformance folder's FORMAT.md
//! describes it. Files are YAML; they are read into JSON values first so that enums tagged
//! by a single key (`- status: [...]`) decode the ordinary serde way.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// One conformance test.
#[derive(Clone, Debug, Deserialize)]
pub struct Case {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub features: Vec<String>,
    /// Paths relative to the suite folder, applied in order.
    #[serde(default)]
    pub manifests: Vec<String>,
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// One step of a case.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Status(Vec<StatusCheck>),
    Http(HttpStep),
    Action(Action),
    /// Only a label (upstream's `t.Run` name).
    Subtest(String),
    Weighted(Weighted),
    Websocket(Websocket),
    Repeat(Box<Repeat>),
}

/// An expected condition; an empty status matches any status, a missing reason any reason.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Cond {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// One status check. The fields a check uses depend on `check`; unused ones stay empty.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCheck {
    pub check: String,
    pub gateway: Option<String>,
    pub gateway_class: Option<String>,
    pub route: Option<String>,
    pub listener: Option<String>,
    /// Listener names (`gateway_listeners_conditions`) or listener expectations
    /// (`gateway_listeners_exact`); read by the check that knows which.
    pub listeners: Option<Value>,
    #[serde(default)]
    pub conditions: Vec<Cond>,
    pub condition: Option<Cond>,
    #[serde(default)]
    pub parents: Vec<ParentExpect>,
    pub parent_gateway: Option<String>,
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// `Kind namespace/name` (or `Kind name` for cluster-scoped kinds).
    pub object: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// One expected listener of `gateway_listeners_exact`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerExpect {
    pub name: String,
    #[serde(default)]
    pub attached_routes: i64,
    #[serde(default)]
    pub conditions: Vec<Cond>,
    #[serde(default)]
    pub supported_kinds: Vec<GroupKind>,
}

/// A route kind as listeners report it.
#[derive(Clone, Debug, Deserialize)]
pub struct GroupKind {
    #[serde(default)]
    pub group: Option<String>,
    pub kind: String,
}

/// One expected `status.parents[]` entry of `route_parents`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentExpect {
    pub parent_ref: ParentRefExpect,
    #[serde(default)]
    pub namespace_required: bool,
    #[serde(default)]
    pub controller_name: String,
    #[serde(default)]
    pub conditions: Vec<Cond>,
}

/// The parentRef of an expected parent.
#[derive(Clone, Debug, Deserialize)]
pub struct ParentRefExpect {
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    pub name: String,
}

/// An `action` step.
#[derive(Clone, Debug, Deserialize)]
pub struct Action {
    pub kind: String,
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub description: String,
    pub append: Option<AppendPatch>,
    #[serde(default)]
    pub set: BTreeMap<String, Value>,
    pub keep_only_listeners: Option<Vec<String>>,
    pub remove_address: Option<String>,
    pub remove_address_index: Option<usize>,
    /// `populate_endpointslices`: the EndpointSlices to fill (default: the empty ones).
    #[serde(default)]
    pub slices: Vec<String>,
}

/// Appends `value` to the list at `path`.
#[derive(Clone, Debug, Deserialize)]
pub struct AppendPatch {
    pub path: String,
    pub value: Value,
}

/// Where requests go: a Gateway, optionally one of its listeners or an explicit port.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Target {
    pub gateway: String,
    pub listener: Option<String>,
    pub port: Option<u16>,
}

/// An `http` step.
#[derive(Clone, Debug, Deserialize)]
pub struct HttpStep {
    pub target: Target,
    #[serde(default = "default_scheme")]
    pub scheme: String,
    pub tls: Option<Value>,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default)]
    pub cases: Vec<HttpCase>,
}

fn default_scheme() -> String {
    "http".into()
}

/// How an `http` step judges its cases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    EventuallyConsistent,
    ExpectFailure,
    TlsHandshakeOrRequestMustFail,
}

/// One request and what must come back.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpCase {
    #[serde(default)]
    pub name: Option<String>,
    pub target: Option<Target>,
    #[serde(default)]
    pub request: Request,
    pub expected_request: Option<ExpectedRequest>,
    #[serde(default)]
    pub response: ResponseExpect,
    #[serde(default)]
    pub backend: String,
    #[serde(default)]
    pub namespace: String,
    pub redirect: Option<RedirectExpect>,
    #[serde(default)]
    pub backend_set_response_headers: BTreeMap<String, String>,
    #[serde(default)]
    pub mirrored_to: Vec<MirrorTarget>,
    pub tls: Option<Value>,
}

impl HttpCase {
    /// A short label for failure messages.
    pub fn label(&self, index: usize) -> String {
        match &self.name {
            Some(n) => format!("case {index} ({n})"),
            None => format!(
                "case {index} ({} {}{})",
                self.request.method.as_deref().unwrap_or("GET"),
                self.request.host.as_deref().unwrap_or_default(),
                self.request.path
            ),
        }
    }
}

/// The request to send.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub unfollow_redirect: bool,
}

/// What the backend must have seen (echo JSON).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpectedRequest {
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub absent_headers: Vec<String>,
    #[serde(default)]
    pub http_port: Option<String>,
    #[serde(default)]
    pub sni: Option<String>,
}

/// What the response must look like.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseExpect {
    #[serde(default)]
    pub status_codes: Vec<u16>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub valid_header_values: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub absent_headers: Vec<String>,
    #[serde(default)]
    pub ignore_whitespace: bool,
}

/// Expected `Location` fields; absent ones take the defaults FORMAT.md gives.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RedirectExpect {
    pub host: Option<String>,
    pub scheme: Option<String>,
    pub path: Option<String>,
    pub port: Option<String>,
}

/// A backend whose pods must log the mirrored request.
#[derive(Clone, Debug, Deserialize)]
pub struct MirrorTarget {
    pub name: String,
    pub namespace: String,
}

/// A `weighted` step.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Weighted {
    pub expected_weights: BTreeMap<String, f64>,
    pub target: Target,
    #[serde(default)]
    pub request: Request,
    #[serde(default = "default_total")]
    pub total_requests: usize,
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    #[serde(default = "default_attempts")]
    pub max_attempts: usize,
}

fn default_total() -> usize {
    500
}
fn default_concurrency() -> usize {
    10
}
fn default_tolerance() -> f64 {
    0.05
}
fn default_attempts() -> usize {
    10
}

/// A `websocket` step.
#[derive(Clone, Debug, Deserialize)]
pub struct Websocket {
    pub target: Target,
    /// `ws://<gateway-address>/path`: only the path is used.
    pub url: String,
    #[serde(default)]
    pub exchange: Vec<WsExchange>,
}

/// One message sent and the reply expected.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct WsExchange {
    pub send_text: Option<String>,
    pub expect_text: Option<String>,
    pub send_binary_hex: Option<String>,
    pub expect_binary_hex: Option<String>,
}

/// A `repeat` step: the same request `count` times, each response judged by `expect`.
#[derive(Clone, Debug, Deserialize)]
pub struct Repeat {
    pub target: Target,
    pub count: usize,
    pub expect: HttpCase,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Reads one case file.
pub fn load(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses the YAML text of a case.
pub fn parse(text: &str) -> Result<Case, String> {
    let value: Value = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    serde_path_to_error::deserialize(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_steps_of_every_kind() {
        let text = r#"
name: T
features: [Gateway]
manifests: [base/manifests.yaml]
steps:
- status:
  - {check: gateway_has_address, gateway: ns/gw}
  - check: route_condition
    route: ns/r
    parentGateway: ns/gw
    condition: {type: Accepted, status: 'True'}
- {subtest: label}
- http:
    target: {gateway: ns/gw}
    cases:
    - request: {path: /, headers: null}
      expectedRequest: {host: '', method: OPTIONS, path: '', headers: null}
      response: {statusCodes: [200]}
      redirect: {port: '8083'}
- action:
    kind: mutate
    object: HTTPRoute ns/r
    set: {'spec.rules[0].backendRefs[0].name': b}
"#;
        let c = parse(text).expect("parses");
        assert_eq!(c.steps.len(), 4);
        let Step::Http(h) = &c.steps[2] else {
            panic!("http step expected")
        };
        assert_eq!(h.mode, Mode::EventuallyConsistent);
        assert_eq!(h.scheme, "http");
        let r = h.cases[0].redirect.as_ref().expect("redirect");
        assert_eq!(r.port.as_deref(), Some("8083"));
    }
}
