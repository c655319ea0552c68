//! HTTPRoute filters → IR filters. A filter gwsim cannot honour is never dropped silently:
//! it makes the rule unusable (`UnsupportedValue`) or answers with an HTTP error.

use super::backend::{self, BackendRef};
use crate::ir::{
    BackendTarget, Cors, FilterIr, HeaderModifier, Mirror, PathModifier, Redirect, Rewrite,
};
use crate::model::{gw, Object};
use crate::status::Reason;
use crate::store::Store;

/// The result of converting one rule's filters.
#[derive(Default)]
pub struct Converted {
    pub filters: Vec<FilterIr>,
    /// A reference that did not resolve (mirror backends, extensionRefs).
    pub unresolved: Option<(Reason, String)>,
}

/// Converts filters; `Err` means the rule cannot be served (reason UnsupportedValue).
pub fn convert(
    route: &Object,
    filters: &[gw::HttpRouteRulesFilters],
    store: &Store,
) -> Result<Converted, String> {
    use gw::HttpRouteRulesFiltersType as T;
    let mut out = Converted::default();
    for f in filters {
        let ir = match f.r#type {
            T::RequestHeaderModifier => f.request_header_modifier.as_ref().map(|m| {
                FilterIr::RequestHeaderModifier(header_modifier(
                    m.set
                        .iter()
                        .flatten()
                        .map(|h| (h.name.clone(), h.value.clone())),
                    m.add
                        .iter()
                        .flatten()
                        .map(|h| (h.name.clone(), h.value.clone())),
                    m.remove.clone().unwrap_or_default(),
                ))
            }),
            T::ResponseHeaderModifier => f.response_header_modifier.as_ref().map(|m| {
                FilterIr::ResponseHeaderModifier(header_modifier(
                    m.set
                        .iter()
                        .flatten()
                        .map(|h| (h.name.clone(), h.value.clone())),
                    m.add
                        .iter()
                        .flatten()
                        .map(|h| (h.name.clone(), h.value.clone())),
                    m.remove.clone().unwrap_or_default(),
                ))
            }),
            T::RequestRedirect => f.request_redirect.as_ref().map(|r| {
                FilterIr::RequestRedirect(Redirect {
                    scheme: r.scheme.as_ref().map(|s| match s {
                        gw::HttpRouteRulesFiltersRequestRedirectScheme::Http => "http".to_string(),
                        gw::HttpRouteRulesFiltersRequestRedirectScheme::Https => {
                            "https".to_string()
                        }
                    }),
                    hostname: r.hostname.clone(),
                    port: r.port.and_then(|p| u16::try_from(p).ok()),
                    path: r.path.as_ref().and_then(|p| {
                        path_modifier(p.replace_full_path.clone(), p.replace_prefix_match.clone())
                    }),
                    status_code: r
                        .status_code
                        .and_then(|c| u16::try_from(c).ok())
                        .unwrap_or(302),
                })
            }),
            T::UrlRewrite => f.url_rewrite.as_ref().map(|r| {
                FilterIr::UrlRewrite(Rewrite {
                    hostname: r.hostname.clone(),
                    path: r.path.as_ref().and_then(|p| {
                        path_modifier(p.replace_full_path.clone(), p.replace_prefix_match.clone())
                    }),
                })
            }),
            T::RequestMirror => match &f.request_mirror {
                Some(m) => {
                    let b = &m.backend_ref;
                    let r = BackendRef {
                        group: b.group.as_deref().unwrap_or_default(),
                        kind: b.kind.as_deref().unwrap_or("Service"),
                        name: &b.name,
                        namespace: b.namespace.as_deref(),
                        port: b.port,
                    };
                    let (_, target, problem) = backend::resolve(route, &r, store);
                    if let Some(p) = problem {
                        out.unresolved.get_or_insert(p);
                    }
                    let ppm = match (&m.fraction, m.percent) {
                        (Some(fr), _) => {
                            let den = i64::from(fr.denominator.unwrap_or(100).max(1));
                            u32::try_from(i64::from(fr.numerator).clamp(0, den) * 1_000_000 / den)
                                .unwrap_or(1_000_000)
                        }
                        (None, Some(p)) => u32::try_from(p.clamp(0, 100)).unwrap_or(100) * 10_000,
                        (None, None) => 1_000_000,
                    };
                    match target {
                        BackendTarget::Service { .. } => Some(FilterIr::RequestMirror(Mirror {
                            backend: target,
                            ppm,
                        })),
                        // An unresolved mirror target mirrors nothing; ResolvedRefs says why.
                        BackendTarget::Invalid { .. } => None,
                    }
                }
                None => None,
            },
            T::Cors => f.cors.as_ref().map(|c| {
                FilterIr::Cors(Cors {
                    // The spec leaves a filter without allowOrigins open; upstream's
                    // CORSAllowCredentialsBehavior expects such a filter to answer any
                    // origin, so it allows every origin.
                    allow_origins: c
                        .allow_origins
                        .clone()
                        .filter(|o| !o.is_empty())
                        .unwrap_or_else(|| vec!["*".into()]),
                    allow_credentials: c.allow_credentials.unwrap_or(false),
                    allow_methods: c.allow_methods.clone().unwrap_or_default(),
                    allow_headers: c.allow_headers.clone().unwrap_or_default(),
                    expose_headers: c.expose_headers.clone().unwrap_or_default(),
                    max_age: c.max_age,
                })
            }),
            T::ExtensionRef => {
                let what = f
                    .extension_ref
                    .as_ref()
                    .map(|e| format!("{}/{} {}", e.group, e.kind, e.name))
                    .unwrap_or_else(|| "<missing>".into());
                out.unresolved.get_or_insert((
                    Reason::InvalidKind,
                    format!("extensionRef {what} is not a filter gwsim knows"),
                ));
                Some(FilterIr::Unresolved {
                    status: 500,
                    reason: format!("extensionRef {what} cannot be resolved"),
                })
            }
            T::ExternalAuth => {
                return Err("the ExternalAuth filter is not supported by gwsim".into())
            }
        };
        if let Some(ir) = ir {
            out.filters.push(ir);
        }
    }
    Ok(out)
}

/// Backend-level filters gwsim's data plane applies are the header modifiers and URLRewrite;
/// any other would be skipped silently, so it makes the rule unusable. A backend-level
/// RequestRedirect with a rule-level URLRewrite (or the reverse) cannot both be honoured:
/// `IncompatibleFilters`, the spec's reason for that pair.
pub fn check_backend_filters(
    rule: &[FilterIr],
    backend: &[FilterIr],
) -> Result<(), (Reason, String)> {
    let has = |fs: &[FilterIr], redirect: bool| {
        fs.iter().any(|f| {
            if redirect {
                matches!(f, FilterIr::RequestRedirect(_))
            } else {
                matches!(f, FilterIr::UrlRewrite(_))
            }
        })
    };
    if (has(rule, false) && has(backend, true)) || (has(rule, true) && has(backend, false)) {
        return Err((
            Reason::IncompatibleFilters,
            "a RequestRedirect and a URLRewrite filter apply to the same backendRef".into(),
        ));
    }
    for f in backend {
        let name = match f {
            FilterIr::RequestRedirect(_) => "RequestRedirect",
            FilterIr::RequestMirror(_) => "RequestMirror",
            FilterIr::Cors(_) => "CORS",
            _ => continue,
        };
        return Err((
            Reason::UnsupportedValue,
            format!(
                "the {name} filter is not supported on a backendRef by gwsim (use it on the rule)"
            ),
        ));
    }
    Ok(())
}

/// Backend-level filters have their own generated types with the same shape.
pub fn convert_backend(
    route: &Object,
    filters: &[gw::HttpRouteRulesBackendRefsFilters],
    store: &Store,
) -> Result<Converted, String> {
    let as_rule: Vec<gw::HttpRouteRulesFilters> = filters
        .iter()
        .map(|f| serde_json::to_value(f).and_then(serde_json::from_value))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("backendRef filter cannot be read: {e}"))?;
    convert(route, &as_rule, store)
}

fn header_modifier(
    set: impl Iterator<Item = (String, String)>,
    add: impl Iterator<Item = (String, String)>,
    remove: Vec<String>,
) -> HeaderModifier {
    HeaderModifier {
        set: set.collect(),
        add: add.collect(),
        remove,
    }
}

fn path_modifier(full: Option<String>, prefix: Option<String>) -> Option<PathModifier> {
    match (full, prefix) {
        (Some(f), _) => Some(PathModifier::ReplaceFullPath(f)),
        (None, Some(p)) => Some(PathModifier::ReplacePrefixMatch(p)),
        (None, None) => None,
    }
}

/// Parses a Gateway API duration (`1h`, `500ms`, `1m30s`) into milliseconds.
pub fn parse_duration_ms(text: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (1, 2)
        } else if rest.starts_with('h') {
            (3_600_000, 1)
        } else if rest.starts_with('m') {
            (60_000, 1)
        } else if rest.starts_with('s') {
            (1_000, 1)
        } else {
            return None;
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
        rest = &rest[len..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::parse_duration_ms;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("1s"), Some(1000));
        assert_eq!(parse_duration_ms("500ms"), Some(500));
        assert_eq!(parse_duration_ms("1h2m3s4ms"), Some(3_723_004));
        assert_eq!(parse_duration_ms("0s"), Some(0));
        assert_eq!(parse_duration_ms("1x"), None);
        assert_eq!(parse_duration_ms(""), None);
    }
}
