//! `oplab bench checks`: every task of every lab active on a sandbox; latency from a change to the
//! task's new verdict (p50/p99) and the number of watches open.

use crate::checks::{Engine, Verdict, actions};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const CRONTAB: &str = "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: nightly, namespace: crontabs}\nspec: {cronSpec: '0 3 * * *', image: busybox:1.36, replicas: 2}\n";

pub fn run(rounds: usize) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(bench(rounds))
}

async fn bench(rounds: usize) -> anyhow::Result<ExitCode> {
    let sandbox = crate::sandbox::Sandbox::start(crate::sandbox::Options::default()).await?;
    let client = sandbox.client().await?;
    let docs =
        crate::cluster::load_documents(&["crontab".into()], &crate::cluster::Vars::default())
            .map_err(|f| anyhow::anyhow!("{f}"))?;
    crate::cluster::apply::apply(&client, docs, &Default::default(), None)
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    actions::apply_yaml(
        &client,
        "ns",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: crontabs}\n",
        "default",
        false,
    )
    .await
    .map_err(anyhow::Error::msg)?;
    actions::apply_yaml(&client, "ct", CRONTAB, "crontabs", false)
        .await
        .map_err(anyhow::Error::msg)?;

    let mut engine = Engine::new(client.clone());
    let mut target = None;
    let set = crate::lab::load_embedded();
    for lab in &set.labs {
        let lab = lab.render_vars(&lab.default_vars());
        for t in lab.tasks() {
            let i = engine.add(&lab.id, t);
            if t.id == "crontab-object" {
                target = Some(i);
            }
        }
    }
    let i = target.ok_or_else(|| anyhow::anyhow!("task crontab-object not found"))?;
    engine.settle(Duration::from_secs(10)).await;
    engine.evaluate_all();
    let t = crate::lab::Target {
        api_version: "stable.example.com/v1".into(),
        kind: "CronTab".into(),
        namespace: Some("crontabs".into()),
        name: Some("nightly".into()),
        selector: None,
    };
    let mut lat = Vec::with_capacity(rounds);
    let evals_before = engine.evaluations;
    for r in 0..rounds {
        let replicas = if r % 2 == 0 { 3 } else { 2 };
        let want_pass = replicas == 2;
        let start = Instant::now();
        actions::run(
            &client,
            &crate::lab::Action::Scale {
                target: t.clone(),
                field: "spec.replicas".into(),
                replicas,
            },
        )
        .await
        .map_err(anyhow::Error::msg)?;
        loop {
            let changes = tokio::time::timeout(Duration::from_secs(10), engine.next_changes())
                .await?
                .ok_or_else(|| anyhow::anyhow!("watches stopped"))?;
            if changes
                .iter()
                .any(|(j, v)| *j == i && (v.verdict == Verdict::Pass) == want_pass)
            {
                break;
            }
        }
        lat.push(start.elapsed());
    }
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "checks: {} tasks active, {} watches open ({} distinct kinds x scopes)",
        engine.len(),
        engine.stores().watch_count(),
        engine.stores().keys().len()
    );
    println!(
        "change -> verdict over {rounds} rounds (patch request included): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!(
        "evaluations per change: {:.1} (of {} tasks)",
        (engine.evaluations - evals_before) as f64 / rounds as f64,
        engine.len()
    );
    Ok(ExitCode::SUCCESS)
}
