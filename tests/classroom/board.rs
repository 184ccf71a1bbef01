//! The classroom board over real HTTPS on the sandbox: one watch per kind whatever the number of
//! attendees, re-evaluation limited to the namespace that changed, each attendee's work shown
//! exactly (engine and the JSON, CSV and JUnit exports of the CLI), changes seen live.

use crate::common;
use crate::common::operator as op;

use common::TestCluster;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use op::{Operator, install_crd};
use oplab::checks::{WatchKey, eval};
use oplab::classroom::{ATTENDEE_LABEL, Board, Cell, Snapshot, attendee_namespaces};
use oplab::operator::Scope;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const NIGHTLY: &str = "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: nightly}\nspec: {cronSpec: '0 3 * * *', image: busybox:1.36, replicas: 2}\n";
const GORDON: &str = "apiVersion: operator.prgcont.cz/v1\nkind: Gordon\nmetadata: {name: example}\nspec: {gordon: {replicas: 3}}\n";

fn labs() -> Vec<oplab::lab::Lab> {
    oplab::lab::load_embedded().labs
}

/// The namespaces of an attendee, labelled as theirs (what setup and `oplab --attendee` do).
async fn attendee(client: &kube::Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    for ns in attendee_namespaces(&labs(), name) {
        let obj: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": {"name": ns, "labels": {ATTENDEE_LABEL: name}}
        }))
        .expect("namespace");
        api.create(&PostParams::default(), &obj)
            .await
            .expect("namespace created");
    }
}

async fn install_crontab(client: &kube::Client) {
    let docs = oplab::cluster::load_documents(&["crontab".into()], &Default::default())
        .expect("crontab set");
    oplab::cluster::apply::apply(client, docs, &Default::default(), None)
        .await
        .expect("crontab CRD applied");
}

async fn apply(client: &kube::Client, yaml: &str, ns: &str) {
    oplab::checks::actions::apply_yaml(client, "test", yaml, ns, true)
        .await
        .expect("applied");
}

/// Runs the board until `done` holds for its snapshot (or fails after `timeout`).
async fn until(board: &mut Board, timeout: Duration, done: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let deadline = Instant::now() + timeout;
    loop {
        let s = board.snapshot();
        if done(&s) {
            return s;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "the board never got there: {s:#?}");
        let _ = tokio::time::timeout(left, board.next()).await;
    }
}

fn cell<'a>(s: &'a Snapshot, who: &str, lab: &str, task: &str) -> &'a Cell {
    s.cell(who, lab, task)
        .unwrap_or_else(|| panic!("no cell {who} {lab}/{task}"))
}

/// The distinct kinds the labs' checks read, plus namespaces (how the board finds attendees).
fn distinct_kinds() -> usize {
    let mut kinds = BTreeSet::from([("v1".to_string(), "Namespace".to_string())]);
    for lab in labs() {
        let lab = lab.render_vars(&lab.attendee_vars("x"));
        for t in lab.tasks() {
            for k in eval::keys(&t.check) {
                kinds.insert((k.api_version, k.kind));
            }
        }
    }
    kinds.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_watch_per_kind_and_only_the_changed_namespace_is_evaluated() {
    let tc = TestCluster::start().await;
    let client = tc.client().await;
    install_crontab(&client).await;
    for name in ["a1", "a2", "a3"] {
        attendee(&client, name).await;
    }
    let mut board = Board::new(client.clone(), labs());
    board.settle(Duration::from_secs(15)).await;
    let kinds = distinct_kinds();
    assert_eq!(board.snapshot().rows.len(), 3);
    assert_eq!(board.engine().stores().watch_count(), kinds);
    assert!(
        board
            .engine()
            .stores()
            .keys()
            .iter()
            .all(|k| k.namespace.is_none()),
        "{:?}",
        board.engine().stores().keys()
    );

    // Nine more attendees appear live: rows are added, no watch is.
    for i in 4..=12 {
        attendee(&client, &format!("a{i}")).await;
    }
    let s = until(&mut board, Duration::from_secs(10), |s| s.rows.len() == 12).await;
    assert_eq!(s.watches, kinds);
    assert_eq!(board.engine().stores().watch_count(), kinds);

    // A CronTab change in a7's namespace re-evaluates a7's CronTab tasks only. Rounds that carry
    // other changes too (the new namespaces' own events, late under load) cannot be attributed:
    // the change is repeated until one arrives alone.
    let crontab = WatchKey {
        api_version: "stable.example.com/v1".into(),
        kind: "CronTab".into(),
        namespace: Some("a7-crontabs".into()),
    };
    let mut alone = None;
    for attempt in 0..6 {
        let replicas = if attempt % 2 == 0 { 2 } else { 3 };
        apply(
            &client,
            &NIGHTLY.replace("replicas: 2", &format!("replicas: {replicas}")),
            "a7-crontabs",
        )
        .await;
        loop {
            let before = board.engine().evaluations;
            let keys = tokio::time::timeout(Duration::from_secs(10), board.next())
                .await
                .expect("a change within 10 s")
                .expect("watches running");
            if keys.contains(&crontab) {
                if keys.len() == 1 {
                    alone = Some(board.engine().evaluations - before);
                }
                break;
            }
        }
        if alone.is_some() {
            break;
        }
    }
    let evaluated = alone.expect("a CronTab change in a round of its own");
    apply(&client, NIGHTLY, "a7-crontabs").await;
    let s = until(&mut board, Duration::from_secs(10), |s| {
        cell(s, "a7", "custom-resources", "crontab-object").is_pass()
    })
    .await;
    let per_attendee = s.tasks.len();
    assert!(
        (1..per_attendee).contains(&(evaluated as usize)),
        "{evaluated} evaluations for one CronTab in one namespace ({per_attendee} tasks per attendee, 12 attendees)"
    );
    assert!(!cell(&s, "a6", "custom-resources", "crontab-object").is_pass());

    // A cluster-wide key reads through the kind's one watch, filtered by namespace.
    let key = WatchKey {
        api_version: "stable.example.com/v1".into(),
        kind: "CronTab".into(),
        namespace: Some("a3-crontabs".into()),
    };
    use oplab::checks::stores::View;
    let slot = board
        .engine()
        .stores()
        .slot(&key)
        .expect("served from the kind's watch");
    let held: Vec<Option<String>> = slot
        .store
        .expect("store")
        .state()
        .iter()
        .map(|o| o.metadata.namespace.clone())
        .collect();
    assert!(
        held.contains(&Some("a7-crontabs".into())),
        "the kind's watch holds every namespace's objects: {held:?}"
    );
}

fn export(tc: &TestCluster, format: &str) -> String {
    let out = tc.oplab(&["classroom", "--export", format, "--wait", "20s"]);
    assert!(
        out.status.success(),
        "export {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn board_and_exports_show_what_each_attendee_did() {
    let tc = TestCluster::start().await;
    let client = tc.client().await;
    // The instructor installs the CRDs; alice, bob and carol get their namespaces.
    install_crontab(&client).await;
    install_crd(&client).await;
    for name in ["alice", "bob", "carol"] {
        attendee(&client, name).await;
    }
    // alice does a chapter 1 task, bob a chapter 3 one (with the operator), carol nothing.
    apply(&client, NIGHTLY, "alice-crontabs").await;
    let operator = Operator::start(client.clone(), Scope::Namespace("bob-gordon".into()));
    apply(&client, GORDON, "bob-gordon").await;

    let mut board = Board::new(client.clone(), labs());
    board.settle(Duration::from_secs(15)).await;
    let s = until(&mut board, Duration::from_secs(20), |s| {
        s.cell("bob", "gordon-operator", "gordon-example")
            .is_some_and(Cell::is_pass)
    })
    .await;
    assert_eq!(
        s.rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["alice", "bob", "carol"]
    );
    assert!(cell(&s, "alice", "custom-resources", "crontab-object").is_pass());
    for (who, lab, task) in [
        ("alice", "gordon-operator", "gordon-example"),
        ("bob", "custom-resources", "crontab-object"),
        ("carol", "custom-resources", "crontab-object"),
        ("carol", "gordon-operator", "gordon-example"),
    ] {
        assert!(
            matches!(cell(&s, who, lab, task), Cell::NotStarted(_)),
            "{who} {task}: {:?}",
            cell(&s, who, lab, task)
        );
    }
    // The namespace tasks pass for everyone (setup made the namespaces), quizzes are not gradable.
    assert!(cell(&s, "carol", "custom-resources", "crontabs-namespace").is_pass());
    assert!(matches!(
        cell(&s, "carol", "custom-resources", "crontab-columns"),
        Cell::NotGradable(_)
    ));
    // Instructor steps and same-for-everyone tasks are shown once.
    let shared = |task: &str| {
        s.shared
            .iter()
            .find(|(c, _)| c.task == task)
            .map(|(_, cell)| cell.clone())
            .unwrap_or_else(|| panic!("no shared task {task}"))
    };
    assert!(shared("gordon-crd").is_pass());
    assert!(shared("crontab-crd").is_pass());
    assert!(matches!(shared("olm-installed"), Cell::NotStarted(_)));
    assert!(s.tasks.iter().all(|c| c.task != "gordon-crd"));

    // The exports say the same.
    let doc: serde_json::Value = serde_json::from_str(&export(&tc, "json")).expect("JSON");
    let status = |who: &str, task: &str| -> String {
        let a = doc["attendees"]
            .as_array()
            .expect("attendees")
            .iter()
            .find(|a| a["name"] == who)
            .unwrap_or_else(|| panic!("{who} missing: {doc}"));
        a["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .find(|t| t["task"] == task)
            .map(|t| t["status"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    assert_eq!(status("alice", "crontab-object"), "pass");
    assert_eq!(status("bob", "gordon-example"), "pass");
    assert_eq!(status("carol", "gordon-example"), "not-started");
    assert_eq!(status("carol", "crontab-object"), "not-started");
    let summary = doc["tasks"]
        .as_array()
        .expect("summary")
        .iter()
        .find(|t| t["task"] == "crontab-object")
        .expect("crontab-object summary");
    assert_eq!(summary["done"], 1);
    assert_eq!(summary["attendees"], 3);
    assert!(doc["shared"].as_array().is_some_and(|a| !a.is_empty()));

    let text = export(&tc, "csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("CSV row")).collect();
    let find = |who: &str, task: &str| {
        rows.iter()
            .find(|r| &r[0] == who && &r[2] == task)
            .map(|r| r[4].to_string())
            .unwrap_or_else(|| panic!("no CSV row {who} {task}"))
    };
    assert_eq!(find("alice", "crontab-object"), "pass");
    assert_eq!(find("bob", "gordon-example"), "pass");
    assert_eq!(find("carol", "gordon-example"), "not-started");
    assert_eq!(find("", "gordon-crd"), "pass");

    let xml = export(&tc, "junit");
    for who in ["alice", "bob", "carol"] {
        assert!(xml.contains(&format!("<testsuite name=\"{who}\"")), "{xml}");
    }
    let suite = |who: &str| {
        let start = xml
            .find(&format!("<testsuite name=\"{who}\""))
            .expect("suite");
        let end = xml[start..].find("</testsuite>").expect("suite end") + start;
        xml[start..end].to_string()
    };
    let case_fails = |who: &str, task: &str| {
        let s = suite(who);
        let at = s
            .find(&format!("<testcase name=\"{task}\""))
            .unwrap_or_else(|| panic!("no case {task} for {who}"));
        let rest = &s[at..];
        let end = rest.find("</testcase>").unwrap_or(rest.len());
        let own = rest
            .find("/>")
            .is_some_and(|e| e < end && !rest[..e].contains('>'));
        !own && rest[..end].contains("<failure")
    };
    assert!(!case_fails("alice", "crontab-object"));
    assert!(case_fails("carol", "crontab-object"));
    assert!(!case_fails("bob", "gordon-example"));

    // Live: alice breaks her CronTab (started, now failing); dave shows up; carol leaves.
    let cts: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "alice-crontabs",
        &kube::api::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(
            "stable.example.com",
            "v1",
            "CronTab",
        )),
    );
    cts.patch(
        "nightly",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"replicas": 5}})),
    )
    .await
    .expect("patched");
    attendee(&client, "dave").await;
    let nss: Api<Namespace> = Api::all(client.clone());
    for ns in attendee_namespaces(&labs(), "carol") {
        nss.delete(&ns, &Default::default()).await.expect("deleted");
    }
    let s = until(&mut board, Duration::from_secs(15), |s| {
        matches!(
            s.cell("alice", "custom-resources", "crontab-object"),
            Some(Cell::Fail(_))
        ) && s.row("dave").is_some()
            && s.row("carol").is_none()
    })
    .await;
    let why = cell(&s, "alice", "custom-resources", "crontab-object").reason();
    assert!(why.contains("replicas"), "{why}");
    operator.stop().await;
}
