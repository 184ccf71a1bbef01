//! `oplab check` you can trust: quizzes graded from the progress file (`--progress`), done from
//! the records (`--done`), tasks whose needs the sandbox cannot meet skipped with the reason
//! (exit 0 when nothing fails) and `--strict` failing skips; and the built-in operator's pods
//! refused by "your own operator" tasks.

use crate::common;

use common::TestCluster;
use oplab::tui::progress::{DoneRecord, Progress};

fn lab_task<'a>(doc: &'a serde_json::Value, task: &str) -> &'a serde_json::Value {
    doc["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["task"] == task)
        .unwrap_or_else(|| panic!("no task {task} in {doc}"))
}

fn correct(task: &str) -> Vec<usize> {
    let set = oplab::lab::load_embedded();
    let t = set
        .labs
        .iter()
        .flat_map(|l| l.tasks())
        .find(|t| t.id == task)
        .expect("task");
    t.check.quiz().expect("quiz").correct()
}

#[tokio::test(flavor = "multi_thread")]
async fn quizzes_and_done_come_from_the_progress_file() {
    let tc = TestCluster::start().await;
    let mut p = Progress::new();
    let l = p.lab_mut("custom-resources");
    l.answers
        .insert("crd-vocabulary".into(), correct("crd-vocabulary"));
    l.answers.insert("crontab-columns".into(), vec![1]);
    p.mark_done("custom-resources", "crontabs-namespace", Some("alice"));
    let file = tc.dir.path().join("progress.json");
    std::fs::write(&file, serde_json::to_vec(&p).expect("json")).expect("write");
    let path = file.to_str().expect("utf-8");

    let out = tc.oplab(&[
        "check",
        "--lab",
        "custom-resources",
        "--progress",
        path,
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(lab_task(&doc, "crd-vocabulary")["status"], "pass", "{doc}");
    let wrong = lab_task(&doc, "crontab-columns");
    assert_eq!(wrong["status"], "fail", "{doc}");
    assert!(
        wrong["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("choice 2"),
        "{wrong}"
    );
    assert_eq!(
        lab_task(&doc, "crd-v1beta1")["status"],
        "skipped",
        "not answered"
    );
    // now: the namespace is not there, although the records say it was done (both columns)
    let ns = lab_task(&doc, "crontabs-namespace");
    assert_eq!(ns["status"], "fail");
    assert!(
        ns["done"]
            .as_str()
            .unwrap_or_default()
            .ends_with("for alice"),
        "{ns}"
    );

    // one quiz answered right: exit 0
    let out = tc.oplab(&[
        "check",
        "--lab",
        "custom-resources",
        "--task",
        "crd-vocabulary",
        "--progress",
        path,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // --done reports the records, without a cluster
    let out = tc.oplab(&[
        "check",
        "--lab",
        "custom-resources",
        "--done",
        "--progress",
        path,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("PASS         crontabs-namespace"), "{text}");
    assert!(
        text.contains("done ") && text.contains("for alice"),
        "{text}"
    );
    assert!(
        text.contains("FAIL         crontab-crd") && text.contains("not done yet"),
        "{text}"
    );
    let record: &DoneRecord = p
        .done_record("custom-resources", "crontabs-namespace")
        .expect("record");
    assert!(text.contains(&record.at), "{text}");

    // a progress file that is not one: a clear error, the file untouched
    std::fs::write(&file, "{not json").expect("write");
    let out = tc.oplab(&["check", "--done", "--progress", path]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not an oplab progress file"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).expect("kept"), "{not json");
}

#[tokio::test(flavor = "multi_thread")]
async fn needs_the_sandbox_cannot_meet_are_skipped_and_strict_fails_them() {
    let tc = TestCluster::start().await;
    assert!(
        !oplab::checks::grading::on_path("operator-sdk"),
        "this test needs a machine without operator-sdk"
    );
    let out = tc.oplab(&["check", "--lab", "operator-sdk", "--task", "memcached-crd"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "a skip is not a failure: {text}");
    assert!(
        text.contains("SKIP") && text.contains("needs the program operator-sdk"),
        "{text}"
    );
    let out = tc.oplab(&[
        "check",
        "--lab",
        "operator-sdk",
        "--task",
        "memcached-crd",
        "--strict",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("--strict"), "{text}");
}
