//! The roster: who `oplab classroom setup` set up and where their kubeconfigs are, kept in a
//! ConfigMap of the classroom namespace so that teardown (on any machine) finds it all.

use super::{CLASSROOM_NAMESPACE, MANAGED_BY, MANAGED_BY_LABEL};
use k8s_openapi::api::core::v1::ConfigMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::PathBuf;

/// The ConfigMap's name.
pub const ROSTER: &str = "roster";
const KEY: &str = "attendees.json";

/// One attendee of the roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    /// Where setup wrote the attendee's kubeconfig (on the instructor's machine).
    pub kubeconfig: PathBuf,
    pub namespaces: Vec<String>,
}

/// The roster on the cluster; empty when there is none yet.
pub async fn read(client: &kube::Client) -> anyhow::Result<Vec<Entry>> {
    let api: kube::Api<ConfigMap> = kube::Api::namespaced(client.clone(), CLASSROOM_NAMESPACE);
    let Some(cm) = api.get_opt(ROSTER).await.map_err(|e| {
        anyhow::anyhow!("reading the roster ConfigMap {CLASSROOM_NAMESPACE}/{ROSTER}: {e}")
    })?
    else {
        return Ok(Vec::new());
    };
    let text = cm
        .data
        .and_then(|d| d.get(KEY).cloned())
        .unwrap_or_else(|| "[]".into());
    serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "the roster ConfigMap {CLASSROOM_NAMESPACE}/{ROSTER} is not what oplab wrote ({e}); \
             delete it (kubectl -n {CLASSROOM_NAMESPACE} delete configmap {ROSTER}) and run setup again"
        )
    })
}

/// `old` with `new` entries added or replacing those of the same name, sorted by name.
pub fn merge(old: Vec<Entry>, new: &[Entry]) -> Vec<Entry> {
    let mut out: Vec<Entry> = old
        .into_iter()
        .filter(|e| !new.iter().any(|n| n.name == e.name))
        .chain(new.iter().cloned())
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The roster ConfigMap as a manifest.
pub fn manifest(entries: &[Entry]) -> Value {
    let text = serde_json::to_string_pretty(entries).unwrap_or_else(|_| "[]".into());
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": ROSTER,
            "namespace": CLASSROOM_NAMESPACE,
            "labels": {MANAGED_BY_LABEL: MANAGED_BY},
        },
        "data": {KEY: text},
    })
}
