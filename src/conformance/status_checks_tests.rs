//! Tests of the status checks against small hand-made snapshots.

use super::case::StatusCheck;
use super::status_checks::{run, ObjView, World};
use serde_json::json;
use serde_json::Value;
use std::collections::BTreeMap;

fn world(route_status: Value, generation: i64) -> World {
    let mut objects = BTreeMap::new();
    objects.insert(
        "HTTPRoute ns/r".to_string(),
        ObjView {
            namespace: "ns".into(),
            generation,
            status: route_status,
            spec: Value::Null,
            annotations: BTreeMap::new(),
        },
    );
    World {
        objects,
        pods: BTreeMap::new(),
        controller_name: "c".into(),
        generated: Vec::new(),
    }
}

fn parent(name: &str, gen: i64) -> Value {
    json!({
        "controllerName": "c",
        "parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": name, "namespace": "ns"},
        "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "observedGeneration": gen}],
    })
}

fn check(yaml: &str) -> StatusCheck {
    let v: Value = serde_norway::from_str(yaml).expect("yaml");
    serde_json::from_value(v).expect("check")
}

const PARENTS: &str = "
check: route_parents
route: ns/r
parents:
- parentRef: {group: gateway.networking.k8s.io, kind: Gateway, namespace: ns, name: gw}
  controllerName: ${CONTROLLER_NAME}
  conditions: [{type: Accepted, status: 'True', reason: Accepted}]
";

#[test]
fn route_parents_finds_each_expected_parent_and_needs_fresh_conditions() {
    let c = check(PARENTS);
    let none = BTreeMap::new();
    let w = world(json!({"parents": [parent("other", 2), parent("gw", 2)]}), 2);
    assert_eq!(run(&c, &w, &none), Ok(()));
    let stale = world(json!({"parents": [parent("gw", 1)]}), 2);
    let e = run(&c, &stale, &none).expect_err("stale");
    assert!(e.contains("observedGeneration 1"), "{e}");
    let missing = world(json!({"parents": [parent("other", 2)]}), 2);
    assert!(run(&c, &missing, &none).is_err());
}

#[test]
fn route_condition_and_generation_changed() {
    let c = check(
        "{check: route_condition, route: ns/r, parentGateway: ns/gw, condition: {type: Accepted, status: 'False'}}",
    );
    let w = world(json!({"parents": [parent("gw", 3)]}), 3);
    let e = run(&c, &w, &BTreeMap::new()).expect_err("accepted is True");
    assert!(e.contains("expected Accepted=False"), "{e}");
    let g = check("{check: generation_changed, object: HTTPRoute ns/r}");
    let before: BTreeMap<String, i64> = [("HTTPRoute ns/r".to_string(), 2)].into();
    assert_eq!(run(&g, &w, &before), Ok(()));
    let same: BTreeMap<String, i64> = [("HTTPRoute ns/r".to_string(), 3)].into();
    assert!(run(&g, &w, &same).is_err());
}

/// A world with only Gateway `ns/gw`, of this spec and status.
fn with_gateway(spec: Value, status: Value) -> World {
    let mut w = world(Value::Null, 1);
    w.objects.insert(
        "Gateway ns/gw".into(),
        ObjView {
            namespace: "ns".into(),
            generation: 1,
            status,
            spec,
            annotations: BTreeMap::new(),
        },
    );
    w
}

#[test]
fn static_address_checks_read_the_spec_and_the_status() {
    use super::manifests::{UNUSABLE_ADDRESS, USABLE_ADDRESS};
    let gateway = with_gateway;
    let none = BTreeMap::new();
    let pre = check("{check: spec_precondition, object: Gateway ns/gw}");
    let three = json!({"addresses": [
        {"type": "test/fake-invalid-type", "value": "x"},
        {"type": "IPAddress", "value": UNUSABLE_ADDRESS},
        {"type": "IPAddress", "value": USABLE_ADDRESS},
    ]});
    assert_eq!(run(&pre, &gateway(three, Value::Null), &none), Ok(()));
    let unsubstituted = json!({"addresses": [
        {"type": "test/fake-invalid-type", "value": "x"},
        {"value": "PLACEHOLDER_UNUSABLE_ADDRS"},
        {"value": "PLACEHOLDER_USABLE_ADDRS"},
    ]});
    assert!(run(&pre, &gateway(unsubstituted, Value::Null), &none).is_err());

    let addrs = check("{check: gateway_status_addresses, gateway: ns/gw}");
    let usable = json!({"addresses": [{"type": "IPAddress", "value": USABLE_ADDRESS}]});
    assert_eq!(run(&addrs, &gateway(Value::Null, usable), &none), Ok(()));
    let both = json!({"addresses": [
        {"type": "IPAddress", "value": USABLE_ADDRESS},
        {"type": "IPAddress", "value": UNUSABLE_ADDRESS},
    ]});
    assert!(run(&addrs, &gateway(Value::Null, both), &none).is_err());
}

#[test]
fn infrastructure_must_reach_the_generated_service() {
    use crate::controller::generated::{GatewayService, GATEWAY_NAME_LABEL};
    let mut w = with_gateway(
        json!({"infrastructure": {"labels": {"team": "a"}, "annotations": {"note": "b"}}}),
        Value::Null,
    );
    let c = check("{check: generated_resources_propagate_infrastructure, gateway: ns/gw}");
    let none = BTreeMap::new();
    let e = run(&c, &w, &none).expect_err("nothing generated");
    assert!(e.contains("no object is labelled"), "{e}");
    let service = |labels: &[(&str, &str)], annotations: &[(&str, &str)]| GatewayService {
        namespace: "ns".into(),
        name: "gw-c".into(),
        gateway: "gw".into(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([(GATEWAY_NAME_LABEL.to_string(), "gw".to_string())])
            .collect(),
        annotations: annotations
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        address: "127.0.0.1".into(),
        ports: Vec::new(),
    };
    w.generated = vec![service(&[("team", "a")], &[])];
    let e = run(&c, &w, &none).expect_err("annotation missing");
    assert!(e.contains("annotations note=b"), "{e}");
    w.generated = vec![service(&[("team", "a")], &[("note", "b")])];
    assert_eq!(run(&c, &w, &none), Ok(()));
}
