//! Real kubectl (every version on the machine) against the sandbox over HTTPS.

use crate::common;

use common::*;
use std::path::Path;
use std::time::Duration;

fn version_tag(bin: &Path) -> String {
    bin.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("kubectl")
        .replace(['.', '_'], "")
}

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: nginx:1.27, ports: [{containerPort: 80}]}
      - {name: side, image: busybox:1.36}
"#;

#[test]
fn apply_client_and_server_side_twice_keeps_containers() {
    let c = BlockingCluster::start();
    for bin in kubectl_versions() {
        let ns = version_tag(&bin);
        ok(c.kubectl_with(&bin, &["create", "namespace", &ns]));
        let out = ok(c.kubectl_stdin(&bin, &["-n", &ns, "apply", "-f", "-"], DEPLOYMENT));
        assert!(out.contains("created"), "{bin:?}: {out}");
        let out = ok(c.kubectl_stdin(&bin, &["-n", &ns, "apply", "-f", "-"], DEPLOYMENT));
        assert!(out.contains("unchanged"), "{bin:?}: second apply: {out}");
        // A changed image goes through strategic merge patch: both containers survive, by name.
        let changed = DEPLOYMENT.replace("nginx:1.27", "nginx:1.28");
        let out = ok(c.kubectl_stdin(&bin, &["-n", &ns, "apply", "-f", "-"], &changed));
        assert!(out.contains("configured"), "{bin:?}: {out}");
        let names = ok(c.kubectl_with(&bin, &["-n", &ns, "get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].name} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}"]));
        assert_eq!(names, "web side nginx:1.28 80", "{bin:?}");
        let raw = ok(c.kubectl_with(&bin, &["-n", &ns, "get", "deploy", "web", "-o", "json"]));
        assert!(
            !raw.contains("$setElementOrder"),
            "{bin:?}: a patch directive was stored"
        );
        // Server-side apply twice: the second changes nothing (same resourceVersion).
        let out = ok(c.kubectl_stdin(
            &bin,
            &["-n", &ns, "apply", "--server-side", "-f", "-"],
            &changed,
        ));
        assert!(out.contains("serverside-applied"), "{bin:?}: {out}");
        let rv1 = ok(c.kubectl_with(
            &bin,
            &[
                "-n",
                &ns,
                "get",
                "deploy",
                "web",
                "-o",
                "jsonpath={.metadata.resourceVersion}",
            ],
        ));
        ok(c.kubectl_stdin(
            &bin,
            &["-n", &ns, "apply", "--server-side", "-f", "-"],
            &changed,
        ));
        let rv2 = ok(c.kubectl_with(
            &bin,
            &[
                "-n",
                &ns,
                "get",
                "deploy",
                "web",
                "-o",
                "jsonpath={.metadata.resourceVersion}",
            ],
        ));
        assert_eq!(
            rv1, rv2,
            "{bin:?}: a no-op server-side apply changed the object"
        );
    }
}

#[test]
fn crds_discovery_tables_scale_and_validation() {
    let c = BlockingCluster::start();
    let kubectl = kubectl_default();
    ok(c.kubectl_stdin(&kubectl, &["apply", "-f", "-"], WIDGET_CRD));
    ok(c.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.test.oplab.dev",
        "--timeout=10s",
    ]));
    for bin in kubectl_versions() {
        let ns = version_tag(&bin);
        ok(c.kubectl_with(&bin, &["create", "namespace", &ns]));
        let resources = ok(c.kubectl_with(&bin, &["api-resources"]));
        assert!(
            resources
                .lines()
                .any(|l| l.starts_with("widgets ") && l.contains("wd") && l.contains("Widget")),
            "{bin:?}: {resources}"
        );
        let w = format!(
            "apiVersion: test.oplab.dev/v1\nkind: Widget\nmetadata: {{name: w1, namespace: {ns}}}\nspec: {{replicas: 2}}\n"
        );
        ok(c.kubectl_stdin(&bin, &["apply", "-f", "-"], &w));
        let table = ok(c.kubectl_with(&bin, &["-n", &ns, "get", "wd"]));
        let header = table.lines().next().unwrap_or_default();
        // With printer columns declared, a real server shows Name plus exactly those (no Age).
        assert!(
            header.contains("NAME") && header.contains("SIZE") && !header.contains("AGE"),
            "{bin:?}: {table}"
        );
        assert!(
            table
                .lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("w1") && l.contains('2')),
            "{bin:?}: {table}"
        );
        ok(c.kubectl_with(&bin, &["-n", &ns, "scale", "widget", "w1", "--replicas=3"]));
        assert_eq!(
            ok(c.kubectl_with(
                &bin,
                &[
                    "-n",
                    &ns,
                    "get",
                    "widget",
                    "w1",
                    "-o",
                    "jsonpath={.spec.replicas}"
                ]
            )),
            "3"
        );
        // A schema violation is refused with the field path.
        let bad = w.replace("w1", "w2").replace("replicas: 2", "replicas: 99");
        let out = c.kubectl_stdin(&bin, &["apply", "-f", "-"], &bad);
        assert!(
            !out.status.success(),
            "{bin:?}: a Widget with replicas 99 was accepted"
        );
        let err = stderr(&out);
        assert!(
            err.contains("spec.replicas") && err.contains("less than or equal to 9"),
            "{bin:?}: {err}"
        );
        // Unknown fields are refused by kubectl's strict validation.
        let unknown = w
            .replace("w1", "w3")
            .replace("replicas: 2", "replicas: 2, colour: red");
        let out = c.kubectl_stdin(&bin, &["apply", "-f", "-"], &unknown);
        assert!(
            !out.status.success() && stderr(&out).contains("unknown field \"spec.colour\""),
            "{bin:?}: {}",
            stderr(&out)
        );
    }
    // A v1beta1 CRD gets what a real 1.22+ cluster answers.
    let old = "apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata: {name: olds.test.oplab.dev}\nspec: {group: test.oplab.dev, version: v1, scope: Namespaced, names: {plural: olds, kind: Old}}\n";
    let out = c.kubectl_stdin(&kubectl, &["apply", "-f", "-"], old);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no matches for kind \"CustomResourceDefinition\" in version \"apiextensions.k8s.io/v1beta1\""), "{}", stderr(&out));
}

#[test]
fn watch_finalizers_describe_label_and_conflicts() {
    let c = BlockingCluster::start();
    ok(c.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], WIDGET_CRD));
    ok(c.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.test.oplab.dev",
        "--timeout=10s",
    ]));
    for bin in kubectl_versions() {
        let ns = version_tag(&bin);
        ok(c.kubectl_with(&bin, &["create", "namespace", &ns]));
        let out = c.kubectl_with(&bin, &["create", "namespace", &ns]);
        assert!(
            !out.status.success() && stderr(&out).contains("AlreadyExists"),
            "{bin:?}: {}",
            stderr(&out)
        );
        // get -w sees a change made after it started.
        ok(c.kubectl_with(
            &bin,
            &[
                "-n",
                &ns,
                "create",
                "configmap",
                "watched",
                "--from-literal=a=1",
            ],
        ));
        let mut watcher = std::process::Command::new(&bin)
            .args([
                "-n",
                &ns,
                "get",
                "configmap",
                "watched",
                "-w",
                "-o",
                "jsonpath={.data.a}{\"\\n\"}",
                "--request-timeout=20s",
            ])
            .env("KUBECONFIG", &c.kubeconfig)
            .env("HOME", c.dir.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("kubectl get -w");
        let lines = line_reader(watcher.stdout.take().expect("stdout"));
        // The first line is the object as listed: from then on kubectl is watching.
        let mut seen = next_line_until(&lines, |l| l.trim() == "1");
        ok(c.kubectl_with(
            &bin,
            &[
                "-n",
                &ns,
                "patch",
                "configmap",
                "watched",
                "--type=merge",
                "-p",
                "{\"data\":{\"a\":\"2\"}}",
            ],
        ));
        seen.push_str(&next_line_until(&lines, |l| l.trim() == "2"));
        let _ = watcher.kill();
        let _ = watcher.wait();
        assert!(
            seen.lines().any(|l| l.trim() == "2"),
            "{bin:?}: get -w printed {seen:?}"
        );
        // Delete waits on a finalizer and finishes when it is removed.
        ok(c.kubectl_stdin(&bin, &["apply", "-f", "-"], &format!("apiVersion: test.oplab.dev/v1\nkind: Widget\nmetadata: {{name: held, namespace: {ns}, finalizers: [test.oplab.dev/hold]}}\nspec: {{replicas: 1}}\n")));
        ok(c.kubectl_with(
            &bin,
            &["-n", &ns, "delete", "widget", "held", "--wait=false"],
        ));
        let ts = ok(c.kubectl_with(
            &bin,
            &[
                "-n",
                &ns,
                "get",
                "widget",
                "held",
                "-o",
                "jsonpath={.metadata.deletionTimestamp}",
            ],
        ));
        assert!(
            !ts.is_empty(),
            "{bin:?}: no deletionTimestamp while a finalizer holds the object"
        );
        let mut waiter = std::process::Command::new(&bin)
            .args(["-n", &ns, "delete", "widget", "held", "--timeout=20s"])
            .env("KUBECONFIG", &c.kubeconfig)
            .env("HOME", c.dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("kubectl delete");
        // kubectl says "deleted" once its DELETE is accepted; then it waits for the object to go.
        let waiter_out = line_reader(waiter.stdout.take().expect("stdout"));
        let said = next_line_until(&waiter_out, |l| l.contains("deleted"));
        assert!(
            said.contains("\"held\" deleted"),
            "{bin:?}: delete said {said:?}"
        );
        ok(c.kubectl_with(
            &bin,
            &[
                "-n",
                &ns,
                "patch",
                "widget",
                "held",
                "--type=merge",
                "-p",
                "{\"metadata\":{\"finalizers\":null}}",
            ],
        ));
        let out = waiter.wait_with_output().expect("delete output");
        assert!(
            out.status.success(),
            "{bin:?}: delete did not finish: {}",
            stderr(&out)
        );
        // A pod runs, is labelled, and describe shows its events.
        ok(c.kubectl_with(&bin, &["-n", &ns, "run", "solo", "--image=busybox:1.36"]));
        ok(c.kubectl_with(
            &bin,
            &[
                "-n",
                &ns,
                "wait",
                "--for=condition=Ready",
                "pod/solo",
                "--timeout=10s",
            ],
        ));
        ok(c.kubectl_with(&bin, &["-n", &ns, "label", "pod", "solo", "tier=test"]));
        assert!(
            ok(c.kubectl_with(
                &bin,
                &["-n", &ns, "get", "pods", "-l", "tier=test", "-o", "name"]
            ))
            .contains("pod/solo")
        );
        let pods = ok(c.kubectl_with(&bin, &["-n", &ns, "get", "pods"]));
        assert!(
            pods.contains("Running") && pods.contains("1/1"),
            "{bin:?}: {pods}"
        );
        let described = ok(c.kubectl_with(&bin, &["-n", &ns, "describe", "pod", "solo"]));
        assert!(
            described.contains("Events:") && described.contains("Started"),
            "{bin:?}: {described}"
        );
        let logs = ok(c.kubectl_with(&bin, &["-n", &ns, "logs", "solo"]));
        assert!(logs.contains("simulated"), "{bin:?}: {logs}");
        let exec = c.kubectl_with(&bin, &["-n", &ns, "exec", "solo", "--", "ls"]);
        assert!(
            !exec.status.success() && stderr(&exec).contains("simulated"),
            "{bin:?}: exec said {}",
            stderr(&exec)
        );
        // Namespace deletion cascades.
        ok(c.kubectl_with(&bin, &["delete", "namespace", &ns, "--timeout=20s"]));
        let out = c.kubectl_with(&bin, &["get", "namespace", &ns]);
        assert!(!out.status.success(), "{bin:?}: namespace still there");
    }
}

#[test]
fn requests_without_the_token_are_refused() {
    let c = BlockingCluster::start();
    let url = format!("{}/api/v1/pods", c.sandbox.url);
    let out = std::process::Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}", &url])
        .output()
        .expect("curl");
    assert_eq!(stdout(&out), "401");
    let out = std::process::Command::new("curl")
        .args([
            "-sk",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            "Authorization: Bearer wrong",
            &url,
        ])
        .output()
        .expect("curl");
    assert_eq!(stdout(&out), "401");
    // The kubeconfig is private to its owner.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&c.kubeconfig)
            .expect("kubeconfig")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// The lines a child writes to `out`, read on a thread of their own.
fn line_reader(out: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The lines read until one satisfies `done` (included), each followed by a newline; at most 20 s.
fn next_line_until(
    lines: &std::sync::mpsc::Receiver<String>,
    done: impl Fn(&str) -> bool,
) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut text = String::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                text.push_str(&line);
                text.push('\n');
                if done(&line) {
                    return text;
                }
            }
            Err(_) => return text,
        }
    }
}
