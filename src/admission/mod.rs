//! Admission as the API server does it for the Gateway API CRDs: apply the schema defaults,
//! then enforce the OpenAPI bounds and CEL rules. An object that fails is not admitted.

mod defaults;
mod validate;

use crate::model::Body;

/// Defaults then validates an object's body. Any violation means the object is rejected.
pub fn admit(body: &mut Body) -> Vec<Violation> {
    defaults::apply(body);
    validate::check(body)
}

/// A broken validation rule: the field it concerns and the rule's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub message: String,
}

impl Violation {
    /// A violation at a field path (`spec.listeners[1].hostname`, the syntax the loader maps
    /// to a file position).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Violation {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests;
