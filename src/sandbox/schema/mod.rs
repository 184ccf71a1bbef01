//! Validation of objects: CRD structural schemas (validation, pruning, defaulting) and
//! strict field validation of built-in kinds.

pub mod builtin;
pub mod structural;

use std::fmt;

/// The kind of a field error, rendered as Kubernetes renders `field.Error`.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// `Required value`
    Required,
    /// `Invalid value: <value>: <detail>`
    Invalid { value: serde_json::Value, detail: String },
    /// `Unsupported value: <value>: supported values: "a", "b"`
    NotSupported { value: serde_json::Value, supported: Vec<String> },
    /// `Forbidden: <detail>`
    Forbidden(String),
    /// `Too many: <n>: must have at most <max> items`
    TooMany { actual: usize, max: usize },
}

/// One field error, e.g. `spec.replicas: Invalid value: 99: spec.replicas in body should be less than or equal to 9`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// Dotted field path with indices, e.g. `spec.containers[0].name`.
    pub path: String,
    pub kind: ErrorKind,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _ = f;
        todo!("implemented by the schema work")
    }
}

/// The message of a 422 Invalid Status, e.g.
/// `Widget.acc.example.com "w2" is invalid: spec.replicas: Invalid value: ...`
/// (several errors are joined as `[a, b]`, as Kubernetes does).
pub fn invalid_message(kind: &str, group: &str, name: &str, errors: &[FieldError]) -> String {
    let _ = (kind, group, name, errors);
    todo!("implemented by the schema work")
}
