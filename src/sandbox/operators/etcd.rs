//! etcd-io/etcd-operator v0.2.0, simulated: when the bundled set `etcd` runs (Deployment
//! `etcd-operator-controller-manager` in `etcd-operator-system` with a Running pod), each EtcdCluster
//! gets what the real operator makes: a headless Service `<name>`, a ConfigMap `<name>-state`, and a
//! StatefulSet `<name>` created at 0 replicas, then 1, then grown one learner at a time (`member add
//! --learner`, +1 replica, wait until ready, `member promote`) and shrunk one member at a time. The etcd
//! members are real processes (see [`crate::sandbox::controllers::procs`]); the membership calls are real `etcdctl`
//! calls. Like v0.2.0 it writes no `.status`.

use super::{SIMULATED, event, owner_ref};
use crate::sandbox::api::{Api, WriteOpts};
use crate::sandbox::controllers::key;
use crate::sandbox::controllers::procs::{self, spec};
use crate::sandbox::controllers::workload as w;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const GROUP: &str = "operator.etcd.io";
pub const OPERATOR_NS: &str = "etcd-operator-system";
pub const OPERATOR_DEPLOYMENT: &str = "etcd-operator-controller-manager";
const COMPONENT: &str = "etcd-operator";
const DEFAULT_REGISTRY: &str = "gcr.io/etcd-development/etcd";

/// The kinds whose changes wake the simulated operator.
pub fn watches(k: &crate::sandbox::registry::StorageKey) -> bool {
    k.group == GROUP
        || (k.group.is_empty() && k.plural == "pods")
        || (k.group == "apps" && matches!(k.plural.as_str(), "statefulsets" | "deployments"))
}

#[derive(Default)]
pub struct EtcdOperator {
    busy: Arc<Mutex<HashSet<String>>>,
    /// The spec.size last reported as reconciled, per cluster uid.
    reported: Arc<Mutex<HashMap<String, i64>>>,
}

impl EtcdOperator {
    /// Starts a reconcile of every EtcdCluster that is not being reconciled already.
    pub fn reconcile_all(&self, api: &Arc<Api>, stop: &CancellationToken) {
        if api
            .registry()
            .get(GROUP, "v1alpha1", "etcdclusters")
            .is_none()
            || !super::deployment_runs(api, OPERATOR_NS, OPERATOR_DEPLOYMENT)
        {
            return;
        }
        let clusters = api.store.list(&key(GROUP, "etcdclusters"), None).0;
        for c in clusters {
            let Some(uid) = c["metadata"]["uid"].as_str().map(String::from) else {
                continue;
            };
            if !c["metadata"]["deletionTimestamp"].is_null()
                || !self
                    .busy
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(uid.clone())
            {
                continue;
            }
            let (api, busy, reported, stop) = (
                api.clone(),
                self.busy.clone(),
                self.reported.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = reconcile(&api, &c, &reported) => {}
                }
                busy.lock().unwrap_or_else(|e| e.into_inner()).remove(&uid);
            });
        }
    }
}

fn peer_url(name: &str, ns: &str, i: i64) -> String {
    format!("http://{name}-{i}.{name}.{ns}.svc.cluster.local:2380")
}

fn initial_cluster(name: &str, ns: &str, members: i64) -> String {
    (0..members)
        .map(|i| format!("{name}-{i}={}", peer_url(name, ns, i)))
        .collect::<Vec<_>>()
        .join(",")
}

/// One step of the operator's reconcile loop for one cluster.
async fn reconcile(api: &Arc<Api>, cluster: &Value, reported: &Mutex<HashMap<String, i64>>) {
    let ns = cluster["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default();
    let name = cluster["metadata"]["name"].as_str().unwrap_or_default();
    let uid = cluster["metadata"]["uid"].as_str().unwrap_or_default();
    let size = cluster["spec"]["size"].as_i64().unwrap_or(1).max(1);
    ensure_service(api, cluster);
    let Some(sts) = api.store.get(&key("apps", "statefulsets"), ns, name) else {
        ensure_state(api, cluster, 0);
        event(
            api,
            cluster,
            "Normal",
            "CreatingStatefulSet",
            "Creating StatefulSet with 0 replica",
            COMPONENT,
        );
        create_statefulset(api, cluster);
        return;
    };
    if w::controller_uid(&sts) != Some(uid) || w::is_deleting(&sts) {
        return;
    }
    let replicas = sts["spec"]["replicas"].as_i64().unwrap_or(0);
    if replicas == 0 {
        ensure_state(api, cluster, 1);
        event(
            api,
            cluster,
            "Normal",
            "ScalingStatefulSet",
            "Scaling StatefulSet to 1 replica to bootstrap the cluster",
            COMPONENT,
        );
        set_replicas(api, ns, name, 1);
        return;
    }
    // Wait until every replica runs and answers.
    let pods = w::owned(api, &sts, "", "pods");
    let ready: Vec<i64> = (0..replicas)
        .filter(|i| {
            pods.iter().any(|p| {
                p["metadata"]["name"].as_str() == Some(&format!("{name}-{i}")) && w::is_ready(p)
            })
        })
        .collect();
    if (ready.len() as i64) < replicas {
        return;
    }
    let Some((endpoint, members)) = member_list(api, name, ns, &ready).await else {
        return;
    };
    let learner = members.iter().find(|m| m["isLearner"] == true);
    if let Some(l) = learner {
        // A learner that has started (it has a name) is promoted; until then the operator waits.
        if l["name"].as_str().is_some_and(|n| !n.is_empty()) {
            let id = member_id(l);
            event(
                api,
                cluster,
                "Normal",
                "PromotingLearner",
                &format!(
                    "Promoting the learner member {}",
                    l["name"].as_str().unwrap_or("")
                ),
                COMPONENT,
            );
            match etcdctl(api, &endpoint, &["member", "promote", &id]).await {
                Ok(_) => event(
                    api,
                    cluster,
                    "Normal",
                    "LearnerPromoted",
                    &format!(
                        "Learner member {} promoted to a voting member",
                        l["name"].as_str().unwrap_or("")
                    ),
                    COMPONENT,
                ),
                Err(e) => {
                    tracing::debug!("etcd-operator ({SIMULATED}): promote {id} in {ns}/{name}: {e}")
                }
            }
        }
        return;
    }
    let count = members.len() as i64;
    if count > replicas {
        // A member was added but the StatefulSet not grown (an interrupted scale-out): grow it.
        set_replicas(api, ns, name, count);
        return;
    }
    if replicas < size {
        ensure_state(api, cluster, replicas + 1);
        let peer = spec::map_urls(&peer_url(name, ns, replicas), "", None);
        event(
            api,
            cluster,
            "Normal",
            "ScalingOut",
            &format!("[Scale out] adding a new learner member to etcd cluster: {name}-{replicas}"),
            COMPONENT,
        );
        match etcdctl(
            api,
            &endpoint,
            &[
                "member",
                "add",
                &format!("{name}-{replicas}"),
                &format!("--peer-urls={peer}"),
                "--learner",
            ],
        )
        .await
        {
            Ok(_) => {
                event(
                    api,
                    cluster,
                    "Normal",
                    "LearnerAdded",
                    "Learner member added successfully",
                    COMPONENT,
                );
                set_replicas(api, ns, name, replicas + 1);
            }
            Err(e) => {
                tracing::debug!("etcd-operator ({SIMULATED}): member add in {ns}/{name}: {e}")
            }
        }
        return;
    }
    if replicas > size {
        let last = format!("{name}-{}", replicas - 1);
        let target = members.iter().find(|m| m["name"].as_str() == Some(&last));
        event(
            api,
            cluster,
            "Normal",
            "ScalingIn",
            &format!("[Scale in] removing member {last} from the etcd cluster"),
            COMPONENT,
        );
        if let Some(m) = target
            && let Err(e) = etcdctl(api, &endpoint, &["member", "remove", &member_id(m)]).await
        {
            tracing::debug!("etcd-operator ({SIMULATED}): member remove in {ns}/{name}: {e}");
            return;
        }
        ensure_state(api, cluster, replicas - 1);
        set_replicas(api, ns, name, replicas - 1);
        return;
    }
    let mut rep = reported.lock().unwrap_or_else(|e| e.into_inner());
    if rep.get(uid) != Some(&size) {
        rep.insert(uid.to_string(), size);
        drop(rep);
        event(
            api,
            cluster,
            "Normal",
            "Reconciled",
            &format!("EtcdCluster reconciled successfully: {size} members"),
            COMPONENT,
        );
    }
}

fn member_id(m: &Value) -> String {
    match &m["ID"] {
        Value::Number(n) => n.as_u64().map(|v| format!("{v:x}")).unwrap_or_default(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

/// `etcdctl member list -w json` through the first ready member that answers: (its endpoint, members).
async fn member_list(
    api: &Api,
    name: &str,
    ns: &str,
    ready: &[i64],
) -> Option<(String, Vec<Value>)> {
    for i in ready {
        let endpoint = format!("unix://{name}-{i}.{name}.{ns}:2379");
        let Ok(out) = etcdctl(api, &endpoint, &["member", "list", "-w", "json"]).await else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(&out) else {
            continue;
        };
        let members = v["members"].as_array().cloned().unwrap_or_default();
        // Talk to a voting member for changes.
        let voting = members
            .iter()
            .any(|m| m["name"].as_str() == Some(&format!("{name}-{i}")) && m["isLearner"] != true);
        if voting {
            return Some((endpoint, members));
        }
    }
    None
}

async fn etcdctl(api: &Api, endpoint: &str, args: &[&str]) -> Result<String, String> {
    let program = procs::find_program("OPLAB_ETCDCTL", "etcdctl")
        .ok_or_else(|| procs::ETCD_INSTALL_HINT.to_string())?;
    let mut cmd = procs::command(&program);
    cmd.args(args)
        .env("ETCDCTL_API", "3")
        .env("ETCDCTL_ENDPOINTS", endpoint)
        .env("ETCDCTL_COMMAND_TIMEOUT", "3s")
        .current_dir(api.procs.sockets_dir())
        .stdin(std::process::Stdio::null());
    let out = tokio::time::timeout(Duration::from_secs(5), cmd.output())
        .await
        .map_err(|_| "etcdctl did not answer within 5 s".to_string())?
        .map_err(|e| format!("running etcdctl: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

fn labels(name: &str) -> Value {
    json!({"app": name, "controller": name})
}

fn ensure_service(api: &Api, cluster: &Value) {
    let ns = cluster["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default();
    let name = cluster["metadata"]["name"].as_str().unwrap_or_default();
    if api.store.get(&key("", "services"), ns, name).is_some() {
        return;
    }
    let Some(rt) = api.registry().get("", "v1", "services") else {
        return;
    };
    let svc = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": labels(name), "ownerReferences": [owner_ref(cluster)]},
        "spec": {
            "clusterIP": "None",
            "selector": labels(name),
            "ports": [{"name": "client", "port": 2379, "targetPort": 2379}, {"name": "peer", "port": 2380, "targetPort": 2380}],
            "publishNotReadyAddresses": true,
        },
    });
    if api
        .create(&rt, ns, svc, &WriteOpts::internal(COMPONENT))
        .is_ok()
    {
        event(
            api,
            cluster,
            "Normal",
            "CreatedService",
            &format!("Created headless Service {name}"),
            COMPONENT,
        );
    }
}

/// The ConfigMap `<name>-state` for a cluster of `members` members.
fn ensure_state(api: &Api, cluster: &Value, members: i64) {
    let ns = cluster["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default();
    let name = cluster["metadata"]["name"].as_str().unwrap_or_default();
    let cm_name = format!("{name}-state");
    let data = json!({
        "ETCD_INITIAL_CLUSTER_STATE": if members <= 1 { "new" } else { "existing" },
        "ETCD_INITIAL_CLUSTER": initial_cluster(name, ns, members.max(1)),
        "ETCD_DATA_DIR": "/var/lib/etcd",
    });
    if api
        .store
        .get(&key("", "configmaps"), ns, &cm_name)
        .is_some()
    {
        api.mutate(&key("", "configmaps"), ns, &cm_name, |cm| {
            cm["data"] = data;
            true
        });
        return;
    }
    let Some(rt) = api.registry().get("", "v1", "configmaps") else {
        return;
    };
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": cm_name, "namespace": ns, "labels": labels(name), "ownerReferences": [owner_ref(cluster)]},
        "data": data,
    });
    let _ = api.create(&rt, ns, cm, &WriteOpts::internal(COMPONENT));
}

fn create_statefulset(api: &Api, cluster: &Value) {
    let ns = cluster["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default();
    let name = cluster["metadata"]["name"].as_str().unwrap_or_default();
    let registry = cluster["spec"]["imageRegistry"]
        .as_str()
        .filter(|r| !r.is_empty())
        .unwrap_or(DEFAULT_REGISTRY);
    let version = cluster["spec"]["version"].as_str().unwrap_or("v3.5.21");
    let dns = format!("$(POD_NAME).{name}.$(POD_NAMESPACE).svc.cluster.local");
    let mut args = vec![
        "--name=$(POD_NAME)".to_string(),
        "--listen-peer-urls=http://0.0.0.0:2380".into(),
        "--listen-client-urls=http://0.0.0.0:2379".into(),
        format!("--initial-advertise-peer-urls=http://{dns}:2380"),
        format!("--advertise-client-urls=http://{dns}:2379"),
    ];
    for o in cluster["spec"]["etcdOptions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(o) = o.as_str() {
            args.push(o.to_string());
        }
    }
    let mut template_meta = json!({"labels": labels(name)});
    if let Some(extra) = cluster["spec"]["podTemplate"]["metadata"].as_object() {
        for field in ["labels", "annotations"] {
            for (k, v) in extra
                .get(field)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                template_meta[field][k] = v.clone();
            }
        }
    }
    let Some(rt) = api.registry().get("apps", "v1", "statefulsets") else {
        return;
    };
    let sts = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": ns, "labels": labels(name), "ownerReferences": [owner_ref(cluster)]},
        "spec": {
            "replicas": 0,
            "serviceName": name,
            "selector": {"matchLabels": labels(name)},
            "template": {
                "metadata": template_meta,
                "spec": {"containers": [{
                    "name": "etcd",
                    "image": format!("{registry}:{version}"),
                    "command": ["/usr/local/bin/etcd"],
                    "args": args,
                    "env": [
                        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                    ],
                    "envFrom": [{"configMapRef": {"name": format!("{name}-state")}}],
                    "ports": [{"name": "client", "containerPort": 2379}, {"name": "peer", "containerPort": 2380}],
                }]},
            },
        },
    });
    if let Err(e) = api.create(&rt, ns, sts, &WriteOpts::internal(COMPONENT)) {
        tracing::warn!("etcd-operator ({SIMULATED}): creating StatefulSet {ns}/{name}: {e:?}");
    }
}

fn set_replicas(api: &Api, ns: &str, name: &str, n: i64) {
    api.mutate(&key("apps", "statefulsets"), ns, name, |s| {
        s["spec"]["replicas"] = json!(n);
        true
    });
}
