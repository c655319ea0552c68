//! Live reload from the watched folder: a new weight takes effect, a broken file keeps its
//! last good objects (traffic keeps flowing) and shows a diagnostic, fixing it clears it, and
//! an editor's save through a temporary file and rename is seen. Waits are on gwsim's own
//! generation counter, bounded by a timeout, never on sleeps.

mod common;

use common::{copy_sample, options, Client};
use gwsim::ir::BackendTarget;
use gwsim::runtime::handle::{spawn, Handle};
use gwsim::runtime::sim::State;
use std::sync::Arc;
use std::time::Duration;

const HOST: &str = "helloworld.sample.com";
const RULE: &str = "httproute/sample/helloworld/rule/0";

async fn next_generation(h: &Handle, after: u64) -> Arc<State> {
    tokio::time::timeout(Duration::from_secs(10), h.wait_for_generation(after + 1))
        .await
        .expect("a reload within 10 s")
}

fn weights(state: &State) -> Vec<(String, u32)> {
    state
        .translation
        .routing
        .rules
        .get(RULE)
        .map(|r| {
            r.backends
                .iter()
                .map(|b| match &b.target {
                    BackendTarget::Service { service, .. } => (service.clone(), b.weight),
                    BackendTarget::Invalid { reason } => (reason.clone(), b.weight),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_broken_files_and_editor_renames_reload_without_losing_traffic() {
    let dir = copy_sample("helloworld");
    let h = spawn(options(dir.path(), 5, 21), true).await;
    let s = h.state();
    assert_eq!(weights(&s), vec![("sample/helloworld".to_string(), 1)]);
    let addr = s.listeners[0].bound.expect("bound");
    let route = dir.path().join("route.yaml");
    let variant =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/variants/route-90-10.yaml");

    // A plain write of the 90/10 route.
    std::fs::copy(&variant, &route).expect("write");
    let s = next_generation(&h, s.generation).await;
    assert_eq!(
        weights(&s),
        vec![
            ("sample/helloworld-v1".to_string(), 90),
            ("sample/helloworld-v2".to_string(), 10)
        ]
    );

    // Break it: the last good route stays, marked stale; traffic keeps flowing; a diagnostic shows.
    std::fs::write(
        &route,
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: [oops\n",
    )
    .expect("write");
    let s = next_generation(&h, s.generation).await;
    assert_eq!(weights(&s).len(), 2);
    assert!(s
        .store
        .objects
        .values()
        .any(|o| o.stale && o.key.name == "helloworld"));
    assert!(
        s.store
            .diagnostics
            .iter()
            .any(|d| d.file == "route.yaml" && d.is_error()),
        "{:?}",
        s.store.diagnostics
    );
    let mut client = Client::connect(addr).await;
    assert_eq!(client.get(HOST, "/hello").await.status, 200);

    // Fix it the way vim and JetBrains save: write a temporary file, then rename over.
    let tmp = dir.path().join("route.yaml.tmp~");
    std::fs::copy(&variant, &tmp).expect("tmp");
    std::fs::rename(&tmp, &route).expect("rename");
    let mut s = next_generation(&h, s.generation).await;
    // The rename may arrive as two bursts; wait until the error is gone.
    while s.store.diagnostics.iter().any(|d| d.is_error()) {
        s = next_generation(&h, s.generation).await;
    }
    assert!(!s.store.objects.values().any(|o| o.stale));
    assert_eq!(client.get(HOST, "/hello").await.status, 200);

    // Deleting the route removes it; the listener goes with its last route.
    std::fs::remove_file(&route).expect("rm");
    let mut s = next_generation(&h, s.generation).await;
    // A late event of the rename may reload once more before the delete is seen.
    while !weights(&s).is_empty() {
        s = next_generation(&h, s.generation).await;
    }
    assert!(s
        .store
        .objects
        .keys()
        .all(|k| k.name != "helloworld" || k.kind != gwsim::model::Kind::HttpRoute));
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_state_writes_do_not_reload() {
    let dir = copy_sample("helloworld");
    let h = spawn(options(dir.path(), 5, 22), true).await;
    let before = h.state().generation;
    std::fs::create_dir_all(dir.path().join(".gwsim")).expect("mkdir");
    std::fs::write(dir.path().join(".gwsim/history.json"), "{}").expect("write");
    // A change the watcher must see, after the ignored one: the generation goes up by exactly one.
    std::fs::write(
        dir.path().join("extra.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: extra\n",
    )
    .expect("write");
    let s = next_generation(&h, before).await;
    assert!(s.store.objects.keys().any(|k| k.name == "extra"));
    assert_eq!(s.generation, before + 1);
    h.shutdown().await;
}
