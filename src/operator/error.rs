//! Reconcile errors, with 403 and 404 answers turned into what to do about them.

use std::fmt;

/// Where the Role that grants the operator's permissions lives.
pub const RBAC_HINT: &str = "apply the operator's Role: `oplab apply gordon` (or `kubectl apply -f manifests/gordon/rbac-namespaced.yaml`; for -A, manifests/gordon/rbac-cluster.yaml)";
/// How to install the CRD.
pub const CRD_HINT: &str =
    "install it with `oplab apply gordon` or `kubectl apply -f manifests/gordon/crd.yaml`";

/// A failed API call of a reconcile.
#[derive(Debug)]
pub struct Error {
    /// e.g. "create pods in namespace x".
    pub verb: &'static str,
    pub resource: &'static str,
    pub namespace: String,
    pub source: kube::Error,
}

impl Error {
    pub fn new(
        verb: &'static str,
        resource: &'static str,
        namespace: &str,
        source: kube::Error,
    ) -> Self {
        Self {
            verb,
            resource,
            namespace: namespace.to_string(),
            source,
        }
    }

    /// The HTTP status code the server answered, if it answered.
    pub fn code(&self) -> Option<u16> {
        status_code(&self.source)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (verb, resource, ns) = (self.verb, self.resource, &self.namespace);
        match self.code() {
            Some(403) => write!(
                f,
                "permission denied: the operator may not {verb} {resource} in namespace {ns}; {RBAC_HINT} (server said: {})",
                server_message(&self.source)
            ),
            Some(404) if resource.starts_with("gordons") => write!(
                f,
                "the Gordon CRD is not installed (404 on {verb} {resource} in namespace {ns}); {CRD_HINT}"
            ),
            _ => write!(
                f,
                "{verb} {resource} in namespace {ns} failed: {}",
                server_message(&self.source)
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The status code of an API error answer.
pub fn status_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

/// The server's answer to a failed call: `403 pods is forbidden: ...`.
pub fn server_message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(s) if !s.message.is_empty() => format!("{} {}", s.code, s.message),
        other => crate::explain::explain(other).because,
    }
}

/// What to do about a 403 in `scope`: which Role grants the permission there, or how to narrow the scope.
pub fn rbac_hint(scope: &crate::operator::Scope) -> String {
    match scope {
        crate::operator::Scope::Namespace(ns) => format!(
            "grant it with the operator's namespaced Role: `oplab apply gordon` (or `kubectl apply -f manifests/gordon/rbac-namespaced.yaml` with ns={ns})"
        ),
        crate::operator::Scope::All => "watching all namespaces needs the ClusterRole: `kubectl apply -f manifests/gordon/rbac-cluster.yaml` (as an admin); or run the operator in its own namespace with `-n NAMESPACE`, where the namespaced Role (manifests/gordon/rbac-namespaced.yaml) is enough".to_string(),
    }
}

/// `("list", "pods")` from a 403 message `... cannot list resource "pods" in API group ...`.
pub fn denied_permission(message: &str) -> Option<(String, String)> {
    let rest = &message[message.find(" cannot ")? + 8..];
    let (verb, rest) = rest.split_once(" resource \"")?;
    let (resource, rest) = rest.split_once('"')?;
    let group = rest
        .strip_prefix(" in API group \"")
        .and_then(|r| r.split_once('"'))
        .map(|(g, _)| g)
        .unwrap_or_default();
    let resource = if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    };
    Some((verb.to_string(), resource))
}

/// Explains a failure of the controller's watches (of Gordons or of their pods).
pub fn explain_watch_error(
    err: &kube::runtime::watcher::Error,
    scope: &crate::operator::Scope,
) -> String {
    use kube::runtime::watcher::Error as W;
    let inner = match err {
        W::InitialListFailed(e) | W::WatchStartFailed(e) | W::WatchFailed(e) => Some(e),
        _ => None,
    };
    let (code, message) = match (err, inner) {
        (_, Some(e)) => (status_code(e), server_message(e)),
        (W::WatchError(s), None) => (Some(s.code), format!("{} {}", s.code, s.message)),
        _ => (None, err.to_string()),
    };
    match code {
        Some(403) => {
            let what = match denied_permission(&message) {
                Some((verb, resource)) => format!("{verb} {resource}"),
                None => "get/list/watch gordons and pods".to_string(),
            };
            format!(
                "permission denied: the operator may not {what} in {scope}; {} (server said: {message})",
                rbac_hint(scope)
            )
        }
        Some(404) => format!("the Gordon CRD is not installed ({message}); {CRD_HINT}"),
        _ => format!("watch of {scope} failed, retrying: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            message: message.into(),
            ..Default::default()
        }))
    }

    #[test]
    fn forbidden_names_the_permission_and_the_fix() {
        let e = Error::new(
            "create",
            "pods",
            "gordon",
            api_error(
                403,
                "pods is forbidden: User \"system:serviceaccount:gordon:gordon-operator\" cannot create resource \"pods\"",
            ),
        );
        let text = e.to_string();
        assert!(
            text.contains("may not create pods in namespace gordon"),
            "{text}"
        );
        assert!(text.contains("oplab apply gordon"), "{text}");
        assert!(text.contains("rbac-namespaced.yaml"), "{text}");
        let e = Error::new("get", "gordons", "x", api_error(404, "not found"));
        assert!(e.to_string().contains("Gordon CRD is not installed"));
        let e = Error::new("list", "pods", "x", api_error(500, "boom"));
        assert_eq!(e.to_string(), "list pods in namespace x failed: 500 boom");
    }

    #[test]
    fn the_denied_permission_is_read_from_the_servers_message() {
        let m = "pods is forbidden: User \"system:serviceaccount:g:op\" cannot list resource \"pods\" in API group \"\" at the cluster scope";
        assert_eq!(denied_permission(m), Some(("list".into(), "pods".into())));
        let m = "gordons.operator.prgcont.cz is forbidden: User \"u\" cannot watch resource \"gordons\" in API group \"operator.prgcont.cz\" in the namespace \"x\"";
        assert_eq!(
            denied_permission(m),
            Some(("watch".into(), "gordons.operator.prgcont.cz".into()))
        );
        assert_eq!(denied_permission("boom"), None);
    }

    #[test]
    fn backoff_grows_and_caps() {
        use crate::operator::backoff;
        assert_eq!(backoff(1).as_millis(), 100);
        assert_eq!(backoff(2).as_millis(), 200);
        assert_eq!(backoff(5).as_millis(), 1600);
        assert_eq!(backoff(40).as_secs(), 30);
    }
}
