//! The classroom board's TUI: the real loop on a `TestBackend`, fed a fixed snapshot over the
//! channel the board engine uses, driven by scripted keys (no network).

use crate::common;

use common::tui::{buffer_text, events};
use oplab::classroom::board::columns;
use oplab::classroom::view::{BoardRunner, Screen, Sort};
use oplab::classroom::{Cell, Connection, Row, Snapshot, TaskKind};
use oplab::tui::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use tokio::sync::watch;

/// Six attendees at different points of the labs.
fn snapshot() -> Snapshot {
    let (tasks, shared) = columns(&oplab::lab::load_embedded().labs);
    let progress = [
        ("alice", 9),
        ("bob", 2),
        ("carol", 0),
        ("dave", 14),
        ("erin", 5),
        ("frank-the-late", 1),
    ];
    let rows = progress
        .iter()
        .map(|&(name, done)| {
            let mut graded = 0;
            let cells = tasks
                .iter()
                .map(|c| {
                    if c.kind == TaskKind::Quiz {
                        return Cell::NotGradable("a quiz".into());
                    }
                    graded += 1;
                    match graded.cmp(&(done + 1)) {
                        std::cmp::Ordering::Less => Cell::Pass,
                        std::cmp::Ordering::Equal if done > 0 => Cell::Fail(
                            format!("{} {}: spec.replicas is 3, want 2", c.lab, c.task).into(),
                        ),
                        _ => Cell::NotStarted(format!("{} not found", c.task).into()),
                    }
                })
                .collect();
            Row {
                name: name.into(),
                cells,
                titles: Vec::new(),
            }
        })
        .collect();
    let shared = shared
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let cell = if i % 2 == 0 {
                Cell::Pass
            } else {
                Cell::NotStarted("Deployment olm-operator in olm not found".into())
            };
            (c, cell)
        })
        .collect();
    Snapshot {
        tasks,
        rows,
        shared,
        connection: Connection::Live,
        watches: 12,
    }
}

struct Harness {
    runner: BoardRunner<TestBackend>,
    tx: watch::Sender<Arc<Snapshot>>,
}

fn harness(w: u16, h: u16) -> Harness {
    let (tx, rx) = watch::channel(Arc::new(Snapshot::empty()));
    let terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    Harness {
        runner: BoardRunner::new(terminal, Theme::plain(), rx),
        tx,
    }
}

impl Harness {
    async fn keys(&mut self, keys: &str) {
        let mut stream = futures::stream::iter(events(keys));
        self.runner.run(&mut stream).await.expect("loop");
    }

    fn screen(&self) -> String {
        buffer_text(self.runner.terminal.backend().buffer(), "|\n")
    }
}

#[tokio::test]
async fn waits_for_the_first_snapshot_without_blocking() {
    let mut h = harness(80, 24);
    h.keys("").await;
    assert!(
        h.screen().contains("Connecting to the cluster"),
        "{}",
        h.screen()
    );
    h.tx.send_replace(Arc::new(snapshot()));
    h.keys("").await;
    assert!(h.screen().contains("6 attendees"), "{}", h.screen());
}

#[tokio::test]
async fn board_sorted_filtered_detail_and_help_at_80x24() {
    let mut h = harness(80, 24);
    h.tx.send_replace(Arc::new(snapshot()));
    h.keys("").await;
    insta::assert_snapshot!("board_80x24", h.screen());

    h.keys("s").await;
    assert_eq!(h.runner.view.sort, Sort::Progress);
    let screen = h.screen();
    let dave = screen.find(" dave").expect("dave");
    let carol = screen.find(" carol").expect("carol");
    assert!(dave < carol, "most done first:\n{screen}");
    insta::assert_snapshot!("board_sorted_80x24", screen);

    h.keys("/er<enter>").await;
    insta::assert_snapshot!("board_filtered_80x24", h.screen());
    assert!(!h.screen().contains(" alice"));

    h.keys("<esc>s").await;
    h.keys("kkklll").await;
    h.keys("<enter>").await;
    assert!(matches!(&h.runner.view.screen, Screen::Detail { name, .. } if name == "bob"));
    insta::assert_snapshot!("detail_bob_80x24", h.screen());

    h.keys("<esc>?").await;
    insta::assert_snapshot!("help_80x24", h.screen());
    h.keys("<esc>q").await;
    assert!(h.runner.view.should_quit);
}

#[tokio::test]
async fn wide_board_and_live_update() {
    let mut h = harness(140, 30);
    h.tx.send_replace(Arc::new(snapshot()));
    h.keys("").await;
    insta::assert_snapshot!("board_140x30", h.screen());

    // A new snapshot (carol finished a task, a watch dropped) shows without a key.
    let mut s = snapshot();
    s.rows[2].cells[0] = Cell::Pass;
    s.connection = Connection::Reconnecting("watch of v1 Pod (cluster): connection reset".into());
    h.tx.send_replace(Arc::new(s));
    h.keys("").await;
    let screen = h.screen();
    assert!(screen.contains("reconnecting"), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with(" carol") && l.contains(" 1/18 ✓")),
        "{screen}"
    );
}
