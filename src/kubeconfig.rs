//! The one kubeconfig writer: every kubeconfig oplab writes (the sandbox's `--kubeconfig`, `classroom setup
//! --out`, `labs test`, the TUI's sandbox) is built as kube's typed [`Kubeconfig`] here and written through
//! [`crate::files::write_new`]: created exclusively beside its target with mode 0600 from the start, never
//! through a symbolic link.

use anyhow::Context;
use base64::Engine;
use kube::config::{
    AuthInfo, Cluster, Context as KubeContext, Kubeconfig, NamedAuthInfo, NamedCluster,
    NamedContext,
};
use std::path::Path;

/// A cluster entry for `server`, trusting the PEM certificate(s) `ca_pem`.
pub fn cluster(server: &str, ca_pem: &str) -> Cluster {
    Cluster {
        server: Some(server.to_string()),
        certificate_authority_data: Some(base64::engine::general_purpose::STANDARD.encode(ca_pem)),
        ..Default::default()
    }
}

/// A kubeconfig with one cluster, user and context, all named `name`, sending `token` and defaulting to
/// `namespace`.
pub fn single(name: &str, cluster: Cluster, token: &str, namespace: &str) -> Kubeconfig {
    Kubeconfig {
        preferences: Some(Default::default()),
        clusters: vec![NamedCluster {
            name: name.to_string(),
            cluster: Some(cluster),
            ..Default::default()
        }],
        auth_infos: vec![NamedAuthInfo {
            name: name.to_string(),
            auth_info: Some(AuthInfo {
                token: Some(secrecy::SecretString::from(token.to_string())),
                ..Default::default()
            }),
            ..Default::default()
        }],
        contexts: vec![NamedContext {
            name: name.to_string(),
            context: Some(KubeContext {
                cluster: name.to_string(),
                user: Some(name.to_string()),
                namespace: Some(namespace.to_string()),
                ..Default::default()
            }),
            ..Default::default()
        }],
        current_context: Some(name.to_string()),
        kind: Some("Config".into()),
        api_version: Some("v1".into()),
        ..Default::default()
    }
}

/// The kubeconfig as YAML.
pub fn to_yaml(kc: &Kubeconfig) -> anyhow::Result<String> {
    serde_saphyr::to_string(kc).context("writing the kubeconfig as YAML")
}

/// Writes `kc` to `path` (mode 0600, exclusively created, then renamed into place).
pub fn write(path: &Path, kc: &Kubeconfig) -> anyhow::Result<()> {
    write_text(path, &to_yaml(kc)?)
}

/// Writes an already rendered kubeconfig the same way as [`write`].
pub fn write_text(path: &Path, yaml: &str) -> anyhow::Result<()> {
    crate::files::write_new(path, yaml.as_bytes(), crate::files::PRIVATE)
        .with_context(|| format!("writing the kubeconfig {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_kube() {
        let kc = single("c", cluster("https://127.0.0.1:1", "PEM"), "tok", "ns1");
        let back = Kubeconfig::from_yaml(&to_yaml(&kc).expect("yaml")).expect("parse");
        assert_eq!(back.current_context.as_deref(), Some("c"));
        let ctx = back.contexts[0].context.as_ref().expect("context");
        assert_eq!(ctx.namespace.as_deref(), Some("ns1"));
        use secrecy::ExposeSecret;
        let token = back.auth_infos[0]
            .auth_info
            .as_ref()
            .and_then(|a| a.token.as_ref())
            .expect("token");
        assert_eq!(token.expose_secret(), "tok");
    }
}
