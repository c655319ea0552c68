//! Hostname matching, intersection and specificity, per the Gateway API spec: a wildcard
//! `*.example.com` matches one or more labels before `.example.com`, never `example.com`.

use std::cmp::Ordering;

/// Whether `host` (an exact name or a wildcard) is covered by `pattern`.
pub fn covers(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    if pattern == "*" || pattern == host {
        return true;
    }
    match pattern.strip_prefix('*') {
        // `host` may itself be a wildcard: `*.a.b.com` is covered by `*.b.com`.
        Some(suffix) => {
            host.ends_with(suffix)
                && host.len() > suffix.len()
                && host.trim_start_matches('*') != suffix
        }
        None => false,
    }
}

/// The hostnames a route serves on a listener: the intersection of the listener's hostname
/// (None = any) and the route's hostnames (empty = any). `["*"]` means every host; an empty
/// result means no intersection.
pub fn intersect(listener: Option<&str>, route: &[String]) -> Vec<String> {
    match (listener, route.is_empty()) {
        (None, true) => vec!["*".to_string()],
        (None, false) => route.iter().map(|h| h.to_ascii_lowercase()).collect(),
        (Some(l), true) => vec![l.to_ascii_lowercase()],
        (Some(l), false) => {
            let mut out: Vec<String> = route
                .iter()
                .filter_map(|h| {
                    if covers(l, h) {
                        Some(h.to_ascii_lowercase())
                    } else if covers(h, l) {
                        Some(l.to_ascii_lowercase())
                    } else {
                        None
                    }
                })
                .collect();
            out.sort();
            out.dedup();
            out
        }
    }
}

/// Orders hostname patterns most specific first: exact names, then wildcards with longer
/// suffixes, then `*`; ties alphabetically so the order is stable.
pub fn specificity_order(a: &str, b: &str) -> Ordering {
    let rank = |h: &str| -> (u8, std::cmp::Reverse<usize>) {
        if h == "*" {
            (2, std::cmp::Reverse(0))
        } else if h.starts_with('*') {
            (1, std::cmp::Reverse(h.len()))
        } else {
            (0, std::cmp::Reverse(h.len()))
        }
    };
    rank(a).cmp(&rank(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_covers_one_or_more_labels_but_not_the_apex() {
        assert!(covers("*.bar.com", "foo.bar.com"));
        assert!(covers("*.bar.com", "a.b.bar.com"));
        assert!(!covers("*.bar.com", "bar.com"));
        assert!(!covers("*.bar.com", "foobar.com"));
        assert!(covers("*.bar.com", "*.a.bar.com"));
        assert!(covers("*.bar.com", "*.bar.com"));
        assert!(covers("*", "anything.example"));
        assert!(covers("Foo.com", "foo.COM"));
    }

    #[test]
    fn intersection_follows_the_spec() {
        let r = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(intersect(None, &[]), r(&["*"]));
        assert_eq!(intersect(Some("*.sample.com"), &[]), r(&["*.sample.com"]));
        assert_eq!(
            intersect(
                Some("*.sample.com"),
                &r(&["helloworld.sample.com", "other.org"])
            ),
            r(&["helloworld.sample.com"])
        );
        assert_eq!(
            intersect(Some("foo.bar.com"), &r(&["*.bar.com"])),
            r(&["foo.bar.com"])
        );
        assert_eq!(
            intersect(Some("*.bar.com"), &r(&["*.foo.bar.com"])),
            r(&["*.foo.bar.com"])
        );
        assert!(intersect(Some("*.bar.com"), &r(&["bar.com"])).is_empty());
    }

    #[test]
    fn exact_before_longer_wildcard_before_any() {
        let mut v = vec!["*", "*.com", "a.example.com", "*.example.com"];
        v.sort_by(|a, b| specificity_order(a, b));
        assert_eq!(v, vec!["a.example.com", "*.example.com", "*.com", "*"]);
    }
}
