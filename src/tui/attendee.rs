//! A classroom attendee's side: their namespaces made and labelled, and the instructor steps they may do.

use super::background::{Background, Request, Service};
use super::message::{AppMessage, LogLine, StepAccess};
use super::services::{block_documents, block_namespace};
use crate::classroom::ATTENDEE_LABEL;
use crate::cluster::access::{self, Answer, Right};
use crate::lab::{Block, CodeBlock, Lab};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// The field manager of what the attendee side writes.
const MANAGER: &str = "oplab";

/// What became of each of the attendee's namespaces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespaceReport {
    /// Existed, labelled as the attendee's.
    pub ready: Vec<String>,
    pub created: Vec<String>,
    /// Existed without the label; it was added.
    pub labelled: Vec<String>,
    /// Existed without the label, and the attendee may not add it.
    pub unlabelled: Vec<String>,
    /// Do not exist (or cannot be seen), and the attendee may not create them.
    pub missing: Vec<String>,
    /// Labelled as another attendee's: (namespace, that attendee).
    pub foreign: Vec<(String, String)>,
    /// Other errors: (namespace, what went wrong).
    pub failed: Vec<(String, String)>,
}

enum Outcome {
    Ready,
    Created,
    Labelled,
    Unlabelled,
    Missing,
    Foreign(String),
    Failed(String),
}

fn code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// Makes sure every namespace exists with `oplab.dev/attendee=NAME`: creates missing ones, labels
/// unlabelled ones; what the attendee may not do is reported, never an error.
pub async fn ensure_namespaces(
    client: &kube::Client,
    attendee: &str,
    namespaces: &[String],
) -> NamespaceReport {
    let api: Api<Namespace> = Api::all(client.clone());
    let outcomes =
        futures::future::join_all(namespaces.iter().map(|ns| ensure_one(&api, attendee, ns))).await;
    let mut report = NamespaceReport::default();
    for (ns, outcome) in namespaces.iter().cloned().zip(outcomes) {
        match outcome {
            Outcome::Ready => report.ready.push(ns),
            Outcome::Created => report.created.push(ns),
            Outcome::Labelled => report.labelled.push(ns),
            Outcome::Unlabelled => report.unlabelled.push(ns),
            Outcome::Missing => report.missing.push(ns),
            Outcome::Foreign(who) => report.foreign.push((ns, who)),
            Outcome::Failed(why) => report.failed.push((ns, why)),
        }
    }
    report
}

async fn ensure_one(api: &Api<Namespace>, attendee: &str, ns: &str) -> Outcome {
    let visible = match api.get_opt(ns).await {
        Ok(Some(n)) => return label(api, attendee, &n).await,
        Ok(None) => true,
        // May not look: creating still says whether it exists (409) or may be made.
        Err(e) if code(&e) == Some(403) => false,
        Err(e) => return Outcome::Failed(crate::explain::explain(&e).to_string()),
    };
    let object = Namespace {
        metadata: ObjectMeta {
            name: Some(ns.to_string()),
            labels: Some([(ATTENDEE_LABEL.to_string(), attendee.to_string())].into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let params = PostParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    };
    match api.create(&params, &object).await {
        Ok(_) => Outcome::Created,
        Err(e) if code(&e) == Some(403) => Outcome::Missing,
        Err(e) if code(&e) == Some(409) && visible => match api.get_opt(ns).await {
            Ok(Some(n)) => label(api, attendee, &n).await,
            Ok(None) => Outcome::Failed("created and deleted by someone else meanwhile".into()),
            Err(e) => Outcome::Failed(crate::explain::explain(&e).to_string()),
        },
        // It exists (the instructor made it) but the attendee may not read it: nothing to do.
        Err(e) if code(&e) == Some(409) => Outcome::Ready,
        Err(e) => Outcome::Failed(crate::explain::explain(&e).to_string()),
    }
}

async fn label(api: &Api<Namespace>, attendee: &str, ns: &Namespace) -> Outcome {
    let name = ns.metadata.name.clone().unwrap_or_default();
    match ns
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(ATTENDEE_LABEL))
    {
        Some(v) if v == attendee => return Outcome::Ready,
        Some(other) => return Outcome::Foreign(other.clone()),
        None => {}
    }
    let patch = serde_json::json!({"metadata": {"labels": {ATTENDEE_LABEL: attendee}}});
    let params = PatchParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    };
    match api.patch(&name, &params, &Patch::Merge(&patch)).await {
        Ok(_) => Outcome::Labelled,
        Err(e) if code(&e) == Some(403) => Outcome::Unlabelled,
        Err(e) => Outcome::Failed(crate::explain::explain(&e).to_string()),
    }
}

/// The log lines a report deserves: what is in use, and what the instructor must do.
pub fn report_lines(attendee: &str, r: &NamespaceReport) -> Vec<LogLine> {
    let mut out = Vec::new();
    let in_use: Vec<&str> = r
        .ready
        .iter()
        .chain(&r.created)
        .chain(&r.labelled)
        .chain(&r.unlabelled)
        .map(String::as_str)
        .collect();
    if !in_use.is_empty() {
        let mut line = format!(
            "attendee {attendee}: working in namespaces {}",
            in_use.join(", ")
        );
        if !r.created.is_empty() {
            line += &format!("; created {}", r.created.join(", "));
        }
        if !r.labelled.is_empty() {
            line += &format!("; labelled {}", r.labelled.join(", "));
        }
        out.push(LogLine::info("classroom", line));
    }
    if !r.missing.is_empty() {
        out.push(LogLine::warn(
            "classroom",
            format!(
                "attendee {attendee}: namespaces {} do not exist and you may not create them; the \
                 instructor creates them with `oplab classroom setup`",
                r.missing.join(", ")
            ),
        ));
    }
    if !r.unlabelled.is_empty() {
        out.push(LogLine::warn(
            "classroom",
            format!(
                "attendee {attendee}: namespaces {} lack the label {ATTENDEE_LABEL}={attendee} and you \
                 may not add it, so the instructor's board does not see them; `oplab classroom setup` \
                 labels them",
                r.unlabelled.join(", ")
            ),
        ));
    }
    for (ns, who) in &r.foreign {
        out.push(LogLine::error(
            "classroom",
            format!(
                "namespace {ns} belongs to attendee {who} ({ATTENDEE_LABEL}={who}): left alone; pick \
                 another name with `oplab --attendee NAME`"
            ),
        ));
    }
    for (ns, why) in &r.failed {
        out.push(LogLine::error(
            "classroom",
            format!("attendee {attendee}: could not set up namespace {ns}: {why}"),
        ));
    }
    out
}

/// The namespaces where the labs run the Gordon operator (`solution.operator.namespace`), or all
/// of `fallback` when no lab says.
pub fn operator_namespaces(labs: &[Lab], fallback: &[String]) -> Vec<String> {
    let found: BTreeSet<String> = labs
        .iter()
        .flat_map(|l| l.tasks())
        .filter_map(|t| t.solution.operator.as_ref())
        .map(|o| o.namespace.clone())
        .filter(|ns| !ns.is_empty())
        .collect();
    if found.is_empty() {
        fallback.to_vec()
    } else {
        found.into_iter().collect()
    }
}

/// An instructor step and the manifest blocks it applies.
#[derive(Debug, Clone)]
struct InstructorStep {
    lab: String,
    step: usize,
    blocks: Vec<CodeBlock>,
}

fn instructor_steps(labs: &[Lab]) -> Vec<InstructorStep> {
    let mut out = Vec::new();
    for lab in labs {
        for (i, step) in lab.steps.iter().enumerate() {
            if !step.instructor_only {
                continue;
            }
            let blocks = step
                .blocks
                .iter()
                .filter_map(|b| match b {
                    Block::Code(c) if c.attrs.apply => Some(c.clone()),
                    _ => None,
                })
                .collect();
            out.push(InstructorStep {
                lab: lab.id.clone(),
                step: i,
                blocks,
            });
        }
    }
    out
}

/// For each instructor step, the rights its blocks need that the user lacks; plus notes for the
/// log about questions that could not be asked (those steps stay as they are).
async fn step_access(
    client: &kube::Client,
    steps: &[InstructorStep],
) -> (Vec<StepAccess>, Vec<String>) {
    let mut notes = Vec::new();
    let mut needs: Vec<BTreeSet<Right>> = Vec::new();
    for s in steps {
        let mut rights = BTreeSet::new();
        for block in &s.blocks {
            let docs = match block_documents(block) {
                Ok(d) => d,
                Err(e) => {
                    notes.push(format!("{} step {}: {e}", s.lab, s.step + 1));
                    continue;
                }
            };
            match access::rights_needed(client, &docs, &block_namespace(block)).await {
                Ok(r) => rights.extend(r),
                Err(e) => notes.push(format!("discovery for {} step {}: {e}", s.lab, s.step + 1)),
            }
        }
        needs.push(rights);
    }
    let all: BTreeSet<Right> = needs.iter().flatten().cloned().collect();
    let answers: BTreeMap<Right, Answer> = access::review_all(client, all).await;
    if let Some(Answer::Unknown(why)) = answers.values().find(|a| matches!(a, Answer::Unknown(_))) {
        notes.push(why.clone());
    }
    let access = steps
        .iter()
        .zip(needs)
        .map(|(s, rights)| StepAccess {
            lab: s.lab.clone(),
            step: s.step,
            denied: rights
                .iter()
                .filter(|r| matches!(answers.get(*r), Some(Answer::Denied(_))))
                .map(Right::to_string)
                .collect(),
        })
        .collect();
    (access, notes)
}

/// On every connection: makes the attendee's namespaces and asks which instructor steps they may
/// do; the answers reach the UI as [`AppMessage::InstructorSteps`].
pub struct AttendeeService {
    name: String,
    namespaces: Vec<String>,
    steps: Vec<InstructorStep>,
    /// Log lines already given, so that a reconnect does not repeat them.
    said: Arc<Mutex<BTreeSet<String>>>,
}

impl AttendeeService {
    /// For attendee `name`, over `labs` rendered with their variables.
    pub fn new(name: &str, labs: &[Lab]) -> Self {
        Self {
            name: name.to_string(),
            namespaces: crate::classroom::attendee_namespaces(labs, name),
            steps: instructor_steps(labs),
            said: Arc::default(),
        }
    }

    pub fn namespaces(&self) -> &[String] {
        &self.namespaces
    }
}

impl Service for AttendeeService {
    fn handle(
        &mut self,
        request: Request,
        _background: &Background,
        _client: Option<&kube::Client>,
    ) -> Option<Request> {
        Some(request)
    }

    fn connected(&mut self, background: &Background, client: &kube::Client) {
        let (bg, client) = (background.clone(), client.clone());
        let (name, namespaces, steps) = (
            self.name.clone(),
            self.namespaces.clone(),
            self.steps.clone(),
        );
        let said = self.said.clone();
        background.spawn(async move {
            let (report, (access, notes)) = futures::future::join(
                ensure_namespaces(&client, &name, &namespaces),
                step_access(&client, &steps),
            )
            .await;
            let mut lines = report_lines(&name, &report);
            lines.extend(notes.into_iter().map(|n| {
                LogLine::info(
                    "classroom",
                    format!("cannot tell which instructor steps you may do ({n}); they are shown as usual"),
                )
            }));
            for line in lines {
                let new = said
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(line.text.clone());
                if new {
                    bg.log(line);
                }
            }
            bg.send(AppMessage::InstructorSteps(access));
        });
    }
}
