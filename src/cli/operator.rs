//! `oplab operator gordon`: run the built-in Gordon operator in the foreground with a readable log.

use crate::cluster::connection::Target;
use crate::operator::{self, CrdCheck, Level, Scope};
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

#[derive(Debug, clap::Args)]
pub struct OperatorArgs {
    #[command(subcommand)]
    pub command: OperatorCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum OperatorCommand {
    /// Run the Gordon operator: keeps spec.gordon.replicas pods per Gordon, heals, reports status.
    Gordon(GordonArgs),
    /// Measure the operator on a fresh sandbox (self-heal latency, 500 Gordons, memory).
    #[command(hide = true)]
    Bench(crate::operator::bench::BenchArgs),
}

#[derive(Debug, clap::Args)]
pub struct GordonArgs {
    /// Namespace to manage (default: the kubeconfig context's namespace).
    #[arg(short = 'n', long, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Manage Gordons in every namespace (needs the ClusterRole of manifests/gordon/rbac-cluster.yaml).
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Kubeconfig context to use.
    #[arg(long)]
    pub context: Option<String>,
    /// Kubeconfig file (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Also print every read (GET/LIST) and event.
    #[arg(short, long)]
    pub verbose: bool,
}

pub fn run(args: OperatorArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match args.command {
        OperatorCommand::Gordon(a) => runtime.block_on(gordon(a)),
        OperatorCommand::Bench(a) => runtime.block_on(crate::operator::bench::run(a)),
    }
}

async fn gordon(args: GordonArgs) -> anyhow::Result<ExitCode> {
    let client = Target::kubeconfig(args.kubeconfig.clone(), args.context.clone())
        .client()
        .await?;
    let scope = if args.all_namespaces {
        Scope::All
    } else {
        Scope::Namespace(
            args.namespace
                .clone()
                .unwrap_or_else(|| client.default_namespace().to_string()),
        )
    };
    match operator::check_crd(&client, &scope).await {
        CrdCheck::Ready => {}
        CrdCheck::Missing(m) | CrdCheck::Forbidden(m) | CrdCheck::Failed(m) => {
            eprintln!("error: {m}");
            return Ok(ExitCode::FAILURE);
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<operator::OperatorLog>(4096);
    let stop = CancellationToken::new();
    let printer = tokio::spawn(async move {
        use std::io::Write;
        while let Some(line) = rx.recv().await {
            if line.level == Level::Debug && !args.verbose {
                continue;
            }
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                break;
            }
        }
    });
    let op = tokio::spawn(operator::run(client, scope, tx, stop.clone()));
    super::sandbox::wait_for_signal().await;
    eprintln!("stopping the operator (waiting for running reconciles)");
    stop.cancel();
    let result = op.await.context("the operator task")?;
    let _ = printer.await;
    result.map(|_| ExitCode::SUCCESS)
}
