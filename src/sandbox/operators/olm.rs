//! OLM v0 (v0.46.0), simulated: when the bundled set `olm` runs (Deployments `olm-operator` and
//! `catalog-operator` in `olm` with Running pods), the sandbox does the catalog-operator's and the
//! olm-operator's work against an offline catalog bundled with oplab (`assets/olm/`), served for the
//! CatalogSource `olm/operatorhubio-catalog`:
//! - Subscription -> InstallPlan `install-xxxxx` (RequiresApproval under Manual approval, Installing under
//!   Automatic); the Subscription shows UpgradePending, currentCSV, installPlanRef, InstallPlanPending;
//! - an approved plan creates its steps (CRDs, ServiceAccount, ClusterServiceVersion) and goes Complete;
//! - the CSV goes Pending -> InstallReady -> Installing -> Succeeded with upstream's reasons and messages,
//!   creating the Deployments of its install strategy;
//! - the Subscription ends AtLatestKnown with installedCSV;
//! - `packages.operators.coreos.com/v1` PackageManifests list the bundled catalog.
//!
//! Everything written carries the annotation `oplab.dev/simulated` and Events say "simulated by the oplab
//! sandbox".

use super::{SIMULATED, event, owner_ref};
use crate::sandbox::api::{Api, WriteOpts};
use crate::sandbox::controllers::key;
use crate::sandbox::controllers::workload as w;
use crate::sandbox::meta;
use serde_json::{Value, json};
use std::sync::OnceLock;

pub const GROUP: &str = "operators.coreos.com";
pub const NS: &str = "olm";
pub const CATALOG: &str = "operatorhubio-catalog";
const PACKAGES_GROUP: &str = "packages.operators.coreos.com";
const ANNOTATION: &str = "oplab.dev/simulated";
const CATALOG_YAML: &str = include_str!("../../../assets/olm/operatorhubio-catalog.yaml");

/// The kinds whose changes wake the simulated OLM.
pub fn watches(k: &crate::sandbox::registry::StorageKey) -> bool {
    k.group == GROUP || (k.group == "apps" && k.plural == "deployments")
}

/// The bundled catalog (parsed once).
pub fn catalog() -> &'static Value {
    static CAT: OnceLock<Value> = OnceLock::new();
    CAT.get_or_init(|| serde_saphyr::from_str(CATALOG_YAML).unwrap_or(Value::Null))
}

fn package(name: &str) -> Option<&'static Value> {
    catalog()["packages"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
}

fn csv_entry(name: &str) -> Option<&'static Value> {
    catalog()["packages"]
        .as_array()?
        .iter()
        .flat_map(|p| p["csvs"].as_array().into_iter().flatten())
        .find(|c| c["name"] == name)
}

#[derive(Default)]
pub struct Olm {}

impl Olm {
    pub fn reconcile_all(&self, api: &Api) {
        if api
            .registry()
            .get(GROUP, "v1alpha1", "subscriptions")
            .is_none()
            || !super::deployment_runs(api, NS, "olm-operator")
            || !super::deployment_runs(api, NS, "catalog-operator")
        {
            return;
        }
        serve_packages(api);
        for sub in api.store.list(&key(GROUP, "subscriptions"), None).0 {
            if sub["metadata"]["deletionTimestamp"].is_null() {
                subscription(api, &sub);
            }
        }
        for ip in api.store.list(&key(GROUP, "installplans"), None).0 {
            install_plan(api, &ip);
        }
        for csv in api
            .store
            .list(&key(GROUP, "clusterserviceversions"), None)
            .0
        {
            if csv["metadata"]["annotations"][ANNOTATION].is_string() {
                cluster_service_version(api, &csv);
            }
        }
    }
}

fn simulated_meta() -> Value {
    json!({ANNOTATION: format!("written by OLM {SIMULATED}")})
}

fn set_status(api: &Api, plural: &str, obj: &Value, status: Value) {
    let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let uid = obj["metadata"]["uid"].clone();
    api.mutate(&key(GROUP, plural), ns, name, |o| {
        if o["metadata"]["uid"] != uid {
            return false;
        }
        o["status"] = status;
        true
    });
}

/// The catalog-operator: resolve a Subscription into an InstallPlan, and follow the install.
fn subscription(api: &Api, sub: &Value) {
    let ns = sub["metadata"]["namespace"].as_str().unwrap_or_default();
    let spec = &sub["spec"];
    let now = meta::now_rfc3339();
    let status = &sub["status"];
    let health = json!([{
        "catalogSourceRef": {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource", "name": CATALOG, "namespace": NS},
        "healthy": true, "lastUpdated": now,
    }]);
    if status["installPlanRef"].is_null() {
        // Resolve.
        let source_ok =
            spec["source"] == CATALOG && spec["sourceNamespace"].as_str().unwrap_or(NS) == NS;
        let pkg_name = spec["name"].as_str().unwrap_or_default();
        let pkg = package(pkg_name);
        let channel = spec["channel"]
            .as_str()
            .or(pkg.and_then(|p| p["defaultChannel"].as_str()))
            .unwrap_or_default();
        let head = pkg.and_then(|p| {
            p["channels"]
                .as_array()?
                .iter()
                .find(|c| c["name"] == channel)?
                .get("currentCSV")?
                .as_str()
        });
        let has_group = !api
            .store
            .list(&key(GROUP, "operatorgroups"), Some(ns))
            .0
            .is_empty();
        let failure = if !source_ok {
            Some(format!(
                "the oplab sandbox simulates only the catalog {NS}/{CATALOG}; source {}/{} is not available offline",
                spec["sourceNamespace"].as_str().unwrap_or(ns),
                spec["source"].as_str().unwrap_or("")
            ))
        } else if head.is_none() {
            Some(format!(
                "constraints not satisfiable: no operators found in package {pkg_name} in the catalog referenced by subscription {} (channel {channel}); the sandbox's offline catalog has: {}",
                sub["metadata"]["name"].as_str().unwrap_or(""),
                catalog()["packages"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["name"].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else if !has_group {
            Some(format!(
                "no OperatorGroup in namespace {ns}: OLM installs nothing there until one exists"
            ))
        } else {
            None
        };
        if let Some(msg) = failure {
            if status["conditions"][0]["message"].as_str() != Some(&msg) {
                set_status(
                    api,
                    "subscriptions",
                    sub,
                    json!({
                        "state": "",
                        "lastUpdated": now,
                        "catalogHealth": health,
                        "conditions": [{"type": "ResolutionFailed", "status": "True", "reason": "ConstraintsNotSatisfiable", "message": msg, "lastTransitionTime": now}],
                    }),
                );
                event(
                    api,
                    sub,
                    "Warning",
                    "ResolutionFailed",
                    &msg,
                    "catalog-operator",
                );
            }
            return;
        }
        let csv = head.unwrap_or_default();
        let manual = spec["installPlanApproval"] == "Manual";
        let Some(ip) = create_install_plan(api, sub, csv, manual) else {
            return;
        };
        let ip_name = ip["metadata"]["name"].as_str().unwrap_or_default();
        let phase = if manual {
            "RequiresApproval"
        } else {
            "Installing"
        };
        set_status(
            api,
            "subscriptions",
            sub,
            json!({
                "state": "UpgradePending",
                "currentCSV": csv,
                "installPlanGeneration": 1,
                "installPlanRef": {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "InstallPlan", "name": ip_name, "namespace": ns, "uid": ip["metadata"]["uid"], "resourceVersion": ip["metadata"]["resourceVersion"]},
                "installplan": {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "InstallPlan", "name": ip_name, "uuid": ip["metadata"]["uid"]},
                "lastUpdated": now,
                "catalogHealth": health,
                "conditions": [{"type": "InstallPlanPending", "status": "True", "reason": phase, "lastTransitionTime": now}],
            }),
        );
        event(
            api,
            sub,
            "Normal",
            "InstallPlanCreated",
            &format!(
                "InstallPlan {ip_name} created for {csv}{}",
                if manual {
                    "; it waits for approval (spec.approved: true)"
                } else {
                    ""
                }
            ),
            "catalog-operator",
        );
        return;
    }
    // Follow the plan and the CSV.
    let ip_name = status["installPlanRef"]["name"]
        .as_str()
        .unwrap_or_default();
    let Some(ip) = api.store.get(&key(GROUP, "installplans"), ns, ip_name) else {
        return;
    };
    let current = status["currentCSV"].as_str().unwrap_or_default();
    let csv_phase = api
        .store
        .get(&key(GROUP, "clusterserviceversions"), ns, current)
        .map(|c| c["status"]["phase"].clone())
        .unwrap_or(Value::Null);
    let mut new = status.clone();
    if csv_phase == "Succeeded" {
        new["state"] = json!("AtLatestKnown");
        new["installedCSV"] = json!(current);
        new["conditions"] = json!([]);
    } else {
        let phase = ip["status"]["phase"].as_str().unwrap_or("Installing");
        if phase == "Complete" {
            new["conditions"] = json!([]);
        } else if new["conditions"][0]["reason"].as_str() != Some(phase) {
            new["conditions"] = json!([{"type": "InstallPlanPending", "status": "True", "reason": phase, "lastTransitionTime": now}]);
        }
    }
    new["installPlanRef"]["resourceVersion"] = ip["metadata"]["resourceVersion"].clone();
    if new != *status {
        new["lastUpdated"] = json!(now);
        let done = new["state"] == "AtLatestKnown" && status["state"] != "AtLatestKnown";
        set_status(api, "subscriptions", sub, new);
        if done {
            event(
                api,
                sub,
                "Normal",
                "AtLatestKnown",
                &format!("{current} is installed and is the latest in its channel"),
                "catalog-operator",
            );
        }
    }
}

fn step(
    resolving: &str,
    kind: &str,
    group: &str,
    version: &str,
    name: &str,
    manifest: &Value,
) -> Value {
    json!({
        "resolving": resolving,
        "resource": {"group": group, "version": version, "kind": kind, "name": name, "sourceName": CATALOG, "sourceNamespace": NS, "manifest": manifest.to_string()},
        "status": "Unknown",
    })
}

fn csv_manifest(entry: &Value, ns: &str) -> Value {
    let sa = entry["serviceAccount"].as_str().unwrap_or("default");
    let deployments: Vec<Value> = entry["deployments"].as_array().into_iter().flatten().map(|d| {
        json!({"name": d["name"], "spec": {
            "replicas": 1,
            "selector": {"matchLabels": d["labels"]},
            "template": {"metadata": {"labels": d["labels"]}, "spec": {
                "serviceAccountName": sa,
                "containers": [{"name": d["name"], "image": d["image"], "args": d["args"],
                    "env": [{"name": "NAMESPACES", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['olm.targetNamespaces']"}}}]}],
            }},
        }})
    }).collect();
    let owned: Vec<Value> = entry["crds"].as_array().into_iter().flatten().map(|c| {
        json!({"name": c["name"], "kind": c["kind"], "version": c["version"], "displayName": c["kind"]})
    }).collect();
    let modes: Vec<Value> = ["OwnNamespace", "SingleNamespace", "MultiNamespace", "AllNamespaces"].iter().map(|m| {
        json!({"type": m, "supported": entry["installModes"].as_array().is_some_and(|a| a.iter().any(|x| x == m))})
    }).collect();
    json!({
        "apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
        "metadata": {"name": entry["name"], "namespace": ns, "annotations": simulated_meta()},
        "spec": {
            "displayName": entry["displayName"], "version": entry["version"], "replaces": entry["replaces"],
            "description": entry["description"], "provider": {"name": "OperatorHub.io community"},
            "installModes": modes,
            "customresourcedefinitions": {"owned": owned},
            "install": {"strategy": "deployment", "spec": {"deployments": deployments, "permissions": [{"serviceAccountName": sa, "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}]}},
        },
    })
}

fn crd_manifest(c: &Value) -> Value {
    let name = c["name"].as_str().unwrap_or_default();
    let plural = c["plural"].as_str().unwrap_or_default();
    let group = name.strip_prefix(&format!("{plural}.")).unwrap_or_default();
    let kind = c["kind"].as_str().unwrap_or_default();
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": name, "annotations": simulated_meta()},
        "spec": {
            "group": group, "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.to_lowercase(), "kind": kind, "listKind": format!("{kind}List")},
            "versions": [{"name": c["version"], "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                "subresources": {"status": {}}}],
        },
    })
}

fn create_install_plan(api: &Api, sub: &Value, csv: &str, manual: bool) -> Option<Value> {
    let ns = sub["metadata"]["namespace"].as_str().unwrap_or_default();
    let entry = csv_entry(csv)?;
    let rt = api.registry().get(GROUP, "v1alpha1", "installplans")?;
    let mut steps = Vec::new();
    for c in entry["crds"].as_array().into_iter().flatten() {
        let m = crd_manifest(c);
        steps.push(step(
            csv,
            "CustomResourceDefinition",
            "apiextensions.k8s.io",
            "v1",
            c["name"].as_str().unwrap_or(""),
            &m,
        ));
    }
    let sa = entry["serviceAccount"].as_str().unwrap_or("default");
    steps.push(step(csv, "ServiceAccount", "", "v1", sa, &json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns}})));
    steps.push(step(
        csv,
        "ClusterServiceVersion",
        GROUP,
        "v1alpha1",
        csv,
        &csv_manifest(entry, ns),
    ));
    let ip = json!({
        "apiVersion": "operators.coreos.com/v1alpha1", "kind": "InstallPlan",
        "metadata": {"generateName": "install-", "namespace": ns, "annotations": simulated_meta(),
            "ownerReferences": [{"apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription", "name": sub["metadata"]["name"], "uid": sub["metadata"]["uid"], "controller": false, "blockOwnerDeletion": false}]},
        "spec": {"clusterServiceVersionNames": [csv], "approval": if manual { "Manual" } else { "Automatic" }, "approved": !manual, "generation": 1},
    });
    let created = api
        .create(&rt, ns, ip, &WriteOpts::internal("catalog-operator"))
        .ok()?
        .object;
    let now = meta::now_rfc3339();
    set_status(
        api,
        "installplans",
        &created,
        json!({
            "phase": if manual { "RequiresApproval" } else { "Installing" },
            "catalogSources": [CATALOG],
            "plan": steps,
            "bundleLookups": [],
            "startTime": now,
            "conditions": [{"type": "Installed", "status": "False", "reason": if manual { "RequiresApproval" } else { "Installing" }, "lastTransitionTime": now, "lastUpdateTime": now}],
        }),
    );
    api.store
        .get(
            &key(GROUP, "installplans"),
            ns,
            created["metadata"]["name"].as_str()?,
        )
        .map(|v| (*v).clone())
}

/// The catalog-operator carrying out an InstallPlan.
fn install_plan(api: &Api, ip: &Value) {
    if !ip["metadata"]["annotations"][ANNOTATION].is_string() {
        return;
    }
    let ns = ip["metadata"]["namespace"].as_str().unwrap_or_default();
    let phase = ip["status"]["phase"].as_str().unwrap_or_default();
    let approved = ip["spec"]["approved"] == true;
    let now = meta::now_rfc3339();
    match phase {
        "RequiresApproval" if approved => {
            let mut st = ip["status"].clone();
            st["phase"] = json!("Installing");
            st["conditions"] = json!([{"type": "Installed", "status": "False", "reason": "Installing", "lastTransitionTime": now, "lastUpdateTime": now}]);
            set_status(api, "installplans", ip, st);
            event(
                api,
                ip,
                "Normal",
                "Approved",
                "InstallPlan approved; installing its steps",
                "catalog-operator",
            );
        }
        "Installing" => {
            let mut st = ip["status"].clone();
            let mut failed = None;
            for s in st["plan"].as_array_mut().into_iter().flatten() {
                if s["status"] == "Created" || s["status"] == "Present" {
                    continue;
                }
                let manifest: Value = s["resource"]["manifest"]
                    .as_str()
                    .and_then(|m| serde_json::from_str(m).ok())
                    .unwrap_or(Value::Null);
                match create_step(api, ns, ip, &manifest) {
                    Ok(present) => s["status"] = json!(if present { "Present" } else { "Created" }),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            if let Some(e) = failed {
                tracing::debug!("olm ({SIMULATED}): install plan step in {ns}: {e}");
                set_status(api, "installplans", ip, st);
                return;
            }
            st["phase"] = json!("Complete");
            st["completionTime"] = json!(now);
            st["conditions"] = json!([{"type": "Installed", "status": "True", "lastTransitionTime": now, "lastUpdateTime": now}]);
            set_status(api, "installplans", ip, st);
            event(
                api,
                ip,
                "Normal",
                "Complete",
                "InstallPlan complete: every step created",
                "catalog-operator",
            );
        }
        _ => {}
    }
}

/// Creates one step's object; Ok(true) when it was there already.
fn create_step(api: &Api, ns: &str, ip: &Value, manifest: &Value) -> Result<bool, String> {
    let api_version = manifest["apiVersion"].as_str().unwrap_or_default();
    let kind = manifest["kind"].as_str().unwrap_or_default();
    let rt = api
        .registry()
        .by_kind(api_version, kind)
        .ok_or_else(|| format!("{api_version} {kind} is not served"))?;
    let mut obj = manifest.clone();
    if rt.namespaced {
        obj["metadata"]["namespace"] = json!(ns);
        if kind == "ClusterServiceVersion" {
            obj["metadata"]["labels"]["operators.coreos.com/installplan"] =
                ip["metadata"]["name"].clone();
        }
    }
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let target_ns = if rt.namespaced { ns } else { "" };
    if api.store.get(&rt.storage_key(), target_ns, &name).is_some() {
        return Ok(true);
    }
    api.create(
        &rt,
        target_ns,
        obj,
        &WriteOpts::internal("catalog-operator"),
    )
    .map(|_| false)
    .map_err(|e| format!("{e:?}"))
}

fn phase_status(old: &Value, phase: &str, reason: &str, message: &str) -> Value {
    let now = meta::now_rfc3339();
    let mut conditions = old["conditions"].as_array().cloned().unwrap_or_default();
    conditions.push(json!({"phase": phase, "reason": reason, "message": message, "lastTransitionTime": now, "lastUpdateTime": now}));
    let mut st = old.clone();
    st["phase"] = json!(phase);
    st["reason"] = json!(reason);
    st["message"] = json!(message);
    st["lastTransitionTime"] = json!(now);
    st["lastUpdateTime"] = json!(now);
    st["conditions"] = json!(conditions);
    st
}

/// The olm-operator carrying out a ClusterServiceVersion.
fn cluster_service_version(api: &Api, csv: &Value) {
    let ns = csv["metadata"]["namespace"].as_str().unwrap_or_default();
    let status = &csv["status"];
    let owned: Vec<&Value> = csv["spec"]["customresourcedefinitions"]["owned"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    match status["phase"].as_str() {
        None => {
            set_status(
                api,
                "clusterserviceversions",
                csv,
                phase_status(
                    status,
                    "Pending",
                    "RequirementsUnknown",
                    "requirements not yet checked",
                ),
            );
        }
        Some("Pending") => {
            let mut req = Vec::new();
            let mut all = true;
            for o in &owned {
                let name = o["name"].as_str().unwrap_or_default();
                let ok = api
                    .store
                    .get(
                        &key("apiextensions.k8s.io", "customresourcedefinitions"),
                        "",
                        name,
                    )
                    .is_some_and(|c| {
                        c["status"]["conditions"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|c| c["type"] == "Established" && c["status"] == "True")
                    });
                all &= ok;
                req.push(json!({"group": "apiextensions.k8s.io", "version": "v1", "kind": "CustomResourceDefinition", "name": name,
                    "status": if ok { "Present" } else { "NotPresent" }, "message": if ok { "CRD is present and Established condition is true" } else { "CRD is not present" }}));
            }
            if all {
                let mut st = phase_status(
                    status,
                    "InstallReady",
                    "AllRequirementsMet",
                    "all requirements found, attempting install",
                );
                st["requirementStatus"] = json!(req);
                set_status(api, "clusterserviceversions", csv, st);
            }
        }
        Some("InstallReady") => {
            create_deployments(api, csv);
            set_status(
                api,
                "clusterserviceversions",
                csv,
                phase_status(
                    status,
                    "Installing",
                    "InstallSucceeded",
                    "waiting for install components to report healthy",
                ),
            );
            event(
                api,
                csv,
                "Normal",
                "InstallSucceeded",
                "waiting for install components to report healthy",
                "olm-operator",
            );
        }
        Some("Installing") => {
            let all_up = csv["spec"]["install"]["spec"]["deployments"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|d| {
                    let name = d["name"].as_str().unwrap_or_default();
                    api.store
                        .get(&key("apps", "deployments"), ns, name)
                        .is_some_and(|dep| {
                            let want = dep["spec"]["replicas"].as_i64().unwrap_or(1);
                            dep["status"]["availableReplicas"].as_i64().unwrap_or(0) >= want
                        })
                });
            if all_up {
                set_status(
                    api,
                    "clusterserviceversions",
                    csv,
                    phase_status(
                        status,
                        "Succeeded",
                        "InstallSucceeded",
                        "install strategy completed with no errors",
                    ),
                );
                event(
                    api,
                    csv,
                    "Normal",
                    "InstallSucceeded",
                    "install strategy completed with no errors",
                    "olm-operator",
                );
            }
        }
        _ => {}
    }
}

fn create_deployments(api: &Api, csv: &Value) {
    let ns = csv["metadata"]["namespace"].as_str().unwrap_or_default();
    let Some(rt) = api.registry().get("apps", "v1", "deployments") else {
        return;
    };
    let targets = api
        .store
        .list(&key(GROUP, "operatorgroups"), Some(ns))
        .0
        .first()
        .map(|g| {
            g["spec"]["targetNamespaces"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default()
        })
        .unwrap_or_default();
    for d in csv["spec"]["install"]["spec"]["deployments"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = d["name"].as_str().unwrap_or_default();
        if api
            .store
            .get(&key("apps", "deployments"), ns, name)
            .is_some()
        {
            continue;
        }
        let mut spec = d["spec"].clone();
        spec["template"]["metadata"]["annotations"]["olm.targetNamespaces"] = json!(targets);
        spec["template"]["metadata"]["annotations"]["olm.operatorGroup"] = json!("");
        let mut owner = owner_ref(csv);
        owner["blockOwnerDeletion"] = json!(false);
        let dep = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "annotations": simulated_meta(),
                "labels": {"olm.owner": csv["metadata"]["name"], "olm.owner.kind": "ClusterServiceVersion", "olm.owner.namespace": ns},
                "ownerReferences": [owner]},
            "spec": spec,
        });
        let _ = api.create(&rt, ns, dep, &WriteOpts::internal("olm-operator"));
    }
    let _ = w::is_deleting(csv);
}

/// Serves `packages.operators.coreos.com/v1` PackageManifests (as the packageserver does) from the catalog.
fn serve_packages(api: &Api) {
    if api
        .registry()
        .get(PACKAGES_GROUP, "v1", "packagemanifests")
        .is_none()
    {
        let crd = json!({
            "metadata": {"name": "packagemanifests.packages.operators.coreos.com"},
            "spec": {"group": PACKAGES_GROUP, "scope": "Namespaced",
                "names": {"plural": "packagemanifests", "singular": "packagemanifest", "kind": "PackageManifest", "listKind": "PackageManifestList"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                    "additionalPrinterColumns": [
                        {"name": "Catalog", "type": "string", "jsonPath": ".status.catalogSourceDisplayName"},
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]}]},
            "status": {"acceptedNames": {"plural": "packagemanifests", "singular": "packagemanifest", "kind": "PackageManifest", "listKind": "PackageManifestList"}},
        });
        crate::sandbox::kinds::crd::serve(&api.served, &crd);
    }
    let Some(rt) = api.registry().get(PACKAGES_GROUP, "v1", "packagemanifests") else {
        return;
    };
    for p in catalog()["packages"].as_array().into_iter().flatten() {
        let name = p["name"].as_str().unwrap_or_default();
        if api.store.get(&rt.storage_key(), NS, name).is_some() {
            continue;
        }
        let channels: Vec<Value> = p["channels"].as_array().into_iter().flatten().map(|c| {
            let csv = csv_entry(c["currentCSV"].as_str().unwrap_or("")).cloned().unwrap_or(Value::Null);
            json!({"name": c["name"], "currentCSV": c["currentCSV"], "currentCSVDesc": {"displayName": csv["displayName"], "version": csv["version"], "description": csv["description"]}})
        }).collect();
        // A label value may hold only [A-Za-z0-9-_.] (the API server validates it): "OperatorHub.io community"
        // becomes "OperatorHub.io-community".
        let provider: String = p["provider"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .take(63)
            .collect::<String>()
            .trim_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_string();
        let pm = json!({
            "apiVersion": "packages.operators.coreos.com/v1", "kind": "PackageManifest",
            "metadata": {"name": name, "namespace": NS, "labels": {"catalog": CATALOG, "catalog-namespace": NS, "provider": provider}, "annotations": simulated_meta()},
            "spec": {},
            "status": {"catalogSource": CATALOG, "catalogSourceDisplayName": "Community Operators", "catalogSourcePublisher": "OperatorHub.io", "catalogSourceNamespace": NS,
                "packageName": name, "defaultChannel": p["defaultChannel"], "channels": channels, "provider": {"name": p["provider"]}},
        });
        let _ = api.create(&rt, NS, pm, &WriteOpts::internal("packageserver"));
    }
}
