//! The API server's object semantics, shared by the HTTP layer and the sandbox's own controllers:
//! create, update, patch, delete, subresources, admission (validation, defaults, field ownership).

use crate::sandbox::auth::user::User;
use crate::sandbox::kinds::registry::{Registry, ResourceType, Served, StorageKey};
use crate::sandbox::kinds::{self, Ctx, SubReply, SubWrite};
use crate::sandbox::meta::{self, FieldSelector, LabelSelector};
use crate::sandbox::patch::apply::{ManagerOptions, server_side_apply, track_update};
use crate::sandbox::patch::strategic::strategic_merge_patch;
use crate::sandbox::patch::{PatchError, TypeRef};
use crate::sandbox::schema::{self, FieldError};
use crate::sandbox::services::Services;
use crate::sandbox::status::ApiError;
use crate::sandbox::store::convert::{from_storage, to_storage};
use crate::sandbox::store::faults::Faults;
use crate::sandbox::store::{Change, Store, Stored};
use serde_json::{Value, json};
use std::sync::{Arc, RwLockReadGuard};
use std::time::Duration;

/// Tunables of one sandbox.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a new pod stays Pending before it runs.
    pub pod_start_delay: Duration,
    /// The longest grace period a pod deletion waits (Kubernetes' default is 30 s; the sandbox shortens it).
    pub max_grace_period: Duration,
    /// How many changes the watch history keeps before clients get 410 Expired.
    pub watch_history: usize,
    /// How often watches with allowWatchBookmarks get a BOOKMARK.
    pub bookmark_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            pod_start_delay: Duration::from_millis(300),
            max_grace_period: Duration::from_secs(2),
            watch_history: 5_000,
            bookmark_interval: Duration::from_secs(30),
        }
    }
}

/// fieldValidation: what to do with fields the type does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Strict,
    Warn,
    Ignore,
}

/// Options every write carries.
#[derive(Debug, Clone)]
pub struct WriteOpts {
    pub dry_run: bool,
    pub manager: String,
    pub validation: FieldValidation,
    pub force: bool,
    /// Who writes, when a kind checks the writer (RBAC escalation); `None` for the sandbox itself.
    pub user: Option<User>,
}

impl WriteOpts {
    /// Options for the sandbox's own controllers.
    pub fn internal(manager: &str) -> Self {
        Self {
            dry_run: false,
            manager: manager.to_string(),
            validation: FieldValidation::Ignore,
            force: false,
            user: None,
        }
    }

    /// The writer whose rights a kind checks: none for members of `system:masters` and the sandbox itself.
    fn checked_writer(&self) -> Option<&User> {
        self.user.as_ref().filter(|u| !u.is_master())
    }
}

/// The result of a write.
#[derive(Debug, Clone)]
pub struct Written {
    /// The object in the client's version.
    pub object: Value,
    pub created: bool,
    pub warnings: Vec<String>,
}

/// The result of a subresource write.
#[derive(Debug, Clone)]
pub enum SubWritten {
    /// The object as written (a namespace's finalize answers with the namespace).
    Object(Value),
    /// A `Status` of success (a pod's binding and eviction answer so).
    Success,
}

pub use crate::sandbox::patch::PatchType;

/// Deletion options (the DeleteOptions body and query).
#[derive(Debug, Clone, Default)]
pub struct DeleteOpts {
    pub dry_run: bool,
    pub propagation: Option<String>,
    pub grace_period: Option<i64>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
}

/// The result of a delete.
#[derive(Debug, Clone)]
pub struct Deleted {
    pub object: Value,
    /// True when the object is gone; false when it waits for finalizers or a grace period.
    pub gone: bool,
}

/// How often an update is made again because the object changed while it was being made.
const WRITE_ATTEMPTS: usize = 32;

/// The sandbox API server's state.
pub struct Api {
    pub store: Store,
    /// The kinds served now (built-in and from CRDs).
    pub served: Served,
    pub config: Config,
    pub faults: Faults,
    /// What kinds' strategies may use: addresses, the CA.
    pub services: Services,
    /// Token signing key and the RBAC rule cache.
    pub auth: crate::sandbox::auth::Auth,
    /// Process-backed containers (real etcd members) of the simulated kubelet.
    pub procs: crate::sandbox::controllers::procs::Runner,
}

impl Api {
    pub fn new(config: Config) -> Self {
        Self {
            store: Store::new(config.watch_history),
            served: Served::default(),
            config,
            faults: Faults::default(),
            services: Services::default(),
            auth: crate::sandbox::auth::Auth::new(),
            procs: crate::sandbox::controllers::procs::Runner::default(),
        }
    }

    /// The CA certificate clients trust (what `kube-root-ca.crt` ConfigMaps carry).
    pub fn ca_pem(&self) -> String {
        self.services.ca_pem()
    }

    pub fn set_ca_pem(&self, pem: String) {
        self.services.set_ca_pem(pem);
    }

    /// What a kind's strategy may use.
    pub fn ctx(&self, dry_run: bool) -> Ctx<'_> {
        Ctx {
            served: &self.served,
            services: &self.services,
            dry_run,
            authz: self,
        }
    }

    /// Removes one finalizer; an object being deleted goes once its last finalizer is removed.
    pub fn remove_finalizer(&self, key: &StorageKey, ns: &str, name: &str, finalizer: &str) {
        let _ = self.store.write(key, ns, name, |current, _| {
            let Some(current) = current else {
                return Ok::<_, ApiError>(Change::Unchanged);
            };
            let mut obj = current.clone();
            let Some(list) = obj["metadata"]["finalizers"].as_array_mut() else {
                return Ok(Change::Unchanged);
            };
            let before = list.len();
            list.retain(|f| f != finalizer);
            if list.len() == before {
                return Ok(Change::Unchanged);
            }
            let empty = list.is_empty();
            if empty && let Some(m) = obj["metadata"].as_object_mut() {
                m.remove("finalizers");
            }
            if empty && !obj["metadata"]["deletionTimestamp"].is_null() {
                return Ok(Change::Delete);
            }
            Ok(Change::Put(obj))
        });
    }

    pub fn registry(&self) -> RwLockReadGuard<'_, Registry> {
        self.served.read()
    }

    pub fn update_registry(&self, f: impl FnOnce(&mut Registry)) {
        self.served.update(f);
    }

    /// A fresh address from the sandbox's pod and service ranges.
    pub fn allocate_ip(&self, service: bool) -> String {
        self.services.ips.allocate(service)
    }

    /// Makes later allocations skip an address already in use (restored from a state directory).
    pub fn reserve_ip(&self, ip: &str) {
        self.services.ips.reserve(ip);
    }

    pub fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<Value, ApiError> {
        let ns = scope_ns(rt, ns);
        self.store
            .get_stored(&rt.storage_key(), ns, name)
            .map(|o| crate::sandbox::store::convert::into_client(rt, o.value()))
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))
    }

    /// Objects matching the selectors, in the client's version, and the list's resourceVersion.
    pub fn list(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> (Vec<Arc<Stored>>, u64) {
        let ns = if rt.namespaced { ns } else { None };
        let (objects, rv) = self.store.list_stored(&rt.storage_key(), ns);
        let items = objects
            .into_iter()
            .filter(|o| labels.matches(o.labels()))
            .map(|o| crate::sandbox::store::convert::from_storage_shared(rt, o))
            .filter(|o| fields.is_empty() || fields.matches(&o.value()))
            .collect();
        (items, rv)
    }

    /// A list at exactly resourceVersion `rv` (`resourceVersionMatch=Exact`), or 410 Expired.
    pub fn list_at(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        rv: u64,
    ) -> Result<Vec<Arc<Stored>>, ApiError> {
        let ns = if rt.namespaced { ns } else { None };
        let objects = self
            .store
            .list_stored_at(&rt.storage_key(), ns, rv)
            .map_err(|e| {
                ApiError::gone(format!(
                    "too old resource version: {} ({})",
                    e.requested, e.oldest
                ))
            })?;
        Ok(objects
            .into_iter()
            .filter(|o| labels.matches(o.labels()))
            .map(|o| crate::sandbox::convert::from_storage_shared(rt, o))
            .filter(|o| fields.is_empty() || fields.matches(&o.value()))
            .collect())
    }

    /// POST: creates an object.
    pub fn create(
        &self,
        rt: &ResourceType,
        ns: &str,
        body: Value,
        opts: &WriteOpts,
    ) -> Result<Written, ApiError> {
        self.create_with(rt, ns, body, opts, None)
    }

    /// `create`, with the managedFields an apply computed (so an apply-create is one write, one ADDED).
    fn create_with(
        &self,
        rt: &ResourceType,
        ns: &str,
        body: Value,
        opts: &WriteOpts,
        applied_managed: Option<&Value>,
    ) -> Result<Written, ApiError> {
        let ns = scope_ns(rt, ns);
        let mut obj = check_body(rt, body)?;
        let meta = obj["metadata"]
            .as_object_mut()
            .ok_or_else(|| ApiError::bad_request("metadata must be an object"))?;
        match meta.get("namespace").and_then(Value::as_str) {
            Some(n) if rt.namespaced && !n.is_empty() && n != ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {}
        }
        if rt.namespaced {
            meta.insert("namespace".into(), json!(ns));
        } else {
            meta.remove("namespace");
        }
        let generate = meta
            .get("generateName")
            .and_then(Value::as_str)
            .map(String::from);
        let name = meta
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(String::from);
        if name.is_none() && generate.is_none() {
            return Err(invalid_one(
                rt,
                "",
                "metadata.name",
                schema::ErrorKind::Required,
                "name or generateName is required",
            ));
        }
        for key in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ] {
            meta.remove(key);
        }
        meta.insert("uid".into(), json!(meta::new_uid()));
        meta.insert("creationTimestamp".into(), json!(meta::now_rfc3339()));
        if rt.tracks_generation() {
            meta.insert("generation".into(), json!(1));
        } else {
            meta.remove("generation");
        }
        if rt.has_status()
            && !(rt.group.is_empty() && rt.kind == "Node")
            && let Some(map) = obj.as_object_mut()
        {
            map.remove("status");
        }
        if rt.namespaced {
            self.check_namespace_open(ns)?;
        }
        let strategy = kinds::strategy(rt);
        strategy.before_validation(rt, &mut obj);
        let warnings = self.admit(rt, None, &mut obj, opts, None)?;
        strategy.prepare_create(self.ctx(opts.dry_run), rt, &mut obj)?;
        if let Some(user) = opts.checked_writer() {
            strategy.admit_writer(self.ctx(opts.dry_run), rt, ns, &obj, user)?;
        }
        let stored = to_storage(rt, obj);
        let result = self.commit_create(
            rt,
            ns,
            &stored,
            (&name, &generate),
            opts,
            warnings,
            applied_managed,
        );
        if result.is_err() && !opts.dry_run {
            // Whatever the strategy took for this object (NodePorts) goes back.
            strategy.release(self.ctx(false), &stored);
        }
        result
    }

    /// Stores a prepared new object, generating its name (a few tries) when it has a generateName.
    #[allow(clippy::too_many_arguments)]
    fn commit_create(
        &self,
        rt: &ResourceType,
        ns: &str,
        stored: &Value,
        (name, generate): (&Option<String>, &Option<String>),
        opts: &WriteOpts,
        warnings: Vec<String>,
        applied_managed: Option<&Value>,
    ) -> Result<Written, ApiError> {
        let strategy = kinds::strategy(rt);
        let key = rt.storage_key();
        for attempt in 0..8 {
            let mut candidate = stored.clone();
            let name = match (name, generate) {
                (Some(n), _) => n.clone(),
                (None, Some(prefix)) => format!("{prefix}{}", meta::random_suffix()),
                (None, None) => unreachable_name(),
            };
            candidate["metadata"]["name"] = json!(name);
            self.check_name(rt, &name)?;
            let mut candidate = candidate;
            track_update(
                type_ref(rt),
                None,
                &mut candidate,
                manager_opts(rt, opts, None).as_opts(),
            );
            if let Some(managed) = applied_managed {
                candidate["metadata"]["managedFields"] = managed.clone();
            }
            if opts.dry_run {
                if self.store.contains(&key, ns, &name) {
                    return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
                }
                return Ok(Written {
                    object: from_storage(rt, &candidate),
                    created: true,
                    warnings,
                });
            }
            let result = self
                .store
                .write(&key, ns, &name, |current, _| match current {
                    Some(_) => Err(ApiError::already_exists(&rt.group, &rt.plural, &name)),
                    None => Ok(Change::Put(candidate)),
                });
            match result {
                Ok(c) => {
                    strategy.after_write(self.ctx(false), rt, &c.object);
                    return Ok(Written {
                        object: from_storage(rt, &c.object),
                        created: true,
                        warnings,
                    });
                }
                Err(e)
                    if e.reason == "AlreadyExists"
                        && name_is_generated(&name, generate)
                        && attempt < 7 =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        Err(ApiError::internal("could not generate a unique name"))
    }

    /// PUT: replaces an object (or its status with `sub = Some("status")`).
    pub fn replace(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        body: Value,
        opts: &WriteOpts,
        sub: Option<&str>,
    ) -> Result<Written, ApiError> {
        let ns = scope_ns(rt, ns);
        let body = check_body(rt, body)?;
        if let Some(n) = body["metadata"]["name"].as_str()
            && n != name
        {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        let body = to_storage(rt, body);
        self.write_existing(rt, ns, name, opts, sub, false, |_current| Ok(body.clone()))
    }

    /// PATCH: json-patch, merge-patch, strategic-merge-patch or server-side apply.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        ptype: PatchType,
        body: Value,
        opts: &WriteOpts,
        sub: Option<&str>,
    ) -> Result<Written, ApiError> {
        let ns = scope_ns(rt, ns);
        if ptype == PatchType::Apply
            && sub.is_none()
            && !self.store.contains(&rt.storage_key(), ns, name)
        {
            // Apply creates what does not exist.
            let applied = check_body(rt, body.clone())?;
            if let Some(n) = applied["metadata"]["name"].as_str()
                && n != name
            {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                )));
            }
            let created = server_side_apply(
                type_ref(rt),
                None,
                &applied,
                opts.force,
                manager_opts(rt, opts, None).as_opts(),
            )
            .map_err(|e| patch_error(rt, name, e))?;
            match self.create_applied(rt, ns, created, opts) {
                // Another apply created it meanwhile: this one applies to that object, as on a real
                // server (an apply-create that loses the race is retried as an apply-update).
                Err(e) if e.reason == "AlreadyExists" => {}
                other => return other,
            }
        }
        if ptype == PatchType::Strategic && !rt.is_builtin() {
            return Err(ApiError::unsupported_media_type(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            ));
        }
        let rt_ref = rt.clone();
        self.write_existing(
            rt,
            ns,
            name,
            opts,
            sub,
            ptype == PatchType::Apply,
            move |current| {
                let live = from_storage(&rt_ref, current);
                let patched =
                    patch_document(Some(&rt_ref), name, live, ptype, body.clone(), opts, sub)?;
                if ptype != PatchType::Apply {
                    check_identity(&rt_ref, current, &patched, name)?;
                }
                // A patch that sets a resourceVersion is a precondition on it.
                let mut patched = patched;
                let requested_rv = patched["metadata"]["resourceVersion"]
                    .as_str()
                    .map(String::from);
                let live_rv = current["metadata"]["resourceVersion"]
                    .as_str()
                    .map(String::from);
                if requested_rv.is_some() && requested_rv != live_rv {
                    return Err(ApiError::stale(&rt_ref.group, &rt_ref.plural, name));
                }
                if ptype == PatchType::Apply {
                    // managedFields were computed by the apply itself.
                    if let Some(m) = patched["metadata"].as_object_mut() {
                        m.insert("resourceVersion".into(), json!(live_rv));
                    }
                }
                Ok(to_storage(&rt_ref, patched))
            },
        )
    }

    fn create_applied(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: Value,
        opts: &WriteOpts,
    ) -> Result<Written, ApiError> {
        // The apply computed managedFields; create keeps them, in the same single write.
        let managed = obj["metadata"]["managedFields"].clone();
        self.create_with(
            rt,
            ns,
            obj,
            &WriteOpts {
                manager: String::new(),
                ..opts.clone()
            },
            (!managed.is_null()).then_some(&managed),
        )
    }

    /// The common path of PUT and PATCH: `f` turns the current stored object into the candidate.
    #[allow(clippy::too_many_arguments)]
    fn write_existing(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        opts: &WriteOpts,
        sub: Option<&str>,
        applied: bool,
        f: impl Fn(&Value) -> Result<Value, ApiError>,
    ) -> Result<Written, ApiError> {
        // As kube-apiserver's GuaranteedUpdate: the candidate is made and admitted outside the store's
        // lock from the version read, and committed only if that version is still the live one (else again).
        let key = rt.storage_key();
        for _ in 0..WRITE_ATTEMPTS {
            let Some(current) = self.store.get(&key, ns, name) else {
                return Err(ApiError::not_found(&rt.group, &rt.plural, name));
            };
            let candidate = f(&current)?;
            let (change, warnings) =
                self.prepare_update(rt, &current, candidate, opts, sub, applied)?;
            if let Some(user) = opts.checked_writer() {
                let next = match &change {
                    Change::Put(obj) => Some(obj),
                    Change::Unchanged => Some(&*current),
                    Change::Delete => None,
                };
                if let Some(next) = next {
                    let view = from_storage(rt, next);
                    kinds::strategy(rt).admit_writer(
                        self.ctx(opts.dry_run),
                        rt,
                        ns,
                        &view,
                        user,
                    )?;
                }
            }
            if opts.dry_run {
                let object = match change {
                    Change::Put(obj) => obj,
                    _ => (*current).clone(),
                };
                return Ok(Written {
                    object: from_storage(rt, &object),
                    created: false,
                    warnings,
                });
            }
            let read_rv = current["metadata"]["resourceVersion"].clone();
            let mut moved_on = false;
            let committed = self.store.write(&key, ns, name, |live, _| match live {
                None => Err(ApiError::not_found(&rt.group, &rt.plural, name)),
                Some(live) if live["metadata"]["resourceVersion"] != read_rv => {
                    moved_on = true;
                    Ok(Change::Unchanged)
                }
                Some(_) => Ok(change),
            })?;
            if moved_on {
                continue;
            }
            if committed.kind.is_some() {
                kinds::strategy(rt).after_write(self.ctx(false), rt, &committed.object);
            }
            return Ok(Written {
                object: from_storage(rt, &committed.object),
                created: false,
                warnings,
            });
        }
        Err(ApiError::conflict(
            &rt.group,
            &rt.plural,
            name,
            "the object is being changed by others; please apply your changes to the latest version and try again",
        ))
    }

    /// Turns a candidate object into the change to commit: preconditions, immutable metadata,
    /// status/spec separation, admission, generation, managed fields, no-op detection, finalization.
    fn prepare_update(
        &self,
        rt: &ResourceType,
        current: &Value,
        mut obj: Value,
        opts: &WriteOpts,
        sub: Option<&str>,
        applied: bool,
    ) -> Result<(Change, Vec<String>), ApiError> {
        let name = current["metadata"]["name"].as_str().unwrap_or_default();
        if !obj.is_object() || !obj["metadata"].is_object() {
            return Err(ApiError::bad_request("the object must have metadata"));
        }
        let current_rv = current["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default();
        match obj["metadata"]["resourceVersion"].as_str() {
            Some(rv) if !rv.is_empty() && rv != current_rv => {
                return Err(ApiError::stale(&rt.group, &rt.plural, name));
            }
            _ => {}
        }
        match sub {
            Some("status") => {
                // Only status changes through /status.
                let status = obj.get("status").cloned();
                let mut next = current.clone();
                match status {
                    Some(s) => next["status"] = s,
                    None => {
                        if let Some(m) = next.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
                obj = next;
            }
            _ => {
                if rt.has_status() {
                    match current.get("status") {
                        Some(s) => obj["status"] = s.clone(),
                        None => {
                            if let Some(m) = obj.as_object_mut() {
                                m.remove("status");
                            }
                        }
                    }
                }
            }
        }
        // Metadata the client cannot change.
        {
            let cm = &current["metadata"];
            let meta = obj["metadata"]
                .as_object_mut()
                .ok_or_else(|| ApiError::bad_request("metadata must be an object"))?;
            for key in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "namespace",
                "name",
                "generation",
            ] {
                match cm.get(key) {
                    Some(v) => {
                        meta.insert(key.into(), v.clone());
                    }
                    None => {
                        meta.remove(key);
                    }
                }
            }
            meta.insert("resourceVersion".into(), json!(current_rv));
            if meta.get("managedFields").is_none_or(Value::is_null)
                && cm.get("managedFields").is_some()
                && sub.is_none()
            {
                // An update that omits managedFields keeps them (clients clear them with an empty list).
                meta.insert("managedFields".into(), cm["managedFields"].clone());
            }
            if let Some(ts) = cm.get("deletionTimestamp")
                && !ts.is_null()
            {
                // Finalizers can only be removed once deletion started.
                let before: Vec<&Value> = cm["finalizers"]
                    .as_array()
                    .map(|a| a.iter().collect())
                    .unwrap_or_default();
                let after: Vec<Value> = meta
                    .get("finalizers")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if after.iter().any(|f| !before.contains(&f)) {
                    return Err(invalid_one(
                        rt,
                        name,
                        "metadata.finalizers",
                        schema::ErrorKind::Forbidden(
                            "no new finalizers can be added if the object is being deleted".into(),
                        ),
                        "",
                    ));
                }
            }
        }
        let mut client_view = from_storage(rt, &obj);
        let warnings = self.admit(rt, Some(current), &mut client_view, opts, sub)?;
        kinds::strategy(rt).prepare_update(
            self.ctx(opts.dry_run),
            rt,
            current,
            &mut client_view,
        )?;
        let mut obj = to_storage(rt, client_view);
        // generation follows spec (everything but metadata and status).
        if rt.tracks_generation()
            && matches!(sub, None | Some("scale"))
            && spec_of(current) != spec_of(&obj)
        {
            let g = current["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
            obj["metadata"]["generation"] = json!(g);
        }
        // An apply computed its managedFields itself, even when they come out the same as before (a
        // re-apply within the same second): it is never recorded as an Update.
        let sets_managed_fields =
            obj["metadata"]["managedFields"] != current["metadata"]["managedFields"];
        // Writes of the system's own subresources (binding, finalize) record no manager.
        let tracked = matches!(sub, None | Some("status") | Some("scale"));
        if !applied && !sets_managed_fields && tracked {
            track_update(
                type_ref(rt),
                Some(current),
                &mut obj,
                manager_opts(rt, opts, sub).as_opts(),
            );
        }
        // Deletion completes when the last finalizer goes.
        let deleting = !current["metadata"]["deletionTimestamp"].is_null();
        let no_finalizers = obj["metadata"]["finalizers"]
            .as_array()
            .is_none_or(|a| a.is_empty());
        if deleting && no_finalizers && !kinds::strategy(rt).stays_after_finalizers(current, &obj) {
            return Ok((Change::Delete, warnings));
        }
        if obj == *current {
            return Ok((Change::Unchanged, warnings));
        }
        Ok((Change::Put(obj), warnings))
    }

    /// Validation, defaults and field pruning of an object in the client's version.
    fn admit(
        &self,
        rt: &ResourceType,
        old: Option<&Value>,
        obj: &mut Value,
        opts: &WriteOpts,
        sub: Option<&str>,
    ) -> Result<Vec<String>, ApiError> {
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut warnings = Vec::new();
        let unknown = if let Some(b) = rt.builtin {
            let mut probe = obj.clone();
            if let Some(m) = probe["metadata"].as_object_mut() {
                m.remove("managedFields");
            }
            let paths = (b.unknown_fields)(&probe)
                .map_err(|e| ApiError::bad_request(format!("{} in body {e}", rt.kind)))?;
            for p in &paths {
                remove_path(obj, p);
            }
            paths
        } else if let Some(schema) = rt.crd.as_ref().and_then(|c| c.schema.as_ref()) {
            schema::structural::prune(schema, obj)
        } else {
            Vec::new()
        };
        if !unknown.is_empty() {
            let list: Vec<String> = unknown
                .iter()
                .map(|p| format!("unknown field \"{p}\""))
                .collect();
            match opts.validation {
                FieldValidation::Strict => {
                    return Err(ApiError::bad_request(format!(
                        "strict decoding error: {}",
                        list.join(", ")
                    )));
                }
                FieldValidation::Warn => warnings.extend(list),
                FieldValidation::Ignore => {}
            }
        }
        let meta_errors = kinds::validation::object_meta(obj);
        if !meta_errors.is_empty() {
            return Err(invalid(rt, &name, &meta_errors));
        }
        if rt.builtin.is_some() {
            let strategy = kinds::strategy(rt);
            strategy.defaults(rt, obj);
            let errors = strategy.validate(rt, old.map(|o| from_storage(rt, o)).as_ref(), obj);
            if !errors.is_empty() {
                return Err(invalid(rt, &name, &errors));
            }
        } else if let Some(schema) = rt.crd.as_ref().and_then(|c| c.schema.as_ref()) {
            schema::structural::apply_defaults(schema, obj);
            let mut errors = schema::structural::validate(schema, obj);
            if sub == Some("status") {
                errors.retain(|e| e.path.starts_with("status"));
            }
            if !errors.is_empty() {
                return Err(invalid(rt, &name, &errors));
            }
        }
        Ok(warnings)
    }

    /// DELETE of one object.
    pub fn delete(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        dopts: &DeleteOpts,
    ) -> Result<Deleted, ApiError> {
        let ns = scope_ns(rt, ns);
        let key = rt.storage_key();
        let max_grace = self.config.max_grace_period.as_secs() as i64;
        let mut dry = None;
        let committed = self.store.write(&key, ns, name, |current, _| {
            let Some(current) = current else {
                return Err(ApiError::not_found(&rt.group, &rt.plural, name));
            };
            let meta = &current["metadata"];
            if let Some(uid) = &dopts.precondition_uid
                && meta["uid"].as_str() != Some(uid.as_str())
            {
                return Err(ApiError::conflict(
                    &rt.group,
                    &rt.plural,
                    name,
                    &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {}", meta["uid"].as_str().unwrap_or("")),
                ));
            }
            if let Some(rv) = &dopts.precondition_rv
                && meta["resourceVersion"].as_str() != Some(rv.as_str())
            {
                return Err(ApiError::conflict(
                    &rt.group,
                    &rt.plural,
                    name,
                    &format!("Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}", meta["resourceVersion"].as_str().unwrap_or("")),
                ));
            }
            let change = self.deletion_change(rt, current, dopts, max_grace)?;
            if dopts.dry_run {
                dry = Some(match &change {
                    Change::Put(o) => (o.clone(), false),
                    _ => (current.clone(), true),
                });
                return Ok(Change::Unchanged);
            }
            Ok(change)
        })?;
        if let Some((obj, gone)) = dry {
            return Ok(Deleted {
                object: from_storage(rt, &obj),
                gone,
            });
        }
        let gone = committed.kind == Some(crate::sandbox::store::EventType::Deleted);
        let object = if committed.object.is_null() {
            Value::Null
        } else {
            from_storage(rt, &committed.object)
        };
        Ok(Deleted { object, gone })
    }

    fn deletion_change(
        &self,
        rt: &ResourceType,
        current: &Value,
        dopts: &DeleteOpts,
        max_grace: i64,
    ) -> Result<Change, ApiError> {
        let mut obj = current.clone();
        let meta = &current["metadata"];
        let finalizers: Vec<String> = meta["finalizers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str().map(String::from))
            .collect();
        let already = !meta["deletionTimestamp"].is_null();
        if let Some(change) = kinds::strategy(rt).delete(current, dopts, max_grace) {
            return Ok(change);
        }
        if already {
            return Ok(if finalizers.is_empty() {
                Change::Delete
            } else {
                Change::Unchanged
            });
        }
        let mut finalizers = finalizers;
        let extra = match dopts.propagation.as_deref() {
            Some("Foreground") => Some("foregroundDeletion"),
            Some("Orphan") => Some("orphan"),
            _ => None,
        };
        if let Some(f) = extra
            && !finalizers.iter().any(|x| x == f)
        {
            finalizers.push(f.to_string());
        }
        obj["metadata"]["deletionTimestamp"] = json!(meta::now_rfc3339());
        obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        if !finalizers.is_empty() {
            obj["metadata"]["finalizers"] = json!(finalizers);
        }
        // Kinds whose deletion has work to do first (a namespace's content, a CRD's resources) wait.
        let waits = kinds::strategy(rt).mark_deleting(&mut obj);
        if finalizers.is_empty() && !waits {
            return Ok(Change::Delete);
        }
        Ok(Change::Put(obj))
    }

    /// Removes an object at once, whatever its grace period (the kubelet's final delete, GC of finished objects).
    pub fn remove_now(&self, key: &StorageKey, ns: &str, name: &str, uid: Option<&str>) {
        let _ = self.store.write(key, ns, name, |current, _| {
            Ok::<_, ApiError>(match current {
                Some(c) if uid.is_none_or(|u| c["metadata"]["uid"].as_str() == Some(u)) => {
                    if c["metadata"]["finalizers"]
                        .as_array()
                        .is_some_and(|f| !f.is_empty())
                    {
                        Change::Unchanged
                    } else {
                        Change::Delete
                    }
                }
                _ => Change::Unchanged,
            })
        });
    }

    /// Applies `f` to the stored object as an internal controller (no admission), committing only real changes.
    pub fn mutate(
        &self,
        key: &StorageKey,
        ns: &str,
        name: &str,
        f: impl FnOnce(&mut Value) -> bool,
    ) -> Option<Value> {
        let result = self.store.write(key, ns, name, |current, _| {
            let Some(current) = current else {
                return Ok::<_, ApiError>(Change::Unchanged);
            };
            let mut obj = current.clone();
            if !f(&mut obj) || obj == *current {
                return Ok(Change::Unchanged);
            }
            Ok(Change::Put(obj))
        });
        result.ok().map(|c| c.object).filter(|o| !o.is_null())
    }

    /// The autoscaling/v1 Scale of an object with the scale subresource.
    pub fn get_scale(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<Value, ApiError> {
        let obj = self.get(rt, ns, name)?;
        scale_of(rt, &obj)
    }

    /// PUT or PATCH of /scale: the new replicas go into the object's spec, in one write.
    pub fn write_scale(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        update: Update,
        opts: &WriteOpts,
    ) -> Result<Value, ApiError> {
        let ns = scope_ns(rt, ns);
        let paths = rt.scale.clone().ok_or_else(ApiError::no_route)?;
        let mut scale_opts = opts.clone();
        scale_opts.validation = FieldValidation::Ignore;
        let rt_ref = rt.clone();
        let written =
            self.write_existing(rt, ns, name, &scale_opts, Some("scale"), false, |current| {
                let rt = &rt_ref;
                let live = from_storage(rt, current);
                let scale = scale_of(rt, &live)?;
                let scale = match &update {
                    Update::Replace(body) => body.clone(),
                    Update::Patch(ptype, body) => patch_document(
                        None,
                        name,
                        scale,
                        *ptype,
                        body.clone(),
                        &scale_opts,
                        Some("scale"),
                    )?,
                };
                let replicas = scale["spec"]["replicas"].as_i64().ok_or_else(|| {
                    invalid_one(rt, name, "spec.replicas", schema::ErrorKind::Required, "")
                })?;
                if replicas < 0 {
                    return Err(invalid_one(
                        rt,
                        name,
                        "spec.replicas",
                        schema::ErrorKind::Invalid {
                            value: json!(replicas),
                            detail: "must be greater than or equal to 0".into(),
                        },
                        "",
                    ));
                }
                let mut next = live;
                set_by_path(&mut next, &paths.spec_replicas, json!(replicas));
                if let Some(rv) = scale["metadata"]["resourceVersion"].as_str() {
                    next["metadata"]["resourceVersion"] = json!(rv);
                }
                Ok(to_storage(rt, next))
            })?;
        scale_of(rt, &written.object)
    }

    /// A write to one of the kind's own subresources (a pod's binding or eviction, a namespace's finalize):
    /// the kind's strategy says what it makes of the object, and it is committed like every other write.
    pub fn write_subresource(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        sub: &str,
        body: Value,
        opts: &WriteOpts,
    ) -> Result<SubWritten, ApiError> {
        let ns = scope_ns(rt, ns);
        let Some(write) = kinds::strategy(rt).subresource_write(rt, sub, body) else {
            return Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            ));
        };
        match write? {
            SubWrite::Delete => {
                self.delete(rt, ns, name, &DeleteOpts::default())?;
                Ok(SubWritten::Success)
            }
            SubWrite::Update { reply, change } => {
                let mut sub_opts = opts.clone();
                sub_opts.validation = FieldValidation::Ignore;
                let rt_ref = rt.clone();
                let written =
                    self.write_existing(rt, ns, name, &sub_opts, Some(sub), false, |current| {
                        let live = from_storage(&rt_ref, current);
                        Ok(to_storage(&rt_ref, change(live)?))
                    })?;
                Ok(match reply {
                    SubReply::Object => SubWritten::Object(written.object),
                    SubReply::Success => SubWritten::Success,
                })
            }
        }
    }

    fn check_namespace_open(&self, ns: &str) -> Result<(), ApiError> {
        let key = StorageKey {
            group: String::new(),
            plural: "namespaces".into(),
        };
        match self.store.get(&key, "", ns) {
            None => Err(ApiError::not_found("", "namespaces", ns)),
            Some(obj) if !obj["metadata"]["deletionTimestamp"].is_null() => Err(ApiError::forbidden(format!(
                "unable to create new content in namespace {ns} because it is being terminated"
            ))
            .with_details(json!({"name": ns, "kind": "namespaces", "causes": [{"reason": "NamespaceTerminating", "message": format!("namespace {ns} is being terminated"), "field": "metadata.namespace"}]}))),
            Some(_) => Ok(()),
        }
    }

    fn check_name(&self, rt: &ResourceType, name: &str) -> Result<(), ApiError> {
        let label_names =
            rt.group.is_empty() && matches!(rt.kind.as_str(), "Namespace" | "Service");
        let errs = if rt.group == "rbac.authorization.k8s.io" {
            // RBAC names are path segments (ValidateRBACName), e.g. `system:controller:x`
            path_segment_errors(name)
        } else if label_names {
            meta::dns1123_label_errors(name)
        } else {
            meta::dns1123_subdomain_errors(name)
        };
        if errs.is_empty() {
            return Ok(());
        }
        let errors: Vec<FieldError> = errs
            .into_iter()
            .map(|detail| FieldError {
                path: "metadata.name".into(),
                kind: schema::ErrorKind::Invalid {
                    value: json!(name),
                    detail,
                },
            })
            .collect();
        Err(invalid(rt, name, &errors))
    }
}

/// Go's `path.IsValidPathSegmentName`.
fn path_segment_errors(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name == "." || name == ".." {
        errs.push(format!("may not be '{name}'"));
    }
    for c in ["/", "%"] {
        if name.contains(c) {
            errs.push(format!("may not contain '{c}'"));
        }
    }
    errs
}

/// A PUT or PATCH body of a subresource write that works on its own document (the Scale of `/scale`).
#[derive(Debug, Clone)]
pub enum Update {
    Replace(Value),
    Patch(PatchType, Value),
}

/// Applies a patch body to a document: the one patch path of every write (objects, `/status`, `/scale`).
/// `rt` is the kind whose merge keys a strategic merge and an apply use; `None` patches a document without
/// lists of its own (a Scale), where a strategic merge patch and an apply are merges.
pub fn patch_document(
    rt: Option<&ResourceType>,
    name: &str,
    live: Value,
    ptype: PatchType,
    body: Value,
    opts: &WriteOpts,
    sub: Option<&str>,
) -> Result<Value, ApiError> {
    let merge = |mut doc: Value, body: &Value| {
        if !body.is_object() {
            return Err(ApiError::bad_request(
                "error decoding patch: a merge patch must be a JSON object",
            ));
        }
        json_patch::merge(&mut doc, body);
        Ok(doc)
    };
    match (ptype, rt) {
        (PatchType::Json, _) => {
            let mut doc = live;
            let ops = json_patch_ops(body, &doc)?;
            json_patch::patch(&mut doc, &ops).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?;
            Ok(doc)
        }
        (PatchType::Merge, _) | (PatchType::Strategic | PatchType::Apply, None) => {
            merge(live, &body)
        }
        (PatchType::Strategic, Some(rt)) => {
            strategic_merge_patch(type_ref(rt), &live, &body).map_err(|e| patch_error(rt, name, e))
        }
        (PatchType::Apply, Some(rt)) => {
            let applied = check_body(rt, body)?;
            server_side_apply(
                type_ref(rt),
                Some(&live),
                &applied,
                opts.force,
                manager_opts(rt, opts, sub).as_opts(),
            )
            .map_err(|e| patch_error(rt, name, e))
        }
    }
}

/// Parses a JSON patch; a `test` for `null` at a path that does not exist passes, as on a real server
/// (kube-rs' finalizer helper relies on it).
pub fn json_patch_ops(body: Value, doc: &Value) -> Result<json_patch::Patch, ApiError> {
    let Value::Array(ops) = body else {
        return Err(ApiError::bad_request(
            "error decoding patch: a JSON patch must be an array of operations",
        ));
    };
    let ops: Vec<Value> = ops
        .into_iter()
        .filter(|op| {
            let missing_null_test = op["op"] == "test"
                && op["value"].is_null()
                && op["path"]
                    .as_str()
                    .is_some_and(|p| doc.pointer(p).is_none());
            !missing_null_test
        })
        .collect();
    serde_json::from_value(Value::Array(ops))
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))
}

/// The namespace a request works in: "" for cluster-scoped kinds.
/// A patch may not change what the object is: its name, namespace, uid, kind or apiVersion are refused as
/// kube-apiserver refuses them (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go `checkName`,
/// staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go for the uid precondition).
fn check_identity(
    rt: &ResourceType,
    current: &Value,
    patched: &Value,
    name: &str,
) -> Result<(), ApiError> {
    let text = |v: &Value, k: &str| v["metadata"][k].as_str().unwrap_or_default().to_string();
    let new_name = text(patched, "name");
    if new_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({new_name}) does not match the name on the URL ({name})"
        )));
    }
    if rt.namespaced && text(patched, "namespace") != text(current, "namespace") {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let (old_uid, new_uid) = (text(current, "uid"), text(patched, "uid"));
    if !new_uid.is_empty() && new_uid != old_uid {
        return Err(ApiError::conflict(
            &rt.group,
            &rt.plural,
            name,
            &format!(
                "Precondition failed: UID in precondition: {new_uid}, UID in object meta: {old_uid}"
            ),
        ));
    }
    if patched["kind"].as_str().is_some_and(|k| k != rt.kind) {
        return Err(ApiError::bad_request(format!(
            "the kind of the patched object ({}) does not match the resource's kind ({})",
            patched["kind"].as_str().unwrap_or_default(),
            rt.kind
        )));
    }
    if patched["apiVersion"]
        .as_str()
        .is_some_and(|v| v != rt.api_version())
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({}) does not match the expected API version ({})",
            patched["apiVersion"].as_str().unwrap_or_default(),
            rt.api_version()
        )));
    }
    Ok(())
}

fn scope_ns<'a>(rt: &ResourceType, ns: &'a str) -> &'a str {
    if rt.namespaced { ns } else { "" }
}

fn unreachable_name() -> String {
    String::new()
}

fn name_is_generated(name: &str, generate: &Option<String>) -> bool {
    generate.as_deref().is_some_and(|g| name.starts_with(g))
}

/// Checks apiVersion and kind of a request body against the resource.
fn check_body(rt: &ResourceType, body: Value) -> Result<Value, ApiError> {
    let Value::Object(mut map) = body else {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON or YAML object",
        ));
    };
    let kind = map
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let api_version = map
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !kind.is_empty() && kind != rt.kind {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            rt.kind
        )));
    }
    if !api_version.is_empty() && api_version != rt.api_version() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            rt.api_version()
        )));
    }
    map.insert("apiVersion".into(), json!(rt.api_version()));
    map.insert("kind".into(), json!(rt.kind));
    match map.get("metadata") {
        None | Some(Value::Null) => {
            map.insert("metadata".into(), json!({}));
        }
        Some(Value::Object(_)) => {}
        Some(_) => return Err(ApiError::bad_request("metadata must be an object")),
    }
    Ok(Value::Object(map))
}

fn spec_of(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
        m.remove("apiVersion");
        m.remove("kind");
    }
    o
}

fn type_ref(rt: &ResourceType) -> TypeRef<'_> {
    TypeRef {
        group: &rt.group,
        kind: &rt.kind,
        builtin: rt.is_builtin(),
    }
}

struct OwnedManagerOpts {
    manager: String,
    sub: Option<String>,
    api_version: String,
    now: String,
}

impl OwnedManagerOpts {
    fn as_opts(&self) -> ManagerOptions<'_> {
        ManagerOptions {
            manager: &self.manager,
            subresource: self.sub.as_deref(),
            api_version: &self.api_version,
            now: &self.now,
        }
    }
}

fn manager_opts(rt: &ResourceType, opts: &WriteOpts, sub: Option<&str>) -> OwnedManagerOpts {
    OwnedManagerOpts {
        manager: opts.manager.clone(),
        sub: sub.map(String::from),
        api_version: rt.api_version(),
        now: meta::now_rfc3339(),
    }
}

fn patch_error(rt: &ResourceType, name: &str, e: PatchError) -> ApiError {
    match e {
        PatchError::BadRequest(m) => ApiError::bad_request(m),
        PatchError::Invalid(m) => ApiError::new(422, "Invalid", m),
        PatchError::Unsupported(m) => ApiError::unsupported_media_type(m),
        PatchError::Conflicts(conflicts) => ApiError::new(
            409,
            "Conflict",
            crate::sandbox::patch::apply::conflict_message(&conflicts),
        )
        .with_details(json!({
            "name": name,
            "group": rt.group,
            "kind": rt.plural,
            "causes": crate::sandbox::patch::apply::conflict_causes(&conflicts),
        })),
    }
}

/// A 422 Invalid for field errors.
pub fn invalid(rt: &ResourceType, name: &str, errors: &[FieldError]) -> ApiError {
    rt.invalid(name, errors)
}

fn invalid_one(
    rt: &ResourceType,
    name: &str,
    path: &str,
    kind: schema::ErrorKind,
    _detail: &str,
) -> ApiError {
    invalid(
        rt,
        name,
        &[FieldError {
            path: path.into(),
            kind,
        }],
    )
}

/// The Scale object of `obj`.
fn scale_of(rt: &ResourceType, obj: &Value) -> Result<Value, ApiError> {
    let paths = rt.scale.as_ref().ok_or_else(ApiError::no_route)?;
    let spec = get_by_path(obj, &paths.spec_replicas)
        .cloned()
        .unwrap_or(json!(0));
    let status = get_by_path(obj, &paths.status_replicas)
        .cloned()
        .unwrap_or(json!(0));
    let selector = paths
        .label_selector
        .as_deref()
        .and_then(|p| get_by_path(obj, p))
        .map(|s| match s {
            Value::String(s) => s.clone(),
            other => LabelSelector::from_object(other).to_string_form(),
        });
    let m = &obj["metadata"];
    let mut scale = json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
            "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"],
        },
        "spec": {"replicas": spec},
        "status": {"replicas": status},
    });
    if let Some(sel) = selector {
        scale["status"]["selector"] = json!(sel);
    }
    if !rt.namespaced
        && let Some(m) = scale["metadata"].as_object_mut()
    {
        m.remove("namespace");
    }
    Ok(scale)
}

/// Reads `.spec.replicas`-style paths.
pub fn get_by_path<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    path.trim_start_matches('.')
        .split('.')
        .filter(|s| !s.is_empty())
        .try_fold(obj, |v, seg| v.get(seg))
}

fn set_by_path(obj: &mut Value, path: &str, value: Value) {
    let segs: Vec<&str> = path
        .trim_start_matches('.')
        .split('.')
        .filter(|s| !s.is_empty())
        .collect();
    let mut cur = obj;
    for (i, seg) in segs.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        let Some(map) = cur.as_object_mut() else {
            return;
        };
        if i + 1 == segs.len() {
            map.insert((*seg).to_string(), value);
            return;
        }
        cur = map.entry((*seg).to_string()).or_insert_with(|| json!({}));
    }
}

/// Removes a field given as `spec.containers[0].foo`.
fn remove_path(obj: &mut Value, path: &str) {
    let mut segs: Vec<(String, Option<usize>)> = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        let name_end = rest.find('[').unwrap_or(rest.len());
        let name = &rest[..name_end];
        if !name.is_empty() {
            segs.push((name.to_string(), None));
        }
        rest = &rest[name_end..];
        while let Some(close) = rest.find(']') {
            if let Ok(i) = rest[1..close].parse::<usize>() {
                segs.push((String::new(), Some(i)));
            }
            rest = &rest[close + 1..];
        }
    }
    fn walk(v: &mut Value, segs: &[(String, Option<usize>)]) {
        let Some(((name, idx), rest)) = segs.split_first() else {
            return;
        };
        match idx {
            Some(i) => {
                if let Some(item) = v.as_array_mut().and_then(|a| a.get_mut(*i)) {
                    walk(item, rest);
                }
            }
            None => {
                let Some(map) = v.as_object_mut() else { return };
                if rest.is_empty() {
                    map.remove(name);
                } else if let Some(child) = map.get_mut(name) {
                    walk(child, rest);
                }
            }
        }
    }
    walk(obj, &segs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_nested_paths() {
        let mut v = json!({"spec": {"containers": [{"name": "a", "foo": 1}], "bar": 2}});
        remove_path(&mut v, "spec.containers[0].foo");
        remove_path(&mut v, "spec.bar");
        assert_eq!(v, json!({"spec": {"containers": [{"name": "a"}]}}));
    }

    #[test]
    fn paths_set_and_get() {
        let mut v = json!({});
        set_by_path(&mut v, ".spec.replicas", json!(3));
        assert_eq!(get_by_path(&v, ".spec.replicas"), Some(&json!(3)));
    }
}
