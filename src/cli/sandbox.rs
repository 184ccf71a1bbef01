//! `oplab sandbox`: run the sandbox cluster in the foreground.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,
    /// Where to write the kubeconfig (mode 0600).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

pub fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("not built yet")
}
