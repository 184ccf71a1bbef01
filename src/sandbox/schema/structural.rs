//! CRD structural schemas (`openAPIV3Schema`): validate, prune unknown fields, apply defaults.

use super::{ErrorKind, FieldError, go_float, go_quote};
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------
// small helpers over schema nodes

fn child(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else if key.is_empty() || key.starts_with('[') {
        format!("{base}{key}")
    } else {
        format!("{base}.{key}")
    }
}

fn index(base: &str, i: usize) -> String {
    format!("{base}[{i}]")
}

fn key_path(base: &str, key: &str) -> String {
    format!("{base}[{key}]")
}

fn s_str<'a>(s: &'a Value, k: &str) -> Option<&'a str> {
    s.get(k).and_then(Value::as_str)
}

fn s_bool(s: &Value, k: &str) -> bool {
    s.get(k).and_then(Value::as_bool).unwrap_or(false)
}

fn s_f64(s: &Value, k: &str) -> Option<f64> {
    s.get(k).and_then(Value::as_f64)
}

fn s_u64(s: &Value, k: &str) -> Option<u64> {
    s.get(k).and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
    })
}

fn s_type(s: &Value) -> &str {
    s_str(s, "type").unwrap_or("")
}

fn properties(s: &Value) -> Option<&Map<String, Value>> {
    s.get("properties").and_then(Value::as_object)
}

fn additional_schema(s: &Value) -> Option<&Value> {
    s.get("additionalProperties").filter(|v| v.is_object())
}

fn items_schema(s: &Value) -> Option<&Value> {
    s.get("items").filter(|v| v.is_object())
}

fn preserves_unknown(s: &Value) -> bool {
    s_bool(s, "x-kubernetes-preserve-unknown-fields")
}

/// The JSON schema type of a value, as kube-openapi infers it.
fn value_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `<name> in body <rest>` (or `in body <rest>` for the root of a value).
fn detail(name: &str, rest: &str) -> String {
    if name.is_empty() {
        format!("in body {rest}")
    } else {
        format!("{name} in body {rest}")
    }
}

// ---------------------------------------------------------------------------
// check_schema

#[derive(Clone, Copy, PartialEq)]
enum Level {
    Root,
    Item,
    Field,
}

/// Checks that a CRD version's schema is structural and well formed (at CRD create/update).
/// `path` is where the schema sits, e.g. `spec.versions[0].schema.openAPIV3Schema`.
/// As the real server, reports in stages: generic schema errors, then structural violations
/// (sorted), then invalid defaults.
pub fn check_schema(schema: &Value, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !schema.is_object() {
        errs.push(FieldError::invalid(
            path,
            schema.clone(),
            "must be an object",
        ));
        return errs;
    }
    generic_checks(schema, path, true, false, &mut errs);
    if !errs.is_empty() {
        return errs;
    }
    structural_invariants(schema, Level::Root, path, &mut errs);
    if !errs.is_empty() {
        errs.sort_by_key(|e| e.to_string());
        return errs;
    }
    check_defaults(schema, path, true, &mut errs);
    errs
}

/// ValidateCustomResourceDefinitionOpenAPISchema: forbidden JSON-schema features.
fn generic_checks(s: &Value, p: &str, is_root: bool, in_meta: bool, errs: &mut Vec<FieldError>) {
    if !s.is_object() {
        return;
    }
    if in_meta && s.get("default").is_some() && is_root {
        // handled by the caller for top-level metadata
    }
    for (k, msg) in [
        ("id", "id is not supported"),
        ("additionalItems", "additionalItems is not supported"),
        ("patternProperties", "patternProperties is not supported"),
        ("definitions", "definitions is not supported"),
        ("dependencies", "dependencies is not supported"),
        ("$ref", "$ref is not supported"),
    ] {
        if s.get(k).is_some_and(|v| !v.is_null()) {
            errs.push(FieldError::forbidden(child(p, k), msg));
        }
    }
    if s_type(s) == "null" {
        errs.push(FieldError::forbidden(
            child(p, "type"),
            "type cannot be set to null, use nullable as an alternative",
        ));
    }
    if s.get("items").is_some_and(Value::is_array) {
        errs.push(FieldError::forbidden(
            child(p, "items"),
            "items must be a schema object and not an array",
        ));
    }
    if s_bool(s, "uniqueItems") {
        errs.push(FieldError::forbidden(
            child(p, "uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
    if let Some(ap) = s.get("additionalProperties") {
        let has_props = properties(s).is_some_and(|m| !m.is_empty());
        if has_props && (ap == &Value::Bool(false) || ap.is_object()) {
            errs.push(FieldError::forbidden(
                child(p, "additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            ));
        }
        if let Some(aps) = additional_schema(s) {
            generic_checks(aps, &child(p, "additionalProperties"), false, in_meta, errs);
        }
    }
    if let Some(props) = properties(s) {
        for (k, v) in props {
            let pp = key_path(&child(p, "properties"), k);
            let meta = (is_root || s_bool(s, "x-kubernetes-embedded-resource"))
                && matches!(k.as_str(), "metadata" | "apiVersion" | "kind");
            if meta && is_root && v.get("default").is_some() {
                errs.push(FieldError::forbidden(
                    child(&pp, "default"),
                    format!("must not be set in top-level {k}"),
                ));
            }
            generic_checks(v, &pp, false, in_meta || meta, errs);
        }
    }
    if let Some(n) = s.get("not") {
        generic_checks(n, &child(p, "not"), false, in_meta, errs);
    }
    for j in ["allOf", "oneOf", "anyOf"] {
        if let Some(list) = s.get(j).and_then(Value::as_array) {
            for (i, sub) in list.iter().enumerate() {
                generic_checks(sub, &index(&child(p, j), i), false, in_meta, errs);
            }
        }
    }
    if let Some(it) = items_schema(s) {
        generic_checks(it, &child(p, "items"), false, in_meta, errs);
    }
    if s.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(false)) {
        errs.push(FieldError::invalid(
            child(p, "x-kubernetes-preserve-unknown-fields"),
            Value::Bool(false),
            "must be true or undefined",
        ));
    }
    if let Some(lt) = s_str(s, "x-kubernetes-list-type") {
        if s_type(s) != "array" {
            if s_type(s).is_empty() {
                errs.push(FieldError::required(
                    child(p, "type"),
                    "must be array if x-kubernetes-list-type is specified",
                ));
            } else {
                errs.push(FieldError::invalid(
                    child(p, "type"),
                    Value::String(s_type(s).into()),
                    "must be array if x-kubernetes-list-type is specified",
                ));
            }
        }
        if !matches!(lt, "atomic" | "set" | "map") {
            errs.push(FieldError {
                path: child(p, "x-kubernetes-list-type"),
                kind: ErrorKind::NotSupported {
                    value: Value::String(lt.into()),
                    supported: vec!["atomic".into(), "set".into(), "map".into()],
                },
            });
        }
        if lt == "map"
            && s.get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
        {
            errs.push(FieldError::required(
                child(p, "x-kubernetes-list-map-keys"),
                "must not be empty if x-kubernetes-list-type is map",
            ));
        }
    }
    if let Some(mt) = s_str(s, "x-kubernetes-map-type")
        && !matches!(mt, "atomic" | "granular")
    {
        errs.push(FieldError {
            path: child(p, "x-kubernetes-map-type"),
            kind: ErrorKind::NotSupported {
                value: Value::String(mt.into()),
                supported: vec!["atomic".into(), "granular".into()],
            },
        });
    }
    if let Some(rules) = s.get("x-kubernetes-validations").and_then(Value::as_array) {
        for (i, r) in rules.iter().enumerate() {
            if s_str(r, "rule").is_none_or(|x| x.trim().is_empty()) {
                errs.push(FieldError::required(
                    child(&index(&child(p, "x-kubernetes-validations"), i), "rule"),
                    "rule is not specified",
                ));
            }
        }
    }
}

fn is_int_or_string_any_of(list: Option<&Value>) -> bool {
    let Some(list) = list.and_then(Value::as_array) else {
        return false;
    };
    list.len() == 2
        && list[0].as_object().is_some_and(|m| m.len() == 1)
        && s_type(&list[0]) == "integer"
        && list[1].as_object().is_some_and(|m| m.len() == 1)
        && s_type(&list[1]) == "string"
}

/// validateStructuralInvariants of the apiextensions structural schema package.
fn structural_invariants(s: &Value, lvl: Level, p: &str, errs: &mut Vec<FieldError>) {
    if !s.is_object() {
        return;
    }
    let ty = s_type(s);
    let embedded = s_bool(s, "x-kubernetes-embedded-resource");
    let ios = s_bool(s, "x-kubernetes-int-or-string");
    let preserve = preserves_unknown(s);
    if ty == "array" && s.get("items").is_none() {
        errs.push(FieldError::required(child(p, "items"), "must be specified"));
    }
    if let Some(it) = items_schema(s) {
        structural_invariants(it, Level::Item, &child(p, "items"), errs);
    }
    if let Some(props) = properties(s) {
        for (k, v) in props {
            structural_invariants(v, Level::Field, &key_path(&child(p, "properties"), k), errs);
        }
    }
    if s.get("additionalProperties").is_some_and(|v| !v.is_null()) {
        if lvl == Level::Root {
            errs.push(FieldError::forbidden(
                child(p, "additionalProperties"),
                "must not be used at the root",
            ));
        }
        if let Some(aps) = additional_schema(s) {
            structural_invariants(aps, Level::Field, &child(p, "additionalProperties"), errs);
        }
    }
    if ios && preserve {
        errs.push(FieldError::invalid(
            child(p, "x-kubernetes-preserve-unknown-fields"),
            Value::Bool(true),
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    if ios && embedded {
        errs.push(FieldError::invalid(
            child(p, "x-kubernetes-embedded-resource"),
            Value::Bool(true),
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    // value validations (junctors)
    let skip_any_of = is_int_or_string_any_of(s.get("anyOf"));
    let skip_first_all_of = s
        .get("allOf")
        .and_then(Value::as_array)
        .and_then(|l| l.first())
        .is_some_and(|f| is_int_or_string_any_of(f.get("anyOf")));
    value_validation(s, skip_any_of, skip_first_all_of, p, errs);

    let check_meta = lvl == Level::Root || embedded;
    if embedded && ty != "object" {
        if ty.is_empty() {
            errs.push(FieldError::required(
                child(p, "type"),
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        } else {
            errs.push(FieldError::invalid(
                child(p, "type"),
                Value::String(ty.into()),
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        }
    } else if ty.is_empty() && !ios && !preserve {
        let d = match lvl {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errs.push(FieldError::required(child(p, "type"), d));
    }
    if embedded && s.get("additionalProperties").is_some() {
        errs.push(FieldError::forbidden(
            child(p, "additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if lvl == Level::Root && !ty.is_empty() && ty != "object" {
        errs.push(FieldError::invalid(
            child(p, "type"),
            Value::String(ty.into()),
            "must be object at the root",
        ));
    }
    if let Some(props) = properties(s) {
        let pp = child(p, "properties");
        if check_meta {
            for k in ["kind", "apiVersion"] {
                if let Some(ks) = props.get(k)
                    && s_type(ks) != "string"
                {
                    errs.push(FieldError::invalid(
                        child(&key_path(&pp, k), "type"),
                        Value::String(s_type(ks).into()),
                        "must be string",
                    ));
                }
            }
            if let Some(m) = props.get("metadata")
                && s_type(m) != "object"
            {
                errs.push(FieldError::invalid(
                    child(&key_path(&pp, "metadata"), "type"),
                    Value::String(s_type(m).into()),
                    "must be object",
                ));
            }
        }
        if lvl == Level::Root
            && let Some(m) = props.get("metadata").and_then(Value::as_object)
        {
            let ok = m.iter().all(|(k, v)| match k.as_str() {
                "type" | "default" => true,
                "properties" => v.as_object().is_some_and(|pm| {
                    !pm.is_empty() && pm.keys().all(|n| n == "name" || n == "generateName")
                }),
                _ => false,
            });
            if !ok {
                errs.push(FieldError::forbidden(
                    key_path(&pp, "metadata"),
                    "must not specify anything other than name and generateName, but metadata is implicitly specified",
                ));
            }
        }
    }
    if embedded && !preserve && properties(s).is_none_or(Map::is_empty) {
        errs.push(FieldError::required(
            child(p, "properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
}

fn value_validation(
    s: &Value,
    skip_any_of: bool,
    skip_first_all_of: bool,
    p: &str,
    errs: &mut Vec<FieldError>,
) {
    if !skip_any_of && let Some(l) = s.get("anyOf").and_then(Value::as_array) {
        for (i, sub) in l.iter().enumerate() {
            nested_value_validation(sub, false, &index(&child(p, "anyOf"), i), errs);
        }
    }
    if let Some(l) = s.get("allOf").and_then(Value::as_array) {
        for (i, sub) in l.iter().enumerate() {
            nested_value_validation(
                sub,
                skip_first_all_of && i == 0,
                &index(&child(p, "allOf"), i),
                errs,
            );
        }
    }
    if let Some(l) = s.get("oneOf").and_then(Value::as_array) {
        for (i, sub) in l.iter().enumerate() {
            nested_value_validation(sub, false, &index(&child(p, "oneOf"), i), errs);
        }
    }
    if let Some(n) = s.get("not") {
        nested_value_validation(n, false, &child(p, "not"), errs);
    }
    if let Some(pat) = s_str(s, "pattern")
        && let Err(e) = regex::Regex::new(pat)
    {
        errs.push(FieldError::invalid(
            child(p, "pattern"),
            Value::String(pat.into()),
            format!("must be a valid regular expression, but isn't: {e}"),
        ));
    }
}

fn nested_value_validation(s: &Value, skip_any_of: bool, p: &str, errs: &mut Vec<FieldError>) {
    if !s.is_object() {
        return;
    }
    value_validation(s, skip_any_of, false, p, errs);
    if let Some(it) = items_schema(s) {
        nested_value_validation(it, false, &child(p, "items"), errs);
    }
    if let Some(props) = properties(s) {
        for (k, v) in props {
            nested_value_validation(v, false, &key_path(&child(p, "properties"), k), errs);
        }
    }
    let forbidden: [(&str, &str); 10] = [
        ("type", "must be empty to be structural"),
        ("additionalProperties", "must be undefined to be structural"),
        ("default", "must be undefined to be structural"),
        ("title", "must be empty to be structural"),
        ("description", "must be empty to be structural"),
        ("nullable", "must be false to be structural"),
        (
            "x-kubernetes-preserve-unknown-fields",
            "must be false to be structural",
        ),
        (
            "x-kubernetes-embedded-resource",
            "must be false to be structural",
        ),
        (
            "x-kubernetes-int-or-string",
            "must be false to be structural",
        ),
        (
            "x-kubernetes-list-type",
            "must be undefined to be structural",
        ),
    ];
    for (k, msg) in forbidden {
        let set = match s.get(k) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(Value::String(x)) => !x.is_empty(),
            Some(_) => true,
        };
        if set {
            errs.push(FieldError::forbidden(child(p, k), msg));
        }
    }
    if s.get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .is_some_and(|l| !l.is_empty())
    {
        errs.push(FieldError::forbidden(
            child(p, "x-kubernetes-list-map-keys"),
            "must be empty to be structural",
        ));
    }
    if properties(s).is_some_and(|m| m.contains_key("metadata")) {
        errs.push(FieldError::forbidden(
            key_path(&child(p, "properties"), "metadata"),
            "must not be specified in a nested context",
        ));
    }
}

/// Every `default` must validate against the schema it sits in.
fn check_defaults(s: &Value, p: &str, is_root: bool, errs: &mut Vec<FieldError>) {
    if !s.is_object() {
        return;
    }
    if !is_root && let Some(d) = s.get("default") {
        let mut d = d.clone();
        apply_defaults(s, &mut d);
        validate_node(s, &d, &child(p, "default"), "", errs);
    }
    if let Some(props) = properties(s) {
        for (k, v) in props {
            if is_root && k == "metadata" {
                continue;
            }
            check_defaults(v, &key_path(&child(p, "properties"), k), false, errs);
        }
    }
    if let Some(it) = items_schema(s) {
        check_defaults(it, &child(p, "items"), false, errs);
    }
    if let Some(aps) = additional_schema(s) {
        check_defaults(aps, &child(p, "additionalProperties"), false, errs);
    }
}

// ---------------------------------------------------------------------------
// validate

/// Validates `obj` against `schema`: type, required, enum, minimum/maximum (exclusive too),
/// pattern, minLength/maxLength, minItems/maxItems, items, properties, additionalProperties,
/// nullable, x-kubernetes-int-or-string, x-kubernetes-preserve-unknown-fields, x-kubernetes-embedded-resource.
/// `metadata`, `apiVersion` and `kind` at the root are not validated here.
pub fn validate(schema: &Value, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(m) = obj.as_object() else {
        validate_node(schema, obj, "", "", &mut errs);
        return errs;
    };
    if let Some(meta) = m.get("metadata")
        && !meta.is_object()
        && !meta.is_null()
    {
        let t = value_type(meta);
        errs.push(FieldError::invalid(
            "metadata",
            Value::String(t.into()),
            detail(
                "metadata",
                &format!("must be of type object: {}", go_quote(t)),
            ),
        ));
    }
    // The root minus apiVersion/kind/metadata, which the server validates itself.
    let mut root = m.clone();
    root.remove("apiVersion");
    root.remove("kind");
    root.remove("metadata");
    let mut root_schema = schema.clone();
    if let Some(req) = root_schema
        .get_mut("required")
        .and_then(Value::as_array_mut)
    {
        req.retain(|r| !matches!(r.as_str(), Some("apiVersion" | "kind" | "metadata")));
    }
    validate_node(&root_schema, &Value::Object(root), "", "", &mut errs);
    errs
}

fn type_matches(ty: &str, v: &Value) -> bool {
    let vt = value_type(v);
    if ty == vt {
        return true;
    }
    match (ty, v) {
        ("integer", Value::Number(n)) => n.as_f64().is_some_and(|f| f.fract() == 0.0),
        ("number", Value::Number(_)) => true,
        _ => false,
    }
}

/// Validates `v` against `s`; errors get the field path `base.name` and detail name `name`.
fn validate_node(s: &Value, v: &Value, base: &str, name: &str, errs: &mut Vec<FieldError>) {
    if !s.is_object() {
        return;
    }
    let fpath = child(base, name);
    let ty = s_type(s);
    let ios = s_bool(s, "x-kubernetes-int-or-string");

    if v.is_null() {
        if s_bool(s, "nullable") {
            return;
        }
        let tname = if ios { "integer,string" } else { ty };
        if !tname.is_empty() {
            errs.push(FieldError::invalid(
                fpath,
                Value::String("null".into()),
                detail(name, &format!("must be of type {tname}: \"null\"")),
            ));
        }
        return;
    }
    // type
    let type_ok = if ios {
        type_matches("integer", v) || v.is_string()
    } else {
        ty.is_empty() || type_matches(ty, v)
    };
    if !type_ok {
        let tname = if ios { "integer,string" } else { ty };
        let vt = value_type(v);
        errs.push(FieldError::invalid(
            fpath,
            Value::String(vt.into()),
            detail(name, &format!("must be of type {tname}: {}", go_quote(vt))),
        ));
        return;
    }

    // enum
    if let Some(en) = s.get("enum").and_then(Value::as_array)
        && !en.iter().any(|e| json_equal(e, v))
    {
        let supported = en
            .iter()
            .map(|e| match e {
                Value::String(x) => x.clone(),
                other => other.to_string(),
            })
            .collect();
        errs.push(FieldError {
            path: fpath.clone(),
            kind: ErrorKind::NotSupported {
                value: v.clone(),
                supported,
            },
        });
    }

    match v {
        Value::String(st) => validate_string(s, st, v, &fpath, name, errs),
        Value::Number(n) => validate_number(s, n.as_f64().unwrap_or(0.0), v, &fpath, name, errs),
        Value::Array(a) => {
            let len = a.len() as u64;
            if let Some(min) = s_u64(s, "minItems")
                && len < min
            {
                errs.push(FieldError::invalid(
                    fpath.clone(),
                    Value::from(len),
                    detail(name, &format!("should have at least {min} items")),
                ));
            }
            if let Some(max) = s_u64(s, "maxItems")
                && len > max
            {
                errs.push(FieldError {
                    path: fpath.clone(),
                    kind: ErrorKind::TooMany {
                        actual: len as usize,
                        max: max as usize,
                    },
                });
            }
            if s_bool(s, "uniqueItems") {
                let dup = a
                    .iter()
                    .enumerate()
                    .any(|(i, x)| a[..i].iter().any(|y| json_equal(x, y)));
                if dup {
                    errs.push(FieldError::invalid(
                        fpath.clone(),
                        Value::String(String::new()),
                        detail(name, "shouldn't contain duplicates"),
                    ));
                }
            }
            if let Some(it) = items_schema(s) {
                for (i, x) in a.iter().enumerate() {
                    validate_node(it, x, base, &index(name, i), errs);
                }
            }
        }
        Value::Object(m) => validate_object(s, m, v, base, name, errs),
        _ => {}
    }

    // junctors
    if let Some(l) = s.get("allOf").and_then(Value::as_array) {
        for sub in l {
            validate_node(sub, v, base, name, errs);
        }
    }
    if let Some(l) = s.get("anyOf").and_then(Value::as_array)
        && !l.is_empty()
    {
        let results: Vec<Vec<FieldError>> = l
            .iter()
            .map(|sub| {
                let mut e = Vec::new();
                validate_node(sub, v, base, name, &mut e);
                e
            })
            .collect();
        if results.iter().all(|r| !r.is_empty()) {
            errs.push(FieldError::invalid(
                fpath.clone(),
                v.clone(),
                detail(name, "must validate at least one schema (anyOf)"),
            ));
            if let Some(best) = results.into_iter().min_by_key(Vec::len) {
                errs.extend(best);
            }
        }
    }
    if let Some(l) = s.get("oneOf").and_then(Value::as_array)
        && !l.is_empty()
    {
        let results: Vec<Vec<FieldError>> = l
            .iter()
            .map(|sub| {
                let mut e = Vec::new();
                validate_node(sub, v, base, name, &mut e);
                e
            })
            .collect();
        let ok = results.iter().filter(|r| r.is_empty()).count();
        if ok != 1 {
            errs.push(FieldError::invalid(
                fpath.clone(),
                v.clone(),
                detail(name, "must validate one and only one schema (oneOf)"),
            ));
            if ok == 0
                && let Some(best) = results.into_iter().min_by_key(Vec::len)
            {
                errs.extend(best);
            }
        }
    }
    if let Some(n) = s.get("not").filter(|n| n.is_object()) {
        let mut e = Vec::new();
        validate_node(n, v, base, name, &mut e);
        if e.is_empty() {
            errs.push(FieldError::invalid(
                fpath,
                v.clone(),
                detail(name, "must not validate the schema (not)"),
            ));
        }
    }
}

fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                i == j
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| json_equal(p, q)))
        }
        _ => a == b,
    }
}

fn validate_string(
    s: &Value,
    st: &str,
    v: &Value,
    fpath: &str,
    name: &str,
    errs: &mut Vec<FieldError>,
) {
    let len = st.chars().count() as u64;
    if let Some(max) = s_u64(s, "maxLength")
        && len > max
    {
        errs.push(FieldError {
            path: fpath.to_string(),
            kind: ErrorKind::TooLong { max: max as usize },
        });
    }
    if let Some(min) = s_u64(s, "minLength")
        && len < min
    {
        errs.push(FieldError::invalid(
            fpath,
            v.clone(),
            detail(name, &format!("should be at least {min} chars long")),
        ));
    }
    if let Some(pat) = s_str(s, "pattern")
        && let Ok(re) = regex::Regex::new(pat)
        && !re.is_match(st)
    {
        errs.push(FieldError::invalid(
            fpath,
            v.clone(),
            detail(name, &format!("should match '{pat}'")),
        ));
    }
    if let Some(fmt) = s_str(s, "format")
        && !format_ok(fmt, st)
    {
        errs.push(FieldError::invalid(
            fpath,
            v.clone(),
            detail(name, &format!("must be of type {fmt}: {}", go_quote(st))),
        ));
    }
}

/// The string formats Kubernetes checks that attendees meet; unknown formats pass.
fn format_ok(fmt: &str, st: &str) -> bool {
    match fmt {
        "date-time" | "datetime" => st.parse::<jiff::Timestamp>().is_ok(),
        "date" => st.len() == 10 && st.parse::<jiff::civil::Date>().is_ok(),
        "ipv4" => st.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => st.parse::<std::net::Ipv6Addr>().is_ok(),
        "uuid" => {
            let b = st.as_bytes();
            b.len() == 36
                && b.iter().enumerate().all(|(i, c)| {
                    if matches!(i, 8 | 13 | 18 | 23) {
                        *c == b'-'
                    } else {
                        c.is_ascii_hexdigit()
                    }
                })
        }
        "email" => {
            let mut parts = st.splitn(2, '@');
            let local = parts.next().unwrap_or("");
            let domain = parts.next().unwrap_or("");
            !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !st.contains(' ')
        }
        _ => true,
    }
}

fn validate_number(
    s: &Value,
    f: f64,
    v: &Value,
    fpath: &str,
    name: &str,
    errs: &mut Vec<FieldError>,
) {
    if let Some(m) = s_f64(s, "multipleOf")
        && m > 0.0
    {
        let q = f / m;
        if (q - q.round()).abs() > 1e-9 {
            errs.push(FieldError::invalid(
                fpath,
                v.clone(),
                detail(name, &format!("should be a multiple of {}", go_float(m))),
            ));
        }
    }
    if let Some(max) = s_f64(s, "maximum") {
        if s_bool(s, "exclusiveMaximum") {
            if f >= max {
                errs.push(FieldError::invalid(
                    fpath,
                    v.clone(),
                    detail(name, &format!("should be less than {}", go_float(max))),
                ));
            }
        } else if f > max {
            errs.push(FieldError::invalid(
                fpath,
                v.clone(),
                detail(
                    name,
                    &format!("should be less than or equal to {}", go_float(max)),
                ),
            ));
        }
    }
    if let Some(min) = s_f64(s, "minimum") {
        if s_bool(s, "exclusiveMinimum") {
            if f <= min {
                errs.push(FieldError::invalid(
                    fpath,
                    v.clone(),
                    detail(name, &format!("should be greater than {}", go_float(min))),
                ));
            }
        } else if f < min {
            errs.push(FieldError::invalid(
                fpath,
                v.clone(),
                detail(
                    name,
                    &format!("should be greater than or equal to {}", go_float(min)),
                ),
            ));
        }
    }
}

fn validate_object(
    s: &Value,
    m: &Map<String, Value>,
    v: &Value,
    base: &str,
    name: &str,
    errs: &mut Vec<FieldError>,
) {
    let fpath = child(base, name);
    if let Some(req) = s.get("required").and_then(Value::as_array) {
        for r in req.iter().filter_map(Value::as_str) {
            if !m.contains_key(r) {
                errs.push(FieldError::required(child(&fpath, r), ""));
            }
        }
    }
    let n = m.len() as u64;
    if let Some(max) = s_u64(s, "maxProperties")
        && n > max
    {
        errs.push(FieldError {
            path: fpath.clone(),
            kind: ErrorKind::TooMany {
                actual: n as usize,
                max: max as usize,
            },
        });
    }
    if let Some(min) = s_u64(s, "minProperties")
        && n < min
    {
        errs.push(FieldError::invalid(
            fpath.clone(),
            Value::from(n),
            detail(name, &format!("should have at least {min} properties")),
        ));
    }
    if s_bool(s, "x-kubernetes-embedded-resource") {
        for k in ["apiVersion", "kind"] {
            if !m.contains_key(k) {
                errs.push(FieldError::required(child(&fpath, k), "must not be empty"));
            }
        }
        if let Some(meta) = m.get("metadata")
            && !meta.is_object()
            && !meta.is_null()
        {
            let t = value_type(meta);
            let mp = child(&fpath, "metadata");
            errs.push(FieldError::invalid(
                mp.clone(),
                Value::String(t.into()),
                detail(
                    &child(name, "metadata"),
                    &format!("must be of type object: {}", go_quote(t)),
                ),
            ));
        }
    }
    let props = properties(s);
    let aps = s.get("additionalProperties");
    for (k, x) in m {
        if let Some(ps) = props.and_then(|p| p.get(k)) {
            validate_node(ps, x, base, &child(name, k), errs);
        } else if let Some(ap) = aps {
            match ap {
                Value::Object(_) => validate_node(ap, x, base, &child(name, k), errs),
                Value::Bool(false) => errs.push(FieldError::invalid(
                    fpath.clone(),
                    v.clone(),
                    detail(&child(name, k), "is a forbidden property"),
                )),
                _ => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------
// prune

/// Removes fields the schema does not declare (unless preserve-unknown-fields), returning their
/// paths (e.g. `spec.foo`) so strict field validation can refuse them. Also drops, silently,
/// `null` values of non-nullable fields without a default (as the real server does).
pub fn prune(schema: &Value, obj: &mut Value) -> Vec<String> {
    let mut dropped = Vec::new();
    prune_node(Some(schema), obj, "", true, &mut dropped);
    dropped
}

fn prune_node(
    s: Option<&Value>,
    v: &mut Value,
    path: &str,
    resource_root: bool,
    out: &mut Vec<String>,
) {
    let Some(s) = s.filter(|s| s.is_object()) else {
        return;
    };
    match v {
        Value::Object(m) => {
            let resource_root = resource_root || s_bool(s, "x-kubernetes-embedded-resource");
            let props = properties(s);
            let aps = s.get("additionalProperties");
            let preserve = preserves_unknown(s);
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                if resource_root && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                let p = child(path, &k);
                let sub: Option<&Value> = if let Some(ps) = props.and_then(|pp| pp.get(&k)) {
                    Some(ps)
                } else if let Some(ap) = aps.filter(|a| a.is_object()) {
                    Some(ap)
                } else if preserve || aps == Some(&Value::Bool(true)) {
                    continue;
                } else {
                    m.remove(&k);
                    out.push(p);
                    continue;
                };
                if let Some(sub) = sub {
                    if m.get(&k).is_some_and(Value::is_null)
                        && !s_bool(sub, "nullable")
                        && sub.get("default").is_none()
                    {
                        m.remove(&k);
                        continue;
                    }
                    if let Some(x) = m.get_mut(&k) {
                        prune_node(Some(sub), x, &p, false, out);
                    }
                }
            }
        }
        Value::Array(a) => {
            if let Some(it) = items_schema(s) {
                for (i, x) in a.iter_mut().enumerate() {
                    prune_node(Some(it), x, &index(path, i), false, out);
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// defaults

/// Fills in `default` values the schema declares for absent fields (and for `null` in
/// non-nullable fields), recursively, including inside defaulted values and array items.
pub fn apply_defaults(schema: &Value, obj: &mut Value) {
    if !schema.is_object() {
        return;
    }
    match obj {
        Value::Object(m) => {
            if let Some(props) = properties(schema) {
                for (k, ps) in props {
                    if let Some(d) = ps.get("default") {
                        let absent = match m.get(k) {
                            None => true,
                            Some(Value::Null) => !s_bool(ps, "nullable"),
                            Some(_) => false,
                        };
                        if absent {
                            m.insert(k.clone(), d.clone());
                        }
                    }
                }
            }
            let props = properties(schema);
            let aps = additional_schema(schema);
            for (k, x) in m.iter_mut() {
                if let Some(ps) = props.and_then(|p| p.get(k)) {
                    apply_defaults(ps, x);
                } else if let Some(ap) = aps {
                    if x.is_null()
                        && !s_bool(ap, "nullable")
                        && let Some(d) = ap.get("default")
                    {
                        *x = d.clone();
                    }
                    apply_defaults(ap, x);
                }
            }
        }
        Value::Array(a) => {
            if let Some(it) = items_schema(schema) {
                for x in a.iter_mut() {
                    if x.is_null()
                        && !s_bool(it, "nullable")
                        && let Some(d) = it.get("default")
                    {
                        *x = d.clone();
                    }
                    apply_defaults(it, x);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crontab_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["cronSpec"],
                    "properties": {
                        "cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
                        "image": {"type": "string", "minLength": 3, "maxLength": 10},
                        "replicas": {"type": "integer", "minimum": 1, "maximum": 9, "default": 1},
                        "ratio": {"type": "number", "exclusiveMinimum": true, "minimum": 0, "multipleOf": 0.5},
                        "mode": {"type": "string", "enum": ["a", "b"]},
                        "port": {"x-kubernetes-int-or-string": true},
                        "tags": {"type": "array", "maxItems": 2, "minItems": 1, "items": {"type": "string"}},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "opt": {"type": "string", "nullable": true},
                        "when": {"type": "string", "format": "date-time"},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                                      "x-kubernetes-preserve-unknown-fields": true},
                        "items": {"type": "array", "items": {"type": "object", "properties": {
                            "name": {"type": "string"},
                            "weight": {"type": "integer", "default": 5}
                        }}},
                        "nested": {"type": "object", "default": {}, "properties": {
                            "level": {"type": "string", "default": "info"}
                        }}
                    }
                },
                "status": {"type": "object", "properties": {"ok": {"type": "boolean"}}}
            }
        })
    }

    fn msgs(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn validates_like_kube_openapi() {
        let s = crontab_schema();
        let obj = json!({
            "apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "x"},
            "spec": {"cronSpec": "* * * * */5", "replicas": 99}
        });
        assert_eq!(
            msgs(&validate(&s, &obj)),
            [
                "spec.replicas: Invalid value: 99: spec.replicas in body should be less than or equal to 9"
            ]
        );
        let obj = json!({"spec": {"replicas": "three", "image": "ab", "mode": "z", "tags": []}});
        assert_eq!(
            msgs(&validate(&s, &obj)),
            [
                "spec.cronSpec: Required value",
                r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#,
                r#"spec.image: Invalid value: "ab": spec.image in body should be at least 3 chars long"#,
                r#"spec.mode: Unsupported value: "z": supported values: "a", "b""#,
                "spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items",
            ]
        );
        let obj = json!({"spec": {"cronSpec": "bad", "image": "abcdefghijkl", "ratio": 0,
            "tags": ["a", "b", 3], "port": true, "labels": {"a": 1}, "opt": null, "when": "yesterday",
            "items": [{"name": "n", "weight": 1.5}], "status": 1}});
        assert_eq!(
            msgs(&validate(&s, &obj)),
            [
                r#"spec.cronSpec: Invalid value: "bad": spec.cronSpec in body should match '^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$'"#,
                "spec.image: Too long: may not be longer than 10",
                "spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0",
                "spec.tags: Too many: 3: must have at most 2 items",
                r#"spec.tags[2]: Invalid value: "integer": spec.tags[2] in body must be of type string: "integer""#,
                r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#,
                r#"spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer""#,
                r#"spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday""#,
                r#"spec.items[0].weight: Invalid value: "number": spec.items[0].weight in body must be of type integer: "number""#,
            ]
        );
        // 2.0 is an integer for Kubernetes; int-or-string accepts both; multipleOf
        let obj = json!({"spec": {"cronSpec": "* * * * *", "replicas": 2.0, "port": "http", "ratio": 0.75}});
        assert_eq!(
            msgs(&validate(&s, &obj)),
            ["spec.ratio: Invalid value: 0.75: spec.ratio in body should be a multiple of 0.5"]
        );
        // null in a non-nullable field, metadata not an object, embedded resource
        let obj = json!({"metadata": "x", "spec": {"cronSpec": "* * * * *", "image": null, "template": {"kind": "Pod"}}});
        assert_eq!(
            msgs(&validate(&s, &obj)),
            [
                r#"metadata: Invalid value: "string": metadata in body must be of type object: "string""#,
                r#"spec.image: Invalid value: "null": spec.image in body must be of type string: "null""#,
                "spec.template.apiVersion: Required value: must not be empty",
            ]
        );
    }

    #[test]
    fn junctors() {
        let s = json!({"type": "object", "properties": {"v": {
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
            "not": {"required": ["c"]},
        }}});
        assert!(validate(&s, &json!({"v": {"a": "x"}})).is_empty());
        let e = msgs(&validate(&s, &json!({"v": {"a": "x", "b": "y"}})));
        assert_eq!(
            e,
            [
                r#"v: Invalid value: map[string]interface {}{"a":"x", "b":"y"}: v in body must validate one and only one schema (oneOf)"#
            ]
        );
        let e = msgs(&validate(&s, &json!({"v": {}})));
        assert_eq!(e[1], "v.a: Required value");
        let e = msgs(&validate(&s, &json!({"v": {"a": "x", "c": 1}})));
        assert!(
            e[0].ends_with("v in body must not validate the schema (not)"),
            "{e:?}"
        );
    }

    #[test]
    fn prunes_unknown_fields() {
        let s = crontab_schema();
        let mut obj = json!({
            "apiVersion": "v", "kind": "K", "metadata": {"name": "x", "labels": {"a": "b"}},
            "foo": 1,
            "spec": {"cronSpec": "x", "bar": true, "free": {"any": {"thing": 1}},
                     "labels": {"k": "v"}, "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"x": 1}},
                     "items": [{"name": "a", "extra": 1}], "image": null, "opt": null},
            "status": {"ok": true, "phase": "x"}
        });
        let dropped = prune(&s, &mut obj);
        assert_eq!(
            dropped,
            ["foo", "spec.bar", "spec.items[0].extra", "status.phase"]
        );
        assert_eq!(
            obj,
            json!({
                "apiVersion": "v", "kind": "K", "metadata": {"name": "x", "labels": {"a": "b"}},
                "spec": {"cronSpec": "x", "free": {"any": {"thing": 1}}, "labels": {"k": "v"},
                         "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"x": 1}},
                         "items": [{"name": "a"}], "opt": null},
                "status": {"ok": true}
            })
        );
        // preserve-unknown-fields at the root keeps everything
        let mut o2 = json!({"a": {"b": 1}});
        assert!(
            prune(
                &json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
                &mut o2
            )
            .is_empty()
        );
        assert_eq!(o2, json!({"a": {"b": 1}}));
    }

    #[test]
    fn applies_defaults() {
        let s = crontab_schema();
        let mut obj = json!({"spec": {"cronSpec": "x", "items": [{"name": "a"}, {"name": "b", "weight": 2}]}});
        apply_defaults(&s, &mut obj);
        assert_eq!(
            obj,
            json!({"spec": {"cronSpec": "x", "replicas": 1, "nested": {"level": "info"},
                "items": [{"name": "a", "weight": 5}, {"name": "b", "weight": 2}]}})
        );
        let mut obj = json!({"spec": {"replicas": null, "nested": {"level": "debug"}}});
        apply_defaults(&s, &mut obj);
        assert_eq!(
            obj,
            json!({"spec": {"replicas": 1, "nested": {"level": "debug"}}})
        );
        // no spec: nothing defaulted at the root (spec has no default)
        let mut obj = json!({"metadata": {}});
        apply_defaults(&s, &mut obj);
        assert_eq!(obj, json!({"metadata": {}}));
    }

    #[test]
    fn checks_crd_schemas() {
        let p = "spec.versions[0].schema.openAPIV3Schema";
        assert!(
            check_schema(&crontab_schema(), p).is_empty(),
            "{:?}",
            msgs(&check_schema(&crontab_schema(), p))
        );
        let s = json!({"type": "object", "properties": {"spec": {"properties": {"a": {"type": "string"}}},
            "list": {"type": "array"}}});
        assert_eq!(
            msgs(&check_schema(&s, p)),
            [
                "spec.versions[0].schema.openAPIV3Schema.properties[list].items: Required value: must be specified",
                "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields",
            ]
        );
        let s = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"a": {"type": "array", "uniqueItems": true, "items": {"type": "string"}}},
            "additionalProperties": {"type": "string"}}}});
        assert_eq!(
            msgs(&check_schema(&s, p)),
            [
                "spec.versions[0].schema.openAPIV3Schema.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive",
                "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[a].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
            ]
        );
        let s = json!({"type": "string"});
        assert_eq!(
            msgs(&check_schema(&s, p)),
            [
                r#"spec.versions[0].schema.openAPIV3Schema.type: Invalid value: "string": must be object at the root"#
            ]
        );
        let s = json!({"type": "object", "properties": {"spec": {"type": "object",
            "anyOf": [{"type": "object", "required": ["a"]}]}}});
        assert_eq!(
            msgs(&check_schema(&s, p)),
            [
                "spec.versions[0].schema.openAPIV3Schema.properties[spec].anyOf[0].type: Forbidden: must be empty to be structural"
            ]
        );
        let s = json!({"type": "object", "properties": {"metadata": {"type": "object", "properties": {"labels": {"type": "object"}}}}});
        assert_eq!(
            msgs(&check_schema(&s, p)),
            [
                "spec.versions[0].schema.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"
            ]
        );
        let s = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "replicas": {"type": "integer", "default": "one"}}}}});
        assert_eq!(
            msgs(&check_schema(&s, p)),
            [
                r#"spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[replicas].default: Invalid value: "string": in body must be of type integer: "string""#
            ]
        );
        // int-or-string anyOf pattern is allowed
        let s = json!({"type": "object", "properties": {"port": {"x-kubernetes-int-or-string": true,
            "anyOf": [{"type": "integer"}, {"type": "string"}]}}});
        assert!(check_schema(&s, p).is_empty());
    }
}
