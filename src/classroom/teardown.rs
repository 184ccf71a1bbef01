//! `oplab classroom teardown`: removes what setup created (and the namespaces attendees labelled
//! as theirs), then waits until the namespaces are gone.

use super::roster::{self, Entry};
use super::{ATTENDEE_LABEL, MANAGED_BY, MANAGED_BY_LABEL};
use anyhow::Context;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
use kube::api::{DeleteParams, ListParams};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What teardown will remove (found by the labels setup and the attendee side put on it).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub namespaces: Vec<String>,
    pub cluster_roles: Vec<String>,
    pub cluster_role_bindings: Vec<String>,
    /// `namespace/name` of bindings outside the namespaces removed (the instructor steps' ones).
    pub role_bindings: Vec<(String, String)>,
    /// Kubeconfig files the roster names that still exist and are attendee kubeconfigs.
    pub files: Vec<PathBuf>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty()
            && self.cluster_roles.is_empty()
            && self.cluster_role_bindings.is_empty()
            && self.role_bindings.is_empty()
            && self.files.is_empty()
    }

    /// One line per kind of thing, for the confirmation and the report.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut line = |what: &str, items: Vec<String>| {
            if !items.is_empty() {
                out.push(format!("{} {what}: {}", items.len(), items.join(", ")));
            }
        };
        line("namespaces", self.namespaces.clone());
        line("cluster roles", self.cluster_roles.clone());
        line("cluster role bindings", self.cluster_role_bindings.clone());
        line(
            "role bindings",
            self.role_bindings
                .iter()
                .map(|(ns, n)| format!("{ns}/{n}"))
                .collect(),
        );
        line(
            "kubeconfig files",
            self.files.iter().map(|p| p.display().to_string()).collect(),
        );
        out
    }
}

fn managed() -> ListParams {
    ListParams::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY}"))
}

/// Whether `path` is a kubeconfig setup wrote for `name` (its current context is `oplab-NAME`).
fn is_attendee_kubeconfig(path: &std::path::Path, name: &str) -> bool {
    kube::config::Kubeconfig::read_from(path).is_ok_and(|k| {
        k.current_context.as_deref() == Some(super::kubeconfig::context_name(name).as_str())
    })
}

/// The names of the cluster-wide objects of kind `K` setup made (`what` names them in an error).
async fn managed_names<K>(client: &kube::Client, what: &str) -> anyhow::Result<Vec<String>>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let api: kube::Api<K> = kube::Api::all(client.clone());
    Ok(api
        .list(&managed())
        .await
        .with_context(|| format!("listing the classroom {what}"))?
        .items
        .into_iter()
        .filter_map(|o| o.meta().name.clone())
        .collect())
}

/// Finds everything to remove.
pub async fn plan(client: &kube::Client) -> anyhow::Result<Plan> {
    let roster: Vec<Entry> = roster::read(client).await.unwrap_or_default();
    let nss: kube::Api<Namespace> = kube::Api::all(client.clone());
    let mut namespaces: Vec<String> = Vec::new();
    for lp in [managed(), ListParams::default().labels(ATTENDEE_LABEL)] {
        let list = nss
            .list(&lp)
            .await
            .context("listing the classroom namespaces")?;
        namespaces.extend(list.items.into_iter().filter_map(|n| n.metadata.name));
    }
    // The roster names every attendee namespace setup made, labels or not (an attendee may have
    // changed their namespace's labels).
    for ns in roster.iter().flat_map(|e| e.namespaces.iter()) {
        if !namespaces.contains(ns)
            && nss
                .get_opt(ns)
                .await
                .with_context(|| format!("reading namespace {ns}"))?
                .is_some()
        {
            namespaces.push(ns.clone());
        }
    }
    namespaces.sort();
    namespaces.dedup();
    let cluster_roles = managed_names::<ClusterRole>(client, "cluster roles").await?;
    let cluster_role_bindings =
        managed_names::<ClusterRoleBinding>(client, "cluster role bindings").await?;
    let rbs: kube::Api<RoleBinding> = kube::Api::all(client.clone());
    let role_bindings = rbs
        .list(&managed())
        .await
        .context("listing the classroom role bindings")?
        .items
        .into_iter()
        .filter_map(|r| Some((r.metadata.namespace?, r.metadata.name?)))
        .filter(|(ns, _)| !namespaces.contains(ns))
        .collect();
    let files = roster
        .iter()
        .filter(|e| is_attendee_kubeconfig(&e.kubeconfig, &e.name))
        .map(|e| e.kubeconfig.clone())
        .collect();
    Ok(Plan {
        namespaces,
        cluster_roles,
        cluster_role_bindings,
        role_bindings,
        files,
    })
}

/// What teardown did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub removed: Plan,
    /// Namespaces still there when the wait ended, with their phase.
    pub remaining: Vec<String>,
}

/// Why a namespace is still there: its phase, and the conditions and finalizers that hold it.
pub fn why_left(n: &Namespace) -> String {
    let status = n.status.clone().unwrap_or_default();
    let mut why = vec![status.phase.unwrap_or_else(|| "Active".into())];
    for c in status.conditions.unwrap_or_default() {
        if c.status == "True" {
            why.push(match c.message {
                Some(m) => format!("{}: {m}", c.type_),
                None => c.type_,
            });
        }
    }
    let finalizers = n
        .spec
        .as_ref()
        .and_then(|s| s.finalizers.clone())
        .unwrap_or_default();
    if !finalizers.is_empty() && why.len() == 1 {
        why.push(format!("waiting for finalizers {}", finalizers.join(", ")));
    }
    if let Some(f) = n.metadata.finalizers.as_ref().filter(|f| !f.is_empty()) {
        why.push(format!("metadata finalizers {}", f.join(", ")));
    }
    why.join("; ")
}

fn gone(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// Removes everything of `plan`, then waits at most `timeout` for the namespaces to go.
pub async fn run(client: &kube::Client, plan: Plan, timeout: Duration) -> anyhow::Result<Report> {
    let dp = DeleteParams::background();
    let nss: kube::Api<Namespace> = kube::Api::all(client.clone());
    for ns in &plan.namespaces {
        if let Err(e) = nss.delete(ns, &dp).await
            && !gone(&e)
        {
            return Err(e).with_context(|| format!("deleting namespace {ns}"));
        }
    }
    for (ns, name) in &plan.role_bindings {
        let api: kube::Api<RoleBinding> = kube::Api::namespaced(client.clone(), ns);
        if let Err(e) = api.delete(name, &dp).await
            && !gone(&e)
        {
            return Err(e).with_context(|| format!("deleting role binding {ns}/{name}"));
        }
    }
    let crbs: kube::Api<ClusterRoleBinding> = kube::Api::all(client.clone());
    for name in &plan.cluster_role_bindings {
        if let Err(e) = crbs.delete(name, &dp).await
            && !gone(&e)
        {
            return Err(e).with_context(|| format!("deleting cluster role binding {name}"));
        }
    }
    let crs: kube::Api<ClusterRole> = kube::Api::all(client.clone());
    for name in &plan.cluster_roles {
        if let Err(e) = crs.delete(name, &dp).await
            && !gone(&e)
        {
            return Err(e).with_context(|| format!("deleting cluster role {name}"));
        }
    }
    for f in &plan.files {
        match std::fs::remove_file(f) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", f.display())),
        }
    }
    let deadline = Instant::now() + timeout;
    let mut remaining = plan.namespaces.clone();
    loop {
        let mut still = Vec::new();
        for ns in &remaining {
            if let Some(n) = nss
                .get_opt(ns)
                .await
                .with_context(|| format!("reading namespace {ns}"))?
            {
                still.push(format!("{ns} ({})", why_left(&n)));
            }
        }
        remaining = still
            .iter()
            .filter_map(|s| s.split(' ').next().map(str::to_string))
            .collect();
        // the roster (in the classroom namespace) goes with it: the plan was read before
        if still.is_empty() || Instant::now() >= deadline {
            return Ok(Report {
                removed: plan,
                remaining: still,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
