//! Server-side apply: field ownership in `metadata.managedFields` (FieldsV1), merging, conflicts and force.

use super::fieldset::{PathElement, Set, display_path};
use super::merge_keys::{self, ListInfo, ListType, Ty};
use super::{Conflict, PatchError, TypeRef};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Options of one server-side apply or one tracked update.
#[derive(Debug, Clone, Copy)]
pub struct ManagerOptions<'a> {
    /// The field manager, e.g. "kubectl" or "oplab".
    pub manager: &'a str,
    /// `None` for the main resource, `Some("status")` or `Some("scale")` for a subresource write.
    pub subresource: Option<&'a str>,
    /// apiVersion recorded in the managedFields entry, e.g. "apps/v1".
    pub api_version: &'a str,
    /// RFC 3339 timestamp recorded in the managedFields entry.
    pub now: &'a str,
}

const APPLY: &str = "Apply";
const UPDATE: &str = "Update";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Server-side apply of `applied` (the caller's whole intent) by `opts.manager`.
/// `live` is the current object, `None` when it does not exist yet (apply creates).
/// Returns the new object with `metadata.managedFields` updated; the caller sets
/// resourceVersion, uid, generation and the like. Without `force`, fields owned by another
/// manager with a different value give [`PatchError::Conflicts`].
pub fn server_side_apply(
    ty: TypeRef<'_>,
    live: Option<&Value>,
    applied: &Value,
    force: bool,
    opts: ManagerOptions<'_>,
) -> Result<Value, PatchError> {
    if !applied.is_object() {
        return Err(PatchError::BadRequest(
            "apply patch must be an object (a whole resource in YAML or JSON)".to_string(),
        ));
    }
    if let Some(mf) = applied.pointer("/metadata/managedFields")
        && !mf.is_null()
        && mf.as_array().is_none_or(|a| !a.is_empty())
    {
        return Err(PatchError::BadRequest(
            "metadata.managedFields must be nil".to_string(),
        ));
    }
    let root = merge_keys::root(ty);
    let config = without_managed_fields(applied);
    let live_obj = live.map_or_else(|| Value::Object(Map::new()), without_managed_fields);
    let mut entries = live
        .map(|l| decode_entries(managed_fields(l)).unwrap_or_default())
        .unwrap_or_default();

    let mut merged = merge(root, &live_obj, &config);
    let mut new_set = Set::new();
    field_set(root, &config, &mut Vec::new(), &mut new_set);
    strip_ignored(&mut new_set);

    let me = entries.iter().position(|e| {
        e.manager == opts.manager
            && e.operation == APPLY
            && e.subresource.as_deref() == opts.subresource
    });
    let last_set = me.map(|i| entries[i].set.clone());
    let me = match me {
        Some(i) => {
            entries[i].set = new_set.clone();
            entries[i].api_version = opts.api_version.to_string();
            i
        }
        None => {
            entries.push(Entry {
                manager: opts.manager.to_string(),
                operation: APPLY.to_string(),
                api_version: opts.api_version.to_string(),
                time: None,
                subresource: opts.subresource.map(str::to_string),
                set: new_set.clone(),
            });
            entries.len() - 1
        }
    };

    // Fields this manager applied before and no longer applies go away unless someone owns them.
    if let Some(last) = &last_set {
        let mut owned = Set::new();
        for e in &entries {
            owned.union_with(&e.set);
        }
        for path in last.paths() {
            if !owned.contains(&path) && !owned.has_descendants(&path) {
                remove_path(root, &mut merged, &path, ty.builtin);
            }
        }
    }

    let mut diff = Diff::default();
    compare(
        root,
        Some(&live_obj),
        Some(&merged),
        &mut Vec::new(),
        false,
        &mut diff,
    );
    let mut changed = diff.added.clone();
    changed.union_with(&diff.modified);
    strip_ignored(&mut changed);

    let mut conflicts = Vec::new();
    for (i, e) in entries.iter_mut().enumerate() {
        if i == me {
            continue;
        }
        let clash = e.set.intersection(&changed);
        if !clash.is_empty() {
            if force {
                e.set.subtract(&clash);
            } else {
                conflicts.extend(clash.paths().iter().map(|p| Conflict {
                    manager: e.manager.clone(),
                    operation: e.operation.clone(),
                    api_version: e.api_version.clone(),
                    subresource: e.subresource.clone(),
                    field: display_path(p),
                }));
            }
        }
        e.set.subtract(&diff.removed);
    }
    if !conflicts.is_empty() {
        // kubectl's upgrade from client-side to server-side apply: conflicts only on fields of the
        // last-applied configuration are taken over, as the API server's last-applied manager does.
        if opts.manager == "kubectl"
            && let Some(allowed) = live.and_then(|l| last_applied_set(root, l))
            && conflicts.iter().all(|c| allowed.contains(c.field.as_str()))
        {
            return server_side_apply(ty, live, applied, true, opts);
        }
        conflicts.sort_by_key(conflict_identifier);
        return Err(PatchError::Conflicts(conflicts));
    }

    let object_changed = live.is_none() || merged != live_obj;
    let entry = &mut entries[me];
    if object_changed || entry.time.is_none() || last_set.as_ref() != Some(&entry.set) {
        entry.time = Some(opts.now.to_string());
    }
    entries.retain(|e| !e.set.is_empty());

    if opts.manager == "kubectl" {
        sync_last_applied(&mut merged, &config);
    }
    set_managed_fields(&mut merged, &mut entries);
    Ok(merged)
}

/// The fields (in display form) of the object's `kubectl.kubernetes.io/last-applied-configuration`.
fn last_applied_set(root: Ty, live: &Value) -> Option<std::collections::HashSet<String>> {
    let text = live
        .pointer("/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration")?
        .as_str()?;
    let last: Value = serde_json::from_str(text).ok()?;
    let mut set = Set::new();
    field_set(root, &last, &mut Vec::new(), &mut set);
    Some(set.paths().iter().map(|p| display_path(p)).collect())
}

/// Records in `new.metadata.managedFields` that `opts.manager` set (operation `Update`)
/// the fields that differ between `old` and `new` (all fields of `new` on create), and
/// removes those fields from other managers' sets.
pub fn track_update(
    ty: TypeRef<'_>,
    old: Option<&Value>,
    new: &mut Value,
    opts: ManagerOptions<'_>,
) {
    let root = merge_keys::root(ty);
    let old_mf = old.and_then(managed_fields).cloned();
    let new_mf = managed_fields(new).cloned();
    let reset = new_mf
        .as_ref()
        .and_then(Value::as_array)
        .is_some_and(|a| a.len() == 1 && a[0].as_object().is_some_and(Map::is_empty));
    // As Kubernetes: a subresource write cannot set managedFields; a main write may, and
    // when it sends none the live ones are kept.
    let mut entries = if opts.subresource.is_some() {
        decode_entries(old_mf.as_ref()).unwrap_or_default()
    } else if reset {
        Vec::new()
    } else {
        match decode_entries(new_mf.as_ref()) {
            Ok(e) if !e.is_empty() => e,
            _ => decode_entries(old_mf.as_ref()).unwrap_or_default(),
        }
    };

    let old_obj = old.map_or_else(|| Value::Object(Map::new()), without_managed_fields);
    let new_obj = without_managed_fields(new);
    let mut diff = Diff::default();
    compare(
        root,
        Some(&old_obj),
        Some(&new_obj),
        &mut Vec::new(),
        false,
        &mut diff,
    );
    let mut changed = diff.added;
    changed.union_with(&diff.modified);
    strip_ignored(&mut changed);
    let mut removed = diff.removed;
    strip_ignored(&mut removed);

    let keeps_client_fields = opts.subresource.is_none()
        && new_mf
            .as_ref()
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
    if changed.is_empty() && removed.is_empty() && !reset && keeps_client_fields {
        return;
    }

    let is_me = |e: &Entry| {
        e.manager == opts.manager
            && e.operation == UPDATE
            && e.subresource.as_deref() == opts.subresource
            && e.api_version == opts.api_version
    };
    let mut found = false;
    for e in entries.iter_mut() {
        if is_me(e) {
            found = true;
            e.set.subtract(&removed);
            if !changed.is_empty() {
                e.set.union_with(&changed);
                e.time = Some(opts.now.to_string());
            }
        } else {
            e.set.subtract(&changed);
            e.set.subtract(&removed);
        }
    }
    if !found && !changed.is_empty() {
        entries.push(Entry {
            manager: opts.manager.to_string(),
            operation: UPDATE.to_string(),
            api_version: opts.api_version.to_string(),
            time: Some(opts.now.to_string()),
            subresource: opts.subresource.map(str::to_string),
            set: changed,
        });
    }
    entries.retain(|e| !e.set.is_empty());
    set_managed_fields(new, &mut entries);
}

/// The message of the 409 Status of a failed apply, as Kubernetes writes it.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            print_manager(only),
            only.field
        );
    }
    let mut by_manager: BTreeMap<String, (String, Vec<&str>)> = BTreeMap::new();
    for c in conflicts {
        by_manager
            .entry(conflict_identifier(c))
            .or_insert_with(|| (print_manager(c), Vec::new()))
            .1
            .push(&c.field);
    }
    let mut lines = Vec::new();
    for (shown, fields) in by_manager.values() {
        lines.push(format!("conflicts with {shown}:"));
        lines.extend(fields.iter().map(|f| format!("- {f}")));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// The `details.causes` of the 409 Status: one `FieldManagerConflict` per conflicting field.
pub fn conflict_causes(conflicts: &[Conflict]) -> Value {
    Value::Array(
        conflicts
            .iter()
            .map(|c| {
                json!({
                    "reason": "FieldManagerConflict",
                    "message": format!("conflict with {}", print_manager(c)),
                    "field": c.field,
                })
            })
            .collect(),
    )
}

fn go_quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// How Kubernetes names a manager in conflict messages.
fn print_manager(c: &Conflict) -> String {
    let mut shown = go_quote(&c.manager);
    if let Some(sub) = &c.subresource {
        shown = format!("{shown} with subresource {}", go_quote(sub));
    }
    if c.operation == UPDATE {
        shown = format!("{shown} using {}", c.api_version);
    }
    shown
}

/// The manager identifier Kubernetes sorts conflicts by (a JSON object without time/fields).
fn conflict_identifier(c: &Conflict) -> String {
    let mut m = Map::new();
    m.insert("manager".into(), Value::String(c.manager.clone()));
    m.insert("operation".into(), Value::String(c.operation.clone()));
    if c.operation != APPLY && !c.api_version.is_empty() {
        m.insert("apiVersion".into(), Value::String(c.api_version.clone()));
    }
    if let Some(sub) = &c.subresource {
        m.insert("subresource".into(), Value::String(sub.clone()));
    }
    Value::Object(m).to_string()
}

// ---------------------------------------------------------------------------------------------
// managedFields entries

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: Option<String>,
    subresource: Option<String>,
    set: Set,
}

impl Entry {
    fn from_json(v: &Value) -> Result<Entry, String> {
        let m = v
            .as_object()
            .ok_or("managedFields entry is not an object")?;
        let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        if let Some(t) = text("fieldsType")
            && t != "FieldsV1"
        {
            return Err(format!("unsupported fieldsType {t}"));
        }
        let set = match m.get("fieldsV1") {
            Some(v) if !v.is_null() => Set::from_fields_v1(v)?,
            _ => Set::new(),
        };
        Ok(Entry {
            manager: text("manager").unwrap_or_default(),
            operation: text("operation").ok_or("managedFields entry without operation")?,
            api_version: text("apiVersion").unwrap_or_default(),
            time: text("time"),
            subresource: text("subresource").filter(|s| !s.is_empty()),
            set,
        })
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), Value::String(self.manager.clone()));
        m.insert("operation".into(), Value::String(self.operation.clone()));
        m.insert("apiVersion".into(), Value::String(self.api_version.clone()));
        if let Some(t) = &self.time {
            m.insert("time".into(), Value::String(t.clone()));
        }
        m.insert("fieldsType".into(), Value::String("FieldsV1".into()));
        m.insert("fieldsV1".into(), self.set.to_fields_v1());
        if let Some(s) = &self.subresource {
            m.insert("subresource".into(), Value::String(s.clone()));
        }
        Value::Object(m)
    }

    fn seconds(&self) -> i64 {
        self.time
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map_or(0, |t| t.as_second())
    }
}

fn managed_fields(obj: &Value) -> Option<&Value> {
    obj.get("metadata")?.get("managedFields")
}

fn decode_entries(v: Option<&Value>) -> Result<Vec<Entry>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(Entry::from_json).collect(),
        Some(_) => Err("managedFields is not a list".to_string()),
    }
}

/// Writes the entries, sorted as Kubernetes sorts them, into `obj.metadata.managedFields`.
fn set_managed_fields(obj: &mut Value, entries: &mut [Entry]) {
    entries.sort_by(|p, q| {
        p.operation
            .cmp(&q.operation)
            .then_with(|| p.seconds().cmp(&q.seconds()))
            .then_with(|| p.manager.cmp(&q.manager))
            .then_with(|| p.api_version.cmp(&q.api_version))
            .then_with(|| p.subresource.cmp(&q.subresource))
    });
    let Value::Object(root) = obj else { return };
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(meta) = meta else { return };
    if entries.is_empty() {
        meta.shift_remove("managedFields");
    } else {
        meta.insert(
            "managedFields".into(),
            Value::Array(entries.iter().map(Entry::to_json).collect()),
        );
    }
}

fn without_managed_fields(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(Value::Object(meta)) = v.get_mut("metadata") {
        meta.shift_remove("managedFields");
    }
    v
}

/// Fields no manager ever owns (as the API server's stripMeta, plus deletion markers).
fn strip_ignored(set: &mut Set) {
    let f = |s: &str| PathElement::Field(s.to_string());
    set.remove_tree(&[f("apiVersion")]);
    set.remove_tree(&[f("kind")]);
    set.remove(&[f("metadata")]);
    for name in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        set.remove_tree(&[f("metadata"), f(name)]);
    }
}

/// Keeps kubectl's client-side-apply annotation in step with server-side applies by "kubectl".
fn sync_last_applied(obj: &mut Value, config: &Value) {
    let Some(Value::Object(ann)) = obj.pointer_mut("/metadata/annotations") else {
        return;
    };
    if !ann.contains_key(LAST_APPLIED) {
        return;
    }
    let mut applied = config.clone();
    if let Some(Value::Object(a)) = applied.pointer_mut("/metadata/annotations") {
        a.shift_remove(LAST_APPLIED);
    }
    let text = format!("{}\n", sorted_keys(&applied));
    ann.insert(LAST_APPLIED.into(), Value::String(text));
}

fn sorted_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted_keys(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted_keys).collect()),
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// typed walks over values

enum Shape<'a> {
    /// A scalar, an atomic list or map, or a list whose items cannot be keyed.
    Leaf,
    Object(&'a Map<String, Value>),
    List(Ty, Vec<(PathElement, &'a Value)>),
}

fn shape(ty: Ty, v: &Value) -> Shape<'_> {
    match v {
        Value::Object(m) if !ty.is_atomic_map() => Shape::Object(m),
        Value::Array(items) => match ty.list_info().and_then(|info| item_elements(info, items)) {
            Some(list) => Shape::List(ty.item(), list),
            None => Shape::Leaf,
        },
        _ => Shape::Leaf,
    }
}

fn item_element(info: &ListInfo, item: &Value) -> Option<PathElement> {
    match info.list_type {
        ListType::Atomic => None,
        ListType::Set => {
            (!item.is_object() && !item.is_array()).then(|| PathElement::Value(item.clone()))
        }
        ListType::Map(keys) => {
            let m = item.as_object()?;
            let mut fields = Vec::with_capacity(keys.len());
            for key in keys {
                let value = match m.get(*key).filter(|v| !v.is_null()) {
                    Some(v) => v.clone(),
                    None => {
                        let (_, d) = info.key_defaults.iter().find(|(n, _)| n == key)?;
                        Value::String((*d).to_string())
                    }
                };
                fields.push(((*key).to_string(), value));
            }
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Some(PathElement::Key(fields))
        }
    }
}

/// The path elements of every item, or `None` (treat as atomic) when an item has no key or
/// two items share one.
fn item_elements<'a>(info: &ListInfo, items: &'a [Value]) -> Option<Vec<(PathElement, &'a Value)>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let pe = item_element(info, item)?;
        if !seen.insert(pe.clone()) {
            return None;
        }
        out.push((pe, item));
    }
    Some(out)
}

/// Whether an object-valued field gets its own entry when it is added by an Update: maps
/// and unknown objects do, known structs (always present in Go objects) do not.
fn owns_self(ty: Ty) -> bool {
    !matches!(ty, Ty::Struct(_))
}

fn is_empty_object(v: &Value) -> bool {
    v.as_object().is_some_and(Map::is_empty)
}

/// The fields an applied configuration sets, as structured-merge-diff's ToFieldSet:
/// leaves, list items, and null or empty objects.
fn field_set(ty: Ty, v: &Value, path: &mut Vec<PathElement>, set: &mut Set) {
    match shape(ty, v) {
        Shape::Leaf => set.insert(path),
        Shape::Object(m) => {
            for (k, child) in m {
                path.push(PathElement::Field(k.clone()));
                if child.is_null() || is_empty_object(child) {
                    set.insert(path);
                }
                field_set(ty.field(k), child, path, set);
                path.pop();
            }
        }
        Shape::List(item_ty, items) => {
            for (pe, item) in items {
                path.push(pe);
                set.insert(path);
                field_set(item_ty, item, path, set);
                path.pop();
            }
        }
    }
}

#[derive(Default, Debug)]
struct Diff {
    added: Set,
    modified: Set,
    removed: Set,
}

/// Compares two values of type `ty` at `path`, as structured-merge-diff's Compare.
fn compare(
    ty: Ty,
    old: Option<&Value>,
    new: Option<&Value>,
    path: &mut Vec<PathElement>,
    insert_self: bool,
    d: &mut Diff,
) {
    match (old, new) {
        (None, None) => {}
        (Some(o), None) => mark_all(ty, o, path, true, &mut d.removed),
        (None, Some(n)) => mark_all(ty, n, path, insert_self, &mut d.added),
        (Some(o), Some(n)) => match (shape(ty, o), shape(ty, n)) {
            (Shape::Object(om), Shape::Object(nm)) => {
                let keys: Vec<&String> = om
                    .keys()
                    .chain(nm.keys().filter(|k| !om.contains_key(*k)))
                    .collect();
                for k in keys {
                    let child_ty = ty.field(k);
                    path.push(PathElement::Field(k.clone()));
                    compare(child_ty, om.get(k), nm.get(k), path, owns_self(child_ty), d);
                    path.pop();
                }
            }
            (Shape::List(item_ty, oi), Shape::List(_, ni)) => {
                let old_items: BTreeMap<&PathElement, &Value> =
                    oi.iter().map(|(p, v)| (p, *v)).collect();
                let new_items: BTreeMap<&PathElement, &Value> =
                    ni.iter().map(|(p, v)| (p, *v)).collect();
                let mut pes: Vec<&PathElement> = oi.iter().map(|(p, _)| p).collect();
                pes.extend(
                    ni.iter()
                        .map(|(p, _)| p)
                        .filter(|p| !old_items.contains_key(p)),
                );
                for pe in pes {
                    path.push(pe.clone());
                    compare(
                        item_ty,
                        old_items.get(pe).copied(),
                        new_items.get(pe).copied(),
                        path,
                        true,
                        d,
                    );
                    path.pop();
                }
            }
            (Shape::Leaf, Shape::Leaf) => {
                if o != n {
                    d.modified.insert(path);
                }
            }
            _ => {
                // The value changed kind (e.g. object to scalar): its old parts go, its new parts come.
                mark_all(ty, o, path, true, &mut d.removed);
                mark_all(ty, n, path, true, &mut d.added);
                d.removed.remove(path);
                d.added.remove(path);
                d.modified.insert(path);
            }
        },
    }
}

/// Inserts `path` (when `insert_self` or a leaf) and every path below it into `set`.
fn mark_all(ty: Ty, v: &Value, path: &mut Vec<PathElement>, insert_self: bool, set: &mut Set) {
    match shape(ty, v) {
        Shape::Leaf => set.insert(path),
        Shape::Object(m) => {
            if insert_self {
                set.insert(path);
            }
            for (k, child) in m {
                let child_ty = ty.field(k);
                path.push(PathElement::Field(k.clone()));
                mark_all(child_ty, child, path, owns_self(child_ty), set);
                path.pop();
            }
        }
        Shape::List(item_ty, items) => {
            if insert_self {
                set.insert(path);
            }
            for (pe, item) in items {
                path.push(pe);
                mark_all(item_ty, item, path, true, set);
                path.pop();
            }
        }
    }
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

/// Merges an applied configuration into a live value: objects field by field, associative
/// lists and sets item by item (structured-merge-diff's order), everything else replaced.
fn merge(ty: Ty, live: &Value, config: &Value) -> Value {
    match (shape(ty, live), shape(ty, config)) {
        (Shape::Object(lm), Shape::Object(cm)) => {
            let mut out = lm.clone();
            for (k, cv) in cm {
                if cv.is_null() {
                    out.shift_remove(k);
                    continue;
                }
                let merged = match lm.get(k) {
                    Some(lv) => merge(ty.field(k), lv, cv),
                    None => strip_nulls(cv),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Shape::List(item_ty, li), Shape::List(_, ci)) => {
            Value::Array(merge_items(item_ty, &li, &ci))
        }
        _ => strip_nulls(config),
    }
}

fn merge_items(
    item_ty: Ty,
    live: &[(PathElement, &Value)],
    config: &[(PathElement, &Value)],
) -> Vec<Value> {
    let live_index: BTreeMap<&PathElement, &Value> = live.iter().map(|(p, v)| (p, *v)).collect();
    let config_keys: BTreeSet<&PathElement> = config.iter().map(|(p, _)| p).collect();
    let shared: Vec<&PathElement> = config
        .iter()
        .map(|(p, _)| p)
        .filter(|p| live_index.contains_key(p))
        .collect();
    let mut next_shared = 0;
    let mut done: BTreeSet<&PathElement> = BTreeSet::new();
    let mut out = Vec::with_capacity(live.len() + config.len());
    let (mut l, mut r) = (0, 0);
    while l < live.len() || r < config.len() {
        if l < live.len() && r < config.len() {
            let (lpe, lv) = &live[l];
            let (rpe, rv) = &config[r];
            if lpe == rpe {
                out.push(merge(item_ty, lv, rv));
                done.insert(rpe);
                if shared.get(next_shared) == Some(&rpe) {
                    next_shared += 1;
                }
                l += 1;
                r += 1;
                continue;
            }
            if config_keys.contains(lpe) && shared.get(next_shared).is_some_and(|s| *s != lpe) {
                // A shared item the configuration puts later: it is emitted in the configuration's order.
                l += 1;
                continue;
            }
        }
        if l < live.len() {
            let (lpe, lv) = &live[l];
            if !config_keys.contains(lpe) {
                out.push((*lv).clone());
                l += 1;
                continue;
            }
            if done.contains(lpe) {
                l += 1;
                continue;
            }
        }
        if r < config.len() {
            let (rpe, rv) = &config[r];
            out.push(match live_index.get(rpe) {
                Some(lv) => merge(item_ty, lv, rv),
                None => strip_nulls(rv),
            });
            done.insert(rpe);
            if shared.get(next_shared) == Some(&rpe) {
                next_shared += 1;
            }
            r += 1;
            continue;
        }
        l += 1;
    }
    out
}

/// Removes the value at `path`; with `prune`, containers emptied by the removal go too
/// (Go objects omit empty maps and lists), except top-level fields.
fn remove_path(ty: Ty, v: &mut Value, path: &[PathElement], prune: bool) {
    remove_at(ty, v, path, prune, 0);
}

fn remove_at(ty: Ty, v: &mut Value, path: &[PathElement], prune: bool, depth: usize) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let emptied = |c: &Value| match c {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    match (first, v) {
        (PathElement::Field(k), Value::Object(m)) => {
            if rest.is_empty() {
                m.shift_remove(k);
            } else if let Some(child) = m.get_mut(k) {
                let was_empty = emptied(child);
                remove_at(ty.field(k), child, rest, prune, depth + 1);
                if prune && depth > 0 && !was_empty && emptied(child) {
                    m.shift_remove(k);
                }
            }
        }
        (PathElement::Index(i), Value::Array(items)) => {
            if rest.is_empty() {
                if *i < items.len() {
                    items.remove(*i);
                }
            } else if let Some(child) = items.get_mut(*i) {
                remove_at(ty.item(), child, rest, prune, depth + 1);
            }
        }
        (pe, Value::Array(items)) => {
            let Some(info) = ty.list_info() else { return };
            let Some(i) = items
                .iter()
                .position(|item| item_element(info, item).as_ref() == Some(pe))
            else {
                return;
            };
            if rest.is_empty() {
                items.remove(i);
            } else {
                remove_at(info.item, &mut items[i], rest, prune, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DEPLOYMENT: TypeRef<'static> = TypeRef {
        group: "apps",
        kind: "Deployment",
        builtin: true,
    };
    const T1: &str = "2024-01-01T00:00:00Z";
    const T2: &str = "2024-01-02T00:00:00Z";
    const T3: &str = "2024-01-03T00:00:00Z";

    fn opts<'a>(manager: &'a str, now: &'a str) -> ManagerOptions<'a> {
        ManagerOptions {
            manager,
            subresource: None,
            api_version: "apps/v1",
            now,
        }
    }

    fn config(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]}
                }
            }
        })
    }

    fn apply(
        live: Option<&Value>,
        cfg: &Value,
        manager: &str,
        now: &str,
    ) -> Result<Value, PatchError> {
        server_side_apply(DEPLOYMENT, live, cfg, false, opts(manager, now))
    }

    fn entries(obj: &Value) -> Vec<Value> {
        obj["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn entry<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
        obj["metadata"]["managedFields"]
            .as_array()?
            .iter()
            .find(|e| e["manager"] == manager && e["operation"] == operation)
    }

    fn owns(obj: &Value, manager: &str, operation: &str, path: &[&str]) -> bool {
        let Some(e) = entry(obj, manager, operation) else {
            return false;
        };
        let mut cur = &e["fieldsV1"];
        for p in path {
            cur = &cur[*p];
        }
        cur.is_object()
    }

    #[test]
    fn create_records_fields_v1_like_kubernetes() {
        let obj = apply(None, &config(2, "nginx:1.25"), "kubectl", T1).unwrap();
        assert_eq!(obj["spec"], config(2, "nginx:1.25")["spec"]);
        let e = entries(&obj);
        assert_eq!(e.len(), 1);
        let expected = concat!(
            r#"{"manager":"kubectl","operation":"Apply","apiVersion":"apps/v1","time":"2024-01-01T00:00:00Z","fieldsType":"FieldsV1","fieldsV1":"#,
            r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"#,
            r#""f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}}"#
        );
        assert_eq!(serde_json::to_string(&e[0]).unwrap(), expected);
    }

    #[test]
    fn reapply_unchanged_is_byte_identical() {
        let first = apply(None, &config(2, "nginx:1.25"), "kubectl", T1).unwrap();
        let second = apply(Some(&first), &config(2, "nginx:1.25"), "kubectl", T2).unwrap();
        assert_eq!(
            serde_json::to_string(&first).unwrap(),
            serde_json::to_string(&second).unwrap()
        );
        // A real change moves the time.
        let third = apply(Some(&second), &config(2, "nginx:1.27"), "kubectl", T3).unwrap();
        assert_eq!(entries(&third)[0]["time"], T3);
        assert_eq!(
            third["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1.27"
        );
    }

    #[test]
    fn fields_dropped_from_the_config_are_removed() {
        let mut cfg = config(2, "nginx:1.25");
        cfg["metadata"]["labels"]["tier"] = json!("front");
        cfg["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "sidecar", "image": "busybox"}));
        let first = apply(None, &cfg, "kubectl", T1).unwrap();
        assert_eq!(
            first["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let second = apply(Some(&first), &config(2, "nginx:1.25"), "kubectl", T2).unwrap();
        assert_eq!(second["metadata"]["labels"], json!({"app": "web"}));
        let containers = second["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), 1);
        assert_eq!(containers[0]["name"], "web");
        assert!(!owns(
            &second,
            "kubectl",
            "Apply",
            &["f:metadata", "f:labels", "f:tier"]
        ));
        // Dropping replicas entirely removes it too.
        let mut cfg = config(2, "nginx:1.25");
        cfg["spec"]
            .as_object_mut()
            .unwrap()
            .shift_remove("replicas");
        let third = apply(Some(&second), &cfg, "kubectl", T3).unwrap();
        assert!(third["spec"].get("replicas").is_none());
    }

    #[test]
    fn same_value_is_shared_not_a_conflict() {
        let a = apply(None, &config(2, "nginx:1.25"), "a", T1).unwrap();
        let mut cfg_b = config(2, "nginx:1.25");
        cfg_b["metadata"]["labels"]["team"] = json!("b");
        let b = apply(Some(&a), &cfg_b, "b", T2).unwrap();
        assert!(owns(&b, "a", "Apply", &["f:spec", "f:replicas"]));
        assert!(owns(&b, "b", "Apply", &["f:spec", "f:replicas"]));
        // `a` gives replicas up: `b` still owns it, so it stays.
        let mut cfg_a = config(2, "nginx:1.25");
        cfg_a["spec"]
            .as_object_mut()
            .unwrap()
            .shift_remove("replicas");
        let c = apply(Some(&b), &cfg_a, "a", T3).unwrap();
        assert_eq!(c["spec"]["replicas"], 2);
        assert!(!owns(&c, "a", "Apply", &["f:spec", "f:replicas"]));
        assert_eq!(c["metadata"]["labels"]["team"], "b");
    }

    #[test]
    fn conflicts_and_force() {
        let a = apply(None, &config(2, "nginx:1.25"), "a", T1).unwrap();
        let err = apply(Some(&a), &config(3, "nginx:1.26"), "b", T2).unwrap_err();
        let PatchError::Conflicts(conflicts) = err else {
            panic!("expected conflicts, got {err:?}");
        };
        let fields: Vec<&str> = conflicts.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                ".spec.replicas",
                r#".spec.template.spec.containers[name="web"].image"#
            ]
        );
        assert!(
            conflicts
                .iter()
                .all(|c| c.manager == "a" && c.operation == "Apply")
        );
        assert_eq!(
            conflict_message(&conflicts),
            "Apply failed with 2 conflicts: conflicts with \"a\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"web\"].image"
        );

        let forced = server_side_apply(
            DEPLOYMENT,
            Some(&a),
            &config(3, "nginx:1.26"),
            true,
            opts("b", T2),
        )
        .unwrap();
        assert_eq!(forced["spec"]["replicas"], 3);
        assert!(owns(&forced, "b", "Apply", &["f:spec", "f:replicas"]));
        assert!(!owns(&forced, "a", "Apply", &["f:spec", "f:replicas"]));
        assert!(owns(&forced, "a", "Apply", &["f:spec", "f:selector"]));
        // Now `a` is the one that conflicts.
        assert!(matches!(
            apply(Some(&forced), &config(2, "nginx:1.25"), "a", T3),
            Err(PatchError::Conflicts(_))
        ));
    }

    #[test]
    fn associative_lists_merge_by_key() {
        let a = apply(None, &config(2, "nginx:1.25"), "a", T1).unwrap();
        let sidecar = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox"}]}}}
        });
        let b = apply(Some(&a), &sidecar, "b", T2).unwrap();
        let names: Vec<&str> = b["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["web", "sidecar"]);
        let c = apply(Some(&b), &config(2, "nginx:1.27"), "a", T3).unwrap();
        let containers = c["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), 2);
        assert_eq!(containers[0]["image"], "nginx:1.27");
        assert_eq!(containers[0]["ports"], json!([{"containerPort": 80}]));
        assert_eq!(
            containers[1],
            json!({"name": "sidecar", "image": "busybox"})
        );
        assert!(owns(
            &c,
            "b",
            "Apply",
            &[
                "f:spec",
                "f:template",
                "f:spec",
                "f:containers",
                r#"k:{"name":"sidecar"}"#
            ]
        ));
    }

    #[test]
    fn scale_then_apply_conflicts_like_kubectl() {
        let applied = apply(None, &config(2, "nginx:1.25"), "kubectl", T1).unwrap();
        let mut scaled = applied.clone();
        scaled["spec"]["replicas"] = json!(5);
        let scale = ManagerOptions {
            subresource: Some("scale"),
            ..opts("kubectl", T2)
        };
        track_update(DEPLOYMENT, Some(&applied), &mut scaled, scale);
        assert_eq!(scaled["spec"]["replicas"], 5);
        let upd = entry(&scaled, "kubectl", "Update").unwrap();
        assert_eq!(upd["subresource"], "scale");
        assert_eq!(upd["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
        assert!(!owns(
            &scaled,
            "kubectl",
            "Apply",
            &["f:spec", "f:replicas"]
        ));

        let err = apply(Some(&scaled), &config(2, "nginx:1.25"), "kubectl", T3).unwrap_err();
        let PatchError::Conflicts(conflicts) = err else {
            panic!("expected conflicts, got {err:?}");
        };
        assert_eq!(
            conflict_message(&conflicts),
            r#"Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas"#
        );
        assert_eq!(
            conflict_causes(&conflicts),
            json!([{"reason": "FieldManagerConflict", "message": "conflict with \"kubectl\" with subresource \"scale\" using apps/v1", "field": ".spec.replicas"}])
        );

        let forced = server_side_apply(
            DEPLOYMENT,
            Some(&scaled),
            &config(2, "nginx:1.25"),
            true,
            opts("kubectl", T3),
        )
        .unwrap();
        assert_eq!(forced["spec"]["replicas"], 2);
        assert!(
            entry(&forced, "kubectl", "Update").is_none(),
            "the emptied Update entry is dropped"
        );
        assert!(owns(&forced, "kubectl", "Apply", &["f:spec", "f:replicas"]));
    }

    #[test]
    fn client_side_apply_then_server_side_apply_does_not_conflict() {
        let mut created = config(2, "nginx:1.25");
        created["metadata"]["annotations"] = json!({LAST_APPLIED: "{\"old\":true}\n"});
        track_update(
            DEPLOYMENT,
            None,
            &mut created,
            opts("kubectl-client-side-apply", T1),
        );
        let csa = entry(&created, "kubectl-client-side-apply", "Update").unwrap();
        assert_eq!(
            csa["fieldsV1"]["f:metadata"]["f:labels"],
            json!({".": {}, "f:app": {}})
        );
        assert!(csa["fieldsV1"]["f:metadata"].get("f:name").is_none());
        assert!(csa["fieldsV1"].get("f:apiVersion").is_none());

        let ssa = apply(Some(&created), &config(2, "nginx:1.25"), "kubectl", T2).unwrap();
        assert_eq!(ssa["spec"], created["spec"]);
        assert_eq!(entries(&ssa).len(), 2);
        assert_eq!(
            entries(&ssa)[0]["operation"],
            "Apply",
            "Apply entries sort first"
        );
        assert!(owns(
            &ssa,
            "kubectl-client-side-apply",
            "Update",
            &["f:spec", "f:replicas"]
        ));
        assert!(owns(&ssa, "kubectl", "Apply", &["f:spec", "f:replicas"]));
        // kubectl's server-side apply keeps the client-side annotation in step.
        let last = ssa["metadata"]["annotations"][LAST_APPLIED]
            .as_str()
            .unwrap();
        let last: Value = serde_json::from_str(last).unwrap();
        assert_eq!(last["spec"]["replicas"], 2);
    }

    #[test]
    fn track_update_is_deterministic_and_noop_safe() {
        let mut created = config(2, "nginx:1.25");
        track_update(DEPLOYMENT, None, &mut created, opts("oplab", T1));
        let before = serde_json::to_string(&created).unwrap();

        let mut same = created.clone();
        track_update(DEPLOYMENT, Some(&created), &mut same, opts("oplab", T2));
        assert_eq!(serde_json::to_string(&same).unwrap(), before);

        // A client that sends no managedFields (and changes nothing) gets the live ones back.
        let mut stripped = created.clone();
        stripped["metadata"]
            .as_object_mut()
            .unwrap()
            .shift_remove("managedFields");
        stripped["metadata"]["resourceVersion"] = json!("42");
        track_update(DEPLOYMENT, Some(&created), &mut stripped, opts("other", T2));
        assert_eq!(
            stripped["metadata"]["managedFields"],
            created["metadata"]["managedFields"]
        );

        // A change by another manager takes the field over, and nothing else changes.
        let mut edited = created.clone();
        edited["spec"]["replicas"] = json!(4);
        track_update(DEPLOYMENT, Some(&created), &mut edited, opts("editor", T2));
        assert_eq!(
            entry(&edited, "editor", "Update").unwrap()["fieldsV1"],
            json!({"f:spec": {"f:replicas": {}}})
        );
        assert!(!owns(&edited, "oplab", "Update", &["f:spec", "f:replicas"]));
        assert!(owns(&edited, "oplab", "Update", &["f:spec", "f:selector"]));
        assert_eq!(edited["spec"]["replicas"], 4);
        let mut expected = created.clone();
        expected["spec"]["replicas"] = json!(4);
        expected["metadata"]
            .as_object_mut()
            .unwrap()
            .shift_remove("managedFields");
        edited["metadata"]
            .as_object_mut()
            .unwrap()
            .shift_remove("managedFields");
        assert_eq!(edited, expected);
    }

    #[test]
    fn removed_fields_leave_other_managers() {
        let mut created = config(2, "nginx:1.25");
        created["metadata"]["labels"]["tier"] = json!("x");
        track_update(DEPLOYMENT, None, &mut created, opts("a", T1));
        let mut edited = created.clone();
        edited["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .shift_remove("tier");
        track_update(DEPLOYMENT, Some(&created), &mut edited, opts("b", T2));
        assert!(!owns(
            &edited,
            "a",
            "Update",
            &["f:metadata", "f:labels", "f:tier"]
        ));
        assert!(owns(
            &edited,
            "a",
            "Update",
            &["f:metadata", "f:labels", "f:app"]
        ));
        assert!(
            entry(&edited, "b", "Update").is_none(),
            "a pure removal records no owner"
        );
    }

    #[test]
    fn sets_and_custom_resources() {
        let cr = TypeRef {
            group: "example.com",
            kind: "Widget",
            builtin: false,
        };
        let cfg = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "finalizers": ["example.com/f"]},
            "spec": {"items": [1, 2], "size": {"cpu": 1}}});
        let o = ManagerOptions {
            api_version: "example.com/v1",
            ..opts("a", T1)
        };
        let obj = server_side_apply(cr, None, &cfg, false, o).unwrap();
        let fields = &entries(&obj)[0]["fieldsV1"];
        assert_eq!(
            fields,
            &json!({"f:metadata": {"f:finalizers": {"v:\"example.com/f\"": {}}}, "f:spec": {"f:items": {}, "f:size": {"f:cpu": {}}}})
        );
        let mut other = cfg.clone();
        other["spec"]["items"] = json!([3]);
        let err = server_side_apply(
            cr,
            Some(&obj),
            &other,
            false,
            ManagerOptions { manager: "b", ..o },
        )
        .unwrap_err();
        let PatchError::Conflicts(c) = err else {
            panic!("{err:?}")
        };
        assert_eq!(c[0].field, ".spec.items");
    }

    #[test]
    fn conflict_message_formats() {
        let c = |manager: &str, operation: &str, field: &str| Conflict {
            manager: manager.into(),
            operation: operation.into(),
            api_version: "apps/v1".into(),
            subresource: None,
            field: field.into(),
        };
        let one = [c("kubectl-client-side-apply", "Update", ".spec.replicas")];
        assert_eq!(
            conflict_message(&one),
            r#"Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas"#
        );
        let many = [
            c("zeta", "Apply", ".spec.replicas"),
            c("alpha", "Update", ".metadata.labels.app"),
            c("zeta", "Apply", ".spec.paused"),
        ];
        assert_eq!(
            conflict_message(&many),
            "Apply failed with 3 conflicts: conflicts with \"alpha\" using apps/v1:\n- .metadata.labels.app\nconflicts with \"zeta\":\n- .spec.replicas\n- .spec.paused"
        );
        let causes = conflict_causes(&many);
        assert_eq!(causes.as_array().unwrap().len(), 3);
        assert_eq!(
            causes[1],
            json!({"reason": "FieldManagerConflict", "message": "conflict with \"alpha\" using apps/v1", "field": ".metadata.labels.app"})
        );
    }

    #[test]
    fn list_map_key_defaults_match_live_items() {
        // The live object has the defaulted protocol; the config omits it: same item.
        let mut live = config(2, "nginx:1.25");
        live["spec"]["template"]["spec"]["containers"][0]["ports"] =
            json!([{"containerPort": 80, "protocol": "TCP"}]);
        track_update(DEPLOYMENT, None, &mut live, opts("kubectl-create", T1));
        let out = apply(Some(&live), &config(2, "nginx:1.25"), "kubectl", T2).unwrap();
        let ports = &out["spec"]["template"]["spec"]["containers"][0]["ports"];
        assert_eq!(ports, &json!([{"containerPort": 80, "protocol": "TCP"}]));
    }

    #[test]
    fn subresource_writes_ignore_request_managed_fields() {
        let mut created = config(2, "nginx:1.25");
        track_update(DEPLOYMENT, None, &mut created, opts("a", T1));
        let mut status = created.clone();
        status["metadata"]["managedFields"] = json!([]);
        status["status"] = json!({"readyReplicas": 2});
        let o = ManagerOptions {
            subresource: Some("status"),
            ..opts("controller", T2)
        };
        track_update(DEPLOYMENT, Some(&created), &mut status, o);
        assert!(owns(&status, "a", "Update", &["f:spec", "f:replicas"]));
        let e = entry(&status, "controller", "Update").unwrap();
        assert_eq!(e["subresource"], "status");
        assert_eq!(e["fieldsV1"], json!({"f:status": {"f:readyReplicas": {}}}));
    }

    #[test]
    fn bad_apply_bodies() {
        assert!(matches!(
            apply(None, &json!([1]), "a", T1),
            Err(PatchError::BadRequest(_))
        ));
        let mut cfg = config(1, "x");
        cfg["metadata"]["managedFields"] = json!([{"manager": "x"}]);
        assert!(matches!(
            apply(None, &cfg, "a", T1),
            Err(PatchError::BadRequest(_))
        ));
    }
}
