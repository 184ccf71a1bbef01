//! The engine: active tasks indexed by the watches they read; a change re-evaluates only the tasks
//! that read the changed watch, and only changed verdicts are reported.
//!
//! With cluster-wide stores (the classroom board) a change names the namespace of the object that
//! changed: only the tasks reading that namespace (or all namespaces) of the kind are evaluated
//! again; a change of a watch's state or of a cluster-scoped object re-evaluates every task of the kind.

use super::Verdict;
use super::eval;
use super::stores::{Scope, Slot, Stores, View, WatchKey};
use crate::lab::{Check, ExecSpec, Task};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A task's verdict, as streamed and reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskVerdict {
    pub lab: String,
    pub task: String,
    pub title: String,
    pub verdict: Verdict,
}

struct Active {
    lab: String,
    task: String,
    title: String,
    check: Check,
}

/// Live evaluation of many tasks over shared watches.
pub struct Engine {
    stores: Stores,
    changes: mpsc::UnboundedReceiver<WatchKey>,
    tasks: Vec<Active>,
    index: HashMap<WatchKey, Vec<usize>>,
    /// Tasks by the kind they read (all-namespaces key), for changes that concern a whole kind.
    by_kind: HashMap<WatchKey, Vec<usize>>,
    last: Vec<Option<Verdict>>,
    exec: HashMap<String, Result<String, String>>,
    /// How many task evaluations ran (for tests and the benchmark).
    pub evaluations: u64,
}

fn exec_key(s: &ExecSpec) -> String {
    format!(
        "{}|{:?}|{:?}|{}",
        s.namespace,
        s.pod,
        s.container,
        s.command.join("\u{1f}")
    )
}

struct EngineView<'a> {
    stores: &'a Stores,
    exec: &'a HashMap<String, Result<String, String>>,
}

impl View for EngineView<'_> {
    fn slot(&self, key: &WatchKey) -> Option<Slot> {
        self.stores.slot(key)
    }
    fn exec_output(&self, spec: &ExecSpec) -> Option<Result<String, String>> {
        self.exec.get(&exec_key(spec)).cloned()
    }
}

/// One round of [`Engine::next_round`]: the keys that changed and the verdicts that changed.
#[derive(Debug, Default)]
pub struct Round {
    pub keys: BTreeSet<WatchKey>,
    pub changed: Vec<(usize, TaskVerdict)>,
}

impl Engine {
    pub fn new(client: kube::Client) -> Self {
        Self::with_scope(client, Scope::PerNamespace)
    }

    /// An engine whose watches are cut as `scope` says (see [`Scope`]).
    pub fn with_scope(client: kube::Client, scope: Scope) -> Self {
        let (stores, changes) = Stores::with_scope(client, scope);
        Self {
            stores,
            changes,
            tasks: Vec::new(),
            index: HashMap::new(),
            by_kind: HashMap::new(),
            last: Vec::new(),
            exec: HashMap::new(),
            evaluations: 0,
        }
    }

    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Activates a task (its variables already filled); starts the watches it needs.
    pub fn add(&mut self, lab: &str, task: &Task) -> usize {
        self.add_check(lab, &task.id, &task.title, task.check.clone())
    }

    pub fn add_check(&mut self, lab: &str, id: &str, title: &str, check: Check) -> usize {
        let i = self.tasks.len();
        for (key, name) in eval::named(&check) {
            self.stores.want_name(&key, &name);
        }
        for key in eval::keys(&check) {
            self.stores.ensure(&key);
            self.by_kind
                .entry(key.all_namespaces())
                .or_default()
                .push(i);
            self.index.entry(key).or_default().push(i);
        }
        self.tasks.push(Active {
            lab: lab.to_string(),
            task: id.to_string(),
            title: title.to_string(),
            check,
        });
        self.last.push(None);
        i
    }

    fn view(&self) -> EngineView<'_> {
        EngineView {
            stores: &self.stores,
            exec: &self.exec,
        }
    }

    /// Evaluates one task now.
    pub fn evaluate(&mut self, i: usize) -> TaskVerdict {
        self.evaluations += 1;
        let t = &self.tasks[i];
        let verdict = eval::evaluate(&t.check, &self.view());
        self.last[i] = Some(verdict.clone());
        TaskVerdict {
            lab: t.lab.clone(),
            task: t.task.clone(),
            title: t.title.clone(),
            verdict,
        }
    }

    pub fn evaluate_all(&mut self) -> Vec<TaskVerdict> {
        (0..self.tasks.len()).map(|i| self.evaluate(i)).collect()
    }

    /// The last verdict of a task, if it was evaluated.
    pub fn last(&self, i: usize) -> Option<&Verdict> {
        self.last.get(i).and_then(Option::as_ref)
    }

    /// Whether any object a task's check looks for exists (absence checks aside): tells a task
    /// not started from one started and not done.
    pub fn started(&self, i: usize) -> bool {
        self.tasks
            .get(i)
            .is_some_and(|t| eval::any_object(&t.check, &self.view()))
    }

    /// The tasks a changed key concerns.
    fn affected(&self, keys: &BTreeSet<WatchKey>) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        for k in keys {
            let lists: Vec<&Vec<usize>> = match (self.stores.scope(), &k.namespace) {
                (Scope::PerNamespace, _) => self.index.get(k).into_iter().collect(),
                (Scope::ClusterWide, Some(_)) => {
                    [self.index.get(k), self.index.get(&k.all_namespaces())]
                        .into_iter()
                        .flatten()
                        .collect()
                }
                (Scope::ClusterWide, None) => self.by_kind.get(k).into_iter().collect(),
            };
            out.extend(lists.into_iter().flatten().copied());
        }
        out
    }

    /// Waits until every watch has answered (listed, not served, forbidden or down) or the time is up.
    pub async fn settle(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.stores.all_settled() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            match tokio::time::timeout(left, self.changes.recv()).await {
                Ok(Some(_)) => {}
                _ => return,
            }
        }
    }

    /// Waits for the next change, then re-evaluates the tasks it touches (all changes queued by then
    /// at once) and returns the verdicts that changed. `None` when the watches are gone.
    pub async fn next_changes(&mut self) -> Option<Vec<(usize, TaskVerdict)>> {
        self.next_round().await.map(|r| r.changed)
    }

    /// [`Engine::next_changes`], telling also which keys changed.
    pub async fn next_round(&mut self) -> Option<Round> {
        let first = self.changes.recv().await?;
        let mut keys = BTreeSet::from([first]);
        while let Ok(k) = self.changes.try_recv() {
            keys.insert(k);
        }
        if keys.iter().any(WatchKey::is_crd) {
            self.stores.rediscover();
        }
        let mut changed = Vec::new();
        for i in self.affected(&keys) {
            let before = self.last[i].clone();
            let v = self.evaluate(i);
            if before.as_ref() != Some(&v.verdict) {
                changed.push((i, v));
            }
        }
        Some(Round { keys, changed })
    }

    /// Waits, watch-driven, until the task passes or the time is up; returns its last verdict.
    pub async fn wait_pass(&mut self, i: usize, timeout: Duration) -> TaskVerdict {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.evaluate(i);
            let left = deadline.saturating_duration_since(Instant::now());
            if v.verdict.is_pass() || left.is_zero() {
                return v;
            }
            if !self.wait_change(left).await {
                return self.evaluate(i);
            }
        }
    }

    /// Runs the task's probe (after a moment for its watches to list); the verdict of the probe.
    pub async fn wait_pass_probe(&mut self, i: usize) -> TaskVerdict {
        self.run_probe(i).await
    }

    /// Waits until every given task passes or the time is up.
    pub async fn wait_all(&mut self, tasks: &[usize], timeout: Duration) -> Vec<TaskVerdict> {
        let deadline = Instant::now() + timeout;
        loop {
            let vs: Vec<TaskVerdict> = tasks.iter().map(|&i| self.evaluate(i)).collect();
            let left = deadline.saturating_duration_since(Instant::now());
            if vs.iter().all(|v| v.verdict.is_pass())
                || left.is_zero()
                || !self.wait_change(left).await
            {
                return vs;
            }
        }
    }

    /// Waits for any change (draining the queue); false on timeout.
    async fn wait_change(&mut self, left: Duration) -> bool {
        match tokio::time::timeout(left, self.changes.recv()).await {
            Ok(Some(k)) => {
                let mut crd = k.is_crd();
                while let Ok(k) = self.changes.try_recv() {
                    crd |= k.is_crd();
                }
                if crd {
                    self.stores.rediscover();
                }
                true
            }
            _ => false,
        }
    }

    /// Runs a task's exec checks again and again (with the watches' changes in between) until it passes
    /// or the time is up; its last verdict.
    pub async fn wait_pass_exec(&mut self, i: usize, timeout: Duration) -> TaskVerdict {
        let deadline = Instant::now() + timeout;
        loop {
            self.run_execs(&[i]).await;
            let v = self.evaluate(i);
            let left = deadline.saturating_duration_since(Instant::now());
            if v.verdict.is_pass() || left.is_zero() {
                return v;
            }
            // The commands' output changes without a watch event: look again within a second.
            let _ = self.wait_change(left.min(Duration::from_secs(1))).await;
        }
    }

    /// Runs the exec checks of the given tasks (once; each within its timeout) so they can be evaluated.
    pub async fn run_execs(&mut self, tasks: &[usize]) {
        let mut specs = Vec::new();
        for &i in tasks {
            for c in self.tasks[i].check.walk() {
                if let Check::Exec(e) = c {
                    specs.push(e.exec.clone());
                }
            }
        }
        for spec in specs {
            let out = super::exec::run(self.stores.client(), &spec).await;
            self.exec.insert(exec_key(&spec), out);
        }
    }

    /// Runs a task's probe: does its action, then waits (watch-driven) for its expectation within
    /// its time. Only on explicit request: this changes the cluster.
    pub async fn run_probe(&mut self, i: usize) -> TaskVerdict {
        let t = &self.tasks[i];
        let (lab, task, title) = (t.lab.clone(), t.task.clone(), t.title.clone());
        let probe = t.check.walk().into_iter().find_map(|c| match c {
            Check::Probe(p) => Some(p.clone()),
            _ => None,
        });
        if probe.is_none() && t.check.uses_exec() {
            // `v` on a task with exec checks: run its commands now (each within its time limit).
            self.run_execs(&[i]).await;
            return self.evaluate(i);
        }
        let verdict = match probe {
            None => Verdict::Skipped("no probe in this task".into()),
            Some(p) => self.probe(&p).await,
        };
        self.last[i] = Some(verdict.clone());
        TaskVerdict {
            lab,
            task,
            title,
            verdict,
        }
    }

    async fn probe(&mut self, p: &crate::lab::Probe) -> Verdict {
        let keys = eval::keys(&p.expect);
        keys.iter().for_each(|k| self.stores.ensure(k));
        self.settle(p.within).await;
        while self.changes.try_recv().is_ok() {}
        let did = match super::actions::run(self.stores.client(), &p.action).await {
            Ok(d) => d,
            Err(e) => return Verdict::Fail(format!("the probe's action: {e}")),
        };
        let deadline = Instant::now() + p.within;
        // Accept a pass only after the watches saw a change since the action: never a stale pass.
        let mut seen = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = eval::evaluate(&p.expect, &self.view());
            if seen && v.is_pass() {
                return Verdict::Pass;
            }
            if left.is_zero() {
                return match v {
                    Verdict::Pass => Verdict::Pass,
                    other => Verdict::Fail(format!(
                        "after the probe ({did}), within {}: {}",
                        crate::lab::duration::format(p.within),
                        other.reason()
                    )),
                };
            }
            match tokio::time::timeout(left, self.changes.recv()).await {
                Ok(Some(k)) => seen |= keys.contains(&k),
                Ok(None) => return Verdict::Disconnected("the watches stopped".into()),
                Err(_) => seen = true,
            }
        }
    }

    /// Streams verdicts until cancelled: every task once, then each change. Probe requests (lab and
    /// task ids) run in between. An ordinary tokio task: `tokio::spawn(engine.run(..))`.
    pub async fn run(
        mut self,
        tx: mpsc::UnboundedSender<TaskVerdict>,
        mut probes: mpsc::UnboundedReceiver<(String, String)>,
        cancel: CancellationToken,
    ) {
        for v in self.evaluate_all() {
            let _ = tx.send(v);
        }
        let mut probes_open = true;
        let cancelled = cancel.cancelled_owned();
        tokio::pin!(cancelled);
        loop {
            tokio::select! {
                () = &mut cancelled => break,
                req = probes.recv(), if probes_open => {
                    let Some((lab, task)) = req else {
                        probes_open = false;
                        continue;
                    };
                    // A probe changes the cluster, then waits for its expectation; changes seen
                    // meanwhile are picked up by the next round.
                    if let Some(i) = self.tasks.iter().position(|t| t.lab == lab && t.task == task) {
                        let v = self.run_probe(i).await;
                        let _ = tx.send(v);
                    }
                }
                changes = self.next_changes() => {
                    let Some(changes) = changes else { break };
                    for (_, v) in changes {
                        if tx.send(v).is_err() {
                            self.stores.shutdown();
                            return;
                        }
                    }
                }
            }
        }
        self.stores.shutdown();
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stores.shutdown();
    }
}
