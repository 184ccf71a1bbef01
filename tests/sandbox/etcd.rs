//! Real etcd members behind the simulated etcd operator: scaling keeps the data, clusters are
//! independent, a deleted member comes back with its data, a killed one restarts; without etcd the pod
//! waits and says what to install.

use crate::common;

use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

fn cluster(ns: &str, size: u32) -> String {
    format!(
        "apiVersion: operator.etcd.io/v1alpha1\nkind: EtcdCluster\nmetadata: {{name: example, namespace: {ns}}}\nspec: {{size: {size}, version: v3.5.21}}\n"
    )
}

fn etcdctl(c: &TestCluster, ns: &str, pod: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["-n", ns, "exec", pod, "--", "etcdctl"];
    all.extend_from_slice(args);
    c.kubectl(&all)
}

/// `member list` through `pod` shows exactly `n` started members.
fn started(c: &TestCluster, ns: &str, pod: &str, n: usize) -> bool {
    let o = etcdctl(c, ns, pod, &["member", "list"]);
    o.status.success()
        && stdout(&o)
            .lines()
            .filter(|l| l.contains(", started,"))
            .count()
            == n
        && stdout(&o).lines().count() == n
}

fn running(c: &TestCluster, ns: &str, n: usize) -> bool {
    let o = c.kubectl(&[
        "-n",
        ns,
        "get",
        "pods",
        "-l",
        "controller=example",
        "--field-selector=status.phase=Running",
        "-o",
        "name",
    ]);
    stdout(&o).lines().count() == n
}

fn value(c: &TestCluster, ns: &str, pod: &str, key: &str, extra: &[&str]) -> String {
    let mut args = vec!["get", key, "--print-value-only"];
    args.extend_from_slice(extra);
    stdout(&etcdctl(c, ns, pod, &args)).trim().to_string()
}

fn wait(what: &str, secs: u64, f: impl FnMut() -> bool) {
    assert!(
        wait_until(Duration::from_secs(secs), f),
        "{what} within {secs} s"
    );
}

#[test]
fn etcd_operator_runs_real_members_that_keep_their_data() {
    let c = BlockingCluster::start();
    let o = c.oplab(&["apply", "etcd"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    for ns in ["a", "b"] {
        ok(c.kubectl(&["create", "namespace", ns]));
        ok(c.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], &cluster(ns, 3)));
    }
    for ns in ["a", "b"] {
        wait(&format!("3 started members in {ns}"), 60, || {
            started(&c, ns, "example-0", 3)
        });
    }
    // What the operator made, owned by the EtcdCluster.
    for obj in [
        "statefulset/example",
        "service/example",
        "configmap/example-state",
    ] {
        let owner = ok(c.kubectl(&[
            "-n",
            "a",
            "get",
            obj,
            "-o",
            "jsonpath={.metadata.ownerReferences[0].kind}",
        ]));
        assert_eq!(owner, "EtcdCluster", "{obj}");
    }
    let state = ok(c.kubectl(&[
        "-n",
        "a",
        "get",
        "configmap/example-state",
        "-o",
        "jsonpath={.data.ETCD_INITIAL_CLUSTER_STATE}",
    ]));
    assert_eq!(state, "existing");
    let events = ok(c.kubectl(&[
        "-n",
        "a",
        "get",
        "events",
        "--field-selector=involvedObject.kind=EtcdCluster",
    ]));
    assert!(
        events.contains("simulated by the oplab sandbox") && events.contains("learner"),
        "{events}"
    );

    // The data is replicated, and the second cluster does not see it.
    ok(etcdctl(&c, "a", "example-0", &["put", "/kept", "yes"]));
    assert_eq!(value(&c, "a", "example-2", "/kept", &[]), "yes");
    assert_eq!(value(&c, "b", "example-1", "/kept", &[]), "");

    // 3 -> 5 -> 3 keeps the key.
    ok(c.kubectl(&[
        "-n",
        "a",
        "patch",
        "etcdcluster",
        "example",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"size":5}}"#,
    ]));
    wait("5 started members", 90, || started(&c, "a", "example-4", 5));
    assert_eq!(value(&c, "a", "example-4", "/kept", &[]), "yes");
    ok(c.kubectl(&[
        "-n",
        "a",
        "patch",
        "etcdcluster",
        "example",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"size":3}}"#,
    ]));
    wait("back to 3 members and 3 pods", 60, || {
        started(&c, "a", "example-0", 3) && running(&c, "a", 3)
    });
    assert_eq!(value(&c, "a", "example-2", "/kept", &[]), "yes");

    // A deleted member's pod comes back and rejoins with its own data (a serializable read is local).
    ok(c.kubectl(&["-n", "a", "delete", "pod", "example-1", "--wait=true"]));
    wait(
        "example-1 back and the cluster at 3 started members",
        60,
        || running(&c, "a", 3) && started(&c, "a", "example-1", 3),
    );
    assert_eq!(
        value(&c, "a", "example-1", "/kept", &["--consistency=s"]),
        "yes"
    );

    // kill -9 of a member's process: the pod shows a restart and recovers.
    let proc = c
        .sandbox
        .api
        .procs
        .by_name("a", "example-2")
        .expect("example-2 is process-backed");
    let pid = proc.pid.load(std::sync::atomic::Ordering::SeqCst);
    assert!(pid > 1);
    let killed = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    wait("a restart of example-2, Ready again", 60, || {
        let o = c.kubectl(&["-n", "a", "get", "pod", "example-2", "-o", "jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].ready}"]);
        stdout(&o).trim() == "1 true"
    });
    wait("example-2 serves again", 30, || {
        value(&c, "a", "example-2", "/kept", &["--consistency=s"]) == "yes"
    });
    let last = ok(c.kubectl(&[
        "-n",
        "a",
        "get",
        "pod",
        "example-2",
        "-o",
        "jsonpath={.status.containerStatuses[0].lastState.terminated.exitCode}",
    ]));
    assert_eq!(last, "137");
}

#[test]
fn without_etcd_the_pod_waits_and_says_what_to_install() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    let mut sandbox = Command::new(env!("CARGO_BIN_EXE_oplab"))
        .arg("sandbox")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .env("HOME", dir.path())
        .env("OPLAB_ETCD", dir.path().join("no-such-etcd"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("oplab sandbox starts");
    let kubectl = |args: &[&str]| {
        Command::new(kubectl_default())
            .args(args)
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", dir.path())
            .output()
            .expect("kubectl runs")
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait("the sandbox's kubeconfig", 30, || {
            kubeconfig.exists() && kubectl(&["get", "ns", "default"]).status.success()
        });
        let pod = super::exec::PODS.split("---").next().unwrap_or_default();
        let cmd = Command::new(kubectl_default())
            .args(["apply", "-f", "-"])
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        {
            use std::io::Write;
            let mut cmd = cmd;
            cmd.stdin
                .take()
                .expect("stdin")
                .write_all(pod.as_bytes())
                .expect("write");
            let o = cmd.wait_with_output().expect("kubectl");
            assert!(o.status.success(), "{}", stderr(&o));
        }
        wait("the waiting reason", 30, || {
            let o = kubectl(&[
                "get",
                "pod",
                "member",
                "-o",
                "jsonpath={.status.containerStatuses[0].state.waiting.reason}",
            ]);
            stdout(&o) == "EtcdNotInstalled"
        });
        let msg = stdout(&kubectl(&[
            "get",
            "pod",
            "member",
            "-o",
            "jsonpath={.status.containerStatuses[0].state.waiting.message}",
        ]));
        assert!(
            msg.contains("apt install etcd-server etcd-client")
                && msg.contains("brew install etcd"),
            "{msg}"
        );
        let events = stdout(&kubectl(&[
            "get",
            "events",
            "--field-selector=involvedObject.name=member",
        ]));
        assert!(
            events.contains("apt install etcd-server etcd-client"),
            "{events}"
        );
        let phase = stdout(&kubectl(&[
            "get",
            "pod",
            "member",
            "-o",
            "jsonpath={.status.phase}",
        ]));
        assert_eq!(phase, "Pending");
        let o = kubectl(&["exec", "member", "--", "etcdctl", "version"]);
        assert!(!o.status.success(), "exec into a waiting pod fails");
    }));
    let _ = sandbox.kill();
    let _ = sandbox.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
