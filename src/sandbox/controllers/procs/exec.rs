//! What `kubectl exec` runs in a process-backed container: the real program, aimed at that container's
//! process (for etcd: `etcdctl` with `ETCDCTL_ENDPOINTS` set to the member's socket).

use super::spec::{self, Runnable};
use super::{ETCD_INSTALL_HINT, Programs, Runner};
use serde_json::Value;
use std::path::PathBuf;

/// A command to run for an exec request.
#[derive(Debug, Clone)]
pub struct ExecPlan {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
}

/// What can be exec'd in the sandbox, for error messages.
pub const EXECUTABLE: &str = "exec works in pods the sandbox runs for real: etcd containers (images gcr.io/etcd-development/etcd, quay.io/coreos/etcd, registry.k8s.io/etcd), where `etcdctl ...` and `etcd --version` run";

impl Runner {
    /// The command for `argv` in `container` of `pod`, or why it cannot run (a sentence for the user).
    pub fn exec_plan(
        &self,
        pod: &Value,
        container: &str,
        argv: &[String],
    ) -> Result<ExecPlan, String> {
        let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = pod["metadata"]["name"].as_str().unwrap_or_default();
        let Some(first) = argv.first() else {
            return Err("you must specify at least one command for the container".into());
        };
        let Some((cname, kind)) = super::process_container(pod) else {
            let image = pod["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["name"].as_str() == Some(container))
                .and_then(|c| c["image"].as_str())
                .unwrap_or("?");
            return Err(format!(
                "container \"{container}\" of pod {ns}/{name} (image {image}) is simulated by the oplab sandbox and runs no process; {EXECUTABLE}"
            ));
        };
        if cname != container {
            return Err(format!("container {container} is not valid for pod {name}"));
        }
        let proc = self
            .by_name(ns, name)
            .filter(|p| p.pid.load(std::sync::atomic::Ordering::SeqCst) != 0);
        let Some(proc) = proc else {
            return Err(format!(
                "unable to upgrade connection: container {container} in pod {name} is not running"
            ));
        };
        match kind {
            Runnable::Etcd => {
                let programs = Programs::find();
                let stem = &proc.stem;
                let args: Vec<String> = argv[1..]
                    .iter()
                    .map(|a| spec::map_urls(a, stem, pod["status"]["podIP"].as_str()))
                    .collect();
                let program = match spec::basename(first) {
                    "etcdctl" => programs.etcdctl,
                    "etcd" => programs.etcd,
                    other => {
                        return Err(format!(
                            "OCI runtime exec failed: exec: \"{other}\": executable file not found in $PATH (the oplab sandbox runs etcd images as a real etcd member; in them `etcdctl ...` and `etcd --version` can be exec'd)"
                        ));
                    }
                };
                let Some(program) = program else {
                    return Err(format!(
                        "{first} is not installed on this machine: {ETCD_INSTALL_HINT}"
                    ));
                };
                let endpoint = proc
                    .client_endpoint
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
                    .unwrap_or_else(|| format!("unix://{stem}:2379"));
                Ok(ExecPlan {
                    program,
                    args,
                    env: vec![
                        ("ETCDCTL_API".into(), "3".into()),
                        ("ETCDCTL_ENDPOINTS".into(), endpoint),
                        ("HOSTNAME".into(), name.into()),
                    ],
                    cwd: self.sockets_dir(),
                })
            }
        }
    }
}
