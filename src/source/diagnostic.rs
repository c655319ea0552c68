//! Problems found in the user's input, with the file, line, column and field they concern.

use crate::model::ObjectKey;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The object (or file) was not admitted.
    Error,
    /// Admitted, but something deserves attention.
    Warning,
}

/// One problem with the input.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// File relative to the watched directory ("" when not tied to a file).
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The object concerned, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Field path within the object (`spec.listeners[0].port`), "" for the whole document.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub field: String,
    pub message: String,
}

impl Diagnostic {
    /// An error at a position in a file.
    pub fn error(
        file: &str,
        line: Option<usize>,
        column: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_string(),
            line,
            column,
            object: None,
            field: String::new(),
            message: message.into(),
        }
    }

    /// A warning at a position in a file.
    pub fn warning(
        file: &str,
        line: Option<usize>,
        column: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, line, column, message)
        }
    }

    /// Names the object the problem belongs to.
    pub fn for_object(mut self, key: &ObjectKey) -> Self {
        self.object = Some(key.to_string());
        self
    }

    /// Names the field the problem is in.
    pub fn at_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = match (self.file.as_str(), self.line, self.column) {
            ("", _, _) => String::from("<input>"),
            (file, Some(l), Some(c)) => format!("{file}:{l}:{c}"),
            (file, Some(l), None) => format!("{file}:{l}"),
            (file, None, _) => file.to_string(),
        };
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{place}: {sev}: ")?;
        if let Some(obj) = &self.object {
            write!(f, "{obj}: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}
