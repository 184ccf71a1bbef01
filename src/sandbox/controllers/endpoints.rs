//! The endpoints controllers: a Service with a selector gets Endpoints and an EndpointSlice (discovery.k8s.io/v1)
//! listing its matching pods with an IP, ready ones as ready, following readiness.

use super::key;
use super::workload::{self as w, is_ready};
use crate::sandbox::store::Event;
use crate::sandbox::store::api::{Api, WriteOpts};
use serde_json::{Value, json};

fn target_port(port: &Value, pods: &[&std::sync::Arc<Value>]) -> Value {
    match &port["targetPort"] {
        Value::Number(n) => json!(n),
        Value::String(s) => pods
            .iter()
            .flat_map(|p| p["spec"]["containers"].as_array().into_iter().flatten())
            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
            .find(|cp| cp["name"] == s.as_str())
            .map(|cp| cp["containerPort"].clone())
            .unwrap_or_else(|| port["port"].clone()),
        _ => port["port"].clone(),
    }
}

/// Writes an object if it differs from what is stored (create, or replace of everything but metadata).
fn upsert(
    api: &Api,
    plural: &str,
    group: &str,
    version: &str,
    ns: &str,
    name: &str,
    desired: Value,
) {
    let k = key(group, plural);
    if api.store.get(&k, ns, name).is_some() {
        api.mutate(&k, ns, name, |o| {
            let mut changed = false;
            for (f, v) in desired.as_object().into_iter().flatten() {
                if f == "metadata" {
                    if o["metadata"]["labels"] != v["labels"] {
                        o["metadata"]["labels"] = v["labels"].clone();
                        changed = true;
                    }
                } else if f != "apiVersion" && f != "kind" && o[f] != *v {
                    o[f] = v.clone();
                    changed = true;
                }
            }
            // Endpoints with no pods have no subsets at all.
            if desired.get("subsets").is_none()
                && let Some(m) = o.as_object_mut()
                && m.remove("subsets").is_some()
            {
                changed = true;
            }
            changed
        });
    } else if let Some(rt) = api.registry().get(group, version, plural) {
        let _ = api.create(
            &rt,
            ns,
            desired,
            &WriteOpts::internal("endpoint-controller"),
        );
    }
}

/// Reconciles the endpoints of one Service.
pub fn reconcile(api: &Api, ns: &str, name: &str) {
    let Some(svc) = api.store.get(&key("", "services"), ns, name) else {
        return;
    };
    let selector = &svc["spec"]["selector"];
    if w::is_deleting(&svc) || selector.as_object().is_none_or(|s| s.is_empty()) {
        return;
    }
    let (all, _) = api.store.list(&key("", "pods"), Some(ns));
    let pods: Vec<_> = all
        .iter()
        .filter(|p| {
            !w::is_deleting(p)
                && p["status"]["podIP"]
                    .as_str()
                    .is_some_and(|ip| !ip.is_empty())
        })
        .filter(|p| !matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed")))
        .filter(|p| {
            selector
                .as_object()
                .into_iter()
                .flatten()
                .all(|(k, v)| &p["metadata"]["labels"][k] == v)
        })
        .collect();
    let address = |p: &Value| {
        json!({"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
               "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"], "uid": p["metadata"]["uid"]}})
    };
    let ports: Vec<Value> = svc["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let mut e = json!({"port": target_port(p, &pods), "protocol": p["protocol"].as_str().unwrap_or("TCP")});
            if let Some(n) = p["name"].as_str() {
                e["name"] = json!(n);
            }
            e
        })
        .collect();
    let ready: Vec<Value> = pods
        .iter()
        .filter(|p| is_ready(p))
        .map(|p| address(p))
        .collect();
    let not_ready: Vec<Value> = pods
        .iter()
        .filter(|p| !is_ready(p))
        .map(|p| address(p))
        .collect();
    let mut ep = json!({"apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": name, "namespace": ns, "labels": svc["metadata"]["labels"].as_object().cloned().unwrap_or_default()}});
    if !pods.is_empty() {
        let mut subset = json!({"ports": ports});
        if !ready.is_empty() {
            subset["addresses"] = json!(ready);
        }
        if !not_ready.is_empty() {
            subset["notReadyAddresses"] = json!(not_ready);
        }
        ep["subsets"] = json!([subset]);
    }
    upsert(api, "endpoints", "", "v1", ns, name, ep);
    // The EndpointSlice: a stable name per Service.
    let slice_name = format!("{name}-{}", w::template_hash(&svc["metadata"]["uid"]));
    let endpoints: Vec<Value> = pods
        .iter()
        .map(|p| {
            let r = is_ready(p);
            json!({"addresses": [p["status"]["podIP"]], "conditions": {"ready": r, "serving": r, "terminating": false},
                   "nodeName": p["spec"]["nodeName"],
                   "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"], "uid": p["metadata"]["uid"]}})
        })
        .collect();
    let mut labels = svc["metadata"]["labels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    labels.insert("kubernetes.io/service-name".into(), json!(name));
    labels.insert(
        "endpointslice.kubernetes.io/managed-by".into(),
        json!("endpointslice-controller.k8s.io"),
    );
    let mut owner = w::controller_ref(&svc, "v1", "Service");
    owner["blockOwnerDeletion"] = json!(true);
    let slice = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": slice_name, "namespace": ns, "labels": labels, "ownerReferences": [owner]},
        "addressType": "IPv4", "endpoints": endpoints, "ports": ports});
    upsert(
        api,
        "endpointslices",
        "discovery.k8s.io",
        "v1",
        ns,
        &slice_name,
        slice,
    );
}

/// A pod changed or went: the Services selecting it (before or after) reconcile.
pub fn on_pod(api: &Api, pod: &Value, old: Option<&Value>) {
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let (services, _) = api.store.list(&key("", "services"), Some(ns));
    for svc in services {
        let Some(sel) = svc["spec"]["selector"]
            .as_object()
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        let matches = |p: &Value| sel.iter().all(|(k, v)| &p["metadata"]["labels"][k] == v);
        if matches(pod) || old.is_some_and(matches) {
            reconcile(
                api,
                ns,
                svc["metadata"]["name"].as_str().unwrap_or_default(),
            );
        }
    }
}

/// A Service went: its Endpoints go too (its EndpointSlice follows by ownerReference).
pub fn on_service_deleted(api: &Api, ev: &Event) {
    api.remove_now(&key("", "endpoints"), &ev.namespace, &ev.name, None);
}
