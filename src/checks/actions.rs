//! Carrying out actions on the cluster: a probe's change, or the scripted part of a solution.

use crate::cluster::apply::{self, Settings, Validation};
use crate::cluster::documents;
use crate::lab::{Action, Target};
use kube::api::{
    Api, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use kube::discovery::Scope;
use serde_json::{Value, json};

/// A dynamic API for the target's kind (namespaced when the kind is).
pub async fn api_for(client: &kube::Client, t: &Target) -> Result<Api<DynamicObject>, String> {
    let (group, version) = t
        .api_version
        .split_once('/')
        .unwrap_or(("", t.api_version.as_str()));
    let gvk = GroupVersionKind::gvk(group, version, &t.kind);
    let (ar, caps) = kube::discovery::pinned_kind(client, &gvk)
        .await
        .map_err(|e| {
            crate::explain::sentence(&format!("finding kind {} in {}", t.kind, t.api_version), &e)
        })?;
    Ok(match (&t.namespace, caps.scope) {
        (Some(ns), Scope::Namespaced) => Api::namespaced_with(client.clone(), ns, &ar),
        _ => Api::all_with(client.clone(), &ar),
    })
}

fn named(t: &Target) -> Result<&str, String> {
    t.name.as_deref().ok_or_else(|| format!("{t} needs a name"))
}

/// `spec.gordon.replicas` = 5 as a merge patch.
pub fn field_patch(field: &str, value: Value) -> Value {
    field
        .rsplit('.')
        .fold(value, |inner, key| json!({ key: inner }))
}

/// Applies inline YAML manifests (several documents allowed) with the apply engine.
/// With `force`, fields other managers own are taken over (`--force-conflicts`).
pub async fn apply_yaml(
    client: &kube::Client,
    name: &str,
    text: &str,
    namespace: &str,
    force: bool,
) -> Result<String, String> {
    apply_yaml_validated(client, name, text, namespace, force, Validation::Strict).await
}

/// [`apply_yaml`] with a field validation (a block's `validate=`).
pub async fn apply_yaml_validated(
    client: &kube::Client,
    name: &str,
    text: &str,
    namespace: &str,
    force: bool,
    validation: Validation,
) -> Result<String, String> {
    let docs = documents::parse(name, text)
        .map_err(|e| format!("{}:{}: {}", e.file, e.line, e.message))?;
    let settings = Settings {
        namespace: namespace.to_string(),
        force_conflicts: force,
        validation,
        ..Default::default()
    };
    let report = apply::apply(client, docs, &settings, None)
        .await
        .map_err(|f| f.to_string())?;
    Ok(format!("applied {} objects", report.results.len()))
}

/// The names of the objects a target without a name matches, waiting up to 10 s for one to exist
/// (objects a controller is about to create, such as OLM's InstallPlans).
async fn matching_names(
    api: &kube::Api<kube::api::DynamicObject>,
    t: &crate::lab::Target,
    done: &str,
) -> Result<Vec<String>, String> {
    let mut lp = ListParams::default();
    if let Some(s) = &t.selector {
        lp = lp.labels(&s.to_string());
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let list = api.list(&lp).await.map_err(|e| format!("{done}: {e}"))?;
        let names: Vec<String> = list
            .items
            .iter()
            .filter_map(|o| o.metadata.name.clone())
            .collect();
        if !names.is_empty() {
            return Ok(names);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!("{done}: there is none"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Does the action; the answer says what was done, or why it failed.
pub async fn run(client: &kube::Client, action: &Action) -> Result<String, String> {
    let done = action.describe();
    match action {
        Action::Delete(t) => {
            let api = api_for(client, t).await?;
            api.delete(named(t)?, &DeleteParams::default())
                .await
                .map_err(|e| crate::explain::sentence(&done, &e))?;
        }
        Action::DeleteOne(t) => {
            let api = api_for(client, t).await?;
            let mut lp = ListParams::default();
            if let Some(s) = &t.selector {
                lp = lp.labels(&s.to_string());
            }
            let list = api
                .list(&lp)
                .await
                .map_err(|e| crate::explain::sentence(&done, &e))?;
            let mut names: Vec<String> = list
                .items
                .iter()
                .filter(|o| o.metadata.deletion_timestamp.is_none())
                .filter_map(|o| o.metadata.name.clone())
                .collect();
            names.sort();
            let first = names
                .first()
                .ok_or_else(|| format!("{done}: there is none"))?;
            api.delete(first, &DeleteParams::default())
                .await
                .map_err(|e| crate::explain::sentence(&done, &e))?;
            return Ok(format!("deleted {} {first}", t.kind));
        }
        Action::Scale {
            target,
            field,
            replicas,
        } => {
            let api = api_for(client, target).await?;
            let patch = field_patch(field, json!(replicas));
            api.patch(
                named(target)?,
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
            .map_err(|e| crate::explain::sentence(&done, &e))?;
        }
        Action::Patch { target, patch } => {
            let api = api_for(client, target).await?;
            let names = match &target.name {
                Some(n) => vec![n.clone()],
                None => matching_names(&api, target, &done).await?,
            };
            for name in names {
                api.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                    .await
                    .map_err(|e| crate::explain::sentence(&done, &e))?;
            }
        }
        Action::Exec(spec) => {
            super::exec::run(client, spec).await?;
        }
        Action::Apply(text) => return apply_yaml(client, "inline", text, "default", false).await,
        Action::Wait(d) => tokio::time::sleep(*d).await,
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dotted_field_becomes_nested_patch() {
        assert_eq!(
            super::field_patch("spec.gordon.replicas", serde_json::json!(5)),
            serde_json::json!({"spec": {"gordon": {"replicas": 5}}})
        );
    }
}
