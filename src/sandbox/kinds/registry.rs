//! The kinds the sandbox serves: a table of built-in kinds (adding one is one entry) plus CRD-defined kinds.

use crate::sandbox::kinds::generic::GENERIC;
use crate::sandbox::kinds::{Strategy, crd, namespace, pod, rbac, service};
use crate::sandbox::schema::builtin::unknown_fields;
use crate::sandbox::schema::{self, FieldError};
use crate::sandbox::status::ApiError;
use k8s_openapi::api as k;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Finds the fields of a built-in object that its type lacks (strict field validation).
pub type UnknownFieldsFn = fn(&Value) -> Result<Vec<String>, String>;

/// One built-in kind.
#[derive(Debug)]
pub struct Builtin {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Subresources: "status", "scale", "log", "exec", "portforward", "token", "finalize", "binding", "eviction".
    pub subresources: &'static [&'static str],
    /// Whether writes to `spec` bump `metadata.generation`.
    pub generation: bool,
    /// Extra field selector labels beyond metadata.name/metadata.namespace.
    pub field_labels: &'static [&'static str],
    pub unknown_fields: UnknownFieldsFn,
    /// Where the objects are stored when another group-version owns the storage (events.k8s.io -> core events).
    pub stored_as: Option<(&'static str, &'static str)>,
    /// What the kind does differently (`kinds/<kind>.rs`); most kinds use the generic strategy.
    pub strategy: &'static dyn Strategy,
    /// The kind's OpenAPI schema (`/openapi/v3`, `kubectl explain`).
    pub schema: crate::sandbox::openapi::SchemaFn,
}

const ALL: &[&str] = &["all"];
const NONE: &[&str] = &[];
const STATUS: &[&str] = &["status"];
const STATUS_SCALE: &[&str] = &["status", "scale"];

macro_rules! builtin {
    ($ty:ty, $group:expr, $version:expr, $kind:expr, $plural:expr, $ns:expr, $short:expr, $cat:expr, $sub:expr, $gen:expr, $fields:expr) => {
        Builtin {
            group: $group,
            version: $version,
            kind: $kind,
            plural: $plural,
            namespaced: $ns,
            short_names: $short,
            categories: $cat,
            subresources: $sub,
            generation: $gen,
            field_labels: $fields,
            unknown_fields: unknown_fields::<$ty>,
            stored_as: None,
            strategy: &GENERIC,
            schema: crate::sandbox::openapi::schema_of::<$ty>,
        }
    };
}

/// Every built-in kind the sandbox serves. Adding a kind is one entry here, plus its strategy module in
/// `kinds/` when it has rules of its own.
pub static BUILTINS: &[Builtin] = &[
    Builtin {
        strategy: &namespace::NAMESPACE,
        ..builtin!(k::core::v1::Namespace, "", "v1", "Namespace", "namespaces", false, &["ns"], NONE, namespace::SUBRESOURCES, false, &["status.phase"])
    },
    Builtin {
        strategy: &pod::POD,
        ..builtin!(k::core::v1::Pod, "", "v1", "Pod", "pods", true, &["po"], ALL, pod::SUBRESOURCES, false,
            &["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"])
    },
    Builtin {
        strategy: &service::SERVICE,
        ..builtin!(k::core::v1::Service, "", "v1", "Service", "services", true, &["svc"], ALL, STATUS, false, &["spec.clusterIP", "spec.type"])
    },
    builtin!(k::core::v1::Endpoints, "", "v1", "Endpoints", "endpoints", true, &["ep"], NONE, NONE, false, &[]),
    Builtin {
        strategy: &super::config::CONFIG,
        ..builtin!(k::core::v1::ConfigMap, "", "v1", "ConfigMap", "configmaps", true, &["cm"], NONE, NONE, false, &[])
    },
    Builtin {
        strategy: &super::config::CONFIG,
        ..builtin!(k::core::v1::Secret, "", "v1", "Secret", "secrets", true, NONE, NONE, NONE, false, &["type"])
    },
    builtin!(k::core::v1::ServiceAccount, "", "v1", "ServiceAccount", "serviceaccounts", true, &["sa"], NONE, &["token"], false, &[]),
    builtin!(k::core::v1::Event, "", "v1", "Event", "events", true, &["ev"], NONE, NONE, false,
        &["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"]),
    builtin!(k::core::v1::Node, "", "v1", "Node", "nodes", false, &["no"], NONE, STATUS, false, &["spec.unschedulable"]),
    builtin!(k::apps::v1::Deployment, "apps", "v1", "Deployment", "deployments", true, &["deploy"], ALL, STATUS_SCALE, true, &[]),
    builtin!(k::apps::v1::ReplicaSet, "apps", "v1", "ReplicaSet", "replicasets", true, &["rs"], ALL, STATUS_SCALE, true, &["status.replicas"]),
    builtin!(k::apps::v1::StatefulSet, "apps", "v1", "StatefulSet", "statefulsets", true, &["sts"], ALL, STATUS_SCALE, true, &[]),
    builtin!(k::apps::v1::DaemonSet, "apps", "v1", "DaemonSet", "daemonsets", true, &["ds"], ALL, STATUS, true, &[]),
    builtin!(k::apps::v1::ControllerRevision, "apps", "v1", "ControllerRevision", "controllerrevisions", true, NONE, NONE, NONE, false, &[]),
    builtin!(k::batch::v1::Job, "batch", "v1", "Job", "jobs", true, NONE, ALL, STATUS, true, &["status.successful"]),
    builtin!(k::batch::v1::CronJob, "batch", "v1", "CronJob", "cronjobs", true, &["cj"], ALL, STATUS, true, &[]),
    Builtin { strategy: &rbac::ROLE, ..builtin!(k::rbac::v1::Role, "rbac.authorization.k8s.io", "v1", "Role", "roles", true, NONE, NONE, NONE, false, &[]) },
    Builtin { strategy: &rbac::BINDING, ..builtin!(k::rbac::v1::RoleBinding, "rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, NONE, NONE, NONE, false, &[]) },
    Builtin { strategy: &rbac::ROLE, ..builtin!(k::rbac::v1::ClusterRole, "rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, NONE, NONE, NONE, false, &[]) },
    Builtin { strategy: &rbac::BINDING, ..builtin!(k::rbac::v1::ClusterRoleBinding, "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false, NONE, NONE, NONE, false, &[]) },
    Builtin {
        strategy: &crd::CRD,
        ..builtin!(k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
            "apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, &["crd", "crds"], &["api-extensions"], STATUS, true, &[])
    },
    builtin!(k::coordination::v1::Lease, "coordination.k8s.io", "v1", "Lease", "leases", true, NONE, NONE, NONE, false, &[]),
    Builtin {
        stored_as: Some(("", "events")),
        ..builtin!(k::events::v1::Event, "events.k8s.io", "v1", "Event", "events", true, &["ev"], NONE, NONE, false, &["reason", "type", "reportingController", "regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid"])
    },
    builtin!(k::admissionregistration::v1::ValidatingWebhookConfiguration, "admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false, NONE, &["api-extensions"], NONE, true, &[]),
    builtin!(k::admissionregistration::v1::MutatingWebhookConfiguration, "admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false, NONE, &["api-extensions"], NONE, true, &[]),
    builtin!(k::admissionregistration::v1::ValidatingAdmissionPolicy, "admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", false, NONE, &["api-extensions"], STATUS, true, &[]),
    builtin!(k::admissionregistration::v1::ValidatingAdmissionPolicyBinding, "admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", false, NONE, &["api-extensions"], NONE, true, &[]),
    builtin!(k::discovery::v1::EndpointSlice, "discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true, NONE, NONE, NONE, false, &[]),
    builtin!(k::policy::v1::PodDisruptionBudget, "policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, &["pdb"], NONE, STATUS, true, &[]),
    builtin!(k::networking::v1::NetworkPolicy, "networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, &["netpol"], NONE, NONE, true, &[]),
    builtin!(k::networking::v1::Ingress, "networking.k8s.io", "v1", "Ingress", "ingresses", true, &["ing"], NONE, STATUS, true, &[]),
    builtin!(k::scheduling::v1::PriorityClass, "scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false, &["pc"], NONE, NONE, false, &[]),
    builtin!(k::storage::v1::StorageClass, "storage.k8s.io", "v1", "StorageClass", "storageclasses", false, &["sc"], NONE, NONE, false, &[]),
    builtin!(k::core::v1::PersistentVolumeClaim, "", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, &["pvc"], NONE, STATUS, false, &[]),
    builtin!(k::core::v1::ReplicationController, "", "v1", "ReplicationController", "replicationcontrollers", true, &["rc"], ALL, STATUS_SCALE, true, &["status.replicas"]),
    builtin!(k::core::v1::PodTemplate, "", "v1", "PodTemplate", "podtemplates", true, NONE, NONE, NONE, false, &[]),
    builtin!(k::core::v1::PersistentVolume, "", "v1", "PersistentVolume", "persistentvolumes", false, &["pv"], NONE, STATUS, false, &[]),
    builtin!(k::core::v1::LimitRange, "", "v1", "LimitRange", "limitranges", true, &["limits"], NONE, NONE, false, &[]),
    builtin!(k::core::v1::ResourceQuota, "", "v1", "ResourceQuota", "resourcequotas", true, &["quota"], NONE, STATUS, false, &[]),
    builtin!(k::core::v1::ComponentStatus, "", "v1", "ComponentStatus", "componentstatuses", false, &["cs"], NONE, NONE, false, &[]),
    // autoscaling/v1 first: v2 (inserted last) is the preferred version; both share one storage (v2's form).
    builtin!(k::autoscaling::v1::HorizontalPodAutoscaler, "autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, &["hpa"], ALL, STATUS, true, &[]),
    builtin!(k::autoscaling::v2::HorizontalPodAutoscaler, "autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, &["hpa"], ALL, STATUS, true, &[]),
    builtin!(k::certificates::v1::CertificateSigningRequest, "certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", false, &["csr"], NONE, &["status", "approval"], true, &["spec.signerName"]),
    builtin!(k::resource::v1::DeviceClass, "resource.k8s.io", "v1", "DeviceClass", "deviceclasses", false, NONE, NONE, NONE, true, &[]),
    builtin!(k::resource::v1::ResourceClaim, "resource.k8s.io", "v1", "ResourceClaim", "resourceclaims", true, NONE, NONE, STATUS, true, &[]),
    builtin!(k::resource::v1::ResourceClaimTemplate, "resource.k8s.io", "v1", "ResourceClaimTemplate", "resourceclaimtemplates", true, NONE, NONE, NONE, true, &[]),
    builtin!(k::resource::v1::ResourceSlice, "resource.k8s.io", "v1", "ResourceSlice", "resourceslices", false, NONE, NONE, NONE, true, &["spec.nodeName", "spec.driver"]),
    builtin!(k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService, "apiregistration.k8s.io", "v1", "APIService", "apiservices", false, NONE, &["api-extensions"], STATUS, false, &[]),
];

/// The built-in kind `kind` of `group` (its preferred version's entry).
pub fn builtin_kind(group: &str, kind: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.group == group && b.kind == kind)
}

/// Where `kubectl scale` finds replicas on a kind with the scale subresource.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalePaths {
    pub spec_replicas: String,
    pub status_replicas: String,
    pub label_selector: Option<String>,
}

/// One served version of a custom resource, from its CRD.
#[derive(Debug, Clone)]
pub struct CrdVersion {
    pub crd_name: String,
    pub schema: Option<Value>,
    pub printer_columns: Option<Value>,
    pub storage_version: String,
    pub all_versions: Vec<String>,
}

/// A resource served at one group-version: built-in or from a CRD.
#[derive(Debug, Clone)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub subresources: Vec<String>,
    pub scale: Option<ScalePaths>,
    pub builtin: Option<&'static Builtin>,
    pub crd: Option<CrdVersion>,
}

impl ResourceType {
    fn from_builtin(b: &'static Builtin) -> Self {
        let scale = b.subresources.contains(&"scale").then(|| ScalePaths {
            spec_replicas: ".spec.replicas".into(),
            status_replicas: ".status.replicas".into(),
            label_selector: Some(".spec.selector".into()),
        });
        Self {
            group: b.group.into(),
            version: b.version.into(),
            kind: b.kind.into(),
            plural: b.plural.into(),
            singular: b.kind.to_lowercase(),
            namespaced: b.namespaced,
            short_names: b.short_names.iter().map(|s| s.to_string()).collect(),
            categories: b.categories.iter().map(|s| s.to_string()).collect(),
            subresources: b.subresources.iter().map(|s| s.to_string()).collect(),
            scale,
            builtin: Some(b),
            crd: None,
        }
    }

    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    pub fn has_status(&self) -> bool {
        self.subresources.iter().any(|s| s == "status")
    }

    pub fn has_sub(&self, sub: &str) -> bool {
        self.subresources.iter().any(|s| s == sub)
    }

    /// The storage key shared by all versions of this resource.
    pub fn storage_key(&self) -> StorageKey {
        match self.builtin.and_then(|b| b.stored_as) {
            Some((g, p)) => StorageKey {
                group: g.into(),
                plural: p.into(),
            },
            None => StorageKey {
                group: self.group.clone(),
                plural: self.plural.clone(),
            },
        }
    }

    /// Whether spec changes bump generation (all custom resources do).
    pub fn tracks_generation(&self) -> bool {
        self.builtin.map(|b| b.generation).unwrap_or(true)
    }

    pub fn is_builtin(&self) -> bool {
        self.builtin.is_some()
    }

    /// A 422 Invalid for field errors of an object of this kind.
    pub fn invalid(&self, name: &str, errors: &[FieldError]) -> ApiError {
        let message = schema::invalid_message(&self.kind, &self.group, name, errors);
        let causes: Vec<Value> = errors
            .iter()
            .map(|e| {
                let reason = match e.kind {
                    schema::ErrorKind::Required | schema::ErrorKind::RequiredDetail(_) => {
                        "FieldValueRequired"
                    }
                    schema::ErrorKind::TooLong { .. } => "FieldValueTooLong",
                    schema::ErrorKind::Invalid { .. } => "FieldValueInvalid",
                    schema::ErrorKind::NotSupported { .. } => "FieldValueNotSupported",
                    schema::ErrorKind::Forbidden(_) => "FieldValueForbidden",
                    schema::ErrorKind::TooMany { .. } => "FieldValueTooMany",
                };
                let text = e.to_string();
                let msg = text
                    .strip_prefix(&format!("{}: ", e.path))
                    .unwrap_or(&text)
                    .to_string();
                json!({"reason": reason, "message": msg, "field": e.path})
            })
            .collect();
        ApiError::invalid(&self.group, &self.kind, name, message, json!(causes))
    }

    /// `CronTab.stable.example.com` or `Pod`: how Kubernetes names a kind in Invalid messages.
    pub fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

/// Where objects live in the store: one per group and resource, whatever the version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorageKey {
    pub group: String,
    pub plural: String,
}

/// All resources served now, by group, version and plural.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// group -> version -> plural -> type.
    groups: BTreeMap<String, BTreeMap<String, BTreeMap<String, Arc<ResourceType>>>>,
    /// group -> preferred version.
    preferred: BTreeMap<String, String>,
}

impl Registry {
    /// The registry of built-in kinds.
    pub fn builtin() -> Self {
        let mut reg = Self::default();
        for b in BUILTINS {
            reg.insert(ResourceType::from_builtin(b), true);
        }
        reg
    }

    fn insert(&mut self, rt: ResourceType, preferred: bool) {
        if preferred || !self.preferred.contains_key(&rt.group) {
            self.preferred.insert(rt.group.clone(), rt.version.clone());
        }
        self.groups
            .entry(rt.group.clone())
            .or_default()
            .entry(rt.version.clone())
            .or_default()
            .insert(rt.plural.clone(), Arc::new(rt));
    }

    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.groups.get(group)?.get(version)?.get(plural).cloned()
    }

    /// Whether a group-version is served at all.
    pub fn has_group_version(&self, group: &str, version: &str) -> bool {
        self.groups
            .get(group)
            .is_some_and(|g| g.contains_key(version))
    }

    /// The type of a kind at an apiVersion (`apps/v1`, `v1`).
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<Arc<ResourceType>> {
        let (group, version) = split_api_version(api_version);
        self.groups
            .get(group)?
            .get(version)?
            .values()
            .find(|rt| rt.kind == kind)
            .cloned()
    }

    /// The preferred version's type for a storage key (used by controllers and GC).
    pub fn by_storage(&self, key: &StorageKey) -> Option<Arc<ResourceType>> {
        let version = self.preferred.get(&key.group)?;
        self.get(&key.group, version, &key.plural).or_else(|| {
            self.groups
                .get(&key.group)?
                .values()
                .find_map(|v| v.get(&key.plural).cloned())
        })
    }

    /// Groups in discovery order: core first, then built-in groups, then CRD groups.
    pub fn groups(
        &self,
    ) -> impl Iterator<
        Item = (
            &String,
            &BTreeMap<String, BTreeMap<String, Arc<ResourceType>>>,
        ),
    > {
        self.groups.iter()
    }

    pub fn preferred_version(&self, group: &str) -> Option<&str> {
        self.preferred.get(group).map(String::as_str)
    }

    pub fn resources(&self, group: &str, version: &str) -> Vec<Arc<ResourceType>> {
        self.groups
            .get(group)
            .and_then(|g| g.get(version))
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every type of every version (for GC and namespace cleanup: one per storage key).
    pub fn storage_types(&self) -> Vec<Arc<ResourceType>> {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for versions in self.groups.values() {
            for plurals in versions.values() {
                for rt in plurals.values() {
                    if seen.insert(rt.storage_key()) {
                        out.push(rt.clone());
                    }
                }
            }
        }
        out
    }

    /// Replaces every version served for one CRD.
    pub fn set_crd(
        &mut self,
        group: &str,
        plural: &str,
        versions: Vec<ResourceType>,
        preferred: Option<&str>,
    ) {
        self.remove_crd(group, plural);
        for rt in versions {
            let is_pref = preferred == Some(rt.version.as_str());
            self.insert(rt, is_pref);
        }
    }

    /// Stops serving a CRD's resource.
    pub fn remove_crd(&mut self, group: &str, plural: &str) {
        if let Some(g) = self.groups.get_mut(group) {
            for v in g.values_mut() {
                if v.get(plural).is_some_and(|rt| rt.crd.is_some()) {
                    v.remove(plural);
                }
            }
            g.retain(|_, v| !v.is_empty());
            if g.is_empty() {
                self.groups.remove(group);
                self.preferred.remove(group);
            } else if let Some(p) = self.preferred.get(group)
                && !g.contains_key(p)
            {
                let first = g.keys().next().cloned().unwrap_or_default();
                self.preferred.insert(group.to_string(), first);
            }
        }
    }
}

/// The registry as the server holds it: read by every request, changed when a CRD is served or removed.
#[derive(Debug)]
pub struct Served(std::sync::RwLock<Registry>);

impl Default for Served {
    fn default() -> Self {
        Self(std::sync::RwLock::new(Registry::builtin()))
    }
}

impl Served {
    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn update(&self, f: impl FnOnce(&mut Registry)) {
        let mut reg = self.0.write().unwrap_or_else(|e| e.into_inner());
        f(&mut reg);
    }
}

/// `apps/v1` -> ("apps", "v1"); `v1` -> ("", "v1").
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}
