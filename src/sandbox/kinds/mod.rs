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
pub mod pod;
pub mod registry;
pub mod service;
pub mod table;
pub mod validation;

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

    /// Work after a committed create or update (a CRD is served at once).
    fn after_write(&self, _ctx: Ctx<'_>, _rt: &ResourceType, _stored: &Value) {}

    /// How a DELETE of `current` proceeds when the kind has its own rules (a pod's grace period);
    /// `None` runs the generic rules (finalizers, propagation).
    fn delete(&self, _current: &Value, _opts: &DeleteOpts, _max_grace: i64) -> Option<Change> {
        None
    }

    /// Whether an object being deleted stays once its last finalizer is gone (a pod still in its grace period).
    fn stays_after_finalizers(&self, _current: &Value) -> bool {
        false
    }

    /// The columns of `kubectl get` (None: the generic NAME and AGE columns).
    fn printer(&self) -> Option<table::Printer> {
        None
    }
}

/// The strategy of a served resource: a built-in kind's own, or the generic one for custom resources.
pub fn strategy(rt: &ResourceType) -> &'static dyn Strategy {
    match rt.builtin {
        Some(b) => b.strategy,
        None => &generic::CUSTOM,
    }
}
