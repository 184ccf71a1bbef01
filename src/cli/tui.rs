//! `oplab` with no subcommand: the TUI, and its global options (`--labs`, `--context`, `--sandbox`).

use crate::tui::{ClusterOptions, TuiOptions};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of the TUI (given before any subcommand).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TuiArgs {
    /// Read labs from this directory instead of the built-in ones, reloading them when they change.
    #[arg(long, value_name = "DIR")]
    pub labs: Option<PathBuf>,
    /// kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Use the built-in sandbox cluster even when a cluster is reachable.
    #[arg(long)]
    pub sandbox: bool,
    /// Progress file (default: oplab/progress.json in your state directory).
    #[arg(long, value_name = "FILE", env = "OPLAB_PROGRESS", hide = true)]
    pub progress: Option<PathBuf>,
}

impl TuiArgs {
    pub fn options(&self) -> TuiOptions {
        TuiOptions {
            labs_dir: self.labs.clone(),
            cluster: ClusterOptions {
                context: self.context.clone(),
                force_sandbox: self.sandbox,
                ..ClusterOptions::default()
            },
            progress: self.progress.clone(),
        }
    }
}

pub fn run(args: &TuiArgs) -> anyhow::Result<ExitCode> {
    crate::tui::run(args.options())?;
    Ok(ExitCode::SUCCESS)
}
