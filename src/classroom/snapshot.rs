//! What the board shows at one moment: the task columns, one row per attendee, the shared tasks.

use std::sync::Arc;

/// How a task is shown on the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// Done by each attendee in their own namespaces: one cell per attendee.
    Attendee,
    /// A quiz: answered in the attendee's TUI, nothing on the cluster tells the answer.
    Quiz,
    /// A task whose check is the same for everyone (an instructor step's CRD): evaluated once.
    Shared,
}

/// A task of the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub lab: String,
    pub task: String,
    pub title: String,
    pub kind: TaskKind,
    /// In a step marked `(instructor)`.
    pub instructor: bool,
}

/// The state of one task for one attendee (or of a shared task).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Pass,
    /// Started (some object the check looks for exists) but not done: why.
    Fail(Arc<str>),
    /// Nothing the check looks for exists yet: why it does not pass.
    NotStarted(Arc<str>),
    /// The cluster cannot tell: a quiz, a probe or exec check (run only on request), a kind the
    /// board may not watch.
    NotGradable(Arc<str>),
    /// A watch the check reads is down or still listing: no verdict.
    Unknown(Arc<str>),
}

impl Cell {
    /// `pass`, `fail`, `not-started`, `not-gradable` or `unknown`.
    pub fn status(&self) -> &'static str {
        match self {
            Cell::Pass => "pass",
            Cell::Fail(_) => "fail",
            Cell::NotStarted(_) => "not-started",
            Cell::NotGradable(_) => "not-gradable",
            Cell::Unknown(_) => "unknown",
        }
    }

    /// Why the task does not pass; empty for a pass.
    pub fn reason(&self) -> &str {
        match self {
            Cell::Pass => "",
            Cell::Fail(r) | Cell::NotStarted(r) | Cell::NotGradable(r) | Cell::Unknown(r) => r,
        }
    }

    /// One character for the grid.
    pub fn glyph(&self) -> char {
        match self {
            Cell::Pass => '✓',
            Cell::Fail(_) => '✗',
            Cell::NotStarted(_) => '·',
            Cell::NotGradable(_) => '?',
            Cell::Unknown(_) => '~',
        }
    }

    pub fn is_pass(&self) -> bool {
        matches!(self, Cell::Pass)
    }
}

/// One attendee: a cell per per-attendee task of [`Snapshot::tasks`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    pub cells: Vec<Cell>,
    /// The tasks' titles as this attendee reads them (their namespaces), by column; empty: the
    /// columns' own titles.
    pub titles: Vec<String>,
}

impl Row {
    /// The title of column `i` for this attendee.
    pub fn title<'a>(&'a self, i: usize, column: &'a Column) -> &'a str {
        self.titles
            .get(i)
            .map_or(column.title.as_str(), String::as_str)
    }
}

impl Row {
    /// Tasks passed.
    pub fn passed(&self) -> usize {
        self.cells.iter().filter(|c| c.is_pass()).count()
    }
}

/// Whether the board's watches are current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Discovery or the first list of some watch is not finished.
    Connecting,
    /// Every watch is listed and watching.
    Live,
    /// A watch is down and retrying: why.
    Reconnecting(String),
}

impl std::fmt::Display for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Connection::Connecting => f.write_str("connecting"),
            Connection::Live => f.write_str("live"),
            Connection::Reconnecting(why) => write!(f, "reconnecting: {why}"),
        }
    }
}

/// The whole board at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Per-attendee tasks (attendee tasks and quizzes), in lab order: the grid's columns.
    pub tasks: Vec<Column>,
    /// Attendees, by name.
    pub rows: Vec<Row>,
    /// Tasks that are the same for everyone (instructor steps' CRDs...), each evaluated once.
    pub shared: Vec<(Column, Cell)>,
    pub connection: Connection,
    /// Watches open (one per kind).
    pub watches: usize,
}

impl Snapshot {
    /// No tasks, no attendees, still connecting.
    pub fn empty() -> Self {
        Self {
            tasks: Vec::new(),
            rows: Vec::new(),
            shared: Vec::new(),
            connection: Connection::Connecting,
            watches: 0,
        }
    }

    /// How many attendees pass each task of [`Snapshot::tasks`].
    pub fn done(&self) -> Vec<usize> {
        (0..self.tasks.len())
            .map(|t| self.rows.iter().filter(|r| r.cells[t].is_pass()).count())
            .collect()
    }

    /// The number of tasks the cluster can grade for each attendee.
    pub fn gradable(&self) -> usize {
        self.tasks
            .iter()
            .filter(|c| c.kind == TaskKind::Attendee)
            .count()
    }

    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// The cell of one attendee's task, by lab and task id.
    pub fn cell(&self, attendee: &str, lab: &str, task: &str) -> Option<&Cell> {
        let t = self
            .tasks
            .iter()
            .position(|c| c.lab == lab && c.task == task)?;
        self.row(attendee).map(|r| &r.cells[t])
    }
}
