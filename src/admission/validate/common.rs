//! Shared schema checks: the OpenAPI bounds (lengths, patterns, ranges, item counts) worded
//! as the API server words them, and the string formats and object references that every
//! Gateway API kind reuses.

use crate::admission::Violation;
use regex::Regex;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// A CRD `pattern:`, compiled on first use.
pub struct Pattern {
    source: &'static str,
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    /// A pattern from its CRD source text.
    pub const fn new(source: &'static str) -> Self {
        Pattern {
            source,
            compiled: OnceLock::new(),
        }
    }

    /// The pattern as the CRD spells it, quoted back in messages.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// Whether `value` matches. Like OpenAPI, the match is unanchored unless the pattern
    /// anchors itself (`AddressType` relies on that).
    pub fn is_match(&self, value: &str) -> bool {
        // Every pattern is a constant that a test compiles; one that failed to compile would
        // accept everything rather than reject every object.
        self.compiled
            .get_or_init(|| Regex::new(self.source).ok())
            .as_ref()
            .is_none_or(|re| re.is_match(value))
    }

    /// Whether the pattern compiles (checked by the tests).
    #[cfg(test)]
    pub fn compiles(&self) -> bool {
        Regex::new(self.source).is_ok()
    }
}

/// `Hostname`: RFC 1123 with an optional leading wildcard label.
pub static HOSTNAME_RE: Pattern =
    Pattern::new(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
/// `PreciseHostname` and `SectionName`: an RFC 1123 subdomain.
pub static SUBDOMAIN_RE: Pattern =
    Pattern::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
/// `Namespace`: an RFC 1123 label.
pub static NAMESPACE_RE: Pattern = Pattern::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
/// `Group`: empty (the core group) or an RFC 1123 subdomain.
pub static GROUP_RE: Pattern =
    Pattern::new(r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
/// `Kind`.
pub static KIND_RE: Pattern = Pattern::new(r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$");
/// `HeaderName`: an RFC 7230 token.
pub static HEADER_NAME_RE: Pattern = Pattern::new(r"^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$");
/// Experimental channel `HTTPHeader.value` and `HTTPHeaderMatch.value`.
pub static HEADER_VALUE_RE: Pattern = Pattern::new(r"^[!-~]+([\t ]?[!-~]+)*$");
/// `Duration` (GEP-2257).
pub static DURATION_RE: Pattern = Pattern::new(r"^([0-9]{1,5}(h|m|s|ms)){1,4}$");
/// `GatewayController`: a domain-prefixed path.
pub static CONTROLLER_RE: Pattern = Pattern::new(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$",
);
/// `ProtocolType`: a core protocol name or a domain-prefixed one.
pub static PROTOCOL_RE: Pattern = Pattern::new(
    r"^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$",
);
/// `AddressType`, alternation precedence included, as the CRD has it.
pub static ADDRESS_TYPE_RE: Pattern = Pattern::new(
    r"^Hostname|IPAddress|NamedAddress|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$",
);
/// RFC 3986 path characters, for `Exact`/`PathPrefix` path matches and auth paths.
pub static PATH_CHARS_RE: Pattern =
    Pattern::new(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$");
/// `CORSOrigin`.
pub static CORS_ORIGIN_RE: Pattern =
    Pattern::new(r"(^\*$)|(^([a-zA-Z][a-zA-Z0-9+\-.]+):\/\/([^:/?#]+)(:([0-9]{1,5}))?$)");
/// Label and annotation keys in `infrastructure` (a qualified name).
pub static QUALIFIED_NAME_RE: Pattern = Pattern::new(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$",
);
/// `LabelValue`.
pub static LABEL_VALUE_RE: Pattern = Pattern::new(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");

/// Every pattern, for the test that they all compile.
#[cfg(test)]
pub static ALL_PATTERNS: [&Pattern; 15] = [
    &HOSTNAME_RE,
    &SUBDOMAIN_RE,
    &NAMESPACE_RE,
    &GROUP_RE,
    &KIND_RE,
    &HEADER_NAME_RE,
    &HEADER_VALUE_RE,
    &DURATION_RE,
    &CONTROLLER_RE,
    &PROTOCOL_RE,
    &ADDRESS_TYPE_RE,
    &PATH_CHARS_RE,
    &CORS_ORIGIN_RE,
    &QUALIFIED_NAME_RE,
    &LABEL_VALUE_RE,
];

/// The bounds of one string schema type.
pub struct Str {
    pub min: usize,
    pub max: usize,
    pub pattern: Option<&'static Pattern>,
}

/// `Hostname`.
pub static HOSTNAME: Str = Str {
    min: 1,
    max: 253,
    pattern: Some(&HOSTNAME_RE),
};
/// `PreciseHostname`.
pub static PRECISE_HOSTNAME: Str = Str {
    min: 1,
    max: 253,
    pattern: Some(&SUBDOMAIN_RE),
};
/// `SectionName`.
pub static SECTION_NAME: Str = Str {
    min: 1,
    max: 253,
    pattern: Some(&SUBDOMAIN_RE),
};
/// `ObjectName`.
pub static OBJECT_NAME: Str = Str {
    min: 1,
    max: 253,
    pattern: None,
};
/// `Namespace`.
pub static NAMESPACE: Str = Str {
    min: 1,
    max: 63,
    pattern: Some(&NAMESPACE_RE),
};
/// `Group`.
pub static GROUP: Str = Str {
    min: 0,
    max: 253,
    pattern: Some(&GROUP_RE),
};
/// `Kind`.
pub static KIND: Str = Str {
    min: 1,
    max: 63,
    pattern: Some(&KIND_RE),
};
/// `HeaderName` (also query parameter names).
pub static HEADER_NAME: Str = Str {
    min: 1,
    max: 256,
    pattern: Some(&HEADER_NAME_RE),
};
/// `HTTPHeader.value` and `HTTPHeaderMatch.value` in the experimental channel.
pub static HEADER_VALUE: Str = Str {
    min: 1,
    max: 4096,
    pattern: Some(&HEADER_VALUE_RE),
};
/// `Duration`.
pub static DURATION: Str = Str {
    min: 0,
    max: usize::MAX,
    pattern: Some(&DURATION_RE),
};

/// Records one violation.
pub fn push(out: &mut Vec<Violation>, field: impl Into<String>, message: impl Into<String>) {
    out.push(Violation::new(field, message));
}

/// `minLength`, `maxLength` and `pattern` of a string (lengths count characters, as OpenAPI does).
pub fn string(out: &mut Vec<Violation>, at: &str, value: &str, bounds: &Str) {
    let len = value.chars().count();
    if len < bounds.min {
        let min = bounds.min;
        push(
            out,
            at,
            format!("Invalid value: {value:?}: should be at least {min} chars long"),
        );
    } else if len > bounds.max {
        push(
            out,
            at,
            format!("Too long: may not be more than {} bytes", bounds.max),
        );
    } else if let Some(pattern) = bounds.pattern.filter(|p| !p.is_match(value)) {
        let source = pattern.source();
        push(
            out,
            at,
            format!("Invalid value: {value:?}: should match '{source}'"),
        );
    }
}

/// `maxLength` alone.
pub fn max_len(out: &mut Vec<Violation>, at: &str, value: &str, max: usize) {
    string(
        out,
        at,
        value,
        &Str {
            min: 0,
            max,
            pattern: None,
        },
    );
}

/// `minimum` and `maximum` of an integer.
pub fn range(out: &mut Vec<Violation>, at: &str, value: i64, min: i64, max: i64) {
    if value < min {
        push(
            out,
            at,
            format!("Invalid value: {value}: should be greater than or equal to {min}"),
        );
    } else if value > max {
        push(
            out,
            at,
            format!("Invalid value: {value}: should be less than or equal to {max}"),
        );
    }
}

/// `PortNumber` where the CRD bounds it: 1 to 65535.
pub fn port(out: &mut Vec<Violation>, at: &str, value: i32) {
    range(out, at, value.into(), 1, 65535);
}

/// `maxItems`.
pub fn max_items<T>(out: &mut Vec<Violation>, at: &str, items: &[T], max: usize) {
    if items.len() > max {
        let n = items.len();
        push(
            out,
            at,
            format!("Too many: {n}: must have at most {max} items"),
        );
    }
}

/// `minItems`.
pub fn min_items<T>(out: &mut Vec<Violation>, at: &str, items: &[T], min: usize) {
    if items.len() < min {
        push(
            out,
            at,
            format!(
                "Invalid value: {}: should have at least {min} items",
                items.len()
            ),
        );
    }
}

/// `maxProperties` of a map.
pub fn max_properties(out: &mut Vec<Violation>, at: &str, len: usize, max: usize) {
    if len > max {
        push(
            out,
            at,
            format!("Too many: {len}: must have at most {max} items"),
        );
    }
}

/// An `enum:` of strings.
pub fn one_of(out: &mut Vec<Violation>, at: &str, value: &str, allowed: &[&str]) {
    if !allowed.contains(&value) {
        let list = allowed
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        push(
            out,
            at,
            format!("Unsupported value: {value:?}: supported values: {list}"),
        );
    }
}

/// `x-kubernetes-list-type: set` (or a `map` keyed by one field): the API server rejects
/// an exact repeat, reported at the repeated item.
pub fn unique<'a>(out: &mut Vec<Violation>, at: &str, keys: impl IntoIterator<Item = &'a str>) {
    let mut seen = BTreeSet::new();
    for (i, key) in keys.into_iter().enumerate() {
        if !seen.insert(key) {
            push(
                out,
                format!("{at}[{i}]"),
                format!("Duplicate value: {key:?}"),
            );
        }
    }
}

/// A `Duration`'s pattern.
pub fn duration(out: &mut Vec<Violation>, at: &str, value: &str) {
    string(out, at, value, &DURATION);
}

/// A GEP-2257 duration in milliseconds, `None` when it does not parse.
pub fn duration_ms(value: &str) -> Option<u64> {
    if !DURATION_RE.is_match(value) {
        return None;
    }
    let mut total = 0u64;
    let mut rest = value;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (1, 2)
        } else {
            match rest.as_bytes().first()? {
                b'h' => (3_600_000, 1),
                b'm' => (60_000, 1),
                b's' => (1_000, 1),
                _ => return None,
            }
        };
        total += n * unit;
        rest = &rest[len..];
    }
    Some(total)
}

/// The fields of a reference, whichever generated struct it comes from.
#[derive(Default, Clone, Copy)]
pub struct Ref<'a> {
    pub group: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    pub port: Option<i32>,
}

/// `Group` and `Kind` of a reference (also of a RouteGroupKind, which has no name).
pub fn group_kind(out: &mut Vec<Violation>, at: &str, group: Option<&str>, kind: Option<&str>) {
    if let Some(group) = group {
        string(out, &format!("{at}.group"), group, &GROUP);
    }
    if let Some(kind) = kind {
        string(out, &format!("{at}.kind"), kind, &KIND);
    }
}

/// The bounds shared by every reference: `Group`, `Kind`, `ObjectName`, `Namespace`.
pub fn reference(out: &mut Vec<Violation>, at: &str, r: Ref<'_>) {
    group_kind(out, at, r.group, r.kind);
    string(out, &format!("{at}.name"), r.name, &OBJECT_NAME);
    if let Some(namespace) = r.namespace {
        string(out, &format!("{at}.namespace"), namespace, &NAMESPACE);
    }
}

/// A `BackendObjectReference`: the reference bounds, its port, and its CEL rule.
pub fn backend_ref(out: &mut Vec<Violation>, at: &str, r: Ref<'_>) {
    reference(out, at, r);
    if let Some(p) = r.port {
        port(out, &format!("{at}.port"), p);
    }
    // BackendObjectReference: `(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true`,
    // evaluated after the group/kind defaults ("" and Service).
    let core = r.group.unwrap_or_default().is_empty();
    if core && r.kind.unwrap_or("Service") == "Service" && r.port.is_none() {
        push(out, at, "Must have port for Service reference");
    }
}
