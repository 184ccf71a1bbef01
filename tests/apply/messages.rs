//! Issue 18: what `oplab apply` prints is true and said once.

use crate::common;

use common::{BlockingCluster, ok, stderr};
use std::process::{Command, Output};

fn oplab(cluster: &BlockingCluster, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(args)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .env("HOME", cluster.dir.path())
        .env_remove("OPLAB_LOG")
        .output()
        .expect("running oplab")
}

/// An object kubectl made, applied unchanged by oplab: only the field ownership changes. The diff
/// says so instead of "no differences", and the outcome agrees with it.
#[test]
fn apply_diff_never_says_no_differences_and_then_configured() {
    let cluster = BlockingCluster::start();
    let file = cluster.dir.path().join("cm.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: owned, namespace: default}\ndata: {a: b}\n",
    )
    .expect("write");
    let path = file.display().to_string();
    ok(cluster.kubectl(&["apply", "-f", &path]));
    let out = ok(oplab(&cluster, &["apply", "--diff", &path]));
    let says_none = out.contains("no differences");
    let configured = out.contains("configured");
    assert!(!(says_none && configured), "contradiction:\n{out}");
    assert!(configured, "{out}");
    assert!(out.contains("ownership"), "the diff says why: {out}");
    // again: now truly nothing changes, and both lines say so
    let out = ok(oplab(&cluster, &["apply", "--diff", &path]));
    assert!(out.contains("no differences"), "{out}");
    assert!(
        out.contains("unchanged") && !out.contains("configured"),
        "{out}"
    );
}

/// A missing kubeconfig: reported once, the path as given (not `'"/x"'`), and what to do.
#[test]
fn a_missing_kubeconfig_is_reported_once_with_the_plain_path() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("nope").join("config");
    let shown = missing.display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(["apply", "--kubeconfig", &shown, "gordon"])
        .env("HOME", dir.path())
        .env_remove("OPLAB_LOG")
        .output()
        .expect("running oplab");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(!err.contains(&format!("\"{shown}\"")), "path quoted: {err}");
    assert_eq!(err.matches(&shown).count(), 1, "the path once: {err}");
    assert_eq!(err.matches("os error").count(), 0, "raw io text: {err}");
    assert_eq!(
        err.matches("does not exist").count(),
        1,
        "the cause once: {err}"
    );
    assert!(err.contains("what to do:"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
