//! Process-backed containers: the simulated kubelet runs a real local process for a container whose image
//! it knows (today: etcd images run a real `etcd` member), with the pod's args and environment, its DNS
//! names mapped to unix sockets in one sockets directory, and its data kept per pod.
//!
//! Where things live (`<base>` = `<state dir>/kubelet`, or a private temporary directory removed with the
//! sandbox when it has no state directory):
//! - `<base>/sockets/`: every member's sockets, named `<pod>.<service>.<namespace>:<port>` (the pod's DNS
//!   name without `.svc.cluster.local`); processes run there so the names are short relative paths.
//! - `<base>/pods/<namespace>/<pod>/`: the member's data directory. A StatefulSet's pod keeps it when the
//!   pod is deleted and recreated (as its PersistentVolumeClaim would); it is removed when the pod goes for
//!   good (its ordinal is at or above the StatefulSet's replicas, or the StatefulSet is gone), and for any
//!   other pod with the pod.
//!
//! Disk: etcd 3.4 preallocates 64 MB WAL segments, so a member takes about 125 MB of disk and 25-35 MB of
//! memory. At most [`MAX_PROCESSES`] process-backed containers run at once (`OPLAB_MAX_PROCESSES` changes
//! it); further pods wait with a reason.
//!
//! Every process runs in its own process group, is killed when its pod goes, when the sandbox stops, when
//! its handle is dropped, and (Linux) when the sandbox's process dies.

pub mod exec;
pub mod logs;
pub mod spec;
mod supervisor;

use crate::sandbox::api::Api;
use serde_json::Value;
use spec::Runnable;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use tokio_util::sync::CancellationToken;

pub use exec::ExecPlan;

/// Default most process-backed containers at once (about 125 MB of disk each for etcd).
pub const MAX_PROCESSES: usize = 12;

/// What to install when etcd is missing.
pub const ETCD_INSTALL_HINT: &str = "install etcd: `apt install etcd-server etcd-client` (Debian/Ubuntu) or `brew install etcd` (macOS), or point OPLAB_ETCD and OPLAB_ETCDCTL at the programs";

/// The programs a process-backed container needs, found on PATH or through `OPLAB_ETCD`/`OPLAB_ETCDCTL`.
#[derive(Debug, Clone, Default)]
pub struct Programs {
    pub etcd: Option<PathBuf>,
    pub etcdctl: Option<PathBuf>,
}

impl Programs {
    /// Looks the programs up now (an `OPLAB_*` variable pointing at nothing means "not installed").
    pub fn find() -> Self {
        Self {
            etcd: find_program("OPLAB_ETCD", "etcd"),
            etcdctl: find_program("OPLAB_ETCDCTL", "etcdctl"),
        }
    }
}

/// A program named by `var`, or found on PATH.
pub fn find_program(var: &str, name: &str) -> Option<PathBuf> {
    if let Some(v) = std::env::var_os(var) {
        let p = PathBuf::from(v);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether the machine can run real etcd members (for skip reasons and hints).
pub fn etcd_available() -> bool {
    let p = Programs::find();
    p.etcd.is_some() && p.etcdctl.is_some()
}

/// The output of one container: the current run and the previous one, bounded.
#[derive(Default)]
pub struct Logs {
    pub current: Vec<u8>,
    pub previous: Vec<u8>,
}

/// Most bytes of log kept per run.
const LOG_LIMIT: usize = 2 * 1024 * 1024;

impl Logs {
    fn push(&mut self, chunk: &[u8]) {
        self.current.extend_from_slice(chunk);
        if self.current.len() > LOG_LIMIT {
            let cut = self.current.len() - LOG_LIMIT / 2;
            self.current.drain(..cut);
        }
    }

    fn restart(&mut self) {
        self.previous = std::mem::take(&mut self.current);
    }
}

/// One process-backed pod (one container).
pub struct PodProc {
    pub ns: String,
    pub name: String,
    pub uid: String,
    pub container: String,
    pub kind: Runnable,
    /// The pod's DNS stem, its sockets' base name.
    pub stem: String,
    /// The client socket (`unix://<stem>:2379`), once the process has started.
    pub client_endpoint: Mutex<Option<String>>,
    pub logs: Mutex<Logs>,
    pub log_tx: tokio::sync::broadcast::Sender<bytes::Bytes>,
    /// The pid of the running process, 0 when none.
    pub pid: std::sync::atomic::AtomicU32,
    pub(crate) cancel: CancellationToken,
}

/// The process-backed containers of one sandbox.
pub struct Runner {
    base: OnceLock<(PathBuf, bool)>,
    pods: Mutex<HashMap<String, Arc<PodProc>>>,
    /// Data directories in use, one lock each: a recreated pod waits until its predecessor's process is gone.
    data_locks: Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
    max: usize,
}

impl Default for Runner {
    fn default() -> Self {
        Self {
            base: OnceLock::new(),
            pods: Mutex::default(),
            data_locks: Mutex::default(),
            max: std::env::var("OPLAB_MAX_PROCESSES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(MAX_PROCESSES),
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        for p in self.lock().values() {
            p.cancel.cancel();
            kill_group(&p.pid, libc::SIGKILL);
        }
        if let Some((dir, true)) = self.base.get() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Runner {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<PodProc>>> {
        self.pods.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets where processes keep sockets and data: `<state>/kubelet`, or a private temporary directory.
    pub fn set_base(&self, state_dir: Option<&Path>) -> anyhow::Result<()> {
        use anyhow::Context;
        let (dir, temp) = match state_dir {
            Some(s) => (s.join("kubelet"), false),
            None => (private_temp_dir()?, true),
        };
        crate::files::private_dir(&dir)
            .with_context(|| format!("using {} for the pods' processes", dir.display()))?;
        crate::files::make_dirs(&dir.join("sockets"))?;
        let _ = self.base.set((dir, temp));
        Ok(())
    }

    fn base(&self) -> PathBuf {
        match self.base.get() {
            Some((d, _)) => d.clone(),
            None => {
                // A sandbox built without `set_base` (unit tests): a temporary directory, made once.
                let dir = private_temp_dir().unwrap_or_else(|_| std::env::temp_dir());
                let _ = crate::files::make_dirs(&dir.join("sockets"));
                let _ = self.base.set((dir, true));
                self.base.get().map(|b| b.0.clone()).unwrap_or_default()
            }
        }
    }

    pub fn sockets_dir(&self) -> PathBuf {
        self.base().join("sockets")
    }

    fn data_dir(&self, ns: &str, name: &str) -> PathBuf {
        self.base().join("pods").join(ns).join(name)
    }

    fn data_lock(&self, dir: &Path) -> Arc<tokio::sync::Mutex<()>> {
        self.data_locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(dir.to_path_buf())
            .or_default()
            .clone()
    }

    /// The process of a pod, by uid.
    pub fn get(&self, uid: &str) -> Option<Arc<PodProc>> {
        self.lock().get(uid).cloned()
    }

    /// The process of the pod `ns/name`, if it is process-backed.
    pub fn by_name(&self, ns: &str, name: &str) -> Option<Arc<PodProc>> {
        self.lock()
            .values()
            .find(|p| p.ns == ns && p.name == name)
            .cloned()
    }

    /// Stops the process of a pod being deleted (SIGTERM, then SIGKILL after `grace`).
    pub fn stop_pod(&self, uid: &str) {
        if let Some(p) = self.get(uid) {
            p.cancel.cancel();
        }
    }

    /// The pod object is gone: forget its process and remove its data as its volumes' lifetime says.
    pub fn on_pod_deleted(&self, api: &Api, pod: &Value) {
        let uid = pod["metadata"]["uid"].as_str().unwrap_or_default();
        let Some(p) = self.lock().remove(uid) else {
            return;
        };
        p.cancel.cancel();
        if !keeps_data(api, pod) {
            let dir = self.data_dir(&p.ns, &p.name);
            let lock = self.data_lock(&dir);
            tokio::spawn(async move {
                // Once the process has let go of the directory.
                let _guard = lock.lock().await;
                let _ = tokio::fs::remove_dir_all(&dir).await;
            });
        }
    }

    /// Starts supervising a pod whose containers the sandbox can run; false when it cannot (simulated pod).
    pub fn start_pod(&self, api: &Arc<Api>, pod: &Value, stop: &CancellationToken) -> bool {
        let Some((container, kind)) = process_container(pod) else {
            return false;
        };
        let m = &pod["metadata"];
        let (Some(ns), Some(name), Some(uid)) = (
            m["namespace"].as_str(),
            m["name"].as_str(),
            m["uid"].as_str(),
        ) else {
            return false;
        };
        let mut pods = self.lock();
        if pods.contains_key(uid) {
            return true;
        }
        let proc = Arc::new(PodProc {
            ns: ns.into(),
            name: name.into(),
            uid: uid.into(),
            container,
            kind,
            stem: spec::pod_stem(pod),
            client_endpoint: Mutex::new(None),
            logs: Mutex::default(),
            log_tx: tokio::sync::broadcast::channel(256).0,
            pid: Default::default(),
            cancel: stop.child_token(),
        });
        let running = pods.len();
        pods.insert(uid.into(), proc.clone());
        drop(pods);
        let data = self.data_dir(ns, name);
        let lock = self.data_lock(&data);
        let ctx = supervisor::Ctx {
            api: api.clone(),
            proc,
            data,
            sockets: self.sockets_dir(),
            data_lock: lock,
            over_limit: (running >= self.max).then_some(self.max),
        };
        tokio::spawn(supervisor::run(ctx));
        true
    }

    /// The output of a process-backed container (`previous`: the run before the last restart).
    pub fn logs(&self, ns: &str, name: &str, previous: bool) -> Option<Vec<u8>> {
        let p = self.by_name(ns, name)?;
        let logs = p.logs.lock().unwrap_or_else(|e| e.into_inner());
        Some(if previous {
            logs.previous.clone()
        } else {
            logs.current.clone()
        })
    }
}

/// The one container of a pod the sandbox runs as a process.
pub fn process_container(pod: &Value) -> Option<(String, Runnable)> {
    let containers = pod["spec"]["containers"].as_array()?;
    let [c] = containers.as_slice() else {
        return None;
    };
    let kind = spec::runnable(c)?;
    Some((c["name"].as_str().unwrap_or("main").to_string(), kind))
}

/// Whether a deleted pod's data stays for its successor (a StatefulSet pod whose ordinal remains).
fn keeps_data(api: &Api, pod: &Value) -> bool {
    let Some(owner) = pod["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["kind"] == "StatefulSet" && o["controller"] == true)
    else {
        return false;
    };
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let sts_name = owner["name"].as_str().unwrap_or_default();
    let Some(sts) = api.store.get(
        &crate::sandbox::controllers::key("apps", "statefulsets"),
        ns,
        sts_name,
    ) else {
        return false;
    };
    if !sts["metadata"]["deletionTimestamp"].is_null() || sts["metadata"]["uid"] != owner["uid"] {
        return false;
    }
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let ordinal = name
        .strip_prefix(sts_name)
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|n| n.parse::<i64>().ok());
    let replicas = sts["spec"]["replicas"].as_i64().unwrap_or(1);
    ordinal.is_some_and(|o| o < replicas)
}

/// Sends `sig` to the process group of the running process, if any.
pub(crate) fn kill_group(pid: &std::sync::atomic::AtomicU32, sig: i32) {
    let pid = pid.load(std::sync::atomic::Ordering::SeqCst);
    if pid > 1 {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory is involved.
        unsafe {
            libc::kill(-(pid as i32), sig);
        }
    }
}

/// A fresh directory only this user can read, under the system's temporary directory.
fn private_temp_dir() -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let root = std::env::temp_dir();
    for _ in 0..16 {
        let dir = root.join(format!("oplab-kubelet-{:016x}", rand::random::<u64>()));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(anyhow::anyhow!("creating {}: {e}", dir.display())),
        }
    }
    anyhow::bail!(
        "could not create a private directory under {}",
        root.display()
    )
}

/// A command that runs in its own process group and dies with the sandbox.
pub(crate) fn command(program: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(program);
    cmd.kill_on_drop(true).process_group(0);
    #[cfg(target_os = "linux")]
    // SAFETY: only prctl(2), which is async-signal-safe, runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    cmd
}
