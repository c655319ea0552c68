//! HTTPRoute rules outside filters: hostnames, parentRefs, rules, matches, backendRefs,
//! timeouts, retry and session persistence.

use super::{assert_admitted, assert_violation, route};

#[test]
fn hostnames_are_bounded_wildcard_hostnames() {
    let v = route("hostnames: [Example.com, '*.example.com', 'a.*.com', '', 192.0.2.1]");
    assert_violation(&v, "spec.hostnames[0]", "should match '^(\\*\\.)?[a-z0-9]");
    assert_violation(&v, "spec.hostnames[2]", "should match");
    assert_violation(&v, "spec.hostnames[3]", "should be at least 1 chars long");
    // The pattern admits dotted digits: the CRD forbids IPs in prose only.
    assert_eq!(v.len(), 3, "{v:#?}");
    let many: String = (0..17).map(|i| format!("h{i}.example.com, ")).collect();
    let v = route(&format!("hostnames: [{many}]"));
    assert_violation(
        &v,
        "spec.hostnames",
        "Too many: 17: must have at most 16 items",
    );
}

#[test]
fn parent_refs_are_bounded_references() {
    let v = route(
        "
        parentRefs:
        - {name: '', namespace: Infra}
        - {name: gw, sectionName: Http, port: 0}
        - {name: gw2, kind: 'Gate way', group: Example.com}
        ",
    );
    assert_violation(
        &v,
        "spec.parentRefs[0].name",
        "should be at least 1 chars long",
    );
    assert_violation(&v, "spec.parentRefs[0].namespace", "should match");
    assert_violation(&v, "spec.parentRefs[1].sectionName", "should match");
    assert_violation(
        &v,
        "spec.parentRefs[1].port",
        "should be greater than or equal to 1",
    );
    assert_violation(&v, "spec.parentRefs[2].kind", "should match");
    assert_violation(&v, "spec.parentRefs[2].group", "should match");
    let many = "{name: gw}, ".repeat(33);
    let v = route(&format!("parentRefs: [{many}]"));
    assert_violation(&v, "spec.parentRefs", "must have at most 32 items");
}

#[test]
fn repeated_parents_need_distinct_sections_or_ports() {
    let v = route("parentRefs: [{name: gw}, {name: gw, sectionName: http}]");
    let specified = "sectionName or port must be specified when parentRefs includes 2 or more references to the same parent";
    assert_violation(&v, "spec.parentRefs[1]", specified);
    let v = route("parentRefs: [{name: gw, sectionName: http}, {name: gw, sectionName: http}]");
    let unique = "sectionName or port must be unique when parentRefs includes 2 or more references to the same parent";
    assert_violation(&v, "spec.parentRefs[1]", unique);
    let v = route("parentRefs: [{name: gw}, {name: gw}]");
    assert_violation(&v, "spec.parentRefs[1]", unique);
    // Different namespaces, ports or sections keep references distinct.
    assert_admitted(&route(
        "
        parentRefs:
        - {name: gw, sectionName: a, port: 80}
        - {name: gw, sectionName: a, port: 81}
        - {name: gw, namespace: infra}
        - {name: gw2}
        ",
    ));
}

#[test]
fn rules_are_bounded_and_uniquely_named() {
    let v = route("rules: []");
    assert_violation(&v, "spec.rules", "should have at least 1 items");
    let v = route("rules: [{name: a}, {name: a}, {name: B}]");
    assert_violation(
        &v,
        "spec.rules[1].name",
        "Rule name must be unique within the route",
    );
    assert_violation(&v, "spec.rules[2].name", "should match");
    let v = route(&format!("rules: [{}]", "{}, ".repeat(17)));
    assert_violation(&v, "spec.rules", "Too many: 17: must have at most 16 items");
    let matches = "{path: {value: /a}}, ".repeat(65);
    let v = route(&format!("rules: [{{matches: [{matches}]}}]"));
    assert_violation(
        &v,
        "spec.rules[0].matches",
        "Too many: 65: must have at most 64 items",
    );
    let rule = format!("{{matches: [{}]}}, ", "{path: {value: /a}}, ".repeat(60));
    let v = route(&format!("rules: [{}]", rule.repeat(3)));
    let total = "the total number of matches across all rules in a route must be less than 128";
    assert_violation(&v, "spec.rules", total);
}

#[test]
fn path_values_are_clean_absolute_paths() {
    let cases = [
        ("foo", "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"),
        ("/a//b", "must not contain '//' when type one of ['Exact', 'PathPrefix']"),
        ("/a/./b", "must not contain '/./'"),
        ("/a/../b", "must not contain '/../'"),
        ("/a%2fb", "must not contain '%2f'"),
        ("/a%2Fb", "must not contain '%2F'"),
        ("/a#b", "must not contain '#'"),
        ("/a/..", "must not end with '/..'"),
        ("/a/.", "must not end with '/.'"),
        ("/a b", "must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']"),
        ("/%zz", "must only contain valid characters"),
    ];
    for (value, message) in cases {
        for ty in ["Exact", "PathPrefix"] {
            let v = route(&format!(
                "rules: [{{matches: [{{path: {{type: {ty}, value: '{value}'}}}}]}}]"
            ));
            assert_violation(&v, "spec.rules[0].matches[0].path.value", message);
        }
    }
    // Regular expressions are implementation-specific and not checked.
    assert_admitted(&route(
        "rules: [{matches: [{path: {type: RegularExpression, value: '^/a//b$'}}]}]",
    ));
    let long = format!("/{}", "a".repeat(1024));
    let v = route(&format!(
        "rules: [{{matches: [{{path: {{value: '{long}'}}}}]}}]"
    ));
    assert_violation(
        &v,
        "spec.rules[0].matches[0].path.value",
        "may not be more than 1024",
    );
}

#[test]
fn header_and_query_matches_are_unique_and_well_formed() {
    let v = route(
        "
        rules:
        - matches:
          - headers:
            - {name: X-Env, value: prod}
            - {name: x-env, value: dev}
            - {name: 'Bad:Name', value: x}
            - {name: X-Spaces, value: 'two  spaces'}
            queryParams:
            - {name: q, value: a}
            - {name: Q, value: b}
            - {name: q, value: c}
            - {name: r, value: ''}
        ",
    );
    let at = "spec.rules[0].matches[0]";
    assert_violation(
        &v,
        &format!("{at}.headers[1].name"),
        "cannot match the same header multiple times in the same rule",
    );
    assert_violation(
        &v,
        &format!("{at}.headers[2].name"),
        "should match '^[A-Za-z0-9!#$%&'*+\\-.^_\\x60|~]+$'",
    );
    assert_violation(&v, &format!("{at}.headers[3].value"), "should match");
    assert_violation(
        &v,
        &format!("{at}.queryParams[2].name"),
        "cannot match the same query parameter multiple times",
    );
    assert_violation(
        &v,
        &format!("{at}.queryParams[3].value"),
        "should be at least 1 chars long",
    );
    assert_eq!(v.len(), 5, "{v:#?}");
}

#[test]
fn backend_refs_are_bounded_and_services_have_ports() {
    let v = route(
        "
        rules:
        - backendRefs:
          - {name: a}
          - {name: b, port: 80, weight: 1000001}
          - {name: c, port: 80, weight: -1}
          - {name: d, kind: ServiceImport, group: multicluster.x-k8s.io}
          - {name: e, port: 70000, namespace: Other_ns}
        ",
    );
    let at = "spec.rules[0].backendRefs";
    assert_violation(
        &v,
        &format!("{at}[0]"),
        "Must have port for Service reference",
    );
    assert_violation(
        &v,
        &format!("{at}[1].weight"),
        "should be less than or equal to 1000000",
    );
    assert_violation(
        &v,
        &format!("{at}[2].weight"),
        "should be greater than or equal to 0",
    );
    assert_violation(
        &v,
        &format!("{at}[4].port"),
        "should be less than or equal to 65535",
    );
    assert_violation(&v, &format!("{at}[4].namespace"), "should match");
    assert_eq!(v.len(), 5, "{v:#?}");
    let many = "{name: a, port: 80}, ".repeat(17);
    let v = route(&format!("rules: [{{backendRefs: [{many}]}}]"));
    assert_violation(&v, at, "must have at most 16 items");
}

#[test]
fn timeouts_are_durations_with_backend_within_request() {
    let v = route("rules: [{timeouts: {request: 1.5s, backendRequest: 10}}]");
    let pattern = "should match '^([0-9]{1,5}(h|m|s|ms)){1,4}$'";
    assert_violation(&v, "spec.rules[0].timeouts.request", pattern);
    assert_violation(&v, "spec.rules[0].timeouts.backendRequest", pattern);
    let v = route("rules: [{timeouts: {request: 1s, backendRequest: 1s1ms}}]");
    let message = "backendRequest timeout cannot be longer than request timeout";
    assert_violation(&v, "spec.rules[0].timeouts.backendRequest", message);
    // A zero request timeout disables it, so any backend timeout fits.
    assert_admitted(&route(
        "rules: [{timeouts: {request: 0s, backendRequest: 1h}}]",
    ));
    assert_admitted(&route(
        "rules: [{timeouts: {request: 1m, backendRequest: 60s}}]",
    ));
}

#[test]
fn retry_and_session_persistence_follow_their_rules() {
    let v = route(
        "
        rules:
        - retry: {codes: [500, 399, 600], backoff: 100 ms}
          sessionPersistence:
            type: Header
            sessionName: s
            cookieConfig: {lifetimeType: Permanent}
        ",
    );
    let at = "spec.rules[0]";
    assert_violation(
        &v,
        &format!("{at}.retry.codes[1]"),
        "should be greater than or equal to 400",
    );
    assert_violation(
        &v,
        &format!("{at}.retry.codes[2]"),
        "should be less than or equal to 599",
    );
    assert_violation(&v, &format!("{at}.retry.backoff"), "should match");
    let session = format!("{at}.sessionPersistence");
    assert_violation(
        &v,
        &session,
        "AbsoluteTimeout must be specified when cookie lifetimeType is Permanent",
    );
    assert_violation(
        &v,
        &format!("{session}.cookieConfig"),
        "cookieConfig can only be set with type Cookie",
    );
}
