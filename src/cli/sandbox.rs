//! `oplab sandbox`: run the sandbox cluster in the foreground.

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Address to listen on; loopback only (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,
    /// Where to write the kubeconfig (mode 0600); default: oplab's data directory.
    #[arg(long, env = "OPLAB_SANDBOX_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// How long new pods stay Pending before they run, in milliseconds.
    #[arg(long, default_value_t = 300)]
    pub pod_start_delay_ms: u64,
}

/// oplab's data directory (`~/.local/share/oplab` on Linux).
pub fn data_dir() -> anyhow::Result<PathBuf> {
    use etcetera::BaseStrategy;
    let strategy = etcetera::choose_base_strategy().context("finding your home directory")?;
    Ok(strategy.data_dir().join("oplab"))
}

pub fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let mut options = crate::sandbox::Options {
            addr: args.addr,
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
