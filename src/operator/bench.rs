//! `oplab operator bench` (hidden): self-heal latency and a 500-Gordon burst against a fresh `oplab sandbox`
//! child process, so that the memory measured (this process) is the operator's and not the sandbox's.

use super::{Gordon, LABEL};
use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The Gordon CRD as shipped in manifests/gordon.
pub const CRD_YAML: &str = include_str!("../../manifests/gordon/crd.yaml");

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Pod deletions for the self-heal latency.
    #[arg(long, default_value_t = 200)]
    pub deletions: usize,
    /// Gordons (3 replicas each) created at once.
    #[arg(long, default_value_t = 500)]
    pub gordons: usize,
    /// The sandbox's Pending -> Running delay.
    #[arg(long, default_value_t = 300)]
    pub pod_start_delay_ms: u64,
    /// A Python with the `kubernetes` package: also measure the chapter's reference Python operator
    /// (the seed's design, checker polling every second) side by side.
    #[arg(long)]
    pub python: Option<std::path::PathBuf>,
    /// Pod deletions for the Python operator's self-heal latency.
    #[arg(long, default_value_t = 30)]
    pub python_deletions: usize,
}

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Installs the Gordon CRD (if missing) and waits until it is established.
pub async fn install_crd(client: &kube::Client) -> anyhow::Result<()> {
    let crd: CustomResourceDefinition =
        serde_saphyr::from_str(CRD_YAML).context("parsing manifests/gordon/crd.yaml")?;
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    match api.create(&PostParams::default(), &crd).await {
        Ok(_) => {}
        Err(e) if super::error::status_code(&e) == Some(409) => {}
        Err(e) => return Err(e).context("creating the Gordon CRD"),
    }
    let established = kube::runtime::wait::await_condition(
        api,
        "gordons.operator.prgcont.cz",
        kube::runtime::wait::conditions::is_crd_established(),
    );
    tokio::time::timeout(Duration::from_secs(10), established)
        .await
        .context("waiting for the Gordon CRD")??;
    Ok(())
}

/// A Gordon object with `replicas`.
pub fn gordon(ns: &str, name: &str, replicas: i64) -> anyhow::Result<Gordon> {
    Ok(serde_json::from_value(serde_json::json!({
        "apiVersion": "operator.prgcont.cz/v1", "kind": "Gordon",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"gordon": {"replicas": replicas}},
    }))?)
}

/// Per pod name: when the watch first showed it, and when it first showed it Running.
type Seen = HashMap<String, (Instant, Option<Instant>)>;

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn running(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
}

/// Runs the chapter's reference Python operator on namespace `bench-py` and measures its self-heal latency.
async fn python_heal(
    client: &kube::Client,
    python: &std::path::Path,
    kubeconfig: &std::path::Path,
    dir: &std::path::Path,
    deletions: usize,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let script = dir.join("gordon_operator.py");
    std::fs::write(&script, crate::lab::gordon_reference_solution())?;
    let nss: Api<Namespace> = Api::all(client.clone());
    let obj: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "bench-py"}}))?;
    nss.create(&PostParams::default(), &obj).await?;
    let _operator = Child(
        std::process::Command::new(python)
            .arg(&script)
            .args(["-n", "bench-py", "--kubeconfig"])
            .arg(kubeconfig)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .with_context(|| format!("starting the Python operator with {}", python.display()))?,
    );
    heal_latency(client, "bench-py", deletions).await
}

/// Deletes a pod of a 3-replica Gordon `deletions` times and measures how long the operator in
/// charge of `ns` takes to create the replacement and to get it Running.
async fn heal_latency(
    client: &kube::Client,
    ns: &str,
    deletions: usize,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let gordons: Api<Gordon> = Api::namespaced(client.clone(), ns);
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    gordons
        .create(&PostParams::default(), &gordon(ns, "heal", 3)?)
        .await?;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let seen_w = seen.clone();
    let watch = watcher(
        pods.clone(),
        watcher::Config::default().labels(&format!("{LABEL}=heal")),
    )
    .default_backoff()
    .applied_objects();
    let watch_task = tokio::spawn(async move {
        let mut watch = std::pin::pin!(watch);
        while let Some(ev) = watch.next().await {
            let Ok(p) = ev else { continue };
            let now = Instant::now();
            let name = p.metadata.name.clone().unwrap_or_default();
            let mut seen = seen_w.lock().unwrap_or_else(|e| e.into_inner());
            let entry = seen.entry(name).or_insert((now, None));
            if entry.1.is_none() && running(&p) {
                entry.1 = Some(now);
            }
        }
    });
    let wait_running = |n: usize| {
        let pods = pods.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let list = pods
                    .list(&ListParams::default().labels(&format!("{LABEL}=heal")))
                    .await?;
                let names: Vec<String> = list
                    .items
                    .iter()
                    .filter(|p| running(p))
                    .filter_map(|p| p.metadata.name.clone())
                    .collect();
                if names.len() == n {
                    return Ok::<_, anyhow::Error>(names);
                }
                if Instant::now() > deadline {
                    bail!(
                        "heal Gordon did not reach {n} running pods (has {})",
                        names.len()
                    );
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let mut to_created = Vec::new();
    let mut to_running = Vec::new();
    let mut known: HashSet<String> = HashSet::new();
    for i in 0..deletions {
        let names = wait_running(3).await?;
        known.extend(names.iter().cloned());
        let victim = &names[i % names.len()];
        let t0 = Instant::now();
        pods.delete(victim, &DeleteParams::default()).await?;
        let deadline = t0 + Duration::from_secs(30);
        loop {
            let fresh = {
                let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                seen.iter()
                    .find(|(n, _)| !known.contains(*n))
                    .map(|(n, v)| (n.clone(), *v))
            };
            if let Some((name, (created, run))) = fresh
                && let Some(run) = run
            {
                to_created.push(created.saturating_duration_since(t0));
                to_running.push(run.saturating_duration_since(t0));
                known.insert(name);
                break;
            }
            if Instant::now() > deadline {
                bail!("no replacement for {victim} after 30 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    watch_task.abort();
    to_created.sort();
    to_running.sort();
    Ok((to_created, to_running))
}

pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let dir = crate::files::private_work_dir("oplab-bench-")?;
    let kubeconfig = dir.join("kubeconfig");
    let exe = std::env::current_exe()?;
    let _sandbox = Child(
        std::process::Command::new(exe)
            .args(["sandbox", "--kubeconfig"])
            .arg(&kubeconfig)
            .args(["--pod-start-delay-ms", &args.pod_start_delay_ms.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting `oplab sandbox`")?,
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = loop {
        if kubeconfig.exists()
            && let Ok(c) =
                crate::cluster::connection::Target::kubeconfig(Some(kubeconfig.clone()), None)
                    .client()
                    .await
            && c.apiserver_version().await.is_ok()
        {
            break c;
        }
        if Instant::now() > deadline {
            bail!("the sandbox did not come up");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    install_crd(&client).await?;
    let nss: Api<Namespace> = Api::all(client.clone());
    for ns in ["bench-heal", "bench-scale"] {
        let obj: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": ns}}))?;
        nss.create(&PostParams::default(), &obj).await?;
    }
    // the operator in its own process, so that its memory is measured alone
    let op_log = dir.join("operator.log");
    let mut operator = Child(
        std::process::Command::new(std::env::current_exe()?)
            .args(["operator", "gordon", "-A", "--kubeconfig"])
            .arg(&kubeconfig)
            .stdout(std::fs::File::create(&op_log)?)
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting `oplab operator gordon -A`")?,
    );
    let op_pid = operator.0.id();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_start = rss_kib(op_pid, "VmRSS:");

    // 1. self-heal latency
    let (to_created, to_running) = heal_latency(&client, "bench-heal", args.deletions).await?;
    let heal = (
        percentile(&to_created, 50),
        percentile(&to_created, 99),
        percentile(&to_running, 50),
        percentile(&to_running, 99),
    );

    // 2. a burst of Gordons
    let ns = "bench-scale";
    let gordons: Api<Gordon> = Api::namespaced(client.clone(), ns);
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let t0 = Instant::now();
    futures::stream::iter(0..args.gordons)
        .map(|i| {
            let gordons = gordons.clone();
            async move {
                gordons
                    .create(&PostParams::default(), &gordon(ns, &format!("g{i}"), 3)?)
                    .await?;
                Ok::<_, anyhow::Error>(())
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await?;
    let created_in = t0.elapsed();
    let want = args.gordons * 3;
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut pods_at, mut status_at) = (None, None);
    let mut max_active = 0;
    while pods_at.is_none() || status_at.is_none() {
        let list = pods.list(&ListParams::default()).await?;
        let active = list
            .items
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .count();
        max_active = max_active.max(active);
        let run = list.items.iter().filter(|p| running(p)).count();
        if pods_at.is_none() && run == want && active == want {
            pods_at = Some(t0.elapsed());
        }
        if status_at.is_none() && pods_at.is_some() {
            let gl = gordons.list(&ListParams::default()).await?;
            if gl
                .items
                .iter()
                .all(|g| g.status.as_ref().and_then(|s| s.ready_replicas) == Some(3))
            {
                status_at = Some(t0.elapsed());
            }
        }
        if Instant::now() > deadline {
            bail!(
                "{} Gordons x 3 did not converge in 120 s ({run} running of {want})",
                args.gordons
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rss_end = rss_kib(op_pid, "VmRSS:");
    let hwm = rss_kib(op_pid, "VmHWM:");
    let _ = operator.0.kill();
    let _ = operator.0.wait();
    let log_lines = std::fs::read_to_string(&op_log)
        .map(|s| s.lines().count())
        .unwrap_or(0);
    let python = match &args.python {
        Some(py) => Some(python_heal(&client, py, &kubeconfig, &dir, args.python_deletions).await?),
        None => None,
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "oplab operator bench (sandbox child process, pod start delay {} ms)",
        args.pod_start_delay_ms
    );
    println!(
        "self-heal over {} deletions: to replacement created p50 {:.1} ms p99 {:.1} ms; to Running p50 {:.1} ms p99 {:.1} ms",
        to_created.len(),
        ms(heal.0),
        ms(heal.1),
        ms(heal.2),
        ms(heal.3)
    );
    println!(
        "{} Gordons x 3: created in {:.0} ms; all {want} pods Running after {:.0} ms; all statuses ready after {:.0} ms; max active pods seen {max_active}",
        args.gordons,
        ms(created_in),
        ms(pods_at.unwrap_or_default()),
        ms(status_at.unwrap_or_default()),
    );
    println!(
        "operator process memory: RSS {:.1} MiB idle, {:.1} MiB after, peak {:.1} MiB; {log_lines} log lines",
        rss_start as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        hwm as f64 / 1024.0,
    );
    if let Some((created, running)) = python {
        let (p50c, p99c, p50r) = (
            percentile(&created, 50),
            percentile(&created, 99),
            percentile(&running, 50),
        );
        println!(
            "reference Python operator, self-heal over {} deletions: to replacement created p50 {:.1} ms p99 {:.1} ms; to Running p50 {:.1} ms",
            created.len(),
            ms(p50c),
            ms(p99c),
            ms(p50r)
        );
        println!(
            "ratio Python / built-in (to replacement created, p50): {:.1}x",
            ms(p50c) / ms(heal.0).max(0.001)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}
