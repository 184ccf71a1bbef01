//! The board view's state and its keys (k9s style): `j`/`k` rows, `h`/`l` tasks, `s` sort, `/`
//! filter, `enter` one attendee's details, `?` help, `esc` back, `q` quit.

use crate::classroom::snapshot::{Row, Snapshot};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::sync::Arc;

/// What the screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Board,
    /// One attendee's tasks, scrolled by this many lines.
    Detail {
        name: String,
        scroll: usize,
    },
    Help,
}

/// Row order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Name,
    /// Most tasks passed first, then by name.
    Progress,
}

/// The whole state of the board view.
#[derive(Debug, Clone)]
pub struct BoardView {
    pub snapshot: Option<Arc<Snapshot>>,
    pub screen: Screen,
    pub sort: Sort,
    /// Rows whose name contains this.
    pub filter: String,
    /// Typing the filter.
    pub editing_filter: bool,
    /// Selected attendee (by name, so it survives new snapshots and re-sorting).
    pub selected: Option<String>,
    /// Selected task column.
    pub column: usize,
    /// First row shown.
    pub offset: usize,
    pub should_quit: bool,
}

impl Default for BoardView {
    fn default() -> Self {
        Self {
            snapshot: None,
            screen: Screen::Board,
            sort: Sort::Name,
            filter: String::new(),
            editing_filter: false,
            selected: None,
            column: 0,
            offset: 0,
            should_quit: false,
        }
    }
}

impl BoardView {
    /// Takes a new snapshot from the board engine.
    pub fn update(&mut self, snapshot: Arc<Snapshot>) {
        self.snapshot = Some(snapshot);
        let names: Vec<String> = self.rows().iter().map(|r| r.name.clone()).collect();
        if self.selected.as_ref().is_none_or(|s| !names.contains(s)) {
            self.selected = names.first().cloned();
        }
        let tasks = self.snapshot.as_ref().map_or(0, |s| s.tasks.len());
        self.column = self.column.min(tasks.saturating_sub(1));
    }

    /// The rows shown: filtered, then sorted.
    pub fn rows(&self) -> Vec<&Row> {
        let Some(s) = &self.snapshot else {
            return Vec::new();
        };
        let mut rows: Vec<&Row> = s
            .rows
            .iter()
            .filter(|r| r.name.contains(self.filter.as_str()))
            .collect();
        if self.sort == Sort::Progress {
            rows.sort_by(|a, b| b.passed().cmp(&a.passed()).then(a.name.cmp(&b.name)));
        }
        rows
    }

    fn selected_index(&self) -> usize {
        let rows = self.rows();
        self.selected
            .as_ref()
            .and_then(|s| rows.iter().position(|r| &r.name == s))
            .unwrap_or(0)
    }

    fn select(&mut self, i: usize) {
        let name = self.rows().get(i).map(|r| r.name.clone());
        if name.is_some() {
            self.selected = name;
        }
    }

    /// Keeps the selected row inside a window of `height` rows.
    pub fn scroll_into_view(&mut self, height: usize) {
        let i = self.selected_index();
        if i < self.offset {
            self.offset = i;
        } else if height > 0 && i >= self.offset + height {
            self.offset = i + 1 - height;
        }
        let max = self.rows().len().saturating_sub(height.max(1));
        self.offset = self.offset.min(max);
    }

    /// Handles a terminal event.
    pub fn handle(&mut self, ev: &Event) {
        if let Event::Key(key) = ev
            && key.kind != KeyEventKind::Release
        {
            self.key(key);
        }
    }

    fn key(&mut self, key: &KeyEvent) {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.should_quit = true;
            return;
        }
        if self.editing_filter {
            match key.code {
                KeyCode::Esc => {
                    self.filter.clear();
                    self.editing_filter = false;
                }
                KeyCode::Enter => self.editing_filter = false,
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) => self.filter.push(c),
                _ => {}
            }
            self.offset = 0;
            self.select(0);
            return;
        }
        match (&mut self.screen, key.code) {
            (_, KeyCode::Char('q')) => self.should_quit = true,
            (Screen::Help, KeyCode::Esc | KeyCode::Char('?') | KeyCode::Enter) => {
                self.screen = Screen::Board;
            }
            (Screen::Detail { .. }, KeyCode::Esc) => self.screen = Screen::Board,
            (Screen::Detail { scroll, .. }, KeyCode::Char('j') | KeyCode::Down) => *scroll += 1,
            (Screen::Detail { scroll, .. }, KeyCode::Char('k') | KeyCode::Up) => {
                *scroll = scroll.saturating_sub(1);
            }
            (Screen::Board, KeyCode::Char('j') | KeyCode::Down) => {
                self.select(self.selected_index() + 1);
            }
            (Screen::Board, KeyCode::Char('k') | KeyCode::Up) => {
                self.select(self.selected_index().saturating_sub(1));
            }
            (Screen::Board, KeyCode::Char('l') | KeyCode::Right) => {
                let n = self.snapshot.as_ref().map_or(0, |s| s.tasks.len());
                self.column = (self.column + 1).min(n.saturating_sub(1));
            }
            (Screen::Board, KeyCode::Char('h') | KeyCode::Left) => {
                self.column = self.column.saturating_sub(1);
            }
            (Screen::Board, KeyCode::Char('s')) => {
                self.sort = match self.sort {
                    Sort::Name => Sort::Progress,
                    Sort::Progress => Sort::Name,
                };
            }
            (Screen::Board, KeyCode::Char('/')) => self.editing_filter = true,
            (Screen::Board, KeyCode::Esc) if !self.filter.is_empty() => self.filter.clear(),
            (Screen::Board, KeyCode::Enter) => {
                if let Some(name) = self.selected.clone()
                    && self.rows().iter().any(|r| r.name == name)
                {
                    self.screen = Screen::Detail { name, scroll: 0 };
                }
            }
            (Screen::Board | Screen::Detail { .. }, KeyCode::Char('?')) => {
                self.screen = Screen::Help
            }
            _ => {}
        }
    }
}
