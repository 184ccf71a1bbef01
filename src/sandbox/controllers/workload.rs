//! Helpers the workload controllers share: selectors, owned pods, readiness, template hashes, pod creation.

use super::key;
use crate::sandbox::store::api::{Api, DeleteOpts, WriteOpts};
use serde_json::{Map, Value, json};

/// Whether a JSON LabelSelector (matchLabels, matchExpressions) matches `labels`.
pub fn selector_matches(selector: &Value, labels: &Value) -> bool {
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    if let Some(ml) = selector["matchLabels"].as_object()
        && !ml.iter().all(|(k, v)| label(k) == v.as_str())
    {
        return false;
    }
    selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| {
            let k = e["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match e["operator"].as_str().unwrap_or_default() {
                "In" => label(k).is_some_and(|v| values.contains(&v)),
                "NotIn" => label(k).is_none_or(|v| !values.contains(&v)),
                "Exists" => label(k).is_some(),
                "DoesNotExist" => label(k).is_none(),
                _ => false,
            }
        })
}

/// The objects of `plural` (group `group`) whose controller ownerReference is `owner`.
pub fn owned(api: &Api, owner: &Value, group: &str, plural: &str) -> Vec<std::sync::Arc<Value>> {
    let uid = owner["metadata"]["uid"].as_str().unwrap_or_default();
    let k = key(group, plural);
    api.store
        .dependents(uid)
        .into_iter()
        .filter(|r| r.key == k)
        .filter_map(|r| api.store.get(&r.key, &r.namespace, &r.name))
        .filter(|o| controller_uid(o) == Some(uid))
        .collect()
}

/// The uid of an object's controller ownerReference.
pub fn controller_uid(obj: &Value) -> Option<&str> {
    obj["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)?["uid"]
        .as_str()
}

/// The controller ownerReference of an object: (kind, name).
pub fn controller_of(obj: &Value) -> Option<(&str, &str)> {
    let r = obj["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)?;
    Some((r["kind"].as_str()?, r["name"].as_str()?))
}

pub fn is_deleting(obj: &Value) -> bool {
    !obj["metadata"]["deletionTimestamp"].is_null()
}

/// A pod that counts: not being deleted and not finished.
pub fn is_active(pod: &Value) -> bool {
    !is_deleting(pod)
        && !matches!(
            pod["status"]["phase"].as_str(),
            Some("Succeeded" | "Failed")
        )
}

pub fn is_ready(pod: &Value) -> bool {
    pod["status"]["phase"] == "Running"
        && pod["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// A controller ownerReference to `owner`.
pub fn controller_ref(owner: &Value, api_version: &str, kind: &str) -> Value {
    json!({
        "apiVersion": api_version, "kind": kind,
        "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
        "controller": true, "blockOwnerDeletion": true,
    })
}

/// Five characters from Kubernetes' name alphabet.
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A stable hash of a JSON value (key order does not matter), encoded like Kubernetes' template hashes.
pub fn template_hash(v: &Value) -> String {
    fn feed(h: &mut u32, bytes: &[u8]) {
        for b in bytes {
            *h ^= u32::from(*b);
            *h = h.wrapping_mul(16_777_619);
        }
    }
    fn walk(h: &mut u32, v: &Value) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                feed(h, b"{");
                for k in keys {
                    feed(h, k.as_bytes());
                    feed(h, b":");
                    walk(h, &m[k]);
                }
                feed(h, b"}");
            }
            Value::Array(a) => {
                feed(h, b"[");
                for x in a {
                    walk(h, x);
                    feed(h, b",");
                }
                feed(h, b"]");
            }
            other => feed(h, other.to_string().as_bytes()),
        }
    }
    let mut h: u32 = 2_166_136_261;
    walk(&mut h, v);
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = h;
    let mut out = String::new();
    while n > 0 || out.is_empty() {
        out.push(ALPHABET[(n % ALPHABET.len() as u32) as usize] as char);
        n /= ALPHABET.len() as u32;
    }
    out
}

/// Creates a pod from a template, with extra labels and a controller ownerReference.
#[allow(clippy::too_many_arguments)]
pub fn create_pod(
    api: &Api,
    ns: &str,
    name: &str,
    template: &Value,
    extra_labels: &[(&str, String)],
    owner_ref: Value,
    spec_extra: impl FnOnce(&mut Map<String, Value>),
    manager: &str,
) {
    let Some(rt) = api.registry().get("", "v1", "pods") else {
        return;
    };
    let mut metadata = template["metadata"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut labels = metadata
        .get("labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (k, v) in extra_labels {
        labels.insert((*k).to_string(), json!(v));
    }
    metadata.insert("labels".into(), Value::Object(labels));
    metadata.insert("name".into(), json!(name));
    metadata.insert("namespace".into(), json!(ns));
    metadata.insert("ownerReferences".into(), json!([owner_ref]));
    metadata.remove("generateName");
    let mut spec = template["spec"].as_object().cloned().unwrap_or_default();
    spec_extra(&mut spec);
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec});
    if let Err(e) = api.create(&rt, ns, pod, &WriteOpts::internal(manager))
        && e.code != 409
    {
        tracing::debug!("{manager}: creating pod {ns}/{name}: {e}");
    }
}

/// Deletes an object (with its default grace period); a missing one is fine.
pub fn delete(api: &Api, group: &str, version: &str, plural: &str, ns: &str, name: &str) {
    let Some(rt) = api.registry().get(group, version, plural) else {
        return;
    };
    let opts = DeleteOpts {
        propagation: Some("Background".into()),
        ..Default::default()
    };
    if let Err(e) = api.delete(&rt, ns, name, &opts)
        && e.code != 404
    {
        tracing::debug!("deleting {plural} {ns}/{name}: {e}");
    }
}

/// Deletes a pod (given as the object) in the background, like [`delete`].
pub fn delete_pod(api: &Api, ns: &str, pod: &Value) {
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    delete(api, "", "v1", "pods", ns, name);
}

/// Writes `status` into an object if it differs (an internal status write, no admission).
pub fn set_status(api: &Api, group: &str, plural: &str, obj: &Value, status: Value) {
    let (ns, name) = crate::sandbox::store::ns_name(obj);
    let uid = obj["metadata"]["uid"].clone();
    api.mutate(&key(group, plural), &ns, &name, |o| {
        if o["metadata"]["uid"] != uid || o["status"] == status {
            return false;
        }
        o["status"] = status;
        true
    });
}

/// A status condition, keeping its lastTransitionTime when the status did not change.
pub fn condition(old_status: &Value, ty: &str, status: &str, reason: &str, message: &str) -> Value {
    let now = crate::sandbox::meta::now_rfc3339();
    let old = old_status["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == ty);
    let (transition, update) = match old {
        Some(c) if c["status"] == status => {
            let same = c["reason"] == reason && c["message"] == message;
            (
                c["lastTransitionTime"].clone(),
                if same {
                    c["lastUpdateTime"].clone()
                } else {
                    json!(now)
                },
            )
        }
        _ => (json!(now), json!(now)),
    };
    json!({"type": ty, "status": status, "lastUpdateTime": update, "lastTransitionTime": transition, "reason": reason, "message": message})
}

/// An int-or-percent field resolved against `total` (percentages round up or down).
pub fn int_or_percent(v: &Value, total: i64, round_up: bool, default: i64) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(default),
        Value::String(s) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(p) if round_up => (p * total + 99) / 100,
            Some(p) => p * total / 100,
            None => s.parse().unwrap_or(default),
        },
        _ => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_and_hashes() {
        let labels = json!({"app": "web", "tier": "fe"});
        assert!(selector_matches(
            &json!({"matchLabels": {"app": "web"}}),
            &labels
        ));
        assert!(!selector_matches(
            &json!({"matchLabels": {"app": "db"}}),
            &labels
        ));
        assert!(selector_matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe"]}]}),
            &labels
        ));
        assert_eq!(
            template_hash(&json!({"a": 1, "b": [1, 2]})),
            template_hash(&json!({"b": [1, 2], "a": 1}))
        );
        assert_ne!(
            template_hash(&json!({"a": 1})),
            template_hash(&json!({"a": 2}))
        );
        assert_eq!(int_or_percent(&json!("25%"), 3, true, 0), 1);
        assert_eq!(int_or_percent(&json!("25%"), 3, false, 0), 0);
    }
}
