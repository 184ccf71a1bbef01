//! Defaults a real API server fills into built-in objects (the fields `kubectl get -o yaml` shows but nobody wrote).

use serde_json::{Map, Value, json};

pub(crate) fn set_default(obj: &mut Map<String, Value>, key: &str, value: Value) {
    if obj.get(key).is_none_or(Value::is_null) {
        obj.insert(key.to_string(), value);
    }
}

pub(crate) fn child<'a>(
    obj: &'a mut Map<String, Value>,
    key: &str,
) -> Option<&'a mut Map<String, Value>> {
    obj.get_mut(key).and_then(Value::as_object_mut)
}

/// Fills defaults into an object of a built-in kind.
pub fn apply(group: &str, kind: &str, obj: &mut Value) {
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    match (group, kind) {
        ("apps", "Deployment") => {
            if let Some(spec) = child(root, "spec") {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(spec, "progressDeadlineSeconds", json!(600));
                set_default(
                    spec,
                    "strategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
                );
                template(spec);
            }
        }
        ("apps", "ReplicaSet") => {
            if let Some(spec) = child(root, "spec") {
                set_default(spec, "replicas", json!(1));
                template(spec);
            }
        }
        ("apps", "StatefulSet") => {
            if let Some(spec) = child(root, "spec") {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "podManagementPolicy", json!("OrderedReady"));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(
                    spec,
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
                );
                set_default(
                    spec,
                    "persistentVolumeClaimRetentionPolicy",
                    json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
                );
                template(spec);
            }
        }
        ("apps", "DaemonSet") => {
            if let Some(spec) = child(root, "spec") {
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(
                    spec,
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}),
                );
                template(spec);
            }
        }
        ("batch", "Job") => {
            if let Some(spec) = child(root, "spec") {
                set_default(spec, "parallelism", json!(1));
                set_default(spec, "completions", json!(1));
                set_default(spec, "backoffLimit", json!(6));
                set_default(spec, "completionMode", json!("NonIndexed"));
                set_default(spec, "suspend", json!(false));
                set_default(spec, "manualSelector", json!(false));
                set_default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
                if let Some(t) = child(spec, "template").and_then(|t| child(t, "spec")) {
                    set_default(t, "restartPolicy", json!("Never"));
                }
                template(spec);
            }
        }
        ("", "Secret") => set_default(root, "type", json!("Opaque")),
        _ => {}
    }
}

fn template(spec: &mut Map<String, Value>) {
    if let Some(pod) = child(spec, "template").and_then(|t| child(t, "spec")) {
        crate::sandbox::kinds::pod::default_spec(pod);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_values_are_kept() {
        let mut dep = json!({"spec": {"replicas": 0, "template": {"spec": {"containers": []}}}});
        apply("apps", "Deployment", &mut dep);
        assert_eq!(dep["spec"]["replicas"], 0);
        assert_eq!(dep["spec"]["strategy"]["type"], "RollingUpdate");
    }
}
