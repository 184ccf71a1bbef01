//! The Service kind: the generic rules (cluster IP and node port allocation in `admission.rs`) plus the
//! immutable cluster IPs, valid ports and the `status.loadBalancer` every Service carries
//! (pkg/apis/core/validation/validation.go `ValidateService`/`ValidateServiceUpdate`,
//! pkg/registry/core/service/strategy.go).

use crate::sandbox::kinds::generic::GENERIC;
use crate::sandbox::kinds::registry::ResourceType;
use crate::sandbox::kinds::{Ctx, Strategy, validation};
use crate::sandbox::schema::FieldError;
use crate::sandbox::status::ApiError;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct Service;

pub static SERVICE: Service = Service;

impl Strategy for Service {
    fn before_validation(&self, rt: &ResourceType, obj: &mut Value) {
        GENERIC.before_validation(rt, obj);
    }

    fn defaults(&self, rt: &ResourceType, obj: &mut Value) {
        GENERIC.defaults(rt, obj);
    }

    fn validate(&self, rt: &ResourceType, old: Option<&Value>, obj: &Value) -> Vec<FieldError> {
        let mut errs = GENERIC.validate(rt, old, obj);
        let spec = &obj["spec"];
        for (i, p) in spec["ports"].as_array().into_iter().flatten().enumerate() {
            let at = format!("spec.ports[{i}]");
            validation::port(&p["port"], &format!("{at}.port"), &mut errs);
            if p["targetPort"].is_number() {
                validation::port(&p["targetPort"], &format!("{at}.targetPort"), &mut errs);
            }
            if let Some(n) = p["nodePort"].as_i64()
                && !(1..=65535).contains(&n)
            {
                errs.push(FieldError::invalid(
                    format!("{at}.nodePort"),
                    json!(n),
                    "must be between 1 and 65535, inclusive",
                ));
            }
        }
        if let Some(old) = old {
            let before = old["spec"]["clusterIP"].as_str().unwrap_or_default();
            let after = spec["clusterIP"].as_str().unwrap_or_default();
            // Omitted is carried over from the old object; a different address is refused.
            let changed_ip = !before.is_empty() && !after.is_empty() && before != after;
            let changed_ips = !old["spec"]["clusterIPs"].is_null()
                && spec["clusterIPs"].is_array()
                && spec["clusterIPs"] != old["spec"]["clusterIPs"];
            if changed_ip || changed_ips {
                let value = if spec["clusterIPs"].is_array() && changed_ips {
                    spec["clusterIPs"].clone()
                } else {
                    json!([after])
                };
                errs.push(FieldError::invalid(
                    "spec.clusterIPs[0]",
                    value,
                    "may not change once set",
                ));
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
        GENERIC.prepare_create(ctx, rt, obj)?;
        if !obj["status"]["loadBalancer"].is_object() {
            obj["status"]["loadBalancer"] = json!({});
        }
        Ok(())
    }

    fn prepare_update(
        &self,
        ctx: Ctx<'_>,
        rt: &ResourceType,
        current: &Value,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        GENERIC.prepare_update(ctx, rt, current, obj)?;
        if !obj["status"]["loadBalancer"].is_object() {
            obj["status"]["loadBalancer"] = json!({});
        }
        Ok(())
    }

    fn after_write(&self, ctx: Ctx<'_>, rt: &ResourceType, stored: &Value) {
        GENERIC.after_write(ctx, rt, stored);
    }
}
