//! `oplab sandbox`: run the sandbox cluster in the foreground.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub command: Option<SandboxCommand>,
    /// Address to listen on; loopback only (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,
    /// Where to write the kubeconfig (mode 0600); default: oplab's data directory.
    #[arg(long, env = "OPLAB_SANDBOX_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// How long new pods stay Pending before they run, in milliseconds.
    #[arg(long, default_value_t = 300)]
    pub pod_start_delay_ms: u64,
    /// Keep the cluster in this directory: every acknowledged write survives a crash and a restart.
    #[arg(long, env = "OPLAB_SANDBOX_STATE")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum SandboxCommand {
    /// Empty a sandbox state directory (asks first).
    Reset(ResetArgs),
}

#[derive(Debug, clap::Args)]
pub struct ResetArgs {
    /// The state directory; default: the TUI sandbox's, in oplab's data directory.
    #[arg(long, env = "OPLAB_SANDBOX_STATE")]
    pub state: Option<PathBuf>,
    /// Do not ask.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// oplab's data directory (`~/.local/share/oplab` on Linux).
pub fn data_dir() -> anyhow::Result<PathBuf> {
    Ok(crate::files::data_home()?.join("oplab"))
}

/// The default state directory of the TUI's sandbox (`~/.local/share/oplab/sandbox/state` on Linux).
pub fn default_state_dir() -> anyhow::Result<PathBuf> {
    Ok(data_dir()?.join("sandbox").join("state"))
}

/// `oplab sandbox reset`: empties a state directory after confirmation; refused while a sandbox runs on it.
pub fn reset(args: ResetArgs) -> anyhow::Result<ExitCode> {
    let dir = match args.state {
        Some(d) => d,
        None => default_state_dir()?,
    };
    if !dir.exists() {
        println!("{} does not exist: nothing to reset", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    // Refuse before asking: a running sandbox would lose acknowledged writes.
    let lock = take_lock(&dir)?;
    if !args.yes {
        let question = format!(
            "Empty the sandbox state in {}? Everything in that cluster is lost.",
            dir.display()
        );
        if !confirm(&question, "--yes")? {
            println!("nothing changed");
            return Ok(ExitCode::FAILURE);
        }
    }
    crate::sandbox::store::state::reset(&dir)?;
    drop(lock);
    println!("emptied {}", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// The state directory's lock, or an error naming the sandbox that holds it and what to do.
fn take_lock(dir: &Path) -> anyhow::Result<crate::sandbox::lock::StateLock> {
    crate::sandbox::lock::StateLock::acquire(dir).map_err(|e| match e.downcast_ref::<crate::sandbox::lock::Locked>() {
        Some(l) => anyhow::anyhow!(
            "refusing to empty {}: a sandbox runs on it ({}). Quit that oplab (or stop that `oplab sandbox`) first; \
             in the TUI, :reset-cluster starts its cluster over.",
            dir.display(),
            l.holder
        ),
        None => e,
    })
}

/// Empties `dir` unless a sandbox runs on it (for `--fresh-sandbox`, after its confirmation).
pub fn reset_locked(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let lock = take_lock(dir)?;
    crate::sandbox::state::reset(dir)?;
    drop(lock);
    Ok(())
}

/// Asks `question` [y/N] on the terminal; without one, refuses and names `flag` to pass instead.
pub fn confirm(question: &str, flag: &str) -> anyhow::Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "{question} Refusing without confirmation: run it in a terminal, or pass {flag}"
        );
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading the answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

pub fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    if let Some(SandboxCommand::Reset(r)) = args.command {
        return reset(r);
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let mut options = crate::sandbox::Options {
            addr: args.addr,
            state_dir: args.state.clone(),
            ..Default::default()
        };
        options.config.pod_start_delay = std::time::Duration::from_millis(args.pod_start_delay_ms);
        let sandbox = crate::sandbox::Sandbox::start(options).await?;
        let path = match args.kubeconfig {
            Some(p) => p,
            None => data_dir()?.join("sandbox").join("kubeconfig"),
        };
        sandbox.write_kubeconfig(&path)?;
        println!("oplab sandbox is running at {}", sandbox.url);
        println!("kubeconfig: {}", path.display());
        if let Some(state) = &args.state {
            println!("state: {}", state.display());
        }
        println!();
        println!("  export KUBECONFIG={}", path.display());
        println!("  kubectl get nodes");
        println!();
        println!("Pods are simulated: they run no processes. Press Ctrl-C to stop.");
        wait_for_signal().await;
        println!("stopping the sandbox");
        sandbox.shutdown();
        Ok(ExitCode::SUCCESS)
    })
}

pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
