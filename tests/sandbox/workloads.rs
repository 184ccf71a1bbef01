//! Workload controllers on the sandbox, driven by kubectl: Deployments, StatefulSets, Jobs, Services, GC.

use crate::common;

use common::*;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn count(c: &TestCluster, args: &[&str]) -> usize {
    stdout(&c.kubectl(args))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

fn running_pods(c: &TestCluster, ns: &str, selector: &str) -> usize {
    count(
        c,
        &[
            "-n",
            ns,
            "get",
            "pods",
            "-l",
            selector,
            "--field-selector=status.phase=Running",
            "-o",
            "name",
        ],
    )
}

#[test]
fn deployment_rollout_scale_template_change_and_gc() {
    let c = BlockingCluster::start();
    ok(c.kubectl(&["create", "namespace", "wl"]));
    ok(c.kubectl(&[
        "-n",
        "wl",
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=3",
    ]));
    for bin in kubectl_versions() {
        ok(c.kubectl_with(
            &bin,
            &[
                "-n",
                "wl",
                "rollout",
                "status",
                "deployment/web",
                "--timeout=20s",
            ],
        ));
    }
    assert_eq!(running_pods(&c, "wl", "app=web"), 3);
    let rs1 = ok(c.kubectl(&[
        "-n",
        "wl",
        "get",
        "rs",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ]));
    assert!(rs1.starts_with("web-"), "{rs1}");

    // Scale up and down.
    ok(c.kubectl(&["-n", "wl", "scale", "deployment/web", "--replicas=5"]));
    ok(c.kubectl(&[
        "-n",
        "wl",
        "rollout",
        "status",
        "deployment/web",
        "--timeout=20s",
    ]));
    assert!(wait_until(T, || running_pods(&c, "wl", "app=web") == 5));
    ok(c.kubectl(&["-n", "wl", "scale", "deployment/web", "--replicas=2"]));
    assert!(wait_until(T, || count(
        &c,
        &["-n", "wl", "get", "pods", "-l", "app=web", "-o", "name"]
    ) == 2));

    // A template change: a new ReplicaSet takes over, the old one goes to 0, the pods are replaced.
    let old_pods = ok(c.kubectl(&["-n", "wl", "get", "pods", "-l", "app=web", "-o", "name"]));
    ok(c.kubectl(&[
        "-n",
        "wl",
        "set",
        "image",
        "deployment/web",
        "nginx=nginx:1.28",
    ]));
    for bin in kubectl_versions() {
        ok(c.kubectl_with(
            &bin,
            &[
                "-n",
                "wl",
                "rollout",
                "status",
                "deployment/web",
                "--timeout=30s",
            ],
        ));
    }
    let rs = ok(c.kubectl(&["-n", "wl", "get", "rs", "-o", "jsonpath={range .items[*]}{.metadata.name}={.spec.replicas}={.metadata.annotations.deployment\\.kubernetes\\.io/revision}{\"\\n\"}{end}"]));
    assert!(rs.contains(&format!("{rs1}=0=1")), "{rs}");
    assert!(
        rs.lines()
            .any(|l| l != format!("{rs1}=0=1") && l.ends_with("=2=2")),
        "{rs}"
    );
    assert!(wait_until(T, || {
        let now = stdout(&c.kubectl(&["-n", "wl", "get", "pods", "-l", "app=web", "-o", "name"]));
        now.lines().count() == 2 && now.lines().all(|p| !old_pods.contains(p))
    }));
    let images = ok(c.kubectl(&[
        "-n",
        "wl",
        "get",
        "pods",
        "-l",
        "app=web",
        "-o",
        "jsonpath={.items[*].spec.containers[0].image}",
    ]));
    assert_eq!(images, "nginx:1.28 nginx:1.28");

    // Deleting the Deployment takes its ReplicaSets and pods with it.
    ok(c.kubectl(&["-n", "wl", "delete", "deployment", "web"]));
    assert!(wait_until(T, || count(
        &c,
        &["-n", "wl", "get", "rs,pods", "-o", "name"]
    ) == 0));
}

#[test]
fn statefulset_ordinals_in_order_and_rollout_status() {
    let c = BlockingCluster::start();
    let sts = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: default}\nspec:\n  serviceName: db\n  replicas: 3\n  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n    spec: {containers: [{name: db, image: busybox:1.36}]}\n";
    ok(c.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], sts));
    for bin in kubectl_versions() {
        ok(c.kubectl_with(
            &bin,
            &["rollout", "status", "statefulset/db", "--timeout=30s"],
        ));
    }
    // Created in order: each pod's creation follows the previous one's readiness.
    let out = ok(c.kubectl(&["get", "pods", "-l", "app=db", "-o", "jsonpath={range .items[*]}{.metadata.name} {.metadata.resourceVersion} {.metadata.labels.statefulset\\.kubernetes\\.io/pod-name}{\"\\n\"}{end}"]));
    let names: Vec<&str> = out
        .lines()
        .map(|l| l.split(' ').next().unwrap_or_default())
        .collect();
    assert_eq!(names, ["db-0", "db-1", "db-2"]);
    assert!(
        out.lines().all(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            f[0] == f[2]
        }),
        "{out}"
    );
    let created = |n: &str| -> u64 {
        let rv = ok(c.kubectl(&[
            "get",
            "events",
            "--field-selector",
            &format!("involvedObject.name={n},reason=Scheduled"),
            "-o",
            "jsonpath={.items[0].metadata.resourceVersion}",
        ]));
        rv.trim().parse().unwrap_or(0)
    };
    assert!(created("db-0") < created("db-1") && created("db-1") < created("db-2"));
    // Scale down removes the highest ordinals.
    ok(c.kubectl(&["scale", "statefulset/db", "--replicas=1"]));
    assert!(wait_until(T, || stdout(
        &c.kubectl(&["get", "pods", "-l", "app=db", "-o", "name"])
    )
    .trim()
        == "pod/db-0"));
    ok(c.kubectl(&["rollout", "status", "statefulset/db", "--timeout=30s"]));
}

#[test]
fn job_completes_and_daemonset_runs() {
    let c = BlockingCluster::start();
    ok(c.kubectl(&["create", "job", "pi", "--image=busybox:1.36", "--", "true"]));
    ok(c.kubectl(&[
        "wait",
        "--for=condition=complete",
        "job/pi",
        "--timeout=20s",
    ]));
    let status = ok(c.kubectl(&[
        "get",
        "job",
        "pi",
        "-o",
        "jsonpath={.status.succeeded} {.status.conditions[*].type} {.status.completionTime}",
    ]));
    assert!(
        status.starts_with("1 SuccessCriteriaMet Complete 20"),
        "{status}"
    );
    let phase = ok(c.kubectl(&[
        "get",
        "pods",
        "-l",
        "job-name=pi",
        "-o",
        "jsonpath={.items[*].status.phase}",
    ]));
    assert_eq!(phase, "Succeeded");

    let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: default}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec: {containers: [{name: a, image: busybox:1.36}]}\n";
    ok(c.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], ds));
    ok(c.kubectl(&["rollout", "status", "daemonset/agent", "--timeout=20s"]));
    let node = ok(c.kubectl(&[
        "get",
        "pods",
        "-l",
        "app=agent",
        "-o",
        "jsonpath={.items[*].spec.nodeName}",
    ]));
    assert_eq!(node, "sandbox");
}

#[test]
fn service_endpoints_follow_readiness() {
    let c = BlockingCluster::start();
    ok(c.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=2",
        "--port=80",
    ]));
    ok(c.kubectl(&["rollout", "status", "deployment/web", "--timeout=20s"]));
    ok(c.kubectl(&[
        "expose",
        "deployment",
        "web",
        "--port=8080",
        "--target-port=80",
    ]));
    let ready_ips = || {
        ok(c.kubectl(&[
            "get",
            "endpoints",
            "web",
            "-o",
            "jsonpath={.subsets[0].addresses[*].ip}",
        ]))
    };
    assert!(wait_until(T, || ready_ips()
        .split(' ')
        .filter(|s| !s.is_empty())
        .count()
        == 2));
    let port = ok(c.kubectl(&[
        "get",
        "endpoints",
        "web",
        "-o",
        "jsonpath={.subsets[0].ports[0].port}",
    ]));
    assert_eq!(port, "80");
    let slice = ok(c.kubectl(&[
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=web",
        "-o",
        "jsonpath={.items[0].endpoints[*].conditions.ready}",
    ]));
    assert_eq!(slice, "true true");

    // One pod made not ready leaves the ready addresses.
    let pod = ok(c.kubectl(&[
        "get",
        "pods",
        "-l",
        "app=web",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ]));
    let ip = ok(c.kubectl(&["get", "pod", &pod, "-o", "jsonpath={.status.podIP}"]));
    let patch = r#"{"status":{"conditions":[{"type":"Ready","status":"False"}]}}"#;
    ok(c.kubectl(&[
        "patch",
        "pod",
        &pod,
        "--subresource=status",
        "--type=strategic",
        "-p",
        patch,
    ]));
    assert!(
        wait_until(T, || !ready_ips().contains(&ip)),
        "{}",
        ready_ips()
    );
    let not_ready = ok(c.kubectl(&[
        "get",
        "endpoints",
        "web",
        "-o",
        "jsonpath={.subsets[0].notReadyAddresses[*].ip}",
    ]));
    assert_eq!(not_ready, ip);
    assert!(wait_until(T, || stdout(&c.kubectl(&[
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=web",
        "-o",
        "jsonpath={.items[0].endpoints[*].conditions.ready}"
    ]))
    .contains("false")));
}
