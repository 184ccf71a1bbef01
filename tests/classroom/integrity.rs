//! Classroom integrity: setup applies as its own field manager, so an attendee's apply of their
//! Namespace keeps setup's labels; setup runs again after an attendee changed their labels
//! (recognising the namespace from its roster) and restores them; teardown waits until the
//! namespaces are gone, even one without labels.

use crate::common;

use common::{BlockingCluster, ok, stderr, stdout};
use oplab::classroom::{ATTENDEE_LABEL, MANAGED_BY, MANAGED_BY_LABEL};

fn label(bc: &BlockingCluster, ns: &str, key: &str) -> String {
    let path = format!("jsonpath={{.metadata.labels.{}}}", key.replace('.', "\\."));
    stdout(&bc.kubectl(&["get", "namespace", ns, "-o", &path]))
}

#[test]
fn an_attendees_namespace_apply_cannot_break_setup_or_teardown() {
    let bc = BlockingCluster::start();
    let work = tempfile::tempdir().expect("tempdir");
    let setup = ["classroom", "setup", "--attendees", "2", "--out", "kc"];
    ok(bc.oplab_in(work.path(), &setup));
    let kc = work.path().join("kc").join("attendee-1.kubeconfig");
    let ns = "attendee-1-gordon";
    let file = work.path().join("ns.yaml");
    std::fs::write(
        &file,
        format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n"),
    )
    .expect("write");
    // the attendee applies chapter 3's Namespace block with oplab (field manager `oplab`)
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(["apply", file.to_str().expect("utf-8")])
        .env("KUBECONFIG", &kc)
        .env("HOME", work.path())
        .output()
        .expect("oplab");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        label(&bc, ns, ATTENDEE_LABEL),
        "attendee-1",
        "setup's label was removed"
    );
    let managers = stdout(&bc.kubectl(&[
        "get",
        "namespace",
        ns,
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ]));
    assert!(managers.contains(MANAGED_BY), "{managers}");

    // the attendee removes the labels outright: setup still knows the namespace and restores them
    let o = bc.kubectl_as(
        &kc,
        &[
            "label",
            "namespace",
            ns,
            &format!("{ATTENDEE_LABEL}-"),
            &format!("{MANAGED_BY_LABEL}-"),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(label(&bc, ns, ATTENDEE_LABEL), "");
    let out = ok(bc.oplab_in(work.path(), &setup));
    assert!(
        out.contains(&format!("namespace {ns}")) && out.contains("restored"),
        "{out}"
    );
    assert_eq!(label(&bc, ns, ATTENDEE_LABEL), "attendee-1");
    assert_eq!(label(&bc, ns, MANAGED_BY_LABEL), MANAGED_BY);

    // labels stripped again: teardown still finds the namespace and reports only the truth
    ok(bc.kubectl_as(
        &kc,
        &[
            "label",
            "namespace",
            ns,
            &format!("{ATTENDEE_LABEL}-"),
            &format!("{MANAGED_BY_LABEL}-"),
        ],
    ));
    let out = ok(bc.oplab_in(work.path(), &["classroom", "teardown", "--yes"]));
    assert!(out.contains(ns), "{out}");
    let o = bc.kubectl(&["get", "namespace", ns]);
    assert!(!o.status.success(), "teardown left {ns}: {}", stdout(&o));
}

#[test]
fn teardown_says_which_namespace_is_left_and_why() {
    use k8s_openapi::api::core::v1::Namespace;
    let n: Namespace = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "x"},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Terminating", "conditions": [
            {"type": "NamespaceContentRemaining", "status": "True", "message": "Some resources are remaining: pods. has 2 resource instances"},
            {"type": "NamespaceDeletionDiscoveryFailure", "status": "False"}
        ]}
    }))
    .expect("namespace");
    let why = oplab::classroom::teardown::why_left(&n);
    assert_eq!(
        why,
        "Terminating; NamespaceContentRemaining: Some resources are remaining: pods. has 2 resource instances"
    );
}
