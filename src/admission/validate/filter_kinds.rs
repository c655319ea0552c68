//! The fields of each HTTPRoute filter kind: header modifiers, mirror, redirect, rewrite
//! (and their path modifiers), CORS and external auth, with their bounds and CEL rules.

use super::common::{
    backend_ref, max_items, max_len, one_of, port, push, range, string, unique, Ref, Str,
    CORS_ORIGIN_RE, HEADER_NAME, HEADER_VALUE, PATH_CHARS_RE, PRECISE_HOSTNAME,
};
use crate::admission::Violation;
use crate::model::gw;
use std::collections::BTreeSet;

/// The request and response header modifiers are distinct generated types of one shape.
macro_rules! check_header_modifier {
    ($m:expr, $at:expr, $out:expr) => {{
        let set = $m.set.iter().flatten();
        let add = $m.add.iter().flatten();
        let remove = $m.remove.as_deref().unwrap_or_default();
        header_modifier(
            set.map(|h| (h.name.as_str(), h.value.as_str())).collect(),
            add.map(|h| (h.name.as_str(), h.value.as_str())).collect(),
            remove,
            $at,
            $out,
        );
    }};
}

/// `requestHeaderModifier`.
pub fn request_headers(
    m: &gw::HttpRouteRulesFiltersRequestHeaderModifier,
    at: &str,
    out: &mut Vec<Violation>,
) {
    check_header_modifier!(m, at, out);
}

/// `responseHeaderModifier`.
pub fn response_headers(
    m: &gw::HttpRouteRulesFiltersResponseHeaderModifier,
    at: &str,
    out: &mut Vec<Violation>,
) {
    check_header_modifier!(m, at, out);
}

/// `urlRewrite`.
pub fn rewrite(r: &gw::HttpRouteRulesFiltersUrlRewrite, at: &str, out: &mut Vec<Violation>) {
    use gw::HttpRouteRulesFiltersUrlRewritePathType as P;
    if let Some(h) = &r.hostname {
        string(out, &format!("{at}.hostname"), h, &PRECISE_HOSTNAME);
    }
    if let Some(p) = &r.path {
        let modifier = PathModifier {
            full: p.r#type == P::ReplaceFullPath,
            prefix: p.r#type == P::ReplacePrefixMatch,
            replace_full_path: p.replace_full_path.as_deref(),
            replace_prefix_match: p.replace_prefix_match.as_deref(),
        };
        path_modifier(&modifier, &format!("{at}.path"), out);
    }
}

/// `HTTPHeaderFilter`: bounds of `set`/`add`/`remove`, and one action per header name
/// (case-insensitive), which the CRD documents and upstream's Go validation enforces
/// ("cannot specify multiple actions for header"); exact repeats within `set` or `add` are
/// also what `x-kubernetes-list-type: map` rejects.
fn header_modifier(
    set: Vec<(&str, &str)>,
    add: Vec<(&str, &str)>,
    remove: &[String],
    at: &str,
    out: &mut Vec<Violation>,
) {
    let mut actions = BTreeSet::new();
    for (field, headers) in [("set", &set), ("add", &add)] {
        let at = format!("{at}.{field}");
        max_items(out, &at, headers, 16);
        for (i, (name, value)) in headers.iter().enumerate() {
            string(out, &format!("{at}[{i}].name"), name, &HEADER_NAME);
            string(out, &format!("{at}[{i}].value"), value, &HEADER_VALUE);
            if !actions.insert(name.to_ascii_lowercase()) {
                push(
                    out,
                    format!("{at}[{i}].name"),
                    "cannot specify multiple actions for header",
                );
            }
        }
    }
    max_items(out, &format!("{at}.remove"), remove, 16);
    for (i, name) in remove.iter().enumerate() {
        if !actions.insert(name.to_ascii_lowercase()) {
            push(
                out,
                format!("{at}.remove[{i}]"),
                "cannot specify multiple actions for header",
            );
        }
    }
}

/// `requestMirror`.
pub fn mirror(m: &gw::HttpRouteRulesFiltersRequestMirror, at: &str, out: &mut Vec<Violation>) {
    let b = &m.backend_ref;
    let r = Ref {
        group: b.group.as_deref(),
        kind: b.kind.as_deref(),
        name: &b.name,
        namespace: b.namespace.as_deref(),
        port: b.port,
    };
    backend_ref(out, &format!("{at}.backendRef"), r);
    if let Some(p) = m.percent {
        range(out, &format!("{at}.percent"), p.into(), 0, 100);
    }
    if let Some(f) = &m.fraction {
        let fat = format!("{at}.fraction");
        range(
            out,
            &format!("{fat}.numerator"),
            f.numerator.into(),
            0,
            i64::MAX,
        );
        let denominator = f.denominator.unwrap_or(100);
        range(
            out,
            &format!("{fat}.denominator"),
            denominator.into(),
            1,
            i64::MAX,
        );
        if f.numerator > denominator {
            push(
                out,
                fat,
                "numerator must be less than or equal to denominator",
            );
        }
    }
    if m.percent.is_some() && m.fraction.is_some() {
        push(
            out,
            at,
            "Only one of percent or fraction may be specified in HTTPRequestMirrorFilter",
        );
    }
}

/// `requestRedirect`.
pub fn redirect(r: &gw::HttpRouteRulesFiltersRequestRedirect, at: &str, out: &mut Vec<Violation>) {
    if let Some(h) = &r.hostname {
        string(out, &format!("{at}.hostname"), h, &PRECISE_HOSTNAME);
    }
    if let Some(p) = r.port {
        port(out, &format!("{at}.port"), p);
    }
    if let Some(code) = r
        .status_code
        .filter(|c| ![301, 302, 303, 307, 308].contains(c))
    {
        let message = format!("Unsupported value: {code}: supported values: \"301\", \"302\", \"303\", \"307\", \"308\"");
        push(out, format!("{at}.statusCode"), message);
    }
    if let Some(p) = &r.path {
        use gw::HttpRouteRulesFiltersRequestRedirectPathType as P;
        let modifier = PathModifier {
            full: p.r#type == P::ReplaceFullPath,
            prefix: p.r#type == P::ReplacePrefixMatch,
            replace_full_path: p.replace_full_path.as_deref(),
            replace_prefix_match: p.replace_prefix_match.as_deref(),
        };
        path_modifier(&modifier, &format!("{at}.path"), out);
    }
}

/// An `HTTPPathModifier` of a redirect or a rewrite, whose generated types differ.
struct PathModifier<'a> {
    full: bool,
    prefix: bool,
    replace_full_path: Option<&'a str>,
    replace_prefix_match: Option<&'a str>,
}

fn path_modifier(p: &PathModifier<'_>, at: &str, out: &mut Vec<Violation>) {
    if let Some(v) = p.replace_full_path {
        max_len(out, &format!("{at}.replaceFullPath"), v, 1024);
    }
    if let Some(v) = p.replace_prefix_match {
        max_len(out, &format!("{at}.replacePrefixMatch"), v, 1024);
    }
    if p.full && p.replace_full_path.is_none() {
        push(
            out,
            at,
            "replaceFullPath must be specified when type is set to 'ReplaceFullPath'",
        );
    }
    if p.replace_full_path.is_some() && !p.full {
        push(
            out,
            format!("{at}.type"),
            "type must be 'ReplaceFullPath' when replaceFullPath is set",
        );
    }
    if p.prefix && p.replace_prefix_match.is_none() {
        push(
            out,
            at,
            "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'",
        );
    }
    if p.replace_prefix_match.is_some() && !p.prefix {
        push(
            out,
            format!("{at}.type"),
            "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set",
        );
    }
}

/// `cors` (experimental).
pub fn cors(c: &gw::HttpRouteRulesFiltersCors, at: &str, out: &mut Vec<Violation>) {
    let origins = c.allow_origins.as_deref().unwrap_or_default();
    let oat = format!("{at}.allowOrigins");
    max_items(out, &oat, origins, 64);
    let origin = Str {
        min: 1,
        max: 253,
        pattern: Some(&CORS_ORIGIN_RE),
    };
    for (i, o) in origins.iter().enumerate() {
        string(out, &format!("{oat}[{i}]"), o, &origin);
    }
    unique(out, &oat, origins.iter().map(String::as_str));
    if origins.len() > 1 && origins.iter().any(|o| o == "*") {
        push(
            out,
            oat,
            "AllowOrigins cannot contain '*' alongside other origins",
        );
    }
    let methods = c.allow_methods.as_deref().unwrap_or_default();
    let mat = format!("{at}.allowMethods");
    max_items(out, &mat, methods, 9);
    let allowed = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "*",
    ];
    for (i, m) in methods.iter().enumerate() {
        one_of(out, &format!("{mat}[{i}]"), m, &allowed);
    }
    unique(out, &mat, methods.iter().map(String::as_str));
    if methods.len() > 1 && methods.iter().any(|m| m == "*") {
        push(
            out,
            mat,
            "AllowMethods cannot contain '*' alongside other methods",
        );
    }
    for (field, headers) in [
        ("allowHeaders", &c.allow_headers),
        ("exposeHeaders", &c.expose_headers),
    ] {
        let headers = headers.as_deref().unwrap_or_default();
        let hat = format!("{at}.{field}");
        max_items(out, &hat, headers, 64);
        for (i, h) in headers.iter().enumerate() {
            string(out, &format!("{hat}[{i}]"), h, &HEADER_NAME);
        }
        unique(out, &hat, headers.iter().map(String::as_str));
    }
    if let Some(age) = c.max_age {
        range(out, &format!("{at}.maxAge"), age.into(), 1, i64::MAX);
    }
}

/// `externalAuth` (experimental).
pub fn external_auth(
    a: &gw::HttpRouteRulesFiltersExternalAuth,
    at: &str,
    out: &mut Vec<Violation>,
) {
    use gw::HttpRouteRulesFiltersExternalAuthProtocol as Protocol;
    let grpc = a.protocol == Protocol::Grpc;
    let http = a.protocol == Protocol::Http;
    if grpc && a.grpc.is_none() {
        push(
            out,
            at,
            "grpc must be specified when protocol is set to 'GRPC'",
        );
    }
    if a.grpc.is_some() && !grpc {
        push(
            out,
            format!("{at}.protocol"),
            "protocol must be 'GRPC' when grpc is set",
        );
    }
    if http && a.http.is_none() {
        push(
            out,
            at,
            "http must be specified when protocol is set to 'HTTP'",
        );
    }
    if a.http.is_some() && !http {
        push(
            out,
            format!("{at}.protocol"),
            "protocol must be 'HTTP' when http is set",
        );
    }
    let b = &a.backend_ref;
    let r = Ref {
        group: b.group.as_deref(),
        kind: b.kind.as_deref(),
        name: &b.name,
        namespace: b.namespace.as_deref(),
        port: b.port,
    };
    backend_ref(out, &format!("{at}.backendRef"), r);
    let header_sets: [(&str, &Option<Vec<String>>); 3] = [
        (
            "grpc.allowedHeaders",
            a.grpc.as_ref().map_or(&None, |g| &g.allowed_headers),
        ),
        (
            "http.allowedHeaders",
            a.http.as_ref().map_or(&None, |h| &h.allowed_headers),
        ),
        (
            "http.allowedResponseHeaders",
            a.http
                .as_ref()
                .map_or(&None, |h| &h.allowed_response_headers),
        ),
    ];
    for (field, headers) in header_sets {
        let headers = headers.as_deref().unwrap_or_default();
        let hat = format!("{at}.{field}");
        max_items(out, &hat, headers, 64);
        unique(out, &hat, headers.iter().map(String::as_str));
    }
    if let Some(path) = a.http.as_ref().and_then(|h| h.path.as_deref()) {
        let bounds = Str {
            min: 0,
            max: 1024,
            pattern: Some(&PATH_CHARS_RE),
        };
        string(out, &format!("{at}.http.path"), path, &bounds);
    }
    if let Some(size) = a.forward_body.as_ref().and_then(|f| f.max_size) {
        // `maxSize` is a uint16.
        range(out, &format!("{at}.forwardBody.maxSize"), size, 0, 65535);
    }
}
