//! Isolation of the classroom on the sandbox's RBAC: each attendee, with the kubeconfig setup
//! wrote, works in their own namespaces, gets 403 in another's and for anything cluster-wide, can
//! read what instructor steps check; their work, done with their own credentials, is on the board.

use crate::common;
use crate::common::operator as op;

use common::{BlockingCluster, stderr, stdout};
use oplab::operator::Scope;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

#[track_caller]
fn allowed(o: &Output, what: &str) {
    assert!(o.status.success(), "{what}: {}", stderr(o));
}

#[track_caller]
fn forbidden(o: &Output, what: &str) {
    assert!(!o.status.success(), "{what} was allowed: {}", stdout(o));
    let e = stderr(o);
    assert!(
        e.contains("Forbidden") || e.contains("forbidden"),
        "{what}: {e}"
    );
}

fn setup(bc: &BlockingCluster, dir: &Path) -> Vec<PathBuf> {
    let o = bc.oplab_in(dir, &["classroom", "setup", "--names", "class.txt"]);
    assert!(o.status.success(), "setup: {}", stderr(&o));
    ["alice", "bob", "carol"]
        .iter()
        .map(|n| dir.join(format!("{n}.kubeconfig")))
        .collect()
}

#[test]
fn attendees_are_isolated_from_each_other() {
    let bc = BlockingCluster::start();
    let work = tempfile::tempdir().expect("tempdir");
    std::fs::write(work.path().join("class.txt"), "alice\nbob\ncarol\n").expect("names");
    let kcs = setup(&bc, work.path());
    let alice = &kcs[0];

    allowed(
        &bc.kubectl_as(
            alice,
            &["-n", "alice-gordon", "create", "configmap", "mine"],
        ),
        "write own",
    );
    allowed(
        &bc.kubectl_as(alice, &["-n", "alice-crontabs", "get", "pods"]),
        "read own",
    );
    forbidden(
        &bc.kubectl_as(alice, &["-n", "bob-gordon", "get", "pods"]),
        "read bob's",
    );
    forbidden(
        &bc.kubectl_as(
            alice,
            &["-n", "bob-gordon", "create", "configmap", "theirs"],
        ),
        "write bob's",
    );
    forbidden(
        &bc.kubectl_as(
            alice,
            &[
                "-n",
                "bob-gordon",
                "delete",
                "rolebinding",
                "oplab-attendee",
            ],
        ),
        "unbind bob",
    );
    forbidden(
        &bc.kubectl_as(alice, &["get", "namespace", "bob-gordon"]),
        "read bob's namespace",
    );
    forbidden(
        &bc.kubectl_as(alice, &["create", "namespace", "zed"]),
        "create a namespace",
    );
    forbidden(
        &bc.kubectl_as(
            alice,
            &[
                "create",
                "clusterrole",
                "mine",
                "--verb=get",
                "--resource=pods",
            ],
        ),
        "create a cluster role",
    );
    forbidden(
        &bc.kubectl_as(alice, &["-n", "oplab-classroom", "get", "serviceaccounts"]),
        "read the classroom namespace",
    );
    // What the instructor steps check is readable; self reviews work.
    allowed(
        &bc.kubectl_as(alice, &["get", "customresourcedefinitions"]),
        "read CRDs",
    );
    let can = bc.kubectl_as(
        alice,
        &["auth", "can-i", "create", "pods", "-n", "alice-gordon"],
    );
    assert_eq!(stdout(&can).trim(), "yes", "{}", stderr(&can));
    let cannot = bc.kubectl_as(
        alice,
        &["auth", "can-i", "create", "pods", "-n", "bob-gordon"],
    );
    assert_eq!(stdout(&cannot).trim(), "no", "{}", stderr(&cannot));
}

const NIGHTLY: &str = "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: nightly, namespace: alice-crontabs}\nspec: {cronSpec: '0 3 * * *', image: busybox:1.36, replicas: 2}\n";
const GORDON: &str = "apiVersion: operator.prgcont.cz/v1\nkind: Gordon\nmetadata: {name: example, namespace: bob-gordon}\nspec: {gordon: {replicas: 3}}\n";

#[test]
fn work_done_with_own_kubeconfigs_shows_on_the_board() {
    let bc = BlockingCluster::start();
    let work = tempfile::tempdir().expect("tempdir");
    std::fs::write(work.path().join("class.txt"), "alice\nbob\ncarol\n").expect("names");
    // The instructor installs the CRDs (instructor steps), then sets up the class.
    let crd = bc.oplab_in(work.path(), &["apply", "crontab"]);
    assert!(crd.status.success(), "{}", stderr(&crd));
    bc.runtime
        .block_on(async { op::install_crd(&bc.client().await).await });
    let kcs = setup(&bc, work.path());

    // alice creates her CronTab, bob runs the operator with his own rights and asks for Gordons.
    allowed(
        &bc.kubectl_stdin_as(&kcs[0], &["apply", "-f", "-"], NIGHTLY),
        "alice's CronTab",
    );
    let bob_client = bc.runtime.block_on(async {
        oplab::cluster::connection::Target::kubeconfig(Some(kcs[1].clone()), None)
            .client()
            .await
            .expect("a client from bob's kubeconfig")
    });
    let operator = {
        let _guard = bc.runtime.enter();
        op::Operator::start(bob_client, Scope::Namespace("bob-gordon".into()))
    };
    allowed(
        &bc.kubectl_stdin_as(&kcs[1], &["apply", "-f", "-"], GORDON),
        "bob's Gordon",
    );

    let status = |doc: &serde_json::Value, who: &str, task: &str| -> String {
        doc["attendees"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == who))
            .and_then(|a| a["tasks"].as_array())
            .and_then(|t| t.iter().find(|x| x["task"] == task))
            .and_then(|t| t["status"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let mut doc = serde_json::Value::Null;
    let done = common::wait_until(Duration::from_secs(30), || {
        let o = bc.oplab_in(work.path(), &["classroom", "--export", "json"]);
        doc = serde_json::from_slice(&o.stdout).unwrap_or_default();
        status(&doc, "bob", "gordon-example") == "pass"
    });
    assert!(done, "bob's Gordon never passed: {doc:#}");
    assert_eq!(status(&doc, "alice", "crontab-object"), "pass");
    assert_eq!(status(&doc, "alice", "gordon-example"), "not-started");
    assert_eq!(status(&doc, "bob", "crontab-object"), "not-started");
    assert_eq!(status(&doc, "carol", "crontab-object"), "not-started");
    assert_eq!(status(&doc, "carol", "gordon-example"), "not-started");
    bc.runtime.block_on(operator.stop());
}
