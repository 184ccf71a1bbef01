//! Conversion between the stored form of an object and the form a client asked for
//! (apiVersion of the requested version; events.k8s.io/v1 Events stored as core v1 Events).

use crate::sandbox::kinds::registry::ResourceType;
use crate::sandbox::store::Stored;
use serde_json::{Map, Value, json};
use std::sync::Arc;

const EVENT_FIELDS: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

fn is_new_event(rt: &ResourceType) -> bool {
    rt.group == "events.k8s.io" && rt.kind == "Event"
}

fn rename(obj: &mut Map<String, Value>, pairs: &[(&str, &str)], forward: bool) {
    for (new, old) in pairs {
        let (from, to) = if forward { (*new, *old) } else { (*old, *new) };
        if let Some(v) = obj.remove(from) {
            obj.insert(to.to_string(), v);
        }
    }
}

fn is_v1_hpa(rt: &ResourceType) -> bool {
    rt.group == "autoscaling" && rt.version == "v1" && rt.kind == "HorizontalPodAutoscaler"
}

/// autoscaling/v1 -> v2 (the stored form): the CPU target becomes a Resource metric
/// (pkg/apis/autoscaling/v1/conversion.go; the v2-only fields a v1 client cannot see are not kept).
fn hpa_v1_to_v2(map: &mut Map<String, Value>) {
    if let Some(spec) = map.get_mut("spec").and_then(Value::as_object_mut)
        && let Some(cpu) = spec.remove("targetCPUUtilizationPercentage")
    {
        spec.insert(
            "metrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu}}}]),
        );
    }
    if let Some(status) = map.get_mut("status").and_then(Value::as_object_mut)
        && let Some(cpu) = status.remove("currentCPUUtilizationPercentage")
    {
        status.insert(
            "currentMetrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": cpu}}}]),
        );
    }
    map.insert("apiVersion".into(), json!("autoscaling/v2"));
}

/// autoscaling/v2 -> v1: the CPU utilization metric is the only one v1 has.
fn hpa_v2_to_v1(map: &mut Map<String, Value>) {
    let cpu = |list: Option<Value>, field: &str| {
        list.and_then(|l| {
            l.as_array()?.iter().find_map(|m| {
                (m["type"] == "Resource" && m["resource"]["name"] == "cpu")
                    .then(|| m["resource"][field]["averageUtilization"].clone())
                    .filter(|v| !v.is_null())
            })
        })
    };
    if let Some(spec) = map.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("behavior");
        if let Some(v) = cpu(spec.remove("metrics"), "target") {
            spec.insert("targetCPUUtilizationPercentage".into(), v);
        }
    }
    if let Some(status) = map.get_mut("status").and_then(Value::as_object_mut) {
        status.remove("conditions");
        if let Some(v) = cpu(status.remove("currentMetrics"), "current") {
            status.insert("currentCPUUtilizationPercentage".into(), v);
        }
    }
}

/// Turns a client's object into the stored form.
pub fn to_storage(rt: &ResourceType, mut obj: Value) -> Value {
    if is_v1_hpa(rt) {
        if let Some(map) = obj.as_object_mut() {
            hpa_v1_to_v2(map);
            map.insert("kind".into(), json!(rt.kind));
        }
        return obj;
    }
    if is_new_event(rt) {
        if let Some(map) = obj.as_object_mut() {
            rename(map, EVENT_FIELDS, true);
            map.insert("apiVersion".into(), json!("v1"));
        }
        return obj;
    }
    if let Some(map) = obj.as_object_mut() {
        map.insert("apiVersion".into(), json!(rt.api_version()));
        map.insert("kind".into(), json!(rt.kind));
    }
    obj
}

/// Like [`from_storage`], but shares the stored version when it is already in the client's form
/// (the common case: lists of thousands of objects are then served straight from the stored bytes).
pub fn from_storage_shared(rt: &ResourceType, stored: Arc<Stored>) -> Arc<Stored> {
    let same =
        !is_new_event(rt) && stored.api_version() == rt.api_version() && stored.kind() == rt.kind;
    if same {
        stored
    } else {
        Arc::new(Stored::new(&into_client(rt, stored.value())))
    }
}

/// Turns a stored object into the form of `rt`'s version.
pub fn from_storage(rt: &ResourceType, stored: &Value) -> Value {
    into_client(rt, stored.clone())
}

/// [`from_storage`] of an object the caller owns.
pub fn into_client(rt: &ResourceType, mut obj: Value) -> Value {
    if let Some(map) = obj.as_object_mut() {
        if is_new_event(rt) {
            rename(map, EVENT_FIELDS, false);
            if map.get("eventTime").is_none_or(Value::is_null) {
                // events.k8s.io/v1 requires eventTime; derive it from the legacy timestamps.
                let t = map
                    .get("deprecatedLastTimestamp")
                    .or_else(|| map.get("deprecatedFirstTimestamp"))
                    .and_then(Value::as_str)
                    .map(|s| s.replace('Z', ".000000Z"));
                if let Some(t) = t {
                    map.insert("eventTime".into(), json!(t));
                }
            }
        }
        if is_v1_hpa(rt) && map.get("apiVersion").is_some_and(|v| v == "autoscaling/v2") {
            hpa_v2_to_v1(map);
        }
        map.insert("apiVersion".into(), json!(rt.api_version()));
        map.insert("kind".into(), json!(rt.kind));
    }
    obj
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::kinds::registry::Registry;

    #[test]
    fn new_events_round_trip_through_core_storage() {
        let reg = Registry::builtin();
        let rt = reg.get("events.k8s.io", "v1", "events").unwrap();
        let ev = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"},
            "regarding": {"kind": "Pod", "name": "p"}, "note": "hello", "reason": "Started",
            "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "oplab", "reportingInstance": "x", "action": "Run", "type": "Normal"});
        let stored = to_storage(&rt, ev.clone());
        assert_eq!(stored["apiVersion"], "v1");
        assert_eq!(stored["involvedObject"]["name"], "p");
        assert_eq!(stored["message"], "hello");
        assert_eq!(from_storage(&rt, &stored), ev);
    }

    #[test]
    fn autoscaling_v1_round_trips_through_v2_storage() {
        let reg = Registry::builtin();
        let v1 = reg
            .get("autoscaling", "v1", "horizontalpodautoscalers")
            .unwrap();
        let hpa = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"}, "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 50}});
        let stored = to_storage(&v1, hpa.clone());
        assert_eq!(stored["apiVersion"], "autoscaling/v2");
        assert_eq!(
            stored["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            50
        );
        assert_eq!(from_storage(&v1, &stored), hpa);
    }
}
