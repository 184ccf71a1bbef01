//! `oplab` with no subcommand: the TUI, and its global options (`--labs`, `--kubeconfig`, `--context`, `--sandbox`).

use crate::tui::{ClusterOptions, TuiOptions};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of the TUI (given before any subcommand).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TuiArgs {
    /// Read labs from this directory instead of the built-in ones, reloading them when they change.
    #[arg(long, value_name = "DIR")]
    pub labs: Option<PathBuf>,
    /// kubeconfig file (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Use the built-in sandbox cluster even when a cluster is reachable.
    #[arg(long)]
    pub sandbox: bool,
    /// Work as this classroom attendee: the labs use namespaces of your own (NAME-gordon, ...),
    /// created and labelled at start, and the built-in operator manages only them. Saved in the
    /// progress file, so later runs need no flag; `--attendee ''` forgets it.
    #[arg(long, value_name = "NAME", env = "OPLAB_ATTENDEE")]
    pub attendee: Option<String>,
    /// Keep the sandbox cluster's state in this directory (default: oplab's data directory,
    /// `~/.local/share/oplab/sandbox/state`). One sandbox per directory: a second oplab uses the
    /// running one.
    #[arg(long, value_name = "DIR", env = "OPLAB_SANDBOX_STATE")]
    pub sandbox_state: Option<PathBuf>,
    /// Start the sandbox cluster empty (asks first): its kept state is deleted.
    #[arg(long)]
    pub fresh_sandbox: bool,
    /// Progress file (default: oplab/progress.json in your state directory).
    #[arg(long, value_name = "FILE", env = "OPLAB_PROGRESS", hide = true)]
    pub progress: Option<PathBuf>,
}

impl TuiArgs {
    /// The sandbox's state directory: `--sandbox-state`, else the default one (in memory when there
    /// is no home directory).
    pub fn state_dir(&self) -> Option<PathBuf> {
        self.sandbox_state
            .clone()
            .or_else(|| super::sandbox::default_state_dir().ok())
    }

    pub fn options(&self) -> TuiOptions {
        TuiOptions {
            labs_dir: self.labs.clone(),
            cluster: ClusterOptions {
                kubeconfig: self.kubeconfig.clone(),
                context: self.context.clone(),
                force_sandbox: self.sandbox,
                sandbox_state: self.state_dir(),
                ..ClusterOptions::default()
            },
            progress: self.progress.clone(),
            attendee: self.attendee.clone(),
        }
    }
}

pub fn run(args: &TuiArgs) -> anyhow::Result<ExitCode> {
    if let Some(name) = args.attendee.as_deref().filter(|n| !n.is_empty()) {
        crate::classroom::validate_attendee_name(name)
            .map_err(|e| anyhow::anyhow!("--attendee: {e}"))?;
    }
    if args.fresh_sandbox {
        match args.state_dir() {
            Some(dir) => {
                let question = format!(
                    "Start with an empty sandbox? Everything kept in {} is deleted.",
                    dir.display()
                );
                if !super::sandbox::confirm(&question, "--fresh-sandbox")? {
                    println!("nothing changed");
                    return Ok(ExitCode::FAILURE);
                }
                super::sandbox::reset_locked(&dir)?;
            }
            None => anyhow::bail!("--fresh-sandbox: no home directory, so no kept sandbox state"),
        }
    }
    crate::tui::run(args.options())?;
    Ok(ExitCode::SUCCESS)
}
