//! The Job controller: pods that run to completion (completions, parallelism, backoffLimit), the Job's
//! status counters and its SuccessCriteriaMet/Complete (or FailureTarget/Failed) conditions.

use super::key;
use super::workload::{self as w, is_active, is_ready};
use crate::sandbox::meta;
use crate::sandbox::store::api::Api;
use serde_json::{Value, json};

fn finished(job: &Value) -> bool {
    job["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True")
}

/// Reconciles one Job.
pub fn reconcile(api: &Api, ns: &str, name: &str) {
    let Some(job) = api.store.get(&key("batch", "jobs"), ns, name) else {
        return;
    };
    if w::is_deleting(&job) {
        return;
    }
    let pods = w::owned(api, &job, "", "pods");
    let phase = |p: &Value, ph: &str| p["status"]["phase"] == ph;
    let succeeded = pods.iter().filter(|p| phase(p, "Succeeded")).count() as i64;
    let failed = pods.iter().filter(|p| phase(p, "Failed")).count() as i64;
    let succeeded = succeeded.max(job["status"]["succeeded"].as_i64().unwrap_or(0));
    let failed = failed.max(job["status"]["failed"].as_i64().unwrap_or(0));
    let active: Vec<_> = pods.iter().filter(|p| is_active(p)).collect();
    let completions = job["spec"]["completions"].as_i64().unwrap_or(1);
    let parallelism = job["spec"]["parallelism"].as_i64().unwrap_or(1);
    let backoff = job["spec"]["backoffLimit"].as_i64().unwrap_or(6);
    let suspended = job["spec"]["suspend"] == true;
    let done = succeeded >= completions;
    let failing = failed > backoff;
    let was_finished = finished(&job);
    if !was_finished && !done && !failing && !suspended {
        let want = parallelism.min(completions - succeeded).max(0);
        let uid = job["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let labels = [
            ("batch.kubernetes.io/controller-uid", uid.clone()),
            ("batch.kubernetes.io/job-name", name.to_string()),
            ("controller-uid", uid),
            ("job-name", name.to_string()),
        ];
        let owner = w::controller_ref(&job, "batch/v1", "Job");
        for _ in active.len() as i64..want {
            let pod_name = format!("{name}-{}", w::random_suffix());
            w::create_pod(
                api,
                ns,
                &pod_name,
                &job["spec"]["template"],
                &labels,
                owner.clone(),
                |_| {},
                "job-controller",
            );
        }
    } else if done || failing || suspended {
        for p in &active {
            w::delete_pod(api, ns, p);
        }
    }
    let pods = w::owned(api, &job, "", "pods");
    let active: Vec<_> = pods.iter().filter(|p| is_active(p)).collect();
    let old = &job["status"];
    let now = meta::now_rfc3339();
    let mut status = json!({
        "startTime": if old["startTime"].is_null() { json!(now) } else { old["startTime"].clone() },
        "active": active.len(),
        "ready": active.iter().filter(|p| is_ready(p)).count(),
        "succeeded": succeeded,
        "failed": failed,
        "terminating": pods.iter().filter(|p| w::is_deleting(p)).count(),
        "uncountedTerminatedPods": {},
    });
    if suspended {
        status["startTime"] = old["startTime"].clone();
    }
    if was_finished {
        status["conditions"] = old["conditions"].clone();
        status["completionTime"] = old["completionTime"].clone();
    } else if done {
        let c = |t: &str| json!({"type": t, "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods", "lastProbeTime": now, "lastTransitionTime": now});
        status["conditions"] = json!([c("SuccessCriteriaMet"), c("Complete")]);
        status["completionTime"] = json!(now);
    } else if failing {
        let c = |t: &str| json!({"type": t, "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit", "lastProbeTime": now, "lastTransitionTime": now});
        status["conditions"] = json!([c("FailureTarget"), c("Failed")]);
    }
    if let Some(obj) = status.as_object_mut() {
        obj.retain(|k, v| {
            !v.is_null()
                && (k == "uncountedTerminatedPods"
                    || k == "startTime"
                    || k == "ready"
                    || k == "terminating"
                    || v != &json!(0))
        });
    }
    w::set_status(api, "batch", "jobs", &job, status);
}

/// A pod changed: its Job reconciles.
pub fn on_pod(api: &Api, pod: &Value) {
    if let Some(("Job", job)) = w::controller_of(pod) {
        let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
        reconcile(api, ns, job);
    }
}
