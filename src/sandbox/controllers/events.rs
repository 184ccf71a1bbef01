//! Event expiry: events live for an hour and at most a thousand per namespace, as a real cluster's event TTL keeps them bounded.

use super::key;
use crate::sandbox::store::api::Api;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long an event lives.
pub const TTL: Duration = Duration::from_secs(3600);
/// The most events kept per namespace.
pub const MAX_PER_NAMESPACE: usize = 1000;

/// Expires events every few seconds until `stop`.
pub async fn run(api: Arc<Api>, stop: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => expire(&api),
        }
    }
}

/// Removes expired events and the oldest beyond the per-namespace limit.
pub fn expire(api: &Api) {
    let k = key("", "events");
    let (events, _) = api.store.list(&k, None);
    let now = jiff::Timestamp::now();
    let mut by_ns: HashMap<String, Vec<(u64, String)>> = HashMap::new();
    for ev in events {
        let (ns, name) = crate::sandbox::store::ns_name(&ev);
        let created = ev["metadata"]["creationTimestamp"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok());
        if created.is_some_and(|t| now.duration_since(t).as_secs() as u64 > TTL.as_secs()) {
            api.remove_now(&k, &ns, &name, None);
            continue;
        }
        let rv = ev["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|r| r.parse().ok())
            .unwrap_or(0);
        by_ns.entry(ns).or_default().push((rv, name));
    }
    for (ns, mut list) in by_ns {
        if list.len() <= MAX_PER_NAMESPACE {
            continue;
        }
        list.sort();
        let excess = list.len() - MAX_PER_NAMESPACE;
        for (_, name) in list.into_iter().take(excess) {
            api.remove_now(&k, &ns, &name, None);
        }
    }
}
