//! Chaos: the operator under injected API failures (10 %), dropped watches, compacted history, random pod
//! deletions, Failed pods, scaling and a recreated Gordon, for a few hundred rounds; at the end every Gordon
//! has exactly its replicas, with no orphan and no duplicate pod, and it never had more than asked.

use crate::common;
use crate::common::operator as op;

use common::TestCluster;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use op::*;
use oplab::operator::{Gordon, LABEL, Scope};
use oplab::sandbox::store::faults::FaultKind;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const MAX_REPLICAS: i64 = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_ends_with_exact_counts() {
    let cluster = TestCluster::start().await;
    let client = cluster.client().await;
    install_crd(&client).await;
    let gordons = [("c1", "x"), ("c1", "y"), ("c2", "x"), ("c2", "z")];
    for ns in ["c1", "c2"] {
        namespace(&client, ns).await;
    }
    for (ns, name) in gordons {
        create_gordon(&client, ns, name, 2).await;
    }
    let watch = Overshoot::watch(client.clone());
    let operator = Operator::start(cluster.client().await, Scope::All);
    let seed: u64 = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("chaos seed {seed} (rerun with CHAOS_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let api = &cluster.sandbox.api;
    let started = std::time::Instant::now();
    let rounds = 300;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for round in 0..rounds {
        if round % 50 == 0 {
            let kind = if rng.random_bool(0.5) {
                FaultKind::ServerError
            } else {
                FaultKind::Conflict
            };
            api.faults.fail_requests(0.10, kind);
        }
        let (ns, name) = gordons[rng.random_range(0..gordons.len())];
        let pods_api: Api<Pod> = Api::namespaced(client.clone(), ns);
        let roll = rng.random_range(0..100);
        let what = match roll {
            0..30 => {
                let _ = scale(&client, ns, name, rng.random_range(0..=MAX_REPLICAS)).await;
                "scale"
            }
            30..60 => {
                let pods = pods_of(&client, ns, name).await;
                if !pods.is_empty() {
                    let p = &pods[rng.random_range(0..pods.len())];
                    let _ = pods_api
                        .delete(&p.name_any(), &DeleteParams::default())
                        .await;
                }
                "delete pod"
            }
            60..70 => {
                let pods = pods_of(&client, ns, name).await;
                if !pods.is_empty() {
                    let p = &pods[rng.random_range(0..pods.len())];
                    let _ = pods_api
                        .patch_status(
                            &p.name_any(),
                            &PatchParams::default(),
                            &Patch::Merge(serde_json::json!({"status": {"phase": "Failed"}})),
                        )
                        .await;
                }
                "fail pod"
            }
            70..80 => {
                api.faults.drop_watches();
                "drop watches"
            }
            80..88 => {
                api.store.compact();
                api.faults.drop_watches();
                "compact"
            }
            88..91 => {
                // recreate: the old pods belong to the old uid and go with it
                let g: Api<Gordon> = Api::namespaced(client.clone(), ns);
                if g.delete(name, &DeleteParams::default()).await.is_ok() {
                    let fresh = gordon(ns, name, rng.random_range(0..=MAX_REPLICAS));
                    let mut tries = 0;
                    while g.create(&Default::default(), &fresh).await.is_err() && tries < 50 {
                        tries += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                "recreate gordon"
            }
            _ => "nothing",
        };
        *counts.entry(what).or_default() += 1;
        tokio::time::sleep(Duration::from_millis(rng.random_range(5..60))).await;
    }
    api.faults.clear();
    eprintln!("{rounds} rounds in {:?}: {counts:?}", started.elapsed());

    // converge on whatever the specs say now
    for (ns, name) in gordons {
        let g: Api<Gordon> = Api::namespaced(client.clone(), ns);
        let want = g
            .get(name)
            .await
            .expect("gordon exists")
            .spec
            .gordon
            .replicas
            .expect("replicas") as usize;
        until(
            &format!("{ns}/{name} converged to {want}"),
            Duration::from_secs(30),
            || converged(&client, ns, name, want),
        )
        .await;
        assert!(
            watch.max_of(&format!("{ns}/{name}")) <= MAX_REPLICAS as usize,
            "{ns}/{name} had {} active pods at once",
            watch.max_of(&format!("{ns}/{name}"))
        );
    }

    // once terminating pods finished: exactly the replicas, no orphan, no duplicate
    until("only wanted pods left", Duration::from_secs(15), || async {
        let pods: Api<Pod> = Api::all(client.clone());
        let all = pods
            .list(&ListParams::default().labels(LABEL))
            .await
            .map_err(|e| e.to_string())?;
        let mut uids = HashMap::new();
        let mut want_total = 0;
        for (ns, name) in gordons {
            let g: Api<Gordon> = Api::namespaced(client.clone(), ns);
            let g = g.get(name).await.map_err(|e| e.to_string())?;
            want_total += g.spec.gordon.replicas.unwrap_or(0) as usize;
            uids.insert(g.uid().unwrap_or_default(), format!("{ns}/{name}"));
        }
        let mut names = HashSet::new();
        for p in &all.items {
            let owners: Vec<_> = p
                .owner_references()
                .iter()
                .filter(|o| o.controller == Some(true))
                .collect();
            if owners.len() != 1 || !uids.contains_key(&owners[0].uid) {
                return Err(format!(
                    "orphan or foreign pod {}/{}",
                    p.namespace().unwrap_or_default(),
                    p.name_any()
                ));
            }
            assert!(names.insert((p.namespace(), p.name_any())), "duplicate pod");
        }
        if all.items.len() != want_total {
            return Err(format!("{} pods, want {want_total}", all.items.len()));
        }
        Ok(())
    })
    .await;
    operator.stop().await;
}
