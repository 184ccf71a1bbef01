//! The chapter 3 reference solution (a Python operator) run for real against the sandbox: it deploys,
//! heals and scales a Gordon with the built-in operator switched off.

use crate::common;

use common::*;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;
use std::time::Duration;

async fn running_pods(pods: &Api<Pod>) -> Vec<Pod> {
    pods.list(&ListParams::default().labels("operator.prgcont.cz/gordon=g1"))
        .await
        .expect("list")
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect()
}

async fn wait_count(pods: &Api<Pod>, n: usize) -> bool {
    for _ in 0..400 {
        if running_pods(pods).await.len() == n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reference_python_operator_deploys_heals_and_scales() {
    let py = python_with_client();
    let c = TestCluster::start().await;
    let client = c.client().await;
    let docs = oplab::cluster::load_documents(&["gordon".to_string()], &Default::default())
        .expect("gordon set");
    // The set's example Gordon would be picked up too; apply only the CRD and namespace here.
    let docs: Vec<_> = docs
        .into_iter()
        .filter(|d| matches!(d.kind(), "CustomResourceDefinition" | "Namespace"))
        .collect();
    oplab::cluster::apply::apply(&client, docs, &Default::default(), None)
        .await
        .expect("CRD applied");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("labs/solutions/gordon_operator.py");
    let mut child = tokio::process::Command::new(py)
        .arg(script)
        .args(["-n", "gordon"])
        .env("KUBECONFIG", &c.kubeconfig)
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python operator starts");

    let gordons: Api<kube::api::DynamicObject> = Api::namespaced_with(
        client.clone(),
        "gordon",
        &kube::core::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk("operator.prgcont.cz", "v1", "Gordon"),
            "gordons",
        ),
    );
    let g = json!({"apiVersion": "operator.prgcont.cz/v1", "kind": "Gordon", "metadata": {"name": "g1"}, "spec": {"gordon": {"replicas": 3}}});
    gordons
        .patch("g1", &PatchParams::apply("test"), &Patch::Apply(&g))
        .await
        .expect("Gordon created");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "gordon");
    assert!(
        wait_count(&pods, 3).await,
        "the Python operator did not create 3 pods"
    );

    // Self-healing: a deleted pod is replaced.
    let victim = running_pods(&pods).await[0]
        .metadata
        .name
        .clone()
        .expect("name");
    pods.delete(&victim, &DeleteParams::default())
        .await
        .expect("delete");
    let mut healed = false;
    for _ in 0..400 {
        let now = running_pods(&pods).await;
        if now.len() == 3
            && now
                .iter()
                .all(|p| p.metadata.name.as_deref() != Some(victim.as_str()))
        {
            healed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(healed, "the deleted pod was not replaced");

    // Scaling down, and the status through the status subresource.
    gordons
        .patch(
            "g1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"gordon": {"replicas": 1}}})),
        )
        .await
        .expect("scale");
    assert!(
        wait_count(&pods, 1).await,
        "the Python operator did not scale down to 1"
    );
    let mut status_ok = false;
    for _ in 0..200 {
        let g = gordons.get("g1").await.expect("get");
        if g.data["status"]["replicas"] == json!(1) {
            status_ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(status_ok, "status.replicas never became 1");
    let _ = child.start_kill();
    let out = child.wait_with_output().await.expect("operator output");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        !log.contains("Traceback"),
        "the Python operator crashed:\n{log}"
    );
}
