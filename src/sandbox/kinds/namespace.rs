//! The Namespace: its `kubernetes.io/metadata.name` label, phase, `spec.finalizers` and `/finalize`.

use crate::sandbox::kinds::defaults::set_default;
use crate::sandbox::kinds::registry::ResourceType;
use crate::sandbox::kinds::{Ctx, Strategy, SubReply, SubWrite};
use crate::sandbox::status::ApiError;
use serde_json::{Value, json};

/// The subresources a namespace serves.
pub const SUBRESOURCES: &[&str] = &["status", "finalize"];

/// The Namespace strategy.
#[derive(Debug)]
pub struct Namespace;

pub static NAMESPACE: Namespace = Namespace;

impl Strategy for Namespace {
    fn defaults(&self, _rt: &ResourceType, obj: &mut Value) {
        let Some(root) = obj.as_object_mut() else {
            return;
        };
        let spec = root.entry("spec").or_insert_with(|| json!({}));
        if let Some(spec) = spec.as_object_mut() {
            set_default(spec, "finalizers", json!(["kubernetes"]));
        }
    }

    fn prepare_create(
        &self,
        _ctx: Ctx<'_>,
        _rt: &ResourceType,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        obj["status"] = json!({"phase": "Active"});
        if let Some(name) = obj["metadata"]["name"].as_str().map(String::from) {
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
        }
        Ok(())
    }

    fn prepare_update(
        &self,
        _ctx: Ctx<'_>,
        _rt: &ResourceType,
        current: &Value,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        if let Some(name) = current["metadata"]["name"].as_str() {
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
        }
        if obj["spec"].is_null() {
            obj["spec"] = current["spec"].clone();
        }
        Ok(())
    }

    fn mark_deleting(&self, obj: &mut Value) -> bool {
        obj["status"]["phase"] = json!("Terminating");
        true
    }

    /// A terminating namespace goes when both its metadata finalizers and its own `spec.finalizers` are done.
    fn stays_after_finalizers(&self, _current: &Value, next: &Value) -> bool {
        next["spec"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    }

    fn subresource_write(
        &self,
        _rt: &ResourceType,
        sub: &str,
        body: Value,
    ) -> Option<Result<SubWrite, ApiError>> {
        if sub != "finalize" {
            return None;
        }
        // PUT /finalize: the body's spec.finalizers replace the namespace's.
        let finalizers = match &body["spec"]["finalizers"] {
            Value::Null => json!([]),
            f => f.clone(),
        };
        Some(Ok(SubWrite::Update {
            reply: SubReply::Object,
            change: Box::new(move |mut ns: Value| {
                ns["spec"]["finalizers"] = finalizers.clone();
                Ok(ns)
            }),
        }))
    }
}
