//! The sandbox answers as a Kubernetes 1.35 API server would (issue 14), each item with the client that showed
//! the difference: kubectl, kube-rs, the Python client.

use crate::common;

use common::*;
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, WatchEvent, WatchParams};
use serde_json::{Value, json};
use std::time::Duration;

fn fails(o: std::process::Output) -> String {
    assert!(
        !o.status.success(),
        "command succeeded but should fail: {}",
        stdout(&o)
    );
    stderr(&o)
}

fn raw(c: &TestCluster, path: &str) -> Value {
    let out = ok(c.kubectl(&["get", "--raw", path]));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{path}: {e}: {out}"))
}

/// Watch lines `(type, name)` of a finished `kubectl get --raw` watch.
fn watch_lines(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| {
            (
                v["type"].as_str().unwrap_or_default().to_string(),
                v["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn version_is_1_35() {
    let c = BlockingCluster::start();
    let v = raw(&c, "/version");
    assert_eq!(
        (v["major"].as_str(), v["minor"].as_str()),
        (Some("1"), Some("35"))
    );
    assert!(
        v["gitVersion"]
            .as_str()
            .is_some_and(|g| g.starts_with("v1.35."))
    );
}

#[test]
fn kubectl_explain_pods_and_a_crd_that_changes() {
    let c = BlockingCluster::start();
    let out = ok(c.kubectl(&["explain", "pods.spec.containers"]));
    assert!(
        out.contains("KIND:       Pod") && out.contains("FIELD: containers <[]Container>"),
        "{out}"
    );
    assert!(out.contains("image\t<string>"), "{out}");
    let out = ok(c.kubectl(&["explain", "deployments.spec.strategy"]));
    assert!(out.contains("GROUP:      apps"), "{out}");
    ok(c.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], WIDGET_CRD));
    ok(c.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.test.oplab.dev",
        "--timeout=20s",
    ]));
    let out = ok(c.kubectl(&["explain", "widgets.spec"]));
    assert!(
        out.contains("KIND:       Widget") && out.contains("replicas\t<integer>"),
        "{out}"
    );
    // A changed CRD is explained with its new schema.
    let changed = WIDGET_CRD.replace(
        "color: {type: string, enum: [red, blue]}",
        "color: {type: string, enum: [red, blue]}\n              shape: {type: string, description: the widget's shape}",
    );
    ok(c.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], &changed));
    assert!(
        wait_until(Duration::from_secs(20), || {
            stdout(&c.kubectl(&["explain", "widgets.spec.shape"])).contains("the widget's shape")
        }),
        "explain never showed the CRD's new field"
    );
}

#[test]
fn kubectl_validate_warn_and_strict_use_server_side_validation() {
    let c = BlockingCluster::start();
    let bad = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: v}\nbogus: 1\n";
    let o = c.kubectl_stdin(
        &kubectl_default(),
        &["apply", "--validate=warn", "-f", "-"],
        bad,
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("unknown field \"bogus\""), "{err}");
    assert!(
        !err.contains("does not support"),
        "kubectl found no server-side validation: {err}"
    );
    let strict = bad.replace("name: v", "name: w");
    let err = fails(c.kubectl_stdin(
        &kubectl_default(),
        &["apply", "--validate=strict", "-f", "-"],
        &strict,
    ));
    assert!(
        err.contains("strict decoding error: unknown field \"bogus\""),
        "{err}"
    );
    let doc = raw(&c, "/openapi/v2");
    assert!(doc["definitions"]["io.k8s.api.core.v1.Pod"].is_object());
}

#[test]
fn impersonation_is_authorized_and_then_runs_as_the_impersonated_user() {
    let c = BlockingCluster::start();
    ok(c.kubectl(&["create", "namespace", "fid"]));
    ok(c.kubectl(&["-n", "fid", "create", "serviceaccount", "reader"]));
    ok(c.kubectl(&[
        "-n",
        "fid",
        "create",
        "role",
        "reader",
        "--verb=get,list",
        "--resource=pods",
    ]));
    ok(c.kubectl(&[
        "-n",
        "fid",
        "create",
        "rolebinding",
        "reader",
        "--role=reader",
        "--serviceaccount=fid:reader",
    ]));
    let sa = "system:serviceaccount:fid:reader";
    let can = |verb: &str| {
        stdout(&c.kubectl(&["auth", "can-i", verb, "pods", "-n", "fid", "--as", sa]))
            .trim()
            .to_string()
    };
    assert_eq!(can("list"), "yes");
    assert_eq!(can("delete"), "no");
    let who = ok(c.kubectl(&[
        "auth",
        "whoami",
        "--as=alice",
        "--as-group=devs",
        "-o",
        "json",
    ]));
    let who: Value = serde_json::from_str(&who).expect("json");
    assert_eq!(who["status"]["userInfo"]["username"], "alice");
    assert_eq!(
        who["status"]["userInfo"]["groups"],
        json!(["devs", "system:authenticated"])
    );
    ok(c.kubectl(&["-n", "fid", "run", "imp", "--image=busybox"]));
    let err = fails(c.kubectl(&[
        "-n",
        "fid",
        "delete",
        "pod",
        "imp",
        "--as",
        sa,
        "--wait=false",
    ]));
    assert!(
        err.contains(&format!("pods \"imp\" is forbidden: User \"{sa}\" cannot delete resource \"pods\" in API group \"\" in the namespace \"fid\"")),
        "{err}"
    );
    ok(c.kubectl(&["-n", "fid", "get", "pod", "imp"]));
    // A caller without the impersonate verb is refused with kube-apiserver's message.
    let reader = c.dir.path().join("reader.kubeconfig");
    std::fs::write(
        &reader,
        c.sandbox
            .kubeconfig_for("fid", "reader")
            .expect("kubeconfig"),
    )
    .expect("write");
    let err = fails(c.kubectl_as(&reader, &["get", "pods", "--as=alice"]));
    assert!(
        err.contains(&format!("users \"alice\" is forbidden: User \"{sa}\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope")),
        "{err}"
    );
    // Granted `impersonate` on that user, it may.
    ok(c.kubectl(&[
        "create",
        "clusterrole",
        "imp-alice",
        "--verb=impersonate",
        "--resource=users",
        "--resource-name=alice",
    ]));
    ok(c.kubectl(&[
        "create",
        "clusterrolebinding",
        "imp-alice",
        "--clusterrole=imp-alice",
        "--serviceaccount=fid:reader",
    ]));
    let who = ok(c.kubectl_as(
        &reader,
        &[
            "auth",
            "whoami",
            "--as=alice",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ],
    ));
    assert_eq!(who, "alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn server_side_apply_create_is_one_added_event() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let mut stream = cms
        .watch(&WatchParams::default(), "0")
        .await
        .expect("watch")
        .boxed();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa-new"}, "data": {"a": "1"}});
    cms.patch(
        "ssa-new",
        &PatchParams::apply("kubectl"),
        &Patch::Apply(&cm),
    )
    .await
    .expect("apply creates");
    let marker = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "marker"}});
    cms.create(
        &Default::default(),
        &serde_json::from_value(marker).expect("cm"),
    )
    .await
    .expect("marker");
    let mut seen = Vec::new();
    let done = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(ev) = stream.next().await {
            match ev.expect("event") {
                WatchEvent::Added(o) if o.metadata.name.as_deref() == Some("marker") => return,
                WatchEvent::Added(o) => seen.push(("ADDED", o.metadata.name)),
                WatchEvent::Modified(o) => seen.push(("MODIFIED", o.metadata.name)),
                _ => {}
            }
        }
    })
    .await;
    assert!(done.is_ok(), "the marker never arrived");
    let ssa: Vec<_> = seen
        .iter()
        .filter(|(_, n)| n.as_deref() == Some("ssa-new"))
        .collect();
    assert_eq!(ssa.len(), 1, "{seen:?}");
    assert_eq!(ssa[0].0, "ADDED");
    // Patching with the object from ADDED (its resourceVersion) works.
    let got = cms.get("ssa-new").await.expect("get");
    let p = json!({"metadata": {"resourceVersion": got.metadata.resource_version, "labels": {"x": "y"}}});
    cms.patch("ssa-new", &PatchParams::default(), &Patch::Merge(&p))
        .await
        .expect("patch with the ADDED version");
}

#[test]
fn quick_server_side_applies_of_changed_values_stay_applies() {
    let c = BlockingCluster::start();
    for v in 1..=6 {
        let doc = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: quick}}\ndata: {{v: \"{v}\"}}\n"
        );
        ok(c.kubectl_stdin(
            &kubectl_default(),
            &["apply", "--server-side", "-f", "-"],
            &doc,
        ));
    }
    let cm = raw(&c, "/api/v1/namespaces/default/configmaps/quick");
    assert_eq!(cm["data"]["v"], "6");
    let managers: Vec<(String, String)> = cm["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["manager"].as_str().unwrap_or_default().into(),
                m["operation"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    assert_eq!(managers, [("kubectl".to_string(), "Apply".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_server_side_applies_do_not_conflict_with_themselves() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        tasks.push(tokio::spawn(async move {
            let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "busy"}, "data": {"v": i.to_string()}});
            cms.patch("busy", &PatchParams::apply("deployer"), &Patch::Apply(&cm)).await.map(|_| ())
        }));
    }
    let mut failed = Vec::new();
    for t in tasks {
        if let Err(e) = t.await.expect("task") {
            failed.push(e.to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{} of 60 applies failed: {:?}",
        failed.len(),
        failed.first()
    );
}

#[test]
fn watch_resumed_from_an_old_version_replays_modified_and_selection_exits() {
    let c = BlockingCluster::start();
    let rv = raw(&c, "/api/v1/namespaces/default/configmaps")["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    ok(c.kubectl(&["create", "configmap", "replay", "--from-literal=a=1"]));
    ok(c.kubectl(&["label", "configmap", "replay", "x=y"]));
    ok(c.kubectl(&[
        "patch",
        "configmap",
        "replay",
        "--type=merge",
        "-p",
        r#"{"data":{"a":"2"}}"#,
    ]));
    ok(c.kubectl(&["label", "--overwrite", "configmap", "replay", "x=z"]));
    ok(c.kubectl(&["create", "configmap", "gone"]));
    ok(c.kubectl(&["delete", "configmap", "gone"]));
    let all = watch_lines(&ok(c.kubectl(&[
        "get",
        "--raw",
        &format!(
            "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}&timeoutSeconds=1"
        ),
    ])));
    let replay: Vec<&str> = all
        .iter()
        .filter(|(_, n)| n == "replay")
        .map(|(t, _)| t.as_str())
        .collect();
    assert_eq!(
        replay,
        ["ADDED", "MODIFIED", "MODIFIED", "MODIFIED"],
        "{all:?}"
    );
    let gone: Vec<&str> = all
        .iter()
        .filter(|(_, n)| n == "gone")
        .map(|(t, _)| t.as_str())
        .collect();
    assert_eq!(gone, ["ADDED", "DELETED"]);
    // With a selector: the object enters it (ADDED), changes in it (MODIFIED), leaves it (DELETED).
    let selected = watch_lines(&ok(c.kubectl(&["get", "--raw", &format!("/api/v1/namespaces/default/configmaps?watch=1&labelSelector=x%3Dy&resourceVersion={rv}&timeoutSeconds=1")])));
    let kinds: Vec<&str> = selected.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED"], "{selected:?}");
}

#[test]
fn resource_version_match_exact_and_not_older_than() {
    let c = BlockingCluster::start();
    ok(c.kubectl(&["create", "configmap", "then", "--from-literal=a=1"]));
    let rv = raw(&c, "/api/v1/namespaces/default/configmaps")["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    ok(c.kubectl(&[
        "patch",
        "configmap",
        "then",
        "--type=merge",
        "-p",
        r#"{"data":{"a":"2"}}"#,
    ]));
    ok(c.kubectl(&["create", "configmap", "later"]));
    let exact = raw(
        &c,
        &format!(
            "/api/v1/namespaces/default/configmaps?resourceVersion={rv}&resourceVersionMatch=Exact"
        ),
    );
    assert_eq!(exact["metadata"]["resourceVersion"], rv.as_str());
    let names: Vec<&str> = exact["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert!(
        names.contains(&"then") && !names.contains(&"later"),
        "{names:?}"
    );
    let then = exact["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["metadata"]["name"] == "then")
        .expect("then");
    assert_eq!(then["data"]["a"], "1");
    let newer = raw(
        &c,
        &format!(
            "/api/v1/namespaces/default/configmaps?resourceVersion={rv}&resourceVersionMatch=NotOlderThan"
        ),
    );
    assert_eq!(
        newer["items"].as_array().expect("items").len(),
        names.len() + 1
    );
    let err = fails(c.kubectl(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/configmaps?resourceVersionMatch=Exact",
    ]));
    assert!(
        err.contains("resourceVersionMatch is forbidden unless resourceVersion is provided"),
        "{err}"
    );
}

#[test]
fn missing_kinds_are_served_and_prune_without_an_allowlist_works() {
    let c = BlockingCluster::start();
    ok(c.kubectl(&[
        "get",
        "replicationcontrollers,podtemplates,limitranges,resourcequotas",
    ]));
    ok(c.kubectl(&["get", "persistentvolumes"]));
    let cs = ok(c.kubectl(&["get", "componentstatuses", "-o", "name"]));
    assert!(cs.contains("componentstatus/etcd-0"), "{cs}");
    ok(c.kubectl(&["get", "deviceclasses.resource.k8s.io"]));
    let first = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: pruned, labels: {set: p}}\n";
    ok(c.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], first));
    let second = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept, labels: {set: p}}\n";
    let out = ok(c.kubectl_stdin(
        &kubectl_default(),
        &["apply", "--prune", "-l", "set=p", "-f", "-"],
        second,
    ));
    assert!(out.contains("configmap/pruned pruned"), "{out}");
    assert!(!c.kubectl(&["get", "configmap", "pruned"]).status.success());
}

#[test]
fn kubectl_autoscale_and_both_autoscaling_versions() {
    let c = BlockingCluster::start();
    ok(c.kubectl(&["create", "deployment", "web", "--image=nginx"]));
    ok(c.kubectl(&[
        "autoscale",
        "deployment",
        "web",
        "--min=1",
        "--max=3",
        "--cpu-percent=50",
    ]));
    let v1 = raw(
        &c,
        "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web",
    );
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 50, "{v1}");
    assert_eq!(v1["spec"]["maxReplicas"], 3);
    let v2 = raw(
        &c,
        "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web",
    );
    assert_eq!(
        v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 50,
        "{v2}"
    );
    let out = ok(c.kubectl(&["get", "hpa", "web"]));
    assert!(out.contains("web"), "{out}");
}

#[test]
fn kubectl_certificate_approve_and_debug() {
    let c = BlockingCluster::start();
    // Any PEM block will do for a request nobody signs.
    let csr = "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {name: alice}\nspec:\n  request: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlJQgotLS0tLUVORCBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K\n  signerName: kubernetes.io/kube-apiserver-client\n  usages: [client auth]\n";
    ok(c.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], csr));
    let out = ok(c.kubectl(&["certificate", "approve", "alice"]));
    assert!(out.contains("approved"), "{out}");
    let got = raw(
        &c,
        "/apis/certificates.k8s.io/v1/certificatesigningrequests/alice",
    );
    assert_eq!(got["status"]["conditions"][0]["type"], "Approved", "{got}");
    ok(c.kubectl(&["run", "target", "--image=busybox"]));
    ok(c.kubectl(&["debug", "target", "--image=busybox", "--container=dbg"]));
    let pod = raw(&c, "/api/v1/namespaces/default/pods/target");
    assert_eq!(
        pod["spec"]["ephemeralContainers"][0]["name"], "dbg",
        "{pod}"
    );
}

#[test]
fn immutable_fields_are_refused() {
    let c = BlockingCluster::start();
    ok(c.kubectl(&["create", "service", "clusterip", "svc", "--tcp=80:80"]));
    let err = fails(c.kubectl(&[
        "patch",
        "service",
        "svc",
        "--type=merge",
        "-p",
        r#"{"spec":{"clusterIP":"10.96.0.250"}}"#,
    ]));
    assert!(err.contains("may not change once set"), "{err}");
    let svc = raw(&c, "/api/v1/namespaces/default/services/svc");
    assert_eq!(svc["spec"]["clusterIP"], svc["spec"]["clusterIPs"][0]);
    assert_eq!(svc["status"], json!({"loadBalancer": {}}));
    let frozen = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen}\nimmutable: true\ndata: {a: \"1\"}\n";
    ok(c.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], frozen));
    let err = fails(c.kubectl(&[
        "patch",
        "configmap",
        "frozen",
        "--type=merge",
        "-p",
        r#"{"data":{"a":"2"}}"#,
    ]));
    assert!(
        err.contains("field is immutable when `immutable` is set"),
        "{err}"
    );
    ok(c.kubectl(&["create", "secret", "generic", "s", "--from-literal=a=1"]));
    ok(c.kubectl(&[
        "patch",
        "secret",
        "s",
        "--type=merge",
        "-p",
        r#"{"immutable":true}"#,
    ]));
    fails(c.kubectl(&[
        "patch",
        "secret",
        "s",
        "--type=merge",
        "-p",
        r#"{"data":{"a":"Mg=="}}"#,
    ]));
    ok(c.kubectl(&["create", "deployment", "web", "--image=nginx"]));
    let err = fails(c.kubectl(&["patch", "deployment", "web", "--type=merge", "-p", r#"{"spec":{"selector":{"matchLabels":{"app":"other"}},"template":{"metadata":{"labels":{"app":"other"}}}}}"#]));
    assert!(
        err.contains("spec.selector") && err.contains("field is immutable"),
        "{err}"
    );
    ok(c.kubectl(&["create", "job", "once", "--image=busybox"]));
    let err = fails(c.kubectl(&[
        "patch",
        "job",
        "once",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx"}]"#,
    ]));
    assert!(
        err.contains("spec.template") && err.contains("field is immutable"),
        "{err}"
    );
    ok(c.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], WIDGET_CRD));
    let err = fails(c.kubectl(&[
        "patch",
        "crd",
        "widgets.test.oplab.dev",
        "--type=merge",
        "-p",
        r#"{"spec":{"scope":"Cluster"}}"#,
    ]));
    assert!(
        err.contains("spec.scope") && err.contains("field is immutable"),
        "{err}"
    );
}

#[test]
fn inputs_kube_apiserver_refuses_are_refused() {
    let c = BlockingCluster::start();
    let cases = [
        (
            "a bad label key",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"bad key!":"x"}}}"#,
            "metadata.labels",
        ),
        (
            "a bad label value",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"k":"-x-"}}}"#,
            "a valid label must be an empty string",
        ),
        (
            "a bad annotation key",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","annotations":{"a/b/c":"x"}}}"#,
            "metadata.annotations",
        ),
        (
            "a bad data key",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"no spaces":"x"}}"#,
            "a valid config key",
        ),
        (
            "a bad finalizer",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","finalizers":["bad finalizer!"]}}"#,
            "metadata.finalizers",
        ),
        (
            "port 0",
            r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{"ports":[{"port":0}]}}"#,
            "must be between 1 and 65535",
        ),
        (
            "port 99999",
            r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{"ports":[{"port":99999}]}}"#,
            "must be between 1 and 65535",
        ),
    ];
    for (what, body, expect) in cases {
        let err = fails(c.kubectl_stdin(&kubectl_default(), &["create", "-f", "-"], body));
        assert!(err.contains(expect), "{what}: {err}");
    }
    // Custom resources' metadata is type-checked.
    ok(c.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], WIDGET_CRD));
    ok(c.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.test.oplab.dev",
        "--timeout=20s",
    ]));
    let bad = r#"{"apiVersion":"test.oplab.dev/v1","kind":"Widget","metadata":{"name":"bad","finalizers":"x"},"spec":{"replicas":1}}"#;
    let err = fails(c.kubectl_stdin(
        &kubectl_default(),
        &[
            "create",
            "--raw",
            "/apis/test.oplab.dev/v1/namespaces/default/widgets",
            "-f",
            "-",
        ],
        bad,
    ));
    assert!(err.contains("metadata.finalizers"), "{err}");
    ok(c.kubectl(&["get", "widgets"]));
}

#[test]
fn a_colliding_crd_deleted_keeps_the_built_in_objects() {
    let c = BlockingCluster::start();
    let before = ok(c.kubectl(&["get", "clusterroles", "-o", "name"]))
        .lines()
        .count();
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: clusterroles.rbac.authorization.k8s.io}\nspec:\n  group: rbac.authorization.k8s.io\n  scope: Cluster\n  names: {plural: clusterroles, singular: clusterrole, kind: ClusterRole}\n  versions: [{name: v9, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]\n";
    ok(c.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], crd));
    ok(c.kubectl(&[
        "delete",
        "crd",
        "clusterroles.rbac.authorization.k8s.io",
        "--timeout=20s",
    ]));
    let after = ok(c.kubectl(&["get", "clusterroles", "-o", "name"]));
    assert!(after.lines().count() >= before, "{after}");
    assert!(after.contains("clusterrole.rbac.authorization.k8s.io/cluster-admin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kube_rs_aggregated_discovery_finds_the_groups() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let discovery = kube::Discovery::new(client.clone())
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    let groups: Vec<String> = discovery.groups().map(|g| g.name().to_string()).collect();
    for g in [
        "",
        "apps",
        "batch",
        "autoscaling",
        "certificates.k8s.io",
        "apiextensions.k8s.io",
    ] {
        assert!(
            groups.iter().any(|x| x == g),
            "{g:?} missing from {groups:?}"
        );
    }
    let apps = discovery.get("apps").expect("apps");
    let (ar, caps) = apps.recommended_kind("Deployment").expect("deployments");
    assert_eq!(ar.plural, "deployments");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    assert!(
        caps.subresources
            .iter()
            .any(|(s, _)| s.plural == "deployments/scale" || s.plural == "scale")
    );
    let autoscaling = discovery.get("autoscaling").expect("autoscaling");
    assert_eq!(autoscaling.preferred_version_or_latest(), "v2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_review_honours_audiences() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let sa: Api<k8s_openapi::api::core::v1::ServiceAccount> =
        Api::namespaced(client.clone(), "default");
    let other = sa
        .create_token_request(
            "default",
            &Default::default(),
            &serde_json::from_value(json!({"spec": {"audiences": ["vault"]}})).expect("request"),
        )
        .await
        .expect("token");
    let token = other.status.expect("status").token;
    let reviews: Api<k8s_openapi::api::authentication::v1::TokenReview> = Api::all(client.clone());
    let review = |audiences: Option<Vec<&str>>| {
        let mut spec = json!({"token": token});
        if let Some(a) = audiences {
            spec["audiences"] = json!(a);
        }
        serde_json::from_value::<k8s_openapi::api::authentication::v1::TokenReview>(
            json!({"spec": spec}),
        )
        .expect("review")
    };
    let for_vault = reviews
        .create(&Default::default(), &review(Some(vec!["vault"])))
        .await
        .expect("review");
    let status = for_vault.status.expect("status");
    assert_eq!(status.authenticated, Some(true));
    assert_eq!(status.audiences, Some(vec!["vault".to_string()]));
    let for_api = reviews
        .create(&Default::default(), &review(None))
        .await
        .expect("review");
    assert_eq!(for_api.status.expect("status").authenticated, Some(false));
    // The token for another audience does not authenticate API calls.
    let other_kc = c.sandbox.kubeconfig().replace(&c.sandbox.token, &token);
    let kc = kube::config::Kubeconfig::from_yaml(&other_kc).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    let as_vault = kube::Client::try_from(config).expect("client");
    let cms: Api<ConfigMap> = Api::namespaced(as_vault, "default");
    match cms.list(&Default::default()).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 401),
        other => panic!("a token for another audience was accepted: {other:?}"),
    }
}

#[test]
fn label_selectors_with_greater_and_less_and_unset_booleans() {
    let c = BlockingCluster::start();
    for (name, i) in [("one", 1), ("three", 3)] {
        ok(c.kubectl(&["create", "configmap", name]));
        ok(c.kubectl(&["label", "configmap", name, &format!("i={i}")]));
    }
    assert_eq!(
        ok(c.kubectl(&["get", "configmaps", "-l", "i>2", "-o", "name"])).trim(),
        "configmap/three"
    );
    assert_eq!(
        ok(c.kubectl(&["get", "configmaps", "-l", "i<2", "-o", "name"])).trim(),
        "configmap/one"
    );
    let nodes = ok(c.kubectl(&[
        "get",
        "nodes",
        "--field-selector=spec.unschedulable=false",
        "-o",
        "name",
    ]));
    assert!(nodes.lines().count() >= 1, "{nodes}");
    let none = ok(c.kubectl(&[
        "get",
        "nodes",
        "--field-selector=spec.unschedulable=true",
        "-o",
        "name",
    ]));
    assert!(none.trim().is_empty(), "{none}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accept_and_content_type_negotiation() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let req = http::Request::get("/api/v1/namespaces/default/configmaps")
        .header("Accept", "application/xml")
        .body(Vec::new())
        .expect("request");
    match client.request_text(req).await {
        Err(kube::Error::Api(s)) => assert_eq!((s.code, s.reason.as_str()), (406, "NotAcceptable")),
        other => panic!("application/xml was answered: {other:?}"),
    }
    let req = http::Request::post("/api/v1/namespaces/default/configmaps")
        .header("Content-Type", "text/plain")
        .body(br#"{"metadata":{"name":"t"}}"#.to_vec())
        .expect("request");
    match client.request_text(req).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 415),
        other => panic!("a text/plain body was accepted: {other:?}"),
    }
}

#[test]
fn json_patches_may_not_change_what_the_object_is() {
    let c = BlockingCluster::start();
    ok(c.kubectl(&["create", "configmap", "same"]));
    let cases = [
        (
            r#"[{"op":"replace","path":"/metadata/name","value":"other"}]"#,
            "the name of the object (other) does not match the name on the URL (same)",
        ),
        (
            r#"[{"op":"replace","path":"/metadata/namespace","value":"kube-system"}]"#,
            "the namespace of the provided object does not match the namespace sent on the request",
        ),
        (
            r#"[{"op":"replace","path":"/metadata/uid","value":"00000000-0000-0000-0000-000000000000"}]"#,
            "Precondition failed: UID in precondition",
        ),
        (
            r#"[{"op":"replace","path":"/kind","value":"Secret"}]"#,
            "does not match",
        ),
    ];
    for (patch, expect) in cases {
        let err = fails(c.kubectl(&["patch", "configmap", "same", "--type=json", "-p", patch]));
        assert!(err.contains(expect), "{patch}: {err}");
    }
    ok(c.kubectl(&["get", "configmap", "same"]));
}

#[test]
fn status_bodies_are_shaped_as_go_writes_them() {
    let c = BlockingCluster::start();
    let out = c.kubectl(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/configmaps/missing",
        "-v=9",
    ]);
    let log = stderr(&out);
    // kubectl logs the body either quoted on one line or verbatim over several lines: unescape it.
    let log = log.replace("\\\"", "\"");
    let body = log
        .find(r#"{"kind":"Status""#)
        .map(|i| log[i..].lines().next().unwrap_or_default().to_string())
        .unwrap_or_default();
    let order = [r#""message""#, r#""reason""#, r#""details""#, r#""code""#];
    let positions: Vec<Option<usize>> = order.iter().map(|k| body.find(k)).collect();
    assert!(positions.iter().all(Option::is_some), "{body}");
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "fields out of Go's order: {body}"
    );
    assert!(
        !body.contains(r#""group":"""#),
        "an empty group for a core resource: {body}"
    );
    // Go's encoder ends each document with a newline.
    ok(c.kubectl(&["create", "configmap", "nl"]));
    let got = ok(c.kubectl(&["get", "--raw", "/api/v1/namespaces/default/configmaps/nl"]));
    assert!(got.ends_with("}\n"), "{got:?}");
}
