//! The spec's route precedence in one place.
//!
//! Within one hostname, among matches: Exact path first, then RegularExpression (longer
//! pattern first), then PathPrefix (longer prefix first); then matches with a method; then
//! more header matches; then more query matches; then the oldest route (creationTimestamp);
//! then `namespace/name` alphabetically; then rule order, then match order within the rule.
//! Regular expressions rank between exact and prefix matches so that a catch-all `/` prefix
//! never hides them.

use crate::ir::{MatchIr, PathMatch};
use std::cmp::{Ordering, Reverse};

/// Everything that orders one match entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rank {
    pub path_kind: u8,
    pub path_len: Reverse<usize>,
    pub no_method: bool,
    pub headers: Reverse<usize>,
    pub query: Reverse<usize>,
    /// creationTimestamp as seconds and nanoseconds since the epoch.
    pub created: (i64, i32),
    pub route: String,
    pub rule: usize,
    pub matcher: usize,
}

impl Rank {
    pub fn new(
        m: &MatchIr,
        created: (i64, i32),
        route: String,
        rule: usize,
        matcher: usize,
    ) -> Rank {
        let (path_kind, path_len) = match &m.path {
            PathMatch::Exact(v) => (0, v.len()),
            PathMatch::RegularExpression(v) => (1, v.len()),
            PathMatch::PathPrefix(v) => (2, v.trim_end_matches('/').len() + usize::from(v == "/")),
        };
        Rank {
            path_kind,
            path_len: Reverse(path_len),
            no_method: m.method.is_none(),
            headers: Reverse(m.headers.len()),
            query: Reverse(m.query_params.len()),
            created,
            route,
            rule,
            matcher,
        }
    }
}

impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Rank {
    fn cmp(&self, o: &Self) -> Ordering {
        (
            self.path_kind,
            self.path_len,
            self.no_method,
            self.headers,
            self.query,
            self.created,
            &self.route,
            self.rule,
            self.matcher,
        )
            .cmp(&(
                o.path_kind,
                o.path_len,
                o.no_method,
                o.headers,
                o.query,
                o.created,
                &o.route,
                o.rule,
                o.matcher,
            ))
    }
}
