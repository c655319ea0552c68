//! Request matching, per the Gateway API spec: host patterns, path (Exact, PathPrefix on
//! whole segments, RegularExpression anchored on the whole path), headers, query params and
//! method. Everything here is compiled once per routing table and is pure.

use crate::ir::{MatchIr, PathMatch, ValueMatch, ValueMatchKind};
use regex::Regex;
use std::borrow::Cow;

/// A compiled match.
#[derive(Debug)]
pub struct Matcher {
    path: PathMatcher,
    headers: Vec<(http::HeaderName, ValueMatcher)>,
    query: Vec<(String, ValueMatcher)>,
    method: Option<http::Method>,
}

#[derive(Debug)]
enum PathMatcher {
    Exact(String),
    /// Stored without its trailing slash; `/` matches everything.
    Prefix(String),
    Regex(Regex),
}

#[derive(Debug)]
enum ValueMatcher {
    Exact(String),
    Regex(Regex),
}

impl ValueMatcher {
    fn new(m: &ValueMatch) -> Option<ValueMatcher> {
        Some(match m.kind {
            ValueMatchKind::Exact => ValueMatcher::Exact(m.value.clone()),
            ValueMatchKind::RegularExpression => ValueMatcher::Regex(anchored(&m.value)?),
        })
    }

    fn matches(&self, v: &str) -> bool {
        match self {
            ValueMatcher::Exact(e) => e == v,
            ValueMatcher::Regex(r) => r.is_match(v),
        }
    }
}

/// Regular expressions match the whole value, as RE2 full matches do in other implementations.
fn anchored(pattern: &str) -> Option<Regex> {
    Regex::new(&format!("^(?:{pattern})$")).ok()
}

/// The request facts matching needs.
pub struct RequestView<'a> {
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub method: &'a http::Method,
    pub headers: &'a http::HeaderMap,
}

impl Matcher {
    /// Compiles a match; `None` when a regular expression does not compile (the controller
    /// has already refused those, so this only guards the data plane).
    pub fn compile(m: &MatchIr) -> Option<Matcher> {
        let path = match &m.path {
            PathMatch::Exact(v) => PathMatcher::Exact(v.clone()),
            PathMatch::PathPrefix(v) => PathMatcher::Prefix(v.trim_end_matches('/').to_string()),
            PathMatch::RegularExpression(v) => PathMatcher::Regex(anchored(v)?),
        };
        let headers = m
            .headers
            .iter()
            .map(|h| {
                Some((
                    http::HeaderName::from_bytes(h.name.as_bytes()).ok()?,
                    ValueMatcher::new(h)?,
                ))
            })
            .collect::<Option<Vec<_>>>()?;
        let query = m
            .query_params
            .iter()
            .map(|q| Some((q.name.clone(), ValueMatcher::new(q)?)))
            .collect::<Option<Vec<_>>>()?;
        let method = match &m.method {
            Some(name) => Some(http::Method::from_bytes(name.as_bytes()).ok()?),
            None => None,
        };
        Some(Matcher {
            path,
            headers,
            query,
            method,
        })
    }

    /// Whether the request matches; returns the matched prefix for PathPrefix matches
    /// (ReplacePrefixMatch rewrites need it).
    pub fn matches(&self, req: &RequestView<'_>) -> bool {
        let path_ok = match &self.path {
            PathMatcher::Exact(e) => req.path == e,
            PathMatcher::Prefix(p) => prefix_matches(p, req.path),
            PathMatcher::Regex(r) => r.is_match(req.path),
        };
        if !path_ok {
            return false;
        }
        if self.method.as_ref().is_some_and(|m| m != req.method) {
            return false;
        }
        for (name, m) in &self.headers {
            // Repeated headers are compared joined with ",", as the conformance suite sends them.
            let values: Vec<&str> = req
                .headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            if values.is_empty() || !m.matches(&values.join(",")) {
                return false;
            }
        }
        for (name, m) in &self.query {
            // The first occurrence of a repeated parameter decides, as the spec suggests.
            let value = query_value(req.query.unwrap_or_default(), name);
            if !value.is_some_and(|v| m.matches(&v)) {
                return false;
            }
        }
        true
    }

    /// The prefix this matcher matched on, for ReplacePrefixMatch.
    pub fn prefix(&self) -> Option<&str> {
        match &self.path {
            PathMatcher::Prefix(p) => Some(p),
            _ => None,
        }
    }
}

/// PathPrefix matches whole path segments: `/v2` matches `/v2` and `/v2/x`, not `/v2example`.
pub fn prefix_matches(prefix: &str, path: &str) -> bool {
    if prefix.is_empty() {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

fn query_value(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Whether a request host (lower-case, no port) falls under a hostname pattern.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_prefix('*') {
        Some(suffix) => host.len() > suffix.len() && host.ends_with(suffix),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

/// The request host without port, lower-cased.
pub fn normalize_host(raw: &str) -> String {
    normalized_host(raw).into_owned()
}

/// As [`normalize_host`], borrowing `raw` when it is already normal (the usual case), so
/// the request path does not allocate for it.
pub fn normalized_host(raw: &str) -> Cow<'_, str> {
    if raw.starts_with('[') {
        let bracketed = raw.split(']').next().map(|h| format!("{h}]"));
        return Cow::Owned(bracketed.unwrap_or_default().to_ascii_lowercase());
    }
    // Byte scans: every request's host goes through here, and ':' and '.' are ASCII, so
    // the cut points are always character boundaries.
    let bytes = raw.as_bytes();
    let mut end = match bytes.iter().rposition(|b| *b == b':') {
        Some(colon) if bytes[colon + 1..].iter().all(u8::is_ascii_digit) => colon,
        _ => bytes.len(),
    };
    while end > 0 && bytes[end - 1] == b'.' {
        end -= 1;
    }
    let host = &raw[..end];
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(
        path: &'a str,
        query: Option<&'a str>,
        method: &'a http::Method,
        headers: &'a http::HeaderMap,
    ) -> RequestView<'a> {
        RequestView {
            path,
            query,
            method,
            headers,
        }
    }

    #[test]
    fn prefix_matches_whole_segments() {
        assert!(prefix_matches("/v2", "/v2"));
        assert!(prefix_matches("/v2", "/v2/"));
        assert!(prefix_matches("/v2", "/v2/x"));
        assert!(!prefix_matches("/v2", "/v2example"));
        assert!(prefix_matches("", "/anything"));
    }

    #[test]
    fn regex_is_anchored_and_headers_are_case_insensitive() {
        let m = Matcher::compile(&MatchIr {
            path: PathMatch::RegularExpression("/foo/[0-9]+".into()),
            headers: vec![ValueMatch {
                name: "x-version".into(),
                kind: ValueMatchKind::Exact,
                value: "2".into(),
            }],
            query_params: vec![ValueMatch {
                name: "q".into(),
                kind: ValueMatchKind::RegularExpression,
                value: "a.*".into(),
            }],
            method: Some("GET".into()),
        })
        .expect("compiles");
        let mut h = http::HeaderMap::new();
        h.insert("X-Version", http::HeaderValue::from_static("2"));
        let get = http::Method::GET;
        assert!(m.matches(&view("/foo/12", Some("q=abc"), &get, &h)));
        assert!(!m.matches(&view("/foo/12/x", Some("q=abc"), &get, &h)));
        assert!(!m.matches(&view("/foo/12", Some("q=zabc"), &get, &h)));
        assert!(!m.matches(&view("/foo/12", Some("q=abc"), &http::Method::POST, &h)));
        assert!(!m.matches(&view(
            "/foo/12",
            Some("q=abc"),
            &get,
            &http::HeaderMap::new()
        )));
    }

    #[test]
    fn hosts() {
        assert_eq!(normalize_host("Foo.Example.com:8080"), "foo.example.com");
        assert_eq!(normalize_host("[::1]:80"), "[::1]");
        assert_eq!(normalize_host("a.example.com."), "a.example.com");
        assert_eq!(normalize_host("127.0.0.1:18110"), "127.0.0.1");
        assert_eq!(normalize_host("a.example.com.:80"), "a.example.com");
        assert_eq!(normalize_host("a.example.com:"), "a.example.com");
        assert_eq!(normalize_host("a.example.com:x1"), "a.example.com:x1");
        assert_eq!(normalize_host("[::1]"), "[::1]");
        assert_eq!(normalize_host("..."), "");
        assert!(matches!(
            normalized_host("a.example.com:80"),
            Cow::Borrowed("a.example.com")
        ));
        assert!(host_matches("*.example.com", "a.b.example.com"));
        assert!(!host_matches("*.example.com", "example.com"));
        assert!(host_matches("*", "x"));
    }
}
