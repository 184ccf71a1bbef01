//! The default ClusterRoles and ClusterRoleBindings of a fresh cluster that matter to the sandbox:
//! cluster-admin, the aggregated admin/edit/view, discovery, basic-user and public-info-viewer.

use crate::sandbox::auth::rbac::GROUP;
use crate::sandbox::auth::{AUTHENTICATED, MASTERS, UNAUTHENTICATED};
use crate::sandbox::controllers::key;
use crate::sandbox::store::api::{Api, WriteOpts};
use crate::sandbox::transport::discovery::RESOURCE_VERBS;
use serde_json::{Value, json};

const RW: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const RO: &[&str] = &["get", "list", "watch"];

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resources": resources, "verbs": verbs})
}

fn urls(urls: &[&str]) -> Value {
    json!({"nonResourceURLs": urls, "verbs": ["get"]})
}

/// The label that aggregates a role into the default role `to`.
fn aggregate_label(to: &str) -> Value {
    json!({format!("rbac.authorization.k8s.io/aggregate-to-{to}"): "true"})
}

fn aggregate(to: &str) -> Value {
    json!({"clusterRoleSelectors": [{"matchLabels": aggregate_label(to)}]})
}

/// Every default ClusterRole: name, extra labels, rules, aggregation rule.
fn cluster_roles() -> Vec<(&'static str, Value, Vec<Value>, Option<Value>)> {
    vec![
        (
            "cluster-admin",
            json!({}),
            vec![
                rule(&["*"], &["*"], &["*"]),
                json!({"nonResourceURLs": ["*"], "verbs": ["*"]}),
            ],
            None,
        ),
        ("admin", json!({}), vec![], Some(aggregate("admin"))),
        (
            "edit",
            aggregate_label("admin"),
            vec![],
            Some(aggregate("edit")),
        ),
        (
            "view",
            aggregate_label("edit"),
            vec![],
            Some(aggregate("view")),
        ),
        (
            "system:aggregate-to-admin",
            aggregate_label("admin"),
            vec![
                rule(
                    &["authorization.k8s.io"],
                    &["localsubjectaccessreviews"],
                    &["create"],
                ),
                rule(&[GROUP], &["rolebindings", "roles"], RESOURCE_VERBS),
            ],
            None,
        ),
        (
            "system:aggregate-to-edit",
            aggregate_label("edit"),
            vec![
                rule(
                    &[""],
                    &[
                        "pods/attach",
                        "pods/exec",
                        "pods/portforward",
                        "pods/proxy",
                        "secrets",
                        "services/proxy",
                    ],
                    RO,
                ),
                rule(&[""], &["serviceaccounts"], &["impersonate"]),
                rule(
                    &[""],
                    &[
                        "pods",
                        "pods/attach",
                        "pods/exec",
                        "pods/portforward",
                        "pods/proxy",
                    ],
                    RW,
                ),
                rule(&[""], &["pods/eviction"], &["create"]),
                rule(
                    &[""],
                    &[
                        "configmaps",
                        "events",
                        "persistentvolumeclaims",
                        "replicationcontrollers",
                        "replicationcontrollers/scale",
                        "secrets",
                        "serviceaccounts",
                        "services",
                        "services/proxy",
                    ],
                    RW,
                ),
                rule(&[""], &["serviceaccounts/token"], &["create"]),
                rule(
                    &["apps"],
                    &[
                        "daemonsets",
                        "deployments",
                        "deployments/rollback",
                        "deployments/scale",
                        "replicasets",
                        "replicasets/scale",
                        "statefulsets",
                        "statefulsets/scale",
                    ],
                    RW,
                ),
                rule(&["autoscaling"], &["horizontalpodautoscalers"], RW),
                rule(&["batch"], &["cronjobs", "jobs"], RW),
                rule(
                    &["networking.k8s.io"],
                    &["ingresses", "networkpolicies"],
                    RW,
                ),
                rule(&["policy"], &["poddisruptionbudgets"], RW),
                rule(&["coordination.k8s.io"], &["leases"], RESOURCE_VERBS),
            ],
            None,
        ),
        (
            "system:aggregate-to-view",
            aggregate_label("view"),
            vec![
                rule(
                    &[""],
                    &[
                        "configmaps",
                        "endpoints",
                        "persistentvolumeclaims",
                        "persistentvolumeclaims/status",
                        "pods",
                        "replicationcontrollers",
                        "replicationcontrollers/scale",
                        "serviceaccounts",
                        "services",
                        "services/status",
                    ],
                    RO,
                ),
                rule(
                    &[""],
                    &[
                        "bindings",
                        "events",
                        "limitranges",
                        "namespaces/status",
                        "pods/log",
                        "pods/status",
                        "replicationcontrollers/status",
                        "resourcequotas",
                        "resourcequotas/status",
                    ],
                    RO,
                ),
                rule(&[""], &["namespaces"], RO),
                rule(&["discovery.k8s.io"], &["endpointslices"], RO),
                rule(
                    &["apps"],
                    &[
                        "controllerrevisions",
                        "daemonsets",
                        "daemonsets/status",
                        "deployments",
                        "deployments/scale",
                        "deployments/status",
                        "replicasets",
                        "replicasets/scale",
                        "replicasets/status",
                        "statefulsets",
                        "statefulsets/scale",
                        "statefulsets/status",
                    ],
                    RO,
                ),
                rule(
                    &["autoscaling"],
                    &[
                        "horizontalpodautoscalers",
                        "horizontalpodautoscalers/status",
                    ],
                    RO,
                ),
                rule(
                    &["batch"],
                    &["cronjobs", "cronjobs/status", "jobs", "jobs/status"],
                    RO,
                ),
                rule(
                    &["policy"],
                    &["poddisruptionbudgets", "poddisruptionbudgets/status"],
                    RO,
                ),
                rule(
                    &["networking.k8s.io"],
                    &["ingresses", "ingresses/status", "networkpolicies"],
                    RO,
                ),
                rule(&["events.k8s.io"], &["events"], RO),
            ],
            None,
        ),
        (
            "system:discovery",
            json!({}),
            vec![urls(&[
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/healthz",
                "/livez",
                "/openapi",
                "/openapi/*",
                "/readyz",
                "/version",
                "/version/",
            ])],
            None,
        ),
        (
            "system:basic-user",
            json!({}),
            vec![
                rule(
                    &["authorization.k8s.io"],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                    &["create"],
                ),
                rule(
                    &["authentication.k8s.io"],
                    &["selfsubjectreviews"],
                    &["create"],
                ),
            ],
            None,
        ),
        (
            "system:public-info-viewer",
            json!({}),
            vec![urls(&[
                "/healthz",
                "/livez",
                "/readyz",
                "/version",
                "/version/",
            ])],
            None,
        ),
    ]
}

/// Default ClusterRoleBindings: name (also the role's), groups bound.
const BINDINGS: &[(&str, &[&str])] = &[
    ("cluster-admin", &[MASTERS]),
    ("system:discovery", &[AUTHENTICATED]),
    ("system:basic-user", &[AUTHENTICATED]),
    (
        "system:public-info-viewer",
        &[AUTHENTICATED, UNAUTHENTICATED],
    ),
];

fn metadata(name: &str, labels: &Value) -> Value {
    let mut all = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
    if let (Some(all), Some(extra)) = (all.as_object_mut(), labels.as_object()) {
        all.extend(extra.clone());
    }
    json!({
        "name": name,
        "labels": all,
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
    })
}

/// Creates the default roles and bindings that do not exist yet (a restored state keeps its own).
pub fn run(api: &Api) {
    let opts = WriteOpts::internal("kube-apiserver");
    let reg = api.registry();
    let (roles_rt, bindings_rt) = (
        reg.get(GROUP, "v1", "clusterroles"),
        reg.get(GROUP, "v1", "clusterrolebindings"),
    );
    drop(reg);
    let (Some(roles_rt), Some(bindings_rt)) = (roles_rt, bindings_rt) else {
        return;
    };
    for (name, labels, rules, aggregation) in cluster_roles() {
        if api
            .store
            .get(&key(GROUP, "clusterroles"), "", name)
            .is_some()
        {
            continue;
        }
        let mut role = json!({"metadata": metadata(name, &labels), "rules": rules});
        if let Some(a) = aggregation {
            role["aggregationRule"] = a;
        }
        if let Err(e) = api.create(&roles_rt, "", role, &opts) {
            tracing::warn!("sandbox: creating the default ClusterRole {name} failed: {e}");
        }
    }
    for (name, groups) in BINDINGS {
        if api
            .store
            .get(&key(GROUP, "clusterrolebindings"), "", name)
            .is_some()
        {
            continue;
        }
        let subjects: Vec<Value> = groups
            .iter()
            .map(|g| json!({"apiGroup": GROUP, "kind": "Group", "name": g}))
            .collect();
        let binding = json!({
            "metadata": metadata(name, &json!({})),
            "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": name},
            "subjects": subjects,
        });
        if let Err(e) = api.create(&bindings_rt, "", binding, &opts) {
            tracing::warn!("sandbox: creating the default ClusterRoleBinding {name} failed: {e}");
        }
    }
    crate::sandbox::controllers::aggregation::reconcile_all(api);
}
