//! The sandbox's own controllers, in the manner of Kubernetes' control plane: they react to store events.

pub mod aggregation;
pub mod bootstrap;
pub mod daemonset;
pub mod deployment;
pub mod endpoints;
pub mod events;
pub mod gc;
pub mod job;
pub mod kubelet;
pub mod namespaces;
pub mod procs;
pub mod replicaset;
pub mod statefulset;
pub mod workload;

use crate::sandbox::kinds::registry::StorageKey;
use crate::sandbox::store::Event;
use crate::sandbox::store::api::Api;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

pub fn key(group: &str, plural: &str) -> StorageKey {
    StorageKey {
        group: group.to_string(),
        plural: plural.to_string(),
    }
}

/// Runs every controller until `stop` is cancelled.
pub async fn run(api: Arc<Api>, stop: CancellationToken) {
    let mut rx = api.store.subscribe();
    let kubelet = kubelet::Kubelet::new(api.clone(), stop.clone());
    tokio::spawn(events::run(api.clone(), stop.clone()));
    tokio::spawn(crate::sandbox::operators::run(api.clone(), stop.clone()));
    // Objects restored from a state directory are reconciled once at start.
    resync(&api, &kubelet);
    loop {
        let ev = tokio::select! {
            _ = stop.cancelled() => return,
            ev = rx.recv() => ev,
        };
        match ev {
            Ok(ev) => handle(&api, &kubelet, &ev),
            Err(RecvError::Lagged(n)) => {
                tracing::warn!("sandbox controllers fell {n} events behind; resyncing");
                resync(&api, &kubelet);
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Every stored object once (at start, and after falling behind).
fn resync(api: &Arc<Api>, kubelet: &kubelet::Kubelet) {
    let (all, _) = api.store.dump();
    for (k, obj) in all {
        on_object(api, kubelet, &k, &obj.value(), None);
    }
}

fn handle(api: &Arc<Api>, kubelet: &kubelet::Kubelet, ev: &Arc<Event>) {
    use crate::sandbox::store::EventType;
    if ev.key.group == crate::sandbox::auth::rbac::GROUP {
        api.auth.rbac.invalidate();
        if ev.key.plural == "clusterroles" {
            aggregation::reconcile_all(api);
        }
    }
    let object = ev.object.value();
    if ev.key.group.is_empty() && ev.key.plural == "services" {
        release_node_ports(api, ev, &object);
    }
    if ev.kind == EventType::Deleted {
        gc::on_deleted(api, ev, &object);
        namespaces::on_deleted(api, ev, &object);
        match (ev.key.group.as_str(), ev.key.plural.as_str()) {
            ("", "pods") => {
                api.procs.on_pod_deleted(api, &object);
                on_workload_pod(api, &object, None);
            }
            ("", "services") => endpoints::on_service_deleted(api, ev),
            ("apps", "replicasets") => {
                if let Some(("Deployment", d)) = workload::controller_of(&object) {
                    deployment::reconcile(api, &ev.namespace, d);
                }
            }
            _ => {}
        }
        return;
    }
    // Only pods and namespaces look at the previous state.
    let old = match (ev.key.group.as_str(), ev.key.plural.as_str()) {
        ("", "pods" | "namespaces") => ev.old.as_ref().map(|o| o.value()),
        _ => None,
    };
    on_object(api, kubelet, &ev.key, &object, old.as_ref());
}

fn on_object(
    api: &Arc<Api>,
    kubelet: &kubelet::Kubelet,
    k: &StorageKey,
    obj: &serde_json::Value,
    old: Option<&serde_json::Value>,
) {
    match (k.group.as_str(), k.plural.as_str()) {
        ("", "pods") => {
            kubelet.on_pod(obj);
            on_workload_pod(api, obj, old);
        }
        ("", "services") => endpoints::reconcile(api, ns_of(obj), name_of(obj)),
        ("apps", "deployments") => deployment::reconcile(api, ns_of(obj), name_of(obj)),
        ("apps", "replicasets") => deployment::on_replicaset(api, obj),
        ("apps", "statefulsets") => statefulset::reconcile(api, ns_of(obj), name_of(obj)),
        ("apps", "daemonsets") => daemonset::reconcile(api, ns_of(obj), name_of(obj)),
        ("batch", "jobs") => job::reconcile(api, ns_of(obj), name_of(obj)),
        ("", "namespaces") => namespaces::on_namespace(api, obj, old),
        ("apiextensions.k8s.io", "customresourcedefinitions") => namespaces::on_crd(api, obj),
        ("", "secrets") => crate::sandbox::auth::tokens::fill_legacy_secret(api, obj),
        _ => {}
    }
    gc::on_object(api, k, obj);
}

fn ns_of(obj: &serde_json::Value) -> &str {
    obj["metadata"]["namespace"].as_str().unwrap_or_default()
}

fn name_of(obj: &serde_json::Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or_default()
}

/// NodePorts a Service no longer holds (it went, or a newer version dropped them) go back to the pool.
fn release_node_ports(api: &Api, ev: &Event, svc: &serde_json::Value) {
    use crate::sandbox::kinds::service::ports_of;
    use crate::sandbox::store::EventType;
    let dropped: Vec<i64> = match (ev.kind, &ev.old) {
        (EventType::Deleted, _) => ports_of(svc),
        (_, Some(old)) => {
            let now = ports_of(svc);
            ports_of(&old.value())
                .into_iter()
                .filter(|p| !now.contains(p))
                .collect()
        }
        _ => Vec::new(),
    };
    if !dropped.is_empty() {
        api.services.node_ports.release(dropped);
    }
}

/// A pod changed or went: its controller and the Services selecting it reconcile.
fn on_workload_pod(api: &Arc<Api>, pod: &serde_json::Value, old: Option<&serde_json::Value>) {
    replicaset::on_pod(api, pod);
    statefulset::on_pod(api, pod);
    daemonset::on_pod(api, pod);
    job::on_pod(api, pod);
    endpoints::on_pod(api, pod, old);
}
