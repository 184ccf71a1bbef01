//! What a fresh cluster has: the system namespaces, the node `sandbox`, the `kubernetes` Service, default RBAC.

use super::key;
use crate::sandbox::store::api::{Api, WriteOpts};
use serde_json::json;

/// The name of the sandbox's single node.
pub const NODE: &str = "sandbox";

/// Creates the built-in objects that do not exist yet.
pub fn run(api: &Api) {
    let opts = WriteOpts::internal("kube-apiserver");
    let reg = api.registry();
    let ns_rt = reg.get("", "v1", "namespaces");
    let node_rt = reg.get("", "v1", "nodes");
    let svc_rt = reg.get("", "v1", "services");
    let cs_rt = reg.get("", "v1", "componentstatuses");
    drop(reg);
    // The (deprecated) component statuses a cluster reports; the sandbox's components are all in-process.
    if let Some(rt) = cs_rt {
        for name in ["controller-manager", "scheduler", "etcd-0"] {
            if api
                .store
                .get(&key("", "componentstatuses"), "", name)
                .is_none()
            {
                let cs = json!({"metadata": {"name": name}, "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}]});
                let _ = api.create(&rt, "", cs, &opts);
            }
        }
    }
    if let Some(rt) = ns_rt {
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            if api.store.get(&key("", "namespaces"), "", ns).is_none() {
                let _ = api.create(&rt, "", json!({"metadata": {"name": ns}}), &opts);
            }
        }
    }
    if let Some(rt) = node_rt
        && api.store.get(&key("", "nodes"), "", NODE).is_none()
    {
        let _ = api.create(&rt, "", node(), &WriteOpts::internal("kubelet"));
    }
    if let Some(rt) = svc_rt
        && api
            .store
            .get(&key("", "services"), "default", "kubernetes")
            .is_none()
    {
        let svc = json!({
            "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
        });
        let _ = api.create(&rt, "default", svc, &opts);
    }
    crate::sandbox::auth::bootstrap::run(api);
}

fn node() -> serde_json::Value {
    let now = crate::sandbox::meta::now_rfc3339();
    let cond = |t: &str, s: &str, reason: &str, msg: &str| json!({"type": t, "status": s, "reason": reason, "message": msg, "lastHeartbeatTime": now, "lastTransitionTime": now});
    json!({
        "metadata": {
            "name": NODE,
            "labels": {
                "kubernetes.io/hostname": NODE, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/control-plane": "", "type": "oplab-sandbox",
            },
            "annotations": {"oplab.dev/simulated": "true"},
        },
        "spec": {"podCIDR": "10.244.0.0/16", "podCIDRs": ["10.244.0.0/16"]},
        "status": {
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "1000", "ephemeral-storage": "100Gi"},
            "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "1000", "ephemeral-storage": "100Gi"},
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "the oplab sandbox node is ready (pods on it are simulated)"),
            ],
            "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": NODE}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": "oplab", "systemUUID": "oplab", "bootID": "oplab",
                "kernelVersion": "simulated", "osImage": "oplab sandbox (simulated pods)",
                "containerRuntimeVersion": "oplab://simulated", "kubeletVersion": crate::sandbox::transport::discovery::GIT_VERSION,
                "kubeProxyVersion": crate::sandbox::transport::discovery::GIT_VERSION, "operatingSystem": "linux", "architecture": "amd64",
            },
        },
    })
}
