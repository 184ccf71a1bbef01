//! `oplab bench classroom`: a sandbox (its own process), N attendees set up, every task of every
//! lab on the board; watches open against distinct kinds, board refresh latency after a change
//! (p50/p99), peak memory of the board process.

use super::tui::vm_kb;
use crate::checks::eval;
use crate::classroom::{Board, Cell, setup};
use anyhow::Context;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const CRONTAB: &str = "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: nightly}\nspec: {cronSpec: '0 3 * * *', image: busybox:1.36, replicas: 2}\n";
const GORDON: &str = "apiVersion: operator.prgcont.cz/v1\nkind: Gordon\nmetadata: {name: example}\nspec: {gordon: {replicas: 3}}\n";

/// The sandbox child process, stopped on drop.
struct SandboxProcess {
    child: std::process::Child,
    dir: PathBuf,
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_sandbox() -> anyhow::Result<(SandboxProcess, PathBuf)> {
    let exe = std::env::current_exe().context("finding oplab's own binary")?;
    let dir = crate::files::private_work_dir("oplab-bench-classroom-")?;
    let kubeconfig = dir.join("kubeconfig");
    let child = Command::new(exe)
        .arg("sandbox")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting `oplab sandbox`")?;
    let process = SandboxProcess { child, dir };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !kubeconfig.exists() {
        if Instant::now() > deadline {
            anyhow::bail!("the sandbox wrote no kubeconfig within 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((process, kubeconfig))
}

async fn client(kubeconfig: &Path) -> anyhow::Result<kube::Client> {
    crate::cluster::connection::Target::kubeconfig(Some(kubeconfig.to_path_buf()), None)
        .client()
        .await
}

pub fn run(attendees: usize, rounds: usize) -> anyhow::Result<ExitCode> {
    let (sandbox, kubeconfig) = start_sandbox()?;
    let result = tokio::runtime::Runtime::new()?.block_on(bench(&kubeconfig, attendees, rounds));
    drop(sandbox);
    result
}

fn pct(lat: &[Duration], p: f64) -> f64 {
    lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or_default()
        .as_secs_f64()
        * 1e3
}

async fn bench(kubeconfig: &Path, n: usize, rounds: usize) -> anyhow::Result<ExitCode> {
    let client = client(kubeconfig).await?;
    crate::cluster::connection::probe(&client, "the bench sandbox", "bench").await?;
    // The instructor's part: the CRDs.
    let docs = crate::cluster::load_documents(&["crontab".into()], &Default::default())
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    crate::cluster::apply::apply(&client, docs, &Default::default(), None)
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    crate::operator::bench::install_crd(&client).await?;

    let labs = crate::lab::load_embedded().labs;
    let names = setup::numbered(n);
    let out = crate::files::private_work_dir("oplab-bench-classroom-kc-")?;
    let opts = setup::Options {
        names: names.clone(),
        out_dir: out.clone(),
        duration: Duration::from_secs(3600),
        labs: labs.clone(),
    };
    let t = Instant::now();
    let (report, _) = setup::create(&client, &opts, false).await?;
    let _ = std::fs::remove_dir_all(&out);
    println!(
        "setup of {n} attendees (namespaces, ServiceAccounts, RBAC): {} objects in {:.1} s",
        report.created + report.configured + report.unchanged,
        t.elapsed().as_secs_f64()
    );
    for name in &names {
        crate::checks::actions::apply_yaml(
            &client,
            "ct",
            CRONTAB,
            &format!("{name}-crontabs"),
            false,
        )
        .await
        .map_err(anyhow::Error::msg)?;
        crate::checks::actions::apply_yaml(&client, "gn", GORDON, &format!("{name}-gordon"), false)
            .await
            .map_err(anyhow::Error::msg)?;
    }

    let rss_before = vm_kb("VmRSS:").unwrap_or(0);
    let t = Instant::now();
    let mut board = Board::new(client.clone(), labs.clone());
    board.settle(Duration::from_secs(60)).await;
    let first = board.snapshot();
    let settle = t.elapsed();
    let mut kinds = BTreeSet::from([("v1".to_string(), "Namespace".to_string())]);
    for lab in &labs {
        let lab = lab.render_vars(&lab.attendee_vars("x"));
        for task in lab.tasks() {
            kinds.extend(
                eval::keys(&task.check)
                    .into_iter()
                    .map(|k| (k.api_version, k.kind)),
            );
        }
    }
    println!(
        "board: {} attendees x {} tasks ({} cells) + {} shared tasks, {} checks active; first snapshot in {:.2} s ({})",
        first.rows.len(),
        first.tasks.len(),
        first.rows.len() * first.tasks.len(),
        first.shared.len(),
        board.engine().len(),
        settle.as_secs_f64(),
        first.connection
    );
    println!(
        "watches open: {} (distinct kinds read: {}; target: equal)",
        board.engine().stores().watch_count(),
        kinds.len()
    );

    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(
        "stable.example.com",
        "v1",
        "CronTab",
    ));
    let mut replicas = vec![2u32; n];
    let mut lat = Vec::with_capacity(rounds);
    let evals_before = board.engine().evaluations;
    for r in 0..rounds {
        let a = (r * 7) % n.max(1);
        let name = &names[a];
        replicas[a] = if replicas[a] == 2 { 3 } else { 2 };
        let want_pass = replicas[a] == 2;
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &format!("{name}-crontabs"), &ar);
        let start = Instant::now();
        api.patch(
            "nightly",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"replicas": replicas[a]}})),
        )
        .await
        .context("patching a CronTab")?;
        loop {
            let more = tokio::time::timeout(Duration::from_secs(10), board.next())
                .await
                .context("no board change within 10 s")?;
            if more.is_none() {
                anyhow::bail!("the board's watches stopped");
            }
            let s = board.snapshot();
            let cell = s.cell(name, "custom-resources", "crontab-object");
            if cell.is_some_and(|c| matches!(c, Cell::Pass) == want_pass) {
                break;
            }
        }
        lat.push(start.elapsed());
    }
    lat.sort();
    println!(
        "board refresh after a change over {rounds} changes (patch request, watch event, re-evaluation, snapshot): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 < 200 ms)",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!(
        "evaluations per change: {:.1} (of {} checks)",
        (board.engine().evaluations - evals_before) as f64 / rounds.max(1) as f64,
        board.engine().len()
    );
    println!(
        "memory of the board process: peak (VmHWM) {:.1} MB, resident now {:.1} MB, of which before the board {:.1} MB (target < 150 MB; the sandbox runs in its own process)",
        vm_kb("VmHWM:").unwrap_or(0) as f64 / 1024.0,
        vm_kb("VmRSS:").unwrap_or(0) as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
    Ok(ExitCode::SUCCESS)
}
