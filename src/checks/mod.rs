//! The check engine: a task's check evaluated live from watches, with a reason when it fails.
//!
//! [`stores`] keeps one shared reflector per (kind, namespace-or-cluster); [`engine`] indexes the
//! active tasks by the stores they read and re-evaluates only those a change touches, streaming
//! [`Verdict`]s; [`eval`] is the pure evaluator; [`actions`] carries out probes and solutions;
//! [`selftest`] is `oplab labs test`; [`report`] prints text, JSON and JUnit.

pub mod actions;
pub mod bundled;
pub mod engine;
pub mod eval;
pub mod exec;
pub mod grading;
pub mod matcher;
pub mod report;
pub mod selftest;
pub mod stores;
pub mod walk;

pub use engine::{Engine, Round, TaskVerdict};
pub use stores::{Scope, Stores, WatchKey};

/// The state of a task's check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Not done (yet): what is missing or different.
    Fail(String),
    /// The check cannot run here (exec on the sandbox, a kind's watch forbidden), with the reason.
    CannotCheck(String),
    /// Not evaluated on purpose: a quiz (answered in the TUI) or a probe not asked for.
    Skipped(String),
    /// A watch the check reads is down or still listing: no verdict, never a stale pass.
    Disconnected(String),
}

impl Verdict {
    pub fn is_pass(&self) -> bool {
        matches!(self, Verdict::Pass)
    }

    /// Short status word: `pass`, `fail`, `cannot-check`, `skipped`, `disconnected`.
    pub fn status(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail(_) => "fail",
            Verdict::CannotCheck(_) => "cannot-check",
            Verdict::Skipped(_) => "skipped",
            Verdict::Disconnected(_) => "disconnected",
        }
    }

    /// The reason, empty for a pass.
    pub fn reason(&self) -> &str {
        match self {
            Verdict::Pass => "",
            Verdict::Fail(r)
            | Verdict::CannotCheck(r)
            | Verdict::Skipped(r)
            | Verdict::Disconnected(r) => r,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Pass => f.write_str("pass"),
            Verdict::Fail(r) => write!(f, "fail: {r}"),
            Verdict::CannotCheck(r) => write!(f, "cannot check: {r}"),
            Verdict::Skipped(r) => write!(f, "skipped: {r}"),
            Verdict::Disconnected(r) => write!(f, "disconnected: {r}"),
        }
    }
}
