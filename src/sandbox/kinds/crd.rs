//! CustomResourceDefinitions: validating a CRD, its status conditions, and serving its resource.

use crate::sandbox::kinds::registry::{CrdVersion, ResourceType, ScalePaths, Served};
use crate::sandbox::kinds::{Ctx, Strategy};
use crate::sandbox::schema::{ErrorKind, FieldError};
use crate::sandbox::status::ApiError;
use serde_json::{Value, json};

/// The finalizer a CRD carries until its custom resources are gone.
pub const CRD_CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// The CustomResourceDefinition strategy: validation, status conditions, serving its resource.
#[derive(Debug)]
pub struct Crd;

pub static CRD: Crd = Crd;

impl Strategy for Crd {
    fn prepare_create(
        &self,
        ctx: Ctx<'_>,
        rt: &ResourceType,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        check(rt, obj)?;
        let conflict = names_conflict(ctx.served, obj);
        set_status(obj, conflict);
        Ok(())
    }

    fn prepare_update(
        &self,
        ctx: Ctx<'_>,
        rt: &ResourceType,
        current: &Value,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        // staging/src/k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation/validation.go:
        // the scope of a CRD never changes (its objects would become unreachable).
        if obj["spec"]["scope"] != current["spec"]["scope"] {
            let name = obj["metadata"]["name"].as_str().unwrap_or_default();
            return Err(rt.invalid(
                name,
                &[FieldError {
                    path: "spec.scope".into(),
                    kind: ErrorKind::Invalid {
                        value: obj["spec"]["scope"].clone(),
                        detail: "field is immutable".into(),
                    },
                }],
            ));
        }
        self.prepare_create(ctx, rt, obj)
    }

    /// A created or updated CRD is served at once.
    fn after_write(&self, ctx: Ctx<'_>, _rt: &ResourceType, stored: &Value) {
        if stored["metadata"]["deletionTimestamp"].is_null() {
            serve(ctx.served, stored);
        }
    }

    /// A deleted CRD waits for its custom resources to go.
    fn mark_deleting(&self, obj: &mut Value) -> bool {
        let mut finalizers = obj["metadata"]["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !finalizers.iter().any(|f| f == CRD_CLEANUP_FINALIZER) {
            finalizers.push(json!(CRD_CLEANUP_FINALIZER));
            obj["metadata"]["finalizers"] = json!(finalizers);
        }
        true
    }
}

fn check(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    let errors = validate(obj);
    if errors.is_empty() {
        return Ok(());
    }
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    Err(rt.invalid(name, &errors))
}

/// Kubernetes' version priority: GA > beta > alpha, higher numbers first, then others alphabetically.
fn version_rank(v: &str) -> (u8, i64, i64, String) {
    let parse = |s: &str| -> Option<(u8, i64, i64)> {
        let rest = s.strip_prefix('v')?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let major: i64 = digits.parse().ok()?;
        let tail = &rest[digits.len()..];
        if tail.is_empty() {
            return Some((3, major, 0));
        }
        for (prefix, rank) in [("beta", 2u8), ("alpha", 1u8)] {
            if let Some(n) = tail.strip_prefix(prefix) {
                let minor: i64 = if n.is_empty() { 0 } else { n.parse().ok()? };
                return Some((rank, major, minor));
            }
        }
        None
    };
    match parse(v) {
        Some((rank, major, minor)) => (rank, major, minor, String::new()),
        None => (0, 0, 0, v.to_string()),
    }
}

/// The name of the version marked `storage: true` ("" if none is).
fn storage_version(crd: &Value) -> String {
    crd["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["storage"].as_bool() == Some(true))
        .and_then(|v| v["name"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Checks a CRD as a real server does at create and update.
pub fn validate(crd: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let plural = spec["names"]["plural"].as_str().unwrap_or_default();
    let name = crd["metadata"]["name"].as_str().unwrap_or_default();
    let req = |path: &str| FieldError {
        path: path.into(),
        kind: ErrorKind::Required,
    };
    if group.is_empty() {
        errs.push(req("spec.group"));
    } else if !group.contains('.') {
        errs.push(FieldError {
            path: "spec.group".into(),
            kind: ErrorKind::Invalid {
                value: json!(group),
                detail: "should be a domain with at least one dot".into(),
            },
        });
    }
    if plural.is_empty() {
        errs.push(req("spec.names.plural"));
    }
    if spec["names"]["kind"]
        .as_str()
        .unwrap_or_default()
        .is_empty()
    {
        errs.push(req("spec.names.kind"));
    }
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        errs.push(FieldError {
            path: "metadata.name".into(),
            kind: ErrorKind::Invalid {
                value: json!(name),
                detail: "must be spec.names.plural+\".\"+spec.group".into(),
            },
        });
    }
    match spec["scope"].as_str() {
        Some("Namespaced") | Some("Cluster") => {}
        Some(other) => errs.push(FieldError {
            path: "spec.scope".into(),
            kind: ErrorKind::NotSupported {
                value: json!(other),
                supported: vec!["Cluster".into(), "Namespaced".into()],
            },
        }),
        None => errs.push(req("spec.scope")),
    }
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    if versions.is_empty() {
        errs.push(FieldError {
            path: "spec.versions".into(),
            kind: ErrorKind::Invalid {
                value: json!([]),
                detail: "must have exactly one version marked as storage version".into(),
            },
        });
    }
    let storage = versions
        .iter()
        .filter(|v| v["storage"].as_bool() == Some(true))
        .count();
    if !versions.is_empty() && storage != 1 {
        errs.push(FieldError {
            path: "spec.versions".into(),
            kind: ErrorKind::Invalid {
                value: json!(versions),
                detail: "must have exactly one version marked as storage version".into(),
            },
        });
    }
    for (i, v) in versions.iter().enumerate() {
        let base = format!("spec.versions[{i}]");
        if v["name"].as_str().unwrap_or_default().is_empty() {
            errs.push(req(&format!("{base}.name")));
        }
        match v.get("schema").and_then(|s| s.get("openAPIV3Schema")) {
            Some(schema) => errs.extend(crate::sandbox::schema::structural::check_schema(
                schema,
                &format!("{base}.schema.openAPIV3Schema"),
            )),
            None => errs.push(req(&format!("{base}.schema.openAPIV3Schema"))),
        }
    }
    errs
}

/// Fills in a new or updated CRD's status: accepted names, conditions, stored versions.
pub fn set_status(crd: &mut Value, names_conflict: Option<String>) {
    let names = crd["spec"]["names"].clone();
    let mut accepted = names.clone();
    let kind = names["kind"].as_str().unwrap_or_default().to_string();
    if accepted["singular"].as_str().is_none_or(str::is_empty) {
        accepted["singular"] = json!(kind.to_lowercase());
    }
    if accepted["listKind"].as_str().is_none_or(str::is_empty) {
        accepted["listKind"] = json!(format!("{kind}List"));
    }
    let now = crate::sandbox::meta::now_rfc3339();
    let storage = storage_version(crd);
    let mut stored: Vec<Value> = crd["status"]["storedVersions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !stored.iter().any(|v| v.as_str() == Some(storage.as_str())) {
        stored.push(json!(storage));
    }
    let (ok, reason, message) = match names_conflict {
        None => ("True", "NoConflicts", "no conflicts found".to_string()),
        Some(m) => ("False", "PluralConflict", m),
    };
    let established = if ok == "True" {
        json!({"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now})
    } else {
        json!({"type": "Established", "status": "False", "reason": "NotAccepted", "message": "not all names are accepted", "lastTransitionTime": now})
    };
    let keep_time = |t: &str, mut cond: Value| {
        if let Some(old) = crd["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["type"] == t)
            && old["status"] == cond["status"]
        {
            cond["lastTransitionTime"] = old["lastTransitionTime"].clone();
        }
        cond
    };
    let conditions = json!([
        keep_time(
            "NamesAccepted",
            json!({"type": "NamesAccepted", "status": ok, "reason": reason, "message": message, "lastTransitionTime": now})
        ),
        keep_time("Established", established),
    ]);
    crd["status"] = json!({
        "conditions": conditions,
        "acceptedNames": if ok == "True" { accepted } else { json!({"plural": "", "kind": ""}) },
        "storedVersions": stored,
    });
}

/// Whether another CRD already serves this plural or kind in the group.
pub fn names_conflict(served: &Served, crd: &Value) -> Option<String> {
    let group = crd["spec"]["group"].as_str()?;
    let plural = crd["spec"]["names"]["plural"].as_str()?;
    let name = crd["metadata"]["name"].as_str()?;
    let reg = served.read();
    for (g, versions) in reg.groups() {
        if g != group {
            continue;
        }
        for plurals in versions.values() {
            for rt in plurals.values() {
                let other = rt.crd.as_ref().map(|c| c.crd_name.as_str());
                if rt.plural == plural && other != Some(name) {
                    return Some(format!("\"{plural}\" is already in use"));
                }
            }
        }
    }
    None
}

/// Serves (or re-serves) the resource a CRD defines.
pub fn serve(served: &Served, crd: &Value) {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default().to_string();
    let names = &crd["status"]["acceptedNames"];
    let plural = names["plural"].as_str().unwrap_or_default().to_string();
    if plural.is_empty() {
        return;
    }
    let kind = names["kind"].as_str().unwrap_or_default().to_string();
    let singular = names["singular"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| kind.to_lowercase());
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(String::from))
            .collect()
    };
    let versions: Vec<&Value> = spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["served"].as_bool() != Some(false))
        .collect();
    let all: Vec<String> = versions
        .iter()
        .filter_map(|v| v["name"].as_str().map(String::from))
        .collect();
    let storage = storage_version(crd);
    let mut types = Vec::new();
    for v in &versions {
        let version = v["name"].as_str().unwrap_or_default().to_string();
        let mut subresources = Vec::new();
        if v["subresources"]["status"].is_object() {
            subresources.push("status".to_string());
        }
        let scale = v["subresources"]["scale"].as_object().map(|s| {
            subresources.push("scale".to_string());
            ScalePaths {
                spec_replicas: s
                    .get("specReplicasPath")
                    .and_then(Value::as_str)
                    .unwrap_or(".spec.replicas")
                    .to_string(),
                status_replicas: s
                    .get("statusReplicasPath")
                    .and_then(Value::as_str)
                    .unwrap_or(".status.replicas")
                    .to_string(),
                label_selector: s
                    .get("labelSelectorPath")
                    .and_then(Value::as_str)
                    .map(String::from),
            }
        });
        types.push(ResourceType {
            group: group.clone(),
            version: version.clone(),
            kind: kind.clone(),
            plural: plural.clone(),
            singular: singular.clone(),
            namespaced: spec["scope"].as_str() != Some("Cluster"),
            short_names: strings(&names["shortNames"]),
            categories: strings(&names["categories"]),
            subresources,
            scale,
            builtin: None,
            crd: Some(CrdVersion {
                crd_name: crd["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                schema: v["schema"].get("openAPIV3Schema").cloned(),
                printer_columns: v
                    .get("additionalPrinterColumns")
                    .filter(|c| c.is_array())
                    .cloned(),
                storage_version: storage.clone(),
                all_versions: all.clone(),
            }),
        });
    }
    let preferred = all.iter().max_by_key(|v| version_rank(v)).cloned();
    served.update(|reg| reg.set_crd(&group, &plural, types, preferred.as_deref()));
}

/// Stops serving a deleted CRD's resource.
pub fn unserve(served: &Served, crd: &Value) {
    let group = crd["spec"]["group"].as_str().unwrap_or_default();
    let plural = crd["status"]["acceptedNames"]["plural"]
        .as_str()
        .or_else(|| crd["spec"]["names"]["plural"].as_str())
        .unwrap_or_default();
    served.update(|reg| reg.remove_crd(group, plural));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_priority() {
        let mut v = vec!["v1alpha1", "v1", "v2beta1", "v1beta2", "foo", "v2"];
        v.sort_by_key(|x| std::cmp::Reverse(version_rank(x)));
        assert_eq!(v, vec!["v2", "v1", "v2beta1", "v1beta2", "v1alpha1", "foo"]);
    }
}
