//! `oplab apply|delete|manifests` end to end: the binary against a running sandbox's kubeconfig (KUBECONFIG).

use crate::common;

use common::{BlockingCluster, ok, stderr, stdout};
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

#[test]
fn apply_reapply_bad_file_and_delete() {
    let cluster = BlockingCluster::start();
    let out = ok(oplab(&cluster, &["apply", "crontab", "-n", "cli-ns"]));
    assert!(out.contains("Namespace/cli-ns created"), "{out}");
    assert!(out.contains("CronTab/nightly -n cli-ns created"), "{out}");
    let got = ok(cluster.kubectl(&["get", "ct", "-n", "cli-ns", "-o", "name"]));
    assert_eq!(got.trim(), "crontab.stable.example.com/nightly");

    // again: nothing created or configured, and the output says so
    let out = ok(oplab(&cluster, &["apply", "crontab", "-n", "cli-ns"]));
    assert!(
        !out.contains("created") && !out.contains("configured"),
        "{out}"
    );
    assert!(out.contains("3 objects: 3 unchanged"), "{out}");

    // a bad file: non-zero exit, file:line named, nothing applied
    let bad = cluster.dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first-ok, namespace: default}\ndata: {a: b}\n---\napiVersion: v1\nkind: NoSuchKind\nmetadata: {name: bad}\n",
    )
    .expect("write");
    let bad_arg = bad.display().to_string();
    let o = oplab(&cluster, &["apply", &bad_arg]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains(&format!("{bad_arg}:6")), "{err}");
    assert!(err.contains("nothing was applied"), "{err}");
    let o = cluster.kubectl(&["get", "configmap", "first-ok", "-n", "default"]);
    assert!(!o.status.success(), "half-applied: {}", stdout(&o));

    // the schema violation example, by name
    let o = oplab(
        &cluster,
        &["apply", "crontab/invalid-crontab.yaml", "-n", "cli-ns"],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("crontab/invalid-crontab.yaml:5"), "{err}");
    assert!(err.contains("field spec.replicas"), "{err}");

    // --dry-run and --diff write nothing
    let out = ok(oplab(&cluster, &["apply", "gordon", "--dry-run", "--diff"]));
    assert!(out.contains("+kind: CustomResourceDefinition"), "{out}");
    assert!(
        out.contains("Gordon/example -n gordon created (dry run)"),
        "{out}"
    );
    let o = cluster.kubectl(&["get", "crd", "gordons.operator.prgcont.cz"]);
    assert!(!o.status.success(), "dry run wrote the CRD");

    let out = ok(oplab(&cluster, &["delete", "crontab", "-n", "cli-ns"]));
    assert!(out.contains("CronTab/nightly -n cli-ns deleted"), "{out}");
    let o = cluster.kubectl(&["get", "crd", "crontabs.stable.example.com"]);
    assert!(!o.status.success(), "CRD still there");
}

#[test]
fn manifests_list_and_show() {
    let out = Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(["manifests", "list"])
        .output()
        .expect("oplab");
    let out = ok(out);
    for set in [
        "crontab",
        "gordon",
        "olm",
        "etcd",
        "etcd/clusters",
        "olm/examples",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("{set} "))),
            "{set}: {out}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(["manifests", "show", "gordon", "-n", "team7"])
        .output()
        .expect("oplab");
    let out = ok(out);
    assert!(out.contains("namespace: \"team7\""), "{out}");
    assert!(!out.contains("{{ns}}\""), "{out}");
    assert!(out.contains("# Source: gordon/crd.yaml"), "{out}");
}

#[test]
fn no_cluster_is_a_clear_message_and_sandbox_flag_works() {
    let dir = tempfile::tempdir().expect("tmp");
    let kc = dir.path().join("dead");
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\ncontexts: [{name: dead, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: t}}]\ncurrent-context: dead\n",
    )
    .expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(["apply", "crontab"])
        .env("KUBECONFIG", &kc)
        .output()
        .expect("oplab");
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("no cluster reachable at https://127.0.0.1:1/ (context dead)"),
        "{err}"
    );
    assert!(err.contains("--sandbox"), "{err}");
    let o = Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(["apply", "olm", "--sandbox"])
        .env("KUBECONFIG", &kc)
        .output()
        .expect("oplab");
    let out = ok(o);
    assert!(out.contains("OLMConfig/cluster created"), "{out}");
}
