//! The rules by which gwsim's API layer goes over the user's files.

use super::{History, Store};
use crate::model::{Kind, ObjectKey};
use crate::source::layer::{content_hash, LayerEntry};
use crate::source::{decode_file, DirLoad, FileLoad};

const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: r
  namespace: ns
spec:
  hostnames: [\"a.example.com\"]
";

fn key() -> ObjectKey {
    ObjectKey::new(Kind::HttpRoute, "ns", "r")
}

fn file_load(text: &str) -> FileLoad {
    FileLoad {
        path: "route.yaml".into(),
        decoded: decode_file("route.yaml", text, "default"),
    }
}

/// The layer's version of the route, with another hostname.
fn layer_object() -> crate::model::Object {
    let text = ROUTE.replace("a.example.com", "b.example.com");
    let mut o = decode_file(".gwsim/applied/x.json", &text, "default")
        .objects
        .remove(0);
    o.origin.file = ".gwsim/applied/httproute_ns_r.json".into();
    o
}

fn assemble(files: Vec<FileLoad>, applied: Vec<LayerEntry>) -> Store {
    let load = DirLoad {
        files,
        applied,
        ..DirLoad::default()
    };
    Store::assemble(load, None, &mut History::default(), "2025-01-01T00:00:00Z")
}

fn hostname(store: &Store) -> Option<String> {
    let o = store.objects.get(&key())?;
    let v = o.body.to_json();
    v["spec"]["hostnames"][0].as_str().map(str::to_string)
}

fn file_hash() -> u64 {
    let decoded = decode_file("route.yaml", ROUTE, "default");
    content_hash(&decoded.objects[0].body)
}

#[test]
fn an_override_based_on_the_current_file_wins() {
    let entry = LayerEntry {
        key: key(),
        base: Some(file_hash()),
        object: Some(layer_object()),
    };
    let store = assemble(vec![file_load(ROUTE)], vec![entry]);
    assert_eq!(hostname(&store).as_deref(), Some("b.example.com"));
    assert!(store.diagnostics.is_empty(), "{:?}", store.diagnostics);
    assert_eq!(store.file_bases[&key()].origin.file, "route.yaml");
}

#[test]
fn an_edit_of_the_file_wins_over_an_older_override() {
    let entry = LayerEntry {
        key: key(),
        base: Some(file_hash()),
        object: Some(layer_object()),
    };
    let edited = ROUTE.replace("a.example.com", "c.example.com");
    let store = assemble(vec![file_load(&edited)], vec![entry]);
    assert_eq!(hostname(&store).as_deref(), Some("c.example.com"));
}

#[test]
fn a_tombstone_deletes_until_the_file_changes_or_goes() {
    let tombstone = || LayerEntry {
        key: key(),
        base: Some(file_hash()),
        object: None,
    };
    assert_eq!(
        hostname(&assemble(vec![file_load(ROUTE)], vec![tombstone()])),
        None
    );
    let edited = ROUTE.replace("a.example.com", "c.example.com");
    assert!(hostname(&assemble(vec![file_load(&edited)], vec![tombstone()])).is_some());
}

#[test]
fn api_objects_exist_until_a_file_declares_the_same_key() {
    let entry = || LayerEntry {
        key: key(),
        base: None,
        object: Some(layer_object()),
    };
    let store = assemble(Vec::new(), vec![entry()]);
    assert_eq!(hostname(&store).as_deref(), Some("b.example.com"));
    // The namespace it lives in exists implicitly, as for files.
    assert!(store.get(Kind::Namespace, "", "ns").is_some());
    let store = assemble(vec![file_load(ROUTE)], vec![entry()]);
    assert_eq!(hostname(&store).as_deref(), Some("a.example.com"));
    assert!(
        store.diagnostics.is_empty(),
        "no duplicate: {:?}",
        store.diagnostics
    );
}

#[test]
fn an_override_of_a_file_object_that_was_removed_is_void() {
    let entry = LayerEntry {
        key: key(),
        base: Some(file_hash()),
        object: Some(layer_object()),
    };
    assert_eq!(hostname(&assemble(Vec::new(), vec![entry])), None);
}
