//! The embedded sandbox cluster: a Kubernetes-API-compatible server on loopback, in memory, with simulated pods.
//!
//! [`Sandbox::start`] runs it in-process (the TUI and the tests); `oplab sandbox` runs it in the foreground.

pub mod admission;
pub mod api;
pub mod controllers;
pub mod convert;
pub mod crd;
pub mod defaults;
pub mod discovery;
pub mod faults;
pub mod http;
pub mod kubeconfig;
pub mod meta;
pub mod patch;
pub mod proto;
pub mod registry;
pub mod schema;
pub mod server;
pub mod status;
pub mod store;
pub mod table;
pub mod tls;
pub mod watch;

use anyhow::Context;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub use api::{Api, Config};

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct Options {
    pub addr: SocketAddr,
    pub config: Config,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            config: Config::default(),
        }
    }
}

/// A running sandbox; dropping it stops it.
pub struct Sandbox {
    pub url: String,
    pub addr: SocketAddr,
    pub token: String,
    pub ca_pem: String,
    pub api: Arc<Api>,
    stop: CancellationToken,
}

impl Sandbox {
    /// Starts a sandbox on a tokio runtime: HTTPS server, controllers, the built-in objects.
    pub async fn start(options: Options) -> anyhow::Result<Self> {
        let listener = server::bind(options.addr).await?;
        let addr = listener
            .local_addr()
            .context("reading the listening address")?;
        let tls = tls::TlsMaterial::generate()?;
        let token = random_token();
        let api = Arc::new(Api::new(options.config));
        api.set_ca_pem(tls.ca_pem.clone());
        controllers::bootstrap::run(&api);
        let stop = CancellationToken::new();
        tokio::spawn(controllers::run(api.clone(), stop.clone()));
        // Namespaces created before the controllers subscribed get their defaults now.
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            if let Some(obj) = api.store.get(&controllers::key("", "namespaces"), "", ns) {
                controllers::namespaces::on_namespace(&api, &obj, None);
            }
        }
        let url = format!("https://{addr}");
        let state = Arc::new(http::HttpState {
            api: api.clone(),
            token: token.clone(),
            address: addr.to_string(),
        });
        tokio::spawn(server::serve(
            listener,
            tls.server_config()?,
            state,
            stop.clone(),
        ));
        Ok(Self {
            url,
            addr,
            token,
            ca_pem: tls.ca_pem,
            api,
            stop,
        })
    }

    /// The kubeconfig for this sandbox (context `oplab-sandbox`).
    pub fn kubeconfig(&self) -> String {
        kubeconfig::render(&self.url, &self.ca_pem, &self.token, "default")
    }

    /// Writes the kubeconfig to `path` with mode 0600.
    pub fn write_kubeconfig(&self, path: &Path) -> anyhow::Result<()> {
        kubeconfig::write_private(path, &self.kubeconfig())
    }

    /// A kube-rs client for this sandbox, over HTTPS with the token.
    pub async fn client(&self) -> anyhow::Result<kube::Client> {
        let kc = kube::config::Kubeconfig::from_yaml(&self.kubeconfig())
            .context("parsing the sandbox kubeconfig")?;
        let config =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .context("building a client configuration")?;
        kube::Client::try_from(config).context("building a client")
    }

    /// Stops the server and the controllers.
    pub fn shutdown(&self) {
        self.stop.cancel();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
