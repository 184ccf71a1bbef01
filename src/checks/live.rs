//! Live checks in the TUI: the engine starts on the cluster client as soon as discovery finds one,
//! task verdicts stream to the UI as `AppMessage::Verdict`, and `v` (a probe request) runs a probe.

use super::Engine;
use crate::lab::LabSet;
use crate::tui::cluster::{self, ClusterOptions};
use crate::tui::{AppMessage, Background, LogLine, Request, Service};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// Hands the TUI's probe requests to the running engine.
pub struct ProbeService {
    tx: UnboundedSender<(String, String)>,
}

impl Service for ProbeService {
    fn handle(
        &mut self,
        request: Request,
        background: &Background,
        _client: Option<&kube::Client>,
    ) -> Option<Request> {
        match request {
            Request::Probe { lab, task } => {
                background.log(LogLine::info(
                    "checks",
                    format!("Running the probe of {task}; its verdict follows."),
                ));
                let _ = self.tx.send((lab, task));
                None
            }
            other => Some(other),
        }
    }
}

/// Runs cluster discovery through a tap: every message goes on to the UI, and when a client
/// arrives the check engine starts on it with every task of `set` (the attendee's namespaces
/// when one is given, else the default ones).
pub fn spawn_discovery_with_checks(
    bg: &Background,
    opts: ClusterOptions,
    set: LabSet,
    attendee: Option<String>,
) -> ProbeService {
    let (tap, mut rx) = Background::new();
    let (ptx, prx) = unbounded_channel();
    cluster::spawn_discovery(&tap, opts);
    let ui = bg.clone();
    let token = bg.token();
    let tap_stop = tap.clone();
    tokio::spawn(async move {
        token.cancelled().await;
        tap_stop.shutdown();
    });
    bg.spawn(async move {
        let mut probes = Some(prx);
        while let Some(msg) = rx.recv().await {
            if let AppMessage::Client(client) = &msg {
                start_engine(
                    &ui,
                    client.clone(),
                    &set,
                    attendee.as_deref(),
                    probes.take(),
                );
            }
            if !ui.send(msg) {
                break;
            }
        }
    });
    ProbeService { tx: ptx }
}

/// Starts the check engine on `client` with every task of `set` (rendered for `attendee`);
/// verdicts go to the UI as [`AppMessage::Verdict`], probes asked on `probes` run in it.
pub fn start_engine(
    ui: &Background,
    client: kube::Client,
    set: &LabSet,
    attendee: Option<&str>,
    probes: Option<tokio::sync::mpsc::UnboundedReceiver<(String, String)>>,
) {
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
    let probes = probes.unwrap_or_else(|| unbounded_channel().1);
    // The engine's future is not Send (probes use the apply engine): its own thread drives it.
    let token = ui.token();
    crate::tui::services::on_own_thread(move || engine.run(vtx, probes, token));
    let fwd = ui.clone();
    ui.spawn(async move {
        while let Some(v) = vrx.recv().await {
            let sent = fwd.send(AppMessage::Verdict {
                lab: v.lab,
                task: v.task,
                verdict: v.verdict.to_tui(),
            });
            if !sent {
                break;
            }
        }
    });
}
