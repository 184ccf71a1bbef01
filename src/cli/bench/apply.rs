//! `oplab bench apply` (hidden): the OLM set on fresh sandboxes, oplab's engine against `kubectl apply --server-side`.

use crate::cluster::{Settings, Vars, apply, load_documents, manifests, render};
use anyhow::{Context, bail};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

pub fn run(set: String, rounds: usize, kubectl: String) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let dir = crate::files::private_work_dir("oplab-bench-")?;
    // the same rendered files for both
    let vars = Vars::default();
    for source in manifests::load(&set)? {
        let name = Path::new(&source.name)
            .file_name()
            .context("file name")?
            .to_owned();
        let text = render(std::slice::from_ref(&source.name), &vars)?;
        std::fs::write(dir.join(name), text)?;
    }
    let files = dir.to_string_lossy().into_owned();
    let oplab = std::env::current_exe().context("finding the oplab binary")?;
    let oplab = oplab.to_string_lossy().into_owned();
    let (mut engine, mut binary, mut kube) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        let e = runtime.block_on(engine_round(&files))?;
        let b = runtime.block_on(command_round(&oplab, &[&["apply", &files]], &dir))?;
        let k = runtime.block_on(kubectl_round(&kubectl, &files, &dir))?;
        println!(
            "round {round}: oplab engine {:>7.1} ms   `oplab apply` process {:>7.1} ms   kubectl apply --server-side {:>7.1} ms ({} kubectl runs)",
            ms(e),
            ms(b.0),
            ms(k.0),
            k.1
        );
        engine.push(e);
        binary.push(b.0);
        kube.push(k.0);
    }
    let (e, b, k) = (median(&mut engine), median(&mut binary), median(&mut kube));
    println!(
        "median of {rounds}: oplab engine {:.1} ms, `oplab apply` {:.1} ms, kubectl {:.1} ms; ratio oplab/kubectl = {:.2} (engine), {:.2} (process)",
        ms(e),
        ms(b),
        ms(k),
        e.as_secs_f64() / k.as_secs_f64(),
        b.as_secs_f64() / k.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

async fn fresh_sandbox() -> anyhow::Result<crate::sandbox::Sandbox> {
    crate::sandbox::Sandbox::start(crate::sandbox::Options::default()).await
}

/// Parse, connect from the kubeconfig, check and apply: what `oplab apply DIR` does.
async fn engine_round(files: &str) -> anyhow::Result<Duration> {
    let sandbox = fresh_sandbox().await?;
    let start = Instant::now();
    let docs = load_documents(&[files.to_string()], &Vars::default())
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    let client = sandbox.client().await?;
    let report = apply::apply(&client, docs, &Settings::default(), None)
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    let took = start.elapsed();
    if report.count(crate::cluster::Outcome::Created) != report.results.len() {
        bail!("the engine did not create every object on a fresh sandbox");
    }
    Ok(took)
}

/// `kubectl apply --server-side -f DIR`; CRs of CRDs created in the same run fail the first time
/// (kubectl maps kinds before the CRDs exist), so as users do: wait for the CRDs and run it again.
async fn kubectl_round(
    kubectl: &str,
    files: &str,
    dir: &Path,
) -> anyhow::Result<(Duration, usize)> {
    let first: &[&str] = &["apply", "--server-side", "-f", files];
    let wait: &[&str] = &[
        "wait",
        "--for=condition=Established",
        "crd",
        "--all",
        "--timeout=30s",
    ];
    command_round(kubectl, &[first, wait, first], dir).await
}

/// Runs `steps` of `program` against a fresh sandbox until one succeeds after an apply; returns the
/// time and the number of runs. A failing first step is retried after the later ones (see above).
async fn command_round(
    program: &str,
    steps: &[&[&str]],
    dir: &Path,
) -> anyhow::Result<(Duration, usize)> {
    let sandbox = fresh_sandbox().await?;
    let home = dir.join("home");
    crate::files::make_dirs(&home)?;
    let kubeconfig = home.join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig)?;
    let run = |args: &[&str]| {
        let program = program.to_string();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let kubeconfig = kubeconfig.clone();
        let home = home.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(&program)
                .args(&args)
                .env("KUBECONFIG", &kubeconfig)
                .env("HOME", &home)
                .output()
        })
    };
    let start = Instant::now();
    let mut runs = 0;
    let mut last = None;
    for (i, step) in steps.iter().enumerate() {
        let out = run(step).await??;
        runs += 1;
        let ok = out.status.success();
        last = Some(out);
        if i == 0 && ok {
            break;
        }
    }
    let took = start.elapsed();
    if let Some(out) = last
        && !out.status.success()
    {
        bail!("{program} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok((took, runs))
}
