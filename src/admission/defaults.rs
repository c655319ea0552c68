//! The defaults the Gateway API CRDs declare, applied as the API server applies them, so
//! `gwsim check` shows the same spec `kubectl get -o yaml` would. A default applies only
//! where its field is absent and its parent object is present.

use crate::model::{gw, Body, GATEWAY_GROUP};

/// The `HTTPRouteFilter` defaults, for rule filters and backendRef filters alike: the two are
/// distinct generated types with the same fields.
macro_rules! filter_defaults {
    ($filter:expr) => {{
        let filter = $filter;
        if let Some(r) = &mut filter.request_redirect {
            r.status_code.get_or_insert(302);
        }
        if let Some(m) = &mut filter.request_mirror {
            m.backend_ref.group.get_or_insert_with(String::new);
            m.backend_ref
                .kind
                .get_or_insert_with(|| "Service".to_string());
            if let Some(f) = &mut m.fraction {
                f.denominator.get_or_insert(100);
            }
        }
        if let Some(c) = &mut filter.cors {
            c.max_age.get_or_insert(5);
        }
        if let Some(a) = &mut filter.external_auth {
            a.backend_ref.group.get_or_insert_with(String::new);
            a.backend_ref
                .kind
                .get_or_insert_with(|| "Service".to_string());
        }
    }};
}

/// Applies the schema defaults of the object's kind.
pub fn apply(body: &mut Body) {
    match body {
        Body::Gateway(g) => gateway(&mut g.spec),
        Body::HttpRoute(r) => http_route(&mut r.spec),
        _ => {}
    }
}

fn gateway(spec: &mut gw::GatewaySpec) {
    for address in spec.addresses.iter_mut().flatten() {
        address
            .r#type
            .get_or_insert_with(|| "IPAddress".to_string());
    }
    for listener in &mut spec.listeners {
        let allowed = listener
            .allowed_routes
            .get_or_insert_with(gw::GatewayListenersAllowedRoutes::default);
        let namespaces = allowed
            .namespaces
            .get_or_insert_with(gw::GatewayListenersAllowedRoutesNamespaces::default);
        namespaces
            .from
            .get_or_insert(gw::GatewayListenersAllowedRoutesNamespacesFrom::Same);
        for kind in allowed.kinds.iter_mut().flatten() {
            kind.group.get_or_insert_with(|| GATEWAY_GROUP.to_string());
        }
        if let Some(tls) = &mut listener.tls {
            tls.mode
                .get_or_insert(gw::GatewayListenersTlsMode::Terminate);
            for cert in tls.certificate_refs.iter_mut().flatten() {
                cert.group.get_or_insert_with(String::new);
                cert.kind.get_or_insert_with(|| "Secret".to_string());
            }
        }
    }
    if let Some(allowed) = &mut spec.allowed_listeners {
        // `namespaces` defaults to `{from: None}`, and `from` to None inside a given one.
        let namespaces = allowed
            .namespaces
            .get_or_insert_with(gw::GatewayAllowedListenersNamespaces::default);
        namespaces
            .from
            .get_or_insert(gw::GatewayAllowedListenersNamespacesFrom::None);
    }
    if let Some(tls) = &mut spec.tls {
        gateway_tls(tls);
    }
}

fn gateway_tls(tls: &mut gw::GatewayTls) {
    let client_cert = tls
        .backend
        .as_mut()
        .and_then(|b| b.client_certificate_ref.as_mut());
    if let Some(cert) = client_cert {
        cert.group.get_or_insert_with(String::new);
        cert.kind.get_or_insert_with(|| "Secret".to_string());
    }
    if let Some(frontend) = &mut tls.frontend {
        if let Some(v) = &mut frontend.default.validation {
            v.mode
                .get_or_insert(gw::GatewayTlsFrontendDefaultValidationMode::AllowValidOnly);
        }
        for port in frontend.per_port.iter_mut().flatten() {
            if let Some(v) = &mut port.tls.validation {
                v.mode
                    .get_or_insert(gw::GatewayTlsFrontendPerPortTlsValidationMode::AllowValidOnly);
            }
        }
    }
}

fn http_route(spec: &mut gw::HttpRouteSpec) {
    for parent in spec.parent_refs.iter_mut().flatten() {
        parent
            .group
            .get_or_insert_with(|| GATEWAY_GROUP.to_string());
        parent.kind.get_or_insert_with(|| "Gateway".to_string());
    }
    let rules = spec
        .rules
        .get_or_insert_with(|| vec![gw::HttpRouteRules::default()]);
    for rule in rules {
        let matches = rule
            .matches
            .get_or_insert_with(|| vec![gw::HttpRouteRulesMatches::default()]);
        for m in matches {
            let path = m
                .path
                .get_or_insert_with(gw::HttpRouteRulesMatchesPath::default);
            path.r#type
                .get_or_insert(gw::HttpRouteRulesMatchesPathType::PathPrefix);
            path.value.get_or_insert_with(|| "/".to_string());
            for h in m.headers.iter_mut().flatten() {
                h.r#type
                    .get_or_insert(gw::HttpRouteRulesMatchesHeadersType::Exact);
            }
            for q in m.query_params.iter_mut().flatten() {
                q.r#type
                    .get_or_insert(gw::HttpRouteRulesMatchesQueryParamsType::Exact);
            }
        }
        for filter in rule.filters.iter_mut().flatten() {
            filter_defaults!(filter);
        }
        for backend in rule.backend_refs.iter_mut().flatten() {
            backend.group.get_or_insert_with(String::new);
            backend.kind.get_or_insert_with(|| "Service".to_string());
            backend.weight.get_or_insert(1);
            for filter in backend.filters.iter_mut().flatten() {
                filter_defaults!(filter);
            }
        }
        if let Some(session) = &mut rule.session_persistence {
            session
                .r#type
                .get_or_insert(gw::HttpRouteRulesSessionPersistenceType::Cookie);
            if let Some(cookie) = &mut session.cookie_config {
                cookie.lifetime_type.get_or_insert(
                    gw::HttpRouteRulesSessionPersistenceCookieConfigLifetimeType::Session,
                );
            }
        }
    }
}
