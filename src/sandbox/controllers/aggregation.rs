//! The ClusterRole aggregation controller: a ClusterRole with an `aggregationRule` gets the rules of every
//! ClusterRole its label selectors match (how `admin`, `edit` and `view` pick up CRD roles).

use super::key;
use crate::sandbox::auth::rbac::GROUP;
use crate::sandbox::meta::LabelSelector;
use crate::sandbox::store::api::Api;
use serde_json::{Value, json};
use std::sync::Arc;

/// Recomputes every aggregated ClusterRole until nothing changes (aggregations may chain: admin <- edit <- view).
pub fn reconcile_all(api: &Api) {
    for _ in 0..8 {
        if !reconcile_once(api) {
            break;
        }
    }
    api.auth.rbac.invalidate();
}

fn reconcile_once(api: &Api) -> bool {
    let k = key(GROUP, "clusterroles");
    let (mut roles, _) = api.store.list(&k, None);
    roles.sort_by(|a, b| name(a).cmp(name(b)));
    let mut changed = false;
    for role in roles.iter().filter(|r| r["aggregationRule"].is_object()) {
        let selectors: Vec<LabelSelector> = role["aggregationRule"]["clusterRoleSelectors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(LabelSelector::from_object)
            .collect();
        let mut rules: Vec<Value> = Vec::new();
        for other in roles.iter().filter(|o| name(o) != name(role)) {
            let labels = &other["metadata"]["labels"];
            if !selectors
                .iter()
                .any(|s| !s.0.is_empty() && s.matches(labels))
            {
                continue;
            }
            for r in other["rules"].as_array().into_iter().flatten() {
                if !rules.contains(r) {
                    rules.push(r.clone());
                }
            }
        }
        if role["rules"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            == rules.as_slice()
        {
            continue;
        }
        changed = true;
        api.mutate(&k, "", name(role), |obj| {
            obj["rules"] = json!(rules);
            true
        });
    }
    changed
}

fn name(obj: &Arc<Value>) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or_default()
}
