//! The Deployment controller: one ReplicaSet per pod template (`<deploy>-<hash>`), rolling updates within
//! maxSurge/maxUnavailable, revisions and their history limit, and the status `kubectl rollout status` reads.

use super::workload::{self as w};
use super::{key, replicaset};
use crate::sandbox::store::api::{Api, WriteOpts};
use serde_json::{Value, json};
use std::sync::Arc;

const REVISION: &str = "deployment.kubernetes.io/revision";

fn revision(obj: &Value) -> i64 {
    obj["metadata"]["annotations"][REVISION]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn replicas(rs: &Value) -> i64 {
    rs["spec"]["replicas"].as_i64().unwrap_or(0)
}

fn available(rs: &Value) -> i64 {
    rs["status"]["availableReplicas"].as_i64().unwrap_or(0)
}

/// The RS template without the pod-template-hash label, to compare with the Deployment's.
fn template_without_hash(rs: &Value) -> Value {
    let mut t = rs["spec"]["template"].clone();
    if let Some(labels) = t["metadata"]["labels"].as_object_mut() {
        labels.remove("pod-template-hash");
    }
    t
}

fn set_rs_replicas(api: &Api, rs: &Value, n: i64) {
    let (ns, name) = crate::sandbox::store::ns_name(rs);
    api.mutate(&key("apps", "replicasets"), &ns, &name, |o| {
        if replicas(o) == n {
            return false;
        }
        o["spec"]["replicas"] = json!(n);
        let g = o["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
        o["metadata"]["generation"] = json!(g);
        true
    });
    replicaset::reconcile(api, &ns, &name);
}

/// Reconciles one Deployment.
pub fn reconcile(api: &Api, ns: &str, name: &str) {
    let Some(d) = api.store.get(&key("apps", "deployments"), ns, name) else {
        return;
    };
    if w::is_deleting(&d) {
        return;
    }
    let want = d["spec"]["replicas"].as_i64().unwrap_or(1).max(0);
    let template = d["spec"]["template"].clone();
    let mut all = w::owned(api, &d, "apps", "replicasets");
    all.retain(|rs| !w::is_deleting(rs));
    let max_rev = all.iter().map(|rs| revision(rs)).max().unwrap_or(0);
    let new_rs = all
        .iter()
        .find(|rs| template_without_hash(rs) == template)
        .cloned();
    let new_rs = match new_rs {
        Some(rs) => {
            if revision(&rs) < max_rev {
                // A rollback to an older template: it becomes the newest revision.
                let (rns, rname) = crate::sandbox::store::ns_name(&rs);
                api.mutate(&key("apps", "replicasets"), &rns, &rname, |o| {
                    o["metadata"]["annotations"][REVISION] = json!((max_rev + 1).to_string());
                    true
                })
                .map(Arc::new)
                .unwrap_or(rs)
            } else {
                rs
            }
        }
        None if paused(&d) => return write_status(api, &d, &all, None, want),
        None => match create_rs(api, &d, &template, max_rev + 1) {
            Some(rs) => {
                all.push(rs.clone());
                rs
            }
            None => return,
        },
    };
    let new_uid = new_rs["metadata"]["uid"].clone();
    let olds: Vec<Arc<Value>> = all
        .iter()
        .filter(|rs| rs["metadata"]["uid"] != new_uid)
        .cloned()
        .collect();
    if !paused(&d) {
        roll(api, &d, &new_rs, &olds, want);
        cleanup(api, &d, &olds);
    }
    // Keep the Deployment's revision annotation in step with its new ReplicaSet.
    let rev = api
        .store
        .get(
            &key("apps", "replicasets"),
            ns,
            new_rs["metadata"]["name"].as_str().unwrap_or_default(),
        )
        .map(|rs| revision(&rs))
        .unwrap_or(0);
    if rev > 0 && revision(&d) != rev {
        let uid = d["metadata"]["uid"].clone();
        api.mutate(&key("apps", "deployments"), ns, name, |o| {
            if o["metadata"]["uid"] != uid {
                return false;
            }
            if !o["metadata"]["annotations"].is_object() {
                o["metadata"]["annotations"] = json!({});
            }
            o["metadata"]["annotations"][REVISION] = json!(rev.to_string());
            true
        });
    }
    let Some(d) = api.store.get(&key("apps", "deployments"), ns, name) else {
        return;
    };
    let mut all = w::owned(api, &d, "apps", "replicasets");
    all.retain(|rs| !w::is_deleting(rs));
    let new_rs = all
        .iter()
        .find(|rs| rs["metadata"]["uid"] == new_uid)
        .cloned();
    write_status(api, &d, &all, new_rs.as_deref(), want);
}

fn paused(d: &Value) -> bool {
    d["spec"]["paused"] == true
}

fn create_rs(api: &Api, d: &Value, template: &Value, rev: i64) -> Option<Arc<Value>> {
    let rt = api.registry().get("apps", "v1", "replicasets")?;
    let (ns, name) = crate::sandbox::store::ns_name(d);
    let hash = w::template_hash(template);
    let mut t = template.clone();
    if !t["metadata"].is_object() {
        t["metadata"] = json!({});
    }
    if !t["metadata"]["labels"].is_object() {
        t["metadata"]["labels"] = json!({});
    }
    t["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let mut selector = d["spec"]["selector"].clone();
    if !selector["matchLabels"].is_object() {
        selector["matchLabels"] = json!({});
    }
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let mut labels = t["metadata"]["labels"].clone();
    labels["pod-template-hash"] = json!(hash);
    let rs = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{name}-{hash}"), "namespace": ns, "labels": labels,
            "annotations": {REVISION: rev.to_string(), "deployment.kubernetes.io/desired-replicas": d["spec"]["replicas"].to_string()},
            "ownerReferences": [w::controller_ref(d, "apps/v1", "Deployment")],
        },
        "spec": {"replicas": 0, "minReadySeconds": d["spec"]["minReadySeconds"].as_i64().unwrap_or(0), "selector": selector, "template": t},
    });
    match api.create(&rt, &ns, rs, &WriteOpts::internal("deployment-controller")) {
        Ok(_) => api
            .store
            .get(&key("apps", "replicasets"), &ns, &format!("{name}-{hash}")),
        Err(e) => {
            tracing::debug!("deployment-controller: creating a ReplicaSet for {ns}/{name}: {e}");
            None
        }
    }
}

/// One step of a rollout (or a plain scale when there is nothing old left).
fn roll(api: &Api, d: &Value, new_rs: &Value, olds: &[Arc<Value>], want: i64) {
    let old_total: i64 = olds.iter().map(|rs| replicas(rs)).sum();
    let recreate = d["spec"]["strategy"]["type"] == "Recreate";
    if old_total == 0 {
        if replicas(new_rs) != want {
            set_rs_replicas(api, new_rs, want);
        }
        return;
    }
    if recreate {
        for rs in olds {
            if replicas(rs) > 0 {
                set_rs_replicas(api, rs, 0);
            }
        }
        return;
    }
    let ru = &d["spec"]["strategy"]["rollingUpdate"];
    let surge = w::int_or_percent(&ru["maxSurge"], want, true, 1);
    let mut unavailable = w::int_or_percent(&ru["maxUnavailable"], want, false, 0);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    // Scale the new ReplicaSet up within the surge.
    let new_n = replicas(new_rs);
    let total = old_total + new_n;
    if new_n < want {
        let room = (want + surge - total).max(0);
        let target = (new_n + room).min(want);
        if target > new_n {
            set_rs_replicas(api, new_rs, target);
        }
    } else if new_n > want {
        set_rs_replicas(api, new_rs, want);
    }
    // Scale the old ones down as far as availability allows.
    let new_rs = api
        .store
        .get(
            &key("apps", "replicasets"),
            new_rs["metadata"]["namespace"].as_str().unwrap_or_default(),
            new_rs["metadata"]["name"].as_str().unwrap_or_default(),
        )
        .unwrap_or_else(|| Arc::new(new_rs.clone()));
    let total = old_total + replicas(&new_rs);
    let min_available = want - unavailable;
    let new_unavailable = (replicas(&new_rs) - available(&new_rs)).max(0);
    let mut budget = total - min_available - new_unavailable;
    // Old pods that are not available can go at once: they count for nothing.
    let mut olds: Vec<&Arc<Value>> = olds.iter().filter(|rs| replicas(rs) > 0).collect();
    olds.sort_by_key(|rs| revision(rs));
    for rs in olds {
        let n = replicas(rs);
        let unhealthy = (n - available(rs)).max(0);
        let mut cut = unhealthy.min(n);
        let rest = n - cut;
        if budget > 0 {
            let more = budget.min(rest);
            cut += more;
            budget -= more;
        }
        if cut > 0 {
            set_rs_replicas(api, rs, n - cut);
        }
    }
}

/// Deletes old, empty ReplicaSets beyond revisionHistoryLimit (oldest first).
fn cleanup(api: &Api, d: &Value, olds: &[Arc<Value>]) {
    let limit = d["spec"]["revisionHistoryLimit"]
        .as_i64()
        .unwrap_or(10)
        .max(0) as usize;
    let mut empty: Vec<&Arc<Value>> = olds
        .iter()
        .filter(|rs| replicas(rs) == 0 && rs["status"]["replicas"].as_i64().unwrap_or(0) == 0)
        .collect();
    if empty.len() <= limit {
        return;
    }
    empty.sort_by_key(|rs| revision(rs));
    for rs in &empty[..empty.len() - limit] {
        let (ns, name) = crate::sandbox::store::ns_name(rs);
        w::delete(api, "apps", "v1", "replicasets", &ns, &name);
    }
}

fn write_status(api: &Api, d: &Value, all: &[Arc<Value>], new_rs: Option<&Value>, want: i64) {
    let sum = |f: &str| -> i64 {
        all.iter()
            .map(|rs| rs["status"][f].as_i64().unwrap_or(0))
            .sum()
    };
    let replicas_now = sum("replicas");
    let ready = sum("readyReplicas");
    let avail = sum("availableReplicas");
    let updated = new_rs
        .map(|rs| rs["status"]["replicas"].as_i64().unwrap_or(0))
        .unwrap_or(0);
    let ru = &d["spec"]["strategy"]["rollingUpdate"];
    let unavailable_ok = if d["spec"]["strategy"]["type"] == "Recreate" {
        0
    } else {
        w::int_or_percent(&ru["maxUnavailable"], want, false, 0)
    };
    let old = &d["status"];
    let available_cond = if avail >= want - unavailable_ok {
        w::condition(
            old,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    } else {
        w::condition(
            old,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    };
    let rs_name = new_rs
        .and_then(|rs| rs["metadata"]["name"].as_str())
        .unwrap_or_default();
    let complete = new_rs.is_some() && updated == want && replicas_now == want && avail >= want;
    let progressing = if complete {
        w::condition(
            old,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
        )
    } else if new_rs.is_some() {
        w::condition(
            old,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            &format!("ReplicaSet \"{rs_name}\" is progressing."),
        )
    } else {
        w::condition(
            old,
            "Progressing",
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused",
        )
    };
    let mut status = json!({
        "observedGeneration": d["metadata"]["generation"],
        "replicas": replicas_now,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": avail,
        "conditions": [available_cond, progressing],
    });
    if want - avail > 0 {
        status["unavailableReplicas"] = json!(want - avail);
    }
    if let Some(obj) = status.as_object_mut() {
        obj.retain(|k, v| k == "observedGeneration" || k == "conditions" || v != &json!(0));
    }
    w::set_status(api, "apps", "deployments", d, status);
}

/// A ReplicaSet changed: it reconciles, and so does its Deployment.
pub fn on_replicaset(api: &Api, rs: &Value) {
    let ns = rs["metadata"]["namespace"].as_str().unwrap_or_default();
    if let Some(name) = rs["metadata"]["name"].as_str() {
        replicaset::reconcile(api, ns, name);
    }
    if let Some(("Deployment", d)) = w::controller_of(rs) {
        reconcile(api, ns, d);
    }
}
