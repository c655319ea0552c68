//! Finds a listener's virtual host for a request host without scanning them all: exact
//! hostnames in a hash map, wildcards (`*.example.com`) by their suffix, so a lookup costs
//! at most one probe per label of the request host however many routes there are.
//!
//! Lookups run on every request with a host the client chose, against keys from the
//! configuration: a fast seeded hasher (foldhash) instead of SipHash, and a suffix is only
//! probed when some wildcard has a suffix of that length, so a typical lookup is one or two
//! probes whatever the host's depth.
//!
//! The virtual hosts are ordered most specific first (exact, then longer wildcards, then
//! `*`), and the first that matches wins; the index returns the same one, as the lowest
//! position among the patterns that match.

use super::matcher::host_matches;
use compact_str::CompactString;
use foldhash::HashMap;

/// The index of one listener's virtual hosts, by position in its list.
#[derive(Debug, Default)]
pub struct HostIndex {
    exact: HashMap<CompactString, usize>,
    /// `*.example.com` under `.example.com`.
    suffix: HashMap<CompactString, usize>,
    /// Bit `n` set: some suffix is `n` bytes long (suffixes of 255 bytes and more share bit 255).
    suffix_lens: [u64; 4],
    /// `*`, the catch-all.
    any: Option<usize>,
    /// Patterns of any other shape (not produced by the controller today), scanned in order.
    other: Vec<(String, usize)>,
}

impl HostIndex {
    /// Indexes `patterns` (in precedence order).
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> HostIndex {
        let mut index = HostIndex::default();
        for (i, p) in patterns.into_iter().enumerate() {
            if p == "*" {
                index.any.get_or_insert(i);
            } else if let Some(suffix) = p.strip_prefix('*').filter(|s| s.starts_with('.')) {
                index.suffix.entry(suffix.into()).or_insert(i);
                let bit = suffix.len().min(255);
                index.suffix_lens[bit / 64] |= 1 << (bit % 64);
            } else if p.contains('*') {
                index.other.push((p.to_string(), i));
            } else {
                index
                    .exact
                    .entry(p.to_ascii_lowercase().into())
                    .or_insert(i);
            }
        }
        index
    }

    /// The position of the first pattern matching `host` (normalised: lower case, no port).
    pub fn find(&self, host: &str) -> Option<usize> {
        let mut best = self.exact.get(host).copied();
        let mut keep = |i: usize| best = Some(best.map_or(i, |b| b.min(i)));
        // Every suffix starting at a dot, the apex excluded (a wildcard needs a label before it).
        if !self.suffix.is_empty() {
            for (at, _) in host.match_indices('.').filter(|(at, _)| *at > 0) {
                let bit = (host.len() - at).min(255);
                if self.suffix_lens[bit / 64] & (1 << (bit % 64)) == 0 {
                    continue;
                }
                if let Some(&i) = self.suffix.get(&host[at..]) {
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
