//! `meta.k8s.io/v1` Table replies (what `kubectl get` prints): columns of built-in kinds and CRD printer columns.

use crate::sandbox::schema::go_plain_v;
use crate::sandbox::store::Stored;
use serde_json::{Value, json};
use std::sync::Arc;

/// What each row carries in `rows[].object`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

const NAME_DESC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const CREATION_DESC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// One `columnDefinitions` entry.
pub struct Col {
    name: String,
    ty: String,
    format: String,
    desc: String,
    priority: i64,
}

impl Col {
    fn json(&self) -> Value {
        json!({"name": self.name, "type": self.ty, "format": self.format,
               "description": self.desc, "priority": self.priority})
    }
}

pub(crate) fn c(name: &str, ty: &str, desc: &str) -> Col {
    Col {
        name: name.into(),
        ty: ty.into(),
        format: String::new(),
        desc: desc.into(),
        priority: 0,
    }
}

pub(crate) fn wide(name: &str, ty: &str, desc: &str) -> Col {
    Col {
        priority: 1,
        ..c(name, ty, desc)
    }
}

pub(crate) fn name_col() -> Col {
    Col {
        format: "name".into(),
        ..c("Name", "string", NAME_DESC)
    }
}

pub(crate) fn age_col() -> Col {
    c("Age", "string", CREATION_DESC)
}

/// Kubernetes' `duration.HumanDuration` of a number of seconds.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{}h", hours / 24, h)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{}d", hours / 24 / 365, dy)
        };
    }
    format!("{}y", hours / 24 / 365)
}

pub(crate) fn parse_ts(s: &str) -> Option<jiff::Timestamp> {
    s.parse::<jiff::Timestamp>().ok()
}

/// `translateTimestampSince`: the age of a timestamp, `<unknown>` when absent.
pub(crate) fn since(ts: Option<&str>, now: Now) -> String {
    match ts.and_then(parse_ts) {
        Some(t) => now.since(t),
        None => "<unknown>".into(),
    }
}

pub(crate) fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    Some(cur)
}

pub(crate) fn st<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    get(v, path).and_then(Value::as_str).unwrap_or("")
}

pub(crate) fn int(v: &Value, path: &[&str]) -> i64 {
    get(v, path)
        .and_then(|x| x.as_i64().or_else(|| x.as_f64().map(|f| f as i64)))
        .unwrap_or(0)
}

pub(crate) fn arr<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    get(v, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub(crate) fn or_none(s: &str) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s.into()
    }
}

pub(crate) fn age(obj: &Value, now: Now) -> Value {
    Value::String(since(
        get(obj, &["metadata", "creationTimestamp"]).and_then(Value::as_str),
        now,
    ))
}

pub(crate) fn created_at(obj: &Value) -> Value {
    match parse_ts(st(obj, &["metadata", "creationTimestamp"])) {
        Some(t) => Value::String(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
        None => Value::String("0001-01-01T00:00:00Z".into()),
    }
}

/// `labels.FormatLabels`: sorted `k=v` pairs, `<none>` when empty.
pub(crate) fn format_labels(m: Option<&Value>) -> String {
    let Some(m) = m.and_then(Value::as_object).filter(|m| !m.is_empty()) else {
        return "<none>".into();
    };
    let mut pairs: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// `metav1.LabelSelectorAsSelector(sel).String()`.
pub(crate) fn selector_string(sel: Option<&Value>) -> String {
    let Some(sel) = sel else { return String::new() };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in m {
            reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))));
        }
    }
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let k = st(e, &["key"]).to_string();
        let mut vals: Vec<&str> = arr(e, &["values"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        vals.sort();
        let text = match st(e, &["operator"]) {
            "In" => format!("{k} in ({})", vals.join(",")),
            "NotIn" => format!("{k} notin ({})", vals.join(",")),
            "Exists" => k.clone(),
            "DoesNotExist" => format!("!{k}"),
            _ => continue,
        };
        reqs.push((k, text));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    reqs.into_iter().map(|r| r.1).collect::<Vec<_>>().join(",")
}

/// Containers and images of a pod template, comma separated.
pub(crate) fn containers_images(pod_spec: Option<&Value>) -> (String, String) {
    let cs = pod_spec.map(|p| arr(p, &["containers"])).unwrap_or(&[]);
    let names: Vec<&str> = cs.iter().map(|c| st(c, &["name"])).collect();
    let images: Vec<&str> = cs.iter().map(|c| st(c, &["image"])).collect();
    (names.join(","), images.join(","))
}

pub(crate) fn has_condition(obj: &Value, ty: &str) -> bool {
    arr(obj, &["status", "conditions"])
        .iter()
        .any(|c| st(c, &["type"]) == ty && st(c, &["status"]) == "True")
}

// ---------------------------------------------------------------------------
// built-in kinds

fn node_cells(n: &Value, now: Now) -> Vec<Value> {
    let mut status: Vec<String> = Vec::new();
    if let Some(cond) = arr(n, &["status", "conditions"])
        .iter()
        .find(|c| st(c, &["type"]) == "Ready")
    {
        status.push(if st(cond, &["status"]) == "True" {
            "Ready".into()
        } else {
            "NotReady".into()
        });
    }
    if status.is_empty() {
        status.push("Unknown".into());
    }
    if get(n, &["spec", "unschedulable"]).and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled".into());
    }
    let mut roles: Vec<String> = Vec::new();
    if let Some(labels) = get(n, &["metadata", "labels"]).and_then(Value::as_object) {
        for (k, v) in labels {
            if let Some(r) = k.strip_prefix("node-role.kubernetes.io/") {
                if !r.is_empty() {
                    roles.push(r.to_string());
                }
            } else if k == "kubernetes.io/role" {
                let r = v.as_str().unwrap_or("");
                if !r.is_empty() {
                    roles.push(r.to_string());
                }
            }
        }
    }
    roles.sort();
    roles.dedup();
    let addr = |ty: &str| {
        arr(n, &["status", "addresses"])
            .iter()
            .find(|a| st(a, &["type"]) == ty)
            .map(|a| st(a, &["address"]).to_string())
            .unwrap_or_else(|| "<none>".into())
    };
    let info = |k: &str| {
        let v = st(n, &["status", "nodeInfo", k]);
        if v.is_empty() {
            "<unknown>".to_string()
        } else {
            v.to_string()
        }
    };
    vec![
        json!(st(n, &["metadata", "name"])),
        json!(status.join(",")),
        json!(or_none(&roles.join(","))),
        age(n, now),
        json!(st(n, &["status", "nodeInfo", "kubeletVersion"])),
        json!(addr("InternalIP")),
        json!(addr("ExternalIP")),
        json!(info("osImage")),
        json!(info("kernelVersion")),
        json!(info("containerRuntimeVersion")),
    ]
}

fn service_cells(s: &Value, now: Now) -> Vec<Value> {
    let ty = match st(s, &["spec", "type"]) {
        "" => "ClusterIP",
        t => t,
    };
    let mut cluster_ip = arr(s, &["spec", "clusterIPs"])
        .first()
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if cluster_ip.is_empty() {
        cluster_ip = st(s, &["spec", "clusterIP"]).to_string();
    }
    let ext_ips: Vec<&str> = arr(s, &["spec", "externalIPs"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let external = match ty {
        "ClusterIP" | "NodePort" => or_none(&ext_ips.join(",")),
        "LoadBalancer" => {
            let mut lb: Vec<String> = arr(s, &["status", "loadBalancer", "ingress"])
                .iter()
                .map(|i| {
                    let ip = st(i, &["ip"]);
                    if ip.is_empty() {
                        st(i, &["hostname"]).to_string()
                    } else {
                        ip.to_string()
                    }
                })
                .filter(|x| !x.is_empty())
                .collect();
            lb.extend(ext_ips.iter().map(|x| x.to_string()));
            if lb.is_empty() {
                "<pending>".into()
            } else {
                lb.join(",")
            }
        }
        "ExternalName" => st(s, &["spec", "externalName"]).to_string(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = arr(s, &["spec", "ports"])
        .iter()
        .map(|p| {
            let proto = match st(p, &["protocol"]) {
                "" => "TCP",
                x => x,
            };
            let np = int(p, &["nodePort"]);
            if np > 0 {
                format!("{}:{np}/{proto}", int(p, &["port"]))
            } else {
                format!("{}/{proto}", int(p, &["port"]))
            }
        })
        .collect();
    vec![
        json!(st(s, &["metadata", "name"])),
        json!(ty),
        json!(or_none(&cluster_ip)),
        json!(external),
        json!(or_none(&ports.join(","))),
        age(s, now),
        json!(format_labels(get(s, &["spec", "selector"]))),
    ]
}

fn endpoints_string(e: &Value) -> String {
    let subsets = arr(e, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".into();
    }
    let max = 3usize;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for ss in subsets {
        let addrs = arr(ss, &["addresses"]);
        let ports = arr(ss, &["ports"]);
        if ports.is_empty() {
            count += addrs.len();
            for a in addrs {
                if list.len() == max {
                    more = true;
                    break;
                }
                list.push(st(a, &["ip"]).to_string());
            }
            continue;
        }
        for p in ports {
            count += addrs.len();
            for a in addrs {
                if list.len() == max {
                    more = true;
                    break;
                }
                let ip = st(a, &["ip"]);
                let port = int(p, &["port"]);
                list.push(if ip.contains(':') {
                    format!("[{ip}]:{port}")
                } else {
                    format!("{ip}:{port}")
                });
            }
        }
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", count - max)
    } else {
        ret
    }
}

/// core/v1 and events.k8s.io/v1 events, as the `Event` printer shows them.
fn event_cells(e: &Value, now: Now, new_api: bool) -> Vec<Value> {
    let pick = |core: &[&str], newer: &[&str]| -> Option<String> {
        let v = if new_api { get(e, newer) } else { get(e, core) };
        v.and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let first_ts = pick(&["firstTimestamp"], &["deprecatedFirstTimestamp"]);
    let event_time = get(e, &["eventTime"]).and_then(Value::as_str);
    let first = match &first_ts {
        Some(t) => since(Some(t), now),
        None => since(event_time, now),
    };
    let mut last = match pick(&["lastTimestamp"], &["deprecatedLastTimestamp"]) {
        Some(t) => since(Some(&t), now),
        None => first.clone(),
    };
    let mut count = int(e, &[if new_api { "deprecatedCount" } else { "count" }]);
    if let Some(series) = get(e, &["series"]).filter(|s| s.is_object()) {
        last = since(
            get(series, &["lastObservedTime"]).and_then(Value::as_str),
            now,
        );
        count = int(series, &["count"]);
    } else if count == 0 {
        count = 1;
    }
    let obj_ref = get(
        e,
        &[if new_api {
            "regarding"
        } else {
            "involvedObject"
        }],
    )
    .cloned()
    .unwrap_or(Value::Null);
    let kind = st(&obj_ref, &["kind"]).to_lowercase();
    let name = st(&obj_ref, &["name"]);
    let target = if name.is_empty() {
        kind
    } else {
        format!("{kind}/{name}")
    };
    let src_comp = if new_api {
        "deprecatedSource"
    } else {
        "source"
    };
    let component = match st(e, &[src_comp, "component"]) {
        "" => st(e, &["reportingController"]),
        x => x,
    };
    let instance = match st(e, &[src_comp, "host"]) {
        "" => st(e, &["reportingInstance"]),
        x => x,
    };
    let source = match (component.is_empty(), instance.is_empty()) {
        (true, true) => String::new(),
        (_, true) => component.to_string(),
        _ => format!("{component}, {instance}"),
    };
    let message = st(e, &[if new_api { "note" } else { "message" }])
        .trim()
        .to_string();
    vec![
        json!(last),
        json!(st(e, &["type"])),
        json!(st(e, &["reason"])),
        json!(target),
        json!(st(&obj_ref, &["fieldPath"])),
        json!(source),
        json!(message),
        json!(first),
        json!(count),
        json!(st(e, &["metadata", "name"])),
    ]
}

fn job_cells(j: &Value, now: Now) -> Vec<Value> {
    let succeeded = int(j, &["status", "succeeded"]);
    let completions = match get(j, &["spec", "completions"]).and_then(Value::as_i64) {
        Some(n) => format!("{succeeded}/{n}"),
        None => {
            let par = int(j, &["spec", "parallelism"]);
            if par > 1 {
                format!("{succeeded}/1 of {par}")
            } else {
                format!("{succeeded}/1")
            }
        }
    };
    let start = parse_ts(st(j, &["status", "startTime"]));
    let end = parse_ts(st(j, &["status", "completionTime"]));
    let duration = match (start, end) {
        (None, _) => String::new(),
        (Some(s), None) => now.since(s),
        (Some(s), Some(e)) => human_duration(e.as_second() - s.as_second()),
    };
    let deleting = get(j, &["metadata", "deletionTimestamp"]).is_some_and(|d| !d.is_null());
    let status = if has_condition(j, "Complete") {
        "Complete"
    } else if has_condition(j, "Failed") {
        "Failed"
    } else if deleting {
        "Terminating"
    } else if has_condition(j, "Suspended") {
        "Suspended"
    } else if has_condition(j, "FailureTarget") {
        "FailureTarget"
    } else if has_condition(j, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let (cs, is) = containers_images(get(j, &["spec", "template", "spec"]));
    vec![
        json!(st(j, &["metadata", "name"])),
        json!(status),
        json!(completions),
        json!(duration),
        age(j, now),
        json!(cs),
        json!(is),
        json!(selector_string(get(j, &["spec", "selector"]))),
    ]
}

fn binding_cells(b: &Value, now: Now) -> Vec<Value> {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut sas = Vec::new();
    for s in arr(b, &["subjects"]) {
        match st(s, &["kind"]) {
            "User" => users.push(st(s, &["name"]).to_string()),
            "Group" => groups.push(st(s, &["name"]).to_string()),
            "ServiceAccount" => sas.push(format!("{}/{}", st(s, &["namespace"]), st(s, &["name"]))),
            _ => {}
        }
    }
    vec![
        json!(st(b, &["metadata", "name"])),
        json!(format!(
            "{}/{}",
            st(b, &["roleRef", "kind"]),
            st(b, &["roleRef", "name"])
        )),
        age(b, now),
        json!(users.join(", ")),
        json!(groups.join(", ")),
        json!(sas.join(", ")),
    ]
}

/// The cells of one object's row.
pub type CellFn = fn(&Value, Now) -> Vec<Value>;

/// A built-in kind's `kubectl get` columns (what a kind's strategy returns from `printer`).
pub struct Printer {
    pub columns: Vec<Col>,
    pub cells: CellFn,
    /// Finished objects get a `Completed` row condition (pods: kubectl hides them unless `-a`).
    pub completed_conditions: bool,
}

/// Columns and cell function of a built-in kind (None: not a kind with a printer here).
fn builtin(group: &str, kind: &str) -> Option<(Vec<Col>, CellFn)> {
    let containers = || {
        wide(
            "Containers",
            "string",
            "Names of each container in the template.",
        )
    };
    let images = || {
        wide(
            "Images",
            "string",
            "Images referenced by each container in the template.",
        )
    };
    let selector = || {
        wide(
            "Selector",
            "string",
            "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
        )
    };
    let r: (Vec<Col>, CellFn) = match (group, kind) {
        ("", "Namespace") => (
            vec![
                name_col(),
                c("Status", "string", "The status of the namespace"),
                age_col(),
            ],
            |o, now| {
                vec![
                    json!(st(o, &["metadata", "name"])),
                    json!(st(o, &["status", "phase"])),
                    age(o, now),
                ]
            },
        ),
        ("", "Node") => (
            vec![
                name_col(),
                c("Status", "string", "The status of the node"),
                c("Roles", "string", "The roles of the node"),
                age_col(),
                c("Version", "string", "Kubelet Version reported by the node."),
                wide(
                    "Internal-IP",
                    "string",
                    "List of addresses reachable to the node. Queried from cloud provider, if available.",
                ),
                wide(
                    "External-IP",
                    "string",
                    "List of addresses reachable to the node. Queried from cloud provider, if available.",
                ),
                wide(
                    "OS-Image",
                    "string",
                    "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
                ),
                wide(
                    "Kernel-Version",
                    "string",
                    "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
                ),
                wide(
                    "Container-Runtime",
                    "string",
                    "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
                ),
            ],
            node_cells,
        ),
        ("", "Service") => (
            vec![
                name_col(),
                c(
                    "Type",
                    "string",
                    "type determines how the Service is exposed.",
                ),
                c(
                    "Cluster-IP",
                    "string",
                    "clusterIP is the IP address of the service and is usually assigned randomly.",
                ),
                c(
                    "External-IP",
                    "string",
                    "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
                ),
                c(
                    "Port(s)",
                    "string",
                    "The list of ports that are exposed by this service.",
                ),
                age_col(),
                wide(
                    "Selector",
                    "string",
                    "Route service traffic to pods with label keys and values matching this selector.",
                ),
            ],
            service_cells,
        ),
        ("", "Endpoints") => (
            vec![
                name_col(),
                c("Endpoints", "string", "Endpoints of the service"),
                age_col(),
            ],
            |o, now| {
                vec![
                    json!(st(o, &["metadata", "name"])),
                    json!(endpoints_string(o)),
                    age(o, now),
                ]
            },
        ),
        ("", "ConfigMap") => (
            vec![
                name_col(),
                c("Data", "string", "Data contains the configuration data."),
                age_col(),
            ],
            |o, now| {
                let n = get(o, &["data"])
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len())
                    + get(o, &["binaryData"])
                        .and_then(Value::as_object)
                        .map_or(0, |m| m.len());
                vec![json!(st(o, &["metadata", "name"])), json!(n), age(o, now)]
            },
        ),
        ("", "Secret") => (
            vec![
                name_col(),
                c(
                    "Type",
                    "string",
                    "Used to facilitate programmatic handling of secret data.",
                ),
                c("Data", "string", "Data contains the secret data."),
                age_col(),
            ],
            |o, now| {
                let n = get(o, &["data"])
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len());
                let ty = match st(o, &["type"]) {
                    "" => "Opaque",
                    t => t,
                };
                vec![
                    json!(st(o, &["metadata", "name"])),
                    json!(ty),
                    json!(n),
                    age(o, now),
                ]
            },
        ),
        ("", "ServiceAccount") => (
            vec![
                name_col(),
                c(
                    "Secrets",
                    "string",
                    "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
                ),
                age_col(),
            ],
            |o, now| {
                vec![
                    json!(st(o, &["metadata", "name"])),
                    json!(arr(o, &["secrets"]).len()),
                    age(o, now),
                ]
            },
        ),
        ("", "Event") | ("events.k8s.io", "Event") => (
            vec![
                c(
                    "Last Seen",
                    "string",
                    "The time at which the most recent occurrence of this event was recorded.",
                ),
                c(
                    "Type",
                    "string",
                    "Type of this event (Normal, Warning), new types could be added in the future",
                ),
                c(
                    "Reason",
                    "string",
                    "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
                ),
                c("Object", "string", "The object that this event is about."),
                wide(
                    "Subobject",
                    "string",
                    "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
                ),
                wide(
                    "Source",
                    "string",
                    "The component reporting this event. Should be a short machine understandable string.",
                ),
                c(
                    "Message",
                    "string",
                    "A human-readable description of the status of this operation.",
                ),
                wide(
                    "First Seen",
                    "string",
                    "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
                ),
                wide(
                    "Count",
                    "string",
                    "The number of times this event has occurred.",
                ),
                Col {
                    priority: 1,
                    ..name_col()
                },
            ],
            if group.is_empty() {
                |o, now| event_cells(o, now, false)
            } else {
                |o, now| event_cells(o, now, true)
            },
        ),
        ("apps", "Deployment") => (
            vec![
                name_col(),
                c("Ready", "string", "Number of the pod with ready state"),
                c(
                    "Up-to-date",
                    "string",
                    "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
                ),
                c(
                    "Available",
                    "string",
                    "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
                ),
                age_col(),
                containers(),
                images(),
                selector(),
            ],
            |o, now| {
                let desired = get(o, &["spec", "replicas"])
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                let (cs, is) = containers_images(get(o, &["spec", "template", "spec"]));
                vec![
                    json!(st(o, &["metadata", "name"])),
                    json!(format!(
                        "{}/{desired}",
                        int(o, &["status", "readyReplicas"])
                    )),
                    json!(int(o, &["status", "updatedReplicas"])),
                    json!(int(o, &["status", "availableReplicas"])),
                    age(o, now),
                    json!(cs),
                    json!(is),
                    json!(selector_string(get(o, &["spec", "selector"]))),
                ]
            },
        ),
        ("apps", "ReplicaSet") => (
            vec![
                name_col(),
                c(
                    "Desired",
                    "integer",
                    "Replicas is the number of desired replicas.",
                ),
                c(
                    "Current",
                    "integer",
                    "Replicas is the most recently observed number of replicas.",
                ),
                c(
                    "Ready",
                    "integer",
                    "The number of ready replicas for this replica set.",
                ),
                age_col(),
                containers(),
                images(),
                selector(),
            ],
            |o, now| {
                let desired = get(o, &["spec", "replicas"])
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                let (cs, is) = containers_images(get(o, &["spec", "template", "spec"]));
                vec![
                    json!(st(o, &["metadata", "name"])),
                    json!(desired),
                    json!(int(o, &["status", "replicas"])),
                    json!(int(o, &["status", "readyReplicas"])),
                    age(o, now),
                    json!(cs),
                    json!(is),
                    json!(selector_string(get(o, &["spec", "selector"]))),
                ]
            },
        ),
        ("apps", "StatefulSet") => (
            vec![
                name_col(),
                c("Ready", "string", "Number of the pod with ready state"),
                age_col(),
                containers(),
                images(),
            ],
            |o, now| {
                let desired = get(o, &["spec", "replicas"])
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                let (cs, is) = containers_images(get(o, &["spec", "template", "spec"]));
                vec![
                    json!(st(o, &["metadata", "name"])),
                    json!(format!(
                        "{}/{desired}",
                        int(o, &["status", "readyReplicas"])
                    )),
                    age(o, now),
                    json!(cs),
                    json!(is),
                ]
            },
        ),
        ("apps", "DaemonSet") => (
            vec![
                name_col(),
                c(
                    "Desired",
                    "integer",
                    "The total number of nodes that should be running the daemon pod.",
                ),
                c(
                    "Current",
                    "integer",
                    "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
                ),
                c(
                    "Ready",
                    "integer",
                    "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
                ),
                c(
                    "Up-to-date",
                    "integer",
                    "The total number of nodes that are running updated daemon pod",
                ),
                c(
                    "Available",
                    "integer",
                    "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
                ),
                c(
                    "Node Selector",
                    "string",
                    "NodeSelector is a selector which must be true for the pod to fit on a node.",
                ),
                age_col(),
                containers(),
                images(),
                selector(),
            ],
            |o, now| {
                let (cs, is) = containers_images(get(o, &["spec", "template", "spec"]));
                vec![
                    json!(st(o, &["metadata", "name"])),
                    json!(int(o, &["status", "desiredNumberScheduled"])),
                    json!(int(o, &["status", "currentNumberScheduled"])),
                    json!(int(o, &["status", "numberReady"])),
                    json!(int(o, &["status", "updatedNumberScheduled"])),
                    json!(int(o, &["status", "numberAvailable"])),
                    json!(format_labels(get(
                        o,
                        &["spec", "template", "spec", "nodeSelector"]
                    ))),
                    age(o, now),
                    json!(cs),
                    json!(is),
                    json!(selector_string(get(o, &["spec", "selector"]))),
                ]
            },
        ),
        ("batch", "Job") => (
            vec![
                name_col(),
                c("Status", "string", "Status of the job."),
                c("Completions", "string", "The completion status of the job."),
                c("Duration", "string", "Time required to complete the job."),
                age_col(),
                containers(),
                images(),
                selector(),
            ],
            job_cells,
        ),
        ("batch", "CronJob") => (
            vec![
                name_col(),
                c(
                    "Schedule",
                    "string",
                    "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
                ),
                c(
                    "Timezone",
                    "string",
                    "The time zone name for the given schedule.",
                ),
                c(
                    "Suspend",
                    "boolean",
                    "This flag tells the controller to suspend subsequent executions.",
                ),
                c(
                    "Active",
                    "integer",
                    "A list of pointers to currently running jobs.",
                ),
                c(
                    "Last Schedule",
                    "string",
                    "Information when was the last time the job was successfully scheduled.",
                ),
                age_col(),
                containers(),
                images(),
                selector(),
            ],
            |o, now| {
                let last = get(o, &["status", "lastScheduleTime"]).and_then(Value::as_str);
                let (cs, is) =
                    containers_images(get(o, &["spec", "jobTemplate", "spec", "template", "spec"]));
                vec![
                    json!(st(o, &["metadata", "name"])),
                    json!(st(o, &["spec", "schedule"])),
                    json!(or_none(st(o, &["spec", "timeZone"]))),
                    json!(
                        if get(o, &["spec", "suspend"]).and_then(Value::as_bool) == Some(true) {
                            "True"
                        } else {
                            "False"
                        }
                    ),
                    json!(arr(o, &["status", "active"]).len()),
                    json!(if last.is_some() {
                        since(last, now)
                    } else {
                        "<none>".into()
                    }),
                    age(o, now),
                    json!(cs),
                    json!(is),
                    json!(selector_string(get(
                        o,
                        &["spec", "jobTemplate", "spec", "selector"]
                    ))),
                ]
            },
        ),
        ("coordination.k8s.io", "Lease") => (
            vec![
                name_col(),
                c(
                    "Holder",
                    "string",
                    "holderIdentity contains the identity of the holder of a current lease.",
                ),
                age_col(),
            ],
            |o, now| {
                vec![
                    json!(st(o, &["metadata", "name"])),
                    json!(st(o, &["spec", "holderIdentity"])),
                    age(o, now),
                ]
            },
        ),
        ("rbac.authorization.k8s.io", "Role")
        | ("rbac.authorization.k8s.io", "ClusterRole")
        | ("apiextensions.k8s.io", "CustomResourceDefinition") => (
            vec![name_col(), c("Created At", "date", CREATION_DESC)],
            |o, _| vec![json!(st(o, &["metadata", "name"])), created_at(o)],
        ),
        ("rbac.authorization.k8s.io", "RoleBinding")
        | ("rbac.authorization.k8s.io", "ClusterRoleBinding") => (
            vec![
                name_col(),
                c(
                    "Role",
                    "string",
                    "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
                ),
                age_col(),
                wide("Users", "string", "Users in the roleBinding"),
                wide("Groups", "string", "Groups in the roleBinding"),
                wide(
                    "ServiceAccounts",
                    "string",
                    "ServiceAccounts in the roleBinding",
                ),
            ],
            binding_cells,
        ),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration")
        | ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => (
            vec![
                name_col(),
                c(
                    "Webhooks",
                    "integer",
                    "Webhooks indicates the number of webhooks in this configuration",
                ),
                age_col(),
            ],
            |o, now| {
                vec![
                    json!(st(o, &["metadata", "name"])),
                    json!(arr(o, &["webhooks"]).len()),
                    age(o, now),
                ]
            },
        ),
        _ => return None,
    };
    Some(r)
}

// ---------------------------------------------------------------------------
// CRD printer columns

/// A CRD `jsonPath` (`.spec.x`, `.status.conditions[?(@.type=="Ready")].status`) as an RFC 9535 path.
fn to_json_path(p: &str) -> String {
    let p = p.trim();
    let p = p
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(p);
    if p.starts_with('$') {
        p.to_string()
    } else if p.starts_with('.') || p.starts_with('[') {
        format!("${p}")
    } else {
        format!("$.{p}")
    }
}

fn crd_cell(col: &Value, obj: &Value, now: Now) -> Value {
    let path = to_json_path(st(col, &["jsonPath"]));
    let Ok(jp) = serde_json_path::JsonPath::parse(&path) else {
        return Value::Null;
    };
    let Some(value) = jp.query(obj).first().cloned() else {
        return Value::Null;
    };
    if value.is_null() {
        return Value::Null;
    }
    match st(col, &["type"]) {
        "integer" => match &value {
            Value::Number(n) => n
                .as_i64()
                .map(Value::from)
                .or_else(|| n.as_f64().map(|f| json!(f as i64)))
                .unwrap_or(Value::Null),
            _ => Value::Null,
        },
        "number" => match &value {
            Value::Number(n) => n.as_f64().map(|f| json!(f)).unwrap_or(Value::Null),
            _ => Value::Null,
        },
        "boolean" => {
            if value.is_boolean() {
                value
            } else {
                Value::Null
            }
        }
        "date" => match &value {
            Value::String(s) => match parse_ts(s) {
                Some(t) => Value::String(now.since(t)),
                None => Value::String("<invalid>".into()),
            },
            _ => Value::Null,
        },
        // "string" and anything else: JSONPath text output (Go %v)
        _ => Value::String(go_plain_v(&value)),
    }
}

fn crd_columns(printer_columns: Option<&Value>) -> Vec<Value> {
    let cols: Vec<Value> = printer_columns
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if cols.is_empty() {
        return vec![
            json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp",
                           "description": CREATION_DESC}),
        ];
    }
    cols
}

// ---------------------------------------------------------------------------

/// The time a Table is rendered at. Rows made once per stored version use `Placeholder`: their ages are
/// markers that [`Writer`] fills in with the time of each reply.
#[derive(Debug, Clone, Copy)]
pub enum Now {
    At(jiff::Timestamp),
    Placeholder,
}

/// Around the Unix second of an age placeholder (private-use characters, never produced by the cell code).
const AGE_START: char = '\u{E000}';
const AGE_END: char = '\u{E001}';

impl Now {
    /// The age of `t`: `duration.HumanDuration` of now minus `t`.
    pub(crate) fn since(self, t: jiff::Timestamp) -> String {
        match self {
            Now::At(now) => human_duration(now.as_second() - t.as_second()),
            Now::Placeholder => format!("{AGE_START}{}{AGE_END}", t.as_second()),
        }
    }
}

/// One object's Table row, made once per stored version: the cells (JSON, ages as placeholders when
/// `placeholders`), the pod conditions, and the row metadata (without managedFields).
#[derive(Debug)]
pub struct Row {
    cells: String,
    placeholders: bool,
    conditions: Option<String>,
    metadata: String,
}

/// The columns of a Table of one kind (a CRD version's printer columns, or a built-in kind's).
pub struct Layout {
    columns: Vec<Value>,
    cells: Cells,
    pod: bool,
    /// Identifies the layout among the rows cached on stored objects.
    key: u64,
}

enum Cells {
    Builtin(CellFn),
    Printer(Vec<Value>),
}

impl Layout {
    /// The layout of `kind` in `group`; `printer_columns` is a CRD version's `additionalPrinterColumns`.
    pub fn new(group: &str, kind: &str, printer_columns: Option<&Value>) -> Self {
        Self::with_printer(group, kind, printer_columns, None)
    }

    /// The layout with a kind's own printer (from its strategy); kinds without one fall back to the
    /// columns kept here.
    pub fn with_printer(
        group: &str,
        kind: &str,
        printer_columns: Option<&Value>,
        own: Option<Printer>,
    ) -> Self {
        use std::hash::{Hash, Hasher};
        let printer = printer_columns.filter(|p| p.as_array().is_some_and(|a| !a.is_empty()));
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (group, kind, printer.map(Value::to_string)).hash(&mut h);
        let key = h.finish();
        let own = own.or_else(|| {
            builtin(group, kind).map(|(columns, cells)| Printer {
                columns,
                cells,
                completed_conditions: false,
            })
        });
        if let (None, Some(own)) = (printer, own) {
            return Self {
                columns: own.columns.iter().map(Col::json).collect(),
                cells: Cells::Builtin(own.cells),
                pod: own.completed_conditions,
                key,
            };
        }
        let pod = false;
        let cols = crd_columns(printer);
        let mut columns = vec![name_col().json()];
        for col in &cols {
            let desc = match st(col, &["description"]) {
                "" => format!(
                    "Custom resource definition column (in JSONPath format): {}",
                    st(col, &["jsonPath"])
                ),
                d => d.to_string(),
            };
            columns.push(json!({
                "name": st(col, &["name"]),
                "type": st(col, &["type"]),
                "format": st(col, &["format"]),
                "description": desc,
                "priority": int(col, &["priority"]),
            }));
        }
        Self {
            columns,
            cells: Cells::Printer(cols),
            pod,
            key,
        }
    }

    fn row(&self, obj: &Value, now: Now) -> Row {
        let cells = match &self.cells {
            Cells::Builtin(f) => f(obj, now),
            Cells::Printer(cols) => {
                let mut cells = vec![json!(st(obj, &["metadata", "name"]))];
                cells.extend(cols.iter().map(|col| crd_cell(col, obj, now)));
                cells
            }
        };
        let phase = st(obj, &["status", "phase"]);
        let conditions = (self.pod && (phase == "Succeeded" || phase == "Failed")).then(|| {
            json!([{"type": "Completed", "status": "True", "reason": phase,
                "message": if phase == "Succeeded" { "The pod has completed successfully." } else { "The pod failed." }}])
            .to_string()
        });
        // Row metadata leaves out managedFields: printers never read them, and they are most of the bytes.
        let metadata = obj
            .get("metadata")
            .and_then(Value::as_object)
            .map(|m| {
                Value::Object(
                    m.iter()
                        .filter(|(k, _)| *k != "managedFields")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )
            })
            .unwrap_or_else(|| json!({}));
        Row {
            cells: Value::Array(cells).to_string(),
            placeholders: matches!(now, Now::Placeholder),
            conditions,
            metadata: metadata.to_string(),
        }
    }

    /// The row of a stored object (in the client's form), made once per stored version and kept with it.
    pub fn stored_row(&self, obj: &Stored) -> Arc<Row> {
        if obj.json().contains(AGE_START) {
            // Data that looks like a placeholder: this row is made at the reply's time, never cached.
            return Arc::new(self.row(&obj.value(), Now::At(jiff::Timestamp::now())));
        }
        obj.table_row(self.key, || self.row(&obj.value(), Now::Placeholder))
    }
}

/// Writes a Table reply: `{"kind":"Table",…,"rows":[…]}`, row by row.
pub struct Writer {
    out: Vec<u8>,
    include: IncludeObject,
    now: jiff::Timestamp,
    rows: usize,
}

impl Writer {
    /// Starts a Table; `list_meta` becomes its `metadata`; watch events after the first leave out the columns.
    pub fn new(
        layout: &Layout,
        include: IncludeObject,
        list_meta: &Value,
        with_columns: bool,
        now: jiff::Timestamp,
        capacity: usize,
    ) -> Self {
        let mut out = Vec::with_capacity(capacity);
        out.extend_from_slice(
            b"{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":",
        );
        if list_meta.is_object() {
            push_json(&mut out, list_meta);
        } else {
            out.extend_from_slice(b"{}");
        }
        if with_columns {
            out.extend_from_slice(b",\"columnDefinitions\":");
            push_json(&mut out, &layout.columns);
        }
        out.extend_from_slice(b",\"rows\":[");
        Self {
            out,
            include,
            now,
            rows: 0,
        }
    }

    /// Adds the row of an object whose JSON (in the client's form) is `object`.
    pub fn row(&mut self, row: &Row, object: &str) {
        if self.rows > 0 {
            self.out.push(b',');
        }
        self.rows += 1;
        self.out.extend_from_slice(b"{\"cells\":");
        if row.placeholders {
            fill_ages(&mut self.out, &row.cells, self.now);
        } else {
            self.out.extend_from_slice(row.cells.as_bytes());
        }
        self.out.extend_from_slice(b",\"object\":");
        match self.include {
            IncludeObject::None => self.out.extend_from_slice(b"null"),
            IncludeObject::Metadata => {
                self.out.extend_from_slice(
                    b"{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":",
                );
                self.out.extend_from_slice(row.metadata.as_bytes());
                self.out.push(b'}');
            }
            IncludeObject::Object => self.out.extend_from_slice(object.as_bytes()),
        }
        if let Some(c) = &row.conditions {
            self.out.extend_from_slice(b",\"conditions\":");
            self.out.extend_from_slice(c.as_bytes());
        }
        self.out.push(b'}');
    }

    /// The finished Table.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(b"]}");
        self.out
    }
}

fn push_json(out: &mut Vec<u8>, v: &(impl serde::Serialize + ?Sized)) {
    // Serializing a `Value` into memory cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
}

/// Copies `cells`, each age placeholder replaced by the age at `now`.
fn fill_ages(out: &mut Vec<u8>, cells: &str, now: jiff::Timestamp) {
    let mut rest = cells;
    while let Some(start) = rest.find(AGE_START) {
        let after = &rest[start + AGE_START.len_utf8()..];
        let parsed = after
            .find(AGE_END)
            .and_then(|end| Some((after[..end].parse::<i64>().ok()?, end)));
        let Some((second, end)) = parsed else {
            break;
        };
        out.extend_from_slice(&rest.as_bytes()[..start]);
        out.extend_from_slice(human_duration(now.as_second() - second).as_bytes());
        rest = &after[end + AGE_END.len_utf8()..];
    }
    out.extend_from_slice(rest.as_bytes());
}

/// Builds a Table of `objects` of the given kind.
/// `printer_columns` is a CRD version's `additionalPrinterColumns` (None for built-in kinds or no columns).
/// `now` is the current time (for AGE). `list_meta` becomes the Table's `metadata` (resourceVersion, continue).
#[allow(clippy::too_many_arguments)]
pub fn render(
    group: &str,
    kind: &str,
    printer_columns: Option<&Value>,
    own: Option<Printer>,
    objects: &[&Value],
    include: IncludeObject,
    list_meta: Value,
    now: jiff::Timestamp,
) -> Value {
    let layout = Layout::with_printer(group, kind, printer_columns, own);
    let mut writer = Writer::new(&layout, include, &list_meta, true, now, 4096);
    for obj in objects {
        let row = layout.row(obj, Now::At(now));
        let json = if include == IncludeObject::Object {
            obj.to_string()
        } else {
            String::new()
        };
        writer.row(&row, &json);
    }
    serde_json::from_slice(&writer.finish()).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The printer a built-in kind's strategy gives.
    fn own(group: &str, kind: &str) -> Option<Printer> {
        crate::sandbox::kinds::registry::builtin_kind(group, kind)
            .and_then(|b| b.strategy.printer())
    }

    fn layout(group: &str, kind: &str) -> Layout {
        Layout::with_printer(group, kind, None, own(group, kind))
    }

    fn render(
        group: &str,
        kind: &str,
        printer_columns: Option<&Value>,
        objects: &[&Value],
        include: IncludeObject,
        list_meta: Value,
        now: jiff::Timestamp,
    ) -> Value {
        super::render(
            group,
            kind,
            printer_columns,
            own(group, kind),
            objects,
            include,
            list_meta,
            now,
        )
    }

    fn now() -> jiff::Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn names(t: &Value) -> Vec<String> {
        t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    }

    fn cells(t: &Value, row: usize) -> Vec<Value> {
        t["rows"][row]["cells"].as_array().unwrap().clone()
    }

    fn stored_table(layout: &Layout, obj: &Stored, at: jiff::Timestamp) -> Value {
        let mut w = Writer::new(layout, IncludeObject::Metadata, &json!({}), true, at, 256);
        w.row(&layout.stored_row(obj), obj.json());
        serde_json::from_slice(&w.finish()).unwrap()
    }

    #[test]
    fn a_stored_row_is_made_once_and_shows_the_age_at_each_reply() {
        let pod = json!({"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "p", "namespace": "n", "creationTimestamp": "2024-05-01T11:59:00Z",
                "managedFields": [{"manager": "m"}]},
            "status": {"phase": "Succeeded"}});
        let stored = Stored::new(&pod);
        let layout = layout("", "Pod");
        let first = stored_table(&layout, &stored, now());
        let later = stored_table(
            &layout,
            &stored,
            now() + jiff::SignedDuration::from_secs(3600),
        );
        assert!(Arc::ptr_eq(
            &layout.stored_row(&stored),
            &layout.stored_row(&stored)
        ));
        assert_eq!(cells(&first, 0)[4], json!("60s"));
        assert_eq!(cells(&later, 0)[4], json!("61m"));
        // The same reply as a table of the parsed object.
        assert_eq!(
            first,
            render(
                "",
                "Pod",
                None,
                &[&pod],
                IncludeObject::Metadata,
                json!({}),
                now()
            )
        );
        assert_eq!(first["rows"][0]["conditions"][0]["reason"], "Succeeded");
        assert!(first["rows"][0]["object"]["metadata"]["managedFields"].is_null());
    }

    #[test]
    fn data_that_looks_like_an_age_placeholder_is_shown_as_it_is() {
        let text = format!("{AGE_START}5{AGE_END}");
        let pod = json!({"metadata": {"name": text, "creationTimestamp": "2024-05-01T11:59:00Z"}});
        let stored = Stored::new(&pod);
        let table = stored_table(&layout("", "Pod"), &stored, now());
        assert_eq!(cells(&table, 0)[0], json!(text));
    }

    #[test]
    fn human_durations() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (630, "10m"),
            (150, "2m30s"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 4 * 60, "3h4m"),
            (8 * 3600 + 59 * 60, "8h"),
            (47 * 3600, "47h"),
            (2 * 86400, "2d"),
            (2 * 86400 + 5 * 3600, "2d5h"),
            (30 * 86400, "30d"),
            (3 * 365 * 86400, "3y"),
            (3 * 365 * 86400 + 10 * 86400, "3y10d"),
            (9 * 365 * 86400 + 10 * 86400, "9y"),
        ];
        for (s, want) in cases {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }

    #[test]
    fn pods() {
        let running = json!({"metadata": {"name": "web", "creationTimestamp": "2024-05-01T11:55:00Z"},
            "spec": {"containers": [{"name": "c"}, {"name": "d"}], "nodeName": "node-1"},
            "status": {"phase": "Running", "podIP": "10.0.0.5", "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [
                    {"name": "c", "ready": true, "restartCount": 2, "state": {"running": {}},
                     "lastState": {"terminated": {"finishedAt": "2024-05-01T11:58:00Z"}}},
                    {"name": "d", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}});
        let creating = json!({"metadata": {"name": "new"}, "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "c", "state": {"waiting": {"reason": "ContainerCreating"}}}]}});
        let done = json!({"metadata": {"name": "job-x", "creationTimestamp": "2024-05-01T10:00:00Z"},
            "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Succeeded", "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}});
        let deleting = json!({"metadata": {"name": "bye", "deletionTimestamp": "2024-05-01T11:59:00Z"},
            "spec": {"containers": [{"name": "c"}], "readinessGates": [{"conditionType": "x/ok"}]},
            "status": {"phase": "Running", "conditions": [{"type": "x/ok", "status": "True"}],
                "containerStatuses": [{"name": "c", "ready": true, "state": {"running": {}}}]}});
        let t = render(
            "",
            "Pod",
            None,
            &[&running, &creating, &done, &deleting],
            IncludeObject::Metadata,
            json!({"resourceVersion": "7"}),
            now(),
        );
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(t["metadata"], json!({"resourceVersion": "7"}));
        assert_eq!(
            names(&t),
            [
                "Name",
                "Ready",
                "Status",
                "Restarts",
                "Age",
                "IP",
                "Node",
                "Nominated Node",
                "Readiness Gates"
            ]
        );
        assert_eq!(t["columnDefinitions"][0]["format"], "name");
        assert_eq!(t["columnDefinitions"][5]["priority"], 1);
        assert_eq!(
            cells(&t, 0),
            [
                json!("web"),
                json!("1/2"),
                json!("ImagePullBackOff"),
                json!("2 (2m ago)"),
                json!("5m"),
                json!("10.0.0.5"),
                json!("node-1"),
                json!("<none>"),
                json!("<none>")
            ]
        );
        assert_eq!(
            cells(&t, 1)[1..5],
            [
                json!("0/1"),
                json!("ContainerCreating"),
                json!("0"),
                json!("<unknown>")
            ]
        );
        assert_eq!(cells(&t, 2)[2], "Completed");
        assert_eq!(t["rows"][2]["conditions"][0]["type"], "Completed");
        assert_eq!(cells(&t, 3)[1..3], [json!("1/1"), json!("Terminating")]);
        assert_eq!(cells(&t, 3)[8], "1/1");
        assert_eq!(
            t["rows"][0]["object"],
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                   "metadata": {"name": "web", "creationTimestamp": "2024-05-01T11:55:00Z"}})
        );
        let t = render(
            "",
            "Pod",
            None,
            &[&creating],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert!(t["rows"][0]["object"].is_null());
        let t = render(
            "",
            "Pod",
            None,
            &[&creating],
            IncludeObject::Object,
            json!({}),
            now(),
        );
        assert_eq!(t["rows"][0]["object"], creating);
        let init = json!({"metadata": {"name": "i"}, "spec": {"initContainers": [{"name": "a"}, {"name": "b"}], "containers": [{"name": "c"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "a", "state": {"terminated": {"exitCode": 0}}}, {"name": "b", "state": {"running": {}}}]}});
        let t = render(
            "",
            "Pod",
            None,
            &[&init],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(cells(&t, 0)[2], "Init:1/2");
    }

    #[test]
    fn workloads() {
        let d = json!({"metadata": {"name": "web", "creationTimestamp": "2024-04-29T12:00:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]},
                "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}, {"name": "side", "image": "busybox"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
        let t = render(
            "apps",
            "Deployment",
            None,
            &[&d],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(
            names(&t),
            [
                "Name",
                "Ready",
                "Up-to-date",
                "Available",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        assert_eq!(
            cells(&t, 0),
            [
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("2d"),
                json!("nginx,side"),
                json!("nginx:1.25,busybox"),
                json!("app=web,tier in (a,b)")
            ]
        );
        let j = json!({"metadata": {"name": "pi"}, "spec": {"completions": 1},
            "status": {"succeeded": 1, "startTime": "2024-05-01T11:00:00Z", "completionTime": "2024-05-01T11:00:42Z",
                "conditions": [{"type": "Complete", "status": "True"}]}});
        let t = render(
            "batch",
            "Job",
            None,
            &[&j],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(
            names(&t)[..5],
            ["Name", "Status", "Completions", "Duration", "Age"]
        );
        assert_eq!(
            cells(&t, 0)[..4],
            [json!("pi"), json!("Complete"), json!("1/1"), json!("42s")]
        );
        let sts = json!({"metadata": {"name": "db"}, "spec": {"replicas": 2}, "status": {"readyReplicas": 1}});
        let t = render(
            "apps",
            "StatefulSet",
            None,
            &[&sts],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(cells(&t, 0)[1], "1/2");
        let rs = json!({"metadata": {"name": "web-1"}, "spec": {"replicas": 2}, "status": {"replicas": 2, "readyReplicas": 1}});
        let t = render(
            "apps",
            "ReplicaSet",
            None,
            &[&rs],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(
            cells(&t, 0)[..4],
            [json!("web-1"), json!(2), json!(2), json!(1)]
        );
        let ds = json!({"metadata": {"name": "agent"}, "spec": {"template": {"spec": {"nodeSelector": {"os": "linux"}}}},
            "status": {"desiredNumberScheduled": 1, "currentNumberScheduled": 1, "numberReady": 1, "updatedNumberScheduled": 1, "numberAvailable": 1}});
        let t = render(
            "apps",
            "DaemonSet",
            None,
            &[&ds],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(cells(&t, 0)[6], "os=linux");
    }

    #[test]
    fn core_kinds() {
        let svc = json!({"metadata": {"name": "web"}, "spec": {"type": "NodePort", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}], "selector": {"b": "2", "a": "1"}}});
        let t = render(
            "",
            "Service",
            None,
            &[&svc],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(
            names(&t),
            [
                "Name",
                "Type",
                "Cluster-IP",
                "External-IP",
                "Port(s)",
                "Age",
                "Selector"
            ]
        );
        assert_eq!(
            cells(&t, 0)[1..5],
            [
                json!("NodePort"),
                json!("10.96.0.10"),
                json!("<none>"),
                json!("80:30080/TCP,53/UDP")
            ]
        );
        assert_eq!(cells(&t, 0)[6], "a=1,b=2");
        let lb = json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]}});
        let t = render(
            "",
            "Service",
            None,
            &[&lb],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(cells(&t, 0)[3], "<pending>");

        let cm = json!({"metadata": {"name": "cfg"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
        let t = render(
            "",
            "ConfigMap",
            None,
            &[&cm],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(names(&t), ["Name", "Data", "Age"]);
        assert_eq!(cells(&t, 0)[1], 3);
        let sec = json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
        let t = render(
            "",
            "Secret",
            None,
            &[&sec],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(cells(&t, 0)[1..3], [json!("kubernetes.io/tls"), json!(2)]);
        let ns = json!({"metadata": {"name": "default", "creationTimestamp": "2024-05-01T11:59:30Z"}, "status": {"phase": "Active"}});
        let t = render(
            "",
            "Namespace",
            None,
            &[&ns],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(
            cells(&t, 0),
            [json!("default"), json!("Active"), json!("30s")]
        );
        let node = json!({"metadata": {"name": "n1", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.30.0"},
                "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}]}});
        let t = render(
            "",
            "Node",
            None,
            &[&node],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(
            cells(&t, 0),
            [
                json!("n1"),
                json!("Ready"),
                json!("control-plane"),
                json!("<unknown>"),
                json!("v1.30.0"),
                json!("172.18.0.2"),
                json!("<none>"),
                json!("<unknown>"),
                json!("<unknown>"),
                json!("<unknown>")
            ]
        );
        let ep = json!({"metadata": {"name": "web"}, "subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {"ip": "10.0.0.3"}, {"ip": "10.0.0.4"}], "ports": [{"port": 80}]}]});
        let t = render(
            "",
            "Endpoints",
            None,
            &[&ep],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(
            cells(&t, 0)[1],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more..."
        );
        let sa = json!({"metadata": {"name": "default"}});
        let t = render(
            "",
            "ServiceAccount",
            None,
            &[&sa],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(names(&t), ["Name", "Secrets", "Age"]);
        let ev = json!({"metadata": {"name": "web.17a"}, "type": "Warning", "reason": "BackOff", "message": "Back-off restarting ",
            "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{c}"},
            "source": {"component": "kubelet", "host": "n1"}, "firstTimestamp": "2024-05-01T11:00:00Z", "lastTimestamp": "2024-05-01T11:59:00Z", "count": 4});
        let t = render(
            "",
            "Event",
            None,
            &[&ev],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(
            names(&t),
            [
                "Last Seen",
                "Type",
                "Reason",
                "Object",
                "Subobject",
                "Source",
                "Message",
                "First Seen",
                "Count",
                "Name"
            ]
        );
        assert_eq!(
            cells(&t, 0),
            [
                json!("60s"),
                json!("Warning"),
                json!("BackOff"),
                json!("pod/web"),
                json!("spec.containers{c}"),
                json!("kubelet, n1"),
                json!("Back-off restarting"),
                json!("60m"),
                json!(4),
                json!("web.17a")
            ]
        );
        let ev2 = json!({"metadata": {"name": "e"}, "type": "Normal", "reason": "Scheduled", "note": "ok",
            "regarding": {"kind": "Pod", "name": "p"}, "eventTime": "2024-05-01T11:59:50.000000Z", "reportingController": "sched"});
        let t = render(
            "events.k8s.io",
            "Event",
            None,
            &[&ev2],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(
            cells(&t, 0)[..9],
            [
                json!("10s"),
                json!("Normal"),
                json!("Scheduled"),
                json!("pod/p"),
                json!(""),
                json!("sched"),
                json!("ok"),
                json!("10s"),
                json!(1)
            ]
        );
    }

    #[test]
    fn rbac_leases_crds_webhooks() {
        let role =
            json!({"metadata": {"name": "reader", "creationTimestamp": "2024-05-01T10:00:00Z"}});
        let t = render(
            "rbac.authorization.k8s.io",
            "ClusterRole",
            None,
            &[&role],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(names(&t), ["Name", "Created At"]);
        assert_eq!(
            cells(&t, 0),
            [json!("reader"), json!("2024-05-01T10:00:00Z")]
        );
        let rb = json!({"metadata": {"name": "rb"}, "roleRef": {"kind": "Role", "name": "reader"},
            "subjects": [{"kind": "User", "name": "jane"}, {"kind": "ServiceAccount", "name": "op", "namespace": "ops"}, {"kind": "User", "name": "bob"}]});
        let t = render(
            "rbac.authorization.k8s.io",
            "RoleBinding",
            None,
            &[&rb],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(
            cells(&t, 0),
            [
                json!("rb"),
                json!("Role/reader"),
                json!("<unknown>"),
                json!("jane, bob"),
                json!(""),
                json!("ops/op")
            ]
        );
        let lease = json!({"metadata": {"name": "leader"}, "spec": {"holderIdentity": "pod-1"}});
        let t = render(
            "coordination.k8s.io",
            "Lease",
            None,
            &[&lease],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(names(&t), ["Name", "Holder", "Age"]);
        assert_eq!(cells(&t, 0)[1], "pod-1");
        let crd = json!({"metadata": {"name": "crontabs.stable.example.com", "creationTimestamp": "2024-05-01T10:00:00Z"}});
        let t = render(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            None,
            &[&crd],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(names(&t), ["Name", "Created At"]);
        let wh = json!({"metadata": {"name": "v"}, "webhooks": [{}, {}]});
        let t = render(
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
            None,
            &[&wh],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(cells(&t, 0)[..2], [json!("v"), json!(2)]);
    }

    #[test]
    fn custom_resources() {
        let cols = json!([
            {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec", "description": "The cron spec"},
            {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
            {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
            {"name": "Last", "type": "date", "jsonPath": ".status.lastRun", "priority": 1},
            {"name": "Tags", "type": "string", "jsonPath": ".spec.tags"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
        ]);
        let o = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": "my-cron", "creationTimestamp": "2024-05-01T08:56:00Z"},
            "spec": {"cronSpec": "* * * * */5", "replicas": 3, "tags": ["a", "b"]},
            "status": {"conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}], "lastRun": "2024-05-01T11:59:00Z"}});
        let bare = json!({"metadata": {"name": "bare"}});
        let t = render(
            "stable.example.com",
            "CronTab",
            Some(&cols),
            &[&o, &bare],
            IncludeObject::Metadata,
            json!({}),
            now(),
        );
        assert_eq!(
            names(&t),
            ["Name", "Spec", "Replicas", "Ready", "Last", "Tags", "Age"]
        );
        assert_eq!(t["columnDefinitions"][1]["description"], "The cron spec");
        assert_eq!(
            t["columnDefinitions"][2]["description"],
            "Custom resource definition column (in JSONPath format): .spec.replicas"
        );
        assert_eq!(t["columnDefinitions"][4]["priority"], 1);
        assert_eq!(
            cells(&t, 0),
            [
                json!("my-cron"),
                json!("* * * * */5"),
                json!(3),
                json!("True"),
                json!("60s"),
                json!("[a b]"),
                json!("3h4m")
            ]
        );
        assert_eq!(
            cells(&t, 1),
            [
                json!("bare"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ]
        );
        // no columns declared: Name + Age
        let t = render(
            "stable.example.com",
            "CronTab",
            None,
            &[&o],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(names(&t), ["Name", "Age"]);
        assert_eq!(t["columnDefinitions"][0]["description"], NAME_DESC);
        assert_eq!(cells(&t, 0), [json!("my-cron"), json!("3h4m")]);
        let t = render(
            "stable.example.com",
            "CronTab",
            Some(&json!([])),
            &[&o],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert_eq!(names(&t), ["Name", "Age"]);
    }
}
