//! The terminal dashboard of `gwsim up`: the effectful loop around the pure parts. It owns
//! the terminal (raw mode, alternate screen, restored on every exit path), samples the
//! counters, runs the traffic generator, and draws the [`crate::view::ViewModel`] that
//! [`app::update`] and the simulation state produce.

pub mod app;
mod panes;
pub mod render;
mod traffic;

#[cfg(test)]
mod tests;

pub use app::{update, Command, Key, UiEvent};

use crate::runtime::handle::Handle;
use crate::runtime::loadgen::LoadGen;
use crate::runtime::sim::State;
use crate::view::{self, Rates, UiState};
use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use std::time::Duration;

/// How often the screen is redrawn when nothing else happens.
const FRAME: Duration = Duration::from_millis(200);

/// How often the counters are sampled for requests per second.
const SAMPLE_SECS: f64 = 1.0;

/// Runs the dashboard until the viewer quits or `stop` resolves (a signal), then restores
/// the terminal and shuts the simulation down (listeners closed, pods stopped).
pub async fn run(
    handle: Handle,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    // `try_init` also installs a panic hook that restores the terminal before the message.
    let mut terminal = ratatui::try_init()?;
    let result = tokio::select! {
        r = event_loop(&mut terminal, &handle) => r,
        () = stop => Ok(()),
    };
    ratatui::restore();
    handle.shutdown().await;
    result
}

async fn event_loop(terminal: &mut DefaultTerminal, handle: &Handle) -> std::io::Result<()> {
    let mut ui = UiState::default();
    let mut rates = Rates::default();
    let mut states = handle.subscribe();
    let mut state = states.borrow_and_update().clone();
    let mut keys = EventStream::new();
    let mut frames = tokio::time::interval(FRAME);
    frames.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let started = tokio::time::Instant::now();
    let mut sampled: Option<f64> = None;
    let mut generator: Option<LoadGen> = None;
    update(&mut ui, UiEvent::Routes(route_names(&state)));
    let outcome = loop {
        let stats = handle.stats().snapshot();
        let now = started.elapsed().as_secs_f64();
        if sampled.is_none_or(|t| now - t >= SAMPLE_SECS) {
            rates.observe(now, &stats);
            sampled = Some(now);
        }
        if let Some(g) = &generator {
            let t = g.totals();
            update(
                &mut ui,
                UiEvent::Generated {
                    sent: t.sent(),
                    failed: t.failed(),
                },
            );
        }
        let vm = view::build(&state, &stats, &rates, &handle.events().since(0), &ui);
        terminal.draw(|f| f.render_widget(&vm, f.area()))?;

        let event = tokio::select! {
            _ = frames.tick() => None,
            changed = states.changed() => {
                if changed.is_err() {
                    break Ok(());
                }
                state = states.borrow_and_update().clone();
                Some(UiEvent::Routes(route_names(&state)))
            }
            input = keys.next() => match input {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => key(k).map(UiEvent::Key),
                Some(Ok(_)) => None,
                Some(Err(e)) => break Err(e),
                None => break Ok(()),
            },
        };
        let Some(event) = event else {
            continue;
        };
        match update(&mut ui, event) {
            Some(Command::Quit) => break Ok(()),
            Some(Command::StartTraffic { rate }) => {
                let target = vm.traffic.as_ref().and_then(|t| t.target.clone());
                match target.map(|t| (LoadGen::start(t.clone(), rate), t)) {
                    Some((Ok(g), t)) => {
                        generator = Some(g);
                        update(&mut ui, UiEvent::GeneratorStarted(t));
                    }
                    _ => {
                        update(&mut ui, UiEvent::GeneratorUnavailable);
                    }
                }
            }
            Some(Command::StopTraffic) => {
                if let Some(g) = generator.take() {
                    g.stop().await;
                }
            }
            Some(Command::SetRate(rate)) => {
                if let Some(g) = &generator {
                    g.set_rate(rate);
                }
            }
            Some(Command::ResetCounters) => {
                handle.stats().reset();
                rates.clear();
            }
            None => {}
        }
    };
    if let Some(g) = generator.take() {
        g.stop().await;
    }
    outcome
}

/// Routes in the order the view lists them.
fn route_names(state: &State) -> Vec<String> {
    state
        .store
        .of_kind(crate::model::Kind::HttpRoute)
        .map(|o| o.key.ref_name())
        .collect()
}

/// A terminal key as the dashboard sees it.
fn key(k: KeyEvent) -> Option<Key> {
    Some(match k.code {
        KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => Key::CtrlC,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        _ => return None,
    })
}
