//! `pods/exec` over WebSocket, as Kubernetes 1.30+ serves it: subprotocols `v5.channel.k8s.io` and
//! `v4.channel.k8s.io`, binary frames whose first byte is the channel (0 stdin, 1 stdout, 2 stderr,
//! 3 status, 4 resize; v5's `[255, channel]` closes a stream), and a `Status` on channel 3 at the end.
//!
//! Only process-backed containers ([`crate::sandbox::controllers::procs`]) can run commands; exec into a simulated pod
//! answers 400 with a sentence naming what can be exec'd. SPDY-only clients get a 400 saying to use
//! WebSocket exec.

use crate::sandbox::auth::{self, User};
use crate::sandbox::controllers::key;
use crate::sandbox::controllers::procs::{ExecPlan, spec};
use crate::sandbox::status::ApiError;
use crate::sandbox::transport::codec::error_response;
use crate::sandbox::transport::http::HttpState;
use axum::extract::FromRequestParts;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const V5: &str = "v5.channel.k8s.io";
const V4: &str = "v4.channel.k8s.io";

/// The options of one exec request (query parameters).
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub command: Vec<String>,
    pub container: Option<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

impl ExecOptions {
    /// Parses the raw query; `command` may repeat (it forms argv).
    pub fn parse(query: Option<&str>) -> Self {
        let mut o = Self::default();
        let truthy = |v: &str| matches!(v, "true" | "1" | "True" | "TRUE");
        for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match k.as_ref() {
                "command" => o.command.push(v.into_owned()),
                "container" => o.container = Some(v.into_owned()),
                "stdin" | "input" => o.stdin = truthy(&v),
                "stdout" | "output" => o.stdout = truthy(&v),
                "stderr" | "error" => o.stderr = truthy(&v),
                "tty" => o.tty = truthy(&v),
                _ => {}
            }
        }
        o
    }
}

/// Serves `.../namespaces/NS/pods/NAME/exec` (and `attach`) when `segs` name it; `None` for other paths.
pub async fn route(
    state: &Arc<HttpState>,
    user: &User,
    parts: &mut Parts,
    segs: &[&str],
) -> Option<Response> {
    let [
        "api",
        "v1",
        "namespaces",
        ns,
        "pods",
        name,
        sub @ ("exec" | "attach"),
    ] = segs
    else {
        return None;
    };
    if parts.method != Method::GET && parts.method != Method::POST {
        return None;
    }
    Some(match serve(state, user, parts, ns, name, sub).await {
        Ok(r) => r,
        Err(e) => error_response(&e),
    })
}

async fn serve(
    state: &Arc<HttpState>,
    user: &User,
    parts: &mut Parts,
    ns: &str,
    name: &str,
    sub: &str,
) -> Result<Response, ApiError> {
    // A 1.35 server also checks `create` on the WebSocket GET (`get` was checked with the request).
    if !user.is_master() && parts.method == Method::GET {
        let attrs = auth::attributes::Attributes::resource("create", "", "pods", sub, ns, name);
        let decision = state.api.auth.rbac.authorize(&state.api, user, &attrs);
        if !decision.allowed {
            return Err(auth::attributes::forbidden(user, &attrs, &decision.reason));
        }
    }
    let api = &state.api;
    let pod = api
        .store
        .get(&key("", "pods"), ns, name)
        .ok_or_else(|| ApiError::not_found("", "pods", name))?;
    let opts = ExecOptions::parse(parts.uri.query());
    if sub == "attach" {
        return Err(ApiError::bad_request(format!(
            "attach is not available in the oplab sandbox (pod {ns}/{name}); {}",
            crate::sandbox::controllers::procs::exec::EXECUTABLE
        )));
    }
    if !opts.stdin && !opts.stdout && !opts.stderr {
        return Err(ApiError::bad_request(
            "you must specify at least 1 of stdin, stdout, stderr",
        ));
    }
    let container = match &opts.container {
        Some(c) => c.clone(),
        None => default_container(&pod),
    };
    if !pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["name"].as_str() == Some(container.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "container {container} is not valid for pod {name}"
        )));
    }
    let plan = api
        .procs
        .exec_plan(&pod, &container, &opts.command)
        .map_err(ApiError::bad_request)?;
    if !wants_websocket(&parts.headers) {
        return Err(ApiError::bad_request(
            "the oplab sandbox serves exec over WebSocket only (subprotocol v5.channel.k8s.io or v4.channel.k8s.io, as Kubernetes 1.30+ does); this client asked for SPDY or no upgrade: use kubectl 1.30+ (and unset KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false) or a client with WebSocket exec",
        ));
    }
    let ws = WebSocketUpgrade::from_request_parts(parts, &())
        .await
        .map_err(|e| ApiError::bad_request(format!("upgrading to WebSocket: {e}")))?;
    let offered: Vec<String> = ws
        .requested_protocols()
        .filter_map(|p| p.to_str().ok().map(String::from))
        .collect();
    let v5 = offered.iter().any(|p| p == V5);
    if !v5 && !offered.iter().any(|p| p == V4) {
        return Err(ApiError::bad_request(format!(
            "exec in the oplab sandbox speaks the subprotocols {V5} and {V4}; the client offered {}",
            if offered.is_empty() {
                "none".to_string()
            } else {
                offered.join(", ")
            }
        )));
    }
    let ws = ws.protocols([V5, V4]);
    Ok(ws
        .on_upgrade(move |socket| session(socket, plan, opts, v5))
        .into_response())
}

fn default_container(pod: &Value) -> String {
    pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"]
        .as_str()
        .or(pod["spec"]["containers"][0]["name"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn wants_websocket(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The Status sent on channel 3 for an exit code.
pub fn exit_status(code: i32) -> Value {
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("command terminated with non-zero exit code: error executing command [...], exit code {code}"),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    })
}

fn failure(message: &str) -> Value {
    json!({"metadata": {}, "status": "Failure", "message": message, "reason": "InternalError", "code": 500})
}

fn normal_close() -> Message {
    Message::Close(Some(axum::extract::ws::CloseFrame {
        code: axum::extract::ws::close_code::NORMAL,
        reason: "".into(),
    }))
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(channel);
    v.extend_from_slice(data);
    Message::Binary(v.into())
}

/// Output of a stream with the sandbox's sockets renamed, line by line (the rest at the end).
struct Unmapper {
    pending: Vec<u8>,
}

impl Unmapper {
    fn feed(&mut self, data: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(data);
        match self.pending.iter().rposition(|&b| b == b'\n') {
            Some(i) => {
                let rest = self.pending.split_off(i + 1);
                let done = std::mem::replace(&mut self.pending, rest);
                spec::unmap_output(&String::from_utf8_lossy(&done)).into_bytes()
            }
            None if self.pending.len() > 64 * 1024 => {
                let done = std::mem::take(&mut self.pending);
                spec::unmap_output(&String::from_utf8_lossy(&done)).into_bytes()
            }
            None => Vec::new(),
        }
    }

    fn finish(&mut self) -> Vec<u8> {
        let done = std::mem::take(&mut self.pending);
        spec::unmap_output(&String::from_utf8_lossy(&done)).into_bytes()
    }
}

type Reader = Box<dyn tokio::io::AsyncRead + Send + Unpin>;
type Writer = Box<dyn tokio::io::AsyncWrite + Send + Unpin>;

struct Spawned {
    child: tokio::process::Child,
    stdin: Option<Writer>,
    outputs: Vec<(u8, Reader)>,
    /// The pty's controlling side (tty sessions), for resizes.
    pty: Option<std::os::fd::OwnedFd>,
}

fn spawn(plan: &ExecPlan, opts: &ExecOptions) -> std::io::Result<Spawned> {
    use std::process::Stdio;
    if opts.tty {
        return spawn_tty(plan, opts);
    }
    let mut cmd = crate::sandbox::controllers::procs::command(&plan.program);
    cmd.args(&plan.args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(plan.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&plan.cwd)
        .stdin(if opts.stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(if opts.stdout {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(if opts.stderr {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn()?;
    let stdin = child.stdin.take().map(|s| Box::new(s) as Writer);
    let mut outputs = Vec::new();
    if let Some(s) = child.stdout.take() {
        outputs.push((1, Box::new(s) as Reader));
    }
    if let Some(s) = child.stderr.take() {
        outputs.push((2, Box::new(s) as Reader));
    }
    Ok(Spawned {
        child,
        stdin,
        outputs,
        pty: None,
    })
}

fn spawn_tty(plan: &ExecPlan, _opts: &ExecOptions) -> std::io::Result<Spawned> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors into the given integers; the other arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: openpty succeeded, so both are fresh descriptors owned by nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut cmd = tokio::process::Command::new(&plan.program);
    cmd.kill_on_drop(true)
        .args(&plan.args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .envs(plan.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&plan.cwd)
        .stdin(slave.try_clone()?)
        .stdout(slave.try_clone()?)
        .stderr(slave);
    // SAFETY: only async-signal-safe calls (setsid, ioctl, prctl) run between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            libc::ioctl(0, libc::TIOCSCTTY as _, 0);
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    let _ = master.as_raw_fd();
    let reader = tokio::fs::File::from_std(std::fs::File::from(master.try_clone()?));
    let writer = tokio::fs::File::from_std(std::fs::File::from(master.try_clone()?));
    Ok(Spawned {
        child,
        stdin: Some(Box::new(writer)),
        outputs: vec![(1, Box::new(reader))],
        pty: Some(master),
    })
}

fn resize(pty: &std::os::fd::OwnedFd, msg: &[u8]) {
    use std::os::fd::AsRawFd;
    let Ok(v) = serde_json::from_slice::<Value>(msg) else {
        return;
    };
    let ws = libc::winsize {
        ws_row: v["Height"].as_u64().unwrap_or(24).min(u16::MAX as u64) as u16,
        ws_col: v["Width"].as_u64().unwrap_or(80).min(u16::MAX as u64) as u16,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize from the pointer, which lives across the call.
    unsafe {
        libc::ioctl(pty.as_raw_fd(), libc::TIOCSWINSZ as _, &ws);
    }
}

async fn session(socket: WebSocket, plan: ExecPlan, opts: ExecOptions, v5: bool) {
    let (mut sink, mut stream) = socket.split();
    let mut spawned = match spawn(&plan, &opts) {
        Ok(s) => s,
        Err(e) => {
            let msg = format!("starting {}: {e}", plan.program.display());
            let _ = sink
                .send(frame(3, failure(&msg).to_string().as_bytes()))
                .await;
            let _ = sink.send(normal_close()).await;
            return;
        }
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(64);
    // Output pumps: each stream in frames of its channel.
    let mut pumps = Vec::new();
    for (channel, mut out) in std::mem::take(&mut spawned.outputs) {
        let tx = tx.clone();
        let tty = opts.tty;
        pumps.push(tokio::spawn(async move {
            let mut unmap = Unmapper {
                pending: Vec::new(),
            };
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                let n = match out.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let data = if tty {
                    spec::unmap_output(&String::from_utf8_lossy(&buf[..n])).into_bytes()
                } else {
                    unmap.feed(&buf[..n])
                };
                if !data.is_empty() && tx.send(frame(channel, &data)).await.is_err() {
                    return;
                }
            }
            let rest = unmap.finish();
            if !rest.is_empty() {
                let _ = tx.send(frame(channel, &rest)).await;
            }
        }));
    }
    drop(tx);
    let writer = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            if sink.send(m).await.is_err() {
                return None;
            }
        }
        Some(sink)
    });
    let mut stdin = spawned.stdin.take();
    let pty = spawned.pty.take();
    let mut child = spawned.child;
    let status = loop {
        tokio::select! {
            st = child.wait() => break st.ok(),
            msg = stream.next() => match msg.map(|m| m.map(|m| match m {
                // Some clients (the Python one) send stdin as text frames: the same bytes.
                Message::Text(t) => Message::Binary(bytes::Bytes::copy_from_slice(t.as_str().as_bytes())),
                other => other,
            })) {
                Some(Ok(Message::Binary(b))) => match b.first() {
                    Some(0) => {
                        if let Some(w) = stdin.as_mut()
                            && (w.write_all(&b[1..]).await.is_err() || w.flush().await.is_err())
                        {
                            stdin = None;
                        }
                    }
                    Some(4) => {
                        if let Some(p) = &pty {
                            resize(p, &b[1..]);
                        }
                    }
                    Some(255) if v5 && b.get(1) == Some(&0) => {
                        if let Some(mut w) = stdin.take() {
                            let _ = w.shutdown().await;
                        }
                    }
                    _ => {}
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    // The client went: the command goes too.
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                    return;
                }
                Some(Ok(_)) => {}
            }
        }
    };
    drop(stdin);
    drop(pty);
    for p in pumps {
        let _ = p.await;
    }
    let Ok(Some(mut sink)) = writer.await else {
        return;
    };
    let code = status
        .map(|s| {
            use std::os::unix::process::ExitStatusExt;
            s.code()
                .or_else(|| s.signal().map(|n| 128 + n))
                .unwrap_or(1)
        })
        .unwrap_or(1);
    let _ = sink
        .send(frame(3, exit_status(code).to_string().as_bytes()))
        .await;
    let _ = sink.send(normal_close()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_keep_every_command() {
        let o = ExecOptions::parse(Some(
            "command=etcdctl&command=get&command=%2Fk&container=etcd&stdout=true&stderr=1&tty=false",
        ));
        assert_eq!(o.command, ["etcdctl", "get", "/k"]);
        assert_eq!(o.container.as_deref(), Some("etcd"));
        assert!(o.stdout && o.stderr && !o.stdin && !o.tty);
    }

    #[test]
    fn statuses() {
        assert_eq!(exit_status(0)["status"], "Success");
        let s = exit_status(3);
        assert_eq!(s["reason"], "NonZeroExitCode");
        assert_eq!(s["details"]["causes"][0]["message"], "3");
    }
}
