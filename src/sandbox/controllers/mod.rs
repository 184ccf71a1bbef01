//! The sandbox's own controllers, in the manner of Kubernetes' control plane: they react to store events.

pub mod bootstrap;
pub mod events;
pub mod gc;
pub mod kubelet;
pub mod namespaces;

use crate::sandbox::api::Api;
use crate::sandbox::registry::StorageKey;
use crate::sandbox::store::Event;
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
    // Objects restored from a state directory are reconciled once at start.
    let (all, _) = api.store.dump();
    for (k, obj) in all {
        on_object(&api, &kubelet, &k, &obj, None);
    }
    loop {
        let ev = tokio::select! {
            _ = stop.cancelled() => return,
            ev = rx.recv() => ev,
        };
        match ev {
            Ok(ev) => handle(&api, &kubelet, &ev),
            Err(RecvError::Lagged(n)) => {
                tracing::warn!("sandbox controllers fell {n} events behind; resyncing");
                let (all, _) = api.store.dump();
                for (k, obj) in all {
                    on_object(&api, &kubelet, &k, &obj, None);
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}

fn handle(api: &Arc<Api>, kubelet: &kubelet::Kubelet, ev: &Arc<Event>) {
    use crate::sandbox::store::EventType;
    if ev.kind == EventType::Deleted {
        gc::on_deleted(api, ev);
        namespaces::on_deleted(api, ev);
        return;
    }
    on_object(api, kubelet, &ev.key, &ev.object, ev.old.as_deref());
}

fn on_object(
    api: &Arc<Api>,
    kubelet: &kubelet::Kubelet,
    k: &StorageKey,
    obj: &Arc<serde_json::Value>,
    old: Option<&serde_json::Value>,
) {
    match (k.group.as_str(), k.plural.as_str()) {
        ("", "pods") => kubelet.on_pod(obj),
        ("", "namespaces") => namespaces::on_namespace(api, obj, old),
        ("apiextensions.k8s.io", "customresourcedefinitions") => namespaces::on_crd(api, obj),
        _ => {}
    }
    gc::on_object(api, k, obj);
}
