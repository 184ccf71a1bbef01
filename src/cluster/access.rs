//! Whether the current user may apply objects: one SelfSubjectAccessReview per verb and resource.

use super::documents::Document;
use super::resolve::{Resolver, split_api_version};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The verbs applying an object needs: server-side apply is a patch that may create.
pub const APPLY_VERBS: [&str; 2] = ["create", "patch"];

/// One right: a verb on a resource, in one namespace or cluster-wide.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Right {
    pub verb: String,
    /// API group, empty for the core group.
    pub group: String,
    /// Plural resource name, e.g. `customresourcedefinitions`.
    pub resource: String,
    /// `None` for cluster-scoped resources.
    pub namespace: Option<String>,
}

impl fmt::Display for Right {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.verb, self.resource)?;
        if !self.group.is_empty() {
            write!(f, ".{}", self.group)?;
        }
        match &self.namespace {
            Some(ns) => write!(f, " in namespace {ns}"),
            None => f.write_str(" cluster-wide"),
        }
    }
}

/// What the server said about a right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Allowed,
    /// Denied, with the server's reason when it gave one.
    Denied(String),
    /// The question could not be asked (no authorization API, connection error): assume nothing.
    Unknown(String),
}

/// The rights applying `docs` needs: create and patch on each object's resource, in its namespace
/// (`default_ns` when a namespaced object names none) or cluster-wide. Kinds the server does not serve
/// yet resolve through the CRDs among `docs`, else by the usual plural of the kind.
pub async fn rights_needed(
    client: &kube::Client,
    docs: &[Document],
    default_ns: &str,
) -> Result<BTreeSet<Right>, kube::Error> {
    let mut resolver = Resolver::new(client.clone(), docs);
    resolver.prefetch(docs).await?;
    let mut out = BTreeSet::new();
    for d in docs {
        let (group, _) = split_api_version(d.api_version());
        let (resource, namespaced) = match resolver.resolve(d) {
            Some(k) => (k.resource.plural, k.namespaced),
            None => (plural_of(d.kind()), d.namespace().is_some()),
        };
        let namespace = namespaced.then(|| d.namespace().unwrap_or(default_ns).to_string());
        for verb in APPLY_VERBS {
            out.insert(Right {
                verb: verb.to_string(),
                group: group.to_string(),
                resource: resource.clone(),
                namespace: namespace.clone(),
            });
        }
    }
    Ok(out)
}

/// The plural Kubernetes gives a kind by default: `Gordon` -> `gordons`, `Policy` -> `policies`.
pub fn plural_of(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if lower.ends_with('s')
        || lower.ends_with('x')
        || lower.ends_with("ch")
        || lower.ends_with("sh")
    {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

/// Asks the server about every right at once (one SelfSubjectAccessReview each, concurrently).
pub async fn review_all(
    client: &kube::Client,
    rights: impl IntoIterator<Item = Right>,
) -> BTreeMap<Right, Answer> {
    let asks = rights.into_iter().map(|r| async move {
        let answer = review(client, &r).await;
        (r, answer)
    });
    futures::future::join_all(asks).await.into_iter().collect()
}

/// One SelfSubjectAccessReview (`kubectl auth can-i VERB RESOURCE [-n NS]`).
pub async fn review(client: &kube::Client, right: &Right) -> Answer {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let ask = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(right.verb.clone()),
                group: Some(right.group.clone()),
                resource: Some(right.resource.clone()),
                namespace: right.namespace.clone(),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    match api.create(&PostParams::default(), &ask).await {
        Ok(r) => match r.status {
            Some(s) if s.allowed => Answer::Allowed,
            Some(s) => Answer::Denied(s.reason.unwrap_or_default()),
            None => Answer::Unknown("the review came back without a status".into()),
        },
        Err(kube::Error::Api(s)) if s.code == 404 => Answer::Unknown(
            "the cluster does not serve SelfSubjectAccessReview (authorization.k8s.io/v1)".into(),
        ),
        Err(e) => Answer::Unknown(crate::explain::sentence(
            &format!("asking whether you may {right}"),
            &e,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_plurals() {
        assert_eq!(plural_of("Gordon"), "gordons");
        assert_eq!(plural_of("NetworkPolicy"), "networkpolicies");
        assert_eq!(plural_of("Gateway"), "gateways");
        assert_eq!(plural_of("Ingress"), "ingresses");
    }

    #[test]
    fn rights_read_like_kubectl_auth_can_i() {
        let r = Right {
            verb: "create".into(),
            group: "apiextensions.k8s.io".into(),
            resource: "customresourcedefinitions".into(),
            namespace: None,
        };
        assert_eq!(
            r.to_string(),
            "create customresourcedefinitions.apiextensions.k8s.io cluster-wide"
        );
    }
}
