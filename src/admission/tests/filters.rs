//! HTTPRoute filter rules: type/field consistency, list rules, rule-level rules, and the
//! fields of each filter kind, in rules and in backendRefs.

use super::{assert_admitted, assert_violation, route};

/// A route whose only rule has these filters (a YAML flow list).
fn with_filters(filters: &str) -> Vec<crate::admission::Violation> {
    route(&format!("rules: [{{filters: [{filters}]}}]"))
}

#[test]
fn each_filter_type_sets_exactly_its_field() {
    let v = with_filters(
        "{type: RequestHeaderModifier, responseHeaderModifier: {remove: [x]}},
         {type: URLRewrite}, {type: ExtensionRef}, {type: CORS, cors: {}, urlRewrite: {}}",
    );
    let at = "spec.rules[0].filters";
    let nil = "filter.responseHeaderModifier must be nil if the filter.type is not ResponseHeaderModifier";
    assert_violation(&v, &format!("{at}[0].responseHeaderModifier"), nil);
    let specified =
        "filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type";
    assert_violation(&v, &format!("{at}[0].type"), specified);
    assert_violation(
        &v,
        &format!("{at}[1].type"),
        "filter.urlRewrite must be specified for URLRewrite filter.type",
    );
    assert_violation(
        &v,
        &format!("{at}[2].type"),
        "filter.extensionRef must be specified for ExtensionRef filter.type",
    );
    assert_violation(
        &v,
        &format!("{at}[3].urlRewrite"),
        "filter.urlRewrite must be nil if the filter.type is not URLRewrite",
    );
    assert_eq!(v.len(), 5, "{v:#?}");
}

#[test]
fn filter_lists_limit_combinations_and_repeats() {
    let v = with_filters(
        "{type: RequestRedirect, requestRedirect: {}}, {type: URLRewrite, urlRewrite: {}},
         {type: RequestHeaderModifier, requestHeaderModifier: {}},
         {type: RequestHeaderModifier, requestHeaderModifier: {}},
         {type: CORS, cors: {}}, {type: CORS, cors: {}}",
    );
    let at = "spec.rules[0].filters";
    let both = "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both";
    assert_violation(&v, at, both);
    assert_violation(
        &v,
        &format!("{at}[3].type"),
        "RequestHeaderModifier filter cannot be repeated",
    );
    assert_violation(
        &v,
        &format!("{at}[5].type"),
        "CORS filter cannot be repeated",
    );
    // Mirrors and extension filters may repeat.
    assert_admitted(&with_filters(
        "{type: RequestMirror, requestMirror: {backendRef: {name: a, port: 80}}},
         {type: RequestMirror, requestMirror: {backendRef: {name: b, port: 80}}},
         {type: ExtensionRef, extensionRef: {group: example.com, kind: Auth, name: a}},
         {type: ExtensionRef, extensionRef: {group: example.com, kind: Auth, name: b}}",
    ));
    let many = "{type: ExtensionRef, extensionRef: {group: '', kind: K, name: n}}, ".repeat(17);
    assert_violation(&with_filters(&many), at, "must have at most 16 items");
}

#[test]
fn redirects_do_not_mix_with_backend_refs() {
    let v = route(
        "rules: [{filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}],
                  backendRefs: [{name: a, port: 80}]}]",
    );
    let message = "RequestRedirect filter must not be used together with backendRefs";
    assert_violation(&v, "spec.rules[0].filters[0].requestRedirect", message);
}

#[test]
fn replace_prefix_match_needs_one_path_prefix_match() {
    let rewrite = "{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}}";
    let redirect = "{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}}";
    let v = route(&format!(
        "rules: [{{matches: [{{path: {{type: Exact, value: /a}}}}], filters: [{rewrite}]}}]"
    ));
    let message = "When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified";
    assert_violation(
        &v,
        "spec.rules[0].filters[0].urlRewrite.path.replacePrefixMatch",
        message,
    );
    let v = route(&format!("rules: [{{matches: [{{path: {{value: /a}}}}, {{path: {{value: /c}}}}], filters: [{redirect}]}}]"));
    let message = "When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified";
    assert_violation(
        &v,
        "spec.rules[0].filters[0].requestRedirect.path.replacePrefixMatch",
        message,
    );
    let v = route(&format!(
        "rules: [{{matches: [{{path: {{type: Exact, value: /a}}}}], backendRefs: [{{name: s, port: 80, filters: [{rewrite}]}}]}}]"
    ));
    let message = "Within backendRefs, When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified";
    assert_violation(
        &v,
        "spec.rules[0].backendRefs[0].filters[0].urlRewrite.path.replacePrefixMatch",
        message,
    );
    // The defaulted match is a single PathPrefix "/".
    assert_admitted(&route(&format!("rules: [{{filters: [{rewrite}]}}]")));
}

#[test]
fn path_modifiers_match_their_type() {
    let v = with_filters(
        "{type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath, replacePrefixMatch: /x}}},
         {type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replaceFullPath: /x}}}",
    );
    let rewrite = "spec.rules[0].filters[0].urlRewrite.path";
    assert_violation(
        &v,
        rewrite,
        "replaceFullPath must be specified when type is set to 'ReplaceFullPath'",
    );
    assert_violation(
        &v,
        &format!("{rewrite}.type"),
        "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set",
    );
    let redirect = "spec.rules[0].filters[1].requestRedirect.path";
    assert_violation(
        &v,
        redirect,
        "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'",
    );
    assert_violation(
        &v,
        &format!("{redirect}.type"),
        "type must be 'ReplaceFullPath' when replaceFullPath is set",
    );
}

#[test]
fn header_modifiers_take_one_action_per_header() {
    let v = with_filters(
        "{type: RequestHeaderModifier, requestHeaderModifier: {
            set: [{name: X-A, value: '1'}, {name: x-a, value: '2'}],
            add: [{name: X-B, value: '1'}, {name: 'X B', value: '2'}],
            remove: [x-b, X-C, X-C]}}",
    );
    let at = "spec.rules[0].filters[0].requestHeaderModifier";
    let message = "cannot specify multiple actions for header";
    assert_violation(&v, &format!("{at}.set[1].name"), message);
    assert_violation(&v, &format!("{at}.remove[0]"), message);
    assert_violation(&v, &format!("{at}.remove[2]"), message);
    assert_violation(&v, &format!("{at}.add[1].name"), "should match");
    let many: String = (0..17)
        .map(|i| format!("{{name: h{i}, value: v}}, "))
        .collect();
    let v = with_filters(&format!(
        "{{type: ResponseHeaderModifier, responseHeaderModifier: {{add: [{many}]}}}}"
    ));
    assert_violation(
        &v,
        "spec.rules[0].filters[0].responseHeaderModifier.add",
        "must have at most 16 items",
    );
}

#[test]
fn redirects_have_valid_targets() {
    let v = with_filters("{type: RequestRedirect, requestRedirect: {hostname: '*.example.com', port: 0, statusCode: 304}}");
    let at = "spec.rules[0].filters[0].requestRedirect";
    assert_violation(&v, &format!("{at}.hostname"), "should match '^[a-z0-9]");
    assert_violation(
        &v,
        &format!("{at}.port"),
        "should be greater than or equal to 1",
    );
    let codes =
        "Unsupported value: 304: supported values: \"301\", \"302\", \"303\", \"307\", \"308\"";
    assert_violation(&v, &format!("{at}.statusCode"), codes);
}

#[test]
fn mirrors_take_a_percent_or_a_fraction() {
    let v = with_filters(
        "{type: RequestMirror, requestMirror: {backendRef: {name: a}, percent: 101}},
         {type: RequestMirror, requestMirror: {backendRef: {name: b, port: 80}, fraction: {numerator: 3, denominator: 2}}},
         {type: RequestMirror, requestMirror: {backendRef: {name: c, port: 80}, percent: 5, fraction: {numerator: 101}}}",
    );
    let at = "spec.rules[0].filters";
    assert_violation(
        &v,
        &format!("{at}[0].requestMirror.backendRef"),
        "Must have port for Service reference",
    );
    assert_violation(
        &v,
        &format!("{at}[0].requestMirror.percent"),
        "should be less than or equal to 100",
    );
    let fraction = "numerator must be less than or equal to denominator";
    assert_violation(&v, &format!("{at}[1].requestMirror.fraction"), fraction);
    // The denominator defaults to 100.
    assert_violation(&v, &format!("{at}[2].requestMirror.fraction"), fraction);
    let both = "Only one of percent or fraction may be specified in HTTPRequestMirrorFilter";
    assert_violation(&v, &format!("{at}[2].requestMirror"), both);
}

#[test]
fn cors_wildcards_stand_alone() {
    let v = with_filters(
        "{type: CORS, cors: {allowOrigins: ['*', 'https://a.example.com', 'ftp//x'],
          allowMethods: [GET, '*', FETCH], allowHeaders: [X-A, X-A], maxAge: 0}}",
    );
    let at = "spec.rules[0].filters[0].cors";
    assert_violation(
        &v,
        &format!("{at}.allowOrigins"),
        "AllowOrigins cannot contain '*' alongside other origins",
    );
    assert_violation(&v, &format!("{at}.allowOrigins[2]"), "should match");
    assert_violation(
        &v,
        &format!("{at}.allowMethods"),
        "AllowMethods cannot contain '*' alongside other methods",
    );
    assert_violation(
        &v,
        &format!("{at}.allowMethods[2]"),
        "Unsupported value: \"FETCH\"",
    );
    assert_violation(
        &v,
        &format!("{at}.allowHeaders[1]"),
        "Duplicate value: \"X-A\"",
    );
    assert_violation(
        &v,
        &format!("{at}.maxAge"),
        "should be greater than or equal to 1",
    );
}

#[test]
fn external_auth_protocol_matches_its_config() {
    let v = with_filters(
        "{type: ExternalAuth, externalAuth: {protocol: GRPC, http: {path: 'no spaces'}, backendRef: {name: a, port: 9000}}}",
    );
    let at = "spec.rules[0].filters[0].externalAuth";
    assert_violation(
        &v,
        at,
        "grpc must be specified when protocol is set to 'GRPC'",
    );
    assert_violation(
        &v,
        &format!("{at}.protocol"),
        "protocol must be 'HTTP' when http is set",
    );
    assert_violation(&v, &format!("{at}.http.path"), "should match");
    assert_admitted(&with_filters(
        "{type: ExternalAuth, externalAuth: {protocol: HTTP, http: {path: /auth}, backendRef: {name: a, port: 9000}}}",
    ));
}

#[test]
fn backend_ref_filters_follow_the_same_rules() {
    let v = route(
        "
        rules:
        - backendRefs:
          - name: a
            port: 80
            filters:
            - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X, value: '1'}]}}
            - {type: RequestHeaderModifier, requestHeaderModifier: {remove: [x]}}
            - {type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}, percent: 200}}
        ",
    );
    let at = "spec.rules[0].backendRefs[0].filters";
    assert_violation(
        &v,
        &format!("{at}[1].type"),
        "RequestHeaderModifier filter cannot be repeated",
    );
    assert_violation(
        &v,
        &format!("{at}[2].requestMirror.percent"),
        "should be less than or equal to 100",
    );
    assert_eq!(v.len(), 2, "{v:#?}");
}
