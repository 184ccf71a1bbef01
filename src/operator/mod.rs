//! The built-in Gordon operator (kube-runtime Controller).
//!
//! A [`Controller`] on Gordons that owns their pods. Each reconcile is level-triggered: it reads the Gordon
//! and its pods, deletes Failed/Succeeded pods and the surplus (not-ready first, then newest), creates the
//! missing ones, writes the status subresource when it changed and records events on the Gordon. Every step
//! goes to a channel of [`OperatorLog`] lines for humans (the CLI prints them, the TUI shows them).
//!
//! **No overshoot.** The kube Controller never runs two reconciles of one Gordon at once. On top of that each
//! reconcile decides from an *authoritative read*: it GETs the Gordon and LISTs its pods from the API server
//! (consistent reads, not the watch cache) right before acting. Every pod an earlier reconcile created or
//! deleted — in this process or in a previous run of the operator — is therefore in that list, however late
//! or broken the watches are, so the operator never creates a pod the spec does not ask for. (Two *separate*
//! operator processes on the same Gordons could still race: there is no leader election.)

pub mod bench;
pub mod error;
pub mod log;
pub mod plan;
pub mod types;

pub use error::Error;
pub use log::{Kind, Level, LogSink, OperatorLog};
pub use types::{DEFAULT_IMAGE, Gordon, GordonSpec, GordonStatus, LABEL};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::controller::{Action, Controller, Error as CtrlError};
use kube::runtime::events::{Event as KEvent, EventType, Recorder, Reporter};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use plan::{PodState, PodView};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The field manager and event reporter name of the operator.
pub const MANAGER: &str = "oplab-gordon-operator";
/// How often a Gordon is reconciled when nothing happens (level-triggered safety net).
pub const RESYNC: Duration = Duration::from_secs(300);

/// At most this many Gordons reconcile at once (each one is still serialized): bounds the open
/// connections and the memory of a burst (500 Gordons created at once).
pub const CONCURRENCY: u16 = 16;

/// Which Gordons the operator manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One namespace (works with the namespaced Role).
    Namespace(String),
    /// Every namespace (needs the ClusterRole).
    All,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Namespace(ns) => write!(f, "namespace {ns}"),
            Scope::All => f.write_str("all namespaces"),
        }
    }
}

impl Scope {
    fn api<K>(&self, client: Client) -> Api<K>
    where
        K: Resource<Scope = kube::core::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        match self {
            Scope::Namespace(ns) => Api::namespaced(client, ns),
            Scope::All => Api::all(client),
        }
    }
}

/// Whether the operator can start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrdCheck {
    Ready,
    /// The Gordon CRD is not served: what to do, for humans.
    Missing(String),
    /// Not allowed to list Gordons in the scope.
    Forbidden(String),
    /// Could not ask (connection, server error).
    Failed(String),
}

/// Asks the API server whether Gordons are served and listable in `scope`.
pub async fn check_crd(client: &Client, scope: &Scope) -> CrdCheck {
    let api: Api<Gordon> = scope.api(client.clone());
    match api.list_metadata(&ListParams::default().limit(1)).await {
        Ok(_) => CrdCheck::Ready,
        Err(e) => match error::status_code(&e) {
            Some(404) => CrdCheck::Missing(format!(
                "the Gordon CRD (gordons.{}) is not installed; {}",
                types::GROUP,
                error::CRD_HINT
            )),
            Some(403) => CrdCheck::Forbidden(format!(
                "permission denied: the operator may not list gordons.{} in {scope}; {} (server said: {})",
                types::GROUP,
                error::rbac_hint(scope),
                error::server_message(&e)
            )),
            _ => CrdCheck::Failed(format!("could not list Gordons in {scope}: {e}")),
        },
    }
}

/// Runs the operator until `stop` is cancelled; reconcile errors are retried, never fatal.
/// Waits (and says so in the log) while the Gordon CRD is missing.
pub async fn run(
    client: Client,
    scope: Scope,
    logs: mpsc::Sender<OperatorLog>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let log = LogSink::new(logs);
    log.info(
        Kind::Lifecycle,
        None,
        format!("Gordon operator starting, watching Gordons in {scope}"),
    );
    let mut said = None;
    loop {
        let check = check_crd(&client, &scope).await;
        if check == CrdCheck::Ready {
            break;
        }
        if said.as_ref() != Some(&check) {
            let msg = match &check {
                CrdCheck::Missing(m) | CrdCheck::Forbidden(m) | CrdCheck::Failed(m) => m,
                CrdCheck::Ready => "",
            };
            log.warn(Kind::Error, None, format!("{msg} (waiting)"));
            said = Some(check);
        } else {
            // Said once; each later check shows only in the verbose log.
            log.debug(
                Kind::Lifecycle,
                None,
                format!("checked Gordons in {scope} again: still waiting"),
            );
        }
        tokio::select! {
            _ = stop.cancelled() => {
                log.info(Kind::Lifecycle, None, "Gordon operator stopped");
                return Ok(());
            }
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
    let reporter = Reporter {
        controller: MANAGER.into(),
        instance: None,
    };
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        recorder: Recorder::new(client.clone(), reporter),
        log: log.clone(),
        failures: Mutex::default(),
        known: Mutex::default(),
    });
    let gordons: Api<Gordon> = scope.api(client.clone());
    let pods: Api<Pod> = scope.api(client);
    log.info(
        Kind::Lifecycle,
        None,
        format!("watching Gordons and their pods (label {LABEL}) in {scope}"),
    );
    let watch_scope = scope.clone();
    Controller::new(gordons, watcher::Config::default())
        .owns(pods, watcher::Config::default().labels(LABEL))
        .with_config(kube::runtime::controller::Config::default().concurrency(CONCURRENCY))
        .trigger_backoff(WatchBackoff::default())
        .graceful_shutdown_on(stop.cancelled_owned())
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|res| {
            match res {
                Ok(_) => {}
                Err(CtrlError::ObjectNotFound(obj)) => {
                    let key = format!("{}/{}", obj.namespace.as_deref().unwrap_or(""), obj.name);
                    ctx.gone(&key);
                }
                // error_policy logged it already
                Err(CtrlError::ReconcilerFailed(..)) => {}
                Err(CtrlError::QueueError(e)) => log.warn(
                    Kind::Error,
                    None,
                    error::explain_watch_error(&e, &watch_scope),
                ),
                Err(e) => log.warn(Kind::Error, None, format!("controller: {e}")),
            }
            futures::future::ready(())
        })
        .await;
    log.info(Kind::Lifecycle, None, "Gordon operator stopped");
    Ok(())
}

/// Backoff of the controller's watches after an error: 50 ms doubling up to 5 s, reset by any success
/// (kube's default starts at 800 ms and grows to 30 s, which makes a flaky sandbox feel stuck).
#[derive(Debug, Default)]
struct WatchBackoff {
    failures: u32,
}

impl Iterator for WatchBackoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let ms = 50u64
            .saturating_mul(1u64 << self.failures.min(7))
            .min(5_000);
        self.failures = self.failures.saturating_add(1);
        Some(Duration::from_millis(ms))
    }
}

impl kube::runtime::utils::Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.failures = 0;
    }
}

struct Ctx {
    client: Client,
    recorder: Recorder,
    log: LogSink,
    /// Consecutive failed reconciles per Gordon (`ns/name`), for the exponential backoff.
    failures: Mutex<HashMap<String, u32>>,
    /// Gordons seen alive, so that their disappearance is logged once.
    known: Mutex<HashSet<String>>,
}

impl Ctx {
    fn gone(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        let was_known = self
            .known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        if was_known {
            self.log.info(
                Kind::Gone,
                Some(key),
                format!(
                    "Gordon {key} is gone: the garbage collector deletes its pods (ownerReferences)"
                ),
            );
        }
    }

    async fn event(&self, g: &Gordon, reason: &str, action: &str, note: String, pod: Option<&str>) {
        let key = key_of(g);
        let secondary = pod.map(|name| k8s_openapi::api::core::v1::ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            name: Some(name.into()),
            namespace: g.namespace(),
            ..Default::default()
        });
        let ev = KEvent {
            type_: EventType::Normal,
            reason: reason.into(),
            note: Some(note.clone()),
            action: action.into(),
            secondary,
        };
        match self.recorder.publish(&ev, &g.object_ref(&())).await {
            Ok(()) => self.log.debug(
                Kind::Event,
                Some(&key),
                format!("event on Gordon {key}: {reason}: {note}"),
            ),
            Err(e) => {
                let e = Error::new(
                    "create",
                    "events.events.k8s.io",
                    &g.namespace().unwrap_or_default(),
                    e,
                );
                self.log.warn(
                    Kind::Error,
                    Some(&key),
                    format!("could not record an event: {e}"),
                );
            }
        }
    }
}

fn key_of(g: &Gordon) -> String {
    format!("{}/{}", g.namespace().unwrap_or_default(), g.name_any())
}

fn error_policy(g: Arc<Gordon>, err: &Error, ctx: Arc<Ctx>) -> Action {
    let key = key_of(&g);
    let n = {
        let mut f = ctx.failures.lock().unwrap_or_else(|e| e.into_inner());
        let n = f.entry(key.clone()).or_insert(0);
        *n = n.saturating_add(1);
        *n
    };
    let delay = backoff(n);
    ctx.log.warn(
        Kind::Error,
        Some(&key),
        format!(
            "reconcile of Gordon {key} failed: {err}; retry {n} in {} ms",
            delay.as_millis()
        ),
    );
    Action::requeue(delay)
}

/// Exponential backoff per Gordon: 100 ms, 200 ms, ... up to 30 s.
pub fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(20);
    Duration::from_millis(100u64.saturating_mul(1u64 << exp).min(30_000))
}

fn pods_path(ns: &str) -> String {
    format!("/api/v1/namespaces/{ns}/pods")
}

async fn reconcile(cached: Arc<Gordon>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let ns = cached.namespace().unwrap_or_default();
    let name = cached.name_any();
    let key = format!("{ns}/{name}");
    let log = &ctx.log;
    let gordons: Api<Gordon> = Api::namespaced(ctx.client.clone(), &ns);
    let gpath = format!("/apis/{}/v1/namespaces/{ns}/gordons/{name}", types::GROUP);

    // 1. authoritative read of the Gordon (the cache may be behind)
    log.debug(Kind::Call, Some(&key), format!("GET {gpath}"));
    let Some(g) = gordons
        .get_opt(&name)
        .await
        .map_err(|e| Error::new("get", "gordons", &ns, e))?
    else {
        ctx.gone(&key);
        return Ok(Action::await_change());
    };
    if g.metadata.deletion_timestamp.is_some() {
        log.info(
            Kind::Saw,
            Some(&key),
            format!("saw Gordon {key} being deleted: its pods go with it"),
        );
        return Ok(Action::await_change());
    }
    let uid = g.uid().unwrap_or_default();

    // 2. authoritative list of its pods
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let selector = format!("{LABEL}={name}");
    log.debug(
        Kind::Call,
        Some(&key),
        format!("GET {}?labelSelector={selector}", pods_path(&ns)),
    );
    let list = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| Error::new("list", "pods", &ns, e))?;
    let mut views = Vec::new();
    let mut foreign = 0;
    for p in &list.items {
        let ours = p
            .owner_references()
            .iter()
            .any(|o| o.controller == Some(true) && o.uid == uid);
        match (ours, PodView::from_pod(p)) {
            (true, Some(v)) => views.push(v),
            _ => foreign += 1,
        }
    }
    let count = |s: PodState| views.iter().filter(|p| p.state == s).count();
    let (ready, not_ready, finished, terminating) = (
        count(PodState::Ready),
        count(PodState::NotReady),
        count(PodState::Finished),
        count(PodState::Terminating),
    );
    let want_text = match g.spec.gordon.replicas {
        Some(n) => n.to_string(),
        None => "?".into(),
    };
    let mut saw =
        format!("saw Gordon {key}: want {want_text}, have {ready} running, {not_ready} pending");
    if finished > 0 {
        saw += &format!(", {finished} failed/succeeded");
    }
    if terminating > 0 {
        saw += &format!(", {terminating} terminating");
    }
    if foreign > 0 {
        saw += &format!(", {foreign} with the label but not controlled by it (ignored)");
    }
    log.info(Kind::Saw, Some(&key), saw);

    let generation = g.metadata.generation;
    let old = g.status.as_ref();
    let now = jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string();
    let want = match g.spec.gordon.replicas {
        Some(n) if n >= 0 => n,
        other => {
            let why = match other {
                Some(n) => format!("spec.gordon.replicas is {n}: it must be 0 or more"),
                None => "spec.gordon.replicas is missing or not an integer".to_string(),
            };
            log.warn(
                Kind::Error,
                Some(&key),
                format!("Gordon {key}: {why}; doing nothing"),
            );
            let status = plan::invalid_status(&why, &views, generation, old, &now);
            write_status(&ctx, &gordons, &key, &gpath, old, status).await?;
            return Ok(Action::await_change());
        }
    };

    // 3. decide and act
    let plan = plan::plan(want as usize, &views);
    let active = ready + not_ready;
    let spec_changed = old.and_then(|s| s.observed_generation) != generation;
    if spec_changed && active as i64 != want {
        let note = format!("Scaling from {active} to {want} pods");
        log.info(
            Kind::Event,
            Some(&key),
            format!("scale Gordon {key}: {active} -> {want} pods"),
        );
        ctx.event(&g, "Scaled", "Scale", note, None).await;
    }
    let mut first_error = None;
    let mut removed = HashSet::new();
    let deletions = plan
        .replace
        .iter()
        .map(|p| (p, "replace finished pod"))
        .chain(plan.surplus.iter().map(|p| (p, "surplus pod")));
    let results = futures::future::join_all(deletions.map(|(p, why)| {
        let pods = pods.clone();
        let ctx = ctx.clone();
        let (g, key, ns) = (&g, &key, &ns);
        async move {
            let state = match p.state {
                PodState::Ready => "running",
                PodState::NotReady => "pending",
                _ => "finished",
            };
            ctx.log.info(
                Kind::Call,
                Some(key),
                format!("DELETE {}/{} ({why}, {state})", pods_path(ns), p.name),
            );
            let dp = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: Some(p.uid.clone()),
                    resource_version: None,
                }),
                ..Default::default()
            };
            match pods.delete(&p.name, &dp).await {
                Ok(_) => {}
                Err(e) if error::status_code(&e) == Some(404) => {}
                Err(e) => return Err(Error::new("delete", "pods", ns, e)),
            }
            ctx.event(
                g,
                "SuccessfulDelete",
                "Delete",
                format!("Deleted pod: {} ({why})", p.name),
                Some(&p.name),
            )
            .await;
            Ok(p.name.clone())
        }
    }))
    .await;
    for r in results {
        match r {
            Ok(name) => {
                removed.insert(name);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }

    let image = g
        .spec
        .gordon
        .image
        .clone()
        .unwrap_or_else(|| DEFAULT_IMAGE.to_string());
    let template = pod_for(&g, &image);
    let results = futures::future::join_all((0..plan.create).map(|_| {
        let pods = pods.clone();
        let ctx = ctx.clone();
        let template = template.clone();
        let (g, key, ns) = (&g, &key, &ns);
        async move {
            let pod = pods
                .create(
                    &PostParams {
                        field_manager: Some(MANAGER.into()),
                        ..Default::default()
                    },
                    &template,
                )
                .await
                .map_err(|e| Error::new("create", "pods", ns, e))?;
            let pname = pod.name_any();
            ctx.log.info(
                Kind::Call,
                Some(key),
                format!(
                    "POST {} (create pod {pname}, image {})",
                    pods_path(ns),
                    image_of(&pod)
                ),
            );
            ctx.event(
                g,
                "SuccessfulCreate",
                "Create",
                format!("Created pod: {pname}"),
                Some(&pname),
            )
            .await;
            Ok::<_, Error>(pod)
        }
    }))
    .await;
    let mut remaining: Vec<PodView> = views
        .into_iter()
        .filter(|p| p.active() && !removed.contains(&p.name))
        .collect();
    for r in results {
        match r {
            Ok(pod) => remaining.extend(PodView::from_pod(&pod)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }

    // 4. status, only when it changed
    let status = plan::status_for(want, &remaining, generation, old, &now);
    write_status(&ctx, &gordons, &key, &gpath, old, status).await?;
    ctx.failures
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&key);
    ctx.known
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key);
    Ok(Action::requeue(RESYNC))
}

fn image_of(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.as_deref())
        .unwrap_or("")
}

async fn write_status(
    ctx: &Ctx,
    gordons: &Api<Gordon>,
    key: &str,
    gpath: &str,
    old: Option<&GordonStatus>,
    status: GordonStatus,
) -> Result<(), Error> {
    if plan::same_status(old, &status) {
        return Ok(());
    }
    let name = key.rsplit('/').next().unwrap_or(key);
    let ns = key.split('/').next().unwrap_or("");
    ctx.log.info(
        Kind::Call,
        Some(key),
        format!(
            "PATCH {gpath}/status (replicas {}, ready {}, generation {})",
            status.replicas.unwrap_or(0),
            status.ready_replicas.unwrap_or(0),
            status.observed_generation.unwrap_or(0),
        ),
    );
    let patch = serde_json::json!({ "status": status });
    gordons
        .patch_status(
            name,
            &PatchParams {
                field_manager: Some(MANAGER.into()),
                ..Default::default()
            },
            &Patch::Merge(&patch),
        )
        .await
        .map_err(|e| Error::new("patch", "gordons/status", ns, e))?;
    Ok(())
}

/// The pod the operator creates for a Gordon.
pub fn pod_for(g: &Gordon, image: &str) -> Pod {
    let name = g.name_any();
    let owner = OwnerReference {
        api_version: Gordon::api_version(&()).into_owned(),
        kind: Gordon::kind(&()).into_owned(),
        name: name.clone(),
        uid: g.uid().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: g.namespace(),
            labels: Some([(LABEL.to_string(), name)].into()),
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: types::CONTAINER.into(),
                image: Some(image.to_string()),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: None,
    }
}
