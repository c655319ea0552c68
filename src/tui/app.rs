//! The dashboard's state machine: every input becomes one [`UiEvent`], and the pure
//! [`update`] turns it into a new [`UiState`] and at most one [`Command`] for the effectful
//! loop to carry out. Nothing here draws or does I/O, so key handling is unit-tested.

use crate::view::{Overlay, TrafficTarget, UiState};

/// A key, reduced to what the dashboard distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Up,
    Down,
    Enter,
    Esc,
    /// Ctrl-C: quits like `q`, since raw mode swallows the signal.
    CtrlC,
    Char(char),
}

/// Everything that can change the dashboard's state.
#[derive(Clone, Debug, PartialEq)]
pub enum UiEvent {
    Key(Key),
    /// A new simulation state was published: the routes in the order shown.
    Routes(Vec<String>),
    /// The traffic generator's running totals.
    Generated {
        sent: u64,
        failed: u64,
    },
    /// The generator started sending to this target.
    GeneratorStarted(TrafficTarget),
    /// The generator could not start (no target, nothing bound).
    GeneratorUnavailable,
}

/// What the loop must do after an update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Restore the terminal, stop traffic, shut the simulation down.
    Quit,
    /// Start sending `rate` requests per second to the selected route.
    StartTraffic {
        rate: u32,
    },
    StopTraffic,
    /// Change the running generator's rate.
    SetRate(u32),
    /// Zero every counter.
    ResetCounters,
}

/// The rates `+` and `-` step through, in requests per second.
pub const RATES: [u32; 11] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000];

/// Applies one event.
pub fn update(ui: &mut UiState, event: UiEvent) -> Option<Command> {
    match event {
        UiEvent::Key(key) => on_key(ui, key),
        UiEvent::Routes(routes) => {
            ui.routes = routes;
            None
        }
        UiEvent::Generated { sent, failed } => {
            ui.generator.sent = sent;
            ui.generator.failed = failed;
            None
        }
        UiEvent::GeneratorStarted(target) => {
            ui.generator.target = Some(target);
            None
        }
        UiEvent::GeneratorUnavailable => {
            ui.generator.running = false;
            ui.generator.target = None;
            None
        }
    }
}

fn on_key(ui: &mut UiState, key: Key) -> Option<Command> {
    // An overlay takes the keys that close it; the rest still work underneath it.
    match (ui.overlay, key) {
        (Overlay::Help, Key::Esc | Key::Char('?')) | (Overlay::Details, Key::Esc | Key::Enter) => {
            ui.overlay = Overlay::None;
            return None;
        }
        _ => {}
    }
    match key {
        Key::Char('q') | Key::CtrlC => {
            ui.quitting = true;
            Some(Command::Quit)
        }
        Key::Esc => None,
        Key::Char('?') => {
            ui.overlay = Overlay::Help;
            None
        }
        Key::Enter => {
            if current(ui).is_some() {
                ui.overlay = Overlay::Details;
            }
            None
        }
        Key::Up | Key::Char('k') => {
            select(ui, -1);
            None
        }
        Key::Down | Key::Char('j') => {
            select(ui, 1);
            None
        }
        Key::Char('t') => {
            ui.generator.running = !ui.generator.running;
            if ui.generator.running {
                ui.generator.sent = 0;
                ui.generator.failed = 0;
                Some(Command::StartTraffic {
                    rate: ui.generator.rate,
                })
            } else {
                Some(Command::StopTraffic)
            }
        }
        Key::Char('+' | '=') => step_rate(ui, 1),
        Key::Char('-' | '_') => step_rate(ui, -1),
        Key::Char('r') => Some(Command::ResetCounters),
        Key::Char(_) => None,
    }
}

/// The selected route's position, defaulting to the first (as the view does).
fn current(ui: &UiState) -> Option<usize> {
    if ui.routes.is_empty() {
        return None;
    }
    Some(
        ui.selected_route
            .as_ref()
            .and_then(|s| ui.routes.iter().position(|r| r == s))
            .unwrap_or(0),
    )
}

fn select(ui: &mut UiState, delta: isize) {
    let Some(i) = current(ui) else {
        return;
    };
    let last = ui.routes.len() - 1;
    let next = i.saturating_add_signed(delta).min(last);
    ui.selected_route = ui.routes.get(next).cloned();
}

fn step_rate(ui: &mut UiState, delta: isize) -> Option<Command> {
    let i = RATES
        .iter()
        .position(|r| *r >= ui.generator.rate)
        .unwrap_or(RATES.len() - 1);
    let next = i.saturating_add_signed(delta).min(RATES.len() - 1);
    let rate = RATES.get(next).copied().unwrap_or(ui.generator.rate);
    if rate == ui.generator.rate {
        return None;
    }
    ui.generator.rate = rate;
    ui.generator.running.then_some(Command::SetRate(rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ui_with_routes() -> UiState {
        let mut ui = UiState::default();
        update(
            &mut ui,
            UiEvent::Routes(vec!["a/one".into(), "a/two".into(), "b/three".into()]),
        );
        ui
    }

    fn press(ui: &mut UiState, keys: &[Key]) -> Vec<Command> {
        keys.iter()
            .filter_map(|k| update(ui, UiEvent::Key(*k)))
            .collect()
    }

    #[test]
    fn arrows_move_the_selection_and_stop_at_the_ends() {
        let mut ui = ui_with_routes();
        press(&mut ui, &[Key::Up]);
        assert_eq!(ui.selected_route.as_deref(), Some("a/one"));
        press(&mut ui, &[Key::Down, Key::Down, Key::Down, Key::Down]);
        assert_eq!(ui.selected_route.as_deref(), Some("b/three"));
        press(&mut ui, &[Key::Char('k')]);
        assert_eq!(ui.selected_route.as_deref(), Some("a/two"));
        // A reload that drops the selected route falls back to the first.
        update(&mut ui, UiEvent::Routes(vec!["b/three".into()]));
        press(&mut ui, &[Key::Up]);
        assert_eq!(ui.selected_route.as_deref(), Some("b/three"));
    }

    #[test]
    fn t_toggles_the_generator_and_plus_minus_step_its_rate() {
        let mut ui = ui_with_routes();
        assert_eq!(
            press(&mut ui, &[Key::Char('t')]),
            vec![Command::StartTraffic { rate: 50 }]
        );
        assert!(ui.generator.running);
        assert_eq!(
            press(&mut ui, &[Key::Char('+'), Key::Char('+')]),
            vec![Command::SetRate(100), Command::SetRate(200)]
        );
        assert_eq!(
            press(&mut ui, &[Key::Char('-')]),
            vec![Command::SetRate(100)]
        );
        assert_eq!(
            press(&mut ui, &[Key::Char('t')]),
            vec![Command::StopTraffic]
        );
        // Stopped: the rate still moves, with nothing to tell the generator.
        assert!(press(&mut ui, &[Key::Char('+')]).is_empty());
        assert_eq!(ui.generator.rate, 200);
        for _ in 0..20 {
            update(&mut ui, UiEvent::Key(Key::Char('+')));
        }
        assert_eq!(ui.generator.rate, 2_000);
        update(&mut ui, UiEvent::GeneratorUnavailable);
        assert!(!ui.generator.running);
    }

    #[test]
    fn overlays_open_and_close_and_q_quits_from_anywhere() {
        let mut ui = ui_with_routes();
        press(&mut ui, &[Key::Char('?')]);
        assert_eq!(ui.overlay, Overlay::Help);
        press(&mut ui, &[Key::Esc]);
        assert_eq!(ui.overlay, Overlay::None);
        press(&mut ui, &[Key::Enter]);
        assert_eq!(ui.overlay, Overlay::Details);
        press(&mut ui, &[Key::Enter]);
        assert_eq!(ui.overlay, Overlay::None);
        assert_eq!(
            press(&mut ui, &[Key::Char('r')]),
            vec![Command::ResetCounters]
        );
        press(&mut ui, &[Key::Char('?')]);
        assert_eq!(press(&mut ui, &[Key::Char('q')]), vec![Command::Quit]);
        assert!(ui.quitting);
        let mut ui = UiState::default();
        assert_eq!(press(&mut ui, &[Key::CtrlC]), vec![Command::Quit]);
        // Without routes there is nothing to show details of.
        press(&mut ui, &[Key::Enter]);
        assert_eq!(ui.overlay, Overlay::None);
    }
}
