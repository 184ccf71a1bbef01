//! One sandbox per state directory (issue 15): a second sandbox and `sandbox reset` are refused naming the
//! holder, a second oplab joins the running sandbox, and `eval "$(oplab env)"` points kubectl at it.

use crate::common::{self, wait_until};
use oplab::tui::cluster::{ClusterOptions, spawn_discovery};
use oplab::tui::{AppMessage, Background, ClusterState};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `oplab sandbox --state DIR` in the background, killed on drop.
struct Running {
    child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn oplab() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_oplab"));
    c.env_remove("OPLAB_SANDBOX_STATE")
        .env_remove("OPLAB_SANDBOX_KUBECONFIG")
        .env_remove("KUBECONFIG");
    c
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> std::process::Output {
    Command::new(common::kubectl_default())
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .output()
        .expect("kubectl")
}

fn start_sandbox(state: &Path, kubeconfig: &Path) -> Running {
    let child = oplab()
        .args(["sandbox", "--state"])
        .arg(state)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("oplab sandbox");
    let running = Running { child };
    assert!(
        wait_until(Duration::from_secs(30), || kubectl(
            kubeconfig,
            &["get", "--raw", "/readyz"]
        )
        .status
        .success()),
        "the sandbox did not come up"
    );
    running
}

#[test]
fn a_second_sandbox_and_reset_are_refused_while_one_runs_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let kc = dir.path().join("kc");
    let running = start_sandbox(&state, &kc);
    let pid = running.child.id().to_string();
    common::ok(kubectl(&kc, &["create", "configmap", "kept"]));

    let second = oplab()
        .args(["sandbox", "--state"])
        .arg(&state)
        .arg("--kubeconfig")
        .arg(dir.path().join("kc2"))
        .output()
        .expect("second sandbox");
    assert!(!second.status.success(), "a second sandbox started");
    let err = common::stderr(&second);
    assert!(
        err.contains(&pid) && err.contains("another sandbox runs"),
        "{err}"
    );

    let reset = oplab()
        .args(["sandbox", "reset", "--yes", "--state"])
        .arg(&state)
        .output()
        .expect("reset");
    assert!(!reset.status.success(), "reset emptied a running sandbox");
    let err = common::stderr(&reset);
    assert!(err.contains("refusing") && err.contains(&pid), "{err}");
    common::ok(kubectl(&kc, &["get", "configmap", "kept"]));

    drop(running);
    let reset = oplab()
        .args(["sandbox", "reset", "--yes", "--state"])
        .arg(&state)
        .output()
        .expect("reset");
    common::ok(reset);
}

#[test]
fn eval_oplab_env_points_a_plain_shell_at_the_running_sandbox() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let kc = dir.path().join("kc");
    let _running = start_sandbox(&state, &kc);
    let env_kc = dir.path().join("env-kc");
    let script = format!(
        "eval \"$('{exe}' env --sandbox --sandbox-state '{state}' --kubeconfig '{kc}')\" && \
         echo \"KC=$KUBECONFIG\" && '{kubectl}' get ns",
        exe = env!("CARGO_BIN_EXE_oplab"),
        state = state.display(),
        kc = env_kc.display(),
        kubectl = common::kubectl_default().display(),
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .env_remove("KUBECONFIG")
        .env_remove("OPLAB_SANDBOX_STATE")
        .output()
        .expect("sh");
    let text = common::ok(out);
    assert!(text.contains(&format!("KC={}", env_kc.display())), "{text}");
    assert!(
        text.contains("default") && text.contains("kube-system"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_oplab_uses_the_running_sandbox_instead_of_starting_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let kc = dir.path().join("kc");
    let (st, k) = (state.clone(), kc.clone());
    let running = tokio::task::spawn_blocking(move || start_sandbox(&st, &k))
        .await
        .expect("start");
    let holder_url = std::fs::read_to_string(&kc)
        .expect("kubeconfig")
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: ").map(String::from))
        .expect("server line");
    let joined_kc = dir.path().join("joined-kc");
    let (bg, mut rx) = Background::new();
    spawn_discovery(
        &bg,
        ClusterOptions {
            force_sandbox: true,
            sandbox_kubeconfig: Some(joined_kc.clone()),
            sandbox_state: Some(state.clone()),
            ..Default::default()
        },
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut url = None;
    let mut joined_line = false;
    let mut client = false;
    while url.is_none() || !joined_line || !client {
        let msg = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("discovery took too long")
            .expect("channel open");
        match msg {
            AppMessage::Cluster(ClusterState::Sandbox { url: u, .. }) => url = Some(u),
            AppMessage::Log(l) if l.text.contains("already running") => {
                assert!(
                    l.text.contains(&running.child.id().to_string()),
                    "{}",
                    l.text
                );
                joined_line = true;
            }
            AppMessage::Client(_) => client = true,
            _ => {}
        }
    }
    assert_eq!(url.as_deref(), Some(holder_url.as_str()));
    let k = joined_kc.clone();
    let out = tokio::task::spawn_blocking(move || kubectl(&k, &["get", "ns", "-o", "name"]))
        .await
        .expect("kubectl");
    assert!(common::stdout(&out).contains("namespace/default"));
    bg.shutdown();
    drop(running);
}
