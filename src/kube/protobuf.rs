//! The one protobuf body kubectl ≥ 1.32 sends: `kubectl create namespace`. The body is the
//! `k8s\0` magic, then a `runtime.Unknown` {1: TypeMeta, 2: raw object}; of the Namespace
//! only `ObjectMeta` (name, generateName, labels, annotations) matters. Everything else
//! protobuf-encoded is refused with 415 by the caller.

use serde_json::{json, Map, Value};

const MAGIC: &[u8] = b"k8s\0";

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub struct DecodeError(pub String);

/// A protobuf field's value: the length-delimited bytes, or a scalar nobody here reads.
enum Field<'a> {
    Scalar,
    Bytes(&'a [u8]),
}

/// Iterates the fields of one message.
struct Fields<'a> {
    buf: &'a [u8],
}

fn varint(buf: &mut &[u8]) -> Result<u64, DecodeError> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = buf
            .split_first()
            .ok_or_else(|| DecodeError("truncated varint".into()))?;
        *buf = rest;
        out |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(out);
        }
    }
    Err(DecodeError("varint too long".into()))
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Field<'a>), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        Some(self.read())
    }
}

impl<'a> Fields<'a> {
    fn read(&mut self) -> Result<(u64, Field<'a>), DecodeError> {
        let tag = varint(&mut self.buf)?;
        let number = tag >> 3;
        match tag & 7 {
            0 => {
                varint(&mut self.buf)?;
                Ok((number, Field::Scalar))
            }
            1 => self.skip(number, 8),
            5 => self.skip(number, 4),
            2 => {
                let len = usize::try_from(varint(&mut self.buf)?)
                    .map_err(|_| DecodeError("length too large".into()))?;
                if len > self.buf.len() {
                    return Err(DecodeError("truncated field".into()));
                }
                let (bytes, rest) = self.buf.split_at(len);
                self.buf = rest;
                Ok((number, Field::Bytes(bytes)))
            }
            w => Err(DecodeError(format!("unsupported wire type {w}"))),
        }
    }

    fn skip(&mut self, number: u64, n: usize) -> Result<(u64, Field<'a>), DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError("truncated field".into()));
        }
        self.buf = &self.buf[n..];
        Ok((number, Field::Scalar))
    }
}

fn fields(buf: &[u8]) -> Fields<'_> {
    Fields { buf }
}

fn text(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError("string is not UTF-8".into()))
}

/// A `map<string,string>` entry {1: key, 2: value}.
fn map_entry(bytes: &[u8]) -> Result<(String, String), DecodeError> {
    let (mut k, mut v) = (String::new(), String::new());
    for f in fields(bytes) {
        match f? {
            (1, Field::Bytes(b)) => k = text(b)?,
            (2, Field::Bytes(b)) => v = text(b)?,
            _ => {}
        }
    }
    Ok((k, v))
}

/// `ObjectMeta` → JSON metadata.
fn object_meta(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut meta = Map::new();
    let mut labels = Map::new();
    let mut annotations = Map::new();
    for f in fields(bytes) {
        match f? {
            (1, Field::Bytes(b)) => {
                meta.insert("name".into(), Value::String(text(b)?));
            }
            (2, Field::Bytes(b)) => {
                meta.insert("generateName".into(), Value::String(text(b)?));
            }
            (3, Field::Bytes(b)) => {
                meta.insert("namespace".into(), Value::String(text(b)?));
            }
            (11, Field::Bytes(b)) => {
                let (k, v) = map_entry(b)?;
                labels.insert(k, Value::String(v));
            }
            (12, Field::Bytes(b)) => {
                let (k, v) = map_entry(b)?;
                annotations.insert(k, Value::String(v));
            }
            _ => {}
        }
    }
    if !labels.is_empty() {
        meta.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        meta.insert("annotations".into(), Value::Object(annotations));
    }
    for (key, value) in meta.iter_mut() {
        // Empty strings are protobuf's "unset"; JSON leaves them out.
        if key != "name" && value.as_str() == Some("") {
            *value = Value::Null;
        }
    }
    meta.retain(|_, v| !v.is_null());
    Ok(Value::Object(meta))
}

/// Decodes a protobuf-encoded Namespace into its JSON form. Other kinds are an error naming
/// the kind, so the caller can answer 415 with it.
pub fn decode_namespace(body: &[u8]) -> Result<Value, DecodeError> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| DecodeError("missing the k8s protobuf envelope".into()))?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), None);
    for f in fields(rest) {
        match f? {
            (1, Field::Bytes(type_meta)) => {
                for t in fields(type_meta) {
                    match t? {
                        (1, Field::Bytes(b)) => api_version = text(b)?,
                        (2, Field::Bytes(b)) => kind = text(b)?,
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(b)) => raw = Some(b),
            _ => {}
        }
    }
    if api_version != "v1" || kind != "Namespace" {
        return Err(DecodeError(format!(
            "protobuf bodies are read for v1 Namespace only, not {api_version} {kind}; send JSON"
        )));
    }
    let mut metadata = json!({});
    for f in fields(raw.unwrap_or_default()) {
        if let (1, Field::Bytes(b)) = f? {
            metadata = object_meta(b)?;
        }
    }
    Ok(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3) | 2, u8::try_from(bytes.len()).expect("short")];
        out.extend_from_slice(bytes);
        out
    }

    /// The bytes kubectl 1.32 sends for `kubectl create namespace sample-ingress`, built the
    /// same way: Unknown{TypeMeta, raw Namespace{ObjectMeta{name}, spec{}, status{}}, "", ""}.
    fn kubectl_body(name: &str, labels: &[(&str, &str)]) -> Vec<u8> {
        let mut meta = field(1, name.as_bytes());
        for (k, v) in labels {
            let mut entry = field(1, k.as_bytes());
            entry.extend(field(2, v.as_bytes()));
            meta.extend(field(11, &entry));
        }
        let mut ns = field(1, &meta);
        ns.extend(field(2, &[]));
        ns.extend(field(3, &field(1, b"")));
        let mut type_meta = field(1, b"v1");
        type_meta.extend(field(2, b"Namespace"));
        let mut body = MAGIC.to_vec();
        body.extend(field(1, &type_meta));
        body.extend(field(2, &ns));
        body.extend(field(3, b""));
        body.extend(field(4, b""));
        body
    }

    #[test]
    fn decodes_the_create_namespace_body() {
        let v = decode_namespace(&kubectl_body("sample-ingress", &[])).expect("decodes");
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "sample-ingress"}})
        );
    }

    #[test]
    fn keeps_labels() {
        let v = decode_namespace(&kubectl_body("a", &[("team", "x")])).expect("decodes");
        assert_eq!(v["metadata"]["labels"], json!({"team": "x"}));
    }

    #[test]
    fn refuses_other_kinds_and_garbage() {
        let mut type_meta = field(1, b"v1");
        type_meta.extend(field(2, b"Service"));
        let mut body = MAGIC.to_vec();
        body.extend(field(1, &type_meta));
        assert!(decode_namespace(&body)
            .expect_err("not a namespace")
            .0
            .contains("Service"));
        assert!(decode_namespace(b"{}").is_err());
        assert!(decode_namespace(b"k8s\0\x0a\x7f").is_err());
    }
}
