//! Admission tests: shared helpers, the walk-through manifests that must pass untouched,
//! GatewayClass and ReferenceGrant rules, defaults, and the loader's use of field paths.
//! Gateway, HTTPRoute and filter rules have their own files.

mod filters;
mod gateway;
mod httproute;

use super::{admit, validate, Violation};
use crate::model::{gw, Body};
use crate::yaml;
use serde::de::DeserializeOwned;

/// Strips the common indentation of a test's YAML block.
fn dedent(text: &str) -> String {
    let text = text.trim_start_matches('\n');
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

fn decode<T: DeserializeOwned>(text: &str) -> T {
    let decoded = yaml::decode::<T>(text).expect("test manifest decodes");
    // The loader drops these two the same way: they chose the type.
    let unknown: Vec<_> = decoded
        .unknown_fields
        .iter()
        .filter(|f| *f != "apiVersion" && *f != "kind")
        .collect();
    assert!(unknown.is_empty(), "unknown fields {unknown:?}");
    decoded.value
}

/// A full document of `kind` around a `spec` block.
fn document(kind: &str, spec: &str) -> String {
    let spec: String = dedent(spec).lines().map(|l| format!("  {l}\n")).collect();
    format!("apiVersion: gateway.networking.k8s.io/v1\nkind: {kind}\nmetadata:\n  name: t\nspec:\n{spec}")
}

fn gateway_body(spec: &str) -> Body {
    Body::Gateway(decode(&document("Gateway", spec)))
}

fn route_body(spec: &str) -> Body {
    Body::HttpRoute(decode(&document("HTTPRoute", spec)))
}

/// Admits a Gateway with this spec.
pub fn gateway(spec: &str) -> Vec<Violation> {
    admit(&mut gateway_body(spec))
}

/// Admits an HTTPRoute with this spec.
pub fn route(spec: &str) -> Vec<Violation> {
    admit(&mut route_body(spec))
}

fn class(spec: &str) -> Vec<Violation> {
    admit(&mut Body::GatewayClass(decode(&document(
        "GatewayClass",
        spec,
    ))))
}

fn grant(spec: &str) -> Vec<Violation> {
    admit(&mut Body::ReferenceGrant(decode(&document(
        "ReferenceGrant",
        spec,
    ))))
}

/// Asserts a violation at exactly `field` whose message contains `message`.
#[track_caller]
pub fn assert_violation(violations: &[Violation], field: &str, message: &str) {
    assert!(
        violations
            .iter()
            .any(|v| v.field == field && v.message.contains(message)),
        "no violation at {field} containing {message:?}; got {violations:#?}"
    );
}

/// Asserts nothing was violated.
#[track_caller]
pub fn assert_admitted(violations: &[Violation]) {
    assert!(
        violations.is_empty(),
        "expected no violation, got {violations:#?}"
    );
}

#[test]
fn every_pattern_compiles() {
    for pattern in validate::ALL_PATTERNS {
        assert!(pattern.compiles(), "{}", pattern.source());
    }
}

const WALKTHROUGH_GATEWAY: &str = "
    gatewayClassName: gwsim
    listeners:
    - name: http
      port: 80
      protocol: HTTP
      allowedRoutes:
        namespaces:
          from: All
    - name: https
      hostname: '*.example.com'
      port: 443
      protocol: HTTPS
      tls:
        certificateRefs:
        - name: example-com-tls
    - name: tls-passthrough
      hostname: db.example.com
      port: 8443
      protocol: TLS
      tls:
        mode: Passthrough
    addresses:
    - value: 192.0.2.10
    - type: Hostname
      value: gw.example.com
";

const WALKTHROUGH_ROUTE: &str = "
    parentRefs:
    - name: web
      sectionName: http
    - name: web
      sectionName: https
    hostnames: [shop.example.com, '*.shop.example.com']
    rules:
    - name: api
      matches:
      - path: {type: PathPrefix, value: /api/v1}
        headers:
        - {name: X-Canary, value: 'yes'}
        queryParams:
        - {name: debug, value: '1'}
        method: GET
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier:
          set: [{name: X-Env, value: prod}]
          add: [{name: X-Trace, value: 'on'}]
          remove: [X-Debug]
      - type: URLRewrite
        urlRewrite:
          hostname: api.internal
          path: {type: ReplacePrefixMatch, replacePrefixMatch: /v1}
      - type: RequestMirror
        requestMirror:
          backendRef: {name: shadow, port: 8080}
          percent: 10
      backendRefs:
      - {name: api-v1, port: 8080, weight: 90}
      - {name: api-v2, namespace: team-b, port: 8080, weight: 10}
      timeouts: {request: 10s, backendRequest: 2s500ms}
    - name: legacy
      matches:
      - path: {type: Exact, value: /old}
      filters:
      - type: RequestRedirect
        requestRedirect:
          scheme: https
          hostname: shop.example.com
          path: {type: ReplaceFullPath, replaceFullPath: /new}
          statusCode: 301
    - backendRefs:
      - name: web
        port: 80
        filters:
        - type: ResponseHeaderModifier
          responseHeaderModifier:
            set: [{name: Cache-Control, value: 'no-store'}]
";

#[test]
fn walkthrough_objects_are_admitted() {
    assert_admitted(&class(
        "controllerName: gwsim.dev/gateway-controller\ndescription: gwsim",
    ));
    assert_admitted(&gateway(WALKTHROUGH_GATEWAY));
    assert_admitted(&route(WALKTHROUGH_ROUTE));
    assert_admitted(&grant(
        "
        from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]
        to: [{group: '', kind: Service, name: api-v2}]
        ",
    ));
    // A route with no spec content is valid: every rule part is defaulted.
    assert_admitted(&route("parentRefs: [{name: web}]"));
}

#[test]
fn gateway_class_controller_name_is_a_domain_prefixed_path() {
    let v = class("controllerName: example.com");
    assert_violation(&v, "spec.controllerName", "should match");
    assert_admitted(&class("controllerName: gwsim.dev/x\ndescription: short"));
    let long = "d".repeat(65);
    let v = class(&format!("controllerName: gwsim.dev/x\ndescription: {long}"));
    assert_violation(&v, "spec.description", "may not be more than 64");
    let v = class("controllerName: a.b/c\nparametersRef: {group: '', kind: Config Map, name: p, namespace: Default}");
    assert_violation(&v, "spec.parametersRef.kind", "should match");
    assert_violation(&v, "spec.parametersRef.namespace", "should match");
}

#[test]
fn reference_grant_needs_entries_with_valid_fields() {
    let v = grant("from: []\nto: []");
    assert_violation(&v, "spec.from", "should have at least 1 items");
    assert_violation(&v, "spec.to", "should have at least 1 items");
    let v = grant(
        "
        from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: Team_A}]
        to: [{group: 'Core', kind: Service, name: ''}]
        ",
    );
    assert_violation(&v, "spec.from[0].namespace", "should match '^[a-z0-9]");
    assert_violation(&v, "spec.to[0].group", "should match");
    assert_violation(&v, "spec.to[0].name", "should be at least 1 chars long");
    let entries = "{group: '', kind: Service}, ".repeat(17);
    let v = grant(&format!(
        "from: [{{group: '', kind: Pod, namespace: a}}]\nto: [{entries}]"
    ));
    assert_violation(&v, "spec.to", "Too many: 17: must have at most 16 items");
}

#[test]
fn crd_defaults_fill_absent_fields() {
    let mut body = route_body(
        "
        rules:
        - filters:
          - type: CORS
            cors: {allowOrigins: ['*']}
          - type: ExternalAuth
            externalAuth: {protocol: HTTP, http: {}, backendRef: {name: auth, port: 9000}}
          sessionPersistence:
            cookieConfig: {}
            absoluteTimeout: 1h
        ",
    );
    assert_admitted(&admit(&mut body));
    let Body::HttpRoute(r) = body else {
        panic!("an HTTPRoute")
    };
    let rule = &r.spec.rules.expect("rules")[0];
    let filters = rule.filters.as_ref().expect("filters");
    assert_eq!(filters[0].cors.as_ref().and_then(|c| c.max_age), Some(5));
    let auth = &filters[1]
        .external_auth
        .as_ref()
        .expect("externalAuth")
        .backend_ref;
    assert_eq!(
        (auth.group.as_deref(), auth.kind.as_deref()),
        (Some(""), Some("Service"))
    );
    let session = rule
        .session_persistence
        .as_ref()
        .expect("sessionPersistence");
    assert_eq!(
        session.r#type,
        Some(gw::HttpRouteRulesSessionPersistenceType::Cookie)
    );
    let lifetime = session
        .cookie_config
        .as_ref()
        .and_then(|c| c.lifetime_type.clone());
    assert_eq!(
        lifetime,
        Some(gw::HttpRouteRulesSessionPersistenceCookieConfigLifetimeType::Session)
    );
    let matches = rule.matches.as_ref().expect("matches");
    let path = matches[0].path.as_ref().expect("path");
    assert_eq!(path.value.as_deref(), Some("/"));

    let mut body = gateway_body(
        "
        gatewayClassName: c
        listeners: [{name: h, port: 80, protocol: HTTP}]
        allowedListeners: {}
        tls:
          backend: {clientCertificateRef: {name: client}}
          frontend:
            default: {validation: {caCertificateRefs: [{group: '', kind: ConfigMap, name: ca}]}}
        ",
    );
    assert_admitted(&admit(&mut body));
    let Body::Gateway(g) = body else {
        panic!("a Gateway")
    };
    let from = g
        .spec
        .allowed_listeners
        .and_then(|a| a.namespaces)
        .and_then(|n| n.from);
    assert_eq!(from, Some(gw::GatewayAllowedListenersNamespacesFrom::None));
    let tls = g.spec.tls.expect("tls");
    let cert = tls
        .backend
        .and_then(|b| b.client_certificate_ref)
        .expect("clientCertificateRef");
    assert_eq!(cert.kind.as_deref(), Some("Secret"));
    let mode = tls
        .frontend
        .and_then(|f| f.default.validation)
        .and_then(|v| v.mode);
    assert_eq!(
        mode,
        Some(gw::GatewayTlsFrontendDefaultValidationMode::AllowValidOnly)
    );
}

#[test]
fn durations_follow_gep_2257() {
    use validate::duration_ms;
    assert_eq!(duration_ms("1h2m3s4ms"), Some(3_723_004));
    assert_eq!(duration_ms("0s"), Some(0));
    assert_eq!(duration_ms("2s500ms"), Some(2_500));
    assert_eq!(duration_ms("1.5s"), None);
    assert_eq!(duration_ms("123456s"), None);
    assert_eq!(duration_ms("1h1h1h1h1h"), None);
}

#[test]
fn loader_reports_a_violation_at_its_field() {
    let text = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: web
spec:
  gatewayClassName: gwsim
  listeners:
  - name: http
    port: 80
    protocol: HTTP
  - name: tcp
    hostname: db.example.com
    port: 5432
    protocol: TCP
";
    let decoded = crate::source::decode_file("gw.yaml", text, "default");
    assert!(decoded.objects.is_empty());
    let d = &decoded.diagnostics[0];
    assert_eq!(d.field, "spec.listeners[1].hostname");
    assert_eq!((d.line, d.column), (Some(12), Some(5)));
    assert!(d
        .message
        .contains("hostname must not be specified for protocols ['TCP', 'UDP']"));
}
