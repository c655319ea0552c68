//! The JSON endpoints: objects with status, routing table, pods and their logs, traffic
//! statistics, diagnostics, events, recent requests, health and readiness.

use super::objects::Filter;
use super::resources::Resource;
use super::AdminState;
use crate::stats::SeriesSnapshot;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// An error body: `{"error": "..."}` with a status code.
pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

/// `GET /api/info`: what this instance is running.
pub(super) async fn info(State(s): State<AdminState>) -> Json<Value> {
    let state = s.handle.state();
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "pid": std::process::id(),
        "dir": state.dir,
        "seed": state.seed,
        "generation": state.generation,
        "lastReload": state.last_reload,
        "listeners": state.listeners,
    }))
}

/// Query of `GET /api/objects`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ObjectsQuery {
    /// Any name kubectl accepts for the resource (`gtw`, `gateways`, `Gateway`).
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
}

/// `GET /api/objects`: a kubectl-style `List` of objects with their status.
pub(super) async fn objects(
    State(s): State<AdminState>,
    Query(q): Query<ObjectsQuery>,
) -> Response {
    let resource = match q.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => match Resource::parse(k) {
            Some(r) => Some(r),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("the server doesn't have a resource type \"{k}\""),
                )
            }
        },
    };
    let filter = Filter {
        resource,
        namespace: q.namespace.filter(|n| !n.is_empty()),
        name: q.name.filter(|n| !n.is_empty()),
    };
    Json(s.list(&filter)).into_response()
}

/// `GET /api/routing`: the controller's routing table.
pub(super) async fn routing(State(s): State<AdminState>) -> Json<Value> {
    let state = s.handle.state();
    Json(serde_json::to_value(&state.translation.routing).unwrap_or_default())
}

/// `GET /api/pods`: the running fake pods as a `List` of Pods.
pub(super) async fn pods(State(s): State<AdminState>) -> Json<Value> {
    Json(s.list(&Filter {
        resource: Some(Resource::Pod),
        ..Filter::default()
    }))
}

/// `GET /api/pods/{namespace}/{name}/log`: a pod's log lines.
pub(super) async fn pod_log(
    State(s): State<AdminState>,
    Path((namespace, name)): Path<(String, String)>,
) -> Response {
    let state = s.handle.state();
    if !state
        .pods
        .iter()
        .any(|p| p.namespace == namespace && p.name == name)
    {
        return error(
            StatusCode::NOT_FOUND,
            format!("pods \"{name}\" not found in namespace \"{namespace}\""),
        );
    }
    match s.handle.pod_log(&name).await {
        Some(lines) => {
            Json(json!({"namespace": namespace, "name": name, "lines": lines})).into_response()
        }
        None => error(StatusCode::NOT_FOUND, format!("pods \"{name}\" not found")),
    }
}

/// Totals of a group of series.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub requests: u64,
    pub codes: BTreeMap<u16, u64>,
}

impl Totals {
    fn add(&mut self, s: &SeriesSnapshot) {
        self.requests += s.requests;
        for (code, n) in &s.codes {
            *self.codes.entry(*code).or_default() += n;
        }
    }
}

/// Traffic statistics grouped at each level of the resource tree.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StatsView {
    pub total: Totals,
    pub gateways: BTreeMap<String, Totals>,
    pub routes: BTreeMap<String, Totals>,
    pub rules: BTreeMap<String, Totals>,
    pub backends: BTreeMap<String, Totals>,
    pub pods: BTreeMap<String, Totals>,
    /// Every series with traffic, as counted.
    pub series: Vec<SeriesSnapshot>,
}

impl StatsView {
    /// Groups a registry snapshot; series without a name at a level (a 404 has no route)
    /// count only at the levels above it.
    pub fn of(series: Vec<SeriesSnapshot>) -> StatsView {
        let mut v = StatsView::default();
        for s in &series {
            v.total.add(s);
            for (map, name) in [
                (&mut v.gateways, &s.key.gateway),
                (&mut v.routes, &s.key.route),
                (&mut v.rules, &s.key.rule),
                (&mut v.backends, &s.key.backend),
                (&mut v.pods, &s.key.pod),
            ] {
                if !name.is_empty() {
                    map.entry(name.clone()).or_default().add(s);
                }
            }
        }
        v.series = series;
        v
    }
}

/// `GET /api/stats`: traffic per gateway, route, rule, backend and pod.
pub(super) async fn stats(State(s): State<AdminState>) -> Json<StatsView> {
    Json(StatsView::of(s.handle.stats().snapshot()))
}

/// `GET /api/diagnostics`: every problem of the last reload, loader's first.
pub(super) async fn diagnostics(State(s): State<AdminState>) -> Json<Value> {
    let state = s.handle.state();
    let all: Vec<&crate::source::Diagnostic> = state
        .store
        .diagnostics
        .iter()
        .chain(&state.translation.diagnostics)
        .collect();
    Json(serde_json::to_value(all).unwrap_or_default())
}

/// `?since=N`: entries after sequence number N.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Since {
    #[serde(default)]
    since: u64,
}

/// `GET /api/events?since=N`: reloads, pods, listeners, problems.
pub(super) async fn events(State(s): State<AdminState>, Query(q): Query<Since>) -> Json<Value> {
    Json(serde_json::to_value(s.handle.events().since(q.since)).unwrap_or_default())
}

/// `GET /api/requests?since=N`: the most recent requests, oldest first, with the rule that
/// matched each; `N` is the `seq` of the last request the caller has seen.
pub(super) async fn requests(State(s): State<AdminState>, Query(q): Query<Since>) -> Json<Value> {
    Json(serde_json::to_value(s.handle.requests().since(q.since)).unwrap_or_default())
}

/// `GET /healthz`: the admin server answers.
pub(super) async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: ready once the first reload has been published.
pub(super) async fn readyz(State(s): State<AdminState>) -> Response {
    if s.handle.state().generation >= 1 {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "no reload published yet").into_response()
    }
}

/// `GET /metrics`: Prometheus text format.
pub(super) async fn metrics(State(s): State<AdminState>) -> Response {
    match super::metrics::encode(&s.metrics) {
        Ok(body) => (
            [(
                axum::http::header::CONTENT_TYPE,
                super::metrics::CONTENT_TYPE,
            )],
            body,
        )
            .into_response(),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "encoding metrics failed"),
    }
}
