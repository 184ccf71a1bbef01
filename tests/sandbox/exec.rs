//! `pods/exec` over WebSocket: kubectl, the Python client and kube-rs against a real etcd member (a
//! process-backed pod) and against a simulated pod (the clear error).

use crate::common;

use common::*;
use std::process::Command;
use std::time::Duration;

/// A one-member etcd pod (as a StatefulSet's pod would be) and a simulated nginx pod in `ns`.
pub const PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: member, labels: {app: member}}
spec:
  containers:
  - name: etcd
    image: registry.k8s.io/etcd:3.5.21-0
    command: [etcd]
    args:
    - --name=$(POD_NAME)
    - --listen-client-urls=http://0.0.0.0:2379
    - --advertise-client-urls=http://$(POD_NAME).$(POD_NAMESPACE).svc.cluster.local:2379
    - --listen-peer-urls=http://0.0.0.0:2380
    - --initial-advertise-peer-urls=http://$(POD_NAME).$(POD_NAMESPACE).svc.cluster.local:2380
    - --initial-cluster=$(POD_NAME)=http://$(POD_NAME).$(POD_NAMESPACE).svc.cluster.local:2380
    env:
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - {name: nginx, image: nginx:1.27}
"#;

/// Starts the two pods in a fresh namespace and waits until the member answers.
fn start_pods(c: &TestCluster, ns: &str) {
    ok(c.kubectl(&["create", "namespace", ns]));
    ok(c.kubectl_stdin(&kubectl_default(), &["-n", ns, "apply", "-f", "-"], PODS));
    ok(c.kubectl(&[
        "-n",
        ns,
        "wait",
        "--for=condition=Ready",
        "pod/member",
        "pod/web",
        "--timeout=30s",
    ]));
    assert!(
        wait_until(Duration::from_secs(20), || c
            .kubectl(&[
                "-n", ns, "exec", "member", "--", "etcdctl", "endpoint", "health"
            ])
            .status
            .success()),
        "the etcd member never answered"
    );
}

#[test]
fn kubectl_exec_runs_etcdctl_in_an_etcd_pod() {
    let c = BlockingCluster::start();
    start_pods(&c, "ex");
    // Several command= parameters form argv; the output names the pod's DNS name, not the socket.
    let list = ok(c.kubectl(&[
        "-n", "ex", "exec", "member", "--", "etcdctl", "member", "list",
    ]));
    assert!(
        list.contains("started, member, http://member.ex.svc.cluster.local:2380"),
        "{list}"
    );
    assert!(!list.contains("unix://"), "{list}");
    ok(c.kubectl(&[
        "-n", "ex", "exec", "member", "--", "etcdctl", "put", "/k", "v1",
    ]));
    let got = ok(c.kubectl(&[
        "-n",
        "ex",
        "exec",
        "member",
        "--",
        "etcdctl",
        "get",
        "/k",
        "--print-value-only",
    ]));
    assert_eq!(got.trim(), "v1");
    // stdin (-i): etcdctl put reads the value from it; kubectl closes stdin with v5's CLOSE frame.
    let o = c.kubectl_stdin(
        &kubectl_default(),
        &[
            "-n",
            "ex",
            "exec",
            "-i",
            "member",
            "--",
            "etcdctl",
            "put",
            "/from-stdin",
        ],
        "piped",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let got = ok(c.kubectl(&[
        "-n",
        "ex",
        "exec",
        "member",
        "--",
        "etcdctl",
        "get",
        "/from-stdin",
        "--print-value-only",
    ]));
    assert_eq!(got.trim(), "piped");
    // The command's own exit code, through the NonZeroExitCode Status.
    let o = c.kubectl(&["-n", "ex", "exec", "member", "--", "sh", "-c", "exit 3"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("etcdctl"),
        "names what can run: {}",
        stderr(&o)
    );
    let o = c.kubectl(&[
        "-n",
        "ex",
        "exec",
        "member",
        "--",
        "etcdctl",
        "--no-such-flag",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // A tty.
    let o = c.kubectl(&[
        "-n", "ex", "exec", "-t", "member", "--", "etcdctl", "version",
    ]);
    assert!(
        stdout(&o).contains("etcdctl version"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    // A simulated pod: a clear error that names what can be exec'd.
    let o = c.kubectl(&["-n", "ex", "exec", "web", "--", "ls"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("simulated") && err.contains("etcd"), "{err}");
    // A client that offers only SPDY gets a 4xx saying to use WebSocket exec.
    let o = Command::new(kubectl_default())
        .args(["-n", "ex", "exec", "member", "--", "etcdctl", "version"])
        .env("KUBECONFIG", &c.kubeconfig)
        .env("HOME", c.dir.path())
        .env("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", "false")
        .output()
        .expect("kubectl runs");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("WebSocket"), "{}", stderr(&o));
    // kubectl logs shows the member's real output.
    let logs = ok(c.kubectl(&["-n", "ex", "logs", "member"]));
    assert!(logs.contains("etcdserver"), "{logs}");
}

#[test]
fn exec_needs_get_and_create_on_pods_exec() {
    let c = BlockingCluster::start();
    start_pods(&c, "rb");
    ok(c.kubectl(&["-n", "rb", "create", "serviceaccount", "reader"]));
    ok(c.kubectl(&[
        "-n",
        "rb",
        "create",
        "role",
        "get-only",
        "--verb=get",
        "--resource=pods,pods/exec",
    ]));
    ok(c.kubectl(&[
        "-n",
        "rb",
        "create",
        "rolebinding",
        "reader",
        "--role=get-only",
        "--serviceaccount=rb:reader",
    ]));
    let kc = c.dir.path().join("reader.kubeconfig");
    std::fs::write(
        &kc,
        c.sandbox
            .kubeconfig_for("rb", "reader")
            .expect("kubeconfig"),
    )
    .expect("write");
    let o = c.kubectl_as(&kc, &["exec", "member", "--", "etcdctl", "version"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot create resource \"pods/exec\""),
        "{}",
        stderr(&o)
    );
    ok(c.kubectl(&[
        "-n",
        "rb",
        "create",
        "role",
        "exec",
        "--verb=get,create",
        "--resource=pods,pods/exec",
    ]));
    ok(c.kubectl(&[
        "-n",
        "rb",
        "create",
        "rolebinding",
        "exec",
        "--role=exec",
        "--serviceaccount=rb:reader",
    ]));
    assert!(
        wait_until(Duration::from_secs(5), || c
            .kubectl_as(&kc, &["exec", "member", "--", "etcdctl", "version"])
            .status
            .success()),
        "get+create on pods/exec is enough"
    );
}

#[test]
fn python_client_stream_exec() {
    let py = python_with_client();
    let c = BlockingCluster::start();
    start_pods(&c, "py");
    let script = r#"
import sys
from kubernetes import client, config
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL
config.load_kube_config()
api = client.CoreV1Api()
out = stream(api.connect_get_namespaced_pod_exec, "member", "py", command=["etcdctl", "member", "list"],
             stderr=True, stdin=False, stdout=True, tty=False)
assert "http://member.py.svc.cluster.local:2379" in out, out
# stdin with close: etcdctl put reads the value until EOF
resp = stream(api.connect_get_namespaced_pod_exec, "member", "py", command=["etcdctl", "put", "/py"],
              stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
resp.write_stdin("from-python")
resp.close_channel(0) if hasattr(resp, "close_channel") else None
resp.run_forever(timeout=10)
assert resp.returncode == 0, resp.read_channel(ERROR_CHANNEL)
out = stream(api.connect_get_namespaced_pod_exec, "member", "py", command=["etcdctl", "get", "/py", "--print-value-only"],
             stderr=True, stdin=False, stdout=True, tty=False)
assert out.strip() == "from-python", repr(out)
# exit code
resp = stream(api.connect_get_namespaced_pod_exec, "member", "py", command=["etcdctl", "--no-such-flag"],
              stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
resp.run_forever(timeout=10)
assert resp.returncode == 1, resp.returncode
# a simulated pod
try:
    stream(api.connect_get_namespaced_pod_exec, "web", "py", command=["ls"], stderr=True, stdin=False, stdout=True, tty=False)
    raise SystemExit("exec into a simulated pod succeeded")
except client.exceptions.ApiException as e:
    assert "400" in str(e) and "simulated" in str(e) and "etcd" in str(e), e
print("exec checks passed")
"#;
    let out = Command::new(py)
        .args(["-c", script])
        .env("KUBECONFIG", &c.kubeconfig)
        .output()
        .expect("python runs");
    assert!(
        out.status.success() && stdout(&out).contains("exec checks passed"),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_exec() {
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{Api, AttachParams};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let c = TestCluster::start().await;
    let kubectl = {
        let c = &c;
        move |args: &[&str]| c.kubectl(args)
    };
    ok(kubectl(&["create", "namespace", "rs"]));
    let apply = c.kubectl_stdin(&kubectl_default(), &["-n", "rs", "apply", "-f", "-"], PODS);
    assert!(apply.status.success(), "{}", stderr(&apply));
    let pods: Api<Pod> = Api::namespaced(c.client().await, "rs");
    let run = |cmd: Vec<&'static str>, stdin: Option<&'static str>| {
        let pods = pods.clone();
        async move {
            let params = AttachParams::default()
                .stdout(true)
                .stderr(true)
                .stdin(stdin.is_some());
            let mut p = pods.exec("member", cmd, &params).await?;
            if let (Some(input), Some(mut w)) = (stdin, p.stdin()) {
                w.write_all(input.as_bytes()).await.expect("stdin");
                w.shutdown().await.expect("close stdin");
                drop(w);
            }
            let mut out = String::new();
            if let Some(mut r) = p.stdout() {
                r.read_to_string(&mut out).await.expect("stdout");
            }
            let status = p.take_status().expect("status").await;
            p.join().await.expect("join");
            Ok::<_, kube::Error>((out, status))
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (out, status) = loop {
        match run(vec!["etcdctl", "member", "list"], None).await {
            Ok((o, s)) if s.as_ref().and_then(|s| s.status.as_deref()) == Some("Success") => {
                break (o, s);
            }
            _ if tokio::time::Instant::now() > deadline => {
                panic!("the member never became healthy")
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    assert!(
        out.contains("started, member, http://member.rs.svc.cluster.local:2380"),
        "{out}"
    );
    assert!(status.is_some());
    let (_, status) = run(vec!["etcdctl", "put", "/rs"], Some("from-kube-rs"))
        .await
        .expect("put");
    assert_eq!(status.and_then(|s| s.status).as_deref(), Some("Success"));
    let (out, _) = run(vec!["etcdctl", "get", "/rs", "--print-value-only"], None)
        .await
        .expect("get");
    assert_eq!(out.trim(), "from-kube-rs");
    let (_, status) = run(vec!["etcdctl", "--no-such-flag"], None)
        .await
        .expect("exec runs");
    let status = status.expect("a status");
    assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));
    let cause = status
        .details
        .and_then(|d| d.causes)
        .and_then(|c| c.into_iter().next())
        .expect("cause");
    assert_eq!(
        (cause.reason.as_deref(), cause.message.as_deref()),
        (Some("ExitCode"), Some("1"))
    );
    // A simulated pod: the upgrade is refused with 400 (the message is in the body, which kube-rs drops).
    let err = pods
        .exec(
            "web",
            vec!["ls"],
            &AttachParams::default().stdout(true).stderr(false),
        )
        .await
        .err()
        .expect("exec into a simulated pod fails");
    assert!(err.to_string().contains("400"), "{err}");
}
