//! The real binary's dashboard in a real terminal: `gwsim up` in a detached tmux session,
//! `t` starts traffic, a weight edited in the file shows up in the bars, `q` quits with the
//! terminal restored and exit code 0; SIGTERM does the same. Skipped (with a message) where
//! tmux is missing.
//!
//! The screen of an external process can only be polled: each wait below is a bounded number
//! of short retries, failing with the last screen when it runs out.

mod common;

use common::copy_sample;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Address pools of their own, so their listeners never meet another test's.
const POOL: &str = "127.0.50.0";
const SIGNAL_POOL: &str = "127.0.51.0";
const PORT_OFFSET: &str = "20000";

struct Session(String);

impl Session {
    /// `gwsim up dir` in a detached 120×36 tmux session named after `name`.
    fn start(dir: &Path, name: &str, pool: &str) -> Session {
        let session = Session(format!("gwsim-e2e-{name}-{}", std::process::id()));
        // The shell line after gwsim prints its exit code on the restored screen and keeps
        // the pane open long enough to read it.
        let command = format!(
            "{} up {} --seed 7 --port-offset {PORT_OFFSET} --address-pool {pool}; echo gwsim-exited-$?; sleep 30",
            env!("CARGO_BIN_EXE_gwsim"),
            dir.display()
        );
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session.0,
                "-x",
                "120",
                "-y",
                "36",
                &command,
            ])
            .status()
            .expect("tmux new-session");
        assert!(status.success());
        session
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").args(args).output().expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.0])
    }

    fn keys(&self, keys: &str) {
        self.tmux(&["send-keys", "-t", &self.0, keys]);
    }

    /// gwsim has exited with 0 and the alternate screen is gone: the dashboard's frame is no
    /// longer on the terminal.
    fn assert_exited_cleanly(&self) {
        let screen = self.wait_for("gwsim to exit", 100, |s| s.contains("gwsim-exited-"));
        assert!(screen.contains("gwsim-exited-0"), "{screen}");
        assert!(!screen.contains("Traffic:"), "{screen}");
    }

    /// Polls the screen until `pred` holds: at most `tries` × 100 ms.
    fn wait_for(&self, what: &str, tries: u32, pred: impl Fn(&str) -> bool) -> String {
        let mut screen = String::new();
        for _ in 0..tries {
            screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("timed out waiting for {what}; last screen:\n{screen}");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

/// Whether tmux is there; says the test is skipped when it is not.
fn tmux_available() -> bool {
    let there = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !there {
        eprintln!("skipped: tmux is not installed (apt-get install -y tmux)");
    }
    there
}

/// The backend line of the traffic pane for `label`, e.g. `helloworld-v1  ███▌  89.7%  (weight 90)`.
fn bar_line<'a>(screen: &'a str, label: &str) -> Option<&'a str> {
    screen
        .lines()
        .find(|l| l.contains(label) && l.contains("(weight"))
}

#[test]
fn dashboard_shows_traffic_follows_a_weight_edit_and_quits_cleanly() {
    if !tmux_available() {
        return;
    }
    let dir = copy_sample("helloworld");
    let variant = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/variants/route-90-10.yaml");
    let route = dir.path().join("route.yaml");
    std::fs::copy(&variant, &route).expect("90/10 route");

    let session = Session::start(dir.path(), "quit", POOL);
    session.wait_for("the dashboard with the 90/10 route", 100, |s| {
        bar_line(s, "helloworld-v1").is_some_and(|l| l.contains("(weight 90)"))
            && s.contains("gateways programmed")
    });

    session.keys("t");
    let screen = session.wait_for("traffic to flow", 100, |s| {
        s.contains("[on]")
            && bar_line(s, "helloworld-v1").is_some_and(|l| l.contains('%') && !l.contains(" -%"))
    });
    assert!(screen.contains("200: "), "{screen}");

    let text = std::fs::read_to_string(&route).expect("read route");
    std::fs::write(
        &route,
        text.replace("weight: 90", "weight: 50")
            .replace("weight: 10", "weight: 50"),
    )
    .expect("edit weights");
    let screen = session.wait_for("the bars to show the new weight", 100, |s| {
        bar_line(s, "helloworld-v1").is_some_and(|l| l.contains("(weight 50)"))
            && bar_line(s, "helloworld-v2").is_some_and(|l| l.contains("(weight 50)"))
    });
    assert!(!screen.contains("failed"), "{screen}");

    session.keys("q");
    session.assert_exited_cleanly();
}

#[test]
fn sigterm_restores_the_terminal_and_exits_0() {
    if !tmux_available() {
        return;
    }
    let dir = copy_sample("helloworld");
    let session = Session::start(dir.path(), "sigterm", SIGNAL_POOL);
    session.wait_for("the dashboard", 100, |s| s.contains("gateways programmed"));
    // gwsim is the only child of the pane's shell while it runs.
    let shell = session.tmux(&["display-message", "-p", "-t", &session.0, "#{pane_pid}"]);
    let children = Command::new("pgrep")
        .args(["-P", shell.trim()])
        .output()
        .expect("pgrep runs");
    let pid = String::from_utf8_lossy(&children.stdout).trim().to_string();
    assert!(
        !pid.is_empty() && !pid.contains('\n'),
        "gwsim's pid: {pid:?}"
    );
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    session.assert_exited_cleanly();
}
