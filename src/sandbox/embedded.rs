//! The sandbox an `oplab` session uses: its own, started on a state directory, or the one another process
//! already runs on that directory (one sandbox per state directory; see [`super::lock`]).

use super::lock::{self, Holder, Locked};
use super::{Options, Sandbox, kubeconfig, state};
use anyhow::Context;
use std::path::Path;
use std::time::{Duration, Instant};

/// A sandbox this process started, or a running one it joined.
pub enum Embedded {
    Owned(Sandbox),
    Joined {
        url: String,
        holder: Holder,
        kubeconfig: String,
    },
}

impl Embedded {
    pub fn url(&self) -> &str {
        match self {
            Self::Owned(s) => &s.url,
            Self::Joined { url, .. } => url,
        }
    }

    pub fn kubeconfig(&self) -> String {
        match self {
            Self::Owned(s) => s.kubeconfig(),
            Self::Joined { kubeconfig, .. } => kubeconfig.clone(),
        }
    }

    /// Writes the kubeconfig to `path` with mode 0600.
    pub fn write_kubeconfig(&self, path: &Path) -> anyhow::Result<()> {
        crate::kubeconfig::write_text(path, &self.kubeconfig())
    }

    pub async fn client(&self) -> anyhow::Result<kube::Client> {
        super::client_from(&self.kubeconfig()).await
    }

    /// The other process whose sandbox this is, when joined.
    pub fn holder(&self) -> Option<&Holder> {
        match self {
            Self::Owned(_) => None,
            Self::Joined { holder, .. } => Some(holder),
        }
    }

    /// Stops the sandbox if it is this process's own.
    pub fn shutdown(&self) {
        if let Self::Owned(s) = self {
            s.shutdown();
        }
    }
}

/// Starts a sandbox on `options.state_dir`, or joins the one running there. Without a state directory it
/// always starts a new in-memory one.
pub async fn start_or_join(options: Options) -> anyhow::Result<Embedded> {
    let Some(dir) = options.state_dir.clone() else {
        return Ok(Embedded::Owned(Sandbox::start(options).await?));
    };
    // The holder may be starting (its address not recorded yet) or stopping: try again for a while.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let locked = match Sandbox::start(options.clone()).await {
            Ok(s) => return Ok(Embedded::Owned(s)),
            Err(e) => match e.downcast_ref::<Locked>() {
                Some(l) => l.clone(),
                None => return Err(e),
            },
        };
        if let Some(url) = &locked.holder.url
            && let Some(creds) = state::read_credentials(&dir)?
        {
            let kubeconfig = kubeconfig::render(url, &creds.ca_pem, &creds.token, "default");
            if reachable(&kubeconfig).await {
                return Ok(Embedded::Joined {
                    url: url.clone(),
                    holder: locked.holder,
                    kubeconfig,
                });
            }
        }
        if Instant::now() > deadline {
            return Err(anyhow::Error::new(locked)).context(
                "the sandbox running on it does not answer; stop that process or pick another directory",
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn reachable(kubeconfig: &str) -> bool {
    let Ok(client) = super::client_from(kubeconfig).await else {
        return false;
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), client.apiserver_version()).await,
        Ok(Ok(_))
    )
}

/// What `oplab env` and `:kubeconfig` say about a state directory: its holder when a sandbox runs on it.
pub fn running(dir: &Path) -> Option<Holder> {
    lock::holder(dir)
}
