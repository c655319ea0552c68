//! HTTPRoute filter admission: each filter's type/field consistency and bounds, the CEL rules
//! of a filter list (in a rule or a backendRef), and the rule-level CEL rules that tie filters
//! to backendRefs and matches.

use super::common::{max_items, push, reference, Ref};
use super::filter_kinds as kinds;
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

/// The rule's filter list, then the rule-level CEL rules about filters. `single_prefix` is
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
        replace_prefix_rule(filters, &format!("{at}.filters"), "When using", out);
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
    // A backendRef whose filters would not convert (they always do) is skipped whole, so
    // that reported indexes stay those of the manifest.
    let converted: Vec<Vec<gw::HttpRouteRulesFilters>> = refs
        .iter()
        .map(|b| {
            let filters = b.filters.iter().flatten().map(from_backend);
            filters.collect::<Option<Vec<_>>>().unwrap_or_default()
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
        kinds::request_headers(m, &format!("{at}.requestHeaderModifier"), out);
    }
    if let Some(m) = &f.response_header_modifier {
        kinds::response_headers(m, &format!("{at}.responseHeaderModifier"), out);
    }
    if let Some(m) = &f.request_mirror {
        kinds::mirror(m, &format!("{at}.requestMirror"), out);
    }
    if let Some(r) = &f.request_redirect {
        kinds::redirect(r, &format!("{at}.requestRedirect"), out);
    }
    if let Some(r) = &f.url_rewrite {
        kinds::rewrite(r, &format!("{at}.urlRewrite"), out);
    }
    if let Some(c) = &f.cors {
        kinds::cors(c, &format!("{at}.cors"), out);
    }
    if let Some(a) = &f.external_auth {
        kinds::external_auth(a, &format!("{at}.externalAuth"), out);
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
