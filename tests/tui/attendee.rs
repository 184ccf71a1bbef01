//! A classroom attendee's TUI on a real sandbox (as admin): `--attendee alice` fills the labs with
//! alice's namespaces, creates and labels them, applies into them, and the built-in operator manages
//! Gordons there only.

use crate::common;

use common::TestCluster;
use common::tui::*;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use oplab::classroom::ATTENDEE_LABEL;
use std::time::Duration;

fn label_of(ns: &Namespace) -> Option<&str> {
    ns.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(ATTENDEE_LABEL))
        .map(String::as_str)
}

async fn apply_set(client: &kube::Client, set: &str, ns: Option<&str>) {
    let vars = oplab::cluster::Vars::from_args(ns, &[]).expect("vars");
    oplab::cluster::apply::apply(
        client,
        oplab::cluster::load_documents(&[set.to_string()], &vars).expect("set"),
        &Default::default(),
        None,
    )
    .await
    .expect("apply");
}

async fn gordon_pods(client: &kube::Client, ns: &str) -> usize {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    pods.list(&ListParams::default().labels("operator.prgcont.cz/gordon"))
        .await
        .expect("list pods")
        .items
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn alice_applies_into_her_namespace_and_her_operator_stays_there() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let progress = dir.path().join("progress.json");
    let app = attendee_app(&progress, Some("alice"));
    assert_eq!(
        oplab::tui::operator_service(&app).scopes(),
        [oplab::operator::Scope::Namespace("alice-gordon".into())]
    );
    let (mut runner, bg) = attendee_runner(app, 140, 45);
    // The instructor installed the Gordon CRD; Bob's Gordon lives in a namespace of his own.
    apply_set(&client, "gordon/crd.yaml", None).await;
    connect(&mut runner, &bg, client.clone()).await;

    // Every namespace of alice's exists, labelled as hers.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let wanted = oplab::classroom::attendee_namespaces(&runner.app.labs, "alice");
    assert!(wanted.contains(&"alice-gordon".to_string()), "{wanted:?}");
    assert!(
        wait_for(&mut runner, |a| logged(
            a,
            "attendee alice: working in namespaces"
        ))
        .await,
        "{}",
        log_text(&runner.app)
    );
    for ns in &wanted {
        let got = namespaces.get(ns).await.expect("namespace created");
        assert_eq!(label_of(&got), Some("alice"), "{ns}");
    }
    let log = log_text(&runner.app);
    assert!(
        log.contains(&format!("created {}", wanted.join(", "))),
        "{log}"
    );
    assert!(
        log.contains("built-in Gordon operator started (namespace alice-gordon)"),
        "{log}"
    );

    // Chapter 3, step 2: the manifest names alice-gordon; the status bar names alice.
    press(&mut runner, ":lab 3<enter>n").await;
    let shown = screen(&runner);
    assert!(shown.contains("attendee alice"), "{shown}");
    assert!(shown.contains("namespace: \"alice-gordon\""), "{shown}");
    assert!(shown.contains("ns alice-gordon"), "{shown}");
    assert!(!shown.contains("{{ns}}"), "{shown}");

    // `a` on the Gordon asks first, then applies it into alice-gordon.
    press(&mut runner, "]]a").await;
    let shown = screen(&runner);
    assert!(shown.contains("Gordon/example"), "{shown}");
    press(&mut runner, "y").await;
    let mut three = false;
    for _ in 0..400 {
        if gordon_pods(&client, "alice-gordon").await == 3 {
            three = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        press(&mut runner, "").await;
    }
    assert!(
        three,
        "the scoped operator did not create alice's pods:\n{}",
        log_text(&runner.app)
    );
    assert_eq!(gordon_pods(&client, "gordon").await, 0);

    // A Gordon outside alice's namespaces is left alone by her operator.
    let bob = Namespace {
        metadata: kube::api::ObjectMeta {
            name: Some("bob-gordon".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    namespaces
        .create(&PostParams::default(), &bob)
        .await
        .expect("bob's namespace");
    let gordon: serde_json::Value = serde_json::json!({
        "apiVersion": "operator.prgcont.cz/v1", "kind": "Gordon",
        "metadata": {"name": "example", "namespace": "bob-gordon"},
        "spec": {"gordon": {"replicas": 2}}
    });
    let ar = kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("operator.prgcont.cz", "v1", "Gordon"),
        "gordons",
    );
    let gordons: Api<kube::api::DynamicObject> =
        Api::namespaced_with(client.clone(), "bob-gordon", &ar);
    gordons
        .patch(
            "example",
            &PatchParams::apply("test"),
            &Patch::Apply(&gordon),
        )
        .await
        .expect("bob's Gordon");
    // Meanwhile alice scales hers: her operator acts on that, and still not on Bob's.
    let alice: Api<kube::api::DynamicObject> =
        Api::namespaced_with(client.clone(), "alice-gordon", &ar);
    alice
        .patch(
            "example",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"gordon": {"replicas": 4}}})),
        )
        .await
        .expect("scale alice's Gordon");
    let mut four = false;
    for _ in 0..400 {
        if gordon_pods(&client, "alice-gordon").await == 4 {
            four = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(four, "alice's operator stopped working");
    // The marker after the event that would break the claim: her operator has finished the
    // reconcile of a change made after Bob's Gordon existed (it wrote that generation's status).
    let mut observed = false;
    for _ in 0..400 {
        let g = alice.get("example").await.expect("alice's Gordon");
        if g.metadata.generation.is_some()
            && g.data["status"]["observedGeneration"].as_i64() == g.metadata.generation
        {
            observed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        observed,
        "alice's operator never reported the scaled generation"
    );
    assert_eq!(
        gordon_pods(&client, "bob-gordon").await,
        0,
        "alice's operator touched Bob's Gordon"
    );

    // The admin may do the instructor steps: they read as usual (the server was asked).
    assert!(
        runner.app.by_instructor.is_empty(),
        "{:?}",
        runner.app.by_instructor
    );
    assert!(
        !logged(&runner.app, "cannot tell which instructor steps"),
        "{}",
        log_text(&runner.app)
    );

    // The progress file keeps the attendee.
    let saved = std::fs::read_to_string(&progress).expect("progress");
    assert!(saved.contains("\"attendee\": \"alice\""), "{saved}");
    bg.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_namespaces_get_the_label_and_another_attendees_stay_theirs() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let make = |name: &str, owner: Option<&str>| Namespace {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            labels: owner.map(|o| [(ATTENDEE_LABEL.to_string(), o.to_string())].into()),
            ..Default::default()
        },
        ..Default::default()
    };
    namespaces
        .create(&PostParams::default(), &make("alice-gordon", None))
        .await
        .expect("create");
    namespaces
        .create(&PostParams::default(), &make("alice-etc", Some("bob")))
        .await
        .expect("create");

    let report = oplab::tui::attendee::ensure_namespaces(
        &client,
        "alice",
        &[
            "alice-gordon".to_string(),
            "alice-etc".to_string(),
            "alice-etc2".to_string(),
        ],
    )
    .await;
    assert_eq!(report.labelled, ["alice-gordon"]);
    assert_eq!(report.created, ["alice-etc2"]);
    assert_eq!(
        report.foreign,
        [("alice-etc".to_string(), "bob".to_string())]
    );
    let got = namespaces.get("alice-gordon").await.expect("get");
    assert_eq!(label_of(&got), Some("alice"));
    let got = namespaces.get("alice-etc").await.expect("get");
    assert_eq!(
        label_of(&got),
        Some("bob"),
        "another attendee's label was overwritten"
    );

    // A second run finds everything in place (as on a reconnect).
    let again = oplab::tui::attendee::ensure_namespaces(
        &client,
        "alice",
        &["alice-gordon".to_string(), "alice-etc2".to_string()],
    )
    .await;
    assert_eq!(again.ready, ["alice-gordon", "alice-etc2"]);
    let lines = oplab::tui::attendee::report_lines("alice", &report);
    assert!(
        lines.iter().any(|l| l
            .text
            .contains("namespace alice-etc belongs to attendee bob")),
        "{lines:?}"
    );
}

/// What an attendee without cluster rights sees on an instructor step (fixed cluster state, no
/// network): the badge, the step list, the tasks' note, and `a` refusing to apply.
#[tokio::test]
async fn an_instructor_step_reads_done_by_the_instructor() {
    use oplab::tui::message::StepAccess;
    use oplab::tui::{AppMessage, ClusterState};
    let dir = tempfile::tempdir().expect("tempdir");
    let app = attendee_app(&dir.path().join("progress.json"), Some("alice"));
    let (mut runner, bg) = runner(app, 100, 30);
    bg.send(AppMessage::Cluster(ClusterState::Sandbox {
        url: "https://127.0.0.1:6443".into(),
        kubeconfig: None,
    }));
    bg.send(AppMessage::InstructorSteps(vec![
        StepAccess {
            lab: "gordon-operator".into(),
            step: 0,
            denied: vec![
                "create customresourcedefinitions.apiextensions.k8s.io cluster-wide".into(),
                "patch customresourcedefinitions.apiextensions.k8s.io cluster-wide".into(),
            ],
        },
        StepAccess {
            lab: "olm-and-etcd".into(),
            step: 1,
            denied: Vec::new(),
        },
    ]));
    press(&mut runner, ":lab 3<enter>").await;
    let shown = screen(&runner);
    insta::assert_snapshot!("attendee_instructor_step", shown);
    assert!(
        shown.contains("The Gordon kind (instructor) · done by the instructor"),
        "{shown}"
    );
    assert!(shown.contains("attendee alice"), "{shown}");
    assert!(shown.contains("ns alice-gordon"), "{shown}");
    assert_eq!(runner.app.done_by_instructor("olm-and-etcd", 1), None);

    // `a` and `e` say who does it instead of asking to apply.
    press(&mut runner, "a").await;
    assert!(runner.app.confirm.is_none());
    press(&mut runner, "e").await;
    assert!(runner.app.editor.is_none());
    assert!(
        logged(
            &runner.app,
            "This step is done by the instructor (you may not create customresourcedefinitions"
        ),
        "{}",
        log_text(&runner.app)
    );
    // The next step is the attendee's again: `a` asks.
    press(&mut runner, "na").await;
    assert!(runner.app.confirm.is_some());
}
