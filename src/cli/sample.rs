//! The helloworld sample, embedded in the binary: `gwsim init` writes it into a folder and
//! `gwsim up --sample helloworld` runs it from a private temporary folder.

use std::io;
use std::path::{Path, PathBuf};

/// The files of `samples/helloworld/`, by name.
pub const HELLOWORLD: &[(&str, &str)] = &[
    (
        "gateway.yaml",
        include_str!("../../samples/helloworld/gateway.yaml"),
    ),
    (
        "helloworld-versions.yaml",
        include_str!("../../samples/helloworld/helloworld-versions.yaml"),
    ),
    (
        "helloworld.yaml",
        include_str!("../../samples/helloworld/helloworld.yaml"),
    ),
    (
        "namespaces.yaml",
        include_str!("../../samples/helloworld/namespaces.yaml"),
    ),
    (
        "route.yaml",
        include_str!("../../samples/helloworld/route.yaml"),
    ),
];

/// Names of the embedded samples.
pub const NAMES: &[&str] = &["helloworld"];

/// The files of sample `name`.
pub fn files(name: &str) -> Option<&'static [(&'static str, &'static str)]> {
    match name {
        "helloworld" => Some(HELLOWORLD),
        _ => None,
    }
}

/// Writes `files` into `dir`, refusing to overwrite: when any of them exists, nothing is
/// written and the error names it.
pub fn write(dir: &Path, files: &[(&str, &str)]) -> io::Result<Vec<PathBuf>> {
    if let Some((name, _)) = files.iter().find(|(name, _)| dir.join(name).exists()) {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} already exists", dir.join(name).display()),
        ));
    }
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        // `create_new` also refuses a file that appeared since the check above.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        io::Write::write_all(&mut file, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// `gwsim init`: writes the helloworld sample into `dir`; returns the exit code.
pub fn init(dir: &Path) -> i32 {
    match write(dir, HELLOWORLD) {
        Ok(written) => {
            for p in written {
                println!("wrote {}", p.display());
            }
            println!("Run `gwsim up` here to start it.");
            0
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            eprintln!("gwsim init: {e}; nothing was written");
            1
        }
        Err(e) => {
            eprintln!("gwsim init: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_writes_the_sample_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let written = write(dir.path(), HELLOWORLD).expect("write");
        assert_eq!(written.len(), HELLOWORLD.len());
        let err = write(dir.path(), HELLOWORLD).expect_err("second write refused");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        // The embedded copy is the folder's content, byte for byte.
        let on_disk = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/helloworld/route.yaml"),
        )
        .expect("sample");
        assert_eq!(files("helloworld").map(|f| f[4].1), Some(on_disk.as_str()));
        // Every file of the folder is embedded.
        let mut names: Vec<String> =
            std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/helloworld"))
                .expect("sample folder")
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                // gwsim's own state (`.gwsim/`) appears once the sample has been run.
                .filter(|n| !n.starts_with('.'))
                .collect();
        names.sort();
        let embedded: Vec<&str> = HELLOWORLD.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, embedded);
    }
}
