//! Everything YAML goes through here: splitting files into documents, decoding typed
//! objects with the position and field path of every error, and printing.
//!
//! `serde_norway` does the typed decoding; `yaml-rust2`'s marked events give the line and
//! column of any field path, so later stages (admission, the controller) can point at the
//! exact place a problem comes from.

mod spans;

pub use spans::Spans;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The YAML value type used across gwsim.
pub type Value = serde_norway::Value;

/// One document of a multi-document file.
#[derive(Debug, Clone)]
pub struct Document<'a> {
    /// The document's text, without its `---` marker line.
    pub text: &'a str,
    /// The 1-based line in the file where `text` starts.
    pub first_line: usize,
}

/// A position and message for something that went wrong while reading YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based line within the document, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The field path (`spec.listeners[0].port`), empty for the document itself.
    pub path: String,
    /// What went wrong, in words.
    pub message: String,
}

/// A decoded object plus the paths of fields the schema does not know.
#[derive(Debug)]
pub struct Decoded<T> {
    pub value: T,
    pub unknown_fields: Vec<String>,
}

/// Splits a file into documents at `---` lines, so a syntax error in one document
/// does not lose the others.
pub fn split_documents(text: &str) -> Vec<Document<'_>> {
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1usize;
    let mut offset = 0usize;
    for (line_no, line) in (1usize..).zip(text.split_inclusive('\n')) {
        let bare = line.trim_end_matches(['\n', '\r']);
        let is_marker = bare == "---"
            || bare.starts_with("--- ")
            || bare.starts_with("---\t")
            || bare == "..."
            || bare.starts_with("... ");
        if is_marker {
            docs.push(Document {
                text: &text[start..offset],
                first_line: start_line,
            });
            start = offset + line.len();
            start_line = line_no + 1;
        }
        offset += line.len();
    }
    docs.push(Document {
        text: &text[start..],
        first_line: start_line,
    });
    docs.retain(|d| !is_blank(d.text));
    docs
}

fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    })
}

/// Parses one document into an untyped value.
pub fn parse_value(text: &str) -> Result<Value, YamlError> {
    serde_norway::from_str(text).map_err(|e| from_norway(&e, String::new()))
}

/// Decodes a document's text into `T`, reporting the field path and position of an error.
pub fn decode<T: DeserializeOwned>(text: &str) -> Result<Decoded<T>, YamlError> {
    decode_from(serde_norway::Deserializer::from_str(text))
}

/// Decodes an already parsed value (a `List` item) into `T`.
pub fn decode_value<T: DeserializeOwned>(value: Value) -> Result<Decoded<T>, YamlError> {
    decode_from(value)
}

/// Decodes from any serde_norway deserializer, collecting unknown fields on the way.
fn decode_from<'de, T, D>(de: D) -> Result<Decoded<T>, YamlError>
where
    T: DeserializeOwned,
    D: serde::Deserializer<'de, Error = serde_norway::Error>,
{
    let mut unknown = Vec::new();
    let mut on_unknown = |path: serde_ignored::Path<'_>| unknown.push(ignored_path(path));
    let ignored = serde_ignored::Deserializer::new(de, &mut on_unknown);
    match serde_path_to_error::deserialize::<_, T>(ignored) {
        Ok(value) => Ok(Decoded {
            value,
            unknown_fields: unknown,
        }),
        Err(err) => {
            let path = clean_path(&err.path().to_string());
            Err(from_norway(err.inner(), path))
        }
    }
}

/// Prints any serializable value as YAML.
pub fn to_string<T: Serialize>(value: &T) -> String {
    serde_norway::to_string(value).unwrap_or_else(|e| format!("# unprintable: {e}\n"))
}

/// Converts a serializable value into a YAML value.
pub fn to_value<T: Serialize>(value: &T) -> Result<Value, YamlError> {
    serde_norway::to_value(value).map_err(|e| from_norway(&e, String::new()))
}

fn from_norway(err: &serde_norway::Error, path: String) -> YamlError {
    let location = err.location();
    let message = strip_location(&err.to_string());
    YamlError {
        line: location.as_ref().map(|l| l.line()),
        column: location.as_ref().map(|l| l.column()),
        path,
        message,
    }
}

/// serde_norway appends " at line L column C" to messages; the position is reported separately.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// serde_path_to_error writes `.` for the root; gwsim reports the root as an empty path.
fn clean_path(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        path.to_string()
    }
}

fn ignored_path(path: serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    fn walk(path: &Path<'_>, out: &mut String) {
        match path {
            Path::Root => {}
            Path::Seq { parent, index } => {
                walk(parent, out);
                out.push_str(&format!("[{index}]"));
            }
            Path::Map { parent, key } => {
                walk(parent, out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Path::Some { parent }
            | Path::NewtypeStruct { parent }
            | Path::NewtypeVariant { parent } => walk(parent, out),
        }
    }
    let mut out = String::new();
    walk(&path, &mut out);
    out
}

#[cfg(test)]
mod tests;
