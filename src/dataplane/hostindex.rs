//! Finds a listener's virtual host for a request host without scanning them all: exact
//! hostnames in a hash table, wildcards (`*.example.com`) by their suffix, so a lookup costs
//! at most one probe per label of the request host however many routes there are.
//!
//! Lookups run on every request with a host the client chose, against keys from the
//! configuration: a fast seeded hasher (foldhash) instead of SipHash, and a suffix is only
//! probed when some wildcard has a suffix of that length, so a typical lookup is one or two
//! probes whatever the host's depth.
//!
//! With thousands of hostnames the index no longer fits in the core's caches, and a lookup
//! costs what its cache misses cost. So the names are packed into one buffer and every table
//! slot keeps its name's full hash: a probe compares hashes in the slot and reads the name's
//! bytes only for the slot that really matches, from a buffer a fraction of the size of
//! separately allocated keys.
//!
//! The virtual hosts are ordered most specific first (exact, then longer wildcards, then
//! `*`), and the first that matches wins; the index returns the same one, as the lowest
//! position among the patterns that match.

use super::matcher::host_matches;
use std::hash::BuildHasher;

/// Names mapped to positions, the names packed in one buffer.
#[derive(Debug, Default)]
struct NameMap {
    slots: hashbrown::HashTable<Slot>,
    names: String,
    state: foldhash::fast::RandomState,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    hash: u64,
    start: u32,
    len: u32,
    position: u32,
}

impl NameMap {
    fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn name(&self, slot: &Slot) -> Option<&[u8]> {
        let start = usize::try_from(slot.start).ok()?;
        let end = start.checked_add(usize::try_from(slot.len).ok()?)?;
        self.names.as_bytes().get(start..end)
    }

    fn find(&self, name: &str, hash: u64) -> Option<&Slot> {
        self.slots.find(hash, |s| {
            s.hash == hash && self.name(s) == Some(name.as_bytes())
        })
    }

    /// Maps `name` to `position` unless it is already mapped (the first position wins).
    /// Returns false when the name cannot be stored (a buffer beyond 4 GiB).
    fn insert_first(&mut self, name: &str, position: usize) -> bool {
        let hash = self.state.hash_one(name);
        if self.find(name, hash).is_some() {
            return true;
        }
        let (Ok(start), Ok(len), Ok(position)) = (
            u32::try_from(self.names.len()),
            u32::try_from(name.len()),
            u32::try_from(position),
        ) else {
            return false;
        };
        if start.checked_add(len).is_none() {
            return false;
        }
        self.names.push_str(name);
        let slot = Slot {
            hash,
            start,
            len,
            position,
        };
        self.slots.insert_unique(hash, slot, |s| s.hash);
        true
    }

    fn get(&self, name: &str) -> Option<usize> {
        let slot = self.find(name, self.state.hash_one(name))?;
        usize::try_from(slot.position).ok()
    }
}

/// The index of one listener's virtual hosts, by position in its list.
#[derive(Debug, Default)]
pub struct HostIndex {
    exact: NameMap,
    /// `*.example.com` under `.example.com`.
    suffix: NameMap,
    /// Bit `n` set: some suffix is `n` bytes long (suffixes of 255 bytes and more share bit 255).
    suffix_lens: [u64; 4],
    /// `*`, the catch-all.
    any: Option<usize>,
    /// Patterns the maps cannot hold (any other shape, which the controller does not
    /// produce today), scanned in order.
    other: Vec<(String, usize)>,
}

impl HostIndex {
    /// Indexes `patterns` (in precedence order).
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> HostIndex {
        let mut index = HostIndex::default();
        for (i, p) in patterns.into_iter().enumerate() {
            let stored = if p == "*" {
                index.any.get_or_insert(i);
                true
            } else if let Some(suffix) = p.strip_prefix('*').filter(|s| s.starts_with('.')) {
                let bit = suffix.len().min(255);
                index.suffix_lens[bit / 64] |= 1 << (bit % 64);
                index.suffix.insert_first(suffix, i)
            } else if p.contains('*') {
                false
            } else {
                index.exact.insert_first(&p.to_ascii_lowercase(), i)
            };
            if !stored {
                index.other.push((p.to_string(), i));
            }
        }
        index
    }

    /// The position of the first pattern matching `host` (normalised: lower case, no port).
    pub fn find(&self, host: &str) -> Option<usize> {
        let mut best = self.exact.get(host);
        let mut keep = |i: usize| best = Some(best.map_or(i, |b| b.min(i)));
        // Every suffix starting at a dot, the apex excluded (a wildcard needs a label before it).
        if !self.suffix.is_empty() {
            for (at, _) in host.match_indices('.').filter(|(at, _)| *at > 0) {
                let bit = (host.len() - at).min(255);
                if self.suffix_lens[bit / 64] & (1 << (bit % 64)) == 0 {
                    continue;
                }
                if let Some(i) = self.suffix.get(&host[at..]) {
                    keep(i);
                }
            }
        }
        for (p, i) in &self.other {
            if host_matches(p, host) {
                keep(*i);
            }
        }
        if let Some(i) = self.any {
            keep(i);
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_answer_as_the_first_match_in_order() {
        let patterns = [
            "a.b.example.com",
            "example.com",
            "*.b.example.com",
            "*.example.com",
            "*",
        ];
        let index = HostIndex::new(patterns);
        for host in [
            "a.b.example.com",
            "x.b.example.com",
            "b.example.com",
            "example.com",
            "other.org",
            "x.y.example.com",
            ".example.com",
        ] {
            let linear = patterns.iter().position(|p| host_matches(p, host));
            assert_eq!(index.find(host), linear, "{host}");
        }
        assert_eq!(HostIndex::new(["*.example.com"]).find("example.com"), None);
        let long = format!("*.{}.example.com", "x".repeat(300));
        let host = format!("a{}", &long[1..]);
        assert_eq!(HostIndex::new([long.as_str()]).find(&host), Some(0));
    }
}
