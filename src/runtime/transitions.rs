//! `lastTransitionTime` bookkeeping: the pure controller computes conditions without time;
//! the runtime remembers when each condition last changed status and stamps it.

use crate::model::ObjectKey;
use crate::status::ObjectStatus;
use std::collections::BTreeMap;

/// When each condition (object, place, type) last changed status.
#[derive(Debug, Default, Clone)]
pub struct Transitions {
    seen: BTreeMap<(ObjectKey, String, &'static str), (&'static str, String)>,
}

impl Transitions {
    /// Records the statuses of a new translation at `now`; unchanged conditions keep their time.
    pub fn observe(&mut self, statuses: &BTreeMap<ObjectKey, ObjectStatus>, now: &str) {
        let mut next = BTreeMap::new();
        for (key, status) in statuses {
            for (place, c) in status.conditions() {
                let id = (key.clone(), place, c.kind.as_str());
                let time = match self.seen.get(&id) {
                    Some((s, t)) if *s == c.status.as_str() => t.clone(),
                    _ => now.to_string(),
                };
                next.insert(id, (c.status.as_str(), time));
            }
        }
        self.seen = next;
    }

    /// The time to show for a condition.
    pub fn time(&self, key: &ObjectKey, place: &str, kind: &str) -> Option<&str> {
        self.seen
            .iter()
            .find(|((k, p, t), _)| k == key && p == place && *t == kind)
            .map(|(_, (_, time))| time.as_str())
    }

    /// The object's status as JSON with every condition stamped.
    pub fn stamped(&self, key: &ObjectKey, status: &ObjectStatus) -> serde_json::Value {
        let mut value = serde_json::to_value(status).unwrap_or_default();
        let stamp = |conds: &mut serde_json::Value, place: &str| {
            for c in conds.as_array_mut().into_iter().flatten() {
                let kind = c
                    .get("type")
                    .and_then(|t| t.as_str())
                    .unwrap_or_default()
                    .to_string();
                if let (Some(obj), Some(t)) = (c.as_object_mut(), self.time(key, place, &kind)) {
                    obj.insert(
                        "lastTransitionTime".into(),
                        serde_json::Value::String(t.to_string()),
                    );
                }
            }
        };
        if let Some(c) = value.get_mut("conditions") {
            stamp(c, "");
        }
        for l in value
            .get_mut("listeners")
            .and_then(|l| l.as_array_mut())
            .into_iter()
            .flatten()
        {
            let place = format!(
                "listener {}",
                l.get("name").and_then(|n| n.as_str()).unwrap_or_default()
            );
            if let Some(c) = l.get_mut("conditions") {
                stamp(c, &place);
            }
        }
        for p in value
            .get_mut("parents")
            .and_then(|l| l.as_array_mut())
            .into_iter()
            .flatten()
        {
            let r = p.get("parentRef").cloned().unwrap_or_default();
            let name = r.get("name").and_then(|n| n.as_str()).unwrap_or_default();
            let place = match r.get("namespace").and_then(|n| n.as_str()) {
                Some(ns) => format!("parent {ns}/{name}"),
                None => format!("parent {name}"),
            };
            if let Some(c) = p.get_mut("conditions") {
                stamp(c, &place);
            }
        }
        value
    }
}
