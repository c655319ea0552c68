//! Objects as `kubectl get -o yaml|json` shows them: the stored object with its status.

use crate::controller::Translation;
use crate::model::Object;
use crate::status::ObjectStatus;
use crate::store::Store;
use serde_json::Value;

/// The object with its computed status, every condition stamped with `transition_time`
/// where the caller has no better time.
pub fn object_with_status(
    object: &Object,
    status: Option<&ObjectStatus>,
    transition_time: &str,
) -> Value {
    let mut value = object.body.to_json();
    if let (Some(map), Some(status)) = (value.as_object_mut(), status) {
        let mut s = serde_json::to_value(status).unwrap_or_default();
        stamp_conditions(&mut s, transition_time);
        map.insert("status".into(), s);
    }
    value
}

/// Adds `lastTransitionTime` to every condition that lacks one.
pub fn stamp_conditions(value: &mut Value, time: &str) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(conds)) = map.get_mut("conditions") {
                for c in conds.iter_mut().filter_map(Value::as_object_mut) {
                    c.entry("lastTransitionTime")
                        .or_insert_with(|| Value::String(time.to_string()));
                }
            }
            for (k, v) in map.iter_mut() {
                if k != "conditions" {
                    stamp_conditions(v, time);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| stamp_conditions(v, time)),
        _ => {}
    }
}

/// Every object of the store with its status, in printing order (kind, namespace, name).
pub fn all_objects(store: &Store, translation: &Translation, transition_time: &str) -> Vec<Value> {
    store
        .objects
        .values()
        .map(|o| object_with_status(o, translation.status.get(&o.key), transition_time))
        .collect()
}
