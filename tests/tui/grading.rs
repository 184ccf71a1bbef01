//! Grading in the TUI: pick-all quizzes show their picks, submit on enter and never tell how many
//! answers are right; answers and done records are saved for `oplab check`; a task shows done and
//! now without contradiction; the step that grades the attendee's own operator switches the
//! built-in one off.

use crate::snapshots::harness_with;
use oplab::tui::status::OperatorState;
use oplab::tui::{AppMessage, Progress, Theme, Verdict};

/// Keys that open the step of `lab` (order) holding `task`, focus the tasks pane and select it.
fn keys_to(h: &crate::snapshots::Harness, order: usize, task: &str) -> String {
    let lab = &h.runner.app.labs[order - 1];
    let step = lab
        .steps
        .iter()
        .position(|s| s.tasks().any(|t| t.id == task))
        .expect("step");
    let sel = lab.steps[step]
        .tasks()
        .position(|t| t.id == task)
        .expect("task");
    format!(
        ":lab {order}<enter>{}<tab>{}",
        "n".repeat(step),
        "j".repeat(sel)
    )
}

#[tokio::test]
async fn pick_all_shows_picks_submits_on_enter_and_keeps_them_when_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("progress.json");
    let mut h = harness_with(100, 40, Theme::plain(), dir);
    let keys = keys_to(&h, 3, "gordon-api-calls");
    h.keys(&keys).await;
    let lab = "gordon-operator";
    // all four right answers picked: nothing is graded until enter
    h.keys("1234").await;
    assert!(!h.runner.app.progress.is_done(lab, "gordon-api-calls"));
    let screen = h.screen();
    assert!(
        screen.contains("[x] 1)") && screen.contains("[x] 4)"),
        "{screen}"
    );
    assert!(screen.contains("[ ] 5)"), "{screen}");
    let log = h.log_text();
    assert!(
        !log.contains("correct answers"),
        "the log tells the count: {log}"
    );
    assert!(log.contains("press enter to submit"), "{log}");
    // a wrong submission (one too many) keeps the picks
    h.keys("5<enter>").await;
    assert!(h.log_text().contains("Not quite"), "{}", h.log_text());
    assert!(!h.runner.app.progress.is_done(lab, "gordon-api-calls"));
    assert_eq!(h.runner.app.picks(lab, "gordon-api-calls"), [0, 1, 2, 3, 4]);
    assert!(h.screen().contains("[x] 5)"), "{}", h.screen());
    // unpick the wrong one and submit
    h.keys("5<enter>").await;
    assert!(h.runner.app.progress.is_done(lab, "gordon-api-calls"));
    let saved = Progress::read_only(&file)
        .expect("readable")
        .expect("saved");
    assert_eq!(
        saved.answer(lab, "gordon-api-calls"),
        Some(&[0, 1, 2, 3][..])
    );
    let record = saved
        .done_record(lab, "gordon-api-calls")
        .expect("done record");
    assert!(record.at.ends_with('Z'), "{record:?}");
    // the engine's "not answered here" for a quiz never contradicts the answer
    h.runner.background.send(AppMessage::Verdict {
        lab: lab.into(),
        task: "gordon-api-calls".into(),
        verdict: Verdict::CannotCheck("a quiz: not answered here".into()),
    });
    h.keys("").await;
    let screen = h.screen();
    assert!(screen.contains("answered right"), "{screen}");
    assert!(!screen.contains("not answered here"), "{screen}");
}

#[tokio::test]
async fn a_task_shows_done_and_now_without_contradiction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness_with(120, 40, Theme::plain(), dir);
    let keys = keys_to(&h, 3, "gordon-example");
    h.keys(&keys).await;
    let send = |h: &crate::snapshots::Harness, v: Verdict| {
        h.runner.background.send(AppMessage::Verdict {
            lab: "gordon-operator".into(),
            task: "gordon-example".into(),
            verdict: v,
        })
    };
    send(&h, Verdict::Pass);
    h.keys("").await;
    assert!(h.screen().contains("now: passes"), "{}", h.screen());
    send(&h, Verdict::Fail("want at least 3 pods, found 1".into()));
    h.keys("").await;
    let screen = h.screen();
    assert!(screen.contains("[x]"), "{screen}");
    assert!(
        screen.contains("done ") && screen.contains("now: want at least 3"),
        "{screen}"
    );
    assert!(
        !screen.contains("not yet:"),
        "done and failing at once: {screen}"
    );
}

#[tokio::test]
async fn the_own_operator_step_switches_the_built_in_operator_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness_with(100, 40, Theme::plain(), dir);
    h.runner.app.operator = OperatorState::Running;
    let keys = keys_to(&h, 3, "gordon-delete");
    h.keys(&keys).await;
    assert!(!h.log_text().contains("switched its built-in operator off"));
    h.keys("n").await;
    assert!(h.runner.app.own_operator_step());
    let log = h.log_text();
    assert!(log.contains("switched its built-in operator off"), "{log}");
    let step = h.runner.app.current_step().expect("step");
    assert!(step.title.contains("own operator"), "{}", step.title);
}
