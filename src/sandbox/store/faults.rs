//! Fault injection for tests (off by default): failed requests, dropped watches, compacted history.

use rand::Rng;
use std::sync::Mutex;
use tokio::sync::watch;

/// Which status a failed request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// 500 InternalError.
    ServerError,
    /// 409 Conflict (as if the object changed under the client).
    Conflict,
}

#[derive(Debug, Clone, Copy)]
struct ErrorRule {
    share: f64,
    kind: FaultKind,
}

/// The fault switches of one sandbox.
pub struct Faults {
    errors: Mutex<Option<ErrorRule>>,
    drops: watch::Sender<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        let (drops, _) = watch::channel(0);
        Self {
            errors: Mutex::new(None),
            drops,
        }
    }
}

impl Faults {
    /// Fails `share` (0.0..=1.0) of API requests (not discovery, not watches in progress) with `kind`.
    pub fn fail_requests(&self, share: f64, kind: FaultKind) {
        let rule = (share > 0.0).then_some(ErrorRule {
            share: share.min(1.0),
            kind,
        });
        *self.errors.lock().unwrap_or_else(|e| e.into_inner()) = rule;
    }

    /// Turns request failures off.
    pub fn clear(&self) {
        self.fail_requests(0.0, FaultKind::ServerError);
    }

    /// Decides whether this request fails.
    pub fn roll(&self) -> Option<FaultKind> {
        let rule = (*self.errors.lock().unwrap_or_else(|e| e.into_inner()))?;
        (rand::rng().random::<f64>() < rule.share).then_some(rule.kind)
    }

    /// Ends every open watch stream now (clients reconnect from their last resourceVersion).
    pub fn drop_watches(&self) {
        self.drops.send_modify(|n| *n += 1);
    }

    /// How many watch streams are open now (each holds a [`Faults::watch_drops`] receiver from
    /// the moment it is live until it ends): tests wait on it instead of sleeping.
    pub fn open_watches(&self) -> usize {
        self.drops.receiver_count()
    }

    /// A receiver that changes when watches are to be dropped.
    pub fn watch_drops(&self) -> watch::Receiver<u64> {
        self.drops.subscribe()
    }
}
