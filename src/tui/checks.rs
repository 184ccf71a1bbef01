//! Live checks in the TUI, on this side of the boundary: the check engine (`crate::checks`) knows
//! nothing of the UI; this service starts it on the cluster client as soon as one arrives, streams
//! its verdicts to the UI as [`AppMessage::Verdict`], runs a probe on `v`, and starts it again on
//! every new client and every `--labs DIR` reload, so the checks always match the text shown.

use super::background::{Background, Request, Service};
use super::message::{AppMessage, LogLine, Verdict};
use crate::checks::Engine;
use crate::lab::LabSet;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

impl From<&crate::checks::Verdict> for Verdict {
    /// The verdict as the TUI shows it.
    fn from(v: &crate::checks::Verdict) -> Self {
        use crate::checks::Verdict as C;
        match v {
            C::Pass => Verdict::Pass,
            C::Fail(r) => Verdict::Fail(r.clone()),
            C::CannotCheck(r) | C::Skipped(r) => Verdict::CannotCheck(r.clone()),
            C::Disconnected(r) => Verdict::CannotCheck(format!("disconnected: {r}")),
        }
    }
}

/// A running engine: stop it, or hand it a probe request (lab and task ids).
pub struct EngineHandle {
    stop: CancellationToken,
    probes: UnboundedSender<(String, String)>,
}

impl EngineHandle {
    /// Stops the engine and its watches; verdicts not yet forwarded are dropped.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Asks the engine to run the probe of `task`; false when the engine has stopped.
    pub fn probe(&self, lab: String, task: String) -> bool {
        self.probes.send((lab, task)).is_ok()
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The TUI's live checks: the labs the app shows (parsed once, at start, then as reloaded) on the
/// client in use.
pub struct LiveChecks {
    labs: LabSet,
    attendee: Option<String>,
    client: Option<kube::Client>,
    running: Option<EngineHandle>,
}

impl LiveChecks {
    /// Checks for every task of `labs`, rendered for `attendee` (their namespaces) when given.
    pub fn new(labs: LabSet, attendee: Option<String>) -> Self {
        Self {
            labs,
            attendee,
            client: None,
            running: None,
        }
    }

    /// Whether an engine runs (a client has arrived).
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    fn restart(&mut self, background: &Background) {
        if let Some(old) = self.running.take() {
            old.stop();
        }
        if let Some(client) = self.client.clone() {
            self.running = Some(start_engine(
                background,
                client,
                &self.labs,
                self.attendee.as_deref(),
            ));
        }
    }
}

impl Service for LiveChecks {
    fn handle(
        &mut self,
        request: Request,
        background: &Background,
        _client: Option<&kube::Client>,
    ) -> Option<Request> {
        match request {
            Request::Probe { lab, task } => {
                let line = match &self.running {
                    Some(engine) if engine.probe(lab, task.clone()) => LogLine::info(
                        "checks",
                        format!("Running the probe of {task}; its verdict follows."),
                    ),
                    _ => LogLine::warn(
                        "checks",
                        "not connected to a cluster yet; the probe can run once connected",
                    ),
                };
                background.log(line);
                None
            }
            other => Some(other),
        }
    }

    fn connected(&mut self, background: &Background, client: &kube::Client) {
        self.client = Some(client.clone());
        self.restart(background);
    }

    fn labs_reloaded(&mut self, background: &Background, labs: &LabSet) {
        self.labs = labs.clone();
        self.restart(background);
    }
}

/// Starts the check engine on `client` with every task of `set` (rendered for `attendee`) as a
/// tokio task; verdicts go to the UI as [`AppMessage::Verdict`] until the handle stops it or the
/// UI shuts down.
pub fn start_engine(
    ui: &Background,
    client: kube::Client,
    set: &LabSet,
    attendee: Option<&str>,
) -> EngineHandle {
    let mut engine = Engine::new(client);
    for lab in &set.labs {
        let lab = lab.render_vars(&lab.vars_for(attendee));
        for t in lab.tasks() {
            engine.add(&lab.id, t);
        }
    }
    ui.log(LogLine::info(
        "checks",
        format!(
            "Checking {} tasks live over {} watches.",
            engine.len(),
            engine.stores().watch_count()
        ),
    ));
    let (vtx, mut vrx) = unbounded_channel();
    let (ptx, prx) = unbounded_channel();
    let stop = ui.token().child_token();
    tokio::spawn(engine.run(vtx, prx, stop.clone()));
    let fwd = ui.clone();
    let stopped = stop.clone();
    ui.spawn(async move {
        loop {
            let v = tokio::select! {
                biased;
                () = stopped.cancelled() => break,
                v = vrx.recv() => match v {
                    Some(v) => v,
                    None => break,
                },
            };
            let sent = fwd.send(AppMessage::Verdict {
                lab: v.lab,
                task: v.task,
                verdict: Verdict::from(&v.verdict),
            });
            if !sent {
                break;
            }
        }
    });
    EngineHandle { stop, probes: ptx }
}
