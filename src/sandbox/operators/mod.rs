//! Simulated operators: when a bundled operator set has been applied to the sandbox (its Deployment exists
//! and its pod runs), the sandbox does that operator's work, the way the real one would, and says so in
//! every Event it writes ("simulated by the oplab sandbox"). On a real cluster nothing here runs.
//!
//! - [`etcd`]: etcd-io/etcd-operator v0.2.0 reconciling EtcdClusters into StatefulSets of real etcd members.
//! - [`olm`]: OLM v0's catalog-operator and olm-operator carrying out Subscriptions against a bundled catalog.

pub mod etcd;
pub mod olm;

use crate::sandbox::api::Api;
use crate::sandbox::controllers::key;
use crate::sandbox::controllers::kubelet::record_event;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What the simulations add to every message they write.
pub const SIMULATED: &str = "simulated by the oplab sandbox";

/// Runs the simulated operators until `stop`: each reacts to changes of the kinds it watches and
/// requeues every second.
pub async fn run(api: Arc<Api>, stop: CancellationToken) {
    let mut rx = api.store.subscribe();
    let etcd = etcd::EtcdOperator::default();
    let olm = olm::Olm::default();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        let (etcd_due, olm_due) = tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => (true, true),
            ev = rx.recv() => match ev {
                Ok(ev) => (etcd::watches(&ev.key), olm::watches(&ev.key)),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => (true, true),
                Err(_) => return,
            }
        };
        if etcd_due {
            etcd.reconcile_all(&api, &stop);
        }
        if olm_due {
            olm.reconcile_all(&api);
        }
    }
}

/// Whether a bundled operator runs: its Deployment exists and one of its pods is Running.
pub fn deployment_runs(api: &Api, ns: &str, name: &str) -> bool {
    let Some(d) = api.store.get(&key("apps", "deployments"), ns, name) else {
        return false;
    };
    if !d["metadata"]["deletionTimestamp"].is_null() {
        return false;
    }
    let selector = &d["spec"]["selector"];
    api.store
        .list(&key("", "pods"), Some(ns))
        .0
        .iter()
        .any(|p| {
            p["status"]["phase"] == "Running"
                && p["metadata"]["deletionTimestamp"].is_null()
                && crate::sandbox::controllers::workload::selector_matches(
                    selector,
                    &p["metadata"]["labels"],
                )
        })
}

/// An Event about `obj` from a simulated component, saying it is simulated.
pub fn event(api: &Api, obj: &Value, ty: &str, reason: &str, message: &str, component: &str) {
    let m = &obj["metadata"];
    let ns = m["namespace"].as_str().unwrap_or("default");
    record_event(
        api,
        ns,
        json!({
            "kind": obj["kind"], "apiVersion": obj["apiVersion"], "namespace": ns,
            "name": m["name"], "uid": m["uid"],
        }),
        ty,
        reason,
        &format!("{message} ({SIMULATED})"),
        component,
    );
    tracing::info!(
        "{component} ({SIMULATED}): {} {ns}/{}: {message}",
        obj["kind"].as_str().unwrap_or(""),
        m["name"].as_str().unwrap_or("")
    );
}

/// A controller owner reference to `owner`.
pub fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true,
    })
}
