//! The kinds layer: what each kind does differently, behind one [`Strategy`] trait.
//!
//! The generic store (`store::api`) runs every verb the same way for all kinds and asks the kind's
//! strategy at fixed points: defaults, validation, the server-set fields of a create or an update,
//! work after a commit, deletion, the table printer.
//!
//! Adding a built-in kind: write `kinds/<kind>.rs` with a unit struct implementing [`Strategy`]
//! (override only the hooks the kind needs; every method defaults to nothing), then add one entry to
//! `registry::BUILTINS` naming its k8s-openapi type, its names and its strategy. Kinds with no rules of
//! their own use [`generic::GENERIC`].

pub mod admission;
pub mod config;
pub mod crd;
pub mod defaults;
pub mod generic;
pub mod namespace;
pub mod pod;
pub mod rbac;
pub mod registry;
pub mod service;
pub mod table;
pub mod validation;

use crate::sandbox::auth::attributes::Attributes;
use crate::sandbox::auth::rules::Rule;
use crate::sandbox::auth::user::User;
use crate::sandbox::kinds::registry::{ResourceType, Served};
use crate::sandbox::schema::FieldError;
use crate::sandbox::services::Services;
use crate::sandbox::status::ApiError;
use crate::sandbox::store::Change;
use crate::sandbox::store::api::DeleteOpts;
use serde_json::Value;

/// What a strategy may use besides the object: the served kinds (CRDs read and change them) and the
/// services (addresses, the CA). Never the whole server.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub served: &'a Served,
    pub services: &'a Services,
    /// A dry run: look up what would be allocated, take nothing.
    pub dry_run: bool,
    /// Authorization questions (RBAC escalation checks).
    pub authz: &'a dyn Authorize,
}

/// What a strategy may ask the authorizer (answered from the RBAC objects in the store).
pub trait Authorize: Sync {
    /// Whether `user` may do `attrs`.
    fn allowed(&self, user: &User, attrs: &Attributes) -> bool;
    /// The rules of the role a binding in `ns` refers to (an error text when it does not resolve).
    fn role_rules(&self, role_ref: &Value, ns: &str) -> Result<Vec<Rule>, String>;
    /// Every rule `user` holds in `ns` (cluster-wide ones included), and the bindings that did not resolve.
    fn user_rules(&self, user: &User, ns: &str) -> (Vec<Rule>, Vec<String>);
}

/// One kind's rules. Every method defaults to "nothing special".
pub trait Strategy: Sync + Send + std::fmt::Debug {
    /// Server-set fields a create needs before validation (a Job's generated selector).
    fn before_validation(&self, _rt: &ResourceType, _obj: &mut Value) {}

    /// Defaults a real API server fills in (the fields `kubectl get -o yaml` shows but nobody wrote).
    fn defaults(&self, _rt: &ResourceType, _obj: &mut Value) {}

    /// Validation beyond the schema; `old` is the current object on an update.
    fn validate(&self, _rt: &ResourceType, _old: Option<&Value>, _obj: &Value) -> Vec<FieldError> {
        Vec::new()
    }

    /// Server-set fields of a new object, after validation.
    fn prepare_create(
        &self,
        _ctx: Ctx<'_>,
        _rt: &ResourceType,
        _obj: &mut Value,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Server-kept fields and update rules, after validation.
    fn prepare_update(
        &self,
        _ctx: Ctx<'_>,
        _rt: &ResourceType,
        _current: &Value,
        _obj: &mut Value,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Gives back what `prepare_create` or `prepare_update` took (NodePorts): called when a create fails
    /// after it, and when the object goes or a newer version no longer holds it.
    fn release(&self, _ctx: Ctx<'_>, _obj: &Value) {}

    /// Checks the writer of a create or update of the object about to be stored (RBAC escalation);
    /// called for users outside `system:masters`.
    fn admit_writer(
        &self,
        _ctx: Ctx<'_>,
        _rt: &ResourceType,
        _ns: &str,
        _obj: &Value,
        _user: &User,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Work after a committed create or update (a CRD is served at once).
    fn after_write(&self, _ctx: Ctx<'_>, _rt: &ResourceType, _stored: &Value) {}

    /// How a DELETE of `current` proceeds when the kind has its own rules (a pod's grace period);
    /// `None` runs the generic rules (finalizers, propagation).
    fn delete(&self, _current: &Value, _opts: &DeleteOpts, _max_grace: i64) -> Option<Change> {
        None
    }

    /// Marks an object a DELETE starts on (deletionTimestamp and finalizers already set); true when its
    /// deletion has work to do first and it must wait even without finalizers (a namespace's content).
    fn mark_deleting(&self, _obj: &mut Value) -> bool {
        false
    }

    /// Whether an object being deleted stays once its last finalizer is gone (a pod still in its grace
    /// period, a namespace whose own `spec.finalizers` are not done).
    fn stays_after_finalizers(&self, _current: &Value, _next: &Value) -> bool {
        false
    }

    /// A write to one of the kind's subresources (`pods/binding`, `pods/eviction`, `namespaces/finalize`)
    /// with its decoded body; `None` when the kind has no such subresource.
    fn subresource_write(
        &self,
        _rt: &ResourceType,
        _sub: &str,
        _body: Value,
    ) -> Option<Result<SubWrite, ApiError>> {
        None
    }

    /// A GET of a subresource that answers with text (`pods/log`); `None` when the kind has none.
    fn subresource_text(
        &self,
        _sub: &str,
        _obj: &Value,
        _query: &Query,
    ) -> Option<Result<String, ApiError>> {
        None
    }

    /// The columns of `kubectl get` (None: the generic NAME and AGE columns).
    fn printer(&self) -> Option<table::Printer> {
        None
    }
}

/// Query parameters of a request, last value wins.
pub type Query = std::collections::HashMap<String, String>;

/// What a subresource write makes of the object.
pub enum SubWrite {
    /// The object is deleted as by a DELETE (an eviction).
    Delete,
    /// The current object (client form) becomes `change(current)`, committed as an update of the subresource
    /// (`change` may run again when the object changed meanwhile).
    Update {
        change: Box<dyn Fn(Value) -> Result<Value, ApiError> + Send>,
        reply: SubReply,
    },
}

/// How a subresource update answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubReply {
    /// With the object written.
    Object,
    /// With a `Status` of success (201).
    Success,
}

/// The strategy of a served resource: a built-in kind's own, or the generic one for custom resources.
pub fn strategy(rt: &ResourceType) -> &'static dyn Strategy {
    match rt.builtin {
        Some(b) => b.strategy,
        None => &generic::CUSTOM,
    }
}
