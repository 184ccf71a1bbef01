//! The embedded sandbox cluster: a Kubernetes-API-compatible server on loopback, in memory, with simulated pods.
//!
//! [`Sandbox::start`] runs it in-process (the TUI and the tests); `oplab sandbox` runs it in the foreground.

//!
//! Layout (the shape of kube-apiserver's):
//! - `transport/`: TLS, routing and the codec (`http`), discovery, watch streams. New HTTP handlers go here.
//! - `store/`: the versioned object map, the generic verbs over it (`store::api`, which calls each kind's
//!   strategy), version conversion, the state directory's journal.
//! - `kinds/`: one module per kind or family behind the `Strategy` trait, and the registry of served kinds.
//!   A new kind = a module in `kinds/` + one entry in `kinds::registry::BUILTINS`; a kind's subresource is
//!   declared on its entry and handled by its strategy.
//! - `services/`: what strategies may use besides the store: address allocation, the CA. `auth/`: tokens, RBAC.
//! - `controllers/`: the control loops (workloads, GC, namespaces, the simulated kubelet). New controllers go here.
//! - pure libraries: `patch/`, `schema/`, `proto/`, `meta`, `status`.

pub mod auth;
pub mod controllers;
pub mod embedded;
pub mod kinds;
pub mod kubeconfig;
pub mod lock;
pub mod meta;
pub mod openapi;
pub mod operators;
pub mod patch;
pub mod proto;
pub mod schema;
pub mod services;
pub mod status;
pub mod store;
pub mod transport;

// The modules' former paths, kept while other branches move over (use the layered paths in new code).
pub use kinds::{admission, crd, defaults, registry, table};
pub use store::{api, convert, faults, state, stored};
pub use transport::{discovery, http, server, tls, watch};

use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub use api::{Api, Config};

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct Options {
    pub addr: SocketAddr,
    pub config: Config,
    /// A state directory (`--state`): every acknowledged write is kept there and restored at start.
    pub state_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            config: Config::default(),
            state_dir: None,
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
    /// Objects restored from the state directory at start (0: a new or empty cluster).
    pub restored: usize,
    stop: CancellationToken,
    /// The state directory's lock, held for the sandbox's life (one sandbox per directory).
    lock: Option<lock::StateLock>,
}

impl Sandbox {
    /// Starts a sandbox on a tokio runtime: HTTPS server, controllers, the built-in objects.
    /// With a state directory it first takes the directory's lock: a second sandbox on it fails with
    /// [`lock::Locked`], and the address the last one listened on is tried first.
    pub async fn start(options: Options) -> anyhow::Result<Self> {
        let lock = match &options.state_dir {
            Some(dir) => Some(lock::StateLock::acquire(dir)?),
            None => None,
        };
        let remembered = options
            .state_dir
            .as_deref()
            .filter(|_| options.addr.port() == 0)
            .and_then(lock::last_address);
        let listener = match remembered {
            Some(addr) => match server::bind(addr).await {
                Ok(l) => l,
                Err(_) => server::bind(options.addr).await?,
            },
            None => server::bind(options.addr).await?,
        };
        let addr = listener
            .local_addr()
            .context("reading the listening address")?;
        let api = Arc::new(Api::new(options.config));
        let (tls, token) = match &options.state_dir {
            Some(dir) => restore_state(&api, dir)?,
            None => (tls::TlsMaterial::generate()?, random_token()),
        };
        let restored = api.store.count();
        api.set_ca_pem(tls.ca_pem.clone());
        api.procs.set_base(options.state_dir.as_deref())?;
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
        if let Some(lock) = &lock {
            lock.record(&url)?;
        }
        Ok(Self {
            url,
            addr,
            token,
            ca_pem: tls.ca_pem,
            api,
            restored,
            stop,
            lock,
        })
    }

    /// The kubeconfig for this sandbox (context `oplab-sandbox`).
    pub fn kubeconfig(&self) -> String {
        kubeconfig::render(&self.url, &self.ca_pem, &self.token, "default")
    }

    /// Writes the kubeconfig to `path` with mode 0600.
    pub fn write_kubeconfig(&self, path: &Path) -> anyhow::Result<()> {
        crate::kubeconfig::write_text(path, &self.kubeconfig())
    }

    /// A kube-rs client for this sandbox, over HTTPS with the token.
    pub async fn client(&self) -> anyhow::Result<kube::Client> {
        client_from(&self.kubeconfig()).await
    }

    /// A token of the ServiceAccount `ns/name` (as a TokenRequest gives, valid one hour).
    pub fn token_for(&self, ns: &str, name: &str) -> anyhow::Result<String> {
        let body = serde_json::json!({"spec": {}});
        let review = auth::tokens::token_request(&self.api, ns, name, &body).map_err(|e| {
            anyhow::anyhow!("requesting a token for ServiceAccount {ns}/{name}: {e}")
        })?;
        review["status"]["token"]
            .as_str()
            .map(String::from)
            .context("the TokenRequest answer has no token")
    }

    /// The kubeconfig of a ServiceAccount of this sandbox (context `oplab-sandbox`, namespace `ns`).
    pub fn kubeconfig_for(&self, ns: &str, name: &str) -> anyhow::Result<String> {
        let token = self.token_for(ns, name)?;
        Ok(kubeconfig::render(&self.url, &self.ca_pem, &token, ns))
    }

    /// A kube-rs client authenticated as the ServiceAccount `ns/name` (default namespace `ns`).
    pub async fn client_as(&self, ns: &str, name: &str) -> anyhow::Result<kube::Client> {
        client_from(&self.kubeconfig_for(ns, name)?).await
    }

    /// Stops the server and the controllers.
    pub fn shutdown(&self) {
        self.stop.cancel();
    }

    /// The state directory this sandbox keeps (and holds the lock of).
    pub fn state_dir(&self) -> Option<&Path> {
        self.lock.as_ref().map(lock::StateLock::dir)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Loads a state directory into `api`, attaches its journal and returns the kept (or new) credentials.
fn restore_state(api: &Api, dir: &Path) -> anyhow::Result<(tls::TlsMaterial, String)> {
    let loaded = state::open(dir, api.config.watch_history)?;
    api.store.restore(loaded.objects, loaded.last_rv);
    api.store.restore_history(loaded.history);
    let crds = controllers::key("apiextensions.k8s.io", "customresourcedefinitions");
    for crd in api.store.list(&crds, None).0 {
        kinds::crd::serve(&api.served, &crd);
    }
    for k in [
        controllers::key("", "pods"),
        controllers::key("", "services"),
    ] {
        for obj in api.store.list(&k, None).0 {
            for ip in [&obj["status"]["podIP"], &obj["spec"]["clusterIP"]] {
                if let Some(ip) = ip.as_str() {
                    api.reserve_ip(ip);
                }
            }
            api.services
                .node_ports
                .restore(kinds::service::ports_of(&obj));
        }
    }
    api.store.set_journal(Box::new(loaded.journal));
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let kept_key = loaded
        .credentials
        .as_ref()
        .and_then(|c| c.signing_key.as_ref())
        .and_then(|k| b64.decode(k).ok())
        .filter(|k| !k.is_empty());
    let (tls, token) = match &loaded.credentials {
        Some(c) => (
            tls::TlsMaterial {
                ca_pem: c.ca_pem.clone(),
                cert_pem: c.cert_pem.clone(),
                key_pem: c.key_pem.clone(),
            },
            c.token.clone(),
        ),
        None => (tls::TlsMaterial::generate()?, random_token()),
    };
    match kept_key {
        Some(key) => api.auth.set_signing_key(key),
        None => state::write_credentials(
            dir,
            &state::Credentials {
                ca_pem: tls.ca_pem.clone(),
                cert_pem: tls.cert_pem.clone(),
                key_pem: tls.key_pem.clone(),
                token: token.clone(),
                signing_key: Some(b64.encode(api.auth.signing_key())),
            },
        )?,
    }
    Ok((tls, token))
}

async fn client_from(kubeconfig: &str) -> anyhow::Result<kube::Client> {
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig)
        .context("parsing the sandbox kubeconfig")?;
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .context("building a client configuration")?;
    kube::Client::try_from(config).context("building a client")
}

fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
