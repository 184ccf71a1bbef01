//! The simulated scheduler and kubelet: pods are bound to node `sandbox`, start after a short delay, and finish
//! their graceful deletion; no process runs.

use super::bootstrap::NODE;
use super::key;
use crate::sandbox::meta;
use crate::sandbox::store::api::{Api, WriteOpts};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Stage {
    Start,
    Complete,
    Remove,
}

pub struct Kubelet {
    api: Arc<Api>,
    stop: CancellationToken,
    pending: Arc<Mutex<HashSet<(String, Stage)>>>,
}

impl Kubelet {
    pub fn new(api: Arc<Api>, stop: CancellationToken) -> Self {
        Self {
            api,
            stop,
            pending: Arc::default(),
        }
    }

    /// Moves a pod one stage on, now or after a delay.
    pub fn on_pod(&self, pod: &Value) {
        let m = &pod["metadata"];
        let (Some(ns), Some(name), Some(uid)) = (
            m["namespace"].as_str(),
            m["name"].as_str(),
            m["uid"].as_str(),
        ) else {
            return;
        };
        if !m["deletionTimestamp"].is_null() {
            self.api.procs.stop_pod(uid);
            let grace = m["deletionGracePeriodSeconds"].as_u64().unwrap_or(0);
            let remaining = m["deletionTimestamp"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .map(|t| t.duration_since(jiff::Timestamp::now()).as_millis().max(0) as u64)
                .unwrap_or(grace * 1000);
            self.later(
                uid,
                ns,
                name,
                Stage::Remove,
                Duration::from_millis(remaining.min(grace * 1000)),
            );
            return;
        }
        if pod["spec"]["nodeName"].as_str().is_none_or(str::is_empty) {
            self.schedule(ns, name, uid);
            return;
        }
        let phase = pod["status"]["phase"].as_str().unwrap_or("Pending");
        // Containers the sandbox runs for real: their process decides the pod's status.
        if crate::sandbox::controllers::procs::process_container(pod).is_some()
            && matches!(phase, "Pending" | "Running")
        {
            let api = self.api.clone();
            let (stop, pod) = (self.stop.clone(), pod.clone());
            let delay = if phase == "Pending" {
                self.api.config.pod_start_delay
            } else {
                Duration::ZERO
            };
            if self.api.procs.get(uid).is_none() {
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if !stop.is_cancelled() {
                        api.procs.start_pod(&api, &pod, &stop);
                    }
                });
            }
            return;
        }
        if phase == "Pending" && pod["status"]["containerStatuses"].is_null() {
            self.later(uid, ns, name, Stage::Start, self.api.config.pod_start_delay);
        } else if phase == "Running" && runs_to_completion(pod) {
            self.later(uid, ns, name, Stage::Complete, Duration::from_millis(1000));
        }
    }

    fn schedule(&self, ns: &str, name: &str, uid: &str) {
        let now = meta::now_rfc3339();
        let done = self.api.mutate(&key("", "pods"), ns, name, |p| {
            if p["metadata"]["uid"].as_str() != Some(uid) || p["spec"]["nodeName"].as_str().is_some_and(|n| !n.is_empty()) {
                return false;
            }
            p["spec"]["nodeName"] = json!(NODE);
            p["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now}]);
            true
        });
        if done.is_some() {
            self.event(
                ns,
                name,
                uid,
                "Scheduled",
                &format!("Successfully assigned {ns}/{name} to {NODE}"),
                "default-scheduler",
            );
        }
    }

    fn later(&self, uid: &str, ns: &str, name: &str, stage: Stage, delay: Duration) {
        let token = (uid.to_string(), stage);
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if !pending.insert(token.clone()) {
                return;
            }
        }
        let api = self.api.clone();
        let pending = self.pending.clone();
        let stop = self.stop.clone();
        let (uid, ns, name) = (uid.to_string(), ns.to_string(), name.to_string());
        tokio::spawn(async move {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(delay) => {
                    let me = Kubelet { api, stop, pending: pending.clone() };
                    match stage {
                        Stage::Start => me.start(&ns, &name, &uid),
                        Stage::Complete => me.complete(&ns, &name, &uid),
                        Stage::Remove => me.api.remove_now(&key("", "pods"), &ns, &name, Some(&uid)),
                    }
                }
            }
            pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&token);
        });
    }

    fn start(&self, ns: &str, name: &str, uid: &str) {
        let now = meta::now_rfc3339();
        let ip = self.api.allocate_ip(false);
        let mut bad_image = None;
        let mut images = Vec::new();
        let updated = self.api.mutate(&key("", "pods"), ns, name, |p| {
            if p["metadata"]["uid"].as_str() != Some(uid)
                || !p["metadata"]["deletionTimestamp"].is_null()
                || !p["status"]["containerStatuses"].is_null()
            {
                return false;
            }
            let containers = p["spec"]["containers"].as_array().cloned().unwrap_or_default();
            let mut statuses = Vec::new();
            let mut all_ok = true;
            for c in &containers {
                let cname = c["name"].as_str().unwrap_or_default();
                let image = c["image"].as_str().unwrap_or_default();
                if let Err(why) = check_image(image) {
                    all_ok = false;
                    bad_image = Some((cname.to_string(), image.to_string(), why.clone()));
                    statuses.push(json!({
                        "name": cname, "image": image, "imageID": "", "ready": false, "restartCount": 0, "started": false,
                        "state": {"waiting": {"reason": "InvalidImageName", "message": format!("Failed to apply default image tag \"{image}\": {why}")}},
                        "lastState": {},
                    }));
                } else {
                    images.push((cname.to_string(), image.to_string()));
                    statuses.push(json!({
                        "name": cname, "image": image, "imageID": format!("{}@sha256:{}", image.split(':').next().unwrap_or(image), fake_digest(image)),
                        "containerID": format!("oplab://{}", &meta::new_uid().replace('-', "")[..24]),
                        "ready": true, "restartCount": 0, "started": true,
                        "state": {"running": {"startedAt": now}}, "lastState": {},
                    }));
                }
            }
            let ready = if all_ok { "True" } else { "False" };
            let cond = |t: &str, s: &str| json!({"type": t, "status": s, "lastProbeTime": null, "lastTransitionTime": now});
            let mut ready_cond = cond("Ready", ready);
            let mut cc_cond = cond("ContainersReady", ready);
            if !all_ok {
                for c in [&mut ready_cond, &mut cc_cond] {
                    c["reason"] = json!("ContainersNotReady");
                    c["message"] = json!(format!("containers with unready status: [{}]", bad_image.as_ref().map(|b| b.0.as_str()).unwrap_or("")));
                }
            }
            p["status"] = json!({
                "phase": if all_ok { "Running" } else { "Pending" },
                "conditions": [cond("PodReadyToStartContainers", "True"), cond("Initialized", "True"), ready_cond, cc_cond, cond("PodScheduled", "True")],
                "hostIP": "10.0.0.1",
                "hostIPs": [{"ip": "10.0.0.1"}],
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "startTime": now,
                "containerStatuses": statuses,
                "qosClass": p["status"]["qosClass"].clone(),
            });
            true
        });
        if updated.is_none() {
            return;
        }
        match bad_image {
            Some((_, image, why)) => self.event_typed(
                ns,
                name,
                uid,
                "Warning",
                "InspectFailed",
                &format!("Failed to apply default image tag \"{image}\": {why}"),
                "kubelet",
            ),
            None => {
                for (cname, image) in images {
                    self.event(
                        ns,
                        name,
                        uid,
                        "Pulled",
                        &format!(
                            "Container image \"{image}\" already present on machine (simulated)"
                        ),
                        "kubelet",
                    );
                    self.event(
                        ns,
                        name,
                        uid,
                        "Created",
                        &format!("Created container: {cname}"),
                        "kubelet",
                    );
                    self.event(
                        ns,
                        name,
                        uid,
                        "Started",
                        &format!("Started container {cname}"),
                        "kubelet",
                    );
                }
            }
        }
    }

    fn complete(&self, ns: &str, name: &str, uid: &str) {
        let now = meta::now_rfc3339();
        self.api.mutate(&key("", "pods"), ns, name, |p| {
            if p["metadata"]["uid"].as_str() != Some(uid) || p["status"]["phase"] != "Running" {
                return false;
            }
            p["status"]["phase"] = json!("Succeeded");
            for c in p["status"]["containerStatuses"].as_array_mut().into_iter().flatten() {
                let started = c["state"]["running"]["startedAt"].clone();
                c["state"] = json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": now}});
                c["ready"] = json!(false);
                c["started"] = json!(false);
            }
            for cond in p["status"]["conditions"].as_array_mut().into_iter().flatten() {
                if cond["type"] == "Ready" || cond["type"] == "ContainersReady" {
                    cond["status"] = json!("False");
                    cond["reason"] = json!("PodCompleted");
                    cond["lastTransitionTime"] = json!(now);
                }
            }
            true
        });
    }

    fn event(&self, ns: &str, name: &str, uid: &str, reason: &str, message: &str, component: &str) {
        self.event_typed(ns, name, uid, "Normal", reason, message, component);
    }

    #[allow(clippy::too_many_arguments)]
    fn event_typed(
        &self,
        ns: &str,
        name: &str,
        uid: &str,
        ty: &str,
        reason: &str,
        message: &str,
        component: &str,
    ) {
        record_event(
            &self.api,
            ns,
            json!({"kind": "Pod", "namespace": ns, "name": name, "uid": uid, "apiVersion": "v1"}),
            ty,
            reason,
            message,
            component,
        );
    }
}

/// Writes a core v1 Event about `involved`.
pub fn record_event(
    api: &Api,
    ns: &str,
    involved: Value,
    ty: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let Some(rt) = api.registry().get("", "v1", "events") else {
        return;
    };
    let now = meta::now_rfc3339();
    let object_name = involved["name"].as_str().unwrap_or("object").to_string();
    let ev = json!({
        "metadata": {"name": format!("{object_name}.{:x}", rand::random::<u64>()), "namespace": ns},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": ty,
        "source": {"component": component, "host": NODE},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "reportingComponent": component,
        "reportingInstance": NODE,
    });
    let _ = api.create(&rt, ns, ev, &WriteOpts::internal(component));
}

/// Pods that a simulated container runs to completion: those of Jobs.
fn runs_to_completion(pod: &Value) -> bool {
    pod["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|o| o["kind"] == "Job")
        && pod["spec"]["restartPolicy"].as_str() != Some("Always")
}

fn fake_digest(image: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut out = String::new();
    for i in 0..4u8 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (image, i).hash(&mut h);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// Checks an image reference the way the container runtime's parser does.
pub fn check_image(image: &str) -> Result<(), String> {
    if image.is_empty() {
        return Err("couldn't parse image name \"\": invalid reference format".into());
    }
    let bad = || format!("couldn't parse image name \"{image}\": invalid reference format");
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    if let Some(d) = digest {
        let ok = d.split_once(':').is_some_and(|(alg, hex)| {
            !alg.is_empty() && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
        });
        if !ok {
            return Err(bad());
        }
    }
    let (path, tag) = match rest.rfind(':') {
        Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !ok {
            return Err(bad());
        }
    }
    let mut parts: Vec<&str> = path.split('/').collect();
    if parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
    {
        parts.remove(0);
    }
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            })
            && c.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && c.bytes()
                .last()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if parts.is_empty() || !parts.iter().all(|c| component_ok(c)) {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_image;

    #[test]
    fn image_references() {
        for ok in [
            "nginx",
            "nginx:1.27",
            "quay.io/operator-framework/olm:v0.46.0",
            "localhost:5000/x/y:z",
            "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(check_image(ok).is_ok(), "{ok}");
        }
        for bad in [
            "Nginx",
            "nginx:",
            "nginx::1",
            "-nginx",
            "a b",
            "nginx@sha256:xyz",
        ] {
            assert!(check_image(bad).is_err(), "{bad}");
        }
    }
}
