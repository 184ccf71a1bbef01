//! ConfigMap and Secret: data keys must be valid config keys, and an object marked `immutable: true` keeps
//! its data and stays immutable (pkg/apis/core/validation/validation.go `ValidateConfigMapUpdate`,
//! `ValidateSecretUpdate`, `IsConfigMapKey`).

use crate::sandbox::kinds::generic::GENERIC;
use crate::sandbox::kinds::registry::ResourceType;
use crate::sandbox::kinds::{Ctx, Strategy, validation};
use crate::sandbox::schema::FieldError;
use crate::sandbox::status::ApiError;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct Config;

pub static CONFIG: Config = Config;

impl Strategy for Config {
    fn before_validation(&self, rt: &ResourceType, obj: &mut Value) {
        GENERIC.before_validation(rt, obj);
    }

    fn defaults(&self, rt: &ResourceType, obj: &mut Value) {
        GENERIC.defaults(rt, obj);
    }

    fn validate(&self, rt: &ResourceType, old: Option<&Value>, obj: &Value) -> Vec<FieldError> {
        let mut errs = GENERIC.validate(rt, old, obj);
        for field in ["data", "binaryData", "stringData"] {
            for key in obj[field].as_object().into_iter().flat_map(|m| m.keys()) {
                for detail in validation::config_key_errors(key) {
                    errs.push(FieldError::invalid(field, json!(key), detail));
                }
            }
        }
        if let Some(old) = old
            && old["immutable"].as_bool() == Some(true)
        {
            if obj["immutable"].as_bool() != Some(true) {
                errs.push(FieldError::forbidden(
                    "immutable",
                    "field is immutable when `immutable` is set",
                ));
            }
            let fields: &[&str] = if rt.kind == "Secret" {
                &["data"]
            } else {
                &["data", "binaryData"]
            };
            for field in fields {
                let empty = |v: &Value| v.is_null() || v.as_object().is_some_and(|m| m.is_empty());
                if obj[field] != old[field] && !(empty(&obj[*field]) && empty(&old[*field])) {
                    errs.push(FieldError::forbidden(
                        *field,
                        "field is immutable when `immutable` is set",
                    ));
                }
            }
        }
        errs
    }

    fn prepare_create(
        &self,
        ctx: Ctx<'_>,
        rt: &ResourceType,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        GENERIC.prepare_create(ctx, rt, obj)
    }

    fn prepare_update(
        &self,
        ctx: Ctx<'_>,
        rt: &ResourceType,
        current: &Value,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        GENERIC.prepare_update(ctx, rt, current, obj)
    }

    fn after_write(&self, ctx: Ctx<'_>, rt: &ResourceType, stored: &Value) {
        GENERIC.after_write(ctx, rt, stored);
    }
}
