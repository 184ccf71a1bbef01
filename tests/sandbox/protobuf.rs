//! Real kubectl (1.32+, which sends typed `create` bodies as protobuf) against the in-process sandbox.

use base64::Engine as _;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The newest kubectl next to `/usr/bin/kubectl`'s target, else `kubectl` on PATH.
fn kubectl() -> PathBuf {
    let versioned = Path::new("/usr/lib/google-cloud-sdk/bin/kubectl.1.33");
    if versioned.exists() {
        return versioned.into();
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("kubectl"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "kubectl is required for this test: neither {} nor kubectl on PATH was found",
            versioned.display()
        )
    })
}

struct Kubectl {
    bin: PathBuf,
    kubeconfig: PathBuf,
}

impl Kubectl {
    /// Runs kubectl off the async runtime; fails the test with kubectl's stderr on error.
    async fn run(&self, args: &[&str]) -> String {
        let (bin, kubeconfig) = (self.bin.clone(), self.kubeconfig.clone());
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let shown = args.join(" ");
        let out = tokio::task::spawn_blocking(move || {
            Command::new(&bin)
                .args(&args)
                .env("KUBECONFIG", &kubeconfig)
                .output()
                .expect("running kubectl")
        })
        .await
        .expect("kubectl task");
        assert!(
            out.status.success(),
            "kubectl {shown} failed:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    async fn get(&self, args: &[&str]) -> Value {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json"]);
        serde_json::from_str(&self.run(&all).await).expect("kubectl get -o json prints JSON")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_create_commands_send_protobuf_that_round_trips() {
    let bin = kubectl();
    let sandbox = oplab::sandbox::Sandbox::start(Default::default())
        .await
        .expect("sandbox starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    sandbox
        .write_kubeconfig(&kubeconfig)
        .expect("kubeconfig written");
    let k = Kubectl { bin, kubeconfig };

    k.run(&["create", "namespace", "proto"]).await;
    let ns = k.get(&["namespace", "proto"]).await;
    assert_eq!(ns["metadata"]["name"], "proto");
    assert_eq!(ns["status"]["phase"], "Active");
    assert!(
        ns["metadata"]["uid"]
            .as_str()
            .is_some_and(|u| !u.is_empty()),
        "uid assigned: {ns}"
    );
    assert!(
        ns["metadata"]["creationTimestamp"].is_string(),
        "creationTimestamp set: {ns}"
    );

    k.run(&[
        "-n",
        "proto",
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=3",
        "--port=80",
    ])
    .await;
    let d = k.get(&["-n", "proto", "deployment", "web"]).await;
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(d["metadata"]["labels"]["app"], "web");
    assert_eq!(d["spec"]["selector"]["matchLabels"]["app"], "web");
    assert_eq!(d["spec"]["template"]["metadata"]["labels"]["app"], "web");
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["name"], "nginx");
    assert_eq!(c["image"], "nginx:1.27");
    assert_eq!(c["ports"][0]["containerPort"], 80);
    assert!(
        c.get("stdin").is_none() && c.get("workingDir").is_none(),
        "zero fields omitted: {c}"
    );

    k.run(&[
        "-n",
        "proto",
        "create",
        "deployment",
        "idle",
        "--image=nginx",
        "--replicas=0",
    ])
    .await;
    let idle = k.get(&["-n", "proto", "deployment", "idle"]).await;
    assert_eq!(
        idle["spec"]["replicas"], 0,
        "an explicit zero replicas is kept: {idle}"
    );

    k.run(&[
        "-n",
        "proto",
        "run",
        "box",
        "--image=busybox:1.36",
        "--labels=tier=debug",
        "--env=MODE=test",
        "--",
        "sleep",
        "3600",
    ])
    .await;
    let pod = k.get(&["-n", "proto", "pod", "box"]).await;
    assert_eq!(pod["metadata"]["labels"]["tier"], "debug");
    let c = &pod["spec"]["containers"][0];
    assert_eq!(c["image"], "busybox:1.36");
    assert_eq!(c["args"], serde_json::json!(["sleep", "3600"]));
    assert_eq!(
        c["env"][0],
        serde_json::json!({"name": "MODE", "value": "test"})
    );

    k.run(&[
        "-n",
        "proto",
        "create",
        "configmap",
        "settings",
        "--from-literal=color=blue",
        "--from-literal=size=L",
    ])
    .await;
    let cm = k.get(&["-n", "proto", "configmap", "settings"]).await;
    assert_eq!(
        cm["data"],
        serde_json::json!({"color": "blue", "size": "L"})
    );

    k.run(&[
        "-n",
        "proto",
        "create",
        "secret",
        "generic",
        "creds",
        "--from-literal=password=s3cr3t",
    ])
    .await;
    let secret = k.get(&["-n", "proto", "secret", "creds"]).await;
    assert_eq!(secret["type"], "Opaque");
    let encoded = secret["data"]["password"]
        .as_str()
        .expect("secret data is base64 text");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("valid base64");
    assert_eq!(decoded, b"s3cr3t");

    k.run(&[
        "-n",
        "proto",
        "create",
        "service",
        "clusterip",
        "web",
        "--tcp=80:8080",
    ])
    .await;
    let svc = k.get(&["-n", "proto", "service", "web"]).await;
    assert_eq!(svc["spec"]["type"], "ClusterIP");
    assert_eq!(svc["spec"]["ports"][0]["port"], 80);
    assert_eq!(
        svc["spec"]["ports"][0]["targetPort"], 8080,
        "IntOrString decoded as a number: {svc}"
    );
    assert_eq!(svc["spec"]["selector"]["app"], "web");

    k.run(&["-n", "proto", "create", "serviceaccount", "robot"])
        .await;
    let sa = k.get(&["-n", "proto", "serviceaccount", "robot"]).await;
    assert_eq!(sa["metadata"]["name"], "robot");

    k.run(&[
        "-n",
        "proto",
        "create",
        "role",
        "reader",
        "--verb=get,list",
        "--resource=pods,configmaps",
    ])
    .await;
    let role = k.get(&["-n", "proto", "role", "reader"]).await;
    assert_eq!(
        role["rules"][0]["verbs"],
        serde_json::json!(["get", "list"])
    );
    assert_eq!(
        role["rules"][0]["resources"],
        serde_json::json!(["pods", "configmaps"])
    );
    assert_eq!(role["rules"][0]["apiGroups"], serde_json::json!([""]));

    k.run(&[
        "-n",
        "proto",
        "create",
        "rolebinding",
        "robot-reads",
        "--role=reader",
        "--serviceaccount=proto:robot",
    ])
    .await;
    let rb = k.get(&["-n", "proto", "rolebinding", "robot-reads"]).await;
    assert_eq!(
        rb["roleRef"],
        serde_json::json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"})
    );
    assert_eq!(
        rb["subjects"][0],
        serde_json::json!({"kind": "ServiceAccount", "name": "robot", "namespace": "proto"})
    );

    k.run(&[
        "-n",
        "proto",
        "create",
        "job",
        "once",
        "--image=busybox:1.36",
        "--",
        "echo",
        "hi",
    ])
    .await;
    let job = k.get(&["-n", "proto", "job", "once"]).await;
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "busybox:1.36");
    assert_eq!(c["command"], serde_json::json!(["echo", "hi"]));
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");

    k.run(&[
        "create",
        "priorityclass",
        "urgent",
        "--value=1000",
        "--description=urgent work",
    ])
    .await;
    let pc = k.get(&["priorityclass", "urgent"]).await;
    assert_eq!(pc["value"], 1000);
    assert_eq!(pc["description"], "urgent work");

    k.run(&[
        "-n",
        "proto",
        "expose",
        "deployment",
        "web",
        "--name=web-exposed",
        "--port=8081",
        "--target-port=80",
    ])
    .await;
    let exposed = k.get(&["-n", "proto", "service", "web-exposed"]).await;
    assert_eq!(exposed["spec"]["ports"][0]["port"], 8081);
    assert_eq!(exposed["spec"]["ports"][0]["targetPort"], 80);
    assert_eq!(exposed["spec"]["selector"]["app"], "web");
}
