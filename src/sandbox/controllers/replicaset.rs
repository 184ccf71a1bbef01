//! The ReplicaSet controller: keeps `spec.replicas` pods named `<rs>-<5 random>` and reports their status.

use super::key;
use super::workload::{self as w, is_active, is_ready};
use crate::sandbox::store::api::Api;
use serde_json::{Value, json};

/// Reconciles one ReplicaSet from its current pods.
pub fn reconcile(api: &Api, ns: &str, name: &str) {
    let Some(rs) = api.store.get(&key("apps", "replicasets"), ns, name) else {
        return;
    };
    if w::is_deleting(&rs) {
        return;
    }
    let pods = w::owned(api, &rs, "", "pods");
    let mut active: Vec<_> = pods.iter().filter(|p| is_active(p)).collect();
    let want = rs["spec"]["replicas"].as_i64().unwrap_or(1).max(0) as usize;
    if active.len() < want {
        let owner = w::controller_ref(&rs, "apps/v1", "ReplicaSet");
        let hash = rs["metadata"]["labels"]["pod-template-hash"]
            .as_str()
            .map(String::from);
        let extra: Vec<(&str, String)> =
            hash.into_iter().map(|h| ("pod-template-hash", h)).collect();
        for _ in active.len()..want {
            let pod_name = format!("{name}-{}", w::random_suffix());
            w::create_pod(
                api,
                ns,
                &pod_name,
                &rs["spec"]["template"],
                &extra,
                owner.clone(),
                |_| {},
                "replicaset-controller",
            );
        }
    } else if active.len() > want {
        // Not ready first, then the newest.
        active.sort_by(|a, b| {
            is_ready(a).cmp(&is_ready(b)).then_with(|| {
                b["metadata"]["creationTimestamp"]
                    .as_str()
                    .cmp(&a["metadata"]["creationTimestamp"].as_str())
            })
        });
        for pod in &active[..active.len() - want] {
            let pod_name = pod["metadata"]["name"].as_str().unwrap_or_default();
            w::delete(api, "", "v1", "pods", ns, pod_name);
        }
    }
    // Status from what is there now.
    let pods = w::owned(api, &rs, "", "pods");
    let active: Vec<_> = pods.iter().filter(|p| is_active(p)).collect();
    let template_labels = &rs["spec"]["template"]["metadata"]["labels"];
    let fully = active
        .iter()
        .filter(|p| {
            template_labels
                .as_object()
                .into_iter()
                .flatten()
                .all(|(k, v)| &p["metadata"]["labels"][k] == v)
        })
        .count();
    let ready = active.iter().filter(|p| is_ready(p)).count();
    let mut status = json!({
        "replicas": active.len(),
        "fullyLabeledReplicas": fully,
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": rs["metadata"]["generation"],
    });
    let obj = status.as_object_mut();
    if let Some(obj) = obj {
        obj.retain(|k, v| k == "replicas" || k == "observedGeneration" || v != &json!(0));
    }
    w::set_status(api, "apps", "replicasets", &rs, status);
}

/// A pod changed: its ReplicaSet reconciles.
pub fn on_pod(api: &Api, pod: &Value) {
    if let Some(("ReplicaSet", rs)) = w::controller_of(pod) {
        let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
        reconcile(api, ns, rs);
    }
}
