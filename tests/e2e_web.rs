//! The web dashboard in a real browser: headless Chromium loads the page of an instance of the
//! sample after some traffic, and the rendered DOM must name the Gateway and show each
//! version's observed share exactly as `/api/view` computes it. A screenshot is kept as
//! `<target>/web-dashboard.png`. Skipped (with a message) where Chromium is not installed.

mod common;

use common::{copy_sample, options, Client};
use gwsim::runtime::handle::spawn;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Runs Chromium headless with `extra` arguments on `url`; its stdout. Killed if it hangs.
async fn chromium(profile: &Path, extra: &[String], url: &str) -> String {
    let mut cmd = Command::new(CHROMIUM);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(url)
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let child = cmd.spawn().expect("chromium starts");
    let pid = child.id();
    let run = tokio::task::spawn_blocking(move || child.wait_with_output());
    match tokio::time::timeout(Duration::from_secs(90), run).await {
        Ok(done) => {
            let output = done.expect("join").expect("chromium output");
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("chromium did not finish within 90 s");
        }
    }
}

fn target_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is `<target>/tmp`.
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_renders_the_gateway_and_both_versions_shares() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipped: {CHROMIUM} is not installed (apt-get install -y chromium)");
        return;
    }
    let dir = copy_sample("helloworld");
    let handle = spawn(options(dir.path(), 42, 66), false).await;
    let any = "127.0.0.1:0".parse().expect("addr");
    let server = gwsim::admin::serve(handle.clone(), any)
        .await
        .expect("admin");
    let addr = handle.state().listeners[0].bound.expect("bound");
    let mut client = Client::connect(addr).await;
    for _ in 0..40 {
        assert_eq!(
            client.get("helloworld.sample.com", "/hello").await.status,
            200
        );
    }
    let url = format!("{}/", server.url());
    let view = gwsim::admin::view::build_for(&handle, None);
    let pods = &view.traffic_by_route[0].rules[0].backends[0].pods;
    assert_eq!(pods.len(), 2, "{pods:?}");

    let profile = tempfile::tempdir().expect("profile");
    let dom = chromium(profile.path(), &["--dump-dom".into()], &url).await;
    assert!(dom.contains("sample-gateway"), "{dom}");
    for version in ["helloworld-v1-", "helloworld-v2-"] {
        let pod = pods
            .iter()
            .find(|p| p.pod.starts_with(version))
            .expect("a pod of each version");
        let shown = format!("seen {:.1}% ({})", pod.share, pod.requests);
        assert!(dom.contains(&pod.pod), "{version} named");
        assert!(dom.contains(&shown), "{shown} shown for {}", pod.pod);
    }

    let shot = target_dir().join("web-dashboard.png");
    let _ = std::fs::remove_file(&shot);
    let profile = tempfile::tempdir().expect("profile");
    chromium(
        profile.path(),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,900".into(),
        ],
        &url,
    )
    .await;
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "screenshot at {}",
        shot.display()
    );
    println!("screenshot: {}", shot.display());
    handle.shutdown().await;
    server.stop().await;
}
