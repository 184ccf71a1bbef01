//! The operator's reconcile log for humans: what it saw and which API calls it made, sent over a channel.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// How much an entry matters; the CLI hides `Debug` (reads) unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// What an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The operator's own life: started, waiting for the CRD, stopped.
    Lifecycle,
    /// What a reconcile observed.
    Saw,
    /// An API call the operator made (method and path in the message).
    Call,
    /// An event recorded on a Gordon.
    Event,
    /// A Gordon disappeared.
    Gone,
    /// Something failed (with what to do about it when known).
    Error,
}

/// One line of the reconcile log.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorLog {
    pub at: jiff::Timestamp,
    pub level: Level,
    pub kind: Kind,
    /// `namespace/name` of the Gordon concerned, if any.
    pub gordon: Option<String>,
    pub message: String,
}

impl fmt::Display for OperatorLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let time = self.at.to_zoned(jiff::tz::TimeZone::system());
        let tag = match self.level {
            Level::Warn => "WARN  ",
            Level::Error => "ERROR ",
            _ => "",
        };
        write!(f, "{} {tag}{}", time.strftime("%H:%M:%S%.3f"), self.message)
    }
}

/// The sending side: never blocks the operator; counts what a full channel dropped.
#[derive(Clone)]
pub struct LogSink {
    tx: mpsc::Sender<OperatorLog>,
    dropped: std::sync::Arc<AtomicU64>,
}

impl LogSink {
    pub fn new(tx: mpsc::Sender<OperatorLog>) -> Self {
        Self {
            tx,
            dropped: Default::default(),
        }
    }

    pub fn emit(&self, level: Level, kind: Kind, gordon: Option<&str>, message: impl Into<String>) {
        let message = message.into();
        tracing::debug!(target: "oplab::operator", ?level, "{message}");
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let note = OperatorLog {
                at: jiff::Timestamp::now(),
                level: Level::Warn,
                kind: Kind::Lifecycle,
                gordon: None,
                message: format!("({dropped} log lines dropped: the reader was too slow)"),
            };
            if self.tx.try_send(note).is_err() {
                self.dropped.fetch_add(dropped, Ordering::Relaxed);
            }
        }
        let entry = OperatorLog {
            at: jiff::Timestamp::now(),
            level,
            kind,
            gordon: gordon.map(str::to_string),
            message,
        };
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(entry) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn info(&self, kind: Kind, gordon: Option<&str>, message: impl Into<String>) {
        self.emit(Level::Info, kind, gordon, message)
    }

    pub fn debug(&self, kind: Kind, gordon: Option<&str>, message: impl Into<String>) {
        self.emit(Level::Debug, kind, gordon, message)
    }

    pub fn warn(&self, kind: Kind, gordon: Option<&str>, message: impl Into<String>) {
        self.emit(Level::Warn, kind, gordon, message)
    }
}
