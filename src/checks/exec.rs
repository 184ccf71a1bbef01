//! Commands in pods through the exec API (kube `ws`), with a time limit. On the sandbox, where pods
//! are simulated, the server's answer becomes a plain "cannot check" reason.

use crate::lab::{ExecSpec, PodRef};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, ListParams};
use tokio::io::AsyncReadExt;

/// Runs the command and returns its standard output; `Err` says why it could not run.
pub async fn run(client: &kube::Client, spec: &ExecSpec) -> Result<String, String> {
    match tokio::time::timeout(spec.timeout, run_inner(client, spec)).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "`{}` did not finish within {}",
            spec.command.join(" "),
            crate::lab::duration::format(spec.timeout)
        )),
    }
}

async fn pod_name(api: &Api<Pod>, spec: &ExecSpec) -> Result<String, String> {
    match &spec.pod {
        PodRef::Name(n) => Ok(n.clone()),
        PodRef::Selector(sel) => {
            let pods = api
                .list(&ListParams::default().labels(&sel.to_string()))
                .await
                .map_err(|e| {
                    crate::explain::sentence(
                        &format!("listing pods {sel} in {}", spec.namespace),
                        &e,
                    )
                })?;
            pods.items
                .iter()
                .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
                .and_then(|p| p.metadata.name.clone())
                .ok_or_else(|| format!("no running pod with label {sel} in {}", spec.namespace))
        }
    }
}

async fn run_inner(client: &kube::Client, spec: &ExecSpec) -> Result<String, String> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &spec.namespace);
    let pod = pod_name(&api, spec).await?;
    let mut params = AttachParams::default()
        .stdout(true)
        .stderr(true)
        .stdin(false);
    if let Some(c) = &spec.container {
        params = params.container(c.clone());
    }
    let mut proc = match api.exec(&pod, spec.command.clone(), &params).await {
        Ok(p) => p,
        Err(kube::Error::UpgradeConnection(e)) => {
            // The upgrade error has no body: ask again without upgrading to read the server's reason.
            let why = refusal(client, &spec.namespace, &pod)
                .await
                .unwrap_or_else(|| e.to_string());
            return Err(format!("exec in pod {pod} ({}): {why}", spec.namespace));
        }
        Err(e) => return Err(plain(&e, &pod, &spec.namespace)),
    };
    let mut out = String::new();
    if let Some(mut stdout) = proc.stdout() {
        stdout
            .read_to_string(&mut out)
            .await
            .map_err(|e| format!("reading the output of `{}`: {e}", spec.command.join(" ")))?;
    }
    let _ = proc.join().await;
    Ok(out)
}

/// The message of the server's refusal of an exec, read with a plain POST.
async fn refusal(client: &kube::Client, ns: &str, pod: &str) -> Option<String> {
    let url = format!("/api/v1/namespaces/{ns}/pods/{pod}/exec?command=true&stdout=true");
    let req = http::Request::post(url).body(Vec::new()).ok()?;
    match client.request_text(req).await {
        Err(kube::Error::Api(s)) => Some(s.message.clone()),
        _ => None,
    }
}

/// The server's reason in plain words (the sandbox says its pods are simulated).
fn plain(err: &kube::Error, pod: &str, ns: &str) -> String {
    match err {
        kube::Error::Api(s) => format!("exec in pod {pod} ({ns}): {}", s.message),
        other => crate::explain::sentence(&format!("exec in pod {pod} ({ns})"), other),
    }
}
