//! The Service: defaults, its cluster IP, NodePorts from the allocator, and a LoadBalancer's status.

use crate::sandbox::kinds::defaults::set_default;
use crate::sandbox::kinds::registry::ResourceType;
use crate::sandbox::kinds::{Ctx, Strategy, validation};
use crate::sandbox::schema::{ErrorKind, FieldError};
use crate::sandbox::status::ApiError;
use serde_json::{Value, json};

/// The Service strategy.
#[derive(Debug)]
pub struct Service;

pub static SERVICE: Service = Service;

impl Strategy for Service {
    fn defaults(&self, _rt: &ResourceType, obj: &mut Value) {
        let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
            return;
        };
        set_default(spec, "type", json!("ClusterIP"));
        set_default(spec, "sessionAffinity", json!("None"));
        set_default(spec, "internalTrafficPolicy", json!("Cluster"));
        set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
        set_default(spec, "ipFamilies", json!(["IPv4"]));
        if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
            for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                set_default(p, "protocol", json!("TCP"));
                if let Some(port) = p.get("port").cloned() {
                    set_default(p, "targetPort", port);
                }
            }
        }
    }

    /// Valid ports and cluster IPs that never change once set (pkg/apis/core/validation/validation.go
    /// `ValidateService`, `ValidateServiceUpdate`).
    fn validate(&self, _rt: &ResourceType, old: Option<&Value>, obj: &Value) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let spec = &obj["spec"];
        for (i, p) in spec["ports"].as_array().into_iter().flatten().enumerate() {
            let at = format!("spec.ports[{i}]");
            validation::port(&p["port"], &format!("{at}.port"), &mut errs);
            if p["targetPort"].is_number() {
                validation::port(&p["targetPort"], &format!("{at}.targetPort"), &mut errs);
            }
        }
        if let Some(old) = old {
            let before = old["spec"]["clusterIP"].as_str().unwrap_or_default();
            let after = spec["clusterIP"].as_str().unwrap_or_default();
            // Omitted is carried over from the old object; a different address is refused.
            let changed_ip = !before.is_empty() && !after.is_empty() && before != after;
            let changed_ips = !old["spec"]["clusterIPs"].is_null()
                && spec["clusterIPs"].is_array()
                && spec["clusterIPs"] != old["spec"]["clusterIPs"];
            if changed_ip || changed_ips {
                let value = if changed_ips {
                    spec["clusterIPs"].clone()
                } else {
                    json!([after])
                };
                errs.push(FieldError::invalid(
                    "spec.clusterIPs[0]",
                    value,
                    "may not change once set",
                ));
            }
        }
        errs
    }

    fn prepare_create(
        &self,
        ctx: Ctx<'_>,
        rt: &ResourceType,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        // Every Service carries status.loadBalancer (empty unless a load balancer is provisioned).
        obj["status"]["loadBalancer"] = json!({});
        let spec = &mut obj["spec"];
        let ty = spec["type"].as_str().unwrap_or("ClusterIP").to_string();
        if ty != "ExternalName" && spec["clusterIP"].as_str().is_none_or(str::is_empty) {
            let ip = ctx.services.ips.allocate(true);
            spec["clusterIP"] = json!(ip);
            spec["clusterIPs"] = json!([ip]);
        } else if let Some(ip) = spec["clusterIP"].as_str().map(String::from) {
            spec["clusterIPs"] = json!([ip]);
        }
        node_ports(ctx, rt, None, obj)?;
        if ty == "LoadBalancer" {
            obj["status"] = json!({"loadBalancer": {}});
        }
        Ok(())
    }

    fn prepare_update(
        &self,
        ctx: Ctx<'_>,
        rt: &ResourceType,
        current: &Value,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        for key in ["clusterIP", "clusterIPs"] {
            if obj["spec"][key].is_null() && !current["spec"][key].is_null() {
                obj["spec"][key] = current["spec"][key].clone();
            }
        }
        if !obj["status"]["loadBalancer"].is_object() {
            obj["status"]["loadBalancer"] = json!({});
        }
        node_ports(ctx, rt, Some(current), obj)
    }

    fn release(&self, ctx: Ctx<'_>, obj: &Value) {
        ctx.services.node_ports.release(ports_of(obj));
    }
}

/// The NodePorts a Service holds.
pub fn ports_of(svc: &Value) -> Vec<i64> {
    svc["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["nodePort"].as_i64())
        .collect()
}

/// Gives each port of a NodePort or LoadBalancer Service its NodePort: the one asked for, the one it had
/// (an update that leaves it out keeps it), or a free one. Ports no longer held go back on the next
/// write's commit (see `release`).
fn node_ports(
    ctx: Ctx<'_>,
    rt: &ResourceType,
    current: Option<&Value>,
    obj: &mut Value,
) -> Result<(), ApiError> {
    let ty = obj["spec"]["type"].as_str().unwrap_or("ClusterIP");
    if ty != "NodePort" && ty != "LoadBalancer" {
        return Ok(());
    }
    let held = current.map(ports_of).unwrap_or_default();
    let old_ports: Vec<Value> = current
        .and_then(|c| c["spec"]["ports"].as_array().cloned())
        .unwrap_or_default();
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let pool = &ctx.services.node_ports;
    let mut errors = Vec::new();
    let mut taken = Vec::new();
    for (i, p) in obj["spec"]["ports"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let same = |o: &&Value| o["port"] == p["port"] && o["protocol"] == p["protocol"];
        match p["nodePort"].as_i64() {
            Some(n) if held.contains(&n) => {}
            Some(n) => match pool.reserve(n, ctx.dry_run) {
                Ok(_) => taken.push(n),
                Err(e) => errors.push(FieldError {
                    path: format!("spec.ports[{i}].nodePort"),
                    kind: ErrorKind::Invalid {
                        value: json!(n),
                        detail: e.to_string(),
                    },
                }),
            },
            None => {
                if let Some(kept) = old_ports
                    .iter()
                    .find(same)
                    .and_then(|o| o["nodePort"].as_i64())
                {
                    p["nodePort"] = json!(kept);
                    continue;
                }
                match pool.allocate(ctx.dry_run) {
                    Ok(n) => {
                        taken.push(i64::from(n));
                        p["nodePort"] = json!(n);
                    }
                    Err(e) => errors.push(FieldError {
                        path: format!("spec.ports[{i}].nodePort"),
                        kind: ErrorKind::Invalid {
                            value: json!(null),
                            detail: e.to_string(),
                        },
                    }),
                }
            }
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    if !ctx.dry_run {
        pool.release(taken);
    }
    Err(rt.invalid(&name, &errors))
}
