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

/// The shortcut for a document's root position agrees with the full index wherever it
/// answers, on hand-made edge cases and on every manifest in the repository.
#[test]
fn root_position_agrees_with_the_index() {
    let mut texts: Vec<String> = [
        "kind: Gateway\n",
        "\n# c\n  # indented comment\n\napiVersion: v1\nkind: Service\n",
        "  apiVersion: v1\n  kind: Service\n",
        "{apiVersion: v1, kind: Service}\n",
        "\"apiVersion\": v1\n",
        "- a\n- b\n",
        "!!map\napiVersion: v1\n",
        "&anchor\napiVersion: v1\n",
        "just a scalar\n",
        "42\n",
        "? complex\n: key\n",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("samples"), root.join("tests")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    texts.extend(split_documents(&text).iter().map(|d| d.text.to_string()));
                }
            }
        }
    }
    assert!(texts.len() > 100, "only {} documents found", texts.len());
    let mut answered = 0;
    for text in &texts {
        if let Some(fast) = Spans::root_position(text) {
            answered += 1;
            assert_eq!(Some(fast), Spans::build(text).locate(""), "{text}");
        }
    }
    assert!(answered > texts.len() / 2, "{answered} of {}", texts.len());
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
