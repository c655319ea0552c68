//! One YAML document → typed objects, with a diagnostic (file, line, column, field) for
//! anything that does not decode. `List` documents are unwrapped.

use super::Diagnostic;
use crate::model::{Body, Kind, Object, ObjectKey, Origin};
use crate::yaml::{self, Document, Spans, Value, YamlError};
use serde::de::DeserializeOwned;
use std::cell::OnceCell;

/// What decoding one file produced.
#[derive(Debug, Default)]
pub struct Decoded {
    pub objects: Vec<Object>,
    pub diagnostics: Vec<Diagnostic>,
    /// False when a document had a YAML syntax error: its objects are unknown.
    pub syntax_ok: bool,
    /// True when the file holds no document at all (empty, or comments only).
    pub blank: bool,
}

/// Decodes every document of a file.
pub fn decode_file(file: &str, text: &str, default_namespace: &str) -> Decoded {
    let mut out = Decoded {
        syntax_ok: true,
        ..Decoded::default()
    };
    let docs = yaml::split_documents(text);
    out.blank = docs.is_empty();
    for doc in docs {
        decode_document(file, &doc, default_namespace, &mut out);
    }
    out
}

fn position(doc: &Document<'_>, err: &YamlError) -> (Option<usize>, Option<usize>) {
    (err.line.map(|l| l + doc.first_line - 1), err.column)
}

fn decode_document(file: &str, doc: &Document<'_>, default_ns: &str, out: &mut Decoded) {
    let value = match yaml::parse_value(doc.text) {
        Ok(v) => v,
        Err(err) => {
            let (line, column) = position(doc, &err);
            out.diagnostics.push(Diagnostic::error(
                file,
                line,
                column,
                format!("YAML syntax error: {}", err.message),
            ));
            out.syntax_ok = false;
            return;
        }
    };
    if value.is_null() {
        return;
    }
    // Positions of fields are only needed for diagnostics, so the position index is built the
    // first time one is asked for; the object's own line usually comes from its first line.
    let spans = OnceCell::new();
    let at = |path: &str| -> (Option<usize>, Option<usize>) {
        let found = path
            .is_empty()
            .then(|| Spans::root_position(doc.text))
            .flatten()
            .or_else(|| spans.get_or_init(|| Spans::build(doc.text)).locate(path));
        match found {
            Some((l, c)) => (Some(l + doc.first_line - 1), Some(c)),
            None => (Some(doc.first_line), None),
        }
    };
    let Some(map) = value.as_mapping() else {
        let (line, col) = at("");
        out.diagnostics.push(Diagnostic::error(
            file,
            line,
            col,
            "a manifest must be a mapping with apiVersion and kind",
        ));
        return;
    };
    let api_version = map
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
    if kind.is_empty() || api_version.is_empty() {
        let field = if kind.is_empty() {
            "kind"
        } else {
            "apiVersion"
        };
        let (line, col) = at("");
        out.diagnostics.push(
            Diagnostic::error(
                file,
                line,
                col,
                format!("missing required field \"{field}\""),
            )
            .at_field(field),
        );
        return;
    }
    if kind == "List" || kind.ends_with("List") && api_version == "v1" {
        let items = map
            .get("items")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for (i, item) in items.into_iter().enumerate() {
            let path = format!("items[{i}]");
            let (line, col) = at(&path);
            let ctx = Ctx {
                file,
                doc_first_line: doc.first_line,
                line: line.unwrap_or(doc.first_line),
                col,
                prefix: format!("{path}."),
                locate: &|p: &str| at(&format!("{path}.{p}")),
            };
            decode_object(&ctx, Source::Value(item), default_ns, out);
        }
        return;
    }
    let (line, col) = at("");
    let ctx = Ctx {
        file,
        doc_first_line: doc.first_line,
        line: line.unwrap_or(doc.first_line),
        col,
        prefix: String::new(),
        locate: &at,
    };
    decode_object(&ctx, Source::Text(doc.text, value), default_ns, out);
}

type Locate<'a> = &'a dyn Fn(&str) -> (Option<usize>, Option<usize>);

struct Ctx<'a> {
    file: &'a str,
    /// Serde reports positions within the document; this maps them back into the file.
    doc_first_line: usize,
    line: usize,
    col: Option<usize>,
    /// Field-path prefix of this object within its document (`items[2].` in a List).
    prefix: String,
    locate: Locate<'a>,
}

enum Source<'a> {
    /// The document text (errors then carry exact positions) and its parsed value.
    Text(&'a str, Value),
    /// A `List` item.
    Value(Value),
}

impl Source<'_> {
    fn value(&self) -> &Value {
        match self {
            Source::Text(_, v) | Source::Value(v) => v,
        }
    }
}

fn decode_object(ctx: &Ctx<'_>, src: Source<'_>, default_ns: &str, out: &mut Decoded) {
    let value = src.value();
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let kind_name = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(kind) = Kind::from_type(&api_version, &kind_name) else {
        let known = Kind::ALL.into_iter().find(|k| k.as_str() == kind_name);
        let message = match known {
            Some(k) => format!(
                "{kind_name} is not served as apiVersion {api_version:?} (use {}); object ignored",
                k.api_version()
            ),
            None => format!("unknown kind {kind_name} ({api_version}); object ignored"),
        };
        out.diagnostics.push(
            Diagnostic::warning(ctx.file, Some(ctx.line), ctx.col, message)
                .at_field(format!("{}kind", ctx.prefix)),
        );
        return;
    };
    let decoded = match kind {
        Kind::Namespace => typed(&src, Body::Namespace),
        Kind::GatewayClass => typed(&src, Body::GatewayClass),
        Kind::Gateway => typed(&src, Body::Gateway),
        Kind::HttpRoute => typed(&src, Body::HttpRoute),
        Kind::ReferenceGrant => typed(&src, Body::ReferenceGrant),
        Kind::Service => typed(&src, Body::Service),
        Kind::Deployment => typed(&src, |d| Body::Deployment(Box::new(d))),
        Kind::EndpointSlice => typed(&src, Body::EndpointSlice),
        Kind::Secret => typed(&src, Body::Secret),
        Kind::ConfigMap => typed(&src, Body::ConfigMap),
    };
    let name_hint = value
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>")
        .to_string();
    let (mut body, mut unknown) = match decoded {
        Ok(ok) => ok,
        Err(err) => {
            let (line, col) = match (&src, err.line) {
                (Source::Text(..), Some(l)) => (Some(l + ctx.doc_first_line - 1), err.column),
                _ => (ctx.locate)(&err.path),
            };
            out.diagnostics.push(
                Diagnostic::error(
                    ctx.file,
                    line.or(Some(ctx.line)),
                    col,
                    format!("{kind_name} {name_hint}: {}", err.message),
                )
                .at_field(format!("{}{}", ctx.prefix, err.path)),
            );
            return;
        }
    };
    // The kube-derived Gateway API types read apiVersion and kind out of band.
    unknown.retain(|f| f != "apiVersion" && f != "kind");
    if !unknown.is_empty() {
        // The API server rejects unknown fields under kubectl's default strict validation.
        for field in unknown {
            let (line, col) = (ctx.locate)(&field);
            out.diagnostics.push(
                Diagnostic::error(
                    ctx.file,
                    line,
                    col,
                    format!(
                        "{kind_name} {name_hint}: unknown field \"{field}\"; object not admitted"
                    ),
                )
                .at_field(format!("{}{field}", ctx.prefix)),
            );
        }
        return;
    }
    let meta = body.meta_mut();
    let Some(name) = meta.name.clone().filter(|n| !n.is_empty()) else {
        out.diagnostics.push(
            Diagnostic::error(
                ctx.file,
                Some(ctx.line),
                ctx.col,
                format!("{kind_name}: missing required field \"metadata.name\""),
            )
            .at_field(format!("{}metadata.name", ctx.prefix)),
        );
        return;
    };
    let namespace = if kind.is_namespaced() {
        meta.namespace
            .get_or_insert_with(|| default_ns.to_string())
            .clone()
    } else {
        if meta.namespace.is_some() {
            let (line, col) = (ctx.locate)("metadata.namespace");
            out.diagnostics.push(
                Diagnostic::warning(
                    ctx.file,
                    line,
                    col,
                    format!("{kind_name} {name} is cluster-scoped: metadata.namespace is ignored"),
                )
                .at_field(format!("{}metadata.namespace", ctx.prefix)),
            );
            meta.namespace = None;
        }
        String::new()
    };
    let key = ObjectKey::new(kind, namespace, name);
    let violations = crate::admission::admit(&mut body);
    if !violations.is_empty() {
        for v in violations {
            let (line, col) = (ctx.locate)(&v.field);
            out.diagnostics.push(
                Diagnostic::error(
                    ctx.file,
                    line,
                    col,
                    format!("{}; object not admitted", v.message),
                )
                .for_object(&key)
                .at_field(format!("{}{}", ctx.prefix, v.field)),
            );
        }
        return;
    }
    out.objects.push(Object {
        key,
        origin: Origin {
            file: ctx.file.to_string(),
            line: ctx.line,
        },
        body,
        stale: false,
    });
}

fn typed<T: DeserializeOwned>(
    src: &Source<'_>,
    wrap: fn(T) -> Body,
) -> Result<(Body, Vec<String>), YamlError> {
    let decoded = match src {
        Source::Text(text, _) => yaml::decode::<T>(text)?,
        Source::Value(v) => yaml::decode_value::<T>(v.clone())?,
    };
    // `apiVersion` and `kind` chose the type; the kube-derived Gateway API types do not keep
    // them as fields, so serde reports them as ignored, yet they are not unknown.
    let unknown = decoded
        .unknown_fields
        .into_iter()
        .filter(|f| f != "apiVersion" && f != "kind")
        .collect();
    Ok((wrap(decoded.value), unknown))
}
