//! The in-memory object store: objects by resource, one resourceVersion counter, watch history and fan-out.
//!
//! Each object version is kept as a [`Stored`] (its compact JSON); readers that need a [`Value`] parse it.
//!
//! The store layer: this versioned map, the generic verbs over it that call each kind's strategy ([`api`]),
//! version conversion, the journal of a state directory, and fault injection for tests.

pub mod api;
pub mod convert;
pub mod faults;
pub mod state;
pub mod stored;

use crate::sandbox::kinds::registry::StorageKey;
pub use crate::sandbox::store::stored::Stored;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One committed change, as watchers see it.
#[derive(Debug)]
pub struct Event {
    pub rv: u64,
    pub key: StorageKey,
    pub namespace: String,
    pub name: String,
    pub kind: EventType,
    /// The object after the change (for Deleted: the last state, with the deletion's resourceVersion).
    pub object: Arc<Stored>,
    /// The object before the change, if any.
    pub old: Option<Arc<Stored>>,
}

/// A reference to one stored object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjRef {
    pub key: StorageKey,
    pub namespace: String,
    pub name: String,
}

/// What a write closure decides.
pub enum Change {
    /// Store this object (create or replace).
    Put(Value),
    /// Remove the object.
    Delete,
    /// Nothing changes: no new resourceVersion, no event.
    Unchanged,
}

/// The result of a committed write.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The object as stored (for a delete: its last state; Null when there was none).
    pub object: Value,
    pub kind: Option<EventType>,
}

/// Watch history older than this resourceVersion is gone.
#[derive(Debug, Clone, Copy)]
pub struct Expired {
    pub requested: u64,
    pub oldest: u64,
}

/// A live feed of committed changes.
pub type EventReceiver = broadcast::Receiver<Arc<Event>>;

/// Objects of one resource, by (namespace, name).
pub type Objects = BTreeMap<(String, String), Arc<Stored>>;

/// Persists committed writes (the durable store behind `--state`).
pub trait Journal: Send {
    /// Called under the store lock for every committed change, before watchers see it.
    fn record(&mut self, event: &Event) -> std::io::Result<()>;
}

struct Inner {
    rv: u64,
    data: HashMap<StorageKey, Objects>,
    history: VecDeque<Arc<Event>>,
    history_cap: usize,
    /// Events with rv <= compacted are no longer replayable.
    compacted: u64,
    /// owner uid -> dependents.
    dependents: HashMap<String, BTreeSet<ObjRef>>,
    /// The live feed of each watched resource: a burst of writes to one resource does not make the
    /// watches of another fall behind.
    feeds: HashMap<StorageKey, broadcast::Sender<Arc<Event>>>,
    journal: Option<Box<dyn Journal>>,
}

/// The store. Cheap to share behind an `Arc`.
pub struct Store {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Event>>,
}

/// How many events a watch may fall behind before it is ended (the client resumes from its last resourceVersion).
const FANOUT_CAPACITY: usize = 16_384;

impl Store {
    pub fn new(history_cap: usize) -> Self {
        let (tx, _) = broadcast::channel(FANOUT_CAPACITY);
        Self {
            inner: Mutex::new(Inner {
                rv: 0,
                data: HashMap::new(),
                history: VecDeque::new(),
                history_cap,
                compacted: 0,
                dependents: HashMap::new(),
                feeds: HashMap::new(),
                journal: None,
            }),
            tx,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock must not take the whole server down: the data is
        // consistent between statements, so recover it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Loads objects (from a durable state) without events; `rv` continues from `last_rv`.
    pub fn restore(&self, objects: Vec<(StorageKey, Arc<Stored>)>, last_rv: u64) {
        let mut inner = self.lock();
        for (key, obj) in objects {
            let (ns, name) = (obj.namespace().to_string(), obj.name().to_string());
            index_owners(
                &mut inner.dependents,
                &key,
                &ns,
                &name,
                None,
                Some(&obj.value()),
            );
            inner.data.entry(key).or_default().insert((ns, name), obj);
        }
        inner.rv = inner.rv.max(last_rv);
        inner.compacted = inner.rv;
    }

    /// Loads the recent history (oldest first, contiguous up to the restored resourceVersion), so watches
    /// resumed from a resourceVersion taken before a restart replay what followed it.
    pub fn restore_history(&self, events: Vec<Event>) {
        let mut inner = self.lock();
        let skip = events.len().saturating_sub(inner.history_cap);
        let mut events = events.into_iter().skip(skip).peekable();
        let Some(first) = events.peek().map(|e| e.rv) else {
            return;
        };
        if events.len() > 0 && inner.history.is_empty() {
            inner.compacted = inner.compacted.min(first.saturating_sub(1));
            inner.history.extend(events.map(Arc::new));
        }
    }

    pub fn set_journal(&self, journal: Box<dyn Journal>) {
        self.lock().journal = Some(journal);
    }

    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    /// The stored version of an object.
    pub fn get_stored(&self, key: &StorageKey, namespace: &str, name: &str) -> Option<Arc<Stored>> {
        self.lock()
            .data
            .get(key)?
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// An object, parsed from its stored version.
    pub fn get(&self, key: &StorageKey, namespace: &str, name: &str) -> Option<Arc<Value>> {
        self.get_stored(key, namespace, name)
            .map(|s| Arc::new(s.value()))
    }

    /// Whether an object exists.
    pub fn contains(&self, key: &StorageKey, namespace: &str, name: &str) -> bool {
        self.lock()
            .data
            .get(key)
            .is_some_and(|m| m.contains_key(&(namespace.to_string(), name.to_string())))
    }

    /// Stored versions of a resource's objects, in one namespace or all, and the resourceVersion of the snapshot.
    /// The objects of a resource as they were at resourceVersion `rv` (`resourceVersionMatch=Exact`),
    /// rebuilt from the current objects by undoing the history after `rv`; Expired when that history is gone.
    pub fn list_stored_at(
        &self,
        key: &StorageKey,
        namespace: Option<&str>,
        rv: u64,
    ) -> Result<Vec<Arc<Stored>>, Expired> {
        let inner = self.lock();
        if rv >= inner.rv {
            return Ok(collect(&inner, key, namespace));
        }
        let expired = Expired {
            requested: rv,
            oldest: inner.compacted + 1,
        };
        if rv < inner.compacted {
            return Err(expired);
        }
        let mut objects: Objects = inner.data.get(key).cloned().unwrap_or_default();
        for ev in inner.history.iter().rev().take_while(|e| e.rv > rv) {
            if &ev.key != key {
                continue;
            }
            let ident = (ev.namespace.clone(), ev.name.clone());
            match (ev.kind, &ev.old) {
                (EventType::Added, _) => {
                    objects.remove(&ident);
                }
                (_, Some(old)) => {
                    objects.insert(ident, old.clone());
                }
                // History restored from a state directory has no earlier states.
                (_, None) => return Err(expired),
            }
        }
        Ok(objects
            .into_iter()
            .filter(|((ns, _), _)| namespace.is_none_or(|n| n == ns))
            .map(|(_, o)| o)
            .collect())
    }

    pub fn list_stored(
        &self,
        key: &StorageKey,
        namespace: Option<&str>,
    ) -> (Vec<Arc<Stored>>, u64) {
        let inner = self.lock();
        (collect(&inner, key, namespace), inner.rv)
    }

    /// Objects of a resource, parsed, in one namespace or all, and the resourceVersion of the snapshot.
    pub fn list(&self, key: &StorageKey, namespace: Option<&str>) -> (Vec<Arc<Value>>, u64) {
        let (objects, rv) = self.list_stored(key, namespace);
        (objects.iter().map(|s| Arc::new(s.value())).collect(), rv)
    }

    /// Number of objects of every resource (for metrics and benchmarks).
    pub fn count(&self) -> usize {
        self.lock().data.values().map(|m| m.len()).sum()
    }

    /// Applies `f` to the current object (parsed) under the store lock and commits what it decides.
    /// `f` receives the next resourceVersion it would get, so it can be written into the object.
    pub fn write<E>(
        &self,
        key: &StorageKey,
        namespace: &str,
        name: &str,
        f: impl FnOnce(Option<&Value>, u64) -> Result<Change, E>,
    ) -> Result<Committed, E>
    where
        E: From<std::io::Error>,
    {
        let mut inner = self.lock();
        let ident = (namespace.to_string(), name.to_string());
        let current = inner.data.get(key).and_then(|m| m.get(&ident)).cloned();
        let current_value = current.as_ref().map(|c| c.value());
        let next_rv = inner.rv + 1;
        let change = f(current_value.as_ref(), next_rv)?;
        let (object, kind) = match change {
            Change::Unchanged => {
                return Ok(Committed {
                    object: current_value.unwrap_or(Value::Null),
                    kind: None,
                });
            }
            Change::Put(mut obj) => {
                set_rv(&mut obj, next_rv);
                let kind = if current.is_some() {
                    EventType::Modified
                } else {
                    EventType::Added
                };
                (obj, kind)
            }
            Change::Delete => {
                let Some(mut last) = current_value.clone() else {
                    return Ok(Committed {
                        object: Value::Null,
                        kind: None,
                    });
                };
                set_rv(&mut last, next_rv);
                (last, EventType::Deleted)
            }
        };
        let stored = Arc::new(Stored::new(&object));
        let event = Arc::new(Event {
            rv: next_rv,
            key: key.clone(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            kind,
            object: stored.clone(),
            old: current.clone(),
        });
        // Durable first: a write the state directory did not take is refused, not acknowledged.
        if let Some(journal) = inner.journal.as_mut()
            && let Err(err) = journal.record(&event)
        {
            tracing::error!("sandbox state: could not record a write: {err}");
            return Err(E::from(err));
        }
        inner.rv = next_rv;
        let map = inner.data.entry(key.clone()).or_default();
        if kind == EventType::Deleted {
            map.remove(&ident);
        } else {
            map.insert(ident.clone(), stored);
        }
        let new_for_index = (kind != EventType::Deleted).then_some(&object);
        index_owners(
            &mut inner.dependents,
            key,
            namespace,
            name,
            current_value.as_ref(),
            new_for_index,
        );
        // History keeps the state before each change too, so a watch resumed from an old resourceVersion
        // replays MODIFIED as MODIFIED and objects leaving its selection as DELETED (as kube-apiserver's
        // watch cache keeps PrevObject: staging/src/k8s.io/apiserver/pkg/storage/cacher/watch_cache.go).
        // The old state is the `object` of the previous event of the same object, usually still in the
        // history: shared, not copied.
        inner.history.push_back(event.clone());
        while inner.history.len() > inner.history_cap {
            if let Some(old) = inner.history.pop_front() {
                inner.compacted = old.rv;
            }
        }
        // Sending under the lock keeps the fan-out in commit order and lets watchers subscribe gap-free.
        if let Some(feed) = inner.feeds.get(key) {
            let _ = feed.send(event.clone());
        }
        let _ = self.tx.send(event);
        Ok(Committed {
            object,
            kind: Some(kind),
        })
    }

    /// Starts a watch: the history after `from_rv` (None = none) and a live receiver, gap-free.
    pub fn watch_from(
        &self,
        key: &StorageKey,
        from_rv: Option<u64>,
    ) -> Result<(Vec<Arc<Event>>, EventReceiver), Expired> {
        let mut inner = self.lock();
        let mut replay = Vec::new();
        if let Some(from) = from_rv {
            if from < inner.compacted {
                return Err(Expired {
                    requested: from,
                    oldest: inner.compacted + 1,
                });
            }
            let start = inner.history.partition_point(|e| e.rv <= from);
            replay.extend(
                inner
                    .history
                    .iter()
                    .skip(start)
                    .filter(|e| &e.key == key)
                    .cloned(),
            );
        }
        Ok((replay, feed(&mut inner, key)))
    }

    /// A snapshot of a resource and a live receiver starting right after it.
    pub fn snapshot_and_watch(
        &self,
        key: &StorageKey,
        namespace: Option<&str>,
    ) -> (Vec<Arc<Stored>>, u64, broadcast::Receiver<Arc<Event>>) {
        let mut inner = self.lock();
        let rx = feed(&mut inner, key);
        (collect(&inner, key, namespace), inner.rv, rx)
    }

    /// A receiver of every change to every resource (for the sandbox's own controllers).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// Forgets all watch history (fault injection: clients resuming from an old resourceVersion get 410).
    pub fn compact(&self) {
        let mut inner = self.lock();
        inner.history.clear();
        inner.compacted = inner.rv;
    }

    /// Objects whose ownerReferences name `owner_uid`.
    pub fn dependents(&self, owner_uid: &str) -> Vec<ObjRef> {
        self.lock()
            .dependents
            .get(owner_uid)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Every object of every resource in a namespace (for namespace deletion).
    pub fn in_namespace(&self, namespace: &str) -> Vec<(StorageKey, Arc<Stored>)> {
        let inner = self.lock();
        let mut out = Vec::new();
        for (key, objects) in &inner.data {
            for ((ns, _), obj) in objects.range((namespace.to_string(), String::new())..) {
                if ns != namespace {
                    break;
                }
                out.push((key.clone(), obj.clone()));
            }
        }
        out
    }

    /// Every object of every resource (for durable snapshots and benchmarks).
    pub fn dump(&self) -> (Vec<(StorageKey, Arc<Stored>)>, u64) {
        let inner = self.lock();
        let mut out = Vec::new();
        for (key, objects) in &inner.data {
            for obj in objects.values() {
                out.push((key.clone(), obj.clone()));
            }
        }
        (out, inner.rv)
    }
}

/// A receiver of the changes to one resource.
fn feed(inner: &mut Inner, key: &StorageKey) -> EventReceiver {
    inner
        .feeds
        .entry(key.clone())
        .or_insert_with(|| broadcast::channel(FANOUT_CAPACITY).0)
        .subscribe()
}

fn collect(inner: &Inner, key: &StorageKey, namespace: Option<&str>) -> Vec<Arc<Stored>> {
    let Some(objects) = inner.data.get(key) else {
        return Vec::new();
    };
    match namespace {
        None => objects.values().cloned().collect(),
        Some(ns) => objects
            .range((ns.to_string(), String::new())..)
            .take_while(|((n, _), _)| n == ns)
            .map(|(_, o)| o.clone())
            .collect(),
    }
}

fn set_rv(obj: &mut Value, rv: u64) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
    }
}

/// The (namespace, name) of an object.
pub fn ns_name(obj: &Value) -> (String, String) {
    let meta = &obj["metadata"];
    (
        meta["namespace"].as_str().unwrap_or_default().to_string(),
        meta["name"].as_str().unwrap_or_default().to_string(),
    )
}

fn owner_uids(obj: &Value) -> impl Iterator<Item = &str> {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["uid"].as_str())
}

fn index_owners(
    index: &mut HashMap<String, BTreeSet<ObjRef>>,
    key: &StorageKey,
    namespace: &str,
    name: &str,
    old: Option<&Value>,
    new: Option<&Value>,
) {
    let this = ObjRef {
        key: key.clone(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    if let Some(old) = old {
        for uid in owner_uids(old) {
            if let Some(set) = index.get_mut(uid) {
                set.remove(&this);
                if set.is_empty() {
                    index.remove(uid);
                }
            }
        }
    }
    if let Some(new) = new {
        for uid in owner_uids(new) {
            index
                .entry(uid.to_string())
                .or_default()
                .insert(this.clone());
        }
    }
}

#[cfg(test)]
mod journal_tests {
    use super::*;
    use serde_json::json;

    struct Broken;
    impl Journal for Broken {
        fn record(&mut self, _: &Event) -> std::io::Result<()> {
            Err(std::io::Error::other("disk full"))
        }
    }

    fn key(plural: &str) -> StorageKey {
        StorageKey {
            group: String::new(),
            plural: plural.into(),
        }
    }

    fn put(store: &Store, plural: &str, name: &str) {
        let written: Result<Committed, crate::sandbox::status::ApiError> =
            store.write(&key(plural), "ns", name, |_, _| {
                Ok(Change::Put(
                    json!({"metadata": {"name": name, "namespace": "ns"}}),
                ))
            });
        assert!(written.is_ok());
    }

    #[test]
    fn a_burst_on_one_resource_does_not_make_watches_of_another_fall_behind() {
        let store = Store::new(100);
        let (_, _, mut pods) = store.snapshot_and_watch(&key("pods"), None);
        let (_, mut events) = store.watch_from(&key("events"), None).expect("watch");
        for i in 0..FANOUT_CAPACITY + 10 {
            put(&store, "events", &format!("e{i}"));
        }
        put(&store, "pods", "p");
        let ev = pods.try_recv().expect("the pod's change, not a lag");
        assert_eq!((ev.name.as_str(), ev.object.name()), ("p", "p"));
        assert!(matches!(
            events.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
    }

    #[test]
    fn a_write_the_journal_refuses_is_not_committed() {
        let store = Store::new(100);
        store.set_journal(Box::new(Broken));
        let key = StorageKey {
            group: String::new(),
            plural: "configmaps".into(),
        };
        let result: Result<Committed, crate::sandbox::status::ApiError> =
            store.write(&key, "ns", "a", |_, _| {
                Ok(Change::Put(
                    json!({"metadata": {"name": "a", "namespace": "ns"}}),
                ))
            });
        let err = result.expect_err("refused");
        assert_eq!(err.code, 500);
        assert!(err.message.contains("disk full"));
        assert!(store.get(&key, "ns", "a").is_none());
        assert_eq!(store.current_rv(), 0);
    }
}
