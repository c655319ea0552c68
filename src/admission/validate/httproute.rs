//! HTTPRoute admission: hostnames, parentRefs, rules, matches, backendRefs, timeouts, retry
//! and session persistence, per `gateway.networking.k8s.io_httproutes.yaml`. Filters are
//! checked in [`super::filters`].

use super::common::{
    backend_ref, duration, duration_ms, max_items, max_len, min_items, port, push, range,
    reference, string, Ref, HEADER_NAME, HEADER_VALUE, HOSTNAME, PATH_CHARS_RE, SECTION_NAME,
};
use super::filters;
use crate::admission::Violation;
use crate::model::gw;
use std::collections::BTreeSet;

/// Every violation of an HTTPRoute spec.
pub fn check(spec: &gw::HttpRouteSpec, out: &mut Vec<Violation>) {
    let hostnames = spec.hostnames.as_deref().unwrap_or_default();
    max_items(out, "spec.hostnames", hostnames, 16);
    for (i, h) in hostnames.iter().enumerate() {
        string(out, &format!("spec.hostnames[{i}]"), h, &HOSTNAME);
    }
    parent_refs(spec.parent_refs.as_deref().unwrap_or_default(), out);
    if let Some(rules) = &spec.rules {
        self::rules(rules, out);
    }
}

/// The parts of a parentRef the experimental CEL rules compare.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Parent<'a> {
    group: Option<&'a str>,
    kind: Option<&'a str>,
    name: &'a str,
    namespace: Option<&'a str>,
}

/// Unset and "" are the same to the CEL rules (and so are an unset port and 0).
fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

fn parent(p: &gw::HttpRouteParentRefs) -> Parent<'_> {
    Parent {
        group: p.group.as_deref(),
        kind: p.kind.as_deref(),
        name: &p.name,
        namespace: non_empty(&p.namespace),
    }
}

fn section(p: &gw::HttpRouteParentRefs) -> Option<&str> {
    non_empty(&p.section_name)
}

fn port_of(p: &gw::HttpRouteParentRefs) -> Option<i32> {
    p.port.filter(|&n| n != 0)
}

fn parent_refs(refs: &[gw::HttpRouteParentRefs], out: &mut Vec<Violation>) {
    max_items(out, "spec.parentRefs", refs, 32);
    for (j, p) in refs.iter().enumerate() {
        let at = format!("spec.parentRefs[{j}]");
        let r = Ref {
            group: p.group.as_deref(),
            kind: p.kind.as_deref(),
            name: &p.name,
            namespace: p.namespace.as_deref(),
            port: None,
        };
        reference(out, &at, r);
        if let Some(s) = &p.section_name {
            string(out, &format!("{at}.sectionName"), s, &SECTION_NAME);
        }
        if let Some(n) = p.port {
            port(out, &format!("{at}.port"), n);
        }
        let earlier = &refs[..j];
        let same: Vec<_> = earlier.iter().filter(|q| parent(q) == parent(p)).collect();
        // CommonRouteSpec (experimental): references to one parent must all set, or all
        // leave unset, each of sectionName and port...
        let mixed = same.iter().any(|q| {
            section(q).is_some() != section(p).is_some()
                || port_of(q).is_some() != port_of(p).is_some()
        });
        if mixed {
            let message = "sectionName or port must be specified when parentRefs includes 2 or more references to the same parent";
            push(out, at.as_str(), message);
        // ...and no two may set them to the same values.
        } else if same
            .iter()
            .any(|q| section(q) == section(p) && port_of(q) == port_of(p))
        {
            let message = "sectionName or port must be unique when parentRefs includes 2 or more references to the same parent";
            push(out, at.as_str(), message);
        }
    }
}

fn rules(rules: &[gw::HttpRouteRules], out: &mut Vec<Violation>) {
    min_items(out, "spec.rules", rules, 1);
    max_items(out, "spec.rules", rules, 16);
    let total: usize = rules
        .iter()
        .take(16)
        .map(|r| r.matches.as_ref().map_or(0, Vec::len))
        .sum();
    if total > 128 {
        let message = "While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128";
        push(out, "spec.rules", message);
    }
    let mut names = BTreeSet::new();
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("spec.rules[{i}]");
        if let Some(name) = &rule.name {
            string(out, &format!("{at}.name"), name, &SECTION_NAME);
            if !names.insert(name.as_str()) {
                push(
                    out,
                    format!("{at}.name"),
                    "Rule name must be unique within the route",
                );
            }
        }
        let matches = rule.matches.as_deref().unwrap_or_default();
        self::matches(matches, &at, out);
        let single_prefix = matches!(matches, [m] if m.path.as_ref().is_some_and(|p| {
            p.r#type == Some(gw::HttpRouteRulesMatchesPathType::PathPrefix)
        }));
        filters::rule(rule, &at, single_prefix, out);
        backend_refs(rule, &at, out);
        filters::backend_refs(rule, &at, single_prefix, out);
        if let Some(t) = &rule.timeouts {
            timeouts(t, &format!("{at}.timeouts"), out);
        }
        if let Some(r) = &rule.retry {
            let at = format!("{at}.retry");
            for (c, code) in r.codes.iter().flatten().enumerate() {
                range(out, &format!("{at}.codes[{c}]"), *code, 400, 599);
            }
            if let Some(b) = &r.backoff {
                duration(out, &format!("{at}.backoff"), b);
            }
        }
        if let Some(s) = &rule.session_persistence {
            session_persistence(s, &format!("{at}.sessionPersistence"), out);
        }
    }
}

fn matches(matches: &[gw::HttpRouteRulesMatches], rule_at: &str, out: &mut Vec<Violation>) {
    max_items(out, &format!("{rule_at}.matches"), matches, 64);
    for (j, m) in matches.iter().enumerate() {
        let at = format!("{rule_at}.matches[{j}]");
        if let Some(p) = &m.path {
            path_match(p, &format!("{at}.path"), out);
        }
        let headers = m.headers.as_deref().unwrap_or_default();
        max_items(out, &format!("{at}.headers"), headers, 16);
        let mut seen = BTreeSet::new();
        for (k, h) in headers.iter().enumerate() {
            let hat = format!("{at}.headers[{k}]");
            string(out, &format!("{hat}.name"), &h.name, &HEADER_NAME);
            string(out, &format!("{hat}.value"), &h.value, &HEADER_VALUE);
            // Header names are case-insensitive, so `Foo` and `foo` are one match key.
            if !seen.insert(h.name.to_ascii_lowercase()) {
                let message = "cannot match the same header multiple times in the same rule";
                push(out, format!("{hat}.name"), message);
            }
        }
        let params = m.query_params.as_deref().unwrap_or_default();
        max_items(out, &format!("{at}.queryParams"), params, 16);
        let mut seen = BTreeSet::new();
        for (k, q) in params.iter().enumerate() {
            let qat = format!("{at}.queryParams[{k}]");
            string(out, &format!("{qat}.name"), &q.name, &HEADER_NAME);
            let value = super::common::Str {
                min: 1,
                max: 1024,
                pattern: None,
            };
            string(out, &format!("{qat}.value"), &q.value, &value);
            // Query parameter names are case-sensitive (listMapKey=name).
            if !seen.insert(q.name.as_str()) {
                let message =
                    "cannot match the same query parameter multiple times in the same rule";
                push(out, format!("{qat}.name"), message);
            }
        }
    }
}

/// `HTTPPathMatch`: its CEL rules apply to Exact and PathPrefix values only.
fn path_match(p: &gw::HttpRouteRulesMatchesPath, at: &str, out: &mut Vec<Violation>) {
    use gw::HttpRouteRulesMatchesPathType as T;
    let value = p.value.as_deref().unwrap_or("/");
    let vat = format!("{at}.value");
    max_len(out, &vat, value, 1024);
    if !matches!(p.r#type, None | Some(T::Exact | T::PathPrefix)) {
        return;
    }
    let when = "when type one of ['Exact', 'PathPrefix']";
    if !value.starts_with('/') {
        push(
            out,
            vat.as_str(),
            format!("value must be an absolute path and start with '/' {when}"),
        );
    }
    for sequence in ["//", "/./", "/../", "%2f", "%2F", "#"] {
        if value.contains(sequence) {
            push(
                out,
                vat.as_str(),
                format!("must not contain '{sequence}' {when}"),
            );
        }
    }
    for suffix in ["/..", "/."] {
        if value.ends_with(suffix) {
            push(
                out,
                vat.as_str(),
                format!("must not end with '{suffix}' {when}"),
            );
        }
    }
    if !PATH_CHARS_RE.is_match(value) {
        let pattern = PATH_CHARS_RE.source();
        let message = format!("must only contain valid characters (matching {pattern}) for types ['Exact', 'PathPrefix']");
        push(out, vat, message);
    }
}

fn backend_refs(rule: &gw::HttpRouteRules, rule_at: &str, out: &mut Vec<Violation>) {
    let refs = rule.backend_refs.as_deref().unwrap_or_default();
    max_items(out, &format!("{rule_at}.backendRefs"), refs, 16);
    for (k, b) in refs.iter().enumerate() {
        let at = format!("{rule_at}.backendRefs[{k}]");
        let r = Ref {
            group: b.group.as_deref(),
            kind: b.kind.as_deref(),
            name: &b.name,
            namespace: b.namespace.as_deref(),
            port: b.port,
        };
        backend_ref(out, &at, r);
        if let Some(w) = b.weight {
            range(out, &format!("{at}.weight"), w.into(), 0, 1_000_000);
        }
    }
}

fn timeouts(t: &gw::HttpRouteRulesTimeouts, at: &str, out: &mut Vec<Violation>) {
    if let Some(r) = &t.request {
        duration(out, &format!("{at}.request"), r);
    }
    if let Some(b) = &t.backend_request {
        duration(out, &format!("{at}.backendRequest"), b);
    }
    // HTTPRouteTimeouts: `!(has(self.request) && has(self.backendRequest) &&
    // duration(self.request) != duration('0s') && duration(self.backendRequest) > duration(self.request))`.
    let request = t.request.as_deref().and_then(duration_ms);
    let backend = t.backend_request.as_deref().and_then(duration_ms);
    if let (Some(request), Some(backend)) = (request, backend) {
        if request != 0 && backend > request {
            let message = "backendRequest timeout cannot be longer than request timeout";
            push(out, format!("{at}.backendRequest"), message);
        }
    }
}

fn session_persistence(
    s: &gw::HttpRouteRulesSessionPersistence,
    at: &str,
    out: &mut Vec<Violation>,
) {
    use gw::HttpRouteRulesSessionPersistenceCookieConfigLifetimeType as Lifetime;
    use gw::HttpRouteRulesSessionPersistenceType as Type;
    if let Some(name) = &s.session_name {
        max_len(out, &format!("{at}.sessionName"), name, 128);
    }
    if let Some(d) = &s.absolute_timeout {
        duration(out, &format!("{at}.absoluteTimeout"), d);
    }
    if let Some(d) = &s.idle_timeout {
        duration(out, &format!("{at}.idleTimeout"), d);
    }
    let permanent = s
        .cookie_config
        .as_ref()
        .and_then(|c| c.lifetime_type.as_ref())
        == Some(&Lifetime::Permanent);
    if permanent && s.absolute_timeout.is_none() {
        push(
            out,
            at,
            "AbsoluteTimeout must be specified when cookie lifetimeType is Permanent",
        );
    }
    if s.cookie_config.is_some() && s.r#type.as_ref().is_some_and(|t| *t != Type::Cookie) {
        push(
            out,
            format!("{at}.cookieConfig"),
            "cookieConfig can only be set with type Cookie",
        );
    }
}
