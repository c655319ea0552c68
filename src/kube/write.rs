//! Writes through the API: create, replace, patch (merge, strategic, apply) and delete.
//!
//! A write becomes an entry of gwsim's API layer (`.gwsim/applied/`), never an edit of the
//! user's files: an object declared in a user file is overridden or tombstoned there, with
//! a `Warning` saying so. The handler then reloads and waits for the new generation, so the
//! answer (and the next `get` or `wait`) shows the status the controller computed.

use super::errors::ApiError;
use super::handlers::{versioned, Target};
use super::patch::{merge_patch, strategic_merge_patch};
use super::query::Query;
use super::resources::{Backing, Resource};
use super::view::Snapshot;
use super::KubeApi;
use crate::model::{Kind, Object, ObjectKey};
use crate::source::layer;
use crate::source::{decode_file, Severity};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// How long a write waits for the reload that makes it visible.
const RELOAD_WAIT: Duration = Duration::from_secs(10);

/// The metadata the server owns; client copies are dropped before storing.
const SERVER_OWNED: &[&str] = &[
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The PATCH flavours kubectl sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    Merge,
    Strategic,
    /// Server-side apply, treated as a merge patch that may create (field managers ignored).
    Apply,
}

impl PatchKind {
    /// From the request's Content-Type.
    pub fn from_content_type(ct: &str) -> Result<PatchKind, ApiError> {
        let mime = ct.split(';').next().unwrap_or_default().trim();
        match mime {
            "application/merge-patch+json" => Ok(PatchKind::Merge),
            "application/strategic-merge-patch+json" => Ok(PatchKind::Strategic),
            "application/apply-patch+yaml" => Ok(PatchKind::Apply),
            other => Err(ApiError::unsupported_media_type(format!(
                "the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (gwsim does not read {other})"
            ))),
        }
    }
}

/// A write.
pub enum Op {
    Create(Value),
    Replace(Value),
    Patch(PatchKind, Value),
    Delete,
}

/// Reads a POST/PUT body: JSON, YAML, or the protobuf Namespace `kubectl create namespace` sends.
pub fn read_body(content_type: &str, body: &[u8], res: &Resource) -> Result<Value, ApiError> {
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    match mime {
        "application/vnd.kubernetes.protobuf" => {
            if res.kind != "Namespace" {
                return Err(ApiError::unsupported_media_type(format!(
                    "gwsim reads protobuf bodies for Namespaces only; send {} as JSON (kubectl apply does)",
                    res.kind
                )));
            }
            super::protobuf::decode_namespace(body)
                .map_err(|e| ApiError::unsupported_media_type(e.0))
        }
        "application/yaml" => serde_norway::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("cannot read the YAML body: {e}"))),
        _ => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("cannot read the JSON body: {e}"))),
    }
}

/// Reads a PATCH body (server-side apply sends YAML, which includes JSON).
pub fn read_patch(kind: PatchKind, body: &[u8]) -> Result<Value, ApiError> {
    let parsed = match kind {
        PatchKind::Apply => serde_norway::from_slice::<Value>(body).map_err(|e| e.to_string()),
        _ => serde_json::from_slice::<Value>(body).map_err(|e| e.to_string()),
    };
    parsed.map_err(|e| ApiError::bad_request(format!("cannot read the patch: {e}")))
}

/// Performs a write and answers with the object as the new state shows it.
pub async fn write(
    api: &Arc<KubeApi>,
    target: &Target,
    op: Op,
    query: &Query,
) -> Result<Response, ApiError> {
    let res = target.res;
    let kind = match res.backing {
        Backing::Store(kind) => kind,
        Backing::Pods => {
            return Err(ApiError::method_not_allowed(
                "pods are read-only in gwsim: they follow the Deployments (edit those instead)",
            ))
        }
        Backing::Crds => {
            return Err(ApiError::method_not_allowed(
                "customresourcedefinitions are built into gwsim: the Gateway API CRDs are always installed",
            ))
        }
    };
    let _guard = api.writes.lock().await;
    let snap = api.snapshot();
    let namespace = target.namespace.clone().unwrap_or_default();
    if res.namespaced && target.namespace.is_none() {
        return Err(ApiError::bad_request(format!(
            "{} are namespaced: use a /namespaces/<namespace>/ path",
            res.plural
        )));
    }
    let name = match (&op, &target.name) {
        (_, Some(n)) => n.clone(),
        (Op::Create(body), None) => name_for_create(body)?,
        _ => return Err(ApiError::bad_request("the request names no object")),
    };
    let key = ObjectKey::new(kind, namespace.clone(), name.clone());
    let served = snap
        .objects
        .get(&(res.plural, namespace.clone(), name.clone()))
        .cloned();
    if let Op::Delete = op {
        let object = served.ok_or_else(|| target.not_found(&name))?;
        return delete(api, &snap, target, &key, &object, query).await;
    }
    let (object, created) = match (op, served) {
        (Op::Create(_), Some(_)) => {
            return Err(ApiError::already_exists(
                &res.qualified(),
                res.group,
                res.plural,
                &name,
            ))
        }
        (Op::Create(body), None) => (body, true),
        (Op::Replace(_), None) => return Err(target.not_found(&name)),
        (Op::Replace(body), Some(_)) => (body, false),
        (Op::Patch(PatchKind::Apply, body), None) => (body, true),
        (Op::Patch(_, _), None) => return Err(target.not_found(&name)),
        (Op::Patch(kind, patch), Some(current)) => {
            let mut object = (*current).clone();
            match kind {
                PatchKind::Strategic => strategic_merge_patch(&mut object, &patch),
                PatchKind::Merge | PatchKind::Apply => merge_patch(&mut object, &patch),
            }
            (object, false)
        }
        (Op::Delete, _) => return Err(ApiError::internal("delete handled above")),
    };
    if res.namespaced
        && snap
            .state
            .store
            .get(Kind::Namespace, "", &namespace)
            .is_none()
    {
        let mut e = ApiError::not_found("namespaces", "", "namespaces", &namespace);
        e.message = format!("namespaces \"{namespace}\" not found");
        return Err(e);
    }
    let object = normalize(object, res, kind, &namespace, &name)?;
    let (decoded, mut warnings) = admit(&object, res, &name, &namespace)?;
    let current = snap.state.store.objects.get(&key);
    let unchanged =
        current.is_some_and(|c| layer::content_hash(&c.body) == layer::content_hash(&decoded.body));
    if query.dry_run || unchanged {
        let shown = match (&current, query.dry_run) {
            (Some(_), false) => snap
                .objects
                .get(&(res.plural, namespace.clone(), name.clone()))
                .map(|v| (**v).clone())
                .unwrap_or(object),
            _ => object,
        };
        return Ok(respond(created, versioned(&shown, target), &warnings));
    }
    let base = snap.state.store.file_bases.get(&key).map(|b| b.hash);
    if base.is_some() {
        warnings.push(override_warning(&snap, &key, "changed"));
    }
    layer::write_entry(&api.dir, &key, base, Some(&object))
        .map_err(|e| ApiError::internal(format!("cannot write gwsim's API layer: {e}")))?;
    let after = reload(api).await?;
    warnings.extend(diagnostics_for(&after, &key));
    let shown = after
        .objects
        .get(&(res.plural, namespace, name.clone()))
        .ok_or_else(|| {
            ApiError::internal(format!(
                "{key} was written but the reload did not admit it: {}",
                warnings.join("; ")
            ))
        })?;
    Ok(respond(created, versioned(shown, target), &warnings))
}

fn respond(created: bool, object: Value, warnings: &[String]) -> Response {
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut resp = (code, axum::Json(object)).into_response();
    super::errors::add_warnings(resp.headers_mut(), warnings);
    resp
}

/// The name of a created object: `metadata.name`, or `generateName` plus a suffix.
fn name_for_create(body: &Value) -> Result<String, ApiError> {
    let meta = &body["metadata"];
    if let Some(name) = meta["name"].as_str().filter(|n| !n.is_empty()) {
        return Ok(name.to_string());
    }
    if let Some(base) = meta["generateName"].as_str().filter(|n| !n.is_empty()) {
        let seed = jiff::Timestamp::now().as_nanosecond().to_string();
        let suffix = crate::pods::naming::safe_encode(&seed);
        let tail = &suffix[suffix.len().saturating_sub(crate::pods::naming::SUFFIX_LEN)..];
        return Ok(format!("{base}{tail}"));
    }
    Err(ApiError::invalid(
        body["kind"].as_str().unwrap_or("object"),
        "",
        "",
        &[(
            "metadata.name".into(),
            "Required value: name or generateName is required".into(),
        )],
    ))
}

/// Brings a body into the stored form: the stored apiVersion, the URL's name and namespace,
/// no status (the controller's) and no server-owned metadata.
fn normalize(
    mut object: Value,
    res: &Resource,
    kind: Kind,
    namespace: &str,
    name: &str,
) -> Result<Value, ApiError> {
    if !object.is_object() {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    }
    if let Some(k) = object["kind"].as_str() {
        if k != res.kind {
            return Err(ApiError::bad_request(format!(
                "the body is a {k}, but the request is for {}",
                res.plural
            )));
        }
    }
    if let Some(av) = object["apiVersion"].as_str() {
        let served = res.versions.iter().any(|v| res.group_version(v) == av);
        if !served {
            return Err(ApiError::bad_request(format!(
                "{} is not served as {av}; gwsim serves {}",
                res.kind,
                res.versions
                    .iter()
                    .map(|v| res.group_version(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    object["apiVersion"] = json!(kind.api_version());
    object["kind"] = json!(res.kind);
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    let meta = &mut object["metadata"];
    if let Some(n) = meta["name"].as_str() {
        if n != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
    }
    if let Some(ns) = meta["namespace"].as_str() {
        if res.namespaced && ns != namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
    }
    if let Some(m) = meta.as_object_mut() {
        for owned in SERVER_OWNED {
            m.remove(*owned);
        }
        m.remove("generateName");
        m.insert("name".into(), json!(name));
        if res.namespaced {
            m.insert("namespace".into(), json!(namespace));
        } else {
            m.remove("namespace");
        }
    }
    Ok(object)
}

/// Admits the object exactly as the loader admits files: schema, defaults, validation.
/// Unknown fields and type errors are 400 (strict decoding, as the API server does);
/// broken validation rules are 422 naming each field.
fn admit(
    object: &Value,
    res: &Resource,
    name: &str,
    namespace: &str,
) -> Result<(Object, Vec<String>), ApiError> {
    let decoded = decode_file("<request>", &object.to_string(), namespace);
    let (errors, warnings): (Vec<_>, Vec<_>) = decoded
        .diagnostics
        .into_iter()
        .partition(|d| d.severity == Severity::Error);
    let warnings: Vec<String> = warnings.into_iter().map(|d| d.message).collect();
    if !errors.is_empty() {
        let strip = |m: &str| m.trim_end_matches("; object not admitted").to_string();
        if errors.iter().all(|d| d.object.is_some()) {
            let causes: Vec<(String, String)> = errors
                .iter()
                .map(|d| (d.field.clone(), strip(&d.message)))
                .collect();
            return Err(ApiError::invalid(res.kind, res.group, name, &causes));
        }
        let messages: Vec<String> = errors.iter().map(|d| strip(&d.message)).collect();
        return Err(ApiError::bad_request(format!(
            "{} in version {:?} cannot be handled as a {}: strict decoding error: {}",
            res.kind,
            res.versions[0],
            res.kind,
            messages.join(", ")
        )));
    }
    let object = decoded
        .objects
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::bad_request("the body holds no object"))?;
    Ok((object, warnings))
}

/// Reloads now and waits until the API's view reflects it.
async fn reload(api: &KubeApi) -> Result<Arc<Snapshot>, ApiError> {
    let generation = api
        .handle
        .reload()
        .await
        .ok_or_else(|| ApiError::internal("gwsim's runtime has stopped"))?;
    let mut view = api.view.clone();
    let wait = async {
        loop {
            let snap = view.borrow_and_update().clone();
            if snap.generation >= generation {
                return Ok(snap);
            }
            if view.changed().await.is_err() {
                return Err(ApiError::internal("gwsim's API view has stopped"));
            }
        }
    };
    tokio::time::timeout(RELOAD_WAIT, wait)
        .await
        .map_err(|_| ApiError::internal("gwsim did not reload in time"))?
}

/// gwsim's diagnostics about `key`, for `Warning` headers.
fn diagnostics_for(snap: &Snapshot, key: &ObjectKey) -> Vec<String> {
    let name = key.to_string();
    snap.state
        .store
        .diagnostics
        .iter()
        .chain(&snap.state.translation.diagnostics)
        .filter(|d| d.object.as_deref() == Some(name.as_str()))
        .map(|d| format!("gwsim: {}", d.message))
        .collect()
}

fn override_warning(snap: &Snapshot, key: &ObjectKey, what: &str) -> String {
    let file = snap
        .state
        .store
        .file_bases
        .get(key)
        .map(|b| b.origin.file.clone())
        .unwrap_or_else(|| "a manifest file".into());
    format!(
        "gwsim: {key} is declared in {file}; it is {what} in gwsim's layer .gwsim/{}/ only, and the next edit of that file wins",
        layer::LAYER_DIR
    )
}

/// Deletes an object (a Namespace with everything in it) and answers with its last state.
async fn delete(
    api: &Arc<KubeApi>,
    snap: &Snapshot,
    target: &Target,
    key: &ObjectKey,
    object: &Value,
    query: &Query,
) -> Result<Response, ApiError> {
    let mut keys = vec![key.clone()];
    if key.kind == Kind::Namespace {
        // Deleting a namespace deletes its contents, as the namespace controller does.
        keys.splice(
            0..0,
            snap.state
                .store
                .objects
                .keys()
                .filter(|k| k.kind.is_namespaced() && k.namespace == key.name)
                .cloned(),
        );
    }
    let mut warnings = Vec::new();
    let mut plan = Vec::new();
    for k in &keys {
        let Some(stored) = snap.state.store.objects.get(k) else {
            continue;
        };
        if let Some(base) = snap.state.store.file_bases.get(k).map(|b| b.hash) {
            warnings.push(override_warning(snap, k, "deleted"));
            plan.push((k.clone(), Some(base)));
        } else if layer::is_layer_origin(stored) {
            plan.push((k.clone(), None));
        } else if k.kind == Kind::GatewayClass {
            return Err(ApiError::method_not_allowed(format!(
                "gatewayclass {} is built into gwsim and cannot be deleted",
                k.name
            )));
        }
        // Implicit namespaces need nothing: they vanish with their last object.
    }
    if !query.dry_run {
        for (k, base) in &plan {
            let done = match base {
                Some(b) => layer::write_entry(&api.dir, k, Some(*b), None),
                None => layer::remove_entry(&api.dir, k),
            };
            done.map_err(|e| ApiError::internal(format!("cannot write gwsim's API layer: {e}")))?;
        }
        reload(api).await?;
    }
    Ok(respond(false, versioned(object, target), &warnings))
}
