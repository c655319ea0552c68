//! Errors as the API server reports them: `Status` objects with a code and a reason, which
//! kubectl prints as `Error from server (<reason>): <message>`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// A failed request, rendered as a `Status`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: StatusCode,
    pub reason: &'static str,
    pub message: String,
    /// `details` of the Status: name, group, kind, causes.
    pub details: Value,
    /// `Warning` headers to send along.
    pub warnings: Vec<String>,
}

impl ApiError {
    fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: Value::Null,
            warnings: Vec::new(),
        }
    }

    /// 404 for an object: `gateways.gateway.networking.k8s.io "x" not found`.
    pub fn not_found(qualified: &str, group: &str, plural: &str, name: &str) -> Self {
        let mut e = Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{qualified} \"{name}\" not found"),
        );
        e.details = json!({"name": name, "group": group, "kind": plural});
        e
    }

    /// 404 for a path that names nothing gwsim serves.
    pub fn no_resource(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", message)
    }

    /// 409 on create of an existing object.
    pub fn already_exists(qualified: &str, group: &str, plural: &str, name: &str) -> Self {
        let mut e = Self::new(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("{qualified} \"{name}\" already exists"),
        );
        e.details = json!({"name": name, "group": group, "kind": plural});
        e
    }

    /// 422: the object breaks validation rules; `causes` are (field, message).
    pub fn invalid(kind: &str, group: &str, name: &str, causes: &[(String, String)]) -> Self {
        let summary: Vec<String> = causes
            .iter()
            .map(|(f, m)| {
                if f.is_empty() {
                    m.clone()
                } else {
                    format!("{f}: Invalid value: {m}")
                }
            })
            .collect();
        let qualified = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            format!("{qualified} \"{name}\" is invalid: {}", summary.join(", ")),
        );
        e.details = json!({
            "name": name,
            "group": group,
            "kind": kind,
            "causes": causes.iter().map(|(f, m)| json!({
                "reason": "FieldValueInvalid", "message": m, "field": f,
            })).collect::<Vec<_>>(),
        });
        e
    }

    /// 400: the request cannot be understood.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 405: the resource does not support this verb.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", message)
    }

    /// 415: a body encoding gwsim does not read.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            message,
        )
    }

    /// 500: gwsim could not do what it should have.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
    }

    /// 410 in a watch: the requested resourceVersion is older than the kept events.
    pub fn expired(rv: u64) -> Self {
        Self::new(
            StatusCode::GONE,
            "Expired",
            format!("too old resource version: {rv}"),
        )
    }

    /// The `Status` object.
    pub fn status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code.as_u16(),
        });
        if !self.details.is_null() {
            s["details"] = self.details.clone();
        }
        s
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.code, axum::Json(self.status())).into_response();
        add_warnings(resp.headers_mut(), &self.warnings);
        resp
    }
}

/// Adds `Warning: 299 - "text"` headers, which kubectl prints as `Warning: text` on stderr.
/// Header values must be visible ASCII, so other characters are replaced.
pub fn add_warnings(headers: &mut axum::http::HeaderMap, warnings: &[String]) {
    for w in warnings {
        let text: String = w
            .chars()
            .map(|c| match c {
                '"' => '\'',
                '\\' => '/',
                c if c.is_ascii_graphic() || c == ' ' => c,
                _ => '?',
            })
            .collect();
        if let Ok(v) = HeaderValue::from_str(&format!("299 - \"{text}\"")) {
            headers.append(header::WARNING, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_reads_like_the_api_server() {
        let e = ApiError::not_found(
            "gateways.gateway.networking.k8s.io",
            "gateway.networking.k8s.io",
            "gateways",
            "x",
        );
        let s = e.status();
        assert_eq!(s["code"], 404);
        assert_eq!(s["reason"], "NotFound");
        assert_eq!(
            s["message"],
            "gateways.gateway.networking.k8s.io \"x\" not found"
        );
    }

    #[test]
    fn warnings_are_plain_ascii() {
        let mut h = axum::http::HeaderMap::new();
        add_warnings(&mut h, &["a \"b\" → c".to_string()]);
        assert_eq!(h[header::WARNING], "299 - \"a 'b' ? c\"");
    }
}
