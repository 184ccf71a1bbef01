//! The pure part of a reconcile: from the observed pods and the wanted count, which pods to delete and how
//! many to create; and the status that describes the result.

use super::types::{Condition, GordonStatus};
use k8s_openapi::api::core::v1::Pod;

/// What the operator needs to know about one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodView {
    pub name: String,
    pub uid: String,
    /// Creation time in nanoseconds since the epoch; 0 when unknown.
    pub created: i128,
    pub state: PodState,
}

/// Where a pod is in its life, as far as replica counting goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodState {
    /// Has a deletionTimestamp: already going, ignored.
    Terminating,
    /// Failed or Succeeded: never runs again, to be replaced.
    Finished,
    /// Not (yet) ready: Pending, or Running with a container not ready.
    NotReady,
    /// Ready condition True.
    Ready,
}

impl PodView {
    pub fn from_pod(pod: &Pod) -> Option<Self> {
        let meta = &pod.metadata;
        let status = pod.status.as_ref();
        let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
        let ready = status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        let state = if meta.deletion_timestamp.is_some() {
            PodState::Terminating
        } else if phase == "Failed" || phase == "Succeeded" {
            PodState::Finished
        } else if ready && phase == "Running" {
            PodState::Ready
        } else {
            PodState::NotReady
        };
        Some(Self {
            name: meta.name.clone()?,
            uid: meta.uid.clone().unwrap_or_default(),
            created: meta
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.as_nanosecond())
                .unwrap_or_default(),
            state,
        })
    }

    /// Counts towards the replicas (neither terminating nor finished).
    pub fn active(&self) -> bool {
        matches!(self.state, PodState::NotReady | PodState::Ready)
    }
}

/// What one reconcile does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Failed/Succeeded pods to delete (they are replaced through `create`).
    pub replace: Vec<PodView>,
    /// Active pods above the wanted count: not-ready first, then newest first.
    pub surplus: Vec<PodView>,
    /// How many pods to create.
    pub create: usize,
}

/// Decides what to do; never plans more active pods than `want`.
pub fn plan(want: usize, pods: &[PodView]) -> Plan {
    let replace: Vec<PodView> = pods
        .iter()
        .filter(|p| p.state == PodState::Finished)
        .cloned()
        .collect();
    let mut active: Vec<&PodView> = pods.iter().filter(|p| p.active()).collect();
    let create = want.saturating_sub(active.len());
    let mut surplus = Vec::new();
    if active.len() > want {
        // not ready before ready, then newest (latest creation, then name) first
        active.sort_by(|a, b| {
            (a.state == PodState::Ready)
                .cmp(&(b.state == PodState::Ready))
                .then_with(|| b.created.cmp(&a.created))
                .then_with(|| b.name.cmp(&a.name))
        });
        surplus = active[..active.len() - want]
            .iter()
            .map(|p| (*p).clone())
            .collect();
    }
    Plan {
        replace,
        surplus,
        create,
    }
}

/// The status for the pods that remain after a reconcile; keeps the Ready condition's
/// lastTransitionTime when its status did not change, and the other conditions as they are.
pub fn status_for(
    want: i64,
    remaining: &[PodView],
    generation: Option<i64>,
    old: Option<&GordonStatus>,
    now: &str,
) -> GordonStatus {
    let mut names: Vec<String> = remaining
        .iter()
        .filter(|p| p.active())
        .map(|p| p.name.clone())
        .collect();
    names.sort();
    let ready = remaining
        .iter()
        .filter(|p| p.state == PodState::Ready)
        .count() as i64;
    let is_ready = ready == want;
    let status = if is_ready { "True" } else { "False" };
    let old_ready = old.and_then(|o| o.condition("Ready"));
    let last_transition_time = match old_ready {
        Some(c) if c.status == status && c.last_transition_time.is_some() => {
            c.last_transition_time.clone()
        }
        _ => Some(now.to_string()),
    };
    let condition = Condition {
        type_: "Ready".into(),
        status: status.into(),
        reason: Some(
            if is_ready {
                "PodsReady"
            } else {
                "PodsNotReady"
            }
            .into(),
        ),
        message: Some(format!("{ready}/{want} gordon pods ready")),
        last_transition_time,
        observed_generation: generation,
    };
    let mut conditions: Vec<Condition> = old
        .map(|o| {
            o.conditions
                .iter()
                .filter(|c| c.type_ != "Ready")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    conditions.push(condition);
    GordonStatus {
        replicas: Some(names.len() as i64),
        ready_replicas: Some(ready),
        pods: Some(names),
        observed_generation: generation,
        conditions,
    }
}

/// The status when the spec cannot be acted on (e.g. replicas missing or negative).
pub fn invalid_status(
    why: &str,
    remaining: &[PodView],
    generation: Option<i64>,
    old: Option<&GordonStatus>,
    now: &str,
) -> GordonStatus {
    let mut st = status_for(-1, remaining, generation, old, now);
    if let Some(c) = st.conditions.iter_mut().find(|c| c.type_ == "Ready") {
        c.reason = Some("InvalidSpec".into());
        c.message = Some(why.to_string());
    }
    st
}

/// True when writing `new` over `old` would change nothing the operator owns.
pub fn same_status(old: Option<&GordonStatus>, new: &GordonStatus) -> bool {
    let Some(old) = old else { return false };
    let mut a = old.clone();
    a.conditions.sort_by(|x, y| x.type_.cmp(&y.type_));
    let mut b = new.clone();
    b.conditions.sort_by(|x, y| x.type_.cmp(&y.type_));
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, created: i128, state: PodState) -> PodView {
        PodView {
            name: name.into(),
            uid: format!("uid-{name}"),
            created,
            state,
        }
    }

    #[test]
    fn creates_missing_and_replaces_finished() {
        let pods = [
            pod("a", 1, PodState::Ready),
            pod("b", 2, PodState::Finished),
            pod("c", 3, PodState::Terminating),
        ];
        let p = plan(3, &pods);
        assert_eq!(p.create, 2);
        assert_eq!(p.replace.len(), 1);
        assert_eq!(p.replace[0].name, "b");
        assert!(p.surplus.is_empty());
    }

    #[test]
    fn surplus_is_not_ready_then_newest() {
        let pods = [
            pod("old", 1, PodState::Ready),
            pod("new", 4, PodState::Ready),
            pod("mid", 2, PodState::Ready),
            pod("pending", 0, PodState::NotReady),
            pod("gone", 9, PodState::Terminating),
        ];
        let p = plan(1, &pods);
        let names: Vec<&str> = p.surplus.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["pending", "new", "mid"]);
        assert_eq!(p.create, 0);
        assert!(plan(0, &pods).surplus.len() == 4);
    }

    #[test]
    fn status_keeps_transition_time_and_detects_no_op() {
        let pods = [
            pod("a", 1, PodState::Ready),
            pod("b", 2, PodState::NotReady),
        ];
        let s1 = status_for(2, &pods, Some(1), None, "t1");
        assert_eq!(s1.replicas, Some(2));
        assert_eq!(s1.ready_replicas, Some(1));
        let c = s1.condition("Ready").expect("ready condition");
        assert_eq!(
            (c.status.as_str(), c.last_transition_time.as_deref()),
            ("False", Some("t1"))
        );
        let s2 = status_for(2, &pods, Some(1), Some(&s1), "t2");
        assert!(same_status(Some(&s1), &s2));
        let pods = [pod("a", 1, PodState::Ready), pod("b", 2, PodState::Ready)];
        let s3 = status_for(2, &pods, Some(1), Some(&s2), "t3");
        assert!(!same_status(Some(&s2), &s3));
        let c = s3.condition("Ready").expect("ready condition");
        assert_eq!(
            (c.status.as_str(), c.last_transition_time.as_deref()),
            ("True", Some("t3"))
        );
    }
}
