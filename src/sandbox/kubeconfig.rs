//! The kubeconfig a sandbox writes (context `oplab-sandbox`), readable by kubectl, kube-rs and the Python client.
//! Built and written by the one kubeconfig writer, [`crate::kubeconfig`].

/// The name of the cluster, user and context in a sandbox kubeconfig.
pub const CONTEXT: &str = "oplab-sandbox";

/// Renders a kubeconfig for `server` trusting `ca_pem` and sending `token`.
pub fn render(server: &str, ca_pem: &str, token: &str, namespace: &str) -> String {
    let kc = crate::kubeconfig::single(
        CONTEXT,
        crate::kubeconfig::cluster(server, ca_pem),
        token,
        namespace,
    );
    // Serialising plain strings into YAML cannot fail.
    crate::kubeconfig::to_yaml(&kc).unwrap_or_default()
}
