//! `GET /api/stream`: server-sent events. `state` when a reload is published (and once on
//! connect, so a client can fetch, then react to changes without missing one), `stats` on
//! every tick, and `event` for each new event-log entry.

use super::api::StatsView;
use super::AdminState;
use crate::runtime::sim::State as SimState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use serde_json::json;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often `stats` is sent.
pub const TICK: Duration = Duration::from_secs(1);

struct Cursor {
    admin: AdminState,
    states: watch::Receiver<Arc<SimState>>,
    tick: tokio::time::Interval,
    last_event: u64,
    pending: VecDeque<Event>,
    first: bool,
}

fn state_event(state: &SimState) -> Event {
    let errors = state
        .store
        .diagnostics
        .iter()
        .chain(&state.translation.diagnostics)
        .filter(|d| d.is_error())
        .count();
    let body = json!({
        "generation": state.generation,
        "lastReload": state.last_reload,
        "errors": errors,
    });
    Event::default().event("state").data(body.to_string())
}

impl Cursor {
    async fn next(&mut self) -> Option<Event> {
        if self.first {
            self.first = false;
            let current = self.states.borrow_and_update().clone();
            return Some(state_event(&current));
        }
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Some(e);
            }
            tokio::select! {
                changed = self.states.changed() => {
                    // The runtime ended: end the stream so clients notice.
                    changed.ok()?;
                    let current = self.states.borrow_and_update().clone();
                    return Some(state_event(&current));
                }
                _ = self.tick.tick() => {
                    for e in self.admin.handle.events().since(self.last_event) {
                        self.last_event = e.seq;
                        let data = serde_json::to_string(&e).unwrap_or_default();
                        self.pending.push_back(Event::default().event("event").data(data));
                    }
                    let stats = StatsView::of(self.admin.handle.stats().snapshot());
                    let body = json!({
                        "total": stats.total,
                        "rules": stats.rules,
                        "backends": stats.backends,
                        "pods": stats.pods,
                        "lastRequest": self.admin.handle.requests().last_seq(),
                    });
                    self.pending
                        .push_back(Event::default().event("stats").data(body.to_string()));
                }
            }
        }
    }
}

/// The event stream.
pub(super) async fn stream(
    State(admin): State<AdminState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let last_event = admin
        .handle
        .events()
        .since(0)
        .last()
        .map(|e| e.seq)
        .unwrap_or(0);
    let cursor = Cursor {
        states: admin.handle.subscribe(),
        admin,
        tick,
        last_event,
        pending: VecDeque::new(),
        first: true,
    };
    let events = futures_util::stream::unfold(cursor, |mut c| async move {
        let e = c.next().await?;
        Some((Ok(e), c))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
