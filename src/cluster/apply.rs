//! Applying and deleting a checked set in order, with per-object results and progress events.

use super::documents::Document;
use super::errors::{DocError, Failure, from_kube};
use super::plan::{FIELD_MANAGER, PARALLEL, Phase, Planned, crd_names, plan, resolve_all};
use super::resolve::Resolver;
use futures::{StreamExt, stream};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::wait::{await_condition, conditions};
use std::fmt;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

pub use super::plan::ObjectRef;

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
    Deleted,
    NotFound,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
            Outcome::Deleted => "deleted",
            Outcome::NotFound => "not found",
        })
    }
}

/// Progress, per object, for the CLI's progress bar and the TUI's log pane.
#[derive(Debug, Clone)]
pub enum ApplyEvent {
    /// Documents parsed; checking them starts.
    Checking {
        total: usize,
    },
    /// Every document passed; writing starts.
    Checked {
        total: usize,
    },
    Phase(Phase),
    WaitingForCrds {
        names: Vec<String>,
    },
    Done {
        object: ObjectRef,
        outcome: Outcome,
    },
    Failed(DocError),
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Namespace for documents without one (kubectl's `-n`, else the context's).
    pub namespace: String,
    pub force_conflicts: bool,
    /// Check everything, write nothing.
    pub dry_run: bool,
    pub establish_timeout: Duration,
    /// How the server treats fields the schema does not know (kubectl's `--validate`).
    pub validation: Validation,
    /// The server-side apply field manager (`oplab`; classroom setup applies as `oplab-classroom`,
    /// so nothing an attendee applies with oplab removes what setup owns).
    pub field_manager: &'static str,
}

/// Field validation of an apply, as kubectl's `--validate`: `Strict` (the default) refuses unknown
/// or duplicate fields, `Warn` lets the server drop them with a warning, `Ignore` drops them silently.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Validation {
    #[default]
    Strict,
    Warn,
    Ignore,
}

impl Validation {
    /// The accepted words, as lab files and the command line write them.
    pub const WORDS: &'static [&'static str] = &["strict", "warn", "ignore"];

    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "strict" => Some(Self::Strict),
            "warn" => Some(Self::Warn),
            "ignore" => Some(Self::Ignore),
            _ => None,
        }
    }

    /// `params` with this field validation.
    pub fn on(self, params: PatchParams) -> PatchParams {
        match self {
            Self::Strict => params.validation_strict(),
            Self::Warn => params.validation_warn(),
            Self::Ignore => params.validation_ignore(),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            namespace: "default".into(),
            force_conflicts: false,
            dry_run: false,
            establish_timeout: Duration::from_secs(30),
            validation: Validation::Strict,
            field_manager: FIELD_MANAGER,
        }
    }
}

/// The result of an apply or delete: one line per object, in order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub results: Vec<(ObjectRef, Outcome)>,
}

impl Report {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.results.iter().filter(|(_, o)| *o == outcome).count()
    }
}

/// Reports each object's result (or error) as an event and collects it.
fn record(
    results: Vec<Result<(ObjectRef, Outcome), DocError>>,
    events: Option<&UnboundedSender<ApplyEvent>>,
    report: &mut Report,
    errors: &mut Vec<DocError>,
) {
    for r in results {
        match r {
            Ok((object, outcome)) => {
                send(
                    events,
                    ApplyEvent::Done {
                        object: object.clone(),
                        outcome,
                    },
                );
                report.results.push((object, outcome));
            }
            Err(e) => {
                send(events, ApplyEvent::Failed(e.clone()));
                errors.push(e);
            }
        }
    }
}

fn send(events: Option<&UnboundedSender<ApplyEvent>>, event: ApplyEvent) {
    if let Some(tx) = events {
        let _ = tx.send(event);
    }
}

/// A set that passed every check (see [`super::plan`]); nothing written yet.
pub struct Checked {
    pub resolver: Resolver,
    pub planned: Vec<Planned>,
}

impl Checked {
    /// The unified diff of the set against the live objects.
    pub fn diff(&self) -> String {
        super::diff::set_diff(&self.planned)
    }

    /// What applying would do, per object.
    pub fn predicted(&self) -> Report {
        let results = self
            .planned
            .iter()
            .map(|p| (p.object.clone(), super::diff::predicted(p)))
            .collect();
        Report { results }
    }
}

/// Checks the whole set: parse, resolve, dry-run or validate every document. No write.
pub async fn check(
    client: &kube::Client,
    docs: Vec<Document>,
    settings: &Settings,
    events: Option<&UnboundedSender<ApplyEvent>>,
) -> Result<Checked, Failure> {
    send(events, ApplyEvent::Checking { total: docs.len() });
    match plan(client, docs, settings).await {
        Ok((resolver, planned)) => {
            send(
                events,
                ApplyEvent::Checked {
                    total: planned.len(),
                },
            );
            Ok(Checked { resolver, planned })
        }
        Err(f) => {
            for e in &f.errors {
                send(events, ApplyEvent::Failed(e.clone()));
            }
            Err(f)
        }
    }
}

/// Checks the whole set, then (unless `dry_run`) applies it phase by phase.
pub async fn apply(
    client: &kube::Client,
    docs: Vec<Document>,
    settings: &Settings,
    events: Option<&UnboundedSender<ApplyEvent>>,
) -> Result<Report, Failure> {
    let checked = check(client, docs, settings, events).await?;
    if settings.dry_run {
        return Ok(checked.predicted());
    }
    execute(client, checked, settings, events).await
}

/// Applies a checked set: namespaces, CRDs (then waits for Established and refreshes discovery),
/// service accounts and RBAC, everything else.
pub async fn execute(
    client: &kube::Client,
    checked: Checked,
    settings: &Settings,
    events: Option<&UnboundedSender<ApplyEvent>>,
) -> Result<Report, Failure> {
    let Checked {
        mut resolver,
        planned,
    } = checked;
    let mut report = Report::default();
    let crds = crd_names(&planned);
    for phase in Phase::ALL {
        let batch: Vec<&Planned> = planned.iter().filter(|p| p.phase == phase).collect();
        if phase == Phase::Rbac && !crds.is_empty() {
            send(
                events,
                ApplyEvent::WaitingForCrds {
                    names: crds.clone(),
                },
            );
            wait_established(client, &crds, settings.establish_timeout)
                .await
                .map_err(|e| partial(vec![e]))?;
            refresh(&mut resolver, &planned)
                .await
                .map_err(|e| partial(vec![e]))?;
        }
        if batch.is_empty() {
            continue;
        }
        send(events, ApplyEvent::Phase(phase));
        // The futures are built before they enter the stream: a closure over borrowed data inside
        // the stream's type would make this future not `Send` (rustc's higher-ranked lifetimes).
        let applies: Vec<_> = batch
            .into_iter()
            .map(|p| {
                apply_one(
                    client,
                    p,
                    settings.force_conflicts,
                    settings.validation,
                    settings.field_manager,
                )
            })
            .collect();
        let results: Vec<Result<(ObjectRef, Outcome), DocError>> =
            stream::iter(applies).buffered(PARALLEL).collect().await;
        let mut errors = Vec::new();
        record(results, events, &mut report, &mut errors);
        if !errors.is_empty() {
            return Err(partial(errors));
        }
    }
    Ok(report)
}

fn partial(errors: Vec<DocError>) -> Failure {
    Failure {
        errors,
        nothing_applied: false,
    }
}

async fn apply_one(
    client: &kube::Client,
    p: &Planned,
    force: bool,
    validation: Validation,
    manager: &str,
) -> Result<(ObjectRef, Outcome), DocError> {
    let mut params = validation.on(PatchParams::apply(manager));
    if force {
        params = params.force();
    }
    let applied = p
        .api(client)
        .patch(&p.object.name, &params, &Patch::Apply(&p.doc.object))
        .await
        .map_err(|e| from_kube(&e, Some(p.doc.at()), Some(p.object.to_string())))?;
    let before = p
        .live
        .as_ref()
        .and_then(|l| l["metadata"]["resourceVersion"].as_str());
    let outcome = match before {
        None => Outcome::Created,
        Some(rv) if Some(rv) == applied.metadata.resource_version.as_deref() => Outcome::Unchanged,
        Some(_) => Outcome::Configured,
    };
    Ok((p.object.clone(), outcome))
}

/// Waits until every CRD reports Established.
async fn wait_established(
    client: &kube::Client,
    names: &[String],
    timeout: Duration,
) -> Result<(), DocError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let waits = names.iter().map(|n| {
        let api = api.clone();
        async move {
            tokio::time::timeout(
                timeout,
                await_condition(api, n, conditions::is_crd_established()),
            )
            .await
            .map_err(|_| DocError {
                object: Some(format!("CustomResourceDefinition/{n}")),
                message: format!("not Established after {}s", timeout.as_secs()),
                hint: format!(
                    "look at its conditions: kubectl get crd {n} -o jsonpath='{{.status.conditions}}'"
                ),
                ..Default::default()
            })?
            .map_err(|e| DocError {
                object: Some(format!("CustomResourceDefinition/{n}")),
                message: format!("waiting for Established: {e}"),
                hint: "check that the cluster is reachable and apply again".into(),
                ..Default::default()
            })
            .map(|_| ())
        }
    });
    for r in futures::future::join_all(waits).await {
        r?;
    }
    Ok(())
}

/// Re-runs discovery for the kinds the set's CRDs define, until the server serves them.
async fn refresh(resolver: &mut Resolver, planned: &[Planned]) -> Result<(), DocError> {
    let pending: Vec<&Planned> = planned
        .iter()
        .filter(|p| p.kind.pending_schema.is_some())
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    let mut avs: Vec<String> = pending
        .iter()
        .map(|p| p.doc.api_version().to_string())
        .collect();
    avs.sort();
    avs.dedup();
    let docs: Vec<Document> = pending.iter().map(|p| p.doc.clone()).collect();
    for attempt in 0..50 {
        resolver.invalidate(&avs);
        resolver
            .prefetch(&docs)
            .await
            .map_err(|e| from_kube(&e, None, None))?;
        let served = docs.iter().all(|d| {
            resolver
                .resolve(d)
                .is_some_and(|k| k.pending_schema.is_none())
        });
        if served {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20 * (attempt + 1).min(10))).await;
    }
    Err(DocError {
        message: format!(
            "the CRDs are Established but discovery does not list their kinds ({})",
            avs.join(", ")
        ),
        hint: "wait a moment and apply again".into(),
        ..Default::default()
    })
}

/// Deletes the set's objects in reverse order; objects already gone are reported as not found.
pub async fn delete(
    client: &kube::Client,
    docs: Vec<Document>,
    settings: &Settings,
    events: Option<&UnboundedSender<ApplyEvent>>,
) -> Result<Report, Failure> {
    send(events, ApplyEvent::Checking { total: docs.len() });
    let (_, resolved) = resolve_all(client, docs, &settings.namespace).await?;
    send(
        events,
        ApplyEvent::Checked {
            total: resolved.len(),
        },
    );
    let mut report = Report::default();
    let mut errors = Vec::new();
    for phase in Phase::ALL.into_iter().rev() {
        let batch: Vec<_> = resolved
            .iter()
            .filter(|(d, _)| Phase::of(d) == phase)
            .collect();
        if batch.is_empty() {
            continue;
        }
        send(events, ApplyEvent::Phase(phase));
        let deletes: Vec<_> = batch
            .into_iter()
            .map(|(doc, kind)| async move {
                let object = ObjectRef {
                    kind: doc.kind().to_string(),
                    name: doc.name().to_string(),
                    namespace: kind
                        .namespaced
                        .then(|| doc.namespace().unwrap_or_default().to_string()),
                };
                if kind.pending_schema.is_some() {
                    return Ok((object, Outcome::NotFound));
                }
                let api: Api<kube::api::DynamicObject> = match &object.namespace {
                    Some(ns) => Api::namespaced_with(client.clone(), ns, &kind.resource),
                    None => Api::all_with(client.clone(), &kind.resource),
                };
                match api.delete(&object.name, &DeleteParams::background()).await {
                    Ok(_) => Ok((object, Outcome::Deleted)),
                    Err(kube::Error::Api(s)) if s.code == 404 => Ok((object, Outcome::NotFound)),
                    Err(e) => Err(from_kube(&e, Some(doc.at()), Some(object.to_string()))),
                }
            })
            .collect();
        let results: Vec<Result<(ObjectRef, Outcome), DocError>> =
            stream::iter(deletes).buffered(PARALLEL).collect().await;
        record(results, events, &mut report, &mut errors);
    }
    if errors.is_empty() {
        Ok(report)
    } else {
        Err(partial(errors))
    }
}
