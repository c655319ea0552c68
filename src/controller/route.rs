//! One HTTPRoute: its rules in IR form and its status per parent.

use super::attach::{self, Attachment};
use super::backend::{self, BackendRef};
use super::filters::{self, parse_duration_ms};
use super::gateway::GatewayInfo;
use crate::ir::{
    BackendIr, FilterIr, MatchIr, PathMatch, RetryIr, RuleIr, Timeouts, ValueMatch, ValueMatchKind,
};
use crate::model::{gw, Body, Object, ObjectKey};
use crate::source::Diagnostic;
use crate::status::{
    CondStatus, CondType, Condition, Conditions, Reason, RouteParentStatus, RouteStatus,
};
use crate::store::Store;
use std::collections::BTreeMap;

/// A rule that can be served, with its matches.
#[derive(Clone, Debug)]
pub struct ServedRule {
    pub id: String,
    pub index: usize,
    pub ir: RuleIr,
    pub matches: Vec<MatchIr>,
}

/// What the controller decided about one route.
#[derive(Debug, Default)]
pub struct RouteResult {
    pub status: RouteStatus,
    pub rules: Vec<ServedRule>,
    pub attachments: Vec<Attachment>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The stable id of a rule, shared by the routing table, stats, views and headers.
pub fn rule_id(key: &ObjectKey, index: usize) -> String {
    format!("httproute/{}/{}/rule/{index}", key.namespace, key.name)
}

/// Reconciles one route against the Gateways.
pub fn reconcile(
    route: &Object,
    gateways: &BTreeMap<ObjectKey, GatewayInfo>,
    store: &Store,
) -> RouteResult {
    let Body::HttpRoute(r) = &route.body else {
        return RouteResult::default();
    };
    let generation = route.generation();
    let mut result = RouteResult {
        attachments: attach::resolve(route, &r.spec, gateways, store),
        ..RouteResult::default()
    };
    let mut unresolved: Option<(Reason, String)> = None;
    let mut unusable: Vec<(Reason, String)> = Vec::new();
    let rules = r.spec.rules.clone().unwrap_or_default();
    for (index, rule) in rules.iter().enumerate() {
        match rule_ir(
            route,
            index,
            rule,
            store,
            &mut unresolved,
            &mut result.diagnostics,
        ) {
            Ok(served) => result.rules.push(served),
            Err((reason, msg)) => unusable.push((reason, format!("rule {index}: {msg}"))),
        }
    }
    let all_unusable = !rules.is_empty() && result.rules.is_empty();
    let unusable_reason = unusable
        .first()
        .map_or(Reason::UnsupportedValue, |(r, _)| *r);
    let unusable_text = unusable
        .iter()
        .map(|(_, m)| m.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    for a in &result.attachments {
        let mut conditions = Conditions::default();
        let accepted = match (&a.refusal, all_unusable) {
            (Some((reason, msg)), _) => Condition::new(
                CondType::Accepted,
                CondStatus::False,
                *reason,
                msg.clone(),
                generation,
            ),
            (None, true) => Condition::new(
                CondType::Accepted,
                CondStatus::False,
                unusable_reason,
                unusable_text.clone(),
                generation,
            ),
            (None, false) => Condition::new(
                CondType::Accepted,
                CondStatus::True,
                Reason::Accepted,
                "route is accepted",
                generation,
            ),
        };
        conditions.set(accepted);
        conditions.set(match &unresolved {
            None => Condition::new(
                CondType::ResolvedRefs,
                CondStatus::True,
                Reason::ResolvedRefs,
                "all references resolved",
                generation,
            ),
            Some((reason, msg)) => Condition::new(
                CondType::ResolvedRefs,
                CondStatus::False,
                *reason,
                msg.clone(),
                generation,
            ),
        });
        if !unusable.is_empty() && !all_unusable {
            conditions.set(Condition::new(
                CondType::PartiallyInvalid,
                CondStatus::True,
                Reason::UnsupportedValue,
                format!("dropped {unusable_text}"),
                generation,
            ));
        }
        result.status.parents.push(RouteParentStatus {
            conditions,
            controller_name: a.controller_name.clone(),
            parent_ref: a.parent.clone(),
        });
    }
    result
}

fn rule_ir(
    route: &Object,
    index: usize,
    rule: &gw::HttpRouteRules,
    store: &Store,
    unresolved: &mut Option<(Reason, String)>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<ServedRule, (Reason, String)> {
    let unsupported = |msg: String| (Reason::UnsupportedValue, msg);
    let rule_filters = rule.filters.as_deref().unwrap_or_default();
    let converted = filters::convert(route, rule_filters, store).map_err(unsupported)?;
    if let Some(p) = converted.unresolved {
        unresolved.get_or_insert(p);
    }
    let mut backends = Vec::new();
    for b in rule.backend_refs.iter().flatten() {
        let r = BackendRef {
            group: b.group.as_deref().unwrap_or_default(),
            kind: b.kind.as_deref().unwrap_or("Service"),
            name: &b.name,
            namespace: b.namespace.as_deref(),
            port: b.port,
        };
        let (name, target, problem) = backend::resolve(route, &r, store);
        if let Some(p) = problem {
            unresolved.get_or_insert(p);
        }
        let backend_filters =
            filters::convert_backend(route, b.filters.as_deref().unwrap_or_default(), store)
                .map_err(unsupported)?;
        filters::check_backend_filters(&converted.filters, &backend_filters.filters)?;
        if let Some(p) = backend_filters.unresolved {
            unresolved.get_or_insert(p);
        }
        backends.push(BackendIr {
            name,
            weight: u32::try_from(b.weight.unwrap_or(1)).unwrap_or(0),
            target,
            filters: backend_filters.filters,
        });
    }
    let warn = |field: &str, what: &str| {
        Diagnostic::warning(
            &route.origin.file,
            Some(route.origin.line),
            None,
            format!("{what} is not simulated by gwsim and is ignored"),
        )
        .for_object(&route.key)
        .at_field(format!("spec.rules[{index}].{field}"))
    };
    if rule.session_persistence.is_some() {
        diagnostics.push(warn("sessionPersistence", "sessionPersistence"));
    }
    let timeouts = Timeouts {
        request_ms: rule
            .timeouts
            .as_ref()
            .and_then(|t| t.request.as_deref())
            .and_then(parse_duration_ms)
            .filter(|ms| *ms > 0),
        backend_request_ms: rule
            .timeouts
            .as_ref()
            .and_then(|t| t.backend_request.as_deref())
            .and_then(parse_duration_ms)
            .filter(|ms| *ms > 0),
    };
    let retry = rule.retry.as_ref().and_then(retry_ir);
    let matches = rule
        .matches
        .iter()
        .flatten()
        .map(match_ir)
        .collect::<Result<Vec<_>, _>>()
        .map_err(unsupported)?;
    let filters: Vec<FilterIr> = converted.filters;
    Ok(ServedRule {
        id: rule_id(&route.key, index),
        index,
        ir: RuleIr {
            route: route.key.ref_name(),
            index,
            name: rule.name.clone(),
            filters,
            backends,
            timeouts,
            retry,
        },
        matches,
    })
}

/// A rule's retry policy with gwsim's defaults filled in; `None` when it turns retries off
/// (`attempts: 0`).
fn retry_ir(r: &gw::HttpRouteRulesRetry) -> Option<RetryIr> {
    let attempts = r
        .attempts
        .map_or(RetryIr::DEFAULT_ATTEMPTS, |a| u32::try_from(a).unwrap_or(0));
    let mut codes: Vec<u16> = r
        .codes
        .iter()
        .flatten()
        .filter_map(|c| u16::try_from(*c).ok())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let backoff_ms = r
        .backoff
        .as_deref()
        .and_then(parse_duration_ms)
        .unwrap_or(RetryIr::DEFAULT_BACKOFF_MS);
    (attempts > 0).then_some(RetryIr {
        codes,
        attempts,
        backoff_ms,
    })
}

fn match_ir(m: &gw::HttpRouteRulesMatches) -> Result<MatchIr, String> {
    use gw::HttpRouteRulesMatchesPathType as P;
    let path = m.path.clone().unwrap_or_default();
    let value = path.value.unwrap_or_else(|| "/".into());
    let path = match path.r#type.unwrap_or(P::PathPrefix) {
        P::Exact => PathMatch::Exact(value),
        P::PathPrefix => PathMatch::PathPrefix(value),
        P::RegularExpression => {
            regex::Regex::new(&value)
                .map_err(|e| format!("path regular expression {value:?} is invalid: {e}"))?;
            PathMatch::RegularExpression(value)
        }
    };
    let mut headers = Vec::new();
    for h in m.headers.iter().flatten() {
        let kind = match h.r#type {
            Some(gw::HttpRouteRulesMatchesHeadersType::RegularExpression) => {
                regex::Regex::new(&h.value).map_err(|e| {
                    format!("header regular expression {:?} is invalid: {e}", h.value)
                })?;
                ValueMatchKind::RegularExpression
            }
            _ => ValueMatchKind::Exact,
        };
        headers.push(ValueMatch {
            name: h.name.to_ascii_lowercase(),
            kind,
            value: h.value.clone(),
        });
    }
    let mut query_params = Vec::new();
    for q in m.query_params.iter().flatten() {
        let kind = match q.r#type {
            Some(gw::HttpRouteRulesMatchesQueryParamsType::RegularExpression) => {
                regex::Regex::new(&q.value).map_err(|e| {
                    format!("query regular expression {:?} is invalid: {e}", q.value)
                })?;
                ValueMatchKind::RegularExpression
            }
            _ => ValueMatchKind::Exact,
        };
        query_params.push(ValueMatch {
            name: q.name.clone(),
            kind,
            value: q.value.clone(),
        });
    }
    let method = m
        .method
        .as_ref()
        .and_then(|meth| serde_json::to_value(meth).ok())
        .and_then(|v| v.as_str().map(str::to_string));
    Ok(MatchIr {
        path,
        headers,
        query_params,
        method,
    })
}
