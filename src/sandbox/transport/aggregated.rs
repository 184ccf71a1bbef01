//! Aggregated discovery (`apidiscovery.k8s.io/v2`, and `v2beta1` for kubectl 1.27-1.29): `/api` and `/apis`
//! answer one APIGroupDiscoveryList when the client's Accept asks for it, in the version it listed
//! (staging/src/k8s.io/apiserver/pkg/endpoints/discovery/aggregated/handler.go). Built from the same
//! per-group-version documents as the unaggregated discovery.

use crate::sandbox::kinds::registry::Registry;
use crate::sandbox::transport::discovery;
use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

/// The discovery version the client asked for first, if it asked for aggregated discovery before
/// anything the plain documents satisfy.
pub fn negotiate(headers: &HeaderMap) -> Option<&'static str> {
    let accept = headers.get(header::ACCEPT)?.to_str().ok()?;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        let params: Vec<(&str, &str)> = parts.filter_map(|p| p.split_once('=')).collect();
        let get = |k: &str| params.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        if get("g") == Some("apidiscovery.k8s.io") && get("as") == Some("APIGroupDiscoveryList") {
            if media != "application/json" {
                continue;
            }
            match get("v") {
                Some("v2") => return Some("v2"),
                Some("v2beta1") => return Some("v2beta1"),
                _ => continue,
            }
        }
        if matches!(
            media,
            "application/json" | "*/*" | "application/*" | "application/yaml"
        ) {
            return None;
        }
    }
    None
}

/// The Content-Type of an aggregated reply.
pub fn content_type(version: &str) -> String {
    format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList")
}

fn version_doc(resource_list: &Value, group: &str, version: &str) -> Value {
    let mut resources: Vec<Value> = Vec::new();
    let entries = resource_list["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for e in &entries {
        let name = e["name"].as_str().unwrap_or_default();
        if name.contains('/') {
            continue;
        }
        let mut r = json!({
            "resource": name,
            "responseKind": {"group": group, "version": version, "kind": e["kind"]},
            "scope": if e["namespaced"] == true { "Namespaced" } else { "Cluster" },
            "singularResource": e["singularName"],
            "verbs": e["verbs"],
        });
        for k in ["shortNames", "categories"] {
            if e[k].is_array() {
                r[k] = e[k].clone();
            }
        }
        let subs: Vec<Value> = entries
            .iter()
            .filter_map(|s| {
                let full = s["name"].as_str()?;
                let (parent, sub) = full.split_once('/')?;
                (parent == name).then(|| {
                    json!({
                        "subresource": sub,
                        "responseKind": {
                            "group": s["group"].as_str().unwrap_or(group),
                            "version": s["version"].as_str().unwrap_or(version),
                            "kind": s["kind"],
                        },
                        "verbs": s["verbs"],
                    })
                })
            })
            .collect();
        if !subs.is_empty() {
            r["subresources"] = json!(subs);
        }
        resources.push(r);
    }
    json!({"version": version, "resources": resources, "freshness": "Current"})
}

fn group_doc(reg: &Registry, group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .filter_map(|v| {
            discovery::resource_list(reg, group, v).map(|list| version_doc(&list, group, v))
        })
        .collect();
    let mut meta = json!({"creationTimestamp": null});
    if !group.is_empty() {
        meta["name"] = json!(group);
    }
    json!({"metadata": meta, "versions": versions})
}

/// `/api` (core = true) or `/apis` as an APIGroupDiscoveryList of `version`.
pub fn document(reg: &Registry, core: bool, version: &str) -> Value {
    let items: Vec<Value> = if core {
        vec![group_doc(reg, "", &["v1".to_string()])]
    } else {
        discovery::api_group_list(reg)["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|g| {
                let name = g["name"].as_str().unwrap_or_default();
                let versions: Vec<String> = g["versions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v["version"].as_str().map(String::from))
                    .collect();
                group_doc(reg, name, &versions)
            })
            .collect()
    };
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    })
}
