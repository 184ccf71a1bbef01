//! What the status bar says besides the cluster: the built-in operator's state (issue 18).

use std::fmt;

/// The built-in Gordon operator as the status bar shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OperatorState {
    /// Not started, or stopped with `o` (your own operator may run).
    #[default]
    Off,
    /// Started, not watching yet (e.g. waiting for the Gordon CRD): the reason, if any.
    On(Option<String>),
    /// Watching Gordons and reconciling them.
    Running,
    /// It stopped on an error: what happened.
    Failed(String),
}

impl OperatorState {
    /// The short word of the status bar.
    pub fn word(&self) -> &'static str {
        match self {
            OperatorState::Off => "off",
            OperatorState::On(_) => "on",
            OperatorState::Running => "running",
            OperatorState::Failed(_) => "failed",
        }
    }
}

impl fmt::Display for OperatorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperatorState::On(Some(why)) => write!(f, "on, waiting: {why}"),
            OperatorState::Failed(why) => write!(f, "failed: {why}"),
            other => write!(f, "{}", other.word()),
        }
    }
}

/// The operator's state after one of its log lines (its lifecycle and its errors).
pub fn after_log(
    state: &OperatorState,
    line: &crate::operator::OperatorLog,
) -> Option<OperatorState> {
    use crate::operator::Kind;
    match line.kind {
        Kind::Lifecycle if line.message.starts_with("watching Gordons") => {
            Some(OperatorState::Running)
        }
        Kind::Lifecycle if line.message.contains("stopped") => Some(OperatorState::Off),
        Kind::Error if matches!(state, OperatorState::On(_)) => Some(OperatorState::On(Some(
            line.message.trim_end_matches(" (waiting)").to_string(),
        ))),
        _ => None,
    }
}

/// The status bar's two spans for the operator: `│ operator running` (`│ op running` when
/// `short`), green when running, red when it failed.
pub fn spans(app: &super::App, short: bool) -> Vec<ratatui::text::Span<'static>> {
    use ratatui::text::Span;
    let t = &app.theme;
    let style = match &app.operator {
        OperatorState::Running => t.ok.patch(t.status),
        OperatorState::Failed(_) => t.error.patch(t.status),
        _ => t.status,
    };
    vec![
        Span::styled(
            if short { "│ op " } else { "│ operator " }.to_string(),
            t.status,
        ),
        Span::styled(format!("{} ", app.operator.word()), style),
    ]
}
