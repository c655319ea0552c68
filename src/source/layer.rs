//! gwsim's own layer of objects written through its Kubernetes API, kept in
//! `<dir>/.gwsim/applied/`: one JSON file per object key, loaded on top of the user's files.
//!
//! An entry is either an object or a tombstone. Entries that replace or delete an object of a
//! user file record that object's content hash (`base`); when the user's file changes, the
//! hash no longer matches and the file wins again. The layer never rewrites user files.

use super::{decode_file, Diagnostic};
use crate::model::{Body, Object, ObjectKey, Origin};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The layer's folder name inside gwsim's state folder.
pub const LAYER_DIR: &str = "applied";

/// One entry of the layer as read back.
#[derive(Clone, Debug)]
pub struct LayerEntry {
    pub key: ObjectKey,
    /// Content hash of the user-file object this entry overrides or deletes; `None` for
    /// objects that exist only through the API.
    pub base: Option<u64>,
    /// The object, admitted like a file's; `None` for a tombstone.
    pub object: Option<Object>,
}

/// An object as a user file declares it, whether the layer overrides it or not: what an API
/// change of it records as its base, and where to tell the user it lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileBase {
    pub origin: Origin,
    /// [`content_hash`] of the file's object.
    pub hash: u64,
}

/// The file format: the key, the base and the object (absent for a tombstone).
#[derive(Serialize, Deserialize)]
struct EntryFile {
    key: ObjectKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object: Option<serde_json::Value>,
}

/// The layer folder of a manifest directory (or file).
pub fn layer_dir(root: &Path) -> PathBuf {
    crate::runtime::state::state_dir(root).join(LAYER_DIR)
}

/// The file holding `key`'s entry. Kinds, namespaces and names never contain `_`, so the
/// flat name is unambiguous.
pub fn entry_path(root: &Path, key: &ObjectKey) -> PathBuf {
    let kind = key.kind.as_str().to_ascii_lowercase();
    layer_dir(root).join(format!("{kind}_{}_{}.json", key.namespace, key.name))
}

/// The hash a layer entry records for a user-file object: its manifest without the fields
/// the server owns, so stamping generations and creation times never changes it.
pub fn content_hash(body: &Body) -> u64 {
    let mut value = body.to_json();
    if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        for owned in [
            "generation",
            "creationTimestamp",
            "resourceVersion",
            "uid",
            "managedFields",
        ] {
            meta.remove(owned);
        }
    }
    crate::sim::rng::fnv1a64(value.to_string().as_bytes())
}

/// Reads every entry; an entry that cannot be read or admitted becomes a diagnostic.
pub fn read_layer(root: &Path, default_namespace: &str) -> (Vec<LayerEntry>, Vec<Diagnostic>) {
    let dir = layer_dir(root);
    let mut entries = Vec::new();
    let mut diagnostics = Vec::new();
    let Ok(read) = std::fs::read_dir(&dir) else {
        return (entries, diagnostics);
    };
    let mut paths: Vec<PathBuf> = read
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let rel = format!(
            ".gwsim/{LAYER_DIR}/{}",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        let parsed = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<EntryFile>(&b).map_err(|e| e.to_string()));
        let file = match parsed {
            Ok(f) => f,
            Err(e) => {
                diagnostics.push(Diagnostic::error(
                    &rel,
                    None,
                    None,
                    format!("unreadable API layer entry: {e}"),
                ));
                continue;
            }
        };
        let object = match file.object {
            None => None,
            Some(value) => {
                let decoded = decode_file(&rel, &value.to_string(), default_namespace);
                diagnostics.extend(decoded.diagnostics);
                match decoded.objects.into_iter().next() {
                    Some(o) if o.key == file.key => Some(o),
                    _ => continue,
                }
            }
        };
        entries.push(LayerEntry {
            key: file.key,
            base: file.base,
            object,
        });
    }
    (entries, diagnostics)
}

/// Writes `key`'s entry atomically (temp file + rename): the object, or a tombstone when
/// `object` is `None`.
pub fn write_entry(
    root: &Path,
    key: &ObjectKey,
    base: Option<u64>,
    object: Option<&serde_json::Value>,
) -> std::io::Result<()> {
    let dir = layer_dir(root);
    std::fs::create_dir_all(&dir)?;
    let path = entry_path(root, key);
    let file = EntryFile {
        key: key.clone(),
        base,
        object: object.cloned(),
    };
    let bytes = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, path)
}

/// Removes `key`'s entry; an absent entry is fine.
pub fn remove_entry(root: &Path, key: &ObjectKey) -> std::io::Result<()> {
    match std::fs::remove_file(entry_path(root, key)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Whether an object's origin is this layer rather than a user file.
pub fn is_layer_origin(object: &Object) -> bool {
    object.origin.file.starts_with(".gwsim/")
}
