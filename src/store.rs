//! The current set of admitted objects, keyed by kind/namespace/name, assembled from the
//! loaded files: admission, duplicates, stale copies of files that stopped parsing,
//! implicit namespaces, built-in GatewayClasses, generations and creation timestamps.
//! gwsim's API layer (`.gwsim/applied/`) goes on top of the files' objects.

mod history;

pub use history::{History, Record};

use crate::model::{gw, Body, Kind, Object, ObjectKey, Origin};
use crate::source::layer::{self, FileBase, LayerEntry};
use crate::source::{Diagnostic, DirLoad};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use std::collections::{BTreeMap, BTreeSet};

/// The controller name of gwsim's own GatewayClass.
pub const GWSIM_CONTROLLER: &str = "gwsim.dev/gateway-controller";

/// The label the API server puts on every Namespace.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Built-in GatewayClasses, so copy-pasted manifests work without declaring one:
/// (class name, controller name).
pub const BUILTIN_CLASSES: &[(&str, &str)] = &[
    ("gwsim", GWSIM_CONTROLLER),
    ("istio", "istio.io/gateway-controller"),
];

/// The admitted objects and every problem found on the way.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Store {
    pub objects: BTreeMap<ObjectKey, Object>,
    pub diagnostics: Vec<Diagnostic>,
    /// Every object declared in a user file, overridden by the API layer or not: the base
    /// an API change of that object records.
    pub file_bases: BTreeMap<ObjectKey, FileBase>,
}

impl Store {
    /// Builds the store from a directory load.
    ///
    /// `previous` supplies the last good objects of files that no longer parse; `history`
    /// keeps generations and first-seen timestamps across reloads and restarts; `now` stamps
    /// objects seen for the first time (RFC 3339).
    pub fn assemble(
        load: DirLoad,
        previous: Option<&Store>,
        history: &mut History,
        now: &str,
    ) -> Store {
        let mut store = Store {
            diagnostics: load.diagnostics,
            ..Store::default()
        };
        let mut candidates: Vec<Object> = Vec::new();
        for file in load.files {
            let fresh_keys: BTreeSet<ObjectKey> =
                file.decoded.objects.iter().map(|o| o.key.clone()).collect();
            store.diagnostics.extend(file.decoded.diagnostics);
            candidates.extend(file.decoded.objects);
            // A file that stops parsing keeps its last good objects. So does a file that is
            // suddenly empty: editors that save in place truncate before they write, and a
            // reload in between must not drop every route the file held. Deleting the file
            // is how its objects go away.
            let keep_last = !file.decoded.syntax_ok || file.decoded.blank;
            if let (true, Some(prev)) = (keep_last, previous) {
                let kept: Vec<Object> = prev
                    .objects
                    .values()
                    .filter(|o| o.origin.file == file.path && !fresh_keys.contains(&o.key))
                    .map(|o| Object {
                        stale: true,
                        ..o.clone()
                    })
                    .collect();
                if file.decoded.blank && !kept.is_empty() {
                    store.diagnostics.push(Diagnostic::warning(
                        &file.path,
                        None,
                        None,
                        "the file is empty: its last objects stay until it has content again or is deleted",
                    ));
                }
                candidates.extend(kept);
            }
        }
        for object in candidates {
            store.insert_unique(object);
        }
        store.file_bases = store
            .objects
            .iter()
            .map(|(k, o)| {
                let base = FileBase {
                    origin: o.origin.clone(),
                    hash: layer::content_hash(&o.body),
                };
                (k.clone(), base)
            })
            .collect();
        store.apply_layer(load.applied);
        store.add_implicit_namespaces();
        store.add_builtin_classes();
        store.stamp(history, now);
        store
    }

    fn insert_unique(&mut self, object: Object) {
        if let Some(existing) = self.objects.get(&object.key) {
            self.diagnostics.push(
                Diagnostic::error(
                    &object.origin.file,
                    Some(object.origin.line),
                    None,
                    format!(
                        "duplicate {}: already declared at {}; this copy is ignored",
                        object.key, existing.origin
                    ),
                )
                .for_object(&object.key)
                .at_field("metadata.name"),
            );
            return;
        }
        self.objects.insert(object.key.clone(), object);
    }

    /// Applies gwsim's API layer. An entry counts only while the user-file object it was
    /// based on is unchanged (or, for API-only objects, while no file declares the key):
    /// otherwise the user's file wins.
    fn apply_layer(&mut self, entries: Vec<LayerEntry>) {
        for entry in entries {
            if self.file_bases.get(&entry.key).map(|b| b.hash) != entry.base {
                continue;
            }
            match entry.object {
                Some(object) => {
                    self.objects.insert(entry.key, object);
                }
                None => {
                    self.objects.remove(&entry.key);
                }
            }
        }
    }

    fn add_implicit_namespaces(&mut self) {
        let used: BTreeSet<String> = self
            .objects
            .keys()
            .filter(|k| k.kind.is_namespaced())
            .map(|k| k.namespace.clone())
            .collect();
        for ns in used {
            let key = ObjectKey::new(Kind::Namespace, "", ns.clone());
            self.objects.entry(key.clone()).or_insert_with(|| Object {
                key,
                origin: Origin::default(),
                body: Body::Namespace(Namespace {
                    metadata: ObjectMeta {
                        name: Some(ns),
                        ..ObjectMeta::default()
                    },
                    ..Namespace::default()
                }),
                stale: false,
            });
        }
        // The API server labels every Namespace with its own name.
        for object in self.objects.values_mut() {
            if let Body::Namespace(ns) = &mut object.body {
                let name = object.key.name.clone();
                ns.metadata
                    .labels
                    .get_or_insert_with(BTreeMap::new)
                    .insert(NAMESPACE_NAME_LABEL.to_string(), name);
            }
        }
    }

    fn add_builtin_classes(&mut self) {
        for (name, controller) in BUILTIN_CLASSES {
            let key = ObjectKey::new(Kind::GatewayClass, "", *name);
            self.objects.entry(key.clone()).or_insert_with(|| Object {
                key,
                origin: Origin::default(),
                body: Body::GatewayClass(gw::GatewayClass {
                    metadata: ObjectMeta {
                        name: Some((*name).to_string()),
                        ..ObjectMeta::default()
                    },
                    spec: gw::GatewayClassSpec {
                        controller_name: (*controller).to_string(),
                        ..gw::GatewayClassSpec::default()
                    },
                    status: None,
                }),
                stale: false,
            });
        }
    }

    fn stamp(&mut self, history: &mut History, now: &str) {
        for object in self.objects.values_mut() {
            let spec = object.body.spec_json();
            let record = history.observe(&object.key, &spec, now);
            let meta = object.body.meta_mut();
            meta.generation = Some(record.generation);
            if meta.creation_timestamp.is_none() {
                meta.creation_timestamp = parse_time(&record.created);
            }
        }
        history.forget_except(self.objects.keys());
    }

    /// Objects of one kind, in key order.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Object> {
        self.objects.values().filter(move |o| o.key.kind == kind)
    }

    pub fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<&Object> {
        self.objects.get(&ObjectKey::new(kind, namespace, name))
    }

    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

fn parse_time(text: &str) -> Option<Time> {
    text.parse::<jiff::Timestamp>().ok().map(Time)
}

#[cfg(test)]
mod layer_tests;
