//! Strict field validation of built-in kinds, derived from the k8s-openapi types.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Idx(usize),
}

fn render_path(segs: &[Seg], with_indices: bool) -> String {
    let mut out = String::new();
    for s in segs {
        match s {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Idx(i) => {
                if with_indices {
                    out.push_str(&format!("[{i}]"));
                }
            }
        }
    }
    out
}

/// Pretty-prints JSON with every member on its own line and remembers the path of each line,
/// so a decode error's line number tells which field it is about.
struct LinePrinter {
    out: String,
    lines: Vec<Vec<Seg>>,
    cur: Vec<Seg>,
}

impl LinePrinter {
    fn print(v: &Value) -> (String, Vec<Vec<Seg>>) {
        let mut p = LinePrinter {
            out: String::new(),
            lines: vec![Vec::new()],
            cur: Vec::new(),
        };
        p.value(v);
        (p.out, p.lines)
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.lines.push(self.cur.clone());
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Object(m) => {
                self.out.push('{');
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.cur.push(Seg::Key(k.clone()));
                    self.newline();
                    self.out.push_str(&Value::String(k.clone()).to_string());
                    self.out.push_str(": ");
                    self.value(x);
                    self.cur.pop();
                }
                self.newline();
                self.out.push('}');
            }
            Value::Array(a) => {
                self.out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.cur.push(Seg::Idx(i));
                    self.newline();
                    self.value(x);
                    self.cur.pop();
                }
                self.newline();
                self.out.push(']');
            }
            scalar => self.out.push_str(&scalar.to_string()),
        }
    }
}

fn navigate_mut<'a>(v: &'a mut Value, segs: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in segs {
        cur = match s {
            Seg::Key(k) => cur.get_mut(k.as_str())?,
            Seg::Idx(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

/// Go's name for what serde expected.
fn go_type(expected: &str) -> String {
    let e = expected.trim();
    match e {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" => {
            let signed = e.starts_with('i');
            let bits = &e[1..];
            if signed {
                format!("int{bits}")
            } else {
                format!("uint{bits}")
            }
        }
        "f32" | "f64" => format!("float{}", &e[1..]),
        "a string" | "string" => "string".into(),
        "a boolean" | "bool" => "bool".into(),
        "a sequence" | "a list" => "[]interface {}".into(),
        "a map" => "map[string]interface {}".into(),
        _ => e
            .strip_prefix("struct ")
            .map(|s| s.to_string())
            .unwrap_or_else(|| e.to_string()),
    }
}

/// Go's name for the JSON kind serde found.
fn json_kind(unexpected: &str) -> &'static str {
    let u = unexpected.trim();
    if u.starts_with("string") || u.starts_with("char") {
        "string"
    } else if u.starts_with("integer") || u.starts_with("floating point") {
        "number"
    } else if u.starts_with("boolean") {
        "bool"
    } else if u.starts_with("sequence") {
        "array"
    } else if u.starts_with("map") {
        "object"
    } else if u.starts_with("null") || u.starts_with("unit") {
        "null"
    } else {
        "value"
    }
}

/// Decodes `obj` as `T` and reports fields `T` does not have (paths like `spec.foo`).
/// `Err` carries a decode error (wrong type), reported by the server as 400 BadRequest, e.g.
/// `Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into
/// Go struct field Deployment.spec.replicas of type int32`.
/// Missing required fields are not decode errors (the real server reports them at validation).
pub fn unknown_fields<T>(obj: &Value) -> Result<Vec<String>, String>
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("object")
        .to_string();
    let version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(|v| v.rsplit('/').next().unwrap_or(v).to_string())
        .unwrap_or_default();
    let prefix = format!(
        "{kind} in version {} cannot be handled as a {kind}",
        super::go_quote(&version)
    );

    let mut work = obj.clone();
    // Placeholders tried for required fields the input lacks (the k8s-openapi types demand them).
    let placeholders = [
        Value::String(String::new()),
        Value::from(0),
        Value::Object(Default::default()),
        Value::Array(vec![]),
        Value::Bool(false),
    ];
    let mut tried: Vec<(Vec<Seg>, String, usize)> = Vec::new();
    let decoded: T = loop {
        let (text, lines) = LinePrinter::print(&work);
        match serde_json::from_str::<T>(&text) {
            Ok(t) => break t,
            Err(e) => {
                let line = e.line();
                let segs = lines
                    .get(line.saturating_sub(1))
                    .cloned()
                    .unwrap_or_default();
                let msg = e.to_string();
                let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                if let Some(field) = msg
                    .strip_prefix("missing field `")
                    .and_then(|r| r.strip_suffix('`'))
                {
                    if tried.len() > 500 {
                        return Err(format!("{prefix}: {msg}"));
                    }
                    tried.push((segs.clone(), field.to_string(), 0));
                    if let Some(Value::Object(m)) = navigate_mut(&mut work, &segs) {
                        m.insert(field.to_string(), placeholders[0].clone());
                        continue;
                    }
                    return Err(format!("{prefix}: {msg}"));
                }
                // a placeholder of the wrong type: try the next one
                if let Some((Seg::Key(last), parent)) =
                    segs.split_last().map(|(l, p)| (l.clone(), p.to_vec()))
                    && let Some(entry) = tried
                        .iter_mut()
                        .find(|(p, f, _)| *p == parent && *f == last)
                    && entry.2 + 1 < placeholders.len()
                {
                    entry.2 += 1;
                    let next = placeholders[entry.2].clone();
                    if let Some(Value::Object(m)) = navigate_mut(&mut work, &parent) {
                        m.insert(last, next);
                        continue;
                    }
                }
                let path = render_path(&segs, false);
                if let Some(rest) = msg.strip_prefix("invalid type: ")
                    && let Some((unexp, exp)) = rest.split_once(", expected ")
                {
                    return Err(format!(
                        "{prefix}: json: cannot unmarshal {} into Go struct field {kind}.{path} of type {}",
                        json_kind(unexp),
                        go_type(exp)
                    ));
                }
                let at = render_path(&segs, true);
                return Err(if at.is_empty() {
                    format!("{prefix}: {msg}")
                } else {
                    format!("{prefix}: {at}: {msg}")
                });
            }
        }
    };
    let known = serde_json::to_value(&decoded).map_err(|e| format!("{prefix}: {e}"))?;
    let mut out = Vec::new();
    compare(obj, &known, &mut Vec::new(), &mut out);
    Ok(out)
}

fn compare(input: &Value, known: &Value, path: &mut Vec<Seg>, out: &mut Vec<String>) {
    match (input, known) {
        (Value::Object(im), Value::Object(km)) => {
            for (k, iv) in im {
                if iv.is_null() {
                    continue;
                }
                path.push(Seg::Key(k.clone()));
                match km.get(k) {
                    None => out.push(render_path(path, true)),
                    Some(kv) => compare(iv, kv, path, out),
                }
                path.pop();
            }
        }
        (Value::Array(ia), Value::Array(ka)) => {
            for (i, (iv, kv)) in ia.iter().zip(ka).enumerate() {
                path.push(Seg::Idx(i));
                compare(iv, kv, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::coordination::v1::Lease;
    use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
    use k8s_openapi::api::rbac::v1::Role;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use serde_json::json;

    #[test]
    fn deployment_typo_deep_inside() {
        let d = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {},
                "managedFields": [{"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
            "spec": {
                "replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                    {"name": "c", "image": "nginx", "imagePullPolicyy": "Always",
                     "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}},
                     "ports": [{"containerPort": 80, "protocl": "TCP"}], "env": []}
                ], "nodeSelector": null}}
            },
            "status": {"replicas": 2, "conditions": []},
            "extra": {"a": 1}
        });
        assert_eq!(
            unknown_fields::<Deployment>(&d).unwrap(),
            [
                "spec.template.spec.containers[0].imagePullPolicyy",
                "spec.template.spec.containers[0].ports[0].protocl",
                "extra"
            ]
        );
    }

    #[test]
    fn pods_services_configmaps_roles_leases() {
        let p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["sh"],
                "livenessProbe": {"httpGet": {"port": "http", "path": "/"}}}], "restartPolicy": "Never"},
            "status": {"phase": "Running", "podIP": "10.0.0.1"}});
        assert!(unknown_fields::<Pod>(&p).unwrap().is_empty());
        let s = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"selector": {"app": "x"}, "ports": [{"port": 80, "targetPort": 8080}], "tpye": "ClusterIP"}});
        assert_eq!(unknown_fields::<Service>(&s).unwrap(), ["spec.tpye"]);
        let c = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}, "dat": {"a": "b"}});
        assert_eq!(unknown_fields::<ConfigMap>(&c).unwrap(), ["dat"]);
        let r = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], "verb": ["list"]}]});
        assert_eq!(unknown_fields::<Role>(&r).unwrap(), ["rules[0].verb"]);
        let l = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l"},
            "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15, "renewTime": "2024-05-01T10:00:00.000000Z"}});
        assert!(unknown_fields::<Lease>(&l).unwrap().is_empty());
    }

    #[test]
    fn missing_required_fields_are_not_decode_errors() {
        // containers[0].name and image absent; ports[0].containerPort absent
        let p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"ports": [{"name": "x"}], "imagee": "x"}]}});
        assert_eq!(
            unknown_fields::<Pod>(&p).unwrap(),
            ["spec.containers[0].imagee"]
        );
        let r = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"},
            "rules": [{}]});
        assert!(unknown_fields::<Role>(&r).unwrap().is_empty());
    }

    #[test]
    fn crd_schemas_are_known() {
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "crontabs.stable.example.com"},
            "spec": {"group": "stable.example.com", "scope": "Namespaced",
                "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "shortNames": ["ct"]},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                    "additionalPrinterColumns": [{"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"}],
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object",
                        "x-kubernetes-preserve-unknown-fields": true,
                        "x-kubernetes-validations": [{"rule": "self.replicas < 10", "message": "too many"}],
                        "required": ["cronSpec"],
                        "properties": {
                            "cronSpec": {"type": "string", "pattern": "^a", "example": "* * * * *"},
                            "replicas": {"type": "integer", "default": 1, "minimum": 0, "format": "int32"},
                            "obj": {"type": "object", "default": {"a": {"b": [1, 2]}}, "additionalProperties": {"type": "string"}},
                            "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                            "list": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                            "typo": {"type": "string", "maxLenght": 3}
                        }}}}}}]}
        });
        assert_eq!(
            unknown_fields::<CustomResourceDefinition>(&crd).unwrap(),
            ["spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.typo.maxLenght"]
        );
    }

    #[test]
    fn decode_errors_name_the_field() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": "two", "selector": {}, "template": {}}});
        assert_eq!(
            unknown_fields::<Deployment>(&d).unwrap_err(),
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field Deployment.spec.replicas of type int32"
        );
        let p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": {"name": "c"}}});
        let e = unknown_fields::<Pod>(&p).unwrap_err();
        assert!(
            e.contains("cannot unmarshal object into Go struct field Pod.spec.containers"),
            "{e}"
        );
    }
}
