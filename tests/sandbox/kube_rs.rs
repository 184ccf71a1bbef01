//! kube-rs (the real client and runtime) against the sandbox over HTTPS.

use crate::common;

use common::*;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{WatchStreamExt, conditions, wait::await_condition, watcher};
use kube::{CustomResource, CustomResourceExt, Resource, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, JsonSchema)]
#[kube(
    group = "test.oplab.dev",
    version = "v1",
    kind = "Parent",
    namespaced,
    status = "ParentStatus"
)]
pub struct ParentSpec {
    pub value: String,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema)]
pub struct ParentStatus {
    pub seen: Option<String>,
}

async fn install_crd(client: &kube::Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &Parent::crd())
        .await
        .expect("create CRD");
    let established = await_condition(
        crds,
        "parents.test.oplab.dev",
        conditions::is_crd_established(),
    );
    tokio::time::timeout(Duration::from_secs(10), established)
        .await
        .expect("CRD established in time")
        .expect("condition");
}

async fn namespace(client: &kube::Client, name: &str) {
    let nss: Api<Namespace> = Api::all(client.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": name}})).expect("ns"),
    )
    .await
    .expect("create ns");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn controller_with_owned_children_does_not_hot_loop() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    install_crd(&client).await;
    namespace(&client, "ctl").await;
    let parents: Api<Parent> = Api::namespaced(client.clone(), "ctl");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "ctl");
    let count = Arc::new(AtomicUsize::new(0));

    // Parents other than p1 are markers: each is reconciled once it is created, after every
    // watch event before its creation, so p1's count read after a marker's reconcile has seen any
    // reconcile p1's own writes would have caused.
    let markers = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));

    struct Ctx {
        client: kube::Client,
        count: Arc<AtomicUsize>,
        markers: Arc<std::sync::Mutex<Vec<String>>>,
    }
    async fn reconcile(p: Arc<Parent>, ctx: Arc<Ctx>) -> Result<Action, kube::Error> {
        if p.name_any() == "p1" {
            ctx.count.fetch_add(1, Ordering::SeqCst);
        }
        let ns = p.namespace().unwrap_or_default();
        let owner = p.controller_owner_ref(&()).expect("owner ref");
        let cm = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("{}-child", p.name_any()), "ownerReferences": [owner]},
            "data": {"value": p.spec.value},
        });
        let cms: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ns);
        cms.patch(
            &format!("{}-child", p.name_any()),
            &PatchParams::apply("parent-controller").force(),
            &Patch::Apply(cm),
        )
        .await?;
        let parents: Api<Parent> = Api::namespaced(ctx.client.clone(), &ns);
        parents
            .patch_status(
                &p.name_any(),
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"seen": p.spec.value}})),
            )
            .await?;
        if p.name_any() != "p1" {
            ctx.markers.lock().expect("markers").push(p.name_any());
        }
        Ok(Action::await_change())
    }
    fn error_policy(_: Arc<Parent>, _: &kube::Error, _: Arc<Ctx>) -> Action {
        Action::requeue(Duration::from_millis(100))
    }
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        count: count.clone(),
        markers: markers.clone(),
    });
    let marker = |name: &'static str| {
        let (parents, markers) = (parents.clone(), markers.clone());
        async move {
            parents
                .create(
                    &PostParams::default(),
                    &serde_json::from_value(
                        json!({"metadata": {"name": name}, "spec": {"value": "marker"}}),
                    )
                    .expect("marker"),
                )
                .await
                .expect("create marker");
            let reconciled = eventually(Duration::from_secs(10), || {
                markers.lock().expect("markers").iter().any(|m| m == name)
            })
            .await;
            assert!(reconciled, "the controller never reconciled marker {name}");
        }
    };
    let controller = Controller::new(parents.clone(), watcher::Config::default())
        .owns(cms.clone(), watcher::Config::default())
        .run(reconcile, error_policy, ctx)
        .for_each(|_| async {});
    let handle = tokio::spawn(controller);

    parents
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "p1"}, "spec": {"value": "one"}}))
                .expect("parent"),
        )
        .await
        .expect("create parent");
    let made = eventually(Duration::from_secs(10), || {
        count.load(Ordering::SeqCst) >= 1
    })
    .await;
    assert!(made, "the controller never reconciled");
    let child = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(cm) = cms.get("p1-child").await {
                return cm;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("child created");
    assert_eq!(
        child
            .data
            .unwrap_or_default()
            .get("value")
            .map(String::as_str),
        Some("one")
    );
    // Let it settle (a marker after its own writes), then count: without changes there must be
    // no further reconciles (by the next marker).
    marker("m1").await;
    let settled = count.load(Ordering::SeqCst);
    assert!(settled <= 4, "{settled} reconciles for one change");
    marker("m2").await;
    assert_eq!(
        count.load(Ordering::SeqCst),
        settled,
        "reconciles continue without any change: a hot loop"
    );
    // One change: a bounded number of reconciles, and the child follows.
    parents
        .patch(
            "p1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"value": "two"}})),
        )
        .await
        .expect("patch");
    let followed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let seen = parents.get_status("p1").await.ok().and_then(|p| p.status);
            if seen.and_then(|s| s.seen).as_deref() == Some("two") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await;
    assert!(followed.is_ok(), "the change was never reconciled");
    marker("m3").await;
    let after = count.load(Ordering::SeqCst);
    assert!(
        after > settled && after <= settled + 4,
        "{} reconciles for one change",
        after - settled
    );
    assert_eq!(
        cms.get("p1-child")
            .await
            .expect("child")
            .data
            .unwrap_or_default()
            .get("value")
            .map(String::as_str),
        Some("two")
    );
    let status = parents.get_status("p1").await.expect("status");
    assert_eq!(status.status.and_then(|s| s.seen).as_deref(), Some("two"));
    handle.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watcher_relists_after_compacted_history() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let inits = Arc::new(AtomicUsize::new(0));
    let (s2, i2) = (seen.clone(), inits.clone());
    let stream = watcher(cms.clone(), watcher::Config::default()).default_backoff();
    let handle = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(watcher::Event::Init) => {
                    i2.fetch_add(1, Ordering::SeqCst);
                }
                Ok(watcher::Event::Apply(cm)) | Ok(watcher::Event::InitApply(cm)) => {
                    s2.lock().expect("lock").push(cm.name_any())
                }
                _ => {}
            }
        }
    });
    let make = |name: &str| {
        serde_json::from_value::<ConfigMap>(json!({"metadata": {"name": name}})).expect("cm")
    };
    cms.create(&PostParams::default(), &make("before"))
        .await
        .expect("create");
    assert!(
        eventually(Duration::from_secs(10), || seen
            .lock()
            .expect("lock")
            .contains(&"before".to_string()))
        .await
    );
    // While the watcher is cut off, history moves on and is compacted: it resumes with an old
    // resourceVersion, gets 410 Expired in the stream, and must relist.
    let api = c.sandbox.api.clone();
    api.faults
        .fail_requests(1.0, oplab::sandbox::store::faults::FaultKind::ServerError);
    assert!(
        eventually(Duration::from_secs(10), || api.faults.open_watches() == 1).await,
        "the watcher's stream never opened"
    );
    api.faults.drop_watches();
    // Cut off: its stream has ended, and reconnecting fails while requests fail.
    assert!(
        eventually(Duration::from_secs(10), || api.faults.open_watches() == 0).await,
        "the dropped watch is still open"
    );
    let rt = api
        .registry()
        .get("", "v1", "configmaps")
        .expect("configmaps");
    api.create(
        &rt,
        "default",
        json!({"metadata": {"name": "during"}}),
        &oplab::sandbox::store::api::WriteOpts::internal("test"),
    )
    .expect("create");
    api.store.compact();
    api.faults.clear();
    cms.create(&PostParams::default(), &make("after"))
        .await
        .expect("create");
    assert!(
        eventually(Duration::from_secs(15), || {
            let s = seen.lock().expect("lock");
            s.contains(&"during".to_string()) && s.contains(&"after".to_string())
        })
        .await,
        "the watcher did not recover: {:?}",
        seen.lock().expect("lock")
    );
    assert!(
        inits.load(Ordering::SeqCst) >= 2,
        "the watcher never relisted"
    );
    handle.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn streaming_lists_finish_their_initial_events() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for i in 0..5 {
        cms.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": format!("s{i}")}})).expect("cm"),
        )
        .await
        .expect("create");
    }
    let cfg = watcher::Config::default().streaming_lists();
    let stream = watcher(cms.clone(), cfg).default_backoff();
    let mut stream = std::pin::pin!(stream);
    let mut initial = Vec::new();
    let done = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(ev) = stream.next().await {
            match ev.expect("watch event") {
                watcher::Event::InitApply(cm) => initial.push(cm.name_any()),
                watcher::Event::InitDone => return true,
                _ => {}
            }
        }
        false
    })
    .await;
    assert_eq!(done, Ok(true), "no initial-events-end bookmark");
    for i in 0..5 {
        assert!(initial.contains(&format!("s{i}")), "{initial:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn finalizer_helper_runs_cleanup_before_deletion() {
    use kube::runtime::finalizer::{Event as Finalizer, finalizer};
    let c = TestCluster::start().await;
    let client = c.client().await;
    install_crd(&client).await;
    let parents: Api<Parent> = Api::namespaced(client.clone(), "default");
    parents
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "f1"}, "spec": {"value": "x"}}))
                .expect("p"),
        )
        .await
        .expect("create");
    let cleaned = Arc::new(AtomicUsize::new(0));
    let run = |cleaned: Arc<AtomicUsize>| {
        let parents = parents.clone();
        async move {
            let p = parents.get("f1").await.expect("get");
            finalizer(
                &parents,
                "test.oplab.dev/cleanup",
                Arc::new(p),
                |ev| async move {
                    if let Finalizer::Cleanup(_) = ev {
                        cleaned.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok::<_, kube::Error>(Action::await_change())
                },
            )
            .await
            .expect("finalizer");
        }
    };
    run(cleaned.clone()).await;
    let p = parents.get("f1").await.expect("get");
    assert_eq!(p.finalizers(), ["test.oplab.dev/cleanup"]);
    parents
        .delete("f1", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(
        parents
            .get("f1")
            .await
            .expect("still there")
            .meta()
            .deletion_timestamp
            .is_some()
    );
    run(cleaned.clone()).await;
    assert_eq!(cleaned.load(Ordering::SeqCst), 1);
    let gone = parents.get_opt("f1").await.expect("get_opt");
    assert!(gone.is_none(), "the object outlived its last finalizer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn server_side_apply_conflicts_and_discovery() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    install_crd(&client).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "1"}});
    let first = cms
        .patch("ssa", &PatchParams::apply("alice"), &Patch::Apply(&cm))
        .await
        .expect("apply creates");
    let again = cms
        .patch("ssa", &PatchParams::apply("alice"), &Patch::Apply(&cm))
        .await
        .expect("apply again");
    assert_eq!(
        first.resource_version(),
        again.resource_version(),
        "a no-op apply changed the object"
    );
    let managers: Vec<String> = again
        .managed_fields()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert_eq!(managers, ["alice"]);
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "2"}});
    let err = cms
        .patch("ssa", &PatchParams::apply("bob"), &Patch::Apply(&other))
        .await
        .expect_err("conflict");
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert!(
                s.message.contains("conflict with \"alice\"") && s.message.contains(".data.a"),
                "{}",
                s.message
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    let forced = cms
        .patch(
            "ssa",
            &PatchParams::apply("bob").force(),
            &Patch::Apply(&other),
        )
        .await
        .expect("forced");
    assert_eq!(
        forced.data.unwrap_or_default().get("a").map(String::as_str),
        Some("2")
    );
    // dryRun=All changes nothing.
    let dry = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}, "data": {"a": "1"}});
    let pp = PostParams {
        dry_run: true,
        ..Default::default()
    };
    cms.create(&pp, &serde_json::from_value(dry).expect("cm"))
        .await
        .expect("dry create");
    assert!(
        cms.get_opt("dry").await.expect("get").is_none(),
        "a dry run stored the object"
    );
    // Discovery finds built-in groups and the CRD's group.
    let discovery = kube::discovery::Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    let groups: Vec<String> = discovery.groups().map(|g| g.name().to_string()).collect();
    for g in [
        "",
        "apps",
        "batch",
        "rbac.authorization.k8s.io",
        "apiextensions.k8s.io",
        "coordination.k8s.io",
        "test.oplab.dev",
    ] {
        assert!(groups.iter().any(|x| x == g), "{g} missing from {groups:?}");
    }
    let (ar, caps) = discovery
        .resolve_gvk(&kube::api::GroupVersionKind::gvk(
            "test.oplab.dev",
            "v1",
            "Parent",
        ))
        .expect("Parent discovered");
    assert_eq!(ar.plural, "parents");
    assert!(
        caps.subresources
            .iter()
            .any(|(s, _)| s.plural.ends_with("status")),
        "{:?}",
        caps.subresources
            .iter()
            .map(|(s, _)| s.plural.clone())
            .collect::<Vec<_>>()
    );
    let list = cms
        .list(&ListParams::default().labels("nothing=here"))
        .await
        .expect("list");
    assert!(list.items.is_empty());
    assert!(
        list.metadata
            .resource_version
            .is_some_and(|rv| !rv.is_empty())
    );
}
