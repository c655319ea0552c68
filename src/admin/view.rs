//! `GET /api/view`: the shared view model ([`crate::view::build`]) the terminal dashboard
//! renders, so the web page shows exactly what the TUI does. The page draws every route's
//! rules at once, so the traffic pane is built for each route with the same function.

use super::AdminState;
use crate::runtime::handle::Handle;
use crate::view::{self, Rates, TrafficPane, UiState, ViewModel};
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the admin server samples the counters for requests per second.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// The view model plus the traffic pane of every route.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebView {
    #[serde(flatten)]
    pub view: ViewModel,
    /// One pane per route, in the order of `routes`: what the traffic pane shows when that
    /// route is selected.
    pub traffic_by_route: Vec<TrafficPane>,
}

/// Builds the web view from the published state, the current counters and `rates`.
pub fn build(handle: &Handle, rates: &Rates, selected: Option<String>) -> WebView {
    let state = handle.state();
    let stats = handle.stats().snapshot();
    let events = handle.events().since(0);
    let ui = UiState {
        selected_route: selected,
        ..UiState::default()
    };
    let model = view::build(&state, &stats, rates, &events, &ui);
    let traffic_by_route = model
        .routes
        .iter()
        .filter_map(|r| {
            let ui = UiState {
                selected_route: Some(r.name.clone()),
                ..UiState::default()
            };
            view::build(&state, &stats, rates, &[], &ui).traffic
        })
        .collect();
    WebView {
        view: model,
        traffic_by_route,
    }
}

/// [`build`] without rate samples (requests per second read 0): what the page shows of
/// counts and shares, for callers without the admin server's sampler.
pub fn build_for(handle: &Handle, selected: Option<String>) -> WebView {
    build(handle, &Rates::default(), selected)
}

/// `?route=namespace/name`: the route the traffic pane shows.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ViewQuery {
    route: Option<String>,
}

/// `GET /api/view`.
pub(super) async fn get(
    State(admin): State<AdminState>,
    Query(q): Query<ViewQuery>,
) -> Json<WebView> {
    let rates = match admin.rates.lock() {
        Ok(r) => r.clone(),
        Err(p) => p.into_inner().clone(),
    };
    Json(build(
        &admin.handle,
        &rates,
        q.route.filter(|r| !r.is_empty()),
    ))
}

/// Samples the counters every [`SAMPLE_EVERY`] into `rates`, on the admin server's own
/// monotonic clock, until the task is dropped.
/// Also notes when new pods first show up, for their creation time.
pub(super) async fn sample(
    handle: Handle,
    rates: Arc<Mutex<Rates>>,
    pods: Arc<super::objects::PodClock>,
) {
    let started = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        pods.observe(&handle.state(), &crate::runtime::clock::now_rfc3339());
        let snapshot = handle.stats().snapshot();
        let at = started.elapsed().as_secs_f64();
        match rates.lock() {
            Ok(mut r) => r.observe(at, &snapshot),
            Err(p) => p.into_inner().observe(at, &snapshot),
        }
    }
}
