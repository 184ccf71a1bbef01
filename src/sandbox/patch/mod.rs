//! Patch semantics of the sandbox API server: strategic merge patch and server-side apply.
//!
//! Pure functions over `serde_json::Value`; the HTTP layer maps [`PatchError`] to a Kubernetes
//! `Status` reply. JSON patch (RFC 6902) and merge patch (RFC 7386) come from the `json-patch` crate.

pub mod apply;
pub mod fieldset;
pub mod merge_keys;
pub mod strategic;

/// The patch content types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

/// Identifies the type being patched, so merge keys and list semantics can be looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeRef<'a> {
    /// API group, "" for core.
    pub group: &'a str,
    /// Kind, e.g. "Deployment".
    pub kind: &'a str,
    /// True for built-in kinds (strategic merge patch allowed), false for custom resources.
    pub builtin: bool,
}

/// One field that another manager owns with a different value (server-side apply conflict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The manager that owns the field, e.g. "kubectl-client-side-apply".
    pub manager: String,
    /// The owner's operation, "Apply" or "Update".
    pub operation: String,
    /// The owner's apiVersion (shown for Update owners: `using apps/v1`).
    pub api_version: String,
    /// The owner's subresource, e.g. "scale" (shown as `with subresource "scale"`).
    pub subresource: Option<String>,
    /// The field in Kubernetes' display form, e.g. `.spec.replicas` or
    /// `.spec.template.spec.containers[name="web"].image`.
    pub field: String,
}

/// Why a patch could not be applied; the server turns each variant into a Status.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// 400 BadRequest: the patch body is not a valid patch of this type.
    #[error("{0}")]
    BadRequest(String),
    /// 422 Invalid: the patch is well formed but cannot be applied (e.g. a failed json-patch `test`).
    #[error("{0}")]
    Invalid(String),
    /// 409 Conflict: server-side apply without force touched fields other managers own.
    #[error("Apply failed with {} conflict(s)", .0.len())]
    Conflicts(Vec<Conflict>),
    /// 415 UnsupportedMediaType: e.g. strategic merge patch on a custom resource.
    #[error("{0}")]
    Unsupported(String),
}
