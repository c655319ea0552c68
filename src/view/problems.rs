//! The Problems pane: diagnostics with file:line, every unhealthy condition with the object,
//! condition, reason, message and where the object was declared, files served from their
//! last good copy, and listeners served on another port than declared.

use super::{Health, Problem};
use crate::model::{Kind, ObjectKey};
use crate::runtime::sim::State;
use crate::source::{Diagnostic, Severity};
use std::collections::BTreeSet;

/// Every problem, most severe kinds first: input errors, unhealthy conditions, the rest.
pub(super) fn collect(state: &State) -> Vec<Problem> {
    let mut out: Vec<Problem> = super::diagnostics(state).map(diagnostic).collect();
    out.extend(conditions(state));
    out.extend(stale_files(state));
    out.extend(listeners(state));
    // A stable sort keeps each group's own order (files, then objects) within a health.
    out.sort_by_key(|p| std::cmp::Reverse(p.health));
    out
}

fn diagnostic(d: &Diagnostic) -> Problem {
    let location = match (d.file.as_str(), d.line, d.column) {
        ("", _, _) => None,
        (f, Some(l), Some(c)) => Some(format!("{f}:{l}:{c}")),
        (f, Some(l), None) => Some(format!("{f}:{l}")),
        (f, None, _) => Some(f.to_string()),
    };
    Problem {
        health: match d.severity {
            Severity::Error => Health::Unhealthy,
            Severity::Warning => Health::Unknown,
        },
        object: d.object.clone(),
        place: (!d.field.is_empty()).then(|| d.field.clone()),
        condition: None,
        reason: None,
        message: d.message.clone(),
        location,
    }
}

fn conditions(state: &State) -> Vec<Problem> {
    let mut out = Vec::new();
    for (key, status) in &state.translation.status {
        // Built-in classes nobody uses are not worth a line; declared ones are.
        if key.kind == Kind::GatewayClass && origin(state, key).is_none() {
            continue;
        }
        for (place, c) in status.conditions() {
            let health = Health::of(c);
            if health == Health::Healthy {
                continue;
            }
            out.push(Problem {
                health,
                object: Some(key.to_string()),
                place: (!place.is_empty()).then_some(place),
                condition: Some(format!("{}={}", c.kind.as_str(), c.status.as_str())),
                reason: Some(c.reason.as_str().to_string()),
                message: c.message.clone(),
                location: origin(state, key),
            });
        }
    }
    out
}

/// `file:line` of an object, `None` for built-in or implicit ones.
fn origin(state: &State, key: &ObjectKey) -> Option<String> {
    state
        .store
        .objects
        .get(key)
        .filter(|o| !o.origin.file.is_empty())
        .map(|o| o.origin.to_string())
}

fn stale_files(state: &State) -> Vec<Problem> {
    let files: BTreeSet<&str> = state
        .store
        .objects
        .values()
        .filter(|o| o.stale)
        .map(|o| o.origin.file.as_str())
        .collect();
    files
        .into_iter()
        .map(|f| Problem {
            health: Health::Unknown,
            object: None,
            place: None,
            condition: None,
            reason: None,
            message: format!("{f} does not parse: its last good objects are still served"),
            location: Some(f.to_string()),
        })
        .collect()
}

fn listeners(state: &State) -> Vec<Problem> {
    state
        .listeners
        .iter()
        .filter_map(|l| {
            // A failed bind already shows as `Programmed=False/PortUnavailable`; a port
            // served elsewhere than declared is healthy but worth knowing.
            let message = l.note.clone().filter(|_| l.failure.is_none())?;
            Some(Problem {
                health: Health::Unknown,
                object: Some(format!("Gateway {}", l.gateway)),
                place: Some(format!("{}:{}", l.address, l.port)),
                condition: None,
                reason: None,
                message,
                location: l
                    .gateway
                    .split_once('/')
                    .and_then(|(ns, name)| origin(state, &ObjectKey::new(Kind::Gateway, ns, name))),
            })
        })
        .collect()
}
