//! `oplab apply` and `oplab delete`: bundled sets, files or directories, applied atomically in order.

use crate::cluster::apply::{self, ApplyEvent, Outcome, Report, Settings};
use crate::cluster::connection::{Connection, Target};
use crate::cluster::{Failure, Vars, load_documents};
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::sync::mpsc;

/// Which cluster: kubectl's flags, or an in-process sandbox.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// kubeconfig context to use (default: the current context).
    #[arg(long)]
    pub context: Option<String>,
    /// kubeconfig file (default: KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Use an in-memory sandbox cluster for this command only.
    #[arg(long)]
    pub sandbox: bool,
}

impl ClusterArgs {
    pub fn target(&self) -> Target {
        Target {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            sandbox: self.sandbox,
        }
    }
}

/// What to apply or delete, shared by `oplab apply` and `oplab delete`.
#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// Bundled set (`oplab manifests list`), file or directory; several are handled as one set.
    #[arg(required = true, value_name = "SET|FILE|DIR")]
    pub sources: Vec<String>,
    /// Namespace for objects without one; also fills the `{{ns}}` variable.
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Other variables, e.g. --set etc=my-etcd.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

impl SetArgs {
    /// The documents of the set with its variables filled.
    fn documents(&self) -> anyhow::Result<Result<Vec<crate::cluster::Document>, Failure>> {
        let vars = Vars::from_args(self.namespace.as_deref(), &self.vars)?;
        Ok(load_documents(&self.sources, &vars))
    }

    /// Settings for a connection: the namespace given, else the context's.
    fn settings(&self, conn: &Connection) -> Settings {
        Settings {
            namespace: self
                .namespace
                .clone()
                .unwrap_or(conn.default_namespace.clone()),
            ..Default::default()
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub set: SetArgs,
    /// Check everything on the server (dryRun=All) and say what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the diff of the set against the live objects before applying.
    #[arg(long)]
    pub diff: bool,
    /// Take over fields another field manager owns.
    #[arg(long)]
    pub force_conflicts: bool,
}

#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub set: SetArgs,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("starting the async runtime")
}

async fn connect(args: &ClusterArgs) -> anyhow::Result<Connection> {
    let conn = args.target().connect().await?;
    if let Some(note) = conn.sandbox_note() {
        eprintln!("note: {note}");
    }
    Ok(conn)
}

pub fn run_apply(args: ApplyArgs) -> anyhow::Result<ExitCode> {
    let docs = match args.set.documents()? {
        Ok(d) => d,
        Err(f) => return Ok(failed(&f)),
    };
    runtime()?.block_on(async move {
        let conn = connect(&args.set.cluster).await?;
        let settings = Settings {
            force_conflicts: args.force_conflicts,
            dry_run: args.dry_run,
            ..args.set.settings(&conn)
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let progress = tokio::spawn(show_progress(rx, "applying"));
        let result = async {
            let checked = apply::check(&conn.client, docs, &settings, Some(&tx)).await?;
            if args.diff {
                let diff = checked.diff();
                if diff.is_empty() {
                    println!("no differences from the live objects");
                } else {
                    print!("{diff}");
                }
            }
            if args.dry_run {
                return Ok(checked.predicted());
            }
            apply::execute(&conn.client, checked, &settings, Some(&tx)).await
        }
        .await;
        drop(tx);
        let _ = progress.await;
        Ok(finish(result, args.dry_run))
    })
}

pub fn run_delete(args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let docs = match args.set.documents()? {
        Ok(d) => d,
        Err(f) => return Ok(failed(&f)),
    };
    runtime()?.block_on(async move {
        let conn = connect(&args.set.cluster).await?;
        let settings = args.set.settings(&conn);
        let (tx, rx) = mpsc::unbounded_channel();
        let progress = tokio::spawn(show_progress(rx, "deleting"));
        let result = apply::delete(&conn.client, docs, &settings, Some(&tx)).await;
        drop(tx);
        let _ = progress.await;
        Ok(finish(result, false))
    })
}

fn finish(result: Result<Report, Failure>, dry_run: bool) -> ExitCode {
    match result {
        Ok(report) => {
            let suffix = if dry_run { " (dry run)" } else { "" };
            for (object, outcome) in &report.results {
                println!("{object} {outcome}{suffix}");
            }
            let summary: Vec<String> = [
                Outcome::Created,
                Outcome::Configured,
                Outcome::Unchanged,
                Outcome::Deleted,
                Outcome::NotFound,
            ]
            .into_iter()
            .filter_map(|o| {
                let n = report.count(o);
                (n > 0).then(|| format!("{n} {o}"))
            })
            .collect();
            println!(
                "{} objects: {}{suffix}",
                report.results.len(),
                summary.join(", ")
            );
            ExitCode::SUCCESS
        }
        Err(f) => failed(&f),
    }
}

fn failed(f: &Failure) -> ExitCode {
    eprintln!("error: {f}");
    ExitCode::FAILURE
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
async fn show_progress(mut rx: mpsc::UnboundedReceiver<ApplyEvent>, verb: &'static str) {
    let bar = indicatif::ProgressBar::new(0);
    let style = indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    while let Some(event) = rx.recv().await {
        match event {
            ApplyEvent::Checking { total } => {
                bar.set_length(total as u64);
                bar.set_message("checking (dry run)");
            }
            ApplyEvent::Checked { total } => {
                bar.set_length(total as u64);
                bar.set_position(0);
                bar.set_message(verb);
            }
            ApplyEvent::Phase(p) => bar.set_message(format!("{verb} {}", p.label())),
            ApplyEvent::WaitingForCrds { names } => bar.set_message(format!(
                "waiting for {} CRDs to be Established",
                names.len()
            )),
            ApplyEvent::Done { .. } => bar.inc(1),
            ApplyEvent::Failed(_) => {}
        }
    }
    bar.finish_and_clear();
}
