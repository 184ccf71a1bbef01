//! API semantics through kube-rs: garbage collection, multi-version CRDs, defaults, events, leases, deletecollection.

use crate::common;

use common::*;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use k8s_openapi::api::events::v1::Event as NewEvent;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, PropagationPolicy,
};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::json;
use std::time::Duration;

async fn owner_and_child(client: &kube::Client, owner: &str) -> (Api<ConfigMap>, String) {
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let parent = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": owner}})).expect("cm"),
        )
        .await
        .expect("owner");
    let uid = parent.metadata.uid.clone().expect("uid");
    let child = json!({"metadata": {"name": format!("{owner}-child"), "ownerReferences": [{
        "apiVersion": "v1", "kind": "ConfigMap", "name": owner, "uid": uid, "blockOwnerDeletion": true, "controller": true}]}});
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(child).expect("child"),
    )
    .await
    .expect("child");
    (cms, format!("{owner}-child"))
}

async fn gone(cms: &Api<ConfigMap>, name: &str) -> bool {
    for _ in 0..200 {
        if cms.get_opt(name).await.expect("get").is_none() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_collection_background_foreground_orphan() {
    let c = TestCluster::start().await;
    let client = c.client().await;

    let (cms, child) = owner_and_child(&client, "bg").await;
    cms.delete("bg", &DeleteParams::background())
        .await
        .expect("delete");
    assert!(
        gone(&cms, &child).await,
        "background deletion left the dependent"
    );

    let (cms, child) = owner_and_child(&client, "fg").await;
    // The dependent holds a finalizer, so the owner must wait in the foreground.
    cms.patch(
        &child,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": ["test/hold"]}})),
    )
    .await
    .expect("hold");
    cms.delete("fg", &DeleteParams::foreground())
        .await
        .expect("delete");
    // The garbage collector has acted on the foreground deletion once it deletes the dependent
    // (held by its finalizer): the owner must still be there after that.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let dependent = cms
            .get(&child)
            .await
            .expect("dependent held by its finalizer");
        if dependent.metadata.deletion_timestamp.is_some() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the garbage collector never deleted the dependent"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let owner = cms
        .get("fg")
        .await
        .expect("owner still there while its dependent is");
    assert!(owner.metadata.deletion_timestamp.is_some());
    assert!(
        owner
            .metadata
            .finalizers
            .unwrap_or_default()
            .contains(&"foregroundDeletion".to_string())
    );
    cms.patch(
        &child,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .expect("release");
    assert!(gone(&cms, &child).await, "foreground dependent not deleted");
    assert!(
        gone(&cms, "fg").await,
        "foreground owner not deleted after its dependents"
    );

    let (cms, child) = owner_and_child(&client, "or").await;
    cms.delete(
        "or",
        &DeleteParams {
            propagation_policy: Some(PropagationPolicy::Orphan),
            ..Default::default()
        },
    )
    .await
    .expect("delete");
    assert!(gone(&cms, "or").await, "orphaning owner not deleted");
    let orphan = cms.get(&child).await.expect("orphan kept");
    assert!(
        orphan
            .metadata
            .owner_references
            .unwrap_or_default()
            .is_empty(),
        "orphan still points at its owner"
    );

    // Deleting a pod with dependents' owner gone: a child created with a stale owner is collected.
    let stale = json!({"metadata": {"name": "stale", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "nobody", "uid": "0000"}]}});
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(stale).expect("cm"),
    )
    .await
    .expect("stale");
    assert!(
        gone(&cms, "stale").await,
        "an object whose owner does not exist was kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_version_crds_defaults_and_pruning() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "tools.test.oplab.dev"},
        "spec": {"group": "test.oplab.dev", "scope": "Namespaced", "names": {"plural": "tools", "kind": "Tool"},
            "versions": [
                {"name": "v1beta1", "served": true, "storage": false, "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer", "default": 1}}}}}}},
                {"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer", "default": 1}, "mode": {"type": "string", "default": "fast"}}}}}}}
            ]}
    });
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> = Api::all(client.clone());
    let made = crds
        .create(
            &PostParams::default(),
            &serde_json::from_value(crd).expect("crd"),
        )
        .await
        .expect("crd");
    assert_eq!(
        made.status.and_then(|s| s.stored_versions),
        Some(vec!["v1".to_string()])
    );
    let gvk = |v: &str| {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("test.oplab.dev", v, "Tool"),
            "tools",
        )
    };
    let v1: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &gvk("v1"));
    let beta: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &gvk("v1beta1"));
    let obj: DynamicObject = serde_json::from_value(json!({"apiVersion": "test.oplab.dev/v1", "kind": "Tool", "metadata": {"name": "t1"}, "spec": {"extra": true}})).expect("tool");
    let created = v1
        .create(&PostParams::default(), &obj)
        .await
        .expect("create");
    assert_eq!(
        created.data["spec"],
        json!({"size": 1, "mode": "fast"}),
        "defaults filled and unknown fields pruned"
    );
    let via_beta = beta.get("t1").await.expect("served at v1beta1 too");
    assert_eq!(
        via_beta.types.as_ref().map(|t| t.api_version.as_str()),
        Some("test.oplab.dev/v1beta1")
    );
    // Discovery prefers the GA version.
    let group = kube::discovery::group(&client, "test.oplab.dev")
        .await
        .expect("group");
    assert_eq!(group.preferred_version_or_latest(), "v1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_leases_and_deletecollection() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    // events.k8s.io/v1 events are core events too (kubectl describe reads those).
    let events: Api<NewEvent> = Api::namespaced(client.clone(), "default");
    let ev = json!({"metadata": {"name": "e1"}, "eventTime": "2026-01-01T00:00:00.000000Z", "reason": "Tested", "note": "hello",
        "type": "Normal", "action": "Test", "reportingController": "oplab.dev/test", "reportingInstance": "t",
        "regarding": {"kind": "ConfigMap", "name": "x", "namespace": "default", "apiVersion": "v1"}});
    events
        .create(
            &PostParams::default(),
            &serde_json::from_value(ev).expect("event"),
        )
        .await
        .expect("create event");
    let core: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), "default");
    let seen = core
        .list(&ListParams::default().fields("involvedObject.name=x"))
        .await
        .expect("list core events");
    assert_eq!(seen.items.len(), 1);
    assert_eq!(seen.items[0].message.as_deref(), Some("hello"));
    let back = events.get("e1").await.expect("get new event");
    assert_eq!(back.note.as_deref(), Some("hello"));

    let leases: Api<Lease> = Api::namespaced(client.clone(), "default");
    let lease = json!({"metadata": {"name": "leader"}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}});
    leases
        .create(
            &PostParams::default(),
            &serde_json::from_value(lease).expect("lease"),
        )
        .await
        .expect("create lease");
    let renewed = leases
        .patch(
            "leader",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"holderIdentity": "b"}})),
        )
        .await
        .expect("renew");
    assert_eq!(
        renewed.spec.and_then(|s| s.holder_identity).as_deref(),
        Some("b")
    );

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    for i in 0..3 {
        let p = json!({"metadata": {"name": format!("dc{i}"), "labels": {"batch": "x"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}});
        pods.create(
            &PostParams::default(),
            &serde_json::from_value(p).expect("pod"),
        )
        .await
        .expect("pod");
    }
    pods.delete_collection(
        &DeleteParams::default().grace_period(0),
        &ListParams::default().labels("batch=x"),
    )
    .await
    .expect("deletecollection");
    let left = pods
        .list(&ListParams::default().labels("batch=x"))
        .await
        .expect("list");
    assert!(left.items.is_empty(), "{} pods left", left.items.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_image_waits_with_invalid_image_name() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let p = json!({"metadata": {"name": "bad-image"}, "spec": {"containers": [{"name": "c", "image": "Busybox:Latest!"}]}});
    pods.create(
        &PostParams::default(),
        &serde_json::from_value(p).expect("pod"),
    )
    .await
    .expect("created: the image is checked by the kubelet, not the API");
    let mut reason = None;
    for _ in 0..200 {
        let pod = pods.get("bad-image").await.expect("get");
        let status = pod.status.unwrap_or_default();
        if let Some(w) = status
            .container_statuses
            .unwrap_or_default()
            .first()
            .and_then(|s| s.state.as_ref())
            .and_then(|s| s.waiting.as_ref())
        {
            reason = w.reason.clone();
            assert_eq!(status.phase.as_deref(), Some("Pending"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(reason.as_deref(), Some("InvalidImageName"));
    let table = c.kubectl(&["get", "pod", "bad-image"]);
    assert!(
        stdout(&table).contains("InvalidImageName"),
        "{}",
        stdout(&table)
    );
}
