//! Unit tests of document splitting, position lookup and typed decoding.

use super::*;

#[test]
fn splits_documents_and_keeps_line_numbers() {
    let text = "a: 1\n---\n# comment only\n---\nb: 2\nc: 3\n...\n";
    let docs = split_documents(text);
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].first_line, 1);
    assert_eq!(docs[1].first_line, 5);
    assert_eq!(docs[1].text, "b: 2\nc: 3\n");
}

#[test]
fn spans_locate_nested_fields() {
    let text = "kind: Gateway\nspec:\n  listeners:\n  - name: http\n    port: 80\n  - name: b\n    port: x\n";
    let spans = Spans::build(text);
    assert_eq!(spans.locate("kind"), Some((1, 1)));
    assert_eq!(spans.locate("spec.listeners[0].port"), Some((5, 5)));
    assert_eq!(spans.locate("spec.listeners[1].port"), Some((7, 5)));
    // Unknown leaves fall back to the closest ancestor.
    assert_eq!(spans.locate("spec.listeners[1].nope"), Some((6, 5)));
}

#[derive(serde::Deserialize, Debug)]
#[allow(dead_code)]
struct Probe {
    spec: ProbeSpec,
}

#[derive(serde::Deserialize, Debug)]
#[allow(dead_code)]
struct ProbeSpec {
    port: i32,
}

#[test]
fn decode_reports_path_and_position() {
    let err = decode::<Probe>("spec:\n  port: eighty\n").expect_err("must fail");
    assert_eq!(err.path, "spec.port");
    assert_eq!(err.line, Some(2));
    assert!(err.message.contains("invalid type"), "{}", err.message);
}

#[test]
fn decode_collects_unknown_fields() {
    let ok = decode::<Probe>("spec:\n  port: 80\n  prot: 1\n").expect("decodes");
    assert_eq!(ok.unknown_fields, vec!["spec.prot".to_string()]);
}

#[test]
fn syntax_error_has_position() {
    let err = parse_value("a: [1, 2\nb: 3\n").expect_err("must fail");
    assert!(err.line.is_some());
}
