//! The set against the live objects: unified YAML diffs without server-generated noise.

use super::apply::Outcome;
use super::plan::{Check, Planned};
use serde_json::Value;

/// Metadata fields the server generates; never part of a diff.
const GENERATED: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
];

/// A copy without status and generated metadata.
pub fn clean(object: &Value) -> Value {
    let mut v = object.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in GENERATED {
            meta.remove(*f);
        }
    }
    v
}

fn to_yaml(v: &Value) -> String {
    serde_saphyr::to_string(v).unwrap_or_else(|e| format!("# not renderable as YAML: {e}\n"))
}

/// The unified diff of one object (empty when nothing changes).
pub fn object_diff(p: &Planned) -> String {
    let before = p
        .live
        .as_ref()
        .map(|l| to_yaml(&clean(l)))
        .unwrap_or_default();
    let after = to_yaml(&clean(&p.after));
    if before == after {
        return match ownership_change(p) {
            Some(managers) => format!(
                "# {}: no field changes, only their ownership: applying makes field manager {:?} their manager (now: {}), so it reports `configured`\n",
                p.object,
                super::plan::FIELD_MANAGER,
                managers.join(", ")
            ),
            None => String::new(),
        };
    }
    let label = p.object.to_string();
    let old = if p.live.is_some() {
        format!("live {label}")
    } else {
        "/dev/null".to_string()
    };
    let mut note = String::new();
    if p.check != Check::ServerDryRun {
        note = "# (as written in the manifest: the server cannot dry-run it before its namespace or CRD exists)\n".into();
    }
    let diff = similar::TextDiff::from_lines(&before, &after);
    format!(
        "{note}{}",
        diff.unified_diff()
            .context_radius(3)
            .header(&old, &format!("oplab {label}"))
    )
}

/// What an apply would do, from the dry run.
pub fn predicted(p: &Planned) -> Outcome {
    match &p.live {
        None => Outcome::Created,
        Some(live) if clean(live) == clean(&p.after) && ownership_change(p).is_none() => {
            Outcome::Unchanged
        }
        Some(_) => Outcome::Configured,
    }
}

/// The field managers of `v`'s managedFields, each with what it manages (times left out).
fn managers(v: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = v["metadata"]["managedFields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    let mut m = m.clone();
                    if let Some(o) = m.as_object_mut() {
                        o.remove("time");
                    }
                    m
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by_key(|m| m.to_string());
    out
}

/// When only the field ownership changes (no field does): the live object's managers.
fn ownership_change(p: &Planned) -> Option<Vec<String>> {
    let live = p.live.as_ref()?;
    if p.check != Check::ServerDryRun || managers(live) == managers(&p.after) {
        return None;
    }
    let mut names: Vec<String> = managers(live)
        .iter()
        .filter_map(|m| m["manager"].as_str().map(str::to_string))
        .collect();
    names.dedup();
    if names.is_empty() {
        names.push("no field manager".into());
    }
    Some(names)
}

/// The diffs of every object that would change, concatenated.
pub fn set_diff(planned: &[Planned]) -> String {
    planned.iter().map(object_diff).collect()
}
