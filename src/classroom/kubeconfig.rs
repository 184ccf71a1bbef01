//! Attendee kubeconfigs: the instructor's cluster (server and CA of the current context) with an
//! attendee's token, context `oplab-NAME`, written with mode 0600.

use anyhow::Context;
use base64::Engine as _;
use kube::config::Kubeconfig;
use std::path::{Path, PathBuf};

/// The cluster entry of the instructor's context, with its CA inlined so the file travels alone.
#[derive(Debug, Clone)]
pub struct ClusterEntry {
    pub server: String,
    /// The kubeconfig `cluster:` entry (server, certificate-authority-data, ...).
    pub cluster: kube::config::Cluster,
}

/// Reads the cluster of `context` (default: the current one) from `kubeconfig` (default:
/// `KUBECONFIG`, then `~/.kube/config`), as kubectl would.
pub fn instructor_cluster(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> anyhow::Result<ClusterEntry> {
    let (config, base) = match kubeconfig {
        Some(path) => (
            Kubeconfig::read_from(path)?,
            path.parent().map(Path::to_path_buf),
        ),
        None => (Kubeconfig::read()?, None),
    };
    let name = context
        .map(str::to_string)
        .or_else(|| config.current_context.clone())
        .context("the kubeconfig has no current context: pass --context NAME")?;
    let ctx = config
        .contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.as_ref())
        .with_context(|| format!("context {name:?} is not in the kubeconfig (`kubectl config get-contexts` lists them)"))?;
    let cluster = config
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.clone())
        .with_context(|| {
            format!(
                "cluster {:?} of context {name:?} is not in the kubeconfig",
                ctx.cluster
            )
        })?;
    let server = cluster
        .server
        .clone()
        .with_context(|| format!("cluster {:?} has no server address", ctx.cluster))?;
    let mut cluster = cluster;
    if cluster.certificate_authority_data.is_none()
        && let Some(file) = cluster.certificate_authority.take()
    {
        let path = resolve(base.as_deref(), &file);
        let pem = std::fs::read(&path)
            .with_context(|| format!("reading the cluster's CA file {}", path.display()))?;
        cluster.certificate_authority_data =
            Some(base64::engine::general_purpose::STANDARD.encode(pem));
    }
    Ok(ClusterEntry { server, cluster })
}

fn resolve(base: Option<&Path>, file: &str) -> PathBuf {
    let p = PathBuf::from(file);
    match base {
        Some(b) if p.is_relative() => b.join(p),
        _ => p,
    }
}

/// The context name of an attendee's kubeconfig.
pub fn context_name(attendee: &str) -> String {
    format!("oplab-{attendee}")
}

/// An attendee's kubeconfig.
pub fn render(entry: &ClusterEntry, attendee: &str, token: &str, namespace: &str) -> Kubeconfig {
    crate::kubeconfig::single(
        &context_name(attendee),
        entry.cluster.clone(),
        token,
        namespace,
    )
}

/// Writes an attendee's kubeconfig through the one kubeconfig writer (mode 0600, created exclusively).
pub fn write(path: &Path, kc: &Kubeconfig) -> anyhow::Result<()> {
    crate::kubeconfig::write(path, kc)
}
