//! Subresource writes go through the one write path: `/scale` patches, pod binding and eviction,
//! namespace finalize; the pod log is the pod kind's own subresource.

use crate::common;

use common::*;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

async fn send(
    client: &kube::Client,
    method: Method,
    path: &str,
    ctype: &str,
    body: Value,
) -> (StatusCode, Value, String) {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        serde_json::to_vec(&body).expect("json")
    };
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("Content-Type", ctype)
        .body(bytes)
        .expect("request");
    let resp = client
        .send(req.map(kube::client::Body::from))
        .await
        .expect("response");
    let code = resp.status();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    let text = String::from_utf8_lossy(&bytes).to_string();
    (
        code,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text,
    )
}

const JSON: &str = "application/json";
const MERGE: &str = "application/merge-patch+json";
const JSON_PATCH: &str = "application/json-patch+json";

async fn get(client: &kube::Client, path: &str) -> Value {
    let (code, v, text) = send(client, Method::GET, path, JSON, Value::Null).await;
    assert_eq!(code, StatusCode::OK, "GET {path}: {text}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_patches_share_the_object_write_path() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}});
    let base = "/apis/apps/v1/namespaces/default/deployments";
    let (code, _, text) = send(&client, Method::POST, base, JSON, dep).await;
    assert_eq!(code, StatusCode::CREATED, "{text}");
    let scale = format!("{base}/web/scale");

    // A merge patch of the Scale sets spec.replicas, bumps generation and records the scale manager.
    let (code, s, text) = send(
        &client,
        Method::PATCH,
        &format!("{scale}?fieldManager=scaler"),
        MERGE,
        json!({"spec": {"replicas": 3}}),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{text}");
    assert_eq!(
        (s["kind"].as_str(), s["spec"]["replicas"].as_i64()),
        (Some("Scale"), Some(3))
    );
    let d = get(&client, &format!("{base}/web")).await;
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(d["metadata"]["generation"], 2, "a scale is a spec change");
    let managers: Vec<(String, String)> = d["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .map(|m| {
            (
                m["manager"].as_str().unwrap_or("").to_string(),
                m["subresource"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(
        managers.contains(&("scaler".to_string(), "scale".to_string())),
        "{managers:?}"
    );

    // A JSON patch of the Scale, with the null test real clients send for a missing field.
    let ops = json!([{"op": "test", "path": "/spec/nothing", "value": null}, {"op": "replace", "path": "/spec/replicas", "value": 0}]);
    let (code, s, text) = send(&client, Method::PATCH, &scale, JSON_PATCH, ops).await;
    assert_eq!(code, StatusCode::OK, "{text}");
    assert_eq!(s["spec"]["replicas"], 0);

    // Bad input: a merge patch that is not an object, negative replicas, a stale resourceVersion.
    let (code, _, text) = send(&client, Method::PATCH, &scale, MERGE, json!([1])).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{text}");
    let (code, v, text) = send(
        &client,
        Method::PATCH,
        &scale,
        MERGE,
        json!({"spec": {"replicas": -1}}),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert_eq!(v["details"]["causes"][0]["field"], "spec.replicas");
    let stale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web", "namespace": "default", "resourceVersion": "1"}, "spec": {"replicas": 2}});
    let (code, _, text) = send(&client, Method::PUT, &scale, JSON, stale).await;
    assert_eq!(code, StatusCode::CONFLICT, "{text}");
    assert_eq!(
        get(&client, &format!("{base}/web")).await["spec"]["replicas"],
        0,
        "nothing half-applied"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_binding_eviction_and_log() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let pods = "/api/v1/namespaces/default/pods";
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]}});
    let (code, _, text) = send(&client, Method::POST, pods, JSON, pod).await;
    assert_eq!(code, StatusCode::CREATED, "{text}");
    // Wait for the scheduler (a deadline, polling the condition).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while get(&client, &format!("{pods}/p")).await["spec"]["nodeName"] != "sandbox" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the pod is never scheduled"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    // Binding a scheduled pod again is refused, and changes nothing.
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"}, "target": {"kind": "Node", "name": "other"}});
    let (code, v, text) = send(
        &client,
        Method::POST,
        &format!("{pods}/p/binding"),
        JSON,
        binding.clone(),
    )
    .await;
    assert_eq!(code, StatusCode::CONFLICT, "{text}");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("already assigned to node \"sandbox\""),
        "{text}"
    );
    assert_eq!(
        get(&client, &format!("{pods}/p")).await["spec"]["nodeName"],
        "sandbox"
    );
    let (code, _, _) = send(
        &client,
        Method::POST,
        &format!("{pods}/missing/binding"),
        JSON,
        binding,
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);

    // The log is the pod kind's subresource: it names the container and says it is simulated.
    let (code, _, text) = send(
        &client,
        Method::GET,
        &format!("{pods}/p/log"),
        JSON,
        Value::Null,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{text}");
    assert!(
        text.contains("container \"main\" of pod default/p (image busybox:1.36) is simulated"),
        "{text}"
    );
    let (code, _, _) = send(
        &client,
        Method::GET,
        "/api/v1/namespaces/default/configmaps/x/log",
        JSON,
        Value::Null,
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "configmaps have no log");

    // Eviction deletes the pod as a DELETE would (gracefully: it is marked, then goes).
    let eviction = json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p", "namespace": "default"}});
    let (code, v, text) = send(
        &client,
        Method::POST,
        &format!("{pods}/p/eviction"),
        JSON,
        eviction,
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{text}");
    assert_eq!(v["status"], "Success");
    let (_, p, _) = send(
        &client,
        Method::GET,
        &format!("{pods}/p"),
        JSON,
        Value::Null,
    )
    .await;
    assert!(
        p.is_null() || p["code"] == 404 || !p["metadata"]["deletionTimestamp"].is_null(),
        "evicted: {p}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_finalize_replaces_spec_finalizers() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let (code, ns, text) = send(
        &client,
        Method::POST,
        "/api/v1/namespaces",
        JSON,
        json!({"metadata": {"name": "fin"}}),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{text}");
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fin"}, "spec": {"finalizers": []}});
    let (code, ns, text) = send(
        &client,
        Method::PUT,
        "/api/v1/namespaces/fin/finalize",
        JSON,
        body,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{text}");
    assert_eq!(ns["spec"]["finalizers"], json!([]));
    assert_eq!(
        ns["status"]["phase"], "Active",
        "finalize leaves the status alone"
    );
    assert_eq!(
        get(&client, "/api/v1/namespaces/fin").await["spec"]["finalizers"],
        json!([])
    );
    let (code, _, _) = send(
        &client,
        Method::PUT,
        "/api/v1/namespaces/nope/finalize",
        JSON,
        json!({"spec": {}}),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

fn node_port_service(name: &str, node_port: Option<i64>) -> Value {
    let mut port = json!({"port": 80, "targetPort": 8080});
    if let Some(n) = node_port {
        port["nodePort"] = json!(n);
    }
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
           "spec": {"type": "NodePort", "selector": {"app": name}, "ports": [port]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_ports_are_unique_and_come_back() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let svcs = "/api/v1/namespaces/default/services";
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..20 {
        let (code, svc, text) = send(
            &client,
            Method::POST,
            svcs,
            JSON,
            node_port_service(&format!("s{i}"), None),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED, "{text}");
        let port = svc["spec"]["ports"][0]["nodePort"]
            .as_i64()
            .expect("a nodePort");
        assert!((30000..=32767).contains(&port), "{port}");
        assert!(seen.insert(port), "nodePort {port} handed out twice");
    }
    let s0 = c
        .sandbox
        .api
        .registry()
        .get("", "v1", "services")
        .expect("services");
    let first =
        c.sandbox.api.get(&s0, "default", "s0").expect("s0")["spec"]["ports"][0]["nodePort"]
            .as_i64()
            .expect("port");
    // A dry run shows a port but takes none; a taken port asked for by number is refused; an update keeps it.
    let (code, _, text) = send(
        &client,
        Method::POST,
        &format!("{svcs}?dryRun=All"),
        JSON,
        node_port_service("dry", None),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{text}");
    let (code, v, text) = send(
        &client,
        Method::POST,
        svcs,
        JSON,
        node_port_service("clash", Some(first)),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert_eq!(v["details"]["causes"][0]["field"], "spec.ports[0].nodePort");
    assert!(
        text.contains("provided port is already allocated"),
        "{text}"
    );
    let (code, v, text) = send(
        &client,
        Method::POST,
        svcs,
        JSON,
        node_port_service("low", Some(80)),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(
        v["message"].as_str().unwrap_or("").contains("30000-32767"),
        "{text}"
    );
    let (code, svc, text) = send(
        &client,
        Method::PATCH,
        &format!("{svcs}/s0"),
        MERGE,
        json!({"metadata": {"labels": {"x": "y"}}}),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{text}");
    assert_eq!(
        svc["spec"]["ports"][0]["nodePort"], first,
        "an update keeps the port"
    );
    // Deleting a Service gives its port back: it can then be asked for by number.
    let (code, _, text) = send(
        &client,
        Method::DELETE,
        &format!("{svcs}/s0"),
        JSON,
        Value::Null,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{text}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (code, _, text) = send(
            &client,
            Method::POST,
            svcs,
            JSON,
            node_port_service("again", Some(first)),
        )
        .await;
        if code == StatusCode::CREATED {
            break;
        }
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "port {first} never came back: {text}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
