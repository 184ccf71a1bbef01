//! The DaemonSet controller: one pod on the single node `sandbox`, replaced when the template changes.

use super::bootstrap::NODE;
use super::key;
use super::workload::{self as w, is_active, is_ready};
use crate::sandbox::store::api::Api;
use serde_json::{Value, json};

/// Reconciles one DaemonSet.
pub fn reconcile(api: &Api, ns: &str, name: &str) {
    let Some(ds) = api.store.get(&key("apps", "daemonsets"), ns, name) else {
        return;
    };
    if w::is_deleting(&ds) {
        return;
    }
    let hash = w::template_hash(&ds["spec"]["template"]);
    let pods = w::owned(api, &ds, "", "pods");
    let active: Vec<_> = pods.iter().filter(|p| is_active(p)).collect();
    let current = |p: &Value| p["metadata"]["labels"]["controller-revision-hash"] == hash.as_str();
    let terminating = pods.iter().any(|p| w::is_deleting(p));
    if active.is_empty() && !terminating {
        let pod_name = format!("{name}-{}", w::random_suffix());
        let labels = [
            ("controller-revision-hash", hash.clone()),
            (
                "pod-template-generation",
                ds["metadata"]["generation"].to_string(),
            ),
        ];
        let owner = w::controller_ref(&ds, "apps/v1", "DaemonSet");
        w::create_pod(
            api,
            ns,
            &pod_name,
            &ds["spec"]["template"],
            &labels,
            owner,
            |spec| {
                spec.insert("nodeName".into(), json!(NODE));
            },
            "daemonset-controller",
        );
    } else {
        // Extra pods, and (one at a time) pods of an old template, go.
        let keep = active
            .iter()
            .find(|p| current(p))
            .or(active.first())
            .map(|p| p["metadata"]["uid"].clone());
        for p in &active {
            let stale = !current(p) && ds["spec"]["updateStrategy"]["type"] != "OnDelete";
            if Some(&p["metadata"]["uid"]) != keep.as_ref() || stale {
                w::delete_pod(api, ns, p);
            }
        }
    }
    let pods = w::owned(api, &ds, "", "pods");
    let active: Vec<_> = pods.iter().filter(|p| is_active(p)).collect();
    let ready = active.iter().filter(|p| is_ready(p)).count();
    let updated = active.iter().filter(|p| current(p)).count();
    let status = json!({
        "desiredNumberScheduled": 1,
        "currentNumberScheduled": active.len().min(1),
        "numberMisscheduled": 0,
        "numberReady": ready,
        "updatedNumberScheduled": updated,
        "numberAvailable": ready,
        "numberUnavailable": 1 - ready.min(1),
        "observedGeneration": ds["metadata"]["generation"],
    });
    w::set_status(api, "apps", "daemonsets", &ds, status);
}

/// A pod changed: its DaemonSet reconciles.
pub fn on_pod(api: &Api, pod: &Value) {
    if let Some(("DaemonSet", ds)) = w::controller_of(pod) {
        let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
        reconcile(api, ns, ds);
    }
}
