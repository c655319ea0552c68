//! OpenAPI, the smallest form kubectl accepts ("option B" of the kubectl research note):
//! `/openapi/v3` answers 404 and `/openapi/v2` an empty protobuf document. kubectl then
//! validates against no schemas and leaves validation to the server, which gwsim does with
//! the same admission as for files. Custom resources get merge patches, built-in kinds
//! strategic merge patches, as kubectl decides from its compiled-in types.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// `GET /openapi/v2`: zero bytes, a valid protobuf encoding of an empty document. Labelled
/// `application/octet-stream`: Go's MIME parser rejects the `@` of the official type.
pub async fn v2() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Vec::<u8>::new(),
    )
        .into_response()
}

/// `GET /openapi/v3[/…]`: not served, so kubectl falls back to v2.
pub async fn v3() -> Response {
    super::errors::ApiError::no_resource("the server could not find the requested resource")
        .into_response()
}
