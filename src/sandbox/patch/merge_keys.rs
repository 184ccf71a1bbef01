//! Merge keys and list types of built-in kinds, from the Kubernetes OpenAPI
//! (`x-kubernetes-patch-merge-key`, `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`).
//!
//! A small type graph: a kind names a root struct, a struct maps field names to [`Ty`]s.
//! Anything not described here is [`Ty::Unknown`]: objects merge field by field and lists are
//! atomic, which is what Kubernetes does for lists without a merge key.

use super::TypeRef;

/// The strategic-merge-patch strategy of a list field (`x-kubernetes-patch-strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchStrategy {
    /// No strategy: a patch replaces the whole list.
    Replace,
    /// `merge`: lists of objects merge by the merge key, lists of scalars merge as sets.
    Merge,
    /// `merge,retainKeys`: like `Merge`; items honour `$retainKeys`.
    MergeRetainKeys,
}

/// The server-side-apply list type (`x-kubernetes-list-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListType {
    /// The list is one value, replaced and owned as a whole.
    Atomic,
    /// A set of scalars, items identified by value (`v:` in FieldsV1).
    Set,
    /// An associative list, items identified by these key fields (`k:` in FieldsV1).
    Map(&'static [&'static str]),
}

/// What Kubernetes knows about one list field.
#[derive(Debug, PartialEq, Eq)]
pub struct ListInfo {
    /// `x-kubernetes-patch-merge-key`, for lists of objects merged by strategic merge patch.
    pub patch_merge_key: Option<&'static str>,
    /// `x-kubernetes-patch-strategy`.
    pub patch_strategy: PatchStrategy,
    /// `x-kubernetes-list-type` (and `x-kubernetes-list-map-keys`).
    pub list_type: ListType,
    /// Defaults of list-map key fields (e.g. `protocol: TCP` of container ports), used when an
    /// item omits them, as structured-merge-diff does.
    pub key_defaults: &'static [(&'static str, &'static str)],
    /// The type of the items.
    pub item: Ty,
}

impl ListInfo {
    /// True when strategic merge patch merges this list instead of replacing it.
    pub fn smp_merges(&self) -> bool {
        matches!(
            self.patch_strategy,
            PatchStrategy::Merge | PatchStrategy::MergeRetainKeys
        )
    }
}

/// A node of the type graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Nothing known: objects are granular maps, lists are atomic.
    Unknown,
    /// A struct with known fields (never gets its own `.` entry in an Update field set).
    Struct(Named),
    /// A map with arbitrary string keys (labels, annotations, data, resources.limits).
    Map,
    /// A struct or map that is one value (`x-kubernetes-map-type: atomic`), e.g. a label selector.
    AtomicMap,
    /// A list field.
    List(&'static ListInfo),
}

/// Named struct types of the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// A struct whose fields are all unknown (e.g. `DeploymentStrategy`).
    Plain,
    /// The root of a custom resource: only `metadata` is known.
    CustomRoot,
    /// The root of a built-in kind not described in detail: metadata, spec and status.
    GenericRoot,
    ObjectMeta,
    Pod,
    PodTemplate,
    PodSpec,
    PodStatus,
    PodTemplateSpec,
    Container,
    EnvVar,
    EnvVarSource,
    ResourceRequirements,
    Affinity,
    NodeAffinity,
    TopologySpreadConstraint,
    Workload,
    WorkloadSpec,
    WorkloadStatus,
    Job,
    JobSpec,
    JobStatus,
    CronJob,
    CronJobSpec,
    JobTemplateSpec,
    Namespace,
    NamespaceSpec,
    NamespaceStatus,
    Node,
    NodeSpec,
    NodeStatus,
    Service,
    ServiceSpec,
    ServiceStatus,
    Binding,
    ServiceAccount,
    PersistentVolumeClaim,
    PersistentVolumeClaimSpec,
    ConditionsStatus,
}

const fn list(
    patch_merge_key: Option<&'static str>,
    patch_strategy: PatchStrategy,
    list_type: ListType,
    item: Ty,
) -> ListInfo {
    ListInfo {
        patch_merge_key,
        patch_strategy,
        list_type,
        key_defaults: &[],
        item,
    }
}

/// A list merged by `name` in both strategic merge patch and server-side apply.
const fn by_name(item: Ty) -> ListInfo {
    list(
        Some("name"),
        PatchStrategy::Merge,
        ListType::Map(&["name"]),
        item,
    )
}

static FINALIZERS: ListInfo = list(None, PatchStrategy::Merge, ListType::Set, Ty::Unknown);
static OWNER_REFERENCES: ListInfo = list(
    Some("uid"),
    PatchStrategy::Merge,
    ListType::Map(&["uid"]),
    Ty::AtomicMap,
);
static CONTAINERS: ListInfo = by_name(Ty::Struct(Named::Container));
static VOLUMES: ListInfo = list(
    Some("name"),
    PatchStrategy::MergeRetainKeys,
    ListType::Map(&["name"]),
    Ty::Unknown,
);
static IMAGE_PULL_SECRETS: ListInfo = by_name(Ty::AtomicMap);
static HOST_ALIASES: ListInfo = list(
    Some("ip"),
    PatchStrategy::Merge,
    ListType::Map(&["ip"]),
    Ty::Unknown,
);
static TOPOLOGY_SPREAD: ListInfo = list(
    Some("topologyKey"),
    PatchStrategy::Merge,
    ListType::Map(&["topologyKey", "whenUnsatisfiable"]),
    Ty::Struct(Named::TopologySpreadConstraint),
);
static RESOURCE_CLAIMS: ListInfo = list(
    Some("name"),
    PatchStrategy::MergeRetainKeys,
    ListType::Map(&["name"]),
    Ty::Unknown,
);
static SCHEDULING_GATES: ListInfo = by_name(Ty::Unknown);
static ATOMIC: ListInfo = list(None, PatchStrategy::Replace, ListType::Atomic, Ty::Unknown);
static CONTAINER_PORTS: ListInfo = ListInfo {
    patch_merge_key: Some("containerPort"),
    patch_strategy: PatchStrategy::Merge,
    list_type: ListType::Map(&["containerPort", "protocol"]),
    key_defaults: &[("protocol", "TCP")],
    item: Ty::Unknown,
};
static ENV: ListInfo = by_name(Ty::Struct(Named::EnvVar));
static VOLUME_MOUNTS: ListInfo = list(
    Some("mountPath"),
    PatchStrategy::Merge,
    ListType::Map(&["mountPath"]),
    Ty::Unknown,
);
static VOLUME_DEVICES: ListInfo = list(
    Some("devicePath"),
    PatchStrategy::Merge,
    ListType::Map(&["devicePath"]),
    Ty::Unknown,
);
static RESOURCE_REQUIREMENT_CLAIMS: ListInfo = list(
    None,
    PatchStrategy::Replace,
    ListType::Map(&["name"]),
    Ty::Unknown,
);
static CONDITIONS: ListInfo = list(
    Some("type"),
    PatchStrategy::Merge,
    ListType::Map(&["type"]),
    Ty::Unknown,
);
static JOB_CONDITIONS: ListInfo = list(
    Some("type"),
    PatchStrategy::Merge,
    ListType::Atomic,
    Ty::Unknown,
);
static POD_IPS: ListInfo = list(
    Some("ip"),
    PatchStrategy::Merge,
    ListType::Map(&["ip"]),
    Ty::Unknown,
);
static RESOURCE_CLAIM_STATUSES: ListInfo = list(
    Some("name"),
    PatchStrategy::MergeRetainKeys,
    ListType::Map(&["name"]),
    Ty::Unknown,
);
static NODE_ADDRESSES: ListInfo = list(
    Some("type"),
    PatchStrategy::Merge,
    ListType::Map(&["type"]),
    Ty::Unknown,
);
static POD_CIDRS: ListInfo = list(None, PatchStrategy::Merge, ListType::Set, Ty::Unknown);
static SERVICE_PORTS: ListInfo = ListInfo {
    patch_merge_key: Some("port"),
    patch_strategy: PatchStrategy::Merge,
    list_type: ListType::Map(&["port", "protocol"]),
    key_defaults: &[("protocol", "TCP")],
    item: Ty::Unknown,
};
static SERVICE_ACCOUNT_SECRETS: ListInfo = by_name(Ty::AtomicMap);

impl Ty {
    /// The type of field `name` of an object of this type.
    pub fn field(self, name: &str) -> Ty {
        match self {
            Ty::Struct(named) => struct_field(named, name),
            _ => Ty::Unknown,
        }
    }

    /// The list facts, when this is a list field.
    pub fn list_info(self) -> Option<&'static ListInfo> {
        match self {
            Ty::List(info) => Some(info),
            _ => None,
        }
    }

    /// The item type of a list (Unknown for anything else).
    pub fn item(self) -> Ty {
        self.list_info().map_or(Ty::Unknown, |info| info.item)
    }

    /// True for structs and maps that are one atomic value.
    pub fn is_atomic_map(self) -> bool {
        self == Ty::AtomicMap
    }
}

/// The type of the whole object of kind `ty`.
pub fn root(ty: TypeRef<'_>) -> Ty {
    if !ty.builtin {
        return Ty::Struct(Named::CustomRoot);
    }
    let named = match (ty.group, ty.kind) {
        ("", "Pod") => Named::Pod,
        ("", "PodTemplate") => Named::PodTemplate,
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("", "ReplicationController") => Named::Workload,
        ("batch", "Job") => Named::Job,
        ("batch", "CronJob") => Named::CronJob,
        ("", "Namespace") => Named::Namespace,
        ("", "Node") => Named::Node,
        ("", "Service") => Named::Service,
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => Named::Binding,
        ("", "ServiceAccount") => Named::ServiceAccount,
        ("", "PersistentVolumeClaim") => Named::PersistentVolumeClaim,
        _ => Named::GenericRoot,
    };
    Ty::Struct(named)
}

/// The type at `path` (field names; list indices already stripped) below the root of `ty`.
/// Example: `lookup(deployment, &["spec", "template", "spec", "containers"])`.
pub fn lookup(ty: TypeRef<'_>, path: &[&str]) -> Ty {
    let mut cur = root(ty);
    for seg in path {
        cur = match cur {
            Ty::List(info) => info.item.field(seg),
            other => other.field(seg),
        };
    }
    cur
}

fn struct_field(named: Named, name: &str) -> Ty {
    use Named as N;
    let s = |n: Named| Ty::Struct(n);
    match (named, name) {
        (_, "metadata") if is_root(named) => s(N::ObjectMeta),
        (N::ObjectMeta, "labels" | "annotations") => Ty::Map,
        (N::ObjectMeta, "finalizers") => Ty::List(&FINALIZERS),
        (N::ObjectMeta, "ownerReferences") => Ty::List(&OWNER_REFERENCES),
        (N::GenericRoot, "spec" | "status") => s(N::Plain),

        (N::Pod, "spec") => s(N::PodSpec),
        (N::Pod, "status") => s(N::PodStatus),
        (N::PodTemplateSpec, "metadata") => s(N::ObjectMeta),
        (N::PodTemplateSpec, "spec") => s(N::PodSpec),

        (N::PodSpec, "containers" | "initContainers" | "ephemeralContainers") => {
            Ty::List(&CONTAINERS)
        }
        (N::PodSpec, "volumes") => Ty::List(&VOLUMES),
        (N::PodSpec, "imagePullSecrets") => Ty::List(&IMAGE_PULL_SECRETS),
        (N::PodSpec, "hostAliases") => Ty::List(&HOST_ALIASES),
        (N::PodSpec, "topologySpreadConstraints") => Ty::List(&TOPOLOGY_SPREAD),
        (N::PodSpec, "resourceClaims") => Ty::List(&RESOURCE_CLAIMS),
        (N::PodSpec, "schedulingGates") => Ty::List(&SCHEDULING_GATES),
        (N::PodSpec, "tolerations" | "readinessGates") => Ty::List(&ATOMIC),
        (N::PodSpec, "nodeSelector") => Ty::AtomicMap,
        (N::PodSpec, "overhead") => Ty::Map,
        (N::PodSpec, "affinity") => s(N::Affinity),
        (N::Affinity, "nodeAffinity") => s(N::NodeAffinity),
        (N::NodeAffinity, "requiredDuringSchedulingIgnoredDuringExecution") => Ty::AtomicMap,
        (N::TopologySpreadConstraint, "labelSelector") => Ty::AtomicMap,

        (N::Container, "ports") => Ty::List(&CONTAINER_PORTS),
        (N::Container, "env") => Ty::List(&ENV),
        (N::Container, "volumeMounts") => Ty::List(&VOLUME_MOUNTS),
        (N::Container, "volumeDevices") => Ty::List(&VOLUME_DEVICES),
        (N::Container, "resources") => s(N::ResourceRequirements),
        (N::ResourceRequirements, "limits" | "requests") => Ty::Map,
        (N::ResourceRequirements, "claims") => Ty::List(&RESOURCE_REQUIREMENT_CLAIMS),
        (N::EnvVar, "valueFrom") => s(N::EnvVarSource),
        (N::EnvVarSource, "configMapKeyRef" | "secretKeyRef" | "fieldRef" | "resourceFieldRef") => {
            Ty::AtomicMap
        }

        (N::PodStatus, "conditions") => Ty::List(&CONDITIONS),
        (N::PodStatus, "podIPs" | "hostIPs") => Ty::List(&POD_IPS),
        (N::PodStatus, "resourceClaimStatuses") => Ty::List(&RESOURCE_CLAIM_STATUSES),
        (
            N::PodStatus,
            "containerStatuses" | "initContainerStatuses" | "ephemeralContainerStatuses",
        ) => Ty::List(&ATOMIC),

        (N::Workload, "spec") => s(N::WorkloadSpec),
        (N::Workload, "status") => s(N::WorkloadStatus),
        (N::WorkloadSpec | N::JobSpec, "selector") => Ty::AtomicMap,
        (N::WorkloadSpec | N::JobSpec, "template") => s(N::PodTemplateSpec),
        (N::WorkloadSpec, "strategy" | "updateStrategy") => s(N::Plain),
        (
            N::WorkloadStatus | N::ConditionsStatus | N::NamespaceStatus | N::ServiceStatus,
            "conditions",
        ) => Ty::List(&CONDITIONS),

        (N::Job, "spec") => s(N::JobSpec),
        (N::Job, "status") => s(N::JobStatus),
        (N::JobStatus, "conditions") => Ty::List(&JOB_CONDITIONS),
        (N::CronJob, "spec") => s(N::CronJobSpec),
        (N::CronJob, "status") => s(N::Plain),
        (N::CronJobSpec, "jobTemplate") => s(N::JobTemplateSpec),
        (N::JobTemplateSpec, "metadata") => s(N::ObjectMeta),
        (N::JobTemplateSpec, "spec") => s(N::JobSpec),
        (N::PodTemplate, "template") => s(N::PodTemplateSpec),

        (N::Namespace, "spec") => s(N::NamespaceSpec),
        (N::Namespace, "status") => s(N::NamespaceStatus),
        (N::NamespaceSpec, "finalizers") => Ty::List(&ATOMIC),

        (N::Node, "spec") => s(N::NodeSpec),
        (N::Node, "status") => s(N::NodeStatus),
        (N::NodeSpec, "taints") => Ty::List(&ATOMIC),
        (N::NodeSpec, "podCIDRs") => Ty::List(&POD_CIDRS),
        (N::NodeStatus, "conditions") => Ty::List(&CONDITIONS),
        (N::NodeStatus, "addresses") => Ty::List(&NODE_ADDRESSES),
        (N::NodeStatus, "capacity" | "allocatable") => Ty::Map,

        (N::Service, "spec") => s(N::ServiceSpec),
        (N::Service, "status") => s(N::ServiceStatus),
        (N::ServiceSpec, "ports") => Ty::List(&SERVICE_PORTS),
        (N::ServiceSpec, "selector") => Ty::AtomicMap,

        (N::Binding, "roleRef") => Ty::AtomicMap,

        (N::ServiceAccount, "secrets") => Ty::List(&SERVICE_ACCOUNT_SECRETS),

        (N::PersistentVolumeClaim, "spec") => s(N::PersistentVolumeClaimSpec),
        (N::PersistentVolumeClaim, "status") => s(N::ConditionsStatus),
        (N::PersistentVolumeClaimSpec, "selector") => Ty::AtomicMap,
        (N::PersistentVolumeClaimSpec, "resources") => s(N::ResourceRequirements),

        _ => Ty::Unknown,
    }
}

fn is_root(named: Named) -> bool {
    use Named as N;
    matches!(
        named,
        N::CustomRoot
            | N::GenericRoot
            | N::Pod
            | N::PodTemplate
            | N::Workload
            | N::Job
            | N::CronJob
            | N::Namespace
            | N::Node
            | N::Service
            | N::Binding
            | N::ServiceAccount
            | N::PersistentVolumeClaim
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENT: TypeRef<'static> = TypeRef {
        group: "apps",
        kind: "Deployment",
        builtin: true,
    };
    const POD: TypeRef<'static> = TypeRef {
        group: "",
        kind: "Pod",
        builtin: true,
    };

    fn info(ty: TypeRef<'_>, path: &[&str]) -> &'static ListInfo {
        lookup(ty, path).list_info().unwrap()
    }

    #[test]
    fn pod_template_lists_in_workloads() {
        let c = info(DEPLOYMENT, &["spec", "template", "spec", "containers"]);
        assert_eq!(c.patch_merge_key, Some("name"));
        assert_eq!(c.list_type, ListType::Map(&["name"]));
        let ports = info(
            DEPLOYMENT,
            &["spec", "template", "spec", "containers", "ports"],
        );
        assert_eq!(ports.patch_merge_key, Some("containerPort"));
        assert_eq!(
            ports.list_type,
            ListType::Map(&["containerPort", "protocol"])
        );
        assert_eq!(ports.key_defaults, &[("protocol", "TCP")]);
        let env = info(
            DEPLOYMENT,
            &["spec", "template", "spec", "initContainers", "env"],
        );
        assert_eq!(env.patch_merge_key, Some("name"));
        let mounts = info(POD, &["spec", "containers", "volumeMounts"]);
        assert_eq!(mounts.patch_merge_key, Some("mountPath"));
        let vols = info(POD, &["spec", "volumes"]);
        assert_eq!(vols.patch_strategy, PatchStrategy::MergeRetainKeys);
        let tsc = info(POD, &["spec", "topologySpreadConstraints"]);
        assert_eq!(
            tsc.list_type,
            ListType::Map(&["topologyKey", "whenUnsatisfiable"])
        );
        assert_eq!(tsc.patch_merge_key, Some("topologyKey"));
        let tol = info(POD, &["spec", "tolerations"]);
        assert!(!tol.smp_merges());
        assert_eq!(tol.list_type, ListType::Atomic);
        for kind in ["ReplicaSet", "StatefulSet", "DaemonSet"] {
            let t = TypeRef { kind, ..DEPLOYMENT };
            assert_eq!(
                info(t, &["spec", "template", "spec", "volumes"]).patch_merge_key,
                Some("name")
            );
        }
        let job = TypeRef {
            group: "batch",
            kind: "Job",
            builtin: true,
        };
        assert_eq!(
            info(job, &["spec", "template", "spec", "containers"]).patch_merge_key,
            Some("name")
        );
        let cron = TypeRef {
            kind: "CronJob",
            ..job
        };
        let path = [
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "spec",
            "containers",
            "env",
        ];
        assert_eq!(info(cron, &path).patch_merge_key, Some("name"));
    }

    #[test]
    fn metadata_conditions_and_services() {
        let fin = info(POD, &["metadata", "finalizers"]);
        assert_eq!(fin.list_type, ListType::Set);
        assert!(fin.smp_merges());
        let owners = info(DEPLOYMENT, &["metadata", "ownerReferences"]);
        assert_eq!(owners.patch_merge_key, Some("uid"));
        assert_eq!(lookup(DEPLOYMENT, &["spec", "selector"]), Ty::AtomicMap);
        assert_eq!(lookup(DEPLOYMENT, &["metadata", "labels"]), Ty::Map);
        assert_eq!(
            info(DEPLOYMENT, &["status", "conditions"]).patch_merge_key,
            Some("type")
        );
        assert_eq!(
            info(POD, &["status", "conditions"]).list_type,
            ListType::Map(&["type"])
        );
        assert_eq!(
            info(POD, &["status", "containerStatuses"]).list_type,
            ListType::Atomic
        );
        let job = TypeRef {
            group: "batch",
            kind: "Job",
            builtin: true,
        };
        let jc = info(job, &["status", "conditions"]);
        assert_eq!(
            (jc.patch_merge_key, jc.list_type),
            (Some("type"), ListType::Atomic)
        );
        let svc = TypeRef {
            kind: "Service",
            ..POD
        };
        let ports = info(svc, &["spec", "ports"]);
        assert_eq!(ports.patch_merge_key, Some("port"));
        assert_eq!(ports.list_type, ListType::Map(&["port", "protocol"]));
        let role = TypeRef {
            group: "rbac.authorization.k8s.io",
            kind: "Role",
            builtin: true,
        };
        assert_eq!(lookup(role, &["rules"]), Ty::Unknown);
        let ep = TypeRef {
            kind: "Endpoints",
            ..POD
        };
        assert_eq!(lookup(ep, &["subsets"]), Ty::Unknown);
        let cm = TypeRef {
            kind: "ConfigMap",
            ..POD
        };
        assert_eq!(lookup(cm, &["data"]), Ty::Unknown);
        let cr = TypeRef {
            group: "example.com",
            kind: "Widget",
            builtin: false,
        };
        assert_eq!(
            info(cr, &["metadata", "finalizers"]).list_type,
            ListType::Set
        );
        assert_eq!(lookup(cr, &["spec", "items"]), Ty::Unknown);
    }
}
