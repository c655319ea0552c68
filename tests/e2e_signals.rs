//! `gwsim up` stops cleanly on SIGTERM (`kill`, `docker stop`, systemd) as on Ctrl-C: it
//! exits 0 and unregisters itself from the folder's `.gwsim/instance.json`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Starts the real binary on a copy of the sample, waits until it is serving, sends
/// `signal`, and returns its exit status and whether the instance file was left behind.
fn stop_with(signal: &str, pool: &str) -> (std::process::ExitStatus, bool) {
    let dir = common::copy_sample("helloworld");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gwsim"))
        .args(["up", "--no-tui", "--seed", "3", "--port-offset", "20000"])
        .args(["--address-pool", pool])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("gwsim starts");
    let stdout = child.stdout.take().expect("piped stdout");
    // Read on a thread to the end, so gwsim never writes into a closed or full pipe.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // The last line gwsim prints before it waits for a signal.
            if line.starts_with("Watching ") {
                let _ = ready_tx.send(());
            }
        }
    });
    assert!(ready_rx.recv().is_ok(), "gwsim ended before it was serving");
    let instance = dir.path().join(".gwsim/instance.json");
    assert!(instance.exists(), "the running instance is registered");
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = child.wait().expect("gwsim exits");
    reader.join().expect("reader thread");
    (status, instance.exists())
}

#[test]
fn sigterm_stops_up_cleanly() {
    let (status, left) = stop_with("-TERM", "127.0.89.0");
    assert_eq!(status.code(), Some(0), "{status}");
    assert!(!left, "the instance file outlived the instance");
}

#[test]
fn sigint_stops_up_cleanly() {
    let (status, left) = stop_with("-INT", "127.0.90.0");
    assert_eq!(status.code(), Some(0), "{status}");
    assert!(!left, "the instance file outlived the instance");
}
