//! The TUI's background services against a real sandbox: `a` applies a manifest block after a
//! confirmation that lists its objects, and the built-in operator runs from start and toggles with `o`.

use crate::common;

use common::*;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, ListParams};
use oplab::tui::services::{ApplyService, OperatorService};
use oplab::tui::{
    App, AppConfig, AppMessage, Background, ProgressStore, RecordingClipboard, Runner, Theme,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;

fn keys(s: &str) -> Vec<std::io::Result<Event>> {
    s.chars()
        .map(|c| {
            Ok(Event::Key(KeyEvent::new(
                KeyCode::Char(c),
                KeyModifiers::NONE,
            )))
        })
        .collect()
}

fn screen(runner: &Runner<TestBackend, RecordingClipboard>) -> String {
    let buf = runner.terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The real main loop on a test terminal, with the apply service; progress kept in `dir`.
fn runner_with_apply(
    dir: &tempfile::TempDir,
    width: u16,
    height: u16,
) -> (Runner<TestBackend, RecordingClipboard>, Background) {
    let app = App::new(
        oplab::lab::load_embedded(),
        AppConfig {
            theme: Theme::colored(),
            store: ProgressStore::at(dir.path().join("p.json")),
        },
    );
    let (bg, rx) = Background::new();
    let terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    let mut runner = Runner::new(terminal, app, bg.clone(), rx, RecordingClipboard::default());
    runner.services.push(Box::new(ApplyService));
    (runner, bg)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn apply_block_and_builtin_operator_from_the_tui() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut runner, bg) = runner_with_apply(&dir, 140, 45);
    runner.services.push(Box::new(OperatorService::default()));
    runner.autostart_operator = true;
    bg.send(AppMessage::Client(client.clone()));

    // Step 2 of chapter 1 has the namespace manifest; `a` asks first and lists the objects.
    runner
        .run(&mut futures::stream::iter(keys("na")))
        .await
        .expect("loop");
    let shown = screen(&runner);
    assert!(
        shown.contains("Namespace/crontabs"),
        "no confirmation listing the objects:\n{shown}"
    );
    let namespaces: Api<Namespace> = Api::all(client.clone());
    assert!(
        namespaces.get_opt("crontabs").await.expect("get").is_none(),
        "applied before confirmation"
    );
    runner
        .run(&mut futures::stream::iter(keys("y")))
        .await
        .expect("loop");
    let created = appears(&namespaces, "crontabs").await;
    assert!(created, "the confirmed apply did not create the namespace");

    // The operator started when the client arrived: a Gordon gets its pods.
    oplab::cluster::apply::apply(
        &client,
        oplab::cluster::load_documents(&["gordon".to_string()], &Default::default())
            .expect("gordon set"),
        &Default::default(),
        None,
    )
    .await
    .expect("apply gordon set");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "gordon");
    let mut three = false;
    for _ in 0..400 {
        let n = pods
            .list(&ListParams::default().labels("operator.prgcont.cz/gordon"))
            .await
            .expect("list")
            .items
            .len();
        if n == 3 {
            three = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        three,
        "the built-in operator did not create the Gordon's pods"
    );
    // `o` stops it; the log says so.
    runner
        .run(&mut futures::stream::iter(keys("o")))
        .await
        .expect("loop");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let log: Vec<String> = loop {
        runner
            .run(&mut futures::stream::iter(Vec::new()))
            .await
            .expect("loop");
        let log: Vec<String> = runner.app.log.iter().map(|l| l.text.clone()).collect();
        if log.iter().any(|l| l.contains("operator stopped"))
            || tokio::time::Instant::now() > deadline
        {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert!(
        log.iter().any(|l| l.contains("operator stopped")),
        "{log:?}"
    );
    assert!(
        log.iter().any(|l| l.contains("Namespace/crontabs created")),
        "{log:?}"
    );
}

/// Runs the loop on no input until `done` holds for the app (background messages arrive).
async fn wait_for(
    runner: &mut Runner<TestBackend, RecordingClipboard>,
    done: impl Fn(&App) -> bool,
) -> bool {
    for _ in 0..400 {
        runner
            .run(&mut futures::stream::iter(Vec::new()))
            .await
            .expect("loop");
        if done(&runner.app) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn diff_overlay_shows_the_unified_diff_then_no_changes() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut runner, bg) = runner_with_apply(&dir, 120, 40);
    bg.send(AppMessage::Client(client.clone()));

    // Step 2: the namespace manifest, not in the cluster yet: the diff creates it.
    runner
        .run(&mut futures::stream::iter(keys("nd")))
        .await
        .expect("loop");
    assert!(
        wait_for(&mut runner, |a| a.overlay.is_some()).await,
        "no diff arrived: {:?}",
        runner.app.log
    );
    let overlay = runner.app.overlay.clone().expect("overlay");
    assert!(overlay.text.contains("--- /dev/null"), "{}", overlay.text);
    assert!(
        overlay.text.contains("+++ oplab Namespace/crontabs"),
        "{}",
        overlay.text
    );
    assert!(
        overlay.text.contains("+  name: crontabs"),
        "{}",
        overlay.text
    );
    let shown = screen(&runner);
    assert!(shown.contains("+++ oplab Namespace/crontabs"), "{shown}");
    // Nothing was written, and keys of the main view do not fire under the overlay.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    assert!(namespaces.get_opt("crontabs").await.expect("get").is_none());
    runner
        .run(&mut futures::stream::iter(keys("jnk")))
        .await
        .expect("loop");
    assert_eq!(runner.app.step, 1);
    assert!(runner.app.overlay.is_some());
    runner
        .run(&mut futures::stream::iter(vec![Ok(Event::Key(
            KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        ))]))
        .await
        .expect("loop");
    assert!(runner.app.overlay.is_none());

    // After applying it, the diff is empty: "no changes".
    runner
        .run(&mut futures::stream::iter(keys("ay")))
        .await
        .expect("loop");
    let created = appears(&namespaces, "crontabs").await;
    assert!(created);
    runner
        .run(&mut futures::stream::iter(keys("d")))
        .await
        .expect("loop");
    assert!(wait_for(&mut runner, |a| a.overlay.is_some()).await);
    let overlay = runner.app.overlay.clone().expect("overlay");
    assert!(overlay.text.contains("no changes"), "{}", overlay.text);
}

/// Whether the namespace `name` exists within 5 s.
async fn appears(namespaces: &Api<Namespace>, name: &str) -> bool {
    for _ in 0..200 {
        if namespaces.get_opt(name).await.expect("get").is_some() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}
