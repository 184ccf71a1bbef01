//! Pure parts of process-backed containers: which images run for real, the container's environment and
//! argv as the kubelet builds them (fieldRef, envFrom, `$(VAR)`), pod DNS names mapped to unix sockets,
//! and the reverse mapping applied to what the process prints.

use serde_json::Value;
use std::collections::BTreeMap;

/// The images the sandbox runs as real processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runnable {
    Etcd,
}

/// Image repositories (any tag or digest) that run a real etcd member.
pub const ETCD_IMAGES: &[&str] = &[
    "gcr.io/etcd-development/etcd",
    "quay.io/coreos/etcd",
    "registry.k8s.io/etcd",
];

/// The repository part of an image reference (no tag, no digest).
pub fn repository(image: &str) -> &str {
    let rest = image.split('@').next().unwrap_or(image);
    match rest.rfind(':') {
        Some(i) if !rest[i + 1..].contains('/') => &rest[..i],
        _ => rest,
    }
}

/// What the sandbox can run for this container, if anything.
pub fn runnable(container: &Value) -> Option<Runnable> {
    let image = container["image"].as_str()?;
    if !ETCD_IMAGES.contains(&repository(image)) {
        return None;
    }
    // The image's entrypoint is etcd; a command naming something else (a shell script) is not run.
    match container["command"].as_array().and_then(|c| c.first()) {
        None => Some(Runnable::Etcd),
        Some(c) if basename(c.as_str().unwrap_or_default()) == "etcd" => Some(Runnable::Etcd),
        Some(_) => None,
    }
}

pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Objects the environment of a container reads (ConfigMaps and Secrets of the pod's namespace).
pub trait EnvSource {
    fn config_map(&self, name: &str) -> Option<Value>;
    fn secret(&self, name: &str) -> Option<Value>;
}

/// The container's environment as the kubelet computes it: `envFrom` first, then `env` (later wins),
/// each `env` value expanded against the variables before it. Missing optional sources are skipped;
/// a missing required one is an error naming it.
pub fn environment(
    pod: &Value,
    container: &Value,
    src: &dyn EnvSource,
) -> Result<Vec<(String, String)>, String> {
    let mut env: Vec<(String, String)> = Vec::new();
    let set = |env: &mut Vec<(String, String)>, k: String, v: String| {
        env.retain(|(n, _)| *n != k);
        env.push((k, v));
    };
    for from in container["envFrom"].as_array().into_iter().flatten() {
        let prefix = from["prefix"].as_str().unwrap_or_default();
        let (data, optional, what) = if let Some(r) = from.get("configMapRef") {
            let name = r["name"].as_str().unwrap_or_default();
            (
                src.config_map(name).map(|cm| plain_data(&cm, false)),
                r["optional"].as_bool().unwrap_or(false),
                format!("configmap \"{name}\""),
            )
        } else if let Some(r) = from.get("secretRef") {
            let name = r["name"].as_str().unwrap_or_default();
            (
                src.secret(name).map(|s| plain_data(&s, true)),
                r["optional"].as_bool().unwrap_or(false),
                format!("secret \"{name}\""),
            )
        } else {
            continue;
        };
        match data {
            Some(data) => {
                for (k, v) in data {
                    set(&mut env, format!("{prefix}{k}"), v);
                }
            }
            None if optional => {}
            None => return Err(format!("{what} not found")),
        }
    }
    for e in container["env"].as_array().into_iter().flatten() {
        let Some(name) = e["name"].as_str() else {
            continue;
        };
        let value = if let Some(v) = e["value"].as_str() {
            expand(v, &env)
        } else if let Some(from) = e.get("valueFrom") {
            match value_from(pod, from, src)? {
                Some(v) => v,
                None => continue,
            }
        } else {
            String::new()
        };
        set(&mut env, name.to_string(), value);
    }
    Ok(env)
}

fn plain_data(obj: &Value, secret: bool) -> BTreeMap<String, String> {
    use base64::Engine;
    let mut out = BTreeMap::new();
    for (k, v) in obj["data"].as_object().into_iter().flatten() {
        let Some(s) = v.as_str() else { continue };
        let s = if secret {
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default()
        } else {
            s.to_string()
        };
        out.insert(k.clone(), s);
    }
    if secret {
        for (k, v) in obj["stringData"].as_object().into_iter().flatten() {
            if let Some(s) = v.as_str() {
                out.insert(k.clone(), s.to_string());
            }
        }
    }
    out
}

fn value_from(pod: &Value, from: &Value, src: &dyn EnvSource) -> Result<Option<String>, String> {
    if let Some(path) = from["fieldRef"]["fieldPath"].as_str() {
        let m = &pod["metadata"];
        let v = match path {
            "metadata.name" => m["name"].as_str().map(String::from),
            "metadata.namespace" => m["namespace"].as_str().map(String::from),
            "metadata.uid" => m["uid"].as_str().map(String::from),
            "spec.nodeName" => pod["spec"]["nodeName"].as_str().map(String::from),
            "spec.serviceAccountName" => {
                pod["spec"]["serviceAccountName"].as_str().map(String::from)
            }
            "status.podIP" => pod["status"]["podIP"].as_str().map(String::from),
            "status.hostIP" => pod["status"]["hostIP"].as_str().map(String::from),
            p => label_or_annotation(m, p),
        };
        return Ok(Some(v.unwrap_or_default()));
    }
    for (field, secret) in [("configMapKeyRef", false), ("secretKeyRef", true)] {
        let Some(r) = from.get(field) else { continue };
        let name = r["name"].as_str().unwrap_or_default();
        let key = r["key"].as_str().unwrap_or_default();
        let optional = r["optional"].as_bool().unwrap_or(false);
        let obj = if secret {
            src.secret(name)
        } else {
            src.config_map(name)
        };
        let what = if secret { "secret" } else { "configmap" };
        return match obj.map(|o| plain_data(&o, secret)) {
            Some(data) => match data.get(key) {
                Some(v) => Ok(Some(v.clone())),
                None if optional => Ok(None),
                None => Err(format!("couldn't find key {key} in {what} \"{name}\"")),
            },
            None if optional => Ok(None),
            None => Err(format!("{what} \"{name}\" not found")),
        };
    }
    Ok(None)
}

fn label_or_annotation(meta: &Value, path: &str) -> Option<String> {
    for (prefix, field) in [
        ("metadata.labels['", "labels"),
        ("metadata.annotations['", "annotations"),
    ] {
        if let Some(key) = path.strip_prefix(prefix).and_then(|k| k.strip_suffix("']")) {
            return meta[field][key].as_str().map(String::from);
        }
    }
    None
}

/// `$(VAR)` expansion as the kubelet does it: known variables are replaced, unknown references stay as
/// written, `$$` is one `$`.
pub fn expand(s: &str, env: &[(String, String)]) -> String {
    let mut out = String::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && i + 1 < bytes.len() {
            if bytes[i + 1] == b'$' {
                out.push('$');
                i += 2;
                continue;
            }
            if bytes[i + 1] == b'('
                && let Some(end) = s[i + 2..].find(')')
            {
                let name = &s[i + 2..i + 2 + end];
                if let Some((_, v)) = env.iter().rev().find(|(k, _)| k == name) {
                    out.push_str(v);
                    i += 3 + end;
                    continue;
                }
            }
        }
        let ch = s[i..].chars().next().unwrap_or('$');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// The pod's own DNS stem: `<hostname>.<subdomain>.<namespace>` (or `<name>.<namespace>`).
pub fn pod_stem(pod: &Value) -> String {
    let m = &pod["metadata"];
    let ns = m["namespace"].as_str().unwrap_or("default");
    let host = pod["spec"]["hostname"]
        .as_str()
        .or(m["name"].as_str())
        .unwrap_or("pod");
    match pod["spec"]["subdomain"].as_str() {
        Some(sub) if !sub.is_empty() => format!("{host}.{sub}.{ns}"),
        _ => format!("{host}.{ns}"),
    }
}

/// Rewrites the URLs of one argument or environment value for the sandbox: addresses that mean "this
/// pod" (0.0.0.0, localhost, the pod IP, its own name) become its unix socket `unix://<stem>:<port>`,
/// and cluster DNS names (`*.svc.cluster.local`, `*.svc`) the socket of that name. Others stay.
pub fn map_urls(value: &str, stem: &str, pod_ip: Option<&str>) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    loop {
        let found = ["http://", "https://"]
            .iter()
            .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
            .min();
        let Some((i, plen)) = found else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..i]);
        let after = &rest[i + plen..];
        let end = after
            .find(|c: char| c == ',' || c == '/' || c.is_whitespace() || c == '"')
            .unwrap_or(after.len());
        let hostport = &after[..end];
        match map_hostport(hostport, stem, pod_ip) {
            Some(sock) => out.push_str(&format!("unix://{sock}")),
            None => out.push_str(&rest[i..i + plen + end]),
        }
        rest = &after[end..];
    }
}

fn map_hostport(hostport: &str, stem: &str, pod_ip: Option<&str>) -> Option<String> {
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => (h, p),
        _ => return None,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let own = ["0.0.0.0", "localhost", "127.0.0.1", "::", "::1"].contains(&host)
        || Some(host) == pod_ip
        || host == stem;
    if own {
        return Some(format!("{stem}:{port}"));
    }
    for suffix in [".svc.cluster.local", ".svc"] {
        if let Some(name) = host.strip_suffix(suffix) {
            return Some(format!("{name}:{port}"));
        }
    }
    None
}

/// What the process prints, with the sandbox's sockets named as a real cluster shows them:
/// `unix://example-0.example.etc:2379` becomes `http://example-0.example.etc.svc.cluster.local:2379`.
pub fn unmap_output(text: &str) -> String {
    if !text.contains("unix://") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(i) = rest.find("unix://") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 7..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_')))
            .unwrap_or(after.len());
        let sock = &after[..end];
        match sock.rsplit_once(':') {
            Some((host, port))
                if host.contains('.') && port.bytes().all(|b| b.is_ascii_digit()) =>
            {
                out.push_str(&format!("http://{host}.svc.cluster.local:{port}"));
            }
            _ => out.push_str(&rest[i..i + 7 + end]),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Src;
    impl EnvSource for Src {
        fn config_map(&self, name: &str) -> Option<Value> {
            (name == "example-state").then(|| {
                json!({"data": {"ETCD_INITIAL_CLUSTER_STATE": "new", "ETCD_INITIAL_CLUSTER": "example-0=http://example-0.example.etc.svc.cluster.local:2380"}})
            })
        }
        fn secret(&self, _: &str) -> Option<Value> {
            None
        }
    }

    #[test]
    fn images() {
        let c = |image: &str, cmd: Value| json!({"image": image, "command": cmd});
        assert_eq!(
            runnable(&c(
                "gcr.io/etcd-development/etcd:v3.5.21",
                json!(["/usr/local/bin/etcd"])
            )),
            Some(Runnable::Etcd)
        );
        assert_eq!(
            runnable(&c("registry.k8s.io/etcd:3.5.21-0", Value::Null)),
            Some(Runnable::Etcd)
        );
        assert_eq!(
            runnable(&c("quay.io/coreos/etcd:v3.4", json!(["/bin/sh", "-c"]))),
            None
        );
        assert_eq!(runnable(&c("nginx:1.27", Value::Null)), None);
        assert_eq!(repository("localhost:5000/etcd"), "localhost:5000/etcd");
    }

    #[test]
    fn env_and_expansion() {
        let pod = json!({"metadata": {"name": "example-0", "namespace": "etc", "labels": {"app": "example"}}, "status": {"podIP": "10.244.0.9"}});
        let container = json!({
            "envFrom": [{"configMapRef": {"name": "example-state"}}],
            "env": [
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                {"name": "URL", "value": "http://$(POD_NAME).example.$(POD_NAMESPACE):2380 $(NOPE) $$(POD_NAME)"},
            ],
        });
        let env = environment(&pod, &container, &Src).unwrap();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("ETCD_INITIAL_CLUSTER_STATE"), Some("new"));
        assert_eq!(get("APP"), Some("example"));
        assert_eq!(
            get("URL"),
            Some("http://example-0.example.etc:2380 $(NOPE) $(POD_NAME)")
        );
        let missing = json!({"envFrom": [{"configMapRef": {"name": "gone"}}]});
        assert_eq!(
            environment(&pod, &missing, &Src).unwrap_err(),
            "configmap \"gone\" not found"
        );
    }

    #[test]
    fn urls_both_ways() {
        let stem = "example-0.example.etc";
        assert_eq!(
            map_urls("--listen-client-urls=http://0.0.0.0:2379", stem, None),
            "--listen-client-urls=unix://example-0.example.etc:2379"
        );
        let cluster = "example-0=http://example-0.example.etc.svc.cluster.local:2380,example-1=http://example-1.example.etc.svc.cluster.local:2380";
        assert_eq!(
            map_urls(cluster, stem, None),
            "example-0=unix://example-0.example.etc:2380,example-1=unix://example-1.example.etc:2380"
        );
        assert_eq!(
            map_urls("http://example.com:80/x", stem, None),
            "http://example.com:80/x"
        );
        assert_eq!(
            unmap_output(
                "1, started, example-0, unix://example-0.example.etc:2380, unix://example-0.example.etc:2379, false\n"
            ),
            "1, started, example-0, http://example-0.example.etc.svc.cluster.local:2380, http://example-0.example.etc.svc.cluster.local:2379, false\n"
        );
    }
}
