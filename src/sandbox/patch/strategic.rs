//! Strategic merge patch for built-in kinds: merge keys, `$patch`, `$setElementOrder`, `$retainKeys`.

use super::merge_keys::{self, Ty};
use super::{PatchError, TypeRef};
use serde_json::{Map, Value};

/// The 415 message Kubernetes gives for a strategic merge patch of a custom resource.
pub const UNSUPPORTED_FOR_CUSTOM_RESOURCES: &str = "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";

/// Applies a strategic merge patch to `original` (a whole object of type `ty`).
/// Custom resources (`ty.builtin == false`) get [`PatchError::Unsupported`] (415).
pub fn strategic_merge_patch(
    ty: TypeRef<'_>,
    original: &Value,
    patch: &Value,
) -> Result<Value, PatchError> {
    if !ty.builtin {
        return Err(PatchError::Unsupported(
            UNSUPPORTED_FOR_CUSTOM_RESOURCES.to_string(),
        ));
    }
    let Value::Object(patch) = patch else {
        return Err(PatchError::BadRequest(format!(
            "error decoding patch: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_type_name(patch)
        )));
    };
    let original = match original {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    merge_map(original, patch.clone(), merge_keys::root(ty)).map(Value::Object)
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn bad(msg: impl Into<String>) -> PatchError {
    PatchError::BadRequest(msg.into())
}

/// Merges `patch` into `original`, both maps of type `ty`.
fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    ty: Ty,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(directive) = patch.shift_remove(DIRECTIVE) {
        match directive.as_str() {
            // Replace the map by the patch (its own directives processed against nothing).
            Some("replace") => return merge_map(Map::new(), patch, ty),
            Some("delete") => return Ok(Map::new()),
            // Kubernetes rejects `$patch: merge` in a map; merging is the default, so accept it.
            Some("merge") => {}
            _ => {
                return Err(bad(format!(
                    "unknown patch type: {directive} in map: {}",
                    Value::Object(patch)
                )));
            }
        }
    }

    apply_retain_keys(&mut original, &mut patch)?;
    apply_set_element_order(&mut original, &mut patch, ty)?;

    let mut deletions = Vec::new();
    for (key, patch_value) in patch {
        if let Some(field) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            deletions.push((field.to_string(), patch_value));
            continue;
        }
        let child_ty = ty.field(&key);
        if patch_value.is_null() {
            original.shift_remove(&key);
            continue;
        }
        // Take the live value out in place, so that `insert` keeps the key's position.
        let live = original.get_mut(&key).map(Value::take);
        let merged = match (live, patch_value) {
            (Some(Value::Object(o)), Value::Object(p)) => Value::Object(merge_map(o, p, child_ty)?),
            (Some(Value::Array(o)), Value::Array(p)) => Value::Array(merge_list(o, p, child_ty)?),
            (_, p) => clean(p, child_ty)?,
        };
        original.insert(key, merged);
    }

    for (field, to_delete) in deletions {
        let Value::Array(to_delete) = to_delete else {
            return Err(bad("invalid patch format of primitive list"));
        };
        if let Some(Value::Array(items)) = original.get_mut(&field) {
            items.retain(|item| !to_delete.contains(item));
        }
    }
    Ok(original)
}

/// A patch value stored where the original has nothing: its directives are processed
/// against an empty value so that no `$` key is ever stored.
fn clean(value: Value, ty: Ty) -> Result<Value, PatchError> {
    Ok(match value {
        Value::Object(p) => Value::Object(merge_map(Map::new(), p, ty)?),
        Value::Array(p) => Value::Array(merge_list(Vec::new(), p, ty)?),
        other => other,
    })
}

/// `$retainKeys`: keys of `original` not listed are cleared; every patch key must be listed.
fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), PatchError> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(bad("invalid patch format of retainKeys"));
    };
    let listed = |k: &str| retain.iter().any(|r| r.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || k.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        if !listed(k) {
            return Err(bad("invalid patch format of retainKeys"));
        }
    }
    original.retain(|k, _| listed(k));
    Ok(())
}

/// `$setElementOrder/<field>`: merges `<field>` of the patch (if any) and orders the result:
/// the directive's order first, then the live order for items only the server has.
fn apply_set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    ty: Ty,
) -> Result<(), PatchError> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for key in keys {
        let Some(order) = patch.shift_remove(&key) else {
            continue;
        };
        let field = &key[SET_ELEMENT_ORDER.len()..];
        if field.is_empty() {
            return Err(bad("invalid patch format of setElementOrder list"));
        }
        let Value::Array(order) = order else {
            return Err(bad("invalid patch format of setElementOrder list"));
        };
        let list_ty = ty.field(field);
        let merge_key = list_ty.list_info().and_then(|i| i.patch_merge_key);
        let original_list = match original.get(field) {
            None => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(_) => return Err(bad(format!("{field}: the live value is not a list"))),
        };
        let patch_list = match patch.shift_remove(field) {
            None => None,
            Some(Value::Array(a)) => Some(a),
            Some(_) => return Err(bad("invalid patch format of setElementOrder list")),
        };
        if let Some(p) = &patch_list {
            validate_order(p, &order, merge_key)?;
        }
        let merged = match (original_list.clone(), patch_list) {
            (Some(o), None) => o,
            (None, Some(p)) => merge_list(Vec::new(), p, list_ty)?,
            (Some(o), Some(p)) => merge_list(o, p, list_ty)?,
            (None, None) => continue,
        };
        let original_list = original_list.unwrap_or_default();
        let ordered = order_items(merged, &order, &original_list, merge_key);
        original.insert(field.to_string(), Value::Array(ordered));
    }
    Ok(())
}

/// The identity of a list item: its merge-key value for objects, itself otherwise.
fn identity<'a>(item: &'a Value, merge_key: Option<&str>) -> Option<&'a Value> {
    match (item, merge_key) {
        (Value::Object(m), Some(k)) => m.get(k),
        (Value::Object(_), None) => Some(item),
        (v, _) => Some(v),
    }
}

fn is_directive_item(item: &Value) -> bool {
    item.as_object().is_some_and(|m| m.contains_key(DIRECTIVE))
}

/// The non-directive patch items must appear in the `$setElementOrder` list in the same order.
fn validate_order(
    patch: &[Value],
    order: &[Value],
    merge_key: Option<&str>,
) -> Result<(), PatchError> {
    let items: Vec<&Value> = patch.iter().filter(|v| !is_directive_item(v)).collect();
    let mut oi = 0;
    for item in items {
        let id = identity(item, merge_key);
        loop {
            let Some(o) = order.get(oi) else {
                return Err(bad(format!(
                    "The order in patch list:\n{}\n doesn't match $setElementOrder list:\n{}\n",
                    Value::Array(patch.to_vec()),
                    Value::Array(order.to_vec())
                )));
            };
            oi += 1;
            if identity(o, merge_key) == id {
                break;
            }
        }
    }
    Ok(())
}

/// Orders `merged`: items present in `order` follow `order`, the others (server-only items)
/// keep their `server_order` order and are interleaved by their position in `server_order`.
fn order_items(
    merged: Vec<Value>,
    order: &[Value],
    server_order: &[Value],
    merge_key: Option<&str>,
) -> Vec<Value> {
    let pos = |list: &[Value], item: &Value| -> Option<usize> {
        let id = identity(item, merge_key)?;
        list.iter().position(|o| identity(o, merge_key) == Some(id))
    };
    let (mut in_order, mut server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|item| pos(order, item).is_some());
    in_order.sort_by_key(|item| pos(order, item).unwrap_or(usize::MAX));
    server_only.sort_by_key(|item| pos(server_order, item).unwrap_or(usize::MAX));

    let mut out = Vec::with_capacity(in_order.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = in_order.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => match (pos(server_order, l), pos(server_order, r)) {
                (Some(li), Some(ri)) => li < ri,
                _ => false,
            },
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}

/// Merges two lists per the list's patch strategy.
fn merge_list(original: Vec<Value>, patch: Vec<Value>, ty: Ty) -> Result<Vec<Value>, PatchError> {
    let item_ty = ty.item();
    let Some(info) = ty.list_info().filter(|i| i.smp_merges()) else {
        // No merge strategy: the patch replaces the list.
        return patch
            .into_iter()
            .filter(|v| !is_directive_item(v))
            .map(|v| clean(v, item_ty))
            .collect();
    };
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let objects = original
        .iter()
        .chain(&patch)
        .filter(|v| v.is_object())
        .count();
    let total = original.len() + patch.len();
    if objects != 0 && objects != total {
        return Err(bad(format!(
            "list element types are not identical: {}",
            Value::Array(original.iter().chain(&patch).cloned().collect())
        )));
    }
    if total > 0 && original.iter().chain(&patch).any(Value::is_array) {
        return Err(bad("lists of lists are not supported"));
    }

    if objects == 0 {
        // A set of scalars (e.g. finalizers): union without duplicates, then ordered.
        let mut merged: Vec<Value> = Vec::new();
        for v in original.iter().chain(&patch) {
            if !merged.contains(v) {
                merged.push(v.clone());
            }
        }
        return Ok(order_items(merged, &patch, &original, None));
    }

    let Some(merge_key) = info.patch_merge_key else {
        return Err(bad("cannot merge lists without merge key for type map"));
    };
    let mut original = original;
    let mut plain = Vec::new();
    let mut replace = false;
    for item in patch {
        let Some(directive) = item.get(DIRECTIVE).cloned() else {
            plain.push(item);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let Some(key) = item.get(merge_key) else {
                    return Err(bad(format!(
                        "map: {item} does not contain declared merge key: {merge_key}"
                    )));
                };
                original.retain(|o| o.get(merge_key) != Some(key));
            }
            Some("replace") => replace = true,
            // `$patch: merge` in a list: merging is what happens anyway.
            Some("merge") => {}
            _ => {
                return Err(bad(format!(
                    "unknown patch type: {directive} in map: {item}"
                )));
            }
        }
    }
    let (original, plain) = if replace {
        let replaced = plain
            .into_iter()
            .map(|v| clean(v, item_ty))
            .collect::<Result<Vec<_>, _>>()?;
        (replaced, Vec::new())
    } else {
        (original, plain)
    };

    let mut merged = original.clone();
    for item in &plain {
        let Some(key) = item.get(merge_key) else {
            return Err(bad(format!(
                "map: {item} does not contain declared merge key: {merge_key}"
            )));
        };
        let patch_item = item.as_object().cloned().unwrap_or_default();
        match merged.iter().position(|o| o.get(merge_key) == Some(key)) {
            Some(i) => {
                let base = merged[i].as_object().cloned().unwrap_or_default();
                merged[i] = Value::Object(merge_map(base, patch_item, item_ty)?);
            }
            None => merged.push(Value::Object(merge_map(Map::new(), patch_item, item_ty)?)),
        }
    }
    Ok(order_items(merged, &plain, &original, Some(merge_key)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    fn smp(ty: TypeRef<'_>, original: Value, patch: Value) -> Value {
        strategic_merge_patch(ty, &original, &patch).unwrap()
    }

    fn has_dollar_key(v: &Value) -> bool {
        match v {
            Value::Object(m) => m
                .iter()
                .any(|(k, v)| k.starts_with('$') || has_dollar_key(v)),
            Value::Array(a) => a.iter().any(has_dollar_key),
            _ => false,
        }
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [
                        {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                        {"name": "sidecar", "image": "busybox:1.36", "args": ["sleep", "3600"]}
                    ]}
                }
            }
        })
    }

    #[test]
    fn kubectl_client_side_apply_image_change() {
        // What `kubectl apply` sends when only the image of the first container changes.
        let patch = json!({
            "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}\n"}},
            "spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
                "containers": [{"image": "nginx:1.27", "name": "web"}]
            }}}
        });
        let out = smp(DEPLOYMENT, deployment(), patch);
        let containers = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers.as_array().unwrap().len(), 2);
        assert_eq!(containers[0]["name"], "web");
        assert_eq!(containers[0]["image"], "nginx:1.27");
        assert_eq!(
            containers[0]["ports"],
            json!([{"containerPort": 80, "protocol": "TCP"}])
        );
        assert_eq!(
            containers[1],
            json!({"name": "sidecar", "image": "busybox:1.36", "args": ["sleep", "3600"]})
        );
        assert_eq!(out["spec"]["replicas"], 2);
        assert_eq!(out["metadata"]["labels"], json!({"app": "web"}));
        assert!(
            out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
                .is_string()
        );
        assert!(!has_dollar_key(&out), "{out}");
    }

    #[test]
    fn set_element_order_reorders_and_appends() {
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "new"}, {"name": "web"}],
            "containers": [{"name": "new", "image": "redis"}]
        }}}});
        let out = smp(DEPLOYMENT, deployment(), patch);
        let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["sidecar", "new", "web"]);
        assert!(!has_dollar_key(&out));
    }

    #[test]
    fn set_element_order_mismatch_is_bad_request() {
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "web"}],
            "containers": [{"name": "other", "image": "x"}]
        }}}});
        let err = strategic_merge_patch(DEPLOYMENT, &deployment(), &patch).unwrap_err();
        assert!(matches!(err, PatchError::BadRequest(_)), "{err:?}");
    }

    #[test]
    fn key_order_is_kept() {
        let original = json!({"a": 1, "b": {"x": 1, "y": 2}, "c": 3});
        let out = smp(POD, original, json!({"b": {"x": 5}, "a": null}));
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"{"b":{"x":5,"y":2},"c":3}"#
        );
    }

    #[test]
    fn maps_merge_and_null_deletes() {
        let original =
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"replicas": 1}});
        let patch =
            json!({"metadata": {"labels": {"a": null, "c": "3"}}, "spec": {"paused": true}});
        let out = smp(DEPLOYMENT, original, patch);
        assert_eq!(
            out,
            json!({"metadata": {"labels": {"b": "2", "c": "3"}}, "spec": {"replicas": 1, "paused": true}})
        );
    }

    #[test]
    fn merge_by_key_updates_and_appends() {
        let out = smp(
            DEPLOYMENT,
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "sidecar", "image": "busybox:1.37"},
                {"name": "extra", "image": "redis"}
            ]}}}}),
        );
        let c = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0]["image"], "nginx:1.25");
        assert_eq!(c[1]["image"], "busybox:1.37");
        assert_eq!(c[1]["args"], json!(["sleep", "3600"]));
        assert_eq!(c[2], json!({"name": "extra", "image": "redis"}));
    }

    #[test]
    fn nested_merge_keys_env_and_ports() {
        let original = json!({"spec": {"containers": [{"name": "c", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "ports": [{"containerPort": 80}]}]}});
        let patch = json!({"spec": {"containers": [{"name": "c", "env": [{"name": "B", "value": "3"}],
            "ports": [{"containerPort": 443}]}]}});
        let out = smp(POD, original, patch);
        let c = &out["spec"]["containers"][0];
        assert_eq!(
            c["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "3"}])
        );
        // As in Kubernetes: a new patch item with no live position to compare with goes
        // before the server-only items.
        assert_eq!(
            c["ports"],
            json!([{"containerPort": 443}, {"containerPort": 80}])
        );
    }

    #[test]
    fn delete_directive_in_list() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"$patch": "delete", "name": "sidecar"}]}}}});
        let out = smp(DEPLOYMENT, deployment(), patch);
        let c = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0]["name"], "web");
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"$patch": "delete"}]}}}});
        assert!(matches!(
            strategic_merge_patch(DEPLOYMENT, &deployment(), &patch),
            Err(PatchError::BadRequest(_))
        ));
    }

    #[test]
    fn replace_directive_in_list_and_map() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"$patch": "replace"}, {"name": "only", "image": "x"}
        ]}}}});
        let out = smp(DEPLOYMENT, deployment(), patch);
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "only", "image": "x"}])
        );

        let patch = json!({"metadata": {"labels": {"$patch": "replace", "z": "26"}}});
        let out = smp(DEPLOYMENT, deployment(), patch);
        assert_eq!(out["metadata"]["labels"], json!({"z": "26"}));
        assert_eq!(out["metadata"]["name"], "web");
    }

    #[test]
    fn delete_and_merge_directives_in_map() {
        let out = smp(
            DEPLOYMENT,
            deployment(),
            json!({"metadata": {"labels": {"$patch": "delete"}}}),
        );
        assert_eq!(out["metadata"]["labels"], json!({}));
        let out = smp(
            DEPLOYMENT,
            deployment(),
            json!({"metadata": {"labels": {"$patch": "merge", "b": "2"}}}),
        );
        assert_eq!(out["metadata"]["labels"], json!({"app": "web", "b": "2"}));
        let err = strategic_merge_patch(
            DEPLOYMENT,
            &deployment(),
            &json!({"spec": {"$patch": "bogus"}}),
        )
        .unwrap_err();
        assert!(matches!(err, PatchError::BadRequest(_)));
    }

    #[test]
    fn retain_keys_clears_unlisted() {
        let original = json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
        let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
        let out = smp(DEPLOYMENT, original.clone(), patch);
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        let bad_patch =
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}});
        assert!(strategic_merge_patch(DEPLOYMENT, &original, &bad_patch).is_err());
    }

    #[test]
    fn primitive_set_merge_and_delete_from_primitive_list() {
        let original = json!({"metadata": {"finalizers": ["a", "b"]}});
        let out = smp(
            POD,
            original.clone(),
            json!({"metadata": {"finalizers": ["c", "a"]}}),
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["c", "a", "b"]));
        let out = smp(
            POD,
            original.clone(),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
        let out = smp(
            POD,
            original,
            json!({"metadata": {"$setElementOrder/finalizers": ["b", "c"], "$deleteFromPrimitiveList/finalizers": ["a"], "finalizers": ["c"]}}),
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["b", "c"]));
        assert!(!has_dollar_key(&out));
    }

    #[test]
    fn lists_without_merge_key_are_replaced() {
        let original = json!({"spec": {"tolerations": [{"key": "a"}], "containers": [{"name": "c", "args": ["1", "2"]}]}});
        let patch = json!({"spec": {"tolerations": [{"key": "b"}], "containers": [{"name": "c", "args": ["3"]}]}});
        let out = smp(POD, original, patch);
        assert_eq!(out["spec"]["tolerations"], json!([{"key": "b"}]));
        assert_eq!(out["spec"]["containers"][0]["args"], json!(["3"]));
    }

    #[test]
    fn new_values_never_store_directives() {
        let original = json!({"metadata": {"name": "p"}});
        let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "a"}],
            "containers": [{"name": "a", "image": "x", "env": [{"name": "E", "value": "v"}, {"$patch": "delete", "name": "F"}]}]}});
        let out = smp(POD, original, patch);
        assert_eq!(
            out["spec"],
            json!({"containers": [{"name": "a", "image": "x", "env": [{"name": "E", "value": "v"}]}]})
        );
    }

    #[test]
    fn conditions_merge_by_type() {
        let original = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}]}});
        let patch = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let out = smp(POD, original, patch);
        assert_eq!(
            out["status"]["conditions"],
            json!([{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}])
        );
    }

    #[test]
    fn service_ports_merge_by_port() {
        let svc = TypeRef {
            kind: "Service",
            ..POD
        };
        let original = json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]}});
        let patch = json!({"spec": {"ports": [{"port": 443, "targetPort": 9443}]}});
        let out = smp(svc, original, patch);
        assert_eq!(
            out["spec"]["ports"],
            json!([{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 9443}])
        );
    }

    #[test]
    fn custom_resources_and_bad_patches() {
        let cr = TypeRef {
            group: "example.com",
            kind: "Widget",
            builtin: false,
        };
        let err = strategic_merge_patch(cr, &json!({}), &json!({})).unwrap_err();
        assert_eq!(
            err,
            PatchError::Unsupported(UNSUPPORTED_FOR_CUSTOM_RESOURCES.to_string())
        );
        assert!(UNSUPPORTED_FOR_CUSTOM_RESOURCES.ends_with("application/apply-patch+yaml"));
        for p in [json!([1]), json!("x"), json!(3)] {
            assert!(matches!(
                strategic_merge_patch(POD, &json!({}), &p),
                Err(PatchError::BadRequest(_))
            ));
        }
    }
}
