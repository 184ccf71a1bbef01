//! Namespace lifecycle (default ServiceAccount, root CA ConfigMap, Terminating cascade) and CRD cleanup.

use super::key;
use crate::sandbox::kinds::crd::CRD_CLEANUP_FINALIZER;
use crate::sandbox::store::Event;
use crate::sandbox::store::api::{Api, DeleteOpts, WriteOpts};
use serde_json::{Value, json};
use std::sync::Arc;

/// Reacts to a namespace: fills a new one, empties a terminating one.
pub fn on_namespace(api: &Arc<Api>, ns_obj: &Value, old: Option<&Value>) {
    let Some(ns) = ns_obj["metadata"]["name"].as_str() else {
        return;
    };
    if ns_obj["metadata"]["deletionTimestamp"].is_null() {
        if old.is_none() {
            populate(api, ns);
        }
        return;
    }
    drain(api, ns);
}

fn populate(api: &Api, ns: &str) {
    let opts = WriteOpts::internal("kube-controller-manager");
    let reg = api.registry();
    let (sa, cm) = (
        reg.get("", "v1", "serviceaccounts"),
        reg.get("", "v1", "configmaps"),
    );
    drop(reg);
    if let Some(rt) = sa
        && api
            .store
            .get(&key("", "serviceaccounts"), ns, "default")
            .is_none()
    {
        let _ = api.create(&rt, ns, json!({"metadata": {"name": "default"}}), &opts);
    }
    if let Some(rt) = cm
        && api
            .store
            .get(&key("", "configmaps"), ns, "kube-root-ca.crt")
            .is_none()
    {
        let body = json!({
            "metadata": {"name": "kube-root-ca.crt", "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
            "data": {"ca.crt": api.ca_pem()},
        });
        let _ = api.create(&rt, ns, body, &opts);
    }
}

/// Deletes everything in a terminating namespace; removes the namespace once it is empty.
fn drain(api: &Api, ns: &str) {
    let objects = api.store.in_namespace(ns);
    if objects.is_empty() {
        api.remove_now(&key("", "namespaces"), "", ns, None);
        return;
    }
    for (k, obj) in objects {
        if obj.deleting() {
            continue;
        }
        let Some(rt) = api.registry().by_storage(&k) else {
            continue;
        };
        let name = obj.name();
        let _ = api.delete(
            &rt,
            ns,
            name,
            &DeleteOpts {
                propagation: Some("Background".into()),
                ..Default::default()
            },
        );
    }
}

/// Reacts to a CRD being deleted: its custom resources go first.
pub fn on_crd(api: &Arc<Api>, crd: &Value) {
    if crd["metadata"]["deletionTimestamp"].is_null() {
        return;
    }
    let group = crd["spec"]["group"].as_str().unwrap_or_default();
    let plural = crd["spec"]["names"]["plural"].as_str().unwrap_or_default();
    let name = crd["metadata"]["name"].as_str().unwrap_or_default();
    let k = key(group, plural);
    // A CRD whose names collide with another resource (a built-in kind, another CRD) never served that
    // resource: the objects stored under it are not its custom resources and stay.
    let owns = api
        .registry()
        .by_storage(&k)
        .is_some_and(|rt| rt.crd.as_ref().is_some_and(|c| c.crd_name == name));
    let objects = if owns {
        api.store.list_stored(&k, None).0
    } else {
        Vec::new()
    };
    if objects.is_empty() {
        crate::sandbox::kinds::crd::unserve(&api.served, crd);
        api.remove_finalizer(
            &key("apiextensions.k8s.io", "customresourcedefinitions"),
            "",
            name,
            CRD_CLEANUP_FINALIZER,
        );
        return;
    }
    let Some(rt) = api.registry().by_storage(&k) else {
        return;
    };
    for obj in objects {
        if !obj.deleting() {
            let _ = api.delete(&rt, obj.namespace(), obj.name(), &DeleteOpts::default());
        }
    }
}

/// Reacts to an object that is gone: a terminating namespace or a deleting CRD may now be finished.
pub fn on_deleted(api: &Arc<Api>, ev: &Event, obj: &Value) {
    if ev.key == key("apiextensions.k8s.io", "customresourcedefinitions") {
        crate::sandbox::kinds::crd::unserve(&api.served, obj);
        return;
    }
    if !ev.namespace.is_empty()
        && let Some(ns_obj) = api.store.get(&key("", "namespaces"), "", &ev.namespace)
        && !ns_obj["metadata"]["deletionTimestamp"].is_null()
    {
        drain(api, &ev.namespace);
    }
    let crd_name = format!("{}.{}", ev.key.plural, ev.key.group);
    if !ev.key.group.is_empty()
        && let Some(crd) = api.store.get(
            &key("apiextensions.k8s.io", "customresourcedefinitions"),
            "",
            &crd_name,
        )
    {
        on_crd(api, &crd);
    }
}
