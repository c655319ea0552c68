//! The web dashboard: the static files of the top-level `ui/` folder, compiled into the
//! binary so the page works offline and needs no install step.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../../ui/index.html");
const APP: &str = include_str!("../../ui/app.js");
const STYLE: &str = include_str!("../../ui/style.css");

fn file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // The page is part of the binary: a new build must not be hidden by a cache.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`.
pub(super) async fn index() -> Response {
    file("text/html; charset=utf-8", INDEX)
}

/// `GET /app.js`.
pub(super) async fn app() -> Response {
    file("text/javascript; charset=utf-8", APP)
}

/// `GET /style.css`.
pub(super) async fn style() -> Response {
    file("text/css; charset=utf-8", STYLE)
}
