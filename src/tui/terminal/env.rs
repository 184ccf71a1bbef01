//! The environment of the pane's shells: kubectl pointed at the cluster oplab uses, oplab's Python venv on
//! `PATH`.

use crate::tui::message::ClusterState;
use std::path::PathBuf;

/// The venv `oplab python` makes (`~/.local/share/oplab/python`).
pub fn venv_dir() -> Option<PathBuf> {
    use etcetera::BaseStrategy;
    let s = etcetera::choose_base_strategy().ok()?;
    Some(s.data_dir().join("oplab").join("python"))
}

/// The shell's KUBECONFIG for `cluster`: the sandbox's file, else the one oplab itself read.
pub fn kubeconfig(cluster: &ClusterState) -> Option<String> {
    match cluster {
        ClusterState::Sandbox {
            kubeconfig: Some(p),
            ..
        } => Some(p.to_string_lossy().into_owned()),
        _ => std::env::var("KUBECONFIG").ok().filter(|v| !v.is_empty()),
    }
}

/// Variables set in every shell of the pane. `namespace` is the classroom attendee's namespace of the
/// current lab; `context` the `--context` given.
pub fn shell_env(
    cluster: &ClusterState,
    context: Option<&str>,
    namespace: Option<&str>,
) -> Vec<(String, String)> {
    let mut env = Vec::new();
    let base = kubeconfig(cluster);
    let pinned = match cluster {
        ClusterState::Sandbox { .. } => None,
        _ => context,
    };
    // A context or namespace of its own: a small kubeconfig in front of the real one names them
    // (no credentials are copied; kubectl merges the files).
    let overlay = if pinned.is_some() || namespace.is_some() {
        overlay(base.as_deref(), pinned, namespace).ok()
    } else {
        None
    };
    match (overlay, base) {
        (Some(o), Some(b)) => env.push(("KUBECONFIG".into(), format!("{}:{b}", o.display()))),
        (Some(o), None) => {
            let home = default_kubeconfig().unwrap_or_default();
            env.push(("KUBECONFIG".into(), format!("{}:{home}", o.display())))
        }
        (None, Some(b)) => env.push(("KUBECONFIG".into(), b)),
        (None, None) => {}
    }
    if let Some(ns) = namespace {
        env.push(("OPLAB_NAMESPACE".into(), ns.to_string()));
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(venv) = venv_dir() {
        dirs.push(venv.join("bin"));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(PathBuf::from))
    {
        dirs.push(dir);
    }
    let mut parts: Vec<String> = dirs
        .into_iter()
        .map(|d| d.to_string_lossy().into_owned())
        .filter(|d| !path.split(':').any(|p| p == d))
        .collect();
    parts.push(path);
    env.push(("PATH".into(), parts.join(":")));
    if let Some(venv) = venv_dir().filter(|v| v.join("bin").exists()) {
        env.push(("VIRTUAL_ENV".into(), venv.to_string_lossy().into_owned()));
    }
    env
}

fn default_kubeconfig() -> Option<String> {
    use etcetera::BaseStrategy;
    let home = etcetera::choose_base_strategy()
        .ok()?
        .home_dir()
        .to_path_buf();
    Some(
        home.join(".kube")
            .join("config")
            .to_string_lossy()
            .into_owned(),
    )
}

/// Writes a kubeconfig naming `context` (default: the current one) with `namespace`, referring to the
/// cluster and user of that context in `base`, into a private file of oplab's data directory.
fn overlay(
    base: Option<&str>,
    context: Option<&str>,
    namespace: Option<&str>,
) -> anyhow::Result<PathBuf> {
    let kc = match base {
        Some(b) => {
            let mut merged: Option<kube::config::Kubeconfig> = None;
            for p in std::env::split_paths(b) {
                if let Ok(k) = kube::config::Kubeconfig::read_from(&p) {
                    merged = Some(match merged {
                        Some(m) => m.merge(k)?,
                        None => k,
                    });
                }
            }
            merged.ok_or_else(|| anyhow::anyhow!("no kubeconfig in {b}"))?
        }
        None => kube::config::Kubeconfig::read()?,
    };
    let name = context
        .map(String::from)
        .or_else(|| kc.current_context.clone())
        .ok_or_else(|| anyhow::anyhow!("the kubeconfig has no current context"))?;
    let ctx = kc
        .contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.clone())
        .ok_or_else(|| anyhow::anyhow!("the kubeconfig has no context {name}"))?;
    let ns = namespace
        .map(String::from)
        .or(ctx.namespace.clone())
        .unwrap_or_else(|| "default".into());
    let user = ctx.user.clone().unwrap_or_default();
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: {n}\ncontexts:\n- name: {n}\n  context:\n    cluster: {c}\n    user: {u}\n    namespace: {ns}\n",
        n = q(&name),
        c = q(&ctx.cluster),
        u = q(&user),
        ns = q(&ns),
    );
    let dir = crate::cli::sandbox::data_dir()?.join("terminal");
    let path = dir.join(format!("kubeconfig-{}", std::process::id()));
    crate::kubeconfig::write_text(&path, &text)?;
    Ok(path)
}
