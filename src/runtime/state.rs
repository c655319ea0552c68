//! gwsim's own state under `<project>/.gwsim/`: what it remembers across restarts. Hidden,
//! so the loader never takes it for user manifests, and written atomically (temp + rename).

use crate::store::History;
use std::path::{Path, PathBuf};

/// The state folder of a manifest directory.
pub fn state_dir(manifests: &Path) -> PathBuf {
    let base = if manifests.is_file() {
        manifests
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    } else {
        manifests.to_path_buf()
    };
    base.join(".gwsim")
}

/// Reads the remembered history; an absent or unreadable file means a fresh start.
pub fn load_history(manifests: &Path) -> History {
    let path = state_dir(manifests).join("history.json");
    std::fs::read(&path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Writes the history atomically.
pub fn save_history(manifests: &Path, history: &History) -> std::io::Result<()> {
    let dir = state_dir(manifests);
    std::fs::create_dir_all(&dir)?;
    let tmp = dir.join("history.json.tmp");
    let bytes = serde_json::to_vec_pretty(history).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, dir.join("history.json"))
}
