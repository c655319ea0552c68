//! `gwsim check DIR`: every object with its status, diagnostics on stderr, and an exit code
//! people can put in CI: 0 healthy, 1 not healthy, 2 unreadable input.

use super::Output;
use crate::model::Kind;
use crate::pipeline::{self, Options, Pass};
use crate::status::{CondStatus, CondType, ObjectStatus};
use std::path::Path;

/// What `check` found, in numbers.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Health {
    pub gateways: usize,
    pub gateways_programmed: usize,
    pub parents: usize,
    pub parents_ok: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl Health {
    /// Summarises a pass: owned Gateways and route parents, and the diagnostics.
    pub fn of(pass: &Pass) -> Health {
        let (errors, warnings) = pass.problem_counts();
        let mut h = Health {
            errors,
            warnings,
            ..Health::default()
        };
        for (key, status) in &pass.translation.status {
            match status {
                ObjectStatus::Gateway(g) if key.kind == Kind::Gateway => {
                    let pending = g.conditions.is(CondType::Accepted, CondStatus::Unknown);
                    if pending {
                        continue;
                    }
                    h.gateways += 1;
                    if g.conditions.is(CondType::Programmed, CondStatus::True) {
                        h.gateways_programmed += 1;
                    }
                }
                ObjectStatus::HttpRoute(r) => {
                    for p in &r.parents {
                        h.parents += 1;
                        if p.conditions.is(CondType::Accepted, CondStatus::True)
                            && p.conditions.is(CondType::ResolvedRefs, CondStatus::True)
                        {
                            h.parents_ok += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        h
    }

    pub fn healthy(&self) -> bool {
        self.errors == 0
            && self.gateways == self.gateways_programmed
            && self.parents == self.parents_ok
    }

    /// The one-line summary.
    pub fn summary(&self) -> String {
        format!(
            "{}: {}/{} gateways programmed, {}/{} route parents accepted with refs resolved, {} errors, {} warnings",
            if self.healthy() { "ok" } else { "not ok" },
            self.gateways_programmed,
            self.gateways,
            self.parents_ok,
            self.parents,
            self.errors,
            self.warnings
        )
    }
}

/// Runs `check`; returns the exit code.
pub fn run(dir: &Path, output: Output, namespace: &str) -> i32 {
    let options = Options {
        namespace: namespace.to_string(),
        ..Options::default()
    };
    // Read-only: creation times remembered by a running `gwsim up` are honoured, none are written.
    let mut history = crate::runtime::state::load_history(dir);
    let now = crate::runtime::clock::now_rfc3339();
    let pass = pipeline::run(dir, &options, None, &mut history, &now);
    let objects = crate::render::all_objects(&pass.store, &pass.translation, &now);
    match output {
        Output::Yaml => {
            for o in &objects {
                println!("---\n{}", crate::yaml::to_string(o).trim_end());
            }
        }
        Output::Json => {
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects, "metadata": {"resourceVersion": ""}});
            println!(
                "{}",
                serde_json::to_string_pretty(&list).unwrap_or_default()
            );
        }
    }
    for d in pass.diagnostics() {
        eprintln!("{d}");
    }
    let health = Health::of(&pass);
    match output {
        Output::Yaml => println!("# {}", health.summary()),
        Output::Json => eprintln!("{}", health.summary()),
    }
    if pass.unreadable {
        2
    } else if health.healthy() {
        0
    } else {
        1
    }
}
