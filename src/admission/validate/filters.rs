//! HTTPRoute filter admission: each filter's type/field consistency and bounds, the CEL rules
//! of a filter list (in a rule or a backendRef), and the rule-level CEL rules that tie filters
//! to backendRefs and matches.

use super::common::{
    backend_ref, max_items, max_len, one_of, port, push, range, reference, string, unique, Ref,
    Str, CORS_ORIGIN_RE, HEADER_NAME, HEADER_VALUE, PATH_CHARS_RE, PRECISE_HOSTNAME,
};
use crate::admission::Violation;
use crate::model::gw;
use gw::HttpRouteRulesFiltersType as Type;
use std::collections::BTreeSet;

/// The name a filter type is written with.
fn type_name(t: &Type) -> &'static str {
    match t {
        Type::RequestHeaderModifier => "RequestHeaderModifier",
        Type::ResponseHeaderModifier => "ResponseHeaderModifier",
        Type::RequestMirror => "RequestMirror",
        Type::RequestRedirect => "RequestRedirect",
        Type::UrlRewrite => "URLRewrite",
        Type::ExtensionRef => "ExtensionRef",
        Type::Cors => "CORS",
        Type::ExternalAuth => "ExternalAuth",
    }
}

/// A backendRef's filters have the rule filters' schema field for field (both are generated
/// from `HTTPRouteFilter`), so they are converted and checked by the same code.
pub fn from_backend(
    filter: &gw::HttpRouteRulesBackendRefsFilters,
) -> Option<gw::HttpRouteRulesFilters> {
    serde_json::to_value(filter)
        .and_then(serde_json::from_value)
        .ok()
}

/// The rule-level CEL rules about filters, then the rule's filter list. `single_prefix` is
/// whether the rule has exactly one match and it is a PathPrefix match.
pub fn rule(rule: &gw::HttpRouteRules, at: &str, single_prefix: bool, out: &mut Vec<Violation>) {
    let filters = rule.filters.as_deref().unwrap_or_default();
    list(filters, &format!("{at}.filters"), out);
    // HTTPRouteRule: `(has(self.backendRefs) && size(self.backendRefs) > 0) ?
    // (!has(self.filters) || self.filters.all(f, !has(f.requestRedirect))) : true`.
    if rule.backend_refs.as_ref().is_some_and(|b| !b.is_empty()) {
        for (k, f) in filters.iter().enumerate() {
            if f.request_redirect.is_some() {
                let message = "RequestRedirect filter must not be used together with backendRefs";
                push(out, format!("{at}.filters[{k}].requestRedirect"), message);
            }
        }
    }
    if !single_prefix {
        let prefix = "When using";
        replace_prefix_rule(filters, &format!("{at}.filters"), prefix, out);
    }
}

/// A backendRef's filter list and, when the rule is not a single PathPrefix match, the
/// "Within backendRefs" replacePrefixMatch rules. Those CEL rules use `exists_one` over
/// backendRefs, so only a rule where exactly one backendRef uses the modifier is rejected.
pub fn backend_refs(
    rule: &gw::HttpRouteRules,
    at: &str,
    single_prefix: bool,
    out: &mut Vec<Violation>,
) {
    let refs = rule.backend_refs.as_deref().unwrap_or_default();
    let converted: Vec<Vec<gw::HttpRouteRulesFilters>> = refs
        .iter()
        .map(|b| {
            b.filters
                .iter()
                .flatten()
                .filter_map(from_backend)
                .collect()
        })
        .collect();
    for (k, filters) in converted.iter().enumerate() {
        list(filters, &format!("{at}.backendRefs[{k}].filters"), out);
    }
    if single_prefix {
        return;
    }
    for kind in [PrefixUse::Redirect, PrefixUse::Rewrite] {
        let users: Vec<usize> = (0..converted.len())
            .filter(|&k| prefix_users(&converted[k], kind).len() == 1)
            .collect();
        if let [k] = users[..] {
            let filters_at = format!("{at}.backendRefs[{k}].filters");
            for i in prefix_users(&converted[k], kind) {
                push(
                    out,
                    kind.field(&filters_at, i),
                    kind.message(
                        "Within backendRefs, when using",
                        "Within backendRefs, When using",
                    ),
                );
            }
        }
    }
}

#[derive(Clone, Copy)]
enum PrefixUse {
    Redirect,
    Rewrite,
}

impl PrefixUse {
    fn field(self, filters_at: &str, i: usize) -> String {
        let filter = match self {
            PrefixUse::Redirect => "requestRedirect",
            PrefixUse::Rewrite => "urlRewrite",
        };
        format!("{filters_at}[{i}].{filter}.path.replacePrefixMatch")
    }

    /// The CRD's messages differ in one capital letter between redirect and rewrite.
    fn message(self, redirect_lead: &str, rewrite_lead: &str) -> String {
        match self {
            PrefixUse::Redirect => format!(
                "{redirect_lead} RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified"
            ),
            PrefixUse::Rewrite => format!(
                "{rewrite_lead} URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified"
            ),
        }
    }
}

/// Indexes of the filters whose redirect (or rewrite) path is a ReplacePrefixMatch with a value.
fn prefix_users(filters: &[gw::HttpRouteRulesFilters], kind: PrefixUse) -> Vec<usize> {
    use gw::HttpRouteRulesFiltersRequestRedirectPathType as RedirectPath;
    use gw::HttpRouteRulesFiltersUrlRewritePathType as RewritePath;
    let uses = |f: &gw::HttpRouteRulesFilters| match kind {
        PrefixUse::Redirect => f
            .request_redirect
            .as_ref()
            .and_then(|r| r.path.as_ref())
            .is_some_and(|p| {
                p.r#type == RedirectPath::ReplacePrefixMatch && p.replace_prefix_match.is_some()
            }),
        PrefixUse::Rewrite => f
            .url_rewrite
            .as_ref()
            .and_then(|r| r.path.as_ref())
            .is_some_and(|p| {
                p.r#type == RewritePath::ReplacePrefixMatch && p.replace_prefix_match.is_some()
            }),
    };
    filters
        .iter()
        .enumerate()
        .filter(|(_, f)| uses(f))
        .map(|(i, _)| i)
        .collect()
}

/// HTTPRouteRule: `self.filters.exists_one(f, <uses replacePrefixMatch>) ? <one PathPrefix
/// match> : true`, for redirect and for rewrite.
fn replace_prefix_rule(
    filters: &[gw::HttpRouteRulesFilters],
    at: &str,
    lead: &str,
    out: &mut Vec<Violation>,
) {
    for kind in [PrefixUse::Redirect, PrefixUse::Rewrite] {
        if let [i] = prefix_users(filters, kind)[..] {
            push(out, kind.field(at, i), kind.message(lead, lead));
        }
    }
}

/// A filter list's bounds and CEL rules, then each filter.
fn list(filters: &[gw::HttpRouteRulesFilters], at: &str, out: &mut Vec<Violation>) {
    max_items(out, at, filters, 16);
    let has = |t: Type| filters.iter().any(|f| f.r#type == t);
    if has(Type::RequestRedirect) && has(Type::UrlRewrite) {
        push(
            out,
            at,
            "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both",
        );
    }
    // The CRD forbids repeating these four; CORS is not marked repeatable either ("Specifying
    // the same filter multiple times is not supported unless explicitly indicated"), so it
    // gets the same rule. RequestMirror and ExtensionRef may repeat.
    let single = [
        Type::RequestHeaderModifier,
        Type::ResponseHeaderModifier,
        Type::RequestRedirect,
        Type::UrlRewrite,
        Type::Cors,
    ];
    let mut seen = BTreeSet::new();
    for (k, f) in filters.iter().enumerate() {
        let name = type_name(&f.r#type);
        if single.contains(&f.r#type) && !seen.insert(name) {
            push(
                out,
                format!("{at}[{k}].type"),
                format!("{name} filter cannot be repeated"),
            );
        }
        filter(f, &format!("{at}[{k}]"), out);
    }
}

fn filter(f: &gw::HttpRouteRulesFilters, at: &str, out: &mut Vec<Violation>) {
    let ty = type_name(&f.r#type);
    let fields = [
        (
            "requestHeaderModifier",
            "RequestHeaderModifier",
            f.request_header_modifier.is_some(),
        ),
        (
            "responseHeaderModifier",
            "ResponseHeaderModifier",
            f.response_header_modifier.is_some(),
        ),
        ("requestMirror", "RequestMirror", f.request_mirror.is_some()),
        (
            "requestRedirect",
            "RequestRedirect",
            f.request_redirect.is_some(),
        ),
        ("urlRewrite", "URLRewrite", f.url_rewrite.is_some()),
        ("cors", "CORS", f.cors.is_some()),
        ("externalAuth", "ExternalAuth", f.external_auth.is_some()),
        ("extensionRef", "ExtensionRef", f.extension_ref.is_some()),
    ];
    for (field, owner, present) in fields {
        if present && ty != owner {
            push(
                out,
                format!("{at}.{field}"),
                format!("filter.{field} must be nil if the filter.type is not {owner}"),
            );
        } else if !present && ty == owner {
            push(
                out,
                format!("{at}.type"),
                format!("filter.{field} must be specified for {owner} filter.type"),
            );
        }
    }
    if let Some(m) = &f.request_header_modifier {
        let set = m
            .set
            .iter()
            .flatten()
            .map(|h| (h.name.as_str(), h.value.as_str()))
            .collect();
        let add = m
            .add
            .iter()
            .flatten()
            .map(|h| (h.name.as_str(), h.value.as_str()))
            .collect();
        let remove = m.remove.as_deref().unwrap_or_default();
        header_modifier(
            set,
            add,
            remove,
            &format!("{at}.requestHeaderModifier"),
            out,
        );
    }
    if let Some(m) = &f.response_header_modifier {
        let set = m
            .set
            .iter()
            .flatten()
            .map(|h| (h.name.as_str(), h.value.as_str()))
            .collect();
        let add = m
            .add
            .iter()
            .flatten()
            .map(|h| (h.name.as_str(), h.value.as_str()))
            .collect();
        let remove = m.remove.as_deref().unwrap_or_default();
        header_modifier(
            set,
            add,
            remove,
            &format!("{at}.responseHeaderModifier"),
            out,
        );
    }
    if let Some(m) = &f.request_mirror {
        mirror(m, &format!("{at}.requestMirror"), out);
    }
    if let Some(r) = &f.request_redirect {
        redirect(r, &format!("{at}.requestRedirect"), out);
    }
    if let Some(r) = &f.url_rewrite {
        let at = format!("{at}.urlRewrite");
        if let Some(h) = &r.hostname {
            string(out, &format!("{at}.hostname"), h, &PRECISE_HOSTNAME);
        }
        if let Some(p) = &r.path {
            use gw::HttpRouteRulesFiltersUrlRewritePathType as P;
            let modifier = PathModifier {
                full: p.r#type == P::ReplaceFullPath,
                prefix: p.r#type == P::ReplacePrefixMatch,
                replace_full_path: p.replace_full_path.as_deref(),
                replace_prefix_match: p.replace_prefix_match.as_deref(),
            };
            path_modifier(&modifier, &format!("{at}.path"), out);
        }
    }
    if let Some(c) = &f.cors {
        cors(c, &format!("{at}.cors"), out);
    }
    if let Some(a) = &f.external_auth {
        external_auth(a, &format!("{at}.externalAuth"), out);
    }
    if let Some(e) = &f.extension_ref {
        let r = Ref {
            group: Some(&e.group),
            kind: Some(&e.kind),
            name: &e.name,
            ..Ref::default()
        };
        reference(out, &format!("{at}.extensionRef"), r);
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

fn mirror(m: &gw::HttpRouteRulesFiltersRequestMirror, at: &str, out: &mut Vec<Violation>) {
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

fn redirect(r: &gw::HttpRouteRulesFiltersRequestRedirect, at: &str, out: &mut Vec<Violation>) {
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

fn cors(c: &gw::HttpRouteRulesFiltersCors, at: &str, out: &mut Vec<Violation>) {
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

fn external_auth(a: &gw::HttpRouteRulesFiltersExternalAuth, at: &str, out: &mut Vec<Violation>) {
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
