//! Watches the manifest folder. Any change (create, modify, delete, rename, an editor's
//! save through a temporary file) means "reload everything": re-reading the whole folder is
//! cheap and never misses a rename. Events under hidden paths, such as gwsim's own
//! `.gwsim/`, and on files that are not manifests are ignored, so gwsim's own writes (state,
//! a log file kept in the folder) never trigger a reload.

use notify::RecursiveMode;
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

/// Tens of milliseconds: long enough to merge an editor's write-rename burst, short enough
/// for the reload target (p99 ≤ 100 ms from write to serving).
pub const DEBOUNCE: Duration = Duration::from_millis(25);

/// A running watcher; dropping it stops watching.
pub struct Watcher {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
}

/// Whether a changed path can affect the manifests: a `*.yaml` / `*.yml` file, or a folder
/// (which may hold some, or have held some before it went away). Anything else, such as a
/// log file written into the folder, must not cause a reload.
fn relevant(root: &Path, path: &Path) -> bool {
    let rel = path.strip_prefix(root).unwrap_or(path);
    // The root's own metadata changes whenever anything inside it does, gwsim's state included.
    let visible = rel.components().next().is_some()
        && !rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
    let could_hold_manifests = match path.extension().and_then(|e| e.to_str()) {
        Some(ext) => matches!(ext, "yaml" | "yml") || path.is_dir(),
        None => true,
    };
    visible && could_hold_manifests
}

/// Starts watching `root`; each relevant burst of changes sends one `()` on `tx`.
pub fn watch(root: &Path, tx: mpsc::Sender<()>) -> notify::Result<Watcher> {
    let root_abs: PathBuf = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let root_for_events = root_abs.clone();
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
        let Ok(events) = result else {
            // A watcher error (e.g. the folder vanished) still deserves a re-read.
            let _ = tx.try_send(());
            return;
        };
        // Reading the files on reload produces access events; only changes count, or every
        // reload would trigger the next.
        let any = events
            .iter()
            .filter(|e| !e.kind.is_access() && !e.kind.is_other())
            .any(|e| e.paths.iter().any(|p| relevant(&root_for_events, p)));
        if any {
            // A full channel already holds a pending reload, which will see this change too.
            let _ = tx.try_send(());
        }
    })?;
    let watched = if root_abs.is_file() {
        root_abs.parent().map(Path::to_path_buf).unwrap_or(root_abs)
    } else {
        root_abs
    };
    debouncer.watch(&watched, RecursiveMode::Recursive)?;
    Ok(Watcher {
        _debouncer: debouncer,
    })
}

#[cfg(test)]
mod tests {
    use super::relevant;
    use std::path::Path;

    #[test]
    fn own_state_and_hidden_files_are_ignored() {
        let root = Path::new("/p");
        assert!(relevant(root, Path::new("/p/route.yaml")));
        assert!(relevant(root, Path::new("/p/sub/route.yaml")));
        assert!(!relevant(root, Path::new("/p/.gwsim/history.json")));
        assert!(!relevant(root, Path::new("/p/.route.yaml.swp")));
        assert!(!relevant(root, Path::new("/p")));
        assert!(relevant(root, Path::new("/p/r.yml")));
        assert!(
            relevant(root, Path::new("/p/sub")),
            "a folder may hold manifests"
        );
        assert!(!relevant(root, Path::new("/p/gwsim.log")));
        assert!(!relevant(root, Path::new("/p/route.yaml~")));
        assert!(!relevant(root, Path::new("/p/notes.md")));
    }
}
