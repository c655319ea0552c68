//! One pass of the data flow's pure part: directory → store → controller.

use crate::controller::{self, Config, Translation};
use crate::source::{load_layers, Severity};
use crate::store::{History, Store};
use std::path::Path;

/// How manifests are read and reconciled.
#[derive(Clone, Debug)]
pub struct Options {
    /// Namespace for namespaced objects that name none (`-n`), `default` as with kubectl.
    pub namespace: String,
    pub controller: Config,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            namespace: crate::model::DEFAULT_NAMESPACE.to_string(),
            controller: Config::default(),
        }
    }
}

/// The result of one load and reconcile.
#[derive(Clone, Debug, Default)]
pub struct Pass {
    pub store: Store,
    pub translation: Translation,
    /// The root could not be read, or a file had a YAML syntax error.
    pub unreadable: bool,
}

/// Loads `dir` (the user's files, then gwsim's API layer) and reconciles it. `previous`
/// keeps the last good objects of files that stopped parsing.
pub fn run(
    dir: &Path,
    options: &Options,
    previous: Option<&Store>,
    history: &mut History,
    now: &str,
) -> Pass {
    let load = load_layers(dir, &options.namespace);
    let unreadable = load.unreadable || load.files.iter().any(|f| !f.decoded.syntax_ok);
    let store = Store::assemble(load, previous, history, now);
    let translation = controller::reconcile(&store, &options.controller);
    Pass {
        store,
        translation,
        unreadable,
    }
}

impl Pass {
    /// Every diagnostic: the loader's, then the controller's.
    pub fn diagnostics(&self) -> impl Iterator<Item = &crate::source::Diagnostic> {
        self.store
            .diagnostics
            .iter()
            .chain(&self.translation.diagnostics)
    }

    /// Counts errors and warnings.
    pub fn problem_counts(&self) -> (usize, usize) {
        let errors = self
            .diagnostics()
            .filter(|d| d.severity == Severity::Error)
            .count();
        let warnings = self
            .diagnostics()
            .filter(|d| d.severity == Severity::Warning)
            .count();
        (errors, warnings)
    }
}
