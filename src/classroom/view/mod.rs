//! `oplab classroom`: the board in the terminal. The board engine runs in the background and hands
//! snapshots over a watch channel; the loop here waits for a key or a new snapshot and draws, so
//! rendering never waits for the network.

pub mod draw;
pub mod state;

pub use state::{BoardView, Screen, Sort};

use crate::classroom::{Board, Snapshot};
use crate::cluster::connection::Target;
use crate::lab::Lab;
use crate::tui::Theme;
use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The board's main loop, generic over the backend (tests use `TestBackend`).
pub struct BoardRunner<B: Backend> {
    pub terminal: Terminal<B>,
    pub view: BoardView,
    pub theme: Theme,
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
}

impl<B: Backend> BoardRunner<B> {
    pub fn new(
        terminal: Terminal<B>,
        theme: Theme,
        snapshots: watch::Receiver<Arc<Snapshot>>,
    ) -> Self {
        Self {
            terminal,
            view: BoardView::default(),
            theme,
            snapshots,
        }
    }

    pub fn draw(&mut self) -> Result<(), B::Error> {
        let (view, theme) = (&mut self.view, &self.theme);
        self.terminal.draw(|f| draw::draw(f, view, theme))?;
        Ok(())
    }

    /// Takes the newest snapshot if one arrived.
    fn take_snapshot(&mut self) {
        if self.snapshots.has_changed().unwrap_or(false) {
            let s = self.snapshots.borrow_and_update().clone();
            self.view.update(s);
        }
    }

    /// Draws, then handles keys and snapshots until `q` or the end of `events`.
    pub async fn run<S>(&mut self, events: &mut S) -> Result<(), B::Error>
    where
        S: Stream<Item = std::io::Result<Event>> + Unpin,
    {
        self.take_snapshot();
        self.draw()?;
        let mut board_open = true;
        while !self.view.should_quit {
            tokio::select! {
                biased;
                changed = self.snapshots.changed(), if board_open => {
                    if changed.is_err() {
                        board_open = false;
                        continue;
                    }
                    let s = self.snapshots.borrow_and_update().clone();
                    self.view.update(s);
                }
                ev = events.next() => match ev {
                    Some(Ok(ev)) => {
                        if matches!(ev, Event::Resize(..)) {
                            self.terminal.autoresize()?;
                        }
                        self.view.handle(&ev);
                    }
                    Some(Err(_)) => continue,
                    None => break,
                },
            }
            if !self.view.should_quit {
                self.draw()?;
            }
        }
        Ok(())
    }
}

/// Runs the board on the real terminal until `q`; the terminal is restored on every path.
pub fn run(target: Target, labs: Vec<Lab>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    // Connect before taking the terminal, so a wrong context is a plain error message.
    let conn = runtime.block_on(target.connect())?;
    crate::tui::on_terminal(runtime, |terminal| async move {
        let (tx, rx) = watch::channel(Arc::new(Snapshot::empty()));
        let cancel = CancellationToken::new();
        let board = Board::new(conn.client.clone(), labs);
        let engine = tokio::spawn(board.run(Duration::from_secs(30), tx, cancel.clone()));
        let mut runner = BoardRunner::new(terminal, Theme::from_env(), rx);
        runner.view.snapshot = None;
        let mut events = crossterm::event::EventStream::new();
        let result = runner.run(&mut events).await;
        cancel.cancel();
        let _ = engine.await;
        result
    })
}
