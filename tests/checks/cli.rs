//! `oplab check` in all three formats with its exit codes, and `oplab labs test` over the bundled labs.

use crate::common;

use common::TestCluster;
use std::process::{Command, Output};

#[tokio::test(flavor = "multi_thread")]
async fn check_formats_and_exit_codes() {
    let tc = TestCluster::start().await;

    let out = tc.oplab(&["check", "--format", "junit"]);
    assert!(!out.status.success(), "an empty cluster passes nothing");
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.contains("<testsuites"), "{xml}");
    assert!(xml.matches("<testcase").count() >= 30, "{xml}");
    assert!(xml.contains("Namespace crontabs not found"), "{xml}");

    let out = tc.oplab(&["check", "--format", "json", "--lab", "custom-resources"]);
    assert!(!out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let tasks = doc["tasks"].as_array().expect("tasks");
    let ns = tasks
        .iter()
        .find(|t| t["task"] == "crontabs-namespace")
        .expect("task");
    assert_eq!(ns["status"], "fail");
    assert_eq!(ns["lab"], "custom-resources");
    let quiz = tasks
        .iter()
        .find(|t| t["task"] == "crd-vocabulary")
        .expect("quiz");
    assert_eq!(quiz["status"], "skipped");

    // Doing the task makes it pass: exit 0 for that task alone.
    let k = tc.kubectl(&["create", "namespace", "crontabs"]);
    assert!(k.status.success(), "{}", String::from_utf8_lossy(&k.stderr));
    let out = tc.oplab(&[
        "check",
        "--lab",
        "custom-resources",
        "--task",
        "crontabs-namespace",
        "--wait",
        "10s",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("PASS") && text.contains("1 passed, 0 failed, 0 skipped"),
        "{text}"
    );

    let out = tc.oplab(&[
        "check",
        "--lab",
        "custom-resources",
        "--task",
        "crontab-crd",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        text.contains("FAIL") && text.contains("crontabs.stable.example.com not found"),
        "{text}"
    );
}

#[test]
fn labs_test_passes_over_all_bundled_labs() {
    // With a Python that has the client, the chapter 3 exercise is graded against the reference
    // Python operator (the built-in one switched off) instead of being skipped.
    let out = Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(["labs", "test"])
        .env("OPLAB_PYTHON", common::python_with_client())
        .output()
        .expect("oplab runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for task in [
        "gordon-self-heal",
        "python-operator-creates",
        "python-operator-heals",
        "python-operator-scales-down",
    ] {
        assert!(
            text.contains(&format!("PASS {task}")),
            "{task} not proven:\n{text}"
        );
    }
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.ends_with("skipped") && last.contains(" 0 failed"),
        "{last}"
    );
    assert!(text.contains("PASS crontab-crd"), "{text}");
    // Chapter 2 on the sandbox: real etcd members behind the simulated operators, nothing left for a
    // real cluster (this machine has etcd; .ci/run installs it).
    for task in [
        "olm-approve",
        "etcd-cluster",
        "etcd-put-get",
        "etcd-scale",
        "etcd-second-cluster",
    ] {
        assert!(
            text.contains(&format!("PASS {task}")),
            "{task} not proven:\n{text}"
        );
    }
    assert!(!text.contains("real cluster"), "{text}");
}

/// The verdict of one task in `oplab check --format json` output.
fn status_of(out: &Output, task: &str) -> (String, String) {
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let t = doc["tasks"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["task"] == task))
        .unwrap_or_else(|| panic!("no task {task} in {doc}"));
    (t["status"].to_string(), t.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn check_grades_one_attendee_in_their_namespaces() {
    let tc = TestCluster::start().await;
    let k = tc.kubectl(&["create", "namespace", "alice-crontabs"]);
    assert!(k.status.success(), "{}", String::from_utf8_lossy(&k.stderr));
    let args = |who: &[&'static str]| {
        let mut a = vec!["check", "--lab", "custom-resources", "--format", "json"];
        a.extend_from_slice(who);
        a
    };

    let out = tc.oplab(&args(&["--attendee", "alice"]));
    let (status, task) = status_of(&out, "crontabs-namespace");
    assert_eq!(status, "\"pass\"", "{task}");
    // Bob has no namespace yet, and neither has the default of the lab.
    let out = tc.oplab(&args(&["--attendee", "bob"]));
    let (status, task) = status_of(&out, "crontabs-namespace");
    assert_eq!(status, "\"fail\"", "{task}");
    assert!(task.contains("bob-crontabs"), "{task}");
    let out = tc.oplab(&args(&[]));
    assert_eq!(status_of(&out, "crontabs-namespace").0, "\"fail\"");

    // A name that cannot prefix namespaces, or one with -n, is refused before any request.
    let out = tc.oplab(&args(&["--attendee", "Alice_1"]));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--attendee: `Alice_1` is not a usable attendee name"),
        "{err}"
    );
    let out = tc.oplab(&args(&["--attendee", "alice", "-n", "x"]));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot be used with"), "{err}");
}
