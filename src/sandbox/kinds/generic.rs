//! The strategies of kinds without a module of their own yet: they delegate to the per-kind rules
//! still kept in `admission.rs` and `defaults.rs` (which move into kind modules one kind at a time).

use crate::sandbox::kinds::registry::ResourceType;
use crate::sandbox::kinds::{Strategy, admission, defaults};
use crate::sandbox::schema::FieldError;
use serde_json::Value;

/// A built-in kind's strategy that looks its rules up by group and kind.
#[derive(Debug)]
pub struct Generic;

pub static GENERIC: Generic = Generic;

impl Strategy for Generic {
    fn before_validation(&self, rt: &ResourceType, obj: &mut Value) {
        admission::before_create_validation(rt, obj);
    }

    fn defaults(&self, rt: &ResourceType, obj: &mut Value) {
        defaults::apply(&rt.group, &rt.kind, obj);
    }

    fn validate(&self, rt: &ResourceType, old: Option<&Value>, obj: &Value) -> Vec<FieldError> {
        admission::validate_builtin(rt, old, obj)
    }
}

/// Custom resources: their rules come from the CRD's schema, which the generic store applies.
#[derive(Debug)]
pub struct Custom;

pub static CUSTOM: Custom = Custom;

impl Strategy for Custom {}
