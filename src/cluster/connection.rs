//! Connecting to a cluster as kubectl does (kubeconfig, `--context`, `KUBECONFIG`), or to an in-process sandbox.

use anyhow::Context;
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::PathBuf;
use std::time::Duration;

/// How long the reachability probe waits for the API server.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where to connect: the kubectl flags.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// Start an in-memory sandbox for this command instead.
    pub sandbox: bool,
}

/// A connected client, its default namespace and (with `--sandbox`) the sandbox that must stay alive.
pub struct Connection {
    pub client: kube::Client,
    pub default_namespace: String,
    pub server: String,
    pub context: String,
    pub sandbox: Option<crate::sandbox::Sandbox>,
}

impl Target {
    /// Connects and probes the server, so an unreachable cluster fails fast with what to do.
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        if self.sandbox {
            let sandbox = crate::sandbox::Sandbox::start(crate::sandbox::Options::default())
                .await
                .context("starting the in-process sandbox")?;
            let client = sandbox.client().await?;
            return Ok(Connection {
                client,
                default_namespace: "default".into(),
                server: sandbox.url.clone(),
                context: "oplab-sandbox (in memory)".into(),
                sandbox: Some(sandbox),
            });
        }
        let Loaded {
            client,
            default_namespace,
            server,
            context,
        } = self.load().await?;
        probe(&client, &server, &context).await?;
        Ok(Connection {
            client,
            default_namespace,
            server,
            context,
            sandbox: None,
        })
    }
}

/// A client built from the kubeconfig, not yet probed.
pub struct Loaded {
    pub client: kube::Client,
    pub default_namespace: String,
    pub server: String,
    /// The context used (the kubeconfig's current one unless `--context` named another).
    pub context: String,
}

impl Target {
    /// The target of `--kubeconfig`/`--context` (no sandbox).
    pub fn kubeconfig(kubeconfig: Option<PathBuf>, context: Option<String>) -> Self {
        Self {
            kubeconfig,
            context,
            sandbox: false,
        }
    }

    /// Builds a client from the kubeconfig as kubectl reads it (`--kubeconfig`, else `KUBECONFIG`,
    /// else `~/.kube/config`; `--context`, else the current context), without talking to the
    /// server. The one place where oplab turns a kubeconfig into a client.
    pub async fn load(&self) -> anyhow::Result<Loaded> {
        let options = KubeConfigOptions {
            context: self.context.clone(),
            ..Default::default()
        };
        let kubeconfig = match &self.kubeconfig {
            // the error names the path and what to do (crate::explain words it)
            Some(path) => Kubeconfig::read_from(path)?,
            None => Kubeconfig::read()?,
        };
        let context = self
            .context
            .clone()
            .or_else(|| kubeconfig.current_context.clone())
            .unwrap_or_default();
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .with_context(|| format!("loading context {context:?} from the kubeconfig"))?;
        let server = config.cluster_url.to_string();
        let default_namespace = config.default_namespace.clone();
        let client = kube::Client::try_from(config).context("building the Kubernetes client")?;
        Ok(Loaded {
            client,
            default_namespace,
            server,
            context,
        })
    }

    /// [`Target::load`]'s client alone.
    pub async fn client(&self) -> anyhow::Result<kube::Client> {
        Ok(self.load().await?.client)
    }
}

/// Asks the server for its version with a short timeout.
pub async fn probe(client: &kube::Client, server: &str, context: &str) -> anyhow::Result<()> {
    let cause = match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await {
        Ok(Ok(_)) => return Ok(()),
        // any API answer (even 401/403) means the server is there
        Ok(Err(kube::Error::Api(_))) => return Ok(()),
        Ok(Err(err)) => error_chain(&err),
        Err(_) => format!("no answer within {}s", PROBE_TIMEOUT.as_secs()),
    };
    anyhow::bail!(
        "no cluster reachable at {server} (context {context}): {cause}. Start one (kind, minikube, k3d) or run with --sandbox"
    )
}

impl Connection {
    /// A note for the user when the cluster lives only as long as this command.
    pub fn sandbox_note(&self) -> Option<&'static str> {
        self.sandbox.as_ref().map(|_| {
            "using an in-memory sandbox for this command only: its objects vanish when oplab exits \
             (run `oplab sandbox` in another terminal for a persistent one)"
        })
    }
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    crate::explain::explain(err).because
}
