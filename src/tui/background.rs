//! The background-task interface: spawned work reports to the UI over a channel, and UI requests
//! (apply, probe, operator) go to registered services.

use super::message::{AppMessage, LogLine};
use crate::lab::CodeBlock;
use std::future::Future;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

/// A handle for background work: send messages to the UI, spawn tasks that stop on shutdown.
#[derive(Debug, Clone)]
pub struct Background {
    tx: UnboundedSender<AppMessage>,
    cancel: CancellationToken,
}

impl Background {
    /// A handle and the UI's end of the channel.
    pub fn new() -> (Self, UnboundedReceiver<AppMessage>) {
        let (tx, rx) = unbounded_channel();
        (
            Self {
                tx,
                cancel: CancellationToken::new(),
            },
            rx,
        )
    }

    /// Sends a message to the UI; false when the UI is gone.
    pub fn send(&self, msg: impl Into<AppMessage>) -> bool {
        self.tx.send(msg.into()).is_ok()
    }

    pub fn log(&self, line: LogLine) -> bool {
        self.send(AppMessage::Log(line))
    }

    pub fn sender(&self) -> UnboundedSender<AppMessage> {
        self.tx.clone()
    }

    /// Cancelled when the UI shuts down.
    pub fn token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Runs `task` on the tokio runtime until it ends or the UI shuts down.
    pub fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                () = task => {}
            }
        })
    }

    /// Asks every background task to stop.
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }
}

/// Work the UI asks for that other parts of oplab carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Apply a manifest code block of a lab (after the UI's confirmation).
    Apply { lab: String, block: CodeBlock },
    /// Diff a manifest code block against the cluster.
    Diff { lab: String, block: CodeBlock },
    /// Run a task's probe.
    Probe { lab: String, task: String },
    /// Start or stop the built-in operator.
    ToggleOperator,
    /// Start the built-in operator if it is not running (on by default once connected).
    StartOperator,
    /// Start, feed or resize a shell of the terminal pane.
    Terminal(super::terminal::ShellRequest),
    /// Stop the built-in operator if it runs (a step that grades the attendee's own operator opened).
    StopOperator,
}

impl Request {
    /// What the attendee asked for, in words.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Apply { .. } => "applying manifests",
            Self::Diff { .. } => "diffing manifests",
            Self::Probe { .. } => "running probes",
            Self::ToggleOperator | Self::StartOperator | Self::StopOperator => {
                "toggling the built-in operator"
            }
            Self::Terminal(_) => "the terminal pane",
        }
    }
}

/// A feature that handles some requests in the background (apply engine, operator, checks).
/// It reports progress and results with [`Background::send`].
pub trait Service: Send {
    /// Takes the request if it is this service's, returning it back otherwise.
    /// `client` is the cluster client in use, once the connection is known.
    fn handle(
        &mut self,
        request: Request,
        background: &Background,
        client: Option<&kube::Client>,
    ) -> Option<Request>;

    /// Called with every cluster client that arrives: the first connection and each reconnect.
    fn connected(&mut self, _background: &Background, _client: &kube::Client) {}

    /// Called with the labs as reloaded from `--labs DIR` after an edit (before the UI shows them).
    fn labs_reloaded(&mut self, _background: &Background, _labs: &crate::lab::LabSet) {}
}
