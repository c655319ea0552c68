//! What gwsim remembers about objects across reloads and restarts: when it first saw each
//! one and its generation, so "oldest route wins", AGE columns and `observedGeneration` stay
//! stable when gwsim restarts.

use crate::model::ObjectKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Per-object memory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// RFC 3339 time gwsim first saw the object.
    pub created: String,
    pub generation: i64,
    /// Hash of the spec the generation was counted for.
    pub spec_hash: u64,
}

/// The memory of every object seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    #[serde(with = "as_list")]
    pub records: BTreeMap<ObjectKey, Record>,
}

impl History {
    /// Records that `key` has `spec` now; bumps its generation when the spec changed.
    pub fn observe(&mut self, key: &ObjectKey, spec: &serde_json::Value, now: &str) -> Record {
        let hash = crate::sim::rng::fnv1a64(spec.to_string().as_bytes());
        let record = self.records.entry(key.clone()).or_insert_with(|| Record {
            created: now.to_string(),
            generation: 1,
            spec_hash: hash,
        });
        if record.spec_hash != hash {
            record.generation += 1;
            record.spec_hash = hash;
        }
        record.clone()
    }

    /// Drops records of objects that no longer exist: a deleted and re-created object is new.
    pub fn forget_except<'a>(&mut self, keys: impl Iterator<Item = &'a ObjectKey>) {
        let keep: std::collections::BTreeSet<&ObjectKey> = keys.collect();
        self.records.retain(|k, _| keep.contains(k));
    }
}

/// JSON maps need string keys; the history is stored as a list of (key, record).
mod as_list {
    use super::{ObjectKey, Record};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    #[derive(Serialize, Deserialize)]
    struct Entry {
        key: ObjectKey,
        #[serde(flatten)]
        record: Record,
    }

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<ObjectKey, Record>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let list: Vec<Entry> = map
            .iter()
            .map(|(k, r)| Entry {
                key: k.clone(),
                record: r.clone(),
            })
            .collect();
        list.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<ObjectKey, Record>, D::Error> {
        let list = Vec::<Entry>::deserialize(d)?;
        Ok(list.into_iter().map(|e| (e.key, e.record)).collect())
    }
}
