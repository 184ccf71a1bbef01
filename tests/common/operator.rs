//! Helpers of the operator tests: install the CRD, run the operator in a task, poll until converged,
//! and watch for overshoot (the most active pods a Gordon ever had).
#![allow(dead_code)]

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, ResourceExt};
use oplab::operator::{Gordon, LABEL, OperatorLog, Scope};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub async fn install_crd(client: &Client) {
    oplab::operator::bench::install_crd(client)
        .await
        .expect("Gordon CRD installed");
}

pub async fn namespace(client: &Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).expect("ns");
    api.create(&PostParams::default(), &ns)
        .await
        .expect("namespace created");
}

/// The operator in a background task, its log collected.
pub struct Operator {
    pub stop: CancellationToken,
    pub handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    pub logs: Arc<Mutex<Vec<OperatorLog>>>,
}

impl Operator {
    pub fn start(client: Client, scope: Scope) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::channel(100_000);
        let logs: Arc<Mutex<Vec<OperatorLog>>> = Arc::default();
        let sink = logs.clone();
        tokio::spawn(async move {
            while let Some(l) = rx.recv().await {
                sink.lock().expect("logs").push(l);
            }
        });
        let stop = CancellationToken::new();
        let handle = tokio::spawn(oplab::operator::run(client, scope, tx, stop.clone()));
        Self { stop, handle, logs }
    }

    /// Graceful stop: waits for running reconciles; the operator must end without error.
    pub async fn stop(self) {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.handle)
            .await
            .expect("operator stops within 10 s")
            .expect("operator task")
            .expect("operator ends Ok");
    }

    /// Hard kill, as if the process died mid-reconcile.
    pub async fn kill(self) {
        self.handle.abort();
        let _ = self.handle.await;
    }

    pub fn lines(&self) -> Vec<String> {
        self.logs
            .lock()
            .expect("logs")
            .iter()
            .map(|l| l.message.clone())
            .collect()
    }
}

pub fn gordon(ns: &str, name: &str, replicas: i64) -> Gordon {
    oplab::operator::bench::gordon(ns, name, replicas).expect("gordon")
}

pub async fn create_gordon(client: &Client, ns: &str, name: &str, replicas: i64) {
    let api: Api<Gordon> = Api::namespaced(client.clone(), ns);
    api.create(&PostParams::default(), &gordon(ns, name, replicas))
        .await
        .expect("gordon created");
}

pub async fn scale(client: &Client, ns: &str, name: &str, replicas: i64) -> kube::Result<Gordon> {
    let api: Api<Gordon> = Api::namespaced(client.clone(), ns);
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"gordon": {"replicas": replicas}}})),
    )
    .await
}

pub async fn pods_of(client: &Client, ns: &str, name: &str) -> Vec<Pod> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    api.list(&ListParams::default().labels(&format!("{LABEL}={name}")))
        .await
        .map(|l| l.items)
        .unwrap_or_default()
}

pub fn active(pods: &[Pod]) -> Vec<&Pod> {
    pods.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect()
}

pub fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// Polls `check` until it returns Ok or `timeout` passes; panics with the last reason.
pub async fn until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match check().await {
            Ok(()) => return,
            Err(why) => {
                if tokio::time::Instant::now() > deadline {
                    panic!("{what}: not after {timeout:?}: {why}");
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Checks that Gordon ns/name has exactly `n` pods, all Running and ready, owned by it, and a status that says so.
pub async fn converged(client: &Client, ns: &str, name: &str, n: usize) -> Result<(), String> {
    let api: Api<Gordon> = Api::namespaced(client.clone(), ns);
    let g = api.get(name).await.map_err(|e| e.to_string())?;
    let pods = pods_of(client, ns, name).await;
    let act = active(&pods);
    if act.len() != n {
        return Err(format!("{} active pods, want {n}", act.len()));
    }
    let uid = g.uid().unwrap_or_default();
    for p in &act {
        if phase(p) != "Running" {
            return Err(format!("pod {} is {}", p.name_any(), phase(p)));
        }
        let owners: Vec<_> = p
            .owner_references()
            .iter()
            .filter(|o| o.controller == Some(true))
            .collect();
        assert_eq!(owners.len(), 1, "one controller of {}", p.name_any());
        assert_eq!(
            owners[0].uid,
            uid,
            "pod {} owned by the Gordon",
            p.name_any()
        );
        assert_eq!(owners[0].block_owner_deletion, Some(true));
    }
    let st = g.status.clone().unwrap_or_default();
    let mut names: Vec<String> = act.iter().map(|p| p.name_any()).collect();
    names.sort();
    let want = (
        Some(n as i64),
        Some(n as i64),
        Some(names),
        g.metadata.generation,
    );
    let have = (
        st.replicas,
        st.ready_replicas,
        st.pods.clone(),
        st.observed_generation,
    );
    if want != have {
        return Err(format!("status {have:?}, want {want:?}"));
    }
    match st.condition("Ready") {
        Some(c) if c.status == "True" && c.last_transition_time.is_some() => Ok(()),
        other => Err(format!("Ready condition {other:?}")),
    }
}

pub async fn wait_converged(client: &Client, ns: &str, name: &str, n: usize) {
    until(
        &format!("Gordon {ns}/{name} with {n} running pods"),
        Duration::from_secs(20),
        || converged(client, ns, name, n),
    )
    .await
}

/// Watches all Gordon pods and remembers, per `ns/gordon`, the most active pods ever seen at once.
pub struct Overshoot {
    pub max: Arc<Mutex<HashMap<String, usize>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Overshoot {
    pub fn watch(client: Client) -> Self {
        let api: Api<Pod> = Api::all(client);
        let (reader, writer) = reflector::store();
        let stream = reflector(
            writer,
            watcher(api, watcher::Config::default().labels(LABEL)),
        )
        .default_backoff()
        .touched_objects();
        let max: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let m = max.clone();
        let task = tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while stream.next().await.is_some() {
                let mut counts: HashMap<String, usize> = HashMap::new();
                for p in reader.state() {
                    if p.metadata.deletion_timestamp.is_none()
                        && !matches!(phase(&p), "Failed" | "Succeeded")
                    {
                        let key = format!(
                            "{}/{}",
                            p.namespace().unwrap_or_default(),
                            p.labels().get(LABEL).cloned().unwrap_or_default()
                        );
                        *counts.entry(key).or_default() += 1;
                    }
                }
                let mut m = m.lock().expect("max");
                for (k, c) in counts {
                    let e = m.entry(k).or_default();
                    *e = (*e).max(c);
                }
            }
        });
        Self { max, task }
    }

    pub fn max_of(&self, key: &str) -> usize {
        self.max.lock().expect("max").get(key).copied().unwrap_or(0)
    }

    pub fn reset(&self) {
        self.max.lock().expect("max").clear();
    }
}

impl Drop for Overshoot {
    fn drop(&mut self) {
        self.task.abort();
    }
}
