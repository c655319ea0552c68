//! Istio's helloworld sample (a small Flask app): `/hello` names the version and instance.

use axum::body::Body;
use axum::response::Response;
use http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use http::request::Parts;
use http::{Method, StatusCode, Version};

use super::conn::Peer;
use super::server::Pod;

const TEXT: &str = "text/plain; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
const ALLOWED: &str = "GET, HEAD, OPTIONS";

// Flask's stock error pages, so a client sees what the real image sends.
const NOT_FOUND: &str = "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n";
const NOT_ALLOWED: &str = "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n";

/// Answers as the helloworld image: `/hello` and `/health` for GET and HEAD (OPTIONS lists
/// the methods, others get 405), anything else 404. Logs a Werkzeug access line.
pub(crate) fn handle(pod: &Pod, version: &str, peer: &Peer, req: &Parts) -> Response {
    let body = match req.uri.path() {
        "/hello" => Some(format!(
            "Hello version: {version}, instance: {}\n",
            pod.name
        )),
        "/health" => Some("Helloworld is healthy".to_owned()),
        _ => None,
    };
    let response = match (body, &req.method) {
        (None, _) => page(StatusCode::NOT_FOUND, HTML, NOT_FOUND.to_owned()),
        (Some(body), &Method::GET | &Method::HEAD) => page(StatusCode::OK, TEXT, body),
        (Some(_), &Method::OPTIONS) => {
            let mut response = page(StatusCode::OK, HTML, String::new());
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static(ALLOWED));
            response
        }
        (Some(_), _) => {
            let mut response = page(StatusCode::METHOD_NOT_ALLOWED, HTML, NOT_ALLOWED.to_owned());
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static(ALLOWED));
            response
        }
    };
    pod.log.push(access_line(peer, req, response.status()));
    response
}

fn page(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Werkzeug's access log line:
/// `127.0.0.1 - - [16/Jul/2026 10:00:00] "GET /hello HTTP/1.1" 200 -` (time in UTC).
fn access_line(peer: &Peer, req: &Parts, status: StatusCode) -> String {
    let target = req
        .uri
        .path_and_query()
        .map_or_else(|| req.uri.to_string(), |p| p.as_str().to_owned());
    let version = match req.version {
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        _ => "HTTP/1.1",
    };
    format!(
        "{} - - [{}] \"{} {target} {version}\" {} -",
        peer.remote.ip(),
        jiff::Timestamp::now().strftime("%d/%b/%Y %H:%M:%S"),
        req.method,
        status.as_u16(),
    )
}
