//! `oplab bench chapter2`: chapter 2 on a fresh sandbox. `kubectl exec POD -- etcdctl get K` (and kube-rs
//! `Api::exec`) against the same `etcdctl get K` run directly on the member; an EtcdCluster of 3 from
//! creation to 3 healthy members, 3 -> 5; memory and disk per member; Subscription -> InstallPlan and
//! approval -> CSV Succeeded.

use crate::checks::actions;
use crate::sandbox::controllers::key;
use crate::sandbox::controllers::procs;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

pub fn run(rounds: usize) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(bench(rounds.max(3)))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Waits (polling every 5 ms) until `f` holds; the time it took.
async fn until(
    what: &str,
    limit: Duration,
    mut f: impl AsyncFnMut() -> bool,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    while !f().await {
        if start.elapsed() > limit {
            anyhow::bail!("{what}: not within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(start.elapsed())
}

/// `n` voting, started members, all healthy, as etcdctl sees them through member 0.
fn healthy(etcdctl: &std::path::Path, sockets: &std::path::Path, ns: &str, n: usize) -> bool {
    let run = |args: &[&str]| {
        Command::new(etcdctl)
            .args(args)
            .env(
                "ETCDCTL_ENDPOINTS",
                format!("unix://example-0.example.{ns}:2379"),
            )
            .current_dir(sockets)
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    let Some(list) = run(&["member", "list", "-w", "json"]) else {
        return false;
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&list.stdout) else {
        return false;
    };
    let members = v["members"].as_array().cloned().unwrap_or_default();
    members.len() == n
        && members
            .iter()
            .all(|m| m["isLearner"] != true && m["name"].as_str().is_some_and(|s| !s.is_empty()))
        && run(&["endpoint", "health", "--cluster"]).is_some()
}

fn disk_usage(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        match e.metadata() {
            Ok(m) if m.is_dir() => total += disk_usage(&e.path()),
            Ok(m) => total += m.blocks() * 512,
            Err(_) => {}
        }
    }
    total
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

async fn bench(rounds: usize) -> anyhow::Result<ExitCode> {
    let programs = procs::Programs::find();
    let (Some(_), Some(etcdctl)) = (programs.etcd, programs.etcdctl) else {
        anyhow::bail!("{}", procs::ETCD_INSTALL_HINT);
    };
    let state = std::env::temp_dir().join(format!("oplab-bench-c2-{:x}", rand::random::<u64>()));
    let sandbox = crate::sandbox::Sandbox::start(crate::sandbox::Options {
        state_dir: Some(state.clone()),
        ..Default::default()
    })
    .await?;
    let result = measure(&sandbox, &state, &etcdctl, rounds).await;
    sandbox.shutdown();
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&state);
    result
}

async fn measure(
    sandbox: &crate::sandbox::Sandbox,
    state: &std::path::Path,
    etcdctl: &std::path::Path,
    rounds: usize,
) -> anyhow::Result<ExitCode> {
    let client = sandbox.client().await?;
    let api = sandbox.api.clone();
    let docs = crate::cluster::load_documents(
        &["olm".into(), "etcd".into()],
        &crate::cluster::Vars::default(),
    )
    .map_err(|f| anyhow::anyhow!("{f}"))?;
    crate::cluster::apply::apply(&client, docs, &Default::default(), None)
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    let ns = |name: &str| format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n");
    for n in ["etc", "olm-demo"] {
        actions::apply_yaml(&client, "ns", &ns(n), "default", false)
            .await
            .map_err(anyhow::Error::msg)?;
    }
    // The operators' pods must run before they act.
    until("the operators' pods", Duration::from_secs(30), async || {
        crate::sandbox::operators::deployment_runs(
            &api,
            "etcd-operator-system",
            "etcd-operator-controller-manager",
        ) && crate::sandbox::operators::deployment_runs(&api, "olm", "catalog-operator")
            && crate::sandbox::operators::deployment_runs(&api, "olm", "olm-operator")
    })
    .await?;
    let sockets = api.procs.sockets_dir();
    let cluster = |size: u32| {
        format!(
            "apiVersion: operator.etcd.io/v1alpha1\nkind: EtcdCluster\nmetadata: {{name: example, namespace: etc}}\nspec: {{size: {size}, version: v3.5.21}}\n"
        )
    };
    actions::apply_yaml(&client, "etcdcluster", &cluster(3), "etc", true)
        .await
        .map_err(anyhow::Error::msg)?;
    let t3 = until("3 healthy members", Duration::from_secs(60), async || {
        healthy(etcdctl, &sockets, "etc", 3)
    })
    .await?;
    println!(
        "EtcdCluster size 3, created -> 3 healthy members: {}",
        ms(t3)
    );
    actions::apply_yaml(&client, "etcdcluster", &cluster(5), "etc", true)
        .await
        .map_err(anyhow::Error::msg)?;
    let t5 = until("5 healthy members", Duration::from_secs(120), async || {
        healthy(etcdctl, &sockets, "etc", 5)
    })
    .await?;
    println!("EtcdCluster size 3 -> 5 healthy members: {}", ms(t5));
    let mut rss = Vec::new();
    let mut disk = Vec::new();
    for i in 0..5 {
        let name = format!("example-{i}");
        if let Some(p) = api.procs.by_name("etc", &name) {
            rss.push(rss_kib(p.pid.load(std::sync::atomic::Ordering::SeqCst)));
        }
        disk.push(disk_usage(&state.join("kubelet/pods/etc").join(&name)));
    }
    let avg = |v: &[u64]| v.iter().sum::<u64>() / v.len().max(1) as u64;
    println!(
        "per member: memory (RSS) {} MiB average (max {} MiB), disk {} MiB average (max {} MiB)",
        avg(&rss) / 1024,
        rss.iter().max().unwrap_or(&0) / 1024,
        avg(&disk) >> 20,
        disk.iter().max().unwrap_or(&0) >> 20
    );

    // exec vs direct.
    let put = Command::new(etcdctl)
        .args(["put", "/bench", "value"])
        .env("ETCDCTL_ENDPOINTS", "unix://example-0.example.etc:2379")
        .current_dir(&sockets)
        .output()?;
    anyhow::ensure!(put.status.success(), "etcdctl put failed");
    let dir = std::env::temp_dir().join(format!("oplab-bench-kc-{:x}", rand::random::<u64>()));
    std::fs::create_dir(&dir)?;
    let kubeconfig = dir.join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig)?;
    let mut direct = Vec::new();
    let mut via_kubectl = Vec::new();
    let mut via_kube_rs = Vec::new();
    let mut kubectl_get = Vec::new();
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(client.clone(), "etc");
    for _ in 0..rounds {
        let start = Instant::now();
        let o = Command::new(etcdctl)
            .args(["get", "/bench", "--print-value-only"])
            .env("ETCDCTL_ENDPOINTS", "unix://example-0.example.etc:2379")
            .current_dir(&sockets)
            .output()?;
        direct.push(start.elapsed());
        anyhow::ensure!(String::from_utf8_lossy(&o.stdout).trim() == "value");
        let start = Instant::now();
        let o = Command::new("kubectl")
            .args([
                "-n",
                "etc",
                "exec",
                "example-0",
                "--",
                "etcdctl",
                "get",
                "/bench",
                "--print-value-only",
            ])
            .env("KUBECONFIG", &kubeconfig)
            .output()?;
        via_kubectl.push(start.elapsed());
        anyhow::ensure!(
            String::from_utf8_lossy(&o.stdout).trim() == "value",
            "kubectl exec: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        // kubectl's own cost (start, kubeconfig, TLS, one GET): the same pod read without exec.
        let start = Instant::now();
        let o = Command::new("kubectl")
            .args(["-n", "etc", "get", "pod", "example-0", "-o", "name"])
            .env("KUBECONFIG", &kubeconfig)
            .output()?;
        kubectl_get.push(start.elapsed());
        anyhow::ensure!(o.status.success(), "kubectl get pod failed");
        let start = Instant::now();
        let params = kube::api::AttachParams::default()
            .stdout(true)
            .stderr(true)
            .stdin(false);
        let mut p = pods
            .exec(
                "example-0",
                ["etcdctl", "get", "/bench", "--print-value-only"],
                &params,
            )
            .await?;
        let mut out = String::new();
        if let Some(mut r) = p.stdout() {
            use tokio::io::AsyncReadExt;
            r.read_to_string(&mut out).await?;
        }
        let _ = p.join().await;
        via_kube_rs.push(start.elapsed());
        anyhow::ensure!(out.trim() == "value");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let (d, k, r) = (median(direct), median(via_kubectl), median(via_kube_rs));
    let g = median(kubectl_get);
    println!(
        "kubectl get pod (kubectl's own cost, no exec), median: {}; kubectl exec minus that: {} ({:.2}x direct)",
        ms(g),
        ms(k.saturating_sub(g)),
        k.saturating_sub(g).as_secs_f64() / d.as_secs_f64()
    );
    println!(
        "etcdctl get, median of {rounds}: direct {} | kubectl exec {} ({:.2}x, includes kubectl's own start) | kube-rs Api::exec {} ({:.2}x)",
        ms(d),
        ms(k),
        k.as_secs_f64() / d.as_secs_f64(),
        ms(r),
        r.as_secs_f64() / d.as_secs_f64()
    );

    // OLM.
    let sub = "apiVersion: operators.coreos.com/v1\nkind: OperatorGroup\nmetadata: {name: demo-group, namespace: olm-demo}\nspec: {targetNamespaces: [olm-demo]}\n---\napiVersion: operators.coreos.com/v1alpha1\nkind: Subscription\nmetadata: {name: prometheus, namespace: olm-demo}\nspec: {name: prometheus, channel: beta, source: operatorhubio-catalog, sourceNamespace: olm, installPlanApproval: Manual}\n";
    actions::apply_yaml(&client, "sub", sub, "olm-demo", false)
        .await
        .map_err(anyhow::Error::msg)?;
    let ips = key("operators.coreos.com", "installplans");
    let t_ip = until(
        "an InstallPlan waiting for approval",
        Duration::from_secs(10),
        async || {
            api.store
                .list(&ips, Some("olm-demo"))
                .0
                .iter()
                .any(|p| p["status"]["phase"] == "RequiresApproval")
        },
    )
    .await?;
    println!("Subscription -> InstallPlan RequiresApproval: {}", ms(t_ip));
    let name = api.store.list(&ips, Some("olm-demo")).0[0]["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let plans: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        client.clone(),
        "olm-demo",
        &kube::api::ApiResource {
            group: "operators.coreos.com".into(),
            version: "v1alpha1".into(),
            api_version: "operators.coreos.com/v1alpha1".into(),
            kind: "InstallPlan".into(),
            plural: "installplans".into(),
        },
    );
    let start = Instant::now();
    plans
        .patch(
            &name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(serde_json::json!({"spec": {"approved": true}})),
        )
        .await?;
    let csvs = key("operators.coreos.com", "clusterserviceversions");
    until("the CSV Succeeded", Duration::from_secs(30), async || {
        api.store
            .list(&csvs, Some("olm-demo"))
            .0
            .iter()
            .any(|c| c["status"]["phase"] == "Succeeded")
    })
    .await?;
    println!("approval -> CSV Succeeded: {}", ms(start.elapsed()));
    Ok(ExitCode::SUCCESS)
}
