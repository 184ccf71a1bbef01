//! Messages from background work to the UI: the only way anything outside the UI changes its state.

use crate::lab::LabSet;
use std::path::PathBuf;
use std::sync::Arc;

use super::highlight::Highlighter;

/// What the UI knows about the cluster connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ClusterState {
    /// Looking for a cluster (kubeconfig, probe) or starting the sandbox.
    #[default]
    Connecting,
    /// A cluster from the kubeconfig answered.
    Connected {
        /// The kubeconfig context (or the server URL when there is no context name).
        context: String,
        /// Kubernetes version reported by `/version`.
        version: String,
    },
    /// The in-process sandbox cluster is running.
    Sandbox {
        url: String,
        /// Where its kubeconfig was written, for `kubectl`.
        kubeconfig: Option<PathBuf>,
    },
    /// Connection lost or never made; the reason is shown.
    Disconnected { reason: String },
}

/// How important a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// One line of the log pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: Level,
    /// Who wrote it: `oplab`, `cluster`, `labs`, later `apply`, `operator`, `checks`.
    pub source: &'static str,
    pub text: String,
}

impl LogLine {
    pub fn info(source: &'static str, text: impl Into<String>) -> Self {
        Self {
            level: Level::Info,
            source,
            text: text.into(),
        }
    }

    pub fn warn(source: &'static str, text: impl Into<String>) -> Self {
        Self {
            level: Level::Warn,
            source,
            text: text.into(),
        }
    }

    pub fn error(source: &'static str, text: impl Into<String>) -> Self {
        Self {
            level: Level::Error,
            source,
            text: text.into(),
        }
    }
}

/// The verdict of a task's check (streamed by the checks engine, issue 7).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Verdict {
    /// Not evaluated yet.
    #[default]
    Unknown,
    Pass,
    Fail(String),
    /// The check cannot run here (e.g. exec on the sandbox), with the reason.
    CannotCheck(String),
}

/// Everything background work can tell the UI.
pub enum AppMessage {
    /// The cluster connection changed.
    Cluster(ClusterState),
    /// A client for the cluster that is now in use (for apply, checks and the operator).
    Client(kube::Client),
    /// A line for the log pane.
    Log(LogLine),
    /// `--labs DIR` changed on disk and was loaded again.
    LabsReloaded(LabSet),
    /// Syntax highlighting finished loading (it loads after the first frame).
    Highlighter(Arc<Highlighter>),
    /// A task's check has a new verdict.
    Verdict {
        lab: String,
        task: String,
        verdict: Verdict,
    },
    /// The unified diff of a manifest against the cluster (empty: no changes).
    Diff { title: String, text: String },
    /// What the attendee may do in each instructor step (asked again on every reconnect).
    InstructorSteps(Vec<StepAccess>),
    /// The cluster in use is new (a sandbox with no kept state): done ticks in the progress file
    /// are from an earlier cluster.
    NewCluster,
    /// Output of a terminal pane's shell, or its exit (see [`super::terminal`]).
    Terminal(super::terminal::TermEvent),
    /// The built-in operator's state changed (for the status bar).
    Operator(super::status::OperatorState),
}

/// Whether the attendee may carry out an instructor step themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepAccess {
    pub lab: String,
    /// Index of the step in the lab.
    pub step: usize,
    /// The rights the attendee lacks, in words (`create customresourcedefinitions… cluster-wide`);
    /// empty when they may do the step.
    pub denied: Vec<String>,
}

impl std::fmt::Debug for AppMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cluster(s) => f.debug_tuple("Cluster").field(s).finish(),
            Self::Client(_) => f.write_str("Client(..)"),
            Self::Log(l) => f.debug_tuple("Log").field(l).finish(),
            Self::LabsReloaded(s) => write!(f, "LabsReloaded({} labs)", s.labs.len()),
            Self::Highlighter(_) => f.write_str("Highlighter(..)"),
            Self::Verdict { lab, task, verdict } => f
                .debug_struct("Verdict")
                .field("lab", lab)
                .field("task", task)
                .field("verdict", verdict)
                .finish(),
            Self::Diff { title, text } => f
                .debug_struct("Diff")
                .field("title", title)
                .field("text", text)
                .finish(),
            Self::InstructorSteps(s) => f.debug_tuple("InstructorSteps").field(s).finish(),
            Self::NewCluster => f.write_str("NewCluster"),
            Self::Terminal(e) => f.debug_tuple("Terminal").field(e).finish(),
            Self::Operator(s) => f.debug_tuple("Operator").field(s).finish(),
        }
    }
}

impl From<LogLine> for AppMessage {
    fn from(line: LogLine) -> Self {
        Self::Log(line)
    }
}
