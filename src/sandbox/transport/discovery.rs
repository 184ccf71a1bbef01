//! Discovery documents: /version, /api, /apis, /api/v1 and /apis/<group>/<version> (plain JSON, every client falls back to it).

use crate::sandbox::auth::reviews;
use crate::sandbox::kinds::registry::{Registry, ResourceType};
use serde_json::{Value, json};

// The Kubernetes minor the sandbox serves and reports is the one k8s-openapi is built for: the `v1_NN`
// feature of k8s-openapi in Cargo.toml is the one place to change it.
k8s_openapi::k8s_if_1_35! { macro_rules! minor { () => { "35" }; } }
k8s_openapi::k8s_if_1_36! { macro_rules! minor { () => { "36" }; } }
k8s_openapi::k8s_if_1_37! { macro_rules! minor { () => { "37" }; } }
k8s_openapi::k8s_if_le_1_34! { compile_error!("the sandbox serves Kubernetes 1.35 or newer: enable k8s-openapi's v1_35 (or newer) feature"); }

/// The Kubernetes version the sandbox reports.
pub const MAJOR: &str = "1";
pub const MINOR: &str = minor!();
pub const GIT_VERSION: &str = concat!("v1.", minor!(), ".0+oplab-sandbox");

pub fn version() -> Value {
    json!({
        "major": MAJOR,
        "minor": MINOR,
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.25.3",
        "compiler": "gc",
        "platform": format!("{}/{}", std::env::consts::OS, if cfg!(target_arch = "x86_64") { "amd64" } else { std::env::consts::ARCH }),
        "emulationMajor": MAJOR,
        "emulationMinor": MINOR,
    })
}

pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_doc(reg: &Registry, group: &str, versions: &[&String]) -> Value {
    let gv = |v: &str| json!({"groupVersion": format!("{group}/{v}"), "version": v});
    let preferred = reg.preferred_version(group).unwrap_or_default();
    json!({
        "name": group,
        "versions": versions.iter().map(|v| gv(v)).collect::<Vec<_>>(),
        "preferredVersion": gv(preferred),
    })
}

pub fn api_group_list(reg: &Registry) -> Value {
    let groups: Vec<Value> = reg
        .groups()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, versions)| {
            let mut vs: Vec<&String> = versions.keys().collect();
            let pref = reg.preferred_version(g).unwrap_or_default().to_string();
            vs.sort_by_key(|v| **v != pref);
            group_doc(reg, g, &vs)
        })
        .collect();
    let mut groups = groups;
    for g in [reviews::AUTHN, reviews::AUTHZ] {
        if !groups.iter().any(|d| d["name"] == g) {
            groups.push(review_group_doc(g));
        }
    }
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// The group document of an access-review group (served beside the registry: its kinds are never stored).
fn review_group_doc(group: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/v1"), "version": "v1"});
    json!({"name": group, "versions": [gv], "preferredVersion": gv})
}

pub fn api_group(reg: &Registry, group: &str) -> Option<Value> {
    if reviews::is_review_group(group) && reg.groups().all(|(g, _)| g.as_str() != group) {
        let mut doc = review_group_doc(group);
        doc["kind"] = json!("APIGroup");
        doc["apiVersion"] = json!("v1");
        return Some(doc);
    }
    let (_, versions) = reg.groups().find(|(g, _)| g.as_str() == group)?;
    let vs: Vec<&String> = versions.keys().collect();
    let mut doc = group_doc(reg, group, &vs);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

/// Every verb of a resource, in kube-apiserver's order.
pub const RESOURCE_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn verbs(rt: &ResourceType) -> Vec<&'static str> {
    RESOURCE_VERBS
        .iter()
        .copied()
        .filter(|v| !(rt.kind == "Namespace" && *v == "deletecollection"))
        // ComponentStatus is read-only (pkg/registry/core/componentstatus/rest.go).
        .filter(|v| rt.kind != "ComponentStatus" || matches!(*v, "get" | "list"))
        .collect()
}

pub fn resource_list(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    if let Some(resources) = reviews::discovery_resources(group, version) {
        return Some(
            json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": format!("{group}/{version}"), "resources": resources}),
        );
    }
    if !reg.has_group_version(group, version) {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let mut resources = Vec::new();
    for rt in reg.resources(group, version) {
        let mut r = json!({
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": verbs(&rt),
        });
        if !rt.short_names.is_empty() {
            r["shortNames"] = json!(rt.short_names);
        }
        if !rt.categories.is_empty() {
            r["categories"] = json!(rt.categories);
        }
        if let Some(b) = rt.builtin
            && b.stored_as.is_none()
        {
            r["storageVersionHash"] =
                json!(format!("{:x}", hash(&format!("{}/{}", gv, rt.plural))));
        }
        resources.push(r);
        for sub in &rt.subresources {
            let (kind, group, version, sub_verbs): (&str, Option<&str>, Option<&str>, Vec<&str>) =
                match sub.as_str() {
                    "status" => (&rt.kind, None, None, vec!["get", "patch", "update"]),
                    "scale" => (
                        "Scale",
                        Some("autoscaling"),
                        Some("v1"),
                        vec!["get", "patch", "update"],
                    ),
                    "log" => ("Pod", None, None, vec!["get"]),
                    "exec" | "attach" | "portforward" => {
                        ("PodExecOptions", None, None, vec!["create", "get"])
                    }
                    "binding" => ("Binding", None, None, vec!["create"]),
                    "eviction" => ("Eviction", Some("policy"), Some("v1"), vec!["create"]),
                    "token" => (
                        "TokenRequest",
                        Some("authentication.k8s.io"),
                        Some("v1"),
                        vec!["create"],
                    ),
                    "finalize" => ("Namespace", None, None, vec!["update"]),
                    "approval" => (&rt.kind, None, None, vec!["get", "patch", "update"]),
                    "ephemeralcontainers" => ("Pod", None, None, vec!["get", "patch", "update"]),
                    _ => continue,
                };
            let mut s = json!({"name": format!("{}/{sub}", rt.plural), "singularName": "", "namespaced": rt.namespaced, "kind": kind, "verbs": sub_verbs});
            if let Some(g) = group {
                s["group"] = json!(g);
            }
            if let Some(v) = version {
                s["version"] = json!(v);
            }
            resources.push(s);
        }
    }
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

fn hash(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}
