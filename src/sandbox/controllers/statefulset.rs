//! The StatefulSet controller: pods `<name>-0..N-1`, created in order and removed in reverse (OrderedReady),
//! rolling updates from the highest ordinal, revisions as ControllerRevisions, and the status kubectl reads.

use super::key;
use super::workload::{self as w, is_active, is_ready};
use crate::sandbox::store::api::{Api, WriteOpts};
use serde_json::{Value, json};

fn ordinal(sts_name: &str, pod: &Value) -> Option<i64> {
    pod["metadata"]["name"]
        .as_str()?
        .strip_prefix(sts_name)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

fn pod_revision(pod: &Value) -> &str {
    pod["metadata"]["labels"]["controller-revision-hash"]
        .as_str()
        .unwrap_or_default()
}

/// Reconciles one StatefulSet.
pub fn reconcile(api: &Api, ns: &str, name: &str) {
    let Some(sts) = api.store.get(&key("apps", "statefulsets"), ns, name) else {
        return;
    };
    if w::is_deleting(&sts) {
        return;
    }
    let want = sts["spec"]["replicas"].as_i64().unwrap_or(1).max(0);
    let update_rev = format!("{name}-{}", w::template_hash(&sts["spec"]["template"]));
    ensure_revision(api, &sts, &update_rev);
    let parallel = sts["spec"]["podManagementPolicy"] == "Parallel";
    let on_delete = sts["spec"]["updateStrategy"]["type"] == "OnDelete";
    let pods = w::owned(api, &sts, "", "pods");
    let by_ordinal = |i: i64| pods.iter().find(|p| ordinal(name, p) == Some(i));
    let any_terminating = pods.iter().any(|p| w::is_deleting(p));
    let owner = w::controller_ref(&sts, "apps/v1", "StatefulSet");
    let service = sts["spec"]["serviceName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Create what is missing, in order; OrderedReady waits for each to be Running and Ready.
    let mut blocked = false;
    for i in 0..want {
        match by_ordinal(i) {
            Some(p) if w::is_deleting(p) => {
                blocked = true;
            }
            Some(p) if is_ready(p) => {}
            Some(p) if matches!(p["status"]["phase"].as_str(), Some("Failed" | "Succeeded")) => {
                w::delete_pod(api, ns, p);
                blocked = true;
            }
            Some(_) => blocked = true,
            None if blocked && !parallel => {}
            None => {
                let pod_name = format!("{name}-{i}");
                let labels = [
                    ("statefulset.kubernetes.io/pod-name", pod_name.clone()),
                    ("controller-revision-hash", update_rev.clone()),
                    ("apps.kubernetes.io/pod-index", i.to_string()),
                ];
                let (hostname, subdomain) = (pod_name.clone(), service.clone());
                w::create_pod(
                    api,
                    ns,
                    &pod_name,
                    &sts["spec"]["template"],
                    &labels,
                    owner.clone(),
                    |spec| {
                        spec.insert("hostname".into(), json!(hostname));
                        if !subdomain.is_empty() {
                            spec.insert("subdomain".into(), json!(subdomain));
                        }
                    },
                    "statefulset-controller",
                );
                blocked = true;
            }
        }
        if blocked && !parallel {
            break;
        }
    }
    // Scale down from the highest ordinal, one at a time.
    let extra: Vec<_> = pods
        .iter()
        .filter(|p| ordinal(name, p).is_none_or(|i| i >= want) && !w::is_deleting(p))
        .collect();
    if !extra.is_empty() && (parallel || (!blocked && !any_terminating)) {
        let mut extra = extra;
        extra.sort_by_key(|p| std::cmp::Reverse(ordinal(name, p)));
        let take = if parallel { extra.len() } else { 1 };
        for p in extra.into_iter().take(take) {
            w::delete_pod(api, ns, p);
        }
    } else if extra.is_empty() && !blocked && !any_terminating && !on_delete {
        // Rolling update: the highest ordinal still on an old revision is replaced.
        let partition = sts["spec"]["updateStrategy"]["rollingUpdate"]["partition"]
            .as_i64()
            .unwrap_or(0);
        let stale = (partition..want)
            .rev()
            .filter_map(by_ordinal)
            .find(|p| pod_revision(p) != update_rev);
        if let Some(p) = stale {
            w::delete_pod(api, ns, p);
        }
    }
    write_status(api, &sts, name, &update_rev, want);
}

fn write_status(api: &Api, sts: &Value, name: &str, update_rev: &str, want: i64) {
    let pods = w::owned(api, sts, "", "pods");
    let active: Vec<_> = pods.iter().filter(|p| is_active(p)).collect();
    let ready = active.iter().filter(|p| is_ready(p)).count() as i64;
    let updated = active
        .iter()
        .filter(|p| pod_revision(p) == update_rev)
        .count() as i64;
    let old_current = sts["status"]["currentRevision"]
        .as_str()
        .unwrap_or(update_rev)
        .to_string();
    let current_rev = if updated == want && ready == want && active.len() as i64 == want {
        update_rev.to_string()
    } else {
        old_current
    };
    let current = active
        .iter()
        .filter(|p| pod_revision(p) == current_rev)
        .count() as i64;
    let _ = name;
    let status = json!({
        "observedGeneration": sts["metadata"]["generation"],
        "replicas": active.len(),
        "readyReplicas": ready,
        "currentReplicas": current,
        "updatedReplicas": updated,
        "availableReplicas": ready,
        "currentRevision": current_rev,
        "updateRevision": update_rev,
        "collisionCount": 0,
    });
    w::set_status(api, "apps", "statefulsets", sts, status);
}

/// Keeps a ControllerRevision for the current template.
fn ensure_revision(api: &Api, sts: &Value, rev_name: &str) {
    let ns = sts["metadata"]["namespace"].as_str().unwrap_or_default();
    let k = key("apps", "controllerrevisions");
    if api.store.get(&k, ns, rev_name).is_some() {
        return;
    }
    let Some(rt) = api.registry().get("apps", "v1", "controllerrevisions") else {
        return;
    };
    let revision = w::owned(api, sts, "apps", "controllerrevisions")
        .iter()
        .filter_map(|r| r["revision"].as_i64())
        .max()
        .unwrap_or(0)
        + 1;
    let mut labels = sts["spec"]["selector"]["matchLabels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    labels["controller.kubernetes.io/hash"] =
        json!(rev_name.rsplit('-').next().unwrap_or_default());
    let cr = json!({
        "apiVersion": "apps/v1", "kind": "ControllerRevision",
        "metadata": {"name": rev_name, "namespace": ns, "labels": labels,
                     "ownerReferences": [w::controller_ref(sts, "apps/v1", "StatefulSet")]},
        "data": {"spec": {"template": sts["spec"]["template"]}},
        "revision": revision,
    });
    let _ = api.create(&rt, ns, cr, &WriteOpts::internal("statefulset-controller"));
}

/// A pod changed: its StatefulSet reconciles.
pub fn on_pod(api: &Api, pod: &Value) {
    if let Some(("StatefulSet", sts)) = w::controller_of(pod) {
        let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
        reconcile(api, ns, sts);
    }
}
