//! RBAC in the sandbox over real HTTPS: ServiceAccount tokens (TokenRequest, `kubectl create token`, legacy
//! Secrets, revocation by uid, kept across restarts), Roles and bindings enforced with the real 403 texts,
//! aggregation, escalation prevention, discovery for everyone, `kubectl auth can-i` and `whoami`.

use crate::common;

use common::*;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, ServiceAccount};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchParams};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

/// Applies YAML as the admin.
fn apply(tc: &TestCluster, yaml: &str) {
    ok(tc.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], yaml));
}

/// Namespaces, each with its `default` ServiceAccount ready.
async fn namespaces(tc: &TestCluster, names: &[&str]) {
    for ns in names {
        ok(tc.kubectl(&["create", "namespace", ns]));
    }
    let client = tc.client().await;
    for ns in names {
        let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
        let mut found = false;
        for _ in 0..100 {
            if sas.get_opt("default").await.ok().flatten().is_some() {
                found = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(found, "the default ServiceAccount of {ns} appears");
    }
}

/// A kubeconfig of the ServiceAccount `ns/sa`, written beside the admin's.
fn sa_kubeconfig(tc: &TestCluster, ns: &str, sa: &str) -> PathBuf {
    let path = tc.dir.path().join(format!("kc-{ns}-{sa}"));
    let kc = tc.sandbox.kubeconfig_for(ns, sa).expect("SA kubeconfig");
    std::fs::write(&path, kc).expect("write kubeconfig");
    path
}

/// kube-apiserver's RBAC refusal: `what` (`pods`, `pods "p"`) is forbidden to `user` doing `verb` on
/// `resource` of API `group`, in namespace `ns` or (None) at the cluster scope.
fn refusal(
    what: &str,
    user: &str,
    verb: &str,
    resource: &str,
    group: &str,
    ns: Option<&str>,
) -> String {
    let scope = match ns {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    format!(
        "{what} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" {scope}"
    )
}

/// Asserts a kubectl failure whose stderr carries exactly this server message.
#[track_caller]
fn forbidden(o: Output, message: &str) {
    assert!(!o.status.success(), "expected a refusal: {}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains(message), "stderr: {err}\nexpected: {message}");
}

/// The Status of a failed kube-rs call.
#[track_caller]
fn status<T: std::fmt::Debug>(r: Result<T, kube::Error>) -> (u16, String) {
    match r {
        Err(kube::Error::Api(s)) => (s.code, s.message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn user(ns: &str, sa: &str) -> String {
    format!("system:serviceaccount:{ns}:{sa}")
}

const POD: &str = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"#;

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}))
        .expect("pod")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_requests_via_kube_rs_and_kubectl() {
    let tc = TestCluster::start().await;
    namespaces(&tc, &["alice"]).await;
    let admin = tc.client().await;
    let sas: Api<ServiceAccount> = Api::namespaced(admin.clone(), "alice");
    let request = |seconds: Option<i64>, audiences: Vec<String>| TokenRequest {
        spec: TokenRequestSpec {
            audiences,
            expiration_seconds: seconds,
            ..Default::default()
        },
        ..Default::default()
    };
    let before = jiff::Timestamp::now();
    let tr = sas
        .create_token_request("default", &PostParams::default(), &request(None, vec![]))
        .await
        .expect("token request");
    assert_eq!(tr.spec.expiration_seconds, Some(3600));
    assert_eq!(
        tr.spec.audiences,
        ["https://kubernetes.default.svc.cluster.local"]
    );
    let issued = tr.status.expect("status");
    let expires = issued.expiration_timestamp.0.as_second() - before.as_second();
    assert!((3599..=3601).contains(&expires), "expires in {expires} s");
    // The token authenticates as the ServiceAccount.
    let kc = tc.dir.path().join("kc-token");
    std::fs::write(
        &kc,
        oplab::sandbox::kubeconfig::render(
            &tc.sandbox.url,
            &tc.sandbox.ca_pem,
            &issued.token,
            "alice",
        ),
    )
    .expect("kubeconfig");
    let who = ok(tc.kubectl_as(&kc, &["auth", "whoami", "-o", "json"]));
    let who: serde_json::Value = serde_json::from_str(&who).expect("json");
    assert_eq!(
        who["status"]["userInfo"]["username"],
        user("alice", "default")
    );
    assert_eq!(
        who["status"]["userInfo"]["groups"],
        json!([
            "system:serviceaccounts",
            "system:serviceaccounts:alice",
            "system:authenticated"
        ])
    );

    // Bounds and errors as kube-apiserver.
    let (code, msg) = status(
        sas.create_token_request(
            "default",
            &PostParams::default(),
            &request(Some(60), vec![]),
        )
        .await,
    );
    assert_eq!(code, 422);
    assert_eq!(
        msg,
        "TokenRequest.authentication.k8s.io \"default\" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"
    );
    let (code, msg) = status(
        sas.create_token_request("nobody", &PostParams::default(), &request(None, vec![]))
            .await,
    );
    assert_eq!(
        (code, msg.as_str()),
        (404, "serviceaccounts \"nobody\" not found")
    );
    // Audiences are echoed; a token for another audience does not authenticate to the API server.
    let tr = sas
        .create_token_request(
            "default",
            &PostParams::default(),
            &request(Some(7200), vec!["vault".into()]),
        )
        .await
        .expect("token for vault");
    assert_eq!(tr.spec.audiences, ["vault"]);
    assert_eq!(tr.spec.expiration_seconds, Some(7200));
    let other = tr.status.expect("status").token;
    let o = tc.kubectl_as(&kc, &["--token", &other, "auth", "whoami"]);
    assert!(
        stderr(&o).contains("Unauthorized"),
        "a vault token is refused: {}",
        stderr(&o)
    );

    // kubectl create token, with its --duration.
    let token = ok(tc.kubectl(&[
        "create",
        "token",
        "default",
        "-n",
        "alice",
        "--duration",
        "20m",
    ]));
    let out = ok(tc.kubectl_as(
        &kc,
        &[
            "--token",
            token.trim(),
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ],
    ));
    assert_eq!(out, user("alice", "default"));
    let o = tc.kubectl(&[
        "create",
        "token",
        "default",
        "-n",
        "alice",
        "--duration",
        "1m",
    ]);
    assert!(
        stderr(&o).contains("may not specify a duration less than 10 minutes"),
        "{}",
        stderr(&o)
    );
    // The subresource is in discovery as on a real server.
    let v1: serde_json::Value =
        serde_json::from_str(&ok(tc.kubectl(&["get", "--raw", "/api/v1"]))).expect("json");
    let token_sub = v1["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "serviceaccounts/token")
        .expect("serviceaccounts/token in discovery");
    assert_eq!(token_sub["verbs"], json!(["create"]));
    assert_eq!(token_sub["kind"], "TokenRequest");
    assert_eq!(token_sub["group"], "authentication.k8s.io");
}

const ALICE_POD_ROLE: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-manager, namespace: alice}
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "create", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: pod-manager, namespace: alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-manager}
subjects:
- {kind: ServiceAccount, name: default, namespace: alice}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_role_grants_its_namespace_only_with_the_real_403_texts() {
    let tc = TestCluster::start().await;
    namespaces(&tc, &["alice", "bob"]).await;
    apply(&tc, ALICE_POD_ROLE);
    let admin = tc.client().await;
    Api::<Pod>::namespaced(admin.clone(), "bob")
        .create(&PostParams::default(), &pod("theirs"))
        .await
        .expect("bob's pod");
    let alice = tc
        .sandbox
        .client_as("alice", "default")
        .await
        .expect("client");
    let mine: Api<Pod> = Api::namespaced(alice.clone(), "alice");
    mine.create(&PostParams::default(), &pod("mine"))
        .await
        .expect("create in alice");
    assert_eq!(
        mine.list(&ListParams::default())
            .await
            .expect("list")
            .items
            .len(),
        1
    );
    mine.get("mine").await.expect("get");
    mine.delete("mine", &Default::default())
        .await
        .expect("delete");

    let u = user("alice", "default");
    let theirs: Api<Pod> = Api::namespaced(alice.clone(), "bob");
    let in_bob = |verb: &str, name: Option<&str>| {
        let what = match name {
            Some(n) => format!("pods \"{n}\""),
            None => "pods".to_string(),
        };
        refusal(&what, &u, verb, "pods", "", Some("bob"))
    };
    assert_eq!(
        status(theirs.get("theirs").await),
        (403, in_bob("get", Some("theirs")))
    );
    assert_eq!(
        status(theirs.list(&ListParams::default()).await),
        (403, in_bob("list", None))
    );
    assert_eq!(
        status(theirs.watch(&WatchParams::default(), "0").await.map(|_| ())),
        (403, in_bob("watch", None))
    );
    assert_eq!(
        status(theirs.create(&PostParams::default(), &pod("x")).await),
        (403, in_bob("create", None))
    );
    assert_eq!(
        status(
            theirs
                .delete("theirs", &Default::default())
                .await
                .map(|_| ())
        ),
        (403, in_bob("delete", Some("theirs")))
    );
    let everywhere: Api<Pod> = Api::all(alice.clone());
    assert_eq!(
        status(everywhere.list(&ListParams::default()).await),
        (403, refusal("pods", &u, "list", "pods", "", None))
    );
    // The same through kubectl, with the Status details.
    let kc = sa_kubeconfig(&tc, "alice", "default");
    forbidden(
        tc.kubectl_as(&kc, &["get", "pods", "-n", "bob"]),
        &in_bob("list", None),
    );
    forbidden(
        tc.kubectl_as(&kc, &["get", "deployments", "-n", "alice"]),
        &refusal(
            "deployments.apps",
            &u,
            "list",
            "deployments",
            "apps",
            Some("alice"),
        ),
    );
    ok(tc.kubectl_as(&kc, &["get", "pods"]));
    // Bob is untouched; the admin is not subject to RBAC.
    assert!(
        Api::<Pod>::namespaced(admin, "bob")
            .get("theirs")
            .await
            .is_ok()
    );
    // A binding to a missing role: the resolution error is part of the reason.
    apply(
        &tc,
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dangling, namespace: bob}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: gone}
subjects: [{kind: ServiceAccount, name: default, namespace: alice}]
"#,
    );
    assert_eq!(
        status(theirs.list(&ListParams::default()).await),
        (
            403,
            format!(
                "{}: RBAC: role.rbac.authorization.k8s.io \"gone\" not found",
                in_bob("list", None)
            )
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cluster_roles_through_role_bindings_and_cluster_role_bindings() {
    let tc = TestCluster::start().await;
    namespaces(&tc, &["alice", "bob"]).await;
    apply(
        &tc,
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cm-reader}
rules: [{apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: cm-reader, namespace: alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cm-reader}
subjects: [{kind: ServiceAccount, name: default, namespace: alice}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-reader}
rules: [{apiGroups: [""], resources: ["nodes"], verbs: ["get", "list"]}]
"#,
    );
    let alice = tc
        .sandbox
        .client_as("alice", "default")
        .await
        .expect("client");
    // A ClusterRole bound by a RoleBinding applies in that namespace only.
    Api::<ConfigMap>::namespaced(alice.clone(), "alice")
        .list(&ListParams::default())
        .await
        .expect("configmaps in alice");
    assert_eq!(
        status(
            Api::<ConfigMap>::namespaced(alice.clone(), "bob")
                .list(&ListParams::default())
                .await
        )
        .0,
        403
    );
    assert_eq!(
        status(
            Api::<ConfigMap>::all(alice.clone())
                .list(&ListParams::default())
                .await
        )
        .0,
        403
    );
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(alice.clone());
    let (code, msg) = status(nodes.list(&ListParams::default()).await);
    assert_eq!(
        (code, msg),
        (
            403,
            refusal(
                "nodes",
                &user("alice", "default"),
                "list",
                "nodes",
                "",
                None
            )
        )
    );
    apply(
        &tc,
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: alice-nodes}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-reader}
subjects: [{kind: ServiceAccount, name: default, namespace: alice}]
"#,
    );
    assert_eq!(
        nodes
            .list(&ListParams::default())
            .await
            .expect("nodes")
            .items
            .len(),
        1
    );
    // Removing the binding takes the permission away at once.
    ok(tc.kubectl(&["delete", "clusterrolebinding", "alice-nodes"]));
    assert_eq!(status(nodes.list(&ListParams::default()).await).0, 403);
}

const GORDON_CRD: &str = include_str!("../../manifests/gordon/crd.yaml");

/// Applies the Gordon CRD as the admin and waits until it is established.
fn gordon_crd(tc: &TestCluster) {
    apply(tc, GORDON_CRD);
    ok(tc.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/gordons.operator.prgcont.cz",
        "--timeout=10s",
    ]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resource_names_and_subresources() {
    let tc = TestCluster::start().await;
    namespaces(&tc, &["alice"]).await;
    gordon_crd(&tc);
    apply(
        &tc,
        r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: allowed, namespace: alice}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other, namespace: alice}
---
apiVersion: operator.prgcont.cz/v1
kind: Gordon
metadata: {name: g, namespace: alice}
spec: {gordon: {replicas: 1}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: limited, namespace: alice}
rules:
- {apiGroups: [""], resources: ["configmaps"], resourceNames: ["allowed"], verbs: ["get", "update"]}
- {apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "create"]}
- {apiGroups: ["operator.prgcont.cz"], resources: ["gordons"], verbs: ["get", "list", "patch"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: limited, namespace: alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: limited}
subjects: [{kind: ServiceAccount, name: default, namespace: alice}]
"#,
    );
    let u = user("alice", "default");
    let kc = sa_kubeconfig(&tc, "alice", "default");
    ok(tc.kubectl_as(&kc, &["get", "configmap", "allowed"]));
    forbidden(
        tc.kubectl_as(&kc, &["get", "configmap", "other"]),
        &refusal(
            "configmaps \"other\"",
            &u,
            "get",
            "configmaps",
            "",
            Some("alice"),
        ),
    );
    forbidden(
        tc.kubectl_as(&kc, &["get", "configmaps"]),
        &refusal("configmaps", &u, "list", "configmaps", "", Some("alice")),
    );
    // pods/log is its own resource.
    ok(tc.kubectl_stdin(
        &kubectl_default(),
        &["apply", "-n", "alice", "-f", "-"],
        POD,
    ));
    ok(tc.kubectl(&[
        "wait",
        "-n",
        "alice",
        "--for=condition=Ready",
        "pod/p",
        "--timeout=10s",
    ]));
    forbidden(
        tc.kubectl_as(&kc, &["logs", "p"]),
        &refusal("pods \"p\"", &u, "get", "pods/log", "", Some("alice")),
    );
    // gordons/status is not gordons.
    let alice = tc
        .sandbox
        .client_as("alice", "default")
        .await
        .expect("client");
    let ar = kube::discovery::ApiResource::from_gvk_with_plural(
        &kube::core::GroupVersionKind::gvk("operator.prgcont.cz", "v1", "Gordon"),
        "gordons",
    );
    let gordons: Api<kube::core::DynamicObject> = Api::namespaced_with(alice, "alice", &ar);
    let status_patch = Patch::Merge(json!({"status": {"replicas": 1}}));
    assert_eq!(
        status(
            gordons
                .patch_status("g", &PatchParams::default(), &status_patch)
                .await
        ),
        (
            403,
            refusal(
                "gordons.operator.prgcont.cz \"g\"",
                &u,
                "patch",
                "gordons/status",
                "operator.prgcont.cz",
                Some("alice")
            )
        )
    );
    gordons
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .expect("patch the gordon itself");
    apply(
        &tc,
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: limited, namespace: alice}
rules:
- {apiGroups: [""], resources: ["configmaps"], resourceNames: ["allowed"], verbs: ["get", "update"]}
- {apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list", "create"]}
- {apiGroups: ["operator.prgcont.cz"], resources: ["gordons", "gordons/status"], verbs: ["get", "list", "patch"]}
"#,
    );
    let log = ok(tc.kubectl_as(&kc, &["logs", "p"]));
    assert!(log.contains("simulated"), "{log}");
    gordons
        .patch_status("g", &PatchParams::default(), &status_patch)
        .await
        .expect("patch status once granted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn aggregated_admin_edit_and_view_pick_up_labelled_roles() {
    let tc = TestCluster::start().await;
    namespaces(&tc, &["alice"]).await;
    gordon_crd(&tc);
    ok(tc.kubectl(&["create", "serviceaccount", "boss", "-n", "alice"]));
    apply(
        &tc,
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: viewer, namespace: alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: default, namespace: alice}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: boss, namespace: alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{kind: ServiceAccount, name: boss, namespace: alice}]
"#,
    );
    // The default aggregated roles have their rules.
    let view: serde_json::Value = serde_json::from_str(&ok(tc.kubectl(&[
        "get",
        "clusterrole",
        "view",
        "-o",
        "json",
    ])))
    .expect("json");
    assert!(view["aggregationRule"]["clusterRoleSelectors"].is_array());
    assert!(!view["rules"].as_array().expect("rules").is_empty());
    let viewer = sa_kubeconfig(&tc, "alice", "default");
    let boss = sa_kubeconfig(&tc, "alice", "boss");
    ok(tc.kubectl_as(&viewer, &["get", "pods,deployments,services,configmaps"]));
    let u = user("alice", "default");
    forbidden(
        tc.kubectl_as(&viewer, &["get", "secrets"]),
        &refusal("secrets", &u, "list", "secrets", "", Some("alice")),
    );
    forbidden(
        tc.kubectl_as(&viewer, &["create", "configmap", "x"]),
        &refusal("configmaps", &u, "create", "configmaps", "", Some("alice")),
    );
    forbidden(
        tc.kubectl_as(&viewer, &["get", "gordons"]),
        &refusal(
            "gordons.operator.prgcont.cz",
            &u,
            "list",
            "gordons",
            "operator.prgcont.cz",
            Some("alice"),
        ),
    );
    // admin: edit's and view's rules plus roles and bindings.
    ok(tc.kubectl_as(&boss, &["create", "configmap", "x"]));
    ok(tc.kubectl_as(&boss, &["get", "secrets"]));
    ok(tc.kubectl_as(&boss, &["get", "roles,rolebindings"]));
    // A CRD role labelled aggregate-to-view reaches view, edit and admin.
    apply(
        &tc,
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: gordons-view
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules: [{apiGroups: ["operator.prgcont.cz"], resources: ["gordons"], verbs: ["get", "list", "watch"]}]
"#,
    );
    assert!(
        wait_until(T, || tc
            .kubectl_as(&viewer, &["get", "gordons"])
            .status
            .success()),
        "view aggregated the gordons role"
    );
    assert!(
        wait_until(T, || tc
            .kubectl_as(&boss, &["get", "gordons"])
            .status
            .success()),
        "admin aggregated it through edit"
    );
    let admin_role = ok(tc.kubectl(&["get", "clusterrole", "admin", "-o", "json"]));
    assert!(admin_role.contains("operator.prgcont.cz"), "{admin_role}");
    // Removing the label takes it away again.
    ok(tc.kubectl(&[
        "label",
        "clusterrole",
        "gordons-view",
        "rbac.authorization.k8s.io/aggregate-to-view-",
    ]));
    assert!(
        wait_until(T, || !tc
            .kubectl_as(&viewer, &["get", "gordons"])
            .status
            .success()),
        "view lost the gordons role"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_subjects_bind_every_service_account_of_a_namespace() {
    let tc = TestCluster::start().await;
    namespaces(&tc, &["alice", "bob"]).await;
    ok(tc.kubectl(&["create", "serviceaccount", "second", "-n", "alice"]));
    apply(
        &tc,
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: all-of-alice, namespace: alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:serviceaccounts:alice"}]
"#,
    );
    for sa in ["default", "second"] {
        let kc = sa_kubeconfig(&tc, "alice", sa);
        ok(tc.kubectl_as(&kc, &["get", "pods", "-n", "alice"]));
    }
    let bob = sa_kubeconfig(&tc, "bob", "default");
    forbidden(
        tc.kubectl_as(&bob, &["get", "pods", "-n", "alice"]),
        &refusal(
            "pods",
            &user("bob", "default"),
            "list",
            "pods",
            "",
            Some("alice"),
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn escalation_is_refused_unless_escalate_or_bind() {
    let tc = TestCluster::start().await;
    namespaces(&tc, &["alice"]).await;
    ok(tc.kubectl(&["create", "serviceaccount", "boss", "-n", "alice"]));
    apply(
        &tc,
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: boss, namespace: alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{kind: ServiceAccount, name: boss, namespace: alice}]
"#,
    );
    let boss = sa_kubeconfig(&tc, "alice", "boss");
    let u = user("alice", "boss");
    let groups =
        r#"["system:serviceaccounts" "system:serviceaccounts:alice" "system:authenticated"]"#;
    // Within what admin holds: fine.
    ok(tc.kubectl_as(
        &boss,
        &[
            "create",
            "role",
            "cm",
            "--verb=get,list",
            "--resource=configmaps",
        ],
    ));
    ok(tc.kubectl_as(
        &boss,
        &[
            "create",
            "rolebinding",
            "cm",
            "--role=cm",
            "--serviceaccount=alice:default",
        ],
    ));
    ok(tc.kubectl_as(
        &boss,
        &[
            "create",
            "rolebinding",
            "view",
            "--clusterrole=view",
            "--serviceaccount=alice:default",
        ],
    ));
    // Beyond it: refused with Kubernetes' text.
    let too_much = [
        "create",
        "role",
        "too-much",
        "--verb=list,watch",
        "--resource=nodes",
    ];
    let root = [
        "create",
        "rolebinding",
        "root",
        "--clusterrole=cluster-admin",
        "--serviceaccount=alice:default",
    ];
    forbidden(
        tc.kubectl_as(&boss, &too_much),
        &format!(
            "roles.rbac.authorization.k8s.io \"too-much\" is forbidden: user \"{u}\" (groups={groups}) is attempting to grant RBAC permissions not currently held:\n{{APIGroups:[\"\"], Resources:[\"nodes\"], Verbs:[\"list\" \"watch\"]}}"
        ),
    );
    forbidden(
        tc.kubectl_as(&boss, &root),
        &format!(
            "rolebindings.rbac.authorization.k8s.io \"root\" is forbidden: user \"{u}\" (groups={groups}) is attempting to grant RBAC permissions not currently held:"
        ),
    );
    // Widening an existing role by a patch is checked too; nothing was changed.
    let o = tc.kubectl_as(&boss,
        &[
            "patch",
            "role",
            "cm",
            "--type=json",
            "-p",
            r#"[{"op":"add","path":"/rules/-","value":{"apiGroups":[""],"resources":["nodes"],"verbs":["get"]}}]"#,
        ],
    );
    assert!(
        stderr(&o).contains("is attempting to grant RBAC permissions not currently held"),
        "{}",
        stderr(&o)
    );
    let cm = ok(tc.kubectl(&["get", "role", "cm", "-n", "alice", "-o", "json"]));
    assert!(!cm.contains("nodes"), "{cm}");
    // escalate and bind lift the checks.
    apply(
        &tc,
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: escalator, namespace: alice}
rules:
- {apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["escalate"]}
- {apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["bind"], resourceNames: ["cluster-admin"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: escalator, namespace: alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: escalator}
subjects: [{kind: ServiceAccount, name: boss, namespace: alice}]
"#,
    );
    ok(tc.kubectl_as(&boss, &too_much));
    ok(tc.kubectl_as(&boss, &root));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn discovery_can_i_and_whoami_for_a_service_account_without_roles() {
    let tc = TestCluster::start().await;
    namespaces(&tc, &["alice"]).await;
    let kc = sa_kubeconfig(&tc, "alice", "default");
    let resources = ok(tc.kubectl_as(&kc, &["api-resources"]));
    for r in [
        "pods",
        "deployments",
        "selfsubjectaccessreviews",
        "selfsubjectreviews",
        "roles",
    ] {
        assert!(resources.contains(r), "{r} in api-resources:\n{resources}");
    }
    ok(tc.kubectl_as(&kc, &["version"]));
    ok(tc.kubectl_as(&kc, &["get", "--raw", "/openapi/v3"]));
    forbidden(
        tc.kubectl_as(&kc, &["get", "--raw", "/metrics"]),
        &format!(
            "forbidden: User \"{}\" cannot get path \"/metrics\"",
            user("alice", "default")
        ),
    );
    let can = |args: &[&str]| {
        let mut all = vec!["auth", "can-i"];
        all.extend_from_slice(args);
        let o = tc.kubectl_as(&kc, &all);
        stdout(&o).trim().to_string()
    };
    assert_eq!(can(&["list", "pods"]), "no");
    apply(&tc, ALICE_POD_ROLE);
    assert_eq!(can(&["list", "pods"]), "yes");
    assert_eq!(can(&["create", "pods", "-n", "alice"]), "yes");
    assert_eq!(can(&["create", "pods", "-n", "bob"]), "no");
    assert_eq!(can(&["list", "secrets"]), "no");
    assert_eq!(
        can(&["create", "selfsubjectaccessreviews.authorization.k8s.io"]),
        "yes"
    );
    let list = ok(tc.kubectl_as(&kc, &["auth", "can-i", "--list"]));
    let pods_row = list
        .lines()
        .find(|l| l.starts_with("pods "))
        .unwrap_or_else(|| panic!("a pods row in:\n{list}"));
    assert!(
        pods_row.contains("[get list watch create delete]"),
        "{pods_row}"
    );
    assert!(
        list.contains("selfsubjectaccessreviews.authorization.k8s.io"),
        "{list}"
    );
    assert!(list.contains("/version"), "{list}");
    let who = ok(tc.kubectl_as(&kc, &["auth", "whoami"]));
    assert!(who.contains(&user("alice", "default")), "{who}");
    assert!(who.contains("system:serviceaccounts:alice"), "{who}");
    // The admin: everything, as system:masters.
    assert_eq!(
        stdout(&tc.kubectl(&["auth", "can-i", "*", "*"])).trim(),
        "yes"
    );
    let who = ok(tc.kubectl(&["auth", "whoami"]));
    assert!(
        who.contains("oplab-admin") && who.contains("system:masters"),
        "{who}"
    );
    // Reviews are create-only.
    let o = tc.kubectl(&[
        "get",
        "--raw",
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
    ]);
    assert!(
        stderr(&o).contains("MethodNotAllowed") || stderr(&o).contains("not allow"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_of_a_deleted_and_recreated_service_account_is_refused() {
    let tc = TestCluster::start().await;
    namespaces(&tc, &["alice"]).await;
    ok(tc.kubectl(&["create", "serviceaccount", "temp", "-n", "alice"]));
    let kc = sa_kubeconfig(&tc, "alice", "temp");
    ok(tc.kubectl_as(&kc, &["auth", "whoami"]));
    ok(tc.kubectl(&["delete", "serviceaccount", "temp", "-n", "alice"]));
    ok(tc.kubectl(&["create", "serviceaccount", "temp", "-n", "alice"]));
    let o = tc.kubectl_as(&kc, &["auth", "whoami"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("You must be logged in to the server (Unauthorized)"),
        "{}",
        stderr(&o)
    );
    // A forged token (signature changed) is refused too.
    let token = tc.sandbox.token_for("alice", "temp").expect("token");
    let forged = format!("{}x", &token[..token.len() - 1]);
    let o = tc.kubectl_as(&kc, &["--token", &forged, "auth", "whoami"]);
    assert!(stderr(&o).contains("Unauthorized"), "{}", stderr(&o));
    let o = tc.kubectl_as(&kc, &["--token", &token, "auth", "whoami"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_legacy_token_secret_is_filled_and_usable() {
    let tc = TestCluster::start().await;
    namespaces(&tc, &["alice"]).await;
    apply(
        &tc,
        r#"
apiVersion: v1
kind: Secret
metadata:
  name: default-token
  namespace: alice
  annotations: {kubernetes.io/service-account.name: default}
type: kubernetes.io/service-account-token
"#,
    );
    let secrets: Api<Secret> = Api::namespaced(tc.client().await, "alice");
    let mut filled = None;
    for _ in 0..100 {
        let s = secrets.get("default-token").await.expect("secret");
        if s.data.as_ref().is_some_and(|d| d.contains_key("token")) {
            filled = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let secret = filled.expect("the token controller fills the Secret");
    let data = secret.data.expect("data");
    assert_eq!(data["namespace"].0, b"alice");
    assert_eq!(data["ca.crt"].0, tc.sandbox.ca_pem.as_bytes());
    let token = String::from_utf8(data["token"].0.clone()).expect("utf8");
    let kc = sa_kubeconfig(&tc, "alice", "default");
    let who = ok(tc.kubectl_as(&kc, &["--token", &token, "auth", "whoami"]));
    assert!(who.contains(&user("alice", "default")), "{who}");
    // Deleting the Secret revokes its token.
    ok(tc.kubectl(&["delete", "secret", "default-token", "-n", "alice"]));
    let o = tc.kubectl_as(&kc, &["--token", &token, "auth", "whoami"]);
    assert!(stderr(&o).contains("Unauthorized"), "{}", stderr(&o));
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_with_state(kc: &Path, state: &Path) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(["sandbox", "--kubeconfig"])
        .arg(kc)
        .arg("--state")
        .arg(state)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("oplab sandbox starts");
    let up = wait_until(Duration::from_secs(20), || {
        kc.exists()
            && Command::new(kubectl_default())
                .args(["get", "--raw", "/version"])
                .env("KUBECONFIG", kc)
                .output()
                .is_ok_and(|o| o.status.success())
    });
    assert!(up, "sandbox came up");
    Server(child)
}

#[test]
fn tokens_survive_a_restart_with_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (kc, state) = (dir.path().join("kc"), dir.path().join("state"));
    let kubectl = |args: &[&str]| {
        Command::new(kubectl_default())
            .args(args)
            .env("KUBECONFIG", &kc)
            .env("HOME", dir.path())
            .output()
            .expect("kubectl")
    };
    let server = start_with_state(&kc, &state);
    ok(kubectl(&["create", "namespace", "alice"]));
    ok(kubectl(&[
        "create",
        "serviceaccount",
        "keeper",
        "-n",
        "alice",
    ]));
    let token = ok(kubectl(&["create", "token", "keeper", "-n", "alice"]));
    let whoami = |token: &str| {
        kubectl(&[
            "--token",
            token,
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ])
    };
    assert_eq!(ok(whoami(token.trim())), user("alice", "keeper"));
    drop(server);
    let _server = start_with_state(&kc, &state);
    assert_eq!(ok(whoami(token.trim())), user("alice", "keeper"));
}
