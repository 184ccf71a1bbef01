//! Finding a cluster in the background: kubeconfig (`--kubeconfig`, `KUBECONFIG`, `--context`), a
//! short `/version` probe, else the in-process sandbox. The first frame never waits for it.

use super::background::Background;
use super::message::{AppMessage, ClusterState, LogLine};
use std::path::PathBuf;
use std::time::Duration;

/// How to find a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// kubeconfig file to read instead of `KUBECONFIG` / `~/.kube/config` (`--kubeconfig`).
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context to use instead of the current one.
    pub context: Option<String>,
    /// Skip the kubeconfig and start the sandbox.
    pub force_sandbox: bool,
    /// Where the sandbox's kubeconfig goes (default: `<data dir>/oplab/sandbox/kubeconfig`).
    pub sandbox_kubeconfig: Option<PathBuf>,
    /// How long the `/version` probe may take.
    pub probe_timeout: Duration,
    /// The sandbox keeps its state here (one sandbox per directory: a running one is joined);
    /// `None`: in memory, gone at quit.
    pub sandbox_state: Option<PathBuf>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            kubeconfig: None,
            context: None,
            force_sandbox: false,
            sandbox_kubeconfig: None,
            probe_timeout: Duration::from_secs(2),
            sandbox_state: None,
        }
    }
}

/// `<data dir>/oplab/sandbox/kubeconfig` (`~/.local/share/oplab/...` on Linux).
pub fn default_sandbox_kubeconfig() -> Option<PathBuf> {
    Some(
        crate::files::data_home()
            .ok()?
            .join("oplab")
            .join("sandbox")
            .join("kubeconfig"),
    )
}

/// Starts looking for a cluster; results arrive as [`AppMessage`]s. A sandbox started here
/// runs until the background work is shut down.
pub fn spawn_discovery(bg: &Background, opts: ClusterOptions) {
    let task_bg = bg.clone();
    let token = bg.token();
    tokio::spawn(async move {
        let bg = task_bg;
        let why = if opts.force_sandbox {
            "--sandbox given".to_string()
        } else {
            match tokio::time::timeout(opts.probe_timeout, connect(&opts)).await {
                Ok(Ok((client, context, version))) => {
                    bg.send(AppMessage::Cluster(ClusterState::Connected {
                        context: context.clone(),
                        version: version.clone(),
                    }));
                    bg.send(AppMessage::Client(client));
                    bg.log(LogLine::info(
                        "cluster",
                        format!("Connected to {context} (Kubernetes {version})."),
                    ));
                    return;
                }
                Ok(Err(e)) => e,
                Err(_) => format!(
                    "the cluster did not answer within {} s",
                    opts.probe_timeout.as_secs_f32()
                ),
            }
        };
        let options = crate::sandbox::Options {
            state_dir: opts.sandbox_state.clone(),
            ..Default::default()
        };
        let sandbox = match crate::sandbox::embedded::start_or_join(options).await {
            Ok(s) => s,
            Err(e) => {
                bg.send(AppMessage::Cluster(ClusterState::Disconnected {
                    reason: format!(
                        "no cluster ({why}) and the sandbox failed: {}",
                        crate::explain::anyhow_text(&e)
                    ),
                }));
                bg.log(LogLine::error(
                    "cluster",
                    format!(
                        "No cluster ({why}), and the sandbox could not start: {}",
                        crate::explain::anyhow_text(&e)
                    ),
                ));
                return;
            }
        };
        let path = opts.sandbox_kubeconfig.or_else(default_sandbox_kubeconfig);
        let written = match &path {
            Some(p) => match sandbox.write_kubeconfig(p) {
                Ok(()) => Some(p.clone()),
                Err(e) => {
                    bg.log(LogLine::warn(
                        "cluster",
                        crate::explain::sentence_anyhow("writing the sandbox kubeconfig", &e),
                    ));
                    None
                }
            },
            None => None,
        };
        bg.send(AppMessage::Cluster(ClusterState::Sandbox {
            url: sandbox.url().to_string(),
            kubeconfig: written.clone(),
        }));
        let why_line = if opts.force_sandbox {
            "--sandbox: the kubeconfig is not used".to_string()
        } else {
            format!("No cluster from the kubeconfig: {why}")
        };
        bg.log(LogLine::info("cluster", why_line));
        let line = match &written {
            Some(p) => format!(
                "No cluster reachable: running the oplab sandbox; export KUBECONFIG={} to use kubectl with it",
                p.display()
            ),
            None => "No cluster reachable: running the oplab sandbox".to_string(),
        };
        bg.log(LogLine::info("cluster", line));
        match &sandbox {
            crate::sandbox::embedded::Embedded::Joined { holder, .. } => {
                bg.log(LogLine::info(
                    "cluster",
                    format!("The sandbox was already running ({holder}): using it, not starting another."),
                ));
            }
            crate::sandbox::embedded::Embedded::Owned(s) => {
                if let Some(dir) = s.state_dir() {
                    let what = if s.restored == 0 {
                        "a new cluster"
                    } else {
                        "its objects kept"
                    };
                    bg.log(LogLine::info(
                        "cluster",
                        format!("Sandbox state in {} ({what}).", dir.display()),
                    ));
                }
                if s.restored == 0 {
                    bg.send(AppMessage::NewCluster);
                }
            }
        }
        match sandbox.client().await {
            Ok(c) => {
                bg.send(AppMessage::Client(c));
            }
            Err(e) => {
                bg.log(LogLine::error(
                    "cluster",
                    crate::explain::sentence_anyhow("making a client for the sandbox", &e),
                ));
            }
        }
        token.cancelled().await;
        sandbox.shutdown();
    });
}

/// A client for the kubeconfig's cluster that answered `/version`: (client, context, version).
/// The kubeconfig is read by the connector every command uses ([`crate::cluster::connection`]).
async fn connect(opts: &ClusterOptions) -> Result<(kube::Client, String, String), String> {
    let target = crate::cluster::connection::Target::kubeconfig(
        opts.kubeconfig.clone(),
        opts.context.clone(),
    );
    let loaded = target
        .load()
        .await
        .map_err(|e| crate::explain::anyhow_text(&e))?;
    let context = if loaded.context.is_empty() {
        loaded.server.clone()
    } else {
        loaded.context
    };
    let info = loaded
        .client
        .apiserver_version()
        .await
        .map_err(|e| format!("{context} did not answer: {}", crate::explain::explain(&e)))?;
    Ok((loaded.client, context, info.git_version))
}
