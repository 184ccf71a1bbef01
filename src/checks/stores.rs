//! Shared watches: one kube-runtime reflector per (kind, namespace-or-cluster), whatever the number
//! of checks that read it, with its connection state and a change notification.
//!
//! Each watch task resolves its kind by discovery (a kind not served yet, like a CronTab before its
//! CRD, is reported as such and looked up again), lists and watches with backoff, and tells the
//! engine which key changed. While a watch is down or re-listing its state is `Disconnected`.
//!
//! In [`Scope::ClusterWide`] mode (the classroom board) there is one watch per kind across all
//! namespaces: a check's namespaced key is served from it (the evaluator filters by namespace), and
//! an object's change is reported under the key of the object's namespace, so only the checks of
//! that namespace are evaluated again.

use crate::lab::Target;
use futures::StreamExt;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::discovery::Scope as KindScope;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// What one watch covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WatchKey {
    pub api_version: String,
    pub kind: String,
    /// `None`: all namespaces, or a cluster-scoped kind.
    pub namespace: Option<String>,
}

impl WatchKey {
    pub fn of(target: &Target) -> Self {
        Self {
            api_version: target.api_version.clone(),
            kind: target.kind.clone(),
            namespace: target.namespace.clone(),
        }
    }

    fn gvk(&self) -> GroupVersionKind {
        let (group, version) = match self.api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", self.api_version.as_str()),
        };
        GroupVersionKind::gvk(group, version, &self.kind)
    }

    pub fn is_crd(&self) -> bool {
        self.kind == "CustomResourceDefinition"
    }

    /// The same kind across all namespaces (or cluster-scoped).
    pub fn all_namespaces(&self) -> Self {
        Self {
            namespace: None,
            ..self.clone()
        }
    }

    /// Whether both keys are about the same kind, whatever the namespace.
    pub fn same_kind(&self, other: &WatchKey) -> bool {
        self.kind == other.kind && self.api_version == other.api_version
    }
}

/// How watches are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// One watch per (kind, namespace) a check reads: what one attendee's TUI and `oplab check` need
    /// (and all that a user with rights in a few namespaces may list).
    #[default]
    PerNamespace,
    /// One watch per kind across the cluster, whatever the number of namespaces read: the
    /// classroom board. Changes carry the namespace of the object that changed.
    ClusterWide,
}

impl std::fmt::Display for WatchKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {} in {ns}", self.api_version, self.kind),
            None => write!(f, "{} {} (cluster)", self.api_version, self.kind),
        }
    }
}

/// The state of one watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchState {
    /// Discovery or the first list has not finished.
    Connecting,
    /// (Re-)listing after a watch restart: the store may be stale until the list is complete.
    Listing,
    /// Listed and watching: the store is current.
    Ready,
    /// The server does not serve the kind (its CRD is missing).
    NotServed(String),
    /// Listing or watching is forbidden (RBAC).
    Forbidden(String),
    /// The watch broke or the cluster is unreachable; retrying.
    Disconnected(String),
}

/// What the evaluator sees of one watch.
#[derive(Clone)]
pub struct Slot {
    pub state: WatchState,
    pub store: Option<Store<DynamicObject>>,
    pub scope_cluster: bool,
    /// `Some`: listing the kind is forbidden, so the store holds only objects of these names, each
    /// read by name (a classroom attendee may `get` their own Namespace but not list them all).
    pub only: Option<BTreeSet<String>>,
}

/// A snapshot of objects for the evaluator.
pub trait View {
    fn slot(&self, key: &WatchKey) -> Option<Slot>;
    /// The output of an exec check that ran, by its command line; `Err` when it could not run.
    fn exec_output(&self, _spec: &crate::lab::ExecSpec) -> Option<Result<String, String>> {
        None
    }
}

/// All watches of one client. Cheap to clone.
#[derive(Clone)]
pub struct Stores {
    client: kube::Client,
    scope: Scope,
    slots: Arc<Mutex<HashMap<WatchKey, Slot>>>,
    /// Objects checks name, per watch: fetched one by one when listing is forbidden.
    names: Arc<Mutex<HashMap<WatchKey, BTreeSet<String>>>>,
    changed: mpsc::UnboundedSender<WatchKey>,
    rediscover: Arc<watch::Sender<u64>>,
    cancel: CancellationToken,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Stores {
    /// Stores for `client`; the receiver gets the key of every watch whose objects or state changed.
    pub fn new(client: kube::Client) -> (Self, mpsc::UnboundedReceiver<WatchKey>) {
        Self::with_scope(client, Scope::PerNamespace)
    }

    /// Stores cut as `scope` says. In [`Scope::ClusterWide`] the receiver gets, for a change of an
    /// object, the key of the object's namespace (`None` for cluster-scoped objects), and for a
    /// change of a watch's state the all-namespaces key (everything of the kind is concerned).
    pub fn with_scope(
        client: kube::Client,
        scope: Scope,
    ) -> (Self, mpsc::UnboundedReceiver<WatchKey>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (rediscover, _) = watch::channel(0);
        (
            Self {
                client,
                scope,
                slots: Arc::default(),
                names: Arc::default(),
                changed: tx,
                rediscover: Arc::new(rediscover),
                cancel: CancellationToken::new(),
            },
            rx,
        )
    }

    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The key of the watch that serves `key`.
    fn watch_key(&self, key: &WatchKey) -> WatchKey {
        match self.scope {
            Scope::PerNamespace => key.clone(),
            Scope::ClusterWide => key.all_namespaces(),
        }
    }

    /// Starts the watch for `key` (in cluster-wide mode: for its kind) unless it runs already.
    pub fn ensure(&self, key: &WatchKey) {
        let key = &self.watch_key(key);
        let mut slots = lock(&self.slots);
        if slots.contains_key(key) {
            return;
        }
        slots.insert(
            key.clone(),
            Slot {
                state: WatchState::Connecting,
                store: None,
                scope_cluster: false,
                only: None,
            },
        );
        drop(slots);
        let this = self.clone();
        let key = key.clone();
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                () = this.run(key) => {}
            }
        });
    }

    /// Notes that a check looks for the object `name` of `key`'s kind: if listing the kind turns
    /// out to be forbidden, that object is still fetched by name.
    pub fn want_name(&self, key: &WatchKey, name: &str) {
        lock(&self.names)
            .entry(self.watch_key(key))
            .or_default()
            .insert(name.to_string());
    }

    /// Number of watches open.
    pub fn watch_count(&self) -> usize {
        lock(&self.slots).len()
    }

    /// Keys of all watches.
    pub fn keys(&self) -> Vec<WatchKey> {
        let mut k: Vec<_> = lock(&self.slots).keys().cloned().collect();
        k.sort();
        k
    }

    /// Kinds that were not served are looked up again now (after a CRD was created).
    pub fn rediscover(&self) {
        self.rediscover.send_modify(|n| *n += 1);
    }

    /// Whether every watch has an answer (ready, not served, forbidden or disconnected).
    pub fn all_settled(&self) -> bool {
        lock(&self.slots)
            .values()
            .all(|s| !matches!(s.state, WatchState::Connecting | WatchState::Listing))
    }

    /// Stops every watch.
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }

    fn set(
        &self,
        key: &WatchKey,
        state: WatchState,
        store: Option<Option<Store<DynamicObject>>>,
        cluster: Option<bool>,
    ) {
        {
            let mut slots = lock(&self.slots);
            let Some(slot) = slots.get_mut(key) else {
                return;
            };
            if slot.state == state && store.is_none() && cluster.is_none() {
                return;
            }
            slot.state = state;
            if let Some(s) = store {
                slot.store = s;
                slot.only = None;
            }
            if let Some(c) = cluster {
                slot.scope_cluster = c;
            }
        }
        let _ = self.changed.send(key.clone());
    }

    async fn run(self, key: WatchKey) {
        let mut rediscover = self.rediscover.subscribe();
        let mut delay = Duration::from_millis(100);
        loop {
            let state = match kube::discovery::pinned_kind(&self.client, &key.gvk()).await {
                Ok((ar, caps)) => {
                    let cluster = caps.scope == KindScope::Cluster;
                    let (gone, was_ready) = self.watch(&key, ar.clone(), cluster).await;
                    if was_ready {
                        delay = Duration::from_millis(100);
                    }
                    match gone {
                        WatchState::Forbidden(why) if self.has_names(&key) => {
                            self.fetch_named(&key, ar, cluster, why).await
                        }
                        other => other,
                    }
                }
                Err(err) => classify(&err, &key),
            };
            self.set(&key, state, Some(None), None);
            tokio::select! {
                _ = rediscover.changed() => {}
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }

    /// Lists and watches until an error; returns the state to show then and whether the store was
    /// ever current. Any error restarts with a fresh list (so readiness is always explicit).
    async fn watch(&self, key: &WatchKey, ar: ApiResource, cluster: bool) -> (WatchState, bool) {
        let api = self.api(key, &ar, cluster);
        let writer = reflector::store::Writer::new(ar);
        let store = writer.as_reader();
        self.set(
            key,
            WatchState::Connecting,
            Some(Some(store)),
            Some(cluster),
        );
        let config = watcher::Config::default().any_semantic();
        let mut stream = reflector::reflector(writer, watcher(api, config)).boxed();
        let mut was_ready = false;
        while let Some(item) = stream.next().await {
            match item {
                Ok(watcher::Event::Init) => self.set(key, WatchState::Listing, None, None),
                Ok(watcher::Event::InitApply(_)) => {}
                Ok(watcher::Event::Apply(o) | watcher::Event::Delete(o))
                    if self.scope == Scope::ClusterWide && was_ready =>
                {
                    self.set_ready(key);
                    let changed = WatchKey {
                        namespace: o.metadata.namespace.clone(),
                        ..key.clone()
                    };
                    let _ = self.changed.send(changed);
                }
                Ok(_) => {
                    was_ready = true;
                    self.set_ready(key);
                    let _ = self.changed.send(key.clone());
                }
                Err(err) => return (watch_failed(&err, key), was_ready),
            }
        }
        (
            WatchState::Disconnected(format!("watch of {key} ended")),
            was_ready,
        )
    }

    /// The API of `key`'s objects: its namespace, or all of them (and cluster-scoped kinds).
    fn api(&self, key: &WatchKey, ar: &ApiResource, cluster: bool) -> kube::Api<DynamicObject> {
        match (&key.namespace, cluster) {
            (Some(ns), false) => kube::Api::namespaced_with(self.client.clone(), ns, ar),
            _ => kube::Api::all_with(self.client.clone(), ar),
        }
    }

    fn has_names(&self, key: &WatchKey) -> bool {
        lock(&self.names).get(key).is_some_and(|n| !n.is_empty())
    }

    /// While listing `key` is forbidden: reads the objects checks name, one by one, every two
    /// seconds, and serves those that may be read as a store of them only. Returns the state to
    /// show when none may be read (the list's reason) or the cluster is unreachable.
    async fn fetch_named(
        &self,
        key: &WatchKey,
        ar: ApiResource,
        cluster: bool,
        list_forbidden: String,
    ) -> WatchState {
        let api = self.api(key, &ar, cluster);
        let mut last: Option<Vec<(String, Option<String>)>> = None;
        loop {
            let names = lock(&self.names).get(key).cloned().unwrap_or_default();
            let mut found = Vec::new();
            let mut readable = BTreeSet::new();
            for name in &names {
                match api.get_opt(name).await {
                    Ok(o) => {
                        readable.insert(name.clone());
                        found.push((name.clone(), o));
                    }
                    Err(kube::Error::Api(s)) if s.code == 403 => {}
                    Err(err) => {
                        return WatchState::Disconnected(format!(
                            "reading {key}: {}; reconnecting",
                            error_text(&err)
                        ));
                    }
                }
            }
            if readable.is_empty() {
                return WatchState::Forbidden(list_forbidden);
            }
            let seen: Vec<_> = found
                .iter()
                .map(|(n, o)| {
                    let rv = o.as_ref().and_then(|o| o.metadata.resource_version.clone());
                    (n.clone(), rv)
                })
                .collect();
            if last.as_ref() != Some(&seen) {
                let mut writer = reflector::store::Writer::new(ar.clone());
                writer.apply_watcher_event(&watcher::Event::Init);
                for o in found.into_iter().filter_map(|(_, o)| o) {
                    writer.apply_watcher_event(&watcher::Event::InitApply(o));
                }
                writer.apply_watcher_event(&watcher::Event::InitDone);
                {
                    let mut slots = lock(&self.slots);
                    if let Some(slot) = slots.get_mut(key) {
                        slot.state = WatchState::Ready;
                        slot.store = Some(writer.as_reader());
                        slot.scope_cluster = cluster;
                        slot.only = Some(readable);
                    }
                }
                let _ = self.changed.send(key.clone());
                last = Some(seen);
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    /// Marks the watch ready; the caller reports the change (Apply/Delete are changes even when
    /// the state stays Ready).
    fn set_ready(&self, key: &WatchKey) {
        let mut slots = lock(&self.slots);
        let ready = slots.get(key).is_some_and(|s| s.state == WatchState::Ready);
        if !ready && let Some(s) = slots.get_mut(key) {
            s.state = WatchState::Ready;
        }
    }
}

impl View for Stores {
    fn slot(&self, key: &WatchKey) -> Option<Slot> {
        let slots = lock(&self.slots);
        match self.scope {
            Scope::PerNamespace => slots.get(key).cloned(),
            Scope::ClusterWide if key.namespace.is_none() => slots.get(key).cloned(),
            Scope::ClusterWide => slots.get(&key.all_namespaces()).cloned(),
        }
    }
}

fn not_served(key: &WatchKey) -> String {
    format!(
        "the cluster does not serve kind {} in {} (is its CRD installed?)",
        key.kind, key.api_version
    )
}

fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    crate::explain::explain(err).to_string()
}

/// The status code the API server answered a failed list or watch with, if it answered.
fn status_code(err: &watcher::Error) -> Option<u16> {
    match err {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => match e {
            kube::Error::Api(s) => Some(s.code),
            _ => None,
        },
        watcher::Error::WatchError(s) => Some(s.code),
        watcher::Error::NoResourceVersion => None,
    }
}

/// What a failed watch means for its store, from the typed error (not its text): 404 the kind is
/// not served (any more), 403 forbidden, anything else a disconnection that relists.
fn watch_failed(err: &watcher::Error, key: &WatchKey) -> WatchState {
    let text = error_text(err);
    match status_code(err) {
        Some(404) => WatchState::NotServed(not_served(key)),
        Some(403) => WatchState::Forbidden(format!("watching {key} is forbidden: {text}")),
        _ => WatchState::Disconnected(format!("watch of {key}: {text}; reconnecting")),
    }
}

fn classify(err: &kube::Error, key: &WatchKey) -> WatchState {
    match err {
        kube::Error::Discovery(_) => WatchState::NotServed(not_served(key)),
        kube::Error::Api(s) if s.code == 404 => WatchState::NotServed(not_served(key)),
        kube::Error::Api(s) if s.code == 403 => {
            WatchState::Forbidden(format!("discovering {key} is forbidden: {}", s.message))
        }
        other => WatchState::Disconnected(format!("cluster unreachable: {}", error_text(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn key() -> WatchKey {
        WatchKey {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: Some("default".into()),
        }
    }

    fn api(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(Status::failure(message, "").with_code(code).boxed())
    }

    #[test]
    fn watch_failures_are_classified_by_their_status_code() {
        let k = key();
        let state = watch_failed(&watcher::Error::InitialListFailed(api(404, "gone")), &k);
        assert_eq!(state, WatchState::NotServed(not_served(&k)));
        let state = watch_failed(
            &watcher::Error::WatchError(Status::failure("no", "Forbidden").with_code(403).boxed()),
            &k,
        );
        assert!(
            matches!(&state, WatchState::Forbidden(w)
                if w.starts_with(&format!("watching {k} is forbidden: "))),
            "{state:?}"
        );
        // The words of an error are not its status: a 500 that mentions 404 and Forbidden, and
        // an error that never reached the server, are disconnections.
        for err in [
            watcher::Error::WatchFailed(api(500, "upstream said 404 NotFound, 403 Forbidden")),
            watcher::Error::NoResourceVersion,
        ] {
            let state = watch_failed(&err, &k);
            assert!(matches!(state, WatchState::Disconnected(_)), "{state:?}");
        }
    }
}
