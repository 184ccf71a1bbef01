//! The kubeconfig a sandbox writes (context `oplab-sandbox`), readable by kubectl, kube-rs and the Python client.

use anyhow::Context;
use base64::Engine;
use std::io::Write;
use std::path::Path;

/// The name of the cluster, user and context in a sandbox kubeconfig.
pub const CONTEXT: &str = "oplab-sandbox";

/// Renders a kubeconfig for `server` trusting `ca_pem` and sending `token`.
pub fn render(server: &str, ca_pem: &str, token: &str, namespace: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1\nkind: Config\npreferences: {{}}\ncurrent-context: {CONTEXT}\nclusters:\n- name: {CONTEXT}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\ncontexts:\n- name: {CONTEXT}\n  context:\n    cluster: {CONTEXT}\n    user: {CONTEXT}\n    namespace: {namespace}\nusers:\n- name: {CONTEXT}\n  user:\n    token: {token}\n"
    )
}

/// Writes `contents` to `path` atomically with mode 0600 (a temporary file beside it, then a rename).
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kubeconfig".into());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents.as_bytes())
        .with_context(|| format!("writing {}", tmp.display()))?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
        .with_context(|| format!("moving the kubeconfig into place at {}", path.display()))?;
    Ok(())
}
