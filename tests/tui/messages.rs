//! Issue 18 in the TUI: every line the attendee reads is true, located and readable.

use super::snapshots::harness;
use crate::common;

/// `k` (nav pane) or `p` at the first step says "This is the first step." once, however often it is pressed.
#[tokio::test]
async fn k_at_the_first_step_says_so_once() {
    let mut h = harness(100, 30);
    h.keys("pppp").await;
    let log = h.log_text();
    assert_eq!(log.matches("This is the first step.").count(), 1, "{log}");
    // after another line, it is said again (once)
    h.keys(":nosuchcommand<enter>ppp").await;
    let log = h.log_text();
    assert_eq!(log.matches("This is the first step.").count(), 2, "{log}");
}

/// Runs the loop until the screen shows `text` (background messages arrive), at most 20 s.
async fn until_screen(runner: &mut common::tui::TestRunner, text: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        common::tui::press(runner, "").await;
        if common::tui::screen(runner).contains(text) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    false
}

/// The status bar says what the built-in operator does: off before a cluster, on while it waits
/// for the Gordon CRD, running once it watches, off again after `o`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_bar_shows_the_builtin_operator() {
    let c = common::TestCluster::start().await;
    let client = c.client().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let app = oplab::tui::App::new(
        oplab::lab::load_embedded(),
        oplab::tui::AppConfig {
            theme: oplab::tui::Theme::colored(),
            store: oplab::tui::ProgressStore::at(dir.path().join("p.json")),
        },
    );
    let (mut runner, bg) = common::tui::runner(app, 140, 30);
    runner
        .services
        .push(Box::new(oplab::tui::services::OperatorService::default()));
    runner.autostart_operator = true;
    common::tui::press(&mut runner, "").await;
    let shown = common::tui::screen(&runner);
    assert!(shown.contains("operator off"), "{shown}");
    common::tui::connect(&mut runner, &bg, client.clone()).await;
    assert!(
        until_screen(&mut runner, "operator on").await,
        "waiting for the CRD: {}",
        common::tui::screen(&runner)
    );
    oplab::cluster::apply::apply(
        &client,
        oplab::cluster::load_documents(&["gordon".to_string()], &Default::default())
            .expect("gordon set"),
        &Default::default(),
        None,
    )
    .await
    .expect("apply gordon set");
    assert!(
        until_screen(&mut runner, "operator running").await,
        "{}",
        common::tui::screen(&runner)
    );
    common::tui::press(&mut runner, "o").await;
    assert!(
        until_screen(&mut runner, "operator off").await,
        "{}",
        common::tui::screen(&runner)
    );
}

/// `ns=crontabs`, chapter 1's namespace.
fn crontabs_vars() -> oplab::cluster::Vars {
    let mut vars = oplab::cluster::Vars::default();
    vars.0.insert("ns".into(), "crontabs".into());
    vars
}

/// A fresh app over the embedded labs with progress in `dir`.
fn app_in(dir: &tempfile::TempDir) -> oplab::tui::App {
    oplab::tui::App::new(
        oplab::lab::load_embedded(),
        oplab::tui::AppConfig {
            theme: oplab::tui::Theme::colored(),
            store: oplab::tui::ProgressStore::at(dir.path().join("p.json")),
        },
    )
}

/// Chapter 1's "Unknown fields are pruned": `a` on the block (it says `validate=warn`) lets the
/// server prune `spec.colour` instead of refusing the object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_applies_the_pruning_block_with_its_validate_attribute() {
    let c = common::TestCluster::start().await;
    let client = c.client().await;
    let settings = oplab::cluster::Settings {
        namespace: "crontabs".into(),
        ..Default::default()
    };
    oplab::cluster::apply::apply(
        &client,
        oplab::cluster::load_documents(&["crontab".to_string()], &crontabs_vars())
            .expect("crontab set"),
        &settings,
        None,
    )
    .await
    .expect("apply the crontab set");
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut runner, bg) = common::tui::runner(app_in(&dir), 140, 40);
    runner
        .services
        .push(Box::new(oplab::tui::services::ApplyService));
    common::tui::connect(&mut runner, &bg, client.clone()).await;
    common::tui::press(&mut runner, ":step 6<enter>]a").await;
    let shown = common::tui::screen(&runner);
    assert!(shown.contains("CronTab/tidy"), "the confirmation: {shown}");
    common::tui::press(&mut runner, "y").await;
    let ok = common::tui::wait_for(&mut runner, |app| {
        common::tui::logged(app, "CronTab/tidy") && common::tui::logged(app, "created")
    })
    .await;
    assert!(ok, "{}", common::tui::log_text(&runner.app));
    let gvk = kube::api::GroupVersionKind::gvk("stable.example.com", "v1", "CronTab");
    let (ar, _) = kube::discovery::pinned_kind(&client, &gvk)
        .await
        .expect("CronTab served");
    let api: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(client.clone(), "crontabs", &ar);
    let tidy = api.get("tidy").await.expect("tidy exists");
    assert!(tidy.data["spec"].get("colour").is_none(), "{:?}", tidy.data);
    assert!(tidy.data["spec"]["cronSpec"].is_string(), "{:?}", tidy.data);
}

/// An apply the server refuses (no CronTab CRD yet): the error is logged once, and its "what to
/// do" stays on a line of its own in the log pane.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_error_is_logged_once_with_its_line_breaks() {
    let c = common::TestCluster::start().await;
    let client = c.client().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut runner, bg) = common::tui::runner(app_in(&dir), 160, 50);
    runner
        .services
        .push(Box::new(oplab::tui::services::ApplyService));
    common::tui::connect(&mut runner, &bg, client.clone()).await;
    common::tui::press(&mut runner, ":step 6<enter>]ay").await;
    let done = common::tui::wait_for(&mut runner, |app| {
        common::tui::logged(app, "nothing was applied")
    })
    .await;
    let log = common::tui::log_text(&runner.app);
    assert!(done, "{log}");
    assert_eq!(
        log.matches("what to do:").count(),
        1,
        "the error once:\n{log}"
    );
    let screen = common::tui::screen(&runner);
    let row = screen
        .lines()
        .find(|l| l.contains("what to do:"))
        .unwrap_or_else(|| panic!("no what-to-do row:\n{screen}"));
    let inside = row
        .trim_start_matches(|c: char| c != '│')
        .trim_start_matches('│');
    assert!(
        inside.trim_start().starts_with("what to do:"),
        "\"what to do\" runs on in the line before: {row:?}\n{screen}"
    );
}

/// An edited manifest that does not parse: `a` offers no `y`, and says where the error is in the
/// edited text (its own line and column), not the lab file's line with the edit's column.
#[tokio::test]
async fn a_broken_edit_is_not_offered_for_applying() {
    let mut h = harness(100, 30);
    // step 3 of chapter 1: the editable CRD block; an unclosed `[` on its line 4
    h.keys("nn]e<down><down><down>[<c-s>").await;
    assert!(h.runner.app.editor.is_none(), "saved");
    h.keys("a").await;
    assert!(
        h.runner.app.confirm.is_none(),
        "a confirmation for a broken manifest"
    );
    let screen = h.screen();
    assert!(!screen.contains("y yes"), "{screen}");
    let log = h.log_text();
    let line = log
        .lines()
        .find(|l| l.starts_with("cannot apply"))
        .unwrap_or_else(|| panic!("no reason:\n{log}"));
    // the editor says line 14 for the same text: the same position here
    assert!(line.contains("line 14, column"), "{line}");
    assert_eq!(
        line.matches("column").count(),
        1,
        "a second position: {line}"
    );
    assert!(
        !line.contains("93:"),
        "the lab's line as a line:column: {line}"
    );
    assert!(log.contains("press e to fix"), "{log}");
}
