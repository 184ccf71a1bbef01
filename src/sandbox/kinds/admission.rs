//! Per-kind admission of built-in objects: the validation and the server-set fields a real API server adds.

use crate::sandbox::kinds::registry::ResourceType;
use crate::sandbox::meta::LabelSelector;
use crate::sandbox::schema::{ErrorKind, FieldError};
use serde_json::{Value, json};

fn is(rt: &ResourceType, group: &str, kind: &str) -> bool {
    rt.group == group && rt.kind == kind
}

/// Server-set fields a create needs before validation: a Job's generated selector and labels.
pub fn before_create_validation(rt: &ResourceType, obj: &mut Value) {
    if is(rt, "batch", "Job") {
        job_selector(obj);
    }
}

fn job_selector(obj: &mut Value) {
    let Some(uid) = obj["metadata"]["uid"].as_str().map(String::from) else {
        return;
    };
    if obj["spec"]["manualSelector"].as_bool() == Some(true) {
        return;
    }
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    obj["spec"]["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
    let labels = &mut obj["spec"]["template"]["metadata"]["labels"];
    labels["batch.kubernetes.io/controller-uid"] = json!(uid);
    labels["controller-uid"] = json!(uid);
    labels["batch.kubernetes.io/job-name"] = json!(name);
    labels["job-name"] = json!(name);
}

/// Validation of built-in kinds beyond their schema: the rules attendees actually hit.
pub fn validate_builtin(rt: &ResourceType, old: Option<&Value>, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet") | ("batch", "Job") => {
            workload(rt, old, obj, &mut errs);
        }
        _ => {}
    }
    errs
}

fn workload(rt: &ResourceType, old: Option<&Value>, obj: &Value, errs: &mut Vec<FieldError>) {
    let spec = &obj["spec"];
    let selector = &spec["selector"];
    if selector.is_null() || selector.as_object().is_some_and(|m| m.is_empty()) {
        errs.push(FieldError {
            path: "spec.selector".into(),
            kind: ErrorKind::Required,
        });
    } else {
        let sel = LabelSelector::from_object(selector);
        let labels = &spec["template"]["metadata"]["labels"];
        if sel.0.is_empty() {
            errs.push(FieldError {
                path: "spec.selector".into(),
                kind: ErrorKind::Invalid {
                    value: selector.clone(),
                    detail: "empty selector is invalid for deployment".into(),
                },
            });
        } else if !sel.matches(labels) {
            errs.push(FieldError {
                path: "spec.template.metadata.labels".into(),
                kind: ErrorKind::Invalid {
                    value: labels.clone(),
                    detail: "`selector` does not match template `labels`".into(),
                },
            });
        }
        // apps/v1 made every workload's selector immutable (pkg/apis/apps/validation/validation.go);
        // a Job's selector is generated and immutable too.
        if let Some(old) = old
            && old["spec"]["selector"] != *selector
        {
            errs.push(FieldError {
                path: "spec.selector".into(),
                kind: ErrorKind::Invalid {
                    value: selector.clone(),
                    detail: "field is immutable".into(),
                },
            });
        }
    }
    if let Some(r) = spec["replicas"].as_i64()
        && r < 0
    {
        errs.push(FieldError {
            path: "spec.replicas".into(),
            kind: ErrorKind::Invalid {
                value: json!(r),
                detail: "must be greater than or equal to 0".into(),
            },
        });
    }
    if rt.kind == "Job"
        && let Some(old) = old
        && old["spec"]["suspend"].as_bool() != Some(true)
        && old["spec"]["template"] != spec["template"]
    {
        // pkg/apis/batch/validation/validation.go ValidateJobSpecUpdate: the template of a Job that is
        // not suspended never changes.
        errs.push(FieldError {
            path: "spec.template".into(),
            kind: ErrorKind::Invalid {
                value: spec["template"].clone(),
                detail: "field is immutable".into(),
            },
        });
    }
    if rt.kind == "Job" {
        let rp = spec["template"]["spec"]["restartPolicy"]
            .as_str()
            .unwrap_or_default();
        if rp != "Never" && rp != "OnFailure" {
            errs.push(FieldError {
                path: "spec.template.spec.restartPolicy".into(),
                kind: ErrorKind::NotSupported {
                    value: json!(rp),
                    supported: vec!["OnFailure".into(), "Never".into()],
                },
            });
        }
    }
    crate::sandbox::kinds::pod::validate_spec(
        &spec["template"]["spec"],
        "spec.template.spec",
        errs,
    );
}
