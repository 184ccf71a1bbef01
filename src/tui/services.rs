//! The TUI's background services: applying manifest code blocks and running the built-in operator.

use super::background::{Background, Request, Service};
use super::message::{AppMessage, LogLine};
use super::status::OperatorState;
use crate::cluster::apply::{self, ApplyEvent, Outcome, Settings};
use crate::cluster::documents::{self, Document};
use crate::cluster::{Vars, load_documents};
use crate::lab::CodeBlock;
use crate::operator::{self, OperatorLog, Scope};
use tokio_util::sync::CancellationToken;

/// The documents a manifest code block stands for: its text, or the bundled set it names. A
/// `file=` block that shows its file's text (kept equal to the file by `oplab labs validate` and
/// the tests) applies the text as shown, with the lab's variables and the attendee's edits.
pub fn block_documents(block: &CodeBlock) -> Result<Vec<Document>, String> {
    match &block.attrs.manifest {
        Some(m) if m.file.is_none() || block.text.trim().is_empty() => {
            let name = match &m.file {
                Some(f) => format!("{}/{f}", m.set),
                None => m.set.clone(),
            };
            let mut vars = Vars::default();
            if let Some(ns) = &block.attrs.namespace {
                vars.0.insert("ns".into(), ns.clone());
            }
            load_documents(&[name], &vars).map_err(|f| f.to_string())
        }
        // The position counts in the block's text as shown (the edited text, when edited).
        _ => documents::parse(&format!("code block at line {}", block.line), &block.text).map_err(
            |e| {
                format!(
                    "{} ({} of the code block at lab line {})",
                    e.message,
                    e.position(),
                    block.line
                )
            },
        ),
    }
}

/// `Kind/name` of each object a block applies, for the confirmation.
/// Or why the block cannot be applied at all (its YAML does not parse, its set is unknown).
pub fn describe_objects(block: &CodeBlock) -> Result<Vec<String>, String> {
    block_documents(block).map(|docs| {
        docs.iter()
            .map(|d| format!("{}/{}", d.kind(), d.name()))
            .collect()
    })
}

/// Applies (or diffs) manifest code blocks with the apply engine, reporting per object in the log.
#[derive(Debug, Default)]
pub struct ApplyService;

impl Service for ApplyService {
    fn handle(
        &mut self,
        request: Request,
        background: &Background,
        client: Option<&kube::Client>,
    ) -> Option<Request> {
        let (block, dry_run) = match request {
            Request::Apply { block, .. } => (block, false),
            Request::Diff { block, .. } => (block, true),
            other => return Some(other),
        };
        let Some(client) = client.cloned() else {
            background.log(LogLine::warn(
                "apply",
                "not connected to a cluster yet; try again in a moment",
            ));
            return None;
        };
        if dry_run {
            diff(block, background, client);
            return None;
        }
        let bg = background.clone();
        background.spawn(async move {
            let docs = match block_documents(&block) {
                Ok(d) => d,
                Err(e) => {
                    bg.log(LogLine::error("apply", e));
                    return;
                }
            };
            let settings = block_settings(&block, false);
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let forward = {
                let bg = bg.clone();
                tokio::spawn(async move {
                    // what was said already, so the final word does not repeat it
                    let mut said: Vec<String> = Vec::new();
                    while let Some(ev) = rx.recv().await {
                        match ev {
                            ApplyEvent::Done { object, outcome } => {
                                bg.log(LogLine::info("apply", format!("{object} {outcome}")));
                            }
                            ApplyEvent::Failed(e) => {
                                let text = e.to_string();
                                bg.log(LogLine::error("apply", text.clone()));
                                said.push(text);
                            }
                            ApplyEvent::WaitingForCrds { names } => {
                                bg.log(LogLine::info(
                                    "apply",
                                    format!(
                                        "waiting for CRDs to be Established: {}",
                                        names.join(", ")
                                    ),
                                ));
                            }
                            _ => {}
                        }
                    }
                    said
                })
            };
            let result = apply::apply(&client, docs, &settings, Some(&tx)).await;
            drop(tx);
            let said = forward.await.unwrap_or_default();
            match result {
                Ok(report) => {
                    bg.log(LogLine::info(
                        "apply",
                        format!(
                            "done: {} created, {} configured, {} unchanged",
                            report.count(Outcome::Created),
                            report.count(Outcome::Configured),
                            report.count(Outcome::Unchanged)
                        ),
                    ));
                }
                Err(f) => {
                    for e in &f.errors {
                        let text = e.to_string();
                        if !said.contains(&text) {
                            bg.log(LogLine::error("apply", text));
                        }
                    }
                    let outcome = if f.nothing_applied {
                        "nothing was applied".to_string()
                    } else {
                        "the block is PARTIALLY applied (the objects logged above as applied exist); fix the cause and apply again".to_string()
                    };
                    bg.log(LogLine::error("apply", outcome));
                }
            };
        });
        None
    }
}

/// Checks a block against the cluster (no write) and sends its unified diff to the UI.
fn diff(block: CodeBlock, background: &Background, client: kube::Client) {
    let bg = background.clone();
    background.spawn(async move {
        let title = match &block.attrs.id {
            Some(id) => format!("diff {id}"),
            None => format!("diff of the code block at line {}", block.line),
        };
        let docs = match block_documents(&block) {
            Ok(d) => d,
            Err(e) => {
                bg.log(LogLine::error("diff", e));
                return;
            }
        };
        let settings = block_settings(&block, true);
        match apply::check(&client, docs, &settings, None).await {
            Ok(checked) => {
                let text = crate::cluster::diff::set_diff(&checked.planned);
                bg.send(AppMessage::Diff { title, text });
            }
            Err(f) => {
                bg.log(LogLine::error("diff", format!("cannot diff: {f}")));
            }
        }
    });
}

/// The namespace a manifest block applies into: its `namespace=` (default `default`).
pub fn block_namespace(block: &CodeBlock) -> String {
    block
        .attrs
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into())
}

/// Apply settings for a manifest block: its namespace.
fn block_settings(block: &CodeBlock, dry_run: bool) -> Settings {
    Settings {
        namespace: block_namespace(block),
        dry_run,
        validation: block.attrs.validate,
        ..Settings::default()
    }
}

/// Runs the built-in Gordon operator in the background; `o` toggles it.
#[derive(Debug, Default)]
pub struct OperatorService {
    running: Option<CancellationToken>,
    /// The namespaces it manages, one controller each; empty: every namespace.
    namespaces: Vec<String>,
}

impl OperatorService {
    /// An operator managing Gordons in these namespaces only (a classroom attendee's).
    pub fn scoped(namespaces: Vec<String>) -> Self {
        Self {
            running: None,
            namespaces,
        }
    }

    /// What it manages, one scope per controller.
    pub fn scopes(&self) -> Vec<Scope> {
        if self.namespaces.is_empty() {
            vec![Scope::All]
        } else {
            self.namespaces
                .iter()
                .map(|ns| Scope::Namespace(ns.clone()))
                .collect()
        }
    }

    fn start(&mut self, background: &Background, client: kube::Client) {
        let stop = background.token().child_token();
        self.running = Some(stop.clone());
        let (tx, mut rx) = tokio::sync::mpsc::channel::<OperatorLog>(512);
        let bg = background.clone();
        background.send(AppMessage::Operator(OperatorState::On(None)));
        background.spawn(async move {
            let mut state = OperatorState::On(None);
            while let Some(line) = rx.recv().await {
                if let Some(next) = super::status::after_log(&state, &line)
                    && next != state
                {
                    state = next;
                    bg.send(AppMessage::Operator(state.clone()));
                }
                let text = line.to_string();
                let log = match line.level {
                    operator::Level::Warn => LogLine::warn("operator", text),
                    operator::Level::Error => LogLine::error("operator", text),
                    operator::Level::Debug => continue,
                    _ => LogLine::info("operator", text),
                };
                bg.log(log);
            }
        });
        let scopes = self.scopes();
        let words: Vec<String> = scopes.iter().map(Scope::to_string).collect();
        background.log(LogLine::info(
            "operator",
            format!(
                "built-in Gordon operator started ({}); press o to stop it and run your own",
                words.join(", ")
            ),
        ));
        for scope in scopes {
            let bg = background.clone();
            let (client, tx, stop) = (client.clone(), tx.clone(), stop.clone());
            background.spawn(async move {
                if let Err(e) = operator::run(client, scope, tx, stop).await {
                    let why = crate::explain::anyhow_text(&e);
                    bg.send(AppMessage::Operator(OperatorState::Failed(why.clone())));
                    bg.log(LogLine::error(
                        "operator",
                        format!("the built-in operator stopped: {why}"),
                    ));
                }
            });
        }
    }
}

impl Service for OperatorService {
    fn handle(
        &mut self,
        request: Request,
        background: &Background,
        client: Option<&kube::Client>,
    ) -> Option<Request> {
        let start = match request {
            Request::ToggleOperator => self.running.is_none(),
            Request::StopOperator => {
                if let Some(token) = self.running.take() {
                    token.cancel();
                    background.send(AppMessage::Operator(OperatorState::Off));
                }
                return None;
            }
            Request::StartOperator => {
                if self.running.is_some() {
                    return None;
                }
                true
            }
            other => return Some(other),
        };
        if !start {
            if let Some(token) = self.running.take() {
                token.cancel();
            }
            background.send(AppMessage::Operator(OperatorState::Off));
            background.log(LogLine::info(
                "operator",
                "built-in Gordon operator stopped: your own operator can take over",
            ));
            return None;
        }
        match client {
            Some(c) => self.start(background, c.clone()),
            None => {
                background.log(LogLine::warn(
                    "operator",
                    "not connected to a cluster yet; the operator starts once connected",
                ));
            }
        }
        None
    }
}
