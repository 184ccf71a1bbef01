//! The board engine: every attendee's tasks evaluated live over one watch per kind.
//!
//! Attendees are found from the namespaces labelled [`ATTENDEE_LABEL`] (one that appears later is
//! added, one whose namespaces are gone or terminating disappears). Each attendee's checks are the
//! labs' checks rendered with [`Lab::attendee_vars`]; tasks whose check is the
//! same for everyone, are evaluated once. The check engine runs with cluster-wide stores, so a
//! change re-evaluates only the tasks of the namespace it happened in.
//!
//! A failing task is *not started* while no object its check looks for exists (absence checks
//! aside), and *failing* once one does; quizzes, probes and exec checks are *not gradable* here.

use super::ATTENDEE_LABEL;
use super::snapshot::{Cell, Column, Connection, Row, Snapshot, TaskKind};
use crate::checks::stores::{View, WatchState};
use crate::checks::{Engine, Scope, Verdict, WatchKey, eval};
use crate::lab::{Check, Lab};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// A per-attendee task: its column and where it comes from.
struct Spec {
    column: Column,
    lab: usize,
}

/// The live board.
pub struct Board {
    engine: Engine,
    labs: Vec<Lab>,
    /// Per-attendee columns.
    specs: Vec<Spec>,
    /// Shared tasks with their engine index.
    shared: Vec<(Column, usize)>,
    /// Engine index of each attendee's per-attendee tasks (`None` for quizzes), known attendees.
    known: BTreeMap<String, Vec<Option<usize>>>,
    /// Each known attendee's task titles (their namespaces filled in), by column.
    titles: BTreeMap<String, Vec<String>>,
    /// Attendees whose namespaces exist now.
    present: BTreeSet<String>,
    cells: HashMap<usize, Cell>,
    namespaces: WatchKey,
}

/// Two attendee names: a task whose check is the same for both is the same for everyone.
const PROBE_NAMES: (&str, &str) = ("oplab-probe-a", "oplab-probe-b");

fn quiz_cell() -> Cell {
    Cell::NotGradable("a quiz: answered in the attendee's oplab, the cluster cannot tell".into())
}

impl Board {
    /// A board over `labs` (all tasks of each) on `client`; starts the watches at once.
    pub fn new(client: kube::Client, labs: Vec<Lab>) -> Self {
        let mut engine = Engine::with_scope(client, Scope::ClusterWide);
        let namespaces = WatchKey {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            namespace: None,
        };
        engine.stores().ensure(&namespaces);
        let mut specs = Vec::new();
        let mut shared = Vec::new();
        for t in classify(&labs) {
            match t.shared {
                Some(check) => {
                    let c = &t.column;
                    let i = engine.add_check(&c.lab, &c.task, &c.title, check);
                    shared.push((t.column, i));
                }
                None => {
                    // The kinds every attendee's check reads: watched before anyone shows up.
                    for key in eval::keys(&t.sample) {
                        engine.stores().ensure(&key);
                    }
                    specs.push(Spec {
                        column: t.column,
                        lab: t.lab,
                    });
                }
            }
        }
        Self {
            engine,
            labs,
            specs,
            shared,
            known: BTreeMap::new(),
            titles: BTreeMap::new(),
            present: BTreeSet::new(),
            cells: HashMap::new(),
            namespaces,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Waits (at most `timeout`) until every watch has answered, then finds the attendees and
    /// evaluates everything.
    pub async fn settle(&mut self, timeout: Duration) {
        self.engine.settle(timeout).await;
        self.sync_attendees();
        for v in 0..self.engine.len() {
            let verdict = self.engine.evaluate(v).verdict;
            self.set_cell(v, &verdict);
        }
    }

    /// Waits for the next change and applies it; the keys that changed (a namespaced object's
    /// change names its namespace). `None` when the watches are gone.
    pub async fn next(&mut self) -> Option<BTreeSet<WatchKey>> {
        let round = self.engine.next_round().await?;
        for (i, v) in round.changed {
            self.set_cell(i, &v.verdict);
        }
        if round.keys.iter().any(|k| k.same_kind(&self.namespaces)) {
            self.sync_attendees();
        }
        Some(round.keys)
    }

    /// Streams snapshots until cancelled: one after settling (at most `settle`), then one per
    /// change. Receivers take the latest; rendering never waits for the network.
    pub async fn run(
        mut self,
        settle: Duration,
        tx: watch::Sender<Arc<Snapshot>>,
        cancel: CancellationToken,
    ) {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = self.settle(settle) => {}
        }
        tx.send_replace(Arc::new(self.snapshot()));
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                more = self.next() => {
                    if more.is_none() {
                        break;
                    }
                    tx.send_replace(Arc::new(self.snapshot()));
                }
            }
        }
        self.engine.stores().shutdown();
    }

    fn set_cell(&mut self, i: usize, verdict: &Verdict) {
        let cell = match verdict {
            Verdict::Pass => Cell::Pass,
            Verdict::Fail(r) if self.engine.started(i) => Cell::Fail(r.as_str().into()),
            Verdict::Fail(r) => Cell::NotStarted(r.as_str().into()),
            Verdict::CannotCheck(r) | Verdict::Skipped(r) => Cell::NotGradable(r.as_str().into()),
            Verdict::Disconnected(r) => Cell::Unknown(r.as_str().into()),
        };
        self.cells.insert(i, cell);
    }

    /// The attendees whose labelled namespaces exist (and are not being deleted).
    fn attendees_now(&self) -> Option<BTreeSet<String>> {
        let slot = self.engine.stores().slot(&self.namespaces)?;
        if slot.state != WatchState::Ready {
            return None;
        }
        let store = slot.store?;
        Some(
            store
                .state()
                .iter()
                .filter(|ns| ns.metadata.deletion_timestamp.is_none())
                .filter_map(|ns| ns.metadata.labels.as_ref()?.get(ATTENDEE_LABEL).cloned())
                .filter(|name| super::validate_attendee_name(name).is_ok())
                .collect(),
        )
    }

    /// Adds the tasks of attendees who appeared; forgets who left. Keeps the rows while the
    /// namespace watch is not current.
    fn sync_attendees(&mut self) {
        let Some(now) = self.attendees_now() else {
            return;
        };
        for name in &now {
            if self.known.contains_key(name) {
                continue;
            }
            let ids = self.add_attendee(name);
            for i in ids.iter().flatten() {
                let verdict = self.engine.evaluate(*i).verdict;
                self.set_cell(*i, &verdict);
            }
            self.known.insert(name.clone(), ids);
        }
        // Attendees who left keep their (idle) tasks in the engine, so one who comes back is
        // picked up again without new watches; they are not shown.
        self.present = now;
    }

    fn add_attendee(&mut self, name: &str) -> Vec<Option<usize>> {
        let rendered: Vec<Lab> = self
            .labs
            .iter()
            .map(|l| l.render_vars(&l.attendee_vars(name)))
            .collect();
        let titles = self
            .specs
            .iter()
            .map(|spec| {
                rendered[spec.lab]
                    .task(&spec.column.task)
                    .map_or_else(|| spec.column.title.clone(), |t| t.title.clone())
            })
            .collect();
        self.titles.insert(name.to_string(), titles);
        let mut ids = Vec::with_capacity(self.specs.len());
        for spec in &self.specs {
            if spec.column.kind == TaskKind::Quiz {
                ids.push(None);
                continue;
            }
            let check: Option<Check> = rendered[spec.lab]
                .task(&spec.column.task)
                .map(|t| t.check.clone());
            ids.push(check.map(|c| {
                self.engine
                    .add_check(&spec.column.lab, &spec.column.task, &spec.column.title, c)
            }));
        }
        ids
    }

    fn cell(&self, i: Option<usize>) -> Cell {
        match i {
            None => quiz_cell(),
            Some(i) => self
                .cells
                .get(&i)
                .cloned()
                .unwrap_or_else(|| Cell::Unknown("not evaluated yet".into())),
        }
    }

    fn connection(&self) -> Connection {
        let stores = self.engine.stores();
        let mut connecting = false;
        for key in stores.keys() {
            match stores.slot(&key).map(|s| s.state) {
                Some(WatchState::Disconnected(why)) => return Connection::Reconnecting(why),
                Some(WatchState::Connecting | WatchState::Listing) | None => connecting = true,
                _ => {}
            }
        }
        if connecting {
            Connection::Connecting
        } else {
            Connection::Live
        }
    }

    /// The board now.
    pub fn snapshot(&self) -> Snapshot {
        let rows = self
            .present
            .iter()
            .filter_map(|name| {
                let ids = self.known.get(name)?;
                Some(Row {
                    name: name.clone(),
                    cells: ids.iter().map(|&i| self.cell(i)).collect(),
                    titles: self.titles.get(name).cloned().unwrap_or_default(),
                })
            })
            .collect();
        Snapshot {
            tasks: self.specs.iter().map(|s| s.column.clone()).collect(),
            rows,
            shared: self
                .shared
                .iter()
                .map(|(c, i)| (c.clone(), self.cell(Some(*i))))
                .collect(),
            connection: self.connection(),
            watches: self.engine.stores().watch_count(),
        }
    }
}

/// A task of the labs as the board sees it.
struct Classified {
    column: Column,
    /// Index of its lab.
    lab: usize,
    /// For a shared task: the check to evaluate once.
    shared: Option<Check>,
    /// The check as rendered for some attendee (for the kinds it reads).
    sample: Check,
}

/// Every task of `labs` in order: quizzes, shared tasks (checks the same for every attendee, such
/// as an instructor step's CRD) and attendee tasks (an instructor step's check of an attendee's own
/// namespace included).
fn classify(labs: &[Lab]) -> Vec<Classified> {
    let (a, b) = PROBE_NAMES;
    let mut out = Vec::new();
    for (li, lab) in labs.iter().enumerate() {
        let ra = lab.render_vars(&lab.attendee_vars(a));
        let rb = lab.render_vars(&lab.attendee_vars(b));
        let defaults = lab.render_vars(&lab.default_vars());
        for (((step, sa), sb), sd) in lab
            .steps
            .iter()
            .zip(&ra.steps)
            .zip(&rb.steps)
            .zip(&defaults.steps)
        {
            for ((ta, tb), td) in sa.tasks().zip(sb.tasks()).zip(sd.tasks()) {
                let kind = if ta.check.quiz().is_some() {
                    TaskKind::Quiz
                } else if ta.check == tb.check {
                    TaskKind::Shared
                } else {
                    TaskKind::Attendee
                };
                out.push(Classified {
                    column: Column {
                        lab: lab.id.clone(),
                        task: ta.id.clone(),
                        title: td.title.clone(),
                        kind,
                        instructor: step.instructor_only,
                    },
                    lab: li,
                    shared: (kind == TaskKind::Shared).then(|| td.check.clone()),
                    sample: ta.check.clone(),
                });
            }
        }
    }
    out
}

/// The checks of the shared tasks of `labs` (checks the same for everyone, such as CRDs):
/// what attendees must be able to read beyond their own namespaces.
pub fn shared_checks(labs: &[Lab]) -> Vec<Check> {
    classify(labs)
        .into_iter()
        .filter_map(|t| t.shared)
        .collect()
}

/// The board's columns for `labs`: the per-attendee tasks (attendee tasks and quizzes) and the
/// shared ones, in lab order.
pub fn columns(labs: &[Lab]) -> (Vec<Column>, Vec<Column>) {
    classify(labs)
        .into_iter()
        .map(|t| t.column)
        .partition(|c| c.kind != TaskKind::Shared)
}

/// The labs of the board: all, or the one with id `lab` (an error naming the ids otherwise).
pub fn select_labs(labs: Vec<Lab>, lab: Option<&str>) -> Result<Vec<Lab>, String> {
    let Some(id) = lab else {
        return Ok(labs);
    };
    let ids: Vec<String> = labs.iter().map(|l| l.id.clone()).collect();
    let picked: Vec<Lab> = labs.into_iter().filter(|l| l.id == id).collect();
    if picked.is_empty() {
        return Err(format!(
            "no lab `{id}`; the labs are: {} (`oplab labs list`)",
            ids.join(", ")
        ));
    }
    Ok(picked)
}
