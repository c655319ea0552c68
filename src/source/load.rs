//! Reads a manifest directory: every `*.yaml`/`*.yml` below it, recursively, in sorted
//! order, skipping hidden files and folders (such as gwsim's own `.gwsim/`).

use super::decode::{decode_file, Decoded};
use super::Diagnostic;
use std::path::{Path, PathBuf};

/// One manifest file and what decoding it produced.
#[derive(Debug)]
pub struct FileLoad {
    /// Path relative to the loaded root, with `/` separators.
    pub path: String,
    pub decoded: Decoded,
}

/// Everything read from one directory.
#[derive(Debug, Default)]
pub struct DirLoad {
    pub files: Vec<FileLoad>,
    /// Problems not tied to one file's content (an unreadable directory).
    pub diagnostics: Vec<Diagnostic>,
    /// True when the root itself could not be read.
    pub unreadable: bool,
    /// gwsim's own layer (objects written through its API), applied on top of the files.
    pub applied: Vec<super::layer::LayerEntry>,
}

/// Loads the user's files, then gwsim's own layer from `<root>/.gwsim/applied/`.
pub fn load_layers(root: &Path, default_namespace: &str) -> DirLoad {
    let mut load = load_dir(root, default_namespace);
    if !load.unreadable {
        let (entries, diagnostics) = super::layer::read_layer(root, default_namespace);
        load.applied = entries;
        load.diagnostics.extend(diagnostics);
    }
    load
}

/// Loads every manifest under `root` (or `root` itself when it is a file).
pub fn load_dir(root: &Path, default_namespace: &str) -> DirLoad {
    let mut out = DirLoad::default();
    let mut paths = Vec::new();
    match std::fs::metadata(root) {
        Ok(meta) if meta.is_file() => paths.push(root.to_path_buf()),
        Ok(_) => collect(root, &mut paths, &mut out.diagnostics),
        Err(err) => {
            out.unreadable = true;
            out.diagnostics.push(Diagnostic::error(
                &root.display().to_string(),
                None,
                None,
                format!("cannot read manifest directory: {err}"),
            ));
            return out;
        }
    }
    paths.sort();
    for path in paths {
        let rel = relative(root, &path);
        let decoded = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => decode_file(&rel, &text, default_namespace),
                Err(_) => unreadable(&rel, "file is not UTF-8 text".into()),
            },
            Err(err) => unreadable(&rel, format!("cannot read file: {err}")),
        };
        out.files.push(FileLoad { path: rel, decoded });
    }
    out
}

fn unreadable(rel: &str, message: String) -> Decoded {
    Decoded {
        objects: Vec::new(),
        diagnostics: vec![Diagnostic::error(rel, None, None, message)],
        syntax_ok: false,
        blank: false,
    }
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = if root == path {
        path.file_name()
            .map(PathBuf::from)
            .unwrap_or_else(|| path.to_path_buf())
    } else {
        path.strip_prefix(root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf())
    };
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml") | Some("yml")
    )
}

fn collect(dir: &Path, paths: &mut Vec<PathBuf>, diagnostics: &mut Vec<Diagnostic>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            diagnostics.push(Diagnostic::error(
                &dir.display().to_string(),
                None,
                None,
                format!("cannot read directory: {err}"),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if is_hidden(&path) {
            continue;
        }
        // Follow symlinks the way an editor user expects; a dangling link is skipped.
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => collect(&path, paths, diagnostics),
            Ok(meta) if meta.is_file() && is_manifest(&path) => paths.push(path),
            _ => {}
        }
    }
}
