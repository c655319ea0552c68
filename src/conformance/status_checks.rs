//! `status` checks: each one judged against a snapshot of what gwsim reports (generations,
//! status as `kubectl get -o yaml` would show it, running pods). gwsim reconciles
//! synchronously, so a check holds right after a reload or never; nothing here polls.

use super::case::{Cond, GroupKind, ListenerExpect, ParentExpect, StatusCheck};
use super::manifests::{UNUSABLE_ADDRESS, USABLE_ADDRESS};
use crate::controller::generated::{GatewayService, GATEWAY_NAME_LABEL};
use crate::runtime::sim::Sim;
use serde_json::Value;
use std::collections::BTreeMap;

/// The annotation that takes a Gateway out of `namespaces_ready`.
const SKIP_READINESS: &str = "gateway-api/skip-this-for-readiness";

/// One object as the checks see it.
#[derive(Clone, Debug)]
pub struct ObjView {
    pub namespace: String,
    pub generation: i64,
    /// The status as JSON (`Null` when gwsim writes none).
    pub status: Value,
    /// The spec as JSON, for the checks of what the runner applied.
    pub spec: Value,
    pub annotations: BTreeMap<String, String>,
}

/// Everything status checks look at, captured once after a reload.
#[derive(Clone, Debug, Default)]
pub struct World {
    /// By `Kind namespace/name` (`Kind name` for cluster-scoped kinds).
    pub objects: BTreeMap<String, ObjView>,
    /// Per namespace: (pods planned, pods running).
    pub pods: BTreeMap<String, (usize, usize)>,
    /// The controller name `${CONTROLLER_NAME}` stands for.
    pub controller_name: String,
    /// The Services generated for Gateways.
    pub generated: Vec<GatewayService>,
}

impl World {
    /// Captures the simulation's current state.
    pub fn capture(sim: &Sim, controller_name: &str) -> World {
        let translation = sim.translation();
        let mut objects = BTreeMap::new();
        for (key, o) in &sim.pass().store.objects {
            let status = translation
                .status
                .get(key)
                .and_then(|s| serde_json::to_value(s).ok())
                .unwrap_or(Value::Null);
            objects.insert(
                format!("{} {}", key.kind.as_str(), key.ref_name()),
                ObjView {
                    namespace: key.namespace.clone(),
                    generation: o.generation(),
                    status,
                    spec: o.body.to_json()["spec"].take(),
                    annotations: o.meta().annotations.clone().unwrap_or_default(),
                },
            );
        }
        let mut pods: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for d in translation.pods.deployments.values() {
            pods.entry(d.namespace.clone()).or_default().0 += d.replicas;
        }
        for (deployment, _) in sim.running_pods() {
            if let Some((ns, _)) = deployment.split_once('/') {
                pods.entry(ns.to_string()).or_default().1 += 1;
            }
        }
        World {
            objects,
            pods,
            controller_name: controller_name.to_string(),
            generated: translation.generated.clone(),
        }
    }

    fn get(&self, kind: &str, name: &str) -> Result<&ObjView, String> {
        self.objects
            .get(&format!("{kind} {name}"))
            .ok_or_else(|| format!("{kind} {name} does not exist"))
    }

    /// The generation of an object named `Kind ref`, for `generation_changed`.
    pub fn generation_of(&self, object: &str) -> Option<i64> {
        self.objects.get(object).map(|o| o.generation)
    }
}

/// Runs one check; `Err` says what was expected and what was found.
pub fn run(
    check: &StatusCheck,
    world: &World,
    recorded: &BTreeMap<String, i64>,
) -> Result<(), String> {
    let need = |v: &Option<String>, field: &str| -> Result<String, String> {
        v.clone()
            .ok_or_else(|| format!("check {} needs `{field}`", check.check))
    };
    match check.check.as_str() {
        "gateway_has_address" => {
            let g = world.get("Gateway", &need(&check.gateway, "gateway")?)?;
            let ok = g.status["addresses"].as_array().is_some_and(|a| {
                a.iter()
                    .any(|x| x["type"].as_str().is_some_and(|t| !t.is_empty()))
            });
            ok.then_some(()).ok_or_else(|| {
                format!(
                    "expected status.addresses with a typed entry, got {}",
                    g.status["addresses"]
                )
            })
        }
        "gateway_listeners_conditions" => {
            let g = world.get("Gateway", &need(&check.gateway, "gateway")?)?;
            let names: Option<Vec<String>> = check
                .listeners
                .clone()
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| format!("listeners: {e}"))?;
            let listeners = list(&g.status["listeners"]);
            if let Some(names) = &names {
                for n in names {
                    if !listeners.iter().any(|l| l["name"] == n.as_str()) {
                        return Err(format!("listener {n} is missing from status.listeners"));
                    }
                }
            }
            if listeners.is_empty() {
                return Err("status.listeners is empty".into());
            }
            for l in listeners.iter().filter(|l| {
                names
                    .as_ref()
                    .is_none_or(|ns| ns.iter().any(|n| l["name"] == n.as_str()))
            }) {
                let at = format!("listener {}", l["name"].as_str().unwrap_or("?"));
                fresh(&l["conditions"], g.generation, &at)?;
                has_all(&l["conditions"], &check.conditions, &at)?;
            }
            Ok(())
        }
        "gateway_listeners_exact" => {
            let g = world.get("Gateway", &need(&check.gateway, "gateway")?)?;
            let expected: Vec<ListenerExpect> = check
                .listeners
                .clone()
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| format!("listeners: {e}"))?
                .unwrap_or_default();
            listeners_exact(g, &expected)
        }
        "gateway_condition" => {
            let g = world.get("Gateway", &need(&check.gateway, "gateway")?)?;
            let c = check.condition.clone().unwrap_or_default();
            fresh(&g.status["conditions"], g.generation, "gateway")?;
            has_all(&g.status["conditions"], std::slice::from_ref(&c), "gateway")
        }
        "spec_precondition" => {
            let object = need(&check.object, "object")?;
            let (kind, name) = object.split_once(' ').unwrap_or(("", &object));
            static_addresses_substituted(world.get(kind, name)?)
        }
        "gateway_status_addresses" => {
            let g = world.get("Gateway", &need(&check.gateway, "gateway")?)?;
            let want = serde_json::json!([{"type": "IPAddress", "value": USABLE_ADDRESS}]);
            (g.status["addresses"] == want)
                .then_some(())
                .ok_or_else(|| {
                    format!(
                        "expected status.addresses {want}, got {}",
                        g.status["addresses"]
                    )
                })
        }
        "generated_resources_propagate_infrastructure" => {
            let name = need(&check.gateway, "gateway")?;
            infrastructure_propagated(world, &name)
        }
        "gateway_zero_routes" => {
            let g = world.get("Gateway", &need(&check.gateway, "gateway")?)?;
            let ls = list(&g.status["listeners"]);
            if ls.is_empty() || (ls.len() == 1 && ls[0]["attachedRoutes"] == 0) {
                Ok(())
            } else {
                Err(format!(
                    "expected no listeners or one with attachedRoutes 0, got {}",
                    g.status["listeners"]
                ))
            }
        }
        "gateway_latest_generation" => {
            let g = world.get("Gateway", &need(&check.gateway, "gateway")?)?;
            nonempty_fresh(&g.status["conditions"], g.generation, "gateway")
        }
        "gatewayclass_latest_generation" => {
            let c = world.get("GatewayClass", &need(&check.gateway_class, "gatewayClass")?)?;
            nonempty_fresh(&c.status["conditions"], c.generation, "gatewayclass")
        }
        "route_latest_generation" => {
            let r = world.get("HTTPRoute", &need(&check.route, "route")?)?;
            let parents = list(&r.status["parents"]);
            if parents.is_empty() {
                return Err("status.parents is empty".into());
            }
            for p in parents {
                nonempty_fresh(&p["conditions"], r.generation, &parent_label(p))?;
            }
            Ok(())
        }
        "gatewayclass_accepted_any" => {
            let c = world.get("GatewayClass", &need(&check.gateway_class, "gatewayClass")?)?;
            let any = Cond {
                kind: "Accepted".into(),
                ..Cond::default()
            };
            has_all(&c.status["conditions"], &[any], "gatewayclass")
        }
        "route_parents" => {
            let r = world.get("HTTPRoute", &need(&check.route, "route")?)?;
            route_parents(r, &check.parents, &world.controller_name)
        }
        "route_condition" => {
            let r = world.get("HTTPRoute", &need(&check.route, "route")?)?;
            let gw = need(&check.parent_gateway, "parentGateway")?;
            let (ns, name) = gw.split_once('/').unwrap_or(("", gw.as_str()));
            let c = check.condition.clone().unwrap_or_default();
            let mut why = vec![];
            for p in list(&r.status["parents"]) {
                let pr = &p["parentRef"];
                if pr["name"] != name || !(pr["namespace"].is_null() || pr["namespace"] == ns) {
                    continue;
                }
                match fresh(&p["conditions"], r.generation, &parent_label(p)).and_then(|()| {
                    has_all(&p["conditions"], std::slice::from_ref(&c), &parent_label(p))
                }) {
                    Ok(()) => return Ok(()),
                    Err(e) => why.push(e),
                }
            }
            Err(if why.is_empty() {
                format!(
                    "no status.parents entry for {gw}; parents: {}",
                    summary_parents(r)
                )
            } else {
                why.join("; ")
            })
        }
        "route_no_accepted_parents" => {
            let r = world.get("HTTPRoute", &need(&check.route, "route")?)?;
            let parents = list(&r.status["parents"]);
            let rejected = Cond {
                kind: "Accepted".into(),
                status: "False".into(),
                reason: None,
            };
            if parents.is_empty()
                || (parents.len() == 1
                    && has_all(&parents[0]["conditions"], &[rejected], "").is_ok())
            {
                Ok(())
            } else {
                Err(format!(
                    "expected no parents or one with Accepted=False, got {}",
                    summary_parents(r)
                ))
            }
        }
        "namespaces_ready" => namespaces_ready(world, &check.namespaces),
        "generation_changed" => {
            let object = need(&check.object, "object")?;
            let now = world
                .generation_of(&object)
                .ok_or_else(|| format!("{object} does not exist"))?;
            match recorded.get(&object) {
                None => Err(format!(
                    "no generation was recorded for {object} before a mutate"
                )),
                Some(before) if *before == now => Err(format!(
                    "metadata.generation is still {now} after the mutate"
                )),
                Some(_) => Ok(()),
            }
        }
        other => Err(format!(
            "check `{other}` is not implemented by the gwsim runner"
        )),
    }
}

/// The one `spec_precondition` upstream has: `GatewayStaticAddresses`' Gateway asks for an
/// address of an invalid type, then the unusable one, then the usable one.
fn static_addresses_substituted(o: &ObjView) -> Result<(), String> {
    let a = list(&o.spec["addresses"]);
    let ok = a.len() == 3
        && a[0]["type"] == "test/fake-invalid-type"
        && a[1]["value"] == UNUSABLE_ADDRESS
        && a[2]["value"] == USABLE_ADDRESS;
    ok.then_some(()).ok_or_else(|| {
        format!(
            "expected spec.addresses [invalid type, {UNUSABLE_ADDRESS}, {USABLE_ADDRESS}], got {}",
            o.spec["addresses"]
        )
    })
}

/// Upstream lists the objects labelled with the Gateway's name in its namespace, needs one
/// at least, and needs each to carry every `spec.infrastructure` label and annotation.
fn infrastructure_propagated(world: &World, gateway: &str) -> Result<(), String> {
    let g = world.get("Gateway", gateway)?;
    let (_, name) = gateway.split_once('/').unwrap_or(("", gateway));
    let generated: Vec<&GatewayService> = world
        .generated
        .iter()
        .filter(|s| s.namespace == g.namespace)
        .filter(|s| s.labels.get(GATEWAY_NAME_LABEL).map(String::as_str) == Some(name))
        .collect();
    if generated.is_empty() {
        return Err(format!("no object is labelled {GATEWAY_NAME_LABEL}={name}"));
    }
    let wanted = |field: &str| -> Vec<(String, String)> {
        g.spec["infrastructure"][field]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect()
    };
    for s in generated {
        for (field, have) in [("labels", &s.labels), ("annotations", &s.annotations)] {
            for (k, v) in wanted(field) {
                if have.get(&k) != Some(&v) {
                    return Err(format!(
                        "Service {}/{} lacks the infrastructure {field} {k}={v}",
                        s.namespace, s.name
                    ));
                }
            }
        }
    }
    Ok(())
}

fn list(v: &Value) -> Vec<&Value> {
    v.as_array().map(|a| a.iter().collect()).unwrap_or_default()
}

fn cond_matches(actual: &Value, want: &Cond) -> bool {
    actual["type"] == want.kind.as_str()
        && (want.status.is_empty() || actual["status"] == want.status.as_str())
        && want
            .reason
            .as_deref()
            .is_none_or(|r| r.is_empty() || actual["reason"] == r)
}

/// Every expected condition is present.
fn has_all(actual: &Value, want: &[Cond], at: &str) -> Result<(), String> {
    for w in want {
        if !list(actual).iter().any(|a| cond_matches(a, w)) {
            return Err(format!(
                "{at}: expected {}={}{}, got [{}]",
                w.kind,
                if w.status.is_empty() { "*" } else { &w.status },
                w.reason
                    .as_deref()
                    .map(|r| format!("/{r}"))
                    .unwrap_or_default(),
                summary(actual)
            ));
        }
    }
    Ok(())
}

/// Every condition's observedGeneration equals the object's generation.
fn fresh(actual: &Value, generation: i64, at: &str) -> Result<(), String> {
    for c in list(actual) {
        if c["observedGeneration"] != generation {
            return Err(format!(
                "{at}: condition {} has observedGeneration {}, metadata.generation is {generation}",
                c["type"].as_str().unwrap_or("?"),
                c["observedGeneration"]
            ));
        }
    }
    Ok(())
}

fn nonempty_fresh(actual: &Value, generation: i64, at: &str) -> Result<(), String> {
    if list(actual).is_empty() {
        return Err(format!("{at}: no conditions"));
    }
    fresh(actual, generation, at)
}

fn summary(conds: &Value) -> String {
    list(conds)
        .iter()
        .map(|c| {
            format!(
                "{}={}/{}",
                c["type"].as_str().unwrap_or("?"),
                c["status"].as_str().unwrap_or("?"),
                c["reason"].as_str().unwrap_or("?")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn parent_label(p: &Value) -> String {
    let pr = &p["parentRef"];
    format!(
        "parent {}{}",
        pr["namespace"]
            .as_str()
            .map(|n| format!("{n}/"))
            .unwrap_or_default(),
        pr["name"].as_str().unwrap_or("?")
    )
}

fn summary_parents(r: &ObjView) -> String {
    let ps: Vec<String> = list(&r.status["parents"])
        .iter()
        .map(|p| format!("{} [{}]", parent_label(p), summary(&p["conditions"])))
        .collect();
    if ps.is_empty() {
        "none".into()
    } else {
        ps.join("; ")
    }
}

fn listeners_exact(g: &ObjView, expected: &[ListenerExpect]) -> Result<(), String> {
    let actual = list(&g.status["listeners"]);
    if actual.len() != expected.len() {
        return Err(format!(
            "expected {} listeners in status, got {}",
            expected.len(),
            actual.len()
        ));
    }
    for e in expected {
        let Some(a) = actual.iter().find(|a| a["name"] == e.name.as_str()) else {
            return Err(format!(
                "listener {} is missing from status.listeners",
                e.name
            ));
        };
        let at = format!("listener {}", e.name);
        if a["attachedRoutes"] != e.attached_routes {
            return Err(format!(
                "{at}: expected attachedRoutes {}, got {}",
                e.attached_routes, a["attachedRoutes"]
            ));
        }
        fresh(&a["conditions"], g.generation, &at)?;
        has_all(&a["conditions"], &e.conditions, &at)?;
        let kinds = list(&a["supportedKinds"]);
        if e.supported_kinds.is_empty() && !kinds.is_empty() {
            return Err(format!(
                "{at}: expected no supportedKinds, got {}",
                a["supportedKinds"]
            ));
        }
        for GroupKind { group, kind } in &e.supported_kinds {
            let group = group.as_deref().unwrap_or(crate::model::GATEWAY_GROUP);
            if !kinds
                .iter()
                .any(|k| k["kind"] == kind.as_str() && k["group"] == group)
            {
                return Err(format!(
                    "{at}: expected supportedKinds to include {group}/{kind}, got {}",
                    a["supportedKinds"]
                ));
            }
        }
    }
    Ok(())
}

fn route_parents(r: &ObjView, expected: &[ParentExpect], controller: &str) -> Result<(), String> {
    let actual = list(&r.status["parents"]);
    // Current upstream looks each expected parent up; extra entries (one per sectionName,
    // say) are allowed.
    for e in expected {
        let want_controller = e.controller_name.replace("${CONTROLLER_NAME}", controller);
        let pr = &e.parent_ref;
        let found = actual.iter().find(|a| {
            let ar = &a["parentRef"];
            a["controllerName"] == want_controller.as_str()
                && pr.group.as_deref().is_none_or(|g| ar["group"] == g)
                && pr.kind.as_deref().is_none_or(|k| ar["kind"] == k)
                && ar["name"] == pr.name.as_str()
                && match &pr.namespace {
                    Some(ns) => {
                        ar["namespace"] == ns.as_str()
                            || (!e.namespace_required && ar["namespace"].is_null())
                    }
                    None => ar["namespace"].is_null(),
                }
        });
        let Some(a) = found else {
            return Err(format!(
                "no parent entry for {}{} with controllerName {want_controller} and explicit group/kind; parents: {}",
                pr.namespace.as_deref().map(|n| format!("{n}/")).unwrap_or_default(),
                pr.name,
                summary_parents(r)
            ));
        };
        fresh(&a["conditions"], r.generation, &parent_label(a))?;
        has_all(&a["conditions"], &e.conditions, &parent_label(a))?;
    }
    Ok(())
}

fn namespaces_ready(world: &World, namespaces: &[String]) -> Result<(), String> {
    for ns in namespaces {
        for (name, g) in world
            .objects
            .iter()
            .filter(|(k, o)| k.starts_with("Gateway ") && o.namespace == *ns)
        {
            if g.annotations
                .get(SKIP_READINESS)
                .is_some_and(|v| v == "true")
            {
                continue;
            }
            let want = [
                Cond {
                    kind: "Accepted".into(),
                    status: "True".into(),
                    reason: None,
                },
                Cond {
                    kind: "Programmed".into(),
                    status: "True".into(),
                    reason: None,
                },
            ];
            fresh(&g.status["conditions"], g.generation, name)?;
            has_all(&g.status["conditions"], &want, name)?;
        }
        let (planned, running) = world.pods.get(ns).copied().unwrap_or_default();
        if running < planned {
            return Err(format!(
                "namespace {ns}: {running} of {planned} pods are running"
            ));
        }
    }
    Ok(())
}
