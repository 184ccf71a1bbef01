//! The check engine on the in-process sandbox: every reading check kind, exec on the sandbox,
//! shared watches, pass/break/fix within a bounded number of events, disconnect and reconnect.

use crate::common;

use common::TestCluster;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use oplab::checks::{Engine, TaskVerdict, Verdict};
use oplab::lab::{
    Check, Compare, CountCheck, CountCmp, ExecCheck, ExecSpec, JsonPathCheck, LabelSelector,
    ObjectAssert, OutputExpect, OwnedCheck, PodRef, Target,
};
use serde_json::json;
use std::time::Duration;

fn target(
    api_version: &str,
    kind: &str,
    ns: Option<&str>,
    name: Option<&str>,
    sel: Option<&str>,
) -> Target {
    Target {
        api_version: api_version.into(),
        kind: kind.into(),
        namespace: ns.map(Into::into),
        name: name.map(Into::into),
        selector: sel.map(|s| LabelSelector::parse(s).expect("selector")),
    }
}

fn cm_assert(ns: &str, name: &str, value: &str) -> Check {
    Check::Assert(ObjectAssert {
        target: target("v1", "ConfigMap", Some(ns), Some(name), None),
        expect: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": {"a": value}}),
    })
}

/// Evaluates, then follows changes until `pred` holds; panics after `max` change batches.
async fn until(
    engine: &mut Engine,
    i: usize,
    max: usize,
    pred: impl Fn(&Verdict) -> bool,
) -> TaskVerdict {
    for _ in 0..=max {
        let v = engine.evaluate(i);
        if pred(&v.verdict) {
            return v;
        }
        tokio::time::timeout(Duration::from_secs(10), engine.next_changes())
            .await
            .expect("a change within 10 s")
            .expect("watches alive");
    }
    panic!(
        "not reached within {max} change batches: {:?}",
        engine.evaluate(i)
    );
}

async fn configmap(client: &kube::Client, ns: &str, name: &str, a: &str) {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": name}, "data": {"a": a}})).expect("cm");
    api.create(&PostParams::default(), &cm)
        .await
        .expect("create cm");
}

async fn set_a(client: &kube::Client, ns: &str, name: &str, a: &str) {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"a": a}})),
    )
    .await
    .expect("patch cm");
}

#[tokio::test]
async fn pass_break_and_fix_within_bounded_events() {
    let tc = TestCluster::start().await;
    let client = tc.client().await;
    let mut engine = Engine::new(client.clone());
    let i = engine.add_check("lab", "cm", "a ConfigMap", cm_assert("default", "cm", "1"));
    engine.settle(Duration::from_secs(10)).await;
    let v = engine.evaluate(i);
    assert_eq!(
        v.verdict,
        Verdict::Fail("ConfigMap cm in default not found".into())
    );

    configmap(&client, "default", "cm", "1").await;
    until(&mut engine, i, 5, Verdict::is_pass).await;

    set_a(&client, "default", "cm", "2").await;
    let broken = until(&mut engine, i, 5, |v| matches!(v, Verdict::Fail(_))).await;
    let reason = broken.verdict.reason().to_string();
    assert!(reason.contains("data.a: is \"2\", want \"1\""), "{reason}");
    assert!(
        reason.contains("-  a: '1'") || reason.contains("-  a: \"1\""),
        "diff in: {reason}"
    );

    set_a(&client, "default", "cm", "1").await;
    until(&mut engine, i, 5, Verdict::is_pass).await;
}

#[tokio::test]
async fn count_owned_absent_jsonpath_and_any() {
    let tc = TestCluster::start().await;
    let client = tc.client().await;
    configmap(&client, "default", "owner", "1").await;
    let owner = Api::<ConfigMap>::namespaced(client.clone(), "default")
        .get("owner")
        .await
        .expect("owner");
    let uid = owner.metadata.uid.clone().expect("uid");

    let mut engine = Engine::new(client.clone());
    let count = engine.add_check(
        "lab",
        "count",
        "two running pods",
        Check::Count(CountCheck {
            target: target("v1", "Pod", Some("default"), None, Some("app=web")),
            filter: Some(json!({"status": {"phase": "Running"}})),
            expect: CountCmp::Equals(2),
        }),
    );
    let owned = engine.add_check(
        "lab",
        "owned",
        "owned pods",
        Check::Owned(OwnedCheck {
            owner: target("v1", "ConfigMap", Some("default"), Some("owner"), None),
            owned: target("v1", "Pod", None, None, None),
            expect: CountCmp::Equals(2),
            controller: true,
            not_made_by: None,
        }),
    );
    let absent = engine.add_check(
        "lab",
        "absent",
        "no web pods",
        Check::Absent(target("v1", "Pod", Some("default"), None, Some("app=web"))),
    );
    let jp = engine.add_check(
        "lab",
        "jp",
        "owner data",
        Check::JsonPath(JsonPathCheck {
            target: target("v1", "ConfigMap", Some("default"), Some("owner"), None),
            path_text: "$.data.a".into(),
            path: serde_json_path::JsonPath::parse("$.data.a").expect("path"),
            compare: Compare::Equals(json!("1")),
        }),
    );
    let any = engine.add_check(
        "lab",
        "any",
        "either",
        Check::Any(vec![
            cm_assert("default", "nope", "1"),
            cm_assert("default", "owner", "1"),
        ]),
    );
    engine.settle(Duration::from_secs(10)).await;
    // Pods and ConfigMaps in default: two watches, whatever the number of checks.
    assert_eq!(
        engine.stores().watch_count(),
        2,
        "{:?}",
        engine.stores().keys()
    );
    assert!(engine.evaluate(absent).verdict.is_pass());
    assert!(engine.evaluate(jp).verdict.is_pass());
    assert!(engine.evaluate(any).verdict.is_pass());
    let v = engine.evaluate(count).verdict;
    assert_eq!(
        v.reason(),
        "want exactly 2 Pod with label app=web in default in phase Running, found 0"
    );

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    for n in ["web-1", "web-2"] {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": n, "labels": {"app": "web"}, "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid, "controller": true}
            ]},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}
        }))
        .expect("pod");
        pods.create(&PostParams::default(), &pod)
            .await
            .expect("create pod");
    }
    until(&mut engine, count, 20, Verdict::is_pass).await;
    assert!(engine.evaluate(owned).verdict.is_pass());
    let v = engine.evaluate(absent).verdict;
    assert!(
        v.reason()
            .starts_with("want no Pod with label app=web in default, found 2"),
        "{v}"
    );

    set_a(&client, "default", "owner", "2").await;
    let v = until(&mut engine, jp, 5, |v| !v.is_pass()).await;
    assert_eq!(
        v.verdict.reason(),
        "$.data.a of ConfigMap owner in default is \"2\", want \"1\""
    );

    pods.delete("web-1", &DeleteParams::default())
        .await
        .expect("delete");
    let v = until(&mut engine, count, 20, |v| !v.is_pass()).await;
    assert!(v.verdict.reason().contains("found 1"), "{}", v.verdict);
}

#[tokio::test]
async fn exec_on_the_sandbox_cannot_check_with_the_reason() {
    let tc = TestCluster::start().await;
    let client = tc.client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "etcd-0"}, "spec": {"containers": [{"name": "c", "image": "etcd"}]}})).expect("pod");
    pods.create(&PostParams::default(), &pod)
        .await
        .expect("create");
    let mut engine = Engine::new(client);
    let i = engine.add_check(
        "lab",
        "exec",
        "members",
        Check::Exec(ExecCheck {
            exec: ExecSpec {
                namespace: "default".into(),
                pod: PodRef::Name("etcd-0".into()),
                container: None,
                command: vec!["etcdctl".into(), "member".into(), "list".into()],
                timeout: Duration::from_secs(5),
            },
            expect: OutputExpect {
                lines: Some(3),
                ..Default::default()
            },
        }),
    );
    assert!(matches!(engine.evaluate(i).verdict, Verdict::Skipped(_)));
    engine.run_execs(&[i]).await;
    match engine.evaluate(i).verdict {
        Verdict::CannotCheck(why) => assert!(why.contains("simulated"), "{why}"),
        other => panic!("want cannot check, got {other}"),
    }
}

/// `v` on a task whose check is an exec (the TUI's probe request): the command runs and its verdict
/// comes back, here against a real etcd member of the sandbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_checks_run_on_request_against_an_etcd_pod() {
    let tc = TestCluster::start().await;
    let client = tc.client().await;
    let o = tc.kubectl_stdin(
        &common::kubectl_default(),
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: Pod\nmetadata: {name: solo}\nspec:\n  containers:\n  - {name: etcd, image: quay.io/coreos/etcd:v3.5.21, args: [--name=solo]}\n",
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let mut engine = Engine::new(client);
    let i = engine.add_check(
        "lab",
        "members",
        "one member",
        Check::Exec(ExecCheck {
            exec: ExecSpec {
                namespace: "default".into(),
                pod: PodRef::Name("solo".into()),
                container: None,
                command: vec!["etcdctl".into(), "member".into(), "list".into()],
                timeout: Duration::from_secs(5),
            },
            expect: OutputExpect {
                lines: Some(1),
                contains: vec!["started, solo".into()],
                ..Default::default()
            },
        }),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let v = engine.run_probe(i).await;
        if v.verdict.is_pass() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the exec check never passed: {}",
            v.verdict
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn dropped_and_compacted_watches_reconnect_without_a_stale_pass() {
    let tc = TestCluster::start().await;
    let client = tc.client().await;
    let mut engine = Engine::new(client.clone());
    let i = engine.add_check("lab", "cm", "a ConfigMap", cm_assert("default", "cm", "1"));
    engine.settle(Duration::from_secs(10)).await;
    configmap(&client, "default", "cm", "1").await;
    until(&mut engine, i, 5, Verdict::is_pass).await;

    // A dropped watch resumes from its resourceVersion: changes made meanwhile are seen.
    tc.sandbox.api.faults.drop_watches();
    set_a(&client, "default", "cm", "2").await;
    until(&mut engine, i, 10, |v| matches!(v, Verdict::Fail(_))).await;

    // Compacted history: the watch gets 410, re-lists (disconnected meanwhile), then is current.
    tc.sandbox.api.store.compact();
    tc.sandbox.api.faults.drop_watches();
    set_a(&client, "default", "cm", "1").await;
    until(&mut engine, i, 20, Verdict::is_pass).await;

    // The server failing every request: disconnected, never the old pass; then back.
    tc.sandbox
        .api
        .faults
        .fail_requests(1.0, oplab::sandbox::store::faults::FaultKind::ServerError);
    tc.sandbox.api.store.compact();
    tc.sandbox.api.faults.drop_watches();
    let v = until(&mut engine, i, 20, |v| {
        matches!(v, Verdict::Disconnected(_))
    })
    .await;
    assert!(!v.verdict.is_pass());
    tc.sandbox.api.faults.clear();
    until(&mut engine, i, 50, Verdict::is_pass).await;
}

#[tokio::test]
async fn a_kind_without_its_crd_fails_plainly_and_passes_once_served() {
    let tc = TestCluster::start().await;
    let client = tc.client().await;
    let mut engine = Engine::new(client.clone());
    let i = engine.add_check(
        "lab",
        "ct",
        "a CronTab",
        Check::Assert(ObjectAssert {
            target: target(
                "stable.example.com/v1",
                "CronTab",
                Some("default"),
                Some("x"),
                None,
            ),
            expect: json!({"metadata": {"name": "x"}, "spec": {"cronSpec": "* * * * *"}}),
        }),
    );
    engine.settle(Duration::from_secs(10)).await;
    let v = engine.evaluate(i).verdict;
    assert!(v.reason().contains("does not serve kind CronTab"), "{v}");
    let docs =
        oplab::cluster::load_documents(&["crontab".to_string()], &oplab::cluster::Vars::default())
            .expect("set");
    oplab::cluster::apply::apply(&client, docs, &Default::default(), None)
        .await
        .expect("crd applied");
    oplab::checks::actions::apply_yaml(
        &client,
        "ct",
        "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: x, namespace: default}\nspec: {cronSpec: '* * * * *', image: busybox}\n",
        "default",
        false,
    )
    .await
    .expect("crontab applied");
    engine.stores().rediscover();
    until(&mut engine, i, 30, Verdict::is_pass).await;
}

/// `v` in the TUI sends a probe request to the running engine: the engine (driven on a thread
/// of its own, as the TUI does) deletes a pod and reports a pass once the Deployment restored it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_probe_requested_from_the_running_engine_runs_and_passes() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}});
    let deps: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), "default");
    deps.patch("web", &PatchParams::apply("test"), &Patch::Apply(&dep))
        .await
        .expect("deployment");
    let md = r#"---
id: probes
title: Probes
order: 9
---
# Probes

## Heal

```task
id: heal
title: A deleted pod comes back
check:
  probe:
    description: Deletes one pod of web and expects two running again within 20 seconds.
    action:
      deleteOne: {apiVersion: v1, kind: Pod, namespace: default, selector: app=web}
    expect:
      count: {apiVersion: v1, kind: Pod, namespace: default, selector: app=web, where: {status: {phase: Running}}, equals: 2}
    within: 20s
hints: [Run the probe.]
solution: {text: Nothing to do.}
```
"#;
    let (lab, diags) = oplab::lab::parse_lab(std::path::Path::new("probes.md"), md);
    let lab = lab.unwrap_or_else(|| panic!("lab parses: {diags:?}"));
    let task = lab.tasks().next().expect("task").clone();
    let mut engine = Engine::new(client.clone());
    engine.add("probes", &task);
    // Pods of the Deployment must be running before the probe deletes one.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    for _ in 0..200 {
        let running = pods
            .list(&kube::api::ListParams::default().labels("app=web"))
            .await
            .expect("list")
            .items
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .count();
        if running == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (vtx, mut vrx) = tokio::sync::mpsc::unbounded_channel();
    let (ptx, prx) = tokio::sync::mpsc::unbounded_channel();
    let stop = tokio_util::sync::CancellationToken::new();
    let runtime = tokio::runtime::Handle::current();
    let token = stop.clone();
    let driver = std::thread::spawn(move || runtime.block_on(engine.run(vtx, prx, token)));
    ptx.send(("probes".to_string(), "heal".to_string()))
        .expect("request");
    let mut passed = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while let Ok(Some(v)) = tokio::time::timeout_at(deadline, vrx.recv()).await {
        let v: TaskVerdict = v;
        if v.task == "heal" && v.verdict.is_pass() {
            passed = true;
            break;
        }
        assert!(
            !matches!(v.verdict, Verdict::Fail(_)),
            "the probe failed: {:?}",
            v.verdict
        );
    }
    stop.cancel();
    let _ = tokio::task::spawn_blocking(move || driver.join()).await;
    assert!(passed, "no passing verdict for the probe");
}

/// An attendee may `get` their own Namespace (a RoleBinding there covers it) but not list
/// Namespaces: a check of their namespace by name still passes, live, from objects fetched one by
/// one; a check of someone else's, or one needing the whole list, says it cannot check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_objects_are_fetched_one_by_one_when_listing_is_forbidden() {
    let tc = TestCluster::start().await;
    let admin = tc.client().await;
    for ns in ["alice-crontabs", "bob-crontabs"] {
        common::ok(tc.kubectl(&["create", "namespace", ns]));
    }
    common::ok(tc.kubectl(&["-n", "alice-crontabs", "create", "serviceaccount", "alice"]));
    let bind = tc.kubectl(&[
        "-n",
        "alice-crontabs",
        "create",
        "rolebinding",
        "alice-admin",
        "--clusterrole=admin",
        "--serviceaccount=alice-crontabs:alice",
    ]);
    assert!(bind.status.success(), "{}", common::stderr(&bind));
    let alice = tc
        .sandbox
        .client_as("alice-crontabs", "alice")
        .await
        .expect("alice's client");

    let ns_assert = |name: &str| {
        Check::Assert(ObjectAssert {
            target: target("v1", "Namespace", None, Some(name), None),
            expect: json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"done": "yes"}}}),
        })
    };
    let mut engine = Engine::new(alice);
    let own = engine.add_check("l", "own", "own namespace", ns_assert("alice-crontabs"));
    let other = engine.add_check("l", "other", "bob's namespace", ns_assert("bob-crontabs"));
    let all = engine.add_check(
        "l",
        "all",
        "every namespace",
        Check::Count(CountCheck {
            target: target("v1", "Namespace", None, None, None),
            filter: None,
            expect: CountCmp::AtLeast(1),
        }),
    );
    engine.settle(Duration::from_secs(10)).await;

    let v = until(&mut engine, own, 50, |v| matches!(v, Verdict::Fail(_))).await;
    assert!(v.verdict.reason().contains("done"), "{v:?}");
    let v = until(&mut engine, other, 50, |v| {
        matches!(v, Verdict::CannotCheck(_))
    })
    .await;
    assert!(v.verdict.reason().contains("forbidden"), "{v:?}");
    let v = until(&mut engine, all, 50, |v| {
        matches!(v, Verdict::CannotCheck(_))
    })
    .await;
    assert!(v.verdict.reason().contains("forbidden"), "{v:?}");

    // The label arrives: the check of her namespace turns green without a list or a watch.
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(admin);
    namespaces
        .patch(
            "alice-crontabs",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"done": "yes"}}})),
        )
        .await
        .expect("label");
    until(&mut engine, own, 50, Verdict::is_pass).await;
}
