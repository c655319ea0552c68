//! The kubectl jsonpath forms people use, checked against what kubectl prints.

use super::*;
use serde_json::json;

fn list() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "x"}},
             "status": {"addresses": [{"value": "127.0.1.5"}],
                        "conditions": [{"type": "Accepted", "status": "True"},
                                       {"type": "Programmed", "status": "False"}]}},
            {"metadata": {"name": "b"},
             "status": {"conditions": [{"type": "Programmed", "status": "True"}]},
             "spec": {"port": 8080}}
        ]
    })
}

fn render(t: &str, v: &Value) -> String {
    Template::parse(t).expect("parses").render(v)
}

#[test]
fn item_names_are_space_separated() {
    assert_eq!(render("{.items[*].metadata.name}", &list()), "a b");
    assert_eq!(render("{$.items[*].metadata.name}", &list()), "a b");
}

#[test]
fn indexes_negative_indexes_and_slices() {
    let l = list();
    assert_eq!(render("{.items[0].metadata.name}", &l), "a");
    assert_eq!(render("{.items[-1].metadata.name}", &l), "b");
    assert_eq!(render("{.items[0:1].metadata.name}", &l), "a");
    assert_eq!(render("{.items[0,1].metadata.name}", &l), "a b");
    assert_eq!(
        render("{.items[0].status.addresses[0].value}", &l),
        "127.0.1.5"
    );
}

#[test]
fn range_with_literals_and_text() {
    assert_eq!(
        render(
            "{range .items[*]}{.metadata.name}{\"\\t\"}{.status.conditions[?(@.type==\"Programmed\")].status}{\"\\n\"}{end}",
            &list()
        ),
        "a\tFalse\nb\tTrue\n"
    );
    assert_eq!(
        render("names: {range .items[*]}[{.metadata.name}]{end}", &list()),
        "names: [a][b]"
    );
}

#[test]
fn filters_compare_strings_and_numbers_and_test_existence() {
    let l = list();
    assert_eq!(
        render("{.items[?(@.spec.port>=8000)].metadata.name}", &l),
        "b"
    );
    assert_eq!(render("{.items[?(@.spec)].metadata.name}", &l), "b");
    assert_eq!(
        render("{.items[?(@.metadata.name!='a')].metadata.name}", &l),
        "b"
    );
}

#[test]
fn maps_and_lists_print_as_json_and_missing_keys_print_nothing() {
    let l = list();
    assert_eq!(
        render("{.items[0].metadata.labels}", &l),
        r#"{"app.kubernetes.io/name":"x"}"#
    );
    assert_eq!(
        render("{.items[0].metadata.labels.app\\.kubernetes\\.io/name}", &l),
        "x"
    );
    assert_eq!(
        render("{.items[0].metadata['labels']}", &l),
        r#"{"app.kubernetes.io/name":"x"}"#
    );
    assert_eq!(render("{.items[0].nope}", &l), "");
    assert_eq!(render("{.items[1].spec.port}", &l), "8080");
}

#[test]
fn recursive_descent_and_wildcards() {
    let l = list();
    assert_eq!(render("{..name}", &l), "a b");
    assert_eq!(render("{.items[1].spec.*}", &l), "8080");
}

#[test]
fn broken_templates_are_errors() {
    assert!(Template::parse("{.items[*]").is_err());
    assert!(Template::parse("{range .items[*]}{.x}").is_err());
    assert!(Template::parse("{end}").is_err());
    assert!(Template::parse("{.items[x]}").is_err());
}
