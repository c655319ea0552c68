//! The one view model every front end reads: the terminal dashboard, the admin API and the
//! web page all render [`ViewModel`], built by the pure [`build`], so they cannot disagree
//! about what is healthy, where a Gateway listens or how traffic splits.
//!
//! Health follows [`CondType::healthy_status`], not True/False (`Conflicted=False` is good),
//! and every unhealthy condition carries its reason in words.

mod objects;
mod problems;
mod rates;
mod traffic;

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod tests;

pub use rates::Rates;

use crate::runtime::events::{Event, EventKind};
use crate::runtime::sim::State;
use crate::source::{Diagnostic, Severity};
use crate::stats::SeriesSnapshot;
use crate::status::{CondStatus, Condition};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many of the most recent events the view keeps.
pub const EVENT_LIMIT: usize = 200;

/// Builds the view model. Pure: everything it shows comes from the arguments.
///
/// - `state`: the published simulation state (one reload);
/// - `stats`: the current counters ([`crate::stats::Registry::snapshot`]);
/// - `rates`: requests per second and their recent history, fed by the caller's clock;
/// - `events`: the event log, oldest first;
/// - `ui`: what the person looking at it chose (the selected route, the traffic generator).
pub fn build(
    state: &State,
    stats: &[SeriesSnapshot],
    rates: &Rates,
    events: &[Event],
    ui: &UiState,
) -> ViewModel {
    let gateways = objects::gateways(state);
    let routes = objects::routes(state);
    let selected = ui
        .selected_route
        .as_deref()
        .filter(|r| routes.iter().any(|row| row.name == *r))
        .or_else(|| routes.first().map(|r| r.name.as_str()))
        .map(str::to_string);
    let traffic = selected
        .as_deref()
        .map(|r| traffic::pane(state, stats, rates, r));
    let problems = problems::collect(state);
    let header = header(state, &gateways, &routes);
    let details = match (&ui.overlay, selected.as_deref()) {
        (Overlay::Details, Some(route)) => objects::details(state, route),
        _ => None,
    };
    ViewModel {
        header,
        empty_hint: state.store.objects.values().all(|o| o.origin.file.is_empty()).then(|| {
            format!(
                "No manifests in {}. Run `gwsim init` here to write the helloworld sample, or `gwsim up --sample helloworld` to run it without writing files.",
                state.dir
            )
        }),
        gateways,
        services: objects::services(state),
        selected_route: selected,
        routes,
        traffic,
        problems,
        events: event_rows(events),
        generator: ui.generator.clone(),
        details,
        overlay: ui.overlay,
    }
}

// === UI state ===

/// What the viewer chose; the part of the front end's state the view model depends on.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UiState {
    /// `namespace/name` of the route whose traffic is shown (the first route when `None`).
    pub selected_route: Option<String>,
    /// Every route, in the order shown, so selection can move without the whole state.
    pub routes: Vec<String>,
    /// What covers the panes.
    pub overlay: Overlay,
    /// The built-in traffic generator.
    pub generator: Generator,
    /// Set once the viewer asked to quit.
    pub quitting: bool,
}

/// A full-screen layer over the panes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Overlay {
    #[default]
    None,
    /// The key help.
    Help,
    /// The selected route as YAML with its status and the file:line it came from.
    Details,
}

/// The traffic generator as the viewer set it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Generator {
    pub running: bool,
    /// Requests per second.
    pub rate: u32,
    /// Where it sends while running.
    pub target: Option<TrafficTarget>,
    /// Requests sent and failed (connection errors, not HTTP statuses) since it started.
    pub sent: u64,
    pub failed: u64,
}

impl Default for Generator {
    fn default() -> Self {
        Generator {
            running: false,
            rate: 50,
            target: None,
            sent: 0,
            failed: 0,
        }
    }
}

// === the view model ===

/// Everything a dashboard shows, as plain serializable data.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewModel {
    pub header: Header,
    /// Set when the folder holds no manifests: how to get the sample.
    pub empty_hint: Option<String>,
    pub gateways: Vec<GatewayRow>,
    pub routes: Vec<RouteRow>,
    /// The route the traffic pane shows.
    pub selected_route: Option<String>,
    pub services: Vec<ServiceRow>,
    pub traffic: Option<TrafficPane>,
    pub problems: Vec<Problem>,
    pub events: Vec<EventRow>,
    pub generator: Generator,
    /// Set when the details overlay is open.
    pub details: Option<Details>,
    /// What covers the panes.
    pub overlay: Overlay,
}

/// Green, red or yellow: whether a condition (or an object) shows what a healthy one would.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Health {
    Healthy,
    /// Unknown status, or served from the last good copy of a broken file.
    Unknown,
    Unhealthy,
}

impl Health {
    /// The health of one condition.
    pub fn of(c: &Condition) -> Health {
        if c.status == CondStatus::Unknown {
            Health::Unknown
        } else if c.is_healthy() {
            Health::Healthy
        } else {
            Health::Unhealthy
        }
    }

    /// The worst of several (healthy when there are none).
    pub fn worst(all: impl IntoIterator<Item = Health>) -> Health {
        all.into_iter().max().unwrap_or(Health::Healthy)
    }

    /// A mark that says the health without colour.
    pub fn mark(self) -> &'static str {
        match self {
            Health::Healthy => "✔",
            Health::Unknown => "?",
            Health::Unhealthy => "✘",
        }
    }
}

/// The top line.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub dir: String,
    pub seed: u64,
    /// Reloads applied so far.
    pub generation: u64,
    pub reload_ms: Option<f64>,
    /// RFC 3339 time of the last reload.
    pub reload_time: Option<String>,
    pub gateways: usize,
    pub gateways_programmed: usize,
    pub routes: usize,
    pub routes_unhealthy: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// One condition, with its health and the time it last changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionView {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub reason: String,
    pub message: String,
    pub health: Health,
    pub last_transition_time: Option<String>,
}

/// A Gateway with its listeners.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayRow {
    /// `namespace/name`.
    pub name: String,
    pub class: String,
    /// `file:line` it was declared at.
    pub origin: String,
    pub stale: bool,
    pub health: Health,
    pub addresses: Vec<String>,
    pub conditions: Vec<ConditionView>,
    pub listeners: Vec<ListenerRow>,
}

/// One listener: where it was declared to listen and where it actually does.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerRow {
    pub name: String,
    pub protocol: String,
    pub hostname: Option<String>,
    /// The declared `address:port`.
    pub declared: String,
    /// The socket actually serving it, when bound.
    pub bound: Option<String>,
    /// Why it is served elsewhere, or could not be bound.
    pub note: Option<String>,
    pub attached_routes: i32,
    pub health: Health,
    pub conditions: Vec<ConditionView>,
}

/// An HTTPRoute with its parents.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteRow {
    /// `namespace/name`.
    pub name: String,
    pub hostnames: Vec<String>,
    pub origin: String,
    pub stale: bool,
    pub health: Health,
    pub parents: Vec<ParentRow>,
}

/// One parent of a route and the route's conditions there.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentRow {
    /// `namespace/name`, with `/section` when the parentRef names one.
    pub gateway: String,
    pub health: Health,
    pub conditions: Vec<ConditionView>,
}

/// A Service and the pods behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRow {
    pub name: String,
    pub ports: Vec<u16>,
    /// Pods the selector picks that run.
    pub pods: Vec<PodRow>,
    /// Replicas the selected Deployments ask for.
    pub wanted: usize,
    pub health: Health,
}

/// A running fake pod.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodRow {
    pub name: String,
    pub deployment: String,
    pub addrs: Vec<String>,
}

/// The selected route's traffic, per rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficPane {
    pub route: String,
    pub rules: Vec<RuleTraffic>,
    /// Where the generator would send for this route.
    pub target: Option<TrafficTarget>,
    /// Why there is no target (the route serves nothing yet).
    pub no_target: Option<String>,
}

/// Where the traffic generator sends: a bound socket, a Host header and a request line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficTarget {
    pub addr: String,
    pub host: String,
    pub method: String,
    /// Path with query string.
    pub path: String,
    pub headers: Vec<(String, String)>,
}

/// One rule's observed traffic next to its configured weights.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleTraffic {
    /// The stable rule id (`httproute/<ns>/<name>/rule/<i>`).
    pub id: String,
    pub index: usize,
    /// What it matches, in words (`Exact /hello`).
    pub matches: String,
    pub totals: Counts,
    /// Requests per second over the recent window.
    pub rps: f64,
    /// Requests per second per sample, oldest first (the sparkline).
    pub history: Vec<u64>,
    pub backends: Vec<BackendTraffic>,
    /// Answers made before a backend was chosen (redirects, filters, 500s of a rule without
    /// backends).
    pub direct: Counts,
}

/// One backend of a rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendTraffic {
    /// `namespace/service:port`.
    pub name: String,
    /// The Service name, as people say it.
    pub label: String,
    pub weight: u32,
    /// The weight's share of the rule's total weight, in percent.
    pub weight_share: f64,
    /// Observed share of the rule's requests, in percent (`None` before any request).
    pub share: Option<f64>,
    pub counts: Counts,
    pub rps: f64,
    pub pods: Vec<PodTraffic>,
    /// Why the backend cannot serve (an unresolved ref answers 500, no endpoints 503).
    pub problem: Option<String>,
}

/// One pod's part of a backend's traffic.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodTraffic {
    pub pod: String,
    pub requests: u64,
    /// Share of the rule's requests, in percent.
    pub share: f64,
}

/// Request counts, status codes and latency of some series added up.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub requests: u64,
    pub codes: BTreeMap<u16, u64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Tries a retry policy repeated (not in `requests`).
    #[serde(skip_serializing_if = "is_zero")]
    pub retries: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Something a person should fix or know.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    pub health: Health,
    /// `Kind namespace/name`, when it concerns an object.
    pub object: Option<String>,
    /// Where in the object (`listener http`, `parent sample-ingress/gw`).
    pub place: Option<String>,
    /// `Accepted=False`, when it is a condition.
    pub condition: Option<String>,
    pub reason: Option<String>,
    pub message: String,
    /// `file:line[:column]`.
    pub location: Option<String>,
}

/// One line of the event log.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRow {
    pub seq: u64,
    /// RFC 3339.
    pub time: String,
    /// `HH:MM:SS` of `time`.
    pub clock: String,
    pub kind: EventKind,
    pub message: String,
}

/// The details overlay: an object as YAML, with where it came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Details {
    pub title: String,
    pub origin: String,
    pub yaml: String,
}

// === assembly ===

fn header(state: &State, gateways: &[GatewayRow], routes: &[RouteRow]) -> Header {
    let owned: Vec<&GatewayRow> = gateways
        .iter()
        .filter(|g| !g.conditions.iter().any(|c| c.reason == "Pending"))
        .collect();
    Header {
        dir: state.dir.clone(),
        seed: state.seed,
        generation: state.generation,
        reload_ms: state.last_reload.as_ref().map(|r| r.micros as f64 / 1000.0),
        reload_time: state.last_reload.as_ref().map(|r| r.time.clone()),
        gateways: owned.len(),
        gateways_programmed: owned
            .iter()
            .filter(|g| {
                g.conditions
                    .iter()
                    .any(|c| c.kind == "Programmed" && c.status == "True")
            })
            .count(),
        routes: routes.len(),
        routes_unhealthy: routes
            .iter()
            .filter(|r| r.health == Health::Unhealthy)
            .count(),
        errors: diagnostics(state)
            .filter(|d| d.severity == Severity::Error)
            .count(),
        warnings: diagnostics(state)
            .filter(|d| d.severity == Severity::Warning)
            .count(),
    }
}

/// Every diagnostic: the loader's, then the controller's.
fn diagnostics(state: &State) -> impl Iterator<Item = &Diagnostic> {
    state
        .store
        .diagnostics
        .iter()
        .chain(&state.translation.diagnostics)
}

fn event_rows(events: &[Event]) -> Vec<EventRow> {
    let skip = events.len().saturating_sub(EVENT_LIMIT);
    events
        .iter()
        .skip(skip)
        .map(|e| EventRow {
            seq: e.seq,
            time: e.time.clone(),
            clock: clock_of(&e.time),
            kind: e.kind,
            message: e.message.clone(),
        })
        .collect()
}

/// `HH:MM:SS` of an RFC 3339 time (the text after `T`, up to the seconds).
fn clock_of(time: &str) -> String {
    time.split_once('T')
        .map(|(_, t)| t.chars().take(8).collect())
        .unwrap_or_else(|| time.to_string())
}
