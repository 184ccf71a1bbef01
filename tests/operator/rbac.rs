//! The Gordon operator under RBAC on the sandbox: with exactly the namespaced Role of `manifests/gordon/`
//! (as its ServiceAccount's token) it deploys, writes status, records events, scales and heals; with a
//! missing permission (all namespaces with only the Role, or a Role without `pods create`) it says which
//! permission and what to do, keeps running and retries with backoff.

use crate::common;
use crate::common::operator as op;

use common::*;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::events::v1::Event;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams};
use op::{Operator, active, pods_of, scale, until, wait_converged};
use oplab::operator::Scope;
use std::time::Duration;

const NS: &str = "gordon";
const SA_USER: &str = "system:serviceaccount:gordon:gordon-operator";

fn manifest(file: &str) -> String {
    let path = format!("{}/manifests/gordon/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {path}: {e}"))
        .replace("{{ns}}", NS)
}

/// The cluster with the CRD, the namespace and `rbac` applied by the admin; the operator's client.
async fn setup(rbac: &str) -> (TestCluster, kube::Client, kube::Client) {
    let tc = TestCluster::start().await;
    for doc in [
        manifest("crd.yaml"),
        manifest("namespace.yaml"),
        rbac.to_string(),
    ] {
        ok(tc.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], &doc));
    }
    ok(tc.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/gordons.operator.prgcont.cz",
        "--timeout=10s",
    ]));
    let admin = tc.client().await;
    let operator = tc
        .sandbox
        .client_as(NS, "gordon-operator")
        .await
        .expect("the operator's ServiceAccount client");
    (tc, admin, operator)
}

fn apply_gordon(tc: &TestCluster) {
    ok(tc.kubectl_stdin(
        &kubectl_default(),
        &["apply", "-f", "-"],
        &manifest("gordon.yaml"),
    ));
}

/// Waits for a log line containing every one of `parts`.
async fn logged(op: &Operator, parts: &[&str]) -> String {
    let mut found = String::new();
    until("the operator's log line", Duration::from_secs(15), || {
        let hit = op
            .lines()
            .into_iter()
            .find(|l| parts.iter().all(|p| l.contains(p)));
        let ok = hit.is_some();
        if let Some(h) = hit {
            found = h;
        }
        let lines = op.lines();
        async move {
            if ok {
                Ok(())
            } else {
                Err(format!("log so far:\n{}", lines.join("\n")))
            }
        }
    })
    .await;
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_namespaced_role_is_all_the_operator_needs_in_its_namespace() {
    let (tc, admin, client) = setup(&manifest("rbac-namespaced.yaml")).await;
    let op = Operator::start(client, Scope::Namespace(NS.into()));
    apply_gordon(&tc);
    // Three Running pods and a correct status (written through gordons/status).
    wait_converged(&admin, NS, "example", 3).await;
    // Events on the Gordon.
    let events: Api<Event> = Api::namespaced(admin.clone(), NS);
    until("events on the Gordon", Duration::from_secs(10), || {
        let events = events.clone();
        async move {
            let list = events
                .list(&ListParams::default())
                .await
                .map_err(|e| e.to_string())?;
            let on_gordon = list
                .items
                .iter()
                .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("example"))
                .count();
            if on_gordon >= 3 {
                Ok(())
            } else {
                Err(format!("{on_gordon} events on the Gordon"))
            }
        }
    })
    .await;
    // Scale and heal.
    scale(&admin, NS, "example", 5).await.expect("scale up");
    wait_converged(&admin, NS, "example", 5).await;
    scale(&admin, NS, "example", 2).await.expect("scale down");
    wait_converged(&admin, NS, "example", 2).await;
    let victim = active(&pods_of(&admin, NS, "example").await)[0].name_any();
    Api::<Pod>::namespaced(admin.clone(), NS)
        .delete(&victim, &DeleteParams::default())
        .await
        .expect("delete a pod");
    until("the pod replaced", Duration::from_secs(20), || {
        let admin = admin.clone();
        let victim = victim.clone();
        async move {
            let pods = pods_of(&admin, NS, "example").await;
            if pods.iter().any(|p| p.name_any() == victim) {
                return Err(format!("{victim} still there"));
            }
            op::converged(&admin, NS, "example", 2).await
        }
    })
    .await;
    // Not one permission error along the way.
    let denied: Vec<String> = op
        .lines()
        .into_iter()
        .filter(|l| l.contains("permission denied") || l.contains("403"))
        .collect();
    assert!(denied.is_empty(), "permission errors: {denied:#?}");
    op.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_namespaces_with_only_the_namespaced_role_names_the_missing_permission() {
    let (tc, admin, client) = setup(&manifest("rbac-namespaced.yaml")).await;
    apply_gordon(&tc);
    let op = Operator::start(client, Scope::All);
    let line = logged(&op, &["permission denied"]).await;
    assert!(
        line.contains("may not list gordons.operator.prgcont.cz in all namespaces"),
        "{line}"
    );
    assert!(
        line.contains("manifests/gordon/rbac-cluster.yaml"),
        "{line}"
    );
    assert!(line.contains("-n NAMESPACE"), "{line}");
    assert!(
        line.contains(&format!("403 gordons.operator.prgcont.cz is forbidden: User \"{SA_USER}\" cannot list resource \"gordons\" in API group \"operator.prgcont.cz\" at the cluster scope")),
        "{line}"
    );
    // It keeps waiting, without crashing or repeating itself in a loop: it has checked again
    // (the check that would have said it twice) and still said it once.
    assert!(
        eventually(Duration::from_secs(20), || op
            .lines()
            .iter()
            .any(|l| l.contains(
                "checked Gordons in all namespaces again: still waiting"
            )))
        .await,
        "it never checked again: {:#?}",
        op.lines()
    );
    assert!(!op.handle.is_finished(), "the operator is still running");
    let said = op
        .lines()
        .iter()
        .filter(|l| l.contains("permission denied"))
        .count();
    assert_eq!(said, 1, "said once while waiting: {:#?}", op.lines());
    assert!(pods_of(&admin, NS, "example").await.is_empty());
    // Granting the ClusterRole is what it asked for: then it works across namespaces.
    ok(tc.kubectl_stdin(
        &kubectl_default(),
        &["apply", "-f", "-"],
        &manifest("rbac-cluster.yaml"),
    ));
    wait_converged(&admin, NS, "example", 3).await;
    op.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_pods_create_is_reported_and_retried_with_backoff() {
    let role = manifest("rbac-namespaced.yaml").replace(
        "verbs: [\"get\", \"list\", \"watch\", \"create\", \"delete\"]",
        "verbs: [\"get\", \"list\", \"watch\", \"delete\"]",
    );
    assert_ne!(
        role,
        manifest("rbac-namespaced.yaml"),
        "pods create removed"
    );
    let (tc, admin, client) = setup(&role).await;
    let op = Operator::start(client, Scope::Namespace(NS.into()));
    apply_gordon(&tc);
    let line = logged(&op, &["may not create pods"]).await;
    assert!(
        line.contains("may not create pods in namespace gordon"),
        "{line}"
    );
    assert!(line.contains("rbac-namespaced.yaml"), "{line}");
    assert!(
        line.contains(&format!("pods is forbidden: User \"{SA_USER}\" cannot create resource \"pods\" in API group \"\" in the namespace \"gordon\"")),
        "{line}"
    );
    // Backoff, not a hot loop: retries at 100 ms, 200 ms, 400 ms, ... for three seconds, counted
    // by the operator's own clock (the log's timestamps) once a retry after those three seconds
    // shows the window is complete.
    let failure_times = || -> Vec<jiff::Timestamp> {
        op.logs
            .lock()
            .expect("logs")
            .iter()
            .filter(|l| l.message.contains("may not create pods"))
            .map(|l| l.at)
            .collect()
    };
    let first = failure_times()[0];
    let window_end = first + jiff::SignedDuration::from_secs(3);
    assert!(
        eventually(Duration::from_secs(30), || failure_times()
            .iter()
            .any(|t| *t >= window_end))
        .await,
        "no retry after three seconds: {:#?}",
        op.lines()
    );
    let failures = failure_times().iter().filter(|t| **t < window_end).count();
    assert!(
        (2..=8).contains(&failures),
        "{failures} failed reconciles in ~3 s"
    );
    assert!(!op.handle.is_finished(), "the operator is still running");
    assert!(active(&pods_of(&admin, NS, "example").await).is_empty());
    // With the permission back the Gordon converges.
    ok(tc.kubectl_stdin(
        &kubectl_default(),
        &["apply", "-f", "-"],
        &manifest("rbac-namespaced.yaml"),
    ));
    wait_converged(&admin, NS, "example", 3).await;
    op.stop().await;
}
