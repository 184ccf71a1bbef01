//! The Pod: defaults and validation of its spec (shared with workload templates), the fields the
//! server sets, which updates it allows, graceful deletion, and its `kubectl get` columns.

use crate::sandbox::kinds::defaults::set_default;
use crate::sandbox::kinds::registry::ResourceType;
use crate::sandbox::kinds::table::{
    Col, Now, Printer, age, age_col, arr, c, get, has_condition, int, name_col, or_none, parse_ts,
    st, wide,
};
use crate::sandbox::kinds::{Ctx, Query, Strategy, SubReply, SubWrite};
use crate::sandbox::schema::{ErrorKind, FieldError};
use crate::sandbox::status::ApiError;
use crate::sandbox::store::Change;
use crate::sandbox::store::api::DeleteOpts;
use serde_json::{Map, Value, json};

/// The subresources a pod serves.
pub const SUBRESOURCES: &[&str] = &[
    "status",
    "log",
    "exec",
    "portforward",
    "attach",
    "binding",
    "eviction",
    "ephemeralcontainers",
];

/// The Pod strategy.
#[derive(Debug)]
pub struct Pod;

pub static POD: Pod = Pod;

impl Strategy for Pod {
    fn defaults(&self, _rt: &ResourceType, obj: &mut Value) {
        if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
            default_spec(spec);
        }
    }

    fn validate(&self, _rt: &ResourceType, _old: Option<&Value>, obj: &Value) -> Vec<FieldError> {
        let mut errs = Vec::new();
        validate_spec(&obj["spec"], "spec", &mut errs);
        errs
    }

    fn prepare_create(
        &self,
        _ctx: Ctx<'_>,
        _rt: &ResourceType,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        obj["status"] = json!({"phase": "Pending", "qosClass": qos_class(&obj["spec"])});
        if obj["spec"]["serviceAccountName"]
            .as_str()
            .is_none_or(str::is_empty)
        {
            obj["spec"]["serviceAccountName"] = json!("default");
        }
        obj["spec"]["serviceAccount"] = obj["spec"]["serviceAccountName"].clone();
        obj["spec"]["enableServiceLinks"] = obj["spec"]
            .get("enableServiceLinks")
            .cloned()
            .unwrap_or(json!(true));
        obj["spec"]["priority"] = json!(0);
        Ok(())
    }

    fn prepare_update(
        &self,
        _ctx: Ctx<'_>,
        rt: &ResourceType,
        current: &Value,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        update_allowed(rt, current, obj)
    }

    fn delete(&self, current: &Value, opts: &DeleteOpts, max_grace: i64) -> Option<Change> {
        Some(graceful_delete(current, opts, max_grace))
    }

    fn stays_after_finalizers(&self, current: &Value, _next: &Value) -> bool {
        current["metadata"]["deletionGracePeriodSeconds"]
            .as_i64()
            .unwrap_or(0)
            > 0
    }

    fn subresource_write(
        &self,
        rt: &ResourceType,
        sub: &str,
        body: Value,
    ) -> Option<Result<SubWrite, ApiError>> {
        match sub {
            "eviction" => Some(Ok(SubWrite::Delete)),
            "binding" => Some(Ok(binding(rt, &body))),
            _ => None,
        }
    }

    fn subresource_text(
        &self,
        sub: &str,
        pod: &Value,
        query: &Query,
    ) -> Option<Result<String, ApiError>> {
        (sub == "log").then(|| Ok(log(pod, query)))
    }

    fn printer(&self) -> Option<Printer> {
        Some(Printer {
            columns: pod_columns(),
            cells: pod_cells,
            completed_conditions: true,
        })
    }
}

/// `pods/binding`: the scheduler's assignment of a pod to a node, refused when it already has one.
fn binding(rt: &ResourceType, body: &Value) -> SubWrite {
    let node = body["target"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (group, plural) = (rt.group.clone(), rt.plural.clone());
    SubWrite::Update {
        reply: SubReply::Success,
        change: Box::new(move |mut pod: Value| {
            let name = pod["metadata"]["name"].as_str().unwrap_or_default();
            if let Some(bound) = pod["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) {
                return Err(ApiError::conflict(
                    &group,
                    &plural,
                    name,
                    &format!("pod {name} is already assigned to node \"{bound}\""),
                ));
            }
            pod["spec"]["nodeName"] = json!(node);
            Ok(pod)
        }),
    }
}

/// `pods/log`: a simulated container writes no logs, and says so.
fn log(pod: &Value, query: &Query) -> String {
    let container = query
        .get("container")
        .cloned()
        .or_else(|| {
            pod["spec"]["containers"][0]["name"]
                .as_str()
                .map(String::from)
        })
        .unwrap_or_default();
    let image = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"].as_str() == Some(container.as_str()))
        .and_then(|c| c["image"].as_str())
        .unwrap_or("?");
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    format!(
        "oplab sandbox: container \"{container}\" of pod {ns}/{name} (image {image}) is simulated; it runs no process and writes no logs.\n"
    )
}

/// A pod's DELETE: at once when it never ran, finished or has no grace period; otherwise it is marked
/// with a deletionTimestamp and the kubelet removes it when the grace period ends.
fn graceful_delete(current: &Value, opts: &DeleteOpts, max_grace: i64) -> Change {
    let meta = &current["metadata"];
    let no_finalizers = meta["finalizers"].as_array().is_none_or(|f| f.is_empty());
    let requested = opts
        .grace_period
        .or_else(|| current["spec"]["terminationGracePeriodSeconds"].as_i64())
        .unwrap_or(30);
    let grace = requested.clamp(0, max_grace);
    let scheduled = current["spec"]["nodeName"]
        .as_str()
        .is_some_and(|n| !n.is_empty());
    let finished = matches!(
        current["status"]["phase"].as_str(),
        Some("Succeeded") | Some("Failed")
    );
    if (grace == 0 || !scheduled || finished) && no_finalizers {
        return Change::Delete;
    }
    if !meta["deletionTimestamp"].is_null() {
        let shorter = meta["deletionGracePeriodSeconds"]
            .as_i64()
            .is_some_and(|g| grace < g);
        if !shorter {
            return Change::Unchanged;
        }
    }
    let mut obj = current.clone();
    let ts = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(grace);
    obj["metadata"]["deletionTimestamp"] = json!(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    obj["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
    Change::Put(obj)
}

fn qos_class(spec: &Value) -> &'static str {
    let containers = spec["containers"].as_array().cloned().unwrap_or_default();
    let any = containers.iter().any(|c| {
        c["resources"]["requests"]
            .as_object()
            .is_some_and(|m| !m.is_empty())
            || c["resources"]["limits"]
                .as_object()
                .is_some_and(|m| !m.is_empty())
    });
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let l = &c["resources"]["limits"];
        let r = &c["resources"]["requests"];
        ["cpu", "memory"]
            .iter()
            .all(|k| !l[k].is_null() && (r[k].is_null() || r[k] == l[k]))
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn update_allowed(rt: &ResourceType, current: &Value, obj: &Value) -> Result<(), ApiError> {
    let strip = |spec: &Value| {
        let mut s = spec.clone();
        for list in ["containers", "initContainers"] {
            for c in s[list].as_array_mut().into_iter().flatten() {
                if let Some(m) = c.as_object_mut() {
                    m.remove("image");
                }
            }
        }
        if let Some(m) = s.as_object_mut() {
            for k in [
                "activeDeadlineSeconds",
                "tolerations",
                "terminationGracePeriodSeconds",
                "nodeName",
                "schedulingGates",
            ] {
                m.remove(k);
            }
        }
        s
    };
    if strip(&current["spec"]) == strip(&obj["spec"]) {
        return Ok(());
    }
    let name = current["metadata"]["name"].as_str().unwrap_or_default();
    Err(rt.invalid(
        name,
        &[FieldError {
            path: "spec".into(),
            kind: ErrorKind::Forbidden(
                "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)".into(),
            ),
        }],
    ))
}

/// Checks a pod spec (of a pod, or of a workload's template at `path`).
pub fn validate_spec(spec: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let containers = spec["containers"].as_array();
    if containers.is_none_or(|c| c.is_empty()) {
        errs.push(FieldError {
            path: format!("{path}.containers"),
            kind: ErrorKind::Required,
        });
        return;
    }
    let mut seen = std::collections::HashSet::new();
    for (i, c) in containers.into_iter().flatten().enumerate() {
        let base = format!("{path}.containers[{i}]");
        match c["name"].as_str() {
            None | Some("") => errs.push(FieldError {
                path: format!("{base}.name"),
                kind: ErrorKind::Required,
            }),
            Some(name) => {
                for detail in crate::sandbox::meta::dns1123_label_errors(name) {
                    errs.push(FieldError {
                        path: format!("{base}.name"),
                        kind: ErrorKind::Invalid {
                            value: json!(name),
                            detail,
                        },
                    });
                }
                if !seen.insert(name.to_string()) {
                    errs.push(FieldError {
                        path: format!("{base}.name"),
                        kind: ErrorKind::Invalid {
                            value: json!(name),
                            detail: "Duplicate value".into(),
                        },
                    });
                }
            }
        }
        if c["image"].as_str().is_none_or(|s| s.trim().is_empty()) {
            errs.push(FieldError {
                path: format!("{base}.image"),
                kind: ErrorKind::Required,
            });
        }
    }
}

/// Pod spec defaults (also inside workload templates).
pub fn default_spec(spec: &mut Map<String, Value>) {
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    for list in ["containers", "initContainers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                container(c);
            }
        }
    }
}

fn container(c: &mut Map<String, Value>) {
    let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
    let tag_is_latest = {
        let last = image.rsplit('/').next().unwrap_or(image);
        !image.contains('@') && last.split_once(':').is_none_or(|(_, t)| t == "latest")
    };
    set_default(
        c,
        "imagePullPolicy",
        json!(if tag_is_latest {
            "Always"
        } else {
            "IfNotPresent"
        }),
    );
    set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(c, "terminationMessagePolicy", json!("File"));
    set_default(c, "resources", json!({}));
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(p, "protocol", json!("TCP"));
        }
    }
}

// ---------------------------------------------------------------------------
// kubectl get pods

fn pod_columns() -> Vec<Col> {
    vec![
        name_col(),
        c(
            "Ready",
            "string",
            "The aggregate readiness state of this pod for accepting traffic.",
        ),
        c(
            "Status",
            "string",
            "The aggregate status of the containers in this pod.",
        ),
        c(
            "Restarts",
            "string",
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        ),
        age_col(),
        wide(
            "IP",
            "string",
            "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
        ),
        wide(
            "Node",
            "string",
            "NodeName indicates in which node this pod is scheduled.",
        ),
        wide(
            "Nominated Node",
            "string",
            "nominatedNodeName is set only when this pod preempts other pods on the node.",
        ),
        wide(
            "Readiness Gates",
            "string",
            "If specified, all readiness gates will be evaluated for pod readiness.",
        ),
    ]
}

fn later(a: Option<jiff::Timestamp>, b: Option<&str>) -> Option<jiff::Timestamp> {
    match (a, b.and_then(parse_ts)) {
        (Some(x), Some(y)) => Some(if y > x { y } else { x }),
        (x, y) => x.or(y),
    }
}

fn pod_cells(pod: &Value, now: Now) -> Vec<Value> {
    let init_specs = arr(pod, &["spec", "initContainers"]);
    let restartable = |name: &str| {
        init_specs
            .iter()
            .any(|c| st(c, &["name"]) == name && st(c, &["restartPolicy"]) == "Always")
    };
    let mut total = arr(pod, &["spec", "containers"]).len() as i64;
    total += init_specs
        .iter()
        .filter(|c| st(c, &["restartPolicy"]) == "Always")
        .count() as i64;
    let mut ready = 0i64;
    let mut restarts = 0i64;
    let mut sidecar_restarts = 0i64;
    let mut last_restart: Option<jiff::Timestamp> = None;
    let mut last_sidecar_restart: Option<jiff::Timestamp> = None;

    let phase = st(pod, &["status", "phase"]);
    let mut reason = phase.to_string();
    if !st(pod, &["status", "reason"]).is_empty() {
        reason = st(pod, &["status", "reason"]).to_string();
    }
    for cond in arr(pod, &["status", "conditions"]) {
        if st(cond, &["type"]) == "PodScheduled" && st(cond, &["reason"]) == "SchedulingGated" {
            reason = "SchedulingGated".into();
        }
    }

    let mut initializing = false;
    let init_statuses = arr(pod, &["status", "initContainerStatuses"]);
    for (i, cs) in init_statuses.iter().enumerate() {
        restarts += int(cs, &["restartCount"]);
        let finished = get(cs, &["lastState", "terminated", "finishedAt"]).and_then(Value::as_str);
        last_restart = later(last_restart, finished);
        let name = st(cs, &["name"]);
        if restartable(name) {
            sidecar_restarts += int(cs, &["restartCount"]);
            last_sidecar_restart = later(last_sidecar_restart, finished);
        }
        let term = get(cs, &["state", "terminated"]);
        let waiting_reason = st(cs, &["state", "waiting", "reason"]);
        if let Some(t) = term
            && int(t, &["exitCode"]) == 0
        {
            continue;
        }
        if restartable(name) && get(cs, &["started"]).and_then(Value::as_bool) == Some(true) {
            if get(cs, &["ready"]).and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = term {
            let r = st(t, &["reason"]);
            reason = if !r.is_empty() {
                format!("Init:{r}")
            } else if int(t, &["signal"]) != 0 {
                format!("Init:Signal:{}", int(t, &["signal"]))
            } else {
                format!("Init:ExitCode:{}", int(t, &["exitCode"]))
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }

    let initialized = arr(pod, &["status", "conditions"])
        .iter()
        .any(|c| st(c, &["type"]) == "Initialized" && st(c, &["status"]) == "True");
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for cs in arr(pod, &["status", "containerStatuses"]).iter().rev() {
            restarts += int(cs, &["restartCount"]);
            last_restart = later(
                last_restart,
                get(cs, &["lastState", "terminated", "finishedAt"]).and_then(Value::as_str),
            );
            let waiting = st(cs, &["state", "waiting", "reason"]);
            let term = get(cs, &["state", "terminated"]);
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = term {
                let r = st(t, &["reason"]);
                reason = if !r.is_empty() {
                    r.to_string()
                } else if int(t, &["signal"]) != 0 {
                    format!("Signal:{}", int(t, &["signal"]))
                } else {
                    format!("ExitCode:{}", int(t, &["exitCode"]))
                };
            } else if get(cs, &["ready"]).and_then(Value::as_bool) == Some(true)
                && get(cs, &["state", "running"]).is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if has_condition(pod, "Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }

    let deleting = get(pod, &["metadata", "deletionTimestamp"]).is_some_and(|d| !d.is_null());
    if deleting && st(pod, &["status", "reason"]) == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }

    let mut restarts_str = restarts.to_string();
    if restarts != 0
        && let Some(t) = last_restart
    {
        restarts_str = format!("{restarts} ({} ago)", now.since(t));
    }

    let mut ip = arr(pod, &["status", "podIPs"])
        .first()
        .map(|p| st(p, &["ip"]))
        .unwrap_or("")
        .to_string();
    if ip.is_empty() {
        ip = st(pod, &["status", "podIP"]).to_string();
    }
    let gates = arr(pod, &["spec", "readinessGates"]);
    let gates_str = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conds = arr(pod, &["status", "conditions"]);
        let ok = gates
            .iter()
            .filter(|g| {
                let t = st(g, &["conditionType"]);
                conds
                    .iter()
                    .find(|c| st(c, &["type"]) == t)
                    .is_some_and(|c| st(c, &["status"]) == "True")
            })
            .count();
        format!("{ok}/{}", gates.len())
    };
    vec![
        json!(st(pod, &["metadata", "name"])),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts_str),
        age(pod, now),
        json!(or_none(&ip)),
        json!(or_none(st(pod, &["spec", "nodeName"]))),
        json!(or_none(st(pod, &["status", "nominatedNodeName"]))),
        json!(gates_str),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_defaults_follow_image_tags() {
        let mut pod = json!({"spec": {"containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "nginx:1.27"}]}});
        let rt = crate::sandbox::kinds::registry::Registry::builtin()
            .get("", "v1", "pods")
            .unwrap();
        POD.defaults(&rt, &mut pod);
        assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(
            pod["spec"]["containers"][1]["imagePullPolicy"],
            "IfNotPresent"
        );
        assert_eq!(pod["spec"]["restartPolicy"], "Always");
    }
}
