//! The garbage collector: ownerReferences cascade deletes (Background, Foreground) and orphaning.

use super::key;
use crate::sandbox::kinds::registry::StorageKey;
use crate::sandbox::store::api::{Api, DeleteOpts};
use crate::sandbox::store::{Event, ObjRef};
use serde_json::Value;
use std::sync::Arc;

const FOREGROUND: &str = "foregroundDeletion";
const ORPHAN: &str = "orphan";

fn has_finalizer(obj: &Value, f: &str) -> bool {
    obj["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == f))
}

/// The stored owner an ownerReference points at, if it still exists with that uid.
fn owner_exists(api: &Api, dependent_ns: &str, owner: &Value) -> Option<bool> {
    let api_version = owner["apiVersion"].as_str()?;
    let kind = owner["kind"].as_str()?;
    let name = owner["name"].as_str()?;
    let uid = owner["uid"].as_str()?;
    let rt = api.registry().by_kind(api_version, kind)?;
    let ns = if rt.namespaced { dependent_ns } else { "" };
    Some(
        api.store
            .get(&rt.storage_key(), ns, name)
            .is_some_and(|o| o["metadata"]["uid"].as_str() == Some(uid)),
    )
}

/// Reacts to a created or changed object.
pub fn on_object(api: &Arc<Api>, k: &StorageKey, obj: &Value) {
    let meta = &obj["metadata"];
    if !meta["deletionTimestamp"].is_null() {
        let uid = meta["uid"].as_str().unwrap_or_default();
        let (ns, name) = crate::sandbox::store::ns_name(obj);
        if has_finalizer(obj, ORPHAN) {
            for dep in api.store.dependents(uid) {
                api.mutate(&dep.key, &dep.namespace, &dep.name, |d| drop_owner(d, uid));
            }
            api.remove_finalizer(k, &ns, &name, ORPHAN);
        }
        if has_finalizer(obj, FOREGROUND) {
            let deps = api.store.dependents(uid);
            if deps.is_empty() {
                api.remove_finalizer(k, &ns, &name, FOREGROUND);
            }
            for dep in deps {
                delete_ref(api, &dep, Some("Foreground"));
            }
        }
    }
    // A dependent whose owners are all gone is deleted (e.g. created with a stale ownerReference).
    if meta["deletionTimestamp"].is_null()
        && meta["ownerReferences"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    {
        let ns = meta["namespace"].as_str().unwrap_or_default();
        let owners: Vec<Option<bool>> = meta["ownerReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| owner_exists(api, ns, o))
            .collect();
        if owners.iter().all(|o| *o == Some(false)) {
            let (ns, name) = crate::sandbox::store::ns_name(obj);
            delete_ref(
                api,
                &ObjRef {
                    key: k.clone(),
                    namespace: ns,
                    name,
                },
                None,
            );
        }
    }
}

/// Reacts to an object that is gone: its dependents follow, owners waiting in foreground may finish.
pub fn on_deleted(api: &Arc<Api>, ev: &Event, object: &Value) {
    let uid = object["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let orphaning = has_finalizer(object, ORPHAN);
    for dep in api.store.dependents(&uid) {
        let Some(obj) = api.store.get(&dep.key, &dep.namespace, &dep.name) else {
            continue;
        };
        let others_alive = obj["metadata"]["ownerReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|o| o["uid"].as_str() != Some(uid.as_str()))
            .any(|o| owner_exists(api, &dep.namespace, o) != Some(false));
        if orphaning || others_alive {
            api.mutate(&dep.key, &dep.namespace, &dep.name, |d| drop_owner(d, &uid));
        } else {
            delete_ref(api, &dep, None);
        }
    }
    // Owners deleting in the foreground finish once their last dependent is gone.
    for owner in object["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let (Some(api_version), Some(kind), Some(name), Some(owner_uid)) = (
            owner["apiVersion"].as_str(),
            owner["kind"].as_str(),
            owner["name"].as_str(),
            owner["uid"].as_str(),
        ) else {
            continue;
        };
        let Some(rt) = api.registry().by_kind(api_version, kind) else {
            continue;
        };
        let ns = if rt.namespaced {
            ev.namespace.as_str()
        } else {
            ""
        };
        let k = rt.storage_key();
        if let Some(o) = api.store.get(&k, ns, name)
            && o["metadata"]["uid"].as_str() == Some(owner_uid)
            && has_finalizer(&o, FOREGROUND)
            && api.store.dependents(owner_uid).is_empty()
        {
            api.remove_finalizer(&k, ns, name, FOREGROUND);
        }
    }
}

fn drop_owner(obj: &mut Value, uid: &str) -> bool {
    let Some(refs) = obj["metadata"]["ownerReferences"].as_array_mut() else {
        return false;
    };
    let before = refs.len();
    refs.retain(|r| r["uid"].as_str() != Some(uid));
    let changed = refs.len() != before;
    if refs.is_empty()
        && let Some(m) = obj["metadata"].as_object_mut()
    {
        m.remove("ownerReferences");
    }
    changed
}

fn delete_ref(api: &Api, r: &ObjRef, propagation: Option<&str>) {
    let Some(rt) = api.registry().by_storage(&r.key) else {
        return;
    };
    let opts = DeleteOpts {
        propagation: propagation.map(String::from),
        ..Default::default()
    };
    if let Err(e) = api.delete(&rt, &r.namespace, &r.name, &opts)
        && e.code != 404
    {
        tracing::debug!(
            "garbage collector: deleting {}/{}: {e}",
            r.namespace,
            r.name
        );
    }
}

/// The storage key of pods (used by tests of the collector).
pub fn pods() -> StorageKey {
    key("", "pods")
}
