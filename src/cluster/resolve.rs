//! Kinds to API resources: discovery of each group version the documents use, plus the CRDs the set itself defines.

use super::documents::Document;
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::Value;
use std::collections::HashMap;

/// How a document's kind was resolved.
#[derive(Debug, Clone)]
pub struct Kind {
    pub resource: ApiResource,
    pub namespaced: bool,
    /// `Some(schema)` when the server does not serve the kind yet and a CRD of this set defines it.
    pub pending_schema: Option<Value>,
}

/// A CRD of the set: what it will serve.
#[derive(Debug, Clone)]
struct SetCrdVersion {
    plural: String,
    namespaced: bool,
    schema: Value,
}

/// `(plural, kind, namespaced)` of each top-level resource of a group version.
type Served = Vec<(String, String, bool)>;

/// Discovery results per `apiVersion`, fetched once each.
pub struct Resolver {
    client: kube::Client,
    served: HashMap<String, Option<Served>>,
    set_crds: HashMap<(String, String, String), SetCrdVersion>,
}

impl Resolver {
    /// Reads the set's CRDs; no request yet.
    pub fn new(client: kube::Client, docs: &[Document]) -> Self {
        let mut set_crds = HashMap::new();
        for d in docs.iter().filter(|d| is_crd(d)) {
            let spec = &d.object["spec"];
            let group = spec["group"].as_str().unwrap_or_default();
            let kind = spec["names"]["kind"].as_str().unwrap_or_default();
            let plural = spec["names"]["plural"].as_str().unwrap_or_default();
            let namespaced = spec["scope"].as_str() != Some("Cluster");
            for v in spec["versions"].as_array().into_iter().flatten() {
                let version = v["name"].as_str().unwrap_or_default();
                set_crds.insert(
                    (group.to_string(), version.to_string(), kind.to_string()),
                    SetCrdVersion {
                        plural: plural.to_string(),
                        namespaced,
                        schema: v["schema"]["openAPIV3Schema"].clone(),
                    },
                );
            }
        }
        Resolver {
            client,
            served: HashMap::new(),
            set_crds,
        }
    }

    /// Fetches discovery for every `apiVersion` in `docs` not fetched yet, concurrently.
    pub async fn prefetch(&mut self, docs: &[Document]) -> Result<(), kube::Error> {
        let mut wanted: Vec<String> = docs
            .iter()
            .map(|d| d.api_version().to_string())
            .filter(|v| !self.served.contains_key(v))
            .collect();
        wanted.sort();
        wanted.dedup();
        let client = &self.client;
        let fetched = futures::future::join_all(wanted.into_iter().map(|av| async move {
            let res = fetch(client, &av).await;
            (av, res)
        }))
        .await;
        for (av, res) in fetched {
            self.served.insert(av, res?);
        }
        Ok(())
    }

    /// Forgets what discovery said about these api versions (after CRDs were created).
    pub fn invalidate(&mut self, api_versions: &[String]) {
        for av in api_versions {
            self.served.remove(av);
        }
    }

    /// Resolves a prefetched document's kind; `None` when neither the server nor the set knows it.
    pub fn resolve(&self, doc: &Document) -> Option<Kind> {
        let av = doc.api_version();
        let kind = doc.kind();
        let (group, version) = split_api_version(av);
        let gvk = GroupVersionKind::gvk(group, version, kind);
        if let Some(Some(list)) = self.served.get(av)
            && let Some((plural, _, namespaced)) = list.iter().find(|(_, k, _)| k == kind)
        {
            return Some(Kind {
                resource: ApiResource::from_gvk_with_plural(&gvk, plural),
                namespaced: *namespaced,
                pending_schema: None,
            });
        }
        let crd = self
            .set_crds
            .get(&(group.to_string(), version.to_string(), kind.to_string()))?;
        Some(Kind {
            resource: ApiResource::from_gvk_with_plural(&gvk, &crd.plural),
            namespaced: crd.namespaced,
            pending_schema: Some(crd.schema.clone()),
        })
    }

    /// Whether the server serves `apiVersion` at all (for error messages).
    pub fn serves_api_version(&self, av: &str) -> bool {
        matches!(self.served.get(av), Some(Some(_)))
    }
}

/// `(plural, kind, namespaced)` for the top-level resources of one group version; `None` on 404.
async fn fetch(client: &kube::Client, av: &str) -> Result<Option<Served>, kube::Error> {
    let res = if av.contains('/') {
        client.list_api_group_resources(av).await
    } else {
        client.list_core_api_resources(av).await
    };
    match res {
        Ok(list) => Ok(Some(
            list.resources
                .into_iter()
                .filter(|r| !r.name.contains('/'))
                .map(|r| (r.name, r.kind, r.namespaced))
                .collect(),
        )),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

/// `("apps", "v1")` from `apps/v1`, `("", "v1")` from `v1`.
pub fn split_api_version(av: &str) -> (&str, &str) {
    av.split_once('/').unwrap_or(("", av))
}

pub fn is_crd(d: &Document) -> bool {
    d.kind() == "CustomResourceDefinition" && d.api_version().starts_with("apiextensions.k8s.io/")
}
