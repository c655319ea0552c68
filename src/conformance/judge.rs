//! Judging one response the way upstream's `CompareRoundTrip` does (FORMAT.md, "Judging
//! the response"): status codes, echo JSON, response headers and redirects.

use super::case::{HttpCase, RedirectExpect};
use super::http_client::Captured;
use serde_json::Value;
use std::collections::BTreeMap;

/// The query parameter upstream adds to mirrored requests.
pub const REQUEST_ID: &str = "gateway-api-conformance-request-id";

/// Appends the mirror request id to a path's query.
pub fn with_id(path: &str, id: Option<&str>) -> String {
    match id {
        None => path.to_string(),
        Some(id) => {
            let sep = if path.contains('?') { '&' } else { '?' };
            format!("{path}{sep}{REQUEST_ID}={id}")
        }
    }
}

pub fn is_redirect(code: u16) -> bool {
    matches!(code, 300..=305 | 307 | 308)
}

fn gwsim_reason(cap: &Captured) -> String {
    match cap.headers.get(crate::dataplane::respond::REASON_HEADER) {
        Some(r) => format!(
            " ({}: {})",
            r.to_str().unwrap_or("?"),
            String::from_utf8_lossy(&cap.body).trim()
        ),
        None => String::new(),
    }
}

/// Judges one response against a case (FORMAT.md steps 1–5).
pub fn judge(case: &HttpCase, cap: &Captured, id: Option<&str>) -> Result<(), String> {
    let codes = if case.response.status_codes.is_empty() {
        vec![200]
    } else {
        case.response.status_codes.clone()
    };
    let timeout = |c: u16| c == 408 || c == 504;
    if timeout(cap.status) && codes.iter().any(|c| timeout(*c)) {
        return Ok(());
    }
    if !codes.contains(&cap.status) {
        return Err(format!(
            "expected status {codes:?}, got {}{}",
            cap.status,
            gwsim_reason(cap)
        ));
    }
    if let Some(p) = &case.response.protocol {
        if p != cap.protocol {
            return Err(format!("expected protocol {p}, got {}", cap.protocol));
        }
    }
    if cap.status == 200 || cap.status == 204 {
        response_headers(case, &cap.headers)?;
        let json = cap
            .headers
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|c| c == "application/json");
        let echo: Option<Value> = if json {
            Some(
                serde_json::from_slice(&cap.body)
                    .map_err(|e| format!("the echo body is not JSON: {e}"))?,
            )
        } else {
            None
        };
        return match echo {
            Some(echo) => echoed_request(case, &echo, id),
            // Upstream compares against an empty capture here. A case that expects nothing
            // of the backend (CORS preflights answered by the gateway) passes; one that
            // names a backend, namespace or path needs the echo.
            None if case.backend.is_empty()
                && case.namespace.is_empty()
                && case
                    .expected_request
                    .as_ref()
                    .is_some_and(|e| e.path.is_empty()) =>
            {
                Ok(())
            }
            None => Err(format!(
                "expected an echo JSON body, got Content-Type {:?}{}",
                cap.headers.get(http::header::CONTENT_TYPE),
                gwsim_reason(cap)
            )),
        };
    }
    if is_redirect(cap.status) {
        if let Some(r) = &case.redirect {
            return redirect(case, r, cap);
        }
    }
    Ok(())
}

fn joined(headers: &http::HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn response_headers(case: &HttpCase, headers: &http::HeaderMap) -> Result<(), String> {
    let squash = |s: &str| {
        if case.response.ignore_whitespace {
            s.replace(' ', "")
        } else {
            s.to_string()
        }
    };
    for (name, want) in &case.response.headers {
        match joined(headers, name) {
            None => {
                return Err(format!(
                    "expected response header {name}: {want}, it is absent"
                ))
            }
            Some(got) if squash(&got) != squash(want) => {
                return Err(format!(
                    "expected response header {name}: {want}, got {got}"
                ))
            }
            Some(_) => {}
        }
    }
    for (name, valid) in &case.response.valid_header_values {
        let got = joined(headers, name).ok_or_else(|| {
            format!("expected response header {name} (one of {valid:?}), it is absent")
        })?;
        if !valid.iter().any(|v| squash(v) == squash(&got)) {
            return Err(format!(
                "expected response header {name} to be one of {valid:?}, got {got}"
            ));
        }
    }
    for name in &case.response.absent_headers {
        if let Some(got) = joined(headers, name) {
            return Err(format!("expected no response header {name}, got {got}"));
        }
    }
    Ok(())
}

fn echoed_request(case: &HttpCase, echo: &Value, id: Option<&str>) -> Result<(), String> {
    let s = |k: &str| echo[k].as_str().unwrap_or_default().to_string();
    // Without expectedRequest the backend must see the request as sent, method included
    // (Go's `ExpectedRequest{Request: expected.Request}` copies it).
    let (host, path, method, want_headers, absent, port) = match &case.expected_request {
        Some(e) => (
            e.host.clone(),
            with_id(&e.path, id),
            e.method.clone(),
            e.headers.clone(),
            e.absent_headers.clone(),
            e.http_port.clone(),
        ),
        None => (
            case.request.host.clone(),
            with_id(&case.request.path, id),
            case.request.method.clone(),
            case.request.headers.clone(),
            Vec::new(),
            None,
        ),
    };
    if let Some(h) = host.filter(|h| !h.is_empty()) {
        if h != s("host") {
            return Err(format!(
                "expected the backend to see host {h}, got {}",
                s("host")
            ));
        }
    }
    if path != s("path") {
        return Err(format!(
            "expected the backend to see path {path}, got {}",
            s("path")
        ));
    }
    let method = method
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "GET".into());
    if method != s("method") {
        return Err(format!("expected method {method}, got {}", s("method")));
    }
    if case.namespace != s("namespace") {
        return Err(format!(
            "expected namespace {:?}, got {:?} (pod {})",
            case.namespace,
            s("namespace"),
            s("pod")
        ));
    }
    let echoed: BTreeMap<String, String> = echo["headers"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let vals: Vec<&str> = v
                        .as_array()
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    (k.to_ascii_lowercase(), vals.join(","))
                })
                .collect()
        })
        .unwrap_or_default();
    for (name, want) in &want_headers {
        match echoed.get(&name.to_ascii_lowercase()) {
            None => {
                return Err(format!(
                    "expected request header {name}: {want}, the backend did not get it"
                ))
            }
            Some(got) if got != want => {
                return Err(format!(
                    "expected request header {name}: {want}, the backend got {got}"
                ))
            }
            Some(_) => {}
        }
    }
    for name in &absent {
        if let Some(got) = echoed.get(&name.to_ascii_lowercase()) {
            return Err(format!(
                "expected request header {name} to be removed, the backend got {got}"
            ));
        }
    }
    if let Some(p) = port.filter(|p| !p.is_empty()) {
        if p != s("httpPort") {
            return Err(format!("expected httpPort {p}, got {}", s("httpPort")));
        }
    }
    if !s("pod").starts_with(&case.backend) {
        return Err(format!(
            "expected a pod of {}, got {}",
            case.backend,
            s("pod")
        ));
    }
    Ok(())
}

fn redirect(case: &HttpCase, want: &RedirectExpect, cap: &Captured) -> Result<(), String> {
    let location = cap
        .headers
        .get(http::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .ok_or("redirect without a Location header")?;
    let uri: http::Uri = location
        .parse()
        .map_err(|e| format!("Location {location} does not parse: {e}"))?;
    let got_host = uri.host().unwrap_or_default().to_string();
    let got_scheme = uri.scheme_str().unwrap_or_default().to_string();
    let got_port = uri.port_u16().map(|p| p.to_string()).unwrap_or_default();
    let got_path = uri.path().to_string();
    let host = want.host.clone().unwrap_or_else(|| got_host.clone());
    let scheme = want.scheme.clone().unwrap_or_else(|| "http".into());
    let path = want.path.clone().unwrap_or_else(|| {
        case.request
            .path
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string()
    });
    if host != got_host {
        return Err(format!(
            "expected redirect host {host}, got {got_host} (Location {location})"
        ));
    }
    match &want.port {
        Some(p) if *p != got_port => {
            return Err(format!(
                "expected redirect port {p}, got {got_port:?} (Location {location})"
            ))
        }
        Some(_) => {}
        None => {
            let ok = match got_scheme.as_str() {
                "http" => got_port.is_empty() || got_port == "80",
                "https" => got_port.is_empty() || got_port == "443",
                _ => true,
            };
            if !ok {
                return Err(format!(
                    "expected no port or the {got_scheme} default in the redirect, got {got_port} (Location {location})"
                ));
            }
        }
    }
    if scheme != got_scheme {
        return Err(format!(
            "expected redirect scheme {scheme}, got {got_scheme} (Location {location})"
        ));
    }
    if path != got_path {
        return Err(format!(
            "expected redirect path {path}, got {got_path} (Location {location})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::case::{ExpectedRequest, Request, ResponseExpect};

    fn cap(status: u16, headers: &[(&'static str, &str)], body: &str) -> Captured {
        let mut h = http::HeaderMap::new();
        for (k, v) in headers {
            h.append(*k, v.parse().expect("header value"));
        }
        Captured {
            status,
            protocol: "HTTP/1.1",
            headers: h,
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    fn echo(path: &str, pod: &str) -> Captured {
        let body = serde_json::json!({
            "path": path, "host": "h", "method": "GET", "namespace": "ns", "pod": pod,
            "headers": {"X-A": ["1", "2"]}, "httpPort": "3000",
        });
        cap(
            200,
            &[("content-type", "application/json")],
            &body.to_string(),
        )
    }

    fn case(path: &str) -> HttpCase {
        HttpCase {
            request: Request {
                path: path.into(),
                ..Request::default()
            },
            namespace: "ns".into(),
            backend: "infra-backend-v1".into(),
            ..HttpCase::default()
        }
    }

    #[test]
    fn status_codes_and_timeouts() {
        let c = case("/");
        assert!(judge(&c, &cap(404, &[], ""), None).is_err());
        let mut t = case("/");
        t.response.status_codes = vec![504];
        assert!(
            judge(&t, &cap(408, &[], ""), None).is_ok(),
            "408 stands in for 504"
        );
    }

    #[test]
    fn echo_fields_are_compared() {
        let c = case("/a");
        assert!(judge(&c, &echo("/a", "infra-backend-v1-x-y"), None).is_ok());
        let e = judge(&c, &echo("/b", "infra-backend-v1-x-y"), None).expect_err("path");
        assert!(e.contains("path /a"), "{e}");
        assert!(judge(&c, &echo("/a", "infra-backend-v2-x-y"), None).is_err());
        let mut h = case("/a");
        h.expected_request = Some(ExpectedRequest {
            path: "/a".into(),
            headers: [("x-a".to_string(), "1,2".to_string())].into(),
            absent_headers: vec!["X-Gone".into()],
            ..ExpectedRequest::default()
        });
        assert!(judge(&h, &echo("/a", "infra-backend-v1-x-y"), None).is_ok());
        let with_id = judge(
            &c,
            &echo(
                "/a?gateway-api-conformance-request-id=1",
                "infra-backend-v1-x-y",
            ),
            Some("1"),
        );
        assert!(with_id.is_ok(), "{with_id:?}");
    }

    #[test]
    fn a_gateway_answer_passes_only_when_nothing_of_the_backend_is_expected() {
        let preflight = HttpCase {
            expected_request: Some(ExpectedRequest {
                method: Some("OPTIONS".into()),
                ..ExpectedRequest::default()
            }),
            response: ResponseExpect {
                status_codes: vec![200, 204],
                valid_header_values: [(
                    "access-control-allow-methods".to_string(),
                    vec!["GET, PUT".to_string()],
                )]
                .into(),
                ignore_whitespace: true,
                ..ResponseExpect::default()
            },
            ..HttpCase::default()
        };
        let ok = cap(204, &[("access-control-allow-methods", "GET,PUT")], "");
        assert!(judge(&preflight, &ok, None).is_ok());
        let missing = cap(204, &[], "");
        assert!(judge(&preflight, &missing, None).is_err());
        assert!(
            judge(&case("/"), &cap(200, &[], "hi"), None).is_err(),
            "a backend was expected"
        );
    }

    #[test]
    fn redirects_default_port_and_path() {
        let mut c = case("/p?q=1");
        c.response.status_codes = vec![302];
        c.redirect = Some(RedirectExpect {
            host: Some("example.org".into()),
            ..RedirectExpect::default()
        });
        let good = cap(302, &[("location", "http://example.org/p?q=1")], "");
        assert!(judge(&c, &good, None).is_ok());
        let port = cap(302, &[("location", "http://example.org:8080/p")], "");
        assert!(
            judge(&c, &port, None).is_err(),
            "http redirects must drop port 8080"
        );
        let host = cap(302, &[("location", "http://other.org/p")], "");
        assert!(judge(&c, &host, None).is_err());
    }
}
