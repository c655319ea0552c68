//! Routing of API requests: discovery and OpenAPI paths, then resource paths
//! (`/api/v1/…`, `/apis/<group>/<version>/…`, namespaced or not) dispatched to get, list,
//! watch and the writes.

use super::errors::ApiError;
use super::query::Query;
use super::resources::{self, Resource};
use super::write::{self, Op, PatchKind};
use super::{discovery, openapi, tables, KubeApi};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;

/// The API's routes.
pub fn router(api: Arc<KubeApi>) -> Router {
    Router::new()
        .route("/version", get(discovery::version))
        .route("/api", get(discovery::core))
        .route("/apis", get(discovery::apis))
        .route("/openapi/v2", get(openapi::v2))
        .route("/openapi/v3", get(openapi::v3))
        .route("/openapi/v3/{*rest}", get(openapi::v3))
        .fallback(resource)
        .with_state(api)
}

/// What a resource path names.
#[derive(Debug)]
pub struct Target {
    pub res: &'static Resource,
    /// The version the client used; responses carry it as their apiVersion.
    pub version: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

impl Target {
    /// `group/version` as the client asked for it.
    pub fn api_version(&self) -> String {
        self.res.group_version(&self.version)
    }

    /// The not-found error for `name`.
    pub fn not_found(&self, name: &str) -> ApiError {
        ApiError::not_found(&self.res.qualified(), self.res.group, self.res.plural, name)
    }
}

enum Path {
    GroupVersion(String, String),
    Resource(Target),
}

fn parse(path: &str) -> Result<Path, ApiError> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => {
            return Err(ApiError::no_resource(format!(
                "the server could not find the requested resource (gwsim serves no path {path})"
            )))
        }
    };
    if rest.is_empty() {
        return if resources::serves(group, version) {
            Ok(Path::GroupVersion(group.into(), version.into()))
        } else {
            Err(ApiError::no_resource(format!(
                "gwsim serves no API group version {}",
                if group.is_empty() {
                    version.to_string()
                } else {
                    format!("{group}/{version}")
                }
            )))
        };
    }
    let namespaced_path =
        rest.len() >= 3 && rest[0] == "namespaces" && !matches!(rest[2], "status" | "finalize");
    let (namespace, rest) = if namespaced_path {
        (Some(rest[1].to_string()), &rest[2..])
    } else {
        (None, rest)
    };
    let plural = rest[0];
    let res = resources::find(group, version, plural).ok_or_else(|| {
        let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
        ApiError::no_resource(format!(
            "the server could not find the requested resource: gwsim serves no resource {plural:?} in {gv} (it serves namespaces, pods, services, secrets, configmaps, deployments, endpointslices, customresourcedefinitions and the Gateway API kinds)"
        ))
    })?;
    if namespace.is_some() && !res.namespaced {
        return Err(ApiError::no_resource(format!(
            "{} are cluster-scoped",
            res.qualified()
        )));
    }
    Ok(Path::Resource(Target {
        res,
        version: version.to_string(),
        namespace,
        name: rest.get(1).map(|s| s.to_string()),
        subresource: rest.get(2).map(|s| s.to_string()),
    }))
}

async fn resource(
    State(api): State<Arc<KubeApi>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match dispatch(&api, &method, &uri, &headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn dispatch(
    api: &Arc<KubeApi>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let target = match parse(uri.path())? {
        Path::GroupVersion(g, v) => {
            return if method == Method::GET {
                Ok(axum::Json(discovery::resource_list(&g, &v)).into_response())
            } else {
                Err(ApiError::method_not_allowed("discovery is read-only"))
            }
        }
        Path::Resource(t) => t,
    };
    let query = Query::parse(uri.query()).map_err(ApiError::bad_request)?;
    if let Some(sub) = &target.subresource {
        if sub != "status" || *method != Method::GET {
            return Err(ApiError::method_not_allowed(format!(
                "gwsim serves {}/{sub} read-only: status is computed by its controller",
                target.res.plural
            )));
        }
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    match (method.clone(), target.name.clone()) {
        (Method::GET, Some(name)) => get_one(api, &target, &name, headers),
        (Method::GET, None) if query.watch => Ok(super::watch::watch(api.clone(), &target, &query)),
        (Method::GET, None) => list(api, &target, &query, headers),
        (Method::POST, None) => {
            let object = write::read_body(&content_type, &body, target.res)?;
            write::write(api, &target, Op::Create(object), &query).await
        }
        (Method::PUT, Some(_)) => {
            let object = write::read_body(&content_type, &body, target.res)?;
            write::write(api, &target, Op::Replace(object), &query).await
        }
        (Method::PATCH, Some(_)) => {
            let kind = PatchKind::from_content_type(&content_type)?;
            let patch = write::read_patch(kind, &body)?;
            write::write(api, &target, Op::Patch(kind, patch), &query).await
        }
        (Method::DELETE, Some(_)) => write::write(api, &target, Op::Delete, &query).await,
        (m, _) => Err(ApiError::method_not_allowed(format!(
            "{m} is not supported on {}",
            uri.path()
        ))),
    }
}

/// Whether the client asked for a `meta.k8s.io` Table.
fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("as=Table"))
}

/// The object in the client's version.
pub fn versioned(object: &Value, target: &Target) -> Value {
    let mut v = object.clone();
    v["apiVersion"] = json!(target.api_version());
    v
}

fn get_one(
    api: &KubeApi,
    target: &Target,
    name: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let snap = api.snapshot();
    let key = (
        target.res.plural,
        target.namespace.clone().unwrap_or_default(),
        name.to_string(),
    );
    if target.res.namespaced && target.namespace.is_none() {
        return Err(target.not_found(name));
    }
    let object = snap
        .objects
        .get(&key)
        .ok_or_else(|| target.not_found(name))?;
    if wants_table(headers) {
        let t = tables::table(
            target.res,
            &[object.as_ref()],
            snap.rv,
            jiff::Timestamp::now(),
        );
        return Ok(axum::Json(t).into_response());
    }
    Ok(axum::Json(versioned(object, target)).into_response())
}

fn list(
    api: &KubeApi,
    target: &Target,
    query: &Query,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let snap = api.snapshot();
    let items: Vec<&Value> = snap
        .objects
        .iter()
        .filter(|((plural, ns, _), v)| {
            *plural == target.res.plural
                && target.namespace.as_ref().is_none_or(|want| want == ns)
                && query.matches(v)
        })
        .map(|(_, v)| v.as_ref())
        .collect();
    if wants_table(headers) {
        let t = tables::table(target.res, &items, snap.rv, jiff::Timestamp::now());
        return Ok(axum::Json(t).into_response());
    }
    let items: Vec<Value> = items.into_iter().map(|v| versioned(v, target)).collect();
    Ok(axum::Json(json!({
        "apiVersion": target.api_version(),
        "kind": format!("{}List", target.res.kind),
        "metadata": {"resourceVersion": snap.rv.to_string()},
        "items": items,
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &str) -> Target {
        match parse(path).expect("parses") {
            Path::Resource(t) => t,
            Path::GroupVersion(..) => panic!("not a resource path"),
        }
    }

    #[test]
    fn paths_name_resources_namespaces_and_names() {
        let t = target("/apis/gateway.networking.k8s.io/v1beta1/namespaces/sample-ingress/gateways/sample-gateway");
        assert_eq!(t.res.plural, "gateways");
        assert_eq!(t.version, "v1beta1");
        assert_eq!(t.namespace.as_deref(), Some("sample-ingress"));
        assert_eq!(t.name.as_deref(), Some("sample-gateway"));
        let t = target("/api/v1/namespaces/sample");
        assert_eq!(t.res.plural, "namespaces");
        assert_eq!(t.name.as_deref(), Some("sample"));
        let t = target("/api/v1/namespaces/sample/pods");
        assert_eq!((t.res.plural, t.name), ("pods", None));
        let t = target("/apis/gateway.networking.k8s.io/v1/httproutes");
        assert!(t.namespace.is_none());
        let t = target("/api/v1/namespaces/x/status");
        assert_eq!(t.subresource.as_deref(), Some("status"));
    }

    #[test]
    fn unknown_resources_say_what_is_served() {
        let Err(e) = parse("/api/v1/namespaces/x/serviceaccounts") else {
            panic!("serviceaccounts are not served");
        };
        assert_eq!(e.code, 404);
        assert!(e.message.contains("\"serviceaccounts\""), "{}", e.message);
        assert!(parse("/apis/gateway.networking.k8s.io/v1").is_ok());
        assert!(parse("/apis/networking.istio.io/v1").is_err());
    }
}
