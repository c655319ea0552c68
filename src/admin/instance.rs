//! `<dir>/.gwsim/instance.json`: how `gwsim get` and `gwsim wait` find the running instance
//! of a folder. Written atomically (temp file + rename) so a client never reads half of it,
//! and removed on a clean shutdown only if it still names this process.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a client needs to reach a running `gwsim up`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    /// `http://127.0.0.1:PORT` of the admin server.
    pub admin_url: String,
    pub pid: u32,
    /// The manifest folder, as given to `gwsim up`.
    pub dir: String,
}

const FILE: &str = "instance.json";

/// The instance file of a manifest folder.
pub fn path(manifests: &Path) -> PathBuf {
    crate::runtime::state::state_dir(manifests).join(FILE)
}

/// Writes the instance file atomically.
pub fn write(manifests: &Path, instance: &Instance) -> std::io::Result<PathBuf> {
    let target = path(manifests);
    let dir = crate::runtime::state::state_dir(manifests);
    std::fs::create_dir_all(&dir)?;
    let tmp = dir.join(format!("{FILE}.{}.tmp", instance.pid));
    let bytes = serde_json::to_vec_pretty(instance).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, &target)?;
    Ok(target)
}

/// Reads the instance file of a folder, if there is a readable one.
pub fn read(manifests: &Path) -> Option<Instance> {
    let bytes = std::fs::read(path(manifests)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Removes the instance file if it still belongs to `pid` (another `gwsim up` on the same
/// folder may have replaced it).
pub fn remove_if_ours(manifests: &Path, pid: u32) {
    if read(manifests).is_some_and(|i| i.pid == pid) {
        let _ = std::fs::remove_file(path(manifests));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_only_removes_its_own_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mine = Instance {
            admin_url: "http://127.0.0.1:1".into(),
            pid: 7,
            dir: dir.path().display().to_string(),
        };
        write(dir.path(), &mine).expect("write");
        assert_eq!(read(dir.path()), Some(mine.clone()));
        remove_if_ours(dir.path(), 8);
        assert!(read(dir.path()).is_some());
        remove_if_ours(dir.path(), 7);
        assert!(read(dir.path()).is_none());
    }
}
