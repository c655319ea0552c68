//! Filters applied on the request path: header edits, redirects, rewrites and CORS.

use super::respond::{empty, Body};
use crate::ir::{Cors, HeaderModifier, PathModifier, Redirect, Rewrite};
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};

/// Applies set, then add, then remove.
pub fn modify_headers(headers: &mut HeaderMap, m: &HeaderModifier) {
    for (name, value) in &m.set {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    for (name, value) in &m.add {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            // `add` appends to an existing value, comma-separated, as the spec's example shows.
            match headers
                .get(&n)
                .and_then(|old| old.to_str().ok())
                .map(|old| format!("{old},{value}"))
            {
                Some(joined) => {
                    if let Ok(j) = HeaderValue::from_str(&joined) {
                        headers.insert(n, j);
                    }
                }
                None => {
                    headers.insert(n, v);
                }
            }
        }
    }
    for name in &m.remove {
        if let Ok(n) = HeaderName::from_bytes(name.as_bytes()) {
            headers.remove(n);
        }
    }
}

/// Rewrites a path for ReplaceFullPath / ReplacePrefixMatch.
pub fn rewrite_path(path: &str, modifier: &PathModifier, matched_prefix: Option<&str>) -> String {
    match modifier {
        PathModifier::ReplaceFullPath(p) => p.clone(),
        PathModifier::ReplacePrefixMatch(replacement) => {
            let prefix = matched_prefix.unwrap_or_default();
            let rest = path.strip_prefix(prefix).unwrap_or(path);
            let replacement = replacement.trim_end_matches('/');
            let joined = match (replacement.is_empty(), rest.is_empty()) {
                (true, true) => "/".to_string(),
                (true, false) => rest.to_string(),
                (false, _) => format!("{replacement}{rest}"),
            };
            if joined.starts_with('/') {
                joined
            } else {
                format!("/{joined}")
            }
        }
    }
}

/// The request facts a redirect needs.
pub struct RedirectSource<'a> {
    pub scheme: &'a str,
    pub host: &'a str,
    pub listener_port: u16,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub matched_prefix: Option<&'a str>,
}

/// Builds the redirect response. The port follows the spec: an explicit port wins; a scheme
/// change without one uses that scheme's well-known port; otherwise the listener's port.
/// Well-known ports are left out of `Location`.
pub fn redirect(r: &Redirect, src: &RedirectSource<'_>) -> Response<Body> {
    let scheme = r.scheme.as_deref().unwrap_or(src.scheme);
    let host = r.hostname.as_deref().unwrap_or(src.host);
    let port = match (r.port, &r.scheme) {
        (Some(p), _) => p,
        (None, Some(s)) => {
            if s == "https" {
                443
            } else {
                80
            }
        }
        (None, None) => src.listener_port,
    };
    let default_port = if scheme == "https" { 443 } else { 80 };
    let authority = if port == default_port {
        host.to_string()
    } else {
        format!("{host}:{port}")
    };
    let path = r
        .path
        .as_ref()
        .map(|m| rewrite_path(src.path, m, src.matched_prefix))
        .unwrap_or_else(|| src.path.to_string());
    let query = src.query.map(|q| format!("?{q}")).unwrap_or_default();
    let location = format!("{scheme}://{authority}{path}{query}");
    let mut resp = Response::new(empty());
    *resp.status_mut() = StatusCode::from_u16(r.status_code).unwrap_or(StatusCode::FOUND);
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(http::header::LOCATION, v);
    }
    resp
}

/// Applies a URLRewrite to the host and path; returns the new (host, path).
pub fn rewrite(
    r: &Rewrite,
    host: &str,
    path: &str,
    matched_prefix: Option<&str>,
) -> (Option<String>, String) {
    let new_path = r
        .path
        .as_ref()
        .map(|m| rewrite_path(path, m, matched_prefix))
        .unwrap_or_else(|| path.to_string());
    (r.hostname.clone().filter(|h| h != host), new_path)
}

/// Whether an Origin is allowed by the CORS filter (`*` and `https://*.example.com` wildcards).
pub fn cors_origin_allowed(c: &Cors, origin: &str) -> bool {
    c.allow_origins.iter().any(|o| {
        o == "*"
            || o == origin
            || o.split_once("*.").is_some_and(|(scheme, suffix)| {
                origin
                    .strip_prefix(scheme)
                    .is_some_and(|rest| rest.ends_with(&format!(".{suffix}")))
            })
    })
}

/// What a CORS preflight asks for.
pub struct CorsAsked {
    pub method: String,
    pub headers: Option<String>,
}

impl CorsAsked {
    /// Reads `Access-Control-Request-Method` and `-Headers`.
    pub fn of(headers: &HeaderMap) -> CorsAsked {
        let get = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        CorsAsked {
            method: get("access-control-request-method").unwrap_or_default(),
            headers: get("access-control-request-headers"),
        }
    }
}

/// The CORS response headers for an allowed origin; `preflight` carries what a preflight
/// asked for. With credentials allowed, wildcards are answered with the concrete origin,
/// method and headers, since browsers refuse `*` on credentialed requests.
pub fn cors_headers(
    c: &Cors,
    origin: &str,
    preflight: Option<&CorsAsked>,
    headers: &mut HeaderMap,
) {
    let set = |headers: &mut HeaderMap, name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    let wildcard = c.allow_origins.iter().any(|o| o == "*") && !c.allow_credentials;
    set(
        headers,
        "access-control-allow-origin",
        if wildcard {
            "*".into()
        } else {
            origin.to_string()
        },
    );
    if c.allow_credentials {
        set(headers, "access-control-allow-credentials", "true".into());
    }
    if !c.expose_headers.is_empty() {
        set(
            headers,
            "access-control-expose-headers",
            c.expose_headers.join(", "),
        );
    }
    let Some(asked) = preflight else {
        return;
    };
    let methods = if c.allow_methods.iter().any(|m| m == "*") {
        Some(asked.method.clone()).filter(|m| !m.is_empty())
    } else {
        Some(c.allow_methods.join(", ")).filter(|m| !m.is_empty())
    };
    if let Some(m) = methods {
        set(headers, "access-control-allow-methods", m);
    }
    let allowed_headers = if c.allow_headers.iter().any(|h| h == "*") {
        asked.headers.clone()
    } else {
        Some(c.allow_headers.join(", ")).filter(|h| !h.is_empty())
    };
    if let Some(h) = allowed_headers {
        set(headers, "access-control-allow-headers", h);
    }
    set(
        headers,
        "access-control-max-age",
        c.max_age.unwrap_or(5).to_string(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_rewrite_keeps_the_rest() {
        let m = PathModifier::ReplacePrefixMatch("/new".into());
        assert_eq!(rewrite_path("/old/x", &m, Some("/old")), "/new/x");
        assert_eq!(rewrite_path("/old", &m, Some("/old")), "/new");
        let root = PathModifier::ReplacePrefixMatch("/".into());
        assert_eq!(rewrite_path("/old/x", &root, Some("/old")), "/x");
        assert_eq!(rewrite_path("/old", &root, Some("/old")), "/");
    }

    #[test]
    fn redirect_ports_follow_the_scheme() {
        let src = RedirectSource {
            scheme: "http",
            host: "a.com",
            listener_port: 8080,
            path: "/p",
            query: Some("x=1"),
            matched_prefix: None,
        };
        let r = Redirect {
            scheme: Some("https".into()),
            hostname: None,
            port: None,
            path: None,
            status_code: 301,
        };
        let resp = redirect(&r, &src);
        assert_eq!(resp.status(), 301);
        assert_eq!(
            resp.headers()[http::header::LOCATION],
            "https://a.com/p?x=1"
        );
        let keep = Redirect {
            scheme: None,
            hostname: Some("b.com".into()),
            port: None,
            path: None,
            status_code: 302,
        };
        assert_eq!(
            redirect(&keep, &src).headers()[http::header::LOCATION],
            "http://b.com:8080/p?x=1"
        );
    }

    fn cors(credentials: bool, methods: &[&str], headers: &[&str]) -> Cors {
        Cors {
            allow_origins: vec!["*".into()],
            allow_credentials: credentials,
            allow_methods: methods.iter().map(|m| m.to_string()).collect(),
            allow_headers: headers.iter().map(|h| h.to_string()).collect(),
            expose_headers: vec![],
            max_age: None,
        }
    }

    #[test]
    fn cors_wildcards_answer_what_was_asked() {
        let asked = CorsAsked {
            method: "PUT".into(),
            headers: Some("x-a, x-b".into()),
        };
        let mut h = HeaderMap::new();
        cors_headers(
            &cors(true, &["*"], &["*"]),
            "https://o.example",
            Some(&asked),
            &mut h,
        );
        assert_eq!(h["access-control-allow-origin"], "https://o.example");
        assert_eq!(h["access-control-allow-methods"], "PUT");
        assert_eq!(h["access-control-allow-headers"], "x-a, x-b");
        assert_eq!(h["access-control-allow-credentials"], "true");
        assert_eq!(h["access-control-max-age"], "5");
        let mut h = HeaderMap::new();
        cors_headers(
            &cors(false, &["GET", "PUT"], &[]),
            "https://o.example",
            None,
            &mut h,
        );
        assert_eq!(h["access-control-allow-origin"], "*");
        assert!(h.get("access-control-allow-credentials").is_none());
        assert!(
            h.get("access-control-allow-methods").is_none(),
            "simple requests get no methods"
        );
    }

    #[test]
    fn cors_origins_match_exactly_or_by_subdomain_wildcard() {
        let c = Cors {
            allow_origins: vec!["https://www.foo.com".into(), "https://*.bar.com".into()],
            ..Cors::default()
        };
        assert!(cors_origin_allowed(&c, "https://www.foo.com"));
        assert!(cors_origin_allowed(&c, "https://a.b.bar.com"));
        assert!(!cors_origin_allowed(&c, "https://bar.com"));
        assert!(!cors_origin_allowed(&c, "http://www.bar.com"));
        assert!(!cors_origin_allowed(&c, "https://foobar.com"));
    }

    #[test]
    fn header_modifier_order_is_set_add_remove() {
        let mut h = HeaderMap::new();
        h.insert("a", HeaderValue::from_static("1"));
        h.insert("gone", HeaderValue::from_static("x"));
        modify_headers(
            &mut h,
            &HeaderModifier {
                set: vec![("b".into(), "2".into())],
                add: vec![("a".into(), "3".into())],
                remove: vec!["gone".into()],
            },
        );
        assert_eq!(h["a"], "1,3");
        assert_eq!(h["b"], "2");
        assert!(h.get("gone").is_none());
    }
}
