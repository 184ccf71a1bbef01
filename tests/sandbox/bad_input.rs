//! Bad input and injected faults get the Status errors a real server gives, and leave the store unchanged.

use crate::common;

use common::*;
use http::{Method, Request, StatusCode};
use serde_json::Value;

async fn send(
    client: &kube::Client,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("Content-Type", content_type)
        .body(body)
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
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn configmaps(c: &TestCluster) -> usize {
    let rt = c
        .sandbox
        .api
        .registry()
        .get("", "v1", "configmaps")
        .expect("configmaps");
    c.sandbox
        .api
        .list(&rt, None, &Default::default(), &Default::default())
        .0
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_get_status_errors_and_change_nothing() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let before = configmaps(&c);
    let path = "/api/v1/namespaces/default/configmaps";
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("application/json", b"{not json".to_vec(), 400, "BadRequest"),
        ("application/json", b"[1,2]".to_vec(), 400, "BadRequest"),
        (
            "application/json",
            br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}"#.to_vec(),
            400,
            "BadRequest",
        ),
        (
            "application/json",
            br#"{"apiVersion":"v2","kind":"ConfigMap","metadata":{"name":"x"}}"#.to_vec(),
            400,
            "BadRequest",
        ),
        (
            "application/json",
            br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_A_Name"}}"#.to_vec(),
            422,
            "Invalid",
        ),
        (
            "application/json",
            br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}"#.to_vec(),
            422,
            "Invalid",
        ),
        (
            "application/json",
            br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":5}}"#
                .to_vec(),
            400,
            "BadRequest",
        ),
    ];
    for (ct, body, code, reason) in cases {
        let shown = String::from_utf8_lossy(&body).into_owned();
        let (status, reply) = send(&client, Method::POST, path, ct, body).await;
        assert_eq!(status.as_u16(), code, "{shown}: {reply}");
        assert_eq!(reply["kind"], "Status", "{shown}");
        assert_eq!(reply["reason"], reason, "{shown}: {reply}");
        assert_eq!(reply["code"], code);
    }
    let (_, reply) = send(
        &client,
        Method::POST,
        path,
        "application/json",
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad"}}"#.to_vec(),
    )
    .await;
    assert!(
        reply["message"]
            .as_str()
            .unwrap_or_default()
            .contains("metadata.name: Invalid value: \"Bad\""),
        "{reply}"
    );
    // Strict validation names the unknown field.
    let (status, reply) = send(
        &client,
        Method::POST,
        &format!("{path}?fieldValidation=Strict"),
        "application/json",
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"dataa":{}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply["message"],
        "strict decoding error: unknown field \"dataa\""
    );
    // Malformed YAML in an apply patch.
    let (status, reply) = send(
        &client,
        Method::PATCH,
        &format!("{path}/y?fieldManager=t"),
        "application/apply-patch+yaml",
        b"metadata: [unclosed".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    // Over 3 MiB.
    let big = format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"big"}},"data":{{"a":"{}"}}}}"#,
        "x".repeat(3 * 1024 * 1024 + 10)
    );
    let (status, reply) = send(
        &client,
        Method::POST,
        path,
        "application/json",
        big.into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{reply}");
    // Unknown kinds and group-versions.
    let (status, _) = send(
        &client,
        Method::GET,
        "/api/v1/namespaces/default/gizmos",
        "application/json",
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(
        &client,
        Method::POST,
        "/apis/apiextensions.k8s.io/v1beta1/customresourcedefinitions",
        "application/json",
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A namespace that does not exist.
    let (status, reply) = send(
        &client,
        Method::POST,
        "/api/v1/namespaces/nowhere/configmaps",
        "application/json",
        br#"{"metadata":{"name":"x"}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(reply["message"], "namespaces \"nowhere\" not found");
    assert_eq!(
        configmaps(&c),
        before,
        "a refused request changed the store"
    );
    // A stale resourceVersion on update is a conflict.
    let (status, _) = send(
        &client,
        Method::POST,
        path,
        "application/json",
        br#"{"metadata":{"name":"cm"},"data":{"a":"1"}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, reply) = send(
        &client,
        Method::PUT,
        &format!("{path}/cm"),
        "application/json",
        br#"{"metadata":{"name":"cm","resourceVersion":"1"},"data":{"a":"2"}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(reply["message"].as_str().unwrap_or_default().contains("the object has been modified; please apply your changes to the latest version and try again"));
    // A failed json-patch test is 422 and changes nothing.
    let (status, _) = send(&client, Method::PATCH, &format!("{path}/cm"), "application/json-patch+json", br#"[{"op":"test","path":"/data/a","value":"9"},{"op":"replace","path":"/data/a","value":"3"}]"#.to_vec()).await;
    assert_eq!(status.as_u16(), 422);
    // Strategic merge patch on a custom resource is refused with 415 (covered for built-ins by kubectl).
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_fail_requests_and_end_watches() {
    use oplab::sandbox::store::faults::FaultKind;
    let c = TestCluster::start().await;
    let client = c.client().await;
    let api = c.sandbox.api.clone();
    api.faults.fail_requests(1.0, FaultKind::Conflict);
    let (status, _) = send(
        &client,
        Method::GET,
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    api.faults.fail_requests(1.0, FaultKind::ServerError);
    let (status, _) = send(
        &client,
        Method::GET,
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    // Discovery keeps working so clients can recover.
    let (status, _) = send(&client, Method::GET, "/api/v1", "application/json", vec![]).await;
    assert_eq!(status, StatusCode::OK);
    api.faults.fail_requests(0.5, FaultKind::ServerError);
    let mut failed = 0;
    for _ in 0..200 {
        let (status, _) = send(
            &client,
            Method::GET,
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            vec![],
        )
        .await;
        if status != StatusCode::OK {
            failed += 1;
        }
    }
    assert!(
        (50..150).contains(&failed),
        "{failed} of 200 failed at a 50% fault rate"
    );
    api.faults.clear();
    // A compacted history answers an old resourceVersion with an in-stream 410.
    api.store.compact();
    let req = Request::builder()
        .uri("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1")
        .body(Vec::new())
        .expect("request");
    let text = client.request_text(req).await.expect("watch");
    let first: Value = serde_json::from_str(text.lines().next().expect("one event")).expect("json");
    assert_eq!(first["type"], "ERROR");
    assert_eq!(first["object"]["code"], 410);
    assert_eq!(first["object"]["reason"], "Expired");
    // Dropping watches ends open streams.
    let req = Request::builder()
        .uri("/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=30")
        .body(Vec::new())
        .expect("request");
    let watching = tokio::spawn({
        let client = client.clone();
        async move { client.request_text(req).await }
    });
    assert!(
        eventually(std::time::Duration::from_secs(10), || api
            .faults
            .open_watches()
            == 1)
        .await,
        "the watch never started"
    );
    let started = std::time::Instant::now();
    api.faults.drop_watches();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), watching).await;
    assert!(ended.is_ok(), "the watch did not end when dropped");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
