//! The Gordon custom resource as a typed kube object that tolerates whatever others wrote into it.
//!
//! Spec and status deserialize leniently (through `serde_json::Value`): a missing or mistyped field becomes
//! `None` instead of an error, so one odd Gordon (e.g. written by the seed's Python operator against a
//! preserve-unknown-fields CRD) can never break the watch of all the others.

use kube::CustomResource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The API group of Gordons.
pub const GROUP: &str = "operator.prgcont.cz";
/// The label every Gordon pod carries, with the Gordon's name as its value.
pub const LABEL: &str = "operator.prgcont.cz/gordon";
/// The image of gordon pods when `spec.gordon.image` is not set.
pub const DEFAULT_IMAGE: &str = "prgcont/gordon:v1.0";
/// The name of the container in every gordon pod.
pub const CONTAINER: &str = "gordon";

/// `spec` of a Gordon: `spec.gordon.replicas` and an optional `spec.gordon.image`.
#[derive(CustomResource, Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[kube(
    group = "operator.prgcont.cz",
    version = "v1",
    kind = "Gordon",
    plural = "gordons",
    shortname = "gn",
    namespaced,
    status = "GordonStatus",
    schema = "disabled"
)]
#[serde(from = "Value")]
pub struct GordonSpec {
    pub gordon: GordonSettings,
}

/// `spec.gordon`.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct GordonSettings {
    /// `None` when missing or not an integer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

impl From<Value> for GordonSpec {
    fn from(v: Value) -> Self {
        let g = &v["gordon"];
        Self {
            gordon: GordonSettings {
                replicas: g["replicas"].as_i64(),
                image: g["image"]
                    .as_str()
                    .filter(|s| !s.trim().is_empty())
                    .map(str::to_string),
            },
        }
    }
}

/// `status` of a Gordon, as the operator writes it.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(from = "Value", rename_all = "camelCase")]
pub struct GordonStatus {
    pub replicas: Option<i64>,
    pub ready_replicas: Option<i64>,
    pub pods: Option<Vec<String>>,
    pub observed_generation: Option<i64>,
    pub conditions: Vec<Condition>,
}

/// One entry of `status.conditions` (metav1.Condition's fields).
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

impl From<Value> for GordonStatus {
    fn from(v: Value) -> Self {
        let s = |x: &Value| x.as_str().map(str::to_string);
        Self {
            replicas: v["replicas"].as_i64(),
            ready_replicas: v["readyReplicas"].as_i64(),
            pods: v["pods"].as_array().map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect()
            }),
            observed_generation: v["observedGeneration"].as_i64(),
            conditions: v["conditions"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| {
                            Some(Condition {
                                type_: s(&c["type"])?,
                                status: s(&c["status"])?,
                                reason: s(&c["reason"]),
                                message: s(&c["message"]),
                                last_transition_time: s(&c["lastTransitionTime"]),
                                observed_generation: c["observedGeneration"].as_i64(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

impl GordonStatus {
    /// The condition of `type_`, if any.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn odd_gordons_deserialize() {
        let g: Gordon = serde_json::from_value(json!({
            "apiVersion": "operator.prgcont.cz/v1", "kind": "Gordon",
            "metadata": {"name": "g", "namespace": "n"},
            "spec": {"gordon": {"replicas": "three", "extra": 1}},
            "status": {"replicas": "x", "conditions": [{"type": "Ready"}, {"type": "Ready", "status": "True"}], "state": {}},
        }))
        .expect("lenient");
        assert_eq!(g.spec.gordon.replicas, None);
        let st = g.status.expect("status");
        assert_eq!(st.replicas, None);
        assert_eq!(st.conditions.len(), 1);
        let g: Gordon = serde_json::from_value(json!({
            "apiVersion": "operator.prgcont.cz/v1", "kind": "Gordon",
            "metadata": {"name": "g", "namespace": "n"},
            "spec": {"gordon": {"replicas": 3, "image": "x:1"}},
        }))
        .expect("typed");
        assert_eq!(g.spec.gordon.replicas, Some(3));
        assert_eq!(g.spec.gordon.image.as_deref(), Some("x:1"));
        assert!(g.status.is_none());
        let g: Result<Gordon, _> = serde_json::from_value(json!({
            "apiVersion": "operator.prgcont.cz/v1", "kind": "Gordon",
            "metadata": {"name": "g", "namespace": "n"},
        }));
        // Known gap: kube-derive makes `spec` itself required, so a Gordon without any spec (possible only
        // with a CRD that does not require it) fails to deserialize and stalls the watch until it is fixed;
        // the watch error is logged.
        assert!(g.is_err());
    }
}
