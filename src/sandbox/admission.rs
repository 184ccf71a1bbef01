//! Per-kind admission of built-in objects: the validation and the server-set fields a real API server adds.

use crate::sandbox::api::Api;
use crate::sandbox::crd;
use crate::sandbox::meta::LabelSelector;
use crate::sandbox::registry::ResourceType;
use crate::sandbox::schema::{ErrorKind, FieldError};
use crate::sandbox::status::ApiError;
use serde_json::{Value, json};

/// The finalizer a CRD carries until its custom resources are gone.
pub const CRD_CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

fn is(rt: &ResourceType, group: &str, kind: &str) -> bool {
    rt.group == group && rt.kind == kind
}

/// Server-set fields of a new object.
pub fn on_create(api: &Api, rt: &ResourceType, obj: &mut Value) -> Result<(), ApiError> {
    if is(rt, "", "Pod") {
        obj["status"] = json!({"phase": "Pending", "qosClass": qos_class(&obj["spec"])});
        if obj["spec"]["serviceAccountName"]
            .as_str()
            .is_none_or(str::is_empty)
        {
            obj["spec"]["serviceAccountName"] = json!("default");
        }
        obj["spec"]["serviceAccount"] = obj["spec"]["serviceAccountName"].clone();
        obj["spec"]["enableServiceLinks"] = obj["spec"]
            .get("enableServiceLinks")
            .cloned()
            .unwrap_or(json!(true));
        obj["spec"]["priority"] = json!(0);
    } else if is(rt, "", "Service") {
        let spec = &mut obj["spec"];
        let ty = spec["type"].as_str().unwrap_or("ClusterIP").to_string();
        if ty != "ExternalName" && spec["clusterIP"].as_str().is_none_or(str::is_empty) {
            let ip = api.allocate_ip(true);
            spec["clusterIP"] = json!(ip);
            spec["clusterIPs"] = json!([ip]);
        } else if let Some(ip) = spec["clusterIP"].as_str().map(String::from) {
            spec["clusterIPs"] = json!([ip]);
        }
        if ty == "NodePort" || ty == "LoadBalancer" {
            for (i, p) in spec["ports"]
                .as_array_mut()
                .into_iter()
                .flatten()
                .enumerate()
            {
                if p["nodePort"].is_null() {
                    p["nodePort"] =
                        json!(30000 + (api.allocate_ip(false).len() as i64 * 7 + i as i64) % 2767);
                }
            }
            if ty == "LoadBalancer" {
                obj["status"] = json!({"loadBalancer": {}});
            }
        }
    } else if is(rt, "", "Namespace") {
        obj["status"] = json!({"phase": "Active"});
        if let Some(name) = obj["metadata"]["name"].as_str().map(String::from) {
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
        }
    } else if is(rt, "apiextensions.k8s.io", "CustomResourceDefinition") {
        check_crd(rt, obj)?;
        let conflict = crd::names_conflict(api, obj);
        crd::set_status(obj, conflict);
    }
    Ok(())
}

/// Server-kept fields on an update.
pub fn on_update(
    api: &Api,
    rt: &ResourceType,
    current: &Value,
    obj: &mut Value,
) -> Result<(), ApiError> {
    if is(rt, "", "Service") {
        for key in ["clusterIP", "clusterIPs"] {
            if obj["spec"][key].is_null() && !current["spec"][key].is_null() {
                obj["spec"][key] = current["spec"][key].clone();
            }
        }
    } else if is(rt, "", "Namespace") {
        if let Some(name) = current["metadata"]["name"].as_str() {
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
        }
        if obj["spec"].is_null() {
            obj["spec"] = current["spec"].clone();
        }
    } else if is(rt, "", "Pod") {
        pod_update_allowed(rt, current, obj)?;
    } else if is(rt, "apiextensions.k8s.io", "CustomResourceDefinition") {
        check_crd(rt, obj)?;
        let conflict = crd::names_conflict(api, obj);
        crd::set_status(obj, conflict);
    }
    Ok(())
}

/// Work after a committed write: a created or updated CRD is served at once.
pub fn after_write(api: &Api, rt: &ResourceType, stored: &Value) {
    if is(rt, "apiextensions.k8s.io", "CustomResourceDefinition")
        && stored["metadata"]["deletionTimestamp"].is_null()
    {
        crd::serve(api, stored);
    }
}

fn check_crd(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    let errors = crd::validate(obj);
    if errors.is_empty() {
        return Ok(());
    }
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    Err(crate::sandbox::api::invalid(rt, name, &errors))
}

fn qos_class(spec: &Value) -> &'static str {
    let containers = spec["containers"].as_array().cloned().unwrap_or_default();
    let any = containers.iter().any(|c| {
        c["resources"]["requests"]
            .as_object()
            .is_some_and(|m| !m.is_empty())
            || c["resources"]["limits"]
                .as_object()
                .is_some_and(|m| !m.is_empty())
    });
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let l = &c["resources"]["limits"];
        let r = &c["resources"]["requests"];
        ["cpu", "memory"]
            .iter()
            .all(|k| !l[k].is_null() && (r[k].is_null() || r[k] == l[k]))
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
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

fn pod_update_allowed(rt: &ResourceType, current: &Value, obj: &Value) -> Result<(), ApiError> {
    let strip = |spec: &Value| {
        let mut s = spec.clone();
        for list in ["containers", "initContainers"] {
            for c in s[list].as_array_mut().into_iter().flatten() {
                if let Some(m) = c.as_object_mut() {
                    m.remove("image");
                }
            }
        }
        if let Some(m) = s.as_object_mut() {
            for k in [
                "activeDeadlineSeconds",
                "tolerations",
                "terminationGracePeriodSeconds",
                "nodeName",
                "schedulingGates",
            ] {
                m.remove(k);
            }
        }
        s
    };
    if strip(&current["spec"]) == strip(&obj["spec"]) {
        return Ok(());
    }
    let name = current["metadata"]["name"].as_str().unwrap_or_default();
    Err(crate::sandbox::api::invalid(
        rt,
        name,
        &[FieldError {
            path: "spec".into(),
            kind: ErrorKind::Forbidden(
                "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)".into(),
            ),
        }],
    ))
}

/// Validation of built-in kinds beyond their schema: the rules attendees actually hit.
pub fn validate_builtin(rt: &ResourceType, old: Option<&Value>, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Pod") => pod_spec(&obj["spec"], "spec", &mut errs),
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
        if let Some(old) = old
            && rt.kind != "Deployment"
            && rt.kind != "DaemonSet"
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
    pod_spec(&spec["template"]["spec"], "spec.template.spec", errs);
}

fn pod_spec(spec: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let containers = spec["containers"].as_array();
    if containers.is_none_or(|c| c.is_empty()) {
        errs.push(FieldError {
            path: format!("{path}.containers"),
            kind: ErrorKind::Required,
        });
        return;
    }
    let mut seen = std::collections::HashSet::new();
    for (i, c) in containers.into_iter().flatten().enumerate() {
        let base = format!("{path}.containers[{i}]");
        match c["name"].as_str() {
            None | Some("") => errs.push(FieldError {
                path: format!("{base}.name"),
                kind: ErrorKind::Required,
            }),
            Some(name) => {
                for detail in crate::sandbox::meta::dns1123_label_errors(name) {
                    errs.push(FieldError {
                        path: format!("{base}.name"),
                        kind: ErrorKind::Invalid {
                            value: json!(name),
                            detail,
                        },
                    });
                }
                if !seen.insert(name.to_string()) {
                    errs.push(FieldError {
                        path: format!("{base}.name"),
                        kind: ErrorKind::Invalid {
                            value: json!(name),
                            detail: "Duplicate value".into(),
                        },
                    });
                }
            }
        }
        if c["image"].as_str().is_none_or(|s| s.trim().is_empty()) {
            errs.push(FieldError {
                path: format!("{base}.image"),
                kind: ErrorKind::Required,
            });
        }
    }
}
