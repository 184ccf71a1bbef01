//! `oplab classroom setup`: each attendee's namespaces, ServiceAccount, rights, token and kubeconfig.
//!
//! Rights, per attendee NAME (ServiceAccount NAME in [`CLASSROOM_NAMESPACE`]):
//! - everything in their own namespaces: the ClusterRole [`ATTENDEE_ROLE`] (`*` on `*`) bound by a
//!   RoleBinding in each of them, so it applies there only. Nothing cluster-scoped, no other
//!   attendee's namespace (not even their Namespace objects).
//! - read (get, list, watch) of what the labs' shared tasks check (instructor steps such as
//!   installing OLM and CRDs, and tasks whose check is the same for everyone), so attendees see
//!   those checks live: cluster-scoped kinds (CRDs) through the ClusterRole [`READ_ROLE`], namespaced
//!   kinds in the namespaces those steps install into (`olm`, `etcd-operator-system`) through the
//!   ClusterRole [`STEPS_READ_ROLE`] bound in each such namespace that exists. Setup run again after
//!   the instructor installed them binds the namespaces that appeared since.
//! - self access reviews (`kubectl auth can-i`, SelfSubjectReview) are open to every authenticated
//!   user by Kubernetes' default roles: nothing to add.
//!
//! Everything is applied with the apply engine: every object is checked on the server before the
//! first write, so a refused object leaves the cluster as it was. Running setup again adds missing
//! attendees and issues fresh tokens; teardown removes it all.

use super::roster::{self, Entry};
use super::{ATTENDEE_LABEL, CLASSROOM_NAMESPACE, MANAGED_BY, MANAGED_BY_LABEL};
use crate::checks::eval;
use crate::cluster::{Document, apply};
use crate::lab::{Check, Lab};
use anyhow::Context;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{GroupVersionKind, PostParams};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything in an attendee's own namespaces (bound per namespace).
pub const ATTENDEE_ROLE: &str = "oplab-attendee";
/// Read of the cluster-scoped kinds shared tasks check (bound cluster-wide).
pub const READ_ROLE: &str = "oplab-attendee-read";
/// Read of the namespaced kinds shared tasks check (bound in the instructor steps' namespaces).
pub const STEPS_READ_ROLE: &str = "oplab-attendee-instructor-steps";
/// The shortest token lifetime the TokenRequest API grants.
pub const MIN_DURATION: Duration = Duration::from_secs(600);

/// What to set up.
#[derive(Debug, Clone)]
pub struct Options {
    pub names: Vec<String>,
    /// Where the kubeconfigs go.
    pub out_dir: PathBuf,
    /// How long the tokens last.
    pub duration: Duration,
    pub labs: Vec<Lab>,
}

/// One attendee set up.
#[derive(Debug, Clone)]
pub struct Attendee {
    pub name: String,
    pub namespaces: Vec<String>,
    pub kubeconfig: PathBuf,
    /// When the token expires, as the server said.
    pub expires: Option<String>,
}

/// What setup did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub attendees: Vec<Attendee>,
    pub created: usize,
    pub configured: usize,
    pub unchanged: usize,
    /// Things the instructor should know (namespaces not there yet, kinds not served yet).
    pub notes: Vec<String>,
}

/// Attendee names from a file's text: one a line, `#` starts a comment, blank lines skipped;
/// every name is checked and duplicates are refused (all problems at once, with line numbers).
pub fn parse_names(text: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let name = line.split('#').next().unwrap_or_default().trim();
        if name.is_empty() {
            continue;
        }
        if let Err(e) = super::validate_attendee_name(name) {
            problems.push(format!("line {}: {e}", n + 1));
        } else if names.iter().any(|x| x == name) {
            problems.push(format!("line {}: `{name}` is listed twice", n + 1));
        } else {
            names.push(name.to_string());
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    if names.is_empty() {
        return Err("no attendee names (one a line; `#` starts a comment)".into());
    }
    Ok(names)
}

/// `attendee-1` … `attendee-N`.
pub fn numbered(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("attendee-{i}")).collect()
}

/// The kubeconfig's default namespace: their `gordon` one when the labs have it, else the first.
pub fn home_namespace(namespaces: &[String], name: &str) -> String {
    let gordon = format!("{name}-gordon");
    if namespaces.contains(&gordon) {
        return gordon;
    }
    namespaces.first().cloned().unwrap_or(gordon)
}

fn labels(attendee: Option<&str>) -> Value {
    let mut l = json!({ MANAGED_BY_LABEL: MANAGED_BY });
    if let Some(a) = attendee {
        l[ATTENDEE_LABEL] = json!(a);
    }
    l
}

fn doc(i: usize, object: Value) -> Document {
    Document {
        file: "classroom setup".into(),
        line: i + 1,
        object,
    }
}

fn sa_subject(name: &str) -> Value {
    json!({"kind": "ServiceAccount", "name": name, "namespace": CLASSROOM_NAMESPACE})
}

/// What the shared tasks read: cluster-scoped targets, and namespaced ones by namespace.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SharedReads {
    /// (apiVersion, kind) of targets without a namespace.
    pub cluster: BTreeSet<(String, String)>,
    /// Namespace -> (apiVersion, kind) read there.
    pub namespaced: BTreeMap<String, BTreeSet<(String, String)>>,
}

/// The reads of the shared tasks of `labs` (see [`super::board::shared_checks`]).
pub fn shared_reads(labs: &[Lab]) -> SharedReads {
    let mut out = SharedReads::default();
    let checks: Vec<Check> = super::board::shared_checks(labs);
    for key in checks.iter().flat_map(eval::keys) {
        let kind = (key.api_version.clone(), key.kind.clone());
        match key.namespace {
            None => {
                out.cluster.insert(kind);
            }
            Some(ns) => {
                out.namespaced.entry(ns).or_default().insert(kind);
            }
        }
    }
    out
}

/// A read rule for each kind the server serves; notes for the others and for kinds of the wrong scope.
async fn read_rules(
    client: &kube::Client,
    kinds: &BTreeSet<(String, String)>,
    want_cluster_scoped: bool,
    notes: &mut Vec<String>,
) -> Vec<Value> {
    let mut by_group: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (api_version, kind) in kinds {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        match kube::discovery::pinned_kind(client, &gvk).await {
            Ok((ar, caps)) => {
                let cluster = caps.scope == kube::discovery::Scope::Cluster;
                if cluster == want_cluster_scoped {
                    by_group.entry(ar.group).or_default().insert(ar.plural);
                } else {
                    notes.push(format!(
                        "{kind} is read by a shared task in all namespaces: not granted, attendees \
                         must not read other attendees' namespaces"
                    ));
                }
            }
            Err(_) => notes.push(format!(
                "the cluster does not serve {kind} ({api_version}) yet: attendees cannot read it; \
                 run setup again once it is installed"
            )),
        }
    }
    by_group
        .into_iter()
        .map(|(g, r)| json!({"apiGroups": [g], "resources": r, "verbs": ["get", "list", "watch"]}))
        .collect()
}

/// Refuses before any write: no TokenRequest API, namespaces that belong to someone else or are
/// being deleted. Setup's own namespaces are those its roster (in the classroom namespace, which
/// attendees cannot write) lists for the attendee: their labels may have been changed by the
/// attendee, and are restored (a note says so).
async fn preflight(
    client: &kube::Client,
    plan: &[(String, Vec<String>)],
    tokens: bool,
    roster: &[Entry],
    notes: &mut Vec<String>,
) -> anyhow::Result<()> {
    let core = client
        .list_core_api_resources("v1")
        .await
        .context("asking the cluster which core resources it serves")?;
    if tokens
        && !core
            .resources
            .iter()
            .any(|r| r.name == "serviceaccounts/token")
    {
        anyhow::bail!(
            "the cluster does not serve the TokenRequest API (serviceaccounts/token, Kubernetes 1.22 \
             and later), which setup needs to issue the attendees' tokens; nothing was changed. \
             Use a newer cluster"
        );
    }
    let api: kube::Api<Namespace> = kube::Api::all(client.clone());
    let mut problems = Vec::new();
    let classroom = std::iter::once((String::new(), vec![CLASSROOM_NAMESPACE.to_string()]));
    for (name, namespaces) in plan.iter().cloned().chain(classroom) {
        for ns in namespaces {
            let Some(found) = api
                .get_opt(&ns)
                .await
                .with_context(|| format!("reading namespace {ns}"))?
            else {
                continue;
            };
            if found.metadata.deletion_timestamp.is_some() {
                problems.push(format!(
                    "namespace {ns} is being deleted (a teardown still running?): wait until \
                     `kubectl get namespace {ns}` finds nothing, then run setup again"
                ));
                continue;
            }
            let l = found.metadata.labels.unwrap_or_default();
            let labelled = if name.is_empty() {
                l.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY)
            } else {
                l.get(ATTENDEE_LABEL) == Some(&name)
                    && l.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY)
            };
            let in_roster = if name.is_empty() {
                !roster.is_empty()
            } else {
                roster
                    .iter()
                    .any(|e| e.name == name && e.namespaces.contains(&ns))
            };
            if !labelled && in_roster {
                notes.push(format!(
                    "namespace {ns}: its classroom labels were changed since setup (by an apply of \
                     the attendee's?); restored"
                ));
                continue;
            }
            if !labelled && l.get(ATTENDEE_LABEL) == Some(&name) && !name.is_empty() {
                continue;
            }
            if !labelled {
                let whose = match l.get(ATTENDEE_LABEL) {
                    Some(other) => format!("belongs to attendee {other}"),
                    None => "was not made by oplab classroom".into(),
                };
                problems.push(format!(
                    "namespace {ns} exists and {whose}: delete it (kubectl delete namespace {ns}) \
                     or choose another attendee name"
                ));
            }
        }
    }
    if !problems.is_empty() {
        anyhow::bail!("nothing was changed:\n  {}", problems.join("\n  "));
    }
    Ok(())
}

/// Every object setup applies (the roster entries already merged).
async fn documents(
    client: &kube::Client,
    opts: &Options,
    plan: &[(String, Vec<String>)],
    roster: &[Entry],
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<Document>> {
    let mut objects = vec![
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": CLASSROOM_NAMESPACE, "labels": labels(None)}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": ATTENDEE_ROLE, "labels": labels(None)},
               "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
    ];
    for (name, namespaces) in plan {
        objects.push(json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": CLASSROOM_NAMESPACE, "labels": labels(Some(name))}}));
        for ns in namespaces {
            objects.push(json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "labels": labels(Some(name))}}));
            objects.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": ATTENDEE_ROLE, "namespace": ns, "labels": labels(Some(name))},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ATTENDEE_ROLE},
                "subjects": [sa_subject(name)]}));
        }
    }
    let subjects: Vec<Value> = roster.iter().map(|e| sa_subject(&e.name)).collect();
    let reads = shared_reads(&opts.labs);
    let cluster_rules = read_rules(client, &reads.cluster, true, notes).await;
    if !cluster_rules.is_empty() {
        objects.push(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": READ_ROLE, "labels": labels(None)}, "rules": cluster_rules}),
        );
        objects.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": READ_ROLE, "labels": labels(None)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": READ_ROLE},
            "subjects": subjects}));
    }
    let kinds: BTreeSet<(String, String)> = reads.namespaced.values().flatten().cloned().collect();
    let ns_rules = read_rules(client, &kinds, false, notes).await;
    if !ns_rules.is_empty() {
        objects.push(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": STEPS_READ_ROLE, "labels": labels(None)}, "rules": ns_rules}),
        );
        let api: kube::Api<Namespace> = kube::Api::all(client.clone());
        for ns in reads.namespaced.keys() {
            let exists = api
                .get_opt(ns)
                .await
                .with_context(|| format!("reading namespace {ns}"))?
                .is_some_and(|n| n.metadata.deletion_timestamp.is_none());
            if !exists {
                notes.push(format!(
                    "namespace {ns} (an instructor step installs into it) does not exist yet: run \
                     setup again after installing it, so attendees can see that step's check"
                ));
                continue;
            }
            objects.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": STEPS_READ_ROLE, "namespace": ns, "labels": labels(None)},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": STEPS_READ_ROLE},
                "subjects": subjects}));
        }
    }
    objects.push(roster::manifest(roster));
    Ok(objects
        .into_iter()
        .enumerate()
        .map(|(i, o)| doc(i, o))
        .collect())
}

/// Asks the TokenRequest API for a token of the attendee's ServiceAccount.
async fn token(
    client: &kube::Client,
    name: &str,
    duration: Duration,
) -> anyhow::Result<(String, Option<String>)> {
    let api: kube::Api<ServiceAccount> = kube::Api::namespaced(client.clone(), CLASSROOM_NAMESPACE);
    let request = TokenRequest {
        spec: TokenRequestSpec {
            expiration_seconds: Some(i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)),
            ..Default::default()
        },
        ..Default::default()
    };
    let issued = api
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .with_context(|| {
            format!("requesting a token for ServiceAccount {CLASSROOM_NAMESPACE}/{name}")
        })?;
    let status = issued
        .status
        .with_context(|| format!("the token request for {name} came back without a token"))?;
    Ok((
        status.token,
        Some(status.expiration_timestamp.0.to_string()),
    ))
}

/// Sets up every attendee of `opts` on `client`, whose cluster is `cluster` in the kubeconfigs:
/// [`create`], then a token and a kubeconfig each.
pub async fn run(
    client: &kube::Client,
    cluster: &super::kubeconfig::ClusterEntry,
    opts: &Options,
) -> anyhow::Result<Report> {
    let (mut report, entries) = create(client, opts, true).await?;
    for e in entries {
        let (token, expires) = token(client, &e.name, opts.duration).await?;
        let home = home_namespace(&e.namespaces, &e.name);
        let kc = super::kubeconfig::render(cluster, &e.name, &token, &home);
        super::kubeconfig::write(&e.kubeconfig, &kc)?;
        report.attendees.push(Attendee {
            name: e.name,
            namespaces: e.namespaces,
            kubeconfig: e.kubeconfig,
            expires,
        });
    }
    Ok(report)
}

/// Checks everything, then applies the namespaces, ServiceAccounts, RBAC and the roster (no
/// tokens: with `tokens`, refuses a cluster without the TokenRequest API first). Returns the
/// roster entries of `opts`' attendees.
pub async fn create(
    client: &kube::Client,
    opts: &Options,
    tokens: bool,
) -> anyhow::Result<(Report, Vec<Entry>)> {
    if opts.duration < MIN_DURATION {
        anyhow::bail!("--duration must be at least 10m (the shortest token the API grants)");
    }
    let out_dir = std::path::absolute(&opts.out_dir)
        .with_context(|| format!("resolving {}", opts.out_dir.display()))?;
    if out_dir.exists() && !out_dir.is_dir() {
        anyhow::bail!("{} is not a directory: pass --out DIR", out_dir.display());
    }
    let plan: Vec<(String, Vec<String>)> = opts
        .names
        .iter()
        .map(|n| (n.clone(), super::attendee_namespaces(&opts.labs, n)))
        .collect();
    if plan.iter().any(|(_, ns)| ns.is_empty()) {
        anyhow::bail!("the labs have no namespace variables: there is nothing to give attendees");
    }
    let mut report = Report::default();
    let old_roster = roster::read(client).await?;
    preflight(client, &plan, tokens, &old_roster, &mut report.notes).await?;
    let entries: Vec<Entry> = plan
        .iter()
        .map(|(name, namespaces)| Entry {
            name: name.clone(),
            kubeconfig: kubeconfig_path(&out_dir, name),
            namespaces: namespaces.clone(),
        })
        .collect();
    let roster = roster::merge(old_roster, &entries);
    let docs = documents(client, opts, &plan, &roster, &mut report.notes).await?;
    // Its own field manager, so an attendee's apply (manager `oplab`) never removes what setup
    // owns; forced, so labels an attendee changed are set back.
    let settings = apply::Settings {
        namespace: CLASSROOM_NAMESPACE.into(),
        field_manager: super::MANAGED_BY,
        force_conflicts: true,
        ..Default::default()
    };
    let applied = apply::apply(client, docs, &settings, None)
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))
        .context("applying the classroom objects (run setup again: it is safe to repeat)")?;
    report.created = applied.count(apply::Outcome::Created);
    report.configured = applied.count(apply::Outcome::Configured);
    report.unchanged = applied.count(apply::Outcome::Unchanged);
    crate::files::make_dirs(&out_dir)?;
    Ok((report, entries))
}

/// `DIR/NAME.kubeconfig`.
pub fn kubeconfig_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.kubeconfig"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_a_file() {
        let names = parse_names("# the class\nalice\n\n  bob  # late\ncarol\n").expect("names");
        assert_eq!(names, ["alice", "bob", "carol"]);
        let err = parse_names("alice\nAlice\nalice\n").expect_err("refused");
        assert!(
            err.contains("line 2") && err.contains("line 3: `alice` is listed twice"),
            "{err}"
        );
        assert!(parse_names("# nobody\n").is_err());
        assert_eq!(numbered(2), ["attendee-1", "attendee-2"]);
    }

    #[test]
    fn shared_reads_come_from_instructor_steps() {
        let set = crate::lab::load_embedded();
        let reads = shared_reads(&set.labs);
        assert!(reads.cluster.contains(&(
            "apiextensions.k8s.io/v1".to_string(),
            "CustomResourceDefinition".to_string()
        )));
        assert!(reads.namespaced.contains_key("olm"), "{reads:?}");
        assert!(
            reads.namespaced.contains_key("etcd-operator-system"),
            "{reads:?}"
        );
        assert!(
            reads
                .namespaced
                .keys()
                .all(|ns| !ns.starts_with("oplab-probe")),
            "{reads:?}"
        );
    }
}
