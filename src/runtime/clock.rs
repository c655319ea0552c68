//! The wall clock, read in one place so everything else stays deterministic.

/// Now, as RFC 3339 with second precision (as Kubernetes writes timestamps).
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    let secs = now.as_second();
    jiff::Timestamp::from_second(secs)
        .unwrap_or(now)
        .to_string()
}
