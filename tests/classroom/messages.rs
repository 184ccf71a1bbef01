//! Issue 18 on the board: an attendee's details read their own namespaces.

use crate::common;

use common::TestCluster;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use oplab::classroom::{ATTENDEE_LABEL, Board, attendee_namespaces};
use std::time::{Duration, Instant};

/// The detail view's titles name the attendee's namespaces (as their reasons do), not the lab's
/// default namespaces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detail_titles_use_the_attendees_namespaces() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let labs = oplab::lab::load_embedded().labs;
    let api: Api<Namespace> = Api::all(client.clone());
    for ns in attendee_namespaces(&labs, "attendee-2") {
        let obj: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": {"name": ns, "labels": {ATTENDEE_LABEL: "attendee-2"}}
        }))
        .expect("namespace");
        api.create(&PostParams::default(), &obj)
            .await
            .expect("namespace created");
    }
    let mut board = Board::new(client.clone(), labs);
    let deadline = Instant::now() + Duration::from_secs(20);
    let snapshot = loop {
        let s = board.snapshot();
        if !s.rows.is_empty() {
            break s;
        }
        assert!(Instant::now() < deadline, "no attendee row: {s:#?}");
        let _ = tokio::time::timeout(Duration::from_millis(500), board.next()).await;
    };
    let row = snapshot.row("attendee-2").expect("the attendee's row");
    let titles: Vec<&str> = snapshot
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| row.title(i, t))
        .collect();
    let defaults: Vec<&str> = snapshot.tasks.iter().map(|t| t.title.as_str()).collect();
    // a title that names a lab's default namespace reads the attendee's one instead
    let i = defaults
        .iter()
        .position(|t| t.contains("crontabs"))
        .unwrap_or_else(|| panic!("no title naming a namespace: {defaults:?}"));
    assert!(!titles[i].contains("namespace crontabs "), "{}", titles[i]);
    assert!(titles[i].contains("attendee-2"), "{}", titles[i]);
}
