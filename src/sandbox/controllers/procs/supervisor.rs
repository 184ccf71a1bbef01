//! One process-backed pod's life: wait for the programs, start the process with the pod's argv and
//! environment, report Running/Ready from the process and its health, restart it with back-off when it
//! exits, and stop it when the pod goes.

use super::spec::{self, EnvSource};
use super::{ETCD_INSTALL_HINT, PodProc, Programs, kill_group};
use crate::sandbox::api::Api;
use crate::sandbox::controllers::key;
use crate::sandbox::controllers::kubelet::record_event;
use crate::sandbox::meta;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

pub struct Ctx {
    pub api: Arc<Api>,
    pub proc: Arc<PodProc>,
    pub data: PathBuf,
    pub sockets: PathBuf,
    pub data_lock: Arc<tokio::sync::Mutex<()>>,
    pub over_limit: Option<usize>,
}

struct Src<'a> {
    api: &'a Api,
    ns: &'a str,
}

impl EnvSource for Src<'_> {
    fn config_map(&self, name: &str) -> Option<Value> {
        self.api
            .store
            .get(&key("", "configmaps"), self.ns, name)
            .map(|v| (*v).clone())
    }
    fn secret(&self, name: &str) -> Option<Value> {
        self.api
            .store
            .get(&key("", "secrets"), self.ns, name)
            .map(|v| (*v).clone())
    }
}

/// Longest back-off between restarts (the kubelet's is 5 minutes; the sandbox keeps it short).
const MAX_BACKOFF: Duration = Duration::from_secs(10);

pub async fn run(ctx: Ctx) {
    let p = ctx.proc.clone();
    if let Some(max) = ctx.over_limit {
        let msg = format!(
            "oplab sandbox: at most {max} process-backed containers run at once (each etcd member takes about 125 MB of disk); delete some pods or set OPLAB_MAX_PROCESSES"
        );
        waiting(&ctx, "ProcessLimitReached", &msg, 0, &json!({}));
        event(&ctx, "Warning", "Failed", &msg);
        return;
    }
    // The programs: without them the pod waits (and looks again every few seconds).
    let mut told = false;
    let programs = loop {
        let found = Programs::find();
        if let (Some(etcd), Some(etcdctl)) = (found.etcd.clone(), found.etcdctl.clone()) {
            break (etcd, etcdctl);
        }
        let msg = format!(
            "oplab sandbox: container {} runs a real etcd member, and etcd is not installed on this machine: {ETCD_INSTALL_HINT}",
            p.container
        );
        if !told {
            waiting(&ctx, "EtcdNotInstalled", &msg, 0, &json!({}));
            event(&ctx, "Warning", "Failed", &msg);
            told = true;
        }
        tokio::select! {
            _ = p.cancel.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    };
    let _ = programs.1;
    // A recreated pod waits until its predecessor's process has let go of the data.
    let _guard = tokio::select! {
        _ = p.cancel.cancelled() => return,
        g = ctx.data_lock.clone().lock_owned() => g,
    };
    let mut restarts: u32 = 0;
    let mut backoff = Duration::from_secs(1);
    let mut last_state = json!({});
    let mut first = true;
    loop {
        if p.cancel.is_cancelled() {
            return;
        }
        let Some(pod) = current_pod(&ctx) else {
            return;
        };
        let (args, env) = match argv_env(&ctx, &pod) {
            Ok(v) => v,
            Err(msg) => {
                waiting(
                    &ctx,
                    "CreateContainerConfigError",
                    &msg,
                    restarts,
                    &last_state,
                );
                event(&ctx, "Warning", "Failed", &format!("Error: {msg}"));
                tokio::select! {
                    _ = p.cancel.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(2)) => continue,
                }
            }
        };
        if let Err(e) = crate::files::make_dirs(&ctx.data) {
            let msg = format!("creating the data directory {}: {e}", ctx.data.display());
            waiting(&ctx, "RunContainerError", &msg, restarts, &last_state);
            return;
        }
        remove_stale_sockets(&ctx.sockets, &p.stem);
        let endpoint = client_endpoint(&args, &env, &p.stem);
        *p.client_endpoint.lock().unwrap_or_else(|e| e.into_inner()) = Some(endpoint.clone());
        let mut cmd = super::command(&programs.0);
        cmd.args(&args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(&ctx.sockets)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let msg = format!("starting {}: {e}", programs.0.display());
                waiting(&ctx, "RunContainerError", &msg, restarts, &last_state);
                event(&ctx, "Warning", "Failed", &msg);
                return;
            }
        };
        p.pid.store(child.id().unwrap_or(0), Ordering::SeqCst);
        let started_at = meta::now_rfc3339();
        let started = Instant::now();
        running(&ctx, &pod, &started_at, false, restarts, &last_state);
        if first {
            let image = pod["spec"]["containers"][0]["image"].as_str().unwrap_or("");
            event(
                &ctx,
                "Normal",
                "Pulled",
                &format!(
                    "Container image \"{image}\" already present on machine (oplab sandbox: runs {} from this machine)",
                    programs.0.display()
                ),
            );
            first = false;
        }
        event(
            &ctx,
            "Normal",
            "Created",
            &format!("Created container: {}", p.container),
        );
        event(
            &ctx,
            "Normal",
            "Started",
            &format!("Started container {}", p.container),
        );
        for out in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            tokio::spawn(pump_logs(p.clone(), out));
        }
        let socket = endpoint.trim_start_matches("unix://").to_string();
        let sockets = ctx.sockets.clone();
        let probe = async move {
            loop {
                if healthy(&sockets.join(&socket)).await {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::pin!(probe);
        let mut ready = false;
        let status = loop {
            tokio::select! {
                _ = p.cancel.cancelled() => {
                    stop(&p, &mut child).await;
                    return;
                }
                st = child.wait() => break st,
                _ = &mut probe, if !ready => {
                    ready = true;
                    running(&ctx, &pod, &started_at, true, restarts, &last_state);
                }
            }
        };
        p.pid.store(0, Ordering::SeqCst);
        let code = status.ok().and_then(|s| {
            use std::os::unix::process::ExitStatusExt;
            s.code().or_else(|| s.signal().map(|n| 128 + n))
        });
        let code = code.unwrap_or(1);
        last_state = json!({"terminated": {
            "exitCode": code,
            "reason": if code == 0 { "Completed" } else { "Error" },
            "startedAt": started_at,
            "finishedAt": meta::now_rfc3339(),
            "containerID": container_id(&p),
        }});
        restarts += 1;
        if started.elapsed() > Duration::from_secs(30) {
            backoff = Duration::from_secs(1);
        }
        p.logs.lock().unwrap_or_else(|e| e.into_inner()).restart();
        let msg = format!(
            "back-off {}s restarting failed container={} pod={}_{}({})",
            backoff.as_secs(),
            p.container,
            p.name,
            p.ns,
            p.uid
        );
        waiting(&ctx, "CrashLoopBackOff", &msg, restarts, &last_state);
        event(
            &ctx,
            "Warning",
            "BackOff",
            &format!(
                "Back-off restarting failed container {} in pod {}_{}({}): exited with code {code}",
                p.container, p.name, p.ns, p.uid
            ),
        );
        tokio::select! {
            _ = p.cancel.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// SIGTERM to the process group, SIGKILL after two seconds.
async fn stop(p: &PodProc, child: &mut tokio::process::Child) {
    kill_group(&p.pid, libc::SIGTERM);
    if tokio::time::timeout(Duration::from_secs(2), child.wait())
        .await
        .is_err()
    {
        kill_group(&p.pid, libc::SIGKILL);
        let _ = child.wait().await;
    }
    p.pid.store(0, Ordering::SeqCst);
}

async fn pump_logs(p: Arc<PodProc>, mut out: Box<dyn tokio::io::AsyncRead + Send + Unpin>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match out.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let text = spec::unmap_output(&String::from_utf8_lossy(&buf[..n]));
                p.logs
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(text.as_bytes());
                let _ = p.log_tx.send(bytes::Bytes::from(text.into_bytes()));
            }
        }
    }
}

/// Whether the member answers HTTP on its client socket (readiness; learners answer too).
async fn healthy(socket: &Path) -> bool {
    use tokio::io::AsyncWriteExt;
    let attempt = async {
        let mut s = tokio::net::UnixStream::connect(socket).await.ok()?;
        s.write_all(b"GET /version HTTP/1.0\r\n\r\n").await.ok()?;
        let mut buf = [0u8; 32];
        let n = s.read(&mut buf).await.ok()?;
        let head = String::from_utf8_lossy(&buf[..n]).to_string();
        Some(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"))
    };
    tokio::time::timeout(Duration::from_secs(1), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

fn current_pod(ctx: &Ctx) -> Option<Value> {
    let pod = ctx
        .api
        .store
        .get(&key("", "pods"), &ctx.proc.ns, &ctx.proc.name)?;
    (pod["metadata"]["uid"].as_str() == Some(&ctx.proc.uid)
        && pod["metadata"]["deletionTimestamp"].is_null())
    .then(|| (*pod).clone())
}

/// The process's argv (without the program) and environment, as the kubelet builds them, with the
/// pod's addresses mapped to its sockets and the data directory set to the pod's own.
/// A process's argv (without the program) and environment.
type ArgvEnv = (Vec<String>, Vec<(String, String)>);

fn argv_env(ctx: &Ctx, pod: &Value) -> Result<ArgvEnv, String> {
    let c = &pod["spec"]["containers"][0];
    let env = spec::environment(
        pod,
        c,
        &Src {
            api: &ctx.api,
            ns: &ctx.proc.ns,
        },
    )?;
    let stem = &ctx.proc.stem;
    let ip = pod["status"]["podIP"].as_str();
    let data = ctx.data.display().to_string();
    let words: Vec<String> = c["command"]
        .as_array()
        .into_iter()
        .flatten()
        .skip(1)
        .chain(c["args"].as_array().into_iter().flatten())
        .filter_map(|v| v.as_str())
        .map(|a| spec::map_urls(&spec::expand(a, &env), stem, ip))
        .collect();
    let mut args = Vec::new();
    let mut skip_next = false;
    for a in words {
        if skip_next {
            skip_next = false;
            continue;
        }
        if a == "--data-dir" || a == "--wal-dir" {
            skip_next = true;
            continue;
        }
        if a.starts_with("--data-dir=") || a.starts_with("--wal-dir=") {
            continue;
        }
        args.push(a);
    }
    let mut env: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k != "ETCD_DATA_DIR" && k != "ETCD_WAL_DIR")
        .map(|(k, v)| {
            let v = spec::map_urls(&v, stem, ip);
            (k, v)
        })
        .collect();
    env.push(("ETCD_DATA_DIR".into(), data));
    // etcd's defaults (localhost:2379/2380) would take the machine's ports: the pod's own sockets instead.
    for (flag, var, port) in [
        ("--listen-client-urls", "ETCD_LISTEN_CLIENT_URLS", 2379),
        (
            "--advertise-client-urls",
            "ETCD_ADVERTISE_CLIENT_URLS",
            2379,
        ),
        ("--listen-peer-urls", "ETCD_LISTEN_PEER_URLS", 2380),
        (
            "--initial-advertise-peer-urls",
            "ETCD_INITIAL_ADVERTISE_PEER_URLS",
            2380,
        ),
    ] {
        let given = args
            .iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
            || env.iter().any(|(k, _)| k == var);
        if !given {
            env.push((var.into(), format!("unix://{stem}:{port}")));
        }
    }
    // Membership changes right after one another (the operator adds one learner at a time): etcd 3.4
    // otherwise refuses `member add` for 5 s after each change while it checks every peer's connection.
    if !env.iter().any(|(k, _)| k == "ETCD_STRICT_RECONFIG_CHECK") {
        env.push(("ETCD_STRICT_RECONFIG_CHECK".into(), "false".into()));
    }
    // Bounded disk: a small backend quota (the WAL's 64 MB segments are etcd 3.4's fixed size).
    if !env.iter().any(|(k, _)| k == "ETCD_QUOTA_BACKEND_BYTES")
        && !args.iter().any(|a| a.starts_with("--quota-backend-bytes"))
    {
        env.push((
            "ETCD_QUOTA_BACKEND_BYTES".into(),
            (256u64 << 20).to_string(),
        ));
    }
    Ok((args, env))
}

/// The member's client socket: the first unix URL of its listen-client-urls.
fn client_endpoint(args: &[String], env: &[(String, String)], stem: &str) -> String {
    let from_args = args.iter().find_map(|a| {
        a.strip_prefix("--listen-client-urls=")
            .map(|v| v.split(',').next().unwrap_or("").to_string())
    });
    let from_env = env
        .iter()
        .find(|(k, _)| k == "ETCD_LISTEN_CLIENT_URLS")
        .map(|(_, v)| v.split(',').next().unwrap_or("").to_string());
    from_args
        .or(from_env)
        .filter(|u| u.starts_with("unix://"))
        .unwrap_or_else(|| format!("unix://{stem}:2379"))
}

/// Socket files a previous run of this pod left behind (a killed etcd does not remove them).
fn remove_stale_sockets(dir: &Path, stem: &str) {
    let prefix = format!("{stem}:");
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn container_id(p: &PodProc) -> String {
    format!("oplab://{}", p.uid.replace('-', ""))
}

fn event(ctx: &Ctx, ty: &str, reason: &str, message: &str) {
    let p = &ctx.proc;
    record_event(
        &ctx.api,
        &p.ns,
        json!({"kind": "Pod", "namespace": p.ns, "name": p.name, "uid": p.uid, "apiVersion": "v1", "fieldPath": format!("spec.containers{{{}}}", p.container)}),
        ty,
        reason,
        message,
        "kubelet",
    );
}

fn write_status(ctx: &Ctx, f: impl FnOnce(&mut Value)) {
    let (api, p) = (&ctx.api, &ctx.proc);
    let ip = api.allocate_ip(false);
    api.mutate(&key("", "pods"), &p.ns, &p.name, |pod| {
        if pod["metadata"]["uid"].as_str() != Some(&p.uid)
            || !pod["metadata"]["deletionTimestamp"].is_null()
        {
            return false;
        }
        if pod["status"]["podIP"].as_str().is_none_or(str::is_empty) {
            pod["status"]["podIP"] = json!(ip);
            pod["status"]["podIPs"] = json!([{"ip": ip}]);
            pod["status"]["hostIP"] = json!("10.0.0.1");
            pod["status"]["hostIPs"] = json!([{"ip": "10.0.0.1"}]);
            pod["status"]["startTime"] = json!(meta::now_rfc3339());
        }
        f(pod);
        true
    });
}

fn conditions(now: &str, ready: bool, why: &str) -> Value {
    let cond = |t: &str, s: bool| {
        let mut c = json!({"type": t, "status": if s { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": now});
        if !s {
            c["reason"] = json!("ContainersNotReady");
            c["message"] = json!(why);
        }
        c
    };
    json!([
        cond("PodReadyToStartContainers", true),
        cond("Initialized", true),
        cond("Ready", ready),
        cond("ContainersReady", ready),
        cond("PodScheduled", true),
    ])
}

fn keep_transition_times(pod: &Value, mut new: Value) -> Value {
    for c in new.as_array_mut().into_iter().flatten() {
        let old = pod["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["type"] == c["type"] && o["status"] == c["status"]);
        if let Some(o) = old {
            c["lastTransitionTime"] = o["lastTransitionTime"].clone();
        }
    }
    new
}

fn running(ctx: &Ctx, pod: &Value, started_at: &str, ready: bool, restarts: u32, last: &Value) {
    let p = &ctx.proc;
    let image = pod["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let why = format!("containers with unready status: [{}]", p.container);
    let cid = container_id(p);
    write_status(ctx, |pod| {
        let now = meta::now_rfc3339();
        pod["status"]["phase"] = json!("Running");
        pod["status"]["conditions"] = keep_transition_times(pod, conditions(&now, ready, &why));
        pod["status"]["containerStatuses"] = json!([{
            "name": p.container, "image": image, "imageID": format!("{}@sha256:{:064x}", spec::repository(&image), 0),
            "containerID": cid, "ready": ready, "restartCount": restarts, "started": true,
            "state": {"running": {"startedAt": started_at}}, "lastState": last,
        }]);
    });
}

fn waiting(ctx: &Ctx, reason: &str, message: &str, restarts: u32, last: &Value) {
    let p = &ctx.proc;
    let why = format!("containers with unready status: [{}]", p.container);
    write_status(ctx, |pod| {
        let now = meta::now_rfc3339();
        let image = pod["spec"]["containers"][0]["image"].clone();
        if pod["status"]["phase"]
            .as_str()
            .is_none_or(|ph| ph == "Pending")
        {
            pod["status"]["phase"] = json!("Pending");
        }
        pod["status"]["conditions"] = keep_transition_times(pod, conditions(&now, false, &why));
        pod["status"]["containerStatuses"] = json!([{
            "name": p.container, "image": image, "imageID": "", "ready": false, "restartCount": restarts,
            "started": false, "state": {"waiting": {"reason": reason, "message": message}}, "lastState": last,
        }]);
    });
}
