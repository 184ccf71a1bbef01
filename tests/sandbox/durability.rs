//! `oplab sandbox --state DIR`: kill -9 after a burst of writes loses nothing acknowledged; resourceVersions
//! keep increasing; watches resume across the restart; a corrupt state is refused untouched; reset empties it.

use crate::common;

use common::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kubectl(kc: &Path, args: &[&str]) -> std::process::Output {
    Command::new(kubectl_default())
        .args(args)
        .env("KUBECONFIG", kc)
        .output()
        .expect("kubectl runs")
}

fn start(kc: &Path, state: &Path) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(["sandbox", "--kubeconfig"])
        .arg(kc)
        .arg("--state")
        .arg(state)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("oplab sandbox starts");
    assert!(
        wait_until(T, || kc.exists()
            && kubectl(kc, &["get", "--raw", "/version"]).status.success()),
        "sandbox came up"
    );
    Server(child)
}

#[test]
fn kill_dash_nine_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (kc, state) = (dir.path().join("kc"), dir.path().join("state"));
    let mut server = start(&kc, &state);
    // A burst of writes in one kubectl apply: 100 ConfigMaps.
    let mut yaml = String::new();
    for i in 0..100 {
        yaml.push_str(&format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}, namespace: default}}\ndata: {{k: \"v{i}\"}}\n"));
    }
    let mut child = Command::new(kubectl_default())
        .args(["apply", "-f", "-"])
        .env("KUBECONFIG", &kc)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("kubectl");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(yaml.as_bytes())
            .expect("write");
    }
    assert!(child.wait().expect("kubectl apply").success());
    ok(kubectl(
        &kc,
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx:1.27",
            "--replicas=2",
        ],
    ));
    ok(kubectl(
        &kc,
        &["rollout", "status", "deployment/web", "--timeout=20s"],
    ));
    let rv_before: u64 = ok(kubectl(
        &kc,
        &[
            "get",
            "configmap",
            "cm-99",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ],
    ))
    .parse()
    .expect("rv");
    ok(kubectl(
        &kc,
        &["create", "configmap", "last", "--from-literal=k=last"],
    ));

    server.0.kill().expect("kill -9");
    server.0.wait().expect("reaped");
    drop(server);
    let _server = start(&kc, &state);

    let names = ok(kubectl(&kc, &["get", "configmaps", "-o", "name"]));
    assert_eq!(
        names
            .lines()
            .filter(|l| l.starts_with("configmap/cm-"))
            .count(),
        100
    );
    for i in [0, 42, 99] {
        let v = ok(kubectl(
            &kc,
            &[
                "get",
                "configmap",
                &format!("cm-{i}"),
                "-o",
                "jsonpath={.data.k}",
            ],
        ));
        assert_eq!(v, format!("v{i}"));
    }
    ok(kubectl(&kc, &["get", "deployment/web", "configmap/last"]));
    ok(kubectl(
        &kc,
        &["rollout", "status", "deployment/web", "--timeout=20s"],
    ));
    ok(kubectl(
        &kc,
        &["create", "configmap", "after", "--from-literal=k=after"],
    ));
    let rv_after: u64 = ok(kubectl(
        &kc,
        &[
            "get",
            "configmap",
            "after",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ],
    ))
    .parse()
    .expect("rv");
    assert!(rv_after > rv_before, "{rv_after} > {rv_before}");

    // A watch resumed from before the restart replays what followed, across it.
    let out = Command::new(kubectl_default())
        .args(["get", "--raw", &format!("/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv_before}&timeoutSeconds=1")])
        .env("KUBECONFIG", &kc)
        .output()
        .expect("watch");
    let text = stdout(&out);
    assert!(
        text.contains("\"name\":\"last\"") && text.contains("\"name\":\"after\""),
        "{text}"
    );
    assert!(!text.contains("\"name\":\"cm-99\""), "{text}");
}

#[test]
fn corrupt_state_is_reported_untouched_and_reset_empties_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (kc, state) = (dir.path().join("kc"), dir.path().join("state"));
    drop(start(&kc, &state));
    let log = state.join("log.jsonl");
    let mut bytes = std::fs::read(&log).expect("log");
    bytes.splice(0..0, b"not json\n".iter().copied());
    std::fs::write(&log, &bytes).expect("corrupt");
    let out = Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(["sandbox", "--kubeconfig"])
        .arg(&kc)
        .arg("--state")
        .arg(&state)
        .output()
        .expect("oplab");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("damaged")
            && err.contains(&state.display().to_string())
            && err.contains("oplab sandbox reset"),
        "{err}"
    );
    assert_eq!(std::fs::read(&log).expect("log"), bytes);

    // reset refuses without a terminal or --yes, then empties with --yes.
    let reset = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_oplab"))
            .args(["sandbox", "reset", "--state"])
            .arg(&state)
            .args(extra)
            .stdin(Stdio::null())
            .output()
            .expect("oplab reset")
    };
    let out = reset(&[]);
    assert!(
        !out.status.success() && stderr(&out).contains("--yes"),
        "{}",
        stderr(&out)
    );
    assert!(log.exists());
    assert!(reset(&["--yes"]).status.success());
    assert_eq!(std::fs::read_dir(&state).expect("dir").count(), 0);
    drop(start(&kc, &state));
}
