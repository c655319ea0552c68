//! `metadata.resourceVersion` bookkeeping: one global counter for the whole cluster; every
//! object carries the counter value of its last change (spec, metadata or status), and each
//! change is reported once, so watches can replay what happened after a given version.

use std::collections::BTreeMap;

/// What happened to an object between two observations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Added,
    Modified,
    Deleted,
}

impl Change {
    /// The watch event type Kubernetes uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "ADDED",
            Change::Modified => "MODIFIED",
            Change::Deleted => "DELETED",
        }
    }
}

/// The counter and each object's (content hash, resourceVersion).
#[derive(Clone, Debug, Default)]
pub struct Versions<K: Ord> {
    counter: u64,
    seen: BTreeMap<K, (u64, u64)>,
}

impl<K: Ord + Clone> Versions<K> {
    /// Compares the current objects (key → content hash) with the last observation; every
    /// addition, change and removal takes the next counter value, in key order.
    pub fn observe(&mut self, current: &BTreeMap<K, u64>) -> Vec<(K, Change, u64)> {
        let mut changes = Vec::new();
        let gone: Vec<K> = self
            .seen
            .keys()
            .filter(|k| !current.contains_key(*k))
            .cloned()
            .collect();
        for k in gone {
            self.seen.remove(&k);
            self.counter += 1;
            changes.push((k, Change::Deleted, self.counter));
        }
        for (k, hash) in current {
            let change = match self.seen.get(k) {
                None => Change::Added,
                Some((h, _)) if h != hash => Change::Modified,
                Some(_) => continue,
            };
            self.counter += 1;
            self.seen.insert(k.clone(), (*hash, self.counter));
            changes.push((k.clone(), change, self.counter));
        }
        changes
    }

    /// The resourceVersion of an object's last change.
    pub fn of(&self, key: &K) -> Option<u64> {
        self.seen.get(key).map(|(_, rv)| *rv)
    }

    /// The latest counter value: the resourceVersion of a list.
    pub fn current(&self) -> u64 {
        self.counter
    }
}

#[cfg(test)]
mod tests {
    use super::{Change, Versions};
    use std::collections::BTreeMap;

    #[test]
    fn only_changes_take_new_versions() {
        let mut v = Versions::default();
        let mut now = BTreeMap::from([("a", 1), ("b", 2)]);
        assert_eq!(
            v.observe(&now),
            vec![("a", Change::Added, 1), ("b", Change::Added, 2)]
        );
        assert!(v.observe(&now).is_empty());
        now.insert("b", 3);
        now.remove("a");
        assert_eq!(
            v.observe(&now),
            vec![("a", Change::Deleted, 3), ("b", Change::Modified, 4)]
        );
        assert_eq!(v.of(&"b"), Some(4));
        assert_eq!(v.current(), 4);
    }
}
