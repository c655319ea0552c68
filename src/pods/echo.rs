//! The Gateway API conformance echo server (echo-basic): routes, the echo JSON, response
//! headers asked for by the request, delays, and the websocket echo.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use http::request::Parts;
use http::{HeaderMap, StatusCode, Version};

use super::conn::Peer;
use super::gocompat::{canonical_header_key, parse_go_duration, push_json_string};
use super::lifecycle::Tracker;
use super::retry;
use super::server::{Pod, Reset};

/// Routes a request as echo-basic's mux does: on the path with every `//` collapsed, while
/// everything echoed uses the raw request-URI.
pub(crate) async fn handle(pod: &Pod, peer: &Peer, req: &mut Parts) -> Result<Response, Reset> {
    let request_uri = request_uri(req);
    let path = req.uri.path().replace("//", "/");
    match path.as_str() {
        "/health" => Ok(text(StatusCode::OK, "OK")),
        "/ws" => Ok(websocket(pod, peer, req).await),
        p if p.starts_with("/status/") => status(peer, req, &request_uri),
        p if p.starts_with("/retry/") => retry::handle(pod, peer, req, &request_uri).await,
        _ => Ok(echo(pod, peer, req, &request_uri).await),
    }
}

/// Go's `Request.RequestURI`: the request-target exactly as sent on HTTP/1 (absolute form
/// included), the `:path` on HTTP/2.
fn request_uri(req: &Parts) -> String {
    let uri = &req.uri;
    match (req.version, uri.path_and_query()) {
        (Version::HTTP_2, Some(path)) => path.as_str().to_owned(),
        _ => uri.to_string(),
    }
}

/// `/status/NNN` answers NNN with an empty body. The check is on the raw request-URI, so a
/// query string or a doubled slash makes it a 400 as in echo-basic.
fn status(peer: &Peer, req: &Parts, request_uri: &str) -> Result<Response, Reset> {
    let code = request_uri
        .strip_prefix("/status/")
        .filter(|d| d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse::<u16>().ok());
    let status = match code {
        None => StatusCode::BAD_REQUEST,
        // Go panics on a status below 100 and the connection dies without an answer.
        Some(code) if code < 100 => return Err(Reset::connection(peer, req.version)),
        // Go sends a 1xx as an interim response and then the final 200.
        Some(code) if code < 200 => StatusCode::OK,
        Some(code) => StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
    };
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    Ok(response)
}

/// The echo reply: logs the request, honours `?delay=`, then answers 200 with the JSON
/// description of the request.
pub(crate) async fn echo(pod: &Pod, peer: &Peer, req: &Parts, request_uri: &str) -> Response {
    pod.log.push(format!(
        "Echoing back request made to {request_uri} to client ({})",
        peer.remote
    ));
    if let Some(delay) = query_value(req.uri.query(), "delay").filter(|d| !d.is_empty()) {
        match parse_go_duration(&delay) {
            Ok(delay) => tokio::time::sleep(delay.to_sleep()).await,
            Err(message) => return error_response(StatusCode::INTERNAL_SERVER_ERROR, &message),
        }
    }
    let body = echo_json(&EchoFields {
        path: request_uri,
        host: &request_host(req),
        method: req.method.as_str(),
        proto: proto(req.version),
        headers: &echoed_headers(&req.headers, req.version),
        http_port: &peer.container_port.to_string(),
        namespace: &pod.namespace,
        pod: &pod.name,
    });
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    for (name, value) in requested_response_headers(&req.headers) {
        headers.append(name, value);
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// echo-basic's error reply: `{"message":"..."}` as compact JSON.
pub(crate) fn error_response(status: StatusCode, message: &str) -> Response {
    let mut body = String::from("{\"message\":");
    push_json_string(&mut body, message.as_bytes());
    body.push('}');
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// A plain-text reply with the content type Go sniffs for it.
fn text(status: StatusCode, body: &'static str) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The first value of `key` in a query string, decoded as Go's `FormValue` does.
pub(crate) fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Go's `Request.Host`: the authority of the request-target when it has one (absolute form,
/// or `:authority` on HTTP/2), else the Host header.
fn request_host(req: &Parts) -> String {
    if let Some(authority) = req.uri.authority() {
        return authority.as_str().to_owned();
    }
    req.headers
        .get(http::header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .unwrap_or_default()
}

fn proto(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// The request headers as Go's `Request.Header` holds them: canonical keys, every value in
/// order, without Host; on HTTP/1 without Transfer-Encoding (and then without a
/// Content-Length either), on HTTP/2 with cookies joined into one value.
fn echoed_headers(headers: &HeaderMap, version: Version) -> BTreeMap<String, Vec<Vec<u8>>> {
    let mut out: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    for (name, value) in headers {
        if name == http::header::HOST {
            continue;
        }
        out.entry(canonical_header_key(name.as_str()))
            .or_default()
            .push(value.as_bytes().to_vec());
    }
    if version == Version::HTTP_2 {
        if let Some(cookies) = out.get_mut("Cookie").filter(|c| c.len() > 1) {
            *cookies = vec![cookies.join(&b"; "[..])];
        }
    } else if out.remove("Transfer-Encoding").is_some() {
        out.remove("Content-Length");
    }
    out
}

/// The response headers asked for in `X-Echo-Set-Header` (`name:value`, comma-separated),
/// values of a repeated name joined with `,`. Names are matched exactly, as in Go's map.
/// Headers that would break the response's framing are left out.
fn requested_response_headers(headers: &HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
    let mut wanted: Vec<(String, String)> = Vec::new();
    for list in headers.get_all("x-echo-set-header") {
        for pair in String::from_utf8_lossy(list.as_bytes()).split(',') {
            let (name, value) = pair.trim().split_once(':').unwrap_or((pair.trim(), ""));
            match wanted.iter_mut().find(|(n, _)| n == name) {
                Some((_, joined)) => {
                    joined.push(',');
                    joined.push_str(value.trim());
                }
                None => wanted.push((name.to_owned(), value.to_owned())),
            }
        }
    }
    wanted
        .into_iter()
        .filter_map(|(name, value)| {
            let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
            let value = HeaderValue::from_str(value.trim()).ok()?;
            (!is_framing_header(&name)).then_some((name, value))
        })
        .collect()
}

fn is_framing_header(name: &HeaderName) -> bool {
    use http::header::{CONNECTION, CONTENT_LENGTH, TE, TRANSFER_ENCODING, UPGRADE};
    [CONNECTION, CONTENT_LENGTH, TE, TRANSFER_ENCODING, UPGRADE].contains(name)
        || name == "keep-alive"
        || name == "proxy-connection"
}

/// The fields of echo-basic's JSON, in its order.
struct EchoFields<'a> {
    path: &'a str,
    host: &'a str,
    method: &'a str,
    proto: &'a str,
    headers: &'a BTreeMap<String, Vec<Vec<u8>>>,
    http_port: &'a str,
    namespace: &'a str,
    pod: &'a str,
}

/// The body as Go's `json.MarshalIndent(v, "", " ")` writes it, byte for byte.
fn echo_json(f: &EchoFields<'_>) -> String {
    let mut out = String::from("{\n");
    let field = |out: &mut String, key: &str, value: &str| {
        out.push_str(" \"");
        out.push_str(key);
        out.push_str("\": ");
        push_json_string(out, value.as_bytes());
        out.push_str(",\n");
    };
    field(&mut out, "path", f.path);
    field(&mut out, "host", f.host);
    field(&mut out, "method", f.method);
    field(&mut out, "proto", f.proto);
    out.push_str(" \"headers\": {");
    for (i, (name, values)) in f.headers.iter().enumerate() {
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        push_json_string(&mut out, name.as_bytes());
        out.push_str(": [");
        for (j, value) in values.iter().enumerate() {
            out.push_str(if j == 0 { "\n   " } else { ",\n   " });
            push_json_string(&mut out, value);
        }
        out.push_str("\n  ]");
    }
    out.push_str(if f.headers.is_empty() {
        "},\n"
    } else {
        "\n },\n"
    });
    field(&mut out, "httpPort", f.http_port);
    field(&mut out, "namespace", f.namespace);
    field(&mut out, "ingress", "");
    field(&mut out, "service", "");
    out.push_str(" \"pod\": ");
    push_json_string(&mut out, f.pod.as_bytes());
    out.push_str("\n}");
    out
}

/// `/ws`: upgrades and echoes every text or binary message back until the client closes.
async fn websocket(pod: &Pod, peer: &Peer, req: &mut Parts) -> Response {
    let upgrade = match WebSocketUpgrade::from_request_parts(req, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    pod.log
        .push(format!("established websocket connection {}", peer.remote));
    let tracker = pod.tracker.clone();
    upgrade.on_upgrade(move |socket| async move {
        // The session runs as a tracked task so that stopping the pod waits for it.
        tracker.spawn(echo_session(socket, tracker.clone()));
    })
}

async fn echo_session(mut socket: WebSocket, tracker: Tracker) {
    loop {
        let received = tokio::select! {
            () = tracker.draining() => {
                let bye = CloseFrame { code: close_code::AWAY, reason: "pod stopping".into() };
                let _ = socket.send(Message::Close(Some(bye))).await;
                return;
            }
            received = socket.recv() => received,
        };
        let reply = match received {
            Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => message,
            // Pings are answered and a Close is acknowledged by the library on the next
            // read, which also ends the loop once the close handshake is done.
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Close(_))) => continue,
            Some(Err(_)) | None => return,
        };
        if socket.send(reply).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_matches_go_marshal_indent() {
        let mut headers = BTreeMap::new();
        headers.insert("Accept".to_string(), vec![b"*/*".to_vec()]);
        headers.insert("X-Multi".to_string(), vec![b"a".to_vec(), b"<b>".to_vec()]);
        let fields = EchoFields {
            path: "/a?b=c",
            host: "example.com",
            method: "GET",
            proto: "HTTP/1.1",
            headers: &headers,
            http_port: "3000",
            namespace: "ns",
            pod: "p",
        };
        let expected = "{\n \"path\": \"/a?b=c\",\n \"host\": \"example.com\",\n \"method\": \"GET\",\n \"proto\": \"HTTP/1.1\",\n \"headers\": {\n  \"Accept\": [\n   \"*/*\"\n  ],\n  \"X-Multi\": [\n   \"a\",\n   \"\\u003cb\\u003e\"\n  ]\n },\n \"httpPort\": \"3000\",\n \"namespace\": \"ns\",\n \"ingress\": \"\",\n \"service\": \"\",\n \"pod\": \"p\"\n}";
        assert_eq!(echo_json(&fields), expected);
        let empty = BTreeMap::new();
        let body = echo_json(&EchoFields {
            headers: &empty,
            ..fields
        });
        assert!(body.contains("\n \"headers\": {},\n"), "{body}");
        let parsed: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
        assert_eq!(parsed["httpPort"], "3000");
    }

    #[test]
    fn echo_set_header_joins_repeats_and_skips_framing() {
        let mut headers = HeaderMap::new();
        headers.append(
            "x-echo-set-header",
            HeaderValue::from_static("X-Foo: a, x-bar:b"),
        );
        headers.append(
            "x-echo-set-header",
            HeaderValue::from_static("X-Foo: c,Content-Length:9"),
        );
        let got: Vec<(String, String)> = requested_response_headers(&headers)
            .into_iter()
            .map(|(n, v)| (n.to_string(), v.to_str().expect("ascii").to_string()))
            .collect();
        assert_eq!(
            got,
            vec![("x-foo".into(), "a,c".into()), ("x-bar".into(), "b".into())]
        );
    }

    #[test]
    fn echoed_headers_follow_go() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("h"));
        headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        headers.insert("content-length", HeaderValue::from_static("3"));
        headers.append("cookie", HeaderValue::from_static("a=1"));
        headers.append("cookie", HeaderValue::from_static("b=2"));
        let h1 = echoed_headers(&headers, Version::HTTP_11);
        assert_eq!(h1.keys().collect::<Vec<_>>(), vec!["Cookie"]);
        assert_eq!(h1["Cookie"].len(), 2);
        let h2 = echoed_headers(&headers, Version::HTTP_2);
        assert_eq!(h2["Cookie"], vec![b"a=1; b=2".to_vec()]);
        assert!(h2.contains_key("Content-Length"));
    }
}
