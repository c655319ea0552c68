//! Gateway rules: listeners, TLS, addresses, infrastructure and Gateway-level TLS.

use super::{assert_admitted, assert_violation, gateway};

/// A Gateway spec with these listeners (a YAML list, indented as under `listeners:`).
fn with_listeners(listeners: &str) -> String {
    format!(
        "gatewayClassName: gwsim\nlisteners:\n{}",
        super::dedent(listeners)
    )
}

#[test]
fn listener_count_is_bounded() {
    let v = gateway("gatewayClassName: gwsim\nlisteners: []");
    assert_violation(&v, "spec.listeners", "should have at least 1 items");
    let many: String = (0..65)
        .map(|i| format!("- {{name: l{i}, port: {}, protocol: HTTP}}\n", 1000 + i))
        .collect();
    let v = gateway(&with_listeners(&many));
    assert_violation(
        &v,
        "spec.listeners",
        "Too many: 65: must have at most 64 items",
    );
}

#[test]
fn listener_names_are_unique_section_names() {
    let v = gateway(&with_listeners(
        "
        - {name: web, port: 80, protocol: HTTP}
        - {name: web, port: 81, protocol: HTTP}
        - {name: Web_2, port: 82, protocol: HTTP}
        ",
    ));
    assert_violation(
        &v,
        "spec.listeners[1].name",
        "Listener name must be unique within the Gateway",
    );
    assert_violation(&v, "spec.listeners[2].name", "should match '^[a-z0-9]");
    assert_eq!(v.len(), 2, "{v:#?}");
}

#[test]
fn listener_port_is_in_range() {
    let v = gateway(&with_listeners(
        "- {name: a, port: 0, protocol: HTTP}\n- {name: b, port: 65536, protocol: HTTP}",
    ));
    assert_violation(
        &v,
        "spec.listeners[0].port",
        "should be greater than or equal to 1",
    );
    assert_violation(
        &v,
        "spec.listeners[1].port",
        "should be less than or equal to 65535",
    );
}

#[test]
fn port_protocol_and_hostname_combine_uniquely() {
    let v = gateway(&with_listeners(
        "
        - {name: a, port: 80, protocol: HTTP, hostname: a.example.com}
        - {name: b, port: 80, protocol: HTTP, hostname: b.example.com}
        - {name: c, port: 80, protocol: HTTP}
        - {name: d, port: 80, protocol: HTTP, hostname: a.example.com}
        ",
    ));
    assert_violation(
        &v,
        "spec.listeners[3]",
        "Combination of port, protocol and hostname must be unique",
    );
    assert_eq!(v.len(), 1, "{v:#?}");
}

#[test]
fn listener_hostname_and_protocol_have_formats() {
    let v = gateway(&with_listeners(
        "
        - {name: a, port: 80, protocol: HTTP, hostname: Example.com}
        - {name: b, port: 81, protocol: HTTP, hostname: 'foo.*.com'}
        - {name: c, port: 82, protocol: HTTP, hostname: '*.example.com'}
        - {name: d, port: 83, protocol: example.com}
        - {name: e, port: 84, protocol: example.com/custom}
        ",
    ));
    assert_violation(
        &v,
        "spec.listeners[0].hostname",
        "should match '^(\\*\\.)?[a-z0-9]",
    );
    assert_violation(&v, "spec.listeners[1].hostname", "should match");
    assert_violation(&v, "spec.listeners[3].protocol", "should match");
    assert_eq!(v.len(), 3, "{v:#?}");
}

#[test]
fn tls_follows_the_protocol() {
    let v = gateway(&with_listeners(
        "
        - {name: a, port: 80, protocol: HTTP, tls: {certificateRefs: [{name: c}]}}
        - {name: b, port: 443, protocol: HTTPS, tls: {mode: Passthrough}}
        - {name: c, port: 5432, protocol: TCP, hostname: db.example.com}
        - {name: d, port: 53, protocol: UDP, tls: {mode: Passthrough}}
        ",
    ));
    assert_violation(
        &v,
        "spec.listeners[0].tls",
        "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
    );
    assert_violation(
        &v,
        "spec.listeners[1].tls.mode",
        "tls mode must be Terminate for protocol HTTPS",
    );
    assert_violation(
        &v,
        "spec.listeners[2].hostname",
        "hostname must not be specified for protocols ['TCP', 'UDP']",
    );
    assert_violation(&v, "spec.listeners[3].tls", "tls must not be specified");
    // The CRD leaves an HTTPS or TLS listener without `tls` to the controller.
    assert_admitted(&gateway(&with_listeners(
        "- {name: s, port: 443, protocol: HTTPS}",
    )));
}

#[test]
fn terminate_needs_certificates_or_options() {
    let v = gateway(&with_listeners(
        "
        - {name: a, port: 443, protocol: HTTPS, tls: {}}
        - {name: b, port: 444, protocol: HTTPS, tls: {options: {example.com/cert-source: vault}}}
        - {name: c, port: 445, protocol: TLS, tls: {mode: Passthrough}}
        - name: d
          port: 446
          protocol: HTTPS
          tls: {certificateRefs: [{name: c, namespace: Certs}]}
        ",
    ));
    let message = "certificateRefs or options must be specified when mode is Terminate";
    assert_violation(&v, "spec.listeners[0].tls", message);
    assert_violation(
        &v,
        "spec.listeners[3].tls.certificateRefs[0].namespace",
        "should match",
    );
    assert_eq!(v.len(), 2, "{v:#?}");
}

#[test]
fn allowed_route_kinds_are_bounded() {
    let kinds = "{kind: HTTPRoute}, ".repeat(9);
    let v = gateway(&with_listeners(&format!(
        "- {{name: a, port: 80, protocol: HTTP, allowedRoutes: {{kinds: [{kinds}]}}}}\n\
         - {{name: b, port: 81, protocol: HTTP, allowedRoutes: {{kinds: [{{kind: 'HTTP Route'}}]}}}}"
    )));
    assert_violation(
        &v,
        "spec.listeners[0].allowedRoutes.kinds",
        "must have at most 8 items",
    );
    assert_violation(
        &v,
        "spec.listeners[1].allowedRoutes.kinds[0].kind",
        "should match",
    );
}

#[test]
fn addresses_have_typed_unique_values() {
    let v = gateway(
        "
        gatewayClassName: gwsim
        listeners: [{name: a, port: 80, protocol: HTTP}]
        addresses:
        - value: 10.0.0.1
        - {type: IPAddress, value: not-an-ip}
        - {type: Hostname, value: Gw.Example.com}
        - value: 10.0.0.1
        - {type: Hostname, value: gw.example.com}
        - {type: Hostname, value: gw.example.com}
        - {type: example.com/pool, value: 'any value'}
        - {type: 'not a type'}
        - {type: IPAddress, value: '2001:db8::1'}
        - {type: IPAddress}
        ",
    );
    assert_violation(
        &v,
        "spec.addresses[1].value",
        "must be of type ipv4 or ipv6",
    );
    assert_violation(
        &v,
        "spec.addresses[2].value",
        "Hostname value must be empty or contain only valid characters",
    );
    assert_violation(
        &v,
        "spec.addresses[3].value",
        "IPAddress values must be unique",
    );
    assert_violation(
        &v,
        "spec.addresses[5].value",
        "Hostname values must be unique",
    );
    assert_violation(&v, "spec.addresses[7].type", "should match");
    assert_eq!(v.len(), 5, "{v:#?}");
}

#[test]
fn infrastructure_labels_and_annotations_are_bounded() {
    let annotations: String = (0..9).map(|i| format!("a{i}: x, ")).collect();
    let v = gateway(&format!(
        "gatewayClassName: gwsim\nlisteners: [{{name: a, port: 80, protocol: HTTP}}]\n\
         infrastructure:\n  labels: {{'bad key!': x, app.kubernetes.io/name: 'bad value!'}}\n  \
         annotations: {{{annotations}}}\n  parametersRef: {{group: '', kind: ConfigMap, name: ''}}"
    ));
    assert_violation(
        &v,
        "spec.infrastructure.labels.bad key!",
        "Label keys must be in the form",
    );
    assert_violation(
        &v,
        "spec.infrastructure.labels.app.kubernetes.io/name",
        "should match",
    );
    assert_violation(
        &v,
        "spec.infrastructure.annotations",
        "must have at most 8 items",
    );
    assert_violation(
        &v,
        "spec.infrastructure.parametersRef.name",
        "should be at least 1 chars long",
    );
}

#[test]
fn gateway_tls_ports_are_unique() {
    let v = gateway(
        "
        gatewayClassName: gwsim
        listeners: [{name: a, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: c}]}}]
        tls:
          frontend:
            default: {validation: {caCertificateRefs: []}}
            perPort:
            - {port: 443, tls: {}}
            - {port: 443, tls: {}}
            - {port: 0, tls: {}}
        ",
    );
    let ca = "spec.tls.frontend.default.validation.caCertificateRefs";
    assert_violation(&v, ca, "should have at least 1 items");
    assert_violation(
        &v,
        "spec.tls.frontend.perPort[1].port",
        "Port for TLS configuration must be unique within the Gateway",
    );
    assert_violation(
        &v,
        "spec.tls.frontend.perPort[2].port",
        "should be greater than or equal to 1",
    );
}
