//! The terminal pane: shells on PTYs beside the lab (issue 15).
//!
//! The app holds only the screens ([`Pane`], a `vt100` parser per tab, fed by [`TermEvent`] messages);
//! the PTYs and processes live in [`service::TerminalService`], which the app drives with
//! [`ShellRequest`]s. Output reaches the UI only as messages, so drawing never waits on a shell.

pub mod draw;
pub mod env;
pub mod keys;
pub mod service;

pub use service::TerminalService;
pub use tui_term::vt100;

/// Lines of scrollback each shell keeps.
pub const SCROLLBACK: usize = 5000;

/// What a shell tells the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermEvent {
    /// Bytes the shell wrote.
    Output { id: u32, bytes: Vec<u8> },
    /// The shell ended (its status in words) or could not start.
    Exited { id: u32, status: String },
}

/// What the UI asks of the shells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellRequest {
    /// Start `$SHELL` on a PTY of `rows` x `cols` with `env` added to oplab's environment.
    Open {
        id: u32,
        rows: u16,
        cols: u16,
        env: Vec<(String, String)>,
    },
    Input {
        id: u32,
        bytes: Vec<u8>,
    },
    Resize {
        id: u32,
        rows: u16,
        cols: u16,
    },
}

/// Where the pane goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Placement {
    /// Beside the lab (wide screens), falling back to below when there is no room.
    #[default]
    Side,
    Below,
}

impl Placement {
    pub fn name(self) -> &'static str {
        match self {
            Self::Side => "side",
            Self::Below => "below",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "side" => Some(Self::Side),
            "below" => Some(Self::Below),
            _ => None,
        }
    }
}

/// One shell's screen.
pub struct Tab {
    pub id: u32,
    pub parser: vt100::Parser,
    /// Rows scrolled back from the live screen.
    pub scrollback: usize,
}

impl Tab {
    pub fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }
}

/// The terminal pane's state: its shells, which one shows, focus and placement.
#[derive(Default)]
pub struct Pane {
    pub tabs: Vec<Tab>,
    pub active: usize,
    /// Keys go to the shell.
    pub focused: bool,
    pub placement: Placement,
    /// The pane fills the screen (the toggle for small terminals).
    pub full: bool,
    next_id: u32,
    /// The size of the shell's area at the last layout (rows, cols).
    pub size: Option<(u16, u16)>,
    /// A code block to paste once the new shell has drawn its prompt.
    pub pending_paste: Option<String>,
    /// A command oplab itself runs once the new shell is ready (`:python`).
    pub pending_command: Option<String>,
}

impl Pane {
    pub fn is_open(&self) -> bool {
        !self.tabs.is_empty()
    }

    pub fn active_tab(&self) -> Option<&Tab> {
        self.tabs.get(self.active)
    }

    pub fn active_tab_mut(&mut self) -> Option<&mut Tab> {
        self.tabs.get_mut(self.active)
    }

    /// Adds a tab for a new shell and returns its id and size.
    pub fn add_tab(&mut self) -> (u32, u16, u16) {
        self.next_id += 1;
        let id = self.next_id;
        let (rows, cols) = self.size.unwrap_or((24, 80));
        self.tabs.push(Tab {
            id,
            parser: vt100::Parser::new(rows, cols, SCROLLBACK),
            scrollback: 0,
        });
        self.active = self.tabs.len() - 1;
        (id, rows, cols)
    }

    /// Feeds a shell's output to its screen; `false` when the tab is gone.
    pub fn output(&mut self, id: u32, bytes: &[u8]) -> bool {
        match self.tabs.iter_mut().find(|t| t.id == id) {
            Some(t) => {
                t.parser.process(bytes);
                // New output while scrolled back keeps the same rows in view.
                if t.scrollback > 0 {
                    let back = t.scrollback;
                    t.parser.screen_mut().set_scrollback(back);
                    t.scrollback = t.parser.screen().scrollback();
                }
                true
            }
            None => false,
        }
    }

    /// Removes an ended shell's tab; returns its index when it was there.
    pub fn remove(&mut self, id: u32) -> Option<usize> {
        let i = self.tabs.iter().position(|t| t.id == id)?;
        self.tabs.remove(i);
        if self.active >= self.tabs.len() {
            self.active = self.tabs.len().saturating_sub(1);
        }
        if self.tabs.is_empty() {
            self.focused = false;
            self.full = false;
        }
        Some(i)
    }

    /// Scrolls the active shell back (positive) or forward; returns the rows now scrolled back.
    pub fn scroll(&mut self, delta: isize) -> usize {
        let Some(t) = self.active_tab_mut() else {
            return 0;
        };
        let want = t.scrollback.saturating_add_signed(delta);
        t.parser.screen_mut().set_scrollback(want);
        t.scrollback = t.parser.screen().scrollback();
        t.scrollback
    }

    /// Sets every screen to `rows` x `cols`; returns the resize requests for the shells that changed.
    pub fn resize(&mut self, rows: u16, cols: u16) -> Vec<ShellRequest> {
        let (rows, cols) = (rows.max(2), cols.max(10));
        self.size = Some((rows, cols));
        let mut out = Vec::new();
        for t in &mut self.tabs {
            if t.parser.screen().size() != (rows, cols) {
                t.parser.screen_mut().set_size(rows, cols);
                out.push(ShellRequest::Resize {
                    id: t.id,
                    rows,
                    cols,
                });
            }
        }
        out
    }
}
