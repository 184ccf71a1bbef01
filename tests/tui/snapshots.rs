//! Whole-app snapshot tests: the real main loop on a `TestBackend`, driven by scripted keys,
//! with a fixed cluster state (no network).

use crate::common;

use common::tui::{buffer_text, events};
use crossterm::event::Event;
use oplab::tui::{
    App, AppConfig, AppMessage, Background, ClusterState, LogLine, ProgressStore,
    RecordingClipboard, Runner, Theme,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use std::path::PathBuf;

pub(crate) struct Harness {
    pub(crate) runner: Runner<TestBackend, RecordingClipboard>,
    progress: PathBuf,
    _dir: tempfile::TempDir,
}

const KUBECONFIG: &str = "/home/attendee/.local/share/oplab/sandbox/kubeconfig";

pub(crate) fn harness_with(
    width: u16,
    height: u16,
    theme: Theme,
    dir: tempfile::TempDir,
) -> Harness {
    let progress = dir.path().join("progress.json");
    let app = App::new(
        oplab::lab::load_embedded(),
        AppConfig {
            theme,
            store: ProgressStore::at(&progress),
        },
    );
    let (bg, rx) = Background::new();
    bg.send(AppMessage::Cluster(ClusterState::Sandbox {
        url: "https://127.0.0.1:6443".into(),
        kubeconfig: Some(KUBECONFIG.into()),
    }));
    bg.log(LogLine::info(
        "cluster",
        format!(
            "No cluster reachable: running the oplab sandbox; export KUBECONFIG={KUBECONFIG} to use kubectl with it"
        ),
    ));
    let terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    Harness {
        runner: Runner::new(terminal, app, bg, rx, RecordingClipboard::default()),
        progress,
        _dir: dir,
    }
}

pub(crate) fn harness(width: u16, height: u16) -> Harness {
    harness_with(
        width,
        height,
        Theme::colored(),
        tempfile::tempdir().expect("tempdir"),
    )
}

impl Harness {
    pub(crate) async fn keys(&mut self, keys: &str) {
        let mut stream = futures::stream::iter(events(keys));
        self.runner.run(&mut stream).await.expect("main loop");
    }

    async fn resize(&mut self, w: u16, h: u16) {
        self.runner.terminal.backend_mut().resize(w, h);
        let mut stream = futures::stream::iter(vec![Ok(Event::Resize(w, h))]);
        self.runner.run(&mut stream).await.expect("main loop");
    }

    pub(crate) fn screen(&self) -> String {
        buffer_text(self.runner.terminal.backend().buffer(), "\n")
    }

    pub(crate) fn log_text(&self) -> String {
        self.runner
            .app
            .log
            .iter()
            .map(|l| l.text.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[tokio::test]
async fn starts_on_the_first_chapter_with_the_sandbox() {
    let mut h = harness(100, 30);
    h.keys("").await;
    let screen = h.screen();
    assert!(screen.contains("Custom resources"), "{screen}");
    assert!(screen.contains("sandbox"), "{screen}");
    assert!(screen.contains("No cluster reachable"), "{screen}");
    assert!(screen.contains("not answered yet"), "{screen}");
    insta::assert_snapshot!("start_100x30", screen);
}

#[tokio::test]
async fn navigates_steps_and_chapters() {
    let mut h = harness(100, 30);
    h.keys("nn").await;
    let screen = h.screen();
    assert!(screen.contains("Define the CronTab kind"), "{screen}");
    assert!(screen.contains("step 3/7"), "{screen}");
    insta::assert_snapshot!("step_3", screen);
    h.keys("}").await;
    let screen = h.screen();
    assert!(screen.contains("2. Operators from a catalog"), "{screen}");
    insta::assert_snapshot!("chapter_2", screen);
    h.keys("p").await;
    assert!(h.screen().contains("A note on v1beta1"));
    h.keys(":lab gordon<enter>:step 4<enter>").await;
    let screen = h.screen();
    assert!(
        screen.contains("3. The Gordon operator · step 4/"),
        "{screen}"
    );
    h.keys(":nonsense<enter>").await;
    assert!(h.log_text().contains("unknown command `:nonsense`"));
}

#[tokio::test]
async fn searches_the_step_and_moves_between_matches() {
    let mut h = harness(100, 30);
    h.keys("nn/crontab").await;
    let typing = h.screen();
    assert!(typing.contains("/crontab"), "{typing}");
    h.keys("<enter>n").await;
    let search = h.runner.app.search.clone().expect("search active");
    assert!(search.matches.len() > 3, "{search:?}");
    assert_eq!(search.current, 1);
    let screen = h.screen();
    assert!(
        screen.contains(&format!("2/{}", search.matches.len())),
        "{screen}"
    );
    insta::assert_snapshot!("search", screen);
    // While searching, n moves between matches, not steps; esc ends the search.
    assert!(screen.contains("step 3/7"));
    h.keys("<esc>n").await;
    assert!(h.runner.app.search.is_none());
    assert!(h.screen().contains("step 4/7"));
}

#[tokio::test]
async fn help_overlay_opens_and_closes() {
    let mut h = harness(100, 30);
    h.keys("?").await;
    let screen = h.screen();
    assert!(screen.contains("Keys"), "{screen}");
    assert!(screen.contains("copy the selected code block"), "{screen}");
    insta::assert_snapshot!("help", screen);
    h.keys("<esc>").await;
    assert!(!h.screen().contains("copy the selected code block"));
}

#[tokio::test]
async fn copy_sends_an_osc52_request_and_logs_it() {
    let mut h = harness(100, 30);
    h.keys("nc").await;
    let expected = oplab::tui::runner::osc52(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \"crontabs\"\n",
    );
    assert_eq!(h.runner.clipboard.requests, vec![expected.clone()]);
    assert!(expected.starts_with("\x1b]52;c;"), "{expected:?}");
    assert!(
        h.log_text()
            .contains("Copied code block [1] (yaml, 4 lines) to the clipboard (OSC 52"),
        "{}",
        h.log_text()
    );
    // ] selects the next block; c copies that one.
    h.keys("]c").await;
    assert_eq!(h.runner.clipboard.requests.len(), 2);
    assert_eq!(
        h.runner.clipboard.requests[1],
        oplab::tui::runner::osc52("kubectl create namespace crontabs\n")
    );
    insta::assert_snapshot!("copy", h.screen());
}

#[tokio::test]
async fn hints_are_revealed_one_at_a_time_and_saved() {
    let mut h = harness(100, 30);
    h.keys("h").await;
    let screen = h.screen();
    assert!(screen.contains("hint 1:"), "{screen}");
    assert!(!screen.contains("hint 2:"), "{screen}");
    insta::assert_snapshot!("hint", screen);
    h.keys("hh").await;
    assert!(h.log_text().contains("No more hints"));
    let saved = std::fs::read_to_string(&h.progress).expect("progress saved");
    assert!(saved.contains("\"crd-vocabulary\": 2"), "{saved}");
}

#[tokio::test]
async fn the_solution_needs_confirmation() {
    let mut h = harness(100, 30);
    h.keys("s").await;
    let screen = h.screen();
    assert!(screen.contains("Show the solution"), "{screen}");
    insta::assert_snapshot!("solution_confirm", screen);
    h.keys("n").await;
    assert!(!h.screen().contains("solution:"));
    h.keys("sy").await;
    let screen = h.screen();
    assert!(screen.contains("solution:"), "{screen}");
    assert!(
        screen.contains("A CustomResourceDefinition named"),
        "{screen}"
    );
    // x asks before resetting, and then forgets the solution.
    h.keys("xy").await;
    assert!(!h.screen().contains("solution:"));
}

#[tokio::test]
async fn resizes_from_80x24_to_160x50() {
    let mut h = harness(100, 30);
    h.keys("n").await;
    h.resize(80, 24).await;
    let small = h.screen();
    assert!(small.contains("Create a namespace"), "{small}");
    assert_eq!(small.lines().count(), 24);
    insta::assert_snapshot!("size_80x24", small);
    // The chapters pane is collapsed but tab brings it up.
    h.keys("<tab><tab><tab>").await;
    assert_eq!(h.runner.app.focus, oplab::tui::Focus::Nav);
    assert!(h.screen().contains("Chapters"));
    h.keys("<esc>").await;
    h.resize(160, 50).await;
    let big = h.screen();
    assert!(big.contains("Chapters") && big.contains("Tasks"), "{big}");
    insta::assert_snapshot!("size_160x50", big);
}

#[tokio::test]
async fn no_color_draws_without_colours() {
    let mut h = harness_with(
        100,
        30,
        Theme::plain(),
        tempfile::tempdir().expect("tempdir"),
    );
    h.keys("nn").await;
    let buf = h.runner.terminal.backend().buffer();
    for cell in buf.content() {
        assert_eq!(cell.fg, Color::Reset, "cell {cell:?}");
        assert_eq!(cell.bg, Color::Reset, "cell {cell:?}");
    }
    insta::assert_snapshot!("no_color", h.screen());
}

#[tokio::test]
async fn features_of_other_issues_say_they_are_not_available_yet() {
    let mut h = harness(100, 30);
    // `a` asks first (listing the objects); without an apply service the confirmed request says so.
    h.keys("nna").await;
    assert!(
        h.screen().contains("Apply to the cluster?"),
        "{}",
        h.screen()
    );
    h.keys("ydvo").await;
    let log = h.log_text();
    for what in [
        "applying manifests",
        "diffing manifests",
        "running probes",
        "toggling the built-in operator",
    ] {
        assert!(
            log.contains(&format!("{what} is not available yet")),
            "{log}"
        );
    }
}

#[tokio::test]
async fn progress_is_restored_at_the_next_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    let mut h = harness_with(100, 30, Theme::colored(), dir);
    h.keys("nnnh").await;
    h.keys("q").await;
    assert!(h.runner.app.should_quit);
    // A new app over the same progress file opens where the last one left.
    let app = App::new(
        oplab::lab::load_embedded(),
        AppConfig {
            theme: Theme::colored(),
            store: ProgressStore::at(path.join("progress.json")),
        },
    );
    assert_eq!((app.lab, app.step), (0, 3));
    assert_eq!(app.progress.hints("custom-resources", "crontab-object"), 1);
}

#[tokio::test]
async fn verdicts_mark_tasks_done_in_the_chapters_pane() {
    let mut h = harness(100, 30);
    h.runner.background.send(AppMessage::Verdict {
        lab: "custom-resources".into(),
        task: "crd-vocabulary".into(),
        verdict: oplab::tui::Verdict::Pass,
    });
    h.keys("").await;
    let screen = h.screen();
    assert!(screen.contains("▶✓ Resources, custom re"), "{screen}");
    assert!(screen.contains("answered right"), "{screen}");
}

#[tokio::test]
async fn lab_diagnostics_go_to_the_log_and_reloads_keep_the_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let labs = dir.path().join("labs");
    std::fs::create_dir(&labs).expect("mkdir");
    let good = include_str!("../../labs/01-custom-resources.md");
    std::fs::write(labs.join("01-custom-resources.md"), good).expect("write");
    std::fs::write(labs.join("09-broken.md"), "---\nid: 1\n---\n# T\n").expect("write");
    let app = App::new(
        oplab::lab::load_dir(&labs),
        AppConfig {
            theme: Theme::plain(),
            store: ProgressStore::at(dir.path().join("progress.json")),
        },
    );
    let (bg, rx) = Background::new();
    let terminal = Terminal::new(TestBackend::new(100, 30)).expect("test terminal");
    let mut h = Harness {
        runner: Runner::new(terminal, app, bg, rx, RecordingClipboard::default()),
        progress: dir.path().join("progress.json"),
        _dir: tempfile::tempdir().expect("tempdir"),
    };
    h.keys("nn").await;
    let log = h.log_text();
    assert!(log.contains("09-broken.md:2:"), "{log}");
    assert!(h.screen().contains("Custom resources"));
    // A live reload (as the watcher sends it) keeps the attendee on the same step.
    std::fs::write(labs.join("09-broken.md"), "not a lab any more").expect("write");
    h.runner
        .background
        .send(AppMessage::LabsReloaded(oplab::lab::load_dir(&labs)));
    h.keys("").await;
    assert!(h.log_text().contains("Labs changed on disk; reloaded."));
    assert!(h.screen().contains("step 3/7"), "{}", h.screen());
}

#[tokio::test]
async fn editor_opens_types_saves_and_shows_the_edit() {
    let mut h = harness(100, 30);
    // Step 3 of chapter 1: the editable CRD block.
    h.keys("nn]e").await;
    let screen = h.screen();
    assert!(screen.contains("Edit crontab-crd"), "{screen}");
    assert!(screen.contains("YAML ok"), "{screen}");
    assert!(screen.contains("esc discard the edit"), "{screen}");
    // Global keys go to the text: q, n, p do not quit or move.
    h.keys("<down><down><down><down><down><down><down><down><down><down>  # qnp edited")
        .await;
    assert!(!h.runner.app.should_quit);
    assert_eq!(h.runner.app.step, 2);
    let screen = h.screen();
    assert!(screen.contains("# qnp edited"), "{screen}");
    h.keys("<c-s>").await;
    assert!(h.runner.app.editor.is_none());
    let lab = h.runner.app.labs[0].id.clone();
    let saved = h.runner.app.progress.lab(&lab).expect("lab progress").edits["crontab-crd"].clone();
    assert!(saved.contains("  # qnp edited"), "{saved}");
    assert!(
        saved.starts_with("apiVersion: apiextensions.k8s.io/v1\n"),
        "{saved}"
    );
    // Persisted in the progress file, and the content pane shows the edited text.
    let file = std::fs::read_to_string(&h.progress).expect("progress file");
    assert!(file.contains("qnp edited"), "{file}");
    let screen = h.screen();
    assert!(screen.contains("# qnp edited"), "{screen}");
    assert!(
        h.log_text().contains("Edit of crontab-crd saved"),
        "{}",
        h.log_text()
    );
    // `a` applies the edited text: its confirmation is for the same object.
    h.keys("a").await;
    assert!(
        matches!(&h.runner.app.confirm, Some(oplab::tui::app::Confirm::Apply { block, .. }) if block.text == saved),
        "apply does not use the edited text"
    );
    h.keys("n").await;
    // `x` resets the step, saved edits included.
    h.keys("xy").await;
    let edits = &h.runner.app.progress.lab(&lab).expect("lab progress").edits;
    assert!(
        !edits.contains_key("crontab-crd"),
        "the edit survived a reset: {edits:?}"
    );
    assert!(!h.screen().contains("# qnp edited"), "{}", h.screen());
}

#[tokio::test]
async fn editor_esc_discards_and_shows_yaml_errors_with_their_line() {
    let mut h = harness(100, 30);
    h.keys("nn]e<down><down><down>[").await;
    let ed = h.runner.app.editor.as_ref().expect("editor open");
    let (line, msg) = ed.error.clone().expect("a YAML error");
    // The unclosed `[` on line 4 is found where the flow ends: line 14 of the block.
    assert_eq!(line, 14, "{msg}");
    let screen = h.screen();
    assert!(screen.contains("line 14: invalid YAML"), "{screen}");
    h.keys("<bs>").await;
    assert!(h.runner.app.editor.as_ref().expect("open").error.is_none());
    h.keys("xyz<esc>").await;
    assert!(h.runner.app.editor.is_none());
    assert!(h.log_text().contains("Edit discarded"), "{}", h.log_text());
    let lab = h.runner.app.labs[0].id.clone();
    assert!(
        h.runner
            .app
            .progress
            .lab(&lab)
            .is_none_or(|p| p.edits.is_empty()),
        "esc saved the edit"
    );
    assert!(!h.screen().contains("xyz"));
}

#[tokio::test]
async fn non_editable_blocks_do_not_open_the_editor() {
    let mut h = harness(100, 30);
    // Step 2: the namespace manifest can be applied but not edited.
    h.keys("n]e").await;
    assert!(h.runner.app.editor.is_none());
    assert!(
        h.log_text().contains("This block is not editable"),
        "{}",
        h.log_text()
    );
}

#[tokio::test]
async fn quizzes_are_answered_with_digits_in_the_tasks_pane() {
    let mut h = harness(100, 30);
    let lab = h.runner.app.labs[0].id.clone();
    let step = h.runner.app.labs[0]
        .steps
        .iter()
        .position(|s| s.tasks().any(|t| t.id == "crd-vocabulary"))
        .expect("quiz step");
    h.keys(&"n".repeat(step)).await;
    let sel = h
        .runner
        .app
        .step_tasks()
        .iter()
        .position(|t| t.id == "crd-vocabulary")
        .expect("task");
    // Digits do nothing outside the tasks pane.
    h.keys("1").await;
    assert!(!h.runner.app.progress.is_done(&lab, "crd-vocabulary"));
    h.keys(&format!("<tab>{}", "j".repeat(sel))).await;
    h.keys("2").await;
    assert!(h.log_text().contains("Not quite"), "{}", h.log_text());
    assert!(!h.runner.app.progress.is_done(&lab, "crd-vocabulary"));
    h.keys("1").await;
    assert!(h.runner.app.progress.is_done(&lab, "crd-vocabulary"));
    assert_eq!(
        h.runner.app.verdict("crd-vocabulary"),
        oplab::tui::Verdict::Pass
    );
    let file = std::fs::read_to_string(&h.progress).expect("progress file");
    assert!(file.contains("crd-vocabulary"), "{file}");
}
