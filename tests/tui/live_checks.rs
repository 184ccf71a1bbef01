//! The TUI's live checks follow the labs it shows: a `--labs DIR` edit, picked up by the real lab
//! watcher, restarts the check engine on the edited checks (not only the text).

use crate::common::TestCluster;
use crate::common::tui::{connect, log_text, runner, wait_for};
use oplab::tui::checks::LiveChecks;
use oplab::tui::{App, AppConfig, AppMessage, ProgressStore, Theme, Verdict};

fn lab(namespace: &str) -> String {
    format!(
        "---\nid: reload\ntitle: \"Reload\"\norder: 1\nsummary: A lab edited while the TUI runs.\n---\n\n\
         # Reload\n\nA lab whose check changes on disk.\n\n## The namespace\n\nMake a namespace.\n\n\
         ```task\nid: the-namespace\ntitle: The namespace exists\ncheck:\n  assert:\n    apiVersion: v1\n\
         \x20   kind: Namespace\n    metadata: {{name: \"{namespace}\"}}\nhints:\n  - Create it.\n\
         solution:\n  text: Create it.\n```\n"
    )
}

fn verdict(app: &App) -> Verdict {
    app.verdicts
        .get(&("reload".to_string(), "the-namespace".to_string()))
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_labs_dir_edit_reloads_the_checks_too() {
    let c = TestCluster::start().await;
    c.kubectl(&["create", "namespace", "after-edit"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let labs = dir.path().join("labs");
    std::fs::create_dir(&labs).expect("mkdir");
    let file = labs.join("01-reload.md");
    std::fs::write(&file, lab("before-edit")).expect("write");
    let set = oplab::lab::load_dir(&labs);
    assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics);
    let app = App::new(
        set.clone(),
        AppConfig {
            theme: Theme::plain(),
            store: ProgressStore::at(dir.path().join("progress.json")),
        },
    );
    let (mut runner, bg) = runner(app, 100, 30);
    runner.services.push(Box::new(LiveChecks::new(set, None)));
    // The watcher the TUI runs for `--labs DIR`.
    let tx = bg.clone();
    let _watcher = oplab::lab::watch::watch_dir(&labs, move |set| {
        tx.send(AppMessage::LabsReloaded(set));
    })
    .expect("watching the labs");
    connect(&mut runner, &bg, c.client().await).await;

    // The start-up check reads a namespace that does not exist.
    assert!(
        wait_for(&mut runner, |a| matches!(verdict(a), Verdict::Fail(_))).await,
        "{:?}\n{}",
        verdict(&runner.app),
        log_text(&runner.app)
    );
    // The edit points the check at the namespace that exists: it passes without a restart.
    std::fs::write(&file, lab("after-edit")).expect("write");
    assert!(
        wait_for(&mut runner, |a| verdict(a) == Verdict::Pass).await,
        "{:?}\n{}",
        verdict(&runner.app),
        log_text(&runner.app)
    );
    assert!(
        runner
            .app
            .log
            .iter()
            .any(|l| l.text == "Labs changed on disk; reloaded.")
    );
    bg.shutdown();
}
