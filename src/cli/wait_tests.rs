//! `--for` parsing, kubectl's condition rule and Go durations.

use super::*;
use serde_json::json;

fn gateway(generation: i64, observed: i64, status: &str) -> Value {
    json!({
        "metadata": {"name": "g", "generation": generation},
        "status": {"conditions": [
            {"type": "Accepted", "status": "True", "observedGeneration": observed},
            {"type": "Programmed", "status": status, "observedGeneration": observed},
        ]}
    })
}

#[test]
fn condition_type_and_status_are_case_insensitive() {
    let g = gateway(1, 1, "True");
    assert!(condition_met(&g, "programmed", "true"));
    assert!(condition_met(&g, "PROGRAMMED", "True"));
    assert!(!condition_met(&g, "Programmed", "False"));
    assert!(!condition_met(&g, "Ready", "True"));
}

#[test]
fn a_condition_for_an_older_generation_does_not_count() {
    assert!(!condition_met(&gateway(2, 1, "True"), "Programmed", "True"));
    assert!(condition_met(&gateway(2, 2, "True"), "Programmed", "True"));
}

#[test]
fn for_flags_parse() {
    assert_eq!(
        For::parse("condition=Programmed"),
        Ok(For::Condition {
            kind: "Programmed".into(),
            status: "True".into()
        })
    );
    assert_eq!(
        For::parse("condition=Accepted=false"),
        Ok(For::Condition {
            kind: "Accepted".into(),
            status: "false".into()
        })
    );
    assert_eq!(For::parse("delete"), Ok(For::Delete));
    let f = For::parse("jsonpath={.status.conditions[?(@.type==\"Programmed\")].status}=True")
        .expect("jsonpath");
    assert!(f.met(Some(&gateway(1, 1, "True"))));
    assert!(!f.met(Some(&gateway(1, 1, "False"))));
    assert!(For::parse("ready").is_err());
    assert!(For::Delete.met(None));
}

#[test]
fn timeouts_are_go_durations() {
    assert_eq!(parse_timeout("30s"), Ok(Duration::from_secs(30)));
    assert_eq!(parse_timeout("1m30s"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_timeout("0"), Ok(Duration::ZERO));
    assert_eq!(parse_timeout("-1s"), Ok(Duration::from_secs(7 * 24 * 3600)));
    assert!(parse_timeout("30").is_err());
    assert!(parse_timeout("abc").is_err());
}

#[test]
fn targets_accept_both_spellings() {
    let both = |v: &[&str]| targets(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        both(&["gtw/a"]),
        Ok(vec![(
            Resource::Object(crate::model::Kind::Gateway),
            "a".into()
        )])
    );
    assert_eq!(both(&["gateway", "a", "b"]).map(|t| t.len()), Ok(2));
    assert!(both(&["gateway"]).is_err());
    assert!(both(&["nope/a"]).is_err());
}
