//! The Gordon operator on the sandbox over HTTPS: create, scale, heal, replace failed pods, delete, restart,
//! namespaces, odd objects, no status hot loop.
//! The RBAC-limited mode (only the namespaced Role, missing permissions) is in tests/operator/rbac.rs.

use crate::common;
use crate::common::operator as op;

use common::TestCluster;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::events::v1::Event;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use op::*;
use oplab::operator::{DEFAULT_IMAGE, Gordon, LABEL, Scope};
use std::time::Duration;

async fn cluster() -> (TestCluster, kube::Client) {
    let cluster = TestCluster::start().await;
    let client = cluster.client().await;
    install_crd(&client).await;
    (cluster, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploys_scales_heals_and_cleans_up() {
    let (cluster, client) = cluster().await;
    namespace(&client, "gn").await;
    let watch = Overshoot::watch(client.clone());
    let operator = Operator::start(cluster.client().await, Scope::Namespace("gn".into()));
    create_gordon(&client, "gn", "g1", 3).await;
    wait_converged(&client, "gn", "g1", 3).await;

    // the pods as specified
    for p in pods_of(&client, "gn", "g1").await {
        assert!(
            p.name_any().starts_with("g1-"),
            "generateName: {}",
            p.name_any()
        );
        assert_eq!(p.labels().get(LABEL).map(String::as_str), Some("g1"));
        let c = &p.spec.as_ref().expect("spec").containers;
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].name, "gordon");
        assert_eq!(c[0].image.as_deref(), Some(DEFAULT_IMAGE));
    }

    // scaling, never above the largest count asked for
    for n in [5usize, 1, 0, 3] {
        scale(&client, "gn", "g1", n as i64).await.expect("scaled");
        wait_converged(&client, "gn", "g1", n).await;
    }
    assert!(
        watch.max_of("gn/g1") <= 5,
        "overshoot: {}",
        watch.max_of("gn/g1")
    );

    // scaling down removes the newest pods first (all are ready)
    let before = pods_of(&client, "gn", "g1").await;
    let mut by_age: Vec<&Pod> = active(&before);
    by_age.sort_by_key(|p| p.metadata.creation_timestamp.clone().map(|t| t.0));
    let oldest = by_age[0].name_any();
    scale(&client, "gn", "g1", 1).await.expect("scaled");
    wait_converged(&client, "gn", "g1", 1).await;
    let left = pods_of(&client, "gn", "g1").await;
    // creation timestamps have second precision: only check when the oldest is strictly older
    let strictly_older = by_age[1].metadata.creation_timestamp.as_ref().map(|t| t.0)
        > by_age[0].metadata.creation_timestamp.as_ref().map(|t| t.0);
    if strictly_older {
        assert_eq!(active(&left)[0].name_any(), oldest, "the oldest pod stays");
    }
    scale(&client, "gn", "g1", 3).await.expect("scaled");
    wait_converged(&client, "gn", "g1", 3).await;

    // a deleted pod is replaced
    let pods_api: Api<Pod> = Api::namespaced(client.clone(), "gn");
    let victim = active(&pods_of(&client, "gn", "g1").await)[0].name_any();
    pods_api
        .delete(&victim, &DeleteParams::default())
        .await
        .expect("pod deleted");
    until("deleted pod replaced", Duration::from_secs(20), || async {
        let pods = pods_of(&client, "gn", "g1").await;
        if active(&pods).iter().any(|p| p.name_any() == victim) {
            return Err("victim still active".into());
        }
        converged(&client, "gn", "g1", 3).await
    })
    .await;

    // a Failed pod is replaced (and deleted)
    let failed = active(&pods_of(&client, "gn", "g1").await)[0].name_any();
    pods_api
        .patch_status(
            &failed,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"status": {"phase": "Failed"}})),
        )
        .await
        .expect("pod marked Failed");
    until("failed pod replaced", Duration::from_secs(20), || async {
        let pods = pods_of(&client, "gn", "g1").await;
        if active(&pods).iter().any(|p| p.name_any() == failed) {
            return Err("failed pod not deleted".into());
        }
        converged(&client, "gn", "g1", 3).await
    })
    .await;
    assert!(watch.max_of("gn/g1") <= 5);

    // events on the Gordon
    let events: Api<Event> = Api::namespaced(client.clone(), "gn");
    let evs = events.list(&ListParams::default()).await.expect("events");
    let on_g1: Vec<&Event> = evs
        .items
        .iter()
        .filter(|e| {
            e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("g1")
                && e.reporting_controller.as_deref() == Some(oplab::operator::MANAGER)
        })
        .collect();
    let reasons: Vec<&str> = on_g1.iter().filter_map(|e| e.reason.as_deref()).collect();
    for r in ["SuccessfulCreate", "SuccessfulDelete", "Scaled"] {
        assert!(reasons.contains(&r), "event {r} among {reasons:?}");
    }

    // deleting the Gordon removes its pods; the operator logs it
    let gordons: Api<Gordon> = Api::namespaced(client.clone(), "gn");
    gordons
        .delete("g1", &DeleteParams::default())
        .await
        .expect("gordon deleted");
    until(
        "pods of a deleted Gordon gone",
        Duration::from_secs(20),
        || async {
            match pods_of(&client, "gn", "g1").await.len() {
                0 => Ok(()),
                n => Err(format!("{n} pods left")),
            }
        },
    )
    .await;
    until(
        "the operator logs the deletion",
        Duration::from_secs(10),
        || async {
            let lines = operator.lines();
            lines
                .iter()
                .any(|l| l.contains("Gordon gn/g1 is gone"))
                .then_some(())
                .ok_or_else(|| "no 'is gone' line".to_string())
        },
    )
    .await;
    let lines = operator.lines();
    for needle in [
        "saw Gordon gn/g1: want 3, have",
        "POST /api/v1/namespaces/gn/pods (create pod g1-",
        "DELETE /api/v1/namespaces/gn/pods/g1-",
        "PATCH /apis/operator.prgcont.cz/v1/namespaces/gn/gordons/g1/status",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(needle)),
            "log has {needle:?}"
        );
    }
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_scale_creates_no_extra_pods() {
    let (cluster, client) = cluster().await;
    namespace(&client, "rs").await;
    let watch = Overshoot::watch(client.clone());
    create_gordon(&client, "rs", "g", 0).await;
    let mut operator = Operator::start(cluster.client().await, Scope::Namespace("rs".into()));
    for (round, n) in [20usize, 7, 15, 2, 12].into_iter().enumerate() {
        scale(&client, "rs", "g", n as i64).await.expect("scaled");
        // kill the operator (no graceful stop) as soon as the scale is under way
        until("scale under way", Duration::from_secs(20), || async {
            let pods = pods_of(&client, "rs", "g").await;
            let a = active(&pods).len();
            (a != [0, 20, 7, 15, 2][round])
                .then_some(())
                .ok_or_else(|| format!("{a} pods"))
        })
        .await;
        operator.kill().await;
        operator = Operator::start(cluster.client().await, Scope::Namespace("rs".into()));
        wait_converged(&client, "rs", "g", n).await;
    }
    assert!(
        watch.max_of("rs/g") <= 20,
        "overshoot: {}",
        watch.max_of("rs/g")
    );
    // total, including terminating pods once they finished: exactly the last count
    until("terminating pods gone", Duration::from_secs(10), || async {
        match pods_of(&client, "rs", "g").await.len() {
            12 => Ok(()),
            n => Err(format!("{n} pods")),
        }
    })
    .await;
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gordons_and_namespaces_stay_apart() {
    let (cluster, client) = cluster().await;
    namespace(&client, "a").await;
    namespace(&client, "b").await;
    let all = Operator::start(cluster.client().await, Scope::All);
    create_gordon(&client, "a", "g1", 2).await;
    create_gordon(&client, "a", "g2", 3).await;
    create_gordon(&client, "b", "g1", 1).await;
    wait_converged(&client, "a", "g1", 2).await;
    wait_converged(&client, "a", "g2", 3).await;
    wait_converged(&client, "b", "g1", 1).await;
    scale(&client, "a", "g1", 0).await.expect("scaled");
    wait_converged(&client, "a", "g1", 0).await;
    wait_converged(&client, "a", "g2", 3).await;
    wait_converged(&client, "b", "g1", 1).await;
    all.stop().await;

    // namespaced: b is not touched
    let only_a = Operator::start(cluster.client().await, Scope::Namespace("a".into()));
    create_gordon(&client, "b", "g3", 2).await;
    create_gordon(&client, "a", "g4", 1).await;
    wait_converged(&client, "a", "g4", 1).await;
    // b/g1 lost a pod: the namespaced operator must not heal it
    let b_pods: Api<Pod> = Api::namespaced(client.clone(), "b");
    let victim = pods_of(&client, "b", "g1").await[0].name_any();
    b_pods
        .delete(&victim, &DeleteParams::default())
        .await
        .expect("deleted");
    // a change in a after the ones in b: once it is handled, b's would have been too
    scale(&client, "a", "g4", 2).await.expect("scaled");
    wait_converged(&client, "a", "g4", 2).await;
    assert!(
        pods_of(&client, "b", "g3").await.is_empty(),
        "b/g3 untouched"
    );
    assert_eq!(
        active(&pods_of(&client, "b", "g1").await).len(),
        0,
        "b/g1 not healed"
    );
    let gordons: Api<Gordon> = Api::namespaced(client.clone(), "b");
    assert!(gordons.get("g3").await.expect("g3").status.is_none());
    assert!(
        !only_a.lines().iter().any(|l| l.contains(" b/")),
        "the namespaced operator never mentions namespace b"
    );
    only_a.stop().await;
}

/// The acceptance test's CRD keeps unknown fields (and the seed's `state`): odd Gordons must not stop the
/// operator, and a Gordon without replicas gets an InvalidSpec condition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_gordons_and_no_status_hot_loop() {
    let cluster = TestCluster::start().await;
    let client = cluster.client().await;
    let crd: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition =
        serde_saphyr::from_str(LOOSE_CRD).expect("crd yaml");
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    crds.create(&Default::default(), &crd).await.expect("crd");
    install_crd(&client).await; // waits for Established (409 on create is fine)
    namespace(&client, "o").await;
    let raw: Api<kube::api::DynamicObject> = Api::namespaced_with(
        client.clone(),
        "o",
        &kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk("operator.prgcont.cz", "v1", "Gordon"),
            "gordons",
        ),
    );
    let odd: kube::api::DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "operator.prgcont.cz/v1", "kind": "Gordon",
        "metadata": {"name": "odd", "namespace": "o"},
        "spec": {"gordon": {"size": "big"}},
        "state": {"pods": ["x"]},
    }))
    .expect("odd");
    raw.create(&Default::default(), &odd)
        .await
        .expect("odd created");
    let operator = Operator::start(cluster.client().await, Scope::Namespace("o".into()));
    create_gordon(&client, "o", "fine", 2).await;
    wait_converged(&client, "o", "fine", 2).await;
    let gordons: Api<Gordon> = Api::namespaced(client.clone(), "o");
    until(
        "odd Gordon gets InvalidSpec",
        Duration::from_secs(10),
        || async {
            let g = gordons.get("odd").await.map_err(|e| e.to_string())?;
            let c = g
                .status
                .as_ref()
                .and_then(|s| s.condition("Ready").cloned());
            match c {
                Some(c) if c.reason.as_deref() == Some("InvalidSpec") && c.status == "False" => {
                    Ok(())
                }
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
    assert!(pods_of(&client, "o", "odd").await.is_empty());

    // no hot loop: pod changes trigger reconciles, which write nothing when nothing changed
    let rv = gordons.get("fine").await.expect("fine").resource_version();
    let patches = |op: &Operator| {
        op.lines()
            .iter()
            .filter(|l| l.starts_with("PATCH") && l.contains("/gordons/fine/"))
            .count()
    };
    let patches_before = patches(&operator);
    let pods_api: Api<Pod> = Api::namespaced(client.clone(), "o");
    let pod = pods_of(&client, "o", "fine").await[0].name_any();
    for i in 0..2 {
        let saw_before = operator
            .lines()
            .iter()
            .filter(|l| l.starts_with("saw Gordon o/fine"))
            .count();
        pods_api
            .patch(
                &pod,
                &PatchParams::default(),
                &Patch::Merge(
                    serde_json::json!({"metadata": {"annotations": {"touch": i.to_string()}}}),
                ),
            )
            .await
            .expect("touched");
        until(
            "reconcile after a pod change",
            Duration::from_secs(10),
            || async {
                let saw = operator
                    .lines()
                    .iter()
                    .filter(|l| l.starts_with("saw Gordon o/fine"))
                    .count();
                (saw > saw_before)
                    .then_some(())
                    .ok_or_else(|| "no reconcile yet".to_string())
            },
        )
        .await;
    }
    assert_eq!(
        patches(&operator),
        patches_before,
        "no status write without a change"
    );
    assert_eq!(
        gordons.get("fine").await.expect("fine").resource_version(),
        rv
    );
    operator.stop().await;
}

const LOOSE_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gordons.operator.prgcont.cz}
spec:
  group: operator.prgcont.cz
  scope: Namespaced
  names: {plural: gordons, singular: gordon, kind: Gordon, shortNames: [gn]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              gordon:
                type: object
                x-kubernetes-preserve-unknown-fields: true
                properties: {replicas: {type: integer, minimum: 0}}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
          state: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;
