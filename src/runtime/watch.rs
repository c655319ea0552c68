//! Watches the manifest folder. Any change (create, modify, delete, rename, an editor's
//! save through a temporary file) means "reload everything": re-reading the whole folder is
//! cheap and never misses a rename. Events under hidden paths, such as gwsim's own
//! `.gwsim/`, and on files that are not manifests are ignored, so gwsim's own writes (state,
//! a log file kept in the folder) never trigger a reload. A burst of changes becomes one
//! reload once the folder has been quiet for [`DEBOUNCE`].

use notify::{RecursiveMode, Watcher as _};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Tens of milliseconds of quiet: long enough to merge an editor's write-rename burst, short
/// enough for the reload target (p99 ≤ 100 ms from write to serving).
pub const DEBOUNCE: Duration = Duration::from_millis(25);

/// A folder that never stops changing (a generator writing in a loop) still reloads this often.
pub const MAX_DELAY: Duration = Duration::from_millis(250);

/// A running watcher; dropping it stops watching.
pub struct Watcher {
    _watcher: notify::RecommendedWatcher,
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

/// Starts watching `root`; each relevant burst of changes sends one `()` on `tx`. Must be
/// called on a tokio runtime: the debouncing runs there as a task that sleeps while nothing
/// changes (a ticking debouncer thread would wake the process ~160 times a second forever).
pub fn watch(root: &Path, tx: mpsc::Sender<()>) -> notify::Result<Watcher> {
    let root_abs: PathBuf = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let root_for_events = root_abs.clone();
    // One pending signal is all the debouncer needs to know: a full channel already says
    // "something changed".
    let (raw_tx, raw_rx) = mpsc::channel::<()>(1);
    let mut watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
        let changed = match result {
            // Reading the files on reload produces access events; only changes count, or
            // every reload would trigger the next.
            Ok(event) => {
                !event.kind.is_access()
                    && !event.kind.is_other()
                    && event.paths.iter().any(|p| relevant(&root_for_events, p))
            }
            // A watcher error (e.g. the folder vanished) still deserves a re-read.
            Err(_) => true,
        };
        if changed {
            let _ = raw_tx.try_send(());
        }
    })?;
    let watched = if root_abs.is_file() {
        root_abs.parent().map(Path::to_path_buf).unwrap_or(root_abs)
    } else {
        root_abs
    };
    watcher.watch(&watched, RecursiveMode::Recursive)?;
    tokio::spawn(debounce(raw_rx, tx, DEBOUNCE, MAX_DELAY));
    Ok(Watcher { _watcher: watcher })
}

/// Turns bursts of change signals into one signal each: sent once `quiet` has passed without
/// a change, or `max_delay` after the burst's first change if changes keep coming. Ends when
/// the watcher (the sender of `raw`) is dropped or nobody listens any more.
async fn debounce(
    mut raw: mpsc::Receiver<()>,
    out: mpsc::Sender<()>,
    quiet: Duration,
    max_delay: Duration,
) {
    while raw.recv().await.is_some() {
        let deadline = Instant::now() + max_delay;
        loop {
            let until = (Instant::now() + quiet).min(deadline);
            match tokio::time::timeout_at(until, raw.recv()).await {
                Ok(Some(())) if Instant::now() < deadline => continue,
                Ok(None) => return,
                _ => break,
            }
        }
        // A full channel already holds a pending reload, which will see these changes too.
        if let Err(mpsc::error::TrySendError::Closed(())) = out.try_send(()) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{debounce, relevant};
    use std::path::Path;
    use std::time::Duration;
    use tokio::sync::mpsc;
    use tokio::time::Instant;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Runs `debounce` on paused time; `changes` are the virtual times of the changes, and the
    /// result the times of the signals it sent.
    async fn signals_for(changes: &[u64], quiet: u64, max_delay: u64) -> Vec<u64> {
        let (raw_tx, raw_rx) = mpsc::channel(1);
        let (out_tx, mut out_rx) = mpsc::channel(1);
        let t0 = Instant::now();
        tokio::spawn(debounce(raw_rx, out_tx, ms(quiet), ms(max_delay)));
        let changes = changes.to_vec();
        let last = changes.last().copied().unwrap_or(0);
        tokio::spawn(async move {
            for at in changes {
                tokio::time::sleep_until(t0 + ms(at)).await;
                let _ = raw_tx.try_send(());
            }
            // The watcher goes away well after the last burst has been signalled.
            tokio::time::sleep_until(t0 + ms(last + 10 * (quiet + max_delay))).await;
            drop(raw_tx);
        });
        let mut seen = Vec::new();
        while out_rx.recv().await.is_some() {
            seen.push(u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX));
        }
        seen
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_changes_is_one_reload_after_the_quiet_period() {
        // An editor's save: write, rename, chmod within a few milliseconds.
        assert_eq!(signals_for(&[0, 3, 4, 10], 25, 250).await, vec![35]);
        // Two saves far apart are two reloads.
        assert_eq!(signals_for(&[0, 100], 25, 250).await, vec![25, 125]);
        // Each change restarts the quiet period.
        assert_eq!(signals_for(&[0, 20, 40, 60], 25, 250).await, vec![85]);
    }

    #[tokio::test(start_paused = true)]
    async fn changes_that_never_stop_still_reload_at_the_maximum_delay() {
        // A change every 7 ms for 600 ms: the first burst is cut at 250 ms, the next starts
        // with the change at 252 ms and is cut at 502 ms, the last ends 25 ms after 595 ms.
        let changes: Vec<u64> = (0..86).map(|i| i * 7).collect();
        assert_eq!(signals_for(&changes, 25, 250).await, vec![250, 502, 620]);
    }

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
